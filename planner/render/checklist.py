"""Render a `planner.checklist.Checklist`: Markdown (for a pull request or release ticket,
capped under GitHub's 65,536-character comment limit), JSON (the same content, for bots) and
plain text (for the terminal)."""

from __future__ import annotations

import re
from typing import Any

from planner.checklist import DIALECT_NAMES, MARKER, Checklist, Item, Query, Row, Section
from planner.render.json_report import dumps

#: GitHub rejects a comment of 65,536 characters or more; stay clearly below it
MAX_MARKDOWN = 65_000
#: SQL longer than this (or on several lines) goes into a collapsible <details>
INLINE_SQL = 100


def checklist_json(cl: Checklist) -> str:
    return dumps(cl.as_json())


# --------------------------------------------------------------------------- Markdown

def _code(text: str) -> str:
    """Inline code that survives backticks in `text` (MySQL identifiers)."""
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or runs else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _block(sql: str, summary: str) -> list[str]:
    runs = [len(m) for m in re.findall(r"`+", sql)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return ["", f"  <details><summary>{summary}</summary>", "", f"  {fence}sql",
            *[f"  {ln}" for ln in sql.splitlines()], f"  {fence}", "", "  </details>", ""]


def _actual(q: Query, blocking: bool = True) -> str | None:
    """The --db result: PASS, FAIL (a blocking check found rows) or FOUND (an informing one did)."""
    if q.error is not None:
        return f"**DID NOT RUN**: {q.error}"
    if q.passed is None:
        return None
    if q.passed:
        return "**PASS** (0)"
    samples = f" — e.g. {'; '.join(q.samples)}" if q.samples else ""
    return f"**{'FAIL' if blocking else 'FOUND'}**: {q.count:,} {q.unit}{samples}"


def _expectation(q: Query) -> str:
    """`expected: ...`, or for an informative check (no expectation, as in `planner check`)
    what its count means."""
    if q.expect is None:
        return "any count is an answer (0: nothing is affected)"
    return f"expected: {q.expect}"


class _Md:
    """Markdown at a level of detail: `sql` writes the SQL; `max_items` cuts each section's
    list; `max_rows` the summary table."""

    def __init__(self, cl: Checklist, *, sql: bool = True, max_items: int | None = None,
                 max_rows: int | None = None, note: str | None = None) -> None:
        self.cl, self.sql, self.max_items, self.max_rows, self.note = cl, sql, max_items, max_rows, note

    def render(self) -> str:
        cl = self.cl
        out = [MARKER, f"# Release checklist: {_code(cl.old_source)} → {_code(cl.new_source)}", "",
               f"**Verdict: {cl.verdict}**", "",
               "| | |", "|---|---|",
               f"| Dialect | {DIALECT_NAMES[cl.dialect]} |",
               f"| planner | {cl.version} |",
               f"| Max level | {cl.max_level} |",
               f"| Deploys | {cl.deploys} |",
               f"| Pre-flight results | {_cell(f'from {cl.db} (read-only)') if cl.db else 'not run (no --db)'} |",
               f"| Revisions | {len(cl.revisions)}{' + cleanup' if len(cl.sections) > len(cl.revisions) else ''} |",
               ""]
        if self.note:
            out += [f"> **Shortened to fit a pull-request comment.** {self.note}", ""]
        out += [f"- {n}" for n in [cl.revision_note, *cl.notes]] + [""]
        out += self.summary()
        for i, s in enumerate(cl.sections, 1):
            out += self.section(i, s)
        out += ["## Sign-off", "", "| Role | Name | Date |", "|---|---|---|",
                *[f"| {r} | | |" for r in cl.signoff], ""]
        return "\n".join(out)

    def summary(self) -> list[str]:
        rows = list(self.cl.rows)
        out = ["## Summary", ""]
        if not rows:
            return out + ["No changes.", ""]
        shown = rows if self.max_rows is None else rows[: self.max_rows]
        out += ["| Level | Change | Rules | Lock (table) | May block | Data at risk | Downgrade restores it |",
                "|---|---|---|---|---|---|---|"]
        out += [self.row(r) for r in shown]
        if len(shown) < len(rows):
            out += ["", f"… and {len(rows) - len(shown)} more changes (lower levels; the full table is in the "
                        "full checklist)."]
        return out + [""]

    @staticmethod
    def row(r: Row) -> str:
        lock = f"{r.lock} on {r.table}" if r.table and r.lock != "none" else r.lock
        cells = [r.level, f"{r.kind} {_code(r.object) if r.object else ''}".strip(), ", ".join(r.codes) or "—",
                 lock, r.blocks, r.data_at_risk, r.restored]
        return "| " + " | ".join(_cell(c) for c in cells) + " |"

    def section(self, i: int, s: Section) -> list[str]:
        title = f"## {i}. {s.label}" + (f" — revision {_code(s.revision)}" if s.revision else "")
        out = [title, "",
               f"- **Deploy before:** {s.deploy_before}",
               f"- **May run during it:** {s.during}",
               f"- **Deploy after:** {s.deploy_after}", ""]
        if s.steps:
            steps = list(s.steps)
            if self.max_items is not None and len(steps) > self.max_items:
                steps = steps[: self.max_items] + [f"… and {len(s.steps) - self.max_items} more steps"]
            out += ["<details><summary>What it does ({} step{})</summary>".format(len(s.steps),
                                                                              "s" if len(s.steps) != 1 else ""),
                    "", *[f"- {_md_text(t)}" for t in steps], "", "</details>", ""]
        items = list(s.items)
        cut = 0
        if self.max_items is not None and len(items) > self.max_items:
            # keep the commands and the rollback: cut from the checks in the middle
            keep = {id(x) for x in items if x.kind in ("command", "rollback")}
            budget = max(self.max_items - len(keep), 0)
            kept = []
            for x in items:
                if id(x) in keep or budget > 0:
                    kept.append(x)
                    budget -= 0 if id(x) in keep else 1
                else:
                    cut += 1
            items = kept
        if cut:
            items.insert(len(items) - 1 if items and items[-1].kind == "rollback" else len(items),
                         Item("note", f"… {cut} more items in the full checklist"))
        for x in items:
            out += self.item(x) if x.kind != "note" else [f"- {x.text}"]
            if x.kind == "rollback":
                out += self.rollback(s)
        out.append("")
        return out

    def rollback(self, s: Section) -> list[str]:
        restores, lost = list(s.restores), list(s.not_restored)
        more = 0
        if self.max_items is not None:
            more = max(len(restores) - self.max_items, 0) + max(len(lost) - self.max_items, 0)
            restores, lost = restores[: self.max_items], lost[: self.max_items]
        out = [f"  - comes back: {_md_text(t)}" for t in restores]
        out += [f"  - does not come back: {_md_text(t)}" for t in lost]
        if not s.restores and not s.not_restored:
            out.append("  - nothing is lost: the downgrade undoes every step of this revision")
        if more:
            out.append(f"  - … {more} more in the full checklist")
        return out

    def item(self, x: Item) -> list[str]:
        out = [f"- [ ] {_md_text(x.text)}"]
        q = x.query
        if q is None:
            return out
        expect = _md_text(_expectation(q))
        if "\n" in q.sql or len(q.sql) > INLINE_SQL:
            if self.sql:
                out[-1] += f"; {expect}"
                out += _block(q.sql, "SQL")
            else:
                out[-1] += f"; {expect} (SQL in the full checklist)"
        else:
            out[-1] += f": {_code(q.sql)}; {expect}"
        actual = _actual(q, x.blocking or x.kind != "preflight")
        if actual:
            out.append(f"  - actual: {_md_text(actual)}")
        return out


def _md_text(text: str) -> str:
    """Plain text that Markdown shows as written (and reads well raw): `->` is an arrow, other
    `<` and `>` never open HTML; backquoted code spans are kept."""
    parts = re.split(r"(`[^`]+`)", text)
    return "".join(p if p.startswith("`") else
                   p.replace("->", "→").replace("<", "&lt;").replace(">", "&gt;") for p in parts)


def checklist_markdown(cl: Checklist, *, limit: int = MAX_MARKDOWN, out: str | None = None) -> str:
    """The Markdown checklist, shortened until it fits `limit` characters (GitHub's comment
    limit): first the SQL moves out, then long sections and the summary are cut, with a note
    saying where the full text is (`out`, the --out file, when given)."""
    full = _Md(cl).render()
    if len(full) <= limit:
        return full
    where = (f"The full checklist is in {_code(out)}." if out else
             "Run `planner checklist` with `--out FILE` for the full text.")
    attempts: list[dict[str, Any]] = [{"sql": False}]
    for n in (50, 20, 10, 5, 2, 0):
        attempts.append({"sql": False, "max_items": n, "max_rows": max(n * 4, 10)})
    for kw in attempts:
        text = _Md(cl, note=where, **kw).render()
        if len(text) <= limit:
            return text
    # the last resort: cut at a line boundary, and say so
    tail = f"\n\n> Cut here at {limit:,} characters. {where}\n"
    head = text[: limit - len(tail)]
    return head[: head.rfind("\n")] + tail


# --------------------------------------------------------------------------- text

def checklist_text(cl: Checklist) -> str:
    out = [f"Release checklist: {cl.old_source} -> {cl.new_source}",
           f"{DIALECT_NAMES[cl.dialect]} · planner {cl.version} · {cl.verdict}",
           f"pre-flight results: {'from ' + cl.db + ' (read-only)' if cl.db else 'not run (no --db)'}", ""]
    out += [f"* {n}" for n in [cl.revision_note, *cl.notes]] + [""]
    out.append("SUMMARY")
    for r in cl.rows:
        out.append(f"  {r.level:<8} {r.kind} {r.object}  [{', '.join(r.codes) or '-'}]")
        lock = f"{r.lock} on {r.table}" if r.table and r.lock != "none" else r.lock
        out.append(f"           lock: {lock}; may block: {r.blocks}")
        out.append(f"           data at risk: {r.data_at_risk}; downgrade restores it: {r.restored}")
    if not cl.rows:
        out.append("  no changes")
    out.append("")
    for i, s in enumerate(cl.sections, 1):
        out.append(f"{i}. {s.label.upper()}" + (f"  revision {s.revision}" if s.revision else ""))
        out += [f"   deploy before: {s.deploy_before}", f"   during:        {s.during}",
                f"   deploy after:  {s.deploy_after}", "   steps:"]
        out += [f"     - {t}" for t in s.steps]
        for x in s.items:
            out.append(f"   [ ] {x.text}")
            if x.query is not None:
                out += [f"         {ln}" for ln in x.query.sql.splitlines()]
                out.append(f"         {_expectation(x.query)}")
                actual = _actual(x.query, x.blocking or x.kind != "preflight")
                if actual:
                    out.append(f"         actual: {actual.replace('**', '')}")
        for t in s.restores:
            out.append(f"   rollback brings back: {t}")
        for t in s.not_restored:
            out.append(f"   rollback does not bring back: {t}")
        out.append("")
    out += ["SIGN-OFF", *[f"  [ ] {r}: signed off by (name, date)" for r in cl.signoff], ""]
    return "\n".join(out)
