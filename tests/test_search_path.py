"""The revisions leave the default schema's names unqualified (a Prisma `?schema=` project
relies on the session's search_path for them). A plan that also names another schema then
depends on the session: with `search_path=b,public` its unqualified `t` is `b.t`, and the
upgrade silently converted b.t instead of t. Every revision of such a plan stops first when the
session's current schema is one the plan names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.postgres

OLD = ("CREATE SCHEMA b;\nCREATE TABLE b.t (id int PRIMARY KEY, score int);\n"
       "CREATE TABLE t (id int PRIMARY KEY, score int);\n")
NEW = OLD.replace("TABLE t (id int PRIMARY KEY, score int)", "TABLE t (id int PRIMARY KEY, score bigint)")


def test_a_session_whose_current_schema_the_plan_names_stops_first(tmp_path: Path, pg_url: str):
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "postgresql",
                                 "--init", str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql(OLD)
    db = sa.make_url(pg_url).render_as_string(hide_password=False)

    def upgrade(search_path: str | None) -> subprocess.CompletedProcess:
        env = {**os.environ, **({"PGOPTIONS": f"-c search_path={search_path}"} if search_path else {})}
        return subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"),
                               "-x", f"db={db}", "upgrade", "head"], capture_output=True, text=True, env=env,
                              timeout=300)

    stopped = upgrade("b,public")
    assert stopped.returncode != 0 and "current schema is b" in stopped.stderr, stopped.stderr[-1500:]
    score = ("SELECT table_schema, data_type FROM information_schema.columns WHERE column_name = 'score' "
             "ORDER BY 1")
    with engine.connect() as c:
        assert c.exec_driver_sql(score).all() == [("b", "integer"), ("public", "integer")]
    done = upgrade(None)
    assert done.returncode == 0, done.stderr[-1500:]
    with engine.connect() as c:
        assert c.exec_driver_sql(score).all() == [("b", "integer"), ("public", "bigint")]
    engine.dispose()
