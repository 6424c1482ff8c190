"""The agent's prompts: Jinja2 files under prompts/, rendered with strict undefined variables.

`system.md.j2` includes one partial per concern (role, time, catalog, answer rules, proposals,
safety, language) and, next to each toolset, that toolset's guidance
(`prompts/toolsets/<backend>.md.j2`). A variable missing from the inputs is an error
(`jinja2.UndefinedError`), never an empty string in front of a model.

    text = render_system_prompt(SystemPrompt.build(now=..., tz=..., language="fr", ...))
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.engine.answer import Language

# The templates ship inside the `prompts` package, so an installed wheel finds them too.
PROMPTS_DIR = Path(str(resources.files("prompts")))

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "French (français)"}

# Titles of the toolsets, by backend, in the order the prompt lists them.
TOOLSET_TITLES: dict[str, str] = {
    "prometheus": "Metrics (Prometheus)",
    "elasticsearch": "Logs (Elasticsearch)",
    "pagerduty": "Incidents, on-call and changes (PagerDuty)",
    "alertmanager": "Alerts and silences (Alertmanager)",
    "catalog": "Signal catalog",
}


@dataclass(frozen=True)
class Toolset:
    name: str  # the backend: names the guidance partial prompts/toolsets/<name>.md.j2
    title: str
    tools: tuple[str, ...]


def toolsets(tools: Iterable[tuple[str, str]]) -> tuple[Toolset, ...]:
    """(tool name, backend) pairs grouped by backend, in TOOLSET_TITLES order."""
    by_backend: dict[str, list[str]] = {}
    for name, backend in tools:
        by_backend.setdefault(backend, []).append(name)
    order = [*TOOLSET_TITLES, *sorted(set(by_backend) - set(TOOLSET_TITLES))]
    return tuple(
        Toolset(name=b, title=TOOLSET_TITLES.get(b, b), tools=tuple(by_backend[b]))
        for b in order
        if b in by_backend
    )


@dataclass(frozen=True)
class SystemPrompt:
    """Every variable of system.md.j2 and its partials."""

    now_local: str
    weekday: str
    timezone: str
    utc_offset: str
    now_utc: str
    language: Language
    language_name: str
    catalog: str | None
    catalog_error: str | None
    toolsets: tuple[Toolset, ...]
    proposal_tools: tuple[str, ...]
    max_steps: int
    deadline_s: int

    @classmethod
    def build(
        cls,
        *,
        now: datetime,
        tz: ZoneInfo,
        language: Language,
        catalog: str | None,
        catalog_error: str | None,
        toolsets: tuple[Toolset, ...],
        proposal_tools: tuple[str, ...],
        max_steps: int,
        deadline_s: float,
    ) -> SystemPrompt:
        local = now.astimezone(tz)
        offset = local.strftime("%z")
        return cls(
            now_local=local.strftime("%Y-%m-%d %H:%M"),
            weekday=local.strftime("%A"),
            timezone=str(tz.key),
            utc_offset=f"{offset[:3]}:{offset[3:]}",
            now_utc=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            language=language,
            language_name=LANGUAGE_NAMES[language],
            catalog=catalog,
            catalog_error=catalog_error,
            toolsets=toolsets,
            proposal_tools=proposal_tools,
            max_steps=max_steps,
            deadline_s=round(deadline_s),
        )


@functools.cache
def environment(directory: Path = PROMPTS_DIR) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Markdown for a model, not HTML: nothing to escape
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, variables: Mapping[str, Any], *, directory: Path = PROMPTS_DIR) -> str:
    """Render one template; `jinja2.UndefinedError` when it uses a variable not given."""
    return environment(directory).get_template(template).render(**variables).strip() + "\n"


def render_system_prompt(inputs: SystemPrompt, *, directory: Path = PROMPTS_DIR) -> str:
    return render("system.md.j2", asdict(inputs), directory=directory)
