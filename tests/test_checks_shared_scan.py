"""Several pre-flight checks on one table count their rows in ONE scan (issue 14): the counts,
samples and errors are those each check's own statement gives, on every server; a shared
statement that fails falls back to the checks one by one, so each reports its own error."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from planner.checks import (
    Check,
    CheckKind,
    build_checks,
    compile_sql,
    run_checks,
    shared_scans,
    shared_statement,
)
from planner.diff import diff

from .test_checks import FIXTURES, add, column, edit, retype, setup

ROWS = """
CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [note] VARCHAR(40), [code] VARCHAR(40), [big] BIGINT,
                  [txt] VARCHAR(40), [amount] INTEGER, [old] VARCHAR(40));
INSERT INTO [t] VALUES (1, 'a', 'short', 1, '12', 5, 'x'), (2, NULL, 'much too long', 5000000000, 'n/a', -1, NULL),
                       (3, NULL, 'ok', 3, ' 7 ', 2, 'y'), (4, 'd', 'longer than ten', -5000000000, '1.5', 0, NULL);
CREATE TABLE [u] ([id] INTEGER PRIMARY KEY, [v] VARCHAR(40));
INSERT INTO [u] VALUES (1, NULL), (2, 'b');
"""


@pytest.fixture(params=list(FIXTURES))
def db(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param, request.getfixturevalue(FIXTURES[request.param])


def _new(old, d: str):  # noqa: ANN001, ANN202
    from planner.model import Check as SchemaCheck

    def t(x):  # noqa: ANN001, ANN202
        x = column(x, "note", nullable=False)
        x = retype(x, "code", "varchar(10)", d)
        x = retype(x, "big", "integer", d)
        x = retype(x, "txt", "integer", d)
        x = add(x, checks=(SchemaCheck("t_amount_check", "amount >= 0"),))
        return dataclasses.replace(x, columns=tuple(c for c in x.columns if c.name != "old"))

    new = edit(old, "t", t)
    return edit(new, "u", lambda x: column(x, "v", nullable=False))


def test_checks_on_one_table_share_one_scan_with_the_same_results(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, ROWS)
    new = _new(old, d)
    checks = build_checks(diff(old, new), old, new, d)
    groups = shared_scans(checks)
    # every row check on t in one group; u's single check runs on its own
    assert [sorted({checks[i].table for i in g}) for g in groups] == [["t"]]
    shared = set(groups[0])
    kinds = {checks[i].kind for i in shared}
    assert {CheckKind.NULLS, CheckKind.OVERFLOW, CheckKind.CHECK_VIOLATION, CheckKind.DATA_LOSS} <= kinds
    statement = compile_sql(shared_statement([checks[i] for i in groups[0]], d), d)
    assert statement.count("FROM") == 1, statement
    together = run_checks(checks, url, sample=3)
    alone = [run_checks([c], url, sample=3)[0] for c in checks]
    for i, (a, b) in enumerate(zip(together, alone, strict=True)):
        assert (a.count, a.samples, a.error) == (b.count, b.samples, b.error), checks[i].description
        assert a.shared == (len(shared) if i in shared else 1)
    by_kind = {(o.check.kind, o.check.columns): o.count for o in together if o.check.table == "t"}
    assert by_kind[(CheckKind.NULLS, ("note",))] == 2
    assert by_kind[(CheckKind.DATA_LOSS, ("old",))] == 2
    assert by_kind[(CheckKind.CHECK_VIOLATION, ("amount",))] == 1
    assert by_kind[(CheckKind.OVERFLOW, ("code",))] == 2


def _counting(name: str, clause: sa.TableClause, cond: object) -> Check:
    count = sa.select(sa.func.count()).select_from(clause)
    if cond is not None:
        count = count.where(cond)
    return Check(name, CheckKind.NULLS, "t", (), True, name, "0", statement=count, scan=(clause, cond, count))


def test_a_failing_shared_scan_falls_back_to_each_check_alone(db: tuple[str, str]) -> None:
    d, url = db
    setup(d, url, ROWS)
    t = sa.table("t", sa.column("id"), sa.column("note"), sa.column("txt"))
    u = sa.table("u", sa.column("id"))
    # a runtime error: a scalar subquery of two rows (SQLite takes the first: malformed JSON there)
    bad = (sa.func.json_extract(t.c.txt, "$.a").is_not(None) if d == "sqlite"
           else sa.select(u.c.id).scalar_subquery() == t.c.id)
    checks = [_counting("nulls", t, t.c.note.is_(None)), _counting("bad", t, bad),
              _counting("all", t, None)]
    assert shared_scans(checks) == [[0, 1, 2]]
    nulls, failed, every = run_checks(checks, url)
    assert (nulls.count, nulls.error, nulls.shared) == (2, None, 1)
    assert failed.count is None and failed.error
    assert (every.count, every.error) == (4, None)


def test_a_check_whose_statement_was_replaced_runs_its_own(sqlite_url: str) -> None:
    setup("sqlite", sqlite_url, ROWS)
    t = sa.table("t", sa.column("id"), sa.column("note"))
    first, second = _counting("a", t, t.c.note.is_(None)), _counting("b", t, t.c.note.is_not(None))
    assert shared_scans([first, second]) == [[0, 1]]
    other = dataclasses.replace(first, statement=sa.select(sa.func.count()).select_from(t))
    assert shared_scans([other, second]) == []
    assert [o.count for o in run_checks([other, second], sqlite_url)] == [4, 2]
