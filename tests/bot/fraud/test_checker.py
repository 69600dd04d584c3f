"""Verdicts: one risk level by the written criteria, the type, two to four quoted
reasons, and what to do now."""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest

from bot.fraud.advice import situation
from bot.fraud.checker import RISK_LABELS, FraudChecker, default_checker, find_signals
from bot.fraud.stats import check_counts, count_check
from bot.storage.db import Database


@pytest.fixture(scope="module")
def checker() -> FraudChecker:
    return default_checker()


@pytest.mark.parametrize(
    "text, fraud_type",
    [
        (
            "您好，我是市公安局民警，您的身份证涉嫌洗钱案件，请配合调查，"
            "把资金转到安全账户，此事要保密，不要告诉家人",
            "冒充公检法及政府机关",
        ),
        ("爸 我换了新号 手机掉了 急用钱 先转我3000 别告诉妈", "冒充领导熟人"),
        ("【淘宝客服】您的订单异常，需要退款，请下载腾讯会议开启屏幕共享", "冒充电商物流客服"),
        ("免费领鸡蛋！明早到村委会听健康讲座，专家讲保健品包治百病，可以停药", "养老诈骗"),
        ("在家动动手指刷单点赞，日结佣金，先垫付后返利", "刷单返利"),
    ],
)
def test_scams_are_high_risk_with_their_type(checker, text: str, fraud_type: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "high"
    assert verdict.fraud_types[0] == fraud_type
    assert 2 <= len(verdict.reasons) <= 4


@pytest.mark.parametrize(
    "text, expected",
    [
        # Asks for personal numbers, phrased 回复… (issue 16).
        (
            "村里登记惠农补贴，请大家回复户主姓名、身份证和银行卡号，明天截止",
            {"id_request", "card_request", "urgency"},
        ),
        # A product that cures illness, money before the benefit, a gift.
        (
            "叔叔阿姨好，我们的量子能量鞋垫能治风湿关节炎，今天下单交399办会员卡，送两桶油",
            {"cure_all", "upfront_fee"},
        ),
        # A free check-up with pressure and a request for the ID number.
        (
            "老年人免费体检名额有限，回复身份证号码预约，还送鸡蛋一板",
            {"free_gift", "urgency", "id_request"},
        ),
    ],
)
def test_elder_targeted_scams_are_high_risk(checker, text: str, expected: set[str]) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "high"
    assert expected <= {f.signal.id for f in verdict.findings}
    assert all(f.quote in text for f in verdict.findings)


@pytest.mark.parametrize(
    "text",
    [
        "有人打电话说我医保卡冻结了，要我按1转人工",
        "有个人打电话说我医保卡冻结了，要我按1转人工",
        "一个自称派出所的人叫我把钱转到安全账户",
        "刚才有个说是银行的人打电话，叫我把手机上的验证码念给他",
        "有人加我微信说是快递理赔，让我下载个软件开屏幕共享",
        "村里来了几个人说免费给老人量血压，量完叫我买一盒三千的胶囊，说吃了降压药都能停",
        "我外孙打电话说他跟人打架被扣了，要赔五千，叫我别跟他妈说，先转到他朋友卡上",
    ],
)
def test_calls_told_in_the_victims_words_are_judged_like_pasted_ones(checker, text) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "high", verdict.findings
    assert verdict.situation == "told"
    assert "挂断" in verdict.advice and "官方电话回拨" in verdict.advice


@pytest.mark.parametrize(
    "text",
    [
        # 96110's own text.
        "【96110】您好，我是反诈中心，您可能正在遭遇电信网络诈骗，请勿向陌生人转账汇款、勿提供验证码、"
        "勿下载陌生APP。如有疑问请拨打110或96110咨询。",
        # A bank that never asks for codes.
        "【中国农业银行】您尾号8812账户06月21日收到代发养老金1,862.00元，当前余额5,031.40元。"
        "农行工作人员绝不会以任何理由索要您的密码和验证码。",
        # Government anti-fraud publicity that describes the script in full.
        "【区公安局反诈中心】紧急提醒：近期我区多名老人接到自称“公安局”“检察院”的电话，称其涉嫌洗钱，"
        "要求把存款转到“安全账户”接受审查。公检法不会电话办案，更不会让您转账！接到此类电话请立即挂断，拨打110核实。",
        "【区医保局】医保卡不会被冻结，医保部门不会让您按键转人工，也不会要您提供银行卡号和验证码，切勿转账。",
        # A bank debit notice.
        "【中国建设银行】您尾号0921的储蓄卡12月3日向王*华转账支出人民币2,000.00元，活期余额6,421.08元。"
        "如非本人操作请致电95533。",
        "【中国移动】您的验证码是482913，5分钟内有效，请勿泄露给他人。",
        "【区人民医院】您预约的明天上午9:00内科门诊，请携带医保卡按时就诊。",
        "奶奶，周末我回来看您，给您带了点水果",
        "妈，我刚给你微信转了500块，是这个月的生活费，你点收款就到了，不用输密码。",
        "村委会通知：明天上午为70岁以上老人办理养老金资格认证，请带身份证和社保卡到村委会，全程免费。",
    ],
)
def test_genuine_notices_are_low_risk(checker, text: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "low", verdict.findings
    assert verdict.fraud_types == []
    # Told why, in words of this message (a quote may skip its middle with …).
    assert verdict.reasons
    quoted = [p for r in verdict.reasons for q in re.findall("“([^”]+)”", r) for p in q.split("…")]
    assert all(p in text or p in unicodedata.normalize("NFKC", text) for p in quoted), quoted


@pytest.mark.parametrize(
    "text",
    [
        "妈，我换了个新手机号，旧号下个月停机，你把这个号存上",  # a claim, no request yet
        "【永辉超市】周末会员日，鸡蛋9.9元30枚，限量200份，送完即止。",  # marketing
    ],
)
def test_ambiguous_messages_are_not_high_risk(checker, text: str) -> None:
    assert checker.check(text).risk != "high"


def test_a_request_alone_is_high_risk_from_an_unverified_sender(checker) -> None:
    for text in (
        "【中国工商银行】请回复您的银行卡号和身份证号完成账户升级",
        "您好，请把刚才收到的验证码发给我",
        "请下载向日葵，我远程帮您处理",
    ):
        verdict = checker.check(text)
        assert verdict.risk == "high" and verdict.asks, text


def test_reasons_quote_the_message(checker) -> None:
    verdict = checker.check("点击 http://icbc-vip.top/login 认证，否则今日冻结")
    assert any("“http://icbc-vip.top/login”" in r for r in verdict.reasons)
    assert any("链接不是官方网址" in r for r in verdict.reasons)


def test_chat_text_names_exactly_one_risk_level(checker) -> None:
    for text in ("把钱转到安全账户", "你好", "点击 t.cn/abc 领取补贴"):
        reply = checker.check(text).as_text()
        assert sum(label in reply for label in RISK_LABELS.values()) == 1, reply
        assert "96110" in reply


def test_high_risk_advice_says_what_to_do_now(checker) -> None:
    advice = checker.check("把钱转到安全账户，马上，保密").advice
    for step in ("挂断", "不转账", "官方电话回拨", "96110", "110"):
        assert step in advice


def test_money_already_sent_puts_110_first(checker) -> None:
    verdict = checker.check("有人说是公安局的，叫我把钱转到安全账户，我已经转了两万过去")
    assert verdict.risk == "high" and verdict.situation == "money_sent"
    first_step = verdict.advice.splitlines()[1]
    assert "110" in first_step and "96110" not in first_step


def test_a_code_already_given_says_freeze_the_card(checker) -> None:
    verdict = checker.check("说是银行客服，我把验证码告诉他了，他说要帮我解冻")
    assert verdict.situation == "data_given"
    assert "冻结银行卡" in verdict.advice


@pytest.mark.parametrize(
    "text, what",
    [
        ("我没转钱，他叫我转到安全账户", "told"),
        ("我还没有转过去，他叫我转到安全账户", "told"),
        ("还没填，他叫我填验证码", "told"),
        ("我打了110，对方说是公安局的", "told"),
        ("我已经转了两万过去", "money_sent"),
        ("我昨天给了他三千块", "money_sent"),
        ("卡号和验证码都填了", "data_given"),
        ("【医保局】您的医保卡已冻结", "pasted"),
    ],
)
def test_situation_reads_what_has_happened(text: str, what: str) -> None:
    assert situation(text) == what


def test_same_text_same_verdict(checker) -> None:
    text = "恭喜您获得大奖，先交500元手续费即可领取"
    first = checker.check(text)
    assert checker.check(text) == first
    assert FraudChecker().check(text) == first  # a freshly trained model agrees


def test_types_are_named_as_the_ministry_names_them(checker) -> None:
    # The Ministry of Public Security's list of common telecom fraud types files
    # "your campus loan was never closed, it will hurt your credit" under
    # 虚假征信类诈骗 (fake credit-record fraud).
    verdict = checker.check("您的校园贷没有注销，会影响征信，请马上把钱转到指定账户")
    assert verdict.risk == "high" and verdict.fraud_types[0] == "虚假征信"
    assert "像是“虚假征信”类诈骗" in verdict.as_text()


async def test_only_counts_are_stored(tmp_path: Path, checker) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await db.migrate()
    text = "我是你孙子，换了新号 13812345678，急用钱转到6222020200112233445"
    for _ in range(2):
        await count_check(db, checker.check(text))
    await count_check(db, checker.check("你好"))
    counts = await check_counts(db)
    await db.close()
    assert sorted((risk, kind, n) for _, risk, kind, n in counts) == [
        ("high", "impersonate_acquaintance", 2),
        ("low", "", 1),
    ]
    dump = (tmp_path / "k.db").read_bytes()
    assert b"13812345678" not in dump and "孙子".encode() not in dump


def _messages() -> list[tuple[str, str]]:
    """Scams and genuine look-alikes written for these tests (not in the training
    data, not in the benchmark sets): pasted, and told in the person's words."""
    path = Path(__file__).parent / "messages.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["label"], r["text"]) for r in csv.DictReader(fh, delimiter="\t")]


@pytest.mark.parametrize("label, text", _messages())
def test_written_scams_are_high_and_look_alikes_are_not(checker, label: str, text: str) -> None:
    verdict = checker.check(text)
    if label == "scam":
        assert verdict.risk == "high", verdict.findings
    else:
        assert verdict.risk != "high", verdict.findings


# Scams told by their ingredients, in words of our own (none copied from any
# evaluation set): each must be 高风险 with the signal that says why.
@pytest.mark.parametrize(
    "text, signal_id",
    [
        # A link whose name borrows a body's letters, with a request to log in or pay.
        (
            "【国家电网】您户电费欠缴，明日起停止供电，请尽快访问 sgcc-pay.cc 缴清电费。",
            "lookalike_domain",
        ),
        (
            "【中国移动】您的号码实名信息不全，将于48小时后停机，请访问 yd-shiming.xyz 补全。",
            "link_login",
        ),
        ("积分明天过期，登录 t.cn/Ab12Cd 兑换电饭锅", "link_login"),
        # A fake utility notice asking for a transfer before a visit.
        (
            "【燃气公司】您家燃气表数据异常，需上门更换，材料费500元请提前转账，师傅才能排期。",
            "upfront_fee",
        ),
        # Collectibles: an N-fold buy-back, a fee for the certificate first.
        ("收购老纪念币，一套能卖两万，先交500元鉴定证书费就上门收。", "upfront_fee"),
        ("这套生肖金币限量发行，五年后公司按四倍价格回购，现在订只要三千八。", "guaranteed_profit"),
        # Pension "savings" with monthly interest; a nursing-home bed sold in advance.
        ("养老服务合作社，存五万块每月给您五百利息，比银行高多了。", "guaranteed_profit"),
        (
            "我们养老院床位快满了，现在交八万预订一个床位，每年还返您百分之十二。",
            "elder_investment",
        ),
        # Online romance turning to investment.
        ("阿姨，我在网上认识一个人，他叫我一起在一个平台上投资黄金。", "romance_money"),
        # Free gifts at a talk, then an expensive health product.
        (
            "叔叔阿姨们，来听课就送鸡蛋，我们的远红外理疗床原价两万，今天只要九千九。",
            "lure_then_sell",
        ),
        ("明天去镇上领免费大米，记得带上存折。", "gift_wants_card"),
        # A claimed relative who wants it kept secret.
        ("外婆我是小明，我换了号，你莫告诉别人，这事过两天再说。", "secret_with_claim"),
        # A voice transcript: sound-alike characters, no punctuation.
        ("喂你好我这边是社保局的你的社保卡要冻节了你把身分证号和验正码报一下", "code_request"),
        ("我这边是一保中心你的医保卡被人盗刷了现在给你转到市公安局", "call_transfer"),
        # A call told in the person's own words.
        (
            "有个人打电话说我网上买的衣服有质量问题要退我钱，喊我打开支付宝他说啥子我就点啥子",
            "guided_operation",
        ),
        (
            "有个女的加我微信，说老公死了，天天跟我聊天，后来要我帮忙出两万块钱的罚款",
            "money_request",
        ),
        (
            "【淘宝】您的会员每月自动扣费399元，如需取消请致电4008-123-456，逾期不候。",
            "unofficial_hotline",
        ),
    ],
)
def test_scripts_by_their_ingredients_are_high_risk(checker, text: str, signal_id: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk == "high", verdict.findings
    assert signal_id in {f.signal.id for f in verdict.findings}, verdict.findings


@pytest.mark.parametrize(
    "text",
    [
        # Anti-fraud publicity that lists the scripts it warns about.
        "【社区反诈提醒】免费送鸡蛋听讲座、养老床位预售返高息、高价回购纪念币、网上交友拉投资，都是常见骗局，"
        "不要转账，有疑问拨打96110。",
        "社区提醒：近期有人冒充燃气公司上门收费，燃气公司不会要求转账，请认准官方电话。",
        # Family about real money.
        "爸，房租我先帮你交了，你把钱转我微信就行，不急。",
        "妈，我这个月工资发了，给你转了两千块，你收一下，别省着。",
        # Genuine notices that name the same things.
        "【国家电网】尊敬的客户，因线路检修，您所在区域将于6月3日8:00-17:00停电，给您带来不便敬请谅解。",
        "【中国电信】您的话费余额不足10元，为避免停机，请通过中国电信APP或189.cn充值。",
        "社区卫生服务中心本周六上午举办高血压健康讲座，全程免费，不推销任何产品。",
        "【微信支付】您已成功开通自动续费，如需取消请在微信-我-服务-钱包中操作。",
        "本店周年庆免费测血压，保健品原价五百今天三百，退订回T",
    ],
)
def test_look_alikes_of_the_scripts_are_not_high_risk(checker, text: str) -> None:
    verdict = checker.check(text)
    assert verdict.risk != "high", verdict.findings


def test_a_script_reason_quotes_every_ingredient(checker) -> None:
    text = "叔叔阿姨们，来听课就送鸡蛋，我们的远红外理疗床原价两万，今天只要九千九。"
    reason = next(f.reason for f in checker.check(text).findings if f.signal.id == "lure_then_sell")
    quotes = re.findall("“([^”]+)”", reason)
    assert len(quotes) >= 3 and all(q in text for q in quotes)


def test_a_voice_transcript_is_quoted_in_its_own_characters(checker) -> None:
    text = "喂你好我这边是社保局的你的社保卡要冻节了你把身分证号和验正码报一下"
    quoted = " ".join(f.quote for f in checker.check(text).findings)
    assert "验正码" in quoted and "验证码" not in quoted


@pytest.mark.parametrize(
    "text",
    [
        # an eligibility notice that starts with 凡 is no warning
        "高龄津贴领取通知：凡年满70岁老人每月可领津贴500元，扫描二维码添加工作人员，提供身份证照片和银行卡验证码即可办理。",
        # a purpose before a plea does not negate the plea
        "您的手机号实名认证已到期，为避免停机请回复本机收到的6位验证码完成重新认证。",
        "打电话的人说可以帮我们老年人办无息贷款，问我要身份证号、银行卡号，还有手机上收到的那个验证码",
        "国家养老储备金项目：投资1万元每月领息800元，国家兜底，扫码入群了解详情。",
    ],
)
def test_asks_hidden_behind_notices_are_high(text: str) -> None:
    assert default_checker().check(text).risk == "high"


def test_a_code_that_warns_what_telling_it_does_is_low() -> None:
    verdict = default_checker().check(
        "【快手】验证码：3387，你正在登录快手账号，将验证码告诉他人会导致账号被盗。"
    )
    assert verdict.risk == "low"


def test_a_script_the_classifier_knows_is_high_without_a_rule(tmp_path: Path) -> None:
    # A classifier trained on one script only recognises its wording; no rule
    # finds anything in it, so the verdict rests on the classifier.
    scam = "李总说这个合作社的分红每个月都发，年底还有一次大的"
    assert not find_signals(scam)
    training = tmp_path / "training.tsv"
    rows = [("elder_scam", scam)] * 5 + [("normal", "今天晚上回来吃饭，妈妈做了红烧肉")] * 5
    training.write_text(
        "label\ttext\n" + "".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8"
    )
    sure = FraudChecker(training, classifier_script=0.5)
    never = FraudChecker(training, classifier_script=1.01)
    assert sure.check(scam).risk == "high"
    assert "养老诈骗" in sure.check(scam).as_text()
    assert never.check(scam).risk != "high"
    # A few words are not a script, however sure the classifier is.
    assert sure.check("李总说分红").risk != "high"


def test_a_warning_is_never_high_however_scam_like_it_reads(checker) -> None:
    warning = (
        "【梁平区反诈中心】提醒：免费听课领鸡蛋、高价回购收藏品、保健品包治百病都是常见骗局，"
        "请勿上当。"
    )
    assert checker.check(warning).risk != "high"


def test_a_cached_classifier_is_the_trained_one(tmp_path: Path) -> None:
    first = FraudChecker(cache_dir=tmp_path)
    files = list(tmp_path.glob("fraud-classifier-*.joblib"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0  # private to the service
    again = FraudChecker(cache_dir=tmp_path)  # loaded, not trained
    text = "有个自称医保局的打电话，说我医保卡被冻结了，叫我把验证码念给他"
    assert again.classify(text) == first.classify(text)
    assert again.check(text) == first.check(text)
    # A torn file is trained again and replaced.
    files[0].write_bytes(b"not a model")
    assert FraudChecker(cache_dir=tmp_path).classify(text) == first.classify(text)
