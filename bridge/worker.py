"""The app factory each ``soapbridge serve --workers N`` worker process calls.

uvicorn starts workers as fresh processes that import an app by name, so the CLI hands the WSDL
and its options over in an environment variable. The CLI has already loaded the WSDL once, so
every worker reads the model and the spec from the warm disk cache.
"""

from __future__ import annotations

import gc
import json
import os
from typing import Any

from .facade import load
from .observability import configure_logging

ENV = "SOAPBRIDGE_WORKER"


def options_to_env(wsdl: str, **options: Any) -> str:
    """The WSDL and ``load`` options as the ``SOAPBRIDGE_WORKER`` value ``create_app`` reads."""
    return json.dumps({"wsdl": wsdl, **options})


def create_app() -> Any:
    """A worker's app: loads the WSDL named in ``SOAPBRIDGE_WORKER`` (from the warm cache); raises
    ``RuntimeError`` when the variable is not set."""
    raw = os.environ.get(ENV)
    if not raw:
        raise RuntimeError(f"{ENV} is not set: start workers with `soapbridge serve --workers N`")
    options = json.loads(raw)
    if "gateway" in options:  # `serve --config GATEWAY --workers N`: the supervisor handles SIGHUP
        from .gateway import load_gateway
        from .settings import LogSettings

        log = options.pop("log", None)  # the CLI's --log-format and --log-level applied
        gateway = load_gateway(options.pop("gateway"), progress=False, **options)
        configure_logging(LogSettings(**log) if log else gateway.settings.log)  # a fresh process: the CLI's set-up is not inherited
        app: Any = gateway.asgi()
        gc.freeze()
        return app
    b = load(options.pop("wsdl"), **options)
    configure_logging(b.settings.log)  # a fresh process: the CLI's logging set-up is not inherited
    app = b.asgi()
    gc.freeze()  # the model lives as long as the worker: the collector need not walk it again
    return app
