"""The documented CI workflow (docs/github-workflow.yml), the composite action (action.yml) and the
pre-commit hooks (.pre-commit-hooks.yaml), run on a temporary git repository (issue 15).

Every `run:` step is run as GitHub runs it (`bash --noprofile --norc -eo pipefail`), with the
`${{ ... }}` expressions GitHub would put in and a pull request's repository: an `origin` whose
main holds OLD and a clone on the pull request's branch holding NEW. The planner commands
really run; `gh` is a stub that records the API calls it is given (the comment step's command
is checked, not sent); `uses:` steps are checked for what they are given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"
MARKER = "<!-- planner-checklist -->"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Runner:
    """A pull request's checkout, a PATH with `planner` (this tree) and a `gh` stub, and the
    expressions GitHub would substitute."""

    def __init__(self, tmp: Path) -> None:
        origin, self.repo = tmp / "origin", tmp / "checkout"
        seed = tmp / "seed"
        (seed / "prisma").mkdir(parents=True)
        _git(seed, "init", "-q", "-b", "main")
        (seed / "prisma" / "schema.prisma").write_text((CENTURION / "old.prisma").read_text())
        _git(seed, "add", "-A")
        _git(seed, "commit", "-qm", "schema")
        _git(tmp, "clone", "-q", "--bare", str(seed), str(origin))
        # actions/checkout: a shallow clone of the pull request's head, no base branch in it
        _git(seed, "checkout", "-qb", "feature")
        (seed / "prisma" / "schema.prisma").write_text((CENTURION / "new.prisma").read_text())
        _git(seed, "commit", "-qam", "money as decimal")
        _git(seed, "push", "-q", str(origin), "feature")
        _git(tmp, "clone", "-q", "--depth=1", "--branch", "feature", f"file://{origin}", str(self.repo))
        assert "origin/main" not in _git(self.repo, "branch", "-r")
        self.bin, self.temp = tmp / "bin", tmp / "runner-temp"
        self.bin.mkdir()
        self.temp.mkdir()
        _executable(self.bin / "planner", f'#!/bin/sh\nexec "{sys.executable}" -m planner "$@"\n')
        self.gh_log = tmp / "gh-calls.jsonl"
        _executable(self.bin / "gh", textwrap.dedent(f"""\
            #!{sys.executable}
            import json, os, sys
            with open({str(self.gh_log)!r}, "a") as f:
                f.write(json.dumps(sys.argv[1:]) + "\\n")
            if "--method" not in sys.argv:  # the listing: what --jq would print
                sys.stdout.write(os.environ.get("GH_STUB_IDS", ""))
            """))
        self.output = tmp / "github-output"
        self.context = {"github.base_ref": "main", "runner.temp": str(self.temp), "github.repository": "acme/shop",
                        "github.event.pull_request.number": "7", "github.token": "t0ken",
                        "github.action_path": str(ROOT)}

    def expand(self, text: str) -> str:
        def value(m: re.Match) -> str:
            key = m.group(1).strip()
            assert key in self.context, f"the test knows no value for ${{{{ {key} }}}}"
            return self.context[key]

        return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))

    def run(self, step: dict, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
        assert step.get("shell") == "bash", step.get("name")
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        step_env = {k: self.expand(v) for k, v in {**env, **step.get("env", {})}.items()}
        full = {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
                "GITHUB_OUTPUT": str(self.output), "RUNNER_TEMP": str(self.temp), "NO_COLOR": "1",
                **step_env, **extra}
        full.pop("CI", None)
        cwd = self.repo / self.expand(step.get("working-directory", "."))
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              capture_output=True, text=True, env=full, timeout=300)

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines() if "=" in line)

    def gh_calls(self) -> list[list[str]]:
        if not self.gh_log.exists():
            return []
        return [json.loads(x) for x in self.gh_log.read_text().splitlines()]


def _steps(doc: dict) -> list[dict]:
    if "runs" in doc:
        return doc["runs"]["steps"]
    return doc["jobs"]["planner"]["steps"]


def _named(steps: list[dict], name: str) -> dict:
    return next(s for s in steps if s.get("name") == name)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def _workflow() -> dict:
    return yaml.safe_load((ROOT / "docs" / "github-workflow.yml").read_text())


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def _review_and_comment(runner: Runner, steps: list[dict], env: dict[str, str]) -> None:
    review = runner.run(_named(steps, "Review the schema change"), env)
    assert review.returncode == 0, review.stderr
    out = runner.outputs()
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"DS103", "LK103", "DS105"}
    assert all(loc["physicalLocation"]["artifactLocation"]["uri"] == "prisma/schema.prisma"
               for r in results for loc in r.get("locations", []))
    comment = (runner.temp / "planner-comment.md").read_text()
    assert comment.startswith(MARKER + "\n")
    assert "git:origin/main:prisma/schema.prisma" in comment
    assert Path(out["checklist-file"]).read_text().startswith(MARKER)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert runner.expand(upload["with"]["sarif_file"].replace("steps.review.outputs.sarif-file",
                                                              "runner.temp")) in (out["sarif-file"],
                                                                                  str(runner.temp))

    post = _named(steps, "Post or update the checklist comment")
    first = runner.run(post, env)  # no comment yet: one is created
    assert first.returncode == 0, first.stderr
    second = runner.run(post, env, GH_STUB_IDS="4242\n777\n")  # the marker's comment exists: updated
    assert second.returncode == 0, second.stderr
    listing, create, listing_again, update = runner.gh_calls()
    assert listing[:3] == ["api", "--paginate", "repos/acme/shop/issues/7/comments"]
    assert listing[3:] == ["--jq", f'.[] | select(.body | startswith("{MARKER}")) | .id']
    body = f"body=@{runner.temp / 'planner-comment.md'}"
    assert create == ["api", "--method", "POST", "repos/acme/shop/issues/7/comments", "-F", body, "--silent"]
    assert listing_again == listing
    assert update == ["api", "--method", "PATCH", "repos/acme/shop/issues/comments/4242", "-F", body, "--silent"]


def test_the_documented_workflow_runs_on_a_pull_request(runner: Runner) -> None:
    doc = _workflow()
    steps = _steps(doc)
    assert doc.get("on", doc.get(True))["pull_request"]  # YAML 1.1 reads a bare `on` as true
    assert doc["permissions"] == {"contents": "read", "pull-requests": "write", "security-events": "write"}
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert "pip install" in _named(steps, "Install planner")["run"]
    env = {k: str(v) for k, v in doc["env"].items()}
    _review_and_comment(runner, steps, env)
    gate = runner.run(_named(steps, "Gate on fail-on"), env)
    assert gate.returncode == 1, gate.stderr  # the centurion change has high findings
    assert "::error file=prisma/schema.prisma," in gate.stdout and "fail-on" in gate.stderr
    relaxed = runner.run(_named(steps, "Gate on fail-on"), {**env, "FAIL_ON": "critical"})
    assert relaxed.returncode == 0, relaxed.stderr
    never = runner.run(_named(steps, "Gate on fail-on"), {**env, "FAIL_ON": ""})
    assert never.returncode == 0 and "::error" in never.stdout


def test_the_action_runs_on_a_pull_request(runner: Runner) -> None:
    doc = _action()
    assert doc["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in doc["inputs"].items()}
    assert doc["inputs"]["schema"]["required"] is True
    inputs["schema"] = "prisma/schema.prisma"
    runner.context.update({f"inputs.{k}": runner.expand(v) for k, v in inputs.items()})
    steps = _steps(doc)
    install = _named(steps, "Install planner")
    assert runner.expand(install["env"]["PLANNER_SOURCE"]) == str(ROOT)  # the action's own planner
    _review_and_comment(runner, steps, {})
    gate = runner.run(_named(steps, "Gate on fail-on"), {})
    assert gate.returncode == 1 and "::error file=prisma/schema.prisma," in gate.stdout
    runner.context["inputs.fail-on"] = ""
    assert runner.run(_named(steps, "Gate on fail-on"), {}).returncode == 0
    assert set(doc["outputs"]) == {"sarif-file", "checklist-file"}


def test_the_workflow_runs_what_the_action_runs() -> None:
    """Two copies of the same commands (a workflow cannot `uses:` an action without knowing where
    it is hosted): they must not drift apart."""
    action, workflow = _steps(_action()), _steps(_workflow())
    for name in ("Review the schema change", "Post or update the checklist comment", "Gate on fail-on"):
        assert _named(action, name)["run"] == _named(workflow, name)["run"], name


def test_the_pre_commit_hooks_run_on_a_staged_change(tmp_path: Path) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"planner-diff", "planner-checklist"}
    for h in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(h) and h["language"] == "python"
        assert h["pass_filenames"] is False and re.search(h["files"], "prisma/schema.prisma")
    repo = tmp_path / "repo"
    (repo / "prisma").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    schema = repo / "prisma" / "schema.prisma"
    schema.write_text((CENTURION / "old.prisma").read_text())
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "old")
    schema.write_text((CENTURION / "new.prisma").read_text())
    _git(repo, "add", "-A")  # staged: what pre-commit leaves in the working tree while hooks run
    args = ["git:HEAD:prisma/schema.prisma", "prisma/schema.prisma"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}

    def hook(name: str, *more: str) -> subprocess.CompletedProcess:
        entry = hooks[name]["entry"].split()
        assert entry[0] == "planner"
        return subprocess.run([sys.executable, "-m", "planner", *entry[1:], *args, *more], cwd=repo,
                              capture_output=True, text=True, env=env, timeout=300)

    staged = hook("planner-diff", "--fail-on", "high")
    assert staged.returncode == 1 and "DS103" in staged.stdout, staged.stderr
    checklist = hook("planner-checklist")
    assert checklist.returncode == 0 and checklist.stdout.startswith(MARKER)
    _git(repo, "commit", "-qm", "new")
    assert hook("planner-diff", "--fail-on", "high").returncode == 0  # nothing staged: no change
