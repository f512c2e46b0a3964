"""Revision bodies laid out as `ruff format` (Black's style, 88 columns) lays them out, so a
project's revisions pass `ruff format --check` as planner writes them.

Only what planner's bodies hold is formatted: calls, names, attributes, literals, lists,
tuples and dicts, in expression statements, assignments and `raise`, inside `with`, `def`,
`if` (without `else`) and `try` blocks, with full-line and trailing comments. SQL passed to `rt.sql` / `rt.guard` (and its `sample=`)
that spans lines is written as a triple-quoted block, indented with the code and keeping its own
indentation (only where SQL ignores whitespace: never inside a quoted name, a literal or a
dollar-quoted body, but for the body of a `DO` block, which is PL/pgSQL code run once and
never stored); the parts of `rt.batched` (a `DO` block cut where the runtime puts its batch
size) are one such block each. Anything else is returned as it was (`FormatError`): the text
is never changed in meaning.
"""

from __future__ import annotations

import ast
import io
import tokenize

WIDTH = 88
INDENT = "    "
#: calls whose first argument is SQL (written as a triple-quoted block when it spans lines)
SQL_CALLS = {"rt.sql", "rt.guard", "rt.guard_block"}
#: the call whose arguments are the parts of one statement (joined by the runtime's BATCH_SIZE)
SQL_PARTS_CALL = "rt.batched"
#: what PostgreSQL's and MySQL's lexers read as whitespace (Python's str.strip takes more)
SQL_SPACE = " \t\r\f"


class FormatError(Exception):
    """Code holding something this formatter does not lay out."""


def _escape_char(ch: str, quote: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch == quote:
        return "\\" + ch
    if ch.isprintable():
        return ch
    return repr(ch)[1:-1]  # \n, \t, \x1b, \u2028, ... as Python writes them


def string(value: str) -> str:
    """A one-line string literal with ruff's quotes: double, unless the text holds more double
    quotes than single ones."""
    quote = "'" if value.count('"') > value.count("'") else '"'
    return quote + "".join(_escape_char(ch, quote) for ch in value) + quote


def _free_newlines(sql: str) -> list[int]:
    """Offsets of the newlines of `sql` outside quoted names, literals, dollar-quoted bodies
    and comments: where SQL reads any whitespace alike. The body of a `DO` block is PL/pgSQL,
    read the same way: it runs once and is never stored, so its layout means nothing."""
    out: list[int] = []
    i, n = 0, len(sql)
    code_tag: str | None = None
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif ch == "$":
            end = sql.find("$", i + 1)
            tag = sql[i:end + 1] if end > 0 else ""
            if tag and all(c.isalnum() or c == "_" for c in tag[1:-1]) and not tag[1:2].isdigit():
                if tag == code_tag:  # the end of the DO block's body
                    code_tag, i = None, end + 1
                elif code_tag is None and sql[:i].strip(SQL_SPACE + "\n").upper() == "DO":
                    code_tag, i = tag, end + 1  # a DO block's body: PL/pgSQL, read as code
                else:
                    close = sql.find(tag, end + 1)
                    i = n if close < 0 else close + len(tag)
            else:
                i += 1
        else:
            if ch == "\n":
                out.append(i)
            i += 1
    return out


def _unsafe(sql: str) -> bool:
    """Escapes and comments read differently by dialect: such SQL stays on one line."""
    return "\\" in sql or "--" in sql or "/*" in sql or "#" in sql


def _lines(sql: str) -> list[str]:
    """`sql` cut at its free newlines."""
    lines, start = [], 0
    for pos in _free_newlines(sql):
        lines.append(sql[start:pos])
        start = pos + 1
    return [*lines, sql[start:]]


def _margin(lines: list[str]) -> int:
    """The indentation the non-blank lines share."""
    return min((len(ln) - len(ln.lstrip(SQL_SPACE)) for ln in lines if ln.strip(SQL_SPACE)), default=0)


def _quoted_block(lines: list[str], indent: str, margin: int) -> str:
    """`lines` as a triple-quoted literal: each at `indent` plus its own indentation beyond
    `margin` (none when `margin` is negative), without trailing blanks; blank lines at either
    end left out. Newlines inside
    quotes stay escaped (`\\n`), so the indentation added at the others never changes a
    name or a value."""

    def text(part: str) -> str:
        out = []
        for k, ch in enumerate(part):
            if ch == '"' and k + 1 < len(part) and part[k + 1] == '"':
                out.append('\\"')  # never `"""` inside (the closing quotes are on a line of their own)
            elif ch == "\n":
                out.append("\\n")
            else:
                out.append(_escape_char(ch, ""))
        return "".join(out)

    def laid(line: str) -> str:
        line = line.rstrip(SQL_SPACE)
        own = len(line) - len(line.lstrip(SQL_SPACE))
        return indent + text(line[min(own, margin):]) if line else ""

    if margin < 0:  # no indentation of its own (a statement SQLAlchemy compiled: its breaks only)
        lines, margin = [ln.strip(SQL_SPACE) for ln in lines], 0

    body = [laid(ln) for ln in lines]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return '"""\n' + "\n".join(body) + "\n" + indent + '"""'


def sql_block(sql: str, indent: str) -> str | None:
    """`sql` as a triple-quoted literal whose lines start at `indent` (a DO block keeping its
    own indentation), when it spans lines (None when it does not)."""
    if _unsafe(sql):
        return None
    lines = _lines(sql)
    if len(lines) < 2:
        return None
    return _quoted_block(lines, indent, _margin(lines) if _is_do(sql) else -1)


def _is_do(sql: str) -> bool:
    return sql.lstrip(SQL_SPACE + "\n")[:3].upper() in ("DO ", "DO$", "DO\n")


def sql_parts_blocks(parts: list[str], indent: str) -> list[str] | None:
    """The parts of one statement (`rt.batched`'s: the runtime joins them with its batch size)
    as one triple-quoted block each, indented as the whole statement is; None unless each
    part ends, and the next starts, at a free newline of the statement (the blocks add
    whitespace there)."""
    if not parts or any("\x00" in p for p in parts):
        return None
    joined = "\x00".join(parts)
    if _unsafe(joined):
        return None
    free = set(_free_newlines(joined))
    cut = [pos for pos, ch in enumerate(joined) if ch == "\x00"]
    if not all(pos - 1 in free and pos + 1 in free for pos in cut):
        return None
    groups: list[list[str]] = [[]]
    for line in _lines(joined):
        if line == "\x00":
            groups.append([])
        else:
            groups[-1].append(line)
    margin = _margin([ln for g in groups for ln in g])
    if any(not any(ln.strip(SQL_SPACE) for ln in g) for g in groups):
        return None
    return [_quoted_block(g, indent, margin) for g in groups]


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""


def flat(node: ast.AST) -> str:
    """`node` on one line, spaced and quoted as ruff writes it."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return flat(node.value) + "." + node.attr
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return string(node.value)
        if node.value is None or isinstance(node.value, bool | int | float):
            return repr(node.value)
        raise FormatError(f"constant {node.value!r}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return "-" + flat(node.operand)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return "not " + flat(node.operand)
    if isinstance(node, ast.keyword):
        return ("**" if node.arg is None else node.arg + "=") + flat(node.value)
    if isinstance(node, ast.Starred):
        return "*" + flat(node.value)
    if isinstance(node, ast.Call):
        return flat(node.func) + "(" + ", ".join(flat(a) for a in _items(node)) + ")"
    if isinstance(node, ast.List):
        return "[" + ", ".join(flat(e) for e in node.elts) + "]"
    if isinstance(node, ast.Tuple):
        if len(node.elts) == 1:
            return "(" + flat(node.elts[0]) + ",)"
        return "(" + ", ".join(flat(e) for e in node.elts) + ")"
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise FormatError("dict unpacking")
        return "{" + ", ".join(f"{flat(k)}: {flat(v)}" for k, v in zip(node.keys, node.values, strict=True)) + "}"
    raise FormatError(type(node).__name__)


def _items(node: ast.Call) -> list[ast.AST]:
    items: list[ast.AST] = [*node.args, *node.keywords]
    return sorted(items, key=lambda a: (a.lineno, a.col_offset)) if all(hasattr(a, "lineno") for a in items) \
        else items


def _fits(line: str) -> bool:
    return len(line) <= WIDTH and "\n" not in line


def expression(node: ast.AST, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
    """The lines of `prefix node suffix` at `indent`: on one line when it fits, else split at
    its last brackets (the arguments on one line, else one per line with a trailing comma),
    recursively, as Black's right-hand split does."""
    if isinstance(node, ast.Call) and _dotted(node.func) in SQL_CALLS:
        lines = _sql_call(node, indent, prefix, suffix)
        if lines is not None:
            return lines
    parts = _sql_parts(node)
    if parts is not None:
        blocks = sql_parts_blocks(parts, indent + INDENT)
        if blocks is not None:
            return [indent + prefix + flat(node.func) + "(", *[indent + INDENT + b + "," for b in blocks],
                    *[indent + INDENT + flat(k) + "," for k in node.keywords], indent + ")" + suffix]
    line = indent + prefix + flat(node) + suffix
    if _fits(line):
        return [line]
    if isinstance(node, ast.Call):
        opener, items, closer, display = flat(node.func) + "(", _items(node), ")", False
    elif isinstance(node, ast.List):
        opener, items, closer, display = "[", list(node.elts), "]", True
    elif isinstance(node, ast.Tuple) and len(node.elts) > 1:
        opener, items, closer, display = "(", list(node.elts), ")", True
    elif isinstance(node, ast.keyword) and node.arg is not None:
        return expression(node.value, indent, prefix + node.arg + "=", suffix)
    elif isinstance(node, ast.Starred):
        return expression(node.value, indent, prefix + "*", suffix)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return expression(node.operand, indent, prefix + "not ", suffix)
    else:
        return [line]  # an atom that does not fit (a long string): as it is
    if not items:
        return [line]
    inner = indent + INDENT
    head, tail = indent + prefix + opener, indent + closer + suffix
    if len(items) == 1:
        return [head, *expression(items[0], inner), tail]
    body = inner + ", ".join(flat(i) for i in items)
    if not display and _fits(body):
        return [head, body, tail]
    out = [head]
    for item in items:
        out += expression(item, inner, suffix=",")
    return [*out, tail]


def _sql_call(node: ast.Call, indent: str, prefix: str, suffix: str) -> list[str] | None:
    """A call of SQL_CALLS whose SQL (the first argument, `sample=`) spans lines: one argument
    a line, the SQL as blocks; None when none spans lines."""
    inner = indent + INDENT
    items = _items(node)
    parts, blocks = [], 0
    for i, item in enumerate(items):
        value = item.value if isinstance(item, ast.keyword) else item
        is_sql = (i == 0 and not isinstance(item, ast.keyword)) or \
            (isinstance(item, ast.keyword) and item.arg == "sample")
        block = sql_block(value.value, inner) if is_sql and isinstance(value, ast.Constant) \
            and isinstance(value.value, str) else None
        if block is None:
            parts.append(inner + flat(item))
        else:
            blocks += 1
            parts.append(inner + (f"{item.arg}=" if isinstance(item, ast.keyword) else "") + block)
    if not blocks:
        return None
    body = [p + "," for p in parts] if len(parts) > 1 else parts
    return [indent + prefix + flat(node.func) + "(", *body, indent + ")" + suffix]


class _Comments:
    """The comments of a piece of code: full-line ones by line, trailing ones by line."""

    def __init__(self, code: str) -> None:
        self.full: dict[int, str] = {}
        self.trailing: dict[int, str] = {}
        code_lines: set[int] = set()
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                (self.trailing if tok.start[0] in code_lines else self.full)[tok.start[0]] = tok.string
            elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                  tokenize.ENDMARKER):
                code_lines.update(range(tok.start[0], tok.end[0] + 1))
        self.taken: set[int] = set()

    def before(self, line: int) -> list[str]:
        out = [text for n, text in sorted(self.full.items()) if n < line and n not in self.taken]
        self.taken |= {n for n in self.full if n < line}
        return out

    def after(self, node: ast.stmt) -> str:
        end = node.end_lineno or node.lineno
        text = self.trailing.get(end)
        return "  " + text if text else ""


def _header(node: ast.stmt) -> str:
    if isinstance(node, ast.With):
        return "with " + ", ".join(flat(i.context_expr) + (f" as {flat(i.optional_vars)}" if i.optional_vars else "")
                                   for i in node.items) + ":"
    if isinstance(node, ast.FunctionDef):
        if node.decorator_list or node.args.args or node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
            raise FormatError("function with arguments or decorators")
        returns = f" -> {flat(node.returns)}" if node.returns else ""
        return f"def {node.name}(){returns}:"
    raise FormatError(type(node).__name__)


def _block(body: list[ast.stmt], indent: str, comments: _Comments) -> list[str]:
    out: list[str] = []
    previous: ast.stmt | None = None
    for node in body:
        leading = [indent + c for c in comments.before(node.lineno)]
        is_def = isinstance(node, ast.FunctionDef)
        if previous is not None and (is_def or isinstance(previous, ast.FunctionDef)):
            out.append("")  # one empty line before and after a nested function
        elif previous is None and is_def and not leading:
            out.append("")  # ... and before one that opens a block, unless a comment does
        out += leading
        out += _statement(node, indent, comments)
        previous = node
    return out


def _statement(node: ast.stmt, indent: str, comments: _Comments) -> list[str]:
    trailing = comments.after(node) if not isinstance(node, ast.With | ast.FunctionDef | ast.Try | ast.If) else ""
    if isinstance(node, ast.Expr):
        return expression(node.value, indent, suffix=trailing)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return expression(node.value, indent, prefix=flat(node.targets[0]) + " = ", suffix=trailing)
    if isinstance(node, ast.Raise) and node.exc is not None and node.cause is None:
        return expression(node.exc, indent, prefix="raise ", suffix=trailing)
    if isinstance(node, ast.Pass):
        return [indent + "pass" + trailing]
    if isinstance(node, ast.With | ast.FunctionDef):
        header = [indent + _header(node)]
        if not _fits(header[0]):
            if not (isinstance(node, ast.With) and len(node.items) == 1):
                raise FormatError("long block header")
            item = node.items[0]
            target = f" as {flat(item.optional_vars)}" if item.optional_vars else ""
            header = expression(item.context_expr, indent, prefix="with ", suffix=target + ":")
        return [*header, *_block(node.body, indent + INDENT, comments)]
    if isinstance(node, ast.If) and not node.orelse:
        return [*expression(node.test, indent, prefix="if ", suffix=":"), *_block(node.body, indent + INDENT, comments)]
    if isinstance(node, ast.Try) and not node.handlers and not node.orelse and node.finalbody:
        return [indent + "try:", *_block(node.body, indent + INDENT, comments),
                indent + "finally:", *_block(node.finalbody, indent + INDENT, comments)]
    raise FormatError(type(node).__name__)


def body(code: str, indent: str = INDENT) -> str:
    """`code` (statements of a function body, not indented) formatted at `indent`, or as it was
    (indented) when it holds something this module does not lay out."""
    plain = "\n".join(indent + ln if ln.strip() else "" for ln in code.splitlines())
    try:
        tree = ast.parse(code)
        comments = _Comments(code)
        lines = _block(tree.body, indent, comments)
        lines += [indent + c for c in comments.before(10**9)]
        formatted = "\n".join(lines)
        same = _same(ast.parse("def f():\n" + formatted), ast.parse("def f():\n" + plain)) \
            and sorted(_comments(formatted)) == sorted(_comments(code))
    except (FormatError, SyntaxError, tokenize.TokenError):
        return plain
    return formatted if same else plain


def _comments(code: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]


def _sql_words(sql: str) -> list[str]:
    """`sql` cut at its free newlines, each part stripped (what a SQL block may re-indent)."""
    parts = [line.strip(SQL_SPACE) for line in _lines(sql.strip(SQL_SPACE + "\n"))]
    return [p for p in parts if p]


def _same(a: ast.AST, b: ast.AST) -> bool:
    """The same code, but for whitespace at the free newlines of SQL blocks."""
    if type(a) is not type(b):
        return False
    parts_a, parts_b = _sql_parts(a), _sql_parts(b)
    if parts_a is not None and parts_b is not None:  # one statement: compared whole
        return len(parts_a) == len(parts_b) and (
            parts_a == parts_b or _sql_words("\x00".join(parts_a)) == _sql_words("\x00".join(parts_b)))
    if isinstance(a, ast.Constant):
        if a.value == b.value:
            return True
        return isinstance(a.value, str) and isinstance(b.value, str) and _sql_words(a.value) == _sql_words(b.value)
    for field in a._fields:
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y) or not all(
                    _same(i, j) if isinstance(i, ast.AST) else i == j for i, j in zip(x, y, strict=True)):
                return False
        elif isinstance(x, ast.AST):
            if not _same(x, y):
                return False
        elif x != y:
            return False
    return True


def _sql_parts(node: ast.AST) -> list[str] | None:
    """The parts of an `rt.batched(...)` call of string literals (its keywords follow them)."""
    if isinstance(node, ast.Call) and _dotted(node.func) == SQL_PARTS_CALL \
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
        return [a.value for a in node.args]
    return None
