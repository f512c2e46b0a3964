"""Issue 15: a JSON Schema shipped for every `--format json` output, checked against the real
output of every command (static, and with --db on PostgreSQL, MySQL/MariaDB and SQLite)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from typer.testing import CliRunner

from planner.changes import Kind
from planner.checks import CheckKind
from planner.cli import app
from planner.model import DIALECTS
from planner.render import LEVELS
from planner.render.json_report import SCHEMAS, json_schema, schema_path
from planner.render.rules_doc import FAMILIES

from .conftest import SAMPLES, run_sql
from .test_checks_cli import CENTURION_DATA, CENTURION_OLD_DDL

CENTURION = SAMPLES / "centurion-money-enum-unique"
runner = CliRunner()


def _validator(name: str) -> Draft202012Validator:
    schema = json_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(name: str, doc: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(name).iter_errors(doc)]


def _json(*args: str, code: int = 0) -> dict:
    r = runner.invoke(app, list(args))
    assert r.exit_code == code, r.output
    return json.loads(r.stdout)


def _valid(name: str, doc: dict) -> dict:
    assert _errors(name, doc) == []
    return doc


# --------------------------------------------------------------------------- the schemas themselves

@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_valid_and_its_file_resolves_the_common_part(name: str) -> None:
    as_installed = json_schema(name, bundled=False)
    Draft202012Validator.check_schema(as_installed)
    assert as_installed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # the installed files, as a user's validator loads them: common.schema.json from beside the file
    common = json.loads(schema_path("common").read_text())
    Draft202012Validator.check_schema(common)
    registry = Registry().with_resource(common["$id"], Resource.from_contents(common))
    doc = _json("rules", "-f", "json") if name == "rules" else None
    validator = Draft202012Validator(as_installed, registry=registry)
    if doc is not None:
        assert list(validator.iter_errors(doc)) == []
    assert list(validator.iter_errors({"schema_version": 2})), "a wrong document passes the installed file"
    bundled = json.dumps(json_schema(name))
    assert "common.schema.json" not in bundled  # self-contained: what `planner schema NAME` prints


def test_the_shared_enums_are_planners():
    defs = json.loads(schema_path("common").read_text())["$defs"]
    assert defs["change_kind"]["enum"] == [k.value for k in Kind]
    assert defs["check_kind"]["enum"] == [k.value for k in CheckKind]
    assert defs["level"]["enum"] == list(LEVELS)
    assert defs["dialect"]["enum"] == list(DIALECTS)
    rule = json_schema("rules")["$defs"]["rule"]["properties"]
    assert rule["family"]["enum"] == list(FAMILIES.values())


def test_schema_command_prints_the_bundled_schema():
    for name in SCHEMAS:
        assert _json("schema", name) == json_schema(name)
    r = runner.invoke(app, ["schema", "nope"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "diff" in r.output


def test_the_schemas_ship_in_the_package():
    import planner.render

    here = Path(planner.render.__file__).parent
    assert sorted(p.name for p in here.glob("*.schema.json")) == sorted(
        [f"{n}.schema.json" for n in (*SCHEMAS, "common")])


# --------------------------------------------------------------------------- strict enough to catch mistakes

def test_broken_documents_are_rejected():
    doc = _valid("diff", _json("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "json"))
    cases = {
        "unknown key": lambda d: d.update(extra=1),
        "unknown level": lambda d: d["changes"][0].update(level="severe"),
        "unknown change kind": lambda d: d["changes"][0].update(kind="drop_everything"),
        "missing finding key": lambda d: next(c for c in d["changes"] if c["findings"])["findings"][0].pop("help"),
        "bad rule code": lambda d: next(c for c in d["changes"] if c["findings"])["findings"][0].update(code="X1"),
        "wrong type": lambda d: d["summary"].update(changes="6"),
        "level not counted": lambda d: d["summary"]["by_level"].update(huge=1),
        "tool renamed": lambda d: d["tool"].update(name="other"),
        "reason without alternatives": lambda d: d["suggestions"][0].update(reason="x"),
    }
    for what, breaks in cases.items():
        broken = copy.deepcopy(doc)
        breaks(broken)
        assert _errors("diff", broken), what
    inspected = _valid("inspect", _json("inspect", str(CENTURION / "new.prisma"), "-f", "json"))
    broken = copy.deepcopy(inspected)
    broken["schema"]["tables"][0]["columns"][0]["autoincrement"] = "magic"
    del broken["schema"]["tables"][0]["indexes"]
    assert len(_errors("inspect", broken)) == 2
    rule = _valid("rules", _json("rules", "DS102", "-f", "json"))
    broken = copy.deepcopy(rule)
    broken["rules"].append(broken["rules"][0])  # one rule's page holds that rule alone
    assert _errors("rules", broken)


# --------------------------------------------------------------------------- diff

def test_diff_json_follows_its_schema(pg_url: str):
    old, new = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
    doc = _valid("diff", _json("diff", old, new, "-f", "json"))
    assert doc["suggestions"] and all(c["findings"] for c in doc["changes"] if c["level"] != "safe")
    _valid("diff", _json("diff", old, new, "--rename", "Role.COACH=INSTRUCTOR", "-f", "json"))
    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    run_sql(pg_url, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    doc = _valid("diff", _json("diff", old, new, "--db", pg_url, "-f", "json"))
    evidence = [f["evidence"] for c in doc["changes"] for f in c["findings"] if "evidence" in f]
    assert any(e["count"] > 0 and e["samples"] for e in evidence)


def test_diff_json_with_a_waiver_follows_its_schema(tmp_path: Path):
    (tmp_path / "planner.toml").write_text(
        '[[waivers]]\ncode = "DS103"\nobject = "*"\nreason = "the column is unused since 2024"\n')
    old, new = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
    doc = _valid("diff", _json("diff", old, new, "-f", "json", "--config", str(tmp_path / "planner.toml")))
    assert any(f.get("waived") for c in doc["changes"] for f in c["findings"])


# --------------------------------------------------------------------------- inspect

RICH_PG = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SCHEMA other;
CREATE TABLE people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(80) NOT NULL COLLATE "C",
    feeling mood DEFAULT 'ok',
    score numeric(6, 2) CHECK (score >= 0),
    tags text[],
    created timestamptz NOT NULL DEFAULT now(),
    upper_name text GENERATED ALWAYS AS (upper(name)) STORED,
    CONSTRAINT people_name_key UNIQUE (name)
);
COMMENT ON TABLE people IS 'who';
COMMENT ON COLUMN people.name IS 'what they are called';
CREATE TABLE other.pets (
    id serial PRIMARY KEY,
    owner bigint REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    name text
);
CREATE INDEX pets_lower_name ON other.pets (lower(name) DESC NULLS LAST) WHERE owner IS NOT NULL;
CREATE INDEX people_tags ON people USING gin (tags);
CREATE VIEW happy_people AS SELECT id, name FROM people WHERE feeling = 'happy';
CREATE MATERIALIZED VIEW scores AS SELECT id, score FROM people;
"""


def test_inspect_json_follows_its_schema_for_every_kind_of_source(pg_url: str, tmp_path: Path):
    run_sql(pg_url, RICH_PG)
    doc = _valid("inspect", _json("inspect", pg_url, "-f", "json"))
    schema = doc["schema"]
    assert schema["enums"] and {v["materialized"] for v in schema["views"]} == {True, False}
    tables = {t["name"]: t for t in schema["tables"]}
    assert tables["people"]["checks"] and tables["pets"]["foreign_keys"] and tables["pets"]["schema"] == "other"
    assert any(p["expression"] for i in tables["pets"]["indexes"] for p in i["parts"])
    assert {c["autoincrement"] for c in tables["people"]["columns"]} >= {"identity_always", None}
    for source in (CENTURION / "old.prisma", CENTURION / "new.prisma"):
        _valid("inspect", _json("inspect", str(source), "-f", "json"))
    (tmp_path / "s.sql").write_text(RICH_PG)
    _valid("inspect", _json("inspect", str(tmp_path / "s.sql"), "-f", "json"))


def test_inspect_json_follows_its_schema_on_mysql_and_sqlite(mysql_url: str, sqlite_url: str):
    run_sql(mysql_url, """
        CREATE TABLE people (id int AUTO_INCREMENT PRIMARY KEY, name varchar(80) NOT NULL,
            feeling enum('sad', 'ok', 'happy') DEFAULT 'ok', bio text, score int CHECK (score >= 0),
            updated timestamp DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
            UNIQUE KEY people_name (name), KEY people_bio (bio(20)), FULLTEXT KEY people_ft (bio));
        CREATE TABLE pets (id int PRIMARY KEY, owner int, FOREIGN KEY (owner) REFERENCES people (id) ON DELETE SET NULL);
        CREATE VIEW happy AS SELECT id FROM people WHERE feeling = 'happy';
    """)
    doc = _valid("inspect", _json("inspect", mysql_url, "-f", "json"))
    people = next(t for t in doc["schema"]["tables"] if t["name"] == "people")
    assert any(c["on_update"] for c in people["columns"]) and any(p["length"] for i in people["indexes"]
                                                                   for p in i["parts"])
    run_sql(sqlite_url, """
        CREATE TABLE people (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, score INTEGER CHECK (score >= 0));
        CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER REFERENCES people (id) ON DELETE CASCADE);
        CREATE INDEX pets_owner ON pets (owner) WHERE owner IS NOT NULL;
        CREATE VIEW named AS SELECT name FROM people;
    """)
    _valid("inspect", _json("inspect", sqlite_url, "-f", "json"))


# --------------------------------------------------------------------------- rules

def test_rules_json_follows_its_schema():
    listing = _valid("rules", _json("rules", "-f", "json"))
    assert len(listing["rules"]) > 20 and "markdown" not in listing
    assert any(r["dialects"] for r in listing["rules"]) and any(r["helps"] for r in listing["rules"])
    for code in ("DS102", "drop-column", "PG101"):
        one = _valid("rules", _json("rules", code, "-f", "json"))
        assert len(one["rules"]) == 1 and one["markdown"]


# --------------------------------------------------------------------------- check

def test_check_json_follows_its_schema_on_postgresql(pg_url: str):
    old, new = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    run_sql(pg_url, """INSERT INTO appointments ("userId", "startTime", "endTime", fee, updated_at)
                       VALUES (1, now(), now(), 12.345, now())""")  # rounded by numeric(10,2): informs
    passing = _valid("check", _json("check", old, new, "--db", pg_url, "-f", "json"))
    assert all(c["passed"] for c in passing["checks"] if c["blocking"])
    informative = [c for c in passing["checks"] if not c["blocking"] and not c["passed"]]
    assert informative and passing["summary"]["informative"] == len(informative)
    run_sql(pg_url, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    failing = _valid("check", _json("check", old, new, "--db", pg_url, "-f", "json", code=1))
    assert failing["summary"]["blocking_failed"] == 1
    run_sql(pg_url, "DROP TABLE entries")  # a check that cannot run: its error, count null
    broken = _valid("check", _json("check", old, new, "--db", pg_url, "-f", "json", code=1))
    assert any("error" in c and c["count"] is None for c in broken["checks"])


def test_check_json_follows_its_schema_on_mysql(mysql_url: str, tmp_path: Path):
    (tmp_path / "old.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50), n INTEGER);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50) NOT NULL);\n"
                                      "CREATE UNIQUE INDEX t_email_key ON t (email);\n")
    run_sql(mysql_url, (tmp_path / "old.sql").read_text() + "INSERT INTO t VALUES (1, 'a', 1), (2, 'a', 2), (3, NULL, 3);")
    doc = _valid("check", _json("check", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--dialect", "mysql",
                                "--db", mysql_url, "-f", "json", code=1))
    assert {c["kind"] for c in doc["checks"]} >= {"nulls", "duplicates", "data_loss"}


# --------------------------------------------------------------------------- checklist

def test_checklist_json_follows_its_schema(pg_url: str):
    old, new = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
    static = _valid("checklist", _json("checklist", old, new, "-f", "json", "--rename", "Role.COACH=INSTRUCTOR"))
    sections = static["checklist"]["sections"]
    assert {s["phase"] for s in sections} >= {"expand", "backfill", "contract"}
    assert all("actual" not in (i["query"] or {}) for s in sections for i in s["items"])
    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    run_sql(pg_url, """INSERT INTO entries ("userId", date, updated_at) VALUES (1, '2026-01-25', now())""")
    measured = _valid("checklist", _json("checklist", old, new, "-f", "json", "--db", pg_url))
    actual = [i["query"]["actual"] for s in measured["checklist"]["sections"] for i in s["items"]
              if i["query"] and "actual" in i["query"]]
    assert actual and any(a["passed"] is False for a in actual) and measured["checklist"]["db"]
    for name in ("aegira-missed-checkin-snapshot", "mais-webhook-idempotency"):
        _valid("checklist", _json("checklist", str(SAMPLES / name / "old.prisma"), str(SAMPLES / name / "new.prisma"),
                                  "-f", "json"))
