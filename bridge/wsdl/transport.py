"""Document transport for loading: catalogue first, local files next, network only if allowed.

Every document handed out is recorded, so the WSDL and XSD readers see exactly what zeep saw.
"""

from __future__ import annotations

from collections.abc import Callable

import zeep.transports

from ..errors import NetworkDisabled, WsdlError
from ..proxies import Proxies
from .sources import locate

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class LoaderTransport(zeep.transports.Transport):  # type: ignore[misc]
    """zeep's transport for loading: catalogue, then local files, then the network if allowed; it keeps every
    document and where it came from."""

    def __init__(self, *, allow_network: bool = False, timeout: float = 30.0, verify_tls: bool | str = True, proxies: Proxies | None = None) -> None:
        super().__init__(timeout=timeout, operation_timeout=timeout)
        self.allow_network = allow_network
        self.session.verify = verify_tls
        # proxies as the calls to the service use them (the proxy setting), not from the environment
        self.session.trust_env = False
        self.proxies = proxies or Proxies(None, None)
        self.documents: dict[str, bytes] = {}
        self.refused: list[str] = []  # http(s) URLs refused because network loading is off
        # Where each document asked for came from, loaded or not: (kind, path or URL, loaded?).
        # The disk cache re-checks these files, so a change to any of them (or a missing import
        # appearing) invalidates a cached model.
        self.sources: dict[str, tuple[str, str, bool]] = {}
        self.loaded: Callable[[int], None] | None = None  # told the number of documents read so far (progress)

    def load(self, url: str) -> bytes:
        """The bytes of the document at ``url`` (each fetched once); raises ``NetworkDisabled`` for a URL
        while network loading is off, ``WsdlError`` when it cannot be read or is over 64 MiB."""
        if not url:
            raise WsdlError("empty document location")
        if url in self.documents:
            return self.documents[url]
        kind, target = locate(url)
        self.sources[url] = (kind, target, False)
        content = self._fetch(url, kind, target)
        self.sources[url] = (kind, target, True)
        self.documents[url] = content
        if self.loaded is not None:
            self.loaded(len(self.documents))
        return content

    def _fetch(self, url: str, kind: str, target: str) -> bytes:
        if kind == "catalog":
            with open(target, "rb") as fh:
                return fh.read()
        if kind == "network":
            if not self.allow_network:
                self.refused.append(url)
                raise NetworkDisabled(url)
            proxy = self.proxies.for_url(url)
            response = self.session.get(url, timeout=self.load_timeout, stream=True, proxies={"http": proxy, "https": proxy} if proxy else None)
            if response.status_code != 200:
                raise WsdlError(f"fetching {url} gave HTTP {response.status_code}")
            data = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise WsdlError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
            return bytes(data)
        path = target
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise WsdlError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise WsdlError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes")
        return data
