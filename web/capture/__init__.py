"""Capture pages: the "à qualifier" basket, and the sheets printed for the scanner.

Every permission is the service's (``ged.services.basket``): these views only read forms and
shape responses.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import Length

from ged.domain.errors import GedError
from ged.domain.model import Direction
from ged.services.mail import MailInput
from web.documents import DOWNLOAD_POLICY, INLINE_TYPES, PREVIEW_POLICY, content_disposition
from web.extensions import container
from web.forms import Form, MailEditForm
from web.i18n import translate
from web.mail import _editable_fields, _mail_form_choices
from web.users import current_actor

bp = Blueprint("capture", __name__, url_prefix="/capture")


class DiscardForm(Form):
    reason = StringField(_l("Motif (facultatif)"), validators=[Length(max=500)])


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a login; the basket service decides who may use it."""


# --- the basket -------------------------------------------------------------------------------


@bp.get("/")
def basket() -> ResponseReturnValue:
    actor = current_actor()
    basket = container().basket
    return render_template(
        "capture/index.html",
        drafts=basket.drafts(actor),
        discarded=basket.drafts(actor, state="discarded", limit=20),
        discard_form=DiscardForm(),
    )


@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
def qualify(draft_id: int) -> ResponseReturnValue:
    """The registration fields for one draft; saving registers it (chrono, circuit)."""
    ged = container()
    actor = current_actor()
    draft = ged.basket.get(actor, draft_id)
    form = MailEditForm()
    _mail_form_choices(form)
    if draft.state != "draft":
        flash(_("Ce brouillon a déjà été qualifié ou écarté."), "warning")
        return redirect(url_for(".basket"), 303)
    if not form.is_submitted():
        form.mail_date.data = ged.registry.today()
        return _render_qualify(draft_id, form, 200)
    if not form.validate():
        return _render_qualify(draft_id, form, 400)
    data = MailInput(direction=Direction.INCOMING.value, **_editable_fields(form))
    try:
        registered = ged.basket.qualify(actor, draft_id, data)
    except GedError as exc:
        if exc.status in (403, 404):
            raise
        flash(translate(exc.message), "danger")
        field = getattr(exc, "field", None)
        error_field = "correspondent" if field == "correspondent_id" else field
        return _render_qualify(draft_id, form, 400 if exc.status != 409 else 409, error_field)
    flash(_("Courrier enregistré sous le numéro %(chrono)s.", chrono=registered.chrono), "success")
    return redirect(url_for("mail.show", mail_id=registered.id), 303)


def _render_qualify(
    draft_id: int, form: MailEditForm, status: int, error_field: str | None = None
) -> ResponseReturnValue:
    draft = container().basket.get(current_actor(), draft_id)
    return render_template(
        "capture/qualify.html", draft=draft, form=form, error_field=error_field
    ), status


@bp.post("/drafts/<int:draft_id>/discard")
def discard(draft_id: int) -> ResponseReturnValue:
    form = DiscardForm()
    if not form.validate():
        flash(_("Le motif dépasse 500 caractères."), "danger")
        return redirect(url_for(".basket"), 303)
    try:
        container().basket.discard(current_actor(), draft_id, form.reason.data or "")
    except GedError as exc:
        if exc.status in (403, 404):
            raise
        flash(translate(exc.message), "danger")
    else:
        flash(_("Le scan est écarté ; il reste dans la liste des scans écartés."), "success")
    return redirect(url_for(".basket"), 303)


@bp.post("/drafts/<int:draft_id>/restore")
def restore(draft_id: int) -> ResponseReturnValue:
    try:
        container().basket.restore(current_actor(), draft_id)
    except GedError as exc:
        if exc.status in (403, 404):
            raise
        flash(translate(exc.message), "danger")
    else:
        flash(_("Le scan est de nouveau à qualifier."), "success")
    return redirect(url_for(".basket"), 303)


# --- files ------------------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>/scan")
def scan(draft_id: int) -> Response:
    """The scanned file, shown by the browser when it can (audited by the service)."""
    name, media_type, stream = container().basket.open_file(current_actor(), draft_id, "original")
    show = media_type in INLINE_TYPES
    return _file(stream, media_type if show else "application/octet-stream", name, show)


@bp.get("/drafts/<int:draft_id>/thumbnail")
def thumbnail(draft_id: int) -> Response:
    name, media_type, stream = container().basket.open_file(current_actor(), draft_id, "thumbnail")
    return _file(stream, media_type, name, inline=True)


@bp.get("/mail/<int:mail_id>/cover.pdf")
def cover_sheet(mail_id: int) -> Response:
    """The cover sheet of a mail: put on top of its pages before scanning them."""
    chrono, pdf = container().basket.cover_sheet(current_actor(), mail_id)
    return _file(io.BytesIO(pdf), "application/pdf", f"couverture-{chrono}.pdf", inline=True)


@bp.get("/separator.pdf")
def separator_sheet() -> Response:
    pdf = container().basket.separator_sheet(current_actor())
    return _file(io.BytesIO(pdf), "application/pdf", "feuille-de-separation.pdf", inline=True)


def _file(stream: IO[bytes], media_type: str, name: str, inline: bool) -> Response:
    response = send_file(stream, mimetype=media_type, conditional=False, etag=False)
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", name
    )
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY if inline else DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response
