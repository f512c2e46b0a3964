"""Progress of the long database steps (reflection, row estimates, pre-flight checks, verify's
phases): a spinner with the step and its elapsed time on stderr while it runs, and a log line
with its time when it ends (`--verbose`).

The spinner is shown only when the command line turned it on (`enable(True)`: stderr is a
terminal and the command is not `--quiet`); library callers and piped runs get none. rich is
imported only when a spinner is shown, so the fast paths never pay for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)


class _State:
    enabled = False
    status: Any = None
    #: the texts of the steps running now, outermost first
    stack: list[str] = []


def enable(on: bool) -> None:
    _State.enabled = on


def _show(text: str) -> None:
    if _State.status is not None:
        live, spinner = _State.status
        spinner.update(text=text)
        live.refresh()  # every step is seen, however short


@contextmanager
def step(text: str) -> Iterator[None]:
    """Show `text` while the block runs (nested steps show `outer: inner`); log its time."""
    started = time.perf_counter()
    _State.stack.append(text)
    label = ": ".join(_State.stack)
    log.info("%s ...", label)
    own = False
    if _State.enabled and _State.status is None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        spinner = Spinner("dots", text=label)
        live = Live(spinner, console=Console(stderr=True, highlight=False, emoji=False), transient=True,
                    refresh_per_second=12.5)
        _State.status = (live, spinner)
        live.start()
        own = True
    else:
        _show(label)
    try:
        yield
    finally:
        _State.stack.pop()
        if own:
            _State.status[0].stop()
            _State.status = None
        else:
            _show(": ".join(_State.stack))
        log.info("%s: %.2f s", label, time.perf_counter() - started)


def update(detail: str) -> None:
    """Say what the innermost step is doing now (`pre-flight checks: 3/12 duplicates on users`)."""
    if _State.stack:
        _show(": ".join([*_State.stack, detail]))
    log.debug("%s", ": ".join([*_State.stack, detail]))


__all__ = ["enable", "step", "update"]
