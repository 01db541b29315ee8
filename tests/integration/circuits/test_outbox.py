"""E-mails leave through the outbox after commit, via a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ged.adapters.orm import OutboxEmail
from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.services.mail import MailInput
from tests.integration.circuits.conftest import (
    MailingFactory,
    Office,
    SmtpServer,
    emails,
    footprint,
    make_office,
)


def queue(container: Container, *addresses: str) -> None:
    with container.writer() as uow:
        for address in addresses:
            container.outbox.add(uow, address, "Essai", "Bonjour.")
        uow.commit()


def by_address(container: Container) -> dict[str, OutboxEmail]:
    return {e.to_address: e for e in emails(container)}


def test_a_new_task_is_emailed_to_its_holder_once_the_step_commits(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)

    mail_id = office.register("Demande de certificat")

    [message] = smtp.mailbox.to("directeur@agence.test")
    assert "Nouvelle tâche" in message
    assert "Dispatcher le courrier" in message
    assert "Demande de certificat" in message
    [email] = emails(mailing)
    assert email.sent_at is not None
    assert email.attempts == 1
    assert mail_id > 0


def test_a_confidential_subject_never_goes_out_by_email(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)

    office.register("Plainte contre un élu", confidential=True)

    [message] = smtp.mailbox.to("directeur@agence.test")
    assert "Plainte" not in message
    assert "courrier confidentiel" in message


def test_a_refused_step_leaves_no_email(mailing: Container, smtp: SmtpServer) -> None:
    office = make_office(mailing)
    undeployed = mailing.registry.create_mail_type(
        office.admin, "XYZ", "Sans circuit déployé", 5, "no_such_circuit"
    )
    before = footprint(mailing)

    with pytest.raises(ValidationError, match="n'est pas déployé"):
        mailing.registry.register(
            office.clerk,
            MailInput(
                "incoming",
                "Objet",
                correspondent_name="X",
                mail_type_id=undeployed,
                unit_ids=(office.sau,),
            ),
        )

    assert footprint(mailing) == before
    assert smtp.mailbox.envelopes == []


def test_recipients_on_internal_addresses_are_refused_and_not_retried(
    mailing_factory: MailingFactory, smtp: SmtpServer
) -> None:
    container = mailing_factory(refuse_private_recipients=True)
    internal = ["a@127.0.0.1", "b@[10.0.0.1]", "c@[IPv6:fe80::1]", "d@[192.168.1.20]"]
    public = "e@[93.184.216.34]"

    queue(container, *internal, public, "f@localhost", "bad address@x.test")

    sent = by_address(container)
    for address in [*internal, "f@localhost"]:
        assert sent[address].failed_at is not None
        assert sent[address].sent_at is None
        assert "adresse interne" in sent[address].last_error
    assert "invalide" in sent["bad address@x.test"].last_error
    assert sent[public].sent_at is not None
    assert [e.rcpt_tos for e in smtp.mailbox.envelopes] == [[public]]
    assert container.tasks.sweep().emails.sent == 0  # nothing is tried again


def test_an_unreachable_relay_is_retried_later_until_it_answers(
    mailing: Container, smtp: SmtpServer
) -> None:
    smtp.stop()
    queue(mailing, "chef@agence.test")
    [email] = emails(mailing)
    assert email.sent_at is None
    assert email.attempts == 1
    assert email.failed_at is None
    assert "envoi impossible" in email.last_error
    assert mailing.outbox.send_pending().sent == 0  # not due again yet

    smtp.start()
    report = mailing.outbox.send_pending(email.next_attempt_at + dt.timedelta(seconds=1))

    assert report.sent == 1
    assert len(smtp.mailbox.to("chef@agence.test")) == 1
    assert mailing.outbox.stats().pending == 0


def test_an_email_is_given_up_after_the_last_attempt(
    mailing_factory: MailingFactory, smtp: SmtpServer
) -> None:
    container = mailing_factory(max_attempts=2)
    smtp.stop()
    queue(container, "chef@agence.test")
    [email] = emails(container)

    report = container.outbox.send_pending(email.next_attempt_at + dt.timedelta(seconds=1))

    assert (report.sent, report.failed) == (0, 1)
    [email] = emails(container)
    assert email.failed_at is not None
    assert email.attempts == 2
    assert container.outbox.stats().failed == 1


def test_a_relay_without_starttls_is_not_used_when_starttls_is_required(
    mailing_factory: MailingFactory, smtp: SmtpServer
) -> None:
    container = mailing_factory(starttls=True)

    queue(container, "chef@agence.test")

    [email] = emails(container)
    assert "STARTTLS" in email.last_error
    assert email.sent_at is None
    assert smtp.mailbox.envelopes == []


def test_without_a_relay_emails_wait_in_the_outbox(office: Office) -> None:
    office.register()

    assert office.container.outbox.stats().pending >= 1
    assert office.container.tasks.sweep().emails.sent == 0
    with office.container.reader() as uow:
        assert uow.session.execute(select(OutboxEmail.attempts)).scalars().all() == [0]
