"""backfill: 3 changes to Role, appointments, invoices

From: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: nothing; the running OLD application keeps working during this revision.
Deploy after: the application version that reads the new columns/values and no longer uses what the contract phase removes.
Application versions: during this revision: OLD; after it: OLD and NEW.

Steps:
- backfill users.role in batches
- backfill users.role__planner_new in batches
- build index users_role_idx__planner_new on role__planner_new concurrently (becomes users_role_idx)
- backfill appointments.fee__planner_new in batches
- backfill invoices.totalAmount__planner_new in batches
- NOT VALID check users_role__planner_new_not_null
- NOT VALID check appointments_fee__planner_new_not_null
- NOT VALID check invoices_totalAmount__planner_new_not_null

Backups (restored by downgrade; dropped by the cleanup revision, written once the release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):
- planner_backup.users__role__COACH (id, role holding 'COACH')

Revision ID: 7555d8502931
Revises: d8ce3b9f5848
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

from alembic import context, op
from alembic.util import load_python_file

# revision identifiers, used by Alembic.
revision: str = "7555d8502931"
down_revision: str | Sequence[str] | None = "d8ce3b9f5848"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # backfill users.role in batches
    rt.fresh_backup("planner_backup", "users__role__COACH", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."users__role__COACH" AS SELECT "id", "role"::text AS "role" FROM "users" WHERE "role"::text = \'COACH\''
    )
    rt.mark_backup("planner_backup", "users__role__COACH", revision)
    with op.get_context().autocommit_block():
        rt.batched(
            """
            DO $planner$
            DECLARE
                planner_n bigint := 0;
                planner_total bigint := 0;
                planner_max integer := coalesce(nullif(current_setting('planner.batch_rows', true), '')::integer, 5000);
                planner_ms double precision := coalesce(nullif(current_setting('planner.batch_ms', true), '')::double precision, 50);
                planner_tries integer := coalesce(nullif(current_setting('planner.lock_retries', true), '')::integer, 8);
                planner_waits integer := 0;
                planner_started timestamptz;
                planner_took double precision;
                planner_last_0 "users"."id"%TYPE;
                planner_hi_0 "users"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "users" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "users" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "users" SET "role" = 'INSTRUCTOR'
                            WHERE ("id") <= (planner_hi_0) AND ("role"::text = 'COACH');
                        ELSE
                            UPDATE "users" SET "role" = 'INSTRUCTOR'
                            WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("role"::text = 'COACH');
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner backfill users.role: '
                                || 'rows of the next batch stayed locked by another transaction through '
                                || planner_waits || ' attempts (lock timeout each); nothing of that batch was'
                                || ' written, the batches before it are kept: run the revision again once'
                                || ' that transaction ends';
                        END IF;
                        planner_batch := greatest(1, planner_batch / 2);
                        COMMIT;
                        PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));
                        CONTINUE;
                    END IF;
                    planner_waits := 0;
                    planner_total := planner_total + planner_n;
                    planner_last_0 := planner_hi_0;
                    planner_first := false;
                    COMMIT;
                    planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);
                    planner_batch := greatest(1, least(planner_max, 2 * planner_batch, greatest(planner_batch / 2,
                        (planner_batch * planner_ms / greatest(planner_took, 1))::integer)));
                    RAISE NOTICE USING MESSAGE = 'planner backfill users.role: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"users"',
        )
        rt.sql('ANALYZE "users"')
    # backfill users.role__planner_new in batches
    with op.get_context().autocommit_block():
        rt.batched(
            """
            DO $planner$
            DECLARE
                planner_n bigint := 0;
                planner_total bigint := 0;
                planner_max integer := coalesce(nullif(current_setting('planner.batch_rows', true), '')::integer, 5000);
                planner_ms double precision := coalesce(nullif(current_setting('planner.batch_ms', true), '')::double precision, 50);
                planner_tries integer := coalesce(nullif(current_setting('planner.lock_retries', true), '')::integer, 8);
                planner_waits integer := 0;
                planner_started timestamptz;
                planner_took double precision;
                planner_last_0 "users"."id"%TYPE;
                planner_hi_0 "users"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "users" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "users" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "users" SET "role__planner_new" = ((CASE WHEN "role"::text = 'COACH' THEN 'INSTRUCTOR' ELSE "role"::text END))::text::"Role__planner_new"
                            WHERE ("id") <= (planner_hi_0) AND ("role__planner_new" IS NULL);
                        ELSE
                            UPDATE "users" SET "role__planner_new" = ((CASE WHEN "role"::text = 'COACH' THEN 'INSTRUCTOR' ELSE "role"::text END))::text::"Role__planner_new"
                            WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("role__planner_new" IS NULL);
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner backfill users.role__planner_new: '
                                || 'rows of the next batch stayed locked by another transaction through '
                                || planner_waits || ' attempts (lock timeout each); nothing of that batch was'
                                || ' written, the batches before it are kept: run the revision again once'
                                || ' that transaction ends';
                        END IF;
                        planner_batch := greatest(1, planner_batch / 2);
                        COMMIT;
                        PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));
                        CONTINUE;
                    END IF;
                    planner_waits := 0;
                    planner_total := planner_total + planner_n;
                    planner_last_0 := planner_hi_0;
                    planner_first := false;
                    COMMIT;
                    planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);
                    planner_batch := greatest(1, least(planner_max, 2 * planner_batch, greatest(planner_batch / 2,
                        (planner_batch * planner_ms / greatest(planner_took, 1))::integer)));
                    RAISE NOTICE USING MESSAGE = 'planner backfill users.role__planner_new: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"users"',
        )
    # build index users_role_idx__planner_new on role__planner_new concurrently (becomes users_role_idx)
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("users_role_idx__planner_new")
        with rt.waiting():
            op.create_index(
                rt.q("users_role_idx__planner_new"),
                rt.q("users"),
                [rt.q("role__planner_new")],
                unique=False,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("users_role_idx__planner_new")
    # backfill appointments.fee__planner_new in batches
    with op.get_context().autocommit_block():
        rt.batched(
            """
            DO $planner$
            DECLARE
                planner_n bigint := 0;
                planner_total bigint := 0;
                planner_max integer := coalesce(nullif(current_setting('planner.batch_rows', true), '')::integer, 5000);
                planner_ms double precision := coalesce(nullif(current_setting('planner.batch_ms', true), '')::double precision, 50);
                planner_tries integer := coalesce(nullif(current_setting('planner.lock_retries', true), '')::integer, 8);
                planner_waits integer := 0;
                planner_started timestamptz;
                planner_took double precision;
                planner_last_0 "appointments"."id"%TYPE;
                planner_hi_0 "appointments"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "appointments" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "appointments" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "appointments" SET "fee__planner_new" = "fee"::NUMERIC(10, 2)
                            WHERE ("id") <= (planner_hi_0) AND ("fee__planner_new" IS NULL AND "fee" IS NOT NULL);
                        ELSE
                            UPDATE "appointments" SET "fee__planner_new" = "fee"::NUMERIC(10, 2)
                            WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("fee__planner_new" IS NULL AND "fee" IS NOT NULL);
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner backfill appointments.fee__planner_new: '
                                || 'rows of the next batch stayed locked by another transaction through '
                                || planner_waits || ' attempts (lock timeout each); nothing of that batch was'
                                || ' written, the batches before it are kept: run the revision again once'
                                || ' that transaction ends';
                        END IF;
                        planner_batch := greatest(1, planner_batch / 2);
                        COMMIT;
                        PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));
                        CONTINUE;
                    END IF;
                    planner_waits := 0;
                    planner_total := planner_total + planner_n;
                    planner_last_0 := planner_hi_0;
                    planner_first := false;
                    COMMIT;
                    planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);
                    planner_batch := greatest(1, least(planner_max, 2 * planner_batch, greatest(planner_batch / 2,
                        (planner_batch * planner_ms / greatest(planner_took, 1))::integer)));
                    RAISE NOTICE USING MESSAGE = 'planner backfill appointments.fee__planner_new: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"appointments"',
        )
    # backfill invoices.totalAmount__planner_new in batches
    with op.get_context().autocommit_block():
        rt.batched(
            """
            DO $planner$
            DECLARE
                planner_n bigint := 0;
                planner_total bigint := 0;
                planner_max integer := coalesce(nullif(current_setting('planner.batch_rows', true), '')::integer, 5000);
                planner_ms double precision := coalesce(nullif(current_setting('planner.batch_ms', true), '')::double precision, 50);
                planner_tries integer := coalesce(nullif(current_setting('planner.lock_retries', true), '')::integer, 8);
                planner_waits integer := 0;
                planner_started timestamptz;
                planner_took double precision;
                planner_last_0 "invoices"."id"%TYPE;
                planner_hi_0 "invoices"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "invoices" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "invoices" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "invoices" SET "totalAmount__planner_new" = "totalAmount"::NUMERIC(10, 2)
                            WHERE ("id") <= (planner_hi_0) AND ("totalAmount__planner_new" IS NULL AND "totalAmount" IS NOT NULL);
                        ELSE
                            UPDATE "invoices" SET "totalAmount__planner_new" = "totalAmount"::NUMERIC(10, 2)
                            WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("totalAmount__planner_new" IS NULL AND "totalAmount" IS NOT NULL);
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner backfill invoices.totalAmount__planner_new: '
                                || 'rows of the next batch stayed locked by another transaction through '
                                || planner_waits || ' attempts (lock timeout each); nothing of that batch was'
                                || ' written, the batches before it are kept: run the revision again once'
                                || ' that transaction ends';
                        END IF;
                        planner_batch := greatest(1, planner_batch / 2);
                        COMMIT;
                        PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));
                        CONTINUE;
                    END IF;
                    planner_waits := 0;
                    planner_total := planner_total + planner_n;
                    planner_last_0 := planner_hi_0;
                    planner_first := false;
                    COMMIT;
                    planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);
                    planner_batch := greatest(1, least(planner_max, 2 * planner_batch, greatest(planner_batch / 2,
                        (planner_batch * planner_ms / greatest(planner_took, 1))::integer)));
                    RAISE NOTICE USING MESSAGE = 'planner backfill invoices.totalAmount__planner_new: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"invoices"',
        )

    # NOT VALID check users_role__planner_new_not_null
    def _step_1() -> None:
        rt.sql(
            'ALTER TABLE "users" ADD CONSTRAINT "users_role__planner_new_not_null" CHECK ("role__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_1)

    # NOT VALID check appointments_fee__planner_new_not_null
    def _step_2() -> None:
        rt.sql(
            'ALTER TABLE "appointments" ADD CONSTRAINT "appointments_fee__planner_new_not_null" CHECK ("fee__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_2)

    # NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_3() -> None:
        rt.sql(
            'ALTER TABLE "invoices" ADD CONSTRAINT "invoices_totalAmount__planner_new_not_null" CHECK ("totalAmount__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_3)


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()

    # undo: NOT VALID check invoices_totalAmount__planner_new_not_null
    def _step_1() -> None:
        op.drop_constraint(
            rt.q("invoices_totalAmount__planner_new_not_null"),
            rt.q("invoices"),
            type_="check",
            if_exists=True,
        )

    rt.with_lock_retry(_step_1)

    # undo: NOT VALID check appointments_fee__planner_new_not_null
    def _step_2() -> None:
        op.drop_constraint(
            rt.q("appointments_fee__planner_new_not_null"),
            rt.q("appointments"),
            type_="check",
            if_exists=True,
        )

    rt.with_lock_retry(_step_2)

    # undo: NOT VALID check users_role__planner_new_not_null
    def _step_3() -> None:
        op.drop_constraint(
            rt.q("users_role__planner_new_not_null"),
            rt.q("users"),
            type_="check",
            if_exists=True,
        )

    rt.with_lock_retry(_step_3)
    # undo: build index users_role_idx__planner_new on role__planner_new concurrently (becomes users_role_idx)
    with op.get_context().autocommit_block(), rt.waiting():
        op.drop_index(
            rt.q("users_role_idx__planner_new"),
            table_name=rt.q("users"),
            postgresql_concurrently=True,
            if_exists=True,
        )
    # undo: backfill users.role in batches
    with op.get_context().autocommit_block():
        rt.sql("SET planner.restoring = 'on'")
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "users__role__COACH_planner_key" ON "planner_backup"."users__role__COACH" ("id")'
        )
        rt.batched(
            """
            DO $planner$
            DECLARE
                planner_n bigint := 0;
                planner_total bigint := 0;
                planner_max integer := coalesce(nullif(current_setting('planner.batch_rows', true), '')::integer, 5000);
                planner_ms double precision := coalesce(nullif(current_setting('planner.batch_ms', true), '')::double precision, 50);
                planner_tries integer := coalesce(nullif(current_setting('planner.lock_retries', true), '')::integer, 8);
                planner_waits integer := 0;
                planner_started timestamptz;
                planner_took double precision;
                planner_last_0 "users"."id"%TYPE;
                planner_hi_0 "users"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."users__role__COACH" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."users__role__COACH" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "users" AS t SET "role" = b."role"::"Role" FROM "planner_backup"."users__role__COACH" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."role"::text = 'INSTRUCTOR');
                        ELSE
                            UPDATE "users" AS t SET "role" = b."role"::"Role" FROM "planner_backup"."users__role__COACH" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."role"::text = 'INSTRUCTOR');
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore users.role: '
                                || 'rows of the next batch stayed locked by another transaction through '
                                || planner_waits || ' attempts (lock timeout each); nothing of that batch was'
                                || ' written, the batches before it are kept: run the revision again once'
                                || ' that transaction ends';
                        END IF;
                        planner_batch := greatest(1, planner_batch / 2);
                        COMMIT;
                        PERFORM pg_sleep(least(30, 2 ^ planner_waits) * (0.5 + random()));
                        CONTINUE;
                    END IF;
                    planner_waits := 0;
                    planner_total := planner_total + planner_n;
                    planner_last_0 := planner_hi_0;
                    planner_first := false;
                    COMMIT;
                    planner_took := 1000 * extract(epoch FROM clock_timestamp() - planner_started);
                    planner_batch := greatest(1, least(planner_max, 2 * planner_batch, greatest(planner_batch / 2,
                        (planner_batch * planner_ms / greatest(planner_took, 1))::integer)));
                    RAISE NOTICE USING MESSAGE = 'planner restore users.role: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"users"',
        )
        rt.sql("RESET planner.restoring")
    # the backups restored above, once the whole revision is undone
    rt.sql('DROP TABLE "planner_backup"."users__role__COACH"')
