"""Confirmed renames: `--rename` hints and `[tool.planner.renames]`, resolved against OLD."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from planner.errors import ConfigError
from planner.model import Schema


@dataclass(frozen=True, slots=True)
class Renames:
    #: (old table key, new table name)
    tables: tuple[tuple[str, str], ...] = ()
    #: (old table key, old column, new column)
    columns: tuple[tuple[str, str, str], ...] = ()
    #: (old enum key, new enum name)
    enums: tuple[tuple[str, str], ...] = ()
    #: (old enum key, old value, new value)
    enum_values: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tables or self.columns or self.enums or self.enum_values)


def shell_hint(hint: str) -> str:
    """A `--rename OLD=NEW` hint as it must be pasted into a shell: the argument through
    `shlex.quote` (unchanged for plain names; a name like `$(cmd)` or `a b` gets quoted, so
    pasting the hint never runs or splits anything)."""
    if hint.startswith("[tool.planner."):  # a config entry, not a shell argument
        return hint
    flag, sep, arg = hint.partition(" ")
    if flag.startswith("--") and sep:
        return f"{flag} {shlex.quote(arg)}"
    return shlex.quote(hint)


def _table_key(schema: Schema, name: str) -> str | None:
    if schema.table(name) is not None:
        return name
    for t in schema.tables:  # a Prisma model name is accepted too
        if t.origin == name:
            return schema.key(t.schema, t.name)
    return None


def _enum_key(schema: Schema, name: str) -> str | None:
    if schema.enum(name) is not None:
        return name
    for e in schema.enums:
        if e.origin == name:
            return schema.key(e.schema, e.name)
    return None


def parse_renames(hints: list[str] | tuple[str, ...], old: Schema, new_schema: Schema | None = None) -> Renames:
    """Resolve hints: `old_table=new_table`, `table.old_col=new_col`, `Enum=NewEnum`,
    `Enum.OLD=NEW`. Names are database names; Prisma model/field names are accepted. With
    `new_schema`, each hint's target must exist in NEW (and not in OLD's same place), and a name may
    be renamed only once."""
    tables, columns, enums, values = [], [], [], []
    hints = list(dict.fromkeys(hints))  # the same hint twice (flag and config) counts once
    for hint in hints:
        left, sep, right = hint.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            raise ConfigError(f"--rename {hint!r}: expected OLD=NEW",
                              hint="e.g. --rename users.name=full_name, --rename Role.COACH=INSTRUCTOR")
        if (key := _table_key(old, left)) is not None:
            tables.append((key, right))
            continue
        if (key := _enum_key(old, left)) is not None:
            enums.append((key, right))
            continue
        prefix, dot, item = left.rpartition(".")
        if dot:
            if (key := _table_key(old, prefix)) is not None:
                table = old.table(key)
                col = table.column(item) if table else None
                if col is None and table is not None:
                    col = next((c for c in table.columns if c.origin == item), None)
                if col is None:
                    raise ConfigError(f"--rename {hint!r}: table {key!r} has no column {item!r} in OLD")
                new = right.rpartition(".")[2] if right.startswith(prefix + ".") else right
                columns.append((key, col.name, new))
                continue
            if (key := _enum_key(old, prefix)) is not None:
                enum = old.enum(key)
                value = item
                if enum is not None and item not in enum.values:
                    value = dict(enum.value_origins).get(item, item)
                if enum is None or value not in enum.values:
                    raise ConfigError(f"--rename {hint!r}: enum {key!r} has no value {item!r} in OLD")
                new = right.rpartition(".")[2] if right.startswith(prefix + ".") else right
                values.append((key, value, new))
                continue
        raise ConfigError(f"--rename {hint!r}: OLD has no table, column, enum or enum value {left!r}",
                          hint="use database names as `planner inspect OLD` shows them")
    renames = Renames(tuple(tables), tuple(columns), tuple(enums), tuple(values))
    _check_unique(renames)
    if new_schema is not None:
        _check_targets(renames, old, new_schema)
    return renames


def _check_unique(r: Renames) -> None:
    sources = [("table", t) for t, _ in r.tables] + [("column", (t, c)) for t, c, _ in r.columns] + \
        [("enum", e) for e, _ in r.enums] + [("value", (e, v)) for e, v, _ in r.enum_values]
    seen = set()
    for s in sources:
        if s in seen:
            raise ConfigError(f"conflicting --rename hints for {s[1] if isinstance(s[1], str) else '.'.join(s[1])}",
                              hint="rename each table, column, enum or value once")
        seen.add(s)


def _check_targets(r: Renames, old: Schema, new: Schema) -> None:
    """A confirmed rename must name something NEW has and OLD does not."""
    renamed_tables = dict(r.tables)
    for key, target in r.tables:
        if new.table(target) is None:
            raise ConfigError(f"--rename {key}={target}: NEW has no table {target!r}")
        if old.table(target) is not None:
            raise ConfigError(f"--rename {key}={target}: OLD already has a table {target!r}")
    for key, col, target in r.columns:
        new_key = renamed_tables.get(key, key)
        t = new.table(new_key)
        if t is None or t.column(target) is None:
            raise ConfigError(f"--rename {key}.{col}={target}: NEW has no column {new_key}.{target}")
        if old.table(key) is not None and old.table(key).column(target) is not None:
            raise ConfigError(f"--rename {key}.{col}={target}: OLD already has a column {key}.{target}")
    renamed_enums = dict(r.enums)
    for key, target in r.enums:
        if new.enum(target) is None:
            raise ConfigError(f"--rename {key}={target}: NEW has no enum {target!r}")
    for key, value, target in r.enum_values:
        e = new.enum(renamed_enums.get(key, key))
        if e is None or target not in e.values:
            raise ConfigError(f"--rename {key}.{value}={target}: NEW's enum {key} has no value {target!r}")
        old_e = old.enum(key)
        if old_e is not None and target in old_e.values:
            raise ConfigError(f"--rename {key}.{value}={target}: OLD's enum {key} already has {target!r}")
