"""Compare what a connector saw with the archive and write the difference as one poll.

The rule that protects trust: absence means nothing unless the scan that missed an object was
complete, the object stayed absent for ``absences_before_confirm`` complete scans, and the
platform then positively said it is gone (``confirm_gone`` → ``deleted``). Every other outcome
leaves the object ``unknown`` and it is asked about again next poll. This module never calls a
platform: ``PollDiff.plan`` names the suspects, the pipeline (``guard.runtime.pipeline``) asks
the connector about them, ``PollDiff.settle`` applies the answers, and ``write_poll`` writes
the whole poll (``PollDiff.pages()``, then the poll's own row and answers) in one transaction,
so a crash mid-poll changes nothing.

Speed: a poll re-reads the whole watch window, so most comments are unchanged. Page by page of
posts, the archive's copy of the page is read as tuples once, by ``plan``, and compared field by
field (what changed, what is absent); ``pages`` reads again only the few comments that changed,
and only they become rows and events (see bench/pipeline.py). Memory: one page at a time,
whatever the size of the account, plus the ids of the changed comments of a re-poll; absence is
decided per page too (a post's comments are all on its page).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlite_utils

from connectors.base import Comment, GoneStatus, GoneTarget, Post, PostRevision, PostScan, Snapshot
from guard.archive.events import make_event
from guard.archive.polls import PollBatch
from guard.clock import parse_iso
from guard.config import Account
from guard.errors import ConnectorError
from guard.redact import scrub
from guard.states import LIVE_STATUSES, CommentStatus
from guard.text import sha256_text, word_diff

__all__ = ["PollDiff"]

_PRESENT, _HIDDEN = CommentStatus.PRESENT.value, CommentStatus.HIDDEN.value

# What the archive holds of one page's comments, to compare with what the scan saw and to find
# the live ones it did not list (absent). Through comments_post (the window's posts), never a
# status index (every live comment in the archive): it costs the window, not the archive.
_STORED = """
SELECT id, message, status, hidden, missing_count, platform_status, post_id FROM comments
WHERE post_id IN (SELECT value FROM json_each(?))
"""
_STORED_KEYS = ("id", "message", "status", "hidden", "missing_count", "platform_status", "post_id")
_ROWS = "SELECT * FROM comments WHERE id IN (SELECT value FROM json_each(?))"
# A page of the scan: posts are diffed and written this many comments at a time, so a poll
# holds one page of rows in memory, not the account's (still one transaction: see write_poll).
PAGE_COMMENTS = 5000
# ``plan`` reads each page's archived comments once and keeps the ids ``pages`` must look at,
# for a page where they are few (a re-poll); a page with more (a first poll) is read again.
_PLANNED_MAX = PAGE_COMMENTS // 10
_WRITTEN_MAX = 50_000  # comment ids written by a poll's pages kept track of, at most
_ABSENT = """
SELECT id, post_id, sha256, version, status, hidden, missing_count, status_changed_at,
       last_seen, confirmed_at
FROM comments WHERE id IN (SELECT value FROM json_each(?))
"""


class PollDiff:
    """One poll's comparison. State lives here only for the length of the poll."""

    def __init__(
        self, db: sqlite_utils.Database, account: Account, snapshot: Snapshot, since: str, now: str
    ) -> None:
        self.db = db
        self.account = account
        self.snapshot = snapshot
        self.since = since
        self.now = now
        self.error: ConnectorError | None = snapshot.error
        # ``poll``: the poll's own row and what the absence check and the platform's answers
        # decide; ``batch``: where rows and events go now (a page of the scan, or ``poll``).
        self.poll = self.batch = PollBatch(account=account.name, started=now, finished=now)
        seen_ids = [s.post.id for s in snapshot.posts]
        self.posts = {
            r["id"]: r
            for r in db.query(
                "SELECT * FROM posts WHERE account = ? AND (id IN (SELECT value FROM json_each(?))"
                " OR (created_time >= ? AND status != 'deleted'))",
                [account.name, json.dumps(seen_ids), since],
            )
        }
        self.absent: dict[str, dict[str, Any]] = {}
        self.suspects: dict[str, GoneTarget] = {}
        # Per page, from ``plan``: the comments that are new or differ (id → not archived under
        # the page's posts), or None when ``pages`` must compare the page again.
        self._planned: list[dict[str, bool] | None] = []
        # The comments the pages written so far changed, whose archived row ``plan`` no longer
        # describes (None: too many to keep; later pages are compared again).
        self._written: set[str] | None = set()

    def event(self, kind: str, object_id: str, post_id: str | None, **data: Any) -> None:
        self.batch.events.append(
            make_event(
                kind, at=self.now, account=self.account.name, object_id=object_id, post_id=post_id, **data
            )
        )

    def plan(self, absences_before_confirm: int) -> list[GoneTarget]:
        """Find what the scan did not list; returns the objects to ask the platform about
        (absent from enough complete scans). Then call ``settle`` with the answers, and write
        ``pages()`` and the poll with ``write_poll``."""
        threshold = max(1, absences_before_confirm)
        complete = self.snapshot.posts_complete and self.error is None
        seen_posts: set[str] = set()
        for page in self._pages():
            seen = {c.id for scan in page for c in scan.comments}
            listed_all: list[str] = []  # posts whose every comment page was read
            verify: list[str] = []  # posts whose unlisted comments are due a by-id check
            for scan in page:
                seen_posts.add(scan.post.id)
                self.poll.items += 1 + len(scan.comments)
                if scan.complete:
                    listed_all.append(scan.post.id)
                else:
                    complete = False
                    if scan.verify_by_id and self._verification_due(scan.post.id):
                        verify.append(scan.post.id)
                        self.poll.posts_verified.append((self.now, scan.post.id))
            # one read of the page's archived comments: the changes, and the absent
            stored = self._stored(page)
            planned = _changed(page, stored) if stored else None  # None: all new (a first poll)
            self._planned.append(planned if planned is not None and len(planned) <= _PLANNED_MAX else None)
            self._absent_comments(listed_all, seen, threshold, stored)
            self._absent_comments(verify, seen, 1, stored)
        if self.snapshot.posts_complete:
            self._absent_posts(seen_posts, threshold)
        self._complete = complete
        if all(p is None for p in self._planned):
            self._written = None  # every page is compared again: nothing to keep track of
        return list(self.suspects.values())

    def _pages(self) -> Iterator[list[PostScan]]:
        """The scan's posts in order, grouped into pages of about ``PAGE_COMMENTS`` comments.
        A post's comments are all in its page, so absence is decided page by page."""
        page: list[PostScan] = []
        size = 0
        for scan in self.snapshot.posts:
            page.append(scan)
            size += len(scan.comments)
            if size >= PAGE_COMMENTS:
                yield page
                page, size = [], 0
        if page:
            yield page

    def pages(self) -> Iterator[PollBatch]:
        """What the scan changed, page by page of posts, in scan order: each post's row and
        versions, then its new and changed comments, with their events. Runs inside the write
        transaction (``write_poll``), after ``settle``, so it compares with the archive as it
        is under the write lock."""
        for index, page in enumerate(self._pages()):
            attention = self._attention(page, self._planned[index] if index < len(self._planned) else None)
            if self._written is not None:
                self._written.update(attention)
                if len(self._written) > _WRITTEN_MAX:
                    self._written = None
            self.batch = PollBatch(account=self.account.name, started=self.now, finished=self.now)
            for scan in page:
                self._post(scan.post)
                self.batch.posts_scanned.append((self.now, self.now if scan.complete else None, scan.post.id))
                for comment in scan.comments:
                    if comment.id in attention:
                        self._comment(comment, attention[comment.id], scan.complete)
                    elif not scan.complete:
                        self.batch.comments_seen.append((self.now, comment.id))
            yield self.batch
        self.batch = self.poll

    def _stored(self, page: list[PostScan]) -> dict[str, tuple[Any, ...]]:
        """The archive's copy of the page's comments, as ``_STORED`` tuples by id."""
        return {r[0]: r for r in self.db.execute(_STORED, [json.dumps([scan.post.id for scan in page])])}

    def _attention(
        self, page: list[PostScan], planned: dict[str, bool] | None
    ) -> dict[str, dict[str, Any] | None]:
        """The page's seen comments that are new (None) or differ from the archive in text,
        visibility or presence (their archived row). The archive's copy of the page is read
        as tuples and compared field by field, by ``plan`` (``planned``: what it found, still
        true unless an earlier page of this poll wrote one of the page's comments) or here;
        full rows are read for the few that differ."""
        written = self._written
        if (
            planned is None
            or written is None
            or (written and not written.isdisjoint(c.id for scan in page for c in scan.comments))
        ):
            planned = _changed(page, self._stored(page))
        out: dict[str, dict[str, Any] | None] = dict.fromkeys(planned)
        # not archived under these posts: new, unless under another (the last listing of each)
        new = (
            {c.id: c for scan in page for c in scan.comments if planned.get(c.id)}
            if any(planned.values())
            else {}
        )
        if out:
            for row in self.db.query(_ROWS, [json.dumps(list(out))]):
                cid = row["id"]
                if cid in new and not _differs(new[cid], tuple(row[k] for k in _STORED_KEYS)):
                    del out[cid]  # archived under another post id, unchanged
                else:
                    out[cid] = row
        return out

    def settle(self, answers: Mapping[str, GoneStatus], error: ConnectorError | None = None) -> PollBatch:
        """Apply the platform's answers about the suspects (missing answers mean "unknown");
        ``error`` is why asking failed, if it did. Returns the batch to write."""
        self.error = self.error or error
        for oid in self.suspects:
            answer: GoneStatus = answers.get(oid, "unknown")
            if oid in self.absent:
                self._settle(self.absent[oid], answer, "comment", self.poll.comment_updates)
            else:
                self._settle(self.posts[oid], answer, "post", self.poll.posts)
        self.poll.complete = self._complete and self.error is None
        # The platform's message may quote the token: scrubbed before it reaches polls.error.
        self.poll.error = scrub(str(self.error)) if self.error is not None else None
        return self.poll

    def _post(self, post: Post) -> None:
        digest = sha256_text(post.message)
        old = self.posts.get(post.id)
        row = {
            "id": post.id,
            "account": self.account.name,
            "message": post.message,
            "created_time": post.created_time,
            "updated_time": post.updated_time,
            "permalink_url": post.permalink_url,
            "author_id": post.author_id,
            "author_name": post.author_name,
            "sha256": digest,
            "previous_ids": json.dumps(list(post.previous_ids)),
            "last_seen": self.now,
            "missing_count": 0,
        }
        if old is None:
            row.update(status=CommentStatus.PRESENT, first_seen=self.now, status_changed_at=self.now)
            # Edited before our first poll: every saved revision, oldest first (else the text now).
            steps = _missed_versions(post, None, None) or [(post.message, None)]
            row["version"] = self._post_versions(post, steps, None, 0)
            self.batch.posts.append(row)
            self.posts[post.id] = row
            return
        changed = False
        if old["sha256"] != digest:
            # The revisions saved since our last version, each one a version (else the text now).
            steps = _missed_versions(post, old["sha256"], old["updated_time"]) or [(post.message, None)]
            row["version"] = self._post_versions(post, steps, old["message"], old["version"])
            changed = True
        if old["status"] != CommentStatus.PRESENT:
            row.update(status=CommentStatus.PRESENT, status_changed_at=self.now)
            self.event("post_reappeared", post.id, post.id, previous_status=old["status"])
            changed = True
        if changed or old["previous_ids"] != row["previous_ids"] or old["missing_count"]:
            self.batch.posts.append({**old, **row})

    def _post_versions(
        self, post: Post, steps: list[tuple[str, PostRevision | None]], previous: str | None, version: int
    ) -> int:
        """Insert ``steps`` (text, the revision that saved it) as versions after ``version``,
        each with its revision's time and author; returns the last version number. Only ever
        inserts: the versions already stored stay as they are."""
        previous_sha = sha256_text(previous) if previous is not None else None
        for text, rev in steps:
            version += 1
            digest = sha256_text(text)
            diff = word_diff(previous, text) if previous is not None else None
            updated = rev.created_time if rev is not None else post.updated_time
            self.batch.post_versions.append(
                _post_version(post.id, version, text, digest, self.now, diff, updated)
            )
            saved = (
                {"revision_id": rev.id, "revised_by": rev.author_id, "revised_at": rev.created_time}
                if rev is not None
                else {}
            )
            if previous_sha is None:
                self.event("post_added", post.id, post.id, version=version, sha256=digest, **saved)
            else:
                self.event(
                    "post_edited",
                    post.id,
                    post.id,
                    version=version,
                    sha256=digest,
                    previous_sha256=previous_sha,
                    diff=diff,
                    **saved,
                )
            previous, previous_sha = text, digest
        return version

    def _comment(self, c: Comment, old: dict[str, Any] | None, scan_complete: bool) -> None:
        digest = sha256_text(c.message)
        if old is None:
            status = CommentStatus.HIDDEN if c.hidden else CommentStatus.PRESENT
            self.batch.comments.append(
                (  # NEW_COMMENT_COLUMNS
                    c.id,
                    self.account.name,
                    c.post_id,
                    c.parent_id,
                    c.author_id,
                    c.author_name,
                    c.message,
                    c.created_time,
                    None if c.hidden is None else int(c.hidden),
                    int(c.from_page),
                    status,
                    digest,
                    self.now,
                    c.platform_status,
                )
            )
            self.batch.comment_versions.append((c.id, 1, c.message, digest, self.now, None))
            self.event(
                "comment_added",
                c.id,
                c.post_id,
                version=1,
                sha256=digest,
                parent_id=c.parent_id,
                from_page=c.from_page,
                hidden=bool(c.hidden),
                **_moderation(c),
            )
            if c.hidden:
                self.event("comment_hidden", c.id, c.post_id, first_seen_hidden=True, **_moderation(c))
            return
        row = {**old, "message": None}  # None: the stored text stays (and FTS is not touched)
        changed = False
        if old["sha256"] != digest:
            row.update(message=c.message, sha256=digest, version=old["version"] + 1)
            diff = word_diff(old["message"], c.message)
            self.batch.comment_versions.append(
                (c.id, row["version"], c.message, digest, self.now, _diff_json(diff))
            )
            self.event(
                "comment_edited",
                c.id,
                c.post_id,
                version=row["version"],
                sha256=digest,
                previous_sha256=old["sha256"],
                diff=diff,
            )
            changed = True
        hidden = bool(old["hidden"]) if c.hidden is None else c.hidden
        status = CommentStatus.HIDDEN if hidden else CommentStatus.PRESENT
        if old["status"] in (CommentStatus.DELETED, CommentStatus.UNKNOWN):
            self.event("comment_reappeared", c.id, c.post_id, previous_status=old["status"], status=status)
        elif old["status"] == CommentStatus.PRESENT and status == CommentStatus.HIDDEN:
            self.event("comment_hidden", c.id, c.post_id, **_moderation(c))
        elif old["status"] == CommentStatus.HIDDEN and status == CommentStatus.PRESENT:
            self.event("comment_unhidden", c.id, c.post_id, **_moderation(c))
        elif status == CommentStatus.HIDDEN and old["platform_status"] not in (None, c.platform_status):
            # still hidden, but moved by staff (WordPress hold → spam → trash): say where to
            self.event(
                "comment_moderated",
                c.id,
                c.post_id,
                previous_platform_status=old["platform_status"],
                **_moderation(c),
            )
        if c.platform_status is not None and old["platform_status"] != c.platform_status:
            self.batch.comment_platform_status.append((c.platform_status, c.id))
        if status != old["status"]:
            row.update(status=status, status_changed_at=self.now)
            changed = True
        if c.hidden is not None and old["hidden"] != int(c.hidden):
            row["hidden"] = int(c.hidden)
            changed = True
        if old["missing_count"]:
            row["missing_count"] = 0
            changed = True
        if changed:
            row["last_seen"] = self.now
            self.batch.comment_updates.append(row)
        elif not scan_complete:
            self.batch.comments_seen.append((self.now, c.id))

    def _absent_comments(
        self, post_ids: list[str], seen: set[str], threshold: int, stored: dict[str, tuple[Any, ...]]
    ) -> None:
        """Archived live comments of these posts that the scan did not list (``seen``: the ids
        it listed on their page; ``stored``: the page's archived comments)."""
        if not post_ids:
            return
        posts = set(post_ids)
        gone = [
            cid
            for cid, row in stored.items()
            if cid not in seen and row[6] in posts and row[2] in LIVE_STATUSES  # post_id, status
        ]
        if not gone:
            return
        for old in self.db.query(_ABSENT, [json.dumps(gone)]):
            count = old["missing_count"] + 1
            self.poll.comments_missing.append((count, old["id"]))
            old.update(missing_count=count, message=None)
            self.absent[old["id"]] = old
            if count >= threshold and self._confirmation_due(old["confirmed_at"]):
                self.suspects[old["id"]] = GoneTarget(old["id"], old["post_id"])

    def _verification_due(self, post_id: str) -> bool:
        return self._confirmation_due(self.posts.get(post_id, {}).get("comments_verified_at"))

    def _confirmation_due(self, last: str | None) -> bool:
        """Objects the platform said exist but won't list (restricted users, protected
        authors) are re-asked every ``confirm_every``, not every poll."""
        return last is None or parse_iso(last) + self.account.confirm_every <= parse_iso(self.now)

    def _absent_posts(self, seen: set[str], threshold: int) -> None:
        for pid, old in self.posts.items():
            if (
                pid in seen
                or old["status"] == CommentStatus.DELETED
                or (old["created_time"] or "") < self.since
            ):
                continue
            count = old["missing_count"] + 1
            self.poll.posts_missing.append((count, pid))
            old["missing_count"] = count
            if count >= threshold:
                self.suspects[pid] = GoneTarget(pid, self.account.page_id)

    def _settle(self, old: dict[str, Any], answer: GoneStatus, kind: str, rows: list[dict[str, Any]]) -> None:
        """Apply one confirm_gone answer. "present" (exists, just not listed: a restricted
        user, list lag) changes nothing; "unavailable" is a visibility change, never a deletion.
        Both are asked again after ``confirm_every``, "unknown" on the next poll."""
        status = {"deleted": CommentStatus.DELETED, "present": old["status"]}.get(
            answer, CommentStatus.UNKNOWN
        )
        changed = status != old["status"]
        if kind == "comment" and answer in ("present", "unavailable"):
            old["confirmed_at"] = self.now
        elif not changed:
            return
        if changed:
            post_id = old["post_id"] if kind == "comment" else old["id"]
            if status == CommentStatus.DELETED:
                self.event(
                    f"{kind}_deleted",
                    old["id"],
                    post_id,
                    version=old["version"],
                    sha256=old["sha256"],
                    previous_status=old["status"],
                )
            else:
                self.event(
                    f"{kind}_{'unavailable' if answer == 'unavailable' else 'missing'}",
                    old["id"],
                    post_id,
                    previous_status=old["status"],
                )
            old.update(status=status, status_changed_at=self.now)
        rows.append(old)


def _changed(page: list[PostScan], stored: dict[str, tuple[Any, ...]]) -> dict[str, bool]:
    """The page's seen comments that are new or differ from ``stored`` (the archive's copy of
    the page): id → True when not archived under the page's posts.

    Most comments of a re-poll are unchanged: the first test proves that of the usual one (same
    text, shown or hidden as archived, nothing missing, no platform status) inline, without
    ``_differs``, which decides the others (a third of the time of a re-poll's comparison)."""
    out: dict[str, bool] = {}
    get = stored.get
    for scan in page:
        for c in scan.comments:
            old = get(c.id)
            if old is None:
                out[c.id] = True
            elif (
                old[1] == c.message  # message, status, hidden, missing_count
                and old[2] == (_HIDDEN if c.hidden else _PRESENT)
                and old[3] == c.hidden
                and not old[4]
                and c.platform_status is None
            ):
                continue
            elif _differs(c, old):
                out[c.id] = False
    return out


def _differs(c: Comment, old: tuple[Any, ...]) -> bool:
    """Whether a seen comment differs from its archived (id, message, status, hidden,
    missing_count, platform_status, ...): its text, visibility or presence changed."""
    _, message, status, hidden, missing_count, platform_status = old[:6]
    if (
        message != c.message
        or missing_count != 0
        or status not in (CommentStatus.PRESENT, CommentStatus.HIDDEN)
    ):
        return True
    if c.hidden is not None and (
        hidden != int(c.hidden) or status != (CommentStatus.HIDDEN if c.hidden else CommentStatus.PRESENT)
    ):
        return True
    return c.platform_status is not None and platform_status != c.platform_status


def _missed_versions(
    post: Post, stored_sha: str | None, stored_time: str | None
) -> list[tuple[str, PostRevision | None]]:
    """The texts the platform saved (WordPress revisions) that the archive has not seen, oldest
    first, ending with the current text: each with the revision that saved it (None when no
    revision holds the current text). ``stored_sha`` / ``stored_time``: the archive's latest
    version and the post's modification time when it was read (None: a new post). The missed
    revisions follow the last one holding our text, or (WordPress keeps no revision of the text
    first published) were saved after ``stored_time``. Empty when the platform keeps no
    revisions or none can be placed: then only the current text is recorded."""
    revisions = list(post.revisions)
    if not revisions:
        return []
    if stored_sha is not None:
        hashes = [sha256_text(r.message) for r in revisions]
        if stored_sha in hashes:
            revisions = revisions[len(hashes) - hashes[::-1].index(stored_sha) :]
        elif stored_time:
            revisions = [r for r in revisions if r.created_time > stored_time]
        else:
            return []
    steps: list[tuple[str, PostRevision | None]] = []
    last = stored_sha
    for text, rev in [(r.message, r) for r in revisions] + [(post.message, None)]:
        digest = sha256_text(text)
        if digest != last:  # a save that changed nothing we keep (an excerpt, a slug) is no version
            steps.append((text, rev))
            last = digest
    return steps


def _moderation(c: Comment) -> dict[str, str]:
    """The platform's own moderation status and note (WordPress: "trash", an override's who and
    why) for the event, where the platform gives them; nothing for the others."""
    out = {}
    if c.platform_status:
        out["platform_status"] = c.platform_status
    if c.moderation_note:
        out["note"] = c.moderation_note
    return out


def _diff_json(diff: list[list[str]] | None) -> str | None:
    return json.dumps(diff, ensure_ascii=False) if diff else None


def _post_version(
    post_id: str,
    version: int,
    message: str,
    digest: str,
    seen_at: str,
    diff: list[list[str]] | None,
    updated_time: str | None,
) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "version": version,
        "message": message,
        "sha256": digest,
        "seen_at": seen_at,
        "diff": _diff_json(diff),
        "updated_time": updated_time,
    }
