"""Input that no page should see: refused early with a 400, never a database error."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "url",
    [
        "/roadmap/actions/A01.S01%00",
        "/roadmap/areas/workforce%00",
        "/roadmap/actions?lead=lo%00cal",
        "/roadmap/actions?area=A99&area=%00",
        "/?a%00=1",
    ],
)
def test_nul_bytes_get_a_400_not_a_database_error(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
