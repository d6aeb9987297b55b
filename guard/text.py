"""Word-level diffs between two versions of a text.

Stored with every new version so `history` can show what changed and the policies can say
"Thursday → the Thirteenth" without re-diffing.
"""

from __future__ import annotations

import difflib
import hashlib
import re

__all__ = ["word_diff", "changed_words", "render_diff", "sha256_text", "normalized_words"]

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def word_diff(old: str, new: str) -> list[list[str]]:
    """``[[op, text], ...]`` with op ``=``, ``-`` or ``+``; whitespace-separated tokens."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(["=", " ".join(a[i1:i2])])
            continue
        if tag in ("replace", "delete"):
            out.append(["-", " ".join(a[i1:i2])])
        if tag in ("replace", "insert"):
            out.append(["+", " ".join(b[j1:j2])])
    return out


def normalized_words(text: str) -> list[str]:
    """Lower-cased words without punctuation: what makes an edit material or not."""
    return [w.lower() for w in _WORD.findall(text)]


def changed_words(diff: list[list[str]]) -> tuple[list[str], list[str]]:
    """Removed and added words of a diff, punctuation stripped, in order, without repeats."""
    removed: list[str] = []
    added: list[str] = []
    for op, text in diff:
        target = removed if op == "-" else added if op == "+" else None
        if target is None:
            continue
        for word in _WORD.findall(text):
            if word not in target:
                target.append(word)
    common = {w.lower() for w in removed} & {w.lower() for w in added}
    return ([w for w in removed if w.lower() not in common], [w for w in added if w.lower() not in common])


def render_diff(diff: list[list[str]]) -> str:
    """``the meeting is [-Thursday-] {+the Thirteenth+}`` (git's word-diff notation)."""
    parts = []
    for op, text in diff:
        parts.append(text if op == "=" else f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return " ".join(parts)
