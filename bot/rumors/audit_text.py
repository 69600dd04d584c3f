"""The audit log's sentences for what is done to a claim, in the claim's own
words (its statuses and verdicts). ``bot/rumors/__init__.py`` imports this
module, so the sentences are there wherever the rumour service is."""

from __future__ import annotations

from typing import Any

from bot.accounts.audit import Describe, add_descriptions, change, quoted
from bot.rumors.console import STATUSES, VERDICTS


def _claim_ref(value: Any) -> str:
    return f"#{value}"


def _debunk(d: dict[str, Any]) -> str:
    sources = "、".join(str(s) for s in d.get("sources") or []) or "未填"
    return f"保存辟谣：标题“{d.get('title', '')}”，说明 {d.get('chars', 0)} 字，来源：{sources}"


def _publish(d: dict[str, Any]) -> str:
    text = f"发布结论{quoted(d.get('verdict'), VERDICTS)}"
    if d.get("entry_id"):
        text += f"，机器人按条目 {d['entry_id']} 回答"
    return text + f"；{d.get('due', 0)} 位举报人待通知"


def _merge(d: dict[str, Any]) -> str:
    due = d.get("due") or 0
    return f"把线索 {_claim_ref(d.get('merged'))} 并入本条" + (
        f"；{due} 位举报人待通知" if due else ""
    )


def _reopen(d: dict[str, Any]) -> str:
    reason = f"，理由：{d['reason']}" if d.get("reason") else ""
    return f"把已发布的线索重新打开复核（发布后又有 {d.get('again', 0)} 次举报）{reason}"


CLAIM_ACTIONS: dict[str, Describe] = {
    "assign": lambda d: change("负责人", d, {}, "未指定"),
    "status": lambda d: change("状态", d, STATUSES, "未定"),
    "verdict": lambda d: change("结论", d, VERDICTS, "未定"),
    "debunk": _debunk,
    "publish": _publish,
    "merge": _merge,
    "merged_into": lambda d: f"并入线索 {_claim_ref(d.get('into'))}",
    "split": lambda d: (
        f"把 {len(d.get('reports') or [])} 条举报拆成新线索 {_claim_ref(d.get('new_claim'))}"
    ),
    "split_from": lambda d: f"从线索 {_claim_ref(d.get('source'))} 拆出",
    "note": lambda d: f"写了一条内部备注（{d.get('chars', 0)} 字）",
    "reopen": _reopen,
}

add_descriptions(CLAIM_ACTIONS)
