"""Application logs of the demo world, generated deterministically from the anchor.

Every (service, namespace, minute) is drawn from its own RNG seeded with a hash of the anchor's
seed and that key, so the documents of a minute never depend on which window is asked for: a
live feeder that appends one minute at a time produces exactly what a bulk load of the same span
would have, and re-generating a window gives the same `_id`s (loads are idempotent).

The story follows `scenario`: deploy lines at each `DEPLOYS` instant (the pods' names change with
the version), error or slow-request bursts for the `PAST_INCIDENTS`, and the reference incident on
day D: slow requests and N+1 slow queries on payment-gateway prod from 08:30, then from 08:42 a
connection-pool exhaustion burst with 503/504 responses that lasts as long as the incident is open
(the world never resolves it, so live continuation keeps producing it).

Messages embed numbers, ids, UUIDs and durations on purpose: a "group by pattern" feature needs
lines that differ only in their variables.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.world import scenario
from devstack.world.scenario import REFERENCE, Anchor, ServiceSpec

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
DEPLOYER_LOGGER = "deployer"
POOL_EXHAUSTED = "connection pool exhausted (50/50 in use), waited 3000ms"

_MINUTE = timedelta(minutes=1)
# Staging gets a fraction of prod's traffic; its logs are mostly periodic jobs.
_STAGING_FACTOR = 0.08
# Reference incident rates, in lines per minute at the daily-average load.
_BURST_UNTIL = "09:00"  # the first minutes of the exhaustion are the worst
_POOL_RATE_BURST, _POOL_RATE = 9.0, 3.0
_TIMEOUT_RATE_BURST, _TIMEOUT_RATE = 5.0, 2.0
_FAILED_REQUEST_RATE_BURST, _FAILED_REQUEST_RATE = 4.0, 1.5
_SLOW_RATE_BURST, _SLOW_RATE = 4.0, 2.5
# 2.14.3's lazy-loaded order lines: one query per line, the N+1 that drains the pool.
_N_PLUS_ONE_SQL = "select * from order_lines where payment_id = ?"

Message = Callable[["_Rng", "_Ctx"], str]


class _Rng(random.Random):
    """`random.Random` with the helpers the message templates use."""

    def uuid(self) -> str:
        value = f"{self.getrandbits(128):032x}"
        return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-a{value[17:20]}-{value[20:]}"

    def hexid(self, digits: int) -> str:
        return f"{self.getrandbits(4 * digits):0{digits}x}"

    def amount(self) -> str:
        return f"{self.lognormvariate(3.8, 0.8):.2f}"

    def user(self) -> str:
        return f"u-{self.randint(10000, 999999)}"

    def order(self) -> str:
        return f"ORD-{self.randint(1_000_000, 9_999_999)}"

    def latency_ms(self, p50_s: float, p99_s: float) -> int:
        # Log-normal through the two quantiles: z(0.99) = 2.326.
        sigma = math.log(p99_s / p50_s) / 2.326
        return max(1, round(1000 * p50_s * math.exp(sigma * self.gauss(0.0, 1.0))))

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        # Knuth's method is exact and fast enough for the small rates used here.
        limit, count, product = math.exp(-lam), 0, self.random()
        while product > limit:
            count += 1
            product *= self.random()
        return count


@dataclass(frozen=True)
class _Ctx:
    """What a message template may depend on, for one series-minute."""

    spec: ServiceSpec
    namespace: str
    minute: datetime
    version: str
    deployed_at: datetime  # when `version` was rolled out (datetime.min before the first deploy)
    load: float  # diurnal traffic factor, 1.0 on average
    # Minutes since the reference rollout, on the reference incident's series only.
    incident_minutes: float | None = None


@dataclass(frozen=True)
class _Event:
    weight: float
    level: str
    logger: str
    message: Message
    traced: bool = True


@dataclass(frozen=True)
class _Job:
    """A periodic line, every `every` minutes (counted from midnight UTC) at second `second`."""

    every: int
    offset: int
    second: int
    level: str
    logger: str
    message: Message


@dataclass(frozen=True)
class _Profile:
    access_logger: str
    events: tuple[_Event, ...]
    jobs: tuple[_Job, ...]
    incident_logger: str
    incident_message: Message  # the error or slow line of this service's past incident


_SEARCH_TERMS = (
    "running shoes",
    "usb-c cable",
    "coffee grinder",
    "winter jacket",
    "lego",
    "headphones",
    "yoga mat",
    "phone case",
    "desk lamp",
    "backpack",
)
_PSPS = ("adyen", "stripe", "worldline")
_UPSTREAMS = ("orders", "catalog", "users", "checkout")


def _pool_stats(r: _Rng, c: _Ctx) -> str:
    pool_full_after = 12  # 08:30 rollout -> pool saturated at 08:42
    if c.incident_minutes is not None and c.incident_minutes >= pool_full_after:
        return (
            f"HikariPool-1 - Pool stats (total=50, active=50, idle=0, waiting={r.randint(40, 160)})"
        )
    if c.incident_minutes is not None:
        active = min(49, 20 + round(2.5 * c.incident_minutes))
        return (
            f"HikariPool-1 - Pool stats (total=50, active={active}, idle={50 - active}, waiting=0)"
        )
    active = r.randint(3, 18) if c.load < 1.2 else r.randint(12, 30)
    return f"HikariPool-1 - Pool stats (total=50, active={active}, idle={50 - active}, waiting=0)"


def _cache_stats(r: _Rng, c: _Ctx) -> str:
    # The size-aware LRU of 5.2.0 (deployed D-13) leaks: used memory creeps up by the hour.
    leak_mb = 0
    if c.version == "5.2.0":
        leak_mb = int((c.minute - c.deployed_at).total_seconds() / 3600 * 7)
    used = 9000 + leak_mb + r.randint(-200, 200)
    keys = 1_800_000 + 40 * used + r.randint(-5000, 5000)
    ratio = 93.0 + 2 * r.random()
    return f"cache stats: hit ratio {ratio:.1f}%, {keys} keys, {used} MB used"


_PROFILES: dict[str, _Profile] = {
    "api-gateway": _Profile(
        access_logger="gateway.access",
        events=(
            _Event(
                3,
                "INFO",
                "gateway.auth",
                lambda r, c: f"JWT validated for user {r.user()} (scopes: orders:read)",
            ),
            _Event(
                2,
                "DEBUG",
                "gateway.cache",
                lambda r, c: (
                    f"response cache hit for GET /api/v1/products/{r.randint(1, 99999)}"
                    f" (age {r.randint(1, 300)}s)"
                ),
            ),
            _Event(
                1,
                "WARN",
                "gateway.ratelimit",
                lambda r, c: (
                    f"rate limit exceeded for client {r.hexid(8)} "
                    f"({r.randint(101, 400)} req/s > 100 req/s)"
                ),
            ),
            _Event(
                1,
                "WARN",
                "gateway.proxy",
                lambda r, c: (
                    f"upstream {r.choice(_UPSTREAMS)} slow: "
                    f"{r.randint(800, 2500)}ms for GET /api/v1/{r.choice(_UPSTREAMS)}"
                ),
            ),
        ),
        jobs=(
            _Job(
                15,
                2,
                11,
                "INFO",
                "gateway.config",
                lambda r, c: f"route table reloaded: 42 routes, {r.randint(7, 9)} upstreams",
            ),
        ),
        incident_logger="gateway.proxy",
        incident_message=lambda r, c: (
            f"upstream catalog returned 503 for GET /api/v1/products/"
            f"{r.randint(1, 99999)} after {r.randint(20, 900)}ms"
        ),
    ),
    "payment-gateway": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                4,
                "INFO",
                "c.s.payments.PaymentService",
                lambda r, c: (
                    f"payment {r.uuid()} authorized: {r.amount()} EUR via "
                    f"{r.choice(_PSPS)} in {r.latency_ms(0.12, 0.6)}ms"
                ),
            ),
            _Event(
                3,
                "INFO",
                "c.s.payments.PaymentService",
                lambda r, c: f"payment {r.uuid()} captured ({r.amount()} EUR)",
            ),
            _Event(
                1,
                "INFO",
                "c.s.payments.RefundService",
                lambda r, c: (
                    f"refund {r.uuid()} created for payment {r.uuid()}: "
                    f"{r.amount()} EUR (idempotency key {r.hexid(16)})"
                ),
            ),
            _Event(
                1,
                "WARN",
                "c.s.payments.psp.PspClient",
                lambda r, c: (
                    f"PSP {r.choice(_PSPS)} declined payment {r.uuid()}: "
                    f"{r.choice(('insufficient_funds', 'card_expired', 'do_not_honor'))}"
                ),
            ),
            _Event(
                1,
                "INFO",
                "c.s.payments.ThreeDSecure",
                lambda r, c: (
                    f"3-D Secure challenge required for payment {r.uuid()} "
                    f"(card ending {r.randint(1000, 9999)})"
                ),
            ),
            _Event(
                1,
                "DEBUG",
                "c.s.payments.psp.PspClient",
                lambda r, c: f"PSP webhook {r.hexid(24)} processed in {r.randint(2, 40)}ms",
            ),
        ),
        jobs=(
            _Job(10, 0, 30, "DEBUG", "com.zaxxer.hikari.HikariPool", _pool_stats),
            _Job(
                60,
                7,
                5,
                "INFO",
                "c.s.payments.Reconciliation",
                lambda r, c: (
                    f"reconciliation with {r.choice(_PSPS)}: {r.randint(800, 4000)} "
                    f"payments matched, {r.randint(0, 3)} pending"
                ),
            ),
        ),
        incident_logger="c.s.payments.PaymentService",
        incident_message=lambda r, c: f"payment {r.uuid()} failed: PSP timeout after 5000ms",
    ),
    "checkout": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                3,
                "INFO",
                "checkout.flow",
                lambda r, c: (
                    f"checkout {r.uuid()} started for cart {r.uuid()} ({r.randint(1, 12)} items)"
                ),
            ),
            _Event(
                3,
                "INFO",
                "checkout.flow",
                lambda r, c: f"order {r.order()} confirmed: {r.amount()} EUR",
            ),
            _Event(
                1,
                "WARN",
                "checkout.address",
                lambda r, c: (
                    f"address validation failed for order {r.order()}: "
                    f"postcode {r.randint(10000, 99999)} unknown"
                ),
            ),
            _Event(
                1,
                "DEBUG",
                "checkout.inventory",
                lambda r, c: f"inventory reserved for order {r.order()} in {r.randint(5, 120)}ms",
            ),
        ),
        jobs=(
            _Job(
                10,
                3,
                45,
                "INFO",
                "checkout.cleanup",
                lambda r, c: f"expired {r.randint(0, 60)} abandoned checkouts older than 30m",
            ),
        ),
        incident_logger="checkout.address",
        incident_message=lambda r, c: (
            f"address provider slow: {r.randint(1800, 4500)}ms for order {r.order()}"
        ),
    ),
    "cart": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                3,
                "INFO",
                "cart.service",
                lambda r, c: (
                    f"cart {r.uuid()} updated: {r.randint(1, 20)} items, total {r.amount()} EUR"
                ),
            ),
            _Event(
                3,
                "INFO",
                "cart.service",
                lambda r, c: f"item SKU-{r.randint(100000, 999999)} added to cart {r.uuid()}",
            ),
            _Event(
                2,
                "DEBUG",
                "cart.redis",
                lambda r, c: f"redis GET cart:{r.uuid()} {r.randint(1, 9)}ms",
            ),
            _Event(
                0.3,
                "WARN",
                "cart.service",
                lambda r, c: f"cart {r.uuid()} has {r.randint(51, 80)} items, truncating to 50",
            ),
        ),
        jobs=(
            _Job(
                30,
                4,
                20,
                "INFO",
                "cart.cleanup",
                lambda r, c: f"purged {r.randint(100, 3000)} carts idle for more than 30 days",
            ),
        ),
        incident_logger="cart.redis",
        incident_message=lambda r, c: (
            "redis write failed for cart "
            f"{r.uuid()}: READONLY You can't write against a read only "
            "replica."
        ),
    ),
    "catalog": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                3,
                "INFO",
                "catalog.products",
                lambda r, c: f"product {r.randint(1, 99999)} updated (price {r.amount()} EUR)",
            ),
            _Event(
                2,
                "DEBUG",
                "catalog.cache",
                lambda r, c: (
                    f"cache miss for product {r.randint(1, 99999)}, loaded in {r.randint(3, 60)}ms"
                ),
            ),
            _Event(
                1,
                "WARN",
                "catalog.images",
                lambda r, c: f"product {r.randint(1, 99999)} has no image, using placeholder",
            ),
        ),
        jobs=(
            _Job(
                15,
                9,
                0,
                "INFO",
                "catalog.categories",
                lambda r, c: (
                    f"category tree rebuilt: {r.randint(1180, 1220)} categories in "
                    f"{r.randint(200, 900)}ms"
                ),
            ),
        ),
        incident_logger="catalog.categories",
        incident_message=lambda r, c: (
            f"slow category tree load took {r.randint(1500, 4000)}ms (cache miss)"
        ),
    ),
    "search": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                4,
                "INFO",
                "search.query",
                lambda r, c: (
                    f'query "{r.choice(_SEARCH_TERMS)}" returned '
                    f"{r.randint(0, 5000)} hits in {r.randint(8, 250)}ms"
                ),
            ),
            _Event(
                2,
                "DEBUG",
                "search.suggest",
                lambda r, c: (
                    f'suggest "{r.choice(_SEARCH_TERMS)[:3]}" -> {r.randint(0, 10)} suggestions'
                ),
            ),
            _Event(
                1,
                "WARN",
                "search.query",
                lambda r, c: (
                    f'query "{r.choice(_SEARCH_TERMS)}" took {r.randint(300, 1500)}ms '
                    "(slow log threshold 300ms)"
                ),
            ),
        ),
        jobs=(
            _Job(
                10,
                1,
                15,
                "INFO",
                "search.indexer",
                lambda r, c: (
                    f"index refresh: {r.randint(0, 900)} documents updated in "
                    f"{r.randint(40, 400)}ms"
                ),
            ),
        ),
        incident_logger="search.query",
        incident_message=lambda r, c: (
            f"shard [products][{r.randint(0, 4)}] not available (relocating), query failed"
        ),
    ),
    "auth": _Profile(
        access_logger="http.access",
        events=(
            _Event(4, "INFO", "auth.login", lambda r, c: f"login succeeded for user {r.user()}"),
            _Event(
                3,
                "INFO",
                "auth.token",
                lambda r, c: f"token issued for client {r.hexid(8)} (ttl 3600s)",
            ),
            _Event(
                1,
                "WARN",
                "auth.login",
                lambda r, c: (
                    f"login failed for user {r.user()}: invalid password "
                    f"(attempt {r.randint(1, 5)}/5)"
                ),
            ),
            _Event(1, "DEBUG", "auth.session", lambda r, c: f"session {r.hexid(32)} expired"),
        ),
        jobs=(
            _Job(
                60,
                13,
                0,
                "INFO",
                "auth.keys",
                lambda r, c: (
                    f"signing key k-2026-{r.randint(1, 12):02d} valid for "
                    f"{r.randint(10, 80)} more days"
                ),
            ),
        ),
        incident_logger="auth.token",
        incident_message=lambda r, c: (
            f"token signature verification failed for user {r.user()}: key k-2025-11 expired"
        ),
    ),
    "cache-service": _Profile(
        access_logger="cache.access",
        events=(
            _Event(
                4,
                "DEBUG",
                "cache.store",
                lambda r, c: f"GET product:{r.randint(1, 99999)} hit in {r.randint(0, 3)}ms",
            ),
            _Event(
                2,
                "INFO",
                "cache.eviction",
                lambda r, c: (
                    f"evicted {r.randint(100, 5000)} keys ({r.randint(5, 200)} MB) "
                    "to stay under limit"
                ),
            ),
            _Event(
                1,
                "WARN",
                "cache.store",
                lambda r, c: f"slow SET session:{r.hexid(16)}: {r.randint(40, 400)}ms",
            ),
        ),
        jobs=(_Job(10, 2, 40, "INFO", "cache.stats", _cache_stats),),
        incident_logger="cache.store",
        incident_message=lambda r, c: f"slow SET session:{r.hexid(16)}: {r.randint(400, 2000)}ms",
    ),
    "ml-inference": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                4,
                "INFO",
                "inference.ranker",
                lambda r, c: (
                    f"prediction for user {r.user()}: {r.randint(10, 50)} items "
                    f"ranked in {r.randint(40, 400)}ms (model ranker-{c.version})"
                ),
            ),
            _Event(
                1,
                "WARN",
                "inference.batch",
                lambda r, c: (
                    f"batch {r.uuid()} partially failed: {r.randint(1, 9)}/"
                    f"{r.randint(100, 500)} items timed out"
                ),
            ),
            _Event(
                1,
                "DEBUG",
                "inference.features",
                lambda r, c: (
                    f"feature store lookup for {r.randint(1, 64)} users in {r.randint(2, 30)}ms"
                ),
            ),
        ),
        jobs=(
            _Job(
                10,
                6,
                50,
                "INFO",
                "inference.monitor",
                lambda r, c: (
                    f"model ranker-{c.version} warm: p99 {r.randint(300, 600)}ms "
                    "over the last 10 minutes"
                ),
            ),
        ),
        incident_logger="inference.worker",
        incident_message=lambda r, c: (
            f"worker {r.randint(1, 8)} killed: out of memory "
            f"(rss {r.randint(41, 47)} GiB > limit 40 GiB)"
        ),
    ),
    "notification": _Profile(
        access_logger="http.access",
        events=(
            _Event(
                3,
                "INFO",
                "notify.email",
                lambda r, c: (
                    f"email {r.uuid()} sent to user {r.user()} via ses in {r.randint(30, 400)}ms"
                ),
            ),
            _Event(
                2,
                "INFO",
                "notify.sms",
                lambda r, c: f"SMS {r.uuid()} queued for +33 6** ** ** {r.randint(10, 99)}",
            ),
            _Event(
                2,
                "INFO",
                "notify.push",
                lambda r, c: f"push notification {r.uuid()} delivered to {r.randint(1, 4)} devices",
            ),
            _Event(
                1,
                "WARN",
                "notify.sms",
                lambda r, c: f"SMS provider returned 502, retry 1/3 for message {r.uuid()}",
            ),
        ),
        jobs=(
            _Job(
                10,
                1,
                25,
                "INFO",
                "notify.queue",
                lambda r, c: (
                    f"queue depth notifications: {r.randint(0, 40)} messages, "
                    f"consumer lag {r.randint(0, 3)}s"
                ),
            ),
        ),
        incident_logger="notify.sms",
        incident_message=lambda r, c: (
            f"SMS provider throttled: 429 Too Many Requests, message {r.uuid()} retried in 30s"
        ),
    ),
}

# Methods per route; anything not listed is a GET.
_METHODS: dict[str, tuple[str, ...]] = {
    "/v1/payments": ("POST", "POST", "POST", "GET"),
    "/v1/refunds": ("POST",),
    "/checkout": ("POST",),
    "/checkout/confirm": ("POST",),
    "/cart/items": ("POST", "POST", "DELETE"),
    "/login": ("POST",),
    "/token": ("POST",),
    "/logout": ("POST",),
    "/set": ("PUT",),
    "/predict": ("POST",),
    "/batch-predict": ("POST",),
    "/notify": ("POST",),
    "/notify/bulk": ("POST",),
    "/api/v1/orders": ("GET", "POST"),
}
_SUCCESS = {"POST": 201, "PUT": 200, "DELETE": 204, "GET": 200}
_CLIENT_ERRORS = {
    "GET": (404, 404, 400),
    "POST": (400, 409, 422, 401),
    "PUT": (400,),
    "DELETE": (404,),
}


def _rate_per_minute(spec: ServiceSpec, namespace: str) -> float:
    """Average log lines per minute from traffic: logs grow with load, but much slower."""
    rate = 0.3 + 0.35 * math.log10(spec.prod_rps)
    return rate if namespace == "prod" else rate * _STAGING_FACTOR


def _diurnal(local_hour: float) -> float:
    """Traffic factor by local time of day: 0.4 around 03:00, 1.6 around 15:00, mean 1."""
    return 1.0 - 0.6 * math.cos(2 * math.pi * (local_hour - 3.0) / 24.0)


@dataclass(frozen=True)
class _Window:
    """An interval `[start, end)` in UTC."""

    start: datetime
    end: datetime

    def __contains__(self, when: object) -> bool:
        return isinstance(when, datetime) and self.start <= when < self.end


class _World:
    """The anchor's timeline, resolved once per `documents` call."""

    def __init__(self, anchor: Anchor) -> None:
        self.anchor = anchor
        self.versions: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
        self.deploys: dict[tuple[str, str, datetime], scenario.Deploy] = {}
        for spec in scenario.SERVICES:
            for namespace in scenario.NAMESPACES:
                # `deploys_of` includes the implicit staging rollouts (the day before prod).
                deploys = scenario.deploys_of(spec.name, namespace)
                timeline = [
                    (datetime.min.replace(tzinfo=UTC), deploys[0].previous if deploys else "1.0.0")
                ]
                for deploy in deploys:
                    when = anchor.at(deploy.day, deploy.at)
                    timeline.append((when, deploy.version))
                    self.deploys[(spec.name, namespace, when)] = deploy
                self.versions[(spec.name, namespace)] = timeline
        self.past = [
            (
                incident,
                _Window(
                    anchor.at(incident.day, incident.at),
                    anchor.at(incident.day, incident.at) + timedelta(minutes=incident.minutes),
                ),
            )
            for incident in scenario.PAST_INCIDENTS
        ]
        self.series_seeds = {
            (spec.name, namespace): int.from_bytes(
                hashlib.blake2b(
                    f"{anchor.seed}|{spec.name}|{namespace}".encode(), digest_size=8
                ).digest()
            )
            for spec in scenario.SERVICES
            for namespace in scenario.NAMESPACES
        }
        self.slow_from = anchor.at(0, REFERENCE.latency_from)
        self.errors_from = anchor.at(0, REFERENCE.errors_from)
        self.burst_until = anchor.at(0, _BURST_UNTIL)
        self._pods: dict[tuple[str, str, str], list[str]] = {}

    def version(self, service: str, namespace: str, when: datetime) -> tuple[str, datetime]:
        """The version running at `when` (same rule as `scenario.version_at`), and since when."""
        current = self.versions[(service, namespace)][0]
        for since, version in self.versions[(service, namespace)]:
            if since <= when:
                current = (since, version)
        return current[1], current[0]

    def pods(self, spec: ServiceSpec, namespace: str, version: str) -> list[str]:
        key = (spec.name, namespace, version)
        if key not in self._pods:
            count = spec.prod_pods if namespace == "prod" else spec.staging_pods
            self._pods[key] = scenario.pod_names(spec.name, namespace, version, count)
        return self._pods[key]


class _Series:
    """Builds the lines of one (service, namespace, minute)."""

    def __init__(
        self, world: _World, spec: ServiceSpec, namespace: str, minute: _Minute, rng: _Rng
    ) -> None:
        self.world = world
        self.spec = spec
        self.namespace = namespace
        self.minute = minute.start
        self.iso_prefix = minute.iso_prefix
        self.version, deployed_at = world.version(spec.name, namespace, minute.start)
        self.pods = world.pods(spec, namespace, self.version)
        incident_minutes = None
        if (spec.name, namespace) == (REFERENCE.service, REFERENCE.namespace) and (
            minute.start >= world.slow_from
        ):
            incident_minutes = (minute.start - world.slow_from) / _MINUTE
        self.ctx = _Ctx(
            spec, namespace, minute.start, self.version, deployed_at, minute.load, incident_minutes
        )
        self.profile = _PROFILES[spec.name]
        # One RNG per series-minute, re-seeded rather than re-created (this loop runs ~60k
        # times for two days); integer seeds skip the SHA-512 that string seeds cost.
        rng.seed((world.series_seeds[(spec.name, namespace)] << 32) | minute.number)
        self.rng = rng
        self.lines: list[tuple[int, str, dict[str, Any]]] = []
        self.id_prefix = f"{namespace}.{spec.name}.{minute.id_stamp}"

    def add(
        self,
        offset_ms: int,
        level: str,
        logger: str,
        message: str,
        *,
        pod: str | None = None,
        traced: bool = True,
        version: str | None = None,
        http: dict[str, Any] | None = None,
        duration_ms: int | None = None,
    ) -> None:
        doc_id = f"{self.id_prefix}.{len(self.lines):03d}"
        doc: dict[str, Any] = {
            "_id": doc_id,
            "@timestamp": f"{self.iso_prefix}{offset_ms // 1000:02d}.{offset_ms % 1000:03d}Z",
            "service": self.spec.name,
            "namespace": self.namespace,
            "level": level,
            "logger": logger,
            "message": message,
            "pod": pod or self.rng.choice(self.pods),
            "service_version": version or self.version,
        }
        if traced:
            doc["trace_id"] = self.rng.hexid(32)
        if http is not None:
            doc["http"] = http
        if duration_ms is not None:
            doc["duration_ms"] = duration_ms
        self.lines.append((offset_ms, doc_id, doc))

    def at_random(self) -> int:
        """A random instant of the minute, in milliseconds (the resolution of log shippers)."""
        return self.rng.randrange(60_000)

    def request(
        self,
        *,
        status: int | None = None,
        p50_s: float | None = None,
        p99_s: float | None = None,
        duration_ms: int | None = None,
        route: str | None = None,
    ) -> None:
        r, spec = self.rng, self.spec
        route = route or r.choice(spec.routes)
        method = r.choice(_METHODS.get(route, ("GET",)))
        if status is None:
            draw = r.random()
            if draw < spec.error_ratio:
                status = r.choice((500, 502, 503))
            elif draw < spec.error_ratio + 0.03:
                status = r.choice(_CLIENT_ERRORS[method])
            else:
                status = _SUCCESS[method]
        if duration_ms is None:
            duration_ms = r.latency_ms(p50_s or spec.p50_s, p99_s or spec.p99_s)
        path = route.replace(
            "{id}", str(r.randint(1, 99999)) if "payments" not in route else r.uuid()
        )
        level = "ERROR" if status >= 500 else "INFO"
        self.add(
            self.at_random(),
            level,
            self.profile.access_logger,
            f"{method} {path} {status} {duration_ms}ms",
            http={"method": method, "route": route, "status": status},
            duration_ms=duration_ms,
        )

    def baseline(self) -> None:
        r, ctx = self.rng, self.ctx
        events = self.profile.events
        weights = [e.weight for e in events]
        count = r.poisson(_rate_per_minute(self.spec, self.namespace) * ctx.load)
        for _ in range(count):
            if r.random() < 0.55:
                self.request()
                continue
            event = r.choices(events, weights)[0]
            self.add(
                self.at_random(),
                event.level,
                event.logger,
                event.message(r, ctx),
                traced=event.traced,
            )
        minute_of_day = self.minute.hour * 60 + self.minute.minute
        for job in self.profile.jobs:
            if minute_of_day % job.every == job.offset % job.every:
                self.add(
                    1000 * job.second,
                    job.level,
                    job.logger,
                    job.message(r, ctx),
                    traced=False,
                )

    def deploy(self) -> None:
        key = (self.spec.name, self.namespace, self.minute)
        deploy = self.world.deploys.get(key)
        if deploy is None:
            return
        old_pods = self.world.pods(self.spec, self.namespace, deploy.previous)
        self.add(
            0,
            "INFO",
            DEPLOYER_LOGGER,
            f"Deployed {deploy.service} version {deploy.version} (previous "
            f"{deploy.previous}): {deploy.summary}",
            pod=self.pods[0],
            traced=False,
        )
        # A rolling update: each new pod starts, then an old one drains.
        for index, pod in enumerate(self.pods):
            started = 1000 * (8 + 15 * index)
            self.add(
                started,
                "INFO",
                "app",
                f"Started {deploy.service} {deploy.version} in "
                f"{self.rng.uniform(4, 14):.1f} seconds (pid 1)",
                pod=pod,
                traced=False,
            )
        for index, pod in enumerate(old_pods):
            stopped = 1000 * (12 + 15 * index)
            self.add(
                stopped,
                "INFO",
                "app",
                f"Received SIGTERM, draining {self.rng.randint(0, 40)} in-flight requests "
                f"before shutdown",
                pod=pod,
                traced=False,
                version=deploy.previous,
            )

    def past_incidents(self) -> None:
        if self.namespace != "prod":
            return
        r, ctx = self.rng, self.ctx
        for incident, window in self.world.past:
            if incident.service != self.spec.name or self.minute not in window:
                continue
            logger, message = self.profile.incident_logger, self.profile.incident_message
            if incident.signal == "errors":
                for _ in range(r.poisson(8.0)):
                    self.add(self.at_random(), "ERROR", logger, message(r, ctx))
                for _ in range(r.poisson(3.0)):
                    self.request(status=r.choice((500, 502, 503)))
            elif incident.signal == "latency":
                for _ in range(r.poisson(5.0)):
                    self.add(self.at_random(), "WARN", logger, message(r, ctx))
                for _ in range(r.poisson(2.0)):
                    self.request(p50_s=4 * self.spec.p50_s, p99_s=5 * self.spec.p99_s)
            else:  # restarts, memory: the process dies and comes back
                for _ in range(r.poisson(1.5)):
                    self.add(self.at_random(), "ERROR", logger, message(r, ctx), traced=False)
                for _ in range(r.poisson(1.0)):
                    self.add(
                        self.at_random(),
                        "INFO",
                        "app",
                        f"Started {self.spec.name} {self.version} in "
                        f"{r.uniform(20, 60):.1f} seconds (pid 1)",
                        traced=False,
                    )

    def reference_incident(self) -> None:
        """Day D on payment-gateway prod: slow from 08:30, pool exhausted from 08:42."""
        if (self.spec.name, self.namespace) != (REFERENCE.service, REFERENCE.namespace):
            # Staging runs 2.14.3 since D-1 without enough traffic to saturate the pool; a
            # careful reader can still spot the N+1 queries there.
            if self.spec.name == REFERENCE.service and self.version == "2.14.3":
                for _ in range(self.rng.poisson(0.1)):
                    self._slow_query()
            return
        world, r = self.world, self.rng
        if self.minute < world.slow_from:
            return
        # The P99 climbs over the first five minutes after the rollout.
        ramp = min(1.0, ((self.minute - world.slow_from) / _MINUTE + 1) / 5)
        slow_rate = _SLOW_RATE_BURST if self.minute < world.burst_until else _SLOW_RATE
        for _ in range(r.poisson(slow_rate * ramp * self.ctx.load)):
            if r.random() < 0.5:
                self._slow_query()
            else:
                took = r.randint(600, 1400)
                route = r.choice(("/v1/payments", "/v1/payments/{id}"))
                self.add(
                    self.at_random(),
                    "WARN",
                    "c.s.payments.web.RequestTimer",
                    f"slow request {_METHODS.get(route, ('GET',))[0]} {route} took "
                    f"{took}ms (threshold 500ms)",
                )
        for _ in range(r.poisson(2.0 * ramp * self.ctx.load)):
            self.request(p50_s=0.18, p99_s=REFERENCE.p99_s)
        if self.minute < world.errors_from:
            return
        burst = self.minute < world.burst_until
        load = 1.0 if burst else self.ctx.load
        pool = _POOL_RATE_BURST if burst else _POOL_RATE
        timeouts = _TIMEOUT_RATE_BURST if burst else _TIMEOUT_RATE
        failed = _FAILED_REQUEST_RATE_BURST if burst else _FAILED_REQUEST_RATE
        for _ in range(r.poisson(pool * load)):
            self.add(self.at_random(), "ERROR", "com.zaxxer.hikari.pool.HikariPool", POOL_EXHAUSTED)
        for _ in range(r.poisson(timeouts * load)):
            self.add(
                self.at_random(),
                "ERROR",
                "c.s.payments.PaymentService",
                f"timeout after 3000ms waiting for a connection for payment {r.uuid()}",
            )
        for _ in range(r.poisson(failed * load)):
            # 503 when the pool wait gives up, 504 when the ingress timeout fires first.
            status = r.choice((503, 503, 504))
            self.request(status=status, route="/v1/payments", duration_ms=r.randint(3000, 3090))

    def _slow_query(self) -> None:
        r = self.rng
        self.add(
            self.at_random(),
            "WARN",
            "org.hibernate.SQL_SLOW",
            f"slow query ({r.randint(150, 700)}ms): {_N_PLUS_ONE_SQL} "
            f"[{r.randint(24, 60)} queries in this request, payment {r.uuid()}]",
        )


@dataclass(frozen=True)
class _Minute:
    """One UTC minute and the strings derived from it once for all series."""

    start: datetime
    number: int  # minutes since the epoch
    iso_prefix: str  # "2026-03-10T07:42:"
    id_stamp: str  # "202603100742"
    load: float

    @classmethod
    def of(cls, start: datetime, anchor: Anchor) -> _Minute:
        local = start.astimezone(anchor.tz)
        return cls(
            start=start,
            number=int(start.timestamp()) // 60,
            iso_prefix=start.strftime("%Y-%m-%dT%H:%M:"),
            id_stamp=start.strftime("%Y%m%d%H%M"),
            load=_diurnal(local.hour + local.minute / 60),
        )


def _minute_lines(
    world: _World, minute: _Minute, rng: _Rng
) -> list[tuple[int, str, dict[str, Any]]]:
    lines: list[tuple[int, str, dict[str, Any]]] = []
    for spec in scenario.SERVICES:
        for namespace in scenario.NAMESPACES:
            series = _Series(world, spec, namespace, minute, rng)
            series.baseline()
            series.deploy()
            series.past_incidents()
            series.reference_incident()
            lines.extend(series.lines)
    # Timestamp order (ties by _id) makes a window's output the exact concatenation of its parts.
    lines.sort(key=lambda line: (line[0], line[1]))
    return lines


def documents(anchor: Anchor, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Log documents with `start <= @timestamp < end`, in timestamp order.

    Fields: `@timestamp` (UTC, millisecond ISO-8601 with `Z`), `service`, `namespace`, `level`
    (one of `LEVELS`), `logger`, `message`, `pod` and `service_version` (the version running,
    per `scenario.version_at`); `trace_id` on request-scoped lines; `http` (`method`, `route`,
    `status`) and `duration_ms` on request lines.

    Each document also carries an `_id`, stable for the anchor, to use as the document id so
    that loading a window twice does not duplicate it. The documents of a minute do not depend
    on the window asked for.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    world = _World(anchor)
    rng = _Rng()
    minute = start.astimezone(UTC).replace(second=0, microsecond=0)
    while minute < end:
        lines = _minute_lines(world, _Minute.of(minute, anchor), rng)
        if minute >= start and minute + _MINUTE <= end:
            yield from (doc for _, _, doc in lines)
        else:
            # A window edge inside this minute: keep only the instants in [start, end).
            for offset_ms, _, doc in lines:
                if start <= minute + timedelta(milliseconds=offset_ms) < end:
                    yield doc
        minute += _MINUTE


def window(anchor: Anchor) -> tuple[datetime, datetime]:
    """The span the devstack loads at start-up: the last `LOG_DAYS` days before creation."""
    return anchor.logs_start, anchor.created_at
