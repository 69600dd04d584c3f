"""action_report_status: "我的举报有结果了吗" or a receipt number: where the
sender's own reports stand."""

from __future__ import annotations

from actions.report_status import ActionReportStatus
from tests.actions.support import make_tracker

CLAIM = "听说喝醋能软化血管，群里都在转"


async def reported(kit, text: str = CLAIM, sender: str = "senior-1", message_id: str = "m1") -> str:
    receipt = await kit.services.reports.submit(
        text, sender_id=sender, channel="wechat", message_id=message_id
    )
    return receipt.public_id


async def status(act, text: str = "我的举报有结果了吗", sender: str = "senior-1"):
    return await act(
        ActionReportStatus(), make_tracker(text, intent="report_status", sender=sender)
    )


async def test_no_reports_yet_says_how_to_report(act, kit) -> None:
    said = await status(act)
    assert said.texts == ["您还没有举报过说法。想让我们核实一个说法，回复 6。"]
    assert said.customs == [{"decision": "report_status"}]
    assert said.slots == {"pending_options": None}


async def test_lists_the_senders_reports_and_where_they_stand(act, kit) -> None:
    first = await reported(kit)
    await reported(kit, "别人举报的说法：吃大蒜能治癌症", sender="someone-else", message_id="m2")
    said = await status(act)
    lines = said.texts[0].split("\n")
    assert lines[0] == "您举报的说法："
    assert len(lines) == 3  # one report: the other sender's is not shown
    assert lines[1].startswith(f"1. {first}『") and lines[1].endswith(
        "：已收到，正在排队等专家核实"
    )
    assert lines[2] == "有了结论，我们会第一时间告诉您。"


async def test_a_claim_being_verified_says_so(act, kit) -> None:
    public_id = await reported(kit)
    await kit.execute("UPDATE rumor_claims SET status = 'verifying'")
    said = await status(act, f"{public_id.lower()} 怎么样了")  # a number typed in lower case
    assert said.texts[0].split("\n")[1].endswith("：专家正在核实")


async def test_a_receipt_number_of_someone_else_is_not_found(act, kit) -> None:
    public_id = await reported(kit, sender="someone-else")
    said = await status(act, f"查一下 {public_id}")
    assert said.texts[0].startswith("没有找到这个编号的举报。")


async def test_database_down_asks_to_try_later_and_changes_nothing(act, kit) -> None:
    kit.database_down()
    said = await status(act)
    assert said.texts == ["抱歉，现在查不到，请过几分钟再问一次。"]
    assert said.events == []  # what was on offer stays on offer


async def test_a_concluded_claim_tells_the_conclusion_itself(act, kit) -> None:
    await reported(kit)
    await kit.execute(
        "UPDATE rumor_claims SET status = 'concluded', verdict = 'rumor',"
        " debunk_title = '喝醋不能软化血管'"
    )
    said = await status(act)
    lines = said.texts[0].split("\n")
    assert lines[1].endswith("：已有结论：【谣言】喝醋不能软化血管")
    assert len(lines) == 2  # nothing left pending: no promise to tell later


def test_a_conclusion_without_a_title_is_the_explanations_first_sentence() -> None:
    from bot.rumors.status import conclusion_line

    explanation = "醋进入胃里就被中和了。血管不会因此变软。"
    assert conclusion_line(None, explanation) == "醋进入胃里就被中和了。"
    assert conclusion_line("", "很长" * 30).endswith("…")
    assert len(conclusion_line("", "很长" * 30)) == 40
    assert conclusion_line(None, None) == ""
