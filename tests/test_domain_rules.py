"""The domain layer: one decision for what may happen to a return, shown by pages and enforced by
services alike; and each rule's single home (a second copy of a rule fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import (
    LEEDS,
    SLUG,
    assess_all,
    close_period,
    get_return,
    open_period,
    sign_off,
    submit,
)
from tracker.domain import visibility, workflow
from tracker.domain.principal import load_principal
from tracker.domain.workflow import Step
from tracker.extensions import db
from tracker.models import Council, Role, User
from tracker.returns import services
from tracker.returns.services import ReturnError

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
OVERVIEW = f"/councils/{LEEDS}/returns/{SLUG}"
#: the buttons and links of the overview's workflow block, by the step they take
STEP_LINKS = {
    Step.SIGN_OFF: f"{OVERVIEW}/sign-off",
    Step.SEND_BACK: f"{OVERVIEW}/send-back",
    Step.REOPEN: f"{OVERVIEW}/reopen",
}


def _state(app, status: str, *, period_open: bool) -> None:
    open_period(app)
    if status in ("submitted", "signed_off"):
        assess_all(app, LEEDS)
        submit(app, LEEDS)
    if status == "signed_off":
        sign_off(app, LEEDS)
    if not period_open:
        close_period(app)


def _offered(soup: BeautifulSoup) -> set[Step]:
    hrefs = {a["href"] for a in soup.select("main a[href]")}
    return {step for step, href in STEP_LINKS.items() if href in hrefs}


@pytest.mark.parametrize("period_open", [True, False], ids=["open", "closed"])
@pytest.mark.parametrize("status", ["draft", "submitted", "signed_off"])
@pytest.mark.parametrize("role", [Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER])
def test_the_overview_offers_exactly_the_steps_the_service_allows(app, status, period_open, role):
    _state(app, status, period_open=period_open)
    person = make_member(app, role)
    client = signed_in_client(app, person)
    soup = BeautifulSoup(client.get(OVERVIEW).get_data(as_text=True), "html.parser")
    with app.app_context():
        user = db.session.get(User, person.id)
        return_ = get_return(LEEDS)
        allowed = workflow.allowed_steps(load_principal(user), return_)
        for step in Step:
            reason = workflow.refusal(load_principal(user), return_, step)
            assert (reason is None) == (step in allowed)
    assert _offered(soup) == allowed & set(STEP_LINKS)
    # A submitted return in a closed period was offered "Send back", which the service refused.
    if status == "submitted" and not period_open:
        assert Step.SEND_BACK not in _offered(soup)


def test_a_submitted_return_in_a_closed_period_cannot_be_sent_back(app):
    _state(app, "submitted", period_open=False)
    approver = make_member(app, Role.COUNCIL_APPROVER)
    with app.app_context():
        return_ = get_return(LEEDS)
        with pytest.raises(ReturnError, match="closed: its returns cannot be sent back"):
            services.send_back_return(return_, "Fix A01", actor=db.session.get(User, approver.id))
        assert get_return(LEEDS).status == "submitted"


@pytest.mark.parametrize(
    "role", [Role.COUNCIL_VIEWER, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN, Role.PANEL_MEMBER]
)
def test_services_refuse_every_step_to_someone_who_does_not_take_it(app, role):
    _state(app, "draft", period_open=True)
    person = make_member(app, role)
    with app.app_context():
        user = db.session.get(User, person.id)
        return_ = get_return(LEEDS)
        assert workflow.allowed_steps(load_principal(user), return_) == frozenset()
        with pytest.raises(ReturnError, match="Only the council's editors"):
            services.submit_return(return_, actor=user)
        assert get_return(LEEDS).status == "draft"


def test_the_submitter_is_refused_sign_off_by_the_same_rule_everywhere(app):
    _state(app, "draft", period_open=True)
    assess_all(app, LEEDS)
    both = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        from tests.access_matrix import council
        from tracker.admin.services import add_membership

        user = db.session.get(User, both.id)
        add_membership(user, Role.COUNCIL_APPROVER, council=council(LEEDS), actor=None)
        db.session.commit()
    submit(app, LEEDS, editor_id=both.id)
    with app.app_context():
        user = db.session.get(User, both.id)
        return_ = get_return(LEEDS)
        reason = workflow.refusal(load_principal(user), return_, Step.SIGN_OFF)
        assert reason == workflow.SUBMITTER_CANNOT_SIGN_OFF
        with pytest.raises(ReturnError, match="another approver must sign it off"):
            services.sign_off_return(return_, actor=user)


def test_a_council_that_keeps_its_named_returns_is_named_only_to_its_own_people(app):
    open_period(app)
    regional = make_member(app, Role.REGIONAL_MEMBER)
    viewer = make_member(app, Role.COUNCIL_VIEWER)
    panel = make_member(app, Role.PANEL_MEMBER)
    with app.app_context():
        leeds = db.session.scalar(db.select(Council).where(Council.gss_code == LEEDS))
        leeds.shares_named_returns = False
        db.session.flush()
        principals = {
            name: load_principal(db.session.get(User, person.id))
            for name, person in (("regional", regional), ("viewer", viewer), ("panel", panel))
        }
        assert not visibility.may_name(principals["regional"], leeds)
        assert visibility.may_name(principals["viewer"], leeds)
        assert visibility.may_name(principals["panel"], leeds)
        assert not visibility.may_name(None, leeds)
        draft = get_return(LEEDS)
        assert visibility.may_read_return(principals["viewer"], leeds, draft)
        assert not visibility.may_read_return(principals["panel"], leeds, draft)
        assert not visibility.may_read_return(principals["regional"], leeds, draft)


def test_the_three_council_rule():
    assert visibility.aggregate_refusal(2, 0)
    assert visibility.aggregate_refusal(3, 0) is None
    assert visibility.aggregate_refusal(5, 1)
    assert visibility.aggregate_refusal(5, 2)
    assert visibility.aggregate_refusal(6, 3) is None


# -- one home for each rule: a second copy fails here ----------------------------------------------

#: (what a copy looks like, the only files allowed to hold it)
ONE_HOME = [
    (r"^NOT_ASSESSED\s*=", {"domain/vocabulary.py"}),
    (r"^SHARED_STATUSES\s*=", {"domain/vocabulary.py"}),
    (r"^STAGE_LABELS\s*=", {"domain/vocabulary.py"}),
    (r"^STAGE_ORDER\s*=", {"domain/vocabulary.py"}),
    (r"^STAGE_NAMES\s*=", {"domain/vocabulary.py"}),
    (r"^RAG_NAMES\s*=", {"domain/vocabulary.py"}),
    (r"^MIN_COUNCILS\s*=", {"domain/visibility.py"}),
    (r"^def (period_slug|parse_period_slug|label_to_url|label_from_url)\(", {"domain/periods.py"}),
    (r"^def too_many_requests\(", {"http.py"}),
    (
        r"^def (may_read_return|reads_drafts|may_name|may_see_panel_member_names)\(",
        {"domain/visibility.py"},
    ),
    (r"^def (refusal|allowed_steps)\(", {"domain/workflow.py"}),
    # Whether a council shares its named returns is read by the rule (and by compare's grouped
    # queries, which count the unnamed councils in SQL), and set on the sharing page.
    (
        r"shares_named_returns",
        {
            "domain/visibility.py",
            "models/councils.py",
            "compare/services.py",
            "compare/views.py",
        },
    ),
    (r"_editable\(|_optional_url|getattr\([^)]*shares_named", set()),
]


@pytest.mark.parametrize(("pattern", "homes"), ONE_HOME, ids=[p for p, _ in ONE_HOME])
def test_each_rule_has_one_home(pattern, homes):
    found = set()
    for path in TRACKER.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(pattern, text, flags=re.MULTILINE):
            found.add(path.relative_to(TRACKER).as_posix())
    assert found <= homes, f"{pattern} is also in {sorted(found - homes)}"
