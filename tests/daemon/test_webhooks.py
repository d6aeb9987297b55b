"""The webhook receiver over real HTTP on loopback: Meta's handshake, signed notifications,
refusals, coalescing, and a signed ``remove`` that becomes a finding without waiting for a poll."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from structlog.testing import capture_logs

from connectors.facebook import FacebookConnector
from guard.config import load_config
from guard.demo.story import FIXED_TEXT, POST_TEXT, QUESTION
from guard.runtime.daemon import Daemon
from guard.runtime.webhooks import CALLBACK_PATH, Change, ScanQueue, WebhookApp, WebhookServer, sign
from tests.daemon.conftest import TOKEN, TOKEN_ENV, account_toml, query, wait_for, write_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
SECRET = "app-secret-0c9e7d41b2"
VERIFY = "verify-me-5a1f"
PAGE = "1234567890321"  # the Page id in the recorded payloads


class Receiver:
    def __init__(self, queue: ScanQueue, **options: float) -> None:
        self.queue = queue
        self.changes: list[tuple[tuple[str, str | None], Change]] = []
        self.app = WebhookApp(
            app_secret=SECRET,
            verify_token=VERIFY,
            accounts={("facebook", PAGE): "page", ("instagram", "123456789"): "insta"},
            on_scope=self._on_scope,
            max_body=4096,
            **options,
        )
        self.server = WebhookServer(self.app, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.server.port}{CALLBACK_PATH}"

    def _on_scope(self, scope: tuple[str, str | None], change: Change) -> None:
        self.changes.append((scope, change))
        self.queue.put(scope)

    def post(self, body, signature: str | None = "sign") -> requests.Response:
        """POST ``body`` (bytes, or an iterator of chunks: sent chunked, with no length)."""
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(SECRET.encode(), body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return requests.post(self.url, data=body, headers=headers, timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(ScanQueue())
    yield r
    r.server.stop()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_handshake_echoes_the_challenge_only_for_the_verify_token(receiver):
    """GET with hub.mode=subscribe and the right verify token answers hub.challenge; else 403."""
    ok = requests.get(
        receiver.url,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
        timeout=5,
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = requests.get(
        receiver.url,
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
        timeout=5,
    )
    assert bad.status_code == 403 and "1158201444" not in bad.text
    assert receiver.app.counts["handshake"] == 1


def test_a_refused_handshake_logs_what_was_wrong_and_never_the_token(receiver):
    """An operator debugging "Verify and save" reads the log: a right token with no challenge,
    or a mode other than subscribe, is not logged as a wrong token."""
    cases = {
        "wrong verify token": {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        "no hub.challenge": {"hub.mode": "subscribe", "hub.verify_token": VERIFY},
        "hub.mode is not subscribe": {
            "hub.mode": "unsubscribe",
            "hub.verify_token": VERIFY,
            "hub.challenge": "1",
        },
    }
    for reason, params in cases.items():
        with capture_logs() as logs:
            assert requests.get(receiver.url, params=params, timeout=5).status_code == 403
        refused = [e for e in logs if e["event"] == "webhook_refused"]
        assert [e["reason"] for e in refused] == [f"handshake: {reason}"]
        assert VERIFY not in repr(refused)


def test_signed_comment_remove_queues_a_scan_of_its_post(receiver):
    """A recorded feed remove with a valid signature is 200 and names the post to scan."""
    response = receiver.post(fixture("feed-comment-remove.json"))
    assert response.status_code == 200
    ((scope, change),) = receiver.changes
    assert scope == ("page", "1234567890321_905578656204626")
    assert (change.verb, change.comment_id) == ("remove", "905578656204626_905579239537901")
    assert receiver.queue.take() == [scope]


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "sha256=" + "0" * 64,
        "sha1=" + "0" * 40,
        "sha256=",
        sign(b"another-secret", fixture("feed-comment-remove.json")),
    ],
    ids=["missing", "wrong", "sha1-only", "empty", "other-secret"],
)
def test_missing_or_wrong_signature_is_refused_and_counted(receiver, signature):
    """No valid X-Hub-Signature-256 over the raw body: 403, counted, nothing queued."""
    response = receiver.post(fixture("feed-comment-remove.json"), signature=signature)
    assert response.status_code == 403
    assert receiver.app.counts["bad_signature"] == 1
    assert receiver.changes == [] and len(receiver.queue) == 0


def test_replayed_signature_with_a_changed_body_is_refused(receiver):
    """A signature captured from one delivery does not carry over to an altered body."""
    original = fixture("feed-comment-remove.json")
    captured = sign(SECRET.encode(), original)
    altered = original.replace(b"905578656204626_905579239537901", b"905578656204626_000000000000001")
    assert receiver.post(original, signature=captured).status_code == 200
    assert receiver.post(altered, signature=captured).status_code == 403
    assert receiver.post(original + b" ", signature=captured).status_code == 403
    assert receiver.app.counts == {"accepted": 1, "bad_signature": 2}


def test_oversized_body_is_refused_before_it_is_read(receiver):
    """Bodies over max_body are 413, whether the length is declared or streamed in chunks."""
    big = b'{"object": "page", "entry": []' + b" " * 5000 + b"}"
    assert receiver.post(big).status_code == 413
    chunks = iter([big[:3000], big[3000:]])
    streamed = receiver.post(chunks, signature=sign(SECRET.encode(), big))
    assert streamed.status_code == 413
    assert receiver.app.counts["too_large"] == 2 and receiver.changes == []


def test_a_body_that_trickles_in_is_cut_off_so_slow_clients_cannot_hold_every_slot():
    """A reverse proxy (Caddy by default) streams the body through as the client sends it, and
    the receiver takes 200 requests at once: 200 clients sending a byte now and then would
    hold every slot and Meta would get 503. A body not complete within ``body_timeout`` is
    408, counted, and the connection is closed, which frees its slot."""
    receiver = Receiver(ScanQueue(), body_timeout=0.2)
    try:
        with socket.create_connection(("127.0.0.1", receiver.server.port), timeout=5) as slow:
            slow.sendall(
                f"POST {CALLBACK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{".encode()
            )
            answer = slow.recv(1000)
            assert answer.startswith(b"HTTP/1.1 408 ") and b"connection: close" in answer.lower()
        assert receiver.app.counts["too_slow"] == 1
        assert receiver.post(fixture("feed-comment-add.json")).status_code == 200
    finally:
        receiver.server.stop()


def test_signed_body_that_is_not_json_is_a_bad_request(receiver):
    """A correctly signed body that does not parse is 400, never an exception."""
    assert receiver.post(b"{not json").status_code == 400


def test_signed_json_nested_too_deep_to_parse_is_a_bad_request(receiver):
    """A signed body nested deeper than the JSON parser recurses (2,000 levels fit in 4 KiB)
    is 400 like any other body that does not parse, not an exception and a 500."""
    assert receiver.post(b"[" * 2000 + b"]" * 2000).status_code == 400
    assert receiver.app.counts["not_json"] == 1


@pytest.mark.parametrize("changes", [5, True, 1.5], ids=["number", "boolean", "float"])
def test_changes_that_are_not_a_list_are_skipped_and_the_rest_still_scans(receiver, changes):
    """An entry whose ``changes`` is not a list is skipped, never a 500 (Meta would redeliver
    the same body for hours); the other entries of the delivery still name their posts."""
    payload = json.loads(fixture("feed-comment-add.json"))
    payload["entry"].insert(0, {"id": PAGE, "time": 1449135003, "changes": changes})
    assert receiver.post(json.dumps(payload).encode()).status_code == 200
    assert receiver.queue.take() == [("page", "1234567890321_901097836652708")]


def test_ids_that_are_not_strings_or_numbers_name_no_post(receiver):
    """A boolean ``post_id`` is not an id: it names no post, rather than a scan of a post "True"."""
    payload = json.loads(fixture("feed-comment-add.json"))
    payload["entry"][0]["changes"][0]["value"]["post_id"] = True
    assert receiver.post(json.dumps(payload).encode()).status_code == 200
    assert receiver.changes == []


def test_burst_of_100_events_for_one_post_makes_one_scan(receiver):
    """Meta repeats and bursts deliveries: 100 events for one post leave one queued scan."""
    body = fixture("feed-comment-add.json")
    with requests.Session() as session:
        for _ in range(100):
            headers = {"X-Hub-Signature-256": sign(SECRET.encode(), body)}
            assert session.post(receiver.url, data=body, headers=headers, timeout=5).status_code == 200
    assert receiver.queue.take() == [("page", "1234567890321_901097836652708")]
    assert (receiver.queue.events, receiver.queue.coalesced) == (100, 99)


def test_changes_that_are_not_comments_or_posts_queue_nothing(receiver):
    """A like, an unknown page or an unknown object is acknowledged (200) and ignored."""
    like = fixture("feed-like-add.json")
    other_page = fixture("feed-comment-add.json").replace(PAGE.encode(), b"999")
    unknown = json.dumps({"object": "user", "entry": [{"id": PAGE, "changes": []}]}).encode()
    for body in (like, other_page, unknown):
        assert receiver.post(body).status_code == 200
    assert receiver.changes == []


@pytest.mark.parametrize(
    "post_id",
    [
        "999_901097836652708",
        "1234567890321_901097836652708/comments",
        "me/accounts",
        "1234567890321_9\u202e1",
    ],
    ids=["another-page", "path-suffix", "path", "bidi"],
)
def test_a_post_id_that_is_not_one_of_the_pages_posts_queues_nothing(receiver, post_id):
    """The post id becomes a Graph API path read with the page's token: one that is not
    ``{page id}_{digits}`` (another page's post, a path, odd characters) is ignored and logged,
    never fetched into this account."""
    payload = json.loads(fixture("feed-comment-add.json"))
    payload["entry"][0]["changes"][0]["value"]["post_id"] = post_id
    assert receiver.post(json.dumps(payload).encode()).status_code == 200
    assert receiver.changes == []


def test_an_instagram_media_id_that_is_not_digits_queues_nothing(receiver):
    """Instagram names the media by its numeric id; anything else is not fetched."""
    payload = json.loads(fixture("instagram-comments.json"))
    payload["entry"][0]["changes"][0]["value"]["media"]["id"] = "123123123/insights"
    assert receiver.post(json.dumps(payload).encode()).status_code == 200
    assert receiver.changes == []


def test_post_removed_polls_the_whole_account(receiver):
    """A removed post is only provable from a complete post list: the scope is the account."""
    assert receiver.post(fixture("feed-post-remove.json")).status_code == 200
    assert receiver.queue.take() == [("page", None)]


def test_hide_and_instagram_comment_name_their_post(receiver):
    """A feed hide names the Page post; an Instagram comments change names its media."""
    assert receiver.post(fixture("feed-comment-hide.json")).status_code == 200
    assert receiver.post(fixture("instagram-comments.json")).status_code == 200
    assert [scope for scope, _ in receiver.changes] == [
        ("page", "1234567890321_901097836652708"),
        ("insta", "123123123"),
    ]


def test_other_paths_and_methods_are_refused(receiver):
    """Only the callback path answers; PUT is 405."""
    base = receiver.url.removesuffix(CALLBACK_PATH)
    assert requests.get(base + "/", timeout=5).status_code == 404
    assert requests.put(receiver.url, data=b"{}", timeout=5).status_code == 405


# -- in the daemon ------------------------------------------------------------------------------


class CountingConnector:
    """The real Facebook connector; counts targeted scans and can hold the first full poll."""

    def __init__(self, inner: FacebookConnector) -> None:
        self.inner = inner
        self.fetch_posts: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def fetch(self, since):
        self.entered.set()
        self.gate.wait(10)
        return self.inner.fetch(since)

    def fetch_post(self, post_id):
        self.fetch_posts.append(post_id)
        return self.inner.fetch_post(post_id)


def _hooks_config(tmp_path: Path, sandbox, monkeypatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("CG_TEST_APP_SECRET", SECRET)
    monkeypatch.setenv("CG_TEST_VERIFY", VERIFY)
    path = write_config(tmp_path, [account_toml("page", sandbox.base_url, every="1h")])
    path.write_text(
        path.read_text() + '\n[webhooks]\nlisten = "127.0.0.1:0"\napp_secret_env = "CG_TEST_APP_SECRET"\n'
        'verify_token_env = "CG_TEST_VERIFY"\ncoalesce = "100ms"\n'
    )
    return path


def _remove_event(page_id: str, post_id: str, comment_id: str) -> bytes:
    """The recorded remove payload, pointed at the sandbox's page, post and comment."""
    payload = json.loads(fixture("feed-comment-remove.json"))
    payload["entry"][0]["id"] = page_id
    payload["entry"][0]["changes"][0]["value"].update(
        post_id=post_id, comment_id=comment_id, parent_id=post_id
    )
    return json.dumps(payload).encode()


def _run(daemon: Daemon) -> threading.Thread:
    thread = threading.Thread(target=lambda: daemon.run(install_signals=False), daemon=True)
    thread.start()
    wait_for(lambda: daemon.webhooks is not None and daemon.webhooks.port, what="the receiver")
    return thread


def test_signed_remove_event_opens_removed_critical_without_waiting_for_the_poll(
    tmp_path, sandbox, monkeypatch
):
    """poll_every is 1h: only the webhook's targeted scan can find the deleted question, and it
    goes through the deletion rule (complete scan, then a by-id read and a control read)."""
    post = sandbox.add_post(POST_TEXT)
    question = sandbox.add_comment(post, QUESTION, author="Dana Reader")
    config = load_config(_hooks_config(tmp_path, sandbox, monkeypatch))
    connector = CountingConnector(FacebookConnector("100200300", TOKEN, base_url=sandbox.base_url))
    daemon = Daemon(config, connectors={"page": connector})
    thread = _run(daemon)
    db = tmp_path / "archive.db"
    try:
        wait_for(lambda: query(db, "SELECT 1 FROM comments WHERE id = ?", [question]), what="the first poll")
        url = f"http://127.0.0.1:{daemon.webhooks.port}{CALLBACK_PATH}"
        sandbox.edit_post(post, FIXED_TEXT)  # the correction arrives as a feed "edited" event
        edited = json.loads(_remove_event("100200300", post, question))
        edited["entry"][0]["changes"][0]["value"] = {"item": "status", "verb": "edited", "post_id": post}
        body = json.dumps(edited).encode()
        requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(SECRET.encode(), body)}, timeout=5)
        wait_for(
            lambda: query(db, "SELECT 1 FROM posts WHERE id = ? AND version = 2", [post]), what="the edit"
        )

        sandbox.delete_comment(question)
        body = _remove_event("100200300", post, question)
        response = requests.post(
            url, data=body, headers={"X-Hub-Signature-256": sign(SECRET.encode(), body)}, timeout=5
        )
        assert response.status_code == 200
        findings = wait_for(lambda: query(db, "SELECT kind, comment_id FROM findings"), what="a finding")
    finally:
        daemon.stop()
        thread.join(10)
    assert findings == [("removed-critical", question)]
    assert query(db, "SELECT status FROM comments WHERE id = ?", [question]) == [("deleted",)]
    assert connector.fetch_posts == [post, post]
    assert query(db, "SELECT count(*) FROM polls") == [(3,)]  # one full poll, two targeted scans


def test_burst_while_the_worker_is_busy_is_answered_at_once_and_scanned_once(tmp_path, sandbox, monkeypatch):
    """With the worker held inside a poll, 100 signed events are all answered 200 (nothing
    waits for the archive), and they make exactly one targeted scan once the worker is free."""
    post = sandbox.add_post(POST_TEXT)
    sandbox.add_comment(post, QUESTION, author="Dana Reader")
    config = load_config(_hooks_config(tmp_path, sandbox, monkeypatch))
    connector = CountingConnector(FacebookConnector("100200300", TOKEN, base_url=sandbox.base_url))
    connector.gate.clear()
    daemon = Daemon(config, connectors={"page": connector})
    thread = _run(daemon)
    try:
        assert connector.entered.wait(10)
        url = f"http://127.0.0.1:{daemon.webhooks.port}{CALLBACK_PATH}"
        body = _remove_event("100200300", post, f"{post}_1")
        headers = {"X-Hub-Signature-256": sign(SECRET.encode(), body)}
        with requests.Session() as session:
            statuses = {
                session.post(url, data=body, headers=headers, timeout=5).status_code for _ in range(100)
            }
        assert statuses == {200}
        assert connector.fetch_posts == []  # the worker is still held
        connector.gate.set()
        wait_for(
            lambda: query(tmp_path / "archive.db", "SELECT count(*) FROM polls")[0][0] >= 2, what="the scan"
        )
    finally:
        connector.gate.set()
        daemon.stop()
        thread.join(10)
    assert connector.fetch_posts == [post]


def test_missing_app_secret_stops_the_daemon_with_one_line(tmp_path, sandbox, monkeypatch):
    """[webhooks] without its secret in the environment is a ConfigError naming the variable."""
    config = load_config(_hooks_config(tmp_path, sandbox, monkeypatch))
    monkeypatch.delenv("CG_TEST_APP_SECRET")
    from guard.errors import ConfigError

    with pytest.raises(ConfigError, match="CG_TEST_APP_SECRET") as info:
        Daemon(config).run(install_signals=False)
    assert SECRET not in str(info.value)
