"""Accounts: log in and out, browser sessions kept on the server, passwords, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ged.adapters.orm import ApiToken, AuthSession, User, utcnow
from ged.adapters.passwords import Passwords
from ged.adapters.uow import UnitOfWork
from ged.config import SecuritySettings
from ged.domain.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Locale
from ged.services.audit import Actor, record

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
ACCOUNT_DISABLED = "Ce compte est désactivé. Adressez-vous à l'administrateur."
TOKEN_PREFIX = "ged_"  # noqa: S105 (a prefix, not a secret)
# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    user_id: int
    session_token: str


@dataclass(frozen=True)
class SessionCheck:
    user: User | None
    reason: str = ""  # why a presented session was refused: ended, expired, idle, disabled


def validate_password(password: str, username: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ValidationError(
            "Le mot de passe doit compter au moins %(count)s caractères.",
            field="password",
            count=min_length,
        )
    if len(password) > 1024:
        raise ValidationError(
            "Le mot de passe est trop long (1024 caractères au plus).", "password"
        )
    if password.strip().lower() == username.strip().lower():
        raise ValidationError("Le mot de passe ne peut pas être l'identifiant.", field="password")


class Accounts:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        passwords: Passwords,
        security: SecuritySettings,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._passwords = passwords
        self._security = security

    # --- browser sessions -------------------------------------------------------------------

    def log_in(self, username: str, password: str, ip: str = "", user_agent: str = "") -> Login:
        """Check the credentials and open a new server-side session; every attempt is audited."""
        username = username.strip().lower()
        with self._writer() as uow:
            user = _user_by_name(uow.session, username)
            ok = self._passwords.verify(user.password_hash if user else None, password)
            if user is None or not ok:
                record(
                    uow.session,
                    Actor(user.id if user else None, username[:64], ip=ip),
                    AuditAction.LOGIN_FAILED,
                    "user",
                    user.id if user else "",
                    {"reason": "unknown user" if user is None else "wrong password"},
                )
                uow.commit()
                raise AuthenticationFailed(BAD_CREDENTIALS)
            if not user.active:
                record(
                    uow.session,
                    Actor.of(user, ip),
                    AuditAction.LOGIN_FAILED,
                    "user",
                    user.id,
                    {"reason": "account disabled"},
                )
                uow.commit()
                raise AuthenticationFailed(ACCOUNT_DISABLED)
            if self._passwords.needs_rehash(user.password_hash):
                user.password_hash = self._passwords.hash(password)
            token = self._open_session(uow.session, user, ip, user_agent)
            user.last_login_at = utcnow()
            record(uow.session, Actor.of(user, ip), AuditAction.LOGIN_SUCCEEDED, "user", user.id)
            uow.commit()
            return Login(user_id=user.id, session_token=token)

    def _open_session(self, session: Session, user: User, ip: str, user_agent: str) -> str:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            AuthSession(
                token_hash=token_digest(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=self._security.session_absolute_hours),
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
        return token

    def check_session(self, token: str) -> SessionCheck:
        """The user behind a session token, or why there is none (ended, expired, idle)."""
        now = utcnow()
        with self._reader() as uow:
            row = uow.session.execute(
                select(AuthSession).where(AuthSession.token_hash == token_digest(token))
            ).scalar_one_or_none()
            if row is None:
                return SessionCheck(None, "unknown")
            user = uow.session.get(User, row.user_id)
            reason = ""
            if row.ended_at is not None:
                reason = row.end_reason or "ended"
            elif user is None or not user.active:
                reason = "disabled"
            elif now >= row.expires_at:
                reason = "expired"
            elif now - row.last_seen_at > dt.timedelta(minutes=self._security.session_idle_minutes):
                reason = "idle"
            needs_touch = not reason and now - row.last_seen_at > TOUCH_INTERVAL
            session_id = row.id
        if reason:
            if reason in {"expired", "idle"}:
                self._end_sessions(AuthSession.id == session_id, reason)
            return SessionCheck(None, reason)
        if needs_touch:
            with self._writer() as uow:
                uow.session.execute(
                    update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)
                )
                uow.commit()
        return SessionCheck(user)

    def log_out(self, token: str, ip: str = "") -> None:
        with self._writer() as uow:
            row = uow.session.execute(
                select(AuthSession).where(AuthSession.token_hash == token_digest(token))
            ).scalar_one_or_none()
            if row is None or row.ended_at is not None:
                return
            row.ended_at = utcnow()
            row.end_reason = "logout"
            user = uow.session.get(User, row.user_id)
            if user is not None:
                record(uow.session, Actor.of(user, ip), AuditAction.LOGGED_OUT, "user", user.id)
            uow.commit()

    def _end_sessions(self, condition: object, reason: str, session: Session | None = None) -> None:
        stmt = (
            update(AuthSession)
            .where(condition, AuthSession.ended_at.is_(None))  # type: ignore[arg-type]
            .values(ended_at=utcnow(), end_reason=reason)
        )
        if session is not None:
            session.execute(stmt)
            return
        with self._writer() as uow:
            uow.session.execute(stmt)
            uow.commit()

    def end_stale_sessions(self) -> int:
        """Close sessions past their idle or absolute limit (periodic job); returns how many."""
        now = utcnow()
        idle_since = now - dt.timedelta(minutes=self._security.session_idle_minutes)
        ended = 0
        for reason, condition in (
            ("expired", AuthSession.expires_at <= now),
            ("idle", AuthSession.last_seen_at < idle_since),
        ):
            with self._writer() as uow:
                result = uow.session.execute(
                    update(AuthSession)
                    .where(condition, AuthSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason)
                )
                uow.commit()
                ended += result.rowcount  # type: ignore[attr-defined]
        return ended

    def open_sessions(self, user_id: int) -> int:
        with self._reader() as uow:
            return len(
                uow.session.execute(
                    select(AuthSession.id).where(
                        AuthSession.user_id == user_id, AuthSession.ended_at.is_(None)
                    )
                ).all()
            )

    # --- passwords ----------------------------------------------------------------------------

    def change_password(
        self, actor: Actor, current: str, new: str, ip: str = "", user_agent: str = ""
    ) -> str:
        """Change one's own password; every session ends and a fresh one is returned."""
        if actor.user_id is None:
            raise PermissionDenied("Connectez-vous pour changer votre mot de passe.")
        with self._writer() as uow:
            user = uow.session.get(User, actor.user_id)
            if user is None or not user.active:
                raise PermissionDenied(ACCOUNT_DISABLED)
            if not self._passwords.verify(user.password_hash, current):
                raise ValidationError("Le mot de passe actuel est incorrect.", field="current")
            validate_password(new, user.username, self._security.password_min_length)
            if new == current:
                raise ValidationError(
                    "Choisissez un mot de passe différent de l'actuel.", "password"
                )
            user.password_hash = self._passwords.hash(new)
            user.password_changed_at = utcnow()
            self._end_sessions(AuthSession.user_id == user.id, "password changed", uow.session)
            record(uow.session, actor, AuditAction.PASSWORD_CHANGED, "user", user.id)
            token = self._open_session(uow.session, user, ip, user_agent)
            uow.commit()
            return token

    def set_locale(self, actor: Actor, locale: str) -> None:
        """Choose one's own interface language; recorded like any change to an account."""
        if actor.user_id is None:
            raise PermissionDenied("Connectez-vous pour choisir votre langue.")
        if locale not in {loc.value for loc in Locale}:
            raise ValidationError("Langue inconnue.", "locale")
        with self._writer() as uow:
            user = uow.session.get(User, actor.user_id)
            if user is None or not user.active:
                raise PermissionDenied(ACCOUNT_DISABLED)
            if user.locale == locale:
                return
            changes = {"locale": [user.locale, locale]}
            user.locale = locale
            record(uow.session, actor, AuditAction.USER_UPDATED, "user", user.id, changes)
            uow.commit()

    def set_password(self, actor: Actor, username: str, new: str) -> None:
        """An administrator (or the CLI) sets someone's password; their sessions end."""
        if actor.user_id is not None and not actor.is_admin:
            raise PermissionDenied("Seul un administrateur peut définir le mot de passe d'autrui.")
        with self._writer() as uow:
            user = _user_by_name(uow.session, username.strip().lower())
            if user is None:
                raise NotFound("Utilisateur inconnu : %(username)s", username=username)
            validate_password(new, user.username, self._security.password_min_length)
            user.password_hash = self._passwords.hash(new)
            user.password_changed_at = utcnow()
            self._end_sessions(AuthSession.user_id == user.id, "password reset", uow.session)
            record(uow.session, actor, AuditAction.PASSWORD_RESET, "user", user.id)
            uow.commit()

    def end_all_sessions(self, session: Session, user_id: int, reason: str) -> None:
        """Used by administration when an account is disabled: in the caller's transaction."""
        self._end_sessions(AuthSession.user_id == user_id, reason, session)

    # --- API tokens ---------------------------------------------------------------------------

    def create_token(
        self, actor: Actor, username: str, name: str = "", expires_at: dt.datetime | None = None
    ) -> str:
        """Return a new bearer token for ``username``; only its digest is stored."""
        with self._writer() as uow:
            user = _user_by_name(uow.session, username.strip().lower())
            if user is None:
                raise NotFound("Utilisateur inconnu : %(username)s", username=username)
            if actor.user_id is not None and actor.user_id != user.id and not actor.is_admin:
                raise PermissionDenied("Vous ne pouvez créer de jeton que pour vous-même.")
            if not user.active:
                raise ValidationError(ACCOUNT_DISABLED)
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            row = ApiToken(
                user_id=user.id,
                name=name[:100],
                prefix=token[: len(TOKEN_PREFIX) + 6],
                token_hash=token_digest(token),
                expires_at=expires_at,
            )
            uow.session.add(row)
            uow.session.flush()
            record(
                uow.session,
                actor,
                AuditAction.TOKEN_CREATED,
                "api_token",
                row.id,
                {"user": user.username, "name": row.name, "prefix": row.prefix},
            )
            uow.commit()
            return token

    def user_for_token(self, token: str, ip: str = "") -> User:
        """The active user holding this bearer token; refusals are audited."""
        now = utcnow()
        with self._reader() as uow:
            row = uow.session.execute(
                select(ApiToken).where(ApiToken.token_hash == token_digest(token))
            ).scalar_one_or_none()
            user = uow.session.get(User, row.user_id) if row else None
            reason = ""
            if row is None:
                reason = "unknown token"
            elif row.revoked_at is not None:
                reason = "revoked token"
            elif row.expires_at is not None and row.expires_at <= now:
                reason = "expired token"
            elif user is None or not user.active:
                reason = "disabled account"
            needs_touch = row is not None and (
                row.last_used_at is None or now - row.last_used_at > TOUCH_INTERVAL
            )
        if reason or user is None or row is None:
            with self._writer() as uow:
                record(
                    uow.session,
                    Actor(None, "anonymous", ip=ip),
                    AuditAction.TOKEN_REJECTED,
                    "api_token",
                    row.id if row else "",
                    {"reason": reason, "prefix": token[:10]},
                )
                uow.commit()
            raise AuthenticationFailed("Jeton d'accès invalide, expiré ou révoqué.")
        if needs_touch:
            with self._writer() as uow:
                uow.session.execute(
                    update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
                )
                uow.commit()
        return user

    def audit_refusal(self, actor: Actor, action: AuditAction, details: dict[str, str]) -> None:
        """Record a refused request (bad CSRF token, stale session, throttled login)."""
        with self._writer() as uow:
            record(uow.session, actor, action, details=details)
            uow.commit()


def _user_by_name(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()
