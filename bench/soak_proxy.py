"""A small HTTP proxy between the bridge and the mock for the soak test: it passes every SOAP request
on to the mock, and lets a request ask for trouble through a marker in its envelope (the bridge
forwards no HTTP header of the REST client, so the envelope is the only channel):

- ``soak-fault`` anywhere in the body: the mock is asked for the declared fault (``X-Mock-Fault``);
- ``soak-slow``: the proxy waits ``--delay`` seconds before forwarding (an upstream timeout).

  python -m bench.soak_proxy --port 9001 --upstream http://127.0.0.1:9000/ --fault OrderNotFound --delay 3
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web

FAULT_MARK = b"soak-fault"
SLOW_MARK = b"soak-slow"
PASSED_HEADERS = ("content-type", "soapaction")


def make_app(upstream: str, fault: str, delay: float) -> web.Application:
    session: aiohttp.ClientSession | None = None

    async def forward(request: web.Request) -> web.Response:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED_HEADERS}
        if FAULT_MARK in body:
            headers["X-Mock-Fault"] = fault
        if SLOW_MARK in body:
            await asyncio.sleep(delay)
        async with session.post(upstream, data=body, headers=headers) as reply:
            payload = await reply.read()
            return web.Response(body=payload, status=reply.status, headers={"Content-Type": reply.headers.get("Content-Type", "text/xml")})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/{tail:.*}", forward)
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--fault", required=True, help="the declared fault name the mock is asked for")
    p.add_argument("--delay", type=float, required=True, help="seconds a soak-slow request is held")
    args = p.parse_args()
    web.run_app(make_app(args.upstream, args.fault, args.delay), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
