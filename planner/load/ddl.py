"""SQL DDL loader: split a script into statements and replay them, in order, into the model.

How it reads SQL:

1. `split_statements` cuts the text at `;` outside strings, comments, PostgreSQL dollar quotes,
   MySQL `DELIMITER` blocks and stored-program bodies (`BEGIN ... END`), keeping positions.
2. Each statement is routed on its verb and object word (`CREATE` + `TABLE`, `ALTER` + `TYPE`,
   ...) through the `_HANDLERS` table. DDL that changes what the model holds is read by small
   recursive-descent readers over a token stream (`_Cursor`); everything inside a clause that
   is an *expression* (defaults, CHECKs, index expressions and predicates, generated columns,
   view queries) goes to sqlglot through `planner.normalize`. sqlglot alone falls back to an
   opaque `Command` for a large share of real DDL (ALTER SEQUENCE, ALTER TYPE, ADD GENERATED AS
   IDENTITY, RENAME CONSTRAINT, MySQL prefix keys, ...), so the statement structure is read here.
   Statements planner does not know at all are handed to sqlglot to tell malformed SQL (a
   `ParseError` at the file position) from valid SQL planner does not model (a warning).
3. `Replayer` applies each statement to a mutable builder (tables, enums, views, sequences keyed
   by `(schema, name)`) the way the database would: default constraint and index names, MySQL's
   implicit foreign-key indexes, dependent objects dropped with a column, renames followed by
   foreign keys and expressions. `Replayer.schema()` freezes it into `planner.model.Schema`.

`planner.load.migrations` drives the same `Replayer` over a folder of migration files.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import operator
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from planner.errors import Location, ParseError, PlannerError, SourceError, UnsupportedError
from planner.load import check_dialect
from planner.load.common import (
    Loaded,
    LoadWarning,
    apply_name_limits,
    build_check,
    build_column,
    build_part,
    build_where,
    finalize_schema,
    normalize_action,
)
from planner.model import (
    DEFAULT_SCHEMA,
    Check,
    Column,
    Enum,
    ForeignKey,
    Index,
    IndexPart,
    PrimaryKey,
    Schema,
    Table,
    View,
    qualify,
)
from planner.naming import pg_default_name, pg_object_name
from planner.normalize import (
    ExpressionError,
    TypeTextError,
    canonical_type,
    mysql_unescape,
    normalize_expression,
    parse_expression,
    quote_table,
    split_qualified,
    sqlglot_dialect,
    unknown_type,
)

if TYPE_CHECKING:
    import sqlglot.errors
    from sqlglot import exp

# sqlglot (~75 ms to import) is imported where an expression or an unknown statement needs it:
# replaying plain DDL does not

# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement: its text without the trailing delimiter and where it starts."""

    text: str
    line: int
    column: int
    #: the statement's tokens when the splitter read them while looking for its end (offsets
    #: relative to `text`, as `_tokenize(text)` gives them); None: tokenized when replayed
    toks: list[_Tok] | None = field(default=None, compare=False, repr=False)
    #: a CREATE INDEX in the plain shape Prisma writes, read by the splitter in one match:
    #: (unique, index name, table name, column names, offset of the table name)
    simple_index: tuple[bool, str, str, tuple[str, ...], int] | None = field(default=None, compare=False,
                                                                              repr=False)


_PG_STRING = r"[eE]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
_MY_STRING = r"'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\"\"|\\.)*\"|`(?:[^`]|``)*`"
_COMMON = r"--[^\n]*|/\*.*?(?:\*/|\Z)|[A-Za-z_][A-Za-z0-9_$]*|;"
_TOKEN = {
    "postgresql": re.compile(_PG_STRING + r"|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|" + _COMMON, re.S),
    "mysql": re.compile(_MY_STRING + r"|#[^\n]*|" + _COMMON, re.S),
    "sqlite": re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|" + _COMMON, re.S),
}
#: A statement that is not a stored program ends at the first `;` outside strings, quoted names,
#: comments and dollar quotes: `_TOKEN`'s tokens but `;` and dollar quotes are skipped in one
#: possessive run (with every character that starts no token), so one match is one `;` or
#: dollar quote (`.` takes a character whose token is unterminated, `\Z` the end of the text).
_NOT_END = r"[A-Za-z_][A-Za-z0-9_$]*|-(?!-)|/(?!\*)|--[^\n]*|/\*.*?(?:\*/|\Z)"
_PLAIN_END = {
    d: re.compile(f"(?:{quoted}|{_NOT_END}|[^A-Za-z_;\\-/{starts}])*+(?:(;|{dollar})|.|\\Z)", re.S)
    for d, quoted, starts, dollar in (
        ("postgresql", _PG_STRING, "'\"$", r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$"),
        ("mysql", _MY_STRING + r"|#[^\n]*", "'\"`#", "(?!)"),
        ("sqlite", r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]", "'\"`\\[", "(?!)"),
    )
}
#: `CREATE [UNIQUE] INDEX "name" ON "table"("col", ...);` as Prisma writes it (PostgreSQL and
#: SQLite): names without `"` whose quoted form is under 40 characters (`Replayer._note_long_names`
#: notes longer tokens), no
#: comment inside. A third of the statements of a Prisma schema's SQL; read in one match, then
#: replayed as `_create_index` replays them (`Replayer._simple_index`; a test compares the two)
_SIMPLE_INDEX = re.compile(
    r'CREATE (UNIQUE )?INDEX "([^"]{1,37})" ON "([^"]{1,37})"\(((?:"[^"]{1,37}", )*"[^"]{1,37}")\);')
_SIMPLE_INDEX_COLUMN = re.compile(r'"([^"]*)"')
#: MySQL executable comments `/*!50001 ... */` (MariaDB `/*M!100100 ... */`): code, not comments
_MY_CONDITIONAL = re.compile(r"/\*(M?)!(\d*)(.*?)\*/", re.S)
_MY_QUOTED = re.compile(_MY_STRING + r"|#[^\n]*|--[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.I)
_COMPOUND_HEAD = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:AGGREGATE\s+)?"
    r"(PROCEDURE|FUNCTION|TRIGGER|EVENT)\b", re.I)
_COPY_STDIN = re.compile(r"COPY\b[^;]*\bFROM\s+STDIN\b", re.I)


class _Splitter:
    """Scans SQL text once, cutting it at delimiters outside strings, comments and bodies."""

    def __init__(self, text: str, dialect: str, *, tokens: bool = False) -> None:
        self.text = text
        self.dialect = dialect
        self.token = _TOKEN.get(dialect, _TOKEN["postgresql"])
        #: tokenize the statements the replayer reads token by token while finding their end
        #: (one scan instead of two; PostgreSQL and SQLite, whose delimiter is always `;`)
        self.tokens = tokens and dialect in ("postgresql", "sqlite")
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def emit(self, start: int, end: int, toks: list[_Tok] | None = None,
             simple_index: tuple[bool, str, str, tuple[str, ...], int] | None = None) -> Iterator[Statement]:
        body = self.text[start:end].rstrip()
        if body:
            line, col = self.position(start)
            return (Statement(body, line, col, toks, simple_index),)
        return ()

    def run(self) -> list[Statement]:
        return list(self.statements())

    def statements(self) -> Iterator[Statement]:
        """The statements, one at a time (a statement's tokens are dropped once it is replayed)."""
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
                yield from self.emit(start, end)
                pos = end
                continue
            if self.tokens and text.startswith("CREATE ", start) and (m := _SIMPLE_INDEX.match(text, start)):
                cols = tuple(_SIMPLE_INDEX_COLUMN.findall(m.group(4)))
                yield from self.emit(start, m.end() - 1, None,
                                     (m.group(1) is not None, m.group(2), m.group(3), cols, m.start(3) - 1 - start))
                pos = m.end()
                continue
            if self.tokens and (found := self._tokenized_end(start)) is not None:
                end, pos, toks = found
                yield from self.emit(start, end, toks)
                continue
            end, after = self._statement_end(start, delimiter)
            yield from self.emit(start, end)
            pos = after
            if self.dialect == "postgresql" and _COPY_STDIN.match(text, start, end):
                pos = self._skip_copy_data(pos)

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
            elif text.startswith("/*", pos) and not (self.dialect == "mysql" and _MY_CONDITIONAL.match(text, pos)):
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
        if compound is None:
            return self._plain_end(start)
        depth, pos, prev = 0, start, ""
        while True:
            m = self.token.search(text, pos)
            if m is None:
                return n, n
            tok, pos = m.group(), m.end()
            first = tok[0]
            if tok == ";":
                if depth <= 0:
                    return m.start(), m.end()
                prev = ""
            elif first == "$":  # PostgreSQL dollar quote: jump to the closing tag
                close = text.find(tok, pos)
                if close < 0:
                    return n, n
                pos = close + len(tok)
            elif compound and (first.isalpha() or first == "_"):
                word = tok.upper()
                if prev != "END":  # END IF / END CASE / END LOOP close, they do not open
                    depth = self._track_block(word, pos, depth, compound)
                prev = word

    def _plain_end(self, start: int) -> tuple[int, int]:
        """`_statement_end` of a statement that is not a stored program: the first `;` outside
        strings, quoted names, comments and dollar quotes."""
        text, n, pos = self.text, len(self.text), start
        search = _PLAIN_END.get(self.dialect, _PLAIN_END["postgresql"]).search
        while True:
            m = search(text, pos)
            tok, pos = m.group(1), m.end()
            if tok is None:
                if pos >= n:
                    return n, n
            elif tok == ";":
                return m.start(1), pos
            elif tok[0] == "$":  # PostgreSQL dollar quote: jump to the closing tag
                close = text.find(tok, pos)
                if close < 0:
                    return n, n
                pos = close + len(tok)

    def _tokenized_end(self, start: int) -> tuple[int, int, list[_Tok]] | None:
        """(end, offset after the `;`, tokens) of a plain statement the replayer tokenizes, read
        by the tokenizer; None for any other statement, or one with an unterminated quote
        (`_plain_end` reads those)."""
        m = _VERB.match(self.text, start)
        if m is None or m.group(1).upper() not in _TOKENIZED_VERBS or self._compound_kind(start) is not None:
            return None
        toks, stop = _tokenize(self.text, self.dialect, start)
        if stop is None:
            return None
        end = len(self.text) if stop < 0 else stop
        if not self.text[start:end].isascii():
            # a non-ASCII letter is a word character to the tokenizer (PostgreSQL's too) but not
            # to `_plain_end` (`é$$`, `$é$`): its reading of the end stands, for the same result
            return None
        return end, (end if stop < 0 else end + 1), toks

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
            if self._next_word(after) in ("IF", "LOOP", "WHILE", "REPEAT", "FOR"):
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
    # the commonest tokens first (a quoted name, a word: the alternatives are tried in order);
    # a word is not the E'...' or U&'...' string it starts
    "postgresql": re.compile(r"""
        (?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z))*+
      (?:(?P<qid>"(?:[^"]|"")*")
      | (?P<word>(?![eE]'|[uU]&')[^\W\d][\w$]*)
      | (?P<str>'(?:[^']|'')*')
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<estr>[eE]'(?:[^'\\]|''|\\.)*'|[uU]&'(?:[^']|'')*'(?:\s*UESCAPE\s*'[^']')?)
      | (?P<dollar>\$\$.*?\$\$|\$(?P<tag>[^\W\d]\w*)\$.*?\$(?P=tag)\$)
      | (?P<end>\Z)
      | (?P<op>::|<>|!=|<=|>=|\|\||->>|->|\#>>|\#>|&&|@>|<@|\$\d+|\S))
    """, re.S | re.X),
    "mysql": re.compile(r"""
        (?:\s+|--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))*+
      (?:(?P<end>\Z)
      | (?P<estr>'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|""|\\.)*")
      | (?P<qid>`(?:[^`]|``)*`)
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<op><=>|<>|!=|<=|>=|\|\||->>|->|:=|&&|\S))
    """, re.S | re.X),
    "sqlite": re.compile(r"""
        (?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z))*+
      (?:(?P<end>\Z)
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<word>[^\W\d][\w$]*)
      | (?P<op><>|!=|<=|>=|\|\||->>|->|\S))
    """, re.S | re.X),
}
_PG_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_PG_ESCAPE = re.compile(
    r"''|\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)


class _Tok(NamedTuple):
    """A token (a tuple: made once per token of every statement, read many times)."""

    kind: str  # word, qid (quoted identifier), str, num, op, dollar
    text: str  # as written
    start: int  # offset in the statement text
    end: int
    #: a word's text in upper case ("" for other kinds): what the parser compares
    upper: str

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
            if self.text[0] in "eE":
                return _pg_unescape(self.text[2:-1])
            if self.text[0] in "uU":
                return _pg_unicode_string(self.text)
            return mysql_unescape(self.text[1:-1], self.text[0])
        if self.kind == "dollar":
            tag_len = self.text.index("$", 1) + 1
            return self.text[tag_len:-tag_len]
        return self.text


def _pg_unescape(body: str) -> str:
    """The value of a PostgreSQL `E'...'` string body: backslash escapes and doubled quotes."""
    def one(m: re.Match) -> str:
        if m.group() == "''":
            return "'"
        octal, hexa, u4, u8, other = m.groups()
        if other is not None:
            return _PG_ESCAPES.get(other, other)
        if octal is not None:
            return chr(int(octal, 8) & 0xFF)
        return chr(int(hexa or u4 or u8, 16))
    return _PG_ESCAPE.sub(one, body)


def _pg_unicode_string(text: str) -> str:
    """The value of a PostgreSQL `U&'...' [UESCAPE 'c']` string."""
    m = re.match(r"[uU]&'((?:[^']|'')*)'(?:\s*UESCAPE\s*'([^']))?", text, re.S)
    body, esc = (m.group(1).replace("''", "'"), m.group(2) or "\\") if m else (text, "\\")
    e = re.escape(esc)
    return re.sub(rf"{e}(?:{e}|\+([0-9A-Fa-f]{{6}})|([0-9A-Fa-f]{{4}}))",
                  lambda x: chr(int(x.group(1) or x.group(2), 16)) if (x.group(1) or x.group(2)) else esc,
                  body)


_tok_text = operator.itemgetter(1)  # a token's text
_new_tok = tuple.__new__  # _Tok(...) without the Python-level __new__ of a NamedTuple


def _tokenize(text: str, dialect: str, start: int | None = None) -> tuple[list[_Tok], int | None]:
    """The tokens of a statement's text; with `start`, the statement starting at that offset of
    a whole file, up to its `;`: (tokens, offset of the `;` or -1 at the end of the text), with
    offsets relative to `start`, or ([], None) when an unterminated quote, name or dollar quote
    makes the statement's end a question for `_Splitter._plain_end`."""
    # one match per token: whitespace and comments are skipped inside the matches (possessively,
    # so a comment is never re-read as operators), and `end` takes what is left at the end
    out: list[_Tok] = []
    append = out.append
    base = start or 0
    for m in _TOKEN_RE[dialect].finditer(text, base):
        kind = m.lastgroup
        if kind == "op" and start is not None:
            tok = m["op"]
            if tok == ";":
                return out, m.end() - 1
            if tok in _OPEN_QUOTES:
                return [], None
        elif kind == "end":
            continue
        elif kind == "tag":
            kind = "dollar"
        tok = m[kind]
        end = m.end() - base
        append(_new_tok(_Tok, (kind, tok, end - len(tok), end, tok.upper() if kind == "word" else "")))
    return out, (-1 if start is not None else None)


#: a quote character read as an operator: its string, name or dollar quote is not terminated
#: (`_plain_end` reads an unterminated dollar quote to the end of the text)
_OPEN_QUOTES = frozenset({"'", '"', "$"})


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
        j = self.i + k
        return self.toks[j].upper if j < len(self.toks) else ""

    def at(self, *words: str) -> bool:
        toks, i = self.toks, self.i
        if i + len(words) > len(toks):  # past the end reads as ""
            return all((toks[i + k].upper if i + k < len(toks) else "") == w for k, w in enumerate(words))
        for w in words:
            if toks[i].upper != w:
                return False
            i += 1
        return True

    def at_op(self, op: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "op" and t.text == op

    @property
    def done(self) -> bool:
        return self.i >= len(self.toks)

    @property
    def offset(self) -> int:
        i, toks = self.i, self.toks
        return toks[i].start if i < len(toks) else self.end_offset

    # -- consuming (the cursor's hot paths: the token list is read directly, not through peek)
    def next(self) -> _Tok:
        i, toks = self.i, self.toks
        if i >= len(toks):
            raise _Syntax("unexpected end of statement", self.end_offset)
        self.i = i + 1
        return toks[i]

    def accept(self, *words: str) -> bool:
        toks, i = self.toks, self.i
        if i + len(words) > len(toks):
            if self.at(*words):
                self.i += len(words)
                return True
            return False
        for w in words:
            if toks[i].upper != w:
                return False
            i += 1
        self.i = i
        return True

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
        i, toks = self.i, self.toks
        t = toks[i] if i < len(toks) else None
        if t is None or t.kind not in ("word", "qid"):
            raise self.error(f"expected {what}")
        self.i = i + 1
        if t.kind == "word":
            return t.text.lower() if self.dialect == "postgresql" else t.text
        return t.value

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
        toks, n = self.toks, len(self.toks)
        first = i = self.i
        depth = 1
        while True:
            if i >= n:
                self.i = i
                raise _Syntax("unexpected end of statement", self.end_offset)
            t = toks[i]
            i += 1
            if t.kind == "op":
                if t.text == "(":
                    depth += 1
                elif t.text == ")":
                    depth -= 1
                    if depth == 0:
                        self.i = i
                        return first, i - 1

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
        """Consume tokens up to (not including) a stop word at depth 0; return the range.
        `CHARACTER` stops only as `CHARACTER SET` (it also starts `character varying`)."""
        toks, n = self.toks, len(self.toks)
        first = i = self.i
        depth = 0
        while i < n:
            t = toks[i]
            if t.kind == "op" and t.text in "([":
                depth += 1
            elif t.kind == "op" and t.text in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and t.upper in stops and i - first >= min_tokens and (
                    t.upper != "CHARACTER" or (i + 1 < n and toks[i + 1].upper == "SET")):
                break
            i += 1
        self.i = i
        return first, i


# --------------------------------------------------------------------------- builder state

@dataclass
class _Col:
    """A column while statements are replayed; normalised by `build_column` when frozen."""

    name: str
    type_text: str
    nullable: bool = True
    default: str | None = None
    autoincrement: str | None = None
    generated: str | None = None
    comment: str | None = None
    collation: str | None = None
    #: PostgreSQL 18 names NOT NULL constraints (`CONSTRAINT x NOT NULL`)
    not_null_name: str | None = None
    #: MySQL `ON UPDATE CURRENT_TIMESTAMP[(n)]`
    on_update: str | None = None
    #: MySQL `CHARACTER SET x` (the model keeps the collation only)
    charset: str | None = None
    #: a generated column's STORED / PERSISTENT
    stored: bool = False
    #: MySQL attributes the model does not hold (Column.unkept)
    unkept: list[str] = field(default_factory=list)


#: names -> how many objects hold each (a name is in it while one does)
_NameCounts = dict[str, int]


class _Names:
    """PostgreSQL's relation names (tables, indexes, sequences, views) and constraint names per
    schema, for choosing the names PostgreSQL invents, and which tables hold an index of each
    name (every dialect: DROP INDEX by name, SQLite's database-wide index names). Kept up to
    date as objects are added (a table, an index, a key, a check) and as indexes, keys and
    checks are removed; rebuilt from the replayer's state after any other change (a dropped
    table, a rename, a replaced key). Recomputing them for every CREATE INDEX or unnamed
    constraint, or scanning every table for an index by name, made loading quadratic."""

    def __init__(self, build: Callable[[], tuple[dict, dict, dict]], fold: Callable[[str], str]) -> None:
        self._build = build
        self.fold = fold
        self.rel: dict[str | None, _NameCounts] | None = None
        self.con: dict[str | None, _NameCounts] | None = None
        #: folded index name -> the tables holding an index of that name (once per index)
        self.idx: dict[str, list[_Table]] | None = None
        #: the replayer's tables (set by it): a table's additions count once it is registered
        self.tables: dict[tuple[str | None, str], _Table] = {}

    def _built(self) -> None:
        if self.rel is None or self.con is None or self.idx is None:
            self.rel, self.con, self.idx = self._build()

    def relations(self, schema: str | None) -> _NameCounts:
        """Do not modify the mapping returned (test membership only)."""
        self._built()
        return self.rel.get(schema) or {}  # type: ignore[union-attr]

    def constraints(self, schema: str | None) -> _NameCounts:
        """Do not modify the mapping returned (test membership only)."""
        self._built()
        return self.con.get(schema) or {}  # type: ignore[union-attr]

    def index_tables(self, name: str) -> list[_Table]:
        """The tables holding an index named `name` (folded as the dialect compares names)."""
        self._built()
        return self.idx.get(self.fold(name)) or []  # type: ignore[union-attr]

    def stale(self) -> None:
        self.rel = self.con = self.idx = None

    def add(self, schema: str | None, name: str | None, *, relation: bool, constraint: bool) -> None:
        if self.rel is None or self.con is None or not name:
            return
        if relation:
            counts = self.rel.setdefault(schema, {})
            counts[name] = counts.get(name, 0) + 1
        if constraint:
            counts = self.con.setdefault(schema, {})
            counts[name] = counts.get(name, 0) + 1

    def _discard(self, spaces: dict[str | None, _NameCounts], schema: str | None, name: str) -> None:
        counts = spaces.get(schema)
        if counts is None or name not in counts:
            self.stale()  # not what was counted: start again
        elif counts[name] == 1:
            del counts[name]
        else:
            counts[name] -= 1

    def _add_index(self, table: _Table, index: Index) -> None:
        self.add(table.schema, index.name, relation=True, constraint=index.constraint)
        if self.idx is not None and index.name:
            self.idx.setdefault(self.fold(index.name), []).append(table)

    def add_table(self, table: _Table) -> None:
        s = table.schema
        self.add(s, table.name, relation=True, constraint=False)
        if table.primary_key is not None:
            self.add(s, table.primary_key.name, relation=True, constraint=True)
        for i in table.indexes:
            self._add_index(table, i)
        for f in table.foreign_keys:
            self.add(s, f.name, relation=False, constraint=True)
        for c in table.checks:
            self.add(s, c.name, relation=False, constraint=True)

    def appended(self, table: _Table, attr: str, item: Index | ForeignKey | Check) -> None:
        if self.tables.get((table.schema, table.name)) is not table:
            return  # counted when the table is registered
        if attr == "indexes":
            self._add_index(table, item)  # type: ignore[arg-type]
        else:
            self.add(table.schema, item.name, relation=False, constraint=True)

    def removed(self, table: _Table, attr: str, item: Index | ForeignKey | Check) -> None:
        """`item` left `table`'s indexes, foreign keys or checks (list.remove)."""
        if self.tables.get((table.schema, table.name)) is not table:
            return
        rel, con, idx = self.rel, self.con, self.idx
        if rel is None or con is None or idx is None or not item.name:
            return
        if attr == "indexes":
            key = self.fold(item.name)
            holders = idx.get(key, [])
            at = next((k for k, t in enumerate(holders) if t is table), None)
            if at is None:
                self.stale()  # not what was counted: start again
                return
            del holders[at]
            if not holders:
                del idx[key]
            self._discard(rel, table.schema, item.name)
        if (attr != "indexes" or item.constraint) and self.con is not None:  # type: ignore[union-attr]
            self._discard(self.con, table.schema, item.name)


class _AnyOf:
    """Membership in any of several sets, without copying them into one."""

    def __init__(self, *sets: Container[str]) -> None:
        self.sets = sets

    def __contains__(self, name: object) -> bool:
        return any(name in s for s in self.sets)


class _TrackedList(list):
    """A table's indexes, foreign keys or checks: tells the name sets what changed."""

    __slots__ = ("_table", "_attr")

    def __init__(self, table: _Table, attr: str, items: object = ()) -> None:
        super().__init__(items)  # type: ignore[arg-type]
        self._table, self._attr = table, attr

    def _stale(self) -> None:
        names = self._table.__dict__.get("names")
        if names is not None:
            names.stale()

    def append(self, item: object) -> None:
        super().append(item)
        names = self._table.__dict__.get("names")
        if names is not None:
            names.appended(self._table, self._attr, item)

    def remove(self, item: object) -> None:
        # the element removed is the first equal one: the one the names counted out
        found = self[self.index(item)]
        super().remove(item)
        names = self._table.__dict__.get("names")
        if names is not None:
            names.removed(self._table, self._attr, found)

    def _mutator(name: str):  # noqa: N805 - builds the methods below
        method = getattr(list, name)

        def changed(self, *args: object, **kwargs: object) -> object:
            out = method(self, *args, **kwargs)
            self._stale()
            return out

        changed.__name__ = name
        return changed

    for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "extend", "insert", "pop",
                  "clear", "sort", "reverse"):
        locals()[_name] = _mutator(_name)
    del _name, _mutator


class _Registry(dict):
    """The replayer's objects by key (schema, name), also found by name in lower case (SQLite
    compares names case-insensitively): the first key of each (schema, lower-case name), kept
    as keys are added, rebuilt after any other change. A scan of every key per lookup made
    loading SQLite quadratic."""

    def __init__(self) -> None:
        super().__init__()
        self._folded: dict[tuple[str | None, str], tuple[str | None, str]] | None = None

    def find_folded(self, schema: str | None, name: str) -> tuple[str | None, str] | None:
        """The first key whose schema is `schema` and whose name is `name` in any case."""
        if self._folded is None:
            self._folded = {}
            for k in self:
                self._folded.setdefault((k[0], k[1].lower()), k)
        return self._folded.get((schema, name.lower()))

    def __setitem__(self, key: tuple[str | None, str], value: object) -> None:
        super().__setitem__(key, value)
        if self._folded is not None:
            self._folded.setdefault((key[0], key[1].lower()), key)

    def _changed(self) -> None:
        """After any change but a key set (the mutators below)."""
        self._folded = None

    def _mutator(name: str):  # noqa: N805 - builds the methods below
        method = getattr(dict, name)

        def changed(self, *args: object, **kwargs: object) -> object:
            out = method(self, *args, **kwargs)
            self._changed()
            return out

        changed.__name__ = name
        return changed

    for _name in ("__delitem__", "pop", "popitem", "clear", "update", "setdefault", "__ior__"):
        locals()[_name] = _mutator(_name)
    del _name, _mutator


class _TrackedDict(_Registry):
    """The replayer's tables, views or sequences: a new key adds its names, any other change
    makes the name sets stale."""

    def __init__(self, names: _Names, on_new: Callable[[tuple[str | None, str], object], None]) -> None:
        super().__init__()
        self._names, self._on_new = names, on_new

    def __setitem__(self, key: tuple[str | None, str], value: object) -> None:
        new = key not in self
        replaced = not new and self[key] is not value
        super().__setitem__(key, value)
        if new:
            self._on_new(key, value)
        else:
            self._names.stale()
            if replaced:  # another object under a key in use: it reports its changes too
                self._on_new(key, value)

    def _changed(self) -> None:
        super()._changed()
        self._names.stale()


_TRACKED_LISTS = frozenset({"indexes", "foreign_keys", "checks"})
_NAMED_ATTRS = frozenset({"schema", "name", "primary_key", "indexes", "foreign_keys", "checks"})


@dataclass
class _Table:
    schema: str | None
    name: str
    columns: list[_Col] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    comment: str | None = None
    #: MySQL: indexes the server created for a foreign key (dropped when another serves it)
    auto_indexes: set[str] = field(default_factory=set)
    #: MySQL: name the implicit index of a new foreign key gets
    fk_index_hints: dict[str, str] = field(default_factory=dict)
    #: PostgreSQL: PARTITION BY's key (RANGE (at))
    partition_by: str | None = None
    #: SQLite: STRICT, WITHOUT ROWID
    options: list[str] = field(default_factory=list)
    #: the replayer's name sets, told about every change of a name-bearing attribute
    names: _Names | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, attr: str, value: object) -> None:
        if attr in _TRACKED_LISTS:
            value = _TrackedList(self, attr, value)
        first = attr not in self.__dict__
        old = self.__dict__.get(attr)
        object.__setattr__(self, attr, value)
        names = self.__dict__.get("names")
        if names is None or first or attr not in _NAMED_ATTRS:
            return
        if attr == "primary_key" and old is None and value is not None \
                and names.tables.get((self.schema, self.name)) is self:
            names.add(self.schema, value.name, relation=True, constraint=True)  # type: ignore[attr-defined]
        elif old is not value:
            names.stale()


@dataclass
class _Enum:
    schema: str | None
    name: str
    values: list[str]


@dataclass
class _Sequence:
    schema: str | None
    name: str
    location: Location
    owned: bool = False


# parsed constraints, before they are applied to a table

@dataclass
class _PK:
    name: str | None
    columns: list[str]
    offset: int


@dataclass
class _Unique:
    """UNIQUE constraint or (MySQL) KEY/INDEX/FULLTEXT/SPATIAL inside CREATE/ALTER TABLE."""

    name: str | None
    parts: list[_Part]
    offset: int
    unique: bool = True
    method: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    deferrable: bool = False


@dataclass
class _FK:
    name: str | None
    columns: list[str]
    ref: list[str]
    ref_columns: list[str] | None
    offset: int
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: bool = False
    initially_deferred: bool = False
    match_full: bool = False
    index_name: str | None = None


@dataclass
class _Chk:
    name: str | None
    expression: str
    offset: int


@dataclass
class _NotNull:
    column: str
    offset: int
    name: str | None = None


@dataclass
class _Part:
    """An index key as written: a column or an expression with its modifiers."""

    column: str | None = None
    expression: str | None = None
    descending: bool = False
    nulls_first: bool | None = None
    opclass: str | None = None
    length: int | None = None
    collation: str | None = None


_Constraint = _PK | _Unique | _FK | _Chk | _NotNull

#: words that end a column's type and start its constraints
_COLUMN_STOPS = frozenset({
    "CONSTRAINT", "NOT", "NULL", "PRIMARY", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES",
    "GENERATED", "AS", "AUTO_INCREMENT", "AUTOINCREMENT", "COMMENT", "ON", "CHARACTER", "CHARSET",
    "KEY", "VISIBLE", "INVISIBLE", "COLUMN_FORMAT", "STORAGE", "COMPRESSION", "SRID",
    "ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE", "DEFERRABLE", "INITIALLY", "FIRST", "AFTER",
    "USING",
})
#: words that end a DEFAULT expression (at parenthesis depth 0)
_DEFAULT_STOPS = _COLUMN_STOPS - {"AS", "CHARACTER", "KEY", "USING"} | {"AUTO_INCREMENT"}
_TABLE_CONSTRAINT_START = frozenset({
    "CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "KEY", "INDEX", "FULLTEXT",
    "SPATIAL", "LIKE",
})
_REF_ACTIONS = {("CASCADE",): "CASCADE", ("RESTRICT",): "RESTRICT", ("NO", "ACTION"): "NO ACTION",
                ("SET", "NULL"): "SET NULL", ("SET", "DEFAULT"): "SET DEFAULT"}
_PG_SERIALS = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
               "smallserial": "smallint", "serial2": "smallint"}


# --------------------------------------------------------------------------- clause parsers

@dataclass
class _ColumnState:
    """A column definition being read: the column, its inline constraints, a pending name."""

    col: _Col
    constraints: list[_Constraint] = field(default_factory=list)
    name: str | None = None  # CONSTRAINT name, for the next constraint


def _parse_column_def(cur: _Cursor) -> tuple[_Col, list[_Constraint]]:
    """`name type [constraints...]` (PostgreSQL, MySQL and SQLite column definitions)."""
    start = cur.offset
    name = cur.name("a column name")
    first, last = cur.until_words(_COLUMN_STOPS)
    type_text = cur.text_of(first, last)
    if not type_text and cur.dialect != "sqlite":
        raise cur.error(f"expected a data type for column {name!r}")
    st = _ColumnState(_Col(name, type_text))
    if cur.dialect == "mysql" and type_text.upper() == "SERIAL":
        st.col.type_text, st.col.nullable, st.col.autoincrement = "bigint unsigned", False, "auto_increment"
        st.constraints.append(_Unique(None, [_Part(column=name)], start))
    while not cur.done and not (cur.at("FIRST") or cur.at("AFTER")):
        at = cur.offset
        if cur.accept("CONSTRAINT"):
            st.name = cur.name("a constraint name")
            continue
        clause = _COLUMN_CLAUSES.get(cur.word())
        if clause is None or not clause(cur, st, at):
            raise cur.error(f"unexpected word in the definition of column {name!r}")
        st.name = None
    return st.col, st.constraints


def _clause_not(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    if cur.accept("NOT", "NULL"):
        st.col.nullable, st.col.not_null_name = False, st.name
        _skip_conflict_clause(cur)
        return True
    return _accept_deferrable(cur, st.constraints) or cur.accept("NOT", "VALID") or cur.accept("NOT", "ENFORCED")


def _clause_null(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    cur.expect("NULL")
    st.col.nullable = True
    return True


def _clause_default(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    cur.expect("DEFAULT")
    lo, hi = cur.until_words(_DEFAULT_STOPS, min_tokens=1)
    if lo == hi:
        raise cur.error("expected a default value")
    st.col.default = cur.text_of(lo, hi)
    return True


def _clause_check(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    check = _parse_check(cur, st.name, at)
    st.constraints.append(check)
    # MariaDB keeps it in the column's definition, and a MODIFY drops it (not JSON's own
    # json_valid(col), which MariaDB's JSON type brings back)
    if cur.dialect == "mysql" and not re.fullmatch(r"[\s(]*json_valid\s*\(.*", check.expression, re.I | re.S):
        st.col.unkept.append("column-level CHECK")
    return True


def _clause_unique(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    cur.expect("UNIQUE")
    cur.accept("KEY") or cur.accept("INDEX")
    u = _Unique(st.name, [_Part(column=st.col.name)], at)
    u.nulls_not_distinct = _parse_nulls_distinct(cur)
    _parse_index_tail(cur, u, column=True)
    st.constraints.append(u)
    return True


def _clause_primary_key(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    if not (cur.accept("PRIMARY", "KEY") or cur.accept("KEY")):
        return False
    cur.accept("DESC") or cur.accept("ASC")
    _skip_conflict_clause(cur)
    _parse_index_tail(cur, _Unique(None, [], at), column=True)
    if cur.accept("AUTOINCREMENT"):
        st.col.autoincrement = "autoincrement"
    st.col.nullable = False
    st.constraints.append(_PK(st.name, [st.col.name], at))
    return True


def _clause_references(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    st.constraints.append(_parse_references(cur, st.name, [st.col.name], at))
    return True


def _clause_generated(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    _parse_generated(cur, st.col)
    return True


def _clause_autoincrement(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    word = cur.next().upper
    st.col.autoincrement = "auto_increment" if word == "AUTO_INCREMENT" else "autoincrement"
    return True


def _clause_comment(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    cur.expect("COMMENT")
    st.col.comment = _string(cur, "a comment string")
    return True


def _clause_collate(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    cur.expect("COLLATE")
    st.col.collation = _collation(cur)
    return True


def _clause_charset(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    if not (cur.accept("CHARACTER", "SET") or cur.accept("CHARSET")):
        return False
    cur.accept_op("=")
    st.col.charset = cur.next().text.strip("`'\"").lower()
    return True


def _clause_on(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    if cur.accept("ON", "UPDATE"):  # MySQL ON UPDATE CURRENT_TIMESTAMP[(n)]
        lo, hi = cur.until_words(_DEFAULT_STOPS, min_tokens=1)
        if cur.dialect == "mysql":
            st.col.on_update = cur.text_of(lo, hi)
        return True
    if cur.at("ON", "CONFLICT"):
        _skip_conflict_clause(cur)
        return True
    return False


def _clause_deferrable(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    return _accept_deferrable(cur, st.constraints)


def _clause_flag(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    """Words planner ignores: VISIBLE, INVISIBLE (kept as unmodelled: Column.unkept), ENFORCED,
    NO INHERIT."""
    if cur.accept("INVISIBLE"):
        if cur.dialect == "mysql":
            st.col.unkept.append("INVISIBLE")
        return True
    return cur.accept("VISIBLE") or cur.accept("ENFORCED") or cur.accept("NO", "INHERIT")


def _clause_option(cur: _Cursor, st: _ColumnState, at: int) -> bool:
    """MySQL column options with a value: COLUMN_FORMAT x, STORAGE x, SRID n, ..."""
    cur.next()
    cur.accept_op("=")
    cur.next()
    return True


_COLUMN_CLAUSES: dict[str, Callable[[_Cursor, _ColumnState, int], bool]] = {
    "NOT": _clause_not, "NULL": _clause_null, "DEFAULT": _clause_default, "CHECK": _clause_check,
    "UNIQUE": _clause_unique, "PRIMARY": _clause_primary_key, "KEY": _clause_primary_key,
    "REFERENCES": _clause_references, "GENERATED": _clause_generated, "AS": _clause_generated,
    "AUTO_INCREMENT": _clause_autoincrement, "AUTOINCREMENT": _clause_autoincrement,
    "COMMENT": _clause_comment, "COLLATE": _clause_collate, "CHARACTER": _clause_charset,
    "CHARSET": _clause_charset, "ON": _clause_on, "DEFERRABLE": _clause_deferrable,
    "INITIALLY": _clause_deferrable, "VISIBLE": _clause_flag, "INVISIBLE": _clause_flag,
    "ENFORCED": _clause_flag, "NO": _clause_flag, "COLUMN_FORMAT": _clause_option,
    "STORAGE": _clause_option, "COMPRESSION": _clause_option, "SRID": _clause_option,
    "ENGINE_ATTRIBUTE": _clause_option, "SECONDARY_ENGINE_ATTRIBUTE": _clause_option,
}


def _skip_conflict_clause(cur: _Cursor) -> None:
    """SQLite `ON CONFLICT {ROLLBACK|ABORT|FAIL|IGNORE|REPLACE}`."""
    if cur.accept("ON", "CONFLICT"):
        cur.next()


def _accept_deferrable(cur: _Cursor, constraints: list[_Constraint]) -> bool:
    """`[NOT] DEFERRABLE`, `INITIALLY {DEFERRED|IMMEDIATE}` applying to the last constraint."""
    target = constraints[-1] if constraints else None
    if cur.accept("DEFERRABLE"):
        _set_deferrable(target, True, None)
    elif cur.accept("NOT", "DEFERRABLE"):
        _set_deferrable(target, False, None)
    elif cur.accept("INITIALLY", "DEFERRED"):
        _set_deferrable(target, None, True)
    elif cur.accept("INITIALLY", "IMMEDIATE"):
        _set_deferrable(target, None, False)
    else:
        return False
    return True


def _set_deferrable(target: object, deferrable: bool | None, deferred: bool | None) -> None:
    if isinstance(target, (_FK, _Unique)):
        if deferrable is not None:
            target.deferrable = deferrable
        if deferred is not None and isinstance(target, _FK):
            target.initially_deferred = deferred
            target.deferrable = target.deferrable or deferred


def _string(cur: _Cursor, what: str) -> str | None:
    t = cur.next()
    if t.kind in ("str", "estr", "dollar"):
        return t.value
    if t.upper == "NULL":
        return None
    raise _Syntax(f"expected {what}", t.start)


def _collation(cur: _Cursor) -> str:
    cur.accept_op("=")
    parts = cur.qname("a collation")
    if len(parts) > 1 and parts[0].lower() == "pg_catalog":
        parts = parts[1:]
    return ".".join(parts)


def _parse_generated(cur: _Cursor, col: _Col) -> None:
    """GENERATED ALWAYS AS (expr) [STORED|VIRTUAL], GENERATED ... AS IDENTITY, MySQL AS (expr)."""
    if cur.accept("GENERATED"):
        if cur.accept("ALWAYS"):
            always = True
        else:
            cur.expect("BY", "DEFAULT")
            always = False
        cur.accept("ON", "NULL")
        cur.expect("AS")
        if cur.accept("IDENTITY"):
            col.autoincrement = "identity_always" if always else "identity"
            col.nullable = False
            if cur.at_op("("):
                cur.skip_group()
            return
    else:
        cur.expect("AS")
    lo, hi = cur.group()
    col.generated = cur.text_of(lo, hi)
    col.stored = bool(cur.accept("STORED") or cur.accept("PERSISTENT"))
    cur.accept("VIRTUAL")


def _parse_nulls_distinct(cur: _Cursor) -> bool:
    if cur.accept("NULLS", "NOT", "DISTINCT"):
        return True
    cur.accept("NULLS", "DISTINCT")
    return False


def _parse_index_tail(cur: _Cursor, target: _Unique, *, column: bool = False) -> None:
    """Options after a key's column list: USING, INCLUDE, WITH (...), USING INDEX TABLESPACE,
    MySQL COMMENT / KEY_BLOCK_SIZE / WITH PARSER / VISIBLE. After a column's inline `PRIMARY
    KEY` / `UNIQUE` (`column`), COMMENT and (IN)VISIBLE are the column's (MySQL's grammar)."""
    while not cur.done:
        if column and (cur.at("COMMENT") or cur.at("VISIBLE") or cur.at("INVISIBLE")):
            return
        if cur.accept("USING", "INDEX", "TABLESPACE"):
            cur.name()
        elif cur.accept("USING"):
            target.method = cur.next().text.lower()
        elif cur.accept("INCLUDE"):
            lo, hi = cur.group()
            target.include = tuple(c.name("a column name") for c in cur.split(lo, hi))
        elif cur.accept("WITH", "PARSER"):
            cur.name()
        elif cur.at("WITH") and cur.at_op("(", 1):
            cur.next()
            cur.skip_group()
        elif cur.accept("COMMENT"):
            cur.accept_op("=")
            cur.next()
        elif cur.accept("KEY_BLOCK_SIZE"):
            cur.accept_op("=")
            cur.next()
        elif cur.accept("VISIBLE") or cur.accept("INVISIBLE"):
            pass
        else:
            return


def _parse_parts(cur: _Cursor, lo: int, hi: int) -> list[_Part]:
    """Index keys: `col`, `col(10)` (MySQL prefix), `(expr)`, `func(...)`, each with
    COLLATE, operator class, ASC/DESC and NULLS FIRST/LAST."""
    parts = []
    for item in cur.split(lo, hi):
        part = _Part()
        if item.at_op("("):
            a, b = item.group()
            part.expression = item.text_of(a, b)
        elif item.is_name() and _is_call(item):
            start = item.i
            names = item.qname()
            a, b = item.group()
            inner = item.toks[a:b]
            if item.dialect == "mysql" and len(names) == 1 and len(inner) == 1 and inner[0].kind == "num":
                part.column, part.length = names[0], int(inner[0].text)
            else:
                part.expression = item.text_of(start, item.i)
        elif item.is_name():
            part.column = item.name()
        else:
            raise item.error("expected a column or an expression")
        _parse_part_modifiers(item, part)
        parts.append(part)
    if not parts:
        raise cur.error("expected at least one key column")
    return parts


def _is_call(cur: _Cursor) -> bool:
    """A (possibly schema-qualified) name followed by `(`."""
    k = 1
    while cur.at_op(".", k) and cur.is_name(k + 1):
        k += 2
    return cur.at_op("(", k)


def _parse_part_modifiers(item: _Cursor, part: _Part) -> None:
    while not item.done:
        if item.accept("COLLATE"):
            part.collation = _collation(item)
        elif item.accept("ASC"):
            part.descending = False
        elif item.accept("DESC"):
            part.descending = True
        elif item.accept("NULLS", "FIRST"):
            part.nulls_first = True
        elif item.accept("NULLS", "LAST"):
            part.nulls_first = False
        elif item.is_name():
            part.opclass = ".".join(item.qname("an operator class"))
            if item.at_op("("):
                item.skip_group()
        else:
            raise item.error("unexpected text in an index key")


def _parse_check(cur: _Cursor, name: str | None, offset: int) -> _Chk:
    cur.expect("CHECK")
    lo, hi = cur.group()
    chk = _Chk(name, cur.text_of(lo, hi), offset)
    while cur.accept("NO", "INHERIT") or cur.accept("NOT", "VALID") or cur.accept("ENFORCED") \
            or cur.accept("NOT", "ENFORCED"):
        pass
    return chk


def _parse_references(cur: _Cursor, name: str | None, columns: list[str], offset: int) -> _FK:
    cur.expect("REFERENCES")
    fk = _FK(name, columns, cur.qname("a table name"), None, offset)
    if cur.at_op("("):
        lo, hi = cur.group()
        fk.ref_columns = [c.name("a column name") for c in cur.split(lo, hi)]
    while not cur.done:
        if cur.accept("MATCH"):
            fk.match_full = cur.next().upper == "FULL"
        elif cur.accept("ON", "DELETE"):
            fk.on_delete = _ref_action(cur)
        elif cur.accept("ON", "UPDATE"):
            fk.on_update = _ref_action(cur)
        elif _accept_deferrable(cur, [fk]):
            pass
        elif cur.accept("NOT", "VALID") or cur.accept("ENFORCED") or cur.accept("NOT", "ENFORCED"):
            pass
        else:
            break
    return fk


def _ref_action(cur: _Cursor) -> str:
    for words, action in _REF_ACTIONS.items():
        if cur.accept(*words):
            if action.startswith("SET") and cur.at_op("("):
                cur.skip_group()  # PostgreSQL 15: SET NULL (col, ...)
            return action
    raise cur.error("expected CASCADE, RESTRICT, NO ACTION, SET NULL or SET DEFAULT")


def _parse_table_constraint(cur: _Cursor) -> _Constraint | str:
    """A table constraint or MySQL key definition; a str names one planner does not model."""
    offset = cur.offset
    name = None
    if cur.accept("CONSTRAINT"):
        if cur.word() not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE"):
            name = cur.name("a constraint name")
    if cur.accept("PRIMARY", "KEY"):
        u = _Unique(None, [], offset)
        _parse_index_tail(cur, u)
        lo, hi = cur.group()
        parts = _parse_parts(cur, lo, hi)
        _parse_index_tail(cur, u)
        while _accept_deferrable(cur, []):
            pass
        _skip_conflict_clause(cur)
        return _PK(name, [p.column or "" for p in parts], offset)
    if cur.word() in ("UNIQUE", "KEY", "INDEX", "FULLTEXT", "SPATIAL"):
        return _parse_key(cur, name, offset)
    if cur.accept("FOREIGN", "KEY"):
        index_name = cur.name() if cur.is_name() else None
        lo, hi = cur.group()
        columns = [c.name("a column name") for c in cur.split(lo, hi)]
        fk = _parse_references(cur, name or (index_name if cur.dialect == "mysql" else None), columns, offset)
        fk.index_name = index_name
        return fk
    if cur.at("CHECK"):
        return _parse_check(cur, name, offset)
    if cur.accept("NOT", "NULL"):
        col = cur.name("a column name")
        cur.accept("NO", "INHERIT")
        cur.accept("NOT", "VALID")
        return _NotNull(col, offset, name)
    if cur.accept("EXCLUDE"):
        return "EXCLUDE constraint" + (f' "{name}"' if name else "")
    raise cur.error("expected a column or constraint definition")


def _parse_key(cur: _Cursor, name: str | None, offset: int) -> _Unique:
    """UNIQUE [KEY|INDEX] [name] ... (parts); {KEY|INDEX} [name]; {FULLTEXT|SPATIAL} [KEY|INDEX]."""
    kind = cur.next().upper
    unique = kind == "UNIQUE"
    if kind in ("UNIQUE", "FULLTEXT", "SPATIAL"):
        cur.accept("KEY") or cur.accept("INDEX")
    u = _Unique(name, [], offset, unique=unique)
    if kind in ("FULLTEXT", "SPATIAL"):
        u.method = kind.lower()
    if cur.is_name() and cur.word() not in ("USING", "NULLS"):
        u.name = cur.name("an index name")
    u.nulls_not_distinct = _parse_nulls_distinct(cur)
    _parse_index_tail(cur, u)
    lo, hi = cur.group()
    u.parts = _parse_parts(cur, lo, hi)
    _parse_index_tail(cur, u)
    while _accept_deferrable(cur, [u]):
        pass
    _skip_conflict_clause(cur)
    return u


# --------------------------------------------------------------------------- replay

#: statements that never change the schema: skipped silently
_SKIP_VERBS = frozenset({
    "SET", "RESET", "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "MERGE", "REPLACE", "VALUES",
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "GRANT",
    "REVOKE", "PREPARE", "EXECUTE", "DEALLOCATE", "LOCK", "UNLOCK", "ANALYZE", "ANALYSE",
    "VACUUM", "PRAGMA", "USE", "REINDEX", "CLUSTER", "REFRESH", "NOTIFY", "LISTEN", "UNLISTEN",
    "CHECKPOINT", "DISCARD", "SHOW", "EXPLAIN", "COPY", "TRUNCATE", "SECURITY", "LOAD", "FLUSH",
    "OPTIMIZE", "CHECKSUM", "HANDLER", "DESCRIBE", "DESC", "TABLE", "FETCH", "CLOSE", "DECLARE",
    "MOVE", "ATTACH", "DETACH", "DELIMITER", "SOURCE", "KILL", "RESTORE", "DUMP", "SIGNAL",
    "RESIGNAL", "GET", "HELP", "REPAIR", "CACHE", "PURGE", "INSTALL", "UNINSTALL", "XA",
})
#: statements whose effect planner cannot replay: one warning each
_NOT_REPLAYED = {"DO": "DO block", "CALL": "CALL", "IMPORT": "IMPORT FOREIGN SCHEMA"}
_OBJECT_WORDS = frozenset({
    "TABLE", "INDEX", "VIEW", "MATERIALIZED", "TYPE", "SEQUENCE", "SCHEMA", "EXTENSION",
    "FUNCTION", "PROCEDURE", "TRIGGER", "RULE", "POLICY", "DOMAIN", "STATISTICS", "AGGREGATE",
    "OPERATOR", "CAST", "COLLATION", "CONVERSION", "EVENT", "DATABASE", "ROLE", "USER", "GROUP",
    "SERVER", "PUBLICATION", "SUBSCRIPTION", "LANGUAGE", "TABLESPACE", "ACCESS", "TEXT",
    "FOREIGN", "TRANSFORM", "DEFAULT", "LARGE", "SYSTEM", "ROUTINE", "COLUMN", "CONSTRAINT",
    "VIRTUAL", "LOGFILE", "PROCEDURAL", "OWNED", "INSTANCE", "RESOURCE",
})
#: objects planner does not model but that change how the schema behaves: one warning each
_NOT_MODELLED = frozenset({
    "FUNCTION", "PROCEDURE", "TRIGGER", "RULE", "POLICY", "DOMAIN", "STATISTICS", "AGGREGATE",
    "OPERATOR", "CAST", "EVENT", "FOREIGN", "VIRTUAL", "TRANSFORM", "COLLATION", "CONVERSION",
    "TEXT", "ACCESS", "LANGUAGE", "ROUTINE",
})
#: the statements the replayer reads token by token (the others are matched by their first words)
_TOKENIZED_VERBS = frozenset({"CREATE", "ALTER", "DROP", "COMMENT", "RENAME"})
_VERB = re.compile(r"(?:\s+|--[^\n]*|#[^\n]*|/\*.*?\*/)*(\\|[A-Za-z_]+)", re.S)
_NEXTVAL_SEQ = re.compile(r"nextval\s*\(\s*'([^']+)'", re.I)
_MYSQL_TABLE_OPTIONS = frozenset({
    "ENGINE", "AUTO_INCREMENT", "AVG_ROW_LENGTH", "CHARSET", "CHARACTER", "CHECKSUM", "COLLATE",
    "COMPRESSION", "CONNECTION", "DATA", "DELAY_KEY_WRITE", "ENCRYPTION", "INSERT_METHOD",
    "KEY_BLOCK_SIZE", "MAX_ROWS", "MIN_ROWS", "PACK_KEYS", "PASSWORD", "ROW_FORMAT",
    "STATS_AUTO_RECALC", "STATS_PERSISTENT", "STATS_SAMPLE_PAGES", "TABLESPACE", "UNION",
    "ENGINE_ATTRIBUTE", "SECONDARY_ENGINE_ATTRIBUTE", "AUTOEXTEND_SIZE", "PAGE_CHECKSUM",
    "TRANSACTIONAL", "IETF_QUOTES", "SEQUENCE", "WITH", "WITHOUT", "STRICT", "DEFAULT",
    "ALGORITHM", "LOCK", "FORCE", "CONVERT", "ORDER", "DISCARD", "IMPORT", "COMMENT",
})


class Replayer:
    """Applies DDL statements in order to a mutable schema; `schema()` freezes the result.

    Used by `load_sql_text` for one file and by `planner.load.migrations` for a folder.
    """

    def __init__(self, dialect: str) -> None:
        dialect = check_dialect(dialect) or "postgresql"
        self.dialect = dialect
        self.default_schema = DEFAULT_SCHEMA[dialect]
        self._names = _Names(self._build_names, (lambda n: n) if dialect == "postgresql" else str.lower)
        self.tables: dict[tuple[str | None, str], _Table] = _TrackedDict(self._names, self._new_table)
        self._names.tables = self.tables
        self.enums: dict[tuple[str | None, str], _Enum] = _Registry()
        #: lower-case names of types created but not modelled (domains, composite types)
        self.declared_types: set[str] = set()
        #: extensions created (CREATE EXTENSION) and not dropped since (PostgreSQL)
        self.extensions: set[str] = set()
        self.views: dict[tuple[str | None, str], View] = _TrackedDict(self._names, self._new_relation)
        self.sequences: dict[tuple[str | None, str], _Sequence] = _TrackedDict(self._names, self._new_relation)
        self.warnings: list[LoadWarning] = []
        #: long names and strings (maybe over the server's limit) -> where first written
        self.name_locations: dict[str, Location] = {}
        self.search_path: list[str] = ["public"] if dialect == "postgresql" else []
        self.database: str | None = None
        self.file = "<sql>"
        self.stmt = Statement("", 1, 1)

    # ------------------------------------------------------------------ driving

    def run(self, text: str, filename: str) -> None:
        """Replay every statement of `text` (read from `filename`)."""
        with _quiet_sqlglot():
            for stmt in _Splitter(text, self.dialect, tokens=True).statements():
                self.apply(stmt, filename)

    def apply(self, stmt: Statement, filename: str) -> None:
        """Replay one statement; problems are reported at `filename`'s line and column."""
        self.file, self.stmt = filename, stmt
        text = _unwrap_conditional(stmt.text) if self.dialect == "mysql" else stmt.text
        try:
            with _quiet_sqlglot():
                self._dispatch(text)
        except _Syntax as e:
            raise ParseError(str(e), self._loc(e.offset), hint=self._dialect_hint()) from None
        except PlannerError:
            raise
        except Exception as e:  # a bug in planner must still point at the statement
            raise UnsupportedError(f"cannot replay this statement ({type(e).__name__}: {e})",
                                   self._loc(0)) from e

    def _dispatch(self, text: str) -> None:
        if self.stmt.simple_index is not None and text is self.stmt.text:
            self._simple_index(*self.stmt.simple_index)
            return
        m = _VERB.match(text)
        verb = m.group(1).upper() if m else ""
        if verb == "\\":
            self._meta_command(text)
        elif verb in _NOT_REPLAYED:
            self._warn(f"{_NOT_REPLAYED[verb]} is not replayed; its effect on the schema is ignored")
        elif verb in _SKIP_VERBS:
            self._skipped_statement(verb, text)
        elif verb in _TOKENIZED_VERBS:
            toks = self.stmt.toks if text is self.stmt.text and self.stmt.toks is not None else None
            cur = _Cursor(_tokenize(text, self.dialect)[0] if toks is None else toks, text, self.dialect)
            self._note_long_names(cur)
            obj = self._object_word(cur)
            handler = _HANDLERS.get((verb, obj))
            if handler is None:
                self._other_object(verb, obj, cur)
            else:
                handler(self, cur)
        else:
            self._unknown(text)

    def schema(self) -> Schema:
        """Freeze the replayed state into the normalised model."""
        self._warn_orphan_sequences()
        with _quiet_sqlglot():
            tables = tuple(self._freeze_table(t) for _, t in sorted(self.tables.items(), key=_sort_key))
        enums = tuple(Enum(name=e.name, values=tuple(e.values), schema=e.schema)
                      for _, e in sorted(self.enums.items(), key=_sort_key))
        views = tuple(v for _, v in sorted(self.views.items(), key=_sort_key))
        schema = finalize_schema(Schema(dialect=self.dialect, tables=tables, enums=enums, views=views,
                                        extensions=tuple(sorted(self.extensions))))
        schema, found = apply_name_limits(schema, self.name_locations)
        self.warnings.extend(w for w in found if w not in self.warnings)
        return schema

    def _note_long_names(self, cur: _Cursor) -> None:
        """Remember where each long name or string is first written, for the warning (or error)
        when it is over the server's identifier limit (`apply_name_limits`); 40+ characters,
        since a name the server generates from it (`<table>_ibfk_1`) may be the long one."""
        if not cur.toks or max(map(len, map(_tok_text, cur.toks))) < 40:  # C loops: the common case
            return
        for t in cur.toks:
            if len(t.text) >= 40 and t.kind in ("word", "qid", "str", "estr", "dollar"):
                self.name_locations.setdefault(cur.fold(t), self._loc(t.start))

    # ------------------------------------------------------------------ locations, warnings

    def _dialect_hint(self) -> str | None:
        guess = guess_dialect(self.stmt.text)
        if guess != self.dialect and guess != "postgresql":
            return f"this looks like {guess} SQL, read as {self.dialect}: pass --dialect {guess}"
        return None

    def _loc(self, offset: int) -> Location:
        text = self.stmt.text
        offset = max(0, min(offset, len(text)))
        newlines = text.count("\n", 0, offset)
        if newlines == 0:
            return Location(self.file, self.stmt.line, self.stmt.column + offset)
        return Location(self.file, self.stmt.line + newlines, offset - text.rfind("\n", 0, offset))

    def _warn(self, message: str, offset: int = 0) -> None:
        self.warnings.append(LoadWarning(message, self._loc(offset)))

    def _check_type(self, col: _Col, at: int) -> None:
        """Warn about a column type that is neither built in, nor a known extension's, nor
        created earlier in the source: most often a typo the server would reject. A type text
        that cannot be read at all (broken quoting in ENUM values) is a syntax error here."""
        try:
            canonical_type(col.type_text, self.dialect)
        except TypeTextError as e:
            raise _Syntax(f"column {col.name!r}: {e}", at) from None
        name = unknown_type(col.type_text, self.dialect)
        if name is None or name in self.declared_types or any(k[1].lower() == name for k in self.enums):
            return
        self._warn(f"column {col.name!r}: type {col.type_text!r} is not a built-in type and is not created "
                   "in this source (a typo? an extension's type?)", at)

    def _display(self, schema: str | None, name: str) -> str:
        return f'"{qualify(schema, name, self.default_schema)}"'

    # ------------------------------------------------------------------ names

    def _object_word(self, cur: _Cursor) -> str:
        for k in range(1, min(len(cur.toks), 24)):
            w = cur.word(k)
            if w == "CONSTRAINT" and cur.word(k + 1) == "TRIGGER":
                return "TRIGGER"
            if w in _OBJECT_WORDS:
                return w
        return ""

    def _norm_schema(self, schema: str | None) -> str | None:
        if schema is None or schema == self.default_schema:
            return None
        if self.dialect == "sqlite" and schema.lower() == "main":
            return None
        if self.dialect == "mysql" and schema == self.database:
            return None
        return schema

    def _resolve(self, parts: list[str], registry: dict) -> tuple[str | None, str]:
        """Key of a (possibly qualified) object name, following the search path when unqualified."""
        name = parts[-1]
        if self.dialect == "sqlite":
            schema = self._norm_schema(parts[-2] if len(parts) > 1 else None)
            if isinstance(registry, _Registry):
                found = registry.find_folded(schema, name)
            else:
                found = next((k for k in registry if k[1].lower() == name.lower() and k[0] == schema), None)
            if found:
                return found
        if len(parts) > 1:
            return self._norm_schema(parts[-2]), name
        for schema in self.search_path:
            key = (self._norm_schema(schema), name)
            if key in registry:
                return key
        return self._creation_key(name)

    def _creation_key(self, name: str) -> tuple[str | None, str]:
        schema = self.search_path[0] if self.search_path else None
        return self._norm_schema(schema), name

    def _new_key(self, parts: list[str]) -> tuple[str | None, str]:
        if len(parts) > 1:
            return self._norm_schema(parts[-2]), parts[-1]
        return self._creation_key(parts[-1])

    def _table(self, parts: list[str], *, if_exists: bool = False, what: str = "ALTER TABLE",
               offset: int = 0) -> _Table | None:
        key = self._resolve(parts, self.tables)
        table = self.tables.get(key)
        if table is None and not if_exists:
            self._warn(f"{what}: table {self._display(*key)} does not exist; ignored", offset)
        return table

    def _same(self, a: str | None, b: str | None) -> bool:
        """Column, index and constraint names: case-insensitive in MySQL and SQLite."""
        if a is None or b is None:
            return a is b
        return a == b if self.dialect == "postgresql" else a.lower() == b.lower()

    def _column(self, table: _Table, name: str) -> _Col | None:
        # `_same` inlined: this runs for every column defined (a duplicate check)
        if self.dialect == "postgresql":
            for c in table.columns:
                if c.name == name:
                    return c
            return None
        low = name.lower()
        for c in table.columns:
            if c.name.lower() == low:
                return c
        return None

    # ------------------------------------------------------------------ statements we skip

    def _meta_command(self, text: str) -> None:
        word = text[1:].split(None, 1)[0] if len(text) > 1 else ""
        if word in ("i", "ir", "include", "include_relative"):
            self._warn(f"psql \\{word} is not followed; the included file is not replayed")

    def _skipped_statement(self, verb: str, text: str) -> None:
        if verb == "SET" and self.dialect == "postgresql":
            m = re.match(r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?search_path\s*(?:=|TO)\s*(.+)$", text, re.I | re.S)
            if m:
                self._set_search_path(m.group(1))
        elif verb == "SELECT" and self.dialect == "postgresql":
            m = re.search(r"set_config\s*\(\s*'search_path'\s*,\s*'([^']*)'", text, re.I)
            if m:
                self._set_search_path(m.group(1))
        elif verb == "USE" and self.dialect == "mysql":
            toks = _tokenize(text, self.dialect)[0]
            if len(toks) > 1:
                self.database = _Cursor(toks, text, self.dialect).fold(toks[1])

    def _set_search_path(self, value: str) -> None:
        names = [n for n in (x.strip().strip("'\"") for x in value.split(","))
                 if n and n.upper() not in ("DEFAULT", "$USER", "PG_CATALOG", "PG_TEMP")]
        if names:
            self.search_path = names

    def _unknown(self, text: str, *, schema_changing: bool = False) -> None:
        """A statement planner does not know: malformed SQL (as sqlglot finds it) is a ParseError;
        an unknown CREATE/ALTER/DROP is unsupported; anything else is a warning."""
        import sqlglot

        try:
            sqlglot.parse(text, read=sqlglot_dialect(self.dialect))
        except sqlglot.errors.ParseError as e:
            raise self._sqlglot_error(e) from None
        except sqlglot.errors.SqlglotError:
            pass
        words = " ".join(text.split()[:2])
        if schema_changing:
            raise UnsupportedError(f"cannot tell what {words!r} changes", self._loc(0))
        self._warn(f"statement {words!r} is not understood; ignored")

    def _sqlglot_error(self, e: sqlglot.errors.ParseError) -> ParseError:
        info = e.errors[0] if e.errors else {}
        line, col = info.get("line") or 1, info.get("col") or 1
        highlight = info.get("highlight") or ""
        col = max(1, col - len(highlight) + 1)
        lines = self.stmt.text.split("\n")
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
        message = (info.get("description") or str(e)).split("\n")[0]
        return ParseError(message, self._loc(offset), hint=self._dialect_hint())

    def _other_object(self, verb: str, obj: str, cur: _Cursor) -> None:
        """CREATE/ALTER/DROP/COMMENT of an object planner does not model."""
        if obj == "EXTENSION" and verb in ("CREATE", "DROP") and self.dialect == "postgresql":
            self._extension(verb, cur)
        elif verb == "CREATE" and obj in _NOT_MODELLED:
            label = self._object_name(cur, obj)
            if obj == "DOMAIN" and label:
                self.declared_types.add(label.strip().strip('"').split(".")[-1].lower())
            self._warn(f"CREATE {_object_label(obj, cur)} {label}is not modelled; ignored")
        elif verb == "ALTER" and obj in _NOT_MODELLED and not _has_words(cur, "OWNER", "TO"):
            self._warn(f"ALTER {_object_label(obj, cur)} {self._object_name(cur, obj)}is not modelled; ignored")
        elif verb == "ALTER" and obj == "SCHEMA" and _has_words(cur, "RENAME", "TO"):
            self._warn("ALTER SCHEMA ... RENAME TO is not replayed; objects keep their schema")
        elif not obj and verb in ("CREATE", "ALTER", "DROP"):
            self._unknown(cur.text, schema_changing=True)

    def _extension(self, verb: str, cur: _Cursor) -> None:
        """CREATE EXTENSION [IF NOT EXISTS] name ... / DROP EXTENSION [IF EXISTS] a, b ...: the
        extensions the schema declares (planner.extensions)."""
        k = next((k for k in range(len(cur.toks)) if cur.word(k) == "EXTENSION"), 0) + 1
        sub = _Cursor(cur.toks[k:], cur.text, cur.dialect)
        if verb == "CREATE":
            sub.accept_if_not_exists()
            if sub.is_name():
                self.extensions.add(sub.name("an extension name"))
            return
        sub.accept_if_exists()
        while sub.is_name():
            self.extensions.discard(sub.name("an extension name"))
            if not sub.at_op(","):
                break
            sub.i += 1

    def _object_name(self, cur: _Cursor, obj: str) -> str:
        k = next((k for k in range(len(cur.toks)) if cur.word(k) == obj), 0) + 1
        sub = _Cursor(cur.toks[k:], cur.text, cur.dialect)
        if obj == "FOREIGN":
            sub.accept("TABLE") or sub.accept("DATA", "WRAPPER")
        elif obj in ("TEXT", "ACCESS"):
            sub.i = min(2, len(sub.toks))
        elif obj == "EVENT" and sub.at("TRIGGER"):
            sub.next()
        elif obj == "VIRTUAL":
            sub.accept("TABLE")
        sub.accept_if_not_exists()
        if not sub.is_name():
            return ""
        parts = sub.qname()
        return self._display(self._norm_schema(parts[-2]) if len(parts) > 1 else None, parts[-1]) + " "

    # ------------------------------------------------------------------ freezing

    def _freeze_table(self, t: _Table) -> Table:
        columns = tuple(
            self._unkept(c, build_column(c.name, c.type_text, self.dialect, nullable=c.nullable,
                                         default=self._column_default(c), autoincrement=c.autoincrement,
                                         generated=c.generated, comment=c.comment,
                                         collation=c.collation, on_update=c.on_update))
            for c in t.columns)
        return Table(
            name=t.name, schema=t.schema, columns=columns, primary_key=t.primary_key,
            indexes=tuple(sorted(t.indexes, key=lambda i: (i.name or "", [p.label for p in i.parts]))),
            foreign_keys=tuple(sorted(t.foreign_keys, key=lambda f: (f.name or "", f.columns))),
            checks=tuple(sorted(t.checks, key=lambda c: (c.name or "", c.expression))),
            comment=t.comment, partition_by=t.partition_by, options=tuple(t.options),
        )

    def _unkept(self, c: _Col, column: Column) -> Column:
        """`column` with the MySQL attributes of `c` the model does not hold (Column.unkept)."""
        if self.dialect != "mysql":
            return column
        if c.stored and c.generated:
            column = dataclasses.replace(column, stored=True)
        unkept = list(c.unkept)
        if c.charset and not c.collation:
            unkept.append(f"CHARACTER SET {c.charset}")
        words = re.sub(r"\([^)]*\)", " ", c.type_text).upper().split()
        if "BINARY" in words[1:]:  # `CHAR(3) BINARY`: the charset's _bin collation
            unkept.append("BINARY")
        if "ZEROFILL" in words:
            unkept.append("ZEROFILL")
        return dataclasses.replace(column, unkept=tuple(dict.fromkeys(unkept))) if unkept else column

    def _column_default(self, c: _Col) -> str | None:
        if c.default is None:
            return None
        return c.default

    def _warn_orphan_sequences(self) -> None:
        used = set()
        for t in self.tables.values():
            for c in t.columns:
                m = _NEXTVAL_SEQ.search(c.default or "")
                if m:
                    parts = split_qualified(m.group(1))
                    used.add(self._resolve([p if '"' in m.group(1) else p.lower() for p in parts],
                                           self.sequences))
        for key, seq in self.sequences.items():
            if not seq.owned and key not in used:
                self.warnings.append(LoadWarning(
                    f"CREATE SEQUENCE {self._display(*key)} is not owned by a column; not modelled",
                    seq.location))

    # ------------------------------------------------------------------ CREATE TABLE

    def _create_table(self, cur: _Cursor) -> None:
        cur.expect("CREATE")
        cur.accept("OR", "REPLACE")
        temporary = False
        while cur.word() in ("GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"):
            temporary = temporary or cur.word() in ("TEMP", "TEMPORARY")
            cur.next()
        cur.expect("TABLE")
        if_not_exists = cur.accept_if_not_exists()
        at = cur.offset
        parts = cur.qname("a table name")
        if temporary:
            return
        key = self._new_key(parts)
        existing = self._resolve(parts, self.tables)
        label = self._display(*key)
        if existing in self.tables:
            if if_not_exists:
                return
            self._warn(f"CREATE TABLE {label}: the table already exists; replaced", at)
            del self.tables[existing]
        if cur.accept("PARTITION", "OF"):
            self._warn(f"CREATE TABLE {label} PARTITION OF ... is not modelled (partitions); ignored", at)
            return
        if cur.at("OF") or cur.at("AS") or cur.at("SELECT") or cur.at("CLONE"):
            how = "OF type" if cur.at("OF") else ("CLONE" if cur.at("CLONE") else "AS SELECT")
            self._warn(f"CREATE TABLE {label} {how} is not supported; the table is not modelled", at)
            return
        table = _Table(*key)
        if cur.accept("LIKE"):
            self._copy_like(table, cur, at)
            self.tables[key] = table
            self._after_table_change(table)
            return
        if not cur.at_op("("):
            raise cur.error("expected '(' and the column list")
        lo, hi = cur.group()
        self.tables[key] = table
        pending: list[_Constraint] = []
        for item in cur.split(lo, hi):
            pending.extend(self._table_element(table, item))
            if not item.done:
                raise item.error("unexpected text in a column or constraint definition")
        for c in pending:
            self._add_constraint(table, c)
        self._table_options(table, cur, label)
        self._after_table_change(table)

    def _table_element(self, table: _Table, item: _Cursor) -> list[_Constraint]:
        word = item.word()
        if word == "LIKE" and self.dialect == "postgresql":
            item.next()
            self._copy_like(table, item, item.offset)
            return []
        mysql_key = word in ("KEY", "INDEX", "FULLTEXT", "SPATIAL") and self.dialect == "mysql"
        if word in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE") or mysql_key:
            at = item.offset
            c = _parse_table_constraint(item)
            if isinstance(c, str):
                self._warn(f"{c} on table {self._display(table.schema, table.name)} is not modelled; ignored", at)
                item.i = len(item.toks)
                return []
            return [c]
        at = item.offset
        col, constraints = _parse_column_def(item)
        self._check_type(col, at)
        if self._column(table, col.name) is not None:
            raise _Syntax(f"column {col.name!r} is defined twice", at)
        self._add_column(table, col)
        return constraints

    def _copy_like(self, table: _Table, cur: _Cursor, at: int) -> None:
        paren = cur.accept_op("(") and cur.accept("LIKE")
        source = self._table(cur.qname("a table name"), what="CREATE TABLE ... LIKE", offset=at)
        options = []
        while cur.word() in ("INCLUDING", "EXCLUDING"):
            options.append((cur.next().upper, cur.next().upper))
        if paren:
            cur.expect_op(")")
        if source is None:
            return
        with_defaults = self.dialect == "mysql" or any(
            o[0] == "INCLUDING" and o[1] in ("DEFAULTS", "ALL") for o in options)
        for c in source.columns:
            table.columns.append(dataclasses.replace(c, default=c.default if with_defaults else None,
                                                     comment=c.comment if self.dialect == "mysql" else None))
        if self.dialect == "mysql":
            table.primary_key, table.indexes = source.primary_key, list(source.indexes)
            table.checks = list(source.checks)
        else:
            self._warn(f"CREATE TABLE {self._display(table.schema, table.name)} (LIKE ...) is only partly "
                       "modelled: columns are copied, indexes and constraints are not", at)

    def _table_options(self, table: _Table, cur: _Cursor, label: str) -> None:
        while not cur.done:
            at = cur.offset
            if cur.accept("INHERITS"):
                cur.skip_group()
                self._warn(f"table inheritance of {label} is not modelled; ignored", at)
            elif self.dialect == "postgresql" and cur.accept("PARTITION", "BY"):
                table.partition_by = " ".join(cur.rest().split())
                self._warn(f"table {label} is partitioned ({table.partition_by}): planner plans its indexes and "
                           "constraints for a partitioned table; its partitions are not modelled", at)
                cur.i = len(cur.toks)
            elif cur.accept("PARTITION", "BY") or cur.at("PARTITIONS"):
                self._warn(f"partitioning of table {label} is not modelled; ignored", at)
                cur.i = len(cur.toks)
            elif cur.accept("WITHOUT", "ROWID"):
                table.options.append("WITHOUT ROWID")
            elif cur.accept("STRICT"):
                table.options.append("STRICT")
            elif cur.accept("WITHOUT", "OIDS") or cur.accept("WITH", "OIDS") or cur.accept_op(","):
                pass
            elif cur.at("WITH") and cur.at_op("(", 1):
                cur.next()
                cur.skip_group()
            elif cur.accept("ON", "COMMIT"):
                cur.next()
                cur.accept("ROWS")
            elif cur.accept("TABLESPACE") or cur.accept("USING"):
                cur.name()
            elif cur.accept("COMMENT"):
                cur.accept_op("=")
                table.comment = _string(cur, "a comment string")
            elif cur.at("AS") or cur.at("SELECT") or cur.at("IGNORE") or cur.at("REPLACE"):
                self._warn(f"CREATE TABLE {label} ... AS SELECT: the query is not replayed", at)
                cur.i = len(cur.toks)
            elif self.dialect == "mysql" and (kept := _kept_table_option(cur)) is not None:
                name, value = kept
                table.options = [o for o in table.options if not o.startswith(name + "=")] + [f"{name}={value}"]
            elif cur.word() in _MYSQL_TABLE_OPTIONS and self.dialect != "postgresql":
                _skip_table_option(cur)
            else:
                raise cur.error("unexpected table option")

    # ------------------------------------------------------------------ columns

    def _add_column(self, table: _Table, col: _Col, position: tuple[str, str | None] | None = None) -> None:
        if self.dialect == "postgresql":
            base = _PG_SERIALS.get(col.type_text.strip().lower())
            if base:
                seq = pg_object_name(table.name, col.name, "seq")
                qualified = f"{table.schema}.{seq}" if table.schema else seq
                col.type_text, col.nullable = base, False
                col.default = f"nextval('{qualified}'::regclass)"
        self._place_column(table, col, position)

    def _place_column(self, table: _Table, col: _Col, position: tuple[str, str | None] | None) -> None:
        if position is None:
            table.columns.append(col)
        elif position[0] == "FIRST":
            table.columns.insert(0, col)
        else:
            idx = next((i for i, c in enumerate(table.columns) if self._same(c.name, position[1])), None)
            if idx is None:
                table.columns.append(col)
            else:
                table.columns.insert(idx + 1, col)

    def _stored(self, table: _Table, name: str) -> str:
        """A column name as the table spells it (MySQL and SQLite names are case-insensitive)."""
        col = self._column(table, name)
        return col.name if col else name

    # ------------------------------------------------------------------ constraints

    def _add_constraint(self, table: _Table, c: _Constraint) -> None:
        match c:
            case _PK():
                self._add_primary_key(table, c)
            case _Unique():
                self._add_index(table, c, constraint=c.unique and c.method is None)
            case _FK():
                self._add_foreign_key(table, c)
            case _Chk():
                self._add_check(table, c)
            case _NotNull():
                col = self._column(table, c.column)
                if col is None:
                    raise _Syntax(f"column {c.column!r} does not exist", c.offset)
                col.nullable, col.not_null_name = False, c.name or col.not_null_name

    def _add_primary_key(self, table: _Table, c: _PK) -> None:
        cols = []
        for name in c.columns:
            col = self._column(table, name)
            if col is None:
                raise _Syntax(f"primary key column {name!r} does not exist", c.offset)
            col.nullable = False
            cols.append(col.name)
        if table.primary_key is not None:
            self._warn(f"table {self._display(table.schema, table.name)} already has a primary key; replaced",
                       c.offset)
        name = c.name
        if self.dialect == "mysql":
            name = None
        elif name is None and self.dialect == "postgresql":
            name = pg_default_name(table.name, [], "pkey", _AnyOf(self._pg_relation_names(table.schema),
                                                                  self._pg_constraint_names(table.schema)))
        table.primary_key = PrimaryKey(name, tuple(cols))

    def _index_parts(self, table: _Table, parts: list[_Part], method: str, offset: int) -> tuple[IndexPart, ...]:
        out = []
        for p in parts:
            column, expression = p.column, p.expression
            if expression is not None:
                single = _single_identifier(expression, self.dialect)
                if single is not None and self._column(table, single) is not None:
                    column, expression = single, None
            if column is not None:
                if self._column(table, column) is None:
                    raise _Syntax(f"column {column!r} does not exist in table {table.name!r}", offset)
                column = self._stored(table, column)
            opclass = self._opclass(table, p.opclass, column, method)
            expression = expression if expression is not None else None
            out.append(build_part(self.dialect, column=column, expression=expression, descending=p.descending,
                                  nulls_first=p.nulls_first, opclass=opclass, length=p.length,
                                  collation=p.collation))
        return tuple(out)

    def _opclass(self, table: _Table, opclass: str | None, column: str | None, method: str) -> str | None:
        """Operator class without its default schema, and None when it is the type's default."""
        if not opclass:
            return None
        parts = opclass.split(".")
        if len(parts) > 1 and parts[-2] in ("public", "pg_catalog"):
            opclass = parts[-1]
        col = self._column(table, column) if column else None
        if col is not None:
            ctype = canonical_type(col.type_text, self.dialect)
            if opclass.lower() == _default_opclass(method, ctype):
                return None
        return opclass

    def _add_index(self, table: _Table, u: _Unique, *, constraint: bool, where: str | None = None) -> Index | None:
        method = (u.method or "btree").lower()
        parts = self._index_parts(table, u.parts, method, u.offset)
        name = u.name or self._default_index_name(table, parts, u, constraint)
        include = tuple(self._stored(table, c) for c in u.include)
        index = Index(
            name=name, parts=parts, unique=u.unique, method=method,
            where=build_where(where, self.dialect) if where else None,
            nulls_not_distinct=u.nulls_not_distinct, include=include, constraint=constraint,
            deferrable=u.deferrable,
        )
        table.indexes.append(index)
        return index

    def _default_index_name(self, table: _Table, parts: tuple[IndexPart, ...], u: _Unique,
                            constraint: bool) -> str | None:
        if self.dialect == "sqlite":
            return None
        if self.dialect == "mysql":
            first = parts[0].column if parts[0].column else "functional_index"
            return self._mysql_index_name(table, first)
        names = [p.column if p.column is not None else _pg_expression_colname(raw.expression or "")
                 for p, raw in zip(parts, u.parts, strict=True)]
        names += [self._stored(table, c) for c in u.include]  # PostgreSQL names INCLUDE columns too
        taken = _AnyOf(self._pg_relation_names(table.schema),
                       *([self._pg_constraint_names(table.schema)] if constraint else []))
        return pg_default_name(table.name, names, "key" if constraint else "idx", taken)

    def _mysql_index_name(self, table: _Table, base: str) -> str:
        taken = {i.name.lower() for i in table.indexes if i.name} | {"primary"}
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    def _add_foreign_key(self, table: _Table, c: _FK) -> None:
        ref_key = self._resolve(c.ref, self.tables)
        ref_table = self.tables.get(ref_key)
        if ref_table is table or (ref_table is None and ref_key == (table.schema, table.name)):
            ref_table = table
        ref_cols = c.ref_columns
        if ref_cols is None:
            if ref_table is not None and ref_table.primary_key is not None:
                ref_cols = list(ref_table.primary_key.columns)
            else:
                self._warn(f"foreign key on {self._display(table.schema, table.name)} references "
                           f"{self._display(*ref_key)} without columns and no primary key is known", c.offset)
                ref_cols = []
        if ref_table is None:
            self._warn(f"foreign key on {self._display(table.schema, table.name)} references table "
                       f"{self._display(*ref_key)}, which does not exist", c.offset)
        cols = []
        for name in c.columns:
            if self._column(table, name) is None:
                raise _Syntax(f"foreign key column {name!r} does not exist", c.offset)
            cols.append(self._stored(table, name))
        if ref_table is not None:
            ref_cols = [self._stored(ref_table, n) for n in ref_cols]
        name = c.name or self._default_fk_name(table, cols)
        fk = ForeignKey(
            name=name, columns=tuple(cols), ref_table=ref_table.name if ref_table else ref_key[1],
            ref_columns=tuple(ref_cols), ref_schema=ref_table.schema if ref_table else ref_key[0],
            on_delete=normalize_action(c.on_delete, self.dialect),
            on_update=normalize_action(c.on_update, self.dialect),
            deferrable=c.deferrable, initially_deferred=c.initially_deferred, match_full=c.match_full,
        )
        table.foreign_keys.append(fk)
        if self.dialect == "mysql" and name:
            table.fk_index_hints[name] = c.index_name or c.name or cols[0]

    def _default_fk_name(self, table: _Table, cols: list[str]) -> str | None:
        if self.dialect == "sqlite":
            return None
        if self.dialect == "mysql":
            return f"{table.name}_ibfk_{_next_number(table.name + '_ibfk_', [f.name for f in table.foreign_keys])}"
        return pg_default_name(table.name, cols, "fkey", self._pg_constraint_names(table.schema))

    def _add_check(self, table: _Table, c: _Chk) -> None:
        expression = c.expression
        name = c.name
        if name is None and self.dialect == "mysql":
            # MySQL 8 names it t_chk_N; MariaDB uses the column name or CONSTRAINT_N: a guess
            name = f"{table.name}_chk_{_next_number(table.name + '_chk_', [k.name for k in table.checks])}"
            table.checks.append(build_check(name, expression, self.dialect, inferred_name=True))
            return
        if name is None and self.dialect == "postgresql":
            cols = sorted(_expression_columns(expression, self.dialect))
            name = pg_default_name(table.name, cols if len(cols) == 1 else [], "check",
                                   self._pg_constraint_names(table.schema))
        table.checks.append(build_check(name, expression, self.dialect))

    def _pg_relation_names(self, schema: str | None) -> _NameCounts:
        """Tables, indexes (primary keys' too), views and sequences of `schema` (do not modify)."""
        return self._names.relations(schema)

    def _pg_constraint_names(self, schema: str | None) -> _NameCounts:
        """Primary keys, unique constraints, foreign keys and checks of `schema` (do not modify)."""
        return self._names.constraints(schema)

    def _build_names(self) -> tuple[dict[str | None, _NameCounts], dict[str | None, _NameCounts],
                                    dict[str, list[_Table]]]:
        rel: dict[str | None, _NameCounts] = {}
        con: dict[str | None, _NameCounts] = {}
        idx: dict[str, list[_Table]] = {}
        fold = self._names.fold

        def count(counts: _NameCounts, name: str) -> None:
            counts[name] = counts.get(name, 0) + 1

        for (s, n), t in self.tables.items():
            r, c = rel.setdefault(s, {}), con.setdefault(s, {})
            count(r, n)
            for i in t.indexes:
                if i.name:
                    count(r, i.name)
                    idx.setdefault(fold(i.name), []).append(t)
                    if i.constraint:
                        count(c, i.name)
            if t.primary_key and t.primary_key.name:
                count(r, t.primary_key.name)
                count(c, t.primary_key.name)
            for f in t.foreign_keys:
                if f.name:
                    count(c, f.name)
            for k in t.checks:
                if k.name:
                    count(c, k.name)
        for s, n in (*self.views, *self.sequences):
            count(rel.setdefault(s, {}), n)
        return rel, con, idx

    def _new_table(self, key: tuple[str | None, str], table: object) -> None:
        assert isinstance(table, _Table)
        table.names = self._names
        if key != (table.schema, table.name):
            self._names.stale()
        else:
            self._names.add_table(table)

    def _new_relation(self, key: tuple[str | None, str], _value: object) -> None:
        self._names.add(key[0], key[1], relation=True, constraint=False)

    # ------------------------------------------------------------------ MySQL foreign-key indexes

    def _after_table_change(self, table: _Table) -> None:
        """MySQL keeps an index on every foreign key's columns: create or drop the implicit one."""
        if self.dialect != "mysql":
            return
        # in the order the indexes were made (a set's order follows the hash seed: the output did)
        made = [i.name for i in table.indexes if i.name in table.auto_indexes]
        for name in [*made, *sorted(n for n in table.auto_indexes if n not in made)]:
            idx = next((i for i in table.indexes if self._same(i.name, name)), None)
            fks = [fk for fk in table.foreign_keys if idx is not None and self._serves(idx.parts, fk)]
            if idx is None or not fks:
                table.auto_indexes.discard(name)
                continue
            others = [i.parts for i in table.indexes if i is not idx and i.method in ("btree", "hash")]
            if table.primary_key:
                others.append(tuple(IndexPart(column=c) for c in table.primary_key.columns))
            if all(any(self._serves(p, fk) for p in others) for fk in fks):
                table.indexes.remove(idx)
                table.auto_indexes.discard(name)
        for fk in table.foreign_keys:
            keys = [i.parts for i in table.indexes if i.method in ("btree", "hash")]
            if table.primary_key:
                keys.append(tuple(IndexPart(column=c) for c in table.primary_key.columns))
            if not any(self._serves(p, fk) for p in keys):
                hint = table.fk_index_hints.get(fk.name or "", fk.columns[0])
                name = self._mysql_index_name(table, hint)
                table.indexes.append(Index(name, tuple(build_part(self.dialect, column=c) for c in fk.columns)))
                table.auto_indexes.add(name)

    def _serves(self, parts: tuple[IndexPart, ...], fk: ForeignKey) -> bool:
        n = len(fk.columns)
        if len(parts) < n:
            return False
        return all(p.column is not None and p.length is None and self._same(p.column, c)
                   for p, c in zip(parts[:n], fk.columns, strict=True))

    # ------------------------------------------------------------------ ALTER TABLE

    def _alter_table(self, cur: _Cursor) -> None:
        cur.expect("ALTER")
        cur.accept("ONLINE") or cur.accept("IGNORE")
        cur.expect("TABLE")
        if cur.at("ALL", "IN", "TABLESPACE"):
            return
        if_exists = cur.accept_if_exists()
        cur.accept("ONLY")
        at = cur.offset
        table = self._table(cur.qname("a table name"), if_exists=if_exists, offset=at)
        cur.accept_op("*")
        if table is None:
            return
        actions = cur.split(cur.i, len(cur.toks))
        if not actions:
            raise cur.error("expected an ALTER TABLE action")
        for action in actions:
            table = self._alter_action(table, action)
            if not action.done:
                raise action.error("unexpected text in ALTER TABLE")
        self._after_table_change(table)

    def _alter_action(self, table: _Table, cur: _Cursor) -> _Table:
        word = cur.word()
        handler = _ALTER_ACTIONS.get(word)
        if handler is not None:
            return handler(self, table, cur) or table
        if word in _MYSQL_TABLE_OPTIONS and self.dialect != "postgresql":
            while not cur.done:
                if cur.accept("COMMENT"):
                    cur.accept_op("=")
                    table.comment = _string(cur, "a comment string")
                else:
                    _skip_table_option(cur)
            return table
        if word in _ALTER_SKIP:
            cur.i = len(cur.toks)
            return table
        if word in _ALTER_WARN:
            self._warn(f"ALTER TABLE {self._display(table.schema, table.name)} {word} ... is not modelled; "
                       "ignored", cur.offset)
            cur.i = len(cur.toks)
            return table
        raise UnsupportedError(f"ALTER TABLE action {' '.join(cur.rest().split()[:3])!r} is not understood",
                               self._loc(cur.offset))

    def _act_add(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("ADD")
        word = cur.word()
        if word in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE") or (
                self.dialect != "postgresql" and word in ("INDEX", "KEY", "FULLTEXT", "SPATIAL")):
            if self._add_using_index(table, cur):
                return
            at = cur.offset
            c = _parse_table_constraint(cur)
            cur.accept("NOT", "VALID")
            if isinstance(c, str):
                self._warn(f"{c} on table {self._display(table.schema, table.name)} is not modelled; ignored", at)
                cur.i = len(cur.toks)
            else:
                self._add_constraint(table, c)
            return
        if word in ("PARTITION", "PARTITIONS"):
            self._warn(f"partitions of {self._display(table.schema, table.name)} are not modelled; ignored",
                       cur.offset)
            cur.i = len(cur.toks)
            return
        cur.accept("COLUMN")
        if_not_exists = cur.accept_if_not_exists()
        if cur.at_op("("):
            lo, hi = cur.group()
            for item in cur.split(lo, hi):
                self._add_column_def(table, item, if_not_exists)
            return
        self._add_column_def(table, cur, if_not_exists)

    def _add_column_def(self, table: _Table, cur: _Cursor, if_not_exists: bool) -> None:
        at = cur.offset
        col, constraints = _parse_column_def(cur)
        self._check_type(col, at)
        position = self._position(cur)
        if self._column(table, col.name) is not None:
            if not if_not_exists:
                self._warn(f"column {col.name!r} already exists in {self._display(table.schema, table.name)}; "
                           "ignored", at)
            return
        self._add_column(table, col, position)
        for c in constraints:
            self._add_constraint(table, c)

    def _position(self, cur: _Cursor) -> tuple[str, str | None] | None:
        if cur.accept("FIRST"):
            return ("FIRST", None)
        if cur.accept("AFTER"):
            return ("AFTER", cur.name("a column name"))
        return None

    def _add_using_index(self, table: _Table, cur: _Cursor) -> bool:
        """PostgreSQL `ADD [CONSTRAINT name] {UNIQUE|PRIMARY KEY} USING INDEX index`."""
        k = 2 if cur.at("CONSTRAINT") else 0
        kind = cur.word(k)
        span = 2 if kind == "PRIMARY" else 1
        if kind not in ("UNIQUE", "PRIMARY") or not (cur.word(k + span) == "USING" and cur.word(k + span + 1) == "INDEX"):
            return False
        name = None
        if cur.accept("CONSTRAINT"):
            name = cur.name()
        cur.i += span + 2
        at = cur.offset
        index_name = cur.name("an index name")
        index = next((i for i in table.indexes if i.name == index_name), None)
        flags = _Unique(None, [], at)
        while _accept_deferrable(cur, [flags]):
            pass
        deferrable = flags.deferrable
        if index is None:
            self._warn(f"index \"{index_name}\" does not exist on {self._display(table.schema, table.name)}; "
                       "ignored", at)
            return True
        table.indexes.remove(index)
        if kind == "PRIMARY":
            self._add_primary_key(table, _PK(name or index_name, list(index.columns), at))
        else:
            table.indexes.append(dataclasses.replace(index, name=name or index_name, constraint=True,
                                                     deferrable=deferrable or index.deferrable))
        return True

    def _act_drop(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("DROP")
        at = cur.offset
        mysql = self.dialect != "postgresql"
        if cur.accept("CONSTRAINT"):
            if_exists = cur.accept_if_exists()
            self._drop_constraint(table, cur.name("a constraint name"), if_exists, at)
        elif mysql and cur.accept("PRIMARY", "KEY"):
            table.primary_key = None
        elif mysql and cur.accept("FOREIGN", "KEY"):
            if_exists = cur.accept_if_exists()
            self._drop_constraint(table, cur.name("a foreign key name"), if_exists, at, kinds=("fk",))
        elif mysql and (cur.accept("INDEX") or cur.accept("KEY")):
            if_exists = cur.accept_if_exists()
            self._drop_constraint(table, cur.name("an index name"), if_exists, at, kinds=("index",))
        elif mysql and cur.accept("CHECK"):
            if_exists = cur.accept_if_exists()
            self._drop_constraint(table, cur.name("a check name"), if_exists, at, kinds=("check",))
        elif cur.at("PARTITION") or cur.at("PARTITIONING"):
            cur.i = len(cur.toks)
        else:
            cur.accept("COLUMN")
            if_exists = cur.accept_if_exists()
            name = cur.name("a column name")
            if self._column(table, name) is None:
                if not if_exists:
                    self._warn(f"column {name!r} does not exist in {self._display(table.schema, table.name)}; "
                               "DROP COLUMN ignored", at)
            else:
                self._drop_column(table, name)
        cur.accept("CASCADE") or cur.accept("RESTRICT")

    def _act_alter(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("ALTER")
        if cur.accept("CONSTRAINT"):
            self._alter_constraint(table, cur.name("a constraint name"), cur)
            return
        if self.dialect != "postgresql" and (cur.accept("INDEX") or cur.accept("CHECK")):
            cur.i = len(cur.toks)
            return
        cur.accept("COLUMN")
        at = cur.offset
        name = cur.name("a column name")
        col = self._column(table, name)
        if col is None:
            self._warn(f"column {name!r} does not exist in {self._display(table.schema, table.name)}; "
                       "ALTER COLUMN ignored", at)
            cur.i = len(cur.toks)
            return
        self._alter_column(table, col, cur)

    def _alter_column(self, table: _Table, col: _Col, cur: _Cursor) -> None:
        if cur.accept("SET", "DATA", "TYPE") or cur.accept("TYPE"):
            lo, hi = cur.until_words(frozenset({"COLLATE", "USING"}))
            col.type_text = cur.text_of(lo, hi)
            if cur.accept("COLLATE"):
                col.collation = _collation(cur)
            if cur.accept("USING"):
                cur.i = len(cur.toks)
        elif cur.accept("SET", "DEFAULT"):
            col.default = cur.rest()
            cur.i = len(cur.toks)
        elif cur.accept("DROP", "DEFAULT"):
            col.default = None
        elif cur.accept("SET", "NOT", "NULL"):
            col.nullable = False
        elif cur.accept("DROP", "NOT", "NULL"):
            col.nullable = True
        elif cur.at("ADD", "GENERATED"):
            cur.next()
            _parse_generated(cur, col)
        elif cur.accept("SET", "GENERATED"):
            kind = "identity_always" if cur.accept("ALWAYS") else "identity"
            cur.accept("BY", "DEFAULT")
            if col.autoincrement in ("identity", "identity_always"):
                col.autoincrement = kind
            cur.i = len(cur.toks)
        elif cur.accept("DROP", "IDENTITY"):
            cur.accept_if_exists()
            col.autoincrement = None
        elif cur.accept("DROP", "EXPRESSION"):
            cur.accept_if_exists()
            col.generated = None
        elif cur.accept("SET", "EXPRESSION", "AS"):
            lo, hi = cur.group()
            col.generated = cur.text_of(lo, hi)
        elif cur.word() in ("SET", "RESET", "OPTIONS", "RESTART"):
            cur.i = len(cur.toks)
        else:
            raise cur.error("unknown ALTER COLUMN action")

    def _alter_constraint(self, table: _Table, name: str, cur: _Cursor) -> None:
        flags = _FK(None, [], [], None, 0)
        flags.deferrable = None  # type: ignore[assignment]
        flags.initially_deferred = None  # type: ignore[assignment]
        while _accept_deferrable(cur, [flags]) or cur.accept("ENFORCED") or cur.accept("NOT", "ENFORCED") \
                or cur.accept("INHERIT") or cur.accept("NO", "INHERIT"):
            pass
        for i, fk in enumerate(table.foreign_keys):
            if self._same(fk.name, name):
                deferrable = fk.deferrable if flags.deferrable is None else bool(flags.deferrable)
                deferred = fk.initially_deferred if flags.initially_deferred is None else flags.initially_deferred
                table.foreign_keys[i] = dataclasses.replace(fk, deferrable=deferrable,
                                                            initially_deferred=bool(deferred) and deferrable)
                return
        for i, idx in enumerate(table.indexes):
            if self._same(idx.name, name) and flags.deferrable is not None:
                table.indexes[i] = dataclasses.replace(idx, deferrable=bool(flags.deferrable))

    def _act_rename(self, table: _Table, cur: _Cursor) -> _Table:
        cur.expect("RENAME")
        at = cur.offset
        if cur.accept("CONSTRAINT"):
            old = cur.name("a constraint name")
            cur.expect("TO")
            self._rename_constraint(table, old, cur.name("a constraint name"), at)
        elif self.dialect != "postgresql" and (cur.accept("INDEX") or cur.accept("KEY")):
            old = cur.name("an index name")
            cur.expect("TO")
            self._rename_constraint(table, old, cur.name("an index name"), at, kinds=("index",))
        elif cur.accept("COLUMN"):
            self._rename_column_clause(table, cur, at)
        elif cur.accept("TO") or cur.accept("AS") or (self.dialect == "mysql" and not cur.at_op(".", 1)
                                                       and cur.word(1) != "TO"):
            return self._rename_table(table, cur.qname("a table name"), at)
        else:
            self._rename_column_clause(table, cur, at)
        return table

    def _rename_column_clause(self, table: _Table, cur: _Cursor, at: int) -> None:
        old = cur.name("a column name")
        cur.expect("TO")
        new = cur.name("a column name")
        if self._column(table, old) is None:
            self._warn(f"column {old!r} does not exist in {self._display(table.schema, table.name)}; "
                       "RENAME COLUMN ignored", at)
            return
        self._rename_column(table, old, new)

    def _act_modify(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("MODIFY")
        cur.accept("COLUMN")
        self._restate_column(table, cur, None)

    def _act_change(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("CHANGE")
        cur.accept("COLUMN")
        old = cur.name("a column name")
        self._restate_column(table, cur, old)

    def _restate_column(self, table: _Table, cur: _Cursor, old: str | None) -> None:
        """MySQL MODIFY / CHANGE: the new definition replaces the whole column."""
        at = cur.offset
        col, constraints = _parse_column_def(cur)
        self._check_type(col, at)
        position = self._position(cur)
        current = self._column(table, old or col.name)
        if current is None:
            self._warn(f"column {old or col.name!r} does not exist in {self._display(table.schema, table.name)};"
                       " ignored", at)
            return
        if old is not None and current.name != col.name:
            self._rename_column(table, current.name, col.name)
        in_pk = table.primary_key is not None and any(self._same(c, col.name) for c in table.primary_key.columns)
        if in_pk:
            col.nullable = False
        index = table.columns.index(current)
        table.columns[index] = col
        if position is not None:
            table.columns.remove(col)
            self._place_column(table, col, position)
        for c in constraints:
            self._add_constraint(table, c)

    def _act_set(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("SET")
        if cur.accept("SCHEMA"):
            schema = self._norm_schema(cur.name("a schema name"))
            self._move_table(table, (schema, table.name))
        cur.i = len(cur.toks)

    def _act_comment(self, table: _Table, cur: _Cursor) -> None:
        cur.expect("COMMENT")
        cur.accept_op("=")
        table.comment = _string(cur, "a comment string")

    def _act_validate(self, table: _Table, cur: _Cursor) -> None:
        cur.i = len(cur.toks)

    # ------------------------------------------------------------------ dropping and renaming

    def _drop_constraint(self, table: _Table, name: str, if_exists: bool, at: int,
                         kinds: tuple[str, ...] = ("pk", "index", "fk", "check", "not_null")) -> None:
        if "pk" in kinds and table.primary_key and self._same(table.primary_key.name, name):
            table.primary_key = None
            return
        if "index" in kinds:
            for idx in table.indexes:
                if self._same(idx.name, name):
                    table.indexes.remove(idx)
                    table.auto_indexes.discard(idx.name or "")
                    return
        if "fk" in kinds:
            for fk in table.foreign_keys:
                if self._same(fk.name, name):
                    table.foreign_keys.remove(fk)
                    return
        if "check" in kinds:
            for chk in table.checks:
                if self._same(chk.name, name):
                    table.checks.remove(chk)
                    return
        if "not_null" in kinds and self.dialect == "postgresql":
            for col in table.columns:
                if name in (col.not_null_name, pg_object_name(table.name, col.name, "not_null")):
                    col.nullable = False if table.primary_key and col.name in table.primary_key.columns else True
                    return
        if not if_exists:
            self._warn(f"constraint \"{name}\" does not exist on {self._display(table.schema, table.name)}; "
                       "ignored", at)

    def _drop_column(self, table: _Table, name: str) -> None:
        """Drop a column and, as the database does, what depends on it."""
        col = self._column(table, name)
        assert col is not None
        table.columns.remove(col)
        name = col.name
        shrink = self.dialect == "mysql"
        pk = table.primary_key
        if pk and any(self._same(c, name) for c in pk.columns):
            rest = tuple(c for c in pk.columns if not self._same(c, name))
            table.primary_key = dataclasses.replace(pk, columns=rest) if shrink and rest else None
        kept = []
        for idx in table.indexes:
            uses = self._index_uses(idx, name)
            if not uses:
                kept.append(idx)
            elif shrink:
                parts = tuple(p for p in idx.parts if not self._same(p.column, name))
                if parts:
                    kept.append(dataclasses.replace(idx, parts=parts))
        table.indexes = kept
        table.foreign_keys = [f for f in table.foreign_keys if not any(self._same(c, name) for c in f.columns)]
        table.checks = [c for c in table.checks if not self._expr_uses(c.expression, name)]
        for other in self.tables.values():
            other.foreign_keys = [
                f for f in other.foreign_keys
                if not (self._refers_to(f, table) and any(self._same(c, name) for c in f.ref_columns))]

    def _index_uses(self, idx: Index, column: str) -> bool:
        return (any(self._same(p.column, column) or (p.expression and self._expr_uses(p.expression, column))
                    for p in idx.parts)
                or any(self._same(c, column) for c in idx.include)
                or bool(idx.where and self._expr_uses(idx.where, column)))

    def _expr_uses(self, expression: str, column: str) -> bool:
        cols = _expression_columns(expression, self.dialect)
        return any(self._same(c, column) for c in cols)

    def _refers_to(self, fk: ForeignKey, table: _Table) -> bool:
        if fk.ref_schema != table.schema:
            return False
        return fk.ref_table == table.name if self.dialect != "sqlite" else fk.ref_table.lower() == table.name.lower()

    def _rename_column(self, table: _Table, old: str, new: str) -> None:
        col = self._column(table, old)
        assert col is not None
        old = col.name
        col.name = new

        def ren(c: str) -> str:
            return new if self._same(c, old) else c

        def ren_expr(text: str | None) -> str | None:
            return _rename_in_expression(text, old, new, self.dialect) if text else text

        if table.primary_key:
            table.primary_key = dataclasses.replace(
                table.primary_key, columns=tuple(ren(c) for c in table.primary_key.columns))
        table.indexes = [
            dataclasses.replace(
                idx, include=tuple(ren(c) for c in idx.include), where=ren_expr(idx.where),
                parts=tuple(dataclasses.replace(p, column=ren(p.column) if p.column else None,
                                                expression=ren_expr(p.expression)) for p in idx.parts))
            for idx in table.indexes]
        table.foreign_keys = [dataclasses.replace(f, columns=tuple(ren(c) for c in f.columns))
                              for f in table.foreign_keys]
        table.checks = [dataclasses.replace(c, expression=ren_expr(c.expression) or c.expression)
                        for c in table.checks]
        for c in table.columns:
            if c.generated:
                c.generated = ren_expr(c.generated)
        for other in self.tables.values():
            other.foreign_keys = [
                dataclasses.replace(f, ref_columns=tuple(ren(c) for c in f.ref_columns))
                if self._refers_to(f, table) else f for f in other.foreign_keys]

    def _rename_constraint(self, table: _Table, old: str, new: str, at: int,
                           kinds: tuple[str, ...] = ("pk", "index", "fk", "check")) -> None:
        if "pk" in kinds and table.primary_key and self._same(table.primary_key.name, old):
            table.primary_key = dataclasses.replace(table.primary_key, name=new)
            return
        for i, idx in enumerate(table.indexes):
            if "index" in kinds and self._same(idx.name, old):
                table.indexes[i] = dataclasses.replace(idx, name=new)
                if idx.name in table.auto_indexes:
                    table.auto_indexes.discard(idx.name)
                    table.auto_indexes.add(new)
                return
        for i, fk in enumerate(table.foreign_keys):
            if "fk" in kinds and self._same(fk.name, old):
                table.foreign_keys[i] = dataclasses.replace(fk, name=new)
                if old in table.fk_index_hints:
                    table.fk_index_hints[new] = table.fk_index_hints.pop(old)
                return
        for i, chk in enumerate(table.checks):
            if "check" in kinds and self._same(chk.name, old):
                table.checks[i] = dataclasses.replace(chk, name=new)
                return
        for col in table.columns:
            if self.dialect == "postgresql" and old in (col.not_null_name,
                                                        pg_object_name(table.name, col.name, "not_null")):
                col.not_null_name = new  # a named NOT NULL constraint (PostgreSQL 18)
                return
        self._warn(f"constraint \"{old}\" does not exist on {self._display(table.schema, table.name)}; "
                   "RENAME ignored", at)

    def _rename_table(self, table: _Table, new_parts: list[str], at: int) -> _Table:
        schema = self._norm_schema(new_parts[-2]) if len(new_parts) > 1 else table.schema
        return self._move_table(table, (schema, new_parts[-1]), at)

    def _move_table(self, table: _Table, key: tuple[str | None, str], at: int = 0) -> _Table:
        old_key = next(k for k, t in self.tables.items() if t is table)
        if key in self.tables and self.tables[key] is not table:
            self._warn(f"cannot rename {self._display(*old_key)} to {self._display(*key)}: the name is taken; "
                       "ignored", at)
            return table
        for other in self.tables.values():
            other.foreign_keys = [
                dataclasses.replace(f, ref_table=key[1], ref_schema=key[0]) if self._refers_to(f, table) else f
                for f in other.foreign_keys]
        del self.tables[old_key]
        table.schema, table.name = key
        self.tables[key] = table
        return table

    # ------------------------------------------------------------------ CREATE INDEX

    def _create_index(self, cur: _Cursor) -> None:
        cur.expect("CREATE")
        cur.accept("OR", "REPLACE")
        unique = cur.accept("UNIQUE")
        method = None
        if cur.word() in ("FULLTEXT", "SPATIAL"):
            method = cur.next().upper.lower()
        cur.expect("INDEX")
        cur.accept("CONCURRENTLY")
        if_not_exists = cur.accept_if_not_exists()
        name = None
        if not cur.at("ON") and not cur.at("USING"):
            name = cur.qname("an index name")[-1]
        if cur.accept("USING"):
            method = cur.next().text.lower()
        cur.expect("ON")
        cur.accept("ONLY")
        at = cur.offset
        table = self._table(cur.qname("a table name"), what="CREATE INDEX", offset=at)
        if cur.accept("USING"):
            method = cur.next().text.lower()
        lo, hi = cur.group()
        u = _Unique(name, _parse_parts(cur, lo, hi), at, unique=unique, method=method)
        where = self._index_options(cur, u)
        self._index_created(table, u, if_not_exists=if_not_exists, where=where)

    def _simple_index(self, unique: bool, name: str, table_name: str, columns: tuple[str, ...], at: int) -> None:
        """`CREATE [UNIQUE] INDEX "name" ON "table"("col", ...)` read by `_SIMPLE_INDEX`."""
        table = self._table([table_name], what="CREATE INDEX", offset=at)
        u = _Unique(name, [_Part(column=c) for c in columns], at, unique=unique)
        self._index_created(table, u, if_not_exists=False, where=None)

    def _index_created(self, table: _Table | None, u: _Unique, *, if_not_exists: bool, where: str | None) -> None:
        if table is None:
            return
        if u.name is not None and self._index_exists(table, u.name):
            if not if_not_exists:
                self._warn(f"index \"{u.name}\" already exists; CREATE INDEX ignored", u.offset)
            return
        self._add_index(table, u, constraint=False, where=where)
        self._after_table_change(table)

    def _index_options(self, cur: _Cursor, u: _Unique) -> str | None:
        while not cur.done:
            if cur.accept("WHERE"):
                where = cur.rest()
                cur.i = len(cur.toks)
                return where
            if cur.at("NULLS"):
                u.nulls_not_distinct = _parse_nulls_distinct(cur)
            elif cur.accept("TABLESPACE"):
                cur.name()
            elif cur.word() in ("ALGORITHM", "LOCK"):
                cur.next()
                cur.accept_op("=")
                cur.next()
            else:
                before = cur.i
                _parse_index_tail(cur, u)
                if cur.i == before:
                    raise cur.error("unexpected text after the index columns")
        return None

    def _index_exists(self, table: _Table, name: str) -> bool:
        if self.dialect == "mysql":
            return any(self._same(i.name, name) for i in table.indexes)
        if self.dialect == "sqlite":
            return bool(self._names.index_tables(name))
        return name in self._pg_relation_names(table.schema)

    def _find_index(self, parts: list[str]) -> tuple[_Table, Index] | None:
        """An index by (possibly schema-qualified) name: unique per schema (SQLite: database)."""
        schema = self._norm_schema(parts[-2]) if len(parts) > 1 else None
        schemas = {schema} if len(parts) > 1 else {self._norm_schema(s) for s in self.search_path} | {None}
        holders = self._names.index_tables(parts[-1])
        if len(holders) == 1:  # the common case: one table holds an index of that name
            t = holders[0]
            if t.schema in schemas or self.dialect == "sqlite":
                idx = next((i for i in t.indexes if self._same(i.name, parts[-1])), None)
                if idx is not None:
                    return t, idx
            return None
        if not holders:
            return None
        for (s, _), t in self.tables.items():
            if s in schemas or self.dialect == "sqlite":
                for idx in t.indexes:
                    if self._same(idx.name, parts[-1]):
                        return t, idx
        return None

    # ------------------------------------------------------------------ types

    def _create_type(self, cur: _Cursor) -> None:
        cur.expect("CREATE")
        cur.expect("TYPE")
        at = cur.offset
        key = self._new_key(cur.qname("a type name"))
        label = self._display(*key)
        if cur.accept("AS", "ENUM"):
            lo, hi = cur.group()
            values = [_string_value(item) for item in cur.split(lo, hi)]
            if key in self.enums:
                self._warn(f"type {label} already exists; replaced", at)
            self.enums[key] = _Enum(key[0], key[1], values)
            return
        kind = "composite type" if cur.at("AS") and cur.at_op("(", 1) else (
            "range type" if cur.at("AS", "RANGE") else "base type")
        self.declared_types.add(key[1].lower())
        cur.i = len(cur.toks)
        self._warn(f"CREATE TYPE {label} ({kind}) is not modelled; ignored", at)

    def _alter_type(self, cur: _Cursor) -> None:
        cur.expect("ALTER")
        cur.expect("TYPE")
        at = cur.offset
        key = self._resolve(cur.qname("a type name"), self.enums)
        enum = self.enums.get(key)
        label = self._display(*key)
        if cur.at("OWNER", "TO"):
            return
        if enum is None:
            if cur.at("ADD", "VALUE") or cur.at("RENAME", "VALUE"):
                self._warn(f"ALTER TYPE: enum {label} does not exist; ignored", at)
            elif not cur.at("RENAME", "TO") and not cur.at("SET", "SCHEMA"):
                self._warn(f"ALTER TYPE {label} is not modelled; ignored", at)
            return
        if cur.accept("ADD", "VALUE"):
            if_not_exists = cur.accept_if_not_exists()
            value = _string(cur, "an enum value") or ""
            if value in enum.values:
                if not if_not_exists:
                    self._warn(f"enum {label} already has value {value!r}; ignored", at)
                return
            where = len(enum.values)
            if cur.word() in ("BEFORE", "AFTER"):
                after = cur.next().upper == "AFTER"
                anchor = _string(cur, "an enum value")
                if anchor in enum.values:
                    where = enum.values.index(anchor) + (1 if after else 0)
            enum.values.insert(where, value)
        elif cur.accept("RENAME", "VALUE"):
            old = _string(cur, "an enum value")
            cur.expect("TO")
            new = _string(cur, "an enum value") or ""
            if old in enum.values:
                enum.values[enum.values.index(old)] = new
            else:
                self._warn(f"enum {label} has no value {old!r}; RENAME VALUE ignored", at)
        elif cur.accept("RENAME", "TO"):
            self._rename_enum(key, (key[0], cur.name("a type name")))
        elif cur.accept("SET", "SCHEMA"):
            self._rename_enum(key, (self._norm_schema(cur.name("a schema name")), key[1]))
        else:
            self._warn(f"ALTER TYPE {label} {' '.join(cur.rest().split()[:2])} is not modelled; ignored", at)
        cur.i = len(cur.toks)

    def _rename_enum(self, old: tuple[str | None, str], new: tuple[str | None, str]) -> None:
        enum = self.enums.pop(old)
        enum.schema, enum.name = new
        self.enums[new] = enum
        old_type = qualify(old[0], old[1], self.default_schema)
        new_text = quote_table(new[0], new[1], self.dialect)
        for t in self.tables.values():
            for c in t.columns:
                ctype = canonical_type(c.type_text, self.dialect)
                if ctype.removesuffix("[]") == old_type:
                    c.type_text = new_text + ("[]" if ctype.endswith("[]") else "")

    # ------------------------------------------------------------------ views

    def _create_view(self, cur: _Cursor) -> None:
        materialized = temporary = False
        while not cur.at("VIEW"):
            word = cur.next().upper
            materialized = materialized or word == "MATERIALIZED"
            temporary = temporary or word in ("TEMP", "TEMPORARY")
        cur.expect("VIEW")
        if_not_exists = cur.accept_if_not_exists()
        key = self._new_key(cur.qname("a view name"))
        if temporary or (if_not_exists and key in self.views):
            return
        if cur.at_op("("):
            cur.skip_group()
        while not cur.at("AS"):
            if cur.at("WITH") and cur.at_op("(", 1):
                cur.next()
                cur.skip_group()
            elif cur.accept("USING") or cur.accept("TABLESPACE"):
                cur.name()
            else:
                raise cur.error("expected AS and the view's query")
        cur.expect("AS")
        query = _VIEW_TAIL.sub("", cur.rest())
        cur.i = len(cur.toks)
        definition = normalize_expression(query, self.dialect) if query else None
        self.views[key] = View(name=key[1], schema=key[0], definition=definition, materialized=materialized)

    def _alter_view(self, cur: _Cursor) -> None:
        while not cur.at("VIEW"):
            cur.next()
        cur.expect("VIEW")
        if_exists = cur.accept_if_exists()
        at = cur.offset
        key = self._resolve(cur.qname("a view name"), self.views)
        view = self.views.get(key)
        if view is None:
            if not if_exists:
                self._warn(f"ALTER VIEW: view {self._display(*key)} does not exist; ignored", at)
            return
        if cur.accept("RENAME", "TO"):
            new = (key[0], cur.name("a view name"))
            del self.views[key]
            self.views[new] = dataclasses.replace(view, name=new[1])
        elif cur.accept("SET", "SCHEMA"):
            new = (self._norm_schema(cur.name("a schema name")), key[1])
            del self.views[key]
            self.views[new] = dataclasses.replace(view, schema=new[0])
        cur.i = len(cur.toks)

    # ------------------------------------------------------------------ ALTER INDEX, sequences

    def _alter_index(self, cur: _Cursor) -> None:
        cur.expect("ALTER")
        cur.expect("INDEX")
        if cur.at("ALL", "IN", "TABLESPACE"):
            return
        if_exists = cur.accept_if_exists()
        at = cur.offset
        parts = cur.qname("an index name")
        if not cur.accept("RENAME", "TO"):
            cur.i = len(cur.toks)
            return
        new = cur.name("an index name")
        found = self._find_index(parts)
        if found is None:
            pk_table = next((t for t in self.tables.values()
                             if t.primary_key and t.primary_key.name == parts[-1]), None)
            if pk_table is not None:
                pk_table.primary_key = dataclasses.replace(pk_table.primary_key, name=new)
            elif not if_exists:
                self._warn(f"ALTER INDEX: index \"{parts[-1]}\" does not exist; ignored", at)
            return
        table, _ = found
        self._rename_constraint(table, parts[-1], new, at, kinds=("index",))

    def _create_sequence(self, cur: _Cursor) -> None:
        temporary = any(cur.word(k) in ("TEMP", "TEMPORARY") for k in range(1, 4))
        while not cur.at("SEQUENCE"):
            cur.next()
        cur.expect("SEQUENCE")
        if_not_exists = cur.accept_if_not_exists()
        key = self._new_key(cur.qname("a sequence name"))
        if temporary or (if_not_exists and key in self.sequences):
            return
        self.sequences[key] = _Sequence(key[0], key[1], self._loc(0))
        self._sequence_options(key, cur)

    def _alter_sequence(self, cur: _Cursor) -> None:
        cur.expect("ALTER")
        cur.expect("SEQUENCE")
        if_exists = cur.accept_if_exists()
        key = self._resolve(cur.qname("a sequence name"), self.sequences)
        if key not in self.sequences:
            if not if_exists:
                self.sequences[key] = _Sequence(key[0], key[1], self._loc(0), owned=True)
            else:
                return
        if cur.accept("RENAME", "TO"):
            seq = self.sequences.pop(key)
            new = (key[0], cur.name("a sequence name"))
            seq.name = new[1]
            self.sequences[new] = seq
            return
        self._sequence_options(key, cur)

    def _sequence_options(self, key: tuple[str | None, str], cur: _Cursor) -> None:
        while not cur.done:
            if cur.accept("OWNED", "BY"):
                self.sequences[key].owned = not cur.accept("NONE")
            else:
                cur.next()

    # ------------------------------------------------------------------ DROP, COMMENT, RENAME

    def _drop(self, cur: _Cursor) -> None:
        cur.expect("DROP")
        cur.accept("TEMPORARY")
        kind = cur.next().upper
        if kind == "MATERIALIZED":
            cur.expect("VIEW")
            kind = "VIEW"
        cur.accept("CONCURRENTLY")
        if_exists = cur.accept_if_exists()
        names = []
        while True:
            names.append((cur.offset, cur.qname("a name")))
            if not cur.accept_op(","):
                break
        cascade = cur.accept("CASCADE")
        cur.accept("RESTRICT")
        on_table = None
        if cur.accept("ON"):
            on_table = cur.qname("a table name")
        cur.i = len(cur.toks)
        for at, parts in names:
            _DROPS[kind](self, parts, if_exists=if_exists, cascade=cascade, at=at, on_table=on_table)

    def _drop_table(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                    on_table: list[str] | None) -> None:
        table = self._table(parts, if_exists=if_exists, what="DROP TABLE", offset=at)
        if table is None:
            return
        del self.tables[(table.schema, table.name)]
        for other in self.tables.values():
            if self.dialect == "postgresql" or cascade:
                other.foreign_keys = [f for f in other.foreign_keys if not self._refers_to(f, table)]
        if cascade and self.dialect == "postgresql":
            for key, view in list(self.views.items()):
                if view.definition and _mentions_table(view.definition, table.name, self.dialect):
                    del self.views[key]

    def _drop_index(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                    on_table: list[str] | None) -> None:
        if on_table is not None:
            table = self._table(on_table, if_exists=if_exists, what="DROP INDEX", offset=at)
            if table is not None:
                self._drop_constraint(table, parts[-1], if_exists, at, kinds=("index",))
                self._after_table_change(table)
            return
        found = self._find_index(parts)
        if found is None:
            if not if_exists:
                self._warn(f"DROP INDEX: index \"{parts[-1]}\" does not exist; ignored", at)
            return
        table, idx = found
        table.indexes.remove(idx)

    def _drop_type(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                   on_table: list[str] | None) -> None:
        key = self._resolve(parts, self.enums)
        if key not in self.enums:
            if not if_exists:
                self._warn(f"DROP TYPE: type {self._display(*key)} is not a known enum; ignored", at)
            return
        del self.enums[key]
        if cascade:
            type_key = qualify(key[0], key[1], self.default_schema)
            for t in self.tables.values():
                for c in list(t.columns):
                    if canonical_type(c.type_text, self.dialect).removesuffix("[]") == type_key:
                        self._drop_column(t, c.name)

    def _drop_view(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                   on_table: list[str] | None) -> None:
        key = self._resolve(parts, self.views)
        if self.views.pop(key, None) is None and not if_exists:
            self._warn(f"DROP VIEW: view {self._display(*key)} does not exist; ignored", at)

    def _drop_sequence(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                       on_table: list[str] | None) -> None:
        self.sequences.pop(self._resolve(parts, self.sequences), None)

    def _drop_schema(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                     on_table: list[str] | None) -> None:
        schema = self._norm_schema(parts[-1])
        for registry in (self.tables, self.enums, self.views, self.sequences):
            for key in [k for k in registry if k[0] == schema]:
                del registry[key]

    def _drop_other(self, parts: list[str], *, if_exists: bool, cascade: bool, at: int,
                    on_table: list[str] | None) -> None:
        return None

    def _comment(self, cur: _Cursor) -> None:
        cur.expect("COMMENT")
        cur.expect("ON")
        kind = cur.next().upper
        at = cur.offset
        parts = cur.qname("a name")
        cur.expect("IS")
        text = _string(cur, "a comment string")
        if kind == "TABLE":
            table = self._table(parts, what="COMMENT ON TABLE", offset=at)
            if table is not None:
                table.comment = text or None
        elif kind == "COLUMN":
            if len(parts) < 2:
                raise _Syntax("COMMENT ON COLUMN needs table.column", at)
            table = self._table(parts[:-1], what="COMMENT ON COLUMN", offset=at)
            col = self._column(table, parts[-1]) if table else None
            if table is not None and col is None:
                self._warn(f"COMMENT ON COLUMN: column {parts[-1]!r} does not exist; ignored", at)
            elif col is not None:
                col.comment = text or None

    def _rename_tables(self, cur: _Cursor) -> None:
        cur.expect("RENAME")
        cur.expect("TABLE")
        while True:
            at = cur.offset
            old = cur.qname("a table name")
            cur.expect("TO")
            new = cur.qname("a table name")
            table = self._table(old, what="RENAME TABLE", offset=at)
            if table is not None:
                self._rename_table(table, new, at)
            if not cur.accept_op(","):
                break


def _unwrap_conditional(text: str) -> str:
    """MySQL executable comments as the code they hold, blanked so that offsets stay put. A
    version no server has (MariaDB's `/*M!999999 ... */` sandbox marker) stays a comment."""
    if "/*" not in text:
        return text

    def unwrap(m: re.Match[str]) -> str:
        if m.group(1) and m.group(2) and int(m.group(2)) >= 999999:
            return m.group(0)
        head = len(m.group(0)) - len(m.group(3)) - 2
        return " " * head + m.group(3) + "  "

    return _MY_CONDITIONAL.sub(unwrap, text)


def _sort_key(item: tuple[tuple[str | None, str], object]) -> tuple[str, str]:
    schema, name = item[0]
    return (schema or "", name)


def _object_label(obj: str, cur: _Cursor) -> str:
    k = next((k for k in range(len(cur.toks)) if cur.word(k) == obj), 0)
    if obj in ("FOREIGN", "TEXT", "ACCESS", "EVENT") or (obj == "VIRTUAL" and cur.word(k + 1) == "TABLE"):
        return f"{obj} {cur.word(k + 1)}".rstrip() + (f" {cur.word(k + 2)}" if obj == "TEXT" else "")
    return obj


def _has_words(cur: _Cursor, *words: str) -> bool:
    n = len(words)
    return any(all(cur.word(k + j) == w for j, w in enumerate(words)) for k in range(len(cur.toks) - n + 1))


class _quiet_sqlglot:
    """sqlglot logs a warning whenever it falls back to a generic Command: keep that quiet.
    Nested uses (every statement of a replayed file) leave the level alone: setting a logger's
    level clears every logger's cache, which cost ~5% of replaying a large file."""

    depth = 0

    def __enter__(self) -> None:
        cls = _quiet_sqlglot
        cls.depth += 1
        if cls.depth == 1:
            self.logger = logging.getLogger("sqlglot")
            self.level = self.logger.level
            self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        cls = _quiet_sqlglot
        cls.depth -= 1
        if cls.depth == 0:
            self.logger.setLevel(self.level)


# --------------------------------------------------------------------------- helpers

_VIEW_TAIL = re.compile(
    r"\s+WITH\s+(?:(?:CASCADED|LOCAL)\s+)?CHECK\s+OPTION\s*$|\s+WITH\s+(?:NO\s+)?DATA\s*$", re.I)
_PLAIN_NAME = {"postgresql": re.compile(r"[a-z_][a-z0-9_$]*"), "mysql": re.compile(r"[A-Za-z_][A-Za-z0-9_$]*"),
               "sqlite": re.compile(r"[A-Za-z_][A-Za-z0-9_]*")}
_BTREE_DEFAULT_OPCLASS = {
    "integer": "int4_ops", "bigint": "int8_ops", "smallint": "int2_ops", "text": "text_ops",
    "varchar": "text_ops", "char": "bpchar_ops", "uuid": "uuid_ops", "boolean": "bool_ops",
    "date": "date_ops", "timestamp": "timestamp_ops", "timestamptz": "timestamptz_ops",
    "numeric": "numeric_ops", "real": "float4_ops", "double precision": "float8_ops",
    "bytea": "bytea_ops", "jsonb": "jsonb_ops", "inet": "inet_ops", "time": "time_ops",
    "interval": "interval_ops",
}


def _default_opclass(method: str, ctype: str) -> str | None:
    """PostgreSQL's default operator class for a column type (pg_dump leaves it out)."""
    if method == "gin":
        if ctype.endswith("[]"):
            return "array_ops"
        return {"jsonb": "jsonb_ops", "tsvector": "tsvector_ops"}.get(ctype)
    if method in ("btree", "hash") and not ctype.endswith("[]"):
        return _BTREE_DEFAULT_OPCLASS.get(ctype.split("(")[0])
    return None


#: MySQL table options a new table is created with (`Table.options`, as `NAME=value`): what the
#: server would otherwise take from the database's defaults (charset and collation: a Prisma
#: table's `DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci` against a database whose
#: default differs), the first AUTO_INCREMENT value, the engine and row format
MYSQL_KEPT_OPTIONS = ("ENGINE", "DEFAULT CHARSET", "COLLATE", "AUTO_INCREMENT", "ROW_FORMAT")


def _kept_table_option(cur: _Cursor) -> tuple[str, str] | None:
    """One of MYSQL_KEPT_OPTIONS at the cursor (consumed), as (name, value); else None."""
    start = cur.i
    cur.accept("DEFAULT")
    if cur.accept("CHARACTER", "SET") or cur.accept("CHARSET"):
        name = "DEFAULT CHARSET"
    elif cur.accept("COLLATE"):
        name = "COLLATE"
    elif cur.word() in ("ENGINE", "AUTO_INCREMENT", "ROW_FORMAT"):
        name = cur.next().upper
    else:
        cur.i = start
        return None
    cur.accept_op("=")
    if cur.done or cur.at_op(","):
        cur.i = start
        return None
    value = cur.next().text.strip("'\"`")
    return name, value.upper() if name == "ROW_FORMAT" else value


def _skip_table_option(cur: _Cursor) -> None:
    """One MySQL table option: `[DEFAULT] NAME [=] value` (also CONVERT TO CHARACTER SET ...)."""
    cur.accept("DEFAULT")
    if cur.accept("CONVERT", "TO"):
        cur.accept("CHARACTER", "SET") or cur.accept("CHARSET")
        cur.next()
        if cur.accept("COLLATE"):
            cur.next()
        return
    if cur.accept("ORDER", "BY"):
        cur.i = len(cur.toks)
        return
    if not (cur.accept("CHARACTER", "SET") or cur.accept("DATA", "DIRECTORY")
            or cur.accept("INDEX", "DIRECTORY") or cur.accept("DISCARD", "TABLESPACE")
            or cur.accept("IMPORT", "TABLESPACE") or cur.accept("FORCE")):
        cur.next()
        if cur.done or cur.at_op(","):
            return
    elif cur.done or cur.at_op(","):
        return
    cur.accept_op("=")
    if cur.at_op("("):
        cur.skip_group()
    elif not cur.done and not cur.at_op(","):
        cur.next()


def _string_value(item: _Cursor) -> str:
    t = item.next()
    if t.kind not in ("str", "estr", "dollar") or not item.done:
        raise _Syntax("expected a quoted enum value", t.start)
    return t.value


def _single_identifier(expression: str, dialect: str) -> str | None:
    """`(col)` in an index is the column itself."""
    toks = _tokenize(expression, dialect)[0]
    if len(toks) == 1 and toks[0].kind in ("word", "qid"):
        return _Cursor(toks, expression, dialect).fold(toks[0])
    return None


def _pg_expression_colname(expression: str) -> str:
    """PostgreSQL's FigureIndexColname: a function's name, a column's name, else `expr`."""
    toks = _tokenize(expression, "postgresql")[0]
    cur = _Cursor(toks, expression, "postgresql")
    while len(cur.toks) >= 2 and cur.at_op("(") and cur.toks[-1].text == ")":
        lo, hi = cur.group()
        if not cur.done:
            break
        cur = cur.sub(lo, hi)
        cur = _Cursor(cur.toks, expression, "postgresql")
    if cur.word() == "CASE":
        return "case"
    if cur.word() == "ARRAY" and cur.at_op("[", 1):
        return "array"
    if cur.is_name():
        name_tok = cur.peek()
        if cur.word() == "CAST" and cur.at_op("(", 1):
            return "expr"
        cur.qname()
        if cur.done:
            return cur.fold(cur.toks[cur.i - 1])
        if cur.at_op("("):
            cur.skip_group()
            if cur.done:
                return cur.fold(name_tok).lower() if name_tok and name_tok.kind == "word" else cur.fold(name_tok)
    return "expr"


def _next_number(prefix: str, names: list[str | None]) -> int:
    numbers = [int(n[len(prefix):]) for n in names
               if n and n.startswith(prefix) and n[len(prefix):].isdigit()]
    return max(numbers, default=0) + 1


@lru_cache(maxsize=4096)
def _expression_columns(expression: str, dialect: str) -> frozenset[str]:
    """Column names an expression refers to (PostgreSQL: unquoted names folded)."""
    try:
        node = parse_expression(expression, dialect)
    except ExpressionError:
        words = {t.value if t.kind == "qid" else t.text for t in _tokenize(expression, dialect)[0]
                 if t.kind in ("word", "qid")}
        return frozenset(w.lower() if dialect == "postgresql" else w for w in words)
    from sqlglot import exp

    out = set()
    for col in node.find_all(exp.Column):
        ident = col.this
        if isinstance(ident, exp.Identifier):
            out.add(ident.this.lower() if dialect == "postgresql" and not ident.quoted else ident.this)
    return frozenset(out)


def _rename_in_expression(text: str, old: str, new: str, dialect: str) -> str:
    try:
        node = parse_expression(text, dialect)
    except ExpressionError:
        return text
    from sqlglot import exp

    quoted = not _PLAIN_NAME[dialect].fullmatch(new)
    same = (lambda a: a == old) if dialect == "postgresql" else (lambda a: a.lower() == old.lower())

    def ren(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and isinstance(n.this, exp.Identifier):
            ident = n.this
            name = ident.this.lower() if dialect == "postgresql" and not ident.quoted else ident.this
            if same(name):
                n = n.copy()
                n.set("this", exp.Identifier(this=new, quoted=quoted))
        return n

    return normalize_expression(node.transform(ren).sql(dialect=sqlglot_dialect(dialect)), dialect)


def _mentions_table(definition: str, name: str, dialect: str) -> bool:
    try:
        node = parse_expression(definition, dialect)
    except ExpressionError:
        return re.search(rf"\b{re.escape(name)}\b", definition) is not None
    from sqlglot import exp

    return any(t.name == name for t in node.find_all(exp.Table))


_HANDLERS: dict[tuple[str, str], Callable[[Replayer, _Cursor], None]] = {
    ("CREATE", "TABLE"): Replayer._create_table,
    ("CREATE", "INDEX"): Replayer._create_index,
    ("CREATE", "TYPE"): Replayer._create_type,
    ("CREATE", "VIEW"): Replayer._create_view,
    ("CREATE", "MATERIALIZED"): Replayer._create_view,
    ("CREATE", "SEQUENCE"): Replayer._create_sequence,
    ("ALTER", "TABLE"): Replayer._alter_table,
    ("ALTER", "TYPE"): Replayer._alter_type,
    ("ALTER", "INDEX"): Replayer._alter_index,
    ("ALTER", "SEQUENCE"): Replayer._alter_sequence,
    ("ALTER", "VIEW"): Replayer._alter_view,
    ("ALTER", "MATERIALIZED"): Replayer._alter_view,
    ("COMMENT", "TABLE"): Replayer._comment,
    ("COMMENT", "COLUMN"): Replayer._comment,
    ("RENAME", "TABLE"): Replayer._rename_tables,
    **{("DROP", kind): Replayer._drop for kind in
       ("TABLE", "INDEX", "VIEW", "MATERIALIZED", "TYPE", "SEQUENCE", "SCHEMA", "DOMAIN")},
}
_DROPS: dict[str, Callable[..., None]] = {
    "TABLE": Replayer._drop_table, "INDEX": Replayer._drop_index, "VIEW": Replayer._drop_view,
    "TYPE": Replayer._drop_type, "SEQUENCE": Replayer._drop_sequence, "SCHEMA": Replayer._drop_schema,
    "DOMAIN": Replayer._drop_other,
}
_ALTER_ACTIONS: dict[str, Callable[[Replayer, _Table, _Cursor], _Table | None]] = {
    "ADD": Replayer._act_add, "DROP": Replayer._act_drop, "ALTER": Replayer._act_alter,
    "RENAME": Replayer._act_rename, "MODIFY": Replayer._act_modify, "CHANGE": Replayer._act_change,
    "SET": Replayer._act_set, "VALIDATE": Replayer._act_validate, "COMMENT": Replayer._act_comment,
}
#: ALTER TABLE actions that do not change what planner models
_ALTER_SKIP = frozenset({
    "OWNER", "RESET", "ENABLE", "DISABLE", "FORCE", "NO", "REPLICA", "CLUSTER", "NOT", "CONVERT",
    "ORDER", "ALGORITHM", "LOCK", "DISCARD", "IMPORT", "COALESCE", "REORGANIZE", "EXCHANGE",
    "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR", "TRUNCATE", "WITH", "WITHOUT",
})
#: ALTER TABLE actions that change the schema in ways planner does not model
_ALTER_WARN = frozenset({"INHERIT", "ATTACH", "DETACH", "OF", "PARTITION", "REMOVE", "SPLIT", "MERGE"})


# --------------------------------------------------------------------------- public API

_SNIFF_NOISE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^'\\]|''|\\.)*'|\$\$.*?\$\$", re.S)
# `\bWORD|\bOTHER...` tried every alternative at every position (0.13 s on 500 KB); one
# lookbehind (the same as `\b` before a word) ahead of the group: 0.05 s, the same matches
# (IGNORECASE kept: lower-casing the text first is not the same for İ, ı or ſ)
_SNIFF_SQLITE = re.compile(r"(?<!\w)(?:pragma\b|autoincrement\b|without\s+rowid\b)", re.I)
_SNIFF_MYSQL = re.compile(
    r"`|(?<!\w)(?:engine\s*=|auto_increment\b|unsigned\b|charset\s*=|modify\s|change\s+column\b"
    r"|(?:tiny|medium|long)(?:blob|text|int)\b|tinyint\b|datetime\b|varbinary\b|binary\s*\()"
    r"|^\s*(?:delimiter\b|call\s)",
    re.I | re.M)


def guess_dialect(text: str) -> str:
    """The dialect SQL text is most likely written in, for sources given without `--dialect`:
    MySQL markers (backquotes, ENGINE=, AUTO_INCREMENT, UNSIGNED), SQLite markers (PRAGMA,
    AUTOINCREMENT, WITHOUT ROWID), else PostgreSQL."""
    body = _SNIFF_NOISE.sub(" ", text[:500_000])
    if _SNIFF_SQLITE.search(body):
        return "sqlite"
    if _SNIFF_MYSQL.search(body):
        return "mysql"
    return "postgresql"


def load_sql_text(text: str, *, dialect: str | None, filename: str = "<sql>") -> Loaded:
    """Replay SQL DDL text into a schema (`dialect=None`: guessed from the text)."""
    replayer = Replayer(dialect or guess_dialect(text))
    replayer.run(text, filename)
    return Loaded(replayer.schema(), filename, "sql", tuple(replayer.warnings))


def read_sql_file(path: str) -> str:
    """Text of an SQL file (UTF-8, BOM tolerated); a SourceError when it cannot be read."""
    try:
        # newline="": a \r inside a quoted name stays a \r (universal newlines would make it \n)
        with open(path, encoding="utf-8-sig", newline="") as f:
            return f.read()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise SourceError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise SourceError(f"{path}: cannot read ({e.strerror})") from None


def load_sql_file(path: str, *, dialect: str | None) -> Loaded:
    """Load a `.sql` schema file (a dump, or DDL written by hand or by a tool)."""
    loaded = load_sql_text(read_sql_file(path), dialect=dialect, filename=path)
    return dataclasses.replace(loaded, source=path)


__all__ = ["Replayer", "Statement", "guess_dialect", "load_sql_file", "load_sql_text", "read_sql_file",
           "split_statements"]
