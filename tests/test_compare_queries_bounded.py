"""The dashboards make a fixed number of SQL queries, whatever the number of councils.

Every active council gets a return for the period (153 councils, 140 actions each); the test then
submits the returns of 1, 3, 10 and then every council and counts the statements each service and
page runs. The counts must not grow with the number of councils.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, update

from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import LABEL, open_period
from tracker.compare import charts, services
from tracker.extensions import db
from tracker.models import Assessment, Council, Period, Region, Return, Role

SLUG = LABEL.replace(" ", "-")
LEEDS = "E08000035"
#: councils with submitted returns; None is every council. At 1 every aggregate is withheld (fewer
#: than three councils); from 3 (the first three share a region) every one is shown. The pages
#: make the same queries either way.
SIZES = (1, 3, 10, None)


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _submit_first(app, size: int | None) -> int:
    """Give the first ``size`` councils (Leeds's region first) submitted returns; the rest stay
    drafts."""
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.label == LABEL))
        leeds_region = select(Council.region_id).where(Council.gss_code == LEEDS).scalar_subquery()
        order = (Council.region_id != leeds_region, Council.gss_code != LEEDS, Council.gss_code)
        ids = list(db.session.scalars(select(Council.id).order_by(*order)))
        chosen = ids if size is None else ids[:size]
        db.session.execute(
            update(Return)
            .where(Return.period_id == period.id)
            .values(status="draft", version_id=Return.version_id + 1)
        )
        db.session.execute(
            update(Return)
            .where(Return.period_id == period.id, Return.council_id.in_(chosen))
            .values(status="submitted", version_id=Return.version_id + 1)
        )
        db.session.commit()
        return len(chosen)


def test_services_and_pages_make_the_same_number_of_queries_at_any_scale(app):
    open_period(app, only=None)
    with app.app_context():
        db.session.execute(
            update(Assessment).values(
                stage="implementing", rag="amber", version_id=Assessment.version_id + 1
            )
        )
        db.session.commit()
    admin = make_member(app, Role.NATIONAL_ADMIN)
    client = signed_in_client(app, admin)
    counts: dict[str, list[int]] = {}
    timings: dict[str, list[float]] = {}
    for size in SIZES:
        submitted = _submit_first(app, size)
        with app.app_context():
            period = db.session.scalar(select(Period).where(Period.label == LABEL))
            leeds = db.session.scalar(select(Council).where(Council.gss_code == LEEDS))
            region = db.session.get(Region, leeds.region_id)
            calls = {
                "council_dashboard": lambda c=leeds, p=period: charts.council_charts(
                    services.council_dashboard(c, p)
                ),
                "region_comparison": lambda r=region, p=period: services.region_comparison(
                    r, p, viewer=None
                ),
                "national_view": lambda p=period: services.national_view(p),
            }
            for name, call in calls.items():
                with counting() as statements:
                    start = time.perf_counter()
                    call()
                    timings.setdefault(name, []).append(time.perf_counter() - start)
                counts.setdefault(name, []).append(len(statements))
        for name, path in {
            "page /councils/…/dashboard": f"/councils/{LEEDS}/dashboard",
            "page /regions/…/compare": f"/regions/{region.slug}/compare",
            "page /national": "/national",
        }.items():
            with app.app_context(), counting() as statements:
                start = time.perf_counter()
                response = client.get(path)
                timings.setdefault(name, []).append(time.perf_counter() - start)
            assert response.status_code == 200, path
            counts.setdefault(name, []).append(len(statements))
        print(f"{submitted} councils submitted")
    for name, values in counts.items():
        print(f"{name}: queries {values}, seconds {[round(t, 3) for t in timings[name]]}")
    grew = {name: values for name, values in counts.items() if len(set(values)) != 1}
    assert not grew, f"query counts grew with the number of councils: {grew}"
    # eight for the figures, one for the panel's answer times (median and overdue)
    assert counts["council_dashboard"][0] <= 9
    assert counts["region_comparison"][0] <= 6
    # four for the figures, the barriers and the prevention tiers, the cache's fingerprint
    assert counts["national_view"][0] <= 6
