"""SQLite plans leave what the naive migration leaves (SQLite's own ALTER, or the 12-step
rebuild from the table's own SQL): every row's rowid, the AUTOINCREMENT counter, the views and
triggers compiling. verify sees each (planner.verify.sqlite_state) and the plans keep them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from planner.config import load_config
from planner.pipeline import analyze
from planner.verify import sqlite_state
from planner.verify.harness import verify


def _verify(tmp_path: Path, old: str, new: str):
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=tmp_path), dialect="sqlite", renames=[])
    return verify(analysis, f"sqlite:///{tmp_path / 'scratch.db'}")


def _failures(report) -> list[str]:
    return report.after_upgrade + report.after_downgrade + report.data + report.differential + report.window


AUTO = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT, junk TEXT, b TEXT);\n"
KEYED = "CREATE TABLE k (code TEXT NOT NULL PRIMARY KEY, a TEXT, junk TEXT);\n"
NO_KEY_PARENT = "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"


def test_a_dropped_column_keeps_the_autoincrement_counter(tmp_path: Path):
    """The rebuild set sqlite_sequence to the largest id both ways (deleted ids came back)."""
    report = _verify(tmp_path, AUTO, AUTO.replace(" junk TEXT,", ""))
    assert report.ok, _failures(report)


def test_a_dropped_column_keeps_the_rowids_of_a_table_keyed_by_text(tmp_path: Path):
    """The rebuild numbered the rows of a table whose key is no rowid alias 1, 2, 3 again."""
    report = _verify(tmp_path, KEYED, KEYED.replace(" junk TEXT", " b TEXT"))
    assert report.ok, _failures(report)
    report = _verify(tmp_path, KEYED, KEYED.replace(", junk TEXT", ""))
    assert report.ok, _failures(report)


def _db(path: Path, sql: str) -> str:
    c = sqlite3.connect(path)
    c.executescript(sql)
    c.close()
    return f"sqlite:///{path}"


def test_verify_sees_rowids_sequence_flags_and_broken_views_and_triggers(tmp_path: Path):
    url = _db(tmp_path / "a.db", "CREATE TABLE k (code TEXT PRIMARY KEY, junk TEXT);"
                                 "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);"
                                 "CREATE TABLE s (a TEXT) STRICT;"
                                 "INSERT INTO k VALUES ('a', 'x'), ('b', 'y'); INSERT INTO t (a) VALUES ('x');"
                                 "CREATE VIEW kv AS SELECT code, junk FROM k;"
                                 "CREATE TRIGGER t_au AFTER UPDATE ON t BEGIN UPDATE k SET junk = NEW.a; END;")
    sqlite_state.spread(url)
    before = sqlite_state.snapshot(url)
    assert before.rowids["k"] == [1005, 1010]
    assert before.sequence["t"] == 101
    assert sqlite_state.schema_errors(url) == []
    # what a rebuild from planner's model did: rowids numbered again, counter reset, STRICT lost,
    # the column a view and a trigger read dropped
    _db(tmp_path / "a.db", "PRAGMA legacy_alter_table = ON;"
                           "CREATE TABLE k2 (code TEXT PRIMARY KEY); INSERT INTO k2 SELECT code FROM k;"
                           "DROP TABLE k; ALTER TABLE k2 RENAME TO k;"
                           "UPDATE sqlite_sequence SET seq = 1;"
                           "DROP TABLE s; CREATE TABLE s (a TEXT);")
    found = sqlite_state.compare(before, sqlite_state.snapshot(url))
    assert any("table k: rowids" in x and "renumbered" in x for x in found), found
    assert any("table t: sqlite_sequence 101 before, 1 after" in x for x in found), found
    assert any("table s: STRICT before, no table options after" in x for x in found), found
    errors = sqlite_state.schema_errors(url)
    assert errors == ["view kv no longer compiles: no such column: junk",
                      "trigger t_au on t no longer compiles: no such column: junk"], errors
