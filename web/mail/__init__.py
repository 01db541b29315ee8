"""The mail registry pages: register, list, read, comment, link, receipts and exports.

Views parse input, call the registry service, render. Who may see or change what is decided by
the service (it raises NotFound or PermissionDenied); nothing here checks a role to enforce a rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, BinaryIO, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice  # type: ignore[attr-defined]

from ged.adapters.orm import Mail
from ged.domain.errors import GedError, NotFound, ValidationError
from ged.domain.model import Channel, Direction, MailStatus, Priority
from ged.services.audit import Actor
from ged.services.mail import MailEdit, MailFilter, MailInput, MailView
from ged.services.permissions import can_write_registry
from ged.services.tasks import OUTCOME_LABELS
from ged.services.uploads import Upload
from web.extensions import container
from web.forms import (
    AttachForm,
    CommentForm,
    LinkForm,
    MailEditForm,
    MailFieldsForm,
    MailFilterForm,
    MailForm,
    RegisterExportForm,
    optional_id,
)
from web.i18n import N_, local_name, translate
from web.mail import labels
from web.mail.exports import REGISTER_COLUMNS, content_disposition, register_csv
from web.mail.pdf import ReceiptData, RegisterData, receipt_pdf, register_pdf
from web.users import current_actor

bp = Blueprint("mail", __name__, url_prefix="/mail")

DEFAULT_AGENCY = "Agence urbaine"
JUST_REGISTERED = "mail_just_registered"
# Service field names → form field names, to mark and focus the field an error is about.
FORM_FIELDS = {
    "correspondent_id": "correspondent",
    "answer_to_id": "answer_to",
}
SUGGESTIONS = 8


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a login; the registry decides what each person may see or do."""


@bp.context_processor
def _helpers() -> dict[str, Any]:
    zone = container().settings.timezone
    return {
        "has_endpoint": lambda name: name in current_app.view_functions,
        "fr_date": labels.fr_date,
        "fr_datetime": lambda moment: labels.fr_datetime(moment, zone),
        "human_size": labels.human_size,
        "media_label": lambda media: labels.MEDIA_LABELS.get(media, media),
        "action_label": labels.action_label,
        "action_detail": labels.action_detail,
        "Direction": Direction,
        "MailStatus": MailStatus,
        "Priority": Priority,
        "Channel": Channel,
    }


def _agency() -> str:
    name: str = current_app.config.get("GED_AGENCY_NAME") or DEFAULT_AGENCY
    return name


def _is_form_error(exc: GedError) -> bool:
    """Errors the person can fix in the form; not-found and forbidden go to the error page."""
    return exc.status not in (403, 404)


def _uploads(files: Iterable[FileStorage] | None) -> list[Upload]:
    """The files a browser sent, in order; an empty file input sends a nameless part."""
    return [
        Upload(stream=cast(BinaryIO, f.stream), filename=f.filename or "")
        for f in files or []
        if isinstance(f, FileStorage) and f.filename
    ]


def _find_mail(actor: Actor, chrono: str, direction: str, field: str) -> Mail:
    """The visible mail with exactly this chrono, through the registry's own search."""
    chrono = " ".join(chrono.split())
    found = container().registry.search(
        actor, MailFilter(direction=direction, text=chrono, sort="chrono", per_page=200)
    )
    for mail in found.rows:
        if mail.chrono.casefold() == chrono.casefold():
            return mail
    if direction:
        raise ValidationError(
            _(
                "Aucun courrier %(direction)s ne porte le numéro « %(chrono)s ».",
                direction=translate(Direction(direction).label).lower(),
                chrono=chrono,
            ),
            field,
        )
    raise ValidationError(
        _("Aucun courrier ne porte le numéro « %(chrono)s ».", chrono=chrono), field
    )


# --- the list ---------------------------------------------------------------------------------


def _filter_choices(form: MailFilterForm) -> None:
    registry = container().registry
    form.unit.choices = [SelectChoice("", _("Toutes"))] + [
        SelectChoice(str(u.id), f"{u.code} · {local_name(u)}") for u in registry.units()
    ]
    form.mail_type.choices = [SelectChoice("", _("Tous"))] + [
        SelectChoice(str(t.id), local_name(t)) for t in registry.mail_types()
    ]


def _mail_filter(form: MailFilterForm) -> MailFilter:
    return MailFilter(
        direction=form.direction.data or "",
        status=form.status.data or "",
        unit_id=optional_id(form.unit.data),
        mail_type_id=optional_id(form.mail_type.data),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        overdue=bool(form.overdue.data),
        text=form.text.data or "",
        sort=form.sort.data or "-registered",
        page=form.page.data or 1,
        per_page=form.per_page.data or 25,
    )


def _export_form(filters: MailFilterForm) -> RegisterExportForm:
    """The export form, for the period and direction the list shows (this month by default)."""
    export = RegisterExportForm(formdata=None)
    today = container().registry.today()
    export.direction.data = filters.direction.data or Direction.INCOMING.value
    export.start.data = filters.date_from.data or today.replace(day=1)
    export.end.data = filters.date_to.data or today
    return export


@bp.get("/")
def index() -> ResponseReturnValue:
    registry = container().registry
    form = MailFilterForm(formdata=request.args)
    _filter_choices(form)
    page = None
    status = 200
    if form.validate():
        try:
            page = registry.search(current_actor(), _mail_filter(form))
        except GedError as exc:
            if not _is_form_error(exc):
                raise
            flash(translate(exc.message), "danger")
            status = 400
    else:
        status = 400
    # Page and sort links keep every filter of the current URL.
    kept = {k: v for k, v in request.args.items() if v and k not in ("page", "sort")}
    overdue = {m.id for m in page.rows if registry.is_overdue(m)} if page else set()
    return render_template(
        "mail/index.html",
        form=form,
        page=page,
        overdue=overdue,
        kept=kept,
        sort=form.sort.data or "-registered",
        export_form=_export_form(form),
    ), status


# --- registration -----------------------------------------------------------------------------


def _mail_form_choices(form: MailFieldsForm) -> None:
    registry = container().registry
    form.mail_type_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(
            str(t.id),
            local_name(t)
            + " · "
            + ngettext("délai %(num)d jour ouvré", "délai %(num)d jours ouvrés", t.delay_days),
        )
        for t in registry.mail_types()
    ]
    form.unit_ids.choices = [
        SelectChoice(str(u.id), f"{u.code} · {local_name(u)}") for u in registry.units()
    ]
    form.person_ids.choices = [
        SelectChoice(str(p.id), f"{p.full_name} ({p.username})") for p in registry.people()
    ]


def _ids(values: Iterable[str] | None) -> tuple[int, ...]:
    return tuple(i for i in (optional_id(v) for v in values or []) if i is not None)


def _mail_input(actor: Actor, form: MailForm) -> MailInput:
    answer_to = (form.answer_to.data or "").strip()
    answer_to_id = (
        _find_mail(actor, answer_to, Direction.INCOMING.value, "answer_to").id
        if answer_to
        else None
    )
    return MailInput(
        direction=form.direction.data or "",
        answer_to_id=answer_to_id,
        **_editable_fields(form),
    )


def _render_new(form: MailForm, status: int, error_field: str | None = None) -> ResponseReturnValue:
    return render_template(
        "mail/new.html",
        form=form,
        error_field=error_field,
        external=can_write_registry(current_actor()),
    ), status


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    registry = container().registry
    actor = current_actor()
    form = MailForm()
    _mail_form_choices(form)
    if request.method == "GET":
        # Links may preset a few fields, e.g. "register the answer" from an incoming mail.
        form.mail_date.data = registry.today()
        if not can_write_registry(actor):
            form.direction.data = Direction.INTERNAL.value  # the one they may register
        if request.args.get("direction") in {d.value for d in Direction}:
            form.direction.data = request.args["direction"]
        form.answer_to.data = request.args.get("answer_to", "")[:40]
        form.correspondent.data = request.args.get("correspondent", "")[:300]
        return _render_new(form, 200)
    if not form.validate_on_submit():
        return _render_new(form, 400)
    uploads = _uploads(form.files.data)
    try:
        registered = registry.register(actor, _mail_input(actor, form), uploads)
    except GedError as exc:
        if not _is_form_error(exc):
            raise
        message = translate(exc.message)
        if uploads:
            message += " " + _("Sélectionnez à nouveau les fichiers : ils n'ont pas été conservés.")
        flash(message, "danger")
        field = getattr(exc, "field", None)
        return _render_new(form, 400, FORM_FIELDS.get(field or "", field))
    flash(_("Courrier enregistré sous le numéro %(chrono)s.", chrono=registered.chrono), "success")
    session[JUST_REGISTERED] = registered.id
    return redirect(url_for("mail.show", mail_id=registered.id), 303)


# --- correction -------------------------------------------------------------------------------


def _mail_edit(form: MailEditForm) -> MailEdit:
    return MailEdit(**_editable_fields(form))


def _editable_fields(form: MailForm | MailEditForm) -> dict[str, Any]:
    """The fields registration and edition share, read the same way from either form."""
    return {
        "subject": form.subject.data or "",
        "mail_date": form.mail_date.data,
        "letter_date": form.letter_date.data,
        "correspondent_id": optional_id(form.correspondent_id.data),
        "correspondent_name": form.correspondent.data or "",
        "sender_reference": form.sender_reference.data or "",
        "mail_type_id": optional_id(form.mail_type_id.data),
        "priority": form.priority.data or Priority.NORMAL.value,
        "confidential": bool(form.confidential.data),
        "channel": form.channel.data or Channel.POST.value,
        "unit_ids": _ids(form.unit_ids.data),
        "person_ids": _ids(form.person_ids.data),
    }


def _fill_edit_form(form: MailEditForm, data: MailEdit) -> None:
    form.subject.data = data.subject
    form.mail_date.data = data.mail_date
    form.letter_date.data = data.letter_date
    form.correspondent_id.data = str(data.correspondent_id or "")
    form.correspondent.data = data.correspondent_name
    form.sender_reference.data = data.sender_reference
    form.mail_type_id.data = str(data.mail_type_id or "")
    form.priority.data = data.priority
    form.confidential.data = data.confidential
    form.channel.data = data.channel
    form.unit_ids.data = [str(i) for i in data.unit_ids]
    form.person_ids.data = [str(i) for i in data.person_ids]


@bp.route("/<int:mail_id>/edit", methods=["GET", "POST"])
def edit(mail_id: int) -> ResponseReturnValue:
    """Correct a registered mail; the registry decides who may and audits what changed."""
    registry = container().registry
    actor = current_actor()
    view = registry.get(actor, mail_id)
    registry.check_may_update(actor, view.mail)
    form = MailEditForm()
    _mail_form_choices(form)
    status, error_field = 200, None
    if request.method == "GET":
        _fill_edit_form(form, MailEdit.of(view))
    elif not form.validate_on_submit():
        status = 400
    else:
        try:
            changes = registry.update(actor, mail_id, _mail_edit(form))
        except GedError as exc:
            if not _is_form_error(exc):
                raise
            flash(translate(exc.message), "danger")
            field = getattr(exc, "field", None)
            status, error_field = 400, FORM_FIELDS.get(field or "", field)
        else:
            flash(_("Courrier modifié.") if changes else _("Aucune modification."), "success")
            return redirect(url_for("mail.show", mail_id=mail_id), 303)
    return render_template(
        "mail/edit.html", form=form, mail=view.mail, error_field=error_field
    ), status


@bp.get("/correspondents")
def correspondents() -> ResponseReturnValue:
    """Autocomplete fragment (htmx): existing names first, then similar ones (duplicates?)."""
    registry = container().registry
    actor = current_actor()
    query = " ".join((request.args.get("q") or request.args.get("correspondent") or "").split())
    query = query[:100]
    rows = registry.find_correspondents(actor, query, limit=SUGGESTIONS)
    words = sorted((w for w in query.split() if len(w) >= 4), key=len, reverse=True)
    if len(rows) < SUGGESTIONS and len(words) > 1:
        # "Commune de Rabat" should find "Commune urbaine de Rabat": look for its longest word.
        seen = {c.id for c in rows}
        similar = registry.find_correspondents(actor, words[0], limit=SUGGESTIONS)
        rows = rows + [c for c in similar if c.id not in seen][: SUGGESTIONS - len(rows)]
    exact = any(c.name.casefold() == query.casefold() for c in rows)
    return render_template("mail/_correspondents.html", query=query, rows=rows, exact=exact)


# --- one mail ---------------------------------------------------------------------------------


def _render_show(
    mail_id: int,
    status: int = 200,
    comment_form: CommentForm | None = None,
    link_form: LinkForm | None = None,
    attach_form: AttachForm | None = None,
) -> ResponseReturnValue:
    actor = current_actor()
    view: MailView = container().registry.get(actor, mail_id)
    just_registered = session.pop(JUST_REGISTERED, None) == mail_id
    return render_template(
        "mail/show.html",
        view=view,
        mail=view.mail,
        just_registered=just_registered,
        may_link=can_write_registry(actor),
        may_edit=container().registry.may_update(actor, view.mail),
        comment_form=comment_form or CommentForm(formdata=None),
        link_form=link_form or LinkForm(formdata=None),
        attach_form=attach_form or AttachForm(formdata=None),
        circuits=container().tasks.progress(actor, mail_id),
        outcome_label=lambda outcome: translate(OUTCOME_LABELS.get(outcome, outcome)),
    ), status


@bp.get("/<int:mail_id>")
def show(mail_id: int) -> ResponseReturnValue:
    return _render_show(mail_id)


@bp.get("/<int:mail_id>/circuits/<int:instance_id>.bpmn")
def circuit_diagram(mail_id: int, instance_id: int) -> ResponseReturnValue:
    """The BPMN file an instance of this mail runs on, for the diagram on the mail page."""
    definition = container().circuits.instance_definition(current_actor(), mail_id, instance_id)
    response = Response(definition.bpmn, mimetype="application/xml")
    # Fetched by circuit.js; opened directly, it is a download, never a document of our origin.
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"{definition.process_id}-v{definition.version}.bpmn"
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<int:mail_id>/comments")
def comment(mail_id: int) -> ResponseReturnValue:
    form = CommentForm()
    if form.validate_on_submit():
        try:
            container().registry.comment(current_actor(), mail_id, form.body.data or "")
        except GedError as exc:
            if not _is_form_error(exc):
                raise
            flash(translate(exc.message), "danger")
        else:
            flash(_("Commentaire ajouté."), "success")
            return redirect(url_for("mail.show", mail_id=mail_id, _anchor="comments"), 303)
    return _render_show(mail_id, 400, comment_form=form)


@bp.post("/<int:mail_id>/link")
def link(mail_id: int) -> ResponseReturnValue:
    """Record that an outgoing mail answers an incoming one, from either mail's page."""
    form = LinkForm()
    actor = current_actor()
    if form.validate_on_submit():
        try:
            other = _find_mail(actor, form.chrono.data or "", "", "chrono")
            if other.direction == Direction.INCOMING.value:
                container().registry.link_answer(actor, mail_id, other.id)
            else:
                container().registry.link_answer(actor, other.id, mail_id)
        except GedError as exc:
            if not _is_form_error(exc):
                raise
            flash(translate(exc.message), "danger")
        else:
            flash(
                _("Liaison avec le courrier %(chrono)s enregistrée.", chrono=other.chrono),
                "success",
            )
            return redirect(url_for("mail.show", mail_id=mail_id, _anchor="links"), 303)
    return _render_show(mail_id, 400, link_form=form)


@bp.post("/<int:mail_id>/files")
def attach(mail_id: int) -> ResponseReturnValue:
    form = AttachForm()
    if form.validate_on_submit():
        uploads = _uploads(form.files.data)
        try:
            container().registry.attach_files(current_actor(), mail_id, uploads)
        except GedError as exc:
            if not _is_form_error(exc):
                raise
            flash(translate(exc.message), "danger")
        else:
            flash(
                _("%(count)s fichier(s) ajouté(s).", count=len(uploads)),
                "success",
            )
            return redirect(url_for("mail.show", mail_id=mail_id, _anchor="documents"), 303)
    return _render_show(mail_id, 400, attach_form=form)


def _pdf(body: bytes, kind: str, filename: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(kind, filename)
    return response


@bp.get("/<int:mail_id>/receipt.pdf")
def receipt(mail_id: int) -> ResponseReturnValue:
    view = container().registry.get(current_actor(), mail_id)
    mail = view.mail
    if mail.direction != Direction.INCOMING.value:
        raise NotFound(N_("L'accusé de réception n'existe que pour le courrier arrivée."))
    zone = container().settings.timezone
    data = ReceiptData(
        agency=_agency(),
        chrono=mail.chrono,
        registered_at=labels.local_time(mail.registered_at, zone),
        subject=mail.subject,
        correspondent=mail.correspondent.name if mail.correspondent else "",
        received_on=mail.mail_date,
        letter_date=mail.letter_date,
        reference=mail.sender_reference,
        units=[f"{u.code} — {u.name}" for u in view.units],
    )
    return _pdf(receipt_pdf(data), "inline", f"accusé-réception-{mail.chrono}.pdf")


# --- the legal register -----------------------------------------------------------------------


@bp.get("/export")
def export() -> ResponseReturnValue:
    form = RegisterExportForm(formdata=request.args)
    if not form.validate() or form.start.data is None or form.end.data is None:
        raise ValidationError(
            N_(
                "Choisissez le registre (arrivée, départ ou interne), une période (dates du et au) "
                "et un format (CSV ou PDF)."
            )
        )
    direction = Direction(form.direction.data)
    start: dt.date = form.start.data
    end: dt.date = form.end.data
    rows = container().registry.export(current_actor(), direction.value, start, end)
    name = f"registre-{direction.label.lower()}_{start.isoformat()}_{end.isoformat()}"
    if form.format.data == "pdf":
        zone = container().settings.timezone
        data = RegisterData(
            agency=_agency(),
            title=f"Registre du courrier {direction.label.lower()}",
            start=start,
            end=end,
            generated_at=labels.local_time(dt.datetime.now(dt.UTC), zone),
            columns=REGISTER_COLUMNS,
            rows=rows,
        )
        return _pdf(register_pdf(data), "attachment", f"{name}.pdf")
    response = Response(register_csv(rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition("attachment", f"{name}.csv")
    return response
