"""Evidence: links and uploaded files that support a council's assessments (SECURITY.md G).

A council's evidence is its own library: one item can support several actions, in this quarter
and (carried forward) in later ones. A link must be https and is never fetched by the server. A
file is checked before it is kept: an allow-listed extension whose magic bytes agree with it, no
markup (HTML, SVG, XML) whatever its name, zip-based documents free of zip bombs, links and paths
that leave the archive, a virus scan by clamd when one is configured, and the council's quota. It
is then written outside ``static/`` under a random name, and only the download view reads it.

Every function takes the acting person explicitly, flushes and never commits: the caller commits
once. Every change is written to the audit trail with the council's id.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import socket
import stat
import struct
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from tracker import storage
from tracker.audit import record
from tracker.clock import uk_today
from tracker.domain.periods import label_from_url
from tracker.domain.vocabulary import CQC_EVIDENCE_CATEGORY_NAMES
from tracker.domain.workflow import Step
from tracker.extensions import db
from tracker.models import (
    Action,
    Assessment,
    Council,
    Evidence,
    Period,
    Return,
    ReturnStatus,
    User,
    assessment_evidence,
)
from tracker.returns.services import require_step

log = logging.getLogger(__name__)

#: the kinds of evidence, in the order they are offered
EVIDENCE_TYPES = {
    "strategy": "Strategy or plan",
    "board_paper": "Board paper",
    "data": "Data or dashboard",
    "case_study": "Case study",
    "co_production": "Co-production record",
    "other": "Other",
}
TITLE_MAX = 200
#: what a CQC evidence category that was not offered gets (the field is optional)
CQC_CATEGORY_REFUSED = "Select a CQC evidence category from the list, or “Not categorised”"
URL_MAX = 2000
#: how much of a file is searched for markup that would make it a polyglot (browsers sniff
#: about the first 512 bytes; a little more costs nothing)
SNIFF_BYTES = 1024


@dataclass(frozen=True)
class FileKind:
    """A type of file the service accepts."""

    name: str
    label: str
    content_type: str


KINDS = {
    "pdf": FileKind("pdf", "PDF", "application/pdf"),
    "docx": FileKind(
        "docx",
        "Word document (DOCX)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": FileKind(
        "xlsx",
        "Excel spreadsheet (XLSX)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "pptx": FileKind(
        "pptx",
        "PowerPoint presentation (PPTX)",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "odt": FileKind("odt", "OpenDocument text (ODT)", "application/vnd.oasis.opendocument.text"),
    "ods": FileKind(
        "ods", "OpenDocument spreadsheet (ODS)", "application/vnd.oasis.opendocument.spreadsheet"
    ),
    "csv": FileKind("csv", "CSV", "text/csv; charset=utf-8"),
    "png": FileKind("png", "PNG", "image/png"),
    "jpeg": FileKind("jpeg", "JPG", "image/jpeg"),
}
#: file name extension → the kind it claims
EXTENSIONS = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    "odt": "odt",
    "ods": "ods",
    "csv": "csv",
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
}
ALLOWED_TEXT = "PDF, DOCX, XLSX, PPTX, ODT, ODS, CSV, PNG or JPG"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
ZIP_SIGNATURE = b"PK\x03\x04"
#: (folder every OOXML document of the kind has, the main part's content type)
OOXML_MARKERS = {
    "docx": ("word/", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/", "presentationml.presentation.main+xml"),
}
ODF_MIMETYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}
#: tags whose presence near the start of a file lets a browser or viewer treat it as a page
MARKUP_MARKERS = (
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<meta",
    b"<link",
    b"<!doctype",
)

# -- limits on zip-based documents (zip bombs, SECURITY.md G)
ZIP_MAX_ENTRIES = 2000
#: the most all the parts of one document may add up to once uncompressed
ZIP_MAX_UNCOMPRESSED = 100 * 1024 * 1024
#: the most one part may expand by, for parts larger than ZIP_RATIO_FLOOR (XML compresses
#: 5–20 times; bombs by thousands)
ZIP_MAX_RATIO = 100
ZIP_RATIO_FLOOR = 1024 * 1024
#: the most read of a small part that is looked inside ([Content_Types].xml, mimetype)
ZIP_MARKER_READ = 1024 * 1024

#: what a CSV may not contain: NUL and the other control characters but tab, CR and LF
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CLAMD_CHUNK = 64 * 1024
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
#: characters left out of a file's name as shown and downloaded
UNSAFE_NAME_CHARACTERS = set('<>:"/\\|?*')


class EvidenceInvalid(ValueError):
    """The evidence is refused; ``errors`` maps each form field to a message (GOV.UK wording)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class EvidenceError(ValueError):
    """Evidence cannot be linked or unlinked as asked; the message says why."""


class ScanFailed(Exception):
    """clamd is configured but could not scan the file (unreachable, timed out, an error)."""


# -- details common to links and files ---------------------------------------------------------


#: what a person is told when their evidence is dated after today
DATED_IN_FUTURE = "The date of the evidence must be today or in the past"


def dated_in_future(day: date) -> bool:
    """True when evidence dated ``day`` is dated after today in the UK, whatever UTC says: at
    half past midnight in summer, today's evidence is still today's."""
    return day > uk_today()


def _check_details(
    title: str, evidence_type: str, dated_on: date | None, cqc_category: str | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Enter a title"
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"Title must be {TITLE_MAX} characters or fewer"
    if evidence_type not in EVIDENCE_TYPES:
        errors["evidence_type"] = "Select the type of evidence"
    if dated_on is not None and dated_in_future(dated_on):
        errors["dated_on"] = DATED_IN_FUTURE
    if cqc_category is not None and cqc_category not in CQC_EVIDENCE_CATEGORY_NAMES:
        errors["cqc_category"] = CQC_CATEGORY_REFUSED
    return errors


def clean_url(url: str) -> str:
    """The link as it will be stored: https only, with a host, and nothing that hides where
    it goes. It is never fetched by the server.

    :raises EvidenceInvalid: on ``url``, in GOV.UK wording.
    """
    url = (url or "").strip()
    if not url:
        raise EvidenceInvalid({"url": "Enter a link"})
    if len(url) > URL_MAX:
        raise EvidenceInvalid({"url": f"Link must be {URL_MAX:,} characters or fewer"})
    correct_format = "Enter a link in the correct format, like https://www.example.org/report"
    # Spaces, control and invisible formatting characters (a right-to-left override, say), and
    # backslashes, which browsers read as "/", could make a link go somewhere else than it reads.
    if "\\" in url or any(unicodedata.category(ch)[0] in "CZ" for ch in url):
        raise EvidenceInvalid({"url": correct_format})
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise EvidenceInvalid({"url": correct_format}) from None
    if parts.scheme.lower() != "https":
        raise EvidenceInvalid({"url": "Enter a link that starts with https://"})
    if not parts.hostname or not port_ok:
        raise EvidenceInvalid({"url": correct_format})
    if "@" in parts.netloc:
        # https://trusted.example@elsewhere.example goes to elsewhere.example
        raise EvidenceInvalid({"url": "Enter a link without a user name or password"})
    return "https" + url[len(parts.scheme) :]


# -- checking a file ---------------------------------------------------------------------------


def clean_filename(name: str) -> str:
    """The uploaded file's name, for display and as the download name only: its last path
    part, without control, invisible or path characters, at most 255 characters. It is never
    part of a path on disk."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if ch not in UNSAFE_NAME_CHARACTERS and unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(name.split()).strip(". ")
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: 254 - len(extension)] + "." + extension
        else:
            name = name[:255]
    return name


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if suffix else ""


def _size_text(size: int) -> str:
    """``20 MB``, ``2 GB``, ``512 KB``: sizes as people read them (1 MB = 1,048,576 bytes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return (
                f"{value:.0f} {unit}"
                if value >= 10 or value.is_integer()
                else f"{value:.1f} {unit}"
            )
    return f"{size} bytes"


def _refuse(message: str) -> EvidenceInvalid:
    return EvidenceInvalid({"file": message})


def _starts_with_markup(data: bytes) -> bool:
    """True when the file opens as HTML, SVG or XML (after any byte order mark or spaces)."""
    stripped = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n\x0c")
    return stripped.startswith(b"<")


def _has_page_tags(data: bytes) -> bool:
    """True when the start of the file holds tags a browser would read as a page: a polyglot
    (a PDF, image or CSV that is also HTML)."""
    lowered = data[:SNIFF_BYTES].lower()
    return any(marker in lowered for marker in MARKUP_MARKERS)


@dataclass
class ZipSummary:
    """What :func:`inspect_zip` found in an archive that passed its checks."""

    names: list[str] = field(default_factory=list)
    uncompressed_bytes: int = 0


def _unsafe_entry_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return True
    return any(part == ".." for part in normalised.split("/"))


def inspect_zip(data: bytes) -> ZipSummary:
    """Check a zip-based document (DOCX, XLSX, PPTX, ODT, ODS; spreadsheet imports too) before
    anything opens it: the number of parts, their size once uncompressed and how far each
    expands (zip bombs), no symbolic links, no absolute paths or ``..``, no encrypted parts,
    and every part's contents must match the sizes and checksums the archive declares.

    :returns: the names of the parts and their uncompressed total.
    :raises EvidenceInvalid: on ``file``, saying what is wrong.
    """
    if not data.startswith(ZIP_SIGNATURE):
        raise _refuse("The selected file is damaged or is not the type its name says")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise _refuse("The selected file is damaged or is not the type its name says") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_ENTRIES:
            raise _refuse("The selected file has too many parts to be checked")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise _refuse("The selected file is damaged: it has two parts with the same name")
        total = 0
        for info in infos:
            if _unsafe_entry_name(info.filename):
                raise _refuse("The selected file has a part whose name points outside it")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse("The selected file contains a symbolic link")
            if info.flag_bits & 0x1:
                raise _refuse(
                    "The selected file is protected with a password: remove the password and "
                    "try again"
                )
            total += info.file_size
            if total > ZIP_MAX_UNCOMPRESSED:
                raise _refuse(
                    "The selected file expands to more than "
                    f"{_size_text(ZIP_MAX_UNCOMPRESSED)} when opened"
                )
            if info.file_size > ZIP_RATIO_FLOOR and info.file_size > ZIP_MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise _refuse("The selected file expands too much when opened to be checked")
        # Read every part, never more than its declared size (which the totals above bound):
        # a part that holds more or other than it declares fails its checksum here.
        try:
            for info in infos:
                with archive.open(info) as part:
                    while part.read(1024 * 1024):
                        pass
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError):
            raise _refuse("The selected file is damaged or is not the type its name says") from None
        return ZipSummary(names=names, uncompressed_bytes=total)


def _read_part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as part:
        return part.read(ZIP_MARKER_READ)


def _is_ooxml(data: bytes, kind: str, summary: ZipSummary) -> bool:
    folder, main_type = OOXML_MARKERS[kind]
    if "[Content_Types].xml" not in summary.names:
        return False
    if not any(name.startswith(folder) for name in summary.names):
        return False
    content_types = _read_part(data, "[Content_Types].xml").decode("utf-8", "replace")
    return main_type in content_types


def _has_macros(summary: ZipSummary) -> bool:
    return any(PurePosixPath(name).name.lower() == "vbaproject.bin" for name in summary.names)


def _is_odf(data: bytes, kind: str, summary: ZipSummary) -> bool:
    if not summary.names or summary.names[0] != "mimetype":
        return False
    return _read_part(data, "mimetype").strip() == ODF_MIMETYPES[kind]


def _is_utf8_text(data: bytes) -> bool:
    """True for UTF-8 text without NUL or other control characters (tab and line ends apart)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return CONTROL_CHARACTERS.search(text) is None


def check_file(filename: str, data: bytes, *, max_bytes: int) -> FileKind:
    """The kind of an uploaded file, if the service accepts it.

    Its extension must be on the allow-list and its contents must be what the extension says:
    magic bytes for PDF, PNG and JPEG; for DOCX, XLSX and PPTX a safe zip with
    ``[Content_Types].xml``, the kind's folder and main part, and no macros; for ODT and ODS a
    safe zip whose ``mimetype`` part names the kind; for CSV, UTF-8 text without NUL or other
    control characters. Markup (HTML, SVG, XML) is refused whatever the name.

    :raises EvidenceInvalid: on ``file``, in GOV.UK wording.
    """
    if not data:
        raise _refuse("The selected file is empty")
    if len(data) > max_bytes:
        raise _refuse(f"The selected file must be smaller than {_size_text(max_bytes)}")
    kind_name = EXTENSIONS.get(_extension(filename))
    if kind_name is None:
        raise _refuse(f"The selected file must be a {ALLOWED_TEXT}")
    kind = KINDS[kind_name]
    # Zip-based documents start with "PK" and are looked inside below; their parts are XML.
    is_zip_kind = kind_name in OOXML_MARKERS or kind_name in ODF_MIMETYPES
    if _starts_with_markup(data) or (not is_zip_kind and _has_page_tags(data)):
        raise _refuse("The selected file must not contain web page, SVG or XML code")
    not_real = f"The selected file is not a real {kind.label}: its contents do not match its name"
    if kind_name == "pdf":
        ok = data.startswith(PDF_SIGNATURE)
    elif kind_name == "png":
        ok = data.startswith(PNG_SIGNATURE)
    elif kind_name == "jpeg":
        ok = data.startswith(JPEG_SIGNATURE)
    elif kind_name == "csv":
        binary = (PDF_SIGNATURE, PNG_SIGNATURE, JPEG_SIGNATURE, ZIP_SIGNATURE)
        ok = not data.startswith(binary) and _is_utf8_text(data)
        if not ok:
            raise _refuse("The selected file is not a real CSV: it must be text saved as UTF-8")
    else:
        if not data.startswith(ZIP_SIGNATURE):
            raise _refuse(not_real)
        summary = inspect_zip(data)
        if kind_name in OOXML_MARKERS:
            ok = _is_ooxml(data, kind_name, summary)
            if ok and _has_macros(summary):
                raise _refuse("The selected file contains macros: save it without them")
        else:
            ok = _is_odf(data, kind_name, summary)
    if not ok:
        raise _refuse(not_real)
    return kind


# -- virus scanning ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    #: "clean", "infected", or "not_scanned" when no clamd is configured
    status: str
    signature: str | None = None


def _clamd_socket() -> socket.socket | None:
    config = current_app.config
    timeout = float(config.get("CLAMD_TIMEOUT") or 30)
    if config.get("CLAMD_SOCKET"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(str(config["CLAMD_SOCKET"]))
        except OSError:
            connection.close()
            raise
        return connection
    if config.get("CLAMD_HOST"):
        return socket.create_connection(
            (str(config["CLAMD_HOST"]), int(config.get("CLAMD_PORT") or 3310)), timeout=timeout
        )
    return None


def scan_for_viruses(data: bytes) -> ScanResult:
    """Scan ``data`` with clamd's INSTREAM command, when ``CLAMD_SOCKET`` or ``CLAMD_HOST`` is
    set; otherwise say that no scan happened.

    :raises ScanFailed: clamd is configured but did not give a clean or infected answer.
    """
    try:
        connection = _clamd_socket()
    except OSError as error:
        raise ScanFailed(f"cannot reach clamd: {error}") from error
    if connection is None:
        return ScanResult("not_scanned")
    try:
        with connection:
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CLAMD_CHUNK):
                chunk = data[start : start + CLAMD_CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
    except OSError as error:
        raise ScanFailed(f"clamd scan failed: {error}") from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(" OK") or answer == "stream: OK":
        return ScanResult("clean")
    if answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        return ScanResult("infected", signature)
    raise ScanFailed(f"clamd answered {answer!r}")


# -- storage -----------------------------------------------------------------------------------


def stored_key(evidence: Evidence) -> str:
    """The file store's key of an uploaded evidence item's file (``tracker/storage.py``).

    :raises ValueError: when the item is a link, or its stored name is not one we generate.
    """
    name = evidence.stored_name or ""
    if not STORED_NAME.match(name):
        raise ValueError(f"evidence {evidence.id} has no stored file")
    return f"evidence/{name}"


def _write(data: bytes) -> str:
    name = uuid.uuid4().hex
    storage.store().save(f"evidence/{name}", data)
    return name


def storage_used(council: Council) -> int:
    """Bytes of evidence files the council keeps."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Evidence.size_bytes), 0)).where(
                Evidence.council_id == council.id
            )
        )
        or 0
    )


# -- adding evidence ---------------------------------------------------------------------------


def _audit_create(evidence: Evidence, actor: User, **extra: Any) -> None:
    after = {
        "title": evidence.title,
        "evidence_type": evidence.evidence_type,
        "dated_on": evidence.dated_on.isoformat() if evidence.dated_on else None,
        "is_published_to_panel": evidence.is_published_to_panel,
        "cqc_category": evidence.cqc_category,
    }
    if evidence.url:
        after["url"] = evidence.url
    else:
        after.update(
            original_name=evidence.original_name,
            content_type=evidence.content_type,
            size_bytes=evidence.size_bytes,
            sha256=evidence.sha256,
        )
    record(
        actor=actor,
        action="evidence.create",
        object_type="evidence",
        object_id=evidence.id,
        council_id=evidence.council_id,
        after={**after, **extra},
    )


def add_link_evidence(
    council: Council,
    title: str,
    evidence_type: str,
    dated_on: date | None,
    url: str,
    *,
    actor: User,
    is_published_to_panel: bool = False,
    cqc_category: str | None = None,
) -> Evidence:
    """Add a link to the council's evidence (https only; the server never fetches it).

    :raises EvidenceInvalid: naming each field that is wrong.
    """
    errors = _check_details(title, evidence_type, dated_on, cqc_category)
    try:
        url = clean_url(url)
    except EvidenceInvalid as error:
        errors.update(error.errors)
    if errors:
        raise EvidenceInvalid(errors)
    evidence = Evidence(
        council_id=council.id,
        title=title.strip(),
        evidence_type=evidence_type,
        dated_on=dated_on,
        url=url,
        is_published_to_panel=is_published_to_panel,
        cqc_category=cqc_category,
        created_by_id=actor.id,
    )
    db.session.add(evidence)
    db.session.flush()
    _audit_create(evidence, actor)
    return evidence


def add_file_evidence(
    council: Council,
    title: str,
    evidence_type: str,
    dated_on: date | None,
    upload: FileStorage,
    *,
    actor: User,
    is_published_to_panel: bool = False,
    cqc_category: str | None = None,
) -> Evidence:
    """Check an uploaded file and add it to the council's evidence.

    The file must pass :func:`check_file`, the virus scan (when clamd is configured) and the
    council's quota (``EVIDENCE_COUNCIL_QUOTA``). It is written under a random name in the file
    store (``tracker/storage.py``); its own name is kept, cleaned, for display and download only.

    :raises EvidenceInvalid: naming each field that is wrong; ``file`` says why a file is refused
        (wrong type, too large, empty, a virus, no space left, or the scan could not run).
    """
    config = current_app.config
    max_bytes = int(config["EVIDENCE_MAX_BYTES"])
    errors = _check_details(title, evidence_type, dated_on, cqc_category)
    if upload is None or not (upload.filename or "").strip():
        errors["file"] = "Select a file"
        raise EvidenceInvalid(errors)
    filename = clean_filename(upload.filename or "")
    data = upload.stream.read(max_bytes + 1)
    try:
        kind = check_file(filename, data, max_bytes=max_bytes)
    except EvidenceInvalid as error:
        errors.update(error.errors)
    if errors:
        raise EvidenceInvalid(errors)
    try:
        scan = scan_for_viruses(data)
    except ScanFailed as error:
        log.error("evidence upload refused: %s", error)
        raise _refuse(
            "The selected file could not be checked for viruses. Try again later"
        ) from error
    if scan.status == "infected":
        log.warning(
            "evidence upload by user %s for council %s refused: virus %s",
            actor.id,
            council.id,
            scan.signature,
        )
        raise _refuse("The selected file contains a virus")
    if scan.status == "not_scanned":
        log.warning("evidence upload not scanned for viruses: no CLAMD_SOCKET or CLAMD_HOST")
    # Lock the council's row while the quota is counted, so two uploads cannot both squeeze in.
    db.session.execute(select(Council.id).where(Council.id == council.id).with_for_update())
    quota = int(config["EVIDENCE_COUNCIL_QUOTA"])
    used = storage_used(council)
    if used + len(data) > quota:
        raise _refuse(
            f"There is not enough space left for the selected file: {council.short_name} has "
            f"used {_size_text(used)} of its {_size_text(quota)} for evidence"
        )
    stored_name = _write(data)
    evidence = Evidence(
        council_id=council.id,
        title=title.strip(),
        evidence_type=evidence_type,
        dated_on=dated_on,
        stored_name=stored_name,
        original_name=filename,
        content_type=kind.content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        is_published_to_panel=is_published_to_panel,
        cqc_category=cqc_category,
        created_by_id=actor.id,
    )
    db.session.add(evidence)
    try:
        db.session.flush()
    except Exception:
        storage.store().delete(f"evidence/{stored_name}")
        raise
    _audit_create(evidence, actor, virus_scan=scan.status)
    return evidence


def _details(evidence: Evidence) -> dict[str, Any]:
    return {
        "title": evidence.title,
        "evidence_type": evidence.evidence_type,
        "dated_on": evidence.dated_on.isoformat() if evidence.dated_on else None,
        "cqc_category": evidence.cqc_category,
        "is_published_to_panel": evidence.is_published_to_panel,
    }


def update_evidence_details(
    evidence: Evidence,
    title: str,
    evidence_type: str,
    dated_on: date | None,
    *,
    cqc_category: str | None,
    is_published_to_panel: bool,
    actor: User,
) -> bool:
    """Change an item's title, type, date, CQC evidence category and whether the panel sees
    it (not its link or file, which other returns may rely on). Audited with the values
    before and after; nothing is written when nothing changed.

    :returns: whether anything changed.
    :raises EvidenceInvalid: naming each field that is wrong.
    """
    errors = _check_details(title, evidence_type, dated_on, cqc_category)
    if errors:
        raise EvidenceInvalid(errors)
    before = _details(evidence)
    evidence.title = title.strip()
    evidence.evidence_type = evidence_type
    evidence.dated_on = dated_on
    evidence.cqc_category = cqc_category
    evidence.is_published_to_panel = is_published_to_panel
    after = _details(evidence)
    if after == before:
        return False
    db.session.flush()
    record(
        actor=actor,
        action="evidence.update",
        object_type="evidence",
        object_id=evidence.id,
        council_id=evidence.council_id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return True


# -- linking evidence to assessments ------------------------------------------------------------


def _is_linked(assessment: Assessment, evidence: Evidence) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(assessment_evidence)
            .where(
                assessment_evidence.c.assessment_id == assessment.id,
                assessment_evidence.c.evidence_id == evidence.id,
            )
        )
        > 0
    )


def link_evidence(assessment: Assessment, evidence: Evidence, *, actor: User) -> bool:
    """Let ``evidence`` support ``assessment`` (one item can support several actions).

    :returns: False when it already did (nothing changes).
    :raises EvidenceError: the evidence belongs to another council.
    :raises ReturnError: the return is not an open draft.
    """
    return_ = assessment.return_
    require_step(actor, return_, Step.EDIT)
    if evidence.council_id != return_.council_id:
        raise EvidenceError("Choose evidence of this council")
    if _is_linked(assessment, evidence):
        return False
    db.session.execute(
        assessment_evidence.insert().values(assessment_id=assessment.id, evidence_id=evidence.id)
    )
    db.session.expire(assessment, ["evidence"])
    db.session.expire(evidence, ["assessments"])
    record(
        actor=actor,
        action="evidence.link",
        object_type="assessment",
        object_id=assessment.id,
        council_id=return_.council_id,
        after={"evidence_id": evidence.id, "title": evidence.title},
    )
    return True


def unlink_evidence(assessment: Assessment, evidence: Evidence, *, actor: User) -> bool:
    """Stop ``evidence`` supporting ``assessment``; it stays in the council's evidence.

    :returns: False when it did not support it (nothing changes).
    :raises ReturnError: the return is not an open draft.
    """
    return_ = assessment.return_
    require_step(actor, return_, Step.EDIT)
    if not _is_linked(assessment, evidence):
        return False
    db.session.execute(
        assessment_evidence.delete().where(
            assessment_evidence.c.assessment_id == assessment.id,
            assessment_evidence.c.evidence_id == evidence.id,
        )
    )
    db.session.expire(assessment, ["evidence"])
    db.session.expire(evidence, ["assessments"])
    record(
        actor=actor,
        action="evidence.unlink",
        object_type="assessment",
        object_id=assessment.id,
        council_id=return_.council_id,
        before={"evidence_id": evidence.id, "title": evidence.title},
    )
    return True


# -- reading -----------------------------------------------------------------------------------


def get_assessment(council: Council, url_period: str, action_code: str) -> Assessment | None:
    """The council's assessment of an action in a period named as in URLs (``2025-26-Q3``).

    The scoped loader of the evidence pages: None (a 404) when the period is not written that
    way, the council has no return for it, or the action has no assessment in that return.
    """
    label = label_from_url(url_period)
    if label is None:
        return None
    return db.session.scalar(
        select(Assessment)
        .join(Return, Assessment.return_id == Return.id)
        .join(Period, Return.period_id == Period.id)
        .join(Action, Assessment.action_id == Action.id)
        .where(Return.council_id == council.id, Period.label == label, Action.code == action_code)
        .options(selectinload(Assessment.evidence))
    )


def get_council_evidence(council: Council, evidence_id: int) -> Evidence | None:
    """One evidence item of the council; None for another council's (a 404)."""
    return db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.council_id == council.id)
    )


def supports_submitted(item: Evidence) -> bool:
    """True when the item supports an assessment of a submitted or signed-off return: what a
    regional member or national administrator may download (a draft's evidence stays in the
    council)."""
    found = db.session.scalar(
        select(Return.id)
        .join(Assessment, Assessment.return_id == Return.id)
        .join(assessment_evidence, assessment_evidence.c.assessment_id == Assessment.id)
        .where(
            assessment_evidence.c.evidence_id == item.id,
            Return.status != ReturnStatus.DRAFT,
        )
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class Support:
    """One assessment an evidence item supports."""

    period_label: str
    action_code: str


@dataclass
class LibraryItem:
    evidence: Evidence
    supports: list[Support] = field(default_factory=list)


def list_council_evidence(council: Council) -> list[LibraryItem]:
    """The council's evidence, newest first, each with the actions it supports (latest period
    first). Two queries, whatever the number of items."""
    items = [
        LibraryItem(evidence)
        for evidence in db.session.scalars(
            select(Evidence)
            .where(Evidence.council_id == council.id)
            .order_by(Evidence.created_at.desc(), Evidence.id.desc())
        )
    ]
    by_id = {item.evidence.id: item for item in items}
    if not by_id:
        return items
    rows = db.session.execute(
        select(
            assessment_evidence.c.evidence_id,
            Period.label,
            Action.code,
        )
        .join(Assessment, Assessment.id == assessment_evidence.c.assessment_id)
        .join(Return, Return.id == Assessment.return_id)
        .join(Period, Period.id == Return.period_id)
        .join(Action, Action.id == Assessment.action_id)
        .where(Return.council_id == council.id, assessment_evidence.c.evidence_id.in_(by_id))
        .order_by(Period.year.desc(), Period.quarter.desc(), Action.code)
    )
    for evidence_id, label, code in rows:
        by_id[evidence_id].supports.append(Support(label, code))
    return items


def list_linkable_evidence(assessment: Assessment) -> list[Evidence]:
    """The council's evidence that does not yet support ``assessment``, newest first."""
    linked = select(assessment_evidence.c.evidence_id).where(
        assessment_evidence.c.assessment_id == assessment.id
    )
    return list(
        db.session.scalars(
            select(Evidence)
            .where(
                Evidence.council_id == assessment.return_.council_id,
                Evidence.id.not_in(linked),
            )
            .order_by(Evidence.created_at.desc(), Evidence.id.desc())
        )
    )


def size_text(size: int | None) -> str:
    """A file size for people, e.g. ``2.5 MB``."""
    return _size_text(size or 0)


def describe(evidence: Evidence) -> str:
    """What an evidence item is, for lists: ``PDF, 1.2 MB`` or ``Link to www.example.org``."""
    if evidence.url:
        return f"Link to {urlsplit(evidence.url).hostname or 'a website'}"
    label = next(
        (kind.label for kind in KINDS.values() if kind.content_type == evidence.content_type),
        "File",
    )
    return f"{label}, {_size_text(evidence.size_bytes or 0)}"
