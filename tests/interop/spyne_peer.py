"""The interop contract (wsdl/interop.wsdl) served by spyne, an independent, code-first SOAP stack.

spyne generates its own WSDL from the Python declarations below; the bridge never sees it. The
bridge loads wsdl/interop.wsdl, and what spyne puts on the wire matches that contract because
the declarations mirror it: the target namespace, the wrapper elements named after the
operations (``Add`` / ``AddResponse``), the argument and ``_out_variable_names`` as the qualified
child elements, ``WordCount`` as a named type, arrays as repeated elements (``max_occurs``), not
spyne's ``Array`` wrappers.

spyne quirks, kept as spyne does them (the bridge copes; see tests/interop/test_cross_stack.py):
- A fault's typed detail is a dict, which spyne writes UNQUALIFIED:
  ``<detail><DivisionByZeroFault><dividend>..`` with no namespace anywhere. The bridge
  identifies the declared fault by the detail element's local name and reads its children
  whatever their namespace (bridge/codec.py ``decode_fault_detail``).
- Fault codes are dotted: ``soap11env:Client.DivisionByZero``; SOAP 1.2 turns the dots into
  ``Subcode`` values (``Sender`` / ``DivisionByZero``).

One spyne-side adjustment: spyne writes a Decimal with ``str()``, which gives exponent notation
(``1E+1``) that is not an xsd:decimal; the output type formats it with ``{:f}``.

Served over WSGI by the standard library's ``wsgiref`` in a thread, on loopback:
``{base}/soap11`` (spyne's Soap11 protocol) and ``{base}/soap12`` (Soap12). Requests are validated
by spyne against its own schema (``validator="lxml"``), an independent check of what the bridge
sends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from socketserver import ThreadingMixIn
from typing import Any, ClassVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from spyne import Application, ComplexModel, Decimal, Fault, Integer32, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

NS = "http://soapbridge.dev/samples/interop"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
TALLY_LIMIT = 20

# required, not nillable: spyne's defaults are minOccurs=0 nillable=true, the contract's are not
Int = Integer32(min_occurs=1, nillable=False)
Dec = Decimal(min_occurs=1, nillable=False)
DecOut = Decimal(min_occurs=1, nillable=False, str_format="{:f}")
Str = Unicode(min_occurs=1, nillable=False)


class WordCount(ComplexModel):
    __namespace__ = NS
    _type_info: ClassVar[list[tuple[str, Any]]] = [("word", Str), ("count", Int)]


def _decimal_text(value: D) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


class InteropService(ServiceBase):
    @rpc(Int, Int, _returns=Int, _out_variable_name="result")
    def Add(ctx: Any, a: int, b: int) -> int:
        total = a + b
        if not INT_MIN <= total <= INT_MAX:
            raise Fault("Server", "result out of range for xs:int")
        return total

    @rpc(Dec, Dec, _returns=DecOut, _out_variable_name="quotient")
    def Divide(ctx: Any, dividend: D, divisor: D) -> D:
        if divisor == 0:
            text = _decimal_text(dividend)
            raise Fault(
                "Client.DivisionByZero",
                "division by zero",
                detail={"DivisionByZeroFault": {"dividend": text, "message": f"cannot divide {text} by zero"}},
            )
        return (dividend / divisor).normalize()

    @rpc(
        Unicode(min_occurs=0, max_occurs="unbounded", nillable=False),
        _returns=(Int, WordCount.customize(min_occurs=0, max_occurs="unbounded", nillable=False)),
        _out_variable_names=("total", "entry"),
    )
    def Tally(ctx: Any, word: list[str] | None) -> tuple[int, list[WordCount]]:
        words = list(word or [])
        if len(words) > TALLY_LIMIT:
            raise Fault(
                "Client.TooManyWords",
                "too many words",
                detail={"TooManyWordsFault": {"limit": str(TALLY_LIMIT), "received": str(len(words))}},
            )
        counts: dict[str, int] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1  # dicts keep first-appearance order
        return len(words), [WordCount(word=w, count=n) for w, n in counts.items()]


def wsgi_app() -> Callable[..., Iterable[bytes]]:
    """One WSGI app: /soap11 and /soap12, each a spyne application over the same service."""
    apps = {
        f"/{name}": WsgiApplication(
            Application([InteropService], tns=NS, name="InteropService", in_protocol=proto(validator="lxml"), out_protocol=proto())
        )
        for name, proto in (("soap11", Soap11), ("soap12", Soap12))
    }

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        app = apps.get(path.rstrip("/"))
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"no SOAP service at {path}\n".encode()]
        return app(environ, start_response)  # type: ignore[no-any-return]

    return dispatch


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
        pass


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the peer in a thread; yields its base URL. Port 0 picks a free port."""
    logging.getLogger("spyne").setLevel(logging.CRITICAL)  # spyne logs every client fault as an error
    server = make_server(host, port, wsgi_app(), server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
