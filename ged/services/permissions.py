"""Who may see what (DESIGN.md, "Security model"), as SQL conditions applied inside queries.

Lists, pages, files, counts, exports, search and the API all filter with these same clauses:
a row the user may not see is never loaded, so it cannot leak through a count or a link.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from ged.adapters.orm import (
    Delegation,
    Document,
    Mail,
    MailDocument,
    MailPerson,
    MailUnit,
    Task,
    Unit,
)
from ged.clock import today_in
from ged.domain.model import Role
from ged.domain.search import Visibility
from ged.services.audit import Actor

# Roles that see every non-confidential mail: the bureau d'ordre registers it all.
AGENCY_WIDE = (Role.ADMIN, Role.REGISTRAR)


def unit_subtree(session: Session, unit_id: int | None) -> set[int]:
    """The unit and all units below it."""
    if unit_id is None:
        return set()
    children: dict[int | None, list[int]] = {}
    for uid, parent in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent, []).append(uid)
    found: set[int] = set()
    todo = [unit_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, []))
    return found


def can_write_registry(actor: Actor) -> bool:
    return actor.user_id is None or actor.role in AGENCY_WIDE


def task_holders(actor: Actor, units: set[int], today: dt.date) -> ColumnElement[bool]:
    """Condition on ``Task`` rows the actor holds or held: theirs, their pool's, a delegator's.

    Held means given to them (by name or as their delegate), done by them, or in the pool of
    their unit (or a unit below it). ``today``: the agency's day, which delegations count in.
    """
    # A subquery, not a list read first: the permission stays one statement.
    delegators = select(Delegation.from_user_id).where(
        Delegation.to_user_id == actor.user_id,
        Delegation.starts_on <= today,
        Delegation.ends_on >= today,
        Delegation.ended_at.is_(None),
    )
    held = [
        Task.assignee_id == actor.user_id,
        Task.candidate_user_id == actor.user_id,
        Task.completed_by_id == actor.user_id,
        Task.assignee_id.in_(delegators),
    ]
    if units:
        held.append(Task.candidate_unit_id.in_(units))
    return or_(*held)


def visible_mail(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Condition on ``Mail`` rows this actor may see."""
    if actor.user_id is None or actor.role is Role.AUDITOR:
        return true()
    named = exists(
        select(MailPerson.mail_id).where(
            MailPerson.mail_id == Mail.id, MailPerson.user_id == actor.user_id
        )
    )
    mine = or_(named, Mail.registered_by_id == actor.user_id)
    if actor.role in AGENCY_WIDE:
        return or_(Mail.confidential.is_(False), mine)
    units = unit_subtree(session, actor.unit_id)
    # Holding a task opens non-confidential mail only: confidential mail is seen by name alone
    # (name the people its circuit goes through on the mail).
    held = exists(
        select(Task.id).where(
            Task.mail_id == Mail.id, task_holders(actor, units, today_in(session))
        )
    )
    if not units:
        return or_(and_(Mail.confidential.is_(False), held), mine)
    addressed = exists(
        select(MailUnit.mail_id).where(MailUnit.mail_id == Mail.id, MailUnit.unit_id.in_(units))
    )
    return or_(and_(Mail.confidential.is_(False), or_(addressed, held)), mine)


def visible_document(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Condition on ``Document`` rows: a mail's files follow the mail, the library its unit."""
    if actor.user_id is None or actor.role is Role.AUDITOR:
        return true()
    in_visible_mail = exists(
        select(MailDocument.document_id)
        .join(Mail, Mail.id == MailDocument.mail_id)
        .where(MailDocument.document_id == Document.id, visible_mail(session, actor))
    )
    not_in_mail = ~exists(
        select(MailDocument.document_id).where(MailDocument.document_id == Document.id)
    )
    mine = Document.created_by_id == actor.user_id
    if actor.role is Role.ADMIN:
        library: ColumnElement[bool] = or_(Document.confidential.is_(False), mine)
    else:
        units = unit_subtree(session, actor.unit_id)
        shared = (
            or_(Document.unit_id.is_(None), Document.unit_id.in_(units))
            if units
            else Document.unit_id.is_(None)
        )
        # A reviewer from another unit sees the document submitted to them for approval.
        held = exists(
            select(Task.id).where(
                Task.document_id == Document.id, task_holders(actor, units, today_in(session))
            )
        )
        library = or_(and_(Document.confidential.is_(False), or_(shared, held)), mine)
    return or_(in_visible_mail, and_(not_in_mail, library))


def search_visibility(session: Session, actor: Actor) -> Visibility:
    """The same rule as ``visible_mail``/``visible_document``, in the search port's terms.

    Task holders are indexed with each item; only the delegations, which change by the day,
    are read here.
    """
    if actor.user_id is None or actor.role is Role.AUDITOR:
        return Visibility(everything=True, user_id=actor.user_id)
    today = today_in(session)
    delegators = session.execute(
        select(Delegation.from_user_id).where(
            Delegation.to_user_id == actor.user_id,
            Delegation.starts_on <= today,
            Delegation.ends_on >= today,
            Delegation.ended_at.is_(None),
        )
    ).scalars()
    return Visibility(
        all_open_mail=actor.role in AGENCY_WIDE,
        all_open_documents=actor.role is Role.ADMIN,
        units=frozenset(unit_subtree(session, actor.unit_id)),
        user_id=actor.user_id,
        delegators=frozenset(delegators),
    )
