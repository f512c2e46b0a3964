"""Command-line usage errors as planner reports every other error: one line on stderr, exit 2.

Typer draws a usage error as a 5-6 line box ("Usage: ... Try ... ╭─ Error ─╮ ..."); a CI log
or a script wants `error: planner diff: missing argument 'NEW' (planner diff --help)`.
`OneLineUsageGroup` is the click group behind the typer app: it runs the command line in
click's non-standalone mode and reports what click raises itself. `hide_flag_types` keeps
help screens from printing `<bool>` after a flag (typer 0.2x prints the Python type of every
option; a flag takes no value).
"""

from __future__ import annotations

import sys
from typing import Any

from typer.core import TyperGroup

try:  # typer >= 0.2x carries its own click
    from typer._click import exceptions as _click_exceptions
except ImportError:  # pragma: no cover - typer on the click package (the floor)
    from click import exceptions as _click_exceptions

# click keeps Abort beside its other exceptions; typer's own click raises typer.exceptions.Abort
_Abort = getattr(_click_exceptions, "Abort", None)
if _Abort is None:
    from typer.exceptions import Abort as _Abort


def _line(text: str) -> str:
    return " ".join(text.split())


def usage_line(e: Any) -> str:
    """`error: planner diff: Missing argument 'NEW'. (planner diff --help)`."""
    # typer 0.2x validates choices through pydantic, which prefixes "Value error, "
    message = _line(e.format_message()).replace("Value error, ", "")
    ctx = getattr(e, "ctx", None)
    if ctx is not None:
        return f"error: {ctx.command_path}: {message} ({ctx.command_path} --help)"
    return f"error: {message}"


#: options of the `planner` group that may also follow the subcommand (`planner diff a b --verbose`)
GLOBAL_FLAGS = ("--verbose", "-v", "--debug")


def hoist_global_flags(group: Any, args: list[str]) -> list[str]:
    """`args` with the group's flags that follow the subcommand moved before it, as ruff and
    git accept them anywhere. A token that is the value of the subcommand's option (`-m
    --verbose`) or follows `--` stays where it is."""
    first = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if first is None:
        return args
    command = group.commands.get(args[first])
    takes_value = {o for p in getattr(command, "params", []) if getattr(p, "param_type_name", "") == "option"
                   and not getattr(p, "is_flag", False) and not getattr(p, "count", False)
                   for o in (*p.opts, *p.secondary_opts)}
    moved, rest, i = [], [], first + 1
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i:])
            break
        if a in takes_value:
            rest.extend(args[i:i + 2])
            i += 2
            continue
        (moved if a in GLOBAL_FLAGS else rest).append(a)
        i += 1
    return [*args[:first], *dict.fromkeys(moved), args[first], *rest]


class OneLineUsageGroup(TyperGroup):
    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        prog_name = prog_name or "planner"  # not "python -m planner" in usage lines
        args = hoist_global_flags(self, list(sys.argv[1:] if args is None else args))
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except _click_exceptions.UsageError as e:
            if not standalone_mode:
                raise
            if type(e).__name__ == "NoArgsIsHelpError" and e.ctx is not None:
                sys.stdout.write(e.ctx.get_help() + "\n")  # `planner` alone: the help, as before
                sys.exit(e.exit_code)
            sys.stderr.write(usage_line(e) + "\n")
            sys.exit(2)
        except _click_exceptions.ClickException as e:
            if not standalone_mode:
                raise
            sys.stderr.write(f"error: {_line(e.format_message())}\n")
            sys.exit(e.exit_code)
        except _Abort:
            if not standalone_mode:
                raise
            sys.stderr.write("Aborted!\n")
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def hide_flag_types() -> None:
    """No `<bool>` after a flag in help screens (typer 0.2x; older typer prints none)."""
    from typer.core import TyperOption

    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_planner_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None
        return original(self, ctx)

    display_type_rich._planner_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
