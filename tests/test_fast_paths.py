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
