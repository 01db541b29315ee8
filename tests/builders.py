"""Builders for test data, through the services so that audit and rules apply."""

from __future__ import annotations

import io
import itertools

from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor
from ged.services.documents import DocumentData, IncomingFile

SYSTEM = Actor.system("tests")
_counter = itertools.count(1)


class Builders:
    PASSWORD = "correct horse battery"

    def __init__(self, container: Container) -> None:
        self.container = container

    def unit(self, code: str | None = None, parent_id: int | None = None, name: str = "") -> int:
        n = next(_counter)
        code = code or f"U{n}"
        return self.container.admin.create_unit(
            SYSTEM, UnitData(code=code, name=name or f"Unité {code}", parent_id=parent_id)
        )

    def user(
        self,
        username: str | None = None,
        role: Role = Role.AGENT,
        unit_id: int | None = None,
        password: str = PASSWORD,
        locale: str = "fr",
    ) -> int:
        n = next(_counter)
        username = username or f"user{n}"
        if unit_id is None and role in (Role.AGENT, Role.MANAGER):
            unit_id = self.unit()
        return self.container.admin.create_user(
            SYSTEM,
            UserData(
                username=username,
                full_name=f"Personne {username}",
                role=role.value,
                unit_id=unit_id,
                locale=locale,
            ),
            password,
        )

    def actor(self, user_id: int) -> Actor:
        user = self.container.admin.get_user(SYSTEM, user_id)
        return Actor.of(user)

    def document(self, content: bytes = b"%PDF-1.4 test", title: str = "Document") -> int:
        return self.container.documents.create(
            SYSTEM,
            DocumentData(title=title),
            IncomingFile(io.BytesIO(content), "lettre.pdf", "application/pdf", page_count=1),
        )
