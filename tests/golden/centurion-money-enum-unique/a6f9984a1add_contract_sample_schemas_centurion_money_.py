"""contract: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: the application version that no longer reads or writes what this revision drops or renames.
Deploy after: nothing; remove compatibility code at leisure.

Steps:
- drop index entries_userId_date_idx concurrently
- rename enum value Role.COACH to INSTRUCTOR
- SET NOT NULL appointments.fee__planner_new via the validated check
- swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
- SET NOT NULL invoices.totalAmount__planner_new via the validated check
- swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)

Backups (restored by downgrade; dropped by the cleanup revision, written once the release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):
- planner_backup.appointments__fee__type (id, fee before the swap)
- planner_backup.invoices__totalAmount__type (id, totalAmount before the swap)

Revision ID: a6f9984a1add
Revises: c4943dc05281
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
revision: str = 'a6f9984a1add'
down_revision: Union[str, Sequence[str], None] = 'c4943dc05281'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    _set_timeouts()
    # pre-flight guards: stop before any DDL if existing rows would break a change
    _guard('SELECT count(*) FROM "appointments" WHERE "fee__planner_new" IS DISTINCT FROM "fee"::NUMERIC(10, 2)', 'rows of appointments where fee__planner_new does not hold fee converted: run the backfill revision again (and check the trigger is there)', first=False)
    _guard('SELECT count(*) FROM "invoices" WHERE "totalAmount__planner_new" IS DISTINCT FROM "totalAmount"::NUMERIC(10, 2)', 'rows of invoices where totalAmount__planner_new does not hold totalAmount converted: run the backfill revision again (and check the trigger is there)', first=False)
    # drop index entries_userId_date_idx concurrently
    with op.get_context().autocommit_block():
        op.drop_index('entries_userId_date_idx', table_name='entries', postgresql_concurrently=True, if_exists=True)
    # rename enum value Role.COACH to INSTRUCTOR
    def _step_1() -> None:
        op.execute('ALTER TYPE "Role" RENAME VALUE \'COACH\' TO \'INSTRUCTOR\'')
    
    _with_lock_retry(_step_1)
    # SET NOT NULL appointments.fee__planner_new via the validated check
    op.execute('ALTER TABLE "appointments" VALIDATE CONSTRAINT "appointments_fee__planner_new_not_null"')
    def _step_7() -> None:
        op.alter_column('appointments', 'fee__planner_new',
                   existing_type=sa.NUMERIC(precision=10, scale=2),
                   nullable=False)
        op.drop_constraint('appointments_fee__planner_new_not_null', 'appointments', type_='check')
    
    _with_lock_retry(_step_7)
    # swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    op.execute('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    op.execute('CREATE TABLE IF NOT EXISTS "planner_backup"."appointments__fee__type" AS SELECT "id", "fee", "fee__planner_new" FROM "appointments"')
    def _step_9() -> None:
        op.execute('DROP TRIGGER IF EXISTS "appointments_fee__planner_sync" ON "appointments"')
        op.execute('DROP FUNCTION IF EXISTS "appointments_fee__planner_sync"()')
        op.drop_column('appointments', 'fee')
        op.alter_column('appointments', 'fee__planner_new',
                   new_column_name='fee')
    
    _with_lock_retry(_step_9)
    # SET NOT NULL invoices.totalAmount__planner_new via the validated check
    op.execute('ALTER TABLE "invoices" VALIDATE CONSTRAINT "invoices_totalAmount__planner_new_not_null"')
    def _step_16() -> None:
        op.alter_column('invoices', 'totalAmount__planner_new',
                   existing_type=sa.NUMERIC(precision=10, scale=2),
                   nullable=False)
        op.drop_constraint('invoices_totalAmount__planner_new_not_null', 'invoices', type_='check')
    
    _with_lock_retry(_step_16)
    # swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    op.execute('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    op.execute('CREATE TABLE IF NOT EXISTS "planner_backup"."invoices__totalAmount__type" AS SELECT "id", "totalAmount", "totalAmount__planner_new" FROM "invoices"')
    def _step_18() -> None:
        op.execute('DROP TRIGGER IF EXISTS "invoices_totalAmount__planner_sync" ON "invoices"')
        op.execute('DROP FUNCTION IF EXISTS "invoices_totalAmount__planner_sync"()')
        op.drop_column('invoices', 'totalAmount')
        op.alter_column('invoices', 'totalAmount__planner_new',
                   new_column_name='totalAmount')
    
    _with_lock_retry(_step_18)


def downgrade() -> None:
    """Downgrade schema."""
    _set_timeouts()
    # undo: swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    op.execute('DO $planner$ DECLARE v "invoices"."totalAmount"%TYPE; bad bigint := 0; BEGIN FOR v IN SELECT "totalAmount" FROM "invoices" WHERE "totalAmount" IS NOT NULL LOOP BEGIN PERFORM v::DOUBLE PRECISION; EXCEPTION WHEN others THEN bad := bad + 1; END; END LOOP; IF bad > 0 THEN RAISE EXCEPTION \'planner guard failed: % values of invoices.totalAmount do not convert to DOUBLE PRECISION (written since the swap; fix them first)\', bad; END IF; END $planner$')
    def _step_19() -> None:
        op.alter_column('invoices', 'totalAmount',
                   new_column_name='totalAmount__planner_new')
        op.add_column('invoices', sa.Column('totalAmount', sa.DOUBLE_PRECISION(), nullable=True))
    
    _with_lock_retry(_step_19)
    op.execute('UPDATE "invoices" AS t SET "totalAmount" = b."totalAmount" FROM "planner_backup"."invoices__totalAmount__type" AS b WHERE t."id" = b."id" AND (t."totalAmount__planner_new" IS NOT DISTINCT FROM b."totalAmount__planner_new")')
    op.execute('DROP TABLE "planner_backup"."invoices__totalAmount__type"')
    def _step_20() -> None:
        op.execute('UPDATE "invoices" SET "totalAmount" = "totalAmount__planner_new"::DOUBLE PRECISION WHERE "totalAmount" IS NULL AND "totalAmount__planner_new" IS NOT NULL')
        op.execute('CREATE OR REPLACE FUNCTION "invoices_totalAmount__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."totalAmount__planner_new" := NEW."totalAmount"::NUMERIC(10, 2); RETURN NEW; END $planner$')
        op.execute('CREATE TRIGGER "invoices_totalAmount__planner_sync" BEFORE INSERT OR UPDATE ON "invoices" FOR EACH ROW EXECUTE FUNCTION "invoices_totalAmount__planner_sync"()')
        op.alter_column('invoices', 'totalAmount',
                   existing_type=sa.DOUBLE_PRECISION(),
                   nullable=False)
    
    _with_lock_retry(_step_20)
    # undo: SET NOT NULL invoices.totalAmount__planner_new via the validated check
    def _step_17() -> None:
        op.alter_column('invoices', 'totalAmount__planner_new',
                   existing_type=sa.NUMERIC(precision=10, scale=2),
                   nullable=True)
    
    _with_lock_retry(_step_17)
    # undo: swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    op.execute('DO $planner$ DECLARE v "appointments"."fee"%TYPE; bad bigint := 0; BEGIN FOR v IN SELECT "fee" FROM "appointments" WHERE "fee" IS NOT NULL LOOP BEGIN PERFORM v::DOUBLE PRECISION; EXCEPTION WHEN others THEN bad := bad + 1; END; END LOOP; IF bad > 0 THEN RAISE EXCEPTION \'planner guard failed: % values of appointments.fee do not convert to DOUBLE PRECISION (written since the swap; fix them first)\', bad; END IF; END $planner$')
    def _step_10() -> None:
        op.alter_column('appointments', 'fee',
                   new_column_name='fee__planner_new')
        op.add_column('appointments', sa.Column('fee', sa.DOUBLE_PRECISION(), nullable=True))
    
    _with_lock_retry(_step_10)
    op.execute('UPDATE "appointments" AS t SET "fee" = b."fee" FROM "planner_backup"."appointments__fee__type" AS b WHERE t."id" = b."id" AND (t."fee__planner_new" IS NOT DISTINCT FROM b."fee__planner_new")')
    op.execute('DROP TABLE "planner_backup"."appointments__fee__type"')
    def _step_11() -> None:
        op.execute('UPDATE "appointments" SET "fee" = "fee__planner_new"::DOUBLE PRECISION WHERE "fee" IS NULL AND "fee__planner_new" IS NOT NULL')
        op.execute('CREATE OR REPLACE FUNCTION "appointments_fee__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."fee__planner_new" := NEW."fee"::NUMERIC(10, 2); RETURN NEW; END $planner$')
        op.execute('CREATE TRIGGER "appointments_fee__planner_sync" BEFORE INSERT OR UPDATE ON "appointments" FOR EACH ROW EXECUTE FUNCTION "appointments_fee__planner_sync"()')
        op.alter_column('appointments', 'fee',
                   existing_type=sa.DOUBLE_PRECISION(),
                   nullable=False)
    
    _with_lock_retry(_step_11)
    # undo: SET NOT NULL appointments.fee__planner_new via the validated check
    def _step_8() -> None:
        op.alter_column('appointments', 'fee__planner_new',
                   existing_type=sa.NUMERIC(precision=10, scale=2),
                   nullable=True)
    
    _with_lock_retry(_step_8)
    # undo: rename enum value Role.COACH to INSTRUCTOR
    def _step_2() -> None:
        op.execute('ALTER TYPE "Role" RENAME VALUE \'INSTRUCTOR\' TO \'COACH\'')
    
    _with_lock_retry(_step_2)
    # undo: drop index entries_userId_date_idx concurrently
    with op.get_context().autocommit_block():
        _drop_invalid_index('entries_userId_date_idx')
        op.create_index('entries_userId_date_idx', 'entries', ['userId', 'date'], unique=False, postgresql_concurrently=True, if_not_exists=True)
        _check_index_valid('entries_userId_date_idx')
