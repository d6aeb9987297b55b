"""The same match as ``pattern.search(text)``, found faster for long alternations of cues.

Python's ``re`` tries every alternative of ``A|B|C...`` at every position of the text. When
every alternative starts with ``\\b``, the parser moves that ``\\b`` in front of the group and a
position that is not a word boundary fails at once; when every alternative starts with a
plain letter, the compiled pattern scans for those letters first. The classifier's cue
patterns mix a few alternatives of another shape (an emoji, ``#hashtag``, ``(?<!no\\s)``) into
dozens of ``\\b`` ones, which turns both optimisations off: the complaint-word pattern cost
0.25 ms on a 100-character comment.

``Locator`` splits a pattern's top-level alternatives into groups of one shape, searches each
group, and takes the leftmost start. No alternative can match before that start (every
alternative is in some group), so the original pattern, anchored there with ``match``, gives
exactly the match ``search`` would have: the same alternative wins, with the same groups.
Lookbehinds and ``\\b`` still see the text before the start (``match(text, pos)`` keeps it).

Most comments match none of a cue's alternatives, and proving that costs the regex engine a
try of every alternative at every word. Each alternative also names words any match of it
must contain ("hold" in ``\\bon\\s+hold\\b``): when none of a pattern's ``needles`` is in the
text, the pattern cannot match and is not searched. A ``NeedleIndex`` finds every needle of
many patterns in one pass over the text (Aho-Corasick, pyahocorasick's C automaton): checking
each pattern's needles with ``in`` would scan the text once per needle.
"""

from __future__ import annotations

import re
import re._constants as _c  # type: ignore[import-not-found]  # no stubs for the private parser
import re._parser as _parser  # type: ignore[import-not-found]
from collections.abc import Iterable
from typing import Any

import ahocorasick

__all__ = ["Locator", "NeedleIndex", "needles", "refers_back", "top_level_alternatives"]

_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_LITERAL_START = re.compile(r"[^\\\[\](){}.^$*+?|#\s]")  # a plain character, not regex syntax


def top_level_alternatives(pattern: str) -> list[str]:
    """``pattern`` cut at its top-level ``|`` (not inside a group or a character class)."""
    parts: list[str] = []
    depth, start, i, in_class = 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            # "]" right after "[" or "[^" is a member, not the end of the class.
            if pattern.startswith("]", i + 1):
                i += 1
            elif pattern.startswith("^]", i + 1):
                i += 2
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def refers_back(pattern: str) -> bool:
    """Whether ``pattern`` refers back to a group (``\\1``, ``(?P=name)``)."""
    return bool(_BACKREFERENCE.search(pattern))


_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
_SPELLINGS_MAX = 16  # a run of literals is followed through small variations ("a[uú]n", "wi-?fi")


def selective(needle: str) -> bool:
    """Whether a needle is rare enough to be worth checking: "no" or "is" is in nearly every
    comment; "hold", "4g", ":(" and "错了" are not."""
    return len(needle.strip()) >= 3 or any(not (ch.isascii() and ch.isalpha()) for ch in needle.strip())


def _choices(op: Any, av: Any) -> list[str] | None:
    """The strings one parsed item matches when it matches one of a few (a letter, a small
    class of letters, an optional letter), or None."""
    if op is _c.LITERAL:
        return [chr(av)]
    if op is _c.IN and all(member_op is _c.LITERAL for member_op, _ in av):
        return [chr(code) for _, code in av]
    if op in _REPEATS and av[0] == 0 and av[1] == 1 and len(av[2]) == 1:
        inner = _choices(*av[2][0])
        return None if inner is None else ["", *inner]
    return None


def _score(candidate: list[str]) -> tuple[bool, int, int]:
    return all(map(selective, candidate)), min(map(len, candidate)), -len(candidate)


def _required(items: Any) -> list[str] | None:
    """Strings one of which every match of the parsed sequence ``items`` contains (the most
    selective such list found), or None when none is known. Only what is certain counts:
    literal runs and their few spellings, groups, branches that all require something,
    repeats of at least one, lookarounds that must match; nothing inside a case-insensitive
    group or a negative lookaround."""
    candidates: list[list[str]] = []
    run: list[str] = [""]

    def flush() -> None:
        if any(run):
            candidates.append(sorted(set(run)))

    for op, av in items:
        choices = _choices(op, av)
        if choices is not None and len(run) * len(choices) <= _SPELLINGS_MAX:
            run = [r + c for r in run for c in choices]
            continue
        if op in _REPEATS and av[0] >= 1 and len(av[2]) == 1 and (one := _choices(*av[2][0])):
            # "hmm+": the run goes on through the repeat's first copies, then stops. Copies of
            # a class may differ ("[ab]{2}" matches "ab"): then only the first one is sure.
            copies = av[0] if len(one) == 1 else 1
            run = [r + c * copies for r in run for c in one] if len(run) * len(one) <= _SPELLINGS_MAX else run
            flush()
            run = [""]
            continue
        flush()
        run = [""] if choices is None else choices
        found: list[str] | None = None
        if op is _c.SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            found = None if add_flags & re.IGNORECASE else _required(inner)
        elif op is _c.BRANCH:
            branches = [_required(branch) for branch in av[1]]
            if all(branches):
                found = sorted({s for b in branches for s in b or ()})
        elif op in _REPEATS and av[0] >= 1:
            found = _required(av[2])
        elif op is _c.ATOMIC_GROUP:
            found = _required(av)
        elif op is _c.ASSERT:  # a lookahead or lookbehind that must match: in the text too
            found = _required(av[1])
        if found:
            candidates.append(found)
    flush()
    return max(candidates, key=_score) if candidates else None


def needles(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which is in every text ``pattern`` matches, or None when that cannot be
    said usefully (a case-insensitive pattern, an alternative that needs no selective string,
    a pattern the parser of this Python reads differently)."""
    return _needles_of(pattern.pattern, pattern.flags)


def _needles_of(source: str, flags: int) -> tuple[str, ...] | None:
    if flags & re.IGNORECASE:
        return None  # containment is exact; case-insensitive matching is not
    try:
        required = _required(_parser.parse(source, flags & ~re.UNICODE))
    except Exception:  # noqa: BLE001 - a private parser's new shape, or a part that needs the rest
        return None
    if not required or not all(map(selective, required)):
        return None
    return _pruned(required)


def _pruned(strings: Iterable[str]) -> tuple[str, ...]:
    """ "wait" is in every text holding "waiting": the shortest of such pairs is enough."""
    out: list[str] = []
    for s in sorted(set(strings), key=len):
        if not any(k in s for k in out):
            out.append(s)
    return tuple(out)


def _absent(needles: frozenset[str] | None, text: str, found: frozenset[str] | None) -> bool:
    """Whether none of ``needles`` is in ``text`` (``found``: the needles it holds, if known)."""
    if needles is None:
        return False
    if found is None:
        return not any(n in text for n in needles)
    return needles.isdisjoint(found)


def _shape(alternative: str) -> str:
    if alternative.startswith(r"\b"):
        return "boundary"
    if _LITERAL_START.match(alternative) and alternative[1:2] not in ("?", "*", "{"):
        return "literal"
    return "other"


class Locator:
    """``search`` of one compiled pattern, through its alternatives grouped by shape, and by
    whether they name needles: a group whose needles are absent is not searched."""

    __slots__ = ("pattern", "groups", "needles", "group_needles")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.groups: tuple[re.Pattern[str], ...] = ()
        self.group_needles: tuple[frozenset[str] | None, ...] = ()
        alternatives = top_level_alternatives(pattern.pattern)
        if len(alternatives) < 2 or pattern.flags & re.VERBOSE:
            # one alternative; or comments, which may hold "|"
            self.needles = _frozen(needles(pattern))
            return
        each = [_needles_of(a, pattern.flags) for a in alternatives]
        # the pattern's: every alternative's (one of them is in any match)
        self.needles = None if None in each else frozenset(_pruned(s for n in each for s in n or ()))
        by_kind: dict[tuple[str, bool], list[int]] = {}
        alone: list[str] = []  # alternatives that refer back to their own group
        for i, alternative in enumerate(alternatives):
            if not refers_back(alternative):
                by_kind.setdefault((_shape(alternative), each[i] is not None), []).append(i)
            elif i and re.compile("|".join(alternatives[:i]), pattern.flags).groups:
                return  # its group numbers would change on its own
            else:
                alone.append(alternative)
        if len(by_kind) + len(alone) < 2:
            return  # one kind: the pattern is already in its fastest form
        sources, group_needles = [], []
        for (shape, needled), members in by_kind.items():
            texts = [alternatives[i] for i in members]
            sources.append(
                r"\b(?:" + "|".join(t[2:] for t in texts) + ")" if shape == "boundary" else "|".join(texts)
            )
            group_needles.append(
                frozenset(_pruned(s for i in members for s in each[i] or ())) if needled else None
            )
        try:
            self.groups = tuple(re.compile(source, pattern.flags) for source in sources + alone)
        except re.error:
            self.groups = ()  # an alternative that does not stand alone (a reference to another)
            return
        self.group_needles = (*group_needles, *(None for _ in alone))

    def search(self, text: str, found: frozenset[str] | None = None) -> re.Match[str] | None:
        """Exactly ``self.pattern.search(text)``. ``found``: the needles ``text`` contains, from
        a ``NeedleIndex`` holding this locator's (else each needle is looked for here)."""
        if _absent(self.needles, text, found):
            return None
        if not self.groups:
            return self.pattern.search(text)
        start = -1
        for group, need in zip(self.groups, self.group_needles):
            if _absent(need, text, found):
                continue  # none of its alternatives can match
            m = group.search(text)
            if m is not None and (start < 0 or m.start() < start):
                start = m.start()
        if start < 0:
            return None
        # Some alternative matches at ``start`` and none earlier: the pattern matches there.
        return self.pattern.match(text, start) or self.pattern.search(text)


def _frozen(strings: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if strings is None else frozenset(strings)


class NeedleIndex:
    """The needles of many locators, found in a text in one pass.

    ``found`` keeps its last answer (the text object and its needles): a classifier asks for
    the same text once per pattern. The pair is replaced as one object, so a thread never
    pairs another thread's text with its needles."""

    __slots__ = ("_automaton", "_last")

    def __init__(self, locators: Iterable[Locator]) -> None:
        self._automaton = ahocorasick.Automaton()
        wanted = {n for loc in locators for ns in (loc.needles, *loc.group_needles) for n in ns or ()}
        for needle in sorted(wanted):
            self._automaton.add_word(needle, needle)
        self._automaton.make_automaton()
        self._last: tuple[str, frozenset[str]] = ("", frozenset())

    def found(self, text: str) -> frozenset[str]:
        """The indexed needles ``text`` contains."""
        last = self._last
        if last[0] is text:
            return last[1]
        out = frozenset(needle for _, needle in self._automaton.iter(text)) if text else frozenset()
        self._last = (text, out)
        return out
