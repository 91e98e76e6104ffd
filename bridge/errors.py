"""Every exception soapbridge raises, in one place.

The hierarchy, with the HTTP status the REST app answers each with (``Settings.status`` changes
the upstream ones)::

    BridgeError
     ├── ConfigError ........... (start-up; the CLI exits 1)
     ├── WsdlError ............. (start-up; the CLI exits 1)
     │    └── NetworkDisabled .. (a document is needed over the network, which is off)
     ├── OperationNotFound ..... (library only; REST answers 404 for an unknown route)
     ├── AuthError ............. (a REST request's credentials; never echoes a key or token)
 │    ├── Unauthenticated .. 401 unauthorized (none, or not valid), with WWW-Authenticate
 │    ├── Forbidden ........ 403 forbidden (valid, but not allowed this operation)
 │    └── AuthUnavailable .. 503 auth-unavailable (the JWKS URL cannot be fetched)
 ├── ValidationError ....... 400 validation (every Violation listed)
     │    └── RequestTooLarge .. 413 too-large (the encoded envelope is over max_request_bytes)
     ├── SoapFault ............. 422 client fault · 502 server fault
     ├── UpstreamError ......... 504 timeout · 503 unavailable · 502 bad_reply, tls
     │    └── WsseError ........ 502 security (the reply fails WS-Security verification)
     ├── RateLimited ........... 429 rate-limited (a consumer over a rate limit; Retry-After)
     ├── RateLimitUnavailable .. 503 rate-limit-unavailable (counters unreachable, on_storage_error: deny)
     ├── XmlError .............. (the XML parser; reaches REST as a 502 bad_reply)
     │    └── MimeError ........ (a malformed MTOM/SwA multipart reply; 502 bad_reply too)
     └── SpecError ............. (``soapbridge diff``; exits 1)
    DecodeError ................ 502 bad_reply (internal: XML that breaks its schema; the facade
                                 wraps it in UpstreamError)

Any other exception in a request is a bug: REST answers 500 ``internal`` without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: ``UpstreamError.kind``.
UpstreamKind = Literal["timeout", "unavailable", "bad_reply", "tls", "security"]
#: ``SoapFault.category``: who the fault blames, whatever the SOAP version.
FaultCategory = Literal["client", "server"]


class BridgeError(Exception):
    """Base class of every soapbridge error."""


class ConfigError(BridgeError):
    """A settings value or config file is invalid."""


class WsdlError(BridgeError):
    """The WSDL (or a document it imports) cannot be loaded or modelled."""


class NetworkDisabled(WsdlError):
    """A document outside the catalogue is needed over http(s) and network loading is off."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"{url} is not in the catalogue of well-known schemas and network loading is off "
            "(pass allow_network=True / --allow-network to fetch it, or save the document and "
            "point the import at the local file)"
        )
        self.url = url


class OperationNotFound(BridgeError):
    """No operation has the given name."""


class AuthError(BridgeError):
    """A REST request refused by ``bridge.auth``. ``challenge``: its ``WWW-Authenticate`` value."""

    def __init__(self, message: str, challenge: str | None = None) -> None:
        super().__init__(message)
        self.challenge = challenge


class Unauthenticated(AuthError):
    """No credentials, or credentials that are not valid (401)."""


class Forbidden(AuthError):
    """Valid credentials that do not allow this operation (403)."""


class AuthUnavailable(AuthError):
    """The keys that check bearer tokens cannot be fetched (503)."""


@dataclass
class Violation:
    """One schema violation: where (a JSON pointer) and what."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        """The violation as it appears in a problem body's ``errors`` list."""
        return {"pointer": self.pointer, "detail": self.detail}


class ValidationError(BridgeError):
    """Input data breaks the operation's schema. Lists every violation."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []


class RequestTooLarge(ValidationError):
    """The SOAP envelope a request encodes to is larger than ``max_request_bytes``."""


class DecodeError(Exception):
    """XML that does not fit the schema it should follow (the bridge turns it into a 502 ``bad_reply``)."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '/'}: {detail}")
        self.pointer = pointer
        self.detail = detail


class SoapFault(BridgeError):
    """The service answered with a SOAP fault.

    ``code`` is the fault code as a Clark name (``{ns}Client``); ``category`` is
    ``"client"`` or ``"server"`` whatever the SOAP version; ``name`` is the declared
    ``wsdl:fault`` it matched, if any, and ``detail`` its typed content.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        category: FaultCategory,
        subcodes: list[str] | None = None,
        actor: str | None = None,
        name: str | None = None,
        detail: Any = None,
        soap_version: str = "1.1",
    ) -> None:
        super().__init__(f"SOAP fault {code}: {reason}")
        self.code = code
        self.reason = reason
        self.category = category
        self.subcodes = subcodes or []
        self.actor = actor
        self.name = name
        self.detail = detail
        self.soap_version = soap_version


class UpstreamError(BridgeError):
    """The SOAP service could not be reached, timed out, or did not answer in SOAP.

    ``kind`` is one of ``timeout``, ``unavailable`` (connection refused or reset),
    ``bad_reply`` (not SOAP, malformed, too large or too deep), ``tls`` or ``security`` (a
    ``WsseError``). The message names the
    operation and the kind of failure, never the endpoint (it reaches REST callers); ``cause`` is
    for the log: the service's host and the underlying error, never credentials.
    """

    def __init__(self, kind: UpstreamKind, message: str, *, status: int | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.cause = cause


class WsseError(UpstreamError):
    """A reply failed WS-Security verification: a required signature is missing, or a signature
    or Timestamp is wrong. The REST app answers it as a bad reply (502)."""

    def __init__(self, message: str) -> None:
        super().__init__("security", message)


class RateLimited(BridgeError):
    """A consumer went over one or more rate limits (bridge.ratelimit); answered 429."""

    def __init__(self, violated: list[str], retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(f"over the rate limit {', '.join(violated)}; retry in {retry_after} s")
        self.violated = violated  # the names of the policies, as in the RateLimit-Policy header
        self.retry_after = retry_after  # whole seconds
        self.headers = headers  # RateLimit, RateLimit-Policy and Retry-After


class RateLimitUnavailable(BridgeError):
    """The rate-limit counters cannot be reached and ``rate_limits.on_storage_error`` is deny; answered 503."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the rate-limit counters cannot be reached; the request was not admitted")
        self.retry_after = retry_after


class XmlError(BridgeError):
    """XML that is malformed, or that breaks a safety limit (DTD, entity, size, depth)."""


class MimeError(XmlError):
    """A multipart/related (MTOM or SwA) message that is malformed or over a limit: a missing part or
    boundary, a part too large, nested multipart, an xop:Include to a cid no part has."""


class SpecError(BridgeError):
    """An OpenAPI document given to ``soapbridge diff`` cannot be read, or is not OpenAPI 3.x."""


__all__ = [
    "AuthError",
    "AuthUnavailable",
    "BridgeError",
    "ConfigError",
    "DecodeError",
    "FaultCategory",
    "Forbidden",
    "MimeError",
    "NetworkDisabled",
    "OperationNotFound",
    "RateLimitUnavailable",
    "RateLimited",
    "RequestTooLarge",
    "SoapFault",
    "SpecError",
    "Unauthenticated",
    "UpstreamError",
    "UpstreamKind",
    "ValidationError",
    "Violation",
    "WsdlError",
    "WsseError",
    "XmlError",
]
