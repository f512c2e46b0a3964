"""`planner rules`: the rule list, and one rule's documentation with its playbook."""

from __future__ import annotations

from typing import Any

from rich.table import Table as RichTable
from rich.text import Text

from planner.playbooks import get_playbook
from planner.render.json_report import envelope
from planner.rules import RULES, RuleSpec

FAMILIES = {"DS": "destructive", "MF": "may fail on existing data", "LK": "locking / rewrite",
            "BC": "breaks the running application", "PG": "PostgreSQL", "MY": "MySQL/MariaDB",
            "LT": "SQLite"}


def _kinds(spec: RuleSpec) -> str:
    return ", ".join(k.value for k in spec.kinds)


def rules_table() -> RichTable:
    t = RichTable(box=None, header_style="bold", pad_edge=False)
    for col in ("code", "rule", "applies to", "dialects", "playbook", "summary"):
        t.add_column(col, overflow="fold")
    for spec in sorted(RULES.values(), key=lambda r: r.code):
        # Text, not markup: `[tool.planner.backfill]` in a summary is text to show
        t.add_row(*(Text(x) for x in (spec.code, spec.slug, _kinds(spec), ", ".join(spec.dialects or ("all",)),
                                      spec.playbook or "-", spec.summary)))
    return t


def rules_document(only: str | None = None) -> dict[str, Any]:
    doc = envelope("any", None, None)
    doc.pop("dialect")
    doc["rules"] = [{"code": r.code, "rule": r.slug, "family": FAMILIES[r.family], "kinds": [k.value for k in r.kinds],
                     "dialects": list(r.dialects or ()), "playbook": r.playbook, "summary": r.summary,
                     "help": r.help, "helps": dict(r.helps), "squawk": list(r.squawk)}
                    for r in sorted(RULES.values(), key=lambda r: r.code) if only in (None, r.code)]
    return doc


def rule_markdown(spec: RuleSpec) -> str:
    out = [f"# {spec.code} {spec.slug}", "", f"*{FAMILIES[spec.family]}* · applies to: {_kinds(spec)}"
           + (f" · {', '.join(spec.dialects)} only" if spec.dialects else ""), "", spec.summary, "",
           spec.doc, "", f"**Help:** {spec.help}", ""]
    for dialect, text in spec.helps:
        out += [f"**Help on {dialect}:** {text}", ""]
    if spec.squawk:
        out += [f"Answers squawk's {', '.join(f'`{s}`' for s in spec.squawk)}.", ""]
    if spec.playbook:
        out.append(get_playbook(spec.playbook).markdown())
    return "\n".join(out).rstrip() + "\n"
