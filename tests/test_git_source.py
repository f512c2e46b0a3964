"""`git:REV:PATH` sources (issue 15): a schema file, a Prisma multi-file folder or a migrations
folder read from a git revision of a temporary repository, by every command that takes OLD/NEW;
errors are one line with exit 2, and messages, JSON and SARIF name `git:REV:PATH`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def planner(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=180)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main holds Centurion's OLD schema (one file, a two-file folder, two migrations); the
    working tree holds NEW, uncommitted."""
    r = tmp_path / "repo"
    (r / "prisma" / "schema").mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    old, new = (CENTURION / "old.prisma").read_text(), (CENTURION / "new.prisma").read_text()
    (r / "prisma" / "schema.prisma").write_text(old)
    head, _, models = old.partition("\nmodel ")
    (r / "prisma" / "schema" / "base.prisma").write_text(head)
    (r / "prisma" / "schema" / "models.prisma").write_text("model " + models)
    mig = r / "db" / "migrations"
    mig.mkdir(parents=True)
    (mig / "1_init.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY, note text);\n")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "old")
    (mig / "2_more.sql").write_text("ALTER TABLE t ADD COLUMN amount numeric(10,2);\nDROP TABLE IF EXISTS gone;\n")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "second migration")
    (r / "prisma" / "schema.prisma").write_text(new)
    return r


def test_a_file_from_the_base_branch_diffs_like_the_file_itself(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "old.prisma").write_text(git(repo, "show", "main:prisma/schema.prisma"))
    via_git = planner(repo, "diff", "git:main:prisma/schema.prisma", "prisma/schema.prisma", "-f", "json",
                      "--no-config")
    plain = planner(repo, "diff", str(tmp_path / "old.prisma"), "prisma/schema.prisma", "-f", "json", "--no-config")
    assert via_git.returncode == plain.returncode == 0, via_git.stderr
    got, want = json.loads(via_git.stdout), json.loads(plain.stdout)
    assert got["old"] == {"source": "git:main:prisma/schema.prisma"}
    assert got["changes"] == want["changes"] and len(got["changes"]) > 3
    # relative to the working directory, like the other argument; HEAD~1 and a commit id work too
    sub = planner(repo / "prisma", "diff", "git:HEAD~1:schema.prisma", "schema.prisma", "-f", "json",
                  "--no-config")
    assert json.loads(sub.stdout)["changes"] == want["changes"], sub.stderr
    commit = git(repo, "rev-parse", "HEAD").strip()
    assert planner(repo, "diff", f"git:{commit}:prisma/schema.prisma", "prisma/schema.prisma", "--fail-on",
                   "high", "-q", "--no-config").returncode == 1


def test_folders_prisma_multi_file_and_migrations(repo: Path) -> None:
    same = planner(repo, "diff", "git:main:prisma/schema", "git:main:prisma/schema.prisma", "-f", "json",
                   "--no-config")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["changes"] == []  # the two-file folder is the one-file schema
    mig = planner(repo, "diff", "git:HEAD~1:db/migrations", "db/migrations", "-f", "json", "--dialect",
                  "postgresql", "--no-config")
    assert mig.returncode == 0, mig.stderr
    doc = json.loads(mig.stdout)
    assert [c["id"] for c in doc["changes"]] == ["add_column:t.amount"]
    assert doc["old"]["source"] == "git:HEAD~1:db/migrations"
    inspect = planner(repo, "inspect", "git:HEAD~1:db/migrations", "--dialect", "postgresql", "-f", "json")
    assert inspect.returncode == 0 and "amount" not in inspect.stdout and '"note"' in inspect.stdout


def test_every_command_takes_a_git_source(repo: Path, tmp_path: Path) -> None:
    old = "git:main:prisma/schema.prisma"
    sql = planner(repo, "check", old, "prisma/schema.prisma", "--sql", "--no-config")
    assert sql.returncode == 0 and "git:main:prisma/schema.prisma" in sql.stdout, sql.stderr
    checklist = planner(repo, "checklist", old, "prisma/schema.prisma", "--no-config", "-q")
    assert checklist.returncode == 0, checklist.stderr
    assert "git:main:prisma/schema.prisma" in checklist.stdout
    plan = planner(repo, "plan", old, "prisma/schema.prisma", "--init", str(tmp_path / "project"), "--no-config",
                   "--rev-id-seed", "s", "-q")
    assert plan.returncode == 0, plan.stderr
    assert list((tmp_path / "project" / "migrations" / "versions").glob("*.py"))


@pytest.mark.parametrize(("spec", "needle"), [
    ("git:nope:prisma/schema.prisma", "git:nope:prisma/schema.prisma: unknown revision 'nope'"),
    ("git:main:prisma/missing.prisma", "git:main:prisma/missing.prisma: prisma/missing.prisma does not exist in main"),
    ("git:main", "git:main: expected git:REV:PATH"),
    ("git:main:", "git:main:: expected git:REV:PATH"),
    ("git:main:db/migrations/../../../outside.prisma", "is outside the repository"),
])
def test_errors_are_one_line_with_exit_2(repo: Path, spec: str, needle: str) -> None:
    p = planner(repo, "diff", spec, "prisma/schema.prisma", "--no-config")
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and needle in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    env_ceiling = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "planner", "diff", "git:main:schema.prisma", "empty"], cwd=plain,
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, **env_ceiling, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    assert p.returncode == 2
    assert p.stderr.strip() == (f"error: git:main:schema.prisma: {plain} is not inside a git repository; "
                                "run planner in the repository, or give a file path")


def test_parse_errors_and_warnings_name_the_revision_not_a_temporary_copy(repo: Path) -> None:
    (repo / "prisma" / "schema" / "models.prisma").write_text("model Broken {\n  id Int @id\n  x ???\n}\n")
    git(repo, "commit", "-qam", "broken")
    p = planner(repo, "diff", "git:HEAD:prisma/schema", "empty", "--no-config")
    assert p.returncode == 2
    assert p.stderr.startswith("error: git:HEAD:prisma/schema/models.prisma:3:"), p.stderr
    assert "planner-git-" not in p.stderr and "/tmp" not in p.stderr


def test_sarif_and_annotations_point_at_the_path_and_name_the_revision(repo: Path) -> None:
    p = planner(repo, "diff", "git:main:prisma/schema.prisma", "prisma/schema.prisma", "-f", "sarif", "--no-config")
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)["runs"][0]["results"]
    dropped = [r for r in results if r["properties"]["kind"] == "drop_index"]
    assert dropped
    loc = dropped[0]["locations"][0]
    # code scanning accepts only repository paths: the uri is PATH; the revision is named beside it
    assert loc["physicalLocation"]["artifactLocation"] == {"uri": "prisma/schema.prisma", "uriBaseId": "SRCROOT"}
    line = loc["physicalLocation"]["region"]["startLine"]
    old_lines = git(repo, "show", "main:prisma/schema.prisma").splitlines()
    assert old_lines[line - 1].startswith("model ")  # a Prisma @@index: its model, in the revision's text
    assert loc["message"]["text"].startswith(f"in git:main:prisma/schema.prisma:{line}:")
    added = next(r for r in results if r["properties"]["kind"] == "add_enum_value")
    assert "message" not in added["locations"][0]  # NEW is the working tree's file
    gh = planner(repo, "diff", "git:main:prisma/schema.prisma", "prisma/schema.prisma", "-f", "github", "--no-config")
    drop_line = next(x for x in gh.stdout.splitlines() if "drop-index" in x)
    assert "file=prisma/schema.prisma," in drop_line and "line=" not in drop_line
    assert f"::git:main:prisma/schema.prisma:{line}:" in drop_line


def test_warnings_name_the_revision(repo: Path) -> None:
    sql = repo / "db" / "schema.sql"
    sql.write_text("CREATE TABLE t (id integer PRIMARY KEY);\n"
                   "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "sql")
    p = planner(repo, "diff", "git:HEAD:db/schema.sql", "db/schema.sql", "-d", "postgresql", "--no-config")
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert 'warning: git:HEAD:db/schema.sql:2:1: CREATE FUNCTION "f" is not modelled; ignored' in lines
    assert 'warning: db/schema.sql:2:1: CREATE FUNCTION "f" is not modelled; ignored' in lines
    assert "planner-git-" not in p.stderr
