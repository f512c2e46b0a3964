"""Benchmark: every pre-flight check kind against a bare full scan of the same table.

Creates a database `planner_bench` (dropped and re-created unless --reuse) holding a table
`bench` of --rows rows with a little dirt for every check (duplicates, orphans, NULLs, values
that overflow or do not cast, a used enum value, CHECK violations), builds the checks planner
writes for a realistic NEW schema, and times each count statement (best of --repeat, warm
cache) through `run_checks`, i.e. inside the same read-only transaction users get. The
baseline is `SELECT count(*) FROM bench WHERE coalesce(big, 0) <> -12345`: a full scan that
must read every row (the filter on an unindexed column defeats an index-only scan). Goal: every check within 1.5x.

    /work/venv/bin/python bench/bench_checks.py                      # PostgreSQL, 1,000,000 rows
    /work/venv/bin/python bench/bench_checks.py --dialect mysql --rows 200000

Never run by the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.checks import Check, CheckKind, CheckOutcome, build_checks, run_checks  # noqa: E402
from planner.diff import diff  # noqa: E402
from planner.load.database import load_database  # noqa: E402
from planner.model import Check as SchemaCheck  # noqa: E402
from planner.model import ForeignKey, Index, IndexPart, Schema, Table  # noqa: E402

ADMIN = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
         "mysql": "mysql+pymysql://root@127.0.0.1:3306/mysql"}
DB = "planner_bench"

PG_LOAD = """
CREATE TYPE status AS ENUM ('active', 'paused', 'left', 'legacy');
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, {parents}) g;
CREATE TABLE bench (
    id bigint PRIMARY KEY, user_id integer NOT NULL, day date NOT NULL, email text, code varchar(40),
    amount double precision, big bigint, txt text, status status, note text, old_note text, parent_id bigint,
    ref text);
INSERT INTO bench
SELECT g,
       CASE WHEN g % 100000 = 0 THEN (g - 1) % 50000 ELSE g % 50000 END,
       date '2020-01-01' + (CASE WHEN g % 100000 = 0 THEN g - 1 ELSE g END) / 50000,
       CASE WHEN g % 100000 = 0 THEN 'dup@example.com' ELSE 'user' || g || '@example.com' END,
       left(md5(g::text), CASE WHEN g % 100000 = 0 THEN 20 ELSE 8 END),
       CASE WHEN g % 200000 = 0 THEN 1e9 WHEN g % 300000 = 1 THEN 1.2345 ELSE (g % 10000) / 100.0 END,
       CASE WHEN g % 250000 = 0 THEN 5000000000 ELSE g END,
       CASE WHEN g % 100000 = 0 THEN 'n/a' ELSE g::text END,
       (CASE WHEN g % 100000 = 0 THEN 'legacy' ELSE (ARRAY['active', 'paused', 'left'])[1 + g % 3] END)::status,
       CASE WHEN g % 250000 = 0 THEN NULL ELSE 'note ' || g END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'old ' || g END,
       CASE WHEN g % 7 = 0 THEN NULL WHEN g % 50000 = 0 THEN -g ELSE g % {parents} + 1 END,
       md5(g::text)
FROM generate_series(1, {rows}) g;
CREATE INDEX bench_user_id_day_idx ON bench (user_id, day);
CREATE INDEX bench_status_idx ON bench (status);
VACUUM ANALYZE parent;
VACUUM ANALYZE bench;
"""

MY_LOAD = """
CREATE TABLE parent (id bigint PRIMARY KEY);
INSERT INTO parent SELECT seq FROM seq_1_to_{parents};
CREATE TABLE bench (
    id bigint PRIMARY KEY, user_id int NOT NULL, day date NOT NULL, email varchar(100), code varchar(40),
    amount double, big bigint, txt text, status enum('active','paused','left','legacy'), note text,
    old_note text, parent_id bigint, ref varchar(32));
INSERT INTO bench
SELECT g,
       CASE WHEN g % 100000 = 0 THEN (g - 1) % 50000 ELSE g % 50000 END,
       DATE '2020-01-01' + INTERVAL (CASE WHEN g % 100000 = 0 THEN g - 1 ELSE g END) DIV 50000 DAY,
       CASE WHEN g % 100000 = 0 THEN 'dup@example.com' ELSE CONCAT('user', g, '@example.com') END,
       LEFT(MD5(g), CASE WHEN g % 100000 = 0 THEN 20 ELSE 8 END),
       CASE WHEN g % 200000 = 0 THEN 1e9 WHEN g % 300000 = 1 THEN 1.2345 ELSE (g % 10000) / 100.0 END,
       CASE WHEN g % 250000 = 0 THEN 5000000000 ELSE g END,
       CASE WHEN g % 100000 = 0 THEN 'n/a' ELSE CAST(g AS CHAR) END,
       CASE WHEN g % 100000 = 0 THEN 'legacy' ELSE ELT(1 + g % 3, 'active', 'paused', 'left') END,
       CASE WHEN g % 250000 = 0 THEN NULL ELSE CONCAT('note ', g) END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE CONCAT('old ', g) END,
       CASE WHEN g % 7 = 0 THEN NULL WHEN g % 50000 = 0 THEN -g ELSE g % {parents} + 1 END,
       MD5(g)
FROM (SELECT seq AS g FROM seq_1_to_{rows}) s;
CREATE INDEX bench_user_id_day_idx ON bench (user_id, day);
CREATE INDEX bench_status_idx ON bench (status);
ANALYZE TABLE parent, bench;
"""


def _url(dialect: str, database: str) -> str:
    return sa.make_url(ADMIN[dialect]).set(database=database).render_as_string(hide_password=False)


def load(dialect: str, rows: int, reuse: bool) -> str:
    """Create and fill the benchmark database; its URL."""
    admin = sa.create_engine(ADMIN[dialect], isolation_level="AUTOCOMMIT")
    q = '"' if dialect == "postgresql" else "`"
    url = _url(dialect, DB)
    with admin.connect() as c:
        if reuse and _exists(c, dialect) and _rows(url) == rows:
            return url
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {q}{DB}{q}" + (" WITH (FORCE)" if dialect == "postgresql" else ""))
        c.exec_driver_sql(f"CREATE DATABASE {q}{DB}{q}")
    admin.dispose()
    script = (PG_LOAD if dialect == "postgresql" else MY_LOAD).format(rows=rows, parents=max(rows // 10, 1))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with engine.connect() as c:
        cur = c.connection.dbapi_connection.cursor()  # no parameters: '%' is the modulo operator
        for stmt in [s.strip() for s in script.split(";") if s.strip()]:
            cur.execute(stmt)
        cur.close()
    engine.dispose()
    print(f"loaded {rows:,} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return url


def _rows(url: str) -> int | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return c.exec_driver_sql("SELECT count(*) FROM bench").scalar_one()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _exists(conn: sa.Connection, dialect: str) -> bool:
    if dialect == "postgresql":
        return bool(conn.exec_driver_sql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'").first())
    return bool(conn.exec_driver_sql(f"SHOW DATABASES LIKE '{DB}'").first())


def target(old: Schema) -> Schema:
    """NEW: one change per check kind on `bench` (as a release would bundle them)."""
    d = old.dialect
    retype = {"code": "varchar(10)", "amount": "numeric(10,2)" if d == "postgresql" else "decimal(10,2)",
              "big": "integer" if d == "postgresql" else "int",
              "txt": "integer" if d == "postgresql" else "int"}
    if d == "mysql":
        retype["status"] = "enum('active','paused','left')"

    def edit(t: Table) -> Table:
        cols = tuple(dataclasses.replace(c, type=retype.get(c.name, c.type),
                                         nullable=c.nullable and c.name != "note")
                     for c in t.columns if c.name != "old_note")
        return dataclasses.replace(
            t, columns=cols,
            indexes=t.indexes + (Index("bench_user_id_day_key", (IndexPart("user_id"), IndexPart("day")), unique=True),
                                 Index("bench_email_key", (IndexPart("email"),), unique=True),
                                 Index("bench_ref_key", (IndexPart("ref"),), unique=True)),
            foreign_keys=(ForeignKey("bench_parent_id_fkey", ("parent_id",), "parent", ("id",)),),
            checks=(SchemaCheck("bench_amount_check", "amount >= 0"),))

    tables = tuple(edit(t) if t.name == "bench" else t for t in old.tables)
    enums = tuple(dataclasses.replace(e, values=tuple(v for v in e.values if v != "legacy")) for e in old.enums)
    return dataclasses.replace(old, tables=tables, enums=enums)


def baseline(dialect: str) -> Check:
    t = sa.table("bench", sa.column("big"))
    stmt = sa.select(sa.func.count()).select_from(t).where(sa.func.coalesce(t.c.big, 0) != -12345)
    return Check("baseline", CheckKind.DATA_LOSS, "bench", (), False, "full scan of bench", "-",
                 statement=stmt)


def label(c: Check) -> str:
    what = c.description.split(":")[0].split(" (")[0]
    if c.kind == CheckKind.DUPLICATES:
        what += f" ({', '.join(c.columns)})"
    return f"{c.kind.value:<15} {c.change_id.split(':', 1)[0]:<18} {what}"[:90]


def best(runs: list[list[CheckOutcome]], i: int) -> float:
    return min(r[i].elapsed_s for r in runs)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def measure(url: str, checks: list[Check], repeat: int) -> tuple[list[float], list[CheckOutcome], float, float]:
    """Best of `repeat`, runs alternating: the baseline scan and each check on its own (count
    only), then all checks as `planner check` runs them (shared scans). Returns each check's
    time alone, the outcomes of the shared run, the shared scans' time, the whole run's time."""
    alone: list[list[float]] = [[] for _ in checks]
    shared_runs: list[list[CheckOutcome]] = []
    for _ in range(repeat):
        for i, c in enumerate(checks):
            alone[i].append(run_checks([c], url, timeout_s=1200, sample=0)[0].elapsed_s)
        shared_runs.append(run_checks(checks[1:], url, timeout_s=1200, sample=0))
    scans = min(sum(o.elapsed_s for o in r if o.shared > 1) for r in shared_runs)
    whole = min(sum(o.elapsed_s for o in r) for r in shared_runs)
    return [min(t) for t in alone], shared_runs[0], scans, whole


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialect", choices=["postgresql", "mysql"], default="postgresql")
    p.add_argument("--rows", type=int, default=None, help="rows in bench (default 1,000,000; MySQL 200,000)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--reuse", action="store_true", help="keep an existing planner_bench database of that size")
    p.add_argument("--out", type=Path, help="write the table as a section of this Markdown file (bench/RESULTS.md)")
    args = p.parse_args()
    rows = args.rows or (1_000_000 if args.dialect == "postgresql" else 200_000)
    url = load(args.dialect, rows, args.reuse)
    old = load_database(url).schema
    new = target(old)
    checks = build_checks(diff(old, new), old, new, args.dialect,
                          server_version=_pg_major(url) if args.dialect == "postgresql" else None)
    before = load_average()
    started = time.perf_counter()
    alone, outcomes, scans, whole = measure(url, [baseline(args.dialect), *checks], args.repeat)
    wall = time.perf_counter() - started
    base = alone[0]
    server = _server(url)
    head = (f"{server} · {rows:,} rows · best of {args.repeat} · load average {before} before, "
            f"{load_average()} after ({wall:.0f} s)")
    lines = ["| check | change | found | alone s | x scan | in run |", "|---|---|---:|---:|---:|---|",
             f"| baseline: full scan | | | {base:.3f} | 1.00 | |"]
    print(f"\n{head}")
    print(f"{'check':<90} {'found':>9} {'alone s':>8} {'x scan':>7}  in run")
    print(f"{'baseline: full scan of bench':<90} {'':>9} {base:8.3f} {1:7.2f}")
    worst = 0.0
    for c, t, o in zip(checks, alone[1:], outcomes, strict=True):
        found = "ERR" if o.error else f"{o.count:,}"
        how = f"shared scan ({o.shared})" if o.shared > 1 else "own statement"
        worst = max(worst, t / base)
        print(f"{label(c):<90} {found:>9} {t:8.3f} {t / base:7.2f}  {how}")
        if o.error:
            print(f"    error: {o.error}")
        what = c.description.split(":")[0].split(" (")[0]
        if c.kind == CheckKind.DUPLICATES:
            what += f" ({', '.join(c.columns)}{', indexed' if _indexed(old, c) else ', no index'})"
        what = what.replace("|", "\\|")
        lines.append(f"| {c.kind.value}: {what} | {c.change_id.split(':', 1)[0]} | {found} | {t:.3f} | "
                     f"{t / base:.2f} | {how} |")
    n_shared = sum(o.shared > 1 for o in outcomes)
    summary = [f"worst check alone: {worst:.2f}x the scan (goal <= 1.5x)"]
    if n_shared:
        summary.append(f"shared scan: {n_shared} checks counted in one statement in {scans:.3f} s = "
                       f"{scans / base:.2f}x the scan (alone they take {sum(t for t, o in zip(alone[1:], outcomes, strict=True) if o.shared > 1):.3f} s)")
    summary.append(f"all {len(checks)} checks as `planner check` runs them (counts, no samples): {whole:.3f} s = "
                   f"{whole / base:.1f}x the scan")
    for line in summary:
        print(line)
    if args.out:
        from results import replace_section

        text = "\n".join([f"#### {head}", "", *lines, "", *[f"- {x}" for x in summary]])
        replace_section(args.out, f"checks-{args.dialect}-{rows}", text)


def _indexed(old: Schema, c: Check) -> bool:
    """An index of the table starts with the key's columns (the check reads it in order)."""
    t = old.table(c.table)
    keys = [i.columns for i in t.indexes] + ([t.primary_key.columns] if t.primary_key else [])
    return any(set(k[:len(c.columns)]) == set(c.columns) for k in keys)


def _server(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        text = c.exec_driver_sql("SELECT version()").scalar_one()
    engine.dispose()
    if "MariaDB" in text:
        return "MariaDB " + text.split("-")[0]
    return " ".join(text.split()[:2])


def _pg_major(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        version = c.dialect.server_version_info[0]
    engine.dispose()
    return version


if __name__ == "__main__":
    main()
