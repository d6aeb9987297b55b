"""When was a post corrected, and what changed?

A post is corrected when its words changed between versions (whitespace or punctuation alone
doesn't count), when a version carries a correction marker ("UPDATE:", "*EDIT*",
"Correction -"…), or when staff marked it with `comment-guard mark-corrected`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from guard.text import changed_words, normalized_words, word_diff
from policies.records import ManualMark, PostRecord, Version

__all__ = ["Correction", "detect_corrections", "find_marker", "is_material", "as_read_at"]


@dataclass(frozen=True)
class Correction:
    post_id: str
    version: int  # the version that carries the correction (0 for a manual mark)
    at: str  # when we first saw it
    reason: str  # "material edit" | "marker 'UPDATE:'" | "marked by staff"
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    summary: str | None = None  # "Thursday → the Thirteenth"
    wrong_since: str | None = None  # when the wrong version was first seen
    material: bool = False
    marker: str | None = None
    note: str | None = None
    before: str | None = None
    after: str | None = None


def is_material(old: str, new: str) -> bool:
    return normalized_words(old) != normalized_words(new)


def find_marker(text: str, markers: tuple[str, ...]) -> str | None:
    """The first correction marker in ``text`` written as a label ("UPDATE:", "*EDIT*", "[Correction]")."""
    if not markers:
        return None
    m = _marker_pattern(markers).search(text)
    return m.group(0).strip() if m else None


@functools.lru_cache(maxsize=16)
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    """Built once per marker list: the engine asks about every post a poll touched."""
    words = "|".join(re.escape(m) for m in markers)
    return re.compile(
        rf"(?i)(?:[*_\[(]\s*(?:{words})(?:ed|s)?\s*[*_\])]|\b(?:{words})(?:ed|s)?\s*(?:\d+\s*)?[:\-–—!])"
    )


def detect_corrections(
    post: PostRecord, marks: tuple[ManualMark, ...] = (), markers: tuple[str, ...] = ()
) -> list[Correction]:
    out: list[Correction] = []
    versions = sorted(post.versions, key=lambda v: v.version)
    for prev, cur in zip(versions, versions[1:]):
        material = is_material(prev.message, cur.message)
        new_marker = find_marker(cur.message, markers)
        marker = new_marker if new_marker and new_marker != find_marker(prev.message, markers) else None
        if not material and not marker:
            continue
        diff = [list(d) for d in cur.diff] if cur.diff else word_diff(prev.message, cur.message)
        removed, added = changed_words(diff)
        out.append(
            Correction(
                post_id=post.id,
                version=cur.version,
                at=cur.seen_at,
                reason="material edit" if material else f"marker {marker!r}",
                removed=tuple(removed),
                added=tuple(added),
                summary=_summary(diff),
                wrong_since=prev.seen_at,
                material=material,
                marker=new_marker,
                before=prev.message,
                after=cur.message,
            )
        )
    if versions and not out:
        marker = find_marker(versions[0].message, markers)
        if marker:
            out.append(
                Correction(
                    post_id=post.id,
                    version=versions[0].version,
                    at=versions[0].seen_at,
                    reason=f"marker {marker!r}",
                    marker=marker,
                    after=versions[0].message,
                )
            )
    for mark in marks:
        out.append(
            Correction(
                post_id=post.id,
                version=0,
                at=mark.at,
                reason="marked by staff",
                note=mark.note,
                summary=mark.note,
                wrong_since=versions[0].seen_at if versions else None,
                after=versions[-1].message if versions else None,
            )
        )
    return sorted(out, key=lambda c: c.at)


def as_read_at(post: PostRecord, latest: Correction, at: str) -> Correction:
    """``latest`` as someone who read the post at ``at`` needs to hear it: what changed from
    the version live then to the current one. A post corrected twice (Thursday → the
    Thirteenth → the Fourteenth) owes who read "Thursday" that change, not the second one
    alone; one put back to the words they read owes them no "it should say". A staff mark
    (version 0) says it in its note, and who read the version ``latest`` corrects gets it
    as it is."""
    versions = sorted(post.versions, key=lambda v: v.version)
    before = [v for v in versions if v.version < latest.version]
    live = [v for v in versions if v.seen_at <= at]
    read = live[-1] if live else versions[0] if versions else None
    if latest.version == 0 or read is None or not before or read.version >= before[-1].version:
        return latest
    return _since(read, versions[-1], latest)


@functools.lru_cache(maxsize=256)
def _since(read: Version, current: Version, latest: Correction) -> Correction:
    """``latest`` retold from ``read`` on: once per version read, not once per comment."""
    diff = word_diff(read.message, current.message)
    removed, added = changed_words(diff)
    material = is_material(read.message, current.message)
    return replace(
        latest,
        removed=tuple(removed),
        added=tuple(added),
        summary=_summary(diff) if material else None,
        wrong_since=read.seen_at,
        before=read.message,
        after=current.message,
    )


def _summary(diff: list[list[str]]) -> str | None:
    """ "Thursday → the Thirteenth": the first removed run paired with what replaced it."""
    for i, (op, text) in enumerate(diff):
        if op == "-":
            nxt = diff[i + 1] if i + 1 < len(diff) else None
            added = nxt[1] if nxt and nxt[0] == "+" else ""
            return f"{_clean(text)} → {_clean(added)}" if added else f"removed {_clean(text)}"
        if op == "+":
            return f"added {_clean(text)}"
    return None


def _clean(text: str) -> str:
    return text.strip(" .,;:!?")
