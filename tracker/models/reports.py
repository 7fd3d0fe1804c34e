"""Background report jobs: a regional pack being generated, and where its PDF is kept."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tracker.clock import utcnow
from tracker.extensions import db


class ReportJobStatus(enum.StrEnum):
    QUEUED = "queued"  #: waiting for a worker
    RUNNING = "running"  #: a worker is building it; see progress_done and progress_total
    DONE = "done"  #: the file is ready to download
    FAILED = "failed"  #: it could not be built; ``message`` says why


class ReportJob(db.Model):
    """One request for a regional pack, kept so that a refreshed page shows its progress."""

    __tablename__ = "report_jobs"
    __table_args__ = (
        Index("ix_report_jobs_region_period", "region_id", "period_id", "requested_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "region_pack" (the only kind so far)
    kind: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    #: who asked: the pack honours what they may see, and only they download it
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default=ReportJobStatus.QUEUED)
    #: steps finished so far, of progress_total (one per council, then the PDF itself)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    #: the generated name the PDF is stored under in the instance folder, once done
    stored_name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportJobStatus.DONE, ReportJobStatus.FAILED)

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))
