"""The async SOAP client: one keep-alive connection per request in flight, bounded by max_connections."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.client import SoapClient
from bridge.settings import make_settings
from tests.conftest import ServerThread


def _slow_echo() -> Starlette:
    async def echo(request: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response(await request.body(), media_type="text/xml")

    return Starlette(routes=[Route("/", echo, methods=["POST"])])


def test_concurrent_posts_share_a_bounded_set_of_connections() -> None:
    with ServerThread(_slow_echo()) as server:
        client = SoapClient(make_settings(max_connections=3))

        async def main() -> list[bytes]:
            try:
                replies = await asyncio.gather(*(client.apost(server.url + "/", f"<m>{i}</m>".encode(), {}) for i in range(12)))
                assert len(client._open) == 3  # never more clients (connections) than allowed
                again = await client.apost(server.url + "/", b"<again/>", {})
                assert len(client._open) == 3  # and they are reused
                return [r.body for r in replies] + [again.body]
            finally:
                await client.aclose()

        bodies = asyncio.run(main())
    assert bodies == [f"<m>{i}</m>".encode() for i in range(12)] + [b"<again/>"]
