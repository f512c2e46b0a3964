"""A column default as the plan writes it against the default the naive DDL leaves: the same
expression on the server and the same value in a new row. The normalised form planner compares
defaults by wrote `1.0` as `1` (a text column stored '1' where the naive DDL stores '1.0') and
`1.50` as `1.5` (an unconstrained numeric keeps the literal's scale), and the schema comparison
of verify, which goes through the same normal form, could not see it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.normalize import normalize_default

OLD = "CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'x');\n"
# (name, type, default as written): added columns, and `s` whose default changes
DEFAULTS = [("a", "text", "1.0"), ("b", "numeric", "1.50"), ("c", "varchar(10)", "-2.50"), ("d", "text", "0.1e1"),
            ("e", "numeric(6,2)", "1.5"), ("f", "integer", "2.0"), ("g", "double precision", "1.0"),
            ("h", "timestamptz", "CURRENT_TIMESTAMP(0)"), ("i", "timestamp(3)", "now()")]
NEW = ("CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 3.0, "
       + ", ".join(f"{n} {t} DEFAULT {d}" for n, t, d in DEFAULTS) + ");\n")


@pytest.mark.parametrize(("written", "type_", "dialect", "expected"), [
    ("1.0", "text", "postgresql", "1.0"), ("1.50", "numeric", "postgresql", "1.50"),
    ("1.50", "numeric(5,2)", "postgresql", "1.5"), ("1.0", "integer", "postgresql", "1"),
    ("1.0", "varchar(5)", "mysql", "1.0"), ("1.0", "text", "sqlite", "1.0"), ("'007'", "integer", "postgresql", "7"),
    ("1e400", "double precision", "postgresql", "1e400"),
    ("CURRENT_TIMESTAMP(0)", "timestamptz", "postgresql", "CURRENT_TIMESTAMP(0)"),
    ("CURRENT_TIMESTAMP(0)", "datetime", "mysql", "CURRENT_TIMESTAMP"), ("now()", "timestamp(3)", "postgresql",
                                                                           "CURRENT_TIMESTAMP"),
])
def test_a_number_default_is_canonical_only_where_the_column_stores_it_by_value(written, type_, dialect, expected):
    assert normalize_default(written, dialect, type_)[0] == expected


@pytest.mark.postgres
def test_defaults_as_the_naive_ddl_leaves_them(tmp_path: Path, pg_url: str):
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    defaults = ("SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON "
                "a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = '{t}'::regclass ORDER BY 1")
    row = "SELECT (to_jsonb(x) - 'id' - 'h' - 'i')::text FROM {t} x WHERE id = 1"
    with engine.connect() as c:
        c.exec_driver_sql(OLD)
        c.exec_driver_sql("CREATE SCHEMA naive")
        c.exec_driver_sql("SET search_path = naive")
        c.exec_driver_sql(NEW)
        c.exec_driver_sql("INSERT INTO t (id) VALUES (1)")
        naive = (c.exec_driver_sql(defaults.format(t="naive.t")).all(), c.exec_driver_sql(row.format(t="t")).scalar())
        c.exec_driver_sql("RESET search_path")
    up = subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x",
                         f"db={pg_url}", "upgrade", "head"], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr[-2000:]
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO t (id) VALUES (1)")
        plan = (c.exec_driver_sql(defaults.format(t="public.t")).all(), c.exec_driver_sql(row.format(t="public.t")).scalar())
    assert plan[1] == naive[1]
    # (where the column keeps the literal as written, the expression is the naive one too)
    assert [x for x in plan[0] if x[0] in "absh"] == [x for x in naive[0] if x[0] in "absh"]
    assert '"a": "1.0"' in naive[1] and '"b": 1.50' in naive[1] and '"s": "3.0"' in naive[1], naive
    engine.dispose()
