"""contract: drop index WebhookEvent.WebhookEvent_tenantId_eventId_idx

From: sample_schemas/mais-webhook-idempotency/old.prisma -> sample_schemas/mais-webhook-idempotency/new.prisma

Deploy before: the application version that no longer reads or writes what this revision drops or renames.
Deploy after: nothing; remove compatibility code at leisure.
Application versions: during this revision: NEW; after it: NEW.

Steps:
- drop index WebhookEvent_tenantId_eventId_idx concurrently

Revision ID: d61da320815e
Revises: 2c64c28eb72f
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

from alembic import context, op
from alembic.util import load_python_file

# revision identifiers, used by Alembic.
revision: str = "d61da320815e"
down_revision: str | Sequence[str] | None = "2c64c28eb72f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # drop index WebhookEvent_tenantId_eventId_idx concurrently
    with op.get_context().autocommit_block(), rt.waiting():
        op.drop_index(
            rt.q("WebhookEvent_tenantId_eventId_idx"),
            table_name=rt.q("WebhookEvent"),
            postgresql_concurrently=True,
            if_exists=True,
        )


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # undo: drop index WebhookEvent_tenantId_eventId_idx concurrently
    with op.get_context().autocommit_block():
        rt.drop_invalid_index("WebhookEvent_tenantId_eventId_idx")
        with rt.waiting():
            op.create_index(
                rt.q("WebhookEvent_tenantId_eventId_idx"),
                rt.q("WebhookEvent"),
                [rt.q("tenantId"), rt.q("eventId")],
                unique=False,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        rt.check_index_valid("WebhookEvent_tenantId_eventId_idx")
