"""An existing Alembic project, as `--alembic PATH` names it: Alembic's ini template
(`script_location` in `alembic.ini`) or its pyproject template (`alembic init -t pyproject`:
`script_location` and the other options in `pyproject.toml` `[tool.alembic]`, logging in
`alembic.ini`).

PATH may be either file. The other one is looked for beside it, as `alembic` itself reads
`pyproject.toml` beside `alembic.ini` when run from their folder; options in `pyproject.toml`
take precedence over the ini file's, as in Alembic.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from alembic.config import Config

from planner.errors import PlannerError

PYPROJECT = "pyproject.toml"
INI = "alembic.ini"


def _has_alembic_table(toml: Path) -> bool:
    try:
        with toml.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise PlannerError(f"{toml}: cannot read ({e})") from None
    return isinstance(data.get("tool", {}).get("alembic"), dict)


def project_config(path: str) -> Config:
    """The Alembic `Config` of the project `path` (its alembic.ini or pyproject.toml) names."""
    p = Path(path)
    if not p.is_file():
        raise PlannerError(f"{path}: no such file",
                           hint="give the project's alembic.ini (or its pyproject.toml with [tool.alembic])")
    if p.name == PYPROJECT:
        if not _has_alembic_table(p):
            raise PlannerError(f"{path}: no [tool.alembic] table",
                               hint="give the project's alembic.ini, or run `alembic init -t pyproject`")
        ini = p.with_name(INI)
        cfg = Config(str(ini) if ini.is_file() else None, toml_file=str(p))
    else:
        toml = p.with_name(PYPROJECT)
        cfg = Config(str(p), toml_file=str(toml) if toml.is_file() and _has_alembic_table(toml) else None)
    if cfg.get_alembic_option("script_location") is None:
        where = f"{path} (and no [tool.alembic] in a {PYPROJECT} beside it)" if p.name != PYPROJECT else path
        raise PlannerError(f"{where}: no script_location", hint="not an Alembic project's configuration")
    return cfg


def config_path(cfg: Config) -> str:
    """The file `alembic -c` takes for the project (its ini, else its pyproject.toml)."""
    return str(cfg.config_file_name or cfg.toml_file_name)




def alembic_args(cfg: Config) -> str:
    """`-c alembic.ini` (and `-c pyproject.toml` when the project keeps its options there): what
    `alembic` needs to find the project from any working directory."""
    import shlex

    files = [f for f in (cfg.config_file_name, cfg.toml_file_name if _reads_toml(cfg) else None) if f]
    return " ".join(f"-c {shlex.quote(str(f))}" for f in files)


def _reads_toml(cfg: Config) -> bool:
    return cfg.toml_file_name is not None and Path(cfg.toml_file_name).is_file()


__all__ = ["alembic_args", "config_path", "project_config"]
