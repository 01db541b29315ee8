"""How the registry pages word things: history events, sizes, dates in the agency's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from ged.domain.model import AuditAction
from ged.services.tasks import OUTCOME_LABELS

ACTION_LABELS: Mapping[str, str] = {
    AuditAction.MAIL_REGISTERED: "Enregistrement du courrier",
    AuditAction.MAIL_UPDATED: "Modification du courrier",
    AuditAction.MAIL_VIEWED: "Consultation du courrier confidentiel",
    AuditAction.MAIL_COMMENTED: "Commentaire ajouté",
    AuditAction.MAIL_LINKED: "Réponse enregistrée",
    AuditAction.DOCUMENT_CREATED: "Fichier ajouté",
    AuditAction.DOCUMENT_UPDATED: "Fiche du document modifiée",
    AuditAction.DOCUMENT_DOWNLOADED: "Fichier consulté ou téléchargé",
    AuditAction.DOCUMENT_DELETED: "Fichier mis à la corbeille",
    AuditAction.DOCUMENT_RESTORED: "Fichier restauré",
    AuditAction.DOCUMENT_HOLD_SET: "Gel juridique posé",
    AuditAction.DOCUMENT_HOLD_RELEASED: "Gel juridique levé",
    AuditAction.VERSION_ADDED: "Nouvelle version d'un fichier",
    AuditAction.OCR_RETRIED: "Lecture du fichier relancée",
    AuditAction.MAIL_SCAN_ATTACHED: "Scan joint (feuille de couverture)",
    AuditAction.DRAFT_QUALIFIED: "Scan qualifié en courrier",
    AuditAction.CIRCUIT_DEPLOYED: "Circuit déployé",
    AuditAction.CIRCUIT_STARTED: "Circuit démarré",
    AuditAction.CIRCUIT_TIMER_FIRED: "Échéance du circuit atteinte",
    AuditAction.TASK_CLAIMED: "Tâche prise en charge",
    AuditAction.TASK_RELEASED: "Tâche remise dans le panier de l'entité",
    AuditAction.TASK_COMPLETED: "Tâche traitée",
    AuditAction.TASK_REASSIGNED: "Tâche réattribuée",
    AuditAction.TASK_ESCALATED: "Tâche en retard signalée au responsable",
}

# The mail fields a correction names in the history (keys of the MAIL_UPDATED details).
FIELD_LABELS: Mapping[str, str] = {
    "subject": "objet",
    "correspondent_id": "correspondant",
    "letter_date": "date de la lettre",
    "mail_date": "date de réception ou d'envoi",
    "sender_reference": "référence de l'expéditeur",
    "mail_type_id": "type",
    "priority": "priorité",
    "confidential": "confidentialité",
    "channel": "canal",
    "unit_ids": "entités destinataires",
    "person_ids": "personnes désignées",
    "due_on": "échéance",
}

MEDIA_LABELS: Mapping[str, str] = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def action_detail(action: str, details: Mapping[str, object]) -> str:
    """The one detail worth a line in the history, in words; '' when there is none."""
    if action == AuditAction.MAIL_REGISTERED and details.get("chrono"):
        return f"Numéro d'ordre {details['chrono']}"
    if action == AuditAction.MAIL_UPDATED and details:
        fields = [FIELD_LABELS.get(name, name) for name in details if name != "due_on"]
        return "Modifié : " + ", ".join(fields) if fields else "Échéance recalculée"
    if action == AuditAction.MAIL_LINKED and details.get("answered_by"):
        return f"Répondu par le courrier {details['answered_by']}"
    if action == AuditAction.DOCUMENT_CREATED and details.get("title"):
        return str(details["title"])
    if action == AuditAction.TASK_COMPLETED and details.get("name"):
        return _task_line(details)
    if action in (
        AuditAction.TASK_CLAIMED,
        AuditAction.TASK_RELEASED,
        AuditAction.TASK_REASSIGNED,
        AuditAction.TASK_ESCALATED,
    ) and details.get("name"):
        return str(details["name"])
    if action in (AuditAction.DOCUMENT_HOLD_SET, AuditAction.DOCUMENT_HOLD_RELEASED):
        return str(details.get("reason") or "")
    return ""


def _task_line(details: Mapping[str, object]) -> str:
    """« Visa — Retourner pour correction : pièce manquante »: the step, its outcome, the comment."""
    line = str(details["name"])
    outcome = details.get("outcome")
    if isinstance(outcome, str) and outcome:
        line += f" — {OUTCOME_LABELS.get(outcome, outcome)}"
    comment = details.get("comment")
    if isinstance(comment, str) and comment:
        line += f" : {comment}"
    return line


def human_size(size: int) -> str:
    """1 234 567 → '1,2 Mo' (French units and decimal comma)."""
    value = float(size)
    for unit in ("o", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            text = f"{value:.0f}" if unit == "o" else f"{value:.1f}".replace(".", ",")
            return f"{text} {unit}"
        value /= 1024
    return f"{size} o"  # pragma: no cover


def fr_date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def local_time(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def fr_datetime(moment: dt.datetime | None, zone: str) -> str:
    return local_time(moment, zone).strftime("%d/%m/%Y %H:%M") if moment else "—"
