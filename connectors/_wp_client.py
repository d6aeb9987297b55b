"""The HTTP side of the WordPress connector: one ``requests`` session speaking the REST API
(``/wp-json/``) with an application password, every request counted, every failure translated
into one ``guard.errors`` decision.

WordPress answers errors as ``{"code": "rest_...", "message": "...", "data": {"status": N}}``
(REST API handbook, "Global Parameters" and "Authentication"). What is not such a body (an
HTML error page, a security plugin's block page, a login redirect) is never taken as an answer
about a comment: it is ``Transient`` with a message saying what came back instead.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from guard.durations import format_duration
from guard.errors import (
    AuthExpired,
    ConnectorError,
    NotFound,
    PermissionMissing,
    RateLimited,
    Transient,
)

__all__ = ["WordPressClient", "WPResponse", "WPNotFound", "translate_error", "DEFAULT_RETRY_AFTER"]

DEFAULT_RETRY_AFTER = 300.0  # seconds, when a 429 or 503 gives no Retry-After
# Application-password failures (wp-includes/user.php wp_authenticate_application_password):
# the password or user is wrong, revoked, or application passwords are switched off.
AUTH_CODES = frozenset(
    {
        "incorrect_password",
        "invalid_username",
        "invalid_email",
        "application_passwords_disabled",
        "application_passwords_disabled_for_user",
        # What WordPress 6.1 answers users/me for a wrong or revoked application password (and
        # what any route answers when a proxy drops the Authorization header).
        "rest_not_logged_in",
    }
)
PROTECTED_CODE = "comment_guard_protected"  # deploy/wordpress/comment-guard.php
NOT_FOUND_CODES = frozenset({"rest_comment_invalid_id", "rest_post_invalid_id", "rest_user_invalid_id"})


class WPNotFound(NotFound):
    """``NotFound`` carrying WordPress's error code: only ``rest_comment_invalid_id`` on a
    comment id is evidence that the comment was deleted for good."""

    def __init__(self, message: str, *, wp_code: str, code: int | None = None) -> None:
        super().__init__(message, code=code)
        self.wp_code = wp_code


@dataclass(frozen=True)
class WPResponse:
    status: int
    body: Any
    headers: dict[str, str]

    def header_int(self, name: str) -> int | None:
        try:
            return int(self.headers.get(name.lower(), ""))
        except ValueError:
            return None


class WordPressClient:
    """One site, one user, one application password; counts requests in ``calls``."""

    def __init__(
        self,
        site_url: str,
        username: str,
        password: str,
        *,
        api_base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.api_base = (api_base_url or self.site_url + "/wp-json").rstrip("/") + "/"
        self.host = urlsplit(self.api_base).netloc or self.api_base
        self.username = username
        self.timeout = timeout
        self.calls = 0
        self.session = requests.Session()
        # WordPress accepts the password with or without the spaces it displays it with.
        self.session.auth = (username, password.replace(" ", ""))
        self.session.headers.update({"Accept": "application/json", "User-Agent": "comment-guard"})

    def get(self, route: str, **params: Any) -> WPResponse:
        return self.request("GET", route, params=params)

    def post(self, route: str, body: dict[str, Any], **params: Any) -> WPResponse:
        return self.request("POST", route, params=params, json=body)

    def delete(self, route: str, **params: Any) -> WPResponse:
        return self.request("DELETE", route, params=params)

    def request(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> WPResponse:
        """Call ``/wp-json/{route}``; a 2xx JSON answer or a raised ``ConnectorError``."""
        self.calls += 1
        try:
            # Never follow a redirect: a 301/302 replays a POST as a GET without its body (a
            # moderation that looks done and was not), and another host gets no password.
            r = self.session.request(
                method,
                self.api_base + route.lstrip("/"),
                params=params,
                json=json,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise Transient(f"WordPress at {self.host} did not answer within {self.timeout:g}s") from None
        except requests.RequestException as exc:
            raise Transient(f"cannot reach WordPress at {self.host}: {type(exc).__name__}") from None
        headers = {k.lower(): v for k, v in r.headers.items()}
        body = _json(r)
        if 200 <= r.status_code < 300 and body is not _NOT_JSON:
            return WPResponse(r.status_code, body, headers)
        notice = _php_message(r) if body is _NOT_JSON else None
        if notice is not None:
            raise Transient(
                f"WordPress at {self.host} answered HTTP {r.status_code} with a PHP message before "
                f'its JSON ("{notice}"): the site prints PHP messages into its answers; set '
                "WP_DEBUG_DISPLAY to false (and display_errors off) or fix that plugin or theme",
                code=r.status_code,
            )
        raise translate_error(r.status_code, body, headers, host=self.host, username=self.username)

    def close(self) -> None:
        self.session.close()


_NOT_JSON = object()


def _json(r: requests.Response) -> Any:
    if "json" not in r.headers.get("Content-Type", "").lower():
        return _NOT_JSON
    try:
        return r.json()
    except ValueError:
        return _NOT_JSON


# What PHP prints for a notice, warning or error when it displays them, with html_errors on
# ("<br />\n<b>Warning</b>:  text in <b>file</b> on line <b>N</b><br />") or off ("Warning: …").
_PHP_MESSAGE = re.compile(
    r"\A\s*(?:<br\s*/?>\s*)?(?:<b>)?(?:PHP )?"
    r"(Deprecated|Notice|Warning|Strict Standards|Fatal error|Parse error)"
    r"(?:</b>)?:\s+(.+?)(?:<br\s*/?>|\n|\Z)",
    re.S,
)


def _php_message(r: requests.Response) -> str | None:
    """The PHP message a body starts with (a plugin's notice printed before the REST API's
    JSON: WordPress/gutenberg#10476), on one line, or None."""
    m = _PHP_MESSAGE.match(r.content[:2048].decode("utf-8", "replace"))
    if m is None:
        return None
    text = " ".join(re.sub(r"<[^>]+>", "", m.group(2)).split())
    return f"{m.group(1)}: {html.unescape(text)}"[:240]


def translate_error(
    status: int, body: Any, headers: dict[str, str], *, host: str, username: str = "?"
) -> ConnectorError:
    """Map a WordPress answer that is not a 2xx JSON body to the decision the caller makes."""
    if 300 <= status < 400:
        where = " ".join((headers.get("location") or "an address it did not name").split())[:200]
        return ConnectorError(
            f"WordPress at {host} answered HTTP {status}, redirecting to {where}; comment-guard does not "
            "follow redirects. If the site moved, set site_url to its new address; if that is a login "
            "or block page, a security plugin is keeping /wp-json/ from this client",
            code=status,
        )
    if body is _NOT_JSON or not isinstance(body, dict) or "code" not in body:
        if status in (429, 503):
            return _throttled(status, headers, host, "")
        what = "a page that is not JSON (a login or maintenance page?)" if status == 200 else "an HTML page"
        return Transient(
            f"WordPress at {host} answered HTTP {status} with {what}, not the REST API: a security "
            "plugin, firewall or the host may be blocking /wp-json/ (allow it for this client), "
            "or the site is down",
            code=status,
        )
    code = str(body.get("code"))
    text = str(body.get("message") or "")[:300]
    tag = f"HTTP {status} {code}: {text}"
    if status in (429, 503):
        return _throttled(status, headers, host, f" ({tag})")
    if code == PROTECTED_CODE:  # the must-use plugin refused: say what it said
        return ConnectorError(f"WordPress at {host} refused: {html.unescape(text)}", code=status)
    if code in AUTH_CODES:
        return AuthExpired(
            f"WordPress at {host} rejected the application password of user {username!r} ({tag}); "
            "create a new one under Users > Profile > Application Passwords and export it again (if it "
            "is right, the server is dropping the Authorization header)",
            code=status,
        )
    if status in (401, 403):
        return PermissionMissing(
            f"user {username!r} may not do this on WordPress at {host} ({tag}); comment-guard needs "
            "the moderate_comments capability (the Editor or Administrator role). If the user has "
            "it, the server may be dropping the Authorization header before WordPress sees it",
            code=status,
        )
    if code in NOT_FOUND_CODES:
        return WPNotFound(f"WordPress at {host} says it does not exist ({tag})", wp_code=code, code=status)
    if status >= 500:
        return Transient(f"WordPress at {host} had a temporary error ({tag})", code=status)
    return ConnectorError(f"WordPress at {host} refused the request ({tag})", code=status)


def _throttled(status: int, headers: dict[str, str], host: str, tag: str) -> ConnectorError:
    wait = _retry_after(headers.get("retry-after"))
    if status == 503 and wait is None:
        return Transient(
            f"WordPress at {host} is unavailable (HTTP 503){tag}; retrying next poll", code=status
        )
    wait = wait or DEFAULT_RETRY_AFTER
    return RateLimited(
        f"WordPress at {host} is throttling requests (HTTP {status}){tag}; next try in "
        f"{format_duration(timedelta(seconds=wait))}",
        retry_after=wait,
        code=status,
    )


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    try:
        return max(1.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import datetime, timezone

        when = parsedate_to_datetime(value)
        return max(1.0, (when - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None
