"""squawk on planner's offline SQL vs squawk on the projects' own migration.sql, for every
corpus Prisma pair that builds on plain PostgreSQL.

    python bench/squawk_offline.py [CORPUS_DIR]      # default ../shared/corpus

Prints one row per pair (findings in planner's `alembic upgrade head --sql` output, findings in
the project's prisma_migration.sql) and the findings per rule, each planner finding with the
reason it is unavoidable (tests/test_squawk_offline.py fails on any other). Alembic's own
bookkeeping is left out of planner's SQL: the `alembic_version` table and the statements that
stamp it. It is not part of the plan, and squawk 2.70 misreads it: in
`BEGIN; CREATE TABLE a (id text); COMMIT; BEGIN; UPDATE alembic_version SET version_num = 'x';
COMMIT;` it flags the CREATE TABLE with prefer-robust-stmts although it runs in a transaction
(the same file with any other table name in the UPDATE has no finding).
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from planner.config import Config
from planner.pipeline import analyze
from planner.plan.build import PlanError, build_plan
from planner.plan.revisions import offline_sql, revisions

#: planner's answer for every squawk rule its offline SQL may trigger
UNAVOIDABLE = {
    # the contract phase does what NEW requires, after the deploy the docstring names; each
    # destructive step is backed up first and restored by the downgrade
    "ban-drop-column": "NEW drops the column (contract, backed up to planner_backup first)",
    "ban-drop-constraint": "NEW drops or replaces the constraint (contract; the NOT NULL check "
                           "of R3 is dropped once SET NOT NULL holds)",
    "ban-drop-not-null": "NEW makes the column nullable (expand: old code keeps writing values)",
    "ban-drop-default": "NEW drops the default, or a type change needs it dropped and re-set",
    "ban-drop-type": "NEW removes or reorders enum values: R10 recreates the type (the old one is dropped)",
    "renaming-object": "R10: the recreated enum type takes the old name; R8: an index rebuilt on the "
                       "converted column takes the old index's name at the swap",
    "renaming-table": "a dropped table is renamed aside (not dropped); a confirmed rename is NEW's",
    "ban-set-schema": "a dropped table is moved into planner_backup (kept until the cleanup revision)",
    "changing-column-type": "R10 converts the enum's columns to the recreated type (Prisma's form), or "
                            "the column is named by something R8's swap does not rebuild (an index, key, "
                            "constraint, a Prisma view whose SQL planner cannot see, or another change of the "
                            "same column): in place in contract, guarded and backed up, the step title says "
                            "why; or a table moved aside into planner_backup keeps its enum columns as text "
                            "(nothing writes it)",
    "renaming-column": "R8: the converted column takes the old column's name in the contract swap",
    "ban-drop-function": "R8: the trigger function that kept the new column in step is dropped at the swap",
    # NEW's own column types: the plan must produce them
    "prefer-text-field": "NEW's column is varchar(n)",
    "prefer-timestamp-tz": "NEW's column is timestamp without time zone",
    "prefer-bigint-over-int": "NEW's column is integer",
    "prefer-identity": "NEW's column is serial",
    "prefer-bigint-over-smallint": "NEW's column is smallint",
    "require-concurrent-index-creation": "the index is on a table created in the same revision "
                                         "(empty; CONCURRENTLY cannot run in its transaction)",
    "prefer-robust-stmts": "VALIDATE CONSTRAINT runs in its own transaction, outside the revision's, so "
                           "its scan never follows an ACCESS EXCLUSIVE step (issue 10); validating a "
                           "valid constraint is a no-op, so a re-run repeats it safely",
    # bounded differently
    "require-statement-timeout": "planner bounds lock waits (lock_timeout, retried), not run time: "
                                 "VALIDATE, concurrent index builds, backups and batched backfills "
                                 "run as long as the table needs without blocking writes",
}


#: avoidable, not fixed yet (the reason it is open)
KNOWN_GAPS: dict[str, str] = {}


def _squawk(sql: str) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(sql)
    exe = shutil.which("squawk") or str(Path(sys.executable).with_name("squawk"))
    out = subprocess.run([exe, "--reporter", "json", "--pg-version", "15.0", f.name],
                         capture_output=True, text=True, check=False)
    Path(f.name).unlink()
    return json.loads(out.stdout or "[]")


def planner_sql(folder: Path, config: Config) -> str | None:
    a = analyze(str(folder / "old.prisma"), str(folder / "new.prisma"), config=config)
    try:
        plan = build_plan(a.diff, a.old.schema, a.new.schema, backfill=config.backfill,
                          enum_remap=config.enum_remap)
    except PlanError:
        return None
    sql = offline_sql(revisions(plan, source=folder.name), "postgresql")
    sql = "BEGIN;\n\n" + sql[sql.index("-- Running upgrade"):]  # without Alembic's alembic_version table
    return "\n\n".join(s for s in sql.split("\n\n") if "alembic_version" not in s)  # nor its stamps


def compare(corpus: Path, pairs: list[str], configs: dict[str, Config]) -> dict[str, tuple[list, list] | None]:
    out: dict[str, tuple[list, list] | None] = {}
    for pair in pairs:
        folder = corpus / "prisma" / pair
        sql = planner_sql(folder, configs.get(pair, Config()))
        theirs = _squawk((folder / "prisma_migration.sql").read_text())
        out[pair] = None if sql is None else (_squawk(sql), theirs)
    return out


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_plan import CORPUS_CONFIG, NEEDS_VECTOR

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus"
    pairs = sorted(f"{p.parent.name}/{p.name}" for p in (corpus / "prisma").glob("*/[0-9]*")
                   if (p / "old.prisma").is_file() and f"{p.parent.name}/{p.name}" not in NEEDS_VECTOR)
    result = compare(corpus, pairs, CORPUS_CONFIG)
    ours_rules: collections.Counter[str] = collections.Counter()
    theirs_rules: collections.Counter[str] = collections.Counter()
    print(f"{'pair':60} planner  project")
    for pair, r in result.items():
        if r is None:
            print(f"{pair:60} refused  (planner does not plan it)")
            continue
        ours, theirs = r
        ours_rules.update(x["rule_name"] for x in ours)
        theirs_rules.update(x["rule_name"] for x in theirs)
        print(f"{pair:60} {len(ours):7}  {len(theirs):7}")
    print(f"{'total':60} {sum(ours_rules.values()):7}  {sum(theirs_rules.values()):7}")
    print("\nrule                              planner project  planner's reason")
    for rule in sorted(set(ours_rules) | set(theirs_rules)):
        print(f"{rule:33} {ours_rules[rule]:7} {theirs_rules[rule]:7}  {(UNAVOIDABLE.get(rule) or 'KNOWN GAP: ' + KNOWN_GAPS.get(rule, 'UNDOCUMENTED')) if ours_rules[rule] else ''}")


if __name__ == "__main__":
    main()
