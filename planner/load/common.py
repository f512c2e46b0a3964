"""What every loader shares: the result type, warnings, and the builders that normalise."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from planner.errors import Location, ParseError, PlannerError, SourceError
from planner.model import Check, Column, ForeignKey, Index, IndexPart, Schema, Table, qualify
from planner.naming import IDENT_LIMIT, clip_bytes
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

    def __post_init__(self) -> None:
        # Every loader returns a Loaded: a schema not read from the database itself gets the
        # server's identifier rules here even when its loader did not apply them (with source
        # locations) already; `apply_name_limits` is idempotent, so this is a no-op then.
        if self.kind == "database":
            return
        schema, found = apply_name_limits(self.schema)
        if found:
            object.__setattr__(self, "schema", schema)
            object.__setattr__(self, "warnings", (*self.warnings, *found))


@lru_cache(maxsize=16384)  # columns are immutable: equal definitions (`id`, `createdAt` ...) share one
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
    on_update: str | None = None,
) -> Column:
    """The one place a column's type and default are normalised, whatever the source.
    `on_update` (MySQL `ON UPDATE CURRENT_TIMESTAMP`) is normalised like a default."""
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
        on_update=normalize_default(on_update, dialect, ctype)[0] if on_update else None,
    )


#: a default followed by MySQL's `ON UPDATE <expression>` (SQLAlchemy reflection and the
#: documented SQLAlchemy spelling `server_default=text("CURRENT_TIMESTAMP ON UPDATE ...")`)
_ON_UPDATE = re.compile(r"^(?P<default>.*?)\s*\bON\s+UPDATE\s+(?P<on_update>[\w.]+(?:\s*\(\s*\d*\s*\))?)\s*$",
                        re.IGNORECASE | re.DOTALL)


def split_on_update(text: str | None) -> tuple[str | None, str | None]:
    """`CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP` -> (`CURRENT_TIMESTAMP`,
    `CURRENT_TIMESTAMP`); text without a trailing ON UPDATE (or ending in a string literal)
    comes back unchanged with None."""
    if text is None:
        return None, None
    m = _ON_UPDATE.match(text)
    if m is None or text.rstrip().endswith("'"):
        return text, None
    return m.group("default") or None, m.group("on_update")


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


# --------------------------------------------------------------------------- name limits

#: PostgreSQL keeps the first 63 bytes of a longer name (NAMEDATALEN 64), with a NOTICE
PG_NAME_BYTES = IDENT_LIMIT["postgresql"]
#: MySQL and MariaDB reject names over 64 characters (ERROR 1059 "Identifier name ... is too long")
MYSQL_NAME_CHARS = IDENT_LIMIT["mysql"]

#: the tokens of an expression as PostgreSQL reads them: strings are left alone, identifiers
#: (bare or double-quoted) are what the server truncates
_PG_EXPR_TOKEN = re.compile(
    r"""[eE]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?\$(?P=tag)\$"""
    r"""|"(?P<quoted>(?:[^"]|"")*)"|(?P<word>[^\W\d][\w$]*)""", re.S)
#: cheap test: only a run of 16+ word characters (or a quoted name) can exceed 63 bytes
_MAYBE_LONG = re.compile(r"[\w$]{16,}|\"[^\"]{16,}\"")


def _blen(text: str) -> int:
    return len(text.encode())


#: the last schemas found within the limits (by identity): every loader applies the limits and
#: `Loaded` applies them again, a second pass over every name of a large schema
_WITHIN_LIMITS: deque[Schema] = deque(maxlen=4)


def apply_name_limits(schema: Schema,
                      locations: Mapping[str, Location] | None = None) -> tuple[Schema, list[LoadWarning]]:
    """The schema the server builds from this source, given its identifier length limits.

    PostgreSQL truncates every identifier over 63 bytes to 63 bytes (at a character boundary)
    with a NOTICE, so a name written longer is modelled truncated, everywhere it appears
    (references, expressions, view queries), with a warning naming the object and what it
    becomes. An enum label over 63 bytes, or two names that become one, the server rejects:
    a `PlannerError`. MySQL and MariaDB reject names over 64 characters outright (also the
    ones they generate, like `<table>_ibfk_1`): a `PlannerError` naming the object.
    `locations` maps a name (or label) as written to where the source first wrote it.
    Idempotent: a schema within the limits comes back unchanged, with no warnings.
    """
    if any(s is schema for s in _WITHIN_LIMITS):
        return schema, []
    if locations is None:
        locations = {}
    if schema.dialect == "postgresql":
        if not _pg_needs_limits(schema):
            _WITHIN_LIMITS.append(schema)
            return schema, []
        schema, found = _PgLimits(schema, locations).apply()
        _WITHIN_LIMITS.append(schema)  # idempotent: the result is within the limits
        return schema, sorted(found, key=lambda w: (w.location is None, str(w.location and w.location.file),
                                                    w.location.line if w.location else 0,
                                                    w.location.column if w.location else 0))
    if schema.dialect == "mysql":
        _mysql_check_names(schema, locations)
    _WITHIN_LIMITS.append(schema)
    return schema, []


def _too_long_error(message: str, names: tuple[str | None, ...], locations: Mapping[str, Location],
                    hint: str) -> PlannerError:
    """A ParseError at the first of `names` the source wrote (a generated name is located at
    the name it was made from), else a SourceError."""
    loc = next((locations[n] for n in names if n is not None and n in locations), None)
    if loc is not None:
        return ParseError(message, loc, hint=hint)
    return SourceError(message, hint=hint)


def _mysql_check_names(schema: Schema, locations: Mapping[str, Location]) -> None:
    def check(what: str, name: str | None, table: str | None = None) -> None:
        if name is None or len(name) <= MYSQL_NAME_CHARS:
            return
        where = f" of table {table!r}" if table else ""
        raise _too_long_error(
            f"{what} {name!r}{where} is {len(name)} characters: MySQL and MariaDB reject names over "
            f"{MYSQL_NAME_CHARS} characters (ERROR 1059 Identifier name is too long)",
            (name, table), locations,
            hint=f"give it a name of at most {MYSQL_NAME_CHARS} characters"
            + (" (the server names an unnamed foreign key <table>_ibfk_<n>: name it)"
               if what == "foreign key" else ""))

    for t in schema.tables:
        check("table", t.name)
        for c in t.columns:
            check("column", c.name, t.name)
        for i in t.indexes:
            check("unique key" if i.unique else "index", i.name, t.name)
        for f in t.foreign_keys:
            check("foreign key", f.name, t.name)
        for k in t.checks:
            check("check constraint", k.name, t.name)
    for v in schema.views:
        check("view", v.name)


def _pg_needs_limits(schema: Schema) -> bool:
    """Whether any name or expression of the schema may be over PostgreSQL's 63 bytes. One list
    of every name and one of every expression, then one filter each: a call per name cost a
    fifth of loading a large schema."""
    names: list[str | None] = []
    exprs: list[str | None] = []
    add, extend, add_expr = names.append, names.extend, exprs.append
    for e in schema.enums:
        add(e.name)
        add(e.schema)
        extend(e.values)
    for v in schema.views:
        add(v.name)
        add(v.schema)
        add_expr(v.definition)
    for t in schema.tables:
        add(t.name)
        add(t.schema)
        if t.primary_key:
            add(t.primary_key.name)
            extend(t.primary_key.columns)
        for c in t.columns:
            add(c.name)
            add(c.enum)
            add_expr(c.default)
            add_expr(c.generated)
        for i in t.indexes:
            add(i.name)
            extend(i.include)
            add_expr(i.where)
            for part in i.parts:
                add(part.column)
                add_expr(part.expression)
        for f in t.foreign_keys:
            add(f.name)
            add(f.ref_table)
            add(f.ref_schema)
            extend(f.columns)
            extend(f.ref_columns)
        for k in t.checks:
            add(k.name)
            add_expr(k.expression)
    # 15 characters are at most 60 bytes: only longer names need encoding
    if any(_blen(n) > PG_NAME_BYTES for n in names if n is not None and len(n) > 15):
        return True
    # a run of 16+ word characters is common (CURRENT_TIMESTAMP): long only over 63 bytes
    return any(_blen(m.group().strip('"')) > PG_NAME_BYTES
               for x in exprs if x is not None and len(x) > 15 for m in _MAYBE_LONG.finditer(x))


class _PgLimits:
    """One pass over a PostgreSQL schema truncating names as the server does."""

    def __init__(self, schema: Schema, locations: Mapping[str, Location]) -> None:
        self.schema = schema
        self.locations = locations
        self.warnings: list[LoadWarning] = []
        #: namespace -> truncated name -> the names written that became it
        self.spaces: dict[tuple, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.truncated: set[tuple[tuple, str]] = set()

    # -- names
    def ref(self, name: str | None) -> str | None:
        """A name as the server stores it (references: no warning)."""
        if name is None or (len(name) <= PG_NAME_BYTES and (name.isascii() or _blen(name) <= PG_NAME_BYTES)):
            return name
        return clip_bytes(name, PG_NAME_BYTES)

    def define(self, what: str, name: str | None, space: tuple, owner: str | None = None) -> str | None:
        """The name an object is created with; a warning when the server truncates it."""
        new = self.ref(name)
        if new is None:
            return None
        self.spaces[space][new].append(name)
        if new != name:
            self.truncated.add((space, new))
            label = f"{owner}.{name}" if owner else name
            self.warnings.append(LoadWarning(
                f'{what} "{label}" is {_blen(name)} bytes, over PostgreSQL\'s {PG_NAME_BYTES}-byte limit: '
                f'the server truncates it to "{new}", and planner compares that name',
                self.locations.get(name)))
        return new

    def expr(self, text: str | None) -> str | None:
        """An expression with every over-long identifier truncated (strings left alone)."""
        if text is None or not _MAYBE_LONG.search(text):
            return text

        def one(m: re.Match) -> str:
            word, quoted = m.group("word"), m.group("quoted")
            if word is not None and _blen(word) > PG_NAME_BYTES:
                return clip_bytes(word, PG_NAME_BYTES)
            if quoted is not None:
                inner = quoted.replace('""', '"')
                if _blen(inner) > PG_NAME_BYTES:
                    return '"' + clip_bytes(inner, PG_NAME_BYTES).replace('"', '""') + '"'
            return m.group()
        return _PG_EXPR_TOKEN.sub(one, text)

    def key(self, schema: str | None, name: str) -> str:
        return qualify(schema, name, self.schema.default_schema)

    # -- the walk
    def apply(self) -> tuple[Schema, list[LoadWarning]]:
        s = self.schema
        schemas = {x.schema for x in (*s.tables, *s.enums, *s.views) if x.schema is not None}
        schemas |= {f.ref_schema for t in s.tables for f in t.foreign_keys if f.ref_schema is not None}
        for name in sorted(schemas):
            self.define("schema", name, ("schema",))
        enum_keys: dict[str, str] = {}
        enums = []
        for e in s.enums:
            sch = self.ref(e.schema)
            name = self.define("enum", e.name, ("type", sch))
            for v in e.values:
                if _blen(v) > PG_NAME_BYTES:
                    raise _too_long_error(
                        f'enum "{self.key(e.schema, e.name)}": label {v!r} is {_blen(v)} bytes; PostgreSQL '
                        f'rejects enum labels over {PG_NAME_BYTES} bytes ("invalid enum label")',
                        (v, e.name), self.locations,
                        hint=f"shorten the label to at most {PG_NAME_BYTES} bytes (in Prisma, "
                        "@map the value to a shorter database label)")
            enum_keys[s.key(e.schema, e.name)] = self.key(sch, name)
            enums.append(dataclasses.replace(e, name=name, schema=sch))
        tables = [self.table(t, enum_keys) for t in s.tables]
        views = []
        for v in s.views:
            sch = self.ref(v.schema)
            name = self.define("view", v.name, ("relation", sch))
            self.also_type(sch, name, v.name)
            views.append(dataclasses.replace(v, name=name, schema=sch, definition=self.expr(v.definition)))
        self.check_collisions()
        return dataclasses.replace(
            s, tables=tuple(sorted(tables, key=lambda t: (t.schema or "", t.name))),
            enums=tuple(sorted(enums, key=lambda e: (e.schema or "", e.name))),
            views=tuple(sorted(views, key=lambda v: (v.schema or "", v.name)))), self.warnings

    def also_type(self, schema: str | None, name: str, written: str) -> None:
        """A table or view also creates a row type of its name (an enum cannot share it)."""
        self.spaces[("type", schema)][name].append(written)
        if name != written:
            self.truncated.add((("type", schema), name))

    def part(self, p: IndexPart) -> IndexPart:
        column, expression = self.ref(p.column), self.expr(p.expression)
        if (column, expression) == (p.column, p.expression):
            return p  # nothing truncated (most parts): no copy
        return dataclasses.replace(p, column=column, expression=expression)

    def table(self, t: Table, enum_keys: dict[str, str]) -> Table:
        sch = self.ref(t.schema)
        name = self.define("table", t.name, ("relation", sch))
        self.also_type(sch, name, t.name)
        label = self.key(sch, name)
        columns = []
        for c in t.columns:
            col_type, enum = c.type, c.enum
            if enum is not None and enum in enum_keys:
                enum = enum_keys[enum]
                col_type = enum + ("[]" if c.type.endswith("[]") else "")
            new = (self.define("column", c.name, ("column", sch, name), label), col_type, enum,
                   self.expr(c.default), self.expr(c.generated))
            # the same column when nothing was truncated (most of them): no copy
            columns.append(c if new == (c.name, c.type, c.enum, c.default, c.generated) else dataclasses.replace(
                c, name=new[0], type=col_type, enum=enum, default=new[3], generated=new[4]))
        pk = t.primary_key
        if pk is not None:
            pk = dataclasses.replace(
                pk, name=self.define("primary key", pk.name, ("relation", sch), label),
                columns=tuple(map(self.ref, pk.columns)))
            if pk.name is not None:
                self.spaces[("constraint", sch, name)][pk.name].append(pk.name)
        indexes = []
        for i in t.indexes:
            what = "unique constraint" if i.constraint else "unique index" if i.unique else "index"
            iname = self.define(what, i.name, ("relation", sch), label)
            if i.constraint and iname is not None:
                self.spaces[("constraint", sch, name)][iname].append(i.name)
            parts = tuple(map(self.part, i.parts))
            indexes.append(dataclasses.replace(i, name=iname, parts=parts, where=self.expr(i.where),
                                               include=tuple(map(self.ref, i.include))))
        fks = [dataclasses.replace(
            f, name=self.define("foreign key", f.name, ("constraint", sch, name), label),
            columns=tuple(map(self.ref, f.columns)), ref_table=self.ref(f.ref_table),
            ref_schema=self.ref(f.ref_schema), ref_columns=tuple(map(self.ref, f.ref_columns)))
            for f in t.foreign_keys]
        checks = [dataclasses.replace(
            k, name=self.define("check constraint", k.name, ("constraint", sch, name), label),
            expression=self.expr(k.expression)) for k in t.checks]
        return dataclasses.replace(
            t, name=name, schema=sch, columns=tuple(columns), primary_key=pk,
            indexes=tuple(sorted(indexes, key=lambda i: (i.name or "", [p.label for p in i.parts]))),
            foreign_keys=tuple(sorted(fks, key=lambda f: (f.name or "", f.columns))),
            checks=tuple(sorted(checks, key=lambda c: (c.name or "", c.expression))))

    def check_collisions(self) -> None:
        """Two names that truncate to one: the server refuses the second object."""
        for space, new in sorted(self.truncated, key=lambda x: (str(x[0]), x[1])):
            written = self.spaces[space][new]
            if len(written) > 1:
                others = sorted(set(written) - {new}) or written
                raise _too_long_error(
                    f'{len(written)} names become "{new}" once PostgreSQL truncates them to {PG_NAME_BYTES} '
                    f"bytes ({', '.join(repr(w) for w in sorted(set(written)))}): the server would refuse "
                    "the second object (\"already exists\")",
                    tuple(others), self.locations,
                    hint=f"make the names differ within their first {PG_NAME_BYTES} bytes")


__all__ = [
    "Check", "Column", "ForeignKey", "Index", "IndexPart", "LoadWarning", "Loaded", "Schema", "Table",
    "apply_name_limits", "build_check", "build_column", "build_part", "build_where", "finalize_schema",
    "split_on_update",
    "normalize_action",
]
