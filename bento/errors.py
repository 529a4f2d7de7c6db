"""Errors the service maps to HTTP answers (which status depends on the endpoint)."""


class UnknownItemError(LookupError):
    """An item id that is not (or no longer) in the catalogue."""
