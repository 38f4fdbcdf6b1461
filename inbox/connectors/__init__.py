"""Connectors by platform name."""

from inbox.connectors.base import Connector


def get_connector(platform: str) -> Connector:
    from inbox.connectors.generic import GenericConnector
    from inbox.connectors.meta import MetaConnector
    from inbox.connectors.telegram import TelegramConnector
    from inbox.connectors.x import XConnector

    connectors: dict[str, type[Connector]] = {
        "meta": MetaConnector,
        "x": XConnector,
        "telegram": TelegramConnector,
        "generic": GenericConnector,
    }
    return connectors[platform]()
