"""Meta Graph API plumbing shared by the Facebook and Instagram connectors.

Built on python-facebook-api (``pyfacebook``): its ``GraphAPI`` knows current Graph versions
(v19+) and does token/appsecret handling. We add what the archive's promises need: every call
counted, every failure translated into one ``guard.errors`` type (so a throttled or failed read
can never look like a deletion), retry-after read from the usage headers, and the one
deletion rule both platforms share (``confirm_gone``).

Real traffic is not always Graph's: a proxy's 502 with an empty body and no Content-Type, an
HTML error page or a JSON list would make pyfacebook raise ``KeyError``/``AttributeError``.
Every response is checked before pyfacebook parses it, and anything that is not a JSON object
is ``Transient`` with a line saying what came back; ``page_items`` does the same for the
``data`` list of an edge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from urllib.parse import parse_qsl, urlsplit

import requests
import structlog
from pyfacebook import GraphAPI
from pyfacebook.exceptions import FacebookError, LibraryError
from pyfacebook.ratelimit import RateLimit

from connectors.base import GoneStatus, GoneTarget, TokenLifetime
from guard.durations import format_duration
from guard.errors import (
    AuthExpired,
    ConnectorError,
    NotFound,
    PermissionMissing,
    RateLimited,
    Transient,
)

__all__ = [
    "GraphClient",
    "translate_error",
    "retry_after_from_headers",
    "graph_confirm_gone",
    "next_page_params",
    "PageKey",
    "normalize_time",
    "page_items",
    "unexpected_body",
    "ScopeNeed",
    "read_token_lifetime",
    "token_lines",
    "EXPIRY_WARNING",
]

log = structlog.get_logger("connectors.graph")

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613} | set(range(80000, 80015)))
AUTH_CODES = frozenset({102, 190})
TRANSIENT_CODES = frozenset({1, 2})
DEFAULT_RETRY_AFTER = 300.0  # seconds, when a throttle gives no hint


class _TolerantRateLimit(RateLimit):
    """pyfacebook parses usage headers into strict dataclasses; an unknown field Meta adds
    tomorrow would raise inside every request. We read the headers ourselves, so parse leniently."""

    def set_limit(self, headers: Any) -> None:
        try:
            super().set_limit(headers)
        except (TypeError, KeyError, ValueError, AttributeError):
            pass


class GraphClient:
    """One token, one Graph version, one base URL; counts requests in ``calls``."""

    def __init__(
        self,
        token: str,
        *,
        version: str,
        base_url: str | None = None,
        default_base: str = "https://graph.facebook.com/",
        timeout: float = 30.0,
    ) -> None:
        base = (base_url or default_base).rstrip("/") + "/"
        self.api = GraphAPI(
            access_token=token, version=version, base_url=base, timeout=timeout, sleep_on_rate_limit=False
        )
        self.api.rate_limit = _TolerantRateLimit()
        self.api.session.hooks["response"].append(self._on_response)
        self.calls = 0
        self._last: requests.Response | None = None

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        self._last = response
        problem = unexpected_body(response, "Graph API")
        if problem is not None:  # raised through pyfacebook, before it parses the body
            raise Transient(problem)

    def get(self, object_id: str, fields: str) -> dict[str, Any]:
        return self._call(self.api.get_object, object_id, fields=fields)

    def edge(self, object_id: str, edge: str, **params: Any) -> dict[str, Any]:
        return self._call(self.api.get_connection, object_id, edge, **params)

    def post(self, object_id: str, edge: str | None = None, **data: Any) -> dict[str, Any]:
        return self._call(self.api.post_object, object_id, connection=edge, data=data)

    def delete(self, object_id: str) -> dict[str, Any]:
        return self._call(self.api.delete_object, object_id)

    def debug_token(self) -> dict[str, Any]:
        """``GET /debug_token?input_token=`` for this client's own token, asked with itself."""
        return self._call(self.api.debug_token, self.api.access_token)

    def close(self) -> None:
        self.api.session.close()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._last = None
        try:
            body = fn(*args, **kwargs)
        except FacebookError as exc:
            raise translate_error(_error_body(exc), self._status(), self._headers()) from None
        except LibraryError as exc:  # not JSON: a proxy or 5xx page
            status = self._status()
            raise Transient(
                f"Graph API answered HTTP {status or '?'} without a JSON body"
                f" ({getattr(exc, 'message', exc)})"
            ) from None
        except requests.JSONDecodeError:
            raise Transient(
                f"Graph API answered HTTP {self._status() or '?'} with JSON that does not parse "
                "(cut off on the way?); try again later"
            ) from None
        except requests.Timeout:
            raise Transient("Graph API request timed out") from None
        except requests.RequestException as exc:
            raise Transient(f"cannot reach the Graph API: {type(exc).__name__}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # pyfacebook choking on a body
            raise Transient(
                f"Graph API answered HTTP {self._status() or '?'} with a body pyfacebook cannot read "
                f"({type(exc).__name__}); try again later"
            ) from None
        if not isinstance(body, dict):
            raise Transient(
                f"Graph API answered HTTP {self._status() or '?'} with {type(body).__name__} "
                "instead of a JSON object; try again later"
            )
        return body

    def _status(self) -> int | None:
        return self._last.status_code if self._last is not None else None

    def _headers(self) -> dict[str, str]:
        return dict(self._last.headers) if self._last is not None else {}


def unexpected_body(response: requests.Response, api: str) -> str | None:
    """None for a JSON object (the API's answers and errors alike), else one line saying what
    came instead: an empty body, an HTML page (with its title), a JSON list, no Content-Type."""
    ctype = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    content = response.content or b""
    head = content[:512].lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    if "json" in ctype and head == b"{":
        return None
    if not head:
        body = "an empty body"
    elif "html" in ctype or head == b"<":
        title = re.search(rb"<title[^>]*>(.*?)</title>", content[:4096], re.I | re.S)
        text = " ".join(title.group(1).decode("utf-8", "replace").split())[:80] if title else ""
        body = f'an HTML page ("{text}")' if text else "an HTML page"
    elif head == b"[":
        body = "a JSON list instead of an object"
    elif "json" in ctype:
        body = "JSON that is not an object"
    else:
        body = "a body that is not JSON"
    kind = f" ({ctype})" if ctype else " and no Content-Type"
    return (
        f"{api} answered HTTP {response.status_code} with {body}{kind}, not an {api} "
        "response (a proxy or gateway in between failing?); try again later"
    )


def page_items(page: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """The ``data`` list of an edge page; Transient unless it is a list of JSON objects."""
    items = page.get("data", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise Transient(f"Graph API sent {what} whose data is not a list of objects; try again later")
    return items


def _error_body(exc: FacebookError) -> dict[str, Any]:
    data = getattr(exc, "_data", None) or {}
    return data.get("error", {}) if isinstance(data, dict) else {}


def translate_error(error: dict[str, Any], status: int | None, headers: dict[str, str]) -> ConnectorError:
    """Map a Graph error body to the decision the caller has to make."""
    code = _int(error.get("code"))
    sub = _int(error.get("error_subcode"))
    text = str(error.get("message") or "unknown error")[:300]
    tag = f"Graph error {code}" + (f"/{sub}" if sub else "")
    if code in AUTH_CODES:
        return AuthExpired(
            f"the access token was rejected ({tag}: {text}); generate a new token and export it again",
            code=code,
            subcode=sub,
        )
    if code in THROTTLE_CODES:
        wait = retry_after_from_headers(headers) or DEFAULT_RETRY_AFTER
        return RateLimited(
            f"rate limited by the Graph API ({tag}: {text}); next try in "
            f"{format_duration(timedelta(seconds=wait))}",
            retry_after=wait,
            code=code,
            subcode=sub,
        )
    if code == 10 or code == 3 or (code is not None and 200 <= code <= 299):
        return PermissionMissing(
            f"the token lacks a permission ({tag}: {text}); see the README's "
            "app setup for the permissions comment-guard needs",
            code=code,
            subcode=sub,
        )
    if code == 100 and sub == 33:
        return NotFound(f"object does not exist or is not visible ({tag})", code=code, subcode=sub)
    if code in TRANSIENT_CODES or (status is not None and status >= 500):
        return Transient(f"Graph API temporary error ({tag}: {text})", code=code, subcode=sub)
    return ConnectorError(f"Graph API error ({tag}: {text})", code=code, subcode=sub)


def retry_after_from_headers(headers: dict[str, str]) -> float | None:
    """Seconds until access returns, from BUC ``estimated_time_to_regain_access`` (minutes)."""
    lower = {k.lower(): v for k, v in headers.items()}
    minutes = 0.0
    for key in ("x-business-use-case-usage", "x-ad-account-usage"):
        try:
            usage = json.loads(lower.get(key) or "{}")
        except ValueError:
            continue
        for items in usage.values() if isinstance(usage, dict) else ():
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict):
                    minutes = max(minutes, float(item.get("estimated_time_to_regain_access") or 0))
    if minutes > 0:
        return minutes * 60
    try:
        app = json.loads(lower.get("x-app-usage") or "{}")
    except ValueError:
        app = {}
    if isinstance(app, dict) and any((_int(v) or 0) >= 100 for v in app.values()):
        return 600.0  # the app window is a rolling hour; back off a while
    return None


PageKey = tuple[str, tuple[tuple[str, str], ...]]  # the path and query of a page asked for


def next_page_params(paging: dict[str, Any] | None, asked: set[PageKey]) -> dict[str, str] | None:
    """The query of ``paging.next`` (minus the token), or None on the last page.

    We re-issue it through our own client rather than GETting the absolute URL, so a sandbox
    or proxy base URL keeps working and cursor- and time-based paging are handled alike.
    ``asked``: the pages this scan of one list already asked for (filled here). Graph has answered with a
    ``next`` naming a page already read, page after page (mobolic/facebook-sdk#510); followed,
    that keeps a poll reading forever, so it is ``Transient`` and the scan stays incomplete.
    """
    if not paging:
        return None
    if not isinstance(paging, dict) or not isinstance(paging.get("next") or "", str):
        # Not Graph's shape: calling it the last page would make a partial scan look complete.
        raise Transient("Graph API sent paging that is not Graph's shape; try again later")
    if not paging.get("next"):
        return None
    url = urlsplit(paging["next"])
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    params.pop("access_token", None)
    params.pop("appsecret_proof", None)
    key = (url.path, tuple(sorted(params.items())))
    if key in asked:
        raise Transient(
            "Graph API's paging.next points at a page already read (its cursor repeats); "
            "the rest of the list was not read; try again later"
        )
    asked.add(key)
    return params


def graph_confirm_gone(
    client: GraphClient, targets: Sequence[GoneTarget], control_fields: str = "id"
) -> dict[str, GoneStatus]:
    """Graph's 100/33 means "deleted" *or* "not visible to this token". We call it deleted only
    when a control read of the parent, with the same token in the same run, succeeds.
    Throttling or an expired token stops the run: everything not yet decided stays unknown."""
    result: dict[str, GoneStatus] = {t.id: "unknown" for t in targets}
    controls: dict[str, bool] = {}
    for target in targets:
        try:
            client.get(target.id, "id")
            result[target.id] = "present"
            continue
        except NotFound:
            pass
        except (RateLimited, AuthExpired):
            raise
        except ConnectorError as exc:
            log.info("confirm_gone_unknown", object_id=target.id, reason=str(exc))
            continue
        if target.control_id not in controls:
            try:
                client.get(target.control_id, control_fields)
                controls[target.control_id] = True
            except (RateLimited, AuthExpired):
                raise
            except ConnectorError as exc:
                log.info("confirm_gone_control_failed", object_id=target.control_id, reason=str(exc))
                controls[target.control_id] = False
        result[target.id] = "deleted" if controls[target.control_id] else "unknown"
    return result


def normalize_time(value: str | None) -> str | None:
    """Graph writes "+0000"; the archive stores ISO-8601 with "+00:00"."""
    if not value:
        return value
    from datetime import datetime, timezone

    try:  # 3.11 parses Graph's "+0000" itself, ~9x faster than strptime
        return datetime.fromisoformat(value).astimezone(timezone.utc).isoformat()
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, fmt).astimezone(timezone.utc).isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).isoformat()
    except ValueError:
        return value


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- token lifetime (debug_token) -------------------------------------------------------------

EXPIRY_WARNING = timedelta(days=7)  # check --live and the daemon's finding warn this far ahead


@dataclass(frozen=True)
class ScopeNeed:
    """Permissions one kind of use needs; ``required``: comment-guard cannot archive without them."""

    purpose: str
    scopes: tuple[str, ...]
    required: bool = False


def read_token_lifetime(client: GraphClient) -> TokenLifetime:
    """The token's type, validity, expiry dates and granted scopes (Graph ``debug_token``).

    Graph answers 200 with ``is_valid: false`` and an ``error`` object for a token it no longer
    accepts; ``expires_at`` / ``data_access_expires_at`` of 0 mean "never"."""
    body = client.debug_token()
    data = body.get("data")
    if not isinstance(data, dict):
        raise Transient("Graph API answered debug_token without a data object; try again later")
    raw_error, raw_scopes = data.get("error"), data.get("scopes")
    error: dict[str, Any] | None = raw_error if isinstance(raw_error, dict) else None
    scopes: list[Any] = raw_scopes if isinstance(raw_scopes, list) else []
    return TokenLifetime(
        token_type=str(data.get("type") or "unknown"),
        is_valid=bool(data.get("is_valid")),
        expires_at=_epoch(data.get("expires_at")),
        data_access_expires_at=_epoch(data.get("data_access_expires_at")),
        scopes=tuple(str(s) for s in scopes),
        error=(" ".join(str(error.get("message") or "").split())[:300] or None) if error else None,
    )


def token_lines(info: TokenLifetime, needs: Sequence[ScopeNeed], now: datetime) -> list[str]:
    """``check --live``'s lines about the token: type, both expiry dates, scopes against
    ``needs``. ``AuthExpired`` for a token Graph calls invalid, ``PermissionMissing`` when a
    required permission is not granted; a missing optional one or an expiry within
    ``EXPIRY_WARNING`` is a ``WARNING`` line."""
    if not info.is_valid:
        raise AuthExpired(
            f"Graph's debug_token says the {info.token_type} token is not valid"
            f" ({info.error or 'no reason given'}); generate a new token and export it again"
        )
    lines = [
        f"token type {info.token_type}; expires {_when(info.expires_at, now)}; "
        f"data access expires {_when(info.data_access_expires_at, now)}"
    ]
    for label, moment in (("expires", info.expires_at), ("loses data access", info.data_access_expires_at)):
        if moment is not None and moment - now <= EXPIRY_WARNING:
            lines.append(
                f"WARNING: the token {label} {_when(moment, now)}: generate a long-lived Page token "
                "(from a long-lived user token, or a system-user token) and export it again"
            )
    granted = set(info.scopes)
    lines.append("permissions granted: " + (", ".join(sorted(granted)) or "none"))
    for need in needs:
        missing = [s for s in need.scopes if s not in granted]
        if not missing:
            lines.append(f"permissions for {need.purpose}: all granted")
        elif need.required:
            raise PermissionMissing(
                f"the token lacks {', '.join(missing)}, needed for {need.purpose}; add the permission "
                "to the app, generate a new Page token and export it again"
            )
        else:
            lines.append(f"WARNING: permissions for {need.purpose} missing: {', '.join(missing)}")
    return lines


def _epoch(value: Any) -> datetime | None:
    seconds = _int(value)
    if not seconds:  # 0 (or absent): never
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    left = moment - now
    if left <= timedelta(0):
        return f"{moment:%Y-%m-%d %H:%M} UTC (already passed)"
    span = (
        f"{left.days} days"
        if left.days >= 2
        else format_duration(timedelta(minutes=left // timedelta(minutes=1)))
    )
    return f"{moment:%Y-%m-%d %H:%M} UTC (in {span})"
