"""Build a benchmark dataset into the database of the environment, then count SQL queries.

    DATABASE_URL=… TRACKER_INSTANCE_PATH=… SECRET_KEY=… python -m bench.build --councils 10

Makes the schema (from the models), loads the roadmap and councils, seeds the demo accounts and
``seed_dataset("national")`` for the first ``--councils`` councils (all when 0; ``--lead GSS``
first), then requests each target page once in-process with a query counter on the engine.
Prints one JSON line:
``{"build_seconds": …, "report": […], "queries": {target name: count}}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.targets import GSS, REGION, TARGETS

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
EMAILS = {
    "editor": "editor.leeds@demo.invalid",
    "approver": "approver.leeds@demo.invalid",
    "admin": "admin@demo.invalid",
}


def build(councils: int | None, scale: str, lead: str | None = None) -> dict[str, Any]:
    from tracker import create_app
    from tracker.admin.demo import seed_demo
    from tracker.config import PROJECT_ROOT
    from tracker.councils.services import load_councils
    from tracker.demo_data import seed_dataset
    from tracker.extensions import db
    from tracker.roadmap_loader import load_roadmap

    app = create_app()
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        load_roadmap(PROJECT_ROOT / "roadmap" / "time-to-act-2023")
        load_councils(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
        seed_demo()
        report = seed_dataset(scale, council_limit=councils, lead_council=lead)
        db.session.commit()
    return {"build_seconds": round(time.perf_counter() - started, 1), "report": report.lines()}


def sign_in(client, role: str) -> None:
    """Sign in through the pages (the test client), with the demo's published secrets."""
    from tracker.admin.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

    page = client.get("/auth/sign-in").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(
        "/auth/sign-in",
        data={"csrf_token": token, "email": EMAILS[role], "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302, f"sign-in as {role}: {response.status_code}"
    location = response.headers["Location"]
    if "two-factor" in location:
        page = client.get(location).get_data(as_text=True)
        token = CSRF.search(page).group(1)
        code = pyotp.TOTP(DEMO_TOTP_SECRET).now()
        response = client.post(location, data={"csrf_token": token, "code": code})
        assert response.status_code == 302, f"second factor as {role}: {response.status_code}"


def fill(path: str, values: dict[str, str]) -> str:
    return path.format(**values)


def path_values() -> dict[str, str]:
    """{gss}, {period}, {past}, {region}, {code}, {period_id} for this database."""
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Action, Period

    periods = db.session.scalars(select(Period).order_by(Period.year, Period.quarter)).all()
    code = db.session.scalar(
        select(Action.code)
        .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
        .order_by(Action.code)
    )
    return {
        "gss": GSS,
        "region": REGION,
        "period": periods[-1].label.replace(" ", "-"),
        "past": periods[-2].label.replace(" ", "-"),
        "closed": [p.label.replace(" ", "-") for p in periods[:-1]],
        "period_id": str(periods[-1].id),
        "code": code or "",
    }


def count_queries(skip: list[str]) -> dict[str, int | None]:
    """SQL statements each target page runs for one request, signed in as its role."""
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"REPORT_RATE_LIMIT": 10**6, "EXPORT_RATE_LIMIT": 10**6})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    with app.app_context():
        values = path_values()
        db.session.remove()
    counter = {"n": 0}

    def count(*_args: Any) -> None:
        counter["n"] += 1

    event.listen(Engine, "before_cursor_execute", count)
    clients: dict[str, Any] = {}
    counts: dict[str, int | None] = {}
    try:
        for target in TARGETS:
            if not target.count_queries or target.endpoint not in endpoints or target.name in skip:
                continue
            client = clients.get(target.role)
            if client is None:
                client = clients[target.role] = app.test_client()
                sign_in(client, target.role)
            path = fill(target.path, values)
            client.get(path)  # once first: caches and the session, as a warm worker has them
            if target.kind == "save":
                page = client.get(path).get_data(as_text=True)
                body = {
                    "csrf_token": CSRF.search(page).group(1),
                    "version": VERSION.search(page).group(1),
                    "stage": "planning",
                    "rag": "amber",
                    "narrative": "Counting queries.",
                    "is_co_produced": "no",
                }
                counter["n"] = 0
                response = client.post(path, data=body)
            else:
                counter["n"] = 0
                response = client.get(path)
            ok = response.status_code in ((302, 303) if target.kind == "save" else (200,))
            counts[target.name] = counter["n"] if ok else None
            if not ok:
                print(f"{target.name}: {response.status_code} for {path}", file=sys.stderr)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=0, help="0: every council")
    parser.add_argument("--scale", default="national")
    parser.add_argument("--no-count", action="store_true")
    parser.add_argument("--skip", action="append", default=[], help="a target not to count")
    parser.add_argument("--lead", help="the GSS code of the council to take first")
    arguments = parser.parse_args()
    result = build(arguments.councils or None, arguments.scale, arguments.lead)
    if not arguments.no_count:
        result["queries"] = count_queries(arguments.skip)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
