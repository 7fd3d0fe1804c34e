"""What may happen next to a return: the one rule that pages display and services enforce.

A return moves draft → submitted → signed off (PRODUCT.md, "Returns"): the council's editors
change a draft and submit it; its approver (the DASS) signs a submitted return off or sends it
back with a note, and may reopen a signed-off return with a reason. Nothing changes once the
period is closed. Whoever submitted a return cannot also sign it off (separation of duties).

:func:`refusal` is the single decision: None when the person may take the step now, otherwise
the sentence that says why not. Views show exactly :func:`allowed_steps`; services call
:func:`require` before they change anything, so the two never disagree.
"""

from __future__ import annotations

import enum

from tracker.domain.principal import Principal
from tracker.models import PeriodStatus, Return, ReturnStatus, Role


class Step(enum.StrEnum):
    """Something a person can do to a return."""

    EDIT = "edit"  #: change assessments, link evidence, import a spreadsheet
    SUBMIT = "submit"  #: send the draft to the approver
    SIGN_OFF = "sign_off"  #: the approver locks a submitted return
    SEND_BACK = "send_back"  #: the approver returns a submitted return to the editors
    REOPEN = "reopen"  #: the approver makes a signed-off return a draft again


class ReturnError(ValueError):
    """The return cannot change as asked (its status, the period's, or who is asking)."""


#: who takes each step, within the return's own council
EDITORS = (Role.COUNCIL_EDITOR,)
APPROVERS = (Role.COUNCIL_APPROVER,)
TAKEN_BY = {
    Step.EDIT: EDITORS,
    Step.SUBMIT: EDITORS,
    Step.SIGN_OFF: APPROVERS,
    Step.SEND_BACK: APPROVERS,
    Step.REOPEN: APPROVERS,
}
#: the status a return must have for each step
FROM_STATUS = {
    Step.EDIT: ReturnStatus.DRAFT,
    Step.SUBMIT: ReturnStatus.DRAFT,
    Step.SIGN_OFF: ReturnStatus.SUBMITTED,
    Step.SEND_BACK: ReturnStatus.SUBMITTED,
    Step.REOPEN: ReturnStatus.SIGNED_OFF,
}
_WRONG_STATUS = {
    Step.EDIT: "This return has been submitted: only a draft can be changed",
    Step.SUBMIT: "This return has already been submitted",
    Step.SIGN_OFF: "Only a submitted return can be signed off",
    Step.SEND_BACK: "Only a submitted return can be sent back",
    Step.REOPEN: "Only a signed-off return can be reopened",
}
_CLOSED = {
    Step.EDIT: "{label} is closed: its returns cannot be changed",
    Step.SUBMIT: "{label} is closed: its returns cannot be changed",
    Step.SIGN_OFF: "{label} is closed: its returns cannot be signed off",
    Step.SEND_BACK: "{label} is closed: its returns cannot be sent back",
    Step.REOPEN: "{label} is closed: its returns cannot be reopened",
}
_NOT_YOURS = {
    Step.EDIT: "Only the council's editors can change its return",
    Step.SUBMIT: "Only the council's editors can submit its return",
    Step.SIGN_OFF: "Only the council's approver can sign off its return",
    Step.SEND_BACK: "Only the council's approver can send its return back",
    Step.REOPEN: "Only the council's approver can reopen its return",
}
SUBMITTER_CANNOT_SIGN_OFF = "You submitted this return, so another approver must sign it off"


def refusal(principal: Principal | None, return_: Return, step: Step) -> str | None:
    """Why ``principal`` may not take ``step`` on ``return_`` now, or None when they may.

    ``principal`` None stands for nobody signed in, who may take no step.
    """
    if principal is None or not principal.may_access_council(return_.council, TAKEN_BY[step]):
        return _NOT_YOURS[step]
    if return_.status != FROM_STATUS[step]:
        return _WRONG_STATUS[step]
    if return_.period.status != PeriodStatus.OPEN:
        return _CLOSED[step].format(label=return_.period.label)
    if step is Step.SIGN_OFF and return_.submitted_by_id == principal.user.id:
        return SUBMITTER_CANNOT_SIGN_OFF
    return None


def allowed_steps(principal: Principal | None, return_: Return) -> frozenset[Step]:
    """Every step ``principal`` may take on ``return_`` now: the buttons the pages offer."""
    return frozenset(step for step in Step if refusal(principal, return_, step) is None)


def require(principal: Principal | None, return_: Return, step: Step) -> None:
    """Refuse unless ``principal`` may take ``step`` on ``return_`` now.

    :raises ReturnError: saying why not.
    """
    reason = refusal(principal, return_, step)
    if reason is not None:
        raise ReturnError(reason)
