"""backfill: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: the application version that writes the new columns/values, so no new row misses the backfill.
Deploy after: the application version that reads the new columns/values and no longer uses what the contract phase removes.

Steps:
- backfill appointments.fee__planner_new in batches
- backfill invoices.totalAmount__planner_new in batches
- NOT VALID check appointments_fee__planner_new_not_null
- NOT VALID check invoices_totalAmount__planner_new_not_null

Revision ID: c4943dc05281
Revises: efe1a8fee0d4
Create Date: 2000-01-01 00:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite  # noqa: F401 (types in rendered ops)

# --- planner runtime helpers (generated; only alembic and sqlalchemy are imported) ---
LOCK_TIMEOUT = "3s"  # bound every wait for a strong lock (SQLSTATE 55P03 on expiry)
LOCK_RETRIES = 5  # attempts for a step that times out waiting for its lock
BATCH_SIZE = 5000  # rows per backfill transaction


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


def _guard(sql: str, message: str, first: bool = True) -> None:
    """Stop when existing rows would break the change (query must return 0): before any DDL
    (`first`), or right before the step that needs it, where the revision's transactional DDL
    so far is rolled back with it."""
    if _offline():
        if _dialect() == "postgresql":
            op.execute(
                "DO $planner$ BEGIN IF (" + sql + ") > 0 THEN RAISE EXCEPTION '%', "
                + sa.literal(message).compile(dialect=op.get_context().dialect,
                                              compile_kwargs={"literal_binds": True}).string
                + "; END IF; END $planner$"
            )
        else:
            op.execute("-- planner guard (run it first, it must return 0): " + sql)
        return
    count = op.get_bind().execute(sa.text(sql)).scalar()
    if count:
        done = "no DDL was run" if first else "the revision's transactional DDL is rolled back"
        raise RuntimeError(f"planner guard failed: {message} ({count} rows); {done}")


def _set_timeouts() -> None:
    # quote every identifier, online and in --sql output (SQLAlchemy quotes only where needed)
    preparer = op.get_context().dialect.identifier_preparer
    preparer._requires_quotes = lambda value: True
    preparer._strings.clear()
    if _dialect() == "postgresql":
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    elif _dialect() == "mysql":
        op.execute("SET SESSION lock_wait_timeout = " + LOCK_TIMEOUT.rstrip("s"))


def _is_lock_timeout(err: Exception) -> bool:
    orig = getattr(err, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    args = getattr(orig, "args", ())
    return code == "55P03" or (bool(args) and args[0] in (1205, 1213))


def _with_lock_retry(step) -> None:
    """Run `step` (DDL taking a strong lock); on a lock timeout roll it back to a savepoint
    (PostgreSQL; a MySQL statement that timed out waiting for its metadata lock did nothing),
    wait, and try again, so a long-running transaction cannot make the migration queue
    everything behind it."""
    if _offline() or _dialect() not in ("postgresql", "mysql"):
        step()
        return
    bind = op.get_bind()
    for attempt in range(LOCK_RETRIES):
        try:
            if _dialect() == "postgresql":
                with bind.begin_nested():
                    step()
            else:
                step()
            return
        except sa.exc.DBAPIError as err:
            if not _is_lock_timeout(err) or attempt == LOCK_RETRIES - 1:
                raise
            sleep = "SELECT pg_sleep(:s)" if _dialect() == "postgresql" else "SELECT SLEEP(:s)"
            bind.execute(sa.text(sleep), {"s": 2 ** attempt})


def _alter(sql: str, *clauses: str) -> None:
    """MySQL/MariaDB: run `sql` with the first ALGORITHM/LOCK clause the server accepts, in the
    order given. The server refuses a clause it cannot honour (errors 1845/1846) instead of
    silently copying the table, so a step never takes a stronger lock than its list allows.
    Offline, the first clause is written."""
    for i, clause in enumerate(clauses):
        try:
            op.execute(sa.text(sql + clause))
            return
        except sa.exc.DBAPIError as err:
            code = (getattr(getattr(err, "orig", None), "args", None) or (None,))[0]
            if code not in (1845, 1846) or i == len(clauses) - 1:
                raise


def _backfill(sql: str) -> None:
    """Run a batched UPDATE (`sql` updates at most :batch_size rows) until it touches none;
    called inside an autocommit block, so each batch commits on its own and no transaction
    holds row locks for long."""
    statement = sa.text(sql).bindparams(batch_size=BATCH_SIZE)
    if _offline():
        op.execute("-- planner backfill: repeat the next statement until it updates 0 rows")
        op.execute(statement)
        return
    while op.get_bind().execute(statement).rowcount:
        pass


def _sqlite_foreign_key_check() -> None:
    """After a SQLite rebuild with foreign keys off: no row may point nowhere (R14 step 10)."""
    if _offline():
        op.execute("-- planner: PRAGMA foreign_key_check must return no rows here")
        return
    rows = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
    if rows:
        raise RuntimeError(f"planner: {len(rows)} rows violate foreign keys after the rebuild: {rows[:5]}")


def _drop_invalid_index(name: str) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would skip."""
    sql = ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE NOT i.indisvalid AND c.relname = :n")
    if _offline():
        op.execute("-- planner: if an earlier run failed, drop the INVALID leftover first: "
                   "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid")
        return
    if op.get_bind().execute(sa.text(sql), {"n": name}).scalar():
        op.execute(sa.text("DROP INDEX CONCURRENTLY IF EXISTS " + op.get_context().dialect
                           .identifier_preparer.quote(name)))


def _check_index_valid(name: str) -> None:
    if _offline():
        return
    sql = ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE NOT i.indisvalid AND c.relname = :n")
    if op.get_bind().execute(sa.text(sql), {"n": name}).scalar():
        raise RuntimeError(f"index {name} was built INVALID; drop it and run the migration again")
# --- end of planner runtime helpers ---


# revision identifiers, used by Alembic.
revision: str = 'c4943dc05281'
down_revision: Union[str, Sequence[str], None] = 'efe1a8fee0d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    _set_timeouts()
    # backfill appointments.fee__planner_new in batches
    with op.get_context().autocommit_block():
        _backfill('UPDATE "appointments" SET "fee__planner_new" = "fee"::NUMERIC(10, 2) WHERE ("id") IN (SELECT "id" FROM "appointments" WHERE "fee__planner_new" IS NULL AND "fee" IS NOT NULL ORDER BY "id" LIMIT :batch_size)')
    # backfill invoices.totalAmount__planner_new in batches
    with op.get_context().autocommit_block():
        _backfill('UPDATE "invoices" SET "totalAmount__planner_new" = "totalAmount"::NUMERIC(10, 2) WHERE ("id") IN (SELECT "id" FROM "invoices" WHERE "totalAmount__planner_new" IS NULL AND "totalAmount" IS NOT NULL ORDER BY "id" LIMIT :batch_size)')
    # NOT VALID check appointments_fee__planner_new_not_null
    def _step_5() -> None:
        op.create_check_constraint('appointments_fee__planner_new_not_null', 'appointments', '"fee__planner_new" IS NOT NULL', postgresql_not_valid=True)
    
    _with_lock_retry(_step_5)
    # NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_14() -> None:
        op.create_check_constraint('invoices_totalAmount__planner_new_not_null', 'invoices', '"totalAmount__planner_new" IS NOT NULL', postgresql_not_valid=True)
    
    _with_lock_retry(_step_14)


def downgrade() -> None:
    """Downgrade schema."""
    _set_timeouts()
    # undo: NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_15() -> None:
        op.drop_constraint('invoices_totalAmount__planner_new_not_null', 'invoices', type_='check', if_exists=True)
    
    _with_lock_retry(_step_15)
    # undo: NOT VALID check appointments_fee__planner_new_not_null
    def _step_6() -> None:
        op.drop_constraint('appointments_fee__planner_new_not_null', 'appointments', type_='check', if_exists=True)
    
    _with_lock_retry(_step_6)
