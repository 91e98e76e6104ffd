"""WS-Security for calls to the SOAP service (OASIS WSS 1.0/1.1: UsernameToken, Timestamp, X.509).

Outbound: a ``wsse:Security`` header with a Timestamp, a UsernameToken (PasswordText or
PasswordDigest with Nonce and Created) and an XML signature over the Body, the Timestamp and any
configured header (exclusive C14N, RSA-SHA256 by default), each part with its own ``wsu:Id``.
Inbound: the signature of a reply checked against a configured certificate.

The cryptography and canonicalisation are python-xmlsec's (libxmlsec1, what zeep uses); the key
and certificate checks at load are ``cryptography``'s. Both are imported only when signing or
verifying is configured. Secrets (passwords, key material) never reach a log or an error message.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from . import namespaces
from .envvars import config_path, expand_env, read_secret, section_keys
from .errors import ConfigError, WsseError
from .namespaces import DS, WSSE, WSU

_TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = _TOKEN_PROFILE + "#PasswordText"
PASSWORD_DIGEST = _TOKEN_PROFILE + "#PasswordDigest"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
_X509_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"
X509V3 = _X509_PROFILE + "#X509v3"
X509_SKI = _X509_PROFILE + "#X509SubjectKeyIdentifier"
SOAP11 = namespaces.SOAP11_ENV
SOAP12 = namespaces.SOAP12_ENV

ALGORITHMS = ("rsa-sha256", "rsa-sha1", "rsa-sha512")
REFERENCES = ("binary_token", "key_identifier")
CLOCK_SKEW = 60  # seconds a reply's Timestamp may be off our clock



# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignSettings:
    """``wsse.sign``: the key and certificate that sign requests, and what the signature covers."""

    key: str
    cert: str
    algorithm: str = "rsa-sha256"
    password: str | None = field(default=None, repr=False)  # of an encrypted PEM key
    reference: str = "binary_token"  # binary_token | key_identifier (X509SubjectKeyIdentifier)
    headers: tuple[str, ...] = ()  # header elements signed too: "{namespace}Name" or "Name"


@dataclass(frozen=True)
class VerifySettings:
    """``wsse.verify_reply``: the certificate or CA a reply's signature must check against."""

    cert: str | None = None  # the signer's own certificate, or
    ca: str | None = None  # the CA (PEM, one or more) that issued the certificate the reply carries
    required: bool = True


@dataclass(frozen=True)
class WsseSettings:
    """The ``wsse`` setting: what WS-Security the calls to the service carry, for all services or per service."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_type: str = "text"  # text | digest
    timestamp: int = 300  # seconds the Timestamp is valid; 0: no Timestamp
    must_understand: bool = True
    sign: SignSettings | None = None
    verify_reply: VerifySettings | None = None
    services: dict[str, WsseSettings] = field(default_factory=dict)  # per WSDL service, in place of these
    enabled: bool = True  # False: only the services listed get WS-Security

    def for_service(self, service: str) -> WsseSettings | None:
        """The settings of one WSDL service's calls, or None for none."""
        own = self.services.get(service)
        if own is not None:
            return own
        return self if self.enabled else None


def parse_settings(data: Any, base: Path | None = None) -> WsseSettings | None:
    """The ``wsse`` section of a config as typed settings. Relative file paths are taken from
    ``base`` (the config file's folder). Files are checked by ``Security``, when a bridge loads.
    ``services`` holds the same keys per WSDL service, over the section's own."""
    if data is None or isinstance(data, WsseSettings):
        return data
    d = section_keys(data, "wsse", _KEYS | {"services"})
    services = d.pop("services", None) or {}
    if not isinstance(services, dict):
        raise ConfigError("wsse.services: expected a mapping of WSDL service name to wsse settings")
    per_service = {}
    for name, own in services.items():
        where = f"wsse.services.{name}"
        own = section_keys(own, where, _KEYS)
        # a service's own password replaces the section's, whichever of password/password_file each gives
        inherited = {k: v for k, v in d.items() if not (k.startswith("password") and k != "password_type" and {"password", "password_file"} & set(own))}
        per_service[str(name)] = _parse_one({**inherited, **own}, base, where)
    return replace(_parse_one(d, base, "wsse"), services=per_service) if d else _only_services(per_service)


_KEYS = {"username", "password", "password_file", "password_type", "timestamp", "must_understand", "sign", "verify_reply"}


def _only_services(per_service: dict[str, WsseSettings]) -> WsseSettings:
    if not per_service:
        raise ConfigError("wsse: configure at least one of username, sign, verify_reply or services")
    return WsseSettings(enabled=False, services=per_service)


def _parse_one(d: dict[str, Any], base: Path | None, where: str) -> WsseSettings:
    d = dict(d)
    password = read_secret(d, "password", f"{where}", base)
    username = expand_env(d.get("username"), f"{where}.username")
    if username is not None and not isinstance(username, str):
        raise ConfigError(f"{where}.username: expected a string")
    if password is not None and not username:
        raise ConfigError(f"{where}.password: given without {where}.username")
    password_type = d.get("password_type", "text")
    if password_type not in ("text", "digest"):
        raise ConfigError(f"{where}.password_type: expected text or digest, got {password_type!r}")
    ttl = d.get("timestamp", 300)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
        raise ConfigError(f"{where}.timestamp: expected a number of seconds (0 for no Timestamp), got {ttl!r}")
    mu = d.get("must_understand", True)
    if not isinstance(mu, bool):
        raise ConfigError(f"{where}.must_understand: expected true or false, got {mu!r}")
    sign = None
    if d.get("sign") is not None:
        s = section_keys(d["sign"], f"{where}.sign", {"key", "cert", "algorithm", "password", "password_file", "reference", "headers"})
        for name in ("key", "cert"):
            if name not in s:
                raise ConfigError(f"{where}.sign.{name}: required (a PEM file)")
        algorithm = str(s.get("algorithm", "rsa-sha256")).lower()
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"{where}.sign.algorithm: expected one of {', '.join(ALGORITHMS)}, got {s.get('algorithm')!r}")
        reference = s.get("reference", "binary_token")
        if reference not in REFERENCES:
            raise ConfigError(f"{where}.sign.reference: expected one of {', '.join(REFERENCES)}, got {reference!r}")
        headers = s.get("headers", [])
        if not isinstance(headers, list) or not all(isinstance(h, str) and h for h in headers):
            raise ConfigError(f"{where}.sign.headers: expected a list of header element names ({{namespace}}Name or Name)")
        sign = SignSettings(
            key=str(config_path(s["key"], f"{where}.sign.key", base)),
            cert=str(config_path(s["cert"], f"{where}.sign.cert", base)),
            algorithm=algorithm,
            password=read_secret(s, "password", f"{where}.sign", base),
            reference=reference,
            headers=tuple(headers),
        )
    verify = None
    if d.get("verify_reply") is not None:
        v = section_keys(d["verify_reply"], f"{where}.verify_reply", {"cert", "ca", "required"})
        if ("cert" in v) == ("ca" in v):
            raise ConfigError(f"{where}.verify_reply: give cert (the service's certificate) or ca (its issuer's), one of them")
        required = v.get("required", True)
        if not isinstance(required, bool):
            raise ConfigError(f"{where}.verify_reply.required: expected true or false, got {required!r}")
        verify = VerifySettings(
            cert=str(config_path(v["cert"], f"{where}.verify_reply.cert", base)) if "cert" in v else None,
            ca=str(config_path(v["ca"], f"{where}.verify_reply.ca", base)) if "ca" in v else None,
            required=required,
        )
    if not username and sign is None and verify is None:
        raise ConfigError(f"{where}: configure at least one of username, sign or verify_reply")
    if username and password is None:
        raise ConfigError(f"{where}.username: given without a password (password or password_file)")
    return WsseSettings(username, password, password_type, ttl, mu, sign, verify)


# --- helpers --------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)), the UsernameToken Profile 1.0's digest."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def _xmlsec() -> Any:
    try:
        import xmlsec
    except Exception as exc:  # ImportError, or xmlsec's libxml2 not lxml's
        raise ConfigError(f"wsse signing and verifying need python-xmlsec, which cannot be loaded here: {exc}") from None
    return xmlsec


def _read(path: str, where: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def _load_cert(path: str, where: str) -> Any:
    from cryptography import x509

    data = _read(path, where)
    try:
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{where}: {path} is not an X.509 certificate (PEM or DER)") from None
    now = _now()
    if cert.not_valid_after_utc < now:
        raise ConfigError(f"{where}: the certificate {path} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if cert.not_valid_before_utc > now + timedelta(seconds=CLOCK_SKEW):
        raise ConfigError(f"{where}: the certificate {path} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return cert


def _load_cas(path: str) -> list[Any]:
    from cryptography import x509

    data = _read(path, "wsse.verify_reply.ca")
    try:
        cas = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"wsse.verify_reply.ca: {path} holds no PEM certificate") from None
    for cert in cas:
        if cert.not_valid_after_utc < _now():
            raise ConfigError(f"wsse.verify_reply.ca: the certificate {cert.subject.rfc4514_string()} in {path} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    return cas


def _der(cert: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return bytes(cert.public_bytes(Encoding.DER))


# --- the header ----------------------------------------------------------------------------------


class Security:
    """The WS-Security of one backend: built once (keys loaded and checked), used for every call."""

    def __init__(self, settings: WsseSettings) -> None:
        self.settings = settings
        self._key: Any = None
        self._bst: str | None = None  # the certificate, base64 DER
        self._ski: str | None = None
        self._reply_key_pem: bytes | None = None
        self._cas: list[Any] = []
        xmlsec = None
        if settings.sign is not None or settings.verify_reply is not None:
            xmlsec = _xmlsec()
        s = settings.sign
        if s is not None:
            self._load_signing(xmlsec, s)
        v = settings.verify_reply
        if v is not None and v.cert is not None:
            from cryptography.hazmat.primitives.serialization import Encoding

            cert = _load_cert(v.cert, "wsse.verify_reply.cert")
            self._reply_key_pem = cert.public_bytes(Encoding.PEM)
        elif v is not None and v.ca is not None:
            self._cas = _load_cas(v.ca)

    def _load_signing(self, xmlsec: Any, s: SignSettings) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        data = _read(s.key, "wsse.sign.key")
        password = s.password.encode() if s.password is not None else None
        try:
            private = serialization.load_pem_private_key(data, password=password)
        except TypeError:  # encrypted without a password, or a password for a plain key
            raise ConfigError(
                f"wsse.sign.key: {s.key} is encrypted and wsse.sign.password is not set"
                if password is None
                else f"wsse.sign.password: given, but {s.key} is not encrypted"
            ) from None
        except ValueError:
            raise ConfigError(
                f"wsse.sign.key: cannot read {s.key}: not a PEM private key, or wsse.sign.password is wrong"
            ) from None
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ConfigError(f"wsse.sign.key: {s.key} is not an RSA key (the signature algorithms here are RSA)")
        cert = _load_cert(s.cert, "wsse.sign.cert")
        if cert.public_key().public_numbers() != private.public_key().public_numbers():
            raise ConfigError(f"wsse.sign.cert: the certificate {s.cert} does not match the key {s.key}")
        if s.reference == "key_identifier":
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                raise ConfigError(
                    f"wsse.sign.reference: key_identifier needs a certificate with a Subject Key Identifier, and {s.cert} has none"
                ) from None
            self._ski = base64.b64encode(ski).decode()
        # xmlsec gets the key unencrypted, in memory: its own PEM reader would need the password again
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self._key = xmlsec.Key.from_memory(pem, xmlsec.KeyFormat.PEM)
        self._bst = base64.b64encode(_der(cert)).decode()

    # --- outbound ------------------------------------------------------------------------------

    @property
    def signs(self) -> bool:
        """Whether requests are signed (``wsse.sign``)."""
        return self._key is not None

    def apply(self, envelope: bytes) -> bytes:
        """The envelope with a ``wsse:Security`` header (timestamp, token, signature) added."""
        # our own envelope, trusted: huge_tree, for a base64Binary value over libxml2's 10 MB text limit
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=True)
        root = etree.fromstring(envelope, parser)
        ns = etree.QName(root).namespace
        body = root.find(f"{{{ns}}}Body")
        header = root.find(f"{{{ns}}}Header")
        if header is None:
            header = etree.Element(f"{{{ns}}}Header")
            root.insert(0, header)
        signed_headers = self._signed_headers(header)
        security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
        if self.settings.must_understand:
            security.set(f"{{{ns}}}mustUnderstand", "true" if ns == SOAP12 else "1")
        header.insert(0, security)
        s = self.settings
        now = _now()
        timestamp = None
        if s.timestamp:
            timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
            etree.SubElement(timestamp, f"{{{WSU}}}Created").text = _stamp(now)
            etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = _stamp(now + timedelta(seconds=s.timestamp))
        if s.username:
            self._username_token(security, now)
        if self._key is not None:
            assert body is not None
            parts = [body, *([timestamp] if timestamp is not None else []), *signed_headers]
            self._sign(root, security, parts)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))

    def _signed_headers(self, header: etree._Element) -> list[etree._Element]:
        names = self.settings.sign.headers if self.settings.sign else ()
        out = []
        for el in header:
            if isinstance(el.tag, str) and (el.tag in names or etree.QName(el).localname in names):
                out.append(el)
        return out

    def _username_token(self, security: etree._Element, now: datetime) -> None:
        s = self.settings
        assert s.username is not None and s.password is not None
        token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
        token.set(f"{{{WSU}}}Id", _new_id("UsernameToken"))
        etree.SubElement(token, f"{{{WSSE}}}Username").text = s.username
        password = etree.SubElement(token, f"{{{WSSE}}}Password")
        if s.password_type == "digest":
            nonce = secrets.token_bytes(16)
            created = _stamp(now)
            password.set("Type", PASSWORD_DIGEST)
            password.text = password_digest(nonce, created, s.password)
            n = etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=BASE64)
            n.text = base64.b64encode(nonce).decode()
            etree.SubElement(token, f"{{{WSU}}}Created").text = created
        else:
            password.set("Type", PASSWORD_TEXT)
            password.text = s.password

    def _sign(self, root: etree._Element, security: etree._Element, parts: list[etree._Element]) -> None:
        xmlsec = _xmlsec()  # Any: its bundled stubs lack most names

        sign = self.settings.sign
        assert sign is not None
        method, digest = {
            "rsa-sha256": (xmlsec.Transform.RSA_SHA256, xmlsec.Transform.SHA256),
            "rsa-sha1": (xmlsec.Transform.RSA_SHA1, xmlsec.Transform.SHA1),
            "rsa-sha512": (xmlsec.Transform.RSA_SHA512, xmlsec.Transform.SHA512),
        }[sign.algorithm]
        ids = _ids(root)
        signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, method, ns="ds")
        for part in parts:
            pid = part.get(f"{{{WSU}}}Id")
            if pid is None or ids.get(pid, 0) > 1:  # none, or one another part has too: a new one
                pid = _new_id(etree.QName(part).localname)
                part.set(f"{{{WSU}}}Id", pid)
            ref = xmlsec.template.add_reference(signature, digest, uri="#" + pid)
            xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
        key_info = xmlsec.template.ensure_key_info(signature)
        str_ = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
        if sign.reference == "key_identifier":
            ki = etree.SubElement(str_, f"{{{WSSE}}}KeyIdentifier", EncodingType=BASE64, ValueType=X509_SKI)
            ki.text = self._ski
        else:
            bst_id = _new_id("X509")
            bst = etree.Element(f"{{{WSSE}}}BinarySecurityToken", EncodingType=BASE64, ValueType=X509V3)
            bst.set(f"{{{WSU}}}Id", bst_id)
            bst.text = self._bst
            security.append(bst)
            etree.SubElement(str_, f"{{{WSSE}}}Reference", URI="#" + bst_id, ValueType=X509V3)
        security.append(signature)
        ctx = xmlsec.SignatureContext()
        ctx.key = self._key
        for part in parts:
            ctx.register_id(part, "Id", WSU)
        ctx.sign(signature)

    # --- inbound -------------------------------------------------------------------------------

    def verify(self, header: etree._Element | None, body: etree._Element, what: str, *, subject: str | None = None) -> None:
        """Checks the signature of a reply (its Header and Body) against the configured certificate.
        Raises ``WsseError`` when a required signature is missing, or any signature is wrong.
        ``subject``: what the messages call the message (the reply to ``what``)."""
        msg = subject or f"the reply to {what}"
        v = self.settings.verify_reply
        if v is None:
            return
        xmlsec = _xmlsec()  # Any: its bundled stubs lack most names

        security = header.find(f"{{{WSSE}}}Security") if header is not None else None
        signature = security.find(f"{{{DS}}}Signature") if security is not None else None
        if signature is None:
            if v.required:
                raise WsseError(f"{msg} is not signed, and a signature is required (wsse.verify_reply.required)")
            return
        root = body.getroottree().getroot()
        ids = _ids(root)
        twice = sorted(i for i, n in ids.items() if n > 1)
        if twice:
            raise WsseError(f"{msg} has the wsu:Id {twice[0]!r} on more than one element, so its signature is ambiguous")
        ctx = xmlsec.SignatureContext()
        if self._reply_key_pem is not None:
            ctx.key = xmlsec.Key.from_memory(self._reply_key_pem, xmlsec.KeyFormat.CERT_PEM)
        else:
            ctx.key = xmlsec.Key.from_memory(_der(self._issued_signer(signature, root, msg)), xmlsec.KeyFormat.CERT_DER)
        # references may use these only (no XSLT, XPath or other surprises); digests count as transforms
        T = xmlsec.Transform
        for transform in (T.EXCL_C14N, T.C14N, T.ENVELOPED, T.SHA1, T.SHA256, T.SHA384, T.SHA512):
            ctx.enable_reference_transform(transform)
        for el in root.iter():
            if isinstance(el.tag, str) and el.get(f"{{{WSU}}}Id") is not None:
                ctx.register_id(el, "Id", WSU)
        try:
            ctx.verify(signature)
        except xmlsec.Error:
            raise WsseError(
                f"the signature of {msg} does not verify against the configured certificate"
                " (the message was changed, or signed with another key)"
            ) from None
        signed = {r.get("URI", "") for r in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")}
        body_id = body.get(f"{{{WSU}}}Id")
        if body_id is None or "#" + body_id not in signed:
            raise WsseError(f"the signature of {msg} does not cover its SOAP Body")
        timestamp = security.find(f"{{{WSU}}}Timestamp") if security is not None else None
        if timestamp is not None:
            self._check_timestamp(timestamp, signed, msg)

    def _issued_signer(self, signature: etree._Element, root: etree._Element, msg: str) -> Any:
        """The certificate of the BinarySecurityToken the signature's KeyInfo refers to, checked to
        be issued by a configured CA (and valid now)."""
        from cryptography import x509
        from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

        ref = signature.find(f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
        uri = ref.get("URI", "") if ref is not None else ""
        token = next((el for el in root.iter(f"{{{WSSE}}}BinarySecurityToken") if "#" + (el.get(f"{{{WSU}}}Id") or "") == uri), None)
        if token is None or not uri:
            raise WsseError(f"the signature of {msg} does not refer to a BinarySecurityToken, so its certificate cannot be checked against the configured CA")
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode("".join((token.text or "").split()), validate=True))
        except ValueError:
            raise WsseError(f"the BinarySecurityToken of {msg} is not an X.509 certificate") from None
        verifier = (
            PolicyBuilder().store(Store(self._cas)).time(_now())
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
            .build_client_verifier()
        )  # fmt: skip
        try:
            verifier.verify(cert, [])
        except VerificationError as exc:
            raise WsseError(f"the certificate that signed {msg} is not issued by the configured CA, or not valid now ({exc})") from None
        return cert

    @staticmethod
    def _check_timestamp(timestamp: etree._Element, signed: set[str], msg: str) -> None:
        tid = timestamp.get(f"{{{WSU}}}Id")
        if tid is None or "#" + tid not in signed:
            raise WsseError(f"{msg} has a Timestamp its signature does not cover")
        now = _now()
        expires = timestamp.findtext(f"{{{WSU}}}Expires")
        if expires is not None:
            t = _parse_time(expires, msg)
            if t + timedelta(seconds=CLOCK_SKEW) < now:
                raise WsseError(f"{msg} has expired: its Timestamp expired at {_stamp(t)}")
        created = timestamp.findtext(f"{{{WSU}}}Created")
        if created is not None and _parse_time(created, msg) - timedelta(seconds=CLOCK_SKEW) > now:
            raise WsseError(f"{msg} has a Timestamp created in the future ({created.strip()})")


def _parse_time(text: str, msg: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WsseError(f"{msg} has a Timestamp that is not an xsd:dateTime") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _ids(root: etree._Element) -> dict[str, int]:
    counts: dict[str, int] = {}
    for el in root.iter():
        if isinstance(el.tag, str):
            i = el.get(f"{{{WSU}}}Id")
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
    return counts




# --- the mock's side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MockRequirements:
    """What the mock service asks of requests, so users can try their ``wsse`` configuration:
    a UsernameToken with this username and password (text or digest), a signature by ``cert``
    covering the Body, and a Timestamp that has not expired."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cert: str | None = None
    timestamp: bool = False


def parse_mock_requirements(data: Any, base: Path | None = None) -> MockRequirements:
    """The mock's WS-Security requirements from a config mapping (``soapbridge mock --require-wsse``);
    relative paths are against ``base``. Raises ``ConfigError``."""
    d = section_keys(data, "mock wsse", {"username", "password", "password_file", "cert", "timestamp"})
    password = read_secret(d, "password", "mock wsse", base)
    username = expand_env(d.get("username"), "mock wsse.username")
    if bool(username) != (password is not None):
        raise ConfigError("mock wsse: give username and password together")
    cert = str(config_path(d["cert"], "mock wsse.cert", base)) if d.get("cert") is not None else None
    timestamp = d.get("timestamp", False)
    if not isinstance(timestamp, bool):
        raise ConfigError("mock wsse.timestamp: expected true or false")
    return MockRequirements(username, password, cert, timestamp)


class RequestChecker:
    """Checks the ``wsse:Security`` header of a request to the mock. ``check`` answers the reason
    a request is refused (as WS-Security's FailedAuthentication / InvalidSecurity say), or None."""

    def __init__(self, req: MockRequirements) -> None:
        self.req = req
        self._seen: dict[str, datetime] = {}  # nonces, against replays
        self._verifier = Security(WsseSettings(verify_reply=VerifySettings(cert=req.cert))) if req.cert else None

    def check(self, header: etree._Element | None, body: etree._Element) -> str | None:
        """Why the request's ``wsse:Security`` header is refused, or None when it meets the requirements."""
        security = header.find(f"{{{WSSE}}}Security") if header is not None else None
        if security is None:
            return "InvalidSecurity: the request has no wsse:Security header"
        now = _now()
        ts = security.find(f"{{{WSU}}}Timestamp")
        if self.req.timestamp and ts is None:
            return "InvalidSecurity: the request has no wsu:Timestamp"
        if ts is not None:
            expires = ts.findtext(f"{{{WSU}}}Expires")
            try:
                if expires is not None and _parse_time(expires, "the request") + timedelta(seconds=CLOCK_SKEW) < now:
                    return "MessageExpired: the request's Timestamp has expired"
            except WsseError:
                return "InvalidSecurity: the request's Timestamp is not an xsd:dateTime"
        if self.req.username is not None:
            reason = self._token(security, now)
            if reason:
                return reason
        if self._verifier is not None:
            try:
                self._verifier.verify(header, body, "", subject="the request")
            except WsseError as exc:
                return f"FailedCheck: {exc}"
        return None

    def _token(self, security: etree._Element, now: datetime) -> str | None:
        token = security.find(f"{{{WSSE}}}UsernameToken")
        if token is None:
            return "FailedAuthentication: the request has no wsse:UsernameToken"
        password = token.find(f"{{{WSSE}}}Password")
        if token.findtext(f"{{{WSSE}}}Username") != self.req.username or password is None:
            return "FailedAuthentication: unknown username or wrong password"
        assert self.req.password is not None
        if password.get("Type", PASSWORD_TEXT) == PASSWORD_DIGEST:
            nonce, created = token.findtext(f"{{{WSSE}}}Nonce"), token.findtext(f"{{{WSU}}}Created")
            if not nonce or not created:
                return "FailedAuthentication: a PasswordDigest needs a Nonce and a Created"
            try:
                raw = base64.b64decode(nonce, validate=True)
                t = _parse_time(created, "the request")
            except (ValueError, WsseError):
                return "FailedAuthentication: the Nonce or Created of the UsernameToken is malformed"
            if abs((now - t).total_seconds()) > 300 + CLOCK_SKEW:
                return "MessageExpired: the UsernameToken's Created is too old"
            if password_digest(raw, created, self.req.password) != (password.text or ""):
                return "FailedAuthentication: unknown username or wrong password"
            self._seen = {n: at for n, at in self._seen.items() if (now - at).total_seconds() < 600}
            if nonce in self._seen:
                return "FailedAuthentication: the Nonce was used before (a replay)"
            self._seen[nonce] = now
        elif password.get("Type") != PASSWORD_TEXT or not secrets.compare_digest((password.text or "").encode(), self.req.password.encode()):
            return "FailedAuthentication: unknown username or wrong password"
        return None


__all__ = [
    "MockRequirements",
    "RequestChecker",
    "Security",
    "SignSettings",
    "VerifySettings",
    "WsseSettings",
    "parse_mock_requirements",
    "parse_settings",
    "password_digest",
]
