"""One pass over a thread: its corrections, and which comments are protected and why.

Rules share this instead of each re-deriving corrections and re-classifying comments.
A comment's verdict comes from, in order of precedence: the page wrote it (never protected);
a staff label on its current text (`comment-guard label`, a human decision); the protection
policy (`protect = "all"` protects every comment that is not spam, abuse or the page's own);
the classifier.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from guard.states import CommentStatus
from guard.text import normalized_words, sha256_text
from policies.corrections import Correction, as_read_at, detect_corrections, find_marker
from policies.records import CommentRecord, ManualMark, PolicyConfig, PostRecord, StaffLabel, Thread
from policies.verdict import Classification, ClassifyConfig

__all__ = ["Analysis", "analyze", "reads_every_comment", "VerdictCache", "Verdicts"]

_NOT_PROTECTED = Classification(critical=False, reasons=("written by the page",), excluded="page")


class VerdictCache(Protocol):
    """Stored classifier verdicts, keyed by comment and by ``inputs`` (a digest of everything
    ``classify`` reads: the text, the correction's changed words, whether it was posted while
    the wrong version was live, its copies on other posts, the classifier config and code).
    A stored verdict is reused only when its inputs are the same, so it is never stale."""

    def get(self, comment_id: str, inputs: str) -> Classification | None: ...

    def put(self, comment_id: str, post_id: str, inputs: str, verdict: Classification) -> None: ...


class Verdicts(Mapping[str, Classification]):
    """Each comment's verdict, computed on first use: the rules ask only about the comments
    they look at (a hidden one, a deleted one, the present ones of a corrected post)."""

    def __init__(self, ids: tuple[str, ...], compute: Callable[[str], Classification]) -> None:
        self._ids = ids
        self._known = frozenset(ids)
        self._compute = compute
        self._done: dict[str, Classification] = {}

    def __getitem__(self, comment_id: str) -> Classification:
        verdict = self._done.get(comment_id)
        if verdict is None:
            if comment_id not in self._known:
                raise KeyError(comment_id)
            verdict = self._done[comment_id] = self._compute(comment_id)
        return verdict

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


_SOURCE_DIGEST: list[str] = []
# json.dumps(..., ensure_ascii=False) without making an encoder per call (same output)
_JSON = json.JSONEncoder(ensure_ascii=False)


def _classifier_digest() -> str:
    """The classifier's code is an input too: an upgrade that changes it re-classifies."""
    if not _SOURCE_DIGEST:
        src = Path(__file__).with_name("classify.py").read_bytes()
        _SOURCE_DIGEST.append(hashlib.sha256(src).hexdigest()[:16])
    return _SOURCE_DIGEST[0]


def classify_inputs(
    message: str, changed: list[str], while_wrong: bool, copies: int, config: ClassifyConfig
) -> str:
    """A digest of everything ``classify`` reads for one comment: the SHA-256 of the JSON list
    ``[classifier digest, repr(config), changed, while_wrong, copies, message]``. Stored
    verdicts are keyed by it, so it never changes for the same inputs."""
    digest = _inputs_head(config).copy()
    # json.dumps joins a list's items with ", ": the head ends with one, this goes on from it.
    tail = _JSON.encode([changed, while_wrong, copies, message])[1:]
    digest.update(tail.encode("utf-8"))
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _inputs_head(config: ClassifyConfig) -> hashlib._Hash:
    """The digest so far of the list's first two items, which are the same for every comment
    analysed under ``config``: its repr alone (1.3 kB) cost more than the rest of the digest."""
    head = _JSON.encode([_classifier_digest(), repr(config)])[:-1] + ", "
    return hashlib.sha256(head.encode("utf-8"))


@dataclass(frozen=True)
class Analysis:
    thread: Thread
    corrections: tuple[Correction, ...]
    classifications: Mapping[str, Classification]
    config: PolicyConfig
    protect: str = "critical"  # the protection policy that applied to this thread's account
    protect_source: str = "default"  # "default", "policy" ([policy] protect) or "account"

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)

    @property
    def latest(self) -> Correction | None:
        return self.corrections[-1] if self.corrections else None

    def correction_for(self, comment: CommentRecord) -> Correction | None:
        """The latest correction as this comment's author needs to hear it (see ``as_read_at``):
        what suggested replies tell them."""
        latest = self.latest
        return None if latest is None else as_read_at(self.thread.post, latest, comment.created_time)

    def comment(self, comment_id: str | None) -> CommentRecord | None:
        return self._by_id.get(comment_id) if comment_id is not None else None

    # Read once per analysis: the rules ask about every comment of a thread, and a thread of
    # thousands of questions asked each of them about every comment again (3,000 replies
    # under one comment: seconds per sweep, every minute).
    @functools.cached_property
    def _by_id(self) -> dict[str, CommentRecord]:
        return {c.id: c for c in self.thread.comments}

    @functools.cached_property
    def _page_comments(self) -> tuple[CommentRecord, ...]:
        """The page's own comments still public, oldest first."""
        return tuple(
            sorted((c for c in self.thread.comments if _page_public(c)), key=lambda c: c.created_time)
        )

    def protected(self, comment: CommentRecord) -> bool:
        return self.classifications[comment.id].critical

    def page_reply_to(self, comment: CommentRecord) -> str | None:
        """When the page first answered this comment publicly: a reply in its thread, a page
        comment naming its author (the first name as a word: Ed is not in "updated"), or a
        reply sent through `comment-guard reply`. An answer deleted or hidden since is no
        public answer."""
        times = []
        first = next(iter(normalized_words(comment.author_name or "")), "")
        for other in self._page_comments:
            if other.created_time < comment.created_time:
                continue
            if other.parent_id == comment.id or (
                other.parent_id == comment.parent_id and comment.parent_id is not None
            ):
                times.append(other.created_time)
            elif len(first) > 1 and first in self._page_words[other.id]:
                times.append(other.created_time)
        times += [at for target, at, _ in self._replies_posted if target == comment.id]
        return min(times) if times else None

    @functools.cached_property
    def _page_words(self) -> dict[str, frozenset[str]]:
        return {c.id: frozenset(normalized_words(c.message)) for c in self._page_comments}

    @functools.cached_property
    def _replies_posted(self) -> tuple[tuple[str, str, str], ...]:
        """Replies sent through `comment-guard reply`, less those a poll has since seen
        deleted or hidden (one not polled yet counts: it was just posted)."""
        if not self.thread.replies_posted:
            return ()
        gone = {c.id for c in self.thread.comments if c.from_page and not _page_public(c)}
        return tuple(r for r in self.thread.replies_posted if r[2] not in gone)

    def acknowledged(self, correction: Correction) -> str | None:
        """When the page owned up to a correction: a marker in a later version, or a page
        comment after the correction (or one mentioning the changed words after the wrong
        version went live) that is still public."""
        for v in self.thread.post.versions:
            if v.version >= correction.version and find_marker(v.message, self.config.markers):
                return v.seen_at
        # The words that tell the change: not those both versions have ("the" of "in the
        # library" when "the Thirteenth" replaced "Thursday"), which any page comment says.
        kept = set(normalized_words(correction.before or "")) & set(normalized_words(correction.after or ""))
        words = {w.lower() for w in correction.removed + correction.added if len(w) > 2} - kept
        for c in self._page_comments:
            if c.created_time >= correction.at:
                return c.created_time
            if (
                correction.wrong_since
                and c.created_time >= correction.wrong_since
                and (words & set(normalized_words(c.message)) or find_marker(c.message, self.config.markers))
            ):
                return c.created_time
        posted = [at for _, at, _ in self._replies_posted if at >= correction.at]
        return min(posted) if posted else None


def _page_public(comment: CommentRecord) -> bool:
    """A page comment everyone can read: not deleted or hidden since (``unknown``, missing
    from one list, is no news: it still counts)."""
    return comment.from_page and comment.status in (CommentStatus.PRESENT, CommentStatus.UNKNOWN)


def _policy_verdict(verdict: Classification, source: str, account: str) -> Classification:
    """`protect = "all"`: an ordinary comment is protected too; exclusions still apply."""
    if verdict.critical or verdict.excluded is not None:
        return verdict
    where = f"account {account}" if source == "account" else "[policy]"
    reason = f'policy: protect = "all" ({where}) protects every comment that is not spam or abuse'
    return Classification(critical=True, reasons=(reason, *verdict.reasons), excluded=None)


def _labelled(verdict: Classification, label: StaffLabel, message: str) -> Classification:
    """A staff label overrides the classifier while the comment's text is the one labelled."""
    said = f"labelled {label.label} by {label.by} at {label.at}" + (f" ({label.note})" if label.note else "")
    if label.sha256 is not None and label.sha256 != sha256_text(message):
        # Edited since: the label was about other words, so the classifier decides again.
        return Classification(
            critical=verdict.critical,
            reasons=(*verdict.reasons, f"label: an earlier version was {said}; the text changed since"),
            excluded=verdict.excluded,
        )
    critical = label.label == "critical"
    return Classification(
        critical=critical,
        reasons=(f"label: {said}", *verdict.reasons),
        excluded=None if critical else verdict.excluded,
    )


def reads_every_comment(post: PostRecord, marks: tuple[ManualMark, ...], config: PolicyConfig) -> bool:
    """Whether the rules read a thread's plainly present, non-page comments: only when the post
    is corrected (unanswered, silent-correction, post-removed). On any other post they read the
    comments that are hidden, deleted or otherwise not present (removed-critical,
    hidden-critical), the page's own comments (the replies that resolve a finding) and the
    comments open findings are about; the engine loads just those, and
    tests/policies/test_analysis_subset.py holds every rule to it."""
    return bool(_corrections(post, marks, config.markers))


@functools.lru_cache(maxsize=256)
def _corrections(
    post: PostRecord, marks: tuple[ManualMark, ...], markers: tuple[str, ...]
) -> tuple[Correction, ...]:
    """``detect_corrections``, kept for the last posts asked about: the engine asks about each
    post twice (whether to load the whole thread, then to analyse it; a chunk of 100 posts is
    loaded before the first is analysed), and most of the cost is the marker search."""
    return tuple(detect_corrections(post, marks, markers))


def analyze(thread: Thread, config: PolicyConfig, cache: VerdictCache | None = None) -> Analysis:
    """``cache``: stored classifier verdicts to reuse (and to add to); labels and the protection
    policy are applied on top each time, so changing either takes effect at once."""
    corrections = _corrections(thread.post, thread.marks, config.markers)
    removed = sorted({w.lower() for c in corrections for w in c.removed})
    ccfg = ClassifyConfig(abuse_words=ClassifyConfig().abuse_words + tuple(config.abuse_words))
    protect, source = config.protect_for(thread.post.account)
    labels = {label.comment_id: label for label in thread.labels}
    by_id = {c.id: c for c in thread.comments}

    def verdict_for(comment_id: str) -> Classification:
        comment = by_id[comment_id]
        if comment.from_page:
            return _NOT_PROTECTED
        while_wrong = any(
            c.wrong_since and c.wrong_since <= comment.created_time < c.at for c in corrections if c.material
        )
        verdict = None
        if cache is not None:
            inputs = classify_inputs(comment.message, removed, while_wrong, comment.copies_elsewhere, ccfg)
            verdict = cache.get(comment.id, inputs)
        if verdict is None:
            from policies.classify import classify  # compiles its patterns on first use

            verdict = classify(
                comment.message,
                changed_words=removed,
                posted_while_wrong=while_wrong,
                copies_elsewhere=comment.copies_elsewhere,
                config=ccfg,
            )
            if cache is not None:
                cache.put(comment.id, comment.post_id, inputs, verdict)
        if protect == "all":
            verdict = _policy_verdict(verdict, source, thread.post.account)
        if label := labels.get(comment.id):
            verdict = _labelled(verdict, label, comment.message)
        return verdict

    verdicts = Verdicts(tuple(by_id), verdict_for)
    return Analysis(thread, corrections, verdicts, config, protect, source)
