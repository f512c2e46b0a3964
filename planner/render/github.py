"""`planner diff --format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=prisma/schema.prisma,line=12,col=3,title=DS102 drop-column::message` — error for
critical and high, warning for medium, notice for low and safe. Positions come from the SARIF
locator (the object's line in NEW, or in OLD for what is dropped). Waived findings are left out.
"""

from __future__ import annotations

from typing import Any

from planner.changes import Diff
from planner.model import Schema

COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "safe": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def diff_annotations(diff: Diff, *, old: Schema, new: Schema, old_source: str, new_source: str,
                     levels: dict[str, str], findings: dict[str, list[dict[str, Any]]]) -> str:
    from planner.render.sarif import diff_sarif

    doc = diff_sarif(diff, old=old, new=new, old_source=old_source, new_source=new_source, levels=levels,
                     findings=findings)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    out = []
    for r in doc["runs"][0]["results"]:
        if r.get("suppressions"):
            continue
        props, where = [], ""
        for loc in r.get("locations", []):
            phys = loc["physicalLocation"]
            uri = phys["artifactLocation"]["uri"]
            props.append(f"file={_prop(uri.removeprefix('file://'))}")
            if "message" in loc:  # in a git revision: its line is not the working tree's, so name it
                where = loc["message"]["text"].removeprefix("in ") + ": "
            elif "region" in phys:
                props += [f"line={phys['region']['startLine']}", f"col={phys['region']['startColumn']}"]
        props.append(f"title={_prop(r['ruleId'] + ' ' + rules[r['ruleIndex']]['name'])}")
        level = r["properties"]["level"]
        out.append(f"::{COMMAND[level]} {','.join(props)}::{_data(where + f'[{level}] ' + r['message']['text'])}")
    return "".join(line + "\n" for line in out)
