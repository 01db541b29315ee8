"""Demo data for `make run`: an urban-planning agency a few weeks into using ged.

The org chart, a user per role (one password, printed), the mail types, then (``load_mails``)
about two hundred mails in every state of their circuits, with letters whose text can be searched,
a classification plan and a library of documents. Everything goes through the services, so it
is checked, audited and indexed like real work. See docs/demo.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ged.bootstrap import Container
from ged.clock import ManualClock, utc_now
from ged.domain.model import Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor

DEMO_PASSWORD = "ged-demo-2026"  # noqa: S105 (printed by `ged demo`; demo data only)

# code, name, Arabic name, parent code
UNITS = [
    ("DG", "Direction générale", "المديرية العامة", None),
    ("BO", "Bureau d'ordre", "مكتب الضبط", "DG"),
    ("SJ", "Service juridique", "المصلحة القانونية", "DG"),
    ("DEP", "Division des études et de la planification", "قسم الدراسات والتخطيط", "DG"),
    ("SPU", "Service de la planification urbaine", "مصلحة التخطيط العمراني", "DEP"),
    ("SSIG", "Service du SIG et de la cartographie", "مصلحة نظم المعلومات الجغرافية", "DEP"),
    ("DGU", "Division de la gestion urbaine", "قسم التدبير الحضري", "DG"),
    ("SAU", "Service des autorisations d'urbanisme", "مصلحة رخص التعمير", "DGU"),
    ("SCI", "Service du contrôle et des infractions", "مصلحة المراقبة والمخالفات", "DGU"),
    ("DAF", "Division administrative et financière", "القسم الإداري والمالي", "DG"),
    ("SRH", "Service des ressources humaines", "مصلحة الموارد البشرية", "DAF"),
]

# username, full name, role, unit code, locale, units managed. The director also heads the legal
# service and the head of studies the planning service: their visas have someone to give them.
USERS: list[tuple[str, str, Role, str, str, tuple[str, ...]]] = [
    ("admin", "Administrateur ged", Role.ADMIN, "DG", "fr", ()),
    ("directeur", "Karim Benjelloun", Role.MANAGER, "DG", "fr", ("DG", "SJ")),
    ("secretaire", "Fatima Zahra El Amrani", Role.REGISTRAR, "BO", "fr", ()),
    ("chef.dep", "Youssef Alaoui", Role.MANAGER, "DEP", "fr", ("DEP", "SPU")),
    ("chef.dgu", "Nadia Berrada", Role.MANAGER, "DGU", "fr", ("DGU",)),
    ("chef.sau", "Hicham Tazi", Role.MANAGER, "SAU", "fr", ("SAU",)),
    ("agent.sau", "سلمى الإدريسي", Role.AGENT, "SAU", "ar", ()),
    ("agent.spu", "Omar Chraibi", Role.AGENT, "SPU", "fr", ()),
    ("agent.sj", "Imane Bennani", Role.AGENT, "SJ", "fr", ()),
    ("auditeur", "Rachid Fassi", Role.AUDITOR, "DG", "fr", ()),
]


# code, name, Arabic name, delay in working days, circuit (bundled, deployed by `ged init`)
MAIL_TYPES = [
    ("DEM", "Demande", "طلب", 10, "incoming_mail"),
    ("REC", "Réclamation", "شكاية", 15, "incoming_mail"),
    ("REP", "Réponse", "جواب", 0, "outgoing_mail"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: Role
    unit: str
    password: str


def load_demo(container: Container, now: dt.datetime | None = None) -> list[DemoLogin]:
    """Create what is missing, through the services (so it is audited); safe to run again.

    On an instance without mail, the organisation is dated the day before the story of
    ``load_mails`` begins (eight weeks before ``now``, default the present), so the history
    reads in order; elsewhere it is created at the present.
    """
    from ged.demo.story import has_mail, on_clock, setting_up

    if has_mail(container):
        return _load_organisation(container)
    moment = setting_up(
        (now or utc_now()).astimezone(dt.UTC), ZoneInfo(container.settings.timezone)
    )
    clocked = on_clock(container, ManualClock(moment))
    try:
        return _load_organisation(clocked)
    finally:
        clocked.search.index.close()


def _load_organisation(container: Container) -> list[DemoLogin]:
    actor = Actor.system("ged demo")
    admin = container.admin
    unit_ids: dict[str, int] = {}
    for code, name, name_ar, parent in UNITS:
        unit = admin.unit_by_code(actor, code)
        parent_id = unit_ids[parent] if parent else None
        unit_ids[code] = (
            unit.id
            if unit is not None
            else admin.create_unit(actor, UnitData(code, name, name_ar, parent_id=parent_id))
        )
    logins = []
    for username, full_name, role, unit_code, locale, manages in USERS:
        user = admin.user_by_name(actor, username)
        if user is None:
            data = UserData(username, full_name, role.value, unit_ids[unit_code], locale=locale)
            user_id = admin.create_user(actor, data, DEMO_PASSWORD)
        else:
            user_id = user.id
        for managed in manages:
            unit = admin.get_unit(actor, unit_ids[managed])
            if unit.manager_id != user_id:
                admin.update_unit(
                    actor,
                    unit.id,
                    UnitData(unit.code, unit.name, unit.name_ar, unit.parent_id, user_id),
                )
        logins.append(DemoLogin(username, full_name, role, unit_code, DEMO_PASSWORD))
    existing = {mail_type.code for mail_type in container.registry.mail_types()}
    for code, name, name_ar, delay, circuit in MAIL_TYPES:
        if code not in existing:
            container.registry.create_mail_type(actor, code, name, delay, circuit, name_ar)
    return logins


DEFAULT_MAILS = 200
DEFAULT_SEED = 2026


@dataclass
class MailReport:
    """What ``load_mails`` did, for the command to print."""

    created: int = 0
    existing: int = 0  # mails found already: nothing was added
    by_direction: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    scans: int = 0
    arabic: int = 0
    overdue_tasks: int = 0
    documents: int = 0
    seconds: float = 0.0


def load_mails(
    container: Container,
    count: int = DEFAULT_MAILS,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
) -> MailReport:
    """About ``count`` mails spread over the last weeks, and the document library.

    Only on an instance without any mail: run again, it adds nothing and says so. Needs the
    organisation of ``load_demo`` and the circuits ``ged init`` deploys. The same seed and
    ``now`` (default: the present) give the same mail.
    """
    from ged.demo.story import Story, has_mail

    started = time.monotonic()
    existing = has_mail(container)
    if existing or count <= 0:
        return MailReport(existing=existing)
    story = Story(container, seed, now)
    try:
        story.plan(count)
        story.run()
        story.summarise()
    finally:
        story.close()
    found = story.report
    return MailReport(
        created=sum(found.mails.values()),
        by_direction=found.mails,
        by_status=found.statuses,
        scans=found.scans,
        arabic=found.arabic,
        overdue_tasks=found.overdue_tasks,
        documents=len(story.library),
        seconds=time.monotonic() - started,
    )
