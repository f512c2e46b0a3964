"""The `planner` command line. Thin: parse options, call the library, render, pick the exit code.

Exit codes: 0 done; 1 findings at or above --fail-on (or failed pre-flight checks);
2 bad usage or input (one line on stderr; the traceback only with --debug).
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from planner import __version__
from planner.errors import PlannerError

app = typer.Typer(
    name="planner",
    help="Make database schema changes safe to ship: diff two schemas, see what each change risks.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

log = logging.getLogger("planner")


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class InspectFormat(StrEnum):
    text = "text"
    json = "json"


def _stdout() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=140)  # piped: do not wrap at 80 columns
    return console


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    debug = False


def fail(message: str) -> NoReturn:
    _stderr().print(f"[bold red]error[/bold red]: {message}", markup=True, highlight=False)
    raise typer.Exit(code=2)


def _run(fn, *args, **kwargs):  # noqa: ANN001, ANN202 - small private wrapper
    """Call into the library; PlannerError -> one line + exit 2 (traceback only with --debug)."""
    try:
        return fn(*args, **kwargs)
    except PlannerError as e:
        if _State.debug:
            raise
        fail(_escape(str(e)))
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as e:  # a bug: still one line unless --debug
        if _State.debug:
            raise
        fail(_escape(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback "
                     "and please report it)"))


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
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logging.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what planner detects.")] = False,
) -> None:
    """planner: diff, classify and stage database schema changes."""
    _State.debug = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


DialectOpt = Annotated[str | None, typer.Option(
    "--dialect", "-d", help="postgresql, mysql or sqlite (inferred from a Prisma datasource or a URL).")]
ConfigOpt = Annotated[str | None, typer.Option(
    "--config", help="Config file (default: [tool.planner] in ./pyproject.toml, or ./planner.toml).")]
RenameOpt = Annotated[list[str] | None, typer.Option(
    "--rename", help="Confirm a rename: table.old=new, old_table=new_table, Enum.OLD=NEW (repeatable).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No warnings; only the result.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


def _warn(loaded, quiet: bool) -> None:  # noqa: ANN001
    if quiet:
        return
    err = _stderr()
    for w in loaded.warnings:
        err.print(f"[yellow]warning[/yellow]: {_escape(str(w))}", markup=True)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="Current schema: .prisma, .sql, migrations folder, URL, "
                                            "module:attr or 'empty'.")],
    new: Annotated[str, typer.Argument(help="Target schema (same kinds of source).")],
    dialect: DialectOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    rename: RenameOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show every change between OLD and NEW, grouped by table, with possible renames."""
    _State.debug = _State.debug or debug
    from planner.config import load_config
    from planner.diff import diff as run_diff
    from planner.load import load_pair
    from planner.renames import parse_renames

    cfg = _run(load_config, config)
    old_l, new_l = _run(load_pair, old, new, dialect=dialect or cfg.dialect)
    _warn(old_l, quiet)
    _warn(new_l, quiet)
    renames = _run(parse_renames, [*cfg.renames, *(rename or [])], old_l.schema)
    result = _run(run_diff, old_l.schema, new_l.schema, renames)
    d = new_l.schema.dialect
    if format == Format.json:
        from planner.render.json_report import diff_document, dumps

        sys.stdout.write(dumps(diff_document(result, dialect=d, old_source=old_l.source,
                                             new_source=new_l.source)))
    elif format == Format.markdown:
        from planner.render.markdown import diff_markdown

        sys.stdout.write(diff_markdown(result, old_source=old_l.source, new_source=new_l.source, dialect=d))
    else:
        from planner.render.terminal import diff_view

        _stdout().print(diff_view(result))


@app.command()
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

    loaded = _run(load_source, source, dialect=dialect)
    _warn(loaded, quiet)
    if format == InspectFormat.json:
        from planner.render.json_report import dumps, schema_document

        sys.stdout.write(dumps(schema_document(loaded.schema, source=loaded.source,
                                               warnings=[str(w) for w in loaded.warnings])))
    else:
        from planner.render.terminal import schema_view

        _stdout().print(schema_view(loaded.schema, source=loaded.source))


def main() -> None:
    _State.debug = "--debug" in sys.argv
    app()


if __name__ == "__main__":
    main()
