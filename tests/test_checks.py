"""Pre-flight checks on real PostgreSQL, MariaDB and SQLite: deliberately dirty data of known
counts (and clean data), hostile names, the read-only guarantee and per-check timeouts.

Each test builds OLD in the database, reads it back with the database loader, derives NEW by
editing that model, diffs, and runs `preflight` against the database.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from planner.checks import (
    Check,
    CheckKind,
    CheckOutcome,
    Preflight,
    build_checks,
    jsonable,
    preflight,
    run_checks,
)
from planner.diff import diff
from planner.load.database import load_database
from planner.model import Check as SchemaCheck
from planner.model import Column, ForeignKey, Index, IndexPart, PrimaryKey, Schema, Table
from planner.normalize import canonical_type, quote_ident
from planner.renames import Renames, parse_renames

from .conftest import run_sql

FIXTURES = {"postgresql": "pg_url", "mysql": "mysql_url", "sqlite": "sqlite_url"}


@pytest.fixture(params=list(FIXTURES))
def db(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(dialect, URL of a fresh database) on each of the three servers."""
    return request.param, request.getfixturevalue(FIXTURES[request.param])


# --------------------------------------------------------------------------- helpers

def sql(dialect: str, text: str) -> str:
    """`[name]` -> the dialect's quoted identifier (`[1,2]` stays: a name never starts with a digit)."""
    return re.sub(r"\[(?!\d)([^\]]+)\]", lambda m: quote_ident(m.group(1), dialect), text)


def setup(dialect: str, url: str, text: str) -> Schema:
    run_sql(url, sql(dialect, text))
    return load_database(url).schema


def edit(schema: Schema, table: str, fn: Callable[[Table], Table]) -> Schema:
    return dataclasses.replace(schema, tables=tuple(fn(t) if t.name == table else t for t in schema.tables))


def column(t: Table, name: str, /, **changes: object) -> Table:
    assert t.column(name) is not None, name
    return dataclasses.replace(t, columns=tuple(dataclasses.replace(c, **changes) if c.name == name else c
                                                for c in t.columns))


def retype(t: Table, name: str, type_text: str, dialect: str) -> Table:
    return column(t, name, type=canonical_type(type_text, dialect))


def add(t: Table, **items: tuple) -> Table:
    return dataclasses.replace(t, **{k: getattr(t, k) + v for k, v in items.items()})


def unique(name: str, *cols: str, **kw: object) -> Index:
    return Index(name, tuple(IndexPart(column=c) for c in cols), unique=True, **kw)


def check(url: str, old: Schema, new: Schema, renames: Renames | None = None, **kw: object) -> Preflight:
    return preflight(diff(old, new, renames), old, new, url, **kw)


def outcomes(pre: Preflight, kind: CheckKind, change_id: str | None = None) -> list[CheckOutcome]:
    return [o for o in pre.outcomes if o.check.kind == kind and (change_id is None or o.check.change_id == change_id)]


def one(pre: Preflight, kind: CheckKind, change_id: str | None = None) -> CheckOutcome:
    found = outcomes(pre, kind, change_id)
    assert len(found) == 1, [(o.check.kind, o.check.change_id) for o in pre.outcomes]
    assert found[0].error is None, found[0].error
    return found[0]


def ids(o: CheckOutcome) -> list[int]:
    return [int(s["id"]) for s in o.samples]


def assert_clean_run(pre: Preflight) -> None:
    assert [o.error for o in pre.outcomes if o.error] == []


# --------------------------------------------------------------------------- duplicates

def test_duplicates_single_column_nulls_are_distinct(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [k] VARCHAR(10));
        INSERT INTO [t] VALUES (1,'a'),(2,'a'),(3,'a'),(4,'b'),(5,'b'),(6,'c'),(7,NULL),(8,NULL);
    """)
    new = edit(old, "t", lambda t: add(t, indexes=(unique("t_k_key", "k"),)))
    o = one(check(url, old, new), CheckKind.DUPLICATES)
    assert o.check.change_id == "add_unique:t.t_k_key" and o.check.blocking
    assert (o.count, o.passed) == (2, False)
    assert o.samples == [{"k": "a", "rows": 3}, {"k": "b", "rows": 2}]
    assert o.check.columns == ("k",)

    run_sql(url, sql(d, "DELETE FROM [t] WHERE [id] IN (2, 3, 5)"))
    clean = one(check(url, old, new), CheckKind.DUPLICATES)
    assert (clean.count, clean.passed, clean.samples) == (0, True, [])


def test_duplicates_composite_key_skip_rows_with_a_null(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [a] INTEGER, [b] VARCHAR(10));
        INSERT INTO [t] VALUES (1,1,'x'),(2,1,'x'),(3,1,NULL),(4,1,NULL),(5,2,'y'),(6,NULL,NULL),(7,NULL,NULL);
    """)
    new = edit(old, "t", lambda t: add(t, indexes=(unique("t_a_b_key", "a", "b"),)))
    o = one(check(url, old, new), CheckKind.DUPLICATES)
    assert o.count == 1
    assert o.samples == [{"a": 1, "b": "x", "rows": 2}]


def test_duplicates_nulls_not_distinct_on_postgresql(pg_url: str) -> None:
    old = setup("postgresql", pg_url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [a] INTEGER, [b] VARCHAR(10));
        INSERT INTO [t] VALUES (1,1,'x'),(2,1,'x'),(3,1,NULL),(4,1,NULL),(5,2,'y'),(6,NULL,NULL),(7,NULL,NULL);
    """)
    new = edit(old, "t", lambda t: add(t, indexes=(unique("t_a_b_key", "a", "b", nulls_not_distinct=True),)))
    o = one(check(pg_url, old, new), CheckKind.DUPLICATES)
    assert o.count == 3
    assert o.samples == [{"a": 1, "b": "x", "rows": 2}, {"a": 1, "b": None, "rows": 2},
                         {"a": None, "b": None, "rows": 2}]
    assert "IS NOT NULL" not in o.check.sql


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_duplicates_of_an_expression_index_and_a_partial_index(dialect: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(FIXTURES[dialect])
    old = setup(dialect, url, """
        CREATE TABLE [u] ([id] INTEGER PRIMARY KEY, [email] VARCHAR(50), [deleted_at] DATE);
        INSERT INTO [u] VALUES (1,'A@x.io',NULL),(2,'a@x.io',NULL),(3,'b@x.io',NULL),(4,'b@x.io','2024-01-01'),
                               (5,'c@x.io','2024-01-01'),(6,'c@x.io','2024-02-01');
    """)
    lower = Index("u_lower_email_key", (IndexPart(expression="lower(email)"),), unique=True)
    live = Index("u_email_live_key", (IndexPart(column="email"),), unique=True, where="deleted_at IS NULL")
    new = edit(old, "u", lambda t: add(t, indexes=(lower, live)))
    pre = check(url, old, new)
    by_lower = one(pre, CheckKind.DUPLICATES, "add_unique:u.u_lower_email_key")
    assert by_lower.count == 3  # a@ (case-folded), b@, c@
    assert [s["rows"] for s in by_lower.samples] == [2, 2, 2]
    partial = one(pre, CheckKind.DUPLICATES, "add_unique:u.u_email_live_key")
    assert partial.count == 0  # b@ twice, but one of them is deleted; c@ only among deleted rows


def test_new_primary_key_needs_no_nulls_and_no_duplicates(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER, [name] VARCHAR(10));
        INSERT INTO [t] VALUES (1,'a'),(1,'b'),(2,'c'),(NULL,'d'),(3,'e');
    """)
    new = edit(old, "t", lambda t: dataclasses.replace(column(t, "id", nullable=False),
                                                       primary_key=PrimaryKey("t_pkey", ("id",))))
    pre = check(url, old, new)
    assert one(pre, CheckKind.NULLS, "set_not_null:t.id").count == 1
    pk_nulls = [o for o in outcomes(pre, CheckKind.NULLS) if o.check.change_id.startswith("add_primary_key")]
    assert [o.count for o in pk_nulls] == [1]
    dup = one(pre, CheckKind.DUPLICATES)
    assert (dup.count, dup.samples) == (1, [{"id": 1, "rows": 2}])


# --------------------------------------------------------------------------- orphans

ORPHANS_SQL = """
    CREATE TABLE [parent] ([id] INTEGER PRIMARY KEY, [a] INTEGER, [b] INTEGER);
    CREATE UNIQUE INDEX [parent_a_b_key] ON [parent] ([a], [b]);
    CREATE TABLE [child] ([id] INTEGER PRIMARY KEY, [parent_id] INTEGER, [a] INTEGER, [b] INTEGER,
                          [manager_id] INTEGER);
    INSERT INTO [parent] VALUES (1,1,1),(2,1,2),(3,2,5);
    INSERT INTO [child] VALUES (1,1,1,1,NULL),(2,99,1,3,1),(3,NULL,NULL,3,1),(4,100,2,NULL,42),(5,99,2,2,NULL),
                               (6,2,2,5,6);
"""


def test_orphans_single_composite_and_self_referencing(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, ORPHANS_SQL)
    fks = (ForeignKey("child_parent_id_fkey", ("parent_id",), "parent", ("id",)),
           ForeignKey("child_a_b_fkey", ("a", "b"), "parent", ("a", "b")),
           ForeignKey("child_manager_id_fkey", ("manager_id",), "child", ("id",)))
    new = edit(old, "child", lambda t: add(t, foreign_keys=fks))
    pre = check(url, old, new)
    single = one(pre, CheckKind.ORPHANS, "add_foreign_key:child.child_parent_id_fkey")
    assert single.count == 3  # 99, 100, 99; the NULL row is skipped
    assert single.samples == [{"id": 2, "parent_id": 99}, {"id": 4, "parent_id": 100}, {"id": 5, "parent_id": 99}]
    composite = one(pre, CheckKind.ORPHANS, "add_foreign_key:child.child_a_b_fkey")
    assert composite.count == 2  # (1,3) and (2,2); (NULL,3) and (2,NULL) are skipped (MATCH SIMPLE)
    assert composite.samples == [{"id": 2, "a": 1, "b": 3}, {"id": 5, "a": 2, "b": 2}]
    self_ref = one(pre, CheckKind.ORPHANS, "add_foreign_key:child.child_manager_id_fkey")
    assert (self_ref.count, ids(self_ref)) == (1, [4])
    assert "NOT (EXISTS" in single.check.sql and " JOIN " not in single.check.sql

    run_sql(url, sql(d, "DELETE FROM [child] WHERE [id] IN (2, 4, 5)"))
    assert [o.count for o in check(url, old, new).outcomes] == [0, 0, 0]


def test_foreign_key_to_a_new_table_counts_every_non_null_key(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, ORPHANS_SQL)
    newtab = Table("owner", columns=(Column("id", canonical_type("integer", d), nullable=False),),
                   primary_key=PrimaryKey("owner_pkey", ("id",)))
    fk = ForeignKey("child_owner_fkey", ("parent_id",), "owner", ("id",))
    new = edit(old, "child", lambda t: add(t, foreign_keys=(fk,)))
    new = dataclasses.replace(new, tables=new.tables + (newtab,))
    o = one(check(url, old, new), CheckKind.ORPHANS)
    assert o.count == 5  # every row but the one with a NULL parent_id


# --------------------------------------------------------------------------- nulls

def test_nulls_before_set_not_null_and_a_required_column(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [name] VARCHAR(10));
        INSERT INTO [t] VALUES (1,'a'),(2,NULL),(3,NULL),(4,'b');
        CREATE TABLE [empty] ([id] INTEGER PRIMARY KEY);
    """)
    code = Column("code", canonical_type("varchar(5)", d), nullable=False)
    new = edit(old, "t", lambda t: add(column(t, "name", nullable=False), columns=(code,)))
    new = edit(new, "empty", lambda t: add(t, columns=(code,)))
    pre = check(url, old, new)
    nn = one(pre, CheckKind.NULLS, "set_not_null:t.name")
    assert (nn.count, nn.samples) == (2, [{"id": 2, "name": None}, {"id": 3, "name": None}])
    required = one(pre, CheckKind.NULLS, "add_column:t.code")
    assert required.count == 4
    assert required.check.blocking is (d != "mysql")  # MySQL fills in '' instead of failing
    assert one(pre, CheckKind.NULLS, "add_column:empty.code").passed


def test_a_column_renamed_in_the_diff_is_checked_under_its_current_name(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [name] VARCHAR(10));
        INSERT INTO [t] VALUES (1,'a'),(2,NULL),(3,NULL);
    """)
    new = edit(old, "t", lambda t: column(t, "name", name="full_name", nullable=False))
    pre = check(url, old, new, parse_renames(["t.name=full_name"], old))
    o = one(pre, CheckKind.NULLS, "set_not_null:t.full_name")
    assert o.count == 2 and quote_ident("name", d) in o.check.sql


# --------------------------------------------------------------------------- types

def test_overflow_of_narrower_types(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [s] VARCHAR(20), [big] BIGINT, [amount] DECIMAL(10,2),
                          [fine] DECIMAL(10,3));
        INSERT INTO [t] VALUES (1,'abc',1,123.45,1.234),(2,'abcdef',2147483647,999.99,1.230),
            (3,'ñññññ',2147483648,1000.00,2.5),(4,'ññññññ',-2147483649,-1000.5,NULL),(5,NULL,NULL,NULL,NULL);
    """)

    def narrow(t: Table) -> Table:
        t = retype(t, "s", "varchar(5)", d)
        t = retype(t, "big", "int" if d == "mysql" else "integer", d)
        t = retype(t, "amount", "decimal(5,2)", d)
        return retype(t, "fine", "decimal(10,2)", d)

    pre = check(url, old, edit(old, "t", narrow))
    assert_clean_run(pre)
    text = one(pre, CheckKind.OVERFLOW, "alter_column_type:t.s")
    assert (text.count, ids(text)) == (2, [2, 4])  # characters, not bytes
    amount = one(pre, CheckKind.OVERFLOW, "alter_column_type:t.amount")
    assert (amount.count, ids(amount)) == (2, [3, 4])
    rounded = one(pre, CheckKind.OVERFLOW, "alter_column_type:t.fine")
    assert (rounded.count, ids(rounded), rounded.check.blocking) == (1, [1], False)
    big = outcomes(pre, CheckKind.OVERFLOW, "alter_column_type:t.big")
    if d == "sqlite":
        assert big == []  # every SQLite integer is 64-bit: nothing to check
    else:
        assert [(o.count, ids(o)) for o in big] == [(2, [3, 4])]
    assert all(o.check.blocking is (d != "sqlite") for o in (text, amount))


CAST_SQL = """
    CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [i] TEXT, [u] TEXT, [j] TEXT, [ts] TEXT, [n] TEXT, [bo] TEXT);
    INSERT INTO [t] VALUES
      (1, '12',  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '2024-01-31 10:00:00', '123.45', 'true'),
      (2, ' 7 ', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '[1,2]',    '2024-02-29',          '-0.5',   't'),
      (3, '-3',  'not-a-uuid',                           '"s"',      '2023-02-29',          '1234.5', 'YES'),
      (4, 'x',   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',  '{bad',     '2024-13-01',          'abc',    '0'),
      (5, '1.5', NULL,                                   'NaN',      'yesterday-ish',       NULL,     'maybe'),
      (6, '',    NULL,                                   NULL,       NULL,                  NULL,     NULL),
      (7, NULL,  NULL,                                   NULL,       NULL,                  NULL,     NULL);
"""


def test_casts_from_text(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, CAST_SQL)
    targets = {"i": "integer", "u": "uuid", "j": "jsonb" if d == "postgresql" else "json",
               "ts": "timestamp" if d != "mysql" else "datetime", "n": "decimal(5,2)", "bo": "boolean"}

    def cast_all(t: Table) -> Table:
        for name, type_text in targets.items():
            t = retype(t, name, type_text, d)
        return t

    pre = check(url, old, edit(old, "t", cast_all))
    assert_clean_run(pre)
    found = {o.check.change_id.rsplit(".", 1)[1]: ids(o) for o in outcomes(pre, CheckKind.CAST)}
    expected = {"i": [4, 5, 6], "u": [3, 4], "j": [4, 5], "ts": [3, 4, 5],
                "n": [4] if d == "sqlite" else [3, 4],
                "bo": [1, 2, 3, 5] if d == "mysql" else [5]}  # MySQL BOOLEAN is TINYINT(1)
    assert found == expected
    counts = {o.check.change_id.rsplit(".", 1)[1]: o.count for o in outcomes(pre, CheckKind.CAST)}
    assert counts == {k: len(v) for k, v in expected.items()}


def test_postgresql_16_casts_use_pg_input_is_valid_and_unknown_version_json_says_so() -> None:
    old = Schema("postgresql", tables=(Table("t", columns=(Column("id", "integer", nullable=False),
                                                           Column("v", "text"), Column("w", "text"))),))
    new = edit(old, "t", lambda t: column(column(t, "v", type="integer"), "w", type="jsonb"))
    d = diff(old, new)
    on16 = build_checks(d, old, new, "postgresql", server_version=16)
    assert all("pg_input_is_valid" in c.sql for c in on16)
    unknown = {c.change_id: c for c in build_checks(d, old, new, "postgresql")}
    assert "~" in unknown["alter_column_type:t.v"].sql
    assert "PostgreSQL 16" in (unknown["alter_column_type:t.w"].note or "")


# --------------------------------------------------------------------------- enums

def test_enum_value_in_use_on_postgresql_columns_and_arrays(pg_url: str) -> None:
    old = setup("postgresql", pg_url, """
        CREATE TYPE [Role] AS ENUM ('ADMIN', 'COACH', 'CLIENT');
        CREATE TABLE [users] ([id] INTEGER PRIMARY KEY, [role] [Role], [extra] [Role][]);
        INSERT INTO [users] VALUES (1,'COACH','{ADMIN}'),(2,'ADMIN','{COACH,CLIENT}'),(3,'COACH',NULL),(4,NULL,'{}');
    """)
    removed = dataclasses.replace(old, enums=tuple(dataclasses.replace(e, values=("ADMIN", "CLIENT"))
                                                   for e in old.enums))
    pre = check(pg_url, old, removed)
    found = {o.check.columns: (o.count, ids(o), o.check.blocking) for o in outcomes(pre, CheckKind.ENUM_IN_USE)}
    assert found == {("role",): (2, [1, 3], True), ("extra",): (1, [2], True)}

    renamed = dataclasses.replace(old, enums=tuple(dataclasses.replace(e, values=("ADMIN", "INSTRUCTOR", "CLIENT"))
                                                   for e in old.enums))
    pre = check(pg_url, old, renamed, parse_renames(["Role.COACH=INSTRUCTOR"], old))
    found = {o.check.columns: (o.count, o.check.blocking) for o in outcomes(pre, CheckKind.ENUM_IN_USE)}
    assert found == {("role",): (2, False), ("extra",): (1, False)}
    assert all(o.check.change_id == "rename_enum_value:Role.INSTRUCTOR" for o in pre.outcomes)

    run_sql(pg_url, "UPDATE users SET role = 'ADMIN', extra = '{}'")
    assert [o.count for o in check(pg_url, old, removed).outcomes] == [0, 0]


def test_enum_value_in_use_on_a_mysql_inline_enum(mysql_url: str) -> None:
    old = setup("mysql", mysql_url, """
        CREATE TABLE t (id INT PRIMARY KEY, role ENUM('ADMIN','CO''ACH','CLIENT'));
        INSERT INTO t VALUES (1,'CO''ACH'),(2,'ADMIN'),(3,'CO''ACH'),(4,NULL);
    """)
    new = edit(old, "t", lambda t: column(t, "role", type="enum('ADMIN','CLIENT')"))
    o = one(check(mysql_url, old, new), CheckKind.ENUM_IN_USE)
    assert (o.count, ids(o), o.check.change_id) == (2, [1, 3], "remove_enum_value:t.role.CO'ACH")
    assert "'CO''ACH'" in o.check.sql


def test_text_to_enum_is_a_cast(pg_url: str) -> None:
    old = setup("postgresql", pg_url, """
        CREATE TYPE [Status] AS ENUM ('ON', 'OFF');
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [s] TEXT);
        INSERT INTO [t] VALUES (1,'ON'),(2,'on'),(3,NULL),(4,'OFF'),(5,'MAYBE');
    """)
    new = edit(old, "t", lambda t: column(t, "s", type="Status", enum="Status"))
    o = one(check(pg_url, old, new), CheckKind.CAST)
    assert (o.count, ids(o)) == (2, [2, 5])


# --------------------------------------------------------------------------- CHECK, data loss

def test_check_violations_null_passes(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [qty] INTEGER, [code] VARCHAR(10));
        INSERT INTO [t] VALUES (1,1,'Abc'),(2,0,'xyz'),(3,-5,NULL),(4,NULL,'A'),(5,3,'B');
    """)
    checks = (SchemaCheck("t_qty_check", "qty > 0"), SchemaCheck("t_code_check", "code LIKE 'A%'"))
    pre = check(url, old, edit(old, "t", lambda t: add(t, checks=checks)))
    qty = one(pre, CheckKind.CHECK_VIOLATION, "add_check:t.t_qty_check")
    assert (qty.count, qty.samples) == (2, [{"id": 2, "qty": 0}, {"id": 3, "qty": -5}])
    code = one(pre, CheckKind.CHECK_VIOLATION, "add_check:t.t_code_check")
    assert (code.count, ids(code)) == (2, [2, 5])
    assert "LIKE 'A%'" in code.check.sql  # shown as written, not '%%'


def test_data_loss_informs_and_never_blocks(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [note] VARCHAR(10));
        INSERT INTO [t] VALUES (1,'a'),(2,NULL),(3,'c'),(4,NULL);
        CREATE TABLE [gone] ([id] INTEGER PRIMARY KEY, [x] INTEGER);
        INSERT INTO [gone] VALUES (1,10),(2,20),(3,30);
        CREATE TABLE [gone_empty] ([id] INTEGER PRIMARY KEY);
    """)
    new = edit(old, "t", lambda t: dataclasses.replace(t, columns=t.columns[:1]))
    new = dataclasses.replace(new, tables=tuple(t for t in new.tables if t.name == "t"))
    pre = check(url, old, new)
    col = one(pre, CheckKind.DATA_LOSS, "drop_column:t.note")
    assert (col.count, col.samples, col.check.unit) == (2, [{"id": 1, "note": "a"}, {"id": 3, "note": "c"}], "values")
    table = one(pre, CheckKind.DATA_LOSS, "drop_table:gone")
    assert (table.count, table.samples[0]) == (3, {"id": 1, "x": 10})
    assert one(pre, CheckKind.DATA_LOSS, "drop_table:gone_empty").passed
    assert not any(o.check.blocking for o in pre.outcomes) and pre.blocking_failed == 0


def test_tables_new_in_the_diff_get_no_checks() -> None:
    old = Schema("postgresql")
    t = Table("t", columns=(Column("id", "integer", nullable=False), Column("k", "text")),
              indexes=(unique("t_k_key", "k"),), checks=(SchemaCheck("c", "k <> ''"),))
    assert build_checks(diff(old, Schema("postgresql", tables=(t,))), old, Schema("postgresql", tables=(t,))) == []


# --------------------------------------------------------------------------- hostile names

HOSTILE = 'x"; DROP TABLE t; --'
PARENT = "Parent ✓ table"


def test_hostile_names_cannot_break_or_inject(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, f"""
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY);
        INSERT INTO [t] VALUES (1);
        CREATE TABLE [{PARENT}] ([id] INTEGER PRIMARY KEY);
        INSERT INTO [{PARENT}] VALUES (1), (2);
        CREATE TABLE [{HOSTILE}] ([id] INTEGER PRIMARY KEY, [order] INTEGER, [select] VARCHAR(10),
            [user] VARCHAR(10), [a`b] VARCHAR(10), [naïve col] INTEGER, [q"uote] INTEGER);
        INSERT INTO [{HOSTILE}] VALUES (1, 1, 'a', 'u1', NULL, 5, 1), (2, 1, 'a', 'u2', 'x', -1, 99),
                                       (3, 2, 'b', NULL, NULL, NULL, 2);
    """)
    rule = SchemaCheck("naive_positive", f"{quote_ident('naïve col', d)} > 0")

    def hostile(t: Table) -> Table:
        t = column(t, "a`b", nullable=False)
        t = dataclasses.replace(t, columns=tuple(c for c in t.columns if c.name != "user"))
        return add(t, indexes=(unique("order_select_key", "order", "select"),), checks=(rule,),
                   foreign_keys=(ForeignKey("q_fkey", ('q"uote',), PARENT, ("id",)),))

    pre = check(url, old, edit(old, HOSTILE, hostile))
    assert_clean_run(pre)
    counts = {o.check.kind: o.count for o in pre.outcomes}
    assert counts == {CheckKind.DUPLICATES: 1, CheckKind.NULLS: 2, CheckKind.CHECK_VIOLATION: 1,
                      CheckKind.ORPHANS: 1, CheckKind.DATA_LOSS: 2}
    assert one(pre, CheckKind.DUPLICATES).samples == [{"order": 1, "select": "a", "rows": 2}]
    assert one(pre, CheckKind.ORPHANS).samples == [{"id": 2, 'q"uote': 99}]
    for o in pre.outcomes:
        assert quote_ident(HOSTILE, d) in o.check.sql  # every table name quoted, quotes doubled
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text(sql(d, "SELECT count(*) FROM [t]"))).scalar_one() == 1
            assert conn.execute(sa.text(sql(d, f"SELECT count(*) FROM [{HOSTILE}]"))).scalar_one() == 3
    finally:
        engine.dispose()


def test_every_identifier_in_the_sql_is_quoted() -> None:
    old = Schema("postgresql", tables=(
        Table("users", columns=(Column("id", "integer", nullable=False), Column("email", "text"))),))
    new = edit(old, "users", lambda t: add(column(t, "email", nullable=False), indexes=(unique("k", "email"),)))
    for c in build_checks(diff(old, new), old, new):
        body = re.sub(r"'[^']*'", "''", c.sql + "\n" + (c.sample_sql or ""))
        bare = re.findall(r'(?<![\w"])(users|email|id)(?![\w"])', body)
        assert bare == [], (bare, body)


# --------------------------------------------------------------------------- read-only, timeouts

def _injected(statement: object) -> Check:
    return Check("injected", CheckKind.NULLS, "t", (), True, "a check that tries to write", "0",
                 statement=statement)  # type: ignore[arg-type]


def test_a_check_can_never_write(db: tuple[str, str]) -> None:
    d, url = db
    setup(d, url, "CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [x] INTEGER); INSERT INTO [t] VALUES (1, 10);")
    t = sa.table("t", sa.column("id"), sa.column("x"))
    writes = [sa.insert(t).values(id=2, x=20), sa.update(t).values(x=0), sa.delete(t),
              sa.text(sql(d, "DROP TABLE [t]")), sa.text(sql(d, "CREATE TABLE [evil] ([id] INTEGER)"))]
    found = run_checks([_injected(w) for w in writes], url)
    for o in found:
        assert o.error is not None and not o.passed, o
    assert any(w in (found[0].error or "").lower() for w in ("read-only", "read only", "readonly"))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text(sql(d, "SELECT id, x FROM [t]"))).all() == [(1, 10)]
            assert "evil" not in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_a_check_cannot_write_through_a_function(pg_url: str) -> None:
    run_sql(pg_url, "CREATE SEQUENCE s; CREATE TABLE t (id int)")
    [o] = run_checks([_injected(sa.select(sa.func.nextval("s")))], pg_url)
    assert o.error is not None and "read-only" in o.error
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT last_value, is_called FROM s")).one() == (1, False)
    finally:
        engine.dispose()


SLOW = {
    "postgresql": "SELECT pg_sleep(5)",
    "mysql": "SELECT count(*) FROM information_schema.columns a, information_schema.columns b, "
             "information_schema.columns c",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
              "SELECT count(*) FROM (SELECT x FROM c LIMIT 2000000000)",
}


def test_a_timeout_is_reported_per_check_and_the_next_check_runs(db: tuple[str, str]) -> None:
    d, url = db
    old = setup(d, url, "CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [k] INTEGER); INSERT INTO [t] VALUES (1,1),(2,1);")
    new = edit(old, "t", lambda t: add(t, indexes=(unique("t_k_key", "k"),)))
    real = build_checks(diff(old, new), old, new, d)
    started = time.monotonic()
    slow, after = run_checks([_injected(sa.text(SLOW[d])), *real], url, timeout_s=0.5 if d != "mysql" else 1)
    assert time.monotonic() - started < 4.5
    assert slow.error is not None and slow.error.startswith("timed out after") and slow.count is None
    assert (after.error, after.count) == (None, 1)


def test_unreachable_database_is_one_clear_error() -> None:
    from planner.errors import SourceError

    old = Schema("postgresql")
    with pytest.raises(SourceError) as err:
        preflight(diff(old, old), old, old, "postgresql://nobody@127.0.0.1:1/none", timeout_s=1)
    assert "cannot connect" in str(err.value) and "\n" not in str(err.value)


def test_dialect_mismatch_is_refused(sqlite_url: str) -> None:
    from planner.errors import SourceError

    old = Schema("postgresql")
    with pytest.raises(SourceError, match="is sqlite but the schemas are postgresql"):
        preflight(diff(old, old), old, old, sqlite_url)


def test_sample_values_become_json_safe() -> None:
    import datetime as dt
    import decimal
    import uuid

    assert jsonable(decimal.Decimal("19.99")) == "19.99"
    assert jsonable(dt.date(2026, 1, 25)) == "2026-01-25"
    assert jsonable(b"\x00\xff") == "\\x00ff"
    assert jsonable(float("nan")) == "nan"
    assert jsonable(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert jsonable({"a": [1, decimal.Decimal("2")]}) == {"a": [1, "2"]}
    assert jsonable("x" * 500).endswith("… (+300)")


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_text_to_integer_checks_the_range(dialect: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(FIXTURES[dialect])
    old = setup(dialect, url, """
        CREATE TABLE [t] ([id] INTEGER PRIMARY KEY, [v] TEXT);
        INSERT INTO [t] VALUES (1,'2147483647'),(2,'2147483648'),(3,'-0000000000005'),(4,'-2147483649'),
                               (5,' 42 '),(6,'99999999999999999999999');
    """)
    new = edit(old, "t", lambda t: retype(t, "v", "int" if dialect == "mysql" else "integer", dialect))
    o = one(check(url, old, new), CheckKind.CAST)
    assert (o.count, ids(o)) == (3, [2, 4, 6])
    if dialect == "mysql":
        unsigned = edit(old, "t", lambda t: retype(t, "v", "int unsigned", dialect))
        o = one(check(url, old, unsigned), CheckKind.CAST)
        assert ids(o) == [3, 4, 6]  # 2147483648 fits an unsigned column, -5 does not


@pytest.mark.parametrize("dialect, counted", [("postgresql", "char_length(rtrim(\"t\".\"code\")) > 5"),
                                               ("mysql", "char_length(`t`.`code`) > 5")])
def test_a_shorter_varchar_counts_trailing_spaces_as_the_server_does(tmp_path, dialect: str, counted: str):
    """PostgreSQL stores 'ab      ' in varchar(5) (the excess is spaces: cut), so its check does
    not count trailing spaces; MySQL's ALTER refuses it in strict mode, so its check does."""
    from typer.testing import CliRunner

    from planner.cli import app

    (tmp_path / "old.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, code varchar(10));\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, code varchar(5));\n")
    r = CliRunner().invoke(app, ["check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--sql",
                                 "--dialect", dialect])
    assert r.exit_code == 0, r.output
    assert counted in r.output, r.output
