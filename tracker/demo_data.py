"""The demo's quarters of returns: eight closed quarters and the current one, for every council.

``flask demo seed`` calls :func:`seed_dataset` after making the demo accounts, so that the demo
councils (Leeds, Camden, Cornwall) and their regions show real pages. ``--scale national`` adds
evidence for every council (links and small files) and co-production panel feedback, for the
benchmarks in ``bench/`` and ``docs/performance.md``.

The data is made up but shaped like the real thing: most actions move forward slowly, some go
backwards, and national long-term actions are mostly "Not applicable locally". It is
deterministic (``random.Random(2023)``), so two builds hold the same answers, and it is written
with bulk ``INSERT … executemany`` rather than through the per-assessment services, so that
153 councils × 140 actions × 9 quarters take seconds, not hours. It never writes the audit
trail for those rows (one ``demo.seed`` event says what was made).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from sqlalchemy import case, func, insert, select, update

from tracker.accounts.names import check_name
from tracker.audit import record
from tracker.clock import utcnow
from tracker.domain.periods import period_for, period_label, quarter_dates
from tracker.extensions import db
from tracker.models import (
    ASSESSMENT_FIELDS,
    Action,
    Assessment,
    Council,
    CqcEvidenceCategory,
    Evidence,
    Period,
    PeriodStatus,
    Return,
    ReturnSnapshot,
    ReturnStatus,
    Stage,
    User,
    assessment_evidence,
)

#: the seed of every random choice: the year the roadmap was published
SEED = 2023
#: ``demo``: every council's returns, evidence and panel feedback for the demo councils only;
#: ``national``: evidence and panel feedback for every council too
SCALES = ("demo", "national")
#: closed quarters before the current one
PAST_QUARTERS = 8
#: the demo councils first, so that a dataset of one council is Leeds (see council_limit)
FIRST_COUNCILS = ("E08000035", "E09000007", "E06000052")

SCALE = Stage.scale()
RAGS = ("green", "amber", "red")
BARRIER_CODES = ("funding", "workforce", "legislation", "partners", "data", "other")
FUNDING_CODES = ("core_budget", "bcf", "msif", "public_health_grant", "icb", "other")
EVIDENCE_TYPES = ("strategy", "board_paper", "data", "case_study", "co_production", "other")
LEAD_OFFICERS = (
    "Assistant Director, Adult Social Care",
    "Head of Commissioning",
    "Principal Social Worker",
    "Head of Prevention and Wellbeing",
    "Carers Lead",
    "Workforce Development Manager",
    "Head of Housing and Care",
    "Director of Adult Social Services",
)
PARTNERS = (
    "Integrated care board",
    "NHS community trust",
    "Housing associations",
    "Voluntary and community sector forum",
    "Carers centre",
    "District councils",
    "Healthwatch",
)
NARRATIVE_OPENINGS = (
    "Scoping work with partners is under way",
    "A project group met monthly this quarter",
    "The approach was agreed at the adult social care leadership team",
    "Co-production sessions with people who draw on care shaped the plan",
    "A pilot in two localities is running",
    "Recruitment to the new posts has started",
    "The business case was approved by the council's cabinet",
    "Data on demand and outcomes has been gathered",
    "The service moved into business as usual",
    "Progress slowed while funding was confirmed",
)
NARRATIVE_ENDINGS = (
    "and early feedback is positive.",
    "with a review planned for next quarter.",
    "although workforce gaps remain a risk.",
    "and the integrated care board has agreed to co-fund it.",
    "and is reported to the health and wellbeing board.",
    "but waits on national guidance.",
)
NEXT_STEPS = (
    "Report progress to the health and wellbeing board.",
    "Agree the delivery plan with the integrated care board.",
    "Extend the pilot to the rest of the county.",
    "Review the outcomes data and set targets for next year.",
    "Run two more co-production workshops.",
    "Confirm the funding for the next financial year.",
)
NOT_APPLICABLE_REASONS = (
    "This needs a change in national legislation; we contribute through the regional ADASS "
    "network.",
    "Led by government: we will act once national guidance is published.",
    "Not a council power; we feed local evidence into the national consultation.",
)


class DatasetRefused(RuntimeError):
    """The dataset will not be built here; ``str(error)`` says why."""


@dataclass
class DatasetReport:
    """What :func:`seed_dataset` made."""

    scale: str
    councils: int = 0
    periods: int = 0
    returns: int = 0
    assessments: int = 0
    snapshots: int = 0
    evidence: int = 0
    evidence_files: int = 0
    evidence_links: int = 0
    panel_feedback: int = 0
    #: why nothing was made, when nothing was
    skipped: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"Demo returns: none made ({self.skipped})."]
        return [
            f"Demo returns ({self.scale}): {self.periods} periods, {self.councils} councils, "
            f"{self.returns} returns, {self.assessments} assessments, {self.snapshots} "
            f"sign-off snapshots, {self.evidence} evidence items ({self.evidence_files} files, "
            f"{self.evidence_links} links to assessments), {self.panel_feedback} panel "
            f"comments, in {self.seconds:.1f} s.",
            *self.notes,
        ]


@dataclass
class _Plan:
    """The periods, councils and actions the dataset is for."""

    periods: list[Period]
    councils: list[Council]
    actions: list[Action]
    #: council id → (editor id, approver id) of its demo accounts, where it has them
    people: dict[int, tuple[int | None, int | None]]


def _at(day: date, rng: random.Random, *, hour_from: int = 8, hour_to: int = 18) -> datetime:
    """A naive UTC datetime on ``day`` in office hours, as the models store them."""
    return datetime.combine(day, dt_time(rng.randint(hour_from, hour_to - 1), rng.randint(0, 59)))


def _ordered_councils(limit: int | None, lead: str | None = None) -> list[Council]:
    """Active councils: ``lead`` (a GSS code) if given, the demo councils, then the rest taking
    each region in turn."""
    councils = list(
        db.session.scalars(
            select(Council).where(Council.is_active).order_by(Council.region_id, Council.gss_code)
        )
    )
    first = [c for code in FIRST_COUNCILS for c in councils if c.gss_code == code]
    rest = [c for c in councils if c.gss_code not in FIRST_COUNCILS]
    by_region: dict[int, list[Council]] = {}
    for council in rest:
        by_region.setdefault(council.region_id, []).append(council)
    interleaved: list[Council] = []
    queues = list(by_region.values())
    while any(queues):
        for queue in queues:
            if queue:
                interleaved.append(queue.pop(0))
    ordered = first + interleaved
    if lead is not None:
        ordered.sort(key=lambda c: c.gss_code != lead)  # stable: only the lead moves
    return ordered[:limit] if limit is not None else ordered


def _demo_people(councils: list[Council]) -> dict[int, tuple[int | None, int | None]]:
    """Council id → ids of its demo editor and approver (None where it has no demo accounts)."""
    from tracker.admin.demo import DEMO_COUNCILS, DEMO_EMAIL_DOMAIN

    places = dict(DEMO_COUNCILS)
    people: dict[int, tuple[int | None, int | None]] = {}
    for council in councils:
        place = places.get(council.gss_code)
        if place is None:
            continue
        ids = []
        for word in ("editor", "approver"):
            email = f"{word}.{place}@{DEMO_EMAIL_DOMAIN}"
            ids.append(db.session.scalar(select(User.id).where(User.email == email)))
        people[council.id] = (ids[0], ids[1])
    return people


def _make_periods(today: date, quarters: int) -> list[Period]:
    """``quarters`` closed periods before the one ``today`` falls in, and that one, open."""
    year, quarter = period_for(today)
    index = year * 4 + (quarter - 1)
    periods = []
    for offset in range(quarters, -1, -1):
        y, q = divmod(index - offset, 4)
        starts_on, ends_on = quarter_dates(y, q + 1)
        closes_on = ends_on + timedelta(days=31)
        is_current = offset == 0
        period = Period(
            year=y,
            quarter=q + 1,
            label=period_label(y, q + 1),
            starts_on=starts_on,
            ends_on=ends_on,
            closes_on=closes_on,
            status=PeriodStatus.OPEN if is_current else PeriodStatus.CLOSED,
            opened_at=datetime.combine(starts_on, dt_time(9, 0)),
            closed_at=None if is_current else datetime.combine(closes_on, dt_time(18, 0)),
            reminder_sent_at=None
            if is_current
            else datetime.combine(closes_on - timedelta(days=7), dt_time(7, 0)),
        )
        db.session.add(period)
        periods.append(period)
    db.session.flush()
    return periods


# -- how an action moves from quarter to quarter ------------------------------------------------


def _first_stage(action: Action, pace: float, rng: random.Random) -> str:
    """Where a council stood on an action in the first quarter of the dataset."""
    lead, timeframe = action.lead, action.timeframe or "medium"
    if lead == "national":
        not_applicable = 0.85 if timeframe == "long" else 0.6
        if rng.random() < not_applicable:
            return Stage.NOT_APPLICABLE
    weights = {
        "short": (0.25, 0.35, 0.3, 0.1),
        "medium": (0.45, 0.35, 0.15, 0.05),
        "long": (0.7, 0.25, 0.05, 0.0),
    }[timeframe]
    # A faster council starts further on.
    shifted = [w * (1 + pace * i) for i, w in enumerate(weights)]
    return rng.choices(SCALE, weights=shifted)[0].value


def _next_stage(stage: str, action: Action, pace: float, rng: random.Random) -> str:
    """Next quarter's stage: mostly unchanged, sometimes one step on, now and then one back."""
    if stage == Stage.NOT_APPLICABLE:
        return Stage.PLANNING.value if rng.random() < 0.01 else stage
    position = [s.value for s in SCALE].index(stage)
    roll = rng.random()
    forward = 0.07 + 0.08 * pace
    if roll < forward and position < len(SCALE) - 1:
        return SCALE[position + 1].value
    if roll > 0.975 and position > 0:
        return SCALE[position - 1].value
    return stage


def _rag(previous: str | None, rng: random.Random) -> str:
    if previous and rng.random() < 0.75:
        return previous
    return rng.choices(RAGS, weights=(0.5, 0.35, 0.15))[0]


def _answers(
    action: Action,
    stage: str,
    rag: str | None,
    label: str,
    council: Council,
    rng: random.Random,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """Every field of one assessment (the names of ASSESSMENT_FIELDS)."""
    if previous and previous["stage"] == stage and rng.random() < 0.6:
        # Often nothing but the RAG changes: the text stays as it was.
        return {**previous, "rag": rag}
    values: dict[str, Any] = {name: "" for name in ASSESSMENT_FIELDS}
    values.update(
        stage=stage,
        rag=rag,
        barriers=[],
        target_stage=None,
        target_period=None,
        is_co_produced=None,
        amount_pounds=None,
        funding_source=None,
        spend_types="",
    )
    if stage == Stage.NOT_APPLICABLE:
        values["not_applicable_reason"] = rng.choice(NOT_APPLICABLE_REASONS)
        return values
    values["narrative"] = (
        f"{rng.choice(NARRATIVE_OPENINGS)} in {council.short_name} ({label}), "
        f"{rng.choice(NARRATIVE_ENDINGS)}"
    )
    values["lead_officer"] = rng.choice(LEAD_OFFICERS)
    if stage != Stage.EMBEDDED:
        values["next_steps"] = rng.choice(NEXT_STEPS)
        position = [s.value for s in SCALE].index(stage)
        values["target_stage"] = SCALE[min(position + 1, 3)].value
        year, quarter = int(label[:4]), int(label[-1])
        ahead = year * 4 + quarter - 1 + rng.randint(2, 8)
        values["target_period"] = period_label(ahead // 4, ahead % 4 + 1)
    barrier_count = {"red": 2, "amber": 1}.get(rag or "", 0) + (rng.random() < 0.2)
    values["barriers"] = sorted(rng.sample(BARRIER_CODES, barrier_count), key=BARRIER_CODES.index)
    if values["barriers"]:
        values["barrier_detail"] = "Vacancies and one-year funding make planning hard."
    values["is_co_produced"] = rng.random() < 0.35
    if values["is_co_produced"]:
        values["co_production_how"] = "Designed with the council's co-production panel."
    if action.lead == "system" or rng.random() < 0.3:
        values["partners"] = ", ".join(rng.sample(PARTNERS, 2))
    if stage in (Stage.IMPLEMENTING, Stage.EMBEDDED) and rng.random() < 0.5:
        values["spend_types"] = (
            "".join(
                letter
                for letter in "TSCA"
                if letter in (action.spend_types or "TS") and rng.random() < 0.7
            )
            or "T"
        )
        values["amount_pounds"] = rng.randrange(10_000, 2_000_000, 5_000)
        values["funding_source"] = rng.choice(FUNDING_CODES)
    return values


# -- the build ----------------------------------------------------------------------------------


def seed_dataset(
    scale: str = "demo",
    *,
    council_limit: int | None = None,
    lead_council: str | None = None,
    quarters: int = PAST_QUARTERS,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> DatasetReport:
    """Make the periods and every council's returns (flushed, not committed).

    ``quarters`` closed periods before the current quarter, each with a signed-off return for
    every council (and its sign-off snapshot), then the current quarter, open, with drafts
    carried forward (a few councils have already submitted). Skips, making nothing, when the
    database already has any period: the demo never mixes with someone's own periods.

    :param scale: one of :data:`SCALES`.
    :param council_limit: only the first this many councils (the demo councils first), for the
        benchmarks' query counts at 1 and 10 councils.
    :param lead_council: the GSS code of a council to put before the demo councils (the
        benchmark's one-council dataset for a London page is a London council).
    :raises DatasetRefused: for an unknown scale, or when the roadmap or councils are not loaded.
    """
    if scale not in SCALES:
        raise DatasetRefused(f"Unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    report = DatasetReport(scale=scale)
    if db.session.scalar(select(func.count(Period.id))):
        report.skipped = "the database already has periods"
        return report
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    councils = _ordered_councils(council_limit, lead_council)
    actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
        )
    )
    if not councils or not actions:
        raise DatasetRefused(
            "Load the roadmap and councils first: flask roadmap load, councils load"
        )
    today = utcnow().date()
    periods = _make_periods(today, quarters)
    plan = _Plan(periods, councils, actions, _demo_people(councils))
    report.councils, report.periods = len(councils), len(periods)
    say(f"{len(periods)} periods, {len(councils)} councils, {len(actions)} actions")

    returns = _insert_returns(plan, rng, today, report)
    say(f"{report.returns} returns, {report.assessments} assessments")
    with_evidence = (
        councils if scale == "national" else [c for c in councils if c.gss_code in FIRST_COUNCILS]
    )
    _insert_evidence(plan, with_evidence, returns, rng, report, with_files=True)
    categorised = tag_cqc_categories(with_evidence)
    say(f"{report.evidence} evidence items, {categorised} with a CQC evidence category")
    shared_practice = seed_shared_practice(plan)
    report.notes.append(f"Shared practice: {shared_practice} assessments of demo councils.")
    _insert_snapshots(plan, returns, report)
    say(f"{report.snapshots} snapshots")
    # The demo scale adds no accounts: the demo panel member writes its councils' comments.
    report.panel_feedback = seed_panel_feedback(
        plan,
        councils if scale == "national" else with_evidence,
        rng,
        members=3 if scale == "national" else 1,
    )
    record(
        actor=None,
        action="demo.seed",
        object_type="dataset",
        object_id=scale,
        after={
            "councils": report.councils,
            "returns": report.returns,
            "assessments": report.assessments,
        },
    )
    db.session.flush()
    report.seconds = time.perf_counter() - started
    return report


#: (council id, period id) → (return id, {action id: assessment values})
_Returns = dict[tuple[int, int], tuple[int, dict[int, dict[str, Any]]]]


#: the Director's words with the demo's signed-off returns for its first councils (the sign-off
#: page asks for them; other councils' Directors left them empty, as many will)
DEMO_SUMMARY = (
    "Progress this quarter was steady. Work with carers and on direct payments moved on, and "
    "the co-production panel helped shape the new information offer.\n"
    "Recruitment remains the main risk: three actions are Red because posts are unfilled."
)
DEMO_RECOMMENDATIONS = [
    "Note the progress made on the roadmap this quarter",
    "Agree to fund two care navigator posts from April",
    "Ask the integrated care board to report on shared workforce plans at the next meeting",
]


def _board_words(council: Council, status: ReturnStatus) -> dict[str, Any]:
    first = council.gss_code in FIRST_COUNCILS and status == ReturnStatus.SIGNED_OFF
    return {
        "director_summary": DEMO_SUMMARY if first else "",
        "board_recommendations": list(DEMO_RECOMMENDATIONS) if first else [],
    }


def _insert_returns(
    plan: _Plan, rng: random.Random, today: date, report: DatasetReport
) -> _Returns:
    current = plan.periods[-1]
    made: _Returns = {}
    now = datetime.combine(today, dt_time(0, 0))
    for council in plan.councils:
        pace = rng.random()
        editor_id, approver_id = plan.people.get(council.id, (None, None))
        states: dict[int, dict[str, Any]] = {}
        previous_return: int | None = None
        return_rows = []
        for period in plan.periods:
            is_current = period is current
            if is_current:
                # Camden has handed its return in; so have some others. The rest are drafts.
                handed_in = council.gss_code == "E09000007" or (
                    council.gss_code not in FIRST_COUNCILS and rng.random() < 0.08
                )
                status = ReturnStatus.SUBMITTED if handed_in else ReturnStatus.DRAFT
            else:
                status = ReturnStatus.SIGNED_OFF
            submitted_at = signed_off_at = None
            if status != ReturnStatus.DRAFT:
                submitted_at = _at(
                    min(period.ends_on + timedelta(days=rng.randint(5, 20)), today), rng
                )
                if is_current:
                    submitted_at = min(submitted_at, now - timedelta(days=3))
            if status == ReturnStatus.SIGNED_OFF:
                signed_off_at = submitted_at + timedelta(days=rng.randint(1, 6))
            return_rows.append(
                {
                    "council_id": council.id,
                    "period_id": period.id,
                    "status": status.value,
                    "carried_from_id": None,
                    "created_at": period.opened_at,
                    "submitted_at": submitted_at,
                    "submitted_by_id": editor_id if submitted_at else None,
                    "signed_off_at": signed_off_at,
                    "signed_off_by_id": approver_id if signed_off_at else None,
                    "returned_comment": "",
                    "reopen_reason": "",
                    **_board_words(council, status),
                    "version_id": 1,
                }
            )
        ids = list(
            db.session.scalars(
                insert(Return).returning(Return.id, sort_by_parameter_order=True), return_rows
            )
        )
        assessment_rows = []
        confirm_rng = random.Random(f"confirm-{council.gss_code}")  # noqa: S311 (made-up data)
        for period, return_id, row in zip(plan.periods, ids, return_rows, strict=True):
            is_current = period is current
            if previous_return is not None:
                db.session.execute(
                    Return.__table__.update()
                    .where(Return.__table__.c.id == return_id)
                    .values(carried_from_id=previous_return)
                )
            values_by_action: dict[int, dict[str, Any]] = {}
            for action in plan.actions:
                before = states.get(action.id)
                touched = (
                    not is_current or row["status"] != ReturnStatus.DRAFT or (rng.random() < 0.35)
                )
                if before is not None and is_current and not touched:
                    values = dict(before)
                else:
                    stage = (
                        _first_stage(action, pace, rng)
                        if before is None
                        else _next_stage(before["stage"], action, pace, rng)
                    )
                    rag = (
                        _rag(before["rag"] if before else None, rng)
                        if stage in (Stage.PLANNING, Stage.IMPLEMENTING)
                        else None
                    )
                    values = _answers(action, stage, rag, period.label, council, rng, before)
                states[action.id] = values
                values_by_action[action.id] = values
                updated_on = min(
                    period.ends_on - timedelta(days=rng.randint(0, 40)), today - timedelta(days=1)
                )
                carried = is_current and before is not None and not touched
                # About a third of what was carried forward has been looked at and confirmed
                # unchanged, so the open quarter shows all three review states. A separate
                # generator keeps the rest of the demo exactly as it was.
                confirmed = (
                    carried and confirm_rng.random() < 0.35 and values.get("stage") is not None
                )
                assessment_rows.append(
                    {
                        "return_id": return_id,
                        "action_id": action.id,
                        **values,
                        "is_carried_forward": carried,
                        "updated_at": None
                        if carried
                        else _at(max(updated_on, period.starts_on), rng),
                        "updated_by_id": None if carried else editor_id,
                        "confirmed_at": _at(today - timedelta(days=2), confirm_rng)
                        if confirmed
                        else None,
                        "confirmed_by_id": editor_id if confirmed else None,
                        "version_id": 1 if carried else 2,
                    }
                )
            made[(council.id, period.id)] = (return_id, values_by_action)
            previous_return = return_id
        db.session.execute(insert(Assessment.__table__), assessment_rows)
        report.returns += len(ids)
        report.assessments += len(assessment_rows)
    return made


def _evidence_file(council: Council, title: str, rng: random.Random) -> tuple[bytes, str, str]:
    """A small, valid file: (bytes, original name, content type)."""
    if rng.random() < 0.5:
        text = (
            "quarter,council,measure,value\n"
            f"2025-26 Q1,{council.gss_code},people supported,{rng.randint(100, 9000)}\n"
        )
        return text.encode(), "measures.csv", "text/csv"
    body = f"%PDF-1.4\n% {title} - {council.short_name} (demo)\n%%EOF\n".encode()
    return body, "board-paper.pdf", "application/pdf"


def _insert_evidence(
    plan: _Plan,
    councils: list[Council],
    returns: _Returns,
    rng: random.Random,
    report: DatasetReport,
    *,
    with_files: bool,
) -> None:
    """About a dozen evidence items per council, linked to assessments from their quarter on."""
    from tracker import storage

    store = storage.store() if with_files else None
    action_ids = [a.id for a in plan.actions]
    for council in councils:
        editor_id, _approver = plan.people.get(council.id, (None, None))
        evidence_rows, link_plan = [], []
        for number in range(rng.randint(8, 16)):
            period_index = rng.randrange(len(plan.periods))
            period = plan.periods[period_index]
            kind = rng.choice(EVIDENCE_TYPES)
            title = f"{kind.replace('_', ' ').capitalize()} {number + 1}: {council.short_name}"
            row: dict[str, Any] = {
                "council_id": council.id,
                "title": title,
                "evidence_type": kind,
                "dated_on": period.starts_on + timedelta(days=rng.randint(0, 80)),
                "url": None,
                "stored_name": None,
                "original_name": None,
                "content_type": None,
                "size_bytes": None,
                "sha256": None,
                "is_published_to_panel": rng.random() < 0.4,
                "created_at": datetime.combine(period.starts_on, dt_time(10, 0)),
                "created_by_id": editor_id,
            }
            if store is not None and number == 0:
                data, name, content_type = _evidence_file(council, title, rng)
                stored = uuid.UUID(int=rng.getrandbits(128)).hex
                store.save(f"evidence/{stored}", data)
                row.update(
                    stored_name=stored,
                    original_name=name,
                    content_type=content_type,
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
                report.evidence_files += 1
            else:
                row["url"] = (
                    f"https://www.example.org/{council.gss_code.lower()}/evidence-{number + 1}"
                )
            evidence_rows.append(row)
            linked_actions = rng.sample(action_ids, rng.randint(1, 3))
            link_plan.append((period_index, linked_actions))
        ids = list(
            db.session.scalars(
                insert(Evidence).returning(Evidence.id, sort_by_parameter_order=True),
                evidence_rows,
            )
        )
        report.evidence += len(ids)
        # Linked to the assessments of those actions from the evidence's quarter to the current.
        assessment_ids = {
            (period_id, action_id): assessment_id
            for assessment_id, period_id, action_id in db.session.execute(
                select(Assessment.id, Return.period_id, Assessment.action_id)
                .join(Return, Assessment.return_id == Return.id)
                .where(Return.council_id == council.id)
            )
        }
        links = []
        for evidence_id, (index, actions) in zip(ids, link_plan, strict=True):
            for later in range(index, len(plan.periods)):
                for action_id in actions:
                    key = (plan.periods[later].id, action_id)
                    if key in assessment_ids:
                        links.append(
                            {"assessment_id": assessment_ids[key], "evidence_id": evidence_id}
                        )
        unique = list({(x["assessment_id"], x["evidence_id"]): x for x in links}.values())
        if unique:
            db.session.execute(insert(assessment_evidence), unique)
        report.evidence_links += len(unique)


# -- shared practice ("Learning from peers") --------------------------------------------------

#: the demo councils that share how they embedded some actions, with the contact they give
DEMO_PRACTICE_CONTACTS = {
    "E08000035": "Head of Prevention, Leeds City Council",
    "E09000007": "Strengths-based practice lead, Adult Social Care, London Borough of Camden",
    "E06000052": "Commissioning Manager, Prevention and Early Help, Cornwall Council",
    "E08000036": "adultsocialcare.improvement@wakefield.example",
    "E08000003": "Principal Social Worker, Manchester City Council",
    "E06000023": "Head of Service, Community Support, Bristol City Council",
    "E10000014": "Transformation Programme Manager, Adults' Health and Care, Hampshire",
    "E08000021": "Carers and Prevention Lead, Newcastle City Council",
}
#: what they say, one note for each action they share (in turn)
DEMO_PRACTICE_NOTES = (
    "We started with one locality team and a three-month test of change. Conversations at the "
    "front door now begin with what matters to the person; the share of contacts resolved "
    "without a formal assessment went from 38% to 61% in a year. What made it work: protected "
    "time for practice supervision, and the ICB funding two community connector posts.",
    "Co-produced with our carers' reference group from the start: they chose the measures and "
    "sit on the steering group. We moved the budget into a pooled BCF line so that health and "
    "care partners could not each wait for the other. Happy to share the terms of reference.",
    "We mapped every route into the service and closed three duplicate ones. A single "
    "information and advice offer with the voluntary sector, jointly commissioned, replaced "
    "seven small contracts. The board report and the evaluation are on our website.",
    "The key step was agreeing one outcomes framework with housing and the NHS trust, reviewed "
    "quarterly at the health and wellbeing board. We kept it to eight measures that people "
    "who draw on care helped write, and report them in plain words.",
    "Small grants (up to £5,000) to community groups, decided by a panel that includes people "
    "who draw on care. Two rounds a year, a one-page form, and an officer who visits every "
    "applicant. Seventy groups funded so far; most are still running after two years.",
    "A joint workforce plan with the ICB: rotational posts across hospital discharge and "
    "reablement, and a shared induction. Vacancy rates in reablement fell from 22% to 9%. "
    "The job descriptions and the evaluation are ready to share.",
)
#: how many of its Embedded actions each sharing council shares
DEMO_PRACTICE_ACTIONS = 4


def seed_shared_practice(plan: _Plan) -> int:
    """Let the demo councils of :data:`DEMO_PRACTICE_CONTACTS` share how they embedded the
    first :data:`DEMO_PRACTICE_ACTIONS` actions (by code) that are Embedded in their latest
    submitted or signed-off return, with a note and their contact; the same on any later draft,
    as carrying forward would. The first actions by code are Embedded in many councils, so
    several councils share on the same action and the roadmap in practice names more than one.

    :returns: how many assessments of a submitted or signed-off return now share practice.
    """
    shared_statuses = [s.value for s in ReturnStatus if s.is_shared]
    order = {period.id: index for index, period in enumerate(plan.periods)}
    shared = 0
    for turn, council in enumerate(
        c for c in plan.councils if c.gss_code in DEMO_PRACTICE_CONTACTS
    ):
        returns = db.session.execute(
            select(Return.id, Return.period_id, Return.status).where(
                Return.council_id == council.id
            )
        ).all()
        latest = max(
            (r for r in returns if r.status in shared_statuses),
            key=lambda r: order.get(r.period_id, -1),
            default=None,
        )
        if latest is None:
            continue
        action_ids = list(
            db.session.scalars(
                select(Assessment.action_id)
                .join(Action, Action.id == Assessment.action_id)
                .where(
                    Assessment.return_id == latest.id,
                    Assessment.stage == Stage.EMBEDDED.value,
                )
                .order_by(Action.code)
                .limit(DEMO_PRACTICE_ACTIONS)
            )
        )
        later = [r.id for r in returns if order.get(r.period_id, -1) >= order[latest.period_id]]
        for index, action_id in enumerate(action_ids):
            note = DEMO_PRACTICE_NOTES[(turn + index) % len(DEMO_PRACTICE_NOTES)]
            db.session.execute(
                update(Assessment)
                .where(Assessment.return_id.in_(later), Assessment.action_id == action_id)
                .values(
                    practice_shared=True,
                    practice_note=note,
                    practice_contact=DEMO_PRACTICE_CONTACTS[council.gss_code],
                )
            )
        shared += len(action_ids)
    db.session.flush()
    return shared


#: evidence type → the CQC evidence category the demo gives it (tracker.models.CqcEvidenceCategory)
DEMO_CQC_CATEGORIES = {
    "co_production": CqcEvidenceCategory.PEOPLES_EXPERIENCE,
    "case_study": CqcEvidenceCategory.PEOPLES_EXPERIENCE,
    "board_paper": CqcEvidenceCategory.STAFF_AND_LEADERS,
    "other": CqcEvidenceCategory.PARTNERS,
    "strategy": CqcEvidenceCategory.PROCESSES,
    "data": CqcEvidenceCategory.PROCESSES,
}


def tag_cqc_categories(councils: list[Council]) -> int:
    """Give the councils' evidence a CQC evidence category from its type, leaving every fourth
    item (by id) uncategorised, as a council part way through tagging would: the CQC view then
    shows evidence in each category and some not yet categorised. One UPDATE, no randomness
    (the rest of the demo draws the same numbers with or without it).

    :returns: how many items were given a category.
    """
    if not councils:
        return 0
    category = case(
        *(
            (Evidence.evidence_type == kind, value.value)
            for kind, value in DEMO_CQC_CATEGORIES.items()
        ),
        else_=None,
    )
    result = db.session.execute(
        update(Evidence)
        .where(Evidence.council_id.in_([c.id for c in councils]), Evidence.id % 4 != 0)
        .values(cqc_category=category)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _insert_snapshots(plan: _Plan, returns: _Returns, report: DatasetReport) -> None:
    """The frozen copy of every signed-off return, as sign-off makes it (services._frozen)."""
    codes = {a.id: a.code for a in plan.actions}
    rows = []
    for period in plan.periods[:-1]:
        for council in plan.councils:
            return_id, values = returns[(council.id, period.id)]
            _editor, approver_id = plan.people.get(council.id, (None, None))
            data = {
                "council": council.gss_code,
                "period": period.label,
                **_board_words(council, ReturnStatus.SIGNED_OFF),
                "assessments": {
                    codes[action_id]: {
                        **{name: answers.get(name) for name in ASSESSMENT_FIELDS},
                        "evidence": [],
                    }
                    for action_id, answers in values.items()
                },
            }
            rows.append(
                {
                    "return_id": return_id,
                    "taken_at": datetime.combine(period.closes_on, dt_time(9, 0)),
                    "signed_off_by_id": approver_id,
                    "data": data,
                }
            )
        if len(rows) >= 200:
            db.session.execute(insert(ReturnSnapshot.__table__), rows)
            report.snapshots += len(rows)
            rows = []
    if rows:
        db.session.execute(insert(ReturnSnapshot.__table__), rows)
        report.snapshots += len(rows)


PANEL_NAMES = ("Carer from the north", "Expert by experience", "Member of the carers forum")
COMMENTS = (
    "How will people who draw on care be involved in the next stage?",
    "Carers told us the new service is hard to find. What is being done about that?",
    "This has been Red for two quarters. What help does the council need?",
    "Good to see progress. Can the panel see the evaluation when it is ready?",
    "Please explain what 'embedded' means for people using the service.",
    "Is there an easy read version of this update?",
)
ANSWERS = (
    "Thank you. We will bring the plan to the panel's next meeting.",
    "We have added the service to the council's website and the carers centre's leaflets.",
    "We have asked the integrated care board to co-fund the posts; we will report back.",
)


def seed_panel_feedback(
    plan: _Plan, councils: list[Council], rng: random.Random, *, members: int = 3
) -> int:
    """Co-production panel comments on submitted and signed-off returns, most of them answered
    by the council (some "you said, we did"). ``members`` panel members per council (the demo
    panel member is one of them in the demo councils); the others are demo accounts with no
    password, so nobody can sign in as them.

    :returns: how many comments were made.
    """
    from tracker.admin.demo import DEMO_COUNCILS, DEMO_EMAIL_DOMAIN
    from tracker.models import Membership, Role
    from tracker.models.panels import Comment, CommentAnswer, PanelProfile

    demo_places = dict(DEMO_COUNCILS)
    made = 0
    for council in councils:
        editor_id, _approver = plan.people.get(council.id, (None, None))
        user_ids: list[int] = []
        place = demo_places.get(council.gss_code)
        if place is not None:
            demo_panel = db.session.scalar(
                select(User.id).where(User.email == f"panel.{place}@{DEMO_EMAIL_DOMAIN}")
            )
            if demo_panel is not None:
                user_ids.append(demo_panel)
        for number in range(max(0, members - len(user_ids))):
            # Made directly rather than through create_user (no audit rows for 400 demo
            # people), so the name rule is applied here.
            name = f"Panel member {number + 1} ({council.short_name}, demo)"
            check_name(name)
            user = User(
                email=f"panel{number + 1}.{council.gss_code.lower()}@{DEMO_EMAIL_DOMAIN}",
                display_name=name,
                password_hash=None,
                is_active=True,
                is_demo=True,
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                Membership(user_id=user.id, role=Role.PANEL_MEMBER.value, council_id=council.id)
            )
            user_ids.append(user.id)
        if not user_ids:
            continue
        profile_ids = list(
            db.session.scalars(
                insert(PanelProfile).returning(PanelProfile.id, sort_by_parameter_order=True),
                [
                    {
                        "user_id": user_id,
                        "council_id": council.id,
                        "display_name": PANEL_NAMES[index],
                        "is_real_name_shown": False,
                        "is_notified_by_email": False,
                    }
                    for index, user_id in enumerate(user_ids)
                ],
            )
        )
        comment_rows, answer_plan = [], []
        for period in plan.periods:
            return_id = db.session.scalar(
                select(Return.id).where(
                    Return.council_id == council.id,
                    Return.period_id == period.id,
                    Return.status != ReturnStatus.DRAFT,
                )
            )
            if return_id is None:
                continue
            for _ in range(rng.randint(2, 6)):
                day = period.closes_on + timedelta(days=rng.randint(0, 20))
                created = _at(min(day, utcnow().date() - timedelta(days=1)), rng)
                comment_rows.append(
                    {
                        "council_id": council.id,
                        "return_id": return_id,
                        "action_id": rng.choice(plan.actions).id,
                        "profile_id": rng.choice(profile_ids),
                        "parent_id": None,
                        "body": rng.choice(COMMENTS),
                        "created_at": created,
                        "hidden_reason": "",
                        "version_id": 1,
                    }
                )
                answer_plan.append((created, rng.random()))
        if not comment_rows:
            continue
        comment_ids = list(
            db.session.scalars(
                insert(Comment).returning(Comment.id, sort_by_parameter_order=True), comment_rows
            )
        )
        answers = []
        for comment_id, (created, roll) in zip(comment_ids, answer_plan, strict=True):
            if roll < 0.75:
                you_said = roll < 0.25
                answers.append(
                    {
                        "comment_id": comment_id,
                        "author_id": editor_id,
                        "body": rng.choice(ANSWERS),
                        "is_you_said_we_did": you_said,
                        "change_made": "Added an easy read summary to each update."
                        if you_said
                        else "",
                        "answered_at": created + timedelta(days=rng.randint(1, 20)),
                    }
                )
        if answers:
            db.session.execute(insert(CommentAnswer), answers)
        made += len(comment_ids)
        if council.gss_code in FIRST_COUNCILS:
            _seed_panel_views(
                council, profile_ids, plan.people.get(council.id, (None, None))[1], rng
            )
    return made


#: what the demo panel members say about whether an action is happening, most often first
DEMO_VIEWS = ("yes", "yes", "partly", "partly", "not_yet", "dont_know")


def _seed_panel_views(
    council: Council, profile_ids: list[int], approver_id: int | None, rng: random.Random
) -> None:
    """The panel's own view of twelve actions of the council's latest signed-off return: each
    member's answer, and two more views the approver recorded from a panel meeting, so that the
    dashboard and the board paper show it (three answers or more)."""
    from tracker.models import PanelView

    latest = db.session.scalar(
        select(Return.id)
        .join(Period, Period.id == Return.period_id)
        .where(Return.council_id == council.id, Return.status == ReturnStatus.SIGNED_OFF)
        .order_by(Period.year.desc(), Period.quarter.desc())
        .limit(1)
    )
    if latest is None:
        return
    action_ids = list(
        db.session.scalars(
            select(Assessment.action_id)
            .where(Assessment.return_id == latest)
            .order_by(Assessment.action_id)
            .limit(12)
        )
    )
    now = utcnow()
    meeting = now.date() - timedelta(days=14)
    rows = []
    for action_id in action_ids:
        answerers = [(profile_id, False) for profile_id in profile_ids]
        answerers += [(None, True), (None, True)] if approver_id else []
        for profile_id, at_meeting in answerers:
            rows.append(
                {
                    "return_id": latest,
                    "action_id": action_id,
                    "profile_id": profile_id,
                    "answer": rng.choice(DEMO_VIEWS),
                    "comment": "",
                    "recorded_by_id": approver_id if at_meeting else None,
                    "on_behalf": at_meeting,
                    "meeting_on": meeting if at_meeting else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if rows:
        db.session.execute(insert(PanelView), rows)


def dataset_fingerprint() -> str:
    """A SHA-256 of the dataset's answers, for the determinism test: the same seed, the same
    fingerprint, on any database."""
    digest = hashlib.sha256()
    rows = db.session.execute(
        select(
            Council.gss_code,
            Period.label,
            Return.status,
            Action.code,
            Assessment.stage,
            Assessment.rag,
            Assessment.narrative,
            Assessment.barriers,
        )
        .join(Return, Assessment.return_id == Return.id)
        .join(Council, Return.council_id == Council.id)
        .join(Period, Return.period_id == Period.id)
        .join(Action, Assessment.action_id == Action.id)
        .order_by(Council.gss_code, Period.year, Period.quarter, Action.code)
    )
    for row in rows:
        digest.update(json.dumps(list(row), default=str).encode())
    return digest.hexdigest()


__all__ = ["SCALES", "DatasetRefused", "DatasetReport", "dataset_fingerprint", "seed_dataset"]
