"""The XML namespaces soapbridge reads and writes, in one place (imports nothing)."""

from __future__ import annotations

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"  # SOAP 1.1 section 5 encoding
SOAP12_ENC = "http://www.w3.org/2003/05/soap-encoding"

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSDL_HTTP = "http://schemas.xmlsoap.org/wsdl/http/"
WSA = "http://www.w3.org/2005/08/addressing"  # WS-Addressing 1.0
WSP = ("http://www.w3.org/ns/ws-policy", "http://schemas.xmlsoap.org/ws/2004/09/policy")  # WS-Policy 1.5 and 1.2
WSOMA = "http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization"  # WS-MTOMPolicy
WSDL_MIME = "http://schemas.xmlsoap.org/wsdl/mime/"  # WSDL 1.1 §5, the MIME binding
# where WSDLs declare an input's WS-Addressing Action: wsam (1.0 Metadata), wsaw (WSDL Binding CR, 2006/05 and 2006/02)
WSA_WSDL = ("http://www.w3.org/2007/05/addressing/metadata", "http://www.w3.org/2006/05/addressing/wsdl", "http://www.w3.org/2006/02/addressing/wsdl")
