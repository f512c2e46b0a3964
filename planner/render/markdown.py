"""Markdown output (`--format markdown`) for pull requests and release tickets."""

from __future__ import annotations

from planner.changes import Diff
from planner.renames import shell_hint
from planner.render import LEVELS, describe, grouped


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def diff_markdown(diff: Diff, *, old_source: str, new_source: str, dialect: str,
                  levels: dict[str, str] | None = None, findings: dict[str, list[dict]] | None = None) -> str:
    levels = levels or {}
    findings = findings or {}
    counts: dict[str, int] = {}
    for c in diff.changes:
        lv = levels.get(c.id, "safe")
        counts[lv] = counts.get(lv, 0) + 1
    out = [f"# Schema changes: `{old_source}` -> `{new_source}`", "", f"Dialect: {dialect}. "
           f"{len(diff.changes)} change(s)"
           + ("; " + ", ".join(f"{counts[lv]} {lv}" for lv in sorted(counts, key=LEVELS.index, reverse=True))
              if counts else "") + ".", ""]
    if not diff.changes:
        out += ["No changes: the schemas are equivalent.", ""]
    for group, changes in grouped(diff.changes):
        out += ["", f"## {group}", "", "| level | change | object | details |", "|---|---|---|---|"]
        for c in changes:
            obj = c.column or c.name or ""
            notes = "".join(f"<br>**{f['code']}** {_cell(f['message'])}" + (" *(waived)*" if f.get("waived") else "")
                            for f in findings.get(c.id, []))
            out.append(f"| {levels.get(c.id, 'safe')} | `{c.kind.value}` | {_cell(obj)} | "
                       f"{_cell(describe(c))}{notes} |")
    if diff.suggestions:
        out += ["", "## Possible renames", "",
                "Not applied: a rename is never guessed. Confirm one to keep the data:", ""]
        for s in diff.suggestions:
            out.append(f"- `{s.kind.value}` {s.old} -> {s.new}: `{shell_hint(s.hint)}` ({s.reason})")
    return "\n".join(out).rstrip() + "\n"
