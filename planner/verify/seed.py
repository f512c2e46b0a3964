"""Fill a database with generated rows that satisfy its schema: `seed(url, schema)`.

Every table gets `rows` rows (default 50), generated deterministically from `seed` (the same
seed, schema and empty database give the same data, row for row), inserted with SQLAlchemy Core
(identifiers quoted by SQLAlchemy) in one transaction:

* types: values fit the column (lengths, numeric precision and scale, integer ranges, enum
  and SET values, arrays, JSON, dates at the column's fractional-second precision, ...);
* NOT NULL columns always get a value; nullable ones get NULL in about one row in six;
* primary keys and unique indexes (composite ones too, `NULLS NOT DISTINCT` included) get
  distinct values, tracked in Python; what only the database knows (expression indexes,
  case-insensitive collations) is caught by the database and retried;
* foreign keys point at existing parent rows (one-to-one references at unused ones): tables
  are filled parents first. Nullable references to the same table, and in each cycle of
  tables the nullable references that break it, are inserted as NULL and filled by an UPDATE
  pass once every table has rows (a self-reference then points at an earlier row; about one
  row in six stays NULL). A NOT NULL self-reference points at an earlier row or the row
  itself; a cycle of NOT NULL references cannot be seeded, and the report says so;
* CHECK constraints, best effort: a row the database rejects is generated again with other
  values (the literals of the table's checks, small numbers, NULLs), up to a limit; a table
  may then get fewer rows, and the report says why;
* generated columns, serial / identity / AUTO_INCREMENT columns are left to the database.

`seed()` returns rows inserted per table; `seed_database()` returns a `SeedReport` that also
explains every table that got fewer rows than asked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import math
import random
import re
import string
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlglot import exp

from planner.load.database import parse_database_url
from planner.model import Column, ForeignKey, Schema, Table
from planner.normalize import ExpressionError, enum_values_of_type, parse_expression
from planner.urls import redact
from planner.verify.metadata import VerifyError, table_key, to_metadata

__all__ = ["SeedReport", "seed", "seed_database"]

#: how often a row is generated again before the table is given up on for that row
MAX_ATTEMPTS = 12
#: rows in a row that may fail before a table is given up on
MAX_CONSECUTIVE_FAILURES = 8
NULL_RATE = 1 / 6
EPOCH = dt.datetime(2024, 1, 1)
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What `seed_database` did: rows per table, and why a table got fewer than asked."""

    requested: int
    rows: dict[str, int]
    #: table -> why it got fewer rows than requested
    shortfalls: dict[str, str] = field(default_factory=dict)
    #: how references were filled (cycles, self-references) and what was left NULL
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.shortfalls

    def summary(self) -> list[str]:
        """One line per table that got fewer rows, then the notes."""
        lines = [f"{t}: {self.rows.get(t, 0)}/{self.requested} rows ({why})"
                 for t, why in sorted(self.shortfalls.items())]
        return lines + list(self.notes)


def seed(url: str, schema: Schema, *, rows: int = 50, seed: int = 0) -> dict[str, int]:
    """Insert `rows` generated rows into every table of `schema` at `url`; rows inserted per
    table (fewer where constraints did not allow more: see `seed_database`)."""
    return seed_database(url, schema, rows=rows, seed=seed).rows


def seed_database(url: str, schema: Schema, *, rows: int = 50, seed: int = 0,
                  choices: dict[tuple[str, str], list[Any]] | None = None) -> SeedReport:
    """`seed`, with the report: which tables got fewer rows, and why. `choices` ((table key,
    column) -> values) narrows what a column gets, as a CHECK `col IN (...)` would (verify:
    text a conversion rule turns into the new enum)."""
    if rows < 0:
        raise VerifyError(f"rows must be >= 0, not {rows}")
    engine, options = _engine(url, schema)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**options)
            with conn.begin():
                return _Seeder(conn, schema, rows, seed, choices or {}).run()
    except sa_exc.SQLAlchemyError as e:
        raise VerifyError(f"seeding {parse_database_url(url).masked} failed: {redact(_one_line(e), [url])}") from None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- connection

def _engine(url: str, schema: Schema) -> tuple[Engine, dict[str, Any]]:
    """A writable engine (seeding writes; checksums use the read-only one)."""
    target = parse_database_url(url)
    if target.dialect != schema.dialect:
        raise VerifyError(f"{target.masked} is {target.dialect}, the schema is {schema.dialect}")
    engine = sa.create_engine(target.url, poolclass=NullPool)
    options: dict[str, Any] = {}
    if target.schema:
        options["schema_translate_map"] = {None: target.schema}
    if target.dialect == "sqlite":
        _sqlite_transactions(engine)
    return engine, options


def _sqlite_transactions(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN, and
    enforce foreign keys (off by default in SQLite)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


class _QuietPipeline(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "error ignored terminating" not in record.getMessage()


@contextlib.contextmanager
def _quiet_psycopg() -> Iterator[None]:
    """psycopg logs a warning when a failed executemany leaves its pipeline; the failure is
    expected here (the rows are retried one by one), so the warning is noise."""
    logger, quiet = logging.getLogger("psycopg"), _QuietPipeline()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _one_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split())[:300]


# --------------------------------------------------------------------------- column kinds

@dataclass(frozen=True, slots=True)
class _Kind:
    """What values a column takes, read from its canonical type."""

    name: str
    length: int | None = None
    fixed: bool = False
    lo: int = 0
    hi: int = 0
    precision: int | None = None
    scale: int = 0
    tz: bool = False
    values: tuple[str, ...] = ()
    array: _Kind | None = None
    #: decimal / float range a CHECK allows (inclusive)
    low: Decimal | None = None
    high: Decimal | None = None
    #: the only values a CHECK allows (`col IN (...)`)
    choices: tuple[Any, ...] = ()


_INT_RANGES = {
    "smallint": (-32768, 32767), "integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1), "tinyint": (-128, 127), "mediumint": (-(2**23), 2**23 - 1),
}
_TYPE = re.compile(r"^([a-z ]+?)\s*(?:\((.*)\))?( unsigned)?$")


def _kind(schema: Schema, column: Column) -> _Kind:
    canonical = column.type
    if canonical.endswith("[]"):
        inner = dataclasses.replace(column, type=canonical[:-2])
        return _Kind("array", array=_kind(schema, inner))
    enum = schema.enum(canonical) if column.enum else None
    if enum is not None:
        return _Kind("enum", values=enum.values)
    inline = enum_values_of_type(canonical) if schema.dialect == "mysql" else None
    if inline is not None:
        return _Kind("enum", values=inline)
    if schema.dialect == "mysql" and canonical.startswith("set("):
        return _Kind("set", values=tuple(e.name for e in exp.DataType.build(canonical, dialect="mysql").expressions))
    m = _TYPE.match(canonical.lower())
    if m is None:
        return _Kind("unknown")
    base, params, unsigned = m.group(1), m.group(2), bool(m.group(3))
    numbers = [int(p) for p in (params or "").replace(" ", "").split(",") if p.isdigit()]
    if schema.dialect == "sqlite":
        return _sqlite_kind(base, numbers)
    return _server_kind(schema.dialect, base, numbers, unsigned)


def _server_kind(dialect: str, base: str, n: list[int], unsigned: bool) -> _Kind:
    first = n[0] if n else None
    if dialect == "mysql" and base == "tinyint" and n == [1]:
        return _Kind("bool")
    if base in _INT_RANGES:
        lo, hi = _INT_RANGES[base]
        return _Kind("int", lo=0, hi=hi * 2 + 1) if unsigned else _Kind("int", lo=lo, hi=hi)
    if base in ("real", "double precision", "double", "float"):
        return _Kind("float")
    if base in ("numeric", "decimal"):
        return _Kind("decimal", precision=first, scale=n[1] if len(n) > 1 else 0)
    if base == "money":
        return _Kind("decimal", precision=12, scale=2)
    if base in ("text", "citext", "tinytext", "mediumtext", "longtext", "varchar", "char", "xml"):
        limit = first if base in ("varchar", "char") else (255 if base == "tinytext" else None)
        return _Kind("text", length=limit, fixed=base == "char")
    if base in ("timestamp", "timestamptz", "datetime"):
        return _Kind("datetime", precision=first if first is not None else (6 if dialect == "postgresql" else 0),
                     tz=base == "timestamptz")
    if base in ("time", "timetz"):
        return _Kind("time", precision=first if first is not None else (6 if dialect == "postgresql" else 0),
                     tz=base == "timetz")
    if base in ("bit", "varbit"):
        return _Kind("bits" if dialect == "postgresql" else "bitint", length=first or 1, fixed=base == "bit")
    return _other_kind(base, first)


_RANGES = {"int4range": "int", "int8range": "int", "numrange": "decimal", "daterange": "date",
           "tsrange": "datetime", "tstzrange": "datetimetz"}
_SIMPLE_KINDS = {
    "boolean": "bool", "date": "date", "interval": "interval", "json": "json", "jsonb": "json",
    "uuid": "uuid", "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "tsvector": "tsvector",
    "year": "year", "hstore": "hstore", "vector": "vector",
}


def _other_kind(base: str, first: int | None) -> _Kind:
    if base in ("bytea", "blob", "tinyblob", "mediumblob", "longblob", "binary", "varbinary"):
        return _Kind("bytes", length=first, fixed=base == "binary")
    if base in _SIMPLE_KINDS:
        return _Kind(_SIMPLE_KINDS[base], length=first)
    if base in _RANGES:
        return _Kind("range", values=(_RANGES[base],))
    return _Kind("unknown")


def _sqlite_kind(base: str, n: list[int]) -> _Kind:
    """SQLite: the declared type by affinity, with the names SQLAlchemy gives meaning to."""
    if "int" in base:
        return _Kind("int", lo=-(2**63), hi=2**63 - 1)
    for words, kind in (
        (("json",), _Kind("json")), (("bool",), _Kind("bool")),
        (("datetime", "timestamp"), _Kind("datetime", precision=6)), (("date",), _Kind("date")),
        (("time",), _Kind("time", precision=6)),
        (("char", "clob", "text"), _Kind("text", length=n[0] if n else None)),
        (("blob",), _Kind("bytes")), (("real", "floa", "doub"), _Kind("float")),
        (("decimal", "numeric"), _Kind("decimal", precision=n[0] if n else None,
                                       scale=n[1] if len(n) > 1 else 0)),
    ):
        if any(w in base for w in words):
            return kind
    return _Kind("text")


# --------------------------------------------------------------------------- values

class _Values:
    """Values for one column kind; `i` is the row number, so that most values differ per row."""

    def __init__(self, rng: random.Random, i: int, name: str) -> None:
        self.rng, self.i, self.name = rng, i, name.lower()

    def make(self, kind: _Kind) -> Any:
        if kind.choices:
            return self.rng.choice(kind.choices)
        return getattr(self, f"_{kind.name}")(kind)

    def _int(self, k: _Kind) -> int:
        base = k.lo if k.lo > 0 or k.hi < 0 else 0
        if base >= k.hi:  # a CHECK leaves one value (or none: the database will say so)
            return base
        v = base + self.i * 10 + self.rng.randrange(1, 10)
        return v if v <= k.hi else self.rng.randint(base, k.hi)

    def _float(self, k: _Kind) -> float:
        if k.low is not None or k.high is not None:
            return float(self._ranged(k, 3))
        return round(self.i * 10 + self.rng.random() * 10, 3)

    def _decimal(self, k: _Kind) -> Decimal:
        scale = k.scale if k.precision is not None else 2
        if k.low is not None or k.high is not None:
            return self._ranged(k, scale)
        digits = (k.precision - k.scale) if k.precision is not None else 9
        whole = self._int(_Kind("int", hi=10 ** min(digits, 15) - 1)) if digits > 0 else 0
        frac = self.rng.randrange(10 ** scale) if scale else 0
        return Decimal(f"{whole}.{frac:0{scale}d}") if scale else Decimal(whole)

    def _ranged(self, k: _Kind, scale: int) -> Decimal:
        """A number in the range a CHECK allows, at the column's scale."""
        step = Decimal(1).scaleb(-scale)
        low = k.low if k.low is not None else (k.high or Decimal(0)) - 1000
        high = k.high if k.high is not None else low + 1000
        if k.precision is not None:
            limit = Decimal(10) ** (k.precision - k.scale) - step
            low, high = max(low, -limit), min(high, limit)
        value = (low + (high - low) * Decimal(self.rng.random())).quantize(step)
        return min(max(value, low.quantize(step, rounding="ROUND_CEILING")),
                   high.quantize(step, rounding="ROUND_FLOOR"))

    def _text(self, k: _Kind) -> str:
        limit = k.length
        if "email" in self.name and (limit is None or limit >= 40):
            return f"user{self.i}.{self._chars(4)}@example.com"
        tag = _base36(self.i)
        word = f"{re.sub(r'[^a-z0-9]', '', self.name)[:10] or 'v'}-{tag}-{self._chars(6)}"
        if self.i % 7 == 3:
            word += "-é"
        if limit is not None and len(word) > limit:
            word = f"{tag}-{self._chars(limit)}" if limit > len(tag) + 1 else self._chars(limit)
            word = word[:limit]
        if k.fixed and limit is not None:
            word = (word + self._chars(limit))[:limit]
        return word

    def _chars(self, n: int) -> str:
        return "".join(self.rng.choice(_ALPHABET) for _ in range(n))

    def _bool(self, k: _Kind) -> bool:
        return self.rng.random() < 0.5

    def _date(self, k: _Kind) -> dt.date:
        return (EPOCH + dt.timedelta(days=self.i * 3 + self.rng.randrange(3))).date()

    def _datetime(self, k: _Kind) -> dt.datetime:
        value = EPOCH + dt.timedelta(minutes=self.i * 97 + self.rng.randrange(97),
                                     seconds=self.rng.randrange(60),
                                     microseconds=self.rng.randrange(1_000_000))
        value = value.replace(microsecond=_truncate(value.microsecond, k.precision))
        return value.replace(tzinfo=dt.UTC) if k.tz else value

    def _time(self, k: _Kind) -> dt.time:
        value = dt.time(self.rng.randrange(24), self.rng.randrange(60), self.rng.randrange(60),
                        _truncate(self.rng.randrange(1_000_000), k.precision))
        return value.replace(tzinfo=dt.UTC) if k.tz else value

    def _interval(self, k: _Kind) -> dt.timedelta:
        return dt.timedelta(hours=self.i, minutes=self.rng.randrange(60))

    def _json(self, k: _Kind) -> Any:
        if self.rng.random() < 0.2:
            return [self.i, self._chars(3)]
        return {"n": self.i, "tag": self._chars(5), "ok": self.rng.random() < 0.5,
                "items": [self.rng.randrange(100) for _ in range(self.rng.randrange(3))]}

    def _uuid(self, k: _Kind) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _bytes(self, k: _Kind) -> bytes:
        size = k.length if k.fixed and k.length else min(k.length or 8, 8)
        return bytes(self.rng.randrange(256) for _ in range(size))

    def _enum(self, k: _Kind) -> str:
        return self.rng.choice(k.values)

    def _set(self, k: _Kind) -> str:
        return ",".join(v for v in k.values if self.rng.random() < 0.5)

    def _array(self, k: _Kind) -> list[Any]:
        assert k.array is not None
        return [self.make(k.array) for _ in range(self.rng.randrange(4))]

    def _bits(self, k: _Kind) -> str:
        size = k.length if k.fixed else self.rng.randint(1, k.length or 1)
        return "".join(self.rng.choice("01") for _ in range(size or 1))

    def _bitint(self, k: _Kind) -> int:
        return self.rng.randrange(2 ** (k.length or 1))

    def _inet(self, k: _Kind) -> str:
        return f"10.{self.i // 65536 % 256}.{self.i // 256 % 256}.{self.i % 256}"

    def _cidr(self, k: _Kind) -> str:
        return f"10.{self.i % 256}.0.0/16"

    def _macaddr(self, k: _Kind) -> str:
        return f"08:00:2b:{self.i // 65536 % 256:02x}:{self.i // 256 % 256:02x}:{self.i % 256:02x}"

    def _tsvector(self, k: _Kind) -> str:
        return f"word{self.i} {self._chars(5)}"

    def _year(self, k: _Kind) -> int:
        return 1990 + self.i % 150

    def _hstore(self, k: _Kind) -> dict[str, str]:
        return {"n": str(self.i), "tag": self._chars(4)}

    def _vector(self, k: _Kind) -> str:
        return "[" + ",".join(f"{self.rng.random():.3f}" for _ in range(k.length or 3)) + "]"

    def _range(self, k: _Kind) -> postgresql.Range[Any]:
        start = self.i * 10 + self.rng.randrange(5)
        low: Any = start
        high: Any = start + 1 + self.rng.randrange(9)
        if k.values[0] == "decimal":
            low, high = Decimal(low) / 10, Decimal(high) / 10
        elif k.values[0] != "int":
            tz = dt.UTC if k.values[0] == "datetimetz" else None
            low, high = (EPOCH + dt.timedelta(days=low)).replace(tzinfo=tz), \
                (EPOCH + dt.timedelta(days=high)).replace(tzinfo=tz)
            if k.values[0] == "date":
                low, high = low.date(), high.date()
        return postgresql.Range(low, high, bounds="[)")

    def _unknown(self, k: _Kind) -> str:
        return f"{self.i}"


def _truncate(microseconds: int, precision: int | None) -> int:
    digits = 6 if precision is None else max(0, min(precision, 6))
    step = 10 ** (6 - digits)
    return microseconds // step * step


def _base36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


# --------------------------------------------------------------------------- checks

def _bounded(kind: _Kind, checks: list[exp.Expression], column: str) -> _Kind:
    """`kind` narrowed by the simple conditions CHECK constraints put on `column`: comparisons
    with a number, BETWEEN, IN (...), also inside `col IS NULL OR ...`. Anything else is left to
    the retries."""
    for node in checks:
        for cond in _conjuncts(node):
            kind = _narrow(kind, cond, column)
    return kind


def _conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    elif isinstance(node, exp.Or):
        sides = [node.this, node.expression]
        rest = [s for s in sides if not (isinstance(s, exp.Is) and isinstance(s.expression, exp.Null))]
        if len(rest) == 1:  # col IS NULL OR <condition>
            yield from _conjuncts(rest[0])
    else:
        yield node


_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}


def _narrow(kind: _Kind, cond: exp.Expression, column: str) -> _Kind:
    if isinstance(cond, exp.Between) and _is_column(cond.this, column):
        low, high = _number(cond.args.get("low")), _number(cond.args.get("high"))
        if low is not None and high is not None:
            return _limit(_limit(kind, exp.GTE, low), exp.LTE, high)
    if isinstance(cond, exp.In) and _is_column(cond.this, column):
        values = [_literal_value(e) for e in cond.expressions]
        if values and all(v is not None for v in values):
            return _choices(kind, values)
    op = type(cond)
    if op in _FLIP:
        if _is_column(cond.this, column) and (n := _number(cond.expression)) is not None:
            return _limit(kind, op, n)
        if _is_column(cond.expression, column) and (n := _number(cond.this)) is not None:
            return _limit(kind, _FLIP[op], n)
    return kind


def _is_column(node: exp.Expression | None, name: str) -> bool:
    return isinstance(node, exp.Column) and node.name == name and not node.table


def _number(node: exp.Expression | None) -> Decimal | None:
    value = _literal_value(node)
    return value if isinstance(value, Decimal) else None


def _literal_value(node: exp.Expression | None) -> Any:
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    if not isinstance(node, exp.Literal):
        return None
    if node.is_string:
        return None if negative else node.this
    try:
        value = Decimal(node.this)
    except ArithmeticError:
        return None
    return -value if negative else value


def _limit(kind: _Kind, op: type, n: Decimal) -> _Kind:
    if kind.name == "int":
        if op in (exp.GT, exp.GTE):
            low = math.floor(n) + 1 if op is exp.GT else math.ceil(n)
            return dataclasses.replace(kind, lo=max(kind.lo, low))
        high = math.ceil(n) - 1 if op is exp.LT else math.floor(n)
        return dataclasses.replace(kind, hi=min(kind.hi, high))
    if kind.name in ("decimal", "float"):
        step = Decimal(1).scaleb(-(kind.scale if kind.precision is not None else 3))
        if op in (exp.GT, exp.GTE):
            low = n + step if op is exp.GT else n
            return dataclasses.replace(kind, low=low if kind.low is None else max(kind.low, low))
        high = n - step if op is exp.LT else n
        return dataclasses.replace(kind, high=high if kind.high is None else min(kind.high, high))
    return kind


def _choices(kind: _Kind, values: list[Any]) -> _Kind:
    fitting = tuple(_coerce(kind, v) for v in values if _fits(kind, v))
    return dataclasses.replace(kind, choices=fitting) if fitting else kind


def _parsed_checks(table: Table, dialect: str) -> list[exp.Expression]:
    out = []
    for check in table.checks:
        try:
            out.append(parse_expression(check.expression, dialect))
        except ExpressionError:
            continue
    return out


def _check_hints(checks: list[exp.Expression]) -> dict[str, list[Any]]:
    """Column -> the literals of the CHECK constraints it appears in (and their neighbours),
    the values a retry tries first."""
    hints: dict[str, list[Any]] = {}
    for node in checks:
        columns = {c.name for c in node.find_all(exp.Column)}
        literals = list(_literals(node))
        for name in columns:
            hints.setdefault(name, []).extend(literals)
    return hints


def _literals(node: exp.Expression) -> Iterator[Any]:
    for lit in node.find_all(exp.Literal):
        if lit.is_string:
            yield lit.this
            continue
        try:
            number = Decimal(lit.this)
        except ArithmeticError:
            continue
        negative = isinstance(lit.parent, exp.Neg)
        number = -number if negative else number
        yield from (number, number + 1, number - 1)


# --------------------------------------------------------------------------- planning

@dataclass(frozen=True, slots=True)
class _Ref:
    """One foreign key of one table."""

    table: str
    position: int
    fk: ForeignKey
    parent: str

    @property
    def label(self) -> str:
        return self.fk.name or f"({', '.join(self.fk.columns)})"


def _plan(schema: Schema, tables: dict[str, Table]) -> tuple[list[str], set[_Ref], list[str]]:
    """Parents-first order, the references to fill later by UPDATE (nullable self-references,
    and in each foreign-key cycle nullable references until the cycle is broken), and notes on
    cycles that cannot be broken."""
    refs = [r for r in _iter_refs(schema) if r.parent in tables]
    deferred = {r for r in refs if r.parent == r.table and _nullable(tables[r.table], r.fk)}
    order: list[str] = []
    notes: list[str] = []
    remaining = sorted(tables)
    while remaining:
        placed = set(order)
        ready = [k for k in remaining if all(r.parent in placed or r.parent == k or r in deferred
                                             for r in refs if r.table == k)]
        if ready:
            order.extend(ready)
            remaining = [k for k in remaining if k not in ready]
            continue
        cycle = _first_cycle(remaining, [r for r in refs if r not in deferred and r.parent != r.table])
        breakable = [r for r in refs if r.table in cycle and r.parent in cycle and r.parent != r.table
                     and r not in deferred and _nullable(tables[r.table], r.fk)]
        if breakable:
            deferred.add(breakable[0])
            continue
        stuck = sorted(cycle)[0]
        notes.append(f"{stuck}: in a cycle of NOT NULL foreign keys ({', '.join(sorted(cycle))}); "
                     "inserted before its parents")
        order.append(stuck)
        remaining.remove(stuck)
    return order, deferred, notes


def _first_cycle(nodes: list[str], refs: list[_Ref]) -> set[str]:
    """The first (by name) strongly connected component of more than one table."""
    edges: dict[str, set[str]] = {n: set() for n in nodes}
    for r in refs:
        if r.table in edges and r.parent in edges:
            edges[r.table].add(r.parent)

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {n: reach(n) for n in nodes}
    for n in nodes:
        component = {m for m in reachable[n] if n in reachable[m]}
        if len(component) > 1:
            return component
    return {nodes[0]}


def _nullable(table: Table, fk: ForeignKey) -> bool:
    cols = {c.name: c for c in table.columns}
    return all(cols[c].nullable for c in fk.columns if c in cols)


# --------------------------------------------------------------------------- uniqueness

@dataclass
class _Unique:
    """Value tuples already used for one primary key or unique index (plain columns only)."""

    columns: tuple[str, ...]
    nulls_distinct: bool = True
    seen: set[tuple[Any, ...]] = field(default_factory=set)

    def key(self, row: dict[str, Any]) -> tuple[Any, ...] | None:
        """The row's tuple, or None when it is not (yet) constrained."""
        if any(c not in row for c in self.columns):
            return None
        values = tuple(_comparable(row[c]) for c in self.columns)
        if self.nulls_distinct and any(v is None for v in values):
            return None
        return values

    def clashes(self, row: dict[str, Any]) -> bool:
        key = self.key(row)
        return key is not None and key in self.seen

    def add(self, row: dict[str, Any]) -> None:
        key = self.key(row)
        if key is not None:
            self.seen.add(key)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()  # case-insensitive collations (MySQL, citext) count these equal
    if isinstance(value, (list, dict)):
        return repr(value)
    return value


def _uniques(table: Table) -> list[_Unique]:
    out = []
    if table.primary_key is not None:
        out.append(_Unique(table.primary_key.columns, nulls_distinct=False))
    for index in table.indexes:
        if index.unique and all(p.column is not None for p in index.parts):
            out.append(_Unique(index.columns, nulls_distinct=not index.nulls_not_distinct))
    return out


# --------------------------------------------------------------------------- seeding

class _Seeder:
    def __init__(self, conn: Connection, schema: Schema, rows: int, seed: int,
                 choices: dict[tuple[str, str], list[Any]] | None = None) -> None:
        self.conn, self.schema, self.rows, self.seed = conn, schema, rows, seed
        self.choices = choices or {}
        self.metadata = to_metadata(schema, extensions=False)
        self.tables = {table_key(schema, t): t for t in schema.tables}
        self.sa_tables = {table_key(schema, t): self.metadata.tables[_sa_key(t)] for t in schema.tables}
        #: table -> referenced column tuple -> values present
        self.parent_keys: dict[str, dict[tuple[str, ...], list[tuple[Any, ...]]]] = {}
        self.counts: dict[str, int] = {}
        self.shortfalls: dict[str, str] = {}
        self.notes: list[str] = []

    def run(self) -> SeedReport:
        order, deferred, notes = _plan(self.schema, self.tables)
        self.notes.extend(notes)
        self.deferred = deferred
        for key in order:
            self.counts[key] = self._fill(key)
            self._load_parent_keys(key)
        for ref in sorted(deferred, key=lambda r: (r.table, r.position)):
            self._fill_later(ref)
        return SeedReport(self.rows, dict(self.counts), dict(self.shortfalls), tuple(self.notes))

    # -- one table
    def _fill(self, key: str) -> int:
        gen = _RowMaker(self, key)
        if gen.blocked is not None:
            if self.rows:
                self.shortfalls[key] = gen.blocked
            return 0
        rows = gen.rows(self.rows)
        if len(rows) == self.rows and self._insert_batch(key, rows):
            return len(rows)
        return self._insert_one_by_one(key, _RowMaker(self, key))

    def _insert_batch(self, key: str, rows: list[dict[str, Any]]) -> bool:
        """All rows in one executemany INSERT, in a savepoint; False (and nothing inserted)
        when the database rejects any."""
        try:
            with self.conn.begin_nested():
                self._insert(key, rows)
        except sa_exc.DBAPIError:
            return False
        return True

    def _insert(self, key: str, rows: list[dict[str, Any]]) -> None:
        table = self.sa_tables[key]
        width = len(rows[0]) if rows else 0
        if width == 0:  # nothing but generated columns: INSERT ... DEFAULT VALUES
            for _ in rows:
                self.conn.execute(sa.insert(table))
            return
        with _quiet_psycopg():
            self.conn.execute(sa.insert(table), rows)

    def _insert_one_by_one(self, key: str, gen: _RowMaker) -> int:
        """Row by row, each in a savepoint and generated again when rejected (the rows come
        out as in the batch until the first rejection)."""
        inserted = failures = 0
        reason = ""
        for i in range(self.rows):
            row, why = gen.insert_row(i)
            if row is not None:
                inserted += 1
                failures = 0
                continue
            failures += 1
            reason = why or reason
            if failures >= MAX_CONSECUTIVE_FAILURES:
                break
        if inserted < self.rows:
            self.shortfalls[key] = reason or "rows rejected"
        return inserted

    def try_insert(self, key: str, row: dict[str, Any]) -> str | None:
        """Insert one row in a savepoint; the database's complaint, or None."""
        try:
            with self.conn.begin_nested():
                self._insert(key, [row])
        except sa_exc.DBAPIError as e:
            return _one_line(e)
        return None

    def _load_parent_keys(self, key: str) -> None:
        wanted = {tuple(r.fk.ref_columns) for r in _iter_refs(self.schema) if r.parent == key}
        sa_table = self.sa_tables[key]
        found: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for cols in sorted(wanted):
            found[cols] = self._distinct(sa_table, cols, self.tables[key])
        self.parent_keys[key] = found

    def _distinct(self, sa_table: sa.Table, cols: tuple[str, ...], table: Table) -> list[tuple[Any, ...]]:
        columns = [sa_table.c[c] for c in cols]
        order = [sa_table.c[c] for c in (table.primary_key.columns if table.primary_key else cols)]
        stmt = sa.select(*columns).where(*[c.is_not(None) for c in columns]).order_by(*order)
        seen: dict[tuple[Any, ...], None] = {}
        for row in self.conn.execute(stmt):
            seen.setdefault(tuple(row), None)
        return list(seen)

    # -- references filled after the inserts
    def _fill_later(self, ref: _Ref) -> None:
        _LaterFill(self, ref).run()


def _sa_key(table: Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


class _RowMaker:
    """Generates the rows of one table (deterministically) and inserts them one by one."""

    def __init__(self, seeder: _Seeder, key: str) -> None:
        self.s = seeder
        self.key = key
        self.table = seeder.tables[key]
        schema = seeder.schema
        checks = _parsed_checks(self.table, schema.dialect)
        self.kinds = {c.name: _bounded(_kind(schema, c), checks, c.name) for c in self.table.columns}
        for c in self.table.columns:
            given = seeder.choices.get((key, c.name))
            if given:
                self.kinds[c.name] = _choices(self.kinds[c.name], list(given))
        self.hints = _check_hints(checks)
        self.uniques = _uniques(self.table)
        refs = [r for r in _iter_refs(schema) if r.table == key]
        self.later = [r for r in refs if r in seeder.deferred]
        self.now = sorted((r for r in refs if r not in seeder.deferred),
                          key=lambda r: (-len(r.fk.columns), r.position))
        fk_cols = {c for r in refs for c in r.fk.columns}
        self.free = [c for c in self.table.columns
                     if c.generated is None and c.autoincrement is None and c.name not in fk_cols
                     and not (self.kinds[c.name].name == "unknown" and c.default is not None)]
        #: referenced column tuple -> values of the rows accepted so far (self-references)
        self.own_keys: dict[tuple[str, ...], list[tuple[Any, ...]]] = {
            r.fk.ref_columns: [] for r in self.now if r.parent == key}
        self.blocked = self._blocked()

    def _blocked(self) -> str | None:
        for ref in self.now:
            if _nullable(self.table, ref.fk):
                continue
            if ref.parent == self.key:
                assigned = [c.name for c in self.table.columns if c.name in ref.fk.ref_columns
                            and (c.autoincrement is not None or c.generated is not None)]
                if assigned:
                    return (f"NOT NULL foreign key {ref.label} points back at this table's "
                            f"{', '.join(assigned)}, which the database assigns: no first row can "
                            "satisfy it")
                continue
            if ref.parent not in self.s.tables:
                return f"foreign key {ref.label} references {ref.parent}, which is not in the schema"
            if not self.s.parent_keys.get(ref.parent, {}).get(tuple(ref.fk.ref_columns)):
                return f"NOT NULL foreign key {ref.label}: {ref.parent} has no rows"
        return None

    def rows(self, count: int) -> list[dict[str, Any]]:
        out = []
        for i in range(count):
            row, _ = self._generate(i)
            if row is None:
                break
            self._accept(row)
            out.append(row)
        return out

    def insert_row(self, i: int) -> tuple[dict[str, Any] | None, str | None]:
        reason = None
        for attempt in range(MAX_ATTEMPTS):
            row, why = self._attempt(i, attempt)
            if row is None:
                reason = why
                continue
            error = self.s.try_insert(self.key, row)
            if error is None:
                self._accept(row)
                return row, None
            reason = error
        return None, reason

    def _generate(self, i: int) -> tuple[dict[str, Any] | None, str | None]:
        reason = None
        for attempt in range(MAX_ATTEMPTS):
            row, reason = self._attempt(i, attempt)
            if row is not None:
                return row, None
        return None, reason

    def _accept(self, row: dict[str, Any]) -> None:
        for u in self.uniques:
            u.add(row)
        for cols, keys in self.own_keys.items():
            keys.append(tuple(row.get(c) for c in cols))

    def _attempt(self, i: int, attempt: int) -> tuple[dict[str, Any] | None, str | None]:
        rng = random.Random(f"{self.s.seed}|{self.key}|{i}|{attempt}")
        values = _Values(rng, i, "")
        row: dict[str, Any] = {}
        for column in self.free:
            values.name = column.name.lower()
            row[column.name] = self._value(column, values, attempt)
        for ref in self.later:
            for c in ref.fk.columns:
                row.setdefault(c, None)
        for ref in self.now:
            why = self._assign(ref, row, rng)
            if why is not None:
                return None, why
        for u in self.uniques:
            if u.clashes(row):
                return None, f"no unused value for unique ({', '.join(u.columns)})"
        return row, None

    def _value(self, column: Column, values: _Values, attempt: int) -> Any:
        rng = values.rng
        kind = self.kinds[column.name]
        if column.nullable and (kind.name == "unknown" or rng.random() < NULL_RATE) and \
                not self._nulls_counted(column):
            return None
        if attempt and column.name in self.hints:
            return _alternative(kind, self.hints[column.name], values, column.nullable, attempt)
        return values.make(kind)

    def _nulls_counted(self, column: Column) -> bool:
        return any(not u.nulls_distinct and column.name in u.columns for u in self.uniques)

    def _assign(self, ref: _Ref, row: dict[str, Any], rng: random.Random) -> str | None:
        """Point `ref` at a parent row consistent with values already chosen and unused where a
        unique index covers the reference."""
        cols = ref.fk.columns
        nullable = _nullable(self.table, ref.fk)
        if ref.parent == self.key:  # an earlier row of this table, or this very row
            candidates = [*self.own_keys.setdefault(ref.fk.ref_columns, []),
                          tuple(row.get(c) for c in ref.fk.ref_columns)]
        else:
            candidates = self.s.parent_keys.get(ref.parent, {}).get(tuple(ref.fk.ref_columns), [])
        if nullable and (not candidates or rng.random() < NULL_RATE) and \
                all(row.get(c) is None for c in cols):
            row.update({c: None for c in cols if c not in row})
            return None
        fixed = {n: row[c] for n, c in enumerate(cols) if row.get(c) is not None}
        for index in _random_order(rng, len(candidates)):
            pick = candidates[index]
            if any(pick[n] != v for n, v in fixed.items()) or any(v is None for v in pick):
                continue
            trial = {**row, **dict(zip(cols, pick, strict=True))}
            if not any(u.clashes(trial) for u in self.uniques):
                row.update(trial)
                return None
        if nullable and not fixed:
            row.update({c: None for c in cols})
            return None
        return f"no {ref.parent} row left for foreign key {ref.label}"


def _random_order(rng: random.Random, n: int) -> Iterator[int]:
    """Indexes 0..n-1 in random order: a few random picks first (cheap, and enough unless a
    unique index has used up most candidates), then every index."""
    for _ in range(min(n, 8)):
        yield rng.randrange(n)
    yield from rng.sample(range(n), n)


def _alternative(kind: _Kind, hints: list[Any], values: _Values, nullable: bool, attempt: int) -> Any:
    """A retry's value for a column a CHECK constrains: the check's literals first, then NULL,
    small numbers, short text."""
    rng = values.rng
    if nullable and attempt % 4 == 3:
        return None
    fitting = [h for h in hints if _fits(kind, h)]
    if fitting and attempt % 4 != 2:
        return _coerce(kind, rng.choice(fitting))
    if kind.name in ("int", "decimal", "float"):
        return _coerce(kind, Decimal(rng.choice([0, 1, 2, 3, 5, 10])))
    if kind.name == "text":
        return values.make(dataclasses.replace(kind, length=min(kind.length or 8, 8)))
    return values.make(kind)


def _fits(kind: _Kind, hint: Any) -> bool:
    if kind.name in ("int", "decimal", "float"):
        return isinstance(hint, Decimal) and (kind.name != "int" or hint == hint.to_integral_value())
    if kind.name in ("enum", "set"):
        return isinstance(hint, str) and hint in kind.values
    return kind.name == "text" and isinstance(hint, str) and (kind.length is None or len(hint) <= kind.length)


def _coerce(kind: _Kind, value: Any) -> Any:
    if kind.name == "int":
        return max(kind.lo, min(kind.hi, int(value)))
    if kind.name == "float":
        return float(value)
    if kind.name == "decimal" and kind.precision is not None:
        step = Decimal(1).scaleb(-kind.scale)
        limit = Decimal(10) ** (kind.precision - kind.scale) - step
        return max(-limit, min(limit, value.quantize(step)))
    return value


# --------------------------------------------------------------------------- later fills

class _LaterFill:
    """Fill one deferred reference with UPDATEs: each row (by primary key order) points at a
    parent row (for a self-reference, an earlier row), some stay NULL."""

    def __init__(self, seeder: _Seeder, ref: _Ref) -> None:
        self.s, self.ref = seeder, ref
        self.table = seeder.tables[ref.table]
        self.sa_table = seeder.sa_tables[ref.table]

    def run(self) -> None:
        key_cols = _row_key(self.table)
        why = "a reference back to the same table" if self.ref.parent == self.ref.table else \
            "a reference closing a foreign-key cycle"
        if key_cols is None:
            self.s.notes.append(f"{self.ref.table}: foreign key {self.ref.label} left NULL "
                                "(no primary key or NOT NULL unique key to update rows by)")
            return
        filled = self._update(key_cols)
        self.s.notes.append(f"{self.ref.table}: foreign key {self.ref.label} ({why}) filled by "
                            f"UPDATE after the inserts: {filled} of {self.s.counts.get(self.ref.table, 0)} rows")

    def _update(self, key_cols: tuple[str, ...]) -> int:
        fk = self.ref.fk
        self_ref = self.ref.parent == self.ref.table
        uniques = [u for u in _uniques(self.table) if set(u.columns) & set(fk.columns)]
        needed = sorted({*key_cols, *fk.columns, *(c for u in uniques for c in u.columns),
                         *(fk.ref_columns if self_ref else ())})
        stmt = sa.select(*[self.sa_table.c[c] for c in needed]).order_by(
            *[self.sa_table.c[c] for c in key_cols])
        rows = [dict(r._mapping) for r in self.s.conn.execute(stmt)]
        for row in rows:
            for u in uniques:
                u.add(row)
        parents = self.s.parent_keys.get(self.ref.parent, {}).get(tuple(fk.ref_columns), [])
        filled = 0
        for n, row in enumerate(rows):
            rng = random.Random(f"{self.s.seed}|later|{self.ref.table}|{self.ref.position}|{n}")
            if rng.random() < NULL_RATE:
                continue
            pool = [tuple(r[c] for c in fk.ref_columns) for r in rows[:n]] if self_ref else parents
            pool = [p for p in pool if all(v is not None for v in p)]
            filled += self._point(row, pool, uniques, key_cols, rng)
        return filled

    def _point(self, row: dict[str, Any], pool: list[tuple[Any, ...]], uniques: list[_Unique],
               key_cols: tuple[str, ...], rng: random.Random) -> int:
        fk = self.ref.fk
        for index in rng.sample(range(len(pool)), min(len(pool), 20)):
            pick = dict(zip(fk.columns, pool[index], strict=True))
            trial = {**row, **pick}
            if any(u.clashes(trial) for u in uniques):
                continue
            stmt = sa.update(self.sa_table).where(
                *[self.sa_table.c[c] == row[c] for c in key_cols]).values(**pick)
            try:
                with self.s.conn.begin_nested():
                    self.s.conn.execute(stmt)
            except sa_exc.DBAPIError:
                continue
            for u in uniques:
                u.add(trial)
            row.update(pick)
            return 1
        return 0


def _row_key(table: Table) -> tuple[str, ...] | None:
    if table.primary_key is not None:
        return table.primary_key.columns
    cols = {c.name: c for c in table.columns}
    for index in table.indexes:
        if index.unique and index.where is None and all(
                p.column is not None and not cols[p.column].nullable for p in index.parts):
            return index.columns
    return None


def _iter_refs(schema: Schema) -> Iterable[_Ref]:
    for t in schema.tables:
        for n, fk in enumerate(t.foreign_keys):
            yield _Ref(table_key(schema, t), n, fk, schema.key(fk.ref_schema, fk.ref_table))
