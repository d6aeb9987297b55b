"""X tokens that keep working: refresh before expiry against a loopback OAuth 2.0 token
endpoint, the rotated refresh token persisted atomically in a 0600 file, a revoked refresh token
as the account-failing finding with the command that fixes it, and `auth x` end to end."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors._x_oauth import PkceStart, XTokenKeeper, exchange_code
from connectors.x import XConnector
from guard.archive.connection import open_archive
from guard.archive.findings import list_findings
from guard.cli.main import main
from guard.config import parse_config
from guard.errors import AuthExpired, ConfigError
from guard.runtime.pipeline import run_poll
from guard.token_store import FileTokenStore
from tests.support.disk import FullDisk

USER = "2244994945"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


class FakeX(ThreadingHTTPServer):
    """X's token endpoint and the one timeline read a poll needs, on 127.0.0.1.

    Token shapes: docs.x.com "OAuth 2.0 Authorization Code Flow with PKCE" (token_type,
    expires_in 7200, access_token, scope, refresh_token); a spent or revoked refresh token is
    400 {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.forms: list[dict[str, str]] = []
        self.bearers: list[str] = []
        self.valid_refresh = {"refresh-1"}
        self.issued = 0
        self.confidential = False  # the app is a Web App: X wants its secret (HTTP Basic)
        self.dead_access: set[str] = set()  # access tokens X no longer takes (expired by X's clock)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeX

    def log_message(self, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        form = {
            k: v[0]
            for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()
        }
        self.server.forms.append(form)
        if self.server.confidential and not self.headers.get("Authorization"):
            # What X answers a confidential client that sent no secret (tweepy#2035,
            # unasuke/omniauth-twitter2#4, JoeMayo/LinqToTwitter#265)
            self._json(
                401,
                {"error": "unauthorized_client", "error_description": "Missing valid authorization header"},
            )
            return
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") not in self.server.valid_refresh:
            self._json(
                400,
                {"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
            )
            return
        if grant == "refresh_token":
            self.server.valid_refresh.discard(form["refresh_token"])  # X rotates: the old one is spent
        self.server.issued += 1
        n = self.server.issued
        self.server.valid_refresh.add(f"refresh-{n + 1}")
        self._json(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": f"access-{n + 1}",
                "scope": "tweet.read users.read tweet.write tweet.moderate.write offline.access",
                "refresh_token": f"refresh-{n + 1}",
            },
        )

    def do_GET(self) -> None:
        self.server.bearers.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization", "").removeprefix("Bearer ") in self.server.dead_access:
            self._json(401, json.loads((FIXTURES / "error_401.json").read_text()))
            return
        if urlsplit(self.path).path == f"/2/users/{USER}/tweets":
            self._json(200, {"meta": {"result_count": 0}})
        else:
            self._json(404, {"title": "Not Found Error", "type": "about:blank", "status": 404})


@pytest.fixture
def fake_x():
    server = FakeX()
    yield server
    server.shutdown()
    server.server_close()


def _grant(expires_in: timedelta, refresh: str = "refresh-1") -> dict[str, str]:
    return {
        "account": "xacct",
        "client_id": "client-abc",
        "access_token": "access-1",
        "refresh_token": refresh,
        "expires_at": (NOW + expires_in).isoformat(),
    }


def test_token_is_refreshed_before_expiry_and_the_rotated_grant_is_saved(tmp_path, fake_x):
    """Five minutes before expiry the connector refreshes, saves the new grant, then reads."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(minutes=5)))
    x = XConnector(USER, "", base_url=fake_x.url, clock=lambda: NOW, token_store=store)
    snapshot = x.fetch(NOW - timedelta(days=1))
    assert snapshot.error is None
    assert fake_x.forms == [
        {"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": "client-abc"}
    ]
    assert fake_x.bearers == ["Bearer access-2"]
    saved = store.load()
    assert (saved["refresh_token"], saved["access_token"], saved["account"]) == (
        "refresh-2",
        "access-2",
        "xacct",
    )
    assert datetime.fromisoformat(saved["expires_at"]) == NOW + timedelta(hours=2)


def test_a_fresh_token_is_used_without_refreshing(tmp_path, fake_x):
    """An access token with more than the margin left is sent as it is."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(hours=1)))
    x = XConnector(USER, "", base_url=fake_x.url, clock=lambda: NOW, token_store=store)
    assert x.fetch(NOW - timedelta(days=1)).error is None
    assert (fake_x.forms, fake_x.bearers) == ([], ["Bearer access-1"])


def test_token_file_is_created_0600_whatever_the_umask(tmp_path):
    """The grant file is 0600 from its first byte, and replacing it keeps 0600."""
    old = os.umask(0)
    try:
        store = FileTokenStore(tmp_path / "state" / "oauth-xacct.json")
        store.save(_grant(timedelta(hours=1)))
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        store.save(_grant(timedelta(hours=2), refresh="refresh-9"))
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert store.load()["refresh_token"] == "refresh-9"
    assert [p.name for p in store.path.parent.iterdir()] == ["oauth-xacct.json"]  # no temp file left


def test_token_file_readable_by_others_is_refused(tmp_path):
    """A grant someone widened to 0644 is refused with the chmod that fixes it."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(hours=1)))
    store.path.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        store.load()


def _config(tmp_path: Path, base_url: str):
    text = f"""
[guard]
database = "archive.db"
state_dir = "state"

[[accounts]]
name = "xacct"
platform = "x"
page_id = "{USER}"
token_env = "CG_TEST_X_TOKEN"
api_base_url = "{base_url}"
"""
    path = tmp_path / "comment-guard.toml"
    path.write_text(text)
    return path, parse_config(text, path)


def test_revoked_refresh_token_opens_account_failing_with_the_command_to_fix_it(
    tmp_path, fake_x, monkeypatch
):
    """X refuses the stored refresh token: the poll fails (nothing changes status) and the
    account-failing finding says to run `comment-guard auth x --account xacct`; no token leaks."""
    monkeypatch.delenv("CG_TEST_X_TOKEN", raising=False)
    _, config = _config(tmp_path, fake_x.url)
    account = config.account("xacct")
    FileTokenStore(account.token_file).save(_grant(timedelta(minutes=-1), refresh="revoked-7"))
    db = open_archive(config.guard.database)
    outcome = run_poll(config, db, account, now=datetime.now(timezone.utc))
    assert outcome.poll.failed
    (finding,) = list_findings(db, kind="account-failing")
    text = json.dumps(finding)
    assert "comment-guard auth x --account xacct" in text
    # the fix says the same: a new token in $CG_TEST_X_TOKEN would not help a signed-in account
    fix = finding["evidence"]["fix"]
    assert "sign in again with `comment-guard auth x --account xacct`" in fix and "put a new one" not in fix
    assert "revoked-7" not in text and "access-1" not in text
    assert (
        FileTokenStore(account.token_file).load()["refresh_token"] == "revoked-7"
    )  # kept: nothing to rotate


def test_auth_x_exchanges_the_pasted_redirect_and_stores_the_grant(tmp_path, fake_x, monkeypatch, capsys):
    """`auth x` prints the PKCE authorize URL, takes the pasted redirect and writes a 0600 grant."""
    path, config = _config(tmp_path, fake_x.url)
    state: dict[str, str] = {}

    def fake_prompt(text, **kwargs):
        out = capsys.readouterr().out
        url = next(line.strip() for line in out.splitlines() if line.strip().startswith("https://x.com/"))
        query = parse_qs(urlsplit(url).query)
        state.update({k: v[0] for k, v in query.items()})
        return f"http://127.0.0.1:8788/callback?state={query['state'][0]}&code=code-xyz"

    monkeypatch.setattr("click.prompt", fake_prompt)
    main(["--config", str(path), "auth", "x", "--account", "xacct", "--client-id", "client-abc"])
    assert state["code_challenge_method"] == "S256" and "offline.access" in state["scope"]
    (form,) = fake_x.forms
    assert form["grant_type"] == "authorization_code" and form["code"] == "code-xyz"
    assert len(form["code_verifier"]) >= 43 and form["client_id"] == "client-abc"
    token_file = config.account("xacct").token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert FileTokenStore(token_file).load()["refresh_token"] == "refresh-2"
    assert "refresh-2" not in capsys.readouterr().out


def test_auth_x_refuses_a_redirect_from_another_sign_in(tmp_path, fake_x, capsys):
    """A pasted URL whose state differs is one clear line, exit 2, and nothing is stored."""
    path, config = _config(tmp_path, fake_x.url)
    with pytest.raises(SystemExit) as done:
        main(
            ["--config", str(path), "auth", "x", "--account", "xacct", "--client-id", "c"]
            + ["--redirect-url", "http://127.0.0.1:8788/callback?state=other&code=zzz"]
        )
    assert done.value.code == 2
    assert "another sign-in" in capsys.readouterr().err
    assert not config.account("xacct").token_file.exists() and fake_x.forms == []


def test_a_refresh_lost_to_another_process_uses_the_grant_that_process_saved(tmp_path, fake_x):
    """`check --live` (or `reply`) beside the daemon: both read refresh-1, the other process
    refreshes first and saves refresh-2, so X refuses our refresh-1 as spent. That is not a
    revoked sign-in: the grant now on disk is used, and no account-failing alarm is raised."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(minutes=5)))
    ours = XTokenKeeper(store, fake_x.url, lambda: NOW)
    theirs = XTokenKeeper(FileTokenStore(store.path), fake_x.url, lambda: NOW)
    read_before_the_other = store.load()
    assert theirs.access_token() == "access-2"
    assert ours.refresh(read_before_the_other)["access_token"] == "access-2"
    assert [f["refresh_token"] for f in fake_x.forms] == ["refresh-1", "refresh-1"]
    assert store.load()["refresh_token"] == "refresh-2"


def test_a_refreshed_grant_that_could_not_be_saved_is_kept_until_it_is(tmp_path, fake_x, monkeypatch):
    """X answered the refresh (refresh-1 is spent from then on) but the disk was full: the poll
    fails with the reason, and the new grant is kept in memory and saved on the next call
    once there is room, instead of sending the spent refresh-1 and needing a new sign-in."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(minutes=5)))
    keeper = XTokenKeeper(store, fake_x.url, lambda: NOW)
    disk = FullDisk(monkeypatch)
    with pytest.raises(ConfigError, match="No space left on device"):
        keeper.access_token()
    with pytest.raises(ConfigError, match="No space left on device"):
        keeper.access_token()  # still full: still failing, loudly
    disk.full = False
    assert keeper.access_token() == "access-2"
    assert store.load()["refresh_token"] == "refresh-2"
    assert len(fake_x.forms) == 1  # one refresh; the spent refresh-1 was never sent again


def test_sign_in_with_a_web_app_says_to_make_it_a_native_app(fake_x):
    """A Web App (confidential client) gets 401 unauthorized_client without its secret, at every
    attempt: the line says what to change in the X app instead of "run the command again"."""
    fake_x.confidential = True
    start = PkceStart("client-abc", "http://127.0.0.1:8788/callback")
    with pytest.raises(AuthExpired, match="Native App") as refused:
        exchange_code(fake_x.url, start, "code-xyz", now=NOW)
    assert "run the command again" not in str(refused.value)


def test_a_refresh_refused_for_the_app_type_names_the_app_setting(tmp_path, fake_x):
    """The app was switched to a Web App after sign-in: the refresh is refused for the client,
    not the grant; the account-failing reason says so instead of "revoked or already used"."""
    fake_x.confidential = True
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(minutes=5)))
    with pytest.raises(AuthExpired, match="Native App") as refused:
        XTokenKeeper(store, fake_x.url, lambda: NOW).access_token()
    assert "revoked" not in str(refused.value)


def test_an_access_token_x_refuses_although_our_clock_calls_it_fresh_is_refreshed_once(tmp_path, fake_x):
    """The wall clock was stepped back (or booted from a stale RTC): the stored access token
    looks an hour from expiry here but X has expired it (401). The connector refreshes once and
    reads, instead of failing the account with "export a new token" for as long as the clock
    is off."""
    store = FileTokenStore(tmp_path / "oauth-xacct.json")
    store.save(_grant(timedelta(hours=1)))
    fake_x.dead_access.add("access-1")
    x = XConnector(USER, "", base_url=fake_x.url, clock=lambda: NOW, token_store=store)
    assert x.fetch(NOW - timedelta(days=1)).error is None
    assert fake_x.bearers == ["Bearer access-1", "Bearer access-2"]
    assert store.load()["refresh_token"] == "refresh-2"
    fake_x.dead_access |= {"access-2", "access-3"}  # refused again right after a refresh: final
    assert isinstance(x.fetch(NOW - timedelta(days=1)).error, AuthExpired)
    assert fake_x.bearers[2:] == ["Bearer access-2", "Bearer access-3"] and len(fake_x.forms) == 2
