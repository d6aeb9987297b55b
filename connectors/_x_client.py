"""The HTTP side of the X connector: a tweepy Client with a configurable host, and the
translation of tweepy's exceptions into ``guard.errors`` decisions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import requests
import tweepy

from connectors.graph import unexpected_body
from guard.errors import (
    AuthExpired,
    ConnectorError,
    NotFound,
    PermissionMissing,
    RateLimited,
    Transient,
)

__all__ = ["XClient", "X_API_BASE", "translate_tweepy_error", "problem_name"]

X_API_BASE = "https://api.x.com"  # tweepy 4.17 hard-codes https://api.twitter.com; both serve v2
DEFAULT_RETRY_AFTER = 15 * 60.0  # X rate-limit windows are 15 minutes
BILLING_RETRY_AFTER = 60 * 60.0  # credits depleted / usage cap: check back hourly
_STATUS_ERRORS: dict[int, type[tweepy.HTTPException]] = {
    400: tweepy.BadRequest,
    401: tweepy.Unauthorized,
    403: tweepy.Forbidden,
    404: tweepy.NotFound,
}


class XClient(tweepy.Client):
    """``tweepy.Client`` speaking Bearer auth to a configurable host, with a timeout.

    tweepy 4.17 hard-codes ``https://api.twitter.com`` inside ``request`` and logs the request
    headers (the Bearer token) at DEBUG, so we replace ``request`` only: every endpoint method,
    parameter handling and tweepy's exception classes stay as tweepy defines them. OAuth 1.0a is
    not supported (``user_auth`` must be False): pass an OAuth 2.0 token as ``bearer_token``.
    """

    def __init__(self, bearer_token: str, *, base_url: str = X_API_BASE, timeout: float = 30.0) -> None:
        super().__init__(bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.calls = 0

    def request(
        self,
        method: str,
        route: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        user_auth: bool = False,
    ) -> requests.Response:
        if user_auth:
            raise TypeError("XClient uses OAuth 2.0 bearer tokens only; call with user_auth=False")
        headers = {"User-Agent": self.user_agent, "Authorization": f"Bearer {self.bearer_token}"}
        self.calls += 1
        with self.session.request(
            method, self.base_url + route, params=params, json=json, headers=headers, timeout=self.timeout
        ) as response:
            status = response.status_code
            # A proxy's empty 502, an HTML page or a JSON list is not X's: say what came back
            # (tweepy would raise AttributeError/JSONDecodeError on it). Error statuses keep
            # their meaning (401 is still a rejected token) with the body left unread.
            problem = unexpected_body(response, "X API")
            if problem is not None and (status >= 500 or 200 <= status < 300):
                raise Transient(problem)
            body: dict[str, Any] = {"response_json": {}} if problem is not None else {}
            if status == 429:  # never sleep here: the poller reschedules at the reset time
                reset = response.headers.get("x-rate-limit-reset")
                raise tweepy.TooManyRequests(
                    response, reset_time=int(reset) if reset and reset.isdigit() else None, **body
                )
            if status in _STATUS_ERRORS:
                raise _STATUS_ERRORS[status](response, **body)
            if status >= 500:
                raise tweepy.TwitterServerError(response, **body)
            if not 200 <= status < 300:
                raise tweepy.HTTPException(response, **body)
            return response


def translate_tweepy_error(exc: tweepy.TweepyException, scopes: str, now: datetime) -> ConnectorError:
    """Map a tweepy exception to the decision the caller has to make."""
    if not isinstance(exc, tweepy.HTTPException):
        return ConnectorError(f"X API client error: {type(exc).__name__}")
    status = exc.response.status_code
    kind, text = _problem(exc.response)
    if status == 402 or problem_name(kind) in ("credits-depleted", "usage-capped"):
        # Not healed by the 15-minute window: someone has to top up or wait for the cap period.
        return RateLimited(
            f"X refuses reads until the account's API credits or usage cap allow "
            f"them (HTTP {status}: {text}); top up in the X developer console",
            retry_after=BILLING_RETRY_AFTER,
            code=status,
        )
    if isinstance(exc, tweepy.TooManyRequests):
        if exc.reset_time is None:
            return RateLimited(
                f"rate limited by the X API ({text}); no reset time given",
                retry_after=DEFAULT_RETRY_AFTER,
                code=status,
            )
        reset = datetime.fromtimestamp(exc.reset_time, timezone.utc)
        return RateLimited(
            f"rate limited by the X API until {reset:%H:%M:%S} UTC",
            retry_after=max(1.0, exc.reset_time - now.timestamp()),
            code=status,
        )
    if isinstance(exc, tweepy.Unauthorized):
        return AuthExpired(
            f"X rejected the token (HTTP 401: {text}); OAuth 2.0 user tokens "
            "expire after 2 hours: issue or refresh one and export it again",
            code=status,
        )
    if isinstance(exc, tweepy.Forbidden):
        return PermissionMissing(
            f"X refused the request (HTTP 403: {text}); the token needs the "
            f"{scopes} scopes and the app must belong to a Project",
            code=status,
        )
    if isinstance(exc, tweepy.NotFound):
        return NotFound(f"X says the object does not exist (HTTP 404: {text})", code=status)
    if isinstance(exc, tweepy.TwitterServerError):
        return Transient(f"X API temporary error (HTTP {status}: {text})", code=status)
    return ConnectorError(f"X API error (HTTP {status}: {text})", code=status)


def problem_name(kind: object) -> str:
    """The problem type's last path segment: X has served the same problems under
    ``https://api.twitter.com/2/problems/`` and ``https://api.x.com/2/problems/``."""
    return str(kind or "").rstrip("/").rsplit("/", 1)[-1]


def _problem(response: requests.Response) -> tuple[str, str]:
    """(problem type, human detail) from an X error body, v2 problem or v1-style errors[]."""
    try:
        body = response.json()
    except ValueError:
        return "", response.reason or "no details"
    if not isinstance(body, dict):
        return "", "no details"
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    if isinstance(first, str):
        return "", first[:300]
    if not isinstance(first, dict):
        first = {}
    detail = body.get("detail") or first.get("message") or first.get("detail")
    kind = str(body.get("type") or first.get("type") or "")
    return kind, str(detail or body.get("title") or "no details")[:300]
