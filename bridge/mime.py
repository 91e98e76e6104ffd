"""MTOM/XOP and SOAP with Attachments: multipart/related messages unpacked into one envelope, and
requests packed as MTOM.

Receiving: the body is fed to python-multipart's streaming parser; each part goes to a
``SpooledTemporaryFile`` (on disk above ``spool_bytes``), within ``max_part_bytes`` and ``max_parts``.
The root part (``start``, else the first) is parsed as untrusted XML (bridge.xmlparse) and every
``xop:Include`` (MTOM) or ``href="cid:..."`` (SwA) is replaced by its part's content in base64, so the
codec sees the envelope a plain reply would have been. Anything malformed raises ``MimeError``.

Sending: elements the schema types ``xs:base64Binary`` whose decoded value is at least ``threshold``
bytes become ``xop:Include`` references to binary parts (XOP 1.0 §3; MTOM: SOAP 1.2 and, as the JAX-WS
RI and WCF do, SOAP 1.1). Large values are lifted out of the data before encoding (``lift``): the
envelope is built small around markers that ``pack`` turns into parts, and the message is sent in
pieces (``Packed.pieces``), so a 50 MB value is decoded once and never joined or re-serialized.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import quopri
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote

from .errors import MimeError, XmlError
from .model import ComplexType, Element, Group, Message, SimpleType, is_swaref

if TYPE_CHECKING:  # lxml where used: the REST app reads forms (bridge.restbinary) without it
    from lxml import etree

XOP = "http://www.w3.org/2004/08/xop/include"
XOP_INCLUDE = f"{{{XOP}}}Include"
XOP_MEDIA = "application/xop+xml"
_B64_CHUNK = 3 * 256 * 1024  # bytes read per base64 step: a multiple of 3, so chunks join cleanly


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """A Content-Type's media type (lower case) and its parameters (names lower case, quotes removed)."""
    from python_multipart.multipart import parse_options_header

    # as UTF-8 bytes: given a str, the parser encodes it as Latin-1, which a form field's name may not be
    ctype, params = parse_options_header((content_type or "").encode("utf-8", "surrogatepass"))
    text = lambda b: b.decode("utf-8", "replace")  # noqa: E731
    return text(ctype).strip().lower(), {text(k).lower(): text(v) for k, v in params.items()}


def is_multipart(content_type: str) -> bool:
    """Whether a reply's Content-Type is a multipart/related (MTOM or SwA) message."""
    return content_type.lstrip()[:18].lower() == "multipart/related;" or content_type.strip().lower() == "multipart/related"


@dataclass
class Part:
    """One MIME part: its headers (names lower case), and its content, spooled."""

    headers: dict[str, str]
    file: IO[bytes]
    size: int = 0

    @property
    def content_id(self) -> str | None:
        """The Content-ID without its angle brackets."""
        cid = self.headers.get("content-id")
        return cid.strip().strip("<>").strip() if cid else None

    @property
    def content_type(self) -> str:
        """The Content-Type header (text/plain if none, as RFC 2045 says)."""
        return self.headers.get("content-type", "text/plain")

    @property
    def encoding(self) -> str:
        """The Content-Transfer-Encoding (binary, 8bit, 7bit, base64 or quoted-printable), lower case."""
        return self.headers.get("content-transfer-encoding", "binary").strip().lower()

    def read(self) -> bytes:
        """The content, its transfer encoding undone."""
        self.file.seek(0)
        raw = self.file.read()
        enc = self.encoding
        if enc == "base64":
            try:
                return base64.b64decode(b"".join(raw.split()), validate=True)
            except (binascii.Error, ValueError):
                raise MimeError("a MIME part declared base64 is not valid base64") from None
        if enc == "quoted-printable":
            return quopri.decodestring(raw)
        if enc not in ("binary", "8bit", "7bit"):
            raise MimeError(f"a MIME part has the unknown Content-Transfer-Encoding {enc!r}")
        return raw

    def base64(self) -> str:
        """The content in base64, read in chunks (no second copy of the raw bytes)."""
        if self.encoding != "binary" and self.encoding != "8bit" and self.encoding != "7bit":
            return base64.b64encode(self.read()).decode("ascii")
        self.file.seek(0)
        out: list[str] = []
        while chunk := self.file.read(_B64_CHUNK):
            out.append(base64.b64encode(chunk).decode("ascii"))
        return "".join(out)


@dataclass
class Limits:
    """What a multipart message may hold; ``max_xml_bytes``/``max_depth`` bound the root part's XML."""

    max_part_bytes: int
    max_parts: int
    spool_bytes: int
    max_xml_bytes: int
    max_depth: int


@dataclass
class _Reader:
    limits: Limits
    what: str
    parts: list[Part] = field(default_factory=list)
    field_name: bytearray = field(default_factory=bytearray)
    field_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, str] = field(default_factory=dict)
    current: Part | None = None
    ended: bool = False

    def part_begin(self) -> None:
        if len(self.parts) >= self.limits.max_parts:
            raise MimeError(f"{self.what} has more than the limit of {self.limits.max_parts} MIME parts")
        self.headers = {}

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.field_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.field_value += data[start:end]
        if len(self.field_value) > 8192:
            raise MimeError(f"{self.what} has a MIME header longer than 8192 bytes")

    def header_end(self) -> None:
        try:  # RFC 7578 §5.1: form field names in UTF-8; other headers are ASCII, which it reads too
            value = self.field_value.decode("utf-8")
        except UnicodeDecodeError:
            value = self.field_value.decode("latin-1")
        self.headers[self.field_name.decode("latin-1").strip().lower()] = value.strip()
        self.field_name.clear()
        self.field_value.clear()

    def headers_finished(self) -> None:
        spool = tempfile.SpooledTemporaryFile(max_size=self.limits.spool_bytes, prefix="soapbridge-part-")  # noqa: SIM115 - closed by unpack
        self.current = Part(self.headers, spool)  # type: ignore[arg-type]
        self.parts.append(self.current)
        if media_type(self.current.content_type)[0].startswith("multipart/"):
            raise MimeError(
                f"{self.what}: MIME part {len(self.parts)} is itself multipart ({self.current.content_type}), which is refused"
            )

    def part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.current
        assert part is not None
        part.size += end - start
        if part.size > self.limits.max_part_bytes:
            raise MimeError(
                f"{self.what}: MIME part {len(self.parts)} is larger than the limit of {self.limits.max_part_bytes} bytes"
            )
        part.file.write(data[start:end])

    def part_end(self) -> None:
        self.current = None

    def end(self) -> None:
        self.ended = True


class PartStream:
    """A multipart message parsed as its bytes arrive (``write``, chunk by chunk), each part spooled:
    the message is never held whole. ``finish`` gives the parts and the Content-Type's parameters,
    and the caller closes the parts (``close_parts``); ``abort`` closes them after a failure.
    Raises ``MimeError`` for a malformed message, as soon as it shows."""

    def __init__(self, content_type: str, limits: Limits, what: str) -> None:
        from python_multipart.multipart import MultipartParser

        ctype, self.params = media_type(content_type)
        boundary = self.params.get("boundary")
        if not ctype.startswith("multipart/") or not boundary:
            raise MimeError(f"{what} is {ctype or 'untyped'} without a MIME boundary")
        self.boundary = boundary
        self.what = what
        self.reader = r = _Reader(limits, what)
        callbacks = {
            "on_part_begin": r.part_begin,
            "on_part_data": r.part_data,
            "on_part_end": r.part_end,
            "on_header_field": r.header_field,
            "on_header_value": r.header_value,
            "on_header_end": r.header_end,
            "on_headers_finished": r.headers_finished,
            "on_end": r.end,
        }
        self.parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]

    def write(self, chunk: bytes) -> None:
        """Parses the next bytes of the message."""
        from python_multipart.exceptions import MultipartParseError

        try:
            self.parser.write(chunk)
        except MultipartParseError as exc:
            self.abort()
            raise MimeError(f"{self.what} is not a well-formed multipart message (boundary {self.boundary!r}): {exc}") from None
        except BaseException:
            self.abort()
            raise

    def finish(self) -> tuple[list[Part], dict[str, str]]:
        """The parts, once the whole message was written; raises ``MimeError`` if it was cut short."""
        from python_multipart.exceptions import MultipartParseError

        try:
            self.parser.finalize()
        except MultipartParseError as exc:
            self.abort()
            raise MimeError(f"{self.what} is not a well-formed multipart message (boundary {self.boundary!r}): {exc}") from None
        r = self.reader
        if not r.ended or not r.parts:
            self.abort()
            raise MimeError(
                f"{self.what} is a multipart message without its closing boundary {('--' + self.boundary + '--')!r}: cut short, or another boundary"
            )
        return r.parts, self.params

    def abort(self) -> None:
        """Closes (and so deletes) the parts spooled so far."""
        close_parts(self.reader.parts)


def read_parts(chunks: Iterable[bytes], content_type: str, limits: Limits, what: str) -> tuple[list[Part], dict[str, str]]:
    """The parts of a multipart message, spooled, and the Content-Type's parameters. The caller closes
    each part's file (``close_parts``). Raises ``MimeError`` for a malformed message."""
    stream = PartStream(content_type, limits, what)
    for chunk in chunks:
        stream.write(chunk)
    return stream.finish()


def close_parts(parts: Iterable[Part]) -> None:
    """Closes (and so deletes) the spooled files of these parts."""
    for p in parts:
        p.file.close()


@dataclass(frozen=True)
class Bound:
    """A message part a WSDL binds to a MIME part (SwA, mime:content): its name, the tag of the
    element it is modelled as, how its value is written (base64, hex or text), and whether that
    element sits in an rpc wrapper (else directly in the Body)."""

    name: str
    tag: str
    kind: str
    in_wrapper: bool


def bound_parts(message: Message | None, style: str) -> list[Bound]:
    """The SwA-bound parts of a message (``Message.attachments``), as ``Bound``."""
    if message is None or not message.attachments:
        return []
    out = []
    for part in message.parts:
        if part.name in message.attachments:
            t = part.element.type
            builtin = t.builtin if isinstance(t, SimpleType) else "string"
            kind = "base64" if builtin == "base64Binary" else "hex" if builtin == "hexBinary" else "text"
            out.append(Bound(part.name, str(part.element.qname), kind, style == "rpc"))
    return out


def _value(part: Part, kind: str) -> str:
    if kind == "base64":
        return part.base64()
    data = part.read()
    if kind == "hex":
        return data.hex().upper()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MimeError("a MIME part bound to a text value is not UTF-8") from None


def unpack(
    chunks: Iterable[bytes],
    content_type: str,
    limits: Limits,
    what: str = "the SOAP reply",
    bound: list[Bound] | None = None,
    swarefs: frozenset[str] = frozenset(),
    resolved: list[tuple[etree._Element, str]] | None = None,
) -> etree._Element:
    """A multipart/related SOAP message (MTOM/XOP or SwA) as one envelope's tree: every ``xop:Include``
    and every ``href="cid:..."`` reference replaced by its part's content in base64. A tree, not
    bytes: a value over 10 MB is one text node, which libxml2 parses only with huge_tree (no longer
    protected), while setting it in a tree has no such limit. ``bound``: parts the WSDL puts in MIME
    parts (SwA), found by their WS-I Attachments Profile Content-ID (``<name=...>``), else the next
    part nothing refers to, and put back as elements. ``swarefs``: tags of WS-I swaRef elements,
    whose ``cid:`` text is replaced by the part's content in base64 (WS-I AP 1.0 §4.4); each such
    element and its text as received go to ``resolved`` (a signature covers that text, not the
    content). Raises ``MimeError``."""
    parts, params = read_parts(chunks, content_type, limits, what)
    return unpack_parts(parts, params, limits, what, bound, swarefs, resolved)


def unpack_parts(
    parts: list[Part],
    params: dict[str, str],
    limits: Limits,
    what: str = "the SOAP reply",
    bound: list[Bound] | None = None,
    swarefs: frozenset[str] = frozenset(),
    resolved: list[tuple[etree._Element, str]] | None = None,
) -> etree._Element:
    """``unpack`` of a message already read into parts (``PartStream``); closes them."""
    from lxml import etree

    from .xmlparse import parse_untrusted

    try:
        by_id = {p.content_id: p for p in parts if p.content_id}
        start = params.get("start", "").strip().strip("<>").strip()
        if start:
            root_part = by_id.get(start)
            if root_part is None:
                raise MimeError(f"{what}: no MIME part has the Content-ID <{start}> its start parameter names")
        else:
            root_part = parts[0]
        root_type, _ = media_type(root_part.content_type)
        if root_type not in (XOP_MEDIA, "text/xml", "application/soap+xml"):
            raise MimeError(
                f"{what}: the root MIME part is {root_type}, not a SOAP envelope (application/xop+xml, text/xml or application/soap+xml)"
            )
        if root_part.size > limits.max_xml_bytes:
            raise MimeError(f"{what}: the root MIME part is {root_part.size} bytes, over the limit of {limits.max_xml_bytes}")
        try:
            root = parse_untrusted(
                root_part.read(), max_bytes=limits.max_xml_bytes, max_depth=limits.max_depth, what=f"{what}'s root MIME part"
            )
        except XmlError as exc:
            raise MimeError(str(exc)) from None
        used: set[int] = {id(root_part)}
        for include in list(root.iter(XOP_INCLUDE)):
            parent = include.getparent()
            part = _referenced(include.get("href"), by_id, what, "xop:Include")
            if parent is None or id(part) == id(root_part):
                raise MimeError(f"{what}: an xop:Include refers to the root part or stands at the root")
            if len(parent) != 1 or (parent.text or "").strip():
                raise MimeError(
                    f"{what}: the element {parent.tag} holds an xop:Include and other content (XOP 1.0 §3.2 forbids it)"
                )
            parent.remove(include)
            parent.text = part.base64()
            used.add(id(part))
        for el in list(root.iter(*swarefs)) if swarefs else ():
            text = (el.text or "").strip()
            if len(el) or text[:4].lower() != "cid:":
                continue  # not a reference (the codec then refuses it as base64), or xsi:nil
            part = _referenced(text, by_id, what, "swaRef")
            if resolved is not None:
                resolved.append((el, el.text or ""))
            el.text = part.base64()
            used.add(id(part))
        if root_type != XOP_MEDIA:  # SwA: an element referring to a part by href="cid:..."
            for el in root.iter():
                href = el.get("href") if isinstance(el.tag, str) else None
                if href and href[:4].lower() == "cid:" and len(el) == 0 and not (el.text or "").strip():
                    part = _referenced(href, by_id, what, "href")
                    del el.attrib["href"]
                    el.text = part.base64()
                    used.add(id(part))
        for b in bound or []:
            if next(root.iter(b.tag), None) is not None:
                continue  # sent in the Body after all
            found = next((p for p in parts if (p.content_id or "").startswith(f"{b.name}=")), None)
            if found is None:
                found = next((p for p in parts if id(p) not in used), None)
            if found is None:
                raise MimeError(f"{what} has no MIME part for the attachment {b.name!r} its WSDL binds to one")
            part = found
            used.add(id(part))
            body = next((c for c in root if isinstance(c.tag, str) and c.tag.endswith("}Body")), None)
            if body is None:
                raise MimeError(f"{what}'s root MIME part has no SOAP Body")
            parent = body
            if b.in_wrapper:
                parent = next((c for c in body if isinstance(c.tag, str)), body)
            etree.SubElement(parent, b.tag).text = _value(part, b.kind)
        return root
    finally:
        close_parts(parts)


@contextlib.contextmanager
def as_received(resolved: list[tuple[etree._Element, str]]) -> Iterator[None]:
    """Within it, the swaRef elements ``unpack`` resolved hold their ``cid:`` text again: what the
    sender signed (a swaRef's value is that URI; XOP's reconstruction does not apply to it)."""
    content = [(el, el.text) for el, _ in resolved]
    for el, text in resolved:
        el.text = text
    try:
        yield
    finally:
        for el, value in content:
            el.text = value


def _referenced(href: str | None, by_id: dict[str, Part], what: str, how: str) -> Part:
    if not href or href[:4].lower() != "cid:":
        raise MimeError(f"{what}: an {how} has no cid: reference (href={href!r})")
    cid = unquote(href[4:])  # RFC 2392: a cid URL is the Content-ID, %-escaped
    part = by_id.get(cid)
    if part is None:
        raise MimeError(f"{what}: an {how} refers to cid:{cid}, which no MIME part has")
    return part


# --- sending ------------------------------------------------------------------------------------


@dataclass
class Packed:
    """An MTOM message: its Content-Type and its body, in pieces (the binary parts are not copied)."""

    content_type: str
    pieces: list[bytes]
    attachments: int

    @property
    def body(self) -> bytes:
        """The whole message in one piece."""
        return b"".join(self.pieces)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.pieces)


_LIFT_CHARS = 4 * 1024 * 1024  # base64 characters decoded per step when lifting: a multiple of 4


class Lifted:
    """Large base64Binary values of a request taken out of its data before encoding (``lift``): each
    replaced by a short marker (valid base64, so the encoder writes it as it is), its decoded bytes
    kept in pieces. The envelope is then built around the markers, small; ``pack`` puts each part's
    bytes where its marker's element is. The base64 text is never written into an envelope, parsed
    back, split or joined."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self.values: dict[str, list[bytes]] = {}
        self.chars = 0  # the base64 characters the markers stand for (for the envelope's size limit)

    def __len__(self) -> int:
        return len(self.values)

    def take(self, text: str, threshold: int) -> str | None:
        """A marker in place of ``text`` when it is plain base64 (no whitespace, padding only at
        its end) of at least ``threshold`` bytes, else None (the value then stays as it is)."""
        if len(text) % 4 or len(text) * 3 // 4 - text.count("=", -2) < threshold:  # the decoded size
            return None
        pieces: list[bytes] = []
        for i in range(0, len(text), _LIFT_CHARS):
            chunk = text[i : i + _LIFT_CHARS]
            if "=" in chunk[-2:] and i + _LIFT_CHARS < len(text):
                return None  # padding inside the value: not the canonical form; left to the encoder
            try:
                pieces.append(base64.b64decode(chunk, validate=True))
            except (binascii.Error, ValueError):
                return None
        marker = f"U0JY{self.token}{len(self.values):08d}"  # 44 base64 characters
        self.values[marker] = pieces
        self.chars += len(text) - len(marker)
        return marker


def lift(data: Any, threshold: int) -> tuple[Any, Lifted]:
    """``data`` with every string that is base64 of at least ``threshold`` bytes replaced by a marker
    (``Lifted.take``); the containers on the way copied, ``data`` itself left as it is. A string
    that is not a base64Binary value gets a marker too: ``pack`` then finds it outside such an
    element, and the caller encodes ``data`` as it is instead (``Unlifted``)."""
    lifted = Lifted()

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            marker = lifted.take(node, threshold) if len(node) >= 4 * threshold // 3 else None
            return node if marker is None else marker
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(data), lifted


class Unlifted(Exception):
    """A lifted value's marker is not the whole text of a base64Binary element (``pack``)."""


def pack(
    envelope: bytes,
    version: str,
    action: str,
    binary_tags: frozenset[str],
    threshold: int,
    *,
    exact: bool = False,
    extra: list[tuple[str, bytes]] | None = None,
    lifted: Lifted | None = None,
) -> Packed | None:
    """The envelope as an MTOM message, each element whose tag is in ``binary_tags`` (base64Binary)
    and whose value decodes to at least ``threshold`` bytes sent as a binary part; None when no value
    is that large: the envelope then goes as it is (the JAX-WS RI accepts either).

    ``exact`` (a signed envelope): only values in the canonical lexical form of base64Binary (no
    whitespace, zero pad bits) become parts, as XOP 1.0 §3.1 says, so that the envelope a receiver
    reconstructs (each part's canonical base64 in place of its xop:Include) is, character for
    character, the one signed; any other value stays inline.

    ``extra``: parts ``(content id, bytes)`` the envelope already refers to (swaRef, ``take_swarefs``),
    sent along; with no MTOM part the message is then SOAP with Attachments (root text/xml).

    ``lifted``: values taken out before encoding (``lift``), each sent as a part in place of its
    marker; raises ``Unlifted`` when a marker is anywhere but as the text of an element in ``binary_tags``."""
    from lxml import etree

    if not binary_tags and not extra:
        return None
    token = uuid.uuid4().hex
    binaries: list[tuple[str, list[bytes]]] = []
    root = None
    if binary_tags:
        root = etree.fromstring(envelope, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    placed = 0
    for el in root.iter(*binary_tags) if root is not None else ():
        text = el.text or ""
        if lifted is not None and not len(el) and text in lifted.values:
            cid = f"{len(binaries) + 1}.{token}@soapbridge"
            el.text = None
            etree.SubElement(el, XOP_INCLUDE, nsmap={"xop": XOP}).set("href", f"cid:{cid}")
            binaries.append((cid, lifted.values[text]))
            placed += 1
            continue
        if len(el) or len(text) * 3 // 4 < threshold:  # len*3/4: the decoded size, near enough
            continue
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            continue  # validated before; left inline rather than guessed at
        if len(data) < threshold or (exact and not _canonical(text, data)):
            continue
        cid = f"{len(binaries) + 1}.{token}@soapbridge"
        el.text = None
        etree.SubElement(el, XOP_INCLUDE, nsmap={"xop": XOP}).set("href", f"cid:{cid}")
        binaries.append((cid, [data]))
    if lifted is not None and placed != len(lifted):
        raise Unlifted(f"{len(lifted) - placed} lifted value(s) outside a base64Binary element")
    if not binaries and not extra:
        return None
    boundary = f"uuid:{token}"
    root_id = f"root.{token}@soapbridge"
    soap_type = "application/soap+xml" if version == "1.2" else "text/xml"
    start_info = f'{soap_type}; action=\\"{action}\\"' if version == "1.2" and action else soap_type
    if binaries:  # MTOM
        assert root is not None
        root_ct = f'{XOP_MEDIA}; charset=UTF-8; type="{start_info}"'
        root_xml = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    else:  # SwA: the envelope as it is, its swaRef parts along
        root_ct = f"{soap_type}; charset=UTF-8"
        root_xml = envelope
    head = (
        f"--{boundary}\r\n"
        f"Content-Type: {root_ct}\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{root_id}>\r\n\r\n"
    ).encode("ascii")
    pieces = [head, root_xml]
    for cid, chunks in [*binaries, *((cid, [data]) for cid, data in extra or [])]:
        pieces.append(
            (
                f"\r\n--{boundary}\r\n"
                "Content-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"Content-ID: <{cid}>\r\n\r\n"
            ).encode("ascii")
        )
        pieces.extend(chunks)
    pieces.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    if binaries:
        content_type = f'multipart/related; type="{XOP_MEDIA}"; boundary="{boundary}"; start="<{root_id}>"; start-info="{start_info}"'
    else:
        content_type = f'multipart/related; type="{soap_type}"; boundary="{boundary}"; start="<{root_id}>"'
    if version == "1.2" and action:
        content_type += f'; action="{action}"'
    return Packed(content_type, pieces, len(binaries) + len(extra or []))


def take_swarefs(envelope: bytes, tags: frozenset[str]) -> tuple[bytes, list[tuple[str, bytes]]]:
    """WS-I swaRef (Attachments Profile 1.0 §4.4): each element in ``tags`` holding base64 gets,
    in its place, a ``cid:`` URI naming a new part of those bytes. The envelope as it will be sent
    (so sign it after this), and the parts ``(content id, bytes)`` for ``pack``'s ``extra``."""
    from lxml import etree

    if not tags:  # (iter() of no tag is every element)
        return envelope, []
    root = etree.fromstring(envelope, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    token = uuid.uuid4().hex
    parts: list[tuple[str, bytes]] = []
    for el in list(root.iter(*tags)):
        if len(el) or el.text is None:
            continue  # xsi:nil, or no value
        try:
            data = base64.b64decode("".join(el.text.split()), validate=True)
        except (binascii.Error, ValueError):
            continue  # validated before (the schema says base64); left as it is rather than guessed at
        cid = f"swaref{len(parts) + 1}.{token}@soapbridge"
        el.text = f"cid:{cid}"
        parts.append((cid, data))
    if not parts:
        return envelope, []
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), parts


def _canonical(text: str, data: bytes) -> bool:
    """Whether ``text`` (valid base64 of ``data``) is its canonical form: no whitespace (then it would
    be longer), and the last quantum as the encoder writes it (pad bits zero; checked on the tail,
    not on a second copy of a large value)."""
    if len(text) != (len(data) + 2) // 3 * 4:
        return False
    tail = data[len(data) - (len(data) % 3 or 3) :] if data else b""
    return base64.b64encode(tail).decode("ascii") == text[len(text) - len(base64.b64encode(tail)) :]


def package(root_xml: bytes, version: str, attachments: list[tuple[str, str, bytes]], *, mtom: bool) -> tuple[str, bytes]:
    """A multipart/related message of an envelope and ready parts ``(content id, media type, bytes)``:
    MTOM (root application/xop+xml) or SwA (root text/xml or application/soap+xml). For the mock."""

    token = uuid.uuid4().hex
    boundary = f"MIMEBoundary_{token}"
    root_id = f"root.{token}@soapbridge"
    soap_type = "application/soap+xml" if version == "1.2" else "text/xml"
    root_ct = f'{XOP_MEDIA}; charset=UTF-8; type="{soap_type}"' if mtom else f"{soap_type}; charset=UTF-8"
    out = [
        f"--{boundary}\r\nContent-Type: {root_ct}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode(),
        root_xml,
    ]
    for cid, media, data in attachments:
        out.append(
            f"\r\n--{boundary}\r\nContent-Type: {media}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{cid}>\r\n\r\n".encode()
        )
        out.append(data)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    media_root = XOP_MEDIA if mtom else soap_type
    ct = f'multipart/related; type="{media_root}"; boundary="{boundary}"; start="<{root_id}>"'
    if mtom:
        ct += f'; start-info="{soap_type}"'
    return ct, b"".join(out)


def split_binaries(
    root: etree._Element, binary_tags: frozenset[str], *, mtom: bool, threshold: int = 0
) -> list[tuple[str, str, bytes]]:
    """Moves the base64Binary values of a tree (elements in ``binary_tags``) out into parts: an
    ``xop:Include`` child (MTOM) or an ``href="cid:..."`` attribute (SwA) in their place. For the mock."""
    from lxml import etree

    out: list[tuple[str, str, bytes]] = []
    token = uuid.uuid4().hex
    for el in list(root.iter(*binary_tags)) if binary_tags else []:
        if len(el):
            continue
        try:
            data = base64.b64decode("".join((el.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(data) < threshold:
            continue
        cid = f"part{len(out) + 1}.{token}@soapbridge"
        el.text = None
        if mtom:
            etree.SubElement(el, XOP_INCLUDE, nsmap={"xop": XOP}).set("href", f"cid:{cid}")
        else:
            el.set("href", f"cid:{cid}")
        out.append((cid, "application/octet-stream", data))
    return out


def binary_tags(message: Message | None) -> frozenset[str]:
    """The tags (Clark notation) of the elements of a message that hold xs:base64Binary values, as
    simple types or simpleContent, in its parts and every type below them (derived types included).
    WS-I swaRef elements are among them (their JSON value is base64 too): see ``swaref_tags``."""
    return _tags(message, lambda t: t.variety == "atomic" and t.builtin == "base64Binary")


def swaref_tags(message: Message | None) -> frozenset[str]:
    """The tags of the elements of a message typed WS-I swaRef (``model.is_swaref``): their value
    goes as a MIME part, the element holding its ``cid:`` URI."""
    return _tags(message, is_swaref)


def _tags(message: Message | None, wanted: Callable[[SimpleType], bool]) -> frozenset[str]:
    if message is None:
        return frozenset()
    tags: set[str] = set()
    seen: set[int] = set()

    def element(el: Element) -> None:
        for e in [el, *el.substitutes]:
            t = e.type
            if isinstance(t, SimpleType):
                if wanted(t):
                    tags.add(str(e.qname))
            else:
                vt = t.value_type()
                if vt is not None and wanted(vt):
                    tags.add(str(e.qname))
                complex_type(t)

    def complex_type(t: ComplexType) -> None:
        if id(t) in seen:
            return
        seen.add(id(t))
        for g in t.content_chain():
            group(g)
        for d in t.derived:
            complex_type(d)

    def group(g: Group) -> None:
        for p in g.particles:
            if isinstance(p, Group):
                group(p)
            elif isinstance(p, Element):
                element(p)

    for part in message.parts:
        element(part.element)
    return frozenset(tags)


def pack_swa(
    envelope: bytes,
    version: str,
    bound: list[Bound],
    media: dict[str, tuple[str, ...]],
    *,
    finish: Callable[[bytes], bytes] | None = None,
) -> Packed:
    """The envelope as SOAP with Attachments (WSDL 1.1 §5, WS-I Attachments Profile 1.0): each
    ``bound`` part's element taken out of the Body and sent as a MIME part whose Content-ID is
    ``<name=uuid@soapbridge>`` (R2933), of the binding's first media type (a wildcard: octet-stream).
    ``finish``: applied to the root part's envelope once the parts are out (WS-Security signs it)."""
    from lxml import etree

    root = etree.fromstring(envelope, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    token = uuid.uuid4().hex
    soap_type = "application/soap+xml" if version == "1.2" else "text/xml"
    boundary = f"MIMEBoundary_{token}"
    root_id = f"root.{token}@soapbridge"
    attachments: list[bytes] = []
    for b in bound:
        el = next(root.iter(b.tag), None)
        if el is None:
            continue  # an optional part left out
        text = el.text or ""
        if b.kind == "base64":
            data = base64.b64decode("".join(text.split()))
        elif b.kind == "hex":
            data = bytes.fromhex(text.strip())
        else:
            data = text.encode("utf-8")
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
        ctype = next((m for m in media.get(b.name, ()) if "*" not in m), "application/octet-stream")
        attachments.append(
            f"\r\n--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{b.name}={token}@soapbridge>\r\n\r\n".encode()
        )
        attachments.append(data)
    head = f"--{boundary}\r\nContent-Type: {soap_type}; charset=UTF-8\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n".encode()
    root_xml = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    if finish is not None:
        root_xml = finish(root_xml)
    pieces = [head, root_xml, *attachments, f"\r\n--{boundary}--\r\n".encode()]
    content_type = f'multipart/related; type="{soap_type}"; boundary="{boundary}"; start="<{root_id}>"'
    return Packed(content_type, pieces, len(attachments) // 2)
