"""`comment-guard auth x`: what its own messages say reaches the user whole."""

from __future__ import annotations

from tests.cli.conftest import run


def test_a_grant_without_a_refresh_token_says_why_in_full(capsys, tmp_path, monkeypatch):
    """The reason came out as "no refresh token: [redacted] app must…": the scrubbing read
    `token: the` as a token quoted in an error."""
    config = tmp_path / "cg.toml"
    config.write_text(
        '[guard]\ndatabase = "archive.db"\n\n[[accounts]]\nname = "xacct"\nplatform = "x"\n'
        'page_id = "42"\ntoken_env = "CG_TEST_X_TOKEN"\n'
    )
    monkeypatch.setattr("connectors._x_oauth.code_from_redirect", lambda pasted, state: "code-1")
    monkeypatch.setattr("connectors._x_oauth.exchange_code", lambda *args, **kwargs: {"access_token": "a"})
    code, _, err = run(
        capsys, "--config", str(config), "auth", "x", "--account", "xacct", "--client-id", "c",
        "--redirect-url", "http://127.0.0.1:8788/callback?state=s&code=c",
    )  # fmt: skip
    assert code == 2 and "[redacted]" not in err and "the app must request offline.access" in err
    assert not list((tmp_path).glob("oauth-*"))
