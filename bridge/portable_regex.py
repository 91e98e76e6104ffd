"""Patterns that mean the same under ECMA-262 with the ``u`` flag and under Python ``re``.

JSON Schema patterns are ECMA-262, and the JS validators consumers run (AJV in Redocly and
Spectral) compile them with ``u``, where identity escapes such as ``\\-`` outside a class are
syntax errors; Python validators use ``re``. The XSD translation produces Python regexes, so
every emitted pattern goes through ``portable_pattern``:

- escapes of characters that are not syntax characters become the plain character (``\\-`` is
  kept inside a class, where ``u`` allows it); ``\\UXXXXXXXX`` becomes the character itself;
- a lone ``]``, ``{`` or ``}`` outside a class, and ``[`` or a leading ``]`` inside one, is escaped;
- ``\\d``, ``\\w``, ``\\s`` (and ``.``) differ between the engines (JS: ASCII digits and word
  characters; Python: Unicode), so they become the explicit classes XSD defines (``\\d`` is
  ``\\p{Nd}``, ``\\s`` is ``[ \\t\\n\\r]``, ``\\w`` all but punctuation, separators and others);
- ``$`` is left alone: Python's also matches before a final newline, so python-jsonschema takes
  one trailing ``\\n`` that JS (and the bridge's own validator) refuse; rewriting every ``$``
  would change every committed pattern, the universal XML-character one included.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_SYNTAX = set("^$\\.*+?()[]{}|/")
_QUANTIFIER = re.compile(r"\{\d+(,\d*)?\}")
_HEX = re.compile(r"x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}")


@functools.cache
def _xsd_class(escape: str) -> str:
    """The members of an XSD class escape (``\\d``, ``\\w``) as class content, without brackets."""
    if escape == "s":
        return " \\t\\n\\r"
    from elementpath.regex import CharacterClass  # here: importing elementpath costs a warm start 0.1 s

    text = str(CharacterClass("\\" + escape))
    assert text.startswith("[") and text.endswith("]") and not text.startswith("[^")
    return _bmp_only(text[1:-1])


def _bmp_only(members: str) -> str:
    """Class content with its astral members left out: JS engines that compile without ``u``
    (Spectral's) cannot read an astral range in a class, and no pattern means the same astral
    character in both modes. The spec is stricter than XSD only on astral digits and letters."""
    items: list[tuple[int, int]] = []
    i = 0
    while i < len(members):
        lo, i = _class_char(members, i)
        hi = lo
        if i + 1 < len(members) and members[i] == "-":
            hi, i = _class_char(members, i + 1)
        items.append((lo, hi))
    out = []
    for lo, hi in items:
        if lo > 0xFFFF:
            continue
        hi = min(hi, 0xFFFF)
        out.append(_class_literal(lo) if lo == hi else f"{_class_literal(lo)}-{_class_literal(hi)}")
    return "".join(out)


def _class_char(members: str, i: int) -> tuple[int, int]:
    if members[i] == "\\":
        return ord(members[i + 1]), i + 2
    return ord(members[i]), i + 1


_CLASS_TOKEN = re.compile(r"\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\.|.", re.S)


def _bmp_members(members: str) -> str:
    """Class content as written here (escapes kept as they are) without its astral members: see
    ``_bmp_only``."""
    tokens = _CLASS_TOKEN.findall(members)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        lo = tokens[i]
        if i + 2 < len(tokens) and tokens[i + 1] == "-":
            hi, i = tokens[i + 2], i + 3
        else:
            hi, i = lo, i + 1
        if _token_code(lo) > 0xFFFF:
            continue
        if _token_code(hi) > 0xFFFF:
            hi = "\\uFFFF"
        out.append(lo if hi == lo else f"{lo}-{hi}")
    return "".join(out)


def _token_code(token: str) -> int:
    if len(token) == 1:
        return ord(token)
    if token[1] in "ux" and len(token) > 2:
        return int(token[2:], 16)
    return ord(token[1])  # \n, \-...: all below the astral planes


def _class_literal(cp: int) -> str:
    c = chr(cp)
    return "\\" + c if c in "\\]-[^" else c


def _plain(c: str, in_class: bool) -> str:
    """A literal character, escaped only where it would be syntax in this context."""
    if c in _SYNTAX or (in_class and c == "-"):
        return "\\" + c
    if not c.isprintable() or (c.isspace() and c != " "):
        return f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else c
    return c


@functools.lru_cache(maxsize=4096)
def portable_pattern(regex: str) -> str:
    """``regex`` (Python syntax, as the XSD translation writes it) rewritten to compile under
    ECMA-262 with ``u`` and under Python ``re``, matching the same strings in both."""
    out: list[str] = []
    i, n = 0, len(regex)
    in_class = False
    class_start = 0  # index in ``out`` of the current class's first member
    while i < n:
        c = regex[i]
        if c == "\\" and i + 1 < n:
            nxt = regex[i + 1]
            hexed = _HEX.match(regex, i + 1)
            if hexed:
                code = hexed.group()
                if code[0] == "U":
                    out.append(_plain(chr(int(code[1:], 16)), in_class))
                else:
                    out.append("\\" + code)
                i = hexed.end()
                continue
            i += 2
            if nxt in "dw":
                out.append(_xsd_class(nxt) if in_class else f"[{_xsd_class(nxt)}]")
            elif nxt == "s":
                out.append(_xsd_class("s") if in_class else f"[{_xsd_class('s')}]")
            elif nxt in "DWS" and not in_class:
                out.append(f"[^{_xsd_class(nxt.lower())}]")
            elif nxt.isalnum():
                out.append("\\" + nxt)  # \n, \t...: the same in both (nothing else comes from XSD)
            else:
                out.append(_plain(nxt, in_class))
            continue
        if in_class:
            if c == "]" and len(out) > class_start:
                in_class = False
                members = "".join(out[class_start:])
                if any(ord(ch) > 0xFFFF for ch in members):  # as XSD's \d and \w expanded by the translation
                    out[class_start:] = [_bmp_members(members)]
                out.append(c)
            elif c in "[]":  # a literal bracket (Python reads a leading "]" as one)
                out.append("\\" + c)
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if regex.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            class_start = len(out)
            continue
        if c == "{":
            m = _QUANTIFIER.match(regex, i)
            if m and out:
                out.append(m.group())
                i = m.end()
                continue
            out.append("\\{")
        elif c in "]}":
            out.append("\\" + c)
        elif c == ".":
            out.append("[^\\n]")  # Python's "."; ECMA's also excludes \r, \u2028, \u2029
        else:
            out.append(c)
        i += 1
    return "".join(out)


_LITERAL_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples"})
_SCHEMA_MAPS = frozenset({"properties", "$defs", "dependentSchemas"})  # name -> schema


def portable_patterns(schema: Any) -> Any:
    """Rewrite every ``pattern`` and ``patternProperties`` key in a schema tree, in place;
    literal values (``enum``, ``const``, ``default``, examples) are left alone."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in list(node.items()):
                if key in _LITERAL_KEYWORDS:
                    continue
                if key == "pattern" and isinstance(value, str):
                    node[key] = portable_pattern(value)
                elif key == "patternProperties" and isinstance(value, dict):
                    node[key] = {portable_pattern(k): v for k, v in value.items()}
                    stack.extend(value.values())
                elif key in _SCHEMA_MAPS and isinstance(value, dict):
                    stack.extend(value.values())  # property names are data, their values schemas
                elif isinstance(value, (dict, list)):
                    stack.append(value)
    return schema
