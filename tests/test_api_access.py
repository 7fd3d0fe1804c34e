"""The access matrix over the API with personal access tokens: each person's token, scoped to
the widest place they hold a role (their council, their region, the nation), reads exactly what
their browser session reads; and a token narrower than its person reads less."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.access_matrix import RELATIONS, ROLES, STATES, api_rows, council
from tests.matrix_world import REGION_SLUGS
from tracker.accounts import tokens
from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.models import User

#: the scope each matrix person's token is given: everything they could read
SCOPES = {
    "council_editor": "council:E08000035",
    "council_approver": "council:E08000035",
    "council_viewer": "council:E08000035",
    "panel_member": "council:E08000035",
    "regional_member": f"region:{REGION_SLUGS['own']}",
    "national_admin": tokens.NATIONAL,
}


def make_token(app, email: str, scope: str) -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _, secret = tokens.create(load_principal(user), name="Matrix", scope=scope)
        db.session.commit()
    return secret


@pytest.mark.parametrize("state", STATES)
def test_every_api_cell_answers_the_same_with_a_token(
    matrix_worlds, tmp_path, quick_reports, state
):
    rows = [row for row in api_rows() if state in row.states]
    with matrix_worlds.app(state, tmp_path) as (app, world, people):
        app.config["API_RATE_LIMIT"] = 100_000
        client = app.test_client()
        mismatches, checked = [], 0
        for role in ROLES:
            if role == "anonymous":
                continue
            secret = make_token(app, people[role].email, SCOPES[role])
            headers = {"Authorization": f"Bearer {secret}"}
            for row in rows:
                for relation in RELATIONS:
                    url = world.url(row, relation)
                    expected = row.expected(role, relation, state)
                    actual = client.get(url, headers=headers).status_code
                    checked += 1
                    if actual != expected:
                        mismatches.append(
                            f"{role} {row.endpoint} {relation}: {expected} ≠ {actual}"
                        )
    assert checked > 100
    assert not mismatches, f"{state}: {len(mismatches)} of {checked} differ:\n  " + "\n  ".join(
        mismatches
    )


def test_a_token_reads_only_its_own_council_and_nothing_once_revoked(
    matrix_worlds, tmp_path, quick_reports
):
    """A national administrator's token for one region reads that region's comparison and no
    other, and not the national view; revoked, it is a 401."""
    with matrix_worlds.app("submitted", tmp_path) as (app, _world, people):
        admin = people["national_admin"]
        secret = make_token(app, admin.email, f"region:{REGION_SLUGS['own']}")
        headers = {"Authorization": f"Bearer {secret}"}
        client = app.test_client()
        own = client.get(f"/api/v1/regions/{REGION_SLUGS['own']}/comparison", headers=headers)
        other = client.get(
            f"/api/v1/regions/{REGION_SLUGS['other_region']}/comparison", headers=headers
        )
        national = client.get("/api/v1/national", headers=headers)
        assert (own.status_code, other.status_code, national.status_code) == (200, 404, 404)
        with app.app_context():
            gss = council("other_region").gss_code
        assert client.get(f"/api/v1/councils/{gss}/returns", headers=headers).status_code == 404
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == admin.email))
            for token in tokens.list_for(user):
                tokens.revoke(token.token, user)
            db.session.commit()
        refused = client.get(f"/api/v1/regions/{REGION_SLUGS['own']}/comparison", headers=headers)
        assert refused.status_code == 401
        assert refused.mimetype == "application/problem+json"
