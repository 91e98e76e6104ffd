"""The ``soapbridge`` command line. Every failure is a one-line message and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import gc
import json
import logging
import math
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .cache import load_model_cached
from .errors import BridgeError, SoapFault, ValidationError
from .facade import load
from .observability import MULTIPROC_ENV, configure_logging
from .settings import Settings, make_settings

if TYPE_CHECKING:
    from .console import Stages
    from .diff import DiffResult

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FAULT = 3
EXIT_CHECKS = 4  # `contract`: a check failed; `diff`: changes that --fail-on counts (1 stays "could not run")


def _samples_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "samples", here.parent / "wsdl"):  # the wheel's copy, else the checkout's
        if candidate.is_dir():
            return candidate
    raise BridgeError("the bundled sample WSDLs are not installed")


def _wsdl_source(value: str) -> str:
    """A WSDL argument: a path or URL as given, or the name of a bundled sample (``orders``,
    ``calculator.wsdl``) when no such file exists here."""
    if "://" in value or value == "-" or Path(value).exists() or "/" in value or os.sep in value:
        return value
    try:
        sample = _samples_dir() / (value if value.endswith(".wsdl") else value + ".wsdl")
    except BridgeError:
        return value
    return str(sample) if sample.is_file() else value


def _stages(wsdl: str | os.PathLike[str], enabled: bool | None = None) -> Stages:
    """The spinner of a command's long stages (loading a WSDL, building its spec) on stderr, when it is a
    terminal and ``-v`` is off (``bridge.console.Stages``)."""
    from .console import Stages

    return Stages(Path(wsdl).name if "://" not in str(wsdl) else str(wsdl), enabled)


def _dumps(data: Any, path: str | None) -> str:
    """The text ``_dump`` writes."""
    if path and path.lower().endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _dump(data: Any, path: str | None, text: str | None = None) -> None:
    """Writes ``data`` (or its ``text`` made by ``_dumps``) as JSON, or YAML by the extension, to ``path`` or stdout."""
    if text is None:
        text = _dumps(data, path)
    if path:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BridgeError(f"cannot write {path}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)


def _cache(args: argparse.Namespace) -> dict[str, Any]:
    """The cache_dir override the flags ask for; none given leaves the config's (or "auto")."""
    if args.no_cache:
        return {"cache_dir": None}
    if args.cache_dir:
        return {"cache_dir": args.cache_dir}
    return {}


def cmd_inspect(args: argparse.Namespace) -> int:
    """``soapbridge inspect``: services, ports, operations and their routes, what was skipped and why, and
    whether the C loops run; as JSON with ``--json``."""
    from .compiled import c_loops, generic_constructs  # imported here: serving does not need it at start

    with _stages(args.wsdl) as stages:
        b = load(args.wsdl, allow_network=args.allow_network, progress=stages, **_cache(args))
    model = b.model
    if args.json:
        _dump(
            {
                "location": model.location,
                "ports": [
                    {"service": p.service, "port": p.name, "kind": p.kind, "address": p.address, "operations": len(p.operations)}
                    for p in model.ports
                ],
                "operations": [
                    {
                        "key": op.key,
                        "service": op.service,
                        "port": op.port,
                        "name": op.name,
                        "soap_version": op.soap_version,
                        "style": op.style,
                        "use": op.use,
                        "http_method": op.http_method or None,
                        "path": op.path or None,
                        "operation_id": op.operation_id,
                        "codec": _codec(op),
                    }
                    for op in b.operations
                ],
                "skipped": [{"kind": s.kind, "name": s.name, "reason": s.reason} for s in model.skipped],
                "notes": model.notes,
                "c_loops": c_loops() == "yes",
            },
            None,
        )
        return 0
    out = sys.stdout.write
    out(f"{model.location}\n")
    services: dict[str, list[Any]] = {}
    for p in model.ports:
        services.setdefault(p.service, []).append(p)
    routed = {id(op) for op in b.routed}
    for sname, ports in services.items():
        out(f"service {sname}\n")
        for p in ports:
            kind = {"soap11": "SOAP 1.1", "soap12": "SOAP 1.2", "http": "HTTP", "other": "other"}[p.kind]
            out(f"  port {p.name} ({kind}) {p.address or '(no address)'}\n")
            for op in p.operations:
                route = f"{op.http_method} {op.path}" if id(op) in routed else "(not routed: another port serves this interface)"
                if not args.verbose:  # what a user calls and where; how the bytes are converted is for -v
                    out(f"    {op.name:<32} {route}\n")
                    continue
                codec = " ".join(
                    f"{side}:compiled" + (f"+generic({', '.join(generic)})" if generic else "")
                    for side, generic in (("decode", generic_constructs(op)), ("encode", generic_constructs(op, request=True)))
                )
                out(f"    {op.name:<32} {op.style}/{op.use:<8} {codec:<32} {route}\n")
    if model.skipped:
        out(f"skipped ({len(model.skipped)}):\n")
        for s in model.skipped:
            out(f"  {s.kind} {s.name}: {s.reason}\n")
    if model.notes:
        out(f"notes ({len(model.notes)}), nothing lost:\n")
        for note in model.notes:
            out(f"  - {note}\n")
    out(
        f"{len(b.routed)} routed operation(s), {len(model.operations)} in all, {len(model.skipped)} skipped"
        + (f", {len(model.notes)} note(s)" if model.notes else "")
        + "\n"
    )
    out(f"C loops: {c_loops()}\n")
    return 0


def _codec(op: Any) -> dict[str, Any]:
    """Which code converts the operation's messages. Every operation the model holds is soapbridge's
    own codec's (operations it cannot model are in "skipped"); none falls back to zeep."""
    from .compiled import generic_constructs

    generic = generic_constructs(op)
    request = generic_constructs(op, request=True)
    return {
        "engine": "soapbridge",
        "zeep_fallback": False,
        "decode": "compiled" if not generic else "compiled+generic",
        "generic_for": generic,
        "encode": "compiled" if not request else "compiled+generic",
        "encode_generic_for": request,
    }


def _skipped(model: Any, wsdl: str) -> str:
    """How much of the WSDL is not served, and where to read why; empty when nothing is skipped."""
    if not model.skipped:
        return ""
    ops = sum(1 for s in model.skipped if s.kind == "operation")
    other = len(model.skipped) - ops
    what = " and ".join(t for t in (f"{ops} operation(s)" if ops else "", f"{other} other item(s)" if other else "") if t)
    return f"{what} skipped: `soapbridge inspect {wsdl}` says why"


def cmd_openapi(args: argparse.Namespace) -> int:
    """``soapbridge openapi``: writes the spec to ``--output`` (YAML by its extension) or stdout."""
    with _stages(args.wsdl) as stages:
        b = load(args.wsdl, config=args.config, allow_network=args.allow_network, progress=stages, **_cache(args))
        stages("building the OpenAPI spec")
        spec = b.openapi()
        stages("writing it as " + ("YAML" if args.output and args.output.lower().endswith((".yaml", ".yml")) else "JSON"))
        text = _dumps(spec, args.output)
    _dump(spec, args.output, text)  # after the spinner: stdout may be the same terminal
    skipped = _skipped(b.model, args.wsdl)
    if args.output:
        print(f"wrote {args.output} ({len(b.routed)} operations)" + (f"; {skipped}" if skipped else ""), file=sys.stderr)
    elif skipped:
        print(f"soapbridge: {skipped}", file=sys.stderr)
    return 0


def _bind(host: str, port: int, flag: str = "--port") -> socket.socket:
    """Binds and listens before anything starts or is printed, so a busy port fails here, with one
    line, and no server half starts (uvicorn's own bind failure ran the app's start-up first)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait for TIME_WAIT
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BridgeError(f"port {port} on {host} is already in use by another program: choose another with {flag} PORT") from None
        raise BridgeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)  # `serve --workers N` hands it to its worker processes
    return sock


def _url(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _serve(
    app: Any, sock: socket.socket, settings: Settings | None = None, workers: int = 1, tls: dict[str, Any] | None = None,
    supervisor: Callable[..., Any] | None = None,
) -> None:
    """Serves on the socket ``_bind`` opened, with the client timeouts and limits of
    ``settings.server`` (bridge.server), and TLS when ``tls`` holds certfile, keyfile, client_ca.
    ``supervisor``: makes the supervisor of the workers (default ``bridge.server.Supervisor``).
    Ctrl-C ends it quietly."""
    import uvicorn

    from .server import uvicorn_options

    host, port = sock.getsockname()[:2]
    settings = settings or make_settings()
    options = uvicorn_options(settings, **(tls or {}))
    # Several workers need the app as an import string (each is a fresh process): a factory.
    # log_config=None: uvicorn's own lines go through the root logger, as configured (observability.configure_logging)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=None, workers=workers, factory=isinstance(app, str),
        timeout_graceful_shutdown=math.ceil(settings.shutdown.grace_seconds), **options,
    )  # fmt: skip
    try:
        if workers > 1:
            from .server import Supervisor

            (supervisor or Supervisor)(config, sockets=[sock]).run()
        else:
            server = uvicorn.Server(config)

            # Before uvicorn installs its handlers, a SIGTERM must still stop the server (it used to be
            # ignored in that window); after, uvicorn raises the signal it stopped on again: exit 0.
            def on_term(sig: int, frame: object) -> None:
                server.should_exit = True

            signal.signal(signal.SIGTERM, on_term)
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass


def _auth_notice(settings: Settings, tls: dict[str, Any]) -> str:
    """What `serve` says about inbound authentication: a warning when the config has no auth section."""
    auth = settings.auth
    if auth is None:
        return (
            "\nsoapbridge: WARNING: no 'auth' section in the config: anyone who can reach this port can call every SOAP operation."
            "\n  Configure API keys, JWTs or client certificates (docs/auth.md), or say `auth: {enabled: false}` to serve without."
        )
    if auth.mtls is not None and auth.enabled and not tls.get("client_ca"):
        raise BridgeError("auth.mtls is configured: serve TLS with --certfile, --keyfile and --client-ca (the CA of the client certificates)")
    if not auth.enabled:
        return "\nsoapbridge: authentication is off (auth.enabled: false)"
    ways = [w for w, on in (("API keys", auth.api_keys), ("JWTs", auth.jwt), ("client certificates", auth.mtls)) if on]
    return "\nsoapbridge: authentication: " + ", ".join(ways)


def cmd_serve(args: argparse.Namespace) -> int:
    """``soapbridge serve``: loads the WSDL once (a bad one fails here, with one line), then serves it on one
    process or ``--workers`` processes."""
    if args.workers < 1:
        raise BridgeError(f"--workers must be 1 or more, got {args.workers}")
    tls = {"certfile": args.certfile, "keyfile": args.keyfile, "client_ca": args.client_ca}
    from .server import tls_options

    tls_options(**tls)  # a bad certificate or key fails now, before anything starts
    from .gateway import is_gateway_config

    gateway = args.config is not None and is_gateway_config(args.config)
    if args.wsdl is None and not gateway:
        raise BridgeError("serve: give a WSDL, or --config FILE listing services (a gateway, docs/gateway.md)")
    if args.reload_on_change and not gateway:
        raise BridgeError("--reload-on-change reloads a gateway config: give --config FILE listing services (docs/gateway.md)")
    if gateway:
        if args.wsdl is not None or args.backend:
            raise BridgeError(f"{args.config} lists services (a gateway): serve it with `soapbridge serve --config {args.config}`, without a WSDL or --backend")
        return _serve_gateway(args, tls)
    sock = _bind(args.host, args.port)
    options: dict[str, Any] = {"endpoint": args.backend, "config": args.config, "allow_network": args.allow_network, **_cache(args)}
    # Loaded here first even with workers: a bad WSDL or config fails once, with one line, and the
    # workers then start from the warm cache.
    started = time.perf_counter()
    gc.disable()  # what is built now lives as long as the server: frozen below, never collected
    with _stages(args.wsdl) as stages:
        b = load(args.wsdl, progress=stages, **options)
        _refuse_memory_counters(b.settings, args.workers, "")
        log_settings = _log_settings(args, b.settings)
        configure_logging(log_settings)
        options["log"] = {"format": log_settings.format, "level": log_settings.level}  # for the workers
        metrics_dir = None
        if args.workers > 1 and b.settings.metrics and not os.environ.get(MULTIPROC_ENV):
            # prometheus_client's multi-process mode: each worker writes its counts to files here and
            # /metrics adds them up. Set before any worker imports prometheus_client; removed at exit.
            metrics_dir = tempfile.TemporaryDirectory(prefix="soapbridge-metrics-")
            os.environ[MULTIPROC_ENV] = metrics_dir.name
        app = None
        if args.workers == 1:
            stages("building the REST app")
            app = b.asgi()
    gc.freeze()
    gc.enable()
    skipped = _skipped(b.model, args.wsdl)
    notice = _auth_notice(b.settings, tls)
    print(
        f"soapbridge {__version__}: {len(b.routed)} operations on {_url(sock, 'https' if args.certfile else 'http')}/ (docs: /docs)"
        + (f", {args.workers} workers" if args.workers > 1 else "")
        + f"; loaded in {time.perf_counter() - started:.2f} s"
        + (f"\nsoapbridge: {skipped}" if skipped else "")
        + notice,
        file=sys.stderr,
        flush=True,
    )
    settings = b.settings
    if app is not None:
        _serve(app, sock, settings, tls=tls)
        return 0
    from .worker import ENV, options_to_env

    # after gc.enable: the spec's temporaries are not frozen; the request log's INFO level is no -v
    with _stages(args.wsdl, sys.stderr.isatty() and not args.verbose) as stages:
        stages("building the OpenAPI spec for the workers")
        b.openapi_bytes()  # the spec into the cache too
    b.close()
    del b
    gc.collect()  # the supervisor serves nothing: let it hold no model
    os.environ[ENV] = options_to_env(str(Path(args.wsdl).resolve()) if "://" not in args.wsdl else args.wsdl, **options)
    try:
        _serve("bridge.worker:create_app", sock, settings, workers=args.workers, tls=tls)
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()
    return 0


def _refuse_memory_counters(settings: Settings, workers: int, where: str) -> None:
    """Several workers with in-memory rate-limit counters would each count alone, silently letting
    through up to N times the configured limit: refused. ``where``: the key prefix of a gateway's service."""
    rl = settings.rate_limits
    if workers > 1 and rl is not None and rl.storage.removeprefix("async+").startswith("memory"):
        raise BridgeError(
            f"{where}rate_limits.storage is memory://, which each of the {workers} workers would count separately "
            f"(letting through up to that many times the limit): set {where}rate_limits.storage to a redis:// URL, or serve with --workers 1"
        )


def _log_settings(args: argparse.Namespace, settings: Settings) -> Any:
    """The config's log settings, with --log-format and --log-level put over them."""
    return replace(settings.log, format=args.log_format or settings.log.format, level=args.log_level or settings.log.level)


def _serve_gateway(args: argparse.Namespace, tls: dict[str, Any]) -> int:
    """``soapbridge serve --config GATEWAY``: every service of the config in one process (or ``--workers``);
    SIGHUP reloads the config, and so does a change to it or a file it names with ``--reload-on-change``
    (docs/gateway.md)."""
    from .gateway import CheckedMultiprocess, load_gateway

    sock = _bind(args.host, args.port)
    started = time.perf_counter()
    gc.disable()
    gw = load_gateway(args.config, **_cache(args))
    for name, b in gw.services.items():
        _refuse_memory_counters(b.settings, args.workers, f"services.{name}.")
    log_settings = _log_settings(args, gw.settings)
    configure_logging(log_settings)
    app = gw.asgi() if args.workers == 1 else None
    watched = gw.watched_files() if args.reload_on_change else None
    gc.freeze()
    gc.enable()
    url = _url(sock, "https" if args.certfile else "http")
    notices = []
    for name, b in gw.services.items():
        notice = _auth_notice(b.settings, tls).strip().replace("soapbridge: ", f"soapbridge: {name}: ", 1)
        if notice:
            notices.append(notice.split("\n")[0])
    reloads = f"; SIGHUP reloads {args.config}" + (f", and so does a change to it or to the {len(watched) - 1} file(s) it names" if watched else "")
    print(
        f"soapbridge {__version__}: gateway of {len(gw.services)} service(s), {sum(len(b.routed) for b in gw.services.values())} operations"
        f" on {url}/ (docs: /docs)" + (f", {args.workers} workers" if args.workers > 1 else "")
        + f"; loaded in {time.perf_counter() - started:.2f} s{reloads}",
        file=sys.stderr, flush=True,
    )  # fmt: skip
    _services_table(gw, sys.stderr)
    for notice in notices:
        print(notice, file=sys.stderr, flush=True)
    if app is not None:
        app.handle_sighup = True
        app.reload_on_change = bool(args.reload_on_change)
        _serve(app, sock, gw.settings, tls=tls)
        return 0
    from .worker import ENV

    settings = gw.settings
    metrics = any(b.settings.metrics for b in gw.services.values())
    gw.close()
    del gw
    gc.collect()
    metrics_dir = None
    if metrics and not os.environ.get(MULTIPROC_ENV):  # as for one service: every worker's counts in one scrape
        metrics_dir = tempfile.TemporaryDirectory(prefix="soapbridge-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir.name
    log = {"format": log_settings.format, "level": log_settings.level}  # for the workers
    os.environ[ENV] = json.dumps({"gateway": str(Path(args.config).resolve()), "log": log, **_cache(args)})
    # the supervisor checks a config before it replaces the workers, and watches the files
    supervisor = functools.partial(CheckedMultiprocess, path=args.config, overrides=_cache(args), watch=watched)
    try:
        _serve("bridge.worker:create_app", sock, settings, workers=args.workers, tls=tls, supervisor=supervisor)
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()
    return 0


def _services_table(gw: Any, stream: Any) -> None:
    """The services of a gateway, one row each: a rich table on a terminal, plain lines otherwise."""
    rows = [(name, b.settings.base_path, str(len(b.routed)), b.settings.endpoint or "(the WSDL's address)", b.model.location) for name, b in gw.services.items()]
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("service", "base path", "operations", "backend", "WSDL", box=None)
        for row in rows:
            table.add_row(*row)
        Console(file=stream).print(table)
        return
    for row in rows:
        stream.write("  " + "  ".join(row) + "\n")
    stream.flush()


def cmd_check_config(args: argparse.Namespace) -> int:
    """``soapbridge check-config``: loads a config (a gateway's with its WSDLs) and prints one line per
    problem on stderr; exits 0 when there is none, ``EXIT_CHECKS`` when there are. On a terminal the
    problems, or a gateway's services, are a table."""
    from .gateway import GatewayConfigError, is_gateway_config, load_gateway

    gateway = None
    problems: list[str] = []
    if is_gateway_config(args.file):
        try:  # as gateway.check_config, keeping the gateway for the table
            gateway = load_gateway(args.file, progress=None, **_cache(args))  # a progress bar on a terminal
        except GatewayConfigError as exc:
            problems = list(exc.problems)
        except BridgeError as exc:
            problems = [f"{args.file}: {exc}"]
    else:
        try:
            make_settings(args.file)
        except BridgeError as exc:
            problems = [str(exc)]
    terminal = sys.stderr.isatty()
    if problems:
        if terminal:
            from .console import print_table

            print_table(sys.stderr, ("line", "key", "problem"), [_problem_cells(args.file, line) for line in problems], title=str(args.file))
        else:
            for line in problems:
                print(line, file=sys.stderr)
        print(f"soapbridge: {len(problems)} problem(s) in {args.file}", file=sys.stderr)
        return EXIT_CHECKS
    if gateway is not None:
        if terminal:  # what was checked; a pipe gets the one line below, as before
            _services_table(gateway, sys.stderr)
        gateway.close()
    print(f"{args.file}: ok", file=sys.stderr)
    return 0


def _problem_cells(path: str, problem: str) -> tuple[str, str, str]:
    """A ``file:line: key: problem`` line as its line, key and problem (what is not there left empty)."""
    m = re.match(rf"{re.escape(str(path))}(?::(\d+))?: (?:([\w.\-\[\]]+): )?(.*)\Z", problem, re.S)
    if m is None:
        return "", "", problem
    return m.group(1) or "", m.group(2) or "", m.group(3)


def _parse_faults(values: list[str]) -> dict[str, str]:
    faults = {}
    for v in values or []:
        if "=" not in v:
            raise BridgeError(f"--fault expects OPERATION=FAULT, got {v!r}")
        k, f = v.split("=", 1)
        faults[k.strip()] = f.strip()
    return faults


def cmd_mock(args: argparse.Namespace) -> int:
    """``soapbridge mock``: serves a SOAP service that answers schema-valid made-up data."""
    from .mock import MockService  # with the example generator and elementpath: not for the other commands

    sock = _bind(args.host, args.port)
    with _stages(args.wsdl) as stages:
        model, _ = load_model_cached(args.wsdl, make_settings(allow_network=args.allow_network, **_cache(args)), progress=stages)
        wsse = None
        if args.require_wsse:
            from .settings import load_config
            from .wsse import parse_mock_requirements

            wsse = parse_mock_requirements(load_config(args.require_wsse), base=Path(args.require_wsse).parent)
        stages("building the mock's message schemas")
        mock = MockService(
            model, seed=args.seed, faults=_parse_faults(args.fault), wsse=wsse, addressing=args.require_addressing, attachments=args.attachments
        )
    print(f"soapbridge mock: {len(model.operations)} operations on {_url(sock)}/", file=sys.stderr, flush=True)
    _serve(mock.asgi(), sock)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """``soapbridge call``: calls one operation with ``--data`` (JSON, ``@FILE`` or ``-`` for stdin) and prints the result."""
    text: str | bytes = args.data
    where = f"--data {args.data}" if args.data == "-" or args.data.startswith("@") else "--data"
    try:  # as curl: neither form is JSON, so no value is taken from it
        if args.data == "-":
            text = sys.stdin.buffer.read()
        elif args.data.startswith("@"):
            text = Path(args.data[1:]).read_bytes()
    except OSError as exc:
        raise BridgeError(f"{where}: cannot read it: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BridgeError(f"{where} is not valid JSON: {exc}") from None
    options = {"endpoint": args.backend, "config": args.config, "allow_network": args.allow_network, **_cache(args)}
    with _stages(args.wsdl) as stages, load(args.wsdl, progress=stages, **options) as b:
        stages(f"calling {args.operation}")
        result = b.call(args.operation, data)
    _dump(result, None)
    return 0


def _bind_or_free(host: str, port: int | None, default: int, flag: str, what: str) -> tuple[socket.socket, str]:
    """An explicit port, or fail; else the default, or a free port when another program has it
    (with a line saying so), so the demo never talks to someone else's listener."""
    if port is not None:
        return _bind(host, port, flag), ""
    try:
        return _bind(host, default, flag), ""
    except BridgeError:
        sock = _bind(host, 0, flag)
        return sock, f"port {default} is in use by another program, so {what} listens on {sock.getsockname()[1]} ({flag} chooses)\n"


def cmd_demo(args: argparse.Namespace) -> int:
    """``soapbridge demo``: the mock and the bridge in one process, on a bundled sample by default."""
    import uvicorn

    from .mock import MockService

    bridge_sock, notes = _bind_or_free(args.host, args.port, 8080, "--port", "the bridge")
    mock_sock, note = _bind_or_free(args.host, args.mock_port, 8081, "--mock-port", "the mock")
    wsdl = Path(args.wsdl) if args.wsdl else _samples_dir() / "orders.wsdl"
    options: dict[str, Any] = {"allow_network": args.allow_network, **_cache(args)}
    with _stages(wsdl) as stages:
        model, _ = load_model_cached(wsdl, make_settings(**options), progress=stages)
        stages("building the mock's message schemas")
        mock = MockService(model, seed=args.seed, faults=_parse_faults(args.fault))
    mock_server = uvicorn.Server(uvicorn.Config(mock.asgi(), log_level="warning"))
    thread = threading.Thread(target=mock_server.run, kwargs={"sockets": [mock_sock]}, name="soapbridge-demo-mock", daemon=True)
    thread.start()
    try:
        b = load(wsdl, endpoint=_url(mock_sock) + "/", **options)
        while not mock_server.started:  # its socket already queues connections: this only catches a mock that failed
            if not thread.is_alive():
                raise BridgeError("the mock SOAP service did not start")
            time.sleep(0.02)
        print(notes + note + _demo_banner(b, wsdl, _url(bridge_sock), _url(mock_sock) + "/"), flush=True)
        _serve(b.asgi(), bridge_sock, b.settings)
    finally:
        mock_server.should_exit = True
        thread.join(5)  # the interpreter must not shut down under a running server thread
    return 0


def _demo_banner(b: Any, wsdl: Path, base: str, backend: str) -> str:
    # Suggest the operation with the smallest example request, sent as the spec shows it.
    spec = b.openapi()
    examples = {
        op.key: json.dumps(spec["paths"][op.path][op.http_method.lower()]["requestBody"]["content"]["application/json"]["example"])
        for op in b.routed
        if op.http_method == "POST"
    }
    op = min((o for o in b.routed if o.key in examples), key=lambda o: len(examples[o.key]))
    faulty = next((o for o in b.routed if o.faults), None)
    fault = f"{faulty.name}={faulty.faults[0].name}" if faulty else f"{op.name}=server"
    return f"""soapbridge demo on {wsdl.name}
  REST bridge       : {base}/
  API docs          : {base}/docs
  OpenAPI 3.1       : {base}/openapi.json
  probes, metrics   : {base}/livez  {base}/readyz  {base}/metrics  (docs/operations.md)
  authentication    : off (a demo on this machine; `serve` takes an auth section, docs/auth.md)
  mock SOAP service : {backend}  (WSDL: {backend}?wsdl)
The mock stands in for a real SOAP service: it answers made-up, schema-valid data
(the same for every call; --seed N changes it). For a SOAP fault, restart with
  --fault {fault}   (a fault the WSDL declares; OPERATION=client or =server for others)
or send the mock the HTTP header X-Mock-Fault: NAME with the SOAP request.
try:
  curl -s -X POST {base}{op.path} -H 'content-type: application/json' -d '{examples[op.key]}'
Ctrl-C stops both."""


def _report(value: str) -> tuple[str, Path]:
    kind, sep, path = value.partition(":")
    if not sep or kind not in ("junit", "json") or not path:
        raise argparse.ArgumentTypeError(f"expected junit:FILE or json:FILE, got {value!r}")
    return kind, Path(path)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise BridgeError(f"cannot write {path}: {exc.strerror}") from None


def cmd_contract(args: argparse.Namespace) -> int:
    """``soapbridge contract``: runs the contract checks and prints a summary; exits with ``EXIT_CHECKS`` when
    a check fails."""
    from . import contract  # schemathesis loads only for this command
    from .console import progress_bar

    bar = progress_bar("contract")  # on a terminal; a log (CI) gets one line per operation and mode
    task: Any = None

    def progress(op: Any, mode: Any, done: int, total: int) -> None:
        nonlocal task
        state = "ERROR" if mode.error is not None else "ok" if mode.ok else f"FAIL ({mode.failed} failed)"
        by = "" if mode.generator == "schemathesis" else f" [{mode.generator} examples: schemathesis could not generate]"
        line = f"{op.operation_id} {mode.mode}: {mode.examples} examples {state}{by} ({mode.duration:.1f} s)"
        if bar is None:
            print(f"[{done}/{total}] {line}", file=sys.stderr, flush=True)
            return
        if task is None:
            task = bar.add_task("", total=total)
        if state != "ok":
            bar.console.print(line)  # failures stay on screen above the bar
        bar.update(task, completed=done, description=op.operation_id)

    with bar if bar is not None else contextlib.nullcontext():
        report = _run_contract(args, progress)
    if sys.stdout.isatty():
        from .console import print_table

        print_table(sys.stdout, contract.SUMMARY_COLUMNS, contract.summary_rows(report))
        sys.stdout.write(contract.summary_footer(report))
    else:  # the plain table, for logs and scripts
        sys.stdout.write(contract.summary_table(report))
    for kind, path in args.report or []:
        if kind == "junit":
            _write(path, contract.junit_xml(report))
        else:
            _write(path, (json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n").encode())
    return 0 if report.ok else EXIT_CHECKS


def _run_contract(args: argparse.Namespace, progress: Any) -> Any:
    from .contract import run_contract

    return run_contract(
        args.wsdl,
        url=args.url,
        backend=args.backend,
        config=args.config,
        max_examples=args.max_examples,
        sample=args.sample,
        seed_value=args.seed,
        allow_network=args.allow_network,
        progress=progress,
        headers=_headers(args.header or []),
    )


def _headers(items: list[str]) -> dict[str, str]:
    """``--header NAME:VALUE`` flags as a dict, ``${VAR}`` in a value read from the environment."""
    from .envvars import expand_env

    headers = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise BridgeError("--header: expected NAME:VALUE (a header without a colon; the text is not shown, it may be a key)")
        headers[name.strip()] = str(expand_env(value.strip(), f"--header {name.strip()}"))
    return headers


def cmd_record(args: argparse.Namespace) -> int:
    """``soapbridge record``: writes one recorded exchange per operation (and declared fault)."""
    from .console import Stages, print_table
    from .recording import RecordedOperation, record

    done: list[RecordedOperation] = []
    with Stages(Path(args.wsdl).name, bar=True) as shown:  # on a terminal: the load's stages, then a bar over the operations

        def recorded(op: RecordedOperation, count: int, total: int) -> None:
            done.append(op)
            shown.count(count, total, f"recorded {op.operation_id}")

        written = record(
            args.wsdl, args.output, backend=args.backend, seed=args.seed, allow_network=args.allow_network, config=args.config,
            progress=shown, recorded=recorded,
        )  # fmt: skip
    target = Path(args.output) / Path(args.wsdl).stem
    rows = [(op.operation_id, op.port, "; ".join(op.outcomes), op.file) for op in sorted(done, key=lambda o: o.file)]
    if sys.stderr.isatty():
        print_table(sys.stderr, ("operation", "port", "outcome (REST status)", f"file in {target}"), rows)
    else:
        for row in rows:
            sys.stderr.write("  " + "  ".join(row) + "\n")
    print(f"wrote {len(written)} recording(s) to {target}", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {n}")
    return n
def _print_diff(result: DiffResult, old: str, new: str) -> None:
    from .diff import iter_grouped

    out = sys.stdout.write
    out(f"{old} -> {new}\n")
    for title, changes in (("breaking", result.breaking), ("non-breaking", result.non_breaking)):
        if not changes:
            continue
        out(f"{title} ({len(changes)}):\n")
        for op, loc, group in iter_grouped(changes):
            out(f"  {op}  {loc}\n" if loc else f"  {op}\n")
            for c in group:
                out(f"    {c.kind}: {c.message}" + (f" (schema {c.schema})" if c.schema else "") + "\n")
    out(f"{len(result.breaking)} breaking, {len(result.non_breaking)} non-breaking change(s)\n" if result.changes else "no changes\n")


def _diff_table(result: DiffResult, old: str, new: str) -> None:
    """``_print_diff`` as a rich table, for a terminal."""
    from .console import print_table
    from .diff import iter_grouped

    rows = []
    for title, changes in (("breaking", result.breaking), ("non-breaking", result.non_breaking)):
        for op, loc, group in iter_grouped(changes):
            for c in group:
                rows.append((title, op, loc or "", c.kind, c.message + (f" (schema {c.schema})" if c.schema else "")))
    if rows:
        print_table(sys.stdout, ("change", "operation", "where", "kind", "what"), rows, title=f"{old} -> {new}")
    else:
        sys.stdout.write(f"{old} -> {new}\n")
    sys.stdout.write(f"{len(result.breaking)} breaking, {len(result.non_breaking)} non-breaking change(s)\n" if result.changes else "no changes\n")


def cmd_diff(args: argparse.Namespace) -> int:
    """``soapbridge diff``: the changes between two WSDLs or specs; exits with ``EXIT_CHECKS`` when
    ``--fail-on`` counts one."""
    from .diff import diff_specs, load_spec  # imported when used: it is not needed to serve

    specs = []
    for source in (args.old, args.new):
        with _stages(source) as stages:  # a WSDL is loaded and its spec built; a spec file is only read
            specs.append(load_spec(source, allow_network=args.allow_network, progress=stages, **_cache(args)))
    result = diff_specs(specs[0], specs[1], old_name=str(args.old), new_name=str(args.new))
    if args.json:
        _dump(result.as_dict(args.old, args.new), None)
    elif sys.stdout.isatty():
        _diff_table(result, args.old, args.new)
    else:
        _print_diff(result, args.old, args.new)
    failing = {"breaking": result.breaking, "any": result.changes, "none": []}[args.fail_on]
    return EXIT_CHECKS if failing else 0


class _Version(argparse.Action):
    """``--version``: the version, and whether the codec runs its C loops (argparse's own action
    would re-wrap the two lines into one)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option_string: str | None = None) -> None:
        from .compiled import c_loops

        sys.stdout.write(f"soapbridge {__version__}\nC loops: {c_loops()}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command; each subparser sets ``func`` to its ``cmd_*`` function."""
    p = argparse.ArgumentParser(prog="soapbridge", description="SOAP to REST bridge: WSDL in, typed REST API and OpenAPI 3.1 out.")
    p.add_argument("--version", action=_Version, help="show the version and whether the codec's C loops run, and exit")
    verbose = "log what the bridge does (never bodies or secrets); inspect: codec details too"
    p.add_argument("-v", "--verbose", action="store_true", help=verbose)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    # -v after the command too; SUPPRESS: when it is absent there, the one before the command stands.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose)

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[after], **kwargs)

    try:
        samples = ", ".join(sorted(f.stem for f in _samples_dir().glob("*.wsdl")))
    except BridgeError:
        samples = "none installed"

    def common(sp: argparse.ArgumentParser) -> None:
        """The flags every command takes (docs/cli.md)."""
        sp.add_argument("--allow-network", action="store_true", help="allow fetching documents over http(s)")
        cache = sp.add_mutually_exclusive_group()
        cache.add_argument("--cache-dir", metavar="DIR", help="disk cache of loaded WSDLs (default: $SOAPBRIDGE_CACHE_DIR or ~/.cache/soapbridge)")
        cache.add_argument("--no-cache", action="store_true", help="neither read nor write the disk cache")

    def wsdl_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "wsdl", metavar="WSDL", type=_wsdl_source, help="path to the WSDL (or a URL with --allow-network), or a bundled sample: " + samples
        )
        common(sp)

    def listen(sp: argparse.ArgumentParser, port: int | None, default: str | None = None) -> None:
        sp.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for every interface (default: %(default)s)")
        sp.add_argument("--port", type=int, default=port, help=f"TCP port to listen on (default: {default or '%(default)s'})")

    sp = command("inspect", help="list services, ports, operations and what was skipped")
    wsdl_arg(sp)
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.set_defaults(func=cmd_inspect)

    sp = command("openapi", help="write the OpenAPI 3.1 document (JSON, or YAML by extension)")
    wsdl_arg(sp)
    sp.add_argument("-o", "--output", help="file to write (.json, .yaml or .yml); default stdout")
    sp.add_argument("--config", help="config file (YAML or JSON)")
    sp.set_defaults(func=cmd_openapi)

    sp = command("serve", help="serve the REST API (of one WSDL, or of every service of a gateway --config)")
    sp.add_argument(
        "wsdl", metavar="WSDL", nargs="?", type=_wsdl_source,
        help="path to the WSDL (or a URL with --allow-network), or a bundled sample: " + samples + "; none with a gateway --config",
    )  # fmt: skip
    common(sp)
    listen(sp, 8080)
    sp.add_argument("--backend", help="SOAP endpoint URL (overrides the WSDL's addresses)")
    sp.add_argument("--config", help="config file (YAML or JSON); one that lists services serves them all (docs/gateway.md)")
    sp.add_argument("--workers", type=int, default=1, help="worker processes (default 1); they share the disk cache")
    sp.add_argument(
        "--reload-on-change", action="store_true",
        help="a gateway --config: reload when it or a file it names (WSDLs, certificates, secret files) changes, as on SIGHUP",
    )  # fmt: skip
    sp.add_argument("--certfile", metavar="PEM", help="serve HTTPS with this certificate (chain) file")
    sp.add_argument("--keyfile", metavar="PEM", help="the private key of --certfile (default: in the certificate file)")
    sp.add_argument("--client-ca", metavar="PEM", help="ask for client certificates and verify them against these CAs (auth.mtls)")
    sp.add_argument("--log-format", choices=["json", "text"], help="the request log's format (default: log.format in the config, else json)")
    sp.add_argument(
        "--log-level", type=str.lower, choices=["debug", "info", "warning", "error"],
        help="log level (default: log.level in the config, else info: one line per request; warning drops those)",
    )  # fmt: skip
    sp.set_defaults(func=cmd_serve)

    sp = command(
        "check-config",
        help="check a config file (a gateway's: its WSDLs too) and print one line per problem",
        epilog=f"exit status: 0 no problem, {EXIT_CHECKS} problems (one line each on stderr), {EXIT_USAGE} usage",
    )
    sp.add_argument("file", metavar="FILE", help="the config file (YAML or JSON)")
    common(sp)
    sp.set_defaults(func=cmd_check_config)

    sp = command("mock", help="serve a mock SOAP service generated from the WSDL")
    wsdl_arg(sp)
    listen(sp, 8081)
    sp.add_argument("--seed", type=int, default=0, help="seed for the generated replies")
    sp.add_argument("--fault", action="append", metavar="OPERATION=FAULT", help="always answer OPERATION with a declared FAULT (or client/server)")
    sp.add_argument(
        "--require-wsse", metavar="FILE",
        help="YAML file of what requests must carry: username and password (${VAR} or password_file), cert (of the signer), timestamp",
    )  # fmt: skip
    sp.add_argument(
        "--require-addressing", action="store_true",
        help="require WS-Addressing (wsa:Action of the operation, wsa:To, wsa:MessageID) and answer with wsa:Action and wsa:RelatesTo",
    )  # fmt: skip
    sp.add_argument(
        "--attachments", choices=["mtom", "swa"],
        help="answer multipart/related: every base64Binary value as a MIME part (MTOM/XOP or SOAP with Attachments)",
    )  # fmt: skip
    sp.set_defaults(func=cmd_mock)

    sp = command("call", help="call one operation and print the JSON result")
    wsdl_arg(sp)
    sp.add_argument("operation", metavar="OPERATION")
    sp.add_argument("--data", default="{}", help="the input message as JSON; @FILE reads it from FILE, - from stdin (for large values)")
    sp.add_argument("--backend", help="SOAP endpoint URL")
    sp.add_argument("--config", help="config file (YAML or JSON)")
    sp.set_defaults(func=cmd_call)

    sp = command(
        "contract",
        help="check the REST API against its spec with schemathesis (positive and negative data)",
        epilog="exit status: 0 every check passed, 4 a check failed, 1 the run could not start, 2 usage",
    )
    wsdl_arg(sp)
    target = sp.add_mutually_exclusive_group()
    target.add_argument("--url", help="test a bridge already running at URL (its /openapi.json)")
    target.add_argument("--backend", help="put the bridge in front of this live SOAP endpoint (default: the generated mock)")
    sp.add_argument("--config", help="config file (YAML or JSON) for the in-process bridge")
    sp.add_argument("--max-examples", type=_positive, default=50, metavar="N", help="examples per operation and mode (default 50)")
    sp.add_argument("--sample", type=_positive, metavar="K", help="check a seeded sample of K operations instead of all")
    sp.add_argument("--seed", type=int, default=0, metavar="S", help="seed for the sample, the generated data and the mock (default 0)")
    sp.add_argument("--report", action="append", type=_report, metavar="KIND:FILE", help="also write junit:FILE (JUnit XML) or json:FILE; repeatable")
    sp.add_argument("--header", action="append", metavar="NAME:VALUE",
                    help="send this header with every request, e.g. the API key of an authenticated bridge; ${VAR} in VALUE is read from the environment; repeatable")  # fmt: skip
    sp.set_defaults(func=cmd_contract)

    sp = command("record", help="record one REST/SOAP exchange per operation (and per declared fault) for replay tests")
    wsdl_arg(sp)
    sp.add_argument("-o", "--output", default="contracts", metavar="DIR", help="directory for the recordings (default contracts); files go to DIR/<wsdl stem>/")
    sp.add_argument("--backend", help="record against this live SOAP endpoint (default: the generated mock)")
    sp.add_argument("--config", help="config file (YAML or JSON) for the bridge that records (wsse, ...); secrets are recorded redacted")
    sp.add_argument("--seed", type=int, default=0, metavar="S", help="seed for the example requests and the mock's replies (default 0)")
    sp.set_defaults(func=cmd_record)

    sp = command(
        "diff",
        help="list the changes between two WSDLs or specs that break REST consumers, and those that don't",
        description=f"Compare two OpenAPI 3.x documents (JSON or YAML; '-' reads stdin) or WSDLs. Exit codes: 0 nothing that "
        f"--fail-on counts, {EXIT_CHECKS} changes that it counts, {EXIT_ERROR} unreadable input, {EXIT_USAGE} usage error.",
    )
    sp.add_argument("old", metavar="OLD", type=_wsdl_source, help="the previous WSDL or spec")
    sp.add_argument("new", metavar="NEW", type=_wsdl_source, help="the new WSDL or spec")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    common(sp)
    sp.add_argument(
        "--fail-on", choices=["breaking", "any", "none"], default="breaking", help=f"which changes exit with {EXIT_CHECKS} (default: breaking)"
    )
    sp.set_defaults(func=cmd_diff)

    sp = command("demo", help="run the mock and the bridge on a bundled sample")
    sp.add_argument("wsdl", nargs="?", type=_wsdl_source, help="WSDL to demo (default: orders); a path or a bundled sample: " + samples)
    common(sp)
    listen(sp, None, "8080, or a free port if 8080 is taken")
    sp.add_argument("--mock-port", type=int, help="TCP port of the mock SOAP service (default: 8081, or a free port if 8081 is taken)")
    sp.add_argument("--seed", type=int, default=0, help="seed for the mock's replies (default: %(default)s)")
    sp.add_argument("--fault", action="append", metavar="OPERATION=FAULT", help="the mock always answers OPERATION with a declared FAULT (or client/server)")
    sp.set_defaults(func=cmd_demo)
    return p



def main(argv: list[str] | None = None) -> int:
    """Runs the command line and returns the exit status; a failure is a message on stderr, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `soapbridge`: what it can do
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a reader who went away is caught below
        return code
    except BrokenPipeError:
        # The reader closed the pipe (`soapbridge inspect X | head`): stop quietly, as Unix tools do;
        # stdout goes to /dev/null so the interpreter's last flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as if killed by SIGPIPE
    except ValidationError as exc:
        print(f"soapbridge: {exc}", file=sys.stderr)
        for v in exc.violations:
            print(f"  {v.pointer or '/'}: {v.detail}", file=sys.stderr)
        return EXIT_ERROR
    except SoapFault as exc:
        print(f"soapbridge: SOAP fault {exc.code}: {exc.reason}", file=sys.stderr)
        if exc.detail is not None:
            print(json.dumps({"fault": exc.name, "detail": exc.detail}, indent=2, default=str), file=sys.stderr)
        return EXIT_FAULT
    except BridgeError as exc:
        print(f"soapbridge: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"soapbridge: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
