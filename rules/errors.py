"""One exception root for the product; subclasses are named for what went wrong."""
from __future__ import annotations

__all__ = [
    "PriceWatchError", "InvalidEventError", "UnknownProductError", "UnknownUnitError", "ConfigError",
]


class PriceWatchError(Exception): ...
class InvalidEventError(PriceWatchError): ...  # malformed input event: bad JSON, missing field, wrong type, bad price
class UnknownProductError(PriceWatchError): ...  # price change for a product never listed
class UnknownUnitError(PriceWatchError): ...
class ConfigError(PriceWatchError): ...
