"""The /docs page in a real browser (headless Chromium, from Debian's packages, installed by
.ci/install-peers): Swagger UI renders every operation, and with authentication configured it shows
its Authorize control, so a user can paste a key or token (issue 15). The DOM is what Chromium built
after running Swagger UI's scripts; the spec alone cannot show that the page works."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from bridge import load
from tests.conftest import ServerThread, sample

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dom(url: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("chromium is missing: .ci/install-peers installs it")
        pytest.skip("chromium is not installed (run .ci/install-peers)")
    # --virtual-time-budget: Chromium runs the page's scripts until it is idle (up to 15 s of virtual
    # time) before dumping the DOM; no wall-clock wait in the test
    r = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def _docs(**settings: Any) -> str:
    b = load(sample("calculator.wsdl"), endpoint="http://127.0.0.1:9/", **settings)
    with ServerThread(b.asgi()) as server:
        return _dom(server.url + "/docs")


def _operations(dom: str) -> set[str]:
    return set(re.findall(r'data-path="([^"]+)"', dom))


def test_docs_page_renders_every_operation_and_no_authorize_without_auth() -> None:
    dom = _docs(auth={"enabled": False})
    assert _operations(dom) == {"/CalculatorService/Add", "/CalculatorService/Divide", "/CalculatorService/Echo"}
    assert "btn authorize" not in dom


def test_docs_page_offers_authorize_when_auth_is_on() -> None:
    key = hashlib.sha256(b"a key").hexdigest()
    dom = _docs(auth={"api_keys": [{"consumer": "c", "sha256": key}]})
    assert re.search(r'<button[^>]*class="btn authorize[^"]*"', dom), "no Authorize button on /docs"
    assert _operations(dom) == {"/CalculatorService/Add", "/CalculatorService/Divide", "/CalculatorService/Echo"}
    assert key not in dom  # the hash is config, never page content


def test_gateway_docs_page_selects_the_combined_spec_or_one_service(tmp_path: Any) -> None:
    """The gateway's /docs (Swagger UI's standalone layout): a selector with the combined spec first
    and each service's own, and the combined spec's operations of every service rendered."""
    from bridge import load_gateway

    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(
        f"auth: {{enabled: false}}\nservices:\n  erp:\n    wsdl: {sample('orders.wsdl')}\n    backend: http://127.0.0.1:9/soap\n"
        f"  carrier:\n    wsdl: {sample('calculator.wsdl')}\n    backend: http://127.0.0.1:9/soap\n"
    )
    with ServerThread(load_gateway(cfg, cache_dir=None).asgi()) as server:
        dom = _dom(server.url + "/docs")
    select = re.search(r'<select id="select">(.*?)</select>', dom, re.S)
    assert select, "no spec selector on the gateway's /docs"
    assert re.findall(r'<option value="([^"]+)">([^<]+)</option>', select.group(1)) == [
        ("/openapi.json", "all services"), ("/erp/openapi.json", "erp"), ("/carrier/openapi.json", "carrier"),
    ]  # fmt: skip
    assert {"/erp/OrderService/GetOrder", "/carrier/CalculatorService/Add"} <= _operations(dom)
