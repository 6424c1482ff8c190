"""The composition root: every client and service Vigie uses is built here, from settings.

Nothing connects at import time or in this function: clients open their connections on first
use, so `vigie --help` or a settings error never waits on a network.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pagerduty

from bot.settings import ElasticsearchSettings, PagerDutySettings, Settings
from bot.state import StateStore, build_state_store

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from tools.catalog import CatalogService


class BackendConfigError(Exception):
    """A backend cannot be used as configured; the message names the setting."""


@dataclass
class Services:
    """Everything built from settings, handed down to the surfaces and the engine."""

    settings: Settings
    prometheus: httpx.Client  # the HTTP API; tools/prometheus.py adds validation and decoding
    alertmanager: httpx.Client
    state: StateStore
    _closers: list[object] = field(default_factory=list, repr=False)

    @functools.cached_property
    def elasticsearch(self) -> Elasticsearch:
        """Built on first use: importing the client costs ~0.25 s that most questions skip."""
        client = build_elasticsearch(self.settings.elasticsearch)
        self._closers.append(client)
        return client

    @functools.cached_property
    def pagerduty(self) -> pagerduty.RestApiV2Client | None:
        """Built on first use: its TLS setup reads the CA bundle, which may not exist yet."""
        client = build_pagerduty(self.settings.pagerduty)
        if client is not None:
            self._closers.append(client)
        return client

    @functools.cached_property
    def catalog(self) -> CatalogService:
        """The signal catalog of settings.prometheus (discovered lazily, cached)."""
        from tools.catalog import CatalogService  # noqa: PLC0415 - tools import this module

        service = CatalogService.from_settings(self.settings)
        self._closers.append(service)
        return service

    def close(self) -> None:
        self.prometheus.close()
        self.alertmanager.close()
        for client in self._closers:
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self.state.close()


def build_pagerduty(settings: PagerDutySettings) -> pagerduty.RestApiV2Client | None:
    """The PagerDuty REST client, or None when no token is configured."""
    if settings.token is None:
        return None
    verify: ssl.SSLContext | bool = True
    if settings.ca_bundle is not None:
        if not Path(settings.ca_bundle).is_file():
            raise BackendConfigError(
                f"pagerduty.ca_bundle: no such file: '{settings.ca_bundle}' "
                "(for the devstack, run `vigie devstack up` first)"
            )
        # An SSL context, not a path: httpx2 deprecates `verify=<path>`.
        verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
    client = pagerduty.RestApiV2Client(
        settings.token.get_secret_value(),
        default_from=settings.from_email,
        verify=verify,
    )
    client.url = str(settings.api_url).rstrip("/")
    client.timeout = settings.timeout_s  # type: ignore[assignment]  # httpx accepts floats
    # Bounded: the client's default retries 429 forever and refused connections three times
    # with growing sleeps, which would hang a Slack reply. The read tools send their own
    # requests and honour Retry-After (tools/pagerduty.py).
    client.retry[429] = 3
    client.max_network_attempts = 0
    return client


def build_elasticsearch(es: ElasticsearchSettings) -> Elasticsearch:
    """The official client; no retries, so a down cluster is reported within the timeout."""
    from elasticsearch import Elasticsearch  # noqa: PLC0415 - slow import, see Services

    es_auth: dict[str, object] = {}
    if es.api_key is not None:
        es_auth["api_key"] = es.api_key.get_secret_value()
    elif es.username is not None and es.password is not None:
        es_auth["basic_auth"] = (es.username, es.password.get_secret_value())
    if es.ca_bundle is not None:
        es_auth["ca_certs"] = str(es.ca_bundle)
    return Elasticsearch(
        str(es.url),
        request_timeout=es.timeout_s,
        max_retries=0,
        **es_auth,  # type: ignore[arg-type]
    )


def build_services(settings: Settings) -> Services:
    """Build every client from `settings`; see the module docstring for what this does not do."""
    return Services(
        settings=settings,
        prometheus=httpx.Client(
            base_url=str(settings.prometheus.url), timeout=settings.prometheus.timeout_s
        ),
        alertmanager=httpx.Client(
            base_url=str(settings.alertmanager.url), timeout=settings.alertmanager.timeout_s
        ),
        state=build_state_store(settings.redis),
    )
