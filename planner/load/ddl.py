"""SQL DDL loader: split a script into statements and replay them into a schema model."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement: its text without the trailing delimiter and where it starts."""

    text: str
    line: int
    column: int


_PG_STRING = r"[eE]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
_MY_STRING = r"'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\"\"|\\.)*\"|`(?:[^`]|``)*`"
_COMMON = r"--[^\n]*|/\*.*?(?:\*/|\Z)|[A-Za-z_][A-Za-z0-9_$]*|;"
_TOKEN = {
    "postgresql": re.compile(_PG_STRING + r"|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|" + _COMMON, re.S),
    "mysql": re.compile(_MY_STRING + r"|#[^\n]*|" + _COMMON, re.S),
    "sqlite": re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|" + _COMMON, re.S),
}
_MY_QUOTED = re.compile(_MY_STRING + r"|#[^\n]*|--[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.I)
_COMPOUND_HEAD = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:AGGREGATE\s+)?"
    r"(PROCEDURE|FUNCTION|TRIGGER|EVENT)\b", re.I)
_COPY_STDIN = re.compile(r"COPY\b[^;]*\bFROM\s+STDIN\b", re.I)


class _Splitter:
    """Scans SQL text once, cutting it at delimiters outside strings, comments and bodies."""

    def __init__(self, text: str, dialect: str) -> None:
        self.text = text
        self.dialect = dialect
        self.token = _TOKEN.get(dialect, _TOKEN["postgresql"])
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.out: list[Statement] = []

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def emit(self, start: int, end: int) -> None:
        body = self.text[start:end].rstrip()
        if body:
            line, col = self.position(start)
            self.out.append(Statement(body, line, col))

    def run(self) -> list[Statement]:
        text, n = self.text, len(self.text)
        pos, delimiter = 0, ";"
        while pos < n:
            start = self._skip_blank(pos)
            if start >= n:
                break
            if self.dialect == "mysql" and text.startswith(("DELIMITER", "delimiter", "Delimiter"), start):
                m = _DELIMITER.match(text, start)
                if m:
                    delimiter, pos = m.group(1), m.end()
                    continue
            if self.dialect == "postgresql" and text[start] == "\\":  # psql meta-command
                end = text.find("\n", start)
                end = n if end < 0 else end
                self.emit(start, end)
                pos = end
                continue
            end, after = self._statement_end(start, delimiter)
            self.emit(start, end)
            pos = after
            if self.dialect == "postgresql" and _COPY_STDIN.match(text, start, end):
                pos = self._skip_copy_data(pos)
        return self.out

    def _skip_blank(self, pos: int) -> int:
        """First offset at or after `pos` that is not whitespace or a comment."""
        text, n = self.text, len(self.text)
        while pos < n:
            ch = text[pos]
            if ch.isspace():
                pos += 1
            elif text.startswith("--", pos) or (ch == "#" and self.dialect == "mysql"):
                nl = text.find("\n", pos)
                pos = n if nl < 0 else nl + 1
            elif text.startswith("/*", pos):
                close = text.find("*/", pos + 2)
                pos = n if close < 0 else close + 2
            else:
                break
        return pos

    def _skip_copy_data(self, pos: int) -> int:
        m = re.compile(r"^\\\.[ \t]*$", re.M).search(self.text, pos)
        return m.end() if m else len(self.text)

    def _statement_end(self, start: int, delimiter: str) -> tuple[int, int]:
        """(end of the statement text, offset after its delimiter)."""
        if delimiter != ";":
            return self._custom_end(start, delimiter)
        text, n = self.text, len(self.text)
        compound = self._compound_kind(start)
        depth, pos = 0, start
        while True:
            m = self.token.search(text, pos)
            if m is None:
                return n, n
            tok, pos = m.group(), m.end()
            first = tok[0]
            if tok == ";":
                if depth <= 0:
                    return m.start(), m.end()
            elif first == "$":  # PostgreSQL dollar quote: jump to the closing tag
                close = text.find(tok, pos)
                if close < 0:
                    return n, n
                pos = close + len(tok)
            elif compound and (first.isalpha() or first == "_"):
                depth = self._track_block(tok.upper(), pos, depth, compound)

    def _compound_kind(self, start: int) -> str | None:
        """'mysql' for a stored program whose body holds `;`, 'atomic' for PG BEGIN ATOMIC."""
        m = _COMPOUND_HEAD.match(self.text, start)
        if not m:
            return None
        if self.dialect == "mysql":
            return "mysql"
        if self.dialect == "postgresql" and m.group(1).upper() in ("FUNCTION", "PROCEDURE"):
            return "atomic"
        if self.dialect == "sqlite" and m.group(1).upper() == "TRIGGER":
            return "sqlite"
        return None

    def _next_word(self, pos: int) -> str:
        m = re.compile(r"\s*([A-Za-z_]+)").match(self.text, pos)
        return m.group(1).upper() if m else ""

    def _track_block(self, word: str, after: int, depth: int, compound: str) -> int:
        if word == "BEGIN":
            if compound == "atomic":
                return depth + 1 if self._next_word(after) == "ATOMIC" else depth
            return depth + 1
        if word == "CASE":
            return depth + 1 if (compound != "atomic" or depth > 0) else depth
        if word == "END":
            if self._next_word(after) in ("IF", "LOOP", "WHILE", "REPEAT"):
                return depth
            return depth - 1 if depth > 0 else depth
        return depth

    def _custom_end(self, start: int, delimiter: str) -> tuple[int, int]:
        """Statement end under a MySQL client `DELIMITER` other than `;`."""
        text, pos, n = self.text, start, len(self.text)
        while True:
            hit = text.find(delimiter, pos)
            if hit < 0:
                return n, n
            m = _MY_QUOTED.search(text, pos)
            if m is None or m.start() >= hit:
                return hit, hit + len(delimiter)
            pos = max(m.end(), pos + 1)


def split_statements(text: str, dialect: str) -> list[Statement]:
    """Cut SQL text into statements, honouring quotes, comments, dollar quoting, MySQL
    `DELIMITER` and stored-program bodies. Positions are 1-based line and column."""
    return _Splitter(text, dialect).run()


# --------------------------------------------------------------------------- tokens

_TOKEN_RE = {
    "postgresql": re.compile(r"""
        (?P<ws>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
      | (?P<estr>[eE]'(?:[^'\\]|''|\\.)*')
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")*")
      | (?P<dollar>\$\$.*?\$\$|\$(?P<tag>[^\W\d]\w*)\$.*?\$(?P=tag)\$)
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<op>::|<>|!=|<=|>=|\|\||->>|->|\#>>|\#>|&&|@>|<@|\$\d+|\S)
    """, re.S | re.X),
    "mysql": re.compile(r"""
        (?P<ws>\s+|--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
      | (?P<estr>'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|""|\\.)*")
      | (?P<qid>`(?:[^`]|``)*`)
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<op><=>|<>|!=|<=|>=|\|\||->>|->|:=|&&|\S)
    """, re.S | re.X),
    "sqlite": re.compile(r"""
        (?P<ws>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<op><>|!=|<=|>=|\|\||->>|->|\S)
    """, re.S | re.X),
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "Z": "\x1a"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # word, qid (quoted identifier), str, num, op, dollar
    text: str  # as written
    start: int  # offset in the statement text
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def value(self) -> str:
        """Identifier without quotes, string contents unescaped."""
        if self.kind == "qid":
            q = self.text[0]
            close = "]" if q == "[" else q
            return self.text[1:-1].replace(close * 2, close) if q != "[" else self.text[1:-1]
        if self.kind == "str":
            return self.text[1:-1].replace("''", "'")
        if self.kind == "estr":
            body = self.text[2:-1] if self.text[0] in "eE" else self.text[1:-1]
            quote = "'" if self.text[-1] == "'" else '"'
            return _unescape(body.replace(quote * 2, quote))
        if self.kind == "dollar":
            tag_len = self.text.index("$", 1) + 1
            return self.text[tag_len:-tag_len]
        return self.text


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S)


def _tokenize(text: str, dialect: str) -> list[_Tok]:
    out = []
    for m in _TOKEN_RE[dialect].finditer(text):
        kind = m.lastgroup
        if kind == "tag":
            kind = "dollar"
        if kind != "ws":
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
    return out


class _Syntax(Exception):
    """A syntax problem at an offset of the statement (turned into a ParseError)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class _Cursor:
    """Reads a statement's tokens front to back."""

    def __init__(self, toks: list[_Tok], text: str, dialect: str, end_offset: int | None = None) -> None:
        self.toks, self.text, self.dialect, self.i = toks, text, dialect, 0
        self.end_offset = len(text) if end_offset is None else end_offset

    # -- looking
    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def word(self, k: int = 0) -> str:
        t = self.peek(k)
        return t.upper if t else ""

    def at(self, *words: str) -> bool:
        return all(self.word(k) == w for k, w in enumerate(words))

    def at_op(self, op: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "op" and t.text == op

    @property
    def done(self) -> bool:
        return self.i >= len(self.toks)

    @property
    def offset(self) -> int:
        t = self.peek()
        return t.start if t else self.end_offset

    # -- consuming
    def next(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise _Syntax("unexpected end of statement", self.end_offset)
        self.i += 1
        return t

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error(f"expected {' '.join(words)}")

    def accept_op(self, op: str) -> bool:
        if self.at_op(op):
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            raise self.error(f"expected '{op}'")

    def error(self, message: str) -> _Syntax:
        t = self.peek()
        found = f" near {t.text[:30]!r}" if t else " at end of statement"
        return _Syntax(message + found, self.offset)

    # -- names
    def fold(self, t: _Tok) -> str:
        if t.kind == "word":
            return t.text.lower() if self.dialect == "postgresql" else t.text
        return t.value

    def is_name(self, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind in ("word", "qid")

    def name(self, what: str = "a name") -> str:
        t = self.peek()
        if t is None or t.kind not in ("word", "qid"):
            raise self.error(f"expected {what}")
        self.i += 1
        return self.fold(t)

    def qname(self, what: str = "a name") -> list[str]:
        """A dotted name: `a`, `s.a`, `"S"."A"`; returns its parts."""
        parts = [self.name(what)]
        while self.at_op(".") and self.is_name(1):
            self.i += 1
            parts.append(self.name(what))
        return parts

    def accept_if_exists(self) -> bool:
        return self.accept("IF", "EXISTS")

    def accept_if_not_exists(self) -> bool:
        return self.accept("IF", "NOT", "EXISTS")

    # -- groups
    def group(self) -> tuple[int, int]:
        """Consume a parenthesised group; return the token range inside it."""
        self.expect_op("(")
        first, depth = self.i, 1
        while True:
            t = self.next()
            if t.kind == "op" and t.text == "(":
                depth += 1
            elif t.kind == "op" and t.text == ")":
                depth -= 1
                if depth == 0:
                    return first, self.i - 1

    def skip_group(self) -> None:
        self.group()

    def text_of(self, first: int, last: int) -> str:
        """Source text of tokens [first, last)."""
        if first >= last:
            return ""
        return self.text[self.toks[first].start:self.toks[last - 1].end]

    def rest(self) -> str:
        return self.text_of(self.i, len(self.toks))

    def sub(self, first: int, last: int) -> _Cursor:
        end = self.toks[last].start if last < len(self.toks) else self.end_offset
        return _Cursor(self.toks[first:last], self.text, self.dialect, end)

    def split(self, first: int, last: int) -> list[_Cursor]:
        """Sub-cursors for the comma-separated items of tokens [first, last)."""
        items, depth, start = [], 0, first
        for j in range(first, last):
            t = self.toks[j]
            if t.kind == "op":
                if t.text in "([":
                    depth += 1
                elif t.text in ")]":
                    depth -= 1
                elif t.text == "," and depth == 0:
                    items.append(self.sub(start, j))
                    start = j + 1
        if start < last:
            items.append(self.sub(start, last))
        return items

    def until_words(self, stops: frozenset[str], *, min_tokens: int = 0) -> tuple[int, int]:
        """Consume tokens up to (not including) a stop word at depth 0; return the range."""
        first, depth = self.i, 0
        while not self.done:
            t = self.peek()
            if t.kind == "op" and t.text in "([":
                depth += 1
            elif t.kind == "op" and t.text in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and t.upper in stops and self.i - first >= min_tokens:
                break
            self.i += 1
        return first, self.i
