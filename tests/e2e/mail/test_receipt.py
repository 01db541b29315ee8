"""The acknowledgement receipt: a PDF with the mail's particulars and a QR code of its chrono."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from ged.bootstrap import Container
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.mail.conftest import Office, mail_row, post_registration, register

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def readable(extracted: str) -> str:
    """What a person reads: shaped Arabic letter forms folded back, direction marks dropped."""
    return " ".join(BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", extracted)).split())


def test_receipt_is_printable_right_after_registration(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    auth.login("registrar")
    registered = post_registration(
        auth.client,
        subject="Demande d'autorisation de lotir",
        correspondent="Société Al Omrane",
        letter_date="2026-01-05",
        unit_ids=[str(office.urba), str(office.legal)],
    )
    mail = mail_row(container, int(registered.location.rsplit("/", 1)[1]))

    response = auth.client.get(f"/mail/{mail.id}/receipt.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="accuse-reception-{mail.chrono}.pdf"; '
        f"filename*=UTF-8''accus%C3%A9-r%C3%A9ception-{mail.chrono}.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    extracted = readable(pdf_text(response.data, tmp_path))
    for expected in (
        "Accusé de réception",
        mail.chrono,
        "Demande d'autorisation de lotir",
        "Société Al Omrane",
        "05/01/2026",
        mail.mail_date.strftime("%d/%m/%Y"),
        "URB — Division de l'urbanisme",
        "JUR — Service juridique",
        "Agence urbaine",
    ):
        assert expected in extracted, expected
    assert re.search(rf"Enregistré le {mail.mail_date:%d/%m/%Y} à \d\d:\d\d", extracted)


def test_receipt_qr_code_reads_as_the_chrono(
    office: Office, build: Builders, container: Container, auth: AuthActions, tmp_path: Path
) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    registered = register(container, build, office.registrar, unit_ids=(office.urba,))
    auth.login("registrar")
    (tmp_path / "receipt.pdf").write_bytes(
        auth.client.get(f"/mail/{registered.id}/receipt.pdf").data
    )

    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "receipt.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        found = [r.text for r in zxingcpp.read_barcodes(image)]

    assert found == [registered.chrono]


def test_arabic_subject_and_correspondent_are_shaped_and_readable(
    office: Office, build: Builders, container: Container, auth: AuthActions, tmp_path: Path
) -> None:
    subject = "طلب رخصة البناء في حي الرياض"
    correspondent = "جماعة الرباط"
    registered = register(
        container,
        build,
        office.registrar,
        subject=subject,
        correspondent_name=correspondent,
        unit_ids=(office.urba,),
    )
    auth.login("registrar")

    content = auth.client.get(f"/mail/{registered.id}/receipt.pdf").data
    extracted = pdf_text(content, tmp_path)
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "out.pdf")], capture_output=True, check=True, text=True
    ).stdout

    assert "DejaVuSans" in fonts  # a font that has Arabic glyphs, embedded
    assert re.search("[\ufe70-\ufeff]", extracted), "letters were not joined (shaped)"
    assert subject in readable(extracted)
    assert correspondent in readable(extracted)


def test_outgoing_mail_has_no_receipt(
    office: Office, build: Builders, container: Container, auth: AuthActions
) -> None:
    outgoing = register(container, build, office.registrar, direction="outgoing")
    auth.login("registrar")

    response = auth.client.get(f"/mail/{outgoing.id}/receipt.pdf")
    page = auth.client.get(f"/mail/{outgoing.id}").get_data(as_text=True)

    assert response.status_code == 404
    assert "receipt.pdf" not in page
