"""What the classifier returns and what it reads besides the text, without the classifier.

These records cross module boundaries (the engine's analyses, the archive's stored verdicts,
the config) and are cheap to import; `policies.classify` compiles its many patterns and loads
VADER at import, so only the code that classifies imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Classification", "ClassifyConfig"]


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
    (a trailing "s"/"es" is allowed); `spam_patterns` are regular expressions for promotional
    phrases. A comment is spam when it shows at least two pieces of spam evidence: distinct
    spam patterns, a link that is not a photo or video, a promotional word next to such a
    link, or the same text posted on other posts. A single pattern is not spam: complaints
    say "DM me" or mention their followers too.
    """

    abuse_words: tuple[str, ...] = (
        "idiot",
        "moron",
        "scum",
        "retard",
        "bitch",
        "brainless",
        "kill you",
        "kills you",
        "should be shot",
        "die in a fire",
        "i know where you live",
    )
    spam_patterns: tuple[str, ...] = (
        r"\b(?:dm|pm|inbox|message|text|whatsapp) me (?:for|to get|to earn|to join|now)\b",
        r"\bpromo code\b",
        r"\b(?:get|buy|gain|grow|cheap|free|real|instant|more|\d+k?\+?)\s+(?:real\s+|active\s+)?"
        r"(?:followers|likes|subscribers|views)\b",
        r"\bcrypto",
        r"\bbitcoin\b",
        r"\bgiveaway\b",
        r"\blink in (?:my )?bio\b",
        r"\bpassive income\b",
        r"\bforex\b",
        r"\bwhatsapp\s*\+?\d",
        r"\bhot singles\b",
        r"\b(?:make|earn) \$\d",
        r"\b(?:check out|check|visit|follow|subscribe to) my "
        r"(?:page|profile|channel|account|site|store|shop)\b",
        r"\bfollow me back\b",
        r"\b(?:message|contact|dm) me for (?:details|info|more)\b",
        r"\b100% (?:profit|free)\b",
        r"\bno experience needed\b",
        r"\bfor (?:daily|exclusive|amazing) (?:deals|discounts|offers)\b",
    )
    promo_words: tuple[str, ...] = (
        "free",
        "win",
        "winner",
        "click",
        "offer",
        "deal",
        "discount",
        "visit",
        "likes",
        "cheap",
        "gift card",
        "limited",
        "claim",
        "shop",
        "earn",
        "money",
        "income",
        "prize",
        "bonus",
    )
    acronyms: tuple[str, ...] = (
        "USA",
        "FAQ",
        "RSVP",
        "ASAP",
        "HOA",
        "DIY",
        "LOL",
        "TBD",
        "ETA",
        "ATM",
        "PTA",
        "NYC",
        "CEO",
        "LGBTQ",
        "COVID",
        "ID",
        "AM",
        "PM",
    )
