"""The one custom action of the stock assistant (bench/load.py): a text reply."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

REPLIES = {
    "greet": "您好，我是科普助手。回复“菜单”看看我能做什么。",
    "menu": "请回复数字：\n1 手机使用\n2 健康\n3 防诈骗\n4 农业\n5 举报谣言",
    "choose_option": "好的，请说说您想了解什么。",
    "ask_question": "这个问题的答案是：请按步骤操作，有疑问可以再问我。",
    "check_message": "这条消息有风险，请不要转账，不要点链接。",
    "report_rumor": "请说说您听到的说法是什么。",
    "inform": "收到，谢谢您。我们核实后会告诉您结论。",
}


class ActionStockReply(Action):
    def name(self) -> str:
        return "action_stock_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        dispatcher.utter_message(text=REPLIES.get(intent, "收到。回复“菜单”看看我能做什么。"))
        return []
