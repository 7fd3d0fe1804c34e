"""A hostile corpus in comments, replies, names, answers and reasons renders inert everywhere:
the panel pages (as each kind of reader sees them), the download, the emails, and the board
report's HTML and PDF (the board report reads ``list_you_said_we_did``)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from tests.access_matrix import council, make_member, signed_in_client
from tests.helpers import mail_body, require_tool, sent_mail
from tests.returns_data import LEEDS, SLUG, assess_all, get_return, open_period, submit
from tracker.extensions import db
from tracker.models import Comment, Period, Role, User
from tracker.panels import services
from tracker.reports import data, render
from tracker.returns.spreadsheet import is_dangerous

#: every entry is posted as a comment; the first few also as a name, an answer and a reason
CORPUS = [
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=\"alert('xss-img')\">",
    '"><svg onload=alert("xss-svg")>',
    "<a href=\"javascript:alert('xss-link')\">click me</a>",
    "javascript:alert('xss-bare')",
    "' onmouseover='alert(1)' data-x='",
    '<iframe src="file:///etc/passwd"></iframe>',
    "<style>body{display:none}</style>",
    '<link rel="stylesheet" href="http://evil.example/x.css">',
    "{{ 7*7 }} {% raw %}jinja{% endraw %}",
    "\u202egnp.exe\u202c and \u2067isolate\u2069 right-to-left override",
    "x" * 4999,
]
NAME = '<b onmouseover="alert(1)">Evil</b>\u202e'
#: the member's real name: it must never reach the report (they did not opt in)
CANARY = "Canary Realname"


def _inert(html: str, where: str, allow: tuple[str, ...] = ()) -> None:
    """No markup from the corpus took effect in ``html``."""
    soup = BeautifulSoup(html, "html.parser")
    for script in soup.find_all("script"):
        # Ours: files from /static/, or GOV.UK's one-line js-enabled script with the CSP nonce.
        assert script.get("src", "").startswith("/static/") or (
            script.get("nonce") and "js-enabled" in script.get_text()
        ), f"{where}: script {script}"
    for tag in soup.find_all(True):
        for attribute, value in tag.attrs.items():
            assert not attribute.lower().startswith("on"), f"{where}: {tag.name} {attribute}"
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not text.strip().lower().startswith("javascript:"), f"{where}: {tag}"
    for name in ("iframe", "svg", "img", "style", "object", "embed"):
        if name not in allow:
            assert not soup.find_all(name), f"{where}: a <{name}> element"
    assert not soup.find_all("img", src="x"), f"{where}: the corpus's <img>"
    assert not soup.find_all(attrs={"rel": "stylesheet", "href": "http://evil.example/x.css"})
    links = [link.get("href", "") for link in soup.find_all("link")]
    assert "evil.example" not in " ".join(links), f"{where}: {links}"


@pytest.fixture
def hostile(app):
    """Leeds's return submitted; a member posts the corpus; an editor answers hostilely."""
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER, display_name=CANARY)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    with app.app_context():
        return_ = get_return(LEEDS)
        action = return_.assessments[0].action
        user = db.session.get(User, member.id)
        editor_user = db.session.get(User, editor.id)
        services.update_profile(
            user,
            council(LEEDS),
            display_name=NAME,
            is_real_name_shown=False,
            is_notified_by_email=True,
        )
        comments = [services.add_comment(return_, action, text, actor=user) for text in CORPUS]
        services.add_comment(return_, action, CORPUS[1], actor=user, parent=comments[0])
        for comment in comments[:4]:
            services.answer_comment(
                comment,
                CORPUS[2],
                actor=editor_user,
                is_you_said_we_did=True,
                change_made=CORPUS[3],
            )
        services.hide_comment(comments[5], CORPUS[0], actor=editor_user)
        db.session.commit()
        for comment in comments[:4]:
            services.notify_answered(comment)
        services.notify_hidden(comments[5])
        services.notify_awaiting(comments[6])
        code = action.code
    return app, code, member, editor


def test_the_corpus_is_stored_as_written(hostile):
    app, _code, _member, _editor = hostile
    with app.app_context():
        bodies = set(db.session.scalars(select(Comment.body)))
    assert set(CORPUS) <= bodies


@pytest.mark.parametrize(
    "role",
    [Role.PANEL_MEMBER, Role.COUNCIL_EDITOR, Role.COUNCIL_APPROVER, Role.COUNCIL_VIEWER],
)
def test_every_panel_page_renders_the_corpus_inert(hostile, role):
    app, code, member, editor = hostile
    person = {Role.PANEL_MEMBER: member, Role.COUNCIL_EDITOR: editor}.get(role)
    client = signed_in_client(app, person or make_member(app, role))
    thread = f"/councils/{LEEDS}/panel/{SLUG}/actions/{code}"
    paths = [thread, f"/councils/{LEEDS}/panel/"]
    if role is not Role.PANEL_MEMBER:
        paths.append(f"/councils/{LEEDS}/panel/awaiting")
    with app.app_context():
        ids = list(db.session.scalars(select(Comment.id).order_by(Comment.id)))
    if role is Role.COUNCIL_EDITOR:
        paths += [f"{thread}?answer={ids[0]}", f"{thread}?hide={ids[1]}"]
    if role is Role.PANEL_MEMBER:
        paths += [f"{thread}?edit={ids[6]}", f"{thread}?reply={ids[0]}"]
        paths.append(f"/councils/{LEEDS}/panel/settings")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        _inert(html, f"{role} {path}")
    # The texts are there, as text, with their direction isolated.
    soup = BeautifulSoup(client.get(thread).get_data(as_text=True), "html.parser")
    texts = [node.get_text() for node in soup.select(".tracker-comment__text")]
    assert CORPUS[0] in texts and CORPUS[10] in texts
    assert all(node.get("dir") == "auto" for node in soup.select(".tracker-comment__text"))
    assert all(name.find("bdi") for name in soup.select(".tracker-comment__by"))


def test_download_is_a_neutralised_csv_and_emails_are_plain_text(hostile):
    app, _code, member, _editor = hostile
    client = signed_in_client(app, member)
    response = client.get(f"/councils/{LEEDS}/panel/my-comments.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    cells = [
        cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row
    ]
    assert all(any(entry in cell for cell in cells) for entry in CORPUS)
    assert not any(is_dangerous(cell) for cell in cells)
    messages = sent_mail(app)
    assert messages
    for message in messages:
        assert message.get_content_type() == "text/plain"
        assert "<script" not in mail_body(message).lower() or CORPUS[0] in mail_body(message)


def test_the_board_report_renders_the_corpus_inert_in_html_and_pdf(hostile):
    app, _code, _member, _editor = hostile
    with app.app_context(), app.test_request_context():
        return_ = get_return(LEEDS)
        period = db.session.get(Period, return_.period_id)
        items = services.list_you_said_we_did(council(LEEDS), period)
        assert items and all(item.name == NAME for item in items)
        report = data.build_council_report(return_, include_draft_history=False)
        html = render.council_html(report, chart_src=lambda _chart: "")
        # The report draws its charts as images and carries its print styles: those are its own.
        _inert(html, "board report HTML", allow=("img", "style"))
        assert "display:none}</style>" not in html
        assert "&lt;script&gt;alert(&#39;xss-script&#39;)&lt;/script&gt;" in html
        assert CANARY not in html
        require_tool("pdftotext", shutil.which("pdftotext") is not None, "Debian's poppler-utils")
        from tracker.reports import pdf

        document = pdf.html_to_pdf(html, static_folder=app.static_folder or "static")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    # The markup is printed as text: the report shows what was written, and runs none of it.
    assert "alert('xss-link')" in text or "xss-link" in text
    assert b"/JavaScript" not in document and b"/JS " not in document
    assert b"/URI (javascript:" not in document
    assert CANARY not in text
