"""Findings per level (and per rule code) over every corpus pair, for one planner source tree.

    python bench/findings_by_level.py [--tree DIR] [--corpus DIR] [--json OUT]
    python bench/findings_by_level.py --compare BEFORE.json AFTER.json

`--tree` is a planner checkout (default: this one); the pairs are diffed by that tree's own
`planner diff -f json` in a subprocess with the tree first on PYTHONPATH, so two commits can
be compared without installing either (`git archive COMMIT | tar -x -C DIR`). The pairs are
the ones tests/test_output_identical.py diffs: Prisma old/new, Prisma's CREATE SQL old/new
(PostgreSQL) and the SQL projects' old/new schema (dialect from the path). Counted: every
finding of every change (a change with two findings counts twice), by its `level` and `code`.
`--compare` prints the before/after table of two `--json` results.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

LEVELS = ("critical", "high", "medium", "low", "safe")
HERE = Path(__file__).resolve().parent.parent


def pairs(corpus: Path) -> list[tuple[str, list[str]]]:
    """(pair id, `planner diff` arguments) for every corpus pair, in a fixed order."""
    out: list[tuple[str, list[str]]] = []
    for d in sorted(p.parent for p in corpus.glob("prisma/*/*/old.prisma")):
        rel = str(d.relative_to(corpus))
        out.append((f"{rel} prisma", [str(d / "old.prisma"), str(d / "new.prisma")]))
        if (d / "old.create.sql").is_file():
            out.append((f"{rel} create.sql", [str(d / "old.create.sql"), str(d / "new.create.sql"),
                                              "-d", "postgresql"]))
    for d in sorted(p.parent for p in corpus.glob("sql/*/*/*/old_schema.sql")):
        rel = str(d.relative_to(corpus))
        dialect = "mysql" if "/mysql/" in f"/{rel}/" else "postgresql"
        out.append((f"{rel} sql", [str(d / "old_schema.sql"), str(d / "new_schema.sql"), "-d", dialect]))
    return out


def _worker(corpus: Path) -> None:
    """Runs inside the tree being measured: diff every pair, print one JSON line per pair."""
    from typer.testing import CliRunner

    from planner.cli import app

    runner = CliRunner()
    for pair_id, args in pairs(corpus):
        result = runner.invoke(app, ["diff", *args, "-f", "json"])
        if result.exit_code not in (0, 1):
            print(json.dumps({"pair": pair_id, "error": result.output.strip()[-300:]}), flush=True)
            continue
        doc = json.loads(result.stdout)
        findings = [(f["level"], f["code"]) for c in doc["changes"] for f in c.get("findings", [])]
        print(json.dumps({"pair": pair_id, "changes": len(doc["changes"]), "findings": findings}),
              flush=True)


def measure(tree: Path, corpus: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    # an empty working directory: no project config changes what is counted
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--corpus", str(corpus)],
                              cwd=cwd, env=env, capture_output=True, text=True, check=True)
    by_level: collections.Counter = collections.Counter()
    by_code: collections.Counter = collections.Counter()
    errors, changes, npairs = [], 0, 0
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        npairs += 1
        if "error" in row:
            errors.append(row)
            continue
        changes += row["changes"]
        for level, code in row["findings"]:
            by_level[level] += 1
            by_code[f"{code} {level}"] += 1
    return {"tree": str(tree), "pairs": npairs, "changes": changes, "errors": errors,
            "by_level": {lv: by_level[lv] for lv in LEVELS}, "by_code": dict(sorted(by_code.items()))}


def compare(before: dict, after: dict) -> str:
    lines = [f"pairs: {before['pairs']} -> {after['pairs']}; changes: {before['changes']} -> {after['changes']}; "
             f"errors: {len(before['errors'])} -> {len(after['errors'])}", "",
             "| level | before | after | delta |", "|---|---:|---:|---:|"]
    for lv in LEVELS:
        b, a = before["by_level"][lv], after["by_level"][lv]
        lines.append(f"| {lv} | {b} | {a} | {a - b:+d} |")
    tb, ta = sum(before["by_level"].values()), sum(after["by_level"].values())
    lines += [f"| total | {tb} | {ta} | {ta - tb:+d} |", "", "| code level | before | after |", "|---|---:|---:|"]
    for key in sorted(set(before["by_code"]) | set(after["by_code"])):
        b, a = before["by_code"].get(key, 0), after["by_code"].get(key, 0)
        if a != b:
            lines.append(f"| {key} | {b} | {a} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=HERE)
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("PLANNER_CORPUS", HERE.parent.parent / "shared" / "corpus")))
    ap.add_argument("--json", type=Path, help="write the result here")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.corpus)
        return
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        print(compare(before, after))
        return
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus} (set PLANNER_CORPUS or pass --corpus)")
    result = measure(args.tree.resolve(), args.corpus.resolve())
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.json:
        args.json.write_text(text)
    print(json.dumps({"pairs": result["pairs"], "changes": result["changes"], "errors": len(result["errors"]),
                      "by_level": result["by_level"]}))


if __name__ == "__main__":
    main()
