"""Changes -> staged steps for SQLite, through Alembic's batch mode (ddl-safety.md R14, §7.6).

SQLite alters little in place: ADD COLUMN (nullable, or with a constant default), RENAME,
CREATE/DROP INDEX. Everything else (drop column, type, NOT NULL, default, foreign keys,
checks, UNIQUE constraints) is a table rebuild, which Alembic's batch mode does: create the
new table, copy the rows, drop the old one, rename. planner collects every rebuild-needing
change of a table into ONE batch in the contract phase (one copy of the table, not one per
change), with `copy_from=` the table as it stands at that point (OLD plus what expand added),
so the batch needs no reflection and `alembic upgrade --sql` works. Foreign key enforcement
is switched off around the rebuild, outside the transaction (R14 step 1: the pragma is a
no-op inside one), and `PRAGMA foreign_key_check` must come back empty before it is on again.

Backups go to `planner_backup__*` tables (SQLite has no schemas; the loader skips them).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from planner.changes import Change, Kind
from planner.model import Check, Column, ForeignKey, Index
from planner.normalize import quoted_expression
from planner.plan.build import (
    BACKUP_TABLE_PREFIX,
    FILLED,
    PlanError,
    _Builder,
    _render_item,
    _split,
    backup_name,
    execute,
    keyset_call,
    q,
    qt,
    recorded_fill_sql,
    render,
    rule_on,
)
from planner.plan.ir import Block, Guard, Phase, Plan
from planner.rules.facts import lossy

_BATCH_CONTEXT = MigrationContext.configure(dialect_name="sqlite", opts={"render_as_batch": True})

#: column-level kinds that become one alter_column in the table's batch
_COLUMN_KINDS = {Kind.ALTER_COLUMN_TYPE, Kind.SET_NOT_NULL, Kind.DROP_NOT_NULL, Kind.ALTER_DEFAULT}


def _constant(default: str) -> bool:
    """SQLite's ADD COLUMN takes only constant defaults: not CURRENT_TIMESTAMP & co., not an
    expression in parentheses."""
    return bool(re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?|'([^']|'')*'|NULL|TRUE|FALSE|X'[0-9A-Fa-f]*'",
                             default.strip(), re.IGNORECASE))


def backup_table(*parts: str) -> str:
    return backup_name(*parts, prefix=BACKUP_TABLE_PREFIX, limit=None)


@dataclass
class _Batch:
    """What one table's contract rebuild does, and how its downgrade undoes it."""

    up: list[ops.MigrateOperation] = field(default_factory=list)
    down: list[ops.MigrateOperation] = field(default_factory=list)
    #: a second downgrade rebuild, after the restores (NOT NULL of restored columns)
    down2: list[ops.MigrateOperation] = field(default_factory=list)
    before: list[Block] = field(default_factory=list)  # backups
    after_down: list[Block] = field(default_factory=list)  # restores
    guards: list[Guard] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    loose: set[str] = field(default_factory=set)  # columns the first downgrade rebuild adds loose
    change: Change | None = None
    #: unnamed constraints (UNIQUE, CHECK, FOREIGN KEY) the rebuild adds ("add") or drops
    #: ("drop"): Alembic's batch operations need a name, so the table the rebuild copies from
    #: (`copy_from`, which is also what the new table is made of) gets or loses them instead
    up_unnamed: list[tuple[str, Index | Check | ForeignKey]] = field(default_factory=list)
    down_unnamed: list[tuple[str, Index | Check | ForeignKey]] = field(default_factory=list)
    #: the dropped columns (drop_column), and whether anything else needs the rebuild: a table
    #: that only loses columns SQLite can drop itself gets `ALTER TABLE ... DROP COLUMN`
    drops: list[Change] = field(default_factory=list)
    mixed: bool = False


class SQLiteBuilder(_Builder):
    _backup_table = staticmethod(backup_table)
    DIALECT = "sqlite"
    STAGED = False

    def __init__(self, *args, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kw)
        self.batches: dict[str, _Batch] = {}
        self.expand_columns: dict[str, list[sa.Column]] = {}
        self.expand_indexes: dict[str, list[str]] = {}
        self.native_drops: dict[str, list[str]] = {}
        self.columns_done: set[tuple[str, str]] = set()
        self.renames: list[Change] = []

    def run(self) -> Plan:
        super().run()
        self._rename_columns()
        for key in sorted(self.batches):
            self._finish(key, self.batches[key])
        return Plan(self.DIALECT, tuple(self.steps), kept=tuple(self.kept))

    def batch(self, c: Change, title: str) -> _Batch:
        b = self.batches.setdefault(c.table, _Batch(change=c))
        b.titles.append(title)
        if c.kind == Kind.DROP_COLUMN:
            b.drops.append(c)
        else:
            b.mixed = True
        return b

    def _natively_droppable(self, c: Change) -> bool:
        """Whether SQLite's own DROP COLUMN (3.35+) takes `c`'s column: not in the primary key,
        a UNIQUE constraint, an index (its columns, expressions or partial WHERE), a foreign key
        (either side), a CHECK, a generated column's expression, nor generated itself (SQLite
        refuses the first ones; it also refuses a column a view or trigger uses, as the naive
        migration does, which planner may not see)."""
        name = c.old.name
        t = self.old.table(c.table)
        word = re.compile(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", re.IGNORECASE)

        def uses(text: str | None) -> bool:
            return bool(text) and word.search(text) is not None

        if c.old.generated or c.old.autoincrement or t.primary_key and name in t.primary_key.columns:
            return False
        for ix in t.indexes:
            if uses(ix.where) or any(p.column == name or uses(p.expression) for p in ix.parts) or name in ix.include:
                return False
        if any(name in fk.columns for fk in t.foreign_keys) or any(uses(ch.expression) for ch in t.checks):
            return False
        if any(uses(col.generated) for col in t.columns):
            return False
        return not any(fk.ref_table == t.name and name in fk.ref_columns
                       for other in self.old.tables for fk in other.foreign_keys)

    # ----------------------------------------------------------------- helpers
    def _batches(self, table: str, column: str, expression: str, cond: str, analyze: bool = True,
                 record: str | None = None, *, more: Iterable[tuple[str, str]] = (), quiet: bool = True) -> str:
        """Batches by rowid range (rt.keyset: linear in the table), each committed, so the
        application's writes get their turn between them; no ANALYZE (SQLite plans without
        statistics unless the application keeps them). `quiet` means nothing here: SQLite has
        no switch that keeps a table's triggers from firing (README says so)."""
        sets = [(column, expression), *more]
        return keyset_call(qt(table), ["rowid"], ", ".join(f"{q(x)} = {e}" for x, e in sets), cond,
                           what=f"{table}.{', '.join(x for x, _ in sets)}")

    def backup(self, table: str, pk: tuple[str, ...], column: str, bk: str, where: str | None = None, *,
               as_text: bool = False) -> Block:
        self.keep(None, bk)
        keys = ", ".join(q(p) for p in pk)
        cond = f" WHERE {where}" if where else ""
        return Block("\n".join([execute(f"CREATE TABLE IF NOT EXISTS {q(bk)} AS SELECT {keys}, {q(column)} FROM {qt(table)}{cond}")]))

    def _recorded_fill(self, table: str, pk: tuple[str, ...], column: str, bk: str,
                       expression: str) -> tuple[list[Block], str]:
        """As MySQL's (`recorded_fill_sql`), the backup keyed by an index."""
        self.keep(None, bk)
        select, compute, fill = recorded_fill_sql(q, qt, table, pk, column, bk, expression)
        keys = ", ".join(q(p) for p in pk)
        return [Block("\n".join([execute(f"CREATE TABLE IF NOT EXISTS {q(bk)} AS {select}"),
                                 execute(f"CREATE INDEX IF NOT EXISTS {q(bk + '_key')} ON {q(bk)} ({keys})"),
                                 execute(compute)]))], fill

    def restore(self, table: str, pk: tuple[str, ...], column: str, bk: str, *, cast: str | None = None,
                unchanged: str | None = None) -> Block:
        """`unchanged` (over the table by its name and `b`, the backup): only rows where it holds."""
        on = " AND ".join(f"b.{q(p)} = {qt(table)}.{q(p)}" for p in pk)
        if unchanged:
            on += f" AND ({unchanged})"
        sql = (f"UPDATE {qt(table)} SET {q(column)} = (SELECT b.{q(column)} FROM {q(bk)} AS b WHERE {on}) "
               f"WHERE EXISTS (SELECT 1 FROM {q(bk)} AS b WHERE {on})")
        # the backup is looked up by key once per row: without an index each lookup scans it
        # (quadratic: 20,000 rows took 9.5 s, 80,000 rows 170 s)
        keys = ", ".join(q(p) for p in pk)
        index = execute(f"CREATE INDEX IF NOT EXISTS {q(bk + '_key')} ON {q(bk)} ({keys})")
        return Block(index + "\n" + execute(sql) + "\n" + execute(f"DROP TABLE {q(bk)}"))

    def _index(self, md: sa.MetaData, table: str, index: Index) -> sa.Index:
        sat = self.table(md, table)
        return next(i for i in sat.indexes if i.name == index.name)

    def _not_supported(self, c: Change) -> None:
        raise PlanError(f"{c.id}: {c.kind.value} is not planned for SQLite (no such object there)",
                        hint="write this step by hand")

    add_enum = drop_enum = rename_enum = add_enum_value = rename_enum_value = recreate_enum = _not_supported
    alter_comment = _not_supported

    # ----------------------------------------------------------------- tables
    def add_table(self, c: Change) -> None:
        sat = self.table(self.new_md, c.table)
        create = ops.CreateTableOp.from_table(sat)
        index_ops = [ops.CreateIndexOp.from_index(i) for i in sorted(sat.indexes, key=lambda i: i.name or "")]
        self.add(Phase.EXPAND, f"create table {c.table}", [Block(render([create, *index_ops], "sqlite"))],
                 [Block(render([ops.DropTableOp.from_table(sat)], "sqlite"))], change=c)

    def drop_table(self, c: Change) -> None:
        name = _split(c.table)[1]
        bk = self.backup_name(c.table, "dropped")
        self.keep(None, bk)
        self.add(Phase.CONTRACT, f"move table {c.table} aside (renamed to {bk})",
                 [Block(f"op.rename_table({name!r}, {bk!r})")], [Block(f"op.rename_table({bk!r}, {name!r})")],
                 change=c, backup=f"{bk} (the whole table, until the cleanup revision)", rank=5)

    def rename_table(self, c: Change) -> None:
        a, b = _split(c.detail["from"])[1], _split(c.detail["to"])[1]
        view = execute(f"CREATE VIEW {q(a)} AS SELECT * FROM {q(b)}")
        drop_view = execute(f"DROP VIEW {q(a)}")
        # the view is read-only (SQLite writes no view): OLD's writes to the old name fail from
        # here on, so the docstring lets only NEW run after it (verify's window writes prove it)
        self.add(Phase.EXPAND, f"rename table {a} to {b} (a read-only view keeps the old name until contract: "
                               "OLD may read it, not write it)",
                 [Block(f"op.rename_table({a!r}, {b!r})\n{view}")], [Block(f"{drop_view}\nop.rename_table({b!r}, {a!r})")],
                 change=c, rank=-10, breaks_old=True)
        self.add(Phase.CONTRACT, f"drop the compatibility view {a}", [Block(drop_view)], [Block(view)], change=c,
                 rank=-5)

    # ----------------------------------------------------------------- columns
    def add_column(self, c: Change) -> None:
        col: Column = c.new
        schema, table = _split(c.table)
        sacol = self.sa_column(self.new_md, c.table, col.name)
        drop = [Block(render([ops.DropColumnOp(table, col.name)], "sqlite"))]
        if col.autoincrement:
            raise PlanError(f"{c.id}: SQLite cannot add an autoincrement column to an existing table")
        if col.default is None and col.nullable or col.default is not None and _constant(col.default):
            self.expand_columns.setdefault(c.table, []).append(sacol._copy())
            self.add(Phase.EXPAND, f"add column {c.object}",
                     [Block(render([ops.AddColumnOp(table, sacol)], "sqlite"))], drop, change=c)
            return
        # SQLite adds only nullable or constant-default columns: nullable first, backfill, rebuild
        loose = sacol._copy()
        loose.nullable = True
        loose.server_default = None
        self.expand_columns.setdefault(c.table, []).append(loose._copy())
        self.add(Phase.EXPAND, f"add column {c.object} (nullable first)",
                 [Block(render([ops.AddColumnOp(table, loose)], "sqlite"))], drop, change=c)
        expression = col.default if col.default is not None else self.backfill_exprs.get(c.object)
        if expression is not None:
            self._backfill_step(c, c.table, col.name, expression)
        b = self.batch(c, f"{c.object}: {'NOT NULL' if not col.nullable else ''} default".strip())
        b.up.append(ops.AlterColumnOp(table, col.name, modify_nullable=col.nullable,
                                      modify_server_default=sacol.server_default, existing_type=sacol.type,
                                      existing_nullable=True))
        b.down.append(ops.AlterColumnOp(table, col.name, modify_nullable=True, modify_server_default=None,
                                        existing_type=sacol.type, existing_nullable=col.nullable,
                                        existing_server_default=sacol.server_default))
        if not col.nullable:
            b.guards.append(self.unfilled_guard(c, col.name))

    def drop_column(self, c: Change) -> None:
        col: Column = c.old
        table = _split(c.table)[1]
        pk = self._pk_or_fail(c, "dropped values")
        bk = self.backup_name(c.table, col.name)
        full = self.sa_column(self.old_md, c.table, col.name)
        b = self.batch(c, f"drop column {col.name} (backed up to {bk})")
        b.before.append(self.backup(c.table, pk, col.name, bk))
        b.up.append(ops.DropColumnOp(table, col.name))
        if col.nullable or col.default is not None:
            b.down.append(ops.AddColumnOp(table, full))
        else:  # NOT NULL without a default: back loose, restored, then NOT NULL
            loose = full._copy()
            loose.nullable = True
            b.down.append(ops.AddColumnOp(table, loose))
            b.loose.add(col.name)
            b.down2.append(ops.AlterColumnOp(table, col.name, modify_nullable=False, existing_type=full.type,
                                             existing_nullable=True))
        b.after_down.append(self.restore(c.table, pk, col.name, bk))
        b.backups.append(f"{bk} ({', '.join(pk)}, {col.name})")

    def rename_column(self, c: Change) -> None:
        self.renames.append(c)  # into the table's rebuild if it has one (see run)

    def _rename_columns(self) -> None:
        """A renamed column of a rebuilt table is renamed by the rebuild (first, so its other
        ops use the new name); otherwise by SQLite's own RENAME COLUMN."""
        for c in self.renames:
            a, b_ = c.detail["from"], c.detail["to"]
            table = _split(c.table)[1]
            up, down = ops.AlterColumnOp(table, a, modify_name=b_), ops.AlterColumnOp(table, b_, modify_name=a)
            if c.table in self.batches:
                batch = self.batches[c.table]
                batch.mixed = True
                batch.up.insert(0, up)
                batch.down.insert(0, down)  # reversed when rendered: the rename is undone last
                batch.titles.insert(0, f"rename column {a} to {b_}")
                continue
            self.add(Phase.CONTRACT, f"rename column {c.table}.{a} to {b_} in place (SQLite): no application version "
                                     "works both before and after it, every writer must switch at once",
                     [Block(render([up], "sqlite"))], [Block(render([down], "sqlite"))], change=c, new_waits=True)

    def alter_type(self, c: Change) -> None:
        """Type, NULL and default of one column as one alter_column of the table's rebuild."""
        key = (c.table, c.column)
        if key in self.columns_done:
            return
        self.columns_done.add(key)
        table = _split(c.table)[1]
        group = [x for x in self.diff.changes if x.table == c.table and x.column == c.column
                 and x.kind in _COLUMN_KINDS]
        kinds = {x.kind for x in group}
        o = self.old.table(c.table).column(c.column)
        n = self.new.table(c.table).column(c.column)
        old_col = self.sa_column(self.old_md, c.table, c.column)
        new_col = self.sa_column(self.new_md, c.table, c.column)
        b = self.batch(c, f"alter column {c.column} ({', '.join(sorted(k.value for k in kinds))})")
        up = dict(existing_type=old_col.type, existing_nullable=o.nullable,
                  existing_server_default=old_col.server_default)
        down = dict(existing_type=new_col.type, existing_nullable=n.nullable,
                    existing_server_default=new_col.server_default)
        typed = next((x for x in group if x.kind == Kind.ALTER_COLUMN_TYPE), None)
        rule = self.rule(typed) if typed is not None else None
        if Kind.ALTER_COLUMN_TYPE in kinds:
            up["modify_type"], down["modify_type"] = new_col.type, old_col.type
            if lossy(o.type, n.type) or (rule is not None and rule.using and rule.lossy):
                # the backup holds the values BEFORE the rule's UPDATE converts them
                pk = self._pk_or_fail(c, "the conversion")
                bk = self.backup_name(c.table, c.column, "type")
                b.before.append(self.backup(c.table, pk, c.column, bk))
                b.after_down.append(self.restore(c.table, pk, c.column, bk))
                b.backups.append(f"{bk} ({', '.join(pk)}, {c.column} before the conversion)")
            if rule is not None and rule.using:
                # SQLite stores any value in any column: the rule converts in place, right before
                # the rebuild copies the values into the new definition; the downgrade's rebuild
                # copies them back, then the inverse (or the backup) gives the OLD values
                self._pk_or_fail(c, "the conversion")
                b.before.append(Block(execute(f"UPDATE {qt(c.table)} SET {q(c.column)} = "
                                              f"{rule_on(rule.using, q(c.column), 'sqlite')}")))
                if rule.inverse:
                    b.after_down.insert(0, Block(execute(f"UPDATE {qt(c.table)} SET {q(c.column)} = "
                                                         f"{rule_on(rule.inverse, q(c.column), 'sqlite')}")))
        if kinds & {Kind.SET_NOT_NULL, Kind.DROP_NOT_NULL}:
            up["modify_nullable"], down["modify_nullable"] = n.nullable, o.nullable
        if Kind.ALTER_DEFAULT in kinds:
            if o.autoincrement != n.autoincrement:
                raise PlanError(f"{c.id}: changing how {c.object} is generated needs a hand-written migration")
            up["modify_server_default"] = new_col.server_default if n.default is not None else None
            down["modify_server_default"] = old_col.server_default if o.default is not None else None
        not_null = next((x for x in group if x.kind == Kind.SET_NOT_NULL), None)
        if not_null is not None and not_null.object in self.backfill_exprs:
            pk = self._pk_or_fail(c, "a backfill")
            bk = self.backup_name(c.table, c.column, "nulls")
            first, fill = self._recorded_fill(c.table, pk, c.column, bk, self.backfill_exprs[not_null.object])
            self._backfill_step(c, c.table, c.column, fill, upgrade_first=first,
                                downgrade=[self.restore(c.table, pk, c.column, bk,
                                                        unchanged=f"{qt(c.table)}.{q(c.column)} IS b.{q(FILLED)}")])
        for x in group:
            b.guards.extend(self.guards(x))
        b.up.append(ops.AlterColumnOp(table, c.column, **up))
        b.down.append(ops.AlterColumnOp(table, c.column, **down))

    set_not_null = drop_not_null = alter_default = alter_type

    # ----------------------------------------------------------------- indexes
    def add_index(self, c: Change) -> None:
        i: Index = c.new
        table = _split(c.table)[1]
        if i.constraint:
            b = self.batch(c, f"add UNIQUE {i.name or '(' + ', '.join(i.columns) + ')'}")
            b.guards.extend(self.guards(c))
            if i.name is None:
                b.up_unnamed.append(("add", i))
                b.down_unnamed.append(("drop", i))
                return
            b.up.append(ops.CreateUniqueConstraintOp(i.name, table, list(i.columns)))
            b.down.append(ops.DropConstraintOp(i.name, table, type_="unique"))
            return
        op_ = ops.CreateIndexOp.from_index(self._index(self.new_md, c.table, i))
        op_.if_not_exists = True
        self.expand_indexes.setdefault(c.table, []).append(i.name)
        self.add(Phase.EXPAND, f"create {'unique ' if i.unique else ''}index {i.name}", [Block(render([op_], "sqlite"))],
                 [Block(render([ops.DropIndexOp(i.name, table_name=table, if_exists=True)], "sqlite"))],
                 guards=self.guards(c), change=c)

    def drop_index(self, c: Change) -> None:
        i: Index = c.old
        table = _split(c.table)[1]
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            return
        if i.constraint:
            b = self.batch(c, f"drop UNIQUE {i.name or '(' + ', '.join(i.columns) + ')'}")
            if i.name is None:
                b.up_unnamed.append(("drop", i))
                b.down_unnamed.append(("add", i))
                return
            b.up.append(ops.DropConstraintOp(i.name, table, type_="unique"))
            b.down.append(ops.CreateUniqueConstraintOp(i.name, table, list(i.columns)))
            return
        recreate = ops.CreateIndexOp.from_index(self._index(self.old_md, c.table, i))
        recreate.if_not_exists = True
        self.native_drops.setdefault(c.table, []).append(i.name)
        self.add(Phase.CONTRACT, f"drop index {i.name}",
                 [Block(render([ops.DropIndexOp(i.name, table_name=table, if_exists=True)], "sqlite"))],
                 [Block(render([recreate], "sqlite"))], change=c, rank=-2)

    def rename_index(self, c: Change) -> None:
        """SQLite cannot rename an index: a UNIQUE constraint is renamed by the table's rebuild,
        a plain index is built under the new name (expand), then the old one dropped."""
        o, n = c.old, c.new
        table = _split(c.table)[1]
        if o.constraint or n.constraint:
            b = self.batch(c, f"rename UNIQUE {o.name} to {n.name}")
            self._renamed(b, o, n, lambda x: ops.CreateUniqueConstraintOp(x.name, table, list(x.columns)),
                          lambda x: ops.DropConstraintOp(x.name, table, type_="unique"))
            return
        build_new = ops.CreateIndexOp.from_index(self._index(self.new_md, c.table, n))
        build_new.if_not_exists = True
        build_old = ops.CreateIndexOp.from_index(self._index(self.old_md, c.table, o))
        build_old.if_not_exists = True
        drop_old = ops.DropIndexOp(o.name, table_name=table, if_exists=True)
        drop_new = ops.DropIndexOp(n.name, table_name=table, if_exists=True)
        self.expand_indexes.setdefault(c.table, []).append(n.name)
        self.native_drops.setdefault(c.table, []).append(o.name)
        self.add(Phase.EXPAND, f"rename index {o.name} to {n.name} (SQLite: built under the new name, the old "
                               "one dropped)", [Block(render([build_new, drop_old], "sqlite"))],
                 [Block(render([build_old, drop_new], "sqlite"))], change=c)

    def rename_constraint(self, c: Change) -> None:
        """SQLite cannot rename a constraint: the table's rebuild drops it and adds it under the
        new name (a primary key's name is refused, as any primary key change is)."""
        o, n = c.old, c.new
        table = _split(c.table)[1]
        kind = c.detail.get("constraint")
        if kind == "foreign_key":
            b = self.batch(c, f"rename foreign key {o.name} to {n.name}")
            self._renamed(b, o, n, lambda x: self._fk_op(c.table, x),
                          lambda x: ops.DropConstraintOp(x.name, table, type_="foreignkey"))
        elif kind == "check":
            b = self.batch(c, f"rename check {o.name} to {n.name}")

            self._renamed(b, o, n, lambda x: ops.CreateCheckConstraintOp(
                x.name, table, sa.text(quoted_expression(x.expression, "sqlite"))),
                lambda x: ops.DropConstraintOp(x.name, table, type_="check"))
        else:
            raise PlanError(f"{c.id}: renaming the primary key of a SQLite table is not planned",
                            hint="keep its old name, or rebuild the table by hand")

    # ----------------------------------------------------------------- constraints
    def _fk_op(self, table: str, fk: ForeignKey) -> ops.CreateForeignKeyOp:
        return ops.CreateForeignKeyOp(
            fk.name, _split(table)[1], fk.ref_table, list(fk.columns), list(fk.ref_columns),
            **_fk_options(fk))

    def _constraint(self, b: _Batch, add: Index | Check | ForeignKey | None, drop: Index | Check | ForeignKey | None,
                    up: list[ops.MigrateOperation], down: list[ops.MigrateOperation]) -> None:
        """`up` and `down` for named constraints; an unnamed one goes through `copy_from`."""
        for what, obj, into in (("add", add, b.up_unnamed), ("drop", drop, b.up_unnamed),
                                ("drop", add, b.down_unnamed), ("add", drop, b.down_unnamed)):
            if obj is not None and obj.name is None:
                into.append((what, obj))
        b.up += up
        b.down += down

    def _renamed(self, b: _Batch, o: Index | Check | ForeignKey, n: Index | Check | ForeignKey,
                 create: Callable[[Index | Check | ForeignKey], ops.MigrateOperation],
                 drop: Callable[[Index | Check | ForeignKey], ops.MigrateOperation]) -> None:
        """A constraint renamed by the rebuild: `o` dropped, `n` added (by ops when named, through
        copy_from when not); the downgrade the other way round."""
        self._constraint(b, n, o, ([drop(o)] if o.name else []) + ([create(n)] if n.name else []),
                         ([create(o)] if o.name else []) + ([drop(n)] if n.name else []))

    def add_fk(self, c: Change) -> None:
        fk: ForeignKey = c.new
        b = self.batch(c, f"add foreign key {fk.name or '(' + ', '.join(fk.columns) + ')'}")
        b.guards.extend(self.guards(c))
        table = _split(c.table)[1]
        named = fk.name is not None
        self._constraint(b, fk, None, [self._fk_op(c.table, fk)] if named else [],
                         [ops.DropConstraintOp(fk.name, table, type_="foreignkey")] if named else [])

    def drop_fk(self, c: Change) -> None:
        if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in self.diff.changes):
            return
        fk: ForeignKey = c.old
        b = self.batch(c, f"drop foreign key {fk.name or '(' + ', '.join(fk.columns) + ')'}")
        named = fk.name is not None
        self._constraint(b, None, fk, [ops.DropConstraintOp(fk.name, _split(c.table)[1], type_="foreignkey")]
                         if named else [], [self._fk_op(c.table, fk)] if named else [])

    def alter_fk(self, c: Change) -> None:
        o, n = c.old, c.new
        b = self.batch(c, f"re-create foreign key {n.name or '(' + ', '.join(n.columns) + ')'}")
        table = _split(c.table)[1]
        up = ([ops.DropConstraintOp(o.name, table, type_="foreignkey")] if o.name else []) + \
            ([self._fk_op(c.table, n)] if n.name else [])
        # b.down runs reversed: drop the new key, then create the old one (they may share a name)
        down = ([self._fk_op(c.table, o)] if o.name else []) + \
            ([ops.DropConstraintOp(n.name, table, type_="foreignkey")] if n.name else [])
        self._constraint(b, n, o, up, down)

    def add_check(self, c: Change) -> None:
        ch = c.new
        table = _split(c.table)[1]
        b = self.batch(c, f"add check {ch.name or '(' + ch.expression + ')'}")
        b.guards.extend(self.guards(c))
        named = ch.name is not None
        self._constraint(b, ch, None, [ops.CreateCheckConstraintOp(
            ch.name, table, sa.text(quoted_expression(ch.expression, "sqlite")))] if named else [],
            [ops.DropConstraintOp(ch.name, table, type_="check")] if named else [])

    def drop_check(self, c: Change) -> None:
        ch = c.old
        table = _split(c.table)[1]
        b = self.batch(c, f"drop check {ch.name or '(' + ch.expression + ')'}")
        named = ch.name is not None
        self._constraint(b, None, ch, [ops.DropConstraintOp(ch.name, table, type_="check")] if named else [],
                         [ops.CreateCheckConstraintOp(ch.name, table, sa.text(
                             quoted_expression(ch.expression, "sqlite")))] if named else [])

    def add_pk(self, c: Change) -> None:
        raise PlanError(f"{c.id}: changing the primary key of a SQLite table is not planned",
                        hint="rebuild the table by hand (CREATE new, INSERT SELECT, DROP, RENAME)")

    drop_pk = add_pk

    # ----------------------------------------------------------------- views
    def drop_view(self, c: Change) -> None:
        self.add(Phase.CONTRACT, f"drop view {c.name}", [Block(execute(f"DROP VIEW {qt(c.name)}"))],
                 [Block(execute(f"CREATE VIEW {qt(c.name)} AS {c.old.definition}"))], change=c, rank=-6)

    # ----------------------------------------------------------------- the rebuilds
    def _state_before(self, key: str) -> sa.Table:
        """The table as the contract rebuild finds it: OLD, plus the columns and indexes expand
        added, minus the indexes contract dropped just before."""
        md = sa.MetaData()
        t = self.table(self.old_md, key).to_metadata(md)
        for col in self.expand_columns.get(key, []):
            t.append_column(col._copy())
        for name in self.expand_indexes.get(key, []):
            ix = next(i for i in self.table(self.new_md, key).indexes if i.name == name)
            sa.Index(ix.name, *[t.c[x.name] if isinstance(x, sa.Column) else x for x in ix.expressions],
                     unique=ix.unique, **ix.dialect_kwargs)
        for name in self.native_drops.get(key, []):
            t.indexes.discard(next(i for i in t.indexes if i.name == name))
        return t

    def _state_after_down(self, key: str, loose: set[str]) -> sa.Table:
        """The table after the first downgrade rebuild: as contract found it, with the restored
        NOT NULL columns still nullable (the second rebuild makes them NOT NULL)."""
        t = self._state_before(key)
        for name in loose:
            t.c[name].nullable = True
        return t

    def _rebuild(self, key: str, table: sa.Table, op_list: list[ops.MigrateOperation],
                 target: sa.Table | None = None,
                 unnamed: list[tuple[str, Index | Check | ForeignKey]] | None = None,
                 order: list[str] | None = None) -> Block:
        """Batch-mode rebuild of `table` (its state before) by `op_list`; the new table gets
        `target`'s table options (AUTOINCREMENT: Alembic builds it from table_kwargs alone) and
        the `unnamed` constraints added or dropped (see _Batch.up_unnamed); `order`: the
        columns in the order the new table must have them (a downgrade puts dropped columns back
        where they were, not at the end: Alembic's `partial_reordering`)."""
        name = _split(key)[1]
        if unnamed:
            table = table.to_metadata(sa.MetaData())
            for what, obj in unnamed:
                if what == "add":
                    table.append_constraint(_unnamed_constraint(obj))
                    continue
                found = next((x for x in table.constraints if _is_unnamed(x, obj)), None)
                if found is None:
                    raise PlanError(f"{key}: the unnamed constraint {obj} is not in the table the rebuild copies")
                table.constraints.remove(found)
        text = render_python_code(ops.UpgradeOps([ops.ModifyTableOps(name, op_list)]), render_as_batch=True,
                                  sqlalchemy_module_prefix="sa.", alembic_module_prefix="op.",
                                  render_item=_render_item("sqlite"), migration_context=_BATCH_CONTEXT)
        lines = [ln for ln in text.splitlines() if "### " not in ln]
        code = textwrap.dedent("\n".join(lines)).strip()
        head = f"with op.batch_alter_table({name!r}, schema=None) as batch_op:"
        if not op_list:  # only unnamed constraints change: the copy (copy_from) makes them
            code = head + "\n    pass"
        assert code.startswith(head), code
        source = _table_source(table)
        options = {k: v for k, v in (target if target is not None else table).dialect_kwargs.items()
                   if k == "sqlite_autoincrement" and v}
        kw = f", table_kwargs={options!r}" if options else ""
        if order:
            kw += f", partial_reordering=[{tuple(order)!r}]"
        batch = (f"with op.batch_alter_table({name!r}, copy_from=_copy_from, recreate='always'{kw}) as batch_op:"
                 + code[len(head):])
        # R14 around it (runtime): foreign keys off, one transaction, the table's triggers back
        return Block(f"_copy_from = {source}\n\n\ndef _rebuild():\n" + textwrap.indent(batch, "    ")
                     + f"\n\n\nrt.sqlite_rebuild({name!r}, _rebuild)")

    def _rebuildable(self, key: str, b: _Batch) -> None:
        """A rebuild makes the table from planner's model, which has no STRICT or WITHOUT ROWID:
        such a table is refused in one line rather than silently changed."""
        for side, schema in (("OLD", self.old), ("NEW", self.new)):
            t = schema.table(key) if schema is not None else None
            if t is not None and t.options:
                what = (b.titles[0] if len(b.titles) == 1 else f"{len(b.titles)} changes").split(" (")[0]
                raise PlanError(f"{b.change.id if b.change else key}: {what} needs a rebuild of table {key}, which "
                                f"is {' and '.join(t.options)} ({side}): planner's rebuild would drop that",
                                hint="write this step by hand (the 12-step rebuild from the table's own SQL)")

    def _finish(self, key: str, b: _Batch) -> None:
        new_t = self.table(self.new_md, key)
        old_t = self.table(self.old_md, key) if self.old_md is not None and key in self.old_md.tables else new_t
        # OLD's columns in OLD's order (the columns expand added stay after them until its downgrade)
        # (a renamed column by the name the table the rebuild copies from has: Alembic keys it so)
        renamed = {c.detail["from"]: c.detail["to"] for c in self.renames if c.table == key}
        order = [renamed.get(c.name, c.name) for c in old_t.columns] \
            if old_t is not new_t and len(old_t.columns) > 1 else None
        native = not b.mixed and b.drops and all(self._natively_droppable(c) for c in b.drops)
        if native:  # SQLite's own DROP COLUMN: no copy (rowids, counter, table options, views kept)
            name = _split(key)[1]
            up = [*b.before, Block("\n".join(execute(f"ALTER TABLE {qt(key)} DROP COLUMN {q(c.old.name)}")
                                             for c in b.drops))]
            dropped = [c.old.name for c in b.drops]
            # ADD COLUMN puts a column back at the end: only the last columns of OLD, when expand
            # added none after them, each nullable or with a constant default, come back so
            if not b.loose and not self.expand_columns.get(key) \
                    and [c.name for c in old_t.columns][-len(dropped):] == sorted(dropped, key=[
                        c.name for c in old_t.columns].index) \
                    and all(c.old.default is None or _constant(c.old.default) for c in b.drops):
                adds = [ops.AddColumnOp(name, self.sa_column(self.old_md, key, col))
                        for col in [c.name for c in old_t.columns] if col in dropped]
                self.add(Phase.CONTRACT, f"table {key}, by SQLite's own DROP COLUMN: " + "; ".join(b.titles), up,
                         [Block(render(adds, "sqlite")), *b.after_down], guards=b.guards, change=b.change,
                         backup="; ".join(b.backups) or None)
                return
        else:
            up = [*b.before, self._rebuild(key, self._state_before(key), b.up, new_t, b.up_unnamed)]
        self._rebuildable(key, b)
        down = [self._rebuild(key, new_t, list(reversed(b.down)), old_t, b.down_unnamed, order), *b.after_down]
        if b.down2:
            down += [self._rebuild(key, self._state_after_down(key, b.loose), b.down2, old_t, order=order)]
        # a column renamed by the rebuild: NEW cannot run before it, OLD not after it; a dropped
        # NOT NULL column without a default (b.loose) refuses NEW's inserts, which leave it out,
        # until the rebuild drops it (SQLite cannot drop the NOT NULL without a rebuild either)
        renames = any(t.startswith("rename column ") for t in b.titles)
        title = (f"table {key}, by SQLite's own DROP COLUMN (the downgrade rebuilds the table to put "
                 f"{'them' if len(b.drops) > 1 else 'it'} back in place): " if native
                 else f"rebuild table {key} (batch mode): ")
        self.add(Phase.CONTRACT, title + "; ".join(b.titles), up, down,
                 guards=b.guards, change=b.change, backup="; ".join(b.backups) or None,
                 new_waits=renames or bool(b.loose) or None)


def _fk_options(fk: ForeignKey) -> dict[str, str | bool | None]:
    return {"ondelete": None if fk.on_delete == "NO ACTION" else fk.on_delete,
            "onupdate": None if fk.on_update == "NO ACTION" else fk.on_update,
            "deferrable": fk.deferrable or None, "initially": "DEFERRED" if fk.initially_deferred else None}


def _unnamed_constraint(obj: Index | Check | ForeignKey) -> sa.Constraint:
    """The SQLAlchemy form of an unnamed UNIQUE, CHECK or FOREIGN KEY (as the metadata has it)."""
    if isinstance(obj, Index):
        return sa.UniqueConstraint(*obj.columns)
    if isinstance(obj, Check):
        return sa.CheckConstraint(obj.expression)
    return sa.ForeignKeyConstraint(list(obj.columns), [f"{obj.ref_table}.{c}" for c in obj.ref_columns],
                                   **{k: v for k, v in _fk_options(obj).items() if v is not None})


def _is_unnamed(con: sa.Constraint, obj: Index | Check | ForeignKey) -> bool:
    """Whether `con` (a constraint of a table's metadata) is the unnamed `obj` of the model."""
    if con.name is not None:
        return False
    if isinstance(obj, Index):
        return isinstance(con, sa.UniqueConstraint) and tuple(c.name for c in con.columns) == tuple(obj.columns)
    if isinstance(obj, Check):
        return isinstance(con, sa.CheckConstraint) and str(con.sqltext) == obj.expression
    return (isinstance(con, sa.ForeignKeyConstraint) and tuple(con.column_keys) == tuple(obj.columns)
            and [e.target_fullname for e in con.elements] == [f"{obj.ref_table}.{c}" for c in obj.ref_columns])


def _table_source(t: sa.Table) -> str:
    """`sa.Table(...)` source for a batch's `copy_from` (Alembic's renderer writes the columns
    and constraints; indexes are added as `sa.Index`)."""
    create = ops.CreateTableOp.from_table(t)
    # the table's keyword arguments (sqlite_autoincrement=...) go last, after the indexes
    table_kw, create.kw = create.kw, {}
    text = render([create], "sqlite")
    prefix = f"op.create_table({t.name!r}"
    assert text.startswith(prefix), text
    body = text[len(prefix):]
    assert body.endswith(")")
    indexes = []
    for ix in sorted(t.indexes, key=lambda i: i.name or ""):
        # an expression (`a DESC`) names its columns bare: SQLite refuses `t.a` in an index
        parts = [repr(x.name) if isinstance(x, sa.Column) else
                 f"sa.text({str(x.compile(dialect=_BATCH_CONTEXT.dialect, compile_kwargs={'include_table': False})).strip()!r})"
                 for x in ix.expressions]
        kw = [f"unique={ix.unique!r}"]
        where = ix.dialect_options["sqlite"].get("where")
        if where is not None:
            kw.append(f"sqlite_where=sa.text({str(where).strip()!r})")
        indexes.append(f"sa.Index({ix.name!r}, {', '.join(parts + kw)})")
    extra = "".join(f",\n{i}" for i in indexes) + "".join(f",\n{k}={v!r}" for k, v in sorted(table_kw.items()))
    return f"sa.Table({t.name!r}, sa.MetaData(){body[:-1]}{extra})"
