"""The page frame every template shares: title, error summary, flash banners, header and footer."""

from __future__ import annotations

from bs4 import BeautifulSoup
from flask import flash, render_template_string
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import InputRequired

from tracker.models import Council

PAGE = """
{% extends "base.html" %}
{% block title %}Update action{% endblock %}
{% block content %}<h1 class="govuk-heading-l">Update action</h1>{% endblock %}
"""


class _NarrativeForm(FlaskForm):
    class Meta:
        csrf = False

    narrative = StringField(
        "Narrative", widget=GovTextInput(), validators=[InputRequired("Enter a narrative")]
    )


def _render(app, **context) -> BeautifulSoup:
    with app.test_request_context("/"):
        for message, category in context.pop("flashes", []):
            flash(message, category)
        form = context.pop("form", None)
        if form is not None:
            form = form()
            form.validate()
        return BeautifulSoup(render_template_string(PAGE, form=form, **context), "html.parser")


def test_title_names_the_page_and_the_service(app):
    soup = _render(app)

    assert soup.title.get_text(strip=True) == "Update action – Roadmap Tracker"
    assert soup.find(class_="govuk-error-summary") is None


def test_title_names_the_council_when_the_page_is_about_one(app):
    soup = _render(app, council=Council(short_name="Leeds", name="Leeds City Council"))

    assert soup.title.get_text(strip=True) == "Update action – Leeds – Roadmap Tracker"


def test_form_errors_become_an_error_summary_and_prefix_the_title(app):
    soup = _render(app, form=_NarrativeForm)

    assert soup.title.get_text(strip=True) == "Error: Update action – Roadmap Tracker"
    summary = soup.find(class_="govuk-error-summary")
    link = summary.find("a")
    assert link.get_text(strip=True) == "Enter a narrative"
    assert link["href"] == "#narrative"
    assert len(soup.find_all(class_="govuk-error-summary")) == 1


def test_flashed_messages_are_shown_once_as_notification_banners(app):
    soup = _render(app, flashes=[("Return submitted", "success"), ("Period closes Friday", "info")])

    banners = soup.find_all(class_="govuk-notification-banner")
    assert [
        b.find(class_="govuk-notification-banner__heading").get_text(strip=True) for b in banners
    ] == [
        "Return submitted",
        "Period closes Friday",
    ]
    assert "govuk-notification-banner--success" in banners[0]["class"]
    assert "govuk-notification-banner--success" not in banners[1]["class"]


def test_header_and_footer_carry_our_name_not_the_govuk_brand(app):
    soup = _render(app)

    header = soup.find("header")
    assert header.find(class_="govuk-generic-header__homepage-link").get_text(strip=True) == (
        "Roadmap Tracker"
    )
    assert [a.get_text(strip=True) for a in header.select(".govuk-service-navigation__link")] == [
        "Roadmap",
        "Actions",
        "Councils",
        "Sign in",
    ]
    footer = soup.find("footer")
    assert footer.find("a", string="Accessibility statement")["href"] == "/accessibility"
    # SECURITY.md J: a privacy notice on every page.
    assert footer.find("a", string="Privacy notice")["href"] == "/privacy"
    text = " ".join(footer.get_text(" ", strip=True).split())
    assert "Time to act" in text and "ADASS" in text
    assert "Open Government Licence v3.0" in text and "CC BY 4.0" in text
    assert soup.find("link", rel="icon")["href"] == "/static/images/favicon.svg"
    assert soup.find("svg") is None  # no crown, no crest
