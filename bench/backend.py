"""A minimal SOAP backend for the end-to-end bench: it answers every POST with a reply prepared
in advance, chosen by the request path, and does no other work, so it is never the limit.

  python -m bench.backend --port 9000 /r/1024=reply-1024.xml /r/10240=reply-10240.xml
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


class Backend(asyncio.Protocol):
    def __init__(self, replies: dict[bytes, bytes]) -> None:
        self.replies = replies
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            path = head.split(b" ", 2)[1]
            self.buf = self.buf[end + 4 + length :]
            assert self.transport is not None
            self.transport.write(self.replies.get(path, NOT_FOUND))


async def serve(port: int, replies: dict[bytes, bytes]) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Backend(replies), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("replies", nargs="+", metavar="PATH=FILE")
    args = p.parse_args()
    replies = {}
    for item in args.replies:
        path, _, file = item.partition("=")
        replies[path.encode()] = response(Path(file).read_bytes())
    asyncio.run(serve(args.port, replies))


if __name__ == "__main__":
    main()
