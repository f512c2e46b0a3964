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


def _schema_outline(schema: Schema, source: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The schema tree as text: (root label, [(node label, its leaf labels)]). Leaves are
    console markup (rich reads `[bold]` in them); the root and node labels are plain text."""
    nodes: list[tuple[str, list[str]]] = []
    for e in schema.enums:
        nodes.append((f"enum {schema.key(e.schema, e.name)}: {', '.join(e.values)}", []))
    for t in schema.tables:
        key = schema.key(t.schema, t.name)
        leaves = [f"{c.name} {column_sql(c)}" + (f"  (field {c.origin})" if c.origin else "") for c in t.columns]
        if t.primary_key:
            leaves.append(f"PRIMARY KEY {t.primary_key.name or ''} ({', '.join(t.primary_key.columns)})")
        leaves += [f"{'UNIQUE ' if i.unique else ''}INDEX {i.name or '(unnamed)'} {index_sql(i)}" for i in t.indexes]
        leaves += [f"FOREIGN KEY {f.name or '(unnamed)'} {fk_sql(f, schema.key(f.ref_schema, f.ref_table))}"
                   for f in t.foreign_keys]
        leaves += [f"CHECK {ch.name or '(unnamed)'} ({ch.expression})" for ch in t.checks]
        nodes.append((f"table {key}" + (f"  (model {t.origin})" if t.origin else ""), leaves))
    for v in schema.views:
        nodes.append((f"{'materialized ' if v.materialized else ''}view {schema.key(v.schema, v.name)}", []))
    root = f"{source} ({schema.dialect}): {len(schema.tables)} tables, {len(schema.enums)} enums, " \
           f"{len(schema.views)} views"
    return root, nodes


def schema_view(schema: Schema, *, source: str) -> RenderableType:
    label, nodes = _schema_outline(schema, source)
    root = Tree(Text(label, style="bold"))
    tables = range(len(schema.enums), len(schema.enums) + len(schema.tables))
    for i, (text, leaves) in enumerate(nodes):
        # enums and views are plain nodes; tables bold (their leaves are markup strings)
        node = root.add(Text(text, style="bold" if i in tables else ""))
        for leaf in leaves:
            node.add(leaf)
    return root


def schema_plain(schema: Schema, *, source: str, width: int) -> str | None:
    """`schema_view` as a console without colours prints it at `width` (no wrapping: each line
    cut at the width, as rich does), without rich's per-line rendering; None when a label
    needs rich (markup, non-ASCII, control characters), so the caller prints the tree."""
    from rich.markup import RE_TAGS

    label, nodes = _schema_outline(schema, source)

    def plain(text: str, markup: bool) -> bool:
        return text.isascii() and text.isprintable() and not (markup and RE_TAGS.search(text))

    # one test of all the text at once (C loops over one string); only text failing it is
    # tested label by label (a markup match may also span two leaves joined here)
    heads = " ".join([label, *(text for text, _ in nodes)])
    every_leaf = " ".join(leaf for _, leaves in nodes for leaf in leaves)
    suspect = not (heads.isascii() and heads.isprintable() and every_leaf.isascii() and every_leaf.isprintable()
                   and not RE_TAGS.search(every_leaf))
    if suspect and not plain(label, False):
        return None
    out = [label[:width]]
    last = len(nodes) - 1
    for i, (text, leaves) in enumerate(nodes):
        if suspect and (not plain(text, False) or not all(plain(x, True) for x in leaves)):
            return None
        out.append(("└── " if i == last else "├── ") + text[:width - 4])
        pad = "    " if i == last else "│   "
        for j, leaf in enumerate(leaves):
            out.append(pad + ("└── " if j == len(leaves) - 1 else "├── ") + leaf[:width - 8])
    return "\n".join(out) + "\n"
