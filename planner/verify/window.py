"""The application between revisions (`planner verify`, PostgreSQL).

Each revision's docstring names the application versions that may run once it is done (OLD:
the code for the old schema, NEW: the code for the new one; planner.plan.ir.apps). After each
revision, verify makes each of them write, shaped as its own schema sees the database:

* an UPDATE of a pre-existing row that writes every column the version knows (as an ORM saving
  a whole row does), each set to what the row holds, in that version's spelling (an enum value
  renamed by the plan is written under the version's name for it);
* an INSERT of a row naming only the columns the version knows: a pre-existing row that can be
  deleted (no other row references it, its referential actions go through) is deleted and
  inserted again in one statement (`WITH gone AS (DELETE ... RETURNING ...) INSERT ... SELECT
  ... FROM gone`), so keys, unique values and its own references stay valid (a table whose
  sampled rows cannot be deleted is named in a note);
* for a renamed column while both names exist, an UPDATE that changes it to another row's
  value, and a check that the other name reads the same (the trigger keeps them in step).

The writes run in one transaction with every constraint checked immediately, and are rolled
back: what is verified is that the database accepts each write (any error fails verify), not
what it leaves behind, so the later steps of verify (the diff against NEW, the downgrade, the
row checksums) see the seeded data.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from planner.changes import Diff, Kind
from planner.model import Column, Schema, Table
from planner.normalize import quote_ident


def q(name: str) -> str:
    return quote_ident(name, "postgresql")


def _qt(t: Table) -> str:
    return f"{q(t.schema)}.{q(t.name)}" if t.schema else q(t.name)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _qtype(key: str) -> str:
    schema, _, name = key.rpartition(".")
    return f"{q(schema)}.{q(name)}" if schema else q(name)


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


def _value(col: Column, app: App, live_values: dict[str, set[str]]) -> str:
    """The column's current value as `app` writes it: an enum value the plan renames is
    spelled the app's way (where the database has that spelling at this point)."""
    expr = q(col.name)
    if not col.enum:
        return expr
    arr = col.type.endswith("[]")
    changed = False
    text = f"{expr}::text[]" if arr else f"{expr}::text"
    for enum, mine, other in app.spellings:
        if enum != col.enum or mine not in live_values.get(enum, set()):
            continue
        changed = True
        text = (f"array_replace({text}, {_lit(other)}, {_lit(mine)})" if arr else
                f"(CASE WHEN {text} = {_lit(other)} THEN {_lit(mine)} ELSE {text} END)")
    return f"{text}::{_qtype(col.enum)}{'[]' if arr else ''}" if changed else expr


def _enum_values(conn: Connection) -> dict[str, set[str]]:
    rows = conn.exec_driver_sql(
        "SELECT n.nspname, t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace").all()
    out: dict[str, set[str]] = {}
    for schema, name, label in rows:
        out.setdefault(name if schema == "public" else f"{schema}.{name}", set()).add(label)
        out.setdefault(f"{schema}.{name}", set()).add(label)
    return out


def _live_columns(conn: Connection, t: Table) -> set[str] | None:
    """The columns the database has under `t`'s name (a table or a compatibility view), None
    when there is nothing under that name."""
    schema = _lit(t.schema) if t.schema else "current_schema()"
    rows = conn.exec_driver_sql(
        f"SELECT column_name FROM information_schema.columns WHERE table_schema = {schema} "
        f"AND table_name = {_lit(t.name)}").all()
    return {r[0] for r in rows} or None


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def app_writes(engine: sa.Engine, app: App, *, rows: int = 20) -> tuple[list[str], int, list[str]]:
    """Make `app` write into every table of its schema that has a primary key and rows (see the
    module docstring); the failures (one line each), how many writes the database took, and the
    tables whose sampled rows (`rows`) are all referenced by other tables, so that none could be
    deleted to be inserted again (their INSERT is not tried)."""
    failures: list[str] = []
    skipped: list[str] = []
    done = 0
    with engine.connect() as conn:
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        live_values = _enum_values(conn)
        for t in sorted(app.schema.tables, key=lambda x: (x.schema or "", x.name)):
            if t.primary_key is None:
                continue
            live = _live_columns(conn, t)
            if live is None:
                failures.append(f"{app.name}: table {t.name} does not exist")
                continue
            missing = [c.name for c in t.columns if c.name not in live]
            if missing:
                failures.append(f"{app.name}: {t.name} has no column {', '.join(missing)}")
                continue
            done += _table_writes(conn, app, t, live, live_values, rows, failures, skipped)
        conn.rollback()
    return failures, done, skipped


def _where(pk: tuple[str, ...], row: tuple) -> str:
    return " AND ".join(f"{q(k)}::text = {_lit(v)}" if v is not None else f"{q(k)} IS NULL"
                        for k, v in zip(pk, row, strict=True))


class _Undo(Exception):
    """Rolls a savepoint back after a statement that went through (`keep=False`)."""


def _attempt(conn: Connection, sql: str, *, keep: bool = True) -> str | None:
    """Run `sql` in a savepoint (rolled back after it unless `keep`): None, or the database's
    error (one line, after its SQLSTATE)."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
            if not keep:
                raise _Undo
    except _Undo:
        return None
    except sa_exc.DBAPIError as e:
        state = getattr(getattr(e, "orig", None), "sqlstate", None) or ""
        return f"{state}: {_first_line(e)}"
    return None


def _message(error: str) -> str:
    return error.partition(": ")[2]


def _table_writes(conn: Connection, app: App, t: Table, live: set[str], live_values: dict[str, set[str]],
                  rows: int, failures: list[str], skipped: list[str]) -> int:
    pk = t.primary_key.columns if t.primary_key else ()
    keys = ", ".join(q(k) for k in pk)
    # the keys as the server prints them, compared as text: no value crosses the driver
    found = conn.exec_driver_sql(f"SELECT {', '.join(q(k) + '::text' for k in pk)} FROM {_qt(t)} "
                                 f"ORDER BY {keys} LIMIT {rows}").all()
    if not found:
        return 0
    done = 0
    cols = [c for c in t.columns if _writable(c)]
    first = _where(pk, tuple(found[0]))
    sets = ", ".join(f"{q(c.name)} = {_value(c, app, live_values)}" for c in cols if c.name not in pk)
    if sets:
        error = _attempt(conn, f"UPDATE {_qt(t)} SET {sets} WHERE {first}")
        if error:
            failures.append(f"{app.name}: UPDATE of a pre-existing row of {t.name}: {_message(error)}")
        else:
            done += 1
    names = ", ".join(q(c.name) for c in cols)
    values = ", ".join(_value(c, app, live_values) for c in cols)
    deletable = None
    for row in found:  # a row other tables reference (or whose referential actions fail) cannot be
        # deleted to be inserted again: the first row whose delete alone goes through
        if _attempt(conn, f"DELETE FROM {_qt(t)} WHERE {_where(pk, tuple(row))}", keep=False) is None:
            deletable = _where(pk, tuple(row))
            break
    if deletable is None:
        skipped.append(t.name)
    else:
        error = _attempt(conn, f"WITH gone AS (DELETE FROM {_qt(t)} WHERE {deletable} RETURNING *) "
                               f"INSERT INTO {_qt(t)} ({names}) SELECT {values} FROM gone")
        if error:
            failures.append(f"{app.name}: INSERT into {t.name}: {_message(error)}")
        else:
            done += 1
    key = app.schema.key(t.schema, t.name)
    for table, mine, other in app.renamed:
        if table != key or other not in live or mine not in live:
            continue
        if t.column(mine) is None or any(mine in i.columns and i.unique for i in t.indexes):
            continue
        value = f"(SELECT {q(mine)} FROM {_qt(t)} WHERE {q(mine)} IS NOT NULL AND NOT ({first}) ORDER BY {keys} LIMIT 1)"
        error = _attempt(conn, f"UPDATE {_qt(t)} SET {q(mine)} = {value} WHERE {first}")
        if error:
            failures.append(f"{app.name}: UPDATE of renamed column {t.name}.{mine}: {_message(error)}")
            continue
        done += 1
        differs = conn.exec_driver_sql(f"SELECT count(*) FROM {_qt(t)} WHERE {first} AND "
                                       f"{q(mine)}::text IS DISTINCT FROM {q(other)}::text").scalar()
        if differs:
            failures.append(f"{app.name}: {t.name}.{mine} written, but {other} does not hold the same value (the "
                            "columns are not kept in step)")
    return done
