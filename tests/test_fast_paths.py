"""Imports paid only by the commands that need them (issue 14), and the pieces that make that
possible give the answers the libraries they replace give. No timing here: bench/ measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.normalize import needs_quotes

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import json, sys
sys.argv = ["planner", *json.loads(sys.argv[1])]
from planner.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("sqlalchemy", "sqlglot", "pydantic", "alembic") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(args: list[str], cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True,
                         cwd=cwd, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_missing_source_file_imports_no_heavy_library(tmp_path: Path):
    for args in (["diff", "nope.prisma", "empty"], ["diff", "empty", "nope.sql"], ["inspect", "nope.prisma"]):
        got = _probe(args, tmp_path)
        assert got == {"code": 2, "heavy": []}, args


def test_inspecting_plain_ddl_imports_no_heavy_library(tmp_path: Path):
    """Replaying plain DDL of common types and defaults needs no sqlglot (~75 ms): it is
    imported for an expression (a CHECK here) or a type or default it has to read."""
    (tmp_path / "s.sql").write_text("""CREATE TYPE "Status" AS ENUM ('A', 'B');
CREATE TABLE "a" ("id" SERIAL NOT NULL, "n" VARCHAR(20) DEFAULT 'x', "s" "Status" NOT NULL DEFAULT 'A',
  "t" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "k" INTEGER DEFAULT 0, "d" DECIMAL(10,2),
  CONSTRAINT "a_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "a_n_key" ON "a"("n");
""")
    assert _probe(["inspect", "s.sql", "--dialect", "postgresql"], tmp_path) == {"code": 0, "heavy": []}
    (tmp_path / "c.sql").write_text("CREATE TABLE a (id int, CHECK (id > 0));\n")
    assert _probe(["inspect", "c.sql", "--dialect", "postgresql"], tmp_path)["heavy"] == ["sqlglot"]


def test_options_parse_without_pydantic_and_bad_values_still_fail_as_before(tmp_path: Path):
    assert _probe(["diff", "empty", "empty", "-f", "json", "--rename", "a.b=c", "-q"], tmp_path)["heavy"] \
        == ["sqlglot"]  # planner.diff reads expressions; nothing else
    bad = subprocess.run([sys.executable, "-m", "planner", "diff", "empty", "empty", "-f", "bogus"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2
    assert "'bogus' is not one of" in bad.stderr


def test_a_url_is_still_masked(tmp_path: Path):
    from planner.urls import mask_url

    assert mask_url("postgresql://u:s3cret@h/db?sslpassword=x") == "postgresql://u:***@h/db?sslpassword=***"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_needs_quotes_is_sqlalchemys_rule(dialect: str):
    """planner's copy of the reserved words and quoting rule equals the installed SQLAlchemy's."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    preparer = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}[dialect].dialect().identifier_preparer
    names = set(preparer.reserved_words) | {w.upper() for w in preparer.reserved_words} | {
        "", "a", "A", "user_id", "UserId", "1abc", "$x", "x$", "x y", "é", "_x", "x-y", "order", "Order",
        "select", "key", "status", "type", "value", "name", "date", "index", "limit", "offset"}
    for name in sorted(names):
        assert needs_quotes(name, dialect) == (preparer.quote(name) != name), name


def test_common_postgresql_types_read_without_sqlglot_as_sqlglot_reads_them(monkeypatch):
    """The fast path for common type spellings gives what the sqlglot path gives, for every
    spelling it takes (and leaves the others to sqlglot)."""
    from planner import normalize

    names = [*normalize._PG_PLAIN, *normalize._PG_SIZED, "int(11)", "serial", "timestamp with time zone x",
             "varchar(10,2)", "numeric(10, 2)", "mytype", "bit", "interval", "time"]
    spellings = [f"{n}{p}" for n in names for p in ("", "(0)", "(1)", "(3)", "(6)", "(7)", "(10,2)", "(38,0)")]
    fast = {x: normalize._pg_simple_type(x) for x in spellings}
    assert sum(v is not None for v in fast.values()) > 40
    monkeypatch.setattr(normalize, "_pg_simple_type", lambda low: None)
    normalize._canonical_type.cache_clear()
    try:
        for spelling, got in fast.items():
            if got is not None:
                assert got == normalize._canonical_type(spelling, "postgresql"), spelling
                assert normalize.unknown_type.__wrapped__(spelling, "postgresql") is None, spelling
    finally:
        normalize._canonical_type.cache_clear()


def test_common_postgresql_defaults_read_without_sqlglot_as_sqlglot_reads_them(monkeypatch):
    from planner import normalize

    defaults = ["'ACTIVE'", "''", "'a b'", "'0'", "'1.5'", "'true'", "'{}'", "'2024-01-01'", "0", "-1", "007",
                "12345678901234", "1.50", "true", "FALSE", "current_timestamp", "CURRENT_TIMESTAMP", "now()",
                "'it''s'", "'a\\b'", "'é ✓'", "'a\nb'", "''", "'%s'", "'{a}'"]
    types = ["text", "varchar(20)", "Status", "integer", "numeric(10,2)", "boolean", "jsonb", "json",
             "timestamp(3)", "timestamptz", "date", "uuid", "bigint", "double precision", "real"]
    fast = {(d, t): normalize._pg_simple_default(d, t) for d in defaults for t in types}
    assert sum(v is not None for v in fast.values()) > 60
    monkeypatch.setattr(normalize, "_pg_simple_default", lambda text, base: None)
    for (d, t), got in fast.items():
        if got is not None:
            assert (got, False, False) == normalize.normalize_default.__wrapped__(d, "postgresql", t), (d, t)


_SQL_DIRS = [ROOT / "sample_schemas", ROOT / "tests"]


def _sql_texts() -> list[tuple[str, str, str]]:
    import os

    from planner.load.ddl import guess_dialect

    from .conftest import CORPUS

    dirs = list(_SQL_DIRS)
    # the corpus, and corpus2 (Prisma on MySQL and SQLite, Alembic) beside it or where told
    corpus2 = Path(os.environ.get("PLANNER_CORPUS2") or CORPUS.parent / "corpus2")
    dirs += [d for d in (CORPUS, corpus2) if d.is_dir()]
    out = []
    for d in dirs:
        for p in sorted(d.rglob("*.sql")):
            text = p.read_text(encoding="utf-8", errors="replace")
            out.append((str(p), text, guess_dialect(text)))
    out += [(f"edge{i}", t, "postgresql") for i, t in enumerate(_EDGES)]
    out += [(f"edge{i}-sqlite", t, "sqlite") for i, t in enumerate(_EDGES)]
    return out


_EDGES = [
    "CREATE TABLE a (b text DEFAULT 'x;y'); CREATE INDEX i ON a (b)",
    "CREATE TABLE a (b text DEFAULT 'unterminated; CREATE TABLE c (d int);",
    'CREATE TABLE "a;b" (c int); ALTER TABLE "unterminated ADD c int;',
    "CREATE FUNCTION f() RETURNS int AS $$ select 1; $$ LANGUAGE sql; CREATE TABLE t (i int);",
    "CREATE FUNCTION f() RETURNS int AS $body$ select 1; $body$ LANGUAGE sql; DROP TABLE t;",
    "CREATE FUNCTION f() RETURNS int AS $x$ select 1; CREATE TABLE t (i int);",
    "CREATE TABLE t (i int) /* unterminated ; comment",
    "CREATE TABLE t (i int DEFAULT $x$ abc; CREATE TABLE u (j int);",
    "CREATE TABLE t (i int[] DEFAULT '{1}'::int[]); CREATE TABLE u (j int DEFAULT $$a;b$$);",
    "CREATE TABLE t (i int) -- trailing comment ;\n; COMMENT ON TABLE t IS E'a\\';b';",
    "CREATE TABLE [a;b] (c int); CREATE TABLE `x;y` (c int); CREATE TABLE [open (c int);",
    "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; SELECT 2; END; CREATE TABLE t (i int);",
    "INSERT INTO t VALUES ('a;b'); CREATE TABLE t2 (i int);\n\\connect x\nALTER TABLE t ADD j int",
    "CREATE TABLE t (a$b int, \"c\"\"d\" int); CREATE TABLE u (e int)",
]


def test_statements_tokenized_while_split_are_what_splitting_then_tokenizing_gives():
    """The replayer tokenizes CREATE/ALTER/DROP/COMMENT/RENAME statements while finding their
    end (one scan of the file, not two): the same statements, the same tokens."""
    from planner.load.ddl import _Splitter, _tokenize, split_statements
    merged_seen = 0
    for name, text, dialect in _sql_texts():
        plain = split_statements(text, dialect)
        merged = _Splitter(text, dialect, tokens=True).run()
        assert [(s.text, s.line, s.column) for s in merged] == [(s.text, s.line, s.column) for s in plain], name
        for s in merged:
            if s.toks is not None:
                merged_seen += 1
                assert s.toks == _tokenize(s.text, dialect)[0], (name, s.text[:80])
    assert merged_seen > 100


_INDEX_EDGES = [
    'CREATE TABLE "T" ("a" int, "b" int);\nCREATE UNIQUE INDEX "T_a_key" ON "T"("a");\n'
    'CREATE INDEX "T_a_b_idx" ON "T"("a", "b");\nCREATE INDEX "T_a_key" ON "T"("b");\n'
    'CREATE INDEX "x_idx" ON "Missing"("a");\nCREATE INDEX "T_b_idx" ON "t"("b");\n'
    'CREATE INDEX "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" ON "T"("a");\n'
    'CREATE INDEX "T_c_idx" ON "T"("c");\nDROP INDEX "T_a_b_idx";\nCREATE INDEX "T_a_b_idx" ON "T"("b", "a");',
]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_plain_create_index_read_in_one_match_replays_as_the_parser_does(monkeypatch, dialect: str):
    """`CREATE [UNIQUE] INDEX "n" ON "t"("c", ...);` (a third of Prisma's SQL) is read by one
    regex: the same schema, warnings and errors as the token-by-token parser."""
    import re

    from planner.errors import PlannerError
    from planner.load import ddl

    def outcome(text: str) -> object:
        try:
            loaded = ddl.load_sql_text(text, dialect=dialect)
        except PlannerError as e:
            return ("error", str(e))
        return loaded.schema, [str(w) for w in loaded.warnings]

    texts = [t for _, t, d in _sql_texts() if d == dialect] + _INDEX_EDGES
    shortcut = ddl._SIMPLE_INDEX
    matched = 0
    for text in texts:
        matched += len(shortcut.findall(text))
        fast = outcome(text)
        monkeypatch.setattr(ddl, "_SIMPLE_INDEX", re.compile("(?!)"))
        slow = outcome(text)
        monkeypatch.setattr(ddl, "_SIMPLE_INDEX", shortcut)
        assert fast == slow, text[:200]
    assert matched > 5


def _outcome(text: str, dialect: str) -> object:
    from planner.errors import PlannerError
    from planner.load.ddl import load_sql_text

    try:
        loaded = load_sql_text(text, dialect=dialect)
    except PlannerError as e:
        return f"{type(e).__name__}: {e}"
    return [str(w) for w in loaded.warnings], {t.name: [i.name for i in t.indexes] for t in loaded.schema.tables}


def test_what_differential_fuzzing_found_reads_as_before():
    """Cases where the faster loader once read differently from 3d55a07 (a differential fuzz of
    ~190,000 scripts): a table stored under a key in use stopped reporting its indexes to the
    name maps (SQLite); a non-ASCII letter before `$$` or `E'` ended a PostgreSQL statement
    elsewhere in the merged scan; a 38-character quoted index name skipped the long-name
    locations; lower-casing for the dialect guess folded İ, ı and ſ unlike IGNORECASE."""
    pre = "CREATE TABLE T(a);CREATE TABLE u(a);ALTER TABLE u RENAME TO t;CREATE TABLE t(a);CREATE INDEX i ON t(a);"
    replaced = '<sql>:1:76: CREATE TABLE "t": the table already exists; replaced'
    assert _outcome(pre + "DROP INDEX i;", "sqlite") == ([replaced], {"t": []})
    assert _outcome(pre + "CREATE INDEX I ON t(a);", "sqlite") == (
        [replaced, '<sql>:1:122: index "I" already exists; CREATE INDEX ignored'], {"t": ["i"]})
    assert _outcome("CREATE TABLE t (a text DEFAULT éE'\\';x');", "postgresql") == ([], {"t": []})
    assert _outcome("CREATE TABLE t (a text DEFAULT $é$x;y$é$);", "postgresql") == \
        "ParseError: <sql>:1:36: unexpected end of statement"
    assert _outcome("CREATE TABLE café$$x (a int); CREATE TABLE y$$ (b int);", "postgresql") == \
        "ParseError: <sql>:1:29: unexpected table option near ';'"
    warnings, _ = _outcome('CREATE TABLE t (c int);\nCREATE INDEX "' + "é" * 38 + '" ON "t"("c");', "postgresql")
    assert warnings[0].startswith('<sql>:2:14: index "t.é')
    from planner.load.ddl import guess_dialect
    assert [guess_dialect(s) for s in ("İPRAGMA x;", "unſigned", "autoıncrement", "ENGİNE=")] == [
        "postgresql", "mysql", "sqlite", "mysql"]
