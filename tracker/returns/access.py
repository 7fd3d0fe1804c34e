"""Who may read and change a council's returns, and see its panel members' names: the role sets
and rules every view shares.

A council's drafts are its own (PRODUCT.md, "Nobody sees what is not theirs"): only the council's
editors, approvers and viewers read a draft return, its evidence library and its draft history.
Regional members and national administrators read a return once it is submitted or signed off,
and panel members likewise (but not the evidence, unless the council publishes an item to them).
A council that chooses not to share named returns is not readable by name from outside it at all.

A co-production panel member's real name is seen by their own council's approver, and by the
member themself; nobody else, national administrators included, sees it beside their comments
or on any council's pages, exports, reports or emails (:func:`may_see_panel_member_names`).
"""

from __future__ import annotations

from tracker.models import Council, Return, ReturnStatus, Role
from tracker.permissions import Principal, current_principal

#: the council's own people: they read its drafts and its evidence library
COUNCIL_READERS = (Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER, Role.COUNCIL_VIEWER)
#: who may read a council's returns once they are submitted or signed off
READERS = (*COUNCIL_READERS, Role.PANEL_MEMBER, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
#: who may read a draft
DRAFT_READERS = COUNCIL_READERS
#: who may read the evidence behind a submitted return's assessments
EVIDENCE_READERS = (*COUNCIL_READERS, Role.REGIONAL_MEMBER, Role.NATIONAL_ADMIN)
EDITORS = (Role.COUNCIL_EDITOR,)
APPROVERS = (Role.COUNCIL_APPROVER,)


def holds(council: Council, roles: tuple[Role, ...]) -> bool:
    """True when the signed-in person holds one of ``roles`` for ``council``."""
    principal = current_principal()
    return principal is not None and principal.may_access_council(council, roles)


def reads_drafts(council: Council) -> bool:
    """True when the signed-in person belongs to the council and so reads its drafts."""
    return holds(council, DRAFT_READERS)


def reaches_named(council: Council) -> bool:
    """False for someone outside ``council`` (a regional member, a national administrator)
    while the council keeps its named returns to itself (it then appears only inside
    aggregates, as on the comparison pages)."""
    return council.shares_named_returns or holds(council, (*COUNCIL_READERS, Role.PANEL_MEMBER))


def may_read_return(council: Council, return_: Return) -> bool:
    """True when the signed-in person may read this return of ``council`` (drafts: its own)."""
    if return_.status == ReturnStatus.DRAFT:
        return reads_drafts(council)
    return reaches_named(council)


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
