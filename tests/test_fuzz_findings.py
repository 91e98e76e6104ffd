"""Regressions for what `make soak`'s fuzzing (bench/fuzz_codec.py) found."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

import bridge
from bridge.app import PROBLEM
from tests.conftest import WSDL_DIR


@pytest.fixture(scope="module")
def calc() -> TestClient:
    b = bridge.load(WSDL_DIR / "calculator.wsdl", endpoint="http://127.0.0.1:9/", cache_dir=None)
    return TestClient(b.asgi(), raise_server_exceptions=False)


@pytest.mark.parametrize("number", ["1e9999999999999999999999", "-9.5E+99999999999999999999", "1e-9999999999999999999999"])
def test_number_beyond_decimal_range_is_a_400_problem(calc: TestClient, number: str) -> None:
    # valid JSON (RFC 8259 bounds no exponent) that Decimal cannot hold: it raised decimal.InvalidOperation, a 500
    body = f'{{"dividend": {number}, "divisor": 1}}'.encode()
    r = calc.post("/CalculatorService/Divide", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["type"] == "urn:soapbridge:problem:malformed-json"
    assert "exponent" in problem["detail"]
