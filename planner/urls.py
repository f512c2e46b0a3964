"""Database URLs in output: ONE masking function for every message, header, hint, log line and
written file (`mask_url`), and `redact` for free text that may quote a URL or its password
(driver errors, tracebacks).

What is masked (replaced by `***`):

* the password of `scheme://user:password@host/...`;
* query parameters whose name holds `password`, `passwd`, `pwd`, `secret` or `token`
  (any case): `?password=...`, `?sslpassword=...`;
* text SQLAlchemy cannot parse, or parses with an `@` left in the host or database name (an
  unencoded `@` in the password): everything from after `://` to the LAST `@`, so no part of
  the password survives.

Text without `://` (a file path, `module:attr`, `empty`) is returned as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus

MASK = "***"
#: query parameter names (substrings, lower case) whose values are secrets
SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token")
#: shorter secrets are not scrubbed from free text (they would garble every word holding them)
MIN_SECRET = 3

_SCHEME = re.compile(r"^.*?://", re.DOTALL)  # up to the first `://`: even a scheme that is no scheme
_SECRET_PARAM = re.compile(r"([?&;][^=&;#]*(?:" + "|".join(SECRET_KEYS) + r")[^=&;#]*=)([^&;#]*)", re.IGNORECASE)
_SENTINEL = "PLANNERMASKEDVALUE"


def is_url(text: str) -> bool:
    return bool(_SCHEME.match(text))


def is_secret_key(key: str) -> bool:
    low = key.lower()
    return any(k in low for k in SECRET_KEYS)


def _parse(url: str) -> Any:
    """SQLAlchemy's URL, or None when it cannot parse `url` or parses it wrongly (an `@` in
    the host or database name comes from an unencoded `@` in the password)."""
    from sqlalchemy.engine import make_url  # here: importing SQLAlchemy costs ~0.2 s, most runs name no URL

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - ArgumentError, ValueError (port), ...: malformed
        return None
    if "@" in (parsed.host or "") or (parsed.host and "@" in (parsed.database or "")):
        return None
    return parsed


def malformed(url: str) -> bool:
    """A URL SQLAlchemy cannot parse as written (see `mask_url`)."""
    return is_url(url) and _parse(url) is None


def mask_url(url: str) -> str:
    """`url` with its password and secret query parameters replaced by `***` (see module doc)."""
    if not is_url(url):
        return url
    parsed = _parse(url)
    if parsed is None:
        return _mask_malformed(url)
    query = {k: (_SENTINEL if is_secret_key(k) else v) for k, v in parsed.query.items()}
    parsed = parsed.set(query=query)
    if parsed.username == MASK:  # masked already (a malformed URL's user and password)
        parsed = parsed.set(username=_SENTINEL)
    text = parsed.render_as_string(hide_password=True)
    return text.replace(_SENTINEL, MASK)


def _mask_malformed(url: str) -> str:
    scheme = _SCHEME.match(url)
    assert scheme is not None
    rest = url[scheme.end():]
    at = rest.rfind("@")
    if at >= 0:
        rest = MASK + rest[at:]
    return scheme.group(0) + _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, rest)


def url_secrets(url: str | Any) -> list[str]:
    """The secret parts of `url` (a string or a SQLAlchemy URL), as written and decoded: what
    `redact` scrubs from free text such as a driver's error message."""
    out: list[str] = []
    if isinstance(url, str):
        if not is_url(url):
            return []
        parsed = _parse(url)
        if parsed is None:
            rest = url[_SCHEME.match(url).end():]
            at = rest.rfind("@")
            if at >= 0:
                userinfo = rest[:at]
                out += [userinfo, userinfo.partition(":")[2]]
            out += [m.group(2) for m in _SECRET_PARAM.finditer(rest)]
        else:
            out += _sqla_secrets(parsed)
            out += [m.group(2) for m in _SECRET_PARAM.finditer(url)]
            if parsed.password is not None:  # as written (percent-encoded)
                rest = url[_SCHEME.match(url).end():]
                out.append(rest[:rest.find("@")].partition(":")[2])
    else:
        out += _sqla_secrets(url)
    found = {s for x in out for s in (x, unquote(x), unquote_plus(x)) if len(s) >= MIN_SECRET}
    return sorted(found, key=len, reverse=True)


def _sqla_secrets(parsed: Any) -> list[str]:
    out = [parsed.password] if parsed.password else []
    for k, v in parsed.query.items():
        if is_secret_key(k):
            out += [v] if isinstance(v, str) else list(v)
    return [str(s) for s in out]


def redact(text: str, urls: Iterable[str | Any]) -> str:
    """`text` with every URL of `urls` masked, and their secrets scrubbed wherever they appear
    (inside a quoted or percent-decoded copy too)."""
    for url in sorted((u for u in urls if u), key=lambda u: len(str(u)), reverse=True):
        if isinstance(url, str) and is_url(url):
            text = text.replace(url, mask_url(url))
        for secret in url_secrets(url):
            text = text.replace(secret, MASK)
    return text


__all__ = ["MASK", "is_secret_key", "is_url", "malformed", "mask_url", "redact", "url_secrets"]
