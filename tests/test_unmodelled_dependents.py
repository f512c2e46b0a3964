"""What the schema model does not hold but hangs on a column: R8's swap and the rename by copy
drop the old column, and it went with it, silently, where the plain ALTER keeps it (an EXCLUDE
constraint, extended statistics, the replica identity index, the CLUSTER index, an index's
storage parameters), or the drop failed on it in contract after expand and backfill had run (a
policy, a trigger's column list). Found by comparing `pg_dump -s` of the plan's result with
the naive migration's. A guard now stops before any DDL, naming them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.postgres

# (an ordinary foreign key on the column too: the guard must read its catalog row as well)
BASE = ("CREATE TABLE o (id int PRIMARY KEY);\n"
        "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL REFERENCES o (id), b text);\n")
EXTRAS = {
    "statistics": "CREATE STATISTICS t_ab_stats (ndistinct) ON a, b FROM t;",
    "replica identity": "CREATE UNIQUE INDEX t_a_uidx ON t (a); ALTER TABLE t REPLICA IDENTITY USING INDEX t_a_uidx;",
    "cluster": "CREATE INDEX t_a_b ON t (a, b); ALTER TABLE t CLUSTER ON t_a_b;",
    "fillfactor": "CREATE INDEX t_a_idx ON t (a) WITH (fillfactor = 70);",
    "policy": "ALTER TABLE t ENABLE ROW LEVEL SECURITY; CREATE POLICY t_pos ON t USING (a >= 0);",
    "trigger": "CREATE FUNCTION t_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
               " CREATE TRIGGER t_tr BEFORE UPDATE OF a ON t FOR EACH ROW EXECUTE FUNCTION t_f();",
    "exclude": "ALTER TABLE t ADD CONSTRAINT t_a_excl EXCLUDE USING btree (a WITH =);",
    "set null columns": "CREATE TABLE p (k int, a int, PRIMARY KEY (k, a)); ALTER TABLE t ADD CONSTRAINT t_p_fk "
                        "FOREIGN KEY (id, a) REFERENCES p (k, a) ON DELETE SET NULL (a) NOT VALID;",
}
NAMES = {"statistics": "t_ab_stats", "replica identity": "t_a_uidx", "cluster": "t_a_b", "fillfactor": "t_a_idx",
         "policy": "t_pos", "trigger": "t_tr", "exclude": "t_a_excl",
         "set null columns": "t_p_fk"}


def _run(tmp_path: Path, url: str, extra: str, new: str, *options: str) -> tuple[subprocess.CompletedProcess, str]:
    old = BASE
    indexes = {"fillfactor": "CREATE INDEX t_a_idx ON t (a);\n", "cluster": "CREATE INDEX t_a_b ON t (a, b);\n",
               "replica identity": "CREATE UNIQUE INDEX t_a_uidx ON t (a);\n"}.get(extra, "")
    (tmp_path / "old.sql").write_text(old + indexes)
    (tmp_path / "new.sql").write_text(new + indexes.replace("(a", "(a2" if options else "(a"))
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q", *options])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO o SELECT g FROM generate_series(0, 100) g")
        c.exec_driver_sql("INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 100) g")
        c.exec_driver_sql(EXTRAS[extra])
        before = c.exec_driver_sql("SELECT string_agg(attname || ':' || atttypid::regtype::text, ',' ORDER BY "
                                   "attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 "
                                   "AND NOT attisdropped").scalar()
    up = subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x",
                         f"db={url}", "upgrade", "head"], capture_output=True, text=True, timeout=300)
    with engine.connect() as c:
        after = c.exec_driver_sql("SELECT string_agg(attname || ':' || atttypid::regtype::text, ',' ORDER BY "
                                  "attnum) FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 "
                                  "AND NOT attisdropped").scalar()
    engine.dispose()
    assert after == before, "DDL ran before the guard stopped it"
    return up, NAMES[extra]


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_a_type_swap_stops_before_losing_what_the_model_does_not_hold(tmp_path: Path, pg_url: str, extra: str):
    up, name = _run(tmp_path, pg_url, extra, BASE.replace("a int", "a bigint"))
    assert up.returncode != 0
    assert "carries what R8's swap would drop with the old column" in up.stderr, up.stderr[-2000:]
    assert name in up.stderr and "no DDL was run" in up.stderr, up.stderr[-2000:]


@pytest.mark.parametrize("extra", ["statistics", "policy", "trigger", "fillfactor"])
def test_a_rename_by_copy_stops_before_losing_what_the_model_does_not_hold(tmp_path: Path, pg_url: str,
                                                                           extra: str):
    up, name = _run(tmp_path, pg_url, extra, BASE.replace("a int", "a2 int"), "--rename", "t.a=a2")
    assert up.returncode != 0
    assert "carries what the rename by copy would drop" in up.stderr and name in up.stderr, up.stderr[-2000:]
    assert "renames_in_place" in up.stderr


def test_rows_a_not_valid_check_lets_stand_stop_the_swap_before_any_ddl(tmp_path: Path, pg_url: str):
    """A NOT VALID CHECK on another column with rows that break it: the backfill's UPDATE of
    those rows checks it again and failed after expand had run (the plain ALTER does not check
    it). The guard finds them first."""
    EXTRAS["not valid"] = "INSERT INTO t VALUES (0, 0, 'bad'); ALTER TABLE t ADD CONSTRAINT t_b_ok " \
                          "CHECK (b <> 'bad') NOT VALID;"
    NAMES["not valid"] = "t_b_ok"
    try:
        up, name = _run(tmp_path, pg_url, "not valid", BASE.replace("a int", "a bigint"))
    finally:
        del EXTRAS["not valid"], NAMES["not valid"]
    assert up.returncode != 0
    assert f"break its NOT VALID check {name}" in up.stderr and "no DDL was run" in up.stderr, up.stderr[-2000:]


@pytest.mark.parametrize("change", ["rename", "drop"])
def test_a_renamed_or_dropped_column_keeps_its_settings_both_ways(tmp_path: Path, pg_url: str, change: str):
    """The renamed column kept none of the old one's statistics target, n_distinct, column
    privileges, STORAGE or COMPRESSION (a plain RENAME keeps them all), nor did the old one on
    the way back; a dropped column came back on downgrade without any of them. The backup's
    column keeps them while the column is gone."""
    old = BASE
    new = BASE.replace("b text", "b2 text") if change == "rename" else BASE.replace(", b text", "")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "-q", *(["--rename", "t.b=b2"] if change == "rename" else [])])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    facts = ("SELECT attname, attstattarget, ARRAY(SELECT o FROM unnest(attoptions) o WHERE o ~ '^n_distinct')"
             "::text, attacl::text, attstorage, attcompression FROM pg_attribute "
             "WHERE attrelid = 't'::regclass AND attname IN ('b', 'b2') AND NOT attisdropped")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO o SELECT g FROM generate_series(0, 100) g")
        c.exec_driver_sql("INSERT INTO t SELECT g, g, repeat('x', g) FROM generate_series(1, 50) g")
        c.exec_driver_sql("ALTER TABLE t ALTER COLUMN b SET STATISTICS 500")
        c.exec_driver_sql("ALTER TABLE t ALTER COLUMN b SET (n_distinct = 40)")
        c.exec_driver_sql("ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL")
        c.exec_driver_sql("ALTER TABLE t ALTER COLUMN b SET COMPRESSION lz4")
        c.exec_driver_sql("GRANT SELECT (b) ON t TO PUBLIC")
        before = c.exec_driver_sql(facts).one()
        rows = c.exec_driver_sql("SELECT id, b FROM t ORDER BY id").all()
    assert before[1:] == (500, "{n_distinct=40}", before[3], "e", "l") and "=r/" in before[3], before
    alembic = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={pg_url}"]
    up = subprocess.run([*alembic, "upgrade", "head"], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr[-2000:]
    with engine.connect() as c:
        after = c.exec_driver_sql(facts).all()
        assert after == ([("b2", *before[1:])] if change == "rename" else []), after
    down = subprocess.run([*alembic, "downgrade", "base"], capture_output=True, text=True)
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(facts).one() == before
        assert c.exec_driver_sql("SELECT id, b FROM t ORDER BY id").all() == rows
    engine.dispose()
