"""The differential oracle of `planner verify` (PostgreSQL, MySQL/MariaDB): the plan against the naive migration.

A round trip that agrees with itself proves little: a trigger that cuts strings silently, or
a conversion that reads timestamps in the session's time zone, round-trips perfectly. So on
the same seeded OLD data, verify also runs the naive migration, one plain ALTER per column
whose type changes, and compares:

* where the naive ALTER refuses the seeded data (a data exception: SQLSTATE class 22 or 23 on
  PostgreSQL, MYSQL_DATA_ERRORS on MySQL), the plan must stop at a guard;
* where it refuses only the values the application wrote during the window, the plan must
  have refused those writes loudly (the trigger failing the write);
* everywhere else every value the plan leaves in NEW must equal the naive ALTER's, row by row.

On PostgreSQL the naive ALTER is `ALTER TABLE ... ALTER COLUMN ... TYPE` (Alembic's
`alter_column`, `USING col::type` only where the server has no assignment cast), inside a
transaction it rolls back, with `TimeZone = 'UTC'`. MySQL's DDL commits, so there
(`naive_results_mysql`) the tables of the converted columns are copied into a sibling database
(`<scratch>__naive`, dropped first when it is there and always dropped at the end), and each
column gets `ALTER TABLE ... MODIFY <NEW's full column definition>` (SQLAlchemy's CreateColumn)
on a session with `time_zone = '+00:00'` and a strict sql_mode; a configured backfill or enum
remap moves the rows first, as the migration a user writes would; a column with a conversion
rule is not compared (MODIFY has no USING).

The application is simulated too. Between revisions, the OLD application writes boundary
values into each converted column (the longest string its type holds, the largest number, an
instant in summer time), on a session whose time zone is not UTC (PostgreSQL `America/New_York`,
MySQL the offset `-04:00`: named zones need the server's time zone tables). After the last
revision the NEW application writes the seeded values back into those rows: the downgrade must
keep them (rows changed after the upgrade keep their current values), and the final row
checksums must then equal those taken right after seeding. (On MySQL these writes assign a
column with `ON UPDATE CURRENT_TIMESTAMP` its own value, so that they change nothing else.)

The naive ALTER runs in UTC: timestamps without a time zone (MySQL's DATETIME) are UTC (what
Prisma writes, and what planner's conversions assume, whoever runs the migration).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from planner.config import ConvertRule
from planner.model import Column, Schema, Table
from planner.normalize import quote_ident
from planner.plan.build import quoting_dialect, stored_type
from planner.rules.facts import split_type
from planner.verify.metadata import raw, to_metadata

#: the application's session time zone during verify (not UTC, with summer time)
APP_TIMEZONE = "America/New_York"
#: the same on MySQL/MariaDB, as an offset (New York's summer time): a named zone needs the
#: server's time zone tables, which are often not loaded
APP_OFFSET = "-04:00"
#: an instant in New York's summer time: 4 hours from UTC, so a zone slip shows (inside the
#: range of MySQL's TIMESTAMP, 1970-2038)
_SUMMER = dt.datetime(2024, 7, 1, 12, 0, 0)
#: MySQL/MariaDB errors that refuse the data, not the statement (SQLSTATE classes 22 and 23 on
#: PostgreSQL): NULL into NOT NULL (1048, 1138, 1263), duplicate key (1062, 1586), out of range
#: (1264, 1690), truncated or incorrect value (1265, 1292, 1366, 1367, 1411, 1525), too long
#: (1406), date overflow (1441), a foreign key (1216, 1217, 1451, 1452), MariaDB's conversion
#: overflow/truncation/bad data (1916-1918), invalid JSON (3140), a CHECK (3819 MySQL, 4025 MariaDB)
MYSQL_DATA_ERRORS = frozenset({1048, 1062, 1138, 1216, 1217, 1263, 1264, 1265, 1292, 1366, 1367, 1406, 1411,
                               1441, 1451, 1452, 1525, 1586, 1690, 1916, 1917, 1918, 3140, 3819, 4025})
_MYSQL_NAME_MAX = 64


def q(name: str) -> str:
    return quote_ident(name, "postgresql")


def qm(name: str) -> str:
    """A MySQL identifier in backticks (a backtick in it doubled)."""
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True, slots=True)
class Converted:
    """A column of a table in OLD and NEW whose type changes."""

    table: Table  # as in OLD
    old: Column
    new: Column
    new_type: sa.types.TypeEngine
    old_type: sa.types.TypeEngine
    #: the configured conversion rule (`[tool.planner.convert]`), which the naive ALTER uses too
    rule: ConvertRule | None = None
    #: NEW's column as SQLAlchemy metadata (its full definition: MySQL's naive MODIFY states it)
    new_column: sa.Column | None = None

    @property
    def name(self) -> str:
        """table.column, schema.table.column outside the default schema (the same table name in
        two schemas was one key: each was compared with the other's naive values)."""
        table = f"{self.table.schema}.{self.table.name}" if self.table.schema else self.table.name
        return f"{table}.{self.old.name}"


@dataclass(slots=True)
class Write:
    """One application write: `column` of the row with primary key `key` set to `value`."""

    target: Converted
    key: tuple[Any, ...]
    value: Any
    original: Any = None
    refused: str | None = None  # the error when the plan's database refused it
    after: bool = False  # written by the NEW application after the upgrade (not in the window)


@dataclass(slots=True)
class Naive:
    """The naive migration's result for one column: refused (the error), or the values by key."""

    refused: str | None = None
    values: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    skipped: str | None = None  # not comparable (the naive ALTER cannot even be written)


def converted_columns(old: Schema, new: Schema, convert: dict[str, ConvertRule] | None = None) -> list[Converted]:
    """Columns kept under the same name whose type changes, in tables with a primary key, with
    their configured conversion rule ("table.column" -> ConvertRule)."""
    convert = convert or {}
    md_old, md_new = to_metadata(old, extensions=False), to_metadata(new, extensions=False)
    out = []
    for t in old.tables:
        n = new.table(old.key(t.schema, t.name))
        if n is None or t.primary_key is None:
            continue
        for c in t.columns:
            nc = n.column(c.name)
            if nc is None or nc.type == c.type or c.generated or nc.generated:
                continue
            key = f"{t.schema}.{t.name}" if t.schema else t.name
            rule = convert.get(f"{old.key(t.schema, t.name)}.{c.name}")
            out.append(Converted(t, c, nc, stored_type(md_new.tables[key].c[c.name].type),
                                 stored_type(md_old.tables[key].c[c.name].type),
                                 rule, md_new.tables[key].c[c.name]))
    return out


def rule_choices(url: str, old: Schema, new: Schema, convert: dict[str, ConvertRule] | None
                 ) -> dict[tuple[str, str], list[Any]]:
    """(table key, column) -> seed values for each column converted to an enum by a rule: the
    candidates (each enum value, in lower and title case, and the rule's inverse of it) that
    the rule, run on the OLD database, turns into a value of the enum. Random text would only
    prove that the rule refuses random text."""
    from planner.load.database import parse_database_url

    out: dict[tuple[str, str], list[Any]] = {}
    targets = [c for c in converted_columns(old, new, convert) if c.rule is not None and c.rule.using and c.new.enum]
    if not targets:
        return out
    engine = sa.create_engine(parse_database_url(url).url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for c in targets:
                enum = new.enum(c.new.enum or "")
                if enum is None:
                    continue
                old_sql = c.old_type.compile(dialect=conn.dialect)
                candidates: list[str] = []
                for v in enum.values:
                    candidates += [v, v.lower(), v.title()]
                    if c.rule and c.rule.inverse:
                        back = _evaluate(conn, c.rule.inverse, c.old.name, v, "text")
                        if isinstance(back, str):
                            candidates.append(back)
                good = [x for x in dict.fromkeys(candidates)
                        if _evaluate(conn, c.rule.using, c.old.name, x, old_sql) in enum.values]
                if good:
                    out[(old.key(c.table.schema, c.table.name), c.old.name)] = good
            conn.rollback()
    finally:
        engine.dispose()
    return out


def _evaluate(conn: Connection, rule: str, column: str, value: Any, type_sql: str) -> Any:
    """`rule` (SQL over `column`) on `value` given as `type_sql`, as text; None where it fails."""
    from planner.plan import build

    sql = f"SELECT {build.rule_value(rule, column, f'CAST(:v AS {type_sql})')}::text"
    try:
        with conn.begin_nested():
            return conn.execute(sa.text(sql), {"v": value}).scalar()
    except sa_exc.DBAPIError:
        return None


#: the largest value of each integer type (PostgreSQL's and MySQL's spellings); MySQL's
#: `unsigned` ones hold twice that, plus one
_INT_MAX = {"tinyint": 127, "smallint": 32767, "mediumint": 8388607, "integer": 2147483647, "int": 2147483647,
            "bigint": 9223372036854775807}


def boundary_value(column: Column) -> Any:
    """A value of `column`'s type at the edge of what it holds, or None (no boundary known).
    Types as the model spells them on PostgreSQL (`integer`, `numeric(10,2)`, `timestamptz`)
    and on MySQL/MariaDB (`int`, `int unsigned`, `decimal(10,2)`, `datetime`, `double`)."""
    base, n, s, array = split_type(column.type)
    if array or column.enum:
        return None
    unsigned = base.endswith(" unsigned")
    base = base.removesuffix(" unsigned").strip()
    if base in ("varchar", "char", "bpchar", "character varying", "character"):
        return "w" * (n or 1)
    if base in ("text", "tinytext", "mediumtext", "longtext"):
        return "w" * (255 if base == "tinytext" else 300)
    if base in ("timestamp", "datetime"):  # (MySQL's TIMESTAMP holds 1970-2038: a 2024 instant)
        return _SUMMER
    if base == "timestamptz":
        return _SUMMER.replace(tzinfo=dt.UTC)
    if base == "date":
        return _SUMMER.date()
    if base == "tinyint" and n == 1:
        return None  # MySQL's boolean: 0 or 1 to the application, no edge to write
    if base in _INT_MAX:
        return 2 * _INT_MAX[base] + 1 if unsigned else _INT_MAX[base]
    if base in ("numeric", "decimal") and n:
        scale = s or 0
        return Decimal(10) ** (n - scale) - Decimal(1).scaleb(-scale)
    if base in ("real", "double precision", "double", "float"):
        return 123456789.125
    return None


def _pk(table: Table) -> tuple[str, ...]:
    return table.primary_key.columns if table.primary_key is not None else ()


def _unique_columns(table: Table) -> set[str]:
    used = set(_pk(table))
    for i in table.indexes:
        if i.unique:
            used.update(i.columns)
    for fk in table.foreign_keys:
        used.update(fk.columns)
    return used


def _core(table: Table, *columns: str) -> sa.TableClause:
    """The table as a SQLAlchemy clause: SQLAlchemy quotes and escapes every name."""
    return sa.table(table.name, *[sa.column(c) for c in dict.fromkeys((*_pk(table), *columns))],
                    schema=table.schema)


def _match(tbl: sa.TableClause, table: Table, key: tuple[Any, ...]) -> Any:
    return sa.and_(*[tbl.c[k] == v for k, v in zip(_pk(table), key, strict=True)])


def plan_writes(conn: Connection, targets: list[Converted]) -> list[Write]:
    """One write per converted column (not a key, not unique, no CHECK on its table): its
    boundary value into the row with the smallest primary key, remembering the seeded value."""
    out = []
    for c in targets:
        value = boundary_value(c.old)
        if value is None or c.old.name in _unique_columns(c.table) or c.table.checks:
            continue
        tbl = _core(c.table, c.old.name)
        keys = [tbl.c[k] for k in _pk(c.table)]
        row = conn.execute(sa.select(*keys, tbl.c[c.old.name]).order_by(*keys).limit(1)).first()
        if row is None:
            continue
        out.append(Write(c, tuple(row[:-1]), value, original=row[-1]))
    return out


def backfill_writes(conn: Connection, old: Schema, new: Schema, backfilled: list[tuple[str, str]]) -> list[Write]:
    """For each configured backfill of a column OLD has (NOT NULL set by the plan): the row
    with the smallest key holding NULL. After the upgrade the NEW application writes another
    row's value there; the downgrade must keep it (only rows still holding what the backfill
    wrote get their NULL back)."""
    out = []
    for table_key, column in backfilled:
        t, n = old.table(table_key), new.table(table_key)
        col = t.column(column) if t else None
        if t is None or n is None or col is None or n.column(column) is None or t.primary_key is None \
                or column in _unique_columns(t) or t.checks:
            continue
        tbl = _core(t, column)
        keys = [tbl.c[k] for k in _pk(t)]
        row = conn.execute(sa.select(*keys).where(tbl.c[column].is_(None)).order_by(*keys).limit(1)).first()
        if row is None:
            continue
        # the column keeps its type: no conversion to describe
        target = Converted(t, col, n.column(column), sa.types.NullType(), sa.types.NullType())
        out.append(Write(target, tuple(row), None, original=None, after=True))
    return out


def fill_after_upgrade(conn: Connection, write: Write) -> str | None:
    """The NEW application's write into a backfilled row: another row's value, or None (no
    other value to take); the error when the database refuses it."""
    t, column = write.target.table, write.target.old.name
    tbl = _core(t, column)
    current = read_value(conn, write)
    # an untyped parameter: the server reads it as the column's type (a VARCHAR one has no
    # operator against an enum column)
    other = conn.execute(sa.select(tbl.c[column]).where(tbl.c[column].is_not(None))
                         .where(tbl.c[column].is_distinct_from(sa.bindparam(None, current, sa.types.NullType())))
                         .limit(1)).scalar()
    if other is None:
        return "no other value to write"
    write.value = other
    return apply_write(conn, write, other)


def apply_write(conn: Connection, write: Write, value: Any, column: str | None = None,
                type_: sa.types.TypeEngine | None = None) -> str | None:
    """UPDATE the write's row (in a savepoint), `value` bound as `type_` when given (a value of
    the new type written back: a Python str read from jsonb must be sent as JSON); the
    database's error (one line) when it refuses, else None."""
    name = column or write.target.old.name
    keep = [k for k in _on_update_columns(conn, write.target.table) if k != name]
    tbl = _core(write.target.table, name, *keep)
    bound = value if type_ is None else sa.literal(value, type_)
    try:
        with conn.begin_nested():
            conn.execute(sa.update(tbl).where(_match(tbl, write.target.table, write.key))
                         .values({name: bound, **{k: tbl.c[k] for k in keep}}))
    except sa_exc.DBAPIError as e:
        return _first_line(e)
    return None


def _on_update_columns(conn: Connection, table: Table) -> list[str]:
    """The live table's MySQL `ON UPDATE CURRENT_TIMESTAMP` columns: verify's writes assign
    them their own value (then MySQL and MariaDB leave them), so that a write and the write of
    the seeded value back leave the row as seeded (the checksums compare every column)."""
    if conn.dialect.name != "mysql":
        return []
    return list(conn.execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = :t AND LOWER(extra) LIKE '%on update%' ORDER BY ordinal_position"),
        {"t": table.name}).scalars())


def read_value(conn: Connection, write: Write) -> Any:
    """The current value of the write's column in its row."""
    tbl = _core(write.target.table, write.target.old.name)
    return conn.execute(sa.select(tbl.c[write.target.old.name])
                        .where(_match(tbl, write.target.table, write.key))).scalar()


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _sqlstate(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def _values(conn: Connection, table: Table, column: str) -> dict[tuple[Any, ...], Any]:
    tbl = _core(table, column)
    rows = conn.execute(sa.select(*[tbl.c[k] for k in _pk(table)], tbl.c[column])).fetchall()
    return {tuple(r[:-1]): r[-1] for r in rows}


def naive_results(engine: sa.Engine, targets: list[Converted], writes: list[Write],
                  extensions: tuple[str, ...] = (), *, enum_remap: dict[str, str] | None = None,
                  backfill: dict[str, str] | None = None) -> dict[str, Naive]:
    """Each converted column's naive ALTER on the current data plus `writes` (those given),
    in one transaction rolled back at the end, under TimeZone UTC; the `extensions` NEW needs
    are created in it first, as the naive migration would (where the server offers them).
    On MySQL/MariaDB (DDL commits) it runs on copies of the tables in a sibling database,
    dropped at the end (`naive_results_mysql`; `enum_remap` and `backfill` are the plan's
    configuration, which the naive migration applies first as a user would)."""
    if engine.dialect.name == "mysql":
        return naive_results_mysql(engine, targets, writes, enum_remap=enum_remap, backfill=backfill)
    out: dict[str, Naive] = {}
    with engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
            # the views go first, as in the migration a user writes (PostgreSQL refuses to
            # change the type of a column a view reads); all of it is rolled back at the end
            conn.exec_driver_sql(
                "DO $planner$ DECLARE r record; BEGIN FOR r IN SELECT quote_ident(s.nspname) || '.' || "
                "quote_ident(c.relname) AS n, c.relkind "
                "FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') "
                "AND s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg\\_%' "
                "LOOP EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.relkind WHEN 'm' THEN "
                "'MATERIALIZED VIEW' ELSE 'VIEW' END, r.n); END LOOP; END $planner$",
                execution_options={"no_parameters": True})
            for name in extensions:
                try:
                    with conn.begin_nested():
                        raw(conn, f"CREATE EXTENSION IF NOT EXISTS {q(name)}")
                except sa_exc.DBAPIError:
                    pass  # not offered: the ALTERs that need it fail, and say so
            for w in writes:
                apply_write(conn, w, w.value)
            operations = Operations(MigrationContext.configure(conn))
            for c in targets:  # a new enum the naive ALTER converts to is created with it
                if c.new.enum and hasattr(c.new_type, "create"):
                    with conn.begin_nested():
                        if getattr(c.new_type, "schema", None):  # (in a schema NEW adds, as the plan does)
                            raw(conn, f"CREATE SCHEMA IF NOT EXISTS {q(c.new_type.schema)}")
                        c.new_type.create(conn, checkfirst=True)
            for c in targets:
                out[c.name] = _naive_one(conn, operations, c)
            conn.rollback()
    return out


def naive_using(c: Converted, new_sql: str) -> str | None:
    """The USING a user states with a conversion rule: the rule itself (assigned to the new
    type, an enum through its text), or the column read in the rule's time zone."""
    from planner.plan import build

    if c.rule is None:
        return None
    if c.rule.using:
        return build.assigned(build.rule_value(c.rule.using, c.old.name, None), c.new, new_sql)
    return build.converted(q(c.old.name), c.old, c.new, new_sql, zone_name=c.rule.timezone or "UTC")


def _naive_one(conn: Connection, operations: Operations, c: Converted) -> Naive:
    # quoted as given: a schema named `a.b` is one name (Alembic split it: ALTER TABLE a.b.c)
    schema = sa.sql.quoted_name(c.table.schema, quote=True) if c.table.schema else None
    new_sql = c.new_type.compile(dialect=conn.dialect)
    ruled = naive_using(c, new_sql)
    candidates = (ruled,) if ruled is not None else (None, f"{q(c.old.name)}::{new_sql}")
    for using in candidates:
        try:
            with conn.begin_nested():
                if ruled is not None and c.old.default is not None:
                    # the old default may not convert: the migration a user writes drops it first
                    operations.alter_column(c.table.name, c.old.name, schema=schema, server_default=None,
                                            existing_type=c.old_type)
                operations.alter_column(c.table.name, c.old.name, schema=schema, type_=c.new_type,
                                        existing_type=c.old_type, postgresql_using=using)
                return Naive(values=_values(conn, c.table, c.old.name))
        except sa_exc.DBAPIError as e:
            state = _sqlstate(e)
            if state[:2] in ("22", "23"):
                return Naive(refused=_first_line(e))
            if state == "42804" and using is None and ruled is None:
                continue  # no assignment cast: the USING a user would write
            return Naive(skipped=_first_line(e))
    return Naive(skipped="no naive ALTER")


def sibling_name(database: str) -> str:
    """The database the MySQL naive migration runs in: `<database>__naive`, the database's
    name cut and a hash of it added where that would pass MySQL's 64 characters."""
    name = f"{database}__naive"
    if len(name) <= _MYSQL_NAME_MAX:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    return f"{database[:_MYSQL_NAME_MAX - len(digest) - 8]}_{digest}__naive"


def _mysql_errno(e: BaseException) -> int | None:
    args = getattr(getattr(e, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def naive_results_mysql(engine: sa.Engine, targets: list[Converted], writes: list[Write], *,
                        enum_remap: dict[str, str] | None = None,
                        backfill: dict[str, str] | None = None) -> dict[str, Naive]:
    """The naive migration on MySQL/MariaDB, whose DDL commits (no transaction to roll back):
    in a sibling database (`sibling_name`, dropped first if it is there, and always dropped at
    the end), each table of a converted column is copied (`CREATE TABLE .. LIKE`, then its
    rows: the copy has no foreign keys and no triggers), `writes` are applied to the copies on
    a session in the application's zone (`APP_OFFSET`, as the application wrote them), then on
    a session with `time_zone = '+00:00'` and a strict sql_mode (the server's, plus
    STRICT_TRANS_TABLES where it has no strict mode) each converted column gets one
    `ALTER TABLE .. MODIFY <NEW's full column definition>` (as SQLAlchemy compiles NEW's column),
    after the rows a configured backfill or enum remap moves are moved, and its values are read
    back by primary key. A data error (MYSQL_DATA_ERRORS) is a refusal, any other a skip."""
    database = engine.url.database or ""
    sibling = sibling_name(database)
    out: dict[str, Naive] = {}
    tables = {id(c.table): c.table for c in targets if _modify_states(c.rule)}
    for c in targets:
        if not _modify_states(c.rule):
            out[c.name] = Naive(skipped="a conversion rule: MySQL's MODIFY has no USING to state it")
    if not tables:
        return out
    created = False
    try:
        with engine.connect() as conn:
            raw(conn, f"DROP DATABASE IF EXISTS {qm(sibling)}")
            created = True  # (from here on it may exist: the end drops it)
            charset, collation = conn.execute(sa.text(
                "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata "
                "WHERE schema_name = DATABASE()")).one()
            raw(conn, f"CREATE DATABASE {qm(sibling)} CHARACTER SET {charset} COLLATE {collation}")
            for t in tables.values():
                raw(conn, f"CREATE TABLE {qm(sibling)}.{qm(t.name)} LIKE {qm(database)}.{qm(t.name)}")
                names = ", ".join(qm(c.name) for c in t.columns if not c.generated)
                raw(conn, f"INSERT INTO {qm(sibling)}.{qm(t.name)} ({names}) SELECT {names} "
                          f"FROM {qm(database)}.{qm(t.name)}")
            conn.commit()
        copy = sa.create_engine(engine.url.set(database=sibling), poolclass=sa.pool.NullPool)
        try:
            with copy.connect() as conn:
                if writes:
                    raw(conn, f"SET time_zone = '{APP_OFFSET}'")
                    for w in writes:
                        if id(w.target.table) in tables:
                            apply_write(conn, w, w.value)
                    conn.commit()
                raw(conn, "SET time_zone = '+00:00'")
                mode = conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar() or ""
                if "STRICT_TRANS_TABLES" not in mode and "STRICT_ALL_TABLES" not in mode:
                    conn.execute(sa.text("SET SESSION sql_mode = :m"),
                                 {"m": ",".join(x for x in (mode, "STRICT_TRANS_TABLES") if x)})
                for c in targets:
                    if _modify_states(c.rule):
                        out[c.name] = _naive_mysql_one(conn, c, enum_remap or {}, backfill or {})
                conn.commit()
        finally:
            copy.dispose()
    except sa_exc.DBAPIError as e:  # no sibling database (no privilege to create one ...)
        why = f"no naive run in a sibling database {sibling!r}: {_first_line(e)}"
        for c in targets:
            out.setdefault(c.name, Naive(skipped=why))
    finally:
        if created:
            with engine.connect() as conn:
                raw(conn, f"DROP DATABASE IF EXISTS {qm(sibling)}")
    return out


def _modify_states(rule: ConvertRule | None) -> bool:
    """Whether a plain MODIFY can state the conversion `rule`: none, or a time zone alone (the
    session's time_zone, which a MODIFY reads DATETIME values in)."""
    return rule is None or (not rule.using and not rule.inverse and bool(rule.timezone))


def _naive_mysql_one(conn: Connection, c: Converted, enum_remap: dict[str, str], backfill: dict[str, str]) -> Naive:
    """One converted column's naive MODIFY on its copy (see naive_results_mysql)."""
    if c.new_column is None:
        return Naive(skipped="NEW's column is unknown")
    table, column = qm(c.table.name), qm(c.old.name)
    definition = str(sa.schema.CreateColumn(c.new_column).compile(dialect=quoting_dialect("mysql")))
    key = f"{c.table.name}.{c.old.name}"
    try:
        # what the plan is told to do with the rows first, the naive migration does too
        moves = {k[len(key) + 1:]: v for k, v in enum_remap.items() if k.startswith(key + ".")}
        targets = list(getattr(c.old_type, "enums", None) or ())
        missing = [v for v in dict.fromkeys(moves.values()) if v not in targets]
        if moves and missing:
            return Naive(skipped=f"enum values remapped to values OLD does not have ({', '.join(missing)})")
        for old_value, new_value in moves.items():
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                         {"new": new_value, "old": old_value})
        if key in backfill:
            raw(conn, f"UPDATE {table} SET {column} = ({backfill[key]}) WHERE {column} IS NULL")
        if c.rule is not None and c.rule.timezone:  # the column's wall-clock zone, for this MODIFY
            conn.execute(sa.text("SET time_zone = :z"), {"z": c.rule.timezone})
        try:
            raw(conn, f"ALTER TABLE {table} MODIFY {definition}")
        finally:
            raw(conn, "SET time_zone = '+00:00'")
    except sa_exc.DBAPIError as e:
        conn.rollback()
        if _mysql_errno(e) in MYSQL_DATA_ERRORS:
            return Naive(refused=_first_line(e))
        return Naive(skipped=_first_line(e))
    conn.commit()
    return Naive(values=_values(conn, c.table, c.old.name))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return a == b


def compare(engine: sa.Engine, targets: list[Converted], naive: dict[str, Naive], limit: int = 3) -> list[str]:
    """Rows where the plan's NEW values differ from the naive ALTER's."""
    out = []
    with engine.connect() as conn:
        if conn.dialect.name == "mysql":  # TIMESTAMP values read as the naive run read them
            raw(conn, "SET time_zone = '+00:00'")
        for c in targets:
            result = naive.get(c.name)
            if result is None or result.refused or result.skipped:
                continue
            mine = _values(conn, c.table, c.old.name)
            diffs = [k for k in _sorted(result.values.keys() | mine.keys())
                     if not _same(mine.get(k), result.values.get(k))]
            for k in diffs[:limit]:
                out.append(f"{c.name} {c.old.type} -> {c.new.type}, key {_key(k)}: the plan gives "
                           f"{show(mine.get(k))}, the naive ALTER {show(result.values.get(k))}")
            if len(diffs) > limit:
                out.append(f"{c.name}: {len(diffs) - limit} more rows differ")
    return out


def _sorted(keys: set[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    try:
        return sorted(keys)
    except TypeError:  # NULL or mixed types in a key
        return sorted(keys, key=repr)


def show(value: Any) -> str:
    """A value for a message: instants in ISO form, long strings cut with their length."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 24:
        return repr(value[:20] + "...") + f" ({len(value)} chars)"
    return repr(value)


def _key(key: tuple[Any, ...]) -> str:
    return ", ".join(repr(k) for k in key) if len(key) != 1 else repr(key[0])


@contextmanager
def app_connection(engine: sa.Engine) -> Iterator[Connection]:
    """A connection as the application's: autocommit writes on a non-UTC session."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            raw(conn, f"SET TimeZone = '{APP_TIMEZONE}'")
            conn.commit()
        elif conn.dialect.name == "mysql":
            raw(conn, f"SET time_zone = '{APP_OFFSET}'")
            conn.commit()
        yield conn
        conn.commit()


__all__ = ["APP_OFFSET", "APP_TIMEZONE", "MYSQL_DATA_ERRORS", "Converted", "Naive", "Write", "apply_write", "app_connection", "backfill_writes", "fill_after_upgrade", "boundary_value",
           "compare", "converted_columns", "naive_results", "naive_results_mysql", "plan_writes", "read_value", "show",
           "sibling_name"]
