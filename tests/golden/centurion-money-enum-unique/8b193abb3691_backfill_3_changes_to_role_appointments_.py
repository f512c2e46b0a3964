"""backfill: 3 changes to Role, appointments, invoices

From: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: nothing; the running OLD application keeps working during this revision.
Deploy after: the application version that reads the new columns/values and no longer uses what the contract phase removes.
Application versions: during this revision: OLD; after it: OLD and NEW.

Steps:
- backfill users.role in batches
- backfill appointments.fee__planner_new in batches
- backfill invoices.totalAmount__planner_new in batches
- NOT VALID check appointments_fee__planner_new_not_null
- NOT VALID check invoices_totalAmount__planner_new_not_null

Backups (restored by downgrade; dropped by the cleanup revision, written once the release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):
- planner_backup.users__role__COACH (id, role holding 'COACH')

Revision ID: 8b193abb3691
Revises: 02049fb372ec
Create Date: 2000-01-01 00:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import contextlib
import random
import sys
import threading
import time

from alembic import context
from sqlalchemy.dialects import mysql, postgresql, sqlite  # noqa: F401 (types in rendered ops)

# --- planner runtime helpers (generated; only alembic and sqlalchemy are imported) ---
# Strong-lock waits are bounded: while an ALTER waits for its lock every writer of its table
# queues behind it, so a failed attempt stalls them at most LOCK_TIMEOUT (SQLSTATE 55P03).
# Override per run: alembic -x lock_timeout=500ms -x lock_retries=8 -x lock_retry_budget=300 upgrade ...
LOCK_TIMEOUT = "1s"
LOCK_RETRIES = 8  # attempts per strong-lock step
LOCK_RETRY_BUDGET = 300.0  # seconds of waiting between attempts, in all
BATCH_SIZE = 5000  # rows per backfill transaction
PROGRESS_EVERY = 5.0  # seconds between progress lines of online steps (-x progress_every=...)


def _setting(name: str, default):  # noqa: ANN001, ANN202
    """A `-x name=value` argument of this alembic run, else `default` (typed like it)."""
    value = context.get_x_argument(as_dictionary=True).get(name)
    return default if value is None else type(default)(value)


_HELD: list[str] = []  # strong-lock steps already done in this revision's transaction


class _RawType(sa.types.UserDefinedType):
    """A column type SQLAlchemy has no class for (citext, vector(512), ...), spelled as given."""

    cache_ok = True

    def __init__(self, spelling: str) -> None:
        self.spelling = spelling

    def get_col_spec(self, **kw) -> str:
        return self.spelling


def _offline() -> bool:
    return op.get_context().as_sql


def _dialect() -> str:
    return op.get_context().dialect.name


def _sql(sql: str, *, scalar: bool = False):  # noqa: ANN202
    """Run `sql` exactly as written: never parsed for bind parameters (`:name`) or DBAPI `%`
    escapes, so no name in it can change it; offline it is written to the script as is."""
    ctx = op.get_context()
    if ctx.as_sql:
        ctx.impl.static_output(sql.strip() + ctx.impl.command_terminator)
        return None
    result = op.get_bind().exec_driver_sql(sql, execution_options={"no_parameters": True})
    return result.scalar() if scalar else None


def _dollar(body: str) -> str:
    """A PostgreSQL dollar-quote tag that `body` cannot end early."""
    tag, n = "$planner$", 0
    while (body + tag).find(tag) != len(body):
        n += 1
        tag = f"$planner{n}$"
    return tag


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _guard(sql: str, message: str, first: bool = True) -> None:
    """Stop when existing rows would break the change (query must return 0): before any DDL
    (`first`), or right before the step that needs it, where the revision's transactional DDL
    so far is rolled back with it."""
    if _offline():
        if _dialect() == "postgresql":
            body = f" BEGIN IF ({sql}) > 0 THEN RAISE EXCEPTION USING MESSAGE = {_literal(message)}; END IF; END "
            tag = _dollar(body)
            _sql("DO " + tag + body + tag)
        else:
            op.get_context().impl.static_output("-- planner guard: the next query must return 0, else stop here")
            _sql(sql)
        return
    count = _sql(sql, scalar=True)
    if count:
        done = "no DDL was run" if first else "the revision's transactional DDL is rolled back"
        raise RuntimeError(f"planner guard failed: {message} ({count} rows); {done}")


def _set_timeouts() -> None:
    # quote every identifier, online and in --sql output (SQLAlchemy quotes only where needed)
    preparer = op.get_context().dialect.identifier_preparer
    preparer._requires_quotes = lambda value: True
    preparer._strings.clear()
    _HELD.clear()
    if _dialect() == "postgresql":
        _sql(f"SET lock_timeout = {_literal(_setting('lock_timeout', LOCK_TIMEOUT))}")
    elif _dialect() == "mysql":
        _sql("SET SESSION lock_wait_timeout = " + str(max(1, round(_seconds(_setting("lock_timeout", LOCK_TIMEOUT))))))


def _seconds(value: str) -> float:
    v = value.strip().lower()
    for unit, factor in (("ms", 0.001), ("s", 1.0), ("min", 60.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * factor
    return float(v) / 1000  # PostgreSQL reads a bare number as milliseconds


@contextlib.contextmanager
def _waiting():
    """Online DDL (concurrent index builds and drops, VALIDATE) holds no lock that blocks the
    application: it waits for older transactions as long as PostgreSQL needs, never cut short
    by LOCK_TIMEOUT (which is for strong locks). Outside the migration transaction only.
    While it runs, a line on stderr every PROGRESS_EVERY seconds says what it waits for."""
    if _offline() or _dialect() != "postgresql":
        yield
        return
    _sql("SET lock_timeout = 0")
    watch = _Watch(op.get_bind())
    try:
        yield
    finally:
        watch.stop()
        _sql(f"SET lock_timeout = {_literal(_setting('lock_timeout', LOCK_TIMEOUT))}")


class _Watch:
    """Reports, from a connection of its own, what the migration's backend is doing while an
    online step runs: the phase and progress of an index build (pg_stat_progress_create_index)
    and the sessions it waits for (pg_blocking_pids, or the old transaction a concurrent build
    waits out), with their state, transaction age and query (pg_stat_activity)."""

    SQL = ("SELECT round(extract(epoch FROM now() - a.query_start)) AS secs, a.wait_event_type AS wtype, "
           "a.wait_event AS wevent, left(a.query, 80) AS query, p.phase, p.blocks_done, p.blocks_total, "
           "p.tuples_done, p.tuples_total, p.lockers_done, p.lockers_total, "
           "array_remove(pg_blocking_pids(a.pid) || coalesce(p.current_locker_pid, 0)::int, 0) AS blockers "
           "FROM pg_stat_activity a LEFT JOIN pg_stat_progress_create_index p ON p.pid = a.pid "
           "WHERE a.pid = %d")
    WHO = ("SELECT pid, state, round(extract(epoch FROM now() - xact_start)) AS age, left(query, 80) AS query "
           "FROM pg_stat_activity WHERE pid = ANY(ARRAY[%s]::int[]) ORDER BY xact_start LIMIT 3")

    def __init__(self, bind) -> None:  # noqa: ANN001
        self.every = _setting("progress_every", PROGRESS_EVERY)
        self.done = threading.Event()
        self.pid = bind.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        self.engine = bind.engine
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        try:
            with self.engine.connect() as c:
                c.execution_options(isolation_level="AUTOCOMMIT")
                while not self.done.wait(self.every):
                    line = self.line(c)
                    if line:
                        print(f"planner: {line}", file=sys.stderr, flush=True)
        except Exception as err:  # noqa: BLE001 (reporting must never fail the migration)
            print(f"planner: (no progress reports: {err.__class__.__name__})", file=sys.stderr, flush=True)

    def line(self, c) -> str:  # noqa: ANN001
        r = c.exec_driver_sql(self.SQL % self.pid).first()
        if r is None or r.secs is None:
            return ""
        parts = [f"{r.secs:.0f} s in {r.query!r}"]
        if r.phase:
            parts.append(f"phase: {r.phase}")
            for done, total, unit in ((r.lockers_done, r.lockers_total, "old transactions"),
                                      (r.blocks_done, r.blocks_total, "blocks"), (r.tuples_done, r.tuples_total, "rows")):
                if total:
                    parts.append(f"{done:,} of {total:,} {unit} ({100 * done / total:.0f}%)")
        if r.blockers:
            rows = c.exec_driver_sql(self.WHO % ",".join(str(int(p)) for p in r.blockers)).fetchall()
            parts.append("waiting for " + "; ".join(
                f"pid {w.pid} ({w.state}, transaction open {w.age or 0:.0f} s: {w.query!r})" for w in rows))
        elif r.wtype in ("Lock", "IPC"):
            parts.append(f"waiting ({r.wtype}: {r.wevent})")
        return ", ".join(parts)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)


def _is_lock_timeout(err: Exception) -> bool:
    orig = getattr(err, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    args = getattr(orig, "args", ())
    return code == "55P03" or (bool(args) and args[0] in (1205, 1213))


def _blockers() -> str:
    """The oldest open transactions of other sessions (what a strong lock waits behind)."""
    if _dialect() != "postgresql":
        return ""
    rows = op.get_bind().execute(sa.text(
        "SELECT pid, state, round(extract(epoch FROM now() - xact_start)) AS age, left(query, 120) AS query "
        "FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' ORDER BY xact_start LIMIT 3")).fetchall()
    return "; ".join(f"pid {r.pid} ({r.state}, transaction open {r.age:.0f} s): {r.query!r}" for r in rows)


def _with_lock_retry(step) -> None:
    """Run `step` (DDL taking a strong lock) with LOCK_TIMEOUT. On a lock timeout, when no
    earlier step of this revision holds a strong lock, roll the step back (PostgreSQL: to a
    savepoint; a MySQL statement that timed out waiting for its metadata lock did nothing),
    wait with jittered backoff and try again; bounded by LOCK_RETRIES and LOCK_RETRY_BUDGET.
    When an earlier step holds one, never wait holding it: fail at once, so the whole
    revision rolls back and releases everything (planner's env.py then runs it again)."""
    if _offline() or _dialect() not in ("postgresql", "mysql"):
        step()
        return
    bind = op.get_bind()
    pg = _dialect() == "postgresql"
    waited = 0.0
    retries, budget = _setting("lock_retries", LOCK_RETRIES), _setting("lock_retry_budget", LOCK_RETRY_BUDGET)
    for attempt in range(retries):
        try:
            if pg:
                with bind.begin_nested():
                    step()
            else:
                step()
            _HELD.append("step")
            return
        except sa.exc.DBAPIError as err:
            if not _is_lock_timeout(err):
                raise
            if pg and _HELD:
                raise RuntimeError("planner: lock timeout while an earlier step of this revision holds a strong "
                                   f"lock; the revision is rolled back, run it again. Waiting on: {_blockers()}") from None
            pause = min(2 ** attempt, 30) * random.uniform(0.5, 1.5)
            if attempt == retries - 1 or waited + pause > budget:
                raise RuntimeError(f"planner: lock timeout: gave up after {attempt + 1} attempts "
                                   f"({waited:.0f} s of waiting); nothing of this revision is committed. "
                                   f"Waiting on: {_blockers()}") from None
            time.sleep(pause)
            waited += pause


def _alter(sql: str, *clauses: str) -> None:
    """MySQL/MariaDB: run `sql` with the first ALGORITHM/LOCK clause the server accepts, in the
    order given. The server refuses a clause it cannot honour (errors 1845/1846) instead of
    silently copying the table, so a step never takes a stronger lock than its list allows.
    Offline, the first clause is written."""
    for i, clause in enumerate(clauses):
        try:
            _sql(sql + clause)
            return
        except sa.exc.DBAPIError as err:
            code = (getattr(getattr(err, "orig", None), "args", None) or (None,))[0]
            if code not in (1845, 1846) or i == len(clauses) - 1:
                raise


def _backfill(head: str, tail: str = "") -> None:
    """Run a batched UPDATE (`head` BATCH_SIZE `tail`: at most BATCH_SIZE rows) until it
    touches none; called inside an autocommit block, so each batch commits on its own and no
    transaction holds row locks for long."""
    statement = f"{head}{BATCH_SIZE}{tail}"
    if _offline():
        op.get_context().impl.static_output("-- planner backfill: repeat the next statement until it updates 0 rows")
        _sql(statement)
        return
    bind = op.get_bind()
    while bind.exec_driver_sql(statement, execution_options={"no_parameters": True}).rowcount:
        pass


def _batched(*parts: str) -> None:
    """Run a statement that batches by itself (a PL/pgSQL block committing after each batch of
    BATCH_SIZE rows: `parts` joined by BATCH_SIZE), outside any transaction. Its progress
    NOTICEs go to stderr, one every PROGRESS_EVERY seconds and the last."""
    if _offline():
        _sql(str(BATCH_SIZE).join(parts))
        return
    # each batch commits without waiting for its WAL flush: a crash can only lose batches that
    # a re-run does again (they are idempotent), and the revision's synchronous commit of its
    # version stamp flushes them all
    _sql("SET synchronous_commit = off")
    try:
        _notify_batches(parts)
    finally:
        _sql("RESET synchronous_commit")


def _notify_batches(parts: tuple[str, ...]) -> None:
    raw = getattr(op.get_bind().connection, "dbapi_connection", None)
    if not hasattr(raw, "add_notice_handler"):  # a driver without notice handlers
        _sql(str(BATCH_SIZE).join(parts))
        return
    every, last = _setting("progress_every", PROGRESS_EVERY), [time.monotonic(), ""]

    def notice(diag) -> None:  # noqa: ANN001
        last[1] = diag.message_primary or ""
        if last[1].startswith("planner") and time.monotonic() - last[0] >= every:
            last[0] = time.monotonic()
            print(last[1], file=sys.stderr, flush=True)

    raw.add_notice_handler(notice)
    try:
        _sql(str(BATCH_SIZE).join(parts))
    finally:
        raw.remove_notice_handler(notice)
    if last[1].startswith("planner"):
        print(last[1] + " (done)", file=sys.stderr, flush=True)


def _sqlite_foreign_key_check() -> None:
    """After a SQLite rebuild with foreign keys off: no row may point nowhere (R14 step 10)."""
    if _offline():
        op.get_context().impl.static_output("-- planner: PRAGMA foreign_key_check must return no rows here")
        return
    rows = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
    if rows:
        raise RuntimeError(f"planner: {len(rows)} rows violate foreign keys after the rebuild: {rows[:5]}")


def _drop_invalid_index(name: str) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would skip."""
    sql = ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE NOT i.indisvalid AND c.relname = :n")
    if _offline():
        op.get_context().impl.static_output("-- planner: if an earlier run failed, drop the INVALID leftover "
                                            "first: SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid")
        return
    if op.get_bind().execute(sa.text(sql), {"n": name}).scalar():
        with _waiting():
            _sql("DROP INDEX CONCURRENTLY IF EXISTS " + '"' + name.replace('"', '""') + '"')


def _check_index_valid(name: str) -> None:
    if _offline():
        return
    sql = ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE NOT i.indisvalid AND c.relname = :n")
    if op.get_bind().execute(sa.text(sql), {"n": name}).scalar():
        raise RuntimeError(f"index {name} was built INVALID; drop it and run the migration again")
# --- end of planner runtime helpers ---


# revision identifiers, used by Alembic.
revision: str = '8b193abb3691'
down_revision: Union[str, Sequence[str], None] = '02049fb372ec'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    _set_timeouts()
    # backfill users.role in batches
    _sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    _sql('CREATE TABLE IF NOT EXISTS "planner_backup"."users__role__COACH" AS SELECT "id", "role"::text AS "role" FROM "users" WHERE "role"::text = \'COACH\'')
    with op.get_context().autocommit_block():
        _batched('DO $planner$ DECLARE planner_last_0 "users"."id"%TYPE; planner_hi_0 "users"."id"%TYPE; planner_n bigint := 0; planner_total bigint := 0; planner_first boolean := true; BEGIN LOOP IF planner_first THEN SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "users" ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; ELSE SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "users" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; END IF; EXIT WHEN NOT FOUND; IF planner_first THEN UPDATE "users" SET "role" = \'INSTRUCTOR\' WHERE ("id") <= (planner_hi_0) AND ("role"::text = \'COACH\'); ELSE UPDATE "users" SET "role" = \'INSTRUCTOR\' WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("role"::text = \'COACH\'); END IF; GET DIAGNOSTICS planner_n = ROW_COUNT; planner_total := planner_total + planner_n; planner_last_0 := planner_hi_0; planner_first := false; COMMIT; RAISE NOTICE USING MESSAGE = \'planner backfill users.role: \' || planner_total || \' rows\'; END LOOP; END $planner$')
        _sql('ANALYZE "users"')
    # backfill appointments.fee__planner_new in batches
    with op.get_context().autocommit_block():
        _batched('DO $planner$ DECLARE planner_last_0 "appointments"."id"%TYPE; planner_hi_0 "appointments"."id"%TYPE; planner_n bigint := 0; planner_total bigint := 0; planner_first boolean := true; BEGIN LOOP IF planner_first THEN SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "appointments" ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; ELSE SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "appointments" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; END IF; EXIT WHEN NOT FOUND; IF planner_first THEN UPDATE "appointments" SET "fee__planner_new" = "fee"::NUMERIC(10, 2) WHERE ("id") <= (planner_hi_0) AND ("fee__planner_new" IS NULL AND "fee" IS NOT NULL); ELSE UPDATE "appointments" SET "fee__planner_new" = "fee"::NUMERIC(10, 2) WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("fee__planner_new" IS NULL AND "fee" IS NOT NULL); END IF; GET DIAGNOSTICS planner_n = ROW_COUNT; planner_total := planner_total + planner_n; planner_last_0 := planner_hi_0; planner_first := false; COMMIT; RAISE NOTICE USING MESSAGE = \'planner backfill appointments.fee__planner_new: \' || planner_total || \' rows\'; END LOOP; END $planner$')
        _sql('ANALYZE "appointments"')
    # backfill invoices.totalAmount__planner_new in batches
    with op.get_context().autocommit_block():
        _batched('DO $planner$ DECLARE planner_last_0 "invoices"."id"%TYPE; planner_hi_0 "invoices"."id"%TYPE; planner_n bigint := 0; planner_total bigint := 0; planner_first boolean := true; BEGIN LOOP IF planner_first THEN SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "invoices" ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; ELSE SELECT "id" INTO planner_hi_0 FROM (SELECT "id" FROM "invoices" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT ', ') planner_s ORDER BY "id" DESC LIMIT 1; END IF; EXIT WHEN NOT FOUND; IF planner_first THEN UPDATE "invoices" SET "totalAmount__planner_new" = "totalAmount"::NUMERIC(10, 2) WHERE ("id") <= (planner_hi_0) AND ("totalAmount__planner_new" IS NULL AND "totalAmount" IS NOT NULL); ELSE UPDATE "invoices" SET "totalAmount__planner_new" = "totalAmount"::NUMERIC(10, 2) WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("totalAmount__planner_new" IS NULL AND "totalAmount" IS NOT NULL); END IF; GET DIAGNOSTICS planner_n = ROW_COUNT; planner_total := planner_total + planner_n; planner_last_0 := planner_hi_0; planner_first := false; COMMIT; RAISE NOTICE USING MESSAGE = \'planner backfill invoices.totalAmount__planner_new: \' || planner_total || \' rows\'; END LOOP; END $planner$')
        _sql('ANALYZE "invoices"')
    # NOT VALID check appointments_fee__planner_new_not_null
    def _step_10() -> None:
        _sql('ALTER TABLE "appointments" ADD CONSTRAINT "appointments_fee__planner_new_not_null" CHECK ("fee__planner_new" IS NOT NULL) NOT VALID')
    
    _with_lock_retry(_step_10)
    # NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_19() -> None:
        _sql('ALTER TABLE "invoices" ADD CONSTRAINT "invoices_totalAmount__planner_new_not_null" CHECK ("totalAmount__planner_new" IS NOT NULL) NOT VALID')
    
    _with_lock_retry(_step_19)


def downgrade() -> None:
    """Downgrade schema."""
    _set_timeouts()
    # undo: NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_20() -> None:
        op.drop_constraint('invoices_totalAmount__planner_new_not_null', 'invoices', type_='check', if_exists=True)
    
    _with_lock_retry(_step_20)
    # undo: NOT VALID check appointments_fee__planner_new_not_null
    def _step_11() -> None:
        op.drop_constraint('appointments_fee__planner_new_not_null', 'appointments', type_='check', if_exists=True)
    
    _with_lock_retry(_step_11)
    # undo: backfill users.role in batches
    def _step_4() -> None:
        _sql('ALTER TABLE "users" DISABLE TRIGGER "users_Role_COACH__planner_remap"')
    
    _with_lock_retry(_step_4)
    _sql('UPDATE "users" AS t SET "role" = b."role"::"Role" FROM "planner_backup"."users__role__COACH" AS b WHERE t."id" = b."id" AND (t."role"::text = \'INSTRUCTOR\')')
    _sql('DROP TABLE "planner_backup"."users__role__COACH"')
    _sql('ALTER TABLE "users" ENABLE TRIGGER "users_Role_COACH__planner_remap"')
