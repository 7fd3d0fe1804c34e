"""``flask report council`` and ``flask report region``: the PDF reports from the command line."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Council, Region
from tracker.returns.services import get_return

report_cli = AppGroup(
    "report", help="Board reports and regional packs as PDF, Word (council only) or xlsx."
)

FORMATS = click.Choice(["pdf", "docx", "xlsx", "html"])


def _period(label: str):
    from tracker.reports.data import get_period_by_label

    period = get_period_by_label(label)
    if period is None:
        raise click.ClickException(f'No period "{label}": give one like "2025-26 Q3"')
    return period


def _write(output: Path, content: bytes, started: float) -> None:
    output.write_bytes(content)
    click.echo(f"Wrote {output} ({len(content):,} bytes) in {time.perf_counter() - started:.2f} s")


def _format(output: Path, fmt: str | None) -> str:
    return fmt or (output.suffix.lstrip(".").lower() if output.suffix else "pdf")


@report_cli.command("council")
@click.option(
    "--council", "gss_code", required=True, help="The council's GSS code, e.g. E09000001."
)
@click.option("--period", "label", required=True, help='The period, e.g. "2025-26 Q3".')
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=FORMATS, default=None, help="Default: from the file name.")
def council_command(gss_code: str, label: str, output: Path, fmt: str | None) -> None:
    """Write a council's quarterly board report: PDF, Word (.docx), xlsx or HTML (drafts say
    "Draft")."""
    from tracker.reports import data, render

    started = time.perf_counter()
    council = db.session.scalar(select(Council).where(Council.gss_code == gss_code.strip()))
    if council is None:
        raise click.ClickException(f"No council with the code {gss_code}")
    return_ = get_return(council, _period(label))
    if return_ is None:
        raise click.ClickException(f"{council.name} has no return for {label}")
    report = data.build_council_report(return_, include_draft_history=True)
    fmt = _format(output, fmt)
    if fmt == "xlsx":
        content = render.council_xlsx(report)
    elif fmt == "docx":
        from tracker.reports import word

        content = word.build_docx(report)
    elif fmt == "html":
        content = render.council_html(
            report, chart_src=render.svg_data_uri, standalone=True
        ).encode()
    else:
        content = render.council_pdf(report, wait=60)
    _write(output, content, started)


@report_cli.command("region")
@click.option("--region", "slug", required=True, help="The ADASS region's slug, e.g. london.")
@click.option("--period", "label", required=True, help='The period, e.g. "2025-26 Q3".')
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=FORMATS, default=None, help="Default: from the file name.")
def region_command(slug: str, label: str, output: Path, fmt: str | None) -> None:
    """Write a region's comparison pack (submitted and signed-off returns only)."""
    from tracker.reports import data, render

    started = time.perf_counter()
    region = db.session.scalar(select(Region).where(Region.slug == slug.strip()))
    if region is None:
        slugs = ", ".join(db.session.scalars(select(Region.slug).order_by(Region.slug)))
        raise click.ClickException(f"No region {slug!r}. Regions: {slugs}")
    pack = data.build_region_pack(region, _period(label), viewer=None)
    fmt = _format(output, fmt)
    if fmt == "docx":
        raise click.ClickException("The regional pack is made as PDF, xlsx or HTML, not Word")
    if fmt == "xlsx":
        content = render.region_xlsx(pack)
    elif fmt == "html":
        content = render.region_html(pack, chart_src=render.svg_data_uri).encode()
    else:
        content = render.region_pdf(pack, wait=60)
    _write(output, content, started)
