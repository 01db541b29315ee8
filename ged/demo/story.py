"""A few weeks in the life of the agency, replayed through the services on a demo clock.

Every mail gets a fate (to dispatch, in processing, awaiting opinions, awaiting visa, returned
for correction, closed, answered; drafted, in visa, signed or sent for outgoing mail) and a
script: a generator that performs each step as the right person, then says how many working
days pass before the next one. The scripts of all mails run interleaved in time order on one
clock, with a daily sweep that fires the circuits' timers and escalates late tasks, as the
worker of `ged serve` would. Nothing happens after the real present: a step that would is not
taken. The services run on the story's clock (``ged.clock.ManualClock``): registrations,
comments, circuit steps, tasks, notifications and the audit log all carry the moment the step
happens in the story, and since the steps are played in time order the audit chain grows in
time order too.
"""

from __future__ import annotations

import datetime as dt
import heapq
import io
import random
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ged import bootstrap
from ged.adapters.orm import Mail, Task
from ged.bootstrap import Container
from ged.clock import Clock, ManualClock, utc_now
from ged.demo import corpus, letters
from ged.demo.corpus import Incoming
from ged.domain.calendar import MOROCCAN_HOLIDAYS, WorkingCalendar, french_long_date
from ged.domain.model import Channel, Direction, Priority
from ged.services.audit import Actor
from ged.services.documents import DocumentData, IncomingFile
from ged.services.mail import MailFilter, MailInput
from ged.services.tasks import ACTIVE
from ged.services.uploads import Upload

WEEKS = 8
# A mail's script: performs a step, then yields the working days until its next one.
Script = Generator[int, None, None]
# Who works the mail of each processing unit: its agent, its manager (the visa), the people
# whose visa an answer needs before the director signs it.
AGENT = {"SAU": "agent.sau", "SPU": "agent.spu", "SJ": "agent.sj"}
MANAGER = {"SAU": "chef.sau", "SPU": "chef.dep", "SJ": "directeur"}
APPROVERS = {"SAU": ["chef.sau", "chef.dgu"], "SPU": ["chef.dep"], "SJ": ["directeur"]}
SIGNATORY = "directeur"

INCOMING_FATES = {
    "dispatch": 8,
    "filed": 4,
    "pool": 5,
    "processing": 7,
    "late": 12,
    "opinions": 7,
    "visa": 8,
    "returned": 5,
    "closed": 14,
    "answered": 20,
}
OUTGOING_FATES = {"draft": 10, "returned": 5, "visa": 15, "signed": 10, "sent": 60}
SCANNED_SHARE = 0.17
# When mail of each fate arrives: between so many working days back (see Story._arrival).
ARRIVAL = {
    "dispatch": (0, 2),
    "pool": (1, 6),
    "processing": (1, 6),
    "filed": (2, 38),
    "late": (17, 38),
    "opinions": (5, 16),
    "visa": (7, 20),
    "returned": (8, 22),
    "closed": (10, 38),
    "answered": (12, 38),
}

OPINIONS = (
    "Avis favorable, sous réserve de la cession gratuite de l'emprise de la voie.",
    "Aucune objection sur le plan juridique ; la procédure suivie est régulière.",
    "Avis réservé : le plan de masse ne respecte pas le recul sur la voie de 20 mètres.",
    "Le terrain est grevé d'une servitude de passage de la conduite ONEE : à prendre en compte.",
)
RETURNS = (
    "Merci de compléter le projet : citer l'article 12 du règlement d'aménagement.",
    "Le ton de la réponse est à revoir ; joindre l'extrait du plan d'aménagement.",
    "Vérifier la référence du titre foncier avant de soumettre à nouveau.",
)
DISPATCH_NOTES = (
    "Pour traitement dans les délais.",
    "Urgent : le pétitionnaire a relancé par téléphone.",
    "À instruire en commission jeudi.",
    "",
    "",
)


@dataclass
class StoryReport:
    mails: Counter[str] = field(default_factory=Counter)  # by direction
    statuses: Counter[str] = field(default_factory=Counter)
    scans: int = 0
    arabic: int = 0
    overdue_tasks: int = 0


def on_clock(container: Container, clock: Clock) -> Container:
    """The services of ``container``'s instance wired again, on ``clock``: the same database,
    store, queue and index; close its index (``Container.search.index.close``) when done."""
    return bootstrap.build(
        container.settings,
        engine=container.engine,
        passwords=container.passwords,
        immediate_jobs=container.huey.immediate,
        clock=clock,
    )


def working_days(now: dt.datetime, tz: ZoneInfo) -> list[dt.date]:
    """The working days of the story's weeks before ``now``, oldest first, today excluded."""
    calendar = WorkingCalendar.with_holidays(MOROCCAN_HOLIDAYS)
    today = now.astimezone(tz).date()
    day = today - dt.timedelta(weeks=WEEKS)
    days = []
    while day < today:
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def setting_up(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """When the agency set ged up: the afternoon before the story's first working day."""
    days = working_days(now, tz)
    first = days[0] if days else now.astimezone(tz).date()
    local = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(15, 0), tz)
    return local.astimezone(dt.UTC)


def allocate(total: int, weights: dict[str, int]) -> list[str]:
    """``total`` fates in the proportions of ``weights``, each at least once if there is room.

    With fewer mails than fates, the most common fates are the ones kept.
    """
    names = list(weights)
    if total <= 0:
        return []
    if total < len(names):
        kept = set(sorted(names, key=lambda n: weights[n], reverse=True)[:total])
        return [name for name in names if name in kept]
    counts = dict.fromkeys(names, 1)
    spare = total - len(names)
    weight_sum = sum(weights.values())
    shares = {name: spare * weights[name] / weight_sum for name in names}
    for name in names:
        counts[name] += int(shares[name])
    left = total - sum(counts.values())
    for name in sorted(names, key=lambda n: shares[n] - int(shares[n]), reverse=True)[:left]:
        counts[name] += 1
    return [name for name in names for _ in range(counts[name])]


class Story:
    def __init__(self, container: Container, seed: int, now: dt.datetime | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (demo data, reproducible)
        self.now = (now or utc_now()).astimezone(dt.UTC)
        self.clock = ManualClock(self.now)
        self.container = on_clock(container, self.clock)
        self.tz = ZoneInfo(container.settings.timezone)
        self.calendar = WorkingCalendar.with_holidays(MOROCCAN_HOLIDAYS)
        self.tasks = self.container.tasks
        self.registry = self.container.registry
        system = Actor.system("ged demo")
        self.people: dict[str, Actor] = {}
        self.names: dict[str, str] = {}
        for user in container.admin.list_users(system):
            self.people[user.username] = Actor.of(user)
            self.names[user.username] = user.full_name
        self.units = {u.code: u.id for u in self.registry.units()}
        self.types = {t.code: t.id for t in self.registry.mail_types()}
        self.report = StoryReport()
        self._queue: list[tuple[dt.datetime, int, Script]] = []
        self._sequence = 0
        self._letter_number = 100
        self.library: dict[str, int] = {}  # title: document id

    # --- time -----------------------------------------------------------------------------------

    def _working_days(self) -> list[dt.date]:
        return working_days(self.now, self.tz)

    def _at(self, day: dt.date, earliest: dt.time = dt.time(8, 40)) -> dt.datetime:
        minutes = self.rng.randint(earliest.hour * 60 + earliest.minute, 16 * 60 + 30)
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), self.tz)
        return local.astimezone(dt.UTC)

    def _later(self, at: dt.datetime, days: int) -> dt.datetime:
        local = at.astimezone(self.tz)
        if days == 0:
            moment = local + dt.timedelta(minutes=self.rng.randint(15, 120))
            if moment.time() <= dt.time(17, 30):
                return moment.astimezone(dt.UTC)
            days = 1
        day = self.calendar.add_working_days(local.date(), days)
        return self._at(day)

    def schedule(self, script: Script, at: dt.datetime) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (at, self._sequence, script))

    def run(self) -> None:
        """Play every script in time order until the present."""
        horizon = self.now - dt.timedelta(minutes=5)
        while self._queue:
            at, sequence, script = heapq.heappop(self._queue)
            if at > horizon:
                script.close()  # the future: this mail stays where it is
                continue
            self.clock.at = at
            try:
                days = next(script)
            except StopIteration:
                continue
            heapq.heappush(self._queue, (self._later(at, days), sequence, script))
        self.clock.at = self.now

    def close(self) -> None:
        self.container.search.index.close()

    # --- helpers ----------------------------------------------------------------------------

    def person(self, username: str) -> Actor:
        return self.people[username]

    def _today(self) -> dt.date:
        return self.clock.at.astimezone(self.tz).date()

    def _open_task(self, mail_id: int, bpmn_id: str) -> int:
        with self.container.reader() as uow:
            found = uow.session.execute(
                select(Task.id)
                .where(Task.mail_id == mail_id, Task.bpmn_id == bpmn_id, ACTIVE)
                .order_by(Task.id)
                .limit(1)
            ).scalar_one()
        return int(found)

    def _open_tasks(self, mail_id: int, bpmn_id: str) -> list[int]:
        with self.container.reader() as uow:
            return list(
                uow.session.execute(
                    select(Task.id)
                    .where(Task.mail_id == mail_id, Task.bpmn_id == bpmn_id, ACTIVE)
                    .order_by(Task.id)
                ).scalars()
            )

    def _next_number(self) -> int:
        self._letter_number += self.rng.randint(1, 9)
        return self._letter_number

    @staticmethod
    def _upload(content: bytes, name: str) -> Upload:
        return Upload(io.BytesIO(content), name)

    # --- the plan -------------------------------------------------------------------------------

    def plan(self, total: int) -> None:
        """Decide every mail's fate and the day it arrives, and schedule its script."""
        if total <= 0:
            return
        days = self._working_days()
        internal = max(1, round(total * 0.12)) if total >= 10 else 0
        outgoing_total = max(0, round(total * 0.28)) if total >= 10 else 0
        incoming_total = total - internal - outgoing_total
        fates = allocate(incoming_total, INCOMING_FATES)
        self.rng.shuffle(fates)
        answered = sum(1 for fate in fates if fate == "answered")
        replies = min(answered, outgoing_total * 2 // 3)
        outgoing_fates = allocate(outgoing_total, OUTGOING_FATES)
        self.rng.shuffle(outgoing_fates)
        reply_fates = outgoing_fates[:replies]
        standalone = outgoing_fates[replies:]
        scans = set(self.rng.sample(range(incoming_total), round(incoming_total * SCANNED_SHARE)))
        if incoming_total and fates:
            # The first mail is a scan whose subject hides its main word (docs/demo.md).
            fates[0] = "late"
            scans.add(0)
        for index, fate in enumerate(fates):
            reply_fate = reply_fates.pop() if fate == "answered" and reply_fates else ""
            day = self._arrival(days, fate, index)
            self.schedule(
                self._incoming(fate, index in scans, reply_fate, hero=index == 0),
                self._at(day, dt.time(8, 30)),
            )
        for fate in standalone:
            day = days[self.rng.randrange(max(1, len(days) - 6))]
            self.schedule(self._standalone_outgoing(fate), self._at(day))
        for _ in range(internal):
            day = days[self.rng.randrange(len(days))]
            self.schedule(self._internal(), self._at(day))
        self.schedule(self._sweeper(), self._at(days[0], dt.time(7, 0)))
        self.schedule(_library(self), self._at(days[0]))
        self.schedule(_reviews(self), self._at(days[-2]))

    def _arrival(self, days: Sequence[dt.date], fate: str, index: int) -> dt.date:
        """A day that leaves the mail time to reach its fate, and makes late mail late.

        Counted in working days back from yesterday: recent mail is still being dispatched or
        processed, mail past its deadline (10 or 15 working days) arrived weeks ago.
        """
        last = len(days) - 1
        if index == 0:
            back = 22
        else:
            low, high = ARRIVAL.get(fate, (10, 38))
            back = self.rng.randint(low, high)
        return days[max(0, last - min(back, last))]

    # --- scripts ------------------------------------------------------------------------------

    def _sweeper(self) -> Script:
        """What the worker's periodic sweep does every morning: timers fire, late tasks escalate."""
        while True:
            self.tasks.wake_due(self.clock.at)
            self.tasks.escalate_overdue(self.clock.at)
            self._acknowledge_escalations()
            yield 1

    def _acknowledge_escalations(self) -> None:
        """Managers take note of every other escalation, two days after it came."""
        by_id = {actor.user_id: actor for actor in self.people.values()}
        with self.container.reader() as uow:
            waiting = uow.session.execute(
                select(Task.id, Task.assignee_id)
                .where(
                    Task.kind == "escalation",
                    ACTIVE,
                    Task.created_at < self.clock.at - dt.timedelta(days=2),
                )
                .order_by(Task.id)
            ).all()
        for task_id, assignee in waiting:
            manager = by_id.get(assignee)
            if manager is not None and task_id % 2 == 0:
                self.tasks.complete(
                    manager, task_id, "acknowledge", comment="Relance faite auprès du service."
                )

    def _incoming(self, fate: str, scanned: bool, reply_fate: str, hero: bool) -> Script:
        rng = self.rng
        received = self._today()
        letter_day = received - dt.timedelta(days=rng.randint(1, 6))
        number = self._next_number()
        item = corpus.hero(letter_day, number) if hero else corpus.incoming(rng, letter_day, number)
        if fate == "opinions" and not item.consult:
            item = corpus.with_consult(item, "SJ" if item.unit != "SJ" else "SAU")
        mail_id = self._register_incoming(item, received, letter_day, scanned)
        secretary = self.person("secretaire")
        director = self.person("directeur")
        if fate == "dispatch":
            return
        yield rng.choice((0, 1, 1))
        dispatch = self._open_task(mail_id, "dispatch")
        if fate == "filed":
            self.tasks.complete(
                director, dispatch, "file", comment="Pour information : classé sans suite."
            )
            return
        delay = 10 if item.type_code == "DEM" else 15
        self.tasks.complete(
            director,
            dispatch,
            "dispatch",
            {"addressed_unit": item.unit, "processing_deadline": delay},
            comment=rng.choice(DISPATCH_NOTES),
        )
        if rng.random() < 0.2:
            self.registry.comment(
                secretary, mail_id, "Le pétitionnaire a déposé une pièce complémentaire au guichet."
            )
        if fate == "pool":
            return
        yield rng.choice((0, 1))
        agent = self.person(AGENT[item.unit])
        self.tasks.claim(agent, self._open_task(mail_id, "process"))
        if fate in ("processing", "late"):
            return
        consult = fate == "opinions" or (bool(item.consult) and rng.random() < 0.6)
        if consult:
            yield rng.choice((1, 2))
            self.tasks.complete(
                agent,
                self._open_task(mail_id, "process"),
                "consult",
                {"consulted_units": [item.consult]},
                comment=f"Avis de l'entité {item.consult} sollicité avant de répondre.",
            )
            if fate == "opinions":
                return
            yield rng.choice((1, 2, 3))
            giver = self.person(AGENT[item.consult])
            for task_id in self._open_tasks(mail_id, "give_opinion"):
                self.tasks.claim(giver, task_id)
                self.tasks.complete(giver, task_id, "opinion", comment=rng.choice(OPINIONS))
            yield rng.choice((0, 1))
            self.tasks.claim(agent, self._open_task(mail_id, "process"))
        yield from self._process_and_visa(item, mail_id, fate, reply_fate)

    def _process_and_visa(self, item: Incoming, mail_id: int, fate: str, reply_fate: str) -> Script:
        rng = self.rng
        agent = self.person(AGENT[item.unit])
        manager = self.person(MANAGER[item.unit])
        outcome = {"answered": "answer", "closed": "close"}.get(fate) or rng.choice(
            ("answer", "close")
        )
        rounds = 2 if fate in ("answered", "closed") and rng.random() < 0.2 else 1
        for round_number in range(1, rounds + 1):
            yield rng.choice((1, 2, 3))
            process = self._open_task(mail_id, "process")
            if outcome == "answer":
                _subject, draft = corpus.reply(rng, self._today(), item)
                self.tasks.complete(
                    agent,
                    process,
                    "answer",
                    comment="Projet de réponse joint.",
                    attachments=[self._upload(letters.render_pdf(draft), "projet-de-reponse.pdf")],
                )
            else:
                self.tasks.complete(
                    agent,
                    process,
                    "close",
                    comment="Dossier traité ; aucune réponse écrite n'est nécessaire.",
                )
            if fate == "visa":
                return
            yield rng.choice((0, 1, 2))
            visa = self._open_task(mail_id, "visa")
            if fate == "returned" or round_number < rounds:
                self.tasks.complete(manager, visa, "return", comment=rng.choice(RETURNS))
                yield rng.choice((0, 1))
                self.tasks.claim(agent, self._open_task(mail_id, "process"))
                if fate == "returned":
                    return
                continue
            self.tasks.complete(manager, visa, "approve", comment="Vu et approuvé.")
        if fate == "answered" and reply_fate:
            subject, letter = corpus.reply(rng, self._today(), item)
            self.schedule(
                self._outgoing(subject, letter, item.unit, reply_fate, item.correspondent, mail_id),
                self._later(self.clock.at, rng.choice((0, 1))),
            )

    def _standalone_outgoing(self, fate: str) -> Script:
        rng = self.rng
        template = rng.choice(corpus.OUTGOING_SUBJECTS)
        subject = template.format(
            commune=rng.choice(corpus.COMMUNES), quarter=rng.choice(corpus.QUARTERS)
        )
        recipient = rng.choice(corpus.INSTITUTIONS)
        unit = rng.choice(("SAU", "SPU", "SPU"))
        letter = corpus.agency_letter(
            self._today(),
            f"À Monsieur le Président — {recipient}",
            subject,
            (
                "J'ai l'honneur de porter à votre connaissance que l'Agence urbaine a inscrit ce "
                "point à l'ordre du jour de sa prochaine réunion technique, qui se tiendra dans "
                "ses locaux au boulevard Mohammed V.",
                "Je vous saurais gré de bien vouloir désigner un représentant habilité.",
            ),
            "Le Directeur de l'Agence urbaine",
        )
        yield from self._outgoing(subject, letter, unit, fate, recipient, None)

    def _outgoing(
        self,
        subject: str,
        letter: letters.Letter,
        unit: str,
        fate: str,
        recipient: str,
        answer_to: int | None,
    ) -> Script:
        rng = self.rng
        secretary = self.person("secretaire")
        registered = self.registry.register(
            secretary,
            MailInput(
                Direction.OUTGOING.value,
                subject,
                mail_date=self._today(),
                correspondent_name=recipient,
                mail_type_id=self.types["REP"],
                unit_ids=(self.units[unit],),
                answer_to_id=answer_to,
            ),
            [self._upload(letters.render_pdf(letter), f"depart-{self._next_number()}.pdf")],
        )
        self.report.mails[Direction.OUTGOING.value] += 1
        mail_id = registered.id
        if fate == "draft":
            return
        yield rng.choice((0, 1))
        approvers = APPROVERS[unit]
        chain = {"approvers": approvers, "signatory": SIGNATORY}
        self.tasks.complete(secretary, self._open_task(mail_id, "draft"), "submit", chain)
        if fate == "returned":
            yield rng.choice((1, 2))
            self.tasks.complete(
                self.person(approvers[0]),
                self._open_task(mail_id, "approve_draft"),
                "return",
                comment=rng.choice(RETURNS),
            )
            return
        for position, approver in enumerate(approvers):
            if fate == "visa" and position == len(approvers) - 1:
                return
            yield rng.choice((0, 1))
            self.tasks.complete(
                self.person(approver), self._open_task(mail_id, "approve_draft"), "approve"
            )
        yield rng.choice((0, 1))
        director = self.person(SIGNATORY)
        self.tasks.complete(director, self._open_task(mail_id, "sign"), "sign")
        if fate == "signed":
            return
        yield rng.choice((0, 1))
        self.tasks.complete(secretary, self._open_task(mail_id, "register"), "register")

    def _internal(self) -> Script:
        rng = self.rng
        template, confidential, unit = rng.choice(corpus.INTERNAL_NOTES)
        subject = template.format(
            quarter=rng.choice(corpus.QUARTERS), estate=rng.choice(corpus.ESTATES)
        )
        author = {
            "BO": "secretaire",
            "DGU": "chef.dgu",
            "SAU": "chef.sau",
            "SSIG": "chef.dep",
            "SCI": "chef.dgu",
            "SJ": "agent.sj",
            "SRH": "directeur",
            "DAF": "directeur",
        }[unit]
        writer = self.person(author)
        named = ("directeur", "agent.sj") if unit == "SJ" else ("directeur", "chef.dgu")
        letter = letters.Letter(
            letterhead=(f"{corpus.AGENCY} de {corpus.CITY}", "Note interne"),
            place_date=f"{corpus.CITY}, le {french_long_date(self._today())}",
            recipient=("À l'attention des chefs de division et de service",),
            subject=f"Objet : {subject}",
            reference="",
            body=(
                "La présente note précise l'organisation retenue à compter de ce jour. Chaque "
                "responsable veillera à sa diffusion auprès des agents de son entité.",
                "Les tableaux de suivi seront transmis au secrétariat de la direction générale "
                "avant le vendredi de chaque semaine.",
            ),
            signature=(self.name(author),),
        )
        registered = self.registry.register(
            writer,
            MailInput(
                Direction.INTERNAL.value,
                subject,
                mail_date=self._today(),
                confidential=confidential,
                unit_ids=(self.units[unit],),
                person_ids=self._ids(named) if confidential else (),
            ),
            [self._upload(letters.render_pdf(letter), f"note-{self._next_number()}.pdf")],
        )
        self.report.mails[Direction.INTERNAL.value] += 1
        if not confidential and rng.random() < 0.5:
            yield rng.choice((0, 1, 2))
            self.registry.comment(
                self.person("directeur"), registered.id, "Bien noté ; à appliquer sans délai."
            )

    def name(self, username: str) -> str:
        return self.names[username]

    def _ids(self, usernames: Sequence[str]) -> tuple[int, ...]:
        return tuple(dict.fromkeys(self.person(n).user_id or 0 for n in usernames))

    # --- registration -------------------------------------------------------------------------

    def _register_incoming(
        self, item: Incoming, received: dt.date, letter_day: dt.date, scanned: bool
    ) -> int:
        rng = self.rng
        pdf = letters.render_pdf(item.letter)
        number = self._next_number()
        if scanned:
            image = letters.scan(pdf, seed=number)
            if item.letter.arabic:
                upload = self._upload(letters.save_png(image), f"numerisation-{number}.png")
            elif number % 3 == 0:
                upload = self._upload(letters.save_tiff(image), f"numerisation-{number}.tif")
            else:
                upload = self._upload(letters.save_pdf(image), f"numerisation-{number}.pdf")
            self.report.scans += 1
        else:
            upload = self._upload(pdf, f"courrier-{number}.pdf")
        if item.letter.arabic:
            self.report.arabic += 1
        named: tuple[int, ...] = ()
        if item.confidential:
            named = self._ids(("directeur", AGENT[item.unit], "secretaire"))
        registered = self.registry.register(
            self.person("secretaire"),
            MailInput(
                Direction.INCOMING.value,
                item.subject,
                mail_date=received,
                letter_date=letter_day,
                correspondent_name=item.correspondent,
                sender_reference=item.reference,
                mail_type_id=self.types[item.type_code],
                priority=rng.choices([p.value for p in Priority], weights=(85, 12, 3), k=1)[0],
                confidential=item.confidential,
                channel=rng.choices(
                    [Channel.POST.value, Channel.HAND.value, Channel.EMAIL.value],
                    weights=(55, 35, 10),
                    k=1,
                )[0],
                unit_ids=(self.units[item.unit],),
                person_ids=named,
            ),
            [upload],
        )
        self.report.mails[Direction.INCOMING.value] += 1
        return registered.id

    # --- summary ------------------------------------------------------------------------------

    def summarise(self) -> None:
        with self.container.reader() as uow:
            session = uow.session
            self.report.statuses = Counter(
                dict(session.execute(select(Mail.status, func.count()).group_by(Mail.status)).all())
            )
            self.report.overdue_tasks = session.execute(
                select(func.count()).select_from(Task).where(ACTIVE, Task.due_at < self.now)
            ).scalar_one()


def has_mail(container: Container) -> int:
    """How many mails the instance holds already (the demo adds none then)."""
    system = Actor.system("ged demo")
    return container.registry.search(system, MailFilter(per_page=1)).total


# --- the library ---------------------------------------------------------------------------------

CLASSIFICATION = (
    ("1", "Planification urbaine", None),
    ("1.1", "Schémas directeurs (SDAU)", "1"),
    ("1.2", "Plans d'aménagement", "1"),
    ("2", "Autorisations d'urbanisme", None),
    ("2.1", "Permis de construire", "2"),
    ("2.2", "Lotissements et morcellements", "2"),
    ("3", "Contrôle et infractions", None),
    ("4", "Affaires juridiques et contentieux", None),
    ("5", "Ressources humaines", None),
    ("6", "Réglementation et circulaires", None),
)

# title, classification, tags, author, versions, confidential
LIBRARY = (
    (
        "Plan d'aménagement de Settat — règlement d'aménagement",
        "1.2",
        ("plan d'aménagement", "règlement", "settat"),
        "agent.spu",
        3,
        False,
    ),
    (
        "Schéma directeur d'aménagement urbain du Grand Settat — rapport de présentation",
        "1.1",
        ("sdau", "rapport"),
        "chef.dep",
        1,
        False,
    ),
    (
        "Guide de l'instruction des demandes de permis de construire",
        "2.1",
        ("guide", "procédure", "permis de construire"),
        "chef.sau",
        2,
        False,
    ),
    (
        "Modèle de note de renseignement urbanistique",
        "2.1",
        ("modèle", "note de renseignement"),
        "agent.sau",
        1,
        False,
    ),
    (
        "Cahier des charges type des lotissements",
        "2.2",
        ("lotissement", "cahier des charges", "modèle"),
        "chef.sau",
        2,
        False,
    ),
    (
        "Procès-verbal de la commission d'instruction des grands projets",
        "2.1",
        ("commission", "procès-verbal"),
        "chef.sau",
        1,
        False,
    ),
    (
        "Tableau de bord des infractions d'urbanisme — troisième trimestre",
        "3",
        ("infractions", "tableau de bord"),
        "chef.dgu",
        1,
        False,
    ),
    (
        "Mémoire en défense — contentieux du lotissement Annakhil",
        "4",
        ("contentieux", "tribunal administratif"),
        "agent.sj",
        2,
        True,
    ),
    (
        "Circulaire relative à l'instruction des dossiers de lotissement",
        "6",
        ("circulaire", "réglementation"),
        "directeur",
        1,
        False,
    ),
    (
        "Fiche de poste — agent d'instruction des autorisations",
        "5",
        ("fiche de poste", "rh"),
        "directeur",
        1,
        False,
    ),
    (
        "Projet de règlement du plan d'aménagement de Berrechid",
        "1.2",
        ("plan d'aménagement", "berrechid", "projet"),
        "agent.spu",
        1,
        False,
    ),
)


def _library(story: Story) -> Script:
    """The classification plan, then a library of documents written over the first weeks."""
    documents = story.container.documents
    system = Actor.system("ged demo")
    plan = {c.code: c.id for c in documents.classifications()}
    for code, name, parent in CLASSIFICATION:
        if code not in plan:
            plan[code] = documents.create_classification(
                system, code, name, plan[parent] if parent else None
            )
    revisions: list[tuple[int, str, str, int]] = []
    for title, code, tags, author, versions, confidential in LIBRARY:
        yield story.rng.choice((0, 1, 2))
        content = corpus.agency_letter(
            story._today(),
            "Document de travail",
            title,
            (
                f"Le présent document « {title} » fait partie du fonds documentaire de l'Agence "
                "urbaine. Il est classé dans le plan de classement et tenu à jour par l'entité "
                "qui l'a rédigé.",
                "Toute diffusion à l'extérieur de l'Agence est soumise à l'accord de la direction "
                "générale.",
            ),
            story.name(author),
        )
        document_id = documents.create(
            story.person(author),
            DocumentData(
                title=title,
                description=f"Rédigé par {story.name(author)}.",
                classification_id=plan[code],
                confidential=confidential,
                tags=tags,
            ),
            IncomingFile(
                io.BytesIO(letters.render_pdf(content, title)), "document-v1.pdf", "application/pdf"
            ),
        )
        story.library[title] = document_id
        revisions += [(document_id, title, author, n) for n in range(2, versions + 1)]
    for document_id, title, author, number in revisions:
        yield 1
        revised = corpus.agency_letter(
            story._today(),
            "Document de travail",
            f"{title} (version {number})",
            (
                f"Version {number} : les observations de la réunion de coordination ont été "
                "intégrées ; les articles 4 à 9 ont été réécrits.",
            ),
            story.name(author),
        )
        documents.add_version(
            story.person(author),
            document_id,
            IncomingFile(
                io.BytesIO(letters.render_pdf(revised)),
                f"document-v{number}.pdf",
                "application/pdf",
            ),
        )


def _reviews(story: Story) -> Script:
    """In the last days, one project waits for its reviewer, a guide goes through approval."""
    pending = story.library.get("Projet de règlement du plan d'aménagement de Berrechid")
    guide = story.library.get("Guide de l'instruction des demandes de permis de construire")
    if pending is None or guide is None:
        return  # too few days for the library to be written
    story.tasks.start_for_document(story.person("agent.spu"), pending, {"reviewer": "chef.dep"})
    story.tasks.start_for_document(story.person("chef.sau"), guide, {"reviewer": "chef.dgu"})
    yield 1
    with story.container.reader() as uow:
        review = uow.session.execute(
            select(Task.id).where(Task.document_id == guide, Task.bpmn_id == "review", ACTIVE)
        ).scalar_one()
    story.tasks.complete(story.person("chef.dgu"), review, "approve", comment="Bon pour diffusion.")
