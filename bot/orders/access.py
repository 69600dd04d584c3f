"""Who may do what with service orders: one table, beside the console's own
(``bot.accounts.access``). Volunteers act only on orders dispatched to them,
through the console account linked to their volunteer record."""

from __future__ import annotations

from bot.accounts.access import Actor
from bot.accounts.errors import Forbidden

ORDER_PERMISSIONS: dict[str, frozenset[str]] = {
    # review, assign, recall, cancel orders; mark help requests and questions handled
    "dispatch": frozenset({"moderator", "admin"}),
    # register volunteers and record identity checks
    "manage_volunteers": frozenset({"admin"}),
    # see the orders dispatched to oneself and act on them
    "serve": frozenset({"volunteer", "moderator", "admin"}),
}
# The state machine's actions a dispatcher takes (the others are the volunteer's).
DISPATCH_ACTIONS: frozenset[str] = frozenset({"approve", "assign", "recall", "cancel"})


def can(actor: Actor, permission: str) -> bool:
    """Whether ``actor``'s role grants ``permission`` on orders (``ORDER_PERMISSIONS``)."""
    return actor.role in ORDER_PERMISSIONS[permission]


def require_order(actor: Actor, permission: str) -> None:
    """Raise ``Forbidden`` unless ``can(actor, permission)``."""
    if not can(actor, permission):
        raise Forbidden(f"{actor.role_label}没有这项权限")
