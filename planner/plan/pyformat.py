"""Revision bodies laid out as `ruff format` (Black's style, 88 columns) lays them out, so a
project's revisions pass `ruff format --check` as planner writes them.

Only what planner's bodies hold is formatted: calls, names, attributes, literals, lists,
tuples and dicts, in expression statements, assignments and `raise`, inside `with`, `def`
and `try` blocks, with full-line and trailing comments. SQL passed to `rt.sql` / `rt.guard` (and its `sample=`)
that spans lines is written as a triple-quoted block, indented with the code (only where SQL
ignores whitespace: never inside a quoted name, literal or dollar-quoted body). Anything else
is returned as it was (`FormatError`): the text is never changed in meaning.
"""

from __future__ import annotations

import ast
import io
import tokenize

WIDTH = 88
INDENT = "    "
#: calls whose first argument is SQL (written as a triple-quoted block when it spans lines)
SQL_CALLS = {"rt.sql", "rt.guard", "rt.guard_block"}


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
    and comments: where SQL reads any whitespace alike."""
    out: list[int] = []
    i, n = 0, len(sql)
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
                close = sql.find(tag, end + 1)
                i = n if close < 0 else close + len(tag)
            else:
                i += 1
        else:
            if ch == "\n":
                out.append(i)
            i += 1
    return out


def sql_block(sql: str, indent: str) -> str | None:
    """`sql` as a triple-quoted literal whose lines start at `indent`, when it spans lines
    (None when it does not). Newlines inside quotes stay escaped (`\\n`), so the indentation
    added at the others never changes a name or a value."""
    if "\\" in sql or "--" in sql or "/*" in sql or "#" in sql:
        return None  # escapes and comments read differently by dialect: keep it on one line
    free = _free_newlines(sql)
    if not free:
        return None
    lines, start = [], 0
    for pos in free:
        lines.append(sql[start:pos])
        start = pos + 1
    lines.append(sql[start:])

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

    body = "\n".join(indent + text(line.strip()) if line.strip() else "" for line in lines)
    return '"""\n' + body + "\n" + indent + '"""'


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
    trailing = comments.after(node) if not isinstance(node, ast.With | ast.FunctionDef | ast.Try) else ""
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
    parts, start = [], 0
    for pos in _free_newlines(sql):
        parts.append(sql[start:pos].strip())
        start = pos + 1
    parts.append(sql[start:].strip())
    return [p for p in parts if p]


def _same(a: ast.AST, b: ast.AST) -> bool:
    """The same code, but for whitespace at the free newlines of SQL blocks."""
    if type(a) is not type(b):
        return False
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
