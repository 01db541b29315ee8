"""The logged-in person as Flask-Login sees it: an account plus the server-side session token."""

from __future__ import annotations

from flask import request
from flask_login import AnonymousUserMixin, UserMixin, current_user

from ged.adapters.orm import User
from ged.domain.model import Locale, Role
from ged.services.audit import Actor
from ged.services.basket import may_print_cover_sheets, may_use_basket


class CurrentUser(UserMixin):
    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: a session token, never the account id, so
        # ending the server-side session is enough to log this browser out.
        return self.token

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_read_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.AUDITOR)

    @property
    def can_use_basket(self) -> bool:
        return may_use_basket(self.actor())

    @property
    def can_print_cover_sheets(self) -> bool:
        return may_print_cover_sheets(self.actor())

    @property
    def locale(self) -> Locale:
        return Locale(self.user.locale)

    def actor(self) -> Actor:
        return Actor.of(self.user, request.remote_addr or "")


class Anonymous(AnonymousUserMixin):
    locale = Locale.FR
    is_admin = False
    can_read_admin = False
    can_use_basket = False
    can_print_cover_sheets = False

    def actor(self) -> Actor:
        return Actor(None, "anonymous", ip=request.remote_addr or "")


def current_actor() -> Actor:
    actor: Actor = current_user.actor()
    return actor
