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


def test_a_rebuild_keeps_rowids_and_the_autoincrement_counter(tmp_path: Path):
    """A default changed (a rebuild both ways): the copy numbered the rows of a table keyed by
    text 1, 2, 3 again and left the AUTOINCREMENT counter at the largest id."""
    report = _verify(tmp_path, AUTO + KEYED, (AUTO + KEYED).replace("a TEXT,", "a TEXT DEFAULT 'x',"))
    assert report.ok, _failures(report)


def _alembic(proj: Path, url: str, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), "-x", f"db={url}",
                           *args], capture_output=True, text=True, cwd=proj)


def _plan(tmp_path: Path, old: str, new: str, *args: str) -> Path:
    from typer.testing import CliRunner

    from planner.cli import app

    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "sqlite",
                                      "--init", str(proj), "--rev-id-seed", "1", *args])
    assert result.exit_code == 0, result.output
    return proj


def test_a_rebuild_stops_on_a_view_or_trigger_it_would_leave_broken(tmp_path: Path):
    """A column renamed inside a rebuild (a default changes too): the view and the trigger the
    plan does not know kept the old name (SQLite's RENAME COLUMN rewrites them), so the view no
    longer read and every UPDATE failed. The rebuild now stops in one line, nothing changed."""
    old = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);\n"
    new = "CREATE TABLE t (id INTEGER PRIMARY KEY, a2 TEXT, b TEXT DEFAULT 'x');\n"
    proj = _plan(tmp_path, old, new, "--rename", "t.a=a2")
    text = "".join(p.read_text() for p in (proj / "migrations" / "versions").glob("*.py"))
    assert "rt.sqlite_rebuild" in text and 'new_column_name=rt.q("a2")' in text, text
    for extra, name in (("CREATE VIEW tv AS SELECT id, a FROM t;", "error in view tv: no such column: a"),
                        ("CREATE TABLE log (m TEXT);\nCREATE TRIGGER t_au AFTER UPDATE ON t BEGIN "
                         "INSERT INTO log VALUES (NEW.a); END;", "trigger t_au no longer compiles")):
        db = tmp_path / f"{len(extra)}.db"
        url = _db(db, old + "INSERT INTO t VALUES (1, 'x', 'y');\n" + extra)
        before = sqlite3.connect(db).execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        up = _alembic(proj, url, "upgrade", "head")
        assert up.returncode != 0 and "Traceback" not in up.stderr, up.stderr[-2000:]
        line = next(x for x in up.stderr.splitlines() if "planner: " in x)
        assert f"planner: after the rebuild of t, {name}" in line and "nothing was changed" in line, line
        c = sqlite3.connect(db)
        after = c.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '%alembic%' "
                          "ORDER BY name").fetchall()
        assert after == before
        assert c.execute("SELECT * FROM t").fetchall() == [(1, "x", "y")]
        c.close()


def test_a_plain_dropped_column_takes_sqlites_own_drop_column(tmp_path: Path):
    """A column in no key, index, foreign key, CHECK or generated expression is dropped by
    `ALTER TABLE ... DROP COLUMN` (no copy: the table's own SQL, STRICT, rowids and counter
    stay), and, being OLD's last column, comes back by ADD COLUMN. A view the plan does not
    know that reads it makes SQLite refuse, as the naive migration does (the rebuild dropped it
    and left the view broken and the trigger failing every UPDATE)."""
    old = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, junk TEXT) STRICT;\n"
    proj = _plan(tmp_path, old, old.replace(", junk TEXT", ""))
    text = "".join(p.read_text() for p in (proj / "migrations" / "versions").glob("*.py"))
    assert 'ALTER TABLE "t" DROP COLUMN "junk"' in text and "op.add_column" in text and "batch_alter_table" not in text
    db = tmp_path / "a.db"
    url = _db(db, old + "INSERT INTO t VALUES (1, 'x', 'j');\n")
    assert _alembic(proj, url, "upgrade", "head").returncode == 0
    c = sqlite3.connect(db)
    assert c.execute("SELECT sql FROM sqlite_master WHERE name = 't'").fetchone() == (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT) STRICT",)
    c.close()
    assert _alembic(proj, url, "downgrade", "base").returncode == 0
    c = sqlite3.connect(db)
    assert c.execute("SELECT * FROM t").fetchall() == [(1, "x", "j")]
    assert c.execute("SELECT strict FROM pragma_table_list WHERE name = 't'").fetchone() == (1,)
    c.close()
    db = tmp_path / "b.db"
    url = _db(db, old + "INSERT INTO t VALUES (1, 'x', 'j');\nCREATE VIEW tv AS SELECT id, junk FROM t;\n")
    up = _alembic(proj, url, "upgrade", "head")
    assert up.returncode != 0 and "error in view tv after drop column: no such column: junk" in up.stderr
    c = sqlite3.connect(db)
    assert c.execute("SELECT * FROM tv").fetchall() == [(1, "j")]
    c.close()


def test_a_column_sqlite_cannot_drop_itself_still_takes_the_rebuild(tmp_path: Path):
    old = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, junk TEXT);\nCREATE INDEX t_junk ON t (junk);\n"
    proj = _plan(tmp_path, old, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);\n")
    text = "".join(p.read_text() for p in (proj / "migrations" / "versions").glob("*.py"))
    assert "DROP COLUMN" not in text and "batch_alter_table" in text


def test_a_rebuild_of_a_strict_or_without_rowid_table_is_refused_in_one_line(tmp_path: Path):
    """The rebuild made the table from planner's model, which has no table options: a STRICT or
    WITHOUT ROWID table came back without them. Such a rebuild is refused (exit 2), from SQL
    files and from a live database alike."""
    from typer.testing import CliRunner

    from planner.cli import app

    for old, what in (("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT) STRICT;\n", "STRICT"),
                      ("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT) WITHOUT ROWID;\n", "WITHOUT ROWID")):
        new = old.replace("a TEXT,", "a TEXT NOT NULL DEFAULT '',")
        (tmp_path / "old.sql").write_text(old)
        (tmp_path / "new.sql").write_text(new)
        db = tmp_path / f"{what}.db"
        for source in (str(tmp_path / "old.sql"), _db(db, old)):
            result = CliRunner().invoke(app, ["plan", source, str(tmp_path / "new.sql"), "-d", "sqlite", "--init",
                                              str(tmp_path / f"proj-{len(source)}")])
            assert result.exit_code == 2, result.output
            assert f"needs a rebuild of table t, which is {what} (OLD): planner's rebuild would drop that" \
                in " ".join(result.output.split()), result.output
