"""Terminal output with rich: the diff grouped by table, and the schema as a tree."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text
from rich.tree import Tree

from planner.changes import Change, Diff
from planner.model import Schema
from planner.render import LEVELS, column_sql, describe, fk_sql, grouped, index_sql

LEVEL_STYLE = {"safe": "green", "low": "cyan", "medium": "yellow", "high": "bold red",
               "critical": "bold white on red"}


def summary_line(diff: Diff, levels: dict[str, str]) -> Text:
    counts: dict[str, int] = {}
    for c in diff.changes:
        lv = levels.get(c.id, "safe")
        counts[lv] = counts.get(lv, 0) + 1
    n = len(diff.changes)
    text = Text(f"{n} change{'s' if n != 1 else ''}")
    if counts:
        text.append(" (")
        for i, lv in enumerate(sorted(counts, key=LEVELS.index, reverse=True)):
            if i:
                text.append(", ")
            text.append(f"{counts[lv]} {lv}", style=LEVEL_STYLE[lv])
        text.append(")")
        top = max(counts, key=LEVELS.index)
        text.append(" · max level ")
        text.append(top, style=LEVEL_STYLE[top])
    if diff.suggestions:
        text.append(f" · {len(diff.suggestions)} possible rename{'s' if len(diff.suggestions) != 1 else ''}")
    return text


def _row(table: RichTable, c: Change, levels: dict[str, str]) -> None:
    lv = levels.get(c.id, "safe")
    obj = c.column or c.name or ""
    if c.detail.get("value") and c.kind.value.endswith("enum_value"):
        obj = f"{c.name}.{c.detail['value']}"
    table.add_row(Text(lv, style=LEVEL_STYLE[lv]), c.kind.value, obj, describe(c))


def diff_view(diff: Diff, *, levels: dict[str, str] | None = None) -> RenderableType:
    """One line per change, grouped under its table; then the suggestions and a summary."""
    levels = levels or {}
    parts: list[RenderableType] = []
    if diff.changes:
        table = RichTable(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
        table.add_column("level")
        table.add_column("change")
        table.add_column("object", overflow="fold")
        table.add_column("details", overflow="fold")
        for n, (group, changes) in enumerate(grouped(diff.changes)):
            if n:
                table.add_row()
            table.add_row("", Text(group, style="bold underline"), "", "")
            for c in changes:
                _row(table, c, levels)
        parts.append(table)
    else:
        parts.append(Text("No changes: the schemas are equivalent.", style="green"))
    if diff.suggestions:
        parts.append(Text(""))
        parts.append(Text("Possible renames (not applied; confirm with the hint to keep the data):",
                          style="bold"))
        for s in diff.suggestions:
            line = Text(f"  {s.kind.value} ")
            line.append(f"{s.old} -> {s.new}", style="bold")
            line.append(f"  {s.hint}", style="cyan")
            parts.append(line)
    parts.append(Text(""))
    parts.append(summary_line(diff, levels))
    return Group(*parts)


def schema_view(schema: Schema, *, source: str) -> RenderableType:
    root = Tree(Text(f"{source} ({schema.dialect}): {len(schema.tables)} tables, {len(schema.enums)} enums, "
                     f"{len(schema.views)} views", style="bold"))
    for e in schema.enums:
        root.add(Text(f"enum {schema.key(e.schema, e.name)}: {', '.join(e.values)}"))
    for t in schema.tables:
        key = schema.key(t.schema, t.name)
        node = root.add(Text(f"table {key}" + (f"  (model {t.origin})" if t.origin else ""), style="bold"))
        for c in t.columns:
            node.add(f"{c.name} {column_sql(c)}" + (f"  (field {c.origin})" if c.origin else ""))
        if t.primary_key:
            node.add(f"PRIMARY KEY {t.primary_key.name or ''} ({', '.join(t.primary_key.columns)})")
        for i in t.indexes:
            node.add(f"{'UNIQUE ' if i.unique else ''}INDEX {i.name or '(unnamed)'} {index_sql(i)}")
        for f in t.foreign_keys:
            node.add(f"FOREIGN KEY {f.name or '(unnamed)'} {fk_sql(f, schema.key(f.ref_schema, f.ref_table))}")
        for ch in t.checks:
            node.add(f"CHECK {ch.name or '(unnamed)'} ({ch.expression})")
    for v in schema.views:
        root.add(Text(f"{'materialized ' if v.materialized else ''}view {schema.key(v.schema, v.name)}"))
    return root
