"""Identifier length limits (issue 12, "Hostile names").

PostgreSQL truncates a name over 63 bytes to 63 bytes (at a character boundary) with a
NOTICE; a schema read from a source (SQL DDL, Prisma, SQLAlchemy models) is modelled the way
the server builds it, with a warning per truncated name, so the database it builds diffs to
zero changes against it. Enum labels over 63 bytes, and two names that truncate to one, the
server rejects: an error. MySQL/MariaDB reject names over 64 characters: an error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.diff import diff
from planner.errors import ParseError, PlannerError, SourceError
from planner.load import load_source
from planner.load.common import Loaded, apply_name_limits
from planner.load.database import load_database, parse_database_url
from planner.load.ddl import load_sql_text
from planner.load.prisma import schema_from_prisma
from planner.load.sqla import load_sqlalchemy
from planner.naming import clip_bytes

from .conftest import run_sql

X = "x" * 66
TABLE, COLUMN, INDEX = f"tbl_{X}", f"col_{X}", f"idx_{X}"  # 70 bytes each
#: 4 + 2 * 40 bytes: byte 63 is inside an "é", so the server keeps 62
UNICODE = "ünx" + "é" * 40

PG_DDL = f"""CREATE TYPE enm_{X} AS ENUM ('a', 'b');
CREATE TABLE {TABLE} (
  id int PRIMARY KEY,
  {COLUMN} int NOT NULL CHECK ({COLUMN} > 0),
  "{UNICODE}" text DEFAULT 'a_string_literal_{X}',
  e enm_{X},
  es enm_{X}[],
  UNIQUE ({COLUMN}, id)
);
CREATE INDEX {INDEX} ON {TABLE} ({COLUMN});
CREATE INDEX ON {TABLE} (lower("{UNICODE}")) WHERE {COLUMN} > 1;
CREATE TABLE child (id int PRIMARY KEY, pid int REFERENCES {TABLE} (id),
  CONSTRAINT fk_{X} FOREIGN KEY (pid) REFERENCES {TABLE} (id));
CREATE VIEW vw_{X} AS SELECT id FROM child;
"""


def cut(name: str) -> str:
    return clip_bytes(name, 63)


def changes(old, new) -> list[str]:
    return [c.id for c in diff(old, new).changes]


# --------------------------------------------------------------------------- PostgreSQL, offline

def test_postgresql_names_are_truncated_as_the_server_does() -> None:
    loaded = load_sql_text(PG_DDL, dialect="postgresql", filename="long.sql")
    schema = loaded.schema
    t = schema.table(cut(TABLE))
    assert t is not None and schema.table(TABLE) is None
    assert [c.name for c in t.columns] == ["id", cut(COLUMN), cut(UNICODE), "e", "es"]
    assert len(cut(UNICODE).encode()) == 62 and cut(UNICODE) == "ünx" + "é" * 29
    assert t.column("e").enum == cut(f"enm_{X}") and t.column("es").type == cut(f"enm_{X}") + "[]"
    assert t.column(cut(UNICODE)).default == f"'a_string_literal_{X}'"  # strings are not names
    assert cut(INDEX) in {i.name for i in t.indexes}
    expression = next(i for i in t.indexes if i.parts[0].expression)
    assert expression.parts[0].expression == f'LOWER("{cut(UNICODE)}")'
    assert expression.where == f"{cut(COLUMN)} > 1"
    assert t.checks[0].expression == f"{cut(COLUMN)} > 0"
    assert [e.name for e in schema.enums] == [cut(f"enm_{X}")]
    assert [v.name for v in schema.views] == [cut(f"vw_{X}")]
    child = schema.table("child")
    assert {f.ref_table for f in child.foreign_keys} == {cut(TABLE)}
    assert cut(f"fk_{X}") in {f.name for f in child.foreign_keys}
    # one warning per object, naming it, where it was written, and what it becomes
    truncated = [w for w in loaded.warnings if "63-byte limit" in w.message]
    assert len(truncated) == 7  # enum, table, 2 columns, index, foreign key, view
    table_warning = next(w for w in truncated if w.message.startswith("table"))
    assert str(table_warning.location) == "long.sql:2:14"
    assert f'"{TABLE}" is 70 bytes' in table_warning.message and f'"{cut(TABLE)}"' in table_warning.message
    assert any(f'column "{cut(TABLE)}.{UNICODE}" is 84 bytes' in w.message for w in truncated)


def test_truncation_is_idempotent_and_silent_within_the_limit() -> None:
    schema = load_sql_text(PG_DDL, dialect="postgresql").schema
    assert apply_name_limits(schema) == (schema, [])
    assert Loaded(schema, "x", "sql").warnings == ()
    short = load_sql_text("CREATE TABLE t (id int PRIMARY KEY);", dialect="postgresql")
    assert short.warnings == ()


def test_default_names_keep_their_prisma_and_postgresql_rules() -> None:
    """Names the source leaves out were already made to fit: `<table>_pkey` of a long table
    is PostgreSQL's own cut (`makeObjectName`), not a truncation of a longer name."""
    loaded = load_sql_text(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, a int UNIQUE);", dialect="postgresql")
    t = loaded.schema.tables[0]
    assert t.primary_key.name == TABLE[:58] + "_pkey"
    assert [i.name for i in t.indexes] == [TABLE[:57] + "_a_key"]
    assert len([w for w in loaded.warnings if "63-byte" in w.message]) == 1  # the table only


def test_postgresql_enum_label_over_63_bytes_is_an_error(tmp_path: Path) -> None:
    label = "l" * 64
    with pytest.raises(ParseError, match=r"label 'l{64}' is 64 bytes; PostgreSQL rejects enum labels") as e:
        load_sql_text(f"CREATE TYPE mood AS ENUM ('ok',\n  '{label}');", dialect="postgresql", filename="f.sql")
    assert str(e.value.location) == "f.sql:2:3"
    assert load_sql_text(f"CREATE TYPE mood AS ENUM ('{'l' * 63}');", dialect="postgresql").schema.enums
    with pytest.raises(ParseError, match="is 64 bytes"):
        load_sql_text(f"CREATE TYPE mood AS ENUM ('a'); ALTER TYPE mood ADD VALUE '{label}';", dialect="postgresql")
    path = tmp_path / "schema.prisma"
    path.write_text('datasource db {\n  provider = "postgresql"\n  url = env("X")\n}\n'
                    f'enum Mood {{\n  OK\n  LONG @map("{label}")\n}}\n')
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:7:13" in lines[0] and "rejects enum labels over 63 bytes" in lines[0]


def test_names_that_truncate_to_one_are_an_error() -> None:
    with pytest.raises(PlannerError, match=r'2 names become "tbl_x+" once PostgreSQL truncates them'):
        load_sql_text(f"CREATE TABLE {TABLE}_a (id int); CREATE TABLE {TABLE}_b (id int);", dialect="postgresql")
    with pytest.raises(PlannerError, match="2 names become"):
        load_sql_text(f"CREATE TABLE t ({COLUMN}_a int, {COLUMN}_b int);", dialect="postgresql")
    with pytest.raises(PlannerError, match="2 names become"):  # an index and a table share a namespace
        load_sql_text(f"CREATE TABLE {TABLE}_a (id int); CREATE INDEX {TABLE}_b ON {TABLE}_a (id);",
                      dialect="postgresql")


def test_sqlalchemy_models_get_the_same_treatment(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_sqlalchemy(_register(monkeypatch, _long_metadata(TABLE)), dialect="postgresql")
    assert [t.name for t in loaded.schema.tables] == [cut(TABLE)]
    assert [c.name for c in loaded.schema.tables[0].columns] == ["id", cut(COLUMN), cut(f"enm_{X}")]
    assert sum("63-byte limit" in w.message for w in loaded.warnings) == 3


def _long_metadata(table: str) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(table, metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column(COLUMN, sa.Integer, index=True), sa.Column(f"enm_{X}", sa.Text, unique=True))
    return metadata


def _register(monkeypatch: pytest.MonkeyPatch, metadata: sa.MetaData) -> str:
    module = types.ModuleType("planner_name_limit_models")
    module.metadata = metadata
    monkeypatch.setitem(sys.modules, "planner_name_limit_models", module)
    return "planner_name_limit_models:metadata"


# --------------------------------------------------------------------------- PostgreSQL, on the server

@pytest.mark.postgres
def test_sql_ddl_built_on_postgresql_diffs_to_zero(pg_url: str, tmp_path: Path) -> None:
    run_sql(pg_url, PG_DDL)
    from_db = load_database(pg_url)
    assert from_db.warnings == ()
    path = tmp_path / "long.sql"
    path.write_text(PG_DDL)
    from_file = load_source(str(path), dialect="postgresql")
    # views: PostgreSQL qualifies the column in the stored query (`child.id`), a comparison
    # planner leaves to both sides' query text; the names match
    assert [c for c in changes(from_file.schema, from_db.schema) if not c.startswith("alter_view")] == []
    assert from_file.schema.tables == from_db.schema.tables
    assert from_file.schema.enums == from_db.schema.enums
    assert [v.name for v in from_file.schema.views] == [v.name for v in from_db.schema.views]


PRISMA = f'''datasource db {{
  provider = "postgresql"
  url      = env("DATABASE_URL")
}}

model Parent {{
  id      Int     @id @default(autoincrement())
  longCol Int     @map("{COLUMN}")
  kids    Child[]

  @@index([longCol])
  @@unique([longCol, id])
  @@map("{TABLE}")
}}

model Child {{
  id       Int    @id
  parentId Int    @map("parent_id_{X}")
  parent   Parent @relation(fields: [parentId], references: [id])
  mood     Mood
}}

enum Mood {{
  HAPPY
  SAD
  @@map("enm_{X}")
}}
'''

#: what `prisma migrate diff --from-empty --to-schema-datamodel` writes for PRISMA: full names,
#: and Prisma's own default names (cut to 63 bytes by Prisma itself)
PRISMA_MIGRATION = f'''CREATE TYPE "enm_{X}" AS ENUM ('HAPPY', 'SAD');
CREATE TABLE "{TABLE}" (
    "id" SERIAL NOT NULL,
    "{COLUMN}" INTEGER NOT NULL,
    CONSTRAINT "{TABLE[:58]}_pkey" PRIMARY KEY ("id")
);
CREATE TABLE "Child" (
    "id" INTEGER NOT NULL,
    "parent_id_{X}" INTEGER NOT NULL,
    "mood" "enm_{X}" NOT NULL,
    CONSTRAINT "Child_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "{TABLE[:59]}_idx" ON "{TABLE}"("{COLUMN}");
CREATE UNIQUE INDEX "{TABLE[:59]}_key" ON "{TABLE}"("{COLUMN}", "id");
ALTER TABLE "Child" ADD CONSTRAINT "{('Child_parent_id_' + X)[:58]}_fkey" FOREIGN KEY ("parent_id_{X}")
  REFERENCES "{TABLE}"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
'''


def _prisma_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.prisma"
    path.write_text(PRISMA)
    return path


def test_prisma_names_are_truncated_with_their_location(tmp_path: Path) -> None:
    loaded = load_source(str(_prisma_file(tmp_path)))
    warnings = {w.message.split(" is ")[0]: str(w.location) for w in loaded.warnings}
    assert warnings == {
        f'table "{TABLE}"': f"{tmp_path}/schema.prisma:13:9",
        f'column "{cut(TABLE)}.{COLUMN}"': f"{tmp_path}/schema.prisma:8:24",
        f'column "Child.parent_id_{X}"': f"{tmp_path}/schema.prisma:18:24",
        f'enum "enm_{X}"': f"{tmp_path}/schema.prisma:26:9",
    }
    assert schema_from_prisma({"s.prisma": PRISMA})[0] == loaded.schema


@pytest.mark.postgres
def test_prisma_migration_built_on_postgresql_diffs_to_zero(pg_url: str, tmp_path: Path) -> None:
    run_sql(pg_url, PRISMA_MIGRATION)
    url = f"{pg_url}?schema=public"
    result = CliRunner().invoke(app, ["diff", str(_prisma_file(tmp_path)), url])
    assert result.exit_code == 0, result.output
    assert "0 changes" in result.stdout and "63-byte limit" in result.stderr


@pytest.mark.postgres
def test_planner_plan_for_a_prisma_schema_diffs_to_zero(pg_url: str, tmp_path: Path) -> None:
    """`planner plan --init` + `alembic upgrade head` builds the names planner compares."""
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", "empty", str(_prisma_file(tmp_path)), "--init", str(proj)])
    assert result.exit_code == 0, result.output
    env = {**os.environ, "DATABASE_URL": pg_url}
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(proj / "alembic.ini"), "upgrade", "head"],
                   env=env, check=True, capture_output=True)
    assert changes(load_source(str(_prisma_file(tmp_path))).schema, load_database(pg_url).schema) == []


@pytest.mark.postgres
def test_sqlalchemy_models_built_on_postgresql_diff_to_zero(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLAlchemy refuses to create a table named over 63 characters; long columns it creates
    metadata = _long_metadata("t")
    engine = sa.create_engine(parse_database_url(pg_url).url)
    metadata.create_all(engine)
    engine.dispose()
    models = load_sqlalchemy(_register(monkeypatch, metadata), dialect="postgresql").schema
    assert changes(models, load_database(pg_url).schema) == []


@pytest.mark.postgres
def test_server_agrees_on_the_unicode_cut_and_the_enum_label_limit(pg_url: str) -> None:
    run_sql(pg_url, f'CREATE TABLE "{UNICODE}" (id int)')
    assert [t.name for t in load_database(pg_url).schema.tables] == [cut(UNICODE)]
    engine = sa.create_engine(pg_url)
    with engine.connect() as c, pytest.raises(sa.exc.DBAPIError, match="Labels must be 63 bytes or less"):
        c.exec_driver_sql(f"CREATE TYPE m AS ENUM ('{'l' * 64}')")
    engine.dispose()


# --------------------------------------------------------------------------- MySQL / MariaDB

def test_mysql_names_over_64_characters_are_an_error(tmp_path: Path) -> None:
    long = "u" * 65
    with pytest.raises(ParseError, match=r"table 'u{65}' is 65 characters: MySQL and MariaDB reject") as e:
        load_sql_text(f"CREATE TABLE t (id int);\nCREATE TABLE {long} (id int);", dialect="mysql", filename="m.sql")
    assert str(e.value.location) == "m.sql:2:14"
    with pytest.raises(PlannerError, match=r"column 'c{65}' of table 't' is 65 characters"):
        load_sql_text(f"CREATE TABLE t ({'c' * 65} int);", dialect="mysql")
    # 64 characters are fine, whatever their bytes
    assert load_sql_text(f"CREATE TABLE `{'é' * 64}` (id int);", dialect="mysql").warnings == ()
    # names the server generates count too: MariaDB refuses `<60 characters>_ibfk_1`
    with pytest.raises(PlannerError, match=r"foreign key 't{60}_ibfk_1' .* name it"):
        load_sql_text(f"CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE {'t' * 60} "
                      "(id int, pid int, FOREIGN KEY (pid) REFERENCES p (id));", dialect="mysql")
    path = tmp_path / "m.sql"
    path.write_text(f"CREATE TABLE {long} (id int);\n")
    result = CliRunner().invoke(app, ["inspect", str(path), "--dialect", "mysql"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_mysql_prisma_map_over_64_characters_is_an_error() -> None:
    prisma = ('datasource db {\n  provider = "mysql"\n  url = env("X")\n}\n'
              f'model T {{\n  id Int @id\n  @@map("{"m" * 65}")\n}}\n')
    with pytest.raises(ParseError, match="MySQL and MariaDB reject names over 64 characters") as e:
        schema_from_prisma({"s.prisma": prisma})
    assert str(e.value.location) == "s.prisma:7:9"


@pytest.mark.mysql
def test_mariadb_rejects_what_planner_rejects(mysql_url: str) -> None:
    engine = sa.create_engine(mysql_url)
    with engine.connect() as c:
        with pytest.raises(sa.exc.DBAPIError, match="1059|1103"):
            c.exec_driver_sql(f"CREATE TABLE {'u' * 65} (id int)")
        c.exec_driver_sql("CREATE TABLE p (id int PRIMARY KEY)")
        with pytest.raises(sa.exc.DBAPIError, match="1059"):
            c.exec_driver_sql(f"CREATE TABLE {'t' * 60} (id int, pid int, FOREIGN KEY (pid) REFERENCES p (id))")
    engine.dispose()


def test_errors_are_planner_errors() -> None:
    assert issubclass(ParseError, PlannerError) and issubclass(SourceError, PlannerError)
