"""Roadmap Tracker: the application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.config import MIN_SECRET_KEY_LENGTH, PROJECT_ROOT, Config, environment_overrides
from tracker.extensions import csrf, db, migrate
from tracker.templating import TemplateUndefined, collect_lenient_names


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, Jinja loaders, blueprints and CLI."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(Config(Path(app.instance_path)))
    app.config.from_pyfile("config.py", silent=True)
    # The environment wins over instance/config.py, so a deployment's secrets are its own.
    app.config.update(environment_overrides())
    if config:
        app.config.update(config)
    if len(app.config.get("SECRET_KEY") or "") < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} random characters, in "
            "the environment or in instance/config.py (make run writes a random one for "
            "development)."
        )

    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        # Behind a load balancer: the client's address (rate limits, the security log) and
        # https come from the proxies' headers, from exactly that many of them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # A misspelt name or attribute fails loudly instead of rendering as a blank.
    app.jinja_env.undefined = TemplateUndefined

    TemplateUndefined.lenient_names = collect_lenient_names(app.jinja_env)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "tracker" / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)

    from tracker import db_setup, filters, http, permissions
    from tracker.auth import sessions

    db_setup.init_app(app)
    filters.init_app(app)
    http.init_app(app)
    permissions.init_app(app)
    sessions.init_app(app)

    def _csp_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    # First of all the hooks, ahead of those registered above (CSRF, sessions, permissions):
    # a request for a host we do not serve gets the 400 page (with its nonce) and nothing else.
    app.before_request_funcs.setdefault(None, [])[:0] = [_csp_nonce, http.refuse_untrusted_host]

    from tracker.admin import bp as admin_bp
    from tracker.api import bp as api_bp
    from tracker.auth import bp as auth_bp
    from tracker.auth.account import bp as account_bp
    from tracker.compare import bp as compare_bp
    from tracker.councils import bp as councils_bp
    from tracker.cqc import bp as cqc_bp
    from tracker.home import bp as home_bp
    from tracker.opendata import bp as opendata_bp
    from tracker.pages import bp as pages_bp
    from tracker.panels import bp as panels_bp
    from tracker.reports import bp as reports_bp
    from tracker.returns import bp as returns_bp
    from tracker.roadmap import bp as roadmap_bp
    from tracker.team import bp as team_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(roadmap_bp)
    app.register_blueprint(councils_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(returns_bp)
    app.register_blueprint(compare_bp)
    app.register_blueprint(panels_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(cqc_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(opendata_bp)

    from tracker import cli

    cli.init_app(app)
    return app
