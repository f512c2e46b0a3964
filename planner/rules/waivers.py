"""Waivers: accepted findings, by code and object, with a reason and an optional expiry.

```toml
[[tool.planner.waivers]]
code = "DS102"                       # rule code (or slug)
object = "missed_check_ins.*"        # change object (table.column, table.index, enum), fnmatch pattern
reason = "snapshot columns were copied to the analytics store (JIRA-123)"
expires = 2026-12-31                 # optional; after it the waiver no longer applies and is reported
```
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from planner.errors import ConfigError

if TYPE_CHECKING:
    from planner.changes import Change
    from planner.rules.registry import Finding


@dataclass(frozen=True, slots=True)
class Waiver:
    code: str
    object: str
    reason: str
    expires: dt.date | None = None

    def __str__(self) -> str:
        until = f" (expires {self.expires.isoformat()})" if self.expires else ""
        return f"{self.code} on {self.object}{until}: {self.reason}"


@dataclass(frozen=True, slots=True)
class WaiverReport:
    expired: tuple[Waiver, ...] = ()
    unused: tuple[Waiver, ...] = ()


def parse_waivers(raw: Any, source: str) -> tuple[Waiver, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: waivers must be an array of tables ([[tool.planner.waivers]])")
    out = []
    for i, w in enumerate(raw, 1):
        if not isinstance(w, dict):
            raise ConfigError(f"{source}: waiver {i} must be a table")
        missing = [k for k in ("code", "object", "reason") if not str(w.get(k, "")).strip()]
        if missing:
            raise ConfigError(f"{source}: waiver {i} needs {', '.join(missing)}",
                              hint="every waiver names a code, an object and a reason")
        expires = w.get("expires")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise ConfigError(f"{source}: waiver {i}: expires {expires!r} is not a YYYY-MM-DD date") from None
        elif isinstance(expires, dt.datetime):
            expires = expires.date()
        elif expires is not None and not isinstance(expires, dt.date):
            raise ConfigError(f"{source}: waiver {i}: expires must be a date")
        out.append(Waiver(str(w["code"]).strip(), str(w["object"]).strip(), str(w["reason"]).strip(), expires))
    return tuple(out)


def is_expired(w: Waiver, today: dt.date) -> bool:
    return w.expires is not None and w.expires < today


def match_waiver(waivers: tuple[Waiver, ...], finding: Finding, change: Change, *,
                 today: dt.date) -> tuple[int, Waiver] | None:
    """The first unexpired waiver covering this finding: (index, waiver)."""
    for i, w in enumerate(waivers):
        if is_expired(w, today) or w.code not in (finding.code, finding.rule):
            continue
        if fnmatchcase(change.object, w.object) or fnmatchcase(change.id, w.object):
            return i, w
    return None
