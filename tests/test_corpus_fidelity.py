"""Zero-diff fidelity over ../shared/corpus: a schema file, the SQL Prisma writes for it, and the
database built from that SQL are the same schema to planner.

(a) `X.prisma` vs `X.create.sql` (Prisma's own CREATE SQL) read as DDL: zero changes.
(b) `X.prisma` vs the PostgreSQL database built from `X.create.sql`: zero changes.
(c) a SQL project's `new_schema.sql` vs the database built from it: zero changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.diff import diff
from planner.load import load_source

from .conftest import CORPUS, run_sql

pytestmark = pytest.mark.corpus

PRISMA_ROOT = CORPUS / "prisma"
CREATE_SQL = sorted(str(p.relative_to(PRISMA_ROOT)) for p in PRISMA_ROOT.rglob("*.create.sql")) \
    if PRISMA_ROOT.is_dir() else []
#: need the pgvector extension, which a plain PostgreSQL lacks (corpus README); not built here
NEEDS_VECTOR = {"formbricks/08-removes-result-share-key/old.create.sql",
                "formbricks/08-removes-result-share-key/new.create.sql",
                "formbricks/09-remove-response-note-feature/old.create.sql",
                "formbricks/09-remove-response-note-feature/new.create.sql",
                "formbricks/10-remove-deprecated-fields-and-tables/old.create.sql",
                "formbricks/10-remove-deprecated-fields-and-tables/new.create.sql",
                "formbricks/latest.create.sql"}


def _ids(old, new) -> list[str]:
    return [c.id for c in diff(old, new).changes]


def test_corpus_has_the_expected_files(corpus: Path):
    assert len(CREATE_SQL) == 80
    for rel in NEEDS_VECTOR:
        assert "vector" in (PRISMA_ROOT / rel).read_text(), f"{rel} no longer needs pgvector"


@pytest.mark.parametrize("rel", CREATE_SQL)
def test_prisma_vs_its_create_sql(corpus: Path, rel: str):
    sql = PRISMA_ROOT / rel
    prisma = load_source(str(sql).replace(".create.sql", ".prisma")).schema
    ddl = load_source(str(sql), dialect="postgresql").schema
    assert _ids(prisma, ddl) == []
    assert _ids(ddl, prisma) == []


@pytest.mark.postgres
@pytest.mark.parametrize("rel", [r for r in CREATE_SQL if r not in NEEDS_VECTOR])
def test_prisma_vs_database_built_from_create_sql(corpus: Path, pg_url: str, rel: str):
    sql = (PRISMA_ROOT / rel).read_text()
    if "gin_trgm_ops" in sql:
        sql = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n" + sql
    run_sql(pg_url, sql)
    prisma = load_source(str(PRISMA_ROOT / rel).replace(".create.sql", ".prisma")).schema
    db = load_source(pg_url).schema
    assert _ids(prisma, db) == []


def _new_schemas(dialect_dir: str) -> list[str]:
    root = CORPUS / "sql"
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(root)) for p in root.glob(f"*/{dialect_dir}/*/new_schema.sql"))


def _runnable(sql: str) -> str:
    """The lemmy/authelia dumps come from PostgreSQL 18: drop a setting older servers reject."""
    return re.sub(r"^SET transaction_timeout = 0;$", "", sql, flags=re.M)


@pytest.mark.postgres
@pytest.mark.parametrize("rel", _new_schemas("postgres"))
def test_sql_project_schema_vs_database_postgres(corpus: Path, pg_url: str, rel: str):
    path = CORPUS / "sql" / rel
    run_sql(pg_url, _runnable(path.read_text()))
    ddl = load_source(str(path), dialect="postgresql").schema
    db = load_source(pg_url).schema
    assert _ids(ddl, db) == []


#: MySQL 8 syntax MariaDB rejects (`->>` in generated columns): cannot be built on this server
MYSQL8_ONLY = {"temporal/mysql/03-visibility-v1_3-add-history-size-bytes/new_schema.sql",
               "temporal/mysql/04-visibility-v1_6-fix-root-workflow-info-columns/new_schema.sql"}


def test_mysql8_only_files_still_need_mysql8(corpus: Path):
    for rel in MYSQL8_ONLY:
        assert "->>" in (CORPUS / "sql" / rel).read_text(), rel


@pytest.mark.mysql
@pytest.mark.parametrize("rel", [r for r in _new_schemas("mysql") if r not in MYSQL8_ONLY])
def test_sql_project_schema_vs_database_mysql(corpus: Path, mysql_url: str, rel: str):
    path = CORPUS / "sql" / rel
    run_sql(mysql_url, path.read_text())
    ddl = load_source(str(path), dialect="mysql").schema
    db = load_source(mysql_url).schema
    assert _ids(ddl, db) == []


def _all_schema_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.suffix in (".prisma", ".sql"))


@pytest.mark.parametrize("rel", _all_schema_files())
def test_planner_inspect_loads_every_corpus_file(corpus: Path, rel: str):
    """`planner inspect FILE` exits 0 for every .prisma and .sql file; the dialect of a SQL file
    comes from its folder or name (mysql/postgres)."""
    from typer.testing import CliRunner

    from planner.cli import app

    args = ["inspect", str(CORPUS / rel), "--format", "json"]
    if rel.endswith(".sql"):
        args += ["--dialect", "mysql" if "mysql" in rel else "postgresql"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
