"""What a SQLite table keeps that its rows and schema diff do not show (`planner verify`).

The naive migration (SQLite's own ALTER, or the 12-step rebuild from the table's own SQL) keeps
every row's rowid, the AUTOINCREMENT counter in `sqlite_sequence`, the STRICT and WITHOUT
ROWID flags, and leaves no view or trigger that no longer compiles (SQLite's DROP COLUMN and
RENAME refuse one). verify compares these before and after the upgrade and the downgrade:

* `spread` makes them visible first: the rowids of every rowid table without an INTEGER
  PRIMARY KEY alias (whose rowid is the key itself) are spread apart (1, 2, 3 -> 1005, 1010,
  1015: a copy numbering them again is seen) and every AUTOINCREMENT counter is raised above
  the table's largest key (as deleted rows leave it: a copy that sets it to the largest key
  is seen);
* `snapshot` reads them; `compare` lists what differs, for the tables both sides hold;
* `schema_errors` names a view or trigger that no longer compiles: each view is read
  (`SELECT * ... LIMIT 0`), and a scratch table is renamed inside a rolled-back transaction
  with `legacy_alter_table` off, which makes SQLite parse every trigger and view again (a
  trigger's body is not checked by CREATE TRIGGER, only when a statement fires it).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from planner.load.database import parse_database_url

#: tables verify leaves alone (planner's backups, Alembic's)
_SKIP = ("planner_backup", "alembic_version", "_alembic_tmp", "sqlite_")
_PROBE = "planner_verify_schema_probe"


@dataclass(slots=True)
class State:
    sequence: dict[str, int] = field(default_factory=dict)
    #: table -> (WITHOUT ROWID, STRICT)
    flags: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    #: rowid table -> its rowids in order
    rowids: dict[str, list[int]] = field(default_factory=dict)


def _connect(url: str) -> sqlite3.Connection:
    path = parse_database_url(url).path
    con = sqlite3.connect(path)
    con.isolation_level = None
    return con


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con: sqlite3.Connection) -> dict[str, tuple[bool, bool]]:
    rows = con.execute("SELECT name, wr, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")
    return {name: (bool(wr), bool(strict)) for name, wr, strict in rows
            if not name.lower().startswith(_SKIP)}


def _has_alias(con: sqlite3.Connection, table: str) -> bool:
    """Whether the rowid of `table` (a rowid table) is one of its columns (INTEGER PRIMARY KEY):
    a key column without the automatic index a key that is no alias gets."""
    keyed = any(r[5] for r in con.execute(f"PRAGMA table_info({_q(table)})"))
    indexed = any(r[3] == "pk" for r in con.execute(f"PRAGMA index_list({_q(table)})"))
    return keyed and not indexed


def _has_sequence(con: sqlite3.Connection) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() is not None


def spread(url: str) -> None:
    """Spread the rowids of the rowid tables without an alias; raise every AUTOINCREMENT counter."""
    con = _connect(url)
    try:
        con.execute("BEGIN")
        for name, (without_rowid, _) in _tables(con).items():
            if without_rowid or _has_alias(con, name):
                continue
            con.execute(f"UPDATE {_q(name)} SET rowid = -rowid")
            con.execute(f"UPDATE {_q(name)} SET rowid = 1000 - 5 * rowid")
        if _has_sequence(con):
            con.execute("UPDATE sqlite_sequence SET seq = seq + 100")
        con.execute("COMMIT")
    finally:
        con.close()


def snapshot(url: str) -> State:
    con = _connect(url)
    try:
        state = State(flags=_tables(con))
        if _has_sequence(con):
            state.sequence = {n: s for n, s in con.execute("SELECT name, seq FROM sqlite_sequence")
                              if not n.lower().startswith(_SKIP)}
        for name, (without_rowid, _) in state.flags.items():
            if not without_rowid:
                state.rowids[name] = [r for (r,) in con.execute(f"SELECT rowid FROM {_q(name)} ORDER BY rowid")]
        return state
    finally:
        con.close()


def _flags(f: tuple[bool, bool]) -> str:
    return ", ".join(x for x, on in (("WITHOUT ROWID", f[0]), ("STRICT", f[1])) if on) or "no table options"


def _rowids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return f"{shown}, ..." if len(ids) > 5 else shown


def compare(before: State, after: State, tables: set[str] | None = None) -> list[str]:
    """What the migration changed of the tables in `tables` (default: those both states hold)."""
    names = set(before.flags) & set(after.flags) if tables is None else tables & set(before.flags) & set(after.flags)
    out = []
    for name in sorted(names):
        if before.flags[name] != after.flags[name]:
            out.append(f"table {name}: {_flags(before.flags[name])} before, {_flags(after.flags[name])} after")
        if before.sequence.get(name) != after.sequence.get(name):
            out.append(f"table {name}: sqlite_sequence {before.sequence.get(name)} before, "
                       f"{after.sequence.get(name)} after (AUTOINCREMENT would give deleted ids again)")
        a, b = before.rowids.get(name), after.rowids.get(name)
        if a is not None and b is not None and a != b:
            out.append(f"table {name}: rowids {_rowids(a)} before, {_rowids(b)} after (renumbered)")
    return out


def _statement(con: sqlite3.Connection, table: str, event: str) -> str:
    """A statement that fires `table`'s `event` triggers (only EXPLAINed: nothing runs)."""
    if event == "INSERT":
        return f"INSERT INTO {_q(table)} DEFAULT VALUES"
    if event == "DELETE":
        return f"DELETE FROM {_q(table)}"
    columns = [r[1] for r in con.execute(f"PRAGMA table_xinfo({_q(table)})") if r[6] in (0, 1)]
    return f"UPDATE {_q(table)} SET " + ", ".join(f"{_q(c)} = {_q(c)}" for c in columns)


def schema_errors(url: str) -> list[str]:
    """The views that no longer read, the triggers whose body no longer compiles (a statement
    that fires them is EXPLAINed), and otherwise the first object SQLite cannot parse again."""
    con = _connect(url)
    out = []
    try:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name").fetchall():
            try:
                con.execute(f"SELECT * FROM {_q(name)} LIMIT 0").fetchall()
            except sqlite3.Error as e:
                out.append(f"view {name} no longer compiles: {e}")
        triggers = con.execute("SELECT t.name, t.tbl_name, t.sql FROM sqlite_master AS t JOIN sqlite_master AS o "
                               "ON o.name = t.tbl_name AND o.type = 'table' WHERE t.type = 'trigger' "
                               "ORDER BY t.name").fetchall()
        for name, table, text in triggers:
            event = re.search(r"(?is)\bTRIGGER\b.*?\b(DELETE|INSERT|UPDATE)\b(\s+OF\b.*?)?\s+ON\b", text or "")
            if event is None:
                continue
            try:
                con.execute("EXPLAIN " + _statement(con, table, event.group(1).upper())).fetchall()
            except sqlite3.Error as e:
                out.append(f"trigger {name} on {table} no longer compiles: {e}")
        if out:
            return out
        con.execute("PRAGMA legacy_alter_table = OFF")
        con.execute("BEGIN")
        try:
            con.execute(f"CREATE TABLE {_q(_PROBE)} (x)")
            con.execute(f"ALTER TABLE {_q(_PROBE)} RENAME TO {_q(_PROBE + '2')}")
        except sqlite3.Error as e:
            out.append(f"the schema no longer compiles: {e}")
        finally:
            con.execute("ROLLBACK")
        return out
    finally:
        con.close()
