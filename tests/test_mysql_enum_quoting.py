"""Enum values holding quotes, backquotes and backslashes (issue 12, "Hostile names").

MySQL/MariaDB ENUM and SET values are compared through one canonical spelling whatever the
source: SQL DDL as written (`'g''h'`, `'i\\'j'`, `"k""l"`, `'e\\\\f'`), the server's
`information_schema.COLUMNS.COLUMN_TYPE`, SQLAlchemy models and Prisma enums. PostgreSQL enum
labels are read from `'...'`, `E'...'` and `U&'...'` literals with their escapes undone.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.diff import diff
from planner.load import load_source
from planner.load.database import load_database, parse_database_url
from planner.load.ddl import load_sql_text
from planner.load.prisma import schema_from_prisma
from planner.load.sqla import load_sqlalchemy
from planner.normalize import canonical_type, enum_values_of_type

from .conftest import run_sql

#: what the server stores for the DDL below
VALUES = ('a"b', "c`d", "e\\f", "g'h", "i'j", 'k"l', "m\\%n", "sp")
MYSQL_DDL = r"""CREATE TABLE t (
  id int PRIMARY KEY,
  e ENUM('a"b', 'c`d', 'e\\f', 'g''h', 'i\'j', "k""l", 'm\%n', 'sp  ') NOT NULL DEFAULT 'i\'j',
  e2 ENUM('x\\y', 'z') DEFAULT 'x\\y',
  s SET('a\\b', 'c''d', 'q"r') DEFAULT 'c''d'
);
"""


def _run_mysql(url: str, sql: str) -> None:
    """Run DDL on the driver without parameter binding (`%` in the DDL is not a placeholder)."""
    from planner.load.ddl import split_statements

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            for stmt in split_statements(sql, "mysql"):
                cur.execute(stmt.text)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def _changes(old, new) -> list[str]:
    return [f"{c.kind.value} {c.id}" for c in diff(old, new).changes]


# --------------------------------------------------------------------------- canonical spelling

def test_ddl_spelling_and_server_spelling_are_one_type() -> None:
    written = canonical_type(r"""ENUM('a"b', 'c`d', 'e\\f', 'g''h', 'i\'j', "k""l", 'm\%n', 'sp  ')""", "mysql")
    server = canonical_type(r"""enum('a"b','c`d','e\\f','g''h','i''j','k"l','m\\%n','sp')""", "mysql")
    assert written == server == r"""enum('a"b','c`d','e\\f','g''h','i''j','k"l','m\\%n','sp')"""
    assert enum_values_of_type(written) == VALUES


@pytest.mark.parametrize("value", ["'", '"', "`", "\\", "\\\\'", "''", "\n", "\r\n", "\0", "\t", "é€", "a,b", ")"])
def test_canonical_spelling_round_trips(value: str) -> None:
    text = canonical_type(f"enum({_sa_literal(value)}, 'z')", "mysql")
    assert enum_values_of_type(text) == (value, "z")
    assert canonical_type(text, "mysql") == text


def _sa_literal(value: str) -> str:
    """The literal SQLAlchemy's MySQL dialect writes for `value` (what models compile to)."""
    from sqlalchemy.dialects import mysql

    return str(mysql.ENUM(value).compile(dialect=mysql.dialect()))[5:-1]


def test_prisma_mysql_enum_values_are_escaped() -> None:
    prisma = r'''
datasource db {
  provider = "mysql"
  url      = env("DATABASE_URL")
}
model T {
  id Int    @id
  e  Kind   @default(B)
  p  String @default("C:\\dir 'x'")
}
enum Kind {
  A @map("a\"b")
  B @map("e\\f")
  C @map("g'h")
}
'''
    schema, _ = schema_from_prisma({"s.prisma": prisma})
    column = schema.table("T").column("e")
    assert enum_values_of_type(column.type) == ('a"b', "e\\f", "g'h")
    ddl = load_sql_text(r"""CREATE TABLE T (id int PRIMARY KEY, e ENUM('a"b', 'e\\f', 'g''h') NOT NULL DEFAULT 'e\\f',
                                           p varchar(191) NOT NULL DEFAULT 'C:\\dir \'x\'');""",
                        dialect="mysql").schema
    assert ddl.table("T").column("e") == column
    assert ddl.table("T").column("p") == schema.table("T").column("p")


def test_value_changes_are_value_changes_not_type_changes() -> None:
    old = load_sql_text(r"CREATE TABLE t (e ENUM('a''b', 'c\\d'));", dialect="mysql").schema
    new = load_sql_text(r"""CREATE TABLE t (e ENUM("a'b", 'c\\d', 'x"y'));""", dialect="mysql").schema
    changes = diff(old, new).changes
    assert [(c.kind.value, c.detail.get("value")) for c in changes] == [("add_enum_value", 'x"y')]


# --------------------------------------------------------------------------- MariaDB / MySQL

@pytest.mark.mysql
def test_ddl_built_on_the_server_diffs_to_zero(mysql_url: str, tmp_path: Path) -> None:
    _run_mysql(mysql_url, MYSQL_DDL)
    reflected = load_database(mysql_url).schema
    column = reflected.table("t").column("e")
    assert enum_values_of_type(column.type) == VALUES
    assert column.default == "'i''j'"
    assert _changes(load_sql_text(MYSQL_DDL, dialect="mysql").schema, reflected) == []
    path = tmp_path / "file.sql"
    path.write_text(MYSQL_DDL)
    result = CliRunner().invoke(app, ["diff", str(path), mysql_url, "--dialect", "mysql"])
    assert result.exit_code == 0, result.output
    assert "0 changes" in result.stdout


def _models_round_trip(url: str, values: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("e", sa.Enum(*values, name="e")))
    engine = sa.create_engine(parse_database_url(url).url)
    metadata.create_all(engine)
    engine.dispose()
    module = types.ModuleType("planner_enum_quoting_models")
    module.metadata = metadata
    monkeypatch.setitem(sys.modules, "planner_enum_quoting_models", module)
    models = load_sqlalchemy("planner_enum_quoting_models:metadata", dialect="mysql").schema
    reflected = load_database(url).schema
    assert enum_values_of_type(reflected.table("t").column("e").type) == values
    return _changes(models, reflected)


@pytest.mark.mysql
def test_sqlalchemy_models_diff_to_zero(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _models_round_trip(mysql_url, ('a"b', "c`d", "e\\f", "g'h", "x\\'y"), monkeypatch) == []


@pytest.mark.mysql
def test_sqlalchemy_models_percent_in_enum_value(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _models_round_trip(mysql_url, ("50%", "m\\%n"), monkeypatch) == []


# --------------------------------------------------------------------------- PostgreSQL

PG_DDL = r"""CREATE TYPE mood AS ENUM ('a"b', 'c''d', 'e\f', E'g\\h', E'i\'j', 'k`l', U&'m\0041n',
  U&'o!00e9p' UESCAPE '!', E'q\x41\101');
CREATE TABLE t (id int PRIMARY KEY, m mood DEFAULT 'c''d', ms mood[]);
ALTER TYPE mood ADD VALUE E'r\'s' BEFORE 'a"b';
"""
PG_LABELS = ("r's", 'a"b', "c'd", "e\\f", "g\\h", "i'j", "k`l", "mAn", "oép", "qAA")


def test_postgresql_labels_are_unescaped() -> None:
    assert load_sql_text(PG_DDL, dialect="postgresql").schema.enum("mood").values == PG_LABELS


@pytest.mark.postgres
def test_postgresql_labels_built_on_the_server_diff_to_zero(pg_url: str, tmp_path: Path) -> None:
    run_sql(pg_url, PG_DDL)
    reflected = load_database(pg_url).schema
    assert reflected.enum("mood").values == PG_LABELS
    path = tmp_path / "file.sql"
    path.write_text(PG_DDL)
    assert _changes(load_source(str(path), dialect="postgresql").schema, reflected) == []
