"""The upstream SOAP client: pooled keep-alive HTTP with timeouts, size limits and TLS checks.

Only the operation, status and timing are logged; bodies and headers may carry secrets.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

import httpx

from .errors import UpstreamError
from .settings import Settings

log = logging.getLogger("soapbridge.client")


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


def _timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout)


def _limits(settings: Settings) -> httpx.Limits:
    return httpx.Limits(max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections)


def _map(exc: Exception, url: str, settings: Settings) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        which = "connect" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) else "read"
        limit = settings.connect_timeout if which == "connect" else settings.read_timeout
        return UpstreamError("timeout", f"the SOAP service at {url} did not answer within the {which} timeout of {limit} s")
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return UpstreamError("tls", f"TLS verification of {url} failed: {exc}")
        return UpstreamError("unavailable", f"cannot connect to the SOAP service at {url}: {exc or 'connection refused'}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return UpstreamError("unavailable", f"the connection to {url} failed: {exc or type(exc).__name__}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return UpstreamError("unavailable", f"unsupported endpoint address {url!r}")
    return UpstreamError("unavailable", f"calling {url} failed: {type(exc).__name__}: {exc}")


class SoapClient:
    """Sync and async posting of SOAP envelopes; one pool each, opened lazily."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        # each client takes the transport only if it is of its kind; one object may be both
        self._async_transport = transport if isinstance(transport, httpx.AsyncBaseTransport) else None
        self._sync_transport = transport if isinstance(transport, httpx.BaseTransport) else None
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None

    def _sync_client(self) -> httpx.Client:
        if self._sync is None:
            self._sync = httpx.Client(
                timeout=_timeout(self.settings),
                limits=_limits(self.settings),
                verify=self.settings.verify_tls,
                transport=self._sync_transport,
                trust_env=False,
            )
        return self._sync

    def _async_client(self) -> httpx.AsyncClient:
        if self._async is None:
            self._async = httpx.AsyncClient(
                timeout=_timeout(self.settings),
                limits=_limits(self.settings),
                verify=self.settings.verify_tls,
                transport=self._async_transport,
                trust_env=False,
            )
        return self._async

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            with self._sync_client().stream("POST", url, content=body, headers=headers) as r:
                data = self._read_sync(r, url)
                return Reply(r.status_code, r.headers.get("content-type", ""), data)
        except UpstreamError:
            raise
        except httpx.HTTPError as exc:
            raise _map(exc, url, self.settings) from None

    async def apost(self, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            async with self._async_client().stream("POST", url, content=body, headers=headers) as r:
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_reply_bytes:
                        raise self._too_large(url)
                    chunks.append(chunk)
                return Reply(r.status_code, r.headers.get("content-type", ""), b"".join(chunks))
        except UpstreamError:
            raise
        except httpx.HTTPError as exc:
            raise _map(exc, url, self.settings) from None

    def _read_sync(self, r: httpx.Response, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_reply_bytes:
                raise self._too_large(url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url: str) -> UpstreamError:
        return UpstreamError("bad_reply", f"the reply from {url} is larger than the limit of {self.settings.max_reply_bytes} bytes")

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None
