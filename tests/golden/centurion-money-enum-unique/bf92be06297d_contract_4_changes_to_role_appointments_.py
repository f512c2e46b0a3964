"""contract: 4 changes to Role, appointments, entries and 1 more table

From: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: the application version that no longer reads or writes what this revision drops or renames.
Deploy after: nothing; remove compatibility code at leisure.
Application versions: during this revision: NEW; after it: NEW.

Steps:
- validate check users_role__planner_new_not_null (its own transaction)
- ANALYZE users.role__planner_new before the swap (its statistics stay with it)
- validate check appointments_fee__planner_new_not_null (its own transaction)
- ANALYZE appointments.fee__planner_new before the swap (its statistics stay with it)
- drop index entries_userId_date_idx concurrently
- validate check invoices_totalAmount__planner_new_not_null (its own transaction)
- ANALYZE invoices.totalAmount__planner_new before the swap (its statistics stay with it)
- drop the triggers that store writes of Role.COACH as 'INSTRUCTOR'
- SET NOT NULL users.role__planner_new via the validated check
- swap users.role__planner_new in as role (\"Role\" -> \"Role__planner_new\", R8)
- recreate enum Role without 'COACH' (renamed to 'INSTRUCTOR'); users.role swapped to it online (R8)
- SET NOT NULL appointments.fee__planner_new via the validated check
- swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
- SET NOT NULL invoices.totalAmount__planner_new via the validated check
- swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)

Backups (restored by downgrade; dropped by the cleanup revision, written once the release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):
- planner_backup.users__role__type (id, role before the swap)
- planner_backup.appointments__fee__type (id, fee before the swap)
- planner_backup.invoices__totalAmount__type (id, totalAmount before the swap)

Revision ID: bf92be06297d
Revises: 7555d8502931
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import load_python_file
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "bf92be06297d"
down_revision: str | Sequence[str] | None = "7555d8502931"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # pre-flight guards: stop before any DDL if existing rows would break a change
    rt.guard(
        'SELECT count(*) FROM "users" WHERE "role__planner_new" IS DISTINCT FROM ((CASE WHEN "role"::text = \'COACH\' THEN \'INSTRUCTOR\' ELSE "role"::text END))::text::"Role__planner_new"',
        "rows of users where role__planner_new does not hold role converted: run the backfill revision again (and check the trigger is there)",
        first=False,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
    )
    rt.guard(
        'SELECT count(*) FROM "appointments" WHERE "fee__planner_new" IS DISTINCT FROM "fee"::NUMERIC(10, 2)',
        "rows of appointments where fee__planner_new does not hold fee converted: run the backfill revision again (and check the trigger is there)",
        first=False,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
    )
    rt.guard(
        'SELECT count(*) FROM "invoices" WHERE "totalAmount__planner_new" IS DISTINCT FROM "totalAmount"::NUMERIC(10, 2)',
        "rows of invoices where totalAmount__planner_new does not hold totalAmount converted: run the backfill revision again (and check the trigger is there)",
        first=False,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
    )
    # validate check users_role__planner_new_not_null (its own transaction)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql(
            'ALTER TABLE "users" VALIDATE CONSTRAINT "users_role__planner_new_not_null"'
        )
    # ANALYZE users.role__planner_new before the swap (its statistics stay with it)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql('ANALYZE "users" ("role__planner_new")')
    # validate check appointments_fee__planner_new_not_null (its own transaction)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql(
            'ALTER TABLE "appointments" VALIDATE CONSTRAINT "appointments_fee__planner_new_not_null"'
        )
    # ANALYZE appointments.fee__planner_new before the swap (its statistics stay with it)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql('ANALYZE "appointments" ("fee__planner_new")')
    # drop index entries_userId_date_idx concurrently
    with op.get_context().autocommit_block(), rt.waiting():
        op.drop_index(
            rt.q("entries_userId_date_idx"),
            table_name=rt.q("entries"),
            postgresql_concurrently=True,
            if_exists=True,
        )
    # validate check invoices_totalAmount__planner_new_not_null (its own transaction)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql(
            'ALTER TABLE "invoices" VALIDATE CONSTRAINT "invoices_totalAmount__planner_new_not_null"'
        )
    # ANALYZE invoices.totalAmount__planner_new before the swap (its statistics stay with it)
    with op.get_context().autocommit_block(), rt.waiting():
        rt.sql('ANALYZE "invoices" ("totalAmount__planner_new")')
    # backups first: no copy runs while a step of this revision holds a strong lock
    rt.fresh_backup("planner_backup", "users__role__type", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."users__role__type" AS SELECT "id", "role"::text AS "role", "role__planner_new" FROM "users"'
    )
    rt.mark_backup("planner_backup", "users__role__type", revision)
    rt.fresh_backup("planner_backup", "appointments__fee__type", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."appointments__fee__type" AS SELECT "id", "fee", "fee__planner_new" FROM "appointments"'
    )
    rt.mark_backup("planner_backup", "appointments__fee__type", revision)
    rt.fresh_backup("planner_backup", "invoices__totalAmount__type", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."invoices__totalAmount__type" AS SELECT "id", "totalAmount", "totalAmount__planner_new" FROM "invoices"'
    )
    rt.mark_backup("planner_backup", "invoices__totalAmount__type", revision)

    # drop the triggers that store writes of Role.COACH as 'INSTRUCTOR'
    def _step_1() -> None:
        rt.sql('DROP TRIGGER IF EXISTS "users_Role_COACH__planner_remap" ON "users"')
        rt.sql('DROP FUNCTION IF EXISTS "users_Role_COACH__planner_remap"()')

    rt.with_lock_retry(_step_1)

    # SET NOT NULL users.role__planner_new via the validated check
    def _step_2() -> None:
        op.alter_column(
            rt.q("users"),
            rt.q("role__planner_new"),
            existing_type=postgresql.ENUM(
                "ADMIN",
                "INSTRUCTOR",
                "CLIENT",
                name=rt.q("Role__planner_new"),
                create_type=False,
            ),
            nullable=False,
        )
        op.drop_constraint(
            rt.q("users_role__planner_new_not_null"), rt.q("users"), type_="check"
        )

    rt.with_lock_retry(_step_2)

    # swap users.role__planner_new in as role ("Role" -> "Role__planner_new", R8)
    def _step_3() -> None:
        rt.note_kept('"users"')
        with rt.views_kept('"users"', "role"):
            rt.sql('DROP TRIGGER IF EXISTS "users_role__planner_sync" ON "users"')
            rt.sql('DROP FUNCTION IF EXISTS "users_role__planner_sync"()')
            rt.column_like('"users"', "role__planner_new", "role", storage=False)
            op.drop_column(rt.q("users"), rt.q("role"))
            rt.sql(
                'ALTER INDEX "users_role_idx__planner_new" RENAME TO "users_role_idx"'
            )
            op.alter_column(
                rt.q("users"), rt.q("role__planner_new"), new_column_name=rt.q("role")
            )
            op.alter_column(
                rt.q("users"),
                rt.q("role"),
                existing_type=postgresql.ENUM(
                    "ADMIN",
                    "INSTRUCTOR",
                    "CLIENT",
                    name=rt.q("Role__planner_new"),
                    create_type=False,
                ),
                server_default=sa.text("'CLIENT'\\:\\:\"Role__planner_new\""),
            )
            rt.restore_kept()

    rt.with_lock_retry(_step_3)

    # recreate enum Role without 'COACH' (renamed to 'INSTRUCTOR'); users.role swapped to it online (R8)
    def _step_4() -> None:
        rt.sql(
            "DO $planner$ DECLARE planner_s oid := to_regtype('\"Role\"'); r record; BEGIN IF planner_s IS NULL THEN RETURN; END IF; EXECUTE format('COMMENT ON TYPE %s IS %L', '\"Role__planner_new\"', obj_description(planner_s, 'pg_type')); IF (SELECT typacl FROM pg_type WHERE oid = planner_s) IS NOT NULL THEN EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', '\"Role__planner_new\"'); FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_type p, aclexplode(p.typacl) a WHERE p.oid = planner_s LOOP EXECUTE format('GRANT %s ON TYPE %s TO %s%s', r.privilege_type, '\"Role__planner_new\"', CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END IF; BEGIN EXECUTE format('ALTER TYPE %s OWNER TO %I', '\"Role__planner_new\"', (SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = planner_s)); EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING USING MESSAGE = 'planner: ' || '\"Role__planner_new\"' || ' could not take the owner of the type it replaces: ' || SQLERRM; END; END $planner$"
        )
        rt.sql('DROP TYPE "Role"')
        rt.sql('ALTER TYPE "Role__planner_new" RENAME TO "Role"')

    rt.with_lock_retry(_step_4)

    # SET NOT NULL appointments.fee__planner_new via the validated check
    def _step_5() -> None:
        op.alter_column(
            rt.q("appointments"),
            rt.q("fee__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=False,
        )
        op.drop_constraint(
            rt.q("appointments_fee__planner_new_not_null"),
            rt.q("appointments"),
            type_="check",
        )

    rt.with_lock_retry(_step_5)

    # swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    def _step_6() -> None:
        rt.note_kept('"appointments"')
        with rt.views_kept('"appointments"', "fee"):
            rt.sql(
                'DROP TRIGGER IF EXISTS "appointments_fee__planner_sync" ON "appointments"'
            )
            rt.sql('DROP FUNCTION IF EXISTS "appointments_fee__planner_sync"()')
            rt.column_like('"appointments"', "fee__planner_new", "fee", storage=False)
            op.drop_column(rt.q("appointments"), rt.q("fee"))
            op.alter_column(
                rt.q("appointments"),
                rt.q("fee__planner_new"),
                new_column_name=rt.q("fee"),
            )
            rt.restore_kept()

    rt.with_lock_retry(_step_6)

    # SET NOT NULL invoices.totalAmount__planner_new via the validated check
    def _step_7() -> None:
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=False,
        )
        op.drop_constraint(
            rt.q("invoices_totalAmount__planner_new_not_null"),
            rt.q("invoices"),
            type_="check",
        )

    rt.with_lock_retry(_step_7)

    # swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    def _step_8() -> None:
        rt.note_kept('"invoices"')
        with rt.views_kept('"invoices"', "totalAmount"):
            rt.sql(
                'DROP TRIGGER IF EXISTS "invoices_totalAmount__planner_sync" ON "invoices"'
            )
            rt.sql('DROP FUNCTION IF EXISTS "invoices_totalAmount__planner_sync"()')
            rt.column_like(
                '"invoices"', "totalAmount__planner_new", "totalAmount", storage=False
            )
            op.drop_column(rt.q("invoices"), rt.q("totalAmount"))
            op.alter_column(
                rt.q("invoices"),
                rt.q("totalAmount__planner_new"),
                new_column_name=rt.q("totalAmount"),
            )
            rt.restore_kept()

    rt.with_lock_retry(_step_8)


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # undo: swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    if not rt.has_column('"invoices"', "totalAmount__planner_new"):
        rt.guard_block(
            'DO $planner$ DECLARE planner_value "invoices"."totalAmount"%TYPE; planner_converted DOUBLE PRECISION; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "totalAmount" FROM "invoices" WHERE "totalAmount" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."invoices__totalAmount__type" AS b WHERE b."id" = "invoices"."id" AND b."totalAmount__planner_new" IS NOT DISTINCT FROM "invoices"."totalAmount") LOOP BEGIN planner_converted := planner_value::DOUBLE PRECISION; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of invoices.totalAmount do not convert to DOUBLE PRECISION (written since the swap; fix them first)\'; END IF; END $planner$'
        )

    def _step_1() -> None:
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            op.add_column(
                rt.q("invoices"),
                sa.Column(
                    rt.q("totalAmount__planner_old"),
                    sa.DOUBLE_PRECISION(),
                    nullable=True,
                ),
                if_not_exists=True,
            )
            rt.sql(
                'CREATE OR REPLACE FUNCTION "invoices_totalAmount__planner_back"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."totalAmount__planner_old" := NEW."totalAmount"::DOUBLE PRECISION; RETURN NEW; END $planner$'
            )
            rt.sql(
                'DO $planner$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = \'invoices_totalAmount__planner_back\' AND tgrelid = \'"invoices"\'::regclass) THEN CREATE TRIGGER "invoices_totalAmount__planner_back" BEFORE INSERT OR UPDATE OF "totalAmount" ON "invoices" FOR EACH ROW EXECUTE FUNCTION "invoices_totalAmount__planner_back"(); END IF; END $planner$'
            )

    rt.with_lock_retry(_step_1)
    with op.get_context().autocommit_block():
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            rt.sql(
                'CREATE INDEX IF NOT EXISTS "invoices__totalAmount__type_planner_key" ON "planner_backup"."invoices__totalAmount__type" ("id")'
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
                    planner_last_0 "invoices"."id"%TYPE;
                    planner_hi_0 "invoices"."id"%TYPE;
                    planner_first boolean := true;
                    planner_batch integer := least(500, planner_max);
                BEGIN
                    LOOP
                        IF planner_first THEN
                            SELECT "id" INTO planner_hi_0 FROM (
                                SELECT "id" FROM "planner_backup"."invoices__totalAmount__type" ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        ELSE
                            SELECT "id" INTO planner_hi_0 FROM (
                                SELECT "id" FROM "planner_backup"."invoices__totalAmount__type" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        END IF;
                        EXIT WHEN NOT FOUND;
                        planner_started := clock_timestamp();
                        BEGIN
                            IF planner_first THEN
                                UPDATE "invoices" AS t SET "totalAmount__planner_old" = b."totalAmount" FROM "planner_backup"."invoices__totalAmount__type" AS b
                                WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."totalAmount" IS NOT DISTINCT FROM b."totalAmount__planner_new");
                            ELSE
                                UPDATE "invoices" AS t SET "totalAmount__planner_old" = b."totalAmount" FROM "planner_backup"."invoices__totalAmount__type" AS b
                                WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."totalAmount" IS NOT DISTINCT FROM b."totalAmount__planner_new");
                            END IF;
                            GET DIAGNOSTICS planner_n = ROW_COUNT;
                        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                            planner_n := -1;
                        END;
                        IF planner_n < 0 THEN
                            planner_waits := planner_waits + 1;
                            IF planner_waits >= planner_tries THEN
                                RAISE EXCEPTION USING MESSAGE = 'planner restore invoices.totalAmount: '
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
                        RAISE NOTICE USING MESSAGE = 'planner restore invoices.totalAmount: ' || planner_total || ' rows';
                    END LOOP;
                END $planner$
                """,
                rewrites='"invoices"',
            )
    with op.get_context().autocommit_block():
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
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
                                UPDATE "invoices" SET "totalAmount__planner_old" = "totalAmount"::DOUBLE PRECISION
                                WHERE ("id") <= (planner_hi_0) AND ("totalAmount__planner_old" IS NULL AND "totalAmount" IS NOT NULL);
                            ELSE
                                UPDATE "invoices" SET "totalAmount__planner_old" = "totalAmount"::DOUBLE PRECISION
                                WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("totalAmount__planner_old" IS NULL AND "totalAmount" IS NOT NULL);
                            END IF;
                            GET DIAGNOSTICS planner_n = ROW_COUNT;
                        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                            planner_n := -1;
                        END;
                        IF planner_n < 0 THEN
                            planner_waits := planner_waits + 1;
                            IF planner_waits >= planner_tries THEN
                                RAISE EXCEPTION USING MESSAGE = 'planner backfill invoices.totalAmount__planner_old: '
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
                        RAISE NOTICE USING MESSAGE = 'planner backfill invoices.totalAmount__planner_old: ' || planner_total || ' rows';
                    END LOOP;
                END $planner$
                """,
                rewrites='"invoices"',
            )

    def _step_2() -> None:
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            op.drop_constraint(
                rt.q("invoices_totalAmount__planner_old_not_null"),
                rt.q("invoices"),
                type_="check",
                if_exists=True,
            )
            rt.sql(
                'ALTER TABLE "invoices" ADD CONSTRAINT "invoices_totalAmount__planner_old_not_null" CHECK ("totalAmount__planner_old" IS NOT NULL) NOT VALID'
            )

    rt.with_lock_retry(_step_2)
    with op.get_context().autocommit_block():
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            with rt.waiting():
                rt.sql(
                    'ALTER TABLE "invoices" VALIDATE CONSTRAINT "invoices_totalAmount__planner_old_not_null"'
                )
    with op.get_context().autocommit_block():
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            with rt.waiting():
                rt.sql('ANALYZE "invoices" ("totalAmount__planner_old")')

    def _step_3() -> None:
        if not rt.has_column('"invoices"', "totalAmount__planner_new"):
            rt.note_kept('"invoices"')
            with rt.views_kept('"invoices"', "totalAmount"):
                rt.sql(
                    'DROP TRIGGER IF EXISTS "invoices_totalAmount__planner_back" ON "invoices"'
                )
                rt.sql('DROP FUNCTION IF EXISTS "invoices_totalAmount__planner_back"()')
                rt.column_like(
                    '"invoices"',
                    "totalAmount__planner_old",
                    "totalAmount",
                    storage=False,
                )
                op.alter_column(
                    rt.q("invoices"),
                    rt.q("totalAmount"),
                    new_column_name=rt.q("totalAmount__planner_new"),
                )
                op.alter_column(
                    rt.q("invoices"),
                    rt.q("totalAmount__planner_old"),
                    new_column_name=rt.q("totalAmount"),
                )
                op.alter_column(
                    rt.q("invoices"),
                    rt.q("totalAmount"),
                    existing_type=sa.DOUBLE_PRECISION(),
                    nullable=False,
                )
                op.drop_constraint(
                    rt.q("invoices_totalAmount__planner_old_not_null"),
                    rt.q("invoices"),
                    type_="check",
                )
                rt.restore_kept()
                rt.sql(
                    'CREATE OR REPLACE FUNCTION "invoices_totalAmount__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."totalAmount__planner_new" := NEW."totalAmount"::NUMERIC(10, 2); RETURN NEW; END $planner$'
                )
                rt.sql(
                    'CREATE TRIGGER "invoices_totalAmount__planner_sync" BEFORE INSERT OR UPDATE OF "totalAmount" ON "invoices" FOR EACH ROW EXECUTE FUNCTION "invoices_totalAmount__planner_sync"()'
                )

    rt.with_lock_retry(_step_3)

    # undo: SET NOT NULL invoices.totalAmount__planner_new via the validated check
    def _step_4() -> None:
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=True,
        )
        op.drop_constraint(
            rt.q("invoices_totalAmount__planner_new_not_null"),
            rt.q("invoices"),
            type_="check",
            if_exists=True,
        )
        rt.sql(
            'ALTER TABLE "invoices" ADD CONSTRAINT "invoices_totalAmount__planner_new_not_null" CHECK ("totalAmount__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_4)
    # undo: swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    if not rt.has_column('"appointments"', "fee__planner_new"):
        rt.guard_block(
            'DO $planner$ DECLARE planner_value "appointments"."fee"%TYPE; planner_converted DOUBLE PRECISION; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "fee" FROM "appointments" WHERE "fee" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."appointments__fee__type" AS b WHERE b."id" = "appointments"."id" AND b."fee__planner_new" IS NOT DISTINCT FROM "appointments"."fee") LOOP BEGIN planner_converted := planner_value::DOUBLE PRECISION; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of appointments.fee do not convert to DOUBLE PRECISION (written since the swap; fix them first)\'; END IF; END $planner$'
        )

    def _step_5() -> None:
        if not rt.has_column('"appointments"', "fee__planner_new"):
            op.add_column(
                rt.q("appointments"),
                sa.Column(
                    rt.q("fee__planner_old"), sa.DOUBLE_PRECISION(), nullable=True
                ),
                if_not_exists=True,
            )
            rt.sql(
                'CREATE OR REPLACE FUNCTION "appointments_fee__planner_back"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."fee__planner_old" := NEW."fee"::DOUBLE PRECISION; RETURN NEW; END $planner$'
            )
            rt.sql(
                'DO $planner$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = \'appointments_fee__planner_back\' AND tgrelid = \'"appointments"\'::regclass) THEN CREATE TRIGGER "appointments_fee__planner_back" BEFORE INSERT OR UPDATE OF "fee" ON "appointments" FOR EACH ROW EXECUTE FUNCTION "appointments_fee__planner_back"(); END IF; END $planner$'
            )

    rt.with_lock_retry(_step_5)
    with op.get_context().autocommit_block():
        if not rt.has_column('"appointments"', "fee__planner_new"):
            rt.sql(
                'CREATE INDEX IF NOT EXISTS "appointments__fee__type_planner_key" ON "planner_backup"."appointments__fee__type" ("id")'
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
                    planner_last_0 "appointments"."id"%TYPE;
                    planner_hi_0 "appointments"."id"%TYPE;
                    planner_first boolean := true;
                    planner_batch integer := least(500, planner_max);
                BEGIN
                    LOOP
                        IF planner_first THEN
                            SELECT "id" INTO planner_hi_0 FROM (
                                SELECT "id" FROM "planner_backup"."appointments__fee__type" ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        ELSE
                            SELECT "id" INTO planner_hi_0 FROM (
                                SELECT "id" FROM "planner_backup"."appointments__fee__type" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        END IF;
                        EXIT WHEN NOT FOUND;
                        planner_started := clock_timestamp();
                        BEGIN
                            IF planner_first THEN
                                UPDATE "appointments" AS t SET "fee__planner_old" = b."fee" FROM "planner_backup"."appointments__fee__type" AS b
                                WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."fee" IS NOT DISTINCT FROM b."fee__planner_new");
                            ELSE
                                UPDATE "appointments" AS t SET "fee__planner_old" = b."fee" FROM "planner_backup"."appointments__fee__type" AS b
                                WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."fee" IS NOT DISTINCT FROM b."fee__planner_new");
                            END IF;
                            GET DIAGNOSTICS planner_n = ROW_COUNT;
                        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                            planner_n := -1;
                        END;
                        IF planner_n < 0 THEN
                            planner_waits := planner_waits + 1;
                            IF planner_waits >= planner_tries THEN
                                RAISE EXCEPTION USING MESSAGE = 'planner restore appointments.fee: '
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
                        RAISE NOTICE USING MESSAGE = 'planner restore appointments.fee: ' || planner_total || ' rows';
                    END LOOP;
                END $planner$
                """,
                rewrites='"appointments"',
            )
    with op.get_context().autocommit_block():
        if not rt.has_column('"appointments"', "fee__planner_new"):
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
                                UPDATE "appointments" SET "fee__planner_old" = "fee"::DOUBLE PRECISION
                                WHERE ("id") <= (planner_hi_0) AND ("fee__planner_old" IS NULL AND "fee" IS NOT NULL);
                            ELSE
                                UPDATE "appointments" SET "fee__planner_old" = "fee"::DOUBLE PRECISION
                                WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("fee__planner_old" IS NULL AND "fee" IS NOT NULL);
                            END IF;
                            GET DIAGNOSTICS planner_n = ROW_COUNT;
                        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                            planner_n := -1;
                        END;
                        IF planner_n < 0 THEN
                            planner_waits := planner_waits + 1;
                            IF planner_waits >= planner_tries THEN
                                RAISE EXCEPTION USING MESSAGE = 'planner backfill appointments.fee__planner_old: '
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
                        RAISE NOTICE USING MESSAGE = 'planner backfill appointments.fee__planner_old: ' || planner_total || ' rows';
                    END LOOP;
                END $planner$
                """,
                rewrites='"appointments"',
            )

    def _step_6() -> None:
        if not rt.has_column('"appointments"', "fee__planner_new"):
            op.drop_constraint(
                rt.q("appointments_fee__planner_old_not_null"),
                rt.q("appointments"),
                type_="check",
                if_exists=True,
            )
            rt.sql(
                'ALTER TABLE "appointments" ADD CONSTRAINT "appointments_fee__planner_old_not_null" CHECK ("fee__planner_old" IS NOT NULL) NOT VALID'
            )

    rt.with_lock_retry(_step_6)
    with op.get_context().autocommit_block():
        if not rt.has_column('"appointments"', "fee__planner_new"):
            with rt.waiting():
                rt.sql(
                    'ALTER TABLE "appointments" VALIDATE CONSTRAINT "appointments_fee__planner_old_not_null"'
                )
    with op.get_context().autocommit_block():
        if not rt.has_column('"appointments"', "fee__planner_new"):
            with rt.waiting():
                rt.sql('ANALYZE "appointments" ("fee__planner_old")')

    def _step_7() -> None:
        if not rt.has_column('"appointments"', "fee__planner_new"):
            rt.note_kept('"appointments"')
            with rt.views_kept('"appointments"', "fee"):
                rt.sql(
                    'DROP TRIGGER IF EXISTS "appointments_fee__planner_back" ON "appointments"'
                )
                rt.sql('DROP FUNCTION IF EXISTS "appointments_fee__planner_back"()')
                rt.column_like(
                    '"appointments"', "fee__planner_old", "fee", storage=False
                )
                op.alter_column(
                    rt.q("appointments"),
                    rt.q("fee"),
                    new_column_name=rt.q("fee__planner_new"),
                )
                op.alter_column(
                    rt.q("appointments"),
                    rt.q("fee__planner_old"),
                    new_column_name=rt.q("fee"),
                )
                op.alter_column(
                    rt.q("appointments"),
                    rt.q("fee"),
                    existing_type=sa.DOUBLE_PRECISION(),
                    nullable=False,
                )
                op.drop_constraint(
                    rt.q("appointments_fee__planner_old_not_null"),
                    rt.q("appointments"),
                    type_="check",
                )
                rt.restore_kept()
                rt.sql(
                    'CREATE OR REPLACE FUNCTION "appointments_fee__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."fee__planner_new" := NEW."fee"::NUMERIC(10, 2); RETURN NEW; END $planner$'
                )
                rt.sql(
                    'CREATE TRIGGER "appointments_fee__planner_sync" BEFORE INSERT OR UPDATE OF "fee" ON "appointments" FOR EACH ROW EXECUTE FUNCTION "appointments_fee__planner_sync"()'
                )

    rt.with_lock_retry(_step_7)

    # undo: SET NOT NULL appointments.fee__planner_new via the validated check
    def _step_8() -> None:
        op.alter_column(
            rt.q("appointments"),
            rt.q("fee__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=True,
        )
        op.drop_constraint(
            rt.q("appointments_fee__planner_new_not_null"),
            rt.q("appointments"),
            type_="check",
            if_exists=True,
        )
        rt.sql(
            'ALTER TABLE "appointments" ADD CONSTRAINT "appointments_fee__planner_new_not_null" CHECK ("fee__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_8)

    # undo: recreate enum Role without 'COACH' (renamed to 'INSTRUCTOR'); users.role swapped to it online (R8)
    def _step_9() -> None:
        if not rt.has_type('"Role__planner_new"'):
            rt.sql('ALTER TYPE "Role" RENAME TO "Role__planner_new"')
            rt.sql(
                "CREATE TYPE \"Role\" AS ENUM ('ADMIN', 'INSTRUCTOR', 'COACH', 'CLIENT')"
            )
            rt.sql(
                "DO $planner$ DECLARE planner_s oid := to_regtype('\"Role__planner_new\"'); r record; BEGIN IF planner_s IS NULL THEN RETURN; END IF; EXECUTE format('COMMENT ON TYPE %s IS %L', '\"Role\"', obj_description(planner_s, 'pg_type')); IF (SELECT typacl FROM pg_type WHERE oid = planner_s) IS NOT NULL THEN EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', '\"Role\"'); FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_type p, aclexplode(p.typacl) a WHERE p.oid = planner_s LOOP EXECUTE format('GRANT %s ON TYPE %s TO %s%s', r.privilege_type, '\"Role\"', CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END IF; BEGIN EXECUTE format('ALTER TYPE %s OWNER TO %I', '\"Role\"', (SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = planner_s)); EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING USING MESSAGE = 'planner: ' || '\"Role\"' || ' could not take the owner of the type it replaces: ' || SQLERRM; END; END $planner$"
            )

    rt.with_lock_retry(_step_9)
    # undo: swap users.role__planner_new in as role ("Role" -> "Role__planner_new", R8)
    if not rt.has_column('"users"', "role__planner_new"):
        rt.guard_block(
            'DO $planner$ DECLARE planner_value "users"."role"%TYPE; planner_converted "Role"; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "role" FROM "users" WHERE "role" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."users__role__type" AS b WHERE b."id" = "users"."id" AND b."role__planner_new" IS NOT DISTINCT FROM "users"."role") LOOP BEGIN planner_converted := planner_value::text::"Role"; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of users.role do not convert to "Role" (written since the swap; fix them first)\'; END IF; END $planner$'
        )

    def _step_10() -> None:
        if not rt.has_column('"users"', "role__planner_new"):
            op.add_column(
                rt.q("users"),
                sa.Column(
                    rt.q("role__planner_old"),
                    postgresql.ENUM(
                        "ADMIN", "COACH", "CLIENT", name=rt.q("Role"), create_type=False
                    ),
                    nullable=True,
                ),
                if_not_exists=True,
            )
            rt.sql(
                'CREATE OR REPLACE FUNCTION "users_role__planner_back"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."role__planner_old" := NEW."role"::text::"Role"; RETURN NEW; END $planner$'
            )
            rt.sql(
                'DO $planner$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = \'users_role__planner_back\' AND tgrelid = \'"users"\'::regclass) THEN CREATE TRIGGER "users_role__planner_back" BEFORE INSERT OR UPDATE OF "role" ON "users" FOR EACH ROW EXECUTE FUNCTION "users_role__planner_back"(); END IF; END $planner$'
            )

    rt.with_lock_retry(_step_10)
    with op.get_context().autocommit_block():
        if not rt.has_column('"users"', "role__planner_new"):
            rt.sql(
                'CREATE INDEX IF NOT EXISTS "users__role__type_planner_key" ON "planner_backup"."users__role__type" ("id")'
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
                                SELECT "id" FROM "planner_backup"."users__role__type" ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        ELSE
                            SELECT "id" INTO planner_hi_0 FROM (
                                SELECT "id" FROM "planner_backup"."users__role__type" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                            ) planner_s ORDER BY "id" DESC LIMIT 1;
                        END IF;
                        EXIT WHEN NOT FOUND;
                        planner_started := clock_timestamp();
                        BEGIN
                            IF planner_first THEN
                                UPDATE "users" AS t SET "role__planner_old" = b."role"::"Role" FROM "planner_backup"."users__role__type" AS b
                                WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."role" IS NOT DISTINCT FROM b."role__planner_new");
                            ELSE
                                UPDATE "users" AS t SET "role__planner_old" = b."role"::"Role" FROM "planner_backup"."users__role__type" AS b
                                WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id" AND (t."role" IS NOT DISTINCT FROM b."role__planner_new");
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
    with op.get_context().autocommit_block():
        if not rt.has_column('"users"', "role__planner_new"):
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
                                UPDATE "users" SET "role__planner_old" = "role"::text::"Role"
                                WHERE ("id") <= (planner_hi_0) AND ("role__planner_old" IS NULL AND "role" IS NOT NULL);
                            ELSE
                                UPDATE "users" SET "role__planner_old" = "role"::text::"Role"
                                WHERE ("id") > (planner_last_0) AND ("id") <= (planner_hi_0) AND ("role__planner_old" IS NULL AND "role" IS NOT NULL);
                            END IF;
                            GET DIAGNOSTICS planner_n = ROW_COUNT;
                        EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                            planner_n := -1;
                        END;
                        IF planner_n < 0 THEN
                            planner_waits := planner_waits + 1;
                            IF planner_waits >= planner_tries THEN
                                RAISE EXCEPTION USING MESSAGE = 'planner backfill users.role__planner_old: '
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
                        RAISE NOTICE USING MESSAGE = 'planner backfill users.role__planner_old: ' || planner_total || ' rows';
                    END LOOP;
                END $planner$
                """,
                rewrites='"users"',
            )
    with op.get_context().autocommit_block():
        if not rt.has_column('"users"', "role__planner_new"):
            rt.drop_invalid_index("users_role_idx__planner_old")
            with rt.waiting():
                op.create_index(
                    rt.q("users_role_idx__planner_old"),
                    rt.q("users"),
                    [rt.q("role__planner_old")],
                    unique=False,
                    postgresql_concurrently=True,
                    if_not_exists=True,
                )
            rt.check_index_valid("users_role_idx__planner_old")

    def _step_11() -> None:
        if not rt.has_column('"users"', "role__planner_new"):
            op.drop_constraint(
                rt.q("users_role__planner_old_not_null"),
                rt.q("users"),
                type_="check",
                if_exists=True,
            )
            rt.sql(
                'ALTER TABLE "users" ADD CONSTRAINT "users_role__planner_old_not_null" CHECK ("role__planner_old" IS NOT NULL) NOT VALID'
            )

    rt.with_lock_retry(_step_11)
    with op.get_context().autocommit_block():
        if not rt.has_column('"users"', "role__planner_new"):
            with rt.waiting():
                rt.sql(
                    'ALTER TABLE "users" VALIDATE CONSTRAINT "users_role__planner_old_not_null"'
                )
    with op.get_context().autocommit_block():
        if not rt.has_column('"users"', "role__planner_new"):
            with rt.waiting():
                rt.sql('ANALYZE "users" ("role__planner_old")')

    def _step_12() -> None:
        if not rt.has_column('"users"', "role__planner_new"):
            rt.note_kept('"users"')
            with rt.views_kept('"users"', "role"):
                rt.sql('DROP TRIGGER IF EXISTS "users_role__planner_back" ON "users"')
                rt.sql('DROP FUNCTION IF EXISTS "users_role__planner_back"()')
                rt.column_like('"users"', "role__planner_old", "role", storage=False)
                op.alter_column(
                    rt.q("users"),
                    rt.q("role"),
                    new_column_name=rt.q("role__planner_new"),
                )
                rt.sql(
                    'ALTER INDEX "users_role_idx" RENAME TO "users_role_idx__planner_new"'
                )
                op.alter_column(
                    rt.q("users"),
                    rt.q("role__planner_old"),
                    new_column_name=rt.q("role"),
                )
                rt.sql(
                    'ALTER INDEX "users_role_idx__planner_old" RENAME TO "users_role_idx"'
                )
                op.alter_column(
                    rt.q("users"),
                    rt.q("role__planner_new"),
                    existing_type=postgresql.ENUM(
                        "ADMIN",
                        "INSTRUCTOR",
                        "CLIENT",
                        name=rt.q("Role__planner_new"),
                        create_type=False,
                    ),
                    server_default=None,
                )
                op.alter_column(
                    rt.q("users"),
                    rt.q("role"),
                    existing_type=postgresql.ENUM(
                        "ADMIN", "COACH", "CLIENT", name=rt.q("Role"), create_type=False
                    ),
                    server_default=sa.text("'CLIENT'"),
                )
                op.alter_column(
                    rt.q("users"),
                    rt.q("role"),
                    existing_type=postgresql.ENUM(
                        "ADMIN", "COACH", "CLIENT", name=rt.q("Role"), create_type=False
                    ),
                    nullable=False,
                )
                op.drop_constraint(
                    rt.q("users_role__planner_old_not_null"),
                    rt.q("users"),
                    type_="check",
                )
                rt.restore_kept()
                rt.sql(
                    'CREATE OR REPLACE FUNCTION "users_role__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."role__planner_new" := (SELECT ((CASE WHEN "role"::text = \'COACH\' THEN \'INSTRUCTOR\' ELSE "role"::text END)) FROM (SELECT NEW."role" AS "role") AS "planner_rule")::text::"Role__planner_new"; RETURN NEW; END $planner$'
                )
                rt.sql(
                    'CREATE TRIGGER "users_role__planner_sync" BEFORE INSERT OR UPDATE OF "role" ON "users" FOR EACH ROW EXECUTE FUNCTION "users_role__planner_sync"()'
                )

    rt.with_lock_retry(_step_12)

    # undo: SET NOT NULL users.role__planner_new via the validated check
    def _step_13() -> None:
        op.alter_column(
            rt.q("users"),
            rt.q("role__planner_new"),
            existing_type=postgresql.ENUM(
                "ADMIN",
                "INSTRUCTOR",
                "CLIENT",
                name=rt.q("Role__planner_new"),
                create_type=False,
            ),
            nullable=True,
        )
        op.drop_constraint(
            rt.q("users_role__planner_new_not_null"),
            rt.q("users"),
            type_="check",
            if_exists=True,
        )
        rt.sql(
            'ALTER TABLE "users" ADD CONSTRAINT "users_role__planner_new_not_null" CHECK ("role__planner_new" IS NOT NULL) NOT VALID'
        )

    rt.with_lock_retry(_step_13)

    # undo: drop the triggers that store writes of Role.COACH as 'INSTRUCTOR'
    def _step_14() -> None:
        rt.sql(
            "CREATE OR REPLACE FUNCTION \"users_Role_COACH__planner_remap\"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN IF current_setting('planner.restoring', true) = 'on' THEN RETURN NEW; END IF; IF NEW.\"role\"::text = 'COACH' THEN NEW.\"role\" := 'INSTRUCTOR'; END IF; RETURN NEW; END $planner$"
        )
        rt.sql(
            'CREATE TRIGGER "users_Role_COACH__planner_remap" BEFORE INSERT OR UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION "users_Role_COACH__planner_remap"()'
        )

    rt.with_lock_retry(_step_14)
    # undo: drop index entries_userId_date_idx concurrently
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("entries_userId_date_idx")
        with rt.waiting():
            op.create_index(
                rt.q("entries_userId_date_idx"),
                rt.q("entries"),
                [rt.q("userId"), rt.q("date")],
                unique=False,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("entries_userId_date_idx")
    # the backups restored above, once the whole revision is undone
    rt.sql('DROP TABLE "planner_backup"."invoices__totalAmount__type"')
    rt.sql('DROP TABLE "planner_backup"."appointments__fee__type"')
    rt.sql('DROP TABLE "planner_backup"."users__role__type"')
