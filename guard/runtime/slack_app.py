"""The Slack app at work: button presses and the reply modal, over Socket Mode.

Socket Mode means Slack pushes interactions down a websocket this process opened, so no public
URL or inbound firewall hole is needed. Each payload is acknowledged at once (Slack redelivers
what is not acknowledged within 3 s), then handled:

- **Post reply...** opens a modal with the finding's suggested reply, editable. Submitting it
  posts the text publicly through the connector exactly like ``comment-guard reply`` (recorded
  as ``reply_posted``); the finding is acknowledged with who replied, and resolves itself when
  the next poll sees the page's reply.
- **Acknowledge** records who (Slack user id and name); reminders and escalation stop.
- **Not critical** records a staff label ``not-critical`` on the comment (``comment-guard
  label``; it feeds the classifier's measurements) and resolves the finding.
- **Open post** is a link; Slack still reports the click, which needs nothing.

Every press is claimed once in ``interactions`` (a redelivered or double-clicked payload acts
once), checked against ``allowed_users`` and the configured channel, written to the event
chain as ``slack_action`` (or ``slack_action_refused``), and the alert message is updated in
place with its state ("Acknowledged by @dana 14:05").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from connectors.base import Connector
from guard import actions
from guard.alerts.channels.slack_app import (
    ACTION_ACK,
    ACTION_NOT_CRITICAL,
    ACTION_OPEN,
    ACTION_REPLY,
    REPLY_CALLBACK,
    REPLY_INPUT,
    SlackAppSettings,
    alert_blocks,
    app_token,
    make_web_client,
)
from guard.alerts.render import render_alert
from guard.archive import interactions
from guard.archive.connection import Archive, open_archive
from guard.archive.events import append_events, make_event
from guard.archive.findings import get_finding
from guard.archive.labels import add_label
from guard.clock import iso, utcnow
from guard.config import Config
from guard.engine import set_state
from guard.errors import GuardError
from guard.states import FindingState
from guard.web import finding_url

__all__ = ["SlackApp", "app_settings", "reply_target", "start_slack_app"]

log = structlog.get_logger("guard.slack_app")
_ACTION_NAMES = {ACTION_ACK: "acknowledge", ACTION_NOT_CRITICAL: "not-critical", ACTION_REPLY: "reply"}


def app_settings(config: Config) -> SlackAppSettings | None:
    """The ``[alerts.slack]`` app settings, or None in webhook mode / without Slack."""
    settings = config.alerts.channels.get("slack")
    return settings if isinstance(settings, SlackAppSettings) else None


def start_slack_app(config: Config) -> SlackApp | None:
    """The daemon's Slack app: connected over Socket Mode in app mode, else None. A refused
    connection (a wrong app token) is logged and the daemon goes on: alerts still post."""
    settings = app_settings(config)
    if settings is None:
        return None
    app = SlackApp(config, settings)
    try:
        app.start()
    except (SlackApiError, GuardError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
        log.error("slack_app_not_connected", error=error, note="buttons in Slack do nothing until fixed")
        app.stop()
        return None
    return app


def reply_target(finding: dict[str, Any]) -> str:
    """Where the public reply goes: the comment, or the post when the comment is gone or the
    finding is about the post (the same rule as the CLI line in ``guard.alerts.render``)."""
    evidence = _evidence(finding)
    status = (evidence.get("comment") or {}).get("status")
    comment_id = finding.get("comment_id")
    if (
        status == "deleted"
        or finding.get("kind") in ("removed-critical", "post-removed", "silent-correction")
        or not comment_id
    ):
        return str(finding.get("post_id") or comment_id)
    return str(comment_id)


class SlackApp:
    """Handles Slack interactions for one archive; ``start`` connects over Socket Mode."""

    def __init__(
        self,
        config: Config,
        settings: SlackAppSettings,
        *,
        db: Archive | None = None,
        web_client: WebClient | None = None,
        connector: Callable[[str], Connector] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config, self.settings, self.clock = config, settings, clock
        # its own connection: the daemon's jobs write on theirs, SQLite serialises the two
        self._own_db = db is None
        self.db = db if db is not None else open_archive(config.guard.database)
        self.web = web_client or make_web_client(settings)
        self._connector = connector
        self._lock = threading.Lock()  # one payload at a time on this connection
        self._socket: SocketModeClient | None = None

    # -- Socket Mode -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (``apps.connections.open`` with the app token, then the websocket)."""
        client = SocketModeClient(app_token=app_token(self.settings), web_client=self.web)
        client.socket_mode_request_listeners.append(self._on_request)
        client.connect()
        self._socket = client
        log.info("slack_app_connected", channel=self.settings.channel)

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._own_db:
            self.db.conn.close()
            self._own_db = False

    def _on_request(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        # Acknowledge first: Slack redelivers anything not acknowledged within 3 seconds, and
        # posting a reply can take longer. An empty ack also closes a submitted modal.
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type != "interactive":
            return
        try:
            self.handle(req.payload)
        except Exception as exc:  # one bad payload must not stop the listener
            log.error("slack_action_failed", error=str(exc), error_type=type(exc).__name__)

    # -- payloads ----------------------------------------------------------------------------

    def handle(self, payload: dict[str, Any]) -> str:
        """Act on one interactive payload; returns what happened (for logs and tests)."""
        with self._lock:
            kind = payload.get("type")
            if kind == "block_actions":
                return self._block_action(payload)
            if kind == "view_submission" and (payload.get("view") or {}).get("callback_id") == REPLY_CALLBACK:
                return self._reply_submitted(payload)
            return "ignored"

    def _block_action(self, payload: dict[str, Any]) -> str:
        action = (payload.get("actions") or [{}])[0]
        action_id = action.get("action_id")
        if action_id == ACTION_OPEN or action_id not in _ACTION_NAMES:
            return "ignored"
        user_id, user_name = _user(payload)
        channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get(
            "channel_id"
        )
        ts = (payload.get("container") or {}).get("message_ts") or (payload.get("message") or {}).get("ts")
        finding = self._finding(action.get("value"))
        name = _ACTION_NAMES[action_id]
        refused = self._refusal(user_id, channel, finding)
        if refused or finding is None:
            return self._refuse(
                name, user_id, user_name, finding, refused or "no such finding", channel=channel
            )
        if action_id == ACTION_REPLY:
            self._open_reply_modal(payload.get("trigger_id"), finding, channel, ts)
            return "modal-opened"
        key = f"slack:click:{action.get('action_ts')}:{user_id}"
        if not self._claim(key, name, user_id, user_name, finding):
            return "duplicate"
        now = self.clock()
        who = _who(user_id, user_name)
        try:
            if action_id == ACTION_ACK:
                set_state(self.db, finding["id"], FindingState.ACKNOWLEDGED, now=now, actor=who)
                status = f":eyes: Acknowledged by <@{user_id}> {_hhmm(now)}"
            else:
                if not finding.get("comment_id"):
                    raise GuardError("this finding is about a post, not a comment: nothing to label")
                add_label(
                    self.db, finding["comment_id"], "not-critical", by=who, at=iso(now), note="via Slack"
                )
                set_state(
                    self.db,
                    finding["id"],
                    FindingState.RESOLVED,
                    now=now,
                    note=f"not critical, said {who}",
                    actor=who,
                )
                status = (
                    f":white_check_mark: Not critical, said <@{user_id}> {_hhmm(now)}: labelled and closed"
                )
        except GuardError as exc:
            return self._failed(key, name, user_id, user_name, finding, exc, channel, ts)
        self._done(key, name, user_id, user_name, finding, channel=channel)
        self._update(channel, ts, finding["id"], status)
        return "done"

    def _reply_submitted(self, payload: dict[str, Any]) -> str:
        view = payload.get("view") or {}
        user_id, user_name = _user(payload)
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        channel, ts = meta.get("channel"), meta.get("ts")
        finding = self._finding(meta.get("finding_id"))
        refused = self._refusal(user_id, channel, finding)
        if refused or finding is None:
            return self._refuse(
                "reply", user_id, user_name, finding, refused or "no such finding", channel=channel
            )
        text = _input_value(view)
        key = f"slack:view:{view.get('id')}"
        if not self._claim(key, "reply", user_id, user_name, finding):
            return "duplicate"
        now = self.clock()
        who = _who(user_id, user_name)
        target = reply_target(finding)
        try:
            connector = self._connector(finding["account"]) if self._connector else None
            new_id = actions.reply(self.db, self.config, target, text, now=now, connector=connector)
            if finding["state"] == FindingState.OPEN:
                set_state(
                    self.db,
                    finding["id"],
                    FindingState.ACKNOWLEDGED,
                    now=now,
                    note=f"replied publicly by {who} ({new_id})",
                    actor=who,
                )
        except GuardError as exc:
            return self._failed(key, "reply", user_id, user_name, finding, exc, channel, ts)
        self._done(key, "reply", user_id, user_name, finding, channel=channel, reply_id=new_id, target=target)
        self._update(
            channel,
            ts,
            finding["id"],
            f":speech_balloon: Replied by <@{user_id}> {_hhmm(now)}; "
            "the finding resolves when the next poll sees the reply",
        )
        return "replied"

    # -- checks, records, Slack calls --------------------------------------------------------

    def _finding(self, value: Any) -> dict[str, Any] | None:
        try:
            return get_finding(self.db, int(value))
        except (TypeError, ValueError):
            return None

    def _refusal(
        self, user_id: str | None, channel: str | None, finding: dict[str, Any] | None
    ) -> str | None:
        if finding is None:
            return "no such finding"
        if channel != self.settings.channel:
            return f"not the alert channel ({channel})"
        if self.settings.allowed_users and user_id not in self.settings.allowed_users:
            return "user not in alerts.slack.allowed_users"
        return None

    def _claim(
        self, key: str, name: str, user_id: str | None, user_name: str | None, finding: dict[str, Any]
    ) -> bool:
        claimed = interactions.claim(
            self.db,
            key,
            action=name,
            at=iso(self.clock()),
            user_id=user_id,
            user_name=user_name,
            finding_id=finding["id"],
        )
        if not claimed:
            log.info("slack_action_duplicate", key=key, action=name, finding_id=finding["id"])
        return claimed

    def _audit(self, kind: str, finding: dict[str, Any] | None, **data: Any) -> None:
        with self.db.atomic():
            append_events(
                self.db,
                [
                    make_event(
                        kind,
                        at=iso(self.clock()),
                        account=finding["account"] if finding else "-",
                        object_id=str(finding["id"]) if finding else None,
                        post_id=finding.get("post_id") if finding else None,
                        **data,
                    )
                ],
            )

    def _refuse(
        self,
        name: str,
        user_id: str | None,
        user_name: str | None,
        finding: dict[str, Any] | None,
        reason: str,
        *,
        channel: str | None,
    ) -> str:
        self._audit(
            "slack_action_refused",
            finding,
            action=name,
            user_id=user_id,
            user_name=user_name,
            channel=channel,
            reason=reason,
        )
        log.warning("slack_action_refused", action=name, user_id=user_id, reason=reason)
        if channel and user_id:
            self._call(
                "chat_postEphemeral",
                channel=channel,
                user=user_id,
                text=f"comment-guard did not do that: {reason}.",
            )
        return "refused"

    def _done(
        self,
        key: str,
        name: str,
        user_id: str | None,
        user_name: str | None,
        finding: dict[str, Any],
        *,
        channel: str | None,
        **extra: Any,
    ) -> None:
        interactions.finish(self.db, key, "done")
        self._audit(
            "slack_action",
            finding,
            action=name,
            user_id=user_id,
            user_name=user_name,
            channel=channel,
            finding_id=finding["id"],
            **extra,
        )
        log.info("slack_action_done", action=name, finding_id=finding["id"], user_id=user_id)

    def _failed(
        self,
        key: str,
        name: str,
        user_id: str | None,
        user_name: str | None,
        finding: dict[str, Any],
        exc: GuardError,
        channel: str | None,
        ts: str | None,
    ) -> str:
        interactions.finish(self.db, key, f"failed: {exc}")
        self._audit(
            "slack_action_failed",
            finding,
            action=name,
            user_id=user_id,
            user_name=user_name,
            channel=channel,
            error=str(exc),
        )
        log.warning("slack_action_failed", action=name, finding_id=finding["id"], error=str(exc))
        self._update(channel, ts, finding["id"], f":warning: {name} by <@{user_id}> failed: {exc}")
        return "failed"

    def _open_reply_modal(
        self, trigger_id: str | None, finding: dict[str, Any], channel: str | None, ts: str | None
    ) -> None:
        target = reply_target(finding)
        view = {
            "type": "modal",
            "callback_id": REPLY_CALLBACK,
            "private_metadata": json.dumps({"finding_id": finding["id"], "channel": channel, "ts": ts}),
            "title": {"type": "plain_text", "text": "Post a public reply"},
            "submit": {"type": "plain_text", "text": "Post reply"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"This is posted *publicly* on the page, as a reply to `{target}`.",
                    },
                },
                {
                    "type": "input",
                    "block_id": "reply",
                    "label": {"type": "plain_text", "text": "Reply"},
                    "element": {
                        "type": "plain_text_input",
                        "action_id": REPLY_INPUT,
                        "multiline": True,
                        "initial_value": finding.get("suggested_reply") or "",
                    },
                },
            ],
        }
        self._call("views_open", trigger_id=trigger_id, view=view)

    def _update(self, channel: str | None, ts: str | None, finding_id: int, status: str) -> None:
        """Redraw the alert from the archive with its state line; buttons go once it is resolved."""
        if not channel or not ts:
            return
        row = get_finding(self.db, finding_id)
        if row is None:
            return
        base = self.config.alerts.finding_base_url
        linked = {**row, "finding_url": finding_url(base, finding_id)} if base else row
        message = render_alert(linked, "first", now=self.clock())
        blocks = alert_blocks(
            message.blocks, finding_id, status=status, buttons=row["state"] != FindingState.RESOLVED
        )
        self._call("chat_update", channel=channel, ts=ts, text=message.text, blocks=blocks)

    def _call(self, method: str, **kwargs: Any) -> None:
        try:
            getattr(self.web, method)(**kwargs)
        except SlackApiError as exc:
            log.warning("slack_call_failed", method=method, error=str(exc.response.get("error")))
        except OSError as exc:
            log.warning("slack_call_failed", method=method, error=type(exc).__name__)


def _user(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    user = payload.get("user") or {}
    return user.get("id"), user.get("username") or user.get("name")


def _who(user_id: str | None, user_name: str | None) -> str:
    return f"@{user_name or user_id} (Slack {user_id})"


def _hhmm(now: datetime) -> str:
    return now.strftime("%H:%M UTC")


def _input_value(view: dict[str, Any]) -> str:
    for block in ((view.get("state") or {}).get("values") or {}).values():
        if REPLY_INPUT in block:
            return str(block[REPLY_INPUT].get("value") or "")
    return ""


def _evidence(finding: dict[str, Any]) -> dict[str, Any]:
    ev = finding.get("evidence")
    if isinstance(ev, str):
        try:
            ev = json.loads(ev)
        except ValueError:
            return {}
    return ev if isinstance(ev, dict) else {}
