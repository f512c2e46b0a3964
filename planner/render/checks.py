"""Pre-flight check output: the terminal view, the JSON document (product.md) and the
commented SQL file a DBA runs on a replica (`planner check --sql`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from planner.render.json_report import envelope

if TYPE_CHECKING:
    from planner.checks import Check, CheckOutcome

STATUS_STYLE = {"PASS": "green", "FAIL": "bold red", "WARN": "yellow", "ERROR": "bold magenta"}


def status(o: CheckOutcome) -> str:
    """PASS (verified clean), FAIL (a blocking check found rows), WARN (a non-blocking one
    did), ERROR (the check could not run)."""
    if o.error is not None:
        return "ERROR"
    if o.passed:
        return "PASS"
    return "FAIL" if o.blocking_failed else "WARN"


def summary(outcomes: Sequence[CheckOutcome]) -> dict[str, int]:
    """`failed`: blocking checks that found rows and checks that could not run; `informative`:
    non-blocking checks that found rows (what a drop destroys, values rounded), not failures."""
    return {"checks": len(outcomes), "failed": sum(o.failed for o in outcomes),
            "blocking_failed": sum(o.blocking_failed for o in outcomes),
            "informative": sum(o.informed for o in outcomes)}


# --------------------------------------------------------------------------- JSON

def check_document(outcomes: Sequence[CheckOutcome], *, dialect: str, old_source: str | None,
                   new_source: str | None) -> dict[str, Any]:
    """The `planner check --format json` document (keys sorted by `dumps`)."""
    doc = envelope(dialect, old_source, new_source)
    doc["checks"] = [_check_json(o) for o in outcomes]
    doc["summary"] = summary(outcomes)
    return doc


def _check_json(o: CheckOutcome) -> dict[str, Any]:
    c = o.check
    out: dict[str, Any] = {
        "change_id": c.change_id, "kind": c.kind.value, "table": c.table, "columns": list(c.columns),
        "sql": c.sql or None, "count": o.count, "passed": o.passed, "blocking": c.blocking,
        "samples": o.samples,
    }
    if o.error is not None:
        out["error"] = o.error
    if c.covered:
        out["covered"] = c.covered
    return out


# --------------------------------------------------------------------------- terminal

def checks_view(outcomes: Sequence[CheckOutcome], *, source: str | None = None) -> RenderableType:
    """Per check: status, kind, change, what it looks for, the count and the sample rows."""
    parts: list[RenderableType] = []
    if source:
        parts.append(Text(f"Pre-flight checks on {source}\n", style="bold"))
    if not outcomes:
        parts.append(Text("No change depends on the data: nothing to check."))
    width = max((len(o.check.kind.value) for o in outcomes), default=0)
    for o in outcomes:
        parts.extend(_outcome_lines(o, width))
    parts.append(summary_line(outcomes))
    return Group(*parts)


def _outcome_lines(o: CheckOutcome, width: int) -> list[RenderableType]:
    c = o.check
    st = status(o)
    head = Text()
    head.append(st.ljust(6), style=STATUS_STYLE[st])
    head.append(c.kind.value.ljust(width) + "  ")
    head.append(c.change_id, style="bold")
    if not c.blocking:
        head.append("  (informs, does not block)", style="dim")
    out: list[RenderableType] = [head, Text("      " + c.description, style="dim")]
    if o.error is not None:
        out.append(Text("      " + o.error, style=STATUS_STYLE["ERROR"]))
    else:
        found = Text(f"      {o.count:,} {plural(o.count or 0, c.unit)}")
        if c.covered and o.count:
            found.append(f" ({c.covered})", style="dim")
        elif c.blocking:
            found.append(f" (expected {c.expect})", style="dim")
        else:
            found.append(" (for information)", style="dim")
        out.append(found)
        if o.samples:
            out.append(Padding(_sample_table(o.samples), (0, 0, 0, 8), expand=False))
    if c.note and o.error is None:
        out.append(Text(f"      note: {c.note}", style="dim"))
    return out


def plural(n: int, unit: str) -> str:
    """`1 row`, `2 rows`, `1 duplicate group`."""
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def _sample_table(samples: list[dict[str, Any]]) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, padding=(0, 2, 0, 0))
    columns = list(samples[0])
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in samples:
        table.add_row(*[Text(_cell(row.get(name))) for name in columns])
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    return str(value)


def summary_line(outcomes: Sequence[CheckOutcome]) -> Text:
    s = summary(outcomes)
    passed = s["checks"] - s["failed"] - s["informative"]
    text = Text(f"\n{s['checks']} check{'s' if s['checks'] != 1 else ''}: {passed} passed, ")
    text.append(f"{s['failed']} failed", style="bold red" if s["blocking_failed"] else "")
    text.append(f" ({s['blocking_failed']} blocking)")
    if s["informative"]:
        text.append(f", {s['informative']} informative")
    return text


# --------------------------------------------------------------------------- SQL file

_BEGIN = {
    "postgresql": ["BEGIN TRANSACTION READ ONLY;", "SET LOCAL statement_timeout = '{timeout}s';"],
    "mysql": ["-- Timeout: SET SESSION max_statement_time = {timeout}; (MariaDB) or",
              "--          SET SESSION max_execution_time = {timeout_ms}; (MySQL)",
              "START TRANSACTION READ ONLY;"],
    "sqlite": ["PRAGMA query_only = ON;", "BEGIN;"],
}
# ON_ERROR_ROLLBACK: psql wraps each statement in a savepoint, so a check that fails (a
# timeout) does not abort the transaction and every later check still runs
_RUN = {"postgresql": "psql -v ON_ERROR_ROLLBACK=on -d DBNAME -f FILE", "mysql": "mysql DBNAME < FILE",
        "sqlite": "sqlite3 DATABASE_FILE < FILE"}


def checks_sql(checks: Sequence[Check], *, dialect: str, old_source: str, new_source: str,
               timeout_s: float = 30, sample: int = 5, server_version: int | None = None) -> str:
    """One commented SQL file: a header, then per check the change, what it finds, the
    expected result, the count query and the sample query, each ending with `;`.
    `server_version` is the PostgreSQL major version the checks were built for."""
    lines = [
        "-- planner pre-flight checks (read-only)",
        f"-- OLD: {_comment(old_source)}",
        f"-- NEW: {_comment(new_source)}",
        f"-- Dialect: {dialect}; {len(checks)} check{'s' if len(checks) != 1 else ''}",
        *_server_lines(dialect, server_version),
        "--",
        "-- Run it on a replica (or the primary: nothing here writes), e.g.",
        f"--   {_RUN[dialect]}",
        "-- Each count query returns 0 when its change is safe; the sample query after it",
        f"-- lists up to {sample} offending rows. data_loss checks count what a drop destroys:",
        "-- they inform and never block.",
        "",
    ]
    timeout = f"{timeout_s:g}"
    lines += [line.format(timeout=timeout, timeout_ms=int(timeout_s * 1000)) for line in _BEGIN[dialect]]
    for i, c in enumerate(checks, 1):
        lines += ["", *_check_block(c, i, len(checks), sample)]
    lines += ["", "ROLLBACK;"]
    return "\n".join(lines) + "\n"


def _server_lines(dialect: str, version: int | None) -> list[str]:
    if dialect != "postgresql" or version is None:
        return []
    if version >= 16:
        return [f"-- Written for PostgreSQL {version}: casts are tested with pg_input_is_valid (16+)."]
    return ["-- Written for PostgreSQL 12 and later: casts are tested by pattern (pg_input_is_valid,",
            "-- the exact test, needs 16: planner check --sql --server-version 16 writes it)."]


def _check_block(c: Check, i: int, n: int, sample: int) -> list[str]:
    role = "blocking" if c.blocking else "informs"
    out = [f"-- [{i}/{n}] {c.kind.value} · {_comment(c.change_id)} · {role}",
           f"-- {_comment(c.description)}"]
    if c.note:
        out.append(f"-- Note: {_comment(c.note)}")
    if c.covered:
        out.append(f"-- The plan deals with the rows it finds: {_comment(c.covered)}.")
    if not c.sql:
        out.append("-- Not checked: planner could not write a query for this change.")
        return out
    if c.accept is not None and c.convert_to is not None:
        out += ["-- Converts each value in a PL/pgSQL block and prints the result as a NOTICE",
                f"-- (up to {sample} values that fail first). Expect: {_comment(c.expect)}",
                _convert_block(c, sample)]
        return out
    if c.accept is not None:
        out += ["-- Lists the values; planner tests each one (see the note).",
                f"-- Expect: {_comment(c.expect)}", _statement(c.sql)]
        return out
    if c.blocking:
        out += [f"-- Expect: {_comment(c.expect)}", _statement(c.sql)]
    else:  # informative: any count is an answer, none is a failure
        out += ["-- Informs, never blocks: any count is an answer (0: nothing is affected).", _statement(c.sql)]
    if c.sample_sql:
        out += [f"-- Sample (up to {sample} {'groups' if c.unit == 'duplicate groups' else 'rows'}):",
                _statement(c.sample_sql)]
    return out


def _convert_block(c: Check, sample: int) -> str:
    """A DO block that converts every value the check lists to `c.convert_to` and reports how
    many fail (it reads only: a failed conversion is caught in its own subtransaction). Names
    reach it only quoted: in the listing SQL, as a quoted record field and as string literals."""
    field = '"' + (c.accept_label or "").replace('"', '""') + '"'
    body = "\n".join([
        "DECLARE r record; bad bigint := 0; shown int := 0;",
        "BEGIN",
        "  FOR r IN",
        "\n".join("    " + line for line in c.sql.rstrip().rstrip(";").splitlines()),
        "  LOOP",
        f"    BEGIN PERFORM (r.{field})::{c.convert_to};",
        "    EXCEPTION WHEN others THEN",
        "      bad := bad + 1;",
        f"      IF shown < {int(sample)} THEN shown := shown + 1; RAISE NOTICE '% does not convert: %', "
        f"{_literal(c.change_id)}, r; END IF;",
        "    END;",
        "  END LOOP;",
        f"  RAISE NOTICE '%: % values do not convert to {c.convert_to} (expected %)', {_literal(c.change_id)}, "
        f"bad, {_literal(c.expect)};",
        "END",
    ])
    tag, n = "$planner$", 0
    while tag in body:  # a name holding the tag must not end the block
        n += 1
        tag = f"$planner{n}$"
    return f"DO {tag}\n{body}\n{tag};"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _statement(sql: str) -> str:
    return sql.rstrip().rstrip(";") + ";"


def _comment(text: str) -> str:
    """Text safe inside a `--` comment: no line breaks or other control characters (a
    table name holding a newline must not end the comment and smuggle in SQL)."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text))
