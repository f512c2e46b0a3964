"""The differ: two schemas -> typed changes in a deterministic order, plus rename suggestions.

A rename is never applied on a guess: probable renames become `Suggestion`s with the exact
hint that confirms them; confirmed renames (`Renames`) are applied to OLD first, so the rest
of the comparison sees the data kept, and become `rename_*` changes.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlglot import exp

from planner import extensions
from planner.changes import Change, Diff, Kind, Suggestion
from planner.model import Check, Column, ForeignKey, Index, PrimaryKey, Schema, Table
from planner.normalize import enum_values_of_type, parse_expression, sqlglot_dialect
from planner.renames import Renames

log = logging.getLogger(__name__)

# order of changes inside one table
_TABLE_ORDER = [
    Kind.RENAME_COLUMN, Kind.ADD_COLUMN, Kind.ALTER_COLUMN_TYPE, Kind.ADD_ENUM_VALUE,
    Kind.RENAME_ENUM_VALUE, Kind.REORDER_ENUM_VALUES, Kind.REMOVE_ENUM_VALUE, Kind.ALTER_DEFAULT,
    Kind.DROP_NOT_NULL, Kind.SET_NOT_NULL, Kind.ALTER_COMMENT, Kind.RENAME_CONSTRAINT, Kind.RENAME_INDEX,
    Kind.DROP_CHECK, Kind.DROP_FOREIGN_KEY, Kind.DROP_UNIQUE, Kind.DROP_INDEX, Kind.DROP_PRIMARY_KEY,
    Kind.ADD_PRIMARY_KEY, Kind.ADD_INDEX, Kind.ADD_UNIQUE, Kind.ADD_FOREIGN_KEY, Kind.ALTER_FOREIGN_KEY,
    Kind.ADD_CHECK, Kind.DROP_COLUMN,
]
_RANK = {k: i for i, k in enumerate(_TABLE_ORDER)}

# groups: enums that tables need first, new tables, per-table changes, dropped tables,
# enum removals, views
_GROUP = {
    Kind.ADD_ENUM: 0, Kind.RENAME_ENUM: 0, Kind.RENAME_TABLE: 1, Kind.ADD_TABLE: 1,
    Kind.DROP_TABLE: 3, Kind.DROP_ENUM: 4, Kind.DROP_VIEW: -1, Kind.ADD_VIEW: 5, Kind.ALTER_VIEW: 5,
    Kind.ADD_EXTENSION: -2,
}


def _sort_key(c: Change) -> tuple:
    group = _GROUP.get(c.kind, 2)
    if c.kind in (Kind.ADD_ENUM_VALUE, Kind.RENAME_ENUM_VALUE, Kind.REORDER_ENUM_VALUES) and c.table is None:
        group = 0
    if c.kind == Kind.REMOVE_ENUM_VALUE and c.table is None:
        group = 4
    position = c.detail.get("position", 0) if isinstance(c.detail.get("position"), int) else 0
    return (group, c.table or c.name or "", _RANK.get(c.kind, 99), position, c.column or "", c.name or "")


# --------------------------------------------------------------------------- entry point

def diff(old: Schema, new: Schema, renames: Renames | None = None) -> Diff:
    """All changes that turn OLD into NEW, and the renames that may be meant."""
    renames = renames or Renames()
    changes: list[Change] = []
    suggestions: list[Suggestion] = []
    old = apply_renames(old, renames, changes)
    d = _Differ(old, new, changes, suggestions)
    d.run()
    ordered = sorted(changes, key=_sort_key)
    for c in ordered:
        log.info("Detected %s %s", c.kind.value, c.object)
    return Diff(tuple(ordered), tuple(sorted(suggestions, key=lambda s: (s.kind, s.table or "", s.old))))


class _Differ:
    def __init__(self, old: Schema, new: Schema, changes: list[Change], suggestions: list[Suggestion]):
        self.old, self.new = old, new
        self.out, self.suggestions = changes, suggestions
        self.comments = old.has_comments and new.has_comments
        self.dialect = new.dialect

    def add(self, kind: Kind, *, table: str | None = None, column: str | None = None,
            name: str | None = None, old: Any = None, new: Any = None, **detail: Any) -> None:
        self.out.append(Change(kind, table, column, name, {k: v for k, v in detail.items() if v is not None},
                               old, new))

    def run(self) -> None:
        self.extensions()
        self.enums()
        self.tables()
        if self.old.has_views and self.new.has_views:
            self.views()

    # ----------------------------------------------------------------- extensions
    def extensions(self) -> None:
        """An extension NEW needs or declares that OLD neither needs nor has (never a drop:
        DROP EXTENSION would take every object using it along)."""
        have = set(extensions.wanted(self.old))
        for name, needed_by in extensions.wanted_by(self.new).items():
            if name not in have:
                self.add(Kind.ADD_EXTENSION, name=name, needed_by=needed_by)

    # ----------------------------------------------------------------- enums
    def enums(self) -> None:
        ok = {self.old.key(e.schema, e.name): e for e in self.old.enums}
        nk = {self.new.key(e.schema, e.name): e for e in self.new.enums}
        added = [k for k in nk if k not in ok]
        dropped = [k for k in ok if k not in nk]
        for k in sorted(added):
            self.add(Kind.ADD_ENUM, name=k, new=nk[k], enum=k, values=list(nk[k].values))
        for k in sorted(dropped):
            self.add(Kind.DROP_ENUM, name=k, old=ok[k], enum=k, values=list(ok[k].values))
        for a in sorted(added):
            for d in sorted(dropped):
                if set(nk[a].values) == set(ok[d].values):
                    self.suggest(Kind.RENAME_ENUM, None, d, a, f"--rename {d}={a}",
                                 "an enum was dropped and one with the same values added")
        users = self.enum_users()
        for k in sorted(set(ok) & set(nk)):
            self.enum_values(k, ok[k].values, nk[k].values, old=ok[k], new=nk[k], used_by=list(users.get(k, [])))

    def enum_users(self) -> dict[str, list[str]]:
        """Enum key -> sorted `table.column` of every OLD column of that type (the rows a value
        change touches), from one walk over the columns."""
        users: dict[str, list[str]] = {}
        for t in self.old.tables:
            tkey = self.old.key(t.schema, t.name)
            for c in t.columns:
                if c.enum:
                    users.setdefault(c.enum, []).append(f"{tkey}.{c.name}")
        return {k: sorted(v) for k, v in users.items()}

    def enum_values(self, key: str, old_values: Sequence[str], new_values: Sequence[str], *,
                    table: str | None = None, column: str | None = None,
                    used_by: list[str] | None = None, **objs: Any) -> None:
        old, new = old_values, new_values
        removed = [v for v in old if v not in new]
        added = [v for v in new if v not in old]
        for v in added:
            i = new.index(v)
            self.add(Kind.ADD_ENUM_VALUE, table=table, column=column, name=key, enum=key, value=v,
                     position=i, before=new[i + 1] if i + 1 < len(new) else None,
                     after=new[i - 1] if i > 0 else None, appended=i == len(new) - 1,
                     used_by=used_by, old=objs.get("old"), new=objs.get("new"))
        for v in removed:
            self.add(Kind.REMOVE_ENUM_VALUE, table=table, column=column, name=key, enum=key, value=v,
                     used_by=used_by, old=objs.get("old"), new=objs.get("new"))
            i = old.index(v)
            if i < len(new) and new[i] in added:
                # a column's own ENUM (MySQL) has no type to rename a value of: its rows keep
                # their data through the remap of the removed value to the added one
                hint = (f"--rename {key}.{v}={new[i]}" if table is None else
                        f'[tool.planner.enum_remap] "{key}.{v}" = "{new[i]}"')
                self.suggest(Kind.RENAME_ENUM_VALUE, table, f"{key}.{v}", f"{key}.{new[i]}", hint,
                             f"value {v!r} was removed and {new[i]!r} added at the same position")
        common_old = [v for v in old if v in new]
        common_new = [v for v in new if v in old]
        if common_old != common_new:
            self.add(Kind.REORDER_ENUM_VALUES, table=table, column=column, name=key, enum=key,
                     **{"from": list(old), "to": list(new)}, used_by=used_by, old=objs.get("old"),
                     new=objs.get("new"))

    # ----------------------------------------------------------------- tables
    def tables(self) -> None:
        ot = {self.old.key(t.schema, t.name): t for t in self.old.tables}
        nt = {self.new.key(t.schema, t.name): t for t in self.new.tables}
        added = sorted(k for k in nt if k not in ot)
        dropped = sorted(k for k in ot if k not in nt)
        for k in added:
            t = nt[k]
            self.add(Kind.ADD_TABLE, table=k, new=t, columns=[c.name for c in t.columns],
                     model=t.origin)
        for k in dropped:
            t = ot[k]
            self.add(Kind.DROP_TABLE, table=k, old=t, columns=[c.name for c in t.columns], model=t.origin)
        self.suggest_table_renames(ot, nt, added, dropped)
        for k in sorted(set(ot) & set(nt)):
            o, n = ot[k], nt[k]
            if o != n:  # an unchanged table (most of a large schema) has nothing to compare
                self.table(k, o, n)

    def suggest_table_renames(self, ot: dict, nt: dict, added: list[str], dropped: list[str]) -> None:
        scored = []
        for d in dropped:
            dc = {c.name for c in ot[d].columns}
            for a in added:
                ac = {c.name for c in nt[a].columns}
                if not dc or not ac:
                    continue
                score = len(dc & ac) / max(len(dc), len(ac))
                if score >= 0.5:
                    scored.append((-score, d, a))
        used: set[str] = set()
        for score, d, a in sorted(scored):
            if d in used or a in used:
                continue
            used |= {d, a}
            ties = sorted({f"{d2}={a2}" for s2, d2, a2 in scored if s2 == score and (d2 == d) != (a2 == a)
                           and d2 not in used - {d} and a2 not in used - {a}})
            reason = "a table was dropped and one with matching columns added"
            if ties:
                reason += (f"; {len(ties) + 1} pairings are equally likely ({d}={a}, {', '.join(ties)}): "
                           "check which one is meant")
            self.suggest(Kind.RENAME_TABLE, None, d, a, f"--rename {d}={a}", reason,
                         alternatives=tuple(f"--rename {t}" for t in ties))

    def table(self, key: str, o: Table, n: Table) -> None:
        ocols = {c.name: c for c in o.columns}
        ncols = {c.name: c for c in n.columns}
        added = [c for c in n.columns if c.name not in ocols]
        dropped = [c for c in o.columns if c.name not in ncols]
        model = n.origin or o.origin
        for c in added:
            self.add(Kind.ADD_COLUMN, table=key, column=c.name, new=c, type=c.type, nullable=c.nullable,
                     default=_effective_default(c), model=model, field=c.origin)
        for c in dropped:
            self.add(Kind.DROP_COLUMN, table=key, column=c.name, old=c, type=c.type, nullable=c.nullable,
                     model=model, field=c.origin)
        self.suggest_column_renames(key, dropped, added)
        for name in [c.name for c in n.columns if c.name in ocols]:
            self.column(key, ocols[name], ncols[name], model, o)
        if self.comments and (o.comment or None) != (n.comment or None):
            self.add(Kind.ALTER_COMMENT, table=key, old=o, new=n, **{"from": o.comment, "to": n.comment})
        self.primary_key(key, o.primary_key, n.primary_key)
        self.indexes(key, o.indexes, n.indexes)
        self.foreign_keys(key, o.foreign_keys, n.foreign_keys)
        self.checks(key, o.checks, n.checks)

    def suggest_column_renames(self, key: str, dropped: list[Column], added: list[Column]) -> None:
        scored = []
        for d in dropped:
            for a in added:
                if not _compatible(d.type, a.type):
                    continue
                same = d.type == a.type
                ratio = difflib.SequenceMatcher(None, d.name.lower(), a.name.lower()).ratio()
                scored.append((not same, -ratio, d.name, a.name))
        used: set[str] = set()
        for same, ratio, d, a in sorted(scored):
            if ("d", d) in used or ("a", a) in used:
                continue
            used |= {("d", d), ("a", a)}
            # other pairings with this column that score exactly as well: the pick is arbitrary
            ties = sorted({f"{d2}={a2}" for s2, r2, d2, a2 in scored
                           if (s2, r2) == (same, ratio) and (d2 == d) != (a2 == a)
                           and ("d", d2) not in used - {("d", d)} and ("a", a2) not in used - {("a", a)}})
            reason = "a column was dropped and one with a compatible type added in the same table"
            if ties:
                reason += (f"; {len(ties) + 1} pairings are equally likely ({d}={a}, {', '.join(ties)}): "
                           "check which one is meant")
            self.suggest(Kind.RENAME_COLUMN, key, d, a, f"--rename {key}.{d}={a}", reason,
                         alternatives=tuple(f"--rename {key}.{t}" for t in ties))

    def column(self, key: str, o: Column, n: Column, model: str | None, table: Table) -> None:
        info = {"model": model, "field": n.origin or o.origin}
        oe, ne = enum_values_of_type(o.type), enum_values_of_type(n.type)
        if oe is not None and ne is not None:
            # MySQL inline ENUM(...): value changes, named after the column
            self.enum_values(f"{key}.{n.name}", oe, ne, table=key, column=n.name, old=o, new=n)
        elif o.type != n.type or (o.collation or None) != (n.collation or None):
            self.add(Kind.ALTER_COLUMN_TYPE, table=key, column=n.name, old=o, new=n,
                     **{"from": o.type, "to": n.type}, enum=n.enum,
                     collation=[o.collation, n.collation] if o.collation != n.collation else None,
                     rebuilds=_dependents(table, o.name) or None, **info)
        od, nd = _effective_default(o), _effective_default(n)
        if od != nd or (o.generated or None) != (n.generated or None) or o.on_update != n.on_update:
            self.add(Kind.ALTER_DEFAULT, table=key, column=n.name, old=o, new=n, **{"from": od, "to": nd},
                     volatile=n.default_volatile or None,
                     generated=[o.generated, n.generated] if o.generated != n.generated else None,
                     on_update=[o.on_update, n.on_update] if o.on_update != n.on_update else None, **info)
        if o.nullable and not n.nullable:
            self.add(Kind.SET_NOT_NULL, table=key, column=n.name, old=o, new=n, default=nd, **info)
        elif not o.nullable and n.nullable:
            self.add(Kind.DROP_NOT_NULL, table=key, column=n.name, old=o, new=n, **info)
        if self.comments and (o.comment or None) != (n.comment or None):
            self.add(Kind.ALTER_COMMENT, table=key, column=n.name, old=o, new=n,
                     **{"from": o.comment, "to": n.comment})

    def primary_key(self, key: str, o: PrimaryKey | None, n: PrimaryKey | None) -> None:
        if o == n:
            return
        if o and n and o.columns == n.columns:
            self.add(Kind.RENAME_CONSTRAINT, table=key, name=n.name, old=o, new=n,
                     **{"from": o.name, "to": n.name}, constraint="primary_key")
            return
        if o:
            self.add(Kind.DROP_PRIMARY_KEY, table=key, name=o.name, old=o, columns=list(o.columns))
        if n:
            self.add(Kind.ADD_PRIMARY_KEY, table=key, name=n.name, new=n, columns=list(n.columns))

    def indexes(self, key: str, old: Iterable[Index], new: Iterable[Index]) -> None:
        def describe(i: Index) -> dict:
            return {"columns": [p.label for p in i.parts], "unique": i.unique, "method": i.method,
                    "where": i.where, "constraint": i.constraint or None,
                    "nulls_not_distinct": i.nulls_not_distinct or None}

        for o, n in _match(old, new, lambda i: i.name, lambda i: i.signature):
            if o is None:
                self.add(Kind.ADD_UNIQUE if n.unique else Kind.ADD_INDEX, table=key, name=n.name, new=n,
                         **describe(n))
            elif n is None:
                self.add(Kind.DROP_UNIQUE if o.unique else Kind.DROP_INDEX, table=key, name=o.name, old=o,
                         **describe(o))
            elif o.name != n.name:
                self.add(Kind.RENAME_INDEX, table=key, name=n.name, old=o, new=n,
                         **{"from": o.name, "to": n.name})

    def foreign_keys(self, key: str, old: Iterable[ForeignKey], new: Iterable[ForeignKey]) -> None:
        def describe(f: ForeignKey) -> dict:
            ref = self.new.key(f.ref_schema, f.ref_table)
            return {"columns": list(f.columns), "references": ref, "ref_columns": list(f.ref_columns),
                    "on_delete": f.on_delete, "on_update": f.on_update}

        def same_except_actions(o: ForeignKey, n: ForeignKey) -> bool:
            return (o.columns, o.ref_schema, o.ref_table, o.ref_columns) == (
                n.columns, n.ref_schema, n.ref_table, n.ref_columns)

        pairs = _match(old, new, lambda f: f.name, lambda f: f.signature, loose=same_except_actions)
        for o, n in pairs:
            if o is None:
                self.add(Kind.ADD_FOREIGN_KEY, table=key, name=n.name, new=n, **describe(n))
            elif n is None:
                self.add(Kind.DROP_FOREIGN_KEY, table=key, name=o.name, old=o, **describe(o))
            elif o.signature != n.signature:
                changed = {f: [getattr(o, f), getattr(n, f)] for f in
                           ("on_delete", "on_update", "deferrable", "initially_deferred", "match_full")
                           if getattr(o, f) != getattr(n, f)}
                self.add(Kind.ALTER_FOREIGN_KEY, table=key, name=n.name, old=o, new=n, changed=changed,
                         **describe(n))
                if o.name != n.name:
                    self.add(Kind.RENAME_CONSTRAINT, table=key, name=n.name, old=o, new=n,
                             **{"from": o.name, "to": n.name}, constraint="foreign_key")
            elif o.name != n.name:
                self.add(Kind.RENAME_CONSTRAINT, table=key, name=n.name, old=o, new=n,
                         **{"from": o.name, "to": n.name}, constraint="foreign_key")

    def checks(self, key: str, old: Iterable[Check], new: Iterable[Check]) -> None:
        for o, n in _match(old, new, lambda c: c.name, lambda c: c.expression):
            if o is None:
                self.add(Kind.ADD_CHECK, table=key, name=n.name, new=n, expression=n.expression)
            elif n is None:
                self.add(Kind.DROP_CHECK, table=key, name=o.name, old=o, expression=o.expression)
            elif o.name != n.name and not (o.inferred_name or n.inferred_name):
                self.add(Kind.RENAME_CONSTRAINT, table=key, name=n.name, old=o, new=n,
                         **{"from": o.name, "to": n.name}, constraint="check")

    # ----------------------------------------------------------------- views
    def views(self) -> None:
        ov = {self.old.key(v.schema, v.name): v for v in self.old.views}
        nv = {self.new.key(v.schema, v.name): v for v in self.new.views}
        for k in sorted(nv.keys() - ov.keys()):
            self.add(Kind.ADD_VIEW, name=k, new=nv[k], materialized=nv[k].materialized or None)
        for k in sorted(ov.keys() - nv.keys()):
            self.add(Kind.DROP_VIEW, name=k, old=ov[k], materialized=ov[k].materialized or None)
        for k in sorted(ov.keys() & nv.keys()):
            o, n = ov[k], nv[k]
            if (o.definition is not None and n.definition is not None and o.definition != n.definition) \
                    or o.materialized != n.materialized:
                self.add(Kind.ALTER_VIEW, name=k, old=o, new=n)

    def suggest(self, kind: Kind, table: str | None, old: str, new: str, hint: str, reason: str,
                alternatives: tuple[str, ...] = ()) -> None:
        self.suggestions.append(Suggestion(kind, table, old, new, hint, reason, alternatives))


# --------------------------------------------------------------------------- helpers

def _dependents(t: Table, column: str) -> list[str]:
    """Keys and indexes that contain `column` (a type change rebuilds them)."""
    out = []
    if t.primary_key and column in t.primary_key.columns and t.primary_key.name:
        out.append(t.primary_key.name)
    out += [i.name for i in t.indexes if i.name and column in i.columns]
    return sorted(set(out))


def _effective_default(c: Column) -> str | None:
    """The default as users think of it: serial/identity columns show their generator."""
    if c.autoincrement:
        return f"<{c.autoincrement}>"
    return c.default


_FAMILIES = [
    ("text", "varchar", "char", "citext", "tinytext", "mediumtext", "longtext"),
    ("integer", "smallint", "bigint", "int", "tinyint", "mediumint"),
    ("numeric", "decimal", "real", "double precision", "double", "float"),
    ("timestamp", "timestamptz", "datetime", "date"),
    ("json", "jsonb"),
    ("bytea", "blob", "longblob", "mediumblob", "varbinary"),
]


def _family(t: str) -> str:
    base = t.split("(")[0].removesuffix("[]").split(" unsigned")[0]
    for fam in _FAMILIES:
        if base in fam:
            return fam[0] + ("[]" if t.endswith("[]") else "")
    return t


def _compatible(a: str, b: str) -> bool:
    return a == b or _family(a) == _family(b)


def _match(old: Iterable, new: Iterable, name: Callable[[Any], str | None], sig: Callable[[Any], Any],
           loose: Callable[[Any, Any], bool] | None = None) -> list[tuple[Any, Any]]:
    """Pair objects by name, then unpaired ones by signature (renames / unnamed objects),
    then (optionally) by a looser test. Unpaired ones come back with None on one side."""
    old, new = list(old), list(new)
    pairs: list[tuple[Any, Any]] = []
    new_by_name = {name(n): n for n in new if name(n) is not None}
    rest_old, used = [], set()
    for o in old:
        n = new_by_name.get(name(o)) if name(o) is not None else None
        if n is not None and (sig(o) == sig(n) or (loose is not None and loose(o, n))):
            pairs.append((o, n))
            used.add(id(n))
        else:
            rest_old.append(o)
    rest_new = [n for n in new if id(n) not in used]
    remaining_old = []
    for o in rest_old:  # the same definition under another name, or both unnamed
        hit = next((n for n in rest_new if sig(n) == sig(o)), None)
        if hit is not None:
            pairs.append((o, hit))
            rest_new.remove(hit)
        else:
            remaining_old.append(o)
    pairs.extend((o, None) for o in remaining_old)
    pairs.extend((None, n) for n in rest_new)
    return pairs


# --------------------------------------------------------------------------- renames

def apply_renames(old: Schema, r: Renames, out: list[Change]) -> Schema:
    """OLD with the confirmed renames applied (as the database's RENAME would), recording a
    `rename_*` change for each."""
    if not r:
        return old
    enums = list(old.enums)
    tables = list(old.tables)

    def replace_type(col: Column, old_key: str, new_key: str) -> Column:
        if col.type.removesuffix("[]") != old_key:
            return col
        suffix = "[]" if col.type.endswith("[]") else ""
        return dataclasses.replace(col, type=new_key + suffix, enum=new_key)

    for key, new_name in r.enums:
        i = next(i for i, e in enumerate(enums) if old.key(e.schema, e.name) == key)
        e = enums[i]
        schema, _, name = new_name.rpartition(".")
        renamed = dataclasses.replace(e, name=name, schema=schema or e.schema)
        enums[i] = renamed
        new_key = old.key(renamed.schema, renamed.name)
        tables = [dataclasses.replace(t, columns=tuple(replace_type(c, key, new_key) for c in t.columns))
                  for t in tables]
        out.append(Change(Kind.RENAME_ENUM, name=new_key, detail={"from": key, "to": new_key}, old=e,
                          new=renamed))

    for key, value, new_value in r.enum_values:
        i = next(i for i, e in enumerate(enums) if old.key(e.schema, e.name) == key)
        e = enums[i]
        renamed_e = dataclasses.replace(e, values=tuple(new_value if v == value else v for v in e.values))
        enums[i] = renamed_e
        ekey = old.key(e.schema, e.name)
        tables = [dataclasses.replace(t, columns=tuple(
            _rename_enum_default(c, ekey, value, new_value) for c in t.columns)) for t in tables]
        out.append(Change(Kind.RENAME_ENUM_VALUE, name=ekey,
                          detail={"enum": ekey, "from": value, "to": new_value, "value": new_value},
                          old=e, new=renamed_e))

    for tkey, col, new_col in r.columns:
        i = next(i for i, t in enumerate(tables) if old.key(t.schema, t.name) == tkey)
        t = tables[i]
        before = t.column(col)
        tables[i] = _rename_column_in_table(t, col, new_col, old.dialect)
        tables = [_rename_ref_column(x, t, col, new_col) for x in tables]
        out.append(Change(Kind.RENAME_COLUMN, table=tkey, column=new_col,
                          detail={"from": col, "to": new_col}, old=before, new=tables[i].column(new_col)))

    for tkey, new_name in r.tables:
        i = next(i for i, t in enumerate(tables) if old.key(t.schema, t.name) == tkey)
        t = tables[i]
        schema, _, name = new_name.rpartition(".")
        renamed = dataclasses.replace(t, name=name, schema=schema or t.schema)
        tables[i] = renamed
        tables = [_rename_ref_table(x, t, renamed) for x in tables]
        new_key = old.key(renamed.schema, renamed.name)
        # column renames recorded above carry the old table key: move them to the new one
        for j, c in enumerate(out):
            if c.kind == Kind.RENAME_COLUMN and c.table == tkey:
                out[j] = dataclasses.replace(c, table=new_key)
        out.append(Change(Kind.RENAME_TABLE, table=new_key, detail={"from": tkey, "to": new_key}, old=t,
                          new=renamed))
    return dataclasses.replace(old, enums=tuple(enums), tables=tuple(tables))


def _rename_enum_default(c: Column, enum_key: str, value: str, new_value: str) -> Column:
    if c.enum != enum_key or not c.default:
        return c
    quoted_old = "'" + value.replace("'", "''") + "'"
    quoted_new = "'" + new_value.replace("'", "''") + "'"
    return dataclasses.replace(c, default=c.default.replace(quoted_old, quoted_new))


def _rename_in_expression(text: str | None, col: str, new_col: str, dialect: str) -> str | None:
    if not text:
        return text
    try:
        node = parse_expression(text, dialect)
    except ValueError:
        return text

    def fix(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.name == col:
            return exp.column(new_col, quoted=n.this.quoted if isinstance(n.this, exp.Identifier) else False)
        return n

    return node.copy().transform(fix).sql(dialect=sqlglot_dialect(dialect))


def _rename_column_in_table(t: Table, col: str, new_col: str, dialect: str) -> Table:
    def ren(cols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new_col if c == col else c for c in cols)

    columns = tuple(dataclasses.replace(c, name=new_col) if c.name == col else c for c in t.columns)
    pk = dataclasses.replace(t.primary_key, columns=ren(t.primary_key.columns)) if t.primary_key else None
    indexes = tuple(dataclasses.replace(
        i, parts=tuple(dataclasses.replace(p, column=new_col) if p.column == col else dataclasses.replace(
            p, expression=_rename_in_expression(p.expression, col, new_col, dialect)) for p in i.parts),
        where=_rename_in_expression(i.where, col, new_col, dialect), include=ren(i.include))
        for i in t.indexes)
    fks = tuple(dataclasses.replace(f, columns=ren(f.columns)) for f in t.foreign_keys)
    checks = tuple(dataclasses.replace(c, expression=_rename_in_expression(c.expression, col, new_col, dialect))
                   for c in t.checks)
    return dataclasses.replace(t, columns=columns, primary_key=pk, indexes=indexes, foreign_keys=fks,
                               checks=checks)


def _rename_ref_column(x: Table, target: Table, col: str, new_col: str) -> Table:
    fks = tuple(
        dataclasses.replace(f, ref_columns=tuple(new_col if c == col else c for c in f.ref_columns))
        if f.ref_table == target.name and f.ref_schema == target.schema else f
        for f in x.foreign_keys)
    return dataclasses.replace(x, foreign_keys=fks)


def _rename_ref_table(x: Table, before: Table, after: Table) -> Table:
    fks = tuple(
        dataclasses.replace(f, ref_table=after.name, ref_schema=after.schema)
        if f.ref_table == before.name and f.ref_schema == before.schema else f
        for f in x.foreign_keys)
    return dataclasses.replace(x, foreign_keys=fks)


__all__ = ["diff"]
