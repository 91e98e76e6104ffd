"""The async SOAP client: keep-alive connections, bounded by max_connections and reused."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.client import SoapClient
from bridge.settings import make_settings
from tests.conftest import ServerThread


def _slow_echo(peers: set[tuple[str, int]]) -> Starlette:
    async def echo(request: Request) -> Response:
        assert request.client is not None
        peers.add((request.client.host, request.client.port))  # one per TCP connection
        await asyncio.sleep(0.05)
        return Response(await request.body(), media_type="text/xml")

    return Starlette(routes=[Route("/", echo, methods=["POST"])])


def test_concurrent_posts_share_a_bounded_set_of_connections() -> None:
    peers: set[tuple[str, int]] = set()
    with ServerThread(_slow_echo(peers)) as server:
        client = SoapClient(make_settings(max_connections=3))

        async def main() -> list[bytes]:
            try:
                replies = await asyncio.gather(*(client.apost(server.url + "/", f"<m>{i}</m>".encode(), {}) for i in range(12)))
                assert len(peers) == 3  # never more connections than allowed
                again = await client.apost(server.url + "/", b"<again/>", {})
                assert len(peers) == 3  # and they are kept alive and reused
                return [r.body for r in replies] + [again.body]
            finally:
                await client.aclose()

        bodies = asyncio.run(main())
    assert bodies == [f"<m>{i}</m>".encode() for i in range(12)] + [b"<again/>"]


def test_backend_cookies_are_not_passed_between_callers() -> None:
    seen: list[str | None] = []

    async def handler(request: Request) -> Response:
        seen.append(request.headers.get("cookie"))
        r = Response(b"<ok/>", media_type="text/xml")
        r.set_cookie("session", "caller-1-secret")
        return r

    with ServerThread(Starlette(routes=[Route("/", handler, methods=["POST"])])) as server:
        client = SoapClient(make_settings())

        async def main() -> None:
            try:
                await client.apost(server.url + "/", b"<a/>", {})
                await client.apost(server.url + "/", b"<b/>", {})
            finally:
                await client.aclose()

        asyncio.run(main())
    assert seen == [None, None]


def test_the_served_app_closes_its_upstream_connections_on_shutdown(calculator_mock_server: ServerThread) -> None:
    import httpx

    import bridge
    from tests.conftest import sample

    b = bridge.load(sample("calculator.wsdl"), endpoint=calculator_mock_server.url + "/")
    with ServerThread(b.asgi()) as server:
        r = httpx.post(server.url + "/CalculatorService/Add", json={"a": 2, "b": 3})
        assert r.status_code == 200 and isinstance(r.json()["result"], int)  # the mock answers with generated data
        assert [s for s in b.client._sessions.values() if not s.closed]  # a pooled connection is open
    assert not b.client._sessions  # the lifespan closed it when the server stopped
