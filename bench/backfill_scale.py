"""int -> bigint on a PostgreSQL table of N rows: the planner's staged revisions (R8: new
column, trigger, keyset backfill, swap) next to the naive `ALTER COLUMN TYPE`: the
wall time of each revision (`alembic upgrade +1`, Alembic's start counted once in the total),
for several sizes (is the backfill linear?).

    python bench/backfill_scale.py --rows 1000000 4000000 [--repeat 3] [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

With --repeat N each size is measured N times (planner and the naive ALTER alternating, each on
a fresh copy) and the medians are printed after the single runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

OLD = "CREATE TABLE users (id int PRIMARY KEY, email text, org_id int, nick text);\n"
NEW = "CREATE TABLE users (id int PRIMARY KEY, email text, org_id bigint, nick text);\n"


def _db(admin: sa.Engine, rows: int) -> str:
    name = f"planner_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.url.set(database=name)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(OLD)
        c.exec_driver_sql(f"INSERT INTO users SELECT g, 'user' || g || '@example.com', mod(g, 1000), 'n' "
                          f"FROM generate_series(1, {rows}) g")
        c.exec_driver_sql("VACUUM ANALYZE users")
        # start every run from a clean table: no dirty pages of the load left for a checkpoint
        # to write in the middle of the timed work
        c.exec_driver_sql("CHECKPOINT")
    engine.dispose()
    return url.render_as_string(hide_password=False)


def _drop(admin: sa.Engine, url: str) -> None:
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')


def run(admin_url: str, sizes: list[int]) -> list[tuple[int, float, float]]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "old.sql").write_text(OLD)
        (Path(tmp) / "new.sql").write_text(NEW)
        subprocess.run([sys.executable, "-m", "planner", "plan", f"{tmp}/old.sql", f"{tmp}/new.sql", "--init",
                        f"{tmp}/p", "-q", "--rev-id-seed", "bench"], check=True, capture_output=True)
        for rows in sizes:
            url = _db(admin, rows)
            alembic = [sys.executable, "-m", "alembic", "-c", f"{tmp}/p/alembic.ini", "-x", f"db={url}"]
            try:
                # what any migration run through Alembic pays before its first statement
                t0 = time.monotonic()
                subprocess.run([*alembic, "current"], check=True, capture_output=True)
                start = time.monotonic() - t0
                # the three revisions one by one (expand, backfill, contract): the backfill's own
                # time is what must grow linearly; the total counts Alembic's start once, as one
                # `upgrade head` pays it
                steps = []
                for _ in range(3):
                    t0 = time.monotonic()
                    subprocess.run([*alembic, "upgrade", "+1"], check=True, capture_output=True)
                    steps.append(time.monotonic() - t0)
                planned = sum(steps) - 2 * start
                backfill = steps[1] - start
            finally:
                _drop(admin, url)
            url = _db(admin, rows)
            try:
                engine = sa.create_engine(url)
                t0 = time.monotonic()
                with engine.begin() as c:
                    c.exec_driver_sql("ALTER TABLE users ALTER COLUMN org_id TYPE bigint")
                naive = time.monotonic() - t0
                engine.dispose()
            finally:
                _drop(admin, url)
            out.append((rows, planned, naive, backfill, start))
            print(f"{rows:>10,} rows  planner {planned:7.1f} s (of which starting Alembic {start:.1f} s; "
                  f"expand {steps[0] - start:.1f} s, backfill {backfill:.1f} s, contract {steps[2] - start:.1f} s)  "
                  f"naive ALTER {naive:6.1f} s  {_ratios(planned, naive, start)}", flush=True)
    return out


def _ratios(planned: float, naive: float, start: float) -> str:
    """Like for like: the revisions' work against the ALTER (neither pays Alembic's start),
    and both run through Alembic (each pays it once); the first ratio of earlier runs divided
    the planner's time with the start by the ALTER's without it."""
    return (f"ratio {(planned - start) / naive:4.1f}x (work against work), "
            f"{planned / (naive + start):4.1f}x (both through Alembic)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000])
    p.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--repeat", type=int, default=1, help="measure each size N times; medians at the end")
    a = p.parse_args()
    rounds = [run(a.url, a.rows) for _ in range(a.repeat)]
    results = [tuple(statistics.median(r[i][k] for r in rounds) for k in range(5)) for i in range(len(a.rows))]
    if a.repeat > 1:
        print(f"medians of {a.repeat} runs:")
        for i, (rows, planned, naive, backfill, start) in enumerate(results):
            # the ratios are medians of each run's ratio (a run's planner and ALTER share its moment)
            work = statistics.median((r[i][1] - r[i][4]) / r[i][2] for r in rounds)
            both = statistics.median(r[i][1] / (r[i][2] + r[i][4]) for r in rounds)
            print(f"{int(rows):>10,} rows  planner {planned:7.1f} s (backfill {backfill:.1f} s, starting "
                  f"Alembic {start:.1f} s)  naive ALTER {naive:6.1f} s  ratio {work:4.1f}x (work against work), "
                  f"{both:4.1f}x (both through Alembic)", flush=True)
    if len(results) > 1:
        (r0, p0, n0, b0, _), (r1, p1, n1, b1, _) = results[0], results[-1]
        print(f"for {r1 / r0:.0f}x the rows: the backfill grows {b1 / b0:.2f}x, planner's whole upgrade "
              f"{p1 / p0:.2f}x, the naive ALTER {n1 / n0:.2f}x")


if __name__ == "__main__":
    main()
