"""The pipeline every command shares: load OLD and NEW, diff, assess (with --db when given).

With `db=URL`, the database (which holds OLD) enriches the assessment twice: table row
estimates scale lock risk, and the pre-flight checks (`planner.checks`) run read-only so the
rules can say "will fail" (critical, with the evidence) or "verified clean" (lower).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.load import Loaded, load_pair

if TYPE_CHECKING:
    from planner.changes import Diff
    from planner.checks import Preflight
    from planner.config import Config
    from planner.rules import Assessment, CheckResult, Context

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analysis:
    old: Loaded
    new: Loaded
    diff: Diff
    context: Context
    assessment: Assessment
    config: Config
    #: the pre-flight checks run against --db (None without a database)
    preflight: Preflight | None = None

    @property
    def dialect(self) -> str:
        return self.new.schema.dialect


def analyze(old_spec: str, new_spec: str, *, config: Config, dialect: str | None = None,
            renames: list[str] | tuple[str, ...] = (), db: str | None = None,
            checks: dict[str, list[CheckResult]] | None = None, today: dt.date | None = None,
            run_checks: bool = True, check_timeout_s: float = 30.0) -> Analysis:
    """Load, diff and assess. With `db`, also run the pre-flight checks there (unless
    `checks` are given or `run_checks` is False) and let the rules read their results."""
    started = time.perf_counter()
    old, new = load_pair(old_spec, new_spec, dialect=dialect or config.dialect)
    log.info("loaded OLD and NEW in %.2f s", time.perf_counter() - started)
    # imported once both sources loaded: a missing file is reported without sqlglot's import
    from planner.diff import diff as run_diff
    from planner.renames import parse_renames
    from planner.rules import Context, assess

    config.check_renames(old.schema, new.schema)
    hints = [*config.renames, *renames]
    started = time.perf_counter()
    d = run_diff(old.schema, new.schema, parse_renames(hints, old.schema, new.schema))
    log.info("diff: %d changes, %d rename suggestions in %.2f s", len(d.changes), len(d.suggestions),
             time.perf_counter() - started)
    config.check_against(d, new.schema)  # backfill/enum_remap keys that match no change: errors
    # a suggested value rename of a column's own ENUM (MySQL) is confirmed by the enum_remap its
    # hint names: the rows keep their data through it
    confirmed = {f"{k}={v}" for k, v in config.enum_remap.items()}
    open_ = tuple(s for s in d.suggestions
                  if s.table is None or f"{s.old}={s.new.rpartition('.')[2]}" not in confirmed)
    if len(open_) != len(d.suggestions):
        d = dataclasses.replace(d, suggestions=open_)
    rows = None
    pre = None
    if db:
        from planner.progress import step
        from planner.stats import row_estimates

        with step("reading row estimates"):
            rows = row_estimates(db)
        if checks is None and run_checks:
            pre = _preflight(d, old, new, db, check_timeout_s, config)
            checks = pre.results()
    version = pre.major_version if pre is not None and pre.dialect == "postgresql" else None
    ctx = Context(old.schema, new.schema, d, thresholds=config.thresholds, rows=rows, checks=checks,
                  server_version=version)
    started = time.perf_counter()
    assessment = config.filter(assess(d, ctx, waivers=config.waivers, today=today))  # select/ignore
    log.info("assessed %d changes in %.2f s", len(d.changes), time.perf_counter() - started)
    return Analysis(old, new, d, ctx, assessment, config, pre)


def _preflight(d: Diff, old: Loaded, new: Loaded, db: str, timeout_s: float, config: Config) -> Preflight:
    from planner.checks import preflight
    from planner.progress import step, update

    with step("pre-flight checks"):
        pre = preflight(d, old.schema, new.schema, db, timeout_s=timeout_s, sample=3, convert=config.convert,
                        backfill=config.backfill, enum_remap=config.enum_remap,
                        progress=lambda check, i, n: update(f"{i + 1}/{n} {check.kind.value} on {check.table}"))
    for o in pre.outcomes:
        if o.error is not None:
            log.warning("pre-flight %s for %s did not run: %s", o.check.kind.value, o.check.change_id,
                        o.error)
    return pre
