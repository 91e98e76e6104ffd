"""Binary content on the REST side, besides base64 in JSON (which stays the default).

Requests: ``multipart/form-data`` with a ``json`` part (the request object) and file parts; a JSON
string ``"cid:NAME"`` stands for the bytes of the file part named NAME, which become the field's
base64 value before validation. The body is parsed as it arrives (``FormStream``), the file parts
spooled, never held whole; they are bounded by ``max_request_bytes`` (the whole body), not by
``json_limits.max_string_length``.

Replies: ``Accept: application/octet-stream`` on an operation whose output has one base64Binary
field at its top level returns that field's bytes as the body. Both are in the OpenAPI document
(``describe``).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from .errors import MimeError, ValidationError, Violation
from .mime import Limits, Part, PartStream, binary_tags, close_parts, media_type

if TYPE_CHECKING:
    from .model import Operation

FORM = "multipart/form-data"
OCTETS = "application/octet-stream"
JSON_PART = "json"


def is_form(content_type: str) -> bool:
    """Whether a request's Content-Type is multipart/form-data."""
    return content_type.split(";", 1)[0].strip().lower() == FORM


class FormStream:
    """A ``multipart/form-data`` request body parsed as it arrives (``write`` each chunk), its parts
    spooled (on disk above ``spool_bytes``): the body is never held whole. ``finish`` gives the
    ``json`` part's bytes and the files in base64 (``form_fields``); ``abort`` deletes what was
    spooled. Raises ``ValidationError`` for a malformed form."""

    def __init__(self, content_type: str, max_bytes: int, spool_bytes: int = 1024 * 1024) -> None:
        limits = Limits(max_part_bytes=max_bytes, max_parts=100, spool_bytes=spool_bytes, max_xml_bytes=max_bytes, max_depth=1)
        try:
            self.parts = PartStream(content_type, limits, "the multipart/form-data request")
        except MimeError as exc:
            raise ValidationError(str(exc), [Violation("", str(exc))]) from None

    def write(self, chunk: bytes) -> None:
        """Parses the next bytes of the body."""
        try:
            self.parts.write(chunk)
        except MimeError as exc:
            raise ValidationError(str(exc), [Violation("", str(exc))]) from None

    def finish(self) -> tuple[bytes, dict[str, str]]:
        """The ``json`` part's bytes and the file parts' contents in base64, by field name."""
        try:
            parts, _ = self.parts.finish()
        except MimeError as exc:
            raise ValidationError(str(exc), [Violation("", str(exc))]) from None
        return form_fields(parts)

    def abort(self) -> None:
        """Deletes the parts spooled so far."""
        self.parts.abort()


def read_form(body: bytes, content_type: str, max_bytes: int) -> tuple[bytes, dict[str, str]]:
    """``FormStream`` of a body read whole."""
    form = FormStream(content_type, max_bytes)
    form.write(body)
    return form.finish()


def form_fields(parts: list[Part]) -> tuple[bytes, dict[str, str]]:
    """The ``json`` part's bytes and the file parts' contents in base64, by field name; closes the
    parts. Raises ``ValidationError`` for a missing ``json`` part or a field named twice."""
    try:
        json_body: bytes | None = None
        files: dict[str, str] = {}
        for part in parts:
            _, params = media_type(part.headers.get("content-disposition", "").replace("form-data", "x/form-data", 1))
            name = params.get("name")
            if not name:
                continue  # nothing can refer to it: ignored, as a file nothing refers to is
            if name == JSON_PART:
                json_body = part.read()
            elif name in files:
                raise ValidationError(f"the form field {name!r} is sent twice", [Violation("", f"form field {name} twice")])
            else:
                files[name] = part.base64()
        if json_body is None:
            raise ValidationError("the form has no 'json' part", [Violation("", "send the request object as the form field 'json'")])
        return json_body, files
    finally:
        close_parts(parts)


def attach(data: Any, files: dict[str, str]) -> Any:
    """``data`` with every ``"cid:NAME"`` string replaced by the base64 of file NAME; raises
    ``ValidationError`` naming the pointer of each reference to no file."""
    missing: list[Violation] = []

    def walk(node: Any, pointer: str) -> Any:
        if isinstance(node, str) and node.startswith("cid:"):
            name = node[4:]
            if name not in files:
                missing.append(Violation(pointer, f"refers to the form field {name!r}, which was not sent"))
                return node
            return files[name]
        if isinstance(node, dict):
            return {k: walk(v, f"{pointer}/{k.replace('~', '~0').replace('/', '~1')}") for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{pointer}/{i}") for i, v in enumerate(node)]
        return node

    out = walk(data, "")
    # A file nothing refers to is ignored, as an unknown property would be: the form's schema
    # cannot name the file fields, so a client (or schemathesis) may well send more.
    if missing:
        raise ValidationError("the form's files and the JSON's cid: references do not match", missing)
    return out


def binary_field(op: Operation) -> str | None:
    """The one top-level base64Binary field of an operation's output, or None."""
    if op.output is None:
        return None
    names = {tag.rsplit("}", 1)[-1] for tag in binary_tags(op.output)}
    return next(iter(names)) if len(names) == 1 else None


def wants_octets(accept: str) -> bool:
    """Whether an Accept header asks for application/octet-stream before JSON."""
    for item in accept.split(","):
        media = item.split(";", 1)[0].strip().lower()
        if media in (OCTETS, "application/json", "*/*", "application/*"):
            return media == OCTETS
    return False


def octets(result: Any, field: str) -> bytes | None:
    """The decoded bytes of the field in a result, or None when it is not there as a string."""
    value = result.get(field) if isinstance(result, dict) else None
    return base64.b64decode(value) if isinstance(value, str) else None


def describe(spec: dict[str, Any], ops: list[Operation], *, forms: bool = False) -> None:
    """Adds the octet-stream reply, and with ``forms`` the form request, to the operations that have them."""
    for op in ops:
        path = spec.get("paths", {}).get(op.path, {}).get(op.http_method.lower())
        if path is None:
            continue
        body = path.get("requestBody", {}).get("content", {})
        if forms and binary_tags(op.input) and "application/json" in body:
            body[FORM] = {
                "schema": {
                    "type": "object",
                    "required": [JSON_PART],
                    "properties": {JSON_PART: body["application/json"]["schema"]},
                    "additionalProperties": {"type": "string", "contentMediaType": OCTETS},
                    "description": 'The request object as the field "json"; a base64Binary value may be "cid:NAME" for the file field NAME.',
                },
                "encoding": {JSON_PART: {"contentType": "application/json"}},
            }
        field = binary_field(op)
        ok = path.get("responses", {}).get("200", {}).get("content")
        if field is not None and ok is not None:
            ok[OCTETS] = {"schema": {"type": "string", "contentMediaType": OCTETS, "description": f"the bytes of {field!r} (Accept: {OCTETS})"}}
