"""expand 2/2: add unique entries.entries_userId_date_key

From: sample_schemas/centurion-money-enum-unique/old.prisma -> sample_schemas/centurion-money-enum-unique/new.prisma

Deploy before: nothing; this continues the previous revision.
Deploy after: nothing yet; the NEW application may run only once a later revision is done.
Application versions: during this revision: OLD; after it: OLD.

Steps:
- create unique index entries_userId_date_key concurrently

Revision ID: d8ce3b9f5848
Revises: 7aca49fd45f2
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

from alembic import context, op
from alembic.util import load_python_file

# revision identifiers, used by Alembic.
revision: str = "d8ce3b9f5848"
down_revision: str | Sequence[str] | None = "7aca49fd45f2"
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
        FROM "entries"
        WHERE "entries"."userId" IS NOT NULL AND "entries"."date" IS NOT NULL GROUP BY "entries"."userId", "entries"."date"
        HAVING count(*) > 1) AS "dup"
        """,
        "Groups of entries rows sharing (userId, date): UNIQUE entries_userId_date_key (userId, date) fails on them (rows with a NULL in the key are skipped)",
        sample="""
        SELECT "entries"."userId" AS "userId", "entries"."date" AS "date", count(*) AS "rows"
        FROM "entries"
        WHERE "entries"."userId" IS NOT NULL AND "entries"."date" IS NOT NULL GROUP BY "entries"."userId", "entries"."date"
        HAVING count(*) > 1 ORDER BY count(*) DESC, "entries"."userId", "entries"."date"
        LIMIT 5
        """,
        check="planner check sample_schemas/centurion-money-enum-unique/old.prisma sample_schemas/centurion-money-enum-unique/new.prisma --rename Role.COACH=INSTRUCTOR --db URL",
    )
    # create unique index entries_userId_date_key concurrently
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("entries_userId_date_key")
        with rt.waiting():
            op.create_index(
                rt.q("entries_userId_date_key"),
                rt.q("entries"),
                [rt.q("userId"), rt.q("date")],
                unique=True,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("entries_userId_date_key")


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # undo: create unique index entries_userId_date_key concurrently
    with op.get_context().autocommit_block(), rt.waiting():
        op.drop_index(
            rt.q("entries_userId_date_key"),
            table_name=rt.q("entries"),
            postgresql_concurrently=True,
            if_exists=True,
        )
