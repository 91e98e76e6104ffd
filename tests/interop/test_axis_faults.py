"""Declared faults as Apache Axis 1.4 sends them, with the WSDL Axis generates.

``NullService.fail`` (tests/interop/axis) throws the checked bean exception ``interop.InteropFault``
for a non-zero code and an undeclared ``IllegalStateException`` for a negative one. Axis declares the
fault part by type (``<part name="fault" type="impl:InteropFault"/>``) and sends the exception as a
``Server.userException`` fault whose detail entry is named after the Java class, carries the part's
type as ``xsi:type``, and is followed by the Java stack trace and the host name.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from tests.interop.envelopes import checked_load

pytestmark = pytest.mark.interop

SERVICE = "/axis/services/NullService"
ROUTE = "/NullServiceService/fail"


@pytest.fixture(scope="module")
def axis_wsdl(axis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WSDL Axis publishes for the service (generated from the Java class), saved to a file."""
    with urllib.request.urlopen(f"{axis_server}{SERVICE}?wsdl", timeout=30) as response:
        text = response.read()
    path = tmp_path_factory.mktemp("axis-faults-wsdl") / "NullService.wsdl"
    path.write_bytes(text)
    return path


def _client(axis_server: str, axis_wsdl: Path, **settings: Any) -> TestClient:
    return TestClient(checked_load(axis_wsdl, endpoint=f"{axis_server}{SERVICE}", **settings).asgi())


@pytest.fixture(scope="module")
def axis(axis_server: str, axis_wsdl: Path) -> Iterator[TestClient]:
    with _client(axis_server, axis_wsdl) as c:
        yield c


def test_axis_declares_the_fault_part_by_type(axis_wsdl: Path) -> None:
    text = axis_wsdl.read_text()
    assert '<wsdl:part name="fault" type="impl:InteropFault">' in text


def test_declared_exception_is_a_typed_502_without_stack_trace(axis: TestClient) -> None:
    r = axis.post(ROUTE, json={"code": 7})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:soap-fault:server"
    assert p["faultcode"] == "{http://schemas.xmlsoap.org/soap/envelope/}Server.userException"
    assert p["fault"] == "InteropFault"
    assert p["detail_data"] == {"code": 7, "reason": "failed with code 7"}
    # Axis's stack trace and host name never reach REST consumers
    assert "stackTrace" not in r.text and "NullService.java" not in r.text and "hostname" not in r.text
    spec = axis.get("/openapi.json").json()
    schema = spec["paths"][ROUTE]["post"]["responses"]["502"]["content"]["application/problem+json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})
    validator.validate(p)
    assert not validator.is_valid({**p, "detail_data": {"code": "seven", "reason": None}})


def test_undeclared_exception_drops_the_detail_by_default(axis: TestClient) -> None:
    r = axis.post(ROUTE, json={"code": -1})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["fault"] is None and p["detail_data"] is None
    assert p["detail"] == "java.lang.IllegalStateException: negative code -1"
    assert "NullService.java" not in r.text


def test_fault_detail_all_passes_the_undeclared_detail_on(axis_server: str, axis_wsdl: Path) -> None:
    with _client(axis_server, axis_wsdl, fault_detail="all") as c:
        r = c.post(ROUTE, json={"code": -1})
    assert r.status_code == 502, r.text
    detail = r.json()["detail_data"]
    assert "NullService.fail(NullService.java" in detail["stackTrace"]["#text"]
    assert set(detail) == {"stackTrace", "hostname"}


def test_no_fault_is_a_plain_reply(axis: TestClient) -> None:
    r = axis.post(ROUTE, json={"code": 0})
    assert r.status_code == 200, r.text
    assert r.json() == {"failReturn": "ok"}
