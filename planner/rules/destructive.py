"""DS: changes that destroy data."""

from __future__ import annotations

from planner.changes import Change, Kind
from planner.rules.facts import lossy
from planner.rules.registry import Context, Level, Verdict, covered_text, evidence, rule


def _loss_evidence(c: Change, ctx: Context, what: str) -> Verdict | None:
    """With pre-flight results: rows that would be lost make it critical, none make it low."""
    results = ctx.results(c, "data_loss")
    if not results:
        return None
    lost = sum(r.count for r in results)
    unit = "values" if c.column else "rows"
    handled = covered_text(results)
    if handled:
        return Verdict(Level.HIGH, f"{what}: {lost:,} {unit} are {handled} "
                                   f"(pre-flight {results[0].summary or 'data_loss'}).", evidence=evidence(results))
    if lost:
        return Verdict(Level.CRITICAL, f"{what}: {lost:,} {unit} will be lost "
                                       f"(pre-flight {results[0].summary or 'data_loss'}).",
                       evidence=evidence(results))
    return Verdict(Level.LOW, f"{what}: verified empty, nothing will be lost.", evidence=evidence(results))


@rule("DS101", "drop-table", on=Kind.DROP_TABLE, playbook="drop-table",
      summary="Dropping a table destroys its rows.",
      help="Rename the table aside (or back it up) in the contract phase, after the code no longer "
           "uses it; drop it in a later cleanup release.",
      squawk=("ban-drop-table",))
def drop_table(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    `DROP TABLE` deletes every row; no downgrade can bring them back unless they were copied
    first. On PostgreSQL it takes ACCESS EXCLUSIVE on the table and on every table its foreign
    keys reference (a table without foreign keys, as with Prisma's `relationMode = "prisma"`,
    locks only itself). Code that still reads the table fails at once.

    ## Instead
    Contract phase only: deploy code that no longer uses the table, back it up (or
    `ALTER TABLE ... RENAME TO` a `_dropped` name), drop it in a later release.
    """
    evidence = _loss_evidence(c, ctx, f"table {c.table} is dropped")
    if evidence:
        return evidence
    parents = sorted({ctx.old.key(f.ref_schema, f.ref_table) for f in c.old.foreign_keys}) \
        if c.old is not None else []
    parents = [p for p in parents if p != c.table]
    if ctx.dialect == "postgresql":
        lock = " Takes ACCESS EXCLUSIVE on it" + (
            f" and on the tables its foreign keys reference ({', '.join(parents)})." if parents else ".")
    else:
        lock = {"mysql": " Takes an exclusive metadata lock.", "sqlite": ""}[ctx.dialect]
    return Verdict(Level.HIGH, f"Dropping table {c.table} deletes all of its rows{ctx.size_note(c.table)}; "
                               f"code still using it fails.{lock}")


@rule("DS102", "drop-column", on=Kind.DROP_COLUMN, playbook="drop-column",
      summary="Dropping a column destroys the values it holds.",
      help="Stop reading and writing the column first, back its values up keyed by primary key, "
           "then drop it in the contract phase.",
      squawk=("ban-drop-column",))
def drop_column(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The values are gone for good, and an application version that still selects or inserts
    the column fails (ORMs list columns explicitly). PostgreSQL only marks the column dropped
    (ACCESS EXCLUSIVE, brief, no rewrite); MySQL 8.0.29+/MariaDB 10.4+ drop instantly; SQLite
    rebuilds the table when the column is indexed or constrained. When another table gains
    a column of the same name and type, the column may have moved: the finding says to copy
    the data before the drop.

    ## Instead
    Expand/contract: deploy code that ignores the column, back up `(pk, column)`, drop it.
    If it was a rename, confirm it with `--rename table.old=new` to keep the data.
    """
    evidence = _loss_evidence(c, ctx, f"column {c.table}.{c.column} is dropped")
    if evidence:
        return evidence
    hint, help_ = "", None
    if any(s.kind == Kind.RENAME_COLUMN and s.table == c.table and s.old == c.column
           for s in ctx.diff.suggestions):
        hint = " It may be a rename: see the suggestion."
    moved = moved_to(c, ctx)
    if moved:
        hint += (f" {' and '.join(moved)} {'gains' if len(moved) == 1 else 'gain'} a column {c.column} of the "
                 "same type: if it moved there, copy the data before the drop.")
        how = "an UPDATE ... JOIN on the relation" if ctx.dialect == "mysql" else \
            "an UPDATE ... FROM joined on the relation"
        help_ = (f"If the column moved, copy its values into {' / '.join(moved)} ({how}) in the backfill "
                 "phase, verify, then drop it here.")
    return Verdict(Level.HIGH, f"Dropping column {c.table}.{c.column} deletes the values it holds"
                               f"{ctx.size_note(c.table)}; code that still reads or writes it fails.{hint}",
                   help=help_)


def moved_to(c: Change, ctx: Context) -> list[str]:
    """Other tables that gain a column with the dropped column's name and type: it may have moved."""
    if c.old is None:
        return []
    return sorted({x.table for x in ctx.diff.changes
                   if x.kind == Kind.ADD_COLUMN and x.table and x.table != c.table and x.column == c.column
                   and x.new is not None and x.new.type == c.old.type})


@rule("DS103", "lossy-type-change", on=Kind.ALTER_COLUMN_TYPE, playbook="change-column-type",
      summary="A narrowing or lossy type change truncates, rounds or rejects existing values.",
      help="Check the values first (planner check), convert in a new column with an explicit "
           "rule for values that do not fit, back up the old column, then swap.")
def lossy_type_change(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    Converting to a smaller or less precise type either fails on the first value that does
    not fit (PostgreSQL, strict MySQL) or silently rounds/truncates it (numeric scale,
    float -> integer, timestamp precision), and the old values cannot be recovered.
    With `--db`, values that do not fit (critical) and values that would only be rounded
    (high: the cut digits are lost) are counted apart.

    ## Instead
    Pre-flight the values (`planner check`), add the new column beside the old one, backfill
    with an explicit conversion, keep a backup of the old values for the downgrade, swap.
    """
    why = lossy(c.detail.get("from", ""), c.detail.get("to", ""))
    if why is None:
        return None
    results = ctx.results(c, "overflow")
    if results:
        # values that do not fit (blocking checks) and values that would only be rounded
        # (informative checks) are counted apart: a rounded value is not an overflow
        fits = [r for r in results if r.blocking]
        rounds = [r for r in results if not r.blocking]
        bad, rounded = sum(r.count for r in fits), sum(r.count for r in rounds)
        ev = evidence(fits or results, rounded=rounded) if rounds else evidence(results)
        head = f"{c.table}.{c.column} {c.detail['from']} -> {c.detail['to']}"
        also = f"; {rounded:,} more would be rounded" if rounded else ""
        if bad:
            return Verdict(Level.CRITICAL, f"{head}: {bad:,} values do not fit ({why}){also}.", evidence=ev)
        if rounded:
            return Verdict(Level.HIGH, f"{head}: every current value fits, but {rounded:,} would be rounded "
                                       "(the digits cut are lost).", evidence=ev)
        return Verdict(Level.LOW, f"{head}: every current value fits (verified).", evidence=ev)
    return Verdict(Level.HIGH, f"{c.table}.{c.column} {c.detail['from']} -> {c.detail['to']} may lose data: "
                               f"{why}.")


@rule("DS104", "drop-enum", on=Kind.DROP_ENUM, summary="Dropping an enum type.",
      help="Drop the type only after no column uses it; code that casts to it breaks.")
def drop_enum(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    The type itself holds no rows, but queries and functions that cast to it break, and a
    downgrade must recreate it with the same values in the same order.

    ## Instead
    Drop it in the contract phase, after the columns that used it are gone or converted.
    """
    return Verdict(Level.LOW, f"Enum type {c.name} is dropped; code that casts to it breaks.")


@rule("DS105", "remove-enum-value", on=Kind.REMOVE_ENUM_VALUE, playbook="enum-remove-value",
      summary="Removing an enum value fails (or loses data) while rows use it.",
      help="Remap rows that hold the value to another value first (backing up which rows), "
           "then recreate the type without it.")
def remove_enum_value(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    PostgreSQL cannot drop an enum value: the type must be recreated and every column of it
    converted, which fails on the first row that still holds the value. On MySQL, rows
    holding it become '' (non-strict) or the ALTER fails (strict).

    ## Instead
    Backfill: `UPDATE ... SET col = 'other' WHERE col = 'value'` in batches, recording the
    rows changed so the downgrade can restore them; then recreate the type (R10).
    """
    value = c.detail.get("value")
    used = ", ".join(c.detail.get("used_by", [])) or c.object
    results = ctx.results(c, "enum_in_use")
    if results:
        n = sum(r.count for r in results)
        handled = covered_text(results)
        if handled:
            return Verdict(Level.MEDIUM, f"{n:,} rows hold {c.name}.{value!s} ({used}): "
                                         f"{handled}.", evidence=evidence(results))
        if n:
            return Verdict(Level.CRITICAL, f"{n:,} rows still hold {c.name}.{value!s} ({used}); removing "
                                           "it will fail or lose their value.", evidence=evidence(results))
        return Verdict(Level.MEDIUM, f"No row holds {c.name}.{value!s} (verified); the type is still "
                                     "recreated.", evidence=evidence(results))
    return Verdict(Level.HIGH, f"Removing {value!r} from {c.name} fails if any row of {used} still holds it.")


@rule("DS106", "drop-view", on=Kind.DROP_VIEW, playbook=None, summary="Dropping a view breaks its readers.",
      help="Drop views in the contract phase after no code or report reads them; keep the "
           "definition for the downgrade.")
def drop_view(c: Change, ctx: Context) -> Verdict | None:
    """## Why
    A view holds no data of its own (a materialized view holds a copy), but every query,
    report or function that reads it fails after the drop.

    ## Instead
    Contract phase, with the CREATE VIEW text kept for the downgrade.
    """
    kind = "Materialized view" if c.detail.get("materialized") else "View"
    return Verdict(Level.LOW, f"{kind} {c.name} is dropped; its readers break.")
