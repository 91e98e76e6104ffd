"""Fuzz the compiled codec (bridge/compiled.py and its C loops, bridge/_ccodec.pyx) with Atheris.

  python -m bench.fuzz_codec -max_total_time=120          # any libFuzzer flag may follow

Every operation of every sample in wsdl/ is a target, three ways: decoding a reply
(``Bridge.decode_response``: parse, compiled decode, reply validation), decoding a request envelope
(``CompiledCodec.decode_message`` on the input message) and encoding a request
(``Bridge.encode_request`` on JSON: validation, then the compiled encoder). The first two bytes of
an input pick the target; the rest is the envelope or the JSON. The seed corpus is built from the
recorded exchanges in contracts/ and from mock replies for a few seeds.

Outcomes that are not findings: the documented errors (``UpstreamError``/``SoapFault`` for a reply,
``XmlError``/``DecodeError`` for a request envelope, ``ValidationError`` for JSON, and JSON that does
not parse). A finding is anything else: a crash, any other exception, a hang (libFuzzer's
``-timeout``), or an encoded envelope that is not well-formed XML. libFuzzer writes the input that
found it to ``-artifact_prefix`` (default ``.fuzz/``; the corpus is kept in ``.fuzz/corpus``); replay it with ``python -m bench.fuzz_codec FILE``.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import atheris
import yaml

with atheris.instrument_imports(include=["bridge"]):
    import bridge
    from bridge.codec import DecodeError
    from bridge.envelope import build, parse
    from bridge.errors import SoapFault, UpstreamError, ValidationError, XmlError
    from bridge.openapi import message_example

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 1 << 20
MAX_DEPTH = 256
MODES = ("reply", "request", "encode")


def _targets() -> list[tuple[Any, Any, str]]:
    out = []
    for wsdl in sorted((ROOT / "wsdl").glob("*.wsdl")):
        b = bridge.load(wsdl, endpoint="http://fuzz.invalid/", cache_dir=None)
        for op in b.model.operations:
            for mode in MODES:
                out.append((b, op, mode))
    return out


TARGETS = _targets()
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _index(b: Any, op: Any, mode: str) -> int:
    return next(i for i, (tb, top, tm) in enumerate(TARGETS) if tb is b and top is op and tm == mode)


def seeds() -> list[bytes]:
    """Inputs from the recordings in contracts/ and mock replies (seeds 0-3), with their target prefix."""
    by_wsdl = {Path(b.model.location).name: b for b, _, _ in TARGETS}
    out = []
    for f in sorted((ROOT / "contracts").glob("*/*.yaml")):
        rec = yaml.safe_load(f.read_text())
        b = by_wsdl.get(rec["wsdl"])
        if b is None:
            continue
        op = b.operation(f"{rec['service']}.{rec['port']}.{rec['operation']}")
        for x in rec["exchanges"]:
            out.append(_index(b, op, "request").to_bytes(2, "big") + x["soap_request"]["envelope"].encode())
            out.append(_index(b, op, "reply").to_bytes(2, "big") + x["soap_reply"]["envelope"].encode())
            out.append(_index(b, op, "encode").to_bytes(2, "big") + json.dumps(x["rest_request"]["body"]).encode())
    for b, op, mode in TARGETS:
        if mode != "reply" or op.output is None:
            continue
        for seed in range(4):
            headers, body = b.codec.encode_message(op, op.output, message_example(op, op.output, seed), response=True)
            out.append(_index(b, op, mode).to_bytes(2, "big") + build(op.soap_version, headers, body))
    return out


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    b, op, mode = TARGETS[int.from_bytes(data[:2], "big") % len(TARGETS)]
    payload = data[2:]
    if mode == "reply":
        with contextlib.suppress(UpstreamError, SoapFault):
            b.decode_response(op, payload)
    elif mode == "request":
        with contextlib.suppress(XmlError, DecodeError):
            env = parse(payload, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH, what="the SOAP request")
            b.compiled.decode_message(op, op.input, env.body_children, env.header_children)
    else:
        try:
            value = json.loads(payload, parse_float=Decimal)  # as the REST app reads a body
        except (ValueError, UnicodeDecodeError, RecursionError, ArithmeticError):
            return  # not JSON, or too deep or too large a number for it: the REST app answers 400
        try:
            envelope = b.encode_request(op, value)
        except ValidationError:
            return
        etree.fromstring(envelope, _XML)  # what we wrote must be well-formed XML


def main() -> None:
    args = sys.argv[:]
    replay = [a for a in args[1:] if not a.startswith("-")]
    if not replay:
        # a kept corpus: each run starts from what the previous ones found
        corpus = ROOT / ".fuzz" / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for i, s in enumerate(seeds()):
            (corpus / f"seed-{i:04d}").write_bytes(s)
        defaults = ["-timeout=10", "-rss_limit_mb=2048", f"-artifact_prefix={ROOT / '.fuzz'}/", "-print_final_stats=1", f"-dict={ROOT / 'bench' / 'fuzz_codec.dict'}"]
        given = {a.split("=", 1)[0] for a in args[1:]}
        args += [d for d in defaults if d.split("=", 1)[0] not in given] + [str(corpus)]
        print(f"fuzz: {len(TARGETS)} targets, {len(list(corpus.iterdir()))} seeds in {corpus}", file=sys.stderr)
    random.seed(0)
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
