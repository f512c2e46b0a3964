"""Configuration: `[tool.planner]` in ./pyproject.toml, else ./planner.toml (the project's),
then `--config FILE` on top of it (per-release settings); `--no-config` ignores the project's.

```toml
[tool.planner]
dialect = "postgresql"
fail_on = "high"                 # default for --fail-on
select = ["DS", "MF", "LK101"]   # report only these rule families/codes (default: all)
ignore = ["LK108"]               # never report these (applied after select)
renames_in_place = false         # true: rename columns/enum values in one step (all writers switch at once)

[tool.planner.renames]
"User.name" = "full_name"        # column rename
"Role.COACH" = "INSTRUCTOR"      # enum value rename
"Team" = "Organization"          # table (or enum) rename

[tool.planner.backfill]          # fills existing rows for NOT NULL without a default (planner plan)
"Document.status" = "'draft'"

[tool.planner.enum_remap]        # where rows holding a removed enum value go (planner plan)
"SurveyStatus.archived" = "completed"

[tool.planner.convert]           # how a column's values become its new type (planner plan, check, verify)
"Ticket.status" = { using = "upper(status)", inverse = "lower(status::text)" }
"Order.total" = "round(total::numeric, 2)"       # a bare string: `using`, lossy (backed up)
"Event.at" = { timezone = "Europe/Paris" }       # timestamp <-> timestamptz (MySQL: datetime <-> timestamp) read in this zone

[tool.planner.thresholds]        # row counts that scale lock risk with --db
small_rows = 10000
large_rows = 1000000

[[tool.planner.waivers]]
code = "DS102"
object = "missed_check_ins.*"
reason = "values copied to the warehouse (JIRA-123)"
expires = 2026-12-31
```

Every mistake is an error naming the file and the key: an unknown key or value, and, once the
diff is known (`check_against`), a rename, backfill or remap key that matches no change of it.
Release-specific keys (renames, backfill, enum_remap, convert) therefore belong in their own file,
given with `--config release.toml`: in the project's config they would fail every other diff.

When both the project's config and `--config FILE` are read, FILE wins: its scalars and its
`select`/`ignore` replace the project's, its renames/backfill/enum_remap/convert/thresholds entries are
added to (and override) the project's, and its waivers are added to the project's.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import ConfigError
from planner.rules.facts import mysql_zone_kind, zone_kind
from planner.rules.registry import RULES, Level, Thresholds
from planner.rules.waivers import Waiver, parse_waivers

if TYPE_CHECKING:
    from planner.changes import Diff
    from planner.model import Schema
    from planner.rules import Assessment

DIALECTS = ("postgresql", "mysql", "sqlite")
#: accepted spellings of a dialect (as --dialect accepts them)
DIALECT_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}
#: every key [tool.planner] may hold, with what it must be (for the error message)
KEYS = {
    "dialect": "one of " + ", ".join(DIALECTS),
    "fail_on": "a level: " + ", ".join(str(x) for x in Level),
    "select": "a list of rule codes or families (DS, MF101)",
    "ignore": "a list of rule codes or families (DS, MF101)",
    "renames": "a table of \"old\" = \"new\"",
    "backfill": "a table of \"table.column\" = \"SQL\"",
    "enum_remap": "a table of \"Enum.VALUE\" = \"NEW_VALUE\"",
    "convert": "a table of \"table.column\" = \"SQL\" or { using, inverse, lossy, timezone }",
    "thresholds": "a table with small_rows, large_rows",
    "waivers": "an array of tables ([[tool.planner.waivers]])",
    "renames_in_place": "true or false",
}
THRESHOLD_KEYS = ("small_rows", "large_rows")
WAIVER_KEYS = ("code", "object", "reason", "expires")
#: the keys of a `[tool.planner.convert]` entry written as a table
#: a time zone stated as an offset (MySQL/MariaDB's CONVERT_TZ reads it without time zone tables)
ZONE_OFFSET = re.compile(r"[+-]\d{1,2}:\d{2}")
CONVERT_KEYS = ("using", "inverse", "lossy", "timezone")


@dataclass(frozen=True, slots=True)
class ConvertRule:
    """How the values of one column become its new type (`[tool.planner.convert]`).

    `using` is SQL over the column's own name (as `ALTER ... TYPE ... USING` reads it): its
    value is assigned to the new type as any value is (an enum through its text). `inverse`
    is SQL over the same name holding the new value, giving the old one (the downgrade's
    conversion). Without an inverse the rule is `lossy`: the old values are backed up and
    restored on downgrade, and rows written after the upgrade go back through the server's
    cast. `timezone` (instead of `using`) reads `timestamp` values as local time of that zone
    when they become `timestamptz` (and back); the default is UTC, what Prisma writes."""

    using: str | None = None
    inverse: str | None = None
    lossy: bool = False
    timezone: str | None = None

#: rule families: the letters of every rule code (DS, MF, LK, BC, PG, MY, LT)
FAMILIES = tuple(sorted({code.rstrip("0123456789") for code in RULES}))


@dataclass(frozen=True, slots=True)
class Config:
    #: the file the settings came from (the last one read when two were), None without one
    path: str | None = None
    dialect: str | None = None
    renames: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    fail_on: str | None = None
    #: "table.column" -> SQL expression that fills existing rows (NOT NULL without a default)
    backfill: dict[str, str] = field(default_factory=dict)
    #: "Enum.OLD" -> "NEW": where rows holding a removed enum value go
    enum_remap: dict[str, str] = field(default_factory=dict)
    #: "table.column" -> how its values become the new type
    convert: dict[str, ConvertRule] = field(default_factory=dict)
    #: rule codes/families to report (empty: all) and to leave out
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: PostgreSQL plans rename columns and enum values in place (one RENAME in contract, every
    #: writer switching at once) instead of by expand/contract
    renames_in_place: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    #: every file read, in order (the project's, then --config)
    paths: tuple[str, ...] = ()
    #: ("renames"|"backfill"|"enum_remap"|"convert", key) -> the file that set it (for error messages)
    origins: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)

    def selects(self, code: str) -> bool:
        """Whether findings of rule `code` are reported under select/ignore."""
        return (not self.select or any(_covers(s, code) for s in self.select)) \
            and not any(_covers(s, code) for s in self.ignore)

    def filter(self, assessment: Assessment) -> Assessment:
        """`assessment` without the findings select/ignore leave out; each change's level is
        recomputed from what remains (an ignored rule no longer raises it)."""
        if not self.select and not self.ignore:
            return assessment
        findings = {cid: tuple(f for f in fs if self.selects(f.code)) for cid, fs in assessment.findings.items()}
        levels = {cid: max((f.level for f in fs if not f.waived), default=Level.SAFE)
                  for cid, fs in findings.items()}
        return replace(assessment, findings=findings, levels=levels)

    def check_renames(self, old: Schema, new: Schema) -> None:
        """Raise ConfigError naming the file for a configured rename that OLD and NEW do not
        bear out (before the diff, which applies them)."""
        from planner.renames import parse_renames

        for hint in self.renames:
            try:
                parse_renames([hint], old, new)
            except ConfigError as e:
                where = self.origins.get(("renames", hint.partition("=")[0]), self.path)
                raise ConfigError(f"{where}: [{_table('renames', where)}] {e}") from None

    def check_against(self, diff: Diff, new: Schema) -> None:
        """Raise ConfigError (naming the file and key) for a backfill or enum_remap key that
        matches no change of `diff`: a typo, or a setting for another release."""
        fills = _backfill_targets(diff, new.dialect)
        for key in sorted(self.backfill):
            where = self.origins.get(("backfill", key), self.path)
            target = fills.get(key)
            if target is None:
                raise ConfigError(f"{where}: [{_table('backfill', where)}] {key!r} matches no column this diff "
                                  "adds or makes NOT NULL",
                                  hint="keys are \"table.column\" as `planner diff` names the change; "
                                       "keep release-specific settings in a --config file")
            if target:
                raise ConfigError(f"{where}: [{_table('backfill', where)}] {key!r}: {target}")
        removed = _removed_values(diff, new)
        for key in sorted(self.enum_remap):
            where = self.origins.get(("enum_remap", key), self.path)
            if key not in removed:
                raise ConfigError(f"{where}: [{_table('enum_remap', where)}] {key!r} matches no enum value this "
                                  "diff removes",
                                  hint="keys are \"Enum.VALUE\" (MySQL: \"table.column.VALUE\"); keep "
                                       "release-specific settings in a --config file")
            values = removed[key]
            if values is not None and self.enum_remap[key] not in values:
                raise ConfigError(f"{where}: [{_table('enum_remap', where)}] {key!r} = "
                                  f"{self.enum_remap[key]!r}: NEW's enum has no such value",
                                  hint=f"use one of {', '.join(values)}")
        converted = {c.object: c for c in diff.changes if c.kind.value == "alter_column_type"}
        for key in sorted(self.convert):
            where = self.origins.get(("convert", key), self.path)
            change = converted.get(key)
            if change is None:
                raise ConfigError(f"{where}: [{_table('convert', where)}] {key!r} matches no column whose type this "
                                  "diff changes",
                                  hint="keys are \"table.column\" as `planner diff` names the change; keep "
                                       "release-specific settings in a --config file")
            why = _convert_problem(self.convert[key], change, new.dialect)
            if why:
                raise ConfigError(f"{where}: [{_table('convert', where)}] {key!r}: {why}")


def _covers(selector: str, code: str) -> bool:
    spec = RULES.get(code)
    return code == selector or code.rstrip("0123456789") == selector or (spec is not None and spec.slug == selector)


def _backfill_targets(diff: Diff, dialect: str) -> dict[str, str]:
    """"table.column" -> "" for every change a backfill fills (an added column, a column made
    NOT NULL), or the reason the plan would not use it."""
    from planner.changes import Kind

    out: dict[str, str] = {}
    for c in diff.changes:
        if c.kind == Kind.SET_NOT_NULL:
            out[c.object] = ""
        elif c.kind == Kind.ADD_COLUMN:
            default = getattr(c.new, "default", None)
            if default is not None:
                why = f"the column has a default ({default}) in NEW, which fills the rows; the backfill would not be used"
            elif dialect == "mysql" and getattr(c.new, "nullable", False):
                why = "the column is nullable in NEW: MySQL adds it in place and the backfill would not be used"
            else:
                why = ""
            out.setdefault(c.object, why)
    return out


def _convert_problem(rule: ConvertRule, change: Any, dialect: str) -> str:
    """Why `rule` cannot apply to the type change `change` ("" when it can)."""
    column = change.column or ""
    if rule.timezone is not None:
        if dialect not in ("postgresql", "mysql"):
            return ("timezone applies to PostgreSQL timestamp <-> timestamptz and MySQL datetime <-> timestamp "
                    "changes")
        if dialect == "postgresql" and ZONE_OFFSET.fullmatch(rule.timezone):
            return (f"timezone {rule.timezone!r}: an offset applies to MySQL (PostgreSQL reads '+01:00' in AT "
                    "TIME ZONE as POSIX, west of Greenwich); state an IANA name such as \"Etc/GMT-1\" or "
                    "\"Europe/Paris\"")
        kind = zone_kind if dialect == "postgresql" else mysql_zone_kind
        if {kind(change.old.type), kind(change.new.type)} != {"local", "instant"}:
            pair = "timestamp <-> timestamptz" if dialect == "postgresql" else "datetime/date <-> timestamp"
            return f"timezone applies to {pair} changes, not {change.old.type} -> {change.new.type}"
    for what in ("using", "inverse"):
        text = getattr(rule, what)
        if text is None:
            continue
        why = _reads_only(text, column, dialect)
        if why:
            return f"{what} {text!r}: {why}"
    return ""


def _reads_only(text: str, column: str, dialect: str) -> str:
    """Why SQL expression `text` is not an expression over column `column` alone ("" if it is)."""
    from sqlglot import exp

    from planner.normalize import parse_expression

    try:
        node = parse_expression(text, dialect)
    except ValueError as e:
        return f"not an SQL expression ({str(e).splitlines()[0]})"
    if isinstance(node, (exp.Select, exp.Subquery)) or node.find(exp.Select) is not None:
        return "a subquery is not allowed (ALTER ... USING has none)"
    for col in node.find_all(exp.Column):
        ident = col.this
        if isinstance(ident, exp.Star) or col.table:
            return f"reads {col.sql()}: the expression may read only {column}"
        name = ident.name
        quoted = bool(ident.args.get("quoted"))
        same = name == column if (quoted and dialect == "postgresql") else \
            (name.lower() == column if dialect == "postgresql" else name.lower() == column.lower())
        if not same:
            hint = f' (write "{column}" in double quotes)' if name.lower() == column.lower() else ""
            return f"reads {name}: the expression may read only the column {column}{hint}"
    return ""


def _removed_values(diff: Diff, new: Schema) -> dict[str, tuple[str, ...] | None]:
    """"Enum.VALUE" (and "table.column.VALUE" for an inline enum) -> NEW's values of that enum
    (None where unknown), for every enum value the diff removes."""
    from planner.changes import Kind

    out: dict[str, tuple[str, ...] | None] = {}
    for c in diff.changes:
        if c.kind != Kind.REMOVE_ENUM_VALUE:
            continue
        value = str(c.detail.get("value"))
        enum = new.enum(c.name) if c.name and c.table is None else None
        values = tuple(enum.values) if enum is not None else None
        if c.name:
            out[f"{c.name}.{value}"] = values
        if c.table and c.column:
            out[f"{c.table}.{c.column}.{value}"] = values
    return out


def load_config(path: str | None = None, *, cwd: Path | None = None, no_config: bool = False) -> Config:
    """The active configuration: the project's (unless `no_config`), with `path` on top.
    An explicit `path` must exist and parse."""
    cwd = cwd or Path.cwd()
    configs = []
    project = None if no_config else _project_config(cwd)
    if project is not None:
        configs.append(project)
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{path}: config file not found")
        if project is not None and p.resolve() == Path(project.path).resolve():
            return project
        data = _read(p)
        section = data.get("tool", {}).get("planner") if isinstance(data.get("tool"), dict) else None
        if section is None and p.name == "pyproject.toml":
            raise ConfigError(f"{path}: no [tool.planner] section")
        configs.append(_config(section if section is not None else data, str(p)))
    if not configs:
        return Config()
    return configs[0] if len(configs) == 1 else _merge(configs[0], configs[1])


def _project_config(cwd: Path) -> Config | None:
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        tool = _read(pyproject).get("tool", {})
        section = tool.get("planner") if isinstance(tool, dict) else None
        if section is not None:
            return _config(section, str(pyproject))
    standalone = cwd / "planner.toml"
    if standalone.is_file():
        data = _read(standalone)
        tool = data.get("tool")
        nested = isinstance(tool, dict) and "planner" in tool
        return _config(tool["planner"] if nested else data, str(standalone))
    return None


def _merge(base: Config, top: Config) -> Config:
    """`top` (the --config file) over `base` (the project's config)."""
    raw = top.raw

    def pick(key: str, a: Any, b: Any) -> Any:
        return b if key in raw else a

    thresholds = Thresholds(**{**{k: v for k, v in base.raw.get("thresholds", {}).items()},
                               **raw.get("thresholds", {})})
    renames = dict(h.partition("=")[::2] for h in base.renames)
    renames.update(dict(h.partition("=")[::2] for h in top.renames))
    return Config(path=top.path, dialect=pick("dialect", base.dialect, top.dialect),
                  renames=tuple(f"{k}={v}" for k, v in renames.items()),
                  waivers=base.waivers + top.waivers, thresholds=thresholds,
                  fail_on=pick("fail_on", base.fail_on, top.fail_on),
                  backfill={**base.backfill, **top.backfill}, enum_remap={**base.enum_remap, **top.enum_remap},
                  convert={**base.convert, **top.convert},
                  select=pick("select", base.select, top.select), ignore=pick("ignore", base.ignore, top.ignore),
                  renames_in_place=pick("renames_in_place", base.renames_in_place, top.renames_in_place),
                  raw={**base.raw, **top.raw}, paths=base.paths + top.paths,
                  origins={**base.origins, **top.origins})


def _read(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML ({e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read ({e.strerror})") from None


def _prefix(path: str) -> str:
    """How keys are named in `path`: `tool.planner.` in a pyproject.toml, bare in planner.toml."""
    return "tool.planner." if Path(path).name == "pyproject.toml" else ""


def _table(key: str, path: str | None) -> str:
    return f"{_prefix(path or 'pyproject.toml')}{key}"


def _unknown(path: str, what: str, key: str, known: tuple[str, ...] | list[str]) -> ConfigError:
    close = difflib.get_close_matches(key.replace("-", "_").lower(), known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return ConfigError(f"{path}: unknown {what} {key!r}", hint=hint)


def _config(section: dict[str, Any], path: str) -> Config:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.planner] must be a table")
    pre = _prefix(path)
    for key in section:
        if key not in KEYS:
            raise _unknown(path, "key", f"{pre}{key}", [f"{pre}{k}" for k in KEYS])

    def bad(key: str, detail: str = "") -> ConfigError:
        return ConfigError(f"{path}: {pre}{key} must be {KEYS[key]}{detail}")

    renames = section.get("renames", {})
    if not isinstance(renames, dict) or not all(isinstance(v, str) for v in renames.values()):
        raise ConfigError(f"{path}: [{pre}renames] must map \"old\" = \"new\" strings")
    dialect = section.get("dialect")
    if dialect is not None:
        if not isinstance(dialect, str) or DIALECT_ALIASES.get(dialect.lower(), dialect.lower()) not in DIALECTS:
            raise bad("dialect", f", not {dialect!r}")
        dialect = DIALECT_ALIASES.get(dialect.lower(), dialect.lower())
    raw_thresholds = section.get("thresholds", {})
    if not isinstance(raw_thresholds, dict):
        raise ConfigError(f"{path}: [{pre}thresholds] must be a table")
    for key in raw_thresholds:
        if key not in THRESHOLD_KEYS:
            raise _unknown(path, "key", f"{pre}thresholds.{key}", [f"{pre}thresholds.{k}" for k in THRESHOLD_KEYS])
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw_thresholds.values()):
        raise ConfigError(f"{path}: [{pre}thresholds] values must be non-negative integers")
    fail_on = section.get("fail_on")
    if fail_on is not None:
        if not isinstance(fail_on, str):
            raise bad("fail_on")
        try:
            fail_on = str(Level.parse(fail_on))
        except ValueError:
            raise bad("fail_on", f", not {fail_on!r}") from None
    selection = {key: _selectors(section.get(key), path, f"{pre}{key}") for key in ("select", "ignore")}
    in_place = section.get("renames_in_place", False)
    if not isinstance(in_place, bool):
        raise bad("renames_in_place", f", not {in_place!r}")
    maps = {}
    for key in ("backfill", "enum_remap"):
        value = section.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) and "." in k for k, v in value.items()):
            raise ConfigError(f"{path}: [{pre}{key}] must map \"table.column\" (or \"Enum.VALUE\") "
                              "to a string")
        maps[key] = dict(value)
    convert = _convert_rules(section.get("convert", {}), path, pre)
    raw_waivers = section.get("waivers")
    if isinstance(raw_waivers, list):
        for i, w in enumerate(raw_waivers, 1):
            if not isinstance(w, dict):
                continue  # parse_waivers says so
            for key in w:
                if key not in WAIVER_KEYS:
                    raise _unknown(path, f"key in waiver {i}:", f"{pre}waivers.{key}",
                                   [f"{pre}waivers.{k}" for k in WAIVER_KEYS])
            code = w.get("code")
            if isinstance(code, str) and code.strip() and not _is_rule(code.strip()):
                raise ConfigError(f"{path}: waiver {i}: no rule {code.strip()!r}",
                                  hint="`planner rules` lists the codes")
    origins = {(key, k): path for key in ("renames", "backfill", "enum_remap", "convert")
               for k in (renames if key == "renames" else convert if key == "convert" else maps[key])}
    return Config(path=path, dialect=dialect, renames=tuple(f"{k}={v}" for k, v in renames.items()),
                  waivers=parse_waivers(raw_waivers, path),
                  thresholds=Thresholds(**raw_thresholds), fail_on=fail_on, raw=section, paths=(path,),
                  origins=origins, convert=convert, renames_in_place=in_place, **selection, **maps)


def _convert_rules(value: Any, path: str, pre: str) -> dict[str, ConvertRule]:
    """`[convert]`: "table.column" = "SQL" (the USING expression, lossy) or a table of
    CONVERT_KEYS; every mistake names the file and the key."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{pre}convert] must be a table of \"table.column\" = \"SQL\" or "
                          "{ using, inverse, lossy, timezone }")
    out = {}
    for key, entry in value.items():
        where = f"{path}: [{pre}convert] {key!r}"
        if "." not in key:
            raise ConfigError(f"{where}: keys are \"table.column\"")
        if isinstance(entry, str):
            entry = {"using": entry}
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a string (the USING expression) or a table with "
                              f"{', '.join(CONVERT_KEYS)}")
        for k in entry:
            if k not in CONVERT_KEYS:
                raise _unknown(path, f"key in [{pre}convert] {key!r}:", k, list(CONVERT_KEYS))
        for k in ("using", "inverse", "timezone"):
            if k in entry and (not isinstance(entry[k], str) or not entry[k].strip()):
                raise ConfigError(f"{where}: {k} must be a non-empty string")
        if "lossy" in entry and not isinstance(entry["lossy"], bool):
            raise ConfigError(f"{where}: lossy must be true or false")
        using, inverse, zone = entry.get("using"), entry.get("inverse"), entry.get("timezone")
        if using is None and zone is None:
            raise ConfigError(f"{where}: needs using (SQL over the column) or timezone")
        if zone is not None:
            if using is not None or inverse is not None:
                raise ConfigError(f"{where}: timezone is the whole rule; leave out using and inverse")
            import zoneinfo  # only when a rule names a zone: not at start-up

            try:
                if not ZONE_OFFSET.fullmatch(zone):  # (an offset: MySQL's CONVERT_TZ form)
                    zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{where}: unknown time zone {zone!r}",
                                  hint="an IANA name such as \"UTC\" or \"Europe/Paris\" (on MySQL also an "
                                       "offset such as \"+01:00\")") from None
            out[key] = ConvertRule(timezone=zone)
            continue
        lossy = entry.get("lossy")
        if inverse is None and lossy is False:
            raise ConfigError(f"{where}: lossy = false needs an inverse (SQL over the column giving the old "
                              "value back)")
        out[key] = ConvertRule(using=using.strip(), inverse=inverse.strip() if inverse else None,
                               lossy=inverse is None or bool(lossy))
    return out


def _is_rule(code: str) -> bool:
    """A waiver's code: exactly a rule code or slug (as waivers match them)."""
    return code in RULES or any(r.slug == code for r in RULES.values())


def _selectors(value: Any, path: str, key: str) -> tuple[str, ...]:
    """`select`/`ignore`: rule codes (DS101), families (DS) or slugs (drop-column), checked."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of rule codes or families, e.g. [\"DS\", \"LK101\"]")
    out = []
    for v in value:
        s = v.strip()
        if s.upper() in RULES or s.upper() in FAMILIES:
            out.append(s.upper())
        elif any(r.slug == s.lower() for r in RULES.values()):
            out.append(s.lower())
        else:
            raise ConfigError(f"{path}: {key}: no rule code or family {v!r}",
                              hint=f"families: {', '.join(FAMILIES)}; `planner rules` lists the codes")
    return tuple(dict.fromkeys(out))
