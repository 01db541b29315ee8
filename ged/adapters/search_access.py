"""Who may see an indexed item, as ``access`` tokens: one keyword field every backend indexes.

A user's visibility becomes a short list of tokens and an item is visible when the two lists
share one, so the permission filter is one small union of posting lists on any engine. The rule
is ``ged.services.permissions``'s: named people see an item even when it is confidential; units,
agency-wide roles and task holders see it only when it is not.
"""

from __future__ import annotations

from ged.domain.search import AGENCY_UNIT, IndexedItem, Visibility


def access_tokens(item: IndexedItem) -> list[str]:
    """The ``access`` tokens of an item; ``visibility_tokens`` gives a user's, and a user sees
    the item when the two share one. Same rule as ``ged.services.permissions``: named people
    see it even confidential; units, agency-wide roles and task holders see it open only."""
    tokens = [f"p{p}" for p in item.people]
    if item.confidential:
        return tokens
    if item.kind == "mail":
        tokens += ["mopen", *(f"mu{u}" for u in item.units)]
    else:
        units = item.units or (AGENCY_UNIT,)
        tokens += ["dopen", *(f"du{u}" for u in units)]
    tokens += [f"ta{u}" for u in item.task_assignees]
    tokens += [f"tp{u}" for u in item.task_users]
    tokens += [f"tu{u}" for u in item.task_units]
    return tokens


def visibility_tokens(visibility: Visibility) -> list[str] | None:
    """A user's ``access`` tokens, or None for "everything" (no filter at all)."""
    if visibility.everything:
        return None
    units = sorted(visibility.units)
    tokens = []
    if visibility.user_id is not None:
        tokens += [f"p{visibility.user_id}", f"tp{visibility.user_id}"]
        tokens += [f"ta{u}" for u in sorted({visibility.user_id, *visibility.delegators})]
    tokens += ["mopen"] if visibility.all_open_mail else [f"mu{u}" for u in units]
    if visibility.all_open_documents:
        tokens.append("dopen")
    else:
        tokens += [f"du{u}" for u in (*units, AGENCY_UNIT)]
    tokens += [f"tu{u}" for u in units]
    return tokens
