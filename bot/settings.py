"""Vigie's settings: defaults, then `config/vigie.yaml` or `--config PATH`, then `VIGIE_*`.

Environment variables use `__` for nesting: `VIGIE_PROMETHEUS__URL` sets `prometheus.url`. The
variable names are a public contract (README, deployments): do not rename fields lightly.

Loading never raises a raw pydantic error to a user: `load_settings` turns every problem into
one line naming the dotted field and why (`prometheus.url: not a URL: 'localhost:9090'`), and
the CLI prints those lines and exits with status 2.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("config/vigie.yaml")

# Token the PagerDuty simulator of the devstack accepts; refused outside development.
DEVSTACK_PAGERDUTY_TOKEN = "devstack-pagerduty-token"  # noqa: S105 - a public, local-only value
PLACEHOLDER_SECRETS = frozenset({DEVSTACK_PAGERDUTY_TOKEN, "changeme", "change-me", "xoxb-test"})


def _redis_url(value: AnyUrl | None) -> AnyUrl | None:
    if value is not None and value.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(f"not a Redis URL (redis://, rediss:// or unix://): '{value}'")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusSettings(_Section):
    url: HttpUrl = HttpUrl("http://127.0.0.1:9090")
    timeout_s: float = Field(10.0, gt=0, le=300)


class AlertmanagerSettings(_Section):
    url: HttpUrl = HttpUrl("http://127.0.0.1:9093")
    timeout_s: float = Field(10.0, gt=0, le=300)


class ElasticsearchSettings(_Section):
    url: HttpUrl = HttpUrl("http://127.0.0.1:9200")
    index: str = Field("logs-*", min_length=1)
    allowed_indices: tuple[str, ...] = ("logs-*",)
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    ca_bundle: Path | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)


class PagerDutySettings(_Section):
    api_url: HttpUrl = HttpUrl("https://127.0.0.1:8443")
    token: SecretStr | None = SecretStr(DEVSTACK_PAGERDUTY_TOKEN)
    ca_bundle: Path | None = Path(".devstack/pagerduty/ca.pem")
    from_email: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)

    @field_validator("api_url")
    @classmethod
    def _https_only(cls, value: HttpUrl) -> HttpUrl:
        # The pagerduty client refuses anything else; say so at start-up, not at first use.
        if value.scheme != "https":
            raise ValueError(f"must use https:// (the PagerDuty client requires it): '{value}'")
        return value


class RedisSettings(_Section):
    url: Annotated[AnyUrl | None, AfterValidator(_redis_url)] = AnyUrl("redis://127.0.0.1:6379/0")
    key_prefix: str = "vigie:"


class LLMPrice(_Section):
    prompt_per_1m: float = Field(ge=0)
    completion_per_1m: float = Field(ge=0)


class LLMSettings(_Section):
    base_url: HttpUrl | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    temperature: float = Field(0.0, ge=0, le=2)
    timeout_s: float = Field(60.0, gt=0, le=600)
    max_steps: int = Field(8, ge=1, le=50)
    deadline_s: float = Field(45.0, gt=0, le=600)
    max_output_tokens: int = Field(1200, ge=16, le=32000)
    # USD per million tokens, by model name; unknown models cost 0 (and the answer says so).
    prices: dict[str, LLMPrice] = {
        "gpt-4o-mini": LLMPrice(prompt_per_1m=0.15, completion_per_1m=0.60),
        "gpt-4o": LLMPrice(prompt_per_1m=2.50, completion_per_1m=10.0),
        "mistral-large-latest": LLMPrice(prompt_per_1m=2.0, completion_per_1m=6.0),
    }


class EngineSettings(_Section):
    # Let the no-LLM planner answer the questions it recognises even when an LLM is configured.
    planner_fast_path: bool = True
    memory_turns: int = Field(10, ge=1, le=100)
    memory_tokens: int = Field(3000, ge=100, le=100000)
    memory_ttl_s: float = Field(86400.0, ge=60)
    # Extra regular expressions masked in tool results and answers (PII of your organisation).
    pii_patterns: tuple[str, ...] = ()
    # Where charts (PNG) are written.
    charts_dir: Path = Path(".vigie/charts")


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_base_url: HttpUrl = HttpUrl("https://slack.com/api/")


class ToolsSettings(_Section):
    token_budget: int = Field(1500, ge=100, le=50000)
    max_series: int = Field(20, ge=1, le=1000)
    max_points: int = Field(300, ge=10, le=11000)
    log_fields: tuple[str, ...] = (
        "@timestamp",
        "service",
        "namespace",
        "level",
        "logger",
        "message",
        "pod",
        "trace_id",
        "http.status",
    )
    log_message_chars: int = Field(400, ge=40, le=10000)


class CatalogSettings(_Section):
    overrides: Path = Path("config/signals.yaml")
    refresh_s: float = Field(600.0, ge=10)


class DevstackPorts(_Section):
    prometheus: int = Field(9090, ge=1, le=65535)
    alertmanager: int = Field(9093, ge=1, le=65535)
    elasticsearch: int = Field(9200, ge=1, le=65535)
    pagerduty: int = Field(8443, ge=1, le=65535)
    world_exporter: int = Field(9464, ge=1, le=65535)


class DevstackSettings(_Section):
    dir: Path = Path(".devstack")
    seed: int = 42
    ports: DevstackPorts = DevstackPorts()
    pagerduty_rate_limit_per_minute: int = Field(900, ge=1)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"not an IANA time zone name: '{value}'") from None
    return value


_config_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "vigie_config_path", default=None
)


class Settings(BaseSettings):
    """Every setting Vigie reads. Field names map to `VIGIE_<SECTION>__<FIELD>` variables."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_",
        env_nested_delimiter="__",
        env_parse_none_str="null",  # VIGIE_LLM__BASE_URL=null unsets a default
        extra="forbid",
        frozen=True,
    )

    environment: Literal["development", "production"] = "development"
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Paris"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    prometheus: PrometheusSettings = PrometheusSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    pagerduty: PagerDutySettings = PagerDutySettings()
    redis: RedisSettings = RedisSettings()
    llm: LLMSettings = LLMSettings()
    slack: SlackSettings = SlackSettings()
    engine: EngineSettings = EngineSettings()
    tools: ToolsSettings = ToolsSettings()
    catalog: CatalogSettings = CatalogSettings()
    devstack: DevstackSettings = DevstackSettings()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        for dotted, secret in _secrets(self):
            if secret is not None and secret.get_secret_value() in PLACEHOLDER_SECRETS:
                raise ValueError(f"{dotted}: placeholder secret refused in production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path.get()
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)


def _secrets(settings: Settings) -> list[tuple[str, SecretStr | None]]:
    found: list[tuple[str, SecretStr | None]] = []
    for section_name in type(settings).model_fields:
        section = getattr(settings, section_name)
        if not isinstance(section, BaseModel):
            continue
        for field_name in type(section).model_fields:
            value = getattr(section, field_name)
            if isinstance(value, SecretStr):
                found.append((f"{section_name}.{field_name}", value))
    return found


class SettingsError(Exception):
    """Invalid settings: `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"]) or "settings"
    kind = str(error["type"])
    given = error.get("input")
    secret = any(
        part in {"token", "api_key", "password", "signing_secret", "app_token", "bot_token"}
        for part in map(str, error["loc"])
    )
    shown = "<secret>" if secret else repr(given)
    if kind.startswith("url_"):
        return f"{loc}: not a URL: {shown}"
    if kind == "extra_forbidden":
        return f"{loc}: unknown setting (check the spelling against config/vigie.yaml)"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        # Model-level validators already name their own field.
        return message if not error["loc"] else f"{loc}: {message}"
    if kind == "literal_error":
        return f"{loc}: {error['msg'].lower()}, got {shown}"
    return f"{loc}: {str(error['msg']).lower()}, got {shown}"


def load_settings(config_path: Path | None = None) -> Settings:
    """Build the settings, or raise `SettingsError` listing every problem found.

    `config_path` defaults to `$VIGIE_CONFIG`, then `config/vigie.yaml` when it exists. An
    explicitly named file that does not exist is an error, not a silent fallback.
    """
    explicit = config_path or (
        Path(os.environ["VIGIE_CONFIG"]) if os.environ.get("VIGIE_CONFIG") else None
    )
    if explicit is not None and not explicit.is_file():
        raise SettingsError([f"config: no such file: '{explicit}'"])
    path = explicit or (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None)
    token = _config_path.set(path)
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError([_describe(dict(err)) for err in exc.errors()]) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable or malformed YAML
        raise SettingsError([f"config: cannot read '{path}': {exc}"]) from None
    finally:
        _config_path.reset(token)


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets shown as '**********' (or null)."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    for dotted, secret in _secrets(settings):
        section, field = dotted.split(".")
        data[section][field] = None if secret is None else "**********"
    return data
