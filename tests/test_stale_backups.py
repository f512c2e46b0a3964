"""A backup an earlier release left behind (its cleanup revision never ran) must not stand in
for this revision's: backups are created IF NOT EXISTS (a re-run after a failure that committed
one keeps it), so the same column dropped again kept the old release's copy, and the downgrade
put those values back into today's rows. Each backup now carries a note of the revision that
made it; another one stops the upgrade before any DDL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

OLD = "CREATE TABLE users (id int NOT NULL PRIMARY KEY, a varchar(10), email varchar(50));\n"
NEW = "CREATE TABLE users (id int NOT NULL PRIMARY KEY);\n"


def _alembic(ini: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={url}", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres),
                                     pytest.param("mysql", marks=pytest.mark.mysql)])
def test_a_backup_left_by_an_earlier_release_stops_the_upgrade(tmp_path: Path, dialect: str, request):
    url = request.getfixturevalue("pg_url" if dialect == "postgresql" else "mysql_url")
    stale = '"planner_backup"."users__email"' if dialect == "postgresql" else "planner_backup__users__email"
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", dialect,
                                 "--init", str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    ini = tmp_path / "p" / "alembic.ini"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql(OLD)
        c.exec_driver_sql("INSERT INTO users VALUES (1, 'a1', 'now-1'), (2, 'a2', 'now-2')")
        # what an earlier release's drop of users.email left behind
        if dialect == "postgresql":
            c.exec_driver_sql("CREATE SCHEMA planner_backup")
        c.exec_driver_sql(f"CREATE TABLE {stale} AS SELECT id, 'then' AS email FROM users")
    first = _alembic(ini, url, "upgrade", "head")
    assert first.returncode != 0
    assert "exists already" in first.stderr and "earlier release" in first.stderr, first.stderr[-1500:]
    assert "Traceback" not in first.stderr.split("FAILED")[-1]
    with engine.connect() as c:  # before any DDL: `a`, dropped by the same revision, is there too
        # (MySQL's steps commit one by one: its check runs at the top of the revision as well)
        assert c.exec_driver_sql("SELECT a, email FROM users ORDER BY id").all() == [("a1", "now-1"), ("a2", "now-2")]
        c.exec_driver_sql(f"DROP TABLE {stale}")
        c.commit()
    assert _alembic(ini, url, "upgrade", "head").returncode == 0
    with engine.connect() as c:  # the backup carries its note (MySQL: given in its CREATE TABLE itself)
        assert c.exec_driver_sql(f"SELECT count(*) FROM {stale}").scalar() == 2
        note = ("SELECT obj_description('planner_backup.users__email'::regclass, 'pg_class')"
                if dialect == "postgresql" else "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE "
                "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'planner_backup__users__email'")
        assert c.exec_driver_sql(note).scalar().startswith("planner backup made by revision ")
    back = _alembic(ini, url, "downgrade", "base")
    assert back.returncode == 0, back.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT a, email FROM users ORDER BY id").all() == [("a1", "now-1"), ("a2", "now-2")]
    engine.dispose()
