"""Names for the spec's components and operationIds that every code generator accepts.

Generators make class, file and function names from them: so only ASCII letters, digits and
``_`` (a ``.`` reads as a module path, a ``-`` is no identifier), and unique case-insensitively
(file-per-schema generators collide on case-insensitive file systems, openapi-python-client drops
operations whose names clash). Other ASCII characters become ``_``; a non-ASCII character becomes
``_xHHHH_``, XML's own escape for names (XmlConvert.EncodeName), so the original can be read back
(``decode_name``); a literal ``_xHHHH_`` in a name escapes its ``_`` as ``_x005F_``.

WSDL names may already carry such escapes (.NET names a service "WSF Schedule" ``WSF_x0020_Schedule``):
``xml_decode`` reads them back, and ``path_segment`` makes a URL path segment of the decoded name.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"_x([0-9A-F]{4}|[0-9A-F]{8})_")
_LOOKS_ESCAPED = re.compile(r"_(?=x(?:[0-9A-F]{4}|[0-9A-F]{8})_)")


def ascii_name(name: str) -> str:
    """``name`` in ``[A-Za-z0-9_]``: readable where it was ASCII, reversible where it was not."""
    name = _LOOKS_ESCAPED.sub("_x005F_", name)
    out: list[str] = []
    for c in name:
        if c.isascii():
            out.append(c if c.isalnum() or c == "_" else "_")
        else:
            code = ord(c)
            out.append(f"_x{code:04X}_" if code <= 0xFFFF else f"_x{code:08X}_")
    return "".join(out)


def decode_name(name: str) -> str:
    """The non-ASCII characters (and escaped ``_``) of an ``ascii_name`` result, decoded."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)


_XML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8})_")
_UNRESERVED = frozenset("-._~")  # RFC 3986 unreserved, besides letters and digits


def _char(m: re.Match[str]) -> str | None:
    code = int(m.group(1), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def xml_decode(name: str) -> str:
    """``name`` with its ``_xHHHH_`` escapes decoded (XmlConvert.DecodeName); invalid code points stay."""
    return _XML_ESCAPE.sub(lambda m: _char(m) or m.group(0), name)


def path_segment(name: str) -> str:
    """``name`` for a URL path, readable: a decoded escape stays when it is a letter, a digit or
    unreserved in RFC 3986 (``-._~``), else (a space, non-ASCII) becomes ``_`` (``WSF_x0020_Schedule`` is ``WSF_Schedule``),
    so nothing needs percent-encoding; the rest of the name is kept as it is."""

    def one(m: re.Match[str]) -> str:
        c = _char(m)
        if c is None:
            return m.group(0)
        return c if (c.isascii() and c.isalnum()) or c in _UNRESERVED else "_"

    return _XML_ESCAPE.sub(one, name)


class NameTable:
    """Names handed out so far, compared case-insensitively."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._taken

    def take(self, name: str) -> str:
        """Marks ``name`` taken and returns it."""
        self._taken.add(name.lower())
        return name

    def unique(self, name: str, sep: str = "_") -> str:
        """``name``, or ``name`` with the first free number (from 2) when taken; then taken."""
        candidate, n = name, 2
        while candidate in self:
            candidate = f"{name}{sep}{n}"
            n += 1
        return self.take(candidate)
