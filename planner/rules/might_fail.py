"""MF: changes that may fail on the data already in the table."""

from __future__ import annotations

import re

from planner.changes import Change, Kind
from planner.model import Column
from planner.rules.facts import may_fail_cast, split_type
from planner.rules.registry import Context, Level, Verdict, covered_text, evidence, rule


def _new_columns(ctx: Context, table: str | None) -> set[str]:
    return {c.column for c in ctx.diff.changes if c.kind == Kind.ADD_COLUMN and c.table == table and c.column}


def _evidence(c: Change, ctx: Context, kind: str, fail: str, clean: str) -> Verdict | None:
    """Pre-flight results turn "may fail" into "will fail" (critical) or "verified clean" (low)."""
    results = ctx.results(c, kind)
    if not results:
        return None
    n = sum(r.count for r in results)
    handled = covered_text(results)
    if handled:
        # the plan deals with those rows (a configured backfill): no failure
        return Verdict(Level.LOW, fail.format(n=f"{n:,}").replace(" will fail", "").rstrip(".") + f" ({handled}).",
                       evidence=evidence(results))
    if n:
        detail = "; ".join(r.summary for r in results if r.summary)
        return Verdict(Level.CRITICAL, fail.format(n=f"{n:,}") + (f" ({detail})" if detail else ""),
                       evidence=evidence(results))
    return Verdict(Level.LOW, clean, evidence=evidence(results))


def contains_primary_key(c: Change, ctx: Context) -> bool:
    """The new unique key holds every column of the table's primary key, which is there
    before and after: its rows are unique already, no duplicates are possible."""
    old_t, new_t = ctx.old_table(c.table), ctx.new.table(c.table) if c.table else None
    if old_t is None or new_t is None or old_t.primary_key is None or new_t.primary_key is None:
        return False
    if old_t.primary_key.columns != new_t.primary_key.columns:
        return False
    cols = {p.column for p in c.new.parts if p.column is not None and not p.length}
    return set(old_t.primary_key.columns) <= cols


@rule("MF101", "add-unique", on=Kind.ADD_UNIQUE, playbook="add-unique",
      summary="A new UNIQUE index or constraint fails if the table already has duplicates.",
      help="Find and resolve duplicates first (planner check), then build the unique index concurrently.",
      helps={"mysql": "Find and resolve duplicates first (planner check), then add the unique index with "
                      "ALGORITHM=INPLACE, LOCK=NONE.",
             "sqlite": "Find and resolve duplicates first (planner check), then CREATE UNIQUE INDEX."})
def add_unique(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Building a unique index over existing rows fails on the first duplicate key (NULLs are
    distinct unless NULLS NOT DISTINCT), after scanning the whole table under its lock.
    A key that holds every column of an unchanged primary key cannot meet duplicates and is
    not flagged here (LK114 says such an index is redundant).

    ## Instead
    Run the duplicates pre-flight, merge or delete the duplicates (backed up), then
    `CREATE UNIQUE INDEX CONCURRENTLY` and, for a constraint, `ADD CONSTRAINT ... USING INDEX`.
    """
    cols = ", ".join(c.detail.get("columns", []))
    if set(c.new.columns) and set(c.new.columns) <= _new_columns(ctx, c.table) and c.new.columns:
        return None  # only brand-new (all NULL) columns: no duplicates possible
    if contains_primary_key(c, ctx):
        return None  # the primary key is unique already (LK114 says the index is redundant)
    ev = _evidence(c, ctx, "duplicates", f"UNIQUE ({cols}) on {c.table} will fail: {{n}} duplicate groups.",
                   f"UNIQUE ({cols}) on {c.table}: no duplicates (verified).")
    return ev or Verdict(Level.MEDIUM, f"UNIQUE ({cols}) on {c.table} fails if existing rows have duplicate "
                                       "values.")


@rule("MF102", "add-primary-key", on=Kind.ADD_PRIMARY_KEY, playbook="add-primary-key",
      summary="A new primary key fails on duplicate or NULL key values.",
      help="Check for NULLs and duplicates, make the columns NOT NULL via a validated CHECK, build a "
           "unique index concurrently, then ADD PRIMARY KEY USING INDEX.",
      helps={"mysql": "Check for NULLs and duplicates first (planner check), then add the primary key with "
                      "ALGORITHM=INPLACE, LOCK=NONE (an online schema change tool for big tables).",
             "sqlite": "Check for NULLs and duplicates first (planner check); SQLite rebuilds the table for a "
                       "new primary key (Alembic batch mode)."})
def add_primary_key(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The key columns must be unique and NOT NULL; existing duplicates or NULLs make it fail,
    and PostgreSQL builds the index and scans for NULLs under ACCESS EXCLUSIVE.

    ## Instead
    R13: NOT NULL via `CHECK ... NOT VALID` + `VALIDATE`, `CREATE UNIQUE INDEX CONCURRENTLY`,
    then `ADD CONSTRAINT ... PRIMARY KEY USING INDEX`.
    """
    cols = ", ".join(c.new.columns)
    nulls = _evidence(c, ctx, "nulls", f"PRIMARY KEY ({cols}) on {c.table} will fail: {{n}} rows have a NULL key.",
                      "")
    if nulls is not None and nulls.level == Level.CRITICAL:
        return nulls
    ev = _evidence(c, ctx, "duplicates", f"PRIMARY KEY ({cols}) on {c.table} will fail: {{n}} duplicate groups.",
                   f"PRIMARY KEY ({cols}) on {c.table}: no duplicates (verified).")
    return ev or Verdict(Level.MEDIUM, f"PRIMARY KEY ({cols}) on {c.table} fails if rows have duplicate or "
                                       "NULL key values.")


@rule("MF103", "add-foreign-key", on=Kind.ADD_FOREIGN_KEY, playbook="add-foreign-key",
      summary="A new foreign key fails if existing rows reference missing parents (orphans).",
      help="Find orphans first (planner check), add the constraint NOT VALID, then VALIDATE it.",
      helps={"mysql": "Find and fix orphans first (planner check): MySQL/MariaDB have no NOT VALID. With "
                      "foreign_key_checks=0 the ALTER is in place but checks nothing; with 1 it copies the table.",
             "sqlite": "Find and fix orphans first (planner check); SQLite adds a foreign key by rebuilding "
                       "the table: run PRAGMA foreign_key_check afterwards."})
def add_foreign_key(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Adding a foreign key checks every existing row; one orphan (a child key with no parent)
    makes the statement fail after the scan.

    ## Instead
    Pre-flight the orphans and fix or delete them (backed up); `ADD CONSTRAINT ... NOT VALID`
    then `VALIDATE CONSTRAINT` in a later transaction (R6).
    """
    if set(c.new.columns) <= _new_columns(ctx, c.table):
        return None  # the referencing columns are new: every value is NULL, nothing to check
    ref = c.detail.get("references")
    ev = _evidence(c, ctx, "orphans", f"FOREIGN KEY {c.name or '(unnamed)'} will fail: {{n}} rows of {c.table} reference "
                                      f"missing {ref} rows.",
                   f"FOREIGN KEY {c.name or '(unnamed)'}: no orphans (verified).")
    return ev or Verdict(Level.MEDIUM, f"FOREIGN KEY {c.name or '(unnamed)'} ({', '.join(c.new.columns)}) -> {ref} fails if "
                                       f"rows of {c.table} reference missing {ref} rows.")


@rule("MF104", "set-not-null", on=Kind.SET_NOT_NULL, playbook="set-not-null",
      summary="SET NOT NULL fails if the column holds NULLs.",
      help="Backfill NULLs in batches, then add a NOT VALID CHECK, VALIDATE it, and SET NOT NULL.",
      helps={"mysql": "Backfill NULLs in batches first; MODIFY ... NOT NULL rebuilds the table: ask for "
                      "ALGORITHM=INPLACE, LOCK=NONE (an online schema change tool for big tables).",
             "sqlite": "Backfill NULLs in batches first; SQLite rebuilds the table for SET NOT NULL "
                       "(Alembic batch mode)."},
      squawk=("adding-not-nullable-field",))
def set_not_null(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Existing NULLs make `SET NOT NULL` fail after a full scan; old application code that
    inserts without the column starts failing.

    ## Instead
    Backfill, then R3: `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, `SET NOT NULL`
    (no scan on PostgreSQL 12+), drop the check.
    """
    ev = _evidence(c, ctx, "nulls", f"{c.table}.{c.column} SET NOT NULL will fail: {{n}} rows are NULL.",
                   f"{c.table}.{c.column}: no NULLs (verified).")
    return ev or Verdict(Level.MEDIUM, f"{c.table}.{c.column} SET NOT NULL fails if any row is NULL.")


@rule("MF105", "add-required-column", on=Kind.ADD_COLUMN, playbook="add-not-null-column",
      summary="A NOT NULL column without a default fails on a non-empty table (MySQL fills in 0/'').",
      help="Add it nullable (or with a constant default), backfill in batches, then set NOT NULL.",
      squawk=("adding-required-field",))
def add_required_column(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Existing rows have no value for the new column. PostgreSQL and SQLite refuse the ALTER on
    a non-empty table; MySQL/MariaDB succeed by silently storing the type's implicit default
    (0, '', '0000-00-00'), a semantic trap. Old application code that inserts without the
    column fails everywhere.

    ## Instead
    R2: add the column nullable (or with a constant default, metadata-only on PostgreSQL 11+),
    backfill in batches, then SET NOT NULL via a validated CHECK.
    """
    col = c.new
    if col.nullable or col.default is not None or col.autoincrement or col.generated:
        return None
    ev = _evidence(c, ctx, "nulls", f"NOT NULL column {c.table}.{c.column} without a default will fail: "
                                    f"{{n}} existing rows would be NULL.",
                   f"{c.table} is empty (verified): NOT NULL column {c.column} without a default is fine now, "
                   "but old code inserting rows will fail.")
    if ev is not None and ctx.dialect != "mysql":
        return ev
    n = ctx.row_count(c.table)
    if n == 0:
        return Verdict(Level.LOW, f"{c.table} is empty: NOT NULL column {c.column} without a default is fine now, "
                                  "but old code inserting rows will fail.")
    if ctx.dialect == "mysql":
        return Verdict(Level.HIGH, f"NOT NULL column {c.table}.{c.column} has no default: MySQL fills existing "
                                   f"rows with the implicit default of {col.type}{ctx.size_note(c.table)}, and "
                                   "inserts from old code fail.")
    return Verdict(Level.HIGH, f"NOT NULL column {c.table}.{c.column} has no default: the ALTER fails if "
                               f"{c.table} has rows{ctx.size_note(c.table)}, and inserts from old code fail.")


@rule("MF106", "add-check", on=Kind.ADD_CHECK, playbook="add-check",
      summary="A new CHECK constraint fails if existing rows violate it.",
      help="Find violating rows first (planner check), add the constraint NOT VALID, then VALIDATE it.",
      helps={"mysql": "Find and fix violating rows first (planner check): MySQL/MariaDB have no NOT VALID, "
                      "the ALTER checks every row while it copies the table (an online schema change tool for "
                      "big tables).",
             "sqlite": "Find and fix violating rows first (planner check); SQLite adds a CHECK by rebuilding "
                       "the table (Alembic batch mode)."})
def add_check(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Adding a CHECK evaluates it on every row; one violation fails the statement after the
    scan (rows where the expression is NULL pass).

    ## Instead
    Pre-flight the violators and fix them; `ADD CONSTRAINT ... CHECK (...) NOT VALID`, then
    `VALIDATE CONSTRAINT` in a later transaction.
    """
    ev = _evidence(c, ctx, "check_violation", f"CHECK {c.name or '(unnamed)'} on {c.table} will fail: {{n}} rows violate it.",
                   f"CHECK {c.name or '(unnamed)'}: no violating rows (verified).")
    return ev or Verdict(Level.MEDIUM, f"CHECK {c.name or '(unnamed)'} ({c.new.expression}) on {c.table} fails if existing "
                                       "rows violate it.")


@rule("MF107", "unsafe-cast", on=Kind.ALTER_COLUMN_TYPE, playbook="change-column-type",
      summary="A type change whose cast fails on values that do not convert.",
      help="Find unconvertible values first (planner check); convert in a new column with an explicit "
           "USING rule (config: tool.planner.convert).")
def unsafe_cast(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Converting text to a number, UUID, JSON, date or enum fails on the first value that does
    not parse, after rewriting part of the table under ACCESS EXCLUSIVE. A column moved to
    another enum type that holds every value of the old one always converts: not flagged.

    ## Instead
    Pre-flight the unconvertible values, clean them, then convert through a new column
    (R8) so the old values stay available for the downgrade.
    """
    old, new = c.detail.get("from", ""), c.detail.get("to", "")
    why = may_fail_cast(old, new)
    if why is None and c.new is not None and c.new.enum and c.old is not None and c.old.enum != c.new.enum:
        old_enum, new_enum = ctx.old.enum(c.old.enum or ""), ctx.new.enum(c.new.enum)
        if old_enum is not None and new_enum is not None and set(old_enum.values) <= set(new_enum.values):
            return None  # every value of the old enum exists in the new one: each one converts
        why = f"values not in enum {c.new.enum} cannot be cast"
    if why is None:
        return None
    ev = _evidence(c, ctx, "cast", f"{c.table}.{c.column} {old} -> {new} will fail: {{n}} values do not convert.",
                   f"{c.table}.{c.column} {old} -> {new}: every value converts (verified).")
    return ev or Verdict(Level.MEDIUM, f"{c.table}.{c.column} {old} -> {new} may fail: {why}.")


_TIME_DEFAULT = re.compile(
    r"\b(current_timestamp|current_date|current_time|localtimestamp|localtime|now|clock_timestamp|"
    r"transaction_timestamp|statement_timestamp|utc_timestamp|curdate|curtime|sysdate|getdate)\b"
    r"|datetime\s*\(\s*'now'|date\s*\(\s*'now'", re.IGNORECASE)


def time_default(col: Column) -> bool:
    """The default is the current date/time (now(), CURRENT_TIMESTAMP, clock_timestamp() ...)."""
    return bool(col.default) and bool(_TIME_DEFAULT.search(col.default or ""))


@rule("MF108", "time-default-on-existing-rows", on=Kind.ADD_COLUMN, playbook="add-column-volatile-default",
      summary="A new column defaulting to the current time gives every existing row the migration's time.",
      help="Add the column without the default, SET DEFAULT for new rows, and backfill existing rows with "
           "their real value (or leave them NULL).")
def time_default_on_existing_rows(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ADD COLUMN seen_at timestamp DEFAULT now()` (Prisma `@default(now())`) fills every row
    already in the table with the time the migration ran, not with when the row was created
    or last seen: the value looks real and is wrong, and nothing tells old rows from new ones
    afterwards. It is rarely what the column means for existing rows.

    ## Instead
    Add the column nullable without the default, `SET DEFAULT now()` in the same migration
    (new rows only), then backfill existing rows from a real source (created_at, an audit
    table) or leave them NULL.
    """
    col = c.new
    if col is None or not time_default(col):
        return None
    return Verdict(Level.LOW, f"{c.table}.{c.column} defaults to {col.default}: every existing row of {c.table} "
                              f"gets the migration's time, not a real value{ctx.size_note(c.table)}.")


def comparison_keys(c: Change, ctx: Context) -> tuple[str, list[str]] | None:
    """(the new comparison, the unique keys on the column) when a type change to citext or a
    collation change alters what equal means for a UNIQUE key or primary key; else None."""
    if ctx.dialect != "postgresql" or c.old is None or c.new is None or not c.table:
        return None
    to_citext = split_type(c.new.type)[0] == "citext" and split_type(c.old.type)[0] != "citext"
    collation = c.new.collation if (c.new.collation or None) != (c.old.collation or None) else None
    table = ctx.new.table(c.table)
    if not (to_citext or collation) or table is None:
        return None
    keys = [i.name or "unique index" for i in table.indexes if i.unique and c.column in i.columns]
    if table.primary_key is not None and c.column in table.primary_key.columns:
        keys.append(table.primary_key.name or "primary key")
    if not keys:
        return None
    return ("citext's case-insensitive comparison" if to_citext else f'collation "{collation}"'), keys


@rule("MF109", "unique-under-new-comparison", on=Kind.ALTER_COLUMN_TYPE, playbook="change-column-type",
      dialects=("postgresql",),
      summary="A type or collation change alters what equal means for a UNIQUE key on the column.",
      help="Find the values that become equal first (planner check groups them under the new comparison), "
           "merge or rename them, then convert.")
def unique_under_new_comparison(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `text` -> `citext` makes `A@x.io` and `a@x.io` equal; a non-deterministic collation can make
    other values equal. The ALTER rebuilds every UNIQUE index on the column and fails on the
    first pair of rows that now collide, after holding ACCESS EXCLUSIVE for the rebuild.

    ## Instead
    Count and sample the duplicate groups under the new comparison (`lower()` for citext, the
    new collation otherwise: planner check does), resolve them, then convert; planner's plan
    guards the conversion with the same query and stops before any DDL.
    """
    found = comparison_keys(c, ctx)
    if found is None:
        return None
    semantics, keys = found
    ev = _evidence(c, ctx, "duplicates", f"{c.table}.{c.column} under {semantics} will fail: {{n}} duplicate "
                                         f"groups for {', '.join(keys)}.",
                   f"{c.table}.{c.column} under {semantics}: no duplicates for {', '.join(keys)} (verified).")
    return ev or Verdict(Level.MEDIUM, f"{c.table}.{c.column} {c.old.type} -> {c.new.type}: {', '.join(keys)} "
                                       f"fails if values differ only under {semantics}.")
