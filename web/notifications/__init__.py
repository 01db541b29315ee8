"""Notifications: the bell in the navigation bar, the list, marking read, the digest preference.

Each person sees only their own notifications: the service filters on the actor and answers
"not found" for anyone else's.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField

from ged.services.notifications import UNREAD_CAP, NotificationKind, NotificationView
from web.extensions import container
from web.forms import Form
from web.mail import labels
from web.notifications import texts
from web.users import current_actor

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
# Their sentence has no deadline: it is shown under it.
# The tasks the reader may now do show their deadline under the sentence; one taken from them
# does not: it is no longer theirs to meet.
_SAYS_DUE_APART = frozenset(
    {NotificationKind.NEW_TASK, NotificationKind.ASSIGNMENT, NotificationKind.POOL}
)


class MarkForm(Form):
    """A button that changes state: only its CSRF token."""


class PreferencesForm(Form):
    digest_enabled = BooleanField(
        _l("Recevoir chaque matin le récapitulatif de mes tâches par e-mail")
    )


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page needs a login; each person reads their own notifications only."""


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """What the navigation bar shows on every page: the bell's count, the dashboard link."""

    def unread_notifications() -> str:
        if not current_user.is_authenticated:
            return ""
        if "unread_notifications" not in g:
            count = container().notifications.unread_count(current_actor())
            g.unread_notifications = (
                "" if not count else (f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count))
            )
        shown: str = g.unread_notifications
        return shown

    def has_dashboard() -> bool:
        if not current_user.is_authenticated:
            return False
        if "has_dashboard" not in g:
            g.has_dashboard = container().dashboards.may_see(current_actor())
        allowed: bool = g.has_dashboard
        return allowed

    return {"unread_notifications": unread_notifications, "has_dashboard": has_dashboard}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    zone = container().settings.timezone

    def notification_due(notification: NotificationView) -> str:
        """The deadline of a new or handed-over task, when it has one (reminders say it)."""
        notice = notification.notice
        if notice is None or notice.due_at is None or notification.kind not in _SAYS_DUE_APART:
            return ""
        return texts.due_text(notice.due_at, zone)

    return {
        "fr_datetime": lambda moment: labels.fr_datetime(moment, zone),
        "notification_text": lambda notification: texts.notification_text(notification, zone),
        "notification_due": notification_due,
    }


@bp.get("/")
def index() -> ResponseReturnValue:
    raw = request.args.get("page", "1")
    page_number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    unread_only = request.args.get("unread") == "1"
    page = container().notifications.page(
        current_actor(), page=page_number, unread_only=unread_only
    )
    return render_template(
        "notifications/index.html", page=page, form=MarkForm(), unread_only=unread_only
    )


@bp.post("/<int:notification_id>/read")
def mark_read(notification_id: int) -> ResponseReturnValue:
    container().notifications.mark_read(current_actor(), notification_id)
    return redirect(url_for("notifications.index"), 303)


@bp.post("/read")
def mark_all_read() -> ResponseReturnValue:
    if container().notifications.mark_all_read(current_actor()):
        flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(url_for("notifications.index"), 303)


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> ResponseReturnValue:
    notifications = container().notifications
    current = notifications.preferences(current_actor())
    form = PreferencesForm()
    if request.method == "GET":
        form.digest_enabled.data = current.digest_enabled
    elif form.validate_on_submit():
        notifications.set_digest(current_actor(), bool(form.digest_enabled.data))
        flash(_("Vos préférences sont enregistrées."), "success")
        return redirect(url_for("notifications.preferences"), 303)
    return render_template("notifications/preferences.html", form=form, current=current)
