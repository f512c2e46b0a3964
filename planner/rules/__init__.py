"""Risk assessment: run every registered rule over a diff; apply waivers.

`assess(diff, ctx)` returns an `Assessment`: findings and a level per change (the highest
unwaived finding, `safe` without any), plus the waivers that were expired or unused.
Changes to tables created in the same diff are never flagged: the table is empty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from planner.changes import Change, Diff, Kind
from planner.rules import destructive, dialect, incompatible, locking, might_fail  # noqa: F401 (registers)
from planner.rules.registry import RULES, CheckResult, Context, Finding, Level, RuleSpec, Thresholds
from planner.rules.waivers import Waiver, WaiverReport, is_expired, match_waiver


@dataclass(frozen=True, slots=True)
class Assessment:
    findings: dict[str, tuple[Finding, ...]]
    levels: dict[str, Level]
    waivers: WaiverReport = field(default_factory=WaiverReport)

    @property
    def max_level(self) -> Level:
        return max(self.levels.values(), default=Level.SAFE)

    def level_names(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.levels.items()}

    def findings_json(self) -> dict[str, list[dict]]:
        return {k: [f.as_json() for f in v] for k, v in self.findings.items()}


def rules_for(change: Change, dialect_name: str) -> list[RuleSpec]:
    return [r for r in RULES.values()
            if change.kind in r.kinds and (r.dialects is None or dialect_name in r.dialects)]


def assess(diff: Diff, ctx: Context, *, waivers: tuple[Waiver, ...] = (),
           today: dt.date | None = None) -> Assessment:
    """Findings for every change of `diff`, sorted by level (highest first), then code."""
    findings: dict[str, tuple[Finding, ...]] = {}
    levels: dict[str, Level] = {}
    today = today or dt.date.today()
    used: set[int] = set()
    for c in diff.changes:
        out: list[Finding] = []
        if not (c.kind != Kind.ADD_TABLE and ctx.table_is_new(c.table)):
            for spec in rules_for(c, ctx.dialect):
                verdict = spec.func(c, ctx)
                if verdict is None:
                    continue
                f = Finding(spec.code, spec.slug, verdict.level, verdict.message,
                            verdict.help or spec.help_for(ctx.dialect), spec.playbook, c.id,
                            evidence=verdict.evidence)
                hit = match_waiver(waivers, f, c, today=today)
                if hit is not None:
                    used.add(hit[0])
                    f = replace(f, waived=True, waiver_reason=hit[1].reason)
                out.append(f)
        out.sort(key=lambda f: (-f.level, f.code))
        findings[c.id] = tuple(out)
        levels[c.id] = max((f.level for f in out if not f.waived), default=Level.SAFE)
    report = WaiverReport(
        expired=tuple(w for w in waivers if is_expired(w, today)),
        unused=tuple(w for i, w in enumerate(waivers) if i not in used and not is_expired(w, today)),
    )
    return Assessment(findings, levels, report)


__all__ = ["Assessment", "CheckResult", "Context", "Finding", "Level", "RULES", "RuleSpec", "Thresholds",
           "Waiver", "assess", "rules_for"]
