"""Prisma loader: one case per language feature, checked against the model Prisma's database has."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import ParseError, SourceError
from planner.load.prisma import load_prisma, schema_from_prisma
from planner.model import ForeignKey, Index, IndexPart, PrimaryKey
from planner.naming import prisma_name

PG = 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'
MY = 'datasource db {\n  provider = "mysql"\n}\n'
LITE = 'datasource db {\n  provider = "sqlite"\n}\n'


def load(body: str, head: str = PG):
    schema, warnings = schema_from_prisma({"schema.prisma": head + body})
    return schema


def col(schema, table, name):
    t = schema.table(table)
    assert t is not None, f"no table {table}"
    c = t.column(name)
    assert c is not None, f"no column {table}.{name}"
    return c


@pytest.mark.parametrize("prisma_type, attrs, expected", [
    ("String", "", "text"),
    ("Boolean", "", "boolean"),
    ("Int", "", "integer"),
    ("BigInt", "", "bigint"),
    ("Float", "", "double precision"),
    ("Decimal", "", "numeric(65,30)"),
    ("DateTime", "", "timestamp(3)"),
    ("Json", "", "jsonb"),
    ("Bytes", "", "bytea"),
    ("String", "@db.VarChar(255)", "varchar(255)"),
    ("String", "@db.Char(44)", "char(44)"),
    ("String", "@db.Uuid", "uuid"),
    ("String", "@db.Text", "text"),
    ("String", "@db.Citext", "citext"),
    ("Decimal", "@db.Decimal(10, 2)", "numeric(10,2)"),
    ("DateTime", "@db.Timestamptz(6)", "timestamptz"),
    ("DateTime", "@db.Timestamptz(3)", "timestamptz(3)"),
    ("DateTime", "@db.Date", "date"),
    ("Int", "@db.SmallInt", "smallint"),
    ("Float", "@db.Real", "real"),
    ("Json", "@db.Json", "json"),
    ("String[]", "", "text[]"),
    ('Unsupported("vector(512)")', "", "vector(512)"),
])
def test_scalar_and_native_types_postgres(prisma_type, attrs, expected):
    s = load(f"model T {{\n  id Int @id\n  x {prisma_type} {attrs}\n}}\n")
    assert col(s, "T", "x").type == expected


@pytest.mark.parametrize("prisma_type, attrs, expected", [
    ("String", "", "varchar(191)"),
    ("Boolean", "", "tinyint(1)"),
    ("Int", "", "int"),
    ("DateTime", "", "datetime(3)"),
    ("Json", "", "json"),
    ("Bytes", "", "longblob"),
    ("Decimal", "", "decimal(65,30)"),
    ("String", "@db.VarChar(64)", "varchar(64)"),
    ("Int", "@db.UnsignedInt", "int unsigned"),
    ("String", "@db.LongText", "longtext"),
])
def test_types_mysql(prisma_type, attrs, expected):
    s = load(f"model T {{\n  id Int @id\n  x {prisma_type} {attrs}\n}}\n", MY)
    assert col(s, "T", "x").type == expected


def test_optional_and_required():
    s = load("model T {\n  id Int @id\n  a String\n  b String?\n}\n")
    assert not col(s, "T", "a").nullable
    assert col(s, "T", "b").nullable
    assert not col(s, "T", "id").nullable


@pytest.mark.parametrize("attr, default, autoinc", [
    ("@default(autoincrement())", None, "sequence"),
    ('@default(dbgenerated("gen_random_uuid()"))', "GEN_RANDOM_UUID()", None),
    ("@default(uuid())", None, None),
    ("@default(cuid())", None, None),
    ("@default(nanoid())", None, None),
])
def test_id_defaults(attr, default, autoinc):
    typ = "Int" if "autoincrement" in attr else "String"
    native = "@db.Uuid" if "gen_random" in attr else ""
    s = load(f"model T {{\n  id {typ} @id {attr} {native}\n}}\n")
    c = col(s, "T", "id")
    assert (c.default, c.autoincrement) == (default, autoinc)


def test_autoincrement_per_dialect():
    body = "model T {\n  id Int @id @default(autoincrement())\n}\n"
    assert col(load(body, MY), "T", "id").autoincrement == "auto_increment"
    assert col(load(body, LITE), "T", "id").autoincrement == "autoincrement"


@pytest.mark.parametrize("field, expected", [
    ("x DateTime @default(now())", "CURRENT_TIMESTAMP"),
    ('x String @default("hi \\"there\\"")', "'hi \"there\"'"),
    ("x Int @default(-1)", "-1"),
    ("x Decimal @default(0.50)", "0.5"),
    ("x Boolean @default(false)", "FALSE"),
    ('x Json @default("{}")', "'{}'"),
    ("x Role @default(ADMIN)", "'admin'"),
    ("x Role[] @default([USER, ADMIN])", "ARRAY['USER', 'admin']"),
    ("x String[] @default([])", "ARRAY[]"),
    ("x DateTime @updatedAt", None),
])
def test_defaults(field, expected):
    s = load("enum Role {\n  USER\n  ADMIN @map(\"admin\")\n}\n"
             f"model T {{\n  id Int @id\n  {field}\n}}\n")
    assert col(s, "T", "x").default == expected


def test_map_and_names():
    s = load('model User {\n  id Int @id @map("user_id")\n  email String @unique @map("email_address")\n'
             '  @@map("users")\n}\n')
    t = s.table("users")
    assert t.origin == "User"
    assert t.column("email_address").origin == "email"
    assert t.primary_key == PrimaryKey("users_pkey", ("user_id",))
    assert t.indexes == (Index("users_email_address_key", (IndexPart("email_address"),), unique=True),)


def test_compound_id_unique_index_with_options():
    s = load("model T {\n  a Int\n  b Int\n  c String\n  d String[]\n  @@id([a, b], map: \"t_pk\")\n"
             "  @@unique([b, c], name: \"client_name_only\")\n"
             "  @@index([c(sort: Desc), a], map: \"t_custom\")\n"
             '  @@index([c(ops: raw("text_pattern_ops"))], type: BTree)\n'
             "  @@index([d], type: Gin)\n"
             "  @@index(a)\n}\n")
    t = s.table("T")
    assert t.primary_key == PrimaryKey("t_pk", ("a", "b"))
    by_name = {i.name: i for i in t.indexes}
    assert by_name["T_b_c_key"].unique
    assert by_name["t_custom"].parts == (IndexPart("c", descending=True), IndexPart("a"))
    assert by_name["T_c_idx"].parts == (IndexPart("c", opclass="text_pattern_ops"),)
    assert by_name["T_d_idx"].method == "gin"
    assert by_name["T_a_idx"].parts == (IndexPart("a"),)


def test_relations_default_actions_and_names():
    s = load("model User {\n  id Int @id\n  posts Post[]\n  drafts Post[] @relation(\"drafts\")\n}\n"
             "model Post {\n  id Int @id\n  authorId Int\n  editorId Int?\n"
             "  author User @relation(fields: [authorId], references: [id])\n"
             "  editor User? @relation(\"drafts\", fields: [editorId], references: [id], onDelete: Cascade, "
             "map: \"editor_fk\")\n}\n")
    fks = {f.name: f for f in s.table("Post").foreign_keys}
    assert fks["Post_authorId_fkey"] == ForeignKey("Post_authorId_fkey", ("authorId",), "User", ("id",),
                                                   on_delete="RESTRICT", on_update="CASCADE")
    assert fks["editor_fk"].on_delete == "CASCADE"
    assert fks["editor_fk"].on_update == "CASCADE"


def test_optional_relation_defaults_to_set_null():
    s = load("model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n  aId Int?\n"
             "  a A? @relation(fields: [aId], references: [id])\n}\n")
    assert s.table("B").foreign_keys[0].on_delete == "SET NULL"


def test_self_relation():
    s = load("model Node {\n  id Int @id\n  parentId Int?\n"
             "  parent Node? @relation(\"tree\", fields: [parentId], references: [id])\n"
             "  children Node[] @relation(\"tree\")\n}\n")
    fk = s.table("Node").foreign_keys[0]
    assert (fk.columns, fk.ref_table) == (("parentId",), "Node")


def test_implicit_many_to_many_postgres_and_mysql():
    body = ("model Post {\n  id Int @id\n  tags Tag[]\n}\n"
            "model Tag {\n  id String @id @db.Uuid\n  posts Post[]\n}\n")
    t = load(body).table("_PostToTag")
    assert [(c.name, c.type) for c in t.columns] == [("A", "integer"), ("B", "uuid")]
    assert t.primary_key == PrimaryKey("_PostToTag_AB_pkey", ("A", "B"))
    assert [i.name for i in t.indexes] == ["_PostToTag_B_index"]
    assert {(f.name, f.ref_table, f.on_delete) for f in t.foreign_keys} == {
        ("_PostToTag_A_fkey", "Post", "CASCADE"), ("_PostToTag_B_fkey", "Tag", "CASCADE")}
    my = load(body.replace(" @db.Uuid", ""), MY).table("_PostToTag")
    assert my.primary_key is None
    assert [i.name for i in my.indexes] == ["_PostToTag_AB_unique", "_PostToTag_B_index"]


def test_named_implicit_many_to_many():
    s = load("model User {\n  id Int @id\n  followers User[] @relation(\"follows\")\n"
             "  following User[] @relation(\"follows\")\n}\n")
    assert s.table("_follows") is not None


def test_enums_with_map_and_schema():
    s = load('enum Status {\n  ACTIVE\n  GONE @map("gone")\n  @@map("status_t")\n}\n'
             "model T {\n  id Int @id\n  s Status\n}\n")
    e = s.enums[0]
    assert (e.name, e.values, e.origin) == ("status_t", ("ACTIVE", "gone"), "Status")
    assert col(s, "T", "s").type == "status_t"
    assert col(s, "T", "s").enum == "status_t"


def test_multi_schema():
    head = ('datasource db {\n  provider = "postgresql"\n  schemas = ["public", "auth"]\n}\n')
    s = load('model U {\n  id Int @id\n  @@schema("auth")\n}\nmodel P {\n  id Int @id\n  uId Int\n'
             '  u U @relation(fields: [uId], references: [id])\n  @@schema("public")\n}\n', head)
    assert s.table("auth.U") is not None
    assert s.table("P").foreign_keys[0].ref_schema == "auth"


def test_mysql_enum_is_inline_and_pk_unnamed():
    s = load("enum Role {\n  A\n  B\n}\nmodel T {\n  id Int @id\n  r Role\n}\n", MY)
    assert s.enums == ()
    assert col(s, "T", "r").type == "enum('A','B')"
    assert s.table("T").primary_key.name is None


def test_views_ignored_fields_and_docs():
    s = load("/// A user\nmodel U {\n  id Int @id\n  /// secret\n  legacy String? @ignore\n}\n"
             "view V {\n  id Int @unique\n}\nmodel W {\n  id Int @id\n  @@ignore\n}\n")
    assert s.table("U").doc == "A user"
    assert col(s, "U", "legacy").doc == "secret"
    assert s.table("W") is not None  # @@ignore: still in the database
    assert [v.name for v in s.views] == ["V"] and not s.has_views


def test_relation_mode_prisma_has_no_foreign_keys():
    head = 'datasource db {\n  provider = "mysql"\n  relationMode = "prisma"\n}\n'
    s = load("model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n  aId Int\n"
             "  a A @relation(fields: [aId], references: [id])\n  @@index([aId])\n}\n", head)
    assert s.table("B").foreign_keys == ()


def test_prisma_names_are_truncated_like_prisma():
    long_table = "a_really_long_table_name_that_goes_on_and_on"
    long_cols = ["first_very_long_column_name", "second_very_long_column_name"]
    name = prisma_name(long_table, long_cols, "key", "postgresql")
    assert len(name.encode()) == 63 and name.endswith("_key")
    assert prisma_name("x" * 70, [], "pkey", "postgresql") == "x" * 58 + "_pkey"
    fk = prisma_name("t" * 40, ["c" * 40], "fkey", "postgresql")
    assert fk == ("t" * 40 + "_" + "c" * 40)[:58] + "_fkey"


def test_block_comments_and_bare_index_field():
    s = load("/* a\n block */\nmodel T {\n  id Int @id\n  a Int\n  @@index(a)\n}\n")
    assert s.table("T").indexes[0].name == "T_a_idx"


@pytest.mark.parametrize("body, line, col, words", [
    ("model T {\n  id Int @id\n  x Foo\n}\n", 7, 3, "unknown type 'Foo'"),
    ("model T {\n  id Int @id @bogus\n}\n", 6, 14, "unknown attribute @bogus"),
    ("model T {\n  id Int @id\n", 5, 1, "missing '}'"),
    ('model T {\n  id Int @id @default("x\n}\n', 6, 23, "unexpected character"),
    ("model T {\n  id Int @id\n  @@index([nope])\n}\n", 7, 3, "unknown field 'nope'"),
    ("model T {\n  id Int @id\n  x String @db.Bogus\n}\n", 7, 12, "not supported"),
    ("model T {\n  id Int @id\n  x Float\n  x Int\n}\n", 8, 3, "defined twice"),
    ("model T {\n  id Int @id\n  x Decimal @db.Decimal(10, x)\n}\n", 7, 13, "whole numbers"),
    ("model T {\n  id Int @id\n  x Decimal @db.Decimal(10, 2, 3)\n}\n", 7, 13, "at most 2"),
    ("model T {\n  id Int @id\n  x Int @db.Text\n}\n", 7, 9, "cannot be used on a Int"),
    ("model T {\n  id Int @id\n  x String @db.Text @db.Uuid\n}\n", 7, 21, "more than one native"),
    ("model T {\n  id Int @id\n  @@map(\"t\")\n}\nmodel U {\n  id Int @id\n  @@map(\"t\")\n}\n", 9, 1,
     "both map to table"),
])
def test_parse_errors_have_file_line_col(body, line, col, words):
    with pytest.raises(ParseError) as e:
        load(body)
    text = str(e.value)
    assert text.startswith(f"schema.prisma:{line}:{col}: "), text
    assert words in text


def test_multi_file_folder(tmp_path: Path):
    (tmp_path / "a.prisma").write_text(PG + "model A {\n  id Int @id\n  bs B[]\n}\n")
    (tmp_path / "b.prisma").write_text("model B {\n  id Int @id\n  aId Int\n"
                                       "  a A @relation(fields: [aId], references: [id])\n}\n")
    loaded = load_prisma(str(tmp_path))
    assert sorted(t.name for t in loaded.schema.tables) == ["A", "B"]
    assert loaded.kind == "prisma"


def test_missing_file_is_a_source_error(tmp_path: Path):
    with pytest.raises(SourceError):
        load_prisma(str(tmp_path / "nope.prisma"))


def test_dbgenerated_without_expression_warns():
    schema, warnings = schema_from_prisma({"s.prisma": PG + "model T {\n  id Int @id\n"
                                                           "  x String? @default(dbgenerated())\n}\n"})
    assert any("dbgenerated" in str(w) for w in warnings)
