"""Configuration read from the environment, with safe defaults for development."""

from __future__ import annotations

import os
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


def environment_overrides() -> dict[str, str]:
    """Settings given in the environment, which take precedence over instance/config.py."""
    overrides = {}
    for name in ("SECRET_KEY", "REDIS_URL"):
        if os.environ.get(name):
            overrides[name] = os.environ[name]
    if os.environ.get("DATABASE_URL", "").strip():
        overrides["SQLALCHEMY_DATABASE_URI"] = _database_url(Path("."))
    return overrides


class Config:
    """Defaults for every environment; ``instance/config.py`` and the caller may override."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    ROADMAP_DIR = str(PROJECT_ROOT / "roadmap")
    COUNCILS_CSV = str(PROJECT_ROOT / "tracker" / "data" / "councils.csv")
    # Form posts are small; evidence uploads set their own, larger limit when they arrive.
    MAX_CONTENT_LENGTH = 1024 * 1024
    WTF_CSRF_SSL_STRICT = True
    SERVICE_NAME = "Roadmap Tracker"

    def __init__(self, instance_path: Path) -> None:
        self.SQLALCHEMY_DATABASE_URI = _database_url(instance_path)


class TestConfig(Config):
    """Used by the test suite: a database chosen by the fixture, CSRF left on."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
