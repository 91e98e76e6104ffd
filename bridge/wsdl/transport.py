"""Document transport for loading: catalogue first, local files next, network only if allowed.

Every document handed out is recorded, so the WSDL and XSD readers see exactly what zeep saw.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

import zeep.transports

from ..errors import WsdlError
from . import catalog

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class NetworkDisabled(WsdlError):
    """A document outside the catalogue is needed over http(s) and network loading is off."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"{url} is not in the catalogue of well-known schemas and network loading is off "
            "(pass allow_network=True / --allow-network to fetch it, or save the document and "
            "point the import at the local file)"
        )
        self.url = url


class LoaderTransport(zeep.transports.Transport):  # type: ignore[misc]
    def __init__(self, *, allow_network: bool = False, timeout: float = 30.0, verify_tls: bool | str = True) -> None:
        super().__init__(timeout=timeout, operation_timeout=timeout)
        self.allow_network = allow_network
        self.session.verify = verify_tls
        self.documents: dict[str, bytes] = {}
        self.refused: list[str] = []  # http(s) URLs refused because network loading is off

    def load(self, url: str) -> bytes:
        if not url:
            raise WsdlError("empty document location")
        if url in self.documents:
            return self.documents[url]
        content = self._fetch(url)
        self.documents[url] = content
        return content

    def _fetch(self, url: str) -> bytes:
        local = catalog.lookup(url)
        if local is not None:
            return local.read_bytes()
        scheme = urlparse(url).scheme.lower()
        if scheme in ("http", "https"):
            if not self.allow_network:
                self.refused.append(url)
                raise NetworkDisabled(url)
            response = self.session.get(url, timeout=self.load_timeout, stream=True)
            if response.status_code != 200:
                raise WsdlError(f"fetching {url} gave HTTP {response.status_code}")
            data = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise WsdlError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
            return bytes(data)
        path = unquote(urlparse(url).path) if scheme == "file" else url
        path = os.path.expanduser(path)
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as exc:
            raise WsdlError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise WsdlError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes")
        return data
