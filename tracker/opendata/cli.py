"""``flask opendata build``: a closed quarter's open-data package, for publishing elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup

opendata_cli = AppGroup("opendata", help="The open data: each closed quarter's Data Package.")


@opendata_cli.command("build")
@click.argument("label")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="A .zip file to write, or a folder to write the package's files into.",
)
def build_command(label: str, output: Path) -> None:
    """Write the open-data package of the closed quarter LABEL (e.g. "2025-26 Q3")."""
    from tracker.opendata.package import OpenDataError, find_closed_period, write_package

    started = time.perf_counter()
    try:
        summary = write_package(find_closed_period(label), output)
    except OpenDataError as error:
        raise click.ClickException(str(error)) from error
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    click.echo(
        f"Wrote {output} ({len(summary.files)} files; rows: {rows}) "
        f"in {time.perf_counter() - started:.2f} s"
    )
