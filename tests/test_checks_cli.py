"""`planner check` end to end (text, JSON, --sql, exit codes) and `planner diff --db` turning
pre-flight results into "will fail" (critical) or "verified clean" (lower)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.checks import build_checks
from planner.cli import app
from planner.diff import diff
from planner.model import Column, Index, IndexPart, Schema, Table
from planner.render.checks import checks_sql

from .conftest import SAMPLES, run_sql

runner = CliRunner()
CENTURION = SAMPLES / "centurion-money-enum-unique"

# What Prisma Migrate creates from centurion's old.prisma (`planner diff URL old.prisma` is empty).
CENTURION_OLD_DDL = """
CREATE TYPE "Role" AS ENUM ('ADMIN', 'COACH', 'CLIENT');
CREATE TYPE "AppointmentStatus" AS ENUM ('SCHEDULED', 'ATTENDED', 'NO_SHOW', 'CANCELLED');
CREATE TYPE "InvoiceStatus" AS ENUM ('DRAFT', 'SENT', 'PAID', 'OVERDUE');
CREATE TYPE "MembershipStatus" AS ENUM ('ACTIVE', 'PAUSED', 'LEFT');
CREATE TABLE "users" (
    "id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT, "role" "Role" NOT NULL DEFAULT 'CLIENT',
    "email_verified" TIMESTAMP(3), "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL, CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE TABLE "cohorts" (
    "id" SERIAL NOT NULL, "name" TEXT NOT NULL, "startDate" DATE NOT NULL, "endDate" DATE NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "cohorts_pkey" PRIMARY KEY ("id"));
CREATE TABLE "cohort_memberships" (
    "id" SERIAL NOT NULL, "cohortId" INTEGER NOT NULL, "userId" INTEGER NOT NULL,
    "status" "MembershipStatus" NOT NULL DEFAULT 'ACTIVE',
    "joined_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "cohort_memberships_pkey" PRIMARY KEY ("id"));
CREATE TABLE "appointments" (
    "id" SERIAL NOT NULL, "userId" INTEGER NOT NULL, "invoiceId" INTEGER, "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL, "status" "AppointmentStatus" NOT NULL DEFAULT 'SCHEDULED',
    "fee" DOUBLE PRECISION NOT NULL, "notes" TEXT, "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL, CONSTRAINT "appointments_pkey" PRIMARY KEY ("id"));
CREATE TABLE "invoices" (
    "id" SERIAL NOT NULL, "userId" INTEGER NOT NULL, "month" DATE NOT NULL,
    "totalAmount" DOUBLE PRECISION NOT NULL, "status" "InvoiceStatus" NOT NULL DEFAULT 'DRAFT',
    "paid_at" TIMESTAMP(3), "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id"));
CREATE TABLE "entries" (
    "id" SERIAL NOT NULL, "userId" INTEGER NOT NULL, "date" DATE NOT NULL, "weight" DOUBLE PRECISION,
    "steps" INTEGER, "calories" INTEGER, "sleepQuality" SMALLINT, "perceivedStress" SMALLINT, "notes" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "entries_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE INDEX "users_role_idx" ON "users"("role");
CREATE UNIQUE INDEX "cohort_memberships_cohortId_userId_key" ON "cohort_memberships"("cohortId", "userId");
CREATE INDEX "cohort_memberships_userId_status_idx" ON "cohort_memberships"("userId", "status");
CREATE INDEX "cohort_memberships_cohortId_status_idx" ON "cohort_memberships"("cohortId", "status");
CREATE INDEX "appointments_userId_startTime_idx" ON "appointments"("userId", "startTime");
CREATE INDEX "appointments_status_startTime_idx" ON "appointments"("status", "startTime");
CREATE INDEX "appointments_invoiceId_idx" ON "appointments"("invoiceId");
CREATE UNIQUE INDEX "invoices_userId_month_key" ON "invoices"("userId", "month");
CREATE INDEX "invoices_status_idx" ON "invoices"("status");
CREATE INDEX "entries_userId_date_idx" ON "entries"("userId", "date");
ALTER TABLE "cohort_memberships" ADD CONSTRAINT "cohort_memberships_cohortId_fkey" FOREIGN KEY ("cohortId")
    REFERENCES "cohorts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "cohort_memberships" ADD CONSTRAINT "cohort_memberships_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_invoiceId_fkey" FOREIGN KEY ("invoiceId")
    REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "entries" ADD CONSTRAINT "entries_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
"""

CENTURION_DATA = """
INSERT INTO users (email, role, updated_at) VALUES ('a@x.io', 'CLIENT', now()), ('b@x.io', 'CLIENT', now());
INSERT INTO entries ("userId", date, updated_at) VALUES
    (1, '2026-01-24', now()), (1, '2026-01-25', now()), (2, '2026-01-25', now());
INSERT INTO invoices ("userId", month, "totalAmount") VALUES (1, '2026-01-01', 19.99);
"""


def run(*args: str):
    return runner.invoke(app, list(args))


def centurion(*args: str):
    return run(*args[:1], str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), *args[1:])


def change(doc: dict, change_id: str) -> dict:
    return next(c for c in doc["changes"] if c["id"] == change_id)


UNIQUE_ID = "add_unique:entries.entries_userId_date_key"


@pytest.fixture
def centurion_db(pg_url: str) -> str:
    """A PostgreSQL database holding centurion's OLD schema, with clean data."""
    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    return pg_url


# --------------------------------------------------------------------------- diff --db

def test_centurion_schema_matches_old_prisma(centurion_db: str) -> None:
    r = run("diff", centurion_db, str(CENTURION / "old.prisma"), "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["changes"] == []


def test_diff_with_db_turns_duplicates_into_critical_and_clean_data_into_low(centurion_db: str) -> None:
    static = json.loads(centurion("diff", "-f", "json").stdout)
    assert change(static, UNIQUE_ID)["level"] == "medium"

    clean = json.loads(centurion("diff", "--db", centurion_db, "-f", "json").stdout)
    entry = change(clean, UNIQUE_ID)
    mf101 = next(f for f in entry["findings"] if f["code"] == "MF101")
    assert mf101["level"] == "low" and "verified" in mf101["message"]
    assert entry["level"] in ("low", "medium")  # the lock finding (LK101) may keep it at medium

    run_sql(centurion_db, """INSERT INTO entries ("userId", date, updated_at) VALUES
        (1, '2026-01-25', now()), (2, '2026-01-25', now()), (2, '2026-01-25', now())""")
    dirty = json.loads(centurion("diff", "--db", centurion_db, "-f", "json").stdout)
    entry = change(dirty, UNIQUE_ID)
    assert entry["level"] == "critical"
    mf101 = next(f for f in entry["findings"] if f["code"] == "MF101")
    assert mf101["level"] == "critical" and "2 duplicate groups" in mf101["message"]
    assert "userId=2" in mf101["message"]  # the evidence: the biggest group, (2, 2026-01-25) x3
    # ... and the same evidence as structured fields (issue 16)
    assert mf101["evidence"]["check"] == "duplicates" and mf101["evidence"]["count"] == 2
    assert mf101["evidence"]["samples"][0] == {"userId": 2, "date": "2026-01-25", "rows": 3}
    assert "evidence" not in next(f for f in change(static, UNIQUE_ID)["findings"] if f["code"] == "MF101")


def test_diff_with_db_makes_a_used_enum_value_critical(centurion_db: str) -> None:
    run_sql(centurion_db, "UPDATE users SET role = 'COACH' WHERE id = 1")
    doc = json.loads(centurion("diff", "--db", centurion_db, "-f", "json").stdout)
    assert change(doc, "remove_enum_value:Role.COACH")["level"] == "critical"


# --------------------------------------------------------------------------- planner check

def test_check_text_exit_codes(centurion_db: str) -> None:
    r = centurion("check", "--db", centurion_db)
    assert r.exit_code == 0, r.output
    assert "PASS" in r.stdout and "FAIL" not in r.stdout
    assert "0 checks" not in r.stdout and "0 failed (0 blocking)" in r.stdout

    run_sql(centurion_db, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    r = centurion("check", "--db", centurion_db)
    assert r.exit_code == 1, r.output
    assert "FAIL" in r.stdout and "1 duplicate group " in r.stdout
    assert "2026-01-25" in r.stdout  # a sample row
    assert "1 failed (1 blocking)" in r.stdout


def test_check_json_follows_the_contract(centurion_db: str) -> None:
    run_sql(centurion_db, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    r = centurion("check", "--db", centurion_db, "--format", "json", "--sample", "1")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert list(doc) == sorted(doc)
    assert set(doc) == {"schema_version", "tool", "dialect", "old", "new", "checks", "summary"}
    assert doc["schema_version"] == 1 and doc["dialect"] == "postgresql"
    for c in doc["checks"]:
        assert set(c) == {"change_id", "kind", "table", "columns", "sql", "count", "passed", "blocking", "samples"}
        assert c["sql"].startswith("SELECT")
    dup = next(c for c in doc["checks"] if c["change_id"] == UNIQUE_ID)
    assert dup == {**dup, "kind": "duplicates", "table": "entries", "columns": ["userId", "date"], "count": 1,
                   "passed": False, "blocking": True,
                   "samples": [{"userId": 1, "date": "2026-01-25", "rows": 2}]}
    assert doc["summary"] == {"checks": len(doc["checks"]), "failed": 1, "blocking_failed": 1, "informative": 0}


def test_check_sql_file_is_deterministic_quoted_and_runs_read_only(centurion_db: str) -> None:
    first = centurion("check", "--sql")
    assert first.exit_code == 0, first.output
    assert first.stdout == centurion("check", "--sql").stdout
    text = first.stdout
    assert text.startswith("-- planner pre-flight checks")
    assert "BEGIN TRANSACTION READ ONLY;" in text and text.rstrip().endswith("ROLLBACK;")
    assert '"entries"."userId"' in text and "-- Expect: 0 duplicate groups" in text
    statements = [s for s in text.split(";\n") if s.strip()]
    assert sum("SELECT count(*)" in s for s in statements) == 6
    run_sql(centurion_db, text)  # a DBA's run: every statement is valid and nothing is written


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_check_on_mysql_and_sqlite_from_sql_files(dialect: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue({"mysql": "mysql_url", "sqlite": "sqlite_url"}[dialect])
    old_sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50), n INTEGER);\n"
    new_sql = ("CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL, n INTEGER);\n"
               "CREATE UNIQUE INDEX t_email_key ON t (email);\n")
    (tmp_path / "old.sql").write_text(old_sql)
    (tmp_path / "new.sql").write_text(new_sql)
    run_sql(url, old_sql + "INSERT INTO t VALUES (1, 'a', 1), (2, 'a', 2), (3, NULL, 3);")
    args = ["check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--dialect", dialect]
    r = run(*args, "--db", url, "-f", "json")
    assert r.exit_code == 1, r.output
    counts = {c["kind"]: c["count"] for c in json.loads(r.stdout)["checks"]}
    assert counts == {"nulls": 1, "duplicates": 1}
    sql_file = run(*args, "--sql")
    assert sql_file.exit_code == 0, sql_file.output
    run_sql(url, sql_file.stdout)
    run_sql(url, "DELETE FROM t WHERE id <> 1")
    assert run(*args, "--db", url).exit_code == 0


def test_check_usage_errors_exit_2(tmp_path: Path, sqlite_url: str) -> None:
    neither = centurion("check")
    assert neither.exit_code == 2 and "--db" in neither.output
    assert centurion("check", "--sql", "--db", sqlite_url).exit_code == 2
    assert centurion("check", "--sql", "--format", "json").exit_code == 2
    mismatch = centurion("check", "--db", sqlite_url)
    assert mismatch.exit_code == 2 and "is sqlite but the schemas are postgresql" in mismatch.output
    bad = centurion("check", "--db", "nosuch://x")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert centurion("check", "--db", sqlite_url, "--timeout", "0").exit_code == 2


def test_sql_file_comments_cannot_be_broken_by_a_name(pg_url: str) -> None:
    """A table name holding a newline stays inside its comment line in the --sql file."""
    evil = "x\nDROP TABLE t; --"
    run_sql(pg_url, f'CREATE TABLE t (id int); CREATE TABLE "{evil.replace(chr(34), chr(34) * 2)}" (id int, k text);')
    old = Schema("postgresql", tables=(Table(evil, columns=(Column("id", "integer"), Column("k", "text"))),))
    new = Schema("postgresql", tables=(Table(evil, columns=(Column("id", "integer"), Column("k", "text")),
                                             indexes=(Index("k_key", (IndexPart("k"),), unique=True),)),))
    text = checks_sql(build_checks(diff(old, new), old, new), dialect="postgresql", old_source="a",
                      new_source="b")
    comment_lines = [line for line in text.splitlines() if "DROP TABLE t" in line and line.startswith("--")]
    assert comment_lines, text
    run_sql(pg_url, text)
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert "t" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_check_with_nothing_to_check_exits_0(tmp_path: Path, sqlite_url: str) -> None:
    ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n"
    (tmp_path / "s.sql").write_text(ddl)
    run_sql(sqlite_url, ddl)
    r = run("check", str(tmp_path / "s.sql"), str(tmp_path / "s.sql"), "--dialect", "sqlite", "--db", sqlite_url)
    assert r.exit_code == 0, r.output
    assert "nothing to check" in r.stdout


def test_a_check_that_cannot_run_fails_closed(tmp_path: Path, sqlite_url: str) -> None:
    """The database lacks the table the schemas talk about: the check reports the error and,
    being blocking, makes `check` exit 1 (unverified is not clean); `diff --db` keeps the
    static level."""
    (tmp_path / "old.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);\n")
    run_sql(sqlite_url, "CREATE TABLE other (id INTEGER PRIMARY KEY);")
    args = [str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--dialect", "sqlite", "--db", sqlite_url]
    r = run("check", *args, "-f", "json")
    assert r.exit_code == 1, r.output
    [c] = json.loads(r.stdout)["checks"]
    assert c["count"] is None and c["passed"] is False and "no such table" in c["error"]
    d = run("diff", *args, "-f", "json")
    assert d.exit_code == 0, d.output
    assert json.loads(d.stdout)["changes"][0]["level"] == "medium"
