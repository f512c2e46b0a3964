"""Migrations-folder loader: the schema a folder of SQL migrations builds, replayed in order.

Layouts, tried in this order (the first that has files wins):

| layout | files | order |
|---|---|---|
| Prisma Migrate | `<folder>/<name>/migration.sql` | folder names |
| Diesel | `<folder>/<name>/up.sql` (`down.sql` ignored) | folder names |
| golang-migrate, dbmate-style | `<folder>/*.up.sql` (`*.down.sql` ignored) | natural order |
| plain scripts, Flyway | `<folder>/*.sql` (`*.down.sql`, `down.sql` ignored) | natural order |

Natural order compares digit runs as numbers, so `2_x.sql` comes before `10_x.sql`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from planner.errors import SourceError
from planner.load.common import Loaded
from planner.load.ddl import Replayer, guess_dialect, read_sql_file

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders `2_x` before `10_x` (digit runs compare as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                 for part in _DIGITS.split(name) if part)


def _is_down(name: str) -> bool:
    low = name.lower()
    return low == "down.sql" or low.endswith(".down.sql")


def _subfolder_files(folder: Path, filename: str) -> list[Path]:
    found = [d / filename for d in folder.iterdir() if d.is_dir() and (d / filename).is_file()]
    return sorted(found, key=lambda p: natural_key(p.parent.name))


def _folder_files(folder: Path, predicate) -> list[Path]:
    found = [p for p in folder.iterdir() if p.is_file() and predicate(p.name)]
    return sorted(found, key=lambda p: natural_key(p.name))


def migration_files(path: str) -> list[Path]:
    """The migration files of `path` in the order they are applied."""
    folder = Path(path)
    if not folder.is_dir():
        raise SourceError(f"{path}: not a folder of migrations")
    layouts = (
        lambda: _subfolder_files(folder, "migration.sql"),
        lambda: _subfolder_files(folder, "up.sql"),
        lambda: _folder_files(folder, lambda n: n.lower().endswith(".up.sql")),
        lambda: _folder_files(folder, lambda n: n.lower().endswith(".sql") and not _is_down(n)),
    )
    for layout in layouts:
        files = layout()
        if files:
            return files
    raise SourceError(
        f"{path}: no migrations found",
        hint="expected <name>/migration.sql (Prisma), <name>/up.sql (Diesel), *.up.sql or *.sql files",
    )


def load_migrations(path: str, *, dialect: str | None) -> Loaded:
    """Replay every migration of the folder `path`, in order, into one schema
    (`dialect=None`: guessed from the migrations' text)."""
    files = [os.path.join(path, os.path.relpath(f, path)) for f in migration_files(path)]
    texts = [read_sql_file(name) for name in files]
    replayer = Replayer(dialect or guess_dialect("\n".join(texts)))
    for name, text in zip(files, texts, strict=True):
        replayer.run(text, name)
    return Loaded(replayer.schema(), path, "migrations", tuple(replayer.warnings))


__all__ = ["load_migrations", "migration_files", "natural_key"]
