"""The evidence report as one self-contained, printable HTML document.

Everything from the archive is escaped (comments are written by strangers) and control or
direction characters are shown as escapes (``guard.text.inert``), so the printed words are the
words archived; the SHA-256 beside each text hashes the archived text itself. Times are shown in
``[guard] timezone`` with UTC in the timeline, so a reader can match them to ``export``.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from html import escape
from typing import Any

from guard.archive.queries import walk_thread
from guard.clock import local_time
from guard.text import inert

__all__ = ["render_html"]

_PAGE = {"a4": "A4", "letter": "letter"}

_CSS = """
@page { size: %(size)s; margin: 16mm 14mm 18mm 14mm;
  @bottom-left { content: "comment-guard evidence report · post %(post)s"; font-size: 7.5pt; color: #555; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 7.5pt; color: #555; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt;
  line-height: 1.35; color: #111; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm;
  border-bottom: 1px solid #999; break-after: avoid; } h3 { font-size: 10pt; margin: 3mm 0 1mm; }
table { border-collapse: collapse; width: 100%%; } thead { display: table-header-group; }
th, td { text-align: left; vertical-align: top; padding: 1mm 1.5mm; border-bottom: 0.5px solid #ccc; }
th { background: #eee; } tr { break-inside: avoid; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.hash, code { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; overflow-wrap: anywhere; }
.meta td:first-child { width: 32mm; color: #444; }
.box { border: 1px solid #888; padding: 2mm 3mm; margin: 2mm 0; break-inside: avoid; }
.comment { border-left: 2px solid #bbb; padding-left: 3mm; margin: 2mm 0; break-inside: avoid; }
.status { font-weight: bold; } .deleted, .hidden { color: #a00; } .bad { color: #a00; font-weight: bold; }
del { background: #fdd; text-decoration: line-through; } ins { background: #dfd; text-decoration: none; }
.small { font-size: 8pt; color: #444; }
"""

_EVENT_WORDS = {
    "post_added": "post first archived",
    "post_edited": "post edited (new version)",
    "post_deleted": "post deleted",
    "post_reappeared": "post seen again",
    "comment_added": "comment first archived",
    "comment_edited": "comment edited (new version)",
    "comment_hidden": "comment hidden",
    "comment_unhidden": "comment un-hidden",
    "comment_deleted": "comment deleted",
    "comment_reappeared": "comment seen again",
    "comment_unavailable": "comment no longer visible to the token",
    "post_marked_corrected": "post marked corrected by staff",
    "finding_opened": "finding opened",
    "finding_acknowledged": "finding acknowledged",
    "finding_resolved": "finding resolved",
    "finding_escalated": "finding escalated",
}


def _e(value: Any) -> str:
    return escape(inert("" if value is None else str(value)), quote=True)


def render_html(
    data: dict[str, Any],
    *,
    tz: tzinfo,
    tz_name: str,
    generated: datetime,
    paper: str = "a4",
    finding_id: int | None = None,
) -> str:
    """The report for ``data`` (``guard.archive.export.evidence``)."""
    post = data["post"]

    def t(value: Any) -> str:
        return _e(local_time(value, tz, seconds=True))

    comments = [c for c, _ in walk_thread(post["comments"])]
    texts = post["versions"] + [v for c in comments for v in c["versions"]]
    bad = [v for v in texts if not v.get("hash_ok", True)]
    by_id = {c["id"]: c for c in comments}
    css = _CSS % {"size": _PAGE.get(paper, "A4"), "post": _e(post["id"])}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Evidence report: post {_e(post['id'])}</title><style>{css}</style></head><body>",
        f"<h1>Evidence report: post {_e(post['id'])}</h1>",
        '<table class="meta">',
        _row("Account", _e(post.get("account"))),
        _row("Link", _e(post.get("permalink_url") or "-")),
        _row("Status now", f'<span class="status {_e(post["status"])}">{_e(post["status"])}</span>'),
        _row("Created", t(post.get("created_time"))),
        _row("First archived", t(post.get("first_seen"))),
        _row("Versions", str(len(post["versions"]))),
        _row(
            "Comments",
            f"{len(comments)} ({sum(c['status'] == 'deleted' for c in comments)} deleted, "
            f"{sum(c['status'] == 'hidden' for c in comments)} hidden)",
        ),
        _row("Report made", f"{t(generated)} ({_e(_utc(generated))})"),
        _row("Times shown in", _e(tz_name)),
        "</table>",
        _integrity(data, texts, bad),
    ]
    if finding_id is not None:
        out.append(f"<p>Requested for finding #{finding_id}.</p>")
    out.append("<h2>The post, version by version</h2>")
    out += [_version(v, t, "post") for v in post["versions"]]
    out.append("<h2>Findings and who acted</h2>")
    out.append(_findings(data, t) if data["findings"] else "<p>No findings on this post.</p>")
    out.append("<h2>The comment thread</h2>")
    if not post["comments"]:
        out.append("<p>No comments archived.</p>")
    out += [_comment(c, t, depth) for c, depth in walk_thread(post["comments"])]
    out.append("<h2>Timeline</h2>")
    out.append(_timeline(data["events"], by_id, t))
    out.append(
        '<p class="small">Control and text-direction characters in archived texts are shown as '
        "escapes (\\x1b, &lt;U+202E&gt;); the SHA-256 is of the text as archived (UTF-8).</p>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _integrity(data: dict[str, Any], texts: list[dict[str, Any]], bad: list[dict[str, Any]]) -> str:
    head = data["head"] or "-"
    check = (
        f'<span class="bad">{len(bad)} of {len(texts)} texts do NOT match their stored SHA-256</span>'
        if bad
        else f"all {len(texts)} texts below match their stored SHA-256"
    )
    return (
        '<div class="box"><h3>How to check this report</h3>'
        f"<p>Chain head when this report was made: event {data['events_total']}, hash "
        f'<span class="hash">{_e(head)}</span>. Every change the archive records is an event in a '
        "hash chain; this head is the hash of the last one. Keep this page: later, on the machine "
        "that holds the archive, run</p>"
        f"<p><code>comment-guard verify --head {_e(head)}</code></p>"
        "<p>It exits 0 and says the head is still in the chain if nothing recorded up to this report "
        "was changed since, and names the first altered row otherwise. Each text below carries its "
        "SHA-256: <code>printf '%s' 'the text' | sha256sum</code> reproduces it, and "
        f"<code>comment-guard export --post {_e(data['post']['id'])} --format csv</code> lists the same "
        f"hashes. At report time, {check}.</p></div>"
    )


def _version(v: dict[str, Any], t: Any, what: str) -> str:
    bad = "" if v.get("hash_ok", True) else ' <span class="bad">TEXT DOES NOT MATCH ITS HASH</span>'
    diff = ""
    if v.get("diff"):
        diff = '<div class="small">Changed words: <span class="text">' + _diff(v["diff"]) + "</span></div>"
    return (
        '<div class="box">'
        f"<div><strong>{what} version {v['version']}</strong> · seen {t(v['seen_at'])}{bad}</div>"
        f'<div class="text">{_e(v["message"])}</div>{diff}'
        f'<div class="hash">sha256 {_e(v["sha256"])}</div></div>'
    )


def _diff(diff: list[list[str]]) -> str:
    parts = []
    for op, words in diff:
        if op == "-":
            parts.append(f"<del>{_e(words)}</del>")
        elif op == "+":
            parts.append(f"<ins>{_e(words)}</ins>")
        else:
            parts.append(_e(words))
    return " ".join(parts)


def _comment(c: dict[str, Any], t: Any, depth: int) -> str:
    status = c["status"]
    who = _e(c.get("author") or "unknown author") + (" (the page)" if c.get("from_page") else "")
    versions = c["versions"]
    body = []
    for v in versions:
        bad = "" if v.get("hash_ok", True) else ' <span class="bad">TEXT DOES NOT MATCH ITS HASH</span>'
        label = f"version {v['version']} · seen {t(v['seen_at'])}{bad}" if len(versions) > 1 else ""
        diff = f'<div class="small">Changed: {_diff(v["diff"])}</div>' if v.get("diff") else ""
        body.append(
            (f'<div class="small">{label}</div>' if label else "")
            + f'<div class="text">{_e(v["message"])}</div>{diff}'
            + f'<div class="hash">sha256 {_e(v["sha256"])}</div>'
        )
    indent = f' style="margin-left:{min(depth, 6) * 6}mm"' if depth else ""
    return (
        f'<div class="comment"{indent}>'
        f"<div><strong>{who}</strong> · created {t(c.get('created_time'))} · "
        f'<span class="status {_e(status)}">{_e(status.upper())}</span> · '
        f'<span class="small">id {_e(c["id"])}</span></div>' + "".join(body) + "</div>"
    )


def _findings(data: dict[str, Any], t: Any) -> str:
    acted: dict[int, list[str]] = {}
    for e in data["events"]:
        fid = e["data"].get("finding_id") if isinstance(e["data"], dict) else None
        if fid is not None and str(e["kind"]).startswith("finding_") and e["kind"] != "finding_opened":
            who = e["data"].get("by") or "-"
            note = e["data"].get("note")
            acted.setdefault(int(fid), []).append(
                f"{_e(e['kind'].removeprefix('finding_'))} by {_e(who)} at {t(e['at'])}"
                + (f": {_e(note)}" if note else "")
            )
    rows = []
    for f in data["findings"]:
        summary = f["evidence"].get("summary") if isinstance(f["evidence"], dict) else None
        rows.append(
            "<tr>"
            f"<td>#{f['id']}</td><td>{_e(f['kind'])}<br><span class='small'>{_e(f['severity'])}</span></td>"
            f"<td>{_e(summary or '')}<br>"
            f"<span class='small'>comment {_e(f.get('comment_id') or '-')}</span></td>"
            f"<td>{t(f['opened_at'])}</td><td>{_e(f['state'])}</td>"
            f"<td>{'<br>'.join(acted.get(int(f['id']), [])) or '-'}</td></tr>"
        )
    return (
        "<table><thead><tr><th>#</th><th>kind</th><th>what</th><th>opened</th><th>state</th>"
        "<th>who acted</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _timeline(events: list[dict[str, Any]], comments: dict[str, dict[str, Any]], t: Any) -> str:
    rows = []
    for e in events:
        data = e["data"] if isinstance(e["data"], dict) else {}
        about = comments.get(e.get("object_id") or "")
        if about is not None:
            first = (about["versions"][0]["message"] if about["versions"] else "") or ""
            what = f"{_e(about.get('author') or '?')}: “{_e(_short(first))}”"
        else:
            what = "the post" if e.get("object_id") == e.get("post_id") else _e(e.get("object_id") or "-")
        extra = []
        if data.get("version"):
            extra.append(f"version {_e(data['version'])}")
        if data.get("finding_id"):
            extra.append(f"finding #{_e(data['finding_id'])}")
        if data.get("by"):
            extra.append(f"by {_e(data['by'])}")
        if data.get("note"):
            extra.append(_e(data["note"]))
        rows.append(
            f"<tr><td>{t(e['at'])}<br><span class='small'>{_e(e['at'])}</span></td>"
            f"<td>{_e(_EVENT_WORDS.get(e['kind'], e['kind']))}</td><td>{what}"
            + (f"<br><span class='small'>{'; '.join(extra)}</span>" if extra else "")
            + f"</td><td class='hash'>{e['seq']}<br>{_e(str(e['hash'])[:16])}…</td></tr>"
        )
    if not rows:
        return "<p>No events recorded.</p>"
    return (
        "<table><thead><tr><th>when</th><th>what happened</th><th>about</th><th>event</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _short(text: str, width: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _row(label: str, value: str) -> str:
    return f"<tr><td>{label}</td><td>{value}</td></tr>"


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
