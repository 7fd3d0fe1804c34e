"""Who may use each route: the checked-in access matrix (SECURITY.md A).

One row per endpoint and HTTP method; one column per role; in each cell what the request must
answer, the same for the three tenant relations or given for each with ``T(own, same_region,
other_region)``, and the same in every state of the world's returns or given for each with
``ByState(draft, submitted, signed_off, unshared)``. ``tests/test_access_matrix.py`` makes
every request of every cell, and fails on any mismatch and on any route of ``app.url_map``
missing from this table.

The people (see ``tests/test_access_matrix.py``): each role is held by one person in council A
(Leeds); the regional member holds A's region (Yorkshire and the Humber); the national
administrator holds their role nationally. The tenant relation says which council the request
is about:

- ``own``: council A;
- ``same_region``: council B (Wakefield), in A's region;
- ``other_region``: council C (Cornwall), in another region.

The state says where the three councils' returns for the matrix's period stand. In every state
each return is fully assessed, its first trackable action has a panel member's comment (in A,
written by the matrix's panel member) and a file of evidence:

- ``draft``: submitted, commented on, then sent back to the editors;
- ``submitted``: submitted for sign-off;
- ``signed_off``: submitted and signed off;
- ``unshared``: submitted, and every council keeps its named returns to itself, so
  that outsiders (regional members, national administrators) see them only in aggregates.

Rows of the areas that read returns (:data:`RETURN_BLUEPRINTS`) are checked in every state;
the others (public pages, signing in, accounts, teams, administration) in the draft state only,
since no return is theirs to read.

A URL's ``gss_code`` is that council's; its ``user_id`` and ``membership_id`` belong to a person
who is a council editor there (a fresh one for every POST, so one cell's change cannot decide
another's). Tokens are unknown ones, and so are the ids of invitations and API tokens. POSTs
carry a valid CSRF token and, for the comment forms, the id of the thread's real comment (so
that a 404 is about access, not a missing comment), and nothing else: they exercise the access
check, not a successful change. A form then answers 200 or 422 with its errors, while a
confirmation (remove, disable, sign out, submit) goes through and redirects.

Cell values: a status code; :data:`SIGN_IN`, a 302 to the sign-in page with ``next`` set to the
requested path; ``To(endpoint)``, a 302 (or ``To(endpoint, 303)``) to that endpoint's URL built
from the request's own URL values. A bare 3xx status is not a cell: every redirect names where
it goes.
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
STATES = ("draft", "submitted", "signed_off", "unshared")
#: blueprints whose pages read a council's returns: their rows are checked in every state
RETURN_BLUEPRINTS = frozenset({"returns", "panels", "reports", "compare", "cqc"})

#: a 302 to the sign-in page, with ``next`` the requested path
SIGN_IN = "sign-in"


@dataclass(frozen=True)
class To:
    """A redirect to ``endpoint``, whose URL is built from the request's own URL values."""

    endpoint: str
    status: int = 302


Leaf = Union[int, str, To]  # noqa: UP007 (read as a type alias, not evaluated at runtime)


@dataclass(frozen=True)
class T:
    """A cell whose answer depends on the tenant relation."""

    own: Leaf
    same_region: Leaf
    other_region: Leaf

    def for_relation(self, relation: str) -> Leaf:
        return getattr(self, relation)


@dataclass(frozen=True)
class ByState:
    """A cell whose answer depends on the state of the world's returns (see :data:`STATES`)."""

    draft: Leaf | T
    submitted: Leaf | T
    signed_off: Leaf | T
    unshared: Leaf | T

    def for_state(self, state: str) -> Leaf | T:
        return getattr(self, state)


Cell = Union[Leaf, T, ByState]  # noqa: UP007


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

    @property
    def states(self) -> tuple[str, ...]:
        """The states this row is checked in: every one for the areas that read returns (and
        the API routes that mirror them), but
        not for a method the route does not have (routing answers 405 before anything is
        loaded); the draft state alone for the others."""
        reads_returns = self.endpoint.split(".")[0] in RETURN_BLUEPRINTS
        if not reads_returns and self.endpoint not in API_MIRRORS:
            return ("draft",)
        if {leaf for role in ROLES for leaf in leaves(self.cell(role))} == {405}:
            return ("draft",)
        return STATES

    def cell(self, role: str) -> Cell:
        return getattr(self, role)

    def expected(self, role: str, relation: str, state: str = "draft") -> Leaf:
        cell = self.cell(role)
        if isinstance(cell, ByState):
            cell = cell.for_state(state)
        return cell.for_relation(relation) if isinstance(cell, T) else cell


def leaves(cell: Cell) -> list[Leaf]:
    """Every value a cell can take."""
    if isinstance(cell, ByState):
        return [leaf for state in STATES for leaf in leaves(cell.for_state(state))]
    if isinstance(cell, T):
        return [cell.for_relation(relation) for relation in RELATIONS]
    return [cell]


def own(cell: Leaf) -> T:
    """The council's own people: ``cell`` in council A, 404 elsewhere."""
    return T(cell, 404, 404)


def region(cell: Leaf) -> T:
    """The regional member: ``cell`` in A's region (A and B), 404 in C."""
    return T(cell, cell, 404)


def once_submitted(cell: Leaf | T) -> ByState:
    """An outsider to the council (a regional member, a national administrator) reading its
    named returns: nothing while a return is a draft, or while the council keeps its named
    returns to itself."""
    return ByState(draft=404, submitted=cell, signed_off=cell, unshared=404)


def submitted_in_council(cell: Leaf | T) -> ByState:
    """A panel member: part of the council, so unaffected by its sharing; drafts are 404."""
    return ByState(draft=404, submitted=cell, signed_off=cell, unshared=cell)


def signed_off_only(cell: Leaf | T) -> ByState:
    """The panel's own view of an action: asked on a signed-off return only, a 404 otherwise."""
    return ByState(draft=404, submitted=404, signed_off=cell, unshared=404)


def while_shared(cell: Leaf | T) -> ByState:
    """An outsider's page that names the council whatever its returns' state, unless the
    council keeps its named returns to itself."""
    return ByState(draft=cell, submitted=cell, signed_off=cell, unshared=404)


def by_state(draft: Leaf | T, submitted: Leaf | T) -> ByState:
    """One answer while the return is a draft, another once it is submitted (or signed off,
    which is as unchangeable), whatever the council's sharing."""
    return ByState(draft=draft, submitted=submitted, signed_off=submitted, unshared=submitted)


S = SIGN_IN
OWN = own(200)
REGION = region(200)
#: signed in already: the sign-in steps send one to "Your work"
HOME = To("home.your_work")
TEAM = To("team.index")
USER = To("admin.user")
PERIODS = To("admin.periods")
PERIOD = To("admin.period")
OVERVIEW = To("returns.overview")
IMPORT = To("returns.import_upload")
THREAD = To("panels.thread")
PACK = To("reports.region_pack")
PACK_303 = To("reports.region_pack", 303)

# fmt: off
MATRIX: list[Row] = [
    #   endpoint                    method   anon  editor approver viewer panel regional admin
    # -- public pages
    Row("pages.index",              "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.accessibility",      "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.privacy",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.glossary",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.healthz",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.readyz",             "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("pages.api_reference",      "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.index",            "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.area",             "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.actions",          "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.action",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.key",              "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.outcomes",         "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.agenda",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.enablers",         "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.cqc",              "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("roadmap.search",           "GET",   200,  200,   200,     200,   200,  200,     200),
    # Shared practice is for officers of any council, regions and the nation; a panel member's
    # request finds no page (visibility.may_read_shared_practice).
    Row("roadmap.in_practice",      "GET",   SIGN_IN, 200, 200,    200,   404,  200,     200),
    Row("councils.index",           "GET",   200,  200,   200,     200,   200,  200,     200),
    Row("opendata.index",           "GET",   200,  200,   200,     200,   200,  200,     200),
    # the open data of a closed quarter only: the matrix's period is open in every state, so
    # its download is not found by anyone (tests/test_open_data.py downloads a closed one)
    Row("opendata.download",        "GET",   404,  404,   404,     404,   404,  404,     404),
    # -- signing in and out (someone signed in is sent home from the sign-in steps; someone
    # not signed in is sent from the second step to the first, with no ``next``)
    Row("auth.sign_in",             "GET",   200,  HOME,  HOME,    HOME,  HOME, HOME,    HOME),
    Row("auth.sign_in",             "POST",  422,  HOME,  HOME,    HOME,  HOME, HOME,    HOME),
    Row("auth.two_factor", "GET", To("auth.sign_in"), HOME, HOME, HOME, HOME, HOME,     HOME),
    Row("auth.two_factor", "POST", To("auth.sign_in"), HOME, HOME, HOME, HOME, HOME,    HOME),
    Row("auth.two_factor_set_up", "GET", To("auth.sign_in"), HOME, HOME, HOME, HOME, HOME, HOME),
    Row("auth.two_factor_set_up", "POST", To("auth.sign_in"), HOME, HOME, HOME, HOME, HOME, HOME),
    Row("auth.two_factor_qr",       "GET",   404,  404,   404,     404,   404,  404,     404),
    Row("auth.sign_out",            "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("auth.sign_out", "POST", *[To("auth.signed_out", 303)] * 7),
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
    # -- "Your work": where everyone signed in lands; a region's councils behind its counts
    Row("home.your_work",           "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("home.region",              "GET",   S,    404,   404,     404,   404,  REGION,  200),
    # -- one's own account
    Row("account.index",            "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.change_password",  "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.change_password",  "POST",  S,    422,   422,     422,   422,  422,     422),
    # an invitation to a council's team is answered only by the person it was sent to: the
    # matrix's id is nobody's
    Row("account.invitation",       "GET",   S,    404,   404,     404,   404,  404,     404),
    Row("account.invitation",       "POST",  S,    404,   404,     404,   404,  404,     404),
    # API tokens: everyone signed in holds a role a token can read, so everyone gets the form
    # (a POST with no fields: 422 with its errors); the matrix's token id is nobody's
    Row("account.tokens",           "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.new_token",        "GET",   S,    200,   200,     200,   200,  200,     200),
    Row("account.new_token",        "POST",  S,    422,   422,     422,   422,  422,     422),
    Row("account.revoke_token",     "GET",   S,    404,   404,     404,   404,  404,     404),
    Row("account.revoke_token",     "POST",  S,    404,   404,     404,   404,  404,     404),
    # -- a council's team: its approver, and national administrators
    Row("team.index",               "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.add_member",          "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.add_member",          "POST",  S,    404,   OWN,     404,   404,  404,     200),
    Row("team.remove_member",       "GET",   S,    404,   OWN,     404,   404,  404,     200),
    Row("team.remove_member",       "POST",  S,    404,   own(TEAM), 404, 404,  404,     TEAM),
    # the matrix's invitation ids are unknown ones: a 404 once the decorator lets the person in
    Row("team.withdraw_invitation", "GET",   S,    404,   404,     404,   404,  404,     404),
    Row("team.withdraw_invitation", "POST",  S,    404,   404,     404,   404,  404,     404),
    # -- administration: national administrators only
    Row("admin.index",              "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.users",              "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_user",           "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_user",           "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.user",               "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.add_membership",     "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.add_membership",     "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.remove_membership",  "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.remove_membership",  "POST",  S,    404,   404,     404,   404,  404,     USER),
    Row("admin.disable_user",       "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.disable_user",       "POST",  S,    404,   404,     404,   404,  404,     USER),
    Row("admin.enable_user",        "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.enable_user",        "POST",  S,    404,   404,     404,   404,  404,     USER),
    Row("admin.end_sessions",       "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.end_sessions",       "POST",  S,    404,   404,     404,   404,  404,     USER),
    Row("admin.resend_invitation",  "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.resend_invitation",  "POST",  S,    404,   404,     404,   404,  404,     USER),
    Row("admin.reset_authenticator", "GET",  405,  405,   405,     405,   405,  405,     405),
    Row("admin.reset_authenticator", "POST", S,    404,   404,     404,   404,  404,     USER),
    Row("admin.audit",              "GET",   S,    404,   404,     404,   404,  404,     200),
    # -- spreadsheets: the return's readers download it (its own people always; panel members,
    # regional members and national administrators once it is submitted); its editors import
    # into it (once it is submitted the page says why not: 200, and a POST 422)
    Row("returns.export_xlsx", "GET", S, OWN, OWN, OWN,
        submitted_in_council(OWN), once_submitted(REGION), once_submitted(200)),
    Row("returns.export_csv", "GET", S, OWN, OWN, OWN,
        submitted_in_council(OWN), once_submitted(REGION), once_submitted(200)),
    Row("returns.import_upload",    "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.import_upload",    "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("returns.import_preview",   "GET",   S,    own(IMPORT), 404, 404, 404,  404,     404),
    Row("returns.import_preview",   "POST",  405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_confirm",   "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_confirm",   "POST",  S,    own(IMPORT), 404, 404, 404,  404,     404),
    Row("returns.import_cancel",    "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.import_cancel",    "POST",  S,    own(IMPORT), 404, 404, 404,  404,     404),
    # -- periods and evidence. The evidence (one file per council, linked to the action's
    # assessment) is not shown to the panel, and stays in the council while its return is a
    # draft or the council keeps named returns to itself (the library always); POSTs with no
    # fields answer with the form's errors, or, once submitted, with why nothing can change
    Row("admin.periods",            "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_period",         "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.new_period",         "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.open_period",        "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.open_period",        "POST",  S,    404,   404,     404,   404,  404,     PERIODS),
    Row("admin.close_period",       "GET",   S,    404,   404,     404,   404,  404,     200),
    # the open POST (first) opens the matrix's upcoming period, due in 2030: closing it that
    # early needs its box ticked (200 with the error); it stays open, so reopening is refused
    # and its councils are reminded (both back to the period's page)
    Row("admin.close_period",       "POST",  S,    404,   404,     404,   404,  404,     200),
    Row("admin.period",             "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.reopen_period",      "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("admin.reopen_period",      "POST",  S,    404,   404,     404,   404,  404,     PERIOD),
    Row("admin.send_reminder",      "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("admin.send_reminder",      "POST",  S,    404,   404,     404,   404,  404,     PERIOD),
    Row("returns.evidence", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("returns.add_evidence_link", "GET",  S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.add_evidence_link", "POST", S,    own(422), 404,  404,   404,  404,     404),
    Row("returns.upload_evidence",  "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.upload_evidence",  "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("returns.choose_evidence",  "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.choose_evidence",  "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("returns.unlink_evidence",  "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.unlink_evidence", "POST", S, own(To("returns.evidence", 303)),
        404, 404, 404, 404, 404),
    Row("returns.evidence_library", "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    # changing an item's details (its CQC evidence category too): the council's editors,
    # whatever the state of the returns it supports (no fields: 422 with the form's errors)
    Row("returns.edit_evidence",    "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.edit_evidence",    "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("returns.download_evidence", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    # -- the panel's own view of an action (triangulation): a member answers, the approver
    # records a meeting's views, on a signed-off return only. Before the returns' rows, whose
    # sign-off POST would sign off the submitted return these rows must still see as submitted.
    Row("panels.save_view", "POST", S, 404, 404, 404, signed_off_only(own(422)), 404, 404),
    Row("panels.meeting_view", "GET", S, 404, signed_off_only(OWN), 404, 404, 404, 404),
    Row("panels.meeting_view", "POST", S, 404, signed_off_only(own(422)), 404, 404, 404, 404),
    # -- returns (pages, form, workflow). Readers read; panel members, regional members and
    # national administrators read submitted returns only, and outsiders none of a council
    # that keeps its named returns to itself. "Returns" in the menu goes to the newest return
    # one may read, else to the list. Editors change drafts (a POST with no fields answers
    # with the form's errors; once submitted, back to the page that says why not) and submit
    # (the world's returns are complete: a draft goes through, and a submitted one is refused
    # with a message on its overview); the approver signs off (a draft is refused: back to
    # the overview), sends back and reopens (no reason given: 422)
    Row("returns.index", "GET", S, OWN, OWN, OWN, OWN, while_shared(REGION), while_shared(200)),
    Row("returns.current", "GET", S, own(OVERVIEW), own(OVERVIEW), own(OVERVIEW),
        by_state(own(To("returns.index")), own(OVERVIEW)),
        ByState(region(To("returns.index")), region(OVERVIEW), region(OVERVIEW), 404),
        ByState(To("returns.index"), OVERVIEW, OVERVIEW, 404)),
    Row("returns.overview", "GET", S, OWN, OWN, OWN,
        submitted_in_council(OWN), once_submitted(REGION), once_submitted(200)),
    # searching a return's answers: exactly its overview's readers
    Row("returns.search", "GET", S, OWN, OWN, OWN,
        submitted_in_council(OWN), once_submitted(REGION), once_submitted(200)),
    Row("returns.action", "GET", S, OWN, OWN, OWN,
        submitted_in_council(OWN), once_submitted(REGION), once_submitted(200)),
    Row("returns.save_action", "POST", S, by_state(own(422), own(To("returns.action"))),
        404, 404, 404, 404, 404),
    Row("returns.history", "GET", S, OWN, OWN, OWN, OWN, while_shared(REGION), while_shared(200)),
    Row("returns.bulk_edit",        "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.bulk_edit", "POST", S, by_state(own(422), own(OVERVIEW)),
        404, 404, 404, 404, 404),
    # confirming carried-forward answers unchanged: its editors; a request that chooses no
    # action (the matrix's) is sent back to the overview
    Row("returns.confirm_unchanged", "GET",  S,    own(OVERVIEW), 404, 404,   404,  404,     404),
    Row("returns.confirm_unchanged", "POST", S,    own(OVERVIEW), 404, 404,   404,  404,     404),
    # checking the answers comes before submitting: its editors, like the submit it leads to
    Row("returns.check",            "GET",   S,    OWN,   404,     404,   404,  404,     404),
    Row("returns.submit",           "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("returns.submit",           "POST",  S,    own(OVERVIEW), 404, 404, 404, 404,    404),
    Row("returns.sign_off",         "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.sign_off",         "POST",  S,    404,   own(OVERVIEW), 404, 404, 404,  404),
    Row("returns.send_back",        "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.send_back",        "POST",  S,    404,   own(422), 404,  404,  404,     404),
    Row("returns.reopen",           "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("returns.reopen",           "POST",  S,    404,   own(422), 404,  404,  404,     404),
    # -- dashboards and comparison. A council's dashboard: its editors, approvers and
    # viewers (with their own draft), regional members of its region and administrators while
    # the council shares named returns (submitted returns only). The region's comparison: its
    # regional members and administrators. The nation: administrators. Sharing: the approver
    # (a POST with no choice answers with the form's error)
    Row("compare.council_dashboard", "GET", S, OWN, OWN, OWN,
        404, while_shared(REGION), while_shared(200)),
    Row("compare.region",           "GET",   S,    404,   404,     404,   404,  REGION,  200),
    Row("compare.national",         "GET",   S,    404,   404,     404,   404,  404,     200),
    Row("compare.sharing",          "GET",   S,    404,   OWN,     404,   404,  404,     404),
    Row("compare.sharing",          "POST",  S,    404,   own(422), 404,  404,  404,     404),
    # -- co-production panels
    # Its council's editors, approvers, viewers and panel members; never regional members or
    # administrators (members' personal data stays in the council). Panel members read
    # submitted returns only. Changes to a comment name the thread's real comment: in A it is
    # the matrix's panel member's own, so they may change it (no text: 422) and withdraw it
    # (back to the thread); editors may answer or hide it (no text: 422), and showing a comment
    # that is not hidden is refused with a message on the thread. Settings and leaving with no
    # fields answer with the form's errors
    Row("panels.index",             "GET",   S,    OWN,   OWN,     OWN,   OWN,  404,     404),
    Row("panels.awaiting",          "GET",   S,    OWN,   OWN,     OWN,   404,  404,     404),
    Row("panels.answered",          "GET",   S,    OWN,   OWN,     OWN,   OWN,  404,     404),
    Row("panels.easy_read",         "GET",   S,    OWN,   OWN,     OWN,   OWN,  404,     404),
    Row("panels.thread", "GET", S, OWN, OWN, OWN, submitted_in_council(OWN), 404, 404),
    Row("panels.add_comment", "POST", S, 404, 404, 404, submitted_in_council(own(422)), 404, 404),
    Row("panels.edit_comment",      "GET",   405,  405,   405,     405,   405,  405,     405),
    Row("panels.edit_comment", "POST", S, 404, 404, 404, submitted_in_council(own(422)), 404, 404),
    Row("panels.withdraw_comment", "POST", S, 404, 404, 404,
        submitted_in_council(own(THREAD)), 404, 404),
    Row("panels.answer_comment",    "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("panels.hide_comment",      "POST",  S,    own(422), 404,  404,   404,  404,     404),
    Row("panels.unhide_comment",    "POST",  S,    own(THREAD), 404, 404, 404,  404,     404),
    # settings: a member's name and emails; the approver's how quickly the council answers
    Row("panels.settings",          "GET",   S,    404,   OWN,     404,   OWN,  404,     404),
    Row("panels.settings",          "POST",  S,    404,   own(422), 404,  own(422), 404,   404),
    Row("panels.my_comments",       "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.my_comments_csv",   "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.leave",             "GET",   S,    404,   404,     404,   OWN,  404,     404),
    Row("panels.leave",             "POST",  S,    404,   404,     404,   own(422), 404,   404),
    # -- reports. A council's board report: its own people; regional members and
    # administrators once submitted, while the council shares named returns; panel members
    # never. A region's pack: its regional members and administrators, from submitted
    # returns only (with none there is no chart: 404); with no finished job the PDF link goes
    # back to the page
    Row("reports.council_report", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("reports.council_chart", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("reports.council_report_pdf", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("reports.council_report_docx", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("reports.council_report_xlsx", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    # -- a council's CQC view and its pack: the board report's readers (its own people, drafts
    # too; its region and the nation once submitted, while it shares named returns); panel
    # members never, since it lists the staff's evidence
    Row("cqc.view", "GET", S, OWN, OWN, OWN, 404, once_submitted(REGION), once_submitted(200)),
    Row("cqc.pack_pdf", "GET", S, OWN, OWN, OWN, 404, once_submitted(REGION), once_submitted(200)),
    Row("cqc.pack_docx", "GET", S, OWN, OWN, OWN,
        404, once_submitted(REGION), once_submitted(200)),
    Row("reports.region_pack",      "GET",   S,    404,   404,     404,   404,  REGION,  200),
    # A pack chart exists only when the pack draws it: with the one reporting council keeping
    # its named returns to itself, nothing can be drawn, so there is no chart to fetch.
    Row("reports.region_chart", "GET", S, 404, 404, 404, 404,
        ByState(draft=404, submitted=REGION, signed_off=REGION, unshared=404),
        ByState(draft=404, submitted=200, signed_off=200, unshared=404)),
    Row("reports.region_pack_pdf",  "GET",   S,    404,   404,     404,   404,  region(PACK), PACK),
    Row("reports.region_pack_xlsx", "GET",   S,    404,   404,     404,   404,  REGION,  200),
    Row("reports.region_pack_status", "GET", S,   404,   404,     404,   404,  REGION,  200),
    Row("reports.start_region_pack", "GET",  405,  405,   405,     405,   405,  405,     405),
    Row("reports.start_region_pack", "POST", S,   404,   404,     404,   404,  region(PACK_303),
        PACK_303),
]
# fmt: on

# -- the read API. Its public routes answer anyone; each of the others reads what a page shows,
# through the same rules, and must answer every cell exactly as that page does, except that
# where the page sends someone not signed in to sign in, the API answers 401 (a program cannot
# follow a sign-in page). tests/test_api_access.py checks the API's own record of what it
# mirrors (tracker.api.spec) against this one, and repeats these rows with tokens.
API_PUBLIC = (
    "api.index",
    "api.openapi",
    "api.editions",
    "api.areas",
    "api.enablers",
    "api.actions",
    "api.action",
    "api.regions",
    "api.councils",
    "api.council",
    "api.periods",
)
API_MIRRORS = {
    "api.returns": "returns.index",
    "api.return_": "returns.overview",
    "api.assessments": "returns.overview",
    "api.assessment": "returns.action",
    "api.dashboard": "compare.council_dashboard",
    "api.comparison": "compare.region",
    "api.national": "compare.national",
    "api.answered": "panels.answered",
}


def _as_api(cell: Cell) -> Cell:
    """A page's cell as the API answers it: 401 where the page sends someone to sign in."""
    if isinstance(cell, ByState):
        return ByState(*(_as_api(cell.for_state(state)) for state in STATES))
    if isinstance(cell, T):
        return T(*(_as_api(cell.for_relation(relation)) for relation in RELATIONS))
    if isinstance(cell, To):
        raise ValueError("an API route mirrors only pages that answer, never redirect")
    return 401 if cell == SIGN_IN else cell


def api_rows() -> list[Row]:
    pages = {row.endpoint: row for row in MATRIX if row.method == "GET"}
    rows = [Row(endpoint, "GET", *[200] * len(ROLES)) for endpoint in API_PUBLIC]
    for endpoint, page in API_MIRRORS.items():
        rows.append(Row(endpoint, "GET", *(_as_api(pages[page].cell(role)) for role in ROLES)))
    return rows


MATRIX += api_rows()


def checks() -> list[tuple[str, str]]:
    """(role, state) of each run of the matrix: every role in the draft state; every role but
    the anonymous one in the others. Someone not signed in is sent to sign in before anything
    of a return is loaded, so their column cannot depend on the state (a test checks that it
    holds only sign-in redirects and 405s for the rows that read returns)."""
    return [(role, "draft") for role in ROLES] + [
        (role, state) for state in STATES[1:] for role in ROLES if role != "anonymous"
    ]


def cell_count() -> int:
    """Requests the matrix makes: for each run, the rows checked in its state × relations."""
    return sum(
        sum(1 for row in MATRIX if state in row.states) * len(RELATIONS) for _, state in checks()
    )


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
