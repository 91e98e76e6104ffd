"""Rate limits of REST consumers (docs/rate-limits.md), counted by the ``limits`` library.

Each request to an operation takes one unit from every policy that applies to it: its consumer's
limit (``rate_limits.consumers[name]``, else ``default``) and each ``operations`` pattern it
matches, counted per consumer. The consumer is the name authentication put in
``scope["state"]["consumer"]``, else the client address. Counting is fixed-window: one counter
per window (a single atomic INCR in Redis), so at most the limit is admitted per window.

The headers are those of draft-ietf-httpapi-ratelimit-headers-12: ``RateLimit-Policy`` and
``RateLimit`` on every answer of a limited operation, ``Retry-After`` on a 429.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.storage import storage_from_string

from .errors import RateLimited, RateLimitUnavailable
from .model import Operation
from .settings import RateLimits

log = logging.getLogger("soapbridge.ratelimit")

# After the counters fail, requests skip them this long (on_storage_error decides), so a dead
# Redis costs one timeout per interval and worker, not one per request.
RETRY_INTERVAL = 1.0
# Keys in the storage: soapbridge/<policy>/<partition>/<limit>, the last part by limits.
NAMESPACE = "soapbridge"


def _sf_string(text: str) -> str:
    """An RFC 9651 String: printable ASCII, with " and \\ escaped (anything else as ?)."""
    chars = (c if " " <= c <= "~" else "?" for c in text)
    return '"' + "".join("\\" + c if c in '"\\' else c for c in chars) + '"'


@dataclass(frozen=True)
class Policy:
    """One quota: ``item`` (e.g. 100 per 1 second) under a name the headers show."""

    name: str
    item: RateLimitItem

    @property
    def window(self) -> int:
        return int(self.item.get_expiry())

    @property
    def header(self) -> str:
        return f"{_sf_string(self.name)};q={self.item.amount};w={self.window}"


def policies(scope: str, limit: str) -> list[Policy]:
    """The policies of one limit string ("10/second;1000/day"), named <scope>-<window>s."""
    out: list[Policy] = []
    for item in parse_many(limit):
        name = f"{scope}-{int(item.get_expiry())}s"
        if any(p.name == name for p in out):  # two quotas on one window: only the smaller counts
            raise ValueError(f"{limit!r} gives two limits for the same window")
        out.append(Policy(name, item))
    return out


def operation_names(op: Operation) -> tuple[str, ...]:
    """What an ``operations`` pattern is matched against: Service.Operation and Operation."""
    return (f"{op.service}.{op.name}", op.name)


def storage_uri(uri: str) -> str:
    """The ``limits`` URI of the asynchronous storage: the event loop must never wait on Redis."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """Counts requests against the configured policies; one per app (and so per worker)."""

    def __init__(self, config: RateLimits) -> None:
        self.config = config
        uri = storage_uri(config.storage)
        options: dict[str, Any] = {}
        # memory counters never wait: the timeout (4.5 us a request) only guards a remote storage
        self.memory = uri.startswith("async+memory")
        if not self.memory:
            # bounded waits inside the client too, beside the overall timeout in check()
            options = {"connect_timeout": config.storage_timeout, "stream_timeout": config.storage_timeout}
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        assert isinstance(storage, Storage)  # an async+ URI gives an asynchronous storage
        self.storage = storage
        self.default = policies("consumer", config.default) if config.default else []
        self.consumers = {name: policies("consumer", limit) for name, limit in config.consumers.items()}
        self.operations = [(pattern, policies(pattern, limit)) for pattern, limit in config.operations.items()]
        # (consumer with its own limit or None, operation key) -> its policies and RateLimit-Policy value
        self._plans: dict[tuple[str | None, str], tuple[list[Policy], str]] = {}
        self._down_until = 0.0
        self.timeout = config.storage_timeout
        self.deny_when_down = config.on_storage_error == "deny"

    def plan(self, op: Operation, consumer: str | None) -> tuple[list[Policy], str]:
        """The policies a request of ``consumer`` to ``op`` counts against, and their header."""
        own = consumer if consumer in self.consumers else None
        key = (own, op.key)
        found = self._plans.get(key)
        if found is None:
            chosen = list(self.consumers[own] if own is not None else self.default)
            names = operation_names(op)
            for pattern, ps in self.operations:
                if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                    chosen.extend(ps)
            found = self._plans[key] = (chosen, ", ".join(p.header for p in chosen))
        return found

    async def check(self, op: Operation, consumer: str | None, client: str | None) -> dict[str, str]:
        """Counts one request; the RateLimit headers of its answer. Raises ``RateLimited`` when
        it is over a limit, ``RateLimitUnavailable`` when the counters are down and the config
        says deny."""
        chosen, policy_header = self.plan(op, consumer)
        if not chosen:
            return {}
        # consumer names and addresses never collide: each has its own prefix
        partition = f"c:{consumer}" if consumer is not None else f"a:{client or 'unknown'}"
        now = time.time()
        if now < self._down_until:
            return self._down()
        try:
            async with asyncio.timeout(None if self.memory else self.timeout):
                counts = []
                for p in chosen:
                    key = p.item.key_for(NAMESPACE, p.name, partition)
                    # what limits' FixedWindowRateLimiter.hit does, keeping the count for the headers
                    count = await self.storage.incr(key, p.item.get_expiry())
                    counts.append((p, count, await self.storage.get_expiry(key)))
        except Exception as exc:  # limits' StorageError, a timeout, whatever the client raises
            self._down_until = time.time() + RETRY_INTERVAL
            what = "denied" if self.deny_when_down else "admitted without counting"
            log.warning("rate-limit storage unreachable (%s); requests are %s for %.0f s", type(exc).__name__, what, RETRY_INTERVAL)
            return self._down()
        now = time.time()
        items = []
        violated = []
        retry_after = 0
        for p, count, reset in counts:
            t = max(0, math.ceil(reset - now))
            items.append(f"{_sf_string(p.name)};r={max(0, p.item.amount - count)};t={t}")
            if count > p.item.amount:
                violated.append(p.name)
                retry_after = max(retry_after, t, 1)
        headers = {"RateLimit-Policy": policy_header, "RateLimit": ", ".join(items)}
        if violated:
            raise RateLimited(violated, retry_after, {**headers, "Retry-After": str(retry_after)})
        return headers

    def _down(self) -> dict[str, str]:
        if self.deny_when_down:
            raise RateLimitUnavailable(max(1, math.ceil(self._down_until - time.time())))
        return {}
