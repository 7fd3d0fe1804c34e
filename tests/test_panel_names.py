"""Who sees a panel member's real name: their own council's approver, and the member themself.

Everyone else — national administrators, regional members, the council's editors and viewers,
other panel members — sees the name the member chose (a pseudonym by default), or "A panel
member". National administrators still see it on the account pages they administer accounts
with (``docs/roles.md``). The rule is ``tracker.domain.visibility.may_see_panel_member_names``.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.access_matrix import council, make_member, signed_in_client
from tests.returns_data import LEEDS, SLUG, WAKEFIELD, assess_all, get_return, open_period, submit
from tests.test_reports_pdf import pdf_text
from tracker.domain.principal import load_principal
from tracker.extensions import db
from tracker.models import Comment, Membership, Role, User
from tracker.panels import services

#: the member's real name, which they did not choose to show
CANARY = "Canary Realname"
#: the name they chose for their comments
PSEUDONYM = "Robin"


@pytest.fixture
def world(app):
    """Leeds's return submitted; a member (real name CANARY, shown as PSEUDONYM) commented on an
    action and an editor answered it, marking it "you said, we did"."""
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER, display_name=CANARY)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        return_ = get_return(LEEDS)
        action = return_.assessments[0].action
        user = db.session.get(User, member.id)
        services.update_profile(
            user,
            council(LEEDS),
            display_name=PSEUDONYM,
            is_real_name_shown=False,
            is_notified_by_email=False,
        )
        answered = services.add_comment(return_, action, "Please explain", actor=user)
        services.answer_comment(
            answered,
            "Done",
            actor=db.session.get(User, editor.id),
            is_you_said_we_did=True,
            change_made="Published the plan",
        )
        services.add_comment(return_, action, "And the next step?", actor=user)
        db.session.commit()
        code = action.code
    return app, code, member


def _paths(code: str) -> dict[str, str]:
    return {
        "thread": f"/councils/{LEEDS}/panel/{SLUG}/actions/{code}",
        "awaiting": f"/councils/{LEEDS}/panel/awaiting",
        "panel": f"/councils/{LEEDS}/panel/",
        "team": f"/councils/{LEEDS}/team/",
        "report": f"/councils/{LEEDS}/reports/{SLUG}",
        # what members did as members (their account's own events name them: administering
        # the account is what the trail is for)
        "audit": "/admin/audit?action=comment.create",
    }


def _xlsx_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


@pytest.mark.parametrize(
    "role",
    [Role.NATIONAL_ADMIN, Role.REGIONAL_MEMBER, Role.COUNCIL_EDITOR, Role.COUNCIL_VIEWER],
)
def test_nobody_but_the_approver_and_the_member_sees_the_real_name(world, role):
    app, code, _member = world
    client = signed_in_client(app, make_member(app, role))
    reached = 0
    for where, path in _paths(code).items():
        response = client.get(path)
        if response.status_code == 404:
            continue
        assert response.status_code == 200, (where, response.status_code)
        reached += 1
        assert CANARY not in response.get_data(as_text=True), where
    xlsx = client.get(f"/councils/{LEEDS}/reports/{SLUG}/board-report.xlsx")
    assert xlsx.status_code == 200
    assert CANARY not in _xlsx_text(xlsx.data)
    assert PSEUDONYM in _xlsx_text(xlsx.data)
    assert reached >= 1


def test_a_national_administrator_sees_the_pseudonym_on_the_team_and_audit_pages(world, page):
    app, _code, member = world
    client = signed_in_client(app, make_member(app, Role.NATIONAL_ADMIN))

    team = page(client.get(f"/councils/{LEEDS}/team/"))
    names = [" ".join(th.get_text(" ", strip=True).split()) for th in team.select("tbody th")]
    assert PSEUDONYM in names and CANARY not in names
    with app.app_context():
        membership_id = db.session.scalar(
            select(Membership.id).where(Membership.user_id == member.id)
        )
    remove = client.get(f"/councils/{LEEDS}/team/memberships/{membership_id}/remove")
    assert CANARY not in remove.get_data(as_text=True)
    assert PSEUDONYM in page(remove).h1.get_text()

    audit = client.get("/admin/audit?action=comment.create")
    assert CANARY not in audit.get_data(as_text=True)
    assert "A panel member" in audit.get_data(as_text=True)
    # Searching the trail by the real name does not find what the member wrote.
    found = client.get(f"/admin/audit?actor={CANARY.split()[0]}")
    assert "comment.create" not in page(found).select_one("main table tbody").get_text()

    # They administer the account itself, by its real name, on the account pages.
    assert CANARY in client.get(f"/admin/users/{member.id}").get_data(as_text=True)


def test_the_approver_sees_the_real_name_beside_the_members_comments(world, page):
    app, code, _member = world
    client = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER))
    paths = _paths(code)
    for where in ("thread", "awaiting", "team"):
        assert CANARY in client.get(paths[where]).get_data(as_text=True), where
    # The board report is the council's paper for its board, shared with the region and the
    # nation: it never names a member who did not choose it, whoever downloads it.
    assert CANARY not in client.get(paths["report"]).get_data(as_text=True)
    pdf = client.get(f"/councils/{LEEDS}/reports/{SLUG}/board-report.pdf")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.data).split())
    assert CANARY not in text and f"({PSEUDONYM})" in text


def test_the_member_sees_their_own_real_name_and_no_one_elses(world, page):
    app, code, member = world
    client = signed_in_client(app, member)
    other = make_member(app, Role.PANEL_MEMBER, display_name="Other Realname")
    with app.app_context():
        return_ = get_return(LEEDS)
        action = return_.assessments[0].action
        services.add_comment(return_, action, "Me too", actor=db.session.get(User, other.id))
        db.session.commit()

    thread = client.get(_paths(code)["thread"]).get_data(as_text=True)
    assert "Other Realname" not in thread
    assert f"{PSEUDONYM}</bdi> (you)" in thread
    download = client.get(f"/councils/{LEEDS}/panel/my-comments").get_data(as_text=True)
    assert CANARY in download


@pytest.mark.parametrize(
    ("role", "where", "themself", "expected"),
    [
        (Role.COUNCIL_APPROVER, LEEDS, False, True),
        (Role.COUNCIL_APPROVER, WAKEFIELD, False, False),
        (Role.NATIONAL_ADMIN, None, False, False),
        (Role.REGIONAL_MEMBER, "region", False, False),
        (Role.COUNCIL_EDITOR, LEEDS, False, False),
        (Role.COUNCIL_VIEWER, LEEDS, False, False),
        (Role.PANEL_MEMBER, LEEDS, False, False),
        (Role.PANEL_MEMBER, LEEDS, True, True),
    ],
)
def test_the_rule_in_one_function(app, role, where, themself, expected):
    from tests.factories import make_user
    from tracker.domain import visibility

    with app.app_context():
        leeds = council(LEEDS)
        scope = {LEEDS: leeds, WAKEFIELD: council(WAKEFIELD), "region": leeds.region}.get(where)
        person = make_user(memberships=[(role, scope)])
        member_id = person.id if themself else person.id + 1000
        principal = load_principal(db.session.get(User, person.id))
        assert (
            visibility.may_see_panel_member_names(principal, leeds, member_id=member_id) is expected
        )
        assert visibility.may_see_panel_member_names(None, leeds) is False


def test_a_member_who_opts_in_is_named_in_the_board_report(world):
    """Their own choice ("Show my real name in regional pages and reports"), not a reader's
    right: it reaches only the board report's "you said, we did"."""
    app, code, member = world
    with app.app_context():
        services.update_profile(
            db.session.get(User, member.id),
            council(LEEDS),
            display_name=PSEUDONYM,
            is_real_name_shown=True,
            is_notified_by_email=False,
        )
        db.session.commit()
        assert db.session.scalar(select(Comment.id)) is not None
    client = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    assert CANARY in client.get(_paths(code)["report"]).get_data(as_text=True)
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    assert CANARY not in editor.get(_paths(code)["thread"]).get_data(as_text=True)
