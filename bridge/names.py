"""Names for the spec's components and operationIds that every code generator accepts.

Generators make class, file and function names from them: so only ASCII letters, digits and
``_`` (a ``.`` reads as a module path, a ``-`` is no identifier), and unique case-insensitively
(file-per-schema generators collide on case-insensitive file systems, openapi-python-client drops
operations whose names clash). Other ASCII characters become ``_``; a non-ASCII character becomes
``_xHHHH_``, XML's own escape for names (XmlConvert.EncodeName), so the original can be read back
(``decode_name``); a literal ``_xHHHH_`` in a name escapes its ``_`` as ``_x005F_``.
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


class NameTable:
    """Names handed out so far, compared case-insensitively."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._taken

    def take(self, name: str) -> str:
        self._taken.add(name.lower())
        return name

    def unique(self, name: str, sep: str = "_") -> str:
        """``name``, or ``name`` with the first free number (from 2) when taken; then taken."""
        candidate, n = name, 2
        while candidate in self:
            candidate = f"{name}{sep}{n}"
            n += 1
        return self.take(candidate)
