"""Every exception soapbridge raises, in one place, under ``BridgeError``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class BridgeError(Exception):
    """Base class of every soapbridge error."""


class ConfigError(BridgeError):
    """A settings value or config file is invalid."""


class WsdlError(BridgeError):
    """The WSDL (or a document it imports) cannot be loaded or modelled."""


class OperationNotFound(BridgeError):
    """No operation has the given name."""


@dataclass
class Violation:
    """One schema violation: where (a JSON pointer) and what."""

    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
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
        category: str,
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

    def __init__(self, kind: str, message: str, *, status: int | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.cause = cause


class WsseError(UpstreamError):
    """A reply failed WS-Security verification: a required signature is missing, or a signature
    or Timestamp is wrong. The REST app answers it as a bad reply (502)."""

    def __init__(self, message: str) -> None:
        super().__init__("security", message)


class XmlError(BridgeError):
    """XML that is malformed, or that breaks a safety limit (DTD, entity, size, depth)."""


class SpecError(BridgeError):
    """An OpenAPI document given to ``soapbridge diff`` cannot be read, or is not OpenAPI 3.x."""


__all__ = [
    "BridgeError",
    "ConfigError",
    "OperationNotFound",
    "RequestTooLarge",
    "SoapFault",
    "SpecError",
    "UpstreamError",
    "ValidationError",
    "Violation",
    "WsdlError",
    "WsseError",
    "XmlError",
]
