"""How the registry pages word things: history events, sizes, dates in the agency's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask_babel import gettext as _gettext

from ged.domain.model import AuditAction
from ged.services.tasks import OUTCOME_LABELS
from web.i18n import N_, babel_locale, format_day, format_moment, translate, unit_name


def gettext(text: str, **variables: object) -> str:
    return str(_gettext(text, **variables))


ACTION_LABELS: Mapping[str, str] = {
    AuditAction.MAIL_REGISTERED: N_("Enregistrement du courrier"),
    AuditAction.MAIL_UPDATED: N_("Modification du courrier"),
    AuditAction.MAIL_VIEWED: N_("Consultation du courrier confidentiel"),
    AuditAction.MAIL_COMMENTED: N_("Commentaire ajouté"),
    AuditAction.MAIL_LINKED: N_("Réponse enregistrée"),
    AuditAction.DOCUMENT_CREATED: N_("Fichier ajouté"),
    AuditAction.DOCUMENT_UPDATED: N_("Fiche du document modifiée"),
    AuditAction.DOCUMENT_DOWNLOADED: N_("Fichier consulté ou téléchargé"),
    AuditAction.DOCUMENT_DELETED: N_("Fichier mis à la corbeille"),
    AuditAction.DOCUMENT_RESTORED: N_("Fichier restauré"),
    AuditAction.DOCUMENT_HOLD_SET: N_("Gel juridique posé"),
    AuditAction.DOCUMENT_HOLD_RELEASED: N_("Gel juridique levé"),
    AuditAction.VERSION_ADDED: N_("Nouvelle version d'un fichier"),
    AuditAction.OCR_RETRIED: N_("Lecture du fichier relancée"),
    AuditAction.MAIL_SCAN_ATTACHED: N_("Scan joint (feuille de couverture)"),
    AuditAction.DRAFT_QUALIFIED: N_("Scan qualifié en courrier"),
    AuditAction.CIRCUIT_DEPLOYED: N_("Circuit déployé"),
    AuditAction.CIRCUIT_STARTED: N_("Circuit démarré"),
    AuditAction.CIRCUIT_TIMER_FIRED: N_("Échéance du circuit atteinte"),
    AuditAction.TASK_CLAIMED: N_("Tâche prise en charge"),
    AuditAction.TASK_RELEASED: N_("Tâche remise dans le panier de l'entité"),
    AuditAction.TASK_COMPLETED: N_("Tâche traitée"),
    AuditAction.TASK_REASSIGNED: N_("Tâche réattribuée"),
    AuditAction.TASK_ESCALATED: N_("Tâche en retard signalée au responsable"),
}

# The mail fields a correction names in the history (keys of the MAIL_UPDATED details).
FIELD_LABELS: Mapping[str, str] = {
    "subject": N_("objet"),
    "correspondent_id": N_("correspondant"),
    "letter_date": N_("date de la lettre"),
    "mail_date": N_("date de réception ou d'envoi"),
    "sender_reference": N_("référence de l'expéditeur"),
    "mail_type_id": N_("type"),
    "priority": N_("priorité"),
    "confidential": N_("confidentialité"),
    "channel": N_("canal"),
    "unit_ids": N_("entités destinataires"),
    "person_ids": N_("personnes désignées"),
    "due_on": N_("échéance"),
}

MEDIA_LABELS: Mapping[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
}


def action_label(action: str) -> str:
    return translate(ACTION_LABELS.get(action, action))


def action_detail(
    action: str, details: Mapping[str, object], to_unit: str = "", to_person: str = ""
) -> str:
    """The one detail worth a line in the history, in words; '' when there is none.

    `to_unit` and `to_person` name where a reassignment gave its task (a unit's French name,
    shown in the page's language; a person's name)."""
    if action == AuditAction.MAIL_REGISTERED and details.get("chrono"):
        return gettext("Numéro d'ordre %(chrono)s", chrono=details["chrono"])
    if action == AuditAction.MAIL_UPDATED and details:
        fields = [translate(FIELD_LABELS.get(name, name)) for name in details if name != "due_on"]
        if not fields:
            return gettext("Échéance recalculée")
        return gettext("Modifié : %(fields)s", fields=", ".join(fields))
    if action == AuditAction.MAIL_LINKED and details.get("answered_by"):
        return gettext("Répondu par le courrier %(chrono)s", chrono=details["answered_by"])
    if action == AuditAction.DOCUMENT_CREATED and details.get("title"):
        return str(details["title"])
    if action == AuditAction.TASK_COMPLETED and details.get("name"):
        return _task_line(details)
    if action == AuditAction.TASK_REASSIGNED and details.get("name") and (to_unit or to_person):
        return _reassignment_line(details, to_unit, to_person)
    if action in (
        AuditAction.TASK_CLAIMED,
        AuditAction.TASK_RELEASED,
        AuditAction.TASK_REASSIGNED,
        AuditAction.TASK_ESCALATED,
    ) and details.get("name"):
        return translate(details["name"])
    if action in (AuditAction.DOCUMENT_HOLD_SET, AuditAction.DOCUMENT_HOLD_RELEASED):
        return str(details.get("reason") or "")
    return ""


def _reassignment_line(details: Mapping[str, object], to_unit: str, to_person: str) -> str:
    """« Traiter le courrier » — remise dans le panier de <unit>, or confiée à <person>."""
    task = translate(details["name"])
    if to_unit:
        line = gettext(
            "%(task)s — remise dans le panier de %(unit)s",
            task=task,
            unit=unit_name(details.get("to_unit"), to_unit),
        )
    else:
        line = gettext("%(task)s — confiée à %(person)s", task=task, person=to_person)
    comment = details.get("comment")
    if isinstance(comment, str) and comment:
        line += f" : {comment}"
    return line


def _task_line(details: Mapping[str, object]) -> str:
    """« Visa — Retourner pour correction : pièce manquante »: the step, its outcome, the comment."""
    line = translate(details["name"])
    outcome = details.get("outcome")
    if isinstance(outcome, str) and outcome:
        line += f" — {translate(OUTCOME_LABELS.get(outcome, outcome))}"
    comment = details.get("comment")
    if isinstance(comment, str) and comment:
        line += f" : {comment}"
    return line


SIZE_UNITS: Mapping[str, str] = {
    "o": N_("%(size)s o"),
    "Ko": N_("%(size)s Ko"),
    "Mo": N_("%(size)s Mo"),
    "Go": N_("%(size)s Go"),
}


def human_size(size: int) -> str:
    """1 234 567 → '1,2 Mo' in French; the page's language otherwise."""
    value = float(size)
    for unit in ("o", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            text = format_decimal(value, "0" if unit == "o" else "0.0", locale=babel_locale())
            return gettext(SIZE_UNITS[unit], size=text)
        value /= 1024
    return f"{size} o"  # pragma: no cover


def fr_date(day: dt.date | None) -> str:
    """In the page's language (French outside a request)."""
    return format_day(day)


def local_time(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def fr_datetime(moment: dt.datetime | None, zone: str) -> str:
    return format_moment(moment, zone)
