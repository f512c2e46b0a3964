"""Load SQLAlchemy models (`package.module:attr`) into the schema model.

`attr` names a `MetaData`, anything with a `.metadata` (a declarative base or `registry`), or
a callable returning one of those. The current working directory is put on `sys.path` for
the import. The schema produced is the one `metadata.create_all()` would create on the target
dialect (PostgreSQL unless told otherwise), so it diffs to zero against a database built
that way:

* types are compiled for the dialect (`type.compile(dialect=...)`) and then canonicalised;
  `server_default` becomes the default (a Python-side `default=` never reaches the database);
* autoincrement as the dialect creates it: PostgreSQL SERIAL ("sequence") for an integer
  primary key SQLAlchemy would autoincrement, `Identity()` -> identity, MySQL AUTO_INCREMENT,
  SQLite only with `sqlite_autoincrement=True`;
* named `Enum` types become model enums on PostgreSQL, inline `ENUM(...)` on MySQL; the CHECK
  constraints SQLAlchemy adds for non-native enums and booleans (`create_constraint=True`)
  are included where the dialect would emit them;
* unnamed constraints get the names the database would give them: the MetaData
  `naming_convention` when it has one, else PostgreSQL's own rules (`t_pkey`, `t_a_key`,
  `t_a_fkey`, `t_a_check`, numbered on collision), MySQL's (`PRIMARY`, first column for
  UNIQUE keys, `t_ibfk_<n>` for foreign keys, MariaDB's `CONSTRAINT_<n>` / column name for
  CHECKs, plus the index InnoDB adds for a foreign key no index covers), SQLite's (none).

MetaData knows no views: the schema says so (`has_views=False`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.sql.base import _NONE_NAME
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeDecorator
from sqlglot import exp

from planner.errors import SourceError
from planner.load.common import (
    Loaded,
    LoadWarning,
    build_check,
    build_column,
    build_part,
    build_where,
    finalize_schema,
    normalize_action,
    split_on_update,
)
from planner.model import (
    DEFAULT_SCHEMA,
    Check,
    Column,
    Enum,
    ForeignKey,
    Index,
    IndexPart,
    PrimaryKey,
    Schema,
    Table,
)
from planner.naming import pg_choose_name, pg_default_name
from planner.normalize import ExpressionError, parse_expression

_SA_DIALECTS = {"postgresql": postgresql.dialect, "mysql": mysql.dialect, "sqlite": sqlite.dialect}


def load_sqlalchemy(spec: str, *, dialect: str | None) -> Loaded:
    """Load `package.module:attr` as the schema `create_all()` builds on `dialect`."""
    dialect = dialect or "postgresql"
    metadata = import_metadata(spec)
    converter = _Converter(metadata, dialect, spec)
    schema = converter.schema()
    return Loaded(schema=schema, source=spec, kind="sqlalchemy", warnings=tuple(converter.warnings))


# --------------------------------------------------------------------------- import

def import_metadata(spec: str) -> sa.MetaData:
    """Import `package.module:attr` (with the working directory on sys.path) -> MetaData."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise SourceError(f"{spec}: expected package.module:attr",
                          hint="e.g. myapp.models:Base or myapp.db:metadata")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.split(".")[: len(e.name.split("."))] == e.name.split("."):
            raise SourceError(f"{spec}: no module named {e.name!r}",
                              hint=f"run planner from the directory that contains it ({cwd} "
                              "is on the import path)") from None
        raise SourceError(f"{spec}: importing {module_name} failed: {e}",
                          hint="install the packages your models import") from None
    except Exception as e:  # noqa: BLE001 - any error raised by user code on import
        raise SourceError(f"{spec}: importing {module_name} failed: {type(e).__name__}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SourceError(f"{spec}: {module_name} has no attribute {attr!r}") from None
    return _as_metadata(obj, spec)


def _as_metadata(obj: Any, spec: str, *, called: bool = False) -> sa.MetaData:
    if isinstance(obj, sa.MetaData):
        return obj
    found = getattr(obj, "metadata", None)
    if isinstance(found, sa.MetaData):
        return found
    if callable(obj) and not called:
        try:
            result = obj()
        except Exception as e:  # noqa: BLE001 - user code
            raise SourceError(f"{spec}: calling it failed: {type(e).__name__}: {e}") from None
        return _as_metadata(result, spec, called=True)
    raise SourceError(f"{spec} is a {type(obj).__name__}, not SQLAlchemy MetaData",
                      hint="point at a MetaData, a declarative base (with .metadata) or a "
                      "function returning one")


# --------------------------------------------------------------------------- conversion

class _Converter:
    """MetaData -> Schema for one dialect, tracking the names the database would pick."""

    def __init__(self, metadata: sa.MetaData, dialect: str, spec: str) -> None:
        self.metadata = metadata
        self.dialect = dialect
        self.spec = spec
        self.sa_dialect: Dialect = _SA_DIALECTS[dialect](paramstyle="named")  # no `%` doubled for a DBAPI
        self.ddl: DDLCompiler = self.sa_dialect.ddl_compiler(self.sa_dialect, None)
        self.preparer = self.sa_dialect.identifier_preparer
        self.enums: dict[tuple[str | None, str], Enum] = {}
        self.warnings: list[LoadWarning] = []
        #: PostgreSQL: names taken per schema by relations (tables, indexes, sequences) and
        #: by constraints, for the numbering of default names
        self.relations: dict[str | None, set[str]] = defaultdict(set)
        self.constraint_names: dict[str | None, set[str]] = defaultdict(set)

    def schema(self) -> Schema:
        try:
            ordered = self.metadata.sorted_tables
        except sa_exc.SQLAlchemyError as e:
            raise SourceError(f"{self.spec}: {e}") from None
        for t in ordered:
            self.relations[self.model_schema(t.schema)].add(t.name)
        tables = [self.table(t) for t in ordered]
        tables.sort(key=lambda t: (t.schema or "", t.name))
        enums = sorted(self.enums.values(), key=lambda e: (e.schema or "", e.name))
        return finalize_schema(Schema(
            dialect=self.dialect, tables=tuple(tables), enums=tuple(enums),
            has_comments=self.dialect != "sqlite", has_views=False,
        ))

    def model_schema(self, schema: str | None) -> str | None:
        return None if schema in (None, DEFAULT_SCHEMA[self.dialect]) else schema

    def fail(self, table: sa.Table, what: str, err: Exception) -> SourceError:
        return SourceError(f"{self.spec}: table {table.name}: {what}: {err}")

    # -- tables
    def table(self, t: sa.Table) -> Table:
        try:
            columns = tuple(self.column(t, c) for c in t.columns)
            pk = self.primary_key(t)
            uniques = self.unique_constraints(t)
            indexes = self.indexes(t)
            fks = self.foreign_keys(t)
            checks = self.checks(t)
        except SourceError:
            raise
        except (sa_exc.SQLAlchemyError, ExpressionError) as e:
            raise self.fail(t, "cannot compile", e) from None
        all_indexes = uniques + indexes
        if self.dialect == "mysql":
            all_indexes += _innodb_fk_indexes(t, pk, uniques, indexes, fks, self._fk_named)
        return Table(
            name=t.name, schema=self.model_schema(t.schema), columns=columns, primary_key=pk,
            indexes=tuple(sorted(all_indexes, key=lambda i: _name_key(i.name, i.signature))),
            foreign_keys=tuple(sorted(fks, key=lambda f: _name_key(f.name, f.signature))),
            checks=tuple(sorted(checks, key=lambda c: _name_key(c.name, c.expression))),
            comment=(t.comment or None) if self.dialect != "sqlite" else None,
        )

    # -- columns
    def column(self, t: sa.Table, c: sa.Column) -> Column:
        type_text, collation = self.type_text(c)
        self.collect_enums(c.type, t)
        generated = None
        if c.computed is not None:
            generated = self.sql(c.computed.sqltext)
        autoincrement = self.autoincrement(t, c)
        if self.dialect == "postgresql" and autoincrement:  # SERIAL / identity sequence
            relations = self.relations[self.model_schema(t.schema)]
            relations.add(pg_choose_name(t.name, c.name, "seq", relations))
        default, on_update = self.ddl.get_column_default_string(c), None
        if self.dialect == "mysql":  # SQLAlchemy's spelling: server_default=text("... ON UPDATE ...")
            default, on_update = split_on_update(default)
        return build_column(
            c.name, type_text, self.dialect, nullable=bool(c.nullable), on_update=on_update,
            default=default,
            autoincrement=autoincrement, generated=generated,
            comment=c.comment if self.dialect != "sqlite" else None, collation=collation,
        )

    def type_text(self, c: sa.Column) -> tuple[str, str | None]:
        sa_type = c.type
        impl = _unwrap(sa_type, self.sa_dialect)
        collation = getattr(impl, "collation", None)
        if collation:
            impl = impl.copy()
            impl.collation = None
            sa_type = impl
        compiler = self.sa_dialect.type_compiler_instance
        return compiler.process(sa_type, type_expression=c, identifier_preparer=self.preparer), collation

    def collect_enums(self, sa_type: Any, t: sa.Table) -> None:
        if self.dialect != "postgresql":
            return
        impl = _unwrap(sa_type, self.sa_dialect)
        if isinstance(impl, sa.ARRAY):
            impl = _unwrap(impl.item_type, self.sa_dialect)
        if isinstance(impl, sa.Enum) and impl.native_enum and impl.name:
            schema = self.model_schema(impl.schema)
            self.enums.setdefault((schema, impl.name), Enum(
                name=impl.name, values=tuple(impl.enums), schema=schema))

    def autoincrement(self, t: sa.Table, c: sa.Column) -> str | None:
        if self.dialect == "postgresql":
            if c.identity is not None:
                return "identity_always" if c.identity.always else "identity"
            return "sequence" if self._pg_serial(t, c) else None
        if self.dialect == "mysql":
            return "auto_increment" if self._mysql_auto_increment(t, c) else None
        return "autoincrement" if self._sqlite_autoincrement(t, c) else None

    def _pg_serial(self, t: sa.Table, c: sa.Column) -> bool:
        """PGDDLCompiler.get_column_specification's SERIAL rule."""
        default = c.default
        return bool(
            c.primary_key and c is t._autoincrement_column
            and (default is None or (isinstance(default, sa.Sequence) and default.optional))
        )

    def _mysql_auto_increment(self, t: sa.Table, c: sa.Column) -> bool:
        return bool(c is t._autoincrement_column
                    and (c.server_default is None or isinstance(c.server_default, sa.Identity)))

    def _sqlite_autoincrement(self, t: sa.Table, c: sa.Column) -> bool:
        return bool(
            c.primary_key and t.dialect_options["sqlite"]["autoincrement"]
            and len(t.primary_key.columns) == 1
            and issubclass(c.type._type_affinity, sa.Integer) and not c.foreign_keys
        )

    # -- names
    def given_name(self, const: sa.Constraint | sa.Index) -> str | None:
        """The name SQLAlchemy renders (explicit or by naming convention), else None."""
        if const.name is None:
            return None
        if const.name is _NONE_NAME:
            from sqlalchemy.sql.naming import _constraint_name_for_table

            if _constraint_name_for_table(const, const.table) is None:
                return None
        try:
            return self.preparer.format_constraint(const, _alembic_quote=False)
        except sa_exc.SQLAlchemyError as e:
            raise self.fail(const.table, "bad constraint name", e) from None

    def _fk_named(self, fk: sa.ForeignKeyConstraint) -> bool:
        return self.given_name(fk) is not None

    def pg_name(self, t: sa.Table, columns: Iterable[str], kind: str) -> str:
        """PostgreSQL's name for an unnamed constraint: index-backed ones (pkey, key) must not
        clash with relations or constraints of the schema, the others with constraints."""
        schema = self.model_schema(t.schema)
        taken = set(self.constraint_names[schema])
        if kind in ("pkey", "key"):
            taken |= self.relations[schema]
        return pg_default_name(t.name, list(columns), kind, taken)

    def note_name(self, t: sa.Table, name: str | None, relation: bool) -> None:
        if name and self.dialect == "postgresql":
            schema = self.model_schema(t.schema)
            (self.relations if relation else self.constraint_names)[schema].add(name)

    # -- keys and constraints
    def primary_key(self, t: sa.Table) -> PrimaryKey | None:
        pk = t.primary_key
        columns = tuple(c.name for c in pk.columns)
        if not columns:
            return None
        name = self.given_name(pk)
        if self.dialect == "mysql":
            name = None
        elif self.dialect == "sqlite" and any(self._sqlite_autoincrement(t, c) for c in pk.columns):
            name = None  # rendered inline as PRIMARY KEY AUTOINCREMENT, without a name
        elif name is None and self.dialect == "postgresql":
            name = self.pg_name(t, [], "pkey")
        self.note_name(t, name, relation=True)
        self.note_name(t, name, relation=False)
        return PrimaryKey(name=name, columns=columns)

    def emitted(self, const: sa.Constraint) -> bool:
        return const._should_create_for_compiler(self.ddl)

    def table_constraints(self, t: sa.Table) -> list[sa.Constraint]:
        """Constraints in the order CREATE TABLE lists them (then ALTER-added FKs)."""
        ordered = sorted(t.constraints, key=lambda c: c._creation_order)
        return [c for c in ordered if c is not t.primary_key and self.emitted(c)]

    def unique_constraints(self, t: sa.Table) -> list[Index]:
        out = []
        index_names = {"PRIMARY"}
        for const in self.table_constraints(t):
            if not isinstance(const, sa.UniqueConstraint):
                continue
            columns = [c.name for c in const.columns]
            name = self.given_name(const)
            if name is None:
                name = self._default_unique_name(t, columns, index_names)
            index_names.add(name or "")
            self.note_name(t, name, relation=True)
            self.note_name(t, name, relation=False)
            opts = const.dialect_options["postgresql"] if self.dialect == "postgresql" else {}
            out.append(Index(
                name=name, parts=tuple(build_part(self.dialect, column=c) for c in columns),
                unique=True, constraint=self.dialect != "mysql",
                nulls_not_distinct=bool(opts.get("nulls_not_distinct")),
                include=tuple(_names(opts.get("include") or ())),
                deferrable=bool(const.deferrable) and self.dialect == "postgresql",
            ))
        return out

    def _default_unique_name(self, t: sa.Table, columns: list[str], taken: set[str]) -> str | None:
        if self.dialect == "postgresql":
            return self.pg_name(t, columns, "key")
        if self.dialect == "mysql":
            return _mysql_unique_name(columns[0], taken)
        return None

    def indexes(self, t: sa.Table) -> list[Index]:
        out = []
        for ix in sorted(t.indexes, key=lambda i: str(i.name)):
            name = self.given_name(ix)
            if name is None:
                raise SourceError(f"{self.spec}: an index on {t.name} has no name",
                                  hint="name it, or give the MetaData an 'ix' naming convention")
            self.note_name(t, name, relation=True)
            out.append(self.index(ix, name))
        return out

    def index(self, ix: sa.Index, name: str) -> Index:
        opts = ix.dialect_options[_OPTION_PREFIX[self.dialect]]
        parts = tuple(self.index_part(ix, e) for e in ix.expressions)
        method, where, include, nnd = "btree", None, (), False
        if self.dialect == "postgresql":
            method = str(opts.get("using") or "btree").lower()
            include = tuple(_names(opts.get("include") or ()))
            nnd = bool(opts.get("nulls_not_distinct"))
        elif self.dialect == "mysql":
            prefix = str(opts.get("prefix") or "").lower()
            method = prefix if prefix in ("fulltext", "spatial") else "btree"
        if self.dialect in ("postgresql", "sqlite") and opts.get("where") is not None:
            where = build_where(self.sql(opts["where"]), self.dialect)
        return Index(name=name, parts=parts, unique=bool(ix.unique), method=method, where=where,
                     nulls_not_distinct=nnd, include=include)

    def index_part(self, ix: sa.Index, element: Any) -> IndexPart:
        descending, nulls_first = False, None
        inner = element
        while isinstance(inner, sa.sql.elements.UnaryExpression) and inner.modifier in _ORDERING:
            if inner.modifier is operators.desc_op:
                descending = True
            elif inner.modifier is operators.nulls_first_op:
                nulls_first = True
            elif inner.modifier is operators.nulls_last_op:
                nulls_first = False
            inner = inner.element
        plain = isinstance(inner, ColumnClause) and not inner.is_literal
        column = inner.name if plain else None
        expression = None if column is not None else self.sql(inner)
        opclass = length = None
        if self.dialect == "postgresql":
            ops = ix.dialect_options["postgresql"]["ops"] or {}
            opclass = ops.get(getattr(element, "key", None))
        elif self.dialect == "mysql":
            lengths = ix.dialect_options["mysql"]["length"]
            length = lengths.get(column) if isinstance(lengths, dict) else lengths
            nulls_first = None
        return build_part(self.dialect, column=column, expression=expression, descending=descending,
                          nulls_first=nulls_first, opclass=opclass, length=length)

    def foreign_keys(self, t: sa.Table) -> list[ForeignKey]:
        out = []
        unnamed = 0
        for fk in self.table_constraints(t):
            if not isinstance(fk, sa.ForeignKeyConstraint):
                continue
            columns = [c.name for c in fk.columns]
            try:
                ref = [e.column for e in fk.elements]
            except sa_exc.SQLAlchemyError as e:
                raise self.fail(t, "foreign key", e) from None
            name = self.given_name(fk)
            if name is None and self.dialect == "postgresql":
                name = self.pg_name(t, columns, "fkey")
            elif name is None and self.dialect == "mysql":
                unnamed += 1
                name = f"{t.name}_ibfk_{unnamed}"
            self.note_name(t, name, relation=False)
            pg = self.dialect == "postgresql"
            deferrable = bool(fk.deferrable) and self.dialect != "mysql"
            out.append(ForeignKey(
                name=name, columns=tuple(columns), ref_table=ref[0].table.name,
                ref_columns=tuple(c.name for c in ref),
                ref_schema=self.model_schema(ref[0].table.schema),
                on_delete=normalize_action(fk.ondelete, self.dialect),
                on_update=normalize_action(fk.onupdate, self.dialect),
                deferrable=deferrable,
                initially_deferred=deferrable and str(fk.initially or "").upper() == "DEFERRED",
                match_full=pg and str(fk.match or "").upper() == "FULL",
            ))
        return out

    def checks(self, t: sa.Table) -> list[Check]:
        out = []
        unnamed = 0
        for c in t.columns:  # column-level CHECKs, rendered inline
            for const in sorted(c.constraints, key=lambda k: k._creation_order):
                if isinstance(const, sa.CheckConstraint) and self.emitted(const):
                    out.append(self.check(t, const, column=c.name))
        for const in self.table_constraints(t):
            if isinstance(const, sa.CheckConstraint):
                check = self.check(t, const, column=None)
                if check.name is None and self.dialect == "mysql":
                    unnamed += 1
                    check = Check(name=f"CONSTRAINT_{unnamed}", expression=check.expression)
                out.append(check)
        return out

    def check(self, t: sa.Table, const: sa.CheckConstraint, column: str | None) -> Check:
        text = self.sql(const.sqltext)
        name = self.given_name(const)
        if name is None and self.dialect == "postgresql":
            refs = _referenced_columns(text, self.dialect)
            name = self.pg_name(t, refs if len(refs) == 1 else [], "check")
        elif name is None and self.dialect == "mysql" and column is not None:
            name = column  # MariaDB names a column-level CHECK after its column
        self.note_name(t, name, relation=False)
        return build_check(name, text, self.dialect)

    def sql(self, clause: Any) -> str:
        """A SQL expression as the dialect's DDL compiler renders it."""
        if isinstance(clause, str):
            return clause
        return self.ddl.sql_compiler.process(clause, include_table=False, literal_binds=True)


# --------------------------------------------------------------------------- helpers

_OPTION_PREFIX = {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
_ORDERING = (operators.desc_op, operators.asc_op, operators.nulls_first_op, operators.nulls_last_op)


def _name_key(name: str | None, signature: Any) -> tuple:
    return (name is None, name or "", repr(signature))


def _unwrap(sa_type: Any, dialect: Dialect) -> Any:
    """The type the dialect really creates (TypeDecorator and variants resolved)."""
    impl = sa_type.dialect_impl(dialect)
    while isinstance(impl, TypeDecorator):
        impl = impl.impl_instance.dialect_impl(dialect)
    return impl


def _names(items: Iterable[Any]) -> list[str]:
    return [i if isinstance(i, str) else i.name for i in items]


def _referenced_columns(text: str, dialect: str) -> list[str]:
    try:
        node = parse_expression(text, dialect)
    except ExpressionError:
        return []
    seen: list[str] = []
    for col in node.find_all(exp.Column):
        if col.name not in seen:
            seen.append(col.name)
    return seen


def _mysql_unique_name(first: str, taken: set[str]) -> str:
    """MySQL names an unnamed key after its first column, then `_2`, `_3` ..."""
    name, n = first, 1
    lowered = {t.lower() for t in taken}
    while name.lower() in lowered:
        n += 1
        name = f"{first}_{n}"
    return name


def _innodb_fk_indexes(t: sa.Table, pk: PrimaryKey | None, uniques: list[Index],
                       indexes: list[Index], fks: list[ForeignKey],
                       fk_named: Callable[[sa.ForeignKeyConstraint], bool]) -> list[Index]:
    """The indexes InnoDB creates for foreign keys that no index supports.

    CREATE TABLE adds one per uncovered foreign key (named after the constraint when it is
    named, else after its first column); a later CREATE INDEX that covers it drops it again.
    """
    def usable(ix: Index) -> tuple[str, ...] | None:
        if ix.method != "btree" or any(p.length or p.column is None for p in ix.parts):
            return None
        return ix.columns

    def covered(cols: tuple[str, ...], keys: list[tuple[str, ...]]) -> bool:
        return any(k[: len(cols)] == cols for k in keys)

    at_create = [k for k in [pk.columns if pk else None, *map(usable, uniques)] if k]
    explicit = at_create + [k for k in map(usable, indexes) if k]
    taken = {"PRIMARY", *(i.name for i in uniques if i.name), *(i.name for i in indexes if i.name)}
    fk_objs = sorted((c for c in t.constraints if isinstance(c, sa.ForeignKeyConstraint)),
                     key=lambda c: c._creation_order)
    named = {tuple(c.name for c in f.columns): fk_named(f) for f in fk_objs}
    autos: list[Index] = []
    for fk in fks:
        keys = at_create + [a.columns for a in autos]
        if covered(fk.columns, keys):
            continue
        base = fk.name if named.get(fk.columns) and fk.name else fk.columns[0]
        name = _mysql_unique_name(base, taken)
        taken.add(name)
        autos.append(Index(name=name, parts=tuple(IndexPart(column=c) for c in fk.columns)))
    kept = []
    for auto in autos:
        served = [fk.columns for fk in fks if auto.columns[: len(fk.columns)] == fk.columns]
        if not all(covered(cols, explicit) for cols in served):
            kept.append(auto)
    return kept
