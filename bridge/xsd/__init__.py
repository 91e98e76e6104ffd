"""XML Schema reading: built-in datatypes, lexical rules and the schema reader.

The reader (and lxml with it) is imported on first use: a warm start needs ``lexical`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reader import Loader, SchemaSet, read_schemas

__all__ = ["Loader", "SchemaSet", "read_schemas"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import reader

        return getattr(reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
