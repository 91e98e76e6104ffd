"""Which proxy, if any, a request to a URL goes through: the ``proxy`` setting less ``no_proxy``.

Shared by the upstream client (bridge.client) and the WSDL loader (bridge.wsdl.transport).
"""

from __future__ import annotations

from urllib.parse import urlsplit


class Proxies:
    """``proxy``: a URL, or "env" for the HTTP_PROXY/HTTPS_PROXY variables, or None for none;
    ``no_proxy``: hosts that bypass it (NO_PROXY syntax), None for the NO_PROXY variable."""

    def __init__(self, proxy: str | None, no_proxy: str | None) -> None:
        import urllib.request  # here: it costs a warm start ~10 ms

        env = urllib.request.getproxies_environment()
        self.http = self.https = None if proxy == "env" else proxy
        if proxy == "env":
            self.http, self.https = env.get("http"), env.get("https")
        self.no = env.get("no", "") if no_proxy is None else no_proxy

    def __bool__(self) -> bool:
        return bool(self.http or self.https)

    def for_url(self, url: str) -> str | None:
        """The proxy URL for a request to ``url``, or None when there is none or the host bypasses it."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            return None  # not a usable URL: the request fails on it without a proxy
        proxy = self.https if parts.scheme == "https" else self.http
        import urllib.request

        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # documented, missing in typeshed
        if proxy and host and self.no and bypass(f"{host}:{port}" if port else host, {"no": self.no}):
            return None
        return proxy
