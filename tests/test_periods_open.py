"""Opening a period: the set-based copy carries forward exactly what the row-by-row one did.

``open_period_row_by_row`` below is ``open_period`` as it was before it became three
``INSERT … SELECT`` statements (git history of tracker/returns/periods.py); each test opens the
same period with both, on the same rows, and compares every return, assessment and evidence
link they made.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tests.test_evidence_services import CORNWALL, LEEDS, WAKEFIELD
from tracker.audit import record
from tracker.clock import utcnow
from tracker.domain.periods import PeriodError
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    AuditEvent,
    Council,
    Evidence,
    Period,
    PeriodStatus,
    Return,
    ReturnStatus,
    User,
    assessment_evidence,
)
from tracker.returns.periods import (
    CARRIED_FIELDS,
    OpenReport,
    _latest_earlier_returns,
    create_period,
    open_period,
)

#: Barnsley and Bradford: one carried from an older quarter, one never opened before
BARNSLEY, BRADFORD, CALDERDALE = "E08000038", "E08000032", "E08000033"
CODES = [LEEDS, WAKEFIELD, CORNWALL, BARNSLEY, BRADFORD, CALDERDALE]


def open_period_row_by_row(period: Period, *, actor: User | None) -> OpenReport:
    """``open_period`` before it was set-based: the reference the new one is compared with."""
    if period.status != PeriodStatus.UPCOMING:
        raise PeriodError(f"{period.label} is already {period.status}")
    now = utcnow()
    period.status = PeriodStatus.OPEN
    period.opened_at = now
    report = OpenReport()
    action_ids = list(
        db.session.scalars(
            select(Action.id)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.id)
        )
    )
    councils = list(db.session.scalars(select(Council).where(Council.is_active)))
    existing = set(
        db.session.scalars(select(Return.council_id).where(Return.period_id == period.id))
    )
    earlier = _latest_earlier_returns(period)
    source_rows: dict[int, dict[int, dict]] = {}
    if earlier:
        columns = [getattr(Assessment, name) for name in CARRIED_FIELDS]
        for row in db.session.execute(
            select(Assessment.return_id, Assessment.action_id, Assessment.id, *columns).where(
                Assessment.return_id.in_(earlier.values())
            )
        ):
            values = dict(zip(CARRIED_FIELDS, row[3:], strict=True))
            values["_source_id"] = row.id
            source_rows.setdefault(row.return_id, {})[row.action_id] = values
    for council in councils:
        if council.id in existing:
            continue
        carried_from = earlier.get(council.id)
        return_ = Return(
            council_id=council.id,
            period_id=period.id,
            status=ReturnStatus.DRAFT,
            carried_from_id=carried_from,
        )
        db.session.add(return_)
        db.session.flush()
        report.returns_created += 1
        previous = source_rows.get(carried_from, {}) if carried_from else {}
        new_rows, sources = [], []
        for action_id in action_ids:
            values = dict(previous.get(action_id) or {})
            source_id = values.pop("_source_id", None)
            row = {
                "return_id": return_.id,
                "action_id": action_id,
                "is_carried_forward": source_id is not None,
                "version_id": 1,
                **{name: values.get(name) for name in CARRIED_FIELDS},
            }
            for name in (
                "not_applicable_reason",
                "narrative",
                "next_steps",
                "barrier_detail",
                "lead_officer",
                "co_production_how",
                "partners",
                "spend_types",
            ):
                row[name] = row[name] or ""
            row["barriers"] = row["barriers"] or []
            new_rows.append(row)
            sources.append(source_id)
            report.carried_forward += source_id is not None
        db.session.execute(insert(Assessment), new_rows)
        report.assessments_created += len(new_rows)
        if any(sources):
            source_ids = [s for s in sources if s]
            links = db.session.execute(
                select(
                    assessment_evidence.c.assessment_id, assessment_evidence.c.evidence_id
                ).where(assessment_evidence.c.assessment_id.in_(source_ids))
            ).all()
            if links:
                new_ids = dict(
                    db.session.execute(
                        select(Assessment.action_id, Assessment.id).where(
                            Assessment.return_id == return_.id
                        )
                    ).all()
                )
                by_source = dict(zip(sources, action_ids, strict=True))
                db.session.execute(
                    insert(assessment_evidence),
                    [
                        {"assessment_id": new_ids[by_source[source]], "evidence_id": evidence}
                        for source, evidence in links
                    ],
                )
    db.session.flush()
    record(
        actor=actor,
        action="period.open",
        object_type="period",
        object_id=period.id,
        before={"status": PeriodStatus.UPCOMING},
        after={"status": PeriodStatus.OPEN, "returns_created": report.returns_created},
    )
    return report


# -- a world with history ----------------------------------------------------------------------


def council_ids(codes: list[str]) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Council.gss_code, Council.id).where(Council.gss_code.in_(codes))
        ).all()
    )


def only_active(codes: list[str]) -> None:
    """Only the councils of ``codes`` are active (opening a period for 153 takes longer)."""
    db.session.execute(update(Council).values(is_active=Council.gss_code.in_(codes)))


def open_for(label: str, codes: list[str], closes_on: date) -> Period:
    only_active(codes)
    period = create_period(label, closes_on, actor=None)
    open_period(period, actor=None)
    db.session.flush()
    return period


def vary(period: Period, seed: int) -> None:
    """Give the period's assessments varied answers, some evidence, and drop a few (as if the
    action were new since), so that carrying forward has something to get wrong."""
    rows = db.session.scalars(
        select(Assessment)
        .join(Return, Assessment.return_id == Return.id)
        .where(Return.period_id == period.id)
        .order_by(Assessment.id)
    ).all()
    stages = [None, "not_started", "planning", "implementing", "embedded", "not_applicable"]
    for number, assessment in enumerate(rows):
        n = number + seed
        stage = stages[n % len(stages)]
        assessment.stage = stage
        assessment.rag = (
            ["red", "amber", "green"][n % 3] if stage in ("planning", "implementing") else None
        )
        assessment.not_applicable_reason = "Not a local power" if stage == "not_applicable" else ""
        assessment.narrative = f"Narrative {n} with ‘quotes’ and ünïcode" if n % 4 else ""
        assessment.next_steps = f"Next {n}" if n % 5 else ""
        assessment.barriers = [["funding"], ["workforce", "legislation"], []][n % 3]
        assessment.barrier_detail = "Detail" if n % 7 == 0 else ""
        assessment.lead_officer = f"Officer {n % 9}"
        assessment.target_stage = "embedded" if n % 2 else None
        assessment.target_period = "2027-28 Q2" if n % 3 == 0 else None
        assessment.is_co_produced = [None, True, False][n % 3]
        assessment.co_production_how = "With the panel" if n % 3 == 1 else ""
        assessment.partners = "ICS" if n % 4 == 0 else ""
        assessment.spend_types = ["", "T", "SC", "TSCA"][n % 4]
        assessment.amount_pounds = n * 1000 if n % 6 == 0 else None
        assessment.funding_source = "core_budget" if n % 6 == 0 else None
        assessment.is_carried_forward = n % 2 == 0
    db.session.flush()
    by_council: dict[int, list[Assessment]] = {}
    for assessment in rows:
        by_council.setdefault(assessment.return_.council_id, []).append(assessment)
    for council_id, theirs in by_council.items():
        for number in range(4):
            item = Evidence(
                council_id=council_id,
                title=f"Board paper {seed}.{number}",
                evidence_type="board_paper",
                url=f"https://example.org/{council_id}/{seed}/{number}",
            )
            db.session.add(item)
            db.session.flush()
            # Each item supports a few actions; an action may have several items.
            linked = {a.id for a in theirs[number * 7 + seed :: 23 + number]}
            db.session.execute(
                insert(assessment_evidence),
                [{"assessment_id": a, "evidence_id": item.id} for a in sorted(linked)],
            )
    # Some assessments are missing from the earlier return, as if the action were new since.
    db.session.execute(delete(Assessment).where(Assessment.id.in_([r.id for r in rows[5::37]])))
    db.session.flush()


def build_history() -> Period:
    """Three earlier quarters, then 2025-26 Q4 created, not open: its drafts are what the tests
    compare.

    - Leeds, Wakefield, Cornwall: returns in Q1, Q2 and Q3 (carried from Q3, the latest);
    - Barnsley: a return in Q1 only (carried from Q1, two quarters back);
    - Bradford: no return before (every action unassessed);
    - Calderdale: already has a Q4 return (kept, nothing added);
    - an action archived and a sub-item's assessment in the earlier returns (not carried).
    """
    q1 = open_for("2025-26 Q1", [LEEDS, WAKEFIELD, CORNWALL, BARNSLEY], date(2025, 7, 31))
    vary(q1, seed=1)
    q2 = open_for("2025-26 Q2", [LEEDS, WAKEFIELD, CORNWALL], date(2025, 10, 31))
    vary(q2, seed=2)
    q3 = open_for("2025-26 Q3", [LEEDS, WAKEFIELD, CORNWALL], date(2026, 1, 31))
    vary(q3, seed=3)
    for period in (q1, q2, q3):
        period.status = PeriodStatus.CLOSED
    # An action archived since Q3: its assessment is not carried into Q4.
    archived = db.session.scalar(
        select(Action).where(Action.parent_id.is_(None)).order_by(Action.id).offset(3)
    )
    archived.archived_at = datetime(2026, 1, 1)
    # A sub-item assessed in Q3 (it never should be; the copy must not pick it up).
    sub_item = db.session.scalar(select(Action).where(Action.parent_id.is_not(None)))
    if sub_item is not None:
        leeds_q3 = db.session.scalar(
            select(Return.id).where(
                Return.period_id == q3.id, Return.council_id == council_ids([LEEDS])[LEEDS]
            )
        )
        db.session.add(
            Assessment(return_id=leeds_q3, action_id=sub_item.id, stage="planning", rag="red")
        )
    q4 = create_period("2025-26 Q4", date(2026, 4, 30), actor=None)
    db.session.add(
        Return(
            council_id=council_ids([CALDERDALE])[CALDERDALE],
            period_id=q4.id,
            status=ReturnStatus.DRAFT,
        )
    )
    only_active(CODES)
    db.session.commit()
    return q4


def opened(period: Period) -> dict[str, Any]:
    """Everything opening made, keyed by council and action code rather than by new ids."""
    codes = dict(db.session.execute(select(Council.id, Council.gss_code)).all())
    actions = dict(db.session.execute(select(Action.id, Action.code)).all())
    returns = {
        codes[r.council_id]: (r.status, r.carried_from_id, r.version_id, r.returned_comment)
        for r in db.session.scalars(select(Return).where(Return.period_id == period.id))
    }
    columns = ["is_carried_forward", "version_id", "updated_at", "updated_by_id", *CARRIED_FIELDS]
    rows = db.session.execute(
        select(
            Return.council_id,
            Assessment.action_id,
            Assessment.id,
            *(getattr(Assessment, name) for name in columns),
        )
        .join(Return, Assessment.return_id == Return.id)
        .where(Return.period_id == period.id)
    ).all()
    links: dict[int, list[int]] = {}
    for assessment_id, evidence_id in db.session.execute(select(assessment_evidence)):
        links.setdefault(assessment_id, []).append(evidence_id)
    assessments = {
        (codes[row[0]], actions[row[1]]): (
            dict(zip(columns, row[3:], strict=True)),
            sorted(links.get(row[2], [])),
        )
        for row in rows
    }
    return {"returns": returns, "assessments": assessments}


def undo_opening(period: Period, keep: set[str]) -> None:
    """Delete the drafts opening made (not those of ``keep``); the period is upcoming again."""
    made = select(Return.id).where(
        Return.period_id == period.id,
        Return.council_id.not_in(select(Council.id).where(Council.gss_code.in_(keep))),
    )
    made_ids = list(db.session.scalars(made))
    assessment_ids = select(Assessment.id).where(Assessment.return_id.in_(made_ids))
    db.session.execute(
        delete(assessment_evidence).where(assessment_evidence.c.assessment_id.in_(assessment_ids))
    )
    db.session.execute(delete(Assessment).where(Assessment.return_id.in_(made_ids)))
    db.session.execute(delete(Return).where(Return.id.in_(made_ids)))
    db.session.execute(
        update(Period)
        .where(Period.id == period.id)
        .values(status=PeriodStatus.UPCOMING, opened_at=None)
    )
    db.session.commit()
    db.session.expire_all()


# -- the tests ---------------------------------------------------------------------------------


def test_opening_carries_forward_exactly_what_the_row_by_row_version_did(app):
    with app.app_context():
        period_id = build_history().id
        period = db.session.get(Period, period_id)
        old_report = open_period_row_by_row(period, actor=None)
        db.session.commit()
        old = opened(period)
        undo_opening(period, keep={CALDERDALE})

        period = db.session.get(Period, period_id)
        new_report = open_period(period, actor=None)
        db.session.commit()
        new = opened(period)

    assert new_report == old_report
    assert new["returns"] == old["returns"]
    assert new["assessments"] == old["assessments"]
    # The comparison is not empty: answers, evidence, carried and fresh rows were all there.
    values = list(new["assessments"].values())
    assert sum(1 for fields, _links in values if fields["is_carried_forward"]) > 300
    assert sum(1 for fields, _links in values if not fields["is_carried_forward"]) > 140
    assert sum(len(links) for _fields, links in values) > 20
    assert {fields["stage"] for fields, _links in values} >= {None, "planning", "not_applicable"}
    assert any(fields["barriers"] == ["workforce", "legislation"] for fields, _ in values)


def test_what_opening_reports_and_makes(app):
    with app.app_context():
        period = build_history()
        trackable = db.session.scalar(
            select(func.count())
            .select_from(Action)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
        )
        report = open_period(period, actor=None)
        db.session.commit()
        made = opened(period)
        events = db.session.scalars(
            select(AuditEvent.after).where(AuditEvent.action == "period.open")
        ).all()

    # Five councils given a draft; Calderdale keeps the return it had, with no assessments.
    assert report.returns_created == 5
    assert report.assessments_created == 5 * trackable
    by_council: dict[str, int] = {}
    carried: dict[str, int] = {}
    for (code, _action), (fields, _links) in made["assessments"].items():
        by_council[code] = by_council.get(code, 0) + 1
        carried[code] = carried.get(code, 0) + fields["is_carried_forward"]
    assert by_council == {code: trackable for code in CODES if code != CALDERDALE}
    assert carried[BRADFORD] == 0
    assert 0 < carried[BARNSLEY] < trackable  # from Q1, with the dropped actions fresh
    assert report.carried_forward == sum(carried.values())
    assert made["returns"][CALDERDALE][1] is None
    assert events[-1] == {"status": "open", "returns_created": 5}


def test_the_carried_from_return_is_the_latest_earlier_one(app):
    with app.app_context():
        period = build_history()
        open_period(period, actor=None)
        db.session.commit()
        labels = dict(
            db.session.execute(
                select(Council.gss_code, Period.label)
                .select_from(Return)
                .join(Council, Return.council_id == Council.id)
                .join(Period, Return.period_id == Period.id)
                .where(
                    Return.id.in_(
                        select(Return.carried_from_id).where(Return.period_id == period.id)
                    )
                )
            ).all()
        )
    assert labels == {
        LEEDS: "2025-26 Q3",
        WAKEFIELD: "2025-26 Q3",
        CORNWALL: "2025-26 Q3",
        BARNSLEY: "2025-26 Q1",
    }
