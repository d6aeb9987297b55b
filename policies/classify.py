"""Decide whether a comment is *critical*: one staff should answer publicly, not delete or hide.

A critical comment asks a question, shows confusion or alarm, complains (VADER-negative or an
explicit complaint phrase, sarcasm included), or mentions a word the correction changed. Spam,
links-only comments and abuse are *excluded*: they are never protected, whatever else they say.

The classifier returns reasons, not a score, because staff (and `comment-guard explain`) must
be able to see *why* a comment is protected. Each reason starts with a stable tag
("question:", "confusion:", "complaint:", "mentions changed word", "posted while the wrong
version was live", "spam:", "links-only:", "abuse:") so other code can group them.

Everything here is pure: no I/O, no SQLite, no network. The only state is a lazily created
VADER analyzer, cached at module level because building it parses a lexicon file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = ["Classification", "ClassifyConfig", "classify", "explain"]

NEGATIVE_COMPOUND = -0.3  # VADER compound at or below this counts as a complaint
POSITIVE_COMPOUND = 0.4  # at or above this, caps/"!!!"/"changed" read as enthusiasm, not alarm


@dataclass(frozen=True)
class Classification:
    """The verdict on one comment: protected or not, and why."""

    critical: bool
    reasons: tuple[str, ...]
    excluded: str | None  # "spam", "links-only", "abuse", or None


@dataclass(frozen=True)
class ClassifyConfig:
    """Word lists an organisation may want to tune; matched case-insensitively.

    `abuse_words` and `promo_words` are plain words or phrases matched on word boundaries
    (a trailing "s"/"es" is allowed); `spam_patterns` are regular expressions that mark
    spam on their own, while `promo_words` mark spam only together with a link.
    """

    abuse_words: tuple[str, ...] = (
        "idiot", "moron", "scum", "retard", "bitch", "brainless",
        "kill you", "kills you", "should be shot", "die in a fire", "i know where you live",
    )
    spam_patterns: tuple[str, ...] = (
        r"\bdm me\b", r"\bpromo code\b", r"\bfollowers\b", r"\bcrypto", r"\bbitcoin\b",
        r"\bgiveaway\b", r"\blink in (?:my )?bio\b", r"\bpassive income\b", r"\bforex\b",
        r"\bwhatsapp\b", r"\bhot singles\b", r"\b(?:make|earn) \$\d", r"\bcheck out my page\b",
    )
    promo_words: tuple[str, ...] = (
        "free", "win", "winner", "click", "offer", "deal", "discount", "visit", "likes",
        "cheap", "gift card", "limited", "claim", "order", "shop", "earn", "money", "income",
        "prize", "bonus",
    )
    acronyms: tuple[str, ...] = (
        "USA", "FAQ", "RSVP", "ASAP", "HOA", "DIY", "LOL", "TBD", "ETA", "ATM", "PTA", "NYC",
        "CEO", "LGBTQ", "COVID", "ID", "AM", "PM",
    )


_I = re.IGNORECASE
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|ly|me|gl|be|info|biz"
    r"|shop|app|gov|edu|example)\b(?:/\S*)?", _I)
_MENTION = re.compile(r"@\w+")
_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_QUESTION_MARKS = (("¿", "inverted '¿'"), ("？", "full-width '？'"), ("؟", "Arabic '؟'"),
                   (" ?", "spaced '?'"), ("?", "'?'"))
_SUBJECT = (r"it|this|that|there|the|we|i|you|they|he|she|anyone|anybody|someone|somebody"
            r"|everyone|my|our|your|these|those|kids|children|dogs|parking|tickets")
_CLAUSE_START = r"(?:^|[.,;:!…]\s*|\b(?:so|wait|hi|hey|ok|okay|but|and|also|sorry|um)\s+)"
_QUESTION_START = re.compile(
    _CLAUSE_START + r"(?P<q>(?:is|are|was|were|do|does|did|can|could|will|would|should|has"
    r"|have)\s+(?:" + _SUBJECT + r")\b|(?:when|where|which|who|why|whose)\b"
    r"|how\s+(?:do|does|did|can|could|long|much|many|late|early|far|is|are|will|would|should"
    r"|about)\b|what(?:'s|’s|s\b|\s+(?:time|day|date|happened|is|are|was|were|about|do|does|did"
    r"|should|will|if)\b)|(?:wann|warum|wo|cuándo|dónde|quand|pourquoi|quando|dove|هل)\s)", _I)
_QUESTION_PHRASES = re.compile(
    r"does this mean|is this still|which day|what time|can (?:someone|anyone|you) confirm"
    r"|i thought it (?:was|is|said)|\bdo we\b|\bare we\b|anyone know|wondering (?:if|whether)"
    r"|not sure (?:if|whether)|please (?:confirm|clarify)|to know (?:if|whether)"
    r"|(?:love|like|want|need) to know|double.check|is there a way|\bor not\b"
    r"|[,\s](?:right|correct)\s*$|(?:吗|嗎|ですか|ますか)\s*$|\b(\w+) or no \1\b"
    r"|please tell me|\byou mean(?:t)?\b", _I)
_CONFUSION_PHRASES = re.compile(
    r"confus|\b(?:i'?m|i am|so|totally|completely) lost\b|\bhuh\b|\bhmm+\b|\bhang on\b"
    r"|\bhold (?:on|up)\b|\bi was told\b|\bit (?:said|says)\b|\bstill (?:says|shows|has|lists)\b"
    r"|\bold (?:date|time|day|address|venue|location|post|version)\b|\boriginal post\b"
    r"|\bdo(?:es)?n'?t match\b|\bdoes not match\b|\bwhat\?!"
    r"|\b(?:says?|said|shows?|showed|listed)\b[^.]*\bdifferent\b"
    r"|comprends (?:pas|plus|rien)|no entiendo|verstehe (?:nicht|das nicht)|わかりません|不明白"
    r"|看不懂", _I)
_WAIT = re.compile(r"\bwait\b", _I)
# "can't wait" is anticipation, "wait till you see" a promise: neither is alarm.
_NOT_WAIT = re.compile(
    r"\b(?:can'?t|can’t|cannot|can not|couldn'?t) wait\b|\bwait (?:for|to|till|until)\b", _I)
# Talk about a change counts only when it is about the schedule or the post, not "my kids changed".
_CHANGE = r"\b(?:cancell?ed|moved|changed?|changes|changing|rescheduled|edit(?:ed|ing)?)\b"
_SCHEDULE = (r"\b(?:it|date|time|day|venue|location|place|address|room|meeting|event|post"
             r"|schedule|session|clinic|class|concert|show)\b")
_NEAR = r"\W+(?:\w+\W+){0,3}?"  # within four words
_CHANGE_WORDS = re.compile(
    rf"(?:{_SCHEDULE}{_NEAR}(?P<a>{_CHANGE})|(?P<b>{_CHANGE}){_NEAR}{_SCHEDULE})", _I)
_MIXED_PUNCT = re.compile(r"\?!|!\?|[?？]{2,}")
_BANGS = re.compile(r"!{2,}")
_SARCASM = re.compile(
    r"\byeah,? right\b|thanks for nothing|\bso much for\b|\bfor nothing\b|\breal smooth\b"
    r"|\boh,? (?:great|wonderful|perfect|fantastic|brilliant|lovely)\b|/s\s*$"
    r"|(?:…|\.\.\.|,)\s*(?-i:NOT)\b|[🙄🙃😒😑🤦]", _I)
_COMPLAINT_PHRASES = re.compile(
    r"you deleted|why did you delete|misleading|wrong (?:date|day|time|address|info)"
    r"|fix the post|unacceptable|not acceptable|disappointed|\bnot ok(?:ay)?\b|\bshame\b"
    r"|\b(?:delet|remov|hid)\w*\s+(?:my|our|comments?|questions?|the comment)"
    r"|silently|quietly|without (?:telling|saying|notice|a note|any note)"
    r"|\b(?:nobody|no one) told\b"
    r"|\bno apology\b|\byou owe\b|\bmissed (?:it|the)\b|\bmistake\b|\bwasted\b"
    r"|post a correction|vergüenza|honte|schande|inaceptable|inacceptable|borraron"
    r"|eliminaron|supprim|gelöscht|stimmt nicht|falsch|fausse?\b|faux\b|incorrect|equivocad"
    r"|错了|間違|\bstill waiting\b|\b(?:no|any) (?:answer|reply|response)\b"
    r"|\basked (?:\w+ )?(?:times|twice|again|already)\b|\bfor no reason\b"
    r"|\b(?:nobody|no one) (?:was|is|showed|answers|replies|responds|notices|noticed)\b"
    r"|\bcorrect (?:this|it|the post)\b|\bproofread", _I)
_CAPS_WORD = re.compile(r"\b[^\W\d_]{3,}\b")
# VADER is English-only; a few of its negative words are everyday words elsewhere ("die" is a
# German article, "sin" Spanish for "without"). Drop them when the text looks non-English.
_FALSE_FRIENDS = re.compile(r"\b(?:die|sin)\b", _I)
_FOREIGN_HINT = re.compile(
    r"\b(?:der|das|und|für|mit|ist|nicht|el|los|las|por|para|que|con|les|des|est|pour|avec)\b", _I)

_analyzer: SentimentIntensityAnalyzer | None = None


def _compound(text: str) -> float:
    """VADER compound score; the analyzer is built on first use and then reused."""
    global _analyzer
    if _analyzer is None:
        _analyzer = SentimentIntensityAnalyzer()
    if _FOREIGN_HINT.search(text):
        text = _FALSE_FRIENDS.sub(" ", text)
    return float(_analyzer.polarity_scores(text)["compound"])


@functools.lru_cache(maxsize=64)
def _words_regex(words: tuple[str, ...], suffix: str = "") -> re.Pattern[str] | None:
    """One case-insensitive alternation of `words` on word boundaries (spaces flexible)."""
    parts = [r"\s+".join(map(re.escape, w.split())) for w in words if w.strip()]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")" + suffix + r"(?!\w)", _I)


def _exclusion(text: str, config: ClassifyConfig) -> tuple[str, str] | None:
    """Why this comment is never protected (kind, reason), or None."""
    links = _URL.findall(text)
    rest = _MENTION.sub(" ", _URL.sub(" ", text))
    if links and not re.search(r"[^\W_]", rest):
        return "links-only", "links-only: nothing but links and mentions"
    for pattern in config.spam_patterns:
        if m := re.search(pattern, text, _I):
            return "spam", f"spam: promotional pattern '{m.group(0).strip()}'"
    promo = _words_regex(config.promo_words, r"(?:s|es)?")
    if links and promo and (m := promo.search(rest)):
        return "spam", f"spam: link with promotional word '{m.group(0)}'"
    abuse = _words_regex(config.abuse_words, r"(?:s|es|ed)?")
    if abuse and (m := abuse.search(text)):
        return "abuse", f"abuse: contains '{m.group(0)}'"
    return None


def _question(text: str) -> str | None:
    for mark, label in _QUESTION_MARKS:
        if mark in text:
            return f"question: {label}"
    if ";" in text and _GREEK.search(text):
        return "question: Greek question mark ';'"
    if m := _QUESTION_START.search(text) or _QUESTION_PHRASES.search(text):
        phrase = (m.groupdict().get("q") or m.group(0)).strip(" ,")
        return f"question: asks '{phrase}'"
    return None


def _signals(text: str, compound: float, config: ClassifyConfig) -> list[str]:
    """Every reason that makes a comment critical, in a stable order."""
    reasons: list[str] = []
    if q := _question(text):
        reasons.append(q)
    enthusiastic = q is None and (compound >= POSITIVE_COMPOUND or bool(_NOT_WAIT.search(text)))
    if m := _MIXED_PUNCT.search(text):
        reasons.append(f"confusion: repeated punctuation '{m.group(0)}'")
    elif (m := _BANGS.search(text)) and not enthusiastic:
        reasons.append(f"confusion: repeated punctuation '{m.group(0)}'")
    if _WAIT.search(text) and not _NOT_WAIT.search(text):
        reasons.append("confusion: says 'wait'")
    if m := _CONFUSION_PHRASES.search(text):
        reasons.append(f"confusion: says '{m.group(0).strip()}'")
    acronyms = {a.upper() for a in config.acronyms}
    caps = [w for w in _CAPS_WORD.findall(text) if w.isupper() and w not in acronyms]
    if caps and not enthusiastic:
        reasons.append(f"confusion: all caps '{caps[0]}'")
    if m := _CHANGE_WORDS.search(text):
        word = m.group("a") or m.group("b")
        if word.lower().startswith("cancel") or not enthusiastic:
            reasons.append(f"confusion: talks about a change '{word}'")
    if compound <= NEGATIVE_COMPOUND:
        reasons.append(f"complaint: negative sentiment (VADER compound {compound:.2f})")
    if m := _COMPLAINT_PHRASES.search(text):
        reasons.append(f"complaint: says '{m.group(0).strip()}'")
    if m := _SARCASM.search(text):
        reasons.append(f"complaint: sarcasm '{m.group(0).strip(' ,.…')}'")
    return reasons


def classify(
    text: str,
    *,
    changed_words: Iterable[str] = (),
    posted_while_wrong: bool = False,
    config: ClassifyConfig = ClassifyConfig(),
) -> Classification:
    """Classify one comment's text.

    `changed_words` are the words the correction removed or added ("thursday"): a comment
    that mentions one is critical, since its author is reacting to what was wrong.
    `posted_while_wrong` only adds a reason: a comment written while the wrong text was live
    is critical when it also asks, worries, complains or mentions a changed word, not alone
    (otherwise every "Thanks!" under a corrected post would be protected).
    """
    reasons: list[str] = []
    excluded = _exclusion(text, config)
    if excluded:
        reasons.append(excluded[1])
    # Signals read the text without its links: "?" in a query string is not a question.
    prose = _URL.sub(" ", text)
    reasons.extend(_signals(prose, _compound(prose), config))
    mention = _words_regex(tuple(sorted({w.strip().lower() for w in changed_words if w.strip()})))
    if mention and (m := mention.search(prose)):
        reasons.append(f"mentions changed word '{m.group(0).lower()}'")
    critical = excluded is None and bool(reasons)
    if posted_while_wrong:
        reasons.append("posted while the wrong version was live")
    return Classification(
        critical=critical, reasons=tuple(reasons), excluded=excluded[0] if excluded else None
    )


def explain(c: Classification) -> str:
    """Human-readable, multi-line account of a classification (for `comment-guard explain`)."""
    if c.excluded:
        head = f"Not protected: {c.excluded} (staff may hide or delete it)."
    elif c.critical:
        head = "Critical: staff should answer this comment publicly, not delete or hide it."
    else:
        head = "Not critical: no question, confusion, complaint or changed word found."
    lines = [head]
    if c.reasons:
        lines.append("Reasons:")
        lines.extend(f"  - {r}" for r in c.reasons)
    return "\n".join(lines)
