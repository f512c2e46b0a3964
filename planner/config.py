"""Configuration: `--config FILE`, else `[tool.planner]` in ./pyproject.toml, else ./planner.toml.

```toml
[tool.planner]
dialect = "postgresql"

[tool.planner.renames]
"User.name" = "full_name"        # column rename
"Role.COACH" = "INSTRUCTOR"      # enum value rename
"Team" = "Organization"          # table (or enum) rename

[tool.planner.backfill]          # fills existing rows for NOT NULL without a default (planner plan)
"Document.status" = "'draft'"

[tool.planner.enum_remap]        # where rows holding a removed enum value go (planner plan)
"SurveyStatus.archived" = "completed"

[tool.planner.thresholds]        # row counts that scale lock risk with --db
small_rows = 10000
large_rows = 1000000

[[tool.planner.waivers]]
code = "DS102"
object = "missed_check_ins.*"
reason = "values copied to the warehouse (JIRA-123)"
expires = 2026-12-31
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ConfigError
from planner.rules.registry import Thresholds
from planner.rules.waivers import Waiver, parse_waivers


@dataclass(frozen=True, slots=True)
class Config:
    path: str | None = None
    dialect: str | None = None
    renames: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    fail_on: str | None = None
    #: "table.column" -> SQL expression that fills existing rows (NOT NULL without a default)
    backfill: dict[str, str] = field(default_factory=dict)
    #: "Enum.OLD" -> "NEW": where rows holding a removed enum value go
    enum_remap: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def load_config(path: str | None = None, *, cwd: Path | None = None) -> Config:
    """The active configuration; an explicit `path` must exist and parse."""
    cwd = cwd or Path.cwd()
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{path}: config file not found")
        data = _read(p)
        section = data.get("tool", {}).get("planner")
        if section is None and p.name == "pyproject.toml":
            raise ConfigError(f"{path}: no [tool.planner] section")
        return _config(section if section is not None else data, str(p))
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        section = _read(pyproject).get("tool", {}).get("planner")
        if section is not None:
            return _config(section, str(pyproject))
    standalone = cwd / "planner.toml"
    if standalone.is_file():
        data = _read(standalone)
        return _config(data.get("tool", {}).get("planner", data), str(standalone))
    return Config()


def _read(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML ({e})") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror})") from None


def _config(section: dict[str, Any], path: str) -> Config:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.planner] must be a table")
    renames = section.get("renames", {})
    if not isinstance(renames, dict) or not all(isinstance(v, str) for v in renames.values()):
        raise ConfigError(f"{path}: [tool.planner.renames] must map \"old\" = \"new\" strings")
    dialect = section.get("dialect")
    if dialect is not None and not isinstance(dialect, str):
        raise ConfigError(f"{path}: dialect must be a string")
    raw_thresholds = section.get("thresholds", {})
    if not isinstance(raw_thresholds, dict):
        raise ConfigError(f"{path}: [tool.planner.thresholds] must be a table")
    known = {"small_rows", "large_rows"}
    if unknown := set(raw_thresholds) - known:
        raise ConfigError(f"{path}: unknown thresholds {sorted(unknown)}", hint="use small_rows, large_rows")
    if not all(isinstance(v, int) and v >= 0 for v in raw_thresholds.values()):
        raise ConfigError(f"{path}: thresholds must be non-negative integers")
    fail_on = section.get("fail_on")
    if fail_on is not None and not isinstance(fail_on, str):
        raise ConfigError(f"{path}: fail_on must be a level name")
    maps = {}
    for key in ("backfill", "enum_remap"):
        value = section.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) and "." in k for k, v in value.items()):
            raise ConfigError(f"{path}: [tool.planner.{key}] must map \"table.column\" (or \"Enum.VALUE\") "
                              "to a string")
        maps[key] = dict(value)
    return Config(path=path, dialect=dialect, renames=tuple(f"{k}={v}" for k, v in renames.items()),
                  waivers=parse_waivers(section.get("waivers"), path),
                  thresholds=Thresholds(**raw_thresholds), fail_on=fail_on, raw=section, **maps)
