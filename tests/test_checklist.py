"""`planner checklist`: golden checklists of every sample story (without and with --db on real
servers seeded with dirty rows of known counts), no placeholders and no other dialect's steps,
every revision with its exact commands, the size cap, and agreement with `planner plan`."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.load import load_source
from planner.render.checklist import MAX_MARKDOWN
from planner.verify.harness import build_schema
from planner.verify.seed import seed_database

from .conftest import CORPUS, ROOT, SAMPLES, run_sql

GOLDEN = Path(__file__).parent / "golden" / "checklist"
SEED = "checklist"

#: story -> extra arguments (the ones a reviewer gives `planner plan` for it)
STORIES = {
    "aegira-missed-checkin-snapshot": [],
    "aegira-event-checkin-relation": [],
    "aegira-indexes-soft-delete": [],
    "centurion-money-enum-unique": ["--rename", "Role.COACH=INSTRUCTOR"],
    "mais-webhook-idempotency": [],
    "medspa-waitlist": ["--dialect", "postgresql"],
    "orchestration-execution-log": ["--dialect", "mysql", "--config",
                                    "sample_schemas/orchestration-execution-log/planner.toml"],
}

#: dirty rows of known counts, after a deterministic seed of OLD (rows, SQL); `expect`: what the
#: failing (or informing) items must show
DIRTY = {
    "centurion-money-enum-unique": (6, """
        UPDATE "users" SET "role" = 'CLIENT';
        UPDATE "users" SET "role" = 'COACH' WHERE "id" IN (SELECT "id" FROM "users" ORDER BY "id" LIMIT 2);
        UPDATE "appointments" SET "fee" = 50;
        UPDATE "appointments" SET "fee" = 123456789.5 WHERE "id" = (SELECT min("id") FROM "appointments");
        UPDATE "appointments" SET "fee" = 12.345
            WHERE "id" IN (SELECT "id" FROM "appointments" ORDER BY "id" OFFSET 1 LIMIT 3);
        UPDATE "invoices" SET "totalAmount" = 10;
        UPDATE "entries" SET "date" = DATE '2026-01-01' + "id";
        CREATE TEMP TABLE "dup" AS SELECT * FROM "entries" ORDER BY "id" LIMIT 2;
        UPDATE "dup" SET "id" = "id" + 100000;
        INSERT INTO "entries" SELECT * FROM "dup";
    """),
    "mais-webhook-idempotency": (6, """
        UPDATE "WebhookEvent" SET "eventId" = 'evt_' || "id";
        CREATE TEMP TABLE "dup" AS SELECT * FROM "WebhookEvent" ORDER BY "id" LIMIT 3;
        UPDATE "dup" SET "id" = "id" || '-again';
        INSERT INTO "WebhookEvent" SELECT * FROM "dup";
    """),
    "aegira-missed-checkin-snapshot": (5, """
        UPDATE "missed_check_ins" SET "day_of_week" = NULL;
        UPDATE "missed_check_ins" SET "day_of_week" = 3
            WHERE "id" IN (SELECT "id" FROM "missed_check_ins" ORDER BY "id" LIMIT 4);
    """),
    "aegira-event-checkin-relation": (5, ""),  # event_id is NOT NULL: all 5 values are lost
    "aegira-indexes-soft-delete": (4, ""),
    "medspa-waitlist": (4, ""),
    "orchestration-execution-log": (5, """
        UPDATE `execution_logs` SET `metadata` = NULL;
        UPDATE `execution_logs` SET `metadata` = CONCAT('"', REPEAT('x', 1048580), '"') ORDER BY `id` LIMIT 2;
    """),
}
EXPECT_DB = {
    "centurion-money-enum-unique": ["**FAIL**: 2 duplicate groups", "**FAIL**: 1 values", "**FOUND**: 3 values",
                                    "**FOUND**: 2 rows", "blocked: 2 pre-flight checks fail"],
    "mais-webhook-idempotency": ["**FAIL**: 3 duplicate groups", "blocked: 1 pre-flight check fails"],
    "aegira-missed-checkin-snapshot": ["4 values: values of missed_check_ins.day_of_week"],
    "aegira-event-checkin-relation": ["5 values: values of check_ins.event_id"],
    "orchestration-execution-log": ["**FAIL**: 2 rows", "blocked: 1 pre-flight check fails"],
}


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _pair(name: str) -> list[str]:
    folder = SAMPLES / name
    return [str(next(folder.glob("old.*")).relative_to(ROOT)), str(next(folder.glob("new.*")).relative_to(ROOT))]


def _checklist(*args: str) -> str:
    result = CliRunner().invoke(app, ["checklist", *args, "-q"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path} (run with UPDATE_GOLDEN=1)"
    assert text == path.read_text(), f"checklist differs from {path} (UPDATE_GOLDEN=1 rewrites it)"


# --------------------------------------------------------------------------- golden, no database

@pytest.mark.parametrize("name", sorted(STORIES))
def test_golden_checklist(name: str):
    text = _checklist(*_pair(name), *STORIES[name], "--rev-id-seed", SEED)
    _golden(f"{name}.md", text)
    assert text.startswith("<!-- planner-checklist -->\n")
    assert "| unknown |" in text or "No changes" in text  # block estimates need --db


def test_golden_json_and_text():
    args = [*_pair("centurion-money-enum-unique"), *STORIES["centurion-money-enum-unique"], "--rev-id-seed", SEED]
    doc = _checklist(*args, "--format", "json")
    _golden("centurion-money-enum-unique.json", doc)
    data = json.loads(doc)
    assert data["schema_version"] == 1 and data["tool"]["name"] == "planner"
    assert list(data) == sorted(data)
    assert [s["phase"] for s in data["checklist"]["sections"]] == ["expand", "expand", "backfill", "contract",
                                                                   "cleanup"]
    text = _checklist(*args, "--format", "text")
    _golden("centurion-money-enum-unique.txt", text)
    assert "<details>" not in text and "[ ] " in text


def test_informative_checks_expect_nothing():
    """As in `planner check`, an informative pre-flight check (data_loss, rounding, enum in use)
    has no expected result: any count is an answer. Blocking checks keep theirs."""
    args = [*_pair("centurion-money-enum-unique"), *STORIES["centurion-money-enum-unique"], "--rev-id-seed", SEED]
    data = json.loads(_checklist(*args, "--format", "json"))
    items = [x for s in data["checklist"]["sections"] for x in s["items"] if x["kind"] == "preflight"]
    informs = [x for x in items if not x["blocking"]]
    assert informs and all(x["query"]["expect"] is None for x in informs)
    assert all(x["query"]["expect"] for x in items if x["blocking"])
    for fmt in ("markdown", "text"):
        lines = _checklist(*args, "--format", fmt).splitlines()
        for i, line in enumerate(lines):
            if "informs, never blocks" in line:
                near = " ".join(lines[i:i + 6]) if fmt == "text" else line
                assert "any count is an answer" in near and "expected" not in line, line


def test_output_is_deterministic():
    args = [*_pair("centurion-money-enum-unique"), "--rev-id-seed", SEED]
    assert _checklist(*args) == _checklist(*args)


# --------------------------------------------------------------------------- golden, with --db

def _seed(name: str, url: str) -> None:
    old = _pair(name)[0]
    dialect = "mysql" if "--dialect" in STORIES[name] and "mysql" in STORIES[name] else None
    schema = load_source(old, dialect=dialect or ("postgresql" if old.endswith(".sql") else None)).schema
    rows, sql = DIRTY[name]
    build_schema(url, schema)
    seed_database(url, schema, rows=rows, seed=0)
    if sql.strip():
        run_sql(url, sql)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:  # exact row estimates, whatever autovacuum does later
            if engine.dialect.name == "postgresql":
                c.exec_driver_sql("ANALYZE")
            else:
                for t in schema.tables:
                    c.exec_driver_sql(f"ANALYZE TABLE `{t.name}`")
    finally:
        engine.dispose()


def _with_db(name: str, url: str) -> str:
    _seed(name, url)
    text = _checklist(*_pair(name), *STORIES[name], "--rev-id-seed", SEED, "--db", url)
    database = sa.make_url(url).database
    return text.replace(url, "DATABASE_URL").replace(database, "test_db")


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(n for n in STORIES if n != "orchestration-execution-log"))
def test_golden_checklist_with_db_postgresql(name: str, pg_url: str):
    text = _with_db(name, pg_url)
    _golden(f"{name}.db.md", text)
    assert "| unknown |" not in text
    assert "Pre-flight results | from DATABASE_URL (read-only)" in text or "from postgresql" in text
    for expected in EXPECT_DB.get(name, []):
        assert expected in text, expected


@pytest.mark.mysql
def test_golden_checklist_with_db_mariadb(mysql_url: str):
    name = "orchestration-execution-log"
    text = _with_db(name, mysql_url)
    _golden(f"{name}.db.md", text)
    for expected in EXPECT_DB[name]:
        assert expected in text, expected


# --------------------------------------------------------------------------- content rules

#: template holes: `{table}`, `<rev>`, TODO, `-x db=URL`, `--init DIR`, `OLD NEW`
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|<(?!/?(details|summary)\b|!-- planner-checklist -->)[a-z_ ]+>|\bTODO\b|\bXXX\b"
                         r"|=URL\b|--init DIR\b|\bOLD NEW\b|\.\.\.")
OTHER_DIALECT = {
    "postgresql": ["ALGORITHM=", "LOCK=NONE", "PROCESSLIST", "sqlite", "DATABASE()", "`"],
    "mysql": ["CONCURRENTLY", "pg_", "::regclass", "sqlite_master", "lock_timeout 1s", "public"],
}


@pytest.mark.parametrize("name", sorted(STORIES))
def test_no_placeholder_and_no_other_dialect(name: str):
    for fmt in ("markdown", "text"):
        text = _checklist(*_pair(name), *STORIES[name], "--rev-id-seed", SEED, "--format", fmt)
        text = text.replace("`planner checklist ... --db URL`", "")  # the option, named in the no --db note
        assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text).group(0)
        dialect = "mysql" if name == "orchestration-execution-log" else "postgresql"
        for word in OTHER_DIALECT[dialect]:
            if dialect == "postgresql" and word == "`":
                continue  # markdown code spans
            assert word not in text, (name, word)


def _written(tmp_path: Path, name: str, *extra: str) -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, first docstring line) of what `planner plan` writes, in order."""
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", *_pair(name), *STORIES[name], "--init", str(proj),
                                      "--rev-id-seed", SEED, "-q", *extra])
    assert result.exit_code == 0, result.output
    return _read_project(proj)


def _read_project(proj: Path) -> list[tuple[str, str | None, str]]:
    revs = {}
    for f in (proj / "migrations" / "versions").glob("*.py"):
        tree = ast.parse(f.read_text())
        values = {}
        for n in tree.body:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and t.id in ("revision", "down_revision"):
                    values[t.id] = ast.literal_eval(n.value)
        revs[values["revision"]] = (values["down_revision"], (ast.get_docstring(tree) or "").splitlines()[0])
    out, head = [], None
    while True:  # walk the chain from the base
        nxt = [(r, d, doc) for r, (d, doc) in revs.items() if d == head]
        if not nxt:
            return out
        out.append(nxt[0])
        head = nxt[0][0]


@pytest.mark.parametrize("name", sorted(STORIES))
def test_every_revision_has_its_exact_commands(tmp_path: Path, name: str):
    written = _written(tmp_path, name)
    doc = json.loads(_checklist(*_pair(name), *STORIES[name], "--rev-id-seed", SEED, "--format", "json"))
    sections = [s for s in doc["checklist"]["sections"] if s["phase"] != "cleanup"]
    assert [(s["revision"], s["down_revision"]) for s in sections] == [(r, d) for r, d, _ in written]
    assert [s["label"] for s in sections] == [d.split(": ", 1)[0] for _, _, d in written]
    md = _checklist(*_pair(name), *STORIES[name], "--rev-id-seed", SEED)
    for rev, down, _ in written:
        assert f"alembic -c alembic_project/alembic.ini upgrade {rev}`" in md
        assert f"alembic -c alembic_project/alembic.ini downgrade {down or 'base'}`" in md


def test_ids_of_revisions_already_in_the_project(tmp_path: Path):
    """Without a seed, --alembic finds the revisions `planner plan` wrote (random ids)."""
    name = "centurion-money-enum-unique"
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", *_pair(name), *STORIES[name], "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    written = _read_project(proj)
    doc = json.loads(_checklist(*_pair(name), *STORIES[name], "--alembic", str(proj / "alembic.ini"),
                                "--format", "json"))
    sections = [s for s in doc["checklist"]["sections"] if s["phase"] != "cleanup"]
    assert [s["revision"] for s in sections] == [r for r, _, _ in written]
    assert "already written" in doc["checklist"]["revision_note"]


def test_without_seed_or_project_the_commands_step_one_revision(tmp_path: Path):
    doc = json.loads(_checklist(*_pair("centurion-money-enum-unique"), "--format", "json"))
    sections = doc["checklist"]["sections"]
    assert len(sections) >= 4 and sections[-1]["phase"] == "cleanup"
    for s in sections:
        assert s["revision"] is None
        assert s["commands"]["upgrade"] == "alembic -c alembic_project/alembic.ini upgrade +1"
        assert s["commands"]["downgrade"] in ("alembic -c alembic_project/alembic.ini downgrade -1", None)
    assert "Revision ids: not known" in doc["checklist"]["revision_note"]


def test_cleanup_revision_id_matches_plan_cleanup(tmp_path: Path):
    name = "aegira-missed-checkin-snapshot"
    _written(tmp_path, name)
    ini = str(tmp_path / "proj" / "alembic.ini")
    result = CliRunner().invoke(app, ["plan", *_pair(name), "--alembic", ini, "--rev-id-seed", SEED, "--cleanup",
                                      "-q"])
    assert result.exit_code == 0, result.output
    cleanup = _read_project(tmp_path / "proj")[-1]
    doc = json.loads(_checklist(*_pair(name), "--rev-id-seed", SEED, "--format", "json"))
    assert doc["checklist"]["sections"][-1]["revision"] == cleanup[0]


# --------------------------------------------------------------------------- size cap

def _many_changes(tmp_path: Path, tables: int = 120) -> tuple[str, str]:
    old, new = [], []
    for i in range(tables):
        cols = ", ".join(f'"snapshot_value_{j}" text' for j in range(4))
        old.append(f'CREATE TABLE "wide_table_{i:03d}" ("id" bigint PRIMARY KEY, "owner_id" bigint, {cols});')
        new.append(f'CREATE TABLE "wide_table_{i:03d}" ("id" bigint PRIMARY KEY, "owner_id" bigint NOT NULL);')
        new.append(f'CREATE INDEX "wide_table_{i:03d}_owner_idx" ON "wide_table_{i:03d}" ("owner_id");')
    (tmp_path / "old.sql").write_text("\n".join(old))
    (tmp_path / "new.sql").write_text("\n".join(new))
    return str(tmp_path / "old.sql"), str(tmp_path / "new.sql")


def test_size_cap_holds_on_hundreds_of_changes(tmp_path: Path):
    old, new = _many_changes(tmp_path)
    out = tmp_path / "full.md"
    text = _checklist(old, new, "--dialect", "postgresql", "--rev-id-seed", SEED, "--out", str(out))
    full = out.read_text()
    changes = json.loads(_checklist(old, new, "--dialect", "postgresql", "--format", "json"))["checklist"]["summary"]
    assert len(changes) >= 600
    assert len(full) > MAX_MARKDOWN  # the full text does not fit: the printed one was shortened
    assert len(text) <= MAX_MARKDOWN < 65_536
    assert text.startswith("<!-- planner-checklist -->\n")
    assert "Shortened to fit a pull-request comment" in text and str(out) in text
    assert "## Sign-off" in text  # shortened sections, not a cut-off document
    assert "Shortened" not in full
    # every revision's commands survive the shortening
    for rev in re.findall(r"upgrade ([0-9a-f]{12})`", full):
        assert f"upgrade {rev}`" in text


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("args, message", [
    (["--alembic", "no/such/alembic.ini"], "no such file"),
    (["--format", "yaml"], "yaml"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str):
    result = CliRunner().invoke(app, ["checklist", *_pair("centurion-money-enum-unique"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreadable_schema_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.prisma"
    bad.write_text("model {")
    result = CliRunner().invoke(app, ["checklist", str(bad), _pair("centurion-money-enum-unique")[1]])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len([ln for ln in result.stderr.splitlines() if ln.strip()]) == 1


# --------------------------------------------------------------------------- corpus agreement

def _corpus_pairs() -> list[str]:
    root = CORPUS / "prisma"
    if not root.is_dir():
        return []
    return sorted(f"{p.parent.name}/{p.name}" for p in root.glob("*/[0-9]*") if (p / "old.prisma").is_file())


@pytest.mark.corpus
@pytest.mark.parametrize("pair", _corpus_pairs())
def test_checklist_agrees_with_plan_on_corpus(corpus: Path, tmp_path: Path, pair: str):
    old, new = str(corpus / "prisma" / pair / "old.prisma"), str(corpus / "prisma" / pair / "new.prisma")
    proj = tmp_path / "proj"
    plan = CliRunner().invoke(app, ["plan", old, new, "--init", str(proj), "--rev-id-seed", SEED, "-q"])
    check = CliRunner().invoke(app, ["checklist", old, new, "--rev-id-seed", SEED, "--format", "json", "-q"])
    assert plan.exit_code == check.exit_code, (plan.output, check.output)
    if plan.exit_code != 0:  # a change planner cannot stage: both stop with the same line
        assert plan.stderr == check.stderr
        return
    doc = json.loads(check.stdout)
    written = _read_project(proj) if (proj / "migrations" / "versions").is_dir() else []
    sections = [s for s in doc["checklist"]["sections"] if s["phase"] != "cleanup"]
    assert [(s["revision"], s["down_revision"], s["label"]) for s in sections] == \
        [(r, d, first.split(": ", 1)[0]) for r, d, first in written]
    assert [s["phase"] for s in sections] == [first.split(": ", 1)[0].split(" ")[0] for _, _, first in written]
