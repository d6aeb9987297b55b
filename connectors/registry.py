"""Which connector serves each platform: the one place a platform name is looked up.

Adding a platform is one new module with a ``from_settings(settings)`` function plus one line
in ``PLATFORMS``. Modules are imported on first use, so a command that never talks to X never
pays for importing tweepy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = ["PLATFORMS", "connect", "known_platforms"]

PLATFORMS: dict[str, str] = {
    "facebook": "connectors.facebook",
    "instagram": "connectors.instagram",
    "x": "connectors.x",
    "wordpress": "connectors.wordpress",
}

if TYPE_CHECKING:  # mypy proves here that every connector satisfies the protocol
    from connectors.base import Connector, ConnectorSettings, ProtectionMarks
    from connectors.facebook import FacebookConnector
    from connectors.instagram import InstagramConnector
    from connectors.wordpress import WordPressConnector
    from connectors.x import XConnector

    def _satisfy_protocol(
        fb: FacebookConnector, ig: InstagramConnector, x: XConnector, wp: WordPressConnector
    ) -> tuple[list[Connector], list[ProtectionMarks]]:
        return [fb, ig, x, wp], [wp]  # and the optional capabilities, where a platform has them


def known_platforms() -> tuple[str, ...]:
    return tuple(PLATFORMS)


def connect(settings: ConnectorSettings) -> Connector:
    """Build the connector for ``settings.platform``; the name was validated with the config."""
    module = importlib.import_module(PLATFORMS[settings.platform])
    connector: Connector = module.from_settings(settings)
    return connector
