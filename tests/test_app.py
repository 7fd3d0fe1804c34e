"""The application factory, its configuration, the security headers and the error pages."""

from __future__ import annotations

import ast
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from tracker import create_app
from tracker.config import PROJECT_ROOT
from tracker.permissions import public

CSP = re.compile(
    r"^default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    r"form-action 'self'; script-src 'self' 'nonce-(?P<nonce>[A-Za-z0-9_-]{22,})'$"
)


def _start_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Build the app in a new interpreter, with only the given settings in the environment."""
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    clean["TRACKER_INSTANCE_PATH"] = str(tmp_path / "instance")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from tracker import create_app; create_app(); print('started')"],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_app_refuses_to_start_without_a_secret_key(tmp_path):
    result = _start_app(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "started" not in result.stdout


def test_app_starts_with_a_secret_key_from_the_environment(tmp_path):
    result = _start_app(tmp_path, SECRET_KEY="a" * 64)

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize("key", ["", "short-key", "a" * 31])
def test_empty_or_short_secret_key_in_the_config_is_refused(tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set to at least 32"):
        create_app({"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_environment_wins_over_the_instance_config(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f"SECRET_KEY = {'i' * 40!r}\n", "utf-8")
    env_key = "e" * 40
    code = (
        "from tracker import create_app; a = create_app(); "
        "print(a.config['SECRET_KEY']); print(a.config['SQLALCHEMY_DATABASE_URI'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update(
        TRACKER_INSTANCE_PATH=str(instance),
        SECRET_KEY=env_key,
        DATABASE_URL="postgres://someone@db.example/tracker",
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert shown == [env_key, "postgresql+psycopg://someone@db.example/tracker"]


def _trusted_hosts_at_start(tmp_path: Path, **env: str) -> list[str]:
    code = "from tracker import create_app; print(repr(create_app().config['TRUSTED_HOSTS']))"
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TRUSTED_HOSTS"}}
    clean.update(TRACKER_INSTANCE_PATH=str(tmp_path / "instance"), SECRET_KEY="a" * 64, **env)
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return list(ast.literal_eval(shown.strip()))


def test_trusted_hosts_default_to_this_machine(tmp_path):
    assert _trusted_hosts_at_start(tmp_path) == ["localhost", "127.0.0.1"]


def test_trusted_hosts_come_from_the_environment_comma_separated(tmp_path):
    hosts = _trusted_hosts_at_start(
        tmp_path, TRUSTED_HOSTS=" Tracker.Example.gov.uk, .example.org ,,"
    )
    assert hosts == ["tracker.example.gov.uk", ".example.org"]


def test_a_deployment_answers_its_own_host_only(app, page):
    app.config["TRUSTED_HOSTS"] = ["tracker.example.gov.uk", ".example.org"]
    client = app.test_client()

    assert client.get("/", base_url="https://tracker.example.gov.uk").status_code == 200
    assert client.get("/", base_url="https://www.example.org").status_code == 200
    sign_in = client.get("/admin/", base_url="https://tracker.example.gov.uk")
    assert sign_in.status_code == 302
    assert sign_in.headers["Location"].startswith("/auth/sign-in")
    for host in ("localhost", "tracker.example.gov.uk.evil.example", "evil.example"):
        response = client.get("/admin/", base_url=f"https://{host}")
        assert response.status_code == 400, host
        assert "Location" not in response.headers
        assert page(response).h1.get_text(strip=True).startswith("Sorry, there is a problem")


def test_tests_use_a_temporary_instance_folder_and_keep_csrf_on(app, instance_path):
    # The fixture points TRACKER_INSTANCE_PATH at a temporary folder; instance/ is never touched.
    assert Path(app.instance_path) == instance_path
    assert app.config["TESTING"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_every_response_has_the_security_headers(client):
    response = client.get("/")

    assert response.status_code == 200
    csp = CSP.match(response.headers["Content-Security-Policy"])
    assert csp, response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Server" not in response.headers
    # HSTS only means something over HTTPS; the test client speaks plain HTTP here.
    assert "Strict-Transport-Security" not in response.headers


def test_script_tags_carry_the_nonce_of_their_response(client, page):
    response = client.get("/")
    nonce = CSP.match(response.headers["Content-Security-Policy"])["nonce"]

    for script in page(response).find_all("script"):
        if not script.get("src"):
            assert script.get("nonce") == nonce, script


def test_each_response_gets_a_new_nonce(client):
    first = CSP.match(client.get("/").headers["Content-Security-Policy"])["nonce"]
    second = CSP.match(client.get("/").headers["Content-Security-Policy"])["nonce"]

    assert first != second


def test_https_responses_have_hsts(client):
    response = client.get("/", base_url="https://localhost")

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_static_files_have_the_security_headers(client):
    response = client.get("/static/images/favicon.svg")

    assert response.status_code == 200
    assert CSP.match(response.headers["Content-Security-Policy"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_unknown_url_gets_the_not_found_page(client, page):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    html = page(response)
    assert "not found" in html.h1.get_text().lower()
    assert "Roadmap Tracker" in html.title.get_text()
    assert CSP.match(response.headers["Content-Security-Policy"])
    assert "Traceback" not in response.get_data(as_text=True)


def _app_with_a_failing_route(app: Flask) -> Flask:
    @app.get("/test-only/fail")
    @public
    def fail() -> str:
        raise RuntimeError("secret detail from inside the app")

    return app


def test_unexpected_error_gets_the_generic_page_with_an_incident_id(app, page, caplog):
    client = _app_with_a_failing_route(app).test_client()

    with caplog.at_level(logging.ERROR, logger="tracker.http"):
        response = client.get("/test-only/fail")

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    logged = [r for r in caplog.records if r.getMessage().startswith("unhandled error, incident")]
    assert len(logged) == 1
    incident_id = logged[0].getMessage().rsplit(" ", 1)[-1]
    assert incident_id in page(response).get_text()
    for leak in ("Traceback", "RuntimeError", "secret detail", "site-packages", 'File "'):
        assert leak not in body
    assert CSP.match(response.headers["Content-Security-Policy"])
