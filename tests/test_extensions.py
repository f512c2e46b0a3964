"""Extensions NEW needs (issue 11): named in the diff (`add_extension`, PG106), created first in
expand where the server offers them, a one-line guard stop where it does not; citext and
collation changes get duplicate checks (and guards) under the new comparison; text -> citext
rewrites no row, only the unique index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.config import load_config
from planner.diff import diff
from planner.load import load_source
from planner.pipeline import analyze
from planner.verify.harness import build_schema, verify

from .conftest import ROOT

runner = CliRunner()

PRISMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")%s
}

model User {
  id    Int    @id
  email String @unique%s
}
"""
OLD = PRISMA % ("", "")
NEW = PRISMA % ("", " @db.Citext")


def _write(tmp_path: Path, old: str, new: str, ext: str = "prisma") -> tuple[str, str]:
    (tmp_path / f"old.{ext}").write_text(old)
    (tmp_path / f"new.{ext}").write_text(new)
    return str(tmp_path / f"old.{ext}"), str(tmp_path / f"new.{ext}")


def _ids(old: str, new: str) -> list[str]:
    return [c.id for c in diff(load_source(old).schema, load_source(new).schema).changes]


def test_the_diff_names_the_extension_and_the_new_comparison(tmp_path: Path):
    a, b = _write(tmp_path, OLD, NEW)
    r = runner.invoke(app, ["diff", a, b, "--format", "json"])
    assert r.exit_code == 0, r.output
    changes = {c["id"]: c for c in json.loads(r.stdout)["changes"]}
    assert list(changes) == ["add_extension:citext", "alter_column_type:User.email"]
    ext = changes["add_extension:citext"]
    assert ext["kind"] == "add_extension" and ext["name"] == "citext" and ext["table"] is None
    assert ext["detail"] == {"needed_by": ["User.email (citext)"]}
    assert [f["code"] for f in ext["findings"]] == ["PG106"]
    findings = {f["code"]: f for f in changes["alter_column_type:User.email"]["findings"]}
    assert findings["MF109"]["level"] == "medium"
    assert "User_email_key fails if values differ only under citext's case-insensitive comparison" in \
        findings["MF109"]["message"]
    # no table rewrite: only the unique index is rebuilt (pg_cast text -> citext is binary)
    assert findings["LK103"]["message"] == ("User.email text -> citext needs no table rewrite, but rebuilds "
                                            "User_email_key under ACCESS EXCLUSIVE.")


@pytest.mark.parametrize("declared, ids", [
    ("", ["add_extension:citext", "alter_column_type:User.email"]),
    ("\n  extensions = [citext]", ["alter_column_type:User.email"]),
    ('\n  extensions = [pgvector(map: "vector", schema: "ext"), citext]', ["alter_column_type:User.email"]),
])
def test_an_extension_old_declares_is_no_change(tmp_path: Path, declared: str, ids: list[str]):
    a, b = _write(tmp_path, PRISMA % (declared, ""), NEW)
    assert _ids(a, b) == ids


def test_declared_extensions_are_modelled(tmp_path: Path):
    a, _ = _write(tmp_path, PRISMA % ('\n  extensions = [uuidOssp(map: "uuid-ossp"), pg_trgm]', ""), "")
    (tmp_path / "e.sql").write_text(
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";\nCREATE EXTENSION hstore;\nCREATE EXTENSION pg_trgm;\n'
        "DROP EXTENSION IF EXISTS hstore CASCADE;\nCREATE TABLE t (id int PRIMARY KEY);\n")
    assert load_source(a).schema.extensions == ("pg_trgm", "uuid-ossp")
    assert load_source(str(tmp_path / "e.sql"), dialect="postgresql").schema.extensions == ("pg_trgm", "uuid-ossp")
    # declared in NEW only: Prisma Migrate would create it, so does the plan
    c, d = _write(tmp_path, OLD, PRISMA % ("\n  extensions = [pg_trgm]", ""))
    assert _ids(c, d) == ["add_extension:pg_trgm"]
    assert _ids(d, c) == []  # never dropped


def test_a_bad_extensions_list_is_one_line_exit_2(tmp_path: Path):
    a, b = _write(tmp_path, OLD, PRISMA % ('\n  extensions = "citext"', ""))
    r = runner.invoke(app, ["diff", a, b])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "new.prisma:4:3: extensions must be a list" in r.output


@pytest.mark.postgres
def test_a_database_built_from_new_has_no_extension_change(tmp_path: Path, pg_url: str):
    _, b = _write(tmp_path, OLD, NEW)
    build_schema(pg_url, load_source(b).schema)
    assert load_source(pg_url).schema.extensions == ("citext",)
    assert _ids(pg_url, b) == []


def _alembic(proj: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": sa.make_url(url).render_as_string(hide_password=False)}
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), *args], env=env,
                          capture_output=True, text=True, check=False)


def _prepared(tmp_path: Path, url: str, old: str, new: str, rows: list[str]) -> Path:
    a, b = _write(tmp_path, old, new)
    build_schema(url, load_source(a).schema)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for i, email in enumerate(rows):
                conn.exec_driver_sql('INSERT INTO "User" (id, email) VALUES (%s, %s)', (i + 1, email))
    finally:
        engine.dispose()
    r = runner.invoke(app, ["plan", a, b, "--init", str(tmp_path / "proj"), "-q"])
    assert r.exit_code == 0, r.output
    return tmp_path / "proj"


def _scalar(url: str, sql: str):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_case_duplicates_stop_at_the_guard_not_a_unique_violation(tmp_path: Path, pg_url: str):
    """`A@x.io` and `a@x.io`: planner check counts one duplicate group under lower(); the upgrade
    stops at its guard before any DDL (the extension is not even created)."""
    proj = _prepared(tmp_path, pg_url, OLD, NEW, ["A@x.io", "a@x.io", "b@x.io"])
    r = runner.invoke(app, ["check", str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"), "--db", pg_url,
                            "--format", "json"])
    assert r.exit_code == 1, r.output
    (check,) = json.loads(r.stdout)["checks"]
    assert (check["change_id"], check["kind"], check["count"], check["blocking"]) == \
        ("alter_column_type:User.email", "duplicates", 1, True)
    assert check["samples"] == [{"email": "a@x.io", "rows": 2}]
    result = _alembic(proj, pg_url, "upgrade", "head")
    assert result.returncode != 0
    assert "planner guard failed: Groups of User rows sharing (email): UNIQUE User_email_key (email) under " \
           "citext's case-insensitive comparison" in result.stderr, result.stderr
    assert "UniqueViolation" not in result.stderr
    assert _scalar(pg_url, "SELECT count(*) FROM pg_extension WHERE extname = 'citext'") == 0
    assert _scalar(pg_url, "SELECT data_type FROM information_schema.columns WHERE column_name = 'email'") == "text"


_ARR_OLD = "CREATE TABLE t (id int PRIMARY KEY, tags text[] NOT NULL, CONSTRAINT t_tags_key UNIQUE (tags));\n"
_ARR_ROWS = ("(1, '{A,b}'), (2, '{a,B}'), (3, '{c}'), (4, '{NULL}'), (5, ARRAY['NULL']), (6, ARRAY['null']), "
             "(7, ARRAY['a,b']), (8, ARRAY['A,B']), (9, '{{x,y},{z,w}}'), (10, '{{X,Y},{Z,W}}'), "
             "(11, '{x,y,z,w}'), (12, ARRAY['É\"q']), (13, ARRAY['é\"Q']), (14, '{}'), (15, '[0:1]={p,q}'), "
             "(16, '{P,Q}')")


@pytest.mark.postgres
def test_text_array_to_citext_array_gets_mf109_a_check_that_runs_and_a_guard(tmp_path: Path, pg_url: str):
    """text[] -> citext[] compares every element case-insensitively: MF109 says so, planner check
    counts the groups the server's own citext[] comparison finds (lower(text[]) does not exist:
    each array is lowered through its text form, quoting, NULL elements and dimensions kept),
    and the upgrade stops at the plan's guard, not at the unique index rebuild."""
    a, b = _write(tmp_path, _ARR_OLD, _ARR_OLD.replace("text[]", "citext[]"), "sql")
    r = runner.invoke(app, ["diff", a, b, "--dialect", "postgresql", "--format", "json"])
    assert r.exit_code == 0, r.output
    findings = {f["code"]: f for ch in json.loads(r.stdout)["changes"] for f in ch["findings"]}
    assert "t_tags_key fails if values differ only under citext's case-insensitive comparison" in \
        findings["MF109"]["message"], findings
    build_schema(pg_url, load_source(a, dialect="postgresql").schema)
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS citext")
        conn.exec_driver_sql(f"INSERT INTO t VALUES {_ARR_ROWS}")
        truth = conn.exec_driver_sql("SELECT count(*) FROM (SELECT 1 FROM t GROUP BY tags::citext[] "
                                     "HAVING count(*) > 1) d").scalar()
        conn.exec_driver_sql("DROP EXTENSION citext")
    engine.dispose()
    assert truth == 5  # {A,b}/{a,B}, NULL-string pair, 'a,b' pair, the 2-D pair, the quoted pair
    r = runner.invoke(app, ["check", a, b, "--dialect", "postgresql", "--db", pg_url, "--format", "json"])
    assert r.exit_code == 1, r.output
    (check,) = json.loads(r.stdout)["checks"]
    assert (check["kind"], check["count"], check["passed"]) == ("duplicates", truth, False), check
    r = runner.invoke(app, ["plan", a, b, "--dialect", "postgresql", "--init", str(tmp_path / "proj"), "-q"])
    assert r.exit_code == 0, r.output
    result = _alembic(tmp_path / "proj", pg_url, "upgrade", "head")
    assert result.returncode != 0
    assert "planner guard failed: Groups of t rows sharing (tags): UNIQUE t_tags_key (tags) under citext's " \
           "case-insensitive comparison" in result.stderr and "5 found" in result.stderr, result.stderr[-2000:]
    assert _scalar(pg_url, "SELECT data_type FROM information_schema.columns WHERE column_name = 'tags'") == "ARRAY"
    assert _scalar(pg_url, "SELECT udt_name FROM information_schema.columns WHERE column_name = 'tags'") == "_text"


@pytest.mark.postgres
def test_text_to_citext_creates_the_extension_and_rewrites_no_row(tmp_path: Path, pg_url: str):
    proj = _prepared(tmp_path, pg_url, OLD, NEW, ["A@x.io", "b@x.io"])
    heap = _scalar(pg_url, """SELECT pg_relation_filenode('"User"')""")
    index = _scalar(pg_url, """SELECT pg_relation_filenode('"User_email_key"')""")
    r = _alembic(proj, pg_url, "upgrade", "head")
    assert r.returncode == 0, r.stderr
    assert _ids(pg_url, str(tmp_path / "new.prisma")) == []
    assert _scalar(pg_url, """SELECT pg_relation_filenode('"User"')""") == heap  # no table rewrite
    assert _scalar(pg_url, """SELECT pg_relation_filenode('"User_email_key"')""") != index  # the index is rebuilt
    assert _scalar(pg_url, """SELECT id FROM "User" WHERE email = 'a@X.IO'""") == 1
    r = _alembic(proj, pg_url, "downgrade", "base")
    assert r.returncode == 0, r.stderr
    assert _ids(pg_url, str(tmp_path / "old.prisma")) == []  # the extension stays, and is no change
    assert _scalar(pg_url, "SELECT count(*) FROM pg_extension WHERE extname = 'citext'") == 1


@pytest.mark.postgres
def test_an_extension_the_server_lacks_stops_at_a_guard(tmp_path: Path, pg_url: str):
    """This server has no pgvector: one line naming the extension and what needs it."""
    old = "CREATE TABLE doc (id int PRIMARY KEY, body text);\n"
    new = "CREATE TABLE doc (id int PRIMARY KEY, body text, embedding vector(3));\n"
    if _scalar(pg_url, "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"):
        pytest.skip("this server offers pgvector")
    a, b = _write(tmp_path, old, new, "sql")
    build_schema(pg_url, load_source(a, dialect="postgresql").schema)
    r = runner.invoke(app, ["plan", a, b, "--dialect", "postgresql", "--init", str(tmp_path / "proj"), "-q"])
    assert r.exit_code == 0, r.output
    result = _alembic(tmp_path / "proj", pg_url, "upgrade", "head")
    assert result.returncode != 0
    assert "planner guard failed: extension vector (needed by doc.embedding (vector(3))) is not available on this " \
           "server" in result.stderr, result.stderr
    assert _ids(pg_url, a) == []  # nothing was run


@pytest.mark.postgres
def test_verify_compares_citext_with_the_naive_alter(tmp_path: Path, pg_url: str):
    """The naive migration creates the extension too (in its rolled-back transaction): the
    converted column is compared, not skipped."""
    a, b = _write(tmp_path, OLD, NEW)
    report = verify(analyze(a, b, config=load_config(None, cwd=ROOT), renames=[]), pg_url, rows=10)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    assert any("differential: 1 converted columns" in n for n in report.notes), report.notes


@pytest.mark.postgres
def test_collation_change_checks_duplicates_under_the_new_collation(tmp_path: Path, pg_url: str):
    """A nondeterministic ICU collation makes 'x' and 'X' equal: the check groups under it."""
    old = "CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE);\n"
    new = 'CREATE TABLE t (id int PRIMARY KEY, code text COLLATE "ci" UNIQUE);\n'
    a, b = _write(tmp_path, old, new, "sql")
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', "
                                 "deterministic = false)")
            conn.exec_driver_sql(old)
            conn.exec_driver_sql("INSERT INTO t VALUES (1, 'x'), (2, 'X'), (3, 'y')")
    finally:
        engine.dispose()
    r = runner.invoke(app, ["check", a, b, "--dialect", "postgresql", "--db", pg_url, "--format", "json"])
    assert r.exit_code == 1, r.output
    (check,) = json.loads(r.stdout)["checks"]
    assert (check["kind"], check["count"]) == ("duplicates", 1), check
    assert 'COLLATE "ci"' in check["sql"] or "COLLATE ci" in check["sql"], check["sql"]
