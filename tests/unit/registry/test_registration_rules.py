"""Registration rules that need no database: the chrono format, the fields, mass assignment."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ged.domain.errors import ConfigurationError, ValidationError
from ged.services.mail import MailInput, _validate_fields, check_chrono_format


@pytest.mark.parametrize(
    "fmt",
    [
        "{prefix}-{year}-{number:06d}",
        "{year}/{number}",
        "{prefix}{year}{number:05d}",
        "N° {number} / {year}",
    ],
)
def test_chrono_formats_with_year_and_number_are_accepted(fmt: str) -> None:
    check_chrono_format(fmt)


@pytest.mark.parametrize(
    "fmt",
    [
        "{prefix}-{number}",  # no year: numbers restart each year and would repeat
        "{prefix}-{year}",  # no number
        "{year}-{number}-{secret}",
        "{year}-{number.__class__}",  # attribute access: a format-string injection
        "{year}-{number[0]}",
        "{0}-{year}-{number}",
        "{year}-{number:q}",  # invalid spec
    ],
)
def test_other_chrono_formats_are_refused_at_start(fmt: str) -> None:
    with pytest.raises(ConfigurationError):
        check_chrono_format(fmt)


def test_registration_input_has_no_field_for_what_the_server_decides() -> None:
    names = {f.name for f in dataclasses.fields(MailInput)}

    assert not names & {
        "id",
        "chrono",
        "number",
        "year",
        "status",
        "registered_by_id",
        "registered_at",
    }
    with pytest.raises(TypeError):
        MailInput(direction="incoming", subject="x", chrono="A-2026-000001")  # type: ignore[call-arg]


def valid(**fields: object) -> MailInput:
    data: dict[str, object] = {
        "direction": "incoming",
        "subject": "Demande",
        "correspondent_name": "Commune",
        "unit_ids": (1,),
    }
    data.update(fields)
    return MailInput(**data)  # type: ignore[arg-type]


def test_valid_input_passes() -> None:
    _validate_fields(valid())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "   "}, "L'objet du courrier est obligatoire."),
        ({"subject": "x" * 501}, "L'objet dépasse 500 caractères."),
        ({"priority": "critical"}, "Priorité inconnue."),
        ({"channel": "fax"}, "Canal de réception inconnu."),
        ({"sender_reference": "r" * 101}, "La référence dépasse 100 caractères."),
        ({"correspondent_name": "c" * 301}, "Le nom du correspondant dépasse 300 caractères."),
        ({"unit_ids": ()}, "Choisissez au moins une entité destinataire."),
        ({"correspondent_name": "  "}, "Indiquez le correspondant."),
        (
            {"letter_date": dt.date(2026, 3, 3), "mail_date": dt.date(2026, 3, 2)},
            "La date de la lettre est postérieure à sa date de réception ou d'envoi.",
        ),
    ],
)
def test_invalid_input_is_refused_with_a_french_message(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _validate_fields(valid(**fields))

    assert refused.value.message == message


def test_outgoing_mail_needs_a_correspondent_but_no_unit() -> None:
    _validate_fields(valid(direction="outgoing", unit_ids=()))
    with pytest.raises(ValidationError, match="Indiquez le correspondant"):
        _validate_fields(valid(direction="outgoing", unit_ids=(), correspondent_name=""))


def test_internal_mail_needs_neither_correspondent_nor_unit() -> None:
    _validate_fields(valid(direction="internal", unit_ids=(), correspondent_name=""))
