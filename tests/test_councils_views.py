"""The list of councils by ADASS region: what a user sees, checked against the database."""

from __future__ import annotations

from sqlalchemy import event, func, select

from tracker.extensions import db
from tracker.models import Council, Region


def _text(element) -> str:
    return " ".join(element.get_text(" ", strip=True).split())


def test_councils_page_lists_every_active_council_under_its_region(app, client, page):
    soup = page(client.get("/councils/"))

    with app.app_context():
        expected = {
            region: sorted(names)
            for region, names in _names_by_region(
                db.session.execute(
                    select(Region.name, Council.name, Council.short_name)
                    .join(Council.region)
                    .where(Council.is_active)
                ).all()
            ).items()
        }
    assert _text(soup.h1) == "Councils"
    assert "153 councils with adult social services responsibilities" in _text(soup.find("main"))

    tables = soup.find("main").find_all("table")
    assert len(tables) == len(expected) == 9
    seen: dict[str, list[str]] = {}
    for table in tables:
        heading = table.find_previous("h2")
        region = _text(heading)
        count_line = _text(heading.find_next_sibling("p"))
        names = [_text(row.th) for row in table.tbody.find_all("tr")]
        assert count_line == f"{len(names)} councils"
        assert _text(table.caption) == f"Councils in {region}"
        seen[region] = sorted(names)
    assert seen == expected
    assert len(seen["London"]) == 33


def _names_by_region(rows) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for region, name, _short_name in rows:
        grouped.setdefault(region, []).append(name)
    return grouped


def test_each_council_row_shows_its_code_readable_type_and_former_codes(client, page):
    soup = page(client.get("/councils/"))

    rows = {
        _text(row.th): [_text(cell) for cell in row.find_all("td")]
        for row in soup.select("main table tbody tr")
    }
    # An empty "Former codes" cell still says "None" to a screen reader.
    assert rows["Leeds City Council"] == ["E08000035", "Metropolitan district", "None"]
    barnsley = next(cells for name, cells in rows.items() if name.startswith("Barnsley"))
    assert barnsley[0] == "E08000038"
    assert "E08000016" in barnsley[2]
    assert rows["Essex County Council"][1] == "County council"
    city = next(cells for name, cells in rows.items() if "City of London" in name)
    assert city[1] == "Other"


def test_region_counts_in_the_contents_match_the_database(app, client, page):
    soup = page(client.get("/councils/"))

    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Region.name, func.count(Council.id))
                .join(Council.region)
                .where(Council.is_active)
                .group_by(Region.name)
            ).all()
        )
    contents = soup.find("nav", attrs={"aria-labelledby": "regions-heading"})
    listed = {_text(li.a): _text(li) for li in contents.find_all("li")}
    assert set(listed) == set(counts)
    for region, count in counts.items():
        assert listed[region] == f"{region} ({count})"
        slug = contents.find("a", string=region)["href"].lstrip("#")
        assert _text(soup.find("h2", id=slug)) == region


def test_inactive_councils_are_not_listed(app, client, page):
    with app.app_context():
        leeds = db.session.scalar(select(Council).where(Council.gss_code == "E08000035"))
        leeds.is_active = False
        db.session.commit()

    soup = page(client.get("/councils/"))

    assert soup.find("th", string="Leeds City Council") is None
    assert "152 councils" in _text(soup.find("main"))


def test_councils_page_reads_the_councils_in_one_query(app, client):
    statements: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        response = client.get("/councils/")
    finally:
        event.remove(engine, "before_cursor_execute", _record)

    assert response.status_code == 200
    assert len(statements) == 1, statements


def test_councils_page_credits_its_data_sources(client, page):
    soup = page(client.get("/councils/"))
    text = _text(soup.find("main"))

    assert "Office for National Statistics" in text
    assert "Open Government Licence v3.0" in text
    assert "mySociety" in text
    assert "CC BY 4.0" in text
