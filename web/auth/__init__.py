"""Log in, log out, change one's password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ged.domain.errors import AuthenticationFailed, ValidationError
from ged.services.accounts import ACCOUNT_DISABLED
from web.extensions import container, limiter
from web.forms import LoginForm, PasswordForm
from web.i18n import translate
from web.users import CurrentUser, current_actor

bp = Blueprint("auth", __name__)


def _login_username() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:64]


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 0) == 401


def _address_limit() -> str:
    return container().settings.security.login_limit_per_address


def _username_limit() -> str:
    return container().settings.security.login_limit_per_username


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_username_limit, methods=["POST"], key_func=_login_username, deduct_when=_failed)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            result = container().accounts.log_in(
                form.username.data or "",
                form.password.data or "",
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string,
            )
        except AuthenticationFailed as exc:
            flash(translate(exc.message), "danger")
            return render_template("auth/login.html", form=form), 401
        user = container().accounts.check_session(result.session_token).user
        if user is None:  # disabled in the instant since: treat as a failed login
            flash(translate(ACCOUNT_DISABLED), "danger")
            return render_template("auth/login.html", form=form), 401
        session.clear()  # a fresh cookie at login: nothing from before survives (fixation)
        session.permanent = True
        login_user(CurrentUser(user, result.session_token))
        return redirect(_safe_next(request.args.get("next")), 303)
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``//evil.example`` and ``https://…`` go home instead."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("main.home")


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    container().accounts.log_out(current_user.token, ip=request.remote_addr or "")
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            token = container().accounts.change_password(
                current_actor(),
                form.current.data or "",
                form.password.data or "",
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string,
            )
        except ValidationError as exc:
            flash(translate(exc.message), "danger")
            return render_template("auth/password.html", form=form), 400
        user = current_user.user
        session.clear()
        session.permanent = True
        login_user(CurrentUser(user, token))
        flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
        return redirect(url_for("main.home"), 303)
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
