"""The staff web page: ``comment-guard serve`` shows the archive read-only on Datasette.

``metadata.yaml`` is the shipped configuration (canned queries, facets, descriptions, links
between rows); ``server.py`` opens the archive read-only and decides who may see it;
``plugin.py`` renders the declared links.
"""

from __future__ import annotations

__all__ = ["DATABASE_NAME", "finding_url"]

DATABASE_NAME = "archive"  # the URL segment: /archive/findings/12


def finding_url(base_url: str, finding_id: int) -> str:
    """The page of one finding under ``[web] base_url`` (alerts link to it). Kept here, not in
    ``server.py``, so rendering an alert never imports Datasette."""
    return f"{base_url.rstrip('/')}/{DATABASE_NAME}/findings/{finding_id}"
