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
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."users__role__type" AS SELECT "id", "role"::text AS "role", "role__planner_new" FROM "users"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."appointments__fee__type" AS SELECT "id", "fee", "fee__planner_new" FROM "appointments"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."invoices__totalAmount__type" AS SELECT "id", "totalAmount", "totalAmount__planner_new" FROM "invoices"'
    )

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
        rt.sql('DROP TRIGGER IF EXISTS "users_role__planner_sync" ON "users"')
        rt.sql('DROP FUNCTION IF EXISTS "users_role__planner_sync"()')
        op.drop_column(rt.q("users"), rt.q("role"))
        rt.sql('ALTER INDEX "users_role_idx__planner_new" RENAME TO "users_role_idx"')
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

    rt.with_lock_retry(_step_3)

    # recreate enum Role without 'COACH' (renamed to 'INSTRUCTOR'); users.role swapped to it online (R8)
    def _step_4() -> None:
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
        rt.sql(
            'DROP TRIGGER IF EXISTS "appointments_fee__planner_sync" ON "appointments"'
        )
        rt.sql('DROP FUNCTION IF EXISTS "appointments_fee__planner_sync"()')
        op.drop_column(rt.q("appointments"), rt.q("fee"))
        op.alter_column(
            rt.q("appointments"), rt.q("fee__planner_new"), new_column_name=rt.q("fee")
        )

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
        rt.sql(
            'DROP TRIGGER IF EXISTS "invoices_totalAmount__planner_sync" ON "invoices"'
        )
        rt.sql('DROP FUNCTION IF EXISTS "invoices_totalAmount__planner_sync"()')
        op.drop_column(rt.q("invoices"), rt.q("totalAmount"))
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount__planner_new"),
            new_column_name=rt.q("totalAmount"),
        )

    rt.with_lock_retry(_step_8)


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # undo: swap invoices.totalAmount__planner_new in as totalAmount (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    rt.guard_block(
        'DO $planner$ DECLARE planner_value "invoices"."totalAmount"%TYPE; planner_converted DOUBLE PRECISION; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "totalAmount" FROM "invoices" WHERE "totalAmount" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."invoices__totalAmount__type" AS b WHERE b."id" = "invoices"."id" AND b."totalAmount__planner_new" IS NOT DISTINCT FROM "invoices"."totalAmount") LOOP BEGIN planner_converted := planner_value::DOUBLE PRECISION; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of invoices.totalAmount do not convert to DOUBLE PRECISION (written since the swap; fix them first)\'; END IF; END $planner$'
    )

    def _step_1() -> None:
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount"),
            new_column_name=rt.q("totalAmount__planner_new"),
        )
        op.add_column(
            rt.q("invoices"),
            sa.Column(rt.q("totalAmount"), sa.DOUBLE_PRECISION(), nullable=True),
        )

    rt.with_lock_retry(_step_1)
    rt.sql(
        'UPDATE "invoices" AS t SET "totalAmount" = b."totalAmount" FROM "planner_backup"."invoices__totalAmount__type" AS b WHERE t."id" = b."id" AND (t."totalAmount__planner_new" IS NOT DISTINCT FROM b."totalAmount__planner_new")'
    )
    rt.sql('DROP TABLE "planner_backup"."invoices__totalAmount__type"')

    def _step_2() -> None:
        rt.sql(
            'UPDATE "invoices" SET "totalAmount" = "totalAmount__planner_new"::DOUBLE PRECISION WHERE "totalAmount" IS NULL AND "totalAmount__planner_new" IS NOT NULL'
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "invoices_totalAmount__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."totalAmount__planner_new" := NEW."totalAmount"::NUMERIC(10, 2); RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "invoices_totalAmount__planner_sync" BEFORE INSERT OR UPDATE OF "totalAmount" ON "invoices" FOR EACH ROW EXECUTE FUNCTION "invoices_totalAmount__planner_sync"()'
        )
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount"),
            existing_type=sa.DOUBLE_PRECISION(),
            nullable=False,
        )

    rt.with_lock_retry(_step_2)

    # undo: SET NOT NULL invoices.totalAmount__planner_new via the validated check
    def _step_3() -> None:
        op.alter_column(
            rt.q("invoices"),
            rt.q("totalAmount__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=True,
        )

    rt.with_lock_retry(_step_3)
    # undo: swap appointments.fee__planner_new in as fee (DOUBLE PRECISION -> NUMERIC(10, 2), R8)
    rt.guard_block(
        'DO $planner$ DECLARE planner_value "appointments"."fee"%TYPE; planner_converted DOUBLE PRECISION; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "fee" FROM "appointments" WHERE "fee" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."appointments__fee__type" AS b WHERE b."id" = "appointments"."id" AND b."fee__planner_new" IS NOT DISTINCT FROM "appointments"."fee") LOOP BEGIN planner_converted := planner_value::DOUBLE PRECISION; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of appointments.fee do not convert to DOUBLE PRECISION (written since the swap; fix them first)\'; END IF; END $planner$'
    )

    def _step_4() -> None:
        op.alter_column(
            rt.q("appointments"), rt.q("fee"), new_column_name=rt.q("fee__planner_new")
        )
        op.add_column(
            rt.q("appointments"),
            sa.Column(rt.q("fee"), sa.DOUBLE_PRECISION(), nullable=True),
        )

    rt.with_lock_retry(_step_4)
    rt.sql(
        'UPDATE "appointments" AS t SET "fee" = b."fee" FROM "planner_backup"."appointments__fee__type" AS b WHERE t."id" = b."id" AND (t."fee__planner_new" IS NOT DISTINCT FROM b."fee__planner_new")'
    )
    rt.sql('DROP TABLE "planner_backup"."appointments__fee__type"')

    def _step_5() -> None:
        rt.sql(
            'UPDATE "appointments" SET "fee" = "fee__planner_new"::DOUBLE PRECISION WHERE "fee" IS NULL AND "fee__planner_new" IS NOT NULL'
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "appointments_fee__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."fee__planner_new" := NEW."fee"::NUMERIC(10, 2); RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "appointments_fee__planner_sync" BEFORE INSERT OR UPDATE OF "fee" ON "appointments" FOR EACH ROW EXECUTE FUNCTION "appointments_fee__planner_sync"()'
        )
        op.alter_column(
            rt.q("appointments"),
            rt.q("fee"),
            existing_type=sa.DOUBLE_PRECISION(),
            nullable=False,
        )

    rt.with_lock_retry(_step_5)

    # undo: SET NOT NULL appointments.fee__planner_new via the validated check
    def _step_6() -> None:
        op.alter_column(
            rt.q("appointments"),
            rt.q("fee__planner_new"),
            existing_type=sa.NUMERIC(precision=10, scale=2),
            nullable=True,
        )

    rt.with_lock_retry(_step_6)

    # undo: recreate enum Role without 'COACH' (renamed to 'INSTRUCTOR'); users.role swapped to it online (R8)
    def _step_7() -> None:
        rt.sql('ALTER TYPE "Role" RENAME TO "Role__planner_new"')
        rt.sql(
            "CREATE TYPE \"Role\" AS ENUM ('ADMIN', 'INSTRUCTOR', 'COACH', 'CLIENT')"
        )

    rt.with_lock_retry(_step_7)
    # undo: swap users.role__planner_new in as role ("Role" -> "Role__planner_new", R8)
    rt.guard_block(
        'DO $planner$ DECLARE planner_value "users"."role"%TYPE; planner_converted "Role"; planner_bad bigint := 0; BEGIN FOR planner_value IN SELECT "role" FROM "users" WHERE "role" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "planner_backup"."users__role__type" AS b WHERE b."id" = "users"."id" AND b."role__planner_new" IS NOT DISTINCT FROM "users"."role") LOOP BEGIN planner_converted := planner_value::text::"Role"; EXCEPTION WHEN others THEN planner_bad := planner_bad + 1; END; END LOOP; IF planner_bad > 0 THEN RAISE EXCEPTION USING MESSAGE = \'planner guard failed: \' || planner_bad || \' values of users.role do not convert to "Role" (written since the swap; fix them first)\'; END IF; END $planner$'
    )

    def _step_8() -> None:
        op.alter_column(
            rt.q("users"), rt.q("role"), new_column_name=rt.q("role__planner_new")
        )
        rt.sql('ALTER INDEX "users_role_idx" RENAME TO "users_role_idx__planner_new"')
        op.add_column(
            rt.q("users"),
            sa.Column(
                rt.q("role"),
                postgresql.ENUM(
                    "ADMIN", "COACH", "CLIENT", name=rt.q("Role"), create_type=False
                ),
                nullable=True,
            ),
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

    rt.with_lock_retry(_step_8)
    rt.sql(
        'UPDATE "users" AS t SET "role" = b."role"::"Role" FROM "planner_backup"."users__role__type" AS b WHERE t."id" = b."id" AND (t."role__planner_new" IS NOT DISTINCT FROM b."role__planner_new")'
    )
    rt.sql('DROP TABLE "planner_backup"."users__role__type"')

    def _step_9() -> None:
        rt.sql(
            'UPDATE "users" SET "role" = "role__planner_new"::text::"Role" WHERE "role" IS NULL AND "role__planner_new" IS NOT NULL'
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "users_role__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."role__planner_new" := (SELECT ((CASE WHEN "role"::text = \'COACH\' THEN \'INSTRUCTOR\' ELSE "role"::text END)) FROM (SELECT NEW."role" AS "role") AS "planner_rule")::text::"Role__planner_new"; RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "users_role__planner_sync" BEFORE INSERT OR UPDATE OF "role" ON "users" FOR EACH ROW EXECUTE FUNCTION "users_role__planner_sync"()'
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

    rt.with_lock_retry(_step_9)
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("users_role_idx")
        with rt.waiting():
            op.create_index(
                rt.q("users_role_idx"),
                rt.q("users"),
                [rt.q("role")],
                unique=False,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("users_role_idx")

    # undo: SET NOT NULL users.role__planner_new via the validated check
    def _step_10() -> None:
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

    rt.with_lock_retry(_step_10)

    # undo: drop the triggers that store writes of Role.COACH as 'INSTRUCTOR'
    def _step_11() -> None:
        rt.sql(
            "CREATE OR REPLACE FUNCTION \"users_Role_COACH__planner_remap\"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN IF current_setting('planner.restoring', true) = 'on' THEN RETURN NEW; END IF; IF NEW.\"role\"::text = 'COACH' THEN NEW.\"role\" := 'INSTRUCTOR'; END IF; RETURN NEW; END $planner$"
        )
        rt.sql(
            'CREATE TRIGGER "users_Role_COACH__planner_remap" BEFORE INSERT OR UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION "users_Role_COACH__planner_remap"()'
        )

    rt.with_lock_retry(_step_11)
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
