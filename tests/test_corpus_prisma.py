"""The Prisma half of ../shared/corpus: every schema loads, and every diff covers what the
project's own migration touched (recall >= 0.98, measured over all pairs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.diff import diff
from planner.load import load_source

from .corpus_oracle import covered, touched

pytestmark = pytest.mark.corpus


def _pairs(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "prisma").glob("*/[0-9]*") if (p / "prisma_migration.sql").is_file())


def test_every_prisma_file_loads(corpus: Path):
    files = sorted((corpus / "prisma").rglob("*.prisma"))
    assert len(files) >= 84
    for f in files:
        loaded = load_source(str(f))
        assert loaded.schema.tables, f


def test_recall_against_the_projects_own_migrations(corpus: Path):
    pairs = _pairs(corpus)
    assert len(pairs) == 40
    total = hits = 0
    misses: list[str] = []
    for pair in pairs:
        old = load_source(str(pair / "old.prisma")).schema
        new = load_source(str(pair / "new.prisma")).schema
        changes = diff(old, new).changes
        items = touched((pair / "prisma_migration.sql").read_text())
        assert items, pair
        for item in sorted(items, key=str):
            total += 1
            if covered(item, changes):
                hits += 1
            else:
                misses.append(f"{pair.parent.name}/{pair.name}: {item}")
    recall = hits / total
    print(f"recall {hits}/{total} = {recall:.4f}")
    assert recall >= 0.98, "\n".join(misses)


def test_real_renames_are_suggested(corpus: Path):
    """formbricks/05 renames Team -> Organization; trigger.dev/01 renames body -> output."""
    def hints(name: str) -> list[str]:
        pair = corpus / "prisma" / name
        old = load_source(str(pair / "old.prisma")).schema
        new = load_source(str(pair / "new.prisma")).schema
        return [s.hint for s in diff(old, new).suggestions]

    assert "--rename Team=Organization" in hints("formbricks/05-rename-teams-to-organizations")
    assert "--rename IntegrationResponse.body=output" in hints("trigger.dev/01-response-changed-output-context")
