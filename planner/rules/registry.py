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

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "rule": self.rule, "level": str(self.level),
                               "message": self.message, "help": self.help, "playbook": self.playbook}
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

    @property
    def dialect(self) -> str:
        return self.new.dialect

    def table_is_new(self, key: str | None) -> bool:
        return key is not None and any(
            c.kind == Kind.ADD_TABLE and c.table == key for c in self.diff.changes)

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


RULES: dict[str, RuleSpec] = {}


def rule(code: str, slug: str, *, on: tuple[Kind, ...] | Kind, summary: str, help: str,
         playbook: str | None = None, dialects: tuple[str, ...] | None = None,
         squawk: tuple[str, ...] = ()) -> Callable:
    """Register a rule function under a stable code (a duplicate code or slug is an error)."""
    kinds = on if isinstance(on, tuple) else (on,)

    def deco(func: Callable[[Change, Context], Verdict | None]) -> Callable:
        if code in RULES:
            raise RuntimeError(f"rule code {code} registered twice")
        if any(r.slug == slug for r in RULES.values()):
            raise RuntimeError(f"rule slug {slug} registered twice")
        if not (func.__doc__ or "").strip():
            raise RuntimeError(f"rule {code} has no docstring")
        RULES[code] = RuleSpec(code, slug, summary, kinds, func, help, playbook, dialects, squawk)
        return func

    return deco
