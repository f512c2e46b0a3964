"""Alembic ergonomics (issue 15): both Alembic templates (`alembic.ini`, and pyproject.toml's
`[tool.alembic]`), a relative `script_location` from `--init`, and revision titles and file
names from `-m` or from the changes, never from source paths or URL hosts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"
MAIS = ROOT / "sample_schemas" / "mais-webhook-idempotency"
OFFLINE_URL = "postgresql+psycopg://offline@localhost/offline"


def run(cwd: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([*args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def planner(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run(cwd, sys.executable, "-m", "planner", *args)


def alembic(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run(cwd, sys.executable, "-m", "alembic", *args)


def versions(project: Path, folder: str = "migrations") -> list[Path]:
    return sorted((project / folder / "versions").glob("*.py"))


@pytest.fixture
def pyproject_project(tmp_path: Path) -> Path:
    """`alembic init -t pyproject migrations` in a project folder (its own pyproject.toml)."""
    project = tmp_path / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    run(project, sys.executable, "-m", "alembic", "init", "-t", "pyproject", "migrations", check=True)
    ini = project / "alembic.ini"
    assert "script_location" not in ini.read_text().split("[loggers]")[0]  # it lives in pyproject.toml
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", OFFLINE_URL))
    return project


@pytest.mark.parametrize("given", ["alembic.ini", "pyproject.toml"])
def test_the_pyproject_template_works_through_either_file(pyproject_project: Path, tmp_path: Path,
                                                          given: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = pyproject_project / given
    p = planner(elsewhere, "plan", str(MAIS / "old.prisma"), str(MAIS / "new.prisma"), "--alembic", str(config),
                "--no-config")
    assert p.returncode == 0, p.stderr
    written = versions(pyproject_project)
    runtime = pyproject_project / "migrations" / "planner_runtime_v1.py"
    assert len(written) == 2 and sorted([str(runtime), *map(str, written)]) == sorted(p.stdout.split())
    # the hint names both files, so alembic finds [tool.alembic] from any folder
    hint = f"alembic -c {pyproject_project / 'alembic.ini'} -c {pyproject_project / 'pyproject.toml'} upgrade +1"
    assert hint in p.stderr, p.stderr
    # alembic itself reads the project planner wrote into (offline: no server needed)
    sql = alembic(elsewhere, "-c", str(pyproject_project / "alembic.ini"), "-c",
                  str(pyproject_project / "pyproject.toml"), "upgrade", "head", "--sql")
    assert sql.returncode == 0, sql.stderr
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in sql.stdout
    # the checklist reads the same project: the ids it names are the files' ids
    c = planner(elsewhere, "checklist", str(MAIS / "old.prisma"), str(MAIS / "new.prisma"), "--alembic",
                str(config), "--no-config", "-q")
    assert c.returncode == 0, c.stderr
    assert f"-c {pyproject_project / 'pyproject.toml'}" in c.stdout
    for f in written:
        assert f.name[:12] in c.stdout


def test_configs_that_are_no_alembic_project_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "alembic.ini").write_text("[alembic]\n")
    old, new = str(MAIS / "old.prisma"), str(MAIS / "new.prisma")
    for config, needle in ((tmp_path / "pyproject.toml", "pyproject.toml: no [tool.alembic] table"),
                           (tmp_path / "alembic.ini", "no script_location"),
                           (tmp_path / "missing.ini", "missing.ini: no such file")):
        p = planner(tmp_path, "plan", old, new, "--alembic", str(config), "--no-config")
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and needle in p.stderr, p.stderr


def test_init_writes_a_relative_script_location_and_the_project_moves(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    p = planner(tmp_path, "plan", str(MAIS / "old.prisma"), str(MAIS / "new.prisma"), "--init", str(project),
                "--no-config", "-q")
    assert p.returncode == 0, p.stderr
    ini = (project / "alembic.ini").read_text()
    assert re.search(r"(?m)^script_location = %\(here\)s/migrations$", ini)
    assert str(tmp_path) not in ini
    moved = tmp_path / "moved" / "proj"
    moved.parent.mkdir()
    shutil.move(str(project), str(moved))
    sql = alembic(tmp_path, "-c", str(moved / "alembic.ini"), "-x", f"db={OFFLINE_URL}", "upgrade", "head", "--sql")
    assert sql.returncode == 0, sql.stderr
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in sql.stdout


def test_file_names_come_from_the_changes_never_from_paths_or_hosts(tmp_path: Path) -> None:
    sources = tmp_path / "secret_team_dir"
    shutil.copytree(CENTURION, sources)
    p = planner(tmp_path, "plan", str(sources / "old.prisma"), str(sources / "new.prisma"), "--init",
                str(tmp_path / "p"), "--no-config", "--rev-id-seed", "s", "-q")
    assert p.returncode == 0, p.stderr
    names = [f.name for f in versions(tmp_path / "p")]
    assert names and not any("secret" in n or "prisma" in n or "team" in n for n in names), names
    for f in versions(tmp_path / "p"):
        doc = f.read_text().split('"""')[1]
        first, _, rest = doc.partition("\n")
        phase, _, title = first.partition(": ")
        assert phase.split()[0] in ("expand", "backfill", "contract") and title
        assert "secret_team_dir" not in first and f"From: {sources / 'old.prisma'} -> " in rest
        slug = "_".join(re.findall(r"\w+", first)).lower()
        assert f.name[13:-3] == (slug if len(slug) <= 40 else slug[:40].rsplit("_", 1)[0] + "_")
    # a URL's host never names a file either
    empty = tmp_path / "empty.db"
    url = f"sqlite:///{empty}"
    subprocess.run([sys.executable, "-c", f"import sqlite3; sqlite3.connect({str(empty)!r}).close()"], check=True)
    new = tmp_path / "new.sql"
    new.write_text("CREATE TABLE webhook (id integer PRIMARY KEY, url text NOT NULL);\n")
    p = planner(tmp_path, "plan", url, str(new), "--init", str(tmp_path / "q"), "--no-config", "-q")
    assert p.returncode == 0, p.stderr
    assert [f.name[13:] for f in versions(tmp_path / "q")] == ["expand_add_table_webhook.py"]


def test_message_titles_every_revision_and_the_checklist_gives_the_same_ids(tmp_path: Path) -> None:
    old, new = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
    p = planner(tmp_path, "plan", old, new, "--init", str(tmp_path / "p"), "--no-config", "--rev-id-seed", "r1",
                "-m", "Money as decimal, roles renamed", "-q")
    assert p.returncode == 0, p.stderr
    files = versions(tmp_path / "p")
    assert len(files) == 4
    # Alembic's slug stops at 40 characters (truncate_slug_length), at a word
    assert {f.name[13:] for f in files} == {"expand_1_2_money_as_decimal_roles_.py",
                                            "expand_2_2_money_as_decimal_roles_.py",
                                            "backfill_money_as_decimal_roles_renamed.py",
                                            "contract_money_as_decimal_roles_renamed.py"}
    c = planner(tmp_path, "checklist", old, new, "--no-config", "--rev-id-seed", "r1", "-m",
                "Money as decimal, roles renamed", "-q")
    assert c.returncode == 0, c.stderr
    for f in files:
        assert f"revision `{f.name[:12]}`" in c.stdout
    assert "-m 'Money as decimal, roles renamed'" in c.stdout  # the command that writes these ids
    # the same plan again, under another title, is still recognised as written
    again = planner(tmp_path, "plan", old, new, "--alembic", str(tmp_path / "p" / "alembic.ini"), "--no-config",
                    "-m", "other words")
    assert again.returncode == 2 and "this plan is in the project already" in again.stderr
    bad = planner(tmp_path, "plan", old, new, "--init", str(tmp_path / "x"), "--no-config", "-m", "  ")
    assert bad.returncode == 2 and bad.stderr.strip() == 'error: -m/--message: one line of text, e.g. -m "add webhooks"'
