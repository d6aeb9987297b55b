"""Comment-guard's Datasette plugin: cells that name another row become links to it, archived
text shows control and bidi-override characters instead of obeying them, and the page's SQL
connections lose the one SQLite function that hands out memory addresses.

``metadata.yaml`` declares ``links`` (column -> table). In table pages Datasette already links
the columns the schema declares as SQL foreign keys (it hands those cells over as
``{"value", "label"}`` dicts, which this leaves alone); everywhere else, and in every canned
query, a ``post_id``, ``comment_id`` or ``finding_id`` cell links to that row's page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import markupsafe
from datasette import hookimpl
from datasette.utils import tilde_encode

from guard.text import inert

__all__ = ["LINKS_KEY", "prepare_connection", "render_cell"]

LINKS_KEY = "comment-guard-links"  # where serve puts the declared links in the plugin config


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> markupsafe.Markup | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
        return None
    config = datasette.plugin_config(LINKS_KEY) or {}
    links: Mapping[str, str] = config.get("links") or {}
    target = links.get(column)
    if target is None:
        # Archived text shown inert: a bidi override would make "photo<RLO>gnp.exe" read
        # "photoexe.png" in the browser, as in the terminal and the alerts (escaped there too).
        if isinstance(value, str) and (shown := inert(value)) != value:
            return markupsafe.Markup("{}").format(shown)
        return None
    href = datasette.urls.row(database, target, tilde_encode(str(value)))
    return markupsafe.Markup('<a href="{}">{}</a>').format(href, inert(str(value)))


@hookimpl
def prepare_connection(conn: Any) -> None:
    """Shadow ``fts3_tokenizer``: with one argument it returns a pointer into SQLite (an address
    leak to anyone who can type SQL in the page), with two it installs any pointer as a
    tokenizer (Debian builds allow it). The archive's search is FTS5 and never needs it."""
    for args in (1, 2):
        conn.create_function("fts3_tokenizer", args, _unavailable)


def _unavailable(*_: Any) -> None:
    return None  # NULL: raising would put a traceback on stderr for every such query
