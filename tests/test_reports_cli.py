"""``flask report council`` and ``flask report region``."""

from __future__ import annotations

from tests.returns_data import LABEL, LEEDS, assess_all, open_period, submit


def test_council_report_to_a_file(app, runner, tmp_path):
    open_period(app)
    out = tmp_path / "leeds.pdf"
    result = runner.invoke(
        args=["report", "council", "--council", LEEDS, "--period", LABEL, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "Wrote" in result.output


def test_council_report_as_xlsx(app, runner, tmp_path):
    open_period(app)
    out = tmp_path / "leeds.xlsx"
    result = runner.invoke(
        args=["report", "council", "--council", LEEDS, "--period", LABEL, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"


def test_unknown_council_or_period_is_refused(app, runner, tmp_path):
    open_period(app)
    out = tmp_path / "x.pdf"
    result = runner.invoke(
        args=["report", "council", "--council", "E99999999", "--period", LABEL, "-o", str(out)]
    )
    assert result.exit_code == 1 and "No council with the code E99999999" in result.output
    result = runner.invoke(
        args=["report", "council", "--council", LEEDS, "--period", "2099-00 Q9", "-o", str(out)]
    )
    assert result.exit_code == 1 and "No period" in result.output
    assert not out.exists()


def test_region_pack_to_a_file(app, runner, tmp_path):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    out = tmp_path / "yorkshire.pdf"
    result = runner.invoke(
        args=[
            "report",
            "region",
            "--region",
            "yorkshire-and-the-humber",
            "--period",
            LABEL,
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(
        args=["report", "region", "--region", "atlantis", "--period", LABEL, "-o", str(out)]
    )
    assert result.exit_code == 1 and "No region 'atlantis'" in result.output


def test_council_report_as_word(app, runner, tmp_path):
    import io

    from docx import Document

    open_period(app)
    out = tmp_path / "paper.docx"
    result = runner.invoke(
        args=["report", "council", "--council", LEEDS, "--period", LABEL, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = Document(io.BytesIO(out.read_bytes()))
    assert document.core_properties.title.startswith("Quarterly board paper: October to December")
    result = runner.invoke(
        args=[
            "report",
            "region",
            "--region",
            "yorkshire-and-the-humber",
            "--period",
            LABEL,
            "-o",
            str(tmp_path / "pack.docx"),
        ]
    )
    assert result.exit_code == 1 and "not Word" in result.output
