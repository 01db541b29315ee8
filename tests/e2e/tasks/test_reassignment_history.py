"""The mail's history says where a reassignment gave its task: a unit's pool, or a person."""

from __future__ import annotations

import re

from ged.bootstrap import Container
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.e2e.tasks.conftest import Login
from tests.integration.circuits.conftest import Office

MOVE = re.compile(r'<li[^>]*data-action="task\.reassigned">(.*?)</li>', re.DOTALL)
SAU_AR = "مصلحة الرخص"


def moves(html: str) -> list[str]:
    """The detail lines of the history's reassignments, in order, as the page writes them."""
    found = []
    for entry in MOVE.findall(html):
        [*_, detail] = re.findall(r'<div class="small" dir="auto">(.*?)</div>', entry)
        found.append(detail)
    return found


def moved_twice(office: Office, container: Container) -> int:
    """A processing task the agent held, put in the SAU's pool, then given to a colleague."""
    container.admin.update_unit(
        SYSTEM,
        office.sau,
        UnitData(
            "SAU",
            "Autorisations <i>& co</i>",
            name_ar=SAU_AR,
            parent_id=office.dg,
            manager_id=office.chef.user_id,
        ),
    )
    mail_id = office.register()
    task_id = office.dispatch(mail_id).id
    container.tasks.claim(office.agent, task_id)
    container.tasks.reassign_to_unit(office.chef, task_id, office.sau, "Agent <absent>")
    container.tasks.reassign(office.chef, task_id, office.colleague.user_id or 0)
    return mail_id


def test_the_history_names_the_pool_and_the_person_a_task_went_to(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = moved_twice(office, container)

    page = login("chef").get(f"/mail/{mail_id}").get_data(as_text=True)

    assert moves(page) == [
        "Traiter le courrier — remise dans le panier de Autorisations &lt;i&gt;&amp; co&lt;/i&gt;"
        " : Agent &lt;absent&gt;",
        "Traiter le courrier — confiée à Personne collegue",
    ]


def test_an_arabic_page_names_the_unit_by_its_arabic_name(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = moved_twice(office, container)
    container.accounts.set_locale(office.chef, "ar")

    page = login("chef").get(f"/mail/{mail_id}").get_data(as_text=True)

    assert moves(page) == [
        f"معالجة البريد — أرجعت إلى سلة {SAU_AR} : Agent &lt;absent&gt;",
        "معالجة البريد — أسندت إلى Personne collegue",
    ]
    assert "Autorisations" not in page.split('id="history"', 1)[1].split("</section>", 1)[0]
