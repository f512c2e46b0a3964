"""SQLite table rebuilds (R14) on a real database file: the table's triggers and the views that
name it survive, and a rebuild that fails leaves nothing behind (one explicit transaction:
pysqlite alone would commit the copy's CREATE TABLE on its own)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from planner.cli import app

OLD = """
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, p INTEGER REFERENCES parent (id));
CREATE TABLE audit (id INTEGER PRIMARY KEY, t_id INTEGER, what TEXT);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO audit (t_id, what) VALUES (NEW.id, 'ins'); END;
CREATE TRIGGER "T upd" AFTER UPDATE OF a ON t BEGIN INSERT INTO audit (t_id, what) VALUES (NEW.id, 'upd'); END;
CREATE VIEW tv AS SELECT id, a FROM t;
"""
NEW = """
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b INTEGER, p INTEGER REFERENCES parent (id));
CREATE TABLE audit (id INTEGER PRIMARY KEY, t_id INTEGER, what TEXT);
CREATE VIEW tv AS SELECT id, a FROM t;
"""


def _database(path: Path, rows: str) -> str:
    c = sqlite3.connect(path)
    c.executescript(OLD + rows)
    c.commit()
    c.close()
    return f"sqlite:///{path}"


def _plan(tmp_path: Path, url: str) -> Path:
    new = tmp_path / "new.sql"
    new.write_text(NEW)
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", url, str(new), "--init", str(proj), "--rev-id-seed", "1"])
    assert result.exit_code == 0, result.output
    return proj


def _alembic(proj: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), "-x", f"db={url}",
                           *args], capture_output=True, text=True, cwd=proj)


def _schema(path: Path) -> list[tuple]:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'alembic%' "
                         "AND name NOT LIKE 'sqlite_autoindex_alembic%' ORDER BY type, name").fetchall()
    finally:
        c.close()


def _objects(path: Path) -> set[tuple[str, str]]:
    return {(kind, name) for kind, name, *_ in _schema(path)}


def _writes_fire_the_triggers(path: Path, row: int, a: str | None) -> list[str]:
    c = sqlite3.connect(path)
    try:
        c.execute("INSERT INTO t (id, a) VALUES (?, ?)", (row, a))
        c.execute("UPDATE t SET a = 'changed' WHERE id = ?", (row,))
        c.commit()
        assert c.execute("SELECT a FROM tv WHERE id = ?", (row,)).fetchone() == ("changed",)  # the view reads t
        return [w for (w,) in c.execute("SELECT what FROM audit WHERE t_id = ? ORDER BY id", (row,))]
    finally:
        c.close()


def test_a_rebuild_keeps_the_tables_triggers_and_the_views_naming_it(tmp_path: Path):
    db = tmp_path / "app.db"
    url = _database(db, "INSERT INTO parent VALUES (1); INSERT INTO t (a, b, p) VALUES ('x', 1, 1), ('y', NULL, NULL);")
    proj = _plan(tmp_path, url)
    before = _objects(db)
    assert {("trigger", "t_ins"), ("trigger", "T upd"), ("view", "tv")} <= before

    up = _alembic(proj, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr  # before: "error in view tv: no such table: main.t" at the rename
    assert _objects(db) == before
    assert "NOT NULL" in dict(((n, s) for _, n, _, s in _schema(db)))["t"]
    assert _writes_fire_the_triggers(db, 100, "v") == ["ins", "upd"]  # before: the triggers were gone

    down = _alembic(proj, url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert _objects(db) == before
    assert _writes_fire_the_triggers(db, 101, None) == ["ins", "upd"]  # OLD's nullable column is back


def test_a_failed_rebuild_leaves_the_database_as_it_was(tmp_path: Path):
    """Rows pointing nowhere (written with foreign keys off) fail the foreign_key_check after the
    copy: everything the rebuild did is rolled back, the copy included."""
    db = tmp_path / "app.db"
    url = _database(db, "INSERT INTO t (a, b, p) VALUES ('x', 1, 42);")  # no parent 42
    proj = _plan(tmp_path, url)
    before = _schema(db)

    up = _alembic(proj, url, "upgrade", "head")
    assert up.returncode != 0
    assert "violate foreign keys after the rebuild" in up.stderr
    assert _schema(db) == before  # before the fix: _alembic_tmp_t was left behind
    c = sqlite3.connect(db)
    assert c.execute("SELECT id, a, b, p FROM t").fetchall() == [(1, "x", 1, 42)]
    assert c.execute("PRAGMA foreign_keys").fetchone() == (0,)  # a new connection: the default
    c.close()


def test_offline_sql_says_what_it_cannot_do_itself(tmp_path: Path):
    db = tmp_path / "app.db"
    url = _database(db, "")
    proj = _plan(tmp_path, url)
    out = _alembic(proj, url, "upgrade", "head", "--sql")
    assert out.returncode == 0, out.stderr
    sql = out.stdout
    i = sql.index("PRAGMA foreign_keys = OFF")
    assert sql.index("PRAGMA legacy_alter_table = ON") > i
    assert sql.index("BEGIN;", i) < sql.index("CREATE TABLE _alembic_tmp_t") < sql.index("COMMIT;", i)
    assert "-- SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 't';" in sql
    assert sql.index("PRAGMA foreign_keys = ON") > sql.index("PRAGMA legacy_alter_table = OFF")


_UNNAMED_OLD = """
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, p INTEGER, UNIQUE (a, b), CHECK (a > 0),
  FOREIGN KEY (p) REFERENCES parent (id));
CREATE TABLE u (id INTEGER PRIMARY KEY, x INTEGER, p INTEGER);
"""
_UNNAMED_NEW = """
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, p INTEGER);
CREATE TABLE u (id INTEGER PRIMARY KEY, x INTEGER, p INTEGER, UNIQUE (x), CHECK (x < 100),
  FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE);
"""


def test_unnamed_constraints_are_dropped_and_added_by_the_rebuild(tmp_path: Path):
    """SQLite allows unnamed UNIQUE, CHECK and FOREIGN KEY constraints; Alembic's batch
    operations need a name ("Constraint must have a name" when the revision ran; an added
    unnamed foreign key was refused at plan time), so the rebuild's copy_from gets or loses
    them. Both directions, verified (no seeded rows: they would trip the new constraints'
    guards), and the old -> new direction with rows where no new constraint needs a guard."""
    from planner.config import load_config
    from planner.pipeline import analyze
    from planner.verify.harness import verify

    old, new, fewer = tmp_path / "old.sql", tmp_path / "new.sql", tmp_path / "fewer.sql"
    old.write_text(_UNNAMED_OLD)
    new.write_text(_UNNAMED_NEW)
    fewer.write_text(_UNNAMED_NEW.replace(", CHECK (x < 100),\n  FOREIGN KEY (p) REFERENCES parent (id) ON DELETE "
                                          "CASCADE", ""))
    assert "CHECK" not in fewer.read_text().split("TABLE u")[1]
    cfg = load_config(None, cwd=tmp_path)
    for a, b, rows in ((old, new, 0), (new, old, 0), (old, fewer, 30)):
        analysis = analyze(str(a), str(b), config=cfg, dialect="sqlite", renames=[])
        assert len(analysis.diff.changes) >= 3
        report = verify(analysis, f"sqlite:///{tmp_path / f'{a.stem}-{b.stem}.db'}", rows=rows)
        assert report.ok, (a.name, b.name, report.after_upgrade, report.after_downgrade, report.data)


def test_a_downgrade_puts_dropped_columns_back_where_they_were(tmp_path: Path):
    """The downgrade rebuild re-adds dropped columns; Alembic appends them, and with a renamed
    column in the same rebuild `first, last` came back as `..., last, first` (corpus2
    pingvin-share/02): `partial_reordering` (a renamed column under the name Alembic keys it
    by) gives the table OLD's column order again, for SELECT * and positional INSERTs."""
    db = tmp_path / "app.db"
    c = sqlite3.connect(db)
    c.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, created TEXT, email TEXT NOT NULL, flag BOOLEAN, "
                    "first TEXT, last TEXT); INSERT INTO t VALUES (1, 'x', 'e', 1, 'a', 'b'), "
                    "(2, 'y', 'f', 0, NULL, NULL);")
    c.commit()
    c.close()
    url = f"sqlite:///{db}"
    new = tmp_path / "new.sql"
    new.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, created TEXT, email TEXT NOT NULL, is_flag BOOLEAN);")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", url, str(new), "--init", str(proj), "--rev-id-seed", "1",
                                      "--rename", "t.flag=is_flag"])
    assert result.exit_code == 0, result.output
    for args in (("upgrade", "head"), ("downgrade", "base")):
        r = _alembic(proj, url, *args)
        assert r.returncode == 0, r.stderr
    c = sqlite3.connect(db)
    assert [row[1] for row in c.execute("PRAGMA table_info(t)")] == ["id", "created", "email", "flag", "first", "last"]
    assert c.execute("SELECT * FROM t ORDER BY id").fetchall() == [(1, "x", "e", 1, "a", "b"),
                                                                   (2, "y", "f", 0, None, None)]
    c.close()


def test_verify_reads_plain_sql_in_the_scratch_databases_dialect(tmp_path: Path):
    """SQL with nothing of another dialect in it (and SQLAlchemy models) says no dialect: a
    SQLite scratch database says which one is meant (before: "is sqlite but the schemas are
    postgresql" unless --dialect sqlite); SQL that reads as MySQL still gets that error."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);")
    new.write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);")
    result = CliRunner().invoke(app, ["verify", str(old), str(new), "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 0, result.output
    assert "OK: upgrade matches NEW; downgrade restores" in result.output  # no naive comparison on SQLite
    mysql = tmp_path / "my.sql"
    mysql.write_text("CREATE TABLE `t` (id int NOT NULL AUTO_INCREMENT, PRIMARY KEY (id));")
    result = CliRunner().invoke(app, ["verify", str(mysql), str(mysql), "--db", f"sqlite:///{tmp_path / 'm.db'}"])
    assert result.exit_code == 2 and "is sqlite but the schemas are mysql" in result.output


def test_renamed_constraints_and_indexes_on_sqlite(tmp_path: Path):
    """SQLite renames neither constraints nor indexes: a renamed foreign key, CHECK or UNIQUE
    is dropped and added under the new name by the table's rebuild, a plain index is built
    under the new name before the old one is dropped (corpus2 jupyterhub/09 was refused with
    "SQLite cannot rename an index" for a foreign key)."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
                   "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, p INTEGER, CONSTRAINT t_a_key "
                   "UNIQUE (a), CONSTRAINT t_b_check CHECK (b > 0), CONSTRAINT fk_old FOREIGN KEY (p) REFERENCES "
                   "parent (id));\nCREATE INDEX t_b_idx ON t (b);")
    new.write_text(old.read_text().replace("t_a_key", "t_a_uq").replace("t_b_check", "t_b_positive")
                   .replace("fk_old", "fk_new").replace("t_b_idx", "t_b_index"))
    result = CliRunner().invoke(app, ["diff", str(old), str(new), "--dialect", "sqlite"])
    assert result.output.count("rename_constraint") == 2 and result.output.count("rename_index") == 2
    result = CliRunner().invoke(app, ["verify", str(old), str(new), "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 0, result.output
