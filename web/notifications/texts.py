"""The sentence of a notification, in the language of the page that shows it.

Notifications are stored as values (`TaskNotice`: the step, the chrono, the deadline), not as
text, so that each reader sees them in their own language, and in their new one after a change.
The kind chooses the sentence; the step's name is translated when the catalogue knows it (the
bundled circuits' steps); the chrono stays as registered. A row written before notices holds a
French sentence that the service could not read back: it is shown as it is.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask_babel import gettext as _

from ged.services.notifications import NotificationKind, NotificationView, TaskNotice
from web.i18n import (
    DEFAULT_LANGUAGE,
    babel_locale,
    current_language,
    format_day,
    translate,
    unit_name,
)


def _time(moment: dt.datetime) -> str:
    """14:05 in French; Moroccan Arabic conventions otherwise, as `format_moment`."""
    if current_language() == DEFAULT_LANGUAGE:
        return moment.strftime("%H:%M")
    return babel_dates.format_time(moment, "short", tzinfo=moment.tzinfo, locale=babel_locale())


def due_text(due_at: dt.datetime | None, zone: str) -> str:
    """A deadline as a person reads it: an end-of-day deadline is the day itself."""
    if due_at is None:
        said: str = _("sans échéance")
        return said
    local = due_at.astimezone(ZoneInfo(zone))
    if local.time() == dt.time(0):
        # Deadlines are stored as the midnight that ends their day (`tasks.deadline_at`).
        day = format_day((local - dt.timedelta(days=1)).date())
        said = _("le %(day)s (fin de journée)", day=day)
    else:
        said = _("le %(day)s à %(time)s", day=format_day(local.date()), time=_time(local))
    return said


def _sentence(kind: NotificationKind, notice: TaskNotice, zone: str) -> str:
    task = translate(notice.task)
    chrono = notice.chrono
    sentence: str
    if kind is NotificationKind.NEW_TASK:
        if chrono:
            sentence = _("Nouvelle tâche : « %(task)s » — %(chrono)s.", task=task, chrono=chrono)
        else:
            sentence = _("Nouvelle tâche : « %(task)s ».", task=task)
    elif kind is NotificationKind.ASSIGNMENT and notice.by:
        if chrono:
            sentence = _(
                "%(by)s vous a confié la tâche « %(task)s » — %(chrono)s.",
                by=notice.by,
                task=task,
                chrono=chrono,
            )
        else:
            sentence = _("%(by)s vous a confié la tâche « %(task)s ».", by=notice.by, task=task)
    elif kind is NotificationKind.ASSIGNMENT:  # written before notices named who did it
        if chrono:
            sentence = _(
                "La tâche « %(task)s » — %(chrono)s vous a été réattribuée.",
                task=task,
                chrono=chrono,
            )
        else:
            sentence = _("La tâche « %(task)s » vous a été réattribuée.", task=task)
    elif kind is NotificationKind.POOL:
        by = notice.by or "—"
        if chrono:
            sentence = _(
                "%(by)s a remis la tâche « %(task)s » — %(chrono)s dans le panier de votre entité.",
                by=by,
                task=task,
                chrono=chrono,
            )
        else:
            sentence = _(
                "%(by)s a remis la tâche « %(task)s » dans le panier de votre entité.",
                by=by,
                task=task,
            )
    elif kind is NotificationKind.WITHDRAWN:
        sentence = _withdrawn(notice)
    elif kind is NotificationKind.REMINDER:
        due = due_text(notice.due_at, zone)
        if chrono:
            sentence = _(
                "Rappel : « %(task)s » — %(chrono)s arrive à échéance %(due)s.",
                task=task,
                chrono=chrono,
                due=due,
            )
        else:
            sentence = _("Rappel : « %(task)s » arrive à échéance %(due)s.", task=task, due=due)
    else:  # an escalation: the late task's deadline has passed
        due = due_text(notice.due_at, zone) if notice.due_at else "—"
        if chrono:
            sentence = _(
                "Délai dépassé : « %(task)s » — %(chrono)s (échéance %(due)s).",
                task=task,
                chrono=chrono,
                due=due,
            )
        else:
            sentence = _("Délai dépassé : « %(task)s » (échéance %(due)s).", task=task, due=due)
    return sentence


def _withdrawn(notice: TaskNotice) -> str:
    """Taken from the reader by a manager: to a unit's pool, or to a person."""
    by, task, chrono = notice.by or "—", translate(notice.task), notice.chrono
    sentence: str
    if notice.unit is not None or notice.unit_id is not None:
        unit = unit_name(notice.unit_id, notice.unit or "—")
        if chrono:
            sentence = _(
                "%(by)s vous a retiré la tâche « %(task)s » — %(chrono)s et l'a remise dans le "
                "panier de %(unit)s.",
                by=by,
                task=task,
                chrono=chrono,
                unit=unit,
            )
        else:
            sentence = _(
                "%(by)s vous a retiré la tâche « %(task)s » et l'a remise dans le panier de "
                "%(unit)s.",
                by=by,
                task=task,
                unit=unit,
            )
    elif chrono:
        sentence = _(
            "%(by)s vous a retiré la tâche « %(task)s » — %(chrono)s et l'a confiée à %(to)s.",
            by=by,
            task=task,
            chrono=chrono,
            to=notice.to or "—",
        )
    else:
        sentence = _(
            "%(by)s vous a retiré la tâche « %(task)s » et l'a confiée à %(to)s.",
            by=by,
            task=task,
            to=notice.to or "—",
        )
    return sentence


def notification_text(notification: NotificationView, zone: str) -> str:
    """The sentence under the bell; plain text, escaped by Jinja."""
    if notification.notice is None:
        return notification.text
    return _sentence(notification.kind, notification.notice, zone)
