"""SQLAlchemy-models loader, and its key property: `create_all()` on a real server, reflected by
the database loader, gives exactly the schema the models describe."""

from __future__ import annotations

import importlib
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from planner.errors import SourceError
from planner.load.database import load_database, parse_database_url
from planner.load.sqla import load_sqlalchemy
from planner.model import Check, Index, IndexPart, PrimaryKey, Schema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = "tests.fixtures_sqla"
#: modules tests write to tmp_path and import; forgotten afterwards
TEMPORARY_MODULES = ("myapp", "myapp.models", "anon_enum")


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(ROOT)  # the loader imports from the working directory
    monkeypatch.setattr(sys, "path", sys.path[:])
    yield
    for name in TEMPORARY_MODULES:
        sys.modules.pop(name, None)


def differences(a: Schema, b: Schema) -> list[str]:
    """What differs between two schemas, object by object (for readable failures)."""
    out = []
    if a.enums != b.enums:
        out.append(f"enums: {a.enums} != {b.enums}")
    ta = {(t.schema, t.name): t for t in a.tables}
    tb = {(t.schema, t.name): t for t in b.tables}
    out += [f"only in database: table {k}" for k in ta.keys() - tb.keys()]
    out += [f"only in models: table {k}" for k in tb.keys() - ta.keys()]
    for key in ta.keys() & tb.keys():
        for attr in ("columns", "primary_key", "indexes", "foreign_keys", "checks", "comment"):
            va, vb = getattr(ta[key], attr), getattr(tb[key], attr)
            if va == vb:
                continue
            if isinstance(va, tuple):
                out += [f"{key} {attr} database: {x}" for x in va if x not in vb]
                out += [f"{key} {attr} models:   {x}" for x in vb if x not in va]
            else:
                out.append(f"{key} {attr}: database {va} != models {vb}")
    if not out and a != b:
        out.append("schemas differ in order")
    return out


def create_all(url: str, module: str, attr: str) -> sa.MetaData:
    found = getattr(importlib.import_module(f"{FIXTURES}.{module}"), attr)
    metadata = getattr(found, "metadata", found)
    engine = sa.create_engine(parse_database_url(url).url)
    try:
        with engine.begin() as conn:
            for schema in getattr(importlib.import_module(f"{FIXTURES}.{module}"), "SCHEMAS", ()):
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        metadata.create_all(engine)
    finally:
        engine.dispose()
    return metadata


def assert_round_trip(url: str, module: str, attr: str, dialect: str) -> Schema:
    create_all(url, module, attr)
    from_db = load_database(url)
    from_models = load_sqlalchemy(f"{FIXTURES}.{module}:{attr}", dialect=dialect)
    assert from_db.warnings == () and from_models.warnings == ()
    assert differences(from_db.schema, from_models.schema) == []
    assert from_db.schema == from_models.schema
    return from_models.schema


def register(monkeypatch: pytest.MonkeyPatch, metadata: sa.MetaData) -> str:
    """Make `metadata` importable as `planner_test_models:metadata`."""
    module = types.ModuleType("planner_test_models")
    module.metadata = metadata
    monkeypatch.setitem(sys.modules, "planner_test_models", module)
    return "planner_test_models:metadata"


# --------------------------------------------------------------------------- round trips

def test_round_trip_postgresql(pg_url: str) -> None:
    schema = assert_round_trip(pg_url, "pg_models", "metadata", "postgresql")
    # the comparison above is not vacuous: spot-check what it covered
    assert [(e.schema, e.name) for e in schema.enums] == [
        (None, "Role"), (None, "account_status"), ("audit", "audit_kind")]
    accounts = schema.table("accounts")
    assert accounts.column("id").autoincrement == "identity_always"
    assert accounts.column("roles").type == "Role[]" and accounts.column("roles").enum == "Role"
    assert accounts.column("public_id").default_volatile
    assert accounts.column("code").collation == "C"
    assert accounts.column("delta").default == "-1"
    assert accounts.index("accounts_login_desc").parts == (
        IndexPart(column="login_at", descending=True, nulls_first=False),)
    assert accounts.index("accounts_email_lower_idx").parts == (IndexPart(expression="LOWER(email)"),)
    assert accounts.index("accounts_active_email_idx").where == "status = 'active'"
    assert accounts.index("accounts_org_email_uq").constraint
    assert not accounts.index("accounts_code_uq").constraint
    assert {c.name for c in accounts.checks} == {
        "accounts_balance_nonneg", "accounts_check", "accounts_legacy_id_check"}
    assert schema.table("orgs").column("id").autoincrement == "sequence"
    assert schema.table("flags").column("id").autoincrement == "sequence"
    assert {c.name for c in schema.table("flags").checks} == {"flag_level", "flags_shade_check"}
    assert schema.table("orgs").index("orgs_slug_key").unique
    lines = schema.table("invoice_lines").foreign_keys[0]
    assert lines.match_full and lines.on_update == "SET NULL" and len(lines.columns) == 2
    assert schema.table("audit.audit_log").column("kind").enum == "audit.audit_kind"


def test_round_trip_mysql(mysql_url: str) -> None:
    schema = assert_round_trip(mysql_url, "mysql_models", "metadata", "mysql")
    accounts = schema.table("accounts")
    assert accounts.primary_key == PrimaryKey(None, ("id",))
    assert accounts.column("id").autoincrement == "auto_increment"
    assert accounts.column("status").type == "enum('active','paused','closed')"
    assert accounts.column("data").type == "json"
    assert accounts.index("accounts_bio_prefix").parts == (IndexPart(column="bio", length=20),)
    assert accounts.index("accounts_bio_ft").method == "fulltext"
    assert accounts.index("accounts_seen_desc").parts[0].descending
    assert schema.table("orgs").index("slug").unique  # MySQL names an unnamed key by its column
    memberships = schema.table("memberships")
    assert {fk.name for fk in memberships.foreign_keys} == {
        "memberships_ibfk_1", "memberships_ibfk_2", "memberships_inviter_fk"}
    # InnoDB's own indexes for foreign keys no index covers
    assert {i.name for i in memberships.indexes} == {"account_id", "memberships_inviter_fk"}
    assert {i.name for i in schema.table("invoice_lines").indexes} == {
        "ix_invoice_lines_account_id", "org_id"}


def test_round_trip_mysql_expressions(mysql_url: str) -> None:
    assert_round_trip(mysql_url, "mysql_models", "expressions", "mysql")


def test_mysql_default_check_names(mysql_url: str) -> None:
    create_all(mysql_url, "mysql_models", "expressions")
    from_db = load_database(mysql_url).schema.table("ledger")
    from_models = load_sqlalchemy(f"{FIXTURES}.mysql_models:expressions", dialect="mysql").schema
    names = [c.name for c in from_models.table("ledger").checks]
    assert names == ["CONSTRAINT_1", "CONSTRAINT_2", "amount", "ledger_amount_floor", "ledger_kind"]
    assert [c.name for c in from_db.checks] == names


def test_round_trip_sqlite(sqlite_url: str) -> None:
    schema = assert_round_trip(sqlite_url, "sqlite_models", "metadata", "sqlite")
    accounts = schema.table("accounts")
    assert accounts.column("id").autoincrement == "autoincrement"
    assert schema.table("orgs").column("id").autoincrement is None
    assert accounts.index("accounts_active_email_idx").where == "status = 'active'"
    assert accounts.index("accounts_seen_desc").parts[0].descending
    assert Check("account_status", "status IN ('active', 'paused')") in accounts.checks
    assert accounts.column("nickname").collation == "NOCASE"
    assert schema.table("invoice_lines").foreign_keys[0].initially_deferred


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_round_trip_hostile_names(dialect: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue({"postgresql": "pg_url", "mysql": "mysql_url",
                                   "sqlite": "sqlite_url"}[dialect])
    attr = "metadata_no_checks" if dialect == "mysql" else "metadata"
    schema = assert_round_trip(url, "hostile", attr, dialect)
    user, order = schema.table("user"), schema.table("order")
    assert user.column("back`tick") and user.column("ünïcödé") and user.column('quote"d')
    assert user.index('uq "user" mixed').columns == ("Mixed Case", 'quote"d')
    assert order.foreign_keys[0].name == 'fk "order" user'
    assert order.index("idx with space").parts[1] == IndexPart(column="ünï", descending=True)
    assert schema.table('we"ird table').foreign_keys[0].ref_table == "order"


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_round_trip_naming_convention(dialect: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url" if dialect == "postgresql" else "sqlite_url")
    schema = assert_round_trip(url, "declarative", "Base", dialect)
    players = schema.table("players")
    assert {i.name for i in players.indexes} == {"ix_players_email", "uq_players_team_id_email"}
    assert players.foreign_keys[0].name == "fk_players_team_id_teams"
    assert players.checks[0].name == "ck_players_score_positive"
    assert players.column("nickname").default is None  # Python-side default: not in the database
    if dialect == "postgresql":
        assert players.primary_key == PrimaryKey("pk_players", ("id",))


def test_postgresql_default_names_are_numbered_like_postgresql(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = sa.MetaData()
    sa.Table("a", metadata, sa.Column("b_c", sa.Integer, unique=True),
             sa.Column("x", sa.Integer, sa.CheckConstraint("x > 0")))
    sa.Table("a_b", metadata, sa.Column("c", sa.Integer, unique=True),
             sa.Column("x", sa.Integer), sa.CheckConstraint("x > 0"),
             sa.CheckConstraint("x < 10"), sa.CheckConstraint("x <> 5 AND c > 0"))
    sa.Table("a_x", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("y", sa.Integer), sa.CheckConstraint("y > 0"))
    engine = sa.create_engine(parse_database_url(pg_url).url)
    metadata.create_all(engine)
    engine.dispose()
    from_models = load_sqlalchemy(register(monkeypatch, metadata), dialect="postgresql").schema
    assert differences(load_database(pg_url).schema, from_models) == []
    assert {i.name for i in from_models.table("a_b").indexes} == {"a_b_c_key1"}
    assert [c.name for c in from_models.table("a_b").checks] == [
        "a_b_check", "a_b_x_check", "a_b_x_check1"]


# --------------------------------------------------------------------------- spec forms and errors

@pytest.mark.parametrize("attr", ["Base", "Base.metadata", "get_base"])
def test_spec_may_name_metadata_base_or_callable(attr: str) -> None:
    loaded = load_sqlalchemy(f"{FIXTURES}.declarative:{attr}", dialect=None)
    assert loaded.kind == "sqlalchemy" and loaded.source == f"{FIXTURES}.declarative:{attr}"
    assert loaded.schema.dialect == "postgresql"  # the default
    assert loaded.schema == load_sqlalchemy(f"{FIXTURES}.declarative:Base", dialect="postgresql").schema
    assert not loaded.schema.has_views


def test_module_is_imported_from_the_working_directory(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "myapp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
        """))
    monkeypatch.chdir(tmp_path)
    schema = load_sqlalchemy("myapp.models:metadata", dialect="sqlite").schema
    assert [t.name for t in schema.tables] == ["t"]
    assert schema.tables[0].primary_key == PrimaryKey(None, ("id",))
    assert not schema.has_comments


@pytest.mark.parametrize("spec, message", [
    ("no_such_package.models:metadata", "no module named 'no_such_package'"),
    (f"{FIXTURES}.pg_models:nope", "has no attribute 'nope'"),
    (f"{FIXTURES}.pg_models:SCHEMAS", "is a tuple, not SQLAlchemy MetaData"),
    (f"{FIXTURES}.broken:metadata", "importing tests.fixtures_sqla.broken failed: RuntimeError"),
    (f"{FIXTURES}.pg_models", "expected package.module:attr"),
])
def test_import_errors_are_one_clear_line(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match="^") as info:
        load_sqlalchemy(spec, dialect="postgresql")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_model_the_dialect_cannot_create_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="players: cannot compile: VARCHAR requires a length"):
        load_sqlalchemy(f"{FIXTURES}.declarative:Base", dialect="mysql")


def test_unnamed_postgresql_enum_is_a_source_error(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "anon_enum.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        metadata = sa.MetaData()
        sa.Table("t", metadata, sa.Column("e", sa.Enum("a", "b")))
        """))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match="table t: cannot compile"):
        load_sqlalchemy("anon_enum:metadata", dialect="postgresql")
    assert load_sqlalchemy("anon_enum:metadata", dialect="mysql").schema.tables[0].columns[0].type \
        == "enum('a','b')"


@pytest.mark.parametrize("dialect, make, expected", [
    ("postgresql", lambda: sa.Column("id", sa.Integer, primary_key=True), "sequence"),
    ("postgresql", lambda: sa.Column("id", sa.BigInteger, primary_key=True), "sequence"),
    ("postgresql", lambda: sa.Column("id", sa.Integer, primary_key=True, autoincrement=False), None),
    ("postgresql", lambda: sa.Column("id", sa.Integer, sa.Identity(), primary_key=True), "identity"),
    ("postgresql", lambda: sa.Column("id", sa.Integer, sa.Sequence("s"), primary_key=True), None),
    ("postgresql", lambda: sa.Column("id", sa.String(10), primary_key=True), None),
    ("mysql", lambda: sa.Column("id", sa.Integer, primary_key=True), "auto_increment"),
    ("mysql", lambda: sa.Column("id", sa.Integer, primary_key=True, server_default="1"), None),
    ("sqlite", lambda: sa.Column("id", sa.Integer, primary_key=True), None),
])
def test_autoincrement_as_the_dialect_creates_it(dialect: str, make, expected: str | None,  # noqa: ANN001
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = sa.MetaData()
    sa.Table("t", metadata, make())
    column = load_sqlalchemy(register(monkeypatch, metadata), dialect=dialect).schema.tables[0].columns[0]
    assert column.autoincrement == expected
    assert not column.nullable


def test_sqlite_autoincrement_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), sqlite_autoincrement=True)
    table = load_sqlalchemy(register(monkeypatch, metadata), dialect="sqlite").schema.tables[0]
    assert table.columns[0].autoincrement == "autoincrement"


def test_python_side_defaults_are_ignored_and_server_defaults_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("a", sa.Integer, default=5),
             sa.Column("b", sa.String(5), server_default="x"),
             sa.Column("c", sa.DateTime, server_default=sa.func.now(), onupdate=sa.func.now()),
             sa.Column("d", sa.Integer, server_default=sa.FetchedValue()))
    columns = load_sqlalchemy(register(monkeypatch, metadata), dialect="postgresql").schema.tables[0].columns
    assert [c.default for c in columns] == [None, "'x'", "CURRENT_TIMESTAMP", None]


def test_load_source_dispatches_to_both_loaders(pg_url: str) -> None:
    from planner.load import load_source

    assert load_source(f"{FIXTURES}.declarative:Base").kind == "sqlalchemy"
    assert load_source(pg_url).kind == "database"


def test_unique_constraint_and_unique_index_are_kept_apart() -> None:
    accounts = load_sqlalchemy(f"{FIXTURES}.pg_models:metadata", dialect="postgresql") \
        .schema.table("accounts")
    assert accounts.index("accounts_org_email_uq") == Index(
        name="accounts_org_email_uq", parts=(IndexPart("org_id"), IndexPart("email")), unique=True,
        constraint=True)
    assert accounts.index("accounts_code_uq").constraint is False
