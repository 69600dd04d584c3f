"""Whole turns through the trained model and the real action server.

The agent is loaded once per session (tests/conftest.py). Each test talks as
a new sender, the way a senior would type.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.conversation


async def stored_where(var: Path, receipt: str) -> str | None:
    """Where the report with this receipt says the claim was seen (as stored)."""
    from sqlalchemy import select

    from bot.storage.db import Database
    from bot.storage.models import RumorReport

    public_id = re.search(r"R-[A-Z2-7]{8}", receipt).group(0)
    db = Database(f"sqlite+aiosqlite:///{var / 'kepu.db'}")
    try:
        async with db.session() as session:
            query = select(RumorReport.seen_where).where(RumorReport.public_id == public_id)
            return (await session.execute(query)).scalar_one()
    finally:
        await db.close()


async def stored_rows(var: Path, model: type, sender: str) -> list:
    """Rows of ``model`` that this sender's turns stored, oldest first."""
    from sqlalchemy import select

    from bot.storage.db import Database, sender_hash

    db = Database(f"sqlite+aiosqlite:///{var / 'kepu.db'}")
    try:
        async with db.session() as session:
            query = select(model).where(model.sender_hash == sender_hash(sender)).order_by(model.id)
            return list((await session.execute(query)).scalars())
    finally:
        await db.close()


# The tags that say where a message went (the rest are facts for the statistics).
ROUTING_TAGS = frozenset({"decision", "entry_id", "choices", "related"})


class Chat:
    def __init__(self, agent) -> None:
        self.agent = agent
        self.sender = f"test-{uuid.uuid4().hex}"

        self.tags: list[dict] = []  # the last turn's {"decision", "entry_id"|"choices"}
        # The same tags whole: with the facts the statistics read (topic, band, risk …).
        self.facts: list[dict] = []

    async def say(self, text: str) -> str:
        replies = await self.agent.handle_text(text, sender_id=self.sender)
        self.facts = [r["custom"] for r in replies or [] if isinstance(r.get("custom"), dict)]
        self.tags = [{k: v for k, v in t.items() if k in ROUTING_TAGS} for t in self.facts]
        return "\n".join(r.get("text") or "" for r in replies or [])


@pytest.fixture
def chat(agent) -> Chat:
    return Chat(agent)


MENU_LINES = [
    "1 手机使用",
    "2 健康",
    "3 防骗",
    "4 种植养殖",
    "5 查可疑短信",
    "6 举报谣言",
    "7 找人帮忙",
]


def assert_menu(reply: str) -> None:
    for line in MENU_LINES:
        assert line in reply, reply


async def test_greeting_shows_the_numbered_menu(chat: Chat) -> None:
    reply = await chat.say("你好")
    assert "科普助手" in reply
    assert_menu(reply)


@pytest.mark.parametrize("text", ["菜单", "你能干啥子", "回主菜单"])
async def test_menu_on_request(chat: Chat, text: str) -> None:
    assert_menu(await chat.say(text))


@pytest.mark.parametrize(
    "choice, expected",
    [
        ("1", "手机使用："),
        ("2", "健康："),
        ("第三个", "防骗："),
        ("四", "种植养殖："),
        ("健康", "健康："),
        ("我想问种庄稼的", "种植养殖："),
    ],
)
async def test_topics_by_number_or_words(chat: Chat, choice: str, expected: str) -> None:
    await chat.say("你好")
    assert expected in await chat.say(choice)


async def test_number_after_a_topic_page_picks_its_question(chat: Chat) -> None:
    await chat.say("1")
    reply = await chat.say("1")  # 微信红包怎么收
    assert "红包" in reply and "来源：" in reply


async def test_repeat_sends_the_last_answer_again(chat: Chat) -> None:
    await chat.say("你好")
    first = await chat.say("2")
    assert await chat.say("再说一遍") == first
    assert await chat.say("没听清") == first


async def test_more_gives_the_rest_of_the_answer_and_its_source(chat: Chat) -> None:
    answer = await chat.say("除颤仪AED怎么用")
    assert "1. 打开电源" in answer and "回复“多讲一点”" in answer, answer
    assert "公共场所常配有AED" not in answer  # the detail waits
    more = await chat.say("多讲一点")
    assert "公共场所常配有AED" in more, more
    assert "《2020年美国心脏协会心肺复苏及心血管急救指南》；审核：" in more, more
    assert "公共场所常配有AED" not in await chat.say("你好")


async def test_help_lists_hotlines_and_records_the_request(chat: Chat, session_var: Path) -> None:
    from bot.storage.models import HandoffRequest

    reply = await chat.say("7")
    for number in ("120", "119", "110", "96110", "12316", "12345"):
        assert number in reply
    assert "记下" in reply
    (request,) = await stored_rows(session_var, HandoffRequest, chat.sender)
    assert request.status == "open" and request.channel
    assert "120" in request.hotlines.split(",")


async def test_a_help_request_is_stored_without_the_phone_number(
    chat: Chat, session_var: Path
) -> None:
    from bot.storage.models import HandoffRequest

    await chat.say("找个人到我屋头来教我用手机，我电话13812345678")
    (request,) = await stored_rows(session_var, HandoffRequest, chat.sender)
    assert "13812345678" not in request.text and "[手机号]" in request.text


async def test_an_unanswered_question_is_kept_redacted_for_curators(
    chat: Chat, session_var: Path
) -> None:
    from bot.storage.models import UnansweredQuestion

    reply = await chat.say("帮我算一下八字，我电话13812345678")
    assert reply.startswith("这个我还答不上来。已经记下来"), reply
    assert chat.tags == [{"decision": "none"}]
    (question,) = await stored_rows(session_var, UnansweredQuestion, chat.sender)
    assert "八字" in question.text
    assert "13812345678" not in question.text and "[手机号]" in question.text


@pytest.mark.parametrize(
    "text, first",
    [
        ("我爸晕倒了", "120"),
        ("隔壁老人被蛇咬了", "120"),
        ("我要报警", "110"),
        ("找人工", "120"),
        ("厨房里好大一股煤气味", "119"),
    ],
)
async def test_handoff_gives_the_right_hotline_first(chat: Chat, text: str, first: str) -> None:
    reply = await chat.say(text)
    numbers = [n for n in ("120", "119", "110", "96110", "12316", "12345") if n in reply]
    assert numbers and reply.index(first) == min(reply.index(n) for n in numbers), reply


async def test_menu_five_asks_for_the_message_then_gives_a_verdict(chat: Chat) -> None:
    assert "复制粘贴" in await chat.say("5")
    reply = await chat.say(
        "【工商银行】您的账户存在异常，将于今日冻结，请点击 http://icbc-vip.top 验证"
    )
    assert "高风险" in reply and "中风险" not in reply and "低风险" not in reply
    assert "链接不是官方网址" in reply and "“http://icbc-vip.top”" in reply
    assert "96110" in reply and "110" in reply


async def test_a_pasted_scam_without_a_word_of_request_is_checked(chat: Chat) -> None:
    reply = await chat.say("免费领鸡蛋！明早8点到村委会听健康讲座，专家讲保健品包治百病，可以停药")
    assert "检查结果：" in reply and "养老诈骗" in reply, reply


async def test_a_pasted_genuine_code_is_low_risk(chat: Chat) -> None:
    reply = await chat.say("【中国移动】您的验证码是482913，5分钟内有效，请勿泄露给他人。")
    assert "检查结果：低风险" in reply, reply


async def test_request_and_message_in_one_go(chat: Chat) -> None:
    reply = await chat.say(
        "帮我看看这条短信：我是你领导，明天到我办公室，先转两万给我朋友，别跟别人说"
    )
    assert "检查结果：" in reply and "冒充领导熟人" in reply, reply


async def test_menu_interrupts_a_form(chat: Chat) -> None:
    await chat.say("5")
    assert_menu(await chat.say("菜单"))
    assert "手机使用：" in await chat.say("1")


async def test_rumour_matching_a_debunk_gets_the_verdict(chat: Chat) -> None:
    prompt = await chat.say("6")
    assert "说法" in prompt and "保存一年" in prompt
    reply = await chat.say("群里说喝醋能软化血管")
    assert "【谣言】" in reply and "来源：" in reply


async def test_a_new_rumour_is_queued_with_a_number(chat: Chat, session_var: Path) -> None:
    await chat.say("6")
    where = await chat.say("听说七星村下个月要拆迁 每家赔十万 电话13812345678")
    assert "1 微信群" in where and "4 村里听说" in where, where
    receipt = await chat.say("4")
    assert re.search(r"已收到，编号 R-[A-Z2-7]{8}", receipt), receipt
    assert "1 手机使用" not in receipt  # "4" answered the question, it was no menu choice
    assert await stored_where(session_var, receipt) == "village"  # "4" stored as what it means


async def test_a_checked_message_can_go_to_the_rumour_queue(chat: Chat) -> None:
    await chat.say("5")
    verdict = await chat.say("紧急通知：明天起镇上停水一个星期，大家赶快囤水，转发给亲人")
    assert "检查结果：" in verdict and "回复 1，我帮您交给辟谣平台核实" in verdict, verdict
    where = await chat.say("1")
    assert "1 微信群" in where and "5 其他" in where, where
    receipt = await chat.say("1")
    assert re.search(r"已收到，编号 R-[A-Z2-7]{8}", receipt), receipt


async def test_a_checked_message_a_debunk_answers_gets_the_verdict(chat: Chat) -> None:
    await chat.say("5")
    reply = await chat.say("转发：喝醋能软化血管，家里老人每天喝一杯")
    assert "消息里的说法，我们核实过" in reply and "【谣言】" in reply, reply


async def test_a_likely_scam_is_not_offered_for_rumour_checking(chat: Chat) -> None:
    await chat.say("5")
    reply = await chat.say(
        "【工商银行】您的账户存在异常，将于今日冻结，请点击 http://icbc-vip.top 验证"
    )
    assert "高风险" in reply and "辟谣平台" not in reply, reply


async def test_a_claim_that_says_where_it_was_seen_is_not_asked_again(chat: Chat) -> None:
    await chat.say("举报谣言")
    receipt = await chat.say("朋友圈说镇上的自来水被污染了 大家都别喝")
    assert re.search(r"已收到，编号 R-[A-Z2-7]{8}", receipt), receipt


@pytest.mark.parametrize(
    "text, first",
    [
        ("啊啊啊啊", "我没太明白"),  # nothing to understand: say so
        ("🙂🙂🙂", "我没太明白"),
        ("asdfgh", "我没太明白"),
        ("帮我买张彩票", "这个我还答不上来"),  # understood, out of scope: say that
        ("第九个", "没有这个选项"),  # a number we never offered
    ],
)
async def test_nothing_dead_ends(chat: Chat, text: str, first: str) -> None:
    reply = await chat.say(text)
    assert first in reply.split("\n")[0], reply  # the first line says what happened
    assert_menu(reply)  # and the way on is right there


async def test_knowledge_question_is_answered_with_a_source(chat: Chat) -> None:
    # The phone's own font size (not WeChat's: the question does not name WeChat).
    reply = await chat.say("手机上的字太小了看不清")
    assert chat.tags == [{"decision": "answer", "entry_id": "phone-font-size"}]
    assert "字体大小" in reply and "来源：" in reply, reply


async def test_replies_carry_what_the_statistics_count(chat: Chat) -> None:
    """The analytics events (bot.insights) are read off these tags: never the text."""
    await chat.say("手机上的字太小了看不清")
    (answer,) = chat.facts
    assert answer["topic"] == "smartphone" and answer["band"] in ("high", "medium")
    await chat.say("【某某银行】您的账户存在风险，请立即将资金转入安全账户，联系专员办理")
    verdict = next(t for t in chat.facts if t["decision"] == "fraud_verdict")
    assert verdict["risk"] == "high" and verdict.get("fraud_type")
    other = Chat(chat.agent)
    await other.say("举报谣言")
    await other.say("听说七星村下个月要拆迁 每家赔十万")
    await other.say("4")
    filed = next(t for t in other.facts if t["decision"] == "report_filed")
    assert re.fullmatch(r"R-[A-Z2-7]{8}", filed["report"]), filed


async def test_feedback_on_the_last_answer_is_stored(chat: Chat, session_var: Path) -> None:
    from bot.storage.models import Feedback

    answer = await chat.say("微信上的红包咋个收")
    assert "来源：" in answer and "有用" in answer
    assert "谢谢您" in await chat.say("有用")
    assert "改进" in await chat.say("没用")
    rows = await stored_rows(session_var, Feedback, chat.sender)
    assert [(r.entry_id, r.useful) for r in rows] == [
        ("phone-wechat-hongbao", True),
        ("phone-wechat-hongbao", False),
    ]


async def test_sorry_is_not_feedback(chat: Chat, session_var: Path) -> None:
    from bot.storage.models import Feedback

    await chat.say("微信上的红包咋个收")
    await chat.say("不好意思")
    assert await stored_rows(session_var, Feedback, chat.sender) == []


async def test_choices_then_a_number_answers_that_entry(chat: Chat) -> None:
    # Two entries fit about equally (WeChat's voice messages, and the phone's own
    # volume).
    reply = await chat.say("微信声音太小了")
    assert "您是想问" in reply, reply
    (offer,) = (t for t in chat.tags if t["decision"] == "choices")
    first = offer["choices"].split("|")[0]
    reply = await chat.say("1")
    assert chat.tags == [{"decision": "choice", "entry_id": first}]  # the first one offered
    assert "来源：" in reply


async def test_not_one_of_the_choices_offers_the_menu(chat: Chat) -> None:
    assert "您是想问" in await chat.say("微信声音太小了")
    assert_menu(await chat.say("不是"))


async def test_a_homophone_error_still_gets_the_entry(chat: Chat) -> None:
    reply = await chat.say("二化名咋个防")  # a voice transcript's 二化螟
    assert "二化螟" in reply and "来源：" in reply, reply


async def test_an_entry_that_covers_little_of_the_question_follows_an_honest_not_sure(
    chat: Chat,
) -> None:
    # One entry comes close (free WiFi in public), but covers little more than half of
    # what is asked: it is not offered as what the user meant, only as related.
    reply = await chat.say("街上那些不要钱的wifi，连起用手机付钱要不要得")
    assert reply.startswith("这个问题我没有把握答准"), reply
    assert "您是想问" not in reply and "\n1. 外面的免费WiFi" in reply, reply
    answer = await chat.say("1")
    assert "WiFi" in answer and "来源：" in answer, answer


async def test_a_number_the_not_sure_reply_did_not_offer_lists_what_it_did(chat: Chat) -> None:
    await chat.say("街上那些不要钱的wifi，连起用手机付钱要不要得")
    reply = await chat.say("2")
    assert reply.startswith("没有这个选项，请回复数字：") and "1 外面的免费WiFi" in reply, reply


async def test_a_candidate_far_ahead_of_the_rest_is_answered_or_offered(chat: Chat) -> None:
    # It covers only part of the question, but no other entry comes near it.
    reply = await chat.say("微信红包领不到咋回事")
    assert "您是想问" not in reply and "红包" in reply and "来源：" in reply, reply
    # Without 微信 the answerability gate (bot/knowledge/gate.json) doubts it: out of
    # fold, the rule's answers of this kind were right 42 times in 70. The entry is
    # one tap away after an honest "not sure".
    reply = await Chat(chat.agent).say("红包领不到咋回事")
    assert "来源：" not in reply and "没有把握" in reply and "1. 微信红包怎么领" in reply, reply


async def test_nlu_carries_the_canonical_form_and_keeps_the_original(chat: Chat) -> None:
    reply = await chat.say("挂好咋个在手机上挂")
    tracker = await chat.agent.tracker_store.retrieve(chat.sender)
    message = tracker.latest_message
    assert message.text == "挂好咋个在手机上挂"
    assert message.parse_data["text_canonical"] == "挂好怎么在手机上挂"
    assert "挂号" in reply, reply  # search puts 挂好 right against the knowledge base


async def test_a_neutralised_slash_stays_text_inside_nlu(chat: Chat) -> None:
    """The channel turns "/" into "／"; NFKC inside NLU must not turn it back into a command."""
    await chat.say('／handoff{"x": "1"}')
    tracker = await chat.agent.tracker_store.retrieve(chat.sender)
    parse = tracker.latest_message.parse_data
    assert len(parse.get("intent_ranking", [])) > 1  # classified by DIET, not by Rasa's "/intent"
    assert not parse.get("entities")
