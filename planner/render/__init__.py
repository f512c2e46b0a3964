"""Renderers: turn a diff (or a schema) into text, JSON or Markdown. They return strings or
rich renderables; only the CLI owns the console."""

from __future__ import annotations

from planner.changes import Change, Kind
from planner.model import Column, ForeignKey, Index

LEVELS = ("safe", "low", "medium", "high", "critical")


def column_sql(c: Column) -> str:
    """`varchar(255) NOT NULL DEFAULT 'x'` — a column as a reviewer reads it."""
    out = c.type
    if c.collation:
        out += f" COLLATE {c.collation}"
    if not c.nullable:
        out += " NOT NULL"
    if c.autoincrement:
        out += f" {c.autoincrement.upper().replace('_', ' ')}"
    if c.default is not None:
        out += f" DEFAULT {c.default}"
    if c.on_update is not None:
        out += f" ON UPDATE {c.on_update}"
    if c.generated:
        out += f" GENERATED AS ({c.generated})"
    return out


def index_sql(i: Index) -> str:
    out = "(" + ", ".join(p.label for p in i.parts) + ")"
    if i.method not in ("btree",):
        out += f" USING {i.method}"
    if i.include:
        out += " INCLUDE (" + ", ".join(i.include) + ")"
    if i.nulls_not_distinct:
        out += " NULLS NOT DISTINCT"
    if i.where:
        out += f" WHERE {i.where}"
    return out


def fk_sql(f: ForeignKey, ref: str) -> str:
    out = f"({', '.join(f.columns)}) -> {ref}({', '.join(f.ref_columns)})"
    if f.on_delete not in ("NO ACTION",):
        out += f" ON DELETE {f.on_delete}"
    if f.on_update not in ("NO ACTION",):
        out += f" ON UPDATE {f.on_update}"
    return out


def _arrow(a: object, b: object) -> str:
    return f"{a if a is not None else '(none)'} -> {b if b is not None else '(none)'}"


def describe(c: Change) -> str:
    """One line saying what the change does."""
    d = c.detail
    k = c.kind
    if k in (Kind.ADD_COLUMN,):
        return column_sql(c.new)
    if k == Kind.DROP_COLUMN:
        return f"{column_sql(c.old)} (data in it is lost)"
    if k == Kind.ALTER_COLUMN_TYPE:
        return _arrow(d.get("from"), d.get("to"))
    if k == Kind.ALTER_DEFAULT:
        parts = [_arrow(d.get("from"), d.get("to"))] if d.get("from") != d.get("to") else []
        if d.get("on_update"):
            parts.append("ON UPDATE " + _arrow(*d["on_update"]))
        return "; ".join(parts) or _arrow(d.get("from"), d.get("to"))
    if k == Kind.SET_NOT_NULL:
        return "NULL -> NOT NULL"
    if k == Kind.DROP_NOT_NULL:
        return "NOT NULL -> NULL"
    if k in (Kind.ADD_TABLE, Kind.DROP_TABLE):
        t = c.new or c.old
        return f"{len(t.columns)} columns"
    if k in (Kind.ADD_INDEX, Kind.DROP_INDEX, Kind.ADD_UNIQUE, Kind.DROP_UNIQUE):
        i = c.new or c.old
        return ("UNIQUE " if i.unique else "") + index_sql(i)
    if k in (Kind.ADD_PRIMARY_KEY, Kind.DROP_PRIMARY_KEY):
        pk = c.new or c.old
        return "(" + ", ".join(pk.columns) + ")"
    if k in (Kind.ADD_FOREIGN_KEY, Kind.DROP_FOREIGN_KEY):
        return fk_sql(c.new or c.old, d.get("references", ""))
    if k == Kind.ALTER_FOREIGN_KEY:
        return "; ".join(f"{name.replace('_', ' ')}: {_arrow(*v)}" for name, v in d.get("changed", {}).items())
    if k in (Kind.ADD_CHECK, Kind.DROP_CHECK):
        return f"CHECK ({d.get('expression')})"
    if k in (Kind.ADD_ENUM, Kind.DROP_ENUM):
        return ", ".join(d.get("values", []))
    if k == Kind.ADD_ENUM_VALUE:
        where = "at the end" if d.get("appended") else (
            f"before {d['before']!r}" if d.get("before") else "")
        return f"{d.get('value')!r} {where}".strip()
    if k == Kind.REMOVE_ENUM_VALUE:
        return f"{d.get('value')!r}"
    if k == Kind.REORDER_ENUM_VALUES:
        return _arrow(", ".join(d.get("from", [])), ", ".join(d.get("to", [])))
    if k in (Kind.RENAME_TABLE, Kind.RENAME_COLUMN, Kind.RENAME_ENUM, Kind.RENAME_INDEX,
             Kind.RENAME_CONSTRAINT, Kind.RENAME_ENUM_VALUE, Kind.ALTER_COMMENT):
        return _arrow(d.get("from"), d.get("to"))
    if k in (Kind.ADD_VIEW, Kind.DROP_VIEW, Kind.ALTER_VIEW):
        return "materialized view" if d.get("materialized") else "view"
    if k == Kind.ADD_EXTENSION:
        return "for " + ", ".join(d.get("needed_by", [])) if d.get("needed_by") else ""
    return ""


def group_of(c: Change) -> str:
    """The heading a change is listed under: its table, or the enum/view it concerns."""
    if c.table:
        return c.table
    if c.kind in (Kind.ADD_VIEW, Kind.DROP_VIEW, Kind.ALTER_VIEW):
        return f"view {c.name}"
    if c.kind == Kind.ADD_EXTENSION:
        return f"extension {c.name}"
    return f"enum {c.name}"


def grouped(changes) -> list[tuple[str, list[Change]]]:  # noqa: ANN001
    """Changes grouped by `group_of`, groups in order of first appearance."""
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(group_of(c), []).append(c)
    return list(groups.items())
