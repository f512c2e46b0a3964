"""expand 1/2: 3 changes to Role, appointments, invoices

From: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: nothing; this revision is backward compatible with the running code.
Deploy after: nothing; run the next expand revision right after this one (nothing to deploy in between).
Application versions: during this revision: OLD; after it: OLD.

Steps:
- add value 'INSTRUCTOR' to enum Role (renames 'COACH')
- create enum Role__planner_new (Role as NEW has it; takes its name in contract)
- add users.role__planner_new (\"Role__planner_new\") kept in step with role by a trigger (R8); from here on a write of role that does not convert to \"Role__planner_new\" fails
- add appointments.fee__planner_new (NUMERIC(10, 2)) kept in step with fee by a trigger (R8); from here on a write of fee that does not convert to NUMERIC(10, 2) fails
- add invoices.totalAmount__planner_new (NUMERIC(10, 2)) kept in step with totalAmount by a trigger (R8); from here on a write of totalAmount that does not convert to NUMERIC(10, 2) fails
- triggers store writes of Role.COACH as 'INSTRUCTOR' (users.role); from here on OLD reads 'INSTRUCTOR' where rows hold it (a client that rejects values it does not know, as Prisma's does, needs it first, or keep the database value with @map)

Revision ID: 7aca49fd45f2
Revises:
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import load_python_file
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "7aca49fd45f2"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # pre-flight guards: stop before any DDL if existing rows would break a change
    rt.column_dependents(
        '"users"',
        "role",
        "R8's swap",
        resolve="drop them before and create them again after, or change the type of users.role by hand (ALTER TABLE ... ALTER COLUMN ... TYPE, a table rewrite under ACCESS EXCLUSIVE)",
    )
    rt.guard(
        """
        SELECT count(*) AS "count"
        FROM "appointments"
        WHERE "appointments"."fee" IS NOT NULL AND ("appointments"."fee" >= 99999999.995 OR "appointments"."fee" <= -99999999.995)
        """,
        "Values of appointments.fee that do not fit numeric(10,2) (absolute value of 99999999.995 or more) (double precision -> numeric(10,2))",
        sample="""
        SELECT "offending"."id", "offending"."fee"
        FROM (SELECT "appointments"."id" AS "id", "appointments"."fee" AS "fee"
        FROM "appointments"
        WHERE "appointments"."fee" IS NOT NULL AND ("appointments"."fee" >= 99999999.995 OR "appointments"."fee" <= -99999999.995)
        LIMIT ALL OFFSET 0) AS "offending" ORDER BY "offending"."id"
        LIMIT 5
        """,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
        resolve='set [tool.planner.convert] "appointments.fee" = "<SQL expression>" (or fix those values), then plan again',
    )
    rt.column_dependents(
        '"appointments"',
        "fee",
        "R8's swap",
        resolve="drop them before and create them again after, or change the type of appointments.fee by hand (ALTER TABLE ... ALTER COLUMN ... TYPE, a table rewrite under ACCESS EXCLUSIVE)",
    )
    rt.guard(
        """
        SELECT count(*) AS "count"
        FROM "invoices"
        WHERE "invoices"."totalAmount" IS NOT NULL AND ("invoices"."totalAmount" >= 99999999.995 OR "invoices"."totalAmount" <= -99999999.995)
        """,
        "Values of invoices.totalAmount that do not fit numeric(10,2) (absolute value of 99999999.995 or more) (double precision -> numeric(10,2))",
        sample="""
        SELECT "offending"."id", "offending"."totalAmount"
        FROM (SELECT "invoices"."id" AS "id", "invoices"."totalAmount" AS "totalAmount"
        FROM "invoices"
        WHERE "invoices"."totalAmount" IS NOT NULL AND ("invoices"."totalAmount" >= 99999999.995 OR "invoices"."totalAmount" <= -99999999.995)
        LIMIT ALL OFFSET 0) AS "offending" ORDER BY "offending"."id"
        LIMIT 5
        """,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
        resolve='set [tool.planner.convert] "invoices.totalAmount" = "<SQL expression>" (or fix those values), then plan again',
    )
    rt.column_dependents(
        '"invoices"',
        "totalAmount",
        "R8's swap",
        resolve="drop them before and create them again after, or change the type of invoices.totalAmount by hand (ALTER TABLE ... ALTER COLUMN ... TYPE, a table rewrite under ACCESS EXCLUSIVE)",
    )
    # add value 'INSTRUCTOR' to enum Role (renames 'COACH')
    with op.get_context().autocommit_block():
        rt.sql(
            "ALTER TYPE \"Role\" ADD VALUE IF NOT EXISTS 'INSTRUCTOR' BEFORE 'COACH'"
        )

    # create enum Role__planner_new (Role as NEW has it; takes its name in contract)
    def _step_1() -> None:
        rt.sql(
            "CREATE TYPE \"Role__planner_new\" AS ENUM ('ADMIN', 'INSTRUCTOR', 'CLIENT')"
        )

    rt.with_lock_retry(_step_1)
    # add users.role__planner_new ("Role__planner_new") kept in step with role by a trigger (R8); from here on a write of role that does not convert to "Role__planner_new" fails
    rt.views_replaceable('"users"', "role")

    def _step_2() -> None:
        op.add_column(
            rt.q("users"),
            sa.Column(
                rt.q("role__planner_new"),
                postgresql.ENUM(
                    "ADMIN",
                    "INSTRUCTOR",
                    "CLIENT",
                    name=rt.q("Role__planner_new"),
                    create_type=False,
                ),
                nullable=True,
            ),
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "users_role__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."role__planner_new" := (SELECT ((CASE WHEN "role"::text = \'COACH\' THEN \'INSTRUCTOR\' ELSE "role"::text END)) FROM (SELECT NEW."role" AS "role") AS "planner_rule")::text::"Role__planner_new"; RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "users_role__planner_sync" BEFORE INSERT OR UPDATE OF "role" ON "users" FOR EACH ROW EXECUTE FUNCTION "users_role__planner_sync"()'
        )

    rt.with_lock_retry(_step_2)
    # add appointments.fee__planner_new (NUMERIC(10, 2)) kept in step with fee by a trigger (R8); from here on a write of fee that does not convert to NUMERIC(10, 2) fails
    rt.views_replaceable('"appointments"', "fee")

    def _step_3() -> None:
        op.add_column(
            rt.q("appointments"),
            sa.Column(
                rt.q("fee__planner_new"),
                sa.NUMERIC(precision=10, scale=2),
                nullable=True,
            ),
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "appointments_fee__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."fee__planner_new" := NEW."fee"::NUMERIC(10, 2); RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "appointments_fee__planner_sync" BEFORE INSERT OR UPDATE OF "fee" ON "appointments" FOR EACH ROW EXECUTE FUNCTION "appointments_fee__planner_sync"()'
        )

    rt.with_lock_retry(_step_3)
    # add invoices.totalAmount__planner_new (NUMERIC(10, 2)) kept in step with totalAmount by a trigger (R8); from here on a write of totalAmount that does not convert to NUMERIC(10, 2) fails
    rt.views_replaceable('"invoices"', "totalAmount")

    def _step_4() -> None:
        op.add_column(
            rt.q("invoices"),
            sa.Column(
                rt.q("totalAmount__planner_new"),
                sa.NUMERIC(precision=10, scale=2),
                nullable=True,
            ),
        )
        rt.sql(
            'CREATE OR REPLACE FUNCTION "invoices_totalAmount__planner_sync"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN NEW."totalAmount__planner_new" := NEW."totalAmount"::NUMERIC(10, 2); RETURN NEW; END $planner$'
        )
        rt.sql(
            'CREATE TRIGGER "invoices_totalAmount__planner_sync" BEFORE INSERT OR UPDATE OF "totalAmount" ON "invoices" FOR EACH ROW EXECUTE FUNCTION "invoices_totalAmount__planner_sync"()'
        )

    rt.with_lock_retry(_step_4)

    # triggers store writes of Role.COACH as 'INSTRUCTOR' (users.role); from here on OLD reads 'INSTRUCTOR' where rows hold it (a client that rejects values it does not know, as Prisma's does, needs it first, or keep the database value with @map)
    def _step_5() -> None:
        rt.sql(
            "CREATE OR REPLACE FUNCTION \"users_Role_COACH__planner_remap\"() RETURNS trigger LANGUAGE plpgsql AS $planner$ BEGIN IF current_setting('planner.restoring', true) = 'on' THEN RETURN NEW; END IF; IF NEW.\"role\"::text = 'COACH' THEN NEW.\"role\" := 'INSTRUCTOR'; END IF; RETURN NEW; END $planner$"
        )
        rt.sql(
            'CREATE TRIGGER "users_Role_COACH__planner_remap" BEFORE INSERT OR UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION "users_Role_COACH__planner_remap"()'
        )

    rt.with_lock_retry(_step_5)


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()

    # undo: triggers store writes of Role.COACH as 'INSTRUCTOR' (users.role); from here on OLD reads 'INSTRUCTOR' where rows hold it (a client that rejects values it does not know, as Prisma's does, needs it first, or keep the database value with @map)
    def _step_1() -> None:
        rt.sql('DROP TRIGGER IF EXISTS "users_Role_COACH__planner_remap" ON "users"')
        rt.sql('DROP FUNCTION IF EXISTS "users_Role_COACH__planner_remap"()')

    rt.with_lock_retry(_step_1)

    # undo: add invoices.totalAmount__planner_new (NUMERIC(10, 2)) kept in step with totalAmount by a trigger (R8); from here on a write of totalAmount that does not convert to NUMERIC(10, 2) fails
    def _step_2() -> None:
        rt.sql(
            'DROP TRIGGER IF EXISTS "invoices_totalAmount__planner_sync" ON "invoices"'
        )
        rt.sql('DROP FUNCTION IF EXISTS "invoices_totalAmount__planner_sync"()')
        op.drop_column(rt.q("invoices"), rt.q("totalAmount__planner_new"))

    rt.with_lock_retry(_step_2)

    # undo: add appointments.fee__planner_new (NUMERIC(10, 2)) kept in step with fee by a trigger (R8); from here on a write of fee that does not convert to NUMERIC(10, 2) fails
    def _step_3() -> None:
        rt.sql(
            'DROP TRIGGER IF EXISTS "appointments_fee__planner_sync" ON "appointments"'
        )
        rt.sql('DROP FUNCTION IF EXISTS "appointments_fee__planner_sync"()')
        op.drop_column(rt.q("appointments"), rt.q("fee__planner_new"))

    rt.with_lock_retry(_step_3)

    # undo: add users.role__planner_new ("Role__planner_new") kept in step with role by a trigger (R8); from here on a write of role that does not convert to "Role__planner_new" fails
    def _step_4() -> None:
        rt.sql('DROP TRIGGER IF EXISTS "users_role__planner_sync" ON "users"')
        rt.sql('DROP FUNCTION IF EXISTS "users_role__planner_sync"()')
        op.drop_column(rt.q("users"), rt.q("role__planner_new"))

    rt.with_lock_retry(_step_4)

    # undo: create enum Role__planner_new (Role as NEW has it; takes its name in contract)
    def _step_5() -> None:
        rt.sql('DROP TYPE IF EXISTS "Role__planner_new"')

    rt.with_lock_retry(_step_5)

    # undo: add value 'INSTRUCTOR' to enum Role (renames 'COACH')
    def _step_6() -> None:
        with rt.views_kept('"users"', "role"):
            rt.sql(
                "CREATE TYPE \"Role__planner_new\" AS ENUM ('ADMIN', 'COACH', 'CLIENT')"
            )
            rt.sql('ALTER TABLE "users" ALTER COLUMN "role" DROP DEFAULT')
            rt.sql(
                'ALTER TABLE "users" ALTER COLUMN "role" TYPE "Role__planner_new" USING (CASE WHEN "role"::text = \'INSTRUCTOR\' THEN \'COACH\' ELSE "role"::text END)::"Role__planner_new"'
            )
            rt.sql(
                "DO $planner$ DECLARE planner_s oid := to_regtype('\"Role\"'); r record; BEGIN IF planner_s IS NULL THEN RETURN; END IF; EXECUTE format('COMMENT ON TYPE %s IS %L', '\"Role__planner_new\"', obj_description(planner_s, 'pg_type')); IF (SELECT typacl FROM pg_type WHERE oid = planner_s) IS NOT NULL THEN EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', '\"Role__planner_new\"'); FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_type p, aclexplode(p.typacl) a WHERE p.oid = planner_s LOOP EXECUTE format('GRANT %s ON TYPE %s TO %s%s', r.privilege_type, '\"Role__planner_new\"', CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END IF; BEGIN EXECUTE format('ALTER TYPE %s OWNER TO %I', '\"Role__planner_new\"', (SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = planner_s)); EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING USING MESSAGE = 'planner: ' || '\"Role__planner_new\"' || ' could not take the owner of the type it replaces: ' || SQLERRM; END; END $planner$"
            )
            rt.sql('DROP TYPE "Role"')
            rt.sql('ALTER TYPE "Role__planner_new" RENAME TO "Role"')
            rt.sql('ALTER TABLE "users" ALTER COLUMN "role" SET DEFAULT \'CLIENT\'')

    rt.with_lock_retry(_step_6)
