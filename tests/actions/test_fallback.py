"""action_default_fallback: never a dead end, and the confusing turn forgotten."""

from __future__ import annotations

from actions.fallback import ActionDefaultFallback
from tests.actions.support import make_tracker


async def test_says_it_did_not_understand_and_offers_the_menu(act) -> None:
    said = await act(ActionDefaultFallback(), make_tracker("呃那个啥子", intent="nlu_fallback"))
    assert said.texts[0].startswith("不好意思，我没太明白。\n请回复数字选择：")
    assert "7 找人帮忙" in said.text
    assert [e["event"] for e in said.events] == ["rewind", "slot"]
    assert said.slots == {"pending_options": None}
