"""``reply_validation`` against a service that breaks its own WSDL: Apache Axis 1.4 in its "wrapped"
(document/literal) style, with the WSDL Axis generates (tests/interop/axis/WrappedService.java).

Axis declares a ``String[]`` bean member as a type of ``item`` elements but sends ``<tags><tags>``,
and sends a null ``String`` return as ``xsi:nil`` on an element it declared without ``nillable``.
``strict`` refuses both replies (502); ``lax`` and ``off`` keep what fits and log where and why,
never the values.
"""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.interop.envelopes import checked_load

pytestmark = pytest.mark.interop

SERVICE = "/axis/services/WrappedService"


@pytest.fixture(scope="module")
def wrapped_wsdl(axis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with urllib.request.urlopen(f"{axis_server}{SERVICE}?wsdl", timeout=30) as response:
        text = response.read()
    path = tmp_path_factory.mktemp("axis-wrapped-wsdl") / "WrappedService.wsdl"
    path.write_bytes(text)
    return path


def _client(axis_server: str, wsdl: Path, mode: str) -> TestClient:
    return TestClient(checked_load(wsdl, endpoint=f"{axis_server}{SERVICE}", reply_validation=mode).asgi())


def test_the_wsdl_says_item_and_not_nillable(wrapped_wsdl: Path) -> None:
    text = wrapped_wsdl.read_text()
    assert '<element maxOccurs="unbounded" minOccurs="0" name="item" type="xsd:string"/>' in text
    assert '<element name="nothingReturn" type="xsd:string"/>' in text


def test_strict_refuses_both_replies(axis_server: str, wrapped_wsdl: Path) -> None:
    with _client(axis_server, wrapped_wsdl, "strict") as c:
        tagged = c.post("/WrappedServiceService/tagged", json={"name": "w"})
        nothing = c.post("/WrappedServiceService/nothing", json={"name": "w"})
    assert tagged.status_code == 502 and "unexpected element(s): tags" in tagged.json()["detail"]
    assert nothing.status_code == 502 and "nil but not nillable" in nothing.json()["detail"]


@pytest.mark.parametrize("mode", ["lax", "off"])
def test_lax_and_off_keep_what_fits(axis_server: str, wrapped_wsdl: Path, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="soapbridge"), _client(axis_server, wrapped_wsdl, mode) as c:
        tagged = c.post("/WrappedServiceService/tagged", json={"name": "wanda"})
        nothing = c.post("/WrappedServiceService/nothing", json={"name": "w"})
    assert tagged.status_code == 200, tagged.text
    # the undeclared <tags> children are left out: the array's declared content (item) is empty
    assert tagged.json() == {"taggedReturn": {"count": None, "name": "wanda", "tags": {}}}
    assert nothing.status_code == 200, nothing.text
    assert nothing.json() == {"nothingReturn": None}
    assert "/taggedReturn/tags: unexpected element(s) left out: tags" in caplog.text
    assert "/nothingReturn: nothingReturn is nil but not nillable: passed on as null" in caplog.text
    assert "red" not in caplog.text and "wanda" not in caplog.text  # paths and reasons, never values
