"""The pipeline every command shares: load OLD and NEW, diff, assess (with --db when given)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner.changes import Diff
from planner.config import Config
from planner.diff import diff as run_diff
from planner.load import Loaded, load_pair
from planner.renames import parse_renames
from planner.rules import Assessment, CheckResult, Context, assess


@dataclass(frozen=True, slots=True)
class Analysis:
    old: Loaded
    new: Loaded
    diff: Diff
    context: Context
    assessment: Assessment
    config: Config

    @property
    def dialect(self) -> str:
        return self.new.schema.dialect


def analyze(old_spec: str, new_spec: str, *, config: Config, dialect: str | None = None,
            renames: list[str] | tuple[str, ...] = (), db: str | None = None,
            checks: dict[str, list[CheckResult]] | None = None, today: dt.date | None = None) -> Analysis:
    old, new = load_pair(old_spec, new_spec, dialect=dialect or config.dialect)
    hints = [*config.renames, *renames]
    d = run_diff(old.schema, new.schema, parse_renames(hints, old.schema))
    rows = None
    if db:
        from planner.stats import row_estimates

        rows = row_estimates(db)
    ctx = Context(old.schema, new.schema, d, thresholds=config.thresholds, rows=rows, checks=checks)
    return Analysis(old, new, d, ctx, assess(d, ctx, waivers=config.waivers, today=today), config)
