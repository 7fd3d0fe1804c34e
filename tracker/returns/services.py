"""A council's return: assessing actions, and the draft → submitted → signed-off workflow."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.audit import record, snapshot
from tracker.clock import utcnow
from tracker.domain import workflow
from tracker.domain.periods import PERIOD_LABEL
from tracker.domain.principal import load_principal
from tracker.domain.vocabulary import ReviewState
from tracker.domain.workflow import ReturnError, Step
from tracker.extensions import db
from tracker.models import (
    ASSESSMENT_FIELDS,
    MAX_RECOMMENDATIONS,
    PRACTICE_FIELDS,
    Action,
    Assessment,
    Council,
    Period,
    Rag,
    Return,
    ReturnSnapshot,
    ReturnStatus,
    Stage,
    User,
)

#: barriers a council can record against an action (PRODUCT.md, "Scales")
BARRIERS = {
    "funding": "Funding",
    "workforce": "Workforce",
    "legislation": "Legislation or national policy",
    "partners": "Partner capacity",
    "data": "Data and digital",
    "other": "Other",
}
FUNDING_SOURCES = {
    "core_budget": "Core budget",
    "bcf": "Better Care Fund",
    "msif": "Market Sustainability and Improvement Fund",
    "public_health_grant": "Public Health Grant",
    "icb": "Integrated care board (ICB)",
    "other": "Other",
}
STAGES_NEEDING_RAG = frozenset({Stage.PLANNING, Stage.IMPLEMENTING})
#: ratings that say the action is at risk: the board reads why, so a narrative is required
RAGS_NEEDING_NARRATIVE = frozenset({Rag.RED, Rag.AMBER})
NARRATIVE_NEEDED = "Enter a narrative: Red and Amber actions need one"
#: every field of an assessment that a person edits, in the order of the form and exports
EDITABLE_FIELDS = ASSESSMENT_FIELDS
TEXT_LIMITS = {
    "not_applicable_reason": 2000,
    "narrative": 5000,
    "next_steps": 5000,
    "barrier_detail": 2000,
    "lead_officer": 120,
    "co_production_how": 2000,
    "partners": 2000,
}
MAX_AMOUNT = 10_000_000_000
#: the longest practice note and contact a council may share ("Learning from peers")
PRACTICE_NOTE_MAX = 1000
PRACTICE_CONTACT_MAX = 200
#: what the audit trail and the signed-off snapshot keep of an assessment: its answers and the
#: practice it shares
AUDITED_FIELDS = (*EDITABLE_FIELDS, *PRACTICE_FIELDS)


class AssessmentInvalid(ValueError):
    """The values break the rules of an assessment; ``errors`` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class AssessmentConflict(Exception):
    """Someone else saved the assessment since the form was loaded."""

    def __init__(self, current: Assessment, attempted: dict[str, Any]) -> None:
        self.current = current
        self.attempted = attempted
        super().__init__(f"assessment {current.id} changed since version was read")


def _has_control_characters(text: str, *, multiline: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(
        (unicodedata.category(c) == "Cc" and c not in allowed) or c in "\u2028\u2029" for c in text
    )


def _validate_practice(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The shared practice of an assessment, checked and tidied: a note is needed to share, the
    note and the contact have a length limit and no control characters; nothing else is checked
    (the contact is a role or a team mailbox, in whatever form the council chooses)."""
    shared = values.get("practice_shared") or False
    if not isinstance(shared, bool):
        errors["practice_shared"] = "Select whether to share how you did this"
        shared = False
    note = values.get("practice_note") or ""
    contact = values.get("practice_contact") or ""
    note = note.strip() if isinstance(note, str) else ""
    contact = contact.strip() if isinstance(contact, str) else ""
    if len(note) > PRACTICE_NOTE_MAX:
        errors["practice_note"] = f"Practice note must be {PRACTICE_NOTE_MAX:,} characters or fewer"
    elif _has_control_characters(note, multiline=True):
        errors["practice_note"] = "Practice note must not include control characters"
    elif shared and not note:
        errors["practice_note"] = "Enter how you did this: other councils read it when you share"
    if len(contact) > PRACTICE_CONTACT_MAX:
        errors["practice_contact"] = f"Contact must be {PRACTICE_CONTACT_MAX} characters or fewer"
    elif _has_control_characters(contact, multiline=False):
        errors["practice_contact"] = "Contact must not include control characters"
    return {"practice_shared": shared, "practice_note": note, "practice_contact": contact}


def validate_assessment(values: dict[str, Any]) -> dict[str, Any]:
    """Check and tidy one assessment's values; the same rules for forms, bulk edit and import.

    The shared practice (``PRACTICE_FIELDS``) is checked and returned only when ``values`` has
    any of it: bulk edit and spreadsheet import leave it as it is.

    :returns: the cleaned values (RAG cleared outside Planning and Implementing, text stripped).
    :raises AssessmentInvalid: naming each field that breaks a rule, in GOV.UK wording.
    """
    errors: dict[str, str] = {}
    practice = (
        _validate_practice(values, errors)
        if any(name in values for name in PRACTICE_FIELDS)
        else {}
    )
    clean = {name: values.get(name) for name in EDITABLE_FIELDS}
    for name, limit in TEXT_LIMITS.items():
        text = (clean.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = (
                f"{name.replace('_', ' ').capitalize()} must be {limit:,} characters or fewer"
            )
        clean[name] = text
    stage = clean.get("stage")
    if stage not in {s.value for s in Stage}:
        errors["stage"] = "Select how far implementation has got"
        stage = None
    rag = clean.get("rag") or None
    if rag is not None and rag not in {r.value for r in Rag}:
        errors["rag"] = "Select a RAG rating"
    if stage in STAGES_NEEDING_RAG and not rag:
        errors["rag"] = (
            "Select a RAG rating: it is needed while the action is in planning or being implemented"
        )
    if stage not in STAGES_NEEDING_RAG:
        rag = None
    clean["rag"] = rag
    if rag in RAGS_NEEDING_NARRATIVE and not clean["narrative"] and "narrative" not in errors:
        errors["narrative"] = NARRATIVE_NEEDED
    if stage == Stage.NOT_APPLICABLE and not clean["not_applicable_reason"]:
        errors["not_applicable_reason"] = "Enter why the action is not applicable locally"
    if stage != Stage.NOT_APPLICABLE:
        clean["not_applicable_reason"] = clean["not_applicable_reason"] if stage is None else ""
    barriers = clean.get("barriers") or []
    if not isinstance(barriers, list) or any(b not in BARRIERS for b in barriers):
        errors["barriers"] = "Select barriers from the list"
        barriers = []
    clean["barriers"] = sorted(set(barriers), key=list(BARRIERS).index)
    target_stage = clean.get("target_stage") or None
    if target_stage is not None and target_stage not in {s.value for s in Stage}:
        errors["target_stage"] = "Select a target stage"
    clean["target_stage"] = target_stage
    target_period = (clean.get("target_period") or "").strip() or None
    if target_period is not None and not PERIOD_LABEL.match(target_period):
        errors["target_period"] = "Enter a target period like 2026-27 Q2"
    clean["target_period"] = target_period
    spend = clean.get("spend_types") or ""
    if any(letter not in "TSCA" for letter in spend):
        errors["spend_types"] = "Select types of spend from the list"
        spend = ""
    clean["spend_types"] = "".join(letter for letter in "TSCA" if letter in spend)
    amount = clean.get("amount_pounds")
    if amount is not None and (not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT):
        errors["amount_pounds"] = (
            "Amount must be a whole number of pounds between 0 and 10,000,000,000"
        )
    source = clean.get("funding_source") or None
    if source is not None and source not in FUNDING_SOURCES:
        errors["funding_source"] = "Select a source of funding from the list"
    clean["funding_source"] = source
    co_produced = clean.get("is_co_produced")
    if co_produced not in (None, True, False):
        errors["is_co_produced"] = "Select yes if the action was co-produced"
    if co_produced is not True:
        clean["co_production_how"] = ""
    if errors:
        raise AssessmentInvalid(errors)
    clean["stage"] = stage
    return clean | practice


def is_complete(assessment: Assessment) -> bool:
    """True when the assessment has what submission needs: a stage, and its RAG or reason."""
    if assessment.stage is None:
        return False
    if assessment.stage in STAGES_NEEDING_RAG and not assessment.rag:
        return False
    return not (assessment.stage == Stage.NOT_APPLICABLE and not assessment.not_applicable_reason)


def review_state(assessment: Assessment) -> ReviewState:
    """Not yet reviewed, confirmed unchanged or updated this quarter."""
    return ReviewState.of(
        is_carried_forward=assessment.is_carried_forward,
        confirmed_at=assessment.confirmed_at,
        updated_at=assessment.updated_at,
    )


def require_step(actor: User, return_: Return, step: Step) -> None:
    """Refuse unless ``actor`` may take ``step`` on ``return_`` now: the one rule of what may
    happen next to a return (``tracker.domain.workflow``), which the pages also display.

    :raises ReturnError: saying why not.
    """
    workflow.require(load_principal(actor), return_, step)


def get_return(council: Council, period: Period) -> Return | None:
    """The council's return for the period, if the period has been opened."""
    return db.session.scalar(
        select(Return).where(Return.council_id == council.id, Return.period_id == period.id)
    )


def save_assessment(
    assessment: Assessment,
    values: dict[str, Any],
    *,
    actor: User,
    expected_version: int,
) -> Assessment:
    """Save one assessment, if nobody else has saved it since ``expected_version`` was read.

    :raises ReturnError: the return is not an open draft.
    :raises AssessmentInvalid: the values break a rule (nothing is saved).
    :raises AssessmentConflict: someone else saved it first (nothing is saved).
    """
    require_step(actor, assessment.return_, Step.EDIT)
    clean = validate_assessment(values)
    if assessment.version_id != expected_version:
        raise AssessmentConflict(assessment, clean)
    before = snapshot(assessment, list(AUDITED_FIELDS))
    for name, value in clean.items():
        setattr(assessment, name, value)
    assessment.is_carried_forward = False
    assessment.updated_at = utcnow()
    assessment.updated_by_id = actor.id
    db.session.flush()
    after = snapshot(assessment, list(AUDITED_FIELDS))
    record(
        actor=actor,
        action="assessment.update",
        object_type="assessment",
        object_id=assessment.id,
        council_id=assessment.return_.council_id,
        before={k: v for k, v in before.items() if after.get(k) != v},
        after={k: v for k, v in after.items() if before.get(k) != v},
    )
    return assessment


@dataclass
class Progress:
    """What stands between a draft and its submission."""

    #: reviewed (confirmed unchanged or updated) and complete
    assessed: int
    total: int
    #: incomplete assessments: no stage, or no RAG or reason where one is needed
    missing: list[Assessment] = field(default_factory=list)
    #: assessments nobody has reviewed this quarter
    unreviewed: list[Assessment] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not self.missing and not self.unreviewed


def plural_actions(count: int) -> str:
    return f"{count} action{'s' if count != 1 else ''}"


def unreviewed_sentence(count: int) -> str:
    """``"91 actions are not yet reviewed"``: why the return cannot be submitted yet."""
    return f"{plural_actions(count)} {'are' if count != 1 else 'is'} not yet reviewed"


def submission_refusal(unreviewed: int, missing: int) -> str | None:
    """Why a return with these counts cannot be submitted, or None when it can: the one
    sentence that the service raises and the check page shows.

    Every action must be reviewed this quarter (confirmed unchanged or updated): an answer
    carried forward that nobody has looked at is not an assessment (PRODUCT.md, "Scales").
    """
    if unreviewed:
        return (
            f"{unreviewed_sentence(unreviewed)}: confirm each one unchanged or update it "
            "before the return can be submitted"
        )
    if missing:
        return (
            f"{plural_actions(missing)} still need{'s' if missing == 1 else ''} "
            "assessing before the return can be submitted"
        )
    return None


def return_progress(return_: Return) -> Progress:
    """How many assessments are reviewed and complete, and which are not (in roadmap order)."""
    assessments = list(
        db.session.scalars(
            select(Assessment)
            .join(Action)
            .where(Assessment.return_id == return_.id)
            .options(selectinload(Assessment.action))
            .order_by(Action.code)
        )
    )
    missing = [a for a in assessments if not is_complete(a)]
    unreviewed = [a for a in assessments if not review_state(a).is_reviewed]
    blocked = {a.id for a in missing} | {a.id for a in unreviewed}
    return Progress(len(assessments) - len(blocked), len(assessments), missing, unreviewed)


def _transition(
    return_: Return, *, actor: User, action: str, to: ReturnStatus, **changes: Any
) -> Return:
    before = {"status": return_.status}
    return_.status = to
    for name, value in changes.items():
        setattr(return_, name, value)
    db.session.flush()
    record(
        actor=actor,
        action=action,
        object_type="return",
        object_id=return_.id,
        council_id=return_.council_id,
        before=before,
        after={"status": to, **{k: v for k, v in changes.items() if isinstance(v, str)}},
    )
    return return_


def submit_return(return_: Return, *, actor: User) -> Return:
    """An editor sends a complete draft to the approver.

    :raises ReturnError: the return is not an open draft, or actions are not yet reviewed or
        not yet assessed (the message counts them; :func:`submission_refusal`).
    """
    require_step(actor, return_, Step.SUBMIT)
    progress = return_progress(return_)
    refused = submission_refusal(len(progress.unreviewed), len(progress.missing))
    if refused:
        raise ReturnError(refused)
    return _transition(
        return_,
        actor=actor,
        action="return.submit",
        to=ReturnStatus.SUBMITTED,
        submitted_at=utcnow(),
        submitted_by_id=actor.id,
    )


def _frozen(return_: Return) -> dict[str, Any]:
    rows = db.session.scalars(
        select(Assessment)
        .where(Assessment.return_id == return_.id)
        .options(selectinload(Assessment.action), selectinload(Assessment.evidence))
    )
    return {
        "council": return_.council.gss_code,
        "period": return_.period.label,
        "director_summary": return_.director_summary,
        "board_recommendations": list(return_.board_recommendations or []),
        "assessments": {
            a.action.code: {
                **snapshot(a, list(AUDITED_FIELDS)),
                "evidence": [
                    {
                        "title": e.title,
                        "type": e.evidence_type,
                        "url": e.url,
                        "file": e.original_name,
                    }
                    for e in a.evidence
                ],
            }
            for a in rows
        },
    }


#: the longest Director's summary, and the longest recommendation to the board
SUMMARY_MAX = 5000
RECOMMENDATION_MAX = 500


def board_words(summary: str, recommendations: Iterable[str]) -> tuple[str, list[str]]:
    """The Director's summary and recommendations as saved: trimmed, blanks dropped.

    :raises ReturnError: too long, or more than :data:`MAX_RECOMMENDATIONS` recommendations.
    """
    summary = (summary or "").strip()
    chosen = [text.strip() for text in recommendations if text and text.strip()]
    if len(summary) > SUMMARY_MAX:
        raise ReturnError(f"The summary must be {SUMMARY_MAX:,} characters or fewer")
    if len(chosen) > MAX_RECOMMENDATIONS:
        raise ReturnError(f"Give the board {MAX_RECOMMENDATIONS} recommendations or fewer")
    if any(len(text) > RECOMMENDATION_MAX for text in chosen):
        raise ReturnError(f"Each recommendation must be {RECOMMENDATION_MAX} characters or fewer")
    return summary, chosen


def sign_off_return(
    return_: Return,
    *,
    actor: User,
    summary: str = "",
    recommendations: Iterable[str] = (),
) -> Return:
    """The approver signs off a submitted return; it is locked and frozen as it stands, with
    the Director's summary and what the board is asked to do (both optional, never invented).

    Separation of duties: whoever submitted the return (someone who is both an editor and an
    approver of the council) cannot also sign it off; another approver must.

    :raises ReturnError: the return is not submitted, the period is closed, ``actor``
        submitted it, or the summary or recommendations are too long or too many.
    """
    require_step(actor, return_, Step.SIGN_OFF)
    summary, chosen = board_words(summary, recommendations)
    return_.director_summary = summary
    return_.board_recommendations = chosen
    now = utcnow()
    db.session.add(
        ReturnSnapshot(
            return_id=return_.id, taken_at=now, signed_off_by_id=actor.id, data=_frozen(return_)
        )
    )
    return _transition(
        return_,
        actor=actor,
        action="return.sign_off",
        to=ReturnStatus.SIGNED_OFF,
        signed_off_at=now,
        signed_off_by_id=actor.id,
    )


def send_back_return(return_: Return, comment: str, *, actor: User) -> Return:
    """The approver returns a submitted return to the editors with comments.

    :raises ReturnError: the return is not submitted, or the comment is empty.
    """
    # Not in a closed period: a draft there could never be edited or submitted again.
    require_step(actor, return_, Step.SEND_BACK)
    comment = (comment or "").strip()
    if not comment:
        raise ReturnError("Enter what the editors need to change")
    return _transition(
        return_,
        actor=actor,
        action="return.send_back",
        to=ReturnStatus.DRAFT,
        returned_comment=comment[:5000],
    )


def reopen_return(return_: Return, reason: str, *, actor: User) -> Return:
    """The approver reopens a signed-off return, with a reason; its snapshot stays.

    :raises ReturnError: the return is not signed off, the period is closed, or no reason.
    """
    require_step(actor, return_, Step.REOPEN)
    reason = (reason or "").strip()
    if not reason:
        raise ReturnError("Enter why the return is being reopened")
    return _transition(
        return_,
        actor=actor,
        action="return.reopen",
        to=ReturnStatus.DRAFT,
        reopen_reason=reason[:5000],
    )


class BulkRefused(ValueError):
    """A bulk change that would break the rules for some actions, or that someone else has
    overtaken; nothing was saved.

    ``errors`` maps each action code to the message for it; ``conflicts`` lists the codes of
    actions saved by someone else since the list was loaded.
    """

    def __init__(self, errors: dict[str, str], conflicts: list[str]) -> None:
        self.errors = errors
        self.conflicts = conflicts
        super().__init__(f"{len(errors)} invalid, {len(conflicts)} changed meanwhile")


def bulk_save_assessments(
    return_: Return,
    targets: dict[str, tuple[Assessment, int]],
    changes: dict[str, Any],
    *,
    actor: User,
) -> int:
    """Give several assessments of one return the same answers, all or none of them.

    Each assessment keeps its other answers; the result goes through the same rules and audit
    as a single save (:func:`save_assessment`).

    :param targets: action code → (its assessment in ``return_``, the version the person saw).
    :param changes: the answers to set, by field name (from ``EDITABLE_FIELDS``).
    :returns: how many assessments were saved.
    :raises ReturnError: the return is not an open draft, or nothing was chosen.
    :raises BulkRefused: an action would break a rule, or changed meanwhile (nothing is saved).
    """
    require_step(actor, return_, Step.EDIT)
    if not targets or not changes:
        raise ReturnError("Choose at least one action and one answer to change")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    errors: dict[str, str] = {}
    conflicts: list[str] = []
    merged: dict[str, dict[str, Any]] = {}
    for code, (assessment, expected_version) in targets.items():
        if assessment.return_id != return_.id:
            raise ValueError(f"{code} is not in return {return_.id}")
        if assessment.version_id != expected_version:
            conflicts.append(code)
            continue
        values = {name: getattr(assessment, name) for name in EDITABLE_FIELDS} | changes
        try:
            merged[code] = validate_assessment(values)
        except AssessmentInvalid as invalid:
            errors[code] = next(iter(invalid.errors.values()))
    if errors or conflicts:
        raise BulkRefused(errors, conflicts)
    for code, values in merged.items():
        assessment, expected_version = targets[code]
        save_assessment(assessment, values, actor=actor, expected_version=expected_version)
    return len(merged)


def confirm_unchanged(
    return_: Return, targets: dict[str, tuple[Assessment, int]], *, actor: User
) -> int:
    """Someone looked at these carried-forward answers and confirms them unchanged for this
    quarter: all or none of them, each audited.

    An answer can be confirmed only while it is not yet reviewed and still meets the rules of
    an assessment (a Red or Amber rating needs a narrative): otherwise it must be updated.

    :param targets: action code → (its assessment in ``return_``, the version the person saw).
    :returns: how many assessments were confirmed.
    :raises ReturnError: the return is not an open draft, or nothing was chosen.
    :raises BulkRefused: an action cannot be confirmed, or changed meanwhile (nothing saved).
    """
    require_step(actor, return_, Step.EDIT)
    if not targets:
        raise ReturnError("Select the actions to confirm unchanged")
    errors: dict[str, str] = {}
    conflicts: list[str] = []
    for code, (assessment, expected_version) in targets.items():
        if assessment.return_id != return_.id:
            raise ValueError(f"{code} is not in return {return_.id}")
        if assessment.version_id != expected_version:
            conflicts.append(code)
        elif review_state(assessment).is_reviewed:
            errors[code] = f"{code} is already reviewed this quarter"
        elif not assessment.is_carried_forward:
            errors[code] = f"{code} has no earlier answer to confirm: assess it"
        else:
            try:
                validate_assessment({n: getattr(assessment, n) for n in EDITABLE_FIELDS})
            except AssessmentInvalid as invalid:
                errors[code] = f"{code}: {next(iter(invalid.errors.values()))}"
    if errors or conflicts:
        raise BulkRefused(errors, conflicts)
    now = utcnow()
    for code, (assessment, _version) in targets.items():
        assessment.confirmed_at = now
        assessment.confirmed_by_id = actor.id
        db.session.flush()
        record(
            actor=actor,
            action="assessment.confirm",
            object_type="assessment",
            object_id=assessment.id,
            council_id=return_.council_id,
            after={"review_state": ReviewState.CONFIRMED.value, "action": code},
        )
    return len(targets)
