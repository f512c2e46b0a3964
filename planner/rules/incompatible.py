"""BC: changes that break the application version still running during the deploy."""

from __future__ import annotations

from planner.changes import Change, Kind
from planner.rules.registry import Context, Level, Verdict, rule


@rule("BC101", "rename-table", on=Kind.RENAME_TABLE, playbook="rename-table",
      summary="Renaming a table breaks code that still uses the old name.",
      help="Expand/contract: rename and leave an updatable view with the old name until all code is deployed.",
      squawk=("renaming-table",))
def rename_table(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The rename is instant (ACCESS EXCLUSIVE, brief), but every running instance of the old
    code queries the old name and fails from that moment until it is replaced.

    ## Instead
    R11: rename, then `CREATE VIEW old_name AS SELECT * FROM new_name` in the same short
    transaction; drop the view once no code uses the old name.
    """
    help_ = None
    if ctx.from_prisma:
        help_ = (f"To rename the model only in code, keep the table: `@@map(\"{c.detail.get('from')}\")` on the renamed "
                 "model (zero downtime, no migration); else planner renames and leaves a view under the old name.")
    return Verdict(Level.MEDIUM, f"Table {c.detail.get('from')} is renamed to {c.detail.get('to')}: "
                                 "code still using the old name fails during the deploy.", help=help_)


@rule("BC102", "rename-column", on=Kind.RENAME_COLUMN, playbook="rename-column",
      summary="Renaming a column breaks code that still uses the old name.",
      help="Expand/contract: add the new column, dual-write and backfill, switch reads, then drop the old one.",
      squawk=("renaming-column",))
def rename_column(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The rename keeps the data and is instant, but code that still selects or writes the old
    column name fails until every instance runs the new code.

    ## Instead
    R11: expand (new column + trigger or dual writes), backfill, switch reads, contract;
    planner's PostgreSQL plan does this by default (`renames_in_place = true` in config asks for
    the one-step RENAME, every writer switching at once). Or keep the database name and rename
    only in the ORM (Prisma: `newName Type @map("old_name")`).
    """
    help_ = None
    if ctx.from_prisma:
        help_ = (f"To rename the field only in code, keep the column: `@map(\"{c.detail.get('from')}\")` on the renamed "
                 "field (zero downtime, no migration); else planner's plan adds the new column kept in step by a "
                 "trigger, backfills it and drops the old one in contract.")
    return Verdict(Level.MEDIUM, f"Column {c.table}.{c.detail.get('from')} is renamed to {c.detail.get('to')}: "
                                 "code still using the old name fails during the deploy.", help=help_)


@rule("BC103", "rename-enum-value", on=Kind.RENAME_ENUM_VALUE, playbook="enum-rename-value",
      summary="Renaming an enum value breaks code that still writes the old value.",
      help="Add the new value, write both, remap rows in batches, then remove the old value.")
def rename_enum_value(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ALTER TYPE ... RENAME VALUE` is instant and keeps the rows, but running code that
    writes or compares the old label breaks immediately.

    ## Instead
    Add the new value (expand), deploy code that understands both, remap rows in batches
    (backfill), then remove the old value (contract): planner's PostgreSQL plan does this by
    default. Or keep the database value and rename only in the ORM (Prisma: `NEW @map("OLD")`
    in the enum).
    """
    help_ = None
    if ctx.from_prisma:
        help_ = (f"To rename the value only in code, keep the database value: `{c.detail.get('to')} "
                 f"@map(\"{c.detail.get('from')}\")` in the enum (zero downtime, no migration); else planner's plan adds "
                 "the new value, maps writes of the old one, remaps rows in batches and removes it in contract.")
    return Verdict(Level.MEDIUM, f"{c.name}.{c.detail.get('from')} becomes {c.detail.get('to')}: code writing "
                                 "the old value fails during the deploy.", help=help_)


@rule("BC104", "drop-not-null", on=Kind.DROP_NOT_NULL, playbook=None,
      summary="Dropping NOT NULL lets NULLs reach code that assumes there are none.",
      help="Make sure every reader handles NULL before deploying the change.",
      squawk=("ban-drop-not-null",))
def drop_not_null(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The change is metadata-only, but consumers (application code, reports, downstream
    pipelines) that assumed the column is never NULL may break on the first NULL.

    ## Instead
    Deploy readers that handle NULL first; the ALTER itself is cheap.
    """
    return Verdict(Level.LOW, f"{c.table}.{c.column} may now be NULL; readers that assume it is not may break.")


@rule("BC105", "add-enum-value", on=Kind.ADD_ENUM_VALUE, playbook="enum-add-value",
      summary="A new enum value cannot be used before it is committed, or by old code.",
      help="Add the value in its own transaction before deploying code that writes it; never use it in "
           "the same migration.",
      helps={"mysql": "Append new values at the end of the ENUM list (instant); deploy the migration before "
                      "code that writes the value.",
             "sqlite": "Deploy the migration before code that writes the value."},
      squawk=("require-enum-value-ordering",))
def add_enum_value(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    PostgreSQL: `ALTER TYPE ... ADD VALUE` cannot run in a transaction block before PG 12,
    and from PG 12 the value cannot be used until that transaction commits (`unsafe use of
    new value`). PostgreSQL cannot drop a value: the downgrade removes it by recreating the
    type and converting every column of it, a full rewrite of those tables under ACCESS
    EXCLUSIVE (and it fails if rows hold the value by then).
    MySQL: appending is instant, inserting in the middle copies the table.

    ## Instead
    R9: add it in its own transaction (Alembic `autocommit_block`), deploy the migration before
    code that writes the value.
    """
    if ctx.dialect == "mysql" and not c.detail.get("appended"):
        return Verdict(ctx.scale(Level.MEDIUM, c.table), f"{c.detail.get('value')!r} is inserted in the middle "
                       f"of {c.name}: MySQL copies the table (ALGORITHM=COPY){ctx.size_note(c.table)}.")
    where = "" if c.detail.get("appended") else " (not at the end: PostgreSQL needs ADD VALUE ... BEFORE)"
    if ctx.dialect == "postgresql":
        down = ("; the downgrade removes it by recreating the type, a full rewrite of every column of it "
                "(and it fails if rows hold the value by then)")
    elif ctx.dialect == "mysql":
        down = "; the downgrade redefines the ENUM, copying the table"
    else:
        down = ""
    return Verdict(Level.LOW, f"Enum value {c.name}.{c.detail.get('value')} is added{where}; deploy it before "
                              f"code that writes it{down}.")


@rule("BC106", "drop-default-required", on=Kind.ALTER_DEFAULT, playbook=None,
      summary="Removing the default of a NOT NULL column makes inserts that omit it fail.",
      help="Deploy code that always sets the column before removing the default.")
def drop_default_required(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Old code that inserts rows without the column relied on the default; once it is gone,
    its inserts fail with a NOT NULL violation.

    ## Instead
    Deploy code that writes the column explicitly first, then drop the default.
    """
    if c.detail.get("to") is not None or c.new is None or c.new.nullable or c.old is None:
        return None
    if c.detail.get("from") == c.detail.get("to"):
        return None  # only ON UPDATE or the generated expression changed
    if c.old.autoincrement and c.new.autoincrement is None:
        return Verdict(Level.MEDIUM, f"{c.table}.{c.column} is no longer generated by the database; inserts "
                                     "that omit it fail.")
    return Verdict(Level.MEDIUM, f"{c.table}.{c.column} is NOT NULL and loses its default; inserts that omit it "
                                 "fail.")


@rule("BC107", "drop-check", on=Kind.DROP_CHECK, playbook=None,
      summary="Dropping a CHECK lets rows the old rules rejected in, and a downgrade may not re-add it.",
      help="Make sure no code relies on the check; a downgrade must first clean rows that violate it.",
      squawk=("ban-drop-constraint",))
def drop_check(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The drop is cheap (ACCESS EXCLUSIVE, brief), but from then on rows that violate the old
    rule can be written; re-adding the constraint on downgrade fails once such rows exist.

    ## Instead
    Drop it in the contract phase; keep the expression for the downgrade, which adds it back
    `NOT VALID` and validates after cleaning.
    """
    return Verdict(Level.LOW, f"CHECK {c.name or '(unnamed)'} ({c.old.expression}) on {c.table} is dropped; rows it rejected "
                              "can now be written.")


@rule("BC108", "rename-enum", on=Kind.RENAME_ENUM, dialects=("postgresql",), playbook="rename-enum",
      summary="Renaming an enum type breaks code that casts to it by name, such as Prisma Client.",
      help="Keep the database name (Prisma: @@map(\"OldName\") on the renamed enum), or deploy the code that "
           "uses the new name together with the rename and accept the failures in between.")
def rename_enum(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `ALTER TYPE ... RENAME TO` is instant and keeps every row, but running code that names
    the type fails from that moment: Prisma Client casts each enum parameter to the type by
    name (`CAST($1::text AS "Role")`), so the version still running fails on every filter or
    write of that enum until the new version replaces it. Function bodies and raw SQL
    naming the type break too (columns and views hold its OID and follow the rename).

    ## Instead
    Rename only in the ORM and keep the database name (Prisma `@@map("OldName")`), or make
    the rename part of a deploy where no old instance runs (a short maintenance window).
    """
    old, new = c.detail.get("from"), c.detail.get("to")
    used = sorted(f"{ctx.old.key(t.schema, t.name)}.{col.name}" for t in ctx.old.tables for col in t.columns
                  if col.enum == old)
    where = f" (used by {', '.join(used)})" if used else ""
    return Verdict(Level.MEDIUM, f"Enum type {old} is renamed to {new}{where}: code that casts to it by name, "
                                 f"such as Prisma Client's CAST($1::text AS \"{old}\"), fails on every filter or "
                                 "write of it until the new version runs.")


@rule("BC109", "on-update-timestamp", on=(Kind.ALTER_DEFAULT, Kind.ADD_COLUMN), dialects=("mysql",),
      playbook=None,
      summary="Adding or removing ON UPDATE CURRENT_TIMESTAMP changes what every UPDATE writes.",
      help="Removing it: deploy code that sets the column on every update first (Prisma: @updatedAt). "
           "Adding it: updates that must keep the value (data fixes, batch jobs) assign the column "
           "its own value (SET col = col).")
def on_update_timestamp(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    MySQL/MariaDB's `ON UPDATE CURRENT_TIMESTAMP` makes the server write the current time into
    the column whenever an UPDATE changes any other column of the row, unless the statement
    assigns the column itself. Removing it is instant and silent: from then on rows keep their
    old time on update, so an `updatedAt` the code never sets goes stale (Prisma's `@updatedAt`
    is set by Prisma Client, so a Prisma project is fine). Adding it changes the column on
    every later update, including data fixes and batch jobs that meant to keep it. New tables
    are not flagged; a column added to an existing table is (its rows take the time of their
    next update).

    ## Instead
    Before removing it, deploy code that sets the column on every update. After adding it,
    let updates that must keep the value assign the column its own value (`SET col = col`).
    """
    if c.kind == Kind.ADD_COLUMN:
        if c.new is None or c.new.on_update is None:
            return None
        return Verdict(Level.LOW, f"{c.table}.{c.column} is added with ON UPDATE {c.new.on_update}: every later "
                                  "UPDATE of a row writes the current time into it unless the statement sets it.")
    before, after = c.detail.get("on_update") or (None, None)
    if before == after:
        return None
    if after is None:
        return Verdict(Level.LOW, f"{c.table}.{c.column} loses ON UPDATE {before}: rows updated from now on keep "
                                  "their old value unless the code sets it; deploy code that sets it on every "
                                  "update first.")
    return Verdict(Level.LOW, f"{c.table}.{c.column} gets ON UPDATE {after}: every UPDATE of a row from now on "
                              "overwrites it with the current time unless the statement sets it (SET "
                              f"{c.column} = {c.column} keeps it).")
