"""Stored classifier verdicts: reused only for the same inputs; labels and the protection policy
still apply on top, so changing either takes effect without re-classifying."""

from __future__ import annotations

import hashlib
import json

from policies.analysis import _classifier_digest, analyze, classify_inputs
from policies.classify import Classification
from policies.records import PolicyConfig, StaffLabel, Thread
from policies.verdict import ClassifyConfig
from tests.policies.test_protection_policy import ORDINARY, QUESTION, comment, post


class DictCache:
    """An in-memory VerdictCache that counts what it was asked and given."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, Classification]] = {}
        self.puts = 0

    def get(self, comment_id: str, inputs: str) -> Classification | None:
        hit = self.rows.get(comment_id)
        return hit[1] if hit and hit[0] == inputs else None

    def put(self, comment_id: str, post_id: str, inputs: str, verdict: Classification) -> None:
        self.rows[comment_id] = (inputs, verdict)
        self.puts += 1


def run(*comments, cache, config=None, labels=()):
    a = analyze(Thread(post=post(), comments=comments, labels=labels), config or PolicyConfig(), cache)
    return {c.id: a.classifications[c.id] for c in comments}


def test_an_unchanged_comment_is_classified_once_and_an_edited_one_again():
    """The second analysis reuses the stored verdict; an edit changes the inputs."""
    cache = DictCache()
    first = run(comment("c1", QUESTION), cache=cache)
    again = run(comment("c1", QUESTION), cache=cache)
    assert cache.puts == 1 and again == first and first["c1"].critical
    edited = run(comment("c1", ORDINARY), cache=cache)
    assert cache.puts == 2 and not edited["c1"].critical


def test_a_label_or_the_protect_policy_applies_over_a_stored_verdict():
    """Stored verdicts are the classifier's alone: a staff label and protect = "all" still decide."""
    cache = DictCache()
    assert not run(comment("c1", ORDINARY), cache=cache)["c1"].critical
    label = StaffLabel("c1", "critical", "maria", "2026-11-20T13:00:00+00:00")
    assert run(comment("c1", ORDINARY), cache=cache, labels=(label,))["c1"].critical
    assert run(comment("c1", ORDINARY), cache=cache, config=PolicyConfig(protect="all"))["c1"].critical
    assert cache.puts == 1


def test_verdicts_are_made_only_for_the_comments_asked_about():
    """An analysis classifies nothing until a rule asks about a comment."""
    cache = DictCache()
    a = analyze(
        Thread(post=post(), comments=(comment("c1", QUESTION), comment("c2", ORDINARY))),
        PolicyConfig(),
        cache,
    )
    assert cache.puts == 0
    assert a.classifications["c2"] is not None and cache.puts == 1


def test_the_inputs_digest_is_the_one_older_versions_stored():
    """A verdict stored by an older version is found only if the digest of the same inputs is
    byte for byte what it computed: SHA-256 of the JSON list of all inputs."""
    config = ClassifyConfig(abuse_words=(*ClassifyConfig().abuse_words, 'say "no"', "Zöpf\\"))
    for message, changed, while_wrong, copies in (
        ('Why "so"? Café ☕\n\\ done', ["thursday", "Ünd"], True, 2),
        ("", [], False, 0),
        ("line\u2028sep 😀", ['a"b'], False, 11),
    ):
        blob = json.dumps(
            [_classifier_digest(), repr(config), changed, while_wrong, copies, message], ensure_ascii=False
        )
        expected = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        assert classify_inputs(message, changed, while_wrong, copies, config) == expected
