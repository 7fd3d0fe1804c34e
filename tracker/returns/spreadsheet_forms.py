"""Forms of the spreadsheet import: the upload, and the buttons that confirm or cancel it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired


class ImportForm(FlaskForm):
    """Choose an xlsx or csv file in the columns of the export."""

    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        validators=[FileRequired(message="Select a file to import")],
        description="An .xlsx workbook or a .csv file, up to 2 MB, with the columns of the export",
    )
    submit = SubmitField("Upload and check the file", widget=GovSubmitInput())


class ConfirmImportForm(FlaskForm):
    """Apply the changes the preview listed; ``upload_id`` names the file they came from."""

    upload_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Import these changes", widget=GovSubmitInput())


class CancelImportForm(FlaskForm):
    """Forget the uploaded file without changing anything."""

    submit = SubmitField("Cancel the import", widget=GovSubmitInput())
