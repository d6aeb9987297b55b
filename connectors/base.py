"""The small interface every platform connector implements, and the records it returns.

Connectors read and act on one platform; they never touch SQLite and never decide what a
change means. The one promise they must keep: ``PostScan.complete`` is true only when every
page of that post's comments was read, and ``confirm_gone`` answers ``deleted`` only on a
positive answer from the platform backed by a successful control read in the same call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Literal, Mapping, Protocol, Sequence, runtime_checkable

from guard.errors import ConnectorError, RateLimited

__all__ = [
    "Post",
    "PostRevision",
    "Comment",
    "PostScan",
    "Snapshot",
    "GoneTarget",
    "GoneStatus",
    "Connector",
    "ConnectorSettings",
    "ReadBudget",
    "TokenStore",
    "ProtectionMarks",
    "TokenLifetime",
    "TokenLifetimeReader",
    "TrashBin",
    "merge_repeats",
]

GoneStatus = Literal["deleted", "present", "unknown", "unavailable"]
"""``deleted``: the platform positively says it is gone and the control read succeeded.
``present``: it still exists (it only fell out of a list). ``unavailable``: it exists but this
token may no longer see it (X protected/suspended author); a visibility change, not a deletion.
``unknown``: anything else; ask again next poll."""

# A UTF-16 surrogate with no partner: JSON can carry one ("\ud800", as from a text cut in the
# middle of an emoji), but UTF-8 cannot, so hashing or storing it would fail the whole poll.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(record: object, *names: str) -> None:
    """Replace lone surrogates in ``record``'s text fields with U+FFFD, as a browser shows them.
    Paired ones never get here: JSON decoding joins a pair into one character."""
    for name in names:
        text = getattr(record, name)
        if text is not None and not text.isascii() and _LONE_SURROGATE.search(text):
            object.__setattr__(record, name, _LONE_SURROGATE.sub("\ufffd", text))


@dataclass(frozen=True)
class PostRevision:
    """One saved version of a post, as the platform keeps it (WordPress revisions)."""

    id: str
    message: str
    created_time: str  # ISO-8601 UTC: when this version was saved
    author_id: str | None = None  # who saved it

    def __post_init__(self) -> None:
        _storable(self, "message")


@dataclass(frozen=True)
class Post:
    id: str
    message: str
    created_time: str  # ISO-8601 UTC, as the platform gave it
    updated_time: str | None = None
    permalink_url: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    # Other platform ids of this same post: X gives each edit a new id; ``id`` stays the
    # original and these are the later ones, newest last.
    previous_ids: tuple[str, ...] = ()
    # Versions the platform itself keeps (WordPress revisions), oldest first; the last one is
    # the current text. Empty where the platform keeps none or they were not read this scan.
    revisions: tuple[PostRevision, ...] = ()

    def __post_init__(self) -> None:
        _storable(self, "message", "author_name")


@dataclass(frozen=True)
class Comment:
    id: str
    post_id: str
    parent_id: str | None  # None for a top-level comment; else the comment it replies to
    message: str
    created_time: str
    author_id: str | None = None
    author_name: str | None = None
    hidden: bool | None = None  # None: the platform does not report it (X)
    from_page: bool = False  # written by the account we guard (a page reply)
    # The platform's own moderation status when it has more than shown/hidden (WordPress:
    # approved, hold, spam, trash), and a moderation note (a recorded override's who and why).
    platform_status: str | None = None
    moderation_note: str | None = None

    def __post_init__(self) -> None:
        _storable(self, "message", "author_name", "moderation_note")


@dataclass(frozen=True)
class PostScan:
    """One post and the comments read for it in this scan."""

    post: Post
    comments: tuple[Comment, ...]
    complete: bool  # every page of comments read; only then may absence mean anything
    incomplete_reason: str | None = None
    # The list can no longer show every comment (X replies older than recent search): known
    # comments missing from it are checked one by one with confirm_gone, on a slower schedule.
    verify_by_id: bool = False


def merge_repeats(scans: Sequence[PostScan]) -> tuple[PostScan, ...]:
    """One scan per post and every comment once, in first-seen order.

    A post published while we page shifts the cursor, so a post (and its comments) can come back
    on the next list page too; the archive must see it once. Two scans of one post become one
    that is complete only if both were; a comment listed twice keeps its last reading, under
    the post that listed it first.
    """
    first: dict[str, int] = {}
    merged: list[PostScan] = []
    for scan in scans:
        i = first.get(scan.post.id)
        if i is None:
            first[scan.post.id] = len(merged)
            merged.append(scan)
            continue
        old = merged[i]
        merged[i] = PostScan(
            post=scan.post,
            comments=old.comments + scan.comments,
            complete=old.complete and scan.complete,
            incomplete_reason=old.incomplete_reason or scan.incomplete_reason,
            verify_by_id=old.verify_by_id or scan.verify_by_id,
        )
    owner: dict[str, str] = {}
    out: list[PostScan] = []
    for scan in merged:
        unique: dict[str, Comment] = {}
        for comment in scan.comments:
            if owner.setdefault(comment.id, scan.post.id) == scan.post.id:
                unique[comment.id] = comment
        out.append(
            scan if len(unique) == len(scan.comments) else replace(scan, comments=tuple(unique.values()))
        )
    return tuple(out)


@dataclass(frozen=True)
class Snapshot:
    """What one fetch saw. Partial on error: ``error`` says why and what was read is kept."""

    posts: tuple[PostScan, ...]
    posts_complete: bool  # every page of the post list (within the window) was read
    api_calls: int = 0
    error: ConnectorError | None = None


@dataclass(frozen=True)
class GoneTarget:
    """An object suspected gone, and the object to read as a control with the same token."""

    id: str
    control_id: str


@dataclass(frozen=True)
class ConnectorSettings:
    """What a connector needs to start: built by ``guard.config.Account.connector_settings``."""

    platform: str
    account_id: str  # page id (Facebook), IG user id (Instagram), user id (X)
    token: str
    base_url: str | None = None
    graph_version: str = "v24.0"  # Graph API platforms
    monthly_read_budget: int | None = None  # X: post reads per month
    site_url: str | None = None  # WordPress: the site's address
    username: str | None = None  # WordPress: the user of the application password in ``token``
    # X: where the OAuth 2.0 refresh token lives (a 0600 file the caller owns); None: the token
    # in ``token`` is used as it is until it expires
    token_store: TokenStore | None = None


class TokenStore(Protocol):
    """Where a connector keeps an OAuth 2.0 grant that it refreshes itself (X). The connector
    reads and writes it through this and never learns where it lives; ``save`` must replace
    the stored grant atomically (a crash leaves the old grant or the new one, never half)."""

    def load(self) -> dict[str, str] | None:
        """The stored grant (``refresh_token``, ``access_token``, ``expires_at`` ISO-8601…), or None."""
        ...

    def save(self, grant: Mapping[str, str]) -> None: ...


class ReadBudget:
    """A monthly allowance of billed reads (X bills a post once per UTC day, however often a
    read returns it).

    The spend belongs to one calendar month (UTC) and starts over on the 1st. The connector
    only counts; the caller keeps the spend across restarts: ``set_spent`` with what the month
    already cost before a poll, ``spent`` after it to store the new total; and the posts already
    billed today with ``set_billed_today`` before, ``billed_today`` after (``add_posts`` counts
    only a post not billed yet this UTC day).
    """

    def __init__(self, limit: int, clock: Callable[[], datetime], *, platform: str) -> None:
        self.limit = limit
        self.platform = platform  # for the message when the budget is reached
        self._clock = clock
        self._month: tuple[int, int] | None = None
        self._spent = 0
        self._day = ""
        self._billed: set[str] = set()

    def set_billed_today(self, day: str, post_ids: Iterable[str]) -> None:
        """The posts already billed on ``day`` (``YYYY-MM-DD``, UTC), as stored by the caller."""
        self._day, self._billed = day, set(post_ids)

    def billed_today(self) -> tuple[str, list[str]]:
        """(today's UTC date, the posts billed on it), for the caller to store."""
        self._roll_day()
        return self._day, sorted(self._billed)

    def add_posts(self, post_ids: Iterable[str]) -> None:
        """A read returned these posts: each one not billed yet today costs one read."""
        self._roll_day()
        new = set(post_ids) - self._billed
        self._billed |= new
        self.add(len(new))

    def _roll_day(self) -> None:
        day = f"{self._now():%Y-%m-%d}"
        if day != self._day:
            self._day, self._billed = day, set()

    def set_spent(self, reads_this_month: int) -> None:
        """What this month already cost, as stored by the caller."""
        self._month = self._this_month()
        self._spent = int(reads_this_month)

    @property
    def spent(self) -> int:
        """Reads this calendar month: the last ``set_spent`` plus reads counted since."""
        self._roll_month()
        return self._spent

    def add(self, reads: int) -> None:
        self._roll_month()
        self._spent += reads

    def check(self) -> None:
        """Raise ``RateLimited`` until the 1st of next month once the limit is reached."""
        if self.spent < self.limit:
            return
        now = self._now()
        first = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=timezone.utc)
        raise RateLimited(
            f"monthly {self.platform} read budget reached ({self._spent} of {self.limit} post reads); "
            f"reads resume on {first:%Y-%m-%d} UTC or when monthly_read_budget is raised",
            retry_after=max(1.0, (first - now).total_seconds()),
        )

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)

    def _this_month(self) -> tuple[int, int]:
        now = self._now()
        return (now.year, now.month)

    def _roll_month(self) -> None:
        month = self._this_month()
        if month != self._month:
            self._month, self._spent = month, 0


class Connector(Protocol):
    """What ``guard/`` needs from a platform. All errors are ``guard.errors.ConnectorError``."""

    platform: str
    # Absent from this many consecutive complete scans before confirm_gone is asked (IG: 2).
    absences_before_confirm: int

    @property
    def api_calls(self) -> int:
        """Requests made since creation; the poller records per-poll deltas."""
        ...

    @property
    def read_budget(self) -> ReadBudget | None:
        """The monthly allowance of billed reads (X with ``monthly_read_budget``); None where
        reads are not billed (the Graph API throttles but does not bill)."""
        ...

    def fetch(self, since: datetime) -> Snapshot: ...

    def fetch_post(self, post_id: str) -> Snapshot | None:
        """Read one post and all its comments now (a webhook said it changed): a Snapshot with
        that one post (``posts_complete`` False: the post list was not read), the post's scan
        complete only if every comment page was read. ``NotFound`` if the post is gone or not
        visible. None where the platform cannot read one post alone: the caller polls instead."""
        ...

    def confirm_gone(self, targets: Sequence[GoneTarget]) -> dict[str, GoneStatus]: ...

    def check(self) -> list[str]:
        """Verify token and permissions with live calls; returns human-readable findings."""
        ...

    def reply(self, target_id: str, message: str) -> str: ...

    def hide(self, comment_id: str) -> None: ...

    def unhide(self, comment_id: str) -> None: ...

    def delete(self, comment_id: str) -> None: ...

    def close(self) -> None:
        """Release the HTTP session; the connector is not used afterwards."""
        ...


@runtime_checkable
class ProtectionMarks(Protocol):
    """An optional capability: the platform itself can refuse to delete a comment we mark
    protected (WordPress with comment-guard's must-use plugin). The pipeline hands it the
    classifier's and staff labels' decision after each poll; other connectors lack it."""

    def sync_protection(self, protected: Mapping[str, bool]) -> int:
        """Mark (True) or unmark (False) these comment ids where the mark differs from what
        the last fetch read; returns how many marks changed. Raises ``ConnectorError``."""
        ...


@dataclass(frozen=True)
class TokenLifetime:
    """What the platform says about the token itself (Graph ``debug_token``).

    ``expires_at`` / ``data_access_expires_at``: None when the platform says "never" (Graph
    writes 0); after ``data_access_expires_at`` the app may read nothing the token's user
    granted until they log in to the app again.
    """

    token_type: str  # "PAGE", "USER", "SYSTEM_USER", "APP"…, as the platform names it
    is_valid: bool
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    scopes: tuple[str, ...] = ()
    error: str | None = None  # why the platform calls it invalid (no token in it)


@runtime_checkable
class TokenLifetimeReader(Protocol):
    """An optional capability: the connector can ask the platform when its token expires
    (Facebook and Instagram, through the same Page token). The daemon asks once a day."""

    def token_lifetime(self) -> TokenLifetime:
        """Raises ``ConnectorError`` when the platform cannot be asked."""
        ...


@runtime_checkable
class TrashBin(Protocol):
    """An optional capability: the platform keeps deleted comments in a trash (WordPress).
    ``delete`` moves a comment there (recoverable); ``purge`` deletes one permanently, and only
    one already in the trash. ``comment-guard delete --override --reason`` of a trashed comment
    purges it; the poll after confirms the deletion as for any other."""

    def in_trash(self, comment_id: str) -> bool:
        """Whether the platform has this comment in its trash now (one read)."""
        ...

    def purge(self, comment_id: str) -> None:
        """Delete a trashed comment permanently; ``ConnectorError`` if it is not in the trash."""
        ...
