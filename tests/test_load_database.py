"""Live-database loader: URLs, errors, the read-only guard, reflection per dialect, the corpus."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from planner.errors import SourceError
from planner.load.database import load_database, mask_url, parse_database_url, read_only_engine
from planner.model import ForeignKey, Index, IndexPart, PrimaryKey

from .conftest import run_sql


def with_db(url: str, database: str) -> str:
    return sa.make_url(url).set(database=database).render_as_string(hide_password=False)


def assert_one_line_error(err: SourceError, *, secret: str | None = None) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    if secret:
        assert secret not in text
    return text


@contextmanager
def count_queries() -> Iterator[list[str]]:
    seen: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", before)


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("url, driver, dialect", [
    ("postgresql://u@h/db", "postgresql+psycopg", "postgresql"),
    ("postgres://u@h/db", "postgresql+psycopg", "postgresql"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg", "postgresql"),
    ("mysql://u@h/db", "mysql+pymysql", "mysql"),
    ("mysql+pymysql://u@h/db", "mysql+pymysql", "mysql"),
    ("mariadb://u@h/db", "mysql+pymysql", "mysql"),
    ("sqlite:///x.db", "sqlite", "sqlite"),
])
def test_url_picks_psycopg3_and_pymysql(url: str, driver: str, dialect: str) -> None:
    target = parse_database_url(url)
    assert target.url.drivername == driver
    assert target.dialect == dialect


def test_prisma_url_parameters_are_dropped_and_schema_kept() -> None:
    target = parse_database_url(
        "postgresql://u:pw@h:5432/db?schema=app&connection_limit=5&pgbouncer=true&sslmode=require")
    assert target.schema == "app"
    assert dict(target.url.query) == {"sslmode": "require"}


def test_password_is_masked() -> None:
    assert mask_url("postgresql://user:s3cret@host/db") == "postgresql://user:***@host/db"
    assert "s3cret" not in mask_url("not a url://user:s3cret@host")


def test_unsupported_url() -> None:
    with pytest.raises(SourceError, match="unsupported database URL"):
        load_database("oracle://u:pw@h/db")


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("url", [
    "postgresql://user:s3cret@127.0.0.1:1/db",
    "mysql://user:s3cret@127.0.0.1:1/db",
])
def test_unreachable_server_is_one_clear_line(url: str) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        load_database(url)
    text = assert_one_line_error(info.value, secret="s3cret")
    assert "cannot connect to" in text and "user:***@127.0.0.1:1" in text
    assert "server is running" in text
    assert time.monotonic() - started < 15


def test_unknown_database(pg_url: str, mysql_url: str) -> None:
    for url in (with_db(pg_url, "planner_no_such_db"), with_db(mysql_url, "planner_no_such_db")):
        with pytest.raises(SourceError) as info:
            load_database(url)
        text = assert_one_line_error(info.value)
        assert "planner_no_such_db" in text and "database name" in text


def test_bad_credentials(pg_url: str, mysql_url: str) -> None:
    pg_bad = sa.make_url(pg_url).set(username="planner_nobody", password="s3cret")
    my_bad = sa.make_url(mysql_url).set(password="s3cret")
    for url in (pg_bad, my_bad):
        with pytest.raises(SourceError) as info:
            load_database(url.render_as_string(hide_password=False))
        text = assert_one_line_error(info.value, secret="s3cret")
        assert "***" in text and "user name and password" in text


@pytest.mark.parametrize("url, module", [
    ("postgresql+psycopg2://u@h/db", "psycopg2"),
    ("mysql+mysqldb://u@h/db", "MySQLdb"),
    ("postgresql://u@h/db", "psycopg"),
])
def test_missing_driver(url: str, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(SourceError, match="driver missing") as info:
        load_database(url)
    assert_one_line_error(info.value)


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(SourceError, match="cannot connect"):
        load_database(f"sqlite:///{path}")
    assert not path.exists()


def test_missing_prisma_schema(pg_url: str) -> None:
    with pytest.raises(SourceError, match="schema 'nope' does not exist"):
        load_database(pg_url + "?schema=nope")


# --------------------------------------------------------------------------- read-only

def test_postgresql_connection_is_read_only(pg_url: str) -> None:
    run_sql(pg_url, "CREATE TABLE t (id int)")
    for startup in (True, False):  # False: the set-up used behind a transaction-mode pooler
        engine = read_only_engine(parse_database_url(pg_url), startup_options=startup)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "30s"
                for stmt in ("INSERT INTO t VALUES (1)", "CREATE TABLE u (id int)", "DROP TABLE t"):
                    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                        conn.exec_driver_sql(stmt)
                    conn.rollback()
                conn.commit()  # a new transaction is read-only too
                with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                    conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        finally:
            engine.dispose()
    load_database(pg_url)
    with sa.create_engine(parse_database_url(pg_url).url).connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_mysql_connection_is_read_only(mysql_url: str) -> None:
    run_sql(mysql_url, "CREATE TABLE t (id int)")
    engine = read_only_engine(parse_database_url(mysql_url))
    try:
        with engine.connect() as conn:
            mariadb = "mariadb" in conn.exec_driver_sql("SELECT VERSION()").scalar().lower()
            flag = "tx_read_only" if mariadb else "transaction_read_only"
            assert conn.exec_driver_sql(f"SELECT @@session.{flag}").scalar() == 1
            for stmt in ("INSERT INTO t VALUES (1)", "CREATE TABLE u (id int)", "DROP TABLE t"):
                with pytest.raises(sa.exc.DBAPIError, match="READ ONLY"):
                    conn.exec_driver_sql(stmt)
                conn.rollback()
            if mariadb:
                assert float(conn.exec_driver_sql("SELECT @@session.max_statement_time").scalar()) == 30
    finally:
        engine.dispose()


def test_sqlite_connection_is_read_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    run_sql(url, "CREATE TABLE t (id int);")
    engine = read_only_engine(parse_database_url(url))
    try:
        with engine.connect() as conn:
            for stmt in ("INSERT INTO t VALUES (1)", "CREATE TABLE u (id int)"):
                with pytest.raises(sa.exc.OperationalError, match="readonly|read-only|query_only"):
                    conn.exec_driver_sql(stmt)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- PostgreSQL

PG_FEATURES = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA app;
CREATE SCHEMA planner_backup_20240101;
CREATE TABLE planner_backup_20240101.old_rows (id int);
CREATE TABLE _prisma_migrations (id text PRIMARY KEY);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.level AS ENUM ('low', 'high');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
CREATE DOMAIN email AS text CHECK (position('@' IN VALUE) > 0);
CREATE TABLE "Parent" (
    id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    "x, y" int, "z" int,
    code email,
    m mood DEFAULT 'ok',
    during tsrange,
    UNIQUE ("x, y", z),
    EXCLUDE USING gist (during WITH &&)
);
CREATE TABLE app.child (
    id bigserial PRIMARY KEY,
    a int, b int,
    lvl app.level NOT NULL DEFAULT 'low',
    nick citext,
    CONSTRAINT child_parent FOREIGN KEY (a, b) REFERENCES public."Parent" ("x, y", z)
        MATCH FULL ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED
);
ALTER TABLE app.child ADD CONSTRAINT positive CHECK (a > 0) NOT VALID;
ALTER TABLE app.child ADD CONSTRAINT child_b_key UNIQUE (b) DEFERRABLE;
CREATE TABLE measurements (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE measurements_2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNLOGGED TABLE scratch (id int);
ALTER TABLE scratch ENABLE ROW LEVEL SECURITY;
CREATE SEQUENCE invoice_numbers;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER parent_touch BEFORE UPDATE ON "Parent" FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW parent_codes AS SELECT id, code FROM "Parent" WHERE id > 0;
CREATE MATERIALIZED VIEW app.child_count AS SELECT count(*) AS n FROM app.child;
CREATE INDEX parent_z_desc ON "Parent" (z DESC NULLS LAST) WITH (fillfactor = 70);
CREATE TABLE ext_owned (id int);
ALTER EXTENSION citext ADD TABLE ext_owned;
"""


@pytest.fixture
def pg_features(pg_url: str) -> Iterator[str]:
    run_sql(pg_url, PG_FEATURES)
    yield pg_url
    run_sql(pg_url, "ALTER EXTENSION citext DROP TABLE ext_owned")


def test_postgresql_schemas_and_skipped_tables(pg_features: str) -> None:
    schema = load_database(pg_features).schema
    keys = [schema.key(t.schema, t.name) for t in schema.tables]
    assert keys == ["Parent", "measurements", "scratch", "app.child"]  # sorted by (schema, name)
    assert [(e.schema, e.name, e.values) for e in schema.enums] == [
        (None, "mood", ("sad", "meh", "ok", "happy")), ("app", "level", ("low", "high"))]
    views = {(v.schema, v.name): v for v in schema.views}
    assert views[(None, "parent_codes")].definition == (
        'SELECT "Parent".id, "Parent".code FROM "Parent" WHERE "Parent".id > 0')
    assert views[("app", "child_count")].materialized


def test_postgresql_objects(pg_features: str) -> None:
    schema = load_database(pg_features).schema
    parent, child = schema.table("Parent"), schema.table("app.child")
    assert parent.column("id").autoincrement == "identity" and not parent.column("id").nullable
    assert parent.column("code").type == "email"
    assert parent.column("m").enum == "mood" and parent.column("m").default == "'ok'"
    assert child.column("id").autoincrement == "sequence" and child.column("id").default is None
    assert child.column("lvl").enum == "app.level" and child.column("lvl").type == "app.level"
    assert child.column("nick").type == "citext"  # unknown to SQLAlchemy: read via format_type()
    assert child.foreign_keys == (ForeignKey(
        name="child_parent", columns=("a", "b"), ref_table="Parent", ref_columns=("x, y", "z"),
        ref_schema=None, on_delete="SET NULL", deferrable=True, initially_deferred=True,
        match_full=True),)
    assert child.index("child_b_key") == Index(
        name="child_b_key", parts=(IndexPart(column="b"),), unique=True, constraint=True,
        deferrable=True)
    assert [i.name for i in parent.indexes] == ["Parent_x, y_z_key", "parent_z_desc"]
    assert parent.index("parent_z_desc").parts == (IndexPart(column="z", descending=True,
                                                              nulls_first=False),)
    assert parent.primary_key == PrimaryKey("Parent_pkey", ("id",))


def test_postgresql_warnings_name_what_is_not_modelled(pg_features: str) -> None:
    text = "\n".join(str(w) for w in load_database(pg_features).warnings)
    for expected in [
        "table measurements_2024 is a partition of public.measurements; skipped",
        "table measurements is partitioned (RANGE (at))",
        "exclusion constraint Parent_during_excl on Parent",
        "trigger parent_touch on Parent",
        "table scratch is UNLOGGED",
        "table scratch has row-level security",
        "sequence invoice_numbers is not owned",
        "constraint positive on app.child is NOT VALID",
        "domain email (used by Parent)",
        "index parent_z_desc on Parent: storage parameters",
        "owned by extension citext: ext_owned",
    ]:
        assert expected in text
    assert "not recognise" not in text and "Did not recognize" not in text


def test_postgresql_prisma_schema_parameter(pg_features: str) -> None:
    loaded = load_database(pg_features + "?schema=app")
    schema = loaded.schema
    assert [(t.schema, t.name) for t in schema.tables] == [(None, "child")]
    child = schema.tables[0]
    assert child.column("lvl").enum == "level"
    assert child.foreign_keys[0].ref_schema == "public"
    assert [(e.schema, e.name) for e in schema.enums] == [(None, "level")]
    assert loaded.source.endswith("?schema=app")


def test_postgresql_reflection_is_deterministic(pg_features: str) -> None:
    assert load_database(pg_features) == load_database(pg_features)


def test_postgresql_query_count_does_not_grow_with_tables(pg_url: str) -> None:
    def tables(n: int, start: int = 0) -> str:
        return "".join(
            f"CREATE TABLE t{i} (id serial PRIMARY KEY, p int REFERENCES t{max(i - 1, 0)}(id), "
            f"v text NOT NULL DEFAULT 'x' CHECK (v <> ''), UNIQUE (v)); CREATE INDEX t{i}_p ON t{i} (p);"
            for i in range(start, start + n))

    run_sql(pg_url, tables(10))
    with count_queries() as small:
        load_database(pg_url)
    run_sql(pg_url, tables(90, start=10))
    with count_queries() as big:
        assert len(load_database(pg_url).schema.tables) == 100
    assert len(big) == len(small) < 30


# --------------------------------------------------------------------------- the Prisma corpus

def _statements(sql: str) -> dict[str, int]:
    return {
        "tables": len(re.findall(r"^CREATE TABLE", sql, re.M)),
        "enums": len(re.findall(r"^CREATE TYPE .* AS ENUM", sql, re.M)),
        "indexes": len(re.findall(r"^CREATE (?:UNIQUE )?INDEX", sql, re.M)),
        "primary_keys": len(re.findall(r"PRIMARY KEY", sql)),
        "foreign_keys": len(re.findall(r"FOREIGN KEY", sql)),
    }


@pytest.mark.corpus
@pytest.mark.parametrize("project, serials", [("langfuse", 0), ("trigger.dev", 1)])
def test_prisma_corpus_reflects_completely_and_canonically(
        project: str, serials: int, corpus: Path, pg_url: str) -> None:
    sql = (corpus / "prisma" / project / "latest.create.sql").read_text()
    run_sql(pg_url, sql)
    started = time.perf_counter()
    with count_queries() as queries:
        loaded = load_database(pg_url)
    elapsed = time.perf_counter() - started
    schema = loaded.schema
    expected = _statements(sql)
    assert {
        "tables": len(schema.tables),
        "enums": len(schema.enums),
        "indexes": sum(len(t.indexes) for t in schema.tables),
        "primary_keys": sum(t.primary_key is not None for t in schema.tables),
        "foreign_keys": sum(len(t.foreign_keys) for t in schema.tables),
    } == expected
    assert loaded.warnings == ()
    assert len(queries) < 30 and elapsed < 10
    # Prisma creates UNIQUE indexes, never constraints
    assert not any(i.constraint for t in schema.tables for i in t.indexes)
    columns = [(t.name, c) for t in schema.tables for c in t.columns]
    for table, c in columns:
        assert "::" not in (c.default or ""), (table, c)
        assert not re.search(r"character varying|without time zone|int4|int8|float8|bool\b",
                             c.type), (table, c)
    assert {c.type for _, c in columns} >= {"text", "timestamp(3)", "jsonb", "integer", "boolean"}
    types = [c.type for _, c in columns]
    assert types.count("timestamp(3)") == len(re.findall(r'" TIMESTAMP\(3\)', sql))
    now = len(re.findall(r"TIMESTAMP\(3\)(?: NOT NULL)? DEFAULT CURRENT_TIMESTAMP", sql))
    assert sum(c.default == "CURRENT_TIMESTAMP" for _, c in columns) == now
    enum_keys = {e.name for e in schema.enums}
    enum_columns = [c for _, c in columns if c.enum]
    assert enum_columns and all(c.enum in enum_keys for c in enum_columns)
    found = 0
    for block in re.finditer(r'^CREATE TABLE "(\w+)" \((.*?)^\);', sql, re.M | re.S):
        for column in re.findall(r'"(\w+)" (?:BIG|SMALL)?SERIAL', block.group(2)):
            c = schema.table(block.group(1)).column(column)
            assert c.autoincrement == "sequence" and c.default is None and not c.nullable
            found += 1
    assert found == serials


# --------------------------------------------------------------------------- MySQL / MariaDB

MYSQL_FEATURES = [
    """CREATE TABLE `user` (
        `ünï` int NOT NULL AUTO_INCREMENT PRIMARY KEY,
        `with space` text,
        st enum('a','b''c') NOT NULL DEFAULT 'a',
        doc json,
        t varchar(10) COLLATE utf8mb4_bin,
        ts datetime(3) DEFAULT current_timestamp(3),
        n decimal(10,2) DEFAULT -1.5,
        cc varchar(20) CHECK (cc <> ''),
        gen int AS (n * 2) STORED,
        CONSTRAINT named_chk CHECK (n < 100),
        UNIQUE (t),
        KEY prefix_ix (`with space`(10)),
        KEY desc_ix (ts DESC, n),
        FULLTEXT KEY ft (cc)
    ) COMMENT 'users'""",
    """CREATE TABLE child (id int PRIMARY KEY, uid int,
        FOREIGN KEY (uid) REFERENCES `user`(`ünï`) ON DELETE CASCADE)""",
    "CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY)",
    "CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW SET NEW.id = NEW.id",
    "CREATE TABLE events (id int, at date) PARTITION BY HASH (id) PARTITIONS 2",
    "CREATE VIEW child_ids AS SELECT id FROM child",
]


def test_mysql_reflection(mysql_url: str) -> None:
    engine = sa.create_engine(parse_database_url(mysql_url).url)
    with engine.begin() as c:
        for stmt in MYSQL_FEATURES:
            c.exec_driver_sql(stmt)
    engine.dispose()
    loaded = load_database(mysql_url)
    schema = loaded.schema
    assert [t.name for t in schema.tables] == ["child", "events", "user"]
    user = schema.table("user")
    assert user.primary_key == PrimaryKey(None, ("ünï",))
    assert user.column("ünï").autoincrement == "auto_increment"
    assert user.column("st").type == "enum('a','b''c')" and user.column("st").default == "'a'"
    assert user.column("doc").type == "json" and user.column("doc").collation is None
    assert user.column("t").collation == "utf8mb4_bin"
    assert user.column("n").default == "-1.5"
    assert user.column("ts").type == "datetime(3)" and user.column("ts").default == "CURRENT_TIMESTAMP"
    assert user.column("gen").generated is not None
    assert user.comment == "users"
    assert [c.name for c in user.checks] == ["cc", "named_chk"]  # no json_valid check for `doc`
    assert user.index("prefix_ix").parts == (IndexPart(column="with space", length=10),)
    assert user.index("desc_ix").parts == (IndexPart(column="ts", descending=True), IndexPart(column="n"))
    assert user.index("ft").method == "fulltext"
    assert user.index("t").unique
    child = schema.table("child")
    assert child.foreign_keys[0].name == "child_ibfk_1"
    assert child.foreign_keys[0].on_delete == "CASCADE"
    assert child.foreign_keys[0].on_update == "RESTRICT"
    assert child.index("uid").parts == (IndexPart(column="uid"),)  # InnoDB's implicit index
    assert [v.name for v in schema.views] == ["child_ids"]
    text = "\n".join(map(str, loaded.warnings))
    assert "trigger child_touch on child" in text
    assert "table events is partitioned" in text


# --------------------------------------------------------------------------- SQLite

SQLITE_FEATURES = """
CREATE TABLE "user" ("we""ird, col" int, "ünï" integer PRIMARY KEY AUTOINCREMENT,
    n numeric(10,2) DEFAULT -1.5 CHECK (n > -100), ts datetime DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT named_chk CHECK (n < 100), CONSTRAINT "uq ""n"" x" UNIQUE (n, ts));
CREATE TABLE child (id integer CONSTRAINT "pk child" PRIMARY KEY, uid int REFERENCES "user"("ünï")
    ON DELETE CASCADE, a int, b int,
    CONSTRAINT fk_c FOREIGN KEY (a, b) REFERENCES "user"(n, ts) ON UPDATE SET NULL
    DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "idx sp" ON child (uid DESC, a);
CREATE UNIQUE INDEX uix ON child (lower(b)) WHERE a > 0;
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
CREATE TABLE kv (k text PRIMARY KEY, v text) WITHOUT ROWID;
CREATE TRIGGER child_touch AFTER UPDATE ON child BEGIN SELECT 1; END;
CREATE VIEW v AS SELECT 1 AS one;
"""


def test_sqlite_reflection(sqlite_url: str) -> None:
    run_sql(sqlite_url, SQLITE_FEATURES)
    loaded = load_database(sqlite_url)
    schema = loaded.schema
    assert [t.name for t in schema.tables] == ["child", "kv", "user"]
    user, child = schema.table("user"), schema.table("child")
    assert user.column("ünï").autoincrement == "autoincrement"
    assert user.column("we\"ird, col").type == "int"
    assert user.column("n").type == "numeric(10,2)" and user.column("n").default == "-1.5"
    assert user.index('uq "n" x') == Index(name='uq "n" x', parts=(IndexPart("n"), IndexPart("ts")),
                                        unique=True, constraint=True)
    assert [c.name for c in user.checks] == [None, "named_chk"]  # finalize_schema: sorted by name
    assert child.primary_key == PrimaryKey("pk child", ("id",))
    assert child.index("idx sp").parts == (IndexPart("uid", descending=True), IndexPart("a"))
    uix = child.index("uix")
    assert uix.parts == (IndexPart(expression="LOWER(b)"),) and uix.where == "a > 0" and uix.unique
    fks = {fk.name: fk for fk in child.foreign_keys}
    assert fks[None].on_delete == "CASCADE" and fks[None].ref_columns == ("ünï",)
    assert fks["fk_c"].on_update == "SET NULL" and fks["fk_c"].initially_deferred
    assert [v.definition for v in schema.views] == ["SELECT 1 AS one"]
    text = "\n".join(map(str, loaded.warnings))
    assert "trigger child_touch on child" in text and "table kv: WITHOUT ROWID" in text
    assert loaded.source == sqlite_url and loaded.kind == "database"


def test_sqlite_path_with_uri_special_characters(tmp_path: Path) -> None:
    folder = tmp_path / "a b#c?d%e"
    folder.mkdir()
    url = f"sqlite:///{folder / 'x.db'}"
    run_sql(url, "CREATE TABLE t (id integer PRIMARY KEY);")
    assert [t.name for t in load_database(url).schema.tables] == ["t"]


def test_postgresql_url_reflects_only_the_other_sides_schema(pg_url: str, tmp_path: Path, caplog) -> None:
    """Issue 16: a live PostgreSQL URL without ?schema= compared with a source that has one
    schema reflects only that schema (Supabase-style `auth`/`storage` schemas are not reported
    as dropped tables); --verbose says so; ?schema= still wins; a two-schema source sees all."""
    import logging
    import subprocess

    from typer.testing import CliRunner

    from planner.cli import app
    from planner.load import load_pair, single_schema

    run_sql(pg_url, 'CREATE SCHEMA auth; CREATE TABLE auth.users (id integer PRIMARY KEY);'
                    'CREATE TYPE auth.factor AS ENUM (\'totp\');'
                    'CREATE TABLE "Post" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL, '
                    'CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));')
    prisma = tmp_path / "schema.prisma"
    prisma.write_text('datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n\n'
                      'model Post {\n  id    Int    @id @default(autoincrement())\n  title String\n}\n')
    with caplog.at_level(logging.INFO, logger="planner.load.database"):
        old, new = load_pair(pg_url, str(prisma))
    assert [(t.schema, t.name) for t in old.schema.tables] == [(None, "Post")] and not old.schema.enums
    assert single_schema(new.schema) == "public"
    assert "reflecting only schema public" in caplog.text and "skipped: auth" in caplog.text
    result = CliRunner().invoke(app, ["diff", pg_url, str(prisma)])
    assert result.exit_code == 0 and "No changes" in result.output, result.output
    run = subprocess.run([sys.executable, "-m", "planner", "--verbose", "diff", pg_url, str(prisma)],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 0 and "No changes" in run.stdout, run.stderr
    assert "reflecting only schema public" in run.stderr and "skipped: auth" in run.stderr, run.stderr
    # the same in the other direction, and from SQL text in the URL's dialect
    sql = tmp_path / "new.sql"
    sql.write_text('CREATE TABLE "Post" ("id" SERIAL NOT NULL, "title" TEXT NOT NULL, "body" TEXT, '
                   'CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));\n')
    old, new = load_pair(pg_url, str(sql))
    assert [t.name for t in old.schema.tables] == ["Post"] and new.schema.dialect == "postgresql"
    # a source with two schemas: every schema is reflected
    two = tmp_path / "two.sql"
    two.write_text(sql.read_text() + "CREATE SCHEMA auth;\nCREATE TABLE auth.users (id integer PRIMARY KEY);\n")
    old, _ = load_pair(pg_url, str(two))
    assert sorted((t.schema or "", t.name) for t in old.schema.tables) == [("", "Post"), ("auth", "users")]
    # a source whose one schema is not the default: only that one, still named
    auth = tmp_path / "auth.sql"
    auth.write_text("CREATE SCHEMA auth;\nCREATE TABLE auth.users (id integer PRIMARY KEY);\n")
    _, old = load_pair(str(auth), pg_url)
    assert [(t.schema, t.name) for t in old.schema.tables] == [("auth", "users")]
    assert [(e.schema, e.name) for e in old.schema.enums] == [("auth", "factor")]
    # ?schema= in the URL wins
    old, _ = load_pair(pg_url + "?schema=auth", str(prisma))
    assert [(t.schema, t.name) for t in old.schema.tables] == [(None, "users")]
    # a schema the database lacks: every schema, as before
    other = tmp_path / "other.sql"
    other.write_text("CREATE SCHEMA billing;\nCREATE TABLE billing.x (id integer PRIMARY KEY);\n")
    _, db = load_pair(str(other), pg_url)
    assert sorted((t.schema or "", t.name) for t in db.schema.tables) == [("", "Post"), ("auth", "users")]


MY_ON_UPDATE = """CREATE TABLE t (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  a datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  b timestamp NULL DEFAULT now() ON UPDATE now(),
  c datetime DEFAULT NULL ON UPDATE current_timestamp(),
  d datetime NOT NULL DEFAULT '2000-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP,
  e datetime NULL DEFAULT CURRENT_TIMESTAMP
);
"""


def test_mysql_on_update_current_timestamp_is_read_from_ddl_database_and_models(mysql_url: str) -> None:
    """Issue 16: ON UPDATE CURRENT_TIMESTAMP is modelled by every source that can state it, the
    same way: the DDL, the database built from it (also after a quoted default, where
    SQLAlchemy's reflection drops the clause) and SQLAlchemy models."""
    from planner.diff import diff
    from planner.load.ddl import load_sql_text
    from planner.load.sqla import _Converter

    ddl = load_sql_text(MY_ON_UPDATE, dialect="mysql").schema
    want = {"a": "CURRENT_TIMESTAMP", "b": "CURRENT_TIMESTAMP", "c": "CURRENT_TIMESTAMP", "d": "CURRENT_TIMESTAMP",
            "e": None, "id": None}
    assert {c.name: c.on_update for c in ddl.tables[0].columns} == want
    assert ddl.tables[0].column("d").default == "'2000-01-01 00:00:00'"
    run_sql(mysql_url, MY_ON_UPDATE)
    db = load_database(mysql_url).schema
    assert {c.name: c.on_update for c in db.tables[0].columns} == want
    assert diff(ddl, db).changes == ()
    md = sa.MetaData()
    sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("a", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")),
             sa.Column("e", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP")))
    models = _Converter(md, "mysql", "models:md").schema()
    assert [(c.name, c.default, c.on_update) for c in models.tables[0].columns] == [
        ("id", None, None), ("a", "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"), ("e", "CURRENT_TIMESTAMP", None)]


NEGATIVE_CHECKS = """CREATE TABLE m (id int PRIMARY KEY, h int CHECK (h > -5),
  x numeric(6,2) CONSTRAINT x_range CHECK (x >= -1.5 AND x <= 10), f double precision CHECK (f > -1e3),
  b bigint CHECK (b <> -7), s smallint CHECK (s >= -3 AND s <= +3), t text CHECK (t <> '-5'),
  w int CHECK (w BETWEEN -3 AND 3), v int CHECK (id > 0 AND v NOT BETWEEN 1 AND 5),
  u int CHECK (u BETWEEN SYMMETRIC 1 AND 5));
CREATE INDEX m_w ON m (w) WHERE w NOT BETWEEN -1 AND 1;
"""


def test_postgresql_negative_numbers_in_checks_compare_equal_to_the_file(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL stores `h > -5` as `(h > '-5'::integer)` and `f > -1e3` as
    `(f > ('-1000'::numeric)::double precision)`: the database and the SQL file that created it
    are the same schema (a text '-5' stays text). BETWEEN is stored as two comparisons (NOT
    BETWEEN as `<` OR `>`, SYMMETRIC as both orders): one spelling too."""
    from typer.testing import CliRunner

    from planner.cli import app

    run_sql(pg_url, NEGATIVE_CHECKS)
    stored = {c.expression for t in load_database(pg_url).schema.tables for c in t.checks}
    assert "h > -5" in stored and "f > -1000" in stored and "t <> '-5'" in stored, stored
    (tmp_path / "m.sql").write_text(NEGATIVE_CHECKS)
    r = CliRunner().invoke(app, ["diff", str(tmp_path / "m.sql"), pg_url, "--dialect", "postgresql", "--no-config"])
    assert r.exit_code == 0, r.output
    assert "No changes: the schemas are equivalent." in r.output, r.output


ON_UPDATE_TIMESTAMPS = """CREATE TABLE e (id int PRIMARY KEY,
  a TIMESTAMP NOT NULL ON UPDATE CURRENT_TIMESTAMP, a3 TIMESTAMP(3) NOT NULL ON UPDATE CURRENT_TIMESTAMP(3),
  d DATETIME NOT NULL ON UPDATE CURRENT_TIMESTAMP,{b}
  c TIMESTAMP NULL ON UPDATE CURRENT_TIMESTAMP, k TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00' ON UPDATE
  CURRENT_TIMESTAMP);
"""


@pytest.mark.parametrize("explicit", [1, 0])
def test_mariadb_on_update_timestamps_without_a_default_compare_equal_to_the_file(
        mysql_url: str, tmp_path: Path, explicit: int) -> None:
    """MariaDB gives `a TIMESTAMP NOT NULL ON UPDATE CURRENT_TIMESTAMP` (and DATETIME, any
    precision) the implicit default '0000-00-00 00:00:00', under either
    explicit_defaults_for_timestamp: that is the column the file declares, not an alter_default;
    a default the file states stays. (The legacy mode's zero default of a plain `b TIMESTAMP NOT
    NULL` is not recognised: the mode the table was created under is not known.)"""
    sql = ON_UPDATE_TIMESTAMPS.format(b=" b TIMESTAMP NOT NULL," if explicit else "")
    from typer.testing import CliRunner

    from planner.cli import app

    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:
        if not engine.dialect.is_mariadb:
            pytest.skip("MariaDB's implicit default")
        c.exec_driver_sql(f"SET SESSION explicit_defaults_for_timestamp = {explicit}")
        c.exec_driver_sql(sql)
        created = c.exec_driver_sql("SHOW CREATE TABLE e").fetchone()[1]
    engine.dispose()
    assert "`a` timestamp NOT NULL DEFAULT '0000-00-00 00:00:00' ON UPDATE" in created, created
    cols = {c.name: c for c in load_database(mysql_url).schema.tables[0].columns}
    assert [cols[n].default for n in ("a", "a3", "d")] == [None, None, None]
    assert cols["k"].default == "'2000-01-01 00:00:00'" and cols["a"].on_update == "CURRENT_TIMESTAMP"
    (tmp_path / "e.sql").write_text(sql)
    r = CliRunner().invoke(app, ["diff", str(tmp_path / "e.sql"), mysql_url, "--dialect", "mysql", "--no-config"])
    assert r.exit_code == 0, r.output
    assert "No changes: the schemas are equivalent." in r.output, r.output


PRECEDENCE = """CREATE TABLE p (id int PRIMARY KEY, a int, b int, c int, d boolean, e boolean,
  CONSTRAINT pc CHECK ((a + b) * c > 0 AND (a = 1 OR b = 2) AND c - (a - b) > 0),
  CONSTRAINT pn CHECK (NOT (d AND e)), CONSTRAINT pq CHECK ((a IS NULL) = (b IS NULL)));
CREATE INDEX pi ON p (a) WHERE NOT (d OR e);
"""


@pytest.mark.parametrize(("text", "canonical"), [
    ("(a OR b) AND c", "(a OR b) AND c"), ("a OR (b AND c)", "a OR b AND c"), ("(a + b) * c", "(a + b) * c"),
    ("a - (b - c)", "a - (b - c)"), ("(a - b) - c", "a - b - c"), ("NOT (d AND e)", "NOT (d AND e)"),
    ("((a > 0) AND (b > 0)) OR (c > 0)", "a > 0 AND b > 0 OR c > 0"), ("-(a + b)", "-(a + b)"),
    ("((a IS NULL) = (b IS NULL))", "(a IS NULL) = (b IS NULL)"), ("(a || b)[1]", "(a || b)[1]"),
])
def test_parentheses_that_change_the_meaning_are_kept(text: str, canonical: str) -> None:
    from planner.normalize import normalize_expression

    assert normalize_expression(text, "postgresql") == canonical


def test_postgresql_checks_keep_their_meaning_and_match_the_database(pg_url: str, tmp_path: Path) -> None:
    """`(a OR b) AND c` is not `a OR b AND c`: the parentheses survive normalisation (they were
    dropped, so two different CHECKs compared equal and the plan wrote a different CHECK), and
    the database's spelling still compares equal to the file's."""
    from typer.testing import CliRunner

    from planner.cli import app

    run_sql(pg_url, PRECEDENCE)
    (tmp_path / "p.sql").write_text(PRECEDENCE)
    r = CliRunner().invoke(app, ["diff", str(tmp_path / "p.sql"), pg_url, "--dialect", "postgresql", "--no-config"])
    assert r.exit_code == 0 and "No changes: the schemas are equivalent." in r.output, r.output
    (tmp_path / "q.sql").write_text(PRECEDENCE.replace("(a = 1 OR b = 2)", "a = 1 OR b = 2"))
    r = CliRunner().invoke(app, ["diff", str(tmp_path / "p.sql"), str(tmp_path / "q.sql"), "--dialect", "postgresql",
                                 "--no-config"])
    assert "drop_check pc  CHECK ((a + b) * c > 0 AND (a = 1 OR b = 2) AND c - (a - b) > 0)" in r.output, r.output
    assert "add_check  pc  CHECK ((a + b) * c > 0 AND a = 1 OR b = 2 AND c - (a - b) > 0)" in r.output, r.output
    (tmp_path / "empty.sql").write_text("CREATE TABLE p (id int PRIMARY KEY, a int, b int, c int, d boolean, "
                                        "e boolean);\n")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "empty.sql"), str(tmp_path / "p.sql"), "--dialect",
                                 "postgresql", "--no-config", "--init", str(tmp_path / "proj"), "-q"])
    assert r.exit_code == 0, r.output
    code = "\n".join(f.read_text() for f in (tmp_path / "proj" / "migrations" / "versions").glob("*.py"))
    assert 'CHECK (("a" + "b") * "c" > 0 AND ("a" = 1 OR "b" = 2) AND "c" - ("a" - "b") > 0)' in code, code
    assert 'CHECK (NOT ("d" AND "e"))' in code and "postgresql_where=sa.text('NOT (\"d\" OR \"e\")')" in code, code
