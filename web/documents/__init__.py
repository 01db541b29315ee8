"""The document library pages: upload, versions, metadata, plan, tags, hold, trash, preview."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import IO, Any, cast
from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from ged.adapters.orm import Classification
from ged.domain.errors import GedError, ValidationError
from ged.services.capture import Derived, TextState
from ged.services.documents import DocumentData, DocumentFilter
from ged.services.uploads import Upload, check_upload, clean_file_name
from web.extensions import container
from web.forms import (
    ClassificationForm,
    DocumentForm,
    LegalHoldForm,
    NewDocumentForm,
    VersionForm,
    optional_id,
    split_tags,
)
from web.i18n import N_, format_moment, local_name, translate
from web.mail import labels
from web.users import current_actor

bp = Blueprint("documents", __name__, url_prefix="/documents")

PER_PAGE = 25

# Types a browser shows by itself. TIFF is an image too, but Chromium and Firefox cannot display
# it: sent "inline" it would be saved anyway, so it goes out as a download like everything else.
INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})

# The CSP of a file shown in the browser. Our pages' CSP does not fit: the browsers' own viewers
# need inline styles (Chromium's image page without `style-src 'unsafe-inline'` logs violations
# and loses its layout; crbug.com/271452 for the PDF page of older versions).
# - `sandbox` (no flags): the file gets an opaque origin with scripts, forms, popups and plugins
#   off, so nothing in it can act as our origin (read cookies, call our pages with them). Reports
#   say it breaks Chromium's PDF viewer ("blocked by Chrome"): that is true of a PDF inside a
#   sandboxed *iframe* (crbug.com/41131921), not of a top-level navigation, where Chromium shows
#   PDFs in its out-of-process viewer and does not apply the response's CSP to it. Checked with
#   Chromium 156 (CDP screenshots) and Firefox ESR 153 (pdf.js): this policy, sandbox included,
#   shows PDFs, PNGs and JPEGs normally. Hence the preview opens in its own tab, never in a frame.
# - `default-src 'none'`: nothing else loads (no script, object, font, connection); the image is
#   the document itself, `img-src 'self'` only for the viewer's own use.
# - `plugin-types application/pdf` left out: removed from CSP Level 3 and from Chromium (M90);
#   browsers only log it as unknown.
# Safari may refuse some PDFs under `sandbox` (its viewer runs scripts): such users download.
# Beyond the CSP: the bytes were checked to be PDF/JPEG/PNG (uploads.check_upload), and go out
# with their checked type and `nosniff`, so no browser takes them for HTML or SVG.
PREVIEW_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# A download is never rendered; should a browser try anyway, nothing may run or load.
DOWNLOAD_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"

# RFC 6266 `filename` fallback: plain ASCII without quote, backslash, percent or separator.
_UNSAFE_FALLBACK = re.compile(r"[^A-Za-z0-9 ._()\[\]+,=@-]")
# RFC 8187 attr-char: besides letters and digits, these go unencoded in `filename*`.
_ATTR_CHAR = "!#$&+-.^_`|~"


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a login; the services decide who may read or change what."""


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"local_time": _local_time, "file_size": _file_size}


@bp.app_context_processor
def _ocr_helpers() -> dict[str, Any]:
    """``ocr_states(document_ids)`` for any page listing files (documents, mail)."""
    return {"ocr_states": _ocr_states}


def _ocr_states(document_ids: Sequence[int]) -> Mapping[int, TextState]:
    return container().capture.states(current_actor(), list(document_ids))


# --- library ----------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    documents = container().documents
    query = DocumentFilter(
        text=request.args.get("q", "")[:200],
        classification_id=optional_id(request.args.get("classification")),
        tag=request.args.get("tag", "")[:64],
        trash=request.args.get("trash") == "1",
        page=_page_number(),
        per_page=PER_PAGE,
    )
    plan = documents.classifications()
    filters = {
        "q": query.text,
        "classification": query.classification_id,
        "tag": query.tag,
        "trash": 1 if query.trash else None,
    }
    return render_template(
        "documents/index.html",
        result=documents.search(current_actor(), query),
        query=query,
        filters={key: value for key, value in filters.items() if value},
        plan=_tree(plan),
        classifications={c.id: c for c in plan},
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    documents = container().documents
    form = NewDocumentForm()
    form.classification_id.choices = _plan_choices()
    form.unit_id.choices = _unit_choices()
    if request.method == "GET":
        form.unit_id.data = str(current_actor().unit_id or "")
    if form.validate_on_submit():
        try:
            file = check_upload(_upload(form.file.data), _max_file_bytes())
            document_id = documents.create(
                current_actor(),
                DocumentData(
                    title=form.title.data or "",
                    description=form.description.data or "",
                    classification_id=optional_id(form.classification_id.data),
                    unit_id=optional_id(form.unit_id.data),
                    confidential=bool(form.confidential.data),
                    tags=split_tags(form.tags.data),
                ),
                file,
            )
        except GedError as exc:
            _show_error(exc, form, {"files": "file"})
            return render_template("documents/new.html", form=form), exc.status
        flash(_("Document enregistré."), "success")
        return redirect(url_for(".detail", document_id=document_id), 303)
    status = 400 if form.errors else 200
    return render_template("documents/new.html", form=form), status


@bp.get("/<int:document_id>")
def detail(document_id: int) -> ResponseReturnValue:
    return _detail_page(document_id)


@bp.post("/<int:document_id>")
def edit(document_id: int) -> ResponseReturnValue:
    form = DocumentForm()
    form.classification_id.choices = _plan_choices()
    if form.validate_on_submit():
        try:
            container().documents.update(
                current_actor(),
                document_id,
                DocumentData(
                    title=form.title.data or "",
                    description=form.description.data or "",
                    classification_id=optional_id(form.classification_id.data),
                    confidential=bool(form.confidential.data),
                    tags=split_tags(form.tags.data),
                ),
            )
        except GedError as exc:
            _show_error(exc, form)
            return _detail_page(document_id, exc.status, edit_form=form)
        flash(_("Document modifié."), "success")
        return redirect(url_for(".detail", document_id=document_id), 303)
    return _detail_page(document_id, 400, edit_form=form)


@bp.post("/<int:document_id>/versions")
def add_version(document_id: int) -> ResponseReturnValue:
    form = VersionForm()
    if form.validate_on_submit():
        try:
            file = check_upload(_upload(form.file.data), _max_file_bytes())
            container().documents.add_version(current_actor(), document_id, file)
        except GedError as exc:
            _show_error(exc, form, {"files": "file"})
            return _detail_page(document_id, exc.status, version_form=form)
        flash(_("Nouvelle version enregistrée."), "success")
        return redirect(url_for(".detail", document_id=document_id), 303)
    return _detail_page(document_id, 400, version_form=form)


@bp.post("/<int:document_id>/hold")
def legal_hold(document_id: int) -> ResponseReturnValue:
    form = LegalHoldForm()
    hold = request.form.get("hold") == "1"
    if form.validate_on_submit():
        try:
            container().documents.set_legal_hold(
                current_actor(), document_id, hold, form.reason.data or ""
            )
        except GedError as exc:
            _show_error(exc, form)
            return _detail_page(document_id, exc.status, hold_form=form)
        flash(_("Gel juridique posé.") if hold else _("Gel juridique levé."), "success")
        return redirect(url_for(".detail", document_id=document_id), 303)
    return _detail_page(document_id, 400, hold_form=form)


@bp.post("/<int:document_id>/delete")
def delete(document_id: int) -> ResponseReturnValue:
    try:
        container().documents.delete(current_actor(), document_id)
    except GedError as exc:
        _show_error(exc)
        return _detail_page(document_id, exc.status)
    flash(_("Document placé dans la corbeille."), "success")
    return redirect(url_for(".index"), 303)


@bp.post("/<int:document_id>/restore")
def restore(document_id: int) -> ResponseReturnValue:
    try:
        container().documents.restore(current_actor(), document_id)
    except GedError as exc:
        _show_error(exc)
        return redirect(url_for(".index", trash=1), 303)
    flash(_("Document restauré."), "success")
    return redirect(url_for(".detail", document_id=document_id), 303)


# --- files ------------------------------------------------------------------------------------


@bp.get("/<int:document_id>/download")
def download(document_id: int) -> Response:
    """The bytes of a version (the latest unless ``?version=ID``), always as an attachment."""
    return _send(document_id, inline=False)


@bp.get("/<int:document_id>/preview")
def preview(document_id: int) -> Response:
    """PDF and images shown by the browser; any other type goes out as a download."""
    return _send(document_id, inline=True)


def _send(document_id: int, inline: bool) -> Response:
    version_id = _version_param()
    # The service checks visibility (404 for what may not be seen) and audits the download.
    version, stream = container().documents.open_version(current_actor(), document_id, version_id)
    show = inline and version.media_type in INLINE_TYPES
    response = send_file(
        cast(IO[bytes], stream),
        mimetype=version.media_type if show else _download_type(version.media_type),
        conditional=False,
        etag=False,
    )
    response.content_length = version.size
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if show else "attachment", version.original_name
    )
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY if show else DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:document_id>/thumbnail")
def thumbnail(document_id: int) -> Response:
    """The first page's thumbnail (JPEG), for whoever may see the document; not audited."""
    return _send_derived(document_id, "thumbnail")


@bp.get("/<int:document_id>/searchable")
def searchable(document_id: int) -> Response:
    """The searchable PDF made by the OCR, as a download; audited like the original."""
    return _send_derived(document_id, "searchable")


def _send_derived(document_id: int, kind: Derived) -> Response:
    version, stream = container().capture.open_derived(
        current_actor(), document_id, kind, _version_param()
    )
    inline = kind == "thumbnail"
    response = send_file(
        cast(IO[bytes], stream),
        mimetype="image/jpeg" if inline else "application/pdf",
        conditional=False,
        etag=False,
    )
    stem = version.original_name.rpartition(".")[0] or version.original_name
    name = f"{stem}-apercu.jpg" if inline else f"{stem}-texte.pdf"
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", name
    )
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY if inline else DOWNLOAD_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:document_id>/versions/<int:version_id>/ocr")
def retry_ocr(document_id: int, version_id: int) -> ResponseReturnValue:
    """ "Relancer l'OCR" on a failed version; back to the mail page when it came from there."""
    mail_id = request.form.get("mail_id", "")
    back = (
        url_for("mail.show", mail_id=int(mail_id))
        if mail_id.isdigit() and len(mail_id) < 19
        else url_for(".detail", document_id=document_id)
    )
    try:
        container().capture.retry(current_actor(), version_id, document_id)
    except GedError as exc:
        if exc.status in (403, 404):
            raise
        flash(translate(exc.message), "danger")
    else:
        flash(_("L'OCR est relancé."), "success")
    return redirect(back, 303)


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: ``kind; filename="ascii"; filename*=UTF-8''percent-encoded``.

    The name is cleaned again (names may come from the API or an import, not only from the
    form): no directory, control or bidi character reaches the header; the ASCII fallback is
    for old clients, ``filename*`` carries the real name.
    """
    name = clean_file_name(name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    fallback_stem = _ascii(stem).strip(" ._")
    if not re.search(r"[A-Za-z0-9]", fallback_stem):
        fallback_stem = "document"  # an Arabic name has no ASCII letter left
    fallback_ext = re.sub(r"[^A-Za-z0-9]", "", _ascii(ext))[:10]
    fallback = f"{fallback_stem}.{fallback_ext}" if fallback_ext else fallback_stem
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHAR)}"


def _ascii(text: str) -> str:
    """'Éloïse "v2"' → 'Eloise _v2_': accents dropped, unsafe characters replaced."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_FALLBACK.sub("_", plain)


def _download_type(media_type: str) -> str:
    """The stored type, if it is a plain ``type/subtype``; anything odd goes out as bytes."""
    if re.fullmatch(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*", media_type):
        return media_type
    return "application/octet-stream"


def _version_param() -> int | None:
    raw = request.args.get("version", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        abort(404)
    return int(raw)


# --- classification plan ----------------------------------------------------------------------


@bp.route("/plan", methods=["GET", "POST"])
def plan() -> ResponseReturnValue:
    documents = container().documents
    form = ClassificationForm()
    form.parent_id.choices = _plan_choices()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                documents.create_classification(
                    current_actor(),
                    form.code.data or "",
                    form.name.data or "",
                    optional_id(form.parent_id.data),
                )
            except GedError as exc:
                _show_error(exc, form)
                status = exc.status
            else:
                flash(_("Rubrique ajoutée au plan de classement."), "success")
                return redirect(url_for(".plan"), 303)
        else:
            status = 400
    nodes = documents.classifications()
    children: dict[int | None, list[Classification]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    return render_template("documents/plan.html", children=children, form=form), status


# --- helpers ----------------------------------------------------------------------------------


def _detail_page(document_id: int, status: int = 200, **forms: FlaskForm) -> ResponseReturnValue:
    view = container().documents.get(current_actor(), document_id)
    document = view.document
    edit_form = forms.get("edit_form")
    if edit_form is None:
        edit_form = DocumentForm(
            formdata=None,
            title=document.title,
            description=document.description,
            classification_id=str(document.classification_id or ""),
            tags=", ".join(view.tags),
            confidential=document.confidential,
        )
    cast(DocumentForm, edit_form).classification_id.choices = _plan_choices()
    units = {u.id: u for u in container().registry.units()}
    return render_template(
        "documents/detail.html",
        view=view,
        unit=units.get(document.unit_id) if document.unit_id else None,
        edit_form=edit_form,
        version_form=forms.get("version_form") or VersionForm(formdata=None),
        hold_form=forms.get("hold_form") or LegalHoldForm(formdata=None),
        inline_types=INLINE_TYPES,
    ), status


def _show_error(
    exc: GedError, form: FlaskForm | None = None, fields: dict[str, str] | None = None
) -> None:
    """Not found and forbidden go to the error pages; the rest is shown beside the form."""
    if exc.status in (403, 404):
        raise exc
    field_name = exc.field if isinstance(exc, ValidationError) else None
    field_name = (fields or {}).get(field_name or "", field_name)
    field = getattr(form, field_name, None) if form is not None and field_name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, translate(exc.message)]
    else:
        flash(translate(exc.message), "danger")


def _upload(data: object) -> Upload:
    if not isinstance(data, FileStorage):
        raise ValidationError(N_("Choisissez un fichier."), "files")
    return Upload(stream=cast(Any, data.stream), filename=data.filename or "")


def _max_file_bytes() -> int:
    return container().settings.store.max_file_mb * 1024 * 1024


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 1_000_000) if raw.isdigit() and int(raw) > 0 else 1


def _tree(nodes: Sequence[Classification]) -> list[tuple[Classification, int]]:
    """The plan in reading order, each node with its depth."""
    children: dict[int | None, list[Classification]] = {}
    ids = {n.id for n in nodes}
    for node in nodes:
        parent = node.parent_id if node.parent_id in ids else None
        children.setdefault(parent, []).append(node)
    ordered: list[tuple[Classification, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children.get(parent, []):
            ordered.append((node, depth))
            walk(node.id, depth + 1)

    walk(None, 0)
    return ordered


def _plan_choices() -> list[tuple[str, str]]:
    nodes = _tree(container().documents.classifications())
    return [("", "—")] + [
        (str(node.id), f"{'— ' * depth}{node.code} · {node.name}") for node, depth in nodes
    ]


def _unit_choices() -> list[tuple[str, str]]:
    return [("", _("— (l'entité de l'auteur)"))] + [
        (str(unit.id), f"{unit.code} · {local_name(unit)}") for unit in container().registry.units()
    ]


def _local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return format_moment(value, container().settings.timezone)


def _file_size(size: int) -> str:
    """1536 → '1,5 Ko' in French; the page's language otherwise."""
    return labels.human_size(size)
