"""The Flask application: ``create_app(test_config=None)``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import ged.adapters.ratelimit  # noqa: F401  (registers the gedsql:// rate-limit storage)
from ged import bootstrap
from ged.bootstrap import Container
from ged.config import load_settings
from ged.domain.errors import GedError
from ged.domain.model import AuditAction
from web import i18n
from web.extensions import container, csrf, limiter, login_manager
from web.i18n import N_, translate
from web.users import Anonymous, CurrentUser

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` may carry ``GED_CONTAINER`` (a built Container) and any
    Flask setting; otherwise settings come from ``config/default.toml`` and ``GED_*``."""
    app = Flask(__name__)
    test_config = dict(test_config or {})
    ged: Container | None = test_config.pop("GED_CONTAINER", None)
    if ged is None:
        ged = bootstrap.build(load_settings().with_secret_from_instance())
    settings = ged.settings
    app.extensions["ged"] = ged
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="ged_session",
        SESSION_COOKIE_SECURE=settings.security.cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.security.session_absolute_hours),
        MAX_CONTENT_LENGTH=(settings.store.max_file_mb + 1) * 1024 * 1024,
        # The token lives as long as the session; the server-side session bounds it.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_SSL_STRICT=True,
        # Field errors come from WTForms' own catalogues, in the page's language (web.forms.Form).
        WTF_I18N_ENABLED=False,
        RATELIMIT_STORAGE_URI=settings.redis_url or "gedsql://",
        RATELIMIT_STORAGE_OPTIONS={} if settings.redis_url else {"engine": ged.engine},
        RATELIMIT_HEADERS_ENABLED=False,
        API_TITLE="ged",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config.update(test_config)
    if settings.security.trusted_proxies:
        n = settings.security.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    csrf.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Connectez-vous pour accéder à cette page.")
    login_manager.localize_callback = translate
    login_manager.session_protection = "basic"
    # The API answers 401 with a problem document; only HTML pages redirect to the login form.
    login_manager.blueprint_login_views["api"] = None

    from web import (
        admin,
        api,
        auth,
        capture,
        dashboard,
        documents,
        mail,
        main,
        notifications,
        search,
        tasks,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(mail.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(capture.bp)
    app.register_blueprint(tasks.bp)
    api.init_app(app)
    _install_security(app)
    _install_error_handlers(app)
    return app


@login_manager.user_loader
def _load_user(token: str) -> CurrentUser | None:
    check = container().accounts.check_session(token)
    if check.user is None:
        g.refused_session = check.reason
        return None
    return CurrentUser(check.user, token)


@login_manager.request_loader
def _load_from_bearer(req: Any) -> CurrentUser | None:
    """``Authorization: Bearer`` is honoured on the API only, never on HTML pages."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/v1/") or not header.startswith("Bearer "):
        return None
    user = container().accounts.user_for_token(header[7:].strip(), req.remote_addr or "")
    g.bearer_auth = True
    return CurrentUser(user, token="")


def _install_security(app: Flask) -> None:
    @app.before_request
    def _protect() -> None:
        # A bearer token is not sent by the browser on its own, so it needs no CSRF token;
        # everything else that changes state does, forms and htmx alike.
        if request.headers.get("Authorization", "").startswith("Bearer ") and (
            request.path.startswith("/api/v1/")
        ):
            # A request that presents a token is judged by the token alone: a session cookie
            # sent along must not make up for a wrong one. A bad token raises (401) here.
            # The API's own login check may have run first and loaded it from the token already:
            # once is enough (each lookup is a query and a hash).
            if not g.get("bearer_auth"):
                g._login_user = _load_from_bearer(request)
            return
        csrf.protect()

    @app.after_request
    def _headers(response: Any) -> Any:
        reason = g.pop("refused_session", None)
        if reason:
            session.clear()
            container().accounts.audit_refusal(
                Anonymous().actor(),
                AuditAction.SESSION_REJECTED,
                {"reason": reason, "path": request.path[:200]},
            )
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem(status: int, title: str, detail: str, **extra: Any) -> ResponseReturnValue:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ged"'
    return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(GedError)
    def _ged_error(exc: GedError) -> ResponseReturnValue:
        if wants_json():
            return problem(exc.status, exc.code, exc.message)
        return render_template(
            "error.html", status=exc.status, message=translate(exc.message)
        ), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        from web.users import current_actor

        container().accounts.audit_refusal(
            current_actor(),
            AuditAction.CSRF_REJECTED,
            {"reason": str(exc.description)[:200], "path": request.path[:200]},
        )
        message = gettext(
            "La demande a été refusée : le jeton de sécurité du formulaire manque ou a expiré. "
            "Rechargez la page puis recommencez."
        )
        if wants_json():
            return problem(400, "csrf", message)
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(RateLimitExceeded)
    def _throttled(exc: RateLimitExceeded) -> ResponseReturnValue:
        username = (request.form.get("username") or "")[:64]
        container().accounts.audit_refusal(
            Anonymous().actor(),
            AuditAction.LOGIN_THROTTLED,
            {"username": username, "limit": str(exc.limit.limit)},
        )
        message = gettext(
            "Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer."
        )
        if wants_json():
            return problem(429, "throttled", message)
        if request.endpoint == "auth.login":
            flash(message, "danger")
            return redirect(url_for("auth.login")), 303
        return render_template("error.html", status=429, message=message), 429

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            401: gettext("Authentification requise : présentez un jeton d'accès valide."),
            403: gettext("Vous n'avez pas accès à cette page."),
            404: gettext("Cette page n'existe pas ou n'est plus disponible."),
            405: gettext("Méthode non autorisée."),
            413: gettext("Le fichier envoyé est trop volumineux."),
        }
        message = messages.get(status, exc.description or gettext("Erreur"))
        if wants_json():
            return problem(status, exc.name, message)
        return render_template("error.html", status=status, message=message), status
