"""squawk on the offline SQL (`alembic upgrade head --sql`) of every corpus Prisma pair that
builds on plain PostgreSQL: every finding is one planner documents (bench/squawk_offline.py
says why for each rule; bench/README.md has the counts next to the projects' own SQL)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from .conftest import ROOT
from .test_plan import CORPUS_CONFIG, NEEDS_VECTOR

_spec = importlib.util.spec_from_file_location("squawk_offline", ROOT / "bench" / "squawk_offline.py")
squawk_offline = importlib.util.module_from_spec(_spec)
sys.modules["squawk_offline"] = squawk_offline
_spec.loader.exec_module(squawk_offline)


@pytest.mark.corpus
def test_offline_sql_has_only_documented_squawk_findings(corpus):  # noqa: ANN001
    pairs = sorted(f"{p.parent.name}/{p.name}" for p in (corpus / "prisma").glob("*/[0-9]*")
                   if (p / "old.prisma").is_file() and f"{p.parent.name}/{p.name}" not in NEEDS_VECTOR)
    result = squawk_offline.compare(corpus, pairs, CORPUS_CONFIG)
    refused = [p for p, r in result.items() if r is None]
    assert refused == ["documenso/04-migrate-to-cuids-for-webhooks"]  # serial id -> text id
    documented = set(squawk_offline.UNAVOIDABLE) | set(squawk_offline.KNOWN_GAPS)
    ours = [x for r in result.values() if r for x in r[0]]
    theirs = [x for r in result.values() if r for x in r[1]]
    undocumented = sorted({x["rule_name"] for x in ours} - documented)
    assert not undocumented, undocumented
    # the plan never does what squawk flags as a lock hazard (prefer-robust-stmts: only the
    # VALIDATEs that run in their own transaction, documented in UNAVOIDABLE)
    for rule in ("require-lock-timeout", "constraint-missing-not-valid", "adding-foreign-key-constraint",
                 "adding-not-nullable-field", "require-concurrent-index-deletion", "ban-drop-table",
                 "require-enum-value-ordering", "transaction-nesting"):
        assert not [x for x in ours if x["rule_name"] == rule], rule
    assert len(ours) < len(theirs)
