"""Slack as an app: ``[alerts.slack] mode = "app"``, alerts with buttons staff can act on.

Config (``[alerts.slack]``): ``mode = "app"``, ``bot_token_env`` (the bot token, ``xoxb-``:
``chat:write``), ``app_token_env`` (the app-level token, ``xapp-``: ``connections:write``, for
Socket Mode), ``channel`` (the channel id alerts go to), optionally ``allowed_users`` (Slack
user ids; when set, only they may press the buttons) and ``api_base_url`` (a proxy or a test
stand-in for ``https://slack.com/api/``). Without ``mode`` (or ``mode = "webhook"``) the table
is read by ``slack.py`` exactly as before: incoming webhooks are unchanged.

Here: the settings, and the sender that posts an alert with ``chat.postMessage`` and the
buttons (Post reply..., Acknowledge, Not critical, Open post). What happens when a button is
pressed is ``guard.runtime.slack_app``: it needs the archive, the engine and the connectors,
which sit above the alert channels.

slack_sdk's own clients are used (``WebClient``, and the built-in Socket Mode client in the
runtime), not Bolt: three buttons and one modal need no framework, slack_sdk is already a
dependency, and handling each payload ourselves keeps idempotency and the allowed-user check
in plain view (Bolt would add its own listener matching, middleware and ack timing around them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard.alerts._text import escape_mrkdwn
from guard.alerts.channels import slack as webhook
from guard.alerts.channels.base import ChannelSpec, OutboxItem, Sender
from guard.config_reader import Reader, read_secret
from guard.errors import AlertPermanent, AlertRetryable

if TYPE_CHECKING:  # slack_sdk loads where the app sends, not with the config
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

__all__ = [
    "SPEC",
    "SlackAppSettings",
    "ACTION_ACK",
    "ACTION_NOT_CRITICAL",
    "ACTION_REPLY",
    "ACTION_OPEN",
    "REPLY_CALLBACK",
    "REPLY_INPUT",
    "alert_blocks",
    "bot_token",
    "app_token",
    "make_web_client",
    "send_app",
]

ACTION_REPLY = "cg_reply"
ACTION_ACK = "cg_ack"
ACTION_NOT_CRITICAL = "cg_not_critical"
ACTION_OPEN = "open_post"  # the URL button render.py already draws; Slack still sends a click
REPLY_CALLBACK = "cg_reply_modal"
REPLY_INPUT = "reply_text"
_BOT_KEY = "alerts.slack.bot_token_env"
_APP_KEY = "alerts.slack.app_token_env"
_RETRYABLE = {
    "ratelimited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
    # a workspace moving into an Enterprise org: "unavailable until the migration is complete"
    "team_added_to_org",
    "org_login_required",
}


@dataclass(frozen=True)
class SlackAppSettings:
    bot_token_env: str
    app_token_env: str
    channel: str
    allowed_users: tuple[str, ...] = ()
    api_base_url: str | None = None


def parse_settings(r: Reader) -> webhook.SlackSettings | SlackAppSettings:
    """``[alerts.slack]``: app mode here; webhook mode (the default) is ``webhook.parse_settings``."""
    mode = r.choice("mode", ("webhook", "app"), default="webhook")
    if mode == "webhook":
        return webhook.parse_settings(r)
    base = r.take("api_base_url", str)
    out = SlackAppSettings(
        bot_token_env=r.take("bot_token_env", str, required=True),
        app_token_env=r.take("app_token_env", str, required=True),
        channel=r.take("channel", str, required=True).strip(),
        allowed_users=r.strings("allowed_users", ()),
        api_base_url=(base.rstrip("/") + "/") if base else None,
    )
    r.finish()
    if not out.channel:
        r.fail("channel", "alerts.slack.channel must name the channel alerts go to, like C0123456789")
    return out


def secrets(settings: webhook.SlackSettings | SlackAppSettings) -> list[tuple[str, str]]:
    if isinstance(settings, SlackAppSettings):
        return [(settings.bot_token_env, _BOT_KEY), (settings.app_token_env, _APP_KEY)]
    return webhook.secrets(settings)


def senders(settings: webhook.SlackSettings | SlackAppSettings) -> dict[str, Sender]:
    if isinstance(settings, SlackAppSettings):
        return {"slack": lambda item: send_app(settings, item)}
    return webhook.senders(settings)


def route_stage(settings: webhook.SlackSettings | SlackAppSettings, stage: str) -> str | None:
    if isinstance(settings, SlackAppSettings):
        return None  # one channel; escalations say so in their headline
    return webhook.route_stage(settings, stage)


SPEC: ChannelSpec[webhook.SlackSettings | SlackAppSettings] = ChannelSpec(
    name="slack",
    parse=parse_settings,
    secrets=secrets,
    senders=senders,
    route_stage=route_stage,
    fallback=webhook.SPEC.fallback,
    fallback_note=webhook.SPEC.fallback_note,
)


def bot_token(settings: SlackAppSettings) -> str:
    return read_secret(settings.bot_token_env, _BOT_KEY)


def app_token(settings: SlackAppSettings) -> str:
    return read_secret(settings.app_token_env, _APP_KEY)


def make_web_client(settings: SlackAppSettings, *, timeout: int = 15) -> WebClient:
    """A bot ``WebClient``; retries once on a dropped connection and never sleeps on 429."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
    from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

    kwargs: dict[str, Any] = {"base_url": settings.api_base_url} if settings.api_base_url else {}
    return WebClient(
        token=bot_token(settings),
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.25)
            )
        ],
        **kwargs,
    )


def alert_blocks(
    blocks: list[dict[str, Any]], finding_id: int | None, *, status: str | None = None, buttons: bool = True
) -> list[dict[str, Any]]:
    """The rendered alert with the app's buttons in its actions block, and ``status`` (what staff
    did: "acknowledged by <@U1> 14:05") as a line at the end."""
    out = [b for b in blocks if b.get("type") != "actions"]
    open_post = [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]
    elements: list[dict[str, Any]] = []
    if buttons and finding_id is not None:
        value = str(finding_id)
        elements += [
            _button("Post reply…", ACTION_REPLY, value, style="primary"),
            _button("Acknowledge", ACTION_ACK, value),
            _button("Not critical", ACTION_NOT_CRITICAL, value),
        ]
    # render.py's URL button (Open post) keeps its place, no longer the primary one
    elements += [{k: v for k, v in e.items() if k != "style"} for e in open_post] if elements else open_post
    if elements:
        out.append({"type": "actions", "block_id": f"cg_actions_{finding_id}", "elements": elements})
    if status:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    return out


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def send_app(settings: SlackAppSettings, item: OutboxItem, *, client: WebClient | None = None) -> None:
    """Post the alert to the channel with its buttons; return once Slack accepted it."""
    import http.client
    from urllib.error import URLError

    from slack_sdk.errors import SlackApiError

    message = item.message
    try:
        client = client or make_web_client(settings)
        client.chat_postMessage(
            channel=settings.channel,
            text=escape_mrkdwn(message.text),
            blocks=json.dumps(alert_blocks(message.blocks, item.finding_id)),
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        raise slack_api_error(exc) from None
    except (URLError, OSError, http.client.HTTPException) as exc:
        raise AlertRetryable(f"cannot reach Slack: {type(exc).__name__}") from None


def slack_api_error(exc: SlackApiError) -> AlertRetryable | AlertPermanent:
    """A Web API error as the outbox's retry-or-give-up decision (never with the token)."""
    resp = exc.response
    error = str(resp.get("error") or "") if resp is not None else ""
    status = getattr(resp, "status_code", 0) or 0
    if resp is not None and not _is_json(getattr(resp, "headers", None) or {}):
        # Slack's Web API always answers JSON; anything else came from something in between (a
        # captive portal, a proxy's page) and the message did not reach Slack: as in webhook mode
        return AlertRetryable(
            f"the Slack API answered HTTP {status} with something that is not Slack's JSON "
            f"({error[:140]!r}): a proxy or captive portal may be in the way; the alert is kept and retried"
        )
    if status == 429 or error == "ratelimited":
        # the webhook's reading: seconds or an HTTP date; junk (nan, inf, words) -> normal backoff
        retry_after = webhook.retry_after_header(getattr(resp, "headers", None) or {})
        return AlertRetryable("Slack rate-limited chat.postMessage", retry_after=retry_after)
    if status >= 500 or error in _RETRYABLE:
        return AlertRetryable(f"Slack had a server error ({error or status})")
    return AlertPermanent(f"Slack refused the message ({error or status}{_reasons(resp)}): {_hint(error)}")


def _reasons(resp: Any) -> str:
    """Slack's own detail (``response_metadata.messages``, e.g. which block is invalid), if any."""
    meta = resp.get("response_metadata") if resp is not None else None
    messages = meta.get("messages") if isinstance(meta, dict) else None
    if not isinstance(messages, list) or not messages:
        return ""
    return ": " + "; ".join(str(m) for m in messages[:3])[:400]


def _is_json(headers: Any) -> bool:
    content_type = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    return "json" in content_type.lower()


def _hint(error: str) -> str:
    return {
        "not_in_channel": "invite the app to the channel (/invite @your-app)",
        "channel_not_found": "alerts.slack.channel is not a channel id the app can see",
        "invalid_auth": "the bot token is wrong or revoked; check alerts.slack.bot_token_env",
        "token_revoked": "the bot token was revoked; reinstall the app",
        "account_inactive": "the bot token was revoked; reinstall the app",
        "missing_scope": "the app needs the chat:write scope",
        "invalid_blocks": "Slack rejected the alert's layout (a comment-guard bug: please report it with "
        "Slack's reason)",
        "is_archived": "the alert channel is archived; unarchive it or set alerts.slack.channel to another",
    }.get(error, webhook.slack_error_hint(error))
