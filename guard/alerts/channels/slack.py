"""The Slack channel: ``[alerts.slack]``, and one alert posted to an incoming webhook.

Config: ``webhook_url_env`` names the variable holding the webhook URL;
``escalation_webhook_url_env`` (optional) a second webhook that escalations go to, as the
outbox channel ``slack-escalation``. A Slack row that fails permanently is queued by email
when ``[alerts.email]`` is configured (``SPEC.fallback``).

Slack answers a webhook with an HTTP status and a short text body:
200 ``ok`` is success; 429 carries ``Retry-After``; 5xx is Slack's trouble; every other 4xx
(``invalid_payload``, ``no_service``, ``channel_is_archived``, ...) will fail the same way
forever. ``send_slack`` turns those into ``AlertRetryable``/``AlertPermanent`` and never
sleeps on a 429: the outbox reschedules the row at ``now + retry_after`` so one throttled
channel does not stall the delivery job.

The webhook URL is a secret (anyone holding it can post to the channel): it is never logged
and never put into an error message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from guard.alerts._text import escape_mrkdwn
from guard.alerts.channels.base import ChannelSpec, Sender
from guard.alerts.stages import Stage
from guard.clock import utcnow
from guard.config_reader import Reader, read_secret
from guard.errors import AlertPermanent, AlertRetryable

if TYPE_CHECKING:  # rendering (and the rules it names) loads only where alerts are sent
    from slack_sdk.webhook import WebhookClient, WebhookResponse

    from guard.alerts.render import AlertMessage

__all__ = [
    "SPEC",
    "SlackSettings",
    "send_slack",
    "parse_retry_after",
    "retry_after_header",
    "make_webhook_client",
    "slack_error_hint",
]

_WEBHOOK_KEY = "alerts.slack.webhook_url_env"
_ESCALATION_KEY = "alerts.slack.escalation_webhook_url_env"


@dataclass(frozen=True)
class SlackSettings:
    webhook_url_env: str
    escalation_webhook_url_env: str | None = None


def parse_settings(r: Reader) -> SlackSettings:
    """``[alerts.slack]``."""
    out = SlackSettings(
        webhook_url_env=r.take("webhook_url_env", str, required=True),
        escalation_webhook_url_env=r.take("escalation_webhook_url_env", str),
    )
    r.finish()
    return out


def secrets(settings: SlackSettings) -> list[tuple[str, str]]:
    out = [(settings.webhook_url_env, _WEBHOOK_KEY)]
    if settings.escalation_webhook_url_env:
        out.append((settings.escalation_webhook_url_env, _ESCALATION_KEY))
    return out


def senders(settings: SlackSettings) -> dict[str, Sender]:
    """``slack``, and ``slack-escalation`` when a second webhook is configured."""

    def webhook(env: str, key: str) -> Sender:
        return lambda item: send_slack(read_secret(env, key), item.message)

    out = {"slack": webhook(settings.webhook_url_env, _WEBHOOK_KEY)}
    if settings.escalation_webhook_url_env:
        out["slack-escalation"] = webhook(settings.escalation_webhook_url_env, _ESCALATION_KEY)
    return out


def route_stage(settings: SlackSettings, stage: str) -> str | None:
    """Escalations use the second webhook when configured."""
    if stage == Stage.ESCALATION and settings.escalation_webhook_url_env:
        return "slack-escalation"
    return None


SPEC: ChannelSpec[SlackSettings] = ChannelSpec(
    name="slack",
    parse=parse_settings,
    secrets=secrets,
    senders=senders,
    route_stage=route_stage,
    fallback="email",
    fallback_note="This alert could not be posted to Slack: {error}. Until the Slack webhook is "
    "fixed, alerts come by email.",
)

_HINTS = {
    "no_service": "the webhook was revoked or disabled; create a new one and update the "
    "environment variable that holds it",
    "invalid_token": "the webhook URL is wrong or revoked; create a new one",
    "no_team": "the Slack workspace no longer exists or the webhook URL is wrong",
    "team_disabled": "the Slack workspace is disabled",
    "channel_not_found": "the webhook's channel no longer exists; create a new webhook",
    "channel_is_archived": "the webhook's channel is archived; unarchive it or create a new webhook",
    "action_prohibited": "a Slack admin restricted posting to this channel",
    "invalid_payload": "Slack rejected the message format (a comment-guard bug: please report it)",
    "user_not_found": "the webhook's user no longer exists; create a new webhook",
}


def slack_error_hint(error: str) -> str:
    """A sentence telling the operator what a Slack webhook error string means."""
    return _HINTS.get(error, "Slack refused the message")


def make_webhook_client(url: str, *, timeout: int = 15) -> WebhookClient:
    """A ``WebhookClient`` that retries once on a dropped connection, and never on 429.

    slack_sdk's ``RateLimitErrorRetryHandler`` would ``time.sleep(Retry-After)`` inside the
    delivery job; we leave 429 to the outbox instead, which schedules the row for later.
    Loading the config does not load slack_sdk: it is imported here, when an alert is sent.
    """
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
    from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
    from slack_sdk.webhook import WebhookClient

    return WebhookClient(
        url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.25)
            )
        ],
    )


def send_slack(
    url: str, message: AlertMessage, *, client_factory: Callable[[str], WebhookClient] = make_webhook_client
) -> None:
    """Post ``message`` to the webhook at ``url``; return only once Slack accepted it.

    Raises ``AlertRetryable`` (with ``retry_after`` on 429) or ``AlertPermanent`` (with the
    Slack error string and what it means).
    """
    import http.client
    from urllib.error import URLError

    from slack_sdk.errors import SlackRequestError

    try:
        client = client_factory(url)
        resp: WebhookResponse = client.send(
            text=escape_mrkdwn(message.text), blocks=message.blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackRequestError:
        raise AlertPermanent(
            "the Slack webhook URL is not an http(s) URL; check the environment variable that holds it"
        ) from None
    except (http.client.InvalidURL, ValueError):
        # urllib quotes the path (the secret part) in this error; it fails the same way every time
        raise AlertPermanent(
            "the Slack webhook URL is not a valid URL (a space, an inline comment or a control "
            "character in it?); check the environment variable that holds it"
        ) from None
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise AlertRetryable(f"cannot reach Slack: {_describe(reason)}") from None
    _classify(resp)


def _classify(resp: WebhookResponse) -> None:
    import structlog

    log = structlog.get_logger(__name__)
    status = resp.status_code
    body = (resp.body or "").strip()
    error = body[:100]
    if 200 <= status < 300:
        if body == "ok":
            return
        # Slack's webhooks answer exactly "ok"; anything else came from something in between
        # (a captive portal, a proxy's login page): the message did not reach Slack.
        log.warning("slack_unexpected_body", status=status, body=error)
        raise AlertRetryable(
            f"the Slack webhook answered HTTP {status} without Slack's `ok` ({error!r}): a proxy "
            "or captive portal may be in the way; the alert is kept and retried"
        )
    if status == 429:
        retry_after = retry_after_header(resp.headers)
        log.warning("slack_rate_limited", retry_after=retry_after)
        raise AlertRetryable(
            f"Slack rate-limited the webhook (HTTP 429 {error})".strip(), retry_after=retry_after
        )
    if status >= 500:
        raise AlertRetryable(f"Slack had a server error (HTTP {status} {error})")
    raise AlertPermanent(
        f"Slack refused the message (HTTP {status} {error or 'no body'}): {slack_error_hint(error)}"
    )


def retry_after_header(headers: object) -> float | None:
    """Read ``Retry-After`` whatever the header's case: delay-seconds or an HTTP date (RFC 9110
    10.2.3). None when absent or unusable (``nan``, ``inf``, junk): the outbox then backs off
    exponentially instead of crashing the delivery pass."""
    items = headers.items() if hasattr(headers, "items") else []
    for key, value in items:
        if str(key).lower() == "retry-after":
            value = value[0] if isinstance(value, list) and value else value
            return parse_retry_after(value)
    return None


def parse_retry_after(value: object, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when it says nothing usable."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or utcnow())).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), _LONGEST_RETRY_AFTER)


_LONGEST_RETRY_AFTER = 7 * 24 * 3600.0  # beyond a week a value is junk; the outbox caps at a day


def _describe(reason: object) -> str:
    text = str(reason) or type(reason).__name__
    secretish = ("hooks.slack", "http", "/services/")
    return type(reason).__name__ if any(s in text for s in secretish) else text
