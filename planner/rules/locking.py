"""LK: changes that take long or strong locks, or rewrite the table."""

from __future__ import annotations

from planner.changes import Change, Kind
from planner.model import Column, Index, IndexPart
from planner.rules.facts import binary_coercible
from planner.rules.registry import Context, Level, Verdict, rule


@rule("LK101", "create-index-blocking", on=(Kind.ADD_INDEX, Kind.ADD_UNIQUE), playbook="create-index-concurrently",
      summary="CREATE INDEX without CONCURRENTLY blocks writes for the whole build.",
      help="CREATE INDEX CONCURRENTLY outside a transaction, then check it is valid.",
      helps={"mysql": "Ask for ALGORITHM=INPLACE, LOCK=NONE: writes continue, and the server refuses rather "
                      "than copying the table.",
             "sqlite": "Build it when writes are quiet: SQLite write-locks the whole database for the build."},
      squawk=("require-concurrent-index-creation",))
def create_index_blocking(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    PostgreSQL's plain `CREATE INDEX` holds a SHARE lock for the whole build: reads go on,
    every INSERT/UPDATE/DELETE waits. MySQL/MariaDB build secondary indexes in place with
    concurrent DML; SQLite write-locks the whole database while it builds.

    ## Instead
    `CREATE INDEX CONCURRENTLY` (SHARE UPDATE EXCLUSIVE; writes continue) outside any
    transaction block, then verify `pg_index.indisvalid` (a failed build leaves an INVALID
    index that `IF NOT EXISTS` silently skips).
    """
    if ctx.dialect == "mysql":
        return Verdict(ctx.scale(Level.LOW, c.table), f"Index {c.name or '(unnamed)'} on {c.table} is built in place; ask for "
                       f"ALGORITHM=INPLACE, LOCK=NONE so it never falls back to a copy{ctx.size_note(c.table)}.")
    if ctx.dialect == "sqlite":
        return Verdict(ctx.scale(Level.LOW, c.table), f"Building index {c.name or '(unnamed)'} write-locks the database "
                                                      f"for the build{ctx.size_note(c.table)}.")
    return Verdict(ctx.scale(Level.MEDIUM, c.table),
                   f"CREATE INDEX {c.name or '(unnamed)'} on {c.table} takes a SHARE lock: writes are blocked until the "
                   f"build ends{ctx.size_note(c.table)}.", help=_partitioned_help(c, ctx))


def _partitioned_help(c: Change, ctx: Context) -> str | None:
    """The safe way for an index or UNIQUE constraint of a partitioned table (PostgreSQL refuses
    CONCURRENTLY and USING INDEX there), None for a plain one."""
    t = ctx.old_table(c.table) or ctx.new.table(c.table or "")
    if t is None or not t.partition_by:
        return None
    if isinstance(c.new, Index) and c.new.constraint:
        return ("A partitioned table takes no CONCURRENTLY and no constraint USING INDEX: build a unique index "
                "CONCURRENTLY on each partition and add the constraint there (USING INDEX), then ADD CONSTRAINT on "
                "the table (it adopts them); planner's plan does this (in place where the constraint is "
                "DEFERRABLE, NULLS NOT DISTINCT or has INCLUDE columns).")
    return ("A partitioned table takes no CONCURRENTLY: CREATE INDEX ... ON ONLY the table, CREATE INDEX "
            "CONCURRENTLY on each partition, ALTER INDEX ... ATTACH PARTITION each (planner's plan does this).")


@rule("LK102", "drop-index-blocking", on=(Kind.DROP_INDEX, Kind.DROP_UNIQUE), playbook="drop-index-concurrently",
      summary="DROP INDEX takes ACCESS EXCLUSIVE on the table.", dialects=("postgresql",),
      help="DROP INDEX CONCURRENTLY outside a transaction (not for indexes that back a constraint).",
      squawk=("require-concurrent-index-deletion", "ban-drop-constraint"))
def drop_index_blocking(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `DROP INDEX` takes ACCESS EXCLUSIVE on the table: brief, but it queues behind any long
    transaction and everything queues behind it.

    ## Instead
    `DROP INDEX CONCURRENTLY IF EXISTS` outside a transaction block, with a lock_timeout.
    """
    if any(x.kind == Kind.DROP_TABLE and x.table == c.table for x in ctx.diff.changes):
        return None
    t = ctx.old_table(c.table)
    return Verdict(Level.LOW, f"DROP INDEX {c.name or '(unnamed)'} takes ACCESS EXCLUSIVE on {c.table} (brief, but it "
                              "waits behind long transactions and blocks everything queued after it).",
                   help="A partitioned table's index cannot be dropped CONCURRENTLY: a plain DROP INDEX under a short "
                        "lock_timeout, retried (planner's plan does this)." if t is not None and t.partition_by else None)


@rule("LK103", "type-change-rewrite", on=Kind.ALTER_COLUMN_TYPE, playbook="change-column-type",
      summary="Changing a column type rewrites the table and its indexes under an exclusive lock.",
      help="Expand/contract: add a new column, backfill in batches, swap in a short transaction.",
      squawk=("changing-column-type",))
def type_change_rewrite(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Unless the change is binary-coercible (varchar widening, varchar -> text, numeric
    precision increase), PostgreSQL rewrites the whole table and rebuilds every index under
    ACCESS EXCLUSIVE, blocking reads and writes, and needs twice the disk. MySQL copies the
    table (ALGORITHM=COPY, no concurrent writes); SQLite rebuilds it.

    ## Instead
    R8: add the new column, keep it in sync with a trigger, backfill in batches, switch the
    code, swap names in one short transaction, drop the old column later.
    """
    old, new = c.detail.get("from", ""), c.detail.get("to", "")
    rebuilds = c.detail.get("rebuilds", [])
    if binary_coercible(old, new, ctx.dialect):
        if ctx.dialect == "postgresql" and rebuilds and old.split("(")[0] != new.split("(")[0]:
            return Verdict(Level.LOW, f"{c.table}.{c.column} {old} -> {new} needs no table rewrite, but "
                                      f"rebuilds {', '.join(rebuilds)} under ACCESS EXCLUSIVE.")
        return Verdict(Level.LOW, f"{c.table}.{c.column} {old} -> {new} is metadata-only (no rewrite); "
                                  "ACCESS EXCLUSIVE is held briefly.")
    if {old.split("(")[0], new.split("(")[0]} == {"timestamp", "timestamptz"} and ctx.dialect == "postgresql":
        return Verdict(ctx.scale(Level.MEDIUM, c.table),
                       f"{c.table}.{c.column} {old} -> {new} avoids the rewrite only when the session TimeZone "
                       f"is UTC; indexes on it are rebuilt under ACCESS EXCLUSIVE{ctx.size_note(c.table)}.")
    how = {"postgresql": "rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE (reads and writes "
                         "blocked)",
           "mysql": "copies the table (ALGORITHM=COPY): concurrent writes are blocked",
           "sqlite": "needs a full table rebuild"}[ctx.dialect]
    extra = f"; rebuilds {', '.join(rebuilds)}" if rebuilds else ""
    # SQLite has no new-column-and-swap route: its plan rebuilds the table (batch mode)
    help_ = ("SQLite changes a type only by rebuilding the table (planner's contract does it in Alembic's batch "
             "mode): the whole database is write-locked while the rows are copied; run it when writes are quiet."
             if ctx.dialect == "sqlite" else None)
    return Verdict(ctx.scale(Level.HIGH, c.table),
                   f"{c.table}.{c.column} {old} -> {new} {how}{ctx.size_note(c.table)}{extra}.", help=help_)


def _rewrites_on_add(col: Column) -> str | None:
    if col.autoincrement in ("sequence", "identity", "identity_always"):
        return "a serial/identity column fills every existing row"
    if col.default_volatile:
        return f"the volatile default {col.default} is evaluated for every existing row"
    if col.generated:
        return "a stored generated column is computed for every existing row"
    return None


@rule("LK104", "add-column-rewrite", on=Kind.ADD_COLUMN, playbook="add-column-volatile-default",
      summary="Adding a column with a volatile default, serial/identity or generated value rewrites the table.",
      help="Add the column without the default, SET DEFAULT for new rows, backfill existing rows in batches.",
      squawk=("adding-field-with-default",))
def add_column_rewrite(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Since PostgreSQL 11 a constant (or stable, like now()) default is stored in the catalog
    and the ADD COLUMN is instant. A volatile default (gen_random_uuid(), random(),
    clock_timestamp(), nextval()), a serial/identity or a stored generated column must be
    computed per row: the table is rewritten under ACCESS EXCLUSIVE. SQLite refuses
    non-constant defaults outright.

    ## Instead
    Add the column nullable with no default, `SET DEFAULT` (applies to new rows only),
    backfill old rows in batches, then add NOT NULL if needed.
    """
    why = _rewrites_on_add(c.new)
    if why is None:
        return None
    if ctx.dialect == "sqlite":
        return Verdict(Level.HIGH, f"SQLite cannot add {c.table}.{c.column} in place: {why}; the table must be "
                                   "rebuilt.")
    if ctx.dialect == "mysql":
        if c.new.autoincrement == "auto_increment":
            return Verdict(ctx.scale(Level.MEDIUM, c.table), f"Adding AUTO_INCREMENT column {c.table}.{c.column} "
                           f"rebuilds the table in place without LOCK=NONE{ctx.size_note(c.table)}.")
        return None
    return Verdict(ctx.scale(Level.HIGH, c.table), f"Adding {c.table}.{c.column} rewrites the table under "
                   f"ACCESS EXCLUSIVE: {why}{ctx.size_note(c.table)}.")


@rule("LK105", "validating-foreign-key", on=Kind.ADD_FOREIGN_KEY, dialects=("postgresql",),
      playbook="add-foreign-key",
      summary="Adding a foreign key validates every row while blocking writes to both tables.",
      help="ADD CONSTRAINT ... NOT VALID (instant), then VALIDATE CONSTRAINT in a later transaction.",
      squawk=("adding-foreign-key-constraint", "constraint-missing-not-valid"))
def validating_foreign_key(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ADD FOREIGN KEY` holds SHARE ROW EXCLUSIVE on both the table and the referenced table
    for the whole validating scan: writes to both are blocked.

    ## Instead
    `ADD CONSTRAINT ... NOT VALID` takes the lock only for an instant; `VALIDATE CONSTRAINT`
    then scans under SHARE UPDATE EXCLUSIVE (plus ROW SHARE on the parent), which lets reads
    and writes continue.
    """
    ref = c.detail.get("references")
    return Verdict(ctx.scale(Level.MEDIUM, c.table),
                   f"FOREIGN KEY {c.name or '(unnamed)'} validates every row of {c.table} under SHARE ROW EXCLUSIVE on "
                   f"{c.table} and {ref} (writes to both blocked){ctx.size_note(c.table)}.",
                   help=_partitioned_fk_help(c, ctx))


def _partitioned_fk_help(c: Change, ctx: Context) -> str | None:
    t = ctx.old_table(c.table)
    if t is None or not t.partition_by:
        return None
    return ("A partitioned table takes no NOT VALID foreign key: add it NOT VALID on each partition and VALIDATE "
            "there, then ADD CONSTRAINT on the table (it adopts them without a scan, but locks the referenced table "
            "ACCESS EXCLUSIVE for a moment); planner's plan builds it that way (rt.partitioned_fk).")


@rule("LK113", "validating-check", on=Kind.ADD_CHECK, dialects=("postgresql",), playbook="add-check",
      summary="Adding a CHECK validates every row under ACCESS EXCLUSIVE.",
      help="ADD CONSTRAINT ... CHECK (...) NOT VALID (instant), then VALIDATE CONSTRAINT later.",
      squawk=("constraint-missing-not-valid",))
def validating_check(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ADD CHECK` holds ACCESS EXCLUSIVE, blocking reads and writes, while it checks every row.

    ## Instead
    `ADD CONSTRAINT ... NOT VALID` (instant), then `VALIDATE CONSTRAINT` under SHARE UPDATE
    EXCLUSIVE in its own transaction.
    """
    return Verdict(ctx.scale(Level.MEDIUM, c.table),
                   f"CHECK {c.name or '(unnamed)'} is validated under ACCESS EXCLUSIVE on {c.table} (reads and writes blocked "
                   f"for the scan){ctx.size_note(c.table)}.")


@rule("LK106", "set-not-null-scan", on=Kind.SET_NOT_NULL, dialects=("postgresql",), playbook="set-not-null",
      summary="SET NOT NULL scans the whole table under ACCESS EXCLUSIVE.",
      help="Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (no scan on PG 12+).")
def set_not_null_scan(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ALTER COLUMN ... SET NOT NULL` checks every row while holding ACCESS EXCLUSIVE: reads and
    writes wait for the full scan.

    ## Instead
    R3: a `NOT VALID` CHECK, `VALIDATE CONSTRAINT` (weak lock), then `SET NOT NULL`, which
    PostgreSQL 12+ proves from the valid CHECK without scanning.
    """
    return Verdict(ctx.scale(Level.MEDIUM, c.table), f"SET NOT NULL on {c.table}.{c.column} scans the table "
                                                     f"under ACCESS EXCLUSIVE{ctx.size_note(c.table)}.")


@rule("LK107", "unique-constraint-lock", on=Kind.ADD_UNIQUE, dialects=("postgresql",), playbook="add-unique",
      summary="ADD CONSTRAINT ... UNIQUE builds its index under ACCESS EXCLUSIVE.",
      help="CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX.",
      squawk=("disallowed-unique-constraint", "constraint-missing-not-valid"))
def unique_constraint_lock(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    A UNIQUE *constraint* builds its index while holding ACCESS EXCLUSIVE: even reads wait for
    the whole build.

    ## Instead
    R5: `CREATE UNIQUE INDEX CONCURRENTLY`, then `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE
    USING INDEX` (instant).
    """
    if not c.new.constraint:
        return None
    return Verdict(ctx.scale(Level.HIGH, c.table), f"UNIQUE constraint {c.name or '(unnamed)'} builds its index under ACCESS "
                                                   f"EXCLUSIVE on {c.table}{ctx.size_note(c.table)}.",
                   help=_partitioned_help(c, ctx))


@rule("LK108", "primary-key-change", on=(Kind.ADD_PRIMARY_KEY, Kind.DROP_PRIMARY_KEY), playbook="add-primary-key",
      summary="Adding or replacing a primary key builds a unique index under ACCESS EXCLUSIVE.",
      help="Build the unique index concurrently, then ADD PRIMARY KEY USING INDEX; drop referencing FKs "
           "first and re-add them NOT VALID.",
      helps={"mysql": "Drop and add the primary key in one ALTER with ALGORITHM=INPLACE, LOCK=NONE; drop "
                      "referencing foreign keys first (an online schema change tool for big tables).",
             "sqlite": "Let Alembic's batch mode rebuild the table with the new primary key."},
      squawk=("adding-serial-primary-key-field", "constraint-missing-not-valid", "ban-drop-constraint"))
def primary_key_change(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ADD PRIMARY KEY` builds the index (and checks NOT NULL) under ACCESS EXCLUSIVE. Dropping a
    primary key fails while other tables' foreign keys depend on it, and leaves the table
    without row identity until the new one exists.

    ## Instead
    R13: `CREATE UNIQUE INDEX CONCURRENTLY`, then in one short transaction
    `DROP CONSTRAINT old_pkey, ADD CONSTRAINT new_pkey PRIMARY KEY USING INDEX ...`.
    """
    if c.kind == Kind.DROP_PRIMARY_KEY:
        refs = [f"{ctx.old.key(t.schema, t.name)}.{f.name}" for t in ctx.old.tables for f in t.foreign_keys
                if ctx.old.key(f.ref_schema, f.ref_table) == c.table]
        replaced = any(x.kind == Kind.ADD_PRIMARY_KEY and x.table == c.table for x in ctx.diff.changes)
        msg = f"Primary key {c.name or '(unnamed)'} of {c.table} is dropped" + (" and replaced" if replaced else "")
        if refs:
            msg += f"; foreign keys depend on it ({', '.join(sorted(refs))}) and must be dropped first"
        return Verdict(Level.MEDIUM if not refs else Level.HIGH, msg + ".")
    how = {"postgresql": "builds a unique index under ACCESS EXCLUSIVE",
           "mysql": "rebuilds the table in place", "sqlite": "needs a table rebuild"}[ctx.dialect]
    return Verdict(ctx.scale(Level.MEDIUM, c.table), f"PRIMARY KEY on {c.table} {how}{ctx.size_note(c.table)}.")


@rule("LK109", "drop-fk-index", on=(Kind.DROP_INDEX, Kind.DROP_UNIQUE), playbook=None,
      summary="Dropping the index a foreign key or uniqueness relies on.",
      help="Keep an index whose leading columns are the foreign key columns (or create the replacement first).")
def drop_fk_index(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    A foreign key needs an index on its columns to check deletes from the parent quickly;
    without it each parent DELETE/UPDATE scans the child table (PostgreSQL), and MySQL refuses
    to drop an index a foreign key needs.

    ## Instead
    Create the replacement index first (concurrently), then drop the old one.
    """
    new_table = ctx.new.table(c.table) if c.table else None
    if new_table is None or c.old is None:
        return None
    cols = c.old.columns
    for fk in new_table.foreign_keys:
        n = len(fk.columns)
        if cols[:n] != fk.columns:
            continue
        if any(i.columns[:n] == fk.columns for i in new_table.indexes):
            continue
        if new_table.primary_key and new_table.primary_key.columns[:n] == fk.columns:
            continue
        level = Level.HIGH if ctx.dialect == "mysql" else ctx.scale(Level.MEDIUM, c.table)
        why = ("MySQL refuses to drop it" if ctx.dialect == "mysql"
               else "deletes and key updates on the parent will scan the child table")
        return Verdict(level, f"Index {c.name or '(unnamed)'} is the only index for foreign key {fk.name} "
                              f"({', '.join(fk.columns)}): {why}.")
    return None


@rule("LK110", "enum-recreate", on=(Kind.REMOVE_ENUM_VALUE, Kind.REORDER_ENUM_VALUES), dialects=("postgresql",),
      playbook="enum-remove-value",
      summary="Removing or reordering enum values recreates the type and rewrites every column of it.",
      help="Remap rows first, then recreate the type in a short maintenance step or via a new column.")
def enum_recreate(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    PostgreSQL cannot remove or reorder enum values: a new type is created and every column
    using the old one is converted with `ALTER COLUMN ... TYPE ... USING`, rewriting those
    tables under ACCESS EXCLUSIVE.

    ## Instead
    R10 after remapping the rows; on large tables convert through a new column (R8).
    """
    used = c.detail.get("used_by", [])
    if c.kind == Kind.REMOVE_ENUM_VALUE and any(
            x.kind == Kind.REMOVE_ENUM_VALUE and x.name == c.name and x.id < c.id for x in ctx.diff.changes):
        return None  # one finding per type
    tables = sorted({u.rpartition(".")[0] for u in used})
    level = max((ctx.scale(Level.MEDIUM, t) for t in tables), default=Level.LOW)
    what = ", ".join(used) if used else "no column"
    return Verdict(level, f"Enum {c.name} must be recreated: {what} rewritten under ACCESS EXCLUSIVE.")


@rule("LK111", "fk-action-change", on=Kind.ALTER_FOREIGN_KEY, playbook="change-foreign-key-action",
      summary="Changing ON DELETE/ON UPDATE drops and re-adds the foreign key, revalidating every row.",
      help="Drop and re-add NOT VALID in one short transaction, then VALIDATE separately.",
      helps={"mysql": "Check orphans first (planner check); MySQL/MariaDB have no NOT VALID: drop and re-add in "
                      "one ALTER with foreign_key_checks=0 (in place), or the server copies the table.",
             "sqlite": "Let Alembic's batch mode rebuild the table with foreign keys off; check PRAGMA "
                       "foreign_key_check afterwards."})
def fk_action_change(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    There is no in-place change of a foreign key's actions: it is dropped and re-added, and
    the re-add validates every row under SHARE ROW EXCLUSIVE on both tables (PostgreSQL) or
    copies the table (MySQL with foreign_key_checks=1). The new action also changes what a
    parent delete does to child rows (CASCADE deletes them).

    ## Instead
    R7: `DROP CONSTRAINT x, ADD CONSTRAINT x ... NOT VALID` in one short transaction, then
    `VALIDATE CONSTRAINT x`.
    """
    changed = c.detail.get("changed", {})
    text = ", ".join(f"{k.replace('_', ' ').upper()} {v[0]} -> {v[1]}" for k, v in changed.items())
    cascade = any(v[1] == "CASCADE" for k, v in changed.items() if k == "on_delete")
    msg = f"Foreign key {c.name or '(unnamed)'} changes {text}; it is dropped and re-added, revalidating {c.table}."
    if cascade:
        msg += " Deleting a parent row will now delete child rows."
    return Verdict(ctx.scale(Level.MEDIUM, c.table), msg)


@rule("LK112", "drop-fk-parent-lock", on=Kind.DROP_FOREIGN_KEY, dialects=("postgresql",), playbook=None,
      summary="Dropping a foreign key locks the referenced parent table too.",
      help="Run it with a short lock_timeout and retries; the parent is often a hot table.",
      squawk=("ban-drop-constraint",))
def drop_fk_parent_lock(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `DROP CONSTRAINT <fk>` takes ACCESS EXCLUSIVE on the child **and** on the referenced
    parent table (its FK triggers live there): a busy parent such as `users` is blocked.

    ## Instead
    R1: `SET lock_timeout`, retry on timeout, keep the transaction short.
    """
    return Verdict(Level.LOW, f"Dropping {c.name or '(unnamed)'} takes ACCESS EXCLUSIVE on {c.table} and on "
                              f"{c.detail.get('references')} (the parent), briefly.")


def _plain(i: Index) -> bool:
    """A btree index over plain columns, no predicate: one that a longer one can stand in for."""
    return i.method == "btree" and i.where is None and all(p.column is not None for p in i.parts)


def _covers(longer: tuple[IndexPart, ...], shorter: tuple[IndexPart, ...]) -> bool:
    return len(shorter) <= len(longer) and longer[:len(shorter)] == shorter


def redundant_with(c: Change, ctx: Context) -> str | None:
    """Why the index a change adds is redundant in NEW, or None."""
    t = ctx.new.table(c.table) if c.table else None
    idx: Index | None = c.new
    if t is None or idx is None or not _plain(idx) or idx.include:
        return None
    pk = t.primary_key
    if idx.unique:
        if pk is None or not set(pk.columns) <= set(idx.columns):
            return None
        referenced = any(ctx.new.key(f.ref_schema, f.ref_table) == c.table and set(f.ref_columns) == set(idx.columns)
                         for x in ctx.new.tables for f in x.foreign_keys)
        if referenced:
            return None  # a foreign key references exactly these columns: it needs this unique key
        return (f"it contains the whole primary key ({', '.join(pk.columns)}), which is unique already; "
                "the index only slows writes and takes space")
    if pk is not None and list(idx.columns) == list(pk.columns[:len(idx.parts)]) and \
            all(not p.descending and p.opclass is None and p.collation is None and p.length is None
                for p in idx.parts):
        return f"the primary key ({', '.join(pk.columns)}) already serves lookups on ({', '.join(idx.columns)})"
    for other in sorted(t.indexes, key=lambda i: (i.name or "")):
        if other is idx or other.name == idx.name or not _plain(other) or not _covers(other.parts, idx.parts):
            continue
        if len(other.parts) == len(idx.parts) and not other.unique:
            # two equal plain indexes: flag the later name only when both are new
            both_new = any(x.kind == Kind.ADD_INDEX and x.table == c.table and x.name == other.name
                           for x in ctx.diff.changes)
            if both_new and (other.name or "") > (idx.name or ""):
                continue
            return f"index {other.name} has the same key"
        what = "unique key" if other.unique else "index"
        return f"{what} {other.name} ({', '.join(p.label for p in other.parts)}) starts with the same columns"
    return None


@rule("LK114", "redundant-index", on=(Kind.ADD_INDEX, Kind.ADD_UNIQUE), playbook="redundant-index",
      summary="A new index duplicates what another index, a unique key or the primary key already provides.",
      help="Drop the redundant index from the schema: the longer index (or the primary key) serves the same "
           "lookups.")
def redundant_index(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Every index is written on every INSERT and on each UPDATE of its columns, takes disk and
    cache, and is built under a lock. A plain index whose columns are the same as, or a
    prefix of, another btree index (or of a unique key or the primary key) adds that cost
    without serving any query the other cannot. A unique key that contains the whole
    primary key enforces nothing new (Prisma: `@id @unique` on one field).

    ## Instead
    Leave it out of the schema. Keep a unique key that a foreign key references (planner
    does not flag it).
    """
    why = redundant_with(c, ctx)
    if why is None:
        return None
    kind = "UNIQUE" if c.new.unique else "Index"
    return Verdict(Level.LOW, f"{kind} {c.name or '(unnamed)'} on {c.table} ({', '.join(p.label for p in c.new.parts)}) is "
                              f"redundant: {why}.")
