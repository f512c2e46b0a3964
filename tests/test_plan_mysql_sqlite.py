"""Staged revisions for MySQL/MariaDB (online DDL clauses) and SQLite (batch mode), proven by
the verify harness on real servers: upgrade matches NEW, downgrade restores OLD and every row,
and `alembic upgrade --sql` renders."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.config import load_config
from planner.pipeline import analyze
from planner.verify.harness import VerifyFailed, verify

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "plan"
STORY = ROOT / "sample_schemas" / "orchestration-execution-log"


def _analysis(old: Path, new: Path, dialect: str, config: Path | None):
    cfg = load_config(str(config) if config else None, cwd=ROOT)
    return analyze(str(old), str(new), config=cfg, dialect=dialect, renames=[])


def _assert_ok(report) -> None:  # noqa: ANN001
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data)
    assert report.revisions >= 2 and report.offline_sql_lines > 0
    assert sum(report.seeded.values()) > 0


@pytest.mark.mysql
def test_verify_mysql_story_on_mariadb(mysql_url: str):
    """The SQL story of the MySQL dialect: nullable column, batched backfill from jobs (stated in
    the story's planner.toml), online indexes, CHECK by copy, NOT NULL in contract."""
    a = _analysis(STORY / "old.sql", STORY / "new.sql", "mysql", STORY / "planner.toml")
    _assert_ok(verify(a, mysql_url))


@pytest.mark.mysql
def test_verify_mysql_every_kind(mysql_url: str):
    """Renames (table behind a view, column), drops backed up and restored, type changes,
    inline ENUM values added and removed with a remap, NOT NULL with a backfill, FKs, UNIQUE."""
    a = _analysis(DATA / "mysql_old.sql", DATA / "mysql_new.sql", "mysql", DATA / "mysql.toml")
    assert len(a.diff.changes) >= 20
    report = verify(a, mysql_url)
    # (users.bio text -> varchar(500), an in-place MODIFY: its downgrade restored every row from
    # the backup, also the one the NEW application changed after the upgrade, which the MySQL
    # oracle's writes showed: "users.bio: the downgrade put back 'www...' (300 chars) over the
    # value the application wrote after the upgrade")
    _assert_ok(report)


@pytest.mark.mysql
def test_mysql_guard_stops_before_any_ddl(mysql_url: str, tmp_path: Path):
    """A new FK over seeded values that match nothing: the guard stops the expand revision."""
    old = tmp_path / "old.sql"
    new = tmp_path / "new.sql"
    old.write_text("CREATE TABLE p (id int NOT NULL, PRIMARY KEY (id));\n"
                   "CREATE TABLE c (id int NOT NULL, p_id int NOT NULL, PRIMARY KEY (id));")
    new.write_text("CREATE TABLE p (id int NOT NULL, PRIMARY KEY (id));\n"
                   "CREATE TABLE c (id int NOT NULL, p_id int NOT NULL, PRIMARY KEY (id),\n"
                   "  CONSTRAINT c_p_fk FOREIGN KEY (p_id) REFERENCES p (id));")
    a = _analysis(old, new, "mysql", None)
    with pytest.raises(VerifyFailed, match="planner guard failed.*c_p_fk"):
        verify(a, mysql_url, rows=30)


def test_verify_sqlite_every_kind(sqlite_url: str):
    """One batch rebuild per table (copy_from, so offline works), foreign keys off around it."""
    a = _analysis(DATA / "sqlite_old.sql", DATA / "sqlite_new.sql", "sqlite", DATA / "sqlite.toml")
    _assert_ok(verify(a, sqlite_url))


@pytest.mark.parametrize("dialect, old, new, config", [
    ("mysql", STORY / "old.sql", STORY / "new.sql", STORY / "planner.toml"),
    ("mysql", DATA / "mysql_old.sql", DATA / "mysql_new.sql", DATA / "mysql.toml"),
    ("sqlite", DATA / "sqlite_old.sql", DATA / "sqlite_new.sql", DATA / "sqlite.toml"),
])
def test_revisions_import_only_alembic_and_sqlalchemy(tmp_path: Path, dialect: str, old: Path, new: Path,
                                                      config: Path):
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", dialect, "--config", str(config),
                                 "--init", str(tmp_path / "p"), "-q", "--rev-id-seed", "t"])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert files
    for f in files:
        text = f.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                assert all(n.name.split(".")[0] in ("alembic", "sqlalchemy", *sys.stdlib_module_names)
                           for n in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module not in ("__future__", "typing", "collections.abc"):
                assert node.module.split(".")[0] in ("alembic", "sqlalchemy"), node.module
        if dialect == "mysql":  # every ALTER names its algorithm and lock
            alters = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)
                      and ast.unparse(n.func) == "rt.alter"]
            for call in alters:
                statement, *clauses = [ast.literal_eval(a) for a in call.args]
                assert clauses, statement
                assert all("ALGORITHM=" in c for c in clauses), (statement, clauses)
            assert alters or "ALTER TABLE" not in text
        else:
            assert "op.batch_alter_table(" not in text or "copy_from=_copy_from" in text


def test_mysql_plan_orders_ddl_for_review(tmp_path: Path):
    r = CliRunner().invoke(app, ["plan", str(STORY / "old.sql"), str(STORY / "new.sql"), "--dialect", "mysql",
                                 "--config", str(STORY / "planner.toml"), "--init", str(tmp_path / "p"), "-q"])
    assert r.exit_code == 0, r.output
    files = list((tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    text = {f.name.split("_")[1]: _strings(f.read_text()) for f in files}
    assert set(text) == {"expand", "backfill", "contract"}
    assert any(re.search(r"ADD COLUMN `organization_id` CHAR\(36\)( AFTER `\w+`| FIRST)$", s)
               for s in text["expand"])  # nullable first, where NEW has it
    assert ", ALGORITHM=INSTANT" in text["expand"] and ", ALGORITHM=COPY, LOCK=SHARED" in text["expand"]  # the CHECK
    # the backfill walks the primary key (rt.keyset: table, keys, assignment, condition)
    assert ["`id`"] in [ast.literal_eval(n.args[1]) for f in files for n in ast.walk(ast.parse(f.read_text()))
                        if isinstance(n, ast.Call) and ast.unparse(n.func) == "rt.keyset"]
    assert any("MODIFY `organization_id` CHAR(36) NOT NULL" in s for s in text["contract"])


def _strings(code: str) -> list[str]:
    """The string literals of a revision (however they are quoted or laid out)."""
    return [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.mysql
def test_mysql_type_change_by_new_column_and_swap(mysql_url: str, tmp_path: Path):
    """R8 on MariaDB: no ALGORITHM=COPY for a type change of an unindexed column; rows written
    between the phases are converted by the triggers, the swap keeps the column's position,
    and the downgrade brings the old values back (rows written after the swap converted back)."""
    import os
    import subprocess
    import sys

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id bigint NOT NULL AUTO_INCREMENT, amount double NOT NULL DEFAULT 1.5,\n"
                   "  note varchar(20) DEFAULT NULL, PRIMARY KEY (id));\n")
    new.write_text("CREATE TABLE pets (id bigint NOT NULL AUTO_INCREMENT, amount decimal(12,2) NOT NULL DEFAULT 1.5,\n"
                   "  note varchar(20) DEFAULT NULL, PRIMARY KEY (id));\n")
    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    engine = sa.create_engine(mysql_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets (id, amount) VALUES (1, 1.25), (2, 2.5), (3, 3.75)")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    text = "\n".join(f.read_text() for f in (proj / "migrations" / "versions").glob("*.py"))
    assert "swap pets.amount__planner_new in as amount" in text and "ALGORITHM=COPY" not in text
    env = {**os.environ, "DATABASE_URL": sa.make_url(mysql_url).render_as_string(hide_password=False)}

    def run(*args: str) -> None:
        r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr

    run("upgrade", "+1")
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets (id, amount) VALUES (4, 4.125)")
        c.exec_driver_sql("UPDATE pets SET amount = 9.5 WHERE id = 1")
    run("upgrade", "head")
    with engine.begin() as c:
        cols = [r[0] for r in c.exec_driver_sql("SHOW COLUMNS FROM pets")]
        assert cols == ["id", "amount", "note"]
        got = dict(c.exec_driver_sql("SELECT id, CAST(amount AS CHAR) FROM pets").all())
        assert got == {1: "9.50", 2: "2.50", 3: "3.75", 4: "4.13"}
        c.exec_driver_sql("INSERT INTO pets (id) VALUES (5)")
        c.exec_driver_sql("UPDATE pets SET amount = 8.88 WHERE id = 2")  # changed after the swap
    run("downgrade", "base")
    with engine.begin() as c:
        got = dict(c.exec_driver_sql("SELECT id, amount FROM pets").all())
        assert got == {1: 9.5, 2: 8.88, 3: 3.75, 4: 4.125, 5: 1.5}
        assert [r[0] for r in c.exec_driver_sql("SHOW COLUMNS FROM pets")] == ["id", "amount", "note"]
    engine.dispose()


ON_UPDATE_OLD = """CREATE TABLE t (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(20) NULL,
  legacy varchar(10) NULL,
  updated_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  touched datetime NULL
);
"""
ON_UPDATE_NEW = """CREATE TABLE t (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(20) NOT NULL,
  updated_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  touched datetime NULL ON UPDATE CURRENT_TIMESTAMP,
  synced datetime NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP
);
CREATE TABLE u (
  id int NOT NULL PRIMARY KEY,
  seen datetime NULL ON UPDATE CURRENT_TIMESTAMP,
  at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
);
"""


@pytest.mark.mysql
def test_on_update_current_timestamp_is_kept_and_not_fired_by_the_plan(mysql_url: str, tmp_path: Path):
    """Issue 16: ON UPDATE CURRENT_TIMESTAMP is modelled. The plan adds it where NEW has it (a
    MODIFY carries it, and the MODIFY of another column keeps it), the upgrade diffs to zero
    against NEW, and neither the batched backfill nor the downgrade's restores change the
    ON UPDATE columns of the rows they touch (the naive migration does not either)."""
    import os
    import subprocess

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new, cfg = tmp_path / "old.sql", tmp_path / "new.sql", tmp_path / "planner.toml"
    old.write_text(ON_UPDATE_OLD)
    new.write_text(ON_UPDATE_NEW)
    cfg.write_text('[backfill]\n"t.name" = "\'anon\'"\n')
    a = _analysis(old, new, "mysql", cfg)
    assert {(c.kind.value, c.column) for c in a.diff.changes} >= {("alter_default", "touched"),
                                                                    ("add_column", "synced")}
    _assert_ok(verify(a, mysql_url))

    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    engine = sa.create_engine(mysql_url)
    stamps = {1: "2001-02-03 04:05:06.789000", 2: "2002-03-04 05:06:07.000000", 3: "2003-04-05 06:07:08.123000"}
    with engine.begin() as c:
        for i, ts in stamps.items():
            c.exec_driver_sql("INSERT INTO t (id, name, legacy, updated_at, touched) VALUES (%s, %s, %s, %s, %s)",
                              (i, None if i != 2 else "bo", f"l{i}", ts, "1999-01-01 00:00:00" if i == 1 else None))
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--config", str(cfg),
                                      "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(mysql_url).render_as_string(hide_password=False)}

    def run(*args: str) -> None:
        r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr

    def rows() -> dict:
        with engine.connect() as c:
            return {r[0]: (str(r[1]), None if r[2] is None else str(r[2]))
                    for r in c.exec_driver_sql("SELECT id, updated_at, touched FROM t")}

    before = rows()
    assert all(before[i][0].startswith(stamps[i][:19]) for i in stamps) and before[1][1].startswith("1999")
    run("upgrade", "head")
    assert rows() == before  # the backfill of `name` fired no ON UPDATE
    from planner.diff import diff as run_diff
    from planner.load.database import load_database

    got = load_database(mysql_url).schema
    assert run_diff(got, load_source(str(new), dialect="mysql").schema).changes == ()
    assert got.table("t").column("touched").on_update == "CURRENT_TIMESTAMP"
    assert got.table("t").column("updated_at").on_update == "CURRENT_TIMESTAMP"
    assert got.table("t").column("synced").on_update == "CURRENT_TIMESTAMP"  # added column
    assert [c.on_update for c in got.table("u").columns] == [None, "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"]
    run("downgrade", "base")
    assert rows() == before  # restoring `legacy` and the NULLs of `name` fired none either
    got = load_database(mysql_url).schema
    assert got.table("t").column("touched").on_update is None
    assert got.table("t").column("updated_at").on_update == "CURRENT_TIMESTAMP"
    engine.dispose()


def test_on_update_of_a_not_null_column_without_default_reaches_every_ddl(tmp_path: Path):
    """SQLAlchemy renders ON UPDATE only inside a default's text; a NOT NULL column without a
    default gets it from planner's compile hook (MODIFY, ADD COLUMN) and, in a new table, from a
    MODIFY right after op.create_table."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id int NOT NULL PRIMARY KEY, at datetime(3) NOT NULL);\n")
    new.write_text("CREATE TABLE t (id int NOT NULL PRIMARY KEY, at datetime(3) NOT NULL ON UPDATE CURRENT_TIMESTAMP(3));\n"
                   "CREATE TABLE u (id int NOT NULL PRIMARY KEY, at datetime NOT NULL ON UPDATE CURRENT_TIMESTAMP);\n")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    text = "\n".join(f.read_text() for f in sorted((proj / "migrations" / "versions").glob("*.py")))
    assert "ALTER TABLE `t` MODIFY `at` DATETIME(3) NOT NULL ON UPDATE CURRENT_TIMESTAMP(3)" in text
    assert "ALTER TABLE `t` MODIFY `at` DATETIME(3) NOT NULL" in _strings(text)  # the downgrade drops it
    assert "ALTER TABLE `u` MODIFY `at` DATETIME NOT NULL ON UPDATE CURRENT_TIMESTAMP" in text


@pytest.mark.mysql
def test_mysql_type_swap_loses_no_write_of_the_running_application(mysql_url: str, tmp_path: Path):
    """The MySQL contract of R8 dropped the triggers that keep the shadow column in step, then
    dropped the old column and renamed the shadow into its place, statement by statement: an
    application write of the column between the two reached only the column being dropped and
    was lost (3 of ~3,400 writes in one run), and writes failed meanwhile (27). The triggers go
    and the columns swap under one `LOCK TABLES ... WRITE`: the application waits for it."""
    import os
    import random
    import subprocess
    import sys
    import threading
    import time

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id int NOT NULL PRIMARY KEY, amount int NOT NULL, note varchar(20) NULL);\n")
    new.write_text(old.read_text().replace("amount int", "amount bigint"))
    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    engine = sa.create_engine(mysql_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO pets (id, amount) VALUES " + ", ".join(f"({i}, {i})" for i in range(1, 2001)))
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(mysql_url).render_as_string(hide_password=False)}

    def alembic(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                              capture_output=True, text=True, check=False)

    assert alembic("upgrade", "+2").returncode == 0  # expand, backfill
    last: dict[int, int] = {}
    failed: list[str] = []
    stop = threading.Event()

    def write() -> None:  # NEW, as fast as it can: each committed write must survive the swap
        rng = random.Random(1)
        with engine.connect() as c:
            n = 0
            while not stop.is_set():
                k, v = rng.randrange(1, 2001), 10_000_000 + n + len(last) * 1000
                try:
                    c.exec_driver_sql(f"UPDATE pets SET amount = {v} WHERE id = {k}")
                    last[k] = v
                    if c.exec_driver_sql(f"SELECT amount FROM pets WHERE id = {k}").scalar() is None:
                        failed.append(f"read NULL from row {k}")
                except sa.exc.DBAPIError as e:
                    failed.append(str(e.orig))
                n += 1

    def while_writing(*args: str) -> None:
        """`alembic *args` with NEW writing from before it starts until after it ends."""
        stop.clear()
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        time.sleep(0.3)
        r = alembic(*args)
        time.sleep(0.3)
        stop.set()
        writer.join(10)
        assert r.returncode == 0, r.stderr[-2000:]

    def check(kind: str) -> None:
        with engine.connect() as c:
            got = dict(c.exec_driver_sql("SELECT id, amount FROM pets").all())
            assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                                     "DATABASE() AND table_name = 'pets' AND column_name = 'amount'").scalar() == kind
        assert len(last) > 100
        assert failed == [], failed[:3]
        assert {k: (v, got[k]) for k, v in last.items() if got[k] != v} == {}

    while_writing("upgrade", "head")  # the contract
    check("bigint")
    # the way back, NEW still running: it used to see the column empty (NULL reads) and wait for
    # one UPDATE of the whole table; no read of NULL, no failed or lost write now
    while_writing("downgrade", "-1")
    check("int")
    with engine.connect() as c:  # the backfill revision's state: the shadow column agrees
        assert c.exec_driver_sql("SELECT count(*) FROM pets WHERE NOT (amount__planner_new <=> amount)").scalar() == 0
        # (the shadow column sits where the swap left it, before `note`: the expand's downgrade drops it)
        assert [r[0] for r in c.exec_driver_sql("SHOW COLUMNS FROM pets")] == ["id", "amount", "amount__planner_new",
                                                                              "note"]
    engine.dispose()


_FK_OLD = """
CREATE TABLE parent (id int NOT NULL AUTO_INCREMENT, up_id int, code varchar(10) NOT NULL, PRIMARY KEY (id),
  UNIQUE KEY parent_code_key (code), CONSTRAINT parent_up_fk FOREIGN KEY (up_id) REFERENCES parent (id));
CREATE TABLE child (id int NOT NULL AUTO_INCREMENT, p_id int NOT NULL, code varchar(10), PRIMARY KEY (id),
  KEY child_p_id_idx (p_id), CONSTRAINT child_p_fk FOREIGN KEY (p_id) REFERENCES parent (id) ON DELETE CASCADE,
  CONSTRAINT child_code_fk FOREIGN KEY (code) REFERENCES parent (code));
"""
_FK_NEW = _FK_OLD.replace("id int", "id bigint").replace("up_id int", "up_id bigint") \
    .replace("p_id int", "p_id bigint").replace("varchar(10)", "varchar(20)")


@pytest.mark.mysql
def test_mysql_type_change_of_foreign_key_columns(mysql_url: str, tmp_path: Path):
    """Keys widened to BIGINT on both sides of a foreign key (and a self-reference), a
    referenced VARCHAR widened: MariaDB refuses any of these MODIFYs while a foreign key uses
    the column (1832, with foreign_key_checks off too). Each key is dropped right before and
    added back right after, after a check for rows that lost their parent meanwhile."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(_FK_OLD)
    new.write_text(_FK_NEW)
    assert "id bigint" in _FK_NEW and "varchar(20)" in _FK_NEW
    a = _analysis(old, new, "mysql", None)
    from planner.plan.build import build_plan
    titles = [s.title for s in build_plan(a.diff, a.old.schema, a.new.schema).steps]
    for name in ("child_p_fk", "child_code_fk", "parent_up_fk"):
        drop = next(i for i, t in enumerate(titles) if t.startswith(f"drop foreign key {name} "))
        back = next(i for i, t in enumerate(titles) if t.startswith(f"foreign key {name} "))
        assert drop < back
    report = verify(a, mysql_url, rows=30)  # before: (1832, "Cannot change column 'p_id': used in a foreign key ...")
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data)


@pytest.mark.mysql
@pytest.mark.parametrize("case", ["drop_before", "rename_before", "drop_first"])
def test_mysql_swap_position_names_a_column_that_is_there(mysql_url: str, tmp_path: Path, case: str):
    """The R8 swap puts the column back after its predecessor: when the plan drops or renames
    that predecessor, the position clause named a column gone by then (1054 Unknown column,
    every re-run the same). The position comes from the columns kept, under NEW's names."""
    cols = {"drop_before": ("a varchar(10) DEFAULT NULL, ", ""),
            "rename_before": ("a varchar(10) DEFAULT NULL, ", "a2 varchar(10) DEFAULT NULL, "),
            "drop_first": ("", "")}[case]
    lead_old, lead_new = cols
    if case == "drop_first":  # the dropped column is the first one: the swapped one goes FIRST
        old_sql = "CREATE TABLE t (a int DEFAULT NULL, b int DEFAULT NULL, id int NOT NULL, c int, PRIMARY KEY (id));"
        new_sql = "CREATE TABLE t (b bigint DEFAULT NULL, id int NOT NULL, c int, PRIMARY KEY (id));"
    else:
        old_sql = f"CREATE TABLE t (id int NOT NULL, {lead_old}b int DEFAULT NULL, c int, PRIMARY KEY (id));"
        new_sql = f"CREATE TABLE t (id int NOT NULL, {lead_new}b bigint DEFAULT NULL, c int, PRIMARY KEY (id));"
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(old_sql + "\n")
    new.write_text(new_sql + "\n")
    cfg = None
    if case == "rename_before":
        cfg = tmp_path / "planner.toml"
        cfg.write_text('[renames]\n"t.a" = "a2"\n')
    a = _analysis(old, new, "mysql", cfg)
    assert {c.kind.value for c in a.diff.changes} >= {"alter_column_type"}
    _assert_ok(verify(a, mysql_url, rows=40))


@pytest.mark.mysql
def test_mysql_lock_wait_names_the_session_in_the_way(mysql_url: str, tmp_path: Path):
    """A MariaDB metadata-lock wait given up says which session holds the table (its id, state,
    database and how long its transaction is open): "Waiting on:" was empty there."""
    import os
    import subprocess
    import threading
    import time

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id int NOT NULL, v int DEFAULT NULL, PRIMARY KEY (id));\n")
    new.write_text("CREATE TABLE t (id int NOT NULL, v int DEFAULT NULL, PRIMARY KEY (id));\n"
                   "CREATE INDEX t_v ON t (v);\n")
    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    proj = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(mysql_url)
    started, db = threading.Event(), sa.make_url(mysql_url).database

    def hold() -> None:  # an application transaction that read t, left open 6 s
        with engine.connect() as c:
            c.exec_driver_sql("SELECT count(*) FROM t").scalar()
            started.set()
            time.sleep(6)
            c.rollback()
    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert started.wait(10)
    env = {**os.environ, "DATABASE_URL": sa.make_url(mysql_url).render_as_string(hide_password=False)}
    run = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), "-x", "lock_timeout=1s",
                          "-x", "lock_retries=2", "upgrade", "head"], env=env, capture_output=True, text=True,
                         check=False)
    holder.join()
    engine.dispose()
    assert run.returncode != 0
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert f"database {db}, transaction open" in run.stderr, run.stderr[-2000:]


@pytest.mark.mysql
def test_mysql_time_zone_conversions_ignore_the_writers_session_zone(mysql_url: str, tmp_path: Path):
    """datetime <-> timestamp by R8 on MariaDB: rows the application writes during the window and
    after the swap, on a session whose time_zone is +05:30, are converted as UTC wall-clock
    times (what the batches and a naive ALTER under UTC do), not in the writer's zone: the
    triggers converted them on assignment in the writer's session, shifting them silently by its
    offset. The downgrade converts back the same way."""
    import os
    import subprocess

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE ev (id int NOT NULL, at datetime DEFAULT NULL, ts timestamp NULL DEFAULT NULL,\n"
                   "  d date DEFAULT NULL, PRIMARY KEY (id));\n")
    new.write_text("CREATE TABLE ev (id int NOT NULL, at timestamp NULL DEFAULT NULL, ts datetime DEFAULT NULL,\n"
                   "  d timestamp NULL DEFAULT NULL, PRIMARY KEY (id));\n")
    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    engine = sa.create_engine(mysql_url)

    def session(zone: str, *statements: str) -> list:
        with engine.connect() as c:
            c.exec_driver_sql(f"SET time_zone = '{zone}'")
            for s in statements:
                c.exec_driver_sql(s)
            c.commit()
            return [tuple(str(v) for v in r) for r in c.exec_driver_sql("SELECT * FROM ev ORDER BY id")]

    session("+00:00", "INSERT INTO ev (id, at, ts, d) VALUES (1, '2024-07-01 12:00:00', '2024-07-01 12:00:00', '2024-07-01')")
    proj = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert r.exit_code == 0, r.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(mysql_url).render_as_string(hide_password=False)}

    def alembic(*args: str) -> None:
        p = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                           capture_output=True, text=True, check=False)
        assert p.returncode == 0, p.stdout + p.stderr

    alembic("upgrade", "+1")
    # the application, in +05:30: 17:30 there is 12:00 UTC
    session("+05:30", "INSERT INTO ev (id, at, ts, d) VALUES (2, '2024-07-01 12:00:00', '2024-07-01 17:30:00', '2024-07-02')",
            "UPDATE ev SET at = '2024-01-02 03:04:05', ts = '2024-01-02 08:34:05', d = '2024-01-03' WHERE id = 1")
    alembic("upgrade", "head")
    rows = session("+00:00")
    assert rows == [("1", "2024-01-02 03:04:05", "2024-01-02 03:04:05", "2024-01-03 00:00:00"),
                    ("2", "2024-07-01 12:00:00", "2024-07-01 12:00:00", "2024-07-02 00:00:00")], rows
    # NEW writes after the swap, in +05:30; the downgrade gives OLD's wall-clock times in UTC
    session("+05:30", "INSERT INTO ev (id, at, ts, d) VALUES (3, '2024-07-01 17:30:00', '2024-07-01 12:00:00', "
                      "'2024-07-02 05:30:00')")
    alembic("downgrade", "base")
    rows = session("+00:00")
    engine.dispose()
    assert rows == [("1", "2024-01-02 03:04:05", "2024-01-02 03:04:05", "2024-01-03"),
                    ("2", "2024-07-01 12:00:00", "2024-07-01 12:00:00", "2024-07-02"),
                    ("3", "2024-07-01 12:00:00", "2024-07-01 12:00:00", "2024-07-02")], rows


@pytest.mark.mysql
def test_mysql_time_zone_conversion_in_place_reads_utc_whoever_runs_it(mysql_url: str, tmp_path: Path):
    """An indexed datetime column becomes timestamp in place (a MODIFY): run by a migration
    session whose time_zone is +05:30, the MODIFY read the wall-clock times in that zone. It
    reads them as UTC (as the R8 route does), there and back."""
    import os
    import subprocess

    import sqlalchemy as sa

    from planner.load import load_source
    from planner.verify.harness import build_schema

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE ev (id int NOT NULL, at datetime DEFAULT NULL, PRIMARY KEY (id), KEY ev_at (at));\n")
    new.write_text("CREATE TABLE ev (id int NOT NULL, at timestamp NULL DEFAULT NULL, PRIMARY KEY (id), "
                   "KEY ev_at (at));\n")
    build_schema(mysql_url, load_source(str(old), dialect="mysql").schema)
    engine = sa.create_engine(mysql_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO ev VALUES (1, '2024-07-01 12:00:00')")
    proj = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", "mysql", "--init", str(proj), "-q"])
    assert r.exit_code == 0, r.output
    url = sa.make_url(mysql_url).update_query_dict({"init_command": "SET time_zone = '+05:30'"})
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}

    def read() -> str:
        with engine.connect() as c:
            c.exec_driver_sql("SET time_zone = '+00:00'")
            return str(c.exec_driver_sql("SELECT at FROM ev").scalar())

    for target in ("head", "base"):
        p = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"),
                            "upgrade" if target == "head" else "downgrade", target], env=env, capture_output=True,
                           text=True, check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert read() == "2024-07-01 12:00:00", target
    engine.dispose()


@pytest.mark.mysql
def test_mysql_named_conversion_zone_needs_the_time_zone_tables(mysql_url: str, tmp_path: Path):
    """A named zone for a datetime -> timestamp change: without the server's time zone tables
    CONVERT_TZ gives NULL (every converted value NULL, silently): the guard stops before any DDL.
    An offset needs no tables and is read as stated."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE ev (id int NOT NULL, at datetime DEFAULT NULL, PRIMARY KEY (id));\n")
    new.write_text("CREATE TABLE ev (id int NOT NULL, at timestamp NULL DEFAULT NULL, PRIMARY KEY (id));\n")
    cfg = tmp_path / "planner.toml"
    import sqlalchemy as sa

    with sa.create_engine(mysql_url).connect() as c:
        if c.exec_driver_sql("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'Europe/Paris', '+00:00')").scalar():
            pytest.skip("this server has its time zone tables loaded")
    cfg.write_text('[convert]\n"ev.at" = { timezone = "Europe/Paris" }\n')
    with pytest.raises(VerifyFailed, match="does not know the time zone 'Europe/Paris'.*no DDL was run"):
        verify(_analysis(old, new, "mysql", cfg), mysql_url, rows=10)
    cfg.write_text('[convert]\n"ev.at" = { timezone = "+02:00" }\n')
    a = _analysis(old, new, "mysql", cfg)
    from planner.plan.build import build_plan

    plan = build_plan(a.diff, a.old.schema, a.new.schema, convert=a.config.convert)
    text = "\n".join(b.code for s in plan.steps for b in s.upgrade)
    assert "CONVERT_TZ(NEW.`at`, '+02:00', @@session.time_zone)" in text
    _assert_ok(verify(a, mysql_url, rows=10))
