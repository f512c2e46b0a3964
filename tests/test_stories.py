"""The sample_schemas stories get the levels a reviewer would give them."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import Config
from planner.pipeline import analyze
from planner.rules import CheckResult, Level, assess

from .conftest import SAMPLES


def story(name: str, **kw):
    folder = SAMPLES / name
    old, new = (next(folder.glob(f"{side}.*")) for side in ("old", "new"))
    return analyze(str(old), str(new), config=Config(), **kw)


def levels(a) -> dict[str, Level]:  # noqa: ANN001
    return a.assessment.levels


def by_kind(a, kind: str) -> dict[str, Level]:  # noqa: ANN001
    return {c.id: a.assessment.levels[c.id] for c in a.diff.changes if c.kind.value == kind}


def test_missed_checkin_snapshot_drops_are_high():
    a = story("aegira-missed-checkin-snapshot")
    drops = by_kind(a, "drop_column")
    assert len(drops) == 15
    assert set(drops.values()) == {Level.HIGH}


def test_soft_delete_columns_are_safe_and_indexes_lock_writes():
    a = story("aegira-indexes-soft-delete")
    assert set(by_kind(a, "add_column").values()) == {Level.SAFE}
    assert set(by_kind(a, "add_index").values()) == {Level.MEDIUM}


def test_event_checkin_relation_fix():
    a = story("aegira-event-checkin-relation")
    assert levels(a)["drop_column:check_ins.event_id"] == Level.HIGH
    assert set(by_kind(a, "add_column").values()) == {Level.SAFE}


def test_centurion_money_enum_and_unique():
    a = story("centurion-money-enum-unique")
    lv = levels(a)
    assert lv["alter_column_type:appointments.fee"] == Level.HIGH  # float -> numeric(10,2): rounding + rewrite
    assert lv["remove_enum_value:Role.COACH"] == Level.HIGH
    assert lv["add_unique:entries.entries_userId_date_key"] == Level.MEDIUM  # may fail, no database
    assert [s.hint for s in a.diff.suggestions] == ["--rename Role.COACH=INSTRUCTOR"]
    renamed = story("centurion-money-enum-unique", renames=["Role.COACH=INSTRUCTOR"])
    assert levels(renamed)["rename_enum_value:Role.INSTRUCTOR"] == Level.MEDIUM


@pytest.mark.parametrize("count, expected", [(3, Level.CRITICAL), (0, Level.LOW)])
def test_centurion_unique_with_preflight_evidence(count: int, expected: Level):
    a = story("centurion-money-enum-unique")
    cid = "add_unique:entries.entries_userId_date_key"
    ctx = a.context
    ctx.checks = {cid: [CheckResult("duplicates", count, count == 0, f"{count} duplicate groups")]}
    # MF101 decides; LK101 (the lock) stays medium either way without row counts
    got = assess(a.diff, ctx).findings[cid]
    assert {f.code: f.level for f in got}["MF101"] == expected
    assert max(f.level for f in got) == max(expected, Level.MEDIUM)


def test_medspa_waitlist_sql():
    a = story("medspa-waitlist")
    assert a.dialect == "postgresql"
    assert levels(a)["add_table:WaitlistEntry"] == Level.SAFE
    assert set(by_kind(a, "add_index").values()) == {Level.MEDIUM}


def test_orchestration_execution_log_mysql():
    a = story("orchestration-execution-log")
    assert a.dialect == "mysql"
    lv = levels(a)
    assert lv["add_column:execution_logs.organization_id"] == Level.HIGH  # NOT NULL, no default
    assert lv["add_check:execution_logs.chk_execution_logs_metadata_size"] == Level.MEDIUM
    big = story("orchestration-execution-log")
    big.context.rows = {"execution_logs": 5_000_000}
    scaled = assess(big.diff, big.context).levels
    assert scaled["add_check:execution_logs.chk_execution_logs_metadata_size"] == Level.HIGH  # copy of 5M rows


def test_mais_webhook_idempotency():
    a = story("mais-webhook-idempotency")
    lv = levels(a)
    assert lv["add_unique:WebhookEvent.WebhookEvent_tenantId_eventId_key"] == Level.MEDIUM
    assert lv["add_enum_value:WebhookStatus.DUPLICATE"] == Level.LOW


def test_every_story_has_a_readme():
    for folder in (p for p in Path(SAMPLES).iterdir() if p.is_dir()):
        assert (folder / "README.md").is_file(), folder
