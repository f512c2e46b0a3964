"""Issue 10: a backfill batch holds its rows' locks until it commits, so its size adapts to
take about BATCH_MS (-x batch_ms), up to BATCH_SIZE rows (-x batch_rows): the PL/pgSQL keyset
block reads both from the session settings the runtime sets, and MySQL/SQLite's repeated
UPDATE resizes itself the same way (next_batch)."""

from __future__ import annotations

import ast

import pytest
import sqlalchemy as sa

from planner.plan.build import BATCH_MS, BATCH_ROWS, _keyset_backfill
from planner.plan.migration_runtime import BATCH_SIZE, next_batch

from .conftest import run_sql


def test_the_generator_writes_the_runtimes_defaults():
    from planner.plan import migration_runtime

    assert (BATCH_ROWS, BATCH_MS) == (BATCH_SIZE, migration_runtime.BATCH_MS)


@pytest.mark.parametrize(("size", "took", "expected"), [
    (500, 5.0, 1000),      # fast: at most doubled
    (500, 100.0, 250),     # twice the target: halved
    (500, 1000.0, 250),    # far too slow: at most halved per batch
    (500, 62.5, 400),      # in between: scaled toward the target
    (4000, 1.0, 5000),     # never above the most rows
    (1, 10_000.0, 1),      # never below one row
    (500, 0.0, 1000),      # an instant batch (no clock tick) counts as 1 ms
])
def test_next_batch(size: int, took: float, expected: int):
    assert next_batch(size, took, 5000, 50.0) == expected


def _block(table: str = "t") -> str:
    call = _keyset_backfill(table, ("id",), '"v" = "id" * 2', '"v" IS NULL', f"{table}.v")
    return ast.parse(call).body[0].value.args[0].value


def _run(url: str, settings: list[str], block: str) -> list[str]:
    engine = sa.create_engine(url)
    notices: list[str] = []
    try:
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            conn.autocommit = True
            conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
            for s in settings:
                conn.execute(s)
            conn.execute(block)
        finally:
            raw.close()
    finally:
        engine.dispose()
    return notices


@pytest.mark.postgres
def test_the_block_batches_by_the_session_settings(pg_url: str):
    run_sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, NULL FROM generate_series(1, 2000) g;")
    notices = _run(pg_url, ["SET planner.batch_rows = '7'"], _block())
    totals = [int(n.rsplit(": ", 1)[1].split()[0]) for n in notices]
    assert len(totals) == -(-2000 // 7) and totals[0] == 7 and totals[-1] == 2000  # never more than 7 a batch
    assert all(b - a <= 7 for a, b in zip(totals, totals[1:], strict=False))
    engine = sa.create_engine(pg_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM t WHERE v IS DISTINCT FROM id * 2").scalar() == 0
    engine.dispose()


@pytest.mark.postgres
def test_a_slow_batch_shrinks_the_next(pg_url: str):
    """Every batch takes longer than a 0.001 ms target: from 500 rows, halved per batch down to
    one row; without settings (the block run by hand) it starts at 500 under the defaults."""
    run_sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, NULL FROM generate_series(1, 1200) g;")
    totals = [int(n.rsplit(": ", 1)[1].split()[0]) for n in _run(pg_url, ["SET planner.batch_ms = '0.001'"], _block())]
    sizes = [b - a for a, b in zip([0, *totals], totals, strict=False)]
    assert sizes[:6] == [500, 250, 125, 62, 31, 15] and totals[-1] == 1200
    run_sql(pg_url, "UPDATE t SET v = NULL;")
    totals = [int(n.rsplit(": ", 1)[1].split()[0]) for n in _run(pg_url, [], _block())]
    assert totals[0] == 500 and totals[-1] == 1200
