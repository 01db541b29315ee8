"""Full-text search page, and chrono lookup as you type."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from ged.domain.errors import ValidationError
from ged.domain.model import Direction, MailStatus
from ged.domain.search import SearchQuery
from web.extensions import container
from web.i18n import N_, translate
from web.users import current_actor

bp = Blueprint("search", __name__, url_prefix="/search")

FACET_LABELS = {
    "direction": N_("Sens"),
    "mail_type": N_("Type"),
    "unit": N_("Entité"),
    "year": N_("Année"),
    "status": N_("Statut"),
}


@bp.before_request
@login_required
def _require_login() -> None:
    """Search needs a login; what each person finds is decided by the search service."""


def query_from_args(args: MultiDict[str, str]) -> SearchQuery:
    """Read a search from query parameters; bad values are ignored rather than fatal."""
    return SearchQuery(
        text=args.get("q", ""),
        kind=args.get("kind", "") if args.get("kind") in ("mail", "document") else "",
        direction=args.get("direction", "") if args.get("direction") in set(Direction) else "",
        mail_type=args.get("mail_type", "")[:32],
        unit=_int(args.get("unit")),
        status=args.get("status", "") if args.get("status") in set(MailStatus) else "",
        year=_int(args.get("year")),
        date_from=_date(args.get("from")),
        date_to=_date(args.get("to")),
        sort=args.get("sort", "relevance")
        if args.get("sort") in ("relevance", "date", "-date")
        else "relevance",
        page=_int(args.get("page")) or 1,
        per_page=min(_int(args.get("per_page")) or 20, 100),
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    query = query_from_args(request.args)
    results = None
    error = ""
    searched = any(request.args.get(k) for k in ("q", "direction", "mail_type", "unit", "year"))
    if searched:
        try:
            results = container().search.search(current_actor(), query)
        except ValidationError as exc:
            error = translate(exc.message)
    unit_names = {str(u.id): u.code for u in container().registry.units()}
    return render_template(
        "search/index.html",
        query=query,
        results=results,
        error=error,
        facet_labels=FACET_LABELS,
        unit_names=unit_names,
        status_labels={s.value: s.label for s in MailStatus},
        direction_labels={d.value: d.label for d in Direction},
        refine=_refine_url,
    ), 400 if error else 200


@bp.get("/chrono")
def chrono() -> ResponseReturnValue:
    """htmx: mails whose chrono starts with what was typed."""
    hits = container().search.lookup_chrono(current_actor(), request.args.get("chrono", ""))
    return render_template("search/_chrono.html", hits=hits)


def _refine_url(**changes: str | int | None) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_for("search.index", **args)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
