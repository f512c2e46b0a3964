"""The closed vocabulary of schema changes the differ produces and every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Every kind of change. Values are the stable names in JSON (product.md)."""

    ADD_TABLE = "add_table"
    DROP_TABLE = "drop_table"
    RENAME_TABLE = "rename_table"
    ADD_COLUMN = "add_column"
    DROP_COLUMN = "drop_column"
    RENAME_COLUMN = "rename_column"
    ALTER_COLUMN_TYPE = "alter_column_type"
    SET_NOT_NULL = "set_not_null"
    DROP_NOT_NULL = "drop_not_null"
    ALTER_DEFAULT = "alter_default"
    ADD_PRIMARY_KEY = "add_primary_key"
    DROP_PRIMARY_KEY = "drop_primary_key"
    ADD_INDEX = "add_index"
    DROP_INDEX = "drop_index"
    RENAME_INDEX = "rename_index"
    ADD_UNIQUE = "add_unique"
    DROP_UNIQUE = "drop_unique"
    ADD_FOREIGN_KEY = "add_foreign_key"
    DROP_FOREIGN_KEY = "drop_foreign_key"
    ALTER_FOREIGN_KEY = "alter_foreign_key"
    RENAME_CONSTRAINT = "rename_constraint"
    ADD_CHECK = "add_check"
    DROP_CHECK = "drop_check"
    ADD_ENUM = "add_enum"
    DROP_ENUM = "drop_enum"
    RENAME_ENUM = "rename_enum"
    ADD_ENUM_VALUE = "add_enum_value"
    REMOVE_ENUM_VALUE = "remove_enum_value"
    RENAME_ENUM_VALUE = "rename_enum_value"
    REORDER_ENUM_VALUES = "reorder_enum_values"
    ADD_VIEW = "add_view"
    DROP_VIEW = "drop_view"
    ALTER_VIEW = "alter_view"
    ALTER_COMMENT = "alter_comment"
    ADD_EXTENSION = "add_extension"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between OLD and NEW.

    `table`, `column` and `name` are database names (`table` schema-qualified outside the
    default schema); `old`/`new` are the model objects before and after (Column, Index,
    ForeignKey, Check, PrimaryKey, Table, Enum, View), None where they do not apply.
    """

    kind: Kind
    table: str | None = None
    column: str | None = None
    name: str | None = None
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    old: Any = field(default=None, compare=False, hash=False, repr=False)
    new: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def id(self) -> str:
        """Stable id, e.g. `drop_column:MissedCheckIn.day_of_week`, `add_enum_value:Role.ADMIN`."""
        parts = [p for p in (self.table, self.column if self.column is not None else self.name) if p]
        if self.kind in (Kind.ADD_ENUM_VALUE, Kind.REMOVE_ENUM_VALUE, Kind.RENAME_ENUM_VALUE):
            parts = [self.name or "", str(self.detail.get("value") or self.detail.get("to") or "")]
        return f"{self.kind.value}:{'.'.join(parts)}"

    @property
    def object(self) -> str:
        """What the change is about, for display: `table.column`, `table.index`, `enum`."""
        return ".".join(p for p in (self.table, self.column or self.name) if p)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A probable rename the differ will not apply on a guess; `hint` confirms it."""

    kind: Kind
    table: str | None
    old: str
    new: str
    hint: str
    reason: str
    #: other candidates that scored exactly as well (the choice among them is arbitrary)
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Diff:
    changes: tuple[Change, ...]
    suggestions: tuple[Suggestion, ...] = ()
