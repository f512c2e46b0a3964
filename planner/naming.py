"""Default names databases and Prisma give to keys, indexes and constraints.

A schema file often leaves names out; the database then invents them. To diff a file
against a live database both must invent the *same* names, so the rules live here once.
"""

from __future__ import annotations

#: max identifier bytes per dialect (PostgreSQL NAMEDATALEN-1, MySQL 64, SQLite unlimited)
IDENT_LIMIT = {"postgresql": 63, "mysql": 64, "sqlite": 10_000}


def clip_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, never inside a character."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", errors="ignore")


def _blen(text: str) -> int:
    return len(text.encode())


def pg_object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's `makeObjectName`: `name1_name2_label`, shortening the longer of name1 and
    name2 one byte at a time until the whole fits in 63 bytes."""
    overhead = (len(label) + 1 if label else 0) + (1 if name2 else 0)
    avail = IDENT_LIMIT["postgresql"] - overhead
    n1, n2 = _blen(name1), _blen(name2 or "")
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    out = clip_bytes(name1, n1)
    if name2:
        out += "_" + clip_bytes(name2, n2)
    if label:
        out += "_" + label
    return out


def pg_choose_name(name1: str, name2: str | None, label: str, taken: set[str]) -> str:
    """PostgreSQL's `ChooseRelationName`: the object name, numbered when already taken."""
    name = pg_object_name(name1, name2, label)
    n = 0
    while name in taken:
        n += 1
        name = pg_object_name(name1, name2, f"{label}{n}")
    return name


def pg_default_name(table: str, columns: list[str] | tuple[str, ...], kind: str,
                    taken: set[str] | None = None) -> str:
    """Name PostgreSQL gives an unnamed constraint or index.

    kind: "pkey", "key" (unique), "fkey", "check", "idx" (CREATE INDEX without a name),
    "excl". Expression keys count as the column name "expr".
    """
    name2 = "_".join(columns) if columns and kind != "pkey" else None
    return pg_choose_name(table, name2, kind, taken or set())


def prisma_name(table: str, columns: list[str] | tuple[str, ...], suffix: str, dialect: str) -> str:
    """Prisma's default constraint name (prisma-engines `constraint_names.rs`).

    suffix: "pkey", "key", "idx", "fkey". Truncated to the dialect's identifier limit:
    `_pkey`/`_fkey` keep their suffix after cutting the prefix to limit-5 bytes;
    `_key`/`_idx` cut `table_cols` to limit-4 bytes (on a character boundary).
    """
    limit = IDENT_LIMIT[dialect]
    prefix = table if suffix == "pkey" else "_".join([table, *columns])
    if suffix in ("pkey", "fkey"):
        if _blen(prefix) >= limit - 5:
            prefix = clip_bytes(prefix, limit - 5)
    else:
        prefix = clip_bytes(prefix, limit - len(suffix) - 1)
    return f"{prefix}_{suffix}"
