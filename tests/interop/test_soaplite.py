"""The bridge in front of Perl's SOAP::Lite 1.27, an independent stack with two fault habits that
other stacks do not share:

- it answers a SOAP 1.2 request with a 1.2 envelope whose Fault has SOAP 1.1 children
  (``faultcode``, ``faultstring``, ``detail``), which the bridge must read rather than turn into
  an empty fault;
- a declared fault may come with a Server code, which the bridge answers with 502 and the typed
  detail: the spec must declare the typed fault under 502 too.

SOAP::Lite runs tests/interop/perl/calculator.pl as a CGI script, one process per request, with the
request the bridge sent: its own HTTP status, headers and envelope come back unchanged.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from tests.conftest import sample
from tests.interop.envelopes import RecordingTransport

pytestmark = pytest.mark.interop

SCRIPT = Path(__file__).parent / "perl" / "calculator.pl"
SOAP12_PORT = {"CalculatorService": "CalculatorSoap12"}


class CgiTransport(RecordingTransport):
    """Checks each request the bridge sends (as every interop transport does), then hands it to
    SOAP::Lite's CGI server and turns the CGI output back into an HTTP response."""

    def __init__(self, wsdl: Path, perl: str) -> None:
        super().__init__(wsdl)
        self.perl = perl

    def _cgi(self, request: httpx.Request, body: bytes) -> httpx.Response:
        env = {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": request.headers.get("content-type", ""),
            "HTTP_SOAPACTION": request.headers.get("soapaction", ""),
            "PATH": "/usr/bin:/bin",
        }
        done = subprocess.run([self.perl, str(SCRIPT)], input=body, env=env, capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        head, _, payload = done.stdout.partition(b"\r\n\r\n")  # CGI output: headers end with CRLF CRLF
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name.strip(), value.strip()))
        return httpx.Response(status, headers=headers, content=payload)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self._record(request, body)
        return self._cgi(request, body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self._record(request, body)
        return self._cgi(request, body)


@pytest.fixture(scope="module")
def calc12(soaplite: str) -> Iterator[TestClient]:
    wsdl = Path(sample("calculator.wsdl"))
    b = bridge_load(wsdl, soaplite, ports=SOAP12_PORT)
    with TestClient(b.asgi()) as c:
        yield c


def bridge_load(wsdl: Path, perl: str, **settings: Any) -> Any:
    import bridge

    return bridge.load(wsdl, endpoint="http://soaplite.invalid/calculator", transport=CgiTransport(wsdl, perl), **settings)


def _response_schema(c: TestClient, status: int) -> Any:
    spec = c.get("/openapi.json").json()
    schema = spec["paths"]["/CalculatorService/Divide"]["post"]["responses"][str(status)]["content"]["application/problem+json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})


def test_soap12_reply_with_soap11_fault_children_is_a_typed_client_fault(calc12: TestClient) -> None:
    r = calc12.post("/CalculatorService/Divide", json={"dividend": 10, "divisor": 0})
    assert r.status_code == 422, r.text
    p = r.json()
    assert p["faultcode"] == "{http://www.w3.org/2003/05/soap-envelope}Client"
    assert p["detail"] == "division by zero"
    assert p["fault"] == "DivisionByZero"
    assert p["detail_data"] == {"dividend": 10, "message": "cannot divide 10 by zero"}
    _response_schema(calc12, 422).validate(p)


def test_declared_fault_with_a_server_code_is_502_typed_and_in_the_spec(calc12: TestClient) -> None:
    r = calc12.post("/CalculatorService/Divide", json={"dividend": 0, "divisor": 0})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:soap-fault:server"
    assert p["faultcode"] == "{http://www.w3.org/2003/05/soap-envelope}Server"
    assert p["fault"] == "DivisionByZero"
    assert p["detail_data"] == {"dividend": 0, "message": "cannot divide 0 by zero"}
    validator = _response_schema(calc12, 502)
    validator.validate(p)
    # the 502 schema types the detail: a wrong one is refused
    assert not validator.is_valid({**p, "detail_data": {"dividend": "zero", "message": "m"}})


def test_undeclared_server_fault_keeps_its_code_and_reason(calc12: TestClient) -> None:
    r = calc12.post("/CalculatorService/Add", json={"a": 1, "b": 2})
    assert r.status_code == 502, r.text
    p = r.json()
    assert p["type"] == "urn:soapbridge:problem:soap-fault:server"
    assert p["faultcode"] == "{http://www.w3.org/2003/05/soap-envelope}Server"
    assert p["detail"] == "the adder is out of order"
    assert p["fault"] is None
