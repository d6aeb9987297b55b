"""The TOML config contract (DESIGN §3), validated into frozen dataclasses.

Every problem becomes one ``ConfigError`` line naming the file, the line where we can find it,
the key, what is wrong and how to fix it. Secrets are never in the file: keys ending in ``_env``
name environment variables, read only when a command needs them, and never printed.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import ConnectorSettings
from connectors.registry import known_platforms
from guard.durations import parse_duration
from guard.errors import ConfigError

__all__ = [
    "Config",
    "GuardSettings",
    "Account",
    "PolicySettings",
    "SlackSettings",
    "EmailSettings",
    "AlertSettings",
    "Route",
    "load_config",
    "parse_config",
    "read_secret",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_GRAPH_VERSION",
]

DEFAULT_CONFIG_PATH = "comment-guard.toml"
DEFAULT_GRAPH_VERSION = "v24.0"
SEVERITIES = ("info", "warning", "critical")

@dataclass(frozen=True)
class GuardSettings:
    database: Path
    mode: str = "observe"  # observe | enforce
    timezone: str = "UTC"
    stop_timeout: timedelta = timedelta(seconds=8)  # <= 10 s: systemd's TimeoutStopSec is 15 s

@dataclass(frozen=True)
class Account:
    name: str
    platform: str
    page_id: str
    token_env: str
    poll_every: timedelta = timedelta(minutes=5)
    api_base_url: str | None = None
    watch_days: int = 14
    graph_version: str = DEFAULT_GRAPH_VERSION
    monthly_read_budget: int | None = None  # X only: post reads per month
    confirm_every: timedelta = timedelta(hours=6)  # X only: re-check replies older than search

    def token(self) -> str:
        return read_secret(self.token_env, f"accounts.{self.name}.token_env")

    def connector_settings(self) -> ConnectorSettings:
        """Reads the token from the environment: the only place tokens are read for polling."""
        return ConnectorSettings(platform=self.platform, account_id=self.page_id,
                                 token=self.token(), base_url=self.api_base_url,
                                 graph_version=self.graph_version,
                                 monthly_read_budget=self.monthly_read_budget)

@dataclass(frozen=True)
class PolicySettings:
    reply_within: timedelta = timedelta(hours=2)
    escalate_after: timedelta = timedelta(hours=6)
    markers: tuple[str, ...] = ("correction", "update", "edit", "clarification")
    abuse_words: tuple[str, ...] = ()

@dataclass(frozen=True)
class SlackSettings:
    webhook_url_env: str
    escalation_webhook_url_env: str | None = None

@dataclass(frozen=True)
class EmailSettings:
    smtp_host: str
    from_addr: str
    to: tuple[str, ...]
    smtp_port: int = 587
    starttls: bool = True
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    escalation_to: tuple[str, ...] = ()
    timeout: float = 30.0

@dataclass(frozen=True)
class Route:
    """Which findings go to which channels: kinds ("*" = all) at or above a severity."""

    channels: tuple[str, ...]
    kinds: tuple[str, ...] = ("*",)
    min_severity: str = "info"

@dataclass(frozen=True)
class AlertSettings:
    slack: SlackSettings | None = None
    email: EmailSettings | None = None
    routes: tuple[Route, ...] = ()
    digest_at: str | None = None  # "HH:MM" local time; None = no daily digest
    max_backoff: timedelta = timedelta(minutes=30)
    reminder_after: timedelta | None = None  # default: policy.reply_within

@dataclass(frozen=True)
class Config:
    guard: GuardSettings
    accounts: tuple[Account, ...]
    policy: PolicySettings = PolicySettings()
    alerts: AlertSettings = AlertSettings()
    path: Path | None = None

    def account(self, name: str) -> Account:
        for acc in self.accounts:
            if acc.name == name:
                return acc
        known = ", ".join(a.name for a in self.accounts) or "none"
        raise ConfigError(f"no account named {name!r} in the config (accounts: {known})")

def read_secret(env_name: str, key: str) -> str:
    """Read a secret from the environment; the error names the variable, never a value."""
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise ConfigError(
            f"environment variable {env_name} (named by {key}) is not set; "
            f"export it before running, e.g. `export {env_name}=...`"
        )
    return value

def load_config(path: str | os.PathLike[str]) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {p} not found; create one with `comment-guard init` "
            "or pass --config PATH (or set COMMENT_GUARD_CONFIG)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    return parse_config(text, p)

def parse_config(text: str, path: Path | None = None) -> Config:
    where = str(path or "<config>")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    r = _Reader(raw, where, text)
    guard = r.section("guard", _guard, required=True)
    accounts_raw = r.take("accounts", list, required=True)
    accounts = tuple(
        _account(r.child(f"accounts[{i}]", item)) for i, item in enumerate(accounts_raw)
    )
    if not accounts:
        raise ConfigError(f"{where}: [[accounts]] is empty; add at least one account")
    names = [a.name for a in accounts]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(f"{where}: account name {sorted(dupes)[0]!r} is used twice; names must be unique")
    policy = r.section("policy", _policy) or PolicySettings()
    alerts = r.section("alerts", _alerts) or AlertSettings()
    r.finish()
    if path is not None and not guard.database.is_absolute():
        guard = GuardSettings(
            database=path.parent / guard.database, mode=guard.mode, timezone=guard.timezone,
            stop_timeout=guard.stop_timeout)
    return Config(guard=guard, accounts=accounts, policy=policy, alerts=alerts, path=path)

class _Reader:
    """Takes keys out of one TOML table, checking types; ``finish`` rejects leftovers."""

    def __init__(self, raw: dict[str, Any], where: str, text: str, prefix: str = "") -> None:
        self.raw = dict(raw)
        self.where = where
        self.text = text
        self.prefix = prefix

    def child(self, name: str, raw: Any) -> "_Reader":
        key = f"{self.prefix}{name}"
        if not isinstance(raw, dict):
            self.fail(name, f"{key} must be a table")
        return _Reader(raw, self.where, self.text, prefix=key + ".")

    def fail(self, key: str, message: str) -> None:
        leaf = key.rsplit(".", 1)[-1].split("[")[0]
        line = _line_of(self.text, leaf)
        loc = f"{self.where}:{line}" if line else self.where
        raise ConfigError(f"{loc}: {message}")

    def take(self, key: str, kind: type | tuple[type, ...], *, required: bool = False,
             default: Any = None) -> Any:
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

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None,
               required: bool = False) -> str:
        value = self.take(key, str, required=required, default=default)
        if value not in choices:
            self.fail(key, f"{self.prefix}{key} = {value!r} is not one of: {', '.join(choices)}")
        return value

    def section(self, key: str, build: Callable[["_Reader"], Any], required: bool = False) -> Any:
        raw = self.take(key, dict, required=required)
        if raw is None:
            return None
        return build(self.child(key, raw))

    def finish(self) -> None:
        if self.raw:
            key = sorted(self.raw)[0]
            self.fail(key, f"unknown key {self.prefix}{key}; check its spelling against config.example.toml")

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
               dict: "a table", float: "a number"}

def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\s*(=|\])", re.MULTILINE)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None

def _guard(r: _Reader) -> GuardSettings:
    out = GuardSettings(
        database=Path(r.take("database", str, default="comment-guard.db")),
        mode=r.choice("mode", ("observe", "enforce"), default="observe"),
        timezone=r.take("timezone", str, default="UTC"),
        stop_timeout=r.duration("stop_timeout", timedelta(seconds=8)),
    )
    r.finish()
    if out.stop_timeout > timedelta(seconds=10):
        r.fail("stop_timeout", "guard.stop_timeout must be at most 10s (systemd stops the "
                               "daemon after 15s)")
    try:
        ZoneInfo(out.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail("timezone", f"guard.timezone = {out.timezone!r} is not a known time zone; "
                           "use an IANA name such as \"America/Chicago\" or \"UTC\"")
    return out

def _account(r: _Reader) -> Account:
    name = r.take("name", str, required=True)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        r.fail("name", f"{r.prefix}name = {name!r}: use letters, digits, '-', '_' or '.'")
    platform = r.choice("platform", known_platforms(), required=True)
    page_id = r.take("page_id", (str, int), required=True)
    token_env = r.take("token_env", str, required=True)
    base = r.take("api_base_url", str, default="") or None
    if base and not re.match(r"https?://", base):
        r.fail("api_base_url", f"{r.prefix}api_base_url must start with http:// or https://")
    version = r.take("graph_version", str, default=DEFAULT_GRAPH_VERSION)
    if not re.fullmatch(r"v?\d+\.\d+", version):
        r.fail("graph_version", f"{r.prefix}graph_version = {version!r}; write it like \"v24.0\"")
    watch_days = r.take("watch_days", int, default=14)
    if watch_days < 1:
        r.fail("watch_days", f"{r.prefix}watch_days must be at least 1")
    budget = r.take("monthly_read_budget", int)
    if budget is not None and platform != "x":
        r.fail("monthly_read_budget", f"{r.prefix}monthly_read_budget only applies to platform \"x\"")
    out = Account(
        name=name,
        platform=platform,
        page_id=str(page_id),
        token_env=token_env,
        poll_every=r.duration("poll_every", timedelta(minutes=5)),
        api_base_url=base,
        watch_days=watch_days,
        graph_version=version if version.startswith("v") else "v" + version,
        monthly_read_budget=budget,
        confirm_every=r.duration("confirm_every", timedelta(hours=6)),
    )
    r.finish()
    return out

def _policy(r: _Reader) -> PolicySettings:
    d = PolicySettings()
    out = PolicySettings(
        reply_within=r.duration("reply_within", d.reply_within),
        escalate_after=r.duration("escalate_after", d.escalate_after),
        markers=tuple(m.lower() for m in r.strings("markers", d.markers)),
        abuse_words=r.strings("abuse_words", d.abuse_words),
    )
    r.finish()
    if out.escalate_after < out.reply_within:
        r.fail("escalate_after", "policy.escalate_after must not be shorter than policy.reply_within")
    return out

def _alerts(r: _Reader) -> AlertSettings:
    slack = r.section("slack", _slack)
    email = r.section("email", _email)
    routes_raw = r.take("routes", list, default=[])
    routes = tuple(_route(r.child(f"routes[{i}]", x)) for i, x in enumerate(routes_raw))
    digest_at = r.take("digest_at", str)
    if digest_at is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", digest_at):
        r.fail("digest_at", f"{r.prefix}digest_at = {digest_at!r}; write it like \"08:30\"")
    out = AlertSettings(
        slack=slack,
        email=email,
        routes=routes,
        digest_at=digest_at,
        max_backoff=r.duration("max_backoff", timedelta(minutes=30)),
        reminder_after=r.duration("reminder_after", None),
    )
    r.finish()
    configured = {c for c, s in (("slack", slack), ("email", email)) if s is not None}
    for route in routes:
        for ch in route.channels:
            if ch not in configured:
                r.fail("routes", f"alerts.routes names channel {ch!r}, but [alerts.{ch}] is not configured")
    return out

def _slack(r: _Reader) -> SlackSettings:
    out = SlackSettings(
        webhook_url_env=r.take("webhook_url_env", str, required=True),
        escalation_webhook_url_env=r.take("escalation_webhook_url_env", str),
    )
    r.finish()
    return out

def _email(r: _Reader) -> EmailSettings:
    port = r.take("smtp_port", int, default=587)
    if not 0 < port < 65536:
        r.fail("smtp_port", f"{r.prefix}smtp_port = {port} is not a TCP port")
    to = r.strings("to")
    if not to:
        r.fail("to", f"{r.prefix}to must list at least one address")
    out = EmailSettings(
        smtp_host=r.take("smtp_host", str, required=True),
        smtp_port=port,
        starttls=r.take("starttls", bool, default=True),
        ssl=r.take("ssl", bool, default=False),
        username_env=r.take("username_env", str),
        password_env=r.take("password_env", str),
        from_addr=r.take("from", str, required=True),
        to=to,
        escalation_to=r.strings("escalation_to"),
        timeout=float(r.take("timeout", (int, float), default=30.0)),
    )
    r.finish()
    if out.ssl and out.starttls:
        r.fail("ssl", f"{r.prefix}ssl and starttls are exclusive; set starttls = false with ssl = true")
    return out

def _route(r: _Reader) -> Route:
    out = Route(
        channels=r.strings("channels"),
        kinds=r.strings("kinds", ("*",)),
        min_severity=r.choice("min_severity", SEVERITIES, default="info"),
    )
    r.finish()
    if not out.channels:
        r.fail("channels", f"{r.prefix}channels must list at least one channel")
    return out

