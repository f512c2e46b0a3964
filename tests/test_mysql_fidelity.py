"""MySQL/MariaDB plans leave exactly the schema and data the naive migration would, and their
downgrades bring back exactly OLD (findings of a differential probe against MariaDB 10.11:
plan + upgrade + downgrade against the plain ALTER on copies of the same rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import load_config
from planner.pipeline import analyze
from planner.verify.harness import VerifyReport, verify

from .conftest import ROOT


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
