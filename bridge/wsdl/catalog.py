"""The catalogue of well-known schemas, served from disk so loading never needs the internet.

Keys are both the usual schema URLs and the bare namespace URIs, because WSDLs often import
a namespace without a schemaLocation and zeep then tries the namespace URI as a URL.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_XMLSCHEMA = "xmlschema"  # bundles W3C schemas we would otherwise have to ship
_OURS = "bridge.xsd"

# URL or namespace -> (package, relative path)
_ENTRIES: dict[str, tuple[str, str]] = {}


def _add(target: tuple[str, str], *keys: str) -> None:
    for key in keys:
        _ENTRIES[key] = target


_add(
    (_XMLSCHEMA, "schemas/WSDL/soap-encoding.xsd"),
    "http://schemas.xmlsoap.org/soap/encoding/",
    "http://schemas.xmlsoap.org/soap/encoding",
    "https://schemas.xmlsoap.org/soap/encoding/",
)
_add(
    (_XMLSCHEMA, "schemas/WSDL/soap-envelope.xsd"),
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://schemas.xmlsoap.org/soap/envelope",
)
_add(
    (_XMLSCHEMA, "schemas/XML/xml.xsd"),
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd",
    "https://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2009/01/xml.xsd",
)
_add(
    (_XMLSCHEMA, "schemas/DSIG/xmldsig-core-schema.xsd"),
    "http://www.w3.org/2000/09/xmldsig#",
    "http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd",
)
_add(
    (_OURS, "schemas/xmlmime.xsd"),
    "http://www.w3.org/2005/05/xmlmime",
    "http://www.w3.org/2005/05/xmlmime.xsd",
)
_add(
    (_OURS, "schemas/ws-addr-2005-08.xsd"),
    "http://www.w3.org/2005/08/addressing",
    "http://www.w3.org/2005/08/addressing/ws-addr.xsd",
    "http://www.w3.org/2006/03/addressing/ws-addr.xsd",
)
_add(
    (_OURS, "schemas/ws-addr-2004-08.xsd"),
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/",
)


def _normalise(url: str) -> str:
    return url.strip()


def lookup(url: str) -> Path | None:
    """The local file for a well-known URL or namespace, or None."""
    entry = _ENTRIES.get(_normalise(url))
    if entry is None:
        return None
    package, rel = entry
    path = Path(str(resources.files(package).joinpath(rel)))
    return path if path.is_file() else None


def is_well_known(url: str) -> bool:
    return lookup(url) is not None


def known_urls() -> list[str]:
    return sorted(u for u in _ENTRIES if lookup(u) is not None)
