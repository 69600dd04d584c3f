"""The audit log: every change made in the console, by whom and when.

Each entry is shown as one plain Chinese sentence (``describe``). The sentences
of account actions are written here; a service whose actions need its own
vocabulary (a claim's statuses and verdicts) adds its sentences with
``add_descriptions`` when its package is imported (``bot.rumors.audit_text``),
so this module imports no service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts.access import ROLES, Actor, require
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
    "note": "内部备注",
    "reopen": "重新复核",
    "draft_add": "起草条目",
    "draft_edit": "修改草稿",
    "draft_publish": "发布条目",
    "draft_reject": "不采用草稿",
    "alert_draft": "起草提醒",
    "alert_edit": "修改提醒",
    "alert_approve": "审核提醒",
    "alert_schedule": "排期发送提醒",
    "alert_cancel": "取消提醒",
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

    @property
    def summary(self) -> str:
        """What was done, in a plain Chinese sentence."""
        return describe(self.action, self.details)


def quoted(value: Any, labels: Mapping[str, str] | None = None, empty: str = "未定") -> str:
    """``value`` in quotation marks, by its label when ``labels`` names it."""
    if value is None or value == "":
        return f"“{empty}”"
    return f"“{(labels or {}).get(str(value), str(value))}”"


def change(what: str, details: dict[str, Any], labels: Mapping[str, str], empty: str) -> str:
    """ "把<what>从“before”改为“after”" from an entry's ``before`` and ``after``."""
    before = quoted(details.get("before"), labels, empty)
    return f"把{what}从{before}改为{quoted(details.get('after'), labels, empty)}"


Describe = Callable[[dict[str, Any]], str]

_DESCRIBE: dict[str, Describe] = {
    "login": lambda d: "登录审核台",
    "user_add": lambda d: f"新建用户，角色{quoted(d.get('role'), ROLES)}",
    "user_role": lambda d: change("角色", d, ROLES, "无"),
    "user_active": lambda d: "启用账号" if d.get("active") else "停用账号",
    "user_password_reset": lambda d: f"重置密码，收回 {d.get('tokens', 0)} 个令牌",
    "password_change": lambda d: "修改了自己的密码",
    "token_create": lambda d: f"创建令牌“{d.get('token', '')}”，{d.get('days', '')} 天有效",
    "token_revoke": lambda d: f"吊销令牌“{d.get('token', '')}”",
    "draft_add": lambda d: f"起草知识条目“{d.get('title', '')}”",
    "draft_edit": lambda d: "修改知识条目草稿",
    "draft_publish": lambda d: f"发布为知识条目 {d.get('entry_id', '')}",
    "draft_reject": lambda d: "不采用这份草稿",
}


def add_descriptions(table: Mapping[str, Describe]) -> None:
    """Sentences for a service's own actions (called once, when its package loads)."""
    _DESCRIBE.update(table)


def describe(action: str, details: dict[str, Any]) -> str:
    """One plain Chinese sentence for an audit entry (no ``before=pending``)."""
    say = _DESCRIBE.get(action)
    if say is not None:
        return str(say(details))
    label = ACTION_LABELS.get(action, action)
    said = "；".join(f"{v}" for v in details.values() if v not in (None, "", [], {}))
    return f"{label}：{said}" if said else label


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


async def claim_history(db: Database, target_ids: list[int], limit: int = 50) -> list[AuditView]:
    """What was done to a claim (and the claims merged into it), newest first. For
    every console role that may see the claim: the web layer lets only staff here."""
    targets = [f"claim:{i}" for i in target_ids]
    async with db.session() as session:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.target.in_(targets))
                    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    return [AuditView(r.id, r.actor, r.action, r.target, dict(r.details or {}), r.at) for r in rows]
