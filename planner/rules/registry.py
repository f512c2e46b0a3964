"""The rule registry: levels, findings, the `@rule` decorator and the context rules read.

A rule is one decorated function: the decorator holds its code, slug, the change kinds it
looks at and its playbook; the docstring is its documentation (`planner rules CODE`); the
body answers one question: how risky is this change, and why? It returns a `Verdict`
or None (not concerned).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from planner.changes import Change, Kind

if TYPE_CHECKING:
    from planner.changes import Diff
    from planner.model import Schema, Table


class Level(IntEnum):
    """Risk levels, ordered (product.md)."""

    SAFE = 0  #: nothing can go wrong
    LOW = 1  #: safe with care: a short lock, a deploy-order concern
    MEDIUM = 2  #: may fail on existing data, or takes a noticeable lock
    HIGH = 3  #: data loss or failure likely, or a long blocking lock on a large table
    CRITICAL = 4  #: certain data loss or certain failure

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown level {text!r}; use one of "
                             f"{', '.join(str(x) for x in cls)}") from None

    def up(self, n: int = 1) -> Level:
        return Level(min(Level.CRITICAL, self + n))

    def down(self, n: int = 1) -> Level:
        return Level(max(Level.LOW, self - n))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule concludes about one change."""

    level: Level
    message: str
    help: str | None = None  # overrides the rule's default help
    #: the pre-flight evidence behind the level (with --db): check kind, counts, samples
    evidence: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    code: str
    slug: str
    summary: str
    kinds: tuple[Kind, ...]
    func: Callable[[Change, Context], Verdict | None]
    help: str
    playbook: str | None = None
    dialects: tuple[str, ...] | None = None
    #: squawk rules this rule answers (documentation and the squawk comparison test)
    squawk: tuple[str, ...] = ()
    #: dialect -> help where the safe alternative differs from `help` (MySQL has no NOT VALID)
    helps: tuple[tuple[str, str], ...] = ()

    def help_for(self, dialect: str) -> str:
        """The help line for one dialect."""
        return dict(self.helps).get(dialect, self.help)

    @property
    def family(self) -> str:
        return self.code[:2]

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    rule: str
    level: Level
    message: str
    help: str
    playbook: str | None
    change_id: str
    waived: bool = False
    waiver_reason: str | None = None
    #: structured pre-flight evidence (with --db): {"check", "count", "samples", ...}
    evidence: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "rule": self.rule, "level": str(self.level),
                               "message": self.message, "help": self.help, "playbook": self.playbook}
        if self.evidence is not None:
            out["evidence"] = self.evidence
        if self.waived:
            out["waived"] = True
            out["waiver"] = {"reason": self.waiver_reason}
        return out


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Row counts that scale lock risk (configurable in [tool.planner.thresholds])."""

    small_rows: int = 10_000
    large_rows: int = 1_000_000


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A pre-flight result a rule can use: how many rows break the change, with samples."""

    kind: str
    count: int
    passed: bool
    summary: str = ""
    #: False for informative checks (data_loss, rounding, a renamed enum value in use)
    blocking: bool = True
    #: a few offending rows (JSON-safe dicts), as the check found them
    samples: tuple[dict[str, Any], ...] = ()
    #: what the plan does with those rows (a configured backfill or remap, a backup restored
    #: on downgrade): then they are no failure and no loss ("" when nothing)
    covered: str = ""


@dataclass(slots=True)
class Context:
    """Everything a rule may read besides the change itself."""

    old: Schema
    new: Schema
    diff: Diff
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: table key -> estimated rows (from --db); None: unknown
    rows: dict[str, int] | None = None
    #: change id -> pre-flight results for that change (from --db)
    checks: dict[str, list[CheckResult]] | None = None
    #: PostgreSQL major version when known (e.g. 15)
    server_version: int | None = None
    _new_tables: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def dialect(self) -> str:
        return self.new.dialect

    @property
    def from_prisma(self) -> bool:
        """NEW reads like a Prisma schema: a source that can express neither comments nor
        views (SQLAlchemy metadata on SQLite is the other such source, and PostgreSQL-only
        rules never see it)."""
        return not self.new.has_comments and not self.new.has_views

    def table_is_new(self, key: str | None) -> bool:
        if self._new_tables is None:
            self._new_tables = frozenset(c.table for c in self.diff.changes
                                         if c.kind == Kind.ADD_TABLE and c.table is not None)
        return key is not None and key in self._new_tables

    def old_table(self, key: str | None) -> Table | None:
        return self.old.table(key) if key else None

    def row_count(self, key: str | None) -> int | None:
        if self.rows is None or key is None:
            return None
        return self.rows.get(key)

    def scale(self, level: Level, key: str | None) -> Level:
        """Scale a lock risk by table size: a 40-row table is not a 40-million-row one."""
        n = self.row_count(key)
        if n is None:
            return level
        if n <= self.thresholds.small_rows:
            return level.down()
        if n >= self.thresholds.large_rows:
            return level.up()
        return level

    def size_note(self, key: str | None) -> str:
        n = self.row_count(key)
        return "" if n is None else f" ({key} has about {n:,} rows)"

    def results(self, change: Change, kind: str | None = None) -> list[CheckResult] | None:
        if self.checks is None:
            return None
        found = self.checks.get(change.id, [])
        return [r for r in found if kind is None or r.kind == kind]


def covered_text(results: list[CheckResult], *, every: bool = True) -> str | None:
    """What the plan does with the rows the pre-flight `results` found (their `covered`,
    "; "-joined), or None when no result that found rows is covered or, with `every`, when one
    of them is not (those rows are a failure or a loss)."""
    handled = sorted({r.covered for r in results if r.covered and r.count})
    if not handled or (every and not all(r.covered for r in results if r.count)):
        return None
    return "; ".join(handled)


def evidence(results: list[CheckResult], *, limit: int = 5, **extra: Any) -> dict[str, Any]:
    """The structured evidence of pre-flight results (JSON `findings[].evidence`): the check
    kind, the offending count, a few sample rows, plus rule-specific counts in `extra`."""
    samples = [dict(row) for r in results for row in r.samples][:limit]
    out: dict[str, Any] = {"check": results[0].kind if results else None,
                           "count": sum(r.count for r in results), "samples": samples}
    handled = covered_text(results, every=False)
    if handled:
        out["covered"] = handled
    out.update(extra)
    return out


RULES: dict[str, RuleSpec] = {}


def rule(code: str, slug: str, *, on: tuple[Kind, ...] | Kind, summary: str, help: str,
         playbook: str | None = None, dialects: tuple[str, ...] | None = None,
         squawk: tuple[str, ...] = (), helps: dict[str, str] | None = None) -> Callable:
    """Register a rule function under a stable code (a duplicate code or slug is an error)."""
    kinds = on if isinstance(on, tuple) else (on,)

    def deco(func: Callable[[Change, Context], Verdict | None]) -> Callable:
        if code in RULES:
            raise RuntimeError(f"rule code {code} registered twice")
        if any(r.slug == slug for r in RULES.values()):
            raise RuntimeError(f"rule slug {slug} registered twice")
        if not (func.__doc__ or "").strip():
            raise RuntimeError(f"rule {code} has no docstring")
        RULES[code] = RuleSpec(code, slug, summary, kinds, func, help, playbook, dialects, squawk,
                               tuple(sorted((helps or {}).items())))
        return func

    return deco
