"""CLI polish: usage errors are one line with exit 2 (no typer boxes), choice options are enums
that help lists, and help screens print no `<bool>` after flags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"
COMMANDS = ["diff", "check", "plan", "verify", "inspect", "rules", "checklist"]


def planner(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize(("args", "needle"), [
    (["diff", "a"], "error: planner diff: Missing argument"),
    (["diff", "a", "b", "--format", "xml"], "'xml' is not one of 'text', 'json', 'markdown', 'sarif', 'github'"),
    (["diff", "a", "b", "--dialect", "oracle"], "'oracle' is not one of 'postgresql', 'mysql', 'sqlite'"),
    (["diff", "a", "b", "--fail-on", "severe"], "'severe' is not one of 'safe', 'low', 'medium', 'high', 'critical'"),
    (["diff", "a", "b", "--bogus"], "No such option: --bogus"),
    (["dif", "a", "b"], "error: planner: No such command 'dif'"),
    (["check", "a", "b", "--timeout", "x"], "error: planner check: "),
])
def test_usage_errors_are_one_line_with_exit_2(args: list[str], needle: str) -> None:
    p = planner(*args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert needle in lines[0] and lines[0].startswith("error: ")
    assert lines[0].endswith("--help)")
    assert not any(ch in p.stderr for ch in "╭╰│") and "Traceback" not in p.stderr
    # the same through typer's test runner (what the other CLI tests use)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and needle in r.output and "╭" not in r.output


def test_choices_are_case_insensitive_and_still_work() -> None:
    p = planner("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--dialect", "PostgreSQL",
                "--fail-on", "HIGH", "--no-config", "-q")
    assert p.returncode == 1, p.stderr
    p = planner("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--fail-on", "critical",
                "--no-config", "-q")
    assert p.returncode == 0, p.stderr


def test_version_and_help_keep_exit_0() -> None:
    assert planner("--version").stdout.strip().startswith("planner ")
    assert planner("--version").returncode == 0
    h = planner("diff", "--help")
    assert h.returncode == 0 and "Usage" in h.stdout
    bare = planner()
    assert "Usage" in bare.stdout and "Traceback" not in bare.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_choices_and_prints_no_bool_after_flags(command: str) -> None:
    p = planner(command, "--help")
    assert p.returncode == 0, p.stderr
    assert "<bool>" not in p.stdout and "BOOLEAN" not in p.stdout
    if "--dialect" in p.stdout:
        assert "postgresql|mysql|sqlite" in p.stdout
    if "--fail-on" in p.stdout:
        assert "safe|low|medium|high|critical" in p.stdout
    shared = [("--config", "FILE"), ("--rename", "OLD=NEW")] + ([("--db", "URL")] if command == "diff" else [])
    for flag, metavar in shared:
        line = next((x for x in p.stdout.splitlines() if f" {flag} " in x), None)
        if line is not None:
            assert metavar in line, (flag, line)


def test_diff_help_lists_every_format() -> None:
    assert "text|json|markdown|sarif|github" in planner("diff", "--help").stdout


def test_help_into_a_closed_pipe_is_no_traceback() -> None:
    """`planner diff --help | head -1`: the reader goes away early; no Python traceback."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    p = subprocess.Popen([sys.executable, "-m", "planner", "diff", "--help"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # nothing reads the help
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err, err
