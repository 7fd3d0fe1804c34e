"""Who may use each route: the checked-in access matrix (SECURITY.md A).

One row per endpoint and HTTP method; one column per role; in each cell the status the request
must answer, the same for the three tenant relations or given for each with ``T(own,
same_region, other_region)``. ``tests/test_access_matrix.py`` makes every request of every
cell, and fails on any mismatch and on any route of ``app.url_map`` missing from this table.

The people (see ``tests/test_access_matrix.py``): each role is held by one person in council A
(Leeds); the regional member holds A's region (Yorkshire and the Humber); the national
administrator holds their role nationally. The tenant relation says which council the request
is about:

- ``own``: council A;
- ``same_region``: council B (Wakefield), in A's region;
- ``other_region``: council C (Cornwall), in another region.

A URL's ``gss_code`` is that council's; its ``user_id`` and ``membership_id`` belong to a person
who is a council editor there (a fresh one for every POST, so one cell's change cannot decide
another's). Tokens are unknown ones. POSTs carry a valid CSRF token and nothing else, so they
exercise the access check, not a successful change: a form then answers 200 or 422 with its
errors, while a confirmation (remove, disable, sign out) goes through and redirects.

Cell values: a status code; ``SIGN_IN``, a 302 to the sign-in page; a plain 302 or 303
redirects anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

ROLES = (
    "anonymous",
    "council_editor",
    "council_approver",
    "council_viewer",
    "panel_member",
    "regional_member",
    "national_admin",
)
RELATIONS = ("own", "same_region", "other_region")

#: a 302 to the sign-in page
SIGN_IN = "sign-in"


@dataclass(frozen=True)
class T:
    """A cell whose answer depends on the tenant relation."""

    own: int | str
    same_region: int | str
    other_region: int | str

    def for_relation(self, relation: str) -> int | str:
        return getattr(self, relation)


Cell = Union[int, str, T]  # noqa: UP007 (read as a type alias, not evaluated at runtime)


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    anonymous: Cell
    council_editor: Cell
    council_approver: Cell
    council_viewer: Cell
    panel_member: Cell
    regional_member: Cell
    national_admin: Cell

    def expected(self, role: str, relation: str) -> int | str:
        cell = getattr(self, role)
        return cell.for_relation(relation) if isinstance(cell, T) else cell


S = SIGN_IN
#: the council approver reaches their own council's team only
OWN = T(200, 404, 404)
OWN_302 = T(302, 404, 404)
#: the regional member reads councils A and B, not C
REGION = T(200, 200, 404)
REGION_302 = T(302, 302, 404)
REGION_303 = T(303, 303, 404)

# fmt: off
MATRIX: list[Row] = [
    #   endpoint                    method   anon  editor approver viewer panel regional admin
    # -- public pages
    Row("pages.index",              "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.accessibility",      "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.privacy",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.healthz",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.index",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.area",             "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.actions",          "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.action",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.key",              "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.outcomes",         "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.agenda",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.enablers",         "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("councils.index",           "GET",   200,  200,   200,     200,   200,  200,     200),
    # -- signing in and out (someone signed in is sent on from the sign-in steps)
    Row("auth.sign_in",             "GET",   200,  302,   302,     302,   302,  302,     302),
    Row("auth.sign_in",             "POST",  422,  302,   302,     302,   302,  302,     302),
    Row("auth.two_factor",          "GET",   S,    302,   302,     302,   302,  302,     302),
    Row("auth.two_factor",          "POST",  S,    302,   302,     302,   302,  302,     302),
    Row("auth.two_factor_set_up",   "GET",   S,    302,   302,     302,   302,  302,     302),
    Row("auth.two_factor_set_up",   "POST",  S,    302,   302,     302,   302,  302,     302),
    Row("auth.two_factor_qr",       "GET",   404,  404,   404,     404,   404,  404,     404),
    Row("auth.sign_out",            "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("auth.sign_out",            "POST",  303,  303,   303,     303,   303,  303,     303),
    Row("auth.signed_out",          "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("auth.keep_alive",          "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("auth.keep_alive",          "POST",  S,    204,   204,     204,   204,  204,     204),
    Row("auth.confirm_identity",    "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("auth.confirm_identity",    "POST",  S,    422,   422,     422,   422,  422,     422),
    Row("auth.forgot_password",     "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("auth.forgot_password",     "POST",  422,  422,   422,     422,   422,  422,     422),
    Row("auth.check_email",         "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("auth.reset_password",      "GET",   404,  404,   404,     404,   404,  404,     404),
    Row("auth.reset_password",      "POST",  404,  404,   404,     404,   404,  404,     404),
    Row("auth.invitation",          "GET",   404,  404,   404,     404,   404,  404,     404),
    Row("auth.invitation",          "POST",  404,  404,   404,     404,   404,  404,     404),
    Row("auth.team_invitation",     "GET",   404,  404,   404,     404,   404,  404,     404),
    Row("auth.team_invitation",     "POST",  404,  404,   404,     404,   404,  404,     404),
    # -- one's own account
    Row("account.index",            "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.change_password",  "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.change_password",  "POST",  S,    422,   422,     422,   422,  422,     422),
    # an invitation to a council's team is answered only by the person it was sent to: the
    # matrix's id is nobody's
    Row("account.invitation",       "GET",   S,    404,   404,     404,   404,  404,     404),
    Row("account.invitation",       "POST",  S,    404,   404,     404,   404,  404,     404),
    # -- a council's team: its approver, and national administrators
    Row("team.index",               "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.add_member",          "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.add_member",          "POST",  S,    404,   OWN,     404,   404,  404,     200),
    Row("team.remove_member",       "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.remove_member",       "POST",  S,    404,   OWN_302, 404,   404,  404,     302),
    # -- administration: national administrators only
    Row("admin.index",              "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.users",              "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_user",           "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_user",           "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.user",               "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.add_membership",     "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.add_membership",     "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.remove_membership",  "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.remove_membership",  "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.disable_user",       "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.disable_user",       "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.enable_user",        "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.enable_user",        "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.end_sessions",       "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.end_sessions",       "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.resend_invitation",  "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.resend_invitation",  "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.reset_authenticator", "GET",  405,  405,   405,     405,   405,  405,     405),
    Row("admin.reset_authenticator", "POST", S,    404,   404,     404,   404,  404,     302),
    Row("admin.audit",              "GET",   S,    404,   404,     404,   404,  404,     200),
    # -- spreadsheets: the return's readers download it (panel members, regional members and
    # national administrators once it is submitted: the matrix's return is a draft, and a
    # council's drafts are its own); its editors import into it
    Row("returns.export_xlsx",      "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.export_csv",       "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.import_upload",    "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.import_upload",    "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.import_preview",   "GET",   S,    OWN_302, 404,   404,   404,  404,     404),
    Row("returns.import_preview",   "POST",  405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_confirm",   "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_confirm",   "POST",  S,    OWN_302, 404,   404,   404,  404,     404),
    Row("returns.import_cancel",    "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_cancel",    "POST",  S,    OWN_302, 404,   404,   404,  404,     404),
    # -- periods and evidence. The world's evidence (one file per council, linked to the action's
    # assessment) is not shown to the panel, and stays in the council while its return is a draft
    # (the library always); POSTs with no fields answer with the form's errors
    Row("admin.periods",            "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_period",         "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_period",         "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.open_period",        "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.open_period",        "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("admin.close_period",       "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.close_period",       "POST",  S,    404,   404,     404,   404,  404,     302),
    Row("returns.evidence",         "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.add_evidence_link", "GET",  S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.add_evidence_link", "POST", S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.upload_evidence",  "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.upload_evidence",  "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.choose_evidence",  "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.choose_evidence",  "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.unlink_evidence",  "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.unlink_evidence",  "POST",  S,    T(303, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.evidence_library", "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.download_evidence", "GET",  S,    OWN,   OWN,     OWN,   404,  404,     404),
    # -- returns (pages, form, workflow). Readers read; panel members, regional members and
    # national administrators read submitted returns only, and the world's returns are drafts
    # (404). Editors change drafts (a POST with no
    # fields answers with the form's errors, and submitting an unassessed return is refused
    # with 422); the approver signs off (a draft is refused: 302 back), sends back and reopens
    Row("returns.index",            "GET",   S,    OWN,   OWN,     OWN,   OWN,  REGION,  200),
    Row("returns.current", "GET", S, OWN_302, OWN_302, OWN_302, OWN_302, REGION_302, 302),
    Row("returns.overview",         "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.action",           "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("returns.save_action",      "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.history",          "GET",   S,    OWN,   OWN,     OWN,   OWN,  REGION,  200),
    Row("returns.bulk_edit",        "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.bulk_edit",        "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    # confirming carried-forward answers unchanged: its editors; a request that chooses no
    # action (the matrix's) is sent back to the overview
    Row("returns.confirm_unchanged", "GET",  S,    OWN_302, 404,   404,   404,  404,     404),
    Row("returns.confirm_unchanged", "POST", S,    OWN_302, 404,   404,   404,  404,     404),
    # checking the answers comes before submitting: its editors, like the submit it leads to
    Row("returns.check",            "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.submit",           "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.submit",           "POST",  S,    T(422, 404, 404), 404, 404, 404, 404, 404),
    Row("returns.sign_off",         "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.sign_off",         "POST",  S,    404,   OWN_302, 404,   404,  404,     404),
    Row("returns.send_back",        "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.send_back",        "POST",  S,    404,   T(422, 404, 404), 404, 404, 404, 404),
    Row("returns.reopen",           "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.reopen",           "POST",  S,    404,   T(422, 404, 404), 404, 404, 404, 404),
    # -- dashboards and comparison (issue 5). A council's dashboard: its editors, approvers and
    # viewers (with their own draft), regional members of its region and administrators (the
    # councils share named returns by default; submitted returns only). The region's comparison:
    # its regional members and administrators. The nation: administrators. Sharing: the approver
    # (a POST with no choice answers with the form's error)
    Row("compare.council_dashboard", "GET",  S,    OWN,   OWN,     OWN,   404,  REGION,  200),
    Row("compare.region",           "GET",   S,    404,   404,     404,   404,  REGION,  200),
    Row("compare.national",         "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("compare.sharing",          "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("compare.sharing",          "POST",  S,    404,   T(422, 404, 404), 404, 404, 404, 404),
    # -- co-production panels (issue 6)
    # Its council's editors, approvers, viewers and panel members; never regional members or
    # administrators (members' personal data stays in the council). Panel members read
    # submitted returns only: the world's returns are drafts (404). Changes to a comment name
    # it in the form; POSTs here name none, so they find nothing (404). Settings and leaving
    # with no fields answer with the form's errors
    Row("panels.index",             "GET",   S,    OWN,   OWN,     OWN,   OWN,  404,     404),
    Row("panels.awaiting",          "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("panels.thread",            "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("panels.add_comment",       "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.edit_comment",      "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("panels.edit_comment",      "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.withdraw_comment",  "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.answer_comment",    "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.hide_comment",      "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.unhide_comment",    "POST",  S,    404,   404,     404,   404,  404,     404),
    Row("panels.settings",          "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.settings", "POST", S, 404, 404, 404, T(422, 404, 404), 404, 404),
    Row("panels.download",          "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.leave",             "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.leave", "POST", S, 404, 404, 404, T(422, 404, 404), 404, 404),
    # -- reports (issue 7). A council's board report: its own people (the world's returns are
    # drafts, so regional members and administrators get 404; panel members always do). A
    # region's pack: its regional members and administrators; with no submitted return there is
    # no chart (404), and with no finished job the PDF link goes back to the page (302)
    Row("reports.council_report",   "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("reports.council_chart",    "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("reports.council_report_pdf", "GET", S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("reports.council_report_xlsx", "GET", S,   OWN,   OWN,     OWN,   404,  404,     404),
    Row("reports.region_pack",      "GET",   S,    404,   404,     404,   404,  REGION,  200),
    Row("reports.region_chart",     "GET",   S,    404,   404,     404,   404,  404,     404),
    Row("reports.region_pack_pdf",  "GET",   S,    404,   404,     404,   404,  REGION_302, 302),
    Row("reports.region_pack_xlsx", "GET",   S,    404,   404,     404,   404,  REGION,  200),
    Row("reports.region_pack_status", "GET", S,   404,   404,     404,   404,  REGION,  200),
    Row("reports.start_region_pack", "GET",  405,  405,   405,     405,   405,  405,     405),
    Row("reports.start_region_pack", "POST", S,   404,   404,     404,   404,  REGION_303, 303),
]
# fmt: on


def cell_count() -> int:
    """Requests the matrix makes: rows × roles × relations."""
    return len(MATRIX) * len(ROLES) * len(RELATIONS)


# -- the people and councils the table speaks of -------------------------------------------------
# Shared by the access, team, admin and audit tests. Everyone is made through the services the app
# and the CLI use: people who sign in by ``tests.factories.make_user``; people who are only
# pointed at (the "subjects" of URLs) by :func:`make_person`, without a password, which is quicker.

import re  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from tests.factories import MadeUser, make_user  # noqa: E402
from tests.helpers import HTTPS  # noqa: E402
from tests.helpers import sign_in as sign_in_through_pages  # noqa: E402
from tracker.accounts import services as accounts  # noqa: E402
from tracker.admin.services import add_membership  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Council, Role, User  # noqa: E402
from tracker.models.accounts import MFA_ROLES  # noqa: E402

#: council A (Leeds) and B (Wakefield) share Yorkshire and the Humber; C (Cornwall) is South West
COUNCIL_CODES = {"own": "E08000035", "same_region": "E08000036", "other_region": "E06000052"}


def make_person(
    email: str, role: Role | None = None, *, council: Council | None = None, name: str = ""
) -> User:
    """A person who has been invited (no password yet) with one role or none; call it in an
    app context and commit."""
    user = accounts.create_user(email, name or email.split("@")[0], actor=None)
    if role is not None:
        add_membership(
            user,
            role,
            council=council if role.scope == "council" else None,
            region=council.region if role.scope == "region" and council else None,
            actor=None,
        )
    return user


def make_member(app: Flask, role: Role, relation: str = "own", **kwargs: Any) -> MadeUser:
    """Someone who can sign in, holding ``role`` for the relation's council (or its region, or
    nationally), with an authenticator app when the role needs one."""
    with app.app_context():
        place = council(relation)
        scope = (
            place if role.scope == "council" else place.region if role.scope == "region" else None
        )
        return make_user(memberships=[(role, scope)], mfa=role in MFA_ROLES, **kwargs)


def council(code_or_relation: str) -> Council:
    """The council of a relation ("own", "same_region", "other_region") or GSS code."""
    code = COUNCIL_CODES.get(code_or_relation, code_or_relation)
    found = db.session.scalar(select(Council).where(Council.gss_code == code))
    assert found is not None, code
    return found


def https_client(app: Flask) -> FlaskClient:
    """A test client that speaks https with a same-origin Referer, as a browser would here
    (the session cookie is ``__Host-`` and Secure; CSRF checks the Referer over https)."""
    client = app.test_client()
    client.environ_base.update(
        {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_REFERER": HTTPS + "/"}
    )
    return client


def signed_in_client(app: Flask, person: MadeUser) -> FlaskClient:
    """An https client signed in as ``person`` through the real sign-in pages."""
    client = https_client(app)
    sign_in_through_pages(client, person.email, person.password, person.totp_secret, base_url=HTTPS)
    return client


#: a page with a form for everyone, signed in or not
TOKEN_PAGE = "/auth/forgot-password"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = TOKEN_PAGE) -> str:
    """The CSRF token of the client's session, read from a page with a form."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any):
    """POST ``data`` with the session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)
