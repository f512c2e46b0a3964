"""Staged Alembic migrations (PostgreSQL): golden revisions, imports, the verify harness on the
stories and the corpus, offline mode, and a migration killed midway that re-runs cleanly."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.config import Config
from planner.load import load_source
from planner.pipeline import analyze
from planner.verify.harness import build_schema, verify

from .conftest import CORPUS, ROOT, SAMPLES

GOLDEN = Path(__file__).parent / "golden"
PG_STORIES = [
    ("aegira-missed-checkin-snapshot", ()),
    ("aegira-event-checkin-relation", ()),
    ("aegira-indexes-soft-delete", ()),
    ("centurion-money-enum-unique", ("Role.COACH=INSTRUCTOR",)),
    ("mais-webhook-idempotency", ()),
    ("medspa-waitlist", ()),
]


def _story(name: str) -> tuple[str, str]:
    """OLD and NEW of a story, relative to the repository (revision docstrings name them)."""
    folder = SAMPLES / name
    return (str(next(folder.glob("old.*")).relative_to(ROOT)), str(next(folder.glob("new.*")).relative_to(ROOT)))


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _plan_files(tmp_path: Path, name: str, renames: tuple[str, ...], *extra: str) -> list[Path]:
    old, new = _story(name)
    args = ["plan", old, new, "--init", str(tmp_path / "proj"), "--rev-id-seed", "golden", "-q", *extra]
    for r in renames:
        args += ["--rename", r]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return sorted((tmp_path / "proj" / "migrations" / "versions").glob("*.py"))


@pytest.mark.parametrize("name, renames", [PG_STORIES[0], PG_STORIES[3], PG_STORIES[4]])
def test_golden_revisions(tmp_path: Path, name: str, renames: tuple[str, ...]):
    """Rendered revisions, readable in review (UPDATE_GOLDEN=1 rewrites them)."""
    files = _plan_files(tmp_path, name, renames)
    assert files
    stale = {g.name for g in (GOLDEN / name).glob("*.py")} - {f.name for f in files}
    if os.environ.get("UPDATE_GOLDEN"):
        for g in stale:
            (GOLDEN / name / g).unlink()
    else:
        assert not stale, f"golden files no longer generated: {sorted(stale)} (run with UPDATE_GOLDEN=1)"
    for f in files:
        golden = GOLDEN / name / f.name
        text = f.read_text()
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert golden.is_file(), f"missing golden file {golden} (run with UPDATE_GOLDEN=1)"
        assert text == golden.read_text(), f"{f.name} differs from {golden}"


@pytest.mark.parametrize("name, renames", PG_STORIES)
def test_revisions_import_only_alembic_and_sqlalchemy(tmp_path: Path, name: str, renames: tuple[str, ...]):
    for f in _plan_files(tmp_path, name, renames):
        tree = ast.parse(f.read_text())
        roots = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots.add((node.module or "").split(".")[0])
        # alembic/sqlalchemy (and the template's typing names) only: the helpers are in the
        # runtime module the revision loads through alembic, nothing a user's project must install
        assert roots <= {"alembic", "sqlalchemy", "collections"}, (f.name, roots)


def test_single_revision(tmp_path: Path):
    files = _plan_files(tmp_path, "aegira-event-checkin-relation", (), "--single")
    assert len(files) == 1
    assert '"""single revision' in files[0].read_text()


@pytest.mark.postgres
def test_single_revision_applies_and_reverts(tmp_path: Path, pg_url: str):
    """--single runs every phase in one revision: guards that read what an earlier step creates
    (the converted column of R8, a new NOT NULL column) run right before their step."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, amount double precision NOT NULL);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, amount numeric(12,2) NOT NULL, "
                   "status text NOT NULL DEFAULT 'new');\n")
    build_schema(pg_url, load_source(str(old)).schema)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets SELECT g, g * 1.5 FROM generate_series(1, 300) g")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(proj), "--single", "-q"])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "DATABASE_URL": sa.make_url(pg_url).render_as_string(hide_password=False)}
    for args in (["upgrade", "head"], ["downgrade", "base"]):
        r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        if args[0] == "upgrade":
            from planner.diff import diff

            assert [x.id for x in diff(load_source(pg_url).schema, load_source(str(new)).schema).changes] == []
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT sum(amount) FROM pets").scalar() == 1.5 * 300 * 301 / 2
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("name, renames", PG_STORIES)
def test_verify_every_postgres_story(pg_url: str, name: str, renames: tuple[str, ...]):
    old, new = _story(name)
    report = verify(analyze(old, new, config=Config(), renames=list(renames)), pg_url)
    assert report.ok, report
    assert report.revisions >= 1 and report.offline_sql_lines > 0
    assert sum(report.seeded.values()) > 0


def test_verify_cli_reports(pg_url: str):
    old, new = _story("mais-webhook-idempotency")
    result = CliRunner().invoke(app, ["verify", old, new, "--db", pg_url])
    assert result.exit_code == 0, result.output
    assert "OK: upgrade matches NEW" in result.stdout


# --------------------------------------------------------------------------- corpus

#: corpus pairs the harness cannot pass, with the reason it stops (the test checks the reason)
CORPUS_EXCEPTIONS = {
    # NEW adds a NOT NULL column without a default to a table that has rows (Prisma warns the
    # same); the guard stops before any DDL: a backfill value must come from the team
    "documenso/01-update-share-link-schema": "NOT NULL column without a default needs a backfill",
    "documenso/02-fix-document-meta-schema": "NOT NULL column without a default needs a backfill",
    "documenso/05-rework-user-profiles": "primary key cannot hold NULLs",
    "documenso/07-rework-sessions": "NOT NULL column without a default needs a backfill",
    "langfuse/02-api-keys-publishable-to-public": "NOT NULL column without a default needs a backfill",
    "langfuse/05-add-organizations-main-migration": "NOT NULL column without a default needs a backfill",
    "formbricks/05-rename-teams-to-organizations": "primary key cannot hold NULLs",
    # SET NOT NULL over seeded NULLs: the guard stops
    "documenso/06-remove-impossible-field-optional-states": "SET NOT NULL fails on them",
    "trigger.dev/05-pk-api-key-unique-and-non-null": "SET NOT NULL fails on them",
    "langfuse/10-revert-slack-pending-install-columns": "SET NOT NULL fails on them",
    # an enum value is removed while seeded rows hold it: the guard stops (remap first)
    "trigger.dev/02-simplify-org-template-status": "remap them first",
    "formbricks/10-remove-deprecated-fields-and-tables": "remap them first",
    # a serial id becomes a client-generated text id: not staged automatically
    "documenso/04-migrate-to-cuids-for-webhooks": "needs a hand-written migration",
}
#: pairs whose plan stops at a guard where the naive ALTER fails on the same rows: as safe as the
#: naive path, so verify passes and says why (the oracle, planner.verify.oracle)
CORPUS_GUARD_STOPS = {
    # seeded text is not JSON: the PL/pgSQL cast guard stops before the conversion
    "langfuse/04-prompt-to-json": "do not convert to JSONB",
}
#: pairs that pass once the team states the data planner must not invent ([tool.planner.backfill],
#: [tool.planner.enum_remap])
CORPUS_CONFIG = {
    "formbricks/01-remove-survey-status-archived": Config(enum_remap={"SurveyStatus.archived": "completed"}),
    "formbricks/06-made-name-property-on-user-model-optional": Config(backfill={"User.name": "''"}),
    "trigger.dev/01-response-changed-output-context": Config(backfill={"IntegrationResponse.output": "'{}'",
                                                                       "IntegrationResponse.context": "'{}'"}),
}
#: need the pgvector extension, which a plain PostgreSQL lacks
NEEDS_VECTOR = {"formbricks/08-removes-result-share-key", "formbricks/09-remove-response-note-feature",
                "formbricks/10-remove-deprecated-fields-and-tables"}


def _corpus_pairs() -> list[str]:
    root = CORPUS / "prisma"
    if not root.is_dir():
        return []
    return sorted(f"{p.parent.name}/{p.name}" for p in root.glob("*/[0-9]*") if (p / "old.prisma").is_file())


@pytest.mark.postgres
@pytest.mark.corpus
@pytest.mark.parametrize("pair", [p for p in _corpus_pairs() if p not in NEEDS_VECTOR])
def test_verify_corpus_pairs(corpus: Path, pg_url: str, pair: str):
    folder = corpus / "prisma" / pair
    analysis = analyze(str(folder / "old.prisma"), str(folder / "new.prisma"),
                       config=CORPUS_CONFIG.get(pair, Config()))
    if pair in CORPUS_EXCEPTIONS:
        with pytest.raises(Exception, match=CORPUS_EXCEPTIONS[pair]):
            verify(analysis, pg_url)
        return
    report = verify(analysis, pg_url)
    assert report.ok, report
    if pair in CORPUS_GUARD_STOPS:
        assert any("stopped at a guard" in n and CORPUS_GUARD_STOPS[pair] in n for n in report.notes), report.notes


# --------------------------------------------------------------------------- re-runnable revisions

#: transactional statements a revision may run before an autocommit block: they can run again
# (a backup's revision note: checked and written again by a re-run of the same revision)
_RERUNNABLE = re.compile(r"""^\s*(rt\.guard\(|rt\.(fresh|mark)_backup\(|rt\.sql\(['"](CREATE (SCHEMA|TABLE) IF NOT EXISTS |CREATE OR REPLACE """
                         r"""FUNCTION |DO \$planner\$ BEGIN IF NOT EXISTS ))""")


def _unsafe_before_online(steps) -> list[str]:
    """Transactional statements committed by a later autocommit block of the same revision
    that a re-run could not repeat (empty for a re-runnable revision)."""
    pending: list[str] = []
    unsafe: list[str] = []
    for block in (b for s in steps for b in s.upgrade):
        if block.autocommit:
            unsafe += pending
            pending = []
        else:
            pending += [ln for ln in block.code.splitlines() if ln.strip() and not _RERUNNABLE.match(ln)]
    return unsafe


@pytest.mark.corpus
def test_every_revision_is_rerunnable(corpus: Path):
    """No revision of any corpus pair or story commits transactional DDL at an autocommit
    block (concurrent index, ADD VALUE, batched backfill) that a re-run would repeat."""
    from planner.plan.build import PlanError, build_plan

    inputs = [(str(corpus / "prisma" / p / "old.prisma"), str(corpus / "prisma" / p / "new.prisma"),
               CORPUS_CONFIG.get(p, Config())) for p in _corpus_pairs()]
    inputs += [(*_story(name), Config()) for name, _ in PG_STORIES]
    online_parts = 0
    for old, new, config in inputs:
        a = analyze(old, new, config=config)
        try:
            plan = build_plan(a.diff, a.old.schema, a.new.schema, backfill=config.backfill,
                              enum_remap=config.enum_remap)
        except PlanError:
            continue
        for phase in plan.phases():
            for part in plan.parts(phase):
                assert _unsafe_before_online(part) == [], (old, phase, [s.title for s in part])
                online_parts += any(s.online for s in part)
    assert online_parts > 20  # the check saw revisions with online work


# --------------------------------------------------------------------------- killed midway

def _kill_index_build_then_rerun(ini: Path, pg_url: str, table: str) -> None:
    """Run `alembic upgrade head`, kill it while CREATE INDEX CONCURRENTLY waits (the build
    leaves an INVALID index), then run it again: it must complete with every index valid."""
    url = sa.make_url(pg_url)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    blocker = engine.connect()
    # an old snapshot: CIC builds the (still INVALID) index, then waits for it to finish
    blocker.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
    blocker.exec_driver_sql(f'SELECT count(*) FROM "{table}"')

    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    cmd = [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killer = engine.connect()
    killed = False
    for _ in range(300):
        pid = killer.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE query ILIKE :q AND datname = current_database()"),
            {"q": "CREATE INDEX CONCURRENTLY%"}).scalar()
        if pid:
            killed = killer.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
            break
        time.sleep(0.1)
    out, _ = proc.communicate(timeout=120)
    blocker.exec_driver_sql("ROLLBACK")
    blocker.close()
    assert killed, out
    assert proc.returncode != 0, out
    invalid = killer.exec_driver_sql("SELECT count(*) FROM pg_index WHERE NOT indisvalid").scalar()
    assert invalid >= 1, "the killed build should leave an INVALID index behind"
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert killer.exec_driver_sql("SELECT count(*) FROM pg_index WHERE NOT indisvalid").scalar() == 0
    killer.close()
    engine.dispose()


@pytest.mark.postgres
def test_killed_concurrent_index_build_reruns_cleanly(tmp_path: Path, pg_url: str):
    """Kill the migration while CREATE INDEX CONCURRENTLY waits; the re-run drops the INVALID
    leftover and completes; the database then diffs to zero against NEW."""
    old, new = _story("aegira-indexes-soft-delete")
    analysis = analyze(old, new, config=Config())
    build_schema(pg_url, load_source(old).schema)
    assert _plan_files(tmp_path, "aegira-indexes-soft-delete", ())
    _kill_index_build_then_rerun(tmp_path / "proj" / "alembic.ini", pg_url, "incidents")
    from planner.diff import diff

    assert [c.id for c in diff(load_source(pg_url).schema, analysis.new.schema).changes] == []


@pytest.mark.postgres
def test_killed_after_committed_ddl_reruns_cleanly(tmp_path: Path, pg_url: str):
    """The phase's transactional DDL (a new column, a NOT VALID foreign key) and its online
    work (concurrent index builds on that column) are separate revisions: killing the index
    build leaves the first revision applied and stamped, and the re-run goes on from the
    index build (a revision that committed ADD COLUMN at an autocommit block and failed after
    it would fail again on the re-run with "column already exists")."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE owners (id integer PRIMARY KEY);\n"
                   "CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL);\n")
    new.write_text("CREATE TABLE owners (id integer PRIMARY KEY);\n"
                   "CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL, owner_id integer,\n"
                   "  CONSTRAINT pets_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id),\n"
                   "  CONSTRAINT pets_name_key UNIQUE (name));\n"
                   "CREATE INDEX pets_owner_idx ON pets (owner_id);\n")
    analysis = analyze(str(old), str(new), config=Config())
    build_schema(pg_url, load_source(str(old)).schema)
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(tmp_path / "proj"), "-q"])
    assert result.exit_code == 0, result.output
    texts = [f.read_text() for f in (tmp_path / "proj" / "migrations" / "versions").glob("*.py")]
    column = [t for t in texts if "op.add_column" in t]
    assert len(column) == 1 and "autocommit_block" not in column[0].split("def downgrade")[0]
    # the snapshot is held on the other table: ADD COLUMN on pets must get its lock
    _kill_index_build_then_rerun(tmp_path / "proj" / "alembic.ini", pg_url, "owners")
    from planner.diff import diff

    assert [c.id for c in diff(load_source(pg_url).schema, analysis.new.schema).changes] == []


def test_backfill_and_remap_config_is_validated(tmp_path: Path):
    from planner.config import load_config
    from planner.errors import ConfigError

    good = tmp_path / "planner.toml"
    good.write_text('[backfill]\n"User.name" = "\'\'"\n[enum_remap]\n"Role.COACH" = "CLIENT"\n')
    cfg = load_config(str(good))
    assert cfg.backfill == {"User.name": "''"} and cfg.enum_remap == {"Role.COACH": "CLIENT"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[backfill]\n"nodot" = "1"\n')
    with pytest.raises(ConfigError, match="backfill"):
        load_config(str(bad))


def test_enum_remap_must_target_a_new_value():
    from planner.plan.build import PlanError, build_plan

    old, new = _story("centurion-money-enum-unique")
    a = analyze(old, new, config=Config())
    with pytest.raises(PlanError, match="not a value"):
        build_plan(a.diff, a.old.schema, a.new.schema, enum_remap={"Role.COACH": "NOPE"})


def test_confirmed_table_rename_is_planned(tmp_path: Path):
    (tmp_path / "a.sql").write_text("CREATE TABLE a (id int PRIMARY KEY, n text);")
    (tmp_path / "b.sql").write_text("CREATE TABLE b (id int PRIMARY KEY, n text);")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "a.sql"), str(tmp_path / "b.sql"), "--rename", "a=b",
                                 "--init", str(tmp_path / "p"), "-q"])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "p" / "migrations" / "versions").glob("*.py"), key=lambda f: "contract" in f.name)
    expand, contract = (f.read_text() for f in files)
    # expand renames and leaves a view under the old name (R11); the key rename follows in contract
    assert ["a", "b"] in _calls(expand, "op.rename_table") and ["b", "a"] in _calls(expand, "op.rename_table")
    assert 'CREATE VIEW "a" AS SELECT * FROM "b"' in expand
    assert 'DROP VIEW "a"' in contract and 'RENAME CONSTRAINT "a_pkey" TO "b_pkey"' in contract


def _calls(code: str, name: str) -> list[list[object]]:
    """The positional arguments of each call of `name` in a revision, as values (however the
    revision quotes and lays them out; a name given as rt.q("x") read as "x")."""
    def value(node: ast.expr) -> object:
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "rt.q":
            node = node.args[0]
        return ast.literal_eval(node)

    return [[value(a) for a in n.args] for n in ast.walk(ast.parse(code))
            if isinstance(n, ast.Call) and ast.unparse(n.func) == name]


def test_same_seed_into_the_same_project_chains_new_ids(tmp_path: Path):
    """Another plan with the same --rev-id-seed chains on with new ids (the parent is part of
    the seed); the same plan again is refused: it is in the project already."""
    first = _plan_files(tmp_path, "mais-webhook-idempotency", ())
    ini = str(tmp_path / "proj" / "alembic.ini")
    old, new = _story("mais-webhook-idempotency")
    again = CliRunner().invoke(app, ["plan", old, new, "--alembic", ini, "--rev-id-seed", "golden", "-q"])
    assert again.exit_code == 2 and "this plan is in the project already" in again.output
    old2, new2 = _story("aegira-indexes-soft-delete")
    r = CliRunner().invoke(app, ["plan", old2, new2, "--alembic", ini, "--rev-id-seed", "golden", "-q"])
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "proj" / "migrations" / "versions").glob("*.py"))
    assert len(files) > len(first) and len({f.name[:12] for f in files}) == len(files)
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    assert len(ScriptDirectory.from_config(AlembicConfig(ini)).get_heads()) == 1


@pytest.mark.postgres
def test_verify_guard_stop_is_a_finding_exit_1(pg_url: str):
    old, new = _story("centurion-money-enum-unique")  # without the rename, rows hold the removed COACH
    r = CliRunner().invoke(app, ["verify", old, new, "--db", pg_url])
    assert r.exit_code == 1, r.output
    assert "FAILED" in r.stdout and "remap them first" in r.stdout and "internal error" not in r.output


# --------------------------------------------------------------------------- cleanup revision

@pytest.mark.postgres
def test_cleanup_revision_drops_the_backups(tmp_path: Path, pg_url: str):
    """Upgrade keeps backups and the moved-aside table (the downgrade restores from them);
    `--cleanup` writes one more revision, chained to the head, that drops exactly those; it
    has no way back."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL, legacy text, kind varchar(20));\n"
                   "CREATE TABLE old_stuff (id integer PRIMARY KEY, v text);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL, kind varchar(10));\n")
    build_schema(pg_url, load_source(str(old)).schema)
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(proj)])
    assert result.exit_code == 0, result.output
    assert "3 backup table(s) kept" in result.output and "--cleanup" in result.output
    ini = str(proj / "alembic.ini")
    env = {**os.environ, "DATABASE_URL": sa.make_url(pg_url).render_as_string(hide_password=False)}
    alembic = [sys.executable, "-m", "alembic", "-c", ini]
    subprocess.run([*alembic, "upgrade", "head"], env=env, check=True, capture_output=True)
    engine = sa.create_engine(pg_url)

    def kept() -> list[str]:
        with engine.connect() as c:
            return sorted(c.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'planner_backup'"))
                          .scalars())

    # (and the names the moved-aside table's indexes had: see test_stale_backups.py)
    assert kept() == ["old_stuff__dropped", "pets__kind__type", "pets__legacy", "planner_backup__names"]
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--alembic", ini, "--cleanup"])
    assert result.exit_code == 0, result.output
    files = list((proj / "migrations" / "versions").glob("*cleanup*.py"))
    assert len(files) == 1 and "if_exists=True" in files[0].read_text()
    subprocess.run([*alembic, "upgrade", "head"], env=env, check=True, capture_output=True)
    assert kept() == []
    back = subprocess.run([*alembic, "downgrade", "-1"], env=env, capture_output=True, text=True, check=False)
    assert back.returncode != 0 and "no way back past it" in back.stdout + back.stderr
    engine.dispose()
    # --cleanup belongs in the project holding the plan; a plan without backups has nothing to drop
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(tmp_path / "p2"), "--cleanup"])
    assert result.exit_code == 2 and "--alembic" in result.output
    result = CliRunner().invoke(app, ["plan", str(new), str(new), "--alembic", ini, "--cleanup"])
    assert result.exit_code == 0 and "nothing" in result.output


def test_cleanup_command_keeps_the_rev_id_seed(tmp_path: Path):
    """The cleanup command `planner plan` suggests repeats --rev-id-seed: run as printed, it
    writes the same cleanup revision id in two identical projects."""
    import shlex

    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL, legacy text);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL);\n")
    names = []
    for proj in (tmp_path / "a", tmp_path / "b"):
        result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(proj), "--rev-id-seed", "s 1"])
        assert result.exit_code == 0, result.output
        line = next(ln for ln in result.output.splitlines() if "--cleanup" in ln)
        argv = shlex.split(line.split("drop them with: ", 1)[1])
        assert argv[0] == "planner" and argv[argv.index("--rev-id-seed") + 1] == "s 1", line
        result = CliRunner().invoke(app, argv[1:])
        assert result.exit_code == 0, result.output
        names.append(sorted(p.name for p in (proj / "migrations" / "versions").glob("*cleanup*.py")))
    assert len(names[0]) == 1 and names[0] == names[1]
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(tmp_path / "c")])
    assert "--rev-id-seed" not in result.output


def test_mysql_and_sqlite_plans_list_their_backups():
    from planner.plan.build import build_plan
    from planner.plan.revisions import cleanup_revision

    for dialect in ("mysql", "sqlite"):
        old = ROOT / "tests" / "data" / "plan" / f"{dialect}_old.sql"
        new = ROOT / "tests" / "data" / "plan" / f"{dialect}_new.sql"
        cfg_file = old.with_name(f"{dialect}.toml")
        from planner.config import load_config

        cfg = load_config(str(cfg_file)) if cfg_file.is_file() else Config()
        a = analyze(str(old), str(new), config=cfg, dialect=dialect)
        plan = build_plan(a.diff, a.old.schema, a.new.schema, backfill=cfg.backfill, enum_remap=cfg.enum_remap)
        assert plan.kept and all(schema is None and t.startswith("planner_backup__") for schema, t in plan.kept)
        rev = cleanup_revision(plan, source="x")
        assert rev is not None and rev.upgrade.count("op.drop_table(") == len(plan.kept)


# --------------------------------------------------------------------------- R8 type change

@pytest.mark.parametrize("old,new,exact", [
    ("integer", "bigint", True), ("smallint", "integer", True), ("integer[]", "bigint[]", True),
    ("integer", "numeric(20,0)", True), ("real", "double precision", True),
    ("bigint", "integer", False), ("integer", "numeric(5,0)", False), ("integer", "text", False),
    ("timestamp", "timestamptz", False), ("double precision", "numeric(12,2)", False),
])
def test_round_trips_only_where_converting_back_is_exact(old: str, new: str, exact: bool):
    """R8 skips the backup of a column whose conversion converts back exactly whatever the
    session (a timestamp depends on TimeZone, text on formatting): that list stays short."""
    from planner.rules.facts import round_trips

    assert round_trips(old, new) is exact


@pytest.mark.postgres
def test_type_change_by_new_column_and_swap(tmp_path: Path, pg_url: str):
    """R8: expand adds the converted column with a sync trigger, backfill converts the rows in
    batches, contract swaps it in without rewriting the table under ACCESS EXCLUSIVE. Rows the
    application writes between the phases are converted by the trigger; rows written after the
    swap are converted back by the downgrade; every old value comes back."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, amount double precision NOT NULL DEFAULT 1.5, "
                   "age integer);\nCREATE INDEX pets_age_idx ON pets (age);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, amount numeric(12,2) NOT NULL DEFAULT 1.5, "
                   "age bigint);\nCREATE INDEX pets_age_idx ON pets (age);\n")
    build_schema(pg_url, load_source(str(old)).schema)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets SELECT g, g * 1.25, g FROM generate_series(1, 2500) g")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    text = "\n".join(f.read_text() for f in (proj / "migrations" / "versions").glob("*.py"))
    assert "swap pets.amount__planner_new in as amount" in text
    assert "swap pets.age__planner_new in as age" in text and "build index pets_age_idx__planner_new" in text
    env = {**os.environ, "DATABASE_URL": sa.make_url(pg_url).render_as_string(hide_password=False)}
    alembic = [sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini")]

    def run(*args: str) -> None:
        r = subprocess.run([*alembic, *args], env=env, capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr

    run("upgrade", "+1")  # expand
    with engine.begin() as c:  # the running (old) code writes meanwhile
        c.exec_driver_sql("INSERT INTO pets (id, amount) VALUES (5001, 7.125)")
        c.exec_driver_sql("UPDATE pets SET amount = 9.5 WHERE id = 1")
        assert c.exec_driver_sql("SELECT amount__planner_new FROM pets WHERE id = 5001").scalar() == \
            __import__("decimal").Decimal("7.13")
    run("upgrade", "head")
    with engine.begin() as c:
        # double -> numeric(12,2) rounds: the old values are backed up; int -> bigint converts
        # back exactly: no full-table copy of age
        backups = {n for (n,) in c.exec_driver_sql("SELECT table_name FROM information_schema.tables "
                                                   "WHERE table_schema = 'planner_backup'")}
        assert any("amount" in b for b in backups) and not any("age" in b for b in backups), backups
        cols = dict(c.exec_driver_sql("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_name = 'pets'").all())
        assert cols == {"id": "integer", "amount": "numeric", "age": "bigint"}
        # statistics for the swapped-in columns (ANALYZE ran online; they keep them through the rename)
        assert c.exec_driver_sql("SELECT count(*) FROM pg_stats WHERE tablename = 'pets' "
                                 "AND attname IN ('age', 'amount')").scalar() == 2
        assert c.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pets'::regclass "
                                 "AND NOT tgisinternal").scalar() == 0
        assert c.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'pets_age_idx'").scalar() \
            == "CREATE INDEX pets_age_idx ON public.pets USING btree (age)"
        assert str(c.exec_driver_sql("SELECT amount FROM pets WHERE id = 1").scalar()) == "9.50"
        assert str(c.exec_driver_sql("SELECT amount FROM pets WHERE id = 2500").scalar()) == "3125.00"
        c.exec_driver_sql("INSERT INTO pets (id) VALUES (6001)")  # the new default, after the swap
        c.exec_driver_sql("UPDATE pets SET amount = 8.88 WHERE id = 2")  # changed after the swap
        assert str(c.exec_driver_sql("SELECT amount FROM pets WHERE id = 6001").scalar()) == "1.50"
    from planner.diff import diff

    assert [x.id for x in diff(load_source(pg_url).schema, load_source(str(new)).schema).changes] == []
    with engine.begin() as c:  # a value the old type cannot hold stops the downgrade before any DDL
        c.exec_driver_sql("UPDATE pets SET age = 3000000000 WHERE id = 3")
    r = subprocess.run([*alembic, "downgrade", "base"], env=env, capture_output=True, text=True, check=False)
    # (one range count: integer widening converts back exactly wherever the value fits)
    assert r.returncode != 0 and "values of pets.age do not fit INTEGER (written since the swap; fix them first): " \
        "1 found, expected 0" in r.stdout + r.stderr, r.stderr[-2000:]
    assert "3000000000" in r.stdout + r.stderr  # the sample
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'pets' "
                                 "AND column_name = 'age'").scalar() == "bigint"
        c.exec_driver_sql("UPDATE pets SET age = 3 WHERE id = 3")
    run("downgrade", "base")
    with engine.begin() as c:
        rows = dict(c.exec_driver_sql("SELECT id, amount FROM pets WHERE id IN (1, 2, 5001, 6001)").all())
        # backed up (changed before the swap), changed after the swap, backed up, written after it
        assert rows == {1: 9.5, 2: 8.88, 5001: 7.125, 6001: 1.5}
        assert c.exec_driver_sql("SELECT count(*) FROM pets WHERE id <= 2500 AND age IS DISTINCT FROM id").scalar() == 0
        assert c.exec_driver_sql("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_schema = 'planner_backup'").scalar() == 0
    engine.dispose()
    assert [x.id for x in diff(load_source(pg_url).schema, load_source(str(old)).schema).changes] == []


# --------------------------------------------------------------------------- guards and backups

def _plan_of(old: str, new: str, config: Config | None = None):
    from planner.plan.build import build_plan

    config = config or Config()
    a = analyze(old, new, config=config)
    return build_plan(a.diff, a.old.schema, a.new.schema, backfill=config.backfill, enum_remap=config.enum_remap)


def test_identical_guards_run_once_per_plan(tmp_path: Path):
    """A UNIQUE constraint and a unique index on the same column need the same duplicate
    check: the plan runs it once, naming both."""
    from planner.plan.revisions import revisions

    (tmp_path / "old.sql").write_text("CREATE TABLE users (id int PRIMARY KEY, email text);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE users (id int PRIMARY KEY, email text, "
                                      "CONSTRAINT users_email_key UNIQUE (email));\n"
                                      "CREATE UNIQUE INDEX users_email_idx ON users (email);\n")
    plan = _plan_of(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"))
    assert sum(len(s.guards) for s in plan.steps) == 2  # one per change
    guards = [ln for r in revisions(plan, source="x") for ln in r.upgrade.splitlines() if ln.startswith("rt.guard(")]
    assert len(guards) == 1
    assert "users_email_idx" in guards[0] and "users_email_key" in guards[0]


def _backups_under_a_lock(body: str) -> list[str]:
    """Backup copies a revision body runs after a strong-lock step of the same transaction."""
    locked, out = False, []
    for ln in body.splitlines():
        if ln.startswith("with op.get_context().autocommit_block()"):
            locked = False  # the transaction so far is committed
        elif ln.startswith("_with_lock_retry("):
            locked = True
        elif locked and ln.strip().startswith("_sql('CREATE TABLE IF NOT EXISTS \"planner_backup\""):
            out.append(ln.strip())
    return out


@pytest.mark.corpus
def test_no_backup_copies_under_a_strong_lock(corpus: Path):
    """Backups (full-table CREATE TABLE ... AS SELECT) run before the first strong-lock step
    of their revision, never while an earlier step holds ACCESS EXCLUSIVE (issue 10)."""
    from planner.plan.build import PlanError
    from planner.plan.revisions import revisions

    inputs = [(str(corpus / "prisma" / p / "old.prisma"), str(corpus / "prisma" / p / "new.prisma"),
               CORPUS_CONFIG.get(p, Config())) for p in _corpus_pairs()]
    inputs += [(*_story(name), Config()) for name, _ in PG_STORIES]
    backups = 0
    for old, new, config in inputs:
        try:
            plan = _plan_of(old, new, config)
        except PlanError:
            continue
        for r in revisions(plan, source="x"):
            assert _backups_under_a_lock(r.upgrade) == [], (old, r.message.splitlines()[0])
            backups += r.upgrade.count('"planner_backup"."')
    assert backups > 10  # the check saw backups


def _set_not_null_scans(body: str) -> list[str]:
    """`SET NOT NULL` steps of a revision body that would scan the table under their ACCESS
    EXCLUSIVE: those not in a step that also drops a `.._not_null` CHECK validated earlier in
    the body (with it, PostgreSQL proves NOT NULL from the check and skips the scan)."""
    out = []
    tree = ast.parse(body)
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        sets = [c for c in calls if ast.unparse(c.func) == "op.alter_column"
                and any(k.arg == "nullable" and ast.unparse(k.value) == "False" for k in c.keywords)]
        if not sets:
            continue
        dropped = [ast.literal_eval(a.args[0] if isinstance(a, ast.Call) else a)
                   for c in calls if ast.unparse(c.func) == "op.drop_constraint" for a in c.args[:1]]
        before = body[:body.index(f"def {fn.name}(")]
        if not any(d.endswith("_not_null") and f'VALIDATE CONSTRAINT "{d}"' in before for d in dropped):
            out.append(f"{fn.name}: {ast.unparse(sets[0])[:120]}")
    return out


@pytest.mark.corpus
def test_no_set_not_null_scans_under_a_lock(corpus: Path, tmp_path: Path):
    """Every SET NOT NULL a PostgreSQL revision runs, upgrade and downgrade, follows a validated
    CHECK (col IS NOT NULL) in the same short step: the table is never scanned under ACCESS
    EXCLUSIVE (issue 10). The downgrades used to SET NOT NULL directly: a dropped or renamed
    NOT NULL column, a dropped NOT NULL, a type swap's way back."""
    from planner.plan.build import PlanError
    from planner.plan.revisions import revisions

    old = "CREATE TABLE users (id int PRIMARY KEY, a int NOT NULL, b text NOT NULL, c int NOT NULL, d int NOT NULL);\n"
    pairs = {"drop": "CREATE TABLE users (id int PRIMARY KEY, b text NOT NULL, c int NOT NULL, d int NOT NULL);\n",
             "rename_loose_swap": "CREATE TABLE users (id int PRIMARY KEY, a int NOT NULL, bb text NOT NULL, c int, "
                                  "d bigint NOT NULL);\n"}
    (tmp_path / "old.sql").write_text(old)
    inputs = []
    for name, new in pairs.items():
        (tmp_path / f"{name}.sql").write_text(new)
        inputs.append((str(tmp_path / "old.sql"), str(tmp_path / f"{name}.sql"), Config(renames=("users.b=bb",))
                       if "rename" in name else Config()))
    inputs += [(str(corpus / "prisma" / p / "old.prisma"), str(corpus / "prisma" / p / "new.prisma"),
                CORPUS_CONFIG.get(p, Config())) for p in _corpus_pairs()]
    inputs += [(*_story(name), Config()) for name, _ in PG_STORIES]
    seen = 0
    for o, n, config in inputs:
        try:
            plan = _plan_of(o, n, config)
        except PlanError:
            continue
        for r in revisions(plan, source="x"):
            for body in (r.upgrade, r.downgrade):
                assert _set_not_null_scans(body) == [], (n, r.message.splitlines()[0])
                seen += body.count("nullable=False")
    assert seen > 10  # the check saw SET NOT NULLs


@pytest.mark.postgres
def test_a_text_backfill_expression_fills_an_enum_column(tmp_path: Path, pg_url: str):
    """`CASE ... THEN 'A' ... END` is text, and PostgreSQL has no assignment cast from text to
    an enum: the backfill revision stopped halfway through the upgrade (expand committed)
    with "column kind is of type \"Kind\" but expression is of type text". The expression is
    cast to the column's enum; a bare literal and an expression of the enum work as before."""
    from planner.config import load_config

    old, new, cfg = tmp_path / "old.sql", tmp_path / "new.sql", tmp_path / "planner.toml"
    old.write_text('CREATE TYPE "Kind" AS ENUM (\'A\', \'B\');\n'
                   'CREATE TABLE t (id int PRIMARY KEY, n int, k "Kind");')
    new.write_text('CREATE TYPE "Kind" AS ENUM (\'A\', \'B\');\n'
                   'CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, k "Kind" NOT NULL, '
                   'kind "Kind" NOT NULL, kinds "Kind"[] NOT NULL);')
    cfg.write_text('[backfill]\n"t.kind" = "CASE WHEN id % 2 = 0 THEN \'A\' ELSE \'B\' END"\n'
                   '"t.kinds" = "ARRAY[\'A\']"\n"t.k" = "\'B\'"\n"t.n" = "0"\n')
    a = analyze(str(old), str(new), config=load_config(str(cfg), cwd=tmp_path), dialect="postgresql", renames=[])
    report = verify(a, pg_url, rows=20)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
