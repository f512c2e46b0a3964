"""Fingerprints of a database's data: `table_checksums(url, schema)` and `row_counts(url, schema)`.

A table's checksum covers every row and every value of the columns the schema model lists
(named explicitly, so the physical column order does not matter), read with a read-only
SELECT (`planner.load.database.read_only_engine`) and hashed in Python:

* rows are ordered by the primary key (in SQL, streamed); a table without one is read whole
  and its rows sorted in Python (ORDER BY every column would fail on types without ordering,
  such as PostgreSQL `json`);
* values are normalised so that equal data gives equal checksums on every run: Decimals by
  value (`1.50` = `1.5`), datetimes in ISO form (time-zone aware ones in UTC), JSON with sorted
  keys, bytes in hex, arrays element by element, UUIDs, enums and everything else as text.

A checksum reads `<rows>:<sha256>`, so that `compare_checksums(before, after)` can say
"50 rows before, 49 after" as well as "same 50 rows, values differ".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from planner.load.database import STATEMENT_TIMEOUT_S, parse_database_url, read_only_engine
from planner.model import Schema, Table
from planner.urls import redact
from planner.verify.metadata import VerifyError, table_key

__all__ = ["compare_checksums", "normalize_value", "row_counts", "table_checksums"]

_STREAM = {"stream_results": True, "yield_per": 1000}


def table_checksums(url: str, schema: Schema, *, timeout_s: int = STATEMENT_TIMEOUT_S) -> dict[str, str]:
    """Table key -> `<rows>:<sha256 of the rows>` for every table of `schema` at `url`."""
    with _ReadOnly(url, timeout_s) as conn:
        return {table_key(schema, t): _checksum(conn, t) for t in schema.tables}


def row_counts(url: str, schema: Schema, *, timeout_s: int = STATEMENT_TIMEOUT_S) -> dict[str, int]:
    """Table key -> number of rows, for every table of `schema` at `url`."""
    with _ReadOnly(url, timeout_s) as conn:
        return {table_key(schema, t): _count(conn, t) for t in schema.tables}


def compare_checksums(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Human-readable differences between two `table_checksums` results; empty when equal."""
    out = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if new is None:
            out.append(f"table {name}: missing after (had {_rows(old)} rows)")
        elif old is None:
            out.append(f"table {name}: not there before (has {_rows(new)} rows)")
        elif _rows(old) != _rows(new):
            out.append(f"table {name}: {_rows(old)} rows before, {_rows(new)} after")
        else:
            out.append(f"table {name}: same {_rows(old)} rows, but values differ")
    return out


def _rows(checksum: str | None) -> str:
    return (checksum or "?").partition(":")[0]


# --------------------------------------------------------------------------- reading

class _ReadOnly:
    """A read-only connection (and its engine), closed on exit; errors become VerifyError."""

    def __init__(self, url: str, timeout_s: int) -> None:
        self.url = url
        self.target = parse_database_url(url)
        self.engine = read_only_engine(self.target, timeout_s=timeout_s)
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        try:
            self.conn = self.engine.connect()
        except sa_exc.SQLAlchemyError as e:
            self.engine.dispose()
            raise VerifyError(f"cannot connect to {self.target.masked}: {redact(_one_line(e), [self.url])}") from None
        return self.conn

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        assert self.conn is not None
        try:
            self.conn.close()  # rolls the read-only transaction back
        except sa_exc.SQLAlchemyError:
            pass  # the connection is gone; nothing was written
        finally:
            self.engine.dispose()
        if isinstance(error, sa_exc.SQLAlchemyError):
            raise VerifyError(f"reading {self.target.masked} failed: {redact(_one_line(error), [self.url])}") from None


def _one_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split())[:300]


def _selectable(table: Table) -> sa.TableClause:
    """The table with the model's columns, untyped: values come back as the driver reads them."""
    return sa.table(table.name, *[sa.column(c.name) for c in table.columns], schema=table.schema)


def _count(conn: Connection, table: Table) -> int:
    stmt = sa.select(sa.func.count()).select_from(_selectable(table))
    return int(conn.execute(stmt).scalar_one())


def _checksum(conn: Connection, table: Table) -> str:
    sel = _selectable(table)
    stmt = sa.select(*sel.c)
    header = json.dumps([c.name for c in table.columns], ensure_ascii=False)
    digest = hashlib.sha256(header.encode() + b"\n")
    if table.primary_key is not None:
        stmt = stmt.order_by(*[sel.c[c] for c in table.primary_key.columns])
        lines: Iterable[str] = (_line(row) for row in conn.execution_options(**_STREAM).execute(stmt))
    else:
        lines = sorted(_line(row) for row in conn.execute(stmt))
    count = 0
    for line in lines:
        digest.update(line.encode() + b"\n")
        count += 1
    return f"{count}:{digest.hexdigest()}"


def _line(row: Iterable[Any]) -> str:
    return json.dumps([normalize_value(v) for v in row], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


# --------------------------------------------------------------------------- values

def normalize_value(value: Any) -> Any:
    """A JSON-ready value that is equal for equal data, whatever driver type carried it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.days}d{value.seconds}s{value.microseconds}us"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): normalize_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(str(normalize_value(v)) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: normalize_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
