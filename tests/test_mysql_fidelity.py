"""MySQL/MariaDB plans leave exactly the schema and data the naive migration would, and their
downgrades bring back exactly OLD (findings of a differential probe against MariaDB 10.11:
plan + upgrade + downgrade against the plain ALTER on copies of the same rows)."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.config import load_config
from planner.pipeline import analyze
from planner.verify.harness import VerifyReport, verify

from .conftest import ROOT, run_sql


def _verify(tmp_path: Path, old: str, new: str, url: str, rows: int = 20) -> VerifyReport:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect="mysql", renames=[])
    return verify(analysis, url, rows=rows)


def _ok(report: VerifyReport) -> None:
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential,
                       report.window)


@pytest.mark.mysql
def test_restore_of_a_dropped_column_keeps_an_on_update_column_restored_before_it(tmp_path: Path,
                                                                                mysql_url: str):
    """The contract's downgrade restores `w` first, then `a`: the restore of `a` (`UPDATE ...
    SET t.a = b.a`) left `w` out of its `w = w` list (a column the plan drops), so every row's
    `w`, NULLs too, became the downgrade's time."""
    _ok(_verify(tmp_path, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, "
                          "w DATETIME NULL ON UPDATE CURRENT_TIMESTAMP);\n",
                "CREATE TABLE t (id INT NOT NULL PRIMARY KEY);\n", mysql_url))


def _dump(url: str) -> str:
    """Everything a schema difference shows in: SHOW CREATE TABLE, information_schema's view of
    each column, and every row (by the first column)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    out: list[str] = []
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SET time_zone = '+00:00'")
            names = [n for n in c.exec_driver_sql("SHOW TABLES").scalars()
                     if not n.startswith("planner_backup__") and n != "alembic_version"]
            for n in sorted(names):
                out.append(c.exec_driver_sql(f"SHOW CREATE TABLE `{n}`").one()[1])
                out += [" | ".join(map(str, r)) for r in c.exec_driver_sql(
                    "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, "
                    "COLLATION_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    f"DATABASE() AND TABLE_NAME = '{n}' ORDER BY ORDINAL_POSITION")]
                out += [" | ".join(map(str, r)) for r in c.exec_driver_sql(f"SELECT * FROM `{n}` ORDER BY 1")]
    finally:
        engine.dispose()
    return "\n".join(out) + "\n"


def _alembic(project: Path, url: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), "-x", f"db={url}",
                        *args], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]


def differential(tmp_path: Path, url: str, old: str, new: str, naive: str, seed: str = "",
                 post: str = "", clean=lambda text: text) -> tuple[str, str]:  # noqa: ANN001
    """(upgrade diff, downgrade diff): the plan's upgrade against `naive` on a copy of OLD +
    `seed` (`post` run on both after), then its downgrade against OLD + `seed`; `clean` takes
    noise out of both dumps (times of NOW()). Empty: the same."""
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    project = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 "--no-config", "--init", str(project), "--rev-id-seed", "fidelity"])
    assert r.exit_code == 0, r.output
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    other = sa.make_url(url).database + "_b"
    other_url = sa.make_url(url).set(database=other).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{other}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        for u in (url, other_url):
            run_sql(u, old + seed)
        _alembic(project, url, "upgrade", "head")
        run_sql(other_url, naive)
        if post:
            run_sql(url, post)
            run_sql(other_url, post)
        up = "".join(difflib.unified_diff(clean(_dump(other_url)).splitlines(True),
                                          clean(_dump(url)).splitlines(True), "naive", "plan"))
        _alembic(project, url, "downgrade", "base")
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE `{other}`")
            c.exec_driver_sql(f"CREATE DATABASE `{other}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        run_sql(other_url, old + seed + post)
        down = "".join(difflib.unified_diff(clean(_dump(other_url)).splitlines(True),
                                            clean(_dump(url)).splitlines(True), "OLD", "downgraded"))
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{other}`")
        admin.dispose()
    return up, down


@pytest.mark.mysql
def test_default_expressions_keep_their_precision(tmp_path: Path, mysql_url: str):
    """`DEFAULT (NOW(3) + INTERVAL 1 DAY)` was read as `CURRENT_TIMESTAMP() + INTERVAL '1' DAY`
    (NOW and CURRENT_TIMESTAMP one spelling, the precision lost): every MODIFY, ADD COLUMN and
    drop-column downgrade wrote that, and new rows lost their fractional seconds."""
    old = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY), "
           "k DATETIME(6) DEFAULT (CURRENT_TIMESTAMP(6) + INTERVAL 1 HOUR), x INT);\n")
    new = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY) "
           "COMMENT 'jj', x INT, m DATE DEFAULT (CURRENT_DATE + INTERVAL 1 YEAR), "
           "n DATETIME(6) DEFAULT (NOW(6) - INTERVAL 1 SECOND));\n")
    naive = ("ALTER TABLE t MODIFY j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY) COMMENT 'jj', DROP COLUMN k, "
             "ADD COLUMN m DATE DEFAULT (CURRENT_DATE + INTERVAL 1 YEAR), "
             "ADD COLUMN n DATETIME(6) DEFAULT (NOW(6) - INTERVAL 1 SECOND);\n")
    def clean(text: str) -> str:  # `INTERVAL '1' DAY` is `INTERVAL 1 DAY`; rows hold the time of the run
        return re.sub(r"^1 \| .*\n", "", re.sub(r"interval '(\d+)'", r"interval \1", text), flags=re.M)

    up, down = differential(tmp_path, mysql_url, old, new, naive, "INSERT INTO t (id, x) VALUES (1, 1);\n",
                            clean=clean)
    assert not up, up
    assert not down, down
