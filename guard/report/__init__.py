"""Evidence reports (``comment-guard report``): one post's record as HTML, and as PDF through
WeasyPrint. ``render_html`` is pure (the evidence dict in, a document out); ``write_pdf`` lays it
out on A4 or Letter pages."""

from __future__ import annotations

from guard.report.html import render_html
from guard.report.pdf import write_pdf

__all__ = ["render_html", "write_pdf"]
