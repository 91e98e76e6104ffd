"""Decode and encode on their own, in this process: soapbridge against zeep, xmltodict and lxml.

Decode: SOAP reply bytes -> JSON bytes. Encode: request data (already parsed JSON) -> SOAP
envelope bytes. The lxml floor is the least any lxml-based converter must do: for decode, parse
and serialise the same bytes; for encode, write the same data as elements with a naive walker.
"""

from __future__ import annotations

import datetime
import decimal
import json
import warnings
from typing import Any

import xmltodict
import zeep
import zeep.helpers
from lxml import etree
from zeep.loader import parse_xml

import bridge
from bridge.app import dumps as app_dumps
from bridge.envelope import build
from bridge.wsdl.loader import zeep_settings
from bridge.wsdl.transport import LoaderTransport

from .payloads import WSDL, create_order_request, list_orders_reply
from .timing import compare

KB = 1024
DECODE_SIZES = [1 * KB, 20 * KB, 1024 * KB]
ENCODE_SIZES = [1 * KB, 20 * KB, 1024 * KB]
QUICK_SIZES = [1 * KB, 20 * KB]
ORDERS_NS = "http://soapbridge.dev/samples/orders"


def _json_default(o: Any) -> Any:
    if isinstance(o, decimal.Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    if isinstance(o, (datetime.date, datetime.time)):
        return o.isoformat()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def dumps(data: Any) -> bytes:
    """The JSON every contender writes: compact, UTF-8 (what the REST app sends)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def zeep_client() -> zeep.Client:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zeep.Client(str(WSDL), transport=LoaderTransport(), settings=zeep_settings())


def to_zeep(value: Any) -> Any:
    """soapbridge JSON -> zeep keyword values: simpleContent "$value" is zeep's "_value_1"."""
    if isinstance(value, dict):
        return {("_value_1" if k == "$value" else k): to_zeep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_zeep(v) for v in value]
    return value


def _floor_write(parent: etree._Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        for v in value:
            _floor_write(parent, key, v)
        return
    node = etree.SubElement(parent, f"{{{ORDERS_NS}}}{key.lstrip('$')}")
    if isinstance(value, dict):
        for k, v in value.items():
            _floor_write(node, k, v)
    elif value is not None:
        node.text = str(value)


def floor_encode(name: str, data: dict[str, Any]) -> bytes:
    env = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Envelope")
    body = etree.SubElement(env, "{http://schemas.xmlsoap.org/soap/envelope/}Body")
    _floor_write(body, name, data)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def run_decode(quick: bool, log: Any) -> list[dict[str, Any]]:
    strict = bridge.load(WSDL)  # reply_validation="strict", the default
    codec_only = bridge.load(WSDL, reply_validation="off")
    op = strict.operation("ListOrders")
    zc = zeep_client()
    zop = zc.service._binding._operations["ListOrders"]
    enc = codec_only.codec

    def encode(data: dict[str, Any]) -> bytes:
        headers, body = enc.encode_message(op, op.output, data, response=True)  # type: ignore[arg-type]
        return build(op.soap_version, headers, body)

    rows = []
    for target in QUICK_SIZES if quick else DECODE_SIZES:
        data, xml = list_orders_reply(target, encode)

        def zeep_decode(xml: bytes = xml) -> bytes:
            envelope = parse_xml(xml, zc.transport, settings=zc.settings)
            return dumps(zeep.helpers.serialize_object(zop.process_reply(envelope), dict))

        fns = {
            "lxml floor": lambda xml=xml: etree.tostring(etree.fromstring(xml)),
            # soapbridge writes its JSON as the REST app does (orjson); the json-module row shows the decoder alone.
            "soapbridge": lambda xml=xml: app_dumps(codec_only.decode_response(op, xml)),
            "soapbridge+reply validation": lambda xml=xml: app_dumps(strict.decode_response(op, xml)),
            "soapbridge, json module": lambda xml=xml: dumps(codec_only.decode_response(op, xml)),
            "zeep": zeep_decode,
            "xmltodict": lambda xml=xml: dumps(xmltodict.parse(xml)),
        }
        # Same answer first: every contender sees all the orders.
        assert json.loads(fns["soapbridge"]()) == json.loads(dumps(data)), "soapbridge decodes the reply it was given"
        assert len(json.loads(zeep_decode())) == len(data["order"]), "zeep decodes every order"
        secs = compare(fns, budget=0.6 if quick else 2.0, min_rounds=3 if target > 100 * KB else 5)
        rows.append(_row(target, len(xml), secs, "lxml floor"))
        log(f"decode {len(xml):>9} B: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in secs.items()))
    return rows


def run_encode(quick: bool, log: Any) -> list[dict[str, Any]]:
    b = bridge.load(WSDL)
    op = b.operation("CreateOrder")
    zc = zeep_client()
    rows = []
    for target in QUICK_SIZES if quick else ENCODE_SIZES:
        data = create_order_request(target, lambda d: b.encode_request(op, d))
        xml = b.encode_request(op, data)
        zkw = to_zeep(data)

        def zeep_encode(zkw: dict[str, Any] = zkw) -> bytes:
            return etree.tostring(zc.create_message(zc.service, "CreateOrder", **zkw), xml_declaration=True, encoding="utf-8")

        fns = {
            "lxml floor": lambda data=data: floor_encode("CreateOrder", data),
            "soapbridge": lambda data=data: b.encode_request(op, data),
            "zeep": zeep_encode,
        }
        lines = f"{{{ORDERS_NS}}}line"
        assert len(etree.fromstring(zeep_encode()).findall(f".//{lines}")) == len(etree.fromstring(xml).findall(f".//{lines}"))
        secs = compare(fns, budget=0.6 if quick else 2.0, min_rounds=3 if target > 100 * KB else 5)
        rows.append(_row(target, len(xml), secs, "lxml floor"))
        log(f"encode {len(xml):>9} B: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in secs.items()))
    return rows


def _row(target: int, size: int, secs: dict[str, float], baseline: str) -> dict[str, Any]:
    base = secs[baseline]
    return {
        "target_bytes": target,
        "bytes": size,
        "baseline": baseline,
        "ms": {k: round(v * 1e3, 4) for k, v in secs.items()},
        "x_baseline": {k: round(v / base, 2) for k, v in secs.items()},
    }
