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
