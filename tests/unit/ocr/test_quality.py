from __future__ import annotations

import random

import pytest

from ocr.quality import character_error_rate, levenshtein, normalise


def _reference_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def test_bit_vector_distance_matches_the_textbook_one() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        a = "".join(rng.choice("abcé ب") for _ in range(rng.randint(0, 14)))
        b = "".join(rng.choice("abcdé ب") for _ in range(rng.randint(0, 14)))
        assert levenshtein(a, b) == _reference_distance(a, b), (a, b)


def test_distance_handles_pages_longer_than_a_machine_word() -> None:
    a = "Le courrier arrivé " * 300
    b = a.replace("arrivé", "arrive")
    assert levenshtein(a, b) == 300


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("Objet : réclamation", "Objet : réclamation", 0.0),
        ("Objet :\nréclamation", "Objet :   réclamation\n\n", 0.0),
        ("l'équipement", "l’équipement", 0.0),
        ("abcd", "abce", 0.25),
        ("", "", 0.0),
        ("", "x", 1.0),
    ],
)
def test_error_rate_counts_characters_not_layout(
    reference: str, hypothesis: str, expected: float
) -> None:
    assert character_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_normalise_drops_tatweel_and_composes() -> None:
    assert normalise("الـــرباط") == "الرباط"
    assert normalise("e\u0301te\u0301") == "été"
