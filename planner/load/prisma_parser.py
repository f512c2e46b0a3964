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
    [ \t\r\f\v]*+  # whitespace before a token is part of its match (no match of its own)
    (?:
      (?P<newline>\n)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<punct>[{}()\[\],:=?!])
    | (?P<attr2>@@)
    | (?P<attr>@)
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<doc>///[^\n]*)
    | (?P<comment>//[^\n]*)
    | (?P<block>/\*.*?\*/)
    | (?P<error>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    """A token (a tuple: one per word of the schema, made in one pass)."""

    kind: str
    text: str
    line: int
    col: int


_new_token = tuple.__new__  # Token(...) without the Python-level __new__ of a NamedTuple


def tokenize(text: str, filename: str) -> list[Token]:
    # one scan: every character belongs to some group (`error` takes what nothing else does);
    # whitespace is skipped inside the matches, and only trailing whitespace matches nothing
    tokens: list[Token] = []
    append = tokens.append
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "newline":
            end = m.end()
            append(_new_token(Token, ("newline", "\n", line, end - line_start)))
            line += 1
            line_start = end
            continue
        token = m[kind]
        if kind == "comment":
            continue
        if kind == "block" or kind == "error" or kind == "string":
            start = m.end() - len(token)
            if kind == "error":
                raise ParseError(f"unexpected character {token!r}", Location(filename, line, start - line_start + 1),
                                 hint="check the Prisma syntax near this position")
            if kind == "block":
                nl = token.count("\n")
                if nl:
                    line += nl
                    line_start = start + token.rfind("\n") + 1
                continue
            if "\n" in token:
                raise ParseError("unterminated string", Location(filename, line, start - line_start + 1))
        append(_new_token(Token, (kind, token, line, m.end() - len(token) - line_start + 1)))
    append(_new_token(Token, ("eof", "", line, len(text) - line_start + 1)))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "0": "\0"}


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", lambda m: chr(int(m.group(1)[1:], 16))
                  if m.group(1).startswith("u") and len(m.group(1)) == 5 else _ESCAPES.get(m.group(1), m.group(1)),
                  body)


# --------------------------------------------------------------------------- parser

BLOCK_KINDS = ("datasource", "generator", "model", "view", "enum", "type")


#: lists and function calls nested deeper than this in one attribute argument are refused
MAX_NESTING = 100

# The parser reads tokens by index (kind, text, line, col) on its hot paths. A punctuation
# test compares the text alone: no other token's text is a lone `(`, `[`, `,` ... (a string's
# text keeps its quotes).


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
        t = tok or self.tokens[self.i]
        return Location(self.filename, t[2], t[3])

    def error(self, message: str, tok: Token | None = None, hint: str | None = None) -> ParseError:
        return ParseError(message, self.loc(tok), hint=hint)

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, kind: str, text: str | None = None, what: str | None = None) -> Token:
        t = self.tokens[self.i]
        if t[0] != kind or (text is not None and t[1] != text):
            want = what or (repr(text) if text else kind)
            got = "end of file" if t.kind == "eof" else ("end of line" if t.kind == "newline" else repr(t.text))
            raise self.error(f"expected {want}, found {got}")
        self.i += 1
        return t

    def skip_newlines(self) -> None:
        toks, i = self.tokens, self.i
        while toks[i][0] == "newline":
            i += 1
        self.i = i

    def take_doc(self) -> str | None:
        """Collect `///` lines (and the newlines between them) before a node."""
        toks, i = self.tokens, self.i
        lines = []
        while True:
            t = toks[i]
            if t[0] == "newline":
                i += 1
            elif t[0] == "doc":
                i += 1
                lines.append(t[1][3:].strip())
            else:
                break
        self.i = i
        return "\n".join(lines) if lines else None

    # -- grammar
    def parse(self) -> list[Block]:
        blocks = []
        while True:
            doc = self.take_doc()
            if self.tokens[self.i][0] == "eof":
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
        toks = self.tokens
        fields, attributes = b.fields, b.attributes
        settings = b.kind in ("datasource", "generator")
        enum = b.kind == "enum"
        while True:
            item_doc = self.take_doc()
            t = toks[self.i]
            if t[1] == "}":
                self.i += 1
                break
            kind = t[0]
            if kind == "eof":
                raise self.error(f"missing '}}' to close {b.kind} {b.name!r}", kw)
            if kind == "attr2":
                attributes.append(self.attribute())
            elif settings:
                b.entries.append(self.entry())
            elif enum:
                b.values.append(self.enum_value())
            else:
                fields.append(self.field(item_doc))
            # the end of the line
            t = toks[self.i]
            if t[0] == "newline":
                self.i += 1
            elif t[1] != "}" and t[0] not in ("eof", "doc"):
                raise self.error(f"unexpected {t.text!r}; expected the end of the line")
        return b

    def entry(self) -> Entry:
        key = self.expect("ident", what="a setting name")
        self.expect("punct", "=")
        return Entry(key.text, self.value(), self.loc(key))

    def enum_value(self) -> EnumValue:
        name = self.expect("ident", what="an enum value")
        attrs = []
        while self.tokens[self.i][0] == "attr":
            attrs.append(self.attribute())
        return EnumValue(name.text, tuple(attrs), self.loc(name))

    def field(self, doc: str | None) -> Field:
        toks = self.tokens
        name = self.expect("ident", what="a field name")
        type_tok = toks[self.i]
        if type_tok[0] != "ident":
            self.expect("ident", what=f"a type for field {name.text!r}")
        self.i += 1
        unsupported = None
        if type_tok[1] == "Unsupported":
            self.expect("punct", "(")
            s = self.expect("string", what='a type string, e.g. Unsupported("circle")')
            unsupported = _unescape(s.text)
            self.expect("punct", ")")
        optional = is_list = False
        t = toks[self.i]
        if t[1] == "[":
            self.i += 1
            self.expect("punct", "]")
            is_list = True
            t = toks[self.i]
        if t[1] == "?":
            self.i += 1
            optional = True
            t = toks[self.i]
        if t[1] == "!":
            raise self.error("'!' is not Prisma syntax; fields are required unless marked '?'")
        attrs = []
        while t[0] == "attr":
            attrs.append(self.attribute())
            t = toks[self.i]
        return Field(name[1], type_tok[1], optional, is_list, tuple(attrs), Location(self.filename, name[2], name[3]),
                     doc, unsupported)

    def attribute(self) -> Attribute:
        toks = self.tokens
        at = toks[self.i]
        self.i += 1
        name = toks[self.i]
        if name[0] != "ident":
            self.expect("ident", what="an attribute name")
        self.i += 1
        args: tuple[Arg, ...] = ()
        t = toks[self.i]
        if t[1] == "(" and t[2] == name[2]:
            args = self.arguments()
        return Attribute(name[1], args, Location(self.filename, at[2], at[3]))

    def arguments(self) -> tuple[Arg, ...]:
        """The arguments from the `(` at the current token through its `)`."""
        toks = self.tokens
        filename = self.filename
        i = self.i + 1  # past the "("
        args = []
        while toks[i][0] == "newline":
            i += 1
        while True:
            start = toks[i]
            if start[1] == ")":
                break
            argname = None
            if start[0] == "ident" and toks[i + 1][1] == ":":
                argname = start[1]
                i += 2
            self.i = i
            args.append(Arg(argname, self.value(), Location(filename, start[2], start[3])))
            i = self.i
            while toks[i][0] == "newline":
                i += 1
            t = toks[i]
            if t[1] == ",":
                i += 1
                while toks[i][0] == "newline":
                    i += 1
            elif t[1] != ")":
                self.i = i
                raise self.error(f"expected ',' or ')' in arguments, found {t.text!r}")
        self.i = i + 1
        return tuple(args)

    def value(self) -> object:
        t = self.tokens[self.i]
        kind = t[0]
        if kind == "string":
            self.i += 1
            return _unescape(t[1])
        if kind == "number":
            self.i += 1
            return float(t[1]) if any(c in t[1] for c in ".eE") else int(t[1])
        if kind == "ident" or t[1] == "[":
            if self.depth >= MAX_NESTING:
                raise self.error(f"values nested more than {MAX_NESTING} deep",
                                 hint="Prisma schemas never nest lists or calls that deep; is the file damaged?")
            self.depth += 1
            try:
                return self._value(t)
            finally:
                self.depth -= 1
        got = "end of line" if kind == "newline" else repr(t[1])
        raise self.error(f"expected a value, found {got}")

    def _value(self, t: Token) -> object:
        """A list or an identifier (a boolean, a call, a bare name) starting at token `t`."""
        toks = self.tokens
        self.i += 1
        if t[0] == "ident":
            text = t[1]
            if text == "true" or text == "false":
                return text == "true"
            if toks[self.i][1] == "(":
                return Call(text, self.arguments())
            return Ident(text)
        items = []
        self.skip_newlines()
        while toks[self.i][1] != "]":
            items.append(self.value())
            self.skip_newlines()
            t = toks[self.i]
            if t[1] == ",":
                self.i += 1
                self.skip_newlines()
            elif t[1] != "]":
                raise self.error(f"expected ',' or ']' in list, found {t.text!r}")
        self.i += 1
        return items


def parse_prisma(text: str, filename: str) -> list[Block]:
    """Parse one Prisma file into blocks; raises ParseError with file:line:col."""
    return _Parser(text, filename).parse()
