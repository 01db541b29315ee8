"""Demo data for `make run`: the org chart of an urban-planning agency and a user per role."""

from __future__ import annotations

from dataclasses import dataclass

from ged.bootstrap import Container
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

# username, full name, role, unit code, locale, manages unit
USERS = [
    ("admin", "Administrateur ged", Role.ADMIN, "DG", "fr", None),
    ("directeur", "Karim Benjelloun", Role.MANAGER, "DG", "fr", "DG"),
    ("secretaire", "Fatima Zahra El Amrani", Role.REGISTRAR, "BO", "fr", None),
    ("chef.dep", "Youssef Alaoui", Role.MANAGER, "DEP", "fr", "DEP"),
    ("chef.dgu", "Nadia Berrada", Role.MANAGER, "DGU", "fr", "DGU"),
    ("chef.sau", "Hicham Tazi", Role.MANAGER, "SAU", "fr", "SAU"),
    ("agent.sau", "سلمى الإدريسي", Role.AGENT, "SAU", "ar", None),
    ("agent.spu", "Omar Chraibi", Role.AGENT, "SPU", "fr", None),
    ("agent.sj", "Imane Bennani", Role.AGENT, "SJ", "fr", None),
    ("auditeur", "Rachid Fassi", Role.AUDITOR, "DG", "fr", None),
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


def load_demo(container: Container) -> list[DemoLogin]:
    """Create what is missing, through the services (so it is audited); safe to run again."""
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
        if manages:
            unit = admin.get_unit(actor, unit_ids[manages])
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
