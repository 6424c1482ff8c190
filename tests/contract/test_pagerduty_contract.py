"""Contract: the PagerDuty simulator's responses validate against PagerDuty's published OpenAPI.

The spec is `../shared/specs/pagerduty-rest-openapiv3.json` (outside the repository, see
/work/shared/specs/README.md); the module is skipped when it is absent. Every endpoint the
simulator serves is called over real HTTPS, and each JSON body is validated with
`openapi-schema-validator`'s OAS 3.0 read validator (it understands `nullable`, `readOnly`,
`allOf`/`oneOf`, `format`) against the response schema the operation declares for that status.

The published spec has a few defects that make correct PagerDuty responses fail; `SPEC_FIXES`
patches exactly those, each with the reason. Nothing else is relaxed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.pagerduty import world
from tests.pagerduty_helpers import Simulator, paris_anchor, start_simulator

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
SPEC_FILE = SPECS / "pagerduty-rest-openapiv3.json"

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(
        not SPEC_FILE.is_file(),
        reason=f"PagerDuty's published OpenAPI spec is not available at {SPEC_FILE}",
    ),
]

SPEC_URI = "urn:pagerduty-rest-openapiv3"
FROM = {"From": "alice.martin@example.com"}


def _node(spec: dict[str, Any], path: str) -> tuple[Any, str]:
    """The parent of the node at a JSON pointer, and the node's key."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    node: Any = spec
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, last


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A spec patch replacing the node at a JSON pointer."""

    def patch(spec: dict[str, Any]) -> None:
        parent, key = _node(spec, path)
        if key not in parent:  # fail loudly when the spec moved
            raise KeyError(path)
        parent[key] = value

    return patch


def _nullable(path: str) -> Callable[[dict[str, Any]], None]:
    """Mark a property nullable, keeping the rest of its schema."""

    def patch(spec: dict[str, Any]) -> None:
        parent, key = _node(spec, path)
        node = parent[key]
        if "type" in node or "format" in node:
            node["nullable"] = True
        else:
            # A bare `$ref`/`oneOf` cannot carry `nullable` in OAS 3.0; wrap it.
            parent[key] = {"oneOf": [{"type": "object", "nullable": True, "enum": [None]}, node]}

    return patch


S = "/components/schemas"
SPEC_FIXES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    (
        # LogEntry.type lists "acknowledge_log_entry" (what the API sends) but the
        # AcknowledgeLogEntry subtype restricts it to "acknowledgement_log_entry", so no real
        # acknowledge entry can satisfy both halves of its allOf.
        "AcknowledgeLogEntry.type enum contradicts LogEntry.type",
        _set(f"{S}/AcknowledgeLogEntry/allOf/1/properties/type/enum", ["acknowledge_log_entry"]),
    ),
    (
        # Channel's oneOf variants are distinguished only by prose ("Will be `api`"), not by
        # an enum or discriminator, so every channel matches several variants and `oneOf`
        # (exactly one) always fails. anyOf keeps the per-variant property types checked.
        "Channel.oneOf variants are not mutually exclusive",
        lambda spec: spec["components"]["schemas"]["Channel"].update(
            anyOf=spec["components"]["schemas"]["Channel"].pop("oneOf")
        ),
    ),
    (
        # "If `null`, the on-call is a permanent user on-call" (the property's own description):
        # users targeted directly by a policy have null start/end and no schedule.
        "Oncall.start is documented null for permanent on-calls",
        _nullable(f"{S}/Oncall/properties/start"),
    ),
    (
        "Oncall.end is documented null for permanent on-calls",
        _nullable(f"{S}/Oncall/properties/end"),
    ),
    (
        "Oncall.schedule is null for permanent on-calls",
        _nullable(f"{S}/Oncall/properties/schedule"),
    ),
    (
        # "The time the incident became resolved or `null` if the incident is not resolved."
        "Incident.resolved_at is documented null while open",
        _nullable(f"{S}/Incident/allOf/1/properties/resolved_at"),
    ),
]


def _load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    for _reason, fix in SPEC_FIXES:
        fix(spec)
    return spec


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """Finds and applies the response schema of (method, path template, status)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        self.spec = spec
        self._validator_cls = OAS30ReadValidator
        self._format_checker = oas30_format_checker
        self._registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4)
        )

    def schema_pointer(self, method: str, template: str, status: int) -> tuple[str, bool]:
        """JSON pointer of the response schema; False when the status is not documented."""
        responses = self.spec["paths"][template][method.lower()]["responses"]
        documented = str(status) in responses
        if documented:
            response = responses[str(status)]
            if "$ref" in response:
                return response["$ref"].removeprefix("#") + _pointer(
                    "content", "application/json", "schema"
                ), True
            return _pointer(
                "paths",
                template,
                method.lower(),
                "responses",
                str(status),
                "content",
                "application/json",
                "schema",
            ), True
        # Not every operation lists every error status it can return (e.g. 404 on
        # /incidents/{id}/alerts, 400 on PUT /incidents/{id}); PagerDuty uses one generic
        # error body everywhere, so fall back to it.
        return "/components/responses/NotFound/content/application~1json/schema", False

    def validate(self, method: str, template: str, status: int, body: Any) -> None:
        pointer, _ = self.schema_pointer(method, template, status)
        validator = self._validator_cls(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=self._registry,
            format_checker=self._format_checker,
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            details = "\n".join(
                f"- at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
                for e in errors[:10]
            )
            pytest.fail(f"{method} {template} {status} does not match the spec:\n{details}")


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(_load_spec())


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    simulator = start_simulator(tmp_path_factory.mktemp("pagerduty-contract"), paris_anchor())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def ids(sim: Simulator) -> dict[str, str]:
    """Ids of the demo world's objects, to fill the path templates of the cases."""
    state = world.build_state(sim.anchor)
    open_incident = next(i for i in state["incidents"] if i["status"] == "triggered")
    past = next(i for i in state["incidents"] if i["status"] == "resolved")
    now = datetime.now(UTC)
    return {
        "incident": open_incident["id"],
        "past": past["id"],
        "log_entry": state["log_entries"][past["id"]][0]["id"],
        "service": world.service_id("payment-gateway"),
        "user": "PUALICE",
        "team": world.TEAMS["payments"].id,
        "policy": world.TEAMS["payments"].escalation_policy_id,
        "schedule": "PSPAYMT",
        "change": state["change_events"][-1]["id"],
        "since": world.iso(now - timedelta(days=10)),
        "until": world.iso(now),
        "later": world.iso(now + timedelta(days=20)),
    }


# (method, spec path template, request path with {placeholders}, headers, body, status)
Case = tuple[str, str, str, dict[str, str], Any, int]
ACK = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
CASES: list[Case] = [
    ("GET", "/incidents", "/incidents", {}, None, 200),
    (
        "GET",
        "/incidents",
        "/incidents?statuses[]=triggered&statuses[]=acknowledged&service_ids[]={service}"
        "&urgencies[]=high&include[]=assignees&sort_by=created_at:desc&total=true",
        {},
        None,
        200,
    ),
    ("GET", "/incidents", "/incidents?date_range=all&limit=3&offset=3", {}, None, 200),
    ("GET", "/incidents", "/incidents?since={since}&until={until}", {}, None, 200),
    ("GET", "/incidents", "/incidents?statuses[]=bogus", {}, None, 400),
    ("GET", "/incidents", "/incidents?limit=many", {}, None, 400),
    ("GET", "/incidents", "/incidents?since=yesterday", {}, None, 400),
    ("GET", "/incidents", "/incidents?sort_by=title:asc", {}, None, 400),
    ("GET", "/incidents/{id}", "/incidents/{incident}", {}, None, 200),
    ("GET", "/incidents/{id}", "/incidents/{past}", {}, None, 200),
    ("GET", "/incidents/{id}", "/incidents/QNOSUCHINCIDEN", {}, None, 404),
    ("GET", "/incidents/{id}/log_entries", "/incidents/{incident}/log_entries", {}, None, 200),
    (
        "GET",
        "/incidents/{id}/log_entries",
        "/incidents/{past}/log_entries?is_overview=true&total=true",
        {},
        None,
        200,
    ),
    ("GET", "/incidents/{id}/log_entries", "/incidents/QNOPE/log_entries", {}, None, 404),
    ("GET", "/log_entries/{id}", "/log_entries/{log_entry}", {}, None, 200),
    ("GET", "/incidents/{id}/notes", "/incidents/{past}/notes", {}, None, 200),
    ("GET", "/incidents/{id}/notes", "/incidents/QNOPE/notes", {}, None, 404),
    ("GET", "/incidents/{id}/alerts", "/incidents/{incident}/alerts", {}, None, 200),
    ("GET", "/incidents/{id}/alerts", "/incidents/{past}/alerts", {}, None, 200),
    ("GET", "/incidents/{id}/alerts", "/incidents/QNOPE/alerts", {}, None, 404),
    ("GET", "/oncalls", "/oncalls", {}, None, 200),
    ("GET", "/oncalls", "/oncalls?escalation_policy_ids[]={policy}", {}, None, 200),
    (
        "GET",
        "/oncalls",
        "/oncalls?since={until}&until={later}&schedule_ids[]={schedule}",
        {},
        None,
        200,
    ),
    (
        "GET",
        "/oncalls",
        "/oncalls?since={until}&until={later}&earliest=true&user_ids[]={user}",
        {},
        None,
        200,
    ),
    ("GET", "/oncalls", "/oncalls?since={later}&until={until}", {}, None, 400),
    ("GET", "/schedules", "/schedules", {}, None, 200),
    ("GET", "/schedules/{id}", "/schedules/{schedule}", {}, None, 200),
    ("GET", "/schedules/{id}", "/schedules/{schedule}?since={since}&until={later}", {}, None, 200),
    ("GET", "/schedules/{id}", "/schedules/PNOPE", {}, None, 404),
    ("GET", "/services", "/services", {}, None, 200),
    ("GET", "/services", "/services?limit=3&total=true", {}, None, 200),
    ("GET", "/services/{id}", "/services/{service}", {}, None, 200),
    ("GET", "/services/{id}", "/services/PNOPE", {}, None, 404),
    ("GET", "/users", "/users", {}, None, 200),
    ("GET", "/users/{id}", "/users/{user}", {}, None, 200),
    ("GET", "/users/{id}", "/users/PNOPE", {}, None, 404),
    ("GET", "/teams", "/teams", {}, None, 200),
    ("GET", "/teams/{id}", "/teams/{team}", {}, None, 200),
    ("GET", "/escalation_policies", "/escalation_policies", {}, None, 200),
    ("GET", "/escalation_policies/{id}", "/escalation_policies/{policy}", {}, None, 200),
    ("GET", "/escalation_policies/{id}", "/escalation_policies/PNOPE", {}, None, 404),
    ("GET", "/change_events", "/change_events", {}, None, 200),
    (
        "GET",
        "/change_events",
        "/change_events?since={since}&until={until}&total=true",
        {},
        None,
        200,
    ),
    ("GET", "/change_events", "/change_events?since=2026-01-01T00:00:00%2B02:00", {}, None, 400),
    ("GET", "/change_events/{id}", "/change_events/{change}", {}, None, 200),
    ("GET", "/change_events/{id}", "/change_events/01NOPE", {}, None, 404),
    ("GET", "/services/{id}/change_events", "/services/{service}/change_events", {}, None, 200),
    ("GET", "/services/{id}/change_events", "/services/PNOPE/change_events", {}, None, 404),
    # Writes come last: they change the open incident.
    ("PUT", "/incidents/{id}", "/incidents/{incident}", {}, ACK, 400),
    ("PUT", "/incidents/{id}", "/incidents/{incident}", {"From": "x@example.com"}, ACK, 400),
    ("PUT", "/incidents/{id}", "/incidents/QNOPE", FROM, ACK, 404),
    ("PUT", "/incidents/{id}", "/incidents/{incident}", FROM, ACK, 200),
    (
        "POST",
        "/incidents/{id}/notes",
        "/incidents/{incident}/notes",
        {},
        {"note": {"content": "Looking"}},
        400,
    ),
    (
        "POST",
        "/incidents/{id}/notes",
        "/incidents/{incident}/notes",
        FROM,
        {"note": {"content": ""}},
        400,
    ),
    (
        "POST",
        "/incidents/{id}/notes",
        "/incidents/{incident}/notes",
        FROM,
        {"note": {"content": "Rolling back to v2.14.2"}},
        200,
    ),
    (
        "PUT",
        "/incidents",
        "/incidents",
        FROM,
        {"incidents": [{"id": "{incident}", "type": "incident_reference", "status": "resolved"}]},
        200,
    ),
    ("PUT", "/incidents/{id}", "/incidents/{incident}", FROM, ACK, 400),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _check_error_body(body: Any) -> None:
    # The generic error schema requires nothing; hold errors to PagerDuty's actual shape.
    assert isinstance(body["error"]["message"], str)
    assert isinstance(body["error"]["code"], int)
    assert all(isinstance(e, str) for e in body["error"].get("errors", []))


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[2]} -> {c[5]}" for c in CASES])
def test_response_matches_spec(
    contract: Contract, sim: Simulator, ids: dict[str, str], case: Case
) -> None:
    method, template, path, headers, body, status = case
    got, _, payload = sim.request(method, _fill(path, ids), headers=headers, body=_fill(body, ids))
    assert got == status, payload
    contract.validate(method, template, got, payload)
    if status >= 400:
        _check_error_body(payload)


def test_unauthorized_matches_spec(contract: Contract, sim: Simulator) -> None:
    status, _, payload = sim.request("GET", "/incidents", token="wrong")
    assert status == 401
    assert contract.schema_pointer("GET", "/incidents", 401)[1]
    contract.validate("GET", "/incidents", 401, payload)
    _check_error_body(payload)
    status, _, payload = sim.request("GET", "/oncalls", headers={"Authorization": ""})
    assert status == 401


def test_rate_limited_matches_spec(contract: Contract, tmp_path: Path) -> None:
    simulator = start_simulator(tmp_path / "pd", paris_anchor(), rate_limit_per_minute=1)
    try:
        assert simulator.request("GET", "/incidents")[0] == 200
        status, headers, payload = simulator.request("GET", "/incidents")
    finally:
        simulator.stop()
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    assert contract.schema_pointer("GET", "/incidents", 429)[1]
    contract.validate("GET", "/incidents", 429, payload)
    _check_error_body(payload)


@pytest.mark.parametrize(
    ("template", "body"),
    [
        ("/incidents/{id}", {"incident": {"id": "Q1", "status": "snoozed"}}),
        ("/incidents/{id}", {"incident": {"id": "Q1", "created_at": "yesterday"}}),
        ("/services/{id}", {"service": {"id": "P1", "type": "service"}}),
        ("/oncalls", {"oncalls": [{"escalation_level": "one"}]}),
        ("/incidents/{id}/log_entries", {"log_entries": [{"type": "bogus_log_entry"}]}),
    ],
)
def test_validator_rejects_wrong_bodies(contract: Contract, template: str, body: Any) -> None:
    """Guards against a validator that silently accepts everything."""
    with pytest.raises(pytest.fail.Exception):
        contract.validate("GET", template, 200, body)


def test_spec_fixes_still_needed() -> None:
    """Each patch must still apply to the spec (paths exist), so a fixed spec is noticed."""
    raw = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    patched = copy.deepcopy(raw)
    for _reason, fix in SPEC_FIXES:
        fix(patched)
    assert patched != raw
    assert raw["components"]["schemas"]["AcknowledgeLogEntry"]["allOf"][1]["properties"]["type"][
        "enum"
    ] == ["acknowledgement_log_entry"]
    assert "oneOf" in raw["components"]["schemas"]["Channel"]
