"""File downloads: the bytes of a document version, always as an attachment."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Response, request
from flask_login import login_required
from werkzeug.wsgi import wrap_file

from web.api.common import MAX_ID, ApiSchema, bp, identifier, problem_response, secured
from web.extensions import container
from web.users import current_actor

# RFC 8187 attr-char, minus the letters and digits ``quote`` never escapes.
_ATTR_CHARS = "!#$&+-.^_`|~"


class ContentQuerySchema(ApiSchema):
    version = identifier(
        metadata={
            "description": "Id of the version (``version_id`` in a mail's documents); "
            "the latest version when absent"
        }
    )


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` fallback and the exact name in ``filename*``
    (RFC 6266); quotes, backslashes and controls never reach the header."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c for c in fallback if c.isprintable() and c not in '"\\').strip()
    fallback = fallback.lstrip(".") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


@bp.route(f"/documents/<int(min=1, max={MAX_ID}):document_id>/content")
@bp.arguments(ContentQuerySchema, location="query")
@bp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    description="The file, as an attachment; its real media type in Content-Type",
)
@problem_response(404, "No such document or version, or not one you may see")
@secured
@login_required
def document_content(args: Mapping[str, Any], document_id: int) -> Response:
    """Download a version of a document (the latest by default); every download is audited."""
    version, stream = container().documents.open_version(
        current_actor(), document_id, args.get("version")
    )
    response = Response(
        wrap_file(request.environ, stream),
        mimetype=version.media_type,
        direct_passthrough=True,
    )
    response.content_length = version.size
    response.headers["Content-Disposition"] = content_disposition(version.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
