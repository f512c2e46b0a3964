"""Byte-identical output over the whole corpus, and loading at 5,000 tables/models.

`planner diff` (text and json) on every corpus pair (Prisma old/new, Prisma's CREATE SQL
old/new, SQL projects' old/new schema), and `planner inspect` plus `diff empty X` on every full
schema, must print exactly what the recorded output printed: the SHA-256 of each output is kept
in tests/data/corpus_output_sha256.json, recorded from the commit before the issue 14
performance work. A change of output that is *meant* (a new rule, a new field) re-records it:

    PLANNER_RECORD_OUTPUT=1 pytest tests/test_output_identical.py

`PLANNER_OUTPUT_DUMP=DIR` also writes each output to DIR (to diff two runs by hand).
The synthetic 5,000-table SQL file and 5,000-model Prisma schema only have to load (and
load completely); speed is measured in bench/, never here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from .conftest import CORPUS

GOLDEN = Path(__file__).parent / "data" / "corpus_output_sha256.json"


def _dialect(rel: str) -> str:
    return "mysql" if "mysql" in rel else "postgresql"


def _cases() -> list[tuple[str, list[str]]]:
    """(case id, CLI arguments with corpus-relative paths), in a fixed order."""
    if not CORPUS.is_dir():
        return []
    cases: list[tuple[str, list[str]]] = []
    for d in sorted(p.parent for p in CORPUS.glob("prisma/*/*/old.prisma")):
        rel = str(d.relative_to(CORPUS))
        for fmt in ("text", "json"):
            cases.append((f"diff {rel}/*.prisma {fmt}", ["diff", f"{rel}/old.prisma", f"{rel}/new.prisma", "-f", fmt]))
        if (d / "old.create.sql").is_file():
            cases.append((f"diff {rel}/*.create.sql json", ["diff", f"{rel}/old.create.sql", f"{rel}/new.create.sql",
                                                            "-f", "json", "-d", "postgresql"]))
    for d in sorted(p.parent for p in CORPUS.glob("sql/*/*/*/old_schema.sql")):
        rel = str(d.relative_to(CORPUS))
        for fmt in ("text", "json"):
            cases.append((f"diff {rel}/*_schema.sql {fmt}", ["diff", f"{rel}/old_schema.sql", f"{rel}/new_schema.sql",
                                                             "-f", fmt, "-d", _dialect(rel)]))
    full = sorted(CORPUS.glob("prisma/*/latest.prisma")) + sorted(CORPUS.glob("prisma/*/latest.create.sql")) \
        + sorted(CORPUS.glob("sql/*/schema*.sql"))
    for f in full:
        rel = str(f.relative_to(CORPUS))
        dialect = [] if rel.endswith(".prisma") else ["-d", _dialect(rel)]
        cases.append((f"inspect {rel} json", ["inspect", rel, "-f", "json", *dialect]))
        cases.append((f"inspect {rel} text", ["inspect", rel, *dialect]))
        cases.append((f"diff empty {rel} text", ["diff", "empty", rel, *dialect]))
    return cases


def _run(args: list[str]) -> str:
    from typer.testing import CliRunner

    from planner.cli import app

    argv = [str(CORPUS / a) if "/" in a else a for a in args]
    result = CliRunner().invoke(app, argv)
    # the exit code is part of the output (diff exits 0; inspect too)
    return f"exit={result.exit_code}\n{result.output}".replace(str(CORPUS), "<corpus>")


@pytest.mark.corpus
def test_corpus_output_is_byte_identical(corpus: Path):
    cases = _cases()
    assert cases
    record = os.environ.get("PLANNER_RECORD_OUTPUT") == "1"
    dump = os.environ.get("PLANNER_OUTPUT_DUMP")
    got: dict[str, str] = {}
    for case_id, args in cases:
        out = _run(args)
        got[case_id] = hashlib.sha256(out.encode()).hexdigest()
        if dump:
            name = case_id.replace("/", "__").replace(" ", "_").replace("*", "X")
            Path(dump).mkdir(parents=True, exist_ok=True)
            (Path(dump) / name).write_text(out)
    if record:
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        return
    want = json.loads(GOLDEN.read_text())
    assert sorted(got) == sorted(want), "the corpus changed: re-record (see the module docstring)"
    differ = [k for k in sorted(got) if got[k] != want[k]]
    assert not differ, f"{len(differ)} of {len(got)} outputs changed: {differ[:10]}"


def _synthetic_sql(n: int) -> str:
    out = []
    for i in range(n):
        ref = f', "parent_id" INTEGER REFERENCES "t{i - 1}"("id") ON DELETE CASCADE' if i else ""
        out.append(f'CREATE TABLE "t{i}" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL DEFAULT \'x\', '
                   f'"n" INTEGER DEFAULT 0, "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP{ref}, '
                   f'CONSTRAINT "t{i}_pkey" PRIMARY KEY ("id"));')
        out.append(f'CREATE UNIQUE INDEX "t{i}_name_key" ON "t{i}"("name");')
        out.append(f'CREATE INDEX "t{i}_n_idx" ON "t{i}"("n");')
        if i:
            out.append(f'ALTER TABLE "t{i}" ADD CONSTRAINT "t{i}_n_check" CHECK ("n" >= 0);')
    return "\n".join(out) + "\n"


def _synthetic_prisma(n: int) -> str:
    out = ['datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n',
           "enum Status {\n  ACTIVE\n  GONE\n}\n"]
    for i in range(n):
        rel = (f"  parentId Int?\n  parent   M{i - 1}? @relation(fields: [parentId], references: [id])\n"
               if i else "")
        back = f"  children M{i + 1}[]\n" if i < n - 1 else ""
        out.append(f"model M{i} {{\n  id        Int      @id @default(autoincrement())\n"
                   f"  name      String   @unique @db.VarChar(200)\n  status    Status   @default(ACTIVE)\n"
                   f"  createdAt DateTime @default(now())\n  score     Decimal? @db.Decimal(10, 2)\n"
                   f"{rel}{back}\n  @@index([createdAt])\n}}\n")
    return "\n".join(out)


def test_5000_table_sql_file_loads(tmp_path: Path):
    from planner.load import load_source

    path = tmp_path / "big.sql"
    path.write_text(_synthetic_sql(5000))
    schema = load_source(str(path), dialect="postgresql").schema
    assert len(schema.tables) == 5000
    t = next(t for t in schema.tables if t.name == "t4999")
    assert {i.name for i in t.indexes} == {"t4999_name_key", "t4999_n_idx"}
    assert [c.name for c in t.checks] == ["t4999_n_check"]
    assert [fk.ref_table for fk in t.foreign_keys] == ["t4998"]


def test_5000_model_prisma_schema_loads(tmp_path: Path):
    from planner.load import load_source

    path = tmp_path / "big.prisma"
    path.write_text(_synthetic_prisma(5000))
    schema = load_source(str(path)).schema
    assert len(schema.tables) == 5000
    t = next(t for t in schema.tables if t.name == "M4999")
    assert [fk.ref_table for fk in t.foreign_keys] == ["M4998"]
