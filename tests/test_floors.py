"""The dependency floors pyproject.toml declares are the versions .ci/run installs and tests
(.ci/floor-constraints.txt): a floor raised in one place and not the other fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _floors() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    out = {}
    for dep in deps:
        m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", dep)
        name, extras, spec = m.group(1).lower(), m.group(2) or "", m.group(3)
        floor = re.search(r">=\s*([0-9][^,\s]*)", spec)
        assert floor, f"{dep}: every dependency needs a tested floor (>=)"
        out[name] = floor.group(1)
        if "binary" in extras:
            out[f"{name}-binary"] = floor.group(1)
    return out


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "floor-constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _norm(v: str) -> tuple[int, ...]:
    parts = [int(x) for x in re.findall(r"\d+", v)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def test_every_floor_is_pinned_for_the_floor_job() -> None:
    floors, pins = _floors(), _pins()
    assert set(floors) == set(pins), (sorted(floors), sorted(pins))
    for name, floor in floors.items():
        assert _norm(floor) == _norm(pins[name]), f"{name}: pyproject floor {floor}, CI tests {pins[name]}"


def test_sqlglot_has_an_upper_bound_and_ruff_is_a_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    sqlglot = next(d for d in project["dependencies"] if d.startswith("sqlglot"))
    assert "<" in sqlglot
    extras = project["optional-dependencies"]
    assert not any(d.startswith("ruff") for d in extras["test"])
    assert any(d.startswith("ruff") for d in extras["dev"])
