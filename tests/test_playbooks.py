"""Meta-tests over the rule registry and the playbooks: unique codes, docs, no dangling or
unused playbooks, every playbook valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.playbooks import PLACEHOLDERS, PlaybookError, all_playbooks, load_playbook, playbooks_dir
from planner.rules import RULES


def test_codes_and_slugs_are_unique_and_well_formed():
    assert len({r.slug for r in RULES.values()}) == len(RULES)
    for code, r in RULES.items():
        assert re.fullmatch(r"(DS|MF|LK|BC|PG|MY|LT)\d{3}", code), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.slug), r.slug
        assert "## Why" in r.doc, f"{code}: docstring needs a '## Why' section"
        assert r.summary and r.help


def test_every_referenced_playbook_exists_and_every_playbook_is_used():
    books = all_playbooks()
    referenced = {r.playbook for r in RULES.values() if r.playbook}
    assert referenced - set(books) == set(), "rules reference missing playbooks"
    assert set(books) - referenced == set(), "playbooks no rule uses"


@pytest.mark.parametrize("pid", sorted(all_playbooks()))
def test_playbook_renders_for_every_dialect(pid):
    book = all_playbooks()[pid]
    assert book.steps and book.checklist
    for dialect in ("postgresql", "mysql", "sqlite", None):
        text = book.markdown(dialect)
        assert text.startswith(f"## Playbook `{pid}`")


def test_every_template_formats():
    """Every SQL step and checklist item fills with the placeholders (no stray brace)."""
    values = {k: f"<{k}>" for k in PLACEHOLDERS}
    for book in all_playbooks().values():
        for s in book.steps:
            s.sql.format(**values)
        for c in book.checklist:
            c.item.format(**values)


@pytest.mark.parametrize(("code", "pid", "wants"), [
    # issue 16: the new rules have playbooks, shown by `planner rules CODE`
    ("BC108", "rename-enum", {"postgresql": ["ALTER TYPE {old_type} RENAME TO {new_type};", "@@map"],
                              "mysql": ["Nothing to run"], "sqlite": ["Nothing to run"]}),
    ("LK114", "redundant-index", {"postgresql": ["DROP INDEX CONCURRENTLY IF EXISTS {index};",
                                                 "Remove the redundant index"],
                                  "mysql": ["ALGORITHM=INPLACE, LOCK=NONE", "Remove the redundant index"],
                                  "sqlite": ["DROP INDEX IF EXISTS {index};"]}),
])
def test_issue16_rules_have_playbooks(code: str, pid: str, wants: dict[str, list[str]]):
    from typer.testing import CliRunner

    from planner.cli import app

    assert RULES[code].playbook == pid
    book = all_playbooks()[pid]
    for dialect, texts in wants.items():
        text = book.markdown(dialect)
        for want in texts:
            assert want in text, (dialect, want)
    others = {"postgresql": "ALGORITHM=", "mysql": "CONCURRENTLY", "sqlite": "CONCURRENTLY"}
    for dialect, foreign in others.items():
        assert all(foreign not in s.sql for s in book.steps_for(dialect)), (pid, dialect)
    out = CliRunner().invoke(app, ["rules", code])
    assert out.exit_code == 0 and f"## Playbook `{pid}`" in out.output


def test_bad_playbooks_are_rejected_with_file_and_key(tmp_path: Path):
    bad = tmp_path / "bad-one.toml"
    bad.write_text('id = "bad-one"\ntitle = "t"\nwhy = "w"\nbackup = "b"\nrollback = "r"\n'
                   '[[steps]]\nphase = "later"\ntitle = "x"\nsql = ""\n[[checklist]]\nitem = "i"\n')
    with pytest.raises(PlaybookError, match=r"bad-one.toml: steps\[1\]: phase 'later'"):
        load_playbook(bad)
    bad.write_text(bad.read_text().replace('"later"', '"expand"').replace('sql = ""', 'sql = "{nope}"'))
    with pytest.raises(PlaybookError, match="unknown placeholder"):
        load_playbook(bad)


def test_playbooks_dir_is_the_repository_folder_in_a_checkout():
    assert (playbooks_dir() / "drop-column.toml").is_file()


def test_readme_lists_every_rule():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [code for code in RULES if f"| {code} |" not in readme]
    assert not missing, f"README's rule table misses {missing}"
