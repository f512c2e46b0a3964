"""`planner check`: the --sql file is written for a PostgreSQL version (`--server-version N`; by
default the forms every supported server runs, 12+), `--db` reads the version from the server,
and online every check runs in its own savepoint, so one failing check does not hide the rest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import planner.checks
from planner.cli import app

from .conftest import SAMPLES, run_sql

runner = CliRunner()
CENTURION = SAMPLES / "centurion-money-enum-unique"

OLD_SQL = """
CREATE TABLE t (id integer PRIMARY KEY, i text, u text, j text, ts text, bo text, n text);
CREATE TABLE c (id integer PRIMARY KEY, email text);
"""
NEW_SQL = """
CREATE TABLE t (id integer PRIMARY KEY, i integer, u uuid, j jsonb, ts timestamp, bo boolean, n numeric(5,2));
CREATE TABLE c (id integer PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX c_email_key ON c (email);
"""
DATA = """
INSERT INTO t VALUES
  (1, '1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '2026-01-25 10:00', 'true', '1.5'),
  (2, 'x', 'nope', '{bad', '2026-02-30', 'maybe', '12345.6'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, '99999999999', 'a0eebc99', '[1, 2]', 'yesterday-ish', 'f', 'abc');
INSERT INTO c VALUES (1, 'a'), (2, 'a'), (3, NULL);
"""
#: offending values per cast check (by column), as PostgreSQL's own input functions see them
BAD = {"i": 2, "u": 2, "j": 1, "ts": 2, "bo": 1, "n": 2}


def run(*args: str):
    return runner.invoke(app, list(args))


def server_major(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.dialect.server_version_info[0]
    finally:
        engine.dispose()


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(OLD_SQL)
    new.write_text(NEW_SQL)
    return str(old), str(new)


@pytest.fixture
def db(pg_url: str) -> str:
    run_sql(pg_url, OLD_SQL + DATA)
    return pg_url


def psql(url: str, sql: str, *options: str) -> subprocess.CompletedProcess:
    exe = shutil.which("psql")
    if exe is None:
        pytest.skip("psql not installed")
    uri = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([exe, "-X", "-q", *options, "-d", uri], input=sql, capture_output=True,
                          text=True, check=False)


# --------------------------------------------------------------------------- --sql

@pytest.mark.postgres
def test_default_sql_file_runs_on_every_supported_server(db: str, pair: tuple[str, str]) -> None:
    """Without --server-version the file uses no PostgreSQL 16 function and runs cleanly here
    (PostgreSQL 15 in CI): through psql stopping at the first error, and through SQLAlchemy."""
    r = run("check", *pair, "--sql")
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "pg_input_is_valid(" not in text
    assert "-- Written for PostgreSQL 12 and later" in text and "--server-version 16" in text
    assert "psql -v ON_ERROR_ROLLBACK=on" in text
    assert run("check", *pair, "--sql", "--server-version", "15").stdout == text
    assert run("check", *pair, "--sql", "--server-version", "15.4 (Debian 15.4-1)").stdout == text
    done = psql(db, text, "-v", "ON_ERROR_STOP=1")
    assert done.returncode == 0, done.stderr
    # JSON cannot be tested by a query before 16: the file converts each value in a DO block
    assert "DO $planner$" in text
    assert re.search(r"alter_column_type:t\.j: 1 values do not convert to jsonb", done.stderr), done.stderr
    run_sql(db, text)  # the same file through SQLAlchemy / psycopg


@pytest.mark.postgres
def test_sql_file_counts_match_the_online_run(db: str, pair: tuple[str, str]) -> None:
    """What the 12+ file's count queries return equals what `check --db` finds (which picks
    the forms for the server it talks to)."""
    online = run("check", *pair, "--db", db, "-f", "json")
    assert online.exit_code == 1, online.output
    checks = json.loads(online.stdout)["checks"]
    assert all("error" not in c for c in checks), checks
    casts = {c["columns"][0]: c["count"] for c in checks if c["kind"] == "cast"}
    assert casts == BAD
    assert {c["kind"]: c["count"] for c in checks if c["kind"] in ("nulls", "duplicates")} == \
        {"nulls": 1, "duplicates": 1}
    if server_major(db) < 16:
        assert not any("pg_input_is_valid(" in (c["sql"] or "") for c in checks)
    text = run("check", *pair, "--sql").stdout
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            counted = {}
            for block in text.split("\n\n"):
                head = re.search(r"-- \[\d+/\d+\] (\w+) · alter_column_type:t\.(\w+)", block)
                count = re.search(r"^(SELECT count\(\*\).*?);$", block, re.S | re.M)
                if head and count and head.group(1) == "cast":
                    raw = conn.connection.driver_connection  # '%' in the SQL is not a placeholder
                    counted[head.group(2)] = raw.execute(count.group(1)).fetchone()[0]
    finally:
        engine.dispose()
    assert counted == {k: v for k, v in casts.items() if k != "j"}


@pytest.mark.postgres
def test_server_version_16_writes_pg_input_is_valid(db: str, pair: tuple[str, str]) -> None:
    r = run("check", *pair, "--sql", "--server-version", "16")
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "-- Written for PostgreSQL 16" in text and "pg_input_is_valid" in text and "DO $planner$" not in text
    if server_major(db) >= 16:
        assert psql(db, text, "-v", "ON_ERROR_STOP=1").returncode == 0
        return
    # on an older server the 16+ checks fail; with ON_ERROR_ROLLBACK (as the header says) the
    # checks after them still run and the transaction still ends with ROLLBACK
    done = psql(db, text, "-v", "ON_ERROR_ROLLBACK=on")
    assert "pg_input_is_valid" in done.stderr and "current transaction is aborted" not in done.stderr
    counts = [q for q in text.split(";\n") if "SELECT count(*)" in q]
    assert done.stdout.count(" count ") == sum("pg_input_is_valid" not in q for q in counts) == 2


def test_server_version_usage_errors(pair: tuple[str, str], tmp_path: Path) -> None:
    assert run("check", *pair, "--sql", "--server-version", "fifteen").exit_code == 2
    assert run("check", *pair, "--sql", "--server-version", "0").exit_code == 2
    both = run("check", *pair, "--db", "sqlite:///" + str(tmp_path / "x.db"), "--server-version", "15")
    assert both.exit_code == 2 and "--server-version applies to --sql" in both.stderr
    old, new = tmp_path / "m_old.sql", tmp_path / "m_new.sql"
    old.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\n")
    new.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);\n")
    mysql = run("check", str(old), str(new), "--dialect", "mysql", "--sql", "--server-version", "15")
    assert mysql.exit_code == 2 and "PostgreSQL" in mysql.stderr
    assert run("check", str(old), str(new), "--dialect", "mysql", "--sql").exit_code == 0


def test_sql_file_names_stay_inside_the_do_block(tmp_path: Path) -> None:
    """A column name holding the dollar-quote tag and quotes cannot end the DO block early."""
    evil = 'j$planner$"x\'; DROP TABLE t; --'
    q = '"' + evil.replace('"', '""') + '"'
    (tmp_path / "old.sql").write_text(f"CREATE TABLE t (id integer PRIMARY KEY, {q} text);\n")
    (tmp_path / "new.sql").write_text(f"CREATE TABLE t (id integer PRIMARY KEY, {q} jsonb);\n")
    text = run("check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--sql").stdout
    block = text[text.index("DO $"):]
    tag = block.split()[1]
    assert tag != "$planner$" and block.count(tag) == 2


# --------------------------------------------------------------------------- online: one savepoint per check

def _break_first(monkeypatch: pytest.MonkeyPatch, statement: sa.Select) -> None:
    real = planner.checks.build_checks

    def build(*args: object, **kwargs: object) -> list:
        checks = real(*args, **kwargs)
        import dataclasses

        checks[0] = dataclasses.replace(checks[0], statement=statement, accept=None)
        return checks

    monkeypatch.setattr(planner.checks, "build_checks", build)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_a_failing_check_does_not_hide_the_next_ones(dialect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue({"postgresql": "pg_url", "mysql": "mysql_url", "sqlite": "sqlite_url"}[dialect])
    old_sql = "CREATE TABLE c (id INTEGER PRIMARY KEY, email VARCHAR(50), n INTEGER);\n"
    new_sql = ("CREATE TABLE c (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL, n INTEGER NOT NULL);\n"
               "CREATE UNIQUE INDEX c_email_key ON c (email);\n")
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    run_sql(url, old_sql + "INSERT INTO c VALUES (1, 'a', 1), (2, 'a', NULL), (3, NULL, 3);")
    _break_first(monkeypatch, sa.select(sa.func.count()).select_from(sa.table("planner_no_such_table")))
    args = ["check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--dialect", dialect, "--db", url]
    r = run(*args, "-f", "json")
    assert r.exit_code == 1, r.output
    checks = json.loads(r.stdout)["checks"]
    assert len(checks) == 3
    assert checks[0]["count"] is None and "planner_no_such_table" in checks[0]["error"]
    assert [c.get("error") for c in checks[1:]] == [None, None]
    assert all(c["count"] == 1 for c in checks[1:]), checks
    text = run(*args)
    assert text.exit_code == 1 and "ERROR" in text.stdout and text.stdout.count("FAIL") == 2


@pytest.mark.postgres
def test_a_timed_out_check_does_not_hide_the_next_ones(pg_url: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    old_sql = "CREATE TABLE c (id INTEGER PRIMARY KEY, email TEXT, n INTEGER);\n"
    new_sql = "CREATE TABLE c (id INTEGER PRIMARY KEY, email TEXT NOT NULL, n INTEGER NOT NULL);\n"
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    run_sql(pg_url, old_sql + "INSERT INTO c VALUES (1, NULL, NULL);")
    _break_first(monkeypatch, sa.select(sa.func.count()).select_from(sa.func.pg_sleep(5).alias("s")))
    r = run("check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--db", pg_url, "--timeout", "0.3",
            "-f", "json")
    assert r.exit_code == 1, r.output
    first, second = json.loads(r.stdout)["checks"]
    assert "timed out" in first["error"]
    assert second.get("error") is None and second["count"] == 1
