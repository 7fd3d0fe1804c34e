"""Configuration read from the environment, with safe defaults for development."""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: 32 bytes as hex, or any string at least as long
MIN_SECRET_KEY_LENGTH = 32


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'tracker.sqlite3'}"
    # Hosting platforms still hand out the pre-SQLAlchemy-1.4 scheme; psycopg 3 is our driver.
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


#: mail settings read as strings from the environment (MAIL_PORT and MAIL_USE_TLS are converted)
MAIL_SETTINGS = (
    "MAIL_BACKEND",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "MAIL_FILE_DIR",
)


#: the Host names answered when TRUSTED_HOSTS is not set: this machine only (``make run`` on
#: http://127.0.0.1:5000, the test client's ``localhost``). Werkzeug cannot match an IPv6
#: literal such as ``[::1]`` (it cuts the name at its first colon), so none is listed.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(value: str) -> list[str]:
    """The host names in a comma-separated ``TRUSTED_HOSTS`` ("tracker.example.gov.uk,
    .example.org": a leading dot also trusts every subdomain), lower-cased, blanks dropped."""
    return [name.strip().lower() for name in value.split(",") if name.strip()]


def environment_overrides() -> dict[str, object]:
    """Settings given in the environment, which take precedence over instance/config.py."""
    overrides: dict[str, object] = {}
    names = ("SECRET_KEY", "REDIS_URL", "JOBS_QUEUE_PREFIX", "BASE_URL", "FILE_STORE")
    for name in (*names, *MAIL_SETTINGS):
        if os.environ.get(name):
            overrides[name] = os.environ[name]
    if os.environ.get("DATABASE_URL", "").strip():
        overrides["SQLALCHEMY_DATABASE_URI"] = _database_url(Path("."))
    if os.environ.get("TRUSTED_HOSTS", "").strip():
        overrides["TRUSTED_HOSTS"] = trusted_hosts(os.environ["TRUSTED_HOSTS"])
    if os.environ.get("TRUSTED_PROXY_HOPS", "").strip():
        overrides["TRUSTED_PROXY_HOPS"] = int(os.environ["TRUSTED_PROXY_HOPS"])
    if os.environ.get("MAIL_PORT"):
        overrides["MAIL_PORT"] = int(os.environ["MAIL_PORT"])
    for flag in ("MAIL_USE_TLS", "REPORT_WARM_UP"):
        if os.environ.get(flag):
            overrides[flag] = os.environ[flag].lower() not in ("0", "false", "no")
    return overrides


class Config:
    """Defaults for every environment; ``instance/config.py`` and the caller may override."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    ROADMAP_DIR = str(PROJECT_ROOT / "roadmap")
    FRAMEWORKS_DIR = str(PROJECT_ROOT / "frameworks")
    COUNCILS_CSV = str(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
    # Form posts are small; evidence uploads set their own, larger limit when they arrive.
    MAX_CONTENT_LENGTH = 1024 * 1024
    WTF_CSRF_SSL_STRICT = True
    #: the Host header values answered; any other gets the 400 page, so no redirect or link
    #: is built on a host an attacker chose. Set TRUSTED_HOSTS in the environment to the
    #: service's own name(s), comma-separated (see README.md, "Configuration")
    TRUSTED_HOSTS: Collection[str] = LOOPBACK_HOSTS
    SERVICE_NAME = "Roadmap Tracker"

    # -- sessions. Flask's signed cookie holds only the user id, the user's
    # session_version and timestamps; every request checks them against the database.
    #: "__Host-": the browser only accepts it over https (or from localhost), with Path=/ and no
    #: Domain, so no subdomain can set or read it
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    #: signed out after this long without a request (ASVS 7.3.1); the warning comes before it
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    #: signed out this long after signing in, whatever they do (ASVS 7.3.2)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    #: how long before the idle timeout the page warns and offers "Stay signed in" (WCAG 2.2.1)
    SESSION_WARNING_BEFORE = timedelta(minutes=5)
    #: how recently someone must have given their password (and code) before they change
    #: roles, authenticator apps or accounts; older than this, they are asked again
    RECENT_AUTH_WINDOW = timedelta(minutes=15)

    # -- accounts
    #: how long an invitation link works
    INVITATION_TTL = timedelta(days=7)
    #: how long a password reset link works
    PASSWORD_RESET_TTL = timedelta(minutes=60)
    #: the address links in emails start with. Never taken from the request's Host header, which
    #: an attacker controls (reset-link poisoning). Set it to the service's https address.
    BASE_URL = "http://127.0.0.1:5000"

    # -- sign-in throttling: failures counted in Redis when REDIS_URL is set, else in the
    # throttle_counters table; windows expire, so nobody is locked out for good
    THROTTLE_WINDOW = timedelta(minutes=15)
    #: failed sign-ins (password or second factor) per account per window
    THROTTLE_ACCOUNT_LIMIT = 10
    #: failed sign-ins per IP address per window (offices share an address, so higher)
    THROTTLE_IP_LIMIT = 50
    #: password reset links sent per account per window (further requests send nothing)
    RESET_ACCOUNT_LIMIT = 3
    #: password reset requests per IP address per window, then 429
    RESET_IP_LIMIT = 20
    #: prefix of every Redis key, so several apps (or tests) can share one Redis
    THROTTLE_KEY_PREFIX = "tracker:throttle:"

    # -- background work (tracker/background/): RQ queues in Redis when REDIS_URL is set
    #: prefix of the RQ queues' names, so several apps (or test runs) can share one Redis
    JOBS_QUEUE_PREFIX = ""
    #: seconds between two passes of ``flask jobs scheduler`` (a daily job runs this late at most)
    JOBS_SCHEDULER_INTERVAL = 30

    # -- outgoing mail
    # Each MAIL_* setting is also read from the environment (see environment_overrides).
    #: "file" writes each message to MAIL_FILE_DIR as an .eml file (development, tests);
    #: "smtp" sends it through MAIL_SERVER with STARTTLS
    MAIL_BACKEND = "file"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    #: STARTTLS before logging in; only turn off for a relay on the same host
    MAIL_USE_TLS = True
    MAIL_DEFAULT_SENDER = "Roadmap Tracker <no-reply@localhost>"
    #: where the file backend writes; None means instance/mail
    MAIL_FILE_DIR: str | None = None

    # -- spreadsheet export and import (tracker/returns/spreadsheet.py)
    #: largest xlsx or csv a council may import; a larger upload gets the 413 page
    IMPORT_MAX_BYTES = 2 * 1024 * 1024
    #: where an uploaded file waits between its preview and its confirmation; None means
    #: instance/imports (outside static/, under random names, removed within the hour)
    IMPORT_FOLDER: str | None = None
    #: exports (xlsx and csv) one person may download per window, then 429
    EXPORT_RATE_LIMIT = 60
    EXPORT_RATE_WINDOW = timedelta(minutes=15)

    # -- the open data (tracker/opendata/): each download is built afresh (about a second of
    # one core for 153 councils, docs/open-data.md), so anyone's downloads are capped
    #: open-data downloads one IP address may make per window, then 429
    OPEN_DATA_RATE_LIMIT = 30
    OPEN_DATA_RATE_WINDOW = timedelta(minutes=15)

    #: how many proxies (a load balancer, a TLS terminator) stand in front of the app and set
    #: X-Forwarded-For and X-Forwarded-Proto: the app takes the client's address and scheme
    #: from that many hops back. 0 (the default) trusts no such header, for a server that
    #: faces the internet itself; never set it higher than the proxies you run (docs/deployment.md)
    TRUSTED_PROXY_HOPS = 0

    # -- the file store (tracker/storage.py)
    #: "database" (files in PostgreSQL, which every app node reads) or "folder" (the instance
    #: folder, for one server); unset means the database on PostgreSQL, the folder otherwise
    FILE_STORE: str | None = os.environ.get("FILE_STORE") or None

    # -- evidence uploads (tracker/returns/evidence.py)
    #: in the folder store, where uploaded evidence is kept, under generated names; None means
    #: instance/evidence. Never inside static/: files are served only through the authorised
    #: download view
    EVIDENCE_DIR: str | None = None
    #: largest evidence file; a larger upload gets the 413 page
    EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
    #: evidence storage per council, all files together
    EVIDENCE_COUNCIL_QUOTA = 2 * 1024 * 1024 * 1024
    #: clamd to scan uploads with (INSTREAM): a Unix socket path, or a host and port. With
    #: neither set, uploads are not scanned and the audit trail records that
    CLAMD_SOCKET: str | None = None
    CLAMD_HOST: str | None = None
    CLAMD_PORT = 3310
    #: seconds to wait for clamd; an upload it cannot scan is refused
    CLAMD_TIMEOUT = 30

    def __init__(self, instance_path: Path) -> None:
        self.SQLALCHEMY_DATABASE_URI = _database_url(instance_path)


class TestConfig(Config):
    """Used by the test suite: a database chosen by the fixture, CSRF left on."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
