"""A NOT NULL backfill on a MySQL/MariaDB table of N rows: planner's batched backfill revision
next to the naive `UPDATE ... WHERE col IS NULL` + `ALTER TABLE ... MODIFY ... NOT NULL`: the
wall time of each revision (`alembic upgrade +1`), for several sizes (is the backfill linear?).

    python bench/mysql_backfill_scale.py --rows 250000 1000000 [--url mysql+pymysql://root@127.0.0.1:3306/]

Before 2026-12-06 the batches were `UPDATE ... WHERE note IS NULL ORDER BY id LIMIT n`,
repeated: each read (and locked) again every row done before it. They walk the primary key now
(the runtime's `keyset`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

OLD = "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(80) NOT NULL, note VARCHAR(40) NULL);\n"
NEW = OLD.replace("note VARCHAR(40) NULL", "note VARCHAR(40) NOT NULL")
FILL = "concat('n-', id)"


def _db(admin: sa.Engine, rows: int) -> str:
    name = f"planner_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}`")
    url = admin.url.set(database=name)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(OLD)
        c.exec_driver_sql(f"INSERT INTO users (id, email) SELECT seq, concat('user', seq, '@example.com') "
                          f"FROM seq_1_to_{rows}")  # MariaDB's sequence engine
        c.exec_driver_sql("ANALYZE TABLE users")
    engine.dispose()
    return url.render_as_string(hide_password=False)


def _drop(admin: sa.Engine, url: str) -> None:
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{sa.make_url(url).database}`")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000])
    ap.add_argument("--url", default="mysql+pymysql://root@127.0.0.1:3306/")
    args = ap.parse_args()
    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "old.sql").write_text(OLD)
        (Path(tmp) / "new.sql").write_text(NEW)
        (Path(tmp) / "planner.toml").write_text(f'[backfill]\n"users.note" = "{FILL}"\n')
        subprocess.run([sys.executable, "-m", "planner", "plan", f"{tmp}/old.sql", f"{tmp}/new.sql", "--dialect",
                        "mysql", "--config", f"{tmp}/planner.toml", "--init", f"{tmp}/p", "-q", "--rev-id-seed",
                        "bench"], check=True, capture_output=True)
        revisions = len(list(Path(tmp, "p", "migrations", "versions").glob("*.py")))
        for rows in args.rows:
            url = _db(admin, rows)
            times = []
            try:
                for _ in range(revisions):
                    t0 = time.monotonic()
                    subprocess.run([sys.executable, "-m", "alembic", "-c", f"{tmp}/p/alembic.ini", "-x", f"db={url}",
                                    "upgrade", "+1"], check=True, capture_output=True)
                    times.append(time.monotonic() - t0)
            finally:
                _drop(admin, url)
            url = _db(admin, rows)
            try:
                engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
                with engine.connect() as c:
                    t0 = time.monotonic()
                    c.exec_driver_sql(f"UPDATE users SET note = {FILL} WHERE note IS NULL")
                    c.exec_driver_sql("ALTER TABLE users MODIFY note VARCHAR(40) NOT NULL")
                    naive = time.monotonic() - t0
                engine.dispose()
            finally:
                _drop(admin, url)
            results.append((rows, times, naive))
            print(f"{rows:>10,} rows: planner revisions " + " + ".join(f"{t:.1f}" for t in times)
                  + f" = {sum(times):.1f} s; naive UPDATE + MODIFY {naive:.1f} s", flush=True)
    if len(results) > 1:
        (r1, t1, n1), (r2, t2, n2) = results[0], results[-1]
        print(f"growth for {r2 / r1:.0f}x the rows: planner {sum(t2) / sum(t1):.2f}x, naive {n2 / n1:.2f}x")


if __name__ == "__main__":
    main()
