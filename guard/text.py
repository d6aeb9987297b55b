"""Word-level diffs between two versions of a text.

Stored with every new version so `history` can show what changed and the policies can say
"Thursday → the Thirteenth" without re-diffing.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from typing import Any

__all__ = [
    "word_diff",
    "changed_words",
    "render_diff",
    "sha256_text",
    "sha256_fields",
    "normalized_words",
    "inert",
    "one_line",
]

_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_fields(*fields: Any) -> str:
    """SHA-256 of a row's fields as one JSON list: what an event records so ``verify`` can
    tell a rewritten finding or alert from the one written."""
    return sha256_text(json.dumps(list(fields), ensure_ascii=False))


# Above this many word pairs the exact matcher (quadratic when words repeat: "ha ha ha…" at
# Facebook's 63k-character post limit took 60 s, inside the poll's write transaction) gives way
# to the common words at both ends plus difflib's junk heuristic for the middle.
_EXACT_PAIRS = 250_000


def word_diff(old: str, new: str) -> list[list[str]]:
    """``[[op, text], ...]`` with op ``=``, ``-`` or ``+``; whitespace-separated tokens.

    Texts of ordinary length are diffed exactly, as they always were. Long ones keep their
    common first and last words as they are and diff only what lies between, exactly when that
    is small, else with difflib's heuristic (a coarser but correct diff: the versions
    themselves are the evidence)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) * len(b) <= _EXACT_PAIRS:
        return _diff(a, b, exact=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    out = [["=", " ".join(a[:head])]] if head else []
    out += _diff(mid_a, mid_b, exact=len(mid_a) * len(mid_b) <= _EXACT_PAIRS)
    if tail:
        out.append(["=", " ".join(a[len(a) - tail :])])
    return out


def _diff(a: list[str], b: list[str], *, exact: bool) -> list[list[str]]:
    out: list[list[str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=not exact).get_opcodes():
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


# Characters a terminal obeys or that disguise text: C0 (but newline and tab), DEL, C1, the
# bidirectional overrides/isolates/marks, zero-width characters and the BOM, line/paragraph
# separators. ESC starts ANSI/OSC sequences (cursor moves, line erases, OSC 52 clipboard writes).
_DISGUISE = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_DISGUISE}]")
_ZWJ = "\u200d"


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    text = match.string
    if ch == _ZWJ:  # joins emoji (family, profession sequences): harmless between two symbols
        i = match.start()
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if before and after and _symbolic(before) and _symbolic(after):
            return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"<U+{code:04X}>"


def _symbolic(ch: str) -> bool:
    return ch == "\ufe0f" or unicodedata.category(ch) in ("So", "Sk") or 0x1F3FB <= ord(ch) <= 0x1F3FF


def one_line(text: str | None) -> str:
    """``text`` with its whitespace runs (newlines, tabs) as one space, control characters
    visible: for a field shown inside a line (an author's name), where a newline would start
    a line of the commenter's making."""
    return inert(" ".join((text or "").split()))


def inert(text: str) -> str:
    """``text`` with every control, bidi-override and disguising zero-width character made
    visible (``\\x1b``, ``<U+202E>``), for printing archive text to a terminal.

    Newlines and tabs stay (callers that print one line per item collapse whitespace first);
    a zero-width joiner between two emoji stays, so 👩‍💻 still renders.
    """
    if not text:
        return text
    return _UNSAFE.sub(_visible, text)
