"""`comment-guard serve`: the archive as a read-only Datasette page, over real HTTP."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import requests

from guard.demo.story import FIXED_TEXT, POST_TEXT, QUESTION
from guard.errors import ArchiveError, ConfigError
from guard.web.server import (
    DATABASE_NAME,
    ServeOptions,
    build_datasette,
    finding_url,
    is_loopback,
    load_metadata,
)
from tests.cli.conftest import run, write_config
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost
from tests.web.conftest import file_digest, served

QUERY_COLUMNS = {
    "open_findings": ["finding_id", "kind", "severity", "state", "comment_author", "comment_text"],
    "deleted_comments": ["comment_id", "post_id", "author_name", "last_text", "versions"],
    "hidden_comments": ["comment_id", "post_id", "author_name", "message"],
    "corrected_posts": ["post_id", "version", "before", "after"],
    "unanswered_past_deadline": ["finding_id", "question", "reply_due", "escalate_at"],
    "account_activity": ["day", "comments_added", "comments_deleted", "findings_opened", "events"],
    "search_versions": ["type", "post_id", "comment_id", "version", "message", "latest_text"],
}
PARAMS = {"account_activity": {"account": "riverside-page"}, "search_versions": {"q": "Thursday"}}


def _json(base: str, query: str, **params: str) -> dict:
    resp = requests.get(f"{base}/{DATABASE_NAME}/{query}.json", params={"_shape": "objects", **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_every_shipped_canned_query_answers_over_http(demo_archive):
    """Each canned query in the shipped metadata answers 200 with the columns staff are promised."""
    metadata, _ = load_metadata()
    assert set(metadata["databases"][DATABASE_NAME]["queries"]) == set(QUERY_COLUMNS)
    with served(ServeOptions(database=demo_archive)) as base:
        for query, columns in QUERY_COLUMNS.items():
            data = _json(base, query, **PARAMS.get(query, {}))
            assert set(columns) <= set(data["columns"]), query


def test_open_findings_and_deleted_comments_show_the_deleted_question(demo_archive):
    """The deleted question's text is on the open-findings and deleted-comments pages."""
    with served(ServeOptions(database=demo_archive)) as base:
        (finding,) = _json(base, "open_findings")["rows"]
        assert finding["kind"] == "removed-critical"
        assert finding["comment_text"] == QUESTION and finding["comment_status"] == "deleted"
        deleted = {r["last_text"] for r in _json(base, "deleted_comments")["rows"]}
        assert QUESTION in deleted
        corrected = _json(base, "corrected_posts")["rows"]
        assert [(r["before"], r["after"]) for r in corrected] == [(POST_TEXT, FIXED_TEXT)]
        activity = _json(base, "account_activity", account="riverside-page")["rows"]
        assert sum(r["comments_deleted"] for r in activity) == 2


def test_search_finds_the_earlier_version_of_the_corrected_post(demo_archive):
    """ "Thursday" was edited out of the post: the posts table's search misses it, the
    every-version search finds version 1 and shows the text it became."""
    with served(ServeOptions(database=demo_archive)) as base:
        latest_only = requests.get(f"{base}/{DATABASE_NAME}/posts.json", params={"_search": "Thursday"})
        assert latest_only.status_code == 200 and latest_only.json()["rows"] == []
        rows = _json(base, "search_versions", q="Thursday")["rows"]
        assert [(r["type"], r["version"], r["message"], r["latest_text"]) for r in rows] == [
            ("post", 1, POST_TEXT, FIXED_TEXT)
        ]
        for q in ("tonight", 'TONIGHT?!? "'):  # punctuation and quotes: a phrase, never an FTS error
            rows = _json(base, "search_versions", q=q)["rows"]
            assert [(r["type"], r["message"], r["status"]) for r in rows] == [
                ("comment", QUESTION, "deleted")
            ]


@pytest.fixture
def unspaced_archive(capsys, tmp_path, monkeypatch, rsps):
    """An archive polled from a page whose texts the full-text index cannot split: Chinese
    and Japanese sentences (no spaces), and emoji (not indexed)."""
    write_config(tmp_path / "cg.toml", monkeypatch)
    comments = [FakeComment("1_1", "今晚的会议取消了吗？"), FakeComment("1_2", "the meeting is 🔥🔥")]
    FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "会议在星期四晚上七点。", comments=comments)])
    assert run(capsys, "poll", "--once")[0] == 0
    return tmp_path / "archive.db"


@pytest.mark.parametrize("q,ids", [("星期四", {None}), ("会议", {None, "1_1"}), ("🔥", {"1_2"}), ("", set())])
def test_search_finds_what_the_index_cannot_split_as_written(unspaced_archive, q, ids):
    """ "Search every version" finds a word inside a Chinese sentence and an emoji (the index
    holds the sentence as one word and no emoji); an empty box lists nothing."""
    sql = load_metadata()[0]["databases"][DATABASE_NAME]["queries"]["search_versions"]["sql"]
    with sqlite3.connect(f"file:{unspaced_archive}?mode=ro", uri=True) as conn:
        assert {r[2] for r in conn.execute(sql, {"q": q})} == ids


def test_archived_text_with_a_bidi_override_is_shown_not_obeyed(capsys, tmp_path, monkeypatch, rsps):
    """ "photo<RLO>gnp.exe" would read "photoexe.png" in the browser: the page shows the
    override as <U+202E>, as the terminal and the alerts do."""
    write_config(tmp_path / "cg.toml", monkeypatch)
    text = "see photo\u202egnp.exe"
    FakePage(rsps, [FakePost(f"{PAGE_ID}_1", "Photos from the fair", comments=[FakeComment("1_1", text)])])
    assert run(capsys, "poll", "--once")[0] == 0
    with served(ServeOptions(database=tmp_path / "archive.db")) as base:
        rsps.add_passthru(base)  # the fake Graph API is done; the page is real HTTP
        for path in (f"/{DATABASE_NAME}/comments", f"/{DATABASE_NAME}/comments/1_1"):
            page = requests.get(base + path).text
            assert "\u202e" not in page and "photo&lt;U+202E&gt;gnp.exe" in page, path


def test_cells_naming_another_row_link_to_it(demo_archive):
    """In a canned query and in a table, comment_id/post_id cells link to that row's page."""
    with served(ServeOptions(database=demo_archive)) as base:
        page = requests.get(f"{base}/{DATABASE_NAME}/open_findings").text
        assert QUESTION in page
        assert f'href="/{DATABASE_NAME}/comments/1_2"' in page
        assert f'href="/{DATABASE_NAME}/posts/100200300_1"' in page
        table = requests.get(f"{base}/{DATABASE_NAME}/findings").text
        assert f'href="/{DATABASE_NAME}/comments/1_2"' in table
        assert "Situations that need a human" in table  # the table description


def test_findings_and_comments_offer_facets_by_account_status_and_kind(demo_archive):
    """The shipped facets are computed: findings by account/state/kind/severity, comments by status."""
    with served(ServeOptions(database=demo_archive)) as base:
        findings = requests.get(f"{base}/{DATABASE_NAME}/findings.json").json()["facet_results"]
        assert {"account", "state", "kind", "severity"} <= set(findings)
        assert [(v["value"], v["count"]) for v in findings["kind"]["results"]] == [("removed-critical", 1)]
        comments = requests.get(f"{base}/{DATABASE_NAME}/comments.json").json()["facet_results"]
        assert {v["value"]: v["count"] for v in comments["status"]["results"]} == {"deleted": 2, "present": 1}


def test_a_password_is_demanded_when_bound_off_localhost(demo_archive):
    """Configured for 0.0.0.0 with a password: every path, metadata included, answers 401
    without it or with a wrong one, and the page shows only with the right one."""
    options = ServeOptions(database=demo_archive, host="0.0.0.0", username="staff", password="correct horse")
    with served(options) as base:
        for path in ("/", f"/{DATABASE_NAME}/open_findings", "/-/metadata.json", "/-/static/app.css"):
            resp = requests.get(base + path)
            assert resp.status_code == 401, path
            assert "Basic" in resp.headers["www-authenticate"]
            assert QUESTION not in resp.text
        assert requests.get(f"{base}/", auth=("staff", "wrong")).status_code == 401
        assert requests.get(f"{base}/", auth=("admin", "correct horse")).status_code == 401
        ok = requests.get(f"{base}/{DATABASE_NAME}/open_findings", auth=("staff", "correct horse"))
        assert ok.status_code == 200 and QUESTION in ok.text
        metadata = requests.get(f"{base}/-/metadata.json", auth=("staff", "correct horse")).text
        assert "correct horse" not in metadata and "pbkdf2" not in metadata


def test_credentials_that_are_not_ascii_get_401_not_a_500(demo_archive):
    """Any client can send `Authorization: Basic //46eA==` (bytes 0xff 0xfe): the password
    plugin decoded it as ASCII and answered 500, with a traceback in the log."""
    options = ServeOptions(database=demo_archive, host="0.0.0.0", username="staff", password="correct horse")
    with served(options) as base:
        for header in ("Basic //46eA==", "Basic w7w6eA==", "Basic !!!", "Basic"):
            resp = requests.get(f"{base}/", headers={"Authorization": header})
            assert resp.status_code == 401, header
            assert "Basic" in resp.headers["www-authenticate"]
        assert requests.get(f"{base}/", auth=("staff", "correct horse")).status_code == 200


def test_without_a_password_only_local_host_names_are_answered(demo_archive):
    """DNS rebinding: a web page staff open can point its own host name at 127.0.0.1 and read
    the loopback page from their browser. Without a password the page answers only requests
    addressed to a loopback name (any port: an SSH tunnel changes it), never to another host."""
    with served(ServeOptions(database=demo_archive)) as base:
        url = f"{base}/{DATABASE_NAME}/open_findings.json"
        for host in ("attacker.example:8001", "attacker.example", "127.0.0.1.attacker.example"):
            resp = requests.get(url, headers={"Host": host})
            assert resp.status_code == 403, host
            assert QUESTION not in resp.text and "127.0.0.1" in resp.text
        for host in ("127.0.0.1:8001", "localhost:9000", "[::1]:8001", "localhost"):
            assert requests.get(url, headers={"Host": host}).status_code == 200, host


def test_refuses_to_serve_off_localhost_without_a_password(demo_archive):
    """0.0.0.0, a LAN address or a host name without a password is refused before binding."""
    for host in ("0.0.0.0", "192.168.1.20", "::", "guard.example.org"):
        with pytest.raises(ConfigError, match="without a password"):
            build_datasette(ServeOptions(database=demo_archive, host=host))
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        assert is_loopback(host)


@pytest.mark.parametrize(
    ("username", "password", "key"),
    [
        ("staff", "Grüße-2026", "password"),
        ("jürgen", "correct horse", "username"),
        ("st:aff", "pw", "username"),
    ],
    ids=["non-ascii-password", "non-ascii-username", "colon-in-username"],
)
def test_credentials_basic_auth_cannot_carry_are_refused_at_start(demo_archive, username, password, key):
    """datasette-auth-passwords decodes HTTP Basic credentials as ASCII and splits them at the
    first colon: a password like "Grüße-2026" made every request a 500, right password included,
    and a user with a colon could never sign in. Such settings stop serve with one line that
    names the key and never the password."""
    options = ServeOptions(database=demo_archive, host="0.0.0.0", username=username, password=password)
    with pytest.raises(ConfigError, match=rf"\[web\] {key}") as info:
        build_datasette(options)
    assert password not in str(info.value)


def test_archive_is_opened_read_only(demo_archive):
    """SQL that writes is refused by SQLite itself, through the page and through Datasette's
    own read connection, and the archive file is byte-for-byte unchanged after serving."""
    before = file_digest(demo_archive)
    with served(ServeOptions(database=demo_archive)) as base:
        for sql in ("DELETE FROM findings", "UPDATE comments SET message = 'x'"):
            resp = requests.get(f"{base}/{DATABASE_NAME}.json", params={"sql": sql})
            assert resp.status_code == 400
        rows = requests.get(f"{base}/{DATABASE_NAME}/findings.json", params={"_shape": "array"}).json()
        assert len(rows) == 1
    ds = build_datasette(ServeOptions(database=demo_archive))
    database = ds.get_database(DATABASE_NAME)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(database.execute("DELETE FROM findings"))
    database.close()
    assert file_digest(demo_archive) == before


def test_page_sql_cannot_read_or_plant_sqlite_tokenizer_pointers(demo_archive):
    """fts3_tokenizer() answers a C function pointer inside SQLite (one argument) and, in
    Debian's build, installs any pointer as a tokenizer (two): an address leak and a
    step to running code in the serving process. On the page both answer NULL; search,
    which is FTS5, still works."""
    with served(ServeOptions(database=demo_archive)) as base:
        for sql in ("select fts3_tokenizer('simple')", "select fts3_tokenizer('simple', x'00')"):
            resp = requests.get(f"{base}/{DATABASE_NAME}.json", params={"sql": sql, "_shape": "objects"})
            assert resp.status_code == 200, resp.text
            assert resp.json()["rows"] == [{sql.removeprefix("select "): None}]
        assert _json(base, "search_versions", q="Thursday")["rows"]


@pytest.mark.parametrize("folder", ["C#data", "what?x", "100%25"])
def test_an_archive_under_a_path_with_uri_characters_is_served_read_only(demo_archive, tmp_path, folder):
    """Datasette opens ``file:{path}?mode=ro``: a '#' or '?' in the path cut it short, so it
    opened (and created, read-write) an empty database beside the folder and showed an empty
    archive. The archive itself is served, read-only, whatever its path."""
    (tmp_path / folder).mkdir()
    archive = tmp_path / folder / "archive.db"
    archive.write_bytes(demo_archive.read_bytes())
    with served(ServeOptions(database=archive)) as base:
        assert len(_json(base, "deleted_comments")["rows"]) == 2
    database = build_datasette(ServeOptions(database=archive)).get_database(DATABASE_NAME)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(database.execute("DELETE FROM findings"))
    database.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]


def test_serving_a_missing_archive_is_one_clear_error(tmp_path):
    """No archive file: a one-line error naming it, and no empty archive is created."""
    missing = tmp_path / "nothing.db"
    with pytest.raises(ArchiveError, match="no archive at"):
        build_datasette(ServeOptions(database=missing))
    assert not missing.exists()


def test_finding_links_use_the_configured_base_url():
    """Alerts link to /archive/findings/ID under [web] base_url, trailing slash or not."""
    assert finding_url("https://guard.example.org/", 12) == "https://guard.example.org/archive/findings/12"
