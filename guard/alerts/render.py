"""Turn a finding into the words staff read: Slack Block Kit, a notification fallback, and email.

Pure functions, no I/O: the outbox renders once, at enqueue time, and stores the result, so the
alert shows what was known when the finding was written even if the archive changes later.

Every alert answers three questions, in this order: what happened (header), why it matters
(the post, what was corrected, the comment quoted with its status), and what to do (the
suggested public reply and the exact ``comment-guard reply`` command to post it).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from guard.alerts._html import render_html
from guard.alerts._text import (
    BUTTON_TEXT_LIMIT,
    FALLBACK_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    fit,
    fit_mrkdwn,
    load_json,
    quote_mrkdwn,
    safe_url,
    show_time,
    slack_time,
)
from guard.alerts.facts import Facts
from guard.alerts.stages import FOLLOW_UP_STAGES, Stage
from guard.durations import format_duration
from guard.text import inert, one_line
from policies import rules

__all__ = ["AlertMessage", "Facts", "STAGES", "render_alert", "render_test"]

STAGES = tuple(Stage)  # kept for callers that list them

_STAGE_PREFIX: dict[str, str] = {
    Stage.REMINDER: "Reminder: ",
    Stage.ESCALATION: "Escalation: ",
    Stage.TEST: "Test: ",
    Stage.RESOLVED: "Resolved: ",
}


@dataclass(frozen=True)
class AlertMessage:
    """One rendered alert, in every form a channel needs; stored as JSON in ``outbox.payload``."""

    subject: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    email_text: str = ""
    email_html: str = ""
    # email only: send to these instead of the configured addresses (the resend to recipients a
    # server deferred while it took the message for the others); left out of the JSON when empty
    to: tuple[str, ...] = ()

    def to_json(self) -> str:
        data = asdict(self)
        if not self.to:
            del data["to"]
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, payload: str) -> AlertMessage:
        data = load_json(payload)
        return cls(
            subject=str(data.get("subject", "comment-guard alert")),
            text=str(data.get("text", "")),
            blocks=list(data.get("blocks") or []),
            email_text=str(data.get("email_text", "")),
            email_html=str(data.get("email_html", "")),
            to=tuple(str(a) for a in data.get("to") or ()),
        )


def render_alert(
    finding: Mapping[str, Any], stage: str, *, now: datetime | None = None, tz: str | None = None
) -> AlertMessage:
    """Render a ``findings`` row for ``stage``; every evidence key is optional. Times are shown
    in ``tz`` (``[guard] timezone``); Slack blocks carry date tokens each reader sees locally."""
    if stage not in STAGES:
        raise ValueError(f"unknown alert stage {stage!r}; expected one of {', '.join(STAGES)}")
    facts = facts_for(finding, stage, now=now, tz=tz)
    subject = fit(_subject(facts), 200)
    return AlertMessage(
        subject=subject,
        text=fit(_plain(facts, short=True), FALLBACK_LIMIT),
        blocks=_blocks(facts),
        email_text=_plain(facts, short=False),
        email_html=render_html(facts),
    )


def _table(ev: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = ev.get(key)
    return value if isinstance(value, dict) else {}


def _subject(f: Facts) -> str:
    """Names the page and quotes the start of the comment, so an inbox of alerts is readable:
    ``[comment-guard] parks-page: Critical comment removed: "wait, the meeting is TONIGHT?!?"``."""
    page = f"{f.account}: " if f.account else ""
    quote = " ".join((f.comment_text or "").split())
    said = f': "{fit(quote, 60)}"' if quote else ""
    return f"[comment-guard] {page}{f.headline}{said}"


def facts_for(
    finding: Mapping[str, Any], stage: str, *, now: datetime | None = None, tz: str | None = None
) -> Facts:
    ev = load_json(finding.get("evidence"))
    kind = str(finding.get("kind") or "finding")
    post = _table(ev, "post")
    comment = _table(ev, "comment")
    correction = _table(ev, "correction")
    headline = _STAGE_PREFIX.get(stage, "") + rules.headline(kind)
    summary = str(ev.get("summary") or headline)
    if stage == Stage.RESOLVED and finding.get("note"):
        summary = str(finding["note"])
    platform = str(ev.get("platform") or "")
    context = " · ".join(
        x
        for x in (
            platform,
            str(finding.get("account") or ""),
            str(finding.get("severity") or ""),
            f"finding #{finding['id']}" if finding.get("id") is not None else "",
            f"opened {show_time(finding.get('opened_at'), tz)}" if finding.get("opened_at") else "",
        )
        if x
    )
    post_text = str(post.get("message") or "").strip()
    comment_id = comment.get("id") or finding.get("comment_id")
    status = str(comment.get("status") or rules.comment_label(kind) or "") or None
    reply = str(finding.get("suggested_reply") or "").strip() or None
    open_since = None
    if stage in FOLLOW_UP_STAGES and now is not None:
        open_since = _age(finding.get("opened_at"), now)
    return Facts(
        headline=headline,
        summary=summary,
        context=context,
        post_url=safe_url(post.get("permalink_url")),
        post_label=fit(inert(post_text.splitlines()[0]), 80) if post_text else None,
        correction=_inert(_correction(correction)),
        comment_author=one_line(comment.get("author_name")) or ("someone" if comment else None),
        comment_time=show_time(comment.get("created_time"), tz) if comment else None,
        comment_slack_time=slack_time(comment.get("created_time"), tz) if comment else None,
        account=str(finding.get("account") or "") or None,
        comment_status=status if comment or comment_id else None,
        # Archived texts shown as written but inert: a bidi override would make "gnp.exe" read
        # "exe.png" in Slack or a mail client, and a control character could hide words.
        comment_text=inert(str(comment.get("message"))) if comment.get("message") else None,
        reasons=() if stage == Stage.RESOLVED else tuple(str(r) for r in ev.get("reasons") or () if r)[:6],
        open_since=open_since,
        reply=reply,
        command=_command(finding, comment, status, reply),
        finding_url=safe_url(finding.get("finding_url")),
    )


def render_test(now: datetime, tz: str | None = None) -> AlertMessage:
    """A sample alert (the "Thursday" story) for ``comment-guard test-alert``."""
    finding = {
        "id": None,
        "account": "test",
        "kind": "removed-critical",
        "severity": "critical",
        "comment_id": "0_0",
        "post_id": "0",
        "opened_at": now.isoformat(),
        "suggested_reply": "We made a mistake: the meeting is on the 13th, not Thursday. "
        "Sorry for the confusion!",
        "evidence": {
            "platform": "test",
            "summary": "This is a test alert from comment-guard: nothing happened. "
            "If you can read this, the channel works.",
            "comment": {
                "id": "0_0",
                "message": "wait, the meeting is TONIGHT?!?",
                "author_name": "A reader",
                "created_time": now.isoformat(),
                "status": "deleted",
            },
            "post": {"id": "0", "message": "Town meeting on Thirteenth at 7pm."},
            "correction": {"removed": ["Thursday"], "added": ["Thirteenth"]},
        },
    }
    return render_alert(finding, Stage.TEST, now=now, tz=tz)


def _inert(text: str | None) -> str | None:
    return inert(text) if text else text


def _correction(c: Mapping[str, Any]) -> str | None:
    if c.get("summary"):
        return str(c["summary"])
    removed = ", ".join(str(x) for x in c.get("removed") or ())
    added = ", ".join(str(x) for x in c.get("added") or ())
    if removed or added:
        return f"{removed or '(nothing)'} → {added or '(nothing)'}"
    return None


def _command(
    finding: Mapping[str, Any], comment: Mapping[str, Any], status: str | None, reply: str | None
) -> str | None:
    """The exact CLI line to post the suggested reply.

    A deleted comment can no longer be replied to on any platform, so the reply then goes to
    the post, where the people who saw the question will see the answer.
    """
    if not reply:
        return None
    target = comment.get("id") or finding.get("comment_id")
    if (
        status == "deleted"
        or finding.get("kind") in ("removed-critical", "post-removed", "silent-correction")
        or not target
    ):
        target = finding.get("post_id") or target
    if not target:
        return None
    return f"comment-guard reply {shlex.quote(str(target))} {shlex.quote(reply)}"


def _age(opened_at: Any, now: datetime) -> str | None:
    try:
        opened = datetime.fromisoformat(str(opened_at))
    except (TypeError, ValueError):
        return None
    if opened.tzinfo is None or now - opened < timedelta(minutes=1):
        return None
    return format_duration(now - opened)


def _blocks(f: Facts) -> list[dict[str, Any]]:
    def section(md: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": md}}

    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": fit(f.headline, HEADER_LIMIT), "emoji": True},
        },
        section(
            fit_mrkdwn(
                f.summary + (f"\nOpen for {f.open_since} without a public reply." if f.open_since else ""),
                SECTION_LIMIT,
            )
        ),
    ]
    post = []
    if f.post_url:
        label = fit_mrkdwn(f.post_label or "open the post", 200).replace("|", "¦")
        post.append(f"*Post:* <{f.post_url.replace('&', '&amp;')}|{label}>")
    elif f.post_label:
        post.append("*Post:* " + fit_mrkdwn(f.post_label, 200))
    if f.correction:
        post.append("*What was corrected:* " + fit_mrkdwn(f.correction, 1000))
    if post:
        blocks.append(section("\n".join(post)))
    if f.comment_status or f.comment_text:
        when = f.comment_slack_time or fit_mrkdwn(f.comment_time or "unknown time", 100)
        head = fit_mrkdwn(f"Comment by {f.comment_author or 'someone'}", 300)
        head = f"*{head} · {when} · {(f.comment_status or 'unknown').upper()}*"
        quote = quote_mrkdwn(f.comment_text or "(text not archived)", SECTION_LIMIT - len(head) - 1)
        blocks.append(section(head + "\n" + quote))
    if f.reasons:
        blocks.append(section(fit_mrkdwn("Why it matters: " + "; ".join(f.reasons), SECTION_LIMIT)))
    if f.reply:
        blocks.append(section("*Suggested public reply:*\n" + quote_mrkdwn(f.reply, SECTION_LIMIT - 30)))
    if f.command:
        blocks.append(
            section(
                "*Post it from the command line:*\n```" + fit_mrkdwn(f.command, SECTION_LIMIT - 50) + "```"
            )
        )
    if f.context:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": fit_mrkdwn(f.context, SECTION_LIMIT)}],
            }
        )
    buttons = []
    if f.post_url:
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": fit("Open post", BUTTON_TEXT_LIMIT)},
                "url": f.post_url,
                "style": "primary",
                "action_id": "open_post",
            }
        )
    if f.finding_url:  # the finding's page on `comment-guard serve`
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": fit("Open finding", BUTTON_TEXT_LIMIT)},
                "url": f.finding_url,
                "action_id": "open_finding",
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _plain(f: Facts, *, short: bool) -> str:
    """Plain text: the Slack notification fallback (``short``) or the email body."""
    lines = [f.headline, "", f.summary]
    if f.open_since:
        lines.append(f"Open for {f.open_since} without a public reply.")
    if f.post_label or f.post_url:
        lines.append(f"Post: {f.post_label or ''} {f.post_url or ''}".rstrip())
    if f.correction:
        lines.append(f"What was corrected: {f.correction}")
    if f.finding_url:
        lines.append(f"Finding: {f.finding_url}")
    if f.comment_status or f.comment_text:
        lines += [
            "",
            f"Comment by {f.comment_author or 'someone'} · "
            f"{f.comment_time or 'unknown time'} · {(f.comment_status or '').upper()}",
        ]
        lines += ["> " + line for line in (f.comment_text or "(text not archived)").splitlines()]
    if short:
        return "\n".join(lines)
    if f.reasons:
        lines += ["", "Why it matters:"] + [f"- {r}" for r in f.reasons]
    if f.reply:
        lines += ["", "Suggested public reply:", f.reply]
    if f.command:
        lines += ["", "Post it from the command line:", f"  {f.command}"]
    if f.context:
        lines += ["", "-- ", f.context]
    return "\n".join(lines) + "\n"
