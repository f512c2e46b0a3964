"""Changes -> staged steps for MySQL 8 / MariaDB 10.6+ (ddl-safety.md §4 R1/R2/R12, §6).

MySQL has no transactional DDL, no NOT VALID and no concurrent index builds; what it has is
online DDL: `ALGORITHM=INSTANT|INPLACE, LOCK=NONE`, which the server refuses (error 1846)
instead of silently copying the table. So every ALTER here names its algorithm and lock, in
order of preference (`rt.alter(sql, *clauses)` in the revision runtime tries them in turn); a
change that can only copy (ADD CHECK, a data type change R8's new column and swap cannot do)
says `ALGORITHM=COPY, LOCK=SHARED` so reads go on and the reviewer sees it. Alembic's ops cannot append these clauses, so ALTER
TABLE is `op.execute`; tables, renames and checks drops use Alembic's own ops.

MODIFY restates the whole column (§6.4), so all changes to one column (type, NULL, default,
comment, inline ENUM values) become one MODIFY from OLD's full definition to NEW's, compiled
by SQLAlchemy's MySQL dialect, in the latest phase any of them needs.

Backups go to tables named `planner_backup__...` in the same database (the loader skips
them); dropped tables are renamed to such a table. A foreign key is added with
`foreign_key_checks = 0` after a guard proved there are no orphans (the MySQL form of
NOT VALID + VALIDATE: INPLACE instead of a table copy).
"""

from __future__ import annotations

import textwrap

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import AddConstraint, CreateColumn, CreateIndex

from planner.changes import Change, Diff, Kind
from planner.checks import build_checks
from planner.config import ZONE_OFFSET, ConvertRule
from planner.model import Column, ForeignKey, Index
from planner.normalize import quote_ident, quoted_expression
from planner.plan.build import (
    BACKUP_TABLE_PREFIX,
    FILLED,
    PlanError,
    _Builder,
    _mentions,
    _split,
    backfill_call,
    backup_name,
    derived_name,
    execute,
    fresh_backup,
    keyset_call,
    py,
    quoting_dialect,
    recorded_fill_sql,
    render,
    rule_on,
)
from planner.plan.ir import PHASES, Block, Guard, Phase, Plan
from planner.rules.facts import binary_coercible, lossy, mysql_zone_kind, split_type

_MY = quoting_dialect("mysql")


def unlocked_call(*statements: str) -> str:
    """The runtime's `rt.unlocked(...)`: copies that read their source as a snapshot."""
    return f"rt.unlocked({', '.join(py(x) for x in statements)})"

def _noted_backup(create: str, select: str, *after: str) -> str:
    """`rt.noted_backup`: `create` + the revision's note as the table's COMMENT + `select`, then
    `after`, as rt.unlocked runs them: the backup and its note (rt.fresh_backup reads it) come into being in one
    statement. A separate ALTER ... COMMENT after the CREATE, which commits on its own, left a
    backup without a note where a run was killed between the two, and every re-run stopped."""
    return f"rt.noted_backup({py(create)}, {py(select)}, revision{''.join(f', {py(x)}' for x in after)})"


#: a backup's column holding what an in-place conversion made of the backed-up value
CONVERTED = "planner_converted"
INSTANT = ", ALGORITHM=INSTANT"
INPLACE = ", ALGORITHM=INPLACE, LOCK=NONE"
#: in place but blocking writes (reads go on): what the server asks for where LOCK=NONE is
#: refused without a copy (a table with a FULLTEXT index rebuilt for a column change)
INPLACE_SHARED = ", ALGORITHM=INPLACE, LOCK=SHARED"
COPY = ", ALGORITHM=COPY, LOCK=SHARED"
#: a column step that need not copy the table, in order of preference
ONLINE = (INSTANT, INPLACE, INPLACE_SHARED)
INDEX_INPLACE = " ALGORITHM=INPLACE LOCK=NONE"
INDEX_SHARED = " ALGORITHM=INPLACE LOCK=SHARED"

#: column-level kinds that become one MODIFY per column
_COLUMN_KINDS = {Kind.ALTER_COLUMN_TYPE, Kind.SET_NOT_NULL, Kind.DROP_NOT_NULL, Kind.ALTER_DEFAULT,
                 Kind.ADD_ENUM_VALUE, Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES,
                 Kind.RENAME_ENUM_VALUE, Kind.ALTER_COMMENT}


def q(name: str) -> str:
    return quote_ident(name, "mysql")


def qt(key: str) -> str:
    return q(_split(key)[1])


def lit(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _not_null_copies(col: Column) -> bool:
    """Making `col` NOT NULL may need a table copy: MariaDB refuses it in place for a TIMESTAMP
    and for a column whose default is not a constant (1846 "cannot convert NULL to non-constant
    DEFAULT. Try ALGORITHM=COPY"), where the naive MODIFY copies. The server is asked in place
    first (rt.alter): the copy happens only where it says it must."""
    if col.nullable:
        return False
    return split_type(col.type)[0] == "timestamp" or _nonconstant(col.default)


def _nonconstant(default: str | None) -> bool:
    """A default that is not a literal (CURRENT_TIMESTAMP, an expression)."""
    text = (default or "").strip()
    return bool(text) and not (text.startswith("'") or text.lstrip("-+").replace(".", "", 1).isdigit()
                               or text.upper() in ("NULL", "TRUE", "FALSE"))


def backup_table(*parts: str) -> str:
    return backup_name(*parts, prefix=BACKUP_TABLE_PREFIX, limit=64)


#: the zone wall-clock values (DATETIME, DATE) are read in when they become TIMESTAMP instants,
#: and written in on the way back, unless a column's conversion rule states one: UTC, what
#: Prisma writes (an offset: named zones need the server's time zone tables)
CONVERSION_ZONE = "+00:00"


def zoned(expr: str, old_type: str, new_type: str, zone: str) -> str:
    """`expr`, a value of `old_type`, as it must be assigned to `new_type` so that a DATETIME
    or DATE <-> TIMESTAMP conversion reads the wall-clock side in `zone`, whatever the
    session's time_zone (a TIMESTAMP is read and assigned in it): a trigger runs in the
    writer's session, which may be any zone. Other conversions: `expr` as it is."""
    src, dst = mysql_zone_kind(old_type), mysql_zone_kind(new_type)
    if src == "local" and dst == "instant":
        return f"CONVERT_TZ({expr}, {lit(zone)}, @@session.time_zone)"
    if src == "instant" and dst == "local":
        out = f"CONVERT_TZ({expr}, @@session.time_zone, {lit(zone)})"
        return f"CAST({out} AS DATE)" if split_type(new_type)[0] == "date" else out
    return expr


def alter(sql: str, *clauses: str) -> str:
    return f"rt.alter({py(sql)}, {', '.join(py(c) for c in clauses)})"


#: what to do about a column attribute planner does not model
_UNKEPT_HINT = ("write it in a form planner keeps (COLLATE x instead of CHARACTER SET x or BINARY, a named "
                "table CHECK instead of a column-level one), or make this change of the column by hand")


class MySQLBuilder(_Builder):
    _backup_table = staticmethod(backup_table)
    DIALECT = "mysql"
    STAGED = False
    quote = staticmethod(q)
    quote_table = staticmethod(qt)

    def __init__(self, *args, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kw)
        self.columns_done: set[tuple[str, str]] = set()
        #: (table, column in OLD) -> (phase, change) of each MODIFY that changes a column's type
        self.type_modified: dict[tuple[str, str], tuple[Phase, Change]] = {}

    def run(self) -> Plan:
        super().run()
        self._foreign_keys_around_type_changes()
        return Plan(self.DIALECT, tuple(self.steps), kept=tuple(self.kept))

    def _foreign_keys_around_type_changes(self) -> None:
        """MySQL and MariaDB refuse to change the type of a column a foreign key uses, on either
        side (ERROR 1832 "Cannot change column ... used in a foreign key constraint", also with
        foreign_key_checks off; the widening of a key to BIGINT, say): each such foreign key the
        plan keeps is dropped just before the MODIFYs and added back just after them, in the
        same revision, after a check that no row lost its parent meanwhile (then in place, as
        `add_fk` adds one)."""
        changed_fks = {(x.table, (x.old or x.new).name) for x in self.diff.changes
                       if x.kind in (Kind.ADD_FOREIGN_KEY, Kind.DROP_FOREIGN_KEY, Kind.ALTER_FOREIGN_KEY)}
        dropped = {x.table for x in self.diff.changes if x.kind == Kind.DROP_TABLE}
        for t in self.old.tables:
            key = self.old.key(t.schema, t.name)
            new_t = self.new.table(key)
            for fk in t.foreign_keys:
                ref = self.old.key(fk.ref_schema, fk.ref_table)
                hits = [self.type_modified[k] for k in [*((key, c) for c in fk.columns),
                                                        *((ref, c) for c in fk.ref_columns)]
                        if k in self.type_modified]
                new_fk = next((f for f in new_t.foreign_keys if f.name == fk.name), None) if new_t else None
                if not hits or key in dropped or (key, fk.name) in changed_fks or new_fk is None:
                    continue
                first = min((p for p, _ in hits), key=PHASES.index)
                last = max((p for p, _ in hits), key=PHASES.index)
                change = hits[0][1]
                why = "MySQL refuses to change the type of a column a foreign key uses"
                self.add(first, f"drop foreign key {fk.name} of {key} ({why}; added back after the type change)",
                         [self._drop_fk(key, fk)], [self._add_fk(self.old_md, key, fk)], change=change, rank=1.5)
                check = build_checks(Diff((Change(Kind.ADD_FOREIGN_KEY, key, name=fk.name, new=new_fk),)),
                                     self.new, self.new, "mysql")[0]
                guard = Guard(check.sql, check.description.rstrip(".") + f", written while {fk.name} was "
                              "dropped: it is not added back", inline=True, sample=check.sample_sql)
                self.add(last, f"foreign key {fk.name} of {key} back (after its columns' type change)",
                         [Block(guard.code()), self._add_fk(self.new_md, key, new_fk)],
                         [self._drop_fk(key, new_fk)], change=change, rank=2.5)

    # ----------------------------------------------------------------- helpers
    def spec(self, md: sa.MetaData, table: str, column: str, *, name: str | None = None,
             nullable: bool | None = None, default: bool = True) -> str:
        """The full column definition (`name TYPE [NOT NULL] [DEFAULT ..] [COMMENT ..] [ON UPDATE ..]`)
        as SQLAlchemy's MySQL dialect compiles it (ON UPDATE: planner's compile hook, so a MODIFY
        keeps it); `default=False` leaves out the default and ON UPDATE."""
        self._refuse_unkept(md, table, column)
        sat = self.table(md, table)
        col = sat.c[column]
        if name is not None or nullable is not None or not default:
            col = col._copy()
            if name is not None:
                col.name = col.key = name
            if nullable is not None:
                col.nullable = nullable
            if not default:  # the default and with it ON UPDATE (see to_metadata)
                col.server_default = None
                from planner.verify.metadata import ON_UPDATE_INFO

                col.info = {k: v for k, v in col.info.items() if k != ON_UPDATE_INFO}
            if nullable:
                col.autoincrement = False
            sa.Table(sat.name, sa.MetaData(), col)
        return str(CreateColumn(col).compile(dialect=_MY))

    def _refuse_unkept(self, md: sa.MetaData, table: str, column: str) -> None:
        """Stop the plan where it would restate a column with attributes the model does not
        hold (Column.unkept): the statement would drop them silently."""
        schema = self.old if md is self.old_md else self.new
        t = schema.table(table)
        col = t.column(column) if t is not None else None
        if col is not None and col.unkept:
            raise PlanError(f"{table}.{column}: planner cannot restate its {', '.join(col.unkept)} (MySQL/MariaDB "
                            "drop what a MODIFY, ADD or CREATE TABLE leaves out)",
                            hint=_UNKEPT_HINT)

    def keep_on_update(self, table: str, assigned: tuple[str, ...], prefix: str = "", *,
                       moment: str | tuple[str, str] = "expanded") -> str:
        """`, x = x` for each `ON UPDATE CURRENT_TIMESTAMP` column of `table` an UPDATE of other
        columns would otherwise overwrite with the current time (MySQL/MariaDB do not when the
        statement assigns the column its own value): planner's backfills and restores must not
        change data the naive migration keeps. Every such column (ON UPDATE in OLD or NEW) the
        table has at `moment` (`_columns_at`), under the name it has then: a dropped column
        the downgrade has brought back already is stamped by the next restore otherwise."""
        o, n = self.old.table(table), self.new.table(table)
        if o is None or n is None:
            return ""
        renames = {x.detail["from"]: x.detail["to"] for x in self.diff.changes
                   if x.kind == Kind.RENAME_COLUMN and x.table == table}
        stamped = {c.name for c in o.columns if c.on_update} | {c.name for c in n.columns if c.on_update}
        stamped |= {renames[a] for a in renames if a in stamped} | {a for a, b in renames.items() if b in stamped}
        keep = [name for name in self._columns_at(table, moment) if name in stamped and name not in assigned]
        return "".join(f", {prefix}{q(k)} = {prefix}{q(k)}" for k in keep)

    def _columns_at(self, table: str, moment: str | tuple[str, str]) -> list[str]:
        """The columns `table` has, by the names it has them under, when a planned UPDATE runs:
        `expanded` (backfill, and the downgrades of backfill steps): OLD's columns under OLD's
        names and the ones the plan adds; `new` (the first contract downgrades: MODIFYs and
        swaps): NEW's; `("restore", col)`: the downgrade of the drop of OLD's `col`, after the
        renames are undone and the drops of later columns restored (drops run in column order)."""
        o, n = self.old.table(table), self.new.table(table)
        renamed_to = {x.detail["to"] for x in self.diff.changes if x.kind == Kind.RENAME_COLUMN and x.table == table}
        added = [c.name for c in n.columns if o.column(c.name) is None and c.name not in renamed_to]
        if moment == "new":
            return [c.name for c in n.columns]
        names = [c.name for c in o.columns]
        if isinstance(moment, tuple):
            dropped = {x.column for x in self.diff.changes if x.kind == Kind.DROP_COLUMN and x.table == table}
            at = names.index(moment[1]) if moment[1] in names else len(names)
            names = [x for i, x in enumerate(names) if not (x in dropped and i < at)]
        return names + added

    def backup(self, table: str, pk: tuple[str, ...], column: str, bk: str, where: str | None = None, *,
               as_text: bool = False, also: tuple[str, ...] = (), converted: str | None = None) -> Block:
        """`column` (and `also`) of `table` by its key `pk` into the backup table `bk`; with
        `converted` (a column definition named CONVERTED, of the new type), also the value the
        in-place conversion makes of it, assigned as the MODIFY assigns it: the downgrade then
        restores only the rows still holding that (restore's `unchanged`)."""
        self.keep(None, bk)
        keys = ", ".join(q(p) for p in pk)
        column_list = "".join(f", {q(x)}" for x in also)
        cond = f" WHERE {where}" if where else ""
        defined = f"{converted}, " if converted else ""
        copy = f", {q(column)} AS {q(CONVERTED)}" if converted else ""
        # keyed: the downgrade's batches walk it by its primary key; copied from a snapshot
        # (rt.unlocked), not under a shared lock on every row of the table
        return Block("\n".join([fresh_backup(None, bk),
                                _noted_backup(f"CREATE TABLE IF NOT EXISTS {q(bk)} ({defined}PRIMARY KEY ({keys}))",
                                              f"AS SELECT {keys}, {q(column)}{column_list}{copy} "
                                              f"FROM {qt(table)}{cond}")]),
                     autocommit=True)

    def _recorded_fill(self, table: str, pk: tuple[str, ...], column: str, bk: str,
                       expression: str) -> tuple[list[Block], str]:
        """A NOT NULL backfill the downgrade can undo exactly (`recorded_fill_sql`): the blocks
        that run before the batches (the backup, keyed by its primary key, and FILLED computed)
        and the batches' expression."""
        self.keep(None, bk)
        select, compute, fill = recorded_fill_sql(q, qt, table, pk, column, bk, expression)
        keys = ", ".join(q(p) for p in pk)
        return [Block("\n".join([fresh_backup(None, bk),
                                 _noted_backup(f"CREATE TABLE IF NOT EXISTS {q(bk)} (PRIMARY KEY ({keys}))",
                                               f"AS {select}", compute)]), autocommit=True)], fill

    def restore(self, table: str, pk: tuple[str, ...], column: str, bk: str, *, cast: str | None = None,
                unchanged: str | None = None, into: str | None = None,
                moment: str | tuple[str, str] = "expanded") -> Block:
        # in batches by the backup's key, each committed: a batch locks only its own rows
        target = into or column
        assignment = f"t.{q(target)} = b.{q(column)}{self.keep_on_update(table, (target,), 't.', moment=moment)}"
        walk = keyset_call(qt(table), [q(p) for p in pk], assignment, unchanged or "", source=q(bk),
                           what=f"{table}.{column}", verb="restore")
        # the backup is dropped at the end of the downgrade (`Block.final`): a re-run after a
        # later step stopped (or was cut off) finds it again; IF EXISTS: a run cut off after
        # the drop itself
        return Block(walk, autocommit=True, final=execute(f"DROP TABLE IF EXISTS {q(bk)}"))

    def _cast_guard(self, c: Change) -> Guard:
        raise PlanError(f"{c.id}: no server-side test for this conversion on MySQL",
                        hint="convert the values by hand first, then plan again")

    def _backfill_step(self, c: Change, table: str, column: str, expression: str, *,
                       where: str | None = None, downgrade: list[Block] | None = None,
                       upgrade_first: list[Block] | None = None) -> None:
        """R12 for MySQL: `UPDATE ... ORDER BY pk LIMIT n` (MySQL cannot select from the table
        it updates), each batch committed on its own."""
        cond = where or f"{q(column)} IS NULL"
        self.add(Phase.BACKFILL, f"backfill {table}.{column} in batches",
                 [*(upgrade_first or []), self._batched_update(table, column, expression, cond)], downgrade or [],
                 change=c)

    def _write_locked(self, table: str, *codes: str) -> Block:
        """A strong-lock step whose statements run under `LOCK TABLES table WRITE`
        (rt.write_locked): the application sees them as one."""
        return self.ddl(f"with rt.write_locked({py(table)}):\n" + textwrap.indent("\n".join(codes), "    "))

    def _batched_update(self, table: str, column: str, expression: str, cond: str, *,
                        moment: str | tuple[str, str] = "expanded") -> Block:
        """`SET column = expression WHERE cond` in batches, each committed: by primary-key range
        (rt.keyset: linear, and a batch locks only its own range), else `LIMIT n` repeated."""
        pk = self.pk_columns(self.new.table(table) or self.old.table(table))
        assignment = f"{q(column)} = {expression}{self.keep_on_update(table, (column,), moment=moment)}"
        if pk:
            return Block(keyset_call(qt(table), [q(p) for p in pk], assignment, cond, what=f"{table}.{column}"),
                         autocommit=True)
        return Block(backfill_call(f"UPDATE {qt(table)} SET {assignment} WHERE {cond} LIMIT "), autocommit=True)

    def _index_sql(self, md: sa.MetaData, table: str, index: Index) -> str:
        sat = self.table(md, table)
        ix = next((i for i in sat.indexes if i.name == index.name), None)
        if ix is None:  # a UNIQUE constraint: the same index under MySQL
            ix = sa.Index(index.name, *[sat.c[x] for x in index.columns], unique=True)
        return str(CreateIndex(ix).compile(dialect=_MY))

    def _create_index(self, md: sa.MetaData, table: str, index: Index) -> Block:
        shared = index.method in ("fulltext", "spatial")  # no concurrent DML for these builds
        return self.ddl(alter(self._index_sql(md, table, index), INDEX_SHARED if shared else INDEX_INPLACE))

    def _drop_index(self, table: str, index: Index) -> Block:
        # (gone already when it was a foreign key's own index and an index the plan created
        # since serves the key: the server drops it by itself)
        statement = f"ALTER TABLE {qt(table)} DROP INDEX {q(index.name)}"
        return self.ddl(f"rt.drop_index({py(statement)}, {py(_split(table)[1])}, {py(index.name)}, "
                        f"{py(INPLACE)})")

    def _fk_sql(self, md: sa.MetaData, table: str, fk: ForeignKey) -> str:
        sat = self.table(md, table)
        fkc = next(f for f in sat.foreign_key_constraints if f.name == fk.name)
        return str(AddConstraint(fkc).compile(dialect=_MY))

    def _add_fk(self, md: sa.MetaData, table: str, fk: ForeignKey) -> Block:
        """INPLACE needs foreign_key_checks off; a guard has checked for orphans first."""
        return self.ddl("\n".join([
            "rt.sql(\"SET SESSION foreign_key_checks = 0\")",
            "try:",
            "    " + alter(self._fk_sql(md, table, fk), INPLACE),
            "finally:",
            "    rt.sql(\"SET SESSION foreign_key_checks = 1\")",
        ]))

    def _drop_fk(self, table: str, fk: ForeignKey) -> Block:
        return self.ddl(alter(f"ALTER TABLE {qt(table)} DROP FOREIGN KEY {q(fk.name)}", INSTANT, INPLACE))

    def _not_supported(self, c: Change) -> None:
        raise PlanError(f"{c.id}: {c.kind.value} does not exist on MySQL")

    # ----------------------------------------------------------------- enums (named: PostgreSQL only)
    add_enum = drop_enum = rename_enum = _not_supported

    def add_enum_value(self, c: Change) -> None:
        self._column_change(c)

    rename_enum_value = recreate_enum = add_enum_value

    # ----------------------------------------------------------------- tables
    def add_table(self, c: Change) -> None:
        for col in self.new.table(c.table).columns:
            self._refuse_unkept(self.new_md, c.table, col.name)
        sat = self.table(self.new_md, c.table)
        create = ops.CreateTableOp.from_table(sat)
        index_ops = [ops.CreateIndexOp.from_index(i) for i in sorted(sat.indexes, key=lambda i: i.name or "")]
        from planner.verify.metadata import ON_UPDATE_INFO

        # ON UPDATE of a NOT NULL column without a default: not in what Alembic renders; the
        # table is new and empty, so a MODIFY right after is instant
        on_update = [self.ddl(alter(f"ALTER TABLE {qt(c.table)} MODIFY {self.spec(self.new_md, c.table, col.name)}",
                                    *ONLINE))
                     for col in sat.columns if col.info.get(ON_UPDATE_INFO)]
        self.add(Phase.EXPAND, f"create table {c.table}", [self.ddl(render([create, *index_ops], "mysql")), *on_update],
                 [self.ddl(render([ops.DropTableOp.from_table(sat)], "mysql"))], change=c)

    def drop_table(self, c: Change) -> None:
        name = _split(c.table)[1]
        bk = self.backup_name(c.table, "dropped")
        self.keep(None, bk)
        self.add(Phase.CONTRACT, f"move table {c.table} aside (renamed to {bk})",
                 [self.ddl(f"op.rename_table({name!r}, {bk!r})")], [self.ddl(f"op.rename_table({bk!r}, {name!r})")],
                 change=c, backup=f"{bk} (the whole table, until the cleanup revision)")

    # ----------------------------------------------------------------- columns
    def add_column(self, c: Change) -> None:
        col: Column = c.new
        t = qt(c.table)
        drop = [self.ddl(alter(f"ALTER TABLE {t} DROP COLUMN {q(col.name)}", *ONLINE))]
        if col.autoincrement and self.old.table(c.table) is not None:
            raise PlanError(f"{c.id}: adding an AUTO_INCREMENT column to an existing table copies it "
                            "(ALGORITHM=INPLACE is refused); add it in a maintenance window by hand")
        # where NEW has it: after its predecessor in NEW (added before it: the added columns go in
        # NEW's order), under the name it has when expand runs (a rename comes in contract)
        names = [x.name for x in self.new.table(c.table).columns]
        i = names.index(col.name)
        renamed = {x.detail.get("to"): x.detail.get("from") for x in self.diff.changes
                   if x.kind == Kind.RENAME_COLUMN and x.table == c.table}
        where = f" AFTER {q(renamed.get(names[i - 1], names[i - 1]))}" if i else " FIRST"
        if col.nullable or col.default is not None:
            add = f"ALTER TABLE {t} ADD COLUMN {self.spec(self.new_md, c.table, col.name)}{where}"
            # a default the server computes per row (an expression over other columns) is
            # refused INSTANT and INPLACE (1845): the naive ADD copies the table, and so may this
            clauses = (*ONLINE, COPY) if _nonconstant(col.default) else ONLINE
            self.add(Phase.EXPAND, f"add column {c.object}", [self.ddl(alter(add, *clauses))], drop, change=c)
            return
        # R2: nullable first, backfill in batches, NOT NULL once the code writes it (contract)
        add = f"ALTER TABLE {t} ADD COLUMN {self.spec(self.new_md, c.table, col.name, nullable=True)}{where}"
        self.add(Phase.EXPAND, f"add column {c.object} (nullable first)", [self.ddl(alter(add, *ONLINE))],
                 drop, change=c)
        if c.object in self.backfill_exprs:
            self._backfill_step(c, c.table, col.name, self.backfill_exprs[c.object])
        guard = self.unfilled_guard(c, col.name)
        modify = f"ALTER TABLE {t} MODIFY {self.spec(self.new_md, c.table, col.name)}"
        loose = f"ALTER TABLE {t} MODIFY {self.spec(self.new_md, c.table, col.name, nullable=True)}"
        self.add(Phase.CONTRACT, f"SET NOT NULL {c.object}", [self.ddl(alter(modify, INPLACE))],
                 [self.ddl(alter(loose, INPLACE))], guards=[guard], change=c)

    def drop_column(self, c: Change) -> None:
        col: Column = c.old
        pk = self._pk_or_fail(c, "dropped values")
        t = qt(c.table)
        bk = self.backup_name(c.table, col.name)
        table = self.old.table(c.table)
        # back after the nearest earlier column this plan keeps: the downgrades of several drops
        # run in reverse, so each column comes back right after it, before the later ones
        dropped = {x.column for x in self.diff.changes if x.kind == Kind.DROP_COLUMN and x.table == c.table}
        names = [x.name for x in table.columns]
        kept = [n for n in names[:names.index(col.name)] if n not in dropped]
        where = f" AFTER {q(kept[-1])}" if kept else " FIRST"
        loose = self.spec(self.old_md, c.table, col.name, nullable=True, default=False)
        full = self.spec(self.old_md, c.table, col.name)
        down = [self.ddl(alter(f"ALTER TABLE {t} ADD COLUMN {loose}{where}", *ONLINE)),
                self.restore(c.table, pk, col.name, bk, moment=("restore", col.name))]
        # NEW's inserts leave a dropped column out: a NOT NULL one without a default would refuse
        # them until the contract, so expand drops the NOT NULL and NEW runs from then (as on
        # PostgreSQL); its downgrade makes it NOT NULL again where no row was written without it
        loosen = not col.nullable and col.default is None and col.name not in pk and not col.generated
        # what the contract's downgrade brings back: the expand's downgrade restores the NOT NULL
        back = self.spec(self.old_md, c.table, col.name, nullable=True) if loosen else full
        if back != loose:
            down.append(self.ddl(alter(f"ALTER TABLE {t} MODIFY {back}", *ONLINE,
                                       *((COPY,) if _not_null_copies(col) else ()))))
        if loosen:
            nulls = Guard(f"SELECT count(*) FROM {t} WHERE {q(col.name)} IS NULL",
                          f"{c.object} has NULLs (rows written without it since the upgrade): the downgrade "
                          "cannot make it NOT NULL again; fill them first")
            self.add(Phase.EXPAND, f"DROP NOT NULL {c.object}, so that inserts that leave it out (NEW) work until "
                                   "contract drops it",
                     [self.ddl(alter(f"ALTER TABLE {t} MODIFY {back}", INPLACE))],
                     [Block(f"rt.guard({py(nulls.sql)}, {py(nulls.message)})"),
                      self.ddl(alter(f"ALTER TABLE {t} MODIFY {full}", INPLACE,
                                     *((COPY,) if _not_null_copies(col) else ())))], change=c)
        self.add(Phase.CONTRACT, f"drop column {c.object} (backed up)",
                 [self.backup(c.table, pk, col.name, bk),
                  self.ddl(alter(f"ALTER TABLE {t} DROP COLUMN {q(col.name)}", *ONLINE))],
                 down, change=c, backup=f"{bk} ({', '.join(pk)}, {col.name})",
                 # in column order (before the renames at rank 1): the downgrades run in reverse
                 rank=names.index(col.name) / (len(names) + 1),
                 new_waits=True if not col.nullable and col.default is None and not loosen else None)

    def rename_column(self, c: Change) -> None:
        a, b = c.detail["from"], c.detail["to"]
        t = qt(c.table)
        self.add(Phase.CONTRACT, f"rename column {c.table}.{a} to {b} in place (MySQL): no application version works "
                                 "both before and after it, every writer must switch at once",
                 [self.ddl(alter(f"ALTER TABLE {t} RENAME COLUMN {q(a)} TO {q(b)}", INSTANT, INPLACE))],
                 [self.ddl(alter(f"ALTER TABLE {t} RENAME COLUMN {q(b)} TO {q(a)}", INSTANT, INPLACE))], change=c,
                 rank=1, new_waits=True)  # after the drops, so their downgrades see OLD's names

    def alter_type(self, c: Change) -> None:
        self._column_change(c)

    set_not_null = drop_not_null = alter_default = alter_type

    def alter_comment(self, c: Change) -> None:
        if c.column:
            self._column_change(c)
            return
        name = _split(c.table)[1]

        def comment(text: str | None) -> Block:
            if text is None:
                return Block(f"op.drop_table_comment({name!r})")
            return Block(f"op.create_table_comment({name!r}, {text!r})")

        self.add(Phase.EXPAND, f"comment on {c.object}", [comment(c.detail.get("to"))],
                 [comment(c.detail.get("from"))], change=c)

    def _column_change(self, c: Change) -> None:
        """Every change to one column as one MODIFY from OLD's definition to NEW's (§6.4)."""
        table, column = c.table, c.column
        if (table, column) in self.columns_done:
            return
        self.columns_done.add((table, column))
        group = [x for x in self.diff.changes if x.table == table and x.column == column and x.kind in _COLUMN_KINDS]
        kinds = {x.kind for x in group}
        o = self.old.table(table).column(column)
        n = self.new.table(table).column(column)
        t = qt(table)
        renamed = next((x for x in self.diff.changes if x.kind == Kind.RENAME_COLUMN and x.table == table
                        and x.detail.get("to") == column), None)
        old_name = renamed.detail["from"] if renamed else column
        typed = next((x for x in group if x.kind == Kind.ALTER_COLUMN_TYPE), None)
        rule = self.rule(typed) if typed is not None else None
        # with a conversion rule the new default goes with the swap (the new column's definition)
        swappable = {Kind.ALTER_COLUMN_TYPE, Kind.ALTER_DEFAULT} if rule else {Kind.ALTER_COLUMN_TYPE}
        if typed is not None and kinds <= swappable and not renamed and (
                rule is not None or not binary_coercible(o.type, n.type, "mysql")):
            pk = self.pk_columns(self.old.table(table))
            t_old = self.old.table(table)
            indexed = any(column in i.columns or any(p.expression for p in i.parts) for i in t_old.indexes)
            blocker = None if pk else "no primary key to convert by"
            keyed = any(column in fk.columns for tt in (t_old, self.new.table(table)) for fk in tt.foreign_keys)
            blocker = blocker or ("an index uses it" if indexed else None) \
                or ("a foreign key uses it" if keyed else None) or self._swap_blocker(typed)
            if blocker is None:
                self._swap_type(typed, pk)
                return
            if rule is not None:
                raise PlanError(f"{typed.id}: a conversion rule is applied through a new column (R8), which "
                                f"{table}.{column} cannot take: {blocker}")
        elif rule is not None:
            raise PlanError(f"{typed.id}: a conversion rule is applied through a new column (R8); "
                            f"{table}.{column} has other changes in this plan")
        # breaking for running code, or a table copy: after the code no longer needs OLD's form
        contract = bool(kinds & {Kind.SET_NOT_NULL, Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES,
                                 Kind.RENAME_ENUM_VALUE}) or (
            Kind.ALTER_COLUMN_TYPE in kinds and not binary_coercible(o.type, n.type, "mysql"))
        phase = Phase.CONTRACT if contract else Phase.EXPAND
        name = column if (renamed and phase == Phase.CONTRACT) else old_name
        new_spec = self.spec(self.new_md, table, column, name=name)
        old_spec = self.spec(self.old_md, table, old_name, name=name)
        # an ENUM value added at the end is INSTANT; one added in between, and the downgrade that
        # takes it out again, copy the table (the server says which by refusing the others)
        copies = Kind.ALTER_COLUMN_TYPE in kinds or bool(kinds & {Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES,
                                                                   Kind.RENAME_ENUM_VALUE, Kind.ADD_ENUM_VALUE})
        # MariaDB restates a STORED generated column only by a copy (1845), even for its comment
        copies = copies or bool(o.generated and o.stored) or bool(n.generated and n.stored)
        copies = copies or (Kind.SET_NOT_NULL in kinds and _not_null_copies(n))
        clauses = (*ONLINE, COPY) if copies else ONLINE
        guards: list[Guard] = []
        for x in group:
            guards += self.guards(x)
        up: list[Block] = []
        down_tail: list[Block] = []
        backups: list[str] = []
        not_null = next((x for x in group if x.kind == Kind.SET_NOT_NULL), None)
        if not_null is not None and not_null.object in self.backfill_exprs:
            # overwrite the NULLs (backed up, so the downgrade puts them back); the guard runs after
            pk = self._pk_or_fail(c, "a backfill")
            bk = self.backup_name(table, column, "nulls")
            first, fill = self._recorded_fill(table, pk, old_name, bk, self.backfill_exprs[not_null.object])
            self._backfill_step(c, table, old_name, fill, upgrade_first=first,
                                downgrade=[self.restore(table, pk, old_name, bk,
                                                        unchanged=f"t.{q(old_name)} <=> b.{q(FILLED)}")])
        if Kind.ALTER_COLUMN_TYPE in kinds and lossy(o.type, n.type):
            pk = self._pk_or_fail(c, "the conversion")
            bk = self.backup_name(table, column, "type")
            # the downgrade restores the rows the conversion left as it made them: a row the NEW
            # application wrote since keeps its value (verify's MySQL oracle: users.bio)
            after = self.spec(self.new_md, table, column, name=CONVERTED, nullable=True, default=False)
            up.append(self.backup(table, pk, old_name, bk, converted=after))
            down_tail.append(self.restore(table, pk, name, bk, unchanged=f"t.{q(name)} <=> b.{q(CONVERTED)}",
                                          moment="new" if phase == Phase.CONTRACT else "expanded"))
            backups.append(f"{bk} ({', '.join(pk)}, {column} before the conversion)")
        removed = [x.detail["value"] for x in group if x.kind == Kind.REMOVE_ENUM_VALUE]
        renames = {x.detail["from"]: x.detail["to"] for x in group if x.kind == Kind.RENAME_ENUM_VALUE}
        key = f"{table}.{column}"
        if removed or renames:
            pk = self._pk_or_fail(c, "moving rows off a removed value")
        for v in removed:
            target = self.enum_remap.get(f"{key}.{v}")
            if target is None:
                guards.append(Guard(f"SELECT count(*) FROM {t} WHERE {q(old_name)} = {lit(v)}",
                                    f"rows of {key} hold {v!r}: remap them first "
                                    f"([tool.planner.enum_remap] \"{key}.{v}\" = \"<value>\")"))
                continue
            bk = self.backup_name(table, column, v)
            self._backfill_step(c, table, old_name, lit(target), where=f"{q(old_name)} = {lit(v)}",
                                upgrade_first=[self.backup(table, pk, old_name, bk, f"{q(old_name)} = {lit(v)}")],
                                downgrade=[self.restore(table, pk, name, bk, unchanged=f"t.{q(name)} = {lit(target)}")])
            backups.append(f"{bk} (rows that held {v!r})")
        # a removed value remapped to a value NEW adds: the rows move there in backfill, so the
        # column must allow it from expand on, as for a renamed value
        old_values = list(getattr(self.table(self.old_md, table).c[old_name].type, "enums", ()) or ())
        added_targets = {v: self.enum_remap[f"{key}.{v}"] for v in removed
                         if f"{key}.{v}" in self.enum_remap and self.enum_remap[f"{key}.{v}"] not in old_values}
        if renames or added_targets:
            # R11 for values: allow both spellings, move the rows, then keep only the new ones
            spellings = {**added_targets, **renames}
            union = self._enum_union(table, old_name, spellings)
            old_spec = self._enum_union(table, old_name, spellings, name=name)
            what = "spellings" if not added_targets else "values"
            self.add(Phase.EXPAND, f"allow the new {what} of {key} ({', '.join(dict.fromkeys(spellings.values()))})",
                     [self.ddl(alter(f"ALTER TABLE {t} MODIFY {union}", INSTANT, INPLACE, COPY))],
                     [self.ddl(alter(f"ALTER TABLE {t} MODIFY {self.spec(self.old_md, table, old_name)}",
                                     INSTANT, INPLACE, COPY))], change=c)
        if renames:
            for a, b in renames.items():
                self._backfill_step(c, table, old_name, lit(b), where=f"{q(old_name)} = {lit(a)}",
                                    downgrade=[self._batched_update(table, old_name, lit(a),
                                                                    f"{q(old_name)} = {lit(b)}")])
        def in_zone(code: str) -> str:  # a DATETIME <-> TIMESTAMP MODIFY reads wall-clock times as UTC
            if {mysql_zone_kind(o.type), mysql_zone_kind(n.type)} != {"local", "instant"}:
                return code
            return "\n".join([execute(f"SET @planner_time_zone = @@session.time_zone, time_zone = "
                                       f"{lit(CONVERSION_ZONE)}"), code,
                               execute("SET time_zone = @planner_time_zone")])

        up.append(self.ddl(in_zone(alter(f"ALTER TABLE {t} MODIFY {new_spec}", *clauses))))
        down = [self.ddl(in_zone(alter(f"ALTER TABLE {t} MODIFY {old_spec}", *clauses))), *down_tail]
        if Kind.ALTER_COLUMN_TYPE in kinds:
            self.type_modified[(table, old_name)] = (phase, c)
        what = ", ".join(sorted(k.value for k in kinds))
        self.add(phase, f"modify column {table}.{column} ({what})", up, down, guards=guards, change=c,
                 backup="; ".join(backups) or None, rank=2)

    def _kept_position(self, table: str, column: str) -> str:
        """Where the contract puts `column` (a swap, its way back) so that it keeps OLD's place:
        after the nearest earlier column of OLD that NEW keeps, under NEW's name (renames run
        before the swap and are undone after its way back), else FIRST. A column the plan
        drops is gone by then, and its own way back comes later."""
        renamed = {x.detail["from"]: x.detail["to"] for x in self.diff.changes
                   if x.kind == Kind.RENAME_COLUMN and x.table == table}
        kept = {x.name for x in self.new.table(table).columns}
        names = [x.name for x in self.old.table(table).columns]
        before = [renamed.get(n, n) for n in names[:names.index(column)]]
        return next((f" AFTER {q(n)}" for n in reversed(before) if n in kept), " FIRST")

    def _zone(self, c: Change, rule: ConvertRule | None) -> tuple[str, list[Guard]]:
        """The zone of a DATETIME/DATE <-> TIMESTAMP change's wall-clock side (see zoned): the
        rule's, else UTC; with the guard a named zone needs (CONVERT_TZ gives NULL where the
        server has no time zone tables): it stops before any DDL, saying so."""
        zone = rule.timezone if rule is not None and rule.timezone else CONVERSION_ZONE
        if ZONE_OFFSET.fullmatch(zone):
            return zone, []
        return zone, [Guard(f"SELECT CONVERT_TZ('2000-01-01 00:00:00', {lit(zone)}, '+00:00') IS NULL",
                            f"the server does not know the time zone {zone!r} the conversion of {c.object} reads: "
                            "load its time zone tables (mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql mysql) or "
                            "state an offset such as '+01:00'")]

    def _swap_type(self, c: Change, pk: tuple[str, ...]) -> None:
        """R8 on MySQL/MariaDB: instead of a table copy that blocks writes (ALGORITHM=COPY,
        LOCK=SHARED), add the column under a temporary name (INSTANT), keep it in step with
        triggers (MySQL converts on assignment), convert the existing rows in batches, and swap
        in contract: back up, drop the old column, rename the new one into its place."""
        table, col = c.table, c.column
        t, name = qt(table), _split(table)[1]
        tmp = derived_name(col, "__planner_new", 64)
        where = self._kept_position(table, col)
        tmp_spec = self.spec(self.new_md, table, col, name=tmp, nullable=True, default=False)
        triggers = [(self.function_name(table, f"{name}_{col}", f"__planner_{ev[:3].lower()}", 64), ev)
                    for ev in ("INSERT", "UPDATE")]
        rule = self.rule(c)

        old_type, new_type = self.old.table(table).column(col).type, self.new.table(table).column(col).type
        zone, zone_guards = self._zone(c, rule)

        def to_new(source: str) -> str:
            if rule is not None and rule.using:
                return rule_on(rule.using, source, "mysql")
            return zoned(source, old_type, new_type, zone)

        def to_old(source: str) -> str:
            if rule is not None and rule.inverse:
                return rule_on(rule.inverse, source, "mysql")
            return zoned(source, new_type, old_type, zone)

        sync = self.ddl("\n".join(execute(f"CREATE TRIGGER {q(tr)} BEFORE {ev} ON {t} FOR EACH ROW "
                                          f"SET NEW.{q(tmp)} = {to_new(f'NEW.{q(col)}')}") for tr, ev in triggers))
        unsync = Block("\n".join(execute(f"DROP TRIGGER IF EXISTS {q(tr)}") for tr, _ in triggers))
        new_sql = str(self.sa_column(self.new_md, table, col).type.compile(dialect=_MY))
        self.add(Phase.EXPAND, f"add {table}.{tmp} ({new_sql}) kept in step with {col} by triggers (R8); "
                               f"from here on a write of {col} that does not convert to {new_sql} fails",
                 [self.ddl(alter(f"ALTER TABLE {t} ADD COLUMN {tmp_spec}", *ONLINE)), sync],
                 [unsync, self.ddl(alter(f"ALTER TABLE {t} DROP COLUMN {q(tmp)}", *ONLINE))],
                 guards=[*zone_guards, *self.guards(c)], change=c)
        ruled = rule is not None and bool(rule.using)
        # a rule may give NULL a value (then NULLs are converted too), or give a value NULL: such a
        # row is done as it is (left in the batches' WHERE, it would be updated again forever)
        todo = f"{q(tmp)} IS NULL AND {to_new(q(col))} IS NOT NULL"
        self._backfill_step(c, table, tmp, to_new(q(col)), where=todo)
        bk = self.backup_name(table, col, "type")
        differs = f"NOT ({q(tmp)} <=> {to_new(q(col))})" if ruled else f"{q(tmp)} IS NULL AND {q(col)} IS NOT NULL"
        agree = Guard(f"SELECT count(*) FROM {t} WHERE {differs}",
                      f"rows of {table} the backfill has not converted into {tmp}: run the backfill revision "
                      "again (and check the triggers are there)", inline=True)
        # the way back mirrors the way there while NEW runs (it reads and writes the column,
        # which must stay whole): the old column comes back as `col__planner_old` kept in step by
        # triggers, gets its values from the backup and, for the other rows, converted back in
        # batches, and its NOT NULL and default online; then, under one table lock, the triggers
        # change and one ALTER swaps the names (an INSTANT rename); the new column loses its NOT
        # NULL and default (as the backfill revision had it) online after
        back_col = derived_name(col, "__planner_old", 64)
        back_triggers = [(self.function_name(table, f"{name}_{col}", f"__planner_back_{ev[:3].lower()}", 64), ev)
                         for ev in ("INSERT", "UPDATE")]
        unback = "\n".join(execute(f"DROP TRIGGER IF EXISTS {q(tr)}") for tr, _ in back_triggers)
        # an update that leaves the column as it was keeps the copy (the restore's own updates
        # put backed-up values there, which a conversion would overwrite)
        back_value = {"INSERT": to_old(f"NEW.{q(col)}"),
                      "UPDATE": f"IF(NEW.{q(col)} <=> OLD.{q(col)}, NEW.{q(back_col)}, {to_old(f'NEW.{q(col)}')})"}
        back_sync = self.ddl("\n".join([unback, *(execute(f"CREATE TRIGGER {q(tr)} BEFORE {ev} ON {t} FOR EACH ROW "
                                                          f"SET NEW.{q(back_col)} = {back_value[ev]}")
                                                  for tr, ev in back_triggers)]))
        loose = self.spec(self.old_md, table, col, name=back_col, nullable=True, default=False)
        full_back = self.spec(self.old_md, table, col, name=back_col)
        swap_back = alter(f"ALTER TABLE {t} CHANGE COLUMN {q(col)} {self.spec(self.new_md, table, col, name=tmp)}, "
                          f"CHANGE COLUMN {q(back_col)} {self.spec(self.old_md, table, col)}{where}", *ONLINE)
        keep_tmp = self.ddl(alter(f"ALTER TABLE {t} MODIFY {tmp_spec}", *ONLINE))
        # a generated column that reads the column follows a rename (MariaDB rewrites its
        # expression): renamed away, the column would take it along, and the rename is refused in
        # place anyway (1846 "INPLACE ADD or DROP of virtual columns cannot be combined"). The swap
        # back then mirrors the swap (drop the column, the old one takes the name: the generated
        # column reads it), by a copy where the server says it must, as the naive MODIFY back
        # does; the temporary column comes back empty in the same lock, filled again by the
        # triggers (its values were converted into the old column already)
        mentions = _mentions(col, "`")
        if any(x.generated and mentions.search(x.generated) for x in self.old.table(table).columns if x.name != col):
            swap_back = "\n".join([
                alter(f"ALTER TABLE {t} DROP COLUMN {q(col)}, CHANGE COLUMN {q(back_col)} "
                      f"{self.spec(self.old_md, table, col)}{where}", *ONLINE, COPY),
                alter(f"ALTER TABLE {t} ADD COLUMN {tmp_spec}", *ONLINE)])
            keep_tmp = None
        down = [self.ddl(alter(f"ALTER TABLE {t} ADD COLUMN {loose}", *ONLINE)), back_sync,
                self.restore(table, pk, col, bk, unchanged=f"t.{q(col)} <=> b.{q(tmp)}", into=back_col, moment="new"),
                self._batched_update(table, back_col, to_old(q(col)), f"{q(back_col)} IS NULL AND {q(col)} IS NOT NULL",
                                     moment="new")]
        if full_back != loose:
            down.append(self.ddl(alter(f"ALTER TABLE {t} MODIFY {full_back}", *ONLINE)))
        down += [self._write_locked(t, unback, swap_back, sync.code), *([keep_tmp] if keep_tmp else [])]
        # the triggers go and the columns swap under one table lock: a write of the column
        # between the two reached only the column dropped (tests/test_plan_mysql_sqlite.py)
        swap = alter(f"ALTER TABLE {t} DROP COLUMN {q(col)}, CHANGE COLUMN {q(tmp)} "
                     f"{self.spec(self.new_md, table, col)}{where}", *ONLINE)
        self.add(Phase.CONTRACT, f"swap {table}.{tmp} in as {col} ({new_sql}, R8)",
                 [self.backup(table, pk, col, bk, also=(tmp,)),
                  self._write_locked(t, unsync.code, swap)],
                 down, guards=[agree], change=c, backup=f"{bk} ({', '.join(pk)}, {col} before the swap)", rank=2)

    def _enum_union(self, table: str, column: str, renames: dict[str, str], *, name: str | None = None) -> str:
        """OLD's column definition (named `name`) with the renamed values appended (an INSTANT
        change)."""
        self._refuse_unkept(self.old_md, table, column)
        sat = self.table(self.old_md, table)
        col = sat.c[column]._copy()
        if name is not None:
            col.name = col.key = name
        values = list(col.type.enums) + [b for b in renames.values() if b not in col.type.enums]
        col.type = mysql.ENUM(*values)
        sa.Table(sat.name, sa.MetaData(), col)
        return str(CreateColumn(col).compile(dialect=_MY))

    # ----------------------------------------------------------------- indexes
    def add_index(self, c: Change) -> None:
        i: Index = c.new
        self.add(Phase.EXPAND, f"create {'unique ' if i.unique else ''}index {i.name} online",
                 [self._create_index(self.new_md, c.table, i)], [self._drop_index(c.table, i)],
                 guards=self.guards(c), change=c)

    def drop_index(self, c: Change) -> None:
        i: Index = c.old
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            return
        # before a column it covers is dropped (MySQL would shrink the index instead)
        self.add(Phase.CONTRACT, f"drop index {i.name}", [self._drop_index(c.table, i)],
                 [self._create_index(self.old_md, c.table, i)], change=c, rank=-2)

    def rename_index(self, c: Change) -> None:
        a, b = c.detail["from"], c.detail["to"]
        t = qt(c.table)
        self.add(self._rename_phase(c), f"rename index {a} to {b}",
                 [self.ddl(alter(f"ALTER TABLE {t} RENAME INDEX {q(a)} TO {q(b)}", INSTANT, INPLACE))],
                 [self.ddl(alter(f"ALTER TABLE {t} RENAME INDEX {q(b)} TO {q(a)}", INSTANT, INPLACE))], change=c)

    def rename_constraint(self, c: Change) -> None:
        raise PlanError(f"{c.id}: MySQL cannot rename a constraint in place; drop and re-create it "
                        "(planner plans that when the names differ without a rename hint)")

    # ----------------------------------------------------------------- constraints
    def add_fk(self, c: Change) -> None:
        fk: ForeignKey = c.new
        self.add(Phase.EXPAND, f"foreign key {fk.name} (checked by the guard, added in place)",
                 [self._add_fk(self.new_md, c.table, fk)], [self._drop_fk(c.table, fk)],
                 guards=self.guards(c), change=c)

    def drop_fk(self, c: Change) -> None:
        fk: ForeignKey = c.old
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            return
        self.add(Phase.CONTRACT, f"drop foreign key {fk.name}", [self._drop_fk(c.table, fk)],
                 [self._add_fk(self.old_md, c.table, fk)], change=c, rank=-3)

    def alter_fk(self, c: Change) -> None:
        o, n = c.old, c.new
        self.add(Phase.EXPAND, f"re-create foreign key {n.name} with the new actions",
                 [self._drop_fk(c.table, o), self._add_fk(self.new_md, c.table, n)],
                 [self._drop_fk(c.table, n), self._add_fk(self.old_md, c.table, o)], change=c)

    def add_check(self, c: Change) -> None:
        ch = c.new
        t = qt(c.table)
        name = _split(c.table)[1]
        sql = f"ALTER TABLE {t} ADD CONSTRAINT {q(ch.name)} CHECK ({quoted_expression(ch.expression, self.DIALECT)})"
        self.add(Phase.EXPAND, f"check {ch.name} (a table copy: reads go on, writes wait)",
                 [self.ddl(alter(sql, COPY))],
                 [self.ddl(render([ops.DropConstraintOp(ch.name, name, type_="check")], "mysql"))],
                 guards=self.guards(c), change=c)

    def drop_check(self, c: Change) -> None:
        ch = c.old
        t = qt(c.table)
        name = _split(c.table)[1]
        sql = f"ALTER TABLE {t} ADD CONSTRAINT {q(ch.name)} CHECK ({quoted_expression(ch.expression, self.DIALECT)})"
        self.add(Phase.CONTRACT, f"drop check {ch.name}",
                 [self.ddl(render([ops.DropConstraintOp(ch.name, name, type_="check")], "mysql"))],
                 [self.ddl(alter(sql, COPY))], change=c)

    def add_pk(self, c: Change) -> None:
        pk = c.new
        t = qt(c.table)
        replaced = next((x for x in self.diff.changes if x.kind == Kind.DROP_PRIMARY_KEY and x.table == c.table),
                        None)
        cols = ", ".join(q(x) for x in pk.columns)
        drop = "DROP PRIMARY KEY, " if replaced is not None else ""
        up = f"ALTER TABLE {t} {drop}ADD PRIMARY KEY ({cols})"
        if replaced is not None:
            down = f"ALTER TABLE {t} DROP PRIMARY KEY, ADD PRIMARY KEY ({', '.join(q(x) for x in replaced.old.columns)})"
        else:
            down = f"ALTER TABLE {t} DROP PRIMARY KEY"
        self.add(Phase.CONTRACT, f"primary key of {c.table} (rebuilt in place)",
                 [self.ddl(alter(up, INPLACE))], [self.ddl(alter(down, INPLACE, COPY))],
                 guards=self.guards(c), change=c)

    def drop_pk(self, c: Change) -> None:
        if any(x.kind == Kind.ADD_PRIMARY_KEY and x.table == c.table for x in self.diff.changes):
            return
        t = qt(c.table)
        cols = ", ".join(q(x) for x in c.old.columns)
        self.add(Phase.CONTRACT, f"drop primary key of {c.table} (a table copy)",
                 [self.ddl(alter(f"ALTER TABLE {t} DROP PRIMARY KEY", COPY))],
                 [self.ddl(alter(f"ALTER TABLE {t} ADD PRIMARY KEY ({cols})", INPLACE))], change=c)

    # ----------------------------------------------------------------- views
    def alter_view(self, c: Change) -> None:
        def replace(v) -> Block:  # noqa: ANN001
            return Block(execute(f"CREATE OR REPLACE VIEW {qt(c.name)} AS {v.definition}"))

        self.add(Phase.EXPAND, f"replace view {c.name}", [replace(c.new)], [replace(c.old)], change=c)
