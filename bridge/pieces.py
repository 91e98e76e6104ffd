"""A large reply validated in pieces. jsonschema_rs holds the GIL for the whole of a call (about
1 s on a 45 MB reply), so the event loop would stall that long; here a long array is checked a
chunk of items per call, and the GIL is handed over between calls.

Only where that is exactly whole validation: the path from the root to the array goes through
plain object schemas (``properties``, ``required``, ``additionalProperties``, ...: no
``allOf``/``anyOf``/``if``/``unevaluatedProperties`` that could look at the array again), and the
array's own schema has nothing but ``type``, ``items``, ``minItems``, ``maxItems``. Then
``properties`` and ``items`` apply their subschemas to each value on its own, so checking the
envelope (the arrays replaced by as many ``null``s, ``items`` by ``true``) and then the items
gives the same verdict and the same errors, whose instance paths are moved to where they are
in the reply. Anything else is validated whole, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

PREFIX = "#/components/schemas/"
MIN_ITEMS = 1024  # arrays shorter than this are validated with the rest
CHUNK = 256  # items per call: a few ms each on the orders sample
_NOTES = frozenset({"title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"})
_OBJECT = _NOTES | {"type", "properties", "required", "additionalProperties", "minProperties", "maxProperties", "unevaluatedProperties"}
_ARRAY = _NOTES | {"type", "items", "minItems", "maxItems"}

Path = tuple[str, ...]
Factory = Callable[[dict[str, Any]], Any]  # schema document -> jsonschema_rs validator


def _plain(schema: dict[str, Any], allowed: frozenset[str]) -> bool:
    return all(k in allowed or k.startswith("x-") for k in schema)


def _resolve(doc: dict[str, Any], schema: Any) -> dict[str, Any] | None:
    """``schema`` with bare ``$ref``s followed, or None for anything else (a ``$ref`` with
    siblings that constrain, a remote one)."""
    for _ in range(64):
        if not isinstance(schema, dict):
            return None
        ref = schema.get("$ref")
        if ref is None:
            return schema
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        closed = rest.pop("unevaluatedProperties", None) is False  # how a use of a component closes it
        if not isinstance(ref, str) or not ref.startswith(PREFIX) or not _plain(rest, _NOTES):
            return None
        schema = doc.get("components", {}).get("schemas", {}).get(ref[len(PREFIX):])
        if closed and isinstance(schema, dict) and "$ref" not in schema:
            return {**schema, "unevaluatedProperties": False}
        if closed:
            return None
    return None


def targets(doc: dict[str, Any], data: Any) -> list[tuple[Path, Any]]:
    """The long arrays of ``data`` that can be validated in pieces, with their ``items`` schema."""
    found: list[tuple[Path, Any]] = []

    def walk(schema: Any, value: Any, path: Path) -> None:
        s = _resolve(doc, schema)
        if s is None or not isinstance(value, dict) or not _plain(s, _OBJECT) or s.get("unevaluatedProperties", False) is not False:
            return
        props = s.get("properties")
        if not isinstance(props, dict):
            return
        for key, v in value.items():
            if key not in props:
                continue
            if isinstance(v, list):
                a = _resolve(doc, props[key])
                if len(v) >= MIN_ITEMS and a is not None and _plain(a, _ARRAY) and "items" in a:
                    found.append(((*path, key), a["items"]))
            elif isinstance(v, dict):
                walk(props[key], v, (*path, key))

    walk({"$ref": doc.get("$ref")}, data, ())
    return found


def _without_items(doc: dict[str, Any], schema: Any, path: Path) -> dict[str, Any]:
    """``schema`` with the references along ``path`` inlined and the array's ``items`` made ``true``."""
    s = _resolve(doc, schema)
    assert s is not None  # targets() checked the path
    s = dict(s)
    if not path:
        s["items"] = True
        return s
    props = dict(s["properties"])
    props[path[0]] = _without_items(doc, props[path[0]], path[1:])
    s["properties"] = props
    return s


def _placeholders(data: Any, paths: list[Path]) -> Any:
    """``data`` with each array at ``paths`` replaced by as many ``None``s (dicts copied along the way)."""
    out = dict(data)
    for path in paths:
        node = out
        for key in path[:-1]:
            node[key] = dict(node[key])
            node = node[key]
        node[path[-1]] = [None] * len(node[path[-1]])
    return out


@dataclass(frozen=True)
class Located:
    """A jsonschema_rs error and where its instance really is: ``prefix`` is put before its
    path, and ``shift`` added to the path's first index (the item's index in the chunk)."""

    error: Any
    prefix: tuple[str | int, ...] = ()
    shift: int = 0

    def path(self, instance_path: Any) -> list[str | int]:
        """The error's instance path in the whole reply."""
        p: list[str | int] = list(instance_path)
        if self.shift and p and isinstance(p[0], int):
            p[0] += self.shift
        return [*self.prefix, *p]


@dataclass
class Pieces:
    """The validators for one set of array paths of one operation's reply schema."""

    envelope: Any
    items: dict[Path, Any]

    @classmethod
    def build(cls, doc: dict[str, Any], found: list[tuple[Path, Any]], make: Factory) -> Pieces:
        """Validators, made by ``make``, for ``doc`` with the arrays at ``found`` left out, and one per array
        for its items."""
        root: dict[str, Any] = {"$ref": doc["$ref"]}
        for path, _ in found:
            root = _without_items(doc, root, path)
        components = {"components": doc["components"]} if "components" in doc else {}
        envelope = make({**root, **components})
        items = {path: make({"type": "array", "items": schema, **components}) for path, schema in found}
        return cls(envelope, items)

    def errors(self, data: Any) -> Iterator[Located]:
        """Every error whole validation would give (the envelope's first, then each array's in order)."""
        paths = list(self.items)
        envelope = _placeholders(data, paths)
        if not self.envelope.is_valid(envelope):
            yield from (Located(e) for e in self.envelope.iter_errors(envelope))
        del envelope
        for path in paths:
            node = data
            for key in path:
                node = node[key]
            validator = self.items[path]
            for start in range(0, len(node), CHUNK):
                time.sleep(0)  # hand the GIL over: the event loop runs between chunks
                chunk = node[start : start + CHUNK]
                if not validator.is_valid(chunk):
                    yield from (Located(e, path, start) for e in validator.iter_errors(chunk))
