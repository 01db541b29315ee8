"""Administration of the org chart and of user accounts (admins only; auditors may read)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ged.adapters.orm import Unit, User
from ged.adapters.passwords import Passwords
from ged.adapters.uow import UnitOfWork
from ged.config import SecuritySettings
from ged.domain.errors import Conflict, Message, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Locale, Role
from ged.services.accounts import Accounts, validate_password
from ged.services.audit import Actor, record
from ged.services.permissions import unit_subtree

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
UNIT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class UnitData:
    code: str
    name: str
    name_ar: str = ""
    parent_id: int | None = None
    manager_id: int | None = None
    active: bool = True


@dataclass(frozen=True)
class UserData:
    """What an administrator may set on an account; nothing else is read from a form."""

    username: str
    full_name: str
    role: str
    unit_id: int | None = None
    email: str = ""
    locale: str = Locale.FR.value
    active: bool = True


@dataclass(frozen=True)
class UnitNode:
    unit: Unit
    depth: int


def require_admin(actor: Actor) -> None:
    if actor.user_id is not None and not actor.is_admin:
        raise PermissionDenied("Cette action est réservée aux administrateurs.")


def require_admin_or_auditor(actor: Actor) -> None:
    if actor.user_id is not None and actor.role not in (Role.ADMIN, Role.AUDITOR):
        raise PermissionDenied("Cette page est réservée aux administrateurs et aux auditeurs.")


class Administration:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        passwords: Passwords,
        security: SecuritySettings,
        accounts: Accounts,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._passwords = passwords
        self._security = security
        self._accounts = accounts

    # --- units --------------------------------------------------------------------------------

    def unit_tree(self, actor: Actor) -> list[UnitNode]:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            units = uow.session.execute(select(Unit).order_by(Unit.code)).scalars().all()
        return _as_tree(units)

    def get_unit(self, actor: Actor, unit_id: int) -> Unit:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            unit = uow.session.get(Unit, unit_id)
            if unit is None:
                raise NotFound("Entité introuvable.")
            return unit

    def unit_by_code(self, actor: Actor, code: str) -> Unit | None:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            return uow.session.execute(
                select(Unit).where(Unit.code == code.strip().upper())
            ).scalar_one_or_none()

    def user_by_name(self, actor: Actor, username: str) -> User | None:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            return uow.session.execute(
                select(User).where(User.username == username.strip().lower())
            ).scalar_one_or_none()

    def create_unit(self, actor: Actor, data: UnitData) -> int:
        require_admin(actor)
        with self._writer() as uow:
            unit = Unit()
            self._apply_unit(uow.session, unit, data)
            uow.session.add(unit)
            _flush_unique(
                uow.session, Message("Le code d'entité %(code)s existe déjà.", {"code": data.code})
            )
            record(uow.session, actor, AuditAction.UNIT_CREATED, "unit", unit.id, _unit_dict(unit))
            uow.commit()
            return unit.id

    def update_unit(self, actor: Actor, unit_id: int, data: UnitData) -> None:
        require_admin(actor)
        with self._writer() as uow:
            unit = uow.session.get(Unit, unit_id)
            if unit is None:
                raise NotFound("Entité introuvable.")
            before = _unit_dict(unit)
            self._apply_unit(uow.session, unit, data)
            _flush_unique(
                uow.session, Message("Le code d'entité %(code)s existe déjà.", {"code": data.code})
            )
            after = _unit_dict(unit)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            record(uow.session, actor, AuditAction.UNIT_UPDATED, "unit", unit.id, changes)
            uow.commit()

    def _apply_unit(self, session: Session, unit: Unit, data: UnitData) -> None:
        code = data.code.strip().upper()
        if not UNIT_CODE_RE.match(code):
            raise ValidationError(
                "Code d'entité invalide : lettres majuscules, chiffres, - et _ (32 au plus).",
                "code",
            )
        name = data.name.strip()
        if not name or len(name) > 200:
            raise ValidationError("Le nom de l'entité est obligatoire (200 caractères au plus).")
        if data.parent_id is not None:
            if session.get(Unit, data.parent_id) is None:
                raise ValidationError("L'entité parente n'existe pas.", "parent_id")
            if unit.id is not None and data.parent_id in unit_subtree(session, unit.id):
                raise ValidationError(
                    "Une entité ne peut pas être rattachée à elle-même ni à ses sous-entités.",
                    "parent_id",
                )
        if data.manager_id is not None:
            manager = session.get(User, data.manager_id)
            if manager is None or not manager.active:
                raise ValidationError("Le responsable choisi n'existe pas ou est désactivé.")
        unit.code = code
        unit.name = name
        unit.name_ar = data.name_ar.strip()[:200]
        unit.parent_id = data.parent_id
        unit.manager_id = data.manager_id
        unit.active = data.active

    # --- users --------------------------------------------------------------------------------

    def list_users(self, actor: Actor) -> Sequence[User]:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            return uow.session.execute(select(User).order_by(User.username)).scalars().all()

    def get_user(self, actor: Actor, user_id: int) -> User:
        require_admin_or_auditor(actor)
        with self._reader() as uow:
            user = uow.session.get(User, user_id)
            if user is None:
                raise NotFound("Utilisateur introuvable.")
            return user

    def create_user(self, actor: Actor, data: UserData, password: str) -> int:
        require_admin(actor)
        with self._writer() as uow:
            user = User()
            self._apply_user(uow.session, user, data, creating=True)
            validate_password(password, user.username, self._security.password_min_length)
            user.password_hash = self._passwords.hash(password)
            uow.session.add(user)
            _flush_unique(
                uow.session,
                Message("L'identifiant %(username)s est déjà pris.", {"username": user.username}),
            )
            record(uow.session, actor, AuditAction.USER_CREATED, "user", user.id, _user_dict(user))
            uow.commit()
            return user.id

    def update_user(
        self, actor: Actor, user_id: int, data: UserData, new_password: str = ""
    ) -> None:
        """Edit an account. Disabling it or setting its password ends all of its sessions."""
        require_admin(actor)
        with self._writer() as uow:
            user = uow.session.get(User, user_id)
            if user is None:
                raise NotFound("Utilisateur introuvable.")
            if user.id == actor.user_id and (not data.active or data.role != Role.ADMIN.value):
                raise ValidationError(
                    "Vous ne pouvez ni désactiver votre propre compte ni retirer votre rôle "
                    "d'administrateur."
                )
            before = _user_dict(user)
            was_active = user.active
            self._apply_user(uow.session, user, data, creating=False)
            after = _user_dict(user)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                record(uow.session, actor, AuditAction.USER_UPDATED, "user", user.id, changes)
            if was_active and not user.active:
                self._accounts.end_all_sessions(uow.session, user.id, "account disabled")
                record(uow.session, actor, AuditAction.USER_DISABLED, "user", user.id)
            elif user.active and not was_active:
                record(uow.session, actor, AuditAction.USER_ENABLED, "user", user.id)
            if new_password:
                validate_password(new_password, user.username, self._security.password_min_length)
                user.password_hash = self._passwords.hash(new_password)
                user.password_changed_at = uow.now()
                self._accounts.end_all_sessions(uow.session, user.id, "password reset")
                record(uow.session, actor, AuditAction.PASSWORD_RESET, "user", user.id)
            uow.commit()

    def _apply_user(self, session: Session, user: User, data: UserData, creating: bool) -> None:
        username = data.username.strip().lower()
        if creating:
            if not USERNAME_RE.match(username):
                raise ValidationError(
                    "Identifiant invalide : 2 à 64 caractères parmi a-z, 0-9, point, tiret, "
                    "souligné.",
                    "username",
                )
            user.username = username
        full_name = data.full_name.strip()
        if not full_name or len(full_name) > 200:
            raise ValidationError("Le nom complet est obligatoire (200 caractères au plus).")
        if data.role not in {r.value for r in Role}:
            raise ValidationError("Rôle inconnu.", "role")
        if data.locale not in {loc.value for loc in Locale}:
            raise ValidationError("Langue inconnue.", "locale")
        email = data.email.strip()
        if email and (len(email) > 254 or not EMAIL_RE.match(email)):
            raise ValidationError("Adresse e-mail invalide.", "email")
        if data.unit_id is not None and session.get(Unit, data.unit_id) is None:
            raise ValidationError("L'entité choisie n'existe pas.", "unit_id")
        if data.unit_id is None and data.role in (Role.MANAGER.value, Role.AGENT.value):
            raise ValidationError("Un responsable ou un agent doit appartenir à une entité.")
        user.full_name = full_name
        user.role = data.role
        user.unit_id = data.unit_id
        user.email = email
        user.locale = data.locale
        user.active = data.active


def _flush_unique(session: Session, message: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def _as_tree(units: Sequence[Unit]) -> list[UnitNode]:
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.id for u in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        by_parent.setdefault(parent, []).append(unit)
    out: list[UnitNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in by_parent.get(parent, []):
            out.append(UnitNode(unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return out


def _unit_dict(unit: Unit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "name_ar": unit.name_ar,
        "parent_id": unit.parent_id,
        "manager_id": unit.manager_id,
        "active": unit.active,
    }


def _user_dict(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "unit_id": user.unit_id,
        "email": user.email,
        "locale": user.locale,
        "active": user.active,
    }
