"""soapbridge: a WSDL in, a typed REST API, OpenAPI 3.1, a Python library and a CLI out."""

from ._version import __version__
from .errors import (
    BridgeError,
    ConfigError,
    OperationNotFound,
    RequestTooLarge,
    SoapFault,
    UpstreamError,
    ValidationError,
    WsdlError,
    XmlError,
)
from .facade import Bridge, load
from .gateway import Gateway, load_gateway
from .settings import Settings

__all__ = [
    "Bridge",
    "BridgeError",
    "ConfigError",
    "Gateway",
    "OperationNotFound",
    "RequestTooLarge",
    "Settings",
    "SoapFault",
    "UpstreamError",
    "ValidationError",
    "WsdlError",
    "XmlError",
    "__version__",
    "load",
    "load_gateway",
]
