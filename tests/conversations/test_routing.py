"""First replies a senior used to get wrong (issue 13), through the trained model
and the real action server: each test talks as a new sender and reads back what
was stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage.db import Database, sender_hash
from bot.storage.models import HandoffRequest, RumorReport, UnansweredQuestion
from tests.conversations.test_dialogue import Chat, assert_menu, stored_where
from tests.conversations.test_orders import SERVICE_PROMPT

pytestmark = pytest.mark.conversation

RECEIPT = re.compile(r"已收到，编号 R-[A-Z2-7]{8}")
WHERE_PROMPT = "您是在哪里看到或听到的"
CLAIM_PROMPT = "请说说您听到的说法"


async def stored_count(var: Path, model, sender: str) -> int:
    db = Database(f"sqlite+aiosqlite:///{var / 'kepu.db'}")
    try:
        async with db.session() as session:
            query = select(func.count()).where(model.sender_hash == sender_hash(sender))
            return (await session.execute(query)).scalar_one()
    finally:
        await db.close()


@pytest.fixture
def chat(agent) -> Chat:
    return Chat(agent)


# --- rumour questions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["听说喝醋能软化血管是真的吗", "群里都在传喝醋可以软化血管，靠不靠谱哦"]
)
async def test_a_rumour_question_with_a_debunk_gets_the_verdict_at_once(
    chat: Chat, text: str
) -> None:
    reply = await chat.say(text)
    assert "【谣言】" in reply and "来源：" in reply, reply
    assert "还想让我们核实别的说法，回复 6" in reply
    assert WHERE_PROMPT not in reply and CLAIM_PROMPT not in reply


async def test_a_claim_nobody_checked_is_offered_then_reported(
    chat: Chat, session_var: Path
) -> None:
    offer = await chat.say("听说吃了火龙果人会变成蓝色的，是真的吗")
    assert "还没有核实过" in offer and "回复 1" in offer, offer
    assert WHERE_PROMPT not in offer
    where = await chat.say("1")
    assert WHERE_PROMPT in where, where
    receipt = await chat.say("抖音上看的")
    assert RECEIPT.search(receipt), receipt
    assert await stored_where(session_var, receipt) == "short_video"


async def test_a_food_safety_question_is_answered_not_reported(chat: Chat) -> None:
    reply = await chat.say("吃了发芽的洋芋会不会中毒")
    assert "来源：" in reply and "挖了芽也不要吃" in reply, reply
    assert WHERE_PROMPT not in reply and CLAIM_PROMPT not in reply


# --- questions never become forms, checks or help requests ----------------------------


async def test_a_question_about_water_is_answered_and_not_filed(
    chat: Chat, session_var: Path
) -> None:
    reply = await chat.say("一天喝多少水合适")
    assert "来源：" in reply, reply
    assert "求助已经记下" not in reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


@pytest.mark.parametrize("text", ["志愿者上门要收钱吗", "志愿者来屋头帮忙收不收钱哦"])
async def test_a_question_about_volunteers_is_answered_not_booked(
    chat: Chat, session_var: Path, text: str
) -> None:
    reply = await chat.say(text)
    assert {"decision": "answer", "entry_id": "phone-volunteer-visit-free"} in chat.tags, reply
    assert "免费" in reply and "核验码" in reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0
    assert SERVICE_PROMPT in await chat.say("预约志愿者")  # booking is one message away


async def test_a_question_about_wild_fruit_is_not_a_message_check(chat: Chat) -> None:
    reply = await chat.say("路边捡的野果子能不能吃")
    assert "检查结果" not in reply and "复制粘贴" not in reply, reply


async def test_farming_insurance_is_answered(chat: Chat) -> None:
    reply = await chat.say("种水稻可以买农业保险不")
    assert "来源：" in reply and "保险" in reply, reply
    assert "帮不上忙" not in reply


async def test_money_lost_to_a_scam_gets_110_first(chat: Chat, session_var: Path) -> None:
    reply = await chat.say("我被人骗了两千块钱咋个办")
    numbers = [n for n in ("110", "96110", "120") if n in reply]
    assert numbers and reply.index("110") == min(reply.index(n) for n in numbers), reply
    assert "您是想问" not in reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


async def test_a_pasted_scam_is_checked_without_a_word_of_request(chat: Chat) -> None:
    reply = await chat.say(
        "【中国银行】您的账户存在风险，请点击 http://boc-safe.example.com 验证身份，逾期冻结"
    )
    assert "检查结果：高风险" in reply, reply


async def test_a_scam_told_in_words_is_judged(chat: Chat) -> None:
    reply = await chat.say("有个人打电话说我医保卡冻结了，要我按1转人工")
    assert "检查结果：" in reply or "来源：" in reply, reply
    assert "求助已经记下" not in reply


async def test_out_of_scope_is_honest_with_the_menu_and_recorded(
    chat: Chat, session_var: Path
) -> None:
    reply = await chat.say("明天梁平下不下雨")
    assert "这个我还答不上来" in reply, reply
    assert_menu(reply)
    assert await stored_count(session_var, UnansweredQuestion, chat.sender) == 1


async def test_a_question_an_entry_only_touches_is_honest_with_that_entry_one_tap_away(
    chat: Chat, session_var: Path
) -> None:
    # The entry on 微信零钱 covers too little of this question to be what it means.
    reply = await chat.say("微信钱包里的钱放着安全不")
    assert reply.startswith("这个问题我没有把握答准。已经记下来"), reply
    assert "这一条也许有用，回复数字查看：\n1. " in reply, reply
    assert "请回复数字选择" not in reply  # the menu's numbers would clash with 1
    assert await stored_count(session_var, UnansweredQuestion, chat.sender) == 1
    entry = await chat.say("1")  # the entry itself, not the menu's first item
    assert "零钱" in entry and "来源：" in entry, entry


# --- emergencies and people -----------------------------------------------------------


async def test_an_emergency_now_is_handed_off_and_recorded(chat: Chat, session_var: Path) -> None:
    reply = await chat.say("快点，我妈倒起了喊不答应")
    assert reply.lstrip().startswith("请马上拨打 120"), reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 1


async def test_a_question_about_an_emergency_is_answered_with_120_first(
    chat: Chat, session_var: Path
) -> None:
    reply = await chat.say("被蛇咬了以后要注意什么")
    assert reply.startswith("情况严重的，请马上拨打 120"), reply
    assert "蛇" in reply.split("\n", 1)[1], reply  # the snake-bite entry, or the offer of it
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


@pytest.mark.parametrize("text", ["找人帮忙", "有莫得人能到我屋头来帮我弄一哈"])
async def test_asking_for_a_person_is_recorded(chat: Chat, session_var: Path, text: str) -> None:
    reply = await chat.say(text)
    assert "求助已经记下" in reply, reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 1


async def test_asking_whether_we_are_a_person_is_answered_not_filed(
    chat: Chat, session_var: Path
) -> None:
    reply = await chat.say("你到底是机器人还是真人哦")
    assert reply.startswith("我是科普助手，是一个电脑程序，不是真人。"), reply
    assert "找人帮忙" in reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


async def test_asking_what_we_do_gets_the_menu_not_a_shrug(chat: Chat, session_var: Path) -> None:
    reply = await chat.say("你们这个公众号都能问些什么？")
    assert reply.startswith("我是科普助手"), reply
    assert_menu(reply)
    assert await stored_count(session_var, UnansweredQuestion, chat.sender) == 0


# a call to make for the user is an errand; a place's number is a fact asked for
@pytest.mark.parametrize("text", ["帮我打个电话给我儿子", "县中医院的电话是好多"])
async def test_a_call_to_make_for_the_user_is_not_filed_as_help(
    chat: Chat, session_var: Path, text: str
) -> None:
    reply = await chat.say(text)
    assert "求助已经记下" not in reply, reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


async def test_a_visit_told_in_words_is_judged_not_handed_off(
    chat: Chat, session_var: Path
) -> None:
    reply = await chat.say("昨天有两个人上门说是自来水公司的，要换水表，一家收三百")
    assert "检查结果：" in reply or "来源：" in reply, reply
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


# --- the report form ------------------------------------------------------------------


async def test_the_place_in_words_mid_form(chat: Chat, session_var: Path) -> None:
    assert CLAIM_PROMPT in await chat.say("我要举报谣言")
    where = await chat.say("说是我们镇上的自来水有毒喝不得")
    assert WHERE_PROMPT in where, where
    receipt = await chat.say("朋友圈")
    assert RECEIPT.search(receipt), receipt
    assert await stored_where(session_var, receipt) == "moments"


async def test_a_number_out_of_range_asks_again(chat: Chat, session_var: Path) -> None:
    await chat.say("举报谣言")
    where = await chat.say("说是下个月开始农村老人坐车要收钱了")
    assert WHERE_PROMPT in where, where
    again = await chat.say("9")
    assert "没有这个选项" in again and WHERE_PROMPT in again, again
    receipt = await chat.say("2")
    assert RECEIPT.search(receipt), receipt
    assert await stored_where(session_var, receipt) == "moments"


async def test_a_question_instead_of_where_keeps_the_report_and_is_answered(
    chat: Chat, session_var: Path
) -> None:
    await chat.say("举报谣言")
    assert WHERE_PROMPT in await chat.say("说是镇上的超市鸡蛋都是假的")
    reply = await chat.say("一天喝多少水合适")
    assert RECEIPT.search(reply), reply
    assert "来源：" in reply, reply  # the question answered too
    assert await stored_count(session_var, RumorReport, chat.sender) == 1


async def test_my_reports_are_looked_up_not_filed_again(chat: Chat, session_var: Path) -> None:
    assert "还没有举报过" in await chat.say("我的举报有结果了吗")
    await chat.say("举报谣言")
    await chat.say("说是镇上的超市鸡蛋都是假的")
    receipt = await chat.say("4")
    number = RECEIPT.search(receipt).group(0).split()[-1]
    status = await chat.say("我的举报有结果了吗")
    assert number in status and "排队" in status, status
    assert await stored_count(session_var, RumorReport, chat.sender) == 1


# --- no text becomes an intent ----------------------------------------------------------


@pytest.mark.parametrize("text", ["嗯/handoff", "那个 /handoff", "\u200b/handoff", "嗯嗯／restart"])
async def test_a_slash_behind_fillers_is_never_an_intent(
    chat: Chat, session_var: Path, text: str
) -> None:
    await chat.say("你好")
    await chat.say(text)
    tracker = await chat.agent.tracker_store.retrieve(chat.sender)
    parse = tracker.latest_message.parse_data
    assert len(parse.get("intent_ranking", [])) > 1  # classified, not Rasa's "/intent"
    assert not any(type(e).__name__ == "Restarted" for e in tracker.events)
    assert await stored_count(session_var, HandoffRequest, chat.sender) == 0


async def test_a_claim_only_a_guide_touches_offers_the_report_and_the_guide(
    chat: Chat, session_var: Path
) -> None:
    # The volume guide is on the subject but does not say whether the claim is
    # true: the report comes first (1), the guide is one tap away (2).
    offer = await chat.say("听说微信声音太小是手机坏了，是真的吗")
    assert "还没有核实过" in offer and "回复 1" in offer, offer
    assert "『来电铃声太小听不到怎么办』，回复 2" in offer, offer
    guide = await chat.say("2")
    assert "来源：" in guide and WHERE_PROMPT not in guide, guide
    assert await stored_count(session_var, RumorReport, chat.sender) == 0


# --- issue 13: misroutes read on the sets, in new words ------------------------------


@pytest.mark.parametrize("text", ["高压锅的阀门在哪换", "膝盖痛 爬楼梯难受"])
async def test_a_short_question_is_not_taken_for_a_greeting(chat: Chat, text: str) -> None:
    reply = await chat.say(text)
    assert "我是科普助手，可以帮您解答" not in reply, reply
    assert any(t.get("decision") for t in chat.tags), chat.tags


async def test_a_bank_notice_read_out_gets_a_verdict(chat: Chat) -> None:
    reply = await chat.say("短信上写的是您尾号1234的储蓄卡今天支出两千元，如非本人操作请致电客服")
    assert "检查结果：" in reply, reply
    assert WHERE_PROMPT not in reply and CLAIM_PROMPT not in reply
