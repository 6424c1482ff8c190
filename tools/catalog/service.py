"""`CatalogService`: discovery over HTTP, cached, refreshed lazily, safe across threads.

`get()` returns the last catalog and starts a refresh when it is older than `refresh_s` (only one
thread refreshes; the others keep using the previous catalog meanwhile). `refresh()` forces one.
A failed discovery keeps the previous catalog and is reported by `status()`; only when there
has never been a catalog does `get()` raise (`CatalogUnavailableError`, a BackendError).

Discovery costs 2 + N requests: metric names, metadata, then label names of the N candidate
metrics (`/api/v1/labels?match[]=...`, in parallel), never a listing of every series.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.settings import Settings
from tools.base import BackendError
from tools.catalog.catalog import Catalog
from tools.catalog.discovery import candidate_metrics
from tools.catalog.model import CatalogUnavailableError, DiscoveryInfo, MetricMeta, ServerSnapshot
from tools.catalog.overrides import NO_OVERRIDES, Overrides, OverridesError, load_overrides

# Label names are read over this recent span first (cheap: recent blocks only); a server whose
# data is older (a stopped test world, a replay) is then asked over its whole retention.
LABEL_LOOKBACK = timedelta(hours=6)
LABEL_WORKERS = 8
# After a failed refresh, `get()` tries again after this long at most (not every call).
RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class CatalogStatus:
    """How fresh the catalog is, and the last discovery error if the last attempt failed."""

    has_catalog: bool
    discovered_at: datetime | None
    age_s: float | None
    last_error: str | None
    refreshes: int
    failures: int


class CatalogService:
    """Holds the server's catalog; see the module docstring."""

    def __init__(
        self,
        prometheus_url: str,
        *,
        timeout_s: float = 10.0,
        refresh_s: float = 600.0,
        overrides_path: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = prometheus_url.rstrip("/")
        self.refresh_s = refresh_s
        self.overrides_path = overrides_path
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s, transport=transport)
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()  # guards the fields below
        self._refreshing = threading.Lock()  # held by the one thread discovering
        self._catalog: Catalog | None = None
        self._fresh_at = 0.0  # clock() of the last success
        self._tried_at: float | None = None  # clock() of the last attempt
        self._error: str | None = None
        self._refreshes = 0
        self._failures = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.BaseTransport | None = None
    ) -> CatalogService:
        """A service for `settings.prometheus`, with `settings.catalog`'s overrides and period."""
        return cls(
            str(settings.prometheus.url),
            timeout_s=settings.prometheus.timeout_s,
            refresh_s=settings.catalog.refresh_s,
            overrides_path=settings.catalog.overrides,
            transport=transport,
        )

    # ------------------------------------------------------------------------------ public

    def overrides(self) -> Overrides:
        """The overrides as the file says now; OverridesError naming the key when invalid."""
        if self.overrides_path is None:
            return NO_OVERRIDES
        return load_overrides(self.overrides_path)

    def get(self) -> Catalog:
        """The current catalog, refreshed first if stale (see the module docstring)."""
        with self._lock:
            catalog = self._catalog
            due = self._due()
        if catalog is not None and not due:
            return catalog
        if catalog is not None:
            # Stale but usable: refresh only if nobody else is, and never make callers wait.
            if not self._refreshing.acquire(blocking=False):
                return catalog
            try:
                return self._refresh_locked()
            finally:
                self._refreshing.release()
        with self._refreshing:
            with self._lock:  # another thread may have succeeded while we waited
                if self._catalog is not None and not self._due():
                    return self._catalog
            return self._refresh_locked()

    def refresh(self) -> Catalog:
        """Discover now (waiting for a refresh in progress); keeps the previous on failure."""
        with self._refreshing:
            return self._refresh_locked()

    def status(self) -> CatalogStatus:
        with self._lock:
            catalog = self._catalog
            return CatalogStatus(
                has_catalog=catalog is not None,
                discovered_at=catalog.info.discovered_at if catalog else None,
                age_s=(self._clock() - self._fresh_at) if catalog else None,
                last_error=self._error,
                refreshes=self._refreshes,
                failures=self._failures,
            )

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------------------- internals

    def _due(self) -> bool:
        now = self._clock()
        if self._tried_at is not None and self._error is not None:
            # Failing: retry at a bounded pace rather than on every call.
            return now - self._tried_at >= min(self.refresh_s, RETRY_AFTER_S)
        return self._catalog is None or now - self._fresh_at >= self.refresh_s

    def _refresh_locked(self) -> Catalog:
        """Discover and store; the caller holds `_refreshing`."""
        started = self._clock()
        try:
            catalog = self.discover()
        except (BackendError, OverridesError) as exc:
            message = str(exc).replace("\n", "; ")
            with self._lock:
                self._tried_at = self._clock()
                self._error = message
                self._failures += 1
                previous = self._catalog
            if previous is not None:
                return previous
            raise CatalogUnavailableError(f"signal catalog: discovery failed: {message}") from None
        with self._lock:
            self._catalog = catalog
            self._fresh_at = started
            self._tried_at = started
            self._error = None
            self._refreshes += 1
        return catalog

    def discover(self) -> Catalog:
        """One discovery against the server (no caching); BackendError / OverridesError."""
        began = time.perf_counter()
        overrides = self.overrides()
        warnings: list[str] = []
        names = frozenset(self._get("/api/v1/label/__name__/values"))
        try:
            metadata = _metadata(self._get("/api/v1/metadata"))
        except BackendError as exc:  # some Prometheus-compatible servers lack it: names suffice
            metadata = {}
            warnings.append(f"metadata unavailable ({exc}); types inferred from names")
        wanted = candidate_metrics(names, overrides)
        since = self._now() - LABEL_LOOKBACK
        with ThreadPoolExecutor(max_workers=LABEL_WORKERS) as pool:
            found = list(pool.map(lambda name: self._label_names(name, since), wanted))
        snapshot = ServerSnapshot(names, metadata, dict(zip(wanted, found, strict=True)))
        info = DiscoveryInfo(
            server=self.url,
            discovered_at=self._now(),
            elapsed_ms=(time.perf_counter() - began) * 1000,
            overrides=str(self.overrides_path) if not overrides.empty else "",
            warnings=tuple(warnings),
        )
        return Catalog.from_snapshot(snapshot, overrides, info)

    def _label_names(self, metric: str, since: datetime) -> frozenset[str]:
        params: dict[str, str] = {"match[]": metric, "start": f"{since.timestamp():.3f}"}
        labels = self._get("/api/v1/labels", params)
        if not labels:
            labels = self._get("/api/v1/labels", {"match[]": metric})
        return frozenset(str(label) for label in labels) - {"__name__"}

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._client.get(path, params=params)
        except httpx.TimeoutException:
            raise BackendError(f"prometheus: {path}: timed out", query=path) from None
        except httpx.HTTPError as exc:
            raise BackendError(f"prometheus: {path}: {exc}", query=path) from None
        if response.status_code != 200:
            text = response.text.strip().replace("\n", " ")[:300]
            raise BackendError(
                f"prometheus: {path}: HTTP {response.status_code}: {text}",
                query=path,
                status_code=response.status_code,
            )
        try:
            body = response.json()
        except ValueError:
            raise BackendError(f"prometheus: {path}: not JSON", query=path) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise BackendError(f"prometheus: {path}: {error or 'unexpected answer'}", query=path)
        return body.get("data") or []


def _metadata(data: Any) -> dict[str, MetricMeta]:
    out: dict[str, MetricMeta] = {}
    if not isinstance(data, dict):
        return out
    for name, entries in data.items():
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            first = entries[0]
            out[str(name)] = MetricMeta(
                type=str(first.get("type", "unknown")),
                help=str(first.get("help", "")),
                unit=str(first.get("unit", "")),
            )
    return out
