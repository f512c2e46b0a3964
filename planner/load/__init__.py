"""Load any schema source into the normalised model: `load_source(spec, dialect=...)`.

| spec | loader |
|---|---|
| `*.prisma`, or a folder of `*.prisma` files | `planner.load.prisma` |
| `*.sql` | `planner.load.ddl` (replayed through sqlglot) |
| a folder of migrations (`*/migration.sql`, `*.sql`, `*.up.sql`) | `planner.load.migrations` |
| `postgresql://`, `mysql+pymysql://`, `sqlite:///` URL | `planner.load.database` (read-only reflection) |
| `package.module:attr` | `planner.load.sqla` (SQLAlchemy MetaData or declarative base) |
| `empty` | an empty schema |
| `git:REV:PATH` | any file or folder above as it is in a git revision (`planner.load.git`) |
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import SourceError
from planner.load.common import Loaded, LoadWarning
from planner.model import DIALECTS, Schema

log = logging.getLogger(__name__)
_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
_IMPORT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def check_dialect(dialect: str | None) -> str | None:
    if dialect is None:
        return None
    aliases = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}
    d = aliases.get(dialect.lower(), dialect.lower())
    if d not in DIALECTS:
        raise SourceError(f"unknown dialect {dialect!r}", hint=f"use one of {', '.join(DIALECTS)}")
    return d


def source_kind(spec: str) -> str:
    """What kind of source `spec` names: prisma, sql, migrations, database, sqlalchemy, empty."""
    if spec.startswith("git:"):
        from planner.load.git import checkout

        kind = source_kind(str(checkout(spec)))
        if kind not in ("prisma", "sql", "migrations"):
            raise SourceError(f"{spec}: not a .prisma or .sql file or a folder of them",
                              hint="git:REV:PATH reads schema files and migration folders")
        return kind
    if spec == "empty":
        return "empty"
    if _URL.match(spec):
        return "database"
    path = Path(spec)
    if path.is_dir():
        if any(path.glob("*.prisma")):
            return "prisma"
        return "migrations"
    if path.suffix == ".prisma":
        return "prisma"
    if path.suffix == ".sql":
        return "sql"
    if not path.exists() and _IMPORT.match(spec):
        return "sqlalchemy"
    if not path.exists():
        raise SourceError(
            f"{spec}: no such file or directory",
            hint="give a .prisma or .sql file, a migrations folder, a database URL, "
            "package.module:attr or 'empty'",
        )
    raise SourceError(
        f"{spec}: cannot tell what kind of schema this is",
        hint="planner reads .prisma and .sql files, migration folders, database URLs and "
        "package.module:attr",
    )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing a schema file allocates objects that all stay alive (tokens, nodes, the model):
    the cyclic garbage collector's passes over the growing heap find nothing and cost a third
    of the load of a large schema. Paused while a file loads (reference counting still frees
    everything that is not a cycle), restored after, also on error."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            # what the load made sits in the youngest generation, and the first collection
            # after it would walk all of it (~0.05 s a large schema): freeze + unfreeze moves
            # every object to the oldest generation without a walk (still collected by a full
            # collection; skipped when the program froze objects itself)
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def load_source(spec: str, *, dialect: str | None = None, only_schema: str | None = None) -> Loaded:
    """Load one OLD or NEW source. `dialect` is needed for SQL text; otherwise inferred.
    `only_schema`: a PostgreSQL URL without `?schema=` reflects only that schema."""
    dialect = check_dialect(dialect)
    if spec.startswith("git:"):
        return _load_git(spec, dialect)
    kind = source_kind(spec)
    if kind == "empty":
        return Loaded(Schema(dialect=dialect or "postgresql"), spec, kind)
    if kind in ("prisma", "sql") and not Path(spec).exists():
        # what either loader says, before importing it (the DDL replayer imports sqlglot)
        raise SourceError(f"{spec}: no such file")
    if kind == "prisma":
        from planner.load.prisma import load_prisma

        with _no_cyclic_gc():
            return load_prisma(spec, dialect=dialect)
    if kind == "sql":
        from planner.load.ddl import load_sql_file

        with _no_cyclic_gc():
            return load_sql_file(spec, dialect=dialect)
    if kind == "migrations":
        from planner.load.migrations import load_migrations

        with _no_cyclic_gc():
            return load_migrations(spec, dialect=dialect)
    if kind == "database":
        from planner.load.database import load_database
        from planner.progress import step
        from planner.urls import mask_url

        with step(f"reading the schema of {mask_url(spec)}"):
            return load_database(spec, only_schema=only_schema)
    from planner.load.sqla import load_sqlalchemy

    return load_sqlalchemy(spec, dialect=dialect)


def _load_git(spec: str, dialect: str | None) -> Loaded:
    """A `git:REV:PATH` source: its local copy loaded, every name of the copy relabelled."""
    from dataclasses import replace

    from planner.errors import PlannerError
    from planner.load.git import checkout, relabel_error, relabel_text

    source_kind(spec)  # only schema files and folders
    local = checkout(spec)
    try:
        loaded = load_source(str(local), dialect=dialect)
    except PlannerError as e:
        raise relabel_error(e, local, spec) from None
    warnings = tuple(replace(w, message=relabel_text(w.message, local, spec),
                             location=replace(w.location, file=relabel_text(w.location.file, local, spec))
                             if w.location is not None else None)
                     for w in loaded.warnings)
    return Loaded(loaded.schema, spec, loaded.kind, warnings)


def single_schema(schema: Schema) -> str | None:
    """The one database schema every table, enum and view of `schema` lives in (the default
    schema for objects without one), or None when there are several or none."""
    names = {x.schema or schema.default_schema for x in (*schema.tables, *schema.enums, *schema.views)}
    return next(iter(names)) if len(names) == 1 and None not in names else None


def _masked(source: str) -> str:
    if not _URL.match(source):
        return source
    from planner.urls import mask_url

    return mask_url(source)


def load_pair(old_spec: str, new_spec: str, *, dialect: str | None = None) -> tuple[Loaded, Loaded]:
    """Load OLD and NEW in one dialect. Sources that know their dialect (Prisma datasource,
    database URL) are loaded first and tell the others (SQL text, migrations, models). A live
    database against a schema file: the file first (in the URL's dialect), and a PostgreSQL
    URL without `?schema=` reflects only the file's schema when it has just one."""
    dialect = check_dialect(dialect)
    kinds = {spec: source_kind(spec) for spec in (old_spec, new_spec)}
    rank = {"prisma": 0, "database": 0, "empty": 2}
    loaded: dict[str, Loaded] = {}
    dbs = [s for s in (old_spec, new_spec) if kinds[s] == "database"]
    others = [s for s in (old_spec, new_spec) if kinds[s] not in ("database", "empty")]
    if len(dbs) == 1 and len(others) == 1:
        # a live database against a schema file: the file first (in the URL's dialect), so a
        # PostgreSQL URL reflects only the file's one schema (not every schema of the server)
        from planner.load.database import parse_database_url

        url_dialect = parse_database_url(dbs[0]).dialect
        other = others[0]
        inferred = dialect if dialect is not None or kinds[other] == "prisma" else url_dialect
        loaded[other] = load_source(other, dialect=inferred)
        only = single_schema(loaded[other].schema) if url_dialect == "postgresql" else None
        loaded[dbs[0]] = load_source(dbs[0], only_schema=only)
    for spec in sorted((old_spec, new_spec), key=lambda s: rank.get(kinds[s], 1)):
        if spec in loaded:
            continue
        inferred = dialect
        if inferred is None and rank.get(kinds[spec], 1) > 0:
            inferred = next((x.schema.dialect for x in loaded.values()), None)
        loaded[spec] = load_source(spec, dialect=inferred)
    old, new = loaded[old_spec], loaded[new_spec]
    if log.isEnabledFor(logging.INFO):
        for side, x in (("OLD", old), ("NEW", new)):
            log.info("%s: %s %s (%s): %d tables, %d enums, %d views, %d warnings", side, x.kind,
                     _masked(x.source), x.schema.dialect, len(x.schema.tables), len(x.schema.enums),
                     len(x.schema.views), len(x.warnings))
    if old.schema.dialect != new.schema.dialect:
        from planner.urls import mask_url  # only here: it needs SQLAlchemy's URL parser

        raise SourceError(
            f"OLD ({mask_url(old_spec)}) is {old.schema.dialect} but NEW ({mask_url(new_spec)}) is {new.schema.dialect}",
            hint="both sides must describe the same kind of database; pass --dialect for SQL files")
    return old, new


__all__ = ["Loaded", "LoadWarning", "check_dialect", "load_pair", "load_source", "single_schema", "source_kind"]
