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
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__baseline_completion_rate", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__baseline_completion_rate" AS SELECT "id", "baseline_completion_rate" FROM "missed_check_ins"'
    )
    rt.mark_backup(
        "planner_backup", "missed_check_ins__baseline_completion_rate", revision
    )
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__check_in_streak_before", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__check_in_streak_before" AS SELECT "id", "check_in_streak_before" FROM "missed_check_ins"'
    )
    rt.mark_backup(
        "planner_backup", "missed_check_ins__check_in_streak_before", revision
    )
    rt.fresh_backup("planner_backup", "missed_check_ins__day_of_week", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__day_of_week" AS SELECT "id", "day_of_week" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__day_of_week", revision)
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__days_since_last_check_in", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__days_since_last_check_in" AS SELECT "id", "days_since_last_check_in" FROM "missed_check_ins"'
    )
    rt.mark_backup(
        "planner_backup", "missed_check_ins__days_since_last_check_in", revision
    )
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__days_since_last_miss", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__days_since_last_miss" AS SELECT "id", "days_since_last_miss" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__days_since_last_miss", revision)
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__is_first_miss_in_30d", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__is_first_miss_in_30d" AS SELECT "id", "is_first_miss_in_30d" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__is_first_miss_in_30d", revision)
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__is_increasing_frequency", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__is_increasing_frequency" AS SELECT "id", "is_increasing_frequency" FROM "missed_check_ins"'
    )
    rt.mark_backup(
        "planner_backup", "missed_check_ins__is_increasing_frequency", revision
    )
    rt.fresh_backup("planner_backup", "missed_check_ins__misses_in_last_30d", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_30d" AS SELECT "id", "misses_in_last_30d" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__misses_in_last_30d", revision)
    rt.fresh_backup("planner_backup", "missed_check_ins__misses_in_last_60d", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_60d" AS SELECT "id", "misses_in_last_60d" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__misses_in_last_60d", revision)
    rt.fresh_backup("planner_backup", "missed_check_ins__misses_in_last_90d", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__misses_in_last_90d" AS SELECT "id", "misses_in_last_90d" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__misses_in_last_90d", revision)
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__recent_readiness_avg", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__recent_readiness_avg" AS SELECT "id", "recent_readiness_avg" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__recent_readiness_avg", revision)
    rt.fresh_backup(
        "planner_backup", "missed_check_ins__team_leader_name_at_miss", revision
    )
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__team_leader_name_at_miss" AS SELECT "id", "team_leader_name_at_miss" FROM "missed_check_ins"'
    )
    rt.mark_backup(
        "planner_backup", "missed_check_ins__team_leader_name_at_miss", revision
    )
    rt.fresh_backup("planner_backup", "missed_check_ins__team_name_at_miss", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__team_name_at_miss" AS SELECT "id", "team_name_at_miss" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__team_name_at_miss", revision)
    rt.fresh_backup("planner_backup", "missed_check_ins__week_of_month", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__week_of_month" AS SELECT "id", "week_of_month" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__week_of_month", revision)
    rt.fresh_backup("planner_backup", "missed_check_ins__worker_role_at_miss", revision)
    rt.sql('CREATE SCHEMA IF NOT EXISTS "planner_backup"')
    rt.sql(
        'CREATE TABLE IF NOT EXISTS "planner_backup"."missed_check_ins__worker_role_at_miss" AS SELECT "id", "worker_role_at_miss"::text AS "worker_role_at_miss" FROM "missed_check_ins"'
    )
    rt.mark_backup("planner_backup", "missed_check_ins__worker_role_at_miss", revision)

    # drop column missed_check_ins.baseline_completion_rate (backed up)
    def _step_1() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__baseline_completion_rate"',
            "baseline_completion_rate",
            "baseline_completion_rate",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("baseline_completion_rate"))

    rt.with_lock_retry(_step_1)

    # drop column missed_check_ins.check_in_streak_before (backed up)
    def _step_2() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__check_in_streak_before"',
            "check_in_streak_before",
            "check_in_streak_before",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("check_in_streak_before"))

    rt.with_lock_retry(_step_2)

    # drop column missed_check_ins.day_of_week (backed up)
    def _step_3() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__day_of_week"',
            "day_of_week",
            "day_of_week",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("day_of_week"))

    rt.with_lock_retry(_step_3)

    # drop column missed_check_ins.days_since_last_check_in (backed up)
    def _step_4() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__days_since_last_check_in"',
            "days_since_last_check_in",
            "days_since_last_check_in",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("days_since_last_check_in"))

    rt.with_lock_retry(_step_4)

    # drop column missed_check_ins.days_since_last_miss (backed up)
    def _step_5() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__days_since_last_miss"',
            "days_since_last_miss",
            "days_since_last_miss",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("days_since_last_miss"))

    rt.with_lock_retry(_step_5)

    # drop column missed_check_ins.is_first_miss_in_30d (backed up)
    def _step_6() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__is_first_miss_in_30d"',
            "is_first_miss_in_30d",
            "is_first_miss_in_30d",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("is_first_miss_in_30d"))

    rt.with_lock_retry(_step_6)

    # drop column missed_check_ins.is_increasing_frequency (backed up)
    def _step_7() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__is_increasing_frequency"',
            "is_increasing_frequency",
            "is_increasing_frequency",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("is_increasing_frequency"))

    rt.with_lock_retry(_step_7)

    # drop column missed_check_ins.misses_in_last_30d (backed up)
    def _step_8() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__misses_in_last_30d"',
            "misses_in_last_30d",
            "misses_in_last_30d",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_30d"))

    rt.with_lock_retry(_step_8)

    # drop column missed_check_ins.misses_in_last_60d (backed up)
    def _step_9() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__misses_in_last_60d"',
            "misses_in_last_60d",
            "misses_in_last_60d",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_60d"))

    rt.with_lock_retry(_step_9)

    # drop column missed_check_ins.misses_in_last_90d (backed up)
    def _step_10() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__misses_in_last_90d"',
            "misses_in_last_90d",
            "misses_in_last_90d",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("misses_in_last_90d"))

    rt.with_lock_retry(_step_10)

    # drop column missed_check_ins.recent_readiness_avg (backed up)
    def _step_11() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__recent_readiness_avg"',
            "recent_readiness_avg",
            "recent_readiness_avg",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("recent_readiness_avg"))

    rt.with_lock_retry(_step_11)

    # drop column missed_check_ins.team_leader_name_at_miss (backed up)
    def _step_12() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__team_leader_name_at_miss"',
            "team_leader_name_at_miss",
            "team_leader_name_at_miss",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("team_leader_name_at_miss"))

    rt.with_lock_retry(_step_12)

    # drop column missed_check_ins.team_name_at_miss (backed up)
    def _step_13() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__team_name_at_miss"',
            "team_name_at_miss",
            "team_name_at_miss",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("team_name_at_miss"))

    rt.with_lock_retry(_step_13)

    # drop column missed_check_ins.week_of_month (backed up)
    def _step_14() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__week_of_month"',
            "week_of_month",
            "week_of_month",
            source_table='"missed_check_ins"',
        )
        op.drop_column(rt.q("missed_check_ins"), rt.q("week_of_month"))

    rt.with_lock_retry(_step_14)

    # drop column missed_check_ins.worker_role_at_miss (backed up)
    def _step_15() -> None:
        rt.column_like(
            '"planner_backup"."missed_check_ins__worker_role_at_miss"',
            "worker_role_at_miss",
            "worker_role_at_miss",
            source_table='"missed_check_ins"',
        )
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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "worker_role_at_miss",
            "worker_role_at_miss",
            source_table='"planner_backup"."missed_check_ins__worker_role_at_miss"',
        )

    rt.with_lock_retry(_step_1)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__worker_role_at_miss_planner_key" ON "planner_backup"."missed_check_ins__worker_role_at_miss" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__worker_role_at_miss" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__worker_role_at_miss" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "worker_role_at_miss" = b."worker_role_at_miss"::"Role" FROM "planner_backup"."missed_check_ins__worker_role_at_miss" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "worker_role_at_miss" = b."worker_role_at_miss"::"Role" FROM "planner_backup"."missed_check_ins__worker_role_at_miss" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.worker_role_at_miss: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.worker_role_at_miss: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

    # undo: drop column missed_check_ins.week_of_month (backed up)
    def _step_2() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("week_of_month"), sa.SMALLINT(), autoincrement=False, nullable=True
            ),
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "week_of_month",
            "week_of_month",
            source_table='"planner_backup"."missed_check_ins__week_of_month"',
        )

    rt.with_lock_retry(_step_2)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__week_of_month_planner_key" ON "planner_backup"."missed_check_ins__week_of_month" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__week_of_month" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__week_of_month" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "week_of_month" = b."week_of_month" FROM "planner_backup"."missed_check_ins__week_of_month" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "week_of_month" = b."week_of_month" FROM "planner_backup"."missed_check_ins__week_of_month" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.week_of_month: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.week_of_month: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

    # undo: drop column missed_check_ins.team_name_at_miss (backed up)
    def _step_3() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("team_name_at_miss"), sa.TEXT(), autoincrement=False, nullable=True
            ),
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "team_name_at_miss",
            "team_name_at_miss",
            source_table='"planner_backup"."missed_check_ins__team_name_at_miss"',
        )

    rt.with_lock_retry(_step_3)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__team_name_at_miss_planner_key" ON "planner_backup"."missed_check_ins__team_name_at_miss" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__team_name_at_miss" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__team_name_at_miss" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "team_name_at_miss" = b."team_name_at_miss" FROM "planner_backup"."missed_check_ins__team_name_at_miss" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "team_name_at_miss" = b."team_name_at_miss" FROM "planner_backup"."missed_check_ins__team_name_at_miss" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.team_name_at_miss: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.team_name_at_miss: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "team_leader_name_at_miss",
            "team_leader_name_at_miss",
            source_table='"planner_backup"."missed_check_ins__team_leader_name_at_miss"',
        )

    rt.with_lock_retry(_step_4)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__team_leader_name_at_miss_planner_key" ON "planner_backup"."missed_check_ins__team_leader_name_at_miss" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__team_leader_name_at_miss" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__team_leader_name_at_miss" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "team_leader_name_at_miss" = b."team_leader_name_at_miss" FROM "planner_backup"."missed_check_ins__team_leader_name_at_miss" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "team_leader_name_at_miss" = b."team_leader_name_at_miss" FROM "planner_backup"."missed_check_ins__team_leader_name_at_miss" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.team_leader_name_at_miss: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.team_leader_name_at_miss: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "recent_readiness_avg",
            "recent_readiness_avg",
            source_table='"planner_backup"."missed_check_ins__recent_readiness_avg"',
        )

    rt.with_lock_retry(_step_5)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__recent_readiness_avg_planner_key" ON "planner_backup"."missed_check_ins__recent_readiness_avg" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__recent_readiness_avg" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__recent_readiness_avg" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "recent_readiness_avg" = b."recent_readiness_avg" FROM "planner_backup"."missed_check_ins__recent_readiness_avg" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "recent_readiness_avg" = b."recent_readiness_avg" FROM "planner_backup"."missed_check_ins__recent_readiness_avg" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.recent_readiness_avg: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.recent_readiness_avg: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "misses_in_last_90d",
            "misses_in_last_90d",
            source_table='"planner_backup"."missed_check_ins__misses_in_last_90d"',
        )

    rt.with_lock_retry(_step_6)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__misses_in_last_90d_planner_key" ON "planner_backup"."missed_check_ins__misses_in_last_90d" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_90d" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_90d" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_90d" = b."misses_in_last_90d" FROM "planner_backup"."missed_check_ins__misses_in_last_90d" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_90d" = b."misses_in_last_90d" FROM "planner_backup"."missed_check_ins__misses_in_last_90d" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_90d: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_90d: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "misses_in_last_60d",
            "misses_in_last_60d",
            source_table='"planner_backup"."missed_check_ins__misses_in_last_60d"',
        )

    rt.with_lock_retry(_step_7)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__misses_in_last_60d_planner_key" ON "planner_backup"."missed_check_ins__misses_in_last_60d" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_60d" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_60d" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_60d" = b."misses_in_last_60d" FROM "planner_backup"."missed_check_ins__misses_in_last_60d" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_60d" = b."misses_in_last_60d" FROM "planner_backup"."missed_check_ins__misses_in_last_60d" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_60d: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_60d: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "misses_in_last_30d",
            "misses_in_last_30d",
            source_table='"planner_backup"."missed_check_ins__misses_in_last_30d"',
        )

    rt.with_lock_retry(_step_8)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__misses_in_last_30d_planner_key" ON "planner_backup"."missed_check_ins__misses_in_last_30d" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_30d" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__misses_in_last_30d" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_30d" = b."misses_in_last_30d" FROM "planner_backup"."missed_check_ins__misses_in_last_30d" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "misses_in_last_30d" = b."misses_in_last_30d" FROM "planner_backup"."missed_check_ins__misses_in_last_30d" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_30d: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.misses_in_last_30d: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "is_increasing_frequency",
            "is_increasing_frequency",
            source_table='"planner_backup"."missed_check_ins__is_increasing_frequency"',
        )

    rt.with_lock_retry(_step_9)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__is_increasing_frequency_planner_key" ON "planner_backup"."missed_check_ins__is_increasing_frequency" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__is_increasing_frequency" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__is_increasing_frequency" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "is_increasing_frequency" = b."is_increasing_frequency" FROM "planner_backup"."missed_check_ins__is_increasing_frequency" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "is_increasing_frequency" = b."is_increasing_frequency" FROM "planner_backup"."missed_check_ins__is_increasing_frequency" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.is_increasing_frequency: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.is_increasing_frequency: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "is_first_miss_in_30d",
            "is_first_miss_in_30d",
            source_table='"planner_backup"."missed_check_ins__is_first_miss_in_30d"',
        )

    rt.with_lock_retry(_step_10)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__is_first_miss_in_30d_planner_key" ON "planner_backup"."missed_check_ins__is_first_miss_in_30d" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__is_first_miss_in_30d" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__is_first_miss_in_30d" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "is_first_miss_in_30d" = b."is_first_miss_in_30d" FROM "planner_backup"."missed_check_ins__is_first_miss_in_30d" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "is_first_miss_in_30d" = b."is_first_miss_in_30d" FROM "planner_backup"."missed_check_ins__is_first_miss_in_30d" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.is_first_miss_in_30d: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.is_first_miss_in_30d: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "days_since_last_miss",
            "days_since_last_miss",
            source_table='"planner_backup"."missed_check_ins__days_since_last_miss"',
        )

    rt.with_lock_retry(_step_11)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__days_since_last_miss_planner_key" ON "planner_backup"."missed_check_ins__days_since_last_miss" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__days_since_last_miss" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__days_since_last_miss" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "days_since_last_miss" = b."days_since_last_miss" FROM "planner_backup"."missed_check_ins__days_since_last_miss" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "days_since_last_miss" = b."days_since_last_miss" FROM "planner_backup"."missed_check_ins__days_since_last_miss" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.days_since_last_miss: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.days_since_last_miss: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "days_since_last_check_in",
            "days_since_last_check_in",
            source_table='"planner_backup"."missed_check_ins__days_since_last_check_in"',
        )

    rt.with_lock_retry(_step_12)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__days_since_last_check_in_planner_key" ON "planner_backup"."missed_check_ins__days_since_last_check_in" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__days_since_last_check_in" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__days_since_last_check_in" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "days_since_last_check_in" = b."days_since_last_check_in" FROM "planner_backup"."missed_check_ins__days_since_last_check_in" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "days_since_last_check_in" = b."days_since_last_check_in" FROM "planner_backup"."missed_check_ins__days_since_last_check_in" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.days_since_last_check_in: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.days_since_last_check_in: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

    # undo: drop column missed_check_ins.day_of_week (backed up)
    def _step_13() -> None:
        op.add_column(
            rt.q("missed_check_ins"),
            sa.Column(
                rt.q("day_of_week"), sa.SMALLINT(), autoincrement=False, nullable=True
            ),
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "day_of_week",
            "day_of_week",
            source_table='"planner_backup"."missed_check_ins__day_of_week"',
        )

    rt.with_lock_retry(_step_13)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__day_of_week_planner_key" ON "planner_backup"."missed_check_ins__day_of_week" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__day_of_week" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__day_of_week" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "day_of_week" = b."day_of_week" FROM "planner_backup"."missed_check_ins__day_of_week" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "day_of_week" = b."day_of_week" FROM "planner_backup"."missed_check_ins__day_of_week" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.day_of_week: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.day_of_week: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "check_in_streak_before",
            "check_in_streak_before",
            source_table='"planner_backup"."missed_check_ins__check_in_streak_before"',
        )

    rt.with_lock_retry(_step_14)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__check_in_streak_before_planner_key" ON "planner_backup"."missed_check_ins__check_in_streak_before" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__check_in_streak_before" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__check_in_streak_before" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "check_in_streak_before" = b."check_in_streak_before" FROM "planner_backup"."missed_check_ins__check_in_streak_before" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "check_in_streak_before" = b."check_in_streak_before" FROM "planner_backup"."missed_check_ins__check_in_streak_before" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.check_in_streak_before: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.check_in_streak_before: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )

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
            if_not_exists=True,
        )
        rt.column_like(
            '"missed_check_ins"',
            "baseline_completion_rate",
            "baseline_completion_rate",
            source_table='"planner_backup"."missed_check_ins__baseline_completion_rate"',
        )

    rt.with_lock_retry(_step_15)
    with op.get_context().autocommit_block():
        rt.sql(
            'CREATE INDEX IF NOT EXISTS "missed_check_ins__baseline_completion_rate_planner_key" ON "planner_backup"."missed_check_ins__baseline_completion_rate" ("id")'
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
                planner_last_0 "missed_check_ins"."id"%TYPE;
                planner_hi_0 "missed_check_ins"."id"%TYPE;
                planner_first boolean := true;
                planner_batch integer := least(500, planner_max);
            BEGIN
                LOOP
                    IF planner_first THEN
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__baseline_completion_rate" ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    ELSE
                        SELECT "id" INTO planner_hi_0 FROM (
                            SELECT "id" FROM "planner_backup"."missed_check_ins__baseline_completion_rate" WHERE ("id") > (planner_last_0) ORDER BY "id" LIMIT planner_batch
                        ) planner_s ORDER BY "id" DESC LIMIT 1;
                    END IF;
                    EXIT WHEN NOT FOUND;
                    planner_started := clock_timestamp();
                    BEGIN
                        IF planner_first THEN
                            UPDATE "missed_check_ins" AS t SET "baseline_completion_rate" = b."baseline_completion_rate" FROM "planner_backup"."missed_check_ins__baseline_completion_rate" AS b
                            WHERE (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        ELSE
                            UPDATE "missed_check_ins" AS t SET "baseline_completion_rate" = b."baseline_completion_rate" FROM "planner_backup"."missed_check_ins__baseline_completion_rate" AS b
                            WHERE (b."id") > (planner_last_0) AND (b."id") <= (planner_hi_0) AND t."id" = b."id";
                        END IF;
                        GET DIAGNOSTICS planner_n = ROW_COUNT;
                    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                        planner_n := -1;
                    END;
                    IF planner_n < 0 THEN
                        planner_waits := planner_waits + 1;
                        IF planner_waits >= planner_tries THEN
                            RAISE EXCEPTION USING MESSAGE = 'planner restore missed_check_ins.baseline_completion_rate: '
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
                    RAISE NOTICE USING MESSAGE = 'planner restore missed_check_ins.baseline_completion_rate: ' || planner_total || ' rows';
                END LOOP;
            END $planner$
            """,
            rewrites='"missed_check_ins"',
        )
    # the backups restored above, once the whole revision is undone
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__worker_role_at_miss"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__week_of_month"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__team_name_at_miss"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__team_leader_name_at_miss"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__recent_readiness_avg"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_90d"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_60d"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__misses_in_last_30d"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__is_increasing_frequency"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__is_first_miss_in_30d"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__days_since_last_miss"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__days_since_last_check_in"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__day_of_week"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__check_in_streak_before"')
    rt.sql('DROP TABLE "planner_backup"."missed_check_ins__baseline_completion_rate"')
