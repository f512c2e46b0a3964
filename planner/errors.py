"""The exceptions planner raises; the CLI turns them into one line and exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


class PlannerError(Exception):
    """Base of every error planner reports to the user (exit code 2)."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}; {self.hint}" if self.hint else text


class SourceError(PlannerError):
    """A schema source could not be read (missing file, bad URL, unreachable database)."""


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file: 1-based line and column."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ParseError(PlannerError):
    """A schema file does not parse; printed as `file:line:col: message`."""

    def __init__(self, message: str, location: Location, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {super().__str__()}"


class UnsupportedError(ParseError):
    """A schema-changing construct planner does not understand (never silently dropped)."""


class ConfigError(PlannerError):
    """Bad configuration (pyproject [tool.planner], planner.toml or --rename hints)."""
