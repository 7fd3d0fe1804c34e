"""Evidence services: links, the hostile file corpus, virus scanning, storage, quota, linking.

Also the helpers the other evidence, period and reminder tests share: a small open period and
files of every accepted kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage

from tests.factories import get_user, make_user
from tests.helpers import stored_evidence
from tracker import storage
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    AuditEvent,
    Council,
    Evidence,
    Period,
    ReturnStatus,
    Role,
    assessment_evidence,
)
from tracker.returns import evidence as services
from tracker.returns.evidence import EvidenceError, EvidenceInvalid
from tracker.returns.periods import close_period, create_period, open_period
from tracker.returns.services import ReturnError

LEEDS, WAKEFIELD, CORNWALL = "E08000035", "E08000036", "E06000052"
PERIOD = "2025-26 Q3"
URL_PERIOD = "2025-26-Q3"
MB = 1024 * 1024

# -- shared set-up --------------------------------------------------------------------------------


def council_by_code(code: str) -> Council:
    found = db.session.scalar(select(Council).where(Council.gss_code == code))
    assert found is not None
    return found


def open_small_period(
    label: str = PERIOD,
    codes: Iterable[str] = (LEEDS, WAKEFIELD, CORNWALL),
    closes_on: date = date(2026, 1, 31),
) -> Period:
    """Create and open a period through the services, with only the councils of ``codes`` active
    while it opens, so that only they get a draft (much quicker than all 153). Call it in an app
    context; it commits."""
    codes = list(codes)
    paused = list(
        db.session.scalars(
            select(Council.id).where(Council.gss_code.not_in(codes), Council.is_active)
        )
    )
    db.session.execute(update(Council).where(Council.id.in_(paused)).values(is_active=False))
    period = create_period(label, closes_on, actor=None)
    open_period(period, actor=None)
    db.session.execute(update(Council).where(Council.id.in_(paused)).values(is_active=True))
    db.session.commit()
    return period


def first_action_codes(count: int = 2) -> list[str]:
    return list(
        db.session.scalars(
            select(Action.code)
            .where(Action.parent_id.is_(None), Action.archived_at.is_(None))
            .order_by(Action.code)
            .limit(count)
        )
    )


def assessment_of(code: str, action_code: str, label: str = PERIOD) -> Assessment:
    found = services.get_assessment(council_by_code(code), label.replace(" ", "-"), action_code)
    assert found is not None
    return found


@dataclass
class World:
    """An open period with drafts for Leeds, Wakefield and Cornwall, and a Leeds editor."""

    editor_id: int
    action_codes: list[str]


def make_world(app) -> World:
    with app.app_context():
        open_small_period()
        editor = make_user(
            email="editor@example.org",
            memberships=[(Role.COUNCIL_EDITOR, council_by_code(LEEDS))],
        )
        return World(editor_id=editor.id, action_codes=first_action_codes())


@pytest.fixture
def evidence_dir(app, tmp_path) -> Path:
    """The test's own evidence store."""
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_DIR"] = str(folder)
    return folder


@pytest.fixture
def world(app, evidence_dir) -> World:
    return make_world(app)


# -- files of every kind, good and bad ------------------------------------------------------------


def pdf() -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"
        b"%%EOF\n"
    )


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack("!I", len(data)) + body + struct.pack("!I", zlib.crc32(body))

    header = struct.pack("!IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        services.PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
Entries = list[tuple[str | zipfile.ZipInfo, bytes]]


def zipped(entries: Entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml(kind: str = "docx", extra: Entries = ()) -> bytes:
    """A minimal Office Open XML document of the kind, with ``extra`` parts."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/{MAIN_PARTS[kind]}" ContentType="{CONTENT_TYPES[kind]}"/>'
        "</Types>"
    ).encode()
    return zipped(
        [
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
            (MAIN_PARTS[kind], b'<?xml version="1.0"?><document/>'),
            *extra,
        ]
    )


def odf(kind: str = "odt", mimetype: bytes | None = None) -> bytes:
    """A minimal OpenDocument file: its ``mimetype`` part first and stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"),
            mimetype or services.ODF_MIMETYPES[kind],
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", b'<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


GOOD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "report.pdf": (pdf, "application/pdf"),
    "chart.png": (png, "image/png"),
    "photo.jpg": (jpeg, "image/jpeg"),
    "photo.JPEG": (jpeg, "image/jpeg"),
    "paper.docx": (lambda: ooxml("docx"), services.KINDS["docx"].content_type),
    "figures.xlsx": (lambda: ooxml("xlsx"), services.KINDS["xlsx"].content_type),
    "slides.pptx": (lambda: ooxml("pptx"), services.KINDS["pptx"].content_type),
    "notes.odt": (lambda: odf("odt"), services.KINDS["odt"].content_type),
    "sheet.ods": (lambda: odf("ods"), services.KINDS["ods"].content_type),
    "data.csv": (lambda: "\ufeffArea,Count\nLeeds,3\nCafé,4\n".encode(), "text/csv; charset=utf-8"),
}


def symlink_entry() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("word/media/link.png")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return info


def corrupted_docx() -> bytes:
    data = bytearray(ooxml("docx"))
    # Flip bytes inside the first part's compressed data: its checksum no longer matches.
    start = data.index(b"[Content_Types].xml") + len("[Content_Types].xml")
    for offset in range(start + 5, start + 25):
        data[offset] ^= 0xFF
    return bytes(data)


MARKUP = "must not contain web page, SVG or XML code"
NOT_REAL = "is not a real"
OUTSIDE = "points outside"
NOT_CSV = "is not a real CSV: it must be text saved as UTF-8"
NOT_ALLOWED = "must be a PDF, DOCX, XLSX, PPTX, ODT, ODS, CSV, PNG or JPG"

#: case → (file name, contents, what the refusal must say)
HOSTILE: dict[str, tuple[str, bytes, str]] = {
    # markup, whatever the name
    "html named .pdf": (
        "report.pdf",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        MARKUP,
    ),
    "html with leading spaces": ("report.pdf", b"\r\n  <html><body>hi</body></html>", MARKUP),
    "svg named .png": (
        "chart.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        MARKUP,
    ),
    "xml with a byte order mark named .csv": (
        "data.csv",
        b"\xef\xbb\xbf<?xml version='1.0'?><a/>",
        MARKUP,
    ),
    "utf-16 html named .csv": ("data.csv", "\ufeff<html></html>".encode("utf-16-le"), MARKUP),
    "pdf that is also html": ("report.pdf", b"%PDF-1.4\n<html><script>alert(1)</script>", MARKUP),
    "png with a script in a text chunk": (
        "chart.png",
        services.PNG_SIGNATURE + b"\x00\x00\x00\x10tEXt<script>alert(1)</script>",
        MARKUP,
    ),
    "csv that is a web page inside": ("data.csv", b"name\n<iframe src=x></iframe>\n", MARKUP),
    # magic bytes that do not match the extension
    "png named .pdf": ("report.pdf", png(), "is not a real PDF"),
    "pdf named .png": ("chart.png", pdf(), "is not a real PNG"),
    "pdf named .jpg": ("photo.jpg", pdf(), "is not a real JPG"),
    "pdf named .docx": ("paper.docx", pdf(), "is not a real Word document"),
    "xlsx named .docx": ("paper.docx", ooxml("xlsx"), "is not a real Word document"),
    "odt named .ods": ("sheet.ods", odf("odt"), "is not a real OpenDocument spreadsheet"),
    "odt with a made-up mimetype": ("notes.odt", odf("odt", b"application/x-evil"), NOT_REAL),
    "plain zip named .docx": ("paper.docx", zipped([("readme.txt", b"hello")]), NOT_REAL),
    "docx named .csv": ("data.csv", ooxml("docx"), NOT_CSV),
    # unsafe archives
    "docx with a ../ entry": (
        "paper.docx",
        ooxml("docx", [("../../evil.sh", b"#!/bin/sh")]),
        OUTSIDE,
    ),
    "docx with an absolute path": (
        "paper.docx",
        ooxml("docx", [("/etc/cron.d/evil", b"x")]),
        OUTSIDE,
    ),
    "docx with a windows drive path": (
        "paper.docx",
        ooxml("docx", [("C:\\evil.bat", b"x")]),
        OUTSIDE,
    ),
    "docx with backslashes and ..": (
        "paper.docx",
        ooxml("docx", [("word\\..\\..\\evil", b"x")]),
        OUTSIDE,
    ),
    "docx with a symlink entry": (
        "paper.docx",
        ooxml("docx", [(symlink_entry(), b"/etc/passwd")]),
        "symbolic link",
    ),
    "docx with macros": (
        "paper.docx",
        ooxml("docx", [("word/vbaProject.bin", b"\xd0\xcf")]),
        "contains macros",
    ),
    "corrupted docx": ("paper.docx", corrupted_docx(), "damaged"),
    # csv that is not UTF-8 text
    "csv with a NUL": ("data.csv", b"a,b\n1,\x002\n", NOT_CSV),
    "csv in latin-1": ("data.csv", "Café,1\n".encode("latin-1"), NOT_CSV),
    "csv with a control character": ("data.csv", b"a,b\n1,\x1b[31m\n", NOT_CSV),
    # names
    "unknown extension": ("tool.exe", b"MZ\x90\x00", NOT_ALLOWED),
    "svg extension": ("chart.svg", b"<svg/>", NOT_ALLOWED),
    "html extension": ("page.html", b"<p>hi</p>", NOT_ALLOWED),
    "no extension": ("README", b"plain text", NOT_ALLOWED),
    "empty file": ("report.pdf", b"", "is empty"),
}


def refusal(filename: str, data: bytes, *, max_bytes: int = 20 * MB) -> str:
    """The message ``check_file`` refuses the file with (it must refuse it)."""
    with pytest.raises(EvidenceInvalid) as caught:
        services.check_file(filename, data, max_bytes=max_bytes)
    assert set(caught.value.errors) == {"file"}
    return caught.value.errors["file"]


# -- checking files -------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", sorted(GOOD_FILES))
def test_every_allowed_kind_is_accepted_with_its_content_type(filename):
    make, content_type = GOOD_FILES[filename]
    assert services.check_file(filename, make(), max_bytes=20 * MB).content_type == content_type


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_hostile_corpus_is_refused(case):
    filename, data, reason = HOSTILE[case]
    message = refusal(filename, data)
    assert message.startswith("The selected file") and reason in message, message


def test_refusals_say_why_in_govuk_words():
    assert refusal("report.pdf", b"") == "The selected file is empty"
    assert refusal("tool.exe", b"MZ") == f"The selected file {NOT_ALLOWED}"
    assert refusal("report.pdf", png()) == (
        "The selected file is not a real PDF: its contents do not match its name"
    )
    assert refusal("report.pdf", b"<html></html>") == f"The selected file {MARKUP}"
    assert refusal("report.pdf", b"%PDF-" + b"x" * 30, max_bytes=20) == (
        "The selected file must be smaller than 20 bytes"
    )
    assert refusal("report.pdf", b"%PDF-" + b"x" * (2 * MB), max_bytes=2 * MB) == (
        "The selected file must be smaller than 2 MB"
    )
    assert refusal("data.csv", b"a\x00b") == f"The selected file {NOT_CSV}"


def test_a_zip_bomb_docx_is_refused_by_its_compression_ratio():
    bomb = ooxml("docx", [("word/bomb.xml", b"\x00" * (20 * MB))])
    assert len(bomb) < MB  # 20 MB of zeros deflate to about 20 KB
    assert refusal("paper.docx", bomb) == (
        "The selected file expands too much when opened to be checked"
    )


def test_a_docx_too_large_once_uncompressed_is_refused(monkeypatch):
    monkeypatch.setattr(services, "ZIP_MAX_UNCOMPRESSED", 10_000)
    data = ooxml("docx", [(f"word/part{n}.xml", os.urandom(3000)) for n in range(5)])
    assert refusal("paper.docx", data) == (
        "The selected file expands to more than 9.8 KB when opened"
    )


def test_a_docx_with_too_many_parts_is_refused(monkeypatch):
    monkeypatch.setattr(services, "ZIP_MAX_ENTRIES", 10)
    data = ooxml("docx", [(f"word/part{n}.xml", b"x") for n in range(10)])
    assert refusal("paper.docx", data) == "The selected file has too many parts to be checked"


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with ``name``'s uncompressed size rewritten in both of its headers."""
    patched = bytearray(data)
    # (signature, offset of the uncompressed size, of the name's length, of the name)
    for signature, size_at, length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        position = patched.find(signature)
        while position >= 0:
            length = struct.unpack_from("<H", patched, position + length_at)[0]
            if patched[position + name_at : position + name_at + length] == name.encode():
                struct.pack_into("<I", patched, position + size_at, size)
            position = patched.find(signature, position + 1)
    return bytes(patched)


def test_a_part_that_lies_about_its_size_is_refused():
    # The archive says the part is 10 bytes; it inflates to a megabyte. Reading stops at the
    # declared size and the checksum fails: the part is never inflated beyond what it declares.
    data = declare_size(ooxml("docx", [("word/big.xml", b"A" * MB)]), "word/big.xml", 10)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert next(i for i in infos if i.filename == "word/big.xml").file_size == 10
    assert "damaged" in refusal("paper.docx", data)


def test_a_pdf_with_xmp_metadata_is_not_mistaken_for_a_page():
    data = pdf() + b"<x:xmpmeta><rdf:RDF><rdf:Description/></rdf:RDF></x:xmpmeta>"
    assert services.check_file("report.pdf", data, max_bytes=MB).name == "pdf"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../x.pdf", "x.pdf"),
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("C:\\Users\\me\\Board paper.pdf", "Board paper.pdf"),
        ("Évaluation  finale.pdf", "Évaluation finale.pdf"),
        ("name\u202efdp.exe.pdf", "namefdp.exe.pdf"),
        ('a"b<c>d|e?.pdf', "abcde.pdf"),
        ("...", ""),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_file_names_are_cleaned_for_display_only(given, kept):
    assert services.clean_filename(given) == kept


# -- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://www.example.org/report",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "/councils/E08000035",
        "//evil.example/x",
        "www.example.org/report",
        "https://",
        "https:///path",
        "https:example.org",
        "https://user:secret@example.org/",
        "https://www.gov.uk@evil.example/",
        "https://exa mple.org/",
        "https://example.org/\u202egnp.exe",
        "https:\\\\evil.example\\x",
        "https://example.org:99999/",
        "https://example.org/\x00",
        "",
        "https://example.org/" + "a" * 2000,
    ],
)
def test_only_https_links_are_accepted(url):
    with pytest.raises(EvidenceInvalid) as caught:
        services.clean_url(url)
    assert set(caught.value.errors) == {"url"}


def test_link_messages_follow_govuk_wording():
    def message(url: str) -> str:
        with pytest.raises(EvidenceInvalid) as caught:
            services.clean_url(url)
        return caught.value.errors["url"]

    assert message("") == "Enter a link"
    assert message("http://example.org") == "Enter a link that starts with https://"
    assert message("javascript:alert(1)") == "Enter a link that starts with https://"
    assert message("https://" + "a" * 2000) == "Link must be 2,000 characters or fewer"
    assert message("https://a@b.example") == "Enter a link without a user name or password"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.gov.uk/guidance", "https://www.gov.uk/guidance"),
        ("  https://example.org/a?b=c#d  ", "https://example.org/a?b=c#d"),
        ("HTTPS://Example.org/Board%20paper.pdf", "https://Example.org/Board%20paper.pdf"),
        ("https://例え.jp/報告", "https://例え.jp/報告"),
    ],
)
def test_https_links_are_kept_as_typed(url, kept):
    assert services.clean_url(url) == kept


def test_a_link_is_added_with_an_audit_row_and_never_fetched(app, world, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the server must not fetch evidence links")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with app.app_context():
        leeds = council_by_code(LEEDS)
        item = services.add_link_evidence(
            leeds,
            "  Carers strategy  ",
            "strategy",
            date(2025, 4, 1),
            "https://www.leeds.gov.uk/carers",
            actor=get_user(world.editor_id),
        )
        db.session.commit()
        assert (item.title, item.url, item.stored_name) == (
            "Carers strategy",
            "https://www.leeds.gov.uk/carers",
            None,
        )
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.create"))
        assert event.council_id == leeds.id
        assert event.object_id == str(item.id)
        assert event.after["url"] == "https://www.leeds.gov.uk/carers"


def test_link_details_are_checked(app, world):
    with app.app_context(), pytest.raises(EvidenceInvalid) as caught:
        services.add_link_evidence(
            council_by_code(LEEDS),
            "",
            "gossip",
            date.today() + timedelta(days=2),
            "javascript:alert(1)",
            actor=get_user(world.editor_id),
        )
    assert caught.value.errors == {
        "title": "Enter a title",
        "evidence_type": "Select the type of evidence",
        "dated_on": "The date of the evidence must be today or in the past",
        "url": "Enter a link that starts with https://",
    }


def test_evidence_dated_today_in_the_uk_is_accepted_while_utc_is_still_yesterday(
    app, world, monkeypatch
):
    """At 00:30 on 1 July in the UK it is 23:30 on 30 June in UTC: evidence dated 1 July is
    today's, not the future's, and 2 July is still refused."""
    from datetime import datetime

    from tracker import clock

    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 6, 30, 23, 30))
    with app.app_context():
        item = services.add_link_evidence(
            council_by_code(LEEDS),
            "Summer newsletter",
            "other",
            date(2026, 7, 1),
            "https://example.org/newsletter",
            actor=get_user(world.editor_id),
        )
        assert item.dated_on == date(2026, 7, 1)
        with pytest.raises(EvidenceInvalid) as caught:
            services.add_link_evidence(
                council_by_code(LEEDS),
                "Next newsletter",
                "other",
                date(2026, 7, 2),
                "https://example.org/next",
                actor=get_user(world.editor_id),
            )
    assert caught.value.errors == {"dated_on": services.DATED_IN_FUTURE}


# -- files: storage, scanning, quota --------------------------------------------------------------


def upload_of(data: bytes, filename: str) -> FileStorage:
    # What the browser claims the type is never counts.
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type="text/html")


def add_file(
    world: World, data: bytes, filename: str = "report.pdf", code: str = LEEDS
) -> Evidence:
    return services.add_file_evidence(
        council_by_code(code),
        "Board paper",
        "board_paper",
        date(2025, 10, 1),
        upload_of(data, filename),
        actor=get_user(world.editor_id),
    )


def evidence_audit(action: str = "evidence.create") -> AuditEvent:
    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )


def test_a_file_is_stored_under_a_random_name_with_its_hash(app, world, evidence_dir):
    data = pdf()
    with app.app_context():
        item = add_file(world, data, "Board paper (final).pdf")
        db.session.commit()
        assert stored_evidence(app) == {item.stored_name: data}
        assert len(item.stored_name) == 32 and item.stored_name != "Board paper (final).pdf"
        assert item.original_name == "Board paper (final).pdf"
        # The type comes from the check, not from what the browser said (text/html).
        assert item.content_type == "application/pdf"
        assert (item.size_bytes, item.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        store = storage.store()
        if store.kind == storage.FOLDER:  # only the service's own user reads evidence
            path = store.path(services.stored_key(item))
            assert path.parent == evidence_dir.resolve()
            assert path.stat().st_mode & 0o777 == 0o600
        event = evidence_audit()
        assert event.council_id == item.council_id
        assert event.after["sha256"] == item.sha256
        # No clamd is configured in the tests: the trail says the file was not scanned.
        assert event.after["virus_scan"] == "not_scanned"


def test_a_traversal_file_name_stays_inside_the_store(app, world, evidence_dir, tmp_path):
    with app.app_context():
        item = add_file(world, pdf(), "../../x.pdf")
        other = add_file(world, pdf(), "..\\..\\..\\x.pdf")
        db.session.commit()
        assert sorted(stored_evidence(app)) == sorted([item.stored_name, other.stored_name])
        assert not (tmp_path / "x.pdf").exists()
        assert not (evidence_dir.parent.parent / "x.pdf").exists()
        assert (item.original_name, other.original_name) == ("x.pdf", "x.pdf")


def test_the_store_is_outside_static(app, world):
    with app.app_context():
        static = Path(app.static_folder).resolve()
        folder = storage.folder_roots(app)["evidence"]
        assert static not in folder.parents and folder != static
        app.config["EVIDENCE_DIR"] = str(static / "evidence")
        with pytest.raises(storage.StoreError, match="outside the static folder"):
            storage.folder_roots(app)


def test_the_default_store_is_instance_evidence(app):
    app.config["EVIDENCE_DIR"] = None
    with app.app_context():
        expected = (Path(app.instance_path) / "evidence").resolve()
        assert storage.folder_roots(app)["evidence"] == expected


def test_a_refused_file_leaves_nothing_behind(app, world, evidence_dir):
    with app.app_context():
        with pytest.raises(EvidenceInvalid):
            add_file(world, b"<html><script>alert(1)</script></html>", "x.pdf")
        db.session.rollback()
        assert db.session.scalar(select(Evidence.id)) is None
    assert stored_evidence(app) == {}


def test_the_councils_quota_is_enforced(app, world):
    app.config["EVIDENCE_COUNCIL_QUOTA"] = len(pdf()) * 2 + 10
    with app.app_context():
        add_file(world, pdf())
        add_file(world, pdf())
        with pytest.raises(EvidenceInvalid) as caught:
            add_file(world, pdf())
        assert caught.value.errors["file"].startswith(
            "There is not enough space left for the selected file: Leeds has used"
        )
        # Other councils have quotas of their own.
        assert add_file(world, pdf(), code=WAKEFIELD).id


def test_the_size_limit_comes_from_the_configuration(app, world):
    app.config["EVIDENCE_MAX_BYTES"] = 100
    with app.app_context(), pytest.raises(EvidenceInvalid) as caught:
        add_file(world, pdf() + b"%" * 100)
    assert caught.value.errors == {"file": "The selected file must be smaller than 100 bytes"}


def test_no_file_chosen(app, world):
    with app.app_context(), pytest.raises(EvidenceInvalid) as caught:
        services.add_file_evidence(
            council_by_code(LEEDS),
            "Board paper",
            "board_paper",
            None,
            FileStorage(stream=io.BytesIO(b""), filename=""),
            actor=get_user(world.editor_id),
        )
    assert caught.value.errors == {"file": "Select a file"}


# -- clamd ----------------------------------------------------------------------------------------

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@contextlib.contextmanager
def fake_clamd(
    reply_for: Callable[[bytes], bytes] | None = None,
) -> Iterator[tuple[str, list[bytes]]]:
    """A clamd that speaks INSTREAM on a Unix socket: it finds EICAR, else answers OK."""
    folder = tempfile.mkdtemp(prefix="clamd", dir="/tmp")  # short: socket paths are limited
    path = os.path.join(folder, "clamd.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            with connection:
                command = b""
                while not command.endswith(b"\0"):
                    command += connection.recv(1)
                assert command == b"zINSTREAM\0"
                data = b""
                while True:
                    size = struct.unpack("!L", connection.recv(4, socket.MSG_WAITALL))[0]
                    if size == 0:
                        break
                    data += connection.recv(size, socket.MSG_WAITALL)
                received.append(data)
                if reply_for is not None:
                    reply = reply_for(data)
                elif EICAR in data:
                    reply = b"stream: Eicar-Test-Signature FOUND\0"
                else:
                    reply = b"stream: OK\0"
                connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path, received
    finally:
        server.close()
        thread.join(timeout=5)
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def test_a_clean_file_is_scanned_by_clamd(app, world):
    data = pdf()
    with fake_clamd() as (path, received):
        app.config["CLAMD_SOCKET"] = path
        with app.app_context():
            add_file(world, data)
            db.session.commit()
            assert evidence_audit().after["virus_scan"] == "clean"
    assert received == [data]


def test_an_infected_file_is_refused(app, world, evidence_dir):
    with fake_clamd() as (path, _received):
        app.config["CLAMD_SOCKET"] = path
        with app.app_context():
            with pytest.raises(EvidenceInvalid) as caught:
                add_file(world, pdf() + EICAR)
            assert caught.value.errors == {"file": "The selected file contains a virus"}
            db.session.rollback()
            assert db.session.scalar(select(Evidence.id)) is None
    assert stored_evidence(app) == {}


def test_a_clamd_error_refuses_the_file(app, world):
    with fake_clamd(lambda data: b"INSTREAM size limit exceeded. ERROR\0") as (path, _):
        app.config["CLAMD_SOCKET"] = path
        with app.app_context(), pytest.raises(EvidenceInvalid) as caught:
            add_file(world, pdf())
    assert caught.value.errors == {
        "file": "The selected file could not be checked for viruses. Try again later"
    }


def test_an_unreachable_clamd_refuses_the_file(app, world):
    app.config["CLAMD_SOCKET"] = "/tmp/no-such-clamd.sock"
    with app.app_context(), pytest.raises(EvidenceInvalid) as caught:
        add_file(world, pdf())
    assert "could not be checked for viruses" in caught.value.errors["file"]


def test_clamd_over_tcp(app, world):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            buffer = b""
            while not buffer.endswith(b"\x00\x00\x00\x00"):
                buffer += connection.recv(65536)
            connection.sendall(b"stream: OK\0")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    app.config.update(CLAMD_HOST="127.0.0.1", CLAMD_PORT=server.getsockname()[1])
    try:
        with app.app_context():
            assert services.scan_for_viruses(pdf()).status == "clean"
    finally:
        thread.join(timeout=5)
        server.close()


# -- linking --------------------------------------------------------------------------------------


def test_one_item_supports_several_actions_and_is_audited(app, world):
    first, second = world.action_codes
    with app.app_context():
        editor = get_user(world.editor_id)
        item = add_file(world, pdf())
        assert services.link_evidence(assessment_of(LEEDS, first), item, actor=editor)
        assert services.link_evidence(assessment_of(LEEDS, second), item, actor=editor)
        assert not services.link_evidence(assessment_of(LEEDS, second), item, actor=editor)
        db.session.commit()
        assert {a.action.code for a in item.assessments} == {first, second}
        assert services.unlink_evidence(assessment_of(LEEDS, first), item, actor=editor)
        assert not services.unlink_evidence(assessment_of(LEEDS, first), item, actor=editor)
        db.session.commit()
        kept = db.session.get(Evidence, item.id)
        assert kept is not None  # unlinking keeps the item in the council's evidence
        assert [a.action.code for a in kept.assessments] == [second]
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.council_id)
            .where(AuditEvent.action.like("evidence.%"))
            .order_by(AuditEvent.id)
        ).all()
        leeds_id = council_by_code(LEEDS).id
        assert events == [
            ("evidence.create", leeds_id),
            ("evidence.link", leeds_id),
            ("evidence.link", leeds_id),
            ("evidence.unlink", leeds_id),
        ]
        assert evidence_audit("evidence.unlink").before == {
            "evidence_id": item.id,
            "title": "Board paper",
        }


def test_another_councils_evidence_cannot_be_linked(app, world):
    with app.app_context():
        wakefield_item = add_file(world, pdf(), code=WAKEFIELD)
        with pytest.raises(EvidenceError):
            services.link_evidence(
                assessment_of(LEEDS, world.action_codes[0]),
                wakefield_item,
                actor=get_user(world.editor_id),
            )


def test_evidence_changes_only_while_the_return_is_an_open_draft(app, world):
    code = world.action_codes[0]
    with app.app_context():
        editor = get_user(world.editor_id)
        item = add_file(world, pdf())
        services.link_evidence(assessment_of(LEEDS, code), item, actor=editor)
        assessment_of(LEEDS, code).return_.status = ReturnStatus.SUBMITTED
        db.session.commit()
        other = add_file(world, pdf())
        with pytest.raises(ReturnError, match="submitted"):
            services.link_evidence(assessment_of(LEEDS, code), other, actor=editor)
        with pytest.raises(ReturnError, match="submitted"):
            services.unlink_evidence(assessment_of(LEEDS, code), item, actor=editor)
        return_ = assessment_of(LEEDS, code).return_
        return_.status = ReturnStatus.DRAFT
        close_period(return_.period, actor=None, confirm_early=True)
        db.session.commit()
        with pytest.raises(ReturnError, match="closed"):
            services.link_evidence(assessment_of(LEEDS, code), other, actor=editor)


def test_the_scoped_loader_answers_only_for_the_councils_own_return(app, world):
    code = world.action_codes[0]
    with app.app_context():
        leeds = council_by_code(LEEDS)
        found = services.get_assessment(leeds, URL_PERIOD, code)
        assert found.return_.council_id == leeds.id and found.action.code == code
        assert services.get_assessment(leeds, "2025-26 Q3", code) is None
        assert services.get_assessment(leeds, "2025-27-Q3", code) is None
        assert services.get_assessment(leeds, "2026-27-Q1", code) is None
        assert services.get_assessment(leeds, URL_PERIOD, "Z99.X99") is None
        # A council without a return for the period (it was not active when it opened).
        assert services.get_assessment(council_by_code("E09000033"), URL_PERIOD, code) is None


def test_carried_forward_evidence_still_supports_next_quarter(app, world):
    code = world.action_codes[0]
    with app.app_context():
        item = add_file(world, pdf())
        services.link_evidence(assessment_of(LEEDS, code), item, actor=get_user(world.editor_id))
        db.session.commit()
        open_small_period("2025-26 Q4", closes_on=date(2026, 4, 30))
        assert item in assessment_of(LEEDS, code, "2025-26 Q4").evidence
        library = services.list_council_evidence(council_by_code(LEEDS))
        assert [(s.period_label, s.action_code) for s in library[0].supports] == [
            ("2025-26 Q4", code),
            ("2025-26 Q3", code),
        ]
        assert db.session.scalar(select(func.count()).select_from(assessment_evidence)) == 2
