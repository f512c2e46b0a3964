"""The application between revisions (`planner verify`, every dialect).

Each revision's docstring names the application versions that may run once it is done (OLD:
the code for the old schema, NEW: the code for the new one; planner.plan.ir.apps). After each
revision, verify makes each of them write, shaped as its own schema sees the database:

* an UPDATE of a pre-existing row that writes every column the version knows (as an ORM saving
  a whole row does), each set to what the row holds, in that version's spelling (an enum value
  renamed by the plan is written under the version's name for it: PostgreSQL, the only dialect
  with named enums whose values can be renamed; a MySQL inline ENUM is written as the row
  holds it);
* an INSERT of a row naming only the columns the version knows (the others take their
  defaults; generated and GENERATED ALWAYS columns are never written): a pre-existing row that
  can be deleted (no other row references it, its referential actions go through) is deleted
  and inserted again, so keys, unique values and its own references stay valid (a table whose
  sampled rows cannot be deleted is named in a note). On PostgreSQL that is one statement
  (`WITH gone AS (DELETE ... RETURNING ...) INSERT ... SELECT ... FROM gone`); MySQL/MariaDB and
  SQLite have no DELETE in a WITH, so the row is first copied into a temporary table
  (`CREATE TEMPORARY TABLE`, which does not end MySQL's transaction as other DDL does) and
  inserted from there: no value crosses the driver on any dialect;
* for a renamed column while both names exist, an UPDATE that changes it to another row's
  value, and a check that the other name reads the same (the trigger keeps them in step).

The writes run in one transaction (DML only; each in a savepoint), with every constraint checked
immediately (PostgreSQL `SET CONSTRAINTS ALL IMMEDIATE`; SQLite with `PRAGMA foreign_keys = ON`;
MySQL's are), and are rolled back: what is verified is that the database accepts each write (any
error fails verify), not what it leaves behind, so the later steps of verify (the diff against
NEW, the downgrade, the row checksums) see the seeded data. Identifiers are quoted, and casts,
literals and comparisons spelled, by the connection's dialect (SQLAlchemy's compiler).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from planner.changes import Diff, Kind
from planner.model import Column, Schema, Table
from planner.normalize import quote_ident
from planner.verify.metadata import raw
from planner.verify.seed import _sqlite_transactions

#: the temporary table a row is copied into before it is deleted and inserted again (MySQL, SQLite)
_ROW_COPY = "planner_window_row"


class _Sql:
    """SQL text in the connection's dialect."""

    def __init__(self, dialect: sa.engine.Dialect) -> None:
        self.dialect = dialect
        self.name = dialect.name

    def q(self, name: str) -> str:
        return quote_ident(name, self.name)

    def table(self, t: Table) -> str:
        return f"{self.q(t.schema)}.{self.q(t.name)}" if t.schema else self.q(t.name)

    def _compile(self, expr: sa.ColumnElement) -> str:
        return str(expr.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))

    def lit(self, text: str) -> str:
        return self._compile(sa.literal(text, sa.String()))

    def text(self, expr: str) -> str:
        """`expr` as the server prints it (CAST ... AS TEXT, or CHAR on MySQL)."""
        return self._compile(sa.cast(sa.literal_column(expr), sa.Text()))

    def distinct(self, a: str, b: str) -> str:
        """NULL-safe inequality (IS DISTINCT FROM, MySQL's NOT <=>, SQLite's IS NOT)."""
        return self._compile(sa.literal_column(a).is_distinct_from(sa.literal_column(b)))

    def where(self, pk: tuple[str, ...], row: tuple) -> str:
        return " AND ".join(f"{self.text(self.q(k))} = {self.lit(v)}" if v is not None else f"{self.q(k)} IS NULL"
                            for k, v in zip(pk, row, strict=True))


@dataclass(frozen=True, slots=True)
class App:
    """One application version: its name (OLD, NEW), the schema it was written for, and the
    enum values it spells differently from the other version ((enum key, its value, the other's))."""

    name: str
    schema: Schema
    spellings: tuple[tuple[str, str, str], ...] = ()
    #: (table key in this schema, its name for a renamed column, the other version's name)
    renamed: tuple[tuple[str, str, str], ...] = ()


def apps(diff: Diff, old: Schema, new: Schema) -> dict[str, App]:
    """OLD and NEW as the window writes see them, from the diff's confirmed renames."""
    values = [(c.name or "", c.detail["from"], c.detail["to"]) for c in diff.changes
              if c.kind == Kind.RENAME_ENUM_VALUE and c.table is None]
    table_from = {c.table: c.detail["from"] for c in diff.changes if c.kind == Kind.RENAME_TABLE}
    columns = [(c.table or "", c.detail["from"], c.detail["to"]) for c in diff.changes if c.kind == Kind.RENAME_COLUMN]
    return {
        "OLD": App("OLD", old, tuple((e, a, b) for e, a, b in values),
                   tuple((table_from.get(t, t), a, b) for t, a, b in columns)),
        "NEW": App("NEW", new, tuple((e, b, a) for e, a, b in values), tuple((t, b, a) for t, a, b in columns)),
    }


def _writable(col: Column) -> bool:
    return not col.generated and col.autoincrement != "identity_always"


def _qtype(sql: _Sql, key: str) -> str:
    schema, _, name = key.rpartition(".")
    return f"{sql.q(schema)}.{sql.q(name)}" if schema else sql.q(name)


def _value(sql: _Sql, col: Column, app: App, live_values: dict[str, set[str]]) -> str:
    """The column's current value as `app` writes it: an enum value the plan renames is
    spelled the app's way (where the database has that spelling at this point). Only
    PostgreSQL's named enums have renamed values (`app.spellings` is empty elsewhere)."""
    expr = sql.q(col.name)
    if not col.enum or not app.spellings:
        return expr
    arr = col.type.endswith("[]")
    changed = False
    text = f"{expr}::text[]" if arr else f"{expr}::text"
    for enum, mine, other in app.spellings:
        if enum != col.enum or mine not in live_values.get(enum, set()):
            continue
        changed = True
        text = (f"array_replace({text}, {sql.lit(other)}, {sql.lit(mine)})" if arr else
                f"(CASE WHEN {text} = {sql.lit(other)} THEN {sql.lit(mine)} ELSE {text} END)")
    return f"{text}::{_qtype(sql, col.enum)}{'[]' if arr else ''}" if changed else expr


def _enum_values(conn: Connection) -> dict[str, set[str]]:
    """The values each named enum type has now (PostgreSQL; the other dialects have none)."""
    if conn.dialect.name != "postgresql":
        return {}
    rows = conn.exec_driver_sql(
        "SELECT n.nspname, t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace").all()
    out: dict[str, set[str]] = {}
    for schema, name, label in rows:
        out.setdefault(name if schema == "public" else f"{schema}.{name}", set()).add(label)
        out.setdefault(f"{schema}.{name}", set()).add(label)
    return out


def _live_columns(inspector: sa.Inspector, t: Table) -> set[str] | None:
    """The columns the database has under `t`'s name (a table or a compatibility view), None
    when there is nothing under that name."""
    try:
        return {c["name"] for c in inspector.get_columns(t.name, schema=t.schema)} or None
    except sa_exc.NoSuchTableError:
        return None


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def app_writes(engine: sa.Engine, app: App, *, rows: int = 20) -> tuple[list[str], int, list[str]]:
    """Make `app` write into every table of its schema that has a primary key and rows (see the
    module docstring); the failures (one line each), how many writes the database took, and the
    tables whose sampled rows (`rows`) are all referenced by other tables, so that none could be
    deleted to be inserted again (their INSERT is not tried)."""
    own = None
    if engine.dialect.name == "sqlite":  # pysqlite's transactions break SAVEPOINT; foreign keys on
        own = engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
        _sqlite_transactions(own)
    failures: list[str] = []
    skipped: list[str] = []
    done = 0
    try:
        with engine.connect() as conn:
            sql = _Sql(conn.dialect)
            if sql.name == "postgresql":
                conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
            live_values = _enum_values(conn)
            inspector = sa.inspect(conn)
            for t in sorted(app.schema.tables, key=lambda x: (x.schema or "", x.name)):
                if t.primary_key is None:
                    continue
                live = _live_columns(inspector, t)
                if live is None:
                    failures.append(f"{app.name}: table {t.name} does not exist")
                    continue
                missing = [c.name for c in t.columns if c.name not in live]
                if missing:
                    failures.append(f"{app.name}: {t.name} has no column {', '.join(missing)}")
                    continue
                done += _table_writes(conn, sql, app, t, live, live_values, rows, failures, skipped)
            conn.rollback()
    finally:
        if own is not None:
            own.dispose()
    return failures, done, skipped


#: what `_attempt` returns when its check counted rows (a database's error always has ": ")
_CHECK = "check failed"


class _Undo(Exception):
    """Rolls a savepoint back after a statement that went through (`keep=False`)."""


def _attempt(conn: Connection, *statements: str, keep: bool = True, check: str | None = None) -> str | None:
    """Run `statements` in a savepoint (rolled back after them unless `keep`): None, or the
    database's error (one line, after its SQLSTATE where the driver gives one). `check`, a count
    read after them in the same transaction, fails the attempt (`_CHECK`) when it is not zero.

    On MySQL/MariaDB each attempt is a transaction of its own, always rolled back: InnoDB's
    FULLTEXT bookkeeping does not survive a row updated, deleted in a savepoint rolled back and
    deleted again in one transaction (MariaDB 10.11 aborts on an assertion in fts0fts.cc), and
    nothing of a write is kept anyway."""
    mysql = conn.dialect.name == "mysql"
    differs = 0
    try:
        if mysql:
            conn.rollback()
        with contextlib.nullcontext() if mysql else conn.begin_nested():
            for statement in statements:
                conn.exec_driver_sql(statement, execution_options={"no_parameters": True})
            if check is not None:
                differs = raw(conn, check).scalar() or 0
            if not keep and not mysql:
                raise _Undo
    except _Undo:
        return None
    except sa_exc.DBAPIError as e:
        state = getattr(getattr(e, "orig", None), "sqlstate", None) or ""
        return f"{state}: {_first_line(e)}"
    finally:
        if mysql:
            conn.rollback()
    return _CHECK if differs else None


def _message(error: str) -> str:
    return error.partition(": ")[2]


def _reinsert(conn: Connection, sql: _Sql, t: Table, where: str, names: str, values: str, *,
              overriding: bool = False) -> str | None:
    """Delete the row `where` selects and insert it again, naming `names` with `values` (column
    expressions over the deleted row; `overriding`: they include a GENERATED ALWAYS identity,
    PostgreSQL): None, or the database's error (`_CHECK` when no row came back)."""
    back = f"SELECT 1 - count(*) FROM {sql.table(t)} WHERE {where}"
    if sql.name == "postgresql":
        system = " OVERRIDING SYSTEM VALUE" if overriding else ""
        return _attempt(conn, f"WITH gone AS (DELETE FROM {sql.table(t)} WHERE {where} RETURNING *) "
                              f"INSERT INTO {sql.table(t)} ({names}){system} SELECT {values} FROM gone", check=back)
    # the copy is made in the same transaction as the DELETE (a MySQL ROLLBACK empties it too)
    temporary, copy = ("TEMPORARY", sql.q(_ROW_COPY)) if sql.name == "mysql" else ("TEMP", f"temp.{sql.q(_ROW_COPY)}")
    drop = f"DROP TEMPORARY TABLE IF EXISTS {copy}" if sql.name == "mysql" else f"DROP TABLE IF EXISTS {copy}"
    raw(conn, drop)
    try:
        return _attempt(conn, f"CREATE {temporary} TABLE {sql.q(_ROW_COPY)} AS SELECT * FROM {sql.table(t)} WHERE {where}",
                        f"DELETE FROM {sql.table(t)} WHERE {where}",
                        f"INSERT INTO {sql.table(t)} ({names}) SELECT {values} FROM {copy}", check=back)
    finally:
        raw(conn, drop)


def _table_writes(conn: Connection, sql: _Sql, app: App, t: Table, live: set[str],
                  live_values: dict[str, set[str]], rows: int, failures: list[str], skipped: list[str]) -> int:
    pk = t.primary_key.columns if t.primary_key else ()
    keys = ", ".join(sql.q(k) for k in pk)
    # the keys as the server prints them, compared as text: no value crosses the driver
    found = raw(conn, f"SELECT {', '.join(sql.text(sql.q(k)) for k in pk)} FROM {sql.table(t)} "
                                 f"ORDER BY {keys} LIMIT {rows}").all()
    if not found:
        return 0
    done = 0
    cols = [c for c in t.columns if _writable(c)]
    first = sql.where(pk, tuple(found[0]))
    sets = ", ".join(f"{sql.q(c.name)} = {_value(sql, c, app, live_values)}" for c in cols if c.name not in pk)
    if sets:
        error = _attempt(conn, f"UPDATE {sql.table(t)} SET {sets} WHERE {first}")
        if error:
            failures.append(f"{app.name}: UPDATE of a pre-existing row of {t.name}: {_message(error)}")
        else:
            done += 1
    # the row comes back whole: a GENERATED ALWAYS identity key too (PostgreSQL: OVERRIDING
    # SYSTEM VALUE), or it would come back under a new key
    always = [c for c in t.columns if c.autoincrement == "identity_always" and c.name in pk and not c.generated]
    overriding = bool(always) and sql.name == "postgresql"
    back = [*cols, *always] if overriding else cols
    names = ", ".join(sql.q(c.name) for c in back)
    values = ", ".join(_value(sql, c, app, live_values) for c in back)
    deletable = None
    for row in found:  # a row other tables reference (or whose referential actions fail) cannot be
        # deleted to be inserted again: the first row whose delete alone goes through
        if _attempt(conn, f"DELETE FROM {sql.table(t)} WHERE {sql.where(pk, tuple(row))}", keep=False) is None:
            deletable = sql.where(pk, tuple(row))
            break
    if deletable is None:
        skipped.append(t.name)
    else:
        error = _reinsert(conn, sql, t, deletable, names, values, overriding=overriding)
        if error == _CHECK:
            failures.append(f"{app.name}: INSERT into {t.name}: the row deleted to be inserted again did not come back")
        elif error:
            failures.append(f"{app.name}: INSERT into {t.name}: {_message(error)}")
        else:
            done += 1
    key = app.schema.key(t.schema, t.name)
    for table, mine, other in app.renamed:
        if table != key or other not in live or mine not in live:
            continue
        if t.column(mine) is None or any(mine in i.columns and i.unique for i in t.indexes):
            continue
        # another row's value, through a derived table (MySQL refuses a subquery on the table
        # an UPDATE writes, error 1093, but not one on a materialized derived table)
        value = (f"(SELECT {sql.q('v')} FROM (SELECT {sql.q(mine)} AS {sql.q('v')} FROM {sql.table(t)} "
                 f"WHERE {sql.q(mine)} IS NOT NULL AND NOT ({first}) ORDER BY {keys} LIMIT 1) AS {sql.q('other_row')})")
        differs = (f"SELECT count(*) FROM {sql.table(t)} WHERE {first} AND "
                   f"{sql.distinct(sql.text(sql.q(mine)), sql.text(sql.q(other)))}")
        error = _attempt(conn, f"UPDATE {sql.table(t)} SET {sql.q(mine)} = {value} WHERE {first}", check=differs)
        if error == _CHECK:
            failures.append(f"{app.name}: {t.name}.{mine} written, but {other} does not hold the same value (the "
                            "columns are not kept in step)")
        elif error:
            failures.append(f"{app.name}: UPDATE of renamed column {t.name}.{mine}: {_message(error)}")
        else:
            done += 1
    return done
