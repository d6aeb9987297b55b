"""Answering a records request through the CLI: `export` with filters and columns, and the
evidence `report` as HTML and as a PDF whose text is read back with pdftotext."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess

import pytest

from tests.cli.conftest import run
from tests.support.graph import PAGE_ID, FakeComment, FakePage, FakePost

POST = f"{PAGE_ID}_1"
OTHER = f"{PAGE_ID}_2"


@pytest.fixture
def story(capsys, config, rsps):
    """Thursday → the Thirteenth: the post corrected, the question deleted, the finding acked."""
    config.write_text(config.read_text().replace("[guard]\n", '[guard]\ntimezone = "America/Chicago"\n'))
    page = FakePage(
        rsps,
        [
            FakePost(
                POST,
                "The meeting is Thursday.",
                created_time="2026-11-20T15:00:00+0000",
                comments=[
                    FakeComment(
                        "1_1", "wait, the meeting is TONIGHT?!?", created_time="2026-11-20T16:02:11+0000"
                    ),
                    FakeComment(
                        "1_2",
                        '=HYPERLINK("http://x")',
                        author="Sam Neighbor",
                        created_time="2026-11-21T17:00:00+0000",
                    ),
                ],
            ),
            FakePost(OTHER, "Library hours change.", created_time="2026-11-10T15:00:00+0000"),
        ],
    )
    assert run(capsys, "poll", "--once")[0] == 0
    page.post(POST).message = "The meeting is the Thirteenth."
    run(capsys, "poll", "--once")
    page.remove_comment("1_1")
    run(capsys, "poll", "--once")
    code, out, err = run(capsys, "findings", "--json")
    finding = next(f for f in json.loads(out) if f["kind"] == "removed-critical")
    assert run(capsys, "ack", str(finding["id"]))[0] == 0
    return finding["id"]


def test_export_has_the_records_columns_for_every_version(capsys, story):
    """Each version carries created, first-seen, deleted-at, permalink and its text's SHA-256."""
    code, out, err = run(capsys, "export", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert {(r["type"], r["id"], r["version"]) for r in rows} == {
        ("post", POST, 1),
        ("post", POST, 2),
        ("post", OTHER, 1),
        ("comment", "1_1", 1),
        ("comment", "1_2", 1),
    }
    question = next(r for r in rows if r["id"] == "1_1")
    assert question["status"] == "deleted" and question["deleted_at"] and question["first_seen"]
    assert question["created_time"].startswith("2026-11-20T16:02:11")
    assert question["permalink"] and question["account"] == "main-page"
    assert all(r["sha256"] == hashlib.sha256(r["message"].encode()).hexdigest() for r in rows)
    assert [r["current"] for r in rows if r["id"] == POST] == [False, True]


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_export_keeps_one_row_per_line_when_a_text_holds_unicode_line_separators(capsys, config, rsps, fmt):
    """U+2028, U+2029 and NEL are line breaks to `str.splitlines`, editors and older JSON
    readers: written escaped, NDJSON stays one row per line and both formats give back the
    archived text, matching its SHA-256."""
    text = "first\u2028second\u2029third\x85fourth"
    FakePage(rsps, [FakePost(POST, "Hours", comments=[FakeComment("1_1", text)])])
    run(capsys, "poll", "--once")
    code, out, err = run(capsys, "export", "--format", fmt)
    assert code == 0, err
    assert not any(ch in out for ch in "\u2028\u2029\x85")
    rows = [json.loads(line) for line in out.splitlines()] if fmt == "ndjson" else json.loads(out)
    (row,) = [r for r in rows if r["id"] == "1_1"]
    assert row["message"] == text and row["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def test_export_filters_by_post_time_account_and_words(capsys, story):
    """--post, --since/--until (local time), --account and --query narrow the export."""

    def ids(*args: str) -> set[str]:
        code, out, err = run(capsys, "export", "--format", "ndjson", *args)
        assert code == 0, err
        return {json.loads(line)["id"] for line in out.splitlines()}

    assert ids("--post", OTHER) == {OTHER}
    assert ids("--post", POST) == {POST, "1_1", "1_2"}
    # 2026-11-20 10:02 in Chicago is 16:02 UTC: the question is created at or after it.
    assert ids("--since", "2026-11-20T10:02:00", "--until", "2026-11-20") == {"1_1"}
    assert ids("--until", "2026-11-19") == {OTHER}
    assert ids("--query", "TONIGHT?!?") == {"1_1"}
    assert ids("--query", "Thursday") == {POST}  # an earlier version matched
    assert ids("--account", "main-page") == {POST, OTHER, "1_1", "1_2"}
    code, _, err = run(capsys, "export", "--account", "nope")
    assert code == 2 and err.count("\n") == 1 and "no account 'nope'" in err


def test_export_of_a_post_the_archive_does_not_hold_is_an_error_not_an_empty_answer(capsys, story, tmp_path):
    """A mistyped post id must not answer a records request with nothing and exit 0."""
    code, out, err = run(capsys, "export", "--post", "1002003_9", "-o", str(tmp_path / "x.json"))
    assert code != 0 and err.count("\n") == 1 and "no post or comment with id '1002003_9'" in err
    assert not (tmp_path / "x.json").exists()
    code, _, err = run(capsys, "export", "--post", "1_1")  # a comment's id: say which post it is on
    assert code == 2 and f"'1_1' is a comment, not a post; its post is '{POST}'" in err


def test_excel_csv_opens_in_python_csv_with_a_bom_and_neutralised_formulas(capsys, story, tmp_path):
    """--excel writes a BOM that utf-8-sig reads away; formula cells get a leading quote."""
    target = tmp_path / "records.csv"
    code, _, err = run(capsys, "export", "-o", str(target), "--excel")
    assert code == 0 and "wrote 5 version(s)" in err
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:3] == ["type", "id", "account"] and len(rows) == 5
    formula = next(r for r in rows if r["id"] == "1_2")
    assert formula["message"] == '\'=HYPERLINK("http://x")'
    assert formula["sha256"] == hashlib.sha256(b'=HYPERLINK("http://x")').hexdigest()
    code, out, _ = run(capsys, "export", "--format", "csv", "--raw")
    assert '"=HYPERLINK(""http://x"")"' in out
    code, _, err = run(capsys, "export", "--format", "json", "--excel")
    assert code == 2 and "--excel is for CSV" in err


@pytest.mark.parametrize("query", ['NEAR("a"', '"unclosed phrase', "*", "NEAR(a b, x)"])
def test_export_with_a_malformed_query_is_one_line_and_writes_no_file(capsys, story, tmp_path, query):
    """A query FTS5 cannot parse is refused before the output file is created, whichever way
    FTS5 words its complaint."""
    target = tmp_path / "out.json"
    code, _, err = run(capsys, "export", "--query", query, "-o", str(target))
    assert code == 2 and err.startswith("error: cannot search for") and not target.exists()


def test_report_html_holds_both_versions_the_deleted_question_and_the_chain_head(capsys, story, tmp_path):
    """The HTML report shows the post's versions with the diff, the deleted question, who acked
    the finding, local times, and the chain head that `verify --head` accepts."""
    target = tmp_path / "report.html"
    code, out, err = run(capsys, "report", POST, "-o", str(target))
    assert code == 0, err
    html = target.read_text()
    assert "The meeting is Thursday." in html and "The meeting is the Thirteenth." in html
    assert "<del>Thursday.</del>" in html and "wait, the meeting is TONIGHT?!?" in html
    assert "DELETED" in html and "acknowledged by staff" in html and "CST" in html
    head = out.split("chain head ")[1].split()[0]
    assert f"comment-guard verify --head {head}" in html
    assert hashlib.sha256(b"wait, the meeting is TONIGHT?!?").hexdigest() in html
    code, out, _ = run(capsys, "verify", "--head", head)
    assert code == 0


def test_report_for_a_finding_reports_on_its_post(capsys, story, tmp_path):
    """--finding N reports on the finding's post; a missing one is one clear line."""
    target = tmp_path / "r.html"
    assert run(capsys, "report", "--finding", str(story), "-o", str(target))[0] == 0
    assert f"Requested for finding #{story}" in target.read_text()
    code, _, err = run(capsys, "report", "--finding", "999", "-o", str(target))
    assert code == 1 and "no finding #999" in err
    code, _, err = run(capsys, "report", POST, "-o", str(tmp_path / "r.txt"))
    assert code == 2 and "report.html or report.pdf" in err
    code, _, err = run(capsys, "report", "-o", str(target))
    assert code == 2 and "POST_ID or --finding" in err


def _pdf_tools_missing() -> str | None:
    """Why the PDF test cannot run here (poppler's pdftotext, or Pango for WeasyPrint), or None."""
    if shutil.which("pdftotext") is None:
        return "needs poppler-utils (pdftotext); .ci/run installs it"
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except (ImportError, OSError):
        return "needs Pango for WeasyPrint (libpango-1.0-0 libpangoft2-1.0-0); .ci/run installs it"
    return None


@pytest.mark.skipif(_pdf_tools_missing() is not None, reason=str(_pdf_tools_missing()))
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_report_pdf_text_holds_the_deleted_question_both_versions_and_the_head(
    capsys, story, tmp_path, paper
):
    """The PDF, read back with pdftotext, has the deleted question, both versions and the head,
    on pages of the requested size; page 1 renders to a non-blank PNG."""
    target = tmp_path / "report.pdf"
    code, out, err = run(capsys, "report", POST, "-o", str(target), "--paper", paper)
    assert code == 0, err
    head = out.split("chain head ")[1].split()[0]
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "wait, the meeting is TONIGHT?!?" in flat
    assert "The meeting is Thursday." in flat and "The meeting is the Thirteenth." in flat
    assert head[:32] in flat.replace(" ", "")
    info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True).stdout
    size = {"a4": "595.276 x 841.89", "letter": "612 x 792"}[paper]
    assert size in info
    if paper == "a4":
        page_one = ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(target), str(tmp_path / "p")]
        subprocess.run(page_one, check=True)
        png = next(tmp_path.glob("p*.png")).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 2000
