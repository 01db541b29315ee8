"""The import service: rows to registered mail, in file order, bad rows reported and left out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, MailUnit
from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.domain.model import AuditAction
from ged.services.audit import Actor
from ged.services.mail_import import RegisterImport, read_register
from tests.e2e.conftest import snapshot
from tests.integration.mail_import.conftest import (
    Office,
    correspondent_count,
    csv_bytes,
    mails,
)

IMPORTER = Actor.system("cli:archiviste")


def run(container: Container, content: bytes, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return RegisterImport(container.registry).run(IMPORTER, read_register(content), dry_run=dry_run)


def mixed_register(office: Office) -> bytes:
    """Good rows around one bad row of each kind; line 1 is the header."""
    return csv_bytes(
        [
            ("arrivée", office.day(40), "Société Atlas", "Demande de devis", "AT/12", "DEM", "DG"),
            ("arrivée", office.day(39), "Banque Populaire", "Relevé", "", "", "XYZ"),
            ("arrivée", office.day(38), "Office national", "Convention", "", "", "DG DRH"),
            ("arrivée", office.day(37), "Nouveau Correspondant", "", "", "", "DG"),
            ("arrivée", office.day(-1), "Commune", "Invitation", "", "", "DG"),
            ("sideways", office.day(36), "Commune", "Invitation", "", "", "DG"),
            ("arrivée", office.day(35), "Société Atlas", "Relance", "AT/13", "DEM", "DRH"),
        ]
    )


def test_good_rows_get_consecutive_chronos_and_bad_rows_are_reported_with_their_line(
    container: Container, office: Office
) -> None:
    report = run(container, mixed_register(office))

    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "Entité(s) inconnue(s) ou désactivée(s) : XYZ."),
        (5, "L'objet du courrier est obligatoire."),
        (6, f"La date {office.day(-1)} est dans le futur."),
        (7, "Sens inconnu : « sideways » (arrivée, départ ou interne)."),
    ]
    year = office.today.year
    assert [(i.line, i.chrono) for i in report.imported] == [
        (2, f"A-{year}-000001"),
        (4, f"A-{year}-000002"),
        (8, f"A-{year}-000003"),
    ]
    assert (report.total, report.ok) == (7, False)


def test_imported_rows_keep_their_date_units_type_and_reference(
    container: Container, office: Office
) -> None:
    run(container, mixed_register(office))

    rows = mails(container)
    assert [m.subject for m in rows] == ["Demande de devis", "Convention", "Relance"]
    first = rows[0]
    assert first.mail_date.strftime("%d/%m/%Y") == office.day(40)
    assert (first.sender_reference, first.mail_type_id) == ("AT/12", office.request_type)
    assert first.correspondent is not None
    assert first.correspondent.name == "Société Atlas"
    assert rows[2].correspondent_id == first.correspondent_id
    with container.reader() as uow:
        addressed = uow.session.execute(
            select(MailUnit.unit_id)
            .where(MailUnit.mail_id == rows[1].id)
            .order_by(MailUnit.unit_id)
        ).scalars()
        assert list(addressed) == [office.dg, office.drh]


def test_bad_rows_leave_nothing_behind(container: Container, office: Office) -> None:
    run(container, mixed_register(office))

    # Atlas and Office national only: the refused rows' correspondents were rolled back.
    assert correspondent_count(container) == 2
    assert len(mails(container)) == 3
    # The refused rows took no number: the next registration continues the sequence.
    again = run(container, csv_bytes([("A", office.day(1), "Atlas", "Suite", "", "", "DG")]))
    assert again.imported[0].chrono.endswith("-000004")


def test_each_row_is_audited_as_the_importing_system_actor(
    container: Container, office: Office
) -> None:
    run(container, mixed_register(office))

    with container.reader() as uow:
        registered = list(
            uow.session.execute(
                select(AuditEvent).where(AuditEvent.action == AuditAction.MAIL_REGISTERED.value)
            ).scalars()
        )
    assert [(e.actor_id, e.actor_name) for e in registered] == [(None, "cli:archiviste")] * 3


def test_dry_run_checks_every_row_and_writes_nothing(container: Container, office: Office) -> None:
    before = snapshot(container)
    with container.reader() as uow:
        events_before = uow.session.execute(select(AuditEvent.id)).scalars().all()

    report = run(container, mixed_register(office), dry_run=True)

    assert [r.line for r in report.rejected] == [3, 5, 6, 7]
    assert [(i.line, i.chrono) for i in report.imported] == [(2, ""), (4, ""), (8, "")]
    assert snapshot(container) == before
    with container.reader() as uow:
        assert uow.session.execute(select(AuditEvent.id)).scalars().all() == events_before


@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_bom_and_either_delimiter_read_the_same_rows(
    container: Container, office: Office, bom: bool, delimiter: str
) -> None:
    content = csv_bytes(
        [
            ("incoming", office.day(3), '"Atlas, Fès"', '"Objet; avec séparateurs"', "", "", "DG"),
            ("outgoing", office.day(2), "Ministère", "Réponse", "", "", ""),
        ],
        delimiter=delimiter,
        bom=bom,
    )

    register = read_register(content)
    report = RegisterImport(container.registry).run(IMPORTER, register)

    assert register.delimiter == delimiter
    assert report.ok, report.rejected
    assert [(m.direction, m.subject) for m in mails(container)] == [
        ("incoming", "Objet; avec séparateurs"),
        ("outgoing", "Réponse"),
    ]
    assert mails(container)[0].correspondent.name == "Atlas, Fès"  # type: ignore[union-attr]


def test_french_column_names_and_values(container: Container, office: Office) -> None:
    content = csv_bytes(
        [
            ("Départ", office.day(5), "Wilaya", "Avis", "", "dem", "drh", "Oui", "Très urgente"),
            ("interne", office.day(4), "", "Note", "", "", "", "non", ""),
        ],
        header=(
            "Sens",
            "Date",
            "Correspondant",
            "Objet",
            "Référence",
            "Type",
            "Entités",
            "Confidentiel",
            "Priorité",
        ),
    )

    report = run(container, content)

    assert report.ok, report.rejected
    outgoing, internal = mails(container)
    assert (outgoing.direction, outgoing.confidential, outgoing.priority) == (
        "outgoing",
        True,
        "very_urgent",
    )
    assert outgoing.mail_type_id == office.request_type
    assert (internal.direction, internal.confidential, internal.priority) == (
        "internal",
        False,
        "normal",
    )
    assert internal.chrono.startswith("I-")


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (("A", "5/3/24", "X", "S", "", "", "DG"), "Date illisible : « 5/3/24 » (JJ/MM/AAAA ou AAAA-MM-JJ)."),
        (("A", "", "X", "S", "", "", "DG"), "La date est obligatoire (JJ/MM/AAAA ou AAAA-MM-JJ)."),
        (("A", "2025-01-02", "X", "S", "", "ZZ", "DG"), "Type de courrier inconnu ou désactivé : « ZZ »."),
        (("A", "2025-01-02", "", "S", "", "", "DG"), "Indiquez le correspondant."),
        (("A", "2025-01-02", "X", "S", "", "", ""), "Choisissez au moins une entité destinataire."),
        (("", "2025-01-02", "X", "S", "", "", "DG"), "Le sens du courrier est obligatoire (arrivée, départ ou interne)."),
        (("A", "2025-01-02", "X", "S", "", "", "DG", "surplus"), "1 cellule(s) de trop par rapport à l'en-tête."),
        (("A", "2025-01-02", "X", "S"), "3 cellule(s) manquante(s) par rapport à l'en-tête."),
        (("A", "2025-01-02", "X", "x" * 501, "", "", "DG"), "L'objet dépasse 500 caractères."),
    ],
    ids=["two-digit-year", "no-date", "unknown-type", "no-correspondent", "no-unit",
         "no-direction", "extra-cell", "missing-cells", "long-subject"],
)  # fmt: skip
def test_row_is_refused_with_a_french_reason(
    container: Container, office: Office, cells: tuple[str, ...], reason: str
) -> None:
    report = run(container, csv_bytes([cells]))

    assert [(r.line, r.reason) for r in report.rejected] == [(2, reason)]
    assert mails(container) == []


def test_line_numbers_count_blank_lines_and_cells_spanning_lines(
    container: Container, office: Office
) -> None:
    content = csv_bytes(
        [
            ("A", office.day(2), "Atlas", '"Objet sur\r\ndeux lignes"', "", "", "DG"),
            (),
            ("A", office.day(2), "Atlas", "Mauvaise entité", "", "", "NOPE"),
        ]
    )

    report = run(container, content)

    assert [r.line for r in report.rejected] == [5]
    assert mails(container)[0].subject == "Objet sur\r\ndeux lignes"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sens;date;objet\r\n".encode("latin-1") + "arrivée;01/02/2025;Été\r\n".encode("latin-1"),
         "Le fichier n'est pas en UTF-8 (ligne 2)"),
        (b"", "Le fichier est vide"),
        (b"\xef\xbb\xbf\r\n\r\n", "Le fichier est vide"),
        (b"direction;date;subject\r\n", "Colonne(s) obligatoire(s) manquante(s) : correspondent, units."),
        (b"direction;date;correspondent;subject;units;remarques\r\n", "Colonne(s) inconnue(s) : « remarques »."),
        (b"direction;date;correspondent;subject;units;objet\r\n", "La colonne « objet » apparaît deux fois."),
        (b'direction;date;correspondent;subject;units\r\nA;"01/02/2025;X;S;DG\r\n', "Fichier CSV illisible"),
    ],
    ids=["latin-1", "empty", "blank", "missing-columns", "unknown-column", "duplicate-column",
         "unclosed-quote"],
)  # fmt: skip
def test_file_level_problems_stop_everything(
    container: Container, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        read_register(content)

    assert message in refused.value.message
    assert mails(container) == []
