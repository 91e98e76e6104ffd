"""Lossless round trips for every sample operation: JSON -> XML -> JSON gives the same JSON, and
XML -> JSON -> XML gives the same XML (modulo namespace prefixes), for requests, replies and faults.
The envelopes are also validated against the WSDL's own schemas with xmlschema, an independent
XSD validator."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree

import bridge
from bridge.codec import to_json_ready
from bridge.compiled import GIVE_UP, generic_constructs
from bridge.envelope import SOAP11, SOAP12, build
from bridge.examples import message_example
from bridge.model import Operation
from bridge.wsdl import catalog
from tests.conftest import SAMPLES

XSD = "http://www.w3.org/2001/XMLSchema"


def _canonical(node: etree._Element) -> Any:
    """Prefix-free structure of an element: (tag, sorted attributes, text, children)."""
    attrs = tuple(sorted((k, v) for k, v in node.attrib.items() if not k.startswith("{http://www.w3.org/2001/XMLSchema-instance}type")))
    text = (node.text or "").strip()
    return (node.tag, attrs, text, tuple(_canonical(c) for c in node if isinstance(c.tag, str)))


def _xsd_for(wsdl: Path) -> xmlschema.XMLSchema:
    root = etree.parse(str(wsdl)).getroot()
    schemas = root.findall(f".//{{{XSD}}}schema")
    assert len(schemas) == 1
    # an import of a well-known schema (claims.wsdl: WS-I's swaref.xsd) read from the local copy, offline
    offline = lambda url: local.as_uri() if (local := catalog.lookup(url)) is not None else url  # noqa: E731
    return xmlschema.XMLSchema(etree.tostring(schemas[0]).decode(), uri_mapper=offline)


def _cases() -> list[tuple[Path, str]]:
    out = []
    for wsdl in SAMPLES:
        b = bridge.load(wsdl)
        out += [(wsdl, op.qualified_name) for op in b.model.operations]
    return out


@pytest.mark.parametrize(("wsdl", "opname"), _cases(), ids=lambda v: v.name if isinstance(v, Path) else v)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip(wsdl: Path, opname: str, seed: int) -> None:
    b = bridge.load(wsdl)
    op: Operation = b.operation(opname)
    schema = _xsd_for(wsdl) if op.style == "document" else None
    for msg, response in ((op.input, False), (op.output, True)):
        assert msg is not None
        data = to_json_ready(message_example(op, msg, seed))
        headers, body = b.codec.encode_message(op, msg, data, response=response)
        envelope = etree.fromstring(build(op.soap_version, headers, body))
        ns = SOAP11 if op.soap_version == "1.1" else SOAP12
        body_el = envelope.find(f"{{{ns}}}Body")
        header_el = envelope.find(f"{{{ns}}}Header")
        body_children = list(body_el)
        header_children = list(header_el) if header_el is not None else []
        if schema is not None:
            for el in body_children + header_children:
                schema.validate(el)  # the XML we write is valid per the WSDL's XSD
        decoded = b.codec.decode_message(op, msg, body_children, header_children)
        assert decoded == data  # JSON -> XML -> JSON
        headers2, body2 = b.codec.encode_message(op, msg, decoded, response=response)
        assert [_canonical(e) for e in body2] == [_canonical(e) for e in body_children]  # XML -> JSON -> XML
        assert [_canonical(e) for e in headers2] == [_canonical(e) for e in header_children]


@pytest.mark.parametrize(("wsdl", "opname"), _cases(), ids=lambda v: v.name if isinstance(v, Path) else v)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_round_trip(wsdl: Path, opname: str, seed: int, inner_loop: str) -> None:
    """The compiled codec, with its inner loops in C and then in pure Python: the request envelope it
    writes is valid per the WSDL's XSD (xmlschema), and both messages decode back to the data."""
    b = bridge.load(wsdl)  # after the fixture: the compiled codec takes the loop it chose
    op: Operation = b.operation(opname)
    assert b.compiled.loops.__name__.endswith("_pycodec" if inner_loop == "Python" else "_ccodec")
    schema = _xsd_for(wsdl) if op.style == "document" else None
    ns = SOAP11 if op.soap_version == "1.1" else SOAP12
    for msg, response in ((op.input, False), (op.output, True)):
        assert msg is not None
        data = to_json_ready(message_example(op, msg, seed))
        # Requests are written by the compiled encoder; replies (which the bridge never writes) by the generic one.
        xml = build(op.soap_version, *b.codec.encode_message(op, msg, data, response=True)) if response else b.encode_request(op, data)
        envelope = etree.fromstring(xml)
        body_el = envelope.find(f"{{{ns}}}Body")
        header_el = envelope.find(f"{{{ns}}}Header")
        assert body_el is not None
        body_children = list(body_el)
        header_children = list(header_el) if header_el is not None else []
        if schema is not None:
            for el in body_children + header_children:
                schema.validate(el)
        try:
            fast = b.compiled._decode_message(op, msg, body_children, header_children)  # no fallback to the generic codec
        except GIVE_UP:
            assert generic_constructs(op, request=not response), f"{op.key} gave up though inspect calls it compiled"
            fast = b.compiled.decode_message(op, msg, body_children, header_children)
        assert fast == data


def test_fault_detail_round_trip() -> None:
    wsdl = next(p for p in SAMPLES if p.name == "calculator.wsdl")
    b = bridge.load(wsdl)
    op = b.operation("Divide")
    fault = op.faults[0]
    assert fault.element is not None
    value = {"dividend": 12.5, "message": "m"}
    nodes = b.codec.encode_element(None, fault.element, value, "")
    assert b.codec.decode_fault_detail(op, nodes) == ("DivisionByZero", value)


def test_random_values_survive(seed: int = 7) -> None:
    """Values chosen to stress lexical forms: negative, zero, long strings, unicode, nil."""
    wsdl = next(p for p in SAMPLES if p.name == "orders.wsdl")
    b = bridge.load(wsdl)
    op = b.operation("CreateOrder")
    rng = random.Random(seed)
    order = {
        "customer": {"name": "Zoë ÿ 日本 & <tags>", "email": None, "address": {"street": "\tx\r\ny ", "city": "c", "country": "DE"}},
        "orderDate": "2024-02-29",
        "line": [
            {"sku": f"S{i}", "product": "p", "quantity": rng.randint(1, 10**6), "unitPrice": {"$value": 0.01 * i, "currency": "USD"}}
            for i in range(1, 4)
        ],
        "note": None,
    }
    data = {"order": order}
    _, body = b.codec.encode_message(op, op.input, data)
    xml = etree.fromstring(etree.tostring(body[0]))
    assert b.codec.decode_message(op, op.input, [xml], []) == data
