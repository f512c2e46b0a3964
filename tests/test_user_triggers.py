"""The table's own triggers (an `updated_at` stamp, an audit row per update) and planner's
batches. A plain `ALTER COLUMN ... TYPE`, a rename or a restore fires none of them; the batches
that stand for such DDL rewrite every row by UPDATE, which fired them all: every row's
`updated_at` became the migration's time and the audit table got one row per row, on the
way there and again on the way back, silently. They run with session_replication_role =
replica now where the role may set it; where it may not, the batches stop in one line
(unless -x backfill_triggers=fire). A stated backfill (an UPDATE the user would write) fires
them, as that UPDATE would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.postgres

OLD = "CREATE TABLE t (id int PRIMARY KEY, a int, n int, updated_at timestamptz NOT NULL DEFAULT '2001-01-01');\n"
NEW = "CREATE TABLE t (id int PRIMARY KEY, a bigint, n int, updated_at timestamptz NOT NULL DEFAULT '2001-01-01');\n"
TRIGGERS = """
CREATE TABLE audit (k serial PRIMARY KEY, op text, row_id int);
CREATE FUNCTION t_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER t_stamp BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_stamp();
CREATE FUNCTION t_audit() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO audit (op, row_id) VALUES (TG_OP, NEW.id); RETURN NULL; END $$;
CREATE TRIGGER t_audit AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_audit();
"""


def _project(tmp_path: Path, old: str, new: str, *options: str) -> Path:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q", *options])
    assert r.exit_code == 0, r.output
    return tmp_path / "p" / "alembic.ini"


def _alembic(ini: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={url}", *args],
                          capture_output=True, text=True, timeout=300)


def _seed(url: str, old: str) -> sa.Engine:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO t (id, a, n) SELECT g, g, NULL FROM generate_series(1, 2000) g")
        c.exec_driver_sql(TRIGGERS)
    return engine


def _untouched(engine: sa.Engine) -> tuple:
    with engine.connect() as c:
        return (c.exec_driver_sql("SELECT count(*) FROM t WHERE updated_at <> '2001-01-01'").scalar(),
                c.exec_driver_sql("SELECT count(*) FROM audit").scalar())


@pytest.mark.parametrize("change", ["type", "rename", "drop", "enum"])
def test_batches_standing_for_ddl_fire_no_trigger_of_the_table(tmp_path: Path, pg_url: str, change: str):
    """A type change (R8), a column rename (expand/contract), a dropped column (restored on the
    way back), an enum value rename (remapped in batches): none fires the table's triggers,
    there or back."""
    old, options = OLD, ()
    if change == "type":
        new = NEW
    elif change == "rename":
        new, options = OLD.replace(" a int,", " b int,"), ("--rename", "t.a=b")
    elif change == "drop":
        new = OLD.replace(" a int,", "")
    else:
        old = "CREATE TYPE st AS ENUM ('x', 'y');\n" + OLD.replace(" n int,", " n int, s st DEFAULT 'x',")
        new, options = old.replace("'x', 'y'", "'z', 'y'").replace("DEFAULT 'x'", "DEFAULT 'z'"), ("--rename", "st.x=z")
    ini = _project(tmp_path, old, new, *options)
    engine = _seed(pg_url, old)
    up = _alembic(ini, pg_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr[-2000:]
    assert _untouched(engine) == (0, 0), up.stderr[-2000:]
    down = _alembic(ini, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    assert _untouched(engine) == (0, 0), down.stderr[-2000:]
    with engine.connect() as c:  # and the application's own updates still fire them
        c.exec_driver_sql("UPDATE t SET n = 1 WHERE id = 1")
    assert _untouched(engine) == (1, 1)
    engine.dispose()


def test_a_role_that_may_not_keep_them_quiet_stops_in_one_line(tmp_path: Path, pg_url: str):
    ini = _project(tmp_path, OLD, NEW)
    engine = _seed(pg_url, OLD)
    role = f"planner_t_{abs(hash(str(tmp_path))) % 10**8}"
    with engine.connect() as c:
        c.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        c.exec_driver_sql(f"ALTER TABLE t OWNER TO {role}")
        c.exec_driver_sql(f"GRANT ALL ON audit, audit_k_seq TO {role}")
        c.exec_driver_sql(f"GRANT CREATE ON SCHEMA public TO {role}")
        c.exec_driver_sql(f"GRANT CREATE ON DATABASE {sa.make_url(pg_url).database} TO {role}")
    url = sa.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    try:
        up = _alembic(ini, url, "upgrade", "head")
        assert up.returncode != 0
        assert "may not set session_replication_role" in up.stderr and "t_audit, t_stamp" in up.stderr, \
            up.stderr[-2000:]
        assert "Traceback" not in up.stderr.split("FAILED")[-1]
        assert _untouched(engine) == (0, 0)
        fired = _alembic(ini, url, "-x", "backfill_triggers=fire", "upgrade", "head")
        assert fired.returncode == 0, fired.stderr[-2000:]
        assert "fire for each row the batches rewrite" in fired.stderr
        assert _untouched(engine) == (2000, 2000)
    finally:
        with engine.connect() as c:
            c.exec_driver_sql(f"DROP OWNED BY {role} CASCADE")
            c.exec_driver_sql(f"DROP ROLE {role}")
        engine.dispose()


@pytest.mark.parametrize("swapped", [True, False])
def test_a_recreated_enum_keeps_its_owner_privileges_and_comment(tmp_path: Path, pg_url: str, swapped: bool):
    """Removing an enum value recreates the type: the new one was owned by the migration's role,
    with USAGE for PUBLIC again and no comment (a `pg_dump -s` diff against the naive migration,
    which keeps them on the type it alters), there and after the downgrade. It takes them from
    the type it replaces, both ways (R8-swapped columns and in-place ones)."""
    old = ("CREATE TYPE st AS ENUM ('new', 'old', 'done');\n"
           f"CREATE TABLE e (id int {'PRIMARY KEY' if swapped else ''}, s st, b text);\n")
    new = old.replace("'new', 'old', 'done'", "'new', 'done'")
    (tmp_path / "planner.toml").write_text('[enum_remap]\n"st.old" = "done"\n')
    ini = _project(tmp_path, old, new, "--config", str(tmp_path / "planner.toml"))
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    suffix = abs(hash(str(tmp_path))) % 10**8
    owner, reader = f"planner_o_{suffix}", f"planner_r_{suffix}"
    facts = ("SELECT pg_get_userbyid(typowner), typacl::text, obj_description(oid, 'pg_type') FROM pg_type "
             "WHERE oid = 'st'::regtype")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        # (a table without a key converts in place, and its rows hold no removed value: a remap
        # needs a key to walk)
        c.exec_driver_sql(f"INSERT INTO e VALUES (1, '{'old' if swapped else 'done'}', 'x'), (2, 'new', 'y')")
        for role in (owner, reader):
            c.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
            c.exec_driver_sql(f"CREATE ROLE {role}")
        c.exec_driver_sql(f"ALTER TYPE st OWNER TO {owner}")
        c.exec_driver_sql("REVOKE USAGE ON TYPE st FROM PUBLIC")
        c.exec_driver_sql(f"GRANT USAGE ON TYPE st TO {reader}")
        c.exec_driver_sql("COMMENT ON TYPE st IS 'status of an e'")
        before = c.exec_driver_sql(facts).one()
    try:
        up = _alembic(ini, pg_url, "upgrade", "head")
        assert up.returncode == 0, up.stderr[-2000:]
        with engine.connect() as c:
            assert c.exec_driver_sql(facts).one() == before
        down = _alembic(ini, pg_url, "downgrade", "base")
        assert down.returncode == 0, down.stderr[-2000:]
        with engine.connect() as c:
            assert c.exec_driver_sql(facts).one() == before
    finally:
        with engine.connect() as c:
            c.exec_driver_sql("DROP TABLE IF EXISTS e")
            c.exec_driver_sql("DROP TYPE IF EXISTS st CASCADE")
            c.exec_driver_sql("DROP SCHEMA IF EXISTS planner_backup CASCADE")
            for role in (owner, reader):
                c.exec_driver_sql(f"DROP OWNED BY {role} CASCADE")
                c.exec_driver_sql(f"DROP ROLE {role}")
        engine.dispose()
