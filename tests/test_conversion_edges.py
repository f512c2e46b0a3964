"""Type changes at their edges, on PostgreSQL, found by trying planner on new schemas: a plan
must leave what the naive ALTER leaves, keep every index, and its downgrade must give back
every row. Each case failed before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.rules.facts import lossy

from .test_verify_oracle import _verify

pytestmark = pytest.mark.postgres


def _plan(tmp_path: Path, old: str, new: str, url: str) -> list[str]:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    db = sa.make_url(url).render_as_string(hide_password=False)
    return [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={db}"]


@pytest.fixture
def engine(pg_url: str):
    e = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    yield e
    e.dispose()


def _run(alembic: list[str], *args: str, tz: str = "America/New_York") -> subprocess.CompletedProcess:
    env = {**os.environ, "PGOPTIONS": f"-c TimeZone={tz}"}
    return subprocess.run([*alembic, *args], capture_output=True, text=True, timeout=300, env=env)


def test_an_index_that_includes_the_column_is_rebuilt(tmp_path: Path, pg_url: str):
    """An index that names the converted column only in INCLUDE was dropped with the old
    column by the swap and never built again (nor on downgrade)."""
    old = "CREATE TABLE t (id int PRIMARY KEY, a int, code int);\nCREATE INDEX t_a ON t (a) INCLUDE (code);\n"
    report = _verify(tmp_path, old, old.replace("code int", "code bigint"), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


def test_a_serial_column_outside_the_key_widens_with_its_sequence(tmp_path: Path, engine: sa.Engine):
    """serial -> bigserial outside the primary key: the revision said `TYPE bigserial` (a
    spelling CREATE accepts, ALTER does not) and failed where the naive ALTER works; the
    column's sequence becomes bigint too (or nextval would stop at 2^31 - 1), and back."""
    old = "CREATE TABLE t (id int PRIMARY KEY, s serial);\n"
    alembic = _plan(tmp_path, old, old.replace("serial", "bigserial"), engine.url)
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO t (id) SELECT g FROM generate_series(1, 10) g")
    r = _run(alembic, "upgrade", "head")
    assert r.returncode == 0, r.stderr[-2000:]
    seq_type = "SELECT data_type FROM information_schema.sequences WHERE sequence_name = 't_s_seq'"
    with engine.connect() as c:
        assert c.exec_driver_sql(seq_type).scalar() == "bigint"
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 't' "
                                 "AND column_name = 's'").scalar() == "bigint"
        assert c.exec_driver_sql("SELECT sum(s) FROM t").scalar() == 55
    r = _run(alembic, "downgrade", "base")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(seq_type).scalar() == "integer"


def test_fraction_rounding_across_time_zone_kinds_is_backed_up(tmp_path: Path, pg_url: str):
    """timestamp(6) -> timestamptz(3) rounds the microseconds like timestamp(6) -> timestamp(3)
    does: it is lossy (DS103), so the values are backed up and the downgrade restores them
    (here in place, a comment keeps the column from the swap)."""
    assert lossy("timestamp", "timestamptz(3)") and lossy("timestamptz(6)", "timestamp(3)") is not None
    assert lossy("timestamp(3)", "timestamptz(3)") is None and lossy("timestamp", "timestamptz") is None
    old = "CREATE TABLE t (id int PRIMARY KEY, ts timestamp(6));\nCOMMENT ON COLUMN t.ts IS 'event time';\n"
    report = _verify(tmp_path, old, old.replace("timestamp(6)", "timestamptz(3)"), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


@pytest.mark.parametrize("comment", [False, True], ids=["swap", "in-place"])
def test_the_downgrade_restores_a_value_rounding_pushed_past_the_old_range(tmp_path: Path, engine: sa.Engine,
                                                                            comment: bool):
    """numeric(6,4) -> numeric(6,2) rounds 99.9999 to 100.00, which numeric(6,4) cannot hold:
    the swap's downgrade guard refused it as "written since the swap", though the row was not
    touched and its backup holds 99.9999; in place (a comment keeps the column from the swap)
    the downgrade's ALTER failed on it. Rows unchanged since the upgrade come from the backup
    and are not tested; a row the application changed to such a value still stops it."""
    old = "CREATE TABLE t (id int PRIMARY KEY, price numeric(6,4));\n"
    if comment:
        old += "COMMENT ON COLUMN t.price IS 'p';\n"
    alembic = _plan(tmp_path, old, old.replace("(6,4)", "(6,2)"), engine.url)
    with engine.connect() as c:
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO t VALUES (1, 99.9999), (2, 1.2345), (3, NULL)")
    r = _run(alembic, "upgrade", "head")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert [str(v) for (v,) in c.exec_driver_sql("SELECT price FROM t ORDER BY id")] == ["100.00", "1.23", "None"]
        c.exec_driver_sql("INSERT INTO t VALUES (4, 100.00)")  # written after the swap: cannot go back
    r = _run(alembic, "downgrade", "base")
    assert r.returncode != 0 and "1 values of t.price do not convert" in r.stderr, r.stderr[-2000:]
    with engine.connect() as c:
        c.exec_driver_sql("DELETE FROM t WHERE id = 4")
    r = _run(alembic, "downgrade", "base")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert [str(v) for (v,) in c.exec_driver_sql("SELECT price FROM t ORDER BY id")] == \
            ["99.9999", "1.2345", "None"]


def test_trailing_spaces_are_cut_as_the_naive_alter_cuts_them(tmp_path: Path, engine: sa.Engine):
    """varchar(10) -> varchar(5): PostgreSQL stores a longer value when the excess is only
    spaces (it cuts them), so the naive ALTER succeeds on 'ab      '. The plan's guard counted
    the spaces and refused it, and a value the old application wrote during the window ('q'
    and six spaces, cut by the trigger) made the contract's agreement check fail on every run.
    Now the plan leaves exactly what the naive ALTER leaves; a value with more than 5
    characters before its spaces still stops it, as the naive ALTER fails on it."""
    old = "CREATE TABLE t (id int PRIMARY KEY, code varchar(10));\n"
    alembic = _plan(tmp_path, old, old.replace("(10)", "(5)"), engine.url)
    rows = "INSERT INTO t VALUES (1, 'ab      '), (2, 'abcde     '), (3, NULL), (4, 'x')"
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql(rows)
        c.exec_driver_sql("CREATE TABLE naive (id int PRIMARY KEY, code varchar(10))")
        c.exec_driver_sql(rows.replace("INTO t", "INTO naive"))
        c.exec_driver_sql("ALTER TABLE naive ALTER COLUMN code TYPE varchar(5)")
    r = _run(alembic, "upgrade", "+1")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:  # the old application writes during the window
        c.exec_driver_sql("INSERT INTO t VALUES (5, 'q      ')")
        c.exec_driver_sql("INSERT INTO naive VALUES (5, 'q      ')")
    r = _run(alembic, "upgrade", "head")
    assert r.returncode == 0, r.stderr[-2000:]
    compare = "SELECT id, code, octet_length(code) FROM {} ORDER BY id"
    with engine.connect() as c:
        assert c.exec_driver_sql(compare.format("t")).all() == c.exec_driver_sql(compare.format("naive")).all()
    r = _run(alembic, "downgrade", "base")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        got = c.exec_driver_sql("SELECT id, code FROM t ORDER BY id").all()
        assert [tuple(x) for x in got] == [(1, "ab      "), (2, "abcde     "), (3, None), (4, "x"), (5, "q      ")]
        c.exec_driver_sql("UPDATE t SET code = 'abcdef  ' WHERE id = 4")
    r = _run(alembic, "upgrade", "head")
    assert r.returncode != 0 and "planner guard failed" in r.stderr, r.stderr[-2000:]


def test_verify_writes_a_json_value_back_as_json(tmp_path: Path, pg_url: str):
    """text -> jsonb by a rule (`to_jsonb(prompt)`): verify's NEW application wrote the value it
    read back from jsonb (a Python str) as text, which jsonb refused ("invalid input syntax
    for type json"), failing a correct plan. It is bound as the new column's type now."""
    from planner.config import load_config
    from planner.pipeline import analyze
    from planner.verify.harness import verify

    old = "CREATE TABLE prompts (id int PRIMARY KEY, prompt text NOT NULL);\n"
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(old.replace("prompt text", "prompt jsonb"))
    (tmp_path / "planner.toml").write_text(
        '[convert]\n"prompts.prompt" = { using = "to_jsonb(prompt)", inverse = "prompt #>> \'{}\'" }\n')
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=tmp_path), dialect="postgresql", renames=[])
    report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


def test_the_backfill_downgrade_keeps_a_value_the_application_wrote_meanwhile(tmp_path: Path,
                                                                              engine: sa.Engine):
    """SET NOT NULL with a configured backfill: an application transaction sets the NULL
    nickname of row 1 while the backfill runs (it commits after the backfill's batch reached
    that row, so the batch leaves it). The backup used to learn what the backfill wrote from a
    snapshot of the rows after it, which took the application's value for the fill, and the
    downgrade put NULL back over it. Each batch now records what it wrote itself."""
    import threading
    import time

    old = "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, nickname text);\n"
    (tmp_path / "planner.toml").write_text('[backfill]\n"users.nickname" = "split_part(email, \'@\', 1)"\n')
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(old.replace("nickname text)", "nickname text NOT NULL)"))
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the config file is found from there
    try:
        r = CliRunner().invoke(app, ["plan", "old.sql", "new.sql", "--init", "p", "--rev-id-seed", "t", "-q"])
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    db = sa.make_url(engine.url).render_as_string(hide_password=False)
    alembic = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={db}"]
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' || g || '@x.org', CASE WHEN mod(g, 2) = 0 THEN 'n' || g END "
                          "FROM generate_series(1, 1000) g")
    started = threading.Event()

    def app_write() -> None:
        with engine.connect() as c:
            c.exec_driver_sql("BEGIN")
            c.exec_driver_sql("UPDATE users SET nickname = 'set-by-app' WHERE id = 1")
            started.set()
            time.sleep(0.7)
            c.exec_driver_sql("COMMIT")

    writer = threading.Thread(target=app_write)
    writer.start()
    assert started.wait(10)
    r = _run(alembic, "upgrade", "head")
    writer.join()
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT nickname FROM users WHERE id = 1").scalar() == "set-by-app"
        assert c.exec_driver_sql("SELECT nickname FROM users WHERE id = 3").scalar() == "u3"
    r = _run(alembic, "downgrade", "base")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT nickname FROM users WHERE id = 1").scalar() == "set-by-app"
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE nickname IS NULL").scalar() == 499
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE nickname = 'n' || id").scalar() == 500


def test_a_renamed_tables_enum_column_is_swapped_after_its_view_goes(tmp_path: Path, pg_url: str):
    """A table rename leaves a view under the old name (`SELECT *`) until contract; an enum
    reorder swaps the table's enum column in contract (R8), whose DROP COLUMN failed on that
    view ("view orgs depends on column p"). The view is dropped first in contract now."""
    from planner.config import load_config
    from planner.pipeline import analyze
    from planner.verify.harness import verify

    old = ("CREATE TYPE prio AS ENUM ('low', 'high', 'mid');\n"
           "CREATE TABLE orgs (id bigserial PRIMARY KEY, title text NOT NULL, p prio NOT NULL DEFAULT 'low');\n")
    new = old.replace("'low', 'high', 'mid'", "'low', 'mid', 'high'").replace("TABLE orgs", "TABLE organizations")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=load_config(None, cwd=tmp_path),
                       dialect="postgresql", renames=["orgs=organizations"])
    report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


def test_old_keeps_writing_nulls_after_a_not_null_backfill(tmp_path: Path, engine: sa.Engine):
    """SET NOT NULL with a configured backfill: the backfill revision's docstring lets OLD run
    after it, but OLD (which wrote the column nullable) had its NULL writes refused by the NOT
    VALID check, and a NULL written during the backfill made the contract's VALIDATE fail. A
    trigger now gives a NULL write the backfill's value from the backfill on (dropped once the
    column is NOT NULL), and the downgrade gives those rows their NULL back."""
    old = "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, nickname text);\n"
    (tmp_path / "planner.toml").write_text('[backfill]\n"users.nickname" = "split_part(email, \'@\', 1)"\n')
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(old.replace("nickname text)", "nickname text NOT NULL)"))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = CliRunner().invoke(app, ["plan", "old.sql", "new.sql", "--init", "p", "--rev-id-seed", "t", "-q"])
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    backfill = next((tmp_path / "p" / "migrations" / "versions").glob("*_backfill_*.py")).read_text()
    assert "after it: OLD and NEW" in backfill
    db = sa.make_url(engine.url).render_as_string(hide_password=False)
    alembic = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={db}"]
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' || g || '@x.org', NULL FROM generate_series(1, 100) g")
        c.exec_driver_sql("INSERT INTO users VALUES (500, 'kept@x.org', 'kept')")
    r = _run(alembic, "upgrade", "+1")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:  # OLD writes NULL after the backfill: filled, not refused
        c.exec_driver_sql("INSERT INTO users (id, email) VALUES (101, 'late@x.org')")
        c.exec_driver_sql("UPDATE users SET nickname = NULL WHERE id = 500")
        got = c.exec_driver_sql("SELECT id, nickname FROM users WHERE id IN (101, 500) ORDER BY id").all()
        assert [tuple(x) for x in got] == [(101, "late"), (500, "kept")]
    r = _run(alembic, "upgrade", "head")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE strpos(tgname, 'planner_fill') > 0").scalar() == 0
    r = _run(alembic, "downgrade", "base")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:  # every NULL as written comes back, the rest stays
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE nickname IS NULL").scalar() == 102
        assert c.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE strpos(tgname, 'planner_fill') > 0").scalar() == 0


def test_an_enum_value_rename_with_a_removal_of_the_same_enum_is_refused(tmp_path: Path):
    """Renaming a value and removing another of the same enum in one plan made a plan whose
    upgrade stopped on rows holding the renamed value and whose downgrade could not run (the
    recreated type held both names): refused at plan time, with what to do instead."""
    old = ("CREATE TYPE status AS ENUM ('draft', 'active', 'archived', 'legacy');\n"
           "CREATE TABLE users (id bigserial PRIMARY KEY, status status NOT NULL DEFAULT 'draft');\n")
    new = old.replace("'draft', 'active', 'archived', 'legacy'", "'draft', 'live', 'archived'")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "-q", "--rename", "status.active=live"])
    assert r.exit_code == 2, r.output
    assert "renaming value 'active' of enum status in the same plan as removing or reordering" in r.output
    assert "Traceback" not in r.output


def test_a_column_with_a_unique_constraint_widens_online(tmp_path: Path, engine: sa.Engine):
    """`user_id int UNIQUE` (SQLAlchemy's `unique=True`, a one-to-one key) -> bigint was
    converted in place, a rewrite under ACCESS EXCLUSIVE: R8 did not rebuild a UNIQUE
    constraint. Its index is now built concurrently on the new column and the constraint added
    again on it at the swap (`USING INDEX`: no build under the lock), keeping its name and its
    comment; uniqueness holds in every phase, both ways, and a second upgrade after the
    downgrade finds the backfill revision's copy built again."""
    old = ("CREATE TABLE profiles (id int PRIMARY KEY, user_id int NOT NULL CONSTRAINT profiles_user_key UNIQUE, "
           "bio text);\n")
    alembic = _plan(tmp_path, old, old.replace("user_id int", "user_id bigint"), engine.url)
    revisions = "".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert "ALTER COLUMN user_id TYPE" not in revisions.replace('"', "")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO profiles SELECT g, g * 2, 'b' FROM generate_series(1, 5000) g")
        c.exec_driver_sql("COMMENT ON CONSTRAINT profiles_user_key ON profiles IS 'one per user'")
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('profiles')").scalar()
    key = ("SELECT conname, pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint') FROM pg_constraint "
           "WHERE conrelid = 'profiles'::regclass AND contype = 'u'")
    expected = [("profiles_user_key", "UNIQUE (user_id)", "one per user")]
    n = 10_000

    def duplicate_refused() -> None:
        nonlocal n
        n += 1
        with engine.connect() as c:
            with pytest.raises(sa.exc.IntegrityError):
                c.exec_driver_sql(f"INSERT INTO profiles (id, user_id) VALUES ({n}, 2)")

    for step in ("+1", "+1", "+1"):
        r = _run(alembic, "upgrade", step)
        assert r.returncode == 0, r.stderr[-2000:]
        duplicate_refused()
    with engine.connect() as c:
        assert c.exec_driver_sql(key).all() == expected
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'profiles' "
                                 "AND column_name = 'user_id'").scalar() == "bigint"
        assert c.exec_driver_sql("SELECT pg_relation_filenode('profiles')").scalar() == filenode
        assert c.exec_driver_sql("SELECT count(*) FROM pg_index WHERE indrelid = 'profiles'::regclass").scalar() == 2
    r = _run(alembic, "downgrade", "-1")
    assert r.returncode == 0, r.stderr[-2000:]
    duplicate_refused()
    with engine.connect() as c:
        assert c.exec_driver_sql(key).all() == expected
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'profiles' "
                                 "AND column_name = 'user_id'").scalar() == "integer"
        # the backfill revision's state again: the copy on the new column, valid, not a constraint
        assert c.exec_driver_sql("SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = "
                                 "'profiles_user_key__planner_new'::regclass").one() == (True, True)
    for args in (("upgrade", "head"), ("downgrade", "base")):
        r = _run(alembic, *args)
        assert r.returncode == 0, r.stderr[-2000:]
        duplicate_refused()
    with engine.connect() as c:
        assert c.exec_driver_sql(key).all() == expected
        assert c.exec_driver_sql("SELECT count(*) FROM pg_index WHERE indrelid = 'profiles'::regclass").scalar() == 2
        assert c.exec_driver_sql("SELECT count(*) FROM profiles WHERE user_id = id * 2").scalar() == 5000


@pytest.mark.parametrize(("edit", "refused"), [
    (("numeric(10,4)", "numeric(12,2)"), "digits after the 2th decimal place are rounded away"),
    (("at timestamp", "at timestamp(0)"), "fractional seconds beyond 0 digits are rounded"),
    (("varchar(10)", "varchar(5)"), None),  # values that do not fit stop it; the others convert back as they were
    (("n int", "n bigint"), None),  # converts back exactly: R8 by pages
])
def test_a_table_without_a_key_is_not_rounded_for_good(tmp_path: Path, pg_url: str, edit: tuple[str, str],
                                                       refused: str | None):
    """On a table without a primary key, a conversion that changes values it keeps (numeric
    scale cut, timestamp precision cut) ran in place without a backup (nothing to match one
    back by), so the downgrade silently left the rounded values: verify found `data not
    restored`. The plan now stops in one line, as a dropped column of such a table does; a
    conversion that only refuses what does not fit, or converts back exactly, still plans and
    verify proves it."""
    old = "CREATE TABLE meas (n int, at timestamp, amount numeric(10,4), label varchar(10));\n"
    new = old.replace(*edit)
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                 "--init", str(tmp_path / "p")])
    if refused:
        assert r.exit_code == 2, r.output
        assert f"meas has no primary key, so the values this conversion changes ({refused})" in r.output
        assert "Traceback" not in r.output
        return
    assert r.exit_code == 0, r.output
    if "varchar" in edit[0]:  # (verify's seed holds longer values: the guard stops it, as it should)
        return
    (tmp_path / "v").mkdir()
    report = _verify(tmp_path / "v", old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


def test_a_column_a_generated_column_reads_is_refused_in_one_line(tmp_path: Path):
    """PostgreSQL refuses to change the type of a column a stored generated column reads
    (`cannot alter type of a column used by a generated column`): the plan (R8, whose swap
    drops the old column) failed at `upgrade` as the naive ALTER does. It now stops with one
    line that names the generated column; another column of the table still plans."""
    old = "CREATE TABLE gv (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED, c int);\n"
    (tmp_path / "old.sql").write_text(old)
    for edit, code in ((("a int", "a bigint"), 2), (("c int", "c bigint"), 0)):
        (tmp_path / "new.sql").write_text(old.replace(*edit))
        r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                     "--init", str(tmp_path / f"p{code}")])
        assert r.exit_code == code, r.output
    (tmp_path / "new.sql").write_text(old.replace("a int", "a bigint"))
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                 "--init", str(tmp_path / "r")])
    assert "error: alter_column_type:gv.a: PostgreSQL cannot change the type of gv.a: generated column b reads it " \
           "(GENERATED ALWAYS AS (a * 2))" in r.output, r.output
    assert "Traceback" not in r.output


VIEWS_OLD = """CREATE SCHEMA rep;
CREATE TABLE orders (id int PRIMARY KEY, amount int, "Total Due" int CHECK ("Total Due" >= 0), note text);
CREATE VIEW big_orders WITH (security_barrier) AS SELECT id, amount FROM orders WHERE amount > 100
    WITH LOCAL CHECK OPTION;
CREATE VIEW rep."Order Sums" AS SELECT sum(amount) AS s, sum("Total Due") AS d FROM orders;
CREATE VIEW rep.top AS SELECT id FROM big_orders WHERE amount > 1000;
"""


def test_views_that_read_a_converted_column_are_kept(tmp_path: Path, engine: sa.Engine):
    """PostgreSQL refuses to change the type of a column a view reads (`cannot alter type of a
    column used by a view or rule`): every plan of such a change failed at `upgrade` (in place
    or at R8's swap), and verify passed it (it built no views). verify now builds OLD's views,
    and the plan drops the views that read the column (and the views on those) in the step's
    own transaction and creates them again after it as they were: options, owner, comments and
    grants; R8 swaps the column online, the in-place path (a CHECK uses `Total Due`) works as
    a user's hand-written migration would."""
    new = VIEWS_OLD.replace("amount int", "amount bigint").replace('"Total Due" int', '"Total Due" bigint')
    (tmp_path / "v").mkdir()
    report = _verify(tmp_path / "v", VIEWS_OLD, new, str(engine.url))
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)
    alembic = _plan(tmp_path, VIEWS_OLD, new, engine.url)
    revisions = "".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert "swap orders.amount__planner_new in as amount" in revisions and "a view may use it" not in revisions
    with engine.connect() as c:
        c.exec_driver_sql(VIEWS_OLD)
        c.exec_driver_sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'planner_reporter') "
                          "THEN CREATE ROLE planner_reporter; END IF; END $$")
        c.exec_driver_sql("GRANT SELECT ON big_orders, rep.\"Order Sums\" TO planner_reporter")
        c.exec_driver_sql("GRANT SELECT (id) ON rep.top TO planner_reporter")
        c.exec_driver_sql("ALTER VIEW big_orders ALTER COLUMN amount SET DEFAULT 5")
        c.exec_driver_sql("COMMENT ON VIEW big_orders IS 'big'")
        c.exec_driver_sql("COMMENT ON COLUMN big_orders.amount IS 'amount'")
        c.exec_driver_sql("INSERT INTO orders SELECT g, g * 10, g, 'n' FROM generate_series(1, 500) g")
    kept = ("SELECT obj_description('big_orders'::regclass), col_description('big_orders'::regclass, 2), "
            "(SELECT reloptions FROM pg_class WHERE oid = 'big_orders'::regclass), "
            "has_table_privilege('planner_reporter', 'big_orders', 'SELECT'), "
            "has_table_privilege('planner_reporter', 'rep.\"Order Sums\"', 'SELECT'), "
            "(SELECT count(*) FROM rep.top), (SELECT d FROM rep.\"Order Sums\"), "
            "has_column_privilege('planner_reporter', 'rep.top', 'id', 'SELECT'), "
            "(SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'big_orders'::regclass)")
    types = ("SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ', ' ORDER BY 1) FROM "
             "information_schema.columns WHERE column_name IN ('amount', 's', 'd')")
    expected = ("big", "amount", ["security_barrier=true", "check_option=local"], True, True, 400, 125250, True, "5")
    try:
        for args, kind in ((("upgrade", "head"), "bigint"), (("downgrade", "base"), "integer")):
            r = _run(alembic, *args)
            assert r.returncode == 0, r.stderr[-2000:]
            with engine.connect() as c:
                assert c.exec_driver_sql(kept).one() == expected
                assert kind in c.exec_driver_sql(types).scalar()
    finally:
        with engine.connect() as c:
            c.exec_driver_sql("DROP SCHEMA rep CASCADE; DROP TABLE orders CASCADE; DROP ROLE planner_reporter")


def test_a_materialized_view_on_a_converted_column_stops_the_plan_first(tmp_path: Path, pg_url: str):
    """A materialized view cannot be dropped and created again without losing its rows: the
    plan stops in its first revision, before any DDL, saying so."""
    old = "CREATE TABLE t (id int PRIMARY KEY, v int);\nCREATE MATERIALIZED VIEW mv AS SELECT id, v FROM t;\n"
    with pytest.raises(Exception, match=r'upgrade \+1 stopped: planner: mv, a materialized view, reads v of "t": '
                                        r"dropped and created again it would lose its rows"):
        report = _verify(tmp_path, old, old.replace("v int", "v bigint"), pg_url)
        assert not report.ok


def test_views_that_read_a_recreated_enum_column_are_kept(tmp_path: Path, pg_url: str):
    """An enum recreated (values reordered) whose columns views read: the in-place `ALTER ...
    TYPE` failed (`cannot alter type of a column used by a view`). The views now go before it
    and come back after the new type has taken the name (their `'c'::st` literals name it);
    a column a view may read is converted in place rather than swapped (created again at the
    swap, the literal would name the old type: `operator does not exist: st__planner_new <> st`)."""
    old = ("CREATE TYPE st AS ENUM ('a', 'b', 'c');\nCREATE TABLE t (id int PRIMARY KEY, s st, n int);\n"
           "CREATE TABLE u (s st, note text);\nCREATE VIEW vt AS SELECT id, s FROM t WHERE s <> 'c';\n"
           "CREATE VIEW vu AS SELECT s, count(*) AS k FROM u GROUP BY s;\n")
    report = _verify(tmp_path, old, old.replace("('a', 'b', 'c')", "('c', 'b', 'a')"), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


def test_a_renamed_column_a_view_reads_is_renamed_in_place(tmp_path: Path):
    """A column rename goes by copy (expand adds the new column, contract drops the old one),
    and a view reading the old column would block that drop: such a rename stays in place
    (RENAME COLUMN, which the view follows), PostgreSQL included."""
    old = "CREATE TABLE t (id int PRIMARY KEY, v int);\nCREATE VIEW vt AS SELECT id, v FROM t;\n"
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(old.replace("v int", "w int").replace("id, v", "id, w"))
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--rename", "t.v=w",
                                 "--init", str(tmp_path / "p"), "-q"])
    assert r.exit_code == 0, r.output
    revisions = "".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert "rename column t.v to w in place (a view may use it)" in revisions


def test_a_view_whose_row_type_a_function_uses_stops_the_plan_first(tmp_path: Path, engine: sa.Engine):
    """A view whose row type a function returns cannot be dropped (`function ... depends on type
    ...`): the swap failed in contract, after expand and backfill were committed. The plan now
    stops in its first revision, before any DDL, saying so."""
    old = "CREATE TABLE t (id int PRIMARY KEY, v int);\nCREATE VIEW tv AS SELECT id, v FROM t;\n"
    alembic = _plan(tmp_path, old, old.replace("v int", "v bigint"), engine.url)
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("CREATE FUNCTION big_tv() RETURNS SETOF tv LANGUAGE sql AS 'SELECT * FROM tv'")
    try:
        r = _run(alembic, "upgrade", "head")
        assert r.returncode != 0
        assert 'planner: tv, a view, reads v of "t": functions or types use its row type, so it cannot be ' \
               "dropped" in r.stderr, r.stderr[-2000:]
        with engine.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'").scalar() \
                == 2
    finally:
        with engine.connect() as c:
            c.exec_driver_sql("DROP TABLE t CASCADE")


def test_a_materialized_view_on_a_column_converted_in_place_stops_the_first_revision(tmp_path: Path,
                                                                                   engine: sa.Engine):
    """A column converted in place (a CHECK uses it) that a materialized view reads: the stop
    came in contract, after expand and backfill (another column's R8 shadow column and batches)
    were committed. It comes in the first revision now, before any DDL."""
    old = ("CREATE TABLE t (id int PRIMARY KEY, qty int CHECK (qty >= 0), v int);\n"
           "CREATE MATERIALIZED VIEW mq AS SELECT id, qty FROM t;\n")
    alembic = _plan(tmp_path, old, old.replace("qty int", "qty bigint").replace(" v int", " v bigint"), engine.url)
    with engine.connect() as c:
        c.exec_driver_sql(old)
    try:
        r = _run(alembic, "upgrade", "head")
        assert r.returncode != 0 and 'planner: mq, a materialized view, reads qty of "t"' in r.stderr, r.stderr[-2000:]
        with engine.connect() as c:  # nothing done: no shadow column, no revision stamped
            assert c.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'").scalar() \
                == 3
            assert c.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is None  # rolled back
    finally:
        with engine.connect() as c:
            c.exec_driver_sql("DROP TABLE t CASCADE")


GENERATED = "CREATE TABLE t (id int PRIMARY KEY, a int, g {} GENERATED ALWAYS AS (a * 2) STORED);\n"


@pytest.mark.postgres
@pytest.mark.parametrize(("old", "new"), [("int", "bigint"), ("bigint", "int"), ("numeric(10,2)", "int"),
                                         ("int", "numeric(10,2)")])
def test_a_generated_columns_type_changes_as_the_naive_alter(tmp_path: Path, pg_url: str, old: str, new: str):
    """A stored generated column takes no USING (`cannot specify USING when altering type of
    generated column`: the upgrade stopped where the naive ALTER succeeds) and no backup (its
    values are computed again; the restore's `UPDATE ... SET g` failed: `can only be updated to
    DEFAULT`)."""
    report = _verify(tmp_path, GENERATED.format(old), GENERATED.format(new), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


@pytest.mark.postgres
def test_an_integer_array_widening_goes_back_and_stops_on_an_element_too_big(tmp_path: Path, pg_url: str):
    """int[] -> bigint[]: the way back's range guard compared the array with the bounds
    (`operator does not exist: bigint[] < integer`: no downgrade at all); it tests each element,
    and stops in one line on one that int cannot hold."""
    old = "CREATE TABLE t (id int PRIMARY KEY, a int[]);\n"
    new = "CREATE TABLE t (id int PRIMARY KEY, a bigint[]);\n"
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO t VALUES (1, '{1,2}'), (2, NULL)")
    alembic = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={pg_url}"]
    assert subprocess.run([*alembic, "upgrade", "head"], capture_output=True, text=True).returncode == 0
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO t VALUES (3, '{1,10000000000}')")
    down = subprocess.run([*alembic, "downgrade", "base"], capture_output=True, text=True)
    engine.dispose()
    assert down.returncode != 0
    assert "planner guard failed: values of t.a do not fit" in down.stderr, down.stderr[-1500:]


@pytest.mark.postgres
def test_a_remap_that_cannot_move_rows_says_why(tmp_path: Path, pg_url: str):
    """A configured enum remap moves no row of a table without a primary key (the downgrade
    could not give them back): the guard said "remap them first" although a remap was
    configured; it says why that remap does not apply there and what to do."""
    old = "CREATE TYPE st AS ENUM ('new', 'old', 'done');\nCREATE TABLE logt (s st, note text);\n"
    new = old.replace("'new', 'old', 'done'", "'new', 'done'")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    (tmp_path / "planner.toml").write_text('[enum_remap]\n"st.old" = "done"\n')
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "-q", "--config", str(tmp_path / "planner.toml")])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO logt VALUES ('old', 'x')")
    engine.dispose()
    up = subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x",
                         f"db={pg_url}", "upgrade", "head"], capture_output=True, text=True)
    assert up.returncode != 0
    assert "the configured remap moves no row of logt, which has no primary key" in up.stderr, up.stderr[-1500:]
