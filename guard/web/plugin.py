"""Comment-guard's Datasette plugin: cells that name another row become links to it.

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

__all__ = ["LINKS_KEY", "render_cell"]

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
        return None
    href = datasette.urls.row(database, target, tilde_encode(str(value)))
    return markupsafe.Markup('<a href="{}">{}</a>').format(href, value)
