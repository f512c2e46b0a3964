"""Playbooks: remedies as data (`playbooks/<id>.toml`), validated when loaded.

A playbook says how to make one risky change safely: why, the expand/backfill/contract
steps per dialect (SQL templates with `{placeholders}`), what to back up, how to roll back,
and the checklist items a reviewer ticks. Rules name their playbook by id.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from planner.errors import PlannerError
from planner.model import DIALECTS

PHASES = ("expand", "backfill", "contract")
CHECKLIST_PHASES = ("before", *PHASES, "after")
PLACEHOLDERS = frozenset({
    "table", "column", "columns", "new_column", "old_column", "index", "constraint", "ref_table",
    "ref_columns", "enum", "value", "old_value", "new_value", "type", "old_type", "new_type", "default",
    "expression", "backup_table", "batch_size", "new_table", "old_table", "pk", "using", "action",
})


class PlaybookError(PlannerError):
    """A playbook file is malformed (names the file and the key)."""


@dataclass(frozen=True, slots=True)
class Step:
    phase: str
    title: str
    sql: str
    dialects: tuple[str, ...]
    lock: str = ""
    deploy: str = ""


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    item: str
    phase: str = "before"


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    title: str
    why: str
    backup: str
    rollback: str
    steps: tuple[Step, ...]
    checklist: tuple[ChecklistItem, ...]
    path: str

    def steps_for(self, dialect: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if dialect in s.dialects)

    def markdown(self, dialect: str | None = None) -> str:
        out = [f"## Playbook `{self.id}`: {self.title}", "", self.why.strip(), ""]
        for phase in PHASES:
            steps = [s for s in self.steps if phase == s.phase and (dialect is None or dialect in s.dialects)]
            if not steps:
                continue
            out += [f"### {phase}", ""]
            for s in steps:
                where = "" if len(s.dialects) == len(DIALECTS) else f" ({', '.join(s.dialects)})"
                out.append(f"**{s.title}**{where}" + (f" — lock: {s.lock}" if s.lock else ""))
                if s.deploy:
                    out += ["", f"Deploy: {s.deploy}"]
                if s.sql.strip():
                    out += ["", "```sql", s.sql.strip(), "```"]
                out.append("")
        out += ["### Backup", "", self.backup.strip(), "", "### Rollback", "", self.rollback.strip(), ""]
        if self.checklist:
            out += ["### Checklist", ""]
            out += [f"- [ ] ({c.phase}) {c.item}" for c in self.checklist]
        return "\n".join(out).rstrip() + "\n"


def playbooks_dir() -> Path:
    """The bundled playbooks (wheel) or the repository's `playbooks/` folder."""
    bundled = Path(__file__).parent / "_playbooks"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "playbooks"


def _text(data: dict, key: str, where: str, *, required: bool = True) -> str:
    v = data.get(key, "")
    if not isinstance(v, str) or (required and not v.strip()):
        raise PlaybookError(f"{where}: '{key}' must be a non-empty string")
    return v


def _check_placeholders(text: str, where: str) -> None:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in PLACEHOLDERS:
            raise PlaybookError(f"{where}: unknown placeholder {{{name}}}",
                                hint=f"use one of {', '.join(sorted(PLACEHOLDERS))}")


def load_playbook(path: Path) -> Playbook:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise PlaybookError(f"{path}: invalid TOML ({e})") from None
    pid = _text(data, "id", str(path))
    if pid != path.stem:
        raise PlaybookError(f"{path}: id {pid!r} must equal the file name {path.stem!r}")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pid):
        raise PlaybookError(f"{path}: id {pid!r} must be kebab-case")
    steps = []
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlaybookError(f"{path}: needs at least one [[steps]]")
    for i, s in enumerate(raw_steps, 1):
        where = f"{path}: steps[{i}]"
        phase = _text(s, "phase", where)
        if phase not in PHASES:
            raise PlaybookError(f"{where}: phase {phase!r} is not one of {', '.join(PHASES)}")
        dialects = tuple(s.get("dialects", DIALECTS))
        bad = [d for d in dialects if d not in DIALECTS]
        if bad or not dialects:
            raise PlaybookError(f"{where}: unknown dialect(s) {bad}")
        sql = _text(s, "sql", where, required=False)
        _check_placeholders(sql, where)
        steps.append(Step(phase, _text(s, "title", where), sql, dialects,
                          _text(s, "lock", where, required=False), _text(s, "deploy", where, required=False)))
    checklist = []
    for i, c in enumerate(data.get("checklist", []), 1):
        where = f"{path}: checklist[{i}]"
        phase = c.get("phase", "before")
        if phase not in CHECKLIST_PHASES:
            raise PlaybookError(f"{where}: phase {phase!r} is not one of {', '.join(CHECKLIST_PHASES)}")
        item = _text(c, "item", where)
        _check_placeholders(item, where)
        checklist.append(ChecklistItem(item, phase))
    if not checklist:
        raise PlaybookError(f"{path}: needs at least one [[checklist]] item")
    return Playbook(pid, _text(data, "title", str(path)), _text(data, "why", str(path)),
                    _text(data, "backup", str(path)), _text(data, "rollback", str(path)),
                    tuple(steps), tuple(checklist), str(path))


@lru_cache(maxsize=1)
def all_playbooks() -> dict[str, Playbook]:
    return {p.stem: load_playbook(p) for p in sorted(playbooks_dir().glob("*.toml"))}


def get_playbook(pid: str) -> Playbook:
    books = all_playbooks()
    if pid not in books:
        raise PlaybookError(f"playbook {pid!r} not found in {playbooks_dir()}")
    return books[pid]
