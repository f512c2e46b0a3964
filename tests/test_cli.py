"""The CLI end to end through typer's runner: formats, exit codes, errors, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app

from .conftest import SAMPLES

runner = CliRunner()
CENTURION = SAMPLES / "centurion-money-enum-unique"
MIXED = 'datasource db {\n  provider = "postgresql"\n}\n'


def run(*args: str):
    return runner.invoke(app, list(args))


def test_diff_text_on_a_sample():
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"))
    assert r.exit_code == 0, r.output
    assert "alter_column_type" in r.stdout and "numeric(10,2)" in r.stdout
    assert "--rename Role.COACH=INSTRUCTOR" in r.stdout
    assert "changes" in r.stdout.splitlines()[-1]


def test_diff_json_shape_matches_the_contract():
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == sorted(doc)
    assert set(doc) == {"schema_version", "tool", "dialect", "old", "new", "changes", "suggestions", "summary"}
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "planner"
    assert doc["dialect"] == "postgresql"
    for c in doc["changes"]:
        assert set(c) == {"id", "kind", "table", "column", "name", "detail", "level", "findings"}
    assert doc["suggestions"] == [{"kind": "rename_enum_value", "table": None, "from": "Role.COACH",
                                   "to": "Role.INSTRUCTOR", "hint": "--rename Role.COACH=INSTRUCTOR"}]
    assert doc["summary"]["changes"] == len(doc["changes"])
    assert sum(doc["summary"]["by_level"].values()) == len(doc["changes"])


def test_output_is_byte_identical_across_runs():
    args = ("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"))
    for fmt in ("text", "json", "markdown"):
        assert run(*args, "-f", fmt).stdout == run(*args, "-f", fmt).stdout


def test_rename_flag_and_config_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    args = ("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "json")
    with_flag = json.loads(run(*args, "--rename", "Role.COACH=INSTRUCTOR").stdout)
    kinds = [c["kind"] for c in with_flag["changes"]]
    assert "rename_enum_value" in kinds and "remove_enum_value" not in kinds
    (tmp_path / "pyproject.toml").write_text('[tool.planner.renames]\n"Role.COACH" = "INSTRUCTOR"\n')
    monkeypatch.chdir(tmp_path)
    from_config = json.loads(run(*args).stdout)
    assert [c["id"] for c in from_config["changes"]] == [c["id"] for c in with_flag["changes"]]


def test_markdown_format():
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "markdown")
    assert r.exit_code == 0
    assert r.stdout.startswith("# Schema changes")
    assert "| level | change | object | details |" in r.stdout


def test_parse_error_is_one_line_with_location_and_exit_2(tmp_path: Path):
    bad = tmp_path / "bad.prisma"
    bad.write_text(MIXED + "model T {\n  id Int @id\n  x Nope\n}\n")
    r = run("diff", str(bad), str(CENTURION / "new.prisma"))
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"{bad}:6:3: unknown type 'Nope'" in lines[0]
    assert "Traceback" not in r.output


def test_missing_file_and_bad_dialect_exit_2(tmp_path: Path):
    r = run("diff", str(tmp_path / "missing.prisma"), str(CENTURION / "new.prisma"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--dialect", "oracle")
    assert r.exit_code == 2 and "'oracle' is not one of 'postgresql', 'mysql', 'sqlite'" in r.stderr


def test_bad_rename_hint_exit_2():
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--rename", "Nope.a=b")
    assert r.exit_code == 2 and "Nope.a" in r.stderr


def test_unreachable_database_is_one_line():
    r = run("inspect", "postgresql://nobody@127.0.0.1:1/nothing")
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_debug_shows_the_traceback(tmp_path: Path):
    bad = tmp_path / "bad.prisma"
    bad.write_text("model T {\n")
    r = runner.invoke(app, ["inspect", str(bad), "--debug"])
    assert r.exit_code != 0 and r.exception is not None


def test_inspect_text_and_json():
    r = run("inspect", str(CENTURION / "new.prisma"))
    assert r.exit_code == 0 and "table entries" in r.stdout
    doc = json.loads(run("inspect", str(CENTURION / "new.prisma"), "-f", "json").stdout)
    assert doc["schema_version"] == 1 and doc["dialect"] == "postgresql"
    names = [t["name"] for t in doc["schema"]["tables"]]
    assert "entries" in names


def test_empty_source_bootstraps():
    doc = json.loads(run("diff", "empty", str(CENTURION / "new.prisma"), "-f", "json").stdout)
    assert {c["kind"] for c in doc["changes"]} == {"add_enum", "add_table"}


def test_dialect_mismatch_is_reported(tmp_path: Path):
    other = tmp_path / "my.prisma"
    other.write_text('datasource db {\n  provider = "mysql"\n}\nmodel T {\n  id Int @id\n}\n')
    r = run("diff", str(CENTURION / "old.prisma"), str(other))
    assert r.exit_code == 2 and "postgresql" in r.stderr and "mysql" in r.stderr


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("planner ")


@pytest.mark.parametrize("story", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_every_sample_story_diffs(story: str):
    folder = SAMPLES / story
    old = next(folder.glob("old.*"))
    new = next(folder.glob("new.*"))
    r = run("diff", str(old), str(new), "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["changes"], f"{story}: no changes found"


def test_fail_on_exits_1_only_when_a_change_reaches_the_level():
    same = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "old.prisma"), "--fail-on", "safe")
    assert same.exit_code == 0
    high = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--fail-on", "high")
    assert high.exit_code == 1 and "fail-on" in high.stderr


@pytest.mark.parametrize("hint, words", [
    ("Role.COACH=NOPE", "has no value 'NOPE'"),
    ("users.name=full_name", "NEW has no column users.full_name"),
    ("users=people", "NEW has no table 'people'"),
    ("Role.COACH=ADMIN", "already has 'ADMIN'"),
])
def test_rename_hints_must_name_something_new_has(hint: str, words: str):
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "--rename", hint)
    assert r.exit_code == 2 and words in r.stderr


def test_conflicting_rename_hints_are_rejected():
    r = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"),
            "--rename", "Role.COACH=INSTRUCTOR", "--rename", "Role.COACH=CLIENT")
    assert r.exit_code == 2 and "conflicting" in r.stderr


def test_sqlite_unique_constraint_is_classified(tmp_path: Path):
    (tmp_path / "a.sql").write_text("CREATE TABLE t (id integer primary key, e text);")
    (tmp_path / "b.sql").write_text("CREATE TABLE t (id integer primary key, e text UNIQUE);")
    r = run("diff", str(tmp_path / "a.sql"), str(tmp_path / "b.sql"), "--dialect", "sqlite", "-f", "json")
    assert r.exit_code == 0, r.output
    codes = {f["code"] for c in json.loads(r.stdout)["changes"] for f in c["findings"]}
    assert "LT101" in codes and "MF101" in codes
