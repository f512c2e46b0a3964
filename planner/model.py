"""The normalised schema model every loader produces and the differ compares.

Frozen dataclasses, tuples, no back-references. Values are normalised by the loaders
(see `planner.normalize`) so that equal meaning compares equal: `int4`, `integer` and
Prisma `Int` all become `integer`; `now()` and `CURRENT_TIMESTAMP` become the same default.
Fields marked `compare=False` carry provenance (Prisma names, doc comments) that is shown
to users but is not part of the database schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: dialect name -> schema a table lives in when none is given
DEFAULT_SCHEMA: dict[str, str | None] = {"postgresql": "public", "mysql": None, "sqlite": None}

DIALECTS = ("postgresql", "mysql", "sqlite")


@dataclass(frozen=True, slots=True)
class Column:
    """A table column. `type` is canonical text (`integer`, `varchar(255)`, `timestamp(3)`,
    `text[]`); for a column of a named enum it is the enum's key and `enum` is set."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    #: the default calls a volatile function (random(), gen_random_uuid(), clock_timestamp() ...)
    default_volatile: bool = False
    #: how values are generated: "sequence" (serial / nextval), "identity" (BY DEFAULT),
    #: "identity_always", "auto_increment" (MySQL), "autoincrement" (SQLite)
    autoincrement: str | None = None
    #: key of the named enum type this column uses (also for arrays of it)
    enum: str | None = None
    #: expression of a generated (computed) column
    generated: str | None = None
    comment: str | None = None
    collation: str | None = None
    #: MySQL/MariaDB `ON UPDATE CURRENT_TIMESTAMP[(n)]`: what the server writes into the column
    #: whenever an UPDATE changes another column of the row (canonical like `default`). Prisma
    #: has no equivalent (`@updatedAt` is set by Prisma Client, not by the database)
    on_update: str | None = None
    #: Prisma field name when it differs from the column name
    origin: str | None = field(default=None, compare=False)
    #: documentation (`///` in Prisma); not stored in the database
    doc: str | None = field(default=None, compare=False)
    #: MySQL/MariaDB attributes of the column the model does not hold (`INVISIBLE`,
    #: `CHARACTER SET x` without a collation, `BINARY`, `ZEROFILL`, a column-level CHECK): a
    #: statement that restates the column (MODIFY, ADD, a restore, R8's swap, CREATE TABLE)
    #: would drop them, so the MySQL plan stops instead (planner.plan.mysql)
    unkept: tuple[str, ...] = field(default=(), compare=False)
    #: MySQL/MariaDB: the generated column is STORED (PERSISTENT), not VIRTUAL (PostgreSQL's
    #: are stored anyway); what CREATE TABLE, ADD and MODIFY write
    stored: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class IndexPart:
    """One key of an index: a column or an expression, with its ordering and operator class."""

    column: str | None = None
    expression: str | None = None
    descending: bool = False
    #: True/False only when it differs from the default for the direction
    nulls_first: bool | None = None
    opclass: str | None = None
    #: MySQL prefix length
    length: int | None = None
    collation: str | None = None

    @property
    def label(self) -> str:
        text = self.column if self.column is not None else f"({self.expression})"
        if self.length:
            text += f"({self.length})"
        if self.opclass:
            text += f" {self.opclass}"
        if self.descending:
            text += " DESC"
        return text


@dataclass(frozen=True, slots=True)
class Index:
    """An index; also a UNIQUE constraint (`constraint=True`), which is backed by one."""

    name: str | None
    parts: tuple[IndexPart, ...]
    unique: bool = False
    #: access method, lower case: btree, hash, gin, gist, spgist, brin, fulltext, spatial
    method: str = "btree"
    where: str | None = None
    nulls_not_distinct: bool = False
    include: tuple[str, ...] = ()
    #: the index backs a UNIQUE table constraint rather than standing alone
    constraint: bool = field(default=False, compare=False)
    deferrable: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Plain column names of the key (expression parts are left out)."""
        return tuple(p.column for p in self.parts if p.column is not None)

    @property
    def signature(self) -> tuple:
        """Everything but the name: equal signatures mean the same index."""
        return (self.parts, self.unique, self.method, self.where, self.nulls_not_distinct,
                self.include, self.deferrable)


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    #: schema of the referenced table (None: the dialect's default schema)
    ref_schema: str | None = None
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False
    match_full: bool = False

    @property
    def signature(self) -> tuple:
        return (self.columns, self.ref_schema, self.ref_table, self.ref_columns, self.on_delete,
                self.on_update, self.deferrable, self.initially_deferred, self.match_full)


@dataclass(frozen=True, slots=True)
class Check:
    name: str | None
    expression: str
    #: the source left it unnamed and the name is planner's guess of what the server picks
    #: (servers differ: MySQL 8 `t_chk_1`, MariaDB the column name); a rename is then no change
    inferred_name: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    schema: str | None = None
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    comment: str | None = None
    #: Prisma model name when it differs from the table name
    origin: str | None = field(default=None, compare=False)
    doc: str | None = field(default=None, compare=False)
    #: PostgreSQL: the table is partitioned by this key (`RANGE (at)`); its partitions are not
    #: modelled, but plans build indexes and constraints the way a partitioned table needs
    partition_by: str | None = field(default=None, compare=False)
    #: table options as read, not compared. SQLite: `STRICT`, `WITHOUT ROWID` (not planned, but a
    #: plan that would rebuild such a table from the model, which would lose them, refuses it);
    #: MySQL: `ENGINE=x`, `DEFAULT CHARSET=x`, `COLLATE=x`, `AUTO_INCREMENT=n`, `ROW_FORMAT=x`,
    #: which a table the plan creates is created with
    options: tuple[str, ...] = field(default=(), compare=False)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def index(self, name: str) -> Index | None:
        for i in self.indexes:
            if i.name == name:
                return i
        return None


@dataclass(frozen=True, slots=True)
class Enum:
    """A named enum type (PostgreSQL `CREATE TYPE ... AS ENUM`); values in their order."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None
    origin: str | None = field(default=None, compare=False)
    #: Prisma value name -> database value, where `@map` changes it
    value_origins: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class View:
    name: str
    definition: str | None
    schema: str | None = None
    materialized: bool = False
    origin: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Schema:
    """A whole database schema in one dialect."""

    dialect: str
    tables: tuple[Table, ...] = ()
    enums: tuple[Enum, ...] = ()
    views: tuple[View, ...] = ()
    #: the source can express database comments (Prisma cannot; SQL and databases can)
    has_comments: bool = field(default=True, compare=False)
    #: the source knows views (Prisma Migrate never creates or drops views)
    has_views: bool = field(default=True, compare=False)
    #: PostgreSQL extensions the source declares or the database has (Prisma `extensions = [...]`,
    #: SQL `CREATE EXTENSION`, `pg_extension`); what the schema needs is `planner.extensions.needed`
    extensions: tuple[str, ...] = field(default=(), compare=False)

    @property
    def default_schema(self) -> str | None:
        return DEFAULT_SCHEMA.get(self.dialect)

    def key(self, schema: str | None, name: str) -> str:
        """The display key of an object: `name` in the default schema, else `schema.name`."""
        return qualify(schema, name, self.default_schema)

    def table(self, key: str) -> Table | None:
        for t in self.tables:
            if self.key(t.schema, t.name) == key:
                return t
        return None

    def enum(self, key: str) -> Enum | None:
        for e in self.enums:
            if self.key(e.schema, e.name) == key:
                return e
        return None


def qualify(schema: str | None, name: str, default_schema: str | None) -> str:
    """`name`, or `schema.name` outside the default schema; a part that holds a dot (or
    starts with a double quote) is written in double quotes, so `split_key` reads the key
    back unambiguously: table `dot.name` is `"dot.name"`, never table `name` of schema `dot`."""
    if schema is None or schema == default_schema:
        return _key_part(name)
    return f"{_key_part(schema)}.{_key_part(name)}"


def _key_part(part: str) -> str:
    if "." in part or part.startswith('"'):
        return '"' + part.replace('"', '""') + '"'
    return part


def split_key(key: str) -> tuple[str | None, str]:
    """(schema or None, name) of a key written by `qualify`."""
    parts: list[str] = []
    i = 0
    while i <= len(key):
        if key.startswith('"', i):
            j, buf = i + 1, []
            while j < len(key):
                if key[j] == '"':
                    if key.startswith('""', j):
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(key[j])
                j += 1
            parts.append("".join(buf))
            i = j + 2  # past the closing quote and the dot
        else:
            j = key.find(".", i)
            j = len(key) if j < 0 or len(parts) >= 1 else j
            parts.append(key[i:j])
            i = j + 1
    if len(parts) == 1:
        return None, parts[0]
    return parts[0] or None, ".".join(parts[1:])
