"""The search page: finds what the user may see, in one query, with facets and highlights."""

from __future__ import annotations

import io

from sqlalchemy import select

from ged.adapters.orm import MailDocument, PageText, Version
from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.builders import Builders
from tests.conftest import AuthActions


def register_with_text(container: Container, build: Builders, unit: int, text: str) -> str:
    registrar = build.actor(build.user(role=Role.REGISTRAR))
    registered = container.registry.register(
        registrar,
        MailInput("incoming", "Demande", correspondent_name="Commune", unit_ids=(unit,)),
        [Upload(io.BytesIO(b"%PDF-1.4 " + text.encode()), "scan.pdf")],
    )
    with container.writer() as uow:
        version_id = uow.session.execute(
            select(Version.id)
            .join(MailDocument, MailDocument.document_id == Version.document_id)
            .where(MailDocument.mail_id == registered.id)
        ).scalar_one()
        uow.session.add(PageText(version_id=version_id, page=1, text=text))
        uow.commit()
    container.jobs.enqueue("index_mail", registered.id)
    return registered.chrono


def test_search_page_shows_hits_with_highlights_and_facets(
    container: Container, build: Builders, auth: AuthActions
) -> None:
    unit = build.unit("SAU")
    chrono = register_with_text(container, build, unit, "permis de lotir <b>zone</b> nord")
    build.user("ali", unit_id=unit)
    auth.login("ali")
    page = auth.client.get("/search/?q=lotissement+zone").get_data(as_text=True)
    assert chrono in page
    assert "<mark" in page
    assert "&lt;b&gt;" in page  # the scan's markup is shown as text
    assert "1 résultat" in page


def test_search_page_hides_other_units_mail_and_counts(
    container: Container, build: Builders, auth: AuthActions
) -> None:
    theirs = build.unit("SJ")
    chrono = register_with_text(container, build, theirs, "permis de lotir")
    build.user("ali", unit_id=build.unit("SAU"))
    auth.login("ali")
    page = auth.client.get("/search/?q=lotir").get_data(as_text=True)
    assert chrono not in page
    assert "0 résultat" in page
    lookup = auth.client.get("/search/chrono?chrono=A-").get_data(as_text=True)
    assert chrono not in lookup


def test_chrono_lookup_as_you_type(
    container: Container, build: Builders, auth: AuthActions
) -> None:
    unit = build.unit("SAU")
    chrono = register_with_text(container, build, unit, "texte")
    build.user("ali", unit_id=unit)
    auth.login("ali")
    assert chrono in auth.client.get(f"/search/chrono?chrono={chrono[:6]}").get_data(as_text=True)


def test_overlong_query_gets_a_clear_message(build: Builders, auth: AuthActions) -> None:
    build.user("ali", unit_id=build.unit("SAU"))
    auth.login("ali")
    response = auth.client.get("/search/?q=" + "a%20" * 20_000)
    assert response.status_code == 400
    assert "trop longue" in response.get_data(as_text=True)


def test_search_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/search/?q=x").status_code == 302
