"""Generated French and Arabic letters with known text, rendered like office scans.

Used by the OCR benchmark and by the integration tests: the reference text is exactly what was
drawn, so the character error rate of a reading is measured, not guessed. Arabic is shaped and
laid out right-to-left by Pillow's libraqm layout (`PIL.features.check("raqm")`); the reference
is in logical order, as Tesseract writes it. Rendering is deterministic for a given seed.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont, features

DPI = 300
A4 = (2480, 3508)
MARGIN = 220
FONT_PX = 44
LINE_PX = 74
PAPER = 236

FRENCH = (
    (
        "ROYAUME DU MAROC",
        "Agence nationale des ports",
        "Direction des affaires générales",
        "Rabat, le 12 mars 2026",
        "Réf. : DAG/2026/0417",
        "À Monsieur le Directeur régional de l'équipement",
        "Objet : demande de renseignements sur l'aménagement de la route",
        "Monsieur le Directeur,",
        "J'ai l'honneur de vous prier de bien vouloir me communiquer l'état",
        "d'avancement des travaux d'aménagement de la route régionale n° 2017,",
        "ainsi que le calendrier prévisionnel de leur achèvement et leur coût.",
        "Je vous remercie par avance de votre diligence et vous prie d'agréer,",
        "Monsieur le Directeur, l'expression de ma considération distinguée.",
        "Le Directeur général",
    ),
    (
        "Société marocaine des travaux maritimes",
        "Casablanca, le 3 février 2026",
        "À l'attention du bureau d'ordre",
        "Objet : réclamation relative à la facture n° 8841 du 15 janvier",
        "Madame, Monsieur,",
        "Nous avons reçu votre courrier du 22 janvier et nous étonnons du",
        "délai de règlement annoncé : les prestations ont été exécutées et",
        "réceptionnées sans réserve le 18 décembre dernier, procès-verbal à l'appui.",
        "Nous vous serions très obligés de bien vouloir procéder au paiement",
        "dans les meilleurs délais, faute de quoi des intérêts moratoires",
        "seront appliqués conformément à l'article 14 du cahier des charges.",
        "Veuillez agréer, Madame, Monsieur, nos salutations respectueuses.",
        "Le Gérant",
    ),
    (
        "Office régional de mise en valeur agricole",
        "Meknès, le 7 avril 2026",
        "N° 1208/ORMVA/SG",
        "À Madame la Directrice de la coopération",
        "Objet : convention de partenariat pour l'irrigation goutte-à-goutte",
        "Madame la Directrice,",
        "Suite à notre réunion du 28 mars, j'ai le plaisir de vous adresser",
        "le projet de convention relatif à l'équipement de 1250 hectares",
        "en irrigation localisée dans le périmètre du Saïss.",
        "Je vous saurais gré de me faire part de vos observations éventuelles",
        "avant le 30 avril, afin que la convention soit signée en mai.",
        "Veuillez agréer, Madame la Directrice, mes salutations distinguées.",
        "Le Secrétaire général",
    ),
    (
        "Cabinet d'avocats Benali et Associés",
        "Marrakech, le 19 mai 2026",
        "Lettre recommandée avec accusé de réception",
        "Objet : mise en demeure pour les loyers impayés du local commercial",
        "Monsieur,",
        "Agissant au nom et pour le compte de notre cliente, la société Atlas",
        "Immobilier, nous vous mettons en demeure de régler sous huitaine",
        "la somme de 36400 dirhams, correspondant aux loyers des mois",
        "de janvier à avril 2026, majorée des frais de relance.",
        "À défaut, nous saisirons le tribunal compétent sans autre avis.",
        "Nous vous prions d'agréer, Monsieur, nos salutations distinguées.",
        "Maître Karim Benali",
    ),
)

ARABIC = (
    (
        "المملكة المغربية",
        "الوكالة الوطنية للموانئ",
        "مديرية الشؤون العامة",
        "الرباط في 12 مارس 2026",
        "إلى السيد المدير الجهوي للتجهيز",
        "الموضوع: طلب معلومات حول مشروع تهيئة الطريق الجهوية",
        "سلام تام بوجود مولانا الإمام المؤيد بالله",
        "وبعد، يشرفني أن أطلب منكم موافاتي بالمعلومات المتعلقة بتقدم",
        "أشغال تهيئة الطريق الجهوية رقم 2017 وكذا الجدول الزمني",
        "المتوقع لإنجازها والتكلفة الإجمالية للمشروع ومصادر تمويله.",
        "وتقبلوا فائق عبارات التقدير والاحترام.",
        "المدير العام",
    ),
    (
        "شركة الأشغال البحرية",
        "الدار البيضاء في 3 فبراير 2026",
        "إلى السيد رئيس مكتب الضبط",
        "الموضوع: شكاية بخصوص الفاتورة رقم 8841",
        "سيدي الرئيس،",
        "توصلنا برسالتكم المؤرخة في 22 يناير ونستغرب أجل الأداء المعلن،",
        "إذ أن الخدمات أنجزت وتم تسلمها دون تحفظ في 18 دجنبر الماضي",
        "كما يشهد بذلك المحضر المرفق بهذه الرسالة.",
        "لذا نرجو منكم التفضل بصرف المبلغ المستحق في أقرب الآجال،",
        "وإلا فسيتم تطبيق فوائد التأخير طبقا للفصل 14 من دفتر التحملات.",
        "وتفضلوا بقبول فائق التقدير والاحترام.",
        "المسير",
    ),
    (
        "وزارة الاقتصاد والمالية",
        "الخزينة العامة للمملكة",
        "فاس في 7 أبريل 2026",
        "إلى السيد مدير المركز الجهوي للاستثمار",
        "الموضوع: تسوية وضعية الصفقة رقم 45 لسنة 2025",
        "سلام تام بوجود مولانا الإمام المؤيد بالله",
        "وبعد، فجوابا على رسالتكم المشار إليها في المرجع أعلاه،",
        "يشرفني أن أخبركم بأن ملف الصفقة قد أحيل على مصلحة المراقبة",
        "قصد التأشير عليه، وسيتم إشعاركم بالنتيجة فور البت فيه.",
        "وفي انتظار ذلك، تقبلوا أصدق عبارات التقدير.",
        "الخازن الجهوي",
    ),
    (
        "جماعة طنجة",
        "مصلحة الحالة المدنية",
        "طنجة في 19 ماي 2026",
        "إلى السيدة رئيسة قسم الموارد البشرية",
        "الموضوع: طلب رخصة إدارية لمدة عشرة أيام",
        "سيدتي الرئيسة،",
        "يشرفني أن ألتمس منكم الموافقة على منحي رخصة إدارية",
        "ابتداء من 2 يونيو 2026 إلى غاية 11 يونيو 2026،",
        "وذلك لأسباب عائلية، علما بأن زميلي سيتولى مهامي خلال هذه المدة.",
        "وتفضلوا بقبول فائق الاحترام والتقدير.",
        "الإمضاء",
    ),
)


@dataclass(frozen=True)
class Letter:
    language: str
    """"fra" or "ara"."""
    text: str
    """What is drawn, one line per line, in logical order."""
    image: Image.Image
    """A grayscale A4 page at 300 dpi."""


def font_path(arabic: bool) -> Path:
    """A font with the glyphs needed: DejaVu (Debian's fonts-dejavu-core) when present."""
    wanted = "DejaVuSans.ttf" if arabic else "DejaVuSerif.ttf"
    query = ":lang=ar" if arabic else ":lang=fr"
    listed = subprocess.run(
        ["fc-list", query, "file"], capture_output=True, text=True, check=False
    ).stdout
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    for file in files:
        if Path(file).name == wanted:
            return Path(file)
    if files:
        return Path(files[0])
    raise RuntimeError(f"no font for {'Arabic' if arabic else 'French'}: install fonts-dejavu-core")


def can_render_arabic() -> bool:
    """Pillow lays out right-to-left text with libraqm only; without it Arabic comes out broken."""
    return bool(features.check("raqm"))


def render(lines: tuple[str, ...], language: str, seed: int = 0, skew: float = 0.8) -> Letter:
    """A letter page: grey paper, sensor noise and a slight skew, as a flatbed scan gives."""
    arabic = language == "ara"
    if arabic and not can_render_arabic():
        raise RuntimeError("Pillow was built without libraqm: Arabic cannot be shaped")
    font = ImageFont.truetype(str(font_path(arabic)), FONT_PX)
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    y = MARGIN
    for line in lines:
        if arabic:
            draw.text(
                (A4[0] - MARGIN, y),
                line,
                font=font,
                fill=20,
                anchor="ra",
                direction="rtl",
                language="ar",
            )
        else:
            draw.text((MARGIN, y), line, font=font, fill=20, anchor="la")
        y += LINE_PX
    rng = random.Random(seed)
    page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    paper = Image.new("L", A4, PAPER)
    page = ImageChops.darker(page, paper)
    noise = Image.frombytes("L", A4, rng.randbytes(A4[0] * A4[1])).point(lambda v: v // 12)
    page = ImageChops.subtract(page, noise)
    return Letter(language, "\n".join(lines), page)


# Slants of the letters in turn, as a flatbed gives them: the first two are the benchmark's
# first pages (0.6 and 1.0 degrees); the others were set before any of them was read.
SKEWS = (0.6, 1.0, 0.3, -0.5, 1.2, -0.9, 0.0, 0.7)


def letters(count_per_language: int = 2, arabic: int | None = None) -> list[Letter]:
    """French then Arabic letters, `count_per_language` of each unless `arabic` says how many
    Arabic ones (the texts and slants cycle; letter n of a language has seed n)."""
    out: list[Letter] = []
    counts = {"fra": count_per_language, "ara": count_per_language if arabic is None else arabic}
    for language, texts in (("fra", FRENCH), ("ara", ARABIC)):
        for index in range(counts[language]):
            lines = texts[index % len(texts)]
            skew = SKEWS[index % len(SKEWS)]
            out.append(render(lines, language, seed=index, skew=skew))
    return out


def save_png(image: Image.Image, path: Path) -> Path:
    # Copies: Pillow keeps a frame's last encoder options on the image object, and they leak
    # into the next save of the same image in another format.
    image.copy().save(path, "PNG", dpi=(DPI, DPI))
    return path


def save_pdf(images: list[Image.Image], path: Path, quality: int = 85) -> Path:
    """A scanned PDF: one JPEG page image per page, as office scanners write them."""
    first, *rest = images
    first.save(path, "PDF", resolution=DPI, quality=quality, save_all=True, append_images=rest)
    return path


def save_tiff(images: list[Image.Image], path: Path) -> Path:
    """A multi-page TIFF (LZW), as some scanners write a batch."""
    first, *rest = (image.copy() for image in images)
    first.save(
        path, "TIFF", dpi=(DPI, DPI), compression="tiff_lzw", save_all=True, append_images=rest
    )
    return path
