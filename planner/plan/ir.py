"""The plan: steps per phase, each with its upgrade and downgrade code, guards and backups.

A `Step` holds already-rendered Python statements (`Block`s) for a revision body: Alembic
op calls rendered by Alembic's own renderer, `op.execute` only where Alembic has no op, and
calls to the runtime helpers each revision loads as `rt` (`migration_runtime.py`, written
into the migrations folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Phase(StrEnum):
    """Deploy phases, in order."""

    EXPAND = "expand"  #: backward compatible: new tables, columns, values, indexes, NOT VALID constraints
    BACKFILL = "backfill"  #: data: batched copies and conversions, validations
    CONTRACT = "contract"  #: breaking: drops, renames, NOT NULL, each destructive step after a backup


PHASES = (Phase.EXPAND, Phase.BACKFILL, Phase.CONTRACT)

DEPLOY_NOTES = {
    Phase.EXPAND: ("Deploy before: nothing; this revision is backward compatible with the running code.",
                   "Deploy after: the application version that writes the new columns/values "
                   "(it must not depend on the backfill yet)."),
    Phase.BACKFILL: ("Deploy before: the application version that writes the new columns/values, so "
                     "no new row misses the backfill.",
                     "Deploy after: the application version that reads the new columns/values and no "
                     "longer uses what the contract phase removes."),
    Phase.CONTRACT: ("Deploy before: the application version that no longer reads or writes what this "
                     "revision drops or renames.",
                     "Deploy after: nothing; remove compatibility code at leisure."),
}


class Stage(IntEnum):
    """Order of the steps within a phase, so that no revision commits transactional DDL
    before it reaches work that must run outside the transaction.

    A revision is re-runnable after a failure at any point when everything it commits before
    its last statement can run again: statements outside the transaction (concurrent index
    builds, ADD VALUE, batched backfills) are written in re-runnable forms (IF NOT EXISTS,
    INVALID-leftover check, idempotent batches), and transactional DDL after them is rolled
    back with the version stamp. So each phase becomes at most two revisions,
    [PRE, MAIN] and [ONLINE, TAIL]: online work first, transactional work after it."""

    PRE = 0  #: online, before the phase's transactional work (enum values the rest may use)
    MAIN = 1  #: transactional
    ONLINE = 2  #: online, needs MAIN's work (concurrent indexes on new columns, backfills)
    TAIL = 3  #: transactional, needs ONLINE's work (constraints USING INDEX, validations)


ONLINE_STAGES = (Stage.PRE, Stage.ONLINE)

#: the application versions a revision's docstring names
OLD_APP, NEW_APP = "OLD", "NEW"


def apps(parts: list[list[Step]]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(during, after) for each revision of `parts` (in order): the application versions that
    may run while it runs and once it is done. OLD may run until a step that ends it (contract
    drops, an in-place rename); NEW once every step it needs is done (what expand and backfill
    build). During a revision the versions allowed both before and after it run; where none is
    (an in-place rename), every writer must switch at once: `during` is empty."""
    out = []
    before: tuple[str, ...] = (OLD_APP,)
    for k in range(len(parts)):
        old_ok = not any(s.ends_old for p in parts[: k + 1] for s in p)
        new_ok = not any(s.needed_by_new for p in parts[k + 1:] for s in p)
        after = tuple(a for a, ok in ((OLD_APP, old_ok), (NEW_APP, new_ok)) if ok)
        out.append((tuple(a for a in before if a in after), after))
        before = after
    return out


@dataclass(frozen=True, slots=True)
class Block:
    """Python statements for a revision body (no indentation); `autocommit` runs them outside
    the migration transaction (`op.get_context().autocommit_block()`); `retry`: strong-lock
    DDL, written as a step function the runtime runs with a bounded lock wait, retried on a
    lock timeout (`rt.with_lock_retry(_step_N)`, numbered per revision)."""

    code: str
    autocommit: bool = False
    #: a copy of data a later statement of its step destroys (CREATE TABLE ... AS SELECT): on
    #: PostgreSQL it runs before the revision's first strong-lock step, never under its lock
    backup: bool = False
    retry: bool = False
    #: downgrade only: statements run at the end of the downgrade, in its last transaction
    #: (dropping a backup an autocommit block restored from: until the whole revision is
    #: undone, a re-run after a failure restores from it again)
    final: str = ""


@dataclass(frozen=True, slots=True)
class Guard:
    """A pre-flight query whose result must be 0 before any DDL of the revision runs; with
    `raises`, a statement that raises by itself (a PL/pgSQL block that tries each value)."""

    sql: str
    message: str
    raises: bool = False
    #: it reads what an earlier phase of the plan creates (a new column): in a --single
    #: revision it runs right before its step instead of at the top
    inline: bool = False
    #: SQL listing the offending rows (a few are shown when the guard stops)
    sample: str | None = None
    #: the setting that resolves a stop (`[tool.planner.backfill] "t.c" = ...`), if one does
    resolve: str | None = None
    #: it reads the server's catalog, not rows: `planner check` has no query of it to name
    catalog: bool = False
    #: `sql` is the whole runtime call that guards (a catalog check the runtime writes)
    call: bool = False

    def code(self, check: str | None = None) -> str:
        """The revision statement; `check`: the `planner check` command a stop names."""
        if self.call:
            return self.sql
        first = ", first=False" if self.inline else ""
        check = None if self.catalog else check
        options = (("check", check), ("resolve", self.resolve))
        if self.raises:
            return f"rt.guard_block({self.sql!r}{first}{''.join(f', {k}={v!r}' for k, v in options if v)})"
        options = (("sample", self.sample), *options)
        return f"rt.guard({self.sql!r}, {self.message!r}{first}{''.join(f', {k}={v!r}' for k, v in options if v)})"


@dataclass(frozen=True, slots=True)
class Step:
    phase: Phase
    title: str
    upgrade: tuple[Block, ...]
    downgrade: tuple[Block, ...] = ()
    guards: tuple[Guard, ...] = ()
    change_id: str | None = None
    #: what this step backs up before destroying it (for the docstring and the checklist)
    backup: str | None = None
    #: where in the phase it runs (see Stage): None = ONLINE when an upgrade block runs outside
    #: the transaction, else MAIN
    stage: Stage | None = None
    #: order within the stage (lower first): e.g. MySQL drops a key before the column it covers
    rank: float = 0
    #: the OLD application can no longer run once this step is done (None: the phase's default,
    #: True in contract); see `apps`
    breaks_old: bool | None = None
    #: the NEW application cannot run before this step is done (None: the phase's default, True
    #: in expand and backfill, which build what it uses); see `apps`
    new_waits: bool | None = None

    @property
    def ends_old(self) -> bool:
        return self.breaks_old if self.breaks_old is not None else self.phase == Phase.CONTRACT

    @property
    def needed_by_new(self) -> bool:
        return self.new_waits if self.new_waits is not None else self.phase != Phase.CONTRACT

    @property
    def online(self) -> bool:
        return any(b.autocommit for b in self.upgrade)

    @property
    def at(self) -> Stage:
        if self.stage is not None:
            return self.stage
        return Stage.ONLINE if self.online else Stage.MAIN


@dataclass(frozen=True, slots=True)
class Plan:
    dialect: str
    steps: tuple[Step, ...]
    #: changes planner cannot stage, with the reason (also written into the revision docstring)
    notes: tuple[str, ...] = field(default=())
    #: (schema, table) of every backup and moved-aside table the upgrade leaves behind for the
    #: downgrade; the cleanup revision drops them once the release is accepted
    kept: tuple[tuple[str | None, str], ...] = field(default=())
    #: PostgreSQL: the schemas the plan names explicitly while it also leaves names unqualified
    #: (the default schema's objects): each revision stops first if the session's current
    #: schema is one of them (its unqualified names would resolve there)
    named_schemas: tuple[str, ...] = field(default=())

    def phases(self) -> list[Phase]:
        return [p for p in PHASES if any(s.phase == p for s in self.steps)]

    def steps_of(self, phase: Phase) -> list[Step]:
        return sorted((s for s in self.steps if s.phase == phase), key=lambda s: (s.at, s.rank))

    def parts(self, phase: Phase) -> list[list[Step]]:
        """The phase's steps cut into revisions: a new revision starts where online work
        follows transactional work (so a revision never commits DDL it cannot run again)."""
        out: list[list[Step]] = []
        transactional_seen = False
        for s in self.steps_of(phase):
            online = s.at in ONLINE_STAGES
            if not out or (online and transactional_seen):
                out.append([])
                transactional_seen = False
            out[-1].append(s)
            transactional_seen = transactional_seen or (not online and any(b.code.strip() for b in s.upgrade))
        return out
