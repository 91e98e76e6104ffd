"""The pass-through proxy of the end-to-end bench: the bridge's own stack (uvicorn, Starlette,
the bridge's SOAP client) forwarding SOAP bytes to the backend and back, converting nothing. What
the bridge costs beyond it is the cost of validating and converting.

  python -m bench.passthrough --port 8090 --backend http://127.0.0.1:9000
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.client import SoapClient
from bridge.settings import make_settings

FORWARDED = ("content-type", "soapaction")


def create_app(backend: str) -> Starlette:
    client = SoapClient(make_settings())

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
        reply = await client.apost(backend + request.url.path, body, headers)
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type or None)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--backend", required=True)
    args = p.parse_args()
    app: Any = create_app(args.backend)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
