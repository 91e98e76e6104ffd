"""The acceptance corpus: 42 real-world WSDLs read in place from ../shared/wsdl-corpus.

For every case: load offline, generate a valid OpenAPI 3.1 document, run schemathesis positive
and negative data against the bridge with the mock behind it (every operation of small WSDLs, a
seeded sample of 25 of large ones), and check the round-trip property on each operation run.
Cases that cannot work are listed in BROKEN with the reason the WsdlError must give.
"""

from __future__ import annotations

import csv
import functools
import gc
import json
import os
import random
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from lxml import etree
from openapi_spec_validator import validate

import bridge
from bridge.codec import to_json_ready
from bridge.contract import GENERATOR_LIMITS, run_fallback
from bridge.envelope import build, parse
from bridge.examples import message_example
from bridge.jsonschema import exact_decimals
from bridge.mock import MockService
from bridge.model import Operation
from tests.conftest import SHARED
from tests.test_contract import CHECKS

CORPUS = SHARED / "wsdl-corpus"
if not (CORPUS / "MANIFEST.tsv").exists():
    pytest.skip(f"the corpus is not at {CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.corpus

ROWS = {r["case"]: r for r in csv.DictReader((CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t")}
CASES = sorted(ROWS)
# Genuinely broken inputs, and the reason the WsdlError must state.
BROKEN = {
    "bullhorn-staffing": "wsdl:types defines no schema",
    "wsdltophp-portaplusapi": "no schema in it defines them",
    "wsdltophp-QueueService": "only HTTP GET/POST bindings",
}
WORKING = [c for c in CASES if c not in BROKEN]
SAMPLE = 25
SEED = int(os.environ.get("SOAPBRIDGE_CORPUS_SEED", "0"))
MAX_EXAMPLES = int(os.environ.get("SOAPBRIDGE_CORPUS_EXAMPLES", "4"))


def entry(case: str) -> Path:
    return CORPUS / ROWS[case]["entry"]


@functools.lru_cache(maxsize=4)  # the big models take hundreds of MB each
def mock_for(case: str) -> MockService:
    return MockService(bridge.load(entry(case)).model, seed=SEED)


@functools.lru_cache(maxsize=4)  # the big models take hundreds of MB each
def bridge_for(case: str) -> bridge.Bridge:
    transport = httpx.ASGITransport(app=mock_for(case).asgi())  # type: ignore[arg-type]
    return bridge.load(entry(case), endpoint="http://mock.invalid/soap", transport=transport)


def sampled(b: bridge.Bridge) -> list[Operation]:
    """Every routed operation of a small WSDL; a seeded sample of SAMPLE of a large one."""
    ops = sorted(b.routed, key=lambda o: o.operation_id)
    if len(ops) <= SAMPLE + 5:
        return ops
    return sorted(random.Random(SEED).sample(ops, SAMPLE), key=lambda o: o.operation_id)


@pytest.mark.parametrize("case", CASES)
def test_loads_offline_or_fails_clearly(case: str) -> None:
    if case in BROKEN:
        with pytest.raises(bridge.WsdlError, match=BROKEN[case]):
            bridge.load(entry(case))
        return
    b = bridge.load(entry(case))  # allow_network is off: any internet fetch would fail the load
    assert b.routed
    missing = [s for s in b.model.skipped if "network loading is off" in s.reason]
    assert not missing, f"well-known schemas missing from the catalogue: {missing}"


# The spec (compact JSON) may be at most this many times the size of the WSDL and schemas it comes
# from; with polymorphism inlined at every use site, chromedata's was 8.9 times.
SIZE_BUDGET = 4


@pytest.mark.parametrize("case", WORKING)
def test_spec_is_valid_openapi_31(case: str) -> None:
    spec = bridge_for(case).openapi()
    validate(spec)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == len(bridge_for(case).routed)
    source = sum(f.stat().st_size for f in (CORPUS / case).rglob("*") if f.is_file() and f.suffix.lower() in (".wsdl", ".xsd", ".xml"))
    size = len(json.dumps(spec, separators=(",", ":")))
    assert size <= SIZE_BUDGET * source, f"the spec is {size / source:.1f} times its {source} bytes of WSDL and schemas"


def test_netsuite_search_is_checked_without_compiling_its_expansion() -> None:
    """netsuite's search request expands to 20 million schema nodes (3.5 GB as a jsonschema_rs
    validator): the bridge checks it with python-jsonschema, and still says where a request breaks."""
    from bridge.validators import LazyValidator

    b = bridge.load(entry("netsuite"))
    op = b.operation("search")
    with pytest.raises(bridge.ValidationError) as info:
        b.validate_input(op, {"searchRecord": {"$type": "NoSuchSearch"}})
    assert "/searchRecord" in [v.pointer for v in info.value.violations]
    assert isinstance(b._validators[f"{id(op)}:Request"], LazyValidator)


def _value(text: str) -> str:
    """Numbers compare by value: 488.90 and 488.9 are one xsd:decimal, and JSON keeps no trailing zero."""
    try:
        return str(Decimal(text).normalize()) if _NUMBER.fullmatch(text) else text
    except InvalidOperation:
        return text


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def _canonical(node: etree._Element) -> object:
    attrs = tuple(sorted((k, _value(v)) for k, v in node.attrib.items() if not k.endswith("}type")))
    text = _value((node.text or "").strip())
    return (node.tag, attrs, text, tuple(_canonical(c) for c in node if isinstance(c.tag, str)))


@pytest.mark.parametrize("case", WORKING)
def test_round_trip_property(case: str) -> None:
    """JSON -> encode_request -> the mock parses and validates it -> the mock's reply ->
    decode_response -> validates against the response schema; and XML -> JSON -> XML."""
    b = bridge_for(case)
    mock = mock_for(case)
    for op in sampled(b):
        data = to_json_ready(message_example(op, op.input, SEED))
        request = b.encode_request(op, data)
        status, reply, _ = mock.handle(request, "application/soap+xml" if op.soap_version == "1.2" else "text/xml", op.soap_action, None)
        assert status in (200, 202), f"{op.key}: the mock rejected our request: {reply[:500]!r}"
        if op.output is None:
            continue
        decoded = b.decode_response(op, reply)  # reply_validation=strict: checks the response schema
        env = parse(reply, max_bytes=1 << 26, max_depth=512)
        _, body = b.codec.encode_message(op, op.output, decoded, response=True)
        assert [_canonical(e) for e in body] == [_canonical(e) for e in env.body_children], op.key
        # and the request side: XML -> JSON -> XML
        req_env = parse(request, max_bytes=1 << 26, max_depth=512)
        again = b.codec.decode_message(op, op.input, req_env.body_children, req_env.header_children)
        headers2, body2 = b.codec.encode_message(op, op.input, again)
        assert _canonical(etree.fromstring(build(op.soap_version, headers2, body2))) == _canonical(etree.fromstring(request)), op.key


def _run_operation(operation: object, mode: schemathesis.GenerationMode, app: object) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS, app=app)

    check()


# Open work on issue #3: schemathesis still finds failures on these cases. strict=True makes a
# fixed case fail here until it is removed from this list.
CONTRACT_OPEN: dict[str, str] = {}

# Operations and modes schemathesis itself cannot generate data for, with the reason: the bridge's
# own examples run instead (as `soapbridge contract` does) and must pass the same checks. The test
# asserts exactly these fell back, so a schemathesis that learns to model them fails loudly here.
BRIDGE_GENERATED: dict[str, dict[tuple[str, str], str]] = {
    "netsuite": {
        ("NetSuiteService_search", "positive"): "searchRecord is the abstract SearchRecord: an anyOf of its 301 concrete "
        "derived types. schemathesis 4.32's canonicaliser models up to about 260 branches and gives up beyond",
    },
}


# Operations and modes schemathesis can generate, but too slowly for the suite's budget: the bridge's
# own examples run instead, through the same checks (`soapbridge contract` itself still uses schemathesis).
BRIDGE_GENERATED_FOR_TIME: dict[str, dict[tuple[str, str], str]] = {
    "netsuite": {
        ("NetSuiteService_search", "negative"): "schemathesis took 455 s for 4 negative examples on 2 cores "
        "(it canonicalises the 301-branch anyOf of SearchRecord), past the per-test timeout",
    },
}


# Seen once in CI, not in local runs: schemathesis' negative generation gave up on one schema
# ("Cannot generate an array with 1 demanded elements"). Such a run now falls back to the bridge's
# examples like any generator limit, so it needs no xfail.
CONTRACT_FLAKY: dict[str, str] = {}


class _TooSlow(Exception):
    """schemathesis could generate this operation's data, but not within the suite's budget."""


def _contract_params() -> list[object]:
    params: list[object] = []
    for c in WORKING:
        if c in CONTRACT_OPEN:
            params.append(pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=CONTRACT_OPEN[c])))
        elif c in CONTRACT_FLAKY:
            params.append(pytest.param(c, marks=pytest.mark.xfail(strict=False, reason=CONTRACT_FLAKY[c])))
        else:
            params.append(c)
    return params


@pytest.mark.slow
@pytest.mark.timeout(900)  # a guard against hangs: ms-ews took 105 s alone, over 300 s on a busy machine
@pytest.mark.parametrize("case", _contract_params())
def test_contract(case: str) -> None:
    """schemathesis positive and negative data on every sampled operation, with the mock behind."""
    b = bridge_for(case)
    spec = exact_decimals(b.openapi())
    app = b.asgi()
    wanted = {op.operation_id for op in sampled(b)}
    model_ops = {op.operation_id: op for op in b.routed}
    failures: list[str] = []
    fell_back: set[tuple[str, str]] = set()
    ran = 0
    # A schema per operation: schemathesis keeps each operation's compiled response validator for
    # the life of its schema, and netsuite's largest take 1.9 GB each (jsonschema_rs compiles a $ref
    # at every use: getAsyncResult's reply schema expands to 9.1 million nodes)
    for op_id in sorted(wanted):
        operation = schemathesis.openapi.from_dict(spec).find_operation_by_id(op_id)
        ran += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            slow = BRIDGE_GENERATED_FOR_TIME.get(case, {}).get((op_id, mode.value))
            try:
                if slow is not None:
                    raise _TooSlow(slow)
                _run_operation(operation, mode, app)
            except (*GENERATOR_LIMITS, _TooSlow) as exc:  # schemathesis cannot generate: the bridge's examples, same checks
                fell_back.add((op_id, mode.value))
                outcome = run_fallback(operation, model_ops[op_id], mode, lambda c: (c.call(app=app), {"app": app}), MAX_EXAMPLES, SEED, str(exc))
                assert outcome.generator == "bridge" and outcome.examples > 0
                if not outcome.ok:
                    failures.append(f"{operation.label} [{mode.value}, bridge examples]: {outcome.error or outcome.failure}")
            except Exception as exc:  # collect every operation's failures, then report them all
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
        del operation
        gc.collect()  # the schema and its operations reference each other: only the collector frees them
    assert ran == len(wanted)
    assert not failures, "\n\n".join(failures)
    # The listed ones must still need the fallback; another (a sometimes-failing strategy) may use it too.
    expected = set(BRIDGE_GENERATED.get(case, {})) | set(BRIDGE_GENERATED_FOR_TIME.get(case, {}))
    assert expected <= fell_back, f"schemathesis now generates {sorted(expected - fell_back)}: remove them from BRIDGE_GENERATED"


# `soapbridge contract` itself, from the command line, on a spread of small corpus cases (doc/literal,
# rpc/literal, rpc/encoded, faults, headers): the JUnit report names every sampled operation and mode.
CLI_CASES = ["eu-vies", "afip-wsaa-logincms", "evacsync", "noaa-ndfd", "imageviewservice", "gowsdl-mnb-exchange"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CLI_CASES)
def test_contract_command_with_junit(case: str, tmp_path: Path) -> None:
    from bridge.cli import main

    junit = tmp_path / "junit.xml"
    code = main(["contract", str(entry(case)), "--sample", "5", "--max-examples", "3", "--report", f"junit:{junit}"])
    assert code == 0
    suite = etree.parse(str(junit)).getroot()[0]
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names and len(names) == 2 * min(5, len(bridge.load(entry(case)).routed))
    assert not list(suite.iter("failure")) and not list(suite.iter("error"))
