"""Renames by expand/contract on PostgreSQL (issue 10): a renamed column is a new column kept in
step with the old one both ways by a trigger, backfilled, the old one dropped in contract; an enum
value rename adds the new value, maps writes of the old one, remaps the rows and removes the old
value in contract. Between the revisions the application versions each docstring names (OLD, NEW)
write, and every write lands; upgrade and downgrade keep the data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.diff import diff
from planner.load import load_source
from planner.verify.harness import build_schema

pytestmark = pytest.mark.postgres

OLD = """
CREATE TYPE "Role" AS ENUM ('ADMIN', 'COACH', 'CLIENT');
CREATE TABLE orgs (id integer PRIMARY KEY);
CREATE TABLE users (
  id integer PRIMARY KEY,
  email text NOT NULL DEFAULT 'x',
  org integer REFERENCES orgs (id),
  role "Role" NOT NULL DEFAULT 'COACH',
  roles "Role"[],
  CONSTRAINT users_email_len CHECK (char_length(email) < 100)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_org_idx ON users (org);
"""
NEW = (OLD.replace("email text", "mail text").replace("char_length(email)", "char_length(mail)")
       .replace("users (email)", "users (mail)").replace("org integer", "org_id integer")
       .replace("users (org)", "users (org_id)").replace("COACH", "INSTRUCTOR"))
RENAMES = ("users.email=mail", "users.org=org_id", "Role.COACH=INSTRUCTOR")
ROWS = 12_000  # more than one backfill batch (5,000)
#: every column of OLD's users, by name: what the rows must hold again after the downgrade
SNAPSHOT = "SELECT id, email, org, role::text, roles::text FROM users ORDER BY id"


def _project(tmp_path: Path, pg_url: str, *extra: str) -> tuple[sa.Engine, Path, list[Path]]:
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(OLD)
    new.write_text(NEW)
    build_schema(pg_url, load_source(str(old)).schema)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO orgs SELECT g FROM generate_series(1, 10) g")
        c.exec_driver_sql(f"""INSERT INTO users SELECT g, 'e' || g, 1 + mod(g, 10),
            (ARRAY['ADMIN', 'COACH', 'CLIENT'])[1 + mod(g, 3)]::"Role", ARRAY['COACH', 'ADMIN']::"Role"[]
            FROM generate_series(1, {ROWS}) g""")
    proj = tmp_path / "proj"
    args = ["plan", str(old), str(new), "--init", str(proj), "--rev-id-seed", "t", "-q", *extra]
    for r in RENAMES:
        args += ["--rename", r]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return engine, proj, sorted((proj / "migrations" / "versions").glob("*.py"), key=lambda p: p.stat().st_mtime)


def _alembic(proj: Path, pg_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": sa.make_url(pg_url).render_as_string(hide_password=False)}
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                          capture_output=True, text=True, check=False)


def _run(proj: Path, pg_url: str, *args: str) -> None:
    r = _alembic(proj, pg_url, *args)
    assert r.returncode == 0, r.stdout + r.stderr


def _changes(pg_url: str, path: Path) -> list[str]:
    return [c.id for c in diff(load_source(pg_url).schema, load_source(str(path)).schema).changes]


def test_rename_by_expand_contract(tmp_path: Path, pg_url: str):
    engine, proj, files = _project(tmp_path, pg_url)
    docs = [f.read_text().split('"""')[1] for f in files]
    assert [d.split(":")[0] for d in docs] == ["expand", "backfill", "contract"]
    assert "Application versions: during this revision: OLD; after it: OLD." in docs[0]
    assert "Application versions: during this revision: OLD; after it: OLD and NEW." in docs[1]
    assert "Application versions: during this revision: NEW; after it: NEW." in docs[2]
    with engine.begin() as c:
        before = c.exec_driver_sql(SNAPSHOT).all()

    _run(proj, pg_url, "upgrade", "+1")  # expand: OLD runs, its writes land in both columns
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO users (id, email, org, role) VALUES (20001, 'old-insert', 2, 'COACH')")
        c.exec_driver_sql("UPDATE users SET email = 'old-update', org = 3 WHERE id = 5")
        c.exec_driver_sql("UPDATE users SET roles = ARRAY['COACH']::\"Role\"[] WHERE id = 8")
        row = c.exec_driver_sql("SELECT email, mail, org, org_id, role::text FROM users WHERE id = 20001").one()
        assert tuple(row) == ("old-insert", "old-insert", 2, 2, "INSTRUCTOR")
        assert tuple(c.exec_driver_sql("SELECT mail, org_id FROM users WHERE id = 5").one()) == ("old-update", 3)
        assert c.exec_driver_sql("SELECT roles::text FROM users WHERE id = 8").scalar() == "{INSTRUCTOR}"
        # the unique index and the foreign key still hold through the old column
        with pytest.raises(sa.exc.IntegrityError):
            with c.begin_nested():
                c.exec_driver_sql("INSERT INTO users (id, email) VALUES (20009, 'e7')")

    _run(proj, pg_url, "upgrade", "+1")  # backfill: every row holds both, NEW may run too
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE mail IS DISTINCT FROM email "
                                 "OR org_id IS DISTINCT FROM org").scalar() == 0
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE role::text = 'COACH' "
                                 "OR 'COACH' = ANY(roles::text[])").scalar() == 0
        # NEW-shaped writes (only the new names) and OLD-shaped ones, both land in both columns
        c.exec_driver_sql("INSERT INTO users (id, mail, org_id, role) VALUES (20002, 'new-insert', 4, 'INSTRUCTOR')")
        c.exec_driver_sql("UPDATE users SET mail = 'new-update', org_id = 6 WHERE id = 6")
        c.exec_driver_sql("INSERT INTO users (id, email, org, role) VALUES (20003, 'old-again', 1, 'COACH')")
        rows = c.exec_driver_sql("SELECT id, email, mail, org, org_id, role::text FROM users "
                                 "WHERE id IN (6, 20002, 20003) ORDER BY id").all()
        assert [tuple(r) for r in rows] == [(6, "new-update", "new-update", 6, 6, "ADMIN"),
                                            (20002, "new-insert", "new-insert", 4, 4, "INSTRUCTOR"),
                                            (20003, "old-again", "old-again", 1, 1, "INSTRUCTOR")]
        with pytest.raises(sa.exc.IntegrityError):  # the copy of the unique index holds on the new column
            with c.begin_nested():
                c.exec_driver_sql("INSERT INTO users (id, mail) VALUES (20009, 'e7')")
        with pytest.raises(sa.exc.IntegrityError):  # the copy of the foreign key holds too
            with c.begin_nested():
                c.exec_driver_sql("INSERT INTO users (id, mail, org_id) VALUES (20009, 'z', 99)")

    _run(proj, pg_url, "upgrade", "+1")  # contract: NEW only; the schema is NEW's
    assert _changes(pg_url, tmp_path / "new.sql") == []
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass "
                                 "AND NOT tgisinternal").scalar() == 0
        assert c.exec_driver_sql("SELECT enum_range(NULL::\"Role\")::text").scalar() == "{ADMIN,INSTRUCTOR,CLIENT}"
        c.exec_driver_sql("INSERT INTO users (id, mail) VALUES (30001, 'after-contract')")
        c.exec_driver_sql("UPDATE users SET mail = 'changed-after' WHERE id = 7")
        assert c.exec_driver_sql("SELECT role::text FROM users WHERE id = 30001").scalar() == "INSTRUCTOR"

    _run(proj, pg_url, "downgrade", "base")
    assert _changes(pg_url, tmp_path / "old.sql") == []
    with engine.begin() as c:
        after = {r[0]: tuple(r) for r in c.exec_driver_sql(SNAPSHOT).all()}
        assert c.exec_driver_sql("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_schema = 'planner_backup'").scalar() == 0
    # the application's writes keep their values (as OLD names them); every other row is as it was
    assert after.pop(20001) == (20001, "old-insert", 2, "COACH", None)
    assert after.pop(20002) == (20002, "new-insert", 4, "COACH", None)
    assert after.pop(30001) == (30001, "after-contract", None, "COACH", None)
    assert after.pop(7)[1] == "changed-after"
    assert after.pop(5)[1:3] == ("old-update", 3) and after.pop(6)[1:3] == ("new-update", 6)
    assert after.pop(8)[4] == "{COACH}"
    after.pop(20003)
    assert list(after.values()) == [tuple(r) for r in before if r[0] not in (5, 6, 7, 8)]
    engine.dispose()


def test_renames_in_place_when_config_asks(tmp_path: Path, pg_url: str):
    (tmp_path / "planner.toml").write_text("renames_in_place = true\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        engine, proj, files = _project(tmp_path, pg_url)
    finally:
        os.chdir(cwd)
    # expand only renames the foreign key's constraint; contract renames the columns and the value
    assert [f.read_text().split('"""')[1].split(":")[0] for f in files] == ["expand", "contract"]
    doc = files[-1].read_text()
    assert "every writer must switch at once" in doc
    assert "no version works both before and after this revision" in doc
    assert "RENAME VALUE 'COACH' TO 'INSTRUCTOR'" in doc.replace("\\'", "'")
    assert re.search(r"new_column_name=(rt\.q\()?['\"]mail['\"]", doc), doc
    # the checklist says so too, for the contract
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        args = ["checklist", "old.sql", "new.sql", "--format", "text"]
        for r in RENAMES:
            args += ["--rename", r]
        checklist = CliRunner().invoke(app, args)
    finally:
        os.chdir(cwd)
    assert checklist.exit_code == 0, checklist.output
    assert "all writers switch at once" in checklist.output
    _run(proj, pg_url, "upgrade", "head")
    assert _changes(pg_url, tmp_path / "new.sql") == []
    _run(proj, pg_url, "downgrade", "base")
    assert _changes(pg_url, tmp_path / "old.sql") == []
    engine.dispose()


def test_renamed_column_named_by_the_primary_key_stays_in_place(tmp_path: Path):
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE t (id integer PRIMARY KEY, v text);\n")
    new.write_text("CREATE TABLE t (key integer PRIMARY KEY, v text);\n")
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--rename", "t.id=key", "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    text = next((proj / "migrations" / "versions").glob("*.py")).read_text()
    assert "in place (part of the primary key)" in text and "every writer must switch at once" in text


def test_prisma_help_suggests_map(tmp_path: Path):
    """For a Prisma schema the rename findings name the zero-downtime rename of the code alone."""
    from planner.config import Config
    from planner.pipeline import analyze

    head = 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'
    (tmp_path / "old.prisma").write_text(head + "enum Role {\n  COACH\n  CLIENT\n}\nmodel User {\n  id Int @id\n"
                                         "  name String\n  role Role\n}\n")
    (tmp_path / "new.prisma").write_text(head + "enum Role {\n  INSTRUCTOR\n  CLIENT\n}\nmodel User {\n  id Int @id\n"
                                         "  fullName String\n  role Role\n}\n")
    a = analyze(str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"), config=Config(),
                renames=["User.name=fullName", "Role.COACH=INSTRUCTOR"])
    helps = {f.code: f.help for fs in a.assessment.findings.values() for f in fs}
    assert '`@map("name")` on the renamed field' in helps["BC102"]
    assert '`INSTRUCTOR @map("COACH")` in the enum' in helps["BC103"]


def _analysis(tmp_path: Path, **config):  # noqa: ANN003, ANN202
    from planner.config import Config
    from planner.pipeline import analyze

    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    return analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=Config(**config),
                   renames=list(RENAMES))


def test_verify_writes_as_each_revision_allows(tmp_path: Path, pg_url: str):
    """verify's window: after each revision, OLD- and NEW-shaped inserts and updates as its
    docstring allows, all accepted by the expand/contract plan."""
    from planner.verify.harness import verify

    report = verify(_analysis(tmp_path), pg_url)
    assert report.ok, report
    assert any(n.startswith("window: ") and "all accepted" in n for n in report.notes), report.notes


def test_verify_window_fails_where_a_version_cannot_write(tmp_path: Path, pg_url: str,
                                                          monkeypatch: pytest.MonkeyPatch):
    """The window writes can fail: with the in-place rename, a docstring that let OLD run after
    the contract (as the old deploy notes implied) is refuted by OLD's own writes."""
    from planner.plan import revisions as revisions_module
    from planner.verify.harness import verify

    def lenient(parts):  # noqa: ANN001, ANN202
        return [(("OLD", "NEW"), ("OLD", "NEW")) for _ in parts]

    monkeypatch.setattr(revisions_module, "apps", lenient)
    report = verify(_analysis(tmp_path, renames_in_place=True), pg_url)
    assert not report.ok
    assert any("after contract: OLD: users has no column email" in f for f in report.window), report.window
    assert any("after expand: NEW: users has no column mail" in f for f in report.window), report.window


#: corpus pairs whose suggested renames are real ones, with what else the team states; verify
#: passes with the renames by expand/contract (a unique key and its renamed index among them)
CORPUS_RENAMES = {
    "langfuse/02-api-keys-publishable-to-public": (("api_keys.publishable_key=public_key",), {}),
    "trigger.dev/01-response-changed-output-context": (
        ("IntegrationResponse.body=output", "IntegrationResponse.headers=context"), {}),
    "documenso/07-rework-sessions": (("Session.expires=expiresAt",), {"backfill": {"Session.updatedAt": "now()"}}),
}


@pytest.mark.corpus
@pytest.mark.parametrize("pair", sorted(CORPUS_RENAMES))
def test_verify_corpus_pairs_with_renames(corpus: Path, pg_url: str, pair: str):
    from planner.config import Config
    from planner.pipeline import analyze
    from planner.verify.harness import verify

    renames, config = CORPUS_RENAMES[pair]
    folder = corpus / "prisma" / pair
    analysis = analyze(str(folder / "old.prisma"), str(folder / "new.prisma"), config=Config(**config),
                       renames=list(renames))
    assert sum(c.kind.value == "rename_column" for c in analysis.diff.changes) == len(renames)
    report = verify(analysis, pg_url)
    assert report.ok, report
    assert any(n.startswith("window: ") for n in report.notes), report.notes


def test_column_and_enum_value_renamed_together_stay_consistent(tmp_path: Path, pg_url: str):
    """A renamed enum column whose type also renames a value: the value rename goes by
    expand/contract, the column rename in place (the title says why); the plan round-trips."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE t (id integer PRIMARY KEY, m mood);\n")
    new.write_text("CREATE TYPE mood AS ENUM ('blue', 'ok');\nCREATE TABLE t (id integer PRIMARY KEY, feeling mood);\n")
    from planner.config import Config
    from planner.pipeline import analyze
    from planner.verify.harness import verify

    analysis = analyze(str(old), str(new), config=Config(), renames=["t.m=feeling", "mood.sad=blue"])
    report = verify(analysis, pg_url)
    assert report.ok, report
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", str(old), str(new), "--rename", "t.m=feeling", "--rename",
                                      "mood.sad=blue", "--init", str(proj), "-q"])
    assert result.exit_code == 0, result.output
    text = "\n".join(f.read_text() for f in (proj / "migrations" / "versions").glob("*.py"))
    assert "in place (its enum type mood changes too)" in text
