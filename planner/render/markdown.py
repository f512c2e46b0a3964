"""Markdown output (`--format markdown`) for pull requests and release tickets.

The same content as the terminal view: groups with their riskiest change first, riskiest change
first inside a group, each finding with its code, message, help line and playbook id.
"""

from __future__ import annotations

from planner.changes import Change, Diff
from planner.renames import shell_hint
from planner.render import LEVELS, describe, grouped


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _by_level(diff: Diff, levels: dict[str, str]) -> list[tuple[str, list[Change]]]:
    """Groups with their riskiest first; inside a group, riskiest change first (stable)."""
    def rank(c: Change) -> int:
        return LEVELS.index(levels.get(c.id, "safe"))

    groups = [(g, sorted(cs, key=rank, reverse=True)) for g, cs in grouped(diff.changes)]
    return sorted(groups, key=lambda gc: max(rank(c) for c in gc[1]), reverse=True)


def _finding(f: dict) -> str:
    text = f"<br>**{f['code']}** `{f['rule']}` ({f['level']}): {_cell(f['message'])}"
    if f.get("waived"):
        return text + f" *(waived: {_cell(f['waiver']['reason'])})*"
    if f["level"] != "safe":
        text += f"<br>→ {_cell(f['help'])}"
        if f.get("playbook"):
            text += f" (playbook `{f['playbook']}`)"
    return text


def diff_markdown(diff: Diff, *, old_source: str, new_source: str, dialect: str,
                  levels: dict[str, str] | None = None, findings: dict[str, list[dict]] | None = None) -> str:
    levels = levels or {}
    findings = findings or {}
    counts: dict[str, int] = {}
    for c in diff.changes:
        lv = levels.get(c.id, "safe")
        counts[lv] = counts.get(lv, 0) + 1
    summary = _plural(len(diff.changes), "change")
    if counts:
        summary += "; " + ", ".join(f"{counts[lv]} {lv}" for lv in sorted(counts, key=LEVELS.index, reverse=True))
        summary += f"; max level **{max(counts, key=LEVELS.index)}**"
    if diff.suggestions:
        summary += f"; {_plural(len(diff.suggestions), 'possible rename')}"
    out = [f"# Schema changes: `{old_source}` -> `{new_source}`", "", f"Dialect: {dialect}. {summary}.", ""]
    if not diff.changes:
        out += ["No changes: the schemas are equivalent.", ""]
    for group, changes in _by_level(diff, levels):
        out += ["", f"## {group}", "", "| level | change | object | details |", "|---|---|---|---|"]
        for c in changes:
            obj = c.column or c.name or ""
            if c.detail.get("value") and c.kind.value.endswith("enum_value"):
                obj = f"{c.name}.{c.detail['value']}"
            notes = "".join(_finding(f) for f in findings.get(c.id, []))
            out.append(f"| {levels.get(c.id, 'safe')} | `{c.kind.value}` | {_cell(obj)} | "
                       f"{_cell(describe(c))}{notes} |")
    if diff.suggestions:
        out += ["", "## Possible renames", "",
                "Not applied: a rename is never guessed. Confirm one to keep the data:", ""]
        for s in diff.suggestions:
            out.append(f"- `{s.kind.value}` {s.old} -> {s.new}: `{shell_hint(s.hint)}` ({s.reason})")
            for alt in s.alternatives:
                out.append(f"  - or `{shell_hint(alt)}`")
    return "\n".join(out).rstrip() + "\n"
