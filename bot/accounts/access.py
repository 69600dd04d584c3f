"""Who may do what in the console: three roles, one table of permissions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounts.errors import Forbidden

ROLES: dict[str, str] = {
    "moderator": "审核员",
    "expert": "专家",
    "admin": "管理员",
    # A volunteer's console account: only their own service orders (bot/orders/access.py).
    "volunteer": "志愿者",
}

# triage: assign, status, merge, split; conclude: verdict, debunk text, publish.
PERMISSIONS: dict[str, frozenset[str]] = {
    "triage": frozenset({"moderator", "admin"}),
    "conclude": frozenset({"expert", "admin"}),
    # The claim page: internal notes, and reopening a published claim for review.
    "note": frozenset({"moderator", "expert", "admin"}),
    "reopen": frozenset({"moderator", "expert", "admin"}),
    "manage_users": frozenset({"admin"}),
    "read_audit": frozenset({"admin"}),
    # The claim queue and its CSV export: every staff role (not volunteers).
    "read_queue": frozenset({"moderator", "expert", "admin"}),
    # The 统计 page and /api/v1/stats: every figure (a moderator sees their own claims').
    "read_stats": frozenset({"expert", "admin"}),
    # Knowledge gaps: curators draft entries (an expert or admin publishes them).
    "draft_entry": frozenset({"moderator", "expert", "admin"}),
    # Alerts to subscribers (bot/outreach): experts and admins draft them and read their
    # figures; only an admin approves (never a draft they wrote or edited), schedules or
    # cancels, except that an expert may drop their own draft.
    "draft_alert": frozenset({"expert", "admin"}),
    "approve_alert": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Actor:
    """A signed-in console user or API token holder."""

    user_id: int
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def require(actor: Actor, permission: str) -> None:
    """Raise ``Forbidden`` unless ``actor``'s role grants ``permission``."""
    if not actor.can(permission):
        raise Forbidden(f"{actor.role_label}没有这项权限")
