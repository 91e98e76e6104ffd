"""Reload on a file change (``serve --config FILE --reload-on-change``, docs/gateway.md).

A thread watches the folders of the config file and of every file it names (WSDLs and the
documents they import, certificates, keys, secret files) with ``watchfiles``, and when the
content of one of those files changed, calls ``trigger``: what SIGHUP runs. The folders are
watched, not the files, so that a file replaced by a rename (editors, Kubernetes ConfigMap
updates, which swap a symbolic link) is seen; the contents are compared, so that events on other
files of a folder, or a save that changed nothing, reload nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("soapbridge.gateway")

#: A batch of changes is acted on once nothing changed for this long (an editor's save, a
#: ConfigMap's swap and a `cp` of several files each come as one reload) ...
QUIET_MS = 400
#: ... or once this long passed since its first change, whichever comes first.
MAX_WAIT_MS = 5000


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:  # gone, or unreadable for now: a change too
        return None


class FileWatcher:
    """Watches ``files`` in a thread (``start``/``stop``); ``trigger()`` is called, from that
    thread, each time their contents differ from the last ones seen. ``watch(files)`` replaces
    the set (after a reload: the new config may name other files)."""

    def __init__(self, files: Iterable[str | Path], trigger: Callable[[], None]) -> None:
        self.trigger = trigger
        self._lock = threading.Lock()
        self._seen: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._moved = threading.Event()  # the set changed: the folders to watch may have too
        self._thread: threading.Thread | None = None
        self.watch(files)

    @property
    def files(self) -> list[str]:
        """The files watched."""
        with self._lock:
            return sorted(self._seen)

    def watch(self, files: Iterable[str | Path]) -> None:
        """Watches ``files`` from now on. A file already watched keeps the content last seen, so that
        a change made while a reload was reading it still triggers another reload."""
        paths = {str(Path(f).absolute()) for f in files}
        with self._lock:
            self._seen = {p: self._seen[p] if p in self._seen else _digest(p) for p in paths}
        self._moved.set()

    def start(self) -> None:
        """Starts the watching thread."""
        self._thread = threading.Thread(target=self._run, name="soapbridge-config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the watching thread (within about a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def check(self) -> bool:
        """Compares the files with their contents last seen; calls ``trigger`` when one differs."""
        with self._lock:
            now = {p: _digest(p) for p in self._seen}
            changed = sorted(p for p, d in now.items() if d != self._seen[p])
            self._seen = now
        if changed:
            log.info("changed: %s; reloading", ", ".join(changed))
            self.trigger()
        return bool(changed)

    def _run(self) -> None:
        from watchfiles import watch

        while not self._stop.is_set():
            self._moved.clear()
            folders = sorted({str(Path(p).parent) for p in self.files if Path(p).parent.is_dir()})
            first = True
            try:
                # rust_timeout: back every second to see the stop and a changed set of files
                for changes in watch(
                    *folders, watch_filter=None, debounce=MAX_WAIT_MS, step=QUIET_MS, stop_event=self._stop, rust_timeout=1000,
                    yield_on_timeout=True, recursive=False, raise_interrupt=False,
                ):  # fmt: skip
                    if changes or first:  # first: a change made while the folders were not watched yet
                        first = False
                        self.check()
                    if self._moved.is_set():
                        break
            except Exception as exc:  # a folder removed meanwhile, inotify limits: say it, try again
                log.warning("watching %s failed (%s: %s); retrying", ", ".join(folders), type(exc).__name__, exc)
                self._stop.wait(2)
