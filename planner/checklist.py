"""The release-review checklist (`planner checklist`): the document a reviewer signs off.

It is built from the very plan `planner plan` writes: the same `build_plan` call, the same
`revisions(...)` (same phases, parts, deploy notes and messages) and the same revision ids
(`rev_id` with the same seed, chained onto the same project head), so the checklist and the
revisions can never disagree. The pre-flight queries are `planner.checks`' own; with `--db`
their results come from the same read-only run `planner check` does (`Analysis.preflight`).

`Checklist` is plain data; `planner.render.checklist` turns it into Markdown, JSON or text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner import __version__
from planner.changes import Change, Kind
from planner.checks import Check, CheckKind, CheckOutcome, build_checks
from planner.errors import PlannerError
from planner.model import DEFAULT_SCHEMA, split_key
from planner.normalize import quote_ident, quote_table
from planner.pipeline import Analysis
from planner.plan.ir import Phase, Plan, Step
from planner.plan.revisions import Revision, cleanup_revision, holds, revisions
from planner.plan.revisions import rev_id as plan_rev_id
from planner.plan.runtime import constant
from planner.renames import shell_hint
from planner.rules import Level

SCHEMA_VERSION = 1
#: the hidden line CI looks for to update one pull-request comment in place
MARKER = "<!-- planner-checklist -->"
DIALECT_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
#: PostgreSQL version the checks are written for without --db (what `check --sql` writes)
STATIC_PG_VERSION = 12
#: the folder `planner plan --init` is shown writing to when no --alembic project is given
PROJECT_DIR = "alembic_project"


LOCK_TIMEOUT = constant("LOCK_TIMEOUT")
LOCK_RETRIES = int(constant("LOCK_RETRIES"))
BATCH_SIZE = int(constant("BATCH_SIZE"))
BATCH_MS = int(constant("BATCH_MS"))


# --------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class Query:
    """A query with the result it must give (`expect`; None for an informative check, which
    expects nothing: any count is an answer); with --db, what it gave (`passed`, `count`,
    `samples`: a few offending keys) or why it did not run (`error`)."""

    sql: str
    expect: str | None
    passed: bool | None = None
    count: int | None = None
    unit: str = ""
    samples: tuple[str, ...] = ()
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sql": self.sql, "expect": self.expect}
        if self.passed is not None or self.error is not None:
            out["actual"] = {"passed": self.passed, "count": self.count, "unit": self.unit,
                             "samples": list(self.samples), "error": self.error}
        return out


@dataclass(frozen=True)
class Item:
    """One `- [ ]` line: `kind` is backup, preflight, command, verify, watch or rollback."""

    kind: str
    text: str
    query: Query | None = None
    blocking: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "blocking": self.blocking,
                "query": self.query.as_json() if self.query else None}


@dataclass(frozen=True)
class Section:
    """One revision of the plan (or the cleanup revision), in the order they run."""

    phase: str
    label: str
    revision: str | None
    down_revision: str | None
    upgrade: str
    downgrade: str | None
    deploy_before: str
    deploy_after: str
    during: str
    steps: tuple[str, ...]
    items: tuple[Item, ...]
    restores: tuple[str, ...]
    not_restored: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "label": self.label, "revision": self.revision,
                "down_revision": self.down_revision,
                "commands": {"upgrade": self.upgrade, "downgrade": self.downgrade},
                "deploy": {"before": self.deploy_before, "after": self.deploy_after, "during": self.during},
                "steps": list(self.steps), "items": [i.as_json() for i in self.items],
                "rollback": {"restores": list(self.restores), "not_restored": list(self.not_restored)}}


@dataclass(frozen=True)
class Row:
    """One summary-table row: one change."""

    change_id: str
    kind: str
    object: str
    level: str
    codes: tuple[str, ...]
    lock: str
    table: str | None
    blocks: str
    data_at_risk: str
    restored: str

    def as_json(self) -> dict[str, Any]:
        return {"change_id": self.change_id, "kind": self.kind, "object": self.object, "level": self.level,
                "codes": list(self.codes), "lock": self.lock, "table": self.table, "blocks": self.blocks,
                "data_at_risk": self.data_at_risk, "restored_by_downgrade": self.restored}


@dataclass(frozen=True)
class Checklist:
    dialect: str
    old_source: str
    new_source: str
    max_level: str
    blocking_failed: int
    deploys: int
    verdict: str
    db: str | None
    revision_note: str
    notes: tuple[str, ...]
    rows: tuple[Row, ...]
    sections: tuple[Section, ...]
    version: str = __version__
    signoff: tuple[str, ...] = ("Reviewer", "DBA")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def revisions(self) -> list[Section]:
        return [s for s in self.sections if s.phase != "cleanup"]

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "planner", "version": self.version},
            "dialect": self.dialect,
            "old": {"source": self.old_source},
            "new": {"source": self.new_source},
            "checklist": {
                "verdict": {"max_level": self.max_level, "blocking_failed": self.blocking_failed,
                            "deploys": self.deploys, "text": self.verdict},
                "db": self.db,
                "revision_note": self.revision_note,
                "notes": list(self.notes),
                "summary": [r.as_json() for r in self.rows],
                "sections": [s.as_json() for s in self.sections],
                "signoff": [{"role": r, "name": None, "date": None} for r in self.signoff],
            },
        }


# --------------------------------------------------------------------------- revision ids

@dataclass(frozen=True)
class Project:
    """Where the revisions go: an existing Alembic project (`--alembic alembic.ini`), or a new
    one (`planner plan --init DIR`). `head` is the revision the plan chains onto; `written`
    maps a revision message to the id of a revision of the project that already holds it."""

    ini: str | None
    head: str | None
    written: dict[str, tuple[str, str | None]]
    planner_env: bool
    #: what `alembic` needs to find the project (`-c alembic.ini`, and `-c pyproject.toml`)
    alembic_args: str | None = None


def read_project(ini: str | None) -> Project:
    if ini is None:
        return Project(None, None, {}, True)
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from planner.plan.alembic_project import alembic_args, project_config
    from planner.plan.revisions import env_py

    cfg = project_config(ini)
    try:
        script = ScriptDirectory.from_config(cfg)
        heads = script.get_heads()
        existing = list(script.walk_revisions())
    except CommandError as e:
        raise PlannerError(f"{ini}: not a usable Alembic project ({e})") from None
    if len(heads) > 1:
        raise PlannerError(f"{ini}: the project has {len(heads)} heads ({', '.join(heads)})",
                           hint="merge them first (alembic merge heads)")
    written = {}
    for r in existing:
        doc = getattr(r.module, "__doc__", None) or ""
        down = r.down_revision if isinstance(r.down_revision, str) or r.down_revision is None else None
        written[doc] = (r.revision, down)
    return Project(ini, heads[0] if heads else None, written,
                   "Alembic environment written by planner" in env_py(cfg), alembic_args(cfg))


def _ids(revs: list[Revision], project: Project,
         seed: str | None) -> tuple[list[tuple[str, str | None]] | None, str | None]:
    """(id, down id) of each revision, as `planner plan` writes them: the project's revisions
    that already hold them, else the ids the seed gives chained onto the project's head; None
    when neither tells (Alembic then picks random ids)."""
    found = []
    for r in revs:
        hit = next((v for doc, v in project.written.items() if holds(doc, r.message)), None)
        if hit is None:
            break
        found.append(hit)
    if revs and len(found) == len(revs):
        return found, "written"
    if seed is None:
        return None, None
    out, head = [], project.head
    for i, r in enumerate(revs):
        rid = plan_rev_id(seed, i, r.message, head)
        out.append((rid, head))
        head = rid
    return out, "seed"


# --------------------------------------------------------------------------- SQL helpers

def _lit(text: str, dialect: str) -> str:
    body = text.replace("'", "''")
    if dialect == "mysql":
        body = body.replace("\\", "\\\\")
    return f"'{body}'"


def _qt(key: str, dialect: str) -> str:
    schema, name = split_key(key)
    return quote_table(schema, name, dialect)


def _schema_of(key: str, dialect: str) -> tuple[str | None, str]:
    schema, name = split_key(key)
    return schema or DEFAULT_SCHEMA[dialect], name


def _column_filter(key: str, column: str, dialect: str) -> str:
    schema, name = _schema_of(key, dialect)
    where = "table_schema = DATABASE()" if dialect == "mysql" else f"table_schema = {_lit(schema or '', dialect)}"
    return f"{where} AND table_name = {_lit(name, dialect)} AND column_name = {_lit(column, dialect)}"


# --------------------------------------------------------------------------- locks

@dataclass(frozen=True)
class Lock:
    name: str
    #: "online" (reads and writes go on), "brief" (metadata only, bounded wait), "copy" (blocks
    #: writes while rows are copied), "database" (SQLite: the whole database while it runs)
    how: str
    rank: int


def step_lock(step: Step, dialect: str) -> Lock:
    """The lock a planned step takes, read from the code the plan wrote for it."""
    code = "\n".join(b.code for b in step.upgrade)
    if dialect == "sqlite":
        return Lock("database write lock (SQLite locks the whole file)", "database", 3)
    if "rt.backfill(" in code or step.title.startswith("backfill"):
        return Lock("row locks, one batch at a time", "online", 0)
    if dialect == "mysql":
        # LOCK=SHARED after LOCK=NONE is a fallback the server asks for only on some tables
        # (one with a FULLTEXT index): the step is online where LOCK=NONE is accepted
        if "ALGORITHM=COPY" in code or ("LOCK=SHARED" in code and "LOCK=NONE" not in code):
            return Lock("SHARED (ALGORITHM=COPY or INPLACE, LOCK=SHARED)", "copy", 2)
        if "LOCK=NONE" in code:
            return Lock("metadata lock at start and end (ALGORITHM=INPLACE, LOCK=NONE)", "online", 0)
        return Lock("metadata lock, brief", "brief", 1)
    if "concurrently" in code.lower() or "VALIDATE CONSTRAINT" in code:
        return Lock("SHARE UPDATE EXCLUSIVE (reads and writes go on)", "online", 0)
    if "ADD VALUE" in code:
        return Lock("brief lock on the enum type", "brief", 1)
    if re.search(r"ALTER COLUMN \S+ TYPE .* USING |postgresql_using=", code):
        return Lock("ACCESS EXCLUSIVE, table rewritten (reads and writes wait)", "rewrite", 2)
    return Lock("ACCESS EXCLUSIVE, brief (metadata only)", "brief", 1)


def _blocks(lock: Lock, rows: int | None, dialect: str, *, new_table: bool, measured: bool) -> str:
    """How long the step may block, from the table's row estimate (`measured`: --db given)."""
    if new_table:
        return "nothing (new table)"
    if not measured:
        return "unknown"
    n = f"~{rows:,} rows" if rows is not None else "no table rows involved"
    if lock.how == "online":
        return f"no blocking ({n} processed online)"
    if lock.how == "brief":
        wait = f"lock_timeout {LOCK_TIMEOUT}" if dialect == "postgresql" else "lock_wait_timeout"
        return f"brief: each attempt waits at most {wait}, {LOCK_RETRIES} attempts ({n}, not scanned)"
    if lock.how == "copy":
        return f"writes blocked while {n} are copied"
    if lock.how == "rewrite":
        return f"reads and writes blocked while {n} are rewritten"
    return f"other writers wait while the revision runs ({n})"


# --------------------------------------------------------------------------- the builder

class _Builder:
    def __init__(self, analysis: Analysis, plan: Plan, *, source: str, project: Project, seed: str | None,
                 db: str | None, again: list[str], title: str | None = None) -> None:
        self.a, self.plan, self.source, self.project, self.seed = analysis, plan, source, project, seed
        self.title = title
        self.dialect = plan.dialect
        self.db = db
        self.again = again
        self.changes = {c.id: c for c in analysis.diff.changes}
        self.rows = analysis.context.rows
        if analysis.preflight is not None:
            self.outcomes: list[CheckOutcome] = list(analysis.preflight.outcomes)
            self.checks: list[Check] = [o.check for o in self.outcomes]
        else:
            version = STATIC_PG_VERSION if self.dialect == "postgresql" else None
            self.checks = build_checks(analysis.diff, analysis.old.schema, analysis.new.schema, self.dialect,
                                       server_version=version, convert=analysis.config.convert)
            self.outcomes = []
        self.outcome = {id(o.check): o for o in self.outcomes}

    # ------------------------------------------------------------ helpers
    def row_count(self, table: str | None) -> int | None:
        return self.a.context.row_count(table)

    def new_table(self, table: str | None) -> bool:
        return self.a.context.table_is_new(table)

    def ini(self) -> str:
        return self.project.ini or f"{PROJECT_DIR}/alembic.ini"

    def prefix(self) -> str:
        return f"alembic {self.project.alembic_args or '-c ' + self.ini()}"

    def query_of(self, check: Check) -> Query:
        o = self.outcome.get(id(check))
        expect = check.expect if check.blocking else None  # as planner check: informative, no expectation
        if o is None:
            return Query(check.sql, expect, unit=check.unit)
        return Query(check.sql, expect, passed=o.passed, count=o.count, unit=check.unit,
                     samples=tuple(_sample(s, check) for s in o.samples[:3]), error=o.error)

    # ------------------------------------------------------------ build
    def run(self) -> Checklist:
        revs = revisions(self.plan, source=self.source, title=self.title)
        parts = [(phase, part) for phase in self.plan.phases() for part in self.plan.parts(phase)]
        if len(parts) != len(revs):
            raise PlannerError("internal error: the plan's parts and revisions do not match")
        ids, how = _ids(revs, self.project, self.seed)
        placed = self.place_checks(parts)
        sections = []
        last_id: str | None = self.project.head
        for i, ((phase, steps), rev) in enumerate(zip(parts, revs, strict=True)):
            rid, down = ids[i] if ids else (None, None)
            sections.append(self.section(phase, steps, rev, rid, down, placed.get(i, []), i, parts))
            last_id = rid
        cleanup = cleanup_revision(self.plan, source=self.source, title=self.title)
        if cleanup is not None and revs:
            cid = plan_rev_id(self.seed, 0, cleanup.message, last_id) if ids and self.seed is not None else None
            sections.append(self.cleanup_section(cleanup, cid, last_id if ids else None))
        blocking = sum(1 for o in self.outcomes if o.blocking_failed)
        deploys = len(self.plan.phases())
        max_level = str(self.a.assessment.max_level) if self.a.diff.changes else "safe"
        return Checklist(
            dialect=self.dialect, old_source=self.source.split(" -> ")[0],
            new_source=self.source.split(" -> ", 1)[1], max_level=max_level, blocking_failed=blocking,
            deploys=deploys, verdict=self.verdict(max_level, blocking, deploys, bool(self.outcomes)),
            db=self.db, revision_note=self.revision_note(how, bool(revs)),
            notes=self.notes(), rows=tuple(self.summary()), sections=tuple(sections))

    def verdict(self, level: str, blocking: int, deploys: int, checked: bool) -> str:
        if not self.a.diff.changes:
            return "no changes: nothing to ship"
        parts = [f"max level {level}"]
        if blocking:
            parts.append(f"blocked: {blocking} pre-flight {'checks fail' if blocking != 1 else 'check fails'} "
                         "(fix the data first; the revisions stop at their guards)")
        elif checked:
            parts.append("every blocking pre-flight check passes")
        parts.append("safe to ship as one deploy" if deploys <= 1 else f"needs {deploys} deploys")
        return "; ".join(parts)

    def revision_note(self, how: str | None, any_revs: bool) -> str:
        if not any_revs:
            return "The plan has no revisions."
        same = " ".join(self.again)
        if how == "written":
            return f"Revision ids: the revisions already written to {self.project.ini}."
        if how == "seed":
            where = (f"--alembic {self.project.ini}" if self.project.ini else f"--init {PROJECT_DIR}")
            return (f"Revision ids: the ones `{same} {where} --rev-id-seed {self.seed}` writes "
                    f"(the same command without --rev-id-seed writes other ids).")
        return ("Revision ids: not known before the revisions are written (Alembic picks them); the commands "
                "below step one revision at a time (`upgrade +1`, `downgrade -1`). Pass --rev-id-seed (to "
                "`planner plan` too), or --alembic once the revisions are written, for exact ids.")

    def notes(self) -> list[str]:
        out = list(self.plan.notes)
        for s in self.a.diff.suggestions:
            out.append(f"Possible rename not confirmed: {s.kind.value} {s.old} -> {s.new}; without "
                       f"`{shell_hint(s.hint)}` the plan drops and re-adds (the data of {s.old} is backed up, not "
                       "moved).")
        if self.project.ini and self.project.planner_env:
            out.append("The project's env.py reads the database URL from DATABASE_URL (or -x db=...): set it "
                       "before running the commands.")
        elif self.project.ini is None:
            out.append(f"Commands use the Alembic project `{' '.join(self.again)} --init {PROJECT_DIR}` writes "
                       "(its env.py reads the database URL from DATABASE_URL: set it before running them).")
        if self.db is None and self.checks:
            out.append("Without --db: block times are unknown and pre-flight results are not filled in; run "
                       "`planner checklist ... --db URL` against a replica for them.")
        return out

    # ------------------------------------------------------------ summary
    def summary(self) -> list[Row]:
        assessment = self.a.assessment
        steps_of: dict[str, list[Step]] = {}
        for s in self.plan.steps:
            if s.change_id:
                steps_of.setdefault(s.change_id, []).append(s)
        rows = []
        for c in self.a.diff.changes:
            findings = assessment.findings.get(c.id, ())
            codes = tuple(f"{f.code} (waived)" if f.waived else f.code for f in findings)
            steps = steps_of.get(c.id, [])
            locks = [step_lock(s, self.dialect) for s in steps]
            lock = max(locks, key=lambda x: x.rank) if locks else None
            table = c.table if c.table else None
            blocks = _blocks(lock, self.row_count(table), self.dialect, new_table=self.new_table(table),
                             measured=self.rows is not None) if lock else "none"
            risk = self.data_at_risk(c)
            backups = [s.backup for s in steps if s.backup]
            if backups:
                restored = "yes, from " + "; ".join(backups)
            elif not risk.startswith("none"):
                restored = "no"
            else:
                restored = "nothing to restore"
            obj = c.id.split(":", 1)[1] if c.kind in _ENUM_VALUE_KINDS else c.object
            if c.kind == Kind.RENAME_ENUM_VALUE:
                obj = f"{c.name}.{c.detail.get('from')} → {c.detail.get('to')}"
            rows.append(Row(c.id, c.kind.value, obj, str(assessment.levels.get(c.id, Level.SAFE)), codes,
                            lock.name if lock else "none", table, blocks, risk, restored))
        order = {name: i for i, name in enumerate(("critical", "high", "medium", "low", "safe"))}
        rows.sort(key=lambda r: (order[r.level], r.change_id))
        return rows

    def data_at_risk(self, c: Change) -> str:
        out = []
        for k in self.checks:
            if k.change_id != c.id:
                continue
            if k.kind == CheckKind.DATA_LOSS or (k.kind == CheckKind.OVERFLOW and not k.blocking) or \
                    (k.kind == CheckKind.ENUM_IN_USE and c.kind == Kind.REMOVE_ENUM_VALUE):
                what = _risk_phrase(k, c)
                o = self.outcome.get(id(k))
                if o is not None and o.error is None and o.count == 0:
                    out.append(f"none (verified: 0 {k.unit}: {what})")
                elif o is not None and o.error is None and o.count is not None:
                    out.append(f"{o.count:,} {k.unit}: {what}")
                else:
                    out.append(f"{what} (count unknown without --db)" if o is None else f"{what} (check failed)")
        return "; ".join(out) or "none"

    # ------------------------------------------------------------ sections
    def place_checks(self, parts: list[tuple[Phase, list[Step]]]) -> dict[int, list[Check]]:
        """Each check goes to the revision whose guards run it (pre-flight guards: not the
        plan's own inline consistency guards), else the first revision with a step of its change (data_loss checks: the revision that destroys the data)."""
        out: dict[int, list[Check]] = {}
        for k in self.checks:
            at = None
            if k.kind == CheckKind.DATA_LOSS:
                at = next((i for i in range(len(parts) - 1, -1, -1)
                           if any(s.change_id == k.change_id for s in parts[i][1])), None)
            if at is None:
                at = next((i for i, (_, steps) in enumerate(parts)
                           if any(s.change_id == k.change_id and any(not g.inline for g in s.guards)
                                  for s in steps)), None)
            if at is None:
                at = next((i for i, (_, steps) in enumerate(parts) if any(s.change_id == k.change_id for s in steps)),
                          0)
            out.setdefault(at, []).append(k)
        return out

    def section(self, phase: Phase, steps: list[Step], rev: Revision, rid: str | None, down: str | None,
                checks: list[Check], index: int, parts: list) -> Section:
        label = rev.message.split("\n", 1)[0].split(": ", 1)[0]  # the phase (the title follows)
        notes = [ln for ln in rev.message.splitlines() if ln.startswith(("Deploy before:", "Deploy after:"))]
        before = notes[0].removeprefix("Deploy before: ")
        after = notes[1].removeprefix("Deploy after: ")
        during = self.during(before, index, parts, rev)
        items: list[Item] = []
        for k in checks:
            what = "informs, never blocks" if not k.blocking else "the revision's guard stops on it"
            items.append(Item("preflight", f"Pre-flight ({k.kind.value}, {what}): {k.description.rstrip('.')}",
                              self.query_of(k) if k.sql else None, blocking=k.blocking))
        counts = self.count_query(steps)
        if counts is not None:
            items.append(Item("verify", "Record the row counts before the upgrade (compare after it)", counts))
        if rid is not None:
            upgrade = f"{self.prefix()} upgrade {rid}"
            downgrade = f"{self.prefix()} downgrade {down or 'base'}"
        else:
            upgrade, downgrade = f"{self.prefix()} upgrade +1", f"{self.prefix()} downgrade -1"
        items.append(Item("command", f"Run `{upgrade}`" + (f" (revision {label})" if rid is None else "")))
        items.extend(self.watch(steps))
        items.extend(self.backups(steps))
        items.extend(self.verifications(steps, index, parts))
        if rid is not None:
            items.append(Item("verify", f"`{self.prefix()} current` prints {rid}"))
        if counts is not None:
            items.append(Item("verify", "Row counts are the ones recorded before the upgrade", counts))
        restores, lost = self.rollback(steps)
        items.append(Item("rollback", f"Rollback if needed: `{downgrade}`"))
        return Section(phase.value, label, rid, down, upgrade, downgrade, before, after, during,
                       tuple(s.title for s in steps), tuple(items), tuple(restores), tuple(lost))

    def during(self, before: str, index: int, parts: list, rev: Revision) -> str:
        if rev.after:  # the application versions the revision's docstring names (plan.ir.apps)
            if not rev.during:
                return (f"no version works both before and after it: stop every OLD writer when it starts, start "
                        f"{' and '.join(rev.after)} when it is done (all writers switch at once)")
            names = {"OLD": "OLD (the code for the old schema)", "NEW": "NEW (the code for the new schema)"}
            return " and ".join(names[a] for a in rev.during)
        if before.startswith("nothing; this continues"):
            return "the versions running during the previous revision (nothing is deployed in between)"
        if before.startswith("nothing"):
            return "the application version already running (this revision is backward compatible with it)"
        return "only the version named under \"before\" (finish its rollout before starting)"

    def count_query(self, steps: list[Step]) -> Query | None:
        tables = []
        for s in steps:
            c = self.changes.get(s.change_id or "")
            if c is None or c.table is None or self.new_table(c.table) or c.kind in (Kind.ADD_TABLE, Kind.DROP_TABLE):
                continue
            if c.kind in (Kind.RENAME_TABLE,):
                continue
            if c.table not in tables:
                tables.append(c.table)
        if not tables:
            return None
        sql = "\nUNION ALL ".join(f"SELECT {_lit(t, self.dialect)} AS {quote_ident('table', self.dialect)}, "
                                  f"count(*) AS {quote_ident('rows', self.dialect)} FROM {_qt(t, self.dialect)}"
                                  for t in sorted(tables))
        known = [f"{t}: ~{self.row_count(t):,}" for t in sorted(tables) if self.row_count(t) is not None]
        expect = "the same counts before and after" + (f" (estimates: {', '.join(known)})" if known else "")
        return Query(sql, expect)

    def watch(self, steps: list[Step]) -> list[Item]:
        d = self.dialect
        online = [s for s in steps if step_lock(s, d).how == "online"]
        if d == "postgresql":
            out = [Item("watch", f"Watch lock waits while it runs: a strong-lock step gives up after lock_timeout "
                                 f"{LOCK_TIMEOUT} and retries (up to {LOCK_RETRIES} attempts), so waits stay short",
                        Query("SELECT pid, pg_blocking_pids(pid) AS blocked_by, wait_event_type, "
                              "now() - query_start AS waiting, left(query, 80) AS query FROM pg_stat_activity "
                              "WHERE datname = current_database() AND wait_event_type = 'Lock'",
                              f"no row waiting longer than {LOCK_TIMEOUT}"))]
            if any(s.title.startswith("create") and "index" in s.title for s in online):
                out.append(Item("watch", "Watch the concurrent index builds' progress",
                                Query("SELECT relid::regclass AS table_name, index_relid::regclass AS index_name, "
                                      "phase, blocks_done, blocks_total, tuples_done, tuples_total "
                                      "FROM pg_stat_progress_create_index", "phases advance; no row once done")))
        elif d == "mysql":
            out = [Item("watch", "Watch metadata-lock waits while it runs (each ALTER waits at most "
                                 "lock_wait_timeout, then retries)",
                        Query("SELECT ID, TIME, STATE, LEFT(INFO, 80) AS INFO FROM information_schema.PROCESSLIST "
                              "WHERE STATE LIKE 'Waiting for%lock%'", "no row that stays"))]
        else:
            out = [Item("watch", "Other writers get 'database is locked' (SQLITE_BUSY) until the revision commits: "
                                 "stop them or give them a busy timeout")]
        if any(s.title.startswith("backfill") for s in steps):
            out.append(Item("watch", f"The backfill commits after each batch (up to {BATCH_SIZE:,} rows, sized to take "
                                     f"about {BATCH_MS} ms: a batch holds its rows' locks until it commits; "
                                     "-x batch_rows / -x batch_ms) and logs its progress; it can be stopped and "
                                     "run again (it resumes where it stopped)"))
        return out

    def backups(self, steps: list[Step]) -> list[Item]:
        out = []
        for s in steps:
            if not s.backup:
                continue
            c = self.changes.get(s.change_id or "")
            for schema, name in self.plan.kept:
                shown = f"{schema}.{name}" if schema else name
                if not re.search(rf"(^|[\s;,]){re.escape(shown)}(\s|$|;|,)", s.backup):
                    continue
                sql = f"SELECT count(*) FROM {quote_table(schema, name, self.dialect)}"
                code = "\n".join(b.code for b in s.upgrade)
                filtered = bool(re.search(rf"{re.escape(name)}[^\n]* WHERE ", code))
                source = c.table if c is not None and c.table else None
                if filtered:
                    expect = "the number of rows the step changes (the pre-flight count of rows that held the value)"
                elif source is not None:
                    expect = f"the row count of {source} recorded before the upgrade"
                    if self.row_count(source) is not None:
                        expect += f" (~{self.row_count(source):,})"
                else:
                    expect = "one row per row it copies"
                out.append(Item("backup", f"Backup `{shown}` taken by the revision before \"{s.title}\"; "
                                          "verify it holds the rows", Query(sql, expect)))
        return out

    def verifications(self, steps: list[Step], index: int, parts: list) -> list[Item]:
        """After the revision that completes a change: the end state of that change."""
        later = {s.change_id for _, st in parts[index + 1:] for s in st}
        done: list[str] = []
        for s in steps:
            if s.change_id and s.change_id not in later and s.change_id not in done:
                done.append(s.change_id)
        out = []
        for cid in done:
            c = self.changes.get(cid)
            if c is not None:
                out.extend(self.verify_change(c))
        return out

    def verify_change(self, c: Change) -> list[Item]:
        d, t = self.dialect, c.table
        if t is None:
            if c.kind in (Kind.ADD_ENUM_VALUE, Kind.RENAME_ENUM_VALUE) and d == "postgresql":
                value = c.detail.get("to") or c.detail.get("value")
                return [Item("verify", f"Enum {c.name} has value {value!r}",
                             Query(self._enum_sql(c.name or "", str(value)), "1"))]
            if c.kind == Kind.REMOVE_ENUM_VALUE and d == "postgresql":
                value = c.detail.get("value")
                return [Item("verify", f"Enum {c.name} no longer has value {value!r}",
                             Query(self._enum_sql(c.name or "", str(value)), "0"))]
            return []
        qt = _qt(t, d)
        if c.kind in (Kind.ADD_INDEX, Kind.ADD_UNIQUE) and c.name:
            if d == "postgresql":
                schema, _ = _schema_of(t, d)
                return [Item("verify", f"Index {c.name} exists and is valid",
                             Query("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
                                   f"{_lit(schema or '', d)} AND c.relname = {_lit(c.name, d)}",
                                   "one row: true"))]
            if d == "mysql":
                _, name = _schema_of(t, d)
                return [Item("verify", f"Index {c.name} exists",
                             Query("SELECT count(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE "
                                   f"TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {_lit(name, d)} AND "
                                   f"INDEX_NAME = {_lit(c.name, d)}", "1"))]
            return [Item("verify", f"Index {c.name} exists",
                         Query(f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = {_lit(c.name, d)}",
                               "1"))]
        if c.kind in (Kind.ADD_FOREIGN_KEY, Kind.ADD_CHECK) and c.name:
            if d == "postgresql":
                return [Item("verify", f"Constraint {c.name} is validated",
                             Query(f"SELECT convalidated FROM pg_constraint WHERE conrelid = {_lit(qt, d)}::regclass "
                                   f"AND conname = {_lit(c.name, d)}", "one row: true"))]
            if d == "mysql":
                _, name = _schema_of(t, d)
                return [Item("verify", f"Constraint {c.name} exists",
                             Query("SELECT count(*) FROM information_schema.TABLE_CONSTRAINTS WHERE "
                                   f"CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = {_lit(name, d)} AND "
                                   f"CONSTRAINT_NAME = {_lit(c.name, d)}", "1"))]
            if c.kind == Kind.ADD_FOREIGN_KEY:
                return [Item("verify", f"No row of {t} breaks a foreign key",
                             Query(f"PRAGMA foreign_key_check({qt})", "no rows"))]
            return []
        if c.column and c.kind in (Kind.SET_NOT_NULL, Kind.ADD_COLUMN, Kind.DROP_COLUMN, Kind.RENAME_COLUMN):
            column = c.detail.get("to", c.column) if c.kind == Kind.RENAME_COLUMN else c.column
            exists = self._column_sql(t, column, "count(*)")
            if c.kind == Kind.DROP_COLUMN:
                return [Item("verify", f"Column {t}.{column} is gone", Query(exists, "0"))]
            out = [Item("verify", f"Column {t}.{column} exists", Query(exists, "1"))]
            if c.kind == Kind.SET_NOT_NULL or (c.kind == Kind.ADD_COLUMN and c.new is not None and not c.new.nullable):
                out = [Item("verify", f"Column {t}.{column} is NOT NULL", Query(self._notnull_sql(t, column), "1")),
                       Item("verify", f"No NULLs left in {t}.{column}",
                            Query(f"SELECT count(*) FROM {qt} WHERE {quote_ident(column, d)} IS NULL", "0"))]
            return out
        if c.kind == Kind.DROP_TABLE:
            return [Item("verify", f"Table {t} is gone", Query(self._table_sql(t), "0"))]
        if c.kind == Kind.ADD_TABLE:
            return [Item("verify", f"Table {t} exists", Query(self._table_sql(t), "1"))]
        return []

    def _enum_sql(self, enum: str, value: str) -> str:
        schema, name = _schema_of(enum, "postgresql")
        return ("SELECT count(*) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON "
                f"n.oid = t.typnamespace WHERE n.nspname = {_lit(schema or '', 'postgresql')} AND t.typname = "
                f"{_lit(name, 'postgresql')} AND e.enumlabel = {_lit(value, 'postgresql')}")

    def _column_sql(self, table: str, column: str, what: str) -> str:
        d = self.dialect
        if d == "sqlite":
            _, name = _schema_of(table, d)
            return f"SELECT {what} FROM pragma_table_info({_lit(name, d)}) WHERE name = {_lit(column, d)}"
        return f"SELECT {what} FROM information_schema.columns WHERE {_column_filter(table, column, d)}"

    def _notnull_sql(self, table: str, column: str) -> str:
        if self.dialect == "sqlite":
            return self._column_sql(table, column, '"notnull"')
        return self._column_sql(table, column, "CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END")

    def _table_sql(self, table: str) -> str:
        d = self.dialect
        schema, name = _schema_of(table, d)
        if d == "sqlite":
            return f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = {_lit(name, d)}"
        where = "table_schema = DATABASE()" if d == "mysql" else f"table_schema = {_lit(schema or '', d)}"
        return f"SELECT count(*) FROM information_schema.tables WHERE {where} AND table_name = {_lit(name, d)}"

    def rollback(self, steps: list[Step]) -> tuple[list[str], list[str]]:
        restores, lost = [], []
        for s in steps:
            c = self.changes.get(s.change_id or "")
            if s.backup:
                restores.append(f"{s.title}: restored from {s.backup}")
            if not any(b.code.strip() for b in s.downgrade):
                lost.append(f"not undone: {s.title}")
            elif c is not None and c.kind == Kind.ADD_COLUMN and not self.new_table(c.table):
                lost.append(f"values written to {c.table}.{c.column} since the upgrade are dropped with the column")
            elif c is not None and c.kind == Kind.ADD_TABLE:
                lost.append(f"rows written to {c.table} since the upgrade are dropped with the table")
        return restores, lost

    def cleanup_section(self, rev: Revision, rid: str | None, down: str | None) -> Section:
        seed = ["--rev-id-seed", self.seed] if self.seed is not None else []
        again = " ".join([*self.again, "--alembic", self.ini(), *seed, "--cleanup"])
        upgrade = f"{self.prefix()} upgrade {rid}" if rid else f"{self.prefix()} upgrade +1"
        items = [Item("command", f"Once the release is accepted and will not be rolled back: write the cleanup "
                                 f"revision with `{again}`"),
                 Item("command", f"Run `{upgrade}`")]
        for schema, name in self.plan.kept:
            shown = f"{schema}.{name}" if schema else name
            items.append(Item("verify", f"`{shown}` is gone",
                              Query(self._table_sql(f"{schema}.{name}" if schema else name), "0")))
        drops = tuple(ln[2:] for ln in rev.message.splitlines() if ln.startswith("- "))
        return Section("cleanup", "cleanup", rid, down, upgrade, None,
                       "nothing; run it once the release is accepted and will not be rolled back.", "nothing.",
                       "the final application version", tuple(f"drop {d}" for d in drops), tuple(items), (),
                       ("no downgrade: the backups it drops are gone for good",))


_ENUM_VALUE_KINDS = (Kind.ADD_ENUM_VALUE, Kind.REMOVE_ENUM_VALUE, Kind.RENAME_ENUM_VALUE)


def _risk_phrase(k: Check, c: Change) -> str:
    cols = ", ".join(k.columns)
    if k.kind == CheckKind.DATA_LOSS:
        return f"{k.unit} of {k.table}.{cols}" if cols else f"rows of {k.table}"
    if k.kind == CheckKind.OVERFLOW:
        return f"{k.unit} of {k.table}.{cols} changed by the conversion"
    return f"rows of {k.table} holding {c.detail.get('value')!r}"


def _sample(sample: dict[str, Any], check: Check) -> str:
    from planner.checks import _short

    row = dict(sample)
    n = row.pop("rows", None) if check.kind == CheckKind.DUPLICATES else None
    text = ", ".join(f"{k}={_short(v)}" for k, v in row.items())
    return text + (f" ({n} rows)" if n is not None else "")


def build_checklist(analysis: Analysis, *, source: str, plan: Plan | None = None, project: Project | None = None,
                    seed: str | None = None, db: str | None = None, again: list[str] | None = None,
                    title: str | None = None) -> Checklist:
    """The checklist of `analysis`: `source` is the "OLD -> NEW" text `planner plan` writes into
    every revision (masked), `again` the planner command line (without --alembic/--init) that
    writes the same revisions, `db` the masked URL the pre-flight results come from, `title`
    the revisions' `-m` title (None: named after their changes, as `planner plan` does)."""
    if plan is None:
        from planner.plan.build import build_plan

        cfg = analysis.config
        plan = build_plan(analysis.diff, analysis.old.schema, analysis.new.schema, backfill=cfg.backfill,
                          enum_remap=cfg.enum_remap, convert=cfg.convert,
                          renames_in_place=cfg.renames_in_place)
    return _Builder(analysis, plan, source=source, project=project or Project(None, None, {}, True), seed=seed,
                    db=db, again=again or ["planner", "plan"], title=title).run()
