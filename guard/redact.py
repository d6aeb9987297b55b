"""One scrubbing step for every external error text: no token leaves the process.

A platform's error message may quote the credential it was given ("Malformed access token
EAAB..."), a URL with ``access_token=...``, or a webhook address. Whatever stores or prints such
a text (``polls.error``, the outbox's ``last_error``, finding evidence, CLI output, log lines,
alerts) passes it through :func:`scrub` first. Three nets, widest last:

- the exact values of every secret this process read (:func:`remember`, called by
  ``read_secret``), so a token of any shape is caught;
- ``access_token=``/``token=``/``Bearer`` parameters and Slack webhook paths;
- strings shaped like Graph tokens (``EAA`` + 30 or more token characters) and X app tokens.

Ground floor: imports nothing of ours.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["REDACTED", "remember", "scrub", "scrub_data", "known_secrets", "forget_all"]

REDACTED = "[redacted]"
_MIN_LENGTH = 8  # shorter values would blank ordinary words

_known: set[str] = set()
_known_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None

_TOKEN_NAMES = r"(?:access_|refresh_|app_|page_|client_|bearer_)?token"
_SECRET_NAMES = r"client_secret|appsecret_proof|password|secret"
_VALUE = r"[^\s&\"',;)}\[\]]+"
_SHAPES = re.compile(
    # name=value, or a quote beside the colon (JSON, "token": "..."): always a credential
    rf"(?P<param>(?:{_TOKEN_NAMES}|{_SECRET_NAMES})(?:=|%3D|\"\s*:\s*\"?|\s*:\s*\")){_VALUE}"
    rf"|(?P<secret>(?:{_SECRET_NAMES})\s*:\s*){_VALUE}"
    # "token: value" in prose only when the value looks like one: Graph says "Error validating
    # access token: Session has expired", and "Session" is no secret
    rf"|(?P<token>(?:{_TOKEN_NAMES})\s*:\s*)(?=[^\s&\"',;)}}\[\]]*\d)[A-Za-z0-9._~+/=%-]{{16,}}"
    r"|(?P<bearer>(?:Bearer|OAuth)\s+)[A-Za-z0-9._~+/=-]{8,}"
    # a webhook address, also with a port or as the bare path a proxy's error page quotes
    r"|(?P<slack>hooks\.slack\.com(?::\d+)?/services/|(?<![\w.])/services/(?=T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/))"
    r"[A-Za-z0-9/_-]+"
    r"|\bEAA[A-Za-z0-9]{30,}"  # Graph user/page tokens
    r"|\bAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%._-]{20,}"  # X app-only bearer tokens
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack API tokens
    re.IGNORECASE,
)


# A lowercase word every _SHAPES match contains (EAA…, xox…, the X bearer's A-run included).
_SHAPE_WORDS = ("token", "secret", "password", "bearer", "oauth", "/services/", "eaa", "a" * 20, "xox")


def remember(*values: str | None) -> None:
    """Add secret values (tokens, webhook URLs, passwords) this process has read."""
    global _pattern
    fresh = {v.strip() for v in values if v and len(v.strip()) >= _MIN_LENGTH}
    with _known_lock:
        if fresh <= _known:
            return
        _known.update(fresh)
        ordered = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def known_secrets() -> list[str]:
    with _known_lock:
        return sorted(_known)


def forget_all() -> None:
    """Tests only: start from no known values."""
    global _pattern
    with _known_lock:
        _known.clear()
        _pattern = None


def _shape(match: re.Match[str]) -> str:
    for group in ("param", "secret", "token", "bearer", "slack"):
        prefix = match.group(group)
        if prefix:
            return prefix + REDACTED
    return REDACTED


def scrub(text: Any) -> Any:
    """``text`` with every known secret value and token-shaped string replaced; non-strings
    are returned unchanged."""
    if not isinstance(text, str) or not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    # Every shape starts at one of these words; most texts (evidence, comments) hold none, and
    # the shapes' search costs about 1 µs per character: skipped, scrubbing is ~100x cheaper.
    low = text.lower()
    if not any(word in low for word in _SHAPE_WORDS):
        return text
    return _SHAPES.sub(_shape, text)


def scrub_data(value: Any) -> Any:
    """:func:`scrub` applied to every string inside JSON-like data (dicts, lists)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v) for v in value]
    return value
