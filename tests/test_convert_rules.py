"""Conversion rules (`[tool.planner.convert]`): a type change with a stated USING expression,
planned for real data on PostgreSQL (String -> enum through the R8 swap: trigger, batches,
guard, downgrade with the inverse or from the backup), counted by the pre-flight checks and
proved by verify; and the config mistakes, each one line naming the file and the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from planner.config import ConvertRule, load_config
from planner.errors import ConfigError
from planner.pipeline import analyze
from planner.plan.build import build_plan
from planner.verify.harness import verify

OLD = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Ticket {
  id     Int    @id
  status String @default("open")
  note   String?
}
"""
NEW = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Status {
  OPEN
  CLOSED
}

model Ticket {
  id     Int    @id
  status Status @default(OPEN)
  note   String?
}
"""
RULE = '[convert]\n"Ticket.status" = { using = "upper(status)", inverse = "lower(status::text)" }\n'


def _pair(tmp_path: Path, config: str) -> tuple[Path, Path, Path]:
    (tmp_path / "old.prisma").write_text(OLD)
    (tmp_path / "new.prisma").write_text(NEW)
    cfg = tmp_path / "release.toml"
    cfg.write_text(config)
    return tmp_path / "old.prisma", tmp_path / "new.prisma", cfg


def _analysis(tmp_path: Path, config: str):  # noqa: ANN202
    old, new, cfg = _pair(tmp_path, config)
    return analyze(str(old), str(new), config=load_config(str(cfg), cwd=tmp_path, no_config=True), renames=[])


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


# --------------------------------------------------------------------------- config

def test_rule_forms_are_read(tmp_path: Path) -> None:
    (tmp_path / "planner.toml").write_text(
        '[convert]\n"t.a" = "upper(a)"\n"t.b" = { using = "b::int", inverse = "b::text" }\n'
        '"t.c" = { using = "c", inverse = "c", lossy = true }\n"t.d" = { timezone = "Europe/Paris" }\n')
    cfg = load_config(None, cwd=tmp_path)
    assert cfg.convert == {"t.a": ConvertRule(using="upper(a)", lossy=True),
                           "t.b": ConvertRule(using="b::int", inverse="b::text"),
                           "t.c": ConvertRule(using="c", inverse="c", lossy=True),
                           "t.d": ConvertRule(timezone="Europe/Paris")}


@pytest.mark.parametrize(("body", "needle"), [
    ('"t.a" = { usin = "a" }', "unknown key in [convert] 't.a': 'usin'"),
    ('"t.a" = { inverse = "a" }', "'t.a': needs using (SQL over the column) or timezone"),
    ('"t.a" = { using = "a", lossy = false }', "lossy = false needs an inverse"),
    ('"t.a" = { using = "a", lossy = "yes" }', "lossy must be true or false"),
    ('"t.a" = { timezone = "Mars/Olympus" }', "unknown time zone 'Mars/Olympus'"),
    ('"t.a" = { timezone = "UTC", using = "a" }', "timezone is the whole rule"),
    ('"t.a" = 3', "must be a string (the USING expression) or a table"),
    ('"ta" = "x"', "keys are \"table.column\""),
])
def test_rule_mistakes_name_the_file_and_key(tmp_path: Path, body: str, needle: str) -> None:
    (tmp_path / "planner.toml").write_text("[convert]\n" + body + "\n")
    with pytest.raises(ConfigError) as e:
        load_config(None, cwd=tmp_path)
    assert str(tmp_path / "planner.toml") in str(e.value) and needle in str(e.value), str(e.value)


@pytest.mark.parametrize(("body", "needle"), [
    ('"Ticket.note" = "upper(note)"', "'Ticket.note' matches no column whose type this diff changes"),
    ('"Ticket.status" = "upper(note)"', "reads note: the expression may read only the column status"),
    ('"Ticket.status" = { using = "status", inverse = "(SELECT 1)" }', "a subquery is not allowed"),
    ('"Ticket.status" = { timezone = "UTC" }', "timezone applies to timestamp <-> timestamptz changes"),
])
def test_rule_keys_are_checked_against_the_diff(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(ConfigError) as e:
        _analysis(tmp_path, "[convert]\n" + body + "\n")
    assert "release.toml" in str(e.value) and needle in str(e.value), str(e.value)


def test_cli_reports_a_rule_mistake_in_one_line(tmp_path: Path) -> None:
    old, new, cfg = _pair(tmp_path, '[convert]\n"Ticket.stauts" = "upper(status)"\n')
    p = _run(sys.executable, "-m", "planner", "diff", str(old), str(new), "--config", str(cfg), "--no-config",
             cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "'Ticket.stauts' matches no column" in p.stderr


# --------------------------------------------------------------------------- plan

def test_string_to_enum_with_a_rule_takes_the_swap(tmp_path: Path) -> None:
    """R8 with the rule in the trigger, the batches, the contract's agreement guard and the
    expand guard (every value, as text, against the new enum's values); the inverse converts
    rows written after the swap back; the new default goes with the swap, not into expand."""
    analysis = _analysis(tmp_path, RULE)
    plan = build_plan(analysis.diff, analysis.old.schema, analysis.new.schema, convert=analysis.config.convert)
    code = "\n".join(b.code for s in plan.steps for b in (*s.upgrade, *s.downgrade))
    guards = "\n".join(g.sql for s in plan.steps for g in s.guards)
    titles = [s.title for s in plan.steps]
    assert any(t.startswith("add Ticket.status__planner_new") for t in titles), titles
    assert "in place" not in " ".join(titles)
    assert ('NEW."status__planner_new" := (SELECT (upper(status)) FROM (SELECT NEW."status" AS "status") AS '
            '"planner_rule")::text::"Status"') in code
    assert 'SET "status__planner_new" = (upper(status))::text::"Status"' in code
    # the way back: a trigger converts NEW's writes back into the re-added old column, batches the rows
    assert ('NEW."status__planner_old" := (SELECT (lower(status::text)) FROM (SELECT NEW."status" AS "status") '
            'AS "planner_rule")') in code
    assert 'SET "status__planner_old" = (lower(status::text))' in code
    assert "planner_converted <> ALL (ARRAY['OPEN', 'CLOSED']::text[])" in guards
    assert "by the configured conversion rule" in guards
    default = next(s for s in plan.steps if s.title.startswith("default of Ticket.status"))
    assert default.upgrade == () and "set with its type change" in default.title


# --------------------------------------------------------------------------- PostgreSQL

def _alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return _run(sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), "-x", f"db={url}", *args,
                cwd=project)


@pytest.mark.postgres
def test_string_to_enum_with_a_rule_applies_keeps_window_writes_and_downgrades(tmp_path: Path, pg_url: str):
    """Rows 'open'/'Closed' become OPEN/CLOSED; during the window the OLD application's write of
    'closed' is converted by the trigger, and 'bogus' is refused loudly; after the upgrade the
    default is OPEN; the downgrade gives every row its OLD text back (from the backup), and a
    row the NEW application changed after the upgrade gets the inverse of its new value."""
    old, new, cfg = _pair(tmp_path, RULE)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql("""CREATE TABLE "Ticket" (id int PRIMARY KEY, status text NOT NULL DEFAULT 'open',
                             note text)""")
        c.exec_driver_sql("""INSERT INTO "Ticket" VALUES (1, 'open', NULL), (2, 'Closed', 'x'), (3, 'OPEN', NULL),
                             (4, 'open', NULL)""")
    project = tmp_path / "project"
    p = _run(sys.executable, "-m", "planner", "plan", str(old), str(new), "--config", str(cfg), "--no-config",
             "--init", str(project), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    up = _alembic(project, pg_url, "upgrade", "+1")
    assert up.returncode == 0, up.stderr
    with engine.connect() as c:  # the OLD application during the window
        c.exec_driver_sql("""UPDATE "Ticket" SET status = 'closed' WHERE id = 1""")
        c.exec_driver_sql("""INSERT INTO "Ticket" (id) VALUES (5)""")
        c.commit()
        with pytest.raises(sa.exc.DBAPIError, match='invalid input value for enum "Status": "BOGUS"'):
            c.exec_driver_sql("""UPDATE "Ticket" SET status = 'bogus' WHERE id = 3""")
        c.rollback()
    up = _alembic(project, pg_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    with engine.connect() as c:
        rows = c.exec_driver_sql('SELECT id, status::text FROM "Ticket" ORDER BY id').fetchall()
        assert rows == [(1, "CLOSED"), (2, "CLOSED"), (3, "OPEN"), (4, "OPEN"), (5, "OPEN")]
        assert c.exec_driver_sql("""SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE
                                    attrelid = '"Ticket"'::regclass AND attname = 'status'""").scalar() == '"Status"'
        c.exec_driver_sql("""INSERT INTO "Ticket" (id) VALUES (6)""")  # NEW's default
        c.exec_driver_sql("""UPDATE "Ticket" SET status = 'CLOSED' WHERE id = 4""")  # the NEW application
        c.commit()
    down = _alembic(project, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    with engine.connect() as c:
        rows = c.exec_driver_sql('SELECT id, status FROM "Ticket" ORDER BY id').fetchall()
        assert rows == [(1, "closed"), (2, "Closed"), (3, "OPEN"), (4, "closed"), (5, "open"), (6, "open")]
        assert c.exec_driver_sql("""SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE
                                    adrelid = '"Ticket"'::regclass""").scalar() == "'open'::text"
        assert c.exec_driver_sql("SELECT count(*) FROM pg_type WHERE typname = 'Status'").scalar() == 0
    engine.dispose()


@pytest.mark.postgres
def test_the_guard_and_the_check_count_what_the_rule_cannot_convert(tmp_path: Path, pg_url: str):
    """Two rows the rule does not turn into a Status: `planner check` counts them (cast, through
    the rule), and the expand revision stops before any DDL naming how many."""
    old, new, cfg = _pair(tmp_path, RULE)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql("""CREATE TABLE "Ticket" (id int PRIMARY KEY, status text NOT NULL DEFAULT 'open',
                             note text)""")
        c.exec_driver_sql("""INSERT INTO "Ticket" VALUES (1, 'open', NULL), (2, 'pending', NULL), (3, 'x', NULL),
                             (4, 'Closed', NULL)""")
    engine.dispose()
    p = _run(sys.executable, "-m", "planner", "check", str(old), str(new), "--db", pg_url, "--config", str(cfg),
             "--no-config", "--format", "json", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    import json

    checks = json.loads(p.stdout)["checks"]
    cast = next(c for c in checks if c["change_id"] == "alter_column_type:Ticket.status")
    assert cast["kind"] == "cast" and cast["count"] == 2 and not cast["passed"], cast
    assert "upper(status)" in cast["sql"] and [s["id"] for s in cast["samples"]] == [2, 3]
    project = tmp_path / "project"
    assert _run(sys.executable, "-m", "planner", "plan", str(old), str(new), "--config", str(cfg), "--no-config",
                "--init", str(project), cwd=tmp_path).returncode == 0
    up = _alembic(project, pg_url, "upgrade", "+1")
    assert up.returncode != 0
    assert "planner guard failed: 2 values of Ticket.status do not convert to \"Status\" by the configured " \
           "conversion rule" in up.stderr, up.stderr[-2000:]


@pytest.mark.postgres
@pytest.mark.parametrize("rule", [RULE, '[convert]\n"Ticket.status" = "upper(status)"\n'])
def test_verify_passes_for_string_to_enum_with_a_rule(tmp_path: Path, pg_url: str, rule: str):
    """verify seeds text the rule converts, compares the plan with `ALTER ... TYPE "Status" USING
    upper(status)::text::"Status"` value by value, writes during the window (the 300-character
    boundary string is refused by both) and proves the downgrade, with the inverse or without
    (lossy: restored from the backup)."""
    report = verify(_analysis(tmp_path, rule), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    note = next(n for n in report.notes if n.startswith("differential:"))
    assert "1 converted columns" in note and "1 writes during the window, 1 refused by the plan" in note, note


# --------------------------------------------------------------------------- check / diff --db

_ACC_OLD = """CREATE TYPE "Kind" AS ENUM ('A', 'B', 'C');
CREATE TABLE u (id int PRIMARY KEY, score int, k "Kind", note text);
"""
_ACC_NEW = """CREATE TYPE "Kind" AS ENUM ('A', 'B');
CREATE TABLE u (id int PRIMARY KEY, score int NOT NULL, k "Kind");
"""


@pytest.mark.postgres
def test_check_and_diff_account_for_backfill_remap_and_backups(tmp_path: Path, pg_url: str):
    """29 NULL scores with a configured backfill, rows holding C with a configured remap, and a
    dropped column the plan backs up: no check fails, no finding is critical, and the text and
    JSON say what the plan does with those rows; without the config the same data fails."""
    import json

    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql(_ACC_OLD)
        c.exec_driver_sql("INSERT INTO u SELECT i, CASE WHEN i <= 29 THEN NULL ELSE i END, "
                          "(CASE WHEN mod(i, 2) = 0 THEN 'C' ELSE 'A' END)::\"Kind\", 'n' || i FROM generate_series(1, 40) i")
    engine.dispose()
    (tmp_path / "old.sql").write_text(_ACC_OLD)
    (tmp_path / "new.sql").write_text(_ACC_NEW)
    (tmp_path / "release.toml").write_text('[backfill]\n"u.score" = "0"\n[enum_remap]\n"Kind.C" = "A"\n')
    base = [sys.executable, "-m", "planner"]
    pair = [str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--db", pg_url, "-d", "postgresql", "--no-config"]
    cfg = ["--config", str(tmp_path / "release.toml")]

    bare = _run(*base, "check", *pair, "--format", "json", cwd=tmp_path)
    assert bare.returncode == 1, bare.stderr
    assert json.loads(bare.stdout)["summary"]["blocking_failed"] == 2
    assert _run(*base, "diff", *pair, "--fail-on", "critical", cwd=tmp_path).returncode == 1

    p = _run(*base, "check", *pair, *cfg, "--format", "json", cwd=tmp_path)
    assert p.returncode == 0, (p.stdout, p.stderr)
    doc = json.loads(p.stdout)
    by_kind = {c["kind"]: c for c in doc["checks"]}
    assert by_kind["nulls"]["count"] == 29 and by_kind["nulls"]["covered"].startswith(
        "filled by the configured backfill (0); backed up, restored on downgrade")
    assert by_kind["enum_in_use"]["count"] == 20 and by_kind["enum_in_use"]["covered"] == \
        "moved to A by the configured enum_remap; backed up, restored on downgrade"
    assert by_kind["data_loss"]["count"] == 40 and by_kind["data_loss"]["covered"] == \
        "backed up, restored on downgrade"
    assert doc["summary"]["failed"] == 0 and doc["summary"]["blocking_failed"] == 0

    sql = _run(*base, "check", *[x for x in pair if x not in ("--db", pg_url)], *cfg, "--sql", cwd=tmp_path)
    assert sql.returncode == 0, sql.stderr
    assert "-- The plan deals with the rows it finds: moved to A by the configured enum_remap; backed up, " \
           "restored on downgrade." in sql.stdout, sql.stdout

    text = _run(*base, "check", *pair, *cfg, cwd=tmp_path)
    assert text.returncode == 0 and "FAIL" not in text.stdout, text.stdout
    assert "40 values (backed up, restored on downgrade)" in text.stdout, text.stdout

    d = _run(*base, "diff", *pair, *cfg, "--fail-on", "critical", "--format", "json", cwd=tmp_path)
    assert d.returncode == 0, (d.stdout, d.stderr)
    changes = {c["id"]: c for c in json.loads(d.stdout)["changes"]}
    drop = changes["drop_column:u.note"]
    assert drop["level"] == "high", drop
    f = drop["findings"][0]
    assert "40 values are backed up, restored on downgrade" in f["message"] and "lost" not in f["message"], f
    assert f["evidence"]["covered"] == "backed up, restored on downgrade"
    nn = changes["set_not_null:u.score"]
    mf104 = next(f for f in nn["findings"] if f["code"] == "MF104")
    assert nn["level"] != "critical" and "29 rows are NULL (filled by the configured backfill" in mf104["message"], nn
    assert all(c["level"] != "critical" for c in changes.values()), changes


# --------------------------------------------------------------------------- time zones

_TZ_OLD = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Event {
  id Int      @id
  at DateTime @db.Timestamp(3)
}
"""
_TZ_NEW = _TZ_OLD.replace("@db.Timestamp(3)", "@db.Timestamptz(3)")


@pytest.mark.postgres
@pytest.mark.parametrize(("zone", "instant"), [(None, "2024-07-01 12:00:00+00"),
                                                ("America/New_York", "2024-07-01 16:00:00+00")])
def test_timestamps_convert_as_utc_or_in_the_configured_zone(tmp_path: Path, pg_url: str, zone: str | None,
                                                             instant: str):
    """A Prisma DateTime moved to timestamptz: 12:00 is read as UTC by default, as New York
    time with `{ timezone = "America/New_York" }`, whatever the migration session's TimeZone
    (Asia/Tokyo here); PG107 explains it; the downgrade gives 12:00 back; verify passes with
    the naive ALTER read in the same zone."""
    (tmp_path / "old.prisma").write_text(_TZ_OLD)
    (tmp_path / "new.prisma").write_text(_TZ_NEW)
    cfg = tmp_path / "release.toml"
    cfg.write_text(f'[convert]\n"Event.at" = {{ timezone = "{zone}" }}\n' if zone else "")
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql('CREATE TABLE "Event" (id int PRIMARY KEY, at timestamp(3) NOT NULL)')
        c.exec_driver_sql("""INSERT INTO "Event" VALUES (1, '2024-07-01 12:00:00')""")
    base = [sys.executable, "-m", "planner"]
    pair = [str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"), "--config", str(cfg), "--no-config"]
    d = _run(*base, "diff", *pair, cwd=tmp_path)
    assert "PG107 time-zone-conversion: Event.at timestamp(3) -> timestamptz(3): planner reads the stored " \
           "wall-clock times as UTC" in d.stdout, d.stdout
    project = tmp_path / "project"
    assert _run(*base, "plan", *pair, "--init", str(project), cwd=tmp_path).returncode == 0
    tokyo = sa.engine.make_url(pg_url).update_query_dict({"options": "-c TimeZone=Asia/Tokyo"})
    url = tokyo.render_as_string(hide_password=False)
    up = _alembic(project, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    with engine.connect() as c:
        c.exec_driver_sql("SET TimeZone = 'UTC'")
        assert str(c.exec_driver_sql('SELECT at::text FROM "Event"').scalar()) == instant
    down = _alembic(project, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    with engine.connect() as c:
        assert str(c.exec_driver_sql('SELECT at::text FROM "Event"').scalar()) == "2024-07-01 12:00:00"
        c.exec_driver_sql('DROP TABLE "Event", alembic_version')
        c.commit()
    engine.dispose()
    analysis = analyze(str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"),
                       config=load_config(str(cfg), cwd=tmp_path, no_config=True), renames=[])
    report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


@pytest.mark.postgres
def test_timestamp_arrays_convert_in_the_session_zone_and_pg107_says_so(tmp_path: Path, pg_url: str):
    """timestamp(3)[] -> timestamptz(3)[]: `AT TIME ZONE` takes no array, so the plan casts the
    array (the session's TimeZone, as a plain ALTER) and the upgrade runs; PG107 says the
    session's TimeZone decides, not that planner reads UTC; a timezone rule is refused."""
    (tmp_path / "old.prisma").write_text(_TZ_OLD.replace("DateTime @db", "DateTime[] @db"))
    (tmp_path / "new.prisma").write_text(_TZ_NEW.replace("DateTime @db", "DateTime[] @db"))
    cfg = tmp_path / "release.toml"
    cfg.write_text("")
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql('CREATE TABLE "Event" (id int PRIMARY KEY, at timestamp(3)[])')
        c.exec_driver_sql("""INSERT INTO "Event" VALUES (1, '{"2024-07-01 12:00:00"}')""")
    base = [sys.executable, "-m", "planner"]
    pair = [str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"), "--config", str(cfg), "--no-config"]
    d = _run(*base, "diff", *pair, cwd=tmp_path)
    assert "PG107 time-zone-conversion: Event.at timestamp(3)[] -> timestamptz(3)[]: the values of an array " \
           "are converted in the session's TimeZone" in d.stdout, d.stdout
    assert "as UTC" not in d.stdout, d.stdout
    project = tmp_path / "project"
    assert _run(*base, "plan", *pair, "--init", str(project), cwd=tmp_path).returncode == 0
    utc = sa.engine.make_url(pg_url).update_query_dict({"options": "-c TimeZone=UTC"})
    up = _alembic(project, utc.render_as_string(hide_password=False), "upgrade", "head")
    assert up.returncode == 0, up.stderr
    with engine.connect() as c:
        c.exec_driver_sql("SET TimeZone = 'UTC'")
        assert str(c.exec_driver_sql('SELECT at::text FROM "Event"').scalar()) == '{"2024-07-01 12:00:00+00"}'
        c.exec_driver_sql('DROP TABLE "Event", alembic_version')
        c.commit()
    engine.dispose()
    cfg.write_text('[convert]\n"Event.at" = { timezone = "UTC" }\n')
    with pytest.raises(ConfigError, match="timezone applies to timestamp <-> timestamptz changes"):
        analyze(str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"),
                config=load_config(str(cfg), cwd=tmp_path, no_config=True), renames=[])


# --------------------------------------------------------------------------- MySQL / SQLite

_MY_OLD = OLD.replace('provider = "postgresql"', 'provider = "mysql"')
_MY_NEW = NEW.replace('provider = "postgresql"', 'provider = "mysql"')


@pytest.mark.mysql
def test_mysql_string_to_enum_with_a_rule(tmp_path: Path, mysql_url: str):
    """MySQL/MariaDB apply the rule in their own R8 path: the triggers and the batches convert
    through it (regenerated by sqlglot), the guard counts what it cannot convert, and the
    downgrade restores the OLD text (backup, then the inverse for rows changed since)."""
    (tmp_path / "old.prisma").write_text(_MY_OLD)
    (tmp_path / "new.prisma").write_text(_MY_NEW)
    cfg = tmp_path / "release.toml"
    cfg.write_text('[convert]\n"Ticket.status" = { using = "UPPER(status)", inverse = "LOWER(status)" }\n')
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE `Ticket` (id int PRIMARY KEY, status varchar(191) NOT NULL DEFAULT 'open', "
                          "note varchar(191))")
        c.exec_driver_sql("INSERT INTO `Ticket` VALUES (1, 'open', NULL), (2, 'Closed', 'x'), (3, 'OPEN', NULL)")
    base = [sys.executable, "-m", "planner"]
    pair = [str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"), "--config", str(cfg), "--no-config"]
    project = tmp_path / "project"
    p = _run(*base, "plan", *pair, "--init", str(project), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert _alembic(project, mysql_url, "upgrade", "+1").returncode == 0
    with engine.begin() as c:  # the OLD application during the window
        c.exec_driver_sql("UPDATE `Ticket` SET status = 'closed' WHERE id = 1")
        c.exec_driver_sql("INSERT INTO `Ticket` (id) VALUES (4)")
    up = _alembic(project, mysql_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT id, status FROM `Ticket` ORDER BY id").fetchall() == \
            [(1, "CLOSED"), (2, "CLOSED"), (3, "OPEN"), (4, "OPEN")]
        assert "enum('OPEN','CLOSED')" in c.exec_driver_sql("SHOW CREATE TABLE `Ticket`").fetchone()[1]
        c.exec_driver_sql("INSERT INTO `Ticket` (id, status) VALUES (5, 'CLOSED')")  # the NEW application
    down = _alembic(project, mysql_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT id, status FROM `Ticket` ORDER BY id").fetchall() == \
            [(1, "closed"), (2, "Closed"), (3, "OPEN"), (4, "open"), (5, "closed")]
    engine.dispose()


def test_sqlite_string_rule_converts_in_the_rebuild(tmp_path: Path):
    """SQLite applies the rule in its own path: an UPDATE through the rule right before the
    table's rebuild, and the inverse after the downgrade's rebuild."""
    import sqlite3

    old_sql = "CREATE TABLE t (id integer PRIMARY KEY, amount text);\n"
    new_sql = "CREATE TABLE t (id integer PRIMARY KEY, amount integer);\n"
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    cfg = tmp_path / "release.toml"
    cfg.write_text('[convert]\n"t.amount" = { using = "CAST(REPLACE(amount, \',\', \'\') AS INTEGER)", '
                   'inverse = "CAST(amount AS TEXT)" }\n')
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.executescript(old_sql + "INSERT INTO t VALUES (1, '1,250'), (2, '7'), (3, NULL);")
    con.commit()
    con.close()
    url = f"sqlite:///{db}"
    pair = [str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "sqlite", "--config", str(cfg), "--no-config"]
    project = tmp_path / "project"
    p = _run(sys.executable, "-m", "planner", "plan", *pair, "--init", str(project), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    code = "\n".join(f.read_text() for f in (project / "migrations" / "versions").glob("*.py"))
    assert """UPDATE "t" SET "amount" = (CAST(REPLACE("amount", \\',\\', \\'\\') AS INTEGER))""" in code
    up = _alembic(project, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT id, amount, typeof(amount) FROM t ORDER BY id").fetchall() == \
        [(1, 1250, "integer"), (2, 7, "integer"), (3, None, "null")]
    con.close()
    down = _alembic(project, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT id, amount FROM t ORDER BY id").fetchall() == [(1, "1250"), (2, "7"), (3, None)]
    con.close()


def test_sqlite_lossy_rule_backs_up_the_values_before_converting(tmp_path: Path):
    """A lossy type change with a rule: the backup is taken BEFORE the rule's UPDATE, so the
    downgrade restores the original values, not the converted ones."""
    import sqlite3

    old_sql = "CREATE TABLE t (id integer PRIMARY KEY, amount real);\n"
    new_sql = "CREATE TABLE t (id integer PRIMARY KEY, amount integer);\n"
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    cfg = tmp_path / "release.toml"
    cfg.write_text('[convert]\n"t.amount" = { using = "CAST(amount * 100 AS INTEGER)" }\n')
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.executescript(old_sql + "INSERT INTO t VALUES (1, 12.5), (2, 0.07), (3, NULL);")
    con.commit()
    con.close()
    url = f"sqlite:///{db}"
    pair = [str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "sqlite", "--config", str(cfg), "--no-config"]
    project = tmp_path / "project"
    p = _run(sys.executable, "-m", "planner", "plan", *pair, "--init", str(project), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    code = "\n".join(f.read_text() for f in (project / "migrations" / "versions").glob("*.py"))
    backup = 'CREATE TABLE IF NOT EXISTS "planner_backup__t__amount__type" AS SELECT'
    assert code.count(backup) == 1
    assert code.index(backup) < code.index('UPDATE "t" SET "amount" = (CAST')
    up = _alembic(project, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT id, amount FROM t ORDER BY id").fetchall() == [(1, 1250), (2, 7), (3, None)]
    con.close()
    down = _alembic(project, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT id, amount FROM t ORDER BY id").fetchall() == [(1, 12.5), (2, 0.07), (3, None)]
    con.close()


_LOSSY_OLD = "CREATE TABLE t (id integer PRIMARY KEY, amount {real});\n"
_LOSSY_NEW = "CREATE TABLE t (id integer PRIMARY KEY, amount integer);\n"
_LOSSY_RULE = '[convert]\n"t.amount" = { using = "round(amount * 100)", lossy = true }\n'


def _lossy_round_trip(tmp_path: Path, url: str, dialect: str, real: str, extra: str = "") -> str:
    """Plan real -> integer with a lossy rule (x100: the converted values differ from the
    originals), upgrade, check the converted values, downgrade, check the ORIGINAL values are
    back (a backup taken after the conversion would give 1250.0 back for 12.5)."""
    old_sql, new_sql = _LOSSY_OLD.format(real=real) + extra, _LOSSY_NEW + extra
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    cfg = tmp_path / "release.toml"
    cfg.write_text(_LOSSY_RULE)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        for stmt in filter(str.strip, old_sql.split(";")):
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO t VALUES (1, 12.5), (2, 0.25), (3, NULL)")
    project = tmp_path / "project"
    p = _run(sys.executable, "-m", "planner", "plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
             "-d", dialect, "--config", str(cfg), "--no-config", "--init", str(project), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    code = "\n".join(f.read_text() for f in sorted((project / "migrations" / "versions").glob("*.py")))
    up = _alembic(project, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr[-3000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT id, amount FROM t ORDER BY id").fetchall() == \
            [(1, 1250), (2, 25), (3, None)]
    down = _alembic(project, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-3000:]
    with engine.connect() as c:
        assert [(i, None if a is None else float(a)) for i, a in
                c.exec_driver_sql("SELECT id, amount FROM t ORDER BY id").fetchall()] == \
            [(1, 12.5), (2, 0.25), (3, None)]
    engine.dispose()
    return code


@pytest.mark.postgres
@pytest.mark.parametrize("extra, route", [
    ("", "swap"),  # R8: the backup copies the old column before the swap drops it
    # a partial index over it keeps it in place: backup, then USING
    ("CREATE INDEX t_positive ON t (id) WHERE amount > 0;\n", "in place"),
])
def test_pg_lossy_rule_downgrade_restores_the_original_values(tmp_path: Path, pg_url: str, extra: str, route: str):
    code = _lossy_round_trip(tmp_path, pg_url, "postgresql", "real", extra)
    assert ("swap t.amount__planner_new in as amount" in code) == (route == "swap"), code
    if route == "in place":
        backup = code.index('CREATE TABLE IF NOT EXISTS "planner_backup"."t__amount__type"')
        assert backup < code.index("postgresql_using="), code


@pytest.mark.mysql
def test_mysql_lossy_rule_downgrade_restores_the_original_values(tmp_path: Path, mysql_url: str):
    code = _lossy_round_trip(tmp_path, mysql_url, "mysql", "double")
    assert code.index("planner_backup__t__amount__type") < code.index("DROP COLUMN `amount`"), code
