"""The HTML part of alert emails: the same facts as the text part, with inline styles only.

Mail clients strip ``<style>`` blocks and scripts, so everything is inline and every value
from a comment or post goes through ``html.escape`` (comments are written by strangers).
"""

from __future__ import annotations

from html import escape

from guard.alerts.facts import Facts

__all__ = ["render_html"]

_QUOTE = "margin:8px 0;padding:8px 12px;border-left:4px solid #d0d7de;background:#f6f8fa;white-space:pre-wrap"
_CODE = "display:block;padding:8px 12px;background:#f6f8fa;font-family:monospace;white-space:pre-wrap"


def _e(value: str) -> str:
    return escape(value, quote=True)


def render_html(f: Facts) -> str:
    """Render ``f`` as a small self-contained HTML document."""
    parts = [f'<h2 style="margin:0 0 8px">{_e(f.headline)}</h2>', f"<p>{_e(f.summary)}</p>"]
    if f.open_since:
        parts.append(f"<p><strong>Open for {_e(f.open_since)} without a public reply.</strong></p>")
    if f.post_url or f.post_label:
        label = _e(f.post_label or f.post_url or "")
        link = f'<a href="{_e(f.post_url)}">{label}</a>' if f.post_url else label
        parts.append(f"<p><strong>Post:</strong> {link}</p>")
    if f.correction:
        parts.append(f"<p><strong>What was corrected:</strong> {_e(f.correction)}</p>")
    if f.comment_status or f.comment_text:
        parts.append(
            f"<p><strong>Comment by {_e(f.comment_author or 'someone')}</strong> · "
            f"{_e(f.comment_time or 'unknown time')} · "
            f"<strong>{_e((f.comment_status or 'unknown').upper())}</strong></p>"
            f'<blockquote style="{_QUOTE}">{_e(f.comment_text or "(text not archived)")}'
            "</blockquote>"
        )
    if f.reasons:
        items = "".join(f"<li>{_e(r)}</li>" for r in f.reasons)
        parts.append(f"<p><strong>Why it matters:</strong></p><ul>{items}</ul>")
    if f.reply:
        parts.append(
            f"<p><strong>Suggested public reply:</strong></p>"
            f'<blockquote style="{_QUOTE}">{_e(f.reply)}</blockquote>'
        )
    if f.command:
        parts.append(
            f"<p><strong>Post it from the command line:</strong></p>"
            f'<code style="{_CODE}">{_e(f.command)}</code>'
        )
    if f.post_url:
        parts.append(
            f'<p><a href="{_e(f.post_url)}" style="display:inline-block;'
            "padding:8px 14px;background:#1f6feb;color:#fff;text-decoration:none;"
            'border-radius:6px">Open post</a></p>'
        )
    if f.finding_url:
        parts.append(f'<p><a href="{_e(f.finding_url)}">Open this finding in the archive</a></p>')
    if f.context:
        parts.append(f'<p style="color:#57606a;font-size:12px">{_e(f.context)}</p>')
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif;line-height:1.4;max-width:640px">\n'
        f"{body}\n</body></html>\n"
    )
