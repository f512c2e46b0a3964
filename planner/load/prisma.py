"""Prisma schema -> normalised model, matching the database Prisma Migrate creates.

Follows prisma-engines: scalar and `@db.*` native types per provider, default names
for keys, indexes and foreign keys (63-byte truncation included, `planner.naming`),
referential-action defaults, implicit many-to-many join tables, `@map`/`@@map`,
`@@schema`, `@ignore`/`@@ignore` (still in the database), views (never created by
Migrate, so kept by name only), client-side defaults (`uuid()`, `cuid()`, ...) that
leave no database default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from planner.errors import Location, ParseError, SourceError
from planner.load.common import (
    Loaded,
    LoadWarning,
    apply_name_limits,
    build_column,
    build_part,
    finalize_schema,
    normalize_action,
)
from planner.load.prisma_parser import Attribute, Block, Call, Entry, Field, Ident, parse_prisma
from planner.model import Column, Enum, ForeignKey, Index, PrimaryKey, Schema, Table, View
from planner.naming import IDENT_LIMIT, prisma_name
from planner.normalize import mysql_enum_type

PROVIDERS = {"postgresql": "postgresql", "postgres": "postgresql", "cockroachdb": "postgresql",
             "mysql": "mysql", "sqlite": "sqlite"}

SCALARS = ("String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes")

#: Prisma scalar -> database type Prisma Migrate writes, per provider
SCALAR_SQL = {
    "postgresql": {"String": "text", "Boolean": "boolean", "Int": "integer", "BigInt": "bigint",
                   "Float": "double precision", "Decimal": "decimal(65,30)", "DateTime": "timestamp(3)",
                   "Json": "jsonb", "Bytes": "bytea"},
    "mysql": {"String": "varchar(191)", "Boolean": "tinyint(1)", "Int": "int", "BigInt": "bigint",
              "Float": "double", "Decimal": "decimal(65,30)", "DateTime": "datetime(3)", "Json": "json",
              "Bytes": "longblob"},
    "sqlite": {"String": "TEXT", "Boolean": "BOOLEAN", "Int": "INTEGER", "BigInt": "BIGINT",
               "Float": "REAL", "Decimal": "DECIMAL", "DateTime": "DATETIME", "Json": "JSONB",
               "Bytes": "BLOB"},
}

#: `@db.X` native type -> SQL type template ({0}, {1} are the arguments); None = not allowed
NATIVE_PG = {
    "Text": "text", "VarChar": "varchar({0})", "Char": "char({0})", "Uuid": "uuid", "Xml": "xml",
    "Inet": "inet", "Citext": "citext", "Bit": "bit({0})", "VarBit": "varbit({0})",
    "Integer": "integer", "Int": "integer", "SmallInt": "smallint", "Oid": "oid", "BigInt": "bigint",
    "DoublePrecision": "double precision", "Real": "real", "Decimal": "numeric({0},{1})",
    "Money": "money", "Timestamp": "timestamp({0})", "Timestamptz": "timestamptz({0})",
    "Date": "date", "Time": "time({0})", "Timetz": "timetz({0})", "Json": "json", "JsonB": "jsonb",
    "ByteA": "bytea", "Boolean": "boolean",
}
NATIVE_MYSQL = {
    "VarChar": "varchar({0})", "Text": "text", "TinyText": "tinytext", "MediumText": "mediumtext",
    "LongText": "longtext", "Char": "char({0})", "UnsignedInt": "int unsigned", "Int": "int",
    "TinyInt": "tinyint({0})", "UnsignedTinyInt": "tinyint unsigned", "SmallInt": "smallint",
    "UnsignedSmallInt": "smallint unsigned", "MediumInt": "mediumint",
    "UnsignedMediumInt": "mediumint unsigned", "BigInt": "bigint", "UnsignedBigInt": "bigint unsigned",
    "Year": "year", "Double": "double", "Float": "float", "Decimal": "decimal({0},{1})",
    "DateTime": "datetime({0})", "Timestamp": "timestamp({0})", "Date": "date", "Time": "time({0})",
    "Json": "json", "Bit": "bit({0})", "Binary": "binary({0})", "VarBinary": "varbinary({0})",
    "TinyBlob": "tinyblob", "Blob": "blob", "MediumBlob": "mediumblob", "LongBlob": "longblob",
}
#: which Prisma scalar each native type belongs to (prisma-engines' native type constructors)
NATIVE_SCALAR = {
    "String": {"Text", "VarChar", "Char", "Uuid", "Xml", "Inet", "Citext", "Bit", "VarBit", "TinyText",
               "MediumText", "LongText"},
    "Boolean": {"Boolean", "Bit", "TinyInt"},
    "Int": {"Integer", "Int", "SmallInt", "Oid", "UnsignedInt", "TinyInt", "UnsignedTinyInt",
            "UnsignedSmallInt", "MediumInt", "UnsignedMediumInt", "Year"},
    "BigInt": {"BigInt", "UnsignedBigInt"},
    "Float": {"DoublePrecision", "Real", "Double", "Float"},
    "Decimal": {"Decimal", "Money"},
    "DateTime": {"Timestamp", "Timestamptz", "Date", "Time", "Timetz", "DateTime"},
    "Json": {"Json", "JsonB"},
    "Bytes": {"ByteA", "Binary", "VarBinary", "TinyBlob", "Blob", "MediumBlob", "LongBlob", "Bit"},
}
#: native types whose arguments may be left out
_OPTIONAL_ARGS = {"Timestamp", "Timestamptz", "Time", "Timetz", "VarChar", "Char", "Bit", "VarBit",
                  "Decimal", "DateTime", "TinyInt"}

ACTIONS = {"Cascade": "CASCADE", "Restrict": "RESTRICT", "NoAction": "NO ACTION",
           "SetNull": "SET NULL", "SetDefault": "SET DEFAULT"}

CLIENT_DEFAULTS = {"uuid", "cuid", "nanoid", "ulid", "auto", "sequence"}

FIELD_ATTRIBUTES = {"id", "unique", "default", "map", "relation", "updatedAt", "ignore", "db",
                    "shardKey"}
BLOCK_ATTRIBUTES = {"id", "unique", "index", "map", "schema", "ignore", "fulltext", "shardKey"}


@dataclass(slots=True)
class _Ctx:
    dialect: str
    files: dict[str, str]
    warnings: list[LoadWarning]
    models: dict[str, Block]
    enums: dict[str, Block]
    views: dict[str, Block]
    types: dict[str, Block]
    default_schema: str | None
    relation_mode_prisma: bool = False


# --------------------------------------------------------------------------- entry points

def load_prisma(spec: str, *, dialect: str | None = None) -> Loaded:
    """Load a `.prisma` file or a folder of them (a multi-file schema)."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.prisma") if p.is_file())
        if not files:
            raise SourceError(f"{spec}: no .prisma files in this folder")
    else:
        if not path.is_file():
            raise SourceError(f"{spec}: no such file")
        files = [path]
    texts = {}
    for f in files:
        try:
            texts[str(f)] = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SourceError(f"{f}: cannot read ({e})") from None
    schema, warnings = schema_from_prisma(texts, dialect=dialect)
    return Loaded(schema, spec, "prisma", tuple(warnings))


def schema_from_prisma(files: dict[str, str], *, dialect: str | None = None) -> tuple[Schema, list[LoadWarning]]:
    """Build the schema from Prisma source texts (file name -> text)."""
    blocks: list[Block] = []
    for name, text in files.items():
        blocks.extend(parse_prisma(text, name))
    warnings: list[LoadWarning] = []
    sources = [b for b in blocks if b.kind == "datasource"]
    if len(sources) > 1:
        raise ParseError("more than one datasource block", sources[1].loc,
                         hint="a Prisma schema has exactly one datasource")
    provider_dialect, default_schema, relation_prisma, extensions = _datasource(sources[0] if sources else None)
    if dialect and provider_dialect and dialect != provider_dialect:
        warnings.append(LoadWarning(
            f"--dialect {dialect} overrides the datasource provider ({provider_dialect})",
            sources[0].loc))
    dialect = dialect or provider_dialect
    if dialect != "postgresql":
        default_schema = None  # only PostgreSQL has schemas (a --dialect override may change it)
    if dialect is None:
        raise SourceError(f"{next(iter(files))}: no datasource block, so the database is unknown",
                          hint="add a datasource block or pass --dialect")
    ctx = _Ctx(dialect, files, warnings, {}, {}, {}, {}, default_schema, relation_prisma)
    for b in blocks:
        table = {"model": ctx.models, "enum": ctx.enums, "view": ctx.views, "type": ctx.types}.get(b.kind)
        if table is None:
            continue
        for other in (ctx.models, ctx.enums, ctx.views, ctx.types):
            if b.name in other:
                raise ParseError(f"{b.kind} {b.name!r} is defined twice (first at {other[b.name].loc})",
                                 b.loc)
        table[b.name] = b
    if ctx.types and dialect != "mongodb":
        first = next(iter(ctx.types.values()))
        raise ParseError(f"composite type {first.name!r}: `type` blocks are only supported on MongoDB",
                         first.loc)
    enums = tuple(_enum(ctx, b) for b in ctx.enums.values()) if dialect == "postgresql" else ()
    tables: list[Table] = []
    seen_tables: dict[tuple[str | None, str], Block] = {}
    for b in ctx.models.values():
        t = _model(ctx, b)
        if (t.schema, t.name) in seen_tables:
            raise ParseError(f"models {seen_tables[t.schema, t.name].name!r} and {b.name!r} both map to table "
                             f"{t.name!r}", b.loc, hint="give each model its own @@map name")
        seen_tables[t.schema, t.name] = b
        tables.append(t)
    tables.extend(_join_tables(ctx))
    views = tuple(
        View(name=_db_name(v), definition=None, schema=_schema_of(ctx, v), origin=_origin(v))
        for v in ctx.views.values()
    )
    schema = Schema(dialect=dialect, tables=tuple(tables), enums=enums, views=views,
                    has_comments=False, has_views=False,
                    extensions=extensions if dialect == "postgresql" else ())
    schema, found = apply_name_limits(finalize_schema(schema), _NameLocations(blocks))
    return schema, warnings + found


class _NameLocations(Mapping[str, Location]):
    """`_name_locations(blocks)`, built on first use: only a name over the server's limit
    asks where it was written (most schemas have none)."""

    def __init__(self, blocks: list[Block]) -> None:
        self._blocks: list[Block] | None = blocks
        self._found: dict[str, Location] = {}

    def _map(self) -> dict[str, Location]:
        if self._blocks is not None:
            self._found, self._blocks = _name_locations(self._blocks), None
        return self._found

    def __getitem__(self, name: str) -> Location:
        return self._map()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


def _name_locations(blocks: list[Block]) -> dict[str, Location]:
    """Where each name (model, field, enum, value, or a string such as `@@map("x")`, `map: "x"`)
    is first written, for the warnings about names over the server's limit."""
    out: dict[str, Location] = {}

    def attrs(items: list[Attribute] | tuple[Attribute, ...]) -> None:
        for a in items:
            for arg in a.args:
                if isinstance(arg.value, str):
                    out.setdefault(arg.value, arg.loc)

    for b in blocks:
        attrs(b.attributes)
        out.setdefault(b.name, b.loc)
        for f in b.fields:
            attrs(f.attributes)
            out.setdefault(f.name, f.loc)
        for v in b.values:
            attrs(v.attributes)
            out.setdefault(v.name, v.loc)
    return out


# --------------------------------------------------------------------------- blocks

def _datasource(block: Block | None) -> tuple[str | None, str | None, bool, tuple[str, ...]]:
    if block is None:
        return None, None, False, ()
    provider = relation = None
    schemas: list[str] = []
    extensions: set[str] = set()
    for e in block.entries:
        if e.key == "provider":
            if not isinstance(e.value, str):
                raise ParseError("provider must be a string", e.loc)
            provider = e.value
        elif e.key == "relationMode" and isinstance(e.value, str):
            relation = e.value
        elif e.key == "schemas" and isinstance(e.value, list):
            schemas = [s for s in e.value if isinstance(s, str)]
        elif e.key == "extensions":
            extensions = _extensions(e)
    if provider is None:
        raise ParseError("datasource has no provider", block.loc,
                         hint='add provider = "postgresql" (or "mysql", "sqlite")')
    dialect = PROVIDERS.get(provider)
    if dialect is None:
        raise ParseError(f"provider {provider!r} is not supported", block.loc,
                         hint="planner supports postgresql, mysql and sqlite")
    default_schema = "public" if dialect == "postgresql" else None
    if dialect == "postgresql" and schemas and "public" not in schemas:
        default_schema = schemas[0] if len(schemas) == 1 else "public"
    return dialect, default_schema, relation == "prisma", tuple(sorted(extensions))


def _extensions(entry: Entry) -> set[str]:
    """`extensions = [citext, pgvector(map: "vector", schema: "ext")]` (preview feature
    postgresqlExtensions): the database names of the extensions."""
    if not isinstance(entry.value, list):
        raise ParseError("extensions must be a list, e.g. extensions = [citext, pg_trgm]", entry.loc)
    out = set()
    for item in entry.value:
        if isinstance(item, Ident):
            out.add(item.name)
        elif isinstance(item, Call):
            mapped = next((a.value for a in item.args if a.name == "map"), None)
            if mapped is not None and not isinstance(mapped, str):
                raise ParseError(f'extension {item.name}: map needs a string, e.g. {item.name}(map: "name")', entry.loc)
            out.add(mapped or item.name)
        else:
            raise ParseError(f"extensions: {item!r} is not an extension name", entry.loc)
    return out


def _db_name(block: Block) -> str:
    m = block.attr("map")
    if m is not None:
        name = m.arg("name", 0)
        if not isinstance(name, str):
            raise ParseError('@@map needs a string, e.g. @@map("users")', m.loc)
        return name
    return block.name


def _origin(block: Block) -> str | None:
    name = _db_name(block)
    return block.name if name != block.name else None


def _schema_of(ctx: _Ctx, block: Block) -> str | None:
    a = block.attr("schema")
    schema = a.arg("name", 0) if a else None
    if a is not None and not isinstance(schema, str):
        raise ParseError('@@schema needs a string, e.g. @@schema("auth")', a.loc)
    schema = schema or ctx.default_schema
    return None if schema == ("public" if ctx.dialect == "postgresql" else None) else schema


def _enum(ctx: _Ctx, block: Block) -> Enum:
    values, origins = [], []
    for v in block.values:
        db = v.name
        for a in v.attributes:
            if a.name != "map":
                raise ParseError(f"unknown attribute @{a.name} on enum value", a.loc)
            mapped = a.arg("name", 0)
            if not isinstance(mapped, str):
                raise ParseError('@map on an enum value needs a string', a.loc)
            db = mapped
            origins.append((v.name, mapped))
        values.append(db)
    for a in block.attributes:
        if a.name not in ("map", "schema"):
            raise ParseError(f"unknown attribute @@{a.name} on enum {block.name!r}", a.loc)
    return Enum(name=_db_name(block), values=tuple(values), schema=_schema_of(ctx, block),
                origin=_origin(block), value_origins=tuple(origins))


def _enum_db_value(ctx: _Ctx, enum_name: str, value: str) -> str:
    block = ctx.enums[enum_name]
    for v in block.values:
        if v.name == value:
            m = v.attributes[0].arg("name", 0) if v.attributes else None
            return m if isinstance(m, str) else v.name
    raise ParseError(f"{value!r} is not a value of enum {enum_name!r}", block.loc)


def _field_db_name(f: Field) -> str:
    m = f.attr("map")
    if m is not None:
        name = m.arg("name", 0)
        if not isinstance(name, str):
            raise ParseError('@map needs a string, e.g. @map("user_id")', m.loc)
        return name
    return f.name


def _is_relation(ctx: _Ctx, f: Field) -> bool:
    return f.type in ctx.models or f.type in ctx.views


def _scalar_fields(ctx: _Ctx, block: Block) -> list[Field]:
    return [f for f in block.fields if not _is_relation(ctx, f)]


# --------------------------------------------------------------------------- models

def _model(ctx: _Ctx, block: Block) -> Table:
    table = _db_name(block)
    for a in block.attributes:
        if a.name not in BLOCK_ATTRIBUTES:
            raise ParseError(f"unknown attribute @@{a.name} on model {block.name!r}", a.loc)
    by_name: dict[str, Field] = {}
    for f in block.fields:
        if f.name in by_name:
            raise ParseError(f"field {f.name!r} is defined twice in model {block.name!r} (first at "
                             f"{by_name[f.name].loc})", f.loc)
        by_name[f.name] = f
        natives = [a for a in f.attributes if a.name.startswith("db.")]
        if len(natives) > 1:
            raise ParseError(f"field {block.name}.{f.name} has more than one native type", natives[1].loc)
    columns = [_column(ctx, block, f) for f in _scalar_fields(ctx, block)]
    colname = {f.name: _field_db_name(f) for f in block.fields}

    def cols_of(a: Attribute, arg: str = "fields") -> list[tuple[str, Call | Ident]]:
        raw = a.arg(arg, 0)
        if isinstance(raw, (Ident, Call)):
            raw = [raw]  # @@index(field) without brackets
        if not isinstance(raw, list) or not raw:
            raise ParseError(f"@@{a.name} needs a list of fields, e.g. @@{a.name}([a, b])", a.loc)
        out = []
        for item in raw:
            fname = item.name if isinstance(item, (Ident, Call)) else None
            if fname is None or fname not in by_name:
                raise ParseError(f"@@{a.name}: unknown field {fname or item!r} in model {block.name!r}",
                                 a.loc)
            out.append((fname, item))
        return out

    # primary key
    pk: PrimaryKey | None = None
    id_fields = [f for f in block.fields if f.attr("id")]
    block_id = block.attr("id")
    if len(id_fields) > 1 or (id_fields and block_id):
        raise ParseError(f"model {block.name!r} has more than one @id", (block_id or id_fields[1]).loc)
    if id_fields:
        f = id_fields[0]
        pk = PrimaryKey(_pk_name(ctx, table, f.attr("id")), (colname[f.name],))
    elif block_id:
        names = [colname[n] for n, _ in cols_of(block_id)]
        pk = PrimaryKey(_pk_name(ctx, table, block_id), tuple(names))
    if pk is not None:
        columns = [dataclasses.replace(c, nullable=False) if c.name in pk.columns else c for c in columns]

    indexes: list[Index] = []
    for f in block.fields:
        u = f.attr("unique")
        if u is not None:
            part = build_part(ctx.dialect, column=colname[f.name], **_part_options(ctx, u.args, u))
            indexes.append(_unique(ctx, table, [part], u))
    for a in block.attributes:
        if a.name in ("unique", "index", "fulltext"):
            parts = [build_part(ctx.dialect, column=colname[n],
                                **_part_options(ctx, item.args if isinstance(item, Call) else (), a))
                     for n, item in cols_of(a)]
            if a.name == "unique":
                indexes.append(_unique(ctx, table, parts, a))
            else:
                indexes.append(_index(ctx, table, parts, a, fulltext=a.name == "fulltext"))

    fks: list[ForeignKey] = []
    for f in block.fields:
        rel = f.attr("relation")
        if rel is None or rel.arg("fields") is None:
            continue
        fk = _foreign_key(ctx, block, f, rel, colname)
        if fk is not None:
            fks.append(fk)
            if ctx.dialect == "mysql":
                _mysql_fk_index(table, fk, indexes, pk)

    if ctx.dialect == "mysql":
        pk = PrimaryKey(None, pk.columns) if pk else None
    return Table(
        name=table, schema=_schema_of(ctx, block), columns=tuple(columns), primary_key=pk,
        indexes=tuple(indexes), foreign_keys=tuple(fks), origin=_origin(block), doc=block.doc,
        options=_PRISMA_MYSQL_OPTIONS if ctx.dialect == "mysql" else (),
    )


#: Prisma Migrate creates every MySQL table `DEFAULT CHARACTER SET utf8mb4 COLLATE
#: utf8mb4_unicode_ci`, whatever the database's defaults: a table planner adds does the same
_PRISMA_MYSQL_OPTIONS = ("DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_unicode_ci")


def _pk_name(ctx: _Ctx, table: str, a: Attribute | None) -> str | None:
    if ctx.dialect == "mysql":
        return None
    m = a.arg("map") if a else None
    if m is not None:
        _check_map(ctx, m, a)
        return str(m)
    return prisma_name(table, (), "pkey", ctx.dialect)


def _check_map(ctx: _Ctx, name: object, a: Attribute) -> None:
    if not isinstance(name, str):
        raise ParseError(f"@{a.name}: map must be a string", a.loc)
    if len(name.encode()) > IDENT_LIMIT[ctx.dialect]:
        raise ParseError(f"@{a.name}: name {name!r} is longer than {IDENT_LIMIT[ctx.dialect]} bytes",
                         a.loc)


def _part_options(ctx: _Ctx, args: tuple, a: Attribute) -> dict:
    opts: dict = {}
    for arg in args:
        if arg.name == "sort":
            if not isinstance(arg.value, Ident) or arg.value.name not in ("Asc", "Desc"):
                raise ParseError("sort must be Asc or Desc", arg.loc)
            opts["descending"] = arg.value.name == "Desc"
        elif arg.name == "length":
            if not isinstance(arg.value, int):
                raise ParseError("length must be a number", arg.loc)
            if ctx.dialect == "mysql":
                opts["length"] = arg.value
        elif arg.name == "ops":
            opts["opclass"] = _opclass(arg.value, arg.loc)
        elif arg.name in ("map", "name", "clustered"):
            continue  # index-level arguments of @unique(...)
        else:
            raise ParseError(f"unknown index field argument {arg.name!r}", arg.loc)
    return opts


#: Prisma's named operator classes -> PostgreSQL opclass
_OPCLASSES = {
    "ArrayOps": "array_ops", "JsonbOps": "jsonb_ops", "JsonbPathOps": "jsonb_path_ops",
    "InetOps": "inet_ops", "TextOps": "text_ops", "BitMinMaxOps": "bit_minmax_ops",
    "VarBitMinMaxOps": "varbit_minmax_ops", "BpcharBloomOps": "bpchar_bloom_ops",
    "BpcharMinMaxOps": "bpchar_minmax_ops", "ByteaBloomOps": "bytea_bloom_ops",
    "ByteaMinMaxOps": "bytea_minmax_ops", "DateBloomOps": "date_bloom_ops",
    "DateMinMaxOps": "date_minmax_ops", "DateMinMaxMultiOps": "date_minmax_multi_ops",
    "Float4BloomOps": "float4_bloom_ops", "Float4MinMaxOps": "float4_minmax_ops",
    "Float8BloomOps": "float8_bloom_ops", "Float8MinMaxOps": "float8_minmax_ops",
    "Int2BloomOps": "int2_bloom_ops", "Int2MinMaxOps": "int2_minmax_ops",
    "Int4BloomOps": "int4_bloom_ops", "Int4MinMaxOps": "int4_minmax_ops",
    "Int8BloomOps": "int8_bloom_ops", "Int8MinMaxOps": "int8_minmax_ops",
    "NumericBloomOps": "numeric_bloom_ops", "NumericMinMaxOps": "numeric_minmax_ops",
    "TextBloomOps": "text_bloom_ops", "TextMinMaxOps": "text_minmax_ops",
    "TimestampBloomOps": "timestamp_bloom_ops", "TimestampMinMaxOps": "timestamp_minmax_ops",
    "TimestampTzBloomOps": "timestamptz_bloom_ops", "TimestampTzMinMaxOps": "timestamptz_minmax_ops",
    "UuidBloomOps": "uuid_bloom_ops", "UuidMinMaxOps": "uuid_minmax_ops",
}
#: opclasses that are the default for their type and access method (PostgreSQL omits them)
_DEFAULT_OPCLASSES = {"array_ops", "jsonb_ops", "text_ops", "inet_ops"}


def _opclass(value: object, loc: Location) -> str | None:
    if isinstance(value, Call) and value.name == "raw" and value.args and isinstance(value.args[0].value, str):
        name = value.args[0].value
    elif isinstance(value, Ident) and value.name in _OPCLASSES:
        name = _OPCLASSES[value.name]
    else:
        raise ParseError(f"unknown operator class {value!r}", loc,
                         hint='use a Prisma ops name (e.g. JsonbPathOps) or raw("opclass_name")')
    return None if name in _DEFAULT_OPCLASSES else name


def _index_method(ctx: _Ctx, a: Attribute) -> str:
    t = a.arg("type")
    if t is None:
        return "btree"
    if not isinstance(t, Ident) or t.name not in ("BTree", "Hash", "Gist", "Gin", "SpGist", "Brin"):
        raise ParseError("index type must be one of BTree, Hash, Gist, Gin, SpGist, Brin", a.loc)
    if ctx.dialect != "postgresql" and t.name != "BTree":
        raise ParseError(f"index type {t.name} is only supported on PostgreSQL", a.loc)
    return t.name.lower()


def _index_name(ctx: _Ctx, a: Attribute, default: str) -> str:
    name = a.arg("map")
    if name is None and a.name in ("index", "fulltext"):
        name = a.arg("name")  # legacy alias of map on @@index
    if name is not None:
        _check_map(ctx, name, a)
        return str(name)
    return default


def _unique(ctx: _Ctx, table: str, parts: list, a: Attribute) -> Index:
    name = _index_name(ctx, a, prisma_name(table, [p.column for p in parts], "key", ctx.dialect))
    return Index(name=name, parts=tuple(parts), unique=True, method="btree")


def _index(ctx: _Ctx, table: str, parts: list, a: Attribute, *, fulltext: bool = False) -> Index:
    name = _index_name(ctx, a, prisma_name(table, [p.column for p in parts], "idx", ctx.dialect))
    method = "fulltext" if fulltext else _index_method(ctx, a)
    return Index(name=name, parts=tuple(parts), unique=False, method=method)


def _mysql_fk_index(table: str, fk: ForeignKey, indexes: list[Index], pk: PrimaryKey | None) -> None:
    """InnoDB creates an index for FK columns that no index starts with; Prisma names it
    after the FK constraint."""
    n = len(fk.columns)
    if pk and pk.columns[:n] == fk.columns:
        return
    for ix in indexes:
        if ix.columns[:n] == fk.columns:
            return
    indexes.append(Index(name=fk.name, parts=tuple(build_part("mysql", column=c) for c in fk.columns)))


def _foreign_key(ctx: _Ctx, block: Block, f: Field, rel: Attribute, colname: dict) -> ForeignKey | None:
    if ctx.relation_mode_prisma:
        return None
    target = ctx.models.get(f.type)
    if target is None:
        raise ParseError(f"relation field {f.name!r} points to view {f.type!r}; views cannot be referenced",
                         rel.loc)
    fields, refs = rel.arg("fields"), rel.arg("references")
    if not isinstance(fields, list) or not isinstance(refs, list) or len(fields) != len(refs):
        raise ParseError("@relation needs fields: [...] and references: [...] of the same length", rel.loc)
    target_cols = {t.name: _field_db_name(t) for t in target.fields}
    try:
        cols = [colname[x.name] for x in fields]
    except (KeyError, AttributeError):
        raise ParseError(f"@relation fields {fields!r}: unknown field in {block.name!r}", rel.loc) from None
    try:
        ref_cols = [target_cols[x.name] for x in refs]
    except (KeyError, AttributeError):
        raise ParseError(f"@relation references {refs!r}: unknown field in {target.name!r}", rel.loc) from None
    by_name = {x.name: x for x in block.fields}
    optional = any(by_name[x.name].optional for x in fields)
    on_delete = _action(rel, "onDelete", "SET NULL" if optional else "RESTRICT")
    on_update = _action(rel, "onUpdate", "CASCADE")
    table = _db_name(block)
    name = rel.arg("map")
    if name is not None:
        _check_map(ctx, name, rel)
    else:
        name = prisma_name(table, cols, "fkey", ctx.dialect)
    return ForeignKey(
        name=str(name), columns=tuple(cols), ref_table=_db_name(target), ref_columns=tuple(ref_cols),
        ref_schema=_schema_of(ctx, target), on_delete=normalize_action(on_delete, ctx.dialect),
        on_update=normalize_action(on_update, ctx.dialect),
    )


def _action(rel: Attribute, key: str, default: str) -> str:
    v = rel.arg(key)
    if v is None:
        return default
    if not isinstance(v, Ident) or v.name not in ACTIONS:
        raise ParseError(f"{key} must be one of {', '.join(ACTIONS)}", rel.loc)
    return ACTIONS[v.name]


# --------------------------------------------------------------------------- columns

def _column(ctx: _Ctx, block: Block, f: Field) -> Column:
    for a in f.attributes:
        base = a.name.split(".")[0]
        if base not in FIELD_ATTRIBUTES:
            raise ParseError(f"unknown attribute @{a.name} on field {block.name}.{f.name}", a.loc)
    sql_type, enum_block = _sql_type(ctx, block, f)
    default_attr = f.attr("default")
    default = None
    autoinc = None
    if default_attr is not None:
        default, autoinc = _default(ctx, f, default_attr, enum_block)
    nullable = f.optional or f.list  # Prisma scalar lists are nullable columns (NULL reads as [])
    if f.list and ctx.dialect != "postgresql":
        raise ParseError(f"list field {block.name}.{f.name}: scalar lists are only supported on PostgreSQL",
                         f.loc)
    name = _field_db_name(f)
    if autoinc == "sequence":
        sql_type = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}.get(sql_type, sql_type)
    col = build_column(name, sql_type, ctx.dialect, nullable=nullable, default=default,
                       autoincrement=autoinc if autoinc != "sequence" else None,
                       origin=f.name if name != f.name else None, doc=f.doc)
    if autoinc == "sequence":
        col = dataclasses.replace(col, nullable=False)
    return col


def _sql_type(ctx: _Ctx, block: Block, f: Field) -> tuple[str, Block | None]:
    native = next((a for a in f.attributes if a.name.startswith("db.")), None)
    if f.unsupported is not None:
        base = f.unsupported
        enum_block = None
    elif f.type in SCALARS:
        base = SCALAR_SQL[ctx.dialect][f.type]
        enum_block = None
        if native is not None:
            base = _native(ctx, f, native)
    elif f.type in ctx.enums:
        enum_block = ctx.enums[f.type]
        if native is not None:
            raise ParseError(f"@{native.name} cannot be used on an enum field", native.loc)
        if ctx.dialect == "postgresql":
            schema = _schema_of(ctx, enum_block)
            name = _db_name(enum_block)
            base = f'"{schema}"."{name}"' if schema else f'"{name}"'
        elif ctx.dialect == "mysql":
            values = [_enum_db_value(ctx, f.type, v.name) for v in enum_block.values]
            base = mysql_enum_type("enum", values)
        else:
            base = "TEXT"
    else:
        raise ParseError(f"unknown type {f.type!r} for field {block.name}.{f.name}", f.loc,
                         hint="use a Prisma scalar type, an enum or a model defined in this schema")
    if f.list:
        base += "[]"
    return base, enum_block


def _native(ctx: _Ctx, f: Field, a: Attribute) -> str:
    kind = a.name.split(".", 1)[1]
    table = NATIVE_PG if ctx.dialect == "postgresql" else NATIVE_MYSQL if ctx.dialect == "mysql" else {}
    template = table.get(kind)
    if template is None:
        raise ParseError(f"native type @db.{kind} is not supported on {ctx.dialect}", a.loc)
    if kind not in NATIVE_SCALAR.get(f.type, set()):
        raise ParseError(f"@db.{kind} cannot be used on a {f.type} field", a.loc,
                         hint="pick a native type of the field's scalar type")
    if not all(isinstance(x.value, int) and x.name is None for x in a.args):
        raise ParseError(f"@db.{kind} takes whole numbers, e.g. @db.{kind}(10)", a.loc)
    args = [str(x.value) for x in a.args]
    n_needed = template.count("{")
    if len(args) > n_needed:
        raise ParseError(f"@db.{kind} takes at most {n_needed} argument(s)", a.loc)
    if len(args) < n_needed:
        if kind in _OPTIONAL_ARGS:
            if kind == "Decimal":
                return "decimal" if ctx.dialect == "postgresql" else "decimal(65,30)"
            if kind == "TinyInt":
                return "tinyint"
            return template.split("(")[0]
        raise ParseError(f"@db.{kind} needs {n_needed} argument(s)", a.loc)
    return template.format(*args)


def _default(ctx: _Ctx, f: Field, a: Attribute, enum_block: Block | None) -> tuple[str | None, str | None]:
    """(SQL default text, autoincrement kind) of `@default(...)`."""
    v = a.arg("value", 0)
    if isinstance(v, Call):
        name = v.name
        if name == "autoincrement":
            return None, {"postgresql": "sequence", "mysql": "auto_increment",
                          "sqlite": "autoincrement"}[ctx.dialect]
        if name == "now":
            return "CURRENT_TIMESTAMP", None
        if name in CLIENT_DEFAULTS:
            return None, None  # generated by Prisma Client: the database has no default
        if name == "dbgenerated":
            if not v.args:
                ctx.warnings.append(LoadWarning(
                    f"{f.name}: @default(dbgenerated()) without an expression: the database default "
                    "is unknown to planner and not compared", a.loc))
                return None, None
            expr = v.args[0].value
            if not isinstance(expr, str):
                raise ParseError("dbgenerated() takes a string", a.loc)
            return expr, None
        raise ParseError(f"unknown default function {name}()", a.loc)
    return _literal(ctx, f, v, enum_block, a), None


def _literal(ctx: _Ctx, f: Field, v: object, enum_block: Block | None, a: Attribute) -> str:
    if isinstance(v, list):
        if ctx.dialect != "postgresql":
            raise ParseError("list defaults are only supported on PostgreSQL", a.loc)
        items = ", ".join(_literal(ctx, f, x, enum_block, a) for x in v)
        return f"ARRAY[{items}]"
    if isinstance(v, bool):
        if ctx.dialect == "mysql":
            return "1" if v else "0"
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, Ident):
        if enum_block is None:
            raise ParseError(f"default {v.name!r} is not a value for field {f.name!r}", a.loc)
        return _sql_string(_enum_db_value(ctx, enum_block.name, v.name), ctx.dialect)
    if isinstance(v, str):
        if f.type == "DateTime":
            return _sql_string(v.replace("T", " ").rstrip("Z"), ctx.dialect)
        if f.type in ("Int", "BigInt", "Float", "Decimal"):
            return v
        if f.type == "Boolean":
            return v
        return _sql_string(v, ctx.dialect)
    if v is None:
        raise ParseError("@default needs a value", a.loc)
    raise ParseError(f"unsupported default value {v!r}", a.loc)


def _sql_string(s: str, dialect: str) -> str:
    """A string literal with the value `s` (MySQL reads a backslash as an escape)."""
    if dialect == "mysql":
        s = s.replace("\\", "\\\\")
    return "'" + s.replace("'", "''") + "'"


# --------------------------------------------------------------------------- implicit m-n

def _join_tables(ctx: _Ctx) -> list[Table]:
    """Implicit many-to-many relations: `_AToB` (or `_RelationName`) with columns A and B."""
    seen: dict[str, list[tuple[Block, Field]]] = {}
    for m in ctx.models.values():
        for f in m.fields:
            if f.list and f.type in ctx.models:
                rel = f.attr("relation")
                if rel is not None and rel.arg("fields") is not None:
                    continue
                other = ctx.models[f.type]
                back = [g for g in other.fields if g.type == m.name and g.list and
                        _relation_name(g) == _relation_name(f) and g is not f]
                if not back:
                    continue
                key = _relation_name(f) or "To".join(sorted([m.name, other.name]))
                seen.setdefault(key, []).append((m, f))
    tables = []
    for key, sides in sorted(seen.items()):
        models = sorted({m.name for m, _ in sides})
        a = ctx.models[models[0]]
        b = ctx.models[models[-1]]
        table = "_" + key
        cols, fks = [], []
        for letter, model in (("A", a), ("B", b)):
            id_field = _single_id(ctx, model)
            sql_type, _ = _sql_type(ctx, model, id_field)
            cols.append(build_column(letter, sql_type, ctx.dialect, nullable=False))
            fks.append(ForeignKey(
                name=prisma_name(table, [letter], "fkey", ctx.dialect), columns=(letter,),
                ref_table=_db_name(model), ref_columns=(_field_db_name(id_field),),
                ref_schema=_schema_of(ctx, model),
                on_delete="CASCADE", on_update="CASCADE",
            ))
        b_index = Index(name=f"{table}_B_index", parts=(build_part(ctx.dialect, column="B"),))
        if ctx.dialect == "postgresql":
            pk = PrimaryKey(f"{table}_AB_pkey", ("A", "B"))
            indexes = (b_index,)
        else:
            pk = None
            indexes = (Index(name=f"{table}_AB_unique", parts=(build_part(ctx.dialect, column="A"),
                                                               build_part(ctx.dialect, column="B")),
                             unique=True), b_index)
        tables.append(Table(name=table, schema=_schema_of(ctx, a), columns=tuple(cols), primary_key=pk,
                            indexes=indexes, foreign_keys=tuple(fks),
                            options=_PRISMA_MYSQL_OPTIONS if ctx.dialect == "mysql" else ()))
    return tables


def _relation_name(f: Field) -> str | None:
    rel = f.attr("relation")
    if rel is None:
        return None
    name = rel.arg("name", 0)
    return name if isinstance(name, str) else None


def _single_id(ctx: _Ctx, model: Block) -> Field:
    ids = [f for f in model.fields if f.attr("id")]
    if len(ids) != 1:
        raise ParseError(f"model {model.name!r} is in an implicit many-to-many relation but has no "
                         "single-field @id", model.loc)
    return ids[0]


__all__ = ["load_prisma", "schema_from_prisma"]
