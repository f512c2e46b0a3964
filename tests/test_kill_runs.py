"""Smoke test of bench/kill_runs.py: one killed upgrade, re-run, downgrade, rows compared (~15 s)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from .conftest import PG_ADMIN, ROOT


def _load_bench():
    spec = importlib.util.spec_from_file_location("kill_runs", ROOT / "bench" / "kill_runs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_runs"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_one_killed_run_recovers(pg_url: str, capsys: pytest.CaptureFixture[str]):
    """pg_url only proves the server is there (skip or CI failure otherwise); the script makes
    its own databases through the admin URL and drops them."""
    bench = _load_bench()
    # the `indexes` pair: new columns, then concurrent index builds in a second revision
    assert bench.main(["--runs", "1", "--rows", "300", "--seed", "3", "--pairs", "indexes", "--url", PG_ADMIN]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 re-ran to NEW and downgraded with every row restored; 0 failed" in out


def test_kill_choices_are_reproducible():
    """The run seed alone picks the kill kind, the revision and the moment in it."""
    import random

    bench = _load_bench()
    prep = bench.Prepared(bench.PAIRS[0], "", "", ROOT, "", None, None,
                          spans=[("a", 0.5), ("b", 2.0), ("c", 0.1)])
    a = [bench.choose(random.Random(seed), prep) for seed in range(40)]
    assert a == [bench.choose(random.Random(seed), prep) for seed in range(40)]
    assert {kind for kind, _, _ in a} == set(bench.KINDS)
    assert {k for _, k, _ in a} == {0, 1, 2}  # every revision gets hit
    assert all(0 <= offset < prep.spans[k][1] for _, k, offset in a)
