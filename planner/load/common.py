"""What every loader shares: the result type, warnings, and the builders that normalise."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from planner.errors import Location
from planner.model import Check, Column, ForeignKey, Index, IndexPart, Schema, Table
from planner.normalize import canonical_type, normalize_default, normalize_expression

_SERIALS = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
            "smallserial": "smallint", "serial2": "smallint"}


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """Something planner read but could not represent fully; shown to the user, never hidden."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True, slots=True)
class Loaded:
    """A loaded source: the schema, where it came from, and what planner warns about."""

    schema: Schema
    source: str
    kind: str
    warnings: tuple[LoadWarning, ...] = ()


def build_column(
    name: str,
    type_text: str,
    dialect: str,
    *,
    nullable: bool = True,
    default: str | None = None,
    autoincrement: str | None = None,
    generated: str | None = None,
    comment: str | None = None,
    collation: str | None = None,
    origin: str | None = None,
    doc: str | None = None,
) -> Column:
    """The one place a column's type and default are normalised, whatever the source."""
    low = type_text.strip().lower()
    if dialect == "postgresql" and low in _SERIALS:
        type_text, autoincrement, nullable = _SERIALS[low], "sequence", False
    ctype = canonical_type(type_text, dialect)
    expr, volatile, is_seq = normalize_default(default, dialect, ctype)
    if is_seq:
        autoincrement = autoincrement or "sequence"
        expr, volatile = None, False
    if autoincrement == "identity_always" or autoincrement == "identity":
        nullable = False
    return Column(
        name=name, type=ctype, nullable=nullable, default=expr, default_volatile=volatile,
        autoincrement=autoincrement,
        generated=normalize_expression(generated, dialect) if generated else None,
        comment=comment or None, collation=collation, origin=origin, doc=doc,
    )


def build_part(dialect: str, *, column: str | None = None, expression: str | None = None,
               descending: bool = False, nulls_first: bool | None = None, opclass: str | None = None,
               length: int | None = None, collation: str | None = None) -> IndexPart:
    """An index key; `nulls_first` is kept only when it differs from the direction's default."""
    if nulls_first is not None and dialect == "postgresql" and nulls_first == descending:
        nulls_first = None  # PostgreSQL: ASC NULLS LAST and DESC NULLS FIRST are the defaults
    return IndexPart(
        column=column,
        expression=normalize_expression(expression, dialect) if expression is not None else None,
        descending=descending, nulls_first=nulls_first,
        opclass=_opclass(opclass), length=length, collation=collation,
    )


def _opclass(name: str | None) -> str | None:
    if not name:
        return None
    return name.strip().lower()


def normalize_action(action: str | None, dialect: str) -> str:
    """FK referential action in canonical spelling; missing means the dialect's default."""
    text = " ".join((action or "NO ACTION").upper().split())
    if dialect == "mysql" and text == "NO ACTION":
        return "RESTRICT"  # InnoDB: NO ACTION is a synonym of RESTRICT
    return text


def build_check(name: str | None, expression: str, dialect: str, *, inferred_name: bool = False) -> Check:
    return Check(name=name, expression=normalize_expression(expression, dialect), inferred_name=inferred_name)


def build_where(where: str | None, dialect: str) -> str | None:
    return normalize_expression(where, dialect) if where else None


def finalize_schema(schema: Schema) -> Schema:
    """The last step of every loader, so that equal schemas are equal objects:

    - columns of a named enum (or an array of it) get `Column.enum`;
    - primary-key columns are NOT NULL (as PostgreSQL and MySQL enforce; planner treats
      SQLite's legacy nullable non-integer keys the same way);
    - tables, enums and views are ordered by key; indexes, foreign keys and checks by name
      (columns keep their order).
    """
    keys = {schema.key(e.schema, e.name) for e in schema.enums}
    tables = []
    for t in schema.tables:
        pk = set(t.primary_key.columns) if t.primary_key else set()
        cols = []
        for c in t.columns:
            base = c.type.removesuffix("[]")
            if base in keys and c.enum != base:
                c = dataclasses.replace(c, enum=base)
            if c.name in pk and c.nullable:
                c = dataclasses.replace(c, nullable=False)
            cols.append(c)
        tables.append(dataclasses.replace(
            t, columns=tuple(cols),
            indexes=tuple(sorted(t.indexes, key=lambda i: (i.name or "", [p.label for p in i.parts]))),
            foreign_keys=tuple(sorted(t.foreign_keys, key=lambda f: (f.name or "", f.columns))),
            checks=tuple(sorted(t.checks, key=lambda c: (c.name or "", c.expression)))))
    return dataclasses.replace(
        schema,
        tables=tuple(sorted(tables, key=lambda t: (t.schema or "", t.name))),
        enums=tuple(sorted(schema.enums, key=lambda e: (e.schema or "", e.name))),
        views=tuple(sorted(schema.views, key=lambda v: (v.schema or "", v.name))))


__all__ = [
    "Check", "Column", "ForeignKey", "Index", "IndexPart", "LoadWarning", "Loaded", "Schema", "Table",
    "build_check", "build_column", "build_part", "build_where", "finalize_schema", "normalize_action",
]
