"""Co-production panel services: comments, answers, moderation, figures, export and leaving."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.access_matrix import council, make_person
from tests.returns_data import LEEDS, WAKEFIELD, assess_all, get_return, open_period, submit
from tracker.extensions import db
from tracker.models import (
    FORMER_MEMBER,
    Action,
    AuditEvent,
    Comment,
    Membership,
    Period,
    Role,
    User,
)
from tracker.panels import services
from tracker.panels.services import PanelError


def _period() -> Period:
    return db.session.scalar(select(Period).where(Period.label == "2025-26 Q3"))


def _action(return_) -> Action:
    return return_.assessments[0].action


@pytest.fixture
def submitted(app):
    """Leeds' 2025-26 Q3 return, submitted; Wakefield's still a draft."""
    open_period(app)
    assess_all(app, LEEDS)
    submit(app, LEEDS)
    return app


def _people():
    leeds = council(LEEDS)
    member = make_person("member@example.org", Role.PANEL_MEMBER, council=leeds, name="Real Name")
    other = make_person("other@example.org", Role.PANEL_MEMBER, council=leeds, name="Other Real")
    editor = make_person("editor@example.org", Role.COUNCIL_EDITOR, council=leeds)
    db.session.flush()
    return member, other, editor


def test_totals_count_top_level_comments_and_replies_alike(submitted):
    with submitted.app_context():
        member, other, editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        first = services.add_comment(return_, action, "First", actor=member)
        reply = services.add_comment(return_, action, "A reply", actor=other, parent=first)
        hidden = services.add_comment(return_, action, "Rude", actor=other)
        withdrawn = services.add_comment(return_, action, "Oops", actor=member)
        services.add_comment(return_, action, "Still open", actor=member)
        services.answer_comment(
            first, "Thanks", actor=editor, is_you_said_we_did=True, change_made="We changed it"
        )
        services.answer_comment(reply, "Noted", actor=editor)
        services.hide_comment(hidden, "Personal details", actor=editor)
        services.withdraw_comment(withdrawn, actor=member)
        db.session.commit()

        totals = services.comment_totals(council(LEEDS), _period())
        assert totals == services.CommentTotals(
            received=4, answered=2, open=1, hidden=1, you_said_we_did=1
        )
        assert totals.received == totals.answered + totals.open + totals.hidden
        # Another council's return for the period has none.
        assert services.comment_totals(council(WAKEFIELD), _period()) == services.CommentTotals()


def test_you_said_we_did_shows_display_names_not_real_names_unless_opted_in(submitted):
    with submitted.app_context():
        member, other, editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        one = services.add_comment(return_, action, "More day centres", actor=member)
        two = services.add_comment(return_, action, "Easier forms", actor=other)
        for comment in (one, two):
            services.answer_comment(
                comment, "Done", actor=editor, is_you_said_we_did=True, change_made="Changed"
            )
        services.update_profile(
            other,
            council(LEEDS),
            display_name="Sam",
            is_real_name_shown=True,
            is_notified_by_email=True,
        )
        db.session.commit()
        items = services.list_you_said_we_did(council(LEEDS), _period())
        names = {item.comment: item.name for item in items}
        assert names["Easier forms"] == "Other Real"  # opted in
        assert names["More day centres"].startswith("Panel member ")
        assert "Real Name" not in names.values()
        assert items[0].action_code == action.code
        assert len(services.list_you_said_we_did(council(LEEDS), _period(), limit=1)) == 1


def test_no_comment_on_a_draft_return(submitted):
    with submitted.app_context():
        wakefield = council(WAKEFIELD)
        member = make_person("m@example.org", Role.PANEL_MEMBER, council=wakefield)
        return_ = get_return(WAKEFIELD)
        with pytest.raises(PanelError, match="submitted"):
            services.add_comment(return_, _action(return_), "Hello", actor=member)


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Enter your comment"), ("   \n ", "Enter your comment"), ("x" * 5001, "5,000")],
)
def test_comment_must_have_text_and_at_most_5000_characters(submitted, body, message):
    with submitted.app_context():
        member, _other, _editor = _people()
        return_ = get_return(LEEDS)
        with pytest.raises(PanelError, match=message):
            services.add_comment(return_, _action(return_), body, actor=member)


def test_line_breaks_are_kept_and_control_characters_dropped(submitted):
    with submitted.app_context():
        member, _other, _editor = _people()
        return_ = get_return(LEEDS)
        comment = services.add_comment(
            return_, _action(return_), "  one\r\ntwo\x00\x07\n\nthree  ", actor=member
        )
        db.session.commit()
        assert comment.body == "one\ntwo\n\nthree"
        assert len(services.add_comment(return_, _action(return_), "x" * 5000, actor=member).body)


def test_a_reply_to_a_reply_joins_the_top_level_thread(submitted):
    with submitted.app_context():
        member, other, _editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        top = services.add_comment(return_, action, "Top", actor=member)
        reply = services.add_comment(return_, action, "Reply", actor=other, parent=top)
        deeper = services.add_comment(return_, action, "Deeper", actor=member, parent=reply)
        assert deeper.parent_id == top.id
        thread = services.get_thread(return_, action, viewer=member, shows_real_names=False)
        assert [t.comment.body for t in thread.comments] == ["Top"]
        assert [r.comment.body for r in thread.comments[0].replies] == ["Reply", "Deeper"]
        assert thread.comments[0].is_mine and not thread.comments[0].replies[0].is_mine
        assert thread.total == 3 and thread.open == 3


def test_only_the_author_edits_and_only_while_open(submitted):
    with submitted.app_context():
        member, other, editor = _people()
        return_ = get_return(LEEDS)
        comment = services.add_comment(return_, _action(return_), "Draft words", actor=member)
        with pytest.raises(PanelError, match="own"):
            services.edit_comment(comment, "Hijack", actor=other, expected_version=None)
        with pytest.raises(PanelError, match="changed since"):
            services.edit_comment(comment, "New", actor=member, expected_version=99)
        services.edit_comment(
            comment, "Better words", actor=member, expected_version=comment.version_id
        )
        assert comment.body == "Better words" and comment.edited_at
        services.answer_comment(comment, "Thanks", actor=editor)
        with pytest.raises(PanelError, match="answered"):
            services.edit_comment(comment, "Later", actor=member, expected_version=None)
        with pytest.raises(PanelError, match="own"):
            services.withdraw_comment(comment, actor=other)
        services.withdraw_comment(comment, actor=member)
        assert comment.withdrawn_at


def test_hiding_needs_a_reason_is_audited_and_reversible(submitted):
    with submitted.app_context():
        member, _other, editor = _people()
        return_ = get_return(LEEDS)
        comment = services.add_comment(return_, _action(return_), "Names a person", actor=member)
        with pytest.raises(PanelError, match="reason"):
            services.hide_comment(comment, "  ", actor=editor)
        services.hide_comment(comment, "It names a member of staff", actor=editor)
        assert not comment.is_open
        assert services.list_awaiting(council(LEEDS)) == []
        services.unhide_comment(comment, actor=editor)
        assert comment.is_open and comment.hidden_reason == ""
        db.session.commit()
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "comment")
                .order_by(AuditEvent.id)
            )
        )
        assert actions == ["comment.create", "comment.hide", "comment.unhide"]


def test_you_said_we_did_needs_the_change(submitted):
    with submitted.app_context():
        member, _other, editor = _people()
        return_ = get_return(LEEDS)
        comment = services.add_comment(return_, _action(return_), "Idea", actor=member)
        with pytest.raises(PanelError, match="change"):
            services.answer_comment(comment, "Yes", actor=editor, is_you_said_we_did=True)
        answer = services.answer_comment(comment, "Yes", actor=editor)
        again = services.answer_comment(
            comment, "Yes, done", actor=editor, is_you_said_we_did=True, change_made="New leaflet"
        )
        assert again is answer and answer.change_made == "New leaflet" and answer.edited_at


def test_awaiting_lists_open_comments_oldest_first(submitted):
    with submitted.app_context():
        member, other, editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        first = services.add_comment(return_, action, "First", actor=member)
        services.add_comment(return_, action, "Second", actor=other)
        services.add_comment(return_, action, "Third", actor=member)
        services.answer_comment(first, "Done", actor=editor)
        awaiting = services.list_awaiting(council(LEEDS))
        assert [a.body for a in awaiting] == ["Second", "Third"]
        assert services.count_awaiting(council(LEEDS)) == 2
        assert services.list_awaiting(council(WAKEFIELD)) == []


def test_display_names_are_unique_within_a_panel(submitted):
    with submitted.app_context():
        member, other, _editor = _people()
        leeds = council(LEEDS)
        services.update_profile(
            member, leeds, display_name="Jo", is_real_name_shown=False, is_notified_by_email=True
        )
        with pytest.raises(PanelError, match="already uses"):
            services.update_profile(
                other, leeds, display_name="jo", is_real_name_shown=False, is_notified_by_email=True
            )
        with pytest.raises(PanelError, match="Enter"):
            services.update_profile(
                other, leeds, display_name=" ", is_real_name_shown=False, is_notified_by_email=True
            )


def test_export_holds_every_comment_reply_and_answer(submitted):
    with submitted.app_context():
        member, other, editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        top = services.add_comment(return_, action, "My comment\nsecond line", actor=member)
        services.add_comment(return_, action, "Not mine", actor=other)
        services.add_comment(return_, action, "My reply", actor=member, parent=top)
        services.answer_comment(
            top, "Our answer", actor=editor, is_you_said_we_did=True, change_made="A change"
        )
        text = services.member_csv(member)
        for expected in (
            "My comment\nsecond line",
            "My reply",
            "Our answer",
            "A change",
            action.code,
        ):
            assert expected in text
        assert "Not mine" not in text


def test_leaving_anonymises_comments_removes_the_membership_and_ends_sessions(submitted):
    with submitted.app_context():
        member, _other, editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        comment = services.add_comment(return_, action, "Before I go", actor=member)
        services.answer_comment(
            comment, "Thanks", actor=editor, is_you_said_we_did=True, change_made="Done"
        )
        version = member.session_version
        services.leave_panel(member, council(LEEDS))
        db.session.commit()
        assert member.session_version == version + 1
        assert (
            db.session.scalar(
                select(func.count(Membership.id)).where(Membership.user_id == member.id)
            )
            == 0
        )
        assert comment.profile.user_id is None
        assert services.list_you_said_we_did(council(LEEDS), _period())[0].name == FORMER_MEMBER
        thread = services.get_thread(return_, action, viewer=editor, shows_real_names=True)
        assert thread.comments[0].name == FORMER_MEMBER and thread.comments[0].real_name is None
        assert "Before I go" not in services.member_csv(db.session.get(User, member.id))
        with pytest.raises(PanelError):
            services.leave_panel(member, council(LEEDS))


def test_comment_lookup_is_scoped_to_the_thread(submitted):
    with submitted.app_context():
        member, _other, _editor = _people()
        return_ = get_return(LEEDS)
        action = _action(return_)
        comment = services.add_comment(return_, action, "Mine", actor=member)
        db.session.commit()
        assert services.get_comment(council(LEEDS), return_, action, str(comment.id)) is comment
        other_action = return_.assessments[1].action
        for council_code, act, cid in (
            (WAKEFIELD, action, comment.id),
            (LEEDS, other_action, comment.id),
            (LEEDS, action, "abc"),
            (LEEDS, action, 10**12),
        ):
            with pytest.raises(LookupError):
                services.get_comment(council(council_code), return_, act, cid)
        assert db.session.scalar(select(func.count(Comment.id))) == 1
