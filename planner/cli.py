"""The `planner` command line. Thin: parse options, call the library, render, pick the exit code.

Exit codes: 0 done; 1 findings at or above --fail-on (or failed pre-flight checks);
2 bad usage or input (one line on stderr; the traceback only with --debug).
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from planner import __version__
from planner.cli_usage import OneLineUsageGroup, hide_flag_types
from planner.errors import PlannerError
from planner.urls import is_url, mask_url, redact

app = typer.Typer(
    name="planner",
    help="Make database schema changes safe to ship: diff two schemas, see what each change risks.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    cls=OneLineUsageGroup,  # usage errors: one line, exit 2
)
hide_flag_types()  # no `<bool>` after flags in help

log = logging.getLogger("planner")


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"


class InspectFormat(StrEnum):
    text = "text"
    json = "json"


def _stdout() -> Console:
    console = Console(highlight=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=140, soft_wrap=True, emoji=False)  # piped: no wrapping
    return console


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class _State:
    debug = False
    #: the database URLs the running command was given: masked in everything it prints
    urls: tuple[str, ...] = ()


def _safe(text: str) -> str:
    """`text` with the command's database URLs masked and their passwords scrubbed."""
    return redact(text, _State.urls)


def fail(message: str) -> NoReturn:
    _stderr().print(f"[bold red]error[/bold red]: {_safe(message)}", markup=True, highlight=False)
    raise typer.Exit(code=2)


def guard(fn):  # noqa: ANN001, ANN201
    """Wrap a command: PlannerError -> one line and exit 2; any other error too (an internal
    error, reported as such). --debug adds the traceback (the exit code stays 2). Whatever
    it prints or logs has the command's database URLs masked."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        _State.urls = _urls_in([*args, *kwargs.values()])
        from planner import progress

        progress.enable(not kwargs.get("quiet") and sys.stderr.isatty() and not os.environ.get("CI"))
        try:
            with _redacted_logs():
                return fn(*args, **kwargs)
        except PlannerError as e:
            _traceback()
            fail(_escape(_safe(str(e))))
        except (KeyboardInterrupt, typer.Exit):
            raise
        except Exception as e:  # a bug: still one line (and exit 2); --debug adds the traceback
            _traceback()
            fail(_escape(_safe(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback "
                               "and please report it)")))

    return wrapper


def _urls_in(values: list[object]) -> tuple[str, ...]:
    flat = [x for v in values for x in (v if isinstance(v, (list, tuple)) else [v])]
    return tuple(x for x in flat if isinstance(x, str) and is_url(x))


def _traceback() -> None:
    """With --debug: the traceback of the error being handled, on stderr, URLs masked."""
    if _State.debug:
        sys.stderr.write(_safe(traceback.format_exc()))
        sys.stderr.flush()


class _RedactLogs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _State.urls:
            record.msg, record.args = _safe(record.getMessage()), None
        return True


@contextmanager
def _redacted_logs() -> Iterator[None]:
    """Mask the command's URLs in every log line (--verbose, --debug) while it runs."""
    handlers = [h for h in logging.getLogger().handlers if not any(isinstance(f, _RedactLogs) for f in h.filters)]
    redactor = _RedactLogs()
    for h in handlers:
        h.addFilter(redactor)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(redactor)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planner {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Show tracebacks and planner's debug log (also after the command).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Log planner's decisions: what it loaded, why each change gets its path, "
                                "timings (also after the command).")] = False,
) -> None:
    """planner: diff, classify and stage database schema changes."""
    _State.debug = debug
    _logging(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)


def _logging(level: int) -> None:
    """planner's own log at `level` on stderr; the libraries' (Alembic's plugin set-up, SQLAlchemy)
    stay at warnings, whatever --verbose/--debug say."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("planner").setLevel(level if level < logging.WARNING else logging.NOTSET)  # NOTSET: the root's


#: every command's help ends with the global options it also takes (they may follow the command)
GLOBAL_EPILOG = "Also after the command: --verbose/-v (planner's decisions and timings), --debug (tracebacks)."


class Dialect(StrEnum):
    postgresql = "postgresql"
    mysql = "mysql"
    sqlite = "sqlite"


class FailLevel(StrEnum):
    safe = "safe"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


DialectOpt = Annotated[Dialect | None, typer.Option(
    "--dialect", "-d", case_sensitive=False,
    help="SQL dialect of the sources (inferred from a Prisma datasource or a URL).")]
ConfigOpt = Annotated[str | None, typer.Option(
    "--config", metavar="FILE",
    help="A config file read on top of the project's ([tool.planner] in ./pyproject.toml, or "
                     "./planner.toml): per-release renames, backfill, enum_remap.")]
NoConfigOpt = Annotated[bool, typer.Option(
    "--no-config", help="Ignore the project's config (pyproject.toml, planner.toml); --config still applies.")]
RenameOpt = Annotated[list[str] | None, typer.Option(
    "--rename", metavar="OLD=NEW",
    help="Confirm a rename: table.old=new, old_table=new_table, Enum.OLD=NEW (repeatable).")]
MessageOpt = Annotated[str | None, typer.Option(
    "--message", "-m", metavar="TEXT",
    help="The revisions' title (Alembic's history line and file-name slug), e.g. \"add webhooks\"; default: "
         "named after each revision's changes.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No warnings; only the result.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


def _warn(loaded, quiet: bool) -> None:  # noqa: ANN001
    if quiet:
        return
    err = _stderr()
    for w in loaded.warnings:
        err.print(f"[yellow]warning[/yellow]: {_escape(_safe(str(w)))}", markup=True)


FailOnOpt = Annotated[FailLevel | None, typer.Option(
    "--fail-on", case_sensitive=False, help="Exit 1 when a change reaches this level.")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", metavar="URL", help="Database URL (read-only): row estimates scale lock risk.")]


def _fail_level(fail_on: str | None, cfg) -> object | None:  # noqa: ANN001
    from planner.rules import Level

    text = fail_on or cfg.fail_on
    if text is None:
        return None
    try:
        return Level.parse(text)
    except ValueError as e:
        fail(_escape(f"--fail-on: {e}"))


def _sources(analysis) -> tuple[str, str]:  # noqa: ANN001
    """OLD's and NEW's names as every header and written file shows them (URLs masked)."""
    return mask_url(analysis.old.source), mask_url(analysis.new.source)


def _analyzed(old: str, new: str, cfg, dialect: str | None, rename: list[str] | None, quiet: bool,  # noqa: ANN001
              db: str | None = None):  # noqa: ANN202
    """`analyze(OLD, NEW)` with the loaders' warnings on stderr (unless `quiet`)."""
    from planner.pipeline import analyze

    analysis = analyze(old, new, config=cfg, dialect=dialect, renames=rename or [], db=db)
    _warn(analysis.old, quiet)
    _warn(analysis.new, quiet)
    return analysis


def _report_waivers(analysis, quiet: bool) -> None:  # noqa: ANN001
    if quiet:
        return
    err = _stderr()
    for w in analysis.assessment.waivers.expired:
        err.print(f"[yellow]warning[/yellow]: expired waiver (no longer applied): {_escape(str(w))}", markup=True)
    for w in analysis.assessment.waivers.unused:
        err.print(f"[yellow]warning[/yellow]: unused waiver (matches no finding): {_escape(str(w))}", markup=True)


@app.command(epilog=GLOBAL_EPILOG)
@guard
def diff(
    old: Annotated[str, typer.Argument(help="Current schema: .prisma, .sql, migrations folder, URL, "
                                            "module:attr or 'empty'.")],
    new: Annotated[str, typer.Argument(help="Target schema (same kinds of source).")],
    dialect: DialectOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    fail_on: FailOnOpt = None,
    db: DbOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show every change between OLD and NEW with its risk: level, rule code, why, and the safe way."""
    _State.debug = _State.debug or debug
    from planner.config import load_config

    cfg = load_config(config, no_config=no_config)
    threshold = _fail_level(fail_on, cfg)
    analysis = _analyzed(old, new, cfg, dialect, rename, quiet, db=db)
    _report_waivers(analysis, quiet)
    result, a = analysis.diff, analysis.assessment
    levels, findings = a.level_names(), a.findings_json()
    d = analysis.dialect
    old_source, new_source = _sources(analysis)
    if format == Format.json:
        from planner.render.json_report import diff_document, dumps

        sys.stdout.write(dumps(diff_document(result, dialect=d, old_source=old_source,
                                             new_source=new_source, levels=levels, findings=findings)))
    elif format == Format.markdown:
        from planner.render.markdown import diff_markdown

        sys.stdout.write(diff_markdown(result, old_source=old_source, new_source=new_source,
                                       dialect=d, levels=levels, findings=findings))
    elif format in (Format.sarif, Format.github):
        from planner.render.github import diff_annotations
        from planner.render.json_report import dumps
        from planner.render.sarif import diff_sarif

        render = diff_sarif if format == Format.sarif else diff_annotations
        out = render(result, old=analysis.old.schema, new=analysis.new.schema, old_source=old_source,
                     new_source=new_source, levels=levels, findings=findings)
        sys.stdout.write(dumps(out) if format == Format.sarif else out)
    else:
        from planner.render.terminal import diff_view

        _stdout().print(diff_view(result, levels=levels, findings=findings))
    if threshold is not None and result.changes and a.max_level >= threshold:
        if not quiet:
            _stderr().print(f"[bold]fail-on[/bold]: a change reaches {a.max_level} (threshold {threshold})",
                            markup=True)
        raise typer.Exit(code=1)


@app.command(epilog=GLOBAL_EPILOG)
@guard
def inspect(
    source: Annotated[str, typer.Argument(help="A schema source: .prisma, .sql, migrations folder, URL, "
                                               "module:attr.")],
    dialect: DialectOpt = None,
    format: Annotated[InspectFormat, typer.Option("--format", "-f", help="Output format.")] = InspectFormat.text,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show the normalised schema as planner sees it (names, canonical types, defaults)."""
    _State.debug = _State.debug or debug
    from planner.load import load_source

    loaded = load_source(source, dialect=dialect)
    _warn(loaded, quiet)
    if format == InspectFormat.json:
        from planner.render.json_report import dumps, schema_document

        sys.stdout.write(dumps(schema_document(loaded.schema, source=mask_url(loaded.source),
                                               warnings=[str(w) for w in loaded.warnings])))
    else:
        from planner.render.terminal import schema_plain, schema_view

        console = _stdout()
        if not console.is_terminal and console.soft_wrap and console.encoding.lower().startswith("utf"):
            # piped: the same lines without rich's per-line rendering (5,000 tables: ~0.8 s less)
            text = schema_plain(loaded.schema, source=mask_url(loaded.source), width=console.width)
            if text is not None:
                console.file.write(text)
                return
        console.print(schema_view(loaded.schema, source=mask_url(loaded.source)))


@app.command(epilog=GLOBAL_EPILOG)
@guard
def rules(
    code: Annotated[str | None, typer.Argument(help="A rule code (DS102) or slug (drop-column).")] = None,
    format: Annotated[InspectFormat, typer.Option("--format", "-f", help="Output format.")] = InspectFormat.text,
    debug: DebugOpt = False,
) -> None:
    """List the risk rules, or print one rule's documentation with its playbook."""
    _State.debug = _State.debug or debug
    from planner.render.rules_doc import rule_markdown, rules_document, rules_table
    from planner.rules import RULES

    if code is None:
        if format == InspectFormat.json:
            from planner.render.json_report import dumps

            sys.stdout.write(dumps(rules_document()))
        else:
            _stdout().print(rules_table())
        return
    spec = RULES.get(code.upper()) or next((r for r in RULES.values() if r.slug == code.lower()), None)
    if spec is None:
        fail(_escape(f"no rule {code!r}; `planner rules` lists them"))
    text = rule_markdown(spec)
    if format == InspectFormat.json:
        from planner.render.json_report import dumps

        sys.stdout.write(dumps({**rules_document(only=spec.code), "markdown": text}))
    else:
        from rich.markdown import Markdown

        console = _stdout()
        # the document is Markdown, not Rich markup: `[tool.planner.backfill]` stays as written
        console.print(Markdown(text) if console.is_terminal else text, markup=False)


class _CheckProgress:
    """A rich progress bar on stderr while checks run: only on a terminal, for two or more."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.task = None
        self.total = 0

    def __enter__(self) -> _CheckProgress:
        return self

    def __call__(self, check, index: int, total: int) -> None:  # noqa: ANN001
        if not self.enabled or total < 2:
            return
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=_stderr(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("pre-flight", total=total)
        self.total = total
        self.bar.update(self.task, completed=index, description=f"{check.kind.value} {check.table}")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=self.total)
            self.bar.stop()


#: the PostgreSQL version `check --sql` writes for without --server-version: the oldest supported
SQL_FILE_PG_VERSION = 12


def _major_version(text: str) -> int:
    """`16`, `15.4` or `15.4 (Debian 15.4-1)` (what `SHOW server_version` prints) -> the major version."""
    import re

    m = re.match(r"\s*(\d+)(?:\.\d+)*(?:\s|$)", text)
    if m is None or int(m.group(1)) < 1:
        fail(_escape(f"--server-version {text!r}: expected the PostgreSQL version, e.g. 16 or 15.4"))
    return int(m.group(1))


@app.command(epilog=GLOBAL_EPILOG)
@guard
def check(
    old: Annotated[str, typer.Argument(help="Current schema (what the database holds): .prisma, .sql, "
                                            "migrations folder, URL, module:attr.")],
    new: Annotated[str, typer.Argument(help="Target schema (same kinds of source).")],
    db: Annotated[str | None, typer.Option(
        "--db", help="Database holding OLD: run the checks there, read-only.")] = None,
    sql: Annotated[bool, typer.Option(
        "--sql", help="Print the checks as one commented SQL file (for a DBA, on a replica); no --db.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, help="Statement timeout per check, in seconds.")] = 30.0,
    sample: Annotated[int, typer.Option("--sample", min=0, help="Offending rows shown per check.")] = 5,
    server_version: Annotated[str | None, typer.Option(
        "--server-version", metavar="N",
        help="With --sql: the PostgreSQL version the file will run on (16, 15.4); 16+ tests casts exactly "
             "with pg_input_is_valid. Default: SQL that runs on PostgreSQL 12 and later. --db asks the "
             "server.")] = None,
    format: Annotated[InspectFormat, typer.Option("--format", "-f", help="Output format.")] = InspectFormat.text,
    dialect: DialectOpt = None,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Find the rows each change would break: count and sample them read-only (--db), or print the SQL (--sql).

    Exit code 1 when a blocking check finds rows (or cannot run); data_loss checks only inform.
    """
    _State.debug = _State.debug or debug
    if sql == bool(db):
        fail("give --db URL to run the checks, or --sql to print them (one of the two)")
    if sql and format != InspectFormat.text:
        fail("--sql prints SQL; --format applies when the checks run with --db")
    if db and server_version is not None:
        fail("--server-version applies to --sql; with --db planner reads the version from the server")
    major = _major_version(server_version) if server_version is not None else None
    from planner.checks import build_checks, preflight
    from planner.config import load_config
    from planner.render.checks import check_document, checks_sql, checks_view

    cfg = load_config(config, no_config=no_config)
    analysis = _analyzed(old, new, cfg, dialect, rename, quiet)
    schemas = (analysis.diff, analysis.old.schema, analysis.new.schema)
    old_source, new_source = _sources(analysis)
    if sql:
        if major is not None and analysis.dialect != "postgresql":
            fail(f"--server-version is the PostgreSQL version; the schemas are {analysis.dialect}")
        # without a version: the forms every supported PostgreSQL runs (12+; exact casts need 16)
        version = (major or SQL_FILE_PG_VERSION) if analysis.dialect == "postgresql" else None
        checks = build_checks(*schemas, analysis.dialect, server_version=version, sample=sample,
                              convert=cfg.convert, backfill=cfg.backfill, enum_remap=cfg.enum_remap)
        sys.stdout.write(checks_sql(checks, dialect=analysis.dialect, old_source=old_source,
                                    new_source=new_source, timeout_s=timeout, sample=sample,
                                    server_version=version))
        return
    with _CheckProgress(enabled=not quiet and _stderr().is_terminal) as progress:
        pre = preflight(*schemas, db, timeout_s=timeout, sample=sample, progress=progress, convert=cfg.convert,
                        backfill=cfg.backfill, enum_remap=cfg.enum_remap)
    if format == InspectFormat.json:
        from planner.render.json_report import dumps

        sys.stdout.write(dumps(check_document(pre.outcomes, dialect=pre.dialect, old_source=old_source,
                                              new_source=new_source)))
    else:
        _stdout().print(checks_view(pre.outcomes, source=mask_url(pre.source)))
    if pre.blocking_failed:
        raise typer.Exit(code=1)


def _log_plan(the_plan) -> None:  # noqa: ANN001
    """--verbose: each step of the plan, its phase and the change it carries out; the step's
    title says how and why (in place or R8, concurrently, guarded, backed up)."""
    if not log.isEnabledFor(logging.INFO):
        return
    for phase in the_plan.phases():
        for s in the_plan.steps_of(phase):
            log.info("plan %s: %s: %s", getattr(phase, "value", phase), s.change_id or "-", " ".join(s.title.split()))


def _title(message: str | None) -> str | None:
    """`-m TEXT`: one line of text (it heads every revision and names its file)."""
    if message is None:
        return None
    text = " ".join(message.split())
    if not text or "\n" in message.strip():
        fail("-m/--message: one line of text, e.g. -m \"add webhooks\"")
    return text


@app.command(epilog=GLOBAL_EPILOG)
@guard
def plan(
    old: Annotated[str, typer.Argument(help="Current schema (what the database holds).")],
    new: Annotated[str, typer.Argument(help="Target schema.")],
    alembic: Annotated[str | None, typer.Option(
        "--alembic", help="An existing project's alembic.ini (or pyproject.toml with [tool.alembic]): revisions "
                          "are chained to its head.")] = None,
    init: Annotated[str | None, typer.Option(
        "--init", help="Create a runnable Alembic project in this (new) folder and write the revisions there.")] = None,
    single: Annotated[bool, typer.Option(
        "--single", help="One revision with every phase (still guarded and backed up).")] = False,
    cleanup: Annotated[bool, typer.Option(
        "--cleanup", help="Write only the cleanup revision that drops the plan's backups and moved-aside "
                          "tables (once the release is accepted; it has no downgrade).")] = False,
    rev_id_seed: Annotated[str | None, typer.Option(
        "--rev-id-seed", help="Deterministic revision ids (and Create Date), for reproducible files.")] = None,
    message: MessageOpt = None,
    dialect: DialectOpt = None,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write staged Alembic revisions (expand, backfill, contract) for OLD -> NEW (PostgreSQL, MySQL/MariaDB,
    SQLite)."""
    _State.debug = _State.debug or debug
    if alembic is not None and init is not None:
        fail("give either --alembic (an existing project) or --init (a new one), not both")
    if (alembic is None) == (init is None):
        fail("give --alembic path/to/alembic.ini (existing project) or --init DIR (new project)")
    if cleanup and init is not None:
        fail("--cleanup goes into the project that holds the plan's revisions: give --alembic path/to/alembic.ini")
    title = _title(message)
    from planner.config import load_config
    from planner.plan.alembic_project import alembic_args, project_config
    from planner.plan.build import build_plan
    from planner.plan.revisions import (
        cleanup_revision,
        env_py,
        init_project,
        revisions,
        runs_each_revision_in_its_own_transaction,
        write_revisions,
    )

    cfg = load_config(config, no_config=no_config)
    analysis = _analyzed(old, new, cfg, dialect, rename, quiet)
    the_plan = build_plan(analysis.diff, analysis.old.schema, analysis.new.schema,
                          backfill=cfg.backfill, enum_remap=cfg.enum_remap, convert=cfg.convert,
                          renames_in_place=cfg.renames_in_place)
    _log_plan(the_plan)
    source = " -> ".join(_sources(analysis))  # in every revision's docstring (masked), never in a file name
    if cleanup:
        rev = cleanup_revision(the_plan, source=source, title=title)
        if rev is None:
            _stderr().print("The plan keeps no backups: nothing to clean up.")
            return
        revs = [rev]
    else:
        same = [*(["--dialect", dialect] if dialect else []), *(["--config", config] if config else []),
                *(["--no-config"] if no_config else []), *[x for r in rename or [] for x in ("--rename", r)]]
        check = shlex.join(["planner", "check", mask_url(old), mask_url(new), *same, "--db", "URL"])
        revs = revisions(the_plan, source=source, single=single, title=title, check=_safe(check))
    if not revs:
        _stderr().print("No changes: nothing to write.")
        return
    acfg = init_project(init) if init is not None else project_config(alembic)
    log.info("alembic project: %s (script_location %s)", alembic_args(acfg),
             acfg.get_alembic_option("script_location"))
    paths = write_revisions(revs, acfg, seed=rev_id_seed)
    out = _stdout()
    for p in paths:
        out.print(str(p), highlight=False, markup=False)
    env_text = env_py(acfg)
    if alembic is not None and any("autocommit_block" in r.upgrade for r in revs) \
            and not runs_each_revision_in_its_own_transaction(env_text):
        _stderr().print(_escape(f"warning: {alembic}: env.py does not set transaction_per_migration=True; "
                                "without it a revision's concurrent index build, ADD VALUE or backfill commits "
                                "the earlier revisions' work mid-run (add it to context.configure in env.py)"))
    if not quiet:
        ini = acfg.config_file_name if init else alembic
        url_arg = " -x db=URL" if "Alembic environment written by planner" in env_text else ""
        hint = f"alembic {alembic_args(acfg)}{url_arg} upgrade +1"
        if cleanup:
            _stderr().print(f"cleanup revision written; apply it once the release is accepted: {_escape(hint)}")
            return
        if single:
            _stderr().print(f"1 revision written (every phase): {_escape(hint.replace('+1', 'head'))}")
        else:
            _stderr().print(f"{len(revs)} revision(s) written; apply one phase at a time: {_escape(hint)}")
        if the_plan.kept:
            same = [*(["--dialect", dialect] if dialect else []), *(["--config", config] if config else []),
                    *(["-m", title] if title else []),
                    *(["--no-config"] if no_config else []), *[x for r in rename or [] for x in ("--rename", r)],
                    *(["--rev-id-seed", rev_id_seed] if rev_id_seed is not None else [])]
            again = shlex.join(["planner", "plan", mask_url(old), mask_url(new), *same, "--alembic", str(ini),
                                "--cleanup"])
            masked = " (put the password back where the URL shows ***)" \
                if mask_url(old) != old or mask_url(new) != new else ""
            _stderr().print(_escape(_safe(f"{len(the_plan.kept)} backup table(s) kept for the downgrade; once the "
                                          f"release is accepted, drop them with: {again}{masked}")))


class ChecklistFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    text = "text"


@app.command(epilog=GLOBAL_EPILOG)
@guard
def checklist(
    old: Annotated[str, typer.Argument(help="Current schema (what the database holds).")],
    new: Annotated[str, typer.Argument(help="Target schema.")],
    db: Annotated[str | None, typer.Option(
        "--db", help="Database holding OLD (read-only): real pre-flight results and block estimates.")] = None,
    alembic: Annotated[str | None, typer.Option(
        "--alembic", help="alembic.ini of the project the revisions go to (or are in): their ids and head.")] = None,
    rev_id_seed: Annotated[str | None, typer.Option(
        "--rev-id-seed", help="The seed given to `planner plan`: the same revision ids.")] = None,
    out: Annotated[str | None, typer.Option(
        "--out", help="Also write the full checklist (never shortened) to this file.")] = None,
    message: MessageOpt = None,
    format: Annotated[ChecklistFormat, typer.Option("--format", "-f", help="Output format.")] = ChecklistFormat.markdown,
    dialect: DialectOpt = None,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write the release-review checklist of the plan `planner plan` writes for OLD -> NEW (Markdown)."""
    _State.debug = _State.debug or debug
    from planner.checklist import build_checklist, read_project
    from planner.config import load_config
    from planner.render.checklist import checklist_json, checklist_markdown, checklist_text

    title = _title(message)
    cfg = load_config(config, no_config=no_config)
    project = read_project(alembic)
    analysis = _analyzed(old, new, cfg, dialect, rename, quiet, db=db)
    _report_waivers(analysis, quiet)
    same = ["planner", "plan", mask_url(old), mask_url(new), *(["--dialect", dialect] if dialect else []),
            *(["--config", config] if config else []), *(["--no-config"] if no_config else []),
            *[x for r in rename or [] for x in ("--rename", r)], *(["-m", title] if title else [])]
    doc = build_checklist(analysis, source=" -> ".join(_sources(analysis)), project=project, seed=rev_id_seed,
                          db=mask_url(db) if db else None, again=[shlex.quote(x) for x in same], title=title)
    if format == ChecklistFormat.json:
        full = shown = checklist_json(doc)
    elif format == ChecklistFormat.text:
        full = shown = checklist_text(doc)
    else:
        full = checklist_markdown(doc, limit=10**12)
        shown = checklist_markdown(doc, out=out)
    if out is not None:
        try:
            with open(out, "w", encoding="utf-8") as f:
                f.write(_safe(full))
        except OSError as e:
            fail(_escape(f"--out {out}: {e.strerror or e}"))
    sys.stdout.write(_safe(shown))


def _dialect_neutral(spec: str) -> bool:
    """A source that does not say its dialect (a Prisma schema names its provider, a database
    URL is one): SQLAlchemy models, SQL files and migrations folders, `empty`."""
    return not spec.endswith(".prisma") and "://" not in spec and not spec.startswith("git:")


@app.command(epilog=GLOBAL_EPILOG)
@guard
def verify(
    old: Annotated[str, typer.Argument(help="Current schema.")],
    new: Annotated[str, typer.Argument(help="Target schema.")],
    db: Annotated[str, typer.Option("--db", help="An EMPTY scratch database (PostgreSQL, MySQL/MariaDB or SQLite) to prove the plan on.")],
    rows: Annotated[int, typer.Option("--rows", min=0, help="Generated rows per table.")] = 20,
    keep: Annotated[bool, typer.Option("--keep", help="Leave what verify built in the scratch database (default: "
                                       "removed when verify ends, passed or failed).")] = False,
    dialect: DialectOpt = None,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Prove the plan on a scratch database: build and seed OLD, upgrade, compare with NEW,
    downgrade, compare schema and every row with OLD; exit 1 if anything differs. The database
    must be empty and not a maintenance one (postgres, template*); it is emptied again at the
    end unless --keep."""
    _State.debug = _State.debug or debug
    from planner.config import load_config
    from planner.pipeline import analyze
    from planner.verify.harness import VerifyFailed
    from planner.verify.harness import verify as run_verify

    cfg = load_config(config, no_config=no_config)
    analysis = analyze(old, new, config=cfg, dialect=dialect, renames=rename or [])
    if dialect is None and cfg.dialect is None and analysis.dialect == "postgresql" and \
            all(_dialect_neutral(s) for s in (old, new)):
        # SQLAlchemy models, or SQL with nothing of another dialect in it: read as PostgreSQL by
        # default; a MySQL or SQLite scratch database says which dialect they are meant for
        from planner.load.database import parse_database_url

        target = parse_database_url(db).dialect
        if target != "postgresql":
            analysis = analyze(old, new, config=cfg, dialect=target, renames=rename or [])
    from planner.progress import step

    try:
        with step("verify"):
            report = run_verify(analysis, db, rows=rows, keep=keep)
    except VerifyFailed as e:  # the plan does not apply to the seeded data: a finding, not bad input
        _stdout().print(f"FAILED: {_escape(_safe(str(e)))}")
        if not quiet:
            guard = "planner guard failed" in str(e)
            _stderr().print(("the rows are verify's own, generated from OLD's constraints: a guard stops real rows "
                             "like them too (state a backfill, remap or conversion rule in config, or --rows 0 to prove the schema "
                             "steps alone); " if guard else "") +
                            ("the scratch database keeps what verify built (--keep)" if keep else
                             "the scratch database is empty again (--keep leaves what verify built)"))
        raise typer.Exit(code=1) from None
    out = _stdout()
    out.print(f"revisions: {report.revisions}; seeded {sum(report.seeded.values())} rows in "
              f"{len(report.seeded)} tables; offline SQL: {report.offline_sql_lines} lines")
    for label, items in (("after upgrade, differs from NEW", report.after_upgrade),
                         ("after downgrade, differs from OLD", report.after_downgrade),
                         ("data not restored", report.data),
                         ("differs from the naive migration", report.differential),
                         ("a write the revision's docstring allows failed", report.window)):
        for item in items:
            out.print(f"FAIL {label}: {_escape(item)}")
    if not quiet:
        for note in report.notes:
            out.print(f"note: {_escape(note)}")
    naive = " and the naive migration's values" if report.compared_naive else ""
    out.print(f"OK: upgrade matches NEW{naive}; downgrade restores OLD's schema and every row" if report.ok
              else "FAILED")
    if not report.ok:
        raise typer.Exit(code=1)


class SchemaName(StrEnum):
    diff = "diff"
    inspect = "inspect"
    rules = "rules"
    check = "check"
    checklist = "checklist"


@app.command(epilog=GLOBAL_EPILOG)
@guard
def schema(
    name: Annotated[SchemaName, typer.Argument(metavar="NAME",
                                               help="The command whose `--format json` output it describes.")],
    debug: DebugOpt = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a command's `--format json` output, self-contained."""
    _State.debug = _State.debug or debug
    from planner.render.json_report import dumps, json_schema

    sys.stdout.write(dumps(json_schema(name.value)))


def main() -> None:
    import gc

    from planner._typer_fast import install

    _State.debug = "--debug" in sys.argv
    install()  # plain options without pydantic (~0.1 s a run)
    try:
        app()
    finally:
        gc.freeze()  # the collections at interpreter exit skip what is alive now (~0.1 s)


if __name__ == "__main__":
    main()
