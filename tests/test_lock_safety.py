"""Revisions under a live application (issue 10): an application transaction held open while
`alembic upgrade` runs. The migration waits or retries and completes; online steps never
wait under a strong lock, and a strong-lock step waits under an earlier one's lock for
second_lock_timeout at most (sampled from pg_locks)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.postgres

OLD = """CREATE TABLE orgs (id int PRIMARY KEY, name text);
CREATE TABLE users (id int PRIMARY KEY, email text, org_id int);
"""
STRONG = ("AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock")


def _project(tmp_path: Path, new: str, *options: str, old: str = OLD) -> Path:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                 "--init", str(tmp_path / "p"), "--rev-id-seed", "t", "-q", *options])
    assert r.exit_code == 0, r.output
    return tmp_path / "p" / "alembic.ini"


def _seed(url: str) -> sa.Engine:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO orgs VALUES (1, 'a')")
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' || g, 1 FROM generate_series(1, 20000) g")
    return engine


def _hold(engine: sa.Engine, sql: str, seconds: float, started: threading.Event) -> threading.Thread:
    """An application transaction: runs `sql`, then stays open `seconds`."""
    def run() -> None:
        with engine.connect() as c:
            c.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            c.exec_driver_sql(sql)
            started.set()
            time.sleep(seconds)
            c.exec_driver_sql("COMMIT")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert started.wait(10)
    return t


class _LockSampler:
    """Samples pg_locks every 10 ms: a migration backend that waits for a lock while it holds
    a strong one is a violation."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.stop, self.violations, self.samples = engine, threading.Event(), [], 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        # table locks only: a row wait also holds a tuple lock (locktype 'tuple', ExclusiveLock
        # on the table's row), which blocks no one but writers of that row
        sql = ("SELECT l.pid, l.mode, l.granted, CASE WHEN l.locktype = 'relation' THEN "
               "l.relation::regclass::text END AS rel FROM pg_locks l "
               "JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'planner_migration' "
               "AND a.datname = current_database()")  # (not another test's migration)
        with self.engine.connect() as c:
            while not self.stop.is_set():
                rows = c.exec_driver_sql(sql).fetchall()
                self.samples += 1
                for pid in {r.pid for r in rows}:
                    mine = [r for r in rows if r.pid == pid]
                    # (a relation shown by number is one the migration's open transaction
                    # created, alembic_version on a first run: no other session can see it,
                    # so nothing can wait behind it)
                    held = [r for r in mine if r.granted and r.mode in STRONG and r.rel and not r.rel.isdigit()]
                    if held and any(not r.granted for r in mine):
                        self.violations.append((time.monotonic(), [(r.mode, r.rel, r.granted) for r in mine]))
                time.sleep(0.01)

    def longest_wait_holding(self, tables: tuple[str, ...] | None = None) -> float:
        """The longest stretch of consecutive samples that saw a wait under a strong lock (on
        one of `tables`, when given)."""
        longest, start, last = 0.0, None, None
        for at, locks in self.violations:
            if tables and not any(granted and mode in STRONG and rel in tables for mode, rel, granted in locks):
                continue
            if last is None or at - last > 0.1:
                start = at
            last = at
            longest = max(longest, at - start)
        return longest

    def __enter__(self) -> _LockSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _alembic(command: str, ini: Path, url: str, *x: str) -> subprocess.CompletedProcess:
    """`alembic upgrade head` / `downgrade base` as the migration session the samplers watch."""
    db = sa.make_url(url).update_query_dict({"application_name": "planner_migration"})
    args = [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db.render_as_string(hide_password=False)}"]
    for a in x:
        args += ["-x", a]
    target = "head" if command == "upgrade" else "base"
    return subprocess.run([*args, command, target], capture_output=True, text=True, timeout=300)


def _upgrade(ini: Path, url: str, *x: str) -> subprocess.CompletedProcess:
    return _alembic("upgrade", ini, url, *x)


def test_index_builds_wait_for_an_old_transaction(tmp_path: Path, pg_url: str):
    """CREATE INDEX CONCURRENTLY waits for a REPEATABLE READ transaction open longer than the
    lock timeout (it used to fail after building the whole index, leaving it INVALID)."""
    ini = _project(tmp_path, OLD.replace("email text", "email text UNIQUE") +
                   "CREATE INDEX users_org_idx ON users (org_id);\n")
    engine = _seed(pg_url)
    held = _hold(engine, "SELECT count(*) FROM orgs", 3, threading.Event())
    with _LockSampler(engine) as sampler:
        t0 = time.monotonic()
        r = _upgrade(ini, pg_url, "lock_timeout=200ms", "progress_every=0.5")
        took = time.monotonic() - t0
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert took > 2  # it waited for the old transaction instead of failing at 200 ms
    # while it waited it said what for: the build's phase and the session it waits out
    waits = [ln for ln in r.stderr.splitlines() if ln.startswith("planner: ") and "CREATE INDEX CONCURRENTLY" in ln]
    assert any("phase: waiting for old snapshots" in ln and "waiting for pid" in ln
               and "SELECT count(*) FROM orgs" in ln for ln in waits), r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_index WHERE NOT indisvalid").scalar() == 0
        names = {n for (n,) in c.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")}
    assert {"users_org_idx", "users_email_key"} <= names
    assert sampler.samples > 10 and sampler.violations == []


def test_constraint_retries_and_never_waits_holding_a_lock(tmp_path: Path, pg_url: str):
    """A writer keeps `orgs` locked (ROW EXCLUSIVE) for 3 s while the expand revision adds a
    column to `users` (ACCESS EXCLUSIVE) and then a foreign key to `orgs` (SHARE ROW EXCLUSIVE):
    the FK step times out while the column step holds its lock, so the revision rolls back
    whole and runs again after a pause, locking `orgs` first; it completes. The FK step, waiting while the column
    step's lock is held, waits only second_lock_timeout (100 ms), not the lock timeout (1 s):
    every writer of `users` waits with it."""
    new = ("CREATE TABLE orgs (id int PRIMARY KEY, name text);\n"
           "CREATE TABLE users (id int PRIMARY KEY, email text, org_id int REFERENCES orgs (id), note text);\n")
    ini = _project(tmp_path, new)
    engine = _seed(pg_url)
    held = _hold(engine, "UPDATE orgs SET name = 'b'", 3, threading.Event())
    with _LockSampler(engine) as sampler:
        r = _upgrade(ini, pg_url, "lock_timeout=1s")
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert "retrying in" in r.stderr  # the whole revision was rolled back and run again
    assert "planner: planner:" not in r.stderr, r.stderr[-2000:]  # said once
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_org_id_fkey' "
                                 "AND convalidated").scalar() == 1
    assert sampler.samples > 10 and sampler.violations, "the later step never waited: nothing measured"
    # (the first revision's transaction also holds ACCESS EXCLUSIVE on the alembic_version it
    # creates, invisible to every other session until it commits: no one can wait for it)
    assert sampler.longest_wait_holding(("users", "orgs")) < 0.1 + 0.15, sampler.violations[:3]
    # run again, the revision locks orgs first (the table its FK step waited for), waiting
    # while it holds nothing: one rolled-back run, not one per pause until orgs is free
    assert r.stderr.count("retrying in") == 1, r.stderr[-2000:]


def test_foreign_key_locks_the_referenced_table_first(tmp_path: Path, pg_url: str):
    """ADD FOREIGN KEY locks `users` and `orgs` in one statement: with `orgs` held by an open
    transaction it used to wait for `orgs` holding SHARE ROW EXCLUSIVE on `users` (every writer
    of `users` queued behind it for a whole lock timeout per attempt). The step locks `orgs`
    first, holding nothing else while it waits, then `users` within the short second timeout."""
    ini = _project(tmp_path, OLD.replace("org_id int", "org_id int REFERENCES orgs (id)"))
    engine = _seed(pg_url)
    held = _hold(engine, "UPDATE orgs SET name = 'b'", 2, threading.Event())
    with _LockSampler(engine) as sampler:
        t0 = time.monotonic()
        r = _upgrade(ini, pg_url, "lock_timeout=500ms")
        took = time.monotonic() - t0
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert took > 1.5  # it did wait for orgs (timed out, paused, tried again)
    strong = [(at, [x for x in locks if x[2] and x[0] in STRONG]) for at, locks in sampler.violations]
    # (the first revision's transaction creates alembic_version: ACCESS EXCLUSIVE on that new,
    # still invisible table, which no other session can want)
    assert sampler.samples > 20 and [v for v in strong if any(x[1] in ("users", "orgs") for x in v[1])] == [], \
        strong[:3]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_org_id_fkey' "
                                 "AND convalidated").scalar() == 1


def test_gives_up_naming_the_blocker(tmp_path: Path, pg_url: str):
    """Bounded: with 2 attempts the migration stops, naming the session that blocks it, and
    leaves nothing of the revision behind."""
    new = OLD.replace("org_id int", "org_id int REFERENCES orgs (id)")
    ini = _project(tmp_path, new)
    engine = _seed(pg_url)
    held = _hold(engine, "UPDATE orgs SET name = 'b'", 8, threading.Event())
    r = _upgrade(ini, pg_url, "lock_timeout=100ms", "lock_retries=2")
    held.join()
    assert r.returncode != 0
    assert "planner: lock timeout" in r.stderr and "UPDATE orgs" in r.stderr, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_org_id_fkey'").scalar() == 0


def test_rename_waits_behind_an_open_transaction(tmp_path: Path, pg_url: str):
    """A column rename while an application transaction that read `users` stays open 3 s:
    the rename's ACCESS EXCLUSIVE times out (200 ms) and is retried outside any strong lock
    until the transaction ends; the migration completes and never waits holding a strong lock
    longer than one lock timeout."""
    new = OLD.replace("email text", "email_address text")
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q", "--rename", "users.email=email_address"])
    assert r.exit_code == 0, r.output
    engine = _seed(pg_url)
    held = _hold(engine, "SELECT count(*) FROM users", 3, threading.Event())
    with _LockSampler(engine) as sampler:
        t0 = time.monotonic()
        r = _upgrade(tmp_path / "p" / "alembic.ini", pg_url, "lock_timeout=200ms")
        took = time.monotonic() - t0
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert took > 1.5  # it waited for the transaction (retries with backoff), then renamed
    with engine.connect() as c:
        cols = {n for (n,) in c.exec_driver_sql("SELECT column_name FROM information_schema.columns "
                                                "WHERE table_name = 'users'")}
        assert "email_address" in cols and "email" not in cols
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE email_address IS NULL").scalar() == 0
    assert sampler.samples > 10
    assert sampler.longest_wait_holding() < 0.2 + 0.15, sampler.violations[:3]


def test_rename_contract_locks_the_referenced_table_first(tmp_path: Path, pg_url: str):
    """The contract of a column rename drops the old column, and with it its foreign key: that
    takes ACCESS EXCLUSIVE on the referenced table too. With `orgs` held by an open
    transaction the drop used to wait for `orgs` holding ACCESS EXCLUSIVE on `users`; now it
    locks `orgs` first, holding nothing. The downgrade re-adds the key after the column comes
    back (a later step of its transaction): it waits at most second_lock_timeout for `orgs`."""
    old = OLD.replace("org_id int", "org_id int CONSTRAINT users_org_fkey REFERENCES orgs (id)")
    ini = _project(tmp_path, old.replace("org_id int", "team_id int"), "--rename", "users.org_id=team_id", old=old)
    engine = _seed(pg_url)
    with engine.connect() as c:
        c.exec_driver_sql("ALTER TABLE users ADD CONSTRAINT users_org_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)")
    db = sa.make_url(pg_url).update_query_dict({"application_name": "planner_migration"})
    alembic = [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db.render_as_string(hide_password=False)}",
               "-x", "lock_timeout=500ms"]
    r = subprocess.run([*alembic, "upgrade", "+2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for step in ("upgrade head", "downgrade -1"):
        held = _hold(engine, "UPDATE orgs SET name = 'b'", 2, threading.Event())
        with _LockSampler(engine) as sampler:
            t0 = time.monotonic()
            r = subprocess.run([*alembic, *step.split()], capture_output=True, text=True, timeout=300)
            took = time.monotonic() - t0
        held.join()
        assert r.returncode == 0, (step, r.stderr[-2000:])
        assert took > 1.5, step  # it did wait for orgs
        strong = [(at, [x for x in locks if x[2] and x[0] in STRONG]) for at, locks in sampler.violations]
        waits = [v for v in strong if any(x[1] in ("users", "orgs") for x in v[1])]
        if step == "upgrade head":
            assert sampler.samples > 20 and waits == [], (step, waits[:3])
        else:  # the key comes back after the column, in a later step: it waits second_lock_timeout at most
            assert sampler.samples > 20 and sampler.longest_wait_holding() < 0.1 + 0.15, waits[:3]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_org_fkey' "
                                 "AND convalidated").scalar() == 1
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE org_id = 1").scalar() == 20000


ENUM_OLD = """CREATE TYPE mood AS ENUM ('ok', 'sad', 'happy');
CREATE TABLE users (id int PRIMARY KEY, mood mood NOT NULL DEFAULT 'sad', moods mood[]);
CREATE INDEX users_mood_idx ON users (mood);
"""
SNAPSHOT = "SELECT id, mood::text, moods::text FROM users ORDER BY id"


def _seed_enum(url: str, rows: int) -> sa.Engine:
    """ENUM_OLD with `rows` users, a third of them 'sad'."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in ENUM_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO users SELECT g, (ARRAY['ok', 'sad', 'happy'])[1 + mod(g, 3)]::mood, "
                          f"ARRAY['sad', 'ok']::mood[] FROM generate_series(1, {rows}) g")
    return engine


def test_enum_value_rename_rewrites_no_table(tmp_path: Path, pg_url: str):
    """The contract of an enum value rename recreates the type without the old value: its
    columns take R8's route to the new type (shadow column, trigger, keyset backfill, short
    swap) instead of an ALTER ... TYPE that rewrites the table under ACCESS EXCLUSIVE. The
    table's file (relfilenode) stays the same through the whole upgrade, and no migration
    step holds ACCESS EXCLUSIVE on it for longer than a short swap."""
    new = ENUM_OLD.replace("sad", "blue")
    (tmp_path / "old.sql").write_text(ENUM_OLD)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q", "--rename", "mood.sad=blue"])
    assert r.exit_code == 0, r.output
    engine = _seed_enum(pg_url, 60000)
    with engine.connect() as c:
        before = c.exec_driver_sql("SELECT relfilenode FROM pg_class WHERE relname = 'users'").scalar()
        snapshot = c.exec_driver_sql(SNAPSHOT).all()
    with _LockSampler(engine) as sampler:
        r = _upgrade(tmp_path / "p" / "alembic.ini", pg_url, "lock_timeout=200ms")
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT relfilenode FROM pg_class WHERE relname = 'users'").scalar() == before
        assert c.exec_driver_sql("SELECT enum_range(NULL::mood)::text").scalar() == "{ok,blue,happy}"
        counts = c.exec_driver_sql("SELECT mood::text, count(*) FROM users GROUP BY 1 ORDER BY 1").all()
        assert [tuple(x) for x in counts] == [("blue", 20000), ("happy", 20000), ("ok", 20000)]
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE moods::text <> '{blue,ok}'").scalar() == 0
        c.exec_driver_sql("INSERT INTO users (id) VALUES (0)")  # the default holds the renamed value
        assert c.exec_driver_sql("SELECT mood::text FROM users WHERE id = 0").scalar() == "blue"
        assert c.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'users_mood_idx'").scalar() \
            == "CREATE INDEX users_mood_idx ON public.users USING btree (mood)"
        assert c.exec_driver_sql("SELECT count(*) FROM pg_type WHERE strpos(typname, 'planner') > 0").scalar() == 0
        c.exec_driver_sql("DELETE FROM users WHERE id = 0")
    assert sampler.samples > 10
    db = sa.make_url(pg_url).render_as_string(hide_password=False)
    r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"), "-x", f"db={db}",
                        "downgrade", "base"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:  # the downgrade gives back OLD's type, default and every row's values
        assert c.exec_driver_sql(SNAPSHOT).all() == snapshot
        assert c.exec_driver_sql("SELECT enum_range(NULL::mood)::text").scalar() == "{ok,sad,happy}"
        assert c.exec_driver_sql("SELECT column_default FROM information_schema.columns "
                                 "WHERE table_name = 'users' AND column_name = 'mood'").scalar() == "'sad'::mood"


def test_a_backfill_batch_waits_out_a_row_lock_and_gives_up_in_one_line(tmp_path: Path, pg_url: str):
    """A backfill batch whose rows an application transaction keeps locked longer than the lock
    timeout used to die with a traceback (the batch ran under the strong-lock timeout, no
    retry). It is rolled back, waits outside any transaction and tries again smaller: with the
    transaction open 2 s it completes; with lock_retries=2 behind a 10 s one it stops with one
    line that says what to do, keeping the batches before it."""
    new = OLD.replace("org_id int", "org_id int, note text NOT NULL")
    (tmp_path / "planner.toml").write_text('[backfill]\n"users.note" = "\'none\'"\n')
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q",
                                 "--config", str(tmp_path / "planner.toml")])
    assert r.exit_code == 0, r.output
    ini = tmp_path / "p" / "alembic.ini"
    engine = _seed(pg_url)
    held = _hold(engine, "UPDATE users SET org_id = 2 WHERE id = 15000", 2, threading.Event())
    t0 = time.monotonic()
    r = _upgrade(ini, pg_url, "lock_timeout=300ms")
    took = time.monotonic() - t0
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert took > 1.5  # it waited for the row (retried), then went on
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE note = 'none'").scalar() == 20000
    db = sa.make_url(pg_url).render_as_string(hide_password=False)
    down = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db}", "downgrade", "base"],
                          capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr[-2000:]
    expand = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db}", "upgrade", "+1"],
                            capture_output=True, text=True, timeout=300)
    assert expand.returncode == 0, expand.stderr[-2000:]
    held = _hold(engine, "UPDATE users SET org_id = 2 WHERE id = 15000", 10, threading.Event())
    r = _upgrade(ini, pg_url, "lock_timeout=200ms", "lock_retries=2")
    assert r.returncode != 0
    assert "planner backfill users.note: rows of the next batch stayed locked by another transaction through 2 " \
           "attempts" in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    with engine.connect() as c:  # the batches before it are kept (idempotent: a re-run goes on)
        assert 0 < c.exec_driver_sql("SELECT count(*) FROM users WHERE note = 'none'").scalar() < 20000
    held.join()



def _hold_once(engine: sa.Engine, ready: str, sql: str, seconds: float, waited: list[float]) -> threading.Thread:
    """An application transaction started as soon as query `ready` returns true: runs `sql`
    (how long that took goes to `waited`), then stays open `seconds`."""
    def run() -> None:
        with engine.connect() as c:
            deadline = time.monotonic() + 60
            while not c.exec_driver_sql(ready).scalar() and time.monotonic() < deadline:
                time.sleep(0.002)
            c.exec_driver_sql("BEGIN")
            t0 = time.monotonic()
            c.exec_driver_sql(sql)
            waited.append(time.monotonic() - t0)
            time.sleep(seconds)
            c.exec_driver_sql("COMMIT")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _downgrade(ini: Path, url: str, *x: str) -> subprocess.CompletedProcess:
    return _alembic("downgrade", ini, url, *x)


@pytest.mark.parametrize("change", ["drop", "rename"])
def test_a_downgrade_puts_dropped_values_back_without_holding_a_lock(tmp_path: Path, pg_url: str, change: str):
    """The downgrade of a dropped (or renamed) column used to copy every value back in the
    transaction that re-added the column, holding ACCESS EXCLUSIVE on the table for the whole
    copy: every application query on the table waited for it (and the copy waited for any row
    lock under it). It re-adds the column in its own short transaction, then puts the values
    back in keyset batches outside any transaction: behind a row lock it waits holding nothing;
    given up, it stops in one line and a re-run finishes the job."""
    if change == "drop":
        ini = _project(tmp_path, OLD.replace(", email text", ""))
    else:
        ini = _project(tmp_path, OLD.replace("email text", "mail text"), "--rename", "users.email=mail")
    engine = _seed(pg_url)
    rows = 300_000
    with engine.connect() as c:
        c.exec_driver_sql(f"INSERT INTO users SELECT g, 'u' || g, 1 FROM generate_series(20001, {rows}) g")
    assert _upgrade(ini, pg_url).returncode == 0
    with engine.connect() as c:  # NEW writes a row (without the column, or under its new name)
        if change == "drop":
            c.exec_driver_sql(f"INSERT INTO users (id, org_id) VALUES ({rows + 1}, 1)")
        else:
            c.exec_driver_sql(f"INSERT INTO users (id, org_id, mail) VALUES ({rows + 1}, 1, 'new')")
    # the application writes the last row as soon as the downgrade holds its strong lock (or
    # the column is back), and keeps the row locked 2 s
    ready = ("SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE a.application_name = 'planner_migration' AND a.datname = current_database() "
             "AND l.mode = 'AccessExclusiveLock' AND l.granted AND l.relation = 'users'::regclass) OR EXISTS (SELECT FROM "
             "information_schema.columns WHERE table_name = 'users' AND column_name = 'email')")
    waited: list[float] = []
    held = _hold_once(engine, ready, f"UPDATE users SET org_id = 2 WHERE id = {rows}", 2, waited)
    with _LockSampler(engine) as sampler:
        down = _downgrade(ini, pg_url, "lock_timeout=300ms")
    held.join()
    assert down.returncode == 0, down.stderr[-2000:]
    assert waited and waited[0] < 0.3, waited  # not the whole copy
    assert sampler.samples > 10 and sampler.violations == [], [[x for x in v if not x[2]] for _, v in sampler.violations[:3]]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE email = 'u' || id").scalar() == rows
        assert c.exec_driver_sql(f"SELECT email FROM users WHERE id = {rows + 1}").scalar() == \
            (None if change == "drop" else "new")
        assert c.exec_driver_sql("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_schema = 'planner_backup'").scalar() == 0
    # given up behind a long row lock: one line, and a re-run of the downgrade completes it
    assert _upgrade(ini, pg_url).returncode == 0
    waited.clear()
    # (the first row: the first batch meets the lock however fast the restore runs; the last
    # one may be reached after the 8 s)
    held = _hold_once(engine, ready, "UPDATE users SET org_id = 2 WHERE id = 1", 8, waited)
    down = _downgrade(ini, pg_url, "lock_timeout=200ms", "lock_retries=2")
    assert down.returncode != 0, down.stderr[-3000:]
    assert "planner restore users.email: rows of the next batch stayed locked" in down.stderr, down.stderr[-2000:]
    assert "Traceback" not in down.stderr, down.stderr[-3000:]
    held.join()
    down = _downgrade(ini, pg_url)
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE email = 'u' || id").scalar() == rows


def test_an_enum_value_rename_backfill_downgrade_holds_no_lock(tmp_path: Path, pg_url: str):
    """The backfill's downgrade puts the old value back into the rows it remapped. The expand
    trigger would rewrite those writes to the new value, so it used to be disabled meanwhile
    (`ALTER TABLE ... DISABLE TRIGGER`: SHARE ROW EXCLUSIVE, every application write to the table
    waited for the whole restore). The restore's own session now turns the trigger off for
    itself (`planner.restoring`), in keyset batches outside any transaction."""
    ini = _project(tmp_path, ENUM_OLD.replace("sad", "blue"), "--rename", "mood.sad=blue", old=ENUM_OLD)
    engine = _seed_enum(pg_url, 300000)
    with engine.connect() as c:
        snapshot = c.exec_driver_sql(SNAPSHOT).all()
    assert _upgrade(ini, pg_url).returncode == 0
    db = sa.make_url(pg_url).update_query_dict({"application_name": "planner_migration"})
    down = [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db.render_as_string(hide_password=False)}",
            "downgrade", "-1"]
    r = subprocess.run(down, capture_output=True, text=True, timeout=300)  # the contract
    assert r.returncode == 0, r.stderr[-2000:]
    ready = ("SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE a.application_name = 'planner_migration' AND a.datname = current_database() "
             "AND l.mode IN ('ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') AND l.granted AND l.relation = 'users'::regclass) OR EXISTS "
             "(SELECT FROM pg_stat_activity WHERE application_name = 'planner_migration' "
             "AND datname = current_database() AND strpos(query, 'planner restore') > 0)")
    waited: list[float] = []
    held = _hold_once(engine, ready, "UPDATE users SET moods = moods WHERE id = 299998", 0, waited)
    r = subprocess.run(down, capture_output=True, text=True, timeout=300)  # the backfill
    held.join()
    assert r.returncode == 0, r.stderr[-2000:]
    assert waited and waited[0] < 0.3, waited  # not the whole restore
    with engine.connect() as c:  # the restored rows hold the old value again (the written one: renamed)
        # (the application's write of one of them, before or after its batch, may have renamed it)
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE mood = 'sad'").scalar() in (99999, 100000)
    r = subprocess.run([*down[:-1], "base"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(SNAPSHOT).all() == snapshot


TYPE_OLD = """CREATE TABLE users (id int PRIMARY KEY, email text, org_id int NOT NULL DEFAULT 0);
CREATE INDEX users_org_id_idx ON users (org_id);
"""


class _NewApp:
    """NEW's writes and reads while a migration runs, in autocommit: inserts rows, updates
    existing ones, reads one back. Records what failed, and the slowest statement."""

    def __init__(self, engine: sa.Engine, first_id: int, rows: int) -> None:
        self.engine, self.next_id, self.rows = engine, first_id, rows
        self.stop, self.errors, self.slowest, self.writes = threading.Event(), [], 0.0, 0
        self.inserted: list[int] = []
        self.updated: dict[int, int] = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        import random
        rng = random.Random(7)
        with self.engine.connect() as c:
            while not self.stop.is_set():
                k = rng.randrange(1, self.rows)
                value = 3_000_000 + self.writes
                for sql in (f"INSERT INTO users (id, email, org_id) VALUES ({self.next_id}, 'w', {value})",
                            f"UPDATE users SET org_id = {value} WHERE id = {k}",
                            f"SELECT org_id FROM users WHERE id = {k}"):
                    t0 = time.monotonic()
                    try:
                        got = c.exec_driver_sql(sql)
                        if sql.startswith("SELECT") and got.scalar() != value:
                            self.errors.append(f"read {k}: not what was written")
                    except sa.exc.DBAPIError as e:
                        self.errors.append(f"{sql}: {str(e.orig).splitlines()[0]}")
                    self.slowest = max(self.slowest, time.monotonic() - t0)
                self.inserted.append(self.next_id)
                self.updated[k] = value
                self.next_id += 1
                self.writes += 1
                time.sleep(0.005)

    def __enter__(self) -> _NewApp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def test_a_type_swap_downgrade_keeps_the_application_running(tmp_path: Path, pg_url: str):
    """The contract's downgrade of R8 (int -> bigint) used to rename the new column aside and
    re-add the old one empty in one short transaction, then fill it with one UPDATE of the whole
    table: in between NEW read NULL from the column, its inserts failed (the renamed column kept
    NOT NULL without its default), and its updates waited for the whole UPDATE. The way back
    now mirrors the way there: the old column comes back under a temporary name, kept in step
    by a trigger, filled in keyset batches, its indexes built concurrently and its NOT NULL
    validated online, then one short transaction swaps the names back."""
    ini = _project(tmp_path, TYPE_OLD.replace("org_id int", "org_id bigint"), old=TYPE_OLD)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    rows = 300_000
    with engine.connect() as c:
        for stmt in TYPE_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql(f"INSERT INTO users SELECT g, 'u' || g, g FROM generate_series(1, {rows}) g")
    assert _upgrade(ini, pg_url).returncode == 0
    db = sa.make_url(pg_url).update_query_dict({"application_name": "planner_migration"})
    down = [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db.render_as_string(hide_password=False)}",
            "downgrade", "-1"]
    with _LockSampler(engine) as sampler, _NewApp(engine, rows + 1, rows) as new_app:
        time.sleep(0.2)
        r = subprocess.run(down, capture_output=True, text=True, timeout=300)  # the contract
        time.sleep(0.2)
    assert r.returncode == 0, r.stderr[-2000:]
    assert new_app.writes > 20 and new_app.errors == [], new_app.errors[:5]
    assert new_app.slowest < 1.0, new_app.slowest  # never the whole fill
    assert sampler.samples > 10 and sampler.violations == [], [[x for x in v if not x[2]] for _, v in sampler.violations[:3]]
    with engine.connect() as c:
        # every row holds its value in both columns (the backfill revision's state); the
        # application's writes kept
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE org_id__planner_new IS DISTINCT FROM "
                                 "org_id::bigint").scalar() == 0
        expect = {k: v for k, v in new_app.updated.items()}
        got = dict(c.exec_driver_sql(f"SELECT id, org_id FROM users WHERE id IN ({','.join(map(str, expect))})").all())
        assert got == expect
        assert c.exec_driver_sql(f"SELECT count(*) FROM users WHERE id <= {rows} AND org_id <> id").scalar() == \
            len(expect)
        assert c.exec_driver_sql(f"SELECT count(*) FROM users WHERE id > {rows}").scalar() == len(new_app.inserted)
        indexes = c.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' "
                                    "ORDER BY 1").all()
        assert [i.indexname for i in indexes] == ["users_org_id_idx", "users_org_id_idx__planner_new", "users_pkey"]
        assert "(org_id)" in indexes[0].indexdef
        assert c.exec_driver_sql("SELECT is_nullable, column_default, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'users' AND column_name = 'org_id'").one() == ("NO", "0", "integer")
    r = subprocess.run([*down[:-1], "base"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert [x[0] for x in c.exec_driver_sql("SELECT column_name FROM information_schema.columns "
                                                "WHERE table_name = 'users' ORDER BY ordinal_position")] == \
            ["id", "email", "org_id"]


def test_a_backfill_of_a_table_without_a_key_reads_it_once(tmp_path: Path, pg_url: str):
    """A table without a primary key was backfilled by `ctid IN (SELECT ctid ... WHERE cond
    LIMIT n)` batches: each a sequential scan from the first page, reading again every row done
    before it (quadratic). It walks the table's pages now, a ctid range per batch (a TID range
    scan: no sequential scan), then one sequential pass finds any row written meanwhile."""
    old = "CREATE TABLE logs (id int, msg text);\n"
    (tmp_path / "planner.toml").write_text('[backfill]\n"logs.n" = "id * 2"\n')
    ini = _project(tmp_path, old.replace("msg text", "msg text, n int NOT NULL"), "--config",
                   str(tmp_path / "planner.toml"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO logs SELECT g, 'm' || g FROM generate_series(1, 60000) g")
        before = c.exec_driver_sql("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'logs'").scalar()
    up = _upgrade(ini, pg_url, "batch_rows=2000")
    assert up.returncode == 0, up.stderr[-2000:]
    assert "planner backfill logs.n: 60000 rows (done)" in up.stderr, up.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM logs WHERE n IS DISTINCT FROM id * 2").scalar() == 0
        c.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        time.sleep(0.6)  # the statistics of the migration's session reach the view
        after = c.exec_driver_sql("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'logs'").scalar()
    # the pass for rows written meanwhile, the NOT NULL guard, VALIDATE, ANALYZE: a few scans,
    # not one per batch (30 batches of 2,000 rows)
    assert after - before <= 6, after - before


def test_a_table_without_a_key_widens_a_column_online(tmp_path: Path, pg_url: str):
    """`int -> bigint` on a table without a primary key (a log or audit table) was converted in
    place by ALTER ... TYPE, a rewrite under ACCESS EXCLUSIVE, because R8's downgrade restores
    a backup by key. A conversion that converts back exactly needs no backup: R8 runs with the
    page walk for its batches, writers (inserts, updates of the column and of other columns,
    which move rows past the walk) go on throughout, the table is not rewritten, its index is
    built again on the new column, and the downgrade converts every value back."""
    old = "CREATE TABLE audit (at int NOT NULL, actor int NOT NULL, note text);\nCREATE INDEX audit_actor ON audit (actor);\n"
    ini = _project(tmp_path, old.replace("actor int", "actor bigint"), old=old)
    revisions = "".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert "ALTER COLUMN actor TYPE" not in revisions.replace('"', "") and "R8" in revisions
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    rows = 60_000
    with engine.connect() as c:
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql(f"INSERT INTO audit SELECT g, g * 3, 'n' FROM generate_series(1, {rows}) g")
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('audit')").scalar()
    stop, errors = threading.Event(), []
    writer = _statement_writer(engine, stop, errors, rows, 0.003, lambda n: (
        f"INSERT INTO audit (at, actor, note) VALUES ({n}, {n * 3}, 'w')",
        f"UPDATE audit SET actor = at * 3 WHERE at = {n % rows + 1}",
        f"UPDATE audit SET note = 'u{n}' WHERE at = {(n * 7) % rows + 1}"))

    _upgrade_while(engine, ini, pg_url, writer, stop)
    assert errors == [], errors[:5]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('audit')").scalar() == filenode
        assert c.exec_driver_sql("SELECT count(*) FROM audit WHERE actor IS DISTINCT FROM at::bigint * 3").scalar() == 0
        assert c.exec_driver_sql("SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = "
                                 "'audit' AND column_name = 'actor'").one() == ("bigint", "NO")
        assert c.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit'").scalar() == \
            "CREATE INDEX audit_actor ON public.audit USING btree (actor)"
        total = c.exec_driver_sql("SELECT count(*) FROM audit").scalar()
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'audit' "
                                 "AND column_name = 'actor'").scalar() == "integer"
        assert c.exec_driver_sql("SELECT count(*), count(*) FILTER (WHERE actor = at * 3) FROM audit").one() == \
            (total, total)


def _statement_writer(engine: sa.Engine, stop: threading.Event, errors: list[str], start: int, pause: float,
                      statements):  # noqa: ANN001
    """An application writer for _upgrade_while: the statements `statements(n)` gives for
    n = start + 1, start + 2 ... until `stop`, `pause` seconds apart; each failure in `errors`."""
    def writer() -> None:
        n = start
        with engine.connect() as c:
            while not stop.is_set():
                n += 1
                for sql in statements(n):
                    try:
                        c.exec_driver_sql(sql)
                    except sa.exc.DBAPIError as e:
                        errors.append(f"{sql}: {str(e.orig).splitlines()[0]}")
                time.sleep(pause)
    return writer


def _upgrade_while(engine: sa.Engine, ini: Path, url: str, writer, stop: threading.Event, *,
                   second_lock: bool = False) -> None:
    """`upgrade head` while `writer` runs in a thread (until `stop`), pg_locks sampled: it
    completes, and never waits for a lock while it holds a strong one. `second_lock`: a step
    locks two tables the writer uses (a key swap and the tables whose foreign keys reference
    the key): it may wait for the second one holding the first, up to SECOND_LOCK_TIMEOUT
    (100 ms, then it rolls back and tries again, locking that one first)."""
    t = threading.Thread(target=writer, daemon=True)
    with _LockSampler(engine) as sampler:
        t.start()
        r = _upgrade(ini, url)
        stop.set()
        t.join(10)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sampler.samples > 10
    if second_lock:
        assert sampler.longest_wait_holding() < 0.1 + 0.15, sampler.violations[:3]
    else:
        assert sampler.violations == [], [[x for x in v if not x[2]] for _, v in sampler.violations[:3]]


FK_OLD = """CREATE TABLE orgs (id int PRIMARY KEY, name text);
CREATE TABLE users (id int PRIMARY KEY, email text,
    org_id int NOT NULL CONSTRAINT users_org_fk REFERENCES orgs (id) ON DELETE CASCADE);
CREATE INDEX users_org_id_idx ON users (org_id);
"""


def test_a_foreign_key_column_changes_type_online(tmp_path: Path, pg_url: str):
    """R8 used to refuse a column a foreign key uses (`*_id int -> bigint`, the most common
    widening), so the ALTER ... TYPE rewrote the table under ACCESS EXCLUSIVE and re-checked
    every row against the referenced table inside it. The key is now added again on the new
    column NOT VALID after the backfill, validated online, and takes its name at the swap;
    the downgrade mirrors it. Writers keep going, the key is enforced throughout (an orphan
    insert fails in every phase), and it ends validated with its actions."""
    ini = _project(tmp_path, FK_OLD.replace("org_id int", "org_id bigint"), old=FK_OLD)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    rows = 100_000
    with engine.connect() as c:
        for stmt in FK_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO orgs SELECT g, 'o' || g FROM generate_series(1, 100) g")
        c.exec_driver_sql(f"INSERT INTO users SELECT g, 'u' || g, 1 + mod(g, 100) FROM generate_series(1, {rows}) g")
        # an ALTER ... TYPE rewrites the table into a new file; the swap does not
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('users')").scalar()
        c.exec_driver_sql("COMMENT ON CONSTRAINT users_org_fk ON users IS 'fk'")
        c.exec_driver_sql("COMMENT ON INDEX users_org_id_idx IS 'index'")
    comments = ("SELECT obj_description('users_org_id_idx'::regclass, 'pg_class'), obj_description("
                "(SELECT oid FROM pg_constraint WHERE conname = 'users_org_fk'), 'pg_constraint')")
    stop, errors, orphans_refused, slowest = threading.Event(), [], [0], [0.0]

    def writer() -> None:
        n = rows
        with engine.connect() as c:
            while not stop.is_set():
                n += 1
                for sql in (f"INSERT INTO users VALUES ({n}, 'w', {1 + n % 100})",
                            f"UPDATE users SET org_id = {1 + (n * 7) % 100} WHERE id = {n % rows + 1}"):
                    t0 = time.monotonic()
                    try:
                        c.exec_driver_sql(sql)
                    except sa.exc.DBAPIError as e:
                        errors.append(f"{sql}: {str(e.orig).splitlines()[0]}")
                    slowest[0] = max(slowest[0], time.monotonic() - t0)
                try:
                    c.exec_driver_sql(f"INSERT INTO users VALUES ({-n}, 'orphan', 100000)")
                except sa.exc.IntegrityError:
                    orphans_refused[0] += 1
                else:
                    errors.append(f"orphan {-n} accepted")
                time.sleep(0.005)

    _upgrade_while(engine, ini, pg_url, writer, stop)
    assert errors == [], errors[:5]
    assert orphans_refused[0] > 20 and slowest[0] < 1.0, (orphans_refused, slowest)
    fk_sql = ("SELECT conname, convalidated, confdeltype, pg_get_constraintdef(oid) FROM pg_constraint "
              "WHERE conrelid = 'users'::regclass AND contype = 'f'")
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('users')").scalar() == filenode
        assert c.exec_driver_sql(comments).one() == ("index", "fk")
        assert c.exec_driver_sql(fk_sql).all() == [
            ("users_org_fk", True, "c", "FOREIGN KEY (org_id) REFERENCES orgs(id) ON DELETE CASCADE")]
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'users' "
                                 "AND column_name = 'org_id'").scalar() == "bigint"
        c.exec_driver_sql("DELETE FROM orgs WHERE id = 1")  # the cascade goes through the new key
        assert c.exec_driver_sql("SELECT count(*) FROM users WHERE org_id = 1").scalar() == 0
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('users')").scalar() == filenode
        assert c.exec_driver_sql(comments).one() == ("index", "fk")
        assert c.exec_driver_sql(fk_sql).all() == [
            ("users_org_fk", True, "c", "FOREIGN KEY (org_id) REFERENCES orgs(id) ON DELETE CASCADE")]
        assert c.exec_driver_sql("SELECT data_type FROM information_schema.columns WHERE table_name = 'users' "
                                 "AND column_name = 'org_id'").scalar() == "integer"
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("INSERT INTO users VALUES (-1, 'orphan', 100000)")


PK_OLD = """CREATE TABLE users (id serial PRIMARY KEY, email text);
CREATE TABLE orders (id serial PRIMARY KEY,
    user_id int NOT NULL CONSTRAINT orders_user_fk REFERENCES users (id) ON DELETE CASCADE, note text);
CREATE INDEX orders_user_id_idx ON orders (user_id);
"""
PK_NEW = PK_OLD.replace("id serial PRIMARY KEY, email", "id bigserial PRIMARY KEY, email") \
    .replace("user_id int", "user_id bigint")


def test_a_serial_primary_key_widens_online(tmp_path: Path, pg_url: str):
    """`users.id serial -> bigserial` with `orders.user_id` referencing it (the widening a
    table running out of ids needs, and the one Prisma asks for as a pair) used to rewrite
    both tables in place under ACCESS EXCLUSIVE (R8 refused a primary key and a referenced
    column). Now the key column takes R8 too: a unique index built concurrently on the new
    column becomes the primary key (USING INDEX), the sequence moves to it (type, default,
    owner), the referencing key is dropped and added again NOT VALID in the swap's short
    transaction and validated online after it. Neither table is rewritten, the application's
    inserts (ids from the sequence) go on throughout, and the downgrade mirrors it."""
    ini = _project(tmp_path, PK_NEW, old=PK_OLD)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in PK_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 50000) g")
        c.exec_driver_sql("INSERT INTO orders (user_id) SELECT 1 + mod(g, 50000) FROM generate_series(1, 50000) g")
        nodes = c.exec_driver_sql("SELECT pg_relation_filenode('users'), pg_relation_filenode('orders')").one()
        # comments on what the swap drops and builds again (the model does not hold them: the
        # swap lost them, where ALTER ... TYPE keeps them)
        for obj, text in (("CONSTRAINT users_pkey ON users", "pk"), ("INDEX users_pkey", "pk index"),
                          ("CONSTRAINT orders_user_fk ON orders", "fk")):
            c.exec_driver_sql(f"COMMENT ON {obj} IS '{text}'")
    stop, errors, slowest, made = threading.Event(), [], [0.0], []

    # no server-side prepared statements: one prepared before a type change fails after it
    # ("cached plan must not change result type"), the naive ALTER's change and the swap's alike
    app = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", connect_args={"prepare_threshold": None})

    def writer() -> None:
        with app.connect() as c:
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    uid = c.exec_driver_sql("INSERT INTO users (email) VALUES ('w') RETURNING id").scalar()
                    c.exec_driver_sql(f"INSERT INTO orders (user_id) VALUES ({uid})")
                    made.append(uid)
                except sa.exc.DBAPIError as e:
                    errors.append(str(e.orig).splitlines()[0])
                slowest[0] = max(slowest[0], time.monotonic() - t0)
                time.sleep(0.005)

    _upgrade_while(engine, ini, pg_url, writer, stop, second_lock=True)  # (the key and the referencing table)
    assert errors == [] and len(made) > 20 and slowest[0] < 1.0, (errors[:5], len(made), slowest)
    comments = ("SELECT d FROM (SELECT obj_description(oid, 'pg_constraint') AS d FROM pg_constraint UNION ALL "
                "SELECT obj_description(indexrelid, 'pg_class') FROM pg_index) x WHERE d IS NOT NULL ORDER BY d")
    state = ("SELECT (SELECT data_type FROM information_schema.columns WHERE table_name = 'users' "
             "AND column_name = 'id'), (SELECT data_type FROM information_schema.columns WHERE table_name = 'orders' "
             "AND column_name = 'user_id'), pg_get_serial_sequence('users', 'id'), "
             "(SELECT data_type FROM pg_sequences WHERE sequencename = 'users_id_seq'), "
             "(SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'users_pkey'), "
             "(SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'), "
             "(SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f')")
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('users'), pg_relation_filenode('orders')").one() == nodes
        assert c.exec_driver_sql(comments).all() == [("fk",), ("pk",), ("pk index",)]
        assert c.exec_driver_sql(state).one() == ("bigint", "bigint", "public.users_id_seq", "bigint",
                                                  "PRIMARY KEY (id)", True, 1)
        # the sequence goes on where it was, and the ids of the writes are there
        uid = c.exec_driver_sql("INSERT INTO users (email) VALUES ('after') RETURNING id").scalar()
        assert uid > max(made)
        assert c.exec_driver_sql(f"SELECT count(*) FROM users WHERE id IN ({','.join(map(str, made))})").scalar() \
            == len(made)
        with pytest.raises(sa.exc.IntegrityError):  # the key and the foreign key hold
            c.exec_driver_sql(f"INSERT INTO users (id, email) VALUES ({uid}, 'dup')")
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("INSERT INTO orders (user_id) VALUES (-5)")
        c.exec_driver_sql(f"DELETE FROM users WHERE id = {made[0]}")  # the cascade goes through
        assert c.exec_driver_sql(f"SELECT count(*) FROM orders WHERE user_id = {made[0]}").scalar() == 0
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('users'), pg_relation_filenode('orders')").one() == nodes
        assert c.exec_driver_sql(comments).all() == [("fk",), ("pk",), ("pk index",)]
        assert c.exec_driver_sql(state).one() == ("integer", "integer", "public.users_id_seq", "integer",
                                                  "PRIMARY KEY (id)", True, 1)
        assert c.exec_driver_sql("INSERT INTO users (email) VALUES ('back') RETURNING id").scalar() == uid + 1


IDENTITY_OLD = """CREATE TABLE a (id int GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5 CACHE 3) PRIMARY KEY,
    v text);
CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a (id));
"""


def test_an_identity_key_widens_online_and_keeps_its_sequence(tmp_path: Path, pg_url: str):
    """An identity key (`GENERATED ALWAYS`, START/INCREMENT/CACHE of its own) takes the swap as
    well: DROP IDENTITY on the old column, the same identity (name, options) added on the new
    one and restarted where the old one stood, as the naive ALTER's keeps it; the downgrade
    mirrors it. The table is not rewritten."""
    new = IDENTITY_OLD.replace("(id int GENERATED", "(id bigint GENERATED").replace("a_id int", "a_id bigint")
    ini = _project(tmp_path, new, old=IDENTITY_OLD)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in IDENTITY_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO a (v) SELECT 'v' || g FROM generate_series(1, 1000) g")
        c.exec_driver_sql("INSERT INTO b SELECT g, 100 + 5 * mod(g, 1000) FROM generate_series(1, 1000) g")
        node = c.exec_driver_sql("SELECT pg_relation_filenode('a')").scalar()
        # restarted (after a bulk load, say): the sequence's next call has not happened yet,
        # where pg_sequence_last_value() says NULL; the first version of the swap read that and
        # let the new identity start at START again (100: a duplicate key on the next insert)
        c.exec_driver_sql("ALTER TABLE a ALTER COLUMN id RESTART WITH 7000")
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_sequence_last_value(pg_get_serial_sequence('a', 'id')::regclass)") \
            .scalar() is None
    stood = "SELECT last_value FROM a_id_seq"
    seq = ("SELECT a.attidentity, s.sequencename, s.data_type, s.start_value, s.increment_by, s.cache_size, "
           "s.max_value FROM pg_attribute a, pg_sequences s WHERE a.attrelid = 'a'::regclass AND a.attname = 'id' "
           "AND s.schemaname || '.' || s.sequencename = pg_get_serial_sequence('a', 'id')")
    r = _upgrade(ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('a')").scalar() == node
        assert c.exec_driver_sql(seq).one() == ("a", "a_id_seq", "bigint", 100, 5, 3, 9223372036854775807)
        assert c.exec_driver_sql("INSERT INTO a (v) VALUES ('next') RETURNING id").scalar() == 7000
        last = c.exec_driver_sql(stood).scalar()  # CACHE 3: this session took more than it used
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(seq).one() == ("a", "a_id_seq", "integer", 100, 5, 3, 2147483647)
        assert c.exec_driver_sql("INSERT INTO a (v) VALUES ('back') RETURNING id").scalar() == last + 5


def test_a_key_swap_with_a_percent_sign_in_the_table_name(tmp_path: Path, pg_url: str):
    """The swap hands the sequence over with format() strings; a `%` in the table's name was
    read as a format specifier (`unrecognized format() type specifier`)."""
    old = 'CREATE TABLE "order%items" (id serial CONSTRAINT order_items_pkey PRIMARY KEY, qty int);\n'
    ini = _project(tmp_path, old.replace("id serial", "id bigserial"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    raw = {"no_parameters": True}  # no DBAPI % escapes
    with engine.connect() as c:
        c.exec_driver_sql(old, execution_options=raw)
        c.exec_driver_sql('INSERT INTO "order%items" (qty) SELECT g FROM generate_series(1, 10) g',
                          execution_options=raw)
    for command in ("upgrade", "downgrade"):
        r = _alembic(command, ini, pg_url)
        assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql('INSERT INTO "order%items" (qty) VALUES (0) RETURNING id',
                                 execution_options=raw).scalar() == 11


@pytest.mark.parametrize(("old", "said"), [
    ("CREATE TABLE pos (id serial PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, n int);\n", "is DEFERRABLE"),
    ("CREATE TABLE pos (id serial, n int, CONSTRAINT pos_pkey PRIMARY KEY (id) INCLUDE (n) WITH (fillfactor = 70));\n",
     "INCLUDE columns"),
    ("CREATE TABLE pos (id serial PRIMARY KEY, n int);\nCREATE TABLE c (id int PRIMARY KEY, pos_id int);\n"
     "ALTER TABLE c ADD CONSTRAINT c_pos_fk FOREIGN KEY (pos_id) REFERENCES pos (id) NOT VALID;\n", "NOT VALID"),
], ids=["deferrable", "include", "not-valid-reference"])
def test_the_key_swap_stops_before_losing_what_the_model_does_not_hold(tmp_path: Path, pg_url: str, old: str,
                                                                       said: str):
    """The schema model holds a primary key's name and columns only: the swap built a plain
    unique index and lost DEFERRABLE, INCLUDE and storage parameters silently (verify cannot
    see them), and a referencing key that was NOT VALID made the swap's VALIDATE fail after the
    swap had committed. A guard reads the server before any DDL and stops with what to do."""
    ini = _project(tmp_path, old.replace("id serial", "id bigserial"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
    r = _upgrade(ini, pg_url)
    assert r.returncode != 0 and said in r.stderr and "no DDL was run" in r.stderr, r.stderr[-1500:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'pos'").scalar() \
            == 2


ORDER_OLD = """CREATE TABLE users (id serial PRIMARY KEY, email text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), total int);
"""


def _ordered_writers(engine: sa.Engine, statements: list[str], stop: threading.Event, errors: list[str],
                     done: list[int], n: int = 3) -> list[threading.Thread]:
    """`n` application threads, each running `statements` in one transaction (a short pause
    between them: the application works), back to back until `stop`."""
    def run() -> None:
        with engine.connect() as c:
            while not stop.is_set():
                try:
                    c.exec_driver_sql("BEGIN")
                    for i, statement in enumerate(statements):
                        if i:
                            time.sleep(0.002)
                        c.exec_driver_sql(statement)
                    c.exec_driver_sql("COMMIT")
                    done[0] += 1
                except sa.exc.DBAPIError as e:
                    c.exec_driver_sql("ROLLBACK")
                    errors.append(str(e.orig).splitlines()[0])
    threads = [threading.Thread(target=run, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def _upgrade_under_writers(engine: sa.Engine, ini: Path, url: str, statements: list[str]
                           ) -> tuple[subprocess.CompletedProcess, list[str], int]:
    """`upgrade head` while _ordered_writers run `statements`: (the run, writer errors, writer
    transactions done)."""
    stop, errors, done = threading.Event(), [], [0]
    threads = _ordered_writers(engine, statements, stop, errors, done)
    time.sleep(0.5)
    try:
        r = _upgrade(ini, url, "lock_timeout=1s")
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    return r, errors, done[0]


def test_a_revision_learns_which_table_to_lock_first(tmp_path: Path, pg_url: str):
    """The expand revision adds a column to `orders` (ACCESS EXCLUSIVE), then one to `users`,
    while the application writes a user and then an order in one transaction, back to back.
    A writer that holds `users` waits for `orders` behind the first step, so the second step
    cannot get `users`: it gives up after second_lock_timeout and the revision rolls back. Run
    again in the same order it failed the same way, run after run (defect: 3 of 9 migrations
    gave up after 8 runs). The runtime now notes the table the later step waited for and, when
    the revision runs again, locks it first (waiting while it holds nothing), so the second run
    completes."""
    new = ORDER_OLD.replace("email text", "email text, nick text").replace("total int", "total int, note text")
    ini = _project(tmp_path, new, old=ORDER_OLD)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in ORDER_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
    r, errors, done = _upgrade_under_writers(engine, ini, pg_url, [
        "INSERT INTO users (email) VALUES ('w')",
        "INSERT INTO orders (user_id, total) VALUES (currval('users_id_seq'), 1)"])
    assert r.returncode == 0, r.stderr[-2000:]
    # one run learns the table (the second step's give-up), the next one completes
    assert r.stderr.count("retrying in") <= 1, r.stderr[-2000:]
    if "retrying in" in r.stderr:  # (the writers can miss the window: then it runs once)
        # it names the table and the sessions that hold it, not every open transaction
        assert "(it locks public.users first then)" in r.stderr, r.stderr[-2000:]
        assert "sessions holding a lock on public.users: pid " in r.stderr, r.stderr[-2000:]
    assert errors == [] and done > 100, (errors[:3], done)
    with engine.connect() as c:
        cols = {n for (n,) in c.exec_driver_sql("SELECT table_name || '.' || column_name FROM "
                                                 "information_schema.columns WHERE column_name IN ('nick', 'note')")}
    assert cols == {"users.nick", "orders.note"}


def test_a_foreign_key_step_learns_the_application_order(tmp_path: Path, pg_url: str):
    """One step adds a foreign key `orders -> users`: it locks `users` first (waiting while it
    holds nothing), then `orders`. An application that updates an order and then its user in
    one transaction holds `orders` while it waits for `users` behind the step, so the step
    gives up on `orders` every time, and each retry did the same (8 attempts, then the
    migration gave up). The step now learns `orders` from the statement that waited and takes
    it first on its next attempt."""
    old = ORDER_OLD.replace("total int", "total int, buyer_id int")
    new = old.replace("buyer_id int", "buyer_id int REFERENCES users (id)")
    ini = _project(tmp_path, new, old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 100) g")
        c.exec_driver_sql("INSERT INTO orders (user_id, total, buyer_id) SELECT g, 1, g FROM generate_series(1, 100) g")
    r, errors, done = _upgrade_under_writers(engine, ini, pg_url, [
        "UPDATE orders SET total = total + 1 WHERE id = 1 + mod(txid_current(), 100)",
        "UPDATE users SET email = 'w' WHERE id = 1 + mod(txid_current(), 100)"])
    assert r.returncode == 0, r.stderr[-2000:]
    tries = [ln for ln in r.stderr.splitlines() if ln.startswith("planner: lock timeout on")]
    assert len(tries) <= 2, r.stderr[-2000:]
    assert all("(attempt " in ln and "trying again in" in ln for ln in tries), tries
    assert done > 100, (errors[:3], done)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT convalidated FROM pg_constraint WHERE conname = 'orders_buyer_id_fkey'"
                                 ).scalar() is True


def test_a_lock_wait_pauses_outside_any_transaction(tmp_path: Path, pg_url: str):
    """A strong-lock step that times out while its revision holds nothing used to be rolled
    back to a savepoint and paused inside the transaction: idle in transaction for seconds,
    keeping the ACCESS SHARE locks of its guards (any other DDL queued behind them, and every
    query behind that). With planner's env.py the whole revision rolls back and the pause is
    outside any transaction; the revision runs again and completes."""
    new = OLD.replace("org_id int", "org_id int REFERENCES orgs (id)")
    ini = _project(tmp_path, new)
    engine = _seed(pg_url)
    with engine.connect() as c:  # not the database's first revision (that one creates the table)
        c.exec_driver_sql("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    idle, stop = [0.0], threading.Event()

    def watch() -> None:
        since = None
        with engine.connect() as c:
            while not stop.is_set():
                state = c.exec_driver_sql(
                    "SELECT state FROM pg_stat_activity WHERE application_name = 'planner_migration' "
                    "AND datname = current_database()").scalar()
                now = time.monotonic()
                since = (since or now) if state == "idle in transaction" else None
                idle[0] = max(idle[0], now - since) if since else idle[0]
                time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    held = _hold(engine, "UPDATE orgs SET name = 'b'", 3, threading.Event())
    r = _upgrade(ini, pg_url, "lock_timeout=300ms")
    held.join()
    stop.set()
    watcher.join(5)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "lock timeout while waiting for public.orgs (holding nothing)" in r.stderr, r.stderr[-2000:]
    assert "retrying in" in r.stderr
    assert idle[0] < 0.2, idle  # (a pause is 0.5 s and more)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_org_id_fkey' "
                                 "AND convalidated").scalar() == 1


def test_a_commented_column_changes_type_online_and_keeps_its_comment(tmp_path: Path, pg_url: str):
    """A column with a comment used to convert in place (ALTER ... TYPE: a rewrite under ACCESS
    EXCLUSIVE), because the swap would lose the comment; the swap now gives it to the column
    that takes the name, both ways, and with it what the model does not hold and the naive
    ALTER keeps: the column's statistics target, its options (n_distinct) and its column
    privileges (an application role that may read only some columns lost the column)."""
    old = TYPE_OLD + "COMMENT ON COLUMN users.org_id IS 'the org';\n"
    ini = _project(tmp_path, old.replace("org_id int", "org_id bigint"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    role = f"planner_t_{sa.make_url(pg_url).database}"[:63]
    with engine.connect() as c:
        for stmt in old.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' || g, g FROM generate_series(1, 1000) g")
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('users')").scalar()
        c.exec_driver_sql("ALTER TABLE users ALTER COLUMN org_id SET STATISTICS 500")
        c.exec_driver_sql("ALTER TABLE users ALTER COLUMN org_id SET (n_distinct = 100)")
        c.exec_driver_sql(f'CREATE ROLE "{role}"')
        c.exec_driver_sql(f'GRANT SELECT (org_id), UPDATE (org_id) ON users TO "{role}" WITH GRANT OPTION')
    state = ("SELECT pg_relation_filenode('users'), col_description('users'::regclass, attnum) || ' ' || "
             "format_type(atttypid, NULL), attstattarget, 'n_distinct=100' = ANY(attoptions), "
             f"has_column_privilege('{role}', 'users', 'org_id', 'SELECT WITH GRANT OPTION'), "
             f"has_column_privilege('{role}', 'users', 'org_id', 'UPDATE') "
             "FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'org_id'")
    try:
        assert _upgrade(ini, pg_url).returncode == 0
        with engine.connect() as c:
            assert tuple(c.exec_driver_sql(state).one()) == (filenode, "the org bigint", 500, True,
                                                             True, True)
        r = _alembic("downgrade", ini, pg_url)
        assert r.returncode == 0, r.stderr[-2000:]
        with engine.connect() as c:
            assert tuple(c.exec_driver_sql(state).one()) == (filenode, "the org integer", 500, True,
                                                             True, True)
    finally:
        with engine.connect() as c:
            c.exec_driver_sql(f'REVOKE ALL ON users FROM "{role}" CASCADE')
            c.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


JOIN_OLD = """CREATE TABLE users (id int PRIMARY KEY, name text);
CREATE TABLE groups (id int PRIMARY KEY, title text);
CREATE TABLE memberships (user_id int NOT NULL CONSTRAINT memberships_user_fk REFERENCES users (id) ON DELETE CASCADE,
    group_id int NOT NULL CONSTRAINT memberships_group_fk REFERENCES groups (id),
    role text, CONSTRAINT memberships_pkey PRIMARY KEY (user_id, group_id));
CREATE INDEX memberships_group_user ON memberships (group_id, user_id);
CREATE TABLE badges (user_id int NOT NULL, group_id int NOT NULL, label text,
    CONSTRAINT badges_membership_fk FOREIGN KEY (user_id, group_id) REFERENCES memberships (user_id, group_id));
"""


@pytest.mark.parametrize("widened", ["pair", "every key"])
def test_a_join_tables_key_pair_widens_online(tmp_path: Path, pg_url: str, widened: str):
    """Both columns of a join table's composite primary key `int -> bigint` (the usual way to
    bigint ids, and a Prisma implicit many-to-many table's pair) were converted in place, a
    rewrite under ACCESS EXCLUSIVE: R8 swapped only a one-column key, and an index over two
    columns that both change was rebuilt by neither swap. The pair is now swapped together:
    one shadow column each, the key, the (group_id, user_id) index and the foreign keys built
    once over both new columns, one short swap; the composite foreign key of another table
    that references the key is added again NOT VALID and validated online. With `every key`,
    the referenced users.id and groups.id widen too (their swaps run after the join table's).
    Writers go on, the table is not rewritten, duplicates and orphans are refused throughout,
    and the downgrade puts integer back."""
    new = JOIN_OLD.replace("user_id int", "user_id bigint").replace("group_id int", "group_id bigint")
    if widened == "every key":
        new = new.replace("id int PRIMARY KEY", "id bigint PRIMARY KEY")
    ini = _project(tmp_path, new, old=JOIN_OLD)
    revisions = "".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert " TYPE " not in revisions and "in place" not in revisions, revisions
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    rows = 60_000
    with engine.connect() as c:
        for stmt in JOIN_OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' FROM generate_series(1, 20000) g")
        c.exec_driver_sql("INSERT INTO groups SELECT g, 'g' FROM generate_series(1, 50) g")
        c.exec_driver_sql(f"INSERT INTO memberships SELECT 1 + mod(g, 20000), 1 + g / 20000, 'm' "
                          f"FROM generate_series(0, {rows - 1}) g")
        c.exec_driver_sql("INSERT INTO badges SELECT user_id, group_id, 'b' FROM memberships WHERE user_id < 100 AND group_id = 1")
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('memberships')").scalar()
        c.exec_driver_sql("COMMENT ON INDEX memberships_group_user IS 'by group'")
    stop, errors, refused = threading.Event(), [], [0]

    def writer() -> None:
        n = 0
        with engine.connect() as c:
            while not stop.is_set():
                n += 1
                u, g = 1 + (n * 7919) % 20000, 4 + n % 40
                for sql in (f"INSERT INTO memberships (user_id, group_id, role) VALUES ({u}, {g}, 'w') ON CONFLICT DO NOTHING",
                            f"UPDATE memberships SET role = 'r{n}' WHERE user_id = {u} AND group_id = 1",
                            f"DELETE FROM memberships WHERE user_id = {1 + (n * 31) % 20000} AND group_id = 2"):
                    try:
                        c.exec_driver_sql(sql)
                    except sa.exc.DBAPIError as e:
                        errors.append(f"{sql}: {str(e.orig).splitlines()[0]}")
                for bad in ("INSERT INTO memberships (user_id, group_id, role) VALUES (1, 1, 'dup')",
                            f"INSERT INTO memberships (user_id, group_id, role) VALUES ({u}, 999, 'orphan')"):
                    try:
                        c.exec_driver_sql(bad)
                    except sa.exc.IntegrityError:
                        refused[0] += 1
                    else:
                        errors.append(f"accepted: {bad}")
                time.sleep(0.005)

    _upgrade_while(engine, ini, pg_url, writer, stop, second_lock=True)
    assert errors == [], errors[:5]
    assert refused[0] > 20, refused
    shape = ("SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid IN "
             "('memberships'::regclass, 'badges'::regclass) ORDER BY 1")
    expected = [("badges_membership_fk", True,
                 "FOREIGN KEY (user_id, group_id) REFERENCES memberships(user_id, group_id)"),
                ("memberships_group_fk", True, "FOREIGN KEY (group_id) REFERENCES groups(id)"),
                ("memberships_pkey", True, "PRIMARY KEY (user_id, group_id)"),
                ("memberships_user_fk", True, "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE")]
    types = ("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_name) FROM "
             "information_schema.columns WHERE table_name = 'memberships' AND column_name LIKE '%%id'")
    index = ("SELECT indexdef, obj_description('memberships_group_user'::regclass, 'pg_class') FROM pg_indexes "
             "WHERE indexname = 'memberships_group_user'")
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('memberships')").scalar() == filenode
        assert c.exec_driver_sql(shape).all() == expected
        assert c.exec_driver_sql(types).scalar() == "group_id bigint, user_id bigint"
        assert c.exec_driver_sql(index).one() == (
            "CREATE INDEX memberships_group_user ON public.memberships USING btree (group_id, user_id)", "by group")
        assert c.exec_driver_sql("SELECT count(*) FROM pg_index WHERE indrelid = 'memberships'::regclass").scalar() == 2
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("DELETE FROM memberships WHERE user_id = 1 AND group_id = 1")  # badges reference it
        c.exec_driver_sql("DELETE FROM users WHERE id = 20000")  # the cascade goes through the new key
        assert c.exec_driver_sql("SELECT count(*) FROM memberships WHERE user_id = 20000").scalar() == 0
        total = c.exec_driver_sql("SELECT count(*) FROM memberships").scalar()
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('memberships')").scalar() == filenode
        assert c.exec_driver_sql(shape).all() == expected
        assert c.exec_driver_sql(types).scalar() == "group_id integer, user_id integer"
        assert c.exec_driver_sql(index).one()[1] == "by group"
        assert c.exec_driver_sql("SELECT count(*) FROM memberships").scalar() == total
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("INSERT INTO memberships (user_id, group_id, role) VALUES (1, 1, 'dup')")


def test_a_downgrade_stopped_after_a_swap_went_back_runs_again(tmp_path: Path, pg_url: str):
    """A contract with two R8 swaps: the downgrade takes the second back (and commits it: the
    online builds after it run outside the transaction), then stops at the first (its guard
    finds a value that does not fit the old type; a lock wait that gave up does the same).
    Run again once that is fixed, it started over from the second's way back and failed
    (`column "w__planner_new" already exists`, or a key depending on the rebuilt primary key),
    leaving the database half downgraded. A way back that is done is skipped now, and the
    re-run completes with OLD's schema and every row."""
    old = ("CREATE TABLE a_first (id int PRIMARY KEY, v int);\n"
           "CREATE TABLE b_second (id int PRIMARY KEY, w int CONSTRAINT b_second_w_key UNIQUE, "
           "a_id int CONSTRAINT b_second_a_fk REFERENCES a_first (id));\n")
    ini = _project(tmp_path, old.replace("v int", "v bigint").replace("w int", "w bigint")
                   .replace("a_id int", "a_id bigint"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO a_first SELECT g, g * 2 FROM generate_series(1, 3000) g")
        c.exec_driver_sql("INSERT INTO b_second SELECT g, g * 3, g FROM generate_series(1, 3000) g")
    assert _upgrade(ini, pg_url).returncode == 0
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO a_first (id, v) VALUES (-1, 5000000000)")
    r = _downgrade(ini, pg_url)
    assert r.returncode != 0 and "do not fit INTEGER" in r.stderr, r.stderr[-2000:]
    types = ("SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ', ' ORDER BY table_name, "
             "column_name) FROM information_schema.columns WHERE table_schema = 'public' AND column_name <> 'id' "
             "AND table_name <> 'alembic_version'")
    with engine.connect() as c:  # the second swap went back; the first did not
        state = c.exec_driver_sql(types).scalar()
        assert "a_first.v bigint" in state and "b_second.w integer, b_second.w__planner_new bigint" in state, state
        c.exec_driver_sql("DELETE FROM a_first WHERE id = -1")
    r = _downgrade(ini, pg_url)
    assert r.returncode == 0, r.stderr[-3000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(types).scalar() == "a_first.v integer, b_second.a_id integer, b_second.w integer"
        assert c.exec_driver_sql("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                                 "'b_second'::regclass AND contype <> 'p' ORDER BY 1").all() == [
            ("b_second_a_fk", "FOREIGN KEY (a_id) REFERENCES a_first(id)"), ("b_second_w_key", "UNIQUE (w)")]
        assert c.exec_driver_sql("SELECT count(*) FROM pg_index WHERE indrelid = 'b_second'::regclass").scalar() == 2
        assert c.exec_driver_sql("SELECT count(*) FILTER (WHERE v = id * 2), count(*) FROM a_first").one() == (3000, 3000)
        assert c.exec_driver_sql("SELECT count(*) FILTER (WHERE w = id * 3 AND a_id = id) FROM b_second").scalar() == 3000
        assert c.exec_driver_sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'planner%%'").scalar() == 0


@pytest.mark.parametrize("retries", [None, 2])
def test_a_guard_read_behind_a_strong_lock_waits_and_gives_up_in_one_line(tmp_path: Path, pg_url: str,
                                                                          retries: int | None):
    """Another session holds ACCESS EXCLUSIVE on `users` (its own DDL, a VACUUM FULL) when the
    expand's duplicate guard reads it: the read timed out and Alembic printed a traceback. The
    read waits like a strong-lock step: the revision, holding nothing, is rolled back and runs
    again after a pause; bounded, it gives up in one line naming the blocker, with no DDL run."""
    ini = _project(tmp_path, OLD.replace("email text", "email text UNIQUE"))
    engine = _seed(pg_url)
    held = _hold(engine, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE", 8 if retries else 3, threading.Event())
    r = _upgrade(ini, pg_url, "lock_timeout=300ms", *([f"lock_retries={retries}"] if retries else []))
    held.join()
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert "planner: lock timeout" in r.stderr, r.stderr[-2000:]
    with engine.connect() as c:
        made = c.exec_driver_sql("SELECT count(*) FROM pg_constraint WHERE conname = 'users_email_key'").scalar()
    if retries:
        assert r.returncode != 0 and "LOCK TABLE users" in r.stderr, r.stderr[-2000:]
        assert made == 0
    else:
        assert r.returncode == 0, r.stderr[-2000:]
        assert made == 1


def test_an_enum_loses_a_value_online_on_a_table_without_a_key(tmp_path: Path, pg_url: str):
    """Removing an enum value recreates the type; a table without a primary key used to convert
    in place (ALTER ... TYPE: a rewrite under ACCESS EXCLUSIVE) because the swap's backup is
    matched back by key. Without a remap every value goes over as its label and back the same
    way: no backup is needed, the batches walk the table's pages, writers keep going (values the
    type keeps, old and new application alike), every row keeps its value, and the downgrade
    brings the type back with every row."""
    old = ("CREATE TYPE kind AS ENUM ('a', 'b', 'c');\n"
           "CREATE TABLE ev (at int, k kind NOT NULL DEFAULT 'a', ks kind[], note text);\n"
           "CREATE INDEX ev_k ON ev (k);\n")
    ini = _project(tmp_path, old.replace("'a', 'b', 'c'", "'a', 'c'"), old=old)
    text = "\n".join(p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py"))
    assert " in place" not in text and " TYPE \\\"kind__planner_new\\\" USING" not in text, text
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    rows = 30_000
    values = "SELECT at, k::text, ks::text[], note FROM ev ORDER BY at, note"
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql(f"INSERT INTO ev SELECT g, CASE WHEN mod(g, 3) = 0 THEN 'c' ELSE 'a' END::kind, "
                          f"CASE WHEN mod(g, 5) = 0 THEN NULL ELSE ARRAY['c', 'a']::kind[] END, 'n' || g "
                          f"FROM generate_series(1, {rows}) g")
        filenode = c.exec_driver_sql("SELECT pg_relation_filenode('ev')").scalar()
    stop, errors = threading.Event(), []
    writer = _statement_writer(engine, stop, errors, rows, 0.002, lambda n: (
        f"INSERT INTO ev (at, note) VALUES ({n}, 'w')",
        f"INSERT INTO ev (at, k, ks, note) VALUES ({-n}, 'c', '{{a}}', 'w')",
        f"UPDATE ev SET k = 'c', ks = '{{c,c}}' WHERE at = {n % rows + 1}"))

    _upgrade_while(engine, ini, pg_url, writer, stop)
    assert errors == [], errors[:3]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT pg_relation_filenode('ev')").scalar() == filenode
        assert c.exec_driver_sql("SELECT enum_range(NULL::kind)::text").scalar() == "{a,c}"
        assert c.exec_driver_sql("SELECT count(*) FROM ev WHERE ks IS NOT NULL AND k IS NULL").scalar() == 0
        after = c.exec_driver_sql(values).all()
        assert c.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ev_k'").scalar() \
            == "CREATE INDEX ev_k ON public.ev USING btree (k)"
    r = _alembic("downgrade", ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT enum_range(NULL::kind)::text").scalar() == "{a,b,c}"
        assert c.exec_driver_sql(values).all() == after
        assert c.exec_driver_sql("SELECT column_default FROM information_schema.columns WHERE table_name = 'ev' "
                                 "AND column_name = 'k'").scalar() == "'a'::kind"


def test_a_partitioned_tables_trigger_is_dropped_without_waiting_under_its_partitions_locks(tmp_path: Path,
                                                                                             pg_url: str):
    """`DROP TRIGGER ... ON parent` of a partitioned table takes ACCESS EXCLUSIVE on each
    partition first (their clones of the trigger go first), then waits for the parent: behind an
    application transaction that read the parent, R8's downgrade held every partition for the
    whole lock timeout (writers of the partitions stalled, one got `deadlock detected`). The
    parent is locked first now (LOCK TABLE takes it before its partitions)."""
    old = ("CREATE TABLE items (id int NOT NULL, score int, PRIMARY KEY (id)) PARTITION BY RANGE (id);\n"
           "CREATE TABLE items_p1 PARTITION OF items FOR VALUES FROM (0) TO (10000);\n"
           "CREATE TABLE items_p2 PARTITION OF items FOR VALUES FROM (10000) TO (20000);\n")
    ini = _project(tmp_path, old.replace("score int", "score bigint"), old=old)
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(old)
        c.exec_driver_sql("INSERT INTO items SELECT g, g FROM generate_series(0, 19999) g")
    r = _upgrade(ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    db = sa.make_url(pg_url).update_query_dict({"application_name": "planner_migration"})
    alembic = [sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={db.render_as_string(hide_password=False)}"]
    for _ in ("contract", "backfill"):
        r = subprocess.run([*alembic, "downgrade", "-1"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
    # expand's way back (the trigger and the new column dropped) behind a reader of the parent
    holder = _hold(engine, "SELECT count(*) FROM ONLY items", 3, threading.Event())
    with _LockSampler(engine) as sampler:
        r = subprocess.run([*alembic, "downgrade", "base"], capture_output=True, text=True, timeout=300)
    holder.join(10)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sampler.samples > 10
    assert sampler.longest_wait_holding() < 0.1 + 0.15, sampler.violations[:3]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
                                 "'items'::regclass AND attname = 'score'").scalar() == "integer"


def test_a_databases_statement_timeout_does_not_cancel_the_backfill(tmp_path: Path, pg_url: str):
    """A statement_timeout set for the role or the database (a common safety net) cancelled the
    batched backfill, one statement that runs as long as the table needs, with a traceback. The
    migration session sets its own (-x statement_timeout, none by default); strong-lock steps
    stay bounded by lock_timeout."""
    ini = _project(tmp_path, OLD.replace("org_id int", "org_id bigint"))
    engine = _seed(pg_url)
    name = sa.make_url(pg_url).database
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO users SELECT g, 'u' || g, 1 FROM generate_series(20001, 150000) g")
        c.exec_driver_sql(f'ALTER DATABASE "{name}" SET statement_timeout = \'40ms\'')
    r = _upgrade(ini, pg_url)
    assert r.returncode == 0, r.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
                                 "'users'::regclass AND attname = 'org_id'").scalar() == "bigint"
