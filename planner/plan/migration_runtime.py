"""planner's runtime helpers for the revisions it writes (guards, lock retries, batches).

Written by planner into the migrations folder as planner_runtime_v<N>.py and loaded by
each revision (`load_python_file(context.script.dir, ...)`); imports only alembic and
sqlalchemy. Do not edit: a later planner with other helpers writes a new version beside
this one, so the revisions that load this one keep working. Works online and offline
(`alembic upgrade --sql`).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import random
import re
import sys
import threading
import time

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

# Strong-lock waits are bounded: while an ALTER waits for its lock every writer of its
# table queues behind it, so a failed attempt stalls them at most LOCK_TIMEOUT (SQLSTATE
# 55P03). Override per run:
#   alembic -x lock_timeout=500ms -x lock_retries=8 -x lock_retry_budget=300 upgrade ...
LOCK_TIMEOUT = "1s"
LOCK_RETRIES = 8  # attempts per strong-lock step
LOCK_RETRY_BUDGET = 300.0  # seconds of waiting between attempts, in all
# Once a revision holds a strong lock (an earlier step's, or a foreign key's first table),
# it waits at most this long for the next one (-x second_lock_timeout=...): the writers
# queued behind the lock it holds wait with it
SECOND_LOCK_TIMEOUT = "100ms"
BATCH_SIZE = 5000  # most rows per backfill transaction (-x batch_rows=...)
# A batch holds its rows' locks until it commits (an application write to one of them waits
# for the batch): the batch size adapts so each takes about this long (-x batch_ms=...)
BATCH_MS = 50
# seconds between progress lines of online steps (-x progress_every=...)
PROGRESS_EVERY = 5.0

# the step functions of this revision's transaction that hold a strong lock (the first one
# names the group: see _lock_first)
_HELD: list = []


def setting(name: str, default):
    """A `-x name=value` argument of this alembic run, else `default` (typed like it)."""
    value = context.get_x_argument(as_dictionary=True).get(name)
    return default if value is None else type(default)(value)


class RawType(sa.types.UserDefinedType):
    """A column type SQLAlchemy has no class for (citext, vector(512), ...), as given."""

    cache_ok = True

    def __init__(self, spelling: str) -> None:
        self.spelling = spelling

    def get_col_spec(self, **kw) -> str:
        return self.spelling


def q(name: str) -> sa.sql.quoted_name:
    """A name SQLAlchemy always quotes, online and in --sql output (it quotes a plain string
    only where it must; the revisions quote every identifier)."""
    return sa.sql.quoted_name(name, quote=True)


def refs(table: str, *columns: str, schema: str | None = None) -> list[sa.Column]:
    """The columns a foreign key of a new table references, their names always quoted (a
    "table.column" string is parsed into plain names SQLAlchemy quotes only where it must)."""
    target = sa.Table(
        q(table),
        sa.MetaData(),
        *(sa.Column(q(c)) for c in columns),
        schema=q(schema) if schema else None,
    )
    return [target.c[c] for c in columns]


def _offline() -> bool:
    return op.get_context().as_sql


def _dialect() -> str:
    return op.get_context().dialect.name


def sql(statement: str, *, scalar: bool = False):
    """Run `statement` exactly as written: never parsed for bind parameters (`:name`) or
    DBAPI `%` escapes, so no name in it can change it; offline it is written as is."""
    ctx = op.get_context()
    if ctx.as_sql:
        ctx.impl.static_output(statement.strip() + ctx.impl.command_terminator)
        return None
    if _STEP and _DDL.match(statement):
        return _counted(lambda: _execute(statement, scalar))
    return _execute(statement, scalar)


def _execute(statement: str, scalar: bool = False):
    result = op.get_bind().exec_driver_sql(
        statement, execution_options={"no_parameters": True}
    )
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


def _text(text: str) -> str:
    """MySQL/MariaDB: `text` as a string expression that no character in it and no sql_mode
    (NO_BACKSLASH_ESCAPES or not) can change: its UTF-8 bytes in hex, read as utf8mb4."""
    return f"CONVERT(X'{text.encode().hex()}' USING utf8mb4)"


def guard(
    statement: str,
    message: str,
    first: bool = True,
    *,
    sample: str | None = None,
    check: str | None = None,
    resolve: str | None = None,
) -> None:
    """Stop when existing rows would break the change (`statement` must count 0): before
    any DDL (`first`), or right before the step that needs it, where the revision's
    transactional DDL so far is rolled back with it. The stop is one line (Alembic prints
    it as FAILED, its traceback only with `alembic --raiseerr`): the count, a few rows of
    `sample`, the `check` to run and the setting that would `resolve` it."""
    if _offline():
        if _dialect() == "postgresql":
            body = (
                f" BEGIN IF ({statement}) > 0 THEN RAISE EXCEPTION USING MESSAGE = "
                f"{_literal('planner guard failed: ' + message)}; END IF; END "
            )
            tag = _dollar(body)
            sql("DO " + tag + body + tag)
        else:
            op.get_context().impl.static_output(
                "-- planner guard: the next query must return 0, else stop here"
            )
            sql(statement)
        return
    try:
        count = _guard_read(statement, scalar=True)
    except sa.exc.DBAPIError as err:
        if not _done_before(err, sys._getframe(1), "planner: guard"):
            raise
        return
    if count:
        found = f"{message}: {count} found, expected 0{_samples(sample)}"
        raise CommandError(
            _stop(f"planner guard failed: {found}", first, check, resolve)
        )


def column_dependents(
    table: str, column: str, how: str, resolve: str, was: str | None = None
) -> None:
    """PostgreSQL: stop before any DDL where `column` of `table` (quoted) carries what the
    schema model does not hold and `how` (R8's swap, a rename by copy), which drops the old
    column, would drop with it, silently, where the plain ALTER keeps it: an EXCLUDE
    constraint, extended statistics, the replica identity index, the CLUSTER index, an index
    with storage parameters or a tablespace (built again without them); or that would make
    the drop fail in contract, after expand and backfill ran: a policy, a trigger's column
    list; a foreign key's ON DELETE SET NULL/DEFAULT column list (built again without it). The stop names them (a guard, with `resolve`). `was`: the table's name (quoted)
    before a rename of the same plan, which it has where this runs before that rename."""
    rel = f"to_regclass({_literal(table)})"
    if was:
        rel = f"coalesce({rel}, to_regclass({_literal(was)}))"
    att = (
        f"(SELECT attnum FROM pg_attribute WHERE attrelid = {rel} "
        f"AND attname = {_literal(column)} AND NOT attisdropped)"
    )
    part_0 = (
        "SELECT 'EXCLUDE constraint' AS what, conname::text AS name FROM pg_constraint "
        f"WHERE conrelid = {rel} AND contype = 'x' AND {att} = ANY(conkey)"
    )
    part_1 = (
        "SELECT 'extended statistics', stxname::text FROM pg_statistic_ext "
        f"WHERE stxrelid = {rel} AND {att} = ANY(stxkeys::int2[])"
    )
    part_2 = (
        "SELECT CASE WHEN i.indisreplident THEN 'replica identity index' "
        "ELSE 'CLUSTER index' END, x.relname::text FROM pg_index i "
        f"JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = {rel} "
        f"AND (i.indisreplident OR i.indisclustered) AND {att} = ANY(i.indkey::int2[])"
    )
    part_3 = (
        "SELECT 'index with storage parameters or a tablespace', x.relname::text "
        "FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
        f"WHERE i.indrelid = {rel} AND NOT i.indisprimary "
        f"AND {att} = ANY(i.indkey::int2[]) "
        "AND (x.reloptions IS NOT NULL OR x.reltablespace <> 0) "
        "AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
    )
    part_4 = (
        "SELECT 'policy', p.polname::text FROM pg_depend d "
        "JOIN pg_policy p ON p.oid = d.objid WHERE d.classid = 'pg_policy'::regclass "
        f"AND d.refobjid = {rel} AND d.refobjsubid = {att}"
    )
    part_5 = (
        "SELECT 'trigger', tg.tgname::text FROM pg_depend d "
        "JOIN pg_trigger tg ON tg.oid = d.objid "
        f"WHERE d.classid = 'pg_trigger'::regclass AND d.refobjid = {rel} "
        f"AND d.refobjsubid = {att} AND NOT tg.tgisinternal "
        "AND position('__planner_' IN tg.tgname) = 0"
    )
    # (PostgreSQL 15's ON DELETE SET NULL (col): the model keeps no column list; read through
    # to_jsonb, which older servers answer without the field)
    part_6 = (
        "SELECT 'foreign key with ON DELETE SET NULL/DEFAULT (columns)', k.conname::text "
        f"FROM pg_constraint k WHERE k.conrelid = {rel} AND k.contype = 'f' "
        f"AND {att} = ANY(k.conkey) "
        "AND CASE WHEN jsonb_typeof(to_jsonb(k) -> 'confdelsetcols') = 'array' "
        "THEN jsonb_array_length(to_jsonb(k) -> 'confdelsetcols') > 0 ELSE false END"
    )
    kinds = (part_0, part_1, part_2, part_3, part_4, part_5, part_6)
    found = " UNION ALL ".join(kinds)
    actual = None if _offline() else sql(f"SELECT ({rel})::regclass::text", scalar=True)
    if actual:
        # rows a NOT VALID check lets stand: the batches' UPDATE of them checks it again and
        # fails after expand (the plain ALTER does not check it)
        checks = op.get_bind().exec_driver_sql(
            "SELECT conname, pg_get_expr(conbin, conrelid) AS expr FROM pg_constraint "
            f"WHERE conrelid = {rel} AND contype = 'c' AND NOT convalidated ORDER BY conname",
            execution_options={"no_parameters": True},
        )
        for name, expr in checks.all():
            guard(
                f"SELECT count(*) FROM {actual} WHERE NOT ({expr})",
                f"rows of {table} break its NOT VALID check {name}, which the UPDATE of "
                f"{how} checks again (the plain ALTER does not)",
                sample=f"SELECT * FROM {actual} WHERE NOT ({expr})",
                resolve=f"fix those rows (or drop {name}), then run it again",
            )
    guard(
        f"SELECT count(*) FROM ({found}) AS planner_d",
        f"{table}.{column} carries what {how} would drop with the old column (the plain "
        "ALTER keeps it)",
        sample=f"SELECT what, name FROM ({found}) AS planner_d ORDER BY 1, 2",
        resolve=resolve,
    )


def guard_block(
    statement: str,
    first: bool = True,
    *,
    check: str | None = None,
    resolve: str | None = None,
) -> None:
    """A guard that raises by itself (a PL/pgSQL block trying each value): its exception,
    when it is the guard's, becomes the same one-line stop as `guard`'s."""
    if _offline():
        sql(statement)
        return
    try:
        _guard_read(statement)
    except sa.exc.DBAPIError as err:
        text = _first_line(err)
        if "planner guard failed" not in text:
            raise
        raise CommandError(_stop(text, first, check, resolve)) from None


def _guard_read(statement: str, scalar: bool = False):
    """A guard's read: it takes no strong lock but waits behind one (another session's DDL,
    a VACUUM FULL), under the lock timeout. After a timeout it is treated as a strong-lock
    step's wait: a revision holding nothing else (and planner's env.py) is rolled back whole
    and run again after a pause outside any transaction, as is one holding a strong lock;
    otherwise the read alone is rolled back (to a savepoint) and tried again after a
    jittered pause; bounded, and giving up in one line naming the sessions in the way."""
    bind = op.get_bind()
    pg = _dialect() == "postgresql"
    retries = setting("lock_retries", LOCK_RETRIES)
    budget = setting("lock_retry_budget", LOCK_RETRY_BUDGET)
    waited = 0.0
    for attempt in range(retries):
        try:
            if not pg:
                return sql(statement, scalar=scalar)
            with bind.begin_nested():
                return sql(statement, scalar=scalar)
        except sa.exc.DBAPIError as err:
            if not _is_lock_timeout(err):
                raise
            if pg and (_holds_strong_lock(bind) or (_reruns() and not _wrote(bind))):
                raise RuntimeError(
                    "planner: lock timeout while a guard read a table another session "
                    "holds locked; the revision is rolled back, run it again. "
                    f"Waiting on: {_blockers()}"
                ) from None
            waited += _pause(
                attempt,
                retries,
                waited,
                budget,
                lambda: (
                    "a guard could not read its table; the DDL after it did not run. "
                    f"Waiting on: {_blockers()}"
                ),
                ": trying the guard's read again",
            )
    return None  # (not reached: _pause raises on the last attempt)


def _first_line(err: Exception) -> str:
    """The server's message of a failed statement, first line."""
    return (str(getattr(err, "orig", None) or err).strip().splitlines() or [""])[0]


def _samples(sample: str | None) -> str:
    """` (e.g. id=3, role='COACH'; id=8, role='COACH')` from the first rows of `sample`
    (strings quoted, as SQL writes them: trailing spaces show)."""
    if not sample:
        return ""
    try:
        rows = op.get_bind().exec_driver_sql(
            f"SELECT * FROM ({sample}) AS planner_sample LIMIT 3",
            execution_options={"no_parameters": True},
        )
        shown = [
            ", ".join(f"{key}={_shown(value)}" for key, value in row._mapping.items())
            for row in rows
        ]
    except sa.exc.DBAPIError:
        return ""
    return f" (e.g. {'; '.join(shown)})" if shown else ""


def _shown(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _stop(found: str, first: bool, check: str | None, resolve: str | None) -> str:
    if first:
        done = "no DDL was run"
    elif _dialect() == "mysql":  # no transactional DDL
        done = (
            "the revision's steps before this one stay done (MySQL cannot roll DDL back; "
            "running it again skips them)"
        )
    else:
        done = "the revision's DDL is rolled back"
    out = f"{found}; {done}."
    if check:
        out += f" See every row: {check}."
    if resolve:
        return out + f" Resolve: {resolve}."
    return out + " Resolve: fix those rows, then run it again."


def set_timeouts() -> None:
    """The strong-lock timeout of this revision (from LOCK_TIMEOUT or -x lock_timeout). On
    PostgreSQL also the session's statement_timeout (-x statement_timeout, 0 = none by
    default): a role's or database's statement_timeout would cancel a batched backfill or a
    concurrent index build, which run as long as the table needs (each statement of them
    holds no lock that blocks the application; strong-lock steps are bounded by
    lock_timeout)."""
    _HELD.clear()
    timeout = setting("lock_timeout", LOCK_TIMEOUT)
    if _dialect() == "postgresql":
        sql(f"SET lock_timeout = {_literal(timeout)}")
        sql(f"SET statement_timeout = {_literal(setting('statement_timeout', '0'))}")
    elif _dialect() == "mysql":
        seconds = max(1, round(_seconds(timeout)))
        sql(f"SET SESSION lock_wait_timeout = {seconds}")


def _seconds(value: str) -> float:
    v = value.strip().lower()
    for unit, factor in (("ms", 0.001), ("s", 1.0), ("min", 60.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * factor
    return float(v) / 1000  # PostgreSQL reads a bare number as milliseconds


@contextlib.contextmanager
def waiting():
    """Online DDL (concurrent index builds and drops, VALIDATE) holds no lock that blocks
    the application: it waits for older transactions as long as PostgreSQL needs, never
    cut short by LOCK_TIMEOUT (which is for strong locks). Outside the transaction only.
    While it runs, a line on stderr every PROGRESS_EVERY seconds says what it waits for."""
    if _offline() or _dialect() != "postgresql":
        yield
        return
    sql("SET lock_timeout = 0")
    watch = _Watch(op.get_bind())
    try:
        yield
    finally:
        watch.stop()
        sql(f"SET lock_timeout = {_literal(setting('lock_timeout', LOCK_TIMEOUT))}")


class _Watch:
    """Reports, from a connection of its own, what the migration's backend is doing while an
    online step runs: the phase and progress of an index build
    (pg_stat_progress_create_index) and the sessions it waits for (pg_blocking_pids, or the
    old transaction a concurrent build waits out), with their state, transaction age and
    query (pg_stat_activity)."""

    SQL = (
        "SELECT round(extract(epoch FROM now() - a.query_start)) AS secs, "
        "a.wait_event_type AS wtype, a.wait_event AS wevent, left(a.query, 80) AS query, "
        "p.phase, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total, "
        "p.lockers_done, p.lockers_total, array_remove(pg_blocking_pids(a.pid) || "
        "coalesce(p.current_locker_pid, 0)::int, 0) AS blockers "
        "FROM pg_stat_activity a LEFT JOIN pg_stat_progress_create_index p "
        "ON p.pid = a.pid WHERE a.pid = %d"
    )
    WHO = (
        "SELECT pid, state, round(extract(epoch FROM now() - xact_start)) AS age, "
        "left(query, 80) AS query FROM pg_stat_activity "
        "WHERE pid = ANY(ARRAY[%s]::int[]) ORDER BY xact_start LIMIT 3"
    )

    def __init__(self, bind) -> None:
        self.every = setting("progress_every", PROGRESS_EVERY)
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
            name = err.__class__.__name__
            print(
                f"planner: (no progress reports: {name})", file=sys.stderr, flush=True
            )

    def line(self, c) -> str:
        r = c.exec_driver_sql(self.SQL % self.pid).first()
        if r is None or r.secs is None:
            return ""
        parts = [f"{r.secs:.0f} s in {r.query!r}"]
        if r.phase:
            parts.append(f"phase: {r.phase}")
            for done, total, unit in (
                (r.lockers_done, r.lockers_total, "old transactions"),
                (r.blocks_done, r.blocks_total, "blocks"),
                (r.tuples_done, r.tuples_total, "rows"),
            ):
                if total:
                    parts.append(
                        f"{done:,} of {total:,} {unit} ({100 * done / total:.0f}%)"
                    )
        if r.blockers:
            pids = ",".join(str(int(p)) for p in r.blockers)
            rows = c.exec_driver_sql(self.WHO % pids).fetchall()
            parts.append(
                "waiting for "
                + "; ".join(
                    f"pid {w.pid} ({w.state}, transaction open {w.age or 0:.0f} s: {w.query!r})"
                    for w in rows
                )
            )
        elif r.wtype in ("Lock", "IPC"):
            parts.append(f"waiting ({r.wtype}: {r.wevent})")
        return ", ".join(parts)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)


def _is_lock_timeout(err: Exception) -> bool:
    orig = getattr(err, "orig", None)
    diag = getattr(orig, "diag", None)
    code = getattr(orig, "sqlstate", None) or getattr(diag, "sqlstate", None)
    return code == "55P03" or _mysql_code(err) in (1205, 1213)


def _blockers(waited: tuple[str, str] | None = None) -> str:
    """The sessions a strong lock waits behind: when the wait's table and mode are known
    (`waited`), those holding a lock on the table in a mode that conflicts, else the oldest
    open transactions of this database (MySQL/MariaDB: of any, with what their session
    runs: a metadata lock is held until the transaction ends)."""
    if _dialect() == "mysql":
        rows = op.get_bind().exec_driver_sql(
            "SELECT p.ID AS pid, p.COMMAND AS state, p.DB AS db, "
            "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS age, "
            "LEFT(COALESCE(t.trx_query, p.INFO, ''), 120) AS query "
            "FROM information_schema.INNODB_TRX t "
            "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE p.ID <> CONNECTION_ID() ORDER BY t.trx_started, p.ID LIMIT 3"
        )
        return (
            "; ".join(
                f"session {r.pid} ({r.state.lower()}, database {r.db}, transaction open "
                f"{r.age or 0:.0f} s){f': {r.query!r}' if r.query else ''}"
                for r in rows
            )
            or "no open transaction seen (a LOCK TABLES or a DDL of another session)"
        )
    if _dialect() != "postgresql":
        return ""
    if waited:
        table, mode = waited
        rows = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT DISTINCT ON (a.xact_start, a.pid) a.pid, a.state, "
                    "round(extract(epoch FROM clock_timestamp() - a.xact_start)) AS age, "
                    "left(a.query, 120) AS query FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'relation' AND l.granted "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) "
                    "AND l.relation = CAST(:t AS regclass) AND l.pid <> pg_backend_pid() "
                    "AND l.mode IN :modes ORDER BY a.xact_start, a.pid LIMIT 3"
                ).bindparams(sa.bindparam("modes", expanding=True)),
                {"t": table, "modes": list(_CONFLICTS[mode])},
            )
            .fetchall()
        )
        if rows:
            return f"sessions holding a lock on {table}: " + "; ".join(
                f"pid {r.pid} ({r.state}, transaction open {r.age or 0:.0f} s): {r.query!r}"
                for r in rows
            )
    rows = op.get_bind().exec_driver_sql(
        """
        SELECT pid, state, round(extract(epoch FROM clock_timestamp() - xact_start)) AS age,
               left(query, 120) AS query
        FROM pg_stat_activity
        WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()
          AND backend_type = 'client backend' AND datname = current_database()
        ORDER BY xact_start
        LIMIT 3
        """
    )
    return "; ".join(
        f"pid {r.pid} ({r.state}, transaction open {r.age:.0f} s): {r.query!r}"
        for r in rows
    )


_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
# the table a strong-lock statement waits for, at its start or after THEN (in a DO block):
# ALTER TABLE x, LOCK TABLE x, DROP TABLE x, CREATE/DROP TRIGGER t ... ON x, CREATE INDEX i ON x
_TARGET = re.compile(
    r"(?:^\s*|\bTHEN\s+)(?P<kw>ALTER\s+TABLE(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?"
    r"|LOCK\s+TABLE(?:\s+ONLY)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?"
    rf"|(?:CREATE|DROP)\s+TRIGGER(?:\s+IF\s+EXISTS)?\s+{_NAME}\s.*?\bON"
    rf"|CREATE\s+(?:UNIQUE\s+)?INDEX(?:\s+IF\s+NOT\s+EXISTS)?\s+{_NAME}\s+ON(?:\s+ONLY)?)"
    rf"\s+(?P<name>{_NAME}(?:\s*\.\s*{_NAME})?)",
    re.IGNORECASE | re.DOTALL,
)
# lock modes a learned table is locked in, weakest first: SHARE ROW EXCLUSIVE where the
# statement needs no more (a foreign key added, a trigger created, LOCK TABLE in it or a weaker
# mode), else ACCESS EXCLUSIVE; a table learned twice keeps the stronger
_MODES = ("SHARE ROW EXCLUSIVE", "ACCESS EXCLUSIVE")
# the lock modes another session holds that a wait for each of _MODES waits behind
_HELD_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
_CONFLICTS = {"SHARE ROW EXCLUSIVE": _HELD_MODES[2:], "ACCESS EXCLUSIVE": _HELD_MODES}


def _target(statement: str) -> tuple[str, str] | None:
    """The table name (as written) a strong-lock statement waits for, and the mode to lock it
    in first; None when the statement is not one whose table can be told."""
    found = _TARGET.search(statement)
    if not found:
        return None
    keyword = " ".join(found.group("kw").upper().split())
    rest = " ".join(statement[found.end() :].upper().split())
    if keyword.startswith(
        "CREATE"
    ):  # a trigger (SHARE ROW EXCLUSIVE), an index (SHARE)
        weak = True
    elif keyword.startswith("LOCK"):  # LOCK TABLE x alone is ACCESS EXCLUSIVE
        weak = rest.startswith("IN ") and not re.match(
            r"IN (ACCESS )?EXCLUSIVE\b", rest
        )
    else:  # ALTER TABLE: adding a foreign key is SHARE ROW EXCLUSIVE, the rest mostly more
        weak = bool(re.match(r"ADD CONSTRAINT \S+ FOREIGN ?KEY\b", rest))
    return found.group("name"), _MODES[0] if weak else _MODES[1]


def _waited_for(err: Exception) -> tuple[str, str] | None:
    """PostgreSQL: the table (quoted, qualified) a statement that timed out waiting for its
    lock was waiting for, and the mode to take it in first, read from the statement (the lock
    timeout's error does not name the relation). None when it cannot be told."""
    target = _target(getattr(err, "statement", None) or "")
    if target is None:
        return None
    name, mode = target
    # (a statement SQLAlchemy compiled holds a `%` of a name doubled)
    for n in dict.fromkeys((name, name.replace("%%", "%"))):
        row = (
            op.get_bind()
            .execute(
                sa.text(
                    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.oid = to_regclass(:n) AND c.relkind IN ('r', 'p')"
                ),
                {"n": n},
            )
            .first()
        )
        if row is not None:
            return row[0], mode
    return None


def _lock_first(step) -> tuple:
    """The key of the transaction whose first strong-lock step is `step` (its revision and
    qualified name), under which the tables it must lock first are kept for this alembic run
    (context.config.attributes: the revision module is loaded again on each run)."""
    revision = step.__globals__.get("revision")
    return (revision, step.__qualname__)


def _learned() -> dict:
    try:
        return context.config.attributes.setdefault("planner_lock_first", {})
    except AttributeError:  # no config (a revision run by hand)
        return {}


def _learn(key: tuple, table: str, mode: str) -> str:
    """Note `table` as the first to lock when the transaction `key` runs again: a step waited
    for it while it held others (an application that writes it before the tables those locks
    are on). When the first table keeps changing between the same ones, the application
    writes them in both orders and no order avoids the wait: the text that says so."""
    store = _learned()
    tables = store.setdefault(key, [])
    front = tables[0][0] if tables else None
    for i, (t, m) in enumerate(tables):
        if t == table:
            mode = max(mode, m, key=_MODES.index)
            del tables[i]
            break
    tables.insert(0, (table, mode))
    flips = store.setdefault(("flips", key), [0])
    if front is not None and front != table:
        flips[0] += 1
    if flips[0] < 2:
        return ""
    names = " and ".join(t for t, _ in tables[:2])
    return (
        f"The application takes {names} in both orders, so every order of this "
        "revision's locks waits behind some writer: run it when writes are fewer, or "
        "give it a longer -x second_lock_timeout. "
    )


def _holds_strong_lock(bind) -> bool:
    """PostgreSQL: this transaction holds a lock on a table that blocks its writers (a step
    that created a type or a function holds none)."""
    return bool(
        bind.exec_driver_sql(
            "SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND granted "
            "AND locktype = 'relation' AND mode IN ('ShareLock', "
            "'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') LIMIT 1"
        ).first()
    )


def _step_timeout() -> str:
    """The lock timeout of the step about to run: LOCK_TIMEOUT while this revision holds
    no strong lock, else SECOND_LOCK_TIMEOUT."""
    if _HELD or (_dialect() == "postgresql" and _holds_strong_lock(op.get_bind())):
        return setting("second_lock_timeout", SECOND_LOCK_TIMEOUT)
    return setting("lock_timeout", LOCK_TIMEOUT)


@contextlib.contextmanager
def referenced_first(table: str, mode: str = "SHARE ROW EXCLUSIVE"):
    """PostgreSQL: a foreign key's DDL locks its own table and the one it references (`table`,
    quoted) in one statement, and would wait for the second while holding the first. Lock
    `table` first, waiting up to the step's lock timeout while this step holds nothing
    else; the DDL in the block then waits at most SECOND_LOCK_TIMEOUT for its own table (a
    timeout rolls the step back and with_lock_retry tries again)."""
    if _dialect() != "postgresql":
        yield
        return
    sql(f"LOCK TABLE {table} IN {mode} MODE")
    if _offline():
        yield
        return
    second = setting("second_lock_timeout", SECOND_LOCK_TIMEOUT)
    sql(f"SET LOCAL lock_timeout = {_literal(second)}")
    yield
    sql(f"SET LOCAL lock_timeout = {_literal(_step_timeout())}")


def with_lock_retry(step) -> None:
    """Run `step` (DDL taking a strong lock) with LOCK_TIMEOUT. On a lock timeout, when no
    earlier step of this revision holds a strong lock, roll the step back (PostgreSQL: to
    a savepoint; a MySQL statement that timed out waiting for its metadata lock did
    nothing), wait with jittered backoff and try again; bounded by LOCK_RETRIES and
    LOCK_RETRY_BUDGET. When an earlier step holds one, the step waits at most
    SECOND_LOCK_TIMEOUT (every writer queued behind the held lock waits with it) and then
    fails, so the whole revision rolls back and releases everything (planner's env.py then
    runs it again after a pause)."""
    if _offline() or _dialect() not in ("postgresql", "mysql"):
        step()
        return
    if _dialect() == "mysql":
        with _journaled(step) as done:
            if not done:
                _with_lock_retry(_attempt(step) if _STEP else step)
        return
    _with_lock_retry(step)


JOURNAL = "planner_backup__steps"
_JOURNAL_OPEN: set = set()
# MySQL/MariaDB: the step running under the journal (see _journaled): how to write its note,
# its statements counted so far in this attempt (n), the last one done (completed), and how
# far an earlier attempt or run got: statements before `below` are done, and statement
# `below` may be (`maybe`: that run was cut off before it saw the result)
_STEP: dict = {}
_DDL = re.compile(r"\s*(?:ALTER|CREATE|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)
# errors that say a statement's work is there already (a table, column, key, index or trigger
# added, or gone): what the statement of a run cut off did after its client was gone
_ALREADY = (1050, 1051, 1054, 1060, 1061, 1091, 1146, 1359, 1360, 1826)


@contextlib.contextmanager
def _journaled(step):
    """MySQL/MariaDB commit each DDL statement, so a revision stopped halfway (an inline guard,
    a lock wait given up, its client killed) keeps the statements it did, and running it again
    would fail on them (a foreign key already dropped, a column already there). JOURNAL (a
    planner_backup__ table: the loaders skip it) holds a note per strong-lock step, keyed by
    revision, direction and step (the step function's module `revision`, its qualified name,
    `upgrade.<locals>._step_3`, and a digest of its source, so a revision written again under
    the same id does not skip steps that changed): the step is done, or how far it got (the
    statement it was at, and whether the run saw that statement fail). A run skips the steps
    done and, in a step begun, the statements done (see _counted); the statement a run was cut
    off in is run again, and an error that says its work is there (1091 Can't DROP, 1060
    Duplicate column, ...) takes it as done. Notes are written on a connection of their own,
    committed at once: the revision's transaction, which a later stop rolls back, must not
    take them along (the DDL they record is committed), and a step under LOCK TABLES could not
    write them. The first step a run notes clears what the other direction noted for the
    revision, so the downgrade, and an upgrade after it, run every step again."""
    revision = step.__globals__.get("revision")
    where = step.__qualname__.split(".")
    if not isinstance(revision, str) or where[0] not in ("upgrade", "downgrade"):
        yield False
        return
    try:
        source = inspect.getsource(step)
    except (OSError, TypeError):  # no file to read it from: the name alone
        source = ""
    code = hashlib.sha256(source.encode()).hexdigest()[:16]
    key = (revision, where[0], f"{where[-1]}:{code}")
    match = f"revision = {_literal(revision)} AND direction = {_literal(where[0])}"
    this = f"{match} AND step = {_literal(key[2])}"
    with op.get_bind().engine.connect() as side:
        side = side.execution_options(isolation_level="AUTOCOMMIT")

        def note(statement: str):
            return side.exec_driver_sql(
                statement, execution_options={"no_parameters": True}
            )

        if key[:2] not in _JOURNAL_OPEN:
            note(
                f"CREATE TABLE IF NOT EXISTS {JOURNAL} (revision varchar(64) NOT NULL, "
                "direction varchar(9) NOT NULL, step varchar(96) NOT NULL, "
                "at int NOT NULL DEFAULT 0, state varchar(8) NOT NULL DEFAULT 'running', "
                "done_at timestamp NULL DEFAULT NULL, "
                "PRIMARY KEY (revision, direction, step))"
            )
            other = "downgrade" if where[0] == "upgrade" else "upgrade"
            note(
                f"DELETE FROM {JOURNAL} WHERE revision = {_literal(revision)} "
                f"AND direction = {_literal(other)}"
            )
            _JOURNAL_OPEN.add(key[:2])
            noted = note(f"SELECT count(*) FROM {JOURNAL} WHERE {match}").scalar()
            if noted:
                print(
                    f"planner: {where[0]} {revision}: an earlier run that stopped began "
                    f"{noted} step(s): what it did is skipped",
                    file=sys.stderr,
                    flush=True,
                )
        row = note(f"SELECT state, at FROM {JOURNAL} WHERE {this}").first()
        if row is not None and row.state == "done":
            yield True
            return
        if row is None:
            note(
                f"INSERT INTO {JOURNAL} (revision, direction, step) VALUES "
                f"({', '.join(_literal(k) for k in key)})"
            )
        _STEP.update(
            note=lambda sets: note(f"UPDATE {JOURNAL} SET {sets} WHERE {this}"),
            below=row.at if row is not None else 0,
            maybe=row is not None and row.state == "running",
            name=where[-1],
        )
        try:
            yield False
        finally:
            _STEP.clear()
        note(
            f"UPDATE {JOURNAL} SET state = 'done', done_at = CURRENT_TIMESTAMP WHERE {this}"
        )


def _attempt(step):
    """MySQL/MariaDB: `step` as one attempt under the journal: its statements are counted
    from the first; when it fails, the statements before the failing one are done (an attempt
    after a lock timeout skips them) and the failing one did nothing (a DDL statement is
    atomic). A step whose statements are Alembic's own (not counted), begun by a run cut off,
    that fails saying its work is there, is done."""

    def run() -> None:
        _STEP.update(n=0, completed=0)
        try:
            step()
        except sa.exc.DBAPIError as err:
            if _STEP["maybe"] and _STEP["n"] == 0 and _mysql_code(err) in _ALREADY:
                _taken_as_done(err)
                return
            _STEP.update(below=_STEP["completed"] + 1, maybe=False)
            _STEP["note"](f"at = {_STEP['below']}, state = 'failed'")
            raise

    return run


def _counted(run):
    """Run `run` (one DDL statement of a journaled step) unless an earlier attempt or run did
    it: note first that the step is at it, so a run cut off while it runs knows where."""
    s = _STEP
    s["n"] += 1
    n = s["n"]
    if n < s["below"]:
        s["completed"] = n
        return None
    if n == s["below"] and s["maybe"]:
        s["maybe"] = False
        try:
            out = run()
        except sa.exc.DBAPIError as err:
            if _mysql_code(err) not in _ALREADY:
                raise
            _taken_as_done(err)
            out = None
        s["completed"] = n
        return out
    s["note"](f"at = {n}, state = 'running'")
    out = run()
    s["completed"] = n
    return out


def _taken_as_done(err: Exception) -> None:
    print(
        f"planner: {_STEP['name']}: {_first_line(err)}: the run that stopped did it (it was "
        "cut off before it saw the result)",
        file=sys.stderr,
        flush=True,
    )


def _done_before(err: Exception, caller, who: str) -> bool:
    """MySQL/MariaDB: whether a query of the revision function `caller` (a frame) failed on a
    column or table that is gone (1054, 1146) in a run that resumes an earlier one (JOURNAL
    holds its notes): it read what a completed step removed (a guard reading a shadow column a
    swap has dropped since, a restore reading a backup dropped at the end), and what it guards
    or does was done. Then `who` is said to be skipped, on stderr."""
    revision, direction = caller.f_globals.get("revision"), caller.f_code.co_name
    if (
        _dialect() != "mysql"
        or _mysql_code(err) not in (1054, 1146)
        or not isinstance(revision, str)
    ):
        return False
    exists = sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        f"AND table_name = {_literal(JOURNAL)}",
        scalar=True,
    )
    if not exists or not sql(
        f"SELECT count(*) FROM {JOURNAL} WHERE revision = {_literal(revision)} "
        f"AND direction = {_literal(direction)}",
        scalar=True,
    ):
        return False
    print(
        f"{who} skipped: it reads what a step done by an earlier run changed: "
        f"{_first_line(err)}",
        file=sys.stderr,
        flush=True,
    )
    return True


def _with_lock_retry(step) -> None:
    bind = op.get_bind()
    pg = _dialect() == "postgresql"
    if pg and _HELD and not _holds_strong_lock(bind):
        _HELD.clear()  # an autocommit block committed the transaction since: a new one
    later = pg and bool(_HELD)
    first = _learned().get(_lock_first(step), []) if pg and not later else []
    waited = 0.0
    retries = setting("lock_retries", LOCK_RETRIES)
    budget = setting("lock_retry_budget", LOCK_RETRY_BUDGET)
    if later:
        sql(f"SET LOCAL lock_timeout = {_literal(_step_timeout())}")
    for attempt in range(retries):
        try:
            if pg:
                with bind.begin_nested():
                    _locked_first(first)
                    step()
            else:
                step()
            if later or first:
                sql(
                    f"SET LOCAL lock_timeout = {_literal(setting('lock_timeout', LOCK_TIMEOUT))}"
                )
            if not pg or _holds_strong_lock(bind):
                _HELD.append(step)
            return
        except sa.exc.DBAPIError as err:
            if not _is_lock_timeout(err):
                raise
            table = _waited_for(err) if pg else None
            if later:
                both = _learn(_lock_first(_HELD[0]), *table) if table else ""
                raise RuntimeError(
                    "planner: lock timeout while an earlier step of this revision holds "
                    "a strong lock; the revision is rolled back, run it again"
                    f"{' (it locks ' + table[0] + ' first then)' if table else ''}. "
                    f"{both}Waiting on: {_blockers(table)}"
                ) from None
            both = ""
            if table:
                # the step (or a table locked before it) waited: everything it held is
                # released with the savepoint, and that table is locked first from now on
                both = _learn(_lock_first(step), *table)
                first = _learned()[_lock_first(step)]
            if pg and _reruns() and not _wrote(bind):
                # nothing of the transaction is worth keeping (its guards only read): roll it
                # all back and pause outside it, where it keeps no lock (the ACCESS SHARE of
                # a guard's read, behind which any other DDL would queue, and every query
                # behind that) and no snapshot; planner's env.py runs it again
                raise RuntimeError(
                    "planner: lock timeout while waiting for "
                    f"{table[0] if table else 'a table'} (holding nothing); the revision is "
                    f"rolled back, run it again. {both}Waiting on: {_blockers(table)}"
                ) from None
            done = (
                "nothing of its transaction is committed (what it ran outside a "
                "transaction before, backfills and concurrent builds, stays done)"
                if pg
                else "its steps before this one stay done (MySQL cannot roll DDL "
                "back; running it again skips them)"
            )
            waited += _pause(
                attempt,
                retries,
                waited,
                budget,
                lambda d=done, b=both, t=table: f"{d}. {b}Waiting on: {_blockers(t)}",
                ": the step is rolled back, trying again",
                f" on {table[0]}" if table else "",
            )


def _pause(attempt, retries, waited, budget, gave_up, retrying, where="") -> float:
    """After lock timeout number `attempt` (from 0) of `retries`, `waited` seconds paused so
    far: raise CommandError (one line, `gave_up()` after the count) when the attempts or the
    `budget` are spent; else say so on stderr (`retrying`), sleep a jittered, doubling pause
    (at most 30 s) and return it. `where`: " on <table>" when known."""
    pause = min(2**attempt, 30) * random.uniform(0.5, 1.5)
    if attempt == retries - 1 or waited + pause > budget:
        raise CommandError(  # one line (Alembic prints it as FAILED: ...)
            f"planner: lock timeout: gave up after {attempt + 1} attempts "
            f"({waited:.0f} s of waiting); {gave_up()}"
        ) from None
    print(
        f"planner: lock timeout{where} (attempt {attempt + 1} of {retries}){retrying} "
        f"in {pause:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    time.sleep(pause)
    return pause


def _reruns() -> bool:
    """Whether the env.py running this revision runs it again after a RuntimeError that says
    `planner: lock timeout while` (the one planner writes does, pausing outside any
    transaction)."""
    try:
        return bool(context.config.attributes.get("planner_reruns"))
    except AttributeError:
        return False


def _wrote(bind) -> bool:
    """PostgreSQL: whether this transaction wrote anything (a backup, an earlier revision's
    table): then a lock wait is retried inside it, not by running it all again."""
    return bind.exec_driver_sql(
        "SELECT txid_current_if_assigned() IS NOT NULL"
    ).scalar()


def _locked_first(tables: list) -> None:
    """PostgreSQL: lock `tables` ((quoted name, mode), learned by an earlier run of this
    transaction) before its first step: the first one waiting up to the lock timeout while
    nothing is held, the others, and then the step, up to SECOND_LOCK_TIMEOUT (a timeout
    rolls back to the step's savepoint, releasing them all)."""
    for i, (table, mode) in enumerate(tables):
        sql(f"LOCK TABLE {table} IN {mode} MODE")
        if i == 0:
            second = setting("second_lock_timeout", SECOND_LOCK_TIMEOUT)
            sql(f"SET LOCAL lock_timeout = {_literal(second)}")


@contextlib.contextmanager
def write_locked(table: str):
    """MySQL/MariaDB: `LOCK TABLES table WRITE` around statements the application must see
    as one (dropping the triggers that keep a shadow column in step, and the ALTER that swaps
    it in: between the two, a write of the column reached only the copy that is dropped, and
    was lost). Other sessions wait for the UNLOCK; getting the lock waits lock_wait_timeout at
    most (a lock timeout the step's retry handles). Elsewhere the statements run as they are."""
    if _dialect() != "mysql":
        yield
        return
    sql(f"LOCK TABLES {table} WRITE")
    try:
        yield
    finally:
        sql("UNLOCK TABLES")


def alter(statement: str, *clauses: str) -> None:
    """MySQL/MariaDB: run `statement` with the first ALGORITHM/LOCK clause the server
    accepts, in the order given. The server refuses a clause it cannot honour (errors
    1845/1846) instead of silently copying the table, so a step never takes a stronger
    lock than its list allows. Offline, the first clause is written."""
    if _offline():
        sql(statement + clauses[0])
        return

    def attempts() -> None:
        for i, clause in enumerate(clauses):
            try:
                _execute(statement + clause)
                return
            except sa.exc.DBAPIError as err:
                if _mysql_code(err) not in (1845, 1846) or i == len(clauses) - 1:
                    raise

    if _STEP:
        _counted(attempts)
    else:
        attempts()


def has_column(table: str, column: str) -> bool:
    """PostgreSQL: whether `table` (quoted) has a column `column` now (a downgrade step done by
    an earlier run that stopped later on is skipped by it). Offline: False (the statements it
    guards are written)."""
    if _offline():
        return False
    return bool(
        sql(
            f"SELECT count(*) FROM pg_attribute WHERE attrelid = {_literal(table)}::regclass "
            f"AND attname = {_literal(column)} AND attnum > 0 AND NOT attisdropped",
            scalar=True,
        )
    )


def current_schema_not(*schemas: str) -> None:
    """PostgreSQL: stop before any DDL where the session's current schema (the first schema of
    its search_path that exists) is one the plan also names explicitly: the plan leaves the
    default schema's names unqualified, so they would resolve there, and its steps would change
    that schema's tables of the same name instead (silently)."""
    if _offline() or _dialect() != "postgresql":
        return
    current = sql("SELECT current_schema()", scalar=True)
    if current in schemas:
        raise CommandError(
            f"planner: this session's current schema is {current} (its search_path), which the "
            "plan also names explicitly: the plan's unqualified names (the default schema's "
            f"objects) would resolve to {current}'s; run the migration with the default schema "
            "first in search_path (PGOPTIONS='-c search_path=public' or the role's setting)"
        )


def _backup_note(revision: str) -> str:
    return f"planner backup made by revision {revision}"


def _backup_comment(schema: str | None, name: str):
    """The comment of backup table `name`: None where there is no such table, '' if it has none."""
    if _dialect() == "postgresql":
        return sql(
            "SELECT coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {_literal(schema or 'public')} AND c.relname = {_literal(name)}",
            scalar=True,
        )
    if _dialect() == "mysql":
        return sql(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {_text(name)}",
            scalar=True,
        )
    return None


def fresh_backup(schema: str | None, name: str, revision: str) -> None:
    """Stop (before any DDL of its step) where the backup table `name` exists but this revision
    did not make it: a backup of an earlier release whose cleanup revision never ran (the same
    column dropped again, a rename undone and redone) holds that release's values, which CREATE
    TABLE IF NOT EXISTS would keep and the downgrade would put back. One this revision made
    (a re-run after a failure that committed it) is kept."""
    if _offline():
        return
    found = _backup_comment(schema, name)
    if found is None or found == _backup_note(revision):
        return
    where = f"{schema}.{name}" if schema else name
    made = f"'{found}'" if found else "no note of the revision that made it"
    raise CommandError(
        f"planner: the backup table {where} exists already ({made}), not made by this "
        f"revision {revision}: it holds values from before, of an earlier release, which "
        "this revision's downgrade would put back; if that release is accepted, drop the "
        "table (after saving what you need of it), then upgrade again (a cleanup revision "
        "written for that release now would come after this one)"
    )


def noted_backup(create: str, select: str, revision: str, *after: str) -> None:
    """MySQL/MariaDB: the backup `create` + `select` (CREATE TABLE ... AS SELECT) with this
    revision's note as its COMMENT (see fresh_backup), so the table and its note come into
    being in one statement (each statement commits on its own there), then `after`; copied as
    rt.unlocked copies."""
    note = f"COMMENT = {_literal(_backup_note(revision))}"
    unlocked(f"{create} {note} {select}", *after)


def mark_backup(schema: str | None, name: str, revision: str) -> None:
    """Note on backup table `name` that this revision made it (see fresh_backup)."""
    note = _backup_note(revision)
    if _dialect() == "postgresql":
        table = f"{_ident(schema)}.{_ident(name)}" if schema else _ident(name)
        sql(f"COMMENT ON TABLE {table} IS {_literal(note)}")
    elif _dialect() == "mysql":
        table = "`" + name.replace("`", "``") + "`"
        sql(f"ALTER TABLE {table} COMMENT = {_literal(note)}")


def has_type(name: str) -> bool:
    """PostgreSQL: whether type `name` (quoted, maybe schema-qualified) exists now (a downgrade
    step done by an earlier run that stopped later on is skipped by it). Offline: False (the
    statements it guards are written)."""
    if _offline():
        return False
    return bool(sql(f"SELECT to_regtype({_literal(name)}) IS NOT NULL", scalar=True))


def _views_on(table: str, columns: tuple) -> list:
    """PostgreSQL: the views that read `columns` of `table` (quoted), and the views on those,
    each with what creating it again needs, those others depend on first."""
    t = f"{_literal(table)}::regclass"
    rule = (
        "d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND r.oid = d.objid"
    )
    query = (
        f"WITH RECURSIVE v(oid, depth) AS (SELECT r.ev_class, 1 FROM pg_depend d, pg_rewrite r "
        f"WHERE {rule} AND d.refobjid = {t} AND r.ev_class <> {t} AND d.refobjsubid IN "
        f"(SELECT attnum FROM pg_attribute WHERE attrelid = {t} AND attname IN "
        f"({', '.join(_literal(c) for c in columns)})) UNION ALL SELECT r.ev_class, "
        "v.depth + 1 FROM v, pg_depend d, pg_rewrite r WHERE "
        f"{rule} AND d.refobjid = v.oid AND r.ev_class <> v.oid AND v.depth < 100) "
        "SELECT c.oid::regclass::text AS name, c.relkind, max(v.depth) AS depth, "
        "pg_get_viewdef(c.oid) AS body, array_to_string(c.reloptions, ', ') AS options, "
        "quote_ident(pg_get_userbyid(c.relowner)) AS owner, "
        "obj_description(c.oid, 'pg_class') AS comment, "
        "(SELECT json_agg(json_build_array(a.attname, col_description(c.oid, a.attnum))) "
        "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
        "AND col_description(c.oid, a.attnum) IS NOT NULL)::text AS columns, "
        "(SELECT json_agg(format('GRANT %s ON %s TO %s%s', p.privilege_type, c.oid::regclass, "
        "CASE WHEN p.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(p.grantee)) "
        "END, CASE WHEN p.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)) "
        "FROM aclexplode(c.relacl) p WHERE p.grantee <> c.relowner)::text AS grants, "
        "(SELECT json_agg(format('GRANT %s (%I) ON %s TO %s%s', p.privilege_type, p.attname, "
        "c.oid::regclass, CASE WHEN p.grantee = 0 THEN 'PUBLIC' ELSE "
        "quote_ident(pg_get_userbyid(p.grantee)) END, CASE WHEN p.is_grantable THEN "
        "' WITH GRANT OPTION' ELSE '' END)) FROM (SELECT a.attname, (aclexplode(a.attacl)).* "
        "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL) "
        "p)::text AS column_grants, "
        "(SELECT json_agg(json_build_array(a.attname, pg_get_expr(d.adbin, d.adrelid))) "
        "FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
        "WHERE d.adrelid = c.oid)::text AS defaults, "
        "(SELECT count(*) FROM pg_rewrite WHERE ev_class = c.oid AND rulename <> '_RETURN') "
        "+ (SELECT count(*) FROM pg_trigger WHERE tgrelid = c.oid) AS extras, "
        # what depends on the view's row type (a function RETURNS SETOF it) blocks its DROP
        "(SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_type'::regclass "
        "AND refobjid = c.reltype AND deptype = 'n') AS typed, "
        "c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
        "OR pg_has_role(c.relowner, 'MEMBER') AS owned "
        "FROM v JOIN pg_class c ON c.oid = v.oid GROUP BY c.oid ORDER BY 3, 1"
    )
    rows = (
        op.get_bind()
        .exec_driver_sql(query, execution_options={"no_parameters": True})
        .all()
    )
    return rows


def views_replaceable(table: str, *columns: str) -> None:
    """PostgreSQL: stop, before any DDL, where views_kept would (run first in the plan, so
    nothing is half done)."""
    if _offline() or _dialect() != "postgresql":
        return
    _replaceable(table, columns, _views_on(table, columns))


def _replaceable(table: str, columns: tuple, rows: list) -> None:
    for r in rows:
        if r.relkind != "v" or r.extras:
            what, loss = (
                ("a materialized view", "its rows")
                if r.relkind == "m"
                else ("a view with rules or triggers", "them")
            )
            why = f"dropped and created again it would lose {loss}"
        elif r.typed:
            what, why = (
                "a view",
                "functions or types use its row type, so it cannot be dropped",
            )
        elif not r.owned:
            what, why = (
                f"a view owned by {r.owner}",
                "this role cannot give it back to its owner once created again",
            )
        else:
            continue
        raise CommandError(
            f"planner: {r.name}, {what}, reads {', '.join(columns)} of {table}: {why}; "
            "drop it in an earlier revision and create it again in a later one"
        )


@contextlib.contextmanager
def views_kept(table: str, *columns: str):
    """PostgreSQL: the views that read `columns` of `table` (quoted), and the views on those,
    dropped for the block and created again after it as they were (definition, options such
    as check_option and security_barrier, owner, comments, column defaults, grants, column
    grants; each grant is given again by this role): the server refuses to
    change the type of a column a view reads, or to drop it (`cannot alter type of a column
    used by a view or rule`). Created again, a view reads the column that has the name then.
    A materialized view, a view with rules or triggers of its own, one whose row type a
    function uses, or one owned by a role this one cannot act as, stops the step before
    anything is dropped (views_replaceable stops the plan earlier). The table is locked before
    its views, as its own statements lock it. Offline: a comment."""
    if _offline():
        op.get_context().impl.static_output(
            f"-- planner: drop the views that read {', '.join(columns)} of {table} "
            "here (views on them first), and create them again as they were after it"
        )
        yield
        return
    if _dialect() != "postgresql":
        yield
        return
    rows = _views_on(table, columns)
    _replaceable(table, columns, rows)
    if rows:  # the table first, as the step's own statements would: then its views
        sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    for r in reversed(rows):
        sql(f"DROP VIEW {r.name}")
    yield
    for r in rows:
        options = f" WITH ({r.options})" if r.options else ""
        sql(f"CREATE VIEW {r.name}{options} AS {r.body}")
        sql(f"ALTER VIEW {r.name} OWNER TO {r.owner}")
        if r.comment is not None:
            sql(f"COMMENT ON VIEW {r.name} IS {_literal(r.comment)}")
        for name, text in json.loads(r.columns or "[]"):
            sql(f"COMMENT ON COLUMN {r.name}.{_ident(name)} IS {_literal(text)}")
        for name, default in json.loads(r.defaults or "[]"):
            sql(
                f"ALTER VIEW {r.name} ALTER COLUMN {_ident(name)} SET DEFAULT {default}"
            )
        for grant in json.loads(r.grants or "[]") + json.loads(r.column_grants or "[]"):
            sql(grant)


def note_kept(table: str) -> None:
    """PostgreSQL: note for this transaction, by name, what a swap of columns of `table`
    (quoted) drops that the schema model does not hold and the naive ALTER ... TYPE keeps: the
    comments of the table's indexes and constraints and of the foreign keys that reference it
    (the copies that take their names are built or added again). See restore_kept; the
    columns' own settings go over by column_like before the swap drops them."""
    t = _literal(table)
    rows = (
        "SELECT 'c' AS k, conrelid::regclass::text AS t, conname::text AS n, "
        "obj_description(oid, 'pg_constraint') AS d FROM pg_constraint "
        f"WHERE conrelid = {t}::regclass OR confrelid = {t}::regclass UNION ALL "
        "SELECT 'i', indrelid::regclass::text, indexrelid::regclass::text, "
        f"obj_description(indexrelid, 'pg_class') FROM pg_index WHERE indrelid = {t}::regclass"
    )
    sql(
        "SELECT set_config('planner.swap_kept', coalesce((SELECT json_agg("
        f"json_build_array(k, t, n, d))::text FROM ({rows}) planner_c WHERE d IS NOT NULL), "
        "'[]'), true)"
    )


def column_like(
    table: str,
    target: str,
    source: str,
    *,
    source_table: str | None = None,
    storage: bool = True,
) -> None:
    """PostgreSQL: column `target` of `table` (quoted) takes what the schema model does not
    hold of column `source` of `source_table` (quoted; `table` by default) and a plain RENAME
    keeps: its statistics target, options (n_distinct) and column privileges, and with
    `storage` its STORAGE and COMPRESSION where they are not the type's default (ALTER ...
    TYPE resets those two: a type swap passes storage=False). A rename by copy gives them to
    the new column, a swap to the column that takes the name, a dropped column to its backup
    and the backup back to the column the downgrade adds. Nothing when either is gone (a
    re-run after the backup it reads was removed)."""
    dst = _literal(target)
    body = (
        f" DECLARE planner_s regclass := to_regclass({_literal(source_table or table)}); "
        f"planner_t regclass := to_regclass({_literal(table)}); r record; g record; "
        "planner_c text; BEGIN IF planner_s IS NULL OR planner_t IS NULL THEN RETURN; END IF; "
        "FOR r IN SELECT a.attstattarget, a.attoptions, a.attacl, a.attstorage, t.typstorage "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = planner_s "
        f"AND a.attname = {_literal(source)} AND NOT a.attisdropped LOOP "
        "IF coalesce(r.attstattarget, -1) <> -1 THEN EXECUTE format('ALTER TABLE %s ALTER "
        f"COLUMN %I SET STATISTICS %s', planner_t, {dst}, r.attstattarget); END IF; "
        "IF EXISTS (SELECT FROM unnest(r.attoptions) o WHERE o ~ '^n_distinct') THEN EXECUTE "
        f"format('ALTER TABLE %s ALTER COLUMN %I SET (%s)', planner_t, {dst}, "
        "array_to_string(ARRAY(SELECT o FROM unnest(r.attoptions) o WHERE o ~ '^n_distinct'), "
        "', ')); END IF; "
        "FOR g IN SELECT * FROM aclexplode(r.attacl) LOOP EXECUTE format('GRANT %s (%I) ON %s "
        f"TO %s%s', g.privilege_type, {dst}, planner_t, CASE WHEN g.grantee = 0 THEN 'PUBLIC' "
        "ELSE quote_ident(pg_get_userbyid(g.grantee)) END, CASE WHEN g.is_grantable THEN "
        "' WITH GRANT OPTION' ELSE '' END); END LOOP; "
    )
    if storage:
        # (attcompression: PostgreSQL 14 and later, read by a dynamic query)
        body += (
            "IF r.attstorage <> r.typstorage THEN EXECUTE format('ALTER TABLE %s ALTER COLUMN "
            f"%I SET STORAGE %s', planner_t, {dst}, CASE r.attstorage WHEN 'p' THEN 'PLAIN' "
            "WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END); END IF; "
            "IF current_setting('server_version_num')::int >= 140000 THEN EXECUTE format("
            "'SELECT attcompression::text FROM pg_attribute WHERE attrelid = %s AND attname "
            f"= %L', planner_s::oid, {_literal(source)}) INTO planner_c; "
            "IF coalesce(planner_c, '') <> '' THEN EXECUTE format('ALTER TABLE %s ALTER COLUMN "
            f"%I SET COMPRESSION %s', planner_t, {dst}, CASE planner_c WHEN 'p' THEN 'pglz' "
            "ELSE 'lz4' END); END IF; END IF; "
        )
    body += "END LOOP; END "
    tag = _dollar(
        body
    )  # (the names are in the body: one holding `$planner$` must not end it)
    sql(f"DO {tag}{body}{tag}")


def restore_kept() -> None:
    """PostgreSQL: what note_kept noted, set again on what has those names now (the copies a
    swap renamed, the keys it added again)."""
    sql(
        "DO $planner$ DECLARE r json; BEGIN FOR r IN SELECT * FROM json_array_elements("
        "current_setting('planner.swap_kept')::json) LOOP CASE r->>0 "
        "WHEN 'c' THEN IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = "
        "(r->>1)::regclass AND conname = r->>2) THEN EXECUTE format("
        "'COMMENT ON CONSTRAINT %I ON %s IS %L', r->>2, r->>1, r->>3); END IF; "
        "WHEN 'i' THEN IF to_regclass(r->>2) IS NOT NULL THEN EXECUTE format("
        "'COMMENT ON INDEX %s IS %L', r->>2, r->>3); END IF; "
        "END CASE; END LOOP; END $planner$"
    )


def drop_index(statement: str, table: str, name: str, *clauses: str) -> None:
    """MySQL/MariaDB: `statement` (ALTER TABLE ... DROP INDEX `name`, run by `alter` with
    `clauses`) unless table `table` (its name as is, unquoted) has no index `name` any more: the server drops a foreign key's
    own index by itself once an index created since serves the key (MySQL's manual: "silently
    dropped"), and the plan wants it gone either way. Offline it is written as is."""
    if not _offline():
        there = sql(
            "SELECT count(*) FROM information_schema.statistics WHERE table_schema = "
            f"DATABASE() AND table_name = {_text(table)} AND index_name = {_text(name)}",
            scalar=True,
        )
        if not there:
            print(
                f"planner: index {name} of {table} is gone already (the server drops a foreign "
                "key's own index once another index serves the key)",
                file=sys.stderr,
                flush=True,
            )
            return
    alter(statement, *clauses)


def _batch_limits() -> tuple[int, float]:
    """(most rows per batch, milliseconds a batch is sized to take) of this run."""
    most = max(1, setting("batch_rows", BATCH_SIZE))
    return most, max(1.0, setting("batch_ms", float(BATCH_MS)))


def next_batch(size: int, took_ms: float, most: int, target_ms: float) -> int:
    """The next batch's size: scaled toward `target_ms`, at most halved or doubled, 1..most."""
    scaled = int(size * target_ms / max(took_ms, 1.0))
    return max(1, min(most, 2 * size, max(size // 2, scaled)))


def backfill(head: str, tail: str = "") -> None:
    """Run a batched UPDATE (`head` N `tail`: at most N rows) until it touches none; called
    inside an autocommit block, so each batch commits on its own. N adapts (next_batch) so a
    batch, which holds its rows' locks until it commits, takes about BATCH_MS."""
    most, target = _batch_limits()
    if _offline():
        op.get_context().impl.static_output(
            "-- planner backfill: repeat the next statement until it updates 0 rows"
        )
        sql(f"{head}{most}{tail}")
        return
    bind = op.get_bind()
    options = {"no_parameters": True}
    size = min(500, most)
    while True:
        started = time.monotonic()
        n = bind.exec_driver_sql(
            f"{head}{size}{tail}", execution_options=options
        ).rowcount
        if not n:
            return
        size = next_batch(size, 1000 * (time.monotonic() - started), most, target)


def _isolation() -> str:
    """This MySQL/MariaDB session's isolation level, as SET TRANSACTION spells it."""
    for name in ("transaction_isolation", "tx_isolation"):  # MySQL 8 / MariaDB < 11.1
        try:
            level = sql(f"SELECT @@SESSION.{name}", scalar=True)
        except sa.exc.DBAPIError:
            continue
        return str(level).replace("-", " ")
    return "REPEATABLE READ"


def unlocked(*statements: str) -> None:
    """Copies (CREATE TABLE ... AS SELECT, UPDATE ... SET x = (SELECT ...)) on MySQL/MariaDB,
    in an autocommit block, under READ COMMITTED: InnoDB then reads the rows it copies as a
    snapshot. Under REPEATABLE READ it takes a shared lock on each (every writer of the
    table waits until the copy ends) and waits innodb_lock_wait_timeout (50 s by default)
    behind any row an application transaction has changed. A server that logs statements
    (binlog_format=STATEMENT) refuses such a copy under READ COMMITTED (error 1665): there
    it runs as before. Elsewhere, and offline, the statements run as they are."""
    if _offline() or _dialect() != "mysql":
        for statement in statements:
            sql(statement)
        return
    saved = _isolation()
    sql("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    try:
        for done, statement in enumerate(statements):
            try:
                sql(statement)
            except sa.exc.DBAPIError as err:
                if _mysql_code(err) != 1665:
                    raise
                # the rest as before (each is re-runnable: IF NOT EXISTS, IS NULL)
                sql(f"SET SESSION TRANSACTION ISOLATION LEVEL {saved}")
                for rest in statements[done:]:
                    sql(rest)
                return
    finally:
        sql(f"SET SESSION TRANSACTION ISOLATION LEVEL {saved}")


def _mysql_code(err: Exception):
    """The MySQL/MariaDB error number of a failed statement (None from other drivers)."""
    return (getattr(getattr(err, "orig", None), "args", None) or (None,))[0]


def _row_lock_wait(err: Exception) -> bool:
    """A statement that gave up waiting for a row lock (MySQL/MariaDB 1205, a deadlock
    1213; SQLite: the database is locked by another writer)."""
    return _mysql_code(err) in (1205, 1213) or "database is locked" in str(
        getattr(err, "orig", None) or err
    )


def _key_range(keys: list[str], op_: str, mark: str) -> str:
    """`keys` compared with a key (placeholders `mark`) in key order, as an index range
    read: (k1 > ?) OR (k1 = ? AND k2 > ?) ...; `op_` is '>' (after) or '<=' (up to). The
    values go in as _flat(key) gives them."""
    terms = []
    for i, key in enumerate(keys):
        last = op_ if (op_ == ">" or i == len(keys) - 1) else "<"
        equal = [f"{k} = {mark}" for k in keys[:i]]
        terms.append("(" + " AND ".join([*equal, f"{key} {last} {mark}"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def _flat(key) -> list:
    """The placeholders' values of _key_range for `key`: k1; k1, k2; k1, k2, k3 ..."""
    if key is None:
        return []
    return [v for i in range(len(key)) for v in key[: i + 1]]


def keyset(
    table: str,
    keys: list[str],
    assignment: str,
    cond: str = "",
    *,
    source: str = "",
    what: str = "",
    verb: str = "backfill",
) -> None:
    """A batched `UPDATE table SET assignment` of the rows meeting `cond` (MySQL/MariaDB,
    SQLite), by primary-key range: each batch ends at the key of its last row, read from
    the index where the batch before ended, so the whole walk reads the table once (an
    `UPDATE ... WHERE cond LIMIT n` loop reads, and on MySQL locks, every row done before
    each batch again: quadratic). SQL as written (quoted names; `?` is no placeholder in
    it). `source`: a relation with the same key columns (a backup) whose keys are walked
    and joined to the table's rows (aliases `t` and `b`; MySQL only).

    Each batch commits on its own (autocommit block) and adapts its size (next_batch);
    behind an application's row lock it waits LOCK_TIMEOUT at most, then is tried again
    smaller after a jittered pause, holding nothing; after lock_retries attempts the
    migration stops in one line. Without `source`, rows the walk had passed that meet
    `cond` again at its end (written meanwhile) are found by a plain read, which takes no
    lock, and updated by key. Progress on stderr."""
    most, target = _batch_limits()
    walked = f"{source} AS b" if source else table
    cols = [f"b.{k}" for k in keys] if source else list(keys)
    order = ", ".join(cols)
    if source:
        on = " AND ".join(f"t.{k} = b.{k}" for k in keys)
        head = f"UPDATE {table} AS t JOIN {source} AS b ON {on} SET {assignment} WHERE "
    else:
        head = f"UPDATE {table} SET {assignment} WHERE "
    cond = f"({cond})" if cond else "1 = 1"
    if _offline():
        op.get_context().impl.static_output(
            f"-- planner {verb}: online this runs in primary-key ranges of {most} rows"
        )
        sql(head + cond)
        return
    bind = op.get_bind()
    style = bind.dialect.paramstyle
    if style not in ("format", "pyformat", "qmark"):
        raise RuntimeError(f"planner: no batches with the parameter style {style}")
    marker = "\x00"  # where a value goes, never in SQL text

    def run(statement: str, params: list):
        if style != "qmark":  # the driver formats with %: the SQL's own % doubled
            statement = statement.replace("%", "%%")
        return bind.exec_driver_sql(
            statement.replace(marker, "?" if style == "qmark" else "%s"), tuple(params)
        )

    mysql = bind.dialect.name == "mysql"
    retries = setting("lock_retries", LOCK_RETRIES)
    every, shown = setting("progress_every", PROGRESS_EVERY), time.monotonic()
    if mysql:  # row lock waits (lock_wait_timeout is for metadata locks)
        saved = sql("SELECT @@SESSION.innodb_lock_wait_timeout", scalar=True)
        seconds = max(1, round(_seconds(setting("lock_timeout", LOCK_TIMEOUT))))
        sql(f"SET SESSION innodb_lock_wait_timeout = {seconds}")
    last, size, total, waits = None, min(500, most), 0, 0
    caller = sys._getframe(1)

    def update(where: str, params: list) -> int | None:
        """The batch's rows updated (None: it gave up behind a row lock, to be tried again)."""
        nonlocal waits
        try:
            n = run(head + where, params).rowcount
        except sa.exc.DBAPIError as err:
            if not _row_lock_wait(err):
                raise
            waits += 1
            if waits >= retries:
                raise CommandError(
                    f"planner {verb} {what}: rows of the next batch stayed locked by "
                    f"another transaction through {waits} attempts (lock timeout each); "
                    "nothing of that batch was written, the batches before it are kept: "
                    "run the revision again once that transaction ends"
                ) from None
            time.sleep(min(2**waits, 30) * random.uniform(0.5, 1.5))
            return None
        waits = 0
        return max(n, 0)

    try:
        while True:
            after = _key_range(cols, ">", marker) if last is not None else ""
            bound = (
                f"SELECT {order} FROM {walked}{' WHERE ' + after if after else ''} "
                f"ORDER BY {order} LIMIT 1 OFFSET {size - 1}"
            )
            hi = run(bound, _flat(last)).first()
            where = " AND ".join(
                [
                    *([after] if after else []),
                    *([_key_range(cols, "<=", marker)] if hi else []),
                    cond,
                ]
            )
            started = time.monotonic()
            n = update(where, _flat(last) + _flat(hi))
            if n is None:
                size = max(1, size // 2)
                continue
            total += n
            if time.monotonic() - shown >= every:
                shown = time.monotonic()
                print(
                    f"planner {verb} {what}: {total} rows", file=sys.stderr, flush=True
                )
            if hi is None:
                break
            last = tuple(hi)
            size = next_batch(size, 1000 * (time.monotonic() - started), most, target)
        # rows written behind the walk: found without locks, updated by key
        seen: set = set()
        while not source:
            found = run(
                f"SELECT {order} FROM {table} WHERE {cond} LIMIT {most}", []
            ).all()
            rows = [tuple(r) for r in found if tuple(r) not in seen]
            if not rows:
                break
            one = "(" + " AND ".join(f"{k} = {marker}" for k in cols) + ")"
            if (
                update(
                    f"({' OR '.join([one] * len(rows))}) AND {cond}",
                    [v for r in rows for v in r],
                )
                is None
            ):
                continue
            seen.update(rows)
            total += len(rows)
    except sa.exc.DBAPIError as err:
        # MySQL: a run that resumes one cut off after a later step dropped what this walk
        # reads or writes (a restore's shadow column swapped away, its backup dropped at the
        # end): that run had done this walk
        if total or not _done_before(err, caller, f"planner {verb} {what}"):
            raise
        return
    finally:
        if mysql:
            sql(f"SET SESSION innodb_lock_wait_timeout = {int(saved)}")
    if total:
        print(
            f"planner {verb} {what}: {total} rows (done)", file=sys.stderr, flush=True
        )


def _quiet_triggers(table: str) -> bool:
    """Before batches that rewrite the rows of `table` (quoted) as DDL would (a conversion, a
    rename, a restore: the plain ALTER fires no trigger), the table's own triggers that fire
    on UPDATE (an `updated_at` stamp, an audit row per row) must not fire for them: this
    session then runs with session_replication_role = replica (True: reset it after). Where
    the role may not set it, stop in one line, unless -x backfill_triggers=fire accepts that
    they fire."""
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT tg.tgname, tg.tgenabled FROM pg_trigger tg "
                "WHERE (tg.tgrelid = CAST(:t AS regclass) OR tg.tgrelid IN "
                "(SELECT relid FROM pg_partition_tree(CAST(:t AS regclass)))) "
                "AND NOT tg.tgisinternal AND tg.tgenabled <> 'D' AND (tg.tgtype & 16) <> 0 "
                "AND position('__planner_' IN tg.tgname) = 0 ORDER BY 1"
            ),
            {"t": table},
        )
        .all()
    )
    if not rows:
        return False
    names = ", ".join(dict.fromkeys(r.tgname for r in rows))
    always = ", ".join(r.tgname for r in rows if r.tgenabled == "A")
    if setting("backfill_triggers", "") == "fire":
        print(
            f"planner: the triggers of {table} ({names}) fire for each row the batches "
            "rewrite (-x backfill_triggers=fire)",
            file=sys.stderr,
            flush=True,
        )
        return False
    try:  # (outside any transaction: a refusal aborts nothing)
        sql("SET session_replication_role = replica")
    except sa.exc.DBAPIError as err:
        if getattr(getattr(err, "orig", None), "sqlstate", None) != "42501":
            raise
        raise CommandError(
            f"planner: the triggers of {table} ({names}) would fire for each row the batches "
            "rewrite, where the plain ALTER fires none (an updated_at stamp or an audit row "
            "per row), and this role may not set session_replication_role to keep them "
            "quiet; run the migration as a role that may (a superuser; on PostgreSQL 15+ "
            "GRANT SET ON PARAMETER session_replication_role TO <role>), or accept that "
            "they fire: -x backfill_triggers=fire"
        ) from None
    if always:
        print(
            f"planner: triggers of {table} enabled ALWAYS ({always}) fire for the rows the "
            "batches rewrite even so",
            file=sys.stderr,
            flush=True,
        )
    return True


def batched(*parts: str, rewrites: str | None = None) -> None:
    """Run a statement that batches by itself (a PL/pgSQL block committing after each batch,
    sized by the settings `planner.batch_rows` and `planner.batch_ms` set here from
    -x batch_rows / -x batch_ms; `parts` joined by BATCH_SIZE), outside any transaction. Its
    progress NOTICEs go to stderr, one every PROGRESS_EVERY seconds and the last.
    `rewrites`: the table (quoted) whose rows it rewrites as DDL would (see _quiet_triggers)."""
    _HELD.clear()  # outside the transaction: what its steps held is released
    most, target = _batch_limits()
    limits = [
        f"SET planner.batch_rows = '{most}'",
        f"SET planner.batch_ms = '{target:g}'",
        f"SET planner.lock_retries = '{setting('lock_retries', LOCK_RETRIES)}'",
    ]
    if _offline():
        for statement in limits:
            sql(statement)
        sql(str(BATCH_SIZE).join(parts))
        return
    # each batch commits without waiting for its WAL flush: a crash can only lose batches
    # that a re-run does again (they are idempotent), and the revision's synchronous commit
    # of its version stamp flushes them all
    for statement in [*limits, "SET synchronous_commit = off"]:
        sql(statement)
    quiet = bool(rewrites) and _quiet_triggers(rewrites)
    try:
        _notify_batches(parts)
    except sa.exc.DBAPIError as err:
        text = _first_line(err)
        if not text.startswith(("planner backfill", "planner restore")):
            raise
        raise CommandError(text) from None  # one line: what, and what to do
    finally:
        if quiet:
            sql("RESET session_replication_role")
        for statement in (
            "RESET synchronous_commit",
            "RESET planner.batch_rows",
            "RESET planner.batch_ms",
            "RESET planner.lock_retries",
        ):
            sql(statement)


def _notify_batches(parts: tuple[str, ...]) -> None:
    raw = getattr(op.get_bind().connection, "dbapi_connection", None)
    if not hasattr(raw, "add_notice_handler"):  # a driver without notice handlers
        sql(str(BATCH_SIZE).join(parts))
        return
    every, last = setting("progress_every", PROGRESS_EVERY), [time.monotonic(), ""]

    def notice(diag) -> None:
        last[1] = diag.message_primary or ""
        if last[1].startswith("planner") and time.monotonic() - last[0] >= every:
            last[0] = time.monotonic()
            print(last[1], file=sys.stderr, flush=True)

    raw.add_notice_handler(notice)
    try:
        sql(str(BATCH_SIZE).join(parts))
    finally:
        raw.remove_notice_handler(notice)
    if last[1].startswith("planner"):
        print(last[1] + " (done)", file=sys.stderr, flush=True)


def sqlite_rebuild(table: str, step) -> None:
    """`step()`, one Alembic batch rebuild of `table` on SQLite, inside `_sqlite_rebuild`."""
    with _sqlite_rebuild(table):
        step()


@contextlib.contextmanager
def _sqlite_rebuild(table: str):
    """Around one Alembic batch rebuild of `table` on SQLite (the 12-step procedure): foreign
    keys off outside any transaction (inside one the PRAGMA is a no-op); one explicit
    transaction (pysqlite begins one only before INSERT/UPDATE/DELETE, so the copy's CREATE
    TABLE would be committed on its own and left behind by a failure); legacy_alter_table on,
    so the rename back neither fails on nor rewrites the views that name the table; the
    table's triggers, which DROP TABLE drops, created again from their saved SQL; then
    foreign_key_check and COMMIT. Any failure rolls the whole rebuild back."""
    ctx = op.get_context()
    with ctx.autocommit_block():
        op.execute("PRAGMA foreign_keys = OFF")
        op.execute("PRAGMA legacy_alter_table = ON")
        try:
            if _offline():
                # the name as an SQL literal on one line (a comment ends at a line break)
                name = "'" + table.replace("'", "''") + "'"
                for ch, code in (("\r", 13), ("\n", 10)):
                    name = name.replace(ch, f"' || char({code}) || '")
                ctx.impl.static_output(
                    "BEGIN;\n-- planner: DROP TABLE drops the table's triggers: save them before "
                    "the rebuild, create them again after it:\n-- SELECT sql FROM sqlite_master "
                    f"WHERE type = 'trigger' AND tbl_name = {name};"
                )
                yield
                sqlite_foreign_key_check()
                ctx.impl.static_output("COMMIT;")
            else:
                yield from _sqlite_rebuild_online(table)
        finally:
            op.execute("PRAGMA legacy_alter_table = OFF")
            op.execute("PRAGMA foreign_keys = ON")


def _sqlite_rebuild_online(table: str):
    bind = op.get_bind()
    bind.exec_driver_sql("BEGIN")
    try:
        triggers = bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = ? COLLATE NOCASE ORDER BY rowid",
            (table,),
        ).fetchall()
        counter = _sqlite_sequence(table)
        compiled = _sqlite_schema_error(table) is None
        # the copy keeps every row's rowid (Alembic's INSERT ... SELECT numbers the rows again
        # where the key is not the rowid itself)
        copy = _sqlite_rowid_copy(table) if _sqlite_has_rowid(table) else None
        if copy is not None:
            sa.event.listen(bind, "before_cursor_execute", copy, retval=True)
        try:
            yield
        finally:
            if copy is not None:
                sa.event.remove(bind, "before_cursor_execute", copy)
        for name, text in triggers:
            try:
                bind.exec_driver_sql(text)
            except sa.exc.DBAPIError as e:
                raise CommandError(
                    f"planner: trigger {name} on {table} cannot be created again after the "
                    f"rebuild ({' '.join(str(e.orig).split())}); nothing was changed: drop or "
                    "rewrite the trigger first, then run the migration again"
                ) from None
        _sqlite_keep_sequence(table, counter)
        error = _sqlite_schema_error(table) if compiled else None
        if error is not None:
            raise CommandError(
                f"planner: after the rebuild of {table}, {error}; nothing was changed: "
                "drop or rewrite it first (SQLite's own ALTER refuses the same), then run "
                "the migration again"
            )
        sqlite_foreign_key_check()
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    bind.exec_driver_sql("COMMIT")


def _sqlite_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_has_rowid(table: str) -> bool:
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ? "
            "COLLATE NOCASE",
            (table,),
        )
        .first()
    )
    return row is not None and not row[0]


def _sqlite_rowid_copy(table: str):
    """A listener that adds `rowid` to the batch's `INSERT INTO _alembic_tmp_<table> (...)
    SELECT ...` when the new table has a rowid that is not one of its columns."""
    head = re.compile(
        r'(?s)^(INSERT INTO ("?)_alembic_tmp_'
        + re.escape(table.replace('"', '""'))
        + r"\2 \()(.*?\) SELECT )(.*)$"
    )

    def copy(conn, cursor, statement, parameters, context, executemany):
        found = head.match(statement)
        if found is None:
            return statement, parameters
        tmp = "_alembic_tmp_" + table
        if not _sqlite_has_rowid(tmp) or _sqlite_alias(tmp):
            return statement, parameters
        return found.group(1) + "rowid, " + found.group(3) + "rowid, " + found.group(
            4
        ), (parameters)

    return copy


def _sqlite_alias(table: str) -> bool:
    """Whether the rowid of `table` is one of its columns (an INTEGER PRIMARY KEY): a key
    without the automatic index a key that is not the rowid gets."""
    bind = op.get_bind()
    name = _sqlite_ident(table)
    # (every row read: a cursor left open keeps the statement active, and SQLite then refuses
    # the rebuild's DROP TABLE, "database table is locked")
    keyed = any(r[5] for r in bind.exec_driver_sql(f"PRAGMA table_info({name})").all())
    indexed = any(
        r[3] == "pk" for r in bind.exec_driver_sql(f"PRAGMA index_list({name})").all()
    )
    return keyed and not indexed


def _sqlite_sequence(table: str):
    """The table's AUTOINCREMENT counter (None: none)."""
    bind = op.get_bind()
    if not bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
    ).first():
        return None
    return bind.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = ? COLLATE NOCASE", (table,)
    ).scalar()


def _sqlite_keep_sequence(table: str, counter) -> None:
    """The counter back where it was (the copy leaves it at the largest key: ids of deleted
    rows would be given again), if the table is still AUTOINCREMENT."""
    if counter is None:
        return
    bind = op.get_bind()
    sql_ = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
        (table,),
    ).scalar()
    if not re.search(r"(?i)\bAUTOINCREMENT\b", sql_ or ""):
        return
    now = _sqlite_sequence(table)
    if now is None:
        bind.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, counter)
        )
    elif now < counter:
        bind.exec_driver_sql(
            "UPDATE sqlite_sequence SET seq = ? WHERE name = ? COLLATE NOCASE",
            (counter, table),
        )


def _sqlite_schema_error(table: str):
    """The first view or trigger that no longer compiles (None: all do): the table's triggers
    by EXPLAINing a statement that fires them, then every view and trigger by renaming a
    scratch table with legacy_alter_table off (SQLite parses the whole schema again)."""
    bind = op.get_bind()
    name = _sqlite_ident(table)
    columns = [
        _sqlite_ident(r[1])
        for r in bind.exec_driver_sql(f"PRAGMA table_xinfo({name})")
        if r[6] in (0, 1)
    ]
    fires = {
        "INSERT": f"INSERT INTO {name} DEFAULT VALUES",
        "DELETE": f"DELETE FROM {name}",
        "UPDATE": f"UPDATE {name} SET " + ", ".join(f"{c} = {c}" for c in columns),
    }
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = ? COLLATE NOCASE ORDER BY name",
        (table,),
    ).fetchall()
    for trigger, text in triggers:
        event = re.search(
            r"(?is)\bTRIGGER\b.*?\b(DELETE|INSERT|UPDATE)\b(\s+OF\b.*?)?\s+ON\b",
            text or "",
        )
        if event is None or not columns:
            continue
        try:
            bind.exec_driver_sql("EXPLAIN " + fires[event.group(1).upper()]).fetchall()
        except sa.exc.DBAPIError as e:
            return f"trigger {trigger} no longer compiles ({' '.join(str(e.orig).split())})"
    probe = "planner_schema_probe"
    bind.exec_driver_sql("PRAGMA legacy_alter_table = OFF")
    try:
        bind.exec_driver_sql(f"CREATE TABLE {probe} (x)")
        try:
            bind.exec_driver_sql(f"ALTER TABLE {probe} RENAME TO {probe}2")
            probe += "2"
        except sa.exc.DBAPIError as e:
            return " ".join(str(e.orig).split())
        finally:
            bind.exec_driver_sql(f"DROP TABLE {probe}")
    finally:
        bind.exec_driver_sql("PRAGMA legacy_alter_table = ON")
    return None


def sqlite_foreign_key_check() -> None:
    """After a SQLite rebuild with foreign keys off: no row may point nowhere."""
    if _offline():
        op.get_context().impl.static_output(
            "-- planner: PRAGMA foreign_key_check must return no rows here"
        )
        return
    rows = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if rows:
        raise RuntimeError(
            f"planner: {len(rows)} rows violate foreign keys after the rebuild: {rows[:5]}"
        )


def _invalid_index(name: str) -> bool:
    statement = sa.text(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE NOT i.indisvalid AND c.relname = :n"
    )
    return bool(op.get_bind().execute(statement, {"n": name}).scalar())


def drop_invalid_index(name: str) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS
    would skip: drop it first."""
    if _offline():
        op.get_context().impl.static_output(
            "-- planner: if an earlier run failed, drop the INVALID leftover first: "
            "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid"
        )
        return
    if _invalid_index(name):
        with waiting():
            sql(f"DROP INDEX CONCURRENTLY IF EXISTS {_ident(name)}")


def partitioned_index(table: str, name: str, tail: str, unique: bool = False) -> None:
    """PostgreSQL: index `name` of partitioned table `table` (quoted; `tail`: what follows the
    table in its CREATE INDEX), online, where CREATE INDEX CONCURRENTLY is refused: created ON
    ONLY the table (catalog only: INVALID until every partition has its own), then, partition
    by partition, built CONCURRENTLY on a leaf (ON ONLY on a partition with partitions of its
    own, recursively) and attached (ALTER INDEX ... ATTACH PARTITION). The short statements run
    outside any transaction, each tried again after a lock timeout (they held nothing), and the
    index must end valid. Re-runnable: attached partitions are skipped, an INVALID leftover of
    a build is dropped first. Offline: the parent's statement, and the rest as a comment."""
    kind = "UNIQUE INDEX" if unique else "INDEX"
    top = f"CREATE {kind} IF NOT EXISTS {_ident(name)} ON ONLY {table}{tail}"
    if _offline():
        out = op.get_context().impl.static_output
        out(top + ";")
        out(
            f"-- planner: {table} is partitioned: for each partition P, CREATE {kind} "
            f"CONCURRENTLY IF NOT EXISTS <P>_{name} ON P{tail} (ON ONLY P and its own "
            f"partitions first where P has partitions), then ALTER INDEX {_ident(name)} "
            "ATTACH PARTITION <P>_"
            + name
            + "; the index is valid once every one is attached"
        )
        return
    _short(top)
    schema = sql(
        "SELECT quote_ident(n.nspname) FROM pg_class c JOIN pg_namespace n ON "
        f"n.oid = c.relnamespace WHERE c.oid = {_literal(table)}::regclass",
        scalar=True,
    )
    _index_partitions(table, f"{schema}.{_ident(name)}", name, kind, tail)
    check_index_valid(name)


def partitioned_unique(table: str, name: str, columns: str) -> None:
    """PostgreSQL: UNIQUE constraint `name` on `columns` (the quoted column list, in brackets)
    of partitioned table `table` (quoted), online, where ADD CONSTRAINT ... USING INDEX is
    refused: partition by partition, a unique index built CONCURRENTLY on a leaf and made its
    constraint (ADD CONSTRAINT ... UNIQUE USING INDEX, a short statement); then each
    partitioned level's ADD CONSTRAINT ... UNIQUE, which adopts its partitions' constraints
    without building anything (a short statement). The short statements run outside any
    transaction, each tried again after a lock timeout. Re-runnable: a partition or level that
    has its constraint is skipped. Offline: the naive statement, and the rest as a comment."""
    top = f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} UNIQUE {columns}"
    if _offline():
        out = op.get_context().impl.static_output
        out(
            f"-- planner: {table} is partitioned: for each leaf partition P first, CREATE UNIQUE "
            f"INDEX CONCURRENTLY <P>_{name} ON P {columns} and ALTER TABLE P ADD CONSTRAINT "
            f"<P>_{name} UNIQUE USING INDEX <P>_{name}; then this statement adopts them"
        )
        out(top + ";")
        return
    _key_partitions(table, name, columns, "UNIQUE")


def _has_constraint(table: str, name: str) -> bool:
    return bool(
        sql(
            f"SELECT count(*) FROM pg_constraint WHERE conrelid = {_literal(table)}::regclass "
            f"AND conname = {_literal(name)}",
            scalar=True,
        )
    )


def _key_partitions(table: str, name: str, columns: str, kind: str) -> None:
    """A `kind` key (UNIQUE or PRIMARY KEY) `name` on `columns` of partitioned `table` (quoted)
    and, first, its partitions: a leaf's unique index built concurrently and made its key
    (USING INDEX), each partitioned level's ADD CONSTRAINT adopting its partitions' keys. A
    partition's key is named as the naive statement names it: `<partition>_<name>` for a
    UNIQUE constraint, `<partition>_pkey` for a primary key."""
    pk = kind == "PRIMARY KEY"

    def has(rel: str, key: str) -> bool:
        return _has_primary_key(rel) if pk else _has_constraint(rel, key)

    if has(table, name):
        return
    for rel, relkind, relname in _partitions(table):
        child = _clipped(f"{relname}_{'pkey' if pk else name}")
        if relkind == "p":
            _key_partitions(rel, child, columns, kind)
        elif not has(rel, child):
            drop_invalid_index(child)
            with waiting():
                sql(
                    f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {_ident(child)} ON {rel} {columns}"
                )
            check_index_valid(child)
            _short(
                f"ALTER TABLE {rel} ADD CONSTRAINT {_ident(child)} {kind} USING INDEX {_ident(child)}"
            )
    _short(f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {kind} {columns}")


def partitioned_fk(table: str, name: str, definition: str) -> None:
    """PostgreSQL: foreign key `name` (`definition`: FOREIGN KEY (...) REFERENCES ... and its
    options) of partitioned table `table` (quoted), online, where a partitioned table takes no
    NOT VALID foreign key: on each leaf partition ADD CONSTRAINT ... NOT VALID (a short
    statement; new writes are checked from then on) and VALIDATE CONSTRAINT (online: SHARE
    UPDATE EXCLUSIVE, writes go on); then each partitioned level's ADD CONSTRAINT, which adopts
    its partitions' validated keys without a scan (a short statement). Each leaf's key has the
    name the naive statement would give it (the table's). Re-runnable: a level that has the key
    is skipped, a leaf's VALIDATE of a valid key is a no-op. Offline: the naive statement, and
    the rest as a comment."""
    if _offline():
        out = op.get_context().impl.static_output
        out(
            f"-- planner: {table} is partitioned: for each leaf partition P first, ALTER TABLE P "
            f"ADD CONSTRAINT {_ident(name)} {definition} NOT VALID and ALTER TABLE P VALIDATE "
            f"CONSTRAINT {_ident(name)}; then this statement adopts them"
        )
        out(f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition};")
        return
    _fk_partitions(table, name, definition)


def partitioned_pk(table: str, name: str, columns: str) -> None:
    """PostgreSQL: primary key `name` on `columns` (quoted, in brackets) of partitioned table
    `table` (quoted), online, where ADD CONSTRAINT ... USING INDEX is refused: on each leaf
    partition a unique index built CONCURRENTLY and made its key (ADD CONSTRAINT ... PRIMARY
    KEY USING INDEX, a short statement: the columns are NOT NULL already), then each
    partitioned level's ADD PRIMARY KEY, which adopts its partitions' keys without building
    anything (a short statement). Each partition's key is named `<partition>_pkey`, as the
    naive statement names them. Re-runnable: a level that has its key is skipped. Offline:
    the naive statement, and the rest as a comment."""
    if _offline():
        out = op.get_context().impl.static_output
        out(
            f"-- planner: {table} is partitioned: for each leaf partition P first, CREATE UNIQUE "
            f"INDEX CONCURRENTLY <P>_pkey ON P {columns} and ALTER TABLE P ADD CONSTRAINT "
            "<P>_pkey PRIMARY KEY USING INDEX <P>_pkey; then this statement adopts them"
        )
        out(f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} PRIMARY KEY {columns};")
        return
    _key_partitions(table, name, columns, "PRIMARY KEY")


def _has_primary_key(table: str) -> bool:
    return bool(
        sql(
            f"SELECT count(*) FROM pg_constraint WHERE conrelid = {_literal(table)}::regclass "
            "AND contype = 'p'",
            scalar=True,
        )
    )


def _partitions(table: str) -> list:
    """(quoted name, relkind, name) of the partitions of `table` (quoted), by name."""
    return (
        op.get_bind()
        .exec_driver_sql(
            "SELECT c.oid::regclass::text, c.relkind, c.relname FROM pg_inherits i JOIN pg_class c "
            f"ON c.oid = i.inhrelid WHERE i.inhparent = {_literal(table)}::regclass ORDER BY c.relname",
            execution_options={"no_parameters": True},
        )
        .all()
    )


def _fk_partitions(table: str, name: str, definition: str) -> None:
    """partitioned_fk for `table` (quoted) and, first, its partitions."""
    if _has_constraint(table, name):
        return
    for rel, relkind, _relname in _partitions(table):
        if relkind == "p":
            _fk_partitions(rel, name, definition)
            continue
        if not _has_constraint(rel, name):
            _short(
                f"ALTER TABLE {rel} ADD CONSTRAINT {_ident(name)} {definition} NOT VALID"
            )
        with waiting():
            sql(f"ALTER TABLE {rel} VALIDATE CONSTRAINT {_ident(name)}")
    _short(f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition}")


def _index_partitions(table: str, index: str, name: str, kind: str, tail: str) -> None:
    """partitioned_index for the partitions of `table` (quoted), whose index is `index`."""
    rows = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT c.oid::regclass::text, c.relkind, c.relname, quote_ident(n.nspname), "
            "EXISTS (SELECT 1 FROM pg_index x JOIN pg_inherits h ON h.inhrelid = x.indexrelid "
            f"WHERE x.indrelid = c.oid AND h.inhparent = {_literal(index)}::regclass) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON "
            f"n.oid = c.relnamespace WHERE i.inhparent = {_literal(table)}::regclass "
            "ORDER BY c.relname",
            execution_options={"no_parameters": True},
        )
        .all()
    )
    for rel, relkind, relname, schema, attached in rows:
        if attached:
            continue
        child = _clipped(f"{relname}_{name}")
        if relkind == "p":
            _short(f"CREATE {kind} IF NOT EXISTS {_ident(child)} ON ONLY {rel}{tail}")
            _index_partitions(rel, f"{schema}.{_ident(child)}", child, kind, tail)
        else:
            drop_invalid_index(child)
            with waiting():
                sql(
                    f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {_ident(child)} ON {rel}{tail}"
                )
            check_index_valid(child)
        _short(f"ALTER INDEX {index} ATTACH PARTITION {schema}.{_ident(child)}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clipped(name: str) -> str:
    """`name` within PostgreSQL's 63 bytes: clipped, with a short hash of the whole."""
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name.encode()[:54].decode(errors="ignore") + "_" + digest


def _short(statement: str) -> None:
    """A short strong-lock statement outside any transaction (its own, under the session's
    lock_timeout): after a lock timeout it held nothing, so it is tried again after a
    jittered pause, bounded like with_lock_retry."""
    retries = setting("lock_retries", LOCK_RETRIES)
    budget = setting("lock_retry_budget", LOCK_RETRY_BUDGET)
    waited = 0.0
    for attempt in range(retries):
        try:
            sql(statement)
            return
        except sa.exc.DBAPIError as err:
            if not _is_lock_timeout(err):
                raise
            waited += _pause(
                attempt,
                retries,
                waited,
                budget,
                lambda: f"on: {statement[:120]}. Waiting on: {_blockers()}",
                f" on: {statement[:120]}; trying again",
            )


def check_index_valid(name: str) -> None:
    if not _offline() and _invalid_index(name):
        raise RuntimeError(
            f"index {name} was built INVALID; drop it and run the migration again"
        )
