"""Migrations-folder loader: layouts, order, locations, and the corpus replayed as migrations."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from planner.errors import ParseError, SourceError
from planner.load import load_source
from planner.load.ddl import load_sql_file, load_sql_text
from planner.load.migrations import load_migrations, migration_files, natural_key
from planner.model import Schema

from .conftest import CORPUS


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in migration_files(str(root))]


LAYOUTS = [
    ("prisma", {"20240102_b/migration.sql": "", "20240101_a/migration.sql": "", "migration_lock.toml": ""},
     ["20240101_a/migration.sql", "20240102_b/migration.sql"]),
    ("diesel", {"2024-01-02_b/up.sql": "", "2024-01-02_b/down.sql": "", "00000000_init/up.sql": ""},
     ["00000000_init/up.sql", "2024-01-02_b/up.sql"]),
    ("golang-migrate", {"10_c.up.sql": "", "2_b.up.sql": "", "2_b.down.sql": "", "1_a.up.sql": ""},
     ["1_a.up.sql", "2_b.up.sql", "10_c.up.sql"]),
    ("plain", {"10_x.sql": "", "2_x.sql": "", "V1__init.sql": "", "down.sql": "", "3.down.sql": "", "notes.txt": ""},
     ["2_x.sql", "10_x.sql", "V1__init.sql"]),
]


@pytest.mark.parametrize(("layout", "files", "expected"), LAYOUTS, ids=[c[0] for c in LAYOUTS])
def test_layouts_and_order(tmp_path: Path, layout: str, files: dict[str, str], expected: list[str]) -> None:
    assert names(write(tmp_path, files)) == expected


def test_natural_key() -> None:
    assert sorted(["10_a", "2_b", "1_c", "V10__x", "V9__y"], key=natural_key) == ["1_c", "2_b", "10_a", "V9__y",
                                                                                 "V10__x"]


def test_replays_in_order(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "1_init.up.sql": "CREATE TABLE users (id serial PRIMARY KEY, name text);",
        "1_init.down.sql": "DROP TABLE users;",
        "2_email.up.sql": "ALTER TABLE users ADD COLUMN email text NOT NULL;\nCREATE UNIQUE INDEX ON users (email);",
        "10_rename.up.sql": "ALTER TABLE users RENAME COLUMN name TO full_name;",
    })
    loaded = load_migrations(str(root), dialect="postgresql")
    assert (loaded.kind, loaded.source, loaded.warnings) == ("migrations", str(root), ())
    assert loaded.schema == load_sql_text(
        "CREATE TABLE users (id serial PRIMARY KEY, full_name text, email text NOT NULL);"
        "CREATE UNIQUE INDEX users_email_idx ON users (email);", dialect="postgresql").schema


def test_load_source_picks_the_migrations_loader(tmp_path: Path) -> None:
    root = write(tmp_path, {"0001_a/migration.sql": "CREATE TABLE a (x int);"})
    loaded = load_source(str(root), dialect="postgresql")
    assert loaded.kind == "migrations" and [t.name for t in loaded.schema.tables] == ["a"]


def test_warnings_name_the_file_and_line(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "1_a.sql": "CREATE TABLE a (x int);\n",
        "2_b.sql": "-- trigger\n\nCREATE TRIGGER trg BEFORE INSERT ON a FOR EACH ROW EXECUTE FUNCTION f();\n",
    })
    (warning,) = load_migrations(str(root), dialect="postgresql").warnings
    assert warning.location is not None
    assert (warning.location.file, warning.location.line) == (str(root / "2_b.sql"), 3)
    assert 'CREATE TRIGGER "trg" is not modelled' in str(warning)


def test_parse_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "1_a/migration.sql": "CREATE TABLE a (x int);",
        "2_b/migration.sql": "-- broken\nALTER TABLE a\n  ADD COLUMN y int NOT BOGUS;",
    })
    with pytest.raises(ParseError) as info:
        load_migrations(str(root), dialect="postgresql")
    assert str(info.value).startswith(f"{root / '2_b' / 'migration.sql'}:3:20:")


def test_mysql_migrations_with_procedures(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "V1.init.up.sql": "CREATE TABLE t (id INT NOT NULL PRIMARY KEY AUTO_INCREMENT, k VARCHAR(10)) ENGINE=InnoDB;",
        "V2.fix.up.sql": (
            "DROP PROCEDURE IF EXISTS P;\n"
            "CREATE PROCEDURE P(IN x VARCHAR(64))\nBEGIN\n  IF EXISTS(SELECT 1) THEN\n"
            "    SET @q = CONCAT('ALTER TABLE ', x, ';');\n  END IF;\nEND;\n"
            "CALL P('t');\nALTER TABLE t MODIFY k VARCHAR(20) NOT NULL, ADD UNIQUE KEY (k);\n"),
    })
    loaded = load_migrations(str(root), dialect="mysql")
    assert loaded.schema == load_sql_text(
        "CREATE TABLE t (id INT NOT NULL PRIMARY KEY AUTO_INCREMENT, k VARCHAR(20) NOT NULL, UNIQUE KEY k (k))",
        dialect="mysql").schema
    assert [(w.location.line, w.message.split(" ")[0:2]) for w in loaded.warnings if w.location] == [
        (2, ["CREATE", "PROCEDURE"]), (8, ["CALL", "is"])]


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no migrations found"):
        load_migrations(str(tmp_path), dialect="postgresql")
    with pytest.raises(SourceError, match="not a folder"):
        load_migrations(str(tmp_path / "nope"), dialect="postgresql")


# --------------------------------------------------------------------------- corpus

def unordered(schema: Schema) -> Schema:
    """The schema with columns and enum values sorted: to tell order-only differences apart."""
    tables = tuple(dataclasses.replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name)))
                   for t in schema.tables)
    enums = tuple(dataclasses.replace(e, values=tuple(sorted(e.values))) for e in schema.enums)
    return dataclasses.replace(schema, tables=tables, enums=enums)


PRISMA_PAIRS = sorted(p for p in CORPUS.glob("prisma/*/*") if (p / "old.create.sql").is_file()
                      and (p / "new.create.sql").is_file()) if CORPUS.is_dir() else []
#: ADD COLUMN appends and ALTER TYPE ... ADD VALUE appends, while a fresh `migrate diff` writes the
#: Prisma schema's order: the migration history and the fresh database differ only in order
ORDER_ONLY = {"documenso/02-fix-document-meta-schema", "documenso/05-rework-user-profiles",
              "documenso/07-rework-sessions", "trigger.dev/01-response-changed-output-context",
              "trigger.dev/09-add-debounce-and-delayed-status", "trigger.dev/10-customer-query-add-title-remove-cost"}
#: the commit changed the Prisma schema beyond what its migration does
REAL_DIFFERENCES = {
    "documenso/01-update-share-link-schema": "new.prisma also renames/adds Document columns the migration lacks",
    "langfuse/06-drop-queue-backup-table": "new.prisma renames two prompt_dependencies indexes without a migration",
}


def _prisma_param(p: Path) -> object:
    key = str(p.relative_to(CORPUS / "prisma"))
    marks = [pytest.mark.xfail(strict=True, reason=REAL_DIFFERENCES[key])] if key in REAL_DIFFERENCES else []
    return pytest.param(p, id=key, marks=marks)


@pytest.mark.corpus
@pytest.mark.parametrize("pair", [_prisma_param(p) for p in PRISMA_PAIRS])
def test_corpus_prisma_history(corpus: Path, pair: Path, tmp_path: Path) -> None:
    """old.create.sql then the pair's migration.sql, as a Prisma migrations folder, builds new.create.sql."""
    (tmp_path / "0_init").mkdir()
    (tmp_path / "1_change").mkdir()
    shutil.copy(pair / "old.create.sql", tmp_path / "0_init" / "migration.sql")
    shutil.copy(pair / "prisma_migration.sql", tmp_path / "1_change" / "migration.sql")
    replayed = load_migrations(str(tmp_path), dialect="postgresql").schema
    expected = load_sql_file(str(pair / "new.create.sql"), dialect="postgresql").schema
    if str(pair.relative_to(CORPUS / "prisma")) in ORDER_ONLY:
        assert replayed != expected and unordered(replayed) == unordered(expected)
    else:
        assert replayed == expected


DIESEL_PAIRS = ["lemmy/postgres/04-site-person-ban", "lemmy/postgres/08-add-moderator-warn-modlog-kind",
                "lemmy/postgres/09-add-modlog-foreign-keys", "authelia/postgres/03-consistency-fixes"]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", DIESEL_PAIRS)
def test_corpus_diesel_layout(corpus: Path, rel: str, tmp_path: Path) -> None:
    """A dump as the first migration and the pair's up.sql (with its down.sql beside it)."""
    pair = corpus / "sql" / rel
    for folder, up in (("00000000000000_dump", "old_schema.sql"), ("2026-01-01-000000_change", "migration.up.sql")):
        (tmp_path / folder).mkdir()
        shutil.copy(pair / up, tmp_path / folder / "up.sql")
    shutil.copy(pair / "migration.down.sql", tmp_path / "2026-01-01-000000_change" / "down.sql")
    loaded = load_migrations(str(tmp_path), dialect="postgresql")
    assert loaded.schema == load_sql_file(str(pair / "new_schema.sql"), dialect="postgresql").schema
    assert {w.location.file for w in loaded.warnings if w.location} <= {
        str(tmp_path / "00000000000000_dump" / "up.sql"), str(tmp_path / "2026-01-01-000000_change" / "up.sql")}
