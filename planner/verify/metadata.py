"""The schema model as SQLAlchemy objects: `to_metadata(schema)`.

`metadata.create_all(engine)` on the schema's dialect builds a database that
`planner.load.database.load_database` reflects back to a schema with zero changes against the
input (`diff(schema, reflected).changes == ()`). Everything is named exactly as in the model:
primary keys, unique constraints, indexes, foreign keys and checks carry the model's names (or
none, where the model has none), so no naming convention ever picks a name.

Types are SQLAlchemy's own where one matches (`postgresql.ENUM`, `ARRAY`, `JSONB`, `UUID`,
`TIMESTAMP(precision=)`, `NUMERIC(p, s)`, `mysql.ENUM`, `DATETIME(fsp=)`, ...). Every choice is
checked: the type must compile back to the model's canonical type text, or the column gets a
`SpelledType`, which renders the model's text verbatim (pgvector's `vector(512)`, SQLite's
declared types, which SQLite keeps as written) and binds values like its closest generic type.

Also rendered: server defaults (`sa.text`, with the casts and parentheses a dialect needs),
serial / identity / AUTO_INCREMENT / SQLite AUTOINCREMENT columns, generated columns, comments,
collations, PostgreSQL named enums (created and dropped with the metadata), non-default
PostgreSQL schemas (`CREATE SCHEMA IF NOT EXISTS` before the tables) and, unless told not to,
the extensions the schema needs (`CREATE EXTENSION IF NOT EXISTS pg_trgm` for `gin_trgm_ops`,
`citext`, `vector`, ...), so that a scratch database can be built in one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlglot import exp

from planner.errors import PlannerError
from planner.extensions import needed
from planner.model import Column, Enum, ForeignKey, Index, IndexPart, Schema, Table
from planner.normalize import (
    ExpressionError,
    canonical_type,
    enum_values_of_type,
    parse_expression,
    quoted_expression,
)

__all__ = [
    "SpelledType", "VerifyError", "dialect_of", "required_extensions", "sa_type", "table_key",
    "to_metadata",
]

_DIALECTS: dict[str, Callable[[], Dialect]] = {
    "postgresql": postgresql.dialect, "mysql": mysql.dialect, "sqlite": sqlite.dialect,
}

_SERIAL_TYPES = {"integer", "smallint", "bigint"}
_MYSQL_TEXTLIKE = re.compile(r"^(tiny|medium|long)?(text|blob)$|^json$")


class VerifyError(PlannerError):
    """The verification harness cannot do what it was asked (a schema it cannot build, a
    database it cannot seed or read)."""


# --------------------------------------------------------------------------- public API

def to_metadata(schema: Schema, *, extensions: bool = True) -> sa.MetaData:
    """The schema as SQLAlchemy `MetaData` for `schema.dialect` (see module doc).

    `extensions=False` leaves out the `CREATE EXTENSION` statements (for a database where
    the extensions exist, or a user who may not create them)."""
    metadata = sa.MetaData()
    if schema.dialect == "postgresql":  # first: the enums' CREATE TYPE runs before_create too
        _add_preamble(schema, metadata, extensions)
    enums = _enum_types(schema, metadata)
    tables: dict[str, sa.Table] = {}
    for table in schema.tables:
        tables[table_key(schema, table)] = _table(schema, table, metadata, enums)
    for table in schema.tables:
        _add_foreign_keys(schema, table, tables)
    return metadata


def raw(conn: sa.engine.Connection, statement: str) -> sa.engine.CursorResult:
    """Run SQL that planner wrote (names quoted into it) as it is: never read for DBAPI
    parameters, so a `%s` or `%(x)s` in a table or column name stays a name (psycopg read it as
    a placeholder: `relation "t$1" does not exist`)."""
    return conn.exec_driver_sql(statement, execution_options={"no_parameters": True})


def table_key(schema: Schema, table: Table) -> str:
    """The key planner shows a table under: `name`, or `schema.name` outside the default."""
    return schema.key(table.schema, table.name)


def dialect_of(name: str) -> Dialect:
    """A SQLAlchemy dialect object for a planner dialect name, compiling SQL text as the server
    reads it (named paramstyle: a `%` in a name is not doubled for a DBAPI's format style)."""
    return _DIALECTS[name](paramstyle="named")


def required_extensions(schema: Schema) -> tuple[str, ...]:
    """PostgreSQL extensions the schema's types, operator classes and defaults need
    (planner.extensions; extensions the source only declares are not needed to build it)."""
    return needed(schema)


# --------------------------------------------------------------------------- types

class SpelledType(TypeDecorator):
    """A column type rendered in DDL exactly as `spelling`; values bind like `base`.

    For types SQLAlchemy lacks (pgvector's `vector(3)`, `xml`) and for SQLite, which keeps
    a column's declared type text as written."""

    impl = sa.types.NullType
    cache_ok = True

    def __init__(self, spelling: str, base: TypeEngine | None = None) -> None:
        super().__init__()
        self.spelling = spelling
        self.base = base
        if base is not None:
            self.impl = base

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        return self.impl

    def __repr__(self) -> str:
        return f"SpelledType({self.spelling!r})"


@compiles(SpelledType)
def _compile_spelled(type_: SpelledType, compiler: Any, **kw: Any) -> str:
    return type_.spelling


def sa_type(schema: Schema, column: Column, enums: dict[str, sa.Enum] | None = None) -> TypeEngine:
    """The SQLAlchemy type for a model column on the schema's dialect (see module doc)."""
    enums = enums if enums is not None else {}
    dialect = schema.dialect
    if dialect == "sqlite":
        chosen: TypeEngine | None = _sqlite_type(column)
    else:
        chosen = _pg_type(column.type, enums) if dialect == "postgresql" else _mysql_type(column.type)
    if chosen is None or not _renders_as(chosen, column.type, dialect):
        chosen = SpelledType(column.type, _generic_base(column.type))
    if column.collation:
        chosen = _with_collation(chosen, column, dialect)
    return chosen


def _renders_as(type_: TypeEngine, canonical: str, dialect: str) -> bool:
    """True when `type_` compiles to DDL that canonicalises to `canonical`."""
    try:
        text = type_.compile(dialect=dialect_of(dialect))
    except sa.exc.CompileError:
        return False
    return canonical_type(text, dialect) == canonical


_PARAMS = re.compile(r"^([a-z ]+?)(?:\((.*)\))?( unsigned)?$")


def _split(canonical: str) -> tuple[str, list[str], bool]:
    """`numeric(10,2)` -> ("numeric", ["10", "2"], False); `int unsigned` -> ("int", [], True)."""
    m = _PARAMS.match(canonical)
    if m is None:
        return canonical, [], False
    params = [p.strip() for p in m.group(2).split(",")] if m.group(2) else []
    return m.group(1).strip(), params, bool(m.group(3))


_PG_PLAIN: dict[str, Callable[[], TypeEngine]] = {
    "integer": postgresql.INTEGER, "smallint": postgresql.SMALLINT, "bigint": postgresql.BIGINT,
    "boolean": postgresql.BOOLEAN, "text": postgresql.TEXT, "real": postgresql.REAL,
    "double precision": postgresql.DOUBLE_PRECISION, "date": postgresql.DATE,
    "json": postgresql.JSON, "jsonb": postgresql.JSONB, "uuid": postgresql.UUID,
    "bytea": postgresql.BYTEA, "inet": postgresql.INET, "cidr": postgresql.CIDR,
    "macaddr": postgresql.MACADDR, "money": postgresql.MONEY, "interval": postgresql.INTERVAL,
    "tsvector": postgresql.TSVECTOR, "citext": postgresql.CITEXT, "hstore": postgresql.HSTORE,
    "int4range": postgresql.INT4RANGE, "int8range": postgresql.INT8RANGE,
    "numrange": postgresql.NUMRANGE, "daterange": postgresql.DATERANGE,
    "tsrange": postgresql.TSRANGE, "tstzrange": postgresql.TSTZRANGE, "oid": postgresql.OID,
}


def _pg_type(canonical: str, enums: dict[str, sa.Enum]) -> TypeEngine | None:
    if canonical.endswith("[]"):
        inner = _pg_type(canonical[:-2], enums)
        return postgresql.ARRAY(inner, dimensions=1) if inner is not None else None
    if canonical in enums:
        return enums[canonical]
    name, params, _ = _split(canonical)
    if name in _PG_PLAIN and not params:
        return _PG_PLAIN[name]()
    numbers = [int(p) for p in params if p.isdigit()]
    if len(numbers) != len(params):
        return None
    return _pg_parametrised(name, numbers)


def _pg_parametrised(name: str, n: list[int]) -> TypeEngine | None:
    first = n[0] if n else None
    if name in ("timestamp", "timestamptz"):
        return postgresql.TIMESTAMP(timezone=name == "timestamptz", precision=first)
    if name in ("time", "timetz"):
        return postgresql.TIME(timezone=name == "timetz", precision=first)
    if name == "numeric":
        return postgresql.NUMERIC(*n) if n else postgresql.NUMERIC()
    if name == "varchar":
        return postgresql.VARCHAR(first)
    if name == "char":
        return postgresql.CHAR(first)
    if name in ("bit", "varbit"):
        return postgresql.BIT(first, varying=name == "varbit")
    return None


_MY_INTS: dict[str, type[TypeEngine]] = {
    "int": mysql.INTEGER, "tinyint": mysql.TINYINT, "smallint": mysql.SMALLINT,
    "mediumint": mysql.MEDIUMINT, "bigint": mysql.BIGINT,
}
_MY_PLAIN: dict[str, Callable[[], TypeEngine]] = {
    "double": mysql.DOUBLE, "float": mysql.FLOAT, "text": mysql.TEXT, "tinytext": mysql.TINYTEXT,
    "mediumtext": mysql.MEDIUMTEXT, "longtext": mysql.LONGTEXT, "blob": mysql.BLOB,
    "tinyblob": mysql.TINYBLOB, "mediumblob": mysql.MEDIUMBLOB, "longblob": mysql.LONGBLOB,
    "date": mysql.DATE, "year": mysql.YEAR, "json": mysql.JSON,
}


def _mysql_type(canonical: str) -> TypeEngine | None:
    values = enum_values_of_type(canonical)
    if values is not None:
        return mysql.ENUM(*values)
    if canonical.startswith("set("):
        return mysql.SET(*_mysql_set_values(canonical))
    name, params, unsigned = _split(canonical)
    n = [int(p) for p in params if p.isdigit()]
    if len(n) != len(params):
        return None
    if name in _MY_INTS:
        return _MY_INTS[name](*n, unsigned=unsigned) if n else _MY_INTS[name](unsigned=unsigned)
    if name in _MY_PLAIN and not n:
        return _MY_PLAIN[name]()
    return _mysql_parametrised(name, n)


def _mysql_parametrised(name: str, n: list[int]) -> TypeEngine | None:
    first = n[0] if n else None
    if name in ("datetime", "timestamp", "time"):
        cls = {"datetime": mysql.DATETIME, "timestamp": mysql.TIMESTAMP, "time": mysql.TIME}[name]
        return cls(fsp=first) if first else cls()
    if name == "decimal" and len(n) == 2:
        return mysql.DECIMAL(n[0], n[1])
    simple = {"varchar": mysql.VARCHAR, "char": mysql.CHAR, "binary": mysql.BINARY,
              "varbinary": mysql.VARBINARY, "bit": mysql.BIT}
    if name in simple and first is not None:
        return simple[name](first)
    return None


def _mysql_set_values(canonical: str) -> list[str]:
    dt = exp.DataType.build(canonical, dialect="mysql")
    return [e.name for e in dt.expressions]


def _generic_base(canonical: str) -> TypeEngine:
    """The generic SQLAlchemy type whose value handling fits a type known only by its text
    (SQLite's affinity rules, with the date/time/boolean/json names SQLAlchemy knows)."""
    low = canonical.lower()
    if "int" in low:
        return sa.Integer()
    for words, factory in _GENERIC_BASES:
        if any(w in low for w in words):
            return factory()
    return sa.types.NullType()


_GENERIC_BASES: tuple[tuple[tuple[str, ...], Callable[[], TypeEngine]], ...] = (
    (("json",), sa.JSON),
    (("bool",), sa.Boolean),
    (("datetime", "timestamp"), sa.DateTime),
    (("date",), sa.Date),
    (("time",), sa.Time),
    (("char", "clob", "text"), sa.Text),
    (("blob", "binary", "bytea"), sa.LargeBinary),
    (("real", "floa", "doub"), sa.Float),
    (("decimal", "numeric"), lambda: sa.Numeric(asdecimal=True)),
)


def _sqlite_type(column: Column) -> TypeEngine:
    """SQLite keeps the declared type text; render it verbatim."""
    return SpelledType(column.type, _generic_base(column.type))


def _with_collation(chosen: TypeEngine, column: Column, dialect: str) -> TypeEngine:
    if isinstance(chosen, sa.String) and not isinstance(chosen, sa.Enum):
        copy = chosen.copy()
        copy.collation = column.collation
        return copy
    quoted = column.collation if dialect == "mysql" else f'"{column.collation}"'
    spelled = chosen.spelling if isinstance(chosen, SpelledType) else \
        chosen.compile(dialect=dialect_of(dialect))
    return SpelledType(f"{spelled} COLLATE {quoted}", chosen)


def _enum_types(schema: Schema, metadata: sa.MetaData) -> dict[str, sa.Enum]:
    """PostgreSQL named enums, created and dropped with the metadata; keyed by model key."""
    if schema.dialect != "postgresql":
        return {}
    return {schema.key(e.schema, e.name): _pg_enum(e, metadata) for e in schema.enums}


def _pg_enum(enum: Enum, metadata: sa.MetaData) -> sa.Enum:
    return postgresql.ENUM(*enum.values, name=enum.name, schema=enum.schema, metadata=metadata,
                           create_type=True)


# --------------------------------------------------------------------------- tables

def _table(schema: Schema, table: Table, metadata: sa.MetaData, enums: dict[str, sa.Enum]) -> sa.Table:
    kwargs: dict[str, Any] = {}
    if schema.dialect == "sqlite" and any(c.autoincrement == "autoincrement" for c in table.columns):
        kwargs["sqlite_autoincrement"] = True
    if table.partition_by and schema.dialect == "postgresql":
        kwargs["postgresql_partition_by"] = table.partition_by
    if schema.dialect == "mysql":  # ENGINE, DEFAULT CHARSET, COLLATE, AUTO_INCREMENT, ROW_FORMAT as read
        for option in table.options:
            name, _, value = option.partition("=")
            kwargs["mysql_" + name.lower().replace(" ", "_")] = value
    columns = [_column(schema, table, c, enums) for c in table.columns]
    out = sa.Table(table.name, metadata, *columns, schema=table.schema, comment=table.comment,
                   **kwargs)
    if table.primary_key is not None:
        _add_primary_key(table, out)
    for check in table.checks:
        out.append_constraint(sa.CheckConstraint(check.expression, name=check.name))
    for index in table.indexes:
        _add_index(schema, table, index, out)
    return out


def _column(schema: Schema, table: Table, column: Column, enums: dict[str, sa.Enum]) -> sa.Column:
    args: list[Any] = [sa_type(schema, column, enums)]
    kwargs: dict[str, Any] = {"nullable": column.nullable, "comment": column.comment,
                              "autoincrement": False}
    auto = column.autoincrement
    if column.generated is not None:
        args.append(sa.Computed(sa.text(column.generated),
                                persisted=True if schema.dialect == "postgresql" or column.stored else None))
    elif auto in ("identity", "identity_always"):
        args.append(sa.Identity(always=auto == "identity_always"))
        kwargs["autoincrement"] = "auto"
    elif auto is not None:
        _autoincrement(schema, table, column, args, kwargs)
    default = _default_sql(schema, column, args[0]) if column.default is not None and column.generated is None \
        else None
    if column.on_update is not None and schema.dialect == "mysql":
        # SQLAlchemy never renders ON UPDATE (server_onupdate is only a marker); its documented
        # spelling is the default's text followed by the clause, which also reaches the
        # op.create_table / op.add_column calls Alembic renders. A NOT NULL column without a
        # default has no such text: _mysql_create_column appends the clause there.
        on_update = _mysql_default(column, column.on_update)
        if default is not None or column.nullable:
            default = f"{default if default is not None else 'NULL'} ON UPDATE {on_update}"
        else:
            kwargs["info"] = {**kwargs.get("info", {}), ON_UPDATE_INFO: on_update}
    if default is not None:
        kwargs["server_default"] = sa.text(default)
    return sa.Column(column.name, *args, **kwargs)


def _autoincrement(schema: Schema, table: Table, column: Column, args: list[Any],
                   kwargs: dict[str, Any]) -> None:
    """serial / AUTO_INCREMENT / AUTOINCREMENT: SQLAlchemy renders these for the column it
    picks as the table's autoincrement column; a PostgreSQL serial elsewhere is spelled out."""
    pk = table.primary_key.columns if table.primary_key else ()
    where = f"{table.name}.{column.name}"
    expected = {"postgresql": "sequence", "mysql": "auto_increment", "sqlite": "autoincrement"}
    if column.autoincrement != expected[schema.dialect]:
        raise VerifyError(f"{where}: {column.autoincrement} columns do not exist on {schema.dialect}")
    if schema.dialect == "postgresql":
        if column.type not in _SERIAL_TYPES:
            raise VerifyError(f"{where}: a serial column cannot be of type {column.type}")
        if pk != (column.name,):
            serial = {"integer": "serial", "smallint": "smallserial", "bigint": "bigserial"}
            args[0] = SpelledType(serial[column.type], args[0])
            return
    elif schema.dialect == "sqlite":
        if column.type != "integer" or pk != (column.name,):
            raise VerifyError(f"{where}: SQLite AUTOINCREMENT needs an INTEGER PRIMARY KEY column")
        args[0] = SpelledType("INTEGER", sa.Integer())
        if table.primary_key and table.primary_key.name:
            kwargs["info"] = {_INLINE_PK_NAME: table.primary_key.name}
    elif column.name not in pk:
        raise VerifyError(f"{where}: AUTO_INCREMENT outside the primary key is not supported")
    kwargs["autoincrement"] = True


def _default_sql(schema: Schema, column: Column, type_: TypeEngine) -> str:
    """The model's default as DDL text: PostgreSQL array literals get their type back (an
    empty `ARRAY[]` has none), MySQL wants a timestamp default at the column's precision and
    parentheses around expressions."""
    default = column.default or ""
    dialect = schema.dialect
    if dialect == "postgresql" and column.type.endswith("[]") and default.upper().startswith("ARRAY"):
        return f"{default}::{type_.compile(dialect=dialect_of(dialect))}"
    if dialect == "mysql":
        return _mysql_default(column, default)
    if dialect == "sqlite" and not _is_plain_literal(default, dialect) and \
            default.upper() not in ("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"):
        return f"({default})"
    return default


def _mysql_default(column: Column, default: str) -> str:
    name, params, _ = _split(column.type)
    if default.upper() == "CURRENT_TIMESTAMP":
        return f"CURRENT_TIMESTAMP({params[0]})" if params and name in ("datetime", "timestamp") \
            else default
    if _MYSQL_TEXTLIKE.match(name) or not _is_plain_literal(default, "mysql"):
        return f"({default})"
    return default


def _is_plain_literal(text: str, dialect: str) -> bool:
    try:
        node = parse_expression(text, dialect)
    except ExpressionError:
        return False
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, (exp.Literal, exp.Null, exp.Boolean))


# --------------------------------------------------------------------------- constraints

#: Column.info key: name of an inline SQLite `PRIMARY KEY AUTOINCREMENT` constraint
_INLINE_PK_NAME = "planner_inline_pk_name"


#: Column.info key: the MySQL `ON UPDATE` expression of a NOT NULL column without a default
#: (as DDL text; the other columns carry it in their server_default text)
ON_UPDATE_INFO = "planner_on_update"


@compiles(CreateColumn, "mysql")
def _mysql_create_column(element: CreateColumn, compiler: Any, **kw: Any) -> str:
    """The column definition with MySQL's `ON UPDATE CURRENT_TIMESTAMP[(n)]` (a column
    attribute MySQL and MariaDB accept in any position after the type)."""
    text = compiler.visit_create_column(element, **kw)
    on_update = element.element.info.get(ON_UPDATE_INFO)
    if on_update and text:
        text += f" ON UPDATE {on_update}"
    return text


@compiles(CreateColumn, "sqlite")
def _sqlite_create_column(element: CreateColumn, compiler: Any, **kw: Any) -> str:
    """SQLAlchemy renders AUTOINCREMENT inline and drops the primary key's name; put it back
    (only for columns to_metadata marked)."""
    text = compiler.visit_create_column(element, **kw)
    name = element.element.info.get(_INLINE_PK_NAME)
    if name and text:
        quoted = compiler.preparer.quote(name)
        text = text.replace(" PRIMARY KEY AUTOINCREMENT", f" CONSTRAINT {quoted} PRIMARY KEY AUTOINCREMENT", 1)
    return text


def _add_primary_key(table: Table, out: sa.Table) -> None:
    pk = table.primary_key
    assert pk is not None
    out.append_constraint(sa.PrimaryKeyConstraint(*pk.columns, name=pk.name))


def _add_index(schema: Schema, table: Table, index: Index, out: sa.Table) -> None:
    if index.unique and _as_unique_constraint(index):
        out.append_constraint(sa.UniqueConstraint(
            *index.columns, name=index.name, deferrable=index.deferrable or None,
            **_pg_unique_options(schema, index)))
        return
    if index.name is None:
        raise VerifyError(f"{table.name}: an index without a name cannot be created",
                          hint="every standalone index needs a name")
    if index.deferrable:
        raise VerifyError(f"{table.name}.{index.name}: a deferrable unique constraint must be a "
                          "plain column list")
    native = _native_lengths(schema, index)
    elements = [_index_element(schema, part, out, native) for part in index.parts]
    sa.Index(index.name, *elements, unique=index.unique, _table=out,
             **_index_options(schema, index, native))


def _as_unique_constraint(index: Index) -> bool:
    """A UNIQUE constraint (not a unique index) when the model says it is one, or when it must
    be (deferrable, or unnamed), and the key is a plain column list."""
    plain = all(p.column is not None and not p.descending and p.nulls_first is None and
                not p.opclass and not p.length and not p.collation for p in index.parts)
    simple = plain and index.method == "btree" and index.where is None
    return simple and (index.constraint or index.deferrable or index.name is None)


def _pg_unique_options(schema: Schema, index: Index) -> dict[str, Any]:
    if schema.dialect != "postgresql":
        return {}
    opts: dict[str, Any] = {}
    if index.nulls_not_distinct:
        opts["postgresql_nulls_not_distinct"] = True
    if index.include:
        opts["postgresql_include"] = list(index.include)
    return opts


def _native_lengths(schema: Schema, index: Index) -> bool:
    """SQLAlchemy's `mysql_length` works only when every key is a plain column."""
    return schema.dialect == "mysql" and all(_simple_part(p) for p in index.parts)


def _index_options(schema: Schema, index: Index, native_lengths: bool) -> dict[str, Any]:
    dialect = schema.dialect
    opts: dict[str, Any] = {}
    if dialect == "postgresql":
        if index.method != "btree":
            opts["postgresql_using"] = index.method
        if index.where:
            opts["postgresql_where"] = sa.text(quoted_expression(index.where, dialect))
        if index.include:
            opts["postgresql_include"] = list(index.include)
        if index.nulls_not_distinct:
            opts["postgresql_nulls_not_distinct"] = True
        ops = {p.column: p.opclass for p in index.parts if _simple_part(p) and p.opclass}
        if ops:
            opts["postgresql_ops"] = ops
    elif dialect == "mysql":
        if index.method in ("fulltext", "spatial"):
            opts["mysql_prefix"] = index.method.upper()
        lengths = {p.column: p.length for p in index.parts if p.length}
        if lengths and native_lengths:
            opts["mysql_length"] = lengths
        if index.where:
            raise VerifyError(f"index {index.name}: MySQL has no partial indexes")
    elif index.where:
        opts["sqlite_where"] = sa.text(quoted_expression(index.where, dialect))
    return opts


def _simple_part(part: IndexPart) -> bool:
    """A column part SQLAlchemy renders itself (opclass / prefix length as dialect options)."""
    return part.column is not None and not part.descending and part.nulls_first is None \
        and part.collation is None


def _index_element(schema: Schema, part: IndexPart, out: sa.Table, native_lengths: bool) -> Any:
    if part.column is not None and part.column not in out.c:
        raise VerifyError(f"{out.name}: index column {part.column} does not exist")
    if _simple_part(part) and (not part.length or native_lengths):
        return out.c[part.column]
    if part.column is not None and not part.opclass and not part.length and not part.collation:
        element = out.c[part.column].desc() if part.descending else out.c[part.column].asc()
        if part.nulls_first is not None:
            element = element.nulls_first() if part.nulls_first else element.nulls_last()
        return element
    return sa.text(_part_sql(schema, part))


def _part_sql(schema: Schema, part: IndexPart) -> str:
    """One key of an index as DDL text: column or (expression), [COLLATE], [opclass] or
    [(prefix length)], [DESC], [NULLS FIRST|LAST]."""
    preparer = dialect_of(schema.dialect).identifier_preparer
    text = preparer.quote(part.column) if part.column is not None else f"({part.expression})"
    if part.length:
        text += f"({part.length})"
    if part.collation:
        text += f" COLLATE {preparer.quote(part.collation)}"
    if part.opclass:
        text += f" {part.opclass}"
    if part.descending:
        text += " DESC"
    if part.nulls_first is not None:
        text += " NULLS FIRST" if part.nulls_first else " NULLS LAST"
    return text


def _add_foreign_keys(schema: Schema, table: Table, tables: dict[str, sa.Table]) -> None:
    out = tables[table_key(schema, table)]
    for fk in table.foreign_keys:
        target = tables.get(schema.key(fk.ref_schema, fk.ref_table))
        if target is None:
            raise VerifyError(f"{table.name}: foreign key {fk.name or fk.columns} references "
                              f"{schema.key(fk.ref_schema, fk.ref_table)}, which the schema lacks")
        missing = [c for c in fk.ref_columns if c not in target.c]
        if missing:
            raise VerifyError(f"{table.name}: foreign key {fk.name} references missing "
                              f"column(s) {', '.join(missing)} of {target.name}")
        out.append_constraint(sa.ForeignKeyConstraint(
            list(fk.columns), [target.c[c] for c in fk.ref_columns], name=fk.name,
            **_fk_options(schema, fk)))


def _fk_options(schema: Schema, fk: ForeignKey) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if fk.on_delete != "NO ACTION":
        opts["ondelete"] = fk.on_delete
    if fk.on_update != "NO ACTION":
        opts["onupdate"] = fk.on_update
    if schema.dialect == "postgresql":
        if fk.deferrable:
            opts["deferrable"] = True
            opts["initially"] = "DEFERRED" if fk.initially_deferred else "IMMEDIATE"
        if fk.match_full:
            opts["match"] = "FULL"
    return opts


def _add_preamble(schema: Schema, metadata: sa.MetaData, extensions: bool) -> None:
    """CREATE SCHEMA / CREATE EXTENSION before the tables (PostgreSQL)."""
    preparer = dialect_of("postgresql").identifier_preparer
    names = {t.schema for t in schema.tables} | {e.schema for e in schema.enums}
    statements = [f"CREATE SCHEMA IF NOT EXISTS {preparer.quote(s)}"
                  for s in sorted(n for n in names if n and n != schema.default_schema)]
    if extensions:
        statements += [f"CREATE EXTENSION IF NOT EXISTS {preparer.quote(e)}"
                       for e in required_extensions(schema)]
    for statement in statements:
        # (DDL formats its text with `%`: a `%` in a name is written `%%`)
        sa.event.listen(metadata, "before_create", sa.DDL(statement.replace("%", "%%")))
