"""Settings: the defaults file, environment overrides, and one clear line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.settings import Settings, SettingsError, load_settings, masked

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("VIGIE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)


def test_defaults_file_matches_the_built_in_defaults() -> None:
    documented = yaml.safe_load((ROOT / "config" / "vigie.yaml").read_text())
    built_in = masked(Settings.model_validate({}))
    assert masked(Settings.model_validate(documented)) == built_in


def test_every_key_of_the_defaults_file_is_commented() -> None:
    lines = (ROOT / "config" / "vigie.yaml").read_text().splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.endswith(":"):
            continue
        previous = [p.strip() for p in lines[:index] if p.strip()]
        assert previous[-1].startswith("#") or previous[-1].endswith(":") or ":" in previous[-1], (
            line
        )


def test_public_environment_variables_override_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "VIGIE_PROMETHEUS__URL": "http://prom.example:9090",
        "VIGIE_ALERTMANAGER__URL": "http://am.example:9093",
        "VIGIE_ELASTICSEARCH__URL": "https://es.example:9200",
        "VIGIE_ELASTICSEARCH__INDEX": "app-logs-*",
        "VIGIE_PAGERDUTY__API_URL": "https://api.pagerduty.com",
        "VIGIE_PAGERDUTY__TOKEN": "u+abc",
        "VIGIE_PAGERDUTY__CA_BUNDLE": "/etc/ssl/pd.pem",
        "VIGIE_REDIS__URL": "redis://redis.example:6380/2",
        "VIGIE_LLM__BASE_URL": "http://127.0.0.1:11434/v1",
        "VIGIE_LLM__MODEL": "llama3.1",
        "VIGIE_LLM__API_KEY": "sk-test",
        "VIGIE_TIMEZONE": "America/Montreal",
        "VIGIE_SLACK__BOT_TOKEN": "xoxb-1",
        "VIGIE_SLACK__SIGNING_SECRET": "s3cret",
        "VIGIE_SLACK__API_BASE_URL": "http://127.0.0.1:8999/api/",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = load_settings()
    assert str(s.prometheus.url) == "http://prom.example:9090/"
    assert str(s.alertmanager.url) == "http://am.example:9093/"
    assert str(s.elasticsearch.url) == "https://es.example:9200/"
    assert s.elasticsearch.index == "app-logs-*"
    assert str(s.pagerduty.api_url) == "https://api.pagerduty.com/"
    assert s.pagerduty.token is not None
    assert s.pagerduty.token.get_secret_value() == "u+abc"
    assert s.pagerduty.ca_bundle == Path("/etc/ssl/pd.pem")
    assert str(s.redis.url) == "redis://redis.example:6380/2"
    assert str(s.llm.base_url) == "http://127.0.0.1:11434/v1"
    assert s.llm.model == "llama3.1"
    assert s.timezone == "America/Montreal"
    assert str(s.slack.api_base_url) == "http://127.0.0.1:8999/api/"
    shown = masked(s)
    assert shown["llm"]["api_key"] == "**********"
    assert "sk-test" not in repr(s)
    assert "s3cret" not in str(shown)


def test_null_in_the_environment_unsets_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_PAGERDUTY__CA_BUNDLE", "null")
    monkeypatch.setenv("VIGIE_REDIS__URL", "null")
    s = load_settings()
    assert s.pagerduty.ca_bundle is None
    assert s.redis.url is None


def test_config_option_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "vigie.yaml"
    path.write_text("timezone: Asia/Tokyo\nprometheus:\n  url: http://10.0.0.1:9090\n")
    s = load_settings(path)
    assert s.timezone == "Asia/Tokyo"
    assert str(s.prometheus.url) == "http://10.0.0.1:9090/"


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "vigie.yaml"
    path.write_text("timezone: Asia/Tokyo\n")
    monkeypatch.setenv("VIGIE_TIMEZONE", "UTC")
    assert load_settings(path).timezone == "UTC"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"VIGIE_PROMETHEUS__URL": "localhost:9090"},
            "prometheus.url: not a URL: 'localhost:9090'",
        ),
        (
            {"VIGIE_TIMEZONE": "Europe/Pariss"},
            "timezone: not an IANA time zone name: 'Europe/Pariss'",
        ),
        (
            {"VIGIE_PAGERDUTY__API_URL": "http://127.0.0.1:8443"},
            "pagerduty.api_url: must use https://",
        ),
        ({"VIGIE_REDIS__URL": "http://127.0.0.1:6379"}, "redis.url: not a Redis URL"),
        (
            {"VIGIE_PROMETHEUS__TIMEOUT_S": "-1"},
            "prometheus.timeout_s: input should be greater than 0",
        ),
        ({"VIGIE_PROMETHEUS__URLL": "http://x"}, "prometheus.urll: unknown setting"),
    ],
)
def test_each_problem_is_one_line_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(expected)


def test_all_problems_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_PROMETHEUS__URL", "nope")
    monkeypatch.setenv("VIGIE_TIMEZONE", "Nowhere/Town")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.problems) == 2


def test_secrets_are_never_echoed_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "vigie.yaml"
    path.write_text("slack:\n  bot_token: [xoxb-very-secret]\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert caught.value.problems[0].startswith("slack.bot_token:")
    assert "very-secret" not in str(caught.value)


def test_placeholder_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_ENVIRONMENT", "production")
    monkeypatch.setenv("VIGIE_PAGERDUTY__TOKEN", "devstack-pagerduty-token")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == ["pagerduty.token: placeholder secret refused in production"]


def test_unknown_key_in_file_and_bad_yaml(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("prometeus:\n  url: http://x:9090\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(typo)
    assert caught.value.problems[0].startswith("prometeus: unknown setting")
    broken = tmp_path / "broken.yaml"
    broken.write_text("prometheus: [unclosed\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(broken)
    assert caught.value.problems[0].startswith("config: cannot read")


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path / "absent.yaml")
    assert caught.value.problems == [f"config: no such file: '{tmp_path / 'absent.yaml'}'"]
