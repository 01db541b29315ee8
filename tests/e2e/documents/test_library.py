"""The library through its pages: upload, list and filters, versions, metadata, plan, trash, hold."""

from __future__ import annotations

from collections.abc import Callable

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM, Builders
from tests.e2e.conftest import People, events, snapshot, text
from tests.e2e.documents.conftest import (
    PDF,
    PDF_V2,
    Library,
    count_rows,
    create_as,
    document_row,
    fetch,
    stored_files,
    versions_of,
)


def test_upload_creates_a_document_with_its_first_version_and_shows_it(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")

    response = agent.upload(
        PDF, "lettre.pdf", title="Convention de partenariat", tags="Contrat, 2026 ,contrat"
    )

    assert response.status_code == 303
    document_id = int(response.location.rsplit("/", 1)[1])
    document = document_row(container, document_id)
    assert (document.title, document.unit_id, document.created_by_id) == (
        "Convention de partenariat",
        people.unit_id,
        people.agent,
    )
    [version] = versions_of(container, document_id)
    assert (version.number, version.size, version.media_type) == (1, len(PDF), "application/pdf")
    page = text(agent.client.get(response.location))
    assert "Document enregistré." in page
    assert "Convention de partenariat" in page
    assert "lettre.pdf" in page
    assert "Personne agent" in page  # the version's author
    assert "2026" in page
    assert "contrat" in page
    listing = text(agent.client.get("/documents/"))
    assert "Convention de partenariat" in listing
    assert "1 document" in listing


def test_upload_form_keeps_the_input_and_says_what_is_missing(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    before = stored_files(container)

    response = agent.upload(PDF, "lettre.pdf", title="")

    assert response.status_code == 400
    assert count_rows(container) == (0, 0)
    assert stored_files(container) == before
    assert "invalid-feedback" in response.get_data(as_text=True)


def test_list_filters_by_title_classification_and_tag(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    contracts = container.documents.create_classification(SYSTEM, "C", "Contrats")
    agent = login("agent")
    agent.create(title="Convention eau potable", tags="eau", classification_id=str(contracts))
    agent.create(title="Rapport annuel", tags="rapport")
    agent.create(title="Convention 100% électricité", tags="énergie")

    def titles(query: str) -> str:
        return text(agent.client.get(f"/documents/?{query}"))

    by_title = titles("q=convention")
    assert "Convention eau potable" in by_title
    assert "Convention 100% électricité" in by_title
    assert "Rapport annuel" not in by_title
    assert "2 documents" in by_title
    assert "Convention 100%" in titles("q=100%25")  # % is a literal, not a wildcard
    assert "Rapport annuel" not in titles("q=100%25")
    by_plan = titles(f"classification={contracts}")
    assert "Convention eau potable" in by_plan
    assert "Rapport annuel" not in by_plan
    by_tag = titles("tag=Rapport")
    assert "Rapport annuel" in by_tag
    assert "Convention" not in by_tag


def test_list_is_paginated_and_keeps_the_filters(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    for n in range(27):
        create_as(container, SYSTEM, title=f"Note de service {n:02d}")
    create_as(container, SYSTEM, title="Autre chose")
    agent = login("agent")

    first = agent.client.get("/documents/?q=note")
    second = agent.client.get("/documents/?q=note&page=2")

    first_page, second_page = text(first), text(second)
    assert "27 documents" in first_page
    assert first_page.count("Note de service") == 25
    assert second_page.count("Note de service") == 2
    assert "Page 2 sur 2" in second_page
    assert "/documents/?page=2&amp;q=note" in first.get_data(as_text=True)
    assert agent.client.get("/documents/?page=abc").status_code == 200


def test_new_version_keeps_the_history_and_every_version_downloadable(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF, "v1.pdf")

    response = agent.add_version(document_id, PDF_V2, "v2.pdf")

    assert response.status_code == 303
    first, second = versions_of(container, document_id)
    assert (first.number, second.number) == (1, 2)
    assert fetch(agent.client, f"/documents/{document_id}/download").data == PDF_V2
    old = fetch(agent.client, f"/documents/{document_id}/download?version={first.id}")
    assert old.status_code == 200
    assert old.data == PDF
    page = text(agent.client.get(f"/documents/{document_id}"))
    assert "v1.pdf" in page
    assert "v2.pdf" in page
    assert f"version={first.id}" in page
    assert f"version={second.id}" in page


def test_a_version_of_another_document_is_not_served(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    first = agent.create(PDF, "a.pdf")
    second = agent.create(PDF_V2, "b.pdf")
    [other_version] = versions_of(container, second)

    response = agent.client.get(f"/documents/{first}/download?version={other_version.id}")

    assert response.status_code == 404
    assert agent.client.get(f"/documents/{first}/download?version=x").status_code == 404


def test_metadata_edit_changes_title_tags_and_confidentiality_and_is_audited(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(title="Brouillon", tags="a, b")

    response = agent.edit(
        document_id,
        title="Version définitive",
        description="Deux lignes\nde description",
        tags="b, Urgent",
        confidential="y",
    )

    assert response.status_code == 303
    view = container.documents.get(SYSTEM, document_id)
    assert view.document.title == "Version définitive"
    assert view.document.confidential is True
    assert list(view.tags) == ["b", "urgent"]
    [event] = events(container, AuditAction.DOCUMENT_UPDATED)
    assert event.details["title"] == ["Brouillon", "Version définitive"]
    assert event.actor_id == people.agent
    page = agent.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "Deux lignes<br>de description" in page
    assert "confidentiel" in page


def test_metadata_edit_refused_by_the_service_shows_the_reason(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(title="Brouillon")
    tags = ", ".join(f"t{n}" for n in range(25))

    response = agent.edit(document_id, title="Nouveau titre", tags=tags)

    assert response.status_code == 400
    assert "20 étiquettes au plus." in text(response)
    assert document_row(container, document_id).title == "Brouillon"


def test_moving_a_document_in_the_plan_changes_its_classification(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    archives = container.documents.create_classification(SYSTEM, "A", "Archives")
    contracts = container.documents.create_classification(SYSTEM, "A1", "Contrats", archives)
    agent = login("agent")
    document_id = agent.create(title="Marché 12/2026", classification_id=str(archives))

    response = agent.edit(document_id, title="Marché 12/2026", classification_id=str(contracts))

    assert response.status_code == 303
    assert document_row(container, document_id).classification_id == contracts
    assert "Marché 12/2026" in text(agent.client.get(f"/documents/?classification={contracts}"))
    assert "Marché 12/2026" not in text(agent.client.get(f"/documents/?classification={archives}"))
    assert "A1 · Contrats" in text(agent.client.get(f"/documents/{document_id}"))
    moved = agent.edit(document_id, title="Marché 12/2026", classification_id="999999")
    assert moved.status_code == 400
    assert "n'existe pas" in text(moved)


def test_admin_adds_nodes_to_the_plan_and_sees_the_tree(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    admin = login("admin")

    response = admin.post(
        "/documents/plan", "/documents/plan", code="rh", name="Ressources humaines"
    )
    [root] = container.documents.classifications()
    child = admin.post(
        "/documents/plan",
        "/documents/plan",
        code="RH-1",
        name="Dossiers du personnel",
        parent_id=str(root.id),
    )
    duplicate = admin.post("/documents/plan", "/documents/plan", code="RH", name="Encore")

    assert response.status_code == 303
    assert child.status_code == 303
    assert duplicate.status_code == 409
    assert "La rubrique RH existe déjà." in text(duplicate)
    nodes = {n.code: n for n in container.documents.classifications()}
    assert nodes["RH-1"].parent_id == nodes["RH"].id
    page = admin.client.get("/documents/plan").get_data(as_text=True)
    # The child sits in a list nested inside its parent's item.
    assert page.index("RH</span>") < page.index("<ul>", page.index("RH</span>"))
    assert page.index("<ul>", page.index("RH</span>")) < page.index("RH-1</span>")
    [event] = events(container, AuditAction.CLASSIFICATION_CREATED)[:1]
    assert event.actor_id == people.admin


def test_only_an_admin_changes_the_plan(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")

    page = agent.client.get("/documents/plan")
    response = agent.post("/documents/plan", "/documents/plan", code="X", name="Pirate")

    assert page.status_code == 200
    assert "Ajouter une rubrique" not in text(page)
    assert response.status_code == 403
    assert list(container.documents.classifications()) == []


def test_trash_and_restore(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(title="À jeter")

    deleted = agent.action(document_id, "delete")

    assert deleted.status_code == 303
    assert document_row(container, document_id).deleted_at is not None
    assert "À jeter" not in text(agent.client.get("/documents/"))
    assert agent.client.get(f"/documents/{document_id}").status_code == 404
    assert agent.client.get(f"/documents/{document_id}/download").status_code == 404
    trash = agent.client.get("/documents/?trash=1")
    assert "À jeter" in text(trash)
    assert f"/documents/{document_id}/restore" in trash.get_data(as_text=True)

    restored = agent.post(f"/documents/{document_id}/restore", "/documents/?trash=1")

    assert restored.status_code == 303
    assert document_row(container, document_id).deleted_at is None
    assert "À jeter" in text(agent.client.get("/documents/"))
    assert "À jeter" not in text(agent.client.get("/documents/?trash=1"))
    assert [e.object_id for e in events(container, AuditAction.DOCUMENT_DELETED)] == [
        str(document_id)
    ]
    assert [e.object_id for e in events(container, AuditAction.DOCUMENT_RESTORED)] == [
        str(document_id)
    ]


def test_legal_hold_blocks_deletion_even_by_an_admin(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    document_id = login("agent").create(title="Pièce du contentieux")
    admin = login("admin")
    held = admin.action(document_id, "hold", hold="1", reason="Contentieux n° 42")
    assert held.status_code == 303
    assert document_row(container, document_id).legal_hold is True
    before = snapshot(container)

    response = admin.action(document_id, "delete")

    assert response.status_code == 409
    assert "sous gel juridique" in text(response)
    assert snapshot(container) == before
    assert events(container, AuditAction.DOCUMENT_DELETED) == []
    [event] = events(container, AuditAction.DOCUMENT_HOLD_SET)
    assert event.details == {"reason": "Contentieux n° 42"}

    released = admin.action(document_id, "hold", hold="0", reason="Affaire close")
    assert released.status_code == 303
    assert admin.action(document_id, "delete").status_code == 303
    assert document_row(container, document_id).deleted_at is not None


def test_legal_hold_needs_a_reason_and_the_right_role(
    people: People, build: Builders, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create()

    by_agent = agent.action(document_id, "hold", hold="1", reason="Je gèle")
    without_reason = login("admin").action(document_id, "hold", hold="1", reason="  ")

    assert by_agent.status_code == 403
    assert without_reason.status_code == 400
    assert document_row(container, document_id).legal_hold is False
    assert "Gel juridique" not in text(agent.client.get(f"/documents/{document_id}"))
