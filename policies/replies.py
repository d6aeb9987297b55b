"""Suggested public replies: honest, short, no blame, and meant to be edited by a person.

We never claim who deleted a comment (platforms don't say whether the page or the author did)
and never invent an answer we don't have: without a correction the reply leaves a clear
placeholder for staff to fill in.
"""

from __future__ import annotations

import re
import unicodedata

from policies.corrections import Correction
from policies.records import CommentRecord

__all__ = ["suggest_reply", "suggest_correction_note", "clean_excerpt"]

PLACEHOLDER = "[add the answer here]"


def _first_name(comment: CommentRecord | None) -> str:
    name = (comment.author_name or "").strip() if comment else ""
    return name.split()[0] if name else ""


def _what_changed(c: Correction | None) -> str | None:
    if c is None:
        return None
    if c.summary and " → " in c.summary:
        before, after = c.summary.split(" → ", 1)
        return f"It said {before}; it should say {after}."
    if c.note:
        return c.note.rstrip(".") + "."
    return None


def suggest_reply(comment: CommentRecord | None, correction: Correction | None, *, gone: bool = False) -> str:
    name = _first_name(comment)
    changed = _what_changed(correction)
    if gone:
        quoted = _quote(comment.message) if comment else "a question"
        who = f"{name} asked" if name else "Someone asked"
        if changed:
            return (
                f"{who} earlier: {quoted} You were right to ask: we made a mistake in this "
                f"post. {changed} Sorry for the confusion!"
            )
        return f"{who} earlier: {quoted} Thanks for asking. {PLACEHOLDER}"
    greeting = f", {name}" if name else ""
    if changed:
        return (
            f"You're right to ask{greeting} — we made a mistake in this post. {changed} "
            "We've corrected it. Sorry for the confusion!"
        )
    if correction is not None:
        return (
            f"You're right to ask{greeting} — we corrected this post. {PLACEHOLDER} Sorry for the confusion!"
        )
    return f"Thanks for asking{greeting}. {PLACEHOLDER}"


def suggest_correction_note(correction: Correction) -> str:
    changed = _what_changed(correction)
    if changed:
        return (
            f"Correction: this post originally had a mistake. {changed} "
            "We've updated it. Sorry for the confusion!"
        )
    return f"Correction: we updated this post. {PLACEHOLDER} Sorry for the confusion!"


# Links in any spelling a platform would turn into one: with a scheme, www., or a bare domain
# (evil.example/login), and e-mail addresses.
_LINK = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+"
    r"|\S+@\S+\.\S+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b(?:[/:?#]\S*)?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<!\w)[@#](?=\w)")
# Whole terminal escape sequences (CSI, OSC, other ESC-x), not only their ESC byte.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]"
)


def clean_excerpt(text: str) -> str:
    """A comment's words safe to republish under the page's name: no links (``[link]``), no
    control, bidi-override or zero-width characters, no @mentions or #tags that would notify
    or link, and no quote marks that could close our quotation early."""
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " "  # Cc, Cf (bidi, zero-width), Co, Cn
        for ch in unicodedata.normalize("NFKC", _ESCAPES.sub(" ", text))
    )
    kept = _LINK.sub("[link]", kept)
    kept = _MENTION.sub("", kept)
    kept = kept.replace("“", "'").replace("”", "'").replace('"', "'")
    return " ".join(kept.split())


def _quote(text: str, limit: int = 120) -> str:
    one = clean_excerpt(text)
    if len(one) > limit:
        one = one[: limit - 1] + "…"
    return f"“{one}”"
