"""The mail registry over HTTP: register (fields and files), list with filters, read one mail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO, cast

from flask import url_for
from flask.views import MethodView
from flask_login import login_required
from marshmallow import fields, validate
from werkzeug.datastructures import FileStorage

from ged.adapters.orm import Mail
from ged.domain.model import Channel, Direction, MailStatus, Priority
from ged.services.mail import MAX_SUBJECT, SORTS, MailFilter, MailInput, MailPage, MailView
from ged.services.uploads import Upload
from web.api.account import UnitRefSchema
from web.api.common import (
    MAX_ID,
    ApiSchema,
    Bool,
    Date,
    File,
    Int,
    List,
    Str,
    bp,
    identifier,
    one_of,
    problem_response,
    secured,
)
from web.extensions import container
from web.users import current_actor

MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000

# --- input --------------------------------------------------------------------------------


class MailCreateSchema(ApiSchema):
    """The fields a client may set; chrono, status, year, number and owner are not among them
    (sending one is refused with 422)."""

    direction = one_of([d.value for d in Direction], required=True)
    subject = Str(
        required=True,
        validate=validate.Length(max=MAX_SUBJECT, error=f"{MAX_SUBJECT} caractères au plus."),
    )
    correspondent_id = identifier(
        metadata={"description": "An existing correspondent (see /correspondents)"}
    )
    correspondent_name = Str(
        load_default="",
        validate=validate.Length(max=300, error="300 caractères au plus."),
        metadata={"description": "Used when correspondent_id is absent: found by name or created"},
    )
    letter_date = Date(allow_none=True, metadata={"description": "Date written on the letter"})
    mail_date = Date(
        allow_none=True,
        metadata={"description": "Received (incoming) or sent (outgoing) date; today if absent"},
    )
    sender_reference = Str(
        load_default="", validate=validate.Length(max=100, error="100 caractères au plus.")
    )
    mail_type_id = identifier()
    priority = one_of([p.value for p in Priority], load_default=Priority.NORMAL.value)
    confidential = Bool(load_default=False)
    channel = one_of([c.value for c in Channel], load_default=Channel.POST.value)
    unit_ids = List(
        identifier(),
        load_default=list,
        metadata={"description": "Addressed units; repeat the field for several"},
    )
    person_ids = List(
        identifier(),
        load_default=list,
        metadata={"description": "People named on the mail; repeat the field for several"},
    )
    answer_to_id = identifier(
        metadata={"description": "The incoming mail this outgoing mail answers"}
    )
    files = List(
        File(),
        load_default=list,
        metadata={"description": "PDF, JPEG, PNG or TIFF; repeat the field; the first is the main"},
    )


class MailQuerySchema(ApiSchema):
    direction = one_of([d.value for d in Direction])
    status = one_of([s.value for s in MailStatus])
    unit_id = identifier(metadata={"description": "Addressed to this unit or a unit below it"})
    mail_type_id = identifier()
    date_from = Date(allow_none=True, metadata={"description": "Received or sent on or after"})
    date_to = Date(allow_none=True, metadata={"description": "Received or sent on or before"})
    overdue = Bool(load_default=False)
    q = Str(
        load_default="",
        validate=validate.Length(max=200, error="200 caractères au plus."),
        metadata={"description": "Part of the chrono, subject or sender's reference"},
    )
    sort = one_of(sorted(SORTS), load_default="-registered")
    page = Int(
        load_default=1, validate=validate.Range(1, MAX_PAGE, error=f"Entre 1 et {MAX_PAGE}.")
    )
    per_page = Int(
        load_default=25,
        validate=validate.Range(1, MAX_PER_PAGE, error=f"Entre 1 et {MAX_PER_PAGE}."),
    )


# --- output -------------------------------------------------------------------------------


class RegisteredSchema(ApiSchema):
    id = fields.Integer(required=True)
    chrono = fields.String(required=True, metadata={"example": "A-2026-000042"})


class CorrespondentRefSchema(ApiSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class MailTypeRefSchema(ApiSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class MailSummarySchema(ApiSchema):
    id = fields.Integer(required=True)
    chrono = fields.String(required=True)
    direction = fields.String(required=True)
    status = fields.String(required=True)
    subject = fields.String(required=True)
    correspondent = fields.Nested(CorrespondentRefSchema, allow_none=True)
    letter_date = fields.Date(allow_none=True)
    mail_date = fields.Date(required=True)
    sender_reference = fields.String()
    mail_type = fields.Nested(MailTypeRefSchema, allow_none=True)
    priority = fields.String(required=True)
    confidential = fields.Boolean(required=True)
    channel = fields.String(required=True)
    due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean(required=True)
    registered_at = fields.DateTime(required=True)
    units = fields.List(fields.String(), metadata={"description": "Codes of the addressed units"})


class MailPageSchema(ApiSchema):
    items = fields.List(fields.Nested(MailSummarySchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "Matching mails you may see"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class PersonSchema(ApiSchema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)


class MailDocumentSchema(ApiSchema):
    id = fields.Integer(required=True, metadata={"description": "Document id"})
    name = fields.String(required=True, metadata={"description": "Original file name"})
    title = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    version = fields.Integer(required=True, metadata={"description": "Latest version number"})
    version_id = fields.Integer(required=True)
    page_count = fields.Integer(allow_none=True)
    content_url = fields.String(required=True)


class CommentSchema(ApiSchema):
    id = fields.Integer(required=True)
    author = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class MailRefSchema(ApiSchema):
    id = fields.Integer(required=True)
    chrono = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)


class MailDetailSchema(MailSummarySchema):
    units = fields.List(fields.Nested(UnitRefSchema), required=True)
    people = fields.List(fields.Nested(PersonSchema), required=True)
    documents = fields.List(
        fields.Nested(MailDocumentSchema),
        required=True,
        metadata={"description": "In order: the first is the main document"},
    )
    comments = fields.List(fields.Nested(CommentSchema), required=True)
    answers = fields.List(
        fields.Nested(MailRefSchema),
        required=True,
        metadata={"description": "Outgoing mails answering this one (those you may see)"},
    )
    answer_to = fields.Nested(MailRefSchema, allow_none=True)
    registered_by = fields.String(required=True)


# --- views --------------------------------------------------------------------------------


@bp.route("/mail")
class MailCollection(MethodView):
    @bp.arguments(MailQuerySchema, location="query")
    @bp.response(200, MailPageSchema)
    @secured
    @login_required
    def get(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The mail you may see, filtered, sorted and paginated.

        Pagination is in the body: ``items`` of page ``page`` (``per_page`` at most 200),
        ``total`` matching mails and ``pages``. Unknown query parameters are refused (422).
        """
        registry = container().registry
        found = registry.search(
            current_actor(),
            MailFilter(
                direction=args.get("direction") or "",
                status=args.get("status") or "",
                unit_id=args.get("unit_id"),
                mail_type_id=args.get("mail_type_id"),
                date_from=args.get("date_from"),
                date_to=args.get("date_to"),
                overdue=args["overdue"],
                text=args["q"],
                sort=args["sort"],
                page=args["page"],
                per_page=args["per_page"],
            ),
        )
        return _page(found)

    @bp.arguments(
        MailCreateSchema,
        location="multipart",
        description="Fields and files of one multipart/form-data body",
    )
    @bp.response(
        201,
        RegisteredSchema,
        headers={"Location": {"description": "URL of the new mail", "schema": {"type": "string"}}},
    )
    @problem_response(400, "Refused by the registry's rules; ``errors`` names the field")
    @problem_response(403, "The caller may not register mail of this direction")
    @problem_response(415, "The body is not multipart/form-data")
    @secured
    @login_required
    def post(self, args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Register a mail with its files; the chrono is given by the registry.

        Nothing is kept if anything is refused: no mail, no file, no chrono number used.
        """
        files: list[FileStorage] = args["files"]
        data = MailInput(
            direction=args["direction"],
            subject=args["subject"],
            mail_date=args.get("mail_date"),
            letter_date=args.get("letter_date"),
            correspondent_id=args.get("correspondent_id"),
            correspondent_name=args["correspondent_name"],
            sender_reference=args["sender_reference"],
            mail_type_id=args.get("mail_type_id"),
            priority=args["priority"],
            confidential=args["confidential"],
            channel=args["channel"],
            # A blank repeated field ("unit_ids=") reads as None: not an id, left out.
            unit_ids=tuple(i for i in args["unit_ids"] if i is not None),
            person_ids=tuple(i for i in args["person_ids"] if i is not None),
            answer_to_id=args.get("answer_to_id"),
        )
        uploads = [
            Upload(stream=cast(BinaryIO, f.stream), filename=f.filename or "") for f in files
        ]
        registered = container().registry.register(current_actor(), data, uploads)
        location = url_for("api.get_mail", mail_id=registered.id)
        return {"id": registered.id, "chrono": registered.chrono}, {"Location": location}


@bp.route(f"/mail/<int(min=1, max={MAX_ID}):mail_id>")
@bp.response(200, MailDetailSchema)
@problem_response(404, "No such mail, or not one you may see")
@secured
@login_required
def get_mail(mail_id: int) -> dict[str, Any]:
    """One mail with its units, people, documents, comments and answers.

    A mail you may not see answers 404, exactly like one that does not exist.
    """
    registry = container().registry
    view = registry.get(current_actor(), mail_id)
    return _detail(view, registry.is_overdue(view.mail))


# --- mapping ------------------------------------------------------------------------------


def _summary(mail: Mail, units: Any, overdue: bool) -> dict[str, Any]:
    return {
        "id": mail.id,
        "chrono": mail.chrono,
        "direction": mail.direction,
        "status": mail.status,
        "subject": mail.subject,
        "correspondent": (
            {"id": mail.correspondent.id, "name": mail.correspondent.name}
            if mail.correspondent
            else None
        ),
        "letter_date": mail.letter_date,
        "mail_date": mail.mail_date,
        "sender_reference": mail.sender_reference,
        "mail_type": (
            {"id": mail.mail_type.id, "code": mail.mail_type.code, "name": mail.mail_type.name}
            if mail.mail_type
            else None
        ),
        "priority": mail.priority,
        "confidential": mail.confidential,
        "channel": mail.channel,
        "due_on": mail.due_on,
        "overdue": overdue,
        "registered_at": mail.registered_at,
        "units": units,
    }


def _page(found: MailPage) -> dict[str, Any]:
    registry = container().registry
    return {
        "items": [
            _summary(m, found.units.get(m.id, []), registry.is_overdue(m)) for m in found.rows
        ],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
        "pages": found.pages,
    }


def _ref(mail: Mail) -> dict[str, Any]:
    return {"id": mail.id, "chrono": mail.chrono, "subject": mail.subject, "status": mail.status}


def _detail(view: MailView, overdue: bool) -> dict[str, Any]:
    units = [{"id": u.id, "code": u.code, "name": u.name} for u in view.units]
    out = _summary(view.mail, units, overdue)
    out.update(
        people=[{"id": p.id, "full_name": p.full_name} for p in view.people],
        documents=[
            {
                "id": document.id,
                "name": version.original_name,
                "title": document.title,
                "media_type": version.media_type,
                "size": version.size,
                "version": version.number,
                "version_id": version.id,
                "page_count": version.page_count,
                "content_url": url_for("api.document_content", document_id=document.id),
            }
            for document, version in view.documents
        ],
        comments=[
            {"id": c.id, "author": c.author, "body": c.body, "created_at": c.created_at}
            for c in view.comments
        ],
        answers=[_ref(m) for m in view.answers],
        answer_to=_ref(view.answer_to) if view.answer_to else None,
        registered_by=view.registered_by,
    )
    return out
