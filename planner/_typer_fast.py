"""Cheaper option parsing for the `planner` command line.

Typer 0.2x turns every command-line value into its parameter's type through a pydantic
`TypeAdapter`: each run imports pydantic and builds one adapter per parameter (~0.1 s, more
than loading a 100 KB Prisma schema). For planner's plain parameters the answer is known
without pydantic: a `str` given as a string is that string (a `bool` flag's bool too), a list of strings is that list,
an Enum option is the member typer's own choice matching (`coerce_cli_choice`) finds. Only
those successes are short-circuited; anything else (a bad choice, a number, a path, a value of
another type) goes through typer's own adapter, so its errors and messages are unchanged.

`install()` does nothing on a typer without these internals (older or newer releases).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin


def install() -> None:
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_choice
    except ImportError:
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_planner_fast", False) \
            or not hasattr(_coercion, "RuntimeParam") or not hasattr(_coercion, "TypeDescriptor"):
        return

    @dataclass(frozen=True)
    class PlainRuntimeParam(_coercion.RuntimeParam):
        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = _plain_kind(self.annotation)
            if (kind == "str" and type(value) is str) or (kind == "bool" and type(value) is bool):
                return value
            if kind == "list[str]" and isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                return list(value)
            if kind == "enum":
                try:
                    return coerce_cli_choice(value, choices=tuple(self.annotation),
                                             case_sensitive=self.parameter_info.case_sensitive, ctx=ctx)
                except ValueError:
                    pass  # typer's own adapter raises the error users know
            return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        if descriptor.file_annotation is None and getattr(info, "parser", None) is None \
                and _plain_kind(descriptor.annotation) is not None:
            return PlainRuntimeParam(annotation=descriptor.annotation, parameter_info=info, descriptor=descriptor)
        return original(descriptor)

    build_runtime_param._planner_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param


def _plain_kind(annotation: Any) -> str | None:
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        return "list[str]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum"
    return None
