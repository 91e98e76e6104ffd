"""The disk cache: a loaded WSDL's service model and its OpenAPI spec, so a warm start skips zeep,
the XSD reader and the spec generator, and worker processes share one build.

Layout, under the cache directory (``Settings.cache_dir``; "auto" is ``$SOAPBRIDGE_CACHE_DIR``,
else ``$XDG_CACHE_HOME/soapbridge``, else ``~/.cache/soapbridge``)::

    <sha256(location, allow_network)>.model       one per WSDL location: header + pickled ServiceModel
    <model digest>-<settings digest>.spec.json    the spec for one model and the settings it depends on

A model file's header lists every document the loader asked for (the WSDL, each wsdl:import,
xsd:import and xsd:include, the catalogue schemas) with the sha256 of its bytes, or a mark that it
could not be loaded. A lookup re-hashes each of them: a change to any imported file, or a missing
import appearing, makes the entry stale and the model is rebuilt. The header also holds a
fingerprint of soapbridge's code, Python and the libraries that shape the model; the model digest
covers all of it, so a spec is never paired with another model.

Trust model: unpickling runs code, so a cache entry is trusted like soapbridge's own code. The
directory is created 0700 and files 0600; a directory or file that another user owns or that
others can write is never read (the cache is then off, with a warning). Entries are written to a
temporary file and renamed, so processes starting together never see half a file; a corrupt or
foreign entry (bad magic, header or payload hash) is ignored and rebuilt. Entries from documents
fetched over the network are not cached: they cannot be re-checked offline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import importlib.util
import json
import logging
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._version import __version__
from .model import ServiceModel
from .settings import Settings

log = logging.getLogger("soapbridge.cache")

FORMAT = 4  # 2: Operation.wsa_action, wsa_policy; 3: wsa_reply_action; 4: mtom_policy
MAGIC = b"soapbridge-cache\n"
AUTO = "auto"
ENV_DIR = "SOAPBRIDGE_CACHE_DIR"
_OFF = ("", "off", "none", "0", "false", "no")
_warned: set[str] = set()


def _warn_once(text: str) -> None:
    if text not in _warned:
        _warned.add(text)
        log.warning("%s", text)


def resolve_dir(setting: str | os.PathLike[str] | None) -> Path | None:
    """The cache directory a ``cache_dir`` setting names, or None when caching is off."""
    if setting is None:
        return None
    if os.fspath(setting) == AUTO:
        env = os.environ.get(ENV_DIR)
        if env is not None:
            return None if env.strip().lower() in _OFF else Path(env).expanduser()
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec ignores relative values
        return base / "soapbridge"
    return Path(setting).expanduser()


def _sha256_file(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


_environment: str | None = None


def environment() -> str:
    """soapbridge's code, Python and the libraries whose behaviour shapes the model: a change to
    any of them (an upgrade, or an edited checkout) retires every entry."""
    global _environment
    if _environment is None:
        h = hashlib.sha256()
        h.update(f"{FORMAT}\0{__version__}\0{sys.version}\0".encode())
        package = Path(__file__).resolve().parent
        files = sorted(package.rglob("*.py"))
        # Their __init__ carries their version (lxml's wheels bundle their libxml2), and finding a
        # file imports nothing: zeep costs 0.2 s to import, lxml 15 ms of a warm start.
        for name in ("zeep", "lxml"):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                files.append(Path(spec.origin))
        for f in files:
            h.update(f"{f.name}\0{_sha256_file(str(f))}\0".encode())
        _environment = h.hexdigest()
    return _environment


def digest_of(value: Any) -> str:
    """A stable hash of plain data and dataclasses (used for the settings a spec depends on)."""

    def default(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        if isinstance(o, (tuple, set, frozenset)):
            return sorted(o) if isinstance(o, (set, frozenset)) else list(o)
        raise TypeError(f"{type(o).__name__} is not hashable data")

    return hashlib.sha256(json.dumps(value, sort_keys=True, default=default).encode()).hexdigest()


class DiskCache:
    """The cache directory: model files and spec files (layout and trust model in the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._checked = False
        self._ok = False

    # --- the directory ----------------------------------------------------------------

    def usable(self) -> bool:
        """Creates the directory (0700) if needed; False when it is not safe or not writable."""
        if self._checked:
            return self._ok
        self._checked = True
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = os.stat(self.root)
        except OSError as exc:
            _warn_once(f"cache directory {self.root} is not usable ({exc.strerror or exc}); caching is off")
            return False
        if not stat.S_ISDIR(st.st_mode):
            _warn_once(f"cache directory {self.root} is not a directory; caching is off")
            return False
        if not _trusted(st):
            _warn_once(
                f"cache directory {self.root} is owned by another user or writable by others; caching is off "
                "(cache entries are pickles, which run code when read)"
            )
            return False
        self._ok = True
        return True

    def _read(self, path: Path) -> bytes | None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            if not _trusted(os.fstat(fd)):
                _warn_once(f"cache file {path} is owned by another user or writable by others; ignored")
                return None
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def _write(self, path: Path, chunks: list[bytes]) -> None:
        """Atomically: a 0600 temporary file in the same directory, then rename."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as fh:
                for c in chunks:
                    fh.write(c)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # --- models -----------------------------------------------------------------------

    def _model_path(self, location: str, allow_network: bool) -> Path:
        key = hashlib.sha256(f"{location}\0{allow_network}".encode()).hexdigest()
        return self.root / f"{key}.model"

    def load_model(self, location: str, allow_network: bool) -> tuple[ServiceModel, str] | None:
        """The cached model and its digest, if every document it was built from is unchanged."""
        if not self.usable():
            return None
        path = self._model_path(location, allow_network)
        data = self._read(path)
        if data is None:
            return None
        parsed = _split(data)
        if parsed is None:
            log.info("cache entry %s is corrupt; rebuilding", path.name)
            return None
        header, payload = parsed
        if header.get("environment") != environment() or header.get("location") != location or header.get("allow_network") != allow_network:
            log.info("cache entry %s is from another soapbridge, Python or WSDL; rebuilding", path.name)
            return None
        hashes: dict[str, str | None] = {}
        for _url, kind, target, digest in header["documents"]:
            if kind == "network":  # refused: network loading is off, and part of the key
                continue
            if target not in hashes:
                hashes[target] = _sha256_file(target)
            if hashes[target] != digest:
                log.info("cache entry %s is stale: %s changed", path.name, target)
                return None
        if hashlib.sha256(payload).hexdigest() != header.get("payload"):
            log.info("cache entry %s is corrupt; rebuilding", path.name)
            return None
        try:
            with no_gc():
                model = pickle.loads(payload)
        except Exception as exc:  # a damaged pickle can raise almost anything
            log.info("cache entry %s does not unpickle (%s); rebuilding", path.name, exc)
            return None
        if not isinstance(model, ServiceModel):
            return None
        return model, str(header["digest"])

    def store_model(self, location: str, allow_network: bool, model: ServiceModel, sources: dict[str, tuple[str, str, bool]]) -> str | None:
        """Writes the entry; returns its digest, or None when the model cannot be cached."""
        if not self.usable():
            return None
        documents: list[list[Any]] = []
        for url, (kind, target, loaded) in sorted(sources.items()):
            if kind == "network":
                if allow_network:
                    return None  # fetched (or tried) over the network: cannot be re-checked offline
                documents.append([url, kind, target, None])
                continue
            # Hash the bytes the loader read, not the file now: a file changed mid-load is then stale.
            content = model.documents.get(url) if loaded else None
            documents.append([url, kind, target, hashlib.sha256(content).hexdigest() if content is not None else _sha256_file(target)])
        try:
            payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, RecursionError, TypeError) as exc:
            _warn_once(f"the model of {location} cannot be cached: {exc}")
            return None
        digest = digest_of([environment(), location, allow_network, documents])
        header = {
            "format": FORMAT,
            "environment": environment(),
            "location": location,
            "allow_network": allow_network,
            "documents": documents,
            "payload": hashlib.sha256(payload).hexdigest(),
            "digest": digest,
        }
        path = self._model_path(location, allow_network)
        old = self._read(path)
        head = json.dumps(header).encode()
        try:
            self._write(path, [MAGIC, b"%d\n" % len(head), head, payload])
        except OSError as exc:
            _warn_once(f"cannot write to the cache directory {self.root} ({exc.strerror or exc}); caching is off")
            self._ok = False
            return None
        previous = _split(old) if old else None
        if previous is not None and previous[0].get("digest") != digest:
            for spec in self.root.glob(f"{previous[0].get('digest')}-*.json"):  # specs of the replaced model
                with contextlib.suppress(OSError):
                    spec.unlink()
        return digest

    # --- specs ------------------------------------------------------------------------

    def _spec_path(self, digest: str, settings_key: str, part: str) -> Path:
        return self.root / f"{digest}-{settings_key}.{part}.json"

    def load_spec(self, digest: str, settings_key: str, part: str = "spec") -> bytes | None:
        """The spec (``part="spec"``) or its component schemas alone (``"schemas"``), as JSON."""
        if not self.usable():
            return None
        data = self._read(self._spec_path(digest, settings_key, part))
        if data is None:
            return None
        check, _, spec = data.partition(b"\n")
        if hashlib.sha256(spec).hexdigest().encode() != check:  # torn or foreign: rebuilt
            log.info("cached spec %s is corrupt; rebuilding", digest)
            return None
        return spec

    def store_spec(self, digest: str, settings_key: str, part: str, data: bytes) -> None:
        """Stores a spec part beside its hash; does nothing when the directory is not usable, warns once
        when a write fails."""
        if not self.usable():
            return
        try:
            self._write(self._spec_path(digest, settings_key, part), [hashlib.sha256(data).hexdigest().encode(), b"\n", data])
        except OSError as exc:
            _warn_once(f"cannot write to the cache directory {self.root} ({exc.strerror or exc})")


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Building tens of thousands of objects at once (unpickling a model, parsing a spec) would
    run the cycle collector over and over, over everything alive: 2x to 10x slower."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def json_loads(data: bytes) -> Any:
    """``json.loads`` with the cycle collector held (see ``no_gc``), for large cached specs."""
    with no_gc():
        return json.loads(data)


def _trusted(st: os.stat_result) -> bool:
    getuid: Callable[[], int] | None = getattr(os, "getuid", None)
    if getuid is None:  # no POSIX owners (Windows): rely on the profile directory's ACLs
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _split(data: bytes) -> tuple[dict[str, Any], memoryview] | None:
    """Header and payload of a model file, or None if it is not one of ours."""
    if not data.startswith(MAGIC):
        return None
    start = len(MAGIC)
    end = data.find(b"\n", start, start + 20)
    line = data[start:end]
    if end < 0 or not line.isdigit():
        return None
    n = int(line)
    view = memoryview(data)[end + 1 :]  # no copy of a payload of megabytes
    if n > len(view):
        return None
    try:
        header = json.loads(bytes(view[:n]))
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(header.get("documents"), list):
        return None
    return header, view[n:]


@dataclasses.dataclass
class CacheEntry:
    """A model's place in the cache, for the spec built from it."""

    cache: DiskCache
    digest: str

    def load_spec(self, settings: Settings, part: str) -> bytes | None:
        """The cached spec part for these settings, or None if absent or corrupt."""
        return self.cache.load_spec(self.digest, spec_key(settings), part)

    def store_spec(self, settings: Settings, part: str, data: bytes) -> None:
        """Stores the spec part built for these settings."""
        self.cache.store_spec(self.digest, spec_key(settings), part, data)


def spec_key(settings: Settings) -> str:
    """The settings the spec depends on (routing, the statuses it documents, its info), hashed."""
    return digest_of({"status": settings.status, "ports": settings.ports, "routes": settings.routes, "base_path": settings.base_path,
                      "license": settings.license, "contact": settings.contact,
                      "auth": settings.auth.spec_view() if settings.auth is not None else None,
                      # the 429 responses and RateLimit headers (left out when off: older keys stay valid)
                      **({"rate_limits": True} if settings.rate_limits is not None else {}),
                      **({"form_requests_in_spec": True} if settings.form_requests_in_spec else {})})[:32]


def open_cache(settings: Settings) -> DiskCache | None:
    """The disk cache the settings name, or None when caching is off."""
    root = resolve_dir(settings.cache_dir)
    return DiskCache(root) if root is not None else None


def load_model_cached(
    source: str | os.PathLike[str], settings: Settings, *, progress: Callable[[str], None] | None = None
) -> tuple[ServiceModel, CacheEntry | None]:
    """The model of a WSDL, from the cache when every document it came from is unchanged. ``progress`` is
    told each stage as text (the CLI's spinner)."""
    from .wsdl.sources import resolve_location

    location = resolve_location(source)
    cache = open_cache(settings)
    if cache is not None:
        if progress is not None:
            progress("reading the cache")
        hit = cache.load_model(location, settings.allow_network)
        if hit is not None:
            log.info("loaded %s from the cache %s", location, cache.root)
            return hit[0], CacheEntry(cache, hit[1])
    from .proxies import Proxies
    from .wsdl.loader import load_model_traced  # zeep and the readers: only on a miss

    proxies = Proxies(settings.proxy, settings.no_proxy)
    model, sources = load_model_traced(
        location, allow_network=settings.allow_network, timeout=settings.read_timeout, verify_tls=settings.verify_tls, proxies=proxies,
        progress=progress,
    )  # fmt: skip
    gc.collect()  # zeep's document graph is cyclic garbage now, tens of megabytes for a large WSDL
    if cache is None:
        return model, None
    if progress is not None:
        progress("writing the cache")
    digest = cache.store_model(location, settings.allow_network, model, sources)
    return model, (CacheEntry(cache, digest) if digest is not None else None)
