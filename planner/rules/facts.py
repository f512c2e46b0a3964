"""Type facts the rules share: which type changes rewrite the table, lose data, or may fail."""

from __future__ import annotations

import re

_INT_RANK = {"smallint": 1, "integer": 2, "bigint": 3, "tinyint": 0, "mediumint": 1.5, "int": 2}
_TEXT = ("text", "varchar", "char", "citext", "tinytext", "mediumtext", "longtext", "bpchar")
_PARAMS = re.compile(r"^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?$")


def split_type(t: str) -> tuple[str, int | None, int | None, bool]:
    """`varchar(255)` -> ("varchar", 255, None, False); `numeric(10,2)[]` -> (..., True)."""
    array = t.endswith("[]")
    t = t.removesuffix("[]")
    m = _PARAMS.match(t)
    if not m:
        return t, None, None, array
    a = int(m.group(2)) if m.group(2) else None
    b = int(m.group(3)) if m.group(3) else None
    return m.group(1), a, b, array


def zone_kind(type_text: str, arrays: bool = False) -> str | None:
    """"instant" for timestamptz, "local" for timestamp and date, else None; an array of them
    is None unless `arrays` (`AT TIME ZONE` takes no array: the plan casts one in the
    session's TimeZone, which PG107 says)."""
    base, _, _, array = split_type(type_text.strip())
    if array and not arrays:
        return None
    if base == "timestamptz":
        return "instant"
    return "local" if base in ("timestamp", "date") else None


def mysql_zone_kind(type_text: str) -> str | None:
    """MySQL/MariaDB: "instant" for TIMESTAMP (stored as UTC, read and written in the session's
    time_zone), "local" for DATETIME and DATE (wall-clock values), else None."""
    base = split_type(type_text.strip())[0]
    if base == "timestamp":
        return "instant"
    return "local" if base in ("datetime", "date") else None


def is_text(t: str) -> bool:
    return split_type(t)[0] in _TEXT


def is_integer(t: str) -> bool:
    return split_type(t)[0].split()[0] in _INT_RANK


def is_numeric(t: str) -> bool:
    return split_type(t)[0] in ("numeric", "decimal")


def is_float(t: str) -> bool:
    return split_type(t)[0] in ("real", "double precision", "double", "float")


def binary_coercible(old: str, new: str, dialect: str) -> bool:
    """A type change the database does without rewriting the table (PostgreSQL rules;
    MySQL/SQLite handled by their own rules)."""
    if old == new:
        return True
    ob, on, os_, oa = split_type(old)
    nb, nn, ns, na = split_type(new)
    if oa != na:
        return False
    if dialect != "postgresql":
        if dialect == "mysql" and ob == nb == "varchar" and on and nn and nn >= on:
            # same length-byte count (utf8mb4: 4 bytes a char): <=63 chars -> 1 byte
            return (on * 4 <= 255) == (nn * 4 <= 255)
        return False
    # citext is a domain-like text type: text, varchar and citext relabel to each other without
    # touching a row (pg_cast method 'b'; verified on PostgreSQL 15: same relfilenode), but an
    # index on the column is rebuilt (another operator class)
    if ob in ("varchar", "text", "citext") and nb in ("text", "citext"):
        return True
    if ob == "citext" and nb == "varchar" and nn is None:
        return True
    if ob == "varchar" and nb == "varchar":
        return nn is None or (on is not None and nn >= on)
    if ob == "numeric" and nb == "numeric":
        if nn is None:
            return True
        return on is not None and os_ == ns and nn >= on
    if ob == "varbit" and nb == "varbit":
        return nn is None or (on is not None and nn >= on)
    return False


def round_trips(old: str, new: str) -> bool:
    """Every OLD value converts to NEW and back to exactly itself, whatever the session's
    settings (time zone, DateStyle, extra_float_digits): integer widening, an integer into
    a numeric with room for it, real into double precision. A plan needs no backup of OLD's
    values to undo such a change: converting back restores them."""
    ob, *_, oa = split_type(old)
    nb, *_, na = split_type(new)
    if oa != na:
        return False
    if is_integer(old) and is_integer(new):
        return _INT_RANK[nb.split()[0]] >= _INT_RANK[ob.split()[0]]
    if is_integer(old) and is_numeric(new):
        return lossy(old, new) is None
    return ob == "real" and nb == "double precision"


def lossy(old: str, new: str) -> str | None:
    """Why converting OLD values to NEW may lose or reject data, or None."""
    ob, on, os_, _ = split_type(old)
    nb, nn, ns, _ = split_type(new)
    if is_text(old) and nb in ("varchar", "char") and nn is not None and (on is None or nn < on):
        return f"values longer than {nn} characters do not fit {new}"
    if is_integer(old) and is_integer(new) and _INT_RANK[nb.split()[0]] < _INT_RANK[ob.split()[0]]:
        return f"{old} values outside the range of {new} do not fit"
    if (is_numeric(old) or is_float(old) or is_integer(old)) and is_numeric(new) and nn is not None:
        if os_ is not None and ns is not None and ns < os_:
            return f"digits after the {ns}th decimal place are rounded away"
        if is_float(old):
            return f"floating-point values are rounded to {ns} decimal places and must stay below 10^{nn - (ns or 0)}"
        if on is not None and (nn - (ns or 0)) < (on - (os_ or 0)):
            return f"values of {nn - (ns or 0)} or more integer digits do not fit {new}"
        if is_integer(old) and nn - (ns or 0) < 19:
            return f"integers of more than {nn - (ns or 0)} digits do not fit {new}"
    if (is_float(old) or is_numeric(old)) and is_integer(new):
        return "fractions are rounded to whole numbers"
    if ob == "double precision" and nb == "real":
        return "precision drops from 15 to 6 significant digits"
    if ob == "timestamptz" and nb == "timestamp":
        return "the time zone offset is dropped (values are converted to the session time zone)"
    # timestamp <-> timestamptz keeps the fraction too: a smaller precision rounds either way
    # (no precision is 6 digits)
    if ob in ("timestamp", "timestamptz") and nb in ("timestamp", "timestamptz") and nn is not None \
            and nn < (6 if on is None else on):
        return f"fractional seconds beyond {nn} digits are rounded"
    if ob in ("timestamp", "timestamptz", "datetime") and nb == "date":
        return "the time of day is dropped"
    if ob in ("jsonb", "json") and is_text(new) and nn is not None:
        return f"JSON documents longer than {nn} characters do not fit"
    return None


def rounds(old: str, new: str) -> str | None:
    """Why converting OLD values to NEW changes values it keeps (rounds, cuts, drops a part),
    or None: the part of `lossy` that is not values refused for not fitting (those stop the
    conversion; the ones that fit convert back as they were)."""
    why = lossy(old, new)
    return why if why is not None and "do not fit" not in why else None


def may_fail_cast(old: str, new: str) -> str | None:
    """Why some OLD values may not convert to NEW at all, or None."""
    nb = split_type(new)[0]
    if is_text(old):
        if is_integer(new) or is_numeric(new) or is_float(new):
            return "text that is not a number cannot be cast"
        if nb in ("uuid",):
            return "text that is not a UUID cannot be cast"
        if nb in ("json", "jsonb"):
            return "text that is not valid JSON cannot be cast"
        if nb in ("timestamp", "timestamptz", "date", "time", "datetime"):
            return "text that is not a date/time cannot be cast"
        if nb == "boolean":
            return "text other than true/false/yes/no/1/0 cannot be cast"
        if nb not in _TEXT and not nb.startswith("enum"):
            return f"text values must all be valid {new}"
    return None
