"""Reachability probes for `vigie config check` and `vigie devstack status`.

Each probe makes one cheap, read-only call (through the client Vigie uses, where it has one) and
reports ok / failed with a one-line reason and the latency. A probe never raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot.services import Services


@dataclass(frozen=True)
class ProbeResult:
    name: str
    target: str
    ok: bool | None  # None: not configured, nothing probed
    detail: str
    latency_ms: float

    def line(self) -> str:
        status = {True: "ok", False: "FAILED", None: "skipped"}[self.ok]
        latency = f"{self.latency_ms:7.1f} ms" if self.ok is not None else " " * 10
        return f"{self.name:<14} {status:<7} {latency}  {self.target}  {self.detail}".rstrip()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # Client libraries wrap the socket error; look through the whole chain for the cause.
    chain: list[str] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 5:
        chain.append(f"{cause!s} {getattr(cause, 'message', '')} {getattr(cause, 'errors', '')}")
        cause = cause.__cause__ or cause.__context__
    lowered = " ".join(chain).lower()
    if "connection refused" in lowered or "errno 111" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    if "certificate" in lowered:
        return f"TLS certificate problem: {text[:160]}"
    return text[:200]


def _timed(name: str, target: str, call: Callable[[], str]) -> ProbeResult:
    start = time.perf_counter()
    try:
        detail = call()
        ok = True
    except Exception as exc:
        detail, ok = _reason(exc), False
    return ProbeResult(name, target, ok, detail, (time.perf_counter() - start) * 1000)


def probe_all(services: Services) -> list[ProbeResult]:
    """Probe every configured backend, in a fixed order."""
    s = services.settings
    results = [
        _timed("prometheus", str(s.prometheus.url), lambda: _prometheus(services)),
        _timed("alertmanager", str(s.alertmanager.url), lambda: _alertmanager(services)),
        _timed("elasticsearch", str(s.elasticsearch.url), lambda: _elasticsearch(services)),
    ]
    if s.pagerduty.token is None:
        results.append(ProbeResult("pagerduty", str(s.pagerduty.api_url), None, "no token", 0))
    else:
        results.append(_timed("pagerduty", str(s.pagerduty.api_url), lambda: _pagerduty(services)))
    results.append(_timed("catalog", str(s.catalog.overrides), lambda: _catalog(services)))
    results.append(_timed("redis", services.state.description, lambda: _state(services)))
    if s.llm.base_url is None:
        results.append(ProbeResult("llm", "-", None, "not configured: planner only", 0))
    else:
        results.append(_timed("llm", str(s.llm.base_url), lambda: _llm(services)))
    if s.slack.bot_token is None:
        results.append(ProbeResult("slack", str(s.slack.api_base_url), None, "no bot token", 0))
    else:
        results.append(_timed("slack", str(s.slack.api_base_url), lambda: _slack(services)))
    return results


def _prometheus(services: Services) -> str:
    response = services.prometheus.get("api/v1/status/buildinfo")
    response.raise_for_status()
    return f"version {response.json()['data']['version']}"


def _alertmanager(services: Services) -> str:
    response = services.alertmanager.get("api/v2/status")
    response.raise_for_status()
    return f"version {response.json()['versionInfo']['version']}"


def _elasticsearch(services: Services) -> str:
    info = services.elasticsearch.info()
    pattern = services.settings.elasticsearch.index
    count = services.elasticsearch.count(index=pattern)["count"]
    return f"version {info['version']['number']}, {count} documents in {pattern}"


def _pagerduty(services: Services) -> str:
    client = services.pagerduty
    assert client is not None
    response = client.get("/services", params={"limit": 1, "total": True})
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:160]}")
    return f"{response.json().get('total', '?')} services"


def _catalog(services: Services) -> str:
    from tools.catalog import OverridesError, load_overrides  # noqa: PLC0415 - tools import us
    from tools.catalog.signals import SIGNALS  # noqa: PLC0415

    path = services.settings.catalog.overrides
    if path.is_file():
        try:
            load_overrides(path)
        except OverridesError as exc:
            raise RuntimeError("; ".join(exc.problems)) from None
    catalog = services.catalog.refresh()
    found = [name for name in SIGNALS if catalog.has(name)]
    missing = [name for name in SIGNALS if not catalog.has(name)]
    detail = f"{len(found)}/{len(SIGNALS)} signals discovered"
    return detail + (f" (none for: {', '.join(missing)})" if missing else "")


def _state(services: Services) -> str:
    services.state.ping()
    return "PING ok"


def _llm(services: Services) -> str:
    s = services.settings.llm
    headers = {}
    if s.api_key is not None:
        headers["Authorization"] = f"Bearer {s.api_key.get_secret_value()}"
    response = httpx.get(
        str(s.base_url).rstrip("/") + "/models", headers=headers, timeout=s.timeout_s
    )
    response.raise_for_status()
    return f"{len(response.json().get('data', []))} models"


def _slack(services: Services) -> str:
    s = services.settings.slack
    assert s.bot_token is not None
    response = httpx.post(
        str(s.api_base_url).rstrip("/") + "/auth.test",
        headers={"Authorization": f"Bearer {s.bot_token.get_secret_value()}"},
        timeout=10,
    )
    body = response.json()
    if not body.get("ok"):
        raise RuntimeError(f"auth.test: {body.get('error', 'failed')}")
    return f"team {body.get('team', '?')}"
