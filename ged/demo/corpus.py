"""What the demo agency's mail says: correspondents, subjects and letters, French and Arabic.

Each kind of mail is a template filled from a seeded random generator, so the same seed gives
the same mail. The letter bodies hold details the subjects do not (title numbers, places,
names): searching them proves that a document's own text was read, by its text layer or by OCR.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from ged.demo.letters import Letter
from ged.domain.calendar import french_long_date

AGENCY = "Agence urbaine"
AGENCY_AR = "الوكالة الحضرية"
CITY = "Settat"

MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "ماي",
    "يونيو",
    "يوليوز",
    "غشت",
    "شتنبر",
    "أكتوبر",
    "نونبر",
    "دجنبر",
)

COMMUNES = ("Settat", "Berrechid", "Ben Ahmed", "El Gara", "Had Soualem", "Deroua", "Oulad Abbou")
COMMUNES_AR = ("سطات", "برشيد", "ابن أحمد", "الكارة", "حد السوالم", "الدروة", "أولاد عبو")
QUARTERS = ("Mimouna", "Smaalah", "Al Qods", "Nahda", "Al Wifaq", "Essalam", "Al Massira")
QUARTERS_AR = ("ميمونة", "السماعلة", "القدس", "النهضة", "الوفاق", "السلام", "المسيرة")
ESTATES = ("Al Yasmine", "Annakhil", "Al Boustane", "Riad Al Andalous", "Al Majd", "Firdaous")
ESTATES_AR = ("الياسمين", "النخيل", "البستان", "الفردوس", "المجد")

PEOPLE = (
    "M. Ahmed Benali",
    "Mme Khadija Ouazzani",
    "M. Mustapha El Idrissi",
    "M. Hassan Lahlou",
    "Mme Samira Bensaid",
    "M. Abdelilah Naciri",
    "Mme Latifa Chaoui",
    "M. Driss Mernissi",
)
COMPANIES = (
    "Société Al Omrane Settat",
    "Promotion Immobilière Chaouia SARL",
    "Cabinet d'architecture Tazi & Associés",
    "Bureau d'études Géo-Conseil",
    "Cabinet de géomètres topographes Amrani",
    "Résidences Al Manar SA",
)
INSTITUTIONS = (
    "Commune de Settat",
    "Commune de Berrechid",
    "Province de Settat — Division de l'urbanisme",
    "Conservation foncière de Settat",
    "ONEE — Branche Eau",
    "Agence du bassin hydraulique du Bouregreg et de la Chaouia",
    "Direction régionale de l'équipement",
)
ASSOCIATIONS = (
    "Association Al Amal des habitants de Mimouna",
    "Amicale des résidents du lotissement Al Yasmine",
)
PEOPLE_AR = ("السيد محمد الإدريسي", "السيدة فاطمة الزهراء بناني", "السيد عبد الرحيم الفاسي")
INSTITUTIONS_AR = ("بلدية سطات", "جماعة برشيد", "عمالة إقليم سطات", "جماعة الكارة")
ASSOCIATIONS_AR = ("جمعية الأمل لسكان حي ميمونة", "ودادية سكان تجزئة الياسمين")


def ar_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS_AR[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Incoming:
    """An incoming mail as the bureau d'ordre receives it."""

    type_code: str  # DEM or REC
    unit: str  # the unit that processes it
    consult: str  # the unit asked for its opinion, if any
    subject: str
    correspondent: str
    reference: str
    letter: Letter
    keyword: str  # a word of the letter that the subject does not hold
    confidential: bool = False


def _sender_head(correspondent: str, arabic: bool) -> tuple[str, ...]:
    if arabic:
        return ("المملكة المغربية", correspondent)
    if correspondent.startswith(("M. ", "Mme ")):
        street = random.Random(correspondent).randint(3, 180)  # noqa: S311 (demo data)
        return (correspondent, f"{street} rue Al Kods, Settat")
    return ("ROYAUME DU MAROC", correspondent)


def _closing(person: bool) -> str:
    if person:
        return (
            "Je vous prie d'agréer, Monsieur le Directeur, l'expression de mes salutations "
            "respectueuses."
        )
    return (
        "Nous vous prions d'agréer, Monsieur le Directeur, l'expression de notre haute "
        "considération."
    )


def incoming(rng: random.Random, letter_day: dt.date, number: int) -> Incoming:
    """One incoming letter of a kind drawn at random; one in seven is in Arabic."""
    if rng.random() < 0.15:
        return _incoming_arabic(rng, letter_day, number)
    kind = rng.choice(_FRENCH_KINDS)
    return kind(rng, letter_day, number)


def _french(
    rng: random.Random,
    letter_day: dt.date,
    number: int,
    *,
    type_code: str,
    unit: str,
    consult: str,
    subject: str,
    correspondent: str,
    body: tuple[str, ...],
    keyword: str,
    confidential: bool = False,
) -> Incoming:
    person = correspondent.startswith(("M. ", "Mme "))
    reference = "" if person else f"Réf. : {number}/{rng.choice(('DU', 'SG', 'DT', 'DAJ'))}"
    city = rng.choice(COMMUNES)
    letter = Letter(
        letterhead=_sender_head(correspondent, arabic=False),
        place_date=f"{city}, le {french_long_date(letter_day)}",
        recipient=(f"À Monsieur le Directeur de l'{AGENCY}", f"de {CITY}"),
        subject=f"Objet : {subject}",
        reference=reference,
        body=(*body, _closing(person)),
        signature=(correspondent if person else rng.choice(("Le Président", "Le Directeur")),),
    )
    return Incoming(
        type_code,
        unit,
        consult,
        subject,
        correspondent,
        reference.removeprefix("Réf. : "),
        letter,
        keyword,
        confidential,
    )


def _nru(rng: random.Random, day: dt.date, number: int) -> Incoming:
    title = f"{rng.randint(10000, 99999)}/{rng.randint(1, 60):02d}"
    quarter = rng.choice(QUARTERS)
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SAU",
        consult="",
        subject=f"Demande de note de renseignement urbanistique — TF n° {title}",
        correspondent=rng.choice(PEOPLE + COMPANIES),
        body=(
            "J'ai l'honneur de vous prier de bien vouloir me délivrer une note de renseignement "
            f"urbanistique relative à la propriété dite « Bled {quarter} », objet du titre "
            f"foncier n° {title}, sise au quartier {quarter}.",
            "Vous trouverez ci-joint le plan de situation, le certificat de propriété datant de "
            "moins de trois mois et la quittance des droits.",
        ),
        keyword=quarter,
    )


def _permit(rng: random.Random, day: dt.date, number: int) -> Incoming:
    estate = rng.choice(ESTATES)
    lot = rng.randint(1, 420)
    floors = rng.choice(("R+1", "R+2", "R+3"))
    architect = rng.choice(COMPANIES[2:4])
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SAU",
        consult=rng.choice(("", "", "SPU")),
        subject=f"Demande d'avis sur un permis de construire — lot n° {lot}, lotissement {estate}",
        correspondent=rng.choice(INSTITUTIONS[:2]),
        body=(
            "J'ai l'honneur de vous transmettre, pour avis de l'Agence, le dossier de demande de "
            f"permis de construire d'une maison d'habitation {floors} sur le lot n° {lot} du "
            f"lotissement {estate}, établi par le {architect}.",
            "Le dossier comprend les plans d'architecture, la note de calcul et l'étude "
            "géotechnique. Il sera examiné par la commission d'instruction de la semaine prochaine.",
        ),
        keyword=architect.split()[-1],
    )


def _subdivision(rng: random.Random, day: dt.date, number: int) -> Incoming:
    estate = rng.choice(ESTATES)
    lots = rng.randint(40, 380)
    hectares = rng.randint(2, 25)
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SAU",
        consult=rng.choice(("SPU", "SJ", "")),
        subject=f"Demande d'autorisation de lotir — lotissement {estate}",
        correspondent=rng.choice(COMPANIES[:2] + COMPANIES[5:]),
        body=(
            f"Nous avons l'honneur de solliciter l'autorisation de lotir le terrain de {hectares} "
            f"hectares destiné au lotissement {estate}, comprenant {lots} lots d'habitat "
            "économique, des équipements de proximité et des espaces verts.",
            "Le projet est conforme aux prescriptions du plan d'aménagement en vigueur ; les "
            "études de voirie et d'assainissement ont été approuvées par le concessionnaire.",
        ),
        keyword="économique",
    )


def _conformity(rng: random.Random, day: dt.date, number: int) -> Incoming:
    lot = rng.randint(1, 420)
    estate = rng.choice(ESTATES)
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SAU",
        consult="",
        subject=f"Demande de certificat de conformité — villa, lot n° {lot}",
        correspondent=rng.choice(PEOPLE),
        body=(
            f"Les travaux de construction de ma villa sur le lot n° {lot} du lotissement {estate} "
            "étant achevés, je vous prie de bien vouloir procéder à la visite de récolement en "
            "vue de la délivrance du certificat de conformité.",
            "Le permis d'habiter m'est demandé par la banque pour le déblocage du prêt immobilier.",
        ),
        keyword="récolement",
    )


def _plan(rng: random.Random, day: dt.date, number: int) -> Incoming:
    commune = rng.choice(COMMUNES)
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SPU",
        consult=rng.choice(("SAU", "")),
        subject=f"Observations sur le projet de plan d'aménagement de {commune}",
        correspondent=rng.choice(INSTITUTIONS[:3] + ASSOCIATIONS),
        body=(
            f"Suite à l'enquête publique du projet de plan d'aménagement de {commune}, nous "
            "souhaitons formuler les observations suivantes sur le tracé de la voie de 30 mètres "
            "et l'emplacement réservé au souk hebdomadaire.",
            "Nous demandons que la zone villas soit étendue au nord de la route provinciale et "
            "que le cimetière existant soit préservé.",
        ),
        keyword="souk",
    )


def _derogation(rng: random.Random, day: dt.date, number: int) -> Incoming:
    quarter = rng.choice(QUARTERS)
    return _french(
        rng,
        day,
        number,
        type_code="DEM",
        unit="SPU",
        consult="SJ",
        subject=f"Demande de dérogation — hauteur des constructions, quartier {quarter}",
        correspondent=rng.choice(COMPANIES[:2] + COMPANIES[5:]),
        body=(
            f"Notre projet de résidence au quartier {quarter} prévoit un immeuble R+5 là où le "
            "règlement limite la hauteur à R+4. Nous sollicitons une dérogation au titre de "
            "l'investissement, le projet comprenant 40 % de logements sociaux.",
            "Une clinique privée et une crèche occuperaient le rez-de-chaussée et le premier étage.",
        ),
        keyword="clinique",
    )


def _complaint(rng: random.Random, day: dt.date, number: int) -> Incoming:
    quarter = rng.choice(QUARTERS)
    return _french(
        rng,
        day,
        number,
        type_code="REC",
        unit="SAU",
        consult=rng.choice(("SJ", "")),
        subject=f"Réclamation : construction non autorisée au quartier {quarter}",
        correspondent=rng.choice(PEOPLE + ASSOCIATIONS),
        body=(
            f"Nous attirons votre attention sur l'extension illégale d'un hammam au quartier "
            f"{quarter}, dont les travaux se poursuivent la nuit sans aucun panneau de chantier.",
            "Cette construction empiète sur la ruelle et prive les riverains d'ensoleillement. "
            "Nous vous demandons de dépêcher une commission de contrôle sur les lieux.",
        ),
        keyword="hammam",
    )


def _refusal(rng: random.Random, day: dt.date, number: int) -> Incoming:
    file_number = f"PC-{day.year}-{rng.randint(100, 999)}"
    return _french(
        rng,
        day,
        number,
        type_code="REC",
        unit="SJ",
        consult="SAU",
        subject=f"Réclamation contre l'avis défavorable — dossier {file_number}",
        correspondent=rng.choice(PEOPLE),
        body=(
            f"Mon dossier {file_number} a reçu un avis défavorable au motif d'un recul "
            "insuffisant sur la voie. Or le plan de masse approuvé par mon géomètre respecte le "
            "recul de cinq mètres prescrit.",
            "Je sollicite le réexamen de mon dossier et, le cas échéant, un rendez-vous avec le "
            "service instructeur.",
        ),
        keyword="géomètre",
    )


def _delay(rng: random.Random, day: dt.date, number: int) -> Incoming:
    estate = rng.choice(ESTATES)
    return _french(
        rng,
        day,
        number,
        type_code="REC",
        unit="SAU",
        consult="",
        subject=f"Réclamation relative au retard d'instruction — lotissement {estate}",
        correspondent=rng.choice(COMPANIES[:2] + COMPANIES[5:]),
        body=(
            f"Notre demande de réception provisoire des travaux du lotissement {estate}, déposée "
            "depuis plus de deux mois, n'a toujours pas reçu de suite.",
            "Ce retard bloque la commercialisation des lots et expose notre société à des "
            "pénalités envers ses acquéreurs.",
        ),
        keyword="pénalités",
    )


def _lawsuit(rng: random.Random, day: dt.date, number: int) -> Incoming:
    case = f"{rng.randint(100, 999)}/7110/{day.year}"
    return _french(
        rng,
        day,
        number,
        type_code="REC",
        unit="SJ",
        consult="",
        subject=f"Requête devant le tribunal administratif — affaire n° {case}",
        correspondent="Cabinet Maître Rachid Berrada, avocat",
        body=(
            f"J'ai l'honneur de vous notifier la requête introduite par mon client, dans "
            f"l'affaire n° {case}, en annulation de la décision de refus de l'autorisation de "
            "lotir.",
            "Le mémoire en défense de l'Agence est attendu dans un délai de trente jours.",
        ),
        keyword="mémoire",
        confidential=True,
    )


_FRENCH_KINDS = (
    _nru,
    _nru,
    _permit,
    _permit,
    _permit,
    _subdivision,
    _conformity,
    _plan,
    _derogation,
    _complaint,
    _complaint,
    _refusal,
    _delay,
    _lawsuit,
)


def _incoming_arabic(rng: random.Random, day: dt.date, number: int) -> Incoming:
    kind = rng.randrange(4)
    commune = rng.randrange(len(COMMUNES_AR))
    lot = rng.randint(1, 420)
    title = f"{rng.randint(10000, 99999)}/{rng.randint(1, 60):02d}"
    estate = rng.choice(ESTATES_AR)
    quarter = rng.choice(QUARTERS_AR)
    if kind == 0:
        type_code, unit, consult = "DEM", "SAU", ""
        subject = f"طلب رخصة البناء — القطعة رقم {lot} بتجزئة {estate}"
        correspondent = rng.choice(PEOPLE_AR)
        body: tuple[str, ...] = (
            f"يشرفني أن أطلب منكم الموافقة على رخصة البناء الخاصة بالقطعة رقم {lot} بتجزئة "
            f"{estate}، وذلك طبقا للتصاميم المنجزة من طرف المهندس المعماري والمرفقة بهذا الطلب.",
        )
        keyword = "المعماري"
    elif kind == 1:
        type_code, unit, consult = "DEM", "SAU", ""
        subject = f"طلب مذكرة المعلومات التعميرية — الرسم العقاري عدد {title}"
        correspondent = rng.choice(PEOPLE_AR)
        body = (
            f"يشرفني أن ألتمس منكم تسليمي مذكرة المعلومات التعميرية المتعلقة بالعقار موضوع "
            f"الرسم العقاري عدد {title} الكائن بحي {quarter}.",
        )
        keyword = quarter
    elif kind == 2:
        type_code, unit, consult = "REC", "SAU", "SJ"
        subject = f"شكاية بخصوص بناء عشوائي بحي {quarter}"
        correspondent = rng.choice(ASSOCIATIONS_AR)
        body = (
            f"نتشرف بإحاطتكم علما بأن أحد السكان بحي {quarter} شرع في بناء طابق إضافي دون "
            "ترخيص، مما يشكل خطرا على سلامة الجيران.",
            "لذا نلتمس منكم إيفاد لجنة للمراقبة واتخاذ الإجراءات القانونية اللازمة.",
        )
        keyword = "الجيران"
    else:
        type_code, unit, consult = "DEM", "SPU", "SAU"
        subject = f"طلب رأي الوكالة في مشروع تصميم التهيئة لجماعة {COMMUNES_AR[commune]}"
        correspondent = rng.choice(INSTITUTIONS_AR)
        body = (
            f"يشرفني أن أوافيكم بنسخة من مشروع تصميم التهيئة لجماعة {COMMUNES_AR[commune]} "
            "قصد إبداء رأيكم في المنطقة الصناعية المقترحة والطريق المداري.",
        )
        keyword = "الصناعية"
    letter = Letter(
        letterhead=_sender_head(correspondent, arabic=True),
        place_date=f"{COMMUNES_AR[commune]} في {ar_date(day)}",
        recipient=(f"إلى السيد مدير {AGENCY_AR} لسطات",),
        subject=f"الموضوع: {subject}",
        reference="" if kind < 2 else f"المرجع: {number}/{day.year}",
        body=(*body, "وتقبلوا فائق عبارات التقدير والاحترام."),
        signature=(correspondent,),
    )
    reference = "" if kind < 2 else f"{number}/{day.year}"
    return Incoming(type_code, unit, consult, subject, correspondent, reference, letter, keyword)


# --- the agency's own letters ---------------------------------------------------------------------


def agency_letter(
    day: dt.date, recipient: str, subject: str, body: tuple[str, ...], signatory: str
) -> Letter:
    return Letter(
        letterhead=("ROYAUME DU MAROC", f"{AGENCY} de {CITY}", "Direction générale"),
        place_date=f"{CITY}, le {french_long_date(day)}",
        recipient=(recipient,),
        subject=f"Objet : {subject}",
        reference="",
        body=(
            *body,
            "Veuillez agréer l'expression de mes salutations distinguées.",
        ),
        signature=(signatory,),
    )


def reply(rng: random.Random, day: dt.date, answered: Incoming) -> tuple[str, Letter]:
    """The agency's answer to an incoming mail: its subject and letter."""
    subject = f"Réponse à votre courrier — {answered.subject}"
    if answered.letter.arabic:
        subject = "Réponse à votre demande"
    verdict = rng.choice(
        (
            "Après examen par la commission d'instruction, j'ai l'honneur de vous faire connaître "
            "que votre demande a reçu un avis favorable, sous réserve du respect des prescriptions "
            "du plan d'aménagement.",
            "Après examen, j'ai le regret de vous informer que votre demande ne peut être "
            "satisfaite en l'état : le dossier doit être complété par un levé topographique "
            "rattaché au réseau national.",
            "J'ai l'honneur de vous informer qu'une commission de contrôle s'est rendue sur les "
            "lieux ; un procès-verbal a été dressé et transmis à l'autorité locale.",
        )
    )
    letter = agency_letter(
        day,
        f"À l'attention de {answered.correspondent}"
        if not answered.letter.arabic
        else "À l'attention du demandeur",
        subject,
        (f"En réponse à votre courrier cité en objet, {verdict[0].lower()}{verdict[1:]}",),
        "Le Directeur de l'Agence urbaine",
    )
    return subject[:500], letter


OUTGOING_SUBJECTS = (
    "Convocation à la commission d'instruction des grands projets",
    "Transmission du projet de plan d'aménagement de {commune} pour avis",
    "Invitation à la réunion de coordination sur le schéma directeur",
    "Demande de mise à jour des données cadastrales — secteur {quarter}",
    "Notification des prescriptions du plan d'aménagement — quartier {quarter}",
)

INTERNAL_NOTES = (
    ("Note de service : permanence du bureau d'ordre pendant les congés", False, "BO"),
    ("Compte rendu de la réunion de coordination du lundi", False, "DGU"),
    ("Note interne : planning des commissions d'instruction", False, "SAU"),
    ("Note : mise à jour de la couche parcellaire du SIG — secteur {quarter}", False, "SSIG"),
    ("Rapport de contrôle de chantier — quartier {quarter}", False, "SCI"),
    (
        "Note confidentielle : stratégie de défense dans le contentieux du lotissement {estate}",
        True,
        "SJ",
    ),
    ("Note confidentielle : évaluation annuelle et avancements", True, "SRH"),
    ("Demande d'achat : scanner de production pour le bureau d'ordre", False, "DAF"),
)


HERO_SUBJECT = "Réclamation : nuisances et travaux sans autorisation, quartier Mimouna"


def hero(letter_day: dt.date, number: int) -> Incoming:
    """The scanned complaint of the story: its subject does not say what it is about."""
    return _french(
        random.Random(number),  # noqa: S311 (demo data)
        letter_day,
        number,
        type_code="REC",
        unit="SAU",
        consult="SJ",
        subject=HERO_SUBJECT,
        correspondent="Association Al Amal des habitants de Mimouna",
        body=(
            "Les habitants de la rue 14 du quartier Mimouna se plaignent d'une station de lavage "
            "automobile installée sans autorisation dans le garage de l'immeuble Bouzid.",
            "Les eaux usées chargées d'huiles se déversent sur la chaussée et les compresseurs "
            "fonctionnent jusqu'à minuit. Nous demandons l'arrêt des travaux et un contrôle.",
        ),
        keyword="lavage",
    )


def with_consult(item: Incoming, unit: str) -> Incoming:
    return dataclasses.replace(item, consult=unit)
