"""Where documents come from: the WSDL's own location, and for each URL the loader asks for,
the catalogue, a local file or the network. Free of zeep, so the disk cache can re-check a
cached model's documents without importing it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import WsdlError
from . import catalog


def resolve_location(source: str | os.PathLike[str]) -> str:
    """A URL as given, or the absolute path of an existing local file."""
    s = os.fspath(source)
    scheme = urlparse(s).scheme.lower()
    if scheme in ("http", "https", "file"):
        return s
    p = Path(s).expanduser()
    if not p.exists():
        raise WsdlError(f"WSDL file not found: {s}")
    if p.is_dir():
        raise WsdlError(f"{s} is a directory, not a WSDL file")
    return str(p.resolve())


def locate(url: str) -> tuple[str, str]:
    """``("catalog", path)``, ``("file", path)`` or ``("network", url)``: the path is the one the
    loader opens, so the cache can re-check exactly that file later."""
    local = catalog.lookup(url)
    if local is not None:
        return "catalog", str(local)
    scheme = urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        return "network", url
    path = unquote(urlparse(url).path) if scheme == "file" else url
    return "file", os.path.expanduser(path)
