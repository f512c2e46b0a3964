"""Stable, versioned JSON (`--format json`): sorted keys, the shape product.md gives."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from planner import __version__
from planner.changes import Diff
from planner.model import Schema, Table
from planner.renames import shell_hint
from planner.render import LEVELS


def envelope(dialect: str, old_source: str | None, new_source: str | None) -> dict[str, Any]:
    """The fields every planner JSON document starts with."""
    doc: dict[str, Any] = {"schema_version": 1, "tool": {"name": "planner", "version": __version__},
                           "dialect": dialect}
    if old_source is not None:
        doc["old"] = {"source": old_source}
    if new_source is not None:
        doc["new"] = {"source": new_source}
    return doc


#: the documents planner writes with `--format json`, each described by `<name>.schema.json`
#: beside this module (draft 2020-12; the parts they share are in `common.schema.json`)
SCHEMAS = ("diff", "inspect", "rules", "check", "checklist")
COMMON = "common.schema.json"


def schema_path(name: str) -> Path:
    """The installed `<name>.schema.json` (it refers to `common.schema.json` beside it)."""
    if name not in (*SCHEMAS, "common"):
        raise ValueError(f"no JSON Schema {name!r}; planner has {', '.join(SCHEMAS)}")
    return Path(__file__).with_name(f"{name}.schema.json")


def json_schema(name: str, *, bundled: bool = True) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `planner NAME --format json`. `bundled`: one
    self-contained document, the shared definitions of common.schema.json copied into its
    `$defs` (what `planner schema NAME` prints); else the file as installed, whose
    `common.schema.json#/...` references a validator resolves with the file beside it."""
    doc = json.loads(schema_path(name).read_text(encoding="utf-8"))
    if not bundled:
        return doc
    common = json.loads(schema_path("common").read_text(encoding="utf-8"))["$defs"]
    defs = doc.setdefault("$defs", {})
    clash = sorted(set(defs) & set(common))
    if clash:
        raise ValueError(f"{name}.schema.json redefines {', '.join(clash)} of {COMMON}")

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (v.replace(COMMON + "#", "#", 1) if k == "$ref" and isinstance(v, str) else local(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [local(x) for x in node]
        return node

    return local({**doc, "$defs": {**defs, **common}})


def diff_json_schema() -> dict[str, Any]:
    """The JSON Schema of the `planner diff --format json` document (draft 2020-12)."""
    return json_schema("diff")


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def diff_document(diff: Diff, *, dialect: str, old_source: str, new_source: str,
                  levels: dict[str, str] | None = None,
                  findings: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The `planner diff --format json` document. `levels`/`findings` are keyed by change id."""
    levels, findings = levels or {}, findings or {}
    changes = []
    by_level: dict[str, int] = {}
    for c in diff.changes:
        level = levels.get(c.id, "safe")
        by_level[level] = by_level.get(level, 0) + 1
        changes.append({
            "id": c.id, "kind": c.kind.value, "table": c.table, "column": c.column, "name": c.name,
            "detail": c.detail, "level": level, "findings": findings.get(c.id, []),
        })
    suggestions = []
    for s in diff.suggestions:
        item = {"kind": s.kind.value, "table": s.table, "from": s.old, "to": s.new, "hint": shell_hint(s.hint)}
        if s.alternatives:  # several pairings scored the same: say so, and which
            item.update(reason=s.reason, alternatives=[shell_hint(a) for a in s.alternatives])
        suggestions.append(item)
    max_level = max(by_level, key=LEVELS.index) if by_level else "safe"
    doc = envelope(dialect, old_source, new_source)
    doc.update(changes=changes, suggestions=suggestions,
               summary={"changes": len(changes), "max_level": max_level, "by_level": by_level})
    return doc


def schema_document(schema: Schema, *, source: str, warnings: list[str]) -> dict[str, Any]:
    """`planner inspect --format json`: the normalised schema as planner sees it."""

    def clean(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            out = {}
            for f in dataclasses.fields(obj):
                if f.name in ("doc", "value_origins") or (f.name == "partition_by" and obj.partition_by is None) \
                        or (f.name == "options" and isinstance(obj, Table) and not obj.options) \
                        or (f.name == "unkept" and not obj.unkept) or (f.name == "stored" and not obj.stored):
                    continue
                out[f.name] = clean(getattr(obj, f.name))
            return out
        if isinstance(obj, (list, tuple)):
            return [clean(x) for x in obj]
        return obj

    doc = envelope(schema.dialect, None, None)
    doc["source"] = source
    body = clean(schema)
    body.pop("dialect", None)
    doc["schema"] = body
    doc["warnings"] = warnings
    return doc
