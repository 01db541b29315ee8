"""The texts of the e-mails ged sends, in each recipient's language (``users.locale``).

Every builder takes the recipient's `Language` and plain values, and returns the subject and
the text body; the mailer adds the HTML part, right to left for Arabic. Only fixed sentences are
translated: a mail's subject, a person's name and the chrono stay as written, and a step's name
is translated when the catalogue knows it (the bundled circuits' steps).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ged.adapters.catalogues import Language

PREFIX = "[ged] "


@dataclass(frozen=True)
class MailRef:
    """The mail a task is about, as far as an e-mail may name it."""

    chrono: str
    subject: str
    confidential: bool

    @property
    def suffix(self) -> str:
        """The chrono after a title: the same in every language."""
        return f" — {self.chrono}"


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    locale: str


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


@dataclass(frozen=True)
class DigestLine:
    task: str
    chrono: str | None
    due_at: dt.datetime | None


def _suffix(mail: MailRef | None) -> str:
    return mail.suffix if mail else ""


def _mail_line(language: Language, mail: MailRef | None) -> str:
    # Never a confidential subject: e-mail leaves the agency's systems.
    if mail is None:
        return ""
    shown = language.gettext("(courrier confidentiel)") if mail.confidential else mail.subject
    return language.gettext(
        "Courrier : %(chrono)s — %(subject)s", chrono=mail.chrono, subject=shown
    )


def due_text(language: Language, due_at: dt.datetime | None, zone: ZoneInfo) -> str:
    """A deadline as a person reads it: an end-of-day deadline is the day itself."""
    if due_at is None:
        return language.gettext("sans échéance")
    local = due_at.astimezone(zone)
    if local.time() == dt.time(0):
        # Deadlines are stored as the midnight that ends their day (`tasks.deadline_at`).
        day = (local - dt.timedelta(days=1)).date()
        return language.gettext("le %(day)s (fin de journée)", day=language.day(day))
    return language.gettext(
        "le %(day)s à %(time)s", day=language.day(local.date()), time=language.time(local)
    )


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def _greeting(language: Language, name: str) -> str:
    return language.gettext("Bonjour %(name)s,", name=name)


def _find_it(language: Language) -> str:
    return language.gettext("Retrouvez-la dans ged, rubrique « Mes tâches ».")


def new_task(
    language: Language,
    name: str,
    task: str,
    mail: MailRef | None,
    due_at: dt.datetime | None,
    zone: ZoneInfo,
) -> Email:
    title = language.translate(task)
    body = [
        _greeting(language, name),
        "",
        language.gettext("Une tâche vous est confiée : « %(task)s ».", task=title),
    ]
    if mail:
        body.append(_mail_line(language, mail))
    if due_at is not None:
        body.append(language.gettext("Échéance : %(due)s", due=due_text(language, due_at, zone)))
    body += ["", _find_it(language)]
    subject = language.gettext("Nouvelle tâche : %(task)s", task=title)
    return Email(PREFIX + subject + _suffix(mail), _lines(*body))


def reassigned(language: Language, name: str, task: str, mail: MailRef | None, by: str) -> Email:
    """A task a manager (`by`) gave the recipient by name."""
    title = language.translate(task)
    body = [
        _greeting(language, name),
        "",
        language.gettext("%(by)s vous a confié la tâche « %(task)s ».", by=by, task=title),
    ]
    if mail:
        body.append(_mail_line(language, mail))
    body += ["", _find_it(language)]
    subject = language.gettext("Tâche réattribuée : %(task)s", task=title)
    return Email(PREFIX + subject + _suffix(mail), _lines(*body))


def in_pool(
    language: Language,
    name: str,
    task: str,
    mail: MailRef | None,
    due_at: dt.datetime | None,
    zone: ZoneInfo,
    by: str,
) -> Email:
    """A task put back in the pool of the recipient's unit by a manager (`by`): anyone there may
    take it."""
    title = language.translate(task)
    body = [
        _greeting(language, name),
        "",
        language.gettext(
            "%(by)s a remis la tâche « %(task)s » dans le panier de votre entité.",
            by=by,
            task=title,
        ),
        language.gettext("L'un d'entre vous peut la prendre."),
    ]
    if mail:
        body.append(_mail_line(language, mail))
    if due_at is not None:
        body.append(language.gettext("Échéance : %(due)s", due=due_text(language, due_at, zone)))
    body += [
        "",
        language.gettext("Retrouvez-la dans ged, rubrique « Mes tâches », onglet « À prendre »."),
    ]
    subject = language.gettext("Tâche à prendre : %(task)s", task=title)
    return Email(PREFIX + subject + _suffix(mail), _lines(*body))


def withdrawn(
    language: Language,
    name: str,
    task: str,
    mail: MailRef | None,
    by: str,
    to: str | None = None,
    unit: str | None = None,
) -> Email:
    """To the person a manager (`by`) took a task from: given to someone (`to`), or put in a
    unit's pool (`unit`, named in the recipient's language)."""
    title = language.translate(task)
    if unit is not None:
        said = language.gettext(
            "%(by)s vous a retiré la tâche « %(task)s » et l'a remise dans le panier de %(unit)s.",
            by=by,
            task=title,
            unit=unit,
        )
    else:
        said = language.gettext(
            "%(by)s vous a retiré la tâche « %(task)s » et l'a confiée à %(to)s.",
            by=by,
            task=title,
            to=to or "—",
        )
    body = [_greeting(language, name), "", said]
    if mail:
        body.append(_mail_line(language, mail))
    body += ["", language.gettext("Vous n'avez plus à la traiter.")]
    subject = language.gettext("Tâche retirée : %(task)s", task=title)
    return Email(PREFIX + subject + _suffix(mail), _lines(*body))


def unit_name(language: Language, name: str, name_ar: str) -> str:
    """A unit's name in the recipient's language: its Arabic name when it has one."""
    return name_ar if language.code == "ar" and name_ar else name


def reminder(
    language: Language,
    name: str,
    task: str,
    mail: MailRef | None,
    due_at: dt.datetime | None,
    zone: ZoneInfo,
) -> Email:
    title = language.translate(task)
    due = due_text(language, due_at, zone)
    body = [
        _greeting(language, name),
        "",
        language.gettext("La tâche « %(task)s » arrive à échéance : %(due)s.", task=title, due=due),
    ]
    if mail:
        body.append(_mail_line(language, mail))
    body += ["", _find_it(language)]
    subject = language.gettext("Rappel : %(task)s", task=title) + _suffix(mail)
    subject += " — " + language.gettext("échéance %(due)s", due=due)
    return Email(PREFIX + subject, _lines(*body))


def escalation(
    language: Language,
    name: str,
    task: str,
    mail: MailRef | None,
    due_at: dt.datetime | None,
    holder: str | None,
    zone: ZoneInfo,
) -> Email:
    """To the manager of a late task's unit: who holds it, and what to do."""
    title = language.translate(task)
    due = due_text(language, due_at, zone) if due_at else "—"
    body = [
        _greeting(language, name),
        "",
        language.gettext(
            "La tâche « %(task)s » a dépassé son échéance (%(due)s).", task=title, due=due
        ),
    ]
    if mail:
        body.append(_mail_line(language, mail))
    body += [
        language.gettext(
            "Qui la détient : %(holder)s",
            holder=holder or language.gettext("personne (panier de l'entité)"),
        ),
        "",
        language.gettext(
            "Une tâche de relance vous attend dans ged (« Mes tâches ») : relancez la personne "
            "ou réattribuez la tâche."
        ),
    ]
    subject = language.gettext("Délai dépassé : %(task)s", task=title)
    return Email(PREFIX + subject + _suffix(mail), _lines(*body))


def digest(
    language: Language,
    name: str,
    today: dt.date,
    overdue: tuple[Sequence[DigestLine], int],
    soon: tuple[Sequence[DigestLine], int],
    soon_days: int,
    zone: ZoneInfo,
) -> Email:
    """The daily summary: overdue tasks, then those due within `soon_days` working days."""
    subject = language.gettext(
        "Vos tâches du %(day)s : %(overdue)s, %(soon)s",
        day=language.day(today),
        overdue=language.ngettext("%(num)d en retard", "%(num)d en retard", overdue[1]),
        soon=language.ngettext("%(num)d à échéance proche", "%(num)d à échéance proche", soon[1]),
    )
    body = [_greeting(language, name)]
    sections = (
        (language.gettext("En retard (%(num)d) :", num=overdue[1]), overdue),
        (
            language.ngettext(
                "À échéance dans %(num)d jour ouvré (%(count)d) :",
                "À échéance dans les %(num)d prochains jours ouvrés (%(count)d) :",
                soon_days,
                count=soon[1],
            ),
            soon,
        ),
    )
    for title, (lines, total) in sections:
        if not total:
            continue
        body += ["", title]
        for line in lines:
            due = due_text(language, line.due_at, zone) if line.due_at else "—"
            task = language.translate(line.task)
            if line.chrono:
                body.append(
                    language.gettext(
                        "- %(task)s — %(chrono)s — échéance %(due)s",
                        task=task,
                        chrono=line.chrono,
                        due=due,
                    )
                )
            else:
                body.append(language.gettext("- %(task)s — échéance %(due)s", task=task, due=due))
        if total > len(lines):
            body.append(
                language.ngettext(
                    "… et %(num)d autre tâche.", "… et %(num)d autres tâches.", total - len(lines)
                )
            )
    body += [
        "",
        language.gettext("Retrouvez-les dans ged, rubrique « Mes tâches »."),
        language.gettext(
            "Vous pouvez désactiver ce récapitulatif quotidien dans vos préférences de "
            "notification."
        ),
    ]
    return Email(PREFIX + subject, _lines(*body))
