"""Contract tests: schemathesis against the REST app, with the generated mock behind it.

Every operation of every sample WSDL, positive and negative data, and the checks the issue
names. The mock validates every envelope the bridge sends, so a positive case that passes
here also proves the bridge wrote schema-valid SOAP.
"""

from __future__ import annotations

import pytest
import schemathesis

from bridge.contract import CHECKS
from bridge.jsonschema import exact_decimals  # the corpus suite imports it from here too
from tests.conftest import SAMPLES, mocked_bridge

MAX_EXAMPLES = 40


def _schema(wsdl_name: str) -> schemathesis.schemas.BaseSchema:
    wsdl = next(p for p in SAMPLES if p.name == wsdl_name)
    bridge = mocked_bridge(wsdl)
    # the served spec, with fractionDigits (annotated there) generated as the bridge checks it
    schema = schemathesis.openapi.from_dict(exact_decimals(bridge.openapi()))
    schema.app = bridge.asgi()
    schema.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES,
        deterministic=True,
    )
    return schema


calculator = _schema("calculator.wsdl")
orders = _schema("orders.wsdl")
rpc_literal = _schema("rpc-literal.wsdl")
interop = _schema("interop.wsdl")
files = _schema("files.wsdl")
claims = _schema("claims.wsdl")


@pytest.mark.slow
@calculator.parametrize()
def test_calculator_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@orders.parametrize()
def test_orders_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@rpc_literal.parametrize()
def test_rpc_literal_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@interop.parametrize()
def test_interop_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@files.parametrize()
def test_files_contract(case: schemathesis.Case) -> None:
    """Binary content: base64 in JSON and multipart/form-data requests, JSON and octet-stream replies."""
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@claims.parametrize()
def test_claims_contract(case: schemathesis.Case) -> None:
    """WS-I swaRef: base64 in JSON, sent and answered as SwA parts referred to by cid: URIs."""
    case.call_and_validate(checks=CHECKS)


def test_every_sample_is_covered() -> None:
    assert {p.name for p in SAMPLES} == {"calculator.wsdl", "interop.wsdl", "orders.wsdl", "rpc-literal.wsdl", "files.wsdl", "claims.wsdl"}
