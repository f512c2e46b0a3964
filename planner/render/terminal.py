"""Terminal output with rich: the diff grouped by table, and the schema as a tree."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from planner.changes import Change, Diff
from planner.model import Schema
from planner.renames import shell_hint
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


def _change_lines(c: Change, levels: dict[str, str], findings: dict[str, list[dict]],
                  widths: tuple[int, int, int]) -> list[RenderableType]:
    lv = levels.get(c.id, "safe")
    obj = c.column or c.name or ""
    if c.detail.get("value") and c.kind.value.endswith("enum_value"):
        obj = f"{c.name}.{c.detail['value']}"
    line = Text("  ")
    line.append(lv.ljust(widths[0]), style=LEVEL_STYLE[lv])
    line.append(" " + c.kind.value.ljust(widths[1]) + " ")
    line.append(obj.ljust(widths[2]), style="bold")
    line.append("  " + describe(c))
    out: list[RenderableType] = [line]
    indent = 3 + widths[0]
    pad = " " * indent
    for f in findings.get(c.id, []):
        text = Text(pad)
        text.append(f"{f['code']} ", style=LEVEL_STYLE[f["level"]])
        text.append(f"{f['rule']}: ", style="bold")
        text.append(f["message"])
        if f.get("waived"):
            text.append(f" (waived: {f['waiver']['reason']})", style="dim")
        elif f["level"] != "safe":
            text.append(f"\n{pad}-> {f['help']}", style="dim")
        out.append(text)
    return out


def _by_level(diff: Diff, levels: dict[str, str]) -> list[tuple[str, list[Change]]]:
    """Groups with their riskiest first; inside a group, riskiest change first (stable)."""
    def rank(c: Change) -> int:
        return LEVELS.index(levels.get(c.id, "safe"))

    groups = [(g, sorted(cs, key=rank, reverse=True)) for g, cs in grouped(diff.changes)]
    return sorted(groups, key=lambda gc: max(rank(c) for c in gc[1]), reverse=True)


def diff_view(diff: Diff, *, levels: dict[str, str] | None = None,
              findings: dict[str, list[dict]] | None = None) -> RenderableType:
    """One line per change (level, kind, object, details), grouped by table and sorted by level,
    each followed by its findings; then the possible renames and a summary."""
    levels = levels or {}
    findings = findings or {}
    parts: list[RenderableType] = []
    if diff.changes:
        widths = (max(len(levels.get(c.id, "safe")) for c in diff.changes),
                  max(len(c.kind.value) for c in diff.changes),
                  min(40, max(len(c.column or c.name or "") for c in diff.changes)))
        for n, (group, changes) in enumerate(_by_level(diff, levels)):
            if n:
                parts.append(Text(""))
            parts.append(Text(group, style="bold underline"))
            for c in changes:
                parts.extend(_change_lines(c, levels, findings, widths))
    else:
        parts.append(Text("No changes: the schemas are equivalent.", style="green"))
    if diff.suggestions:
        parts.append(Text(""))
        parts.append(Text("Possible renames (not applied; confirm with the hint to keep the data):",
                          style="bold"))
        for s in diff.suggestions:
            line = Text(f"  {s.kind.value} ")
            line.append(f"{s.old} -> {s.new}", style="bold")
            line.append(f"  {shell_hint(s.hint)}", style="cyan")
            if s.alternatives:
                line.append(f"  (equally likely: {', '.join(shell_hint(a) for a in s.alternatives)})", style="dim")
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
