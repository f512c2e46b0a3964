"""CLI polish (issue 15): `--verbose`/`--debug` after the subcommand too; `--verbose` logs
planner's own decisions (what it loaded, each plan step and why, timings) and none of
Alembic's set-up chatter; a progress spinner on stderr for long database steps when stderr is
a terminal (never when piped or --quiet)."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli import app
from planner.cli_usage import hoist_global_flags

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"
OLD, NEW = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")


def planner(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def group():  # noqa: ANN201
    import typer

    return typer.main.get_command(app)


@pytest.mark.parametrize(("args", "want"), [
    (["diff", "a", "b", "--verbose"], ["--verbose", "diff", "a", "b"]),
    (["diff", "-v", "a", "b", "--debug", "-q"], ["-v", "--debug", "diff", "a", "b", "-q"]),
    (["--debug", "diff", "a", "b", "--debug"], ["--debug", "--debug", "diff", "a", "b"]),
    (["plan", "a", "b", "-m", "--verbose", "--init", "x"], ["plan", "a", "b", "-m", "--verbose", "--init", "x"]),
    (["plan", "a", "b", "--message", "--debug"], ["plan", "a", "b", "--message", "--debug"]),
    (["diff", "a", "--", "--verbose"], ["diff", "a", "--", "--verbose"]),
    (["--version"], ["--version"]),
])
def test_global_flags_after_the_subcommand_move_before_it(args: list[str], want: list[str]) -> None:
    assert hoist_global_flags(group(), args) == want


def test_verbose_after_the_subcommand_logs_planners_decisions_and_no_alembic_chatter(tmp_path: Path) -> None:
    p = planner("plan", OLD, NEW, "--init", str(tmp_path / "p"), "--no-config", "-q", "--verbose")
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert all(line.startswith("INFO planner") for line in lines), [x for x in lines if "planner" not in x][:5]
    text = p.stderr
    assert "INFO planner.load: OLD: prisma " in text and "6 tables, 4 enums" in text  # what was loaded
    assert "Detected alter_column_type appointments.fee" in text
    # why a change got its path: each step under its phase, the title naming R8 or in place
    assert "plan expand: alter_column_type:appointments.fee: add appointments.fee__planner_new" in text
    assert "(R8)" in text and "plan contract: remove_enum_value:Role.COACH" in text
    assert "loaded OLD and NEW in " in text and " s" in text  # timings
    assert len(lines) < 60, len(lines)  # not Alembic's ~300 lines of plugin set-up
    before = planner("--verbose", "plan", OLD, NEW, "--init", str(tmp_path / "q"), "--no-config", "-q")
    assert before.returncode == 0 and len(before.stderr.splitlines()) == len(lines)
    quiet = planner("plan", OLD, NEW, "--init", str(tmp_path / "r"), "--no-config", "-q")
    assert quiet.stderr == ""


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.prisma"
    bad.write_text("model {\n")
    p = planner("diff", str(bad), "empty", "--debug")
    assert p.returncode == 2 and "Traceback" in p.stderr and "error: " in p.stderr


def _on_a_terminal(*args: str) -> tuple[str, str]:
    """Run planner with stderr on a pseudo-terminal: (stdout, what the terminal showed)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CI": "", "TERM": "xterm", "COLUMNS": "400"}
    env.pop("CI")
    p = subprocess.run([sys.executable, "-m", "planner", *args], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=follower, stdin=subprocess.DEVNULL, env=env, timeout=300)
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:
        pass
    os.close(leader)
    return p.stdout.decode(), shown.decode("utf-8", "replace")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as c:
        c.execute("CREATE TABLE t (id integer PRIMARY KEY, a text)")
        c.executemany("INSERT INTO t (a) VALUES (?)", [("x",), ("x",)])
    return f"sqlite:///{path}"


def test_long_database_steps_show_progress_on_a_terminal_only(sqlite_db: str, tmp_path: Path) -> None:
    new = tmp_path / "new.sql"
    new.write_text("CREATE TABLE t (id integer PRIMARY KEY, a text UNIQUE);\n")
    out, shown = _on_a_terminal("diff", sqlite_db, str(new), "--db", sqlite_db)
    assert "add_unique" in out
    assert f"reading the schema of {sqlite_db}" in shown  # reflection
    assert "pre-flight checks" in shown and "reading row estimates" in shown
    _, quiet = _on_a_terminal("diff", sqlite_db, str(new), "--db", sqlite_db, "-q")
    assert "reading the schema" not in quiet
    piped = planner("diff", sqlite_db, str(new), "--db", sqlite_db)
    assert "reading the schema" not in piped.stderr and "pre-flight" not in piped.stderr


def test_verify_shows_its_phases_on_a_terminal(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch.db"
    sqlite3.connect(scratch).close()
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id integer PRIMARY KEY, a text);\n")
    new.write_text("CREATE TABLE t (id integer PRIMARY KEY, a text, b integer);\n")
    out, shown = _on_a_terminal("verify", str(old), str(new), "--db", f"sqlite:///{scratch}", "--dialect", "sqlite",
                                "--rows", "5")
    assert "OK:" in out, (out, shown)
    for phase in ("verify: building OLD", "verify: seeding 5 rows per table", "verify: upgrade 1/1",
                  "verify: downgrade to base"):
        assert phase in shown, shown


@pytest.mark.parametrize("command", ["diff", "check", "plan", "checklist", "verify", "inspect", "rules"])
def test_every_commands_help_names_the_global_options(command: str) -> None:
    from typer.testing import CliRunner

    r = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert r.exit_code == 0
    assert "Also after the command: --verbose/-v" in " ".join(r.output.split())
