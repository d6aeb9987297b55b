"""What an alert says, independent of the channel: built by ``render``, drawn by every channel."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Facts"]


@dataclass(frozen=True)
class Facts:
    """What an alert says, independent of the channel that says it."""

    headline: str
    summary: str
    context: str
    post_url: str | None = None
    post_label: str | None = None
    correction: str | None = None
    comment_author: str | None = None
    comment_time: str | None = None
    comment_slack_time: str | None = None  # <!date^…> token: each Slack reader's own zone
    account: str | None = None
    comment_status: str | None = None
    comment_text: str | None = None
    reasons: tuple[str, ...] = ()
    open_since: str | None = None
    reply: str | None = None
    command: str | None = None
    finding_url: str | None = None  # the finding's page on `comment-guard serve` ([web] base_url)
