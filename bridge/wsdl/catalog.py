"""The catalogue of well-known schemas, served from disk so loading never needs the internet.

Keys are both the usual schema URLs and the bare namespace URIs, because WSDLs often import
a namespace without a schemaLocation and zeep then tries the namespace URI as a URL. Lookups
ignore the URL variants that name the same document: ``http`` or ``https``, a trailing ``/``,
surrounding spaces, and the case of the scheme and host.

Sources: xmlschema bundles the W3C schemas for SOAP 1.1 encoding and envelope, WSDL 1.1,
``xml.xsd`` and XML-DSig; ``bridge/xsd/schemas`` holds the ones soapbridge wrote itself
(xmlmime, WS-I's swaRef, WS-Addressing 2004/08 and 1.0, WS-Security 1.0 secext and utility, the SOAP 1.2
envelope, an empty stand-in for the XML Schema namespace), each naming the specification it implements in a comment at its top.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..namespaces import WSSE, WSU

_XMLSCHEMA = "xmlschema"  # bundles W3C schemas we would otherwise have to ship
_OURS = "bridge.xsd"

# normalised URL or namespace -> (package, relative path)
_ENTRIES: dict[str, tuple[str, str]] = {}


def _normalise(url: str) -> str:
    """One key for every spelling of the same well-known URL."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    path = parts.path.rstrip("/")
    return urlunsplit(("http", parts.netloc.lower(), path, parts.query, parts.fragment)) + ("#" if url.endswith("#") else "")


def _add(target: tuple[str, str], *keys: str) -> None:
    for key in keys:
        _ENTRIES[_normalise(key)] = target


_add(
    (_XMLSCHEMA, "schemas/WSDL/soap-encoding.xsd"),
    "http://schemas.xmlsoap.org/soap/encoding/",
)
_add(
    (_XMLSCHEMA, "schemas/WSDL/soap-envelope.xsd"),
    "http://schemas.xmlsoap.org/soap/envelope/",
)
_add(
    (_XMLSCHEMA, "schemas/WSDL/wsdl.xsd"),
    "http://schemas.xmlsoap.org/wsdl/",
    "http://schemas.xmlsoap.org/wsdl/2003-02-11.xsd",
)
_add(
    (_XMLSCHEMA, "schemas/WSDL/wsdl-soap.xsd"),
    "http://schemas.xmlsoap.org/wsdl/soap/",
    "http://schemas.xmlsoap.org/wsdl/soap/2003-02-11.xsd",
)
_add(
    (_XMLSCHEMA, "schemas/XML/xml.xsd"),
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd",
    "http://www.w3.org/2009/01/xml.xsd",
)
_add(
    (_XMLSCHEMA, "schemas/DSIG/xmldsig-core-schema.xsd"),
    "http://www.w3.org/2000/09/xmldsig#",
    "http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2008/REC-xmldsig-core-20080610/xmldsig-core-schema.xsd",
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
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/addressing.xsd",
)
_add(
    (_OURS, "schemas/oasis-wss-wssecurity-secext-1.0.xsd"),
    WSSE,
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0",
)
_add(
    (_OURS, "schemas/oasis-wss-wssecurity-utility-1.0.xsd"),
    WSU,
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0",
)
_add(
    (_OURS, "schemas/XMLSchema-builtins.xsd"),
    "http://www.w3.org/2001/XMLSchema",
    "http://www.w3.org/2001/XMLSchema.xsd",
)
_add(
    (_OURS, "schemas/soap12-envelope.xsd"),
    "http://www.w3.org/2003/05/soap-envelope",
    "http://www.w3.org/2003/05/soap-envelope/soap-envelope.xsd",
)


_add(
    (_OURS, "schemas/wsi-swaref.xsd"),
    "http://ws-i.org/profiles/basic/1.1/xsd",
    "http://ws-i.org/profiles/basic/1.1/swaref.xsd",
)


def lookup(url: str) -> Path | None:
    """The local file for a well-known URL or namespace, or None."""
    entry = _ENTRIES.get(_normalise(url))
    if entry is None:
        return None
    package, rel = entry
    path = Path(str(resources.files(package).joinpath(rel)))
    return path if path.is_file() else None


def is_well_known(url: str) -> bool:
    """Whether a local copy of the URL or namespace ships with soapbridge."""
    return lookup(url) is not None


def known_urls() -> list[str]:
    """Every well-known URL and namespace with a local copy, sorted."""
    return sorted(u for u in _ENTRIES if lookup(u) is not None)
