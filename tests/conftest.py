"""Shared fixtures: throwaway databases on the real servers, the corpus, sample schemas.

Servers are found through environment variables (defaults in brackets):
PLANNER_TEST_PG [postgresql+psycopg://postgres@127.0.0.1:5432/postgres] and
PLANNER_TEST_MYSQL [mysql+pymysql://root@127.0.0.1:3306/mysql]. Each test gets its own
database, dropped afterwards. Without a server the test is skipped with the reason;
under CI=true a missing server fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_schemas"
CORPUS = Path(os.environ.get("PLANNER_CORPUS", ROOT.parent / "shared" / "corpus"))

PG_ADMIN = os.environ.get("PLANNER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN = os.environ.get("PLANNER_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/mysql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str, err: Exception) -> None:
    msg = f"{what} not reachable ({type(err).__name__}: {str(err).splitlines()[0][:160]})"
    if IN_CI:
        pytest.fail(f"CI=true: {msg}; server-backed tests must not be skipped")
    pytest.skip(msg)


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    admin = _admin_engine(PG_ADMIN)
    name = f"planner_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as e:  # noqa: BLE001 - any connection problem means "no server"
        admin.dispose()
        _unavailable("PostgreSQL", e)
    url = admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """URL of a fresh, empty MySQL/MariaDB database, dropped after the test."""
    admin = _admin_engine(MYSQL_ADMIN)
    name = f"planner_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    except Exception as e:  # noqa: BLE001
        admin.dispose()
        _unavailable("MySQL/MariaDB", e)
    url = admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


def run_sql(url: str, sql: str) -> None:
    """Execute a multi-statement SQL script on the database at `url` (driver-level)."""
    engine = sa.create_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            raw = engine.raw_connection()  # the driver directly: '%' in SQL is not a placeholder
            try:
                raw.cursor().execute(sql)
                raw.commit()
            finally:
                raw.close()
        elif engine.dialect.name == "sqlite":
            raw = engine.raw_connection()
            try:
                raw.driver_connection.executescript(sql)
            finally:
                raw.close()
        else:
            from planner.load.ddl import split_statements

            with engine.connect() as c:
                for stmt in split_statements(sql, "mysql"):
                    c.exec_driver_sql(stmt.text)
                c.commit()
    finally:
        engine.dispose()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true: corpus not found at {CORPUS} (set PLANNER_CORPUS)")
        pytest.skip(f"corpus not found at {CORPUS} (set PLANNER_CORPUS)")
    return CORPUS
