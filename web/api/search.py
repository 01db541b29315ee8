"""Full-text search over HTTP: mail and library documents, filtered by the caller's rights.

The search service applies the permissions inside the query: no item, total, facet count or
suggestion comes from mail or a document the caller may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_login import login_required
from marshmallow import fields, validate

from ged.domain.model import Direction, MailStatus
from ged.domain.search import FACET_FIELDS, SearchHit, SearchQuery
from web.api.common import (
    ApiSchema,
    Date,
    Int,
    Str,
    bp,
    identifier,
    one_of,
    problem_response,
    secured,
)
from web.extensions import container
from web.users import current_actor

MAX_PER_PAGE = 100
MAX_PAGE = 1000
# Longer queries are refused by the index itself (MAX_QUERY_LENGTH) with a French message;
# this bound only keeps megabytes of query string from reaching it.
MAX_TEXT = 10_000

# --- input --------------------------------------------------------------------------------


class SearchQuerySchema(ApiSchema):
    q = Str(
        load_default="",
        validate=validate.Length(max=MAX_TEXT, error=f"{MAX_TEXT} caractères au plus."),
        metadata={
            "description": 'Words, "phrases", field filters (from:, type:, chrono:); '
            "500 characters at most after spaces are collapsed"
        },
    )
    kind = one_of(["mail", "document"])
    direction = one_of([d.value for d in Direction])
    mail_type = Str(
        validate=validate.Length(max=32, error="32 caractères au plus."),
        metadata={"description": "Mail type code, e.g. DEM"},
    )
    unit = identifier(metadata={"description": "Addressed to this unit (exactly)"})
    status = one_of([s.value for s in MailStatus])
    year = Int(validate=validate.Range(1900, 2999, error="Année entre 1900 et 2999."))
    date_from = Date(allow_none=True, metadata={"description": "Dated on or after"})
    date_to = Date(allow_none=True, metadata={"description": "Dated on or before"})
    sort = one_of(["relevance", "date", "-date"], load_default="relevance")
    page = Int(
        load_default=1, validate=validate.Range(1, MAX_PAGE, error=f"Entre 1 et {MAX_PAGE}.")
    )
    per_page = Int(
        load_default=20,
        validate=validate.Range(1, MAX_PER_PAGE, error=f"Entre 1 et {MAX_PER_PAGE}."),
    )


class ChronoQuerySchema(ApiSchema):
    prefix = Str(
        required=True,
        validate=validate.Length(max=40, error="40 caractères au plus."),
        metadata={"description": "Start of a chrono; fewer than 2 characters find nothing"},
    )
    limit = Int(load_default=10, validate=validate.Range(1, 50, error="Entre 1 et 50."))


# --- output -------------------------------------------------------------------------------


class SearchItemSchema(ApiSchema):
    key = fields.String(required=True, metadata={"example": "mail:42"})
    kind = fields.String(required=True, metadata={"description": "mail or document"})
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    chrono = fields.String(required=True, metadata={"description": "Empty for a document"})
    date = fields.Date(required=True)
    score = fields.Float(required=True)
    highlight = fields.String(
        required=True,
        metadata={"description": "HTML: escaped text, matches inside <mark>…</mark>"},
    )


class FacetValueSchema(ApiSchema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class SearchResultsSchema(ApiSchema):
    items = fields.List(fields.Nested(SearchItemSchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "Matches you may see"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    facets = fields.Dict(
        keys=fields.String(metadata={"enum": list(FACET_FIELDS)}),
        values=fields.List(fields.Nested(FacetValueSchema)),
        required=True,
        metadata={"description": "Counts of the matches by " + ", ".join(FACET_FIELDS)},
    )
    suggestion = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": '"Did you mean": a corrected query, when nothing matched'},
    )


# --- routes -------------------------------------------------------------------------------


@bp.route("/search")
@bp.arguments(SearchQuerySchema, location="query")
@bp.response(200, SearchResultsSchema)
@problem_response(400, "The query is too long (500 characters) or took too long")
@secured
@login_required
def search(args: Mapping[str, Any]) -> dict[str, Any]:
    """Full-text search in French and Arabic over the mail and documents you may see.

    Items of page ``page`` (``per_page`` at most 100), the ``total``, facet counts and, when
    nothing matched a mistyped word, a ``suggestion``. Unknown query parameters are refused (422).
    """
    query = SearchQuery(
        text=args["q"],
        kind=args.get("kind") or "",
        direction=args.get("direction") or "",
        mail_type=args.get("mail_type") or "",
        unit=args.get("unit"),
        status=args.get("status") or "",
        year=args.get("year"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        sort=args["sort"],
        page=args["page"],
        per_page=args["per_page"],
    )
    results = container().search.search(current_actor(), query)
    return {
        "items": [_item(hit) for hit in results.hits],
        "total": results.total,
        "page": query.page,
        "per_page": query.per_page,
        "facets": {
            name: [{"value": value, "count": count} for value, count in counts]
            for name, counts in results.facets.items()
        },
        "suggestion": results.suggestion,
    }


@bp.route("/search/chrono")
@bp.arguments(ChronoQuerySchema, location="query")
@bp.response(200, SearchItemSchema(many=True))
@secured
@login_required
def lookup_chrono(args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Lookup as you type: mail you may see whose chrono starts with ``prefix``, in order."""
    hits = container().search.lookup_chrono(current_actor(), args["prefix"], args["limit"])
    return [_item(hit) for hit in hits]


def _item(hit: SearchHit) -> dict[str, Any]:
    return {
        "key": hit.key,
        "kind": hit.kind,
        "id": hit.object_id,
        "title": hit.title,
        "chrono": hit.chrono,
        "date": hit.date,
        "score": hit.score,
        "highlight": hit.highlight,
    }
