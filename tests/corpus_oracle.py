"""The corpus oracle: what a project's own prisma_migration.sql touches, and whether a diff covers it.

Rules from ../shared/corpus/README.md ("How a test can use it", item 2): tables, columns,
indexes, constraints and enums named by the migration must each appear in the diff; helper
enum types ending in `_new`/`_old` and langfuse's temporary `json_prompt` column are
ignored; columns touched only because their enum type is swapped are covered by the enum
change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planner.changes import Change, Kind

_IDENT = r'(?:"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][\w$]*)'
_QNAME = rf"(?:{_IDENT}\s*\.\s*)?{_IDENT}"
IGNORED_COLUMNS = {"json_prompt"}


def _name(q: str) -> str:
    last = re.findall(_IDENT, q)[-1]
    return last[1:-1].replace('""', '"') if last[0] in '"`' else last


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


@dataclass(frozen=True)
class Item:
    kind: str  # table, column, index, constraint, enum
    table: str | None
    name: str
    via_enum_swap: bool = False

    def __str__(self) -> str:
        return f"{self.kind} {self.table + '.' if self.table else ''}{self.name}"


def touched(sql: str) -> set[Item]:
    """Everything the migration's statements touch (after stripping comments)."""
    items: set[Item] = set()
    sql = _strip_comments(sql)
    for stmt in (s.strip() for s in sql.split(";")):
        if not stmt:
            continue
        if m := re.match(rf"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_QNAME})", stmt, re.I):
            items.add(Item("table", None, _name(m.group(1))))
        elif m := re.match(rf"DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({_QNAME})", stmt, re.I):
            items.add(Item("table", None, _name(m.group(1))))
        elif m := re.match(rf"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                           rf"({_QNAME})\s+ON\s+(?:ONLY\s+)?({_QNAME})", stmt, re.I):
            items.add(Item("index", _name(m.group(2)), _name(m.group(1))))
        elif m := re.match(rf"DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?({_QNAME})", stmt, re.I):
            items.add(Item("index", None, _name(m.group(1))))
        elif m := re.match(rf"ALTER\s+INDEX\s+(?:IF\s+EXISTS\s+)?({_QNAME})\s+RENAME\s+TO\s+({_IDENT})",
                           stmt, re.I):
            items.add(Item("index", None, _name(m.group(1))))
        elif m := re.match(rf"(?:CREATE|ALTER|DROP)\s+TYPE\s+(?:IF\s+EXISTS\s+)?({_QNAME})", stmt, re.I):
            name = _name(m.group(1))
            if not name.endswith(("_new", "_old")):
                items.add(Item("enum", None, name))
            if m2 := re.search(rf"RENAME\s+TO\s+({_IDENT})", stmt, re.I):
                target = _name(m2.group(1))
                if not target.endswith(("_new", "_old")) and not name.endswith(("_new", "_old")):
                    items.add(Item("enum", None, target))
        elif m := re.match(rf"ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_QNAME})\s+(.*)$", stmt,
                           re.I | re.S):
            table = _name(m.group(1))
            items.add(Item("table", None, table))
            for clause in _clauses(m.group(2)):
                items |= _alter_clause(table, clause)
    return items


def _clauses(body: str) -> list[str]:
    """Split an ALTER TABLE body on top-level commas."""
    out, depth, cur, quote = [], 0, [], None
    for ch in body:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _alter_clause(table: str, clause: str) -> set[Item]:
    items: set[Item] = set()
    if m := re.match(rf"(ADD|DROP|ALTER)\s+(?:COLUMN\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?({_IDENT})(.*)$",
                     clause, re.I | re.S):
        word, name, rest = m.group(1).upper(), _name(m.group(2)), m.group(3)
        if name.upper() in ("CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "INDEX", "KEY"):
            if c := re.match(rf"\s*(?:IF\s+EXISTS\s+)?({_IDENT})", rest, re.I):
                if name.upper() == "CONSTRAINT":
                    items.add(Item("constraint", table, _name(c.group(1))))
            return items
        if name in IGNORED_COLUMNS:
            return items
        swap = word == "ALTER" and bool(re.search(r'_new"?(\[\])?\s+USING|_new"?(\[\])?\s*$|DEFAULT', rest, re.I))
        items.add(Item("column", table, name, via_enum_swap=swap))
    elif m := re.match(rf"RENAME\s+COLUMN\s+({_IDENT})\s+TO\s+({_IDENT})", clause, re.I):
        for n in (m.group(1), m.group(2)):
            if _name(n) not in IGNORED_COLUMNS:
                items.add(Item("column", table, _name(n)))
    elif m := re.match(rf"RENAME\s+CONSTRAINT\s+({_IDENT})\s+TO\s+({_IDENT})", clause, re.I):
        items.add(Item("constraint", table, _name(m.group(1))))
    elif m := re.match(rf"RENAME\s+TO\s+({_IDENT})", clause, re.I):
        items.add(Item("table", None, _name(m.group(1))))
    return items


def covered(item: Item, changes: tuple[Change, ...]) -> bool:
    """Does some change of the diff mention `item`?"""
    def names(c: Change) -> set[str]:
        out = {x for x in (c.name, c.column) if x}
        for k in ("from", "to", "enum"):
            v = c.detail.get(k)
            if isinstance(v, str):
                out.add(v.rpartition(".")[2] if k != "enum" else v)
        out.update(c.detail.get("rebuilds", []))
        return out

    def tables_of(c: Change) -> set[str | None]:
        out = {c.table, c.detail.get("from") if c.kind == Kind.RENAME_TABLE else None}
        out.update(u.rpartition(".")[0] for u in c.detail.get("used_by", []))
        return out

    enum_kinds = {Kind.ADD_ENUM, Kind.DROP_ENUM, Kind.RENAME_ENUM, Kind.ADD_ENUM_VALUE,
                  Kind.REMOVE_ENUM_VALUE, Kind.RENAME_ENUM_VALUE, Kind.REORDER_ENUM_VALUES}
    for c in changes:
        tables = tables_of(c)
        if item.kind == "table" and (item.name in tables or (c.kind == Kind.RENAME_TABLE
                                                               and item.name in names(c))):
            return True
        if item.kind == "column":
            if c.kind in (Kind.ADD_TABLE, Kind.DROP_TABLE) and item.table in tables:
                return True
            if item.table in tables and item.name in ({c.column} | names(c)):
                return True
            if item.via_enum_swap and f"{item.table}.{item.name}" in c.detail.get("used_by", []):
                return True
        if item.kind in ("index", "constraint"):
            if item.name in names(c):
                return True
            if item.table in tables and c.kind in (Kind.DROP_TABLE, Kind.ADD_TABLE):
                return True
            if item.kind == "constraint" and item.table in tables and c.kind in (
                    Kind.ADD_PRIMARY_KEY, Kind.DROP_PRIMARY_KEY) and item.name.endswith("_pkey"):
                return True
        if item.kind == "index" and item.table is None and c.kind == Kind.DROP_TABLE:
            old = c.old
            if old is not None and any(i.name == item.name for i in old.indexes):
                return True
        if item.kind == "enum" and c.kind in enum_kinds and item.name in names(c):
            return True
    return False
