"""Panel pages in plain words: action titles beside codes, quarters as months, no staff-only
words, the glossary, reading ease; answers on time (working days, overdue first, the median);
"You said, we did"; the member's CSV; the Easy Read summary."""

from __future__ import annotations

import csv
import html
import io
import re
import statistics
from datetime import datetime
from pathlib import Path

import pytest
import textstat
import time_machine
from sqlalchemy import select

from tests.access_matrix import make_member, signed_in_client
from tests.returns_data import (
    LABEL,
    LEEDS,
    SLUG,
    assess,
    assess_all,
    get_return,
    open_period,
    sign_off,
    submit,
)
from tracker.domain.periods import months, quarter_name, working_days_between
from tracker.domain.vocabulary import GLOSSARY, RAG_NAMES, STAGE_NAMES, action_name
from tracker.extensions import db
from tracker.models import Action, Assessment, Comment, CommentAnswer, Role, User
from tracker.panels import services
from tracker.reports import paper

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "panels"
PANEL = f"/councils/{LEEDS}/panel"
#: the least Flesch reading ease of the panel pages' own words (60: plain English)
READING_EASE = 60
#: words of the council's own workflow that a panel member must never meet
STAFF_WORDS = ("Check the answers", "Submit", "Sign off", "Send back", "Sent back", "Reopen")
#: a Monday, well after the period opened
MONDAY = datetime(2026, 1, 12, 10, 0)


# -- the static prose of a template ----------------------------------------------------------

_BLOCK_END = re.compile(r"</(p|li|h[1-6]|dt|dd|td|th|caption|title|label|legend|summary)>")


def prose(source: str) -> str:
    """The words a template itself says: Jinja tags, expressions and comments and HTML tags
    taken out, each block element (paragraph, list item, heading …) one sentence."""
    text = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    text = _BLOCK_END.sub(" ¶ ", text)
    text = re.sub(r"\{%-?\s*(end)?block\b.*?%\}", " ¶ ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\s-?\}\}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text, flags=re.S)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(html.unescape(text).split()))
    parts = [part.strip(" ,:;()–·") for part in text.split("¶")]
    return " ".join(
        part if part[-1] in ".?!" else part + "." for part in parts if re.search(r"[A-Za-z]", part)
    )


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_each_panel_template_reads_easily(name):
    text = prose((TEMPLATES / name).read_text())
    assert len(text.split()) >= 20, text
    assert textstat.flesch_reading_ease(text) >= READING_EASE, text


def test_the_prose_leaves_out_jinja_and_html():
    text = prose('<p class="x">Hello {{ name }}.</p>{% if a %}<li>One{# note #}</li>{% endif %}')
    assert text == "Hello. One."


# -- a world with comments -------------------------------------------------------------------


@pytest.fixture
def world(app):
    """Leeds's 2025-26 Q3 return assessed (a few actions Red with next steps, a few Green),
    submitted and signed off; a member and an editor."""
    open_period(app)
    assess_all(app, LEEDS)
    with app.app_context():
        codes = [a.action.code for a in get_return(LEEDS).assessments]
    red = {
        "stage": "implementing",
        "rag": "red",
        "narrative": "Stalled",
        "next_steps": "Hire two more staff. Then review.",
        "barriers": ["workforce"],
    }
    assess(app, LEEDS, codes[:3], red)
    assess(app, LEEDS, codes[3:5], {"stage": "planning", "rag": "green", "narrative": "On course"})
    assess(app, LEEDS, codes[5:6], {"stage": "planning", "rag": "amber", "narrative": "Mitigated"})
    submit(app, LEEDS)
    sign_off(app, LEEDS)
    member = make_member(app, Role.PANEL_MEMBER)
    editor = make_member(app, Role.COUNCIL_EDITOR)
    return app, codes, member, editor


def _add(app, code: str, body: str, member_id: int) -> int:
    with app.app_context():
        return_ = get_return(LEEDS)
        action = services.get_action(code)
        comment = services.add_comment(return_, action, body, actor=db.session.get(User, member_id))
        db.session.commit()
        return comment.id


def _answer(app, comment_id: int, editor_id: int, **kwargs) -> None:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        services.answer_comment(
            comment, "Thank you", actor=db.session.get(User, editor_id), **kwargs
        )
        db.session.commit()


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


# -- plain words on every page a member reaches ------------------------------------------------


def test_member_pages_name_actions_by_title_and_quarters_by_months(world):
    app, codes, member, _editor = world
    with time_machine.travel(MONDAY, tick=False):
        _add(app, codes[0], "Why is this late?", member.id)
        client = signed_in_client(app, member)
        with app.app_context():
            action = db.session.scalar(select(Action).where(Action.code == codes[0]))
            title = action.text
        quarter = months(LABEL)
        pages = {
            "panel": client.get(f"{PANEL}/"),
            "thread": client.get(f"{PANEL}/{SLUG}/actions/{codes[0]}"),
            "mine": client.get(f"{PANEL}/my-comments"),
            "return": client.get(f"/councils/{LEEDS}/returns/{SLUG}"),
            "action": client.get(f"/councils/{LEEDS}/returns/{SLUG}/actions/{codes[0]}"),
            "answered": client.get(f"{PANEL}/you-said-we-did"),
            "easy": client.get(f"{PANEL}/easy-read"),
        }
    for where, response in pages.items():
        assert response.status_code == 200, where
        text = _text(response)
        for word in STAFF_WORDS:
            assert word not in text, (where, word)
        assert LABEL not in text.split("<main")[-1], where
        # no "Action E06.02" standing for an action on the panel's own pages: a code is always
        # beside its title
        if where not in ("return", "action"):
            assert not re.search(r"Action [A-Z]\d\d\.[A-Z]?\d", text.split("<main")[-1]), where
    for where in ("panel", "thread", "mine", "action"):
        text = html.unescape(_text(pages[where]))
        assert title[:60] in text, where
        assert quarter in text, where
    assert LABEL not in _text(pages["panel"]).split("<main")[-1]
    assert quarter in _text(pages["return"])
    assert "Not given" not in _text(pages["action"])


def test_the_glossary_lists_every_term_with_an_id_and_pages_link_to_it(client, world):
    app, codes, member, _editor = world
    response = client.get("/glossary")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    for entry in GLOSSARY:
        assert f'id="{entry.id}"' in text
        assert entry.term in text
    for label in (*STAGE_NAMES.values(), *RAG_NAMES.values(), "VCFSE", "ICB", "DASS", "ADASS"):
        assert label in text
    member_client = signed_in_client(app, member)
    action = member_client.get(f"/councils/{LEEDS}/returns/{SLUG}/actions/{codes[0]}")
    assert 'href="/glossary#lead"' in action.get_data(as_text=True)


def test_glossary_links_link_short_forms_once_and_escape_the_rest(app):
    from tracker.filters import glossary_links

    with app.test_request_context():
        linked = str(glossary_links("Work with VCFSE <b>groups</b> and the VCFSE sector"))
    assert linked.count('href="/glossary#vcfse"') == 1
    assert "&lt;b&gt;" in linked


# -- answers on time ---------------------------------------------------------------------------


def test_working_days_skip_weekends():
    assert working_days_between(datetime(2026, 1, 9).date(), datetime(2026, 1, 12).date()) == 1
    assert working_days_between(datetime(2026, 1, 12).date(), datetime(2026, 1, 26).date()) == 10


def test_the_queue_shows_ages_and_puts_overdue_comments_first(world):
    app, codes, member, editor = world
    with app.app_context():
        db.session.get(User, member.id)
        council = get_return(LEEDS).council
        council.panel_answer_days = 5
        db.session.commit()
    with time_machine.travel(datetime(2026, 1, 5, 10), tick=False):  # Monday
        old = _add(app, codes[0], "Old comment", member.id)
    with time_machine.travel(datetime(2026, 1, 14, 10), tick=False):  # Wednesday
        new = _add(app, codes[1], "New comment", member.id)
    with time_machine.travel(datetime(2026, 1, 16, 10), tick=False):  # Friday
        with app.app_context():
            items = services.list_awaiting(get_return(LEEDS).council)
        assert [(i.comment_id, i.age_days, i.is_overdue) for i in items] == [
            (old, 9, True),
            (new, 2, False),
        ]
        client = signed_in_client(app, editor)
        text = _text(client.get(f"{PANEL}/awaiting"))
    assert text.index("Old comment") < text.index("New comment")
    assert "Overdue" in text and "Waiting 9 working days" in text
    assert "The council aims to answer within 5 working days" in text


def test_the_median_answer_time_and_the_number_overdue_match_a_hand_count(world):
    app, codes, member, editor = world
    times = [
        (datetime(2026, 1, 5, 9), datetime(2026, 1, 6, 9)),  # Mon → Tue: 1
        (datetime(2026, 1, 9, 9), datetime(2026, 1, 12, 9)),  # Fri → Mon: 1
        (datetime(2026, 1, 5, 9), datetime(2026, 1, 19, 9)),  # Mon → Mon + 2 weeks: 10
        (datetime(2026, 1, 7, 9), datetime(2026, 1, 14, 9)),  # Wed → Wed: 5
    ]
    for written, answered in times:
        with time_machine.travel(written, tick=False):
            comment_id = _add(app, codes[0], "A question", member.id)
        with time_machine.travel(answered, tick=False):
            _answer(app, comment_id, editor.id)
    with time_machine.travel(datetime(2026, 1, 1, 9), tick=False):
        waiting = _add(app, codes[1], "Still waiting", member.id)
    with time_machine.travel(datetime(2026, 2, 2, 9), tick=False), app.app_context():
        council = get_return(LEEDS).council
        result = services.answer_times(council, get_return(LEEDS).period)
    assert result.median_days == statistics.median([1, 1, 10, 5]) == 3
    assert result.overdue == 1 and result.aim_days == 20
    assert waiting
    sentence = paper.coproduction_sentence(5, 4, 1, 0, 3, 1, 20)
    assert "median time to answer was 3 working days (the council aims for 20)" in sentence
    assert "1 comment is overdue" in sentence


def test_the_approver_sets_the_answer_days_and_members_are_told(world):
    app, _codes, member, _editor = world
    approver = make_member(app, Role.COUNCIL_APPROVER)
    client = signed_in_client(app, approver)
    page = client.get(f"{PANEL}/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    response = client.post(f"{PANEL}/settings", data={"csrf_token": token, "answer_days": "10"})
    assert response.status_code == 302
    assert (
        client.post(f"{PANEL}/settings", data={"csrf_token": token, "answer_days": "0"}).status_code
        == 422
    )
    text = _text(signed_in_client(app, member).get(f"{PANEL}/"))
    assert "The council aims to answer within 10 working days" in text


# -- you said, we did; the member's CSV ------------------------------------------------------


def test_you_said_we_did_lists_exactly_the_answered_comments(world):
    app, codes, member, editor = world
    answered = _add(app, codes[0], "Answered one", member.id)
    changed = _add(app, codes[1], "Changed one", member.id)
    _add(app, codes[2], "Open one", member.id)
    _answer(app, answered, editor.id)
    _answer(app, changed, editor.id, is_you_said_we_did=True, change_made="We moved the date")
    text = _text(signed_in_client(app, member).get(f"{PANEL}/you-said-we-did"))
    with app.app_context():
        in_db = set(db.session.scalars(select(CommentAnswer.comment_id)))
    shown = {int(i) for i in re.findall(r'id="answered-(\d+)"', text)}
    assert shown == in_db == {answered, changed}
    assert "We moved the date" in text and "Open one" not in text


def test_the_csv_has_titles_uk_times_and_neutralised_cells(world):
    app, codes, member, _editor = world
    with time_machine.travel(datetime(2026, 7, 1, 11, 30), tick=False):  # 12:30 in the UK
        _add(app, codes[0], "=cmd|' /C calc'!A0", member.id)
    response = signed_in_client(app, member).get(f"{PANEL}/my-comments.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    with app.app_context():
        title = db.session.scalar(select(Action.text).where(Action.code == codes[0]))
    assert rows[0]["Action code"] == codes[0]
    assert rows[0]["Action title"].lstrip("'") == title
    assert rows[0]["Written (UK time)"] == "1 July 2026 12:30"
    assert rows[0]["Quarter"] == months(LABEL)
    assert rows[0]["What you wrote"] == "'=cmd|' /C calc'!A0"


# -- the Easy Read summary ---------------------------------------------------------------------


def test_the_easy_read_counts_match_the_database(world):
    app, _codes, member, _editor = world
    with app.app_context():
        rows = db.session.execute(
            select(Assessment.stage, Assessment.rag)
            .join(Action, Action.id == Assessment.action_id)
            .where(Assessment.return_id == get_return(LEEDS).id, Action.parent_id.is_(None))
        ).all()
    well = sum(1 for stage, rag in rows if stage == "embedded" or rag == "green")
    not_well = sum(1 for _stage, rag in rows if rag == "red")
    text = _text(signed_in_client(app, member).get(f"{PANEL}/easy-read"))
    assert f"{well} things are working well." in text
    assert f"{not_well} things are not going well." in text
    assert "Hire two more staff." in text and "Then review" not in text
    assert f"This is about {months(LABEL)}." in text


def test_the_easy_read_page_reads_easily_when_filled_in(world):
    app, _codes, member, _editor = world
    response = signed_in_client(app, member).get(f"{PANEL}/easy-read")
    main = response.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    assert textstat.flesch_reading_ease(prose("<main" + main)) >= READING_EASE


def test_an_action_is_named_by_its_words_with_its_code_beside_them():
    assert action_name("A01.S01", "Bring partners together") == "Bring partners together (A01.S01)"
    long = "Develop a long-term, fully funded national workforce strategy for adult social care"
    assert action_name("E03.01", long, 40) == "Develop a long-term, fully funded… (E03.01)"
    assert len(action_name("E03.01", long, 40).split(" (")[0]) <= 40
    assert action_name("E03.01", "  Spaced\n  out  ") == "Spaced out (E03.01)"
    assert action_name("E03.01", "") == "E03.01"


def test_the_panel_reads_quarters_as_months_and_staff_by_their_code():
    assert quarter_name("2026-27 Q3", plain=True) == "October to December 2026"
    assert quarter_name("2026-27 Q4", plain=True) == "January to March 2027"
    assert quarter_name("2026-27 Q3", plain=False) == "2026-27 Q3"
