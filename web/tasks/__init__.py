"""« Mes tâches »: the inbox, one task's page with its completion form, and absence delegations.

Views parse input, call the task service, render. Who may see, take, complete or give away a
task is the service's decision (NotFound, PermissionDenied, Conflict); the pages only offer the
buttons the service says apply (`TaskDetail.can_*`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import SelectChoice  # type: ignore[attr-defined]

from ged.domain.errors import GedError, NotFound, PermissionDenied, ValidationError
from ged.domain.model import Role
from ged.services.audit import Actor
from ged.services.documents import DocumentView
from ged.services.mail import MailView
from ged.services.tasks import (
    OUTCOME_LABELS,
    InboxCounts,
    TaskDetail,
    TaskHistoryEntry,
    TaskPage,
    TaskState,
    UnitOverdue,
)
from ged.services.uploads import Upload
from web.extensions import container
from web.forms import optional_id
from web.i18n import N_, format_day, format_moment, local_name, translate
from web.mail import labels
from web.tasks import fields
from web.tasks.forms import DelegationForm, PoolForm, ReassignForm
from web.users import current_actor

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

PER_PAGE = 25
HOME_ROWS = 10
TABS = ("mine", "pool", "delegated", "overdue")
TAB_LABELS = {
    "mine": _l("Mes tâches"),
    "pool": _l("À prendre"),
    "delegated": _l("Déléguées à moi"),
    "overdue": _l("Retards de mes entités"),
}
FILES_AGAIN = " Sélectionnez à nouveau les fichiers : ils n'ont pas été conservés."


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a login; the task service decides the rest."""


@bp.app_context_processor
def _inbox_badge() -> dict[str, Any]:
    """The navbar's count, computed only when a page draws the navbar, once per request."""

    def inbox_counts() -> InboxCounts | None:
        if not current_user.is_authenticated:
            return None
        if "inbox_counts" not in g:
            g.inbox_counts = container().tasks.counts(current_actor())
        counts: InboxCounts = g.inbox_counts
        return counts

    return {"inbox_counts": inbox_counts}


def due_text(due_at: dt.datetime | None) -> str:
    """A deadline as people say it: the last day, or a day and time when it is not midnight."""
    if due_at is None:
        return "—"
    tasks = container().tasks
    local = due_at.astimezone(ZoneInfo(container().settings.timezone))
    if local.time() == dt.time(0):
        return format_day(tasks.due_date(due_at))
    return format_moment(local)


@bp.app_template_global("task_due")
def _task_due(due_at: dt.datetime | None) -> str:
    return due_text(due_at)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    zone = container().settings.timezone
    return {
        "fr_date": labels.fr_date,
        "fr_datetime": lambda moment: labels.fr_datetime(moment, zone),
        "human_size": labels.human_size,
        "media_label": lambda media: labels.MEDIA_LABELS.get(media, media),
        "outcome_label": lambda name: translate(OUTCOME_LABELS.get(name or "", name or "")),
        "TaskState": TaskState,
        "FieldKind": fields.FieldKind,
        "TAB_LABELS": TAB_LABELS,
    }


def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, min(int(value), 100_000)) if value.isdigit() else 1


def _version() -> int:
    """The task version the form was made from: a form without it cannot be judged stale."""
    value = (request.form.get("version") or "").strip()
    if not value.isdigit():
        raise ValidationError(
            N_("Le formulaire est incomplet (version de la tâche manquante) : rechargez la page.")
        )
    return int(value)


def _uploads(files: Iterable[FileStorage]) -> list[Upload]:
    """The files a browser sent, in order; an empty file input sends a nameless part."""
    return [
        Upload(stream=cast(BinaryIO, f.stream), filename=f.filename or "")
        for f in files
        if isinstance(f, FileStorage) and f.filename
    ]


# --- the inbox --------------------------------------------------------------------------------


def _managed_overdue(actor: Actor) -> tuple[UnitOverdue, ...] | None:
    """Late tasks per unit for those who watch units (None: the person manages none)."""
    try:
        return container().tasks.overdue_by_unit(actor)
    except PermissionDenied:
        return None


@bp.get("/")
def inbox() -> ResponseReturnValue:
    tasks = container().tasks
    actor = current_actor()
    tab = request.args.get("tab", "mine")
    if tab not in TABS:
        tab = "mine"
    page_number = _page_number()
    counts = tasks.counts(actor)
    g.inbox_counts = counts
    by_unit = _managed_overdue(actor)
    unit_id = optional_id(request.args.get("unit"))
    page: TaskPage
    if tab == "mine":
        page = tasks.my_tasks(actor, page_number, PER_PAGE)
    elif tab == "pool":
        page = tasks.unit_pool(actor, page_number, PER_PAGE)
    elif tab == "delegated":
        page = tasks.delegated_to_me(actor, page_number, PER_PAGE)
    else:
        # The service refuses (403) someone who manages no unit.
        page = tasks.overdue(actor, unit_id, page_number, PER_PAGE)
    kept = {"tab": tab, **({"unit": unit_id} if tab == "overdue" and unit_id else {})}
    return render_template(
        "tasks/inbox.html",
        tab=tab,
        page=page,
        counts=counts,
        by_unit=by_unit,
        unit_id=unit_id,
        kept=kept,
        overdue_total=sum(row.count for row in by_unit or ()),
    )


def home_tasks(actor: Actor) -> tuple[TaskPage, InboxCounts]:
    """What the home page shows: my tasks, earliest deadline (so the late ones) first."""
    tasks = container().tasks
    counts = tasks.counts(actor)
    g.inbox_counts = counts
    return tasks.my_tasks(actor, 1, HOME_ROWS), counts


# --- one task ---------------------------------------------------------------------------------


def _options(detail: TaskDetail, document: DocumentView | None) -> fields.Options:
    registry = container().registry
    people = [p for p in registry.people() if p.role != Role.AUDITOR.value]
    versions = [(v.id, v.number) for v in document.versions] if document else []
    return fields.Options(
        units=[(u.id, u.code, local_name(u)) for u in registry.units()],
        people=[(p.id, p.username, p.full_name) for p in people],
        versions=versions,
    )


def _history(actor: Actor, detail: TaskDetail) -> tuple[TaskHistoryEntry, ...]:
    """The steps of the task's circuit instance (mail circuits: the service tells them)."""
    mail_id = detail.task.mail_id
    if mail_id is None:
        return ()
    try:
        progress = container().tasks.progress(actor, mail_id)
    except NotFound:
        return ()
    for instance in progress:
        if any(step.id == detail.task.id for step in instance.steps):
            return instance.steps
    return tuple(step for instance in progress for step in instance.steps)


def _mail(actor: Actor, mail_id: int | None) -> MailView | None:
    if mail_id is None:
        return None
    try:
        return container().registry.get(actor, mail_id)
    except NotFound:
        return None  # a delegate or a manager may hold a task on a mail they may not open


def _document(actor: Actor, document_id: int | None) -> DocumentView | None:
    if document_id is None:
        return None
    try:
        return container().documents.get(actor, document_id)
    except NotFound:
        return None


def _attachments(actor: Actor, detail: TaskDetail, mail: MailView | None) -> list[tuple[int, str]]:
    """The files added at this step, with their names when the person may see them."""
    names = {d.id: v.original_name for d, v in mail.documents} if mail else {}
    found = []
    for document_id in detail.attachment_ids:
        name = names.get(document_id)
        if name is None:
            view = _document(actor, document_id)
            name = view.versions[0].original_name if view and view.versions else ""
        found.append((document_id, name))
    return found


def _reassign_form(detail: TaskDetail, form: ReassignForm | None = None) -> ReassignForm | None:
    if not detail.can_reassign:
        return None
    form = form or ReassignForm(formdata=None)
    allowed = {user_id for user_id, _ in _manageable(current_actor())}
    form.to_user_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.full_name} ({p.unit.code if p.unit else _('sans entité')})")
        for p in container().registry.people()
        if p.id in allowed and p.id != detail.task.assignee_id
    ]
    return form


def _pool_form(detail: TaskDetail, form: PoolForm | None = None) -> PoolForm | None:
    """The units whose pool the task may go to, as the service lists them; None: no choice."""
    if not detail.can_reassign:
        return None
    allowed = container().tasks.pool_units(current_actor(), detail.task.id)
    if not allowed:
        return None
    units = {unit.id: unit for unit in container().registry.units()}
    form = form or PoolForm(formdata=None)
    form.unit_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(unit_id), f"{units[unit_id].code} · {local_name(units[unit_id])}")
        for unit_id in allowed
        if unit_id in units
    ]
    if form.unit_id.data is None and detail.task.unit_id in allowed:
        # The usual case: its holder is away, the task goes back to the pool of its own unit.
        form.unit_id.data = str(detail.task.unit_id)
    return form


def _render_task(
    task_id: int,
    status: int = 200,
    posted: MultiDict[str, str] | None = None,
    reassign_form: ReassignForm | None = None,
    pool_form: PoolForm | None = None,
) -> ResponseReturnValue:
    actor = current_actor()
    detail = container().tasks.get(actor, task_id)
    mail = _mail(actor, detail.task.mail_id)
    document = _document(actor, detail.task.document_id)
    form_fields: tuple[fields.FormField, ...] = ()
    if detail.can_complete:
        form_fields = fields.describe(
            detail, _options(detail, document), container().tasks.due_date, posted
        )
    return render_template(
        "tasks/show.html",
        detail=detail,
        task=detail.task,
        mail=mail,
        document=document,
        history=_history(actor, detail),
        attachments=_attachments(actor, detail, mail),
        fields=form_fields,
        chosen=posted.get("outcome", "") if posted else "",
        comment=posted.get("comment", "") if posted else "",
        reassign_form=_reassign_form(detail, reassign_form),
        pool_form=_pool_form(detail, pool_form),
    ), status


def _refused(
    task_id: int,
    exc: GedError,
    posted: MultiDict[str, str] | None = None,
    files_lost: bool = False,
    reassign_form: ReassignForm | None = None,
    pool_form: PoolForm | None = None,
) -> ResponseReturnValue:
    """The task page again with the service's message, under the refusal's own status.

    Not found and forbidden go to the error page: the task is not this person's to see or do.
    """
    if exc.status in (403, 404):
        raise exc
    message = translate(exc.message)
    if files_lost and exc.status == 400:
        message += FILES_AGAIN
    flash(message, "danger")
    return _render_task(task_id, exc.status, posted, reassign_form, pool_form)


@bp.get("/<int:task_id>")
def show(task_id: int) -> ResponseReturnValue:
    return _render_task(task_id)


@bp.post("/<int:task_id>/complete")
def complete(task_id: int) -> ResponseReturnValue:
    tasks = container().tasks
    actor = current_actor()
    outcome = (request.form.get("outcome") or "")[:64]
    uploads = _uploads(request.files.getlist("files"))
    try:
        version = _version()
        detail = tasks.get(actor, task_id)
        data = fields.read(detail.outcomes, outcome, request.form)
        result = tasks.complete(
            actor,
            task_id,
            outcome,
            data,
            comment=request.form.get("comment") or "",
            attachments=uploads,
            expected_version=version,
        )
    except GedError as exc:
        return _refused(task_id, exc, request.form, files_lost=bool(uploads))
    label = translate(OUTCOME_LABELS.get(result.outcome, result.outcome))
    flash(
        _("Tâche « %(task)s » traitée : %(outcome)s.", task=detail.task.name, outcome=label),
        "success",
    )
    return redirect(url_for(".inbox"), 303)


@bp.post("/<int:task_id>/claim")
def claim(task_id: int) -> ResponseReturnValue:
    try:
        container().tasks.claim(current_actor(), task_id, _version())
    except GedError as exc:
        return _refused(task_id, exc)
    flash(_("Vous avez pris cette tâche : elle est dans « Mes tâches »."), "success")
    return redirect(url_for(".show", task_id=task_id), 303)


@bp.post("/<int:task_id>/release")
def release(task_id: int) -> ResponseReturnValue:
    try:
        container().tasks.release(current_actor(), task_id, _version())
    except GedError as exc:
        return _refused(task_id, exc)
    flash(_("Tâche remise dans le panier de l'entité."), "success")
    return redirect(url_for(".inbox", tab="pool"), 303)


@bp.post("/<int:task_id>/reassign")
def reassign(task_id: int) -> ResponseReturnValue:
    form = ReassignForm()
    try:
        if not form.validate():
            raise ValidationError(N_("Le formulaire de réattribution est invalide."))
        target = optional_id(form.to_user_id.data)
        if target is None:
            raise ValidationError(
                N_("Choisissez la personne à qui confier la tâche."), "to_user_id"
            )
        container().tasks.reassign(
            current_actor(), task_id, target, form.comment.data or "", _version()
        )
    except GedError as exc:
        return _refused(task_id, exc, reassign_form=form)
    flash(_("Tâche réattribuée."), "success")
    return redirect(url_for(".show", task_id=task_id), 303)


@bp.post("/<int:task_id>/pool")
def to_pool(task_id: int) -> ResponseReturnValue:
    form = PoolForm()
    try:
        if not form.validate():
            raise ValidationError(N_("Le formulaire de réattribution est invalide."))
        unit_id = optional_id(form.unit_id.data)
        if unit_id is None:
            raise ValidationError(
                N_("Choisissez l'entité dans le panier de laquelle remettre la tâche."), "unit_id"
            )
        container().tasks.reassign_to_unit(
            current_actor(), task_id, unit_id, form.comment.data or "", _version()
        )
    except GedError as exc:
        return _refused(task_id, exc, pool_form=form)
    flash(
        _("Tâche remise dans le panier de l'entité choisie : ses membres peuvent la prendre."),
        "success",
    )
    return redirect(url_for(".show", task_id=task_id), 303)


# --- delegations ------------------------------------------------------------------------------


def _manageable(actor: Actor) -> list[tuple[int, str]]:
    """The actor and the people of the units they manage (everyone for an administrator): those
    whose delegations they may manage and to whom they may give a task, to fill the pickers.

    Only a convenience: the delegation service checks every request on its own.
    """
    people = container().registry.people()
    if actor.role is Role.ADMIN:
        return [(p.id, p.full_name) for p in people if p.role != Role.AUDITOR.value]
    units = container().registry.units()
    children: dict[int | None, list[int]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit.id)
    todo = [u.id for u in units if u.manager_id == actor.user_id]
    managed: set[int] = set()
    while todo:
        current = todo.pop()
        if current not in managed:
            managed.add(current)
            todo.extend(children.get(current, []))
    return [
        (p.id, p.full_name)
        for p in people
        if p.id == actor.user_id or (p.unit_id in managed and p.role != Role.AUDITOR.value)
    ]


def _delegation_form(actor: Actor, user_id: int, form: DelegationForm | None = None) -> Any:
    form = form or DelegationForm(formdata=None)
    manageable = _manageable(actor)
    form.from_user_id.choices = [SelectChoice(str(i), name) for i, name in manageable] or [
        SelectChoice(str(actor.user_id), current_user.user.full_name)
    ]
    form.to_user_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.full_name} ({p.unit.code if p.unit else _('sans entité')})")
        for p in container().registry.people()
        if p.role != Role.AUDITOR.value
    ]
    if form.from_user_id.data is None:
        form.from_user_id.data = str(user_id)
    return form, manageable


def _render_delegations(
    user_id: int | None, status: int = 200, form: DelegationForm | None = None
) -> ResponseReturnValue:
    actor = current_actor()
    user_id = user_id if user_id is not None else actor.user_id
    if user_id is None:  # pages need a login: only a broken session gets here
        raise NotFound(N_("Personne introuvable."))
    rows = container().delegations.for_user(actor, user_id)
    form, manageable = _delegation_form(actor, user_id, form)
    if form.starts_on.data is None:
        form.starts_on.data = container().tasks.today()
    return render_template(
        "tasks/delegations.html",
        rows=rows,
        form=form,
        user_id=user_id,
        manageable=manageable,
        today=container().tasks.today(),
    ), status


@bp.get("/delegations")
def delegations() -> ResponseReturnValue:
    return _render_delegations(optional_id(request.args.get("user")))


@bp.post("/delegations")
def create_delegation() -> ResponseReturnValue:
    actor = current_actor()
    form = DelegationForm()
    from_id = optional_id(form.from_user_id.data) or actor.user_id
    if not form.validate() or form.starts_on.data is None or form.ends_on.data is None:
        flash(_("Indiquez la personne, les dates de début et de fin de la délégation."), "danger")
        return _render_delegations(from_id, 400, form)
    to_id = optional_id(form.to_user_id.data)
    try:
        if to_id is None or from_id is None:
            raise ValidationError(N_("Choisissez à qui déléguer les tâches."), "to_user_id")
        container().delegations.create(
            actor, from_id, to_id, form.starts_on.data, form.ends_on.data, form.reason.data or ""
        )
    except GedError as exc:
        if exc.status == 404:
            raise
        flash(translate(exc.message), "danger")
        return _render_delegations(
            from_id if exc.status != 403 else actor.user_id, exc.status, form
        )
    flash(_("Délégation enregistrée."), "success")
    return redirect(url_for(".delegations", user=from_id), 303)


@bp.post("/delegations/<int:delegation_id>/end")
def end_delegation(delegation_id: int) -> ResponseReturnValue:
    actor = current_actor()
    back = optional_id(request.form.get("user"))
    try:
        container().delegations.end(actor, delegation_id)
    except GedError as exc:
        if exc.status in (403, 404):
            raise
        flash(translate(exc.message), "danger")
        return _render_delegations(back, exc.status)
    flash(_("Délégation terminée."), "success")
    return redirect(url_for(".delegations", user=back), 303)
