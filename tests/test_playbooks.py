"""Meta-tests over the rule registry and the playbooks: unique codes, docs, no dangling or
unused playbooks, every playbook valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.playbooks import PlaybookError, all_playbooks, load_playbook, playbooks_dir
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
