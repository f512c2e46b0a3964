"""Issue 16: pre-flight results a reviewer can trust, and Markdown/JSON diff output as strong as
the terminal view (sorted by level, help lines, playbook ids, plurals, structured evidence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from planner.changes import Diff
from planner.checks import Check, CheckKind, CheckOutcome, build_checks, run_checks
from planner.cli import app
from planner.diff import diff
from planner.model import Column, Schema, Table
from planner.render.checks import checks_view, summary
from planner.render.json_report import diff_document
from planner.render.markdown import diff_markdown
from planner.rules import Context, assess

from .conftest import run_sql

ROOT = Path(__file__).resolve().parent.parent
CENTURION = ROOT / "sample_schemas" / "centurion-money-enum-unique"


def _text(renderable) -> str:  # noqa: ANN001
    console = Console(width=200, no_color=True, record=True)
    console.print(renderable)
    return console.export_text()


def _outcome(kind: CheckKind, *, blocking: bool, count: int | None, error: str | None = None) -> CheckOutcome:
    check = Check(f"x:{kind.value}", kind, "t", ("c",), blocking, "what it finds", "0 rows", sql="SELECT 1")
    return CheckOutcome(check, count, [{"c": 1}] if count else [], error)


# --------------------------------------------------------------------------- check: informative is not failed

def test_informative_results_are_not_failures():
    outs = [_outcome(CheckKind.DATA_LOSS, blocking=False, count=12),
            _outcome(CheckKind.ENUM_IN_USE, blocking=False, count=3),
            _outcome(CheckKind.DUPLICATES, blocking=True, count=0),
            _outcome(CheckKind.NULLS, blocking=True, count=2),
            _outcome(CheckKind.ORPHANS, blocking=False, count=None, error="timeout")]
    assert summary(outs) == {"checks": 5, "failed": 2, "blocking_failed": 1, "informative": 2}
    text = _text(checks_view(outs))
    assert "5 checks: 1 passed, 2 failed (1 blocking), 2 informative" in text
    informative = [line for line in text.splitlines() if "12 rows" in line or "3 rows" in line]
    assert informative and all("expected" not in line and "for information" in line for line in informative)
    assert "2 rows (expected 0 rows)" in text


def test_all_informative_summary_has_no_failures():
    outs = [_outcome(CheckKind.DATA_LOSS, blocking=False, count=7)]
    assert summary(outs)["failed"] == 0
    assert "1 check: 0 passed, 0 failed (0 blocking), 1 informative" in _text(checks_view(outs))


# --------------------------------------------------------------------------- PostgreSQL < 16 casts

@pytest.mark.postgres
@pytest.mark.parametrize("target, good, bad", [
    ("timestamp", ["yesterday", "Epoch", " today ", "tomorrow", "now", "-infinity", "2024-02-29 10:00"],
     ["not a date", "2023-02-29"]),
    ("date", ["yesterday", "epoch", "infinity"], ["soon"]),
    ("time", ["allballs", "now", "10:30"], ["25:00"]),
])
def test_postgresql_15_casts_accept_special_date_words(pg_url: str, target: str, good: list[str],
                                                       bad: list[str]) -> None:
    values = good + bad
    rows = ", ".join(f"({i}, '{v}')" for i, v in enumerate(values, 1))
    run_sql(pg_url, f"CREATE TABLE t (id integer PRIMARY KEY, v text); INSERT INTO t VALUES {rows};")
    for v in good:  # the server really accepts each of them
        run_sql(pg_url, f"SELECT '{v}'::{target}")
    old = Schema("postgresql", tables=(Table("t", columns=(Column("id", "integer", nullable=False),
                                                           Column("v", "text"))),))
    new = Schema("postgresql", tables=(Table("t", columns=(Column("id", "integer", nullable=False),
                                                           Column("v", target))),))
    checks = [c for c in build_checks(diff(old, new), old, new, "postgresql", server_version=15)
              if c.kind == CheckKind.CAST]
    (o,) = run_checks(checks, pg_url)
    assert o.error is None
    assert sorted(s["v"] for s in o.samples) == sorted(bad)
    assert o.count == len(bad)


# --------------------------------------------------------------------------- Markdown

def _centurion_markdown() -> str:
    r = CliRunner().invoke(app, ["diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"),
                                 "-f", "markdown"])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_markdown_is_sorted_by_level_with_help_and_playbooks():
    text = _centurion_markdown()
    levels = [line.split("|")[1].strip() for line in text.splitlines()
              if line.startswith("| ") and not line.startswith("| level")]
    firsts = []
    for block in text.split("\n## ")[1:]:
        rows = [line.split("|")[1].strip() for line in block.splitlines() if line.startswith("| ")
                and not line.startswith("| level")]
        if rows:
            order = ["critical", "high", "medium", "low", "safe"]
            assert rows == sorted(rows, key=order.index), rows  # riskiest first inside a group
            firsts.append(order.index(rows[0]))
    assert firsts == sorted(firsts), "groups are not sorted by their riskiest change"
    assert levels
    assert "→ Find and resolve duplicates first" in text and "(playbook `add-unique`)" in text
    assert "change(s)" not in text and "6 changes;" in text and "1 possible rename" in text


def test_markdown_singular_and_empty():
    old = Schema("postgresql", tables=(Table("t", columns=(Column("id", "integer", nullable=False),)),))
    new = Schema("postgresql", tables=(Table("t", columns=(Column("id", "integer", nullable=False),
                                                           Column("n", "text"))),))
    d = diff(old, new)
    a = assess(d, Context(old, new, d))
    text = diff_markdown(d, old_source="a", new_source="b", dialect="postgresql", levels=a.level_names(),
                         findings=a.findings_json())
    assert "1 change; 1 safe" in text
    empty = diff_markdown(Diff(()), old_source="a", new_source="a", dialect="postgresql")
    assert "0 changes." in empty and "No changes" in empty


# --------------------------------------------------------------------------- JSON

def test_json_suggestions_carry_reason_and_alternatives():
    cols = (Column("id", "integer", nullable=False),)
    old = Schema("postgresql", tables=(Table("t", columns=cols + (Column("note", "text"),)),))
    new = Schema("postgresql", tables=(Table("t", columns=cols + (Column("aaaa", "text"), Column("bbbb", "text"))),))
    doc = diff_document(diff(old, new), dialect="postgresql", old_source="a", new_source="b")
    (s,) = doc["suggestions"]
    assert s["hint"] == "--rename t.note=aaaa" and s["alternatives"] == ["--rename t.note=bbbb"]
    assert "equally likely" in s["reason"]
    json.dumps(doc)


# --------------------------------------------------------------------------- JSON Schema

def _validate(doc: object, schema: dict) -> list[str]:
    """Every way `doc` breaks `schema` (jsonschema, draft 2020-12)."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft202012Validator(schema).iter_errors(doc)]


def test_diff_json_with_evidence_follows_the_json_schema(pg_url: str):
    from planner.render.json_report import diff_json_schema

    schema = diff_json_schema()
    static = json.loads(CliRunner().invoke(app, ["diff", str(CENTURION / "old.prisma"),
                                                 str(CENTURION / "new.prisma"), "-f", "json"]).stdout)
    assert _validate(static, schema) == []
    from .test_checks_cli import CENTURION_DATA, CENTURION_OLD_DDL

    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    run_sql(pg_url, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    r = CliRunner().invoke(app, ["diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"),
                                 "--db", pg_url, "-f", "json"])
    doc = json.loads(r.stdout)
    evidence = [f["evidence"] for c in doc["changes"] for f in c["findings"] if "evidence" in f]
    assert evidence and any(e["count"] > 0 and e["samples"] for e in evidence)
    assert _validate(doc, schema) == []
    broken = json.loads(json.dumps(doc))
    f = next(f for c in broken["changes"] for f in c["findings"] if "evidence" in f)
    f["evidence"]["count"] = "three"
    del f["evidence"]["samples"]
    assert len(_validate(broken, schema)) == 2  # the validator does catch a bad document


def test_sql_file_marks_informative_checks():
    from planner.render.checks import checks_sql

    blocking = Check("a:1", CheckKind.NULLS, "t", ("c",), True, "nulls", "0 rows", sql="SELECT 1")
    informs = Check("b:2", CheckKind.DATA_LOSS, "t", ("c",), False, "loss", "0 values (nothing to lose)",
                    unit="values", sql="SELECT 2")
    text = checks_sql([blocking, informs], dialect="postgresql", old_source="a", new_source="b")
    assert "-- Expect: 0 rows\nSELECT 1;" in text
    assert "-- Informs, never blocks: any count is an answer (0: nothing is affected).\nSELECT 2;" in text
    assert text.count("-- Expect:") == 1
