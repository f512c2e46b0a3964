"""Load a live database into the schema model by read-only SQLAlchemy reflection.

`load_database(url)` accepts PostgreSQL (`postgresql://`, `postgres://`,
`postgresql+psycopg://`), MySQL / MariaDB (`mysql://`, `mysql+pymysql://`, `mariadb://`)
and SQLite (`sqlite:///path`) URLs. Plain `postgresql://` and `mysql://` use psycopg 3 and
PyMySQL. Prisma-only query parameters (`connection_limit`, `pgbouncer`, ...) are dropped.

What is read:

* PostgreSQL: every user schema, except `pg_catalog`, `information_schema`, `pg_toast*` and
  schemas starting with `planner_` (reserved for planner's backups). A Prisma-style
  `?schema=name` limits reflection to that schema, which then plays the part of the default
  schema: its objects get `schema=None` in the model, exactly as `public` does otherwise
  (Prisma points `search_path` at it, so unqualified names mean that schema). Without it,
  `only_schema` (given by `load_pair` when the other side of the diff has a single schema)
  limits reflection to that schema, names unchanged, and logs the schemas it skipped.
* MySQL / MariaDB: the database named in the URL. SQLite: the `main` database. Tables named
  `planner_backup__*` (planner's backups there) are skipped.
* The bookkeeping tables `_prisma_migrations` and `alembic_version` are skipped: they belong
  to the migration tools, not to the application schema.
* PostgreSQL objects owned by an extension (PostGIS' `spatial_ref_sys`, ...) are skipped,
  with one warning naming them.

What the model cannot hold is reported as a `LoadWarning` naming the object, never dropped
silently: partitioned tables (kept as plain tables) and their partitions (skipped), foreign
and unlogged tables, table inheritance, exclusion constraints, triggers, row-level security,
domains, standalone sequences, NOT VALID constraints, invalid indexes, index storage
parameters, SQLite virtual / WITHOUT ROWID / STRICT tables.

Read-only, always. PostgreSQL connections start with `default_transaction_read_only=on`
and `statement_timeout` as startup options, and every transaction also runs
`SET TRANSACTION READ ONLY` and `SET LOCAL statement_timeout`, so the guard holds behind a
transaction-mode pooler (PgBouncer), which rejects startup options: planner then retries
without them and never leaves a session-level setting behind on a pooled server connection.
MySQL sessions run `SET SESSION TRANSACTION READ ONLY` and `max_statement_time` (MariaDB) /
`max_execution_time` (MySQL). SQLite files are opened with the `mode=ro` URI and
`PRAGMA query_only`. `read_only_engine()` is that connection set-up, for other commands.

Reflection uses `sqlalchemy.inspect()` and its multi-table methods (`get_multi_columns`,
`get_multi_indexes`, ...), so a PostgreSQL schema of any size costs a fixed number of queries.
Where SQLAlchemy's reflection is lossy, planner reads the catalog itself: PostgreSQL foreign
keys (SQLAlchemy splits column lists on commas, breaking names that contain one), MySQL
index directions and CHECK constraints (MariaDB column-level checks are missed), SQLite
index directions, expression indexes and referential actions, and SQLite declared types.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
import sqlglot
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.mysql import SET as MY_SET
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import DOMAIN as PG_DOMAIN
from sqlalchemy.dialects.postgresql import ENUM as PG_ENUM
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.engine.reflection import Inspector, ObjectKind
from sqlalchemy.pool import NullPool
from sqlglot import exp

from planner.errors import SourceError
from planner.load.common import (
    Loaded,
    LoadWarning,
    build_check,
    build_column,
    build_part,
    build_where,
    finalize_schema,
    normalize_action,
    split_on_update,
)
from planner.model import (
    DEFAULT_SCHEMA,
    Check,
    Column,
    Enum,
    ForeignKey,
    Index,
    IndexPart,
    PrimaryKey,
    Schema,
    Table,
    View,
)
from planner.normalize import normalize_expression, quote_ident
from planner.urls import malformed, mask_url, redact

log = logging.getLogger(__name__)

#: tables of migration tools, never part of the application schema
SKIP_TABLES = frozenset({"_prisma_migrations", "alembic_version"})
#: schemas planner writes its backups to
BACKUP_SCHEMA_PREFIX = "planner_"
#: tables planner writes its backups to on MySQL and SQLite (no schemas there)
BACKUP_TABLE_PREFIX = "planner_backup__"
STATEMENT_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 10

_DRIVERS = {
    "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql",
}
_BACKENDS = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql",
             "mariadb": "mysql", "sqlite": "sqlite"}
#: query parameters only Prisma understands; the drivers reject them
_PRISMA_PARAMS = frozenset({
    "schema", "connection_limit", "pool_timeout", "pgbouncer", "statement_cache_size",
    "socket_timeout", "sslaccept", "sslidentity", "max_idle_connection_lifetime",
    "max_connection_lifetime", "single_use_connections",
})
_PG_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


# --------------------------------------------------------------------------- URLs

@dataclass(frozen=True, slots=True)
class Target:
    """A parsed database URL: what to connect to and how to name it in messages."""

    url: URL
    dialect: str
    masked: str
    #: PostgreSQL `?schema=`: the only schema reflected, and the model's default schema
    schema: str | None = None
    #: SQLite file path (None: in-memory database)
    path: str | None = None
    #: PostgreSQL without `?schema=`: reflect only this schema (the other side of the diff has
    #: no other), keeping its objects' schema names as they are; ignored when it does not exist
    only_schema: str | None = None


def parse_database_url(url: str) -> Target:
    """Check `url` and pick the driver planner uses for it."""
    masked = mask_url(url)
    if malformed(url):  # an unencoded '@' in the password: the driver would read part of it as the host
        raise SourceError(f"cannot parse database URL {masked}: more than one '@' before the host",
                          hint="percent-encode '@' in the user name or password as %40")
    try:
        parsed = sa.make_url(url)
    except Exception as e:  # noqa: BLE001 - ArgumentError, ValueError ...
        raise SourceError(f"cannot parse database URL {masked}: {redact(one_line(e), [url])}",
                          hint="use e.g. postgresql://user:password@host:5432/dbname "
                               "(percent-encode special characters in the password)") from None
    backend = parsed.drivername.split("+")[0].lower()
    dialect = _BACKENDS.get(backend)
    if dialect is None:
        raise SourceError(f"unsupported database URL {masked}",
                          hint="planner reads postgresql://, mysql:// (MariaDB too) and sqlite:/// URLs")
    if "+" not in parsed.drivername and backend in _DRIVERS:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    elif backend == "postgres":
        parsed = parsed.set(drivername="postgresql+" + parsed.drivername.split("+", 1)[1])
    schema = parsed.query.get("schema") if dialect == "postgresql" else None
    if isinstance(schema, tuple):
        schema = schema[-1]
    query = {k: v for k, v in parsed.query.items() if k not in _PRISMA_PARAMS}
    parsed = parsed.set(query=query)
    path = None
    if dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = parsed.database
    return Target(url=parsed, dialect=dialect, masked=masked, schema=schema or None, path=path)


# --------------------------------------------------------------------------- connecting

def read_only_engine(target: Target | str, *, timeout_s: float = STATEMENT_TIMEOUT_S,
                     startup_options: bool = True) -> Engine:
    """An engine whose every connection is read-only and time-limited (see module doc)."""
    if isinstance(target, str):
        target = parse_database_url(target)
    try:
        if target.dialect == "postgresql":
            return _pg_engine(target, timeout_s, startup_options)
        if target.dialect == "mysql":
            return _mysql_engine(target, timeout_s)
        return _sqlite_engine(target)
    except ImportError as e:
        raise SourceError(f"cannot open {target.masked}: database driver missing ({one_line(e)})",
                          hint="install it, e.g. pip install 'psycopg[binary]' pymysql") from None
    except sa_exc.NoSuchModuleError as e:
        raise SourceError(f"cannot open {target.masked}: {one_line(e)}",
                          hint="use postgresql://, mysql+pymysql:// or sqlite:/// URLs") from None
    except sa_exc.ArgumentError as e:
        raise SourceError(f"bad database URL {target.masked}: {one_line(e)}") from None


def _pg_engine(target: Target, timeout_s: int, startup_options: bool) -> Engine:
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if startup_options:
        opts = f"-c default_transaction_read_only=on -c statement_timeout={timeout_s * 1000}"
        given = target.url.query.get("options")
        connect_args["options"] = f"{given} {opts}" if given else opts
    engine = sa.create_engine(target.url, poolclass=NullPool, connect_args=connect_args)
    search_path = quote_ident(target.schema, "postgresql") if target.schema else None

    @event.listens_for(engine, "begin")
    def _read_only_transaction(conn: Connection) -> None:
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(f"SET LOCAL statement_timeout = {timeout_s * 1000}")
            if search_path:
                cur.execute(f"SET LOCAL search_path = {search_path}")
        finally:
            cur.close()

    return engine


def _mysql_engine(target: Target, timeout_s: int) -> Engine:
    engine = sa.create_engine(
        target.url, poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": timeout_s * 2},
    )

    @event.listens_for(engine, "connect")
    def _read_only_session(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT VERSION()")
            mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            if mariadb:
                cur.execute(f"SET SESSION max_statement_time = {timeout_s}")
            else:
                cur.execute(f"SET SESSION max_execution_time = {timeout_s * 1000}")
        finally:
            cur.close()

    return engine


def _sqlite_engine(target: Target) -> Engine:
    if target.path is None:
        return sa.create_engine("sqlite://", poolclass=NullPool)
    path = Path(target.path).expanduser().absolute()
    uri = f"file:{quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _query_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    return engine


def connect_read_only(target: Target, *, timeout_s: float = STATEMENT_TIMEOUT_S) -> tuple[Engine, Connection]:
    """A read-only, time-limited connection (and its engine); errors become one-line
    SourceErrors. Behind a pooler that rejects startup options, retries without them (the
    per-transaction READ ONLY still holds)."""
    engine = read_only_engine(target, timeout_s=timeout_s)
    try:
        return engine, engine.connect()
    except sa_exc.DBAPIError as e:
        engine.dispose()
        if target.dialect == "postgresql" and "options" in str(e.orig) and "startup" in str(e.orig):
            engine = read_only_engine(target, timeout_s=timeout_s, startup_options=False)  # behind a pooler
            try:
                return engine, engine.connect()
            except sa_exc.SQLAlchemyError as e2:
                engine.dispose()
                raise connect_error(target, e2) from None
        raise connect_error(target, e) from None
    except (sa_exc.SQLAlchemyError, OSError) as e:
        engine.dispose()
        raise connect_error(target, e) from None


def one_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    args = getattr(orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1]  # PyMySQL: (code, message)
    else:
        text = str(orig) or type(orig).__name__
    return " ".join(text.split())


def connect_error(target: Target, err: BaseException) -> SourceError:
    detail = redact(one_line(err), [target.url])
    low = detail.lower()
    if any(k in low for k in ("password", "access denied", "authentication", 'role "')):
        hint = "check the user name and password in the URL"
    elif "does not exist" in low or "unknown database" in low or "unable to open database" in low:
        hint = "check the database name (or the SQLite file path)"
    elif "refused" in low or "timeout" in low or "timed out" in low or "resolve" in low \
            or "translate host" in low or "can't connect" in low:
        hint = "check that the server is running and the host and port are right"
    else:
        hint = "check the URL and that the database is reachable"
    return SourceError(f"cannot connect to {target.masked}: {detail}", hint=hint)


# --------------------------------------------------------------------------- entry point

def load_database(url: str, *, only_schema: str | None = None) -> Loaded:
    """Reflect the database at `url` (read-only) into the normalised model. `only_schema`
    (PostgreSQL, when the URL has no `?schema=`): reflect that schema alone, as the other side
    of a diff holds nothing else; the URL's `?schema=` wins over it."""
    target = parse_database_url(url)
    if only_schema is not None and target.dialect == "postgresql" and target.schema is None:
        target = dataclasses.replace(target, only_schema=only_schema)
    engine, conn = connect_read_only(target)
    try:
        with conn, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", sa_exc.SAWarning)
            reader = _READERS[target.dialect](conn, target)
            schema = reader.load()
            conn.rollback()
        _forward_warnings(caught, reader)
    except SourceError:
        raise
    except sa_exc.SQLAlchemyError as e:
        raise SourceError(f"reading the schema of {target.masked} failed: {one_line(e)}",
                          hint="check that the user may read the catalog") from None
    finally:
        engine.dispose()
    return Loaded(schema=schema, source=target.masked, kind="database",
                  warnings=tuple(reader.warnings))


#: SQLAlchemy reflection warnings about things this module reads by other means
_HANDLED_SA_WARNINGS = ("expression-based index", "Did not recognize type", "partial index",
                        "Predicate of partial index")


def _forward_warnings(caught: list[warnings.WarningMessage], reader: _Reader) -> None:
    """SQLAlchemy's reflection warnings become LoadWarnings (unless planner covered the gap)."""
    for w in caught:
        if not issubclass(w.category, sa_exc.SAWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif not any(h in str(w.message) for h in _HANDLED_SA_WARNINGS):
            reader.warn(" ".join(str(w.message).split()))


# --------------------------------------------------------------------------- shared reflection

def _name_key(name: str | None, signature: Any) -> tuple:
    return (name is None, name or "", repr(signature))


@dataclass
class _Parts:
    """What one schema's tables are made of, keyed by table name."""

    columns: dict[str, list[Column]] = field(default_factory=dict)
    primary_keys: dict[str, PrimaryKey | None] = field(default_factory=dict)
    indexes: dict[str, list[Index]] = field(default_factory=lambda: defaultdict(list))
    foreign_keys: dict[str, list[ForeignKey]] = field(default_factory=lambda: defaultdict(list))
    checks: dict[str, list[Check]] = field(default_factory=lambda: defaultdict(list))
    comments: dict[str, str | None] = field(default_factory=dict)


class _Reader:
    """Reflection common to every dialect; subclasses fill in what differs."""

    dialect = ""

    def __init__(self, conn: Connection, target: Target) -> None:
        self.conn = conn
        self.target = target
        self.insp: Inspector = sa.inspect(conn)
        self.warnings: list[LoadWarning] = []

    # -- driver
    def load(self) -> Schema:
        tables: list[Table] = []
        for db_schema, names in self.table_names().items():
            if names:
                tables.extend(self.tables(db_schema, sorted(names)))
        tables.sort(key=lambda t: (t.schema or "", t.name))
        schema = Schema(dialect=self.dialect, tables=tuple(tables), enums=tuple(self.enums()),
                        views=tuple(sorted(self.views(), key=lambda v: (v.schema or "", v.name))),
                        has_comments=self.dialect != "sqlite", extensions=self.extensions())
        return finalize_schema(schema)

    def warn(self, message: str) -> None:
        self.warnings.append(LoadWarning(message))

    def tables(self, db_schema: str | None, names: list[str]) -> list[Table]:
        parts = self.parts(db_schema, names)
        out = []
        for name in names:
            out.append(Table(
                name=name, schema=self.model_schema(db_schema),
                columns=tuple(parts.columns.get(name, ())),
                primary_key=parts.primary_keys.get(name),
                indexes=tuple(sorted(parts.indexes.get(name, ()),
                                     key=lambda i: _name_key(i.name, i.signature))),
                foreign_keys=tuple(sorted(parts.foreign_keys.get(name, ()),
                                          key=lambda f: _name_key(f.name, f.signature))),
                checks=tuple(sorted(parts.checks.get(name, ()),
                                    key=lambda c: _name_key(c.name, c.expression))),
                comment=parts.comments.get(name),
                partition_by=self.partition_by(db_schema, name),
                options=self.options(name),
            ))
        return out

    def partition_by(self, db_schema: str | None, name: str) -> str | None:
        """The table's partition key, when it is a partitioned table (PostgreSQL)."""
        return None

    def options(self, name: str) -> tuple[str, ...]:
        """SQLite's STRICT and WITHOUT ROWID, read from the table's SQL (other dialects: none)."""
        master = getattr(self, "master", None)
        sql = (master or {}).get(("table", name), (None, None))[1] or ""
        tail = sql[sql.rfind(")") + 1:] if ")" in sql else ""
        return tuple(x for x, pattern in (("STRICT", r"\bSTRICT\b"), ("WITHOUT ROWID", r"\bWITHOUT\s+ROWID\b"))
                     if re.search(pattern, tail, re.I))

    def multi(self, method: str, db_schema: str | None, names: list[str]) -> dict[str, Any]:
        """`Inspector.get_multi_<method>` for the tables `names`, keyed by table name."""
        fn = getattr(self.insp, f"get_multi_{method}")
        result = fn(schema=db_schema, filter_names=names, kind=ObjectKind.TABLE)
        return {key[1]: value for key, value in dict(result).items()}

    def parts(self, db_schema: str | None, names: list[str]) -> _Parts:
        parts = _Parts()
        raw_columns = self.multi("columns", db_schema, names)
        for name in names:
            parts.columns[name] = [self.column(db_schema, name, c) for c in raw_columns.get(name, ())]
        for name, pk in self.multi("pk_constraint", db_schema, names).items():
            parts.primary_keys[name] = self.primary_key(pk)
        parts.comments = {name: (c or {}).get("text") or None
                          for name, c in self.comments(db_schema, names).items()}
        self.add_indexes(db_schema, names, parts)
        self.add_foreign_keys(db_schema, names, parts)
        self.add_checks(db_schema, names, parts)
        return parts

    def comments(self, db_schema: str | None, names: list[str]) -> dict[str, Any]:
        return self.multi("table_comment", db_schema, names)

    # -- pieces
    def model_schema(self, db_schema: str | None) -> str | None:
        return None

    def primary_key(self, pk: dict | None) -> PrimaryKey | None:
        if not pk or not pk.get("constrained_columns"):
            return None
        return PrimaryKey(name=pk.get("name"), columns=tuple(pk["constrained_columns"]))

    def column(self, db_schema: str | None, table: str, col: dict) -> Column:
        type_text, collation = self.type_text(db_schema, table, col)
        computed = col.get("computed") or {}
        return build_column(
            col["name"], type_text, self.dialect, nullable=bool(col["nullable"]),
            default=self.clean_expression(col.get("default")),
            autoincrement=self.autoincrement(db_schema, table, col),
            generated=self.clean_expression(computed.get("sqltext")),
            comment=col.get("comment"), collation=collation, on_update=col.get("on_update"),
        )

    def type_text(self, db_schema: str | None, table: str, col: dict) -> tuple[str, str | None]:
        sa_type = col["type"]
        collation = getattr(sa_type, "collation", None)
        if collation or getattr(sa_type, "charset", None):
            sa_type = sa_type.copy()
            sa_type.collation = None
            if hasattr(sa_type, "charset"):
                sa_type.charset = None
        if isinstance(sa_type, sa.types.NullType):
            return self.fallback_type(db_schema, table, col["name"]), collation
        try:
            return sa_type.compile(dialect=self.conn.dialect), collation
        except sa_exc.CompileError:
            return self.fallback_type(db_schema, table, col["name"]), collation

    def fallback_type(self, db_schema: str | None, table: str, column: str) -> str:
        self.warn(f"{table}.{column}: type not recognised; kept as text")
        return "text"

    def clean_expression(self, text: str | None) -> str | None:
        return text

    def autoincrement(self, db_schema: str | None, table: str, col: dict) -> str | None:
        return None

    def index_part(self, column: str | None, expression: str | None, sorting: Iterable[str] = (),
                   opclass: str | None = None, length: int | None = None) -> IndexPart:
        flags = set(sorting)
        nulls = True if "nulls_first" in flags else False if "nulls_last" in flags else None
        return build_part(self.dialect, column=column, expression=expression,
                          descending="desc" in flags, nulls_first=nulls, opclass=opclass,
                          length=length)

    def add_foreign_keys(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        for name, fks in self.multi("foreign_keys", db_schema, names).items():
            for fk in fks:
                parts.foreign_keys[name].append(self.foreign_key(name, fk))

    def foreign_key(self, table: str, fk: dict) -> ForeignKey:
        opts = fk.get("options") or {}
        return ForeignKey(
            name=fk.get("name"), columns=tuple(fk["constrained_columns"]),
            ref_table=fk["referred_table"], ref_columns=tuple(fk["referred_columns"]),
            ref_schema=self.model_schema(fk.get("referred_schema")),
            on_delete=normalize_action(opts.get("ondelete"), self.dialect),
            on_update=normalize_action(opts.get("onupdate"), self.dialect),
            deferrable=bool(opts.get("deferrable")),
            initially_deferred=str(opts.get("initially") or "").upper() == "DEFERRED",
            match_full=str(opts.get("match") or "").upper() == "FULL",
        )

    def add_checks(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        for name, checks in self.multi("check_constraints", db_schema, names).items():
            for ck in checks:
                parts.checks[name].append(build_check(ck.get("name"), ck["sqltext"], self.dialect))

    def add_indexes(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        raise NotImplementedError

    def table_names(self) -> dict[str | None, list[str]]:
        raise NotImplementedError

    def enums(self) -> list[Enum]:
        return []

    def extensions(self) -> tuple[str, ...]:
        return ()

    def views(self) -> list[View]:
        return []

    def view_body(self, definition: str | None) -> str | None:
        """A view's SELECT, normalised; `CREATE VIEW ... AS` prefixes are cut."""
        if not definition:
            return None
        text = definition.strip().rstrip(";")
        try:
            node = sqlglot.parse_one(text, read=_SQLGLOT[self.dialect])
            if isinstance(node, exp.Create) and node.expression is not None:
                text = node.expression.sql(dialect=_SQLGLOT[self.dialect])
        except Exception:  # noqa: BLE001 - sqlglot cannot read it: keep the text
            pass
        return normalize_expression(text, self.dialect)


_SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


# --------------------------------------------------------------------------- PostgreSQL

_PG_RELATIONS = """
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       c.relispartition AS is_partition, c.relpersistence AS persistence,
       c.relrowsecurity AS rls,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i
          JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid LIMIT 1) AS parent,
       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' LIMIT 1) AS extension,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('a', 'i')) AS owned
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
 ORDER BY n.nspname, c.relname
"""

_PG_FOREIGN_KEYS = """
SELECT n.nspname AS schema, c.relname AS table_name, con.conname AS name,
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS ref_columns,
       con.confupdtype AS on_update, con.confdeltype AS on_delete,
       con.confmatchtype AS match, con.condeferrable AS deferrable,
       con.condeferred AS deferred, con.convalidated AS validated,
       pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
 WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname = ANY(%(schemas)s)
 ORDER BY n.nspname, c.relname, con.conname
"""

_PG_CONSTRAINTS = """
SELECT n.nspname AS schema, c.relname AS table_name, con.conname AS name,
       con.contype AS type, con.condeferrable AS deferrable, con.condeferred AS deferred,
       con.convalidated AS validated, pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND con.contype IN ('u', 'x', 'c', 'f')
   AND (con.contype = 'x' OR con.condeferrable OR NOT con.convalidated)
 ORDER BY n.nspname, c.relname, con.conname
"""

_PG_TRIGGERS = """
SELECT n.nspname AS schema, c.relname AS table_name, t.tgname AS name
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND n.nspname = ANY(%(schemas)s)
 ORDER BY n.nspname, c.relname, t.tgname
"""

_PG_FORMAT_TYPES = """
SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND a.attnum > 0 AND NOT a.attisdropped
"""

_PG_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


class _PostgresReader(_Reader):
    dialect = "postgresql"

    def __init__(self, conn: Connection, target: Target) -> None:
        super().__init__(conn, target)
        self.home = target.schema or DEFAULT_SCHEMA["postgresql"]
        self.schemas = self._schemas()
        self.relations = self._query(_PG_RELATIONS, schemas=self.schemas)
        self.extension_owned = {(r["schema"], r["name"]) for r in self.relations if r["extension"]}
        self.constraints = self._query(_PG_CONSTRAINTS, schemas=self.schemas)
        self.domains_seen: set[str] = set()
        self._format_types: dict[str, dict[tuple[str, str], str]] = {}
        self._warn_catalog()

    def _query(self, sql: str, **params: Any) -> list[dict]:
        return [dict(row) for row in self.conn.exec_driver_sql(sql, params).mappings()]

    def _schemas(self) -> list[str]:
        names = list(self.insp.get_schema_names())
        if self.target.schema:
            if self.target.schema not in names:
                raise SourceError(f"{self.target.masked}: schema {self.target.schema!r} does not exist",
                                  hint="check ?schema= in the URL")
            return [self.target.schema]
        user = [s for s in names if s not in _PG_SYSTEM_SCHEMAS and not s.startswith("pg_")
                and not s.startswith(BACKUP_SCHEMA_PREFIX)]
        only = self.target.only_schema
        if only is None:
            return user
        if only not in user:
            log.info("%s: the other side has only schema %s, which this database lacks: reflecting every "
                     "schema (%s)", self.target.masked, only, ", ".join(user) or "none")
            return user
        skipped = [s for s in user if s != only]
        if skipped:
            log.info("%s: reflecting only schema %s, the one schema of the other side (skipped: %s; "
                     "add ?schema=NAME to the URL to choose another)", self.target.masked, only, ", ".join(skipped))
        return [only]

    def partition_by(self, db_schema: str | None, name: str) -> str | None:
        return next((r["partkey"] for r in self.relations if r["kind"] == "p" and r["name"] == name
                     and r["schema"] == db_schema), None)

    def model_schema(self, db_schema: str | None) -> str | None:
        return None if db_schema in (None, self.home) else db_schema

    def _label(self, schema: str, name: str) -> str:
        return name if schema == self.home else f"{schema}.{name}"

    # -- catalog warnings
    def _warn_catalog(self) -> None:
        ext: dict[str, list[str]] = defaultdict(list)
        for r in self.relations:
            label = self._label(r["schema"], r["name"])
            if r["extension"]:
                ext[r["extension"]].append(label)
            elif r["is_partition"]:
                self.warn(f"table {label} is a partition of {r['parent']}; skipped "
                          "(planner models the partitioned table only)")
            elif r["kind"] == "p":
                self.warn(f"table {label} is partitioned ({r['partkey']}); planner plans its indexes and "
                          "constraints for a partitioned table and does not manage its partitions")
            elif r["kind"] == "f":
                self.warn(f"foreign table {label} is not modelled; skipped")
            elif r["kind"] == "S" and not r["owned"]:
                self.warn(f"sequence {label} is not owned by a column and is not modelled")
            if r["extension"] or r["is_partition"]:
                continue
            if r["kind"] in ("r", "p") and r["parent"]:
                self.warn(f"table {label} inherits from {r['parent']}; inheritance is not modelled")
            if r["kind"] in ("r", "p") and r["persistence"] == "u":
                self.warn(f"table {label} is UNLOGGED; planner does not model that")
            if r["rls"]:
                self.warn(f"table {label} has row-level security enabled; policies are not modelled")
        for name, labels in sorted(ext.items()):
            self.warn(f"skipped {len(labels)} object(s) owned by extension {name}: "
                      + ", ".join(sorted(labels)))
        for t in self._query(_PG_TRIGGERS, schemas=self.schemas):
            if (t["schema"], t["table_name"]) not in self.extension_owned:
                self.warn(f"trigger {t['name']} on {self._label(t['schema'], t['table_name'])} "
                          "is not modelled")
        for c in self.constraints:
            where = self._label(c["schema"], c["table_name"])
            if c["type"] == "x":
                self.warn(f"exclusion constraint {c['name']} on {where} is not modelled "
                          f"({c['definition']})")
            elif not c["validated"]:
                self.warn(f"constraint {c['name']} on {where} is NOT VALID; modelled as if valid")

    # -- tables
    def table_names(self) -> dict[str | None, list[str]]:
        out: dict[str | None, list[str]] = {s: [] for s in self.schemas}
        for r in self.relations:
            if r["kind"] in ("r", "p") and not r["is_partition"] and not r["extension"] \
                    and r["name"] not in SKIP_TABLES:
                out[r["schema"]].append(r["name"])
        return out

    def autoincrement(self, db_schema: str | None, table: str, col: dict) -> str | None:
        identity = col.get("identity")
        if identity:
            return "identity_always" if identity.get("always") else "identity"
        return None

    def type_text(self, db_schema: str | None, table: str, col: dict) -> tuple[str, str | None]:
        sa_type = col["type"]
        array = ""
        if isinstance(sa_type, PG_ARRAY):
            array, item = "[]", sa_type.item_type
            if isinstance(item, (PG_ENUM, PG_DOMAIN)):
                return self._named_type(item, table) + array, None
        if isinstance(sa_type, (PG_ENUM, PG_DOMAIN)):
            return self._named_type(sa_type, table), getattr(sa_type, "collation", None)
        return super().type_text(db_schema, table, col)

    def _named_type(self, sa_type: Any, table: str) -> str:
        schema = sa_type.schema or self.home
        if isinstance(sa_type, PG_DOMAIN):
            label = self._label(schema, sa_type.name)
            if label not in self.domains_seen:
                self.domains_seen.add(label)
                self.warn(f"domain {label} (used by {table}) is not modelled: columns keep the "
                          "domain name as their type, its constraints are not compared")
        name = quote_ident(sa_type.name, "postgresql")
        if schema == self.home:
            return name
        return f"{quote_ident(schema, 'postgresql')}.{name}"

    def fallback_type(self, db_schema: str | None, table: str, column: str) -> str:
        key = db_schema or self.home
        if key not in self._format_types:
            rows = self._query(_PG_FORMAT_TYPES, schema=key)
            self._format_types[key] = {(r["table_name"], r["name"]): r["type"] for r in rows}
        found = self._format_types[key].get((table, column))
        return found if found else super().fallback_type(db_schema, table, column)

    def add_indexes(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        exclusions = {(c["table_name"], c["name"]) for c in self.constraints
                      if c["schema"] == db_schema and c["type"] == "x"}
        deferrable = {(c["table_name"], c["name"]): bool(c["deferrable"]) for c in self.constraints
                      if c["schema"] == db_schema and c["type"] == "u"}
        for table, indexes in self.multi("indexes", db_schema, names).items():
            for ix in indexes:
                if (table, ix["name"]) in exclusions:
                    continue
                parts.indexes[table].append(
                    self._index(table, ix, deferrable.get((table, ix["name"]), False)))

    def _index(self, table: str, ix: dict, deferrable: bool) -> Index:
        opts = ix.get("dialect_options") or {}
        sorting = ix.get("column_sorting") or {}
        ops = opts.get("postgresql_ops") or {}
        elements = ix.get("expressions") or ix["column_names"]
        parts = []
        for column, element in zip(ix["column_names"], elements, strict=True):
            parts.append(self.index_part(
                column, None if column is not None else element, sorting.get(element, ()),
                ops.get(element)))
        if opts.get("postgresql_invalid"):
            self.warn(f"index {ix['name']} on {table} is INVALID (a failed CREATE INDEX "
                      "CONCURRENTLY?); rebuild or drop it")
        if opts.get("postgresql_with"):
            self.warn(f"index {ix['name']} on {table}: storage parameters "
                      f"{opts['postgresql_with']} are not modelled")
        return Index(
            name=ix["name"], parts=tuple(parts), unique=bool(ix["unique"]),
            method=str(opts.get("postgresql_using") or "btree").lower(),
            where=build_where(opts.get("postgresql_where"), self.dialect),
            nulls_not_distinct=bool(opts.get("postgresql_nulls_not_distinct")),
            include=tuple(opts.get("postgresql_include") or ()),
            constraint="duplicates_constraint" in ix, deferrable=deferrable,
        )

    def add_foreign_keys(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        if not hasattr(self, "_fks"):
            self._fks = self._query(_PG_FOREIGN_KEYS, schemas=self.schemas)
        wanted = set(names)
        for fk in self._fks:
            if fk["schema"] != db_schema or fk["table_name"] not in wanted:
                continue
            if re.search(r"ON DELETE SET (NULL|DEFAULT) \(", fk["definition"] or ""):
                self.warn(f"foreign key {fk['name']} on {fk['table_name']}: the column list of "
                          "ON DELETE SET NULL/DEFAULT is not modelled")
            parts.foreign_keys[fk["table_name"]].append(ForeignKey(
                name=fk["name"], columns=tuple(fk["columns"]), ref_table=fk["ref_table"],
                ref_columns=tuple(fk["ref_columns"]), ref_schema=self.model_schema(fk["ref_schema"]),
                on_delete=normalize_action(_PG_ACTIONS[fk["on_delete"]], self.dialect),
                on_update=normalize_action(_PG_ACTIONS[fk["on_update"]], self.dialect),
                deferrable=bool(fk["deferrable"]), initially_deferred=bool(fk["deferred"]),
                match_full=fk["match"] == "f",
            ))

    def extensions(self) -> tuple[str, ...]:
        """Installed extensions (pg_extension), plpgsql left out."""
        return tuple(r["extname"] for r in self._query("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' "
                                                         "ORDER BY extname"))

    def enums(self) -> list[Enum]:
        out = []
        for e in self.insp.get_enums(schema="*"):
            if e["schema"] not in self.schemas:
                continue
            out.append(Enum(name=e["name"], values=tuple(e["labels"]),
                            schema=self.model_schema(e["schema"])))
        return sorted(out, key=lambda e: (e.schema or "", e.name))

    def views(self) -> list[View]:
        out = []
        for schema in self.schemas:
            for materialized, names in (
                (False, self.insp.get_view_names(schema=schema)),
                (True, self.insp.get_materialized_view_names(schema=schema)),
            ):
                for name in names:
                    if (schema, name) in self.extension_owned:
                        continue
                    definition = self.insp.get_view_definition(name, schema=schema)
                    out.append(View(name=name, definition=self.view_body(definition),
                                    schema=self.model_schema(schema), materialized=materialized))
        return out


# --------------------------------------------------------------------------- MySQL / MariaDB

_MY_STATISTICS = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, COLLATION, SUB_PART,
       INDEX_TYPE {expression}
  FROM information_schema.STATISTICS
 WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY'
 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_MARIADB_CHECKS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL
  FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
 ORDER BY TABLE_NAME, CONSTRAINT_NAME
"""
_MYSQL_CHECKS = """
SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, 'Table' AS LEVEL
  FROM information_schema.TABLE_CONSTRAINTS tc
  JOIN information_schema.CHECK_CONSTRAINTS cc
    ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
 WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'
 ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME
"""
_MY_TRIGGERS = """
SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS
 WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME
"""
_MY_PARTITIONED = """
SELECT DISTINCT TABLE_NAME, PARTITION_METHOD, PARTITION_EXPRESSION
  FROM information_schema.PARTITIONS
 WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL ORDER BY TABLE_NAME
"""
_MY_VIEWS = """
SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
 ORDER BY TABLE_NAME
"""
_MY_COLUMN_TYPES = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = DATABASE()
"""
_INTRODUCER = re.compile(r"_(?:utf8mb4|utf8mb3|utf8|latin1|binary|ascii)(?=')", re.IGNORECASE)
#: columns with `ON UPDATE ...` (EXTRA: MySQL 8 `DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)`,
#: MariaDB `on update current_timestamp(3)`); SQLAlchemy's reflection keeps the clause inside
#: the default's text, or loses it after a quoted default
_MY_TABLE_OPTIONS = ("SELECT t.TABLE_NAME, t.ENGINE, t.TABLE_COLLATION, t.AUTO_INCREMENT, t.CREATE_OPTIONS, "
                     "c.CHARACTER_SET_NAME AS CHARSET FROM information_schema.TABLES t LEFT JOIN "
                     "information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION "
                     "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'")
_MY_ON_UPDATE = """
SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = DATABASE() AND LOWER(EXTRA) LIKE '%%on update%%'
"""
_EXTRA_ON_UPDATE = re.compile(r"\bon update (\S+)", re.IGNORECASE)
#: columns with attributes the model does not hold (Column.unkept): INVISIBLE, ZEROFILL
_MY_UNKEPT = """
SELECT TABLE_NAME, COLUMN_NAME, EXTRA, COLUMN_TYPE FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = DATABASE() AND (LOWER(EXTRA) LIKE '%%invisible%%' OR LOWER(COLUMN_TYPE) LIKE '%%zerofill%%')
"""
_ZERO_DATE = re.compile(r"^'0000-00-00 00:00:00(\.0+)?'$")


def _is_json_valid(clause: str, column: str) -> bool:
    """MariaDB's own CHECK of a JSON column: `json_valid(`column`)` (any name, backquotes doubled)."""
    text = re.sub(r"\s+", "", clause)
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    quoted = "`" + re.sub(r"\s+", "", column).replace("`", "``") + "`"
    return text.lower() in (f"json_valid({quoted})".lower(), f"json_valid({re.sub(chr(92) + 's+', '', column)})".lower())


class _MySQLReader(_Reader):
    dialect = "mysql"

    def __init__(self, conn: Connection, target: Target) -> None:
        super().__init__(conn, target)
        self.mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        self.json_columns: set[tuple[str, str]] = set()
        self._column_types: dict[tuple[str, str], str] | None = None
        self._raw_checks = self._rows(_MARIADB_CHECKS if self.mariadb else _MYSQL_CHECKS)
        self.on_update = {(r["TABLE_NAME"], r["COLUMN_NAME"]): m.group(1) for r in self._rows(_MY_ON_UPDATE)
                          if (m := _EXTRA_ON_UPDATE.search(r["EXTRA"] or ""))}
        self.unkept: dict[tuple[str, str], list[str]] = {}
        for r in self._rows(_MY_UNKEPT):
            found = self.unkept.setdefault((r["TABLE_NAME"], r["COLUMN_NAME"]), [])
            if "invisible" in (r["EXTRA"] or "").lower():
                found.append("INVISIBLE")
            if "zerofill" in (r["COLUMN_TYPE"] or "").lower():
                found.append("ZEROFILL")
        for row in self._raw_checks:
            if self.mariadb and row["LEVEL"] == "Column" and _is_json_valid(row["CHECK_CLAUSE"], row["CONSTRAINT_NAME"]):
                self.json_columns.add((row["TABLE_NAME"], row["CONSTRAINT_NAME"]))
            elif self.mariadb and row["LEVEL"] == "Column":  # in the column's definition: a MODIFY drops it
                self.unkept.setdefault((row["TABLE_NAME"], row["CONSTRAINT_NAME"]), []).append("column-level CHECK")
        # the options a table is created with (load/ddl.py MYSQL_KEPT_OPTIONS), as NAME=value
        self.table_options: dict[str, tuple[str, ...]] = {}
        for r in self._rows(_MY_TABLE_OPTIONS):
            row_format = re.search(r"row_format=(\w+)", r["CREATE_OPTIONS"] or "", re.I)
            self.table_options[r["TABLE_NAME"]] = tuple(f"{k}={v}" for k, v in (
                ("ENGINE", r["ENGINE"]), ("DEFAULT CHARSET", r["CHARSET"]), ("COLLATE", r["TABLE_COLLATION"]),
                ("AUTO_INCREMENT", r["AUTO_INCREMENT"]),
                ("ROW_FORMAT", row_format.group(1).upper() if row_format else None)) if v is not None)
        for row in self._rows(_MY_TRIGGERS):
            self.warn(f"trigger {row['TRIGGER_NAME']} on {row['EVENT_OBJECT_TABLE']} is not modelled")
        for row in self._rows(_MY_PARTITIONED):
            self.warn(f"table {row['TABLE_NAME']} is partitioned ({row['PARTITION_METHOD']} "
                      f"{row['PARTITION_EXPRESSION']}); planner models it as a plain table")

    def options(self, name: str) -> tuple[str, ...]:
        return self.table_options.get(name, ())

    def _rows(self, sql: str) -> list[dict]:
        result = self.conn.exec_driver_sql(sql)
        return [{k.upper(): v for k, v in row._mapping.items()} for row in result]

    def table_names(self) -> dict[str | None, list[str]]:
        return {None: [n for n in self.insp.get_table_names()
                       if n not in SKIP_TABLES and not n.startswith(BACKUP_TABLE_PREFIX)]}

    def clean_expression(self, text: str | None) -> str | None:
        if text is None or self.mariadb:
            return text
        return _INTRODUCER.sub("", text).replace("\\'", "'")  # MySQL 8 spelling

    def autoincrement(self, db_schema: str | None, table: str, col: dict) -> str | None:
        return "auto_increment" if col.get("autoincrement") is True else None

    def column(self, db_schema: str | None, table: str, col: dict) -> Column:
        name = _unescape_backticks(col["name"])
        default, _ = split_on_update(col.get("default"))
        column = super().column(db_schema, table, {**col, "name": name, "default": default,
                                                   "on_update": self.on_update.get((table, name))})
        if (table, column.name) in self.json_columns:  # MariaDB: JSON is LONGTEXT + json_valid
            column = dataclasses.replace(column, type="json", collation=None)
        if column.generated and (col.get("computed") or {}).get("persisted"):
            column = dataclasses.replace(column, stored=True)
        if self.unkept.get((table, name)):
            column = dataclasses.replace(column, unkept=tuple(self.unkept[(table, name)]))
        if self.mariadb and column.on_update and not column.nullable and column.default is not None and \
                _ZERO_DATE.match(column.default) and column.type.split("(")[0] in ("timestamp", "datetime"):
            # MariaDB gives a NOT NULL TIMESTAMP/DATETIME ... ON UPDATE column declared without a
            # default the zero date (whatever explicit_defaults_for_timestamp says): the implicit
            # default of the column the SQL file declares, not a default of its own
            column = dataclasses.replace(column, default=None)
        return column

    def type_text(self, db_schema: str | None, table: str, col: dict) -> tuple[str, str | None]:
        text, collation = super().type_text(db_schema, table, col)
        if isinstance(col["type"], (sa.Enum, MY_SET)):
            # SQLAlchemy reads ENUM/SET values out of SHOW CREATE TABLE undoubling quotes but
            # not backslashes ('e\\f' becomes e\\f, then compiles to 'e\\\\f'); the server's own
            # COLUMN_TYPE spelling is parsed by canonical_type instead
            text = self.fallback_type(db_schema, table, col["name"])
        return text, collation

    def fallback_type(self, db_schema: str | None, table: str, column: str) -> str:
        if self._column_types is None:
            self._column_types = {(r["TABLE_NAME"], r["COLUMN_NAME"]): r["COLUMN_TYPE"]
                                  for r in self._rows(_MY_COLUMN_TYPES)}
        found = self._column_types.get((table, column))
        return found if found else super().fallback_type(db_schema, table, column)

    def add_indexes(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        expression = "" if self.mariadb else ", EXPRESSION"
        grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for row in self._rows(_MY_STATISTICS.format(expression=expression)):
            grouped[(row["TABLE_NAME"], row["INDEX_NAME"])].append(row)
        wanted = set(names)
        for (table, name), rows in grouped.items():
            if table in wanted:
                parts.indexes[table].append(self._index(name, rows))

    def _index(self, name: str, rows: list[dict]) -> Index:
        kind = str(rows[0]["INDEX_TYPE"] or "BTREE").lower()
        parts = []
        for row in rows:
            expr = row.get("EXPRESSION")
            parts.append(self.index_part(
                row["COLUMN_NAME"] if not expr else None,
                self.clean_expression(expr) if expr else None,
                ("desc",) if row["COLLATION"] == "D" else (),
                length=int(row["SUB_PART"]) if row["SUB_PART"] else None,
            ))
        return Index(name=name, parts=tuple(parts), unique=not int(rows[0]["NON_UNIQUE"]),
                     method=kind if kind in ("fulltext", "spatial") else "btree")

    def primary_key(self, pk: dict | None) -> PrimaryKey | None:
        found = super().primary_key(pk)
        if found is None:
            return None
        return PrimaryKey(name=None, columns=tuple(map(_unescape_backticks, found.columns)))

    def foreign_key(self, table: str, fk: dict) -> ForeignKey:
        found = super().foreign_key(table, fk)
        return dataclasses.replace(
            found, name=found.name and _unescape_backticks(found.name),
            columns=tuple(map(_unescape_backticks, found.columns)),
            ref_table=_unescape_backticks(found.ref_table),
            ref_columns=tuple(map(_unescape_backticks, found.ref_columns)))

    def add_checks(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        wanted = set(names)
        for row in self._raw_checks:
            table, name = row["TABLE_NAME"], row["CONSTRAINT_NAME"]
            if table not in wanted or (table, name) in self.json_columns:
                continue
            clause = self.clean_expression(row["CHECK_CLAUSE"])
            parts.checks[table].append(build_check(name, clause, self.dialect))

    def views(self) -> list[View]:
        return [View(name=r["TABLE_NAME"], definition=self.view_body(r["VIEW_DEFINITION"]))
                for r in self._rows(_MY_VIEWS)]


def _unescape_backticks(name: str) -> str:
    """SQLAlchemy reads names out of SHOW CREATE TABLE without undoubling their backticks."""
    return name.replace("``", "`")


# --------------------------------------------------------------------------- SQLite

_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


class _SQLiteReader(_Reader):
    dialect = "sqlite"

    def __init__(self, conn: Connection, target: Target) -> None:
        super().__init__(conn, target)
        rows = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL").all()
        self.master = {(r[0], r[1]): (r[2], r[3]) for r in rows}
        self.virtual = {name for (kind, name), (_t, sql) in self.master.items()
                        if kind == "table" and re.match(r"\s*CREATE\s+VIRTUAL\b", sql, re.I)}
        for (kind, name), (table, sql) in sorted(self.master.items()):
            if kind == "trigger":
                self.warn(f"trigger {name} on {table} is not modelled")
            elif name in self.virtual:
                self.warn(f"virtual table {name} is not modelled; skipped")
            elif kind == "table" and re.search(r"\)\s*(WITHOUT\s+ROWID|STRICT)\b[^)]*$", sql, re.I):
                self.warn(f"table {name}: WITHOUT ROWID / STRICT options are not modelled")

    def _pragma(self, name: str, arg: str) -> list[Any]:
        quoted = "'" + arg.replace("'", "''") + "'"
        return self.conn.exec_driver_sql(f"PRAGMA main.{name}({quoted})").all()

    def table_names(self) -> dict[str | None, list[str]]:
        names = self.insp.get_table_names()
        return {None: [n for n in names if n not in SKIP_TABLES and n not in self.virtual
                       and not n.startswith(BACKUP_TABLE_PREFIX)]}

    def comments(self, db_schema: str | None, names: list[str]) -> dict[str, Any]:
        return {}

    def type_text(self, db_schema: str | None, table: str, col: dict) -> tuple[str, str | None]:
        declared = {r[1]: r[2] for r in self._table_info(table)}
        text = declared.get(col["name"])
        if text is None:
            return super().type_text(db_schema, table, col)
        return text, self.constraint_names(table).collations.get(col["name"])

    def _table_info(self, table: str) -> list[Any]:
        cache = self.__dict__.setdefault("_info", {})
        if table not in cache:
            cache[table] = self._pragma("table_xinfo", table)
        return cache[table]

    def autoincrement(self, db_schema: str | None, table: str, col: dict) -> str | None:
        sql = self.master.get(("table", table), ("", ""))[1]
        pk = [r for r in self._table_info(table) if r[5]]
        if len(pk) == 1 and pk[0][1] == col["name"] and _AUTOINCREMENT.search(sql or ""):
            return "autoincrement"
        return None

    def constraint_names(self, table: str) -> _SQLiteNames:
        cache = self.__dict__.setdefault("_names", {})
        if table not in cache:
            cache[table] = _sqlite_constraint_names(self.master.get(("table", table), ("", ""))[1])
        return cache[table]

    def parts(self, db_schema: str | None, names: list[str]) -> _Parts:
        parts = super().parts(db_schema, names)
        for table, pk in parts.primary_keys.items():
            if pk is not None:
                name = self.constraint_names(table).primary_key.get(pk.columns)
                parts.primary_keys[table] = dataclasses.replace(pk, name=name)
        return parts

    def add_indexes(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        for table in names:
            for row in self._pragma("index_list", table):
                name, unique, origin = row[1], bool(row[2]), row[3]
                if origin == "c":
                    parts.indexes[table].append(self._index(table, name, unique))
                elif origin == "u":
                    cols = tuple(r[2] for r in sorted(self._pragma("index_info", name)))
                    parts.indexes[table].append(Index(
                        name=self.constraint_names(table).unique.get(cols),
                        parts=tuple(self.index_part(c, None) for c in cols),
                        unique=True, constraint=True))

    def _index(self, table: str, name: str, unique: bool) -> Index:
        sql = self.master.get(("index", name), (table, None))[1]
        parsed = _parse_index_sql(sql) if sql else None
        if parsed is not None:
            elements, where = parsed
            parts = tuple(self.index_part(col, expr, ("desc",) if desc else ())
                          for col, expr, desc in elements)
            return Index(name=name, parts=parts, unique=unique,
                         where=build_where(where, self.dialect))
        info = [r for r in self._pragma("index_xinfo", name) if r[5]]
        parts = tuple(self.index_part(r[2], None, ("desc",) if r[3] else ()) for r in info)
        return Index(name=name, parts=parts, unique=unique)

    def add_foreign_keys(self, db_schema: str | None, names: list[str], parts: _Parts) -> None:
        super().add_foreign_keys(db_schema, names, parts)
        for table in names:
            actions = _sqlite_fk_actions(self._pragma("foreign_key_list", table))
            fk_names = self.constraint_names(table).foreign_key
            fixed = []
            for fk in parts.foreign_keys.get(table, ()):
                found = actions.get((fk.columns, fk.ref_table))
                if found:
                    fk = dataclasses.replace(fk, on_update=normalize_action(found[0], self.dialect),
                                             on_delete=normalize_action(found[1], self.dialect))
                fixed.append(dataclasses.replace(fk, name=fk_names.get(fk.columns)))
            if fixed:
                parts.foreign_keys[table] = fixed

    def views(self) -> list[View]:
        return [View(name=n, definition=self.view_body(self.insp.get_view_definition(n)))
                for n in self.insp.get_view_names()]


@dataclass
class _SQLiteNames:
    """Constraint names in a SQLite CREATE TABLE, by their columns."""

    primary_key: dict[tuple[str, ...], str] = field(default_factory=dict)
    unique: dict[tuple[str, ...], str] = field(default_factory=dict)
    foreign_key: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: column -> COLLATE name
    collations: dict[str, str] = field(default_factory=dict)


_SQL_TOKEN = re.compile(
    r"""\s*(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\]|'((?:[^']|'')*)'|([^\W\d][\w$]*|\d\w*)|(\S))"""
)
_KINDS = {"PRIMARY": "primary_key", "UNIQUE": "unique", "FOREIGN": "foreign_key",
          "REFERENCES": "foreign_key", "CHECK": "check"}


def _sql_tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, text) tokens: kind is "ident" (quoted), "word", "string" or "punct"."""
    sql = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
    out = []
    for m in _SQL_TOKEN.finditer(sql):
        dq, bq, br, st, word, punct = m.groups()
        if dq is not None:
            out.append(("ident", dq.replace('""', '"')))
        elif bq is not None:
            out.append(("ident", bq.replace("``", "`")))
        elif br is not None:
            out.append(("ident", br))
        elif st is not None:
            out.append(("string", st))
        elif word is not None:
            out.append(("word", word))
        elif punct is not None:
            out.append(("punct", punct))
    return out


def _top_level_items(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The comma-separated items inside the first parenthesised list."""
    items: list[list[tuple[str, str]]] = []
    depth, current = 0, []
    for tok in tokens:
        if tok == ("punct", "("):
            depth += 1
            if depth == 1:
                continue
        elif tok == ("punct", ")"):
            depth -= 1
            if depth == 0:
                items.append(current)
                break
        if depth == 1 and tok == ("punct", ","):
            items.append(current)
            current = []
        elif depth >= 1:
            current.append(tok)
    return [i for i in items if i]


def _group_columns(tokens: list[tuple[str, str]]) -> tuple[str, ...]:
    """First identifier of each element of the first parenthesised group in `tokens`."""
    cols, depth, expecting = [], 0, False
    for kind, text in tokens:
        if (kind, text) == ("punct", "("):
            depth += 1
            expecting = depth == 1
        elif (kind, text) == ("punct", ")"):
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and (kind, text) == ("punct", ","):
            expecting = True
        elif depth == 1 and expecting and kind in ("ident", "word"):
            cols.append(text)
            expecting = False
    return tuple(cols)


def _sqlite_constraint_names(sql: str) -> _SQLiteNames:
    """Names of the PRIMARY KEY, UNIQUE and FOREIGN KEY constraints of a CREATE TABLE."""
    names = _SQLiteNames()
    for item in _top_level_items(_sql_tokens(sql or "")):
        first = item[0][1].upper() if item[0][0] == "word" else ""
        if first == "CONSTRAINT" and len(item) > 2:
            kind = _KINDS.get(item[2][1].upper())
            if kind and kind != "check":
                getattr(names, kind)[_group_columns(item[3:])] = item[1][1]
            continue
        if first in _KINDS:
            continue
        for i, (kind, text) in enumerate(item[:-1]):
            if kind == "word" and text.upper() == "COLLATE":
                names.collations[item[0][1]] = item[i + 1][1]
        for i, (kind, text) in enumerate(item[:-2]):
            if kind == "word" and text.upper() == "CONSTRAINT":
                found = _KINDS.get(item[i + 2][1].upper())
                if found and found != "check":
                    getattr(names, found)[(item[0][1],)] = item[i + 1][1]
    return names


def _sqlite_fk_actions(rows: list[Any]) -> dict[tuple[tuple[str, ...], str], tuple[str, str]]:
    """PRAGMA foreign_key_list rows -> {(columns, ref table): (on_update, on_delete)}."""
    by_id: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_id[row[0]].append(row)
    out = {}
    for fk_rows in by_id.values():
        fk_rows.sort(key=lambda r: r[1])
        cols = tuple(r[3] for r in fk_rows)
        out[(cols, fk_rows[0][2])] = (fk_rows[0][5], fk_rows[0][6])
    return out


def _parse_index_sql(sql: str) -> tuple[list[tuple[str | None, str | None, bool]], str | None] | None:
    """`CREATE INDEX` text -> ([(column, expression, descending)], where), or None."""
    try:
        node = sqlglot.parse_one(sql, read="sqlite")
    except Exception:  # noqa: BLE001 - unreadable: the caller falls back to PRAGMA
        return None
    index = node.this if isinstance(node, exp.Create) else None
    params = index.args.get("params") if isinstance(index, exp.Index) else None
    if params is None:
        return None
    elements = []
    for item in params.args.get("columns") or []:
        desc = False
        if isinstance(item, exp.Ordered):
            desc = bool(item.args.get("desc"))
            item = item.this
        while isinstance(item, exp.Paren):
            item = item.this
        if isinstance(item, exp.Column) and not item.table:
            elements.append((item.name, None, desc))
        else:
            elements.append((None, item.sql(dialect="sqlite"), desc))
    where = params.args.get("where")
    where_sql = where.this.sql(dialect="sqlite") if isinstance(where, exp.Where) else None
    return elements, where_sql


_READERS: dict[str, type[_Reader]] = {
    "postgresql": _PostgresReader, "mysql": _MySQLReader, "sqlite": _SQLiteReader,
}
