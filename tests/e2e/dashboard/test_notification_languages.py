"""The notifications page speaks its reader's language, for every kind and for old rows too."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask.testing import FlaskClient

from ged.bootstrap import Container
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.conftest import AuthActions
from tests.e2e.conftest import text
from tests.e2e.i18n.conftest import catalogue, visible_texts
from tests.integration.circuits.conftest import Office, make_office
from tests.integration.notifications.conftest import add_raw, chrono_of

BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")
ARABIC = re.compile("[\u0600-\u06ff]")
FRENCH = (
    "Nouvelle tâche",
    "Rappel",
    "Délai dépassé",
    "réattribuée",
    "confié",
    "Dispatcher",
    "Traiter",
)


def _every_kind(office: Office, locale: str) -> tuple[str, dt.date]:
    """A new task (director), a reminder and an escalation (chef), a handover (colleague)."""
    for person in (office.director, office.chef, office.colleague):
        office.container.accounts.set_locale(person, locale)
    tasks = office.container.tasks
    mail_id = office.register("Demande de certificat")
    process = office.dispatch(mail_id, days=2)
    assert process.due_at is not None
    tasks.send_reminders(process.due_at - dt.timedelta(hours=12))
    tasks.escalate_overdue(process.due_at + dt.timedelta(hours=1))
    tasks.reassign(office.chef, process.id, office.colleague.user_id or 0)
    return chrono_of(office, mail_id), tasks.due_date(process.due_at)


def _sentences(client: FlaskClient, auth: AuthActions, username: str) -> str:
    """The notifications page of `username`, without the marks that keep dates in order."""
    if client.get("/").status_code == 200:
        auth.logout()
    assert auth.login(username).status_code == 303
    response = client.get("/notifications/")
    assert response.status_code == 200
    return BIDI_MARKS.sub("", text(response))


def _untranslated(page: str) -> list[str]:
    french = {msgid for msgid, msgstr in catalogue("ar").items() if msgstr != msgid}
    return [shown for shown in visible_texts(page) if shown in french]


def test_an_arabic_reader_sees_every_kind_of_notification_in_arabic(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    chrono, due = _every_kind(office, "ar")
    day = f"{due.day}/{due.month}/{due.year}"  # ar_MA: Latin digits, day first

    director = _sentences(client, auth, "directeur")
    assert f"مهمة جديدة: «توزيع البريد» — {chrono}." in director
    chef = _sentences(client, auth, "chef")
    assert f"تذكير: «معالجة البريد» — {chrono}، يحل أجلها يوم {day} (نهاية اليوم)." in chef
    assert f"تجاوز الأجل: «معالجة البريد» — {chrono} (الأجل يوم {day} (نهاية اليوم))." in chef
    colleague = _sentences(client, auth, "collegue")
    assert f"أسند إليكم Personne chef المهمة «معالجة البريد» — {chrono}." in colleague
    assert f"الأجل: يوم {day} (نهاية اليوم)" in colleague
    assert "تذكير بالأجل" in colleague  # the kind's label
    for page in (director, chef, colleague):
        assert not any(word in page for word in FRENCH)
        assert not _untranslated(page), _untranslated(page)


def test_a_french_reader_sees_them_in_french(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    chrono, due = _every_kind(office, "fr")
    day = f"{due:%d/%m/%Y}"

    director = _sentences(client, auth, "directeur")
    assert f"Nouvelle tâche : « Dispatcher le courrier » — {chrono}." in director
    chef = _sentences(client, auth, "chef")
    assert (
        f"Rappel : « Traiter le courrier » — {chrono} arrive à échéance "
        f"le {day} (fin de journée)." in chef
    )
    assert (
        f"Délai dépassé : « Traiter le courrier » — {chrono} (échéance "
        f"le {day} (fin de journée))." in chef
    )
    colleague = _sentences(client, auth, "collegue")
    assert f"Personne chef vous a confié la tâche « Traiter le courrier » — {chrono}." in colleague
    assert f"Échéance : le {day} (fin de journée)" in colleague
    for page in (director, chef, colleague):
        assert not ARABIC.search(page.split('<ul class="list-group')[1])


def test_notifications_follow_a_change_of_language(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    office.register("Demande de certificat")
    assert "Nouvelle tâche : « Dispatcher le courrier »" in _sentences(client, auth, "directeur")

    container.accounts.set_locale(office.director, "ar")

    page = _sentences(client, auth, "directeur")
    assert "مهمة جديدة: «توزيع البريد»" in page
    assert "Nouvelle tâche" not in page


def test_old_rows_still_show_and_follow_the_language_when_they_can(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    zone = ZoneInfo(container.settings.timezone)
    timed = dt.datetime(2026, 12, 8, 14, 30, tzinfo=zone)
    reminder = (
        "Rappel : « Traiter le courrier » — A-2026-00007 arrive à échéance le 08/12/2026 à 14:30."
    )
    written = "Rappel : courrier du maire à traiter avant vendredi."
    add_raw(container, office.agent.user_id, "reminder", reminder)
    add_raw(container, office.agent.user_id, "reminder", written)

    french = _sentences(client, auth, "agent")
    assert reminder in french  # read back and worded again: the same sentence
    assert written in french

    container.accounts.set_locale(office.agent, "ar")
    arabic = _sentences(client, auth, "agent")
    time = BIDI_MARKS.sub("", format_time(timed, "short", tzinfo=zone, locale="ar_MA"))
    assert (
        f"تذكير: «معالجة البريد» — A-2026-00007، يحل أجلها يوم 8/12/2026 على الساعة {time}."
        in arabic
    )
    assert reminder not in arabic
    assert written in arabic  # nothing to read back: shown as written


def _moves(office: Office) -> str:
    """Tasks a manager took from their holders: to a pool (named in Arabic, named with markup),
    and to a person; returns the chrono of the first."""
    admin, tasks = office.container.admin, office.container.tasks
    admin.update_unit(
        SYSTEM,
        office.sj,
        UnitData("SJ", "Juridique", name_ar="الشؤون القانونية", parent_id=office.dg),
    )
    admin.update_unit(
        SYSTEM, office.other, UnitData("AUT", "Autre <b>service</b>", parent_id=office.dg)
    )
    office.container.accounts.set_locale(office.agent, "ar")
    mail_id = office.register("Demande de certificat")
    first = office.dispatch(mail_id).id
    tasks.claim(office.agent, first)
    tasks.reassign_to_unit(office.director, first, office.sj)
    second = office.dispatch(office.register("Demande de permis")).id
    tasks.claim(office.colleague, second)
    tasks.reassign_to_unit(office.director, second, office.other)
    third = office.dispatch(office.register("Demande de licence")).id
    tasks.claim(office.agent, third)
    tasks.reassign(office.chef, third, office.colleague.user_id or 0)
    return chrono_of(office, mail_id)


def test_a_task_taken_away_or_put_in_a_pool_is_worded_in_each_readers_language(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    chrono = _moves(office)

    agent = _sentences(client, auth, "agent")
    assert (
        f"سحب Personne directeur منكم المهمة «معالجة البريد» — {chrono} "
        "وأرجعها إلى سلة الشؤون القانونية." in agent
    )
    assert "سحب Personne chef منكم المهمة «معالجة البريد» — A-" in agent
    assert "وأسندها إلى Personne collegue." in agent
    assert "سحب مهمة" in agent  # the kind's label
    assert "الأجل: " not in agent  # no longer theirs to meet
    assert not any(word in agent for word in (*FRENCH, "Juridique", "retiré"))
    assert not _untranslated(agent), _untranslated(agent)

    legal = _sentences(client, auth, "juriste")
    assert (
        f"Personne directeur a remis la tâche « Traiter le courrier » — {chrono} "
        "dans le panier de votre entité." in legal
    )
    assert "Tâche remise dans le panier" in legal
    assert legal.count("Échéance : le ") == 1  # the pool's task, not the one taken away

    auth.logout()
    auth.login("collegue")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "dans le panier de Autre &lt;b&gt;service&lt;/b&gt;." in page
    assert "<b>service" not in page
