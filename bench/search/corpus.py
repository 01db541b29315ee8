"""A generated corpus of French and Arabic urban-planning letters, deterministic from a seed.

Each record is a plain dict (JSON lines, gzip) so the corpus is generated once and cached under
``bench/.cache/search/``; ``to_item`` turns a record into the search port's ``IndexedItem``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ged.domain.search import IndexedItem

START = dt.date(2023, 11, 1)
DAYS = 3 * 365
UNITS = 60
USERS = 400
CONFIDENTIAL = 0.03
TYPES = ("DEM", "REC", "AVI", "CON", "NOT", "TRA", "REQ", "INF")
STATUSES = ("registered", "assigned", "in_progress", "answered", "closed")

FRENCH_PHRASES = (
    "permis de construire",
    "demande de permis de construire",
    "lotissement",
    "autorisation de lotir",
    "voirie",
    "réseau d'assainissement",
    "éclairage public",
    "plan d'aménagement",
    "certificat de conformité",
    "permis d'habiter",
    "morcellement",
    "titre foncier",
    "réclamation du riverain",
    "servitude de passage",
    "alignement de la façade",
    "hauteur des constructions",
    "coefficient d'occupation du sol",
    "zone d'habitat économique",
    "équipements publics",
    "espaces verts",
    "stationnement",
    "chantier",
    "démolition",
    "mise en demeure",
    "procès-verbal de constat",
    "commission d'instruction",
    "dossier technique",
    "plans architecturaux",
    "note de calcul",
    "étude d'impact",
    "avis favorable",
    "avis défavorable",
    "délai de réponse",
    "recours gracieux",
    "infraction urbanistique",
    "régularisation",
    "redevance d'occupation temporaire",
    "domaine public communal",
    "travaux de raccordement",
    "bornage",
)
FRENCH_GLUE = (
    "Nous avons l'honneur de vous adresser",
    "Suite à votre courrier concernant",
    "Je vous prie de bien vouloir examiner",
    "Veuillez trouver ci-joint",
    "Conformément aux dispositions relatives à",
    "La commission a examiné",
    "Le pétitionnaire sollicite",
    "Nous attirons votre attention sur",
    "Il a été constaté que",
    "Dans l'attente de votre réponse sur",
    "les services techniques de la commune",
    "le quartier",
    "la parcelle",
    "l'immeuble situé",
    "selon les règles en vigueur",
    "dans les meilleurs délais",
    "avec nos salutations distinguées",
    "et les pièces justificatives",
    "pour la réunion du",
    "en date du",
)
ARABIC_PHRASES = (
    "رخصة البناء",
    "طلب رخصة البناء",
    "التجزئة",
    "رخصة التجزئة",
    "الطرق",
    "شبكة التطهير",
    "الإنارة العمومية",
    "تصميم التهيئة",
    "شهادة المطابقة",
    "رخصة السكن",
    "تقسيم العقار",
    "الرسم العقاري",
    "شكاية السكان",
    "حق المرور",
    "واجهة البناية",
    "علو البنايات",
    "المنطقة السكنية",
    "المرافق العمومية",
    "المساحات الخضراء",
    "الأشغال",
    "الهدم",
    "محضر المعاينة",
    "لجنة الدراسة",
    "الملف التقني",
    "التصاميم المعمارية",
    "رأي موافق",
    "رأي غير موافق",
    "المخالفة العمرانية",
    "التسوية",
    "الملك العمومي الجماعي",
)
ARABIC_GLUE = (
    "يشرفني أن أتقدم إليكم",
    "بناء على مراسلتكم بخصوص",
    "المرجو منكم دراسة",
    "تجدون رفقته",
    "طبقا للمقتضيات المتعلقة ب",
    "وقد درست اللجنة",
    "يلتمس صاحب الطلب",
    "نثير انتباهكم إلى",
    "وقد تبين أن",
    "في انتظار جوابكم حول",
    "المصالح التقنية للجماعة",
    "الحي",
    "القطعة الأرضية",
    "والسلام",
    "في أقرب الآجال",
    "وَالأَشْغَالُ العُمُومِيَّةُ",
    "بِالمَدِينَةِ",
)
SURNAMES = [
    "Benali",
    "Bennani",
    "Alaoui",
    "Tazi",
    "Berrada",
    "Fassi",
    "Idrissi",
    "Chraibi",
    "Lahlou",
    "Benjelloun",
    "Kettani",
    "Sqalli",
    "Amrani",
    "Ouazzani",
    "Naciri",
    "Tahiri",
    "Squalli",
    "Bensouda",
    "Zniber",
    "Guessous",
    "Moussaoui",
    "Hajji",
    "Lamrani",
    "Filali",
    "Rami",
    "Sebti",
    "Bouzidi",
    "Cherkaoui",
    "Mansouri",
    "Ziani",
]
FIRST = [
    "Ahmed",
    "Fatima",
    "Youssef",
    "Khadija",
    "Omar",
    "Amina",
    "Karim",
    "Salma",
    "Rachid",
    "Nadia",
    "Hassan",
    "Leila",
]
ORGS = (
    "Société Atlas Immobilier",
    "Agence urbaine",
    "Wilaya de la région",
    "Commune urbaine de Rabat",
    "Association des riverains",
    "Cabinet d'architecture Medina",
    "Office national de l'électricité",
    "Régie autonome de distribution",
    "الوكالة الحضرية",
    "جماعة الرباط",
    "ودادية السكان",
)


def correspondents(rng: random.Random, n: int = 3000) -> list[str]:
    out = list(ORGS)
    while len(out) < n:
        out.append(f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}")
    return out


def _body(rng: random.Random, language: str) -> str:
    target = rng.randint(150, 300)
    words: list[str] = []
    while len(words) < target:
        lang = language if language != "mixed" else rng.choice(("fr", "ar"))
        phrases, glue = (
            (FRENCH_PHRASES, FRENCH_GLUE) if lang == "fr" else (ARABIC_PHRASES, ARABIC_GLUE)
        )
        sentence = f"{rng.choice(glue)} {rng.choice(phrases)} {rng.choice(glue)}"
        if rng.random() < 0.5:
            sentence += f" {rng.choice(phrases)}"
        if rng.random() < 0.2:
            sentence += f" n° {rng.randint(1, 9999)}"
        words.extend(sentence.split())
        words[-1] += "."
    return " ".join(words[:target])


def generate(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    people = correspondents(rng)
    for i in range(1, n + 1):
        language = rng.choices(("fr", "ar", "mixed"), weights=(60, 25, 15))[0]
        direction = rng.choice(("incoming", "outgoing"))
        date = START + dt.timedelta(days=rng.randrange(DAYS))
        phrases = ARABIC_PHRASES if language == "ar" else FRENCH_PHRASES
        subject = rng.choice(phrases)
        if rng.random() < 0.5:
            subject += " — " + rng.choice(phrases)
        units = sorted({rng.randint(1, UNITS) for _ in range(rng.choice((1, 1, 1, 2)))})
        yield {
            "id": i,
            "chrono": f"{'A' if direction == 'incoming' else 'D'}-{date.year}-{i:06d}",
            "title": subject,
            "date": date.isoformat(),
            "correspondent": rng.choice(people),
            "body": _body(rng, language),
            "mail_type": rng.choice(TYPES),
            "direction": direction,
            "status": rng.choice(STATUSES),
            "language": language,
            "units": units,
            "people": sorted({rng.randint(1, USERS) for _ in range(rng.randint(0, 2))}),
            "confidential": rng.random() < CONFIDENTIAL,
        }


def load(path: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """The cached corpus, generated on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        with gzip.open(partial, "wt", encoding="utf-8") as out:
            for record in generate(n, seed):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        partial.rename(path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def to_item(record: dict[str, Any]) -> IndexedItem:
    return IndexedItem(
        key=f"mail:{record['id']}",
        kind="mail",
        object_id=record["id"],
        title=record["title"],
        date=dt.date.fromisoformat(record["date"]),
        chrono=record["chrono"],
        correspondent=record["correspondent"],
        body=record["body"],
        mail_type=record["mail_type"],
        direction=record["direction"],
        status=record["status"],
        language=record["language"],
        units=tuple(record["units"]),
        people=tuple(record["people"]),
        confidential=record["confidential"],
    )
