"""Normalisation shared by every loader: types, defaults and expressions.

Every source (Prisma, SQL DDL, a live database, SQLAlchemy models) produces type and
expression *text*; the functions here turn that text into one canonical form per dialect,
so the differ compares meaning and not spelling. One function serves all loaders: a
loader never canonicalises on its own.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from planner import reserved_words
from planner.model import DEFAULT_SCHEMA, qualify


class _Lazy:
    """A module-level name bound on first use: sqlglot (~60 ms to import) is imported only by a
    command that reads a type or an expression, not by `--help`, `rules` or a missing file.
    The first attribute access imports it and rebinds the global to the real object."""

    def __init__(self, name: str, load: Any) -> None:
        self._name, self._load = name, load

    def __getattr__(self, attr: str) -> Any:
        real = self._load()
        globals()[self._name] = real
        return getattr(real, attr)


sqlglot: Any = _Lazy("sqlglot", lambda: importlib.import_module("sqlglot"))
exp: Any = _Lazy("exp", lambda: importlib.import_module("sqlglot").exp)
_T: Any = _Lazy("_T", lambda: importlib.import_module("sqlglot").exp.DataType.Type)

#: planner dialect -> sqlglot dialect
SQLGLOT_DIALECT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


@lru_cache(maxsize=1)
def _type_names() -> tuple[dict[object, str], dict[object, str]]:
    """sqlglot type -> canonical name, for PostgreSQL and for MySQL."""
    return _pg_names(), _my_names()


def _pg_names() -> dict[object, str]:
    return {
    _T.INT: "integer", _T.SMALLINT: "smallint", _T.BIGINT: "bigint", _T.TINYINT: "smallint",
    _T.SERIAL: "integer", _T.BIGSERIAL: "bigint", _T.SMALLSERIAL: "smallint",
    _T.TEXT: "text", _T.VARCHAR: "varchar", _T.NVARCHAR: "varchar", _T.CHAR: "char",
    _T.NCHAR: "char", _T.BPCHAR: "char", _T.BOOLEAN: "boolean", _T.FLOAT: "real",
    _T.DOUBLE: "double precision", _T.DECIMAL: "numeric", _T.TIMESTAMP: "timestamp",
    _T.DATETIME: "timestamp", _T.TIMESTAMPTZ: "timestamptz", _T.TIME: "time", _T.TIMETZ: "timetz",
    _T.DATE: "date", _T.INTERVAL: "interval", _T.JSON: "json", _T.JSONB: "jsonb", _T.UUID: "uuid",
    _T.VARBINARY: "bytea", _T.BINARY: "bytea", _T.BLOB: "bytea", _T.XML: "xml", _T.INET: "inet",
    _T.MONEY: "money", _T.BIT: "bit", _T.INT4RANGE: "int4range", _T.INT8RANGE: "int8range",
    _T.TSRANGE: "tsrange", _T.TSTZRANGE: "tstzrange", _T.DATERANGE: "daterange",
    _T.NUMRANGE: "numrange", _T.HSTORE: "hstore", _T.VECTOR: "vector",
    }


def _my_names() -> dict[object, str]:
    return {
    _T.INT: "int", _T.UINT: "int unsigned", _T.TINYINT: "tinyint", _T.UTINYINT: "tinyint unsigned",
    _T.SMALLINT: "smallint", _T.USMALLINT: "smallint unsigned", _T.MEDIUMINT: "mediumint",
    _T.UMEDIUMINT: "mediumint unsigned", _T.BIGINT: "bigint", _T.UBIGINT: "bigint unsigned",
    _T.BOOLEAN: "tinyint", _T.DOUBLE: "double", _T.FLOAT: "float", _T.DECIMAL: "decimal",
    _T.VARCHAR: "varchar", _T.NVARCHAR: "varchar", _T.CHAR: "char", _T.NCHAR: "char", _T.TEXT: "text",
    _T.MEDIUMTEXT: "mediumtext", _T.LONGTEXT: "longtext", _T.TINYTEXT: "tinytext", _T.BLOB: "blob",
    _T.MEDIUMBLOB: "mediumblob", _T.LONGBLOB: "longblob", _T.TINYBLOB: "tinyblob",
    _T.VARBINARY: "varbinary", _T.BINARY: "binary", _T.DATETIME: "datetime",
    _T.TIMESTAMP: "timestamp", _T.TIMESTAMPTZ: "timestamp", _T.DATE: "date", _T.TIME: "time",
    _T.YEAR: "year", _T.JSON: "json", _T.BIT: "bit", _T.UUID: "uuid",
    }

_INTEGER_FAMILY = {"int", "tinyint", "smallint", "mediumint", "bigint"}

#: functions whose result changes per row (a default using one rewrites the table on ADD COLUMN)
VOLATILE_FUNCTIONS = frozenset({
    "random", "rand", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
    "uuid_generate_v4", "uuidv4", "uuidv7", "uuid", "uuid_short", "clock_timestamp", "timeofday",
    "nextval", "setseed", "sys_guid", "newid", "random_bytes", "gen_random_bytes", "randomblob",
})
#: functions known not to be volatile (stable or immutable) when used in a default
STABLE_FUNCTIONS = frozenset({
    "now", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime",
    "transaction_timestamp", "statement_timestamp", "current_user", "session_user", "user",
    "lower", "upper", "coalesce", "concat", "to_jsonb", "jsonb_build_object", "json_build_object",
    "json_object", "json_array", "array", "length", "char_length", "abs", "round", "timezone",
    "utc_timestamp", "curdate", "curtime", "date", "datetime", "strftime", "julianday",
    "make_interval", "to_timestamp", "extract", "date_trunc", "cast", "nullif", "greatest", "least",
})


def sqlglot_dialect(dialect: str) -> str:
    return SQLGLOT_DIALECT[dialect]


# --------------------------------------------------------------------------- identifiers

def unquote(name: str) -> str:
    """`"Foo"` -> `Foo`, `` `x` `` -> `x`, `[x]` -> `x`; anything else unchanged."""
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"`":
        return name[1:-1].replace(name[0] * 2, name[0])
    if len(name) >= 2 and name[0] == "[" and name[-1] == "]":
        return name[1:-1]
    return name


def split_qualified(text: str) -> list[str]:
    """Split `a."b.c".d` on dots outside quotes and unquote each part."""
    parts, cur, quote = [], [], None
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"`":
            quote = ch
            cur.append(ch)
        elif ch == ".":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [unquote(p) for p in parts]


def quote_ident(name: str, dialect: str) -> str:
    """Always-quoted identifier for generated SQL (reserved words, case and unicode safe)."""
    return exp.to_identifier(name, quoted=True).sql(dialect=sqlglot_dialect(dialect))


def quote_table(schema: str | None, name: str, dialect: str) -> str:
    if schema:
        return f"{quote_ident(schema, dialect)}.{quote_ident(name, dialect)}"
    return quote_ident(name, dialect)


# --------------------------------------------------------------------------- types

_ARRAY_SUFFIX = re.compile(r"\s*(\[\s*\d*\s*\])+\s*$")
_WS = re.compile(r"\s+")


def _params(dt: exp.DataType) -> list[str]:
    out = []
    for e in dt.expressions:
        inner = e.this if isinstance(e, exp.DataTypeParam) else e
        out.append(inner.sql() if isinstance(inner, exp.Expression) else str(inner))
    return out


#: type names sqlglot does not know that are built in (or come with common extensions): a
#: column of any other unknown type gets a "typo?" warning from the loaders
_KNOWN_OTHER_TYPES = frozenset("""
pg_lsn txid_snapshot pg_snapshot macaddr8 macaddr cidr line lseg box path polygon circle point tsvector
tsquery varbit xid xid8 cid tid aclitem record void jsonpath regclass regtype regproc regprocedure
regoper regoperator regconfig regdictionary regnamespace regrole regcollation int2vector oidvector
citext hstore ltree lquery ltxtquery geometry geography box2d box3d raster vector halfvec sparsevec
cube earth isbn isbn13 issn issn13 ismn ismn13 ean13 upc seg intbig_gkey semver linestring
multipoint multilinestring multipolygon geometrycollection
""".split())


@lru_cache(maxsize=4096)
def unknown_type(text: str, dialect: str) -> str | None:
    """The type name when `text` is neither a built-in type nor one of the known extension
    types (so it names a user-defined type, or is a typo); None otherwise."""
    if dialect == "sqlite":
        return None
    low = _ARRAY_SUFFIX.sub("", _WS.sub(" ", text.strip())).lower()
    if dialect == "postgresql" and low.endswith(" array"):
        low = low[:-6]
    if '"' in low or "`" in low or "." in low or re.match(r"(?i)(enum|set)\s*\(", low):
        return None  # quoted or schema-qualified: a type the schema names on purpose
    if dialect == "postgresql" and _pg_simple_type(low) is not None:
        return None  # built in
    low = re.sub(r"\s+(character set|charset|collate)\s+\S+", "", low)
    try:
        dt = exp.DataType.build(low, dialect=sqlglot_dialect(dialect), udt=True)
    except Exception:
        return None
    if dt.this != _T.USERDEFINED:
        return None
    name = low.split("(")[0].strip()
    return None if name in _KNOWN_OTHER_TYPES else name


class TypeTextError(ValueError):
    """A type text that cannot be read (a MySQL ENUM or SET with broken quoting)."""


@lru_cache(maxsize=16384)  # a schema spells few types, once per column (90,000 calls at 5,000 models)
def canonical_type(text: str, dialect: str) -> str:
    """Canonical type text: `int4` -> `integer`, `character varying(20)` -> `varchar(20)`,
    `timestamp(6) without time zone` -> `timestamp`, `"public"."Role"[]` -> `Role[]`."""
    if dialect == "mysql" and _MY_ENUM_HEAD.match(text.strip()):
        found = mysql_enum_values(text)  # before spaces are folded: values may hold any
        if found is not None:
            return mysql_enum_type(*found)
    return _canonical_type(_fold_ws(text.strip()), dialect)


def _fold_ws(text: str) -> str:
    """Runs of whitespace as one space, outside quoted names only (a type named "a<newline>b"
    keeps its newline)."""
    if '"' not in text and "`" not in text:
        return _WS.sub(" ", text)
    out, quote, plain = [], None, []
    for ch in text:
        if quote is None and ch in '"`':
            out.append(_WS.sub(" ", "".join(plain)))
            plain, quote = [], ch
            out.append(ch)
        elif quote is None:
            plain.append(ch)
        else:
            out.append(ch)
            if ch == quote:
                quote = None  # a doubled quote closes and reopens: the same text
    out.append(_WS.sub(" ", "".join(plain)))
    return "".join(out)


@lru_cache(maxsize=4096)
def _canonical_type(text: str, dialect: str) -> str:
    array = ""
    m = _ARRAY_SUFFIX.search(text)
    if m and dialect == "postgresql":
        text, array = text[: m.start()], "[]"
    elif dialect == "postgresql" and text.upper().endswith(" ARRAY"):
        text, array = text[:-6], "[]"
    if dialect == "sqlite":
        return text.lower() + array
    if dialect == "mysql" and _MY_ENUM_HEAD.match(text):
        # before the quoted-name branch: values may hold quotes and backquotes
        try:
            dt = exp.DataType.build(text, dialect="mysql")  # values keep their case
        except Exception as e:  # sqlglot raises several error types
            raise TypeTextError(f"cannot read the values of {text!r}: {str(e).splitlines()[0]}") from None
        return _mysql_type(dt, text)
    if '"' in text or "`" in text:
        parts = split_qualified(text)
        schema = parts[-2] if len(parts) > 1 else None
        return qualify(schema, parts[-1], DEFAULT_SCHEMA[dialect]) + array
    low = text.lower()
    if dialect == "postgresql":
        simple = _pg_simple_type(low)
        if simple is not None:
            return simple + array
    low = re.sub(r"\bbit varying\b", "varbit", low)
    low = re.sub(r"^national (character varying|char varying|character|char)\b", r"\1", low)
    low = re.sub(r"\s+(character set|charset|collate)\s+\S+", "", low)
    try:
        dt = exp.DataType.build(low, dialect=sqlglot_dialect(dialect), udt=True)
    except Exception:  # sqlglot cannot read it: keep the text, lower-cased
        return low + array
    if dt.this == _T.ARRAY and dt.expressions:
        inner = dt.expressions[0]
        return canonical_type(inner.sql(dialect=sqlglot_dialect(dialect)), dialect) + "[]"
    if dt.this == _T.USERDEFINED:
        parts = split_qualified(str(dt.args.get("kind") or low))
        schema = parts[-2] if len(parts) > 1 else None
        return qualify(schema, parts[-1], DEFAULT_SCHEMA[dialect]) + array
    if dialect == "postgresql":
        return _pg_type(dt, low) + array
    return _mysql_type(dt, low)


#: the PostgreSQL type spellings most schemas use, read without sqlglot (~75 ms to import, and
#: a parse per distinct spelling): what `_pg_type` makes of them (tests/test_fast_paths.py)
_PG_SIMPLE = re.compile(r"([a-z][a-z0-9]*(?: [a-z][a-z0-9]*)*)(?:\((\d+)(?:,(\d+))?\))?")
_PG_PLAIN = {"integer": "integer", "int": "integer", "int4": "integer", "smallint": "smallint",
             "int2": "smallint", "bigint": "bigint", "int8": "bigint", "text": "text", "boolean": "boolean",
             "bool": "boolean", "date": "date", "jsonb": "jsonb", "json": "json", "uuid": "uuid",
             "bytea": "bytea", "double precision": "double precision", "float8": "double precision",
             "real": "real", "float4": "real", "serial": "integer", "bigserial": "bigint",
             "smallserial": "smallint"}
_PG_SIZED = {"varchar": "varchar", "character varying": "varchar", "char": "char", "character": "char",
             "numeric": "numeric", "decimal": "numeric", "timestamp": "timestamp",
             "timestamp without time zone": "timestamp", "timestamptz": "timestamptz",
             "timestamp with time zone": "timestamptz"}


def _pg_simple_type(low: str) -> str | None:
    """The canonical text of a common PostgreSQL type spelling (lower case, blanks folded), or
    None for any other: sqlglot reads those."""
    m = _PG_SIMPLE.fullmatch(low)
    if m is None:
        return None
    name, p, s = m.groups()
    base = _PG_SIZED.get(name)
    if p is None:
        return _PG_PLAIN.get(name) or ("char(1)" if base == "char" else base)
    if base == "numeric":
        return f"numeric({p},{s or '0'})"
    if base is None or s is not None or name.endswith(" zone"):  # `timestamp(3) with time zone` only
        return None
    if base in ("timestamp", "timestamptz"):
        return base if p == "6" else f"{base}({p})"
    return f"{base}({p})"


def _pg_type(dt: exp.DataType, low: str) -> str:
    name = _type_names()[0].get(dt.this)
    params = _params(dt)
    if name is None:
        return dt.sql(dialect="postgres").lower()
    if low.startswith("varbit"):
        name = "varbit"
    if dt.this in (_T.FLOAT, _T.DOUBLE) and params:
        return "real" if int(params[0]) <= 24 else "double precision"
    if name in ("timestamp", "timestamptz", "time", "timetz"):
        return name if not params or params[0] == "6" else f"{name}({params[0]})"
    if name == "numeric":
        if not params:
            return "numeric"
        return f"numeric({params[0]},{params[1] if len(params) > 1 else '0'})"
    if name == "char" and not params:
        return "char(1)"
    if name == "bit" and not params:
        return "bit(1)"
    if name in ("integer", "smallint", "bigint", "boolean", "text", "double precision", "real",
                "date", "json", "jsonb", "uuid", "bytea", "xml", "inet", "money"):
        return name
    return f"{name}({','.join(params)})" if params else name


def _mysql_type(dt: exp.DataType, low: str) -> str:
    if dt.this == _T.ENUM or dt.this == _T.SET:
        return mysql_enum_type("enum" if dt.this == _T.ENUM else "set", [e.name for e in dt.expressions])
    name = _type_names()[1].get(dt.this)
    params = _params(dt)
    if name is None:
        return dt.sql(dialect="mysql").lower()
    if dt.this == _T.BOOLEAN:
        return "tinyint(1)"
    base = name.split()[0]
    if base in _INTEGER_FAMILY:
        if base == "tinyint" and params == ["1"] and "unsigned" not in name:
            return "tinyint(1)"
        return name
    if name in ("datetime", "timestamp", "time"):
        return name if not params or params[0] == "0" else f"{name}({params[0]})"
    if name == "decimal":
        p = params[0] if params else "10"
        s = params[1] if len(params) > 1 else "0"
        return f"decimal({p},{s})"
    if name in ("char", "binary") and not params:
        return f"{name}(1)"
    if name == "float" and params and len(params) == 1:
        return "float" if int(params[0]) <= 24 else "double"
    return f"{name}({','.join(params)})" if params else name


def enum_values_of_type(type_text: str) -> tuple[str, ...] | None:
    """Values of an inline MySQL `enum('a','b')` type, or None."""
    if not type_text.startswith("enum("):
        return None
    found = mysql_enum_values(type_text)
    if found is not None:
        return tuple(found[1])
    dt = exp.DataType.build(type_text, dialect="mysql")
    return tuple(e.name for e in dt.expressions)


# MySQL ENUM/SET values. One spelling for every source: the DDL loader reads what was
# written (`'g''h'`, `'i\'j'`, `"a""b"`, `'e\\f'`), reflection reads the server's
# information_schema.COLUMNS.COLUMN_TYPE (`'e\\f'`, `'g''h'`), SQLAlchemy and Prisma give
# values. All become `enum('v1','v2')` with `\\`, `''`, `\0`, `\n`, `\r` escaped (what MariaDB
# and MySQL print) and trailing spaces cut (the server cuts them from ENUM and SET members).

_MY_ENUM_HEAD = re.compile(r"(?i)(enum|set)\s*\(")
#: MySQL string escapes (`\%` and `\_` keep their backslash; any other `\x` is `x`)
_MY_ESCAPES = {"0": "\0", "'": "'", '"': '"', "b": "\b", "n": "\n", "r": "\r", "t": "\t",
               "Z": "\x1a", "\\": "\\", "%": "\\%", "_": "\\_"}
_MY_RENDER = {"\\": "\\\\", "'": "''", "\0": "\\0", "\n": "\\n", "\r": "\\r"}


def mysql_unescape(body: str, quote: str = "'") -> str:
    """The value of a MySQL string literal's body (between the quotes)."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_MY_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        elif ch == quote and body[i + 1:i + 2] == quote:
            out.append(quote)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def mysql_enum_values(text: str) -> tuple[str, list[str]] | None:
    """`("enum"|"set", values)` of a MySQL `ENUM('a', "b", ...)` / `SET(...)` type text with
    MySQL's escapes undone; None when `text` is something else (hex literals, introducers)."""
    m = _MY_ENUM_HEAD.match(text.strip())
    if not m:
        return None
    body = text.strip()[m.end():]
    values, i = [], 0
    while True:
        while i < len(body) and body[i].isspace():
            i += 1
        if i >= len(body) or body[i] not in "'\"":
            return None
        quote, j = body[i], i + 1
        while j < len(body):
            if body[j] == "\\":
                j += 2
            elif body[j] == quote and body[j + 1:j + 2] == quote:
                j += 2
            elif body[j] == quote:
                break
            else:
                j += 1
        if j >= len(body):
            return None
        values.append(mysql_unescape(body[i + 1:j], quote))
        i = j + 1
        while i < len(body) and body[i].isspace():
            i += 1
        if i < len(body) and body[i] == ",":
            i += 1
            continue
        if i < len(body) and body[i] == ")" and not body[i + 1:].strip():
            return m.group(1).lower(), values
        return None


def mysql_enum_type(kind: str, values: list[str] | tuple[str, ...]) -> str:
    """Canonical `enum('a','b')` / `set(...)` text for these values."""
    quoted = ("'" + "".join(_MY_RENDER.get(ch, ch) for ch in v.rstrip(" ")) + "'" for v in values)
    return f"{kind}({','.join(quoted)})"


# --------------------------------------------------------------------------- expressions

class ExpressionError(ValueError):
    """An expression sqlglot cannot read."""


@lru_cache(maxsize=8192)
def parse_expression(text: str, dialect: str) -> exp.Expression:
    try:
        node = sqlglot.parse_one(text, read=sqlglot_dialect(dialect))
    except Exception as e:  # sqlglot raises several error types
        raise ExpressionError(str(e)) from None
    if node is None:
        raise ExpressionError(f"empty expression {text!r}")
    return node


def quoted_expression(text: str, dialect: str) -> str:
    """`text` with every identifier quoted (for generated DDL); as written if sqlglot cannot
    read it."""
    try:
        return parse_expression(text, dialect).sql(dialect=sqlglot_dialect(dialect), identify=True)
    except ExpressionError:
        return text


@lru_cache(maxsize=1)
def _number_casts() -> frozenset:
    """Numeric cast targets whose string literal is the number (not bit strings, not money)."""
    return frozenset(exp.DataType.NUMERIC_TYPES - {exp.DataType.Type.BIT, exp.DataType.Type.MONEY,
                                                   exp.DataType.Type.SMALLMONEY})


@lru_cache(maxsize=1)
def _operators() -> tuple[tuple[tuple[tuple[type, ...], int], ...], tuple[type, ...], tuple[type, ...]]:
    """(precedence table, associative operators, delimiting parents), built on first use
    (sqlglot is imported lazily). Associative: a right operand of the same precedence needs
    no parentheses (a AND (b AND c)). Delimiting: function arguments, CAST(... AS t), lists,
    clauses."""
    precedence = (
        ((exp.Or,), 1), ((exp.And,), 2), ((exp.Not,), 3),
        ((exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Is, exp.Like,
          exp.ILike, exp.In, exp.Between, exp.SimilarTo, exp.Glob, exp.RegexpLike), 4),
        ((exp.Add, exp.Sub), 6), ((exp.Mul, exp.Div, exp.Mod, exp.IntDiv), 7), ((exp.Pow,), 8),
        ((exp.Neg, exp.BitwiseNot), 9), ((exp.Binary,), 5),
    )
    delimited = (exp.Func, exp.Tuple, exp.Array, exp.Paren, exp.Case, exp.If, exp.Where, exp.Having, exp.Join,
                 exp.Alias, exp.Select, exp.Ordered, exp.Group)
    return precedence, (exp.And, exp.Or, exp.Add, exp.Mul), delimited


def _precedence(node: exp.Expression) -> int:
    """How tightly an operator binds (10: an operand that is not an operator)."""
    return next((p for kinds, p in _operators()[0] if isinstance(node, kinds)), 10)


def _paren_needed(paren: exp.Paren) -> bool:
    """Whether `( ... )` changes how the expression reads: `(a OR b) AND c`, `(a + b) * c`,
    `NOT (a AND b)` keep theirs; `(a)`, `f((x))`, `((a = 1))` and a CHECK's outer pair do not.
    Unknown contexts keep them (a different spelling at worst, never a different meaning)."""
    parent, child = paren.parent, paren.this
    cp = _precedence(child)
    if parent is None or cp == 10:
        return False
    pp = _precedence(parent)
    if isinstance(parent, (exp.Not, exp.Neg, exp.BitwiseNot)):
        return cp < pp
    if pp < 10 and not isinstance(parent, (exp.In, exp.Between)) or isinstance(parent, (exp.In, exp.Between)) \
            and paren.arg_key in ("this", "low", "high"):
        if cp != pp:
            return cp < pp
        # the same precedence: left to right, except comparisons and the other operators
        # (`(a = b) IS NULL`, `(a | b) & c` on MySQL) and a right operand of - / %
        return pp in (4, 5) or (paren.arg_key != "this" and not isinstance(parent, _operators()[1]))
    if isinstance(parent, _operators()[2]) and not isinstance(parent, exp.Binary):
        return False
    return True


def _precision(n: exp.Expression) -> exp.Literal | None:
    """The fractional-second precision of a CURRENT_TIMESTAMP(n) / NOW(n) node (None: none)."""
    arg = n.this if isinstance(n, exp.CurrentTimestamp) else (n.expressions[0] if n.expressions else None)
    if isinstance(arg, exp.Literal) and not arg.is_string and arg.this.strip():
        return exp.Literal.number(str(int(arg.this)) if arg.this.strip().isdigit() else arg.this)
    return None


def _strip(node: exp.Expression) -> exp.Expression:
    """Remove what spelling adds but meaning does not: parentheses and casts of literals."""

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Paren) and not isinstance(n.this, exp.Subquery) and not _paren_needed(n):
            return n.this
        if isinstance(n, exp.Literal) and not n.is_string and "e" in n.this.lower():
            # PostgreSQL stores 1e3 as the numeric 1000
            value = Decimal(n.this) if _NUMBER.match(n.this) else None
            if value is not None and abs(value.adjusted()) <= 30:
                return exp.Literal.number(format(value, "f"))
        if isinstance(n, (exp.Cast, exp.TryCast)):
            inner = n.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            to = n.to if isinstance(n.to, exp.DataType) else None
            if isinstance(inner, exp.Literal) and inner.is_string and to is not None and \
                    to.this in _number_casts() and _NUMBER.match(inner.this):
                # PostgreSQL stores `h > -5` as `(h > '-5'::integer)`: the number it stands for
                number = exp.Literal.number(inner.this.lstrip("+-"))
                return exp.Neg(this=number) if inner.this.startswith("-") else number
            if isinstance(inner, (exp.Literal, exp.Null, exp.Boolean, exp.Array, exp.Neg)):
                return inner
            # column::text, (json ->> 'k')::varchar: PostgreSQL adds such casts of text values when
            # it stores an expression (argument coercion); they change nothing
            to = n.to if isinstance(n.to, exp.DataType) else None
            if to is not None and to.this in (_T.TEXT, _T.VARCHAR) and not to.expressions and \
                    isinstance(inner, (exp.Column, exp.JSONExtractScalar, exp.JSONBExtractScalar)):
                return inner
        if isinstance(n, exp.CurrentTimestamp) or (
            isinstance(n, exp.Anonymous) and n.name.lower() in ("now", "transaction_timestamp")
        ):
            # one spelling, but the precision kept: MySQL's NOW(3) is CURRENT_TIMESTAMP(3), whose
            # fractional seconds CURRENT_TIMESTAMP() drops
            precision = _precision(n)
            return exp.CurrentTimestamp(this=precision) if precision is not None else exp.CurrentTimestamp()
        return n

    node = node.transform(fix)  # on a copy: `node` may be parse_expression's cached tree
    # transform() does not revisit replaced roots: run until stable
    for _ in range(5):
        again = node.transform(fix)
        if again == node:
            break
        node = again
    return node


def _any_array_to_in(node: exp.Expression) -> exp.Expression:
    """`x = ANY (ARRAY['a','b'])` (how PostgreSQL stores `x IN ('a','b')`) -> `x IN ('a','b')`."""

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.EQ) and isinstance(n.expression, exp.Any):
            arr = n.expression.this
            while isinstance(arr, (exp.Paren, exp.Cast)):
                arr = arr.this
            if isinstance(arr, exp.Array):
                return exp.In(this=n.this, expressions=list(arr.expressions))
        return n

    return node.transform(fix)


def _between_to_comparisons(node: exp.Expression) -> exp.Expression:
    """PostgreSQL stores `x BETWEEN a AND b` as `x >= a AND x <= b`, `x NOT BETWEEN a AND b` as
    `x < a OR x > b` and SYMMETRIC as both orders: one spelling (parenthesised; _strip drops
    the pair where it changes nothing)."""

    def between(b: exp.Between) -> exp.Expression:
        x, low, high = b.this, b.args["low"], b.args["high"]
        one = exp.And(this=exp.GTE(this=x.copy(), expression=low.copy()),
                      expression=exp.LTE(this=x.copy(), expression=high.copy()))
        if not b.args.get("symmetric"):
            return one
        other = exp.And(this=exp.GTE(this=x.copy(), expression=high.copy()),
                        expression=exp.LTE(this=x.copy(), expression=low.copy()))
        return exp.Or(this=exp.Paren(this=one), expression=exp.Paren(this=other))

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Not) and isinstance(n.this, exp.Between) and not n.this.args.get("symmetric"):
            b = n.this
            return exp.Paren(this=exp.Or(this=exp.LT(this=b.this.copy(), expression=b.args["low"].copy()),
                                         expression=exp.GT(this=b.this.copy(), expression=b.args["high"].copy())))
        if isinstance(n, exp.Between):
            return exp.Paren(this=between(n))
        return n

    return node.transform(fix)


#: SQLAlchemy's quoting rules (reserved words, case, illegal characters) per dialect, without
#: importing SQLAlchemy: `needs_quotes(name, d)` is `preparer.quote(name) != name`
_RESERVED = {"postgresql": reserved_words.POSTGRESQL, "mysql": reserved_words.MYSQL,
             "sqlite": reserved_words.SQLITE}
_LEGAL_CHARACTERS = re.compile(r"^[A-Z0-9_$]+$", re.I)
_ILLEGAL_INITIAL = frozenset("0123456789$")


@lru_cache(maxsize=16384)
def needs_quotes(name: str, dialect: str) -> bool:
    """SQLAlchemy's `IdentifierPreparer._requires_quotes`: a reserved word, a leading digit or
    `$`, a character outside `[A-Za-z0-9_$]`, or an upper-case letter."""
    if not name:
        return True
    low = name.lower()
    return (low in _RESERVED[dialect] or name[0] in _ILLEGAL_INITIAL
            or not _LEGAL_CHARACTERS.match(name) or low != name)


def _canonical_identifiers(node: exp.Expression, dialect: str) -> exp.Expression:
    """Quote an identifier only where it must be: MariaDB stores `` `n` > 0 ``, PostgreSQL
    `"n" > 0` only for some names, SQLAlchemy writes `n > 0`; all become `n > 0`. PostgreSQL
    folds unquoted names to lower case first."""
    pg = dialect == "postgresql"

    def fix(n: exp.Expression) -> exp.Expression:
        if pg and isinstance(n, exp.Dot) and isinstance(n.expression, exp.Func) and \
                isinstance(n.this, exp.Identifier) and n.this.this.lower() in ("public", "pg_catalog"):
            return n.expression  # public.f(x) / pg_catalog.f(x) -> f(x)
        if isinstance(n, exp.Identifier):
            text = n.this if n.quoted or not pg else n.this.lower()
            quoted = needs_quotes(text, dialect)
            if (text, quoted) != (n.this, bool(n.quoted)):
                return exp.Identifier(this=text, quoted=quoted)
        if isinstance(n, exp.Anonymous) and isinstance(n.this, str) and n.this != n.this.lower():
            n = n.copy()
            n.set("this", n.this.lower())
        return n

    return node.transform(fix)


def _mysql_byte_length(node: exp.Expression) -> exp.Expression:
    """MySQL's LENGTH() counts bytes; MariaDB stores it as octet_length(): one spelling."""

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Anonymous) and n.name.lower() == "octet_length" and len(n.expressions) == 1:
            return exp.Length(this=n.expressions[0], binary=True)
        return n

    return node.transform(fix)


@lru_cache(maxsize=16384)
def normalize_expression(text: str, dialect: str) -> str:
    """Canonical SQL for a CHECK, partial-index WHERE, index expression or generated column."""
    text = text.strip()
    try:
        node = parse_expression(text, dialect)
    except ExpressionError:
        return _WS.sub(" ", text)
    if dialect == "mysql":
        node = _mysql_byte_length(node)
    node = _any_array_to_in(_strip(node))
    if dialect == "postgresql":
        node = _between_to_comparisons(node)
    node = _canonical_identifiers(_strip(node), dialect)
    return node.sql(dialect=sqlglot_dialect(dialect))


def is_volatile(node: exp.Expression) -> bool:
    for f in node.find_all(exp.Func):
        name = (f.name if isinstance(f, exp.Anonymous) else f.sql_name()).lower()
        if name in VOLATILE_FUNCTIONS or isinstance(f, (exp.Rand, exp.Uuid)):
            return True
        if isinstance(f, exp.Anonymous) and name not in STABLE_FUNCTIONS:
            return True  # user-defined functions are VOLATILE unless declared otherwise
    return False


def _type_precision(column_type: str) -> str | None:
    """`3` of `datetime(3)` / `timestamp(3)` (None without one)."""
    m = re.fullmatch(r"\s*\w[\w ]*?\(\s*(\d+)\s*\).*", column_type)
    return str(int(m.group(1))) if m else None


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_NEXTVAL = re.compile(r"^\s*nextval\(", re.IGNORECASE)


@lru_cache(maxsize=16384)
def normalize_default(text: str | None, dialect: str, column_type: str) -> tuple[str | None, bool, bool]:
    """Canonical default expression for a column of `column_type`.

    Returns `(expression or None, volatile, is_sequence)`; `is_sequence` is True for a
    `nextval(...)` default, which is how a serial column shows itself.
    """
    if text is None:
        return None, False, False
    text = text.strip()
    if not text or text.upper() == "NULL":
        return None, False, False
    if _NEXTVAL.match(text):
        return None, True, True
    if dialect == "postgresql":
        simple = _pg_simple_default(text, column_type.removesuffix("[]"))
        if simple is not None:
            return simple, False, False
    try:
        node = parse_expression(text, dialect)
    except ExpressionError:
        return _WS.sub(" ", text), False, False
    node = _strip(node)
    base = column_type.removesuffix("[]")
    if isinstance(node, exp.Null):
        return None, False, False
    # a string literal for a numeric or boolean column ('0', '-1', 'true') is that value
    # a number is written in one canonical form only where the column stores the same value
    # however it is written: into a text column `1.0` goes as '1.0' (not '1'), into an
    # unconstrained PostgreSQL numeric `1.50` keeps its scale; there the literal stays as written
    by_value = _stores_by_value(base, dialect)
    if isinstance(node, exp.Literal) and node.is_string:
        val = node.this
        if by_value and _NUMBER.match(val):
            node = exp.Literal.number(_clean_number(val))
        elif base == "boolean" and val.lower() in ("true", "false", "t", "f", "1", "0", "yes", "no"):
            node = exp.Boolean(this=val.lower() in ("true", "t", "1", "yes"))
    elif isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and (by_value or _INT.fullmatch(node.this.this)):
        node = exp.Literal.number(_clean_number("-" + node.this.this))
    elif isinstance(node, exp.Literal) and (by_value or _INT.fullmatch(node.this)):  # (007 is the integer 7 anywhere)
        node = exp.Literal.number(_clean_number(node.this))
    if dialect == "mysql" and base == "tinyint(1)" and isinstance(node, exp.Boolean):
        node = exp.Literal.number("1" if node.this else "0")
    if isinstance(node, exp.Literal) and node.is_string and dialect == "postgresql":
        if base == "jsonb":
            return _jsonb_literal(node.this), False, False
        if base.split("(")[0] in ("timestamp", "date") and (m := _DATETIME_LITERAL.match(node.this)):
            return _datetime_literal(m, base.split("(")[0]), False, False
    node = _canonical_identifiers(node, dialect)
    volatile = is_volatile(node)
    if isinstance(node, exp.CurrentTimestamp):
        # at the column's own precision (the only one MySQL allows there) it is the column's
        # CURRENT_TIMESTAMP; written at another precision (MariaDB), it stays as written
        # (PostgreSQL's CURRENT_TIMESTAMP(0) rounds to whole seconds; MySQL's is the plain one)
        precision = node.this.this if isinstance(node.this, exp.Literal) else None
        if precision is None or _type_precision(base) == precision or (precision == "0" and dialect != "postgresql"):
            return "CURRENT_TIMESTAMP", False, False
        return f"CURRENT_TIMESTAMP({precision})", False, False
    return node.sql(dialect=sqlglot_dialect(dialect)), volatile, False


#: the default spellings most PostgreSQL schemas use, read without sqlglot: a plain string,
#: an integer, true/false, CURRENT_TIMESTAMP (tests/test_fast_paths.py compares with sqlglot's)
_PG_PLAIN_STRING = re.compile(r"'[^'\\]*'")
_PG_INTEGER = re.compile(r"-?\d{1,15}")


def _pg_simple_default(text: str, base: str) -> str | None:
    """`normalize_default`'s expression for a common PostgreSQL default, or None (sqlglot's)."""
    word = base.split("(")[0]
    if _PG_PLAIN_STRING.fullmatch(text):
        if _is_numeric_type(base, "postgresql") or word in ("boolean", "jsonb", "json", "timestamp", "date"):
            return None  # a literal those types read differently
        return text
    if _PG_INTEGER.fullmatch(text):
        return str(int(text))
    upper = text.upper()
    if upper in ("TRUE", "FALSE", "CURRENT_TIMESTAMP"):
        return upper
    return None


_DATETIME_LITERAL = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2})?(\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?\s*$")


def _datetime_literal(m: re.Match[str], base: str) -> str:
    """A date or zone-less timestamp constant as PostgreSQL prints it back: the zone offset is
    dropped, seconds are always shown, trailing zeros of a fraction are not."""
    day, hm, sec, frac = m.groups()
    if base == "date":
        return f"'{day}'"
    if hm is None:
        return f"'{day} 00:00:00'"
    fraction = (frac or "").rstrip("0").rstrip(".")
    return f"'{day} {hm}{sec or ':00'}{fraction}'"


def _jsonb_literal(text: str) -> str:
    """A jsonb constant as PostgreSQL stores it (a default is kept parsed, and printed back in
    jsonb's output form): keys ordered by length then bytes, `", "`/`": "` separators, numbers
    as written in numeric notation. Text that is not JSON is kept as written."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        return "'" + text.replace("'", "''") + "'"
    return "'" + _jsonb_text(value).replace("'", "''") + "'"


def _jsonb_text(value: object) -> str:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_jsonb_text(value[k])}"
                               for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def _is_numeric_type(base: str, dialect: str) -> bool:
    word = base.split("(")[0].split()[0] if base else ""
    return word in {
        "integer", "smallint", "bigint", "numeric", "real", "double", "decimal", "int", "tinyint",
        "mediumint", "float", "serial", "bigserial",
    } or base == "double precision"


_INT = re.compile(r"[-+]?\d+")


def _stores_by_value(base: str, dialect: str) -> bool:
    """A number literal default of a column of type `base` stores the same value however it is
    written (`1`, `1.0`, `1.00`): integers, floats, numerics with a fixed scale. Not a text
    column (`1.0` is stored as '1.0'), nor PostgreSQL's unconstrained numeric, which keeps the
    literal's scale (`1.50` reads back as 1.50)."""
    if not _is_numeric_type(base, dialect):
        return False
    word = base.split("(")[0].split()[0]
    return not (dialect == "postgresql" and word in ("numeric", "decimal") and "(" not in base)


def _clean_number(val: str) -> str:
    """`1.50` -> `1.5`, `007` -> `7`, `1.0` -> `1`: numbers compare by value."""
    try:
        if re.fullmatch(r"[-+]?\d+", val):
            return str(int(val))
        f = float(val)
        if not math.isfinite(f):  # (1e400: the server says whether it fits the column)
            return val
        if f == int(f) and "e" not in val.lower() and abs(f) < 1e15:
            return str(int(f))
        return repr(f) if "e" not in val.lower() else val
    except ValueError:
        return val
