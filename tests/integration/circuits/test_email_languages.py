"""E-mails are written in each recipient's language, through a real SMTP server on 127.0.0.1.

An Arabic-speaking person gets an Arabic subject and text, an HTML part laid out right to left,
dates in the Moroccan Arabic format and the plural form of each count; a French-speaking person
gets the same e-mail in French, left to right.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

from ged.bootstrap import Container
from tests.integration.circuits.conftest import Office, SmtpServer, make_office
from tests.integration.dashboards.conftest import at, end_of, set_task

BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")
ARABIC = re.compile("[\u0600-\u06ff]")


def parts(message: EmailMessage) -> tuple[str, str, str]:
    """Subject, text part and HTML part of a delivered message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return str(message["Subject"]), text.get_content(), html.get_content()


def only(smtp: SmtpServer, address: str) -> tuple[str, str, str]:
    [message] = smtp.mailbox.messages(address)
    return parts(message)


def arabic_speaking(office: Office, *names: str) -> None:
    for name in names:
        office.container.accounts.set_locale(getattr(office, name), "ar")


def test_a_new_task_is_emailed_in_arabic_to_an_arabic_speaking_holder(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    arabic_speaking(office, "director")

    office.register("Demande de certificat", confidential=False)
    office.register("Plainte contre un élu", confidential=True)

    first, second = (parts(m) for m in smtp.mailbox.messages("directeur@agence.test"))
    subject, text, html = first
    assert subject.startswith("[ged] مهمة جديدة: توزيع البريد — A-")
    assert text.startswith("مرحبا Personne directeur،")
    assert "أسندت إليكم مهمة: «توزيع البريد»." in text
    assert "Demande de certificat" in text  # people's words are never translated
    assert "تجدونها في ged، ضمن «مهامي»." in text
    for french in ("Bonjour", "Nouvelle tâche", "Dispatcher", "Retrouvez"):
        assert french not in subject + text
    assert '<html lang="ar" dir="rtl">' in html
    assert 'dir="rtl"' in html.split("<body", 1)[1]
    assert "أسندت إليكم مهمة" in html
    # A confidential subject stays out of the e-mail, in Arabic too.
    assert "Plainte" not in second[0] + second[1] + second[2]
    assert "(مراسلة سرية)" in second[1]


def test_a_french_speaking_holder_keeps_french_left_to_right(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)

    office.register("Demande de certificat")

    subject, text, html = only(smtp, "directeur@agence.test")
    assert subject.startswith("[ged] Nouvelle tâche : Dispatcher le courrier — A-")
    assert text.startswith("Bonjour Personne directeur,")
    assert not ARABIC.search(subject + text)
    assert '<html lang="fr" dir="ltr">' in html


def test_a_pool_reminder_goes_out_in_each_members_language(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    arabic_speaking(office, "colleague")
    mail_id = office.register()
    process = office.dispatch(mail_id, days=4)
    assert process.due_at is not None
    due_day = mailing.tasks.due_date(process.due_at)

    assert mailing.tasks.sweep(process.due_at - dt.timedelta(hours=20)).reminded == 1

    subject, text, _html = only(smtp, "agent@agence.test")
    assert subject.startswith("[ged] Rappel : Traiter le courrier")
    assert f"le {due_day:%d/%m/%Y} (fin de journée)" in text
    subject, text, html = only(smtp, "collegue@agence.test")
    assert subject.startswith("[ged] تذكير: معالجة البريد")
    # ar_MA: day/month/year with Latin digits (and right-to-left marks around the slashes).
    day = f"{due_day.day}/{due_day.month}/{due_day.year}"
    assert f"يحل أجل المهمة «معالجة البريد»: يوم {day} (نهاية اليوم)." in BIDI_MARKS.sub("", text)
    assert 'dir="rtl"' in html


def test_an_escalation_reaches_an_arabic_speaking_manager_in_arabic(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    arabic_speaking(office, "chef")
    mail_id = office.register()
    process = office.dispatch(mail_id, days=2)
    assert process.due_at is not None

    mailing.tasks.sweep(process.due_at + dt.timedelta(hours=1))

    subject, text, html = only(smtp, "chef@agence.test")
    assert subject.startswith("[ged] تجاوز الأجل: معالجة البريد")
    assert "تجاوزت المهمة «معالجة البريد» أجلها" in text
    assert "المكلف بها: لا أحد (سلة المصلحة)" in text
    assert "Délai" not in subject + text
    assert '<html lang="ar" dir="rtl">' in html


def test_the_arabic_digest_uses_the_plural_form_of_each_count(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    arabic_speaking(office, "agent")
    monday = dt.date(2026, 12, 14)
    for due in (dt.date(2026, 12, 9), dt.date(2026, 12, 10), dt.date(2026, 12, 15)):
        process = office.dispatch(office.register(f"Demande du {due}"))
        mailing.tasks.claim(office.agent, process.id)
        set_task(mailing, process.id, due_at=end_of(due))

    mailing.notifications.send_digests(at(monday, 8))

    subject, text, html = only(smtp, "agent@agence.test")
    # Two overdue (the dual form), one due soon (the singular).
    assert (
        subject == "[ged] مهامكم ليوم 14\u200f/12\u200f/2026: 2 مهمتان متأخرتان، 1 مهمة قريبة الأجل"
    )
    assert "متأخرة (2):" in text
    assert "يحل أجلها خلال 2 يومي عمل (1):" in text
    assert "يوم 9/12/2026 (نهاية اليوم)" in BIDI_MARKS.sub("", text)
    assert "Vos tâches" not in subject + text
    assert 'dir="rtl"' in html
