"""Config that catches mistakes: unknown keys and values, keys that match nothing in this diff,
--config on top of the project's config, --no-config, and rule selection (select/ignore)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.config import Config, load_config
from planner.errors import ConfigError
from planner.pipeline import analyze

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"
AEGIRA = ROOT / "sample_schemas" / "aegira-missed-checkin-snapshot"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


def pyproject(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "pyproject.toml"
    p.write_text("[project]\nname = \"x\"\n\n" + body)
    return p


# --- unknown keys and values -------------------------------------------------------------------

@pytest.mark.parametrize(("body", "needle"), [
    ('[tool.planner]\nfail-on = "low"\n', "unknown key 'tool.planner.fail-on'; did you mean 'tool.planner.fail_on'?"),
    ('[tool.planner]\ndialekt = "postgresql"\n', "unknown key 'tool.planner.dialekt'; did you mean 'tool.planner.dialect'?"),
    ('[tool.planner.waiver]\ncode = "DS102"\n', "unknown key 'tool.planner.waiver'; did you mean 'tool.planner.waivers'?"),
    ('[tool.planner.thresholds]\nlarge = 5\n', "unknown key 'tool.planner.thresholds.large'"),
    ('[[tool.planner.waivers]]\ncode = "DS102"\nobject = "t.*"\nreason = "r"\nexpire = 2026-01-01\n',
     "unknown key in waiver 1: 'tool.planner.waivers.expire'; did you mean 'tool.planner.waivers.expires'?"),
    ('[tool.planner]\ndialect = "oracle"\n', "tool.planner.dialect must be one of postgresql, mysql, sqlite, not 'oracle'"),
    ('[tool.planner]\nfail_on = "severe"\n', "tool.planner.fail_on must be a level: safe, low, medium, high, critical"),
    ('[tool.planner]\nselect = ["DS", "XX9"]\n', "tool.planner.select: no rule code or family 'XX9'"),
    ('[tool.planner]\nignore = "LK"\n', "tool.planner.ignore must be a list"),
    ('[[tool.planner.waivers]]\ncode = "DS999"\nobject = "t.*"\nreason = "r"\n', "waiver 1: no rule 'DS999'"),
    ('[tool.planner.thresholds]\nsmall_rows = true\n', "values must be non-negative integers"),
    ('[tool.planner]\nrenames-in-place = true\n',
     "unknown key 'tool.planner.renames-in-place'; did you mean 'tool.planner.renames_in_place'?"),
    ('[tool.planner]\nrename_in_place = true\n',
     "unknown key 'tool.planner.rename_in_place'; did you mean 'tool.planner.renames_in_place'?"),
    ('[tool.planner]\nrenames_in_place = "yes"\n', "tool.planner.renames_in_place must be true or false, not 'yes'"),
])
def test_unknown_keys_and_values_name_the_key_and_the_file(tmp_path: Path, body: str, needle: str) -> None:
    path = pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load_config(cwd=tmp_path)
    assert str(e.value).startswith(f"{path}: ") and needle in str(e.value), str(e.value)
    # the CLI: one line, exit 2, even though the diff itself would be fine
    line = one_line_error(run("diff", "empty", str(CENTURION / "new.prisma"), cwd=tmp_path))
    assert str(path) in line and needle.split(";")[0] in line


def test_planner_toml_keys_are_named_as_written(tmp_path: Path) -> None:
    (tmp_path / "planner.toml").write_text('fail-on = "low"\n')
    line = one_line_error(run("diff", "empty", str(CENTURION / "new.prisma"), cwd=tmp_path))
    assert f"{tmp_path / 'planner.toml'}: unknown key 'fail-on'; did you mean 'fail_on'?" in line


def test_the_issue_s_pyproject_fails_instead_of_passing(tmp_path: Path) -> None:
    """The reported case: fail-on, dialekt and [tool.planner.waiver] ran with exit 0."""
    pyproject(tmp_path, '[tool.planner]\nfail-on = "low"\ndialekt = "postgresql"\n\n'
                        '[tool.planner.waiver]\ncode = "DS102"\n')
    p = run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), cwd=tmp_path)
    assert "unknown key" in one_line_error(p)


def test_valid_values_are_normalised(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.planner]\ndialect = "Postgres"\nfail_on = "HIGH"\nselect = ["ds", "lk101"]\n'
                        'ignore = ["drop-column"]\n')
    cfg = load_config(cwd=tmp_path)
    assert (cfg.dialect, cfg.fail_on, cfg.select, cfg.ignore) == ("postgresql", "high", ("DS", "LK101"),
                                                                 ("drop-column",))


# --- --config on top of the project's, --no-config ------------------------------------------------

def test_release_file_layers_on_the_project_config(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.planner]\nfail_on = "critical"\n\n[[tool.planner.waivers]]\ncode = "DS105"\n'
                        'object = "Role*"\nreason = "checked"\n\n[tool.planner.thresholds]\nsmall_rows = 7\n')
    release = tmp_path / "release.toml"
    release.write_text('fail_on = "high"\n[renames]\n"Role.COACH" = "INSTRUCTOR"\n[thresholds]\nlarge_rows = 99\n')
    cfg = load_config(str(release), cwd=tmp_path)
    assert cfg.fail_on == "high" and cfg.renames == ("Role.COACH=INSTRUCTOR",)
    assert [w.code for w in cfg.waivers] == ["DS105"]
    assert (cfg.thresholds.small_rows, cfg.thresholds.large_rows) == (7, 99)
    assert cfg.paths == (str(tmp_path / "pyproject.toml"), str(release))
    only = load_config(str(release), cwd=tmp_path, no_config=True)
    assert only.waivers == () and only.renames == ("Role.COACH=INSTRUCTOR",)
    assert load_config(cwd=tmp_path, no_config=True) == Config()


def test_release_renames_in_the_project_config_and_no_config(tmp_path: Path) -> None:
    """Release-specific renames in planner.toml: other diffs fail with a line naming the file;
    --no-config ignores it, --config release.toml keeps them where they belong."""
    (tmp_path / "planner.toml").write_text('[renames]\n"Role.COACH" = "INSTRUCTOR"\n')
    new = str(CENTURION / "new.prisma")
    line = one_line_error(run("diff", "empty", new, cwd=tmp_path))
    assert line.startswith(f"error: {tmp_path / 'planner.toml'}: [renames] ") and "Role.COACH" in line
    assert run("diff", "empty", new, "--no-config", cwd=tmp_path).returncode == 0
    (tmp_path / "planner.toml").unlink()
    release = tmp_path / "release.toml"
    release.write_text('[renames]\n"Role.COACH" = "INSTRUCTOR"\n')
    p = run("diff", str(CENTURION / "old.prisma"), new, "--config", str(release), "-f", "json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "rename_enum_value:Role.INSTRUCTOR" in [c["id"] for c in json.loads(p.stdout)["changes"]]


def test_broken_project_config_is_not_read_with_no_config(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.planner]\nnonsense = 1\n')
    assert run("diff", "empty", str(CENTURION / "new.prisma"), cwd=tmp_path).returncode == 2
    assert run("diff", "empty", str(CENTURION / "new.prisma"), "--no-config", cwd=tmp_path).returncode == 0


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(run("diff", "empty", str(CENTURION / "new.prisma"), "--config", "nope.toml",
                              cwd=tmp_path))
    assert "nope.toml: config file not found" in line


# --- keys that match nothing in this diff ----------------------------------------------------------

def _analyze(tmp_path: Path, toml: str, old: Path, new: Path, **kw) -> object:  # noqa: ANN003
    f = tmp_path / "release.toml"
    f.write_text(toml)
    return analyze(str(old), str(new), config=load_config(str(f), cwd=tmp_path), **kw)


def test_backfill_key_that_matches_no_change_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "release.toml"
    with pytest.raises(ConfigError, match=r"release\.toml: \[backfill\] 'invoices\.totalAmont' matches no column"):
        _analyze(tmp_path, '[backfill]\n"invoices.totalAmont" = "0"\n', CENTURION / "old.prisma",
                 CENTURION / "new.prisma")
    # a type change is not a backfill target either (the issue's second case)
    with pytest.raises(ConfigError, match="'invoices.totalAmount' matches no column"):
        _analyze(tmp_path, '[backfill]\n"invoices.totalAmount" = "0"\n', CENTURION / "old.prisma",
                 CENTURION / "new.prisma")
    line = one_line_error(run("plan", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"),
                              "--config", str(f), "--init", str(tmp_path / "proj"), cwd=tmp_path))
    assert "'invoices.totalAmount' matches no column" in line and str(f) in line
    assert not (tmp_path / "proj").exists()


def test_backfill_that_matches_a_not_null_change_is_accepted(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id int PRIMARY KEY, a text);\n")
    new.write_text("CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL, "
                   "c text NOT NULL DEFAULT 'x');\n")
    a = _analyze(tmp_path, '[backfill]\n"t.a" = "\'\'"\n"t.b" = "\'\'"\n', old, new, dialect="postgresql")
    assert a.config.backfill == {"t.a": "''", "t.b": "''"}
    with pytest.raises(ConfigError, match=r"'t\.c': the column has a default"):
        _analyze(tmp_path, '[backfill]\n"t.c" = "\'y\'"\n', old, new, dialect="postgresql")


def test_mysql_backfill_of_a_nullable_added_column_is_an_error(tmp_path: Path) -> None:
    """The MySQL plan adds a nullable column in place and never runs its backfill."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    new.write_text("CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b varchar(10) NOT NULL);\n")
    a = _analyze(tmp_path, '[backfill]\n"t.b" = "\'x\'"\n', old, new, dialect="mysql")
    assert a.config.backfill == {"t.b": "'x'"}
    with pytest.raises(ConfigError, match=r"'t\.a': the column is nullable in NEW: MySQL adds it in place"):
        _analyze(tmp_path, '[backfill]\n"t.a" = "\'x\'"\n', old, new, dialect="mysql")
    # PostgreSQL fills a nullable added column too
    assert _analyze(tmp_path, '[backfill]\n"t.a" = "\'x\'"\n', old, new, dialect="postgresql").config.backfill


def test_enum_remap_keys_are_checked_against_the_diff(tmp_path: Path) -> None:
    old, new = CENTURION / "old.prisma", CENTURION / "new.prisma"
    a = _analyze(tmp_path, '[enum_remap]\n"Role.COACH" = "INSTRUCTOR"\n', old, new)
    assert a.config.enum_remap == {"Role.COACH": "INSTRUCTOR"}
    with pytest.raises(ConfigError, match=r"\[enum_remap\] 'Role.COACHH' matches no enum value this diff removes"):
        _analyze(tmp_path, '[enum_remap]\n"Role.COACHH" = "INSTRUCTOR"\n', old, new)
    with pytest.raises(ConfigError, match="'Role.COACH' = 'TRAINER': NEW's enum has no such value"):
        _analyze(tmp_path, '[enum_remap]\n"Role.COACH" = "TRAINER"\n', old, new)


def test_project_backfill_error_names_the_project_file(tmp_path: Path) -> None:
    path = pyproject(tmp_path, '[tool.planner.backfill]\n"users.nickname" = "\'\'"\n')
    line = one_line_error(run("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), cwd=tmp_path))
    assert line.startswith(f"error: {path}: [tool.planner.backfill] 'users.nickname' matches no column")


# --- rule selection ----------------------------------------------------------------------------------

def _codes(doc: dict) -> dict[str, list[str]]:
    return {c["id"]: [f["code"] for f in c["findings"]] for c in doc["changes"]}


def test_select_and_ignore_filter_findings_and_levels(tmp_path: Path) -> None:
    args = ("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "json")
    full = json.loads(run(*args, "--no-config", cwd=tmp_path).stdout)
    assert "LK101" in _codes(full)["add_unique:entries.entries_userId_date_key"]
    pyproject(tmp_path, '[tool.planner]\nselect = ["MF", "BC", "LK102"]\nignore = ["LK102"]\n')
    doc = json.loads(run(*args, cwd=tmp_path).stdout)
    codes = _codes(doc)
    assert codes["add_unique:entries.entries_userId_date_key"] == ["MF101"]
    assert codes["alter_column_type:invoices.totalAmount"] == []
    assert codes["drop_index:entries.entries_userId_date_idx"] == []
    levels = {c["id"]: c["level"] for c in doc["changes"]}
    assert levels["alter_column_type:invoices.totalAmount"] == "safe"  # DS103/LK103 no longer raise it
    assert doc["summary"]["max_level"] == "medium"
    # --fail-on follows the selection: nothing selected reaches high
    assert run(*args, "--fail-on", "high", cwd=tmp_path).returncode == 0
    assert run(*args, "--fail-on", "high", "--no-config", cwd=tmp_path).returncode == 1


def test_ignore_by_slug_and_family(tmp_path: Path) -> None:
    old, new = str(AEGIRA / "old.prisma"), str(AEGIRA / "new.prisma")
    for text in ('ignore = ["DS"]\n', 'ignore = ["drop-column"]\n', 'select = ["LK", "MF"]\n'):
        a = analyze(old, new, config=load_config(str(_write(tmp_path, text)), cwd=tmp_path))
        assert a.assessment.max_level.name == "SAFE", text
        assert all(not fs for fs in a.assessment.findings.values())
    a = analyze(old, new, config=load_config(str(_write(tmp_path, 'select = ["DS102"]\n')), cwd=tmp_path))
    assert a.assessment.max_level.name == "HIGH"


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "sel.toml"
    f.write_text(text)
    return f
