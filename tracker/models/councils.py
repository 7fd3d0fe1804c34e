"""Councils with adult social services responsibilities and their ADASS regions."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db


class Region(db.Model):
    """One of the nine ADASS regions."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)

    councils: Mapped[list[Council]] = relationship(
        back_populates="region", order_by="Council.short_name"
    )


class Council(db.Model):
    __tablename__ = "councils"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: current ONS/GSS code, e.g. E08000035 (Leeds)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(60))
    #: county, unitary, metropolitan_district, london_borough or other
    council_type: Mapped[str] = mapped_column(String(24))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    ons_region: Mapped[str] = mapped_column(String(60))
    ons_region_code: Mapped[str] = mapped_column(String(9))
    #: earlier codes for the same area, ";"-separated, for joining older published data
    former_gss_codes: Mapped[str] = mapped_column(String(60), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: True: the region (and the nation) may see the council's submitted returns by name in
    #: comparisons; False: they appear to anyone outside the council only inside aggregates
    shares_named_returns: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: how many working days (Monday to Friday) the council aims to take to answer a comment
    #: from its co-production panel; a comment waiting longer is overdue
    panel_answer_days: Mapped[int] = mapped_column(default=20, server_default=text("20"))

    region: Mapped[Region] = relationship(back_populates="councils")

    @property
    def former_codes(self) -> list[str]:
        return [c for c in self.former_gss_codes.split(";") if c]
