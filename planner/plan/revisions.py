"""Plan -> Alembic revision files, written with the project's own ScriptDirectory and
script.py.mako (`--alembic alembic.ini`) or into a new runnable project (`--init DIR`)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.operations import ops
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from alembic.util import rev_id as alembic_rev_id

from planner.errors import PlannerError
from planner.plan import pyformat
from planner.plan.ir import (
    DEPLOY_NOTES,
    NEW_APP,
    OLD_APP,
    ONLINE_STAGES,
    Block,
    Guard,
    Phase,
    Plan,
    Step,
    apps,
)
from planner.plan.quoting import force_quotes
from planner.plan.runtime import FILENAME, write_runtime

ENV_PY = '''"""Alembic environment written by planner: the database URL comes from `-x db=URL`
or the DATABASE_URL environment variable; each revision runs in its own transaction
(staged revisions must commit one by one)."""

import os
import random
import sys
import time

from alembic import context
from alembic.util import CommandError
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None
if config.config_file_name is not None and not config.attributes.get(
    "planner_in_process"
):
    # alembic's own "Running upgrade ..." lines (planner runs it in-process without them)
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db") or os.environ.get(
        "DATABASE_URL"
    )
    if not url:
        raise SystemExit("no database URL: pass -x db=URL or set DATABASE_URL")
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    elif url.startswith("mysql://"):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    return url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = _url()
    connectable = engine_from_config(
        section, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    attempts = int(context.get_x_argument(as_dictionary=True).get("lock_retries", 8))
    # (planner's runtime then leaves a lock wait to this loop, which pauses outside any
    # transaction)
    config.attributes["planner_reruns"] = True
    for attempt in range(attempts):
        try:
            with connectable.connect() as connection:
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    transaction_per_migration=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
            return
        except RuntimeError as e:
            # a revision that timed out waiting for a lock rolled back whole: wait outside
            # any transaction, then run the remaining revisions again
            if "planner: lock timeout while" not in str(e):
                raise
            if attempt == attempts - 1:
                raise CommandError(f"{e} (gave up after {attempts} runs)") from None
            pause = min(2**attempt, 30) * random.uniform(0.5, 1.5)
            # (e says "planner: lock timeout ...")
            print(f"{e}; retrying in {pause:.1f} s", file=sys.stderr)
            time.sleep(pause)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


#: script.py.mako of a project planner creates: Alembic's generic template, with the
#: imports each revision needs (no unused `op`/`sa`) and double-quoted identifiers, so the
#: revisions pass `ruff check` and `ruff format --check` with ruff's defaults
SCRIPT_MAKO = '''<%!
def py(value):
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return '"' + str(value).replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"'



def revises(value):
    if not value:
        return ""
    return " " + (", ".join(value) if isinstance(value, (tuple, list)) else value)
%>"""${message}

Revision ID: ${up_revision}
Revises:${revises(down_revision)}
Create Date: ${create_date}

"""

from collections.abc import Sequence
% if imports:

${imports}
% endif

# revision identifiers, used by Alembic.
revision: str = ${py(up_revision)}
down_revision: str | Sequence[str] | None = ${py(down_revision)}
branch_labels: str | Sequence[str] | None = ${py(branch_labels)}
depends_on: str | Sequence[str] | None = ${py(depends_on)}


def upgrade() -> None:
    """Upgrade schema."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Downgrade schema."""
    ${downgrades if downgrades else "pass"}
'''


@dataclass(frozen=True, slots=True)
class Revision:
    message: str
    upgrade: str
    downgrade: str
    #: the application versions (OLD, NEW) that may run while it runs and once it is done (see
    #: ir.apps); empty `during`: every writer must switch at once
    during: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def _indent(code: str, n: int = 4) -> str:
    return textwrap.indent(code, " " * n)


def _escaped(ch: str) -> str:
    return ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")


def comment(text: str) -> str:
    """A `#` comment line of generated Python: every character that is not printable (a
    newline in a name, say) is escaped, so nothing in `text` can end the comment."""
    return "# " + "".join(_escaped(ch) for ch in text)


def docstring_text(text: str) -> str:
    """`text` escaped for a regular triple-quoted docstring (script.py.mako writes
    `\"\"\"${message}`): the module's `__doc__` is `text` again, and no quote, backslash or
    control character in a name can end the string or change what follows."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append(ch)
        else:
            out.append(_escaped(ch))
    return "".join(out)


class _Steps:
    """Numbers the step functions of one revision body: _step_1, _step_2, ..."""

    def __init__(self) -> None:
        self.n = 0

    def wrap(self, code: str) -> str:
        self.n += 1
        return f"def _step_{self.n}() -> None:\n{_indent(code)}\n\nrt.with_lock_retry(_step_{self.n})"


def _blocks(blocks: list[Block], steps: _Steps) -> list[str]:
    out = []
    for b in blocks:
        if not b.code.strip():
            continue
        code = steps.wrap(b.code) if b.retry else b.code
        if not b.autocommit:
            out.append(code)
        elif _single_with(code):  # one `with` of two context managers, not two nested ones
            out.append("with op.get_context().autocommit_block(), " + code.removeprefix("with "))
        else:
            out.append("with op.get_context().autocommit_block():\n" + _indent(code))
    return out


def _merged_guards(steps: list[Step]) -> dict[str, Guard]:
    """Guards of `steps` that run the same query for several changes (a UNIQUE constraint and
    a unique index on the same columns, say): one guard whose message names every change."""
    by_sql: dict[str, list[Guard]] = {}
    for g in (g for s in steps for g in s.guards):
        by_sql.setdefault(g.sql, []).append(g)
    out = {}
    for sql, gs in by_sql.items():
        messages = list(dict.fromkeys(g.message for g in gs))
        if len(messages) > 1 and not gs[0].raises:
            out[sql] = dataclasses.replace(gs[0], message="; ".join(messages))
    return out


def _single_with(code: str) -> bool:
    """Whether `code` is one `with` statement (of one context manager)."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return (len(tree.body) == 1 and isinstance(tree.body[0], ast.With) and len(tree.body[0].items) == 1
            and code.startswith("with "))


def _body(steps: list[Step], *, downgrade: bool, single: bool = False, seen: set[str] | None = None,
          merged: dict[str, Guard] | None = None, hoist_backups: bool = False, check: str | None = None,
          prelude: tuple[str, ...] = ()) -> str:
    """A revision body; `single` (every phase in one revision): guards that read what an
    earlier phase creates run right before their step instead of at the top. `seen` holds
    the guards earlier revisions of the plan run: an identical guard runs once per plan.
    `hoist_backups` (PostgreSQL): the backups of the transactional steps run before the first
    of them, so no backup copies a table while an earlier step holds a strong lock. `check`:
    the `planner check` command a guard's stop names."""
    parts = ["rt.set_timeouts()", *prelude]
    numbering = _Steps()
    seen = set() if seen is None else seen
    merged = _merged_guards(steps) if merged is None else merged

    def fresh(g: Guard) -> bool:
        if g.sql in seen:
            return False
        seen.add(g.sql)
        return True

    if downgrade:
        for s in reversed(steps):
            if s.downgrade:
                parts.append(comment(f"undo: {s.title}"))
                parts.extend(_blocks(list(s.downgrade), numbering))
        finals = [b.final for s in reversed(steps) for b in s.downgrade if b.final]
        if finals:
            parts.append("# the backups restored above, once the whole revision is undone")
            parts.extend(finals)
    else:
        guards = [g for s in steps for g in s.guards if not (single and g.inline) and fresh(g)]
        if guards:
            parts.append("# pre-flight guards: stop before any DDL if existing rows would break a change")
            parts.extend(merged.get(g.sql, g).code(check) for g in guards)
        if not hoist_backups:  # (each runs before its step too; MySQL's steps commit one by one)
            stale = list(dict.fromkeys(ln.strip() for s in steps for b in s.upgrade for ln in b.code.splitlines()
                                       if ln.strip().startswith("rt.fresh_backup(")))
            if stale:
                parts.append("# no backup this revision makes is left by an earlier release: stop before any DDL")
                parts.extend(stale)
        transactional = [s for s in steps if s.at not in ONLINE_STAGES and any(b.code.strip() for b in s.upgrade)]
        hoisted = [b for s in transactional for b in s.upgrade if b.backup and not b.autocommit]
        # (the first transactional step starts with its own backups: nothing to move then)
        if not hoist_backups or all(b in transactional[0].upgrade for b in hoisted):
            hoisted = []
        moved: list[Block] = []
        for s in steps:
            if hoisted and s.at not in ONLINE_STAGES and any(b.code.strip() for b in s.upgrade):
                # the transactional part starts here (after the online work, so nothing is
                # committed before it)
                parts.append("# backups first: no copy runs while a step of this revision holds a strong lock")
                parts.extend(_blocks(hoisted, numbering))
                moved, hoisted = hoisted, []
            if s.upgrade:
                parts.append(comment(s.title))
                parts.extend(merged.get(g.sql, g).code(check) for g in s.guards if single and g.inline and fresh(g))
                parts.extend(_blocks([b for b in s.upgrade if b not in moved], numbering))
    return "\n".join(parts) if len(parts) > 1 else "pass"


def default_title(steps: list[Step]) -> str:
    """A short revision title from the changes its steps carry out (never from the sources'
    paths or URLs): `add column users.email`, `drop column on a.x, b.y and 2 more`,
    `5 changes to users, posts and 1 more table`."""
    ids = list(dict.fromkeys(s.change_id for s in steps if s.change_id))
    if not ids:
        return " ".join(steps[0].title.split()) if steps else "no changes"
    parsed = [(kind.replace("_", " "), " ".join(obj.split())) for kind, _, obj in (i.partition(":") for i in ids)]
    if len(parsed) == 1:
        return f"{parsed[0][0]} {parsed[0][1]}"
    kinds = list(dict.fromkeys(k for k, _ in parsed))
    if len(kinds) == 1:
        objs = [o for _, o in parsed]
        more = f" and {len(objs) - 2} more" if len(objs) > 2 else ""
        return f"{kinds[0]} on {', '.join(objs[:2])}{more}" if more else f"{kinds[0]} on {' and '.join(objs)}"
    tables = list(dict.fromkeys(o.split(".", 1)[0] for _, o in parsed))
    rest = len(tables) - 3
    more = f" and {rest} more table{'s' if rest > 1 else ''}" if rest > 0 else ""
    return f"{len(parsed)} changes to {', '.join(tables[:3])}{more}"


def _versions(names: tuple[str, ...]) -> str:
    return " and ".join(names) if names else "none"


def apps_line(during: tuple[str, ...], after: tuple[str, ...]) -> str:
    """The docstring line naming the application versions that may run during and after a
    revision (OLD: the code for the old schema, NEW: the code for the new one)."""
    if not during:
        return (f"Application versions: no version works both before and after this revision: stop every "
                f"writer of OLD, run it, then start {_versions(after)} (all writers switch at once); "
                f"after it: {_versions(after)}.")
    return f"Application versions: during this revision: {_versions(during)}; after it: {_versions(after)}."


def _message(phase: str, steps: list[Step], source: str, notes: tuple[str, str] | None,
             title: str | None = None, versions: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> str:
    """The revision's docstring: `phase: title` first (Alembic's history line and the file
    name's slug), the sources below it."""
    lines = [f"{phase}: {title or default_title(steps)}", "", f"From: {source}", ""]
    if notes:
        lines += list(notes)
        if versions is not None:
            lines.append(apps_line(*versions))
        lines.append("")
    lines.append("Steps:")
    lines += [f"- {s.title}" for s in steps]
    backups = [s.backup for s in steps if s.backup]
    if backups:
        lines += ["", "Backups (restored by downgrade; dropped by the cleanup revision, written once the "
                      "release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):"]
        lines += [f"- {b}" for b in backups]
    return "\n".join(lines)


def _part_notes(phase: Phase, i: int, n: int) -> tuple[str, str]:
    """Deploy notes of part i of n of a phase: the phase's "before" on its first part, its
    "after" on its last, and nothing to deploy between the parts."""
    before, after = DEPLOY_NOTES[phase]
    between = f"the next {phase.value} revision right after this one (nothing to deploy in between)."
    return (before if i == 0 else "Deploy before: nothing; this continues the previous revision.",
            after if i == n - 1 else "Deploy after: nothing; run " + between)


def revisions(plan: Plan, *, source: str, single: bool = False, title: str | None = None,
              check: str | None = None) -> list[Revision]:
    """The plan's revisions; `title` (`-m`) names them all, else each is named after its changes;
    `check`: the `planner check` command a guard's stop names (how to see every offending row)."""
    seen: set[str] = set()  # guards already run by an earlier revision of the plan
    merged = _merged_guards(list(plan.steps))
    # (every revision, both ways: each may run in a session of its own)
    prelude = (f"rt.current_schema_not({', '.join(repr(x) for x in plan.named_schemas)})",) \
        if plan.named_schemas else ()
    hoist = plan.dialect == "postgresql"
    if single:
        steps = [s for phase in plan.phases() for s in plan.steps_of(phase)]
        versions = apps([steps])[0]
        msg = _message("single revision", steps, source,
                       ("Deploy before: code compatible with both schemas (this revision drops and renames).",
                        "Deploy after: the code for the new schema."), title, versions)
        return [Revision(msg, _body(steps, downgrade=False, single=True, seen=seen, merged=merged, check=check,
                               prelude=prelude),
                         _body(steps, downgrade=True, prelude=prelude), *versions)]
    named = []
    for phase in plan.phases():
        parts = plan.parts(phase)
        for i, steps in enumerate(parts):
            name = phase.value if len(parts) == 1 else f"{phase.value} {i + 1}/{len(parts)}"
            named.append((name, steps, _part_notes(Phase(phase), i, len(parts))))
    out = []
    before: tuple[str, ...] = (OLD_APP,)
    for (name, steps, notes), versions in zip(named, apps([n[1] for n in named]), strict=True):
        notes = _app_notes(notes, before, *versions)
        before = versions[1]
        out.append(Revision(_message(name, steps, source, notes, title, versions),
                            _body(steps, downgrade=False, seen=seen, merged=merged, hoist_backups=hoist, check=check,
                                  prelude=prelude),
                            _body(steps, downgrade=True, prelude=prelude), *versions))
    return out


def _app_notes(notes: tuple[str, str], before: tuple[str, ...], during: tuple[str, ...],
               after: tuple[str, ...]) -> tuple[str, str]:
    """The phase's deploy notes, where they would contradict the application versions that
    may run (ir.apps): nothing to deploy while NEW must wait for a later revision, and the
    switch of every writer at once where no version works both before and after."""
    first, last = notes
    if not during:
        first = "Deploy before: nothing yet; stop every OLD writer when this revision starts (no version works " \
                "both before and after it)."
        last = f"Deploy after: {_versions(after)} (start it as soon as this revision is done)."
    elif NEW_APP not in before and NEW_APP not in during and not first.startswith("Deploy before: nothing"):
        first = "Deploy before: nothing; the running OLD application keeps working during this revision."
    if during and NEW_APP not in after and not last.startswith("Deploy after: nothing"):
        last = "Deploy after: nothing yet; the NEW application may run only once a later revision is done."
    return first, last


def cleanup_revision(plan: Plan, *, source: str, title: str | None = None) -> Revision | None:
    """The revision that drops what the plan's upgrade kept for its downgrade (backup tables,
    tables moved aside): to run once the release is accepted. It has no way back."""
    if not plan.kept:
        return None
    from planner.plan.build import render

    names = [f"{schema}.{table}" if schema else table for schema, table in plan.kept]
    n = len(plan.kept)
    msg = "\n".join([f"cleanup: {title or f'drop {n} backup table' + ('s' if n > 1 else '')}", "",
                     f"From: {source}", "",
                     "Deploy before: nothing; run it once the release is accepted and will not be rolled back.",
                     "Deploy after: nothing.", "",
                     "Drops (no downgrade: the data in them is gone for good):", *[f"- {n}" for n in names]])
    drops = render([ops.DropTableOp(table, schema=schema, if_exists=True) for schema, table in plan.kept],
                   plan.dialect)
    if plan.dialect == "postgresql":
        from planner.plan.build import forget_names_aside

        drops += "\n" + forget_names_aside([table for _, table in plan.kept])
    down = ("raise RuntimeError(\"planner: the cleanup revision dropped the backups the earlier revisions' "
            "downgrades restore from; there is no way back past it\")")
    return Revision(msg, "rt.set_timeouts()\n# drop the backups and moved-aside tables kept for the downgrade\n" + drops,
                    down)


def holds(doc: str, message: str) -> bool:
    """Whether a revision's docstring `doc` is the revision `message` (whatever title `-m` gave
    either): the same phase and the same text below the title line."""
    head, _, rest = message.partition("\n")
    doc_head, _, doc_rest = doc.partition("\n")
    return doc_head.split(": ", 1)[0] == head.split(": ", 1)[0] and doc_rest.startswith(rest + "\n")


def rev_id(seed: str | None, index: int, message: str, down: str | None) -> str | None:
    """Deterministic revision ids with --rev-id-seed (Alembic's own uuid-based ids otherwise);
    the parent revision is part of the seed, so the same plan chained twice gets new ids."""
    if seed is None:
        return None
    return hashlib.sha1(f"{seed}:{index}:{down}:{message}".encode()).hexdigest()[:12]


def init_project(directory: str) -> Config:
    """A runnable Alembic project in DIRECTORY (env.py takes -x db=URL or DATABASE_URL)."""
    path = Path(directory)
    if path.exists() and any(path.iterdir()):
        raise PlannerError(f"{directory}: folder exists and is not empty",
                           hint="give a new folder to --init, or use --alembic with an existing project")
    path.mkdir(parents=True, exist_ok=True)
    ini = path / "alembic.ini"
    cfg = Config(str(ini), stdout=io.StringIO())  # planner reports the files itself
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Alembic's "Creating directory ..." lines
            command.init(cfg, str(path / "migrations"), template="generic")
    except CommandError as e:
        raise PlannerError(f"cannot create the Alembic project in {directory}: {e}") from None
    (path / "migrations" / "env.py").write_text(ENV_PY)
    (path / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)
    text = ini.read_text()
    # relative to the ini's folder: the project works wherever it is moved or checked out
    text = re.sub(r"(?m)^script_location = .*$", lambda _: "script_location = %(here)s/migrations", text, count=1)
    text = text.replace("sqlalchemy.url = driver://user:pass@localhost/dbname",
                        "# the URL comes from -x db=URL or DATABASE_URL (see migrations/env.py)\nsqlalchemy.url =")
    ini.write_text(text)
    return Config(str(ini))


def write_revisions(revs: list[Revision], cfg: Config, *, seed: str | None = None) -> list[Path]:
    """Chain `revs` onto the project's single head, rendered with its script.py.mako."""
    try:
        script = ScriptDirectory.from_config(cfg)
        heads = script.get_heads()
    except CommandError as e:
        raise PlannerError(f"{cfg.config_file_name}: not a usable Alembic project ({e})") from None
    if len(heads) > 1:
        raise PlannerError(f"{cfg.config_file_name}: the project has {len(heads)} heads ({', '.join(heads)})",
                           hint="merge them first (alembic merge heads)")
    if seed is not None:  # reproducible files: fixed revision ids and Create Date
        fixed = dt.datetime(2000, 1, 1)
        script._generate_create_date = lambda: fixed  # type: ignore[method-assign]
    head = heads[0] if heads else None
    existing_revisions = list(script.walk_revisions())
    taken = {existing.revision for existing in existing_revisions}
    for existing in existing_revisions:
        doc = getattr(existing.module, "__doc__", None) or ""
        for r in revs:
            if holds(doc, r.message):
                raise PlannerError(
                    f"{cfg.config_file_name}: revision {existing.revision} already holds "
                    f"the {r.message.split(':', 1)[0]} revision (\"{doc.splitlines()[0]}\"): this plan is in "
                    "the project already",
                    hint="plan from what the database holds now (e.g. OLD = its URL), or remove the earlier revisions")
    template_path = Path(script.dir) / "script.py.mako"
    template = template_path.read_text() if template_path.is_file() else ""
    written: list[Path] = []
    try:
        runtime = write_runtime(script.dir)
        if runtime is not None:
            written.append(runtime)
        for i, r in enumerate(revs):
            rid = rev_id(seed, i, r.message, head) or alembic_rev_id()
            if rid in taken:
                raise PlannerError(f"revision {rid} already exists in {cfg.config_file_name}",
                                   hint="use another --rev-id-seed")
            upgrade, downgrade = (_with_runtime(force_quotes(code)) for code in (r.upgrade, r.downgrade))
            imports = _imports(upgrade + "\n" + downgrade, template)
            with contextlib.redirect_stdout(io.StringIO()):  # Alembic's "Generating ..." lines
                sc = script.generate_revision(rid, docstring_text(r.message), head=head,
                                              upgrades=pyformat.body(upgrade).removeprefix("    "),
                                              downgrades=pyformat.body(downgrade).removeprefix("    "),
                                              imports="\n".join(imports))
            if sc is None:
                raise PlannerError("Alembic did not write the revision")
            path = _slug_from_title(Path(sc.path), script, r.message)
            written.append(path)
            _check_written(path, r, imports)
            head = sc.revision
            taken.add(head)
    except BaseException:
        for path in written:  # a failed render never leaves a file behind
            path.unlink(missing_ok=True)
        raise
    return written


def _slug(text: str, limit: int) -> str:
    """Alembic's file-name slug of a message (`ScriptDirectory._rev_path`)."""
    slug = "_".join(re.findall(r"\w+", text)).lower()
    return slug[:limit].rsplit("_", 1)[0] + "_" if len(slug) > limit else slug


def _slug_from_title(path: Path, script: ScriptDirectory, message: str) -> Path:
    """Alembic names the file after the whole message (its slug runs on into the "From:"
    line with the sources' paths): rename it after the title line alone."""
    limit = script.truncate_slug_length
    whole, title = _slug(message, limit), _slug(message.split("\n", 1)[0], limit)
    if whole == title or not whole or whole not in path.name:
        return path
    renamed = path.with_name(path.name.replace(whole, title, 1))
    path.rename(renamed)
    return renamed


#: what a revision body may use at module level: the module it comes from and, for a
#: straight import, its alias (`import sqlalchemy as sa`)
_IMPORTS = {"sa": ("sqlalchemy", True), "context": ("alembic", False), "op": ("alembic", False),
            "load_python_file": ("alembic.util", False),
            **{d: ("sqlalchemy.dialects", False) for d in ("mysql", "postgresql", "sqlite")}}
#: the line of a revision body that loads the runtime module (see runtime.py)
LOAD_RUNTIME = f'rt = load_python_file(context.script.dir, "{FILENAME}")'


def _names(code: str) -> set[str]:
    """The names `code` reads (NAME tokens that are not attributes or keyword arguments)."""
    import keyword
    import tokenize

    out: set[str] = set()
    prev = None
    tokens = list(tokenize.generate_tokens(io.StringIO(code + "\n").readline))
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
            after = tokens[i + 1].string if i + 1 < len(tokens) else ""
            if not (prev is not None and prev.string == ".") and after != "=":
                out.add(tok.string)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            prev = tok
    return out


def _with_runtime(body: str) -> str:
    """`body` with the line that loads the runtime module first, when it uses it."""
    if "rt" not in _names(body):
        return body
    return ("# planner's runtime helpers (guards, lock retries, batches), beside env.py\n"
            f"{LOAD_RUNTIME}\n{body}")


def _bound(code: str) -> set[str]:
    """The names the import lines of `code` (a template: only its lines that parse) bind."""
    import ast

    out: set[str] = set()
    for line in code.splitlines():
        try:
            tree = ast.parse(line.strip())
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                out |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return out


def _imports(code: str, template: str) -> list[str]:
    """The import lines `code` needs that the project's script.py.mako does not write itself,
    sorted and merged as isort (ruff's I001) wants them."""
    needed = sorted(name for name in _names(code) - _bound(template) if name in _IMPORTS)
    straight = [f"import {_IMPORTS[n][0]} as {n}" for n in needed if _IMPORTS[n][1]]
    froms: dict[str, list[str]] = {}
    for n in needed:
        if not _IMPORTS[n][1]:
            froms.setdefault(_IMPORTS[n][0], []).append(n)
    return sorted(straight) + [f"from {m} import {', '.join(names)}" for m, names in sorted(froms.items())]


def _check_written(path: Path, rev: Revision, imports: list[str]) -> None:
    """The file Alembic wrote compiles, and its docstring is the revision's message (a
    project template that writes the message elsewhere, unescaped, is refused); the imports
    the body needs are there (a template without `${imports}` is refused)."""
    import ast

    text = path.read_text()
    try:
        tree = ast.parse(text, str(path))
    except SyntaxError as e:
        raise PlannerError(f"{path}: the rendered revision does not compile ({e.msg}, line {e.lineno}); "
                           "nothing was written",
                           hint="check the project's script.py.mako; please report this") from None
    if rev.message not in (ast.get_docstring(tree, clean=False) or ""):
        raise PlannerError(f"{path}: the project's script.py.mako does not start the revision with "
                           "\"\"\"${message}; nothing was written", hint="restore Alembic's template header")
    bound = {(a.asname or a.name).split(".")[0] for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
             for a in node.names}
    missing = sorted((_names("\n".join(imports)) & set(_IMPORTS)) - bound)
    if missing:
        raise PlannerError(f"{path}: the project's script.py.mako does not write ${{imports}}, so the revision "
                           f"would not import {', '.join(missing)}; nothing was written",
                           hint="add a line ${imports if imports else \"\"} after the template's imports")


_OFFLINE_URLS = {"postgresql": "postgresql+psycopg://offline@localhost/offline",
                 "mysql": "mysql+pymysql://offline@localhost/offline", "sqlite": "sqlite://"}


def env_py(cfg: Config) -> str:
    """The text of the project's env.py ("" when there is none)."""
    env = Path(ScriptDirectory.from_config(cfg).dir) / "env.py"
    return env.read_text() if env.is_file() else ""


def runs_each_revision_in_its_own_transaction(env_text: str) -> bool:
    """Whether env.py (its text) asks for transaction_per_migration, which revisions with
    autocommit blocks need, Alembic's docs say."""
    return "transaction_per_migration=True" in env_text.replace(" ", "")


def offline_sql(revs: list[Revision], dialect: str, *, url: str | None = None) -> str:
    """`alembic upgrade head --sql` for `revs` in a throwaway project: the script a DBA would
    run by hand (no database is contacted; `url` only picks the dialect)."""
    import argparse
    import tempfile

    with tempfile.TemporaryDirectory(prefix="planner-offline-") as tmp:
        cfg = init_project(str(Path(tmp) / "project"))
        cfg.cmd_opts = argparse.Namespace(x=[f"db={url or _OFFLINE_URLS[dialect]}"])
        cfg.attributes["planner_in_process"] = True
        write_revisions(revs, cfg, seed="offline")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            command.upgrade(cfg, "head", sql=True)
    return out.getvalue()
