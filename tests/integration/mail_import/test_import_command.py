"""``ged mail import FILE.csv``: progress on stderr, a report on stdout, exit status 0, 1 or 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from ged.adapters.orm import AuditEvent
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.e2e.conftest import snapshot
from tests.integration.conftest import GedCommand
from tests.integration.mail_import.conftest import Office, csv_bytes, mails, write_csv
from web.cli import cli


def ged_mail_import(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(cli, ["mail", "import", *args])


def test_clean_register_is_imported_with_exit_status_0(
    runner: FlaskCliRunner, container: Container, office: Office, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "registre.csv",
        csv_bytes(
            [
                ("arrivée", office.day(9), "Atlas", "Demande", "", "DEM", "DG"),
                ("arrivée", office.day(8), "Atlas", "Relance", "", "", "DRH"),
            ]
        ),
    )

    result = ged_mail_import(runner, path)

    assert result.exit_code == 0, result.output
    year = office.today.year
    assert result.stdout.splitlines() == [
        "2 ligne(s) lue(s) : 2 importée(s), 0 rejetée(s).",
        f"Chronos attribués : A-{year}-000001 à A-{year}-000002.",
    ]
    assert "Import" in result.stderr  # the progress bar's label
    assert [m.subject for m in mails(container)] == ["Demande", "Relance"]
    assert all(m.registered_by_id is None for m in mails(container))


def test_rejected_rows_are_listed_and_the_others_imported_with_exit_status_1(
    runner: FlaskCliRunner, container: Container, office: Office, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "registre.csv",
        csv_bytes(
            [
                ("arrivée", office.day(9), "Atlas", "Avant", "", "", "DG"),
                ("arrivée", office.day(9), "Atlas", "Mauvaise", "", "", "NOPE"),
                ("arrivée", office.day(9), "Atlas", "Après", "", "", "DG"),
            ]
        ),
    )

    result = ged_mail_import(runner, path)

    assert result.exit_code == 1
    assert result.stdout.splitlines()[:3] == [
        "Lignes rejetées :",
        "  ligne 3 : Entité(s) inconnue(s) ou désactivée(s) : NOPE.",
        "3 ligne(s) lue(s) : 2 importée(s), 1 rejetée(s).",
    ]
    assert [m.subject for m in mails(container)] == ["Avant", "Après"]
    assert [m.number for m in mails(container)] == [1, 2]


def test_dry_run_reports_without_writing(
    runner: FlaskCliRunner, container: Container, office: Office, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "registre.csv",
        csv_bytes(
            [
                ("arrivée", office.day(9), "Atlas", "Bon", "", "", "DG"),
                ("arrivée", office.day(-3), "Atlas", "Futur", "", "", "DG"),
            ]
        ),
    )
    before = snapshot(container)

    result = ged_mail_import(runner, path, "--dry-run")

    assert result.exit_code == 1
    assert f"  ligne 3 : La date {office.day(-3)} est dans le futur." in result.stdout
    assert (
        "Simulation : 2 ligne(s) lue(s), 1 valide(s), 1 rejetée(s). Rien n'a été enregistré."
        in result.stdout
    )
    assert snapshot(container) == before


def test_dry_run_of_a_clean_register_exits_0(
    runner: FlaskCliRunner, container: Container, office: Office, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "registre.csv",
        csv_bytes([("arrivée", office.day(9), "Atlas", "Bon", "", "", "DG")]),
    )

    assert ged_mail_import(runner, path, "--dry-run").exit_code == 0
    assert mails(container) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"direction;date;subject\r\nA;01/01/2025;S\r\n", "Colonne(s) obligatoire(s) manquante(s)"),
        ("direction;date;correspondent;subject;units\r\nA;01/01/2025;Fès;S;DG\r\n".encode("cp1252"),
         "n'est pas en UTF-8"),
    ],
    ids=["missing-columns", "not-utf8"],
)  # fmt: skip
def test_file_level_error_exits_2_and_imports_nothing(
    runner: FlaskCliRunner,
    container: Container,
    office: Office,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    result = ged_mail_import(runner, write_csv(tmp_path / "registre.csv", content))

    assert result.exit_code == 2
    assert message in result.stderr
    assert mails(container) == []


def test_delimiter_option_overrides_the_guess(
    runner: FlaskCliRunner, container: Container, office: Office, tmp_path: Path
) -> None:
    content = csv_bytes([("arrivée", office.day(1), "Atlas", "Objet", "", "", "DG")])
    path = write_csv(tmp_path / "registre.csv", content)

    wrong = ged_mail_import(runner, path, "--delimiter", ",")

    assert wrong.exit_code == 2
    assert "Colonne(s) inconnue(s)" in wrong.stderr
    assert ged_mail_import(runner, path, "--delimiter", ";").exit_code == 0
    assert len(mails(container)) == 1


def test_missing_file_is_a_usage_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = ged_mail_import(runner, str(tmp_path / "absent.csv"))

    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_help_documents_the_columns_and_exit_status(runner: FlaskCliRunner) -> None:
    result = runner.invoke(cli, ["mail", "import", "--help"])

    assert result.exit_code == 0
    for word in (
        "direction",
        "date",
        "correspondent",
        "subject",
        "units",
        "reference",
        "type",
        "confidential",
        "priority",
        "--dry-run",
        "--delimiter",
        "Exit status",
    ):
        assert word in result.output, word


def test_operator_imports_into_an_initialised_instance(ged: GedCommand, tmp_path: Path) -> None:
    """The whole way an operator goes: `ged init`, then `ged mail import` from the shell."""
    ged.ok("init")
    instance = ged.container()
    instance.admin.create_unit(SYSTEM, UnitData("SAU", "Service des autorisations"))
    yesterday = (instance.registry.today() - dt.timedelta(days=1)).isoformat()
    path = write_csv(
        tmp_path / "registre.csv",
        csv_bytes(
            [("incoming", yesterday, "Atlas", "Demande", "", "", "SAU")],
            delimiter=",",
            bom=True,
        ),
    )

    result = ged("mail", "import", path)

    assert result.exit_code == 0, result.output
    [mail] = mails(instance)
    assert (mail.subject, mail.mail_date.isoformat()) == ("Demande", yesterday)
    with instance.reader() as uow:
        [event] = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.MAIL_REGISTERED.value)
        ).scalars()
    assert event.actor_id is None
    assert event.actor_name.startswith("cli:")
