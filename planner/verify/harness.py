"""`planner verify OLD NEW --db URL`: prove a plan on a scratch database.

1. build OLD in the (empty) database and seed it with generated rows that respect its
   constraints; take checksums of every table;
2. on PostgreSQL and MySQL/MariaDB, run the naive migration of every converted column
   (planner.verify.oracle: in a transaction rolled back on PostgreSQL, on copies in a sibling
   database `<scratch>__naive` on MySQL, dropped again), on the seeded rows and with the
   application's writes; SQLite keeps the round trip only;
3. write the staged revisions into a throwaway Alembic project and upgrade one revision at a
   time, on a session whose time zone is not UTC (PostgreSQL `America/New_York`, MySQL the
   offset `-04:00`, through the URL's `init_command`); between revisions the OLD application writes
   boundary values (oracle); after each revision the application versions its docstring allows
   (OLD, NEW) write rows shaped as their schema, inserts and updates of pre-existing rows
   (planner.verify.window, on every dialect), and every write must be accepted; a guard stop passes only where
   the naive ALTER refuses the data; then the last revision is downgraded and upgraded again
   (a rollback, then a retry: what the downgrade leaves must be what the upgrade starts from);
4. the database must diff to zero changes against NEW, and every converted value must equal
   the naive ALTER's; the NEW application then writes the seeded values back;
5. `alembic downgrade base`; the database must diff to zero against OLD, the application's
   writes after the upgrade must survive it, and every table's rows and values must equal the
   checksums taken before;
6. `alembic upgrade head --sql` must render (offline mode).

The scratch database must be empty (no table, view, sequence, type or function outside an
extension, not even `alembic_version` or planner's backups) and must not be a maintenance
database (`postgres`, `template*`; MySQL's `mysql`, `sys`, ...). With a Prisma-style
`?schema=name` URL every session (build, seed, migration, application) runs with
`search_path` set to that schema, which verify creates when it is missing. Whatever verify
created is removed again when it ends, passed or failed (`keep=True` leaves it for a look).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from planner.changes import Kind
from planner.diff import diff
from planner.errors import PlannerError
from planner.load.database import connect_error, load_database, parse_database_url
from planner.model import Schema, Table, View
from planner.normalize import quote_ident, quote_table
from planner.pipeline import Analysis
from planner.plan.build import build_plan, derived_name
from planner.plan.revisions import Revision, init_project, revisions, write_revisions
from planner.progress import update
from planner.urls import mask_url, redact
from planner.verify import oracle, sqlite_state, window
from planner.verify.checksum import compare_checksums, table_checksums
from planner.verify.metadata import raw, to_metadata
from planner.verify.seed import seed_database


class VerifyFailed(PlannerError):
    """The plan did not round-trip on the scratch database."""


@dataclass(slots=True)
class VerifyReport:
    revisions: int = 0
    seeded: dict[str, int] = field(default_factory=dict)
    after_upgrade: list[str] = field(default_factory=list)
    after_downgrade: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    differential: list[str] = field(default_factory=list)
    #: writes of the application versions a revision's docstring allows that failed (window)
    window: list[str] = field(default_factory=list)
    offline_sql_lines: int = 0
    notes: list[str] = field(default_factory=list)
    #: the upgraded values were compared with the naive migration's (PostgreSQL, MySQL/MariaDB)
    compared_naive: bool = False

    @property
    def ok(self) -> bool:
        return not (self.after_upgrade or self.after_downgrade or self.data or self.differential or self.window)


#: databases a server needs for itself: verify never fills (and empties) one of them
_MAINTENANCE = {"postgresql": ("postgres",), "mysql": ("mysql", "sys", "information_schema", "performance_schema")}


def _engine_url(url: str, *, timezone: str | None = None) -> str:
    """The URL verify's own engines use: with `?schema=name`, sessions run with `search_path`
    set to it (as Prisma's do), and optionally with a session TimeZone (on MySQL the
    application's offset, `oracle.APP_OFFSET`, set by `init_command` unless the URL has one)."""
    target = parse_database_url(url)
    engine_url = target.url
    options = []
    if target.dialect == "postgresql":
        if target.schema:
            options.append("-c search_path=" + quote_ident(target.schema, "postgresql").replace(" ", "\\ "))
        if timezone:
            options.append(f"-c TimeZone={timezone}")
        given = engine_url.query.get("options")
        if options:
            engine_url = engine_url.update_query_dict({"options": " ".join([given, *options] if given else options)})
    elif target.dialect == "mysql" and timezone and "init_command" not in engine_url.query:
        # a named zone needs the server's time zone tables: the application's offset instead
        engine_url = engine_url.update_query_dict({"init_command": f"SET time_zone = '{oracle.APP_OFFSET}'"})
    return engine_url.render_as_string(hide_password=False)


def _refuse_maintenance(url: str) -> None:
    target = parse_database_url(url)
    name = target.url.database or ""
    if name in _MAINTENANCE.get(target.dialect, ()) or (target.dialect == "postgresql" and name.startswith("template")):
        raise PlannerError(f"{target.masked} is the server's maintenance database {name!r}: planner verify fills the "
                           "database it is given and empties it again",
                           hint="create a scratch database for it, e.g. createdb planner_scratch")


def _objects(conn: sa.Connection, dialect: str, schemas: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(kind, schema, name) of every object an application or planner put into the database:
    on PostgreSQL relations, types and functions outside extensions, in `schemas` (default:
    every user schema); MySQL tables, views and routines; SQLite tables, views and triggers."""
    if dialect == "postgresql":
        user = ("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
                "AND n.nspname NOT LIKE 'pg\\_temp%'" if schemas is None else "n.nspname = ANY(:schemas)")
        not_ext = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{cat}'::regclass AND d.objid = {oid} "
                   "AND d.deptype = 'e')")
        sql = f"""
            SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                   WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, n.nspname, quote_ident(c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {user} AND {not_ext.format(cat='pg_class', oid='c.oid')}
            UNION ALL
            SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, quote_ident(t.typname)
              FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class
                    WHERE oid = t.typrelid) = 'c')) AND {user} AND {not_ext.format(cat='pg_type', oid='t.oid')}
            UNION ALL
            SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, n.nspname,
                   quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE {user} AND {not_ext.format(cat='pg_proc', oid='p.oid')}
             ORDER BY 1, 2, 3"""
        rows = conn.execute(sa.text(sql), {"schemas": list(schemas or [])} if schemas is not None else {})
        return [(r[0], r[1], r[2]) for r in rows]
    if dialect == "mysql":
        rows = conn.execute(sa.text(
            "SELECT CASE table_type WHEN 'VIEW' THEN 'VIEW' ELSE 'TABLE' END, table_schema, table_name "
            "FROM information_schema.tables WHERE table_schema = DATABASE() UNION ALL "
            "SELECT routine_type, routine_schema, routine_name FROM information_schema.routines "
            "WHERE routine_schema = DATABASE() ORDER BY 1, 3"))
        return [(r[0], r[1], r[2]) for r in rows]
    rows = conn.execute(sa.text("SELECT upper(type), 'main', name FROM sqlite_master "
                                "WHERE type IN ('table', 'view', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                                "ORDER BY 1, 3"))
    return [(r[0], r[1], r[2]) for r in rows]


@dataclass(slots=True)
class _Scratch:
    """What the scratch database held before verify (to remove exactly what verify adds)."""

    url: str
    dialect: str
    created_file: bool = False
    schemas: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


def _prepare(url: str) -> _Scratch:
    """Refuse a maintenance or non-empty database; note what exists; create `?schema=`."""
    _refuse_maintenance(url)
    target = parse_database_url(url)
    scratch = _Scratch(url, target.dialect)
    if target.dialect == "sqlite" and target.path and not Path(target.path).exists():
        sqlite3.connect(target.path).close()  # a new scratch file; the read-only reader needs one
        scratch.created_file = True
    engine = sa.create_engine(_engine_url(url), poolclass=sa.pool.NullPool)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as e:  # unreachable server, bad credentials, no such database
            raise connect_error(target, e) from None
        with connection as conn, conn.begin():
            found = _objects(conn, target.dialect)
            if found:
                kind, schema, name = found[0]
                raise PlannerError(f"{target.masked} is not empty ({len(found)} objects, e.g. {kind.lower()} "
                                   f"{schema}.{name})" if target.dialect != "sqlite" else
                                   f"{target.masked} is not empty ({len(found)} objects, e.g. {kind.lower()} {name})",
                                   hint="planner verify builds OLD itself: give it an empty scratch database")
            if target.dialect == "postgresql":
                scratch.schemas = tuple(conn.execute(sa.text(
                    "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'")).scalars())
                scratch.extensions = tuple(conn.exec_driver_sql("SELECT extname FROM pg_extension").scalars())
                if target.schema and target.schema not in scratch.schemas:
                    raw(conn, f"CREATE SCHEMA {quote_ident(target.schema, 'postgresql')}")
    finally:
        engine.dispose()
    return scratch


def cleanup(scratch: _Scratch) -> None:
    """Remove what verify created: new schemas, extensions and every object in the schemas
    that existed (the database was empty), or the SQLite file verify created."""
    target = parse_database_url(scratch.url)
    if scratch.created_file and target.path:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(target.path + suffix).unlink(missing_ok=True)
        return
    engine = sa.create_engine(_engine_url(scratch.url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if scratch.dialect == "postgresql":
                _cleanup_postgres(conn, scratch)
            elif scratch.dialect == "mysql":
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
                for kind, _schema, name in _objects(conn, "mysql"):
                    raw(conn, f"DROP {kind} IF EXISTS {quote_ident(name, 'mysql')}")
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
                for kind, _schema, name in _objects(conn, "sqlite"):
                    raw(conn, f"DROP {kind} IF EXISTS {quote_ident(name, 'sqlite')}")
    finally:
        engine.dispose()


def _cleanup_postgres(conn: sa.Connection, scratch: _Scratch) -> None:
    now = conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', "
                               "'information_schema') AND nspname NOT LIKE 'pg\\_toast%' "
                               "AND nspname NOT LIKE 'pg\\_temp%' ORDER BY 1")).scalars().all()
    for name in now:
        if name not in scratch.schemas:
            raw(conn, f"DROP SCHEMA IF EXISTS {quote_ident(name, 'postgresql')} CASCADE")
    order = ("VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "TABLE", "SEQUENCE", "PROCEDURE", "AGGREGATE",
             "FUNCTION", "DOMAIN", "TYPE")
    kept = [s for s in now if s in scratch.schemas]
    for kind, schema, name in sorted(_objects(conn, "postgresql", kept), key=lambda o: order.index(o[0])):
        raw(conn, f"DROP {kind} IF EXISTS {quote_ident(schema, 'postgresql')}.{name} CASCADE")
    for ext in conn.exec_driver_sql("SELECT extname FROM pg_extension ORDER BY 1").scalars().all():
        if ext not in scratch.extensions:
            raw(conn, f"DROP EXTENSION IF EXISTS {quote_ident(ext, 'postgresql')} CASCADE")


def build_schema(url: str, schema: Schema) -> None:
    engine = sa.create_engine(_engine_url(url))
    try:
        to_metadata(schema).create_all(engine)
        partitions = [(t, p) for t in schema.tables if t.partition_by for p in _partitions(t)]
        if partitions:
            with engine.begin() as conn:
                for t, (suffix, bounds, *parent) in partitions:
                    prefix = f"{quote_ident(t.schema, 'postgresql')}." if t.schema else ""
                    name = prefix + quote_ident(derived_name(t.name, suffix), "postgresql")
                    of = prefix + quote_ident(parent[0] if parent else t.name, "postgresql")
                    raw(conn, f"CREATE TABLE {name} PARTITION OF {of} {bounds}")
        _build_views(engine, schema)
    finally:
        engine.dispose()


def _build_views(engine: sa.Engine, schema: Schema) -> None:
    """The schema's views (those whose definition the model holds), a view on another view
    after it: a plan meets the views that read what it changes (PostgreSQL refuses to change
    the type of a column a view reads, or to drop it) as the real database has them. A view
    the server refuses stops verify with the server's error. (PostgreSQL only: MySQL and
    SQLite do not refuse those.)"""
    todo = [v for v in schema.views if v.definition] if schema.dialect == "postgresql" else []
    with engine.begin() as conn:  # (a schema may hold views only)
        for name in sorted({v.schema for v in todo if v.schema}):
            raw(conn, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name, 'postgresql')}")
    while todo:
        left: list[tuple[View, Exception]] = []
        for v in todo:
            kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
            try:
                with engine.begin() as conn:  # (the DBAPI's own cursor: no parameter markers)
                    conn.connection.dbapi_connection.cursor().execute(
                        f"CREATE {kind} {quote_table(v.schema, v.name, schema.dialect)} AS {v.definition}")
            except Exception as err:  # noqa: BLE001 (any driver's error: a view it needs comes later)
                left.append((v, err))
        if len(left) == len(todo):
            v, err = left[0]
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise PlannerError(f"OLD does not build: view {v.name}: {first}",
                               hint="fix the view's definition so that the server accepts it")
        todo = [v for v, _ in left]


def _partitions(table: Table) -> list[tuple[str, ...]]:
    """The partitions verify gives a partitioned table, as (name suffix, what follows PARTITION
    OF), parents first: two by hash where the table is partitioned by hash; else a DEFAULT
    partition (it takes a range or list key of any type) that is itself partitioned by hash of
    the same key into two. Every row lands in some leaf, rows of two leaves share row addresses
    (ctid), and plans meet a partition that has partitions of its own."""
    method, _, key = (table.partition_by or "").strip().partition(" ")
    halves = [(f"__verify_p{r}", f"FOR VALUES WITH (MODULUS 2, REMAINDER {r})") for r in (0, 1)]
    if method.upper() == "HASH":
        return halves
    default = derived_name(table.name, "__verify_p")
    return [("__verify_p", f"DEFAULT PARTITION BY HASH {key.strip()}"),
            *[(suffix, bounds, default) for suffix, bounds in halves]]


def _config(directory: Path, url: str) -> Config:
    cfg = init_project(str(directory))
    # the migration runs on a non-UTC session (and in `?schema=`'s search_path)
    engine_url = sa.make_url(_engine_url(url, timezone=oracle.APP_TIMEZONE))
    cfg.cmd_opts = argparse.Namespace(x=[f"db={engine_url.render_as_string(hide_password=False)}"])
    cfg.attributes["planner_in_process"] = True  # no alembic log lines in planner's report
    return cfg


def _changes(a: Schema, b: Schema, url: str | None = None) -> list[str]:
    """What differs between `a` (the scratch database, loaded from `url`) and `b` (a schema
    file). A view's definition is compared as the server spells it (PostgreSQL: the file's
    definition made a temporary view and read back), not as written."""
    changes = diff(a, b).changes
    if url is None or a.dialect != "postgresql" or not any(c.kind == Kind.ALTER_VIEW for c in changes):
        return [c.id for c in changes]
    engine = sa.create_engine(_engine_url(url))
    try:
        with engine.connect() as conn:
            def spelled(view: View) -> tuple[str, list[tuple[str, str]]] | None:
                """The server's definition of `view` as the file has it, or None if refused."""
                with conn.begin_nested():
                    try:
                        conn.connection.dbapi_connection.cursor().execute(
                            f"CREATE TEMPORARY VIEW planner_verify_view AS {view.definition}")
                    except Exception:  # noqa: BLE001 (any driver's error: then it differs)
                        return None
                    out = read("planner_verify_view")
                    conn.exec_driver_sql("DROP VIEW planner_verify_view")
                    return out

            def read(view: str) -> tuple[str, list[tuple[str, str]]]:
                """The server's definition of `view` (quoted), and its columns with their types."""
                body = conn.exec_driver_sql("SELECT pg_get_viewdef(%(v)s::regclass)", {"v": view}).scalar()
                columns = conn.exec_driver_sql(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                    "%(v)s::regclass AND attnum > 0 AND NOT attisdropped", {"v": view}).all()
                return body, sorted((a, b) for a, b in columns)

            same = set()
            for c in changes:
                if c.kind == Kind.ALTER_VIEW and c.old.materialized == c.new.materialized:
                    live = read(quote_table(c.old.schema, c.old.name, "postgresql"))
                    mine = spelled(c.new)
                    # `SELECT *` is expanded when a view is created: created again from the
                    # file now, it lists the table's columns in their order now (an R8 swap puts
                    # the converted one last), where the migrated view keeps the order it had.
                    # Such a view is the same when it has the same columns
                    star = re.search(r"(?i)select\s+(distinct\s+)?(\w+\.)?\*", c.new.definition or "")
                    if mine is not None and (live[0] == mine[0] or (star and live[1] == mine[1])):
                        same.add(c.id)
            conn.rollback()
    finally:
        engine.dispose()
    return [c.id for c in changes if c.id not in same]


def _migrate(fn, cfg: Config, target: str, url: str) -> None:  # noqa: ANN001
    """Run an Alembic command; a guard stop or a failing statement becomes VerifyFailed (one
    line, the database URL masked)."""
    try:
        fn(cfg, target)
    except Exception as e:  # noqa: BLE001 - whatever the migration raised is the verdict
        first = (str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0]
        raise VerifyFailed(f"{fn.__name__} {target} stopped: {redact(first, [url])}") from e


def verify(analysis: Analysis, url: str, *, rows: int = 20, seed: int = 0, keep: bool = False) -> VerifyReport:
    """Prove the plan on the scratch database at `url` (see the module doc). Whatever verify
    built there is removed when it ends, passed or failed, unless `keep`."""
    target = parse_database_url(url)
    if target.dialect != analysis.new.schema.dialect:
        raise PlannerError(f"{target.masked} is {target.dialect} but the schemas are {analysis.new.schema.dialect}",
                           hint="give a scratch database of the schemas' kind")
    scratch = _prepare(url)
    try:
        report = _verify(analysis, url, rows=rows, seed=seed)
    except BaseException:
        if not keep:
            with contextlib.suppress(Exception):  # the verdict is the error being raised
                cleanup(scratch)
        raise
    if keep:
        report.notes.append(f"--keep: the scratch database {target.masked} keeps what verify built")
    else:
        cleanup(scratch)
    return report


def _verify(analysis: Analysis, url: str, *, rows: int, seed: int) -> VerifyReport:
    old, new = analysis.old.schema, analysis.new.schema
    report = VerifyReport()
    plan = build_plan(analysis.diff, old, new, backfill=analysis.config.backfill,
                      enum_remap=analysis.config.enum_remap, convert=analysis.config.convert,
                      renames_in_place=analysis.config.renames_in_place)
    update("building OLD")
    try:
        build_schema(url, old)
    except sa.exc.DBAPIError as e:  # OLD itself is refused by the server: no plan to prove
        first = (str(e.orig).strip().splitlines() or [type(e.orig).__name__])[0]
        raise PlannerError(f"OLD does not build on {mask_url(url)}: {first}",
                           hint="fix OLD so that the server accepts it (the naive DDL of it fails the same way)") from e
    choices = oracle.rule_choices(url, old, new, analysis.config.convert) \
        if new.dialect == "postgresql" else {}
    update(f"seeding {rows} rows per table")
    seeded = seed_database(url, old, rows=rows, seed=seed, choices=choices)
    report.seeded = dict(seeded.rows)
    report.notes.extend(getattr(seeded, "notes", []) or [])
    sqlite_before = None
    if old.dialect == "sqlite":  # rowids spread apart, AUTOINCREMENT counters raised (sqlite_state)
        sqlite_state.spread(url)
        sqlite_before = sqlite_state.snapshot(url)
    before = table_checksums(url, old)
    revs = revisions(plan, source=f"{mask_url(analysis.old.source)} -> {mask_url(analysis.new.source)}")
    report.revisions = len(revs)
    engine = sa.create_engine(_engine_url(url), poolclass=sa.pool.NullPool)
    try:
        with tempfile.TemporaryDirectory(prefix="planner-verify-") as tmp:
            cfg = _config(Path(tmp) / "project", url)
            write_revisions(revs, cfg, seed="verify")
            _round_trip(report, cfg, engine, url, old, new, before, len(revs), _backfilled(analysis),
                        analysis.config.convert, revs=revs, window_apps=window.apps(analysis.diff, old, new),
                        enum_remap=analysis.config.enum_remap, backfill=analysis.config.backfill,
                        sqlite_before=sqlite_before)
            offline = io.StringIO()
            with contextlib.redirect_stdout(offline):
                command.upgrade(cfg, "head", sql=True)
            report.offline_sql_lines = offline.getvalue().count("\n")
    finally:
        engine.dispose()
    return report


def _backfilled(analysis: Analysis) -> list[tuple[str, str]]:
    """(table, column) of each NOT NULL the plan fills from a configured backfill."""
    return [(c.table, c.column) for c in analysis.diff.changes
            if c.kind == Kind.SET_NOT_NULL and c.object in analysis.config.backfill]


def _round_trip(report: VerifyReport, cfg: Config, engine: sa.Engine, url: str, old: Schema, new: Schema,
                before: dict[str, str], count: int, backfilled: list[tuple[str, str]],
                convert: dict | None = None, *, revs: list[Revision] | None = None,
                window_apps: dict[str, window.App] | None = None, enum_remap: dict[str, str] | None = None,
                backfill: dict[str, str] | None = None, sqlite_before: sqlite_state.State | None = None) -> None:
    # the differential oracle: PostgreSQL (a rolled-back transaction) and MySQL/MariaDB (a
    # sibling database); SQLite keeps the round trip only
    naive_oracle = new.dialect in ("postgresql", "mysql")
    report.compared_naive = naive_oracle
    extensions = tuple(c.name for c in diff(old, new).changes if c.kind == Kind.ADD_EXTENSION and c.name)
    window_writes = 0
    window_skipped: set[str] = set()
    targets = oracle.converted_columns(old, new, convert) if naive_oracle else []
    writes: list[oracle.Write] = []
    filled: list[oracle.Write] = []
    if naive_oracle and backfilled:
        with engine.connect() as conn:
            filled = oracle.backfill_writes(conn, old, new, backfilled)
    naive_seed: dict[str, oracle.Naive] = {}
    naive_all: dict[str, oracle.Naive] = {}
    if targets:
        with oracle.app_connection(engine) as conn:  # (the seeded values as the application reads them)
            writes = oracle.plan_writes(conn, targets)
        remap = {"enum_remap": enum_remap, "backfill": backfill}
        naive_seed = oracle.naive_results(engine, targets, [], extensions, **remap)
        naive_all = oracle.naive_results(engine, targets, writes, extensions, **remap) if writes else naive_seed
    quiet = io.StringIO()
    applied = False  # whether the window writes ran (not without a window: one revision)
    for i in range(count):
        update(f"upgrade {i + 1}/{count}")
        try:
            with contextlib.redirect_stdout(quiet):
                _migrate(command.upgrade, cfg, "+1", url)
        except VerifyFailed as e:
            refused = [f"{name}: {n.refused}" for name, n in sorted(naive_seed.items()) if n.refused]
            if "planner guard failed" not in str(e) or not refused:
                raise
            report.notes.append(f"the plan stopped at a guard ({e}) where the naive ALTER fails on the seeded "
                                f"rows too ({'; '.join(refused)}): as it should")
            _restore(report, cfg, engine, url, old, before, writes + filled, after_upgrade=False,
                     sqlite_before=sqlite_before)
            return
        allowed = revs[i].after if revs is not None else ("OLD",)
        if window_apps:  # the versions the docstring allows after it write (window)
            label = revs[i].message.split(":", 1)[0] if revs is not None else f"revision {i + 1}"
            for name in allowed:
                failures, n, skipped = window.app_writes(engine, window_apps[name])
                report.window.extend(f"after {label}: {f}" for f in failures)
                window_writes += n
                window_skipped.update(skipped)
        if i < count - 1 and writes and "OLD" in allowed:  # the OLD application writes during the window
            applied = True
            with oracle.app_connection(engine) as conn:
                for w in writes:
                    if w.refused is None:
                        w.refused = oracle.apply_write(conn, w, w.value)
                        conn.commit()
    # a rollback of the last revision, then a retry: its downgrade must leave what its upgrade
    # starts from (a NOT VALID check of the backfill revision that the contract's downgrade did
    # not add back failed the second upgrade)
    if count:
        update("downgrade the last revision and upgrade it again")
        with contextlib.redirect_stdout(quiet):
            _migrate(command.downgrade, cfg, "-1", url)
            _migrate(command.upgrade, cfg, "+1", url)
    if window_writes and not report.window:
        report.notes.append(f"window: {window_writes} writes shaped as the application versions each revision's "
                            "docstring allows (OLD, NEW) after it, all accepted")
    if window_skipped:
        report.notes.append(f"window: no INSERT into {', '.join(sorted(window_skipped))} (none of the sampled rows "
                            "could be deleted to be inserted again: other rows reference them)")
    report.after_upgrade = _changes(load_database(url).schema, new, url)
    if sqlite_before is not None:  # what the naive migration keeps and no diff shows (sqlite_state)
        kept = {t.name for t in old.tables} & {t.name for t in new.tables}
        report.differential.extend(f"after the upgrade, {x}" for x in
                                   sqlite_state.compare(sqlite_before, sqlite_state.snapshot(url), kept)
                                   + sqlite_state.schema_errors(url))
    if not applied:  # the plan's rows hold no window write: compare with the naive ALTER of the seed
        naive_all = naive_seed
    window_done = writes if applied else []
    _differential(report, targets, window_done, naive_seed, naive_all)
    report.differential.extend(oracle.compare(engine, targets, naive_all))
    if targets:
        accepted = sum(w.refused is None for w in window_done)
        skipped = sorted(f"{name} ({n.skipped})" for name, n in naive_all.items() if n.skipped)
        report.notes.append(f"differential: {len(targets)} converted columns compared with the naive ALTER; "
                            f"{len(window_done)} writes during the window, {len(window_done) - accepted} refused "
                            "by the plan" + (f"; not compared: {'; '.join(skipped)}" if skipped else ""))
    # the NEW application writes the seeded values back (as NEW's type): the downgrade keeps them
    with oracle.app_connection(engine) as conn:
        for w in writes:
            if w.refused is None:
                naive = naive_seed.get(w.target.name)
                if naive is not None and naive.skipped:  # nothing to write back: not compared
                    w.refused = f"write back: not compared ({naive.skipped})"
                    continue
                known = naive is not None and not naive.refused and w.key in naive.values
                back = naive.values[w.key] if known else None
                error = oracle.apply_write(conn, w, back, type_=w.target.new_type) if known else "no converted value"
                conn.commit()
                if error:
                    w.refused = f"write back: {error}"
                    report.differential.append(f"{w.target.name}: the NEW application could not write "
                                               f"{oracle.show(back)} after the upgrade: {error}")
        for w in filled:  # and into rows the backfill filled: the downgrade keeps those too
            w.refused = oracle.fill_after_upgrade(conn, w)
            conn.commit()
    if filled:
        report.notes.append(f"{sum(w.refused is None for w in filled)} of {len(filled)} backfilled rows changed by "
                            "the application after the upgrade")
    _restore(report, cfg, engine, url, old, before, writes + filled, after_upgrade=True, sqlite_before=sqlite_before)


def _differential(report: VerifyReport, targets: list[oracle.Converted], writes: list[oracle.Write],
                  naive_seed: dict[str, oracle.Naive], naive_all: dict[str, oracle.Naive]) -> None:
    """The plan finished: it must not have accepted what the naive ALTER refuses."""
    for c in targets:
        seeded, written = naive_seed.get(c.name), naive_all.get(c.name)
        if seeded and seeded.refused:
            report.differential.append(f"{c.name} {c.old.type} -> {c.new.type}: the naive ALTER fails on the "
                                       f"seeded rows ({seeded.refused}) but the plan succeeded")
        elif written and written.refused:
            for w in writes:
                if w.target is c and w.refused is None:
                    report.differential.append(
                        f"{c.name} {c.old.type} -> {c.new.type}: the plan accepted {oracle.show(w.value)}, written during "
                        f"the window, which the naive ALTER refuses ({written.refused})")
        elif written and not written.skipped:
            for w in writes:
                if w.target is c and w.refused is not None:
                    report.differential.append(f"{c.name}: the plan refused a write the naive ALTER accepts "
                                               f"({oracle.show(w.value)}: {w.refused})")


def _restore(report: VerifyReport, cfg: Config, engine: sa.Engine, url: str, old: Schema,
             before: dict[str, str], writes: list[oracle.Write], *, after_upgrade: bool,
             sqlite_before: sqlite_state.State | None = None) -> None:
    """Downgrade to base; the application's writes after the upgrade must survive; then the OLD
    application puts the seeded values back and every row must be as seeded."""
    update("downgrade to base")
    with contextlib.redirect_stdout(io.StringIO()):
        _migrate(command.downgrade, cfg, "base", url)
    report.after_downgrade = _changes(load_database(url).schema, old, url)
    if sqlite_before is not None:
        report.data.extend(f"after the downgrade, {x}" for x in
                           sqlite_state.compare(sqlite_before, sqlite_state.snapshot(url))
                           + sqlite_state.schema_errors(url))
    if report.after_downgrade:
        return
    with oracle.app_connection(engine) as conn:
        for w in writes:
            if after_upgrade and w.refused is None and w.value != w.original:
                now = oracle.read_value(conn, w)
                if w.after and now != w.value:
                    report.data.append(f"{w.target.name}: the downgrade replaced {oracle.show(w.value)}, written by the "
                                       f"application after the upgrade, with {oracle.show(now)}")
                elif not w.after and now == w.value:
                    report.data.append(f"{w.target.name}: the downgrade put back {oracle.show(w.value)} over the value "
                                       "the application wrote after the upgrade")
            oracle.apply_write(conn, w, w.original)
            conn.commit()
    report.data.extend(compare_checksums(before, table_checksums(url, old)))
