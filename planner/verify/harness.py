"""`planner verify OLD NEW --db URL`: prove a plan on a scratch database.

1. build OLD in the (empty) database and seed it with generated rows that respect its
   constraints; take checksums of every table;
2. write the staged revisions into a throwaway Alembic project and `alembic upgrade head`;
3. the database must diff to zero changes against NEW;
4. `alembic downgrade base`; the database must diff to zero against OLD and every table's
   rows and values must equal the checksums taken before;
5. `alembic upgrade head --sql` must render (offline mode).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from planner.diff import diff
from planner.errors import PlannerError
from planner.load.database import load_database, parse_database_url
from planner.model import Schema
from planner.pipeline import Analysis
from planner.plan.build import build_plan
from planner.plan.revisions import init_project, revisions, write_revisions
from planner.urls import mask_url, redact
from planner.verify.checksum import compare_checksums, table_checksums
from planner.verify.metadata import to_metadata
from planner.verify.seed import seed_database


class VerifyFailed(PlannerError):
    """The plan did not round-trip on the scratch database."""


@dataclass(slots=True)
class VerifyReport:
    revisions: int = 0
    seeded: dict[str, int] = field(default_factory=dict)
    after_upgrade: list[str] = field(default_factory=list)
    after_downgrade: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    offline_sql_lines: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.after_upgrade or self.after_downgrade or self.data)


def _engine_url(url: str) -> str:
    return parse_database_url(url).url.render_as_string(hide_password=False)


def _assert_empty(url: str) -> None:
    schema = load_database(url).schema
    if schema.tables or schema.enums or schema.views:
        raise PlannerError(f"{parse_database_url(url).masked} is not empty",
                           hint="planner verify builds OLD itself: give it a scratch database")


def build_schema(url: str, schema: Schema) -> None:
    engine = sa.create_engine(_engine_url(url))
    try:
        to_metadata(schema).create_all(engine)
    finally:
        engine.dispose()


def _config(directory: Path, url: str) -> Config:
    cfg = init_project(str(directory))
    cfg.cmd_opts = argparse.Namespace(x=[f"db={_engine_url(url)}"])
    cfg.attributes["planner_in_process"] = True  # no alembic log lines in planner's report
    return cfg


def _changes(a: Schema, b: Schema) -> list[str]:
    return [c.id for c in diff(a, b).changes]


def _migrate(fn, cfg: Config, target: str, url: str) -> None:  # noqa: ANN001
    """Run an Alembic command; a guard stop or a failing statement becomes VerifyFailed (one
    line, the database URL masked)."""
    try:
        fn(cfg, target)
    except Exception as e:  # noqa: BLE001 - whatever the migration raised is the verdict
        first = (str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0]
        raise VerifyFailed(f"{fn.__name__} {target} stopped: {redact(first, [url])}") from e


def verify(analysis: Analysis, url: str, *, rows: int = 20, seed: int = 0) -> VerifyReport:
    old, new = analysis.old.schema, analysis.new.schema
    report = VerifyReport()
    target = parse_database_url(url)
    if target.dialect != new.dialect:
        raise PlannerError(f"{target.masked} is {target.dialect} but the schemas are {new.dialect}",
                           hint="give a scratch database of the schemas' kind")
    if target.dialect == "sqlite" and target.path and not Path(target.path).exists():
        sqlite3.connect(target.path).close()  # a new scratch file; the read-only reader needs one
    _assert_empty(url)
    plan = build_plan(analysis.diff, old, new, backfill=analysis.config.backfill,
                      enum_remap=analysis.config.enum_remap)
    build_schema(url, old)
    seeded = seed_database(url, old, rows=rows, seed=seed)
    report.seeded = dict(seeded.rows)
    report.notes.extend(getattr(seeded, "notes", []) or [])
    before = table_checksums(url, old)
    revs = revisions(plan, source=f"{mask_url(analysis.old.source)} -> {mask_url(analysis.new.source)}")
    report.revisions = len(revs)
    with tempfile.TemporaryDirectory(prefix="planner-verify-") as tmp:
        cfg = _config(Path(tmp) / "project", url)
        write_revisions(revs, cfg, seed="verify")
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet):
            _migrate(command.upgrade, cfg, "head", url)
        report.after_upgrade = _changes(load_database(url).schema, new)
        with contextlib.redirect_stdout(quiet):
            _migrate(command.downgrade, cfg, "base", url)
        report.after_downgrade = _changes(load_database(url).schema, old)
        report.data = compare_checksums(before, table_checksums(url, old))
        offline = io.StringIO()
        with contextlib.redirect_stdout(offline):
            command.upgrade(cfg, "head", sql=True)
        report.offline_sql_lines = offline.getvalue().count("\n")
    return report
