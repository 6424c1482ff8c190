"""`vigie devstack up | status | down | reset`: real servers on 127.0.0.1 holding the demo world.

Start-up order: check binaries and ports, anchor the world (day D), start the servers that need
no data (Alertmanager, the Elasticsearch-API server, the PagerDuty simulator, the world's live
scrape target), backfill Prometheus' history and load the logs, then start Prometheus on the
backfilled blocks and the feeder that keeps appending logs. `up` is idempotent: what runs stays,
what is missing starts, and any gap since the stack last ran is backfilled.
"""

from __future__ import annotations

import functools
import json
import shutil
import ssl
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import redis

from bot.settings import Settings
from devstack.layout import StackInfo, StackLayout
from devstack.process import DevstackError, ProcessTable, free_port, port_is_free, wait_until
from devstack.world.scenario import Anchor, compute_anchor

ASSETS = Path(__file__).parent / "assets"

# Binary -> the Debian package that provides it (for the "missing package" message).
BINARIES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
}


@dataclass(frozen=True)
class Component:
    name: str
    port_setting: str  # dotted settings path, for "port busy" messages
    port: int
    health_url: str


@dataclass
class UpReport:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


def _env_var(dotted: str) -> str:
    return "VIGIE_" + dotted.upper().replace(".", "__")


class Devstack:
    """The local stack described by `settings.devstack`."""

    def __init__(self, settings: Settings, *, now: Callable[[], datetime] | None = None) -> None:
        self.settings = settings
        self.layout = StackLayout(settings.devstack.dir.resolve())
        self.procs = ProcessTable(self.layout.pids, self.layout.logs)
        self._now = now or (lambda: datetime.now(UTC))
        ports = settings.devstack.ports
        self.components = {
            c.name: c
            for c in (
                Component(
                    "alertmanager",
                    "devstack.ports.alertmanager",
                    ports.alertmanager,
                    f"http://127.0.0.1:{ports.alertmanager}/-/ready",
                ),
                Component(
                    "elasticsearch",
                    "devstack.ports.elasticsearch",
                    ports.elasticsearch,
                    f"http://127.0.0.1:{ports.elasticsearch}/",
                ),
                Component(
                    "pagerduty",
                    "devstack.ports.pagerduty",
                    ports.pagerduty,
                    f"https://127.0.0.1:{ports.pagerduty}/services?limit=1",
                ),
                Component(
                    "world-exporter",
                    "devstack.ports.world_exporter",
                    ports.world_exporter,
                    f"http://127.0.0.1:{ports.world_exporter}/metrics",
                ),
                Component(
                    "prometheus",
                    "devstack.ports.prometheus",
                    ports.prometheus,
                    f"http://127.0.0.1:{ports.prometheus}/-/ready",
                ),
            )
        }

    # ---- state ------------------------------------------------------------------------------

    def _state(self) -> dict[str, str]:
        try:
            data = json.loads(self.layout.state_file.read_text())
            return {str(k): str(v) for k, v in data.items()}
        except (OSError, ValueError):
            return {}

    def _save_state(self, **updates: str) -> None:
        state = self._state() | updates
        self.layout.root.mkdir(parents=True, exist_ok=True)
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.layout.state_file)

    def anchor(self) -> Anchor | None:
        try:
            return Anchor.load(self.layout.anchor_file)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _pagerduty_token(self) -> str:
        token = self.settings.pagerduty.token
        return token.get_secret_value() if token is not None else ""

    def info(self) -> StackInfo:
        anchor = self.anchor()
        if anchor is None:
            raise DevstackError("the devstack has no world yet: run `vigie devstack up`")
        ports = self.settings.devstack.ports
        return StackInfo(
            prometheus_url=f"http://127.0.0.1:{ports.prometheus}",
            alertmanager_url=f"http://127.0.0.1:{ports.alertmanager}",
            elasticsearch_url=f"http://127.0.0.1:{ports.elasticsearch}",
            pagerduty_url=f"https://127.0.0.1:{ports.pagerduty}",
            pagerduty_token=self._pagerduty_token(),
            pagerduty_ca=self.layout.pagerduty_ca,
            redis_url=self._state().get("redis_url", str(self.settings.redis.url or "")),
            exporter_url=f"http://127.0.0.1:{ports.world_exporter}",
            anchor=anchor,
            layout=self.layout,
        )

    def client_settings(self) -> Settings:
        """Vigie's settings with every backend pointed at this stack (tests, the demo)."""
        info = self.info()
        updates = {
            "prometheus": {"url": info.prometheus_url},
            "alertmanager": {"url": info.alertmanager_url},
            "elasticsearch": {"url": info.elasticsearch_url},
            "pagerduty": {"api_url": info.pagerduty_url, "ca_bundle": str(info.pagerduty_ca)},
            "redis": {"url": info.redis_url or None},
        }
        data = self.settings.model_dump(mode="json")
        for section, values in updates.items():
            data[section].update(values)
        for section, field_name in (
            ("pagerduty", "token"),
            ("llm", "api_key"),
            ("slack", "bot_token"),
            ("slack", "signing_secret"),
            ("slack", "app_token"),
            ("elasticsearch", "password"),
            ("elasticsearch", "api_key"),
        ):
            secret = getattr(getattr(self.settings, section), field_name)
            data[section][field_name] = None if secret is None else secret.get_secret_value()
        return Settings.model_validate(data)

    def all_running(self) -> bool:
        return all(self.procs.running(name) is not None for name in self.components)

    def ports_busy(self) -> list[int]:
        """Ports of components not running here that something else holds."""
        return [
            c.port
            for c in self.components.values()
            if self.procs.running(c.name) is None and not port_is_free(c.port)
        ]

    # ---- preflight --------------------------------------------------------------------------

    def _check_binaries(self) -> None:
        from devstack.elasticsearch import noida_executable  # noqa: PLC0415

        for binary, package in BINARIES.items():
            if shutil.which(binary) is None:
                raise DevstackError(
                    f"missing {binary} (Debian package '{package}'): run `make setup`, or "
                    f"`sudo apt-get install --no-install-recommends {package}`"
                )
        try:
            noida_executable()
        except FileNotFoundError:
            raise DevstackError(
                "missing noida-db (PyPI package 'noida-db'): run `make setup`, or "
                "`pip install noida-db` in Vigie's virtualenv"
            ) from None

    def _check_ports(self) -> None:
        for component in self.components.values():
            if self.procs.running(component.name) is not None:
                continue
            if not port_is_free(component.port):
                raise DevstackError(
                    f"port {component.port} for {component.name} is busy on 127.0.0.1: stop "
                    f"what listens there, or set {component.port_setting} "
                    f"({_env_var(component.port_setting)}) to a free port"
                )

    # ---- up ---------------------------------------------------------------------------------

    def up(self) -> UpReport:
        report = UpReport()
        t0 = time.perf_counter()
        self._check_binaries()
        self._check_ports()
        anchor = self._ensure_anchor(report)
        running_before = {n for n in self.components if self.procs.running(n) is not None}
        report.already_running = sorted(running_before)

        self._start_alertmanager()
        self._start_elasticsearch()
        self._start_pagerduty(anchor)
        self._start_exporter()

        with ThreadPoolExecutor(max_workers=2) as pool:
            metrics = pool.submit(self._backfill, anchor, report)
            logs = pool.submit(self._load_logs, anchor, report)
            metrics.result()
            logs.result()

        self._start_prometheus()
        self._start_feeder()
        self._ensure_redis(report)
        self._wait_all_healthy()
        report.started = sorted(set(self.components) - running_before)
        report.timings_s["total"] = time.perf_counter() - t0
        return report

    def _ensure_anchor(self, report: UpReport) -> Anchor:
        now = self._now()
        wanted = compute_anchor(now, self.settings.timezone, self.settings.devstack.seed)
        current = self.anchor()
        if current is not None and (
            current.incident_day == wanted.incident_day
            and current.timezone == wanted.timezone
            and current.seed == wanted.seed
            and current.world_version == wanted.world_version
        ):
            return current
        if current is not None:
            why = (
                f"generator version {current.world_version} -> {wanted.world_version}"
                if current.world_version != wanted.world_version
                else f"anchored to {current.incident_day} ({current.timezone}, seed {current.seed})"
            )
            report.notes.append(f"rebuilding the world for {wanted.incident_day}: {why}")
            self.down()
            self._wipe()
        wanted.save(self.layout.anchor_file)
        return wanted

    def _start_alertmanager(self) -> None:
        name, comp = "alertmanager", self.components["alertmanager"]
        if self.procs.running(name) is not None:
            return
        directory = self.layout.alertmanager_dir
        (directory / "data").mkdir(parents=True, exist_ok=True)
        config = directory / "alertmanager.yml"
        config.write_text((ASSETS / "alertmanager.yml").read_text())
        self.procs.start(
            name,
            [
                "prometheus-alertmanager",
                f"--config.file={config}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{comp.port}",
                "--cluster.listen-address=",  # no gossip port: local servers bind 127.0.0.1 only
                "--log.level=warn",
            ],
        )

    def _start_elasticsearch(self) -> None:
        from devstack.elasticsearch import noida_command  # noqa: PLC0415

        name, comp = "elasticsearch", self.components["elasticsearch"]
        if self.procs.running(name) is not None:
            return
        self.layout.elasticsearch_data.mkdir(parents=True, exist_ok=True)
        self.procs.start(name, noida_command(self.layout.elasticsearch_data, comp.port))

    def _start_pagerduty(self, anchor: Anchor) -> None:
        name, comp = "pagerduty", self.components["pagerduty"]
        if self.procs.running(name) is not None:
            return
        self.layout.pagerduty_dir.mkdir(parents=True, exist_ok=True)
        self.procs.start(
            name,
            [
                sys.executable,
                "-m",
                "devstack.pagerduty",
                "--dir",
                str(self.layout.pagerduty_dir),
                "--port",
                str(comp.port),
                "--token",
                self._pagerduty_token() or "devstack",
                "--rate-limit-per-minute",
                str(self.settings.devstack.pagerduty_rate_limit_per_minute),
                "--anchor",
                str(self.layout.anchor_file),
            ],
        )

    def _start_exporter(self) -> None:
        name, comp = "world-exporter", self.components["world-exporter"]
        if self.procs.running(name) is not None:
            return
        self.procs.start(
            name,
            [
                sys.executable,
                "-m",
                "devstack.world.exporter",
                "--anchor",
                str(self.layout.anchor_file),
                "--port",
                str(comp.port),
            ],
        )

    def _backfill(self, anchor: Anchor, report: UpReport) -> None:
        if self.procs.running("prometheus") is not None:
            return  # live scraping continues the history; nothing to fill
        from devstack.world.backfill import backfill, history_end  # noqa: PLC0415 - numpy

        # From the end of the newest block, not from when the stack went down: on restart
        # Prometheus drops WAL samples older than its newest block, and the fill regenerates
        # them (identical values: every sample is a function of absolute time).
        start = history_end(self.layout.prometheus_data)
        end = self._now()
        t0 = time.perf_counter()
        result = backfill(
            anchor,
            tsdb_dir=self.layout.prometheus_data,
            cache_dir=self.layout.blocks_cache,
            work_dir=self.layout.root / "tmp" / "backfill",
            start=start,
            end=end,
        )
        report.timings_s["metrics backfill"] = time.perf_counter() - t0
        report.notes.append(f"prometheus history: {result.summary()}")

    def _load_logs(self, anchor: Anchor, report: UpReport) -> None:
        from elasticsearch import Elasticsearch  # noqa: PLC0415

        from devstack.elasticsearch import append, load  # noqa: PLC0415

        comp = self.components["elasticsearch"]
        url = f"http://127.0.0.1:{comp.port}"
        managed = self.procs.get("elasticsearch")
        wait_until(
            lambda: httpx.get(url, timeout=1).status_code == 200,
            30,
            "the Elasticsearch-API server (noida-db)",
            died=(lambda: self.procs.exited_early(managed)) if managed else None,
        )
        t0 = time.perf_counter()
        end = self._now()
        loaded_s = max(
            filter(None, [self._state().get("logs_loaded_until"), _feeder_mark(self.layout)]),
            default=None,
        )
        with Elasticsearch(url, request_timeout=60) as es:
            if loaded_s:
                count = append(es, anchor, datetime.fromisoformat(loaded_s), end)
                report.notes.append(f"logs: {count} documents appended since {loaded_s}")
            else:
                result = load(es, anchor, anchor.logs_start, end)
                report.notes.append(
                    f"logs: {result.documents} documents in {len(result.indices)} daily indices "
                    f"({result.created} new) in {result.seconds:.1f} s"
                )
        report.timings_s["logs load"] = time.perf_counter() - t0
        self._save_state(logs_loaded_until=end.isoformat())

    def _start_prometheus(self) -> None:
        from devstack.world.prometheus_config import render_prometheus_config  # noqa: PLC0415

        name, comp = "prometheus", self.components["prometheus"]
        if self.procs.running(name) is not None:
            return
        ports = self.settings.devstack.ports
        directory = self.layout.prometheus_dir
        self.layout.prometheus_data.mkdir(parents=True, exist_ok=True)
        rules = directory / "rules.yml"
        rules.write_text((ASSETS / "prometheus-rules.yml").read_text())
        config = directory / "prometheus.yml"
        config.write_text(render_prometheus_config(ports.world_exporter, ports.alertmanager, rules))
        self.procs.start(
            name,
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={self.layout.prometheus_data}",
                "--storage.tsdb.retention.time=60d",
                f"--web.listen-address=127.0.0.1:{comp.port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
        )

    def _start_feeder(self) -> None:
        if self.procs.running("log-feeder") is not None:
            return
        self.procs.start(
            "log-feeder",
            [
                sys.executable,
                "-m",
                "devstack.feeder",
                "--anchor",
                str(self.layout.anchor_file),
                "--elasticsearch-url",
                f"http://127.0.0.1:{self.settings.devstack.ports.elasticsearch}",
                "--mark",
                str(self.layout.root / "feeder.json"),
            ],
        )

    def _ensure_redis(self, report: UpReport) -> None:
        configured = self.settings.redis.url
        if configured is None:
            report.notes.append("redis: redis.url is null, Vigie keeps state in process memory")
            return
        url = str(configured)
        if _redis_answers(url):
            self._save_state(redis_url=url)
            report.notes.append(f"redis: using the server answering at {url}")
            return
        managed = self.procs.running("redis")
        if managed is not None:
            return
        if shutil.which("redis-server") is None:
            raise DevstackError(
                f"no Redis answers at {url} and redis-server is missing (Debian package "
                "'redis-server'): run `make setup`, or set VIGIE_REDIS__URL"
            )
        parts = urlsplit(url)
        port = parts.port or 6379
        local = parts.hostname in {"127.0.0.1", "localhost"}
        if not (local and port_is_free(port)):
            port = free_port()
        (self.layout.root / "redis").mkdir(parents=True, exist_ok=True)
        managed = self.procs.start(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.layout.root / "redis"),
            ],
        )
        started_url = f"redis://127.0.0.1:{port}/0"
        wait_until(
            lambda: _redis_answers(started_url),
            10,
            "redis-server",
            died=lambda: self.procs.exited_early(managed),
        )
        self._save_state(redis_url=started_url)
        if (parts.hostname, parts.port or 6379) != ("127.0.0.1", port):
            report.notes.append(
                f"redis: started redis-server at {started_url}; point Vigie at it with "
                f"VIGIE_REDIS__URL={started_url}"
            )

    def _wait_all_healthy(self) -> None:
        for name, comp in self.components.items():
            wait_until(
                functools.partial(self._healthy, comp),
                60,
                name,
                died=functools.partial(self._died, name),
            )

    def _died(self, name: str) -> str | None:
        managed = self.procs.get(name)
        return None if managed is None else self.procs.exited_early(managed)

    def _healthy(self, comp: Component) -> bool:
        headers = {}
        verify: bool | ssl.SSLContext = True
        if comp.name == "pagerduty":
            headers["Authorization"] = f"Token token={self._pagerduty_token()}"
            if not self.layout.pagerduty_ca.exists():
                return False
            verify = ssl.create_default_context(cafile=str(self.layout.pagerduty_ca))
        response = httpx.get(comp.health_url, headers=headers, verify=verify, timeout=2)
        return response.status_code == 200

    # ---- status / down / reset ---------------------------------------------------------------

    def status(self) -> list[tuple[str, str, str, str]]:
        """(component, state, where, detail) rows; state is healthy / unhealthy / stopped."""
        rows = []
        for name, comp in self.components.items():
            managed = self.procs.running(name)
            scheme = "https" if name == "pagerduty" else "http"
            where = f"{scheme}://127.0.0.1:{comp.port}"
            if managed is None:
                rows.append((name, "stopped", where, ""))
                continue
            try:
                ok = self._healthy(comp)
                detail = f"pid {managed.pid}"
            except Exception as exc:
                ok, detail = False, f"pid {managed.pid}; {type(exc).__name__}: {exc}"[:200]
            rows.append((name, "healthy" if ok else "unhealthy", where, detail))
        feeder = self.procs.running("log-feeder")
        rows.append(
            (
                "log-feeder",
                "healthy" if feeder else "stopped",
                "-",
                f"pid {feeder.pid}" if feeder else "",
            )
        )
        redis_url = self._state().get("redis_url") or str(self.settings.redis.url or "")
        if redis_url:
            owner = "started by the devstack" if self.procs.running("redis") else "not ours"
            ok = _redis_answers(redis_url)
            rows.append(("redis", "healthy" if ok else "unhealthy", redis_url, owner))
        return rows

    def down(self) -> list[str]:
        """Stop every process the devstack recorded; returns the names stopped."""
        stopped = []
        for name in ["log-feeder", "prometheus", *self.procs.names()]:
            if self.procs.get(name) is not None and self.procs.stop(name):
                stopped.append(name)
        return list(dict.fromkeys(stopped))

    def _wipe(self) -> None:
        keep = {"cache", "logs"}
        if self.layout.root.is_dir():
            for child in self.layout.root.iterdir():
                if child.name in keep:
                    continue
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    def reset(self) -> UpReport:
        """Stop everything, delete the world's data (caches stay), and bring it up again."""
        self.down()
        self._wipe()
        return self.up()


def _feeder_mark(layout: StackLayout) -> str | None:
    """Until when the log feeder has appended (ISO time), if it has run."""
    try:
        return str(json.loads((layout.root / "feeder.json").read_text())["logs_loaded_until"])
    except (OSError, ValueError, KeyError):
        return None


def _redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False
