"""Every identifier of a revision's Alembic operations quoted, through public SQLAlchemy API.

SQLAlchemy quotes a name only where it must (upper case, a reserved word, ...); generated SQL
quotes every identifier. A name given as `sqlalchemy.sql.quoted_name(name, quote=True)` is
always quoted, online and in `--sql` output, and Alembic passes it through to the table,
column, index and constraint objects it compiles. Alembic's renderer writes plain strings,
so the string arguments that name something (by the parameter names of Alembic's own
operations, and the name arguments of the SQLAlchemy constructs it renders) are wrapped in
the runtime's `rt.q(...)` (that `quoted_name`). Values (enum labels, defaults, CHECK
conditions, comments, `type_=`) are left alone.
"""

from __future__ import annotations

import ast
import inspect
from functools import lru_cache

#: parameters of Alembic's operations that take identifiers (or lists of them)
IDENTIFIER_PARAMETERS = frozenset({
    "table_name", "column_name", "new_column_name", "index_name", "constraint_name", "schema",
    "source_table", "referent_table", "source_schema", "referent_schema", "old_table_name",
    "new_table_name", "local_cols", "remote_cols", "columns", "postgresql_include"})
#: SQLAlchemy constructs: (how many leading positional arguments are names, or -1 for all;
#: the keyword arguments that are names)
CONSTRUCTS = {
    "sa.Column": (1, {"name"}),
    "sa.Table": (1, {"schema"}),
    "sa.Index": (-1, {"name"}),
    "sa.Sequence": (1, {"schema"}),
    "sa.PrimaryKeyConstraint": (-1, {"name"}),
    "sa.UniqueConstraint": (-1, {"name"}),
    "sa.ForeignKeyConstraint": (1, {"name"}),  # refcolumns ("table.column") are parsed by SQLAlchemy
    "sa.CheckConstraint": (0, {"name"}),
    "sa.Enum": (0, {"name", "schema"}),
    "postgresql.ENUM": (0, {"name", "schema"}),
    "mysql.ENUM": (0, set()),
}
QUOTE = "rt.q"


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return inner + "." + node.attr if inner else ""
    return ""


@lru_cache(maxsize=256)
def _parameters(receiver: str, name: str) -> tuple[tuple[str, ...], bool] | None:
    """The positional parameter names of Alembic's `op.name` / `batch_op.name`, and whether it
    takes *args; None when Alembic has no such operation."""
    from alembic.operations import BatchOperations, Operations

    fn = getattr(BatchOperations if receiver == "batch_op" else Operations, name, None)
    if fn is None or not callable(fn):
        return None
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    positional = tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    return positional, any(p.kind == p.VAR_POSITIONAL for p in params)


def _names_in(node: ast.expr) -> list[ast.Constant]:
    """The string constants of `node` that are names: itself, or the items of a list/tuple."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.List | ast.Tuple):
        return [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _identifiers(call: ast.Call) -> list[ast.Constant]:
    func = _dotted(call.func)
    out: list[ast.Constant] = []
    receiver, _, name = func.rpartition(".")
    if receiver in ("op", "batch_op"):
        params = _parameters(receiver, name)
        if params is None:
            return []
        positional, _ = params
        for i, arg in enumerate(call.args):
            if i < len(positional) and positional[i] in IDENTIFIER_PARAMETERS:
                out += _names_in(arg)
        for kw in call.keywords:
            if kw.arg in IDENTIFIER_PARAMETERS:
                out += _names_in(kw.value)
        return out
    if func in CONSTRUCTS:
        leading, keywords = CONSTRUCTS[func]
        args = call.args if leading < 0 else call.args[:leading]
        for arg in args:
            out += _names_in(arg)
        for kw in call.keywords:
            if kw.arg in keywords:
                out += _names_in(kw.value)
    return out


def force_quotes(code: str) -> str:
    """`code` with every identifier argument of its Alembic operations and SQLAlchemy
    constructs wrapped in `rt.q(...)` (unchanged when it does not parse)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    targets = [c for node in ast.walk(tree) if isinstance(node, ast.Call) for c in _identifiers(node)]
    if not targets:
        return code
    lines = [line.encode() for line in code.splitlines(keepends=True)]
    # right to left, so the offsets of what is left to wrap stay valid (col_offset is in bytes)
    for c in sorted(targets, key=lambda c: (c.lineno, c.col_offset), reverse=True):
        if c.end_lineno != c.lineno or c.end_col_offset is None:
            continue  # a string over several lines: planner's renderers write none
        row = lines[c.lineno - 1]
        segment = row[c.col_offset:c.end_col_offset]
        lines[c.lineno - 1] = row[:c.col_offset] + QUOTE.encode() + b"(" + segment + b")" + row[c.end_col_offset:]
    return b"".join(lines).decode()
