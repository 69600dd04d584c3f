"""The audit log's sentences for what is done to an alert. ``bot/outreach/__init__.py``
imports this module, so the sentences are there wherever the outreach code is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.accounts.audit import Describe, add_descriptions
from bot.outreach.commands import CROPS, FARM, KIND_NAMES
from bot.storage.models import CHINA_TIME


def _kind(d: dict[str, Any]) -> str:
    name = KIND_NAMES.get(str(d.get("kind", "")), str(d.get("kind", "")))
    if d.get("kind") == FARM and d.get("crop"):
        name += f"（{CROPS.get(str(d['crop']), str(d['crop']))}）"
    return name


def _when(d: dict[str, Any]) -> str:
    try:
        at = datetime.fromisoformat(str(d.get("send_at", "")))
    except ValueError:
        return "尽快"
    return at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


ALERT_ACTIONS: dict[str, Describe] = {
    "alert_draft": lambda d: f"起草{_kind(d)}",
    "alert_edit": lambda d: "修改提醒草稿",
    "alert_approve": lambda d: "审核通过这条提醒",
    "alert_schedule": lambda d: f"排期：北京时间 {_when(d)} 起发送",
    "alert_cancel": lambda d: "取消这条提醒（没发出的不再发）",
}

add_descriptions(ALERT_ACTIONS)
