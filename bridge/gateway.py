"""Many services in one gateway (docs/gateway.md): one config file lists several WSDLs, each with its
backend, base path and settings; one ASGI app serves them all, with a combined OpenAPI document.

The config's top-level keys are the ``Settings`` every service inherits; a service's own keys
replace them (whole values: a service's ``auth`` replaces the top-level one, it is not merged).
Errors name the file, the line and the key path. ``GatewayApp.reload`` (SIGHUP under ``serve``)
swaps in a freshly loaded gateway for new requests while in-flight ones finish on the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .configmarks import Marks as _Marks
from .configmarks import locate as _locate
from .configmarks import marks as _marks
from .console import progress_bar
from .errors import BridgeError, ConfigError
from .settings import Settings, resolve_paths

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

    from .facade import Bridge

log = logging.getLogger("soapbridge.gateway")

#: A service name: a config key, a path segment and a prefix of the combined spec's component names.
SERVICE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,62}$")
#: Keys only a service has (``backend`` is ``Settings.endpoint``).
SERVICE_ONLY = ("wsdl", "backend")
#: Settings of the whole process, set once at the top level.
PROCESS_ONLY = ("server",)
#: Top-level keys that carry one backend's credentials: with several services they would go to every backend.
UPSTREAM_SECRETS = ("backend_auth", "wsse", "client_cert")
#: The scope state key the service's name is under, for middleware (metrics, logs) around the gateway.
STATE_KEY = "service"
# the combined spec's name in /docs' selector
ALL_SERVICES = "all services"


class GatewayConfigError(ConfigError):
    """A gateway config with problems: ``problems`` holds one ``file:line: key: problem`` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems) if len(problems) > 1 else problems[0])
        self.problems = problems


@dataclass(frozen=True)
class ServiceConfig:
    """One service of a gateway config: its name, WSDL and the settings it is loaded with."""

    name: str
    wsdl: str
    settings: Settings


def read_gateway(path: str | os.PathLike[str]) -> tuple[dict[str, Any], _Marks]:
    """The gateway config file's data and its line marks; a ``GatewayConfigError`` when unreadable."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatewayConfigError([f"{p}: cannot read the config file: {exc.strerror}"]) from None
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GatewayConfigError([f"{p}{line}: not valid YAML: {problem}"]) from None
    marks = _marks(str(p), text)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict) or not data["services"]:
        raise GatewayConfigError([f"{marks.at(('services',))}: services: expected a mapping of service names to their wsdl, backend and settings"])
    return data, marks


def parse_gateway(path: str | os.PathLike[str]) -> list[ServiceConfig]:
    """Every service of the gateway config at ``path`` with its settings, checked (the WSDLs are not
    loaded here). Raises ``GatewayConfigError`` listing every problem found, one line each."""
    data, marks = read_gateway(path)
    folder = Path(path).parent
    problems: list[str] = []
    services = data.pop("services")
    defaults: dict[str, Any] = {}
    for key, value in data.items():
        if key in SERVICE_ONLY or key == "base_path":
            problems.append(f"{marks.at((key,))}: {key}: set it per service, under services.NAME.{key}")
        elif key in UPSTREAM_SECRETS and len(services) > 1:
            problems.append(f"{marks.at((key,))}: {key}: credentials for a backend go under the service they are for, not the top level (every service would send them)")
        else:
            defaults[key] = value
    try:
        defaults = resolve_paths(defaults, folder)
        base = Settings().merged(**defaults)
    except ConfigError as exc:
        problems.append(_locate(marks, (), str(exc)))
        base = None
    if base is not None and base.auth is not None and len(services) > 1:
        shared = sorted(n for n, c in base.auth.consumers.items() if c.upstream is not None)
        own_auth = [n for n, s in services.items() if isinstance(s, dict) and "auth" in s]
        if shared and len(services) - len(own_auth) > 1:
            line = marks.at(("auth", "consumers", shared[0], "upstream"))
            problems.append(f"{line}: auth.consumers.{shared[0]}.upstream: upstream credentials in the top-level auth would go to every service's backend; give the services that need them their own auth section")
    out: list[ServiceConfig] = []
    paths: dict[str, str] = {}
    for name, raw in services.items():
        where = ("services", str(name))
        if not isinstance(name, str) or not SERVICE_NAME.match(name):
            problems.append(f"{marks.at(where)}: services.{name}: a service name is a letter then letters, digits, '.', '_' or '-'")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{marks.at(where)}: services.{name}: expected a mapping with wsdl, backend, base_path and settings")
            continue
        own = dict(raw)
        for key in PROCESS_ONLY:
            if key in own:
                problems.append(f"{marks.at((*where, key))}: services.{name}.{key}: set once for the whole gateway, at the top level")
                own.pop(key)
        wsdl = own.pop("wsdl", None)
        if not isinstance(wsdl, str) or not wsdl:
            problems.append(f"{marks.at(where)}: services.{name}.wsdl: required: the path (or URL) of the service's WSDL")
            continue
        if "backend" in own:
            own["endpoint"] = own.pop("backend")
        own.setdefault("base_path", f"/{name}")
        if base is None:
            continue
        try:
            own = resolve_paths(own, folder)
            s = base.merged(**own)
        except ConfigError as exc:
            msg = str(exc).replace("endpoint", "backend", 1) if str(exc).startswith("endpoint") else str(exc)
            problems.append(_locate(marks, where, msg))
            continue
        bp = s.base_path.rstrip("/")
        if not bp.startswith("/") or bp == "" or "{" in bp:
            problems.append(f"{marks.at((*where, 'base_path'))}: services.{name}.base_path: expected a path such as /{name} (not the root: the gateway's own pages are there)")
            continue
        clash = next((other for other, op in paths.items() if op == bp or op.startswith(bp + "/") or bp.startswith(op + "/")), None)
        if clash is not None:
            problems.append(f"{marks.at((*where, 'base_path'))}: services.{name}.base_path: {bp} overlaps the base path {paths[clash]} of the service {clash}")
            continue
        paths[name] = bp
        source = wsdl if "://" in wsdl or Path(wsdl).is_absolute() else str(folder / wsdl)
        out.append(ServiceConfig(name, source, s.merged(base_path=bp)))
    if problems:
        raise GatewayConfigError(problems)
    return out



class Gateway:
    """Several loaded services (``Bridge`` each), keyed by their configured name; ``asgi()`` serves them all.

    Made by ``load_gateway``. Close it (or use it as a context manager) to release the upstream connections."""

    def __init__(self, services: dict[str, Bridge], path: str | None = None, settings: Settings | None = None) -> None:
        self.services = services
        self.path = path
        #: the process-wide settings (``server``): the config's top-level keys
        self.settings = settings or Settings()
        self._spec: bytes | None = None
        self.overrides: dict[str, Any] = {}  # what load_gateway applied to every service: a reload applies them again
        self._lock = threading.Lock()  # the combined spec is built once, in a thread

    def openapi(self) -> dict[str, Any]:
        """The combined OpenAPI document of every service (a new dict each call)."""
        from .openapi import combine

        return combine({name: b.openapi() for name, b in self.services.items()})

    def openapi_bytes(self) -> bytes:
        """The combined spec as compact JSON (what GET /openapi.json serves)."""
        from .app import dumps

        with self._lock:
            if self._spec is None:
                self._spec = dumps(self.openapi())
        return self._spec

    def asgi(self, *, reload: Callable[[], Gateway] | None = None) -> GatewayApp:
        """The ASGI app of every service: each under its base path, the combined ``/openapi.json`` and
        ``/docs`` at the root. ``reload``: what ``GatewayApp.reload`` loads (default: this config again)."""
        return GatewayApp(self, reload=reload)

    def watched_files(self) -> list[Path]:
        """What a change reloads: the config file, the files it names and every local document the
        services' WSDLs were read from (their imports and includes too)."""
        files = set(referenced_files(self.path)) if self.path else set()
        for b in self.services.values():
            files.update(Path(d) for d in b.model.documents if "://" not in d and Path(d).is_file())
        return sorted(files)

    def close(self) -> None:
        """Closes every service's upstream connections."""
        for b in self.services.values():
            b.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_gateway(path: str | os.PathLike[str], *, progress: bool | None = None, **overrides: Any) -> Gateway:
    """Loads every service of the gateway config at ``path`` (YAML or JSON). ``overrides`` apply to every
    service (e.g. ``cache_dir=None``); ``progress``: a progress bar on stderr (default: when it is a terminal).
    Raises ``GatewayConfigError`` with every problem, each naming the file, line and key."""
    from .cache import load_model_cached
    from .facade import Bridge

    configs = parse_gateway(path)
    top, _ = read_gateway(path)
    top.pop("services")
    # the process's own settings: the HTTP server's limits and the log (a service's log would not apply)
    server = Settings().merged(**{k: top[k] for k in ("server", "log") if k in top})
    built: dict[str, Bridge] = {}
    problems: list[str] = []
    bar = progress_bar("loading WSDLs", progress)
    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("", total=len(configs)) if bar is not None else None
        for c in configs:
            if bar is not None:
                bar.update(task, description=c.name)
            s = c.settings.merged(**{k: v for k, v in overrides.items() if v is not None or k == "cache_dir"}) if overrides else c.settings
            try:
                stage = None if bar is None else lambda text, name=c.name: bar.update(task, description=f"{name}: {text}", refresh=True)
                model, entry = load_model_cached(c.wsdl, s, progress=stage)
                built[c.name] = Bridge(model, s, cache=entry)
            except BridgeError as exc:
                problems.append(f"{path}: services.{c.name}: {exc}")
            if bar is not None:
                bar.advance(task)
    if problems:
        for b in built.values():
            b.close()
        raise GatewayConfigError(problems)
    gateway = Gateway(built, str(path), server)
    gateway.overrides = dict(overrides)
    return gateway


def referenced_files(path: str | os.PathLike[str]) -> list[Path]:
    """The config file and every local file one of its values names (relative to its folder, or
    absolute, ``${VAR}`` expanded): WSDLs, certificates, keys, secret files. Nothing when it does
    not read (the config file alone)."""
    from .envvars import expand_env

    p = Path(path)
    found = {p}
    try:
        data, _ = read_gateway(p)
    except GatewayConfigError:
        return [p]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and "://" not in value and "\n" not in value and 0 < len(value) < 4096:
            try:
                f = Path(expand_env(value, "")) if "${" in value else Path(value)
                f = f if f.is_absolute() else p.parent / f
                if f.is_file():
                    found.add(f)
            except (ConfigError, OSError, ValueError):  # an unset variable, a name no file system takes
                pass

    walk(data)
    return sorted(found)


def is_gateway_config(path: str | os.PathLike[str]) -> bool:
    """Does the config file at ``path`` list ``services`` (a gateway) rather than one service's settings?"""
    try:
        data, _ = read_gateway(path)
    except GatewayConfigError:
        return False
    return bool(data.get("services"))


# --- the ASGI app -------------------------------------------------------------------------------


class _Generation:
    """One loaded gateway's apps, with a count of the requests in flight on them."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        # the process collectors are the root app's, once: not collected again for each service
        self.apps: list[tuple[str, str, Starlette]] = sorted(
            ((name, b.settings.base_path.rstrip("/"), b.asgi(name=name, process_metrics=False)) for name, b in gateway.services.items()),
            key=lambda t: -len(t[1]),
        )
        self.root = _root_app(gateway, {name: app for name, _, app in self.apps})
        self.inflight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.stack = contextlib.AsyncExitStack()

    async def start(self) -> None:
        """Runs each service app's start-up (warm-up, rate-limit storage probe)."""
        for _, _, app in self.apps:
            await self.stack.enter_async_context(app.router.lifespan_context(app))

    async def stop(self) -> None:
        """Waits for the requests in flight, then closes the services' upstream connections."""
        await self.idle.wait()
        await self.stack.aclose()
        self.gateway.close()

    def route(self, path: str) -> tuple[str | None, Any]:
        for name, base, app in self.apps:
            if path == base or path.startswith(base + "/"):
                return name, app
        return None, self.root


class GatewayApp:
    """The ASGI app of a ``Gateway``. Each request is served by the services loaded when it arrived:
    ``reload()`` loads the config again and swaps it in for later requests; the old services close
    once their last request is done. The service's name is put in ``scope["state"]["service"]``."""

    def __init__(self, gateway: Gateway, reload: Callable[[], Gateway] | None = None) -> None:
        self.current = _Generation(gateway)
        self._reload = reload or (lambda: load_gateway(gateway.path or "", progress=False, **gateway.overrides))
        self._lock: asyncio.Lock | None = None
        self.reloads = 0  # successful reloads, for tests and logs
        self.started = False
        self.handle_sighup = False  # `serve` sets it: SIGHUP then reloads (install_sighup at start-up)
        #: `serve --reload-on-change` sets it: a change to the config or a file it names reloads, from start-up on
        self.reload_on_change = False
        self.watcher: Any = None  # the FileWatcher, while it runs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serves a request with the services current when it arrived; runs the services' start-up and shut-down."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        gen = self.current
        name, app = gen.route(scope.get("path", ""))
        if name is not None:
            scope.setdefault("state", {})[STATE_KEY] = name
        gen.inflight += 1
        gen.idle.clear()
        try:
            await app(scope, receive, send)
        finally:
            gen.inflight -= 1
            if gen.inflight == 0:
                gen.idle.set()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.current.start()
                    self.started = True
                    if self.handle_sighup:
                        self.install_sighup()
                    if self.reload_on_change:
                        self.watch_files()
                except Exception as exc:  # the server says it and exits
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.watcher is not None:
                    await asyncio.get_running_loop().run_in_executor(None, self.watcher.stop)
                await self.current.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def reload(self) -> bool:
        """Loads the config again (off the event loop) and, if it is good, serves later requests with it.
        On an error the old services go on serving and the error is logged. Returns whether it swapped."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                gateway = await asyncio.get_running_loop().run_in_executor(None, self._reload)
            except ConfigError as exc:
                lines = getattr(exc, "problems", [str(exc)])
                log.error("reload failed, still serving the previous config: %s", "; ".join(lines))
                return False
            except Exception as exc:
                log.error("reload failed, still serving the previous config: %s: %s", type(exc).__name__, exc)
                return False
            new = _Generation(gateway)
            try:
                if self.started:
                    await new.start()
            except Exception as exc:
                log.error("reload failed at start-up, still serving the previous config: %s", exc)
                await new.stack.aclose()
                gateway.close()
                return False
            old, self.current = self.current, new
            self.reloads += 1
            if self.watcher is not None:  # the new config may name other files
                self.watcher.watch(await asyncio.get_running_loop().run_in_executor(None, gateway.watched_files))
            log.warning("reloaded %s: %d service(s): %s", gateway.path, len(gateway.services), ", ".join(gateway.services))
        if self.started:
            asyncio.get_running_loop().create_task(old.stop())
        return True

    def watch_files(self) -> None:
        """Reloads when the config file or a file it names changes (call it in the running event loop):
        a thread watches them (``bridge.watch``) and runs what SIGHUP runs."""
        from .watch import FileWatcher

        loop = asyncio.get_running_loop()

        def trigger() -> None:  # from the watching thread
            loop.call_soon_threadsafe(lambda: loop.create_task(self.reload()))

        self.watcher = FileWatcher(self.current.gateway.watched_files(), trigger)
        self.watcher.start()

    def install_sighup(self) -> None:
        """Reloads on SIGHUP (call it in the running event loop)."""
        import signal

        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))


def _root_app(gateway: Gateway, apps: dict[str, Starlette]) -> Starlette:
    """The gateway's own pages: the combined spec, its docs, health, the probes and metrics of every
    service (``apps``), and problem+json 404s."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route

    from .app import _DOCS, _SwaggerAssets, problem

    async def openapi_json(request: Request) -> Response:
        # Built on first request, off the event loop: combining 40 services' specs takes seconds and
        # hundreds of MB that a gateway's start need not pay (docs/gateway.md has the figures).
        return Response(await run_in_threadpool(gateway.openapi_bytes), media_type="application/json")

    async def docs(request: Request) -> Response:
        # with the standalone preset: its top bar selects the combined spec or one service's
        page = _DOCS.format(title="soapbridge gateway", base="")
        preset = '<script src="/docs/static/swagger-ui-standalone-preset.js"></script>\n'
        return HTMLResponse(page.replace('<script src="/docs/init.js">', preset + '<script src="/docs/init.js">'))

    async def docs_init(request: Request) -> Response:
        urls = [{"url": "/openapi.json", "name": ALL_SERVICES}]
        urls += [{"url": f"{b.settings.base_path.rstrip('/')}/openapi.json", "name": name} for name, b in gateway.services.items()]
        config = {"urls": urls, "urls.primaryName": ALL_SERVICES, "dom_id": "#ui", "deepLinking": True, "layout": "StandaloneLayout"}
        script = f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(config)}, " \
                 "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset]}));"  # fmt: skip
        return Response(script, media_type="application/javascript")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "services": {n: len(b.routed) for n, b in gateway.services.items()}})

    async def home(request: Request) -> Response:
        return RedirectResponse("/docs")

    async def livez(request: Request) -> Response:
        return JSONResponse({"status": "alive"}, headers={"cache-control": "no-store"})

    async def readyz(request: Request) -> Response:
        # ready when every service is: one not ready (starting, draining, a backend silent) says why
        services = {name: app.state.health.readiness() for name, app in sorted(apps.items())}
        ok = all(ready for ready, _ in services.values())
        body = {"status": "ready" if ok else "not ready", "services": {n: why for n, (_, why) in services.items()}}
        return JSONResponse(body, status_code=200 if ok else 503, headers={"cache-control": "no-store"})

    registries = [app.state.metrics for app in apps.values() if app.state.metrics is not None]
    process = None
    if registries and not registries[0].multiprocess:
        from prometheus_client import CollectorRegistry

        from .observability import add_process_collectors

        process = CollectorRegistry(auto_describe=False)
        add_process_collectors(process)

    async def metrics(request: Request) -> Response:
        if not registries:
            return problem(404, "not-found", "Not found", "metrics are off (metrics: false)")
        data, ctype = merged_exposition(registries, process)
        return Response(data, headers={"content-type": ctype, "cache-control": "no-store"})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            bases = ", ".join(b.settings.base_path for b in gateway.services.values())
            return problem(404, "not-found", "Not found", f"no route for {request.url.path}; the services are under {bases}; see /openapi.json")
        if exc.status_code == 405:
            return problem(405, "method-not-allowed", "Method not allowed", f"{request.method} is not allowed on {request.url.path}")
        return problem(exc.status_code, "http", exc.detail or "HTTP error")

    return Starlette(
        routes=[
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Route("/docs", docs, methods=["GET"]),
            Route("/docs/init.js", docs_init, methods=["GET"]),
            Mount("/docs/static", _SwaggerAssets()),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/", home, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
    )


def merged_exposition(registries: list[Any], process: Any = None) -> tuple[bytes, str]:
    """One Prometheus text page for every service's registry (``observability.Metrics``): the
    soapbridge_* families merged (their samples differ by the service label), then the families of
    ``process`` (a registry of the process collectors, the gateway's one). A collector in several
    registries is shown once. Under ``--workers`` the multi-process files hold every service."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.metrics_core import Metric

    if registries[0].multiprocess:
        return tuple(registries[0].exposition())  # type: ignore[return-value]
    families: dict[str, Metric] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for source in [m.registry for m in registries] + ([process] if process is not None else []):
        for family in source.collect():
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in seen:
                    seen.add(key)
                    merged.samples.append(sample)

    class _Merged:
        def collect(self) -> Any:
            return iter(families.values())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged())  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def check_config(path: str | os.PathLike[str], *, progress: bool | None = False, **overrides: Any) -> Iterator[str]:
    """Every problem of the gateway config at ``path``, one line each, the WSDLs loaded too."""
    try:
        load_gateway(path, progress=progress, **overrides).close()
    except GatewayConfigError as exc:
        yield from exc.problems
    except BridgeError as exc:
        yield f"{path}: {exc}"


def _checked_multiprocess() -> type:
    import signal

    from .server import Supervisor

    class Checked(Supervisor):
        """The supervisor of ``serve --config GATEWAY --workers N``. On SIGHUP uvicorn's replaces its
        workers one by one; here only once the config loads, so that a bad one leaves the running
        workers serving the old config. With ``watch`` (the files to watch, ``--reload-on-change``),
        a change to one of them is handled as a SIGHUP: the supervisor watches, not the workers."""

        def __init__(self, *args: Any, path: str, overrides: dict[str, Any] | None = None, watch: list[Path] | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.path = path
            self.overrides = overrides or {}
            self.watcher: Any = None
            if watch is not None:
                from .watch import FileWatcher

                # the same path as a SIGHUP: the main loop handles the queued signal
                self.watcher = FileWatcher(watch, lambda: self.signal_queue.append(signal.SIGHUP))

        def run(self) -> None:
            """Supervises the workers (and watches the files) until told to stop."""
            if self.watcher is not None:
                self.watcher.start()
            try:
                super().run()
            finally:
                if self.watcher is not None:
                    self.watcher.stop()

        def handle_hup(self) -> None:
            try:
                gateway = load_gateway(self.path, progress=False, **self.overrides)
            except GatewayConfigError as exc:
                problems = exc.problems
            except BridgeError as exc:
                problems = [f"{self.path}: {exc}"]
            else:
                problems = []
                if self.watcher is not None:  # the new config may name other files
                    self.watcher.watch(gateway.watched_files())
                gateway.close()
            if problems:
                log.error("reload failed, still serving the previous config: %s", "; ".join(problems))
                return
            super().handle_hup()
            log.warning("reloaded %s: the workers were replaced one by one", self.path)

    return Checked


def __getattr__(name: str) -> Any:
    if name == "CheckedMultiprocess":  # built on first use: uvicorn's supervisors are not imported otherwise
        return _checked_multiprocess()
    raise AttributeError(name)
