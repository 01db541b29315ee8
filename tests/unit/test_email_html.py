"""The HTML part of an e-mail: the same words as the text, escaped, in the text's direction."""

from __future__ import annotations

from ged.adapters.mailer import html_part, is_rtl


def test_an_arabic_text_gives_a_right_to_left_page() -> None:
    page = html_part("[ged] مهمة جديدة", "مرحبا Jean،\n\nالمراسلة: A-2026-00042 — Demande\n")

    assert '<html lang="ar" dir="rtl">' in page
    assert '<body dir="rtl" style="text-align: right">' in page
    assert "<title>[ged] مهمة جديدة</title>" in page
    assert "مرحبا Jean،\n\nالمراسلة: A-2026-00042 — Demande\n" in page


def test_a_french_text_gives_a_left_to_right_page_even_for_an_arabic_name() -> None:
    page = html_part("[ged] Nouvelle tâche", "Bonjour محمد,\n")

    assert '<html lang="fr" dir="ltr">' in page
    assert 'dir="rtl"' not in page


def test_words_from_people_are_escaped() -> None:
    page = html_part("<b>objet</b>", 'Courrier : A-1 — <script>alert("x")</script> & co\n')

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert "<title>&lt;b&gt;objet&lt;/b&gt;</title>" in page


def test_the_direction_is_that_of_the_first_letter() -> None:
    assert is_rtl("- ١٢ مهمة")
    assert is_rtl("2026 مرحبا Jean")
    assert not is_rtl("2026 Bonjour محمد")
    assert not is_rtl("123 — 456")
