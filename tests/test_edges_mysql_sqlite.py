"""MySQL/MariaDB and SQLite plans at their edges, found by trying planner on new schemas: each
pair failed (upgrade, downgrade or planning itself) or lost a foreign key before its fix, and
verify proves it now (upgrade matches NEW and the naive migration, downgrade restores OLD and
every row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import load_config
from planner.pipeline import analyze
from planner.verify.harness import verify

ENUM = "CREATE TABLE e (id INT NOT NULL PRIMARY KEY, status ENUM('a','b') NOT NULL);\n"
FULLTEXT = "CREATE TABLE post (id INT NOT NULL PRIMARY KEY, html TEXT NULL, FULLTEXT KEY post_html (html));\n"
FK = ("CREATE TABLE u (id TEXT NOT NULL PRIMARY KEY);\n"
      "CREATE TABLE rt (token TEXT NOT NULL PRIMARY KEY, userId TEXT NOT NULL, CONSTRAINT rt_user_fkey "
      "FOREIGN KEY (userId) REFERENCES u (id) ON DELETE RESTRICT ON UPDATE CASCADE);\n")
AUTO = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT, b TEXT);\nCREATE INDEX t_a ON t (a DESC);\n"


def _verify(tmp_path: Path, old: str, new: str, dialect: str, url: str, config: str = ""):
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    (tmp_path / "planner.toml").write_text(config)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=tmp_path), dialect=dialect, renames=[])
    report = verify(analysis, url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


@pytest.mark.mysql
@pytest.mark.parametrize("new", [ENUM.replace("'a','b'", "'a','b','c'"), ENUM.replace("'a','b'", "'a','m','b'")],
                         ids=["at-the-end", "in-between"])
def test_an_enum_value_added_to_a_mysql_column(tmp_path: Path, mysql_url: str, new: str):
    """At the end it is INSTANT, but its downgrade (the value taken out) can only copy the
    table; in between the upgrade copies too. Both were limited to INSTANT/INPLACE and failed
    (error 1846) where the naive MODIFY works."""
    _verify(tmp_path, ENUM, new, "mysql", mysql_url)


@pytest.mark.mysql
def test_a_column_added_to_a_mysql_table_with_a_fulltext_index(tmp_path: Path, mysql_url: str):
    """The server rebuilds such a table in place only with LOCK=SHARED (1846 for LOCK=NONE):
    the step falls back to it, as the naive ALTER does, instead of failing."""
    new = FULLTEXT.replace("html TEXT NULL,", "html TEXT NULL, banned TINYINT(1) NOT NULL DEFAULT 0,")
    _verify(tmp_path, FULLTEXT, new, "mysql", mysql_url)


@pytest.mark.mysql
def test_a_mysql_index_that_serves_a_foreign_key_in_place_of_its_own(tmp_path: Path, mysql_url: str):
    """A new index whose first column is a foreign key's: the server drops the key's own
    (implicit) index by itself when expand creates it, so contract's DROP INDEX failed (1091)
    on a clean run (found by a helper; verify builds OLD with the index explicit, which the
    server keeps). The drop runs only if the index is still there."""
    import subprocess
    import sys

    import sqlalchemy as sa
    from typer.testing import CliRunner

    from planner.cli import app

    old = ("CREATE TABLE a (id INT NOT NULL PRIMARY KEY);\n"
           "CREATE TABLE e (id INT NOT NULL PRIMARY KEY, a_id INT NOT NULL, kind VARCHAR(20) NOT NULL, "
           "CONSTRAINT e_a_fk FOREIGN KEY (a_id) REFERENCES a (id));\n")
    new = old.replace("NOT NULL, CONSTRAINT", "NOT NULL, KEY e_a_kind_idx (a_id, kind), CONSTRAINT")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 "--init", str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(mysql_url)
    with engine.begin() as c:  # as the application created it: the key's index is implicit
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
    base = [sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={mysql_url}"]
    for args in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
        run = subprocess.run([*base, *args], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
    indexes = {i["name"] for i in sa.inspect(sa.create_engine(mysql_url)).get_indexes("e")}
    assert indexes == {"e_a_kind_idx"}, indexes


def test_a_sqlite_foreign_key_action_change_is_undone(tmp_path: Path, sqlite_url: str):
    """The rebuild's downgrade ran `create the old key` before `drop the new one` (same name),
    so the downgrade left the table without any foreign key."""
    _verify(tmp_path, FK, FK.replace("ON DELETE RESTRICT", "ON DELETE CASCADE"), "sqlite", sqlite_url)


def test_a_sqlite_autoincrement_table_with_a_descending_index_is_rebuilt(tmp_path: Path, sqlite_url: str):
    """Planning crashed (an `sa.Index` written after the table's `sqlite_autoincrement=True`),
    the index was written `t.a DESC` (SQLite refuses a table name there), and the rebuilt table
    lost AUTOINCREMENT (the copy's INTEGER had no integer affinity for SQLAlchemy, and Alembic
    takes table options from `table_kwargs` alone)."""
    _verify(tmp_path, AUTO, AUTO.replace("b TEXT)", "b TEXT NOT NULL DEFAULT '')"), "sqlite", sqlite_url,
            config="[backfill]\n\"t.b\" = \"''\"\n")


@pytest.mark.mysql
def test_a_removed_mysql_enum_value_remapped_to_an_added_one(tmp_path: Path, mysql_url: str):
    """`enum_remap` of a removed value to a value NEW adds: the backfill moved the rows there
    before the contract's MODIFY allowed it (1265 Data truncated), where the naive add, update,
    remove works. Expand now allows the added value first, as for a renamed one."""
    old = "CREATE TABLE e (id INT NOT NULL PRIMARY KEY, status ENUM('a','b') NOT NULL DEFAULT 'a');\n"
    _verify(tmp_path, old, old.replace("'a','b'", "'a','c'"), "mysql", mysql_url,
            config='[enum_remap]\n"e.status.b" = "c"\n')


def test_a_mysql_column_enum_value_rename_is_suggested_as_a_remap(tmp_path: Path):
    """A value replaced at the same position of a column's own ENUM was suggested as `--rename
    t.e.b1=b2`, which the CLI then refused (no enum of that name: MySQL's ENUM is the column's).
    The hint is the `enum_remap` entry that keeps the rows' data, and once configured the
    suggestion is gone."""
    from typer.testing import CliRunner

    from planner.cli import app

    old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, e ENUM('a','b1','c') NOT NULL);\n"
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(old.replace("'b1'", "'b2'"))
    args = ["diff", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql"]
    r = CliRunner().invoke(app, args)
    hint = '[tool.planner.enum_remap] "t.e.b1" = "b2"'
    assert f"rename_enum_value t.e.b1 -> t.e.b2  {hint}" in r.output, r.output
    (tmp_path / "planner.toml").write_text(hint.replace(" ", "\n", 1).replace("[tool.planner.", "[") + "\n")
    r = CliRunner().invoke(app, [*args, "--config", str(tmp_path / "planner.toml")])
    assert r.exit_code == 0 and "possible rename" not in r.output, r.output


NULLABLE = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) NULL, note VARCHAR(20) NULL, "
            "seen DATETIME NULL);\n")


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_a_not_null_backfill_downgrade_keeps_what_the_application_wrote_since(tmp_path: Path, dialect: str,
                                                                                request: pytest.FixtureRequest):
    """The downgrade of a NOT NULL backfill put NULL back into every row the backfill had
    filled, erasing what the application wrote there after the upgrade. The backup now records
    what each row is filled with (computed before the batches, which write that value), and the
    downgrade puts NULL back only where the row still holds it; a volatile fill (NOW()) too."""
    import os
    import subprocess
    import sys

    import sqlalchemy as sa
    from typer.testing import CliRunner

    from planner.cli import app
    from planner.load import load_source
    from planner.verify.harness import build_schema

    url = request.getfixturevalue("mysql_url" if dialect == "mysql" else "sqlite_url")
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(NULLABLE)
    new.write_text(NULLABLE.replace("note VARCHAR(20) NULL", "note VARCHAR(20) NOT NULL")
                   .replace("seen DATETIME NULL", "seen DATETIME NOT NULL"))
    now = "NOW()" if dialect == "mysql" else "datetime('now')"
    (tmp_path / "planner.toml").write_text(f'[backfill]\n"t.note" = "concat(\'n-\', id)"\n"t.seen" = "{now}"\n'
                                           if dialect == "mysql" else
                                           f'[backfill]\n"t.note" = "\'n-\' || id"\n"t.seen" = "{now}"\n')
    build_schema(url, load_source(str(old), dialect=dialect).schema)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO t (id, name, note, seen) VALUES (1, 'a', NULL, NULL), (2, 'b', NULL, NULL), "
                          "(3, 'c', NULL, NULL), (4, 'd', 'x', '2020-01-01 00:00:00')")
    proj = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", dialect, "--init", str(proj), "-q",
                                 "--config", str(tmp_path / "planner.toml")])
    assert r.exit_code == 0, r.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(url).render_as_string(hide_password=False)}

    def run(*args: str) -> None:
        r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr

    run("upgrade", "head")
    with engine.begin() as c:
        assert dict(c.exec_driver_sql("SELECT id, note FROM t").all()) == {1: "n-1", 2: "n-2", 3: "n-3", 4: "x"}
        c.exec_driver_sql("UPDATE t SET note = 'app', seen = '2021-02-02 00:00:00' WHERE id = 2")
    run("downgrade", "base")
    with engine.begin() as c:
        got = {i: (n, str(s) if s is not None else None)
               for i, n, s in c.exec_driver_sql("SELECT id, note, seen FROM t").all()}
    engine.dispose()
    assert got == {1: (None, None), 2: ("app", "2021-02-02 00:00:00"), 3: (None, None),
                   4: ("x", "2020-01-01 00:00:00")}


#: a key column whose name holds what a driver could read as a placeholder
KEYED = ("CREATE TABLE t (a INT NOT NULL, `b?%s` VARCHAR(20) NOT NULL, name VARCHAR(40) NULL, note VARCHAR(40) NULL, "
         "PRIMARY KEY (a, `b?%s`));\n")


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_batches_walk_a_composite_primary_key(tmp_path: Path, dialect: str, request: pytest.FixtureRequest):
    """Backfills (and MySQL's restores) ran `UPDATE ... WHERE cond LIMIT n` until no row
    changed: each batch read again, and on MySQL locked, every row done before it (quadratic:
    4x the rows took 8.9x the time on MariaDB). They walk the primary key now (rt.keyset), a
    composite one too, batch boundaries inside a group of its first column; a `%` in the
    expression and a `?` or `%s` in a key's name reach the server as written; a row written behind the walk (SQLite: by a
    trigger, when the walk passes a=250; it names no dropped column: the rebuild stops on a trigger that no
    longer compiles) is found at its end and filled too. On MySQL a batch
    behind an application's row lock gives up in one line after -x lock_retries attempts, and a
    re-run finishes."""
    import os
    import subprocess
    import sys
    import threading
    import time

    import sqlalchemy as sa
    from typer.testing import CliRunner

    from planner.cli import app
    from planner.load import load_source
    from planner.verify.harness import build_schema

    url = request.getfixturevalue("mysql_url" if dialect == "mysql" else "sqlite_url")
    pct = "%%" if dialect == "mysql" else "%"  # a % the driver reads (pymysql formats even without values)
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(KEYED)
    new.write_text(KEYED.replace("name VARCHAR(40) NULL, ", "").replace("note VARCHAR(40) NULL",
                                                                       "note VARCHAR(40) NOT NULL"))
    fill = "concat('5%-', a, '-', `b?%s`)" if dialect == "mysql" else "'5%-' || a || '-' || `b?%s`"
    (tmp_path / "planner.toml").write_text(f'[backfill]\n"t.note" = "{fill}"\n')
    build_schema(url, load_source(str(old), dialect=dialect).schema)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    rows = [(a, f"k{b}", f"n{a}.{b}", "kept" if (a + b) % 7 == 0 else None) for a in range(1, 301) for b in range(10)]
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO t (a, `b?%s`, name, note) VALUES ".replace("%", "%%" if dialect == "mysql"
                                                                                  else "%") +
                          ", ".join(f"({a}, '{b}', '{n}', {repr(x) if x else 'NULL'})" for a, b, n, x in rows))
        if dialect == "sqlite":
            c.exec_driver_sql("CREATE TRIGGER late AFTER UPDATE OF note ON t WHEN NEW.a = 250 BEGIN "
                              "INSERT OR IGNORE INTO t (a, `b?%s`, note) VALUES (0, 'late', NULL); END")
    proj = tmp_path / "proj"
    r = CliRunner().invoke(app, ["plan", str(old), str(new), "--dialect", dialect, "--init", str(proj), "-q",
                                 "--config", str(tmp_path / "planner.toml")])
    assert r.exit_code == 0, r.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(url).render_as_string(hide_password=False)}

    def alembic(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), "-x",
                               "batch_rows=97", *args], env=env, capture_output=True, text=True, check=False)

    if dialect == "mysql":  # an application transaction keeps row (150, k3) locked 15 s
        locked = threading.Event()

        def hold() -> None:
            with engine.connect() as c:
                c.exec_driver_sql("BEGIN")
                c.exec_driver_sql("SELECT * FROM t WHERE a = 150 AND `b?%%s` = 'k3' FOR UPDATE")
                locked.set()
                time.sleep(15)
                c.exec_driver_sql("ROLLBACK")

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        assert locked.wait(10)
        up = alembic("-x", "lock_retries=2", "upgrade", "head")
        holder.join()
        assert up.returncode != 0 and "Traceback" not in up.stderr, up.stderr[-2000:]
        assert "planner backfill t.note: rows of the next batch stayed locked by another transaction through 2 " \
               "attempts" in up.stderr, up.stderr[-2000:]
    up = alembic("upgrade", "head")
    assert up.returncode == 0, up.stderr[-3000:]
    with engine.connect() as c:
        got = {(a, b): note for a, b, note in c.exec_driver_sql(f"SELECT a, `b?{pct}s`, note FROM t")}
    want = {(a, b): x or f"5%-{a}-{b}" for a, b, _, x in rows}
    if dialect == "sqlite":
        want[(0, "late")] = "5%-0-late"
    assert got == want
    down = alembic("downgrade", "base")
    assert down.returncode == 0, down.stderr[-3000:]
    with engine.connect() as c:
        got = {(a, b): (name, note) for a, b, name, note in c.exec_driver_sql(f"SELECT a, `b?{pct}s`, name, note "
                                                                               "FROM t")}
    engine.dispose()
    want = {(a, b): (n, x) for a, b, n, x in rows}
    if dialect == "sqlite":  # written after the backup (no trigger records it): it keeps its fill
        want[(0, "late")] = (None, "5%-0-late")
    assert got == want


def test_a_sqlite_restore_looks_the_backup_up_by_an_index(tmp_path: Path):
    """A SQLite downgrade restores a dropped column with one UPDATE that looks each row up in
    the backup by key: the backup (CREATE TABLE ... AS SELECT) had no index, so every lookup
    scanned it (quadratic: 80,000 rows took 170 s). The restore indexes the backup's key first."""
    import sqlite3

    from planner.plan.build import build_plan

    (tmp_path / "old.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);\n")
    a = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=load_config(None, cwd=tmp_path),
                dialect="sqlite", renames=[])
    plan = build_plan(a.diff, a.old.schema, a.new.schema)
    code = "\n".join(b.code for s in plan.steps for b in s.downgrade)
    statements = [x for x in _sql_literals(code) if "planner_backup__t__a" in x]
    db = sqlite3.connect(tmp_path / "x.db")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
    db.execute("CREATE TABLE planner_backup__t__a AS SELECT id, a FROM t")
    update = next(x for x in statements if x.startswith("UPDATE"))
    for x in statements[:statements.index(update)]:
        db.execute(x)
    shown = " | ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + update))
    assert "SCAN b" not in shown and "USING" in shown, shown


def _sql_literals(code: str) -> list[str]:
    import ast

    return [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
