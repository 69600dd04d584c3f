"""The audit log: every change made in the console, by whom and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rumors.access import Actor, require
from bot.storage.db import Database
from bot.storage.models import AuditEntry, utcnow

ACTION_LABELS: dict[str, str] = {
    "assign": "指定负责人",
    "status": "改状态",
    "merge": "合并",
    "merged_into": "被合并",
    "split": "拆分",
    "split_from": "拆分新建",
    "verdict": "定结论",
    "debunk": "写辟谣",
    "publish": "发布",
    "queue_export": "导出线索队列",
    "draft_add": "起草条目",
    "draft_edit": "修改草稿",
    "draft_publish": "发布条目",
    "draft_reject": "不采用草稿",
    "login": "登录",
    "user_add": "新建用户",
    "user_role": "改角色",
    "user_active": "启用/停用",
    "user_password_reset": "重置密码",
    "password_change": "修改密码",
    "token_create": "创建令牌",
    "token_revoke": "吊销令牌",
}


@dataclass(frozen=True)
class AuditView:
    id: int
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    at: datetime

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def record(session: AsyncSession, actor: str, action: str, target: str, **details: Any) -> None:
    """Add an audit entry to the caller's transaction (written with the change or not at all)."""
    session.add(AuditEntry(actor=actor, action=action, target=target, details=details, at=utcnow()))


async def audit_log(
    db: Database, actor: Actor, *, target: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[AuditView], int]:
    """Newest entries first, and how many there are in all."""
    require(actor, "read_audit")
    where = [AuditEntry.target == target] if target else []
    async with db.session() as session:
        total = (
            await session.execute(select(func.count(AuditEntry.id)).where(*where))
        ).scalar_one()
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(*where)
                    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            )
            .scalars()
            .all()
        )
    return [
        AuditView(r.id, r.actor, r.action, r.target, dict(r.details or {}), r.at) for r in rows
    ], total
