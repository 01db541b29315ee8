from __future__ import annotations

from ocr.hocr import summarise

LINE = (
    "<span class='{cls}' id='line_1_{n}' title=\"bbox 10 10 200 40{angle}; x_size 30\">\n"
    "{words}</span>\n"
)
WORD = "<span class='ocrx_word' id='word_1_{n}' title='bbox 10 10 50 40; x_wconf {conf}'>{text}</span>\n"


def _page(*lines: tuple[str, int | None, list[tuple[str, int]]]) -> str:
    body = []
    for n, (cls, angle, words) in enumerate(lines):
        spans = "".join(WORD.format(n=k, conf=c, text=t) for k, (t, c) in enumerate(words))
        textangle = f"; textangle {angle}" if angle is not None else ""
        body.append(LINE.format(cls=cls, n=n, angle=textangle, words=spans))
    return "<div class='ocr_page'>" + "".join(body) + "</div>"


def test_confidence_weighs_each_word_by_its_length() -> None:
    summary = summarise(_page(("ocr_line", None, [("Rabat", 90), ("le", 40)])))
    assert summary.words == 2
    assert summary.confidence == round((5 * 90 + 2 * 40) / 7, 1)
    assert summary.rotation == 0


def test_entities_and_empty_words_are_handled() -> None:
    summary = summarise(_page(("ocr_line", None, [("l&#39;état", 80), (" ", 10)])))
    assert summary.words == 1
    assert summary.confidence == 80.0


def test_orientation_follows_the_text_turned_the_most() -> None:
    hocr = _page(
        ("ocr_header", 180, [("Direction", 90), ("générale", 90)]),
        ("ocr_line", 180, [("Objet", 90)]),
        ("ocr_caption", None, [("p1", 50)]),
    )
    assert summarise(hocr).rotation == 180


def test_a_page_without_words_has_zero_confidence() -> None:
    summary = summarise("<div class='ocr_page' title='bbox 0 0 100 100'></div>")
    assert summary.words == 0
    assert summary.confidence == 0.0
    assert summary.rotation == 0
