"""Changes -> staged steps (PostgreSQL): the recipes of ddl-safety.md §4 as code.

Each change becomes one or more `Step`s in the expand, backfill or contract phase, with its
upgrade and its downgrade. Alembic op objects are built and rendered by Alembic's own
renderer; `op.execute` is used only where Alembic has no op (VALIDATE CONSTRAINT, ADD
CONSTRAINT ... USING INDEX, ALTER TYPE, backups). Destructive steps back up what they
destroy into the `planner_backup` schema, and their downgrades restore it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import AddConstraint, CreateIndex

from planner.changes import Change, Diff, Kind
from planner.config import ConvertRule
from planner.diff import apply_renames
from planner.errors import PlannerError
from planner.model import (
    Column,
    Enum,
    ForeignKey,
    Index,
    IndexPart,
    PrimaryKey,
    Schema,
    Table,
    qualify,
    split_key,
)
from planner.naming import clip_bytes
from planner.normalize import quote_ident, quoted_expression
from planner.plan.ir import Block, Guard, Phase, Plan, Stage, Step
from planner.plan.runtime import constant
from planner.renames import Renames
from planner.rules.facts import binary_coercible, round_trips, rounds, split_type, zone_kind

BACKUP_SCHEMA = "planner_backup"
#: MySQL and SQLite have no schema for backups: planner's tables carry this prefix instead
BACKUP_TABLE_PREFIX = "planner_backup__"
#: compiles SQL text as the server reads it (named paramstyle: no `%` doubled for a DBAPI)
_PG = postgresql.dialect(paramstyle="named")
#: the renderer's dialect: PostgreSQL types (ARRAY item types, ENUM) render with their prefixes
_CONTEXTS = {d: MigrationContext.configure(dialect_name=d) for d in ("postgresql", "mysql", "sqlite")}


class PlanError(PlannerError):
    """A change planner cannot stage safely (the message says which and why)."""


def q(name: str) -> str:
    return quote_ident(name, "postgresql")


def _split(key: str) -> tuple[str | None, str]:
    return split_key(key)


def qt(key: str) -> str:
    schema, name = _split(key)
    return f"{q(schema)}.{q(name)}" if schema else q(name)


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def py(text: str) -> str:
    """A Python string literal for generated code."""
    return repr(text)


def quoting_dialect(name: str) -> sa.engine.Dialect:
    """A dialect that quotes every identifier it compiles (SQLAlchemy quotes only where needed;
    generated SQL quotes every identifier)."""
    dialect = _CONTEXTS[name].dialect.__class__(paramstyle="named")  # no `%` doubled for a DBAPI
    preparer = type(dialect.identifier_preparer)

    class QuoteEveryName(preparer):  # type: ignore[valid-type, misc]
        def quote(self, ident: str, force: object = None) -> str:
            return self.quote_identifier(ident)

    dialect.identifier_preparer = QuoteEveryName(dialect)
    return dialect


def _render_item(dialect: str):  # noqa: ANN202
    def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
        """Types SQLAlchemy has no class for render as the runtime's `rt.RawType('...')`, so
        a revision never imports planner."""
        if type_ == "type" and not type(obj).__module__.startswith("sqlalchemy"):
            spelled = obj.compile(dialect=_CONTEXTS[dialect].dialect)  # type: ignore[attr-defined]
            base = getattr(obj, "base", None)
            if isinstance(base, sa.Integer) and base.compile(dialect=_CONTEXTS[dialect].dialect) == spelled:
                # an integer spelled as SQLAlchemy spells it (SQLite's INTEGER PRIMARY KEY):
                # its own type keeps the integer affinity AUTOINCREMENT needs
                return f"sa.{type(base).__name__}()"
            return f"rt.RawType({spelled!r})"
        if type_ == "foreign_key":
            return _render_foreign_key(obj)  # type: ignore[arg-type]
        return False
    return render_item


def _render_foreign_key(fk: sa.ForeignKeyConstraint) -> str | bool:
    """A foreign key of a new table, its referenced columns given as columns (`rt.refs`, whose
    names SQLAlchemy always quotes) instead of "table.column" strings (which it parses into
    plain names and quotes only where it must)."""
    try:
        targets = [e.column for e in fk.elements]
    except sa.exc.SQLAlchemyError:
        return False
    tables = {t.table for t in targets}
    if len(tables) != 1:
        return False
    table = targets[0].table
    refs = ", ".join(py(t.name) for t in [table, *targets])
    args = [f"[{', '.join(py(e.parent.name) for e in fk.elements)}]",
            f"rt.refs({refs}{', schema=' + py(table.schema) if table.schema else ''})"]
    if fk.name:
        args.append(f"name={py(fk.name)}")
    for option in ("onupdate", "ondelete", "deferrable", "initially", "match"):
        value = getattr(fk, option)
        if value is not None:
            args.append(f"{option}={value!r}")
    return f"sa.ForeignKeyConstraint({', '.join(args)})"


def render(op_list: Iterable[ops.MigrateOperation], dialect: str = "postgresql") -> str:
    """Alembic's renderer, without its banner comments and indentation."""
    text = render_python_code(ops.UpgradeOps(ops=list(op_list)), sqlalchemy_module_prefix="sa.",
                              alembic_module_prefix="op.", render_item=_render_item(dialect),
                              migration_context=_CONTEXTS[dialect])
    lines = [ln for ln in text.splitlines() if "### " not in ln]
    return textwrap.dedent("\n".join(lines)).strip()


def with_kw(rendered: str, **kw: str) -> str:
    """Add keyword arguments Alembic's renderer leaves out (e.g. `postgresql_using`) to a
    rendered single `op.*(...)` call."""
    assert rendered.endswith(")"), rendered
    extra = "".join(f",\n               {k}={py(v)}" for k, v in kw.items())
    return rendered[:-1] + extra + ")"


def execute(sql: str) -> str:
    """A revision statement that runs `sql` as written (the runtime's `_sql`: no bind-parameter
    parsing, no `%` escaping, so a `:name` or `%` in an identifier stays what it is)."""
    return f"rt.sql({py(sql)})"


def dollar_quote(body: str) -> str:
    """`body` in PostgreSQL dollar quotes with a tag it cannot end early (no name in the body
    can close the quote)."""
    tag, n = "$planner$", 0
    while (body + tag).find(tag) != len(body):
        n += 1
        tag = f"$planner{n}$"
    return tag + body + tag


def _mentions(column: str, quote: str = '"') -> re.Pattern[str]:
    """Where SQL text names `column`: bare (not part of a longer word or quoted name) or quoted
    (`quote`: MySQL's is the backtick)."""
    q_ = re.escape(quote)
    return re.compile(rf"(?<![\w{q_}]){re.escape(column)}(?![\w{q_}])|"
                      rf"{q_}{re.escape(column.replace(quote, quote * 2))}{q_}")


def _own_rows(fills: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(column, expression) of batches that fill several columns, each (column, expression,
    condition) only on the rows of its own condition: the batch selects a row when one of them
    holds, and another column of that row keeps what it has (a value restored from a backup)."""
    if len(fills) == 1:
        return [fills[0][:2]]
    return [(col, f"CASE WHEN {cond} THEN {expr} ELSE {q(col)} END") for col, expr, cond in fills]


def _any(conditions: list[str]) -> str:
    """SQL true where one of `conditions` is."""
    return conditions[0] if len(conditions) == 1 else " OR ".join(f"({x})" for x in conditions)


@dataclasses.dataclass(frozen=True)
class _Swapped:
    """One column of an R8 swap: its change, types, and the names the swap gives its copies."""

    c: Change
    old_t: sa.types.TypeEngine
    new_t: sa.types.TypeEngine
    new_sql: str
    old_sql: str
    col: str
    #: the new column until the swap
    tmp: str
    #: the old column again, on the way back
    back: str
    #: the trigger (and function) that keeps tmp in step, and back on the way back
    fn: str
    back_fn: str


def note_kept(table: str) -> str:
    """PostgreSQL: what a swap of columns of `table` drops that the model does not hold and the
    naive ALTER ... TYPE keeps (the comments of the table's indexes and constraints and of the
    keys that reference it), noted for the transaction before the swap's locks and set again
    after it (restore_kept). Without it an R8 swap lost them."""
    return f"rt.note_kept({py(qt(table))})"


def views_kept(table: str, columns: Iterable[str], code: Iterable[str]) -> str:
    """`code` (statements) run inside `rt.views_kept`: the views that read `columns` of `table`
    dropped before it and created again after it as they were (PostgreSQL refuses to change
    the type of a column a view reads, or to drop it)."""
    return (f"with rt.views_kept({', '.join(py(x) for x in (qt(table), *columns))}):\n"
            + textwrap.indent("\n".join(code), "    "))


def restore_kept() -> str:
    return "rt.restore_kept()"


def backfill_call(head: str, tail: str = "") -> str:
    """The runtime's `rt.backfill(head, tail)`: `head` BATCH_SIZE `tail`, repeated until no row changes."""
    return f"rt.backfill({py(head)}{', ' + py(tail) if tail else ''})"


def keyset_call(table: str, keys: Iterable[str], assignment: str, cond: str = "", *, source: str = "",
                what: str = "", verb: str = "backfill") -> str:
    """The runtime's `rt.keyset(...)` (MySQL/MariaDB, SQLite): a batched UPDATE by primary-key
    range. `table`, `keys`, `assignment`, `cond` and `source` are SQL (quoted names)."""
    args = [py(table), py(list(keys)), py(assignment)] + ([py(cond)] if cond else [])
    args += [f"{k}={py(v)}" for k, v in (("source", source), ("what", what)) if v]
    args += [f"verb={py(verb)}"] if verb != "backfill" else []
    return f"rt.keyset({', '.join(args)})"


#: the most rows a backfill batch updates, and the time it is sized to take (the runtime's defaults)
BATCH_ROWS, BATCH_MS = int(constant("BATCH_SIZE")), int(constant("BATCH_MS"))
LOCK_RETRIES = int(constant("LOCK_RETRIES"))


def stored_type(type_: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """The type a column stores: `serial`/`bigserial`/`smallserial` spellings (metadata of a
    serial column outside the primary key) are their integer type."""
    base = getattr(type_, "base", None)
    if base is not None and str(getattr(type_, "spelling", "")).lower().endswith("serial"):
        return base
    return type_


def _pct(sql: str) -> str:
    """`sql` as literal text of a PL/pgSQL format() string (a `%` in a name doubled)."""
    return sql.replace("%", "%%")


#: the generators R8's swap hands from the old column to the new one
_SWAP_GENERATORS = ("sequence", "identity", "identity_always")


def _serial_sequence_as(table: str, column: str, type_sql: str) -> str:
    """SQL that gives the sequence owned by serial column `table.column` the type `type_sql`."""
    sequence = f"pg_get_serial_sequence({lit(qt(table))}, {lit(column)})"
    alter = lit(f"ALTER SEQUENCE %s AS {type_sql}")
    return "DO " + dollar_quote(f" BEGIN EXECUTE format({alter}, {sequence}); END ")


def _keyset_backfill(table: str, pk: tuple[str, ...], assignment: str, cond: str, what: str,
                     record: tuple[str, str] | None = None, source: str | None = None,
                     verb: str = "backfill", quiet: bool = True) -> str:
    """A PL/pgSQL block that walks `table` by primary-key ranges (an index range scan each)
    and updates the rows of each range that match `cond`, committing after every batch (it
    runs outside any transaction) and reporting progress as a NOTICE.

    A batch holds its rows' locks until it commits, so an application write to one of them
    waits for the whole batch: the batch size adapts to take about `planner.batch_ms` (the
    runtime sets it, -x batch_ms), from 500 rows up to `planner.batch_rows` (-x batch_rows),
    halving at most or doubling at most per batch; without those settings (the block run by
    hand) the runtime's defaults, written in.

    `record` = (backup table, quoted; the updated column): each batch also stores, in the
    same statement, the value it wrote into the backup's FILLED column of the same key, so a
    downgrade can tell the backfill's values from the application's.

    `source` (a relation, quoted, with the same key columns: a backup): the block walks its
    keys instead and updates the rows of `table` (alias `t`) joined to it (alias `b`), so
    `assignment` and `cond` can read `b`. `verb` names the work in progress and errors.

    Written one statement a line, indented by block (the revision shows it as one indented
    SQL block)."""
    keys = ", ".join(q(k) for k in pk)
    desc = ", ".join(f"{q(k)} DESC" for k in pk)
    last = [f"planner_last_{i}" for i in range(len(pk))]
    hi = [f"planner_hi_{i}" for i in range(len(pk))]
    walked = source or qt(table)

    def ranges(prefix: str) -> tuple[str, str]:
        row = "(" + ", ".join(prefix + q(k) for k in pk) + ")"
        return f"{row} > ({', '.join(last)})", f"{row} <= ({', '.join(hi)})"

    after, upto = ranges("")
    # the update's ranges: over the walked relation's keys (`b`) when it joins one
    u_after, u_upto = ranges("b.") if source is not None else (after, upto)

    def bound(where: str) -> list[str]:
        return [f"SELECT {keys} INTO {', '.join(hi)} FROM (",
                f"    SELECT {keys} FROM {walked}{where} ORDER BY {keys} LIMIT planner_batch",
                f") planner_s ORDER BY {desc} LIMIT 1;"]

    def update(where: str) -> list[str]:
        if source is not None:
            on = " AND ".join(f"t.{q(k)} = b.{q(k)}" for k in pk)
            return [f"UPDATE {qt(table)} AS t SET {assignment} FROM {source} AS b",
                    f"WHERE {where} AND {on}{f' AND ({cond})' if cond else ''};"]
        if record is None:
            return [f"UPDATE {qt(table)} SET {assignment}", f"WHERE {where} AND ({cond});"]
        backup, column = record
        on = " AND ".join(f"b.{q(k)} = planner_u.{q(k)}" for k in pk)
        return ["WITH planner_u AS (",
                f"    UPDATE {qt(table)} SET {assignment}",
                f"    WHERE {where} AND ({cond})",
                f"    RETURNING {keys}, {q(column)}",
                f") UPDATE {backup} AS b SET {q(FILLED)} = planner_u.{q(column)}",
                f"FROM planner_u WHERE {on};"]

    loop = ["IF planner_first THEN", *_indented(bound("")),
            "ELSE", *_indented(bound(f" WHERE {after}")),
            "END IF;",
            "EXIT WHEN NOT FOUND;"]
    attempt = ["IF planner_first THEN", *_indented(update(u_upto)),
               "ELSE", *_indented(update(f"{u_after} AND {u_upto}")),
               "END IF;"]
    advance = [*[f"{a} := {b};" for a, b in zip(last, hi, strict=True)], "planner_first := false;"]
    declare = [f"{v} {qt(table)}.{q(k)}%TYPE;" for vs in (last, hi) for v, k in zip(vs, pk, strict=True)]
    declare += ["planner_first boolean := true;", "planner_batch integer := least(500, planner_max);"]
    return _batch_block(declare, [], loop, attempt, advance, "planner_batch", what, verb,
                        rewrites=qt(table) if quiet else None)


def _indented(lines: list[str]) -> list[str]:
    return ["    " + ln for ln in lines]


def _batch_block(declare: list[str], before: list[str], head: list[str], attempt: list[str], advance: list[str],
                 size: str, what: str, verb: str, after: list[str] = (), rewrites: str | None = None) -> str:
    """The `rt.batched(...)` call of a PL/pgSQL block that runs batches in a loop outside any
    transaction: `head` (in the loop: finds the next batch, EXITs when there is none),
    `attempt` (the batch's UPDATE), then `advance` once it is committed. `size` is the variable
    the batch size is in (rows or pages), adapted after each batch to take about
    `planner.batch_ms`: at most halved or doubled, at most `planner_max` (from
    `planner.batch_rows`; scale it in `declare` where it counts other things). A batch behind a
    row lock held longer than the lock timeout is rolled back (its subtransaction), committed
    out of and tried again at half the size after a jittered pause, holding nothing meanwhile;
    bounded by lock_retries attempts, then the block stops in one line. `before` runs once
    before the loop, `after` once after it. Progress as a NOTICE after each batch."""
    def setting(name: str, pg_type: str, default: object) -> str:
        return f"coalesce(nullif(current_setting('planner.{name}', true), '')::{pg_type}, {default})"

    gave_up = [lit(f"planner {verb} {what}: "),
               "|| " + lit("rows of the next batch stayed locked by another transaction through "),
               "|| planner_waits || " + lit(" attempts (lock timeout each); nothing of that batch was"),
               "|| " + lit(" written, the batches before it are kept: run the revision again once"),
               "|| " + lit(" that transaction ends") + ";"]
    loop = [*head,
            "planner_started := clock_timestamp();",
            "BEGIN",
            *_indented([*attempt, "GET DIAGNOSTICS planner_n = ROW_COUNT;"]),
            "EXCEPTION WHEN lock_not_available OR deadlock_detected THEN",
            "    planner_n := -1;",
            "END;",
            "IF planner_n < 0 THEN",
            *_indented(["planner_waits := planner_waits + 1;",
                        "IF planner_waits >= planner_tries THEN",
                        f"    RAISE EXCEPTION USING MESSAGE = {gave_up[0]}",
                        *(f"        {part}" for part in gave_up[1:]),
                        "END IF;",
                        f"{size} := greatest(1, {size} / 2);",
                        "COMMIT;",
                        "PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));",
                        "CONTINUE;"]),
            "END IF;",
            "planner_waits := 0;",
            "planner_total := planner_total + planner_n;",
            *advance,
            "COMMIT;",
            "planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);",
            f"{size} := greatest(1, least(planner_max, 2 * {size}, greatest({size} / 2,",
            f"    ({size} * planner_ms / greatest(planner_took, 1))::integer)));",
            f"RAISE NOTICE USING MESSAGE = {lit(f'planner {verb} {what}: ')} || planner_total || ' rows';"]
    body = ["DECLARE",
            *_indented(["planner_n bigint := 0;", "planner_total bigint := 0;",
                        f"planner_max integer := {setting('batch_rows', 'integer', BATCH_ROWS)};",
                        f"planner_ms double precision := {setting('batch_ms', 'double precision', BATCH_MS)};",
                        f"planner_tries integer := {setting('lock_retries', 'integer', LOCK_RETRIES)};",
                        "planner_waits integer := 0;",
                        "planner_started timestamptz;",
                        "planner_took double precision;", *declare]),
            "BEGIN",
            *_indented([*before, "LOOP", *_indented(loop), "END LOOP;", *after]),
            "END"]
    # `rewrites`: the table whose rows the batches rewrite as DDL would, firing none of its
    # triggers (rt.batched runs them with session_replication_role = replica where it may)
    tail = f", rewrites={py(rewrites)}" if rewrites else ""
    return f"rt.batched({py('DO ' + dollar_quote(chr(10) + chr(10).join(body) + ' '))}{tail})"


def _page_backfill(table: str, assignment: str, cond: str, what: str, quiet: bool = True) -> str:
    """The batched UPDATE of a table without a primary key: on PostgreSQL 14 and later it walks
    the pages the table had when it started (its largest partition's, when it is partitioned),
    a range of them per batch (`ctid` ranges: a TID range scan each, so the table is read once; the batch is sized in pages, ~50 rows each at
    first, adapted like any batch); then, on every version, `ctid IN (SELECT ctid ... WHERE cond
    LIMIT n)` batches until no row is left (before 14 that is all of it: each such batch reads
    again the rows done before it; after the walk, the rows written meanwhile)."""
    tbl = qt(table)
    # (tableoid too: the partitions of a partitioned table repeat each other's ctids, and a row
    # of one must not be updated for another's; the condition again for a row changed since)
    rest = [f"UPDATE {tbl} SET {assignment} WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM {tbl} "
            f"WHERE {cond} LIMIT planner_rows) AND ({cond});",
            "GET DIAGNOSTICS planner_n = ROW_COUNT;",
            "planner_total := planner_total + planner_n;",
            "COMMIT;",
            "EXIT WHEN planner_n = 0;"]
    before = ["IF current_setting('server_version_num')::integer < 140000 THEN",
              "    planner_pages := 0;",
              "ELSE",
              # (the largest leaf of a partitioned table: a ctid range reads every leaf's pages)
              # (pg_partition_tree has no row for a plain table)
              "    planner_pages := coalesce((SELECT max(pg_relation_size(relid)) FROM "
              f"pg_partition_tree({lit(tbl)}::regclass) WHERE isleaf), pg_relation_size({lit(tbl)}::regclass)) / "
              "current_setting('block_size')::integer;",
              "END IF;"]
    head = ["EXIT WHEN planner_page >= planner_pages;"]
    attempt = [f"UPDATE {tbl} SET {assignment}",
               "WHERE ctid >= format('(%s,0)', planner_page)::tid",
               f"AND ctid < format('(%s,0)', planner_page + planner_step)::tid AND ({cond});"]
    declare = ["planner_pages bigint;", "planner_page bigint := 0;", "planner_step integer := 10;",
               "planner_rows integer := planner_max;"]
    # planner_max (from batch_rows) counts rows: in pages, ~50 rows a page
    return _batch_block(declare, [*before, "planner_max := greatest(1, planner_max / 50);"], head, attempt,
                        ["planner_page := planner_page + planner_step;"], "planner_step", what, "backfill",
                        after=["LOOP", *_indented(rest), "END LOOP;"], rewrites=qt(table) if quiet else None)


#: the column of a backup of NULLs that records what the backfill wrote
FILLED = "planner_filled"
#: a session setting of the downgrade's restores: planner's triggers that rewrite a value written
#: (an enum value rename's) let that session's writes through
RESTORING = "planner.restoring"


def recorded_fill_sql(q: Callable[[str], str], qt: Callable[[str], str], table: str, pk: tuple[str, ...],
                      column: str, bk: str, expression: str) -> tuple[str, str, str]:
    """MySQL/SQLite: the parts of a NOT NULL backfill the downgrade can undo exactly (in each
    dialect's quoting `q`/`qt`): the SELECT the backup is made of (the NULL rows, and FILLED,
    typed as the column), the UPDATE that computes FILLED once per row before the batches (a
    volatile expression too), and the batches' expression (FILLED, or `expression` for rows NULL
    since the backup). The downgrade restores NULL where the row still holds FILLED."""
    keys = ", ".join(q(p) for p in pk)
    inner = " AND ".join(f"{qt(table)}.{q(p)} = {q(bk)}.{q(p)}" for p in pk)
    outer = " AND ".join(f"b.{q(p)} = {qt(table)}.{q(p)}" for p in pk)
    return (f"SELECT {keys}, {q(column)}, {q(column)} AS {q(FILLED)} FROM {qt(table)} WHERE {q(column)} IS NULL",
            f"UPDATE {q(bk)} SET {q(FILLED)} = (SELECT {expression} FROM {qt(table)} WHERE {inner}) "
            f"WHERE {q(FILLED)} IS NULL",
            f"coalesce((SELECT b.{q(FILLED)} FROM {q(bk)} AS b WHERE {outer}), {expression})")
#: length-bounded types: an explicit cast to them cuts a value silently (`'abcdef'::varchar(3)`),
#: where the naive ALTER's assignment fails; the cast goes to the unbounded type instead and
#: the assignment to the column (UPDATE, trigger `:=`, USING) checks the length
_UNBOUNDED = ((re.compile(r"^VARCHAR\(\d+\)"), "VARCHAR"), (re.compile(r"^CHAR\(\d+\)"), "BPCHAR"),
              (re.compile(r"^BIT( VARYING)?\(\d+\)"), "VARBIT"))
#: the zone timestamps without one are read in when they become instants (and back)
CONVERSION_ZONE = "UTC"
#: the PL/pgSQL variable a conversion guard holds each value in
GUARD_VALUE = "planner_value"


def _unbounded(type_sql: str) -> str:
    for pattern, base in _UNBOUNDED:
        if pattern.match(type_sql):
            return pattern.sub(base, type_sql, count=1)
    return type_sql


def converted(expr: str, old: Column, new: Column, new_sql: str, zone_name: str = CONVERSION_ZONE) -> str:
    """`expr`, a value of `old`'s type, as `new`'s type with the naive ALTER's semantics where
    they are safe and never a silent cut: a value too long for a bounded type fails at the
    assignment (see _UNBOUNDED); timestamps without a time zone are read as UTC (or
    `zone_name`, a column's configured zone), never in the session's TimeZone (Prisma writes
    UTC; a migration's result must not depend on who runs it); enum values go through text."""
    via = "::text" if (old.enum or new.enum) else ""
    src, dst = zone_kind(old.type), zone_kind(new.type)
    zone = lit(zone_name)
    if src == "local" and dst == "instant":
        cast = "::timestamp" if old.type.startswith("date") else ""
        return f"({expr}{cast} AT TIME ZONE {zone})::{new_sql}"
    if src == "instant" and dst == "local":
        return f"({expr} AT TIME ZONE {zone})::{new_sql}"
    return f"{expr}{via}::{_unbounded(new_sql)}"


#: the alias a conversion rule's column is read from outside its table (trigger, guard, downgrade)
RULE_ALIAS = "planner_rule"


def rule_value(rule: str, column: str, source: str | None) -> str:
    """Conversion rule `rule` (SQL over `column`, as `ALTER ... USING` reads it) evaluated on
    `source`, an expression holding the column's value (None: in the table's own context,
    where the column is there under its name). Outside the table the value is offered under
    the column's name by a one-row derived table, so the rule is run as written, unparsed."""
    if source is None:
        return f"({rule})"
    return f"(SELECT ({rule}) FROM (SELECT {source} AS {q(column)}) AS {q(RULE_ALIAS)})"


#: stands for a conversion rule's column while sqlglot regenerates the rule (rule_on)
_RULE_SOURCE = "planner_rule_source"


def rule_on(rule: str, source: str, dialect: str) -> str:
    """Conversion rule `rule` (SQL over its column, which config checked is the only one it
    reads) with the column replaced by `source` (SQL: `NEW.col` in a trigger, another
    column), regenerated by sqlglot in `dialect` with every identifier quoted. For the servers
    where a derived table cannot read a trigger's row (MySQL, SQLite); see rule_value."""
    from sqlglot import exp

    from planner.normalize import parse_expression, sqlglot_dialect

    node = parse_expression(rule, dialect).copy()

    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
            return exp.column(_RULE_SOURCE)
        return n

    text = node.transform(swap).sql(dialect=sqlglot_dialect(dialect), identify=True)
    quoted = quote_ident(_RULE_SOURCE, dialect)
    return "(" + text.replace(quoted, source) + ")"


def assigned(value: str, target: Column, target_sql: str) -> str:
    """A rule's value as the target column gets it: assigned as it is (the server's
    assignment cast checks lengths and ranges), an enum through its text (there is no
    assignment cast from text to an enum)."""
    return f"{value}::text::{target_sql}" if target.enum else value


def _toml_key(key: str) -> str:
    """`key` as a quoted TOML key (a basic string)."""
    return json.dumps(key, ensure_ascii=False)


def resolution(c: Change, kind: str) -> str | None:
    """The setting that lets a plan handle the rows a blocking check of change `c` finds, as
    the guard's stop names it; None when only fixing the rows does (duplicates, orphans,
    CHECK violations)."""
    from planner.checks import CheckKind

    if kind == CheckKind.NULLS and c.table and c.column:
        return f"set [tool.planner.backfill] {_toml_key(c.object)} = \"<SQL expression>\", then plan again"
    if kind in (CheckKind.OVERFLOW, CheckKind.CAST) and c.table and c.column:
        return (f"set [tool.planner.convert] {_toml_key(c.object)} = \"<SQL expression>\" (or fix those values), "
                "then plan again")
    if kind == CheckKind.ENUM_IN_USE and c.detail.get("value") is not None:
        key = f"{c.table}.{c.column}" if c.table and c.column else (c.name or "")
        return f"set [tool.planner.enum_remap] {_toml_key(key + '.' + str(c.detail['value']))} = \"<new value>\", " \
               "then plan again"
    return None


def rename_index_sql(table: str, a: str, b: str, *, if_exists: bool = False) -> str:
    """ALTER INDEX a RENAME TO b, `a` in `table`'s schema (`if_exists`: nothing when there is
    no `a`, as on a re-run after the rename)."""
    schema = _split(table)[0]
    guard = "IF EXISTS " if if_exists else ""
    return execute(f"ALTER INDEX {guard}{q(schema) + '.' if schema else ''}{q(a)} RENAME TO {q(b)}")


def rename_constraint_sql(table: str, a: str, b: str, *, if_exists: bool = False) -> str:
    """ALTER TABLE ... RENAME CONSTRAINT a TO b (`if_exists`: nothing when `table` has no
    constraint `a`; PostgreSQL has no IF EXISTS for it, so a DO block looks first)."""
    rename = f"ALTER TABLE {qt(table)} RENAME CONSTRAINT {q(a)} TO {q(b)}"
    if not if_exists:
        return execute(rename)
    look = f"SELECT FROM pg_constraint WHERE conrelid = {lit(qt(table))}::regclass AND conname = {lit(a)}"
    return execute("DO " + dollar_quote(f" BEGIN IF EXISTS ({look}) THEN {rename}; END IF; END "))


def _add_check_sql(table: str, name: str, condition: str) -> str:
    """ADD CONSTRAINT ... CHECK ... NOT VALID as SQL text run as written (Alembic's op compiles
    the condition as a SQLAlchemy text clause, which reads `:name` as a bind parameter and
    doubles `%` for the DBAPI twice)."""
    return f"ALTER TABLE {qt(table)} ADD CONSTRAINT {q(name)} CHECK ({condition}) NOT VALID"


def _set_not_null_by_check(table: str, column: str, check: str, type_: sa.types.TypeEngine) -> str:
    """SET NOT NULL of `column`, which validated CHECK `check` (col IS NOT NULL) proves
    without a scan, then the check dropped."""
    schema, name = _split(table)
    return (render([ops.AlterColumnOp(name, column, schema=schema, modify_nullable=False, existing_type=type_,
                                      existing_nullable=True)]) + "\n" +
            render([ops.DropConstraintOp(check, name, type_="check", schema=schema)]))


def _create_trigger_once(table: str, name: str, definition: str) -> str:
    """`CREATE TRIGGER name definition` unless `table` has it: re-runnable (a re-run after a
    later failure finds it there), and without the ACCESS EXCLUSIVE of a DROP TRIGGER first."""
    exists = f"SELECT 1 FROM pg_trigger WHERE tgname = {lit(name)} AND tgrelid = {lit(qt(table))}::regclass"
    create = f"CREATE TRIGGER {q(name)} {definition}"
    return execute("DO " + dollar_quote(f" BEGIN IF NOT EXISTS ({exists}) THEN {create}; END IF; END "))


def _concurrent_build(name: str, create: str) -> Block:
    """`create` (a CREATE INDEX CONCURRENTLY IF NOT EXISTS of index `name`) outside the
    transaction, re-runnable: an INVALID leftover of a failed run is dropped first, and a build
    that ends INVALID stops the migration."""
    return Block(f"rt.drop_invalid_index({py(name)})\nwith rt.waiting():\n{textwrap.indent(create, '    ')}\n"
                 f"rt.check_index_valid({py(name)})", autocommit=True)


def online(code: str) -> Block:
    """Online DDL outside the migration transaction (DROP INDEX CONCURRENTLY, VALIDATE): it
    holds no lock that blocks the application, so it waits for older transactions as long as
    PostgreSQL needs (the runtime's `rt.waiting`), never cut short by the strong-lock timeout."""
    return Block("with rt.waiting():\n" + textwrap.indent(code, "    "), autocommit=True)


def fresh_backup(schema: str | None, name: str) -> str:
    """The runtime's stop where backup `name` exists from before this revision (a backup of an
    earlier release, kept by IF NOT EXISTS, would be what the downgrade puts back)."""
    return f"rt.fresh_backup({py(schema)}, {py(name)}, revision)"


def mark_backup(schema: str | None, name: str) -> str:
    """The runtime's note on backup `name` that this revision made it (read by fresh_backup)."""
    return f"rt.mark_backup({py(schema)}, {py(name)}, revision)"


#: types the server joins in a foreign key without a conversion of its own (a btree family's
#: cross-type equality); a key between two families "cannot be implemented"
_JOIN_FAMILIES = {
    **dict.fromkeys(("smallint", "integer", "bigint", "int", "int2", "int4", "int8"), "integer"),
    **dict.fromkeys(("real", "double precision", "float4", "float8", "float"), "float"),
    **dict.fromkeys(("text", "varchar", "character varying", "char", "character", "bpchar", "name"), "text"),
    **dict.fromkeys(("timestamp", "timestamptz", "timestamp with time zone", "timestamp without time zone",
                     "date"), "datetime"),
    **dict.fromkeys(("numeric", "decimal"), "numeric"),
}


def _joinable(a: str, b: str) -> bool:
    """A foreign key between columns of types `a` and `b` needs no conversion: the same family
    (integers of any width, text and varchar, ...). A pair it does not know is not joinable
    (the plan then takes the road that needs no such join)."""
    (x, _, _, xa), (y, _, _, ya) = split_type(a.lower()), split_type(b.lower())
    return xa == ya and _JOIN_FAMILIES.get(x, x) == _JOIN_FAMILIES.get(y, y)


def derived_name(base: str, suffix: str, limit: int | None = 63) -> str:
    """`base` + `suffix` within `limit` bytes: a base that has to be clipped keeps a short hash
    of its full text, so two long names that share their first bytes never collide (and the
    server never truncates a name planner generates)."""
    name = base + suffix
    if limit is None or len(name.encode()) <= limit:
        return name
    digest = hashlib.sha1(base.encode()).hexdigest()[:8]
    return clip_bytes(base, limit - len(suffix.encode()) - 9) + "_" + digest + suffix


def backup_name(*parts: str, prefix: str = "", limit: int | None = 63) -> str:
    """A deterministic backup table name within `limit` bytes (PostgreSQL 63, MySQL 64,
    SQLite none); `prefix` marks planner's tables where there is no backup schema."""
    name = prefix + "__".join(p.replace(".", "_") for p in parts)
    if limit is None or len(name.encode()) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return clip_bytes(name, limit - 9) + "_" + digest


#: where a table moved aside records the names its indexes and owned sequences had (they move
#: with it into BACKUP_SCHEMA, where two tables of one name from two schemas, or an earlier
#: release's, would clash): backup table, name aside, original name
NAMES_ASIDE = f"{q(BACKUP_SCHEMA)}.{q(BACKUP_TABLE_PREFIX + 'names')}"
#: a table's indexes and the sequences its columns own (serial, identity)
_RELATIONS_OF = ("SELECT c.relname, c.relkind FROM pg_class c WHERE c.oid IN (SELECT indexrelid FROM pg_index "
                 "WHERE indrelid = {t}::regclass) OR (c.relkind = 'S' AND c.oid IN (SELECT objid FROM pg_depend "
                 "WHERE classid = 'pg_class'::regclass AND refclassid = 'pg_class'::regclass "
                 "AND refobjid = {t}::regclass AND deptype IN ('a', 'i')))")


def _rename_relation(table: str, to: str) -> str:
    """PL/pgSQL: rename the index or sequence `r` (a row of _RELATIONS_OF) of `table` (quoted),
    in the table's schema, to the text expression `to`."""
    return ("EXECUTE format('ALTER %s %s RENAME TO %I', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END, "
            f"format('%s.%I', (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = {lit(table)}::regclass), "
            f"r.relname), {to});")


def _names_aside(table: str, bk: str) -> str:
    """PostgreSQL: give the indexes and owned sequences of `table` (quoted; renamed to the
    backup name `bk`, about to move into BACKUP_SCHEMA) names of that backup, recording the
    names they had (NAMES_ASIDE), so that no two moved tables clash on `t_pkey` there."""
    body = (f" DECLARE r record; planner_aside text; BEGIN "
            f"CREATE TABLE IF NOT EXISTS {NAMES_ASIDE} (backup text NOT NULL, aside text NOT NULL, "
            "original text NOT NULL, PRIMARY KEY (backup, aside)); "
            f"FOR r IN {_RELATIONS_OF.format(t=lit(table))} ORDER BY c.relname LOOP "
            f"planner_aside := left({lit(bk)}, 50) || '_' || left(md5({lit(bk)} || '.' || r.relname), 8); "
            f"{_rename_relation(table, 'planner_aside')} "
            f"INSERT INTO {NAMES_ASIDE} VALUES ({lit(bk)}, planner_aside, r.relname) ON CONFLICT (backup, aside) "
            "DO UPDATE SET original = EXCLUDED.original; END LOOP; END ")
    return "DO " + dollar_quote(body)


def _names_back(table: str, bk: str) -> str:
    """PostgreSQL: the way back of _names_aside for `table` (quoted, home again under its name)."""
    body = (" DECLARE r record; BEGIN "
            f"IF to_regclass({lit(NAMES_ASIDE)}) IS NULL THEN RETURN; END IF; "
            f"FOR r IN SELECT x.relname, x.relkind, n.original FROM ({_RELATIONS_OF.format(t=lit(table))}) x "
            f"JOIN {NAMES_ASIDE} n ON n.backup = {lit(bk)} AND n.aside = x.relname LOOP "
            f"{_rename_relation(table, 'r.original')} END LOOP; "
            f"DELETE FROM {NAMES_ASIDE} WHERE backup = {lit(bk)}; "
            # (the record goes once no moved table is left in it, as the cleanup's forget does)
            f"IF NOT EXISTS (SELECT FROM {NAMES_ASIDE}) THEN DROP TABLE {NAMES_ASIDE}; END IF; END ")
    return "DO " + dollar_quote(body)


def column_like(table: str, target: str, source: str, *, source_table: str | None = None,
                storage: bool = True) -> str:
    """PostgreSQL: column `target` of `table` takes the statistics target, n_distinct options,
    column privileges and (`storage`) STORAGE/COMPRESSION of column `source` of `source_table`
    (`table` by default): what the model does not hold and a plain RENAME keeps (rt.column_like)."""
    args = [py(qt(table)), py(target), py(source)]
    if source_table is not None:
        args.append(f"source_table={py(qt(source_table))}")
    if not storage:
        args.append("storage=False")
    return f"rt.column_like({', '.join(args)})"


def forget_names_aside(backups: list[str]) -> str:
    """PostgreSQL, the cleanup revision: the names recorded for the moved-aside tables
    `backups` go with them (and the record table, once empty)."""
    names = ", ".join(lit(b) for b in backups)
    body = (f" BEGIN IF to_regclass({lit(NAMES_ASIDE)}) IS NULL THEN RETURN; END IF; "
            f"DELETE FROM {NAMES_ASIDE} WHERE backup IN ({names}); "
            f"IF NOT EXISTS (SELECT FROM {NAMES_ASIDE}) THEN DROP TABLE {NAMES_ASIDE}; END IF; END ")
    return execute("DO " + dollar_quote(body))


class _Builder:
    DIALECT = "postgresql"
    #: the row address a batched backfill keys on when the table has no primary key
    #: identifier quoting of the steps the dialect builders share (rename_table, views)
    quote = staticmethod(q)
    quote_table = staticmethod(qt)
    #: steps ordered in stages (ir.Stage) so a revision never commits DDL before online work;
    #: MySQL DDL commits statement by statement anyway, SQLite has no online work: one stage
    STAGED = True

    def __init__(self, diff: Diff, old: Schema, new: Schema, *, backfill: dict[str, str] | None = None,
                 enum_remap: dict[str, str] | None = None, convert: dict[str, ConvertRule] | None = None,
                 renames_in_place: bool = False) -> None:
        self.diff, self.new = diff, new
        #: column and enum value renames as one in-place RENAME in contract (every writer
        #: switches at once) instead of expand/contract ([tool.planner] renames_in_place)
        self.renames_in_place = renames_in_place
        # table renames run first (expand, behind a compatibility view), so every other step
        # names the table as NEW does: OLD is looked up under the new names too
        table_renames = tuple((c.detail["from"], c.detail["to"]) for c in diff.changes if c.kind == Kind.RENAME_TABLE)
        self.old = apply_renames(old, Renames(tables=table_renames), []) if table_renames else old
        self.original_old = old  # OLD's own names (what the expand downgrade ends with)
        self.backfill_exprs = self._typed_backfills(backfill or {})
        self.enum_remap = enum_remap or {}
        self.convert = convert or {}
        self.steps: list[Step] = []
        self.kept: list[tuple[str | None, str]] = []
        #: names the plan gave objects that share one namespace, by (namespace, name): the owner
        self._claimed: dict[tuple[tuple[str | None, ...], str], tuple[str, ...]] = {}
        from planner.checks import build_checks
        from planner.verify.metadata import to_metadata

        self.old_md = to_metadata(self.old)
        self.new_md = to_metadata(new)
        if self.DIALECT == "postgresql":
            _enums_not_created(self.old_md)
            _enums_not_created(self.new_md)
        # (table, name) of indexes, UNIQUE constraints and CHECKs dropped and added under the
        # same name: the new one is built under a temporary name, then takes the name
        dropped = {(c.table, c.old.name) for c in diff.changes
                   if c.kind in (Kind.DROP_INDEX, Kind.DROP_UNIQUE, Kind.DROP_CHECK) and c.old.name}
        self.redefined = {(c.table, c.new.name) for c in diff.changes
                          if c.kind in (Kind.ADD_INDEX, Kind.ADD_UNIQUE, Kind.ADD_CHECK)
                          and (c.table, c.new.name) in dropped}
        self.checks: dict[str, list] = {}
        # guards must run on any supported server: the PostgreSQL 12-15 forms of the checks
        version = 12 if self.DIALECT == "postgresql" else None
        for check in build_checks(diff, old, new, self.DIALECT, server_version=version, convert=self.convert):
            self.checks.setdefault(check.change_id, []).append(check)

    # ----------------------------------------------------------------- helpers
    def _claim(self, scope: tuple[str | None, ...], owner: tuple[str, ...], name: str,
               distinct: Callable[[str], str]) -> str:
        """`name` for `owner` in `scope`, unless another owner of this plan already has it there:
        then `distinct(hash of owner)`. Derived names join free text (`a_b`.`c` and `a`.`b_c`
        both give `a_b_c__planner_sync`; `a.t` and `b.t` share one backup schema), and two
        objects of one plan never share a name: a function replaced by the other table's, a
        backup that IF NOT EXISTS kept for the wrong table (its downgrade put back another
        table's values). The first owner keeps the plain name (deterministic: plan order)."""
        held = self._claimed.setdefault((scope, name), owner)
        if held == owner:
            return name
        name = distinct(hashlib.sha1(repr(owner).encode()).hexdigest()[:8])
        if self._claimed.setdefault((scope, name), owner) != owner:
            raise PlanError(f"planner derived the name {name} for two objects; rename one of {held} / {owner}")
        return name

    def backup_name(self, table: str, *parts: str) -> str:
        """The backup table of `table` (the key, schema-qualified) for `parts`: its name, then parts,
        unique in the plan (see _claim): every backup is in one schema (PostgreSQL's planner_backup;
        MySQL's and SQLite's prefixed tables in the database the migration runs in)."""
        name = _split(table)[1]
        return self._claim(("backup",), (table, *parts), self._backup_table(name, *parts),
                           lambda h: self._backup_table(name, *parts, h))

    @staticmethod
    def _backup_table(*parts: str) -> str:
        return backup_name(*parts)

    def function_name(self, table: str, base: str, suffix: str, limit: int | None = 63) -> str:
        """derived_name(base, suffix) for a function or trigger of `table` whose name is shared
        by the whole schema (PostgreSQL functions, MySQL triggers), unique in the plan."""
        schema = _split(table)[0] if self.DIALECT == "postgresql" else None
        return self._claim(("function", schema), (table, base, suffix), derived_name(base, suffix, limit),
                           lambda h: derived_name(f"{base}_{h}", suffix, limit))

    def table(self, md: sa.MetaData, key: str) -> sa.Table:
        schema, name = _split(key)
        return md.tables[f"{schema}.{name}" if schema else name]

    def sa_column(self, md: sa.MetaData, key: str, col: str) -> sa.Column:
        return self.table(md, key).c[col]._copy()  # Column.copy() is deprecated; _copy is its body

    def ddl(self, code: str, *, retry: bool = True) -> Block:
        """Strong-lock DDL: bounded lock wait, retried on lock timeout."""
        return Block(code, retry=retry)

    def unfilled_guard(self, c: Change, column: str) -> Guard:
        """The stop before a new NOT NULL column without a default (or a backfill) meets rows:
        its rows are NULL, nothing in them to fix; the plan needs a value for them."""
        return Guard(f"SELECT count(*) FROM {self.quote_table(c.table)} WHERE {self.quote(column)} IS NULL",
                     f"{c.object} has NULLs: a NOT NULL column without a default needs a backfill", inline=True,
                     resolve=f'add a default, or set [tool.planner.backfill] "{c.object}" = "<SQL expression>", '
                             "then plan again")

    def _typed_backfills(self, backfill: dict[str, str]) -> dict[str, str]:
        """The configured backfill expressions, cast to the column's enum type on PostgreSQL: a
        text expression (`CASE ... THEN 'A' END`) has no assignment cast to an enum, so the
        backfill stopped halfway through the upgrade (`column ... is of type ... but
        expression is of type text`); a bare literal or an expression of the enum is unchanged."""
        if self.DIALECT != "postgresql":
            return backfill
        out = {}
        for key, expression in backfill.items():
            table, _, column = key.rpartition(".")
            t = self.new.table(table)
            col = t.column(column) if t is not None else None
            if col is not None and col.enum:
                expression = f"({expression})::{qt(col.enum)}{'[]' if col.type.endswith('[]') else ''}"
            out[key] = expression
        return out

    def add(self, phase: Phase, title: str, upgrade: Iterable[Block], downgrade: Iterable[Block] = (),
            *, guards: Iterable[Guard] = (), change: Change | None = None, backup: str | None = None,
            stage: Stage | None = None, rank: float = 0, breaks_old: bool | None = None,
            new_waits: bool | None = None) -> None:
        if not self.STAGED:
            stage = Stage.MAIN
        self.steps.append(Step(phase, title, tuple(upgrade), tuple(downgrade), tuple(guards),
                               change.id if change else None, backup, stage, rank, breaks_old, new_waits))

    def backup(self, table: str, pk: tuple[str, ...], column: str, bk: str, where: str | None = None, *,
               as_text: bool = False, also: tuple[str, ...] = (), computed: tuple[str, ...] = ()) -> Block:
        """Copy `(pk, column)` of `table` (rows matching `where`) to planner_backup.`bk`; enum
        values are kept `as_text`, so the backup never holds on to a type being recreated;
        `also` columns are copied as they are (what the row held when it was backed up, so the
        downgrade can tell rows changed since); `computed` are SQL select items."""
        self.keep(BACKUP_SCHEMA, bk)
        keys = ", ".join(q(p) for p in pk)
        cond = f" WHERE {where}" if where else ""
        value = f"{q(column)}::text AS {q(column)}" if as_text else q(column)
        value += "".join(f", {q(x)}" for x in also) + "".join(f", {x}" for x in computed)
        # IF NOT EXISTS: a backup left by a run that failed after committing it (a backfill
        # commits batch by batch) holds the values from before that run, and is kept
        return Block("\n".join([
            fresh_backup(BACKUP_SCHEMA, bk),
            execute(f"CREATE SCHEMA IF NOT EXISTS {q(BACKUP_SCHEMA)}"),
            execute(f"CREATE TABLE IF NOT EXISTS {q(BACKUP_SCHEMA)}.{q(bk)} AS SELECT {keys}, {value} FROM {qt(table)}{cond}"),
            mark_backup(BACKUP_SCHEMA, bk),
        ]), backup=True)

    def keep(self, schema: str | None, table: str) -> None:
        """Record a table the upgrade leaves behind for the downgrade (see Plan.kept)."""
        if (schema, table) not in self.kept:
            self.kept.append((schema, table))

    def restore(self, table: str, pk: tuple[str, ...], column: str, bk: str, *, cast: str | None = None,
                unchanged: str | None = None, batched: bool = False, restoring: bool = False,
                into: str | None = None) -> Block:
        """Put the backed-up values back (cast back from text where `cast` is given), row by
        primary key, then remove the backup. `unchanged` (SQL over `t`, the table, and `b`, the
        backup) keeps rows the application changed after the upgrade: their current value wins.
        `into`: the table's column that takes the values (default: `column`, the backup's).

        `batched`: outside the downgrade's transaction (whatever strong lock its earlier steps
        took is released first), in keyset batches over the backup's keys (indexed first), each
        committed on its own and retried behind row locks like a backfill; re-runnable (a batch
        puts back what it already put back), the backup dropped at the end of the downgrade
        (`Block.final`), so a re-run after any later failure finds it again. For a copy of many
        rows after a step that takes a strong lock: the table stays usable meanwhile.
        `restoring` (batched only): the session sets RESTORING meanwhile, which planner's
        triggers that rewrite a value read to let its writes through."""
        value = f"b.{q(column)}::{cast}" if cast else f"b.{q(column)}"
        backup = f"{q(BACKUP_SCHEMA)}.{q(bk)}"
        target = into or column
        if batched:
            keys = ", ".join(q(p) for p in pk)
            index = q(derived_name(bk, "_planner_key"))
            walk = _keyset_backfill(table, pk, f"{q(target)} = {value}", unchanged or "",
                                    f"{table}.{column}", source=backup, verb="restore")
            code = execute(f"CREATE INDEX IF NOT EXISTS {index} ON {backup} ({keys})") + "\n" + walk
            if restoring:
                code = "\n".join([execute(f"SET {RESTORING} = 'on'"), code, execute(f"RESET {RESTORING}")])
            return Block(code, autocommit=True, final=execute(f"DROP TABLE {backup}"))
        on = " AND ".join(f"t.{q(p)} = b.{q(p)}" for p in pk)
        if unchanged:
            on += f" AND ({unchanged})"
        return Block(execute(f"UPDATE {qt(table)} AS t SET {q(target)} = {value} FROM "
                             f"{backup} AS b WHERE {on}") + "\n" +
                     execute(f"DROP TABLE {backup}"))

    def not_restored(self, table: str, pk: tuple[str, ...], bk: str, unchanged: str) -> str:
        """SQL over `table` (by its name): the row is not one `restore(..., unchanged=...)`
        would take from backup `bk` (`unchanged` over `b`, the backup, and the table)."""
        on = " AND ".join(f"b.{q(p)} = {qt(table)}.{q(p)}" for p in pk)
        return f"NOT EXISTS (SELECT 1 FROM {q(BACKUP_SCHEMA)}.{q(bk)} AS b WHERE {on} AND {unchanged})"

    def set_default(self, table: str, column: str, type_: sa.types.TypeEngine, default: str | None) -> str:
        """`op.alter_column(..., server_default=sa.text(...))`: rendered here because Alembic's
        renderer turns a numeric text default into a Python int, which alter_column rejects."""
        schema, name = _split(table)
        base = render([ops.AlterColumnOp(name, column, schema=schema, existing_type=type_)])
        value = f"sa.text({default.replace(':', chr(92) + ':')!r})" if default is not None else "None"
        return base[:-1] + f",\n               server_default={value})"

    def guards(self, c: Change) -> list[Guard]:
        """The change's blocking pre-flight checks (planner.checks), as guards: the revision
        stops before any DDL if they find offending rows."""
        out = []
        for k in self.checks.get(c.id, []):
            if not k.blocking or not k.sql:
                continue
            if k.accept is None:
                out.append(Guard(k.sql, k.description.rstrip("."), sample=k.sample_sql,
                                 resolve=resolution(c, k.kind)))
            elif c.kind == Kind.ALTER_COLUMN_TYPE:
                out.append(self._cast_guard(c))
        return out

    def _cast_guard(self, c: Change) -> Guard:
        """Values the server can only test by converting them (JSON before PostgreSQL 16):
        a PL/pgSQL block tries each one, and raises before any DDL if some do not convert."""
        new_sql = self.sa_column(self.new_md, c.table, c.column).type.compile(dialect=_PG)
        return self._convert_guard(c.table, c.column, new_sql, self.to_new(c, GUARD_VALUE, new_sql),
                                   resolve=resolution(c, "cast"))

    def _convert_guard(self, table: str, column: str, target_sql: str, conversion: str, *, why: str = "",
                       nulls: bool = False, enum_values: tuple[str, ...] | None = None,
                       resolve: str | None = None, also_where: str = "") -> Guard:
        """A PL/pgSQL block that assigns `conversion` (SQL over GUARD_VALUE, each value of
        `column`; NULLs too when `nulls`: a conversion rule may turn them into something) to a
        variable of type `target_sql`, as the column's UPDATE would, and raises, naming how many
        fail, if any does. With `enum_values` (a new enum, which the guard may run before the
        type exists) `conversion` gives text, which must be one of them. `resolve`: the setting
        a stop names (none for a downgrade's: only fixing the values does). `also_where`: only
        the rows that meet it (SQL over the table by its name)."""
        what = f" values of {table}.{column} do not convert to {target_sql}{why}"
        conditions = ([] if nulls else [f"{q(column)} IS NOT NULL"]) + ([also_where] if also_where else [])
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        test = ""
        if enum_values is not None:
            allowed = ", ".join(lit(v) for v in enum_values)
            test = (f" IF planner_converted IS NOT NULL AND planner_converted <> ALL (ARRAY[{allowed}]::text[]) "
                    "THEN planner_bad := planner_bad + 1; END IF;")
        body = (f" DECLARE {GUARD_VALUE} {qt(table)}.{q(column)}%TYPE; "
                f"planner_converted {'text' if enum_values is not None else target_sql}; "
                f"planner_bad bigint := 0; BEGIN "
                f"FOR {GUARD_VALUE} IN SELECT {q(column)} FROM {qt(table)}{where} LOOP "
                f"BEGIN planner_converted := {conversion};{test} EXCEPTION WHEN others THEN "
                f"planner_bad := planner_bad + 1; END; END LOOP; "
                f"IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = {lit('planner guard failed: ')} || "
                f"planner_bad || {lit(what)}; END IF; END ")
        return Guard("DO " + dollar_quote(body), "planner guard failed: N" + what, raises=True, resolve=resolve)

    # ----------------------------------------------------------------- conversions
    def rule(self, c: Change) -> ConvertRule | None:
        """The configured conversion rule of a type change (`[tool.planner.convert]`), or the
        one planner gives a column of a recreated enum (`detail["rule"]`, see _swap_enum)."""
        if "rule" in c.detail:
            return c.detail["rule"]
        return self.convert.get(c.object)

    def to_new(self, c: Change, expr: str | None, new_sql: str) -> str:
        """An old value of type change `c` as the new type: `expr` (None: the column in its
        table's context, as in an UPDATE or ALTER ... USING) through the configured rule, else
        planner's conversion (UTC, or the rule's time zone, for timestamps)."""
        rule, column = self.rule(c), c.old.name
        if rule is not None and rule.using:
            return assigned(rule_value(rule.using, column, expr), c.new, new_sql)
        zone = {"zone_name": rule.timezone} if rule is not None and rule.timezone else {}
        return converted(expr if expr is not None else q(column), c.old, c.new, new_sql, **zone)

    def to_old(self, c: Change, expr: str | None, old_sql: str) -> str:
        """A new value of type change `c` back as the old type (the downgrade): the rule's
        inverse, else planner's conversion back."""
        rule, column = self.rule(c), c.old.name
        if rule is not None and rule.inverse:
            return assigned(rule_value(rule.inverse, column, expr), c.old, old_sql)
        zone = {"zone_name": rule.timezone} if rule is not None and rule.timezone else {}
        return converted(expr if expr is not None else q(column), c.new, c.old, old_sql, **zone)

    def _rule_guard(self, c: Change, new_sql: str) -> Guard:
        """Type change `c` with a configured rule: every value (NULLs too, which a rule may map)
        converted by the rule as the UPDATE would; a new enum's values tested as text (the type
        is created later in the same revision)."""
        rule = self.rule(c)
        assert rule is not None
        why = " by the configured conversion rule"
        resolve = (f"change the rule of [tool.planner.convert] {_toml_key(c.object)} (or fix those values), "
                   "then plan again")
        enum = self.new.enum(c.new.enum) if c.new.enum else None
        if enum is not None and rule.using:
            return self._convert_guard(c.table, c.old.name, new_sql,
                                       f"{rule_value(rule.using, c.old.name, GUARD_VALUE)}::text", why=why,
                                       nulls=True, enum_values=tuple(enum.values), resolve=resolve)
        return self._convert_guard(c.table, c.old.name, new_sql, self.to_new(c, GUARD_VALUE, new_sql),
                                   nulls=bool(rule.using), why=why, resolve=resolve)

    def _pk_or_fail(self, c: Change, why: str) -> tuple[str, ...]:
        pk = self.pk_columns(self.old.table(c.table))
        if not pk:
            raise PlanError(f"{c.id}: table {c.table} has no primary key, so {why} could not be undone row by "
                            "row; add a primary key first")
        return pk

    def pk_columns(self, t: Table) -> tuple[str, ...]:
        if t.primary_key:
            return t.primary_key.columns
        return ()

    # ----------------------------------------------------------------- dispatch
    def run(self) -> Plan:
        handlers = {
            Kind.ADD_ENUM: self.add_enum, Kind.DROP_ENUM: self.drop_enum, Kind.RENAME_ENUM: self.rename_enum,
            Kind.ADD_ENUM_VALUE: self.add_enum_value, Kind.RENAME_ENUM_VALUE: self.rename_enum_value,
            Kind.REMOVE_ENUM_VALUE: self.recreate_enum, Kind.REORDER_ENUM_VALUES: self.recreate_enum,
            Kind.ADD_TABLE: self.add_table, Kind.DROP_TABLE: self.drop_table, Kind.RENAME_TABLE: self.rename_table,
            Kind.ADD_COLUMN: self.add_column, Kind.DROP_COLUMN: self.drop_column,
            Kind.RENAME_COLUMN: self.rename_column, Kind.ALTER_COLUMN_TYPE: self.alter_type,
            Kind.SET_NOT_NULL: self.set_not_null, Kind.DROP_NOT_NULL: self.drop_not_null,
            Kind.ALTER_DEFAULT: self.alter_default, Kind.ADD_INDEX: self.add_index,
            Kind.ADD_UNIQUE: self.add_index, Kind.DROP_INDEX: self.drop_index, Kind.DROP_UNIQUE: self.drop_index,
            Kind.RENAME_INDEX: self.rename_index, Kind.RENAME_CONSTRAINT: self.rename_constraint,
            Kind.ADD_FOREIGN_KEY: self.add_fk, Kind.DROP_FOREIGN_KEY: self.drop_fk,
            Kind.ALTER_FOREIGN_KEY: self.alter_fk, Kind.ADD_CHECK: self.add_check, Kind.DROP_CHECK: self.drop_check,
            Kind.ADD_PRIMARY_KEY: self.add_pk, Kind.DROP_PRIMARY_KEY: self.drop_pk,
            Kind.ADD_VIEW: self.add_view, Kind.DROP_VIEW: self.drop_view, Kind.ALTER_VIEW: self.alter_view,
            Kind.ALTER_COMMENT: self.alter_comment, Kind.ADD_EXTENSION: self.add_extension,
        }
        seen_enum_recreate: set[str] = set()
        if self.DIALECT == "postgresql":
            self._create_schemas()
        for c in _tables_in_dependency_order(self.diff.changes, self.new):
            if c.kind in (Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES) and c.table is None:
                if c.name in seen_enum_recreate:
                    continue
                seen_enum_recreate.add(c.name or "")
            self._refused_by_the_server(c)
            handlers[c.kind](c)
        return Plan(self.DIALECT, tuple(self.steps), kept=tuple(self.kept), named_schemas=self._named_schemas())

    def _named_schemas(self) -> tuple[str, ...]:
        """PostgreSQL: the non-default schemas OLD or NEW name, if they also have objects in the
        default schema (whose names the revisions leave unqualified); else ()."""
        if self.DIALECT != "postgresql":
            return ()
        objects = [x for s in (self.original_old, self.new) for x in (*s.tables, *s.enums, *s.views)]
        default = self.new.default_schema
        named = sorted({x.schema for x in objects if x.schema and x.schema != default})
        return tuple(named) if any(x.schema in (None, default) for x in objects) else ()

    def _create_schemas(self) -> None:
        """PostgreSQL: the schemas (namespaces) NEW puts objects in where OLD has none, created
        first of all in expand (CREATE TABLE b.t failed: `schema "b" does not exist`). The
        downgrade drops one only while it is empty (it may have been there, empty, before: the
        model holds no empty schema). A schema OLD uses and NEW does not stays."""
        def schemas(s: Schema) -> set[str]:
            return {x.schema for x in (*s.tables, *s.enums, *s.views) if x.schema}

        for name in sorted(schemas(self.new) - schemas(self.original_old) - {self.new.default_schema or ""}):
            drop = dollar_quote(f" BEGIN DROP SCHEMA {q(name)}; EXCEPTION WHEN dependent_objects_still_exist "
                                "THEN NULL; END ")
            self.add(Phase.EXPAND, f"create schema {name} (NEW has objects in it)",
                     [Block(execute(f"CREATE SCHEMA IF NOT EXISTS {q(name)}"))],
                     [Block(execute(f"DO {drop}"))], rank=-100)  # (before a table moves there)

    def _refused_by_the_server(self, c: Change) -> None:
        """PostgreSQL refuses to change the type of a column of a table's partition key, or to
        drop it (`cannot alter column ... because it is part of the partition key`), and to
        change the type of a column a generated column reads (`cannot alter type of a column
        used by a generated column`), whatever the route: the naive DDL fails as a plan would.
        Stop here, saying what works instead."""
        if c.kind not in (Kind.ALTER_COLUMN_TYPE, Kind.DROP_COLUMN) or self.DIALECT != "postgresql":
            return
        t = self.old.table(c.table or "")
        col = c.column or ""
        names = _mentions(col)
        key = t.partition_by if t is not None else None
        if key and names.search(key):
            what = "change the type of" if c.kind == Kind.ALTER_COLUMN_TYPE else "drop"
            raise PlanError(f"{c.id}: PostgreSQL cannot {what} {c.table}.{col}: it is part of the table's partition "
                            f"key (PARTITION BY {key}); create a new partitioned table as NEW has it, copy the rows "
                            "over and swap the names, or keep the column as it is")
        t_new = self.new.table(c.table or "")
        reader = next((x for x in (t.columns if t is not None else ()) if x.name != col and x.generated
                       and names.search(x.generated) and t_new is not None and (y := t_new.column(x.name))
                       and y.generated), None)  # (one the plan drops goes first or fails on its own)
        if c.kind == Kind.ALTER_COLUMN_TYPE and reader is not None:
            raise PlanError(f"{c.id}: PostgreSQL cannot change the type of {c.table}.{col}: generated column "
                            f"{reader.name} reads it (GENERATED ALWAYS AS ({reader.generated})); drop {reader.name} "
                            "in one plan and add it back in a later one, or keep the type")

    # ----------------------------------------------------------------- extensions
    def add_extension(self, c: Change) -> None:
        """First of all (expand, before any transactional work): the server must offer the
        extension, or the revision stops with one line before any DDL; created outside the
        transaction, re-runnable. The downgrade leaves it: other objects may use it."""
        name = c.name or ""
        needed = ", ".join(c.detail.get("needed_by") or []) or "NEW"
        guard = Guard(f"SELECT count(*) FROM (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_available_extensions "
                      f"WHERE name = {lit(name)})) AS missing",
                      f"extension {name} (needed by {needed}) is not available on this server: install its package "
                      "(pg_available_extensions lists what the server offers) or use a server that has it")
        up = Block(execute(f"CREATE EXTENSION IF NOT EXISTS {q(name)}"), autocommit=True)
        down = Block(f"# extension {name} stays: DROP EXTENSION would take every object using it along")
        self.add(Phase.EXPAND, f"create extension {name}", [up], [down], guards=[guard], change=c, stage=Stage.PRE,
                 rank=-1)

    # ----------------------------------------------------------------- enums
    def _create_enum_sql(self, e: Enum, name: str | None = None) -> str:
        values = ", ".join(lit(v) for v in e.values)
        key = name or self.new.key(e.schema, e.name)
        return f"CREATE TYPE {qt(key)} AS ENUM ({values})"

    def add_enum(self, c: Change) -> None:
        self.add(Phase.EXPAND, f"create enum {c.name}", [Block(execute(self._create_enum_sql(c.new)))],
                 [Block(execute(f"DROP TYPE {qt(c.name)}"))], change=c)

    def drop_enum(self, c: Change) -> None:
        # last: columns of the type are dropped or converted (and backed up as text) before it
        self.add(Phase.CONTRACT, f"drop enum {c.name}", [Block(execute(f"DROP TYPE {qt(c.name)}"))],
                 [Block(execute(self._create_enum_sql(c.old, c.name)))], change=c, rank=1)

    def rename_enum(self, c: Change) -> None:
        old, new = c.detail["from"], c.detail["to"]
        self.add(Phase.CONTRACT, f"rename enum {old} to {new}", [self.ddl("\n".join(self._moved("TYPE", old, new)))],
                 [self.ddl("\n".join(self._moved("TYPE", new, old)))], change=c)

    def _moved(self, kind: str, a: str, b: str) -> list[str]:
        """PostgreSQL: `ALTER {kind}` statements that make object `a` object `b`: renamed in its
        schema, then moved to `b`'s (SET SCHEMA: a `--rename a.x=b.x` wrote a RENAME within `a`,
        and the upgrade stopped). `b` without a schema goes to the session's current schema."""
        (schema_a, name_a), (schema_b, name_b) = _split(a), _split(b)
        out = []
        if name_a != name_b:
            out.append(execute(f"ALTER {kind} {qt(a)} RENAME TO {q(name_b)}"))
        if schema_a != schema_b:
            at = qt(_join(schema_a, name_b))
            out.append(execute(f"ALTER {kind} {at} SET SCHEMA {q(schema_b)}") if schema_b else
                       execute("DO " + dollar_quote(f" BEGIN EXECUTE format('ALTER {kind} %s SET SCHEMA %I', "
                                                    f"{lit(at)}, current_schema()); END ")))
        return out

    def add_enum_value(self, c: Change) -> None:
        if c.table is not None:
            raise PlanError(f"{c.id}: MySQL inline ENUM changes are planned by the MySQL planner")
        v = c.detail["value"]
        # AFTER the previous value (an old one, or one added just before): explicit ordering,
        # and never a reference to a value this plan has not added yet
        if c.detail.get("after"):
            where = f" AFTER {lit(c.detail['after'])}"
        else:
            where = f" BEFORE {lit(c.detail['before'])}" if c.detail.get("before") else ""
        up = Block(execute(f"ALTER TYPE {qt(c.name)} ADD VALUE IF NOT EXISTS {lit(v)}{where}"), autocommit=True)
        # removing a value needs the type recreated (R10); rows holding it block the downgrade
        down = self._recreate_blocks(c.name, c.old, guard_values=[v], last=True)
        self.add(Phase.EXPAND, f"add value {v!r} to enum {c.name}", [up], down, change=c, stage=Stage.PRE)

    def rename_enum_value(self, c: Change) -> None:
        """By default: expand adds the new value (before the old one, so it ends up at its
        place) and triggers that store a write of the old value as the new one; backfill remaps
        the rows in keyset batches (backed up); contract recreates the type without the old
        value (guarded). In place (one RENAME VALUE in contract, every writer switching at once)
        when asked for in config, or when the enum changes otherwise too."""
        a, b = c.detail["from"], c.detail["to"]
        why = "renames_in_place = true in config" if self.renames_in_place else self._enum_rename_blocker(c)
        if why is None:
            self._rename_value_by_remap(c)
            return
        if self.old.enum(c.name) is not None and any(
                x.name == c.name and x.kind in (Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES)
                for x in self.diff.changes):
            # the recreation the removal or reorder needs would count the renamed value as
            # removed (rows holding it stop its guard) and its downgrade would hold both names
            raise PlanError(f"{c.id}: renaming value {a!r} of enum {c.name} in the same plan as removing or "
                            "reordering its values is not planned",
                            hint=f"release the rename first (--rename {c.name}.{a}={b}), then the other changes "
                                 "of the enum in a later plan")
        self.add(Phase.CONTRACT, f"rename enum value {c.name}.{a} to {b} in place ({why}): no application version "
                                 "works both before and after it, every writer must switch at once",
                 [self.ddl(execute(f"ALTER TYPE {qt(c.name)} RENAME VALUE {lit(a)} TO {lit(b)}"))],
                 [self.ddl(execute(f"ALTER TYPE {qt(c.name)} RENAME VALUE {lit(b)} TO {lit(a)}"))], change=c,
                 new_waits=True)

    def _enum_rename_blocker(self, c: Change) -> str | None:
        key = c.name
        others = [x for x in self.diff.changes if x is not c and x.name == key and x.kind in (
            Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES, Kind.RENAME_ENUM_VALUE, Kind.RENAME_ENUM, Kind.DROP_ENUM)]
        if others:
            return f"enum {key} changes otherwise too ({others[0].kind.value})"
        if self.new.enum(key) is None:
            return f"enum {key} is not in NEW under that name"
        for table, col in self._enum_columns(self.old, key):
            if not self.pk_columns(self.old.table(table)):
                return f"{table} has no primary key to remap by"
            if any(x.table == table and (x.column == col.name or (x.kind == Kind.RENAME_COLUMN and
                                                                  x.detail.get("from") == col.name))
                   for x in self.diff.changes):
                return f"{table}.{col.name} changes too"
        return None

    def _rename_value_by_remap(self, c: Change) -> None:
        key, a, b = c.name, c.detail["from"], c.detail["to"]
        add = Block(execute(f"ALTER TYPE {qt(key)} ADD VALUE IF NOT EXISTS {lit(b)} BEFORE {lit(a)}"), autocommit=True)
        old_enum, new_enum = self.old.enum(key), self.new.enum(key)
        # the downgrade takes the value out again: rows holding it (written as NEW's name of
        # the same value) get the old name back
        self.add(Phase.EXPAND, f"add value {b!r} to enum {key} (renames {a!r})", [add],
                 self._recreate_blocks(key, old_enum, renamed={b: a}), change=c, stage=Stage.PRE, rank=-1)
        columns = self._enum_columns(self.old, key)
        tables = list(dict.fromkeys(t for t, _ in columns))
        triggers: dict[str, str] = {}
        syncs, unsyncs = [], []
        for table in tables:
            tschema, tname = _split(table)
            fn = triggers[table] = self.function_name(table, f"{tname}_{key}_{a}", "__planner_remap")
            qfn = f"{q(tschema)}.{q(fn)}" if tschema else q(fn)
            # off in the session of the downgrade's restore (RESTORING), which writes the old value back
            body = f" BEGIN IF current_setting({lit(RESTORING)}, true) = 'on' THEN RETURN NEW; END IF; "
            for t, col in columns:
                if t != table:
                    continue
                qc = q(col.name)
                if col.type.endswith("[]"):
                    body += (f"IF {lit(a)} = ANY(NEW.{qc}::text[]) THEN NEW.{qc} := "
                             f"array_replace(NEW.{qc}::text[], {lit(a)}, {lit(b)}); END IF; ")
                else:
                    body += f"IF NEW.{qc}::text = {lit(a)} THEN NEW.{qc} := {lit(b)}; END IF; "
            body += "RETURN NEW; END "
            syncs.append("\n".join([
                execute(f"CREATE OR REPLACE FUNCTION {qfn}() RETURNS trigger LANGUAGE plpgsql AS " + dollar_quote(body)),
                execute(f"CREATE TRIGGER {q(fn)} BEFORE INSERT OR UPDATE ON {qt(table)} FOR EACH ROW "
                        f"EXECUTE FUNCTION {qfn}()")]))
            unsyncs.append("\n".join([*self.drop_trigger(table, fn), execute(f"DROP FUNCTION IF EXISTS {qfn}()")]))
        if syncs:
            self.add(Phase.EXPAND, f"triggers store writes of {key}.{a} as {b!r} "
                                   f"({', '.join(f'{t}.{col.name}' for t, col in columns)}); from here on OLD "
                                   f"reads {b!r} where rows hold it (a client that rejects values it does not know, "
                                   "as Prisma's does, needs it first, or keep the database value with @map)",
                     [self.ddl("\n".join(syncs))], [self.ddl("\n".join(unsyncs))], change=c,
                     # after the steps that take ACCESS EXCLUSIVE on the same tables (the R8 shadow
                     # column): CREATE TRIGGER's SHARE ROW EXCLUSIVE first would make them wait for
                     # a stronger lock while holding it (a lock upgrade behind any open reader)
                     rank=2)
        for table, col in columns:
            pk = self.pk_columns(self.old.table(table))
            bk = self.backup_name(table, col.name, a)
            qc = q(col.name)
            if col.type.endswith("[]"):
                holds, to = f"{lit(a)} = ANY({qc}::text[])", f"array_replace({qc}::text[], {lit(a)}, {lit(b)})::{qt(key)}[]"
                cast, unchanged = f"{qt(key)}[]", f"t.{qc}::text[] = array_replace(b.{qc}::text[], {lit(a)}, {lit(b)})"
            else:
                holds, to = f"{qc}::text = {lit(a)}", lit(b)
                cast, unchanged = qt(key), f"t.{qc}::text = {lit(b)}"
            # the expand trigger would store the restored old value as the new one again: the
            # restore's session turns it off for itself (RESTORING), so no lock (DISABLE TRIGGER
            # took SHARE ROW EXCLUSIVE, holding the application's writes for the whole restore)
            self._backfill_step(c, table, col.name, to, where=holds,
                                upgrade_first=[self.backup(table, pk, col.name, bk, holds, as_text=True)],
                                downgrade=[self.restore(table, pk, col.name, bk, cast=cast, unchanged=unchanged,
                                                        batched=True, restoring=True)])
            self.steps[-1] = dataclasses.replace(self.steps[-1], backup=f"{BACKUP_SCHEMA}.{bk} ({', '.join(pk)}, "
                                                                        f"{col.name} holding {a!r})")
        n = len(self.steps)
        swapped, inplace = self._swap_enum(c, key, new_enum, {a: b})
        up = self._recreate_blocks(key, new_enum, guard_values=[a], renamed={a: b}, swapped=swapped)
        if swapped:
            rest = [(t, col) for t, col in self._enum_columns(self.old, key) if (t, col.name) not in swapped]
            down = self._type_back_blocks(key, _expanded(old_enum, new_enum), rest)
        else:
            down = self._recreate_blocks(key, _expanded(old_enum, new_enum))
        if syncs:
            # first in contract (its own transaction), before the swaps: its downgrade runs
            # after theirs, once the old columns are back (a trigger run in between would keep
            # a plan of the swapped column's type)
            self.add(Phase.CONTRACT, f"drop the triggers that store writes of {key}.{a} as {b!r}",
                     [self.ddl("\n".join(unsyncs))], [self.ddl("\n".join(syncs))], change=c)
            self.steps.insert(n, self.steps.pop())
        self.add(Phase.CONTRACT, f"recreate enum {key} without {a!r} (renamed to {b!r})"
                                 f"{_recreate_note(swapped, inplace)}", up, down, change=c)

    def _enum_columns(self, schema: Schema, key: str) -> list[tuple[str, Column]]:
        """Columns of enum `key` in `schema`'s tables, except those this plan drops: dropped
        tables are moved aside (their enum columns become text) and dropped columns go (backed
        up as text) before any enum is recreated in contract; their downgrades run after the
        enum is back."""
        dropped = {c.table for c in self.diff.changes if c.kind == Kind.DROP_TABLE}
        gone = {(c.table, c.column) for c in self.diff.changes if c.kind == Kind.DROP_COLUMN}
        return [(k, col) for t in schema.tables if (k := schema.key(t.schema, t.name)) not in dropped
                for col in t.columns if col.enum == key and (k, col.name) not in gone]

    def _added_enum_columns(self, key: str) -> list[tuple[str, Column]]:
        """Columns of enum `key` this plan creates in expand (in new tables, or added to old
        ones): they exist by contract, so recreating the enum there converts them too."""
        added = {c.table for c in self.diff.changes if c.kind == Kind.ADD_TABLE}
        out = [(k, col) for t in self.new.tables if (k := self.new.key(t.schema, t.name)) in added
               for col in t.columns if col.enum == key]
        return out + [(c.table, c.new) for c in self.diff.changes
                      if c.kind == Kind.ADD_COLUMN and c.table not in added and c.new.enum == key]

    def _enum_tmp(self, key: str) -> str:
        """The key of the type enum `key` is recreated as before it takes the name."""
        return qualify(_split(key)[0], derived_name(_split(key)[1], "__planner_new"), None)

    def _swap_enum(self, c: Change, key: str, target: Enum, mapping: dict[str, str],
                   removed: Iterable[str] = ()) -> tuple[list[tuple[str, str]], list[str]]:
        """Enum `key` recreated as `target` without rewriting tables under ACCESS EXCLUSIVE:
        expand creates the new type (`..__planner_new`), and each column of the enum takes R8's
        route to it (_swap_type: a shadow column kept in step by a trigger, keyset backfill, a
        short swap in contract), rows and writes holding a `mapping` value getting its new one.
        Returns the (table, column) pairs swapped, and why each other column (its table has no
        primary key, an index R8 cannot rebuild uses it ...) is converted in place by the
        contract's ALTER ... TYPE, which rewrites its table under ACCESS EXCLUSIVE. `removed`:
        values that leave the type unmapped: rows holding them stop the plan in expand."""
        tmp_key = self._enum_tmp(key)
        schema, tmp = _split(tmp_key)
        todo, inplace = [], []
        for table, col in self._enum_columns(self.old, key):
            arr = col.type.endswith("[]")
            pk = self.pk_columns(self.old.table(table))
            value = f"{q(col.name)}::text{'[]' if arr else ''}"
            for x, y in mapping.items():
                value = (f"array_replace({value}, {lit(x)}, {lit(y)})" if arr else
                         f"(CASE WHEN {value} = {lit(x)} THEN {lit(y)} ELSE {value} END)")
            rule = ConvertRule(using=value) if mapping else None
            default, why = None, None
            if col.default is not None:
                m = re.fullmatch(r"'((?:[^']|'')*)'(?:::.+)?", col.default)
                if m is None or arr:
                    why = f"its default {col.default} is not a single value"
                else:
                    v = m.group(1).replace("''", "'")
                    default = f"{lit(mapping.get(v, v))}::{qt(tmp_key)}"
            new_col = dataclasses.replace(col, enum=tmp_key, type=tmp_key + ("[]" if arr else ""), default=default)
            sc = Change(Kind.ALTER_COLUMN_TYPE, table, col.name, detail={"rule": rule}, old=col, new=new_col)
            if not pk and mapping:  # (without a mapping the values go back as they are: no backup)
                why = "no primary key to give the remapped values back by"
            touched = [x for x in self.diff.changes if x.table == table and col.name in (x.column, x.detail.get("from"))]
            why = why or (f"{table}.{col.name} changes too ({touched[0].kind.value})" if touched else None)
            # a view's literals of the enum are cast to the type by name: created again at the
            # swap, `'x'::type` would name the old type; in place, the views come back after the
            # new type has taken the name
            why = why or ("a view may read it" if self._view_may_read(col.name) else None)
            why = why or self._swap_blocker(sc)
            if why is not None:
                inplace.append(f"{table}.{col.name} ({why})")
                continue
            enum_t = postgresql.ENUM(*target.values, name=tmp, schema=schema, create_type=False)
            todo.append((sc, pk, self.sa_column(self.old_md, table, col.name).type,
                         postgresql.ARRAY(enum_t) if arr else enum_t))
        inplace += [f"{t}.{col.name} (added by this plan)" for t, col in self._added_enum_columns(key)]
        if not todo:
            return [], inplace
        guards = [Guard(f"SELECT count(*) FROM {qt(t)} WHERE " + (f"{lit(v)} = ANY({q(col.name)}::text[])"
                                                                   if col.type.endswith("[]") else
                                                                   f"{q(col.name)}::text = {lit(v)}"),
                        f"rows of {t}.{col.name} hold {v!r}, which {key} loses: {self._unremapped(key, v, t, col)}")
                  for v in removed for t, col in self._enum_columns(self.old, key)]
        self.add(Phase.EXPAND, f"create enum {tmp_key} ({key} as NEW has it; takes its name in contract)",
                 [self.ddl(execute(self._create_enum_sql(target, tmp_key)))],
                 [self.ddl(execute(f"DROP TYPE IF EXISTS {qt(tmp_key)}"))], guards=guards, change=c)
        for sc, pk, old_t, new_t in todo:
            n = len(self.steps)
            self._swap_type([(sc, old_t, new_t)], pk, [])
            self.steps[n:] = [dataclasses.replace(s, change_id=c.id) for s in self.steps[n:]]
        return [(sc.table, sc.column) for sc, *_ in todo], inplace

    @staticmethod
    def _type_like(target: str, source: str) -> str:
        """PostgreSQL: enum type `target` (a key) takes the owner, privileges and comment of
        `source`, which it replaces (a recreated type lost them: owned by the migration's role,
        USAGE for PUBLIC again, no comment). A role that may not give the owner away warns."""
        t = lit(qt(target))
        body = (f" DECLARE planner_s oid := to_regtype({lit(qt(source))}); r record; BEGIN "
                "IF planner_s IS NULL THEN RETURN; END IF; "
                f"EXECUTE format('COMMENT ON TYPE %s IS %L', {t}, obj_description(planner_s, 'pg_type')); "
                "IF (SELECT typacl FROM pg_type WHERE oid = planner_s) IS NOT NULL THEN "
                f"EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', {t}); "
                "FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_type p, aclexplode(p.typacl) a "
                "WHERE p.oid = planner_s LOOP "
                f"EXECUTE format('GRANT %s ON TYPE %s TO %s%s', r.privilege_type, {t}, CASE WHEN r.grantee = 0 "
                "THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, CASE WHEN r.is_grantable "
                "THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END IF; "
                "BEGIN "
                f"EXECUTE format('ALTER TYPE %s OWNER TO %I', {t}, "
                "(SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = planner_s)); "
                "EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING USING MESSAGE = "
                f"'planner: ' || {t} || ' could not take the owner of the type it replaces: ' || SQLERRM; END; END ")
        return "DO " + dollar_quote(body)

    def _type_back_blocks(self, key: str, target: Enum, columns: list[tuple[str, Column]]) -> list[Block]:
        """The downgrade of a recreation whose columns _swap_enum swapped: the type takes its
        temporary name again, `key` comes back with `target`'s values, and `columns` (those
        converted in place) go back to it; the swapped ones go back in their own steps."""
        tmp_key = self._enum_tmp(key)
        readers = self._typed_literal_readers(self.old, columns)
        lines = [execute(f"ALTER TYPE {qt(key)} RENAME TO {q(_split(tmp_key)[1])}"),
                 execute(self._create_enum_sql(target, key)), execute(self._type_like(key, tmp_key)),
                 *(drop for drop, _ in readers)]
        for table, col in columns:
            arr = "[]" if col.type.endswith("[]") else ""
            if col.default is not None:
                lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} DROP DEFAULT"))
            lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} TYPE {qt(key)}{arr} "
                                 f"USING {q(col.name)}::text{arr}::{qt(key)}{arr}"))
            if col.default is not None:
                lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} SET DEFAULT {col.default}"))
        lines += [again for _, again in readers]
        for table, col in reversed(columns):
            lines = [views_kept(table, [col.name], lines)]
        # a downgrade stopped later on (a swap's way back) and run again finds this done: the
        # type has its temporary name again (it failed on `type ... already exists`)
        done = f"rt.has_type({py(qt(tmp_key))})"
        return [self.ddl(f"if not {done}:\n" + textwrap.indent("\n".join(lines), "    "))]

    def _recreate_blocks(self, key: str, target: Enum, *, guard_values: Iterable[str] = (),
                         renamed: dict[str, str] | None = None, first: Iterable[str] = (),
                         with_added: bool = False, last: bool = False,
                         swapped: Iterable[tuple[str, str]] = ()) -> list[Block]:
        """R10: recreate enum `key` with `target`'s values, converting every column of it
        (rows and defaults holding a `renamed` value get its new one). `with_added`: also the
        columns this plan adds in expand (in contract they exist). `last`: the final step of a
        downgrade (an expand step's), when every later step is undone: the tables and columns
        the plan drops are back and renames are reverted, so every column of OLD, under OLD's
        names. `swapped`: (table, column) already converted to the new type by R8 swaps
        (_swap_enum), which also created it: only the others are converted here."""
        tmp_key = self._enum_tmp(key)
        swapped = set(swapped)
        lines = [*first] + ([] if swapped else [execute(self._create_enum_sql(target, tmp_key))])
        if last:
            columns = [(self.original_old.key(t.schema, t.name), col) for t in self.original_old.tables
                       for col in t.columns if col.enum == key]
        else:
            columns = self._enum_columns(self.old, key) + (self._added_enum_columns(key) if with_added else [])
        columns = [(t, col) for t, col in columns if (t, col.name) not in swapped]
        readers = self._typed_literal_readers(self.original_old if last else self.old, columns)
        lines += [drop for drop, _ in readers]
        for table, col in columns:
            arr = "[]" if col.type.endswith("[]") else ""
            if col.default is not None:
                lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} DROP DEFAULT"))
            value = f"{q(col.name)}::text{arr}"
            for x, y in (renamed or {}).items():  # a renamed value is the same value: rows follow
                value = (f"array_replace({value}, {lit(x)}, {lit(y)})" if arr else
                         f"(CASE WHEN {value} = {lit(x)} THEN {lit(y)} ELSE {value} END)")
            lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} TYPE {qt(tmp_key)}{arr} "
                                 f"USING {value}::{qt(tmp_key)}{arr}"))
        lines.append(execute(self._type_like(tmp_key, key)))
        lines.append(execute(f"DROP TYPE {qt(key)}"))
        lines.append(execute(f"ALTER TYPE {qt(tmp_key)} RENAME TO {q(_split(key)[1])}"))
        for table, col in columns:
            if col.default is not None:
                default = col.default
                for a, b in (renamed or {}).items():
                    default = default.replace(lit(a), lit(b))
                lines.append(execute(f"ALTER TABLE {qt(table)} ALTER COLUMN {q(col.name)} SET DEFAULT {default}"))
        lines += [again for _, again in readers]
        for table, col in reversed(columns):  # (the views that read them go and come back around it all)
            lines = [views_kept(table, [col.name], lines)]
        guards = []
        for v in guard_values:
            # a swapped column holds the new type already (no removed value): not scanned again
            for table, col in (columns if last else [(t, col) for t, col in self._enum_columns(self.old, key)
                                                     if (t, col.name) not in swapped]):
                cond = f"{lit(v)} = ANY({q(col.name)}::text[])" if col.type.endswith("[]") else \
                    f"{q(col.name)}::text = {lit(v)}"
                sql = f"SELECT count(*) FROM {qt(table)} WHERE {cond}"
                guards.append(Guard(sql, f"rows of {table}.{col.name} hold {v!r}: "
                                         f"{self._unremapped(key, v, table, col)}").code())
        blocks = [Block("\n".join(guards))] if guards else []
        return [*blocks, self.ddl("\n".join(lines))]

    def _unremapped(self, key: str, v: str, table: str, col: Column) -> str:
        """What to do about rows of `table.col` still holding removed value `v` of enum `key`:
        remap them, or, where a remap is configured but cannot move them (an array column, a
        table without a primary key to give them back by on downgrade), move them by hand."""
        if f"{key}.{v}" not in self.enum_remap:
            return f"remap them first ([tool.planner.enum_remap] \"{key}.{v}\" = \"<value>\")"
        if col.type.endswith("[]"):
            return "the configured remap moves no array element: replace them by hand first"
        return (f"the configured remap moves no row of {table}, which has no primary key to give them back by on "
                "downgrade: move them by hand first, or add a primary key")

    def _original_old_md(self) -> sa.MetaData:
        """OLD's metadata under OLD's own table names (self.old_md has NEW's)."""
        if self.original_old is self.old:
            return self.old_md
        if not hasattr(self, "_original_md"):
            from planner.verify.metadata import to_metadata

            self._original_md = to_metadata(self.original_old)
            if self.DIALECT == "postgresql":
                _enums_not_created(self._original_md)
        return self._original_md

    def _typed_literal_readers(self, schema: Schema, columns: list[tuple[str, Column]]) -> list[tuple[str, str]]:
        """(drop, create again) for each CHECK, and each index with a predicate or expressions, of
        `schema` that reads one of `columns` (an enum's, converted in place to the enum's new
        type): the server keeps their literals typed as the old enum (`s <> 'w'::status`), and
        the conversion failed on them (`operator does not exist: status__planner_new <>
        status`), the naive migration too. They are dropped before it and created again as they
        were once the new type has the name (in the same transaction: the conversion rewrites
        the table and its indexes under its lock anyway). One that the plan changes or drops
        stops the plan (its old definition may name a value that goes)."""
        out: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for table, col in columns:
            t = schema.table(table)
            if t is None:
                continue
            mentions = _mentions(col.name)
            tschema, tname = _split(table)
            for ch in t.checks:
                if not ch.name or (table, ch.name) in seen or not mentions.search(ch.expression):
                    continue
                seen.add((table, ch.name))
                if self._changed(table, ch.name, (Kind.DROP_CHECK, Kind.ADD_CHECK)):
                    raise PlanError(f"CHECK {ch.name} of {table} reads {col.name}, whose enum type {col.enum} is "
                                    "recreated, and changes too: change or drop it in an earlier release")
                out.append((render([ops.DropConstraintOp(ch.name, tname, type_="check", schema=tschema)]),
                            execute(f"ALTER TABLE {qt(table)} ADD CONSTRAINT {q(ch.name)} "
                                    f"CHECK ({quoted_expression(ch.expression, self.DIALECT)})")))
            for i in t.indexes:
                reads = bool(i.where and mentions.search(i.where)) or any(
                    p.expression and mentions.search(p.expression) for p in i.parts)
                if not i.name or i.constraint or (table, i.name) in seen or not reads:
                    continue
                seen.add((table, i.name))
                if self._changed(table, i.name, (Kind.DROP_INDEX, Kind.ADD_INDEX)):
                    raise PlanError(f"index {i.name} of {table} reads {col.name}, whose enum type {col.enum} is "
                                    "recreated, and changes too: change or drop it in an earlier release")
                op_ = self._index_op(self.old_md if schema is self.old else self._original_old_md(), table, i)
                op_.kw.pop("postgresql_concurrently", None)
                op_.if_not_exists = False
                out.append((render([ops.DropIndexOp(i.name, table_name=tname, schema=tschema)]), render([op_])))
        return out

    def recreate_enum(self, c: Change) -> None:
        if c.table is not None:
            raise PlanError(f"{c.id}: MySQL inline ENUM changes are planned by the MySQL planner")
        key = c.name
        new_enum = self.new.enum(key)
        old_enum = self.old.enum(key)
        removed = [v for v in old_enum.values if v not in new_enum.values]
        remapped = {v: self.enum_remap[f"{key}.{v}"] for v in removed if f"{key}.{v}" in self.enum_remap}
        for v, target in remapped.items():
            if target not in new_enum.values:
                raise PlanError(f"[tool.planner.enum_remap] {key}.{v} = {target!r}: {target!r} is not a value of "
                                f"{key} in NEW")
        held = [(v, table, col, self.pk_columns(self.old.table(table)))
                for v in removed for table, col in self._enum_columns(self.old, key)]
        held = [(v, table, col, pk) for v, table, col, pk in held if pk and not col.type.endswith("[]")]
        names = {(v, table, col.name): self.backup_name(table, col.name, v) for v, table, col, _ in held}
        for v, table, col, pk in held:
            if v in remapped:  # backfill: rows holding v move to the mapped value (backed up first)
                bk = names[v, table, col.name]
                self._backfill_step(c, table, col.name, f"{lit(remapped[v])}", fires_triggers=True,
                                    where=f"{q(col.name)}::text = {lit(v)}",
                                    upgrade_first=[self.backup(table, pk, col.name, bk,
                                                               f"{q(col.name)}::text = {lit(v)}", as_text=True)],
                                    downgrade=[self.restore(table, pk, col.name, bk, cast=qt(key),
                                                            unchanged=f"t.{q(col.name)}::text = "
                                                                      f"{lit(remapped[v])}", batched=True)])
        swapped, inplace = self._swap_enum(c, key, new_enum, remapped, [v for v in removed if v not in remapped])
        # a swapped column cannot hold a removed value (expand's guard stops the plan, its sync
        # trigger refuses writes of one) and its swap backs the whole column up: nothing to keep
        held = [h for h in held if h[0] not in remapped and (h[1], h[2].name) not in swapped]
        up = [self.backup(table, pk, col.name, names[v, table, col.name], f"{q(col.name)}::text = {lit(v)}",
                          as_text=True) for v, table, col, pk in held]
        up += self._recreate_blocks(key, new_enum, guard_values=removed, with_added=True, swapped=swapped)
        # back to the type as expand left it: OLD's values and the ones expand added (rows may
        # hold those, remapped there; the backfill and expand downgrades deal with them after)
        if swapped:
            rest = [(t, col) for t, col in self._enum_columns(self.old, key) + self._added_enum_columns(key)
                    if (t, col.name) not in swapped]
            down = self._type_back_blocks(key, _expanded(old_enum, new_enum), rest)
        else:
            down = self._recreate_blocks(key, _expanded(old_enum, new_enum), with_added=True)
        down += [self.restore(table, pk, col.name, names[v, table, col.name], cast=qt(key))
                 for v, table, col, pk in held]
        backups = list(names.values())
        what = ", ".join(removed) if removed else "reordered values"
        self.add(Phase.CONTRACT, f"recreate enum {key} ({what}){_recreate_note(swapped, inplace)}", up, down,
                 change=c,
                 backup=", ".join(f"{BACKUP_SCHEMA}.{b}" for b in backups) or None)

    # ----------------------------------------------------------------- tables
    def add_table(self, c: Change) -> None:
        sat = self.table(self.new_md, c.table)
        create = ops.CreateTableOp.from_table(sat)
        index_ops = [ops.CreateIndexOp.from_index(i) for i in sorted(sat.indexes, key=lambda i: i.name or "")]
        self.add(Phase.EXPAND, f"create table {c.table}", [Block(render([create, *index_ops]))],
                 [Block(render([ops.DropTableOp.from_table(sat)]))], change=c)

    def drop_table(self, c: Change) -> None:
        name = _split(c.table)[1]
        bk = self.backup_name(c.table, "dropped")
        self.keep(BACKUP_SCHEMA, bk)
        moved = f"{q(BACKUP_SCHEMA)}.{q(bk)}"
        # enum columns are kept as text aside, so the enum types can be dropped meanwhile
        enum_cols = [col for col in c.old.columns if col.enum]
        to_text = [execute(f"ALTER TABLE {moved} ALTER COLUMN {q(col.name)} DROP DEFAULT") for col in enum_cols
                   if col.default is not None]
        to_text += [execute(f"ALTER TABLE {moved} ALTER COLUMN {q(col.name)} TYPE text"
                            f"{'[]' if col.type.endswith('[]') else ''}") for col in enum_cols]
        back = []
        for col in enum_cols:
            arr = "[]" if col.type.endswith("[]") else ""
            back.append(execute(f"ALTER TABLE {qt(c.table)} ALTER COLUMN {q(col.name)} TYPE {qt(col.enum)}{arr} "
                                f"USING {q(col.name)}::{qt(col.enum)}{arr}"))
            if col.default is not None:
                back.append(execute(f"ALTER TABLE {qt(c.table)} ALTER COLUMN {q(col.name)} SET DEFAULT {col.default}"))
        renamed = qt(_join(_split(c.table)[0], bk))
        up = [Block(execute(f"CREATE SCHEMA IF NOT EXISTS {q(BACKUP_SCHEMA)}")),
              self.ddl("\n".join([execute(f"ALTER TABLE {qt(c.table)} RENAME TO {q(bk)}"),
                                   execute(_names_aside(renamed, bk)),
                                   execute(f"ALTER TABLE {renamed} SET SCHEMA {q(BACKUP_SCHEMA)}"), *to_text]))]
        if _split(c.table)[0]:
            home = execute(f"ALTER TABLE {moved} SET SCHEMA {q(_split(c.table)[0])}")
        else:  # back into the migration session's current schema (Prisma's `?schema=` sets it), not 'public'
            home = execute("DO " + dollar_quote(f" BEGIN EXECUTE format('ALTER TABLE %s SET SCHEMA %I', "
                                                f"{lit(moved)}, current_schema()); END "))
        down = [self.ddl("\n".join([home,
                                     execute(f"ALTER TABLE {renamed} RENAME TO {q(name)}"),
                                     execute(_names_back(qt(c.table) if _split(c.table)[0] else q(name), bk)),
                                     *back]))]
        self.add(Phase.CONTRACT, f"move table {c.table} aside (to {BACKUP_SCHEMA}.{bk})", up, down, change=c,
                 backup=f"{BACKUP_SCHEMA}.{bk} (the whole table, until the cleanup revision)")

    def rename_table(self, c: Change) -> None:
        """R11, the cheap form: rename, and leave a view under the old name (simple views are
        updatable) so the running code keeps working until the contract phase drops it."""
        old, new = c.detail["from"], c.detail["to"]

        def rename(a: str, b: str) -> str:  # Alembic's renderer has no RenameTableOp
            schema = _split(a)[0]
            if schema != _split(b)[0] and self.DIALECT == "postgresql":  # to another schema
                return "\n".join(self._moved("TABLE", a, b))
            if schema != _split(b)[0]:
                raise PlanError(f"{c.id}: moving table {a} to another database ({b}) is not supported on "
                                f"{self.DIALECT}; create {b}, copy the rows and drop {a} by hand")
            extra = f", schema={schema!r}" if schema else ""
            return f"op.rename_table({_split(a)[1]!r}, {_split(b)[1]!r}{extra})"

        view = execute(f"CREATE VIEW {self.quote_table(old)} AS SELECT * FROM {self.quote_table(new)}")
        drop_view = execute(f"DROP VIEW {self.quote_table(old)}")
        self.add(Phase.EXPAND, f"rename table {old} to {new} (a view keeps the old name until contract)",
                 [self.ddl(rename(old, new) + "\n" + view)], [self.ddl(drop_view + "\n" + rename(new, old))],
                 change=c, rank=-10)
        # the contract's downgrade puts back the view expand made: OLD's columns (not `*`: by then
        # the table also has the columns expand added, whose downgrade drops them). Column renames
        # are contract steps after this one: their downgrades have run, the names are OLD's again
        table = self.old.table(new)
        columns = ", ".join(quote_ident(col.name, self.DIALECT) for col in table.columns) \
            if table is not None and table.columns else "*"
        again = execute(f"CREATE VIEW {self.quote_table(old)} AS SELECT {columns} FROM {self.quote_table(new)}")
        # first in contract: the view selects every column, and a contract step that drops one
        # (an R8 swap, a drop) would fail on it ("view depends on column"); its downgrade, last
        self.add(Phase.CONTRACT, f"drop the compatibility view {old}", [Block(drop_view)], [Block(again)], change=c,
                 rank=-20)

    # ----------------------------------------------------------------- columns
    def add_column(self, c: Change) -> None:
        col: Column = c.new
        schema, table = _split(c.table)
        sacol = self.sa_column(self.new_md, c.table, col.name)
        drop = [self.ddl(render([ops.DropColumnOp(table, col.name, schema=schema)]))]
        rewrites = col.default_volatile or col.autoincrement in ("sequence", "identity", "identity_always")
        if (col.nullable or col.default is not None) and not rewrites:
            self.add(Phase.EXPAND, f"add column {c.object}",
                     [self.ddl(render([ops.AddColumnOp(table, sacol, schema=schema)]))], drop, change=c)
            return
        # R2: add it nullable without the (volatile) default, set the default for new rows,
        # backfill the old rows in batches, then NOT NULL through a validated CHECK
        loose = sacol._copy()
        loose.nullable = True
        loose.server_default = None
        loose.autoincrement = False
        loose.identity = None
        expand = [self.ddl(render([ops.AddColumnOp(table, loose, schema=schema)]))]
        if col.default is not None:
            expand.append(self.ddl(self.set_default(c.table, col.name, loose.type, col.default)))
        self.add(Phase.EXPAND, f"add column {c.object} (nullable first)", expand, drop, change=c)
        # NEW writes the column: it runs before the backfill (not depending on it yet)
        if col.default is not None:
            self._backfill_step(c, c.table, col.name, col.default, new_waits=False)
        elif c.object in self.backfill_exprs:
            self._backfill_step(c, c.table, col.name, self.backfill_exprs[c.object], new_waits=False,
                                fires_triggers=True)
        elif col.autoincrement:
            raise PlanError(f"{c.id}: adding a serial/identity column to an existing table rewrites it; "
                            "add it as a plain column with a sequence default instead")
        if not col.nullable:
            guard = self.unfilled_guard(c, col.name)
            filled = col.default is not None or c.object in self.backfill_exprs
            # without a default, OLD's inserts (which leave the column out) fail from the check on
            self._not_null_steps(c, c.table, col.name, guards=[] if filled else [guard],
                                 breaks_old=col.default is None)

    def _backfill_step(self, c: Change, table: str, column: str, expression: str, *,
                       where: str | None = None, downgrade: list[Block] | None = None,
                       upgrade_first: list[Block] | None = None, upgrade_after: list[Block] | None = None,
                       new_waits: bool | None = None, analyze: bool = True,
                       record: str | None = None, more: Iterable[tuple[str, str]] = (),
                       fires_triggers: bool = False) -> None:
        """R12: keyset batches of BATCH_SIZE rows by primary-key range, each committed on its
        own, so the whole backfill reads the table once (linear in its size); ANALYZE after
        (`analyze=False`: a later step analyzes the column before anything reads it).
        `record`: the backup table (quoted) whose FILLED column gets what each row was set to.
        `more`: (column, expression) set by the same batches (PostgreSQL). `fires_triggers`:
        the batches stand for the UPDATE a user would write (a stated backfill, a remap), so the
        table's own triggers fire for them; otherwise they stand for DDL (a conversion, a
        rename, a default) and fire none where the session may (rt.batched)."""
        cond = where or f"{q(column)} IS NULL"
        self.add(Phase.BACKFILL, f"backfill {table}.{', '.join([column, *(x for x, _ in more)])} in batches",
                 [*(upgrade_first or []), Block(self._batches(table, column, expression, cond, analyze, record,
                                                              more=more, quiet=not fires_triggers),
                                                autocommit=True),
                  *(upgrade_after or [])], downgrade or [], change=c, new_waits=new_waits)

    def _batches(self, table: str, column: str, expression: str, cond: str, analyze: bool = True,
                 record: str | None = None, *, more: Iterable[tuple[str, str]] = (), quiet: bool = True) -> str:
        """The code of a batched `SET column = expression WHERE cond` (PostgreSQL: keyset by
        primary key in one PL/pgSQL block, by ctid without one; then ANALYZE). `more`: other
        (column, expression) the same batches set."""
        pk = self.pk_columns(self.new.table(table) or self.old.table(table))
        sets = [(column, expression), *more]
        assignment = ", ".join(f"{q(x)} = {e}" for x, e in sets)
        what = f"{table}.{', '.join(x for x, _ in sets)}"
        if pk:
            code = _keyset_backfill(table, pk, assignment, cond, what, record=(record, column) if record else None,
                                    quiet=quiet)
        else:  # no key to range over: the row address, a range of pages a batch
            code = _page_backfill(table, assignment, cond, what, quiet=quiet)
        return code + "\n" + execute(f"ANALYZE {qt(table)}") if analyze else code

    def _not_null_steps(self, c: Change, table: str, column: str, *, guards: list[Guard],
                        type_: sa.types.TypeEngine | None = None, breaks_old: bool | None = None) -> None:
        """R3: CHECK (col IS NOT NULL) NOT VALID -> VALIDATE -> SET NOT NULL -> drop the CHECK.

        The NOT VALID check is committed at the end of the backfill revision, after every
        backfill (a NOT VALID check already applies to updated rows), and after `guards` found
        no NULL left (without a backfill): a check added over NULL rows would make every update
        of such a row fail until the contract. VALIDATE runs at the start of the contract in its
        own transaction (SHARE UPDATE EXCLUSIVE: writes go on), SET NOT NULL in the contract's
        transaction then needs no scan, so no scan ever runs under ACCESS EXCLUSIVE."""
        schema, name = _split(table)
        check = derived_name(f"{name}_{column}", "_not_null")
        add = _add_check_sql(table, check, f"{q(column)} IS NOT NULL")
        drop_check = ops.DropConstraintOp(check, name, type_="check", schema=schema, if_exists=True)
        self.add(Phase.BACKFILL, f"NOT VALID check {check}", [self.ddl(execute(add))],
                 [self.ddl(render([drop_check]))], guards=guards, change=c, stage=Stage.TAIL, breaks_old=breaks_old)
        self.add(Phase.CONTRACT, f"validate check {check} (its own transaction)",
                 [online(execute(f"ALTER TABLE {qt(table)} VALIDATE CONSTRAINT {q(check)}"))], [], change=c,
                 stage=Stage.PRE)
        sacol_type = type_ if type_ is not None else self.sa_column(self.new_md, table, column).type
        contract = [self.ddl(_set_not_null_by_check(table, column, check, sacol_type))]
        # the way back leaves what the backfill revision left, its NOT VALID check too (instant:
        # no scan), so that a retry of the contract finds the check it validates
        down = [self.ddl("\n".join([
            render([ops.AlterColumnOp(name, column, schema=schema, modify_nullable=True, existing_type=sacol_type,
                                      existing_nullable=False)]),
            render([drop_check]), execute(add)]))]
        self.add(Phase.CONTRACT, f"SET NOT NULL {table}.{column} via the validated check", contract, down,
                 change=c)

    def _not_null_back(self, table: str, column: str, type_: sa.types.TypeEngine, *,
                       check_on: str | None = None) -> tuple[list[Block], str]:
        """NOT NULL put back by a downgrade without a scan under ACCESS EXCLUSIVE: the blocks
        that add `CHECK (col IS NOT NULL) NOT VALID` (a short step, re-runnable) and VALIDATE it
        online, and the SQL of the short step that then sets NOT NULL (no scan: the validated
        check proves it) and drops the check. `check_on`: the column the check reads, when the
        column takes its name in that last step (R8's way back)."""
        schema, name = _split(table)
        on = check_on or column
        check = derived_name(f"{name}_{on}", "_not_null")
        drop = ops.DropConstraintOp(check, name, type_="check", schema=schema, if_exists=True)
        blocks = [self.ddl(render([drop]) + "\n" + execute(_add_check_sql(table, check, f"{q(on)} IS NOT NULL"))),
                  online(execute(f"ALTER TABLE {qt(table)} VALIDATE CONSTRAINT {q(check)}"))]
        return blocks, _set_not_null_by_check(table, column, check, type_)

    def drop_column(self, c: Change) -> None:
        col: Column = c.old
        schema, name = _split(c.table)
        t = self.old.table(c.table)
        pk = self.pk_columns(t)
        bk = self.backup_name(c.table, col.name)
        sacol = self.sa_column(self.old_md, c.table, col.name)
        if not pk:
            raise PlanError(f"{c.id}: table {c.table} has no primary key, so dropped values cannot be "
                            "restored row by row; add a primary key first")
        loose = sacol._copy()
        loose.nullable = True
        loose.server_default = None
        loose.autoincrement = False
        loose.identity = None
        # an enum column is backed up as text: a backup of the enum type would keep the type
        # from being recreated or dropped in the same contract
        arr = "[]" if col.type.endswith("[]") else ""
        # the backup's column takes what the model does not hold of the column (statistics
        # target, n_distinct, privileges, STORAGE, COMPRESSION), and gives it back on downgrade
        kept = f"{BACKUP_SCHEMA}.{bk}"
        up = [self.backup(c.table, pk, col.name, bk, as_text=bool(col.enum)),
              self.ddl("\n".join([column_like(kept, col.name, col.name, source_table=c.table),
                                  render([ops.DropColumnOp(name, col.name, schema=schema)])]))]
        # downgrade: the column comes back nullable, gets its values, then its default and NOT NULL
        # (the column is added in its own transaction, IF NOT EXISTS: the values go back in batches
        # outside it, and a re-run after a failed batch goes on from there)
        down = [self.ddl("\n".join([render([ops.AddColumnOp(name, loose, schema=schema, if_not_exists=True)]),
                                    column_like(c.table, col.name, col.name, source_table=kept)])),
                self.restore(c.table, pk, col.name, bk, cast=f"{qt(col.enum)}{arr}" if col.enum else None,
                             batched=True)]
        if col.default is not None:
            down.append(self.ddl(self.set_default(c.table, col.name, sacol.type, col.default)))
        # NEW's inserts leave a dropped column out: a NOT NULL one without a default would refuse
        # them until the contract, so expand drops the NOT NULL (metadata only) and NEW runs from then
        loosen = not col.nullable and col.default is None and col.name not in pk and not col.generated
        if loosen:
            nn_blocks, set_nn = self._not_null_back(c.table, col.name, sacol.type)
            nulls = Guard(f"SELECT count(*) FROM {qt(c.table)} WHERE {q(col.name)} IS NULL",
                          f"{c.object} has NULLs (rows written without it since the upgrade): the downgrade "
                          "cannot make it NOT NULL again; fill them first")
            self.add(Phase.EXPAND, f"DROP NOT NULL {c.object}, so that inserts that leave it out (NEW) work until "
                                   "contract drops it",
                     [self.ddl(render([ops.AlterColumnOp(name, col.name, schema=schema, modify_nullable=True,
                                                         existing_type=sacol.type, existing_nullable=False)]))],
                     [Block(f"rt.guard({py(nulls.sql)}, {py(nulls.message)})"), *nn_blocks, self.ddl(set_nn)],
                     change=c)
        elif not col.nullable:
            nn_blocks, set_nn = self._not_null_back(c.table, col.name, sacol.type)
            down += [*nn_blocks, self.ddl(set_nn)]
        self.add(Phase.CONTRACT, f"drop column {c.object} (backed up)", up, down, change=c,
                 backup=f"{BACKUP_SCHEMA}.{bk} ({', '.join(pk)}, {col.name})",
                 new_waits=True if not col.nullable and col.default is None and not loosen else None)

    def rename_column(self, c: Change) -> None:
        """R11 by default: the new column kept in step with the old one by a trigger, both ways,
        backfilled, the old one dropped in contract, so OLD and NEW both run in between. In
        place (one RENAME in contract, every writer switching at once) when asked for in config
        or when something the copy cannot carry names the column (the title says which)."""
        schema, name = _split(c.table)
        a, b = c.detail["from"], c.detail["to"]
        why = "renames_in_place = true in config" if self.renames_in_place else self._rename_blocker(c)
        if why is None:
            self._rename_by_copy(c)
            return
        self.add(Phase.CONTRACT, f"rename column {c.table}.{a} to {b} in place ({why}): no application version "
                                 "works both before and after it, every writer must switch at once",
                 [self.ddl(render([ops.AlterColumnOp(name, a, schema=schema, modify_name=b)]))],
                 [self.ddl(render([ops.AlterColumnOp(name, b, schema=schema, modify_name=a)]))], change=c,
                 new_waits=True)

    def _final_name(self, table: str, name: str | None, kinds: tuple[Kind, ...]) -> str | None:
        """`name` of an index or constraint of `table` as NEW has it (after a rename change)."""
        return next((x.detail["to"] for x in self.diff.changes if x.kind in kinds and x.table == table
                     and x.detail.get("from") == name), name)

    def _changed(self, table: str, name: str | None, kinds: tuple[Kind, ...]) -> bool:
        return any(x.kind in kinds and x.table == table and name in (getattr(x.old, "name", None), x.name)
                   for x in self.diff.changes)

    def _rename_copies(self, c: Change) -> tuple[list[tuple[Index, Index]], list[tuple[ForeignKey, ForeignKey]],
                                                  list[tuple[object, object]]] | str:
        """The indexes (and UNIQUE constraints), foreign keys and CHECKs of OLD that name the
        renamed column, each with NEW's definition (on the new column, under its final name),
        to be built again on the new column; or why they cannot be."""
        a = c.detail["from"]
        t_old, t_new = self.old.table(c.table), self.new.table(c.table)
        if t_old is None or t_new is None:
            return "the table changes too"
        mentions = _mentions(a)
        idx, fks, checks = [], [], []
        index_kinds = (Kind.DROP_INDEX, Kind.DROP_UNIQUE)
        for i in t_old.indexes:
            uses = any(p.column == a or (p.expression and mentions.search(p.expression)) for p in i.parts) \
                or a in i.include or bool(i.where and mentions.search(i.where))
            if not uses or self._changed(c.table, i.name, index_kinds):
                continue  # dropped (or redefined) by its own change
            final = self._final_name(c.table, i.name, (Kind.RENAME_INDEX, Kind.RENAME_CONSTRAINT))
            target = next((j for j in t_new.indexes if j.name == final), None)
            if target is None or not i.name:
                return f"index {i.name} has no counterpart in NEW"
            idx.append((i, target))
        for fk in t_old.foreign_keys:
            if a not in fk.columns or self._changed(c.table, fk.name, (Kind.DROP_FOREIGN_KEY,)):
                continue
            if self._changed(c.table, fk.name, (Kind.ALTER_FOREIGN_KEY,)):
                return f"foreign key {fk.name} changes too"
            final = self._final_name(c.table, fk.name, (Kind.RENAME_CONSTRAINT,))
            target = next((f for f in t_new.foreign_keys if f.name == final), None)
            if target is None or not fk.name:
                return f"foreign key {fk.name} has no counterpart in NEW"
            fks.append((fk, target))
        for ch in t_old.checks:
            if not mentions.search(ch.expression) or self._changed(c.table, ch.name, (Kind.DROP_CHECK,)):
                continue
            final = self._final_name(c.table, ch.name, (Kind.RENAME_CONSTRAINT,))
            target = next((x for x in t_new.checks if x.name == final), None)
            if target is None or not ch.name:
                return f"CHECK {ch.name} has no counterpart in NEW"
            checks.append((ch, target))
        return idx, fks, checks

    def _rename_blocker(self, c: Change) -> str | None:
        """Why column rename c cannot go by a new column kept in step (None: it can)."""
        a, b = c.detail["from"], c.detail["to"]
        o, n = c.old, c.new
        t_old = self.old.table(c.table)
        if t_old is None or not self.pk_columns(t_old):
            return "no primary key to backfill by"
        if o.autoincrement or n.autoincrement or o.generated or n.generated:
            return "a generated, identity or serial column"
        if any(x is not c and x.table == c.table and x.column in (a, b) for x in self.diff.changes):
            return "other changes of the same column"
        if any(x.kind == Kind.RENAME_TABLE and x.table == c.table for x in self.diff.changes):
            return "its table is renamed too"
        if o.enum and any(x.name == o.enum and x.kind in (Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES,
                                                          Kind.RENAME_ENUM_VALUE, Kind.RENAME_ENUM)
                          for x in self.diff.changes):
            return f"its enum type {o.enum} changes too"
        if t_old.primary_key and a in t_old.primary_key.columns:
            return "part of the primary key"
        if self.partitioned(c.table) and any(a in i.columns or a in i.include for i in t_old.indexes):
            return "an index of a partitioned table uses it"
        for schema in (self.old, self.new):
            for t in schema.tables:
                for fk in t.foreign_keys:
                    if schema.key(fk.ref_schema, fk.ref_table) == c.table and a in fk.ref_columns:
                        return f"foreign key {fk.name} references it"
        if self._view_may_read(a):
            return "a view may use it"
        copies = self._rename_copies(c)
        return copies if isinstance(copies, str) else None

    def _fk_copy_steps(self, c: Change, phase: Phase, copy: ForeignKey, becomes: str, on: str) -> None:
        """Foreign key `copy` (another's definition on new column `on`, under a temporary name)
        added NOT VALID at the end of `phase` and validated online at the start of the contract,
        where it takes the name `becomes` when the old column goes."""
        schema, name = _split(c.table)
        self.add(phase, f"foreign key {copy.name} NOT VALID on {on} (becomes {becomes})",
                 [self._fk_ddl(c.table, copy, render([self._fk_op(c.table, copy)]))],
                 [self.ddl(render([ops.DropConstraintOp(copy.name, name, type_="foreignkey", schema=schema,
                                                        if_exists=True)]))], change=c, stage=Stage.TAIL)
        self.add(Phase.CONTRACT, f"validate foreign key {copy.name} (its own transaction)",
                 [online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(copy.name or '')}"))], [],
                 change=c, stage=Stage.PRE, breaks_old=False)

    def _rename_by_copy(self, c: Change) -> None:
        """R11 for a column: expand adds the new column (no default yet, so an insert that leaves
        it out is told apart) and a trigger that keeps both in step: an insert or update that
        writes only the old column (OLD) copies it into the new one, one that writes the new
        column (NEW) copies it into the old one; backfill copies the existing rows in keyset
        batches and builds the indexes, UNIQUE, foreign keys and CHECKs that name the column
        again on the new one (concurrently, NOT VALID then validated); contract checks both
        agree, backs the old column up, drops the trigger and the old column, and gives the
        copies their names, the new column its default and NOT NULL. Every downgrade restores
        the state before it, rows written since included (the old column is filled from the
        new one)."""
        a, b = c.detail["from"], c.detail["to"]
        o, n = c.old, c.new
        schema, name = _split(c.table)
        pk = self.pk_columns(self.old.table(c.table))
        idx, fks, checks = self._rename_copies(c)  # type: ignore[misc]
        new_col = self.sa_column(self.new_md, c.table, b)
        old_col = self.sa_column(self.old_md, c.table, a)
        loose = new_col._copy()
        loose.nullable, loose.server_default, loose.autoincrement, loose.identity = True, None, False, None
        fn = self.function_name(c.table, f"{name}_{a}", "__planner_rename")
        qfn = f"{q(schema)}.{q(fn)}" if schema else q(fn)
        qa, qb = q(a), q(b)
        # the side a write names wins: an INSERT that gives the new column a value (it has no
        # default until contract) is NEW's, one that leaves it NULL is OLD's; an UPDATE that
        # changes the new column is NEW's, any other copies the old column over
        body = (f" BEGIN IF TG_OP = 'INSERT' THEN IF NEW.{qb} IS NULL THEN NEW.{qb} := NEW.{qa}; "
                f"ELSE NEW.{qa} := NEW.{qb}; END IF; "
                f"ELSIF NEW.{qb}::text IS DISTINCT FROM OLD.{qb}::text THEN NEW.{qa} := NEW.{qb}; "
                f"ELSE NEW.{qb} := NEW.{qa}; END IF; RETURN NEW; END ")
        sync_fn = execute(f"CREATE OR REPLACE FUNCTION {qfn}() RETURNS trigger LANGUAGE plpgsql AS "
                          + dollar_quote(body))
        sync_trigger = execute(f"CREATE TRIGGER {q(fn)} BEFORE INSERT OR UPDATE ON {qt(c.table)} FOR EACH ROW "
                               f"EXECUTE FUNCTION {qfn}()")
        sync = sync_fn + "\n" + sync_trigger
        unsync = "\n".join([*self.drop_trigger(c.table, fn), execute(f"DROP FUNCTION IF EXISTS {qfn}()")])
        self.add(Phase.EXPAND, f"add {c.table}.{b} kept in step with {a} both ways by a trigger (rename, R11)",
                 [self.ddl("\n".join([render([ops.AddColumnOp(name, loose, schema=schema)]), sync]))],
                 [self.ddl("\n".join([unsync, render([ops.DropColumnOp(name, b, schema=schema)])]))],
                 change=c, rank=-1,
                 guards=[self._dependents_guard(c.table, a, "the rename by copy",
                                                "drop them before and create them again after, or rename in place "
                                                "(renames_in_place = true in config: every writer switches at once)")])
        self._backfill_step(c, c.table, b, qa, where=f"{qb} IS NULL AND {qa} IS NOT NULL")
        copy_up: list[str] = []
        copy_down: list[str] = []
        rebuild: list[Block] = []
        for i, target in idx:
            copy = derived_name(target.name or "", "__planner_new")
            at = self._final_name(c.table, i.name, (Kind.RENAME_INDEX, Kind.RENAME_CONSTRAINT)) or ""
            self.add(Phase.BACKFILL, f"build index {copy} on {b} concurrently (becomes {target.name})",
                     [_concurrent_build(copy, render([self._index_op(self.new_md, c.table, target, as_name=copy)]))],
                     [online(render([ops.DropIndexOp(copy, table_name=name, schema=schema,
                                                     postgresql_concurrently=True, if_exists=True)]))],
                     change=c, rank=1)
            if target.constraint:
                deferrable = " DEFERRABLE" if target.deferrable else ""
                copy_up.append(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(target.name or '')} UNIQUE "
                                       f"USING INDEX {q(copy)}{deferrable}"))
                copy_down.append(render([ops.DropConstraintOp(target.name, name, type_="unique", schema=schema,
                                                               if_exists=True)]))
            else:
                copy_up.append(rename_index_sql(c.table, copy, target.name or ""))
                copy_down.append(rename_index_sql(c.table, target.name or "", copy, if_exists=True))
            # the old column's index comes back under the name it had before contract
            rebuild.append(_concurrent_build(at, render([self._index_op(self.old_md, c.table, i, as_name=at)])))
            if i.constraint:
                rebuild.append(self._using_index_block(c.table, dataclasses.replace(i, name=at)))
        validate_old = []
        for fk, target in fks:
            copy = derived_name(target.name or "", "__planner_new")
            at = self._final_name(c.table, fk.name, (Kind.RENAME_CONSTRAINT,)) or ""
            self._fk_copy_steps(c, Phase.EXPAND, dataclasses.replace(target, name=copy), target.name or "", b)
            copy_up.append(rename_constraint_sql(c.table, copy, target.name or ""))
            copy_down.append(rename_constraint_sql(c.table, target.name or "", copy, if_exists=True))
            rebuild.append(self._fk_ddl(c.table, fk, render([self._fk_op(c.table, dataclasses.replace(fk, name=at))])))
            validate_old.append(Block(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(at)}")))
        for ch, target in checks:
            copy = derived_name(target.name or "", "__planner_new")
            at = self._final_name(c.table, ch.name, (Kind.RENAME_CONSTRAINT,)) or ""
            add = _add_check_sql(c.table, copy, quoted_expression(target.expression, self.DIALECT))
            self.add(Phase.EXPAND, f"check {copy} NOT VALID on {b} (becomes {target.name})", [self.ddl(execute(add))],
                     [self.ddl(render([ops.DropConstraintOp(copy, name, type_="check", schema=schema,
                                                            if_exists=True)]))], change=c, stage=Stage.TAIL)
            self.add(Phase.CONTRACT, f"validate check {copy} (its own transaction)",
                     [online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(copy)}"))], [], change=c,
                     stage=Stage.PRE, breaks_old=False)
            copy_up.append(rename_constraint_sql(c.table, copy, target.name or ""))
            copy_down.append(rename_constraint_sql(c.table, target.name or "", copy, if_exists=True))
            rebuild.append(self.ddl(execute(_add_check_sql(c.table, at, quoted_expression(ch.expression,
                                                                                           self.DIALECT)))))
            validate_old.append(Block(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(at)}")))
        if not n.nullable:
            self._not_null_steps(c, c.table, b, guards=[], type_=new_col.type)
        bk = self.backup_name(c.table, a, "renamed")
        agree = Guard(f"SELECT count(*) FROM {qt(c.table)} WHERE {qb}::text IS DISTINCT FROM {qa}::text",
                      f"rows of {c.table} where {b} does not hold {a}: run the backfill revision again (and check "
                      "the trigger is there)", inline=True)
        # dropping the old column drops its indexes and constraints; the copies take their names;
        # its statistics target, n_distinct and column privileges go to the new one first (the
        # plain RENAME keeps them)
        up = [column_like(c.table, b, a), unsync, render([ops.DropColumnOp(name, a, schema=schema)]), *copy_up]
        if n.default is not None:
            up.append(self.set_default(c.table, b, new_col.type, n.default))
        arr = "[]" if o.type.endswith("[]") else ""
        back = [*reversed(copy_down)]
        if n.default is not None:
            back.append(self.set_default(c.table, b, new_col.type, None))
        loose_old = old_col._copy()
        loose_old.nullable, loose_old.server_default, loose_old.autoincrement, loose_old.identity = \
            True, None, False, None
        # the old column comes back in its own transaction, with the trigger that keeps both in
        # step (NEW writes the new one meanwhile), all re-runnable; the values go back in batches
        # outside any transaction (from the backup, where the new column still holds what the
        # old one held; rows written since the contract get the new column's value), and only
        # then its default and NOT NULL
        # Until the values are back the trigger only copies NEW's writes of the new column to the
        # old one (the two-way body would copy a not yet restored NULL over the new column on any
        # other UPDATE); the tail gives it the two-way body
        window = (f" BEGIN IF TG_OP = 'INSERT' OR NEW.{qb}::text IS DISTINCT FROM OLD.{qb}::text THEN "
                  f"NEW.{qa} := NEW.{qb}; END IF; RETURN NEW; END ")
        back += [render([ops.AddColumnOp(name, loose_old, schema=schema, if_not_exists=True)]),
                 column_like(c.table, a, b), unsync,
                 execute(f"CREATE OR REPLACE FUNCTION {qfn}() RETURNS trigger LANGUAGE plpgsql AS "
                         + dollar_quote(window)), sync_trigger]
        fill = Block(self._batches(c.table, a, qb, f"{qa} IS NULL AND {qb} IS NOT NULL", analyze=False),
                     autocommit=True)
        tail = [sync_fn]
        if o.default is not None:
            tail.append(self.set_default(c.table, a, old_col.type, o.default))
        nn_blocks: list[Block] = []
        if not o.nullable:
            nn_blocks, set_nn = self._not_null_back(c.table, a, old_col.type)
            tail.append(set_nn)
        self.add(Phase.CONTRACT, f"drop {c.table}.{a} (backed up) now that {b} holds its values: the rename is done",
                 # dropping the old column drops its foreign keys: ACCESS EXCLUSIVE on what they reference
                 [self.backup(c.table, pk, a, bk, as_text=bool(o.enum)),
                  self._referenced_first_ddl(c.table, [fk for fk, _ in fks], "\n".join(up), "ACCESS EXCLUSIVE")],
                 [self.ddl("\n".join(back)),
                  self.restore(c.table, pk, a, bk, cast=f"{qt(o.enum)}{arr}" if o.enum else None,
                               unchanged=f"t.{qb}::text IS NOT DISTINCT FROM b.{qa}::text", batched=True),
                  fill, *nn_blocks, self.ddl("\n".join(tail)), *rebuild, *validate_old],
                 # first in the contract's transaction: its backup copies the table before any
                 # step there (the new column's SET NOT NULL) holds a strong lock on it
                 guards=[agree], change=c, backup=f"{BACKUP_SCHEMA}.{bk} ({', '.join(pk)}, {a} before the drop)",
                 rank=-1)

    def alter_type(self, c: Change) -> None:
        o, n = c.old, c.new
        schema, name = _split(c.table)
        old_t, new_t, guards = self._type_parts(c)
        new_sql = new_t.compile(dialect=_PG)
        old_sql = old_t.compile(dialect=_PG)
        from planner.rules.facts import lossy

        t = self.old.table(c.table)
        pk = self.pk_columns(t)
        rule = self.rule(c)
        # no USING where the change needs no rewrite: any USING expression makes the server
        # rewrite the table, and the default (an assignment cast) is the same conversion
        up_ops = render([ops.AlterColumnOp(name, o.name, schema=schema, modify_type=new_t,
                                           existing_type=old_t, existing_nullable=o.nullable)])
        coercible = binary_coercible(o.type, n.type, "postgresql") and rule is None
        # a generated column takes no USING (the server computes its values again), as in the
        # naive ALTER
        generated = bool(o.generated or n.generated)
        if not coercible and not generated:
            up_ops = with_kw(up_ops, postgresql_using=self.to_new(c, None, new_sql))
        down_ops = render([ops.AlterColumnOp(name, o.name, schema=schema, modify_type=old_t,
                                             existing_type=new_t, existing_nullable=n.nullable)])
        if (not binary_coercible(n.type, o.type, "postgresql") or rule is not None) and not generated:
            down_ops = with_kw(down_ops, postgresql_using=self.to_old(c, None, old_sql))
        backup = None
        up: list[Block] = []
        down: list[Block] = []
        down_tail = []
        down_first: list[Block] = []
        if not pk and not self._r8_route(c) and (why := rounds(o.type, n.type)
                                                 or ("its conversion rule is lossy" if rule and rule.lossy else None)):
            raise PlanError(f"{c.id}: {c.table} has no primary key, so the values this conversion changes ({why}) "
                            "could not be given back row by row on downgrade; add a primary key first")
        # (not for a key column: a backup keyed by the values that change could not be matched back;
        # not for a generated one: the ALTER back computes its values again, and none can be written)
        if (lossy(o.type, n.type) or (rule is not None and rule.lossy)) and pk and o.name not in pk \
                and not generated:
            bk = self.backup_name(c.table, o.name, "type")
            up.append(self.backup(c.table, pk, o.name, bk))
            backup = f"{BACKUP_SCHEMA}.{bk} ({', '.join(pk)}, {o.name} before the conversion)"
            ob, _, _, o_arr = split_type(o.type)
            if rule is None and not o_arr and ob in ("numeric", "decimal") and split_type(n.type)[0] == ob:
                # a rounded value may not fit the old scale (99.9999 -> numeric(6,2) is 100.00,
                # which numeric(6,4) cannot hold): the downgrade goes through unconstrained
                # NUMERIC, puts back the values of the rows unchanged since the upgrade (compared
                # as the new type), and only then converts to the old type; rows changed since
                # that do not fit stop it first (a guard, nothing done)
                converted = self.to_new(c, f"b.{q(o.name)}", new_sql)
                unchanged_new = f"t.{q(o.name)} IS NOT DISTINCT FROM {converted}"
                back_guard = self._convert_guard(
                    c.table, o.name, old_sql, self.to_old(c, GUARD_VALUE, old_sql),
                    why=" (written since the upgrade; fix them first)",
                    also_where=self.not_restored(c.table, pk, bk,
                                                 f"{qt(c.table)}.{q(o.name)} IS NOT DISTINCT FROM {converted}"))
                down_first.append(Block(back_guard.code()))
                loose = sa.Numeric()
                down_ops = render([ops.AlterColumnOp(name, o.name, schema=schema, modify_type=loose,
                                                     existing_type=new_t, existing_nullable=n.nullable)])
                down_tail.append(self.restore(c.table, pk, o.name, bk, unchanged=unchanged_new))
                down_tail.append(self.ddl(render([ops.AlterColumnOp(
                    name, o.name, schema=schema, modify_type=old_t, existing_type=loose,
                    existing_nullable=n.nullable)])))
            else:
                # rows changed since the conversion keep their value (converted back)
                round_trip = self.to_old(c, self.to_new(c, f"b.{q(o.name)}", new_sql), old_sql)
                down_tail.append(self.restore(c.table, pk, o.name, bk,
                                              unchanged=f"t.{q(o.name)} IS NOT DISTINCT FROM {round_trip}"))
        # without a primary key R8 still works where it needs no backup (a conversion that
        # converts back exactly: the batches walk the table's pages, the downgrade converts
        # back); otherwise its downgrade could not match a backup to its rows
        why_not = "no primary key to restore the old values by"
        if self._r8_route(c):
            why_not = self._swap_blocker(c)
            if why_not is None:
                group = self._swap_group(c)
                if group[0] is c:  # (the others are swapped with the first)
                    self._swap_type([(c, old_t, new_t), *((x, *self._type_parts(x)[:2]) for x in group[1:])], pk,
                                    [*guards, *(g for x in group[1:] for g in self._type_parts(x)[2])])
                return
        phase = Phase.EXPAND if coercible else Phase.CONTRACT
        # a default may not cast to the other type: drop it, convert, set the target's default
        def drop_default(col: Column, type_: sa.types.TypeEngine) -> list[str]:
            if col.default is None or coercible:
                return []
            return [self.set_default(c.table, o.name, type_, None)]

        def set_default(col: Column, type_: sa.types.TypeEngine) -> list[Block]:
            if col.default is None or coercible:
                return []
            return [self.ddl(self.set_default(c.table, o.name, type_, col.default))]

        if o.autoincrement == n.autoincrement == "sequence":
            # serial -> bigserial: the column's sequence takes the new type too (ALTER ... TYPE
            # leaves it as it was, and nextval would stop at the old type's maximum); the
            # downgrade's fails where the sequence has gone past the old type's range
            up_ops += "\n" + execute(_serial_sequence_as(c.table, o.name, new_sql))
            down_ops += "\n" + execute(_serial_sequence_as(c.table, o.name, old_sql))
        up.append(self.ddl(views_kept(c.table, [o.name], [*drop_default(o, old_t), up_ops])))
        up.extend(set_default(n, new_t))
        down.extend(down_first)
        down.append(self.ddl(views_kept(c.table, [o.name], [*drop_default(n, new_t), down_ops])))
        down.extend(set_default(o, old_t))
        down.extend(down_tail)
        rank: float = 0
        for key, fk, referenced in self._crossed(c):
            kschema, kname = _split(key)
            drop = self._fk_ddl(key, fk, render([ops.DropConstraintOp(fk.name, kname, type_="foreignkey",
                                                                     schema=kschema, if_exists=True)]),
                                "ACCESS EXCLUSIVE")
            add = [self._fk_ddl(key, fk, render([self._fk_op(key, fk)])),
                   online(execute(f"ALTER TABLE {qt(key)} VALIDATE CONSTRAINT {q(fk.name or '')}"))]
            if referenced:  # first: the key goes before this conversion, and comes back after its way back
                up.insert(0, drop)
                down.extend(add)
            else:  # after the referenced column's step: the key comes back after this conversion
                rank = 0.25
                up.append(add[0])
                down.insert(0, drop)
                self.add(phase, f"validate foreign key {fk.name} of {key} (added again NOT VALID after "
                                f"{c.object} changed type)", [add[1]], [], change=c, stage=Stage.ONLINE)
        where = "" if coercible else f" in place: {why_not}"
        if phase == Phase.CONTRACT and self._view_may_read(o.name):
            # a view the step could not drop and create again stops the plan in its first
            # revision, before any DDL, rather than in contract
            self.add(Phase.EXPAND, f"check the views that read {c.object} can be created again",
                     [Block(f"rt.views_replaceable({py(qt(c.table))}, {py(o.name)})")], [], change=c)
        self.add(phase, f"change type of {c.object} to {new_sql}{where}", up, down, guards=guards, change=c,
                 backup=backup, rank=rank)

    def _type_parts(self, c: Change) -> tuple[sa.types.TypeEngine, sa.types.TypeEngine, list[Guard]]:
        """The old and new SQLAlchemy types of type change `c` (PostgreSQL), and its guards."""
        # a serial column outside the primary key is spelled `serial` in metadata (what CREATE
        # and ADD COLUMN want); its type is the integer underneath
        old_t = stored_type(self.sa_column(self.old_md, c.table, c.old.name).type)
        new_t = stored_type(self.sa_column(self.new_md, c.table, c.new.name).type)
        rule = self.rule(c)
        # a stated rule is checked by running it on every value (NULLs too: it may map them)
        return old_t, new_t, self.guards(c) if rule is None else [self._rule_guard(c, new_t.compile(dialect=_PG))]

    def _r8_route(self, c: Change) -> bool:
        """Type change `c` would take R8's new column and swap (PostgreSQL), unless something
        blocks it (_swap_blocker): it rewrites the table, and either the table has a primary key
        (to back up and restore by) or the conversion converts back exactly (int -> bigint: no
        backup needed; without a key the batches walk the table's pages)."""
        rule = self.rule(c)
        if binary_coercible(c.old.type, c.new.type, "postgresql") and rule is None:
            return False
        return bool(self.pk_columns(self.old.table(c.table))) or self._converts_back(c)

    def _converts_back(self, c: Change) -> bool:
        """Type change `c` converts every value back to exactly itself, so undoing it needs no
        backup of the old values (and no key to match one by): no conversion rule, and either
        round_trips (integer widening ...) or one enum to another (a value goes over as its
        label, and back the same way; one the old type lacks stops the downgrade's guard)."""
        if self.rule(c) is not None:
            return False
        if c.old.enum or c.new.enum:
            return bool(c.old.enum and c.new.enum) and split_type(c.old.type)[3] == split_type(c.new.type)[3]
        return round_trips(c.old.type, c.new.type)

    def _swap_group(self, c: Change) -> list[Change]:
        """The type changes R8 swaps together with `c` (PostgreSQL), in plan order: `c` and the
        type changes of other columns of its table that share a key, an index or a foreign key
        with it (and so on: both columns of a join table's key). Built over all of them at once,
        what they share is built once; swapped one by one, the copy built for one swap would
        name the other's old column. Just `c` on other servers and for a change the diff does
        not hold (an enum recreation's)."""
        if self.DIALECT != "postgresql" or not any(x is c for x in self.diff.changes):
            return [c]
        typed = {x.column for x in self.diff.changes if x.kind == Kind.ALTER_COLUMN_TYPE and x.table == c.table}
        shared: list[set[str]] = []
        for t in (self.old.table(c.table), self.new.table(c.table)):
            if t is not None:
                shared += [{*i.columns, *i.include} for i in t.indexes]
                shared += [set(fk.columns) for fk in t.foreign_keys]
                shared += [set(t.primary_key.columns)] if t.primary_key else []
        group = {c.column}
        while more := {x for s in shared if s & group for x in s & typed} - group:
            group |= more
        return [x for x in self.diff.changes
                if x.kind == Kind.ALTER_COLUMN_TYPE and x.table == c.table and x.column in group]

    def _sets_default(self, c: Change) -> bool:
        """The type change `c` drops the old default and sets the new one itself (it converts
        the values: the R8 swap or an ALTER ... USING)."""
        return not (binary_coercible(c.old.type, c.new.type, "postgresql") and self.rule(c) is None)

    def _swap_blocker(self, c: Change) -> str | None:
        """Why the type change of c cannot use R8's new column and swap (None: it can), with
        the changes swapped together with it (_swap_group): if one of them cannot, none is."""
        if why := self._column_swap_blocker(c):
            return why
        group = self._swap_group(c)
        for x in group:
            if x is not c and not self._r8_route(x):
                return f"{x.column} changes type with it, in place"
            if x is not c and (why := self._column_swap_blocker(x)):
                return f"{x.column} changes type with it and cannot be swapped: {why}"
        if sum(bool(x.old.autoincrement or x.new.autoincrement) for x in group) > 1:
            return "two serial or identity columns change type together"
        return None

    def _column_swap_blocker(self, c: Change) -> str | None:
        """Why the type change of c alone cannot use R8's new column and swap (None: it can).
        The swap drops the old column, so anything that names it (keys, indexes, constraints,
        views, other changes of the same column) would have to be rebuilt with it: those stay
        in place."""
        col = c.column
        mentions = _mentions(col)
        t_old, t_new = self.old.table(c.table), self.new.table(c.table)
        o, n = c.old, c.new
        # a serial or identity column keeps its generator through the swap (PostgreSQL)
        kept = o.autoincrement == n.autoincrement in _SWAP_GENERATORS and self.DIALECT == "postgresql"
        if (o.autoincrement or n.autoincrement or o.generated or n.generated) and not kept:
            return "a generated or identity column"
        if o.collation or n.collation:
            return "a column with a collation"
        if self.partitioned(c.table) and (
                any(col in i.columns or col in i.include for t in (t_old, t_new) if t for i in t.indexes)
                or any(t and t.primary_key and col in t.primary_key.columns for t in (t_old, t_new))):
            return "an index of a partitioned table uses it"
        if (o.comment or n.comment) and self.DIALECT != "postgresql":  # (PostgreSQL's swap moves it)
            return "a column with a comment"
        # a new default goes with the swap (set on the new column as it takes the name)
        if any(x is not c and x.table == c.table and x.column == col and x.kind != Kind.ALTER_DEFAULT
               for x in self.diff.changes):
            return "other changes of the same column"
        for t in (t_old, t_new):
            if t is None:
                continue
            if t.primary_key and col in t.primary_key.columns and isinstance(why := self._pk_swap(c), str):
                return why
            for i in t.indexes:
                uses = any(p.column == col or (p.expression and mentions.search(p.expression)) for p in i.parts) \
                    or col in i.include or bool(i.where and mentions.search(i.where))
                if uses and not self._rebuildable(c, i):
                    return f"index {i.name} uses it"
                if uses and (other := self._retyped_other(c, (*i.columns, *i.include))):
                    return f"index {i.name} has {other} changing type too"
            if any(mentions.search(ch.expression) for ch in t.checks):
                return "a CHECK uses it"
        referenced_as_key = t_old is not None and t_old.primary_key is not None and col in t_old.primary_key.columns
        for schema in (self.old, self.new):
            for t in schema.tables:
                for fk in t.foreign_keys:
                    if schema.key(fk.ref_schema, fk.ref_table) == c.table and col in fk.ref_columns \
                            and not referenced_as_key:
                        return f"foreign key {fk.name} references it"
            # (PostgreSQL: the swap drops and creates again the views that read it, rt.views_kept)
            if self.DIALECT != "postgresql" and self._view_may_read(col):
                return "a view may use it"
        for key, fk, _ in self._crossed(c):
            return (f"foreign key {fk.name} of {key} joins it to a column whose type changes too, to a type "
                    "the other's old type cannot be joined to: both change in place, the key dropped and added "
                    "again around them")
        fks = self._swap_fks(c)
        return fks if isinstance(fks, str) else None

    def _crossed(self, c: Change) -> list[tuple[str, ForeignKey, bool]]:
        """The foreign keys that join the column of type change `c` to a column of another table
        whose type changes too, one of them to a type the other's old type cannot be joined to
        (PostgreSQL: int -> text on both: a key `text -> int` "cannot be implemented", and
        neither column can change first). As (referencing table, key, whether `c` is the
        referenced side). Both change in place: the referenced side's step drops the key first,
        the referencing side's adds it again NOT VALID after its own conversion, validated
        online after (as a hand-written migration does it)."""
        if self.DIALECT != "postgresql":
            return []
        typed = {(x.table, x.column): x for x in self.diff.changes if x.kind == Kind.ALTER_COLUMN_TYPE}

        def crosses(r: Change, k: Change) -> bool:
            return not (_joinable(r.new.type, k.old.type) and _joinable(r.old.type, k.new.type))

        out = []
        for t in self.old.tables:
            key = self.old.key(t.schema, t.name)
            n_t = self.new.table(key)
            for fk in t.foreign_keys:
                ref = self.old.key(fk.ref_schema, fk.ref_table)
                if not fk.name or n_t is None or fk not in n_t.foreign_keys:
                    continue
                for col, ref_col in zip(fk.columns, fk.ref_columns, strict=False):
                    r, k = typed.get((key, col)), typed.get((ref, ref_col))
                    if r is None or k is None or key == ref or not crosses(r, k):
                        continue
                    if r is c or k is c:
                        out.append((key, fk, k is c))
                    break
        return out

    def _view_may_read(self, column: str) -> bool:
        """A view of OLD or NEW may read a column named `column` (its definition names it, or
        the model does not hold its definition)."""
        mentions = _mentions(column)
        return any(v.definition is None or mentions.search(v.definition)
                   for schema in (self.old, self.new) for v in schema.views)

    def _pk_swap(self, c: Change) -> tuple[PrimaryKey, list[tuple[str, ForeignKey]]] | str:
        """R8 for the primary key column of `c`: the key (built again as a unique index on the
        new column, concurrently, and attached by ADD PRIMARY KEY USING INDEX at the swap) and
        the foreign keys of every table that reference it, as (table, key): dropped and added
        again NOT VALID in the swap's transaction, validated online after it. Or why not."""
        if self.DIALECT != "postgresql":
            return "part of the primary key"
        col = c.column
        t_old, t_new = self.old.table(c.table), self.new.table(c.table)
        if t_old is None or t_new is None or t_old.primary_key != t_new.primary_key \
                or t_old.primary_key is None or col not in t_old.primary_key.columns or not t_old.primary_key.name:
            return "part of a primary key that is unnamed or changes"
        pkey = t_old.primary_key
        from planner.rules.facts import lossy

        for x in self._swap_group(c):
            if x.column not in pkey.columns:
                continue
            if not self._converts_back(x) or lossy(x.old.type, x.new.type):
                # the swap's backup and restore go by the key, which is what changes here
                return "a primary key whose values do not convert back exactly"
        if other := self._retyped_other(c, pkey.columns):
            return f"its primary key has {other} changing type too"
        if any(x.table == c.table and x.kind in (Kind.ADD_PRIMARY_KEY, Kind.DROP_PRIMARY_KEY, Kind.RENAME_TABLE)
               for x in self.diff.changes):
            return "its primary key changes"
        refs: dict[tuple[str, str | None], tuple[str, ForeignKey]] = {}
        for schema in (self.old, self.new):
            for t in schema.tables:
                key = schema.key(t.schema, t.name)
                for fk in t.foreign_keys:
                    if schema.key(fk.ref_schema, fk.ref_table) == c.table and col in fk.ref_columns:
                        refs[(key, fk.name)] = (key, fk)
        kinds = (Kind.DROP_FOREIGN_KEY, Kind.ADD_FOREIGN_KEY, Kind.ALTER_FOREIGN_KEY, Kind.RENAME_CONSTRAINT)
        for key, fk in refs.values():
            o_t, n_t = self.old.table(key), self.new.table(key)
            same = o_t is not None and n_t is not None and fk in o_t.foreign_keys and fk in n_t.foreign_keys
            if not fk.name or not same or sorted(fk.ref_columns) != sorted(pkey.columns) \
                    or self._changed(key, fk.name, kinds) \
                    or any(x.table == key and x.kind in (Kind.DROP_TABLE, Kind.RENAME_TABLE) for x in self.diff.changes):
                return f"foreign key {fk.name or '(unnamed)'} of {key} references it and changes or is unnamed"
        return pkey, sorted(refs.values(), key=lambda r: (r[0], r[1].name or ""))

    def _swap_guards(self, c: Change) -> list[Guard]:
        """What the schema model does not hold but R8's swap would lose or trip on, checked on
        the server before any DDL: a primary key or a UNIQUE constraint it rebuilds that is
        DEFERRABLE or whose index has INCLUDE columns, storage parameters or a tablespace (the
        swap builds a plain unique index);
        foreign keys it adds again that are NOT VALID (the swap's VALIDATE would fail on the
        rows they let through, where the naive ALTER keeps them NOT VALID)."""
        t = self.old.table(c.table)
        if t is None:
            return []
        rel = f"{lit(qt(c.table))}::regclass"
        by_hand = (f"change the type of {c.table}.{c.column} by hand (ALTER TABLE ... ALTER COLUMN ... TYPE, "
                   "a table rewrite under ACCESS EXCLUSIVE)")
        out = []
        fks = self._swap_fks(c)
        names = [fk.name for fk in fks] if not isinstance(fks, str) else []
        if t.primary_key and c.column in t.primary_key.columns:
            out.append(Guard(
                f"SELECT count(*) FROM pg_constraint k JOIN pg_index i ON i.indexrelid = k.conindid "
                f"JOIN pg_class x ON x.oid = k.conindid WHERE k.conrelid = {rel} AND k.contype = 'p' AND "
                "(k.condeferrable OR i.indnkeyatts < i.indnatts OR x.reloptions IS NOT NULL OR x.reltablespace <> 0)",
                f"the primary key of {c.table} is DEFERRABLE or has INCLUDE columns, storage parameters or a "
                "tablespace, which the key swap (R8) does not carry over", resolve=by_hand, catalog=True))
            out.append(Guard(
                f"SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = {rel} AND NOT convalidated",
                f"foreign keys referencing {c.table} are NOT VALID: the key swap adds them again and validates "
                "them", resolve="validate them first (ALTER TABLE ... VALIDATE CONSTRAINT, after fixing the rows "
                                f"that break them), or {by_hand}", catalog=True))
        uniques = [i.name for i in t.indexes if i.constraint and c.column in i.columns and self._rebuildable(c, i)]
        if uniques:
            out.append(Guard(
                f"SELECT count(*) FROM pg_constraint k JOIN pg_index i ON i.indexrelid = k.conindid "
                f"JOIN pg_class x ON x.oid = k.conindid WHERE k.conrelid = {rel} AND k.contype = 'u' AND "
                f"k.conname IN ({', '.join(lit(n or '') for n in uniques)}) AND (k.condeferrable OR "
                "i.indnkeyatts < i.indnatts OR x.reloptions IS NOT NULL OR x.reltablespace <> 0)",
                f"a UNIQUE constraint on {c.table}.{c.column} is DEFERRABLE or has INCLUDE columns, storage "
                "parameters or a tablespace, which R8 does not carry over", resolve=by_hand, catalog=True))
        if names:
            out.append(Guard(
                f"SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = {rel} AND NOT convalidated "
                f"AND conname IN ({', '.join(lit(n or '') for n in names)})",
                f"foreign keys on {c.table}.{c.column} are NOT VALID: R8 adds them again on the new column and "
                "validates them", resolve="validate them first (ALTER TABLE ... VALIDATE CONSTRAINT, after fixing "
                                          f"the rows that break them), or {by_hand}", catalog=True))
        out.append(self._dependents_guard(c.table, c.column, "R8's swap",
                                          f"drop them before and create them again after, or {by_hand}"))
        return out

    def _dependents_guard(self, table: str, column: str, how: str, resolve: str) -> Guard:
        """What the schema model does not hold but hangs on `table.column`, which a route that
        drops the column (R8's swap, a rename by copy: `how`) would drop with it, or fail on in
        contract: checked on the server before any DDL (rt.column_dependents says what)."""
        was = next((x.detail["from"] for x in self.diff.changes if x.kind == Kind.RENAME_TABLE and x.table == table),
                   None)
        tail = f", was={py(qt(was))}" if was else ""
        call = f"rt.column_dependents({py(qt(table))}, {py(column)}, {py(how)}, resolve={py(resolve)}{tail})"
        return Guard(call, f"{table}.{column} carries nothing {how} would drop", call=True, catalog=True)

    def _swap_fks(self, c: Change) -> list[ForeignKey] | str:
        """The foreign keys of the table that R8 adds again on the new column (NOT VALID after
        the backfill, validated online, renamed at the swap): those that use the column, named
        and the same in OLD and NEW, not changed by the plan; or why one cannot be."""
        col = c.column
        t_old, t_new = self.old.table(c.table), self.new.table(c.table)
        out: list[ForeignKey] = []
        for fk in {f.name: f for t in (t_old, t_new) if t is not None for f in t.foreign_keys
                   if col in f.columns}.values():
            if not fk.name:
                return "an unnamed foreign key uses it"
            kinds = (Kind.DROP_FOREIGN_KEY, Kind.ADD_FOREIGN_KEY, Kind.ALTER_FOREIGN_KEY, Kind.RENAME_CONSTRAINT)
            same = t_old is not None and t_new is not None and fk in t_old.foreign_keys and fk in t_new.foreign_keys
            if not same or self._changed(c.table, fk.name, kinds) \
                    or any(x.detail.get("to") == fk.name for x in self.diff.changes if x.table == c.table):
                return f"foreign key {fk.name} changes too"
            if other := self._retyped_other(c, fk.columns):
                return f"foreign key {fk.name} has {other} changing type too"
            out.append(fk)
        return sorted(out, key=lambda f: f.name or "")

    def _retyped_other(self, c: Change, columns: Iterable[str]) -> str | None:
        """A column of `columns` other than c's whose type the plan changes too (a type change,
        or its enum type recreated), so that an index or key over both would be rebuilt by two
        swaps at once; None if there is none."""
        t = self.old.table(c.table)
        recreated = {x.name for x in self.diff.changes if x.kind in (Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES,
                                                                     Kind.RENAME_ENUM_VALUE)}
        together = {x.column for x in self._swap_group(c)}  # (swapped with c: what they share is built once)
        for name in dict.fromkeys(columns):
            if name in together:
                continue
            col = t.column(name) if t is not None else None
            if any(x.kind == Kind.ALTER_COLUMN_TYPE and x.table == c.table and x.column == name
                   for x in self.diff.changes) or (col is not None and col.enum in recreated):
                return name
        return None

    def _rebuildable(self, c: Change, i: Index) -> bool:
        """An index on the column R8 builds again on the new column (plain column keys and
        INCLUDE columns, in OLD and NEW alike, not changed by the plan); a UNIQUE constraint
        too on PostgreSQL (its index built concurrently, the constraint added again on it by
        `USING INDEX` at the swap) unless it is DEFERRABLE, NULLS NOT DISTINCT or has INCLUDE
        columns."""
        t_old, t_new = self.old.table(c.table), self.new.table(c.table)
        same = t_old is not None and t_new is not None and i in t_old.indexes and i in t_new.indexes
        plain = all(p.column is not None and p == IndexPart(column=p.column) for p in i.parts)
        untouched = not any(x.table == c.table and i.name in (x.name, getattr(x.old, "name", None),
                                                             getattr(x.new, "name", None))
                            for x in self.diff.changes if x is not c)
        key = not i.constraint or (self.DIALECT == "postgresql" and not i.deferrable and not i.include)
        return bool(same and plain and untouched and i.name and key and not i.where and not i.nulls_not_distinct)

    def _swap_type(self, members: list[tuple[Change, sa.types.TypeEngine, sa.types.TypeEngine]],
                   pk: tuple[str, ...], guards: list[Guard]) -> None:
        """R8: a type change that rewrites the table, without the rewrite's ACCESS EXCLUSIVE.
        Expand adds the column under a temporary name and a trigger that keeps it converted on
        every write; backfill converts the existing rows in batches; contract checks that every
        row agrees, backs the old values up, drops the old column and gives the new one its name
        (one short transaction). The downgrade brings the old column back from the backup (rows
        written since are converted back) and restores the trigger state.

        `members`: the type changes swapped together, each with its old and new type: one, or
        the columns of one table that share a key, an index or a foreign key (_swap_group: a
        join table's pair of keys), so that what they share is built once over all the new
        columns and the one swap transaction gives every column its name. Steps of one column
        belong to its change, those of all to the first."""
        c = members[0][0]
        schema, name = _split(c.table)
        ms = [_Swapped(mc, old_t, new_t, new_t.compile(dialect=_PG), old_t.compile(dialect=_PG), mc.old.name,
                       derived_name(mc.old.name, "__planner_new"), derived_name(mc.old.name, "__planner_old"),
                       self.function_name(c.table, f"{name}_{mc.old.name}", "__planner_sync"),
                       self.function_name(c.table, f"{name}_{mc.old.name}", "__planner_back"))
              for mc, old_t, new_t in members]
        tmp_of = {m.col: m.tmp for m in ms}
        back_of = {m.col: m.back for m in ms}
        cols = [m.col for m in ms]

        def fn_name(fn: str) -> str:
            return f"{q(schema)}.{q(fn)}" if schema else q(fn)

        def swapped_in(columns: Iterable[str], to: dict[str, str]) -> str:
            """The names `to` gives the swapped columns among `columns` (for titles)."""
            return ", ".join(to[x] for x in dict.fromkeys(columns) if x in to)

        def sync(m: _Swapped) -> str:
            to_new = self.to_new(m.c, f"NEW.{q(m.col)}", m.new_sql)
            return "\n".join([
                execute(f"CREATE OR REPLACE FUNCTION {fn_name(m.fn)}() RETURNS trigger LANGUAGE plpgsql AS "
                        + dollar_quote(f" BEGIN NEW.{q(m.tmp)} := {to_new}; RETURN NEW; END ")),
                # UPDATE OF: an update that does not set the column leaves the converted copy as
                # it is (the batched backfill's own updates do not fire it: ~15% of its time)
                execute(f"CREATE TRIGGER {q(m.fn)} BEFORE INSERT OR UPDATE OF {q(m.col)} ON {qt(c.table)} "
                        f"FOR EACH ROW EXECUTE FUNCTION {fn_name(m.fn)}()")])

        def unsync(m: _Swapped) -> str:
            return "\n".join([*self.drop_trigger(c.table, m.fn), execute(f"DROP FUNCTION IF EXISTS {fn_name(m.fn)}()")])

        # what the server must not hold (checked before any DDL): once, for every column
        guards = list(dict.fromkeys([*guards, *(g for m in ms for g in self._swap_guards(m.c))]))
        # a view the swap could not drop and create again (materialized, with rules or triggers)
        # stops the plan here, before any DDL, rather than at the swap
        views_first = Block(f"rt.views_replaceable({', '.join(py(x) for x in (qt(c.table), *cols))})")
        for m in ms:
            tmp_col = sa.Column(m.tmp, m.new_t, nullable=True)
            self.add(Phase.EXPAND, f"add {c.table}.{m.tmp} ({m.new_sql}) kept in step with {m.col} by a trigger "
                                   f"(R8); from here on a write of {m.col} that does not convert to {m.new_sql} fails",
                     [*([views_first] if m is ms[0] else []),
                      self.ddl("\n".join([render([ops.AddColumnOp(name, tmp_col, schema=schema)]), sync(m)]))],
                     [self.ddl("\n".join([unsync(m), render([ops.DropColumnOp(name, m.tmp, schema=schema)])]))],
                     guards=guards if m is ms[0] else [], change=m.c)
        todo = []
        for m in ms:
            rule = self.rule(m.c)
            # a rule may give NULL a value: then every row is converted, NULLs too
            todo.append(f"{q(m.tmp)} IS NULL" + ("" if rule is not None and rule.using
                                                 else f" AND {q(m.col)} IS NOT NULL"))
        # no ANALYZE of the whole table here: the contract analyzes the new column right before
        # the swap (nothing reads it until then), one sampling pass instead of two. Columns
        # swapped together are filled by the same batches: the table is read and written once
        fills = _own_rows([(m.tmp, self.to_new(m.c, None, m.new_sql), cond) for m, cond in zip(ms, todo, strict=True)])
        self._backfill_step(c, c.table, ms[0].tmp, fills[0][1], where=_any(todo), analyze=False, more=fills[1:])
        t_old = self.old.table(c.table)
        # every index that names a swapped column, as a key or an INCLUDE column (dropping the
        # old column drops them all): built again on the new ones
        rebuilt = [i for i in (t_old.indexes if t_old else ())
                   if any(x in tmp_of for x in (*i.columns, *i.include))]
        renames_up, renames_down = [], []

        def index_copy(i: Index, as_name: str, to: dict[str, str]) -> ops.CreateIndexOp:
            """Index `i` as `as_name`, with the columns `to` maps in place of the swapped ones."""
            extra = {"postgresql_using": i.method} if i.method != "btree" else {}
            if i.include:
                extra["postgresql_include"] = [to.get(x, x) for x in i.include]
            return ops.CreateIndexOp(as_name, name, [to.get(x, x) for x in i.columns], schema=schema,
                                     unique=i.unique, if_not_exists=True, postgresql_concurrently=True, **extra)

        # a UNIQUE constraint's index too; the constraint is added again on the copy at the
        # swap (USING INDEX: no build under the lock), and dropped on the way back, the copy
        # built again after it
        keys = [i for i in rebuilt if i.constraint]
        for i in rebuilt:
            copy = derived_name(i.name, "__planner_new")
            build = index_copy(i, copy, tmp_of)
            becomes = f"UNIQUE constraint {i.name}" if i.constraint else i.name
            self.add(Phase.BACKFILL, f"build {'unique ' if i.unique else ''}index {copy} on "
                                     f"{swapped_in((*i.columns, *i.include), tmp_of)} concurrently (becomes {becomes})",
                     [_concurrent_build(copy, render([build]))],
                     [online(render([ops.DropIndexOp(copy, table_name=name, schema=schema,
                                                     postgresql_concurrently=True, if_exists=True)]))],
                     change=c)
            if i.constraint:
                renames_up.append(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(i.name or '')} UNIQUE "
                                          f"USING INDEX {q(copy)}"))
                renames_down.append(render([ops.DropConstraintOp(i.name, name, type_="unique", schema=schema)]))
            else:
                renames_up.append(rename_index_sql(c.table, copy, i.name))
                renames_down.append(rename_index_sql(c.table, i.name, copy))
        # the primary key: a unique index on the new columns, built concurrently, attached at
        # the swap (ADD PRIMARY KEY USING INDEX: no build under the lock); the foreign keys that
        # reference it are dropped and added again NOT VALID around it, validated online right
        # after (the swap runs after the contract's other swaps: rank 1, so a referencing column
        # R8 converts too has taken its final name by then; 0.5 for a key with foreign keys of
        # its own, a join table's, which may reference a key swapped at rank 1)
        in_key = [m for m in ms if t_old and t_old.primary_key and m.col in t_old.primary_key.columns]
        pk_swap = self._pk_swap(in_key[0].c) if in_key else None
        assert not isinstance(pk_swap, str)
        pkey, refs = pk_swap if pk_swap else (None, [])
        pk_copy = derived_name(pkey.name or "", "__planner_new") if pkey else ""

        def pk_build(as_name: str, to: dict[str, str]) -> Block:
            return _concurrent_build(as_name, render([ops.CreateIndexOp(
                as_name, name, [to.get(x, x) for x in pkey.columns] if pkey else [], schema=schema, unique=True,
                if_not_exists=True, postgresql_concurrently=True)]))

        if pkey:
            self.add(Phase.BACKFILL, f"build unique index {pk_copy} on {swapped_in(pkey.columns, tmp_of)} "
                                     f"concurrently (becomes primary key {pkey.name})",
                     [pk_build(pk_copy, tmp_of)],
                     [online(render([ops.DropIndexOp(pk_copy, table_name=name, schema=schema,
                                                     postgresql_concurrently=True, if_exists=True)]))], change=c)

        def drop_refs() -> list[str]:
            return [render([ops.DropConstraintOp(fk.name, _split(key)[1], type_="foreignkey",
                                                 schema=_split(key)[0])]) for key, fk in refs]

        def add_refs() -> list[str]:
            return [render([self._fk_op(key, fk)]) for key, fk in refs]

        validate_refs = [online(execute(f"ALTER TABLE {qt(key)} VALIDATE CONSTRAINT {q(fk.name or '')}"))
                         for key, fk in refs]
        # the tables whose keys the swap drops or adds: locked first, in name order
        others = sorted({key for key, _ in refs} - {c.table})
        sequence = "current_setting('planner.swap_sequence')"

        def serial(m: _Swapped) -> bool:
            return m.c.old.autoincrement == "sequence"

        def identity(m: _Swapped) -> bool:
            return m.c.old.autoincrement in ("identity", "identity_always")

        def release_identity(m: _Swapped) -> list[str]:
            """The identity's sequence options and where it stands (last_value, is_called: the
            state setval gives the new one), noted for the transaction (its name, START,
            INCREMENT, CACHE, CYCLE, and MINVALUE/MAXVALUE unless they are the type's: they follow
            the new type as the naive ALTER's do), then DROP IDENTITY (which drops the sequence:
            the new column's identity takes its name and goes on from there). (One column of a
            swap at most has a generator: _swap_blocker.)"""
            bounds = {"smallint": 32767, "integer": 2147483647, "bigint": 9223372036854775807}
            tops = ", ".join(str(v) for v in bounds.values())
            body = (
                " DECLARE r record; last bigint; called boolean; BEGIN SELECT s.*, c.relname, n.nspname INTO r "
                "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON "
                f"n.oid = c.relnamespace WHERE s.seqrelid = pg_get_serial_sequence({lit(qt(c.table))}, "
                f"{lit(m.col)})::regclass; "
                "EXECUTE format('SELECT last_value, is_called FROM %I.%I', r.nspname, r.relname) INTO last, called; "
                "PERFORM set_config('planner.swap_identity', format('SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s"
                "%s%s CACHE %s %s', r.nspname, r.relname, r.seqstart, r.seqincrement, "
                f"CASE WHEN r.seqmin IN (1, -1, {', '.join(f'-{v} - 1' for v in bounds.values())}) THEN '' "
                "ELSE format(' MINVALUE %s', r.seqmin) END, "
                f"CASE WHEN r.seqmax IN (1, -1, {tops}) THEN '' ELSE format(' MAXVALUE %s', r.seqmax) END, "
                "r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END), true); "
                "PERFORM set_config('planner.swap_last', last::text, true); "
                "PERFORM set_config('planner.swap_called', called::text, true); END ")
            return [execute("DO " + dollar_quote(body)),
                    execute(f"ALTER TABLE {qt(c.table)} ALTER COLUMN {q(m.col)} DROP IDENTITY")]

        def take_identity(m: _Swapped) -> str:
            """... given to the column that now has the name, set where the old one stood."""
            how = "ALWAYS" if m.c.old.autoincrement == "identity_always" else "BY DEFAULT"
            add = lit(f"ALTER TABLE {_pct(qt(c.table))} ALTER COLUMN {_pct(q(m.col))} ADD GENERATED {how} AS "
                      "IDENTITY (%s)")
            return execute("DO " + dollar_quote(
                f" BEGIN EXECUTE format({add}, current_setting('planner.swap_identity')); "
                f"PERFORM setval(pg_get_serial_sequence({lit(qt(c.table))}, {lit(m.col)}), "
                "current_setting('planner.swap_last')::bigint, current_setting('planner.swap_called')::boolean); "
                "END "))

        def release_sequence(m: _Swapped) -> list[str]:
            """The serial column's default (as the server has it) and owned sequence, noted for
            the transaction; the sequence no longer owned by the column (dropping the column
            would drop it), the default dropped. A default sequence the column does not own
            (nextval of a shared one) is only noted."""
            default = (f"(SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON "
                       f"a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = {lit(qt(c.table))}::regclass "
                       f"AND a.attname = {lit(m.col)})")
            owned = f"coalesce(pg_get_serial_sequence({lit(qt(c.table))}, {lit(m.col)}), '')"
            return [execute("DO " + dollar_quote(
                f" BEGIN PERFORM set_config('planner.swap_default', coalesce({default}, ''), true); "
                f"PERFORM set_config('planner.swap_sequence', {owned}, true); "
                f"IF {sequence} <> '' THEN EXECUTE format('ALTER SEQUENCE %s OWNED BY NONE', {sequence}); "
                "END IF; END ")),
                execute(f"ALTER TABLE {qt(c.table)} ALTER COLUMN {q(m.col)} DROP DEFAULT")]

        def take_sequence(m: _Swapped, type_sql: str) -> str:
            """... given to the column that now has the name (the default, the sequence's owner
            and type)."""
            fmt = lit(f"ALTER TABLE {_pct(qt(c.table))} ALTER COLUMN {_pct(q(m.col))} SET DEFAULT %s")
            own = lit(f"ALTER SEQUENCE %s AS {type_sql} OWNED BY {_pct(qt(c.table))}.{_pct(q(m.col))}")
            return execute("DO " + dollar_quote(
                f" BEGIN IF current_setting('planner.swap_default') <> '' THEN "
                f"EXECUTE format({fmt}, current_setting('planner.swap_default')); END IF; "
                f"IF {sequence} <> '' THEN EXECUTE format({own}, {sequence}); END IF; END "))

        def release(m: _Swapped) -> list[str]:
            return release_sequence(m) if serial(m) else release_identity(m) if identity(m) else []

        def take(m: _Swapped, type_sql: str) -> list[str]:
            return [take_sequence(m, type_sql)] if serial(m) else [take_identity(m)] if identity(m) else []

        # the foreign keys on the columns, added again on the new ones after the backfill
        # (earlier, each batch's update would look every row's key up) and validated online
        # before the swap; at the swap, dropping the old columns drops them and the copies take
        # their names
        # (one that references the key swapped here, the table's own parent key, is one of the
        # keys the swap drops and adds again: its copy would name the old key column)
        fks: dict[str, ForeignKey] = {}
        for m in ms:
            own = self._swap_fks(m.c)
            assert not isinstance(own, str)
            fks.update((fk.name or "", fk) for fk in own if (c.table, fk) not in refs)

        def fk_copy(fk: ForeignKey, as_name: str, to: dict[str, str]) -> ForeignKey:
            return dataclasses.replace(fk, name=as_name, columns=tuple(to.get(x, x) for x in fk.columns))

        fk_renames_up, fk_renames_down = [], []
        for fk in (fks[k] for k in sorted(fks)):
            copy = derived_name(fk.name or "", "__planner_new")
            self._fk_copy_steps(c, Phase.BACKFILL, fk_copy(fk, copy, tmp_of), fk.name or "",
                                swapped_in(fk.columns, tmp_of))
            fk_renames_up.append(rename_constraint_sql(c.table, copy, fk.name or ""))
            fk_renames_down.append(rename_constraint_sql(c.table, fk.name or "", copy))
        for m in ms:
            if not m.c.new.nullable:
                self._not_null_steps(m.c, c.table, m.tmp, guards=[], type_=m.new_t)
        agree = []
        for m in ms:
            convert = self.to_new(m.c, None, m.new_sql)
            # the new column holds what the assignment stored: to a bounded type (varchar(5)) a
            # value whose excess is only trailing spaces is cut to the bound, which an explicit
            # cast to the bounded type does too (any other excess failed the assignment, so no
            # row holds it)
            stored = convert if _unbounded(m.new_sql) == m.new_sql else f"({convert})::{m.new_sql}"
            agree.append(Guard(f"SELECT count(*) FROM {qt(c.table)} WHERE {q(m.tmp)} IS DISTINCT FROM {stored}",
                               f"rows of {c.table} where {m.tmp} does not hold {m.col} converted: run the backfill "
                               "revision again (and check the trigger is there)", inline=True))
        # dropping the old columns drops their indexes; the copies built on the new ones take
        # their names (the comments are read before the step's locks: the read waits for no one)
        # (the old column's statistics target, n_distinct and privileges go to the new one
        # first, as the naive ALTER keeps them; not its STORAGE/COMPRESSION, which it resets)
        swap = [*(unsync(m) for m in ms), *drop_refs(), *(x for m in ms for x in release(m)),
                *(column_like(c.table, m.tmp, m.col, storage=False) for m in ms),
                *(render([ops.DropColumnOp(name, m.col, schema=schema)]) for m in ms), *renames_up, *fk_renames_up,
                *(render([ops.AlterColumnOp(name, m.tmp, schema=schema, modify_name=m.col)]) for m in ms)]
        for m in ms:
            if m.c.new.comment:  # the column's comment goes with the name
                swap.append(render([ops.AlterColumnOp(name, m.col, schema=schema, modify_comment=m.c.new.comment,
                                                      existing_type=m.new_t)]))
        if pkey:
            swap.append(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(pkey.name or '')} PRIMARY KEY "
                                f"USING INDEX {q(pk_copy)}"))
        for m in ms:
            swap += take(m, m.new_sql)
        for m in ms:
            if m.c.new.default is not None:
                swap.append(self.set_default(c.table, m.col, m.new_t, m.c.new.default))
        swap += [*add_refs(), restore_kept()]
        # the way back mirrors the way there, NEW running meanwhile (it reads and writes the
        # columns, which must stay whole): each old column comes back under a temporary name,
        # kept in step by a trigger (a write that does not convert back fails from then on),
        # filled from the backup and in keyset batches, its indexes built concurrently and its
        # NOT NULL validated online; then one short transaction swaps the names back and
        # restores the trigger of the backfill revision's state
        back_syncs, unback, back_todo = [], [], []
        for m in ms:
            back_fn = fn_name(m.back_fn)
            to_old_new = self.to_old(m.c, f"NEW.{q(m.col)}", m.old_sql)
            back_syncs.append(self.ddl("\n".join([
                render([ops.AddColumnOp(name, sa.Column(m.back, m.old_t, nullable=True), schema=schema,
                                        if_not_exists=True)]),
                execute(f"CREATE OR REPLACE FUNCTION {back_fn}() RETURNS trigger LANGUAGE plpgsql AS "
                        + dollar_quote(f" BEGIN NEW.{q(m.back)} := {to_old_new}; RETURN NEW; END ")),
                _create_trigger_once(c.table, m.back_fn, f"BEFORE INSERT OR UPDATE OF {q(m.col)} ON {qt(c.table)} "
                                                         f"FOR EACH ROW EXECUTE FUNCTION {back_fn}()")])))
            unback += [*self.drop_trigger(c.table, m.back_fn), execute(f"DROP FUNCTION IF EXISTS {back_fn}()")]
            rule = self.rule(m.c)
            inverse = rule is not None and bool(rule.inverse)
            back_todo.append(f"{q(m.back)} IS NULL" + ("" if inverse else f" AND {q(m.col)} IS NOT NULL"))
        # (the restore from a backup runs first: a row it gave an old value keeps it)
        fills = _own_rows([(m.back, self.to_old(m.c, None, m.old_sql), cond)
                           for m, cond in zip(ms, back_todo, strict=True)])
        fill_back = [Block(self._batches(c.table, ms[0].back, fills[0][1], _any(back_todo), analyze=False,
                                         more=fills[1:]), autocommit=True)]
        back_builds, back_renames = [], []
        for i in rebuilt:
            back_ix = derived_name(i.name, "__planner_old")
            back_builds.append(_concurrent_build(back_ix, render([index_copy(i, back_ix, back_of)])))
            back_renames.append(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(i.name or '')} UNIQUE USING "
                                        f"INDEX {q(back_ix)}") if i.constraint
                                else rename_index_sql(c.table, back_ix, i.name))
        back_pk = derived_name(pkey.name or "", "__planner_old") if pkey else ""
        if pkey:
            back_builds.append(pk_build(back_pk, back_of))
        for fk in (fks[k] for k in sorted(fks)):  # after the fill, like the way there; each in its own transaction
            back_fk = derived_name(fk.name or "", "__planner_old")
            # (dropped first if there: a re-run of a downgrade that stopped after it)
            back_builds.append(self._fk_ddl(c.table, fk, "\n".join([
                render([ops.DropConstraintOp(back_fk, name, type_="foreignkey", schema=schema, if_exists=True)]),
                render([self._fk_op(c.table, fk_copy(fk, back_fk, back_of))])])))
            back_builds.append(online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(back_fk)}")))
            back_renames.append(rename_constraint_sql(c.table, back_fk, fk.name or ""))
        swap_back = [*unback, *drop_refs(), *(x for m in ms for x in release(m)),
                     *(column_like(c.table, m.back, m.col, storage=False) for m in ms)]
        if pkey:  # its index goes with it; the backfill revision's copy is built again below
            swap_back.append(render([ops.DropConstraintOp(pkey.name, name, type_="primary", schema=schema)]))
        swap_back += [*(render([ops.AlterColumnOp(name, m.col, schema=schema, modify_name=m.tmp)]) for m in ms),
                      *renames_down, *fk_renames_down,
                      *(render([ops.AlterColumnOp(name, m.back, schema=schema, modify_name=m.col)]) for m in ms),
                      *back_renames]
        for m in ms:
            if m.c.old.comment:
                swap_back.append(render([ops.AlterColumnOp(name, m.col, schema=schema, modify_comment=m.c.old.comment,
                                                           existing_type=m.old_t)]))
            if m.c.new.default is not None:
                swap_back.append(self.set_default(c.table, m.tmp, m.new_t, None))
            if m.c.old.default is not None:
                swap_back.append(self.set_default(c.table, m.col, m.old_t, m.c.old.default))
        not_null_back: list[Block] = []
        for m in ms:
            if not m.c.old.nullable:  # validated online, so SET NOT NULL in the swap scans nothing
                blocks, set_nn = self._not_null_back(c.table, m.col, m.old_t, check_on=m.back)
                not_null_back += blocks
                swap_back.append(set_nn)
        if pkey:
            swap_back.append(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(pkey.name or '')} PRIMARY KEY "
                                     f"USING INDEX {q(back_pk)}"))
        for m in ms:
            swap_back += take(m, m.old_sql)
        swap_back += [*add_refs(), restore_kept(), *(sync(m) for m in ms)]
        after_back: list[Block] = [*validate_refs]
        for i in keys:  # the backfill revision's copy, dropped with the constraint on the way back
            copy = derived_name(i.name, "__planner_new")
            after_back.append(_concurrent_build(copy, render([index_copy(i, copy, tmp_of)])))
        if pkey:
            after_back.append(pk_build(pk_copy, tmp_of))
        from planner.checks import int_bounds

        back_guards, backups, restores, backed = [], [], [], []
        for m in ms:
            o = m.c.old
            bk = self.backup_name(c.table, m.col, "type")
            # the downgrade converts rows written since the swap back: stop first if some cannot
            # be. A conversion that round-trips exactly (int -> bigint) destroys nothing: the
            # downgrade converts every value back, and a full-table backup copy would only cost
            # time and WAL
            exact = self._converts_back(m.c)
            # with a backup, rows unchanged since the swap get their old value from it (99.9999
            # -> numeric(6,2) is 100.00, which does not convert back to numeric(6,4)): only the
            # others are converted back, so only they are tested
            restored = "" if exact else self.not_restored(
                c.table, pk, bk, f"b.{q(m.tmp)} IS NOT DISTINCT FROM {qt(c.table)}.{q(m.col)}")
            bounds = int_bounds(o.type, "postgresql") if exact else None
            if bounds is not None:  # integer widening: one range count instead of a cast per row
                test = f"NOT BETWEEN {bounds[0]} AND {bounds[1]}"
                if split_type(o.type)[3]:  # an array: any element outside
                    test = f"IS NOT NULL AND EXISTS (SELECT FROM unnest({q(m.col)}) AS planner_v(v) WHERE v {test})"
                outside = f"FROM {qt(c.table)} WHERE {q(m.col)} {test}"
                back_guards.append(Guard(f"SELECT count(*) {outside}", f"values of {c.table}.{m.col} do not fit "
                                         f"{m.old_sql} (written since the swap; fix them first)",
                                         sample=f"SELECT {', '.join(q(p) for p in (*pk, m.col))} "
                                                f"{outside} LIMIT 5"))
            else:
                back_guards.append(self._convert_guard(c.table, m.col, m.old_sql,
                                                       self.to_old(m.c, GUARD_VALUE, m.old_sql),
                                                       why=" (written since the swap; fix them first)",
                                                       also_where=restored))
            if exact:
                continue
            # else the converted value is backed up too: a row whose value changed after the
            # swap keeps it (converted back) on downgrade instead of getting the old one. The
            # restore runs before the batches, which then convert only the rows it left
            backups.append(self.backup(c.table, pk, m.col, bk, as_text=bool(o.enum), also=(m.tmp,)))
            restores.append(self.restore(c.table, pk, m.col, bk, cast=m.old_sql if o.enum else None,
                                         unchanged=f"t.{q(m.col)} IS NOT DISTINCT FROM b.{q(m.tmp)}",
                                         batched=True, into=m.back))
            backed.append(f"{BACKUP_SCHEMA}.{bk} ({', '.join(pk)}, {m.col} before the swap)")
        also = ""
        if pkey:
            also = f"; primary key {pkey.name} from {pk_copy}"
        if refs:
            also += ("; locks and drops " + ", ".join(f"{key}.{fk.name}" for key, fk in refs)
                     + ", added again NOT VALID")
        types = ", ".join(f"{m.old_sql} -> {m.new_sql}" for m in ms)
        # a downgrade stopped after this step's way back committed (a later step's lock wait gave
        # up, a guard stopped it) is run again from its first step: the way back is then done
        # (the new column has its temporary name again), and only what follows it runs again
        # (re-runnable: validations, builds IF NOT EXISTS)
        undone = f"rt.has_column({py(qt(c.table))}, {py(ms[0].tmp)})"

        def unless_done(b: Block) -> Block:
            return dataclasses.replace(b, code=f"if not {undone}:\n" + textwrap.indent(b.code, "    "))

        back = [*(Block(g.code()) for g in back_guards), *back_syncs, *restores, *fill_back, *back_builds,
                *not_null_back, online(execute(f"ANALYZE {qt(c.table)} ({', '.join(q(m.back) for m in ms)})")),
                self._referenced_first_ddl(c.table, [], views_kept(c.table, cols, swap_back), "ACCESS EXCLUSIVE",
                                           also=others,
                                           before=note_kept(c.table))]
        self.add(Phase.CONTRACT, f"swap {c.table}.{', '.join(m.tmp for m in ms)} in as {', '.join(cols)} "
                                 f"({types}, R8{also})",
                 # dropping the old column drops its foreign keys: ACCESS EXCLUSIVE on what they
                 # reference, and on the tables whose keys reference it
                 [*backups, self._referenced_first_ddl(c.table, list(fks.values()), views_kept(c.table, cols, swap),
                                                       "ACCESS EXCLUSIVE", also=others,
                                                       before=note_kept(c.table))],
                 [*map(unless_done, back), *after_back],
                 guards=agree, change=c, rank=(0.5 if fks else 1) if pkey else 0, backup="; ".join(backed) or None)
        for (key, fk), validate in zip(refs, validate_refs, strict=True):
            self.add(Phase.CONTRACT, f"validate foreign key {fk.name} of {key} (added again NOT VALID by the swap)",
                     [validate], [], change=c)
        # fresh statistics for the converted columns without an ANALYZE under the swap's ACCESS
        # EXCLUSIVE: it runs online right before the swap (contract, stage PRE), and each column
        # keeps them through the rename (pg_statistic is keyed by column number)
        self.add(Phase.CONTRACT, f"ANALYZE {c.table}.{', '.join(m.tmp for m in ms)} before the swap (its "
                                 "statistics stay with it)",
                 [online(execute(f"ANALYZE {qt(c.table)} ({', '.join(q(m.tmp) for m in ms)})"))], [], change=c,
                 stage=Stage.PRE)

    def set_not_null(self, c: Change) -> None:
        expression = self.backfill_exprs.get(c.object)
        fill = unfill = None
        if expression is not None:
            # overwrite the NULLs (backed up, so the downgrade puts them back)
            schema, name = _split(c.table)
            pk = self.pk_columns(self.old.table(c.table))
            if not pk:
                raise PlanError(f"{c.id}: {c.table} has no primary key: a backfill could not be undone")
            bk = self.backup_name(c.table, c.column, "nulls")
            # from the backfill on, a trigger gives a NULL write the backfill's value (the
            # expression over the written row): OLD, which may write NULL, keeps working after
            # the NOT VALID check, and no NULL written during the backfill reaches VALIDATE
            fn = self.function_name(c.table, f"{name}_{c.column}", "__planner_fill")
            qfn = f"{q(schema)}.{q(fn)}" if schema else q(fn)
            # ... and notes the row in the backup (it was NULL as written, FILLED is what it got),
            # so the downgrade gives it its NULL back too, like the rows the batches fill
            keys = ", ".join(q(p) for p in pk)
            body = (f" BEGIN NEW.{q(c.column)} := (SELECT ({expression}) FROM (SELECT NEW.*) AS planner_row); "
                    f"INSERT INTO {q(BACKUP_SCHEMA)}.{q(bk)} ({keys}, {q(c.column)}, {q(FILLED)}) VALUES ("
                    + ", ".join(f"NEW.{q(p)}" for p in pk) + f", NULL, NEW.{q(c.column)}); RETURN NEW; END ")
            # re-runnable (the batches' autocommit block commits it; a re-run after a failed batch
            # finds it there)
            fill = "\n".join([
                execute(f"CREATE OR REPLACE FUNCTION {qfn}() RETURNS trigger LANGUAGE plpgsql AS " + dollar_quote(body)),
                _create_trigger_once(c.table, fn, f"BEFORE INSERT OR UPDATE ON {qt(c.table)} FOR EACH ROW "
                                                  f"WHEN (NEW.{q(c.column)} IS NULL) EXECUTE FUNCTION {qfn}()")])
            unfill = "\n".join([*self.drop_trigger(c.table, fn), execute(f"DROP FUNCTION IF EXISTS {qfn}()")])
            # the backup remembers what the backfill wrote (FILLED, recorded by each batch in
            # the statement that writes it): the downgrade puts NULL back only where the row
            # still holds that, so a value the application wrote, during the backfill or after,
            # stays (a snapshot of the rows after the backfill took such a value for the fill).
            # The backup is copied before the trigger's lock is taken; the downgrade drops the
            # trigger before it puts the NULLs back (the trigger would fill them again)
            self._backfill_step(c, c.table, c.column, expression, fires_triggers=True,
                                upgrade_first=[self.backup(c.table, pk, c.column, bk, f"{q(c.column)} IS NULL",
                                                           computed=(f"{q(c.column)} AS {q(FILLED)}",)),
                                               self.ddl(fill)],
                                record=f"{q(BACKUP_SCHEMA)}.{q(bk)}",
                                downgrade=[self.ddl(unfill),
                                           self.restore(c.table, pk, c.column, bk,
                                                        unchanged=f"t.{q(c.column)} IS NOT DISTINCT FROM "
                                                                  f"b.{q(FILLED)}", batched=True)])
        # with a backfill no NULL is left for the guard to find (it would run before the backfill).
        # Without one, OLD wrote the column nullable: from the NOT VALID check on its NULL writes
        # fail, so only NEW runs after that revision
        self._not_null_steps(c, c.table, c.column, guards=self.guards(c) if expression is None else [],
                             breaks_old=expression is None)
        if fill is not None and unfill is not None:
            self.add(Phase.CONTRACT, f"drop the trigger that fills NULL writes of {c.object} (NOT NULL now)",
                     [self.ddl(unfill)], [self.ddl(fill)], change=c)

    def drop_not_null(self, c: Change) -> None:
        schema, name = _split(c.table)
        t = self.sa_column(self.old_md, c.table, c.column).type
        guard_down = Guard(f"SELECT count(*) FROM {qt(c.table)} WHERE {q(c.column)} IS NULL",
                           f"{c.object} has NULLs: the downgrade cannot restore NOT NULL")
        nn_blocks, set_nn = self._not_null_back(c.table, c.column, t)
        self.add(Phase.EXPAND, f"DROP NOT NULL {c.object}",
                 [self.ddl(render([ops.AlterColumnOp(name, c.column, schema=schema, modify_nullable=True,
                                                     existing_type=t, existing_nullable=False)]))],
                 [Block(f"rt.guard({py(guard_down.sql)}, {py(guard_down.message)})"), *nn_blocks,
                  self.ddl(set_nn)], change=c)

    def alter_default(self, c: Change) -> None:
        schema, name = _split(c.table)
        o, n = c.old, c.new
        if o.autoincrement != n.autoincrement:
            raise PlanError(f"{c.id}: changing how {c.object} is generated ({o.autoincrement} -> "
                            f"{n.autoincrement}) needs a hand-written migration")
        t = self.sa_column(self.new_md, c.table, n.name).type
        if any(x.kind == Kind.ALTER_COLUMN_TYPE and x.table == c.table and x.column == c.column
               and self._sets_default(x) for x in self.diff.changes):
            # the type change sets NEW's default with the new type (and OLD's back): a new
            # default of the old type during the window would be wrong for the running code
            self.add(Phase.CONTRACT, f"default of {c.object} (set with its type change)", [], [], change=c)
            return

        self.add(Phase.EXPAND, f"default of {c.object}",
                 [self.ddl(self.set_default(c.table, n.name, t, n.default))],
                 [self.ddl(self.set_default(c.table, n.name, t, o.default))], change=c)

    # ----------------------------------------------------------------- indexes
    def _index_op(self, md: sa.MetaData, table: str, index: Index, as_name: str | None = None) -> ops.CreateIndexOp:
        sat = self.table(md, table)
        ix = next((i for i in sat.indexes if i.name == index.name), None)
        if ix is not None:
            op_ = ops.CreateIndexOp.from_index(ix)
        else:  # a UNIQUE constraint: its index is built first, then the constraint takes it over
            schema, name = _split(table)
            op_ = ops.CreateIndexOp(index.name, name, list(index.columns), schema=schema, unique=True)
            if index.nulls_not_distinct:
                op_.kw["postgresql_nulls_not_distinct"] = True
        op_.kw["postgresql_concurrently"] = True
        op_.if_not_exists = True
        if as_name:
            op_.index_name = as_name
        return op_

    def _is_redefined(self, table: str, name: str | None) -> bool:
        return (table, name) in self.redefined

    def drop_trigger(self, table: str, name: str) -> list[str]:
        """DROP TRIGGER `name` ON `table` (PostgreSQL). On a partitioned table the parent is
        locked first: DROP TRIGGER takes ACCESS EXCLUSIVE on each partition (their clones of the
        trigger go first) and only then waits for the parent, holding the partitions behind a
        reader of the parent for the whole lock timeout (LOCK TABLE takes the parent first)."""
        lock = [execute(f"LOCK TABLE {qt(table)} IN ACCESS EXCLUSIVE MODE")] if self.partitioned(table) else []
        return [*lock, execute(f"DROP TRIGGER IF EXISTS {q(name)} ON {qt(table)}")]

    def partitioned(self, table: str) -> bool:
        """PostgreSQL: `table` is a partitioned table (in OLD or NEW): CREATE INDEX CONCURRENTLY,
        DROP INDEX CONCURRENTLY, ADD CONSTRAINT ... USING INDEX and NOT VALID foreign keys are
        refused on it."""
        t = self.old.table(table) or self.new.table(table)
        return self.DIALECT == "postgresql" and t is not None and bool(t.partition_by)

    def _partitioned_build(self, md: sa.MetaData, table: str, index: Index, as_name: str | None = None) -> Block:
        """Index `index` (as `as_name`) of partitioned `table`, online: the runtime creates it ON
        ONLY the table (catalog only, INVALID until every partition has its own), builds it
        CONCURRENTLY on each partition and attaches each (rt.partitioned_index)."""
        op_ = self._index_op(md, table, index, as_name)
        op_.kw.pop("postgresql_concurrently", None)
        op_.if_not_exists = False
        ix = op_.to_index()
        text = str(CreateIndex(ix).compile(dialect=_PG))
        prep = _PG.identifier_preparer
        head = f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {prep.format_index(ix)} ON {prep.format_table(ix.table)}"
        assert text.startswith(head), text
        return Block(f"rt.partitioned_index({py(qt(table))}, {py(op_.index_name)}, {py(text[len(head):])}"
                     f"{', unique=True' if ix.unique else ''})", autocommit=True)

    def _drop_index_block(self, table: str, name: str) -> Block:
        """DROP INDEX CONCURRENTLY IF EXISTS `name` of `table`; of a partitioned table (which
        refuses CONCURRENTLY) a plain DROP INDEX, a short strong-lock step (it drops the
        partitions' indexes with it: no scan)."""
        schema, tname = _split(table)
        if self.partitioned(table):
            return self.ddl(render([ops.DropIndexOp(name, table_name=tname, schema=schema, if_exists=True)]))
        return online(render([ops.DropIndexOp(name, table_name=tname, schema=schema, postgresql_concurrently=True,
                                              if_exists=True)]))

    def _online_partitioned_unique(self, table: str, index: Index) -> Block | None:
        """UNIQUE constraint `index` of partitioned `table` built online (rt.partitioned_unique:
        a unique index built concurrently on each leaf and made its constraint, then each level's
        ADD CONSTRAINT, which adopts its partitions' without building); None where the constraint
        is DEFERRABLE, NULLS NOT DISTINCT or has INCLUDE columns (added in place)."""
        if index.deferrable or index.include or index.nulls_not_distinct or not index.name:
            return None
        columns = "(" + ", ".join(q(x) for x in index.columns) + ")"
        return Block(f"rt.partitioned_unique({py(qt(table))}, {py(index.name)}, {py(columns)})", autocommit=True)

    def _partitioned_constraint(self, table: str, index: Index) -> Block:
        """UNIQUE constraint `index` added in place to partitioned `table` (ADD CONSTRAINT ...
        USING INDEX is refused there): it builds its index under the lock, as the naive DDL does."""
        schema, name = _split(table)
        deferrable = {"deferrable": True} if index.deferrable else {}
        return self.ddl(render([ops.CreateUniqueConstraintOp(index.name, name, list(index.columns), schema=schema,
                                                             **deferrable)]))

    def _drop_index_op(self, table: str, index: Index) -> ops.DropIndexOp:
        schema, name = _split(table)
        return ops.DropIndexOp(index.name, table_name=name, schema=schema, postgresql_concurrently=True,
                               if_exists=True)

    def _build_index_block(self, md: sa.MetaData, table: str, index: Index) -> Block:
        """CREATE INDEX CONCURRENTLY IF NOT EXISTS of `index` as `md` defines it."""
        if self.partitioned(table):
            return self._partitioned_build(md, table, index)
        return _concurrent_build(index.name, render([self._index_op(md, table, index)]))

    def _using_index_block(self, table: str, index: Index, index_name: str | None = None) -> Block:
        """UNIQUE constraint `index.name` taking over the index `index_name` (by default its own
        name; the server renames the index to the constraint's)."""
        deferrable = " DEFERRABLE" if index.deferrable else ""
        return self.ddl(execute(f"ALTER TABLE {qt(table)} ADD CONSTRAINT {q(index.name)} UNIQUE "
                                f"USING INDEX {q(index_name or index.name)}{deferrable}"))

    def _create_index_blocks(self, md: sa.MetaData, table: str, index: Index) -> list[Block]:
        if index.constraint and self.partitioned(table):
            return [self._online_partitioned_unique(table, index) or self._partitioned_constraint(table, index)]
        blocks = [self._build_index_block(md, table, index)]
        if index.constraint:
            blocks.append(self._using_index_block(table, index))
        return blocks

    def _drop_index_blocks(self, table: str, index: Index) -> list[Block]:
        if index.constraint:
            schema, name = _split(table)
            return [self.ddl(render([ops.DropConstraintOp(index.name, name, type_="unique", schema=schema)]))]
        return [self._drop_index_block(table, index.name)]

    def add_index(self, c: Change) -> None:
        i: Index = c.new
        guards = self.guards(c)
        if self._is_redefined(c.table, i.name):
            self._redefine_index(c, i, guards)
            return
        if i.constraint and self.partitioned(c.table):
            schema, name = _split(c.table)
            online_ = self._online_partitioned_unique(c.table, i)
            how = ("online, partition by partition (a unique index built concurrently on each and made its "
                   "constraint, then the table's adopts them)" if online_ else
                   "in place (a partitioned table takes no constraint USING INDEX: the index is built under the "
                   "lock, writes wait)")
            self.add(Phase.EXPAND, f"unique constraint {i.name} {how}",
                     [online_ or self._partitioned_constraint(c.table, i)],
                     [self.ddl(render([ops.DropConstraintOp(i.name, name, type_="unique", schema=schema,
                                                            if_exists=True)]))], guards=guards, change=c)
            return
        # the build runs outside the transaction (stage ONLINE); a UNIQUE constraint takes the
        # index over afterwards in the transactional tail of the same revision
        self.add(Phase.EXPAND, f"create {'unique ' if i.unique else ''}index {i.name} concurrently",
                 [self._build_index_block(self.new_md, c.table, i)],
                 [self._drop_index_block(c.table, i.name)], guards=guards, change=c)
        if i.constraint:
            schema, name = _split(c.table)
            self.add(Phase.EXPAND, f"unique constraint {i.name} using the index",
                     [self._using_index_block(c.table, i)],
                     [self.ddl(render([ops.DropConstraintOp(i.name, name, type_="unique", schema=schema,
                                                            if_exists=True)]))], change=c, stage=Stage.TAIL)

    def _redefine_index(self, c: Change, i: Index, guards: list[Guard]) -> None:
        """An index or UNIQUE constraint whose definition changes under the same name: expand
        builds the new one concurrently under a temporary name (CREATE ... IF NOT EXISTS would
        otherwise find the old one and do nothing), contract drops the old one (drop_index) and
        then gives the new one its name: RENAME for an index, ADD CONSTRAINT ... USING INDEX
        (which renames the index) for a constraint."""
        schema, name = _split(c.table)
        if i.constraint and self.partitioned(c.table):
            # no constraint USING INDEX on a partitioned table: added in place once the old one
            # is gone (contract), dropped again on the way back
            self.add(Phase.CONTRACT, f"{i.name}: the new definition, in place (a partitioned table takes no "
                                     "constraint USING INDEX)", [self._partitioned_constraint(c.table, i)],
                     [self.ddl(render([ops.DropConstraintOp(i.name, name, type_="unique", schema=schema,
                                                            if_exists=True)]))], guards=guards, change=c,
                     stage=Stage.TAIL)
            return
        tmp = derived_name(i.name, "__planner_new")
        build = (self._partitioned_build(self.new_md, c.table, i, as_name=tmp) if self.partitioned(c.table) else
                 _concurrent_build(tmp, render([self._index_op(self.new_md, c.table, i, as_name=tmp)])))
        drop_tmp = self._drop_index_block(c.table, tmp)
        self.add(Phase.EXPAND, f"create {'unique ' if i.unique else ''}index {tmp} concurrently (becomes {i.name})",
                 [build], [drop_tmp], guards=guards, change=c)
        if i.constraint:
            up = self._using_index_block(c.table, i, tmp)
            # dropping the constraint drops its index: built again under the temporary name,
            # what expand left (a retry of the contract takes it over again)
            down = [self.ddl(render([ops.DropConstraintOp(i.name, name, type_="unique", schema=schema,
                                                          if_exists=True)])), build]
        else:
            up, down = self.ddl(rename_index_sql(c.table, tmp, i.name)), [self.ddl(rename_index_sql(c.table, i.name, tmp))]
        self.add(Phase.CONTRACT, f"{i.name}: the new definition takes the name", [up], down,
                 change=c, stage=Stage.TAIL)

    def drop_index(self, c: Change) -> None:
        i: Index = c.old
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            return
        if any(x.kind == Kind.DROP_COLUMN and x.table == c.table and x.column in i.columns
               for x in self.diff.changes):
            # the column drop takes the index with it; its downgrade recreates the index
            self.add(Phase.CONTRACT, f"index {i.name} goes with its column", [],
                     self._create_index_blocks(self.old_md, c.table, i), change=c)
            return
        # a plain index goes before the phase's transactional work (stage PRE), so the contract
        # revision ends in its transaction; a unique one an FK dropped in this plan may rely on
        # goes after it
        stage = None
        if not i.constraint:
            held = i.unique and any(x.kind == Kind.DROP_FOREIGN_KEY for x in self.diff.changes)
            stage = Stage.ONLINE if held else Stage.PRE
        self.add(Phase.CONTRACT, f"drop index {i.name} concurrently", self._drop_index_blocks(c.table, i),
                 self._create_index_blocks(self.old_md, c.table, i), change=c, stage=stage)

    def _rename_phase(self, c: Change) -> Phase:
        """Renaming a key or index of a table renamed in the same plan follows the table rename
        (contract); on its own it is a harmless metadata change (expand)."""
        renamed = any(x.kind == Kind.RENAME_TABLE and x.table == c.table for x in self.diff.changes)
        return Phase.CONTRACT if renamed else Phase.EXPAND

    def rename_index(self, c: Change) -> None:
        a, b = c.detail["from"], c.detail["to"]
        self.add(self._rename_phase(c), f"rename index {a} to {b}", [self.ddl(rename_index_sql(c.table, a, b))],
                 [self.ddl(rename_index_sql(c.table, b, a))], change=c)

    def rename_constraint(self, c: Change) -> None:
        a, b = c.detail["from"], c.detail["to"]
        self.add(self._rename_phase(c), f"rename constraint {a} to {b}",
                 [self.ddl(rename_constraint_sql(c.table, a, b))],
                 [self.ddl(rename_constraint_sql(c.table, b, a))], change=c)

    # ----------------------------------------------------------------- constraints
    def _fk_ddl(self, table: str, fk: ForeignKey, code: str, mode: str = "SHARE ROW EXCLUSIVE") -> Block:
        """Strong-lock DDL of foreign key `fk` of `table`, which locks the referenced table too:
        that one is locked first (rt.referenced_first), so the step never waits long holding
        a strong lock on one table for the other. A self-reference needs nothing."""
        return self._referenced_first_ddl(table, [fk], code, mode)

    def _referenced_first_ddl(self, table: str, fks: list[ForeignKey], code: str,
                              mode: str = "SHARE ROW EXCLUSIVE", *, also: Iterable[str] = (),
                              before: str = "") -> Block:
        """Strong-lock DDL of `table` that also locks the tables foreign keys `fks` reference
        (adding, dropping, or dropping a column that has one), and the tables `also`: those are
        locked first, in name order, so the step never waits long holding a strong lock on one
        table for another. `before`: statements of the step that run before any of its locks
        (reads it needs in its transaction)."""
        refs = sorted({r for fk in fks if (r := qualify(fk.ref_schema, fk.ref_table, None)) != table}
                      | {r for r in also if r != table})
        head = before + "\n" if before else ""
        if not refs:
            return self.ddl(head + code)
        tail = "" if mode == "SHARE ROW EXCLUSIVE" else ", " + py(mode)
        managers = ", ".join(f"rt.referenced_first({py(qt(ref))}{tail})" for ref in refs)
        return self.ddl(head + f"with {managers}:\n" + textwrap.indent(code, "    "))

    def _fk_op(self, table: str, fk: ForeignKey) -> ops.CreateForeignKeyOp:
        schema, name = _split(table)
        return ops.CreateForeignKeyOp(
            fk.name, name, fk.ref_table, list(fk.columns), list(fk.ref_columns), source_schema=schema,
            referent_schema=fk.ref_schema, ondelete=None if fk.on_delete == "NO ACTION" else fk.on_delete,
            onupdate=None if fk.on_update == "NO ACTION" else fk.on_update,
            deferrable=fk.deferrable or None, initially="DEFERRED" if fk.initially_deferred else None,
            match="FULL" if fk.match_full else None, postgresql_not_valid=not self.partitioned(table))

    def _online_partitioned_fk(self, table: str, fk: ForeignKey) -> Block:
        """Foreign key `fk` of partitioned `table` (which takes no NOT VALID foreign key) built
        online (rt.partitioned_fk): on each leaf partition added NOT VALID (short) and validated
        (online: writes go on), then each partitioned level's ADD CONSTRAINT, which adopts its
        partitions' validated keys without a scan (measured on PostgreSQL 15, 1M rows in a
        sub-partitioned tree: 2-6 ms per level, against a 176 ms scan under the lock in place)."""
        text = str(AddConstraint(self._fk_op(table, fk).to_constraint()).compile(dialect=quoting_dialect(self.DIALECT)))
        head = f"ALTER TABLE {qt(table)} ADD CONSTRAINT {q(fk.name or '')} "
        assert text.startswith(head), text
        return Block(f"rt.partitioned_fk({py(qt(table))}, {py(fk.name or '')}, {py(text[len(head):])})",
                     autocommit=True)

    def _referenced_key_in_old(self, fk: ForeignKey) -> bool:
        """The key `fk` references is there before the plan's own transactional work: a primary
        key or plain unique index of a table in OLD, or a table NEW creates (in expand's first,
        transactional stage). A key the plan adds to an existing table becomes one in expand's
        last stage (constraint USING INDEX): a foreign key built online waits for the backfill
        revision then."""
        ref = qualify(fk.ref_schema, fk.ref_table, None)
        t = self.old.table(ref)
        if t is None:
            return self.new.table(ref) is not None
        cols = set(fk.ref_columns)
        return bool((t.primary_key and set(t.primary_key.columns) == cols)
                    or any(i.unique and not i.where and set(i.columns) == cols for i in t.indexes))

    def _add_fk_steps(self, c: Change, fk: ForeignKey) -> None:
        schema, name = _split(c.table)
        drop = self.ddl(render([ops.DropConstraintOp(fk.name, name, type_="foreignkey", schema=schema,
                                                    if_exists=True)]))
        if self.partitioned(c.table) and fk.name:
            # its leaves check new writes from the first NOT VALID on; the table's key comes last
            self.add(Phase.EXPAND if self._referenced_key_in_old(fk) else Phase.BACKFILL,
                     f"foreign key {fk.name} online, partition by partition (NOT VALID and VALIDATE on each, "
                     "then the table's adopts them)", [self._online_partitioned_fk(c.table, fk)], [drop],
                     guards=self.guards(c), change=c, stage=Stage.ONLINE)
            return
        # after the phase's concurrent index builds: it may reference a unique index built there
        how = (" validated in place (a partitioned table takes no NOT VALID foreign key: writes wait for the "
               "scan)" if self.partitioned(c.table) else " NOT VALID")
        self.add(Phase.EXPAND, f"foreign key {fk.name}{how}",
                 [self._fk_ddl(c.table, fk, render([self._fk_op(c.table, fk)]))],
                 [drop], guards=self.guards(c), change=c, stage=Stage.TAIL)
        self.add(Phase.BACKFILL, f"validate foreign key {fk.name} (its own transaction)",
                 [online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(fk.name)}"))], [], change=c,
                 stage=Stage.ONLINE)

    def add_fk(self, c: Change) -> None:
        self._add_fk_steps(c, c.new)

    def drop_fk(self, c: Change) -> None:
        fk: ForeignKey = c.old
        schema, name = _split(c.table)
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            # the table moves aside with its constraints
            return
        down = [self._fk_ddl(c.table, fk, render([self._fk_op(c.table, fk)])),
                Block(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(fk.name)}"))]
        # dropping a foreign key takes ACCESS EXCLUSIVE on both tables
        self.add(Phase.CONTRACT, f"drop foreign key {fk.name}",
                 [self._fk_ddl(c.table, fk, render([ops.DropConstraintOp(fk.name, name, type_="foreignkey",
                                                                        schema=schema)]), "ACCESS EXCLUSIVE")],
                 down, change=c)

    def alter_fk(self, c: Change) -> None:
        o, n = c.old, c.new
        schema, name = _split(c.table)

        def swap(a: ForeignKey, b: ForeignKey) -> Block:
            return self._fk_ddl(c.table, a, render([ops.DropConstraintOp(a.name, name, type_="foreignkey",
                                                                         schema=schema),
                                                    self._fk_op(c.table, b)]), "ACCESS EXCLUSIVE")

        validate_new = online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(n.name)}"))
        validate_old = Block(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(o.name)}"))
        self.add(Phase.EXPAND, f"re-create foreign key {n.name} NOT VALID with the new actions",
                 [swap(o, n)], [swap(n, o), validate_old], change=c)
        self.add(Phase.BACKFILL, f"validate foreign key {n.name} (its own transaction)", [validate_new], [], change=c,
                 stage=Stage.ONLINE)

    def add_check(self, c: Change) -> None:
        schema, name = _split(c.table)
        ch = c.new
        # a CHECK redefined under the same name is added under a temporary one, renamed in contract
        temp = derived_name(ch.name, "__planner_new") if self._is_redefined(c.table, ch.name) else ch.name
        add = _add_check_sql(c.table, temp, quoted_expression(ch.expression, self.DIALECT))
        self.add(Phase.EXPAND, f"check {temp} NOT VALID", [self.ddl(execute(add))],
                 [self.ddl(render([ops.DropConstraintOp(temp, name, type_="check", schema=schema,
                                                        if_exists=temp != ch.name)]))],
                 guards=self.guards(c), change=c)
        self.add(Phase.BACKFILL, f"validate check {temp} (its own transaction)",
                 [online(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(temp)}"))], [], change=c,
                 stage=Stage.ONLINE)
        if temp != ch.name:
            self.add(Phase.CONTRACT, f"check {temp} takes the name {ch.name}",
                     [self.ddl(rename_constraint_sql(c.table, temp, ch.name))],
                     [self.ddl(rename_constraint_sql(c.table, ch.name, temp))], change=c, stage=Stage.TAIL)

    def drop_check(self, c: Change) -> None:
        schema, name = _split(c.table)
        ch = c.old
        readd = _add_check_sql(c.table, ch.name, quoted_expression(ch.expression, self.DIALECT))
        self.add(Phase.CONTRACT, f"drop check {ch.name}",
                 [self.ddl(render([ops.DropConstraintOp(ch.name, name, type_="check", schema=schema)]))],
                 [self.ddl(execute(readd)),
                  Block(execute(f"ALTER TABLE {qt(c.table)} VALIDATE CONSTRAINT {q(ch.name)}"))], change=c)

    def add_pk(self, c: Change) -> None:
        pk = c.new
        schema, name = _split(c.table)
        idx = derived_name(pk.name or f"{name}_pkey", "_planner")
        cols = ", ".join(q(x) for x in pk.columns)
        replaced = next((x for x in self.diff.changes if x.kind == Kind.DROP_PRIMARY_KEY and x.table == c.table),
                        None)
        if self.partitioned(c.table) and replaced is None:
            # no PRIMARY KEY USING INDEX on a partitioned table: partition by partition (its
            # columns NOT NULL first: a leaf's key USING INDEX would scan for NULLs under its lock)
            t = self.old.table(c.table)
            ready = t is not None and all((col := t.column(x)) is not None and not col.nullable for x in pk.columns)
            self.add(Phase.EXPAND if ready else Phase.CONTRACT,
                     f"primary key of {c.table} online, partition by partition (a unique index built concurrently "
                     "on each and made its key, then the table's adopts them)",
                     [Block(f"rt.partitioned_pk({py(qt(c.table))}, {py(pk.name or name + '_pkey')}, "
                            f"{py('(' + cols + ')')})", autocommit=True)],
                     [self.ddl(execute(f"ALTER TABLE {qt(c.table)} DROP CONSTRAINT IF EXISTS "
                                       f"{q(pk.name or name + '_pkey')}"))], guards=self.guards(c), change=c,
                     stage=Stage.ONLINE)
            return
        if self.partitioned(c.table):  # no PRIMARY KEY USING INDEX there: in place, as the naive DDL
            self.add(Phase.EXPAND, f"primary key of {c.table} in place (a partitioned table takes no key USING "
                                   "INDEX: the index is built under the lock, writes wait)",
                     [self.ddl(render([ops.CreatePrimaryKeyOp(pk.name or f"{name}_pkey", name, list(pk.columns),
                                                              schema=schema)]))],
                     [self.ddl(execute(f"ALTER TABLE {qt(c.table)} DROP CONSTRAINT IF EXISTS "
                                       f"{q(pk.name or name + '_pkey')}"))], guards=self.guards(c), change=c)
            return
        build = _concurrent_build(idx, execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {q(idx)} ON {qt(c.table)} ({cols})"))
        swap = []
        if replaced is not None:
            swap.append(f"ALTER TABLE {qt(c.table)} DROP CONSTRAINT {q(replaced.old.name)}")
        swap.append(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(pk.name or name + '_pkey')} PRIMARY KEY "
                    f"USING INDEX {q(idx)}")
        down = [self.ddl(execute(f"ALTER TABLE {qt(c.table)} DROP CONSTRAINT {q(pk.name or name + '_pkey')}"))]
        if replaced is not None:
            old_cols = ", ".join(q(x) for x in replaced.old.columns)
            down.append(self.ddl(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(replaced.old.name)} "
                                         f"PRIMARY KEY ({old_cols})")))
        self.add(Phase.EXPAND, f"unique index for the primary key of {c.table}", [build], [],
                 guards=self.guards(c), change=c)
        self.add(Phase.CONTRACT, f"primary key of {c.table} from the index",
                 [self.ddl("\n".join(execute(s) for s in swap))], down, change=c)

    def drop_pk(self, c: Change) -> None:
        if any(x.kind == Kind.ADD_PRIMARY_KEY and x.table == c.table for x in self.diff.changes):
            return  # replaced in add_pk
        schema, name = _split(c.table)
        pk = c.old
        cols = ", ".join(q(x) for x in pk.columns)
        self.add(Phase.CONTRACT, f"drop primary key of {c.table}",
                 [self.ddl(render([ops.DropConstraintOp(pk.name, name, type_="primary", schema=schema)]))],
                 [self.ddl(execute(f"ALTER TABLE {qt(c.table)} ADD CONSTRAINT {q(pk.name)} PRIMARY KEY ({cols})"))],
                 change=c)

    # ----------------------------------------------------------------- views, comments
    def add_view(self, c: Change) -> None:
        v, name = c.new, self.quote_table(c.name)
        kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
        self.add(Phase.EXPAND, f"create view {c.name}", [Block(execute(f"CREATE {kind} {name} AS {v.definition}"))],
                 [Block(execute(f"DROP {kind} {name}"))], change=c)

    def drop_view(self, c: Change) -> None:
        v, name = c.old, self.quote_table(c.name)
        kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
        self.add(Phase.CONTRACT, f"drop view {c.name}", [Block(execute(f"DROP {kind} {name}"))],
                 [Block(execute(f"CREATE {kind} {name} AS {v.definition}"))], change=c)

    def alter_view(self, c: Change) -> None:
        o, n = c.old, c.new
        def replace(v) -> Block:  # noqa: ANN001
            kind = "MATERIALIZED VIEW" if v.materialized else "VIEW"
            return Block(execute(f"DROP {kind} IF EXISTS {qt(c.name)}") + "\n" +
                         execute(f"CREATE {kind} {qt(c.name)} AS {v.definition}"))
        self.add(Phase.EXPAND, f"replace view {c.name}", [replace(n)], [replace(o)], change=c)

    def alter_comment(self, c: Change) -> None:
        target = f"COLUMN {qt(c.table)}.{q(c.column)}" if c.column else f"TABLE {qt(c.table)}"

        def comment(text: str | None) -> Block:
            return Block(execute(f"COMMENT ON {target} IS {lit(text) if text is not None else 'NULL'}"))

        self.add(Phase.EXPAND, f"comment on {c.object}", [comment(c.detail.get('to'))],
                 [comment(c.detail.get('from'))], change=c)


def _tables_in_dependency_order(changes: tuple[Change, ...], new: Schema) -> list[Change]:
    """The changes, with new tables ordered so that a table comes after the tables its
    foreign keys reference (the differ sorts them by name), and the columns added to a table
    in NEW's order."""
    added = {c.table: c for c in changes if c.kind == Kind.ADD_TABLE}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in order or key in visiting:
            return
        visiting.add(key)
        for fk in added[key].new.foreign_keys:
            ref = new.key(fk.ref_schema, fk.ref_table)
            if ref in added and ref != key:
                visit(ref)
        visiting.discard(key)
        order.append(key)

    for key in added:
        visit(key)
    queue = iter(order)
    out = [added[next(queue)] if c.kind == Kind.ADD_TABLE else c for c in changes]
    # the columns added to a table in NEW's column order (the differ sorts them by name): the
    # server appends each (PostgreSQL, SQLite) or puts it after its predecessor (MySQL), so
    # the table ends up with NEW's order, as the naive CREATE would have it
    columns: dict[str, list[Change]] = {}
    for c in out:
        if c.kind == Kind.ADD_COLUMN:
            columns.setdefault(c.table or "", []).append(c)
    for key, cs in columns.items():
        t = new.table(key)
        names = [col.name for col in t.columns] if t is not None else []
        cs.sort(key=lambda c: names.index(c.column) if c.column in names else len(names))
    queues = {key: iter(cs) for key, cs in columns.items()}
    return [next(queues[c.table or ""]) if c.kind == Kind.ADD_COLUMN else c for c in out]


def _enums_not_created(md: sa.MetaData) -> sa.MetaData:
    """Enum types are created by their own step (`add_enum`): columns only reference them
    (`postgresql.ENUM(..., create_type=False)`), or op.create_table would CREATE TYPE again."""

    def fix(t: sa.types.TypeEngine) -> sa.types.TypeEngine:
        if isinstance(t, postgresql.ARRAY):
            return postgresql.ARRAY(fix(t.item_type), dimensions=t.dimensions)
        if isinstance(t, sa.Enum):
            return postgresql.ENUM(*t.enums, name=t.name, schema=t.schema, create_type=False)
        return t

    for table in md.tables.values():
        for col in table.columns:
            col.type = fix(col.type)
    return md


def _recreate_note(swapped: list[tuple[str, str]], inplace: list[str]) -> str:
    """What a recreation's step says about its columns: swapped online before it, or
    converted in place (a table rewrite under ACCESS EXCLUSIVE, and why)."""
    note = f"; {', '.join(f'{t}.{c}' for t, c in swapped)} swapped to it online (R8)" if swapped else ""
    if inplace:
        note += (f"; converts {', '.join(inplace)} in place: ALTER ... TYPE rewrites the table under ACCESS "
                 "EXCLUSIVE, writers wait for it")
    return note


def _expanded(old: Enum, new: Enum) -> Enum:
    """Enum `old` with the values `new` adds, each after its predecessor in `new` (as expand's
    ADD VALUE ... AFTER puts them)."""
    values = list(old.values)
    for i, v in enumerate(new.values):
        if v not in values:
            prev = next((p for p in reversed(new.values[:i]) if p in values), None)
            values.insert(values.index(prev) + 1 if prev is not None else 0, v)
    return dataclasses.replace(old, values=tuple(values))


def _join(schema: str | None, name: str) -> str:
    return qualify(schema, name, None)




def build_plan(diff: Diff, old: Schema, new: Schema, *, backfill: dict[str, str] | None = None,
               enum_remap: dict[str, str] | None = None, convert: dict[str, ConvertRule] | None = None,
               renames_in_place: bool = False) -> Plan:
    """The staged plan for `diff` (PostgreSQL). `backfill` ("table.column" -> SQL expression)
    fills existing rows of columns that become NOT NULL; `enum_remap` ("Enum.OLD" -> "NEW")
    moves rows off enum values that are removed; `convert` ("table.column" -> ConvertRule)
    says how a column's values become its new type. planner never invents any of them.
    `renames_in_place`: column and enum value renames as one RENAME in contract (every writer
    switches at once) instead of expand/contract (PostgreSQL; MySQL and SQLite rename in place)."""
    builder: type[_Builder] = _Builder
    if new.dialect == "mysql":
        from planner.plan.mysql import MySQLBuilder as builder
    elif new.dialect == "sqlite":
        from planner.plan.sqlite import SQLiteBuilder as builder
    return builder(diff, old, new, backfill=backfill, enum_remap=enum_remap, convert=convert,
                   renames_in_place=renames_in_place).run()
