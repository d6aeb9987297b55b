"""Reading one TOML table of the config: typed keys, file:line errors, secrets from the environment.

``guard.config`` parses the whole file with it, and each alert channel
(``guard.alerts.channels``) parses its own ``[alerts.NAME]`` table with it, so a channel's
settings live with the channel. This module imports nothing from ``guard`` but the ground
floor, so any config-reading module may import it without a cycle.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any, Callable, NoReturn, overload

from guard.durations import parse_duration
from guard.errors import ConfigError
from guard.redact import remember

__all__ = ["Reader", "read_secret"]


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a shell can `export`
# A name shaped like this is a variable's name, not a pasted secret: safe to print. A mixed-case
# or long value may be the token itself (a newcomer's slip) and must not reach a terminal or
# the journal; the scrubbing (guard.redact) knows only the shapes of some tokens.
_SHOWN_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
_PASTED = "if it holds the secret itself, put the secret in the environment and name the variable here"


def read_secret(env_name: str, key: str) -> str:
    """Read a secret from the environment; the error names the variable, never a value."""
    if not _ENV_NAME.fullmatch(env_name):
        raise ConfigError(
            f"{key} is not an environment variable name (letters, digits and '_', e.g. "
            f"FB_PAGE_TOKEN); {_PASTED}"
        )
    value = os.environ.get(env_name, "").strip()
    if not value and not _SHOWN_NAME.fullmatch(env_name):
        raise ConfigError(f"the environment variable that {key} names is not set; {_PASTED}")
    if not value:
        raise ConfigError(
            f"environment variable {env_name} (named by {key}) is not set; "
            f"export it before running, e.g. `export {env_name}='...'`"
        )  # quoted: the scrubbing reads an unquoted `TOKEN=...` as a secret
    remember(value)  # so no error text, log line or output can carry it (guard.redact)
    return value


class Reader:
    """Takes keys out of one TOML table, checking types; ``finish`` rejects leftovers."""

    def __init__(
        self, raw: dict[str, Any], where: str, text: str, prefix: str = "", header: int | None = None
    ) -> None:
        self.raw = dict(raw)
        self.where = where
        self.text = text
        self.prefix = prefix
        self.header = header  # where this table's [header] starts in text, when it has one

    def child(self, name: str, raw: Any) -> "Reader":
        key = f"{self.prefix}{name}"
        if not isinstance(raw, dict):
            self.fail(name, f"{key} must be a table")
        header = _header_of(self.text, key)
        return Reader(
            raw, self.where, self.text, prefix=key + ".", header=self.header if header is None else header
        )

    def fail(self, key: str, message: str) -> NoReturn:
        """Raise the error at the key's line in this table (a key of the same name in another
        [[accounts]] block is not it), else at the table's header (a missing key)."""
        leaf = key.rsplit(".", 1)[-1].split("[")[0]
        if self.header is None:
            line = _line_of(self.text, leaf)
        else:
            end = _NEXT_HEADER.search(self.text, self.header + 1)
            line = _line_of(self.text, leaf, self.header, end.start() if end else len(self.text))
            line = line or self.text.count("\n", 0, self.header) + 1
        loc = f"{self.where}:{line}" if line else self.where
        raise ConfigError(f"{loc}: {message}")

    def take(
        self, key: str, kind: type | tuple[type, ...], *, required: bool = False, default: Any = None
    ) -> Any:
        full = f"{self.prefix}{key}"
        if key not in self.raw:
            if required:
                self.fail(key, f"missing required key {full}")
            return default
        value = self.raw.pop(key)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            got = _TYPE_NAMES.get(type(value), type(value).__name__)
            self.fail(key, f"{full} must be {names}, got {got} {value!r}")
        return value

    @overload
    def duration(self, key: str, default: timedelta) -> timedelta: ...

    @overload
    def duration(self, key: str, default: None) -> timedelta | None: ...

    def duration(self, key: str, default: timedelta | None) -> timedelta | None:
        value = self.take(key, str)
        if value is None:
            return default
        try:
            delta = parse_duration(value)
        except ValueError as exc:
            self.fail(key, f"{self.prefix}{key}: {exc}")
        if delta.total_seconds() <= 0:
            self.fail(key, f"{self.prefix}{key} must be longer than zero")
        return delta

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.take(key, list)
        if value is None:
            return default
        if not all(isinstance(v, str) for v in value):
            self.fail(key, f"{self.prefix}{key} must be a list of strings")
        return tuple(value)

    def choice(
        self, key: str, choices: tuple[str, ...], default: str | None = None, required: bool = False
    ) -> str:
        value = self.take(key, str, required=required, default=default)
        if value not in choices:
            self.fail(key, f"{self.prefix}{key} = {value!r} is not one of: {', '.join(choices)}")
        return str(value)

    def section(self, key: str, build: Callable[["Reader"], Any], required: bool = False) -> Any:
        raw = self.take(key, dict, required=required)
        if raw is None:
            return None
        return build(self.child(key, raw))

    def finish(self) -> None:
        if self.raw:
            key = sorted(self.raw)[0]
            self.fail(key, f"unknown key {self.prefix}{key}; check its spelling against config.example.toml")


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
    float: "a number",
}


def _line_of(text: str, key: str, start: int = 0, end: int | None = None) -> int | None:
    pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\s*(=|\])", re.MULTILINE)
    m = pattern.search(text, start, len(text) if end is None else end)
    return text.count("\n", 0, m.start()) + 1 if m else None


_NEXT_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _header_of(text: str, key: str) -> int | None:
    """Where the header of table ``key`` starts: ``[alerts.slack]``, or for ``accounts[1]`` the
    second ``[[accounts]]``; None for a table written inline."""
    item = re.fullmatch(r"(.+)\[(\d+)\]", key)
    if item:
        pattern = rf"^[ \t]*\[\[[ \t]*{re.escape(item.group(1))}[ \t]*\]\]"
        headers = list(re.finditer(pattern, text, re.MULTILINE))
        index = int(item.group(2))
        return headers[index].start() if index < len(headers) else None
    m = re.search(rf"^[ \t]*\[[ \t]*{re.escape(key)}[ \t]*\]", text, re.MULTILINE)
    return m.start() if m else None
