"""Issue 15: the keyset backfill is readable PL/pgSQL in the revision (one statement a line,
indented by block), laid out the way guard SQL is, and means exactly what the runtime runs."""

from __future__ import annotations

import ast
from pathlib import Path

from planner.plan import pyformat
from planner.plan.build import _keyset_backfill

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "centurion-money-enum-unique"
BATCH = "5000"


def _parts(call: str) -> list[str]:
    node = ast.parse(call).body[0].value
    return [a.value for a in node.args]


def test_the_backfill_block_is_one_statement_a_line():
    call = _keyset_backfill("users", ("id",), "\"role\" = 'INSTRUCTOR'", "\"role\"::text = 'COACH'", "users.role")
    parts = _parts(call)
    assert len(parts) == 1  # the batch size is a variable of the block (planner.batch_rows / batch_ms)
    sql = parts[0]
    lines = [ln.strip() for ln in sql.splitlines()]
    assert lines[:3] == ["DO $planner$", "DECLARE", "planner_n bigint := 0;"]
    assert 'planner_last_0 "users"."id"%TYPE;' in lines
    assert sum(ln.endswith(" LIMIT planner_batch") for ln in lines) == 2
    # a batch's COMMIT, and the one out of a batch rolled back on a row lock (before its retry)
    assert lines.count("COMMIT;") == 2 and lines[-1] == "END $planner$"
    assert all(len(ln) < 120 for ln in lines)
    # indented by block: the loop's statements deeper than LOOP, the IF branches deeper still
    depth = {ln.strip(): len(ln) - len(ln.lstrip()) for ln in sql.splitlines()}  # last occurrence
    first: dict[str, int] = {}
    for ln in sql.splitlines():
        first.setdefault(ln.strip(), len(ln) - len(ln.lstrip()))
    assert first["DECLARE"] == first["BEGIN"] < first["LOOP"] < depth["COMMIT;"] == first["EXIT WHEN NOT FOUND;"]
    assert depth["COMMIT;"] < depth['UPDATE "users" SET "role" = \'INSTRUCTOR\'']
    # the batch is timed from its UPDATE (its row locks) to its COMMIT
    assert lines.index("planner_started := clock_timestamp();") < lines.index("COMMIT;") \
        < next(i for i, ln in enumerate(lines) if ln.startswith("planner_took :="))


def test_the_revision_shows_each_part_as_an_indented_block():
    text = next(GOLDEN.glob("*_backfill_*.py")).read_text()
    assert "rt.batched(\n" in text and "\\n" not in text.split("rt.batched(", 1)[1].split("rt.sql", 1)[0]
    assert "            \"\"\"\n            DO $planner$\n            DECLARE\n                planner_n bigint := 0;" in text
    assert "                    COMMIT;\n" in text
    longest = max(len(line) for line in text.splitlines() if "rt.batched" not in line)
    assert longest < 200, longest  # was one ~700-character line per backfill


def test_formatted_parts_run_the_same_statement():
    code = _keyset_backfill('s."we""ird"', ("a", "b"), "\"v\" = 'x\ny'", "\"v\" IS NULL", "t.v")
    out = pyformat.body(code)
    assert out.count('"""') == 2  # one block: the formatter did not fall back
    before, after = _parts(code), _parts(out.strip())
    assert len(before) == len(after)
    assert pyformat._sql_words(BATCH.join(before)) == pyformat._sql_words(BATCH.join(after))
    assert "'x\\ny'" in out  # a newline inside a literal stays escaped: never re-indented


def test_parts_not_cut_at_a_line_break_stay_as_they_are():
    code = "rt.batched('DO $planner$ BEGIN PERFORM 1 LIMIT ', ' ; END $planner$')"
    assert pyformat.body(code) == "    " + code.replace("'", '"')
    # a function body is stored as written: its newlines are never re-indented
    create = "rt.sql('CREATE FUNCTION f() RETURNS int AS $$\\nSELECT 1\\n$$ LANGUAGE sql')"
    assert "\\nSELECT 1\\n" in pyformat.body(create)


def test_hostile_names_keep_their_value_and_pass_ruff(tmp_path):
    """Every name of the runtime-module hostile list as table and column: the blocks hold the
    same statement (names never re-indented) and `ruff format --check` accepts the file."""
    import subprocess

    from .test_runtime_module import HOSTILE, _ruff

    lines = []
    for h in HOSTILE:
        code = _keyset_backfill(h.replace("\x00", ""), ("id", h), f"{pyformat.string(h)} = 1", "true", h)
        out = pyformat.body(code)
        before, after = _parts(code), _parts(out.strip())
        assert pyformat._sql_words(BATCH.join(before)) == pyformat._sql_words(BATCH.join(after)), h
        for a, b in zip(before, after, strict=True):  # a name's own characters are never touched
            assert a.count(h) == b.count(h) or "\n" in h, h
        lines.append(out)
    module = tmp_path / "m.py"
    module.write_text("def upgrade() -> None:\n" + "\n".join(lines) + "\n")
    r = subprocess.run([*_ruff(), "format", "--isolated", "--no-cache", "--check", "--diff", str(module)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sum('"""' in ln for ln in lines) >= len(HOSTILE) // 2  # most are laid out as blocks
