"""The scrubbing step every external error text passes through (``guard/redact.py``): secrets
out, the words around them kept, so the one line a user reads still says what went wrong."""

from __future__ import annotations

import pytest

from guard.redact import REDACTED, scrub

SLACK_PATH = "/services/T0123ABCD/B0456EFGH/abcdefABCDEF123456"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /me?access_token=EAABsecretvalue", "EAABsecretvalue"),
        ('{"access_token": "short"}', "short"),
        ("token=abc", "abc"),
        ('refresh_token: "abc"', "abc"),
        ("Invalid token: abcd1234efgh5678ijkl", "abcd1234efgh5678ijkl"),
        ("access_token:EAAB1234567890abcdefghij", "EAAB1234567890abcdefghij"),
        ("password: hunter2 was refused", "hunter2"),
        ("client_secret: s3cr3t", "s3cr3t"),
        ("Authorization: Bearer abcdefghijkl", "abcdefghijkl"),
        (f"POST https://hooks.slack.com{SLACK_PATH} failed", SLACK_PATH),
        (f"POST https://hooks.slack.com:443{SLACK_PATH} failed", SLACK_PATH),
        (f"<p>403 Forbidden for {SLACK_PATH}</p>", SLACK_PATH),  # a proxy quoting the bare path
        # shapes with no keyword beside them (each must pass the cheap word check first)
        ("quoted back: EAABwZBq7ZCxYZA1b2c3d4e5f6g7h8i9j0kLmNoP", "EAABwZBq7ZCxYZA1b2c3d4e5f6g7h8i9j0kLmNoP"),
        (
            "got AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid in reply",
            "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid",
        ),
        ("slack said xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("Authorization: OAuth abcdefghijkl", "abcdefghijkl"),
    ],
)
def test_a_credential_in_an_error_text_is_blanked(text, secret):
    out = scrub(text)
    assert secret.strip("/") not in out and REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        # Graph's own words for an expired token: the reason must survive to the one-line error
        "Error validating access token: Session has expired on Tuesday, 24-Nov-26",
        "auth x: no refresh token: the app must ask for offline.access",
        "see https://example.org/services/contact",
    ],
)
def test_prose_about_a_token_keeps_its_words(text):
    assert scrub(text) == text
