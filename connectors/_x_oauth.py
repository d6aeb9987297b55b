"""X OAuth 2.0 (Authorization Code with PKCE): the sign-in URL, the code exchange, and the
refresh that keeps a user token alive past its 2 hours.

X access tokens expire after two hours; with ``offline.access`` the grant also carries a refresh
token, which X rotates on every refresh (the old one stops working at once). So a refreshed
grant must be written before the new access token is used: ``TokenStore.save`` replaces it
atomically, and a crash between the two leaves the new grant on disk, never a spent one. A save
that fails (a full disk) keeps the new grant in memory and every call fails until it is saved.
Only a process killed after X answered and before the save leaves the spent grant on disk: the
next refresh is refused and ``account-failing`` says to sign in again.

Endpoints (docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE"):
``https://x.com/i/oauth2/authorize`` (browser) and ``POST {api}/2/oauth2/token`` (form body;
a public client sends ``client_id``, a confidential one HTTP Basic). A refresh token that was
revoked or already used answers 400 ``invalid_request`` ("Value passed for the token was
invalid."): that is ``AuthExpired`` with the command that signs in again.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from connectors.base import TokenStore
from guard.errors import AuthExpired, ConfigError, Transient

__all__ = [
    "AUTHORIZE_URL",
    "SCOPES",
    "REFRESH_MARGIN",
    "PkceStart",
    "start_pkce",
    "code_from_redirect",
    "exchange_code",
    "XTokenKeeper",
]

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = "tweet.read users.read tweet.write tweet.moderate.write offline.access"
REFRESH_MARGIN = timedelta(minutes=10)  # refresh this long before the access token expires
# X answers 401 unauthorized_client ("Missing valid authorization header") to a confidential
# client (Web App, Automated App) that sends no secret; comment-guard signs in as a public one.
APP_TYPE_REFUSED = (
    "X refused the app's client id ({detail}): the X app is set up as a confidential client; "
    "in the X developer portal set its type to Native App (public client), then run "
    "`comment-guard auth x` again"
)


class PkceStart:
    """One sign-in attempt: the URL to open, and what the redirect must bring back."""

    def __init__(self, client_id: str, redirect_uri: str, scopes: str = SCOPES) -> None:
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.verifier = secrets.token_urlsafe(64)[:128]
        self.state = secrets.token_urlsafe(24)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=")
        self.url = (
            AUTHORIZE_URL
            + "?"
            + urlencode(
                {
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "scope": scopes,
                    "state": self.state,
                    "code_challenge": challenge.decode(),
                    "code_challenge_method": "S256",
                }
            )
        )


def start_pkce(client_id: str, redirect_uri: str) -> PkceStart:
    return PkceStart(client_id, redirect_uri)


def code_from_redirect(pasted: str, state: str) -> str:
    """The ``code`` from the redirect URL the browser landed on; ConfigError (one line) for
    anything else: a different sign-in's state, a refusal, or not a URL at all."""
    query = parse_qs(urlsplit(pasted.strip()).query)
    if query.get("error"):
        raise ConfigError(f"X did not grant access ({query['error'][0]}); run the command again")
    if not query.get("code"):
        raise ConfigError("that is not the redirect URL (no code= in it); paste the whole address")
    if query.get("state", [""])[0] != state:
        raise ConfigError(
            "the redirect URL belongs to another sign-in (state differs); run the command again"
        )
    return query["code"][0]


def exchange_code(
    api_base: str, start: PkceStart, code: str, *, now: datetime, timeout: float = 30.0
) -> dict[str, str]:
    """Trade the code (and the PKCE verifier) for the first grant."""
    body = _token_call(
        api_base,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": start.redirect_uri,
            "code_verifier": start.verifier,
            "client_id": start.client_id,
        },
        timeout,
        refused="X refused the sign-in code ({detail}); run the command again (codes work once, briefly)",
    )
    return _grant(body, start.client_id, now)


class XTokenKeeper:
    """The access token the X client sends, refreshed through ``store`` before it expires."""

    def __init__(
        self, store: TokenStore, api_base: str, clock: Callable[[], datetime], *, timeout: float = 30.0
    ) -> None:
        self.store = store
        self.api_base = api_base
        self._clock = clock
        self._timeout = timeout
        self.refreshes = 0
        # A grant X issued that could not be saved: the one on disk is spent from then on
        self._unsaved: dict[str, str] | None = None

    def access_token(self, *, renew: bool = False) -> str:
        """A token valid for at least ``REFRESH_MARGIN``; refreshes (and saves) when needed.
        ``renew``: X refused the current one, whatever our clock says of it: refresh now."""
        if self._unsaved is not None:
            self.store.save(self._unsaved)  # still failing (a full disk): this call fails with it
            self._unsaved = None
        grant = self.store.load()
        if not grant or not grant.get("refresh_token"):
            raise AuthExpired(
                "no X sign-in is stored for this account; run `comment-guard auth x --account NAME`"
            )
        if not renew and _expires(grant) - REFRESH_MARGIN > self._clock():
            return grant["access_token"]
        return self.refresh(grant)["access_token"]

    def refresh(self, grant: Mapping[str, str]) -> dict[str, str]:
        try:
            return self._refresh(grant)
        except AuthExpired:
            # Another process (`check --live`, `reply` beside the daemon) may have refreshed
            # the same grant a moment before us: X then refuses ours as spent while the grant it
            # saved is good. Only a refusal of the grant now on disk means the sign-in is gone.
            stored = self.store.load()
            rotated = (stored or {}).get("refresh_token")
            if not stored or not rotated or rotated == grant["refresh_token"]:
                raise
            if _expires(stored) - REFRESH_MARGIN > self._clock():
                return stored
            return self._refresh(stored)

    def _refresh(self, grant: Mapping[str, str]) -> dict[str, str]:
        account = grant.get("account") or "NAME"
        body = _token_call(
            self.api_base,
            {
                "grant_type": "refresh_token",
                "refresh_token": grant["refresh_token"],
                "client_id": grant.get("client_id", ""),
            },
            self._timeout,
            refused=(
                "X refused the stored refresh token ({detail}): it was revoked or already used; "
                f"run `comment-guard auth x --account {account}` to sign in again"
            ),
        )
        new = _grant(body, grant.get("client_id", ""), self._clock())
        new["account"] = account
        if "refresh_token" not in new:  # X rotates it; if it ever does not, the old one stays good
            new["refresh_token"] = grant["refresh_token"]
        try:
            self.store.save(new)  # before the new token is used: the old refresh token is spent now
        except ConfigError:
            self._unsaved = new  # the only good grant: saved by the next call that can
            raise
        self.refreshes += 1
        return new


def _token_call(api_base: str, form: dict[str, str], timeout: float, *, refused: str) -> dict[str, Any]:
    url = api_base.rstrip("/") + "/2/oauth2/token"
    try:
        response = requests.post(url, data=form, timeout=timeout)
    except requests.Timeout:
        raise Transient("X token endpoint timed out; the next poll tries again") from None
    except requests.RequestException as exc:
        raise Transient(f"cannot reach the X token endpoint: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in (400, 401) and isinstance(body, dict):
        detail = str(body.get("error_description") or body.get("error") or "no details")[:200]
        if body.get("error") == "unauthorized_client":  # the app, not the grant: no retry helps
            raise AuthExpired(APP_TYPE_REFUSED.format(detail=detail), code=response.status_code)
        raise AuthExpired(refused.format(detail=detail), code=response.status_code)
    if response.status_code >= 300 or not isinstance(body, dict) or not body.get("access_token"):
        raise Transient(
            f"X token endpoint answered HTTP {response.status_code} without a token; try again later"
        )
    return body


def _grant(body: Mapping[str, Any], client_id: str, now: datetime) -> dict[str, str]:
    expires = now + timedelta(seconds=float(body.get("expires_in") or 7200))
    grant = {
        "client_id": client_id,
        "access_token": str(body["access_token"]),
        "expires_at": expires.astimezone(timezone.utc).isoformat(),
        "scope": str(body.get("scope") or ""),
    }
    if body.get("refresh_token"):
        grant["refresh_token"] = str(body["refresh_token"])
    return grant


def _expires(grant: Mapping[str, str]) -> datetime:
    try:
        moment = datetime.fromisoformat(grant.get("expires_at") or "")
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)  # unknown: refresh now
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
