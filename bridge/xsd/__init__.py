"""XML Schema reading: built-in datatypes and the schema reader."""

from .reader import Loader, SchemaSet, read_schemas

__all__ = ["Loader", "SchemaSet", "read_schemas"]
