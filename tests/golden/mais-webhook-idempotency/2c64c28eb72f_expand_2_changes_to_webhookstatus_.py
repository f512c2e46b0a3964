"""expand: 2 changes to WebhookStatus, WebhookEvent

From: sample_schemas/mais-webhook-idempotency/old.prisma -> sample_schemas/mais-webhook-idempotency/new.prisma

Deploy before: nothing; this revision is backward compatible with the running code.
Deploy after: the application version that writes the new columns/values (it must not depend on the backfill yet).
Application versions: during this revision: OLD; after it: OLD and NEW.

Steps:
- add value 'DUPLICATE' to enum WebhookStatus
- create unique index WebhookEvent_tenantId_eventId_key concurrently

Revision ID: 2c64c28eb72f
Revises:
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

from alembic import context, op
from alembic.util import load_python_file

# revision identifiers, used by Alembic.
revision: str = "2c64c28eb72f"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # pre-flight guards: stop before any DDL if existing rows would break a change
    rt.guard(
        """
        SELECT count(*) AS "count"
        FROM (SELECT 1
        FROM "WebhookEvent"
        WHERE "WebhookEvent"."tenantId" IS NOT NULL AND "WebhookEvent"."eventId" IS NOT NULL GROUP BY "WebhookEvent"."tenantId", "WebhookEvent"."eventId"
        HAVING count(*) > 1) AS "dup"
        """,
        "Groups of WebhookEvent rows sharing (tenantId, eventId): UNIQUE WebhookEvent_tenantId_eventId_key (tenantId, eventId) fails on them (rows with a NULL in the key are skipped)",
        sample="""
        SELECT "WebhookEvent"."tenantId" AS "tenantId", "WebhookEvent"."eventId" AS "eventId", count(*) AS "rows"
        FROM "WebhookEvent"
        WHERE "WebhookEvent"."tenantId" IS NOT NULL AND "WebhookEvent"."eventId" IS NOT NULL GROUP BY "WebhookEvent"."tenantId", "WebhookEvent"."eventId"
        HAVING count(*) > 1 ORDER BY count(*) DESC, "WebhookEvent"."tenantId", "WebhookEvent"."eventId"
        LIMIT 5
        """,
        check="planner check sample_schemas/mais-webhook-idempotency/old.prisma sample_schemas/mais-webhook-idempotency/new.prisma --db URL",
    )
    # add value 'DUPLICATE' to enum WebhookStatus
    with op.get_context().autocommit_block():
        rt.sql(
            "ALTER TYPE \"WebhookStatus\" ADD VALUE IF NOT EXISTS 'DUPLICATE' AFTER 'FAILED'"
        )
    # create unique index WebhookEvent_tenantId_eventId_key concurrently
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("WebhookEvent_tenantId_eventId_key")
        with rt.waiting():
            op.create_index(
                rt.q("WebhookEvent_tenantId_eventId_key"),
                rt.q("WebhookEvent"),
                [rt.q("tenantId"), rt.q("eventId")],
                unique=True,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("WebhookEvent_tenantId_eventId_key")


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # undo: create unique index WebhookEvent_tenantId_eventId_key concurrently
    with op.get_context().autocommit_block(), rt.waiting():
        op.drop_index(
            rt.q("WebhookEvent_tenantId_eventId_key"),
            table_name=rt.q("WebhookEvent"),
            postgresql_concurrently=True,
            if_exists=True,
        )
    # undo: add value 'DUPLICATE' to enum WebhookStatus
    rt.guard(
        'SELECT count(*) FROM "WebhookEvent" WHERE "status"::text = \'DUPLICATE\'',
        'rows of WebhookEvent.status hold \'DUPLICATE\': remap them first ([tool.planner.enum_remap] "WebhookStatus.DUPLICATE" = "<value>")',
    )

    def _step_1() -> None:
        with rt.views_kept('"WebhookEvent"', "status"):
            rt.sql(
                "CREATE TYPE \"WebhookStatus__planner_new\" AS ENUM ('PENDING', 'PROCESSED', 'FAILED')"
            )
            rt.sql('ALTER TABLE "WebhookEvent" ALTER COLUMN "status" DROP DEFAULT')
            rt.sql(
                'ALTER TABLE "WebhookEvent" ALTER COLUMN "status" TYPE "WebhookStatus__planner_new" USING "status"::text::"WebhookStatus__planner_new"'
            )
            rt.sql(
                "DO $planner$ DECLARE planner_s oid := to_regtype('\"WebhookStatus\"'); r record; BEGIN IF planner_s IS NULL THEN RETURN; END IF; EXECUTE format('COMMENT ON TYPE %s IS %L', '\"WebhookStatus__planner_new\"', obj_description(planner_s, 'pg_type')); IF (SELECT typacl FROM pg_type WHERE oid = planner_s) IS NOT NULL THEN EXECUTE format('REVOKE ALL ON TYPE %s FROM PUBLIC', '\"WebhookStatus__planner_new\"'); FOR r IN SELECT a.grantee, a.privilege_type, a.is_grantable FROM pg_type p, aclexplode(p.typacl) a WHERE p.oid = planner_s LOOP EXECUTE format('GRANT %s ON TYPE %s TO %s%s', r.privilege_type, '\"WebhookStatus__planner_new\"', CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END); END LOOP; END IF; BEGIN EXECUTE format('ALTER TYPE %s OWNER TO %I', '\"WebhookStatus__planner_new\"', (SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid = planner_s)); EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING USING MESSAGE = 'planner: ' || '\"WebhookStatus__planner_new\"' || ' could not take the owner of the type it replaces: ' || SQLERRM; END; END $planner$"
            )
            rt.sql('DROP TYPE "WebhookStatus"')
            rt.sql('ALTER TYPE "WebhookStatus__planner_new" RENAME TO "WebhookStatus"')
            rt.sql(
                'ALTER TABLE "WebhookEvent" ALTER COLUMN "status" SET DEFAULT \'PENDING\''
            )

    rt.with_lock_retry(_step_1)
