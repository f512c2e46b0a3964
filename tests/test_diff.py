"""The differ: one case per change kind (OLD, NEW -> expected change ids), renames, ordering."""

from __future__ import annotations

import dataclasses

import pytest

from planner.changes import Kind
from planner.diff import diff
from planner.errors import ConfigError
from planner.load.prisma import schema_from_prisma
from planner.model import Check, Column, Schema, Table, View
from planner.renames import parse_renames

PG = 'datasource db {\n  provider = "postgresql"\n}\n'
MY = 'datasource db {\n  provider = "mysql"\n}\n'

BASE = """
enum Role {
  USER
  COACH
  ADMIN
}
model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  role  Role    @default(USER)
  money Float   @default(0)
  posts Post[]
  @@index([name])
}
model Post {
  id       Int    @id @default(autoincrement())
  authorId Int
  title    String
  author   User   @relation(fields: [authorId], references: [id])
}
"""


def schema(body: str, head: str = PG) -> Schema:
    return schema_from_prisma({"s.prisma": head + body})[0]


def ids(old: str, new: str, renames: tuple[str, ...] = (), head: str = PG) -> list[str]:
    o, n = schema(old, head), schema(new, head)
    return [c.id for c in diff(o, n, parse_renames(renames, o)).changes]


def edit(*pairs: tuple[str, str]) -> str:
    body = BASE
    for a, b in pairs:
        assert a in body, a
        body = body.replace(a, b, 1)
    return body


@pytest.mark.parametrize("new, expected", [
    (BASE + "model Tag {\n  id Int @id\n}\n", ["add_table:Tag"]),
    (edit(("  title    String\n", "  title    String\n  body     String?\n")), ["add_column:Post.body"]),
    (edit(("  name  String?\n", ""), ("  @@index([name])\n", "")),
     ["drop_index:User.User_name_idx", "drop_column:User.name"]),
    (edit(("  money Float   @default(0)", "  money Decimal @default(0) @db.Decimal(10, 2)")),
     ["alter_column_type:User.money"]),
    (edit(("  name  String?\n", "  name  String\n")), ["set_not_null:User.name"]),
    (edit(("  title    String\n", "  title    String?\n")), ["drop_not_null:Post.title"]),
    (edit(("@default(USER)", "@default(ADMIN)")), ["alter_default:User.role"]),
    (edit(("  @@index([name])\n", "  @@index([name, email])\n")),
     ["drop_index:User.User_name_idx", "add_index:User.User_name_email_idx"]),
    (edit(("  @@index([name])\n", "  @@index([name], map: \"by_name\")\n")), ["rename_index:User.by_name"]),
    (edit(("  @@index([name])\n", "  @@index([name])\n  @@unique([name, role])\n")),
     ["add_unique:User.User_name_role_key"]),
    (edit(("  email String  @unique\n", "  email String\n")), ["drop_unique:User.User_email_key"]),
    (edit(("references: [id])", "references: [id], onDelete: Cascade)")),
     ["alter_foreign_key:Post.Post_authorId_fkey"]),
    (edit(("  author   User   @relation(fields: [authorId], references: [id])\n", ""),
          ("  posts Post[]\n", "")), ["drop_foreign_key:Post.Post_authorId_fkey"]),
    (edit(("  ADMIN\n", "  ADMIN\n  OWNER\n")), ["add_enum_value:Role.OWNER"]),
    (edit(("  COACH\n", "")), ["remove_enum_value:Role.COACH"]),
    (edit(("  USER\n  COACH\n", "  COACH\n  USER\n")), ["reorder_enum_values:Role"]),
    (BASE + "enum Mood {\n  HAPPY\n}\n", ["add_enum:Mood"]),
])
def test_change_kinds(new, expected):
    assert ids(BASE, new) == expected


def test_no_changes_between_identical_schemas():
    assert ids(BASE, BASE) == []


def test_primary_key_changes():
    old = "model T {\n  a Int\n  b Int\n  @@id([a])\n}\n"
    assert ids(old, "model T {\n  a Int\n  b Int\n  @@id([a, b])\n}\n") == [
        "drop_primary_key:T.T_pkey", "add_primary_key:T.T_pkey"]
    assert ids(old, "model T {\n  a Int\n  b Int\n  @@id([a], map: \"t_key\")\n}\n") == [
        "rename_constraint:T.t_key"]


def test_drop_table_and_enum():
    assert ids(BASE + "enum Mood {\n  HAPPY\n}\nmodel Old {\n  id Int @id\n}\n", BASE) == [
        "drop_table:Old", "drop_enum:Mood"]


def test_mysql_inline_enum_value_changes():
    old = "enum Role {\n  A\n  B\n}\nmodel T {\n  id Int @id\n  r Role\n}\n"
    new = "enum Role {\n  A\n  B\n  C\n}\nmodel T {\n  id Int @id\n  r Role\n}\n"
    assert ids(old, new, head=MY) == ["add_enum_value:T.r.C"]


def test_checks_views_and_comments_from_model_objects():
    t = Table("t", columns=(Column("a", "integer"),))
    old = Schema("postgresql", tables=(t,), views=(View("v", "SELECT 1"),))
    new = Schema("postgresql", tables=(dataclasses.replace(
        t, checks=(Check("t_a_check", "a > 0"),), comment="the t",
        columns=(Column("a", "integer", comment="an a"),)),),
        views=(View("v", "SELECT 2"), View("w", "SELECT 3")))
    got = [c.id for c in diff(old, new).changes]
    assert got == ["alter_comment:t", "alter_comment:t.a", "add_check:t.t_a_check", "alter_view:v", "add_view:w"]
    # a source that cannot express comments or views (Prisma) never produces those changes
    assert [c.id for c in diff(dataclasses.replace(old, has_views=False, has_comments=False), new).changes] \
        == ["add_check:t.t_a_check"]


def test_rename_suggestions_and_confirmed_renames():
    new = edit(("  name  String?\n", "  full_name String?\n"), ("@@index([name])", "@@index([full_name])"))
    o, n = schema(BASE), schema(new)
    d = diff(o, n)
    assert [s.hint for s in d.suggestions] == ["--rename User.name=full_name"]
    assert "drop_column:User.name" in [c.id for c in d.changes]
    d2 = diff(o, n, parse_renames(["User.name=full_name"], o))
    got = [c.id for c in d2.changes]
    assert got[0] == "rename_column:User.full_name"
    assert "drop_column:User.name" not in got and "add_column:User.full_name" not in got
    # the default Prisma index name follows the column: the index is renamed, not rebuilt
    assert "rename_index:User.User_full_name_idx" in got


def test_enum_value_rename_is_suggested_then_confirmed():
    new = edit(("  COACH\n", "  INSTRUCTOR\n"))
    o, n = schema(BASE), schema(new)
    assert [s.hint for s in diff(o, n).suggestions] == ["--rename Role.COACH=INSTRUCTOR"]
    d = diff(o, n, parse_renames(["Role.COACH=INSTRUCTOR"], o))
    assert [c.id for c in d.changes] == ["rename_enum_value:Role.INSTRUCTOR"]
    assert d.changes[0].detail == {"enum": "Role", "from": "COACH", "to": "INSTRUCTOR", "value": "INSTRUCTOR"}


def test_table_rename_suggested_and_confirmed_keeps_foreign_keys():
    new = BASE.replace("model Post {", "model Article {").replace("posts Post[]", "posts Article[]")
    o, n = schema(BASE), schema(new)
    assert [s.hint for s in diff(o, n).suggestions] == ["--rename Post=Article"]
    got = [c.id for c in diff(o, n, parse_renames(["Post=Article"], o)).changes]
    # Prisma derives key names from the table name, so they are renamed too
    assert got == ["rename_table:Article", "rename_constraint:Article.Article_authorId_fkey",
                   "rename_constraint:Article.Article_pkey"]


def test_enum_rename():
    new = BASE.replace("enum Role {", "enum Rank {").replace("role  Role", "role  Rank")
    o, n = schema(BASE), schema(new)
    assert [s.hint for s in diff(o, n).suggestions] == ["--rename Role=Rank"]
    assert [c.id for c in diff(o, n, parse_renames(["Role=Rank"], o)).changes] == ["rename_enum:Rank"]


@pytest.mark.parametrize("hint", ["nope", "User.nope=x", "Nope.a=b", "Role.NOPE=X", "=x"])
def test_bad_rename_hints(hint):
    with pytest.raises(ConfigError):
        parse_renames([hint], schema(BASE))


def test_enum_changes_list_the_columns_that_use_the_enum():
    d = diff(schema(BASE), schema(edit(("  COACH\n", ""))))
    assert d.changes[0].detail["used_by"] == ["User.role"]


def test_type_change_lists_rebuilt_indexes():
    d = diff(schema(BASE), schema(edit(("  email String  @unique", "  email String  @unique @db.VarChar(99)"))))
    assert d.changes[0].kind == Kind.ALTER_COLUMN_TYPE
    assert d.changes[0].detail["rebuilds"] == ["User_email_key"]


def test_order_is_deterministic_and_grouped():
    new = edit(("  ADMIN\n", "  ADMIN\n  OWNER\n"), ("  name  String?\n", ""), ("  @@index([name])\n", "")) + "model Tag {\n  id Int @id\n}\n"
    first = ids(BASE, new)
    assert first == ids(BASE, new)
    assert first == ["add_enum_value:Role.OWNER", "add_table:Tag", "drop_index:User.User_name_idx",
                     "drop_column:User.name"]
