"""A contract downgrade stopped after its first step committed (a later step's lock wait gave
up) must finish when run again. The enum recreation's way back renamed the type back to its
temporary name in its first step: the re-run failed on it (`type "status__planner_new" already
exists`) forever, the database half downgraded (found by a helper killing downgrades)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.postgres

OLD = "CREATE TYPE status AS ENUM ('a', 'b', 'c');\nCREATE TABLE t (id int NOT NULL PRIMARY KEY, s status NOT NULL);\n"
NEW = OLD.replace("('a', 'b', 'c')", "('a', 'b')")


def test_an_enum_recreation_downgrade_stopped_after_its_first_step_finishes_when_run_again(tmp_path: Path,
                                                                                           pg_url: str):
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    (tmp_path / "planner.toml").write_text('[tool.planner.enum_remap]\n"status.c" = "a"\n')
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "postgresql",
                                 "--config", str(tmp_path / "planner.toml"), "--init", str(tmp_path / "p"),
                                 "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(OLD)
        c.exec_driver_sql("INSERT INTO t SELECT g, (ARRAY['a', 'b', 'c'])[1 + mod(g, 3)]::status "
                          "FROM generate_series(1, 3000) g")
    db = sa.make_url(pg_url).render_as_string(hide_password=False)

    def alembic(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"),
                               "-x", f"db={db}", "-x", "lock_retries=1", "-x", "lock_timeout=200ms", *args],
                              capture_output=True, text=True, timeout=300)

    assert alembic("upgrade", "head").returncode == 0
    contract = [ln for ln in alembic("history").stdout.splitlines() if "contract" in ln][0]
    before_contract = contract.split("->")[0].strip()
    # the restore's index on the backup waits for a lock and gives up: the steps before it are committed
    holder = engine.connect()
    holder.exec_driver_sql("BEGIN")
    holder.exec_driver_sql('LOCK TABLE planner_backup."t__s__type" IN SHARE ROW EXCLUSIVE MODE')
    stopped = alembic("downgrade", before_contract)
    holder.exec_driver_sql("ROLLBACK")
    holder.close()
    assert stopped.returncode != 0, stopped.stderr[-1500:]
    with engine.connect() as c:  # its first step, the type's way back, is committed
        assert c.exec_driver_sql("SELECT to_regtype('status__planner_new') IS NOT NULL").scalar()
    again = alembic("downgrade", "base")
    assert again.returncode == 0, again.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT s::text, count(*) FROM t GROUP BY 1 ORDER BY 1").all() == [
            ("a", 1000), ("b", 1000), ("c", 1000)]
        assert c.exec_driver_sql("SELECT enum_range(NULL::status)::text").scalar() == "{a,b,c}"
    engine.dispose()
