"""verify's scratch database: refused when it is a maintenance database or not empty, emptied
again on success and on failure (`--keep` leaves it), and a Prisma-style `?schema=` or tables
in a non-public schema (sessions with a non-default search_path) on real servers."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.config import load_config
from planner.pipeline import analyze
from planner.verify.harness import _objects, verify

from .conftest import ROOT, run_sql

runner = CliRunner()

OLD = """CREATE TYPE mood AS ENUM ('a', 'b', 'c', 'd');
CREATE TABLE u (id int PRIMARY KEY, s varchar(64), n integer, m mood, e citext);
CREATE TABLE gone (id int PRIMARY KEY, note text);
CREATE TABLE k (id int PRIMARY KEY, u_id int REFERENCES u(id), tag text);
CREATE INDEX k_tag ON k (tag);
"""
NEW = """CREATE TYPE mood AS ENUM ('a', 'b', 'c');
CREATE TABLE u (id int PRIMARY KEY, s varchar(80), n bigint NOT NULL, m mood, e citext);
CREATE TABLE k (id int PRIMARY KEY, u_id int, tag text, extra int);
"""


def _files(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    return str(tmp_path / "old.sql"), str(tmp_path / "new.sql")


def _verify(tmp_path: Path, old: str, new: str, url: str, rows: int = 3, keep: bool = False):
    a, b = _files(tmp_path, old, new)
    analysis = analyze(a, b, config=load_config(None, cwd=ROOT), dialect="postgresql", renames=[])
    return verify(analysis, url, rows=rows, keep=keep)


def _state(url: str) -> tuple[list, list[str], list[str]]:
    """(objects, schemas, extensions) of a PostgreSQL database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            schemas = conn.exec_driver_sql("SELECT nspname FROM pg_namespace WHERE left(nspname, 3) <> 'pg_' "
                                           "AND nspname <> 'information_schema' ORDER BY 1").scalars().all()
            exts = conn.exec_driver_sql("SELECT extname FROM pg_extension ORDER BY 1").scalars().all()
            return _objects(conn, "postgresql"), schemas, exts
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/postgres",
                                 "postgresql://postgres@127.0.0.1:5432/template1",
                                 "postgresql://u:secret@127.0.0.1:5432/template0",
                                 "mysql+pymysql://root@127.0.0.1:3306/mysql"])
def test_a_maintenance_database_is_refused(tmp_path: Path, url: str):
    """Refused before any connection: one line, exit 2, the password masked."""
    a, b = _files(tmp_path, OLD, NEW)
    r = runner.invoke(app, ["verify", a, b, "--dialect", "mysql" if "mysql" in url else "postgresql", "--db", url])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "maintenance database" in lines[0], r.output
    assert "secret" not in r.output


@pytest.mark.postgres
def test_a_database_with_any_object_is_refused(tmp_path: Path, pg_url: str):
    """`alembic_version` alone (which schema reflection skips) makes it not empty."""
    run_sql(pg_url, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);")
    a, b = _files(tmp_path, OLD, NEW)
    r = runner.invoke(app, ["verify", a, b, "--dialect", "postgresql", "--db", pg_url])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines() == [
        f"error: {pg_url} is not empty (1 objects, e.g. table public.alembic_version); planner verify builds "
        "OLD itself: give it an empty scratch database"], r.output
    assert [o[2] for o in _state(pg_url)[0]] == ["alembic_version"]  # untouched


@pytest.mark.postgres
def test_cleanup_after_success_and_keep(tmp_path: Path, pg_url: str):
    """Tables, enum, trigger functions, the backup schema, alembic_version and the citext extension
    verify created are gone after a passing run; with keep they stay."""
    before = _state(pg_url)
    assert before[0] == [] and "citext" not in before[2]
    report = _verify(tmp_path, OLD, NEW, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    assert _state(pg_url) == before
    report = _verify(tmp_path, OLD, NEW, pg_url, keep=True)
    assert report.ok and any(n.startswith("--keep:") for n in report.notes), report.notes
    objects, schemas, exts = _state(pg_url)
    assert {"alembic_version", "u", "k", "mood"} <= {o[2] for o in objects}, objects
    assert "planner_backup" in schemas and "citext" in exts


@pytest.mark.postgres
def test_cleanup_after_a_failure_and_keep(tmp_path: Path, pg_url: str):
    """A guard stop (seeded rows hold the removed enum value, no remap) fails verify with exit 1;
    the database is empty again, unless --keep."""
    a, b = _files(tmp_path, OLD, NEW)
    r = runner.invoke(app, ["verify", a, b, "--dialect", "postgresql", "--db", pg_url, "--rows", "8"])
    assert r.exit_code == 1, r.output
    assert "planner guard failed" in r.stdout and "the scratch database is empty again" in r.output, r.output
    assert _state(pg_url)[0] == []
    r = runner.invoke(app, ["verify", a, b, "--dialect", "postgresql", "--db", pg_url, "--rows", "8", "--keep"])
    assert r.exit_code == 1 and "keeps what verify built (--keep)" in r.output, r.output
    assert "u" in {o[2] for o in _state(pg_url)[0]}


@pytest.mark.postgres
def test_prisma_schema_parameter_sets_every_sessions_search_path(tmp_path: Path, pg_url: str):
    """`?schema=app`: OLD is built in `app` (created, then removed), the migration and the
    application run with search_path = app; the dropped table comes back into `app` on downgrade
    (it once went to 'public')."""
    report = _verify(tmp_path, OLD, NEW, f"{pg_url}?schema=app", rows=3)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    objects, schemas, _ = _state(pg_url)
    assert objects == [] and "app" not in schemas


@pytest.mark.postgres
def test_tables_in_a_non_public_schema(tmp_path: Path, pg_url: str):
    def in_app(sql: str) -> str:
        for name in ("u", "gone", "k"):
            sql = sql.replace(f"TABLE {name} ", f"TABLE app.{name} ")
        sql = sql.replace("REFERENCES u", "REFERENCES app.u").replace("ON k ", "ON app.k ")
        return "CREATE SCHEMA app;\n" + sql.replace("TYPE mood", "TYPE app.mood").replace(" mood,", " app.mood,")

    report = _verify(tmp_path, in_app(OLD), in_app(NEW), pg_url, rows=3)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    objects, schemas, _ = _state(pg_url)
    assert objects == [] and "app" not in schemas


@pytest.mark.mysql
def test_mysql_cleanup(tmp_path: Path, mysql_url: str):
    a, b = _files(tmp_path, "CREATE TABLE u (id int PRIMARY KEY, s varchar(64));\nCREATE TABLE g (id int PRIMARY KEY);\n",
                  "CREATE TABLE u (id int PRIMARY KEY, s varchar(80), x int);\n")
    analysis = analyze(a, b, config=load_config(None, cwd=ROOT), dialect="mysql", renames=[])
    assert verify(analysis, mysql_url, rows=3).ok
    engine = sa.create_engine(mysql_url)
    try:
        with engine.connect() as conn:
            assert _objects(conn, "mysql") == []
    finally:
        engine.dispose()


def test_sqlite_file_verify_created_is_removed(tmp_path: Path):
    a, b = _files(tmp_path, "CREATE TABLE u (id int PRIMARY KEY, s text);\n",
                  "CREATE TABLE u (id int PRIMARY KEY, s text, x int);\n")
    analysis = analyze(a, b, config=load_config(None, cwd=ROOT), dialect="sqlite", renames=[])
    db = tmp_path / "scratch.db"
    assert verify(analysis, f"sqlite:///{db}", rows=3).ok
    assert not db.exists()
    assert verify(analysis, f"sqlite:///{db}", rows=3, keep=True).ok
    assert db.exists()
