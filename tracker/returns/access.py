"""Who may read and change a council's returns: the role sets every returns view shares.

A council's drafts are its own (PRODUCT.md, "Nobody sees what is not theirs"): only the council's
editors, approvers and viewers read a draft return, its evidence library and its draft history.
Regional members and national administrators read a return once it is submitted or signed off,
and panel members likewise (but not the evidence, unless the council publishes an item to them).
A council that chooses not to share named returns is not readable by name from outside it at all.
"""

from __future__ import annotations

from tracker.models import Council, Return, ReturnStatus, Role
from tracker.permissions import current_principal

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
