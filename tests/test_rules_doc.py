"""`planner rules` and `planner rules CODE` print rule texts as written: `[...]` (config table
names such as `[tool.planner.backfill]`) is text, not Rich markup, on a terminal and piped."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

import planner.cli as cli
from planner.cli import app
from planner.rules import RULES

BRACKETS = "set [tool.planner.backfill] and [bold]x[/bold] in [tool.planner.convert]"


@pytest.fixture
def bracketed(monkeypatch: pytest.MonkeyPatch) -> str:
    spec = RULES["MF101"]

    def func(c, ctx):  # noqa: ANN001, ANN202
        return None

    func.__doc__ = f"## Why\n{BRACKETS}\n"
    monkeypatch.setitem(RULES, "MF101", dataclasses.replace(spec, summary=BRACKETS, help=BRACKETS, func=func))
    return "MF101"


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buf = io.StringIO()
    monkeypatch.setattr(cli, "_stdout", lambda: Console(file=buf, force_terminal=True, color_system=None,
                                                        width=400, highlight=False, emoji=False))
    return buf


@pytest.mark.parametrize("args", [["rules"], ["rules", "MF101"]])
def test_brackets_survive_when_piped(bracketed: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # the table's summary on one line
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert BRACKETS in r.output, r.output


@pytest.mark.parametrize("args", [["rules"], ["rules", "MF101"]])
def test_brackets_survive_on_a_terminal(bracketed: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    buf = _terminal(monkeypatch)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert buf.getvalue().count(BRACKETS) == (1 if len(args) == 1 else 3), buf.getvalue()


def test_every_rule_document_prints_unchanged_when_piped() -> None:
    for code in RULES:
        r = CliRunner().invoke(app, ["rules", code])
        assert r.exit_code == 0, (code, r.output)
        from planner.render.rules_doc import rule_markdown

        assert r.output.split() == rule_markdown(RULES[code]).split(), code
