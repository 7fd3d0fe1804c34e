"""schemathesis against the API's own OpenAPI document, as an anonymous caller and with a token
of each scope: no answer is a 5xx, and every answer (status, headers, body) conforms to the
document. Generated requests mostly miss (random codes are 404s), so every operation is also
called with the matrix world's real council, region, quarter and action."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.access_matrix import COUNCIL_CODES
from tests.matrix_world import MATRIX_PERIOD, REGION_SLUGS
from tests.test_api_access import SCOPES, make_token

#: callers: anonymous, and a token of each scope a person can hold
CALLERS = ("anonymous", "council_editor", "panel_member", "regional_member", "national_admin")
EXAMPLES = 6


def _real_values(world) -> dict[str, str]:
    return {
        "gss_code": COUNCIL_CODES["own"],
        "region_slug": REGION_SLUGS["own"],
        "period_label": MATRIX_PERIOD.replace(" ", "-"),
        "action_code": str(world.per_relation["own"]["action_code"]),
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_every_answer_conforms_to_the_document(matrix_worlds, tmp_path, quick_reports, caller):
    with matrix_worlds.app("signed_off", tmp_path) as (app, world, people):
        app.config["API_RATE_LIMIT"] = 1_000_000
        headers = {}
        if caller != "anonymous":
            secret = make_token(app, people[caller].email, SCOPES[caller])
            headers = {"Authorization": f"Bearer {secret}"}
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        values = _real_values(world)
        statuses: dict[str, set[int]] = {}
        for result in schema.get_all_operations():
            operation = result.ok()
            needed = {p.name for p in operation.path_parameters}
            real = operation.Case(path_parameters={k: values[k] for k in needed})
            response = real.call_and_validate(headers=headers)
            statuses.setdefault(operation.label, set()).add(response.status_code)

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def generated(case):
                case.call_and_validate(headers=headers)

            generated()
        assert statuses["GET /api/v1/actions"] == {200}
        if caller == "council_editor":
            assert statuses["GET /api/v1/councils/{gss_code}/returns/{period_label}"] == {200}
            assert statuses["GET /api/v1/councils/{gss_code}/dashboard"] == {200}
        if caller == "anonymous":
            assert statuses["GET /api/v1/councils/{gss_code}/returns"] == {401}
