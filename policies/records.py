"""Plain records the policies read. ``guard/`` builds them from the archive; policies never do I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guard.states import Severity

__all__ = [
    "Version",
    "PostRecord",
    "CommentRecord",
    "ManualMark",
    "FindingDraft",
    "Thread",
    "PolicyConfig",
    "OpenFinding",
    "StaffLabel",
    "LABELS",
    "PROTECT_CHOICES",
]

# `[policy] protect`: "critical" protects what the classifier finds critical; "all" protects
# every comment that is not spam, abuse or the page's own (public bodies).
PROTECT_CHOICES = ("critical", "all")
# What staff may say about a comment with `comment-guard label`.
LABELS = ("critical", "not-critical")


@dataclass(frozen=True)
class Version:
    version: int
    message: str
    seen_at: str
    diff: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class PostRecord:
    id: str
    account: str
    platform: str
    message: str
    status: str
    created_time: str
    permalink_url: str | None
    versions: tuple[Version, ...]


@dataclass(frozen=True)
class CommentRecord:
    id: str
    post_id: str
    parent_id: str | None
    author_name: str | None
    author_id: str | None
    message: str
    created_time: str
    status: str
    from_page: bool
    status_changed_at: str | None = None
    copies_elsewhere: int = 0  # other posts of the account carrying exactly this text (spam evidence)


@dataclass(frozen=True)
class ManualMark:
    """Staff ran `comment-guard mark-corrected POST_ID --note ...`."""

    post_id: str
    at: str
    note: str | None = None


@dataclass(frozen=True)
class StaffLabel:
    """Staff ran `comment-guard label COMMENT_ID critical|not-critical`: a human decision that
    overrides the classifier for that comment while its text is the one labelled."""

    comment_id: str
    label: str  # one of LABELS
    by: str
    at: str
    note: str | None = None
    sha256: str | None = None  # of the text labelled; None = whatever the text is now


@dataclass(frozen=True)
class Thread:
    """Everything the rules need to know about one post."""

    post: PostRecord
    comments: tuple[CommentRecord, ...]
    marks: tuple[ManualMark, ...] = ()
    # (target id, at, reply id) replies made via comment-guard
    replies_posted: tuple[tuple[str, str, str], ...] = ()
    open_kinds: frozenset[str] = frozenset()  # kinds of open findings on this post
    labels: tuple[StaffLabel, ...] = ()  # the latest staff label of each labelled comment in comments
    # (comment id, "hide" | "delete"): staff did it with `--override --reason` and the comment
    # has not been seen visible since; its override finding is the alert for it.
    overrides: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class PolicyConfig:
    reply_within_seconds: float = 7200
    escalate_after_seconds: float = 21600
    markers: tuple[str, ...] = ("correction", "update", "edit", "clarification")
    abuse_words: tuple[str, ...] = ()
    protect: str = "critical"  # one of PROTECT_CHOICES
    protect_by_account: tuple[tuple[str, str], ...] = ()  # (account, protect) overrides

    def protect_for(self, account: str) -> tuple[str, str]:
        """The protection policy for `account` and where it comes from ("default", "policy"
        or "account")."""
        for name, value in self.protect_by_account:
            if name == account:
                return value, "account"
        return self.protect, "default" if self.protect == "critical" else "policy"


@dataclass(frozen=True)
class FindingDraft:
    """What a rule concluded; the engine decides whether it is new, and stores it."""

    kind: str
    severity: Severity
    dedupe_key: str
    post_id: str | None  # None for account-level findings (account-failing)
    comment_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)
    suggested_reply: str | None = None
    # When this occurrence of the situation began (ISO-8601): a finding with the same key
    # resolved before then was about an earlier one (the comment was shown again, then hidden
    # again), so this one opens anew. None: the situation happens once.
    since: str | None = None


@dataclass(frozen=True)
class OpenFinding:
    """A finding not yet resolved, as a rule sees it when asked whether it resolved itself."""

    id: int
    kind: str
    dedupe_key: str
    post_id: str | None
    comment_id: str | None
