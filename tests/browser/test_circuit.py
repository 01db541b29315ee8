"""An incoming letter goes round its circuit: registered, dispatched, processed, returned, visaed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing
from tests.browser.journeys import (
    circuit_diagram,
    claim_task,
    complete_task,
    login_as,
    open_as,
    open_inbox,
    open_task,
    register_mail,
    task_row,
)
from tests.browser.scans import Letter, letter_pdf, scan

pytestmark = pytest.mark.browser


def test_an_incoming_letter_is_dispatched_processed_returned_and_visaed(
    browsing: Browsing, page: Page, tmp_path: Path
) -> None:
    letter = Letter("Commune de Skhirat", "Skhirat", "Demande d'alignement", keyword="alignement")
    login_as(page, "secretaire")
    mail = register_mail(
        page,
        subject="Demande de certificat d'alignement, avenue Hassan II",
        correspondent="Commune de Skhirat",
        units=("SAU",),
        mail_type="Demande",
        files=(scan(letter, tmp_path / "alignement.png"),),
    )
    # The type's circuit starts with the registration: the director has it to dispatch.
    expect(page.locator("[data-status=registered]")).to_be_visible()
    assert circuit_diagram(page).current == {"dispatch"}

    # The director: from « Mes tâches » in the navigation bar to the dispatch task.
    director = open_as(browsing, "directeur")
    open_task(director, mail)
    expect(director.locator("form.task-form input[name=outcome]")).to_have_count(2)
    deadline = dt.date.today() + dt.timedelta(days=21)
    complete_task(
        director,
        "dispatch",
        {"addressed_unit": "SAU", "processing_deadline": deadline.isoformat()},
        comment="Pour instruction et projet de réponse.",
    )
    expect(task_row(director, mail)).to_have_count(0)

    # An agent of the service takes it from the service's pool and drafts the answer.
    agent = open_as(browsing, "technicien.sau")
    open_task(agent, mail, tab="pool")
    claim_task(agent)
    expect(agent.locator("#field-processing_deadline")).to_have_count(0)
    draft = tmp_path / "projet-reponse.pdf"
    draft.write_bytes(
        letter_pdf(Letter("Agence urbaine", "Rabat", "Certificat d'alignement", "alignement"))
    )
    complete_task(agent, "answer", comment="Projet de réponse joint.", files=(draft,))
    expect(task_row(agent, mail)).to_have_count(0)

    # The head of the service is told by the bell; the mail page shows where the circuit is.
    manager = open_as(browsing, "chef.sau")
    expect(manager.locator("#notification-count")).to_be_visible()
    manager.locator("#notification-bell").click()
    manager.wait_for_url("**/notifications/")
    manager.locator(f"main a[href='{mail.path}']").first.click()
    manager.wait_for_url(f"**{mail.path}")
    midway = circuit_diagram(manager)
    assert midway.done == {"dispatch", "process"}
    assert midway.current == {"visa"}
    expect(manager.locator("tr[data-step=process][data-state=done]")).to_have_count(1)
    # The draft answer joined the mail's documents, after the scanned letter.
    expect(manager.locator("#documents tbody tr").nth(1)).to_contain_text("projet-reponse.pdf")
    # The visa task: first returned for correction.
    open_task(manager, mail)
    expect(manager.locator("[data-step]")).to_have_count(3)
    correction = "Préciser la référence foncière TF 12345/R."
    complete_task(manager, "return", comment=correction)

    # Back in the service's pool: the agent sees why, corrects, and submits again.
    open_task(agent, mail, tab="pool")
    expect(agent.locator(".task-comment").filter(has_text=correction)).to_have_count(1)
    claim_task(agent)
    complete_task(agent, "answer", comment="Référence foncière ajoutée.")

    open_task(manager, mail)
    complete_task(manager, "approve", comment="Vu, bon pour signature.")
    open_inbox(manager)
    expect(task_row(manager, mail)).to_have_count(0)

    # The mail is answered; its page draws the whole way it went and lists every step.
    page.goto(mail.path)
    expect(page.locator("[data-status=answered]").first).to_be_visible()
    finished = circuit_diagram(page)
    assert finished.done == {"dispatch", "process", "visa"}
    assert finished.current == frozenset()
    steps = page.locator("#circuit tr[data-step]")
    expect(steps).to_have_count(5)
    assert steps.evaluate_all("rows => rows.map(r => r.dataset.step)") == [
        "dispatch",
        "process",
        "visa",
        "process",
        "visa",
    ]
    expect(page.locator("#circuit tr[data-step][data-state=done]")).to_have_count(5)
    expect(steps.nth(2)).to_contain_text(correction)
    history = page.locator("#history")
    expect(history.locator("li[data-action='circuit.started']")).to_have_count(1)
    expect(history.locator("li[data-action='task.claimed']")).to_have_count(2)
    expect(history.locator("li[data-action='task.completed']")).to_have_count(5)
    assert browsing.problems == []
