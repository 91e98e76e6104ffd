"""The compiled request encoder writes exactly the bytes of the generic codec plus
``envelope.build``: for the examples of every operation of every sample and conformance WSDL, for
hypothesis-generated requests on the samples, for awkward strings and nil values; and on bad data
it raises the generic codec's error. The writers run in C (bridge/_ccodec.pyx) when it is built,
else in Python: the tests run both."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bridge
from bridge import _pycodec
from bridge import compiled as compiled_module
from bridge.codec import to_json_ready
from bridge.compiled import GIVE_UP
from bridge.envelope import build
from bridge.errors import BridgeError
from bridge.examples import message_example
from bridge.jsonschema import exact_decimals
from bridge.model import Operation
from tests.conftest import SAMPLES, json_bodies_only, sample

pytestmark = pytest.mark.usefixtures("inner_loop")  # every test: the C writers, then the Python ones

FIXTURES = sorted((Path(__file__).parent / "conformance" / "wsdl").glob("*.wsdl"))
CONFORMANCE = Path(__file__).parent / "conformance" / "wsdl"


@functools.lru_cache(maxsize=128)
def _load_for(path: Path, pure_python: bool) -> bridge.Bridge:
    return bridge.load(path)


def _load(path: Path) -> bridge.Bridge:
    """One bridge per WSDL and inner loop: writers are compiled on first use, with the loop then in force."""
    return _load_for(path, compiled_module.LOOPS is _pycodec)


def _loadable() -> list[Path]:
    out = []
    for p in [*SAMPLES, *FIXTURES]:
        try:
            _load(p)
        except BridgeError:
            continue
        out.append(p)
    return out


def _generic(b: bridge.Bridge, op: Operation, data: Any) -> bytes:
    assert op.input is not None
    return build(op.soap_version, *b.codec.encode_message(op, op.input, data))


def _compiled(b: bridge.Bridge, op: Operation, data: Any) -> bytes | None:
    """The compiled encoder's bytes, or None when it hands the message to the generic codec."""
    try:
        return b.compiled._encode_request(op, data)
    except GIVE_UP:
        return None


@pytest.mark.parametrize("wsdl", _loadable(), ids=lambda p: p.name)
def test_compiled_encoder_writes_the_generic_bytes(wsdl: Path) -> None:
    b = _load(wsdl)
    took = 0
    for op in b.operations:
        if op.input is None:
            continue
        for seed in range(4):
            data = to_json_ready(message_example(op, op.input, seed))
            generic = _generic(b, op, data)
            compiled = _compiled(b, op, data)
            if compiled is not None:  # None: handed to the generic codec, which the next line checks
                took += 1
                assert compiled == generic, (op.key, seed)
            assert b.encode_request(op, data) == generic
    if wsdl in SAMPLES and wsdl.name != "rpc-literal.wsdl":  # document/literal samples: the compiled path must take part
        assert took, f"the compiled encoder handed every message of {wsdl.name} to the generic codec"


@pytest.mark.parametrize(
    ("wsdl", "op_name"),
    [
        (sample("orders.wsdl"), "CreateOrder"),
        (sample("orders.wsdl"), "GetOrder"),
        (sample("calculator.wsdl"), "Add"),
        (sample("interop.wsdl"), None),
        (CONFORMANCE / "xsd_nillable.wsdl", "EchoNillable"),
        (CONFORMANCE / "wsdl_doc_bare.wsdl", None),
        (CONFORMANCE / "xsd_recursive.wsdl", None),
    ],
)
def test_plain_messages_take_the_compiled_path(wsdl: Path, op_name: str | None) -> None:
    b = _load(wsdl)
    ops = [op for op in b.operations if op.input is not None and (op_name is None or op.name == op_name)]
    assert ops
    for op in ops:
        assert op.input is not None
        data = to_json_ready(message_example(op, op.input, 0))
        assert _compiled(b, op, data) == _generic(b, op, data), op.key


def test_generic_constructs_fall_back_to_the_generic_codec() -> None:
    for name in ("xsd_choice.wsdl", "xsd_any.wsdl", "xsd_substitution.wsdl", "wsdl_rpc_encoded.wsdl"):
        b = _load(CONFORMANCE / name)
        for op in b.operations:
            assert op.input is not None
            data = to_json_ready(message_example(op, op.input, 0))
            assert b.encode_request(op, data) == _generic(b, op, data)


AWKWARD = ["", " ", "a & b < c > d", "quote \" and ' apostrophe", "tab\tnew\nline\r\nreturn", "é ß 漢字 🚀", "]]>", "&amp;"]


@pytest.mark.parametrize("text", AWKWARD)
def test_escaping_matches_lxml(text: str) -> None:
    b = _load(sample("orders.wsdl"))
    op = b.operation("CreateOrder")
    assert op.input is not None
    data = to_json_ready(message_example(op, op.input, 0))
    data["order"]["note"] = text
    data["order"]["customer"]["name"] = text
    for line in data["order"]["line"]:
        line["sku"] = text  # an attribute
        line["unitPrice"]["currency"] = text
    compiled = _compiled(b, op, data)
    assert compiled is not None
    assert compiled == _generic(b, op, data)


def test_nil_and_empty_values() -> None:
    b = _load(CONFORMANCE / "xsd_nillable.wsdl")
    op = b.operation("EchoNillable")
    assert op.input is not None
    base = to_json_ready(message_example(op, op.input, 0))
    for key in base:
        data = dict(base, **{key: None})
        generic: bytes | BaseException
        try:
            generic = _generic(b, op, data)
        except BridgeError as exc:
            generic = exc
        if isinstance(generic, bytes):
            assert _compiled(b, op, data) == generic, key
            assert b"nil" in generic
        else:
            with pytest.raises(type(generic)) as caught:
                b.compiled.encode_request(op, data)
            assert str(caught.value) == str(generic)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["order"].update(bogus=1),  # unknown field
        lambda d: d["order"].update(note="nul \x00 inside"),  # characters XML cannot carry
        lambda d: d["order"].update(note="vertical \x0b tab"),
        lambda d: d["order"]["line"][0].update(sku="not a character \ufffe"),
        lambda d: d["order"].update(note="last \uffff"),
        lambda d: d["order"]["customer"].update(name="lone \ud800 surrogate"),
        lambda d: d["order"].update(orderId=None),  # null for a non-nillable element
        lambda d: d["order"].update(line={"product": "x"}),  # an object where an array belongs
        lambda d: d["order"]["line"][0].update(quantity="many"),  # a string for an integer
        lambda d: d["order"]["line"][0]["unitPrice"].update({"$value": True}),  # a boolean for a decimal
        lambda d: d.update({"$headers": {"nope": {}}}),  # unknown header
        lambda d: d.update(extra={}),  # unknown top-level field
    ],
)
def test_bad_data_gets_the_generic_error(change: Any) -> None:
    b = _load(sample("orders.wsdl"))
    op = b.operation("CreateOrder")
    assert op.input is not None
    data = to_json_ready(message_example(op, op.input, 0))
    change(data)
    with pytest.raises(BridgeError) as generic:
        _generic(b, op, data)
    with pytest.raises(type(generic.value)) as compiled:
        b.compiled.encode_request(op, data)
    assert str(compiled.value) == str(generic.value)
    assert getattr(compiled.value, "violations", None) == getattr(generic.value, "violations", None)


# --- hypothesis: requests generated from the operations' JSON Schemas (as in test_differential) ---


@functools.lru_cache(maxsize=8)
def _schema(path: Path) -> Any:
    schema = schemathesis.openapi.from_dict(json_bodies_only(exact_decimals(_load(path).openapi())))  # generate what the bridge accepts
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    return schema


def _sample_cases() -> list[Any]:
    return [pytest.param(p, op.key, id=f"{p.name}-{op.key}") for p in SAMPLES for op in _load(p).routed]


@pytest.mark.parametrize(("wsdl", "key"), _sample_cases())
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_requests_encode_identically(wsdl: Path, key: str, data: st.DataObject) -> None:
    b = _load(wsdl)
    op = b.operation(key)
    case = data.draw(_schema(wsdl)[op.path][op.http_method].as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE))
    body = case.body if isinstance(case.body, dict) else {}
    request = dict(body, **dict(case.path_parameters or {}), **dict(case.query or {}))
    generic = _generic(b, op, request)
    compiled = _compiled(b, op, request)
    assert compiled is None or compiled == generic
    assert b.encode_request(op, request) == generic


@pytest.mark.parametrize("price", [12.5, 10, 0.30000000000000004, -0.0, 1e16, 1.5e-07, 123456789.125, 2**70])
def test_decimal_lexical_forms_match(price: float) -> None:
    """xs:decimal from a JSON number: the C writer's repr() short cut gives the generic codec's digits."""
    b = _load(sample("orders.wsdl"))
    op = b.operation("CreateOrder")
    assert op.input is not None
    data = to_json_ready(message_example(op, op.input, 0))
    for line in data["order"]["line"]:
        line["unitPrice"]["$value"] = price
    generic = _generic(b, op, data)
    assert _compiled(b, op, data) == generic  # written by the compiled path, not handed over
