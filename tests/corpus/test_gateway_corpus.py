"""The acceptance check of issue 16's gateway: one process serves every working corpus WSDL, and one
operation of each answers through the gateway from the generated mock of its own WSDL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bench.gateway_start import write_config
from bridge import load_gateway
from bridge.mock import MockService
from tests.conftest import ServerThread
from tests.corpus.test_corpus import SEED, WORKING, entry
from tests.test_observability import captured, scrape

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


class _Mocks:
    """One mock SOAP service per case, under /<case>/ on one server; filled in once the models are loaded."""

    def __init__(self) -> None:
        self.apps: dict[str, Any] = {}
        self.calls: dict[str, int] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        case = scope["path"].split("/")[1]
        self.calls[case] = self.calls.get(case, 0) + 1
        await self.apps[case](scope, receive, send)


def _example(spec: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, path, example body) of the spec's operations that take a JSON body, in path order."""
    out = []
    for path, item in sorted(spec["paths"].items()):
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" in body and "{" not in path:
                out.append((method.upper(), path, body["example"]))
    return out


@pytest.mark.timeout(1800)  # 39 WSDLs loaded cold, and a first call each (its codec and validators built)
def test_one_gateway_serves_every_working_corpus_wsdl(tmp_path: Path) -> None:
    mocks = _Mocks()
    with ServerThread(mocks) as server:
        config = tmp_path / "gateway.yaml"
        names = write_config(config, backend=server.url)
        gw = load_gateway(config, cache_dir=str(tmp_path / "cache"), progress=False)
        assert sorted(gw.services) == sorted(names)
        for name, b in gw.services.items():
            mocks.apps[name] = MockService(b.model, seed=SEED).asgi()
        failed: dict[str, list[str]] = {}
        answered: dict[str, str] = {}  # service -> the operation that answered
        calls: dict[str, tuple[str, str, Any]] = {}  # service -> the call that answered
        with captured() as log, TestClient(gw.asgi()) as client:
            assert client.get("/readyz").status_code == 200
            for name, b in gw.services.items():
                print(name, flush=True)  # progress, with -s
                tried = []
                for method, path, body in _example(b.openapi())[:3]:  # one that answers, of the first three
                    r = client.request(method, path, json=body)
                    tried.append(f"{method} {path} -> {r.status_code} {r.text[:200]}")
                    if r.status_code in (200, 204):
                        answered[name] = next(o.name for o in b.routed if o.path == path and o.http_method == method)
                        calls[name] = (method, path, body)
                        assert r.headers["x-request-id"]
                        break
                else:
                    failed[name] = tried
            combined = client.get("/openapi.json").json()
            samples = scrape(client)
            # reload, as SIGHUP and --reload-on-change do: a bad edit keeps every service, a good one
            # without the first three services drops them and keeps the others answering
            app = client.app
            text = config.read_text()
            config.write_text(text + "  broken:\n    wsdl: 12\n")
            assert client.portal.call(app.reload) is False  # type: ignore[union-attr]
            dropped, kept = names[:3], [n for n in names[3:] if n in calls][:3]
            for name in dropped + kept:
                method, path, body = calls[name]
                assert client.request(method, path, json=body).status_code in (200, 204), name
            config.write_text("\n".join(line for line in text.splitlines() if not any(
                line.startswith(f"  {d}:") or line.startswith(f"    wsdl: {entry(d)}") or f"/{d}/soap" in line for d in dropped)) + "\n")  # fmt: skip
            assert client.portal.call(app.reload) is True  # type: ignore[union-attr]
            assert client.get("/readyz").status_code == 200
            for name in dropped:
                method, path, body = calls[name]
                assert client.request(method, path, json=body).status_code == 404, name
            for name in kept:
                method, path, body = calls[name]
                r = client.request(method, path, json=body)
                assert r.status_code in (200, 204), (name, r.text[:300])
            reloaded_tags = {t["name"] for t in client.get("/openapi.json").json()["tags"]}
            assert reloaded_tags == set(names) - set(dropped)
            said = [json.loads(line)["message"] for line in log.lines if "reload" in line]
            assert any(m.startswith("reload failed, still serving the previous config") and "broken" in m for m in said), said
            assert any(m.startswith(f"reloaded {config}: {len(names) - 3} service(s)") for m in said), said
        assert failed == {}
        # /metrics and the request log, read back: one 2xx answer per service under its configured name
        ok = {(dict(labels)["service"], dict(labels)["operation"]) for (metric, labels), v in samples.items()
              if metric == "soapbridge_requests_total" and dict(labels)["status"] in ("200", "204") and v >= 1}  # fmt: skip
        assert {(n, op) for n, op in answered.items()} <= ok
        logged = {(x["service"], x["status"]) for x in log.requests()}
        assert {n for n, status in logged if status in (200, 204)} == set(answered)
        # each backend got only its own service's requests: every request reached the mock of its case
        assert set(mocks.calls) <= set(names)
        # openapi-spec-validator takes tens of minutes on 2,610 operations (it validates each service's spec in
        # test_corpus, and the combined one of the samples in test_gateway): here, what combining may break
        ids = [op["operationId"] for item in combined["paths"].values() for op in item.values()]
        assert len(ids) == len(set(ids)) == sum(len(b.routed) for b in gw.services.values())
        refs = set(re.findall(r'"\$ref":"#/components/(\w+)/([^"]+)"', json.dumps(combined, separators=(",", ":"))))
        assert {(section, name) for section, name in refs if name not in combined["components"].get(section, {})} == set()
        assert {t["name"] for t in combined["tags"]} == set(names)
        assert len(WORKING) == len(names)
