"""verify's window writes on MariaDB and SQLite (planner.verify.window): after each revision,
the application versions its docstring allows write rows shaped as their schema (UPDATE of a
pre-existing row, the row deleted and inserted again), and a docstring that claims too much is
refuted by the database refusing a write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.config import Config
from planner.pipeline import analyze
from planner.verify.harness import verify

MYSQL_OLD = """
CREATE TABLE `notes` (`id` int NOT NULL AUTO_INCREMENT, `body` text NOT NULL, PRIMARY KEY (`id`),
  FULLTEXT KEY `notes_ft` (`body`));
CREATE TABLE `teams` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(50) NOT NULL, PRIMARY KEY (`id`));
CREATE TABLE `posts` (
  `id` int NOT NULL AUTO_INCREMENT,
  `team_id` int NOT NULL,
  `title` varchar(100) NOT NULL,
  `body` text NOT NULL,
  `status` enum('draft','live') NOT NULL DEFAULT 'draft',
  `legacy_code` varchar(20) NOT NULL,
  `it's` varchar(10) DEFAULT 'a\\\\b',
  PRIMARY KEY (`id`),
  CONSTRAINT `posts_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`)
);
"""
#: drops a NOT NULL column without a default (NEW's inserts leave it out), adds one with a
#: default
MYSQL_NEW = """
CREATE TABLE `notes` (`id` int NOT NULL AUTO_INCREMENT, `body` text NOT NULL, PRIMARY KEY (`id`),
  FULLTEXT KEY `notes_ft` (`body`));
CREATE TABLE `teams` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(50) NOT NULL, PRIMARY KEY (`id`));
CREATE TABLE `posts` (
  `id` int NOT NULL AUTO_INCREMENT,
  `team_id` int NOT NULL,
  `title` varchar(100) NOT NULL,
  `body` text NOT NULL,
  `status` enum('draft','live') NOT NULL DEFAULT 'draft',
  `it's` varchar(10) DEFAULT 'a\\\\b',
  `views` int NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  CONSTRAINT `posts_team_fk` FOREIGN KEY (`team_id`) REFERENCES `teams` (`id`)
);
"""

SQLITE_OLD = """
CREATE TABLE "teams" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);
CREATE TABLE "posts" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "team_id" INTEGER NOT NULL REFERENCES "teams" ("id"),
  "title" TEXT NOT NULL,
  "legacy_code" TEXT NOT NULL,
  "it's" TEXT DEFAULT 'x'
);
CREATE TABLE "tags" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);
"""
SQLITE_NEW = """
CREATE TABLE "teams" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);
CREATE TABLE "posts" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "team_id" INTEGER NOT NULL REFERENCES "teams" ("id"),
  "title" TEXT NOT NULL,
  "it's" TEXT DEFAULT 'x',
  "views" INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE "labels" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);
"""


def _analysis(tmp_path: Path, old: str, new: str, dialect: str, renames: tuple[str, ...] = ()):  # noqa: ANN202
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    return analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=Config(), dialect=dialect,
                   renames=list(renames))


def _window_writes(report) -> int:  # noqa: ANN001
    found = [int(m.group(1)) for n in report.notes if (m := re.match(r"window: (\d+) writes .* all accepted$", n))]
    assert found, report.notes
    return found[0]


def _lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every revision's docstring lets OLD and NEW run during and after it (a false claim)."""
    from planner.plan import revisions as revisions_module

    def lenient(parts):  # noqa: ANN001, ANN202
        return [(("OLD", "NEW"), ("OLD", "NEW")) for _ in parts]

    monkeypatch.setattr(revisions_module, "apps", lenient)


@pytest.mark.mysql
def test_verify_window_writes_on_mariadb(tmp_path: Path, mysql_url: str):
    """Every write accepted, on a table with a FULLTEXT index (each write is a transaction of
    its own: MariaDB aborts on a row updated, deleted in a rolled-back savepoint and deleted
    again in one transaction) and a dropped NOT NULL column NEW's inserts leave out (expand
    drops its NOT NULL)."""
    report = verify(_analysis(tmp_path, MYSQL_OLD, MYSQL_NEW, "mysql"), mysql_url)
    assert report.ok, (report.window, report.after_upgrade, report.after_downgrade, report.data)
    # OLD and NEW after expand, NEW after contract: an UPDATE and an INSERT into each table
    assert _window_writes(report) == 3 * 3 * 2


@pytest.mark.mysql
def test_verify_window_fails_where_a_version_cannot_write_on_mariadb(tmp_path: Path, mysql_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch):
    """A docstring that lets OLD run after contract is refuted: OLD writes `legacy_code`, which
    contract dropped."""
    _lenient(monkeypatch)
    report = verify(_analysis(tmp_path, MYSQL_OLD, MYSQL_NEW, "mysql"), mysql_url)
    assert not report.ok
    assert any(re.match(r"after contract: OLD: posts has no column legacy_code", f) for f in report.window), \
        report.window


@pytest.mark.parametrize("renames, writes", [
    # without the rename, tags is dropped and labels added (empty): OLD after expand writes into
    # teams, posts and tags, NEW after contract into teams and posts (an UPDATE and an INSERT each)
    ((), (3 + 2) * 2),
    # the renamed table's view is read-only, so OLD stops at expand, and NEW waits for the
    # rebuild that drops posts.legacy_code: nobody writes between them (a downtime window)
    (("tags=labels",), 1 * 3 * 2),
])
def test_verify_window_writes_on_sqlite(tmp_path: Path, renames: tuple[str, ...], writes: int):
    """Every write accepted on SQLite (foreign keys on, savepoints), with a dropped NOT NULL
    column without a default, which NEW's inserts leave out: NEW runs only after the contract
    rebuild drops it."""
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    report = verify(_analysis(tmp_path, SQLITE_OLD, SQLITE_NEW, "sqlite", renames), url)
    assert report.ok, (report.window, report.after_upgrade, report.after_downgrade, report.data)
    assert _window_writes(report) == writes


def test_verify_window_fails_where_a_version_cannot_write_on_sqlite(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    """A docstring that lets OLD write after the table rename is refuted by the database: the
    compatibility view is read-only."""
    _lenient(monkeypatch)
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    report = verify(_analysis(tmp_path, SQLITE_OLD, SQLITE_NEW, "sqlite", ("tags=labels",)), url)
    assert not report.ok
    assert any(f.startswith("after expand: OLD: UPDATE of a pre-existing row of tags: cannot modify tags because "
                            "it is a view") for f in report.window), report.window
