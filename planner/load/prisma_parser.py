"""A parser for the Prisma schema language: text -> a small syntax tree with locations.

Covers what real projects write: `datasource`, `generator`, `model`, `view`, `enum` and
`type` blocks; fields with `?`/`[]`; field (`@`) and block (`@@`) attributes with
positional and named arguments; strings, numbers, booleans, identifiers, function calls
(`env("X")`, `now()`, `raw("...")`) and lists; `///` doc comments attached to the next
node. Semantics (types, names, relations) live in `planner.load.prisma`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from planner.errors import Location, ParseError

# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Call:
    """A function call value: `now()`, `env("URL")`, `raw("text_pattern_ops")`; also a field
    with arguments inside an index list: `createdAt(sort: Desc)`."""

    name: str
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True, slots=True)
class Ident:
    """A bare identifier value (`Cascade`, `Desc`, an enum value or a field name)."""

    name: str


@dataclass(frozen=True, slots=True)
class Arg:
    name: str | None
    value: object
    loc: Location


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str  # without the @ / @@, e.g. "default", "db.VarChar", "relation"
    args: tuple[Arg, ...]
    loc: Location

    def arg(self, name: str, position: int | None = None) -> object | None:
        """The value of a named argument, or of the positional argument at `position`."""
        for a in self.args:
            if a.name == name:
                return a.value
        if position is not None:
            positional = [a for a in self.args if a.name is None]
            if len(positional) > position:
                return positional[position].value
        return None


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    optional: bool
    list: bool
    attributes: tuple[Attribute, ...]
    loc: Location
    doc: str | None = None
    #: `Unsupported("...")` type argument
    unsupported: str | None = None

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    attributes: tuple[Attribute, ...]
    loc: Location


@dataclass(frozen=True, slots=True)
class Entry:
    """A `key = value` line of a datasource or generator block."""

    key: str
    value: object
    loc: Location


@dataclass(slots=True)
class Block:
    kind: str  # datasource, generator, model, view, enum, type
    name: str
    loc: Location
    doc: str | None = None
    fields: list[Field] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    values: list[EnumValue] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None

    def attrs(self, name: str) -> list[Attribute]:
        return [a for a in self.attributes if a.name == name]


# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<doc>///[^\n]*)
  | (?P<comment>//[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<ws>[ \t\r\f\v]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<attr2>@@)
  | (?P<attr>@)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[{}()\[\],:=?!])
  | (?P<error>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    """A token (a tuple: one per word of the schema, made in one pass)."""

    kind: str
    text: str
    line: int
    col: int


def tokenize(text: str, filename: str) -> list[Token]:
    # one scan: every character belongs to some group (`error` takes what nothing else does)
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        start = m.start()
        if kind == "newline":
            append(Token("newline", "\n", line, start - line_start + 1))
            line += 1
            line_start = start + 1
            continue
        token = m.group()
        if kind == "error":
            raise ParseError(f"unexpected character {token!r}", Location(filename, line, start - line_start + 1),
                             hint="check the Prisma syntax near this position")
        if kind == "block":
            nl = token.count("\n")
            if nl:
                line += nl
                line_start = start + token.rfind("\n") + 1
        elif kind == "string" and "\n" in token:
            raise ParseError("unterminated string", Location(filename, line, start - line_start + 1))
        else:
            append(Token(kind, token, line, start - line_start + 1))  # type: ignore[arg-type]
    append(Token("eof", "", line, len(text) - line_start + 1))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", lambda m: chr(int(m.group(1)[1:], 16))
                  if m.group(1).startswith("u") and len(m.group(1)) == 5 else _ESCAPES.get(m.group(1), m.group(1)),
                  body)


# --------------------------------------------------------------------------- parser

BLOCK_KINDS = ("datasource", "generator", "model", "view", "enum", "type")


#: lists and function calls nested deeper than this in one attribute argument are refused
MAX_NESTING = 100


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.tokens = tokenize(text, filename)
        self.i = 0
        self.depth = 0  # nesting of lists and calls in the value being read

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def loc(self, tok: Token | None = None) -> Location:
        t = tok or self.tok
        return Location(self.filename, t.line, t.col)

    def error(self, message: str, tok: Token | None = None, hint: str | None = None) -> ParseError:
        return ParseError(message, self.loc(tok), hint=hint)

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, kind: str, text: str | None = None, what: str | None = None) -> Token:
        t = self.tok
        if t.kind != kind or (text is not None and t.text != text):
            want = what or (repr(text) if text else kind)
            got = "end of file" if t.kind == "eof" else ("end of line" if t.kind == "newline" else repr(t.text))
            raise self.error(f"expected {want}, found {got}")
        return self.advance()

    def skip_newlines(self) -> None:
        while self.tok.kind == "newline":
            self.advance()

    def take_doc(self) -> str | None:
        """Collect `///` lines (and the newlines between them) before a node."""
        lines = []
        while self.tok.kind in ("doc", "newline"):
            t = self.advance()
            if t.kind == "doc":
                lines.append(t.text[3:].strip())
        return "\n".join(lines) if lines else None

    # -- grammar
    def parse(self) -> list[Block]:
        blocks = []
        while True:
            doc = self.take_doc()
            if self.tok.kind == "eof":
                return blocks
            blocks.append(self.block(doc))

    def block(self, doc: str | None) -> Block:
        kw = self.tok
        if kw.kind != "ident" or kw.text not in BLOCK_KINDS:
            raise self.error(f"expected a block (model, enum, view, datasource, generator, type), "
                             f"found {kw.text!r}")
        self.advance()
        name = self.expect("ident", what="a block name")
        b = Block(kw.text, name.text, self.loc(kw), doc=doc)
        self.expect("punct", "{")
        while True:
            item_doc = self.take_doc()
            t = self.tok
            if t.kind == "punct" and t.text == "}":
                self.advance()
                break
            if t.kind == "eof":
                raise self.error(f"missing '}}' to close {b.kind} {b.name!r}", kw)
            if t.kind == "attr2":
                b.attributes.append(self.attribute())
            elif b.kind in ("datasource", "generator"):
                b.entries.append(self.entry())
            elif b.kind == "enum":
                b.values.append(self.enum_value())
            else:
                b.fields.append(self.field(item_doc))
            self.end_of_line()
        return b

    def end_of_line(self) -> None:
        t = self.tok
        if t.kind == "newline":
            self.advance()
        elif not (t.kind == "punct" and t.text == "}") and t.kind not in ("eof", "doc"):
            raise self.error(f"unexpected {t.text!r}; expected the end of the line")

    def entry(self) -> Entry:
        key = self.expect("ident", what="a setting name")
        self.expect("punct", "=")
        return Entry(key.text, self.value(), self.loc(key))

    def enum_value(self) -> EnumValue:
        name = self.expect("ident", what="an enum value")
        attrs = []
        while self.tok.kind == "attr":
            attrs.append(self.attribute())
        return EnumValue(name.text, tuple(attrs), self.loc(name))

    def field(self, doc: str | None) -> Field:
        name = self.expect("ident", what="a field name")
        type_tok = self.expect("ident", what=f"a type for field {name.text!r}")
        unsupported = None
        if type_tok.text == "Unsupported":
            self.expect("punct", "(")
            s = self.expect("string", what='a type string, e.g. Unsupported("circle")')
            unsupported = _unescape(s.text)
            self.expect("punct", ")")
        optional = is_list = False
        if self.tok.kind == "punct" and self.tok.text == "[":
            self.advance()
            self.expect("punct", "]")
            is_list = True
        if self.tok.kind == "punct" and self.tok.text == "?":
            self.advance()
            optional = True
        if self.tok.kind == "punct" and self.tok.text == "!":
            raise self.error("'!' is not Prisma syntax; fields are required unless marked '?'")
        attrs = []
        while self.tok.kind == "attr":
            attrs.append(self.attribute())
        return Field(name.text, type_tok.text, optional, is_list, tuple(attrs), self.loc(name), doc,
                     unsupported)

    def attribute(self) -> Attribute:
        at = self.advance()
        name = self.expect("ident", what="an attribute name")
        args: tuple[Arg, ...] = ()
        if self.tok.kind == "punct" and self.tok.text == "(" and self.tok.line == name.line:
            args = self.arguments()
        return Attribute(name.text, args, self.loc(at))

    def arguments(self) -> tuple[Arg, ...]:
        self.expect("punct", "(")
        args = []
        self.skip_newlines()
        while not (self.tok.kind == "punct" and self.tok.text == ")"):
            start = self.tok
            argname = None
            if (start.kind == "ident" and self.tokens[self.i + 1].kind == "punct"
                    and self.tokens[self.i + 1].text == ":"):
                argname = start.text
                self.advance()
                self.advance()
            args.append(Arg(argname, self.value(), self.loc(start)))
            self.skip_newlines()
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.advance()
                self.skip_newlines()
            elif not (self.tok.kind == "punct" and self.tok.text == ")"):
                raise self.error(f"expected ',' or ')' in arguments, found {self.tok.text!r}")
        self.advance()
        return tuple(args)

    def value(self) -> object:
        t = self.tok
        if (t.kind == "punct" and t.text == "[") or t.kind == "ident":
            if self.depth >= MAX_NESTING:
                raise self.error(f"values nested more than {MAX_NESTING} deep",
                                 hint="Prisma schemas never nest lists or calls that deep; is the file damaged?")
            self.depth += 1
            try:
                return self._value(t)
            finally:
                self.depth -= 1
        return self._value(t)

    def _value(self, t: Token) -> object:
        if t.kind == "string":
            self.advance()
            return _unescape(t.text)
        if t.kind == "number":
            self.advance()
            return float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
        if t.kind == "punct" and t.text == "[":
            self.advance()
            items = []
            self.skip_newlines()
            while not (self.tok.kind == "punct" and self.tok.text == "]"):
                items.append(self.value())
                self.skip_newlines()
                if self.tok.kind == "punct" and self.tok.text == ",":
                    self.advance()
                    self.skip_newlines()
                elif not (self.tok.kind == "punct" and self.tok.text == "]"):
                    raise self.error(f"expected ',' or ']' in list, found {self.tok.text!r}")
            self.advance()
            return items
        if t.kind == "ident":
            self.advance()
            if t.text in ("true", "false"):
                return t.text == "true"
            if self.tok.kind == "punct" and self.tok.text == "(":
                args = self.arguments()
                return Call(t.text, args)
            return Ident(t.text)
        got = "end of line" if t.kind == "newline" else repr(t.text)
        raise self.error(f"expected a value, found {got}")


def parse_prisma(text: str, filename: str) -> list[Block]:
    """Parse one Prisma file into blocks; raises ParseError with file:line:col."""
    return _Parser(text, filename).parse()
