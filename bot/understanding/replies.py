"""What the assistant says for each move of the understanding step.

Plain, short Simplified Chinese; the numbers first where a person can help.
"""

from __future__ import annotations

from bot.handoff.hotlines import Hotline

DEBUNK_INTRO = "这个说法我们核实过："
DEBUNK_FOLLOW_UP = "还想让我们核实别的说法，回复 6。"
AFTERMATH_FIRST = (
    "如果已经转了钱、说了验证码，请马上拨打 110 报警，"
    "同时打银行客服电话，要求止付、冻结。拿不准的，打 96110 问。"
)
URGENT_FIRST = "情况严重的，请马上拨打 120（急救电话）。"
REPORT_OFFER_TEXT = (
    "这个说法我们还没有核实过，先别转发。\n" "回复 1，我帮您交给辟谣平台核实，有了结论会告诉您。"
)
UNANSWERED = "这个我还答不上来。"
# No entry answers the question well enough, though some are on its subject.
UNSURE = "这个问题我没有把握答准。"
UNANSWERED_RECORDED = "已经记下来，请专家补充。"
NOT_UNDERSTOOD = "不好意思，我没太明白您的意思。"
# "你是机器人还是真人": who answers, and how to reach a person.
ABOUT_US_REPLY = (
    "我是科普助手，是一个电脑程序，不是真人。"
    "手机使用、健康、防骗、种植养殖的问题都可以问我，也可以把可疑短信发给我看看。\n"
    "想找工作人员，请回复“找人帮忙”。"
)
# "你们这个公众号都能问些什么": what we do, then the menu that does it.
ABOUT_SERVICE_INTRO = (
    "我是科普助手，是区里的科普服务。问问题不收钱。"
    "手机使用、健康、防骗、种植养殖都可以问，也能帮您看可疑短信、核实谣言、找人帮忙。"
)
RELATED_MENU_LINE = "都不是的话，可以换个说法再问，或者回复“菜单”。"


def hotline_line(hotline: Hotline) -> str:
    return f"您可以拨打 {hotline.number}（{hotline.name}）问问：{hotline.when}。"
