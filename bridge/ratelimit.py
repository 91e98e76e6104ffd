"""Rate limits of REST consumers (docs/rate-limits.md), counted by the ``limits`` library.

Each request to an operation takes one unit from every policy that applies to it: its consumer's
limit (``rate_limits.consumers[name]``, else ``default``) and each ``operations`` pattern it
matches, counted per consumer. The consumer is the name authentication put in
``scope["state"]["consumer"]``, else the client address. Counting is fixed-window: one counter
per window (in Redis, one script that increments it and sets its expiry together), so at most the
limit is admitted per window. A consumer may also have a cap on its requests in flight (counted
in this process) and on its request body size.

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
# Keys in the storage: soapbridge/<service>/<policy>/<partition>/<limit>, the last part by limits;
# <service> is the gateway's name for the service, or the WSDL's service name(s) joined by "+".
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
        """The window in whole seconds (the draft's ``w``)."""
        return int(self.item.get_expiry())

    @property
    def header(self) -> str:
        """This policy as an item of the RateLimit-Policy field."""
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


# The name of the concurrency policy in the headers (quota unit concurrent-requests).
CONCURRENCY = "consumer-concurrency"


@dataclass(frozen=True)
class Plan:
    """What applies to one consumer's requests to one operation."""

    policies: list[Policy]
    header: str  # the RateLimit-Policy value
    concurrency: int | None
    max_request_bytes: int | None


@dataclass(frozen=True)
class Admission:
    """An admitted request: its answer's headers, its concurrency slot, its body size limit."""

    headers: dict[str, str]
    slot: str | None
    max_request_bytes: int | None


def operation_names(op: Operation) -> tuple[str, ...]:
    """What an ``operations`` pattern is matched against: Service.Operation and Operation."""
    return (f"{op.service}.{op.name}", op.name)


def storage_uri(uri: str) -> str:
    """The ``limits`` URI of the asynchronous storage: the event loop must never wait on Redis."""
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """Counts requests against the configured policies; one per app (and so per worker)."""

    def __init__(self, config: RateLimits, service: str = "") -> None:
        """``service``: the name the counters are kept under, so that services sharing a storage
        count apart."""
        self.config = config
        self.service = service
        self._prefix = (NAMESPACE, service) if service else (NAMESPACE,)
        uri = storage_uri(config.storage)
        options: dict[str, Any] = {}
        # memory counters never wait: the timeout (4.5 us a request) only guards a remote storage
        self.memory = uri.startswith("async+memory")
        if not self.memory:
            # bounded waits inside the client too, beside the overall timeout in check()
            # redis-py: its Lua script increments and sets the expiry at once (see pyproject.toml)
            options = {"implementation": "redispy", "socket_connect_timeout": config.storage_timeout, "socket_timeout": config.storage_timeout}
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        assert isinstance(storage, Storage)  # an async+ URI gives an asynchronous storage
        self.storage = storage
        self.default = policies("consumer", config.default) if config.default else []
        self.consumers = {name: c for name, c in config.consumers.items()}
        self.rates = {name: policies("consumer", c.rate) for name, c in config.consumers.items() if c.rate is not None}
        self.operations = [(pattern, policies(pattern, limit)) for pattern, limit in config.operations.items()]
        # (consumer with its own limits or None, operation key) -> what applies
        self._plans: dict[tuple[str | None, str], Plan] = {}
        self._in_flight: dict[str, int] = {}  # partition -> its requests being answered now
        self._down_until = 0.0
        self.timeout = config.storage_timeout
        self.deny_when_down = config.on_storage_error == "deny"

    def plan(self, op: Operation, consumer: str | None) -> Plan:
        """What a request of ``consumer`` to ``op`` counts against."""
        own = consumer if consumer in self.consumers else None
        key = (own, op.key)
        found = self._plans.get(key)
        if found is None:
            mine = self.consumers.get(own) if own is not None else None
            chosen = list(self.rates.get(own, self.default) if own is not None else self.default)
            names = operation_names(op)
            for pattern, ps in self.operations:
                if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                    chosen.extend(ps)
            concurrency = (mine.concurrency if mine else None) or self.config.concurrency
            size = (mine.max_request_bytes if mine else None) or self.config.max_request_bytes
            header = [p.header for p in chosen]
            if concurrency is not None:
                header.append(f'{_sf_string(CONCURRENCY)};q={concurrency};qu="concurrent-requests"')
            found = self._plans[key] = Plan(chosen, ", ".join(header), concurrency, size)
        return found

    async def check(self, op: Operation, consumer: str | None, client: str | None) -> Admission:
        """Counts one request; what its answer carries. Raises ``RateLimited`` when it is over a
        limit, ``RateLimitUnavailable`` when the counters are down and the config says deny.
        An admission holds a concurrency slot until ``release``."""
        plan = self.plan(op, consumer)
        if not plan.policies and plan.concurrency is None:
            return Admission({}, None, plan.max_request_bytes)
        # consumer names and addresses never collide: each has its own prefix
        partition = f"c:{consumer}" if consumer is not None else f"a:{client or 'unknown'}"
        slot = None
        busy = 0
        if plan.concurrency is not None:
            busy = self._in_flight.get(partition, 0)
            if busy >= plan.concurrency:
                headers = {"RateLimit-Policy": plan.header, "RateLimit": f"{_sf_string(CONCURRENCY)};r=0", "Retry-After": "1"}
                raise RateLimited([CONCURRENCY], 1, headers)
            slot = partition  # taken before the counters are awaited, so no other request slips in meanwhile
            busy += 1
            self._in_flight[partition] = busy
        admitted = False
        try:
            items = await self._count(plan, partition)
            if plan.concurrency is not None:
                items.append(f"{_sf_string(CONCURRENCY)};r={plan.concurrency - busy}")
            admitted = True
        finally:
            if not admitted and slot is not None:
                self._leave(slot)
        headers = {"RateLimit-Policy": plan.header, "RateLimit": ", ".join(items)} if items else {}
        return Admission(headers, slot, plan.max_request_bytes)

    async def probe(self) -> bool:
        """Whether a remote storage answers; if not, a warning says what requests will get."""
        if self.memory:
            return True
        try:
            async with asyncio.timeout(self.timeout):
                ok = await self.storage.check()
        except Exception:  # a timeout, or what the client raises
            ok = False
        if not ok:
            what = "denied (503)" if self.deny_when_down else "admitted without counting"
            log.warning("rate-limit storage cannot be reached at start; until it can, requests are %s (rate_limits.on_storage_error)", what)
        return ok

    def release(self, admission: Admission) -> None:
        """Gives back the admission's concurrency slot, once the request is answered."""
        if admission.slot is not None:
            self._leave(admission.slot)

    def _leave(self, partition: str) -> None:
        left = self._in_flight[partition] - 1
        if left:
            self._in_flight[partition] = left
        else:
            del self._in_flight[partition]  # the table holds only consumers with requests in flight

    async def _count(self, plan: Plan, partition: str) -> list[str]:
        """One unit from each of the plan's policies; their RateLimit items."""
        if not plan.policies:
            return []
        if time.time() < self._down_until:
            return self._down()
        try:
            async with asyncio.timeout(None if self.memory else self.timeout):
                counts = []
                for p in plan.policies:
                    key = p.item.key_for(*self._prefix, p.name, partition)
                    # what limits' FixedWindowRateLimiter.hit does, keeping the count for the headers
                    count = await self.storage.incr(key, p.item.get_expiry())
                    counts.append((p, count, await self.storage.get_expiry(key)))
        except Exception as exc:  # limits' StorageError, a timeout, whatever the client raises
            now = time.time()
            if now >= self._down_until:  # once per interval, not once per request waiting then
                what = "denied" if self.deny_when_down else "admitted without counting"
                log.warning("rate-limit storage unreachable (%s); requests are %s for %.0f s", type(exc).__name__, what, RETRY_INTERVAL)
            self._down_until = now + RETRY_INTERVAL
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
        if violated:
            headers = {"RateLimit-Policy": plan.header, "RateLimit": ", ".join(items), "Retry-After": str(retry_after)}
            raise RateLimited(violated, retry_after, headers)
        return items

    def _down(self) -> list[str]:
        if self.deny_when_down:
            raise RateLimitUnavailable(max(1, math.ceil(self._down_until - time.time())))
        return []
