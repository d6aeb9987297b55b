"""Platform connectors: each turns one platform's API into the records in ``connectors.base``."""
