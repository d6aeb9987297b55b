"""The report as PDF, through WeasyPrint (HTML + CSS paged media, maintained, no browser).

WeasyPrint is imported only here, when a PDF is asked for: it loads Pango through cffi at import
time, and a machine without Pango should still run every other command.
"""

from __future__ import annotations

from pathlib import Path

from guard.errors import GuardError

__all__ = ["write_pdf"]

_PANGO_HINT = (
    "PDF reports need Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0; "
    "macOS: brew install pango); the .html report needs nothing: `report POST_ID -o report.html`"
)


def write_pdf(html: str, target: Path) -> None:
    """Render ``html`` (a document from ``render_html``, which carries its own ``@page`` size)
    to ``target``."""
    try:
        import weasyprint  # type: ignore[import-untyped]  # no stubs or py.typed
    except ImportError as exc:  # not installed
        raise GuardError(f"cannot write a PDF: weasyprint is not installed ({exc}); {_PANGO_HINT}") from None
    except OSError as exc:  # installed, but Pango/GObject missing: cffi cannot load them
        raise GuardError(f"cannot write a PDF: {exc}; {_PANGO_HINT}") from None
    # The report is self-contained: any URL in it came from an archived text, and must not make
    # the PDF embed a local file or call the network. Archived texts are escaped, so today none
    # does; with no protocol allowed this holds even if an escape is ever missed (WeasyPrint
    # skips the resource with a warning).
    refuse_all = weasyprint.urls.URLFetcher(allowed_protocols=())
    weasyprint.HTML(string=html, base_url=str(target.parent), url_fetcher=refuse_all).write_pdf(str(target))
