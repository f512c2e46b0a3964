"""contract: drop column on missed_check_ins.baseline_completion_rate, missed_check_ins.check_in_streak_before and 13 more

From: sample_schemas/aegira-missed-checkin-snapshot/old.prisma -> sample_schemas/aegira-missed-checkin-snapshot/new.prisma

Deploy before: nothing yet; stop every OLD writer when this revision starts (no version works both before and after it).
Deploy after: NEW (start it as soon as this revision is done).
Application versions: no version works both before and after this revision: stop every writer of OLD, run it, then start NEW (all writers switch at once); after it: NEW.

Steps:
- drop column missed_check_ins.baseline_completion_rate (backed up)
- drop column missed_check_ins.check_in_streak_before (backed up)
- drop column missed_check_ins.day_of_week (backed up)
- drop column missed_check_ins.days_since_last_check_in (backed up)
- drop column missed_check_ins.days_since_last_miss (backed up)
- drop column missed_check_ins.is_first_miss_in_30d (backed up)
- drop column missed_check_ins.is_increasing_frequency (backed up)
- drop column missed_check_ins.misses_in_last_30d (backed up)
- drop column missed_check_ins.misses_in_last_60d (backed up)
- drop column missed_check_ins.misses_in_last_90d (backed up)
- drop column missed_check_ins.recent_readiness_avg (backed up)
- drop column missed_check_ins.team_leader_name_at_miss (backed up)
- drop column missed_check_ins.team_name_at_miss (backed up)
- drop column missed_check_ins.week_of_month (backed up)
- drop column missed_check_ins.worker_role_at_miss (backed up)

Backups (restored by downgrade; dropped by the cleanup revision, written once the release is accepted: planner plan OLD NEW --alembic alembic.ini --cleanup):
- planner_backup.missed_check_ins__baseline_completion_rate (id, baseline_completion_rate)
- planner_backup.missed_check_ins__check_in_streak_before (id, check_in_streak_before)
- planner_backup.missed_check_ins__day_of_week (id, day_of_week)
- planner_backup.missed_check_ins__days_since_last_check_in (id, days_since_last_check_in)
- planner_backup.missed_check_ins__days_since_last_miss (id, days_since_last_miss)
- planner_backup.missed_check_ins__is_first_miss_in_30d (id, is_first_miss_in_30d)
- planner_backup.missed_check_ins__is_increasing_frequency (id, is_increasing_frequency)
- planner_backup.missed_check_ins__misses_in_last_30d (id, misses_in_last_30d)
- planner_backup.missed_check_ins__misses_in_last_60d (id, misses_in_last_60d)
- planner_backup.missed_check_ins__misses_in_last_90d (id, misses_in_last_90d)
- planner_backup.missed_check_ins__recent_readiness_avg (id, recent_readiness_avg)
- planner_backup.missed_check_ins__team_leader_name_at_miss (id, team_leader_name_at_miss)
- planner_backup.missed_check_ins__team_name_at_miss (id, team_name_at_miss)
- planner_backup.missed_check_ins__week_of_month (id, week_of_month)
- planner_backup.missed_check_ins__worker_role_at_miss (id, worker_role_at_miss)

Revision ID: e0ed0887d2c9
Revises:
Create Date: 2000-01-01 00:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import load_python_file
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "e0ed0887d2c9"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()
    # backups first: no copy runs while a step of this revision holds a strong lock
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__baseline_completion_rate" AS SELECT "id", "baseline_completion_rate" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__check_in_streak_before" AS SELECT "id", "check_in_streak_before" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__day_of_week" AS SELECT "id", "day_of_week" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__days_since_last_check_in" AS SELECT "id", "days_since_last_check_in" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__days_since_last_miss" AS SELECT "id", "days_since_last_miss" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__is_first_miss_in_30d" AS SELECT "id", "is_first_miss_in_30d" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__is_increasing_frequency" AS SELECT "id", "is_increasing_frequency" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_30d" AS SELECT "id", "misses_in_last_30d" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_60d" AS SELECT "id", "misses_in_last_60d" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_90d" AS SELECT "id", "misses_in_last_90d" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__recent_readiness_avg" AS SELECT "id", "recent_readiness_avg" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__team_leader_name_at_miss" AS SELECT "id", "team_leader_name_at_miss" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__team_name_at_miss" AS SELECT "id", "team_name_at_miss" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__week_of_month" AS SELECT "id", "week_of_month" FROM "missed_check_ins"'
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__worker_role_at_miss" AS SELECT "id", "worker_role_at_miss"::text AS "worker_role_at_miss" FROM "missed_check_ins"'
    )

    # drop column missed_check_ins.baseline_completion_rate (backed up)
    def _step_1() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("baseline_completion_rate"))

    rt.with_lock_retry(_step_1)

    # drop column missed_check_ins.check_in_streak_before (backed up)
    def _step_2() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("check_in_streak_before"))

    rt.with_lock_retry(_step_2)

    # drop column missed_check_ins.day_of_week (backed up)
    def _step_3() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("day_of_week"))

    rt.with_lock_retry(_step_3)

    # drop column missed_check_ins.days_since_last_check_in (backed up)
    def _step_4() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("days_since_last_check_in"))

    rt.with_lock_retry(_step_4)

    # drop column missed_check_ins.days_since_last_miss (backed up)
    def _step_5() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("days_since_last_miss"))

    rt.with_lock_retry(_step_5)

    # drop column missed_check_ins.is_first_miss_in_30d (backed up)
    def _step_6() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("is_first_miss_in_30d"))

    rt.with_lock_retry(_step_6)

    # drop column missed_check_ins.is_increasing_frequency (backed up)
    def _step_7() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("is_increasing_frequency"))

    rt.with_lock_retry(_step_7)

    # drop column missed_check_ins.misses_in_last_30d (backed up)
    def _step_8() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_30d"))

    rt.with_lock_retry(_step_8)

    # drop column missed_check_ins.misses_in_last_60d (backed up)
    def _step_9() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_60d"))

    rt.with_lock_retry(_step_9)

    # drop column missed_check_ins.misses_in_last_90d (backed up)
    def _step_10() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_90d"))

    rt.with_lock_retry(_step_10)

    # drop column missed_check_ins.recent_readiness_avg (backed up)
    def _step_11() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("recent_readiness_avg"))

    rt.with_lock_retry(_step_11)

    # drop column missed_check_ins.team_leader_name_at_miss (backed up)
    def _step_12() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("team_leader_name_at_miss"))

    rt.with_lock_retry(_step_12)

    # drop column missed_check_ins.team_name_at_miss (backed up)
    def _step_13() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("team_name_at_miss"))

    rt.with_lock_retry(_step_13)

    # drop column missed_check_ins.week_of_month (backed up)
    def _step_14() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("week_of_month"))

    rt.with_lock_retry(_step_14)

    # drop column missed_check_ins.worker_role_at_miss (backed up)
    def _step_15() -> None:
        op.drop_column(rt.q("missed_check_ins"), rt.q("worker_role_at_miss"))

    rt.with_lock_retry(_step_15)


def downgrade() -> None:
    """Downgrade schema."""
    # planner's runtime helpers (guards, lock retries, batches), beside env.py
    rt = load_python_file(context.script.dir, "planner_runtime_v1.py")
    rt.set_timeouts()

    # undo: drop column missed_check_ins.worker_role_at_miss (backed up)
    def _step_1() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("worker_role_at_miss"),
                postgresql.ENUM(
                    "ADMIN",
                    "WHS",
                    "SUPERVISOR",
                    "TEAM_LEAD",
                    "WORKER",
                    name=rt.q("Role"),
                    create_type=False,
                ),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_1)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "worker_role_at_miss" = b."worker_role_at_miss"::"Role" FROM "planner_backup"."missed_check_ins__worker_role_at_miss" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__worker_role_at_miss"')

    # undo: drop column missed_check_ins.week_of_month (backed up)
    def _step_2() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("week_of_month"), sa.SMALLINT(), autoincrement=False, nullable=True
            ),
        )

    rt.with_lock_retry(_step_2)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "week_of_month" = b."week_of_month" FROM "planner_backup"."missed_check_ins__week_of_month" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__week_of_month"')

    # undo: drop column missed_check_ins.team_name_at_miss (backed up)
    def _step_3() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("team_name_at_miss"), sa.TEXT(), autoincrement=False, nullable=True
            ),
        )

    rt.with_lock_retry(_step_3)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "team_name_at_miss" = b."team_name_at_miss" FROM "planner_backup"."missed_check_ins__team_name_at_miss" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__team_name_at_miss"')

    # undo: drop column missed_check_ins.team_leader_name_at_miss (backed up)
    def _step_4() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("team_leader_name_at_miss"),
                sa.TEXT(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_4)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "team_leader_name_at_miss" = b."team_leader_name_at_miss" FROM "planner_backup"."missed_check_ins__team_leader_name_at_miss" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__team_leader_name_at_miss"')

    # undo: drop column missed_check_ins.recent_readiness_avg (backed up)
    def _step_5() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("recent_readiness_avg"),
                sa.DOUBLE_PRECISION(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_5)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "recent_readiness_avg" = b."recent_readiness_avg" FROM "planner_backup"."missed_check_ins__recent_readiness_avg" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__recent_readiness_avg"')

    # undo: drop column missed_check_ins.misses_in_last_90d (backed up)
    def _step_6() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("misses_in_last_90d"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_6)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "misses_in_last_90d" = b."misses_in_last_90d" FROM "planner_backup"."missed_check_ins__misses_in_last_90d" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_90d"')

    # undo: drop column missed_check_ins.misses_in_last_60d (backed up)
    def _step_7() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("misses_in_last_60d"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_7)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "misses_in_last_60d" = b."misses_in_last_60d" FROM "planner_backup"."missed_check_ins__misses_in_last_60d" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_60d"')

    # undo: drop column missed_check_ins.misses_in_last_30d (backed up)
    def _step_8() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("misses_in_last_30d"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_8)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "misses_in_last_30d" = b."misses_in_last_30d" FROM "planner_backup"."missed_check_ins__misses_in_last_30d" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_30d"')

    # undo: drop column missed_check_ins.is_increasing_frequency (backed up)
    def _step_9() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("is_increasing_frequency"),
                sa.BOOLEAN(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_9)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "is_increasing_frequency" = b."is_increasing_frequency" FROM "planner_backup"."missed_check_ins__is_increasing_frequency" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__is_increasing_frequency"')

    # undo: drop column missed_check_ins.is_first_miss_in_30d (backed up)
    def _step_10() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("is_first_miss_in_30d"),
                sa.BOOLEAN(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_10)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "is_first_miss_in_30d" = b."is_first_miss_in_30d" FROM "planner_backup"."missed_check_ins__is_first_miss_in_30d" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__is_first_miss_in_30d"')

    # undo: drop column missed_check_ins.days_since_last_miss (backed up)
    def _step_11() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("days_since_last_miss"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_11)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "days_since_last_miss" = b."days_since_last_miss" FROM "planner_backup"."missed_check_ins__days_since_last_miss" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__days_since_last_miss"')

    # undo: drop column missed_check_ins.days_since_last_check_in (backed up)
    def _step_12() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("days_since_last_check_in"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_12)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "days_since_last_check_in" = b."days_since_last_check_in" FROM "planner_backup"."missed_check_ins__days_since_last_check_in" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__days_since_last_check_in"')

    # undo: drop column missed_check_ins.day_of_week (backed up)
    def _step_13() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("day_of_week"), sa.SMALLINT(), autoincrement=False, nullable=True
            ),
        )

    rt.with_lock_retry(_step_13)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "day_of_week" = b."day_of_week" FROM "planner_backup"."missed_check_ins__day_of_week" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__day_of_week"')

    # undo: drop column missed_check_ins.check_in_streak_before (backed up)
    def _step_14() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("check_in_streak_before"),
                sa.INTEGER(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_14)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "check_in_streak_before" = b."check_in_streak_before" FROM "planner_backup"."missed_check_ins__check_in_streak_before" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__check_in_streak_before"')

    # undo: drop column missed_check_ins.baseline_completion_rate (backed up)
    def _step_15() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("baseline_completion_rate"),
                sa.DOUBLE_PRECISION(),
                autoincrement=False,
                nullable=True,
            ),
        )

    rt.with_lock_retry(_step_15)
    rt.sql(
        'UPDATE "missed_check_ins" AS t SET "baseline_completion_rate" = b."baseline_completion_rate" FROM "planner_backup"."missed_check_ins__baseline_completion_rate" AS b WHERE t."id" = b."id"'
    )
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__baseline_completion_rate"')
