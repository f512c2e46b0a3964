"""`planner diff --format sarif`: SARIF 2.1.0 for code scanning (one result per finding).

Every rule is described once in `tool.driver.rules` (code, slug, summary, help, a help URI);
each finding is one result pointing at the line and column of its object in NEW (what is
added or changed) or in OLD (what is dropped) where that source is a Prisma or SQL file. The
model carries no source positions, so they are found in the file's text by name (a Prisma
model/enum and its field/value, `CREATE TABLE`/`INDEX`/`TYPE` and a column's line in SQL);
an object that cannot be found points at the file itself. Waived findings are kept, with a
suppression carrying the waiver's reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner import __version__
from planner.changes import Change, Diff, Kind
from planner.model import Schema

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/schema-migration-planner/"
#: where a rule's documentation lives (also printed by `planner rules CODE`)
HELP_URI = INFORMATION_URI + "#risk"
#: planner level -> SARIF level
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "safe": "none"}
#: what is dropped is found in OLD; everything else in NEW
_IN_OLD = {Kind.DROP_TABLE, Kind.DROP_COLUMN, Kind.DROP_INDEX, Kind.DROP_UNIQUE, Kind.DROP_FOREIGN_KEY,
           Kind.DROP_CHECK, Kind.DROP_ENUM, Kind.REMOVE_ENUM_VALUE, Kind.DROP_VIEW, Kind.DROP_PRIMARY_KEY}


@dataclass(frozen=True, slots=True)
class Position:
    uri: str
    line: int | None = None
    column: int | None = None
    #: the `git:REV:PATH` the position is in (its uri is PATH in the working tree)
    git: str | None = None


def _uri(path: Path) -> str:
    """A repository-relative URI when the file is under the working directory (code scanning
    matches those to files), else an absolute file URI."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_uri()


class Locator:
    """Finds an object's line and column in one schema source file (Prisma or SQL)."""

    def __init__(self, source: str) -> None:
        p = Path(source)
        #: a `git:REV:PATH` source is read from its local copy and named `git:REV:PATH[/file]`
        self.git: tuple[Path, str] | None = None
        if source.startswith("git:"):
            from planner.load.git import local_copy

            local = local_copy(source)
            if local is not None:
                p, self.git = local, (local, source.rstrip("/"))
        self.files: list[Path] = []
        if p.is_file() and p.suffix.lower() in (".prisma", ".sql"):
            self.files = [p]
        elif p.is_dir():
            self.files = sorted(p.glob("*.prisma"))
        self.texts = {f: f.read_text(encoding="utf-8", errors="replace").splitlines() for f in self.files}

    def _position(self, f: Path, line: int | None = None, column: int | None = None) -> Position:
        """Code scanning takes only repository paths: a file of a `git:REV:PATH` source is
        given as PATH in the working tree, the position naming `git:REV:PATH` beside it."""
        if self.git is None:
            return Position(_uri(f), line, column)
        local, spec = self.git
        rel = "" if f == local else "/" + f.relative_to(local).as_posix()
        path = spec.split(":", 2)[2].rstrip("/") + rel
        return Position(_uri(Path(path)), line, column, git=spec + rel)

    def __bool__(self) -> bool:
        return bool(self.files)

    def find(self, block: str | None, item: str | None, *, kind: str) -> Position | None:
        """The line of `item` inside the definition of `block` (a table/model or an enum),
        or of the block itself; None when the block is not found."""
        for f, lines in self.texts.items():
            hit = _find_in(lines, f.suffix.lower(), block, item, kind)
            if hit is not None:
                return self._position(f, *hit)
        return None

    def file(self) -> Position | None:
        return self._position(self.files[0]) if self.files else None


def _name(n: str) -> str:
    """A name as it may appear quoted or not in a schema file."""
    return rf"""[`"\[]?{re.escape(n)}[`"\]]?"""


def _find_in(lines: list[str], suffix: str, block: str | None, item: str | None,
             kind: str) -> tuple[int, int] | None:
    if block is None:
        return None
    if suffix == ".prisma":
        head = re.compile(rf"^\s*({'enum' if kind == 'enum' else 'model|view'})\s+{re.escape(block)}\s*\{{")
    elif kind == "enum":
        head = re.compile(rf"(?i)\bCREATE\s+TYPE\s+(?:\S+\.)?{_name(block)}\s+AS\s+ENUM")
    elif kind == "index":
        head = re.compile(rf"(?i)\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                          rf"(?:\S+\.)?{_name(block)}(?=[\s(])")
    else:
        head = re.compile(rf"(?i)\bCREATE\s+(?:TABLE|(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW)\s+"
                          rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:\S+\.)?{_name(block)}(?=[\s(]|$)")
    for i, line in enumerate(lines):
        m = head.search(line)
        if m is None:
            continue
        start = (i + 1, m.start() + 1 + (len(line[m.start():]) - len(line[m.start():].lstrip())))
        if item is None:
            return start
        body_end = "}" if suffix == ".prisma" else ";"
        inner = re.compile(rf"^(\s*){_name(item)}(?=[\s,]|$)") if kind != "enum" or suffix == ".prisma" \
            else re.compile(rf"()'{re.escape(item)}'")
        for j in range(i if suffix != ".prisma" else i + 1, len(lines)):
            text = lines[j] if j != i else line[m.end():]
            hit = inner.search(text)
            if hit is not None:
                offset = len(line) - len(text) if j == i else 0
                return j + 1, offset + hit.end(1) + 1
            if body_end in (lines[j].strip() if suffix == ".prisma" else text):
                break
        return start
    return None


def _object(c: Change, schema: Schema) -> tuple[str | None, str | None, str]:
    """(block, item, kind) to look for: the Prisma names where the model has them."""
    obj = c.old if c.kind in _IN_OLD else c.new
    if c.kind in (Kind.ADD_ENUM, Kind.DROP_ENUM, Kind.RENAME_ENUM, Kind.ADD_ENUM_VALUE, Kind.REMOVE_ENUM_VALUE,
                  Kind.RENAME_ENUM_VALUE, Kind.REORDER_ENUM_VALUES) and c.table is None:
        enum = schema.enum(c.name) if c.name else None
        block = (enum.origin or enum.name) if enum is not None else c.name
        value = c.detail.get("value") or c.detail.get("to")
        if enum is not None and value is not None:
            value = next((k for k, v in enum.value_origins if v == value), value)
        return block, value, "enum"
    table = schema.table(c.table) if c.table else None
    block = (table.origin or table.name) if table is not None else c.table
    if c.column:
        col = table.column(c.column) if table is not None else None
        name = getattr(obj, "origin", None) or (col.origin if col is not None else None) or c.column
        return block, name, "table"
    if c.kind in (Kind.ADD_INDEX, Kind.DROP_INDEX, Kind.ADD_UNIQUE, Kind.DROP_UNIQUE) and c.name:
        return c.name, None, "index"
    return block, None, "table"


def diff_sarif(diff: Diff, *, old: Schema, new: Schema, old_source: str, new_source: str,
               levels: dict[str, str], findings: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The SARIF log for `planner diff`: rules, and one result per finding (sorted as the
    changes and their findings are)."""
    from planner.render.rules_doc import rule_markdown
    from planner.rules import RULES

    locators = {"old": Locator(old_source), "new": Locator(new_source)}
    rules = sorted(RULES.values(), key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for c in diff.changes:
        side, schema = ("old", old) if c.kind in _IN_OLD else ("new", new)
        loc = locators[side]
        pos = None
        if loc:
            block, item, kind = _object(c, schema)
            pos = loc.find(block, item, kind=kind)
            if pos is None and kind == "index":  # a Prisma @@index: point at its model
                t = schema.table(c.table) if c.table else None
                pos = loc.find((t.origin or t.name) if t else c.table, None, kind="table")
            pos = pos or loc.file()
        for f in findings.get(c.id, []):
            result: dict[str, Any] = {
                "ruleId": f["code"], "ruleIndex": index[f["code"]], "level": SARIF_LEVEL[f["level"]],
                "message": {"text": f"{c.object or c.id}: {f['message']} Safer: {f['help']}"},
                "partialFingerprints": {"plannerChange/v1": f"{c.id}:{f['code']}"},
                "properties": {"change": c.id, "kind": c.kind.value, "level": f["level"],
                               "playbook": f.get("playbook")},
            }
            if pos is not None:
                artifact = {"uri": pos.uri} if pos.uri.startswith("file:") else {"uri": pos.uri, "uriBaseId": "SRCROOT"}
                physical: dict[str, Any] = {"artifactLocation": artifact}
                if pos.line is not None:
                    physical["region"] = {"startLine": pos.line, "startColumn": pos.column or 1}
                location: dict[str, Any] = {"physicalLocation": physical}
                if pos.git is not None:  # the line is the revision's: say which
                    where = f"{pos.git}:{pos.line}:{pos.column or 1}" if pos.line is not None else pos.git
                    location["message"] = {"text": f"in {where}"}
                    location["properties"] = {"source": pos.git}
                result["locations"] = [location]
            if f.get("waived"):
                result["suppressions"] = [{"kind": "external", "status": "accepted",
                                           "justification": (f.get("waiver") or {}).get("reason") or ""}]
            results.append(result)
    driver = {
        "name": "planner", "version": __version__, "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [{
            "id": r.code, "name": r.slug,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": f"{r.summary}. {r.help}"},
            "help": {"text": r.help, "markdown": rule_markdown(r)},
            "helpUri": HELP_URI,
            "defaultConfiguration": {"level": "warning"},
            "properties": {"family": r.family, "playbook": r.playbook,
                           "tags": ["database", "migration", r.family]},
        } for r in rules],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "results": results,
                      "originalUriBaseIds": {"SRCROOT": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                      "properties": {"old": old_source, "new": new_source}}]}
