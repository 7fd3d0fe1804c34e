"""Co-production panel pages: reading, commenting, answering, moderation, tenancy, settings,
download and leaving, through the real pages with CSRF on."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.access_matrix import council, make_member, signed_in_client
from tests.helpers import latest_mail
from tests.returns_data import (
    CORNWALL,
    LEEDS,
    SLUG,
    WAKEFIELD,
    assess_all,
    get_return,
    open_period,
    submit,
)
from tracker.extensions import db
from tracker.models import Action, AuditEvent, Comment, CommentAnswer, Membership, Role, User
from tracker.panels import services

PANEL = f"/councils/{LEEDS}/panel/"


@pytest.fixture
def world(app):
    """Leeds and Cornwall submitted for 2025-26 Q3; Wakefield's return still a draft."""
    open_period(app)
    for code in (LEEDS, CORNWALL):
        assess_all(app, code)
        submit(app, code)
    with app.app_context():
        code = get_return(LEEDS).assessments[0].action.code
    return app, code


def thread_path(code: str, gss: str = LEEDS) -> str:
    return f"/councils/{gss}/panel/{SLUG}/actions/{code}"


def _form_token(html: str) -> str:
    import re

    match = re.search(r'name="[a-z-]*csrf_token"[^>]*value="([^"]+)"', html)
    assert match
    return match.group(1)


def post(client, path: str, data: dict, *, token_from: str | None = None):
    html = client.get(token_from or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": _form_token(html), **data})


def _comment(client, code: str, body: str = "Please explain this", **extra):
    return post(client, thread_path(code), {"comment-body": body, **extra})


def test_member_reads_comments_and_answers_in_plain_language(world, page):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER)
    client = signed_in_client(app, member)
    home = page(client.get(PANEL))
    assert home.h1.get_text(strip=True) == "Your co-production panel"
    assert len(home.find_all("h1")) == 1
    assert home.title.get_text().startswith("Your co-production panel – Leeds – ")
    response = _comment(client, code, "Line one\nLine two")
    assert response.status_code == 302
    thread = page(client.get(thread_path(code)))
    text = thread.select_one(".tracker-comment__text")
    assert text.get_text() == "Line one\nLine two"
    assert text["dir"] == "auto"
    assert "Waiting for an answer" in thread.get_text()
    assert "(you)" in thread.select_one(".tracker-comment__by").get_text()


def test_editor_answers_and_the_member_is_emailed_and_sees_it(world, page):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    member_client = signed_in_client(app, member)
    assert _comment(member_client, code).status_code == 302
    mail = latest_mail(app)
    assert "waiting for an answer" in mail["Subject"]
    # The action by its words, with its code beside them, in the subject and the message.
    with app.app_context():
        text = db.session.scalar(select(Action.text).where(Action.code == code))
    assert mail["Subject"].endswith(f"({code})") and text.split()[0] in mail["Subject"]
    assert text in mail.get_content()
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    editor_client = signed_in_client(app, editor)
    awaiting = page(editor_client.get(f"/councils/{LEEDS}/panel/awaiting"))
    assert awaiting.h1.get_text(strip=True) == "Comments awaiting an answer"
    assert "Please explain this" in awaiting.get_text()
    answer_page = editor_client.get(thread_path(code) + f"?answer={comment_id}")
    assert page(answer_page).find("textarea", attrs={"name": "answer-body"}) is not None
    response = post(
        editor_client,
        thread_path(code) + "/answer",
        {
            "answer-comment_id": str(comment_id),
            "answer-body": "We will publish the plan",
            "answer-is_you_said_we_did": "y",
            "answer-change_made": "Plan published",
        },
        token_from=thread_path(code) + f"?answer={comment_id}",
    )
    assert response.status_code == 302
    mail = latest_mail(app)
    assert mail["To"] == member.email and "answered" in mail["Subject"]
    assert mail["Subject"].endswith(f"({code})") and text in mail.get_content()
    seen = page(member_client.get(thread_path(code))).get_text()
    assert "We will publish the plan" in seen and "You said, we did" in seen
    assert "Plan published" in seen
    assert (
        "Every comment has an answer"
        in page(editor_client.get(f"/councils/{LEEDS}/panel/awaiting")).get_text()
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentAnswer.id))) == 1
        assert db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "comment.answer")
        )


def test_empty_answer_or_missing_change_is_refused_with_a_message(world, page):
    app, code = world
    member_client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    _comment(member_client, code)
    editor_client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    path = thread_path(code) + "/answer"
    form = thread_path(code) + f"?answer={comment_id}"
    response = post(editor_client, path, {"answer-comment_id": str(comment_id)}, token_from=form)
    assert response.status_code == 422
    summary = page(response).select_one(".govuk-error-summary")
    assert "Enter your answer" in summary.get_text()
    response = post(
        editor_client,
        path,
        {
            "answer-comment_id": str(comment_id),
            "answer-body": "Yes",
            "answer-is_you_said_we_did": "y",
        },
        token_from=form,
    )
    assert response.status_code == 422
    assert "Enter the change the council made" in page(response).get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count(CommentAnswer.id))) == 0


@pytest.mark.parametrize(
    ("body", "message"), [("", "Enter your comment"), ("x" * 5001, "5,000 characters or fewer")]
)
def test_bad_comment_gets_a_clear_message_and_changes_nothing(world, page, body, message):
    app, code = world
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    response = _comment(client, code, body)
    assert response.status_code == 422
    assert message in page(response).select_one(".govuk-error-summary").get_text()
    assert page(response).title.get_text().startswith("Error: ")
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_member_cannot_read_or_comment_on_another_councils_return(world):
    app, code = world
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    cornwall = thread_path(code, CORNWALL)
    assert client.get(cornwall).status_code == 404
    assert client.get(f"/councils/{CORNWALL}/panel/").status_code == 404
    own_token = _form_token(client.get(thread_path(code)).get_data(as_text=True))
    response = client.post(cornwall, data={"csrf_token": own_token, "comment-body": "Hi"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_member_never_sees_a_draft_and_cannot_comment_on_it(world):
    app, code = world
    wakefield_member = make_member(app, Role.PANEL_MEMBER, "same_region")
    client = signed_in_client(app, wakefield_member)
    assert client.get(thread_path(code, WAKEFIELD)).status_code == 404
    home = client.get(f"/councils/{WAKEFIELD}/panel/").get_data(as_text=True)
    assert "has not shared a report yet" in home


def test_comment_ids_from_another_thread_are_not_found(world):
    app, code = world
    member_client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    _comment(member_client, code)
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
        other_code = get_return(LEEDS).assessments[1].action.code
        cornwall_code = code
    editor_client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    for path in (thread_path(other_code), thread_path(cornwall_code, CORNWALL)):
        response = post(
            editor_client,
            path + "/answer",
            {"answer-comment_id": str(comment_id), "answer-body": "Hijack"},
            token_from=thread_path(code),
        )
        assert response.status_code == 404
    for bad in ("abc", "-1", "99999999999999999999", ""):
        response = post(
            editor_client,
            thread_path(code) + "/hide",
            {"hide-comment_id": bad, "hide-reason": "x"},
            token_from=thread_path(code),
        )
        assert response.status_code == 404


def test_another_member_cannot_change_or_withdraw_my_comment(world, page):
    app, code = world
    me = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    _comment(me, code, "Mine")
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    other = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    response = post(
        other,
        thread_path(code) + "/edit",
        {"edit-comment_id": str(comment_id), "edit-body": "Changed by someone else"},
        token_from=thread_path(code),
    )
    assert response.status_code == 404
    response = post(
        other,
        thread_path(code) + "/withdraw",
        {"withdraw-comment_id": str(comment_id)},
        token_from=thread_path(code),
    )
    assert response.status_code == 404
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.body == "Mine" and comment.withdrawn_at is None
    # and the author can
    response = post(
        me,
        thread_path(code) + "/edit",
        {"edit-comment_id": str(comment_id), "edit-body": "Mine, better", "edit-version": "1"},
        token_from=thread_path(code) + f"?edit={comment_id}",
    )
    assert response.status_code == 302
    response = post(
        me,
        thread_path(code) + "/withdraw",
        {"withdraw-comment_id": str(comment_id)},
        token_from=thread_path(code) + f"?withdraw={comment_id}",
    )
    assert response.status_code == 302
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.body == "Mine, better" and comment.withdrawn_at is not None


def test_hiding_tells_the_author_and_hides_the_text_from_the_rest_of_the_panel(world, page):
    app, code = world
    author = make_member(app, Role.PANEL_MEMBER)
    author_client = signed_in_client(app, author)
    _comment(author_client, code, "Secret words")
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    editor_client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    response = post(
        editor_client,
        thread_path(code) + "/hide",
        {"hide-comment_id": str(comment_id), "hide-reason": "It names a person"},
        token_from=thread_path(code) + f"?hide={comment_id}",
    )
    assert response.status_code == 302
    mail = latest_mail(app)
    assert mail["To"] == author.email and "It names a person" in mail.get_content()
    other = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    seen = page(other.get(thread_path(code))).get_text()
    assert "Secret words" not in seen and "The council hid this comment" in seen
    mine = page(author_client.get(thread_path(code))).get_text()
    assert "Secret words" in mine and "It names a person" in mine
    response = post(
        editor_client,
        thread_path(code) + "/unhide",
        {"unhide-comment_id": str(comment_id)},
        token_from=thread_path(code),
    )
    assert response.status_code == 302
    assert "Secret words" in page(other.get(thread_path(code))).get_text()


def test_real_names_are_shown_to_the_approver_only(world, page):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER, display_name="Canary Realname")
    _comment(signed_in_client(app, member), code)
    approver = signed_in_client(app, make_member(app, Role.COUNCIL_APPROVER))
    assert "Canary Realname" in page(approver.get(thread_path(code))).get_text()
    for role in (Role.COUNCIL_EDITOR, Role.COUNCIL_VIEWER, Role.PANEL_MEMBER):
        client = signed_in_client(app, make_member(app, role))
        assert "Canary Realname" not in client.get(thread_path(code)).get_data(as_text=True)
        assert "Canary Realname" not in client.get(PANEL).get_data(as_text=True)


def test_posting_is_rate_limited_with_a_clear_429(app, page):
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    app.config["PANEL_COMMENT_LIMIT"] = 2
    app.config["PANEL_COMMENT_WINDOW"] = timedelta(minutes=5)
    with app.app_context():
        code = get_return(LEEDS).assessments[0].action.code
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    assert _comment(client, code, "one").status_code == 302
    assert _comment(client, code, "two").status_code == 302
    response = _comment(client, code, "three")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert "wait 5 minutes" in page(response).get_text()
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 2


def test_settings_choose_a_name_and_turn_emails_off(world, page):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER)
    client = signed_in_client(app, member)
    path = f"/councils/{LEEDS}/panel/settings"
    form = page(client.get(path))
    assert form.find("input", attrs={"name": "display_name"})["value"].startswith("Panel member")
    response = post(client, path, {"display_name": "   "})
    assert response.status_code == 422
    response = post(client, path, {"display_name": "Sunflower"})
    assert response.status_code == 302
    _comment(client, code)
    editor_client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    assert "Sunflower" in editor_client.get(thread_path(code)).get_data(as_text=True)
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    before = latest_mail(app)
    post(
        editor_client,
        thread_path(code) + "/answer",
        {"answer-comment_id": str(comment_id), "answer-body": "Thanks"},
        token_from=thread_path(code),
    )
    # emails were turned off (the box was not ticked): nothing new went to the member
    after = latest_mail(app)
    assert after["Message-ID"] == before["Message-ID"]


def test_download_is_a_page_and_a_csv_attachment_with_everything_written(world):
    app, code = world
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    _comment(client, code, "Downloadable words")
    page = client.get(f"/councils/{LEEDS}/panel/my-comments")
    assert page.status_code == 200
    assert "Downloadable words" in page.get_data(as_text=True)
    response = client.get(f"/councils/{LEEDS}/panel/my-comments.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Downloadable words" in response.get_data(as_text=True)


def test_leaving_anonymises_and_signs_out(world, page):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER)
    client = signed_in_client(app, member)
    _comment(client, code, "Goodbye words")
    path = f"/councils/{LEEDS}/panel/leave"
    assert post(client, path, {}).status_code == 422
    response = post(client, path, {"confirm": "y"})
    assert response.status_code == 302
    assert client.get(PANEL).status_code == 302  # signed out
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Membership.id)).where(Membership.user_id == member.id)
            )
            == 0
        )
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    seen = page(editor.get(thread_path(code))).get_text()
    assert "former panel member" in seen and "Goodbye words" in seen


def test_return_pages_link_to_the_comments(world, page):
    app, code = world
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    action_page = page(client.get(f"/councils/{LEEDS}/returns/{SLUG}/actions/{code}"))
    links = [a["href"] for a in action_page.find_all("a")]
    assert thread_path(code) in links
    regional = signed_in_client(app, make_member(app, Role.REGIONAL_MEMBER))
    html = regional.get(f"/councils/{LEEDS}/returns/{SLUG}/actions/{code}").get_data(as_text=True)
    assert "/panel/" not in html


def test_comment_totals_match_the_database(world):
    app, code = world
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    for n in range(3):
        _comment(client, code, f"Comment {n}")
    with app.app_context():
        period = get_return(LEEDS).period
        totals = services.comment_totals(council(LEEDS), period)
        assert totals.received == 3 == totals.open
        assert db.session.scalar(select(func.count(User.id))) > 0


def test_member_sees_only_the_evidence_published_to_the_panel(app, page):
    from datetime import date

    from tests.access_matrix import make_person
    from tracker.returns import evidence

    open_period(app)
    assess_all(app, LEEDS)
    with app.app_context():
        leeds = council(LEEDS)
        code = get_return(LEEDS).assessments[0].action.code
        keeper = make_person("keeper@example.org", Role.COUNCIL_EDITOR, council=council(LEEDS))
        assessment = evidence.get_assessment(leeds, SLUG, code)
        for title, shown in (("Shared carers plan", True), ("Internal budget paper", False)):
            item = evidence.add_link_evidence(
                leeds,
                title,
                "strategy",
                date(2025, 10, 1),
                f"https://www.example.org/{title.split()[0].lower()}",
                actor=keeper,
                is_published_to_panel=shown,
            )
            evidence.link_evidence(assessment, item, actor=keeper)
        db.session.commit()
    submit(app, LEEDS)
    client = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    seen = page(client.get(thread_path(code))).get_text()
    assert "Shared carers plan" in seen
    assert "Internal budget paper" not in seen


def test_two_answers_at_once_give_a_message_not_an_error(world, page, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    app, code = world
    _comment(signed_in_client(app, make_member(app, Role.PANEL_MEMBER)), code)
    editor_client = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    form = thread_path(code) + f"?answer={comment_id}"
    token = _form_token(editor_client.get(form).get_data(as_text=True))

    def lost_the_race(*_args, **_kwargs):
        # As the database answers when another editor's answer was committed first.
        raise IntegrityError("INSERT", {}, Exception("unique comment_answers.comment_id"))

    monkeypatch.setattr(services, "answer_comment", lost_the_race)
    response = editor_client.post(
        thread_path(code) + "/answer",
        data={
            "csrf_token": token,
            "answer-comment_id": str(comment_id),
            "answer-body": "Mine",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Someone else changed this at the same moment" in page(response).get_text()


def _queries_for(app, client, path: str) -> int:
    from sqlalchemy import event

    count = 0

    def counted(*_args, **_kwargs):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_pages_make_the_same_number_of_queries_for_3_or_30_comments(world):
    app, code = world
    member = make_member(app, Role.PANEL_MEMBER)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    client = signed_in_client(app, editor)

    def add(n: int) -> None:
        with app.app_context():
            return_ = get_return(LEEDS)
            action = next(a.action for a in return_.assessments if a.action.code == code)
            author = db.session.get(User, member.id)
            answerer = db.session.get(User, editor.id)
            for i in range(n):
                comment = services.add_comment(return_, action, f"Comment {i}", actor=author)
                if i % 2:
                    services.answer_comment(comment, "Answer", actor=answerer)
            db.session.commit()

    paths = [thread_path(code), f"/councils/{LEEDS}/panel/awaiting", PANEL]
    add(3)
    few = [_queries_for(app, client, path) for path in paths]
    add(27)
    many = [_queries_for(app, client, path) for path in paths]
    assert many == few


def test_generated_input_to_the_panel_forms_never_gives_a_5xx(world):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    app, code = world
    app.config["PANEL_COMMENT_LIMIT"] = 10_000
    member = signed_in_client(app, make_member(app, Role.PANEL_MEMBER))
    editor = signed_in_client(app, make_member(app, Role.COUNCIL_EDITOR))
    _comment(member, code, "A comment to answer")
    with app.app_context():
        comment_id = str(db.session.scalar(select(Comment.id)))
    member_token = _form_token(member.get(thread_path(code)).get_data(as_text=True))
    editor_token = _form_token(editor.get(thread_path(code)).get_data(as_text=True))
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300) | st.sampled_from(
        ["", " ", "\x00", "x" * 6000, "\u202e", "<script>", "0", "-1", "1e9", comment_id]
    )
    posts = st.sampled_from(
        [
            (member, member_token, "", "comment-body", "comment-parent_id"),
            (member, member_token, "/edit", "edit-body", "edit-comment_id"),
            (member, member_token, "/withdraw", "withdraw-x", "withdraw-comment_id"),
            (editor, editor_token, "/answer", "answer-body", "answer-comment_id"),
            (editor, editor_token, "/answer", "answer-change_made", "answer-comment_id"),
            (editor, editor_token, "/hide", "hide-reason", "hide-comment_id"),
            (editor, editor_token, "/unhide", "unhide-x", "unhide-comment_id"),
            (member, member_token, "settings", "display_name", "is_real_name_shown"),
        ]
    )

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(post=posts, value=text, other=text, flag=st.sampled_from(["", "y", "yes", "\x00"]))
    def check(post, value, other, flag):
        client, token, suffix, field, id_field = post
        settings_path = f"/councils/{LEEDS}/panel/settings"
        path = settings_path if suffix == "settings" else thread_path(code) + suffix
        data = {"csrf_token": token, field: value, id_field: other}
        data["answer-is_you_said_we_did"] = flag
        data["edit-version"] = other
        response = client.post(path, data=data)
        assert response.status_code < 500, (path, data)

    check()
