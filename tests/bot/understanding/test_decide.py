"""The understanding step on the real knowledge base and fraud checker (no Rasa)."""

from __future__ import annotations

import pytest

from bot.fraud.checker import default_checker
from bot.knowledge.dense import DenseEncoder
from bot.knowledge.service import KnowledgeService
from bot.settings import PROJECT_ROOT
from bot.understanding.decide import Understanding, hotline_for
from tests.conftest import SHARED_CACHE


@pytest.fixture(scope="module")
async def understanding() -> Understanding:
    knowledge = KnowledgeService(
        PROJECT_ROOT / "knowledge", DenseEncoder(SHARED_CACHE / "kb_vectors.npz")
    )
    await knowledge.refresh(force=True)
    return Understanding(knowledge, default_checker())


async def test_a_rumour_question_with_a_debunk_gets_the_debunk(understanding) -> None:
    decision = await understanding.decide("听说喝醋能软化血管是真的吗")
    assert decision.kind == "debunk"
    assert decision.entry is not None and decision.entry.id == "rumor-vinegar-vessels"


async def test_a_food_safety_question_is_answered(understanding) -> None:
    decision = await understanding.decide("吃了发芽的洋芋会不会中毒")
    assert decision.kind in ("answer", "debunk")
    assert decision.entry is not None and "potato" in decision.entry.id


async def test_a_question_about_water_is_answered_not_handed_off(understanding) -> None:
    decision = await understanding.decide("一天喝多少水合适")
    assert decision.kind == "answer"
    assert decision.entry is not None and decision.entry.id == "health-drink-water"


async def test_farming_insurance_is_answered(understanding) -> None:
    decision = await understanding.decide("种水稻可以买农业保险不")
    assert decision.entry is not None and decision.entry.id == "farm-agri-insurance"


async def test_money_already_lost_puts_110_first(understanding) -> None:
    decision = await understanding.decide("我被人骗了两千块钱咋个办")
    assert decision.kind == "fraud_aftermath"
    assert decision.entry is not None and decision.entry.topic == "fraud"


async def test_how_not_to_be_scammed_is_a_question(understanding) -> None:
    decision = await understanding.decide("老年人怎么防止被骗")
    assert decision.kind != "fraud_aftermath"


async def test_a_pasted_scam_gets_a_high_risk_verdict(understanding) -> None:
    text = "【中国银行】您的账户存在风险，请点击 http://boc-safe.example.com 验证身份，逾期冻结"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_verdict"
    assert decision.verdict is not None and decision.verdict.risk == "high"


async def test_a_described_call_is_judged(understanding) -> None:
    decision = await understanding.decide("有个人打电话说我医保卡冻结了，要我按1转人工")
    assert decision.verdict is not None and decision.verdict.risk != "low"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        # told without a question word, naming an app the entry does not name
        (
            "有个说是淘宝客服的打电话讲我买的东西有问题要退钱给我 喊我加他QQ",
            "fraud-maochong-dianshang-kefu",
        ),
        (
            "下午有个人打电话说是电信局的 讲我话费要升级 要我把手机上的验证码报给他",
            "fraud-yanzhengma-bugei",
        ),
    ],
)
async def test_a_described_call_gets_the_verdict_and_the_entry_on_that_scam(
    understanding, text: str, entry_id: str
) -> None:
    decision = await understanding.decide(text)
    assert decision.verdict is not None and decision.verdict.risk == "high"
    assert decision.entry is not None and decision.entry.id == entry_id


async def test_a_message_retold_gets_the_verdict_and_the_entry_on_that_scam(understanding) -> None:
    # a text message told in the user's words, long enough to be judged as a message
    decision = await understanding.decide("收到条短信说我中了大奖，要先交税才领得到")
    assert decision.verdict is not None and decision.verdict.risk == "high"
    assert decision.entry is not None and decision.entry.id == "fraud-zhongjiang-xianjiaofei"


async def test_a_claim_nobody_has_checked_is_offered_to_the_rumour_desk(understanding) -> None:
    decision = await understanding.decide("听说吃了火龙果人会变成蓝色的，是真的吗")
    assert decision.kind == "report_offer"


async def test_out_of_scope_is_not_answered(understanding) -> None:
    decision = await understanding.decide("明天梁平下不下雨")
    assert decision.kind == "none"
    assert decision.entry is None


async def test_an_emergency_comes_first(understanding) -> None:
    decision = await understanding.decide("我爸晕倒了，喊不醒")
    assert decision.kind == "emergency"
    assert decision.hotline is not None and decision.hotline.number == "120"


async def test_asked_for_a_message_a_plain_text_is_rated(understanding) -> None:
    decision = await understanding.decide("明天上午九点村委会开会，请准时参加", expect_message=True)
    assert decision.kind == "fraud_verdict"


async def test_the_log_line_keeps_scores_not_text(understanding) -> None:
    decision = await understanding.decide("听说喝醋能软化血管是真的吗")
    line = decision.log_line()
    assert "decision=debunk" in line and "entry=rumor-vinegar-vessels" in line
    assert "醋" not in line


@pytest.mark.parametrize(
    "text, number",
    [("养老金认证在哪里弄", "12345"), ("我家猪儿不吃食", "12316"), ("这个月的彩票号码", None)],
)
def test_the_hotline_for_what_we_cannot_answer(text: str, number: str | None) -> None:
    hotline = hotline_for(text)
    assert (hotline.number if hotline else None) == number


@pytest.mark.parametrize(
    "text",
    [
        "我搞不懂，有没有哪个可以打电话问",
        "兽医的电话有没得，猪儿病了",
        "能不能叫个医生给我打个电话",
    ],
)
async def test_asking_for_someone_to_call_is_a_hand_off(understanding, text: str) -> None:
    assert (await understanding.decide(text)).kind == "handoff"


async def test_a_call_received_is_not_a_request_for_a_person(understanding) -> None:
    decision = await understanding.decide("有人打电话说我医保卡冻结了，要我按1转人工")
    assert decision.kind != "handoff"


async def test_a_topic_page_question_typed_in_words_gets_the_same_entry(understanding) -> None:
    from bot.menu.pages import TOPICS

    for topic in TOPICS.values():
        for question, entry_id in topic.examples:
            decision = await understanding.decide(question)
            assert decision.entry is not None and decision.entry.id == entry_id, question


async def test_a_claim_that_only_a_guide_touches_goes_to_the_rumour_desk(understanding) -> None:
    # The uninstall guide is on the subject but says nothing of the claim: it may be
    # offered beside the report (when it scores like an entry worth offering), never
    # instead of it.
    decision = await understanding.decide("听说把微信卸载了再装回来，里面的零钱就没了，是真的吗")
    assert decision.kind == "report_offer"
    assert {h.entry.id for h in decision.hits} <= {"phone-uninstall-app"}


async def test_a_claim_close_to_a_debunk_is_answered_by_it(understanding) -> None:
    decision = await understanding.decide("有人说吃素的人就不会得三高，靠得住不")
    assert decision.kind == "debunk"
    assert decision.entry is not None and decision.entry.id == "rumor-vegetarian-lipids"


async def test_a_claim_about_being_robbed_is_not_a_loss(understanding) -> None:
    # "被盗刷" in a claim someone heard: nothing was lost, no 110-first reply.
    decision = await understanding.decide("人家说手机开了定位就会被骗子盯上，是不是真的")
    assert decision.kind == "report_offer"
    decision = await understanding.decide("有人说接个陌生电话银行卡就会被盗刷，是不是真的")
    assert decision.kind != "fraud_aftermath"


async def test_a_phone_that_lags_is_not_a_card(understanding) -> None:
    decision = await understanding.decide("手机很卡，有啥子办法")
    assert decision.hits and decision.hits[0].entry.id == "phone-storage-cleanup"


@pytest.mark.parametrize(
    "text",
    [
        # a loan app's bill and a patient's story read "scam-like" to the
        # classifier (中风险), but nobody forwarded them: they are questions
        "我设置付款顺序为银行卡优先，那花呗自动扣款的时候是扣余额宝还是银行卡",
        "我是个中年男性，最近有痛风的毛病，身体里面还长了一颗很大的结石，现在要去做手术了",
        # a question about one's own illness is no claim to check
        "癫痫能治好吗",
        "激素性依赖皮炎要长期治疗吗",
    ],
)
async def test_questions_from_public_forums_stay_questions(understanding, text: str) -> None:
    decision = await understanding.decide(text)
    assert decision.kind in ("answer", "choices", "none"), decision.log_line()


async def test_a_claim_told_without_hearsay_is_offered_for_checking(understanding) -> None:
    decision = await understanding.decide("手机放枕头边睡觉辐射会得脑瘤")
    assert decision.kind in ("report_offer", "debunk", "choices"), decision.log_line()


async def test_a_message_a_friend_forwarded_is_checked(understanding) -> None:
    text = "朋友发过来说他的微信被限制了需要好友辅助验证叫我帮他验证一下"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_verdict", decision.log_line()


async def test_a_question_about_another_app_is_not_answered_with_wechat(understanding) -> None:
    decision = await understanding.decide("支付宝怎么绑银行卡")
    served = [decision.entry] if decision.entry else [h.entry for h in decision.hits]
    assert decision.kind != "answer" or "alipay" in decision.entry.id
    assert all(e.id != "phone-wechat-bind-card" for e in served if decision.kind == "choices")


async def test_a_told_call_from_an_app_is_checked_not_reported(understanding) -> None:
    # "抖音客服，说…" (a comma between) is a call told, not "抖音上说" hearsay.
    text = "一个女的打电话来说是抖音客服，说我开了啥子会员每个月要扣钱，喊我跟到她关"
    decision = await understanding.decide(text)
    assert decision.kind in ("fraud_verdict", "answer"), decision.log_line()
    assert decision.kind != "answer" or decision.entry.topic == "fraud"


@pytest.mark.parametrize(
    "text",
    [
        # someone's hearsay that is really a retold scam: a download and a top-up asked for
        "群里有个人说关注他的直播间每天领五块钱红包，后来叫我下个软件先充三百才能提现",
        # a pasted message written to the reader, a question inside it
        "舅，我是你外甥小军，我在昆明出了点事情急需一万五，这个是我的新号码，你能不能先打给我？过两天就还你，莫跟我妈说哈",
        # a call told in words, a question at the end
        "刚才有个男的打电话说他是公安局的，说我的银行卡涉嫌洗钱，要我把钱全部转到他说的安全账户，这个是不是真的哦",
    ],
)
async def test_a_scam_told_retold_or_pasted_gets_its_verdict(understanding, text: str) -> None:
    decision = await understanding.decide(text)
    if decision.kind == "answer":  # the entry on that kind of scam is as good
        assert decision.entry is not None and decision.entry.topic == "fraud", decision.log_line()
    else:
        assert decision.kind == "fraud_verdict", decision.log_line()
        assert decision.verdict is not None and decision.verdict.risk == "high"


async def test_ones_own_long_health_question_is_no_scam(understanding) -> None:
    # cure words and a drug story read "scam-like", but the user asks about an illness
    text = (
        "我妈糖尿病十几年了，一直在吃二甲双胍，最近村里人都说有种中药能根治糖尿病，"
        "糖尿病到底能不能治好呢？"
    )
    decision = await understanding.decide(text)
    assert decision.kind != "fraud_verdict", decision.log_line()


async def test_a_phone_with_a_virus_is_no_poisoning(understanding) -> None:
    text = "有个人打电话说我手机中毒了，要我装个软件让他远程帮我杀毒"
    decision = await understanding.decide(text)
    assert decision.kind not in ("emergency", "handoff"), decision.log_line()
    assert not decision.urgent


async def test_a_job_offer_by_phone_is_judged_not_handed_off(understanding) -> None:
    text = "有个人打电话问我想不想在屋头做兼职，给网店点赞一天挣两百，要先交钱注册"
    decision = await understanding.decide(text)
    assert decision.kind in ("fraud_verdict", "answer"), decision.log_line()
    assert decision.kind != "answer" or decision.entry.topic == "fraud"


@pytest.mark.parametrize(
    "text",
    [
        "能不能派个志愿者来我屋头教我弄手机",
        "麻烦帮我查一下镇上司法所的电话",
        "哪个能过来帮我看下这头猪，倒在圈里起不来了",
        "喊那个村上的兽医来看一下我的羊嘛",
        "我外公早上出去到现在没回来，人不见了",
        "民政办电话多少",
        # talking to one of us
        "我想跟工作人员说话",
        "给我转那个工作人员",
        "我想找个志愿者教我用手机",
        "我不会打字，可以打电话给你们吗",
        "能不能和你们的人通个话",
    ],
)
async def test_asking_for_a_person_is_a_hand_off_in_new_words(understanding, text: str) -> None:
    decision = await understanding.decide(text)
    assert decision.kind in ("handoff", "emergency"), decision.log_line()


@pytest.mark.parametrize("text", ["你们这个公众号都能问些什么？", "喂 你好 这个是干什么的"])
async def test_asking_what_we_do_gets_the_menu(understanding, text: str) -> None:
    decision = await understanding.decide(text)
    assert decision.kind == "about_service", decision.log_line()


@pytest.mark.parametrize("text", ["帮我打个电话给我儿子", "帮我给医院打个电话预约明天的专家号"])
async def test_a_call_to_make_for_the_user_is_no_hand_off(understanding, text: str) -> None:
    # an errand we cannot run: nobody of ours is asked for, no request is recorded
    decision = await understanding.decide(text)
    assert decision.kind not in ("handoff", "emergency"), decision.log_line()


@pytest.mark.parametrize("text", ["你到底是机器人还是真人哦", "你是不是真人", "你是谁？"])
async def test_asking_whether_we_are_a_person_is_told_who_answers(understanding, text) -> None:
    decision = await understanding.decide(text)
    assert decision.kind == "about_us", decision.log_line()


@pytest.mark.parametrize(
    "text", ["我要找真人", "有没得真人跟我说一哈", "你是机器人吗？我要跟真人说"]
)
async def test_asking_for_a_real_person_still_hands_off(understanding, text) -> None:
    decision = await understanding.decide(text)
    assert decision.kind == "handoff", decision.log_line()


async def test_money_sent_while_a_caller_is_still_on_the_line_is_aftermath(understanding) -> None:
    # hearsay ("他在视频里说") around one's own loss: 110 first
    text = "那个人在视频里说他是检察院的，叫我配合调查，我都转了两笔了他还在叫我转"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_aftermath", decision.log_line()


async def test_asking_whether_a_caller_is_genuine_is_judged_not_reported(understanding) -> None:
    decision = await understanding.decide("有人打电话说是社保局的，要我核对银行卡号，是不是真的哦")
    assert decision.kind in ("fraud_verdict", "answer"), decision.log_line()
    assert decision.kind != "answer" or decision.entry.topic == "fraud"


async def test_an_accident_told_to_ask_for_money_is_a_scam_not_an_emergency(understanding) -> None:
    text = "爷爷我是你孙子小军我出车祸了在医院急需交押金你赶紧转八千到我同学的卡上别告诉我爸"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_verdict", decision.log_line()
    # a real accident asks for 120, not for money
    assert (await understanding.decide("我儿子刚才出车祸了，流了好多血")).kind == "emergency"


async def test_cues_read_a_voice_transcript_as_heard(understanding) -> None:
    # 验证马 is how speech recognition writes 验证码: the code was given away, 110 first.
    text = "嗯我刚才那个验证马报给他了然后就收到扣款短信了"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_aftermath", decision.log_line()


async def test_a_swallowed_button_battery_is_an_emergency(understanding) -> None:
    decision = await understanding.decide("孙子把一颗纽扣电池吞下去了")
    assert decision.kind == "emergency", decision.log_line()
    assert decision.hotline is not None and decision.hotline.number == "120"


class _Knowing:
    """Knowledge that finds what a test tells it to (the decision rules alone)."""

    def __init__(self, result) -> None:
        self.result = result

    async def ask(self, text: str, k: int = 3):
        return self.result

    async def match_debunk(self, text: str):
        return None

    async def tagged(self, tag: str):
        return []

    async def heard(self, text: str) -> str:
        return text


def _hits(*scores: tuple[float, float]):
    from bot.knowledge.loader import load_entries
    from bot.knowledge.search import Hit

    entries = load_entries(PROJECT_ROOT / "knowledge").entries
    farming = [e for e in entries if e.topic == "farming"]
    return [Hit(farming[i], s, c) for i, (s, c) in enumerate(scores)]


async def test_entries_that_each_could_answer_are_offered_as_choices() -> None:
    from bot.knowledge.service import decide as search_decision

    hits = _hits((0.56, 0.9), (0.54, 0.8))  # both answer well; 0.02 apart
    result = search_decision(hits)
    assert result.kind == "choices" and result.close
    decision = await Understanding(_Knowing(result), default_checker()).decide("稻子这个病咋个治")
    assert decision.kind == "choices"
    assert [h.entry.id for h in decision.hits] == [h.entry.id for h in hits]


async def test_entries_that_cover_too_little_follow_an_honest_not_yet() -> None:
    from bot.knowledge.service import decide as search_decision

    # plausible (covers 0.62 of the question), yet no entry answers it as an answer must
    hits = _hits((0.55, 0.62), (0.45, 0.4))
    result = search_decision(hits)
    assert result.kind == "choices" and not result.close
    decision = await Understanding(_Knowing(result), default_checker()).decide("稻子这个病咋个治")
    assert decision.kind == "none"
    assert [h.entry.id for h in decision.related] == [hits[0].entry.id]
    assert f"related={hits[0].entry.id}" in decision.log_line()
    # nothing plausible: nothing related either
    decision = await Understanding(
        _Knowing(search_decision(_hits((0.30, 0.5)))), default_checker()
    ).decide("稻子这个病咋个治")
    assert decision.kind == "none" and decision.related == []


async def test_a_childs_fever_is_not_answered_with_the_entry_for_older_people(
    understanding,
) -> None:
    grown = await understanding.decide("七十多岁了发烧能吃布洛芬吗")
    assert grown.kind == "answer" and grown.entry.id == "health-fever-painkiller-seniors"
    child = await understanding.decide("娃儿发烧三十九度，屋头只有布洛芬，可以吃不嘛")
    assert child.kind == "none" and child.entry is None


def test_an_entry_for_seniors_only_is_told_by_its_title() -> None:
    from bot.understanding.cues import for_seniors_only

    assert for_seniors_only("老人发烧、身上痛，能自己吃布洛芬或对乙酰氨基酚吗？")
    assert not for_seniors_only("被狗咬了、被猫抓了，伤口怎么处理？")
    assert not for_seniors_only("老人和孩子发烧怎么办")


# --- issue 13: misroutes found on the read sets, in new words ------------------------


@pytest.mark.parametrize("text", ["县中医院的电话是多少", "镇上供电所电话好多嘛"])
async def test_the_number_of_a_place_is_not_a_help_request(understanding, text: str) -> None:
    # a fact we may not hold: an honest reply, nothing recorded as a request for a person
    decision = await understanding.decide(text)
    assert decision.kind not in ("handoff", "emergency"), decision.log_line()


async def test_a_person_asked_for_beside_a_number_still_hands_off(understanding) -> None:
    decision = await understanding.decide("派出所电话是好多，我要找警察")
    assert decision.kind == "handoff", decision.log_line()


@pytest.mark.parametrize(
    "text, topic",
    [
        # how to tell a scam: the entry on it, not a verdict on the question's words
        ("怎么才能知道打电话来的是不是骗子", "fraud"),
        # a snakebite supposed, not happening: the answer (120 first), not a hand-off
        ("上山干活万一被蛇咬了怎么办", "health"),
    ],
)
async def test_a_question_about_a_scam_or_an_emergency_is_answered(
    understanding, text: str, topic: str
) -> None:
    decision = await understanding.decide(text)
    assert decision.kind == "answer", decision.log_line()
    assert decision.entry is not None and decision.entry.topic == topic


async def test_a_call_the_user_answered_is_judged(understanding) -> None:
    text = "我早上接到一个电话，说我的社保卡被人冒用了，要我配合公安调查"
    decision = await understanding.decide(text)
    assert decision.verdict is not None or decision.kind == "fraud_verdict", decision.log_line()


async def test_a_bank_notice_read_out_gets_a_verdict(understanding) -> None:
    text = "短信上写的是您尾号1234的储蓄卡今天支出两千元，如非本人操作请致电客服"
    decision = await understanding.decide(text)
    assert decision.kind == "fraud_verdict", decision.log_line()


async def test_a_scam_asked_about_as_a_claim_gets_its_entry_not_the_rumour_desk(
    understanding,
) -> None:
    # search is not sure, but the nearest entry is on that kind of scam and covers it
    decision = await understanding.decide(
        "有个自称部队的人说要来村里买菜，喊我先垫钱买消毒液，靠得住不"
    )
    assert decision.kind == "answer", decision.log_line()
    assert decision.entry is not None and decision.entry.id == "fraud-maochong-junren-caigou"


async def test_a_policy_rumour_the_checker_finds_scam_like_stays_with_the_desk(
    understanding,
) -> None:
    decision = await understanding.decide("听说养老金明年要按存款多少来发，是真的吗")
    assert decision.kind == "report_offer", decision.log_line()
