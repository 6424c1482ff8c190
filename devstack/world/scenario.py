"""The demo world's facts, shared by the metrics, logs and PagerDuty generators.

Everything here is plain data plus the anchor arithmetic; the generators turn it into samples,
documents and API objects. Keeping the timeline in one place is what makes the three backends
tell the same story: the 08:30 deploy is a version label change in Prometheus, a "deployed"
log line in Elasticsearch and a change event in PagerDuty.

Times in the timeline are local wall-clock times (`VIGIE_TIMEZONE`) on days counted relative to
the incident day D (0 = D, -1 = the day before).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Bump when any generator (metrics, logs, PagerDuty) changes what it produces: a running stack
# of an older version is rebuilt by the next `up`, and cached blocks are not reused.
WORLD_VERSION = 5

NAMESPACES = ("prod", "staging")
HISTORY_DAYS = 15
LOG_DAYS = 2
# The incident is placed on the previous day when the stack comes up before this local time.
INCIDENT_CUTOFF = time(10, 0)

# Prometheus client_python default buckets: 0.75 and 1.0 bracket the incident's 847 ms P99.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

GIB = 1024**3
GB = 10**9


@dataclass(frozen=True)
class ServiceSpec:
    """One application, deployed in both namespaces."""

    name: str
    team: str  # "payments" or "platform": picks the PagerDuty escalation policy
    description: str
    routes: tuple[str, ...]
    prod_pods: int
    staging_pods: int
    prod_rps: float  # total requests per second in prod at the daily average
    p50_s: float  # prod baseline latency quantiles
    p99_s: float
    error_ratio: float  # baseline share of 5xx
    cpu_cores_per_pod: float  # prod average
    memory_limit_gib: float  # per pod
    db_pool_max: int | None  # PostgreSQL pool size per pod, None when the service has no DB
    db_name: str | None = None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "api-gateway",
        "platform",
        "Public API entry point and routing",
        ("/api/v1/orders", "/api/v1/products", "/api/v1/users"),
        4,
        2,
        420.0,
        0.035,
        0.180,
        0.002,
        0.9,
        8,
        None,
    ),
    ServiceSpec(
        "payment-gateway",
        "payments",
        "Card payments and refunds (PSP connector)",
        ("/v1/payments", "/v1/refunds", "/v1/payments/{id}"),
        3,
        1,
        85.0,
        0.060,
        0.230,
        0.001,
        0.6,
        4,
        50,
        "payments",
    ),
    ServiceSpec(
        "checkout",
        "payments",
        "Checkout orchestration",
        ("/checkout", "/checkout/confirm"),
        3,
        1,
        60.0,
        0.080,
        0.310,
        0.002,
        0.5,
        4,
        40,
        "orders",
    ),
    ServiceSpec(
        "cart",
        "payments",
        "Shopping cart",
        ("/cart", "/cart/items"),
        3,
        1,
        140.0,
        0.020,
        0.120,
        0.001,
        0.3,
        2,
        30,
        "carts",
    ),
    ServiceSpec(
        "catalog",
        "platform",
        "Product catalog",
        ("/products", "/products/{id}", "/categories"),
        3,
        1,
        260.0,
        0.025,
        0.160,
        0.001,
        0.5,
        4,
        40,
        "catalog",
    ),
    ServiceSpec(
        "search",
        "platform",
        "Product search",
        ("/search", "/suggest"),
        3,
        1,
        180.0,
        0.045,
        0.390,
        0.002,
        1.1,
        6,
        None,
    ),
    ServiceSpec(
        "auth",
        "platform",
        "Authentication and sessions",
        ("/login", "/token", "/logout"),
        3,
        1,
        120.0,
        0.030,
        0.140,
        0.001,
        0.4,
        2,
        30,
        "identity",
    ),
    ServiceSpec(
        "cache-service",
        "platform",
        "Shared read-through cache",
        ("/get", "/set"),
        3,
        1,
        900.0,
        0.002,
        0.015,
        0.0005,
        0.7,
        24,
        None,
    ),
    ServiceSpec(
        "ml-inference",
        "platform",
        "Recommendations model serving",
        ("/predict", "/batch-predict"),
        2,
        1,
        40.0,
        0.110,
        0.520,
        0.003,
        2.5,
        48,
        None,
    ),
    ServiceSpec(
        "notification",
        "platform",
        "E-mail, SMS and push notifications",
        ("/notify", "/notify/bulk"),
        2,
        1,
        30.0,
        0.050,
        0.290,
        0.002,
        0.2,
        2,
        None,
    ),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)


def service(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)


@dataclass(frozen=True)
class Deploy:
    """A rollout of `version`; before the first deploy listed, `previous` was running."""

    service: str
    namespace: str
    day: int
    at: str  # "HH:MM" local
    version: str
    previous: str
    summary: str


DEPLOYS: tuple[Deploy, ...] = (
    Deploy(
        "ml-inference",
        "prod",
        -13,
        "11:00",
        "3.0.2",
        "3.0.1",
        "Larger embedding cache (memory +8 GB in prod)",
    ),
    Deploy(
        "api-gateway",
        "prod",
        -13,
        "15:00",
        "1.7.5",
        "1.7.4",
        "Per-route rate-limit buckets (memory +4 GB in prod)",
    ),
    Deploy(
        "cache-service",
        "prod",
        -13,
        "09:00",
        "5.2.0",
        "5.1.4",
        "Switch eviction to size-aware LRU (introduces the slow leak)",
    ),
    Deploy("notification", "prod", -10, "13:00", "1.5.3", "1.5.2", "Retry SMS provider on 502"),
    Deploy("payment-gateway", "prod", -9, "14:05", "2.14.1", "2.14.0", "Add 3-D Secure v2 flags"),
    Deploy("catalog", "prod", -8, "10:00", "1.12.0", "1.11.3", "Category tree cache"),
    Deploy(
        "ml-inference",
        "prod",
        -6,
        "11:00",
        "3.1.0",
        "3.0.2",
        "Larger ranking model (memory +8 GB in prod)",
    ),
    Deploy("api-gateway", "prod", -6, "15:00", "1.8.0", "1.7.5", "In-memory response cache"),
    Deploy("payment-gateway", "prod", -5, "10:20", "2.14.2", "2.14.1", "Refund idempotency keys"),
    Deploy("cart", "prod", -4, "09:50", "2.3.0", "2.2.8", "Saved carts"),
    Deploy("checkout", "prod", -3, "16:40", "4.2.0", "4.1.9", "Address validation step"),
    Deploy("search", "prod", -2, "11:15", "2.7.1", "2.7.0", "Synonyms update"),
    Deploy(
        "payment-gateway",
        "staging",
        -1,
        "16:00",
        "2.14.3",
        "2.14.2",
        "ORM upgrade: order lines lazy-loaded per payment",
    ),
    Deploy("auth", "prod", -1, "14:30", "3.4.2", "3.4.1", "Token TTL configurable"),
    Deploy(
        "payment-gateway",
        "prod",
        0,
        "08:30",
        "2.14.3",
        "2.14.2",
        "ORM upgrade: order lines lazy-loaded per payment",
    ),
)


@dataclass(frozen=True)
class PastIncident:
    """A resolved incident of the last two weeks; metrics and logs show its blip."""

    service: str
    day: int
    at: str  # "HH:MM" local, when the symptom starts
    minutes: int  # how long the symptom lasts; resolved a few minutes after it ends
    title: str
    urgency: str  # "high" | "low"
    signal: str  # "latency" | "errors" | "memory" | "restarts": what the metrics show
    note: str  # the resolution note written on the PagerDuty incident


PAST_INCIDENTS: tuple[PastIncident, ...] = (
    PastIncident(
        "search",
        -12,
        "03:10",
        35,
        "Elevated 5xx on search",
        "high",
        "errors",
        "Index shard relocation; resolved once relocation finished.",
    ),
    PastIncident(
        "checkout",
        -10,
        "14:20",
        50,
        "Checkout latency above SLO",
        "high",
        "latency",
        "Slow address provider; switched to fallback provider.",
    ),
    PastIncident(
        "auth",
        -8,
        "09:40",
        20,
        "Login failures spike",
        "high",
        "errors",
        "Expired signing key rotated.",
    ),
    PastIncident(
        "ml-inference",
        -6,
        "11:30",
        25,
        "ml-inference pods OOMKilled",
        "high",
        "restarts",
        "New 3.1.0 model needs more memory; limit raised to 48 GiB.",
    ),
    PastIncident(
        "api-gateway",
        -4,
        "17:15",
        15,
        "5xx spike from upstream",
        "high",
        "errors",
        "Upstream catalog brownout, recovered without action.",
    ),
    PastIncident(
        "notification",
        -3,
        "02:40",
        60,
        "Notification queue consumer lag",
        "low",
        "latency",
        "SMS provider throttling; backlog drained.",
    ),
    PastIncident(
        "catalog",
        -2,
        "13:05",
        30,
        "Elevated latency on catalog",
        "high",
        "latency",
        "Cold category cache after restart; warmed up.",
    ),
    PastIncident(
        "cart",
        -1,
        "19:30",
        12,
        "Cart error rate above 2%",
        "low",
        "errors",
        "Redis failover on the cart cache; recovered automatically.",
    ),
)


@dataclass(frozen=True)
class ReferenceIncident:
    """DESIGN.md's reference incident, on day D (local times)."""

    service: str = "payment-gateway"
    namespace: str = "prod"
    deploy_at: str = "08:30"  # v2.14.3 rollout (see DEPLOYS)
    latency_from: str = "08:30"  # P99 climbs within a few minutes of the rollout ...
    p99_s: float = 0.847  # ... to this plateau, and stays there while the incident is open
    baseline_p99_s: float = 0.230
    pool_saturated_at: str = "08:42"  # PostgreSQL pool in use reaches max (50/50 per pod)
    pool_max: int = 50
    errors_from: str = "08:42"  # pool exhausted: 5xx and timeouts start
    error_ratio: float = 0.04  # 5xx share while saturated
    pagerduty_triggered_at: str = "08:44"
    title: str = "High P99 latency on payment-gateway (prod)"


REFERENCE = ReferenceIncident()


@dataclass(frozen=True)
class MemoryTargets:
    """Namespace prod memory (sum of container_memory_working_set_bytes, in GB = 1e9 bytes).

    "This week" is the 7 days ending at the evaluation time, "last week" the 7 days before. The
    figures hold for an evaluation time anywhere on day D (calibrate at D 12:00; the drift
    within the day must stay well under 3 %).
    """

    this_week_avg_gb: float = 124.0
    this_week_peak_gb: float = 187.0
    last_week_avg_gb: float = 98.0
    last_week_peak_gb: float = 142.0
    # Increase of each service's average between the two weeks; the rest (+2 GB) is spread
    # thinly over the other services so that these three are clearly the main contributors.
    contributors_gb: tuple[tuple[str, float], ...] = (
        ("cache-service", 12.0),  # a steady leak since its D-13 deploy
        ("ml-inference", 8.0),  # two +8 GB steps, 7 days apart (D-13 3.0.2, D-6 3.1.0)
        ("api-gateway", 4.0),  # two +4 GB steps, 7 days apart (D-13 1.7.5, D-6 1.8.0)
    )


MEMORY = MemoryTargets()


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    time_zone: str = "Europe/Paris"


USERS: tuple[User, ...] = (
    User("PUALICE", "Alice Martin", "alice.martin@example.com"),
    User("PUBRUNO", "Bruno Lefèvre", "bruno.lefevre@example.com"),
    User("PUCHLOE", "Chloé Dubois", "chloe.dubois@example.com"),
    User("PUDAVID", "David Chen", "david.chen@example.com", "Europe/London"),
    User("PUEMMA", "Emma Laurent", "emma.laurent@example.com"),
    User("PUFARID", "Farid Benali", "farid.benali@example.com"),
    User("PUGRACE", "Grace Okafor", "grace.okafor@example.com", "Europe/London"),
    User("PUHUGO", "Hugo Moreau", "hugo.moreau@example.com"),
)


@dataclass(frozen=True)
class ScheduleSpec:
    """A weekly rotation: the on-call changes every Monday at `handoff` local time."""

    id: str
    name: str
    team: str
    rotation: tuple[str, ...]  # user ids, in order
    handoff: str = "09:00"
    # Escalation level 2 of the team's policy (level 1 is the schedule).
    escalation_user: str = "PUHUGO"


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        "PSPAYMT",
        "Payments primary",
        "payments",
        ("PUALICE", "PUBRUNO", "PUCHLOE"),
        escalation_user="PUHUGO",
    ),
    ScheduleSpec(
        "PSPLATF",
        "Platform primary",
        "platform",
        ("PUDAVID", "PUEMMA", "PUFARID", "PUGRACE"),
        escalation_user="PUHUGO",
    ),
)
# Rotations count whole weeks from this Monday (fixed, so the on-call of a given date is stable).
ROTATION_EPOCH = date(2026, 1, 5)


@dataclass(frozen=True)
class Anchor:
    """Where the world sits in real time: the incident day D in the configured time zone."""

    timezone: str
    incident_day: date
    created_at: datetime  # UTC; when `vigie devstack up` built the world
    seed: int = 42
    shifted: bool = False  # True when D is yesterday because the stack came up before 10:00
    world_version: int = WORLD_VERSION
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def at(self, day: int, hhmm: str) -> datetime:
        """The UTC instant of local time `hhmm` on day D+`day`."""
        hours, minutes = (int(part) for part in hhmm.split(":"))
        local = datetime.combine(
            self.incident_day + timedelta(days=day), time(hours, minutes), tzinfo=self.tz
        )
        return local.astimezone(UTC)

    def local_midnight(self, day: int = 0) -> datetime:
        return self.at(day, "00:00")

    @property
    def history_start(self) -> datetime:
        """Start of the metrics history: 15 days before creation, on a UTC day boundary."""
        start = self.created_at - timedelta(days=HISTORY_DAYS)
        return datetime.combine(start.date(), time(0), tzinfo=UTC)

    @property
    def logs_start(self) -> datetime:
        return self.created_at - timedelta(days=LOG_DAYS)

    def fingerprint(self) -> str:
        """Identifies what the generators produce, for caches: seed, D, zone and version."""
        key = f"{self.seed}|{self.incident_day.isoformat()}|{self.timezone}|{self.world_version}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        data = asdict(self)
        data["incident_day"] = self.incident_day.isoformat()
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        data = json.loads(text)
        data["incident_day"] = date.fromisoformat(data["incident_day"])
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Anchor:
        return cls.from_json(path.read_text(encoding="utf-8"))


def compute_anchor(now: datetime, timezone: str, seed: int = 42) -> Anchor:
    """D is today in `timezone`, or yesterday when `now` is before 10:00 local time.

    The reference incident runs from 08:30 (deploy) through 08:44 (PagerDuty) and is measured
    at 09:00; anchoring to today before it is complete would show a half-made incident, and
    "at 09:00 on the incident day" would be in the future. From 10:00 it is all in the past.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(ZoneInfo(timezone))
    shifted = local.time() < INCIDENT_CUTOFF
    day = local.date() - timedelta(days=1) if shifted else local.date()
    return Anchor(
        timezone=timezone,
        incident_day=day,
        created_at=now.astimezone(UTC),
        seed=seed,
        shifted=shifted,
    )


def deploys_of(service_name: str, namespace: str) -> list[Deploy]:
    """Rollouts of a service in a namespace, oldest first.

    Staging receives each prod version the day before prod, unless DEPLOYS says otherwise.
    """
    own = [d for d in DEPLOYS if d.service == service_name and d.namespace == namespace]
    if namespace == "staging":
        listed = {d.version for d in own}
        own += [
            Deploy(d.service, "staging", d.day - 1, d.at, d.version, d.previous, d.summary)
            for d in DEPLOYS
            if d.service == service_name and d.namespace == "prod" and d.version not in listed
        ]
    return sorted(own, key=lambda d: (d.day, d.at))


def version_at(service_name: str, namespace: str, when: datetime, anchor: Anchor) -> str:
    """The version of a service running in a namespace at `when`."""
    deploys = deploys_of(service_name, namespace)
    current = deploys[0].previous if deploys else "1.0.0"
    for deploy in deploys:
        if anchor.at(deploy.day, deploy.at) <= when:
            current = deploy.version
    return current


def pod_names(service_name: str, namespace: str, version: str, count: int) -> list[str]:
    """Kubernetes-style pod names: the ReplicaSet hash changes with the version."""
    rs = hashlib.sha1(f"{service_name}|{namespace}|{version}".encode()).hexdigest()  # noqa: S324
    names = []
    for index in range(count):
        suffix = hashlib.sha1(f"{rs}|{index}".encode()).hexdigest()  # noqa: S324
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        tail = "".join(
            alphabet[int(suffix[i : i + 2], 16) % len(alphabet)] for i in range(0, 10, 2)
        )
        names.append(f"{service_name}-{rs[:9]}-{tail}")
    return names
