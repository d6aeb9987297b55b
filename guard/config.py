"""The TOML config contract, validated into frozen dataclasses.

Every problem becomes one ``ConfigError`` line naming the file, the line where we can find it,
the key, what is wrong and how to fix it. Secrets are never in the file: keys ending in ``_env``
name environment variables, read only when a command needs them, and never printed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.registry import known_platforms
from guard import DEFAULT_CONFIG_PATH
from guard.alerts.channels import parse_channels
from guard.config_reader import Reader as _Reader
from guard.config_reader import read_secret
from guard.errors import ConfigError
from guard.states import Mode, Severity
from guard.token_store import FileTokenStore, token_file

if TYPE_CHECKING:  # built only where a connector starts (polling), not for every command
    from connectors.base import ConnectorSettings

__all__ = [
    "ACCOUNT_NAME",
    "ACCOUNT_NAME_RULE",
    "Config",
    "GuardSettings",
    "Account",
    "PolicySettings",
    "AlertSettings",
    "WebSettings",
    "WebhookSettings",
    "Route",
    "load_config",
    "parse_config",
    "read_secret",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_GRAPH_VERSION",
]

DEFAULT_GRAPH_VERSION = "v24.0"
MAX_WATCH_DAYS = 3650


@dataclass(frozen=True)
class GuardSettings:
    database: Path
    mode: Mode = Mode.OBSERVE
    timezone: str = "UTC"
    stop_timeout: timedelta = timedelta(seconds=8)  # <= 10 s: systemd's TimeoutStopSec is 15 s
    failing_after: int = 3  # consecutive failed polls that open account-failing
    # Files the daemon keeps besides the archive (X refresh tokens, mode 0600); default: the
    # database's directory
    state_dir: Path | None = None


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
    protect: str | None = None  # overrides [policy] protect for this account ("critical" | "all")
    site_url: str | None = None  # WordPress: the blog's address (https://, or http:// on loopback)
    username: str | None = None  # WordPress: the user whose application password is in token_env
    # X: the OAuth grant `comment-guard auth x` stores (under [guard] state_dir); when it exists
    # the connector refreshes the token itself and token_env may be left unset
    token_file: Path | None = None

    def signed_in(self) -> bool:
        return self.token_file is not None and self.token_file.exists()

    def token(self) -> str:
        if self.signed_in() and not os.environ.get(self.token_env):
            return ""  # the grant file holds the token
        key = "password_env" if self.platform == "wordpress" else "token_env"
        return read_secret(self.token_env, f"accounts.{self.name}.{key}")

    def connector_settings(self) -> ConnectorSettings:
        """Reads the token from the environment: the only place tokens are read for polling."""
        from connectors.base import ConnectorSettings

        return ConnectorSettings(
            platform=self.platform,
            account_id=self.page_id,
            token=self.token(),
            base_url=self.api_base_url,
            graph_version=self.graph_version,
            monthly_read_budget=self.monthly_read_budget,
            site_url=self.site_url,
            username=self.username,
            token_store=FileTokenStore(self.token_file) if self.token_file and self.signed_in() else None,
        )


@dataclass(frozen=True)
class PolicySettings:
    reply_within: timedelta = timedelta(hours=2)
    escalate_after: timedelta = timedelta(hours=6)
    markers: tuple[str, ...] = ("correction", "update", "edit", "clarification")
    abuse_words: tuple[str, ...] = ()
    # "critical": protect comments the classifier finds critical; "all": every comment that is
    # not spam, abuse or the page's own (public bodies: deleting any of them is a legal risk)
    protect: str = "critical"


@dataclass(frozen=True)
class Route:
    """Which findings go to which channels: kinds ("*" = all) at or above a severity, on these
    accounts ("*" = all: one team per page)."""

    channels: tuple[str, ...]
    kinds: tuple[str, ...] = ("*",)
    min_severity: str = "info"
    accounts: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class AlertSettings:
    # [alerts.NAME] tables by channel name, in registry order (guard.alerts.channels); each value
    # is that channel's own settings dataclass, e.g. channels["slack"].webhook_url_env
    channels: Mapping[str, Any] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    digest_at: str | None = None  # "HH:MM" local time; None = no daily digest
    max_backoff: timedelta = timedelta(minutes=30)
    reminder_after: timedelta | None = None  # default: policy.reply_within
    # [web] base_url, copied here at load: alerts link to the finding's page under it
    finding_base_url: str | None = None
    timezone: str = "UTC"  # [guard] timezone: the local time alerts show


@dataclass(frozen=True)
class WebSettings:
    """``[web]``: the read-only staff page (``comment-guard serve``)."""

    base_url: str | None = None  # where staff reach the page; alerts link to findings under it
    host: str = "127.0.0.1"  # any other address needs password_env
    port: int = 8001
    username: str = "staff"
    password_env: str | None = None  # names a variable holding the password (or a pbkdf2 hash)


@dataclass(frozen=True)
class WebhookSettings:
    """``[webhooks]``: the receiver for Meta's signed Page/Instagram change notifications."""

    listen: str = "127.0.0.1:8787"  # host:port; HTTPS is the reverse proxy's job
    app_secret_env: str = "META_APP_SECRET"  # signs every POST (X-Hub-Signature-256)
    verify_token_env: str = "META_VERIFY_TOKEN"  # answers the subscription handshake
    max_body: int = 256 * 1024  # bytes; bigger bodies are refused with 413
    coalesce: timedelta = timedelta(seconds=1)  # events for one post within this make one scan

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


@dataclass(frozen=True)
class Config:
    guard: GuardSettings
    accounts: tuple[Account, ...]
    policy: PolicySettings = PolicySettings()
    alerts: AlertSettings = AlertSettings()
    path: Path | None = None
    web: WebSettings = WebSettings()
    webhooks: WebhookSettings | None = None  # None: no [webhooks] table, no receiver

    @property
    def state_dir(self) -> Path:
        """Where the daemon keeps its own files (``[guard] state_dir``, else the database's directory)."""
        return self.guard.state_dir or self.guard.database.parent

    def account(self, name: str) -> Account:
        for acc in self.accounts:
            if acc.name == name:
                return acc
        known = ", ".join(a.name for a in self.accounts) or "none"
        raise ConfigError(f"no account named {name!r} in the config (accounts: {known})")


def load_config(path: str | os.PathLike[str]) -> Config:
    p = Path(path)
    try:
        with p.open("rb") as handle:
            raw = handle.read(_MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {p} not found; create one with `comment-guard init` "
            "or pass --config PATH (or set COMMENT_GUARD_CONFIG)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    if len(raw) > _MAX_CONFIG_BYTES:  # /dev/zero, a log file: never read it all into memory
        raise ConfigError(
            f"{p} is larger than {_MAX_CONFIG_BYTES // 1024} KiB: not a config file; check --config"
        )
    return parse_config(_decode(p, raw), p)


_MAX_CONFIG_BYTES = 1024 * 1024


def _decode(p: Path, raw: bytes) -> str:
    """The file as UTF-8 text (a UTF-8 byte-order mark is fine); anything else is one line."""
    if raw.startswith(b"SQLite format 3\x00"):
        raise ConfigError(
            f"{p} is a SQLite database (the archive?), not a config; pass the .toml file to --config"
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{p}: the file is UTF-16; save it as UTF-8 (TOML files are UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{p}:{line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def parse_config(text: str, path: Path | None = None) -> Config:
    where = str(path or "<config>")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    r = _Reader(raw, where, text)
    guard = r.section("guard", _guard, required=True)
    accounts_raw = r.take("accounts", list, required=True)
    accounts = tuple(_account(r.child(f"accounts[{i}]", item)) for i, item in enumerate(accounts_raw))
    if not accounts:
        raise ConfigError(f"{where}: [[accounts]] is empty; add at least one account")
    names = [a.name for a in accounts]
    pages: dict[tuple[str, str], str] = {}
    for i, a in enumerate(accounts):
        block = r.child(f"accounts[{i}]", {})  # the repeat's own block names the line
        if a.name in names[:i]:
            block.fail("name", f"account name {a.name!r} is used twice; names must be unique")
        other = pages.setdefault((a.platform, a.page_id), a.name)
        if other != a.name:
            block.fail(
                "page_id",
                f"accounts {other!r} and {a.name!r} both watch {a.platform} page {a.page_id}; "
                "one page is one account (remove one of them)",
            )
    policy = r.section("policy", _policy) or PolicySettings()
    alerts = dataclasses.replace(r.section("alerts", _alerts) or AlertSettings(), timezone=guard.timezone)
    for i, route in enumerate(alerts.routes):
        unknown = [a for a in route.accounts if a != "*" and a not in names]
        if unknown:
            raise ConfigError(
                f"{where}: alerts.routes[{i}].accounts names {unknown[0]!r}, but no [[accounts]] block "
                f"has that name; accounts: {', '.join(names)}"
            )
    web = r.section("web", _web) or WebSettings()
    if web.base_url:
        alerts = dataclasses.replace(alerts, finding_base_url=web.base_url)
    webhooks = r.section("webhooks", _webhooks)
    r.finish()
    if path is not None and not guard.database.is_absolute():
        guard = dataclasses.replace(guard, database=path.parent / guard.database)
    if guard.database.is_dir():  # "", "." or a folder: SQLite can open none of them
        r.fail(
            "database",
            f"guard.database must name the archive file, not the directory {str(guard.database)!r}; "
            'e.g. database = "comment-guard.db"',
        )
    if path is not None and guard.state_dir is not None and not guard.state_dir.is_absolute():
        guard = dataclasses.replace(guard, state_dir=path.parent / guard.state_dir)
    state_dir = guard.state_dir or guard.database.parent
    accounts = tuple(
        dataclasses.replace(a, token_file=token_file(state_dir, a.name)) if a.platform == "x" else a
        for a in accounts
    )
    return Config(
        guard=guard, accounts=accounts, policy=policy, alerts=alerts, path=path, web=web, webhooks=webhooks
    )


def _guard(r: _Reader) -> GuardSettings:
    out = GuardSettings(
        database=Path(r.take("database", str, default="comment-guard.db")),
        mode=Mode(r.choice("mode", tuple(Mode), default="observe")),
        timezone=r.take("timezone", str, default="UTC"),
        stop_timeout=r.duration("stop_timeout", timedelta(seconds=8)),
        failing_after=r.take("failing_after", int, default=3),
        state_dir=Path(r.take("state_dir", str)) if "state_dir" in r.raw else None,
    )
    r.finish()
    if not 1 <= out.failing_after <= 10_000:
        r.fail("failing_after", "guard.failing_after must be between 1 and 10000 (consecutive failed polls)")
    if out.stop_timeout > timedelta(seconds=10):
        r.fail("stop_timeout", "guard.stop_timeout must be at most 10s (systemd stops the daemon after 15s)")
    try:
        ZoneInfo(out.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail(
            "timezone",
            f"guard.timezone = {out.timezone!r} is not a known time zone; "
            'use an IANA name such as "America/Chicago" or "UTC"',
        )
    return out


ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # also what `accounts rename` may rename to
ACCOUNT_NAME_RULE = "use letters, digits, '-', '_' or '.'"


def _account(r: _Reader) -> Account:
    name = r.take("name", str, required=True)
    if not ACCOUNT_NAME.fullmatch(name):
        r.fail("name", f"{r.prefix}name = {name!r}: {ACCOUNT_NAME_RULE}")
    platform = r.choice("platform", known_platforms(), required=True)
    site_url, username, password_env = _wordpress_keys(r, platform)
    page_id = r.take("page_id", (str, int), required=site_url is None)
    if site_url is None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(page_id)):
        r.fail(
            "page_id",
            f"{r.prefix}page_id = {page_id!r}: a page, account or user id is digits (a Facebook "
            "page may also go by its username: letters, digits and '.')",
        )
    if site_url is not None and not page_id:
        from connectors.wordpress import site_key  # a WordPress site only: requests is heavy

        page_id = site_key(site_url or "")
    token_env = password_env or r.take("token_env", str, required=True)
    base = r.take("api_base_url", str, default="") or None
    if base and not re.match(r"https?://", base):
        r.fail("api_base_url", f"{r.prefix}api_base_url must start with http:// or https://")
    version = r.take("graph_version", str, default=DEFAULT_GRAPH_VERSION)
    if not re.fullmatch(r"v?\d+\.\d+", version):
        r.fail("graph_version", f'{r.prefix}graph_version = {version!r}; write it like "v24.0"')
    watch_days = r.take("watch_days", int, default=14)
    if not 1 <= watch_days <= MAX_WATCH_DAYS:
        r.fail("watch_days", f"{r.prefix}watch_days must be between 1 and {MAX_WATCH_DAYS} (ten years)")
    budget = r.take("monthly_read_budget", int)
    if budget is not None and platform != "x":
        r.fail("monthly_read_budget", f'{r.prefix}monthly_read_budget only applies to platform "x"')
    if budget is not None and budget < 1:  # the account would never be read
        r.fail("monthly_read_budget", f"{r.prefix}monthly_read_budget must be at least 1 (reads a month)")
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
        site_url=site_url,
        username=username,
        protect=_protect(r, None),
    )
    r.finish()
    return out


_LOOPBACK = re.compile(r"http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)", re.I)


def _wordpress_keys(r: _Reader, platform: str) -> tuple[str | None, str | None, str | None]:
    """site_url, username and password_env: required for WordPress, refused elsewhere."""
    if platform != "wordpress":
        for key in ("site_url", "username", "password_env"):
            if key in r.raw:
                r.fail(key, f'{r.prefix}{key} only applies to platform "wordpress"')
        return None, None, None
    if "token_env" in r.raw:
        r.fail(
            "token_env",
            f"{r.prefix}token_env: a WordPress account names its application password with password_env",
        )
    site_url = r.take("site_url", str, required=True).strip().rstrip("/")
    if not re.match(r"https?://[^/\s]+", site_url):
        r.fail(
            "site_url",
            f"{r.prefix}site_url = {site_url!r}; write the blog's address, like https://blog.example.org",
        )
    if site_url.lower().startswith("http://") and not _LOOPBACK.match(site_url):
        r.fail(
            "site_url",
            f"{r.prefix}site_url must start with https://: WordPress refuses application passwords over "
            "plain http:// (except for a local site on 127.0.0.1 or localhost)",
        )
    username = r.take("username", str, required=True)
    password_env = r.take("password_env", str, required=True)
    return site_url, username, password_env


_Default = TypeVar("_Default", str, None)


def _protect(r: _Reader, default: _Default) -> str | _Default:
    """``protect`` when the table sets it, else ``default``. The policies' choices are loaded only
    then: every command reads the config, few need the policies (start-up)."""
    if "protect" not in r.raw:
        return default
    from policies.records import PROTECT_CHOICES

    return r.choice("protect", PROTECT_CHOICES)


def _policy(r: _Reader) -> PolicySettings:
    d = PolicySettings()
    out = PolicySettings(
        reply_within=r.duration("reply_within", d.reply_within),
        escalate_after=r.duration("escalate_after", d.escalate_after),
        markers=tuple(m.lower() for m in r.strings("markers", d.markers)),
        abuse_words=r.strings("abuse_words", d.abuse_words),
        protect=_protect(r, d.protect),
    )
    r.finish()
    if out.escalate_after < out.reply_within:
        r.fail("escalate_after", "policy.escalate_after must not be shorter than policy.reply_within")
    if any(not m.strip() for m in out.markers):  # it would match before any ':' or '-'
        r.fail("markers", "policy.markers has a blank entry, which every ':' or '-' would match; remove it")
    return out


def _alerts(r: _Reader) -> AlertSettings:
    channels = parse_channels(r)  # each registered channel reads its own [alerts.NAME] table
    routes_raw = r.take("routes", list, default=[])
    routes = tuple(_route(r.child(f"routes[{i}]", x)) for i, x in enumerate(routes_raw))
    digest_at = r.take("digest_at", str)
    if digest_at is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", digest_at):
        r.fail("digest_at", f'{r.prefix}digest_at = {digest_at!r}; write it like "08:30"')
    out = AlertSettings(
        channels=channels,
        routes=routes,
        digest_at=digest_at,
        max_backoff=r.duration("max_backoff", timedelta(minutes=30)),
        reminder_after=r.duration("reminder_after", None),
    )
    r.finish()
    for route in routes:
        for ch in route.channels:
            if ch not in channels:
                r.fail("routes", f"alerts.routes names channel {ch!r}, but [alerts.{ch}] is not configured")
    return out


def _route(r: _Reader) -> Route:
    out = Route(
        channels=r.strings("channels"),
        kinds=r.strings("kinds", ("*",)),
        min_severity=r.choice("min_severity", tuple(Severity), default="info"),
        accounts=r.strings("accounts", ("*",)),
    )
    r.finish()
    if not out.channels:
        r.fail("channels", f"{r.prefix}channels must list at least one channel")
    return out


def _web(r: _Reader) -> WebSettings:
    base_url = r.take("base_url", str)
    if base_url is not None and not re.match(r"https?://[^/\s]+", base_url):
        r.fail(
            "base_url",
            f"web.base_url = {base_url!r}; write the page's address, like https://guard.example.org",
        )
    out = WebSettings(
        base_url=base_url.rstrip("/") if base_url else None,
        host=r.take("host", str, default="127.0.0.1"),
        port=r.take("port", int, default=8001),
        username=r.take("username", str, default="staff"),
        password_env=r.take("password_env", str),
    )
    r.finish()
    if not 0 <= out.port <= 65535:
        r.fail("port", f"web.port = {out.port}; use a port between 1 and 65535 (0 picks a free one)")
    if not out.username.strip() or "_password_hash" in out.username:
        r.fail("username", "web.username must be a plain name, like staff")
    return out


def _webhooks(r: _Reader) -> WebhookSettings:
    d = WebhookSettings()
    out = WebhookSettings(
        listen=r.take("listen", str, default=d.listen),
        app_secret_env=r.take("app_secret_env", str, default=d.app_secret_env),
        verify_token_env=r.take("verify_token_env", str, default=d.verify_token_env),
        max_body=r.take("max_body", int, default=d.max_body),
        coalesce=r.duration("coalesce", d.coalesce),
    )
    r.finish()
    match = re.fullmatch(r"(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})", out.listen)
    if match is None or int(match.group(2)) > 65535:
        r.fail("listen", f'webhooks.listen = {out.listen!r}; write host:port, like "127.0.0.1:8787"')
    if not 1024 <= out.max_body <= 16 * 1024 * 1024:
        r.fail("max_body", "webhooks.max_body must be between 1024 and 16777216 bytes")
    if out.coalesce > timedelta(minutes=1):
        r.fail("coalesce", "webhooks.coalesce must be at most 1m (Meta expects changes to be seen quickly)")
    return out
