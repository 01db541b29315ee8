"""The receipt and the cover sheet printed by an Arabic-speaking person: Arabic, shaped, in
right-to-left order; the same documents printed by a French-speaking person stay French."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ged.bootstrap import Container
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.mail.conftest import Office, register
from tests.e2e.mail.test_receipt import pdf_text, readable

PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


@pytest.fixture
def arabic_registrar(office: Office, build: Builders, container: Container) -> None:
    container.accounts.set_locale(build.actor(office.registrar), "ar")


def test_an_arabic_speaking_registrar_prints_an_arabic_receipt(
    office: Office,
    build: Builders,
    container: Container,
    auth: AuthActions,
    tmp_path: Path,
    arabic_registrar: None,
) -> None:
    registered = register(
        container,
        build,
        office.registrar,
        subject="Demande d'autorisation de lotir",
        unit_ids=(office.urba,),
    )
    auth.login("registrar")

    response = auth.client.get(f"/mail/{registered.id}/receipt.pdf")

    assert response.status_code == 200
    raw = pdf_text(response.data, tmp_path)
    assert PRESENTATION_FORMS.search(raw), "Arabic letters were not joined (shaped)"
    text = readable(raw)
    for arabic in (
        "إشعار بالتوصل",
        "مكتب الضبط",
        "رقم الترتيب",
        "تاريخ التسجيل",
        "تاريخ التوصل",
        "الموضوع",
        "المصالح المرسل إليها",
        "يشهد هذا الإشعار بتوصل مكتب الضبط بالمراسلة المبينة أعلاه",
    ):
        assert arabic in text, arabic
    # People's words and numbers stay as written.
    assert registered.chrono in text
    assert "Demande d'autorisation de lotir" in text
    for french in ("Accusé de réception", "Numéro d'ordre", "Bureau d'ordre", "Objet"):
        assert french not in text, french


def test_an_arabic_speaking_registrar_prints_an_arabic_cover_sheet(
    office: Office,
    build: Builders,
    container: Container,
    auth: AuthActions,
    tmp_path: Path,
    arabic_registrar: None,
) -> None:
    registered = register(
        container,
        build,
        office.registrar,
        subject="طلب رخصة البناء",
        correspondent_name="Commune urbaine de Rabat",
        unit_ids=(office.urba,),
    )
    auth.login("registrar")

    response = auth.client.get(f"/capture/mail/{registered.id}/cover.pdf")

    assert response.status_code == 200
    raw = pdf_text(response.data, tmp_path)
    assert PRESENTATION_FORMS.search(raw)
    text = readable(raw)
    # Lines mixing Arabic and Latin come back from pdftotext in pieces: look for each part.
    for arabic in (
        "ورقة التغطية",
        "توضع فوق المراسلة قبل مسحها ضوئيا",
        "التاريخ",
        "المراسل",
        "Commune urbaine de Rabat",
        "الموضوع",
        "طلب رخصة البناء",
    ):
        assert arabic in text, arabic
    assert registered.chrono in text
    assert "FEUILLE DE COUVERTURE" not in text


def test_a_french_speaking_registrar_keeps_french_printouts(
    office: Office, build: Builders, container: Container, auth: AuthActions, tmp_path: Path
) -> None:
    registered = register(container, build, office.registrar, unit_ids=(office.urba,))
    auth.login("registrar")

    receipt = readable(
        pdf_text(auth.client.get(f"/mail/{registered.id}/receipt.pdf").data, tmp_path)
    )
    cover = readable(
        pdf_text(auth.client.get(f"/capture/mail/{registered.id}/cover.pdf").data, tmp_path)
    )

    assert "Accusé de réception" in receipt
    assert "Numéro d'ordre" in receipt
    assert "FEUILLE DE COUVERTURE" in cover
    assert "Objet : Demande d'autorisation de construire" in cover
    assert not re.search("[\u0600-\u06ff]", receipt + cover)
