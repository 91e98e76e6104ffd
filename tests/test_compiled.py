"""The compiled codec gives exactly what the generic codec gives: the same JSON (key order too)
for every operation of every sample and conformance WSDL, and the same errors on bad replies.
The decoder's inner loop runs in C (bridge/_ccodec.pyx) when it is built, else in Python: the
parity tests run both."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import bridge
from bridge import compiled
from bridge.codec import Codec, DecodeError, to_json_ready
from bridge.envelope import build, parse
from bridge.errors import BridgeError, UpstreamError, XmlError
from bridge.examples import message_example
from bridge.xmlparse import PARSER_DEPTH_LIMIT, parse_untrusted
from tests.conftest import SAMPLES, sample

FIXTURES = sorted((Path(__file__).parent / "conformance" / "wsdl").glob("*.wsdl"))


def _loadable() -> list[Path]:
    out = []
    for p in [*SAMPLES, *FIXTURES]:
        try:
            bridge.load(p)
        except BridgeError:
            continue
        out.append(p)
    return out


def test_c_loop_is_built() -> None:
    """A failed compile only warns at install time; CI must not silently run the slow path."""
    if compiled._ccodec is None:
        if os.environ.get("CI"):
            pytest.fail("bridge/_ccodec.pyx was not compiled: see the install log (hatch hook hatch_build.py)")
        pytest.skip("bridge._ccodec is not built")
    assert compiled.LOOPS is compiled._ccodec and compiled.c_loops() == "yes"
    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("ListOrders")
    assert op.output is not None
    dec = b.compiled.element_decoder(op.output.parts[0].element)
    assert isinstance(b.compiled.type_plan(op.output.parts[0].element.type), compiled._ccodec.TypePlan)
    assert isinstance(dec, compiled._ccodec.ElementPlan)


def test_both_loop_modules_have_one_interface() -> None:
    """bridge/_pycodec.py has what bridge/_ccodec.pyi declares, so compiled.py builds one set of plans for either."""
    import ast

    from bridge import _pycodec

    stub = ast.parse((Path(compiled.__file__).parent / "_ccodec.pyi").read_text())
    names = {n.name for n in stub.body if isinstance(n, ast.ClassDef)}
    names |= {t.id for n in stub.body if isinstance(n, ast.AnnAssign) for t in [n.target] if isinstance(t, ast.Name)}
    assert names and not [n for n in sorted(names) if not hasattr(_pycodec, n)]
    for cls in (n for n in stub.body if isinstance(n, ast.ClassDef)):
        for fn in (f for f in cls.body if isinstance(f, ast.FunctionDef)):
            assert hasattr(getattr(_pycodec, cls.name), fn.name), (cls.name, fn.name)
    constants = {n: getattr(_pycodec, n) for n in names if isinstance(getattr(_pycodec, n), int)}
    if compiled._ccodec is not None:
        assert constants == {n: getattr(compiled._ccodec, n) for n in constants}


@pytest.mark.usefixtures("inner_loop")
def test_the_fixture_drives_each_loop(inner_loop: str) -> None:
    """Each parametrized codec test runs the loop it names: the plans come from that module."""
    from bridge import _pycodec

    module = _pycodec if inner_loop == "Python" else compiled._ccodec
    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("CreateOrder")
    assert op.input is not None and b.compiled.loops is module
    assert isinstance(b.compiled.type_plan(op.input.parts[0].element.type), module.TypePlan)  # type: ignore[union-attr]
    assert isinstance(b.compiled.type_writer(op.input.parts[0].element.type), module.TypeWriter)  # type: ignore[union-attr]
    assert (compiled.c_loops() == "yes") == (inner_loop == "C")


@pytest.mark.parametrize("wsdl", _loadable(), ids=lambda p: p.name)
@pytest.mark.usefixtures("inner_loop")
def test_compiled_equals_generic(wsdl: Path) -> None:
    b = bridge.load(wsdl)
    for op in b.operations:
        for msg, response in ((op.input, False), (op.output, True)):
            if msg is None:
                continue
            for seed in range(4):
                data = to_json_ready(message_example(op, msg, seed))
                headers, body = b.codec.encode_message(op, msg, data, response=response)
                env = parse(build(op.soap_version, headers, body), max_bytes=10**7, max_depth=256)
                generic = b.codec.decode_message(op, msg, env.body_children, env.header_children)
                compiled = b.compiled.decode_message(op, msg, env.body_children, env.header_children)
                assert compiled == generic == data
                assert list(compiled) == list(generic)  # the same key order


ORDERS = "http://soapbridge.dev/samples/orders"


def _reply(order_xml: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<s:Body><o:ListOrdersResponse xmlns:o="{ORDERS}">{order_xml}</o:ListOrdersResponse></s:Body></s:Envelope>'
    ).encode()


LINE = '<o:line sku="A1" lineNo="1"><o:product>p</o:product><o:quantity>{q}</o:quantity><o:unitPrice currency="EUR">{price}</o:unitPrice></o:line>'
CUSTOMER = "<o:customer><o:name>n</o:name><o:address><o:street>s</o:street><o:city>c</o:city><o:country>DE</o:country></o:address></o:customer>"


def _order(*, q: str = "2", price: str = "9.50", note: str = "<o:note>x</o:note>", extra: str = "", first: str = "") -> str:
    return f"<o:order>{first}{CUSTOMER}<o:orderDate>2024-01-02</o:orderDate>{LINE.format(q=q, price=price)}{extra}{note}</o:order>"


def _both(xml: bytes) -> tuple[object, object]:
    """(generic result or error text, compiled result or error text) for one ListOrders reply."""
    b = bridge.load(sample("orders.wsdl"), reply_validation="off")
    op = b.operation("ListOrders")
    assert op.output is not None
    env = parse(xml, max_bytes=10**6, max_depth=256)
    results = []
    for decode in (b.codec.decode_message, b.compiled.decode_message):
        try:
            results.append(decode(op, op.output, env.body_children, env.header_children))
        except DecodeError as exc:
            results.append(f"DecodeError: {exc}")
    return results[0], results[1]


@pytest.mark.parametrize(
    "xml",
    [
        _reply(_order()),
        _reply(_order() + _order(q="7")),
        _reply(_order(note='<o:note xsi:nil="true"/>')),
        _reply(_order(q="x")),  # not an integer
        _reply(_order(q="0")),  # positiveInteger out of range
        _reply(_order(price="Infinity")),  # no XSD decimal, no JSON number
        _reply(_order(extra="<o:surprise/>")),  # undeclared element
        _reply(_order(note='<o:note xsi:nil="true"/>', extra='<o:orderId xsi:nil="true"/>')),  # nil, not nillable
        _reply(_order(extra="<o:orderDate>2024-01-03</o:orderDate>")),  # a single element twice
        _reply(_order(first="<o:note>early</o:note>", note="")),  # out of schema order
        _reply(_order(extra='<o:status xmlns:o="urn:other">SHIPPED</o:status>')),  # qualification is not trusted
    ],
    ids=["plain", "two", "nil", "bad-int", "range", "infinity", "unexpected", "nil-not-nillable", "twice", "order", "other-ns"],
)
@pytest.mark.usefixtures("inner_loop")
def test_same_answer_and_errors(xml: bytes) -> None:
    generic, compiled = _both(xml)
    assert compiled == generic
    if isinstance(generic, dict):
        assert list(generic["order"][0]) == list(compiled["order"][0])  # type: ignore[index]


def test_infinity_is_a_decode_error_not_a_crash() -> None:
    generic, _ = _both(_reply(_order(price="Infinity")))
    assert isinstance(generic, str) and "'Infinity' is not a valid xsd:decimal" in generic
    b = bridge.load(sample("orders.wsdl"))
    with pytest.raises(UpstreamError, match="does not match the WSDL"):
        b.decode_response("ListOrders", _reply(_order(price="Infinity")))


@pytest.mark.parametrize(("depth", "limit", "ok"), [(5, 5, True), (6, 5, False), (256, 256, True), (257, 256, False), (300, 1000, False)])
def test_depth_limit(depth: int, limit: int, ok: bool) -> None:
    xml = b"<a>" * depth + b"</a>" * depth
    if ok:
        assert etree.QName(parse_untrusted(xml, max_bytes=10**6, max_depth=limit)).localname == "a"
    else:
        with pytest.raises(XmlError, match="nested deeper than the limit of"):
            parse_untrusted(xml, max_bytes=10**6, max_depth=limit)


def test_parser_depth_limit_is_known() -> None:
    assert PARSER_DEPTH_LIMIT == 256  # libxml2 without huge_tree: the walk is skipped for the default limit


# Lexical forms the C loop converts itself, and ones it hands to the Python converters.
LEXICAL = {
    "int-plus": _order(q="+007"),
    "int-spaces": _order(q=" \n5\t"),
    "int-unicode-digits": _order(q="\u0665"),
    "int-underscore": _order(q="1_0"),
    "int-huge": _order(q="9" * 40),
    "dec-point-end": _order(price="5."),
    "dec-point-start": _order(price=".5"),
    "dec-minus-zero": _order(price="-0"),
    "dec-plus": _order(price="+12.250"),
    "dec-exponent": _order(price="1e3"),
    "dec-spaces": _order(price=" 9.5 "),
    "dec-nan": _order(price="NaN"),
    "dec-empty": _order(price=""),
    "dec-sign-only": _order(price="-"),
    "text-cdata": _order(note="<o:note>a<![CDATA[<b>]]>c</o:note>"),
    "text-comment": _order(note="<o:note>a<!-- gone -->b</o:note>"),
    "text-entities": _order(note="<o:note>&lt;&amp;&#65;&#x10348;</o:note>"),
    "text-empty": _order(note="<o:note/>"),
    "text-nested": _order(note="<o:note>a<o:x/>b</o:note>"),
    "attr-entities": _order().replace('sku="A1"', 'sku="&quot;A&amp;1&#10;"'),
    "attr-unsigned-short": _order().replace('lineNo="1"', 'lineNo="70000"'),
    "attr-qualified": _order().replace('sku="A1"', 'o:sku="A1"'),
    "nil-one": _order(note='<o:note xsi:nil="1"/>'),
    "nil-false": _order(note='<o:note xsi:nil="false">x</o:note>'),
    "utf8": _order(note="<o:note>Größe 東京 \U0001f600</o:note>"),
    "collapse-plain": _order(),
    "collapse-spaces": _order().replace("<o:orderDate>2024-01-02<", "<o:orderDate> 2024-01-02\n<"),
    "collapse-nbsp": _order().replace("<o:orderDate>2024-01-02<", "<o:orderDate>2024-01-02\u00a0<"),
}


# Forms valid for the schema that the compiled path decodes without falling back.
NO_FALLBACK = {"int-plus", "int-spaces", "dec-point-end", "dec-point-start", "dec-minus-zero", "dec-plus", "dec-spaces"}
NO_FALLBACK |= {"text-cdata", "text-comment", "text-entities", "text-empty", "attr-entities", "nil-one", "nil-false", "utf8"}
NO_FALLBACK |= {"collapse-plain", "collapse-spaces"}


@pytest.mark.parametrize("name", list(LEXICAL))
@pytest.mark.usefixtures("inner_loop")
def test_lexical_forms(name: str) -> None:
    xml = _reply(LEXICAL[name])
    generic, compiled_ = _both(xml)
    assert compiled_ == generic
    # Without its fallback the compiled path either gives that same answer or gives up.
    b = bridge.load(sample("orders.wsdl"), reply_validation="off")
    op = b.operation("ListOrders")
    assert op.output is not None
    env = parse(xml, max_bytes=10**6, max_depth=256)
    try:
        fast = b.compiled._decode_message(op, op.output, env.body_children, env.header_children)
    except Exception:
        assert name not in NO_FALLBACK
    else:
        assert fast == generic and list(fast["order"][0]) == list(generic["order"][0])  # type: ignore[index]


def test_plain_replies_take_the_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    b = bridge.load(sample("orders.wsdl"))
    op = b.operation("ListOrders")

    def refuse(*args: object) -> None:
        raise AssertionError("fell back to the generic codec")

    monkeypatch.setattr(b.codec, "decode_message", refuse)
    data = b.decode_response(op, _reply(_order(note='<o:note xsi:nil="true"/>') + _order(q="3")))
    assert [o["line"][0]["quantity"] for o in data["order"]] == [2, 3]


def _inspect(capsys: pytest.CaptureFixture[str], wsdl: Path) -> dict[str, Any]:
    from bridge.cli import main

    assert main(["inspect", "--json", str(wsdl)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("wsdl", _loadable(), ids=lambda p: p.name)
def test_inspect_reports_the_codec_and_means_it(wsdl: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operation is converted by soapbridge's codec (none by zeep); an operation reported as
    "compiled" decodes its replies without touching the generic codec."""
    report = _inspect(capsys, wsdl)
    b = bridge.load(wsdl)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the generic codec was used")

    for entry in report["operations"]:
        codec = entry["codec"]
        assert codec["engine"] == "soapbridge" and codec["zeep_fallback"] is False
        assert (codec["decode"] == "compiled") == (codec["generic_for"] == [])
        assert (codec["encode"] == "compiled") == (codec["encode_generic_for"] == [])
        op = b.operation(entry["key"])
        if codec["encode"] == "compiled" and op.input is not None:
            monkeypatch.setattr(b.codec, "encode_message", refuse)
            for seed in range(3):
                data = to_json_ready(message_example(op, op.input, seed))
                assert b.encode_request(op, data) == build(op.soap_version, *Codec(b.model).encode_message(op, op.input, data))
            monkeypatch.undo()
        if codec["decode"] != "compiled" or op.output is None:
            continue
        for name in ("decode_message", "decode_node", "decode_value", "decode_element"):
            monkeypatch.setattr(b.codec, name, refuse)
        for seed in range(3):
            data = to_json_ready(message_example(op, op.output, seed))
            headers, body = Codec(b.model).encode_message(op, op.output, data, response=True)
            assert b.decode_response(op, build(op.soap_version, headers, body)) == data
        monkeypatch.undo()


def test_inspect_names_what_the_generic_codec_handles(capsys: pytest.CaptureFixture[str]) -> None:
    report = _inspect(capsys, Path(__file__).parent / "conformance" / "wsdl" / "xsd_any.wsdl")
    assert "xs:any" in report["operations"][0]["codec"]["generic_for"]
    report = _inspect(capsys, sample("calculator.wsdl"))
    assert {e["codec"]["decode"] for e in report["operations"]} == {"compiled"}
    assert {e["codec"]["encode"] for e in report["operations"]} == {"compiled"}
    report = _inspect(capsys, Path(__file__).parent / "conformance" / "wsdl" / "wsdl_rpc_literal.wsdl")
    assert all("rpc style" in e["codec"]["encode_generic_for"] for e in report["operations"])


# --- the C fast path, visible (issue 13 §3) ------------------------------------------------------


def test_each_fallback_is_logged_at_debug_without_the_data(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="soapbridge.compiled"):
        generic, compiled_ = _both(_reply(_order()))
        assert isinstance(compiled_, dict) and compiled_ == generic
        assert not [r for r in caplog.records if r.name == "soapbridge.compiled"]  # the fast path took it
        _both(_reply(_order(q="x12345")))  # not an integer: the generic codec gives the error
    records = [r.getMessage() for r in caplog.records if r.name == "soapbridge.compiled"]
    assert len(records) == 1 and records[0].startswith("compiled codec: decoding ListOrders falls back to the generic codec ("), records
    assert "x12345" not in records[0]


def _run_cli(*argv: str, no_extensions: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != compiled.NO_EXTENSIONS_ENV}
    if no_extensions:
        env[compiled.NO_EXTENSIONS_ENV] = "1"
    return subprocess.run([sys.executable, "-m", "bridge", *argv], env=env, capture_output=True, text=True, check=True).stdout


def test_version_and_inspect_say_whether_the_c_loops_run() -> None:
    if compiled._ccodec is None:
        pytest.skip("bridge._ccodec is not built (test_c_loop_is_built says so)")
    assert _run_cli("--version", no_extensions=False).splitlines()[1] == "C loops: yes"
    assert _run_cli("--version", no_extensions=True).splitlines()[1] == "C loops: no (SOAPBRIDGE_NO_EXTENSIONS is set)"
    assert _run_cli("inspect", str(sample("orders.wsdl")), no_extensions=True).splitlines()[-1] == "C loops: no (SOAPBRIDGE_NO_EXTENSIONS is set)"
    assert json.loads(_run_cli("inspect", "--json", str(sample("orders.wsdl")), no_extensions=False))["c_loops"] is True


def test_no_extensions_forces_the_python_loops_with_the_same_answer() -> None:
    xml = _reply(_order() + _order(q="7"))
    expected, _ = _both(xml)
    script = (
        "import json, sys, bridge\n"
        "from bridge import compiled\n"
        "from bridge.envelope import parse\n"
        "assert compiled._ccodec is None\n"
        f"b = bridge.load({str(sample('orders.wsdl'))!r}, reply_validation='off')\n"
        "op = b.operation('ListOrders')\n"
        "env = parse(sys.stdin.buffer.read(), max_bytes=10**6, max_depth=256)\n"
        "print(json.dumps(b.compiled.decode_message(op, op.output, env.body_children, env.header_children), default=str))\n"
    )
    env = dict(os.environ, **{compiled.NO_EXTENSIONS_ENV: "1"})
    r = subprocess.run([sys.executable, "-c", script], input=xml, env=env, capture_output=True, check=True)
    assert json.loads(r.stdout) == json.loads(json.dumps(expected, default=str))
