"""Build the connector for a configured account (the only place tokens are read for polling)."""

from __future__ import annotations

from connectors.base import Connector
from guard.config import Account

__all__ = ["make_connector"]


def make_connector(account: Account) -> Connector:
    token = account.token()
    if account.platform == "facebook":
        from connectors.facebook import FacebookConnector

        return FacebookConnector(account.page_id, token, version=account.graph_version,
                                 base_url=account.api_base_url)
    if account.platform == "instagram":
        from connectors.instagram import InstagramConnector

        return InstagramConnector(account.page_id, token, version=account.graph_version,
                                  base_url=account.api_base_url)
    from connectors.x import XConnector

    return XConnector(account.page_id, token, base_url=account.api_base_url,
                      monthly_read_budget=account.monthly_read_budget)
