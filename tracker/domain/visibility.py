"""Who may see what: the one home of every "may this person see, name or read …" question.

PRODUCT.md, "Nobody sees what is not theirs":

- A council's drafts are its own: only its editors, approvers and viewers read a draft return,
  its draft history and its evidence library.
- Once a return is submitted or signed off, regional members (of the council's region),
  national administrators and the council's panel members read it too.
- A council may choose not to share named returns: then nobody outside it sees it by name, not
  even its region or the nation; it appears only inside aggregates.
- Evidence behind a submitted return is for the council, its region and the nation; a panel
  member sees only the items the council publishes to its panel.
- A council's CQC view (its return read against the CQC's quality statements, with the staff's
  evidence) is its own staff's, drafts included; its region and the nation read it once the
  return is submitted and while the council shares named returns; its panel never (it holds
  evidence the council has not published to the panel).
- An aggregate shown outside a council covers at least :data:`MIN_COUNCILS` councils, and the
  unnamed councils in it are none or at least :data:`MIN_COUNCILS`, so that subtracting the
  named ones never reveals one council's answers.
- The panel's own view of an action (triangulation) is given by the council's panel members on
  a signed-off return; the council's approver may record views gathered at a panel meeting. It
  is shown only as counts, and only when at least :data:`MIN_PANEL_ANSWERS` answered, so that no
  member's view is shown or can be inferred.
- Panel members' real names are shown only to their own council's approver (who manages the
  team and the panel) and to the member themself; everyone else sees their chosen name or "A
  panel member" (``docs/roles.md``).
- Shared practice ("Learning from peers"): a council may share, action by action, how it did
  something, with a note and a contact role. It is read by the staff of every council and by
  regional members and national administrators (:data:`PRACTICE_READERS`), never by anonymous
  visitors or panel members: it is one officer telling another whom to ask. Only what the
  council has finished is shown: an opted-in assessment at Embedded in its latest submitted or
  signed-off return, and, as everywhere, only of a council the reader may name
  (:func:`shared_practice_shown`).
- The open data (``/open-data``, ``docs/open-data.md``) publishes, for anyone, a return that is
  signed off, in a closed period, of a council that shares named returns: what nobody can
  change any more and what the council lets anyone outside it see by name.

Every surface (pages, exports, PDFs, the regional pack, emails, dashboards, the API) asks the
functions here and keeps no copy. Each takes the principal explicitly: views pass
``current_principal()``, background jobs the principal they were started for.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from tracker.domain.principal import Principal
from tracker.models import (
    Assessment,
    Council,
    Evidence,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    Role,
    Stage,
)

#: the council's own people: they read its drafts and its evidence library
COUNCIL_READERS = (Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER, Role.COUNCIL_VIEWER)
#: everyone attached to the council itself (its panel too): they always see it by name
COUNCIL_MEMBERS = (*COUNCIL_READERS, Role.PANEL_MEMBER)
#: who may read a council's returns once they are submitted or signed off
READERS = (*COUNCIL_MEMBERS, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
#: who may read a draft
DRAFT_READERS = COUNCIL_READERS


class HasStatus(Protocol):
    """A return, or a summary of one that carries its status."""

    @property
    def status(self) -> str | None: ...


#: who may read the evidence behind a submitted return's assessments
EVIDENCE_READERS = (*COUNCIL_READERS, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
#: who reads other councils' shared practice: officers of any council, regions and the nation;
#: not panel members, for whom the notes and contact roles (one officer to another) are not meant
PRACTICE_READERS = (*COUNCIL_READERS, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
#: who reads a region's comparison and the nation's picture
REGION_READERS = (Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
#: who may read a council's CQC view and pack (drafts: its own staff only)
CQC_VIEW_READERS = (*COUNCIL_READERS, *REGION_READERS)
#: the fewest councils an aggregate shown outside a council may cover
MIN_COUNCILS = 3
#: the fewest answers the panel's view of one action is shown from (never one member's view)
MIN_PANEL_ANSWERS = 3
#: why the panel's view of an action is not shown
PANEL_VIEW_WITHHELD = f"Fewer than {MIN_PANEL_ANSWERS} panel members answered"
#: what a panel member is called to anyone who may not see their real name
ANONYMOUS_PANEL_MEMBER = "A panel member"


def holds(principal: Principal | None, council: Council, roles: tuple[Role, ...]) -> bool:
    """True when ``principal`` holds one of ``roles`` for ``council`` (a regional member for
    every council of their region, a national administrator for every council)."""
    return principal is not None and principal.may_access_council(council, roles)


def reads_drafts(principal: Principal | None, council: Council) -> bool:
    """True when ``principal`` belongs to the council's staff and so reads its drafts."""
    return holds(principal, council, DRAFT_READERS)


def reads_as_panel(principal: Principal | None, council: Council) -> bool:
    """True when ``principal`` reads the council's pages as its co-production panel does, not
    as its staff: in plain words (quarters as months), without the council's own workflow."""
    return holds(principal, council, (Role.PANEL_MEMBER,)) and not reads_drafts(principal, council)


def may_name(principal: Principal | None, council: Council) -> bool:
    """True when ``principal`` may see ``council`` by name: it shares named returns, or they
    belong to it (staff or panel). Someone outside a council that keeps its named returns to
    itself sees it only inside aggregates."""
    return council.shares_named_returns or holds(principal, council, COUNCIL_MEMBERS)


def published_openly() -> ColumnElement[bool]:
    """SQL, over a query that joins :class:`Return` to its :class:`Council` and its
    :class:`Period`: the return is published as open data, to anyone. It is signed off (a
    submitted one may still be sent back), its period is closed (so nothing in it changes any
    more), and its council shares named returns (:func:`may_name` for nobody in particular:
    a council that keeps its named returns to itself is counted in the national summary only).

    The one rule of who is in the download: the open-data page counts with it, the package
    selects with it, and its national summary treats every other council as not named.
    """
    return and_(
        Return.status == ReturnStatus.SIGNED_OFF,
        Period.status == PeriodStatus.CLOSED,
        Council.shares_named_returns.is_(True),
    )


def may_read_shared_practice(principal: Principal | None) -> bool:
    """True when ``principal`` may read councils' shared practice (the action page's "Councils
    that have embedded this" and the national "Roadmap in practice" page): someone holding one
    of :data:`PRACTICE_READERS` anywhere. Anonymous visitors and panel members may not."""
    return principal is not None and bool(principal.roles & set(PRACTICE_READERS))


def shared_practice_shown(principal: Principal | None) -> ColumnElement[bool]:
    """SQL, over a query that joins :class:`Assessment` to its :class:`Return` and the return's
    :class:`Council`: the assessment is shared practice that ``principal`` is shown.

    The council opted in (``practice_shared``) on an assessment at Embedded, in a submitted or
    signed-off return (never a draft) that is the council's latest such return, and the council
    may be named to ``principal`` (:func:`may_name`: it shares named returns, or the reader
    belongs to it). Ask :func:`may_read_shared_practice` first: this says which, not whether.
    """
    shared = [s.value for s in ReturnStatus if s.is_shared]
    later, later_period = aliased(Return), aliased(Period)
    latest = (
        select(later.id)
        .join(later_period, later_period.id == later.period_id)
        .where(later.council_id == Return.council_id, later.status.in_(shared))
        .order_by(later_period.year.desc(), later_period.quarter.desc())
        .limit(1)
        .correlate(Return)
        .scalar_subquery()
    )
    own = sorted(principal.council_ids(COUNCIL_MEMBERS)) if principal is not None else []
    return and_(
        Assessment.practice_shared.is_(True),
        Assessment.stage == Stage.EMBEDDED.value,
        Return.status.in_(shared),
        Return.id == latest,
        or_(Council.shares_named_returns.is_(True), Council.id.in_(own)),
    )


def may_read_return(principal: Principal | None, council: Council, return_: Return) -> bool:
    """True when ``principal`` may read this return of ``council``: a draft only its own staff;
    a submitted or signed-off one everyone in :data:`READERS` who may name the council."""
    if return_.status == ReturnStatus.DRAFT:
        return reads_drafts(principal, council)
    return holds(principal, council, READERS) and may_name(principal, council)


def may_read_cqc_view(principal: Principal | None, council: Council, return_: HasStatus) -> bool:
    """True when ``principal`` may read ``council``'s CQC view (and its pack) of ``return_``:
    the council's editors, approvers and viewers always, a draft too; regional members of its
    region and national administrators once the return is submitted or signed off, and only
    while the council shares named returns. Panel members never: the view lists the staff's
    evidence, most of it not published to the panel.

    :param return_: the return, or anything with its ``status`` (a dashboard's).
    """
    if reads_drafts(principal, council):
        return True
    if return_.status not in (ReturnStatus.SUBMITTED, ReturnStatus.SIGNED_OFF):
        return False
    return council.shares_named_returns and holds(principal, council, REGION_READERS)


def may_read_workflow_notes(principal: Principal | None, council: Council, return_: Return) -> bool:
    """True when ``principal`` may read the approver's send-back note and the reason a return
    was reopened on the return itself: internal workflow text, for the council's own staff
    only, and only until the return is signed off. Panel members, regional members and the
    nation never read it; it stays in the return's history (the audit trail) for the staff."""
    return reads_drafts(principal, council) and return_.status != ReturnStatus.SIGNED_OFF


def may_read_return_history(principal: Principal | None, council: Council) -> bool:
    """True when ``principal`` may read a return's workflow history (who submitted, sent back,
    signed off and reopened it, with the notes): the council's own staff."""
    return reads_drafts(principal, council)


def may_read_evidence(
    principal: Principal | None, council: Council, item: Evidence, *, supports_shared: bool
) -> bool:
    """True when ``principal`` may read (and download) the council's evidence ``item``.

    :param supports_shared: whether the item supports an assessment of a submitted or
        signed-off return (regional members and national administrators see only those).
    """
    if reads_drafts(principal, council):
        return True
    if holds(principal, council, EVIDENCE_READERS) and may_name(principal, council):
        return supports_shared
    return item.is_published_to_panel and holds(principal, council, (Role.PANEL_MEMBER,))


def may_see_panel_member_names(
    principal: Principal | None, council: Council, *, member_id: int | None = None
) -> bool:
    """True when ``principal`` may see the real names of ``council``'s co-production panel
    members: the council's own approver (the DASS, who is responsible for the panel), and a
    member their own name (``member_id``, the member's user id).

    Everyone else sees the member's display name (a pseudonym by default) or "A panel member":
    national administrators (beyond the account pages they administer accounts with), regional
    members, the council's editors and viewers, other panel members. Reports are drawn for no
    one in particular (``principal=None``): a board report goes to the council's board and is
    shared with its region and the nation. The one exception is the member's own choice, "Show
    my real name in regional pages and reports" (``PanelProfile.is_real_name_shown``), which
    ``tracker.panels.services.public_name`` applies to what reports show. Every page, export,
    report and email that could name a member asks this function (``docs/roles.md``).
    """
    if principal is None:
        return False
    if member_id is not None and principal.user.id == member_id:
        return True
    return council.id in principal.council_ids((Role.COUNCIL_APPROVER,))


def aggregate_refusal(councils: int, unnamed: int) -> str | None:
    """Why an aggregate over ``councils`` councils, ``unnamed`` of them not visible by name to
    the viewer, may not be shown; None when it may (the three-council rule)."""
    if councils < MIN_COUNCILS:
        return f"Not shown: fewer than {MIN_COUNCILS} councils have submitted a return ({councils})"
    if 0 < unnamed < MIN_COUNCILS:
        return (
            "Not shown: it would reveal the answers of fewer than "
            f"{MIN_COUNCILS} councils that are not named"
        )
    return None


def _in_council(principal: Principal | None, council: Council, roles: tuple[Role, ...]) -> bool:
    """True when ``principal`` holds one of ``roles`` in ``council`` itself (not through a
    region or the nation)."""
    return principal is not None and council.id in principal.council_ids(roles)


def may_give_panel_view(principal: Principal | None, council: Council, return_: Return) -> bool:
    """True when ``principal`` may say whether, from what they see, each action of ``return_``
    is happening: a panel member of ``council`` itself, once the return is signed off."""
    return return_.status == ReturnStatus.SIGNED_OFF and _in_council(
        principal, council, (Role.PANEL_MEMBER,)
    )


def may_record_meeting_views(
    principal: Principal | None, council: Council, return_: Return
) -> bool:
    """True when ``principal`` may record the panel's views gathered at a meeting, on the
    panel's behalf: ``council``'s own approver, who manages its panel (``docs/roles.md``),
    once the return is signed off."""
    return return_.status == ReturnStatus.SIGNED_OFF and _in_council(
        principal, council, (Role.COUNCIL_APPROVER,)
    )


def panel_view_refusal(answered: int) -> str | None:
    """Why the panel's view of one action, from ``answered`` answers, may not be shown; None
    when it may (at least :data:`MIN_PANEL_ANSWERS`)."""
    return PANEL_VIEW_WITHHELD if answered < MIN_PANEL_ANSWERS else None
