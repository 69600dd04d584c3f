"""Each fraud signal, one by one: it fires on what it names and not on its warning."""

from __future__ import annotations

import pytest

from bot.fraud.checker import find_signals
from bot.fraud.links import find_links, find_numbers, judge
from bot.fraud.signals import ALL_SIGNALS, FAMILIES, FRAUD_TYPES, SCRIPTS, TEXT_SIGNALS
from bot.fraud.sounds import correct


def ids(text: str) -> set[str]:
    return {f.signal.id for f in find_signals(text)}


# One message per text signal that must fire it.
FIRES = {
    "code_request": "您好，刚才发到您手机的验证码请告诉我，我帮您办理退款",
    "password_request": "请输入您的银行卡密码完成认证",
    "id_request": "请拍一下身份证正反面发给我",
    "card_request": "请提供您的银行卡号，我们把补贴打给您",
    "face_request": "您配合我刷个脸，养老金认证就通过了",
    "screen_share": "您打开屏幕共享，我一步一步教您操作",
    "meeting_app": "请下载腾讯会议，输入会议号 123 456 789",
    "money_request": "你先转3000给我，急用",
    "guided_operation": "你到ATM机上按我说的操作就能领到补贴",
    "upfront_fee": "贷款已批下来，需要先交2000元保证金才能放款",
    "safe_account": "您涉嫌洗钱，请把存款转到国家安全账户接受审查",
    "cure_all": "这个鞋垫能治风湿关节炎",
    "guaranteed_profit": "跟着老师炒股，稳赚不赔，内幕消息",
    "brushing": "在家动动手指刷单点赞，日结佣金",
    "elder_investment": "投资养老公寓，每年返利百分之十五",
    "credit": "您的校园贷没有注销，会影响征信",
    "voice_menu": "您的医保卡已停用，详情请按1转人工",
    "prize": "恭喜您获得我台幸运观众大奖",
    "procurement": "我们单位要采购一批白酒，我给你个微信，你找他进点货送过来",
    "refund_lure": "您的包裹丢了，要给您退款，请加一个理赔群",
    "customer_service": "我是快递客服，您的包裹丢失了，给您三倍赔偿",
    "police": "我是市公安局的民警，你的银行卡涉嫌洗钱",
    "money_need": "我出车祸了，急需手术费",
    "urgency": "名额有限，今天截止",
    "secrecy": "这事你千万别告诉儿子，要保密",
    "threat": "您的账户将被冻结，并追究法律责任",
    "government_notice": "您的医保卡已冻结，请重新认证",
    "impersonation": "您好，这里是区社保局",
    "self_claimed": "有个自称是银行经理的人",
    "leader": "我是你领导，明天到我办公室来一趟",
    "new_number": "奶奶，我是你孙子，换了新号码，存一下",
    "guaranteed_loan": "无抵押贷款，秒到账",
    "contact_shaming": "借了三千块，七天要还五千，不还就把我的照片发给通讯录的人",
    "lottery": "到店就能参加抽大奖",
    "free_gift": "明早到村委会听健康讲座，免费领鸡蛋",
    "gift_meeting": "连来七天的还送电饭锅",
    "bring_bank_card": "明天来会场记得带上银行卡",
    "product_pitch": "这个量子能量杯原价一千九",
    "help_buy": "领导让你帮忙采购一点茶叶",
    "inside_channel": "我有内部渠道，驾照包过",
    "scare_diagnosis": "您血管都堵了，随时会中风",
    "collectibles": "您家的纪念币我们高价回收",
    "romance": "网恋认识的男朋友说要回来跟我过日子",
    "game_trade": "游戏装备低价出售，私下交易",
    "shopping": "手机低价转让，加微信私下付款",
    "add_contact": "请添加客服微信处理",
    "download_app": "请点击下载这个理财软件",
    "click_link": "请点击链接填写资料",
    "otp_warning": "您的验证码是482913，请勿泄露给他人",
    "official_warning": "银行工作人员不会要求您转账到安全账户，谨防诈骗",
    "names_the_scam": "近期有人冒充社保局工作人员，这些都是诈骗",
    "scam_description": "近期不法分子以退税为幌子骗钱",
    "verify_advice": "接到借钱电话，先打原来的号码核实，拿不准就拨打96110",
    "transaction_record": "您尾号1234的卡12月1日支出200元，余额300元",
    "unsubscribe": "本店周年庆全场八折，退订回T",
    "pickup_code": "您的快递已到驿站，取件码 5-2-1033",
    "official_channel": "请到营业厅或通过官方App办理",
    "call_transfer": "您的快递里有违禁品，我现在把电话转接到市公安局",
    "investment_platform": "群里有个投资平台，跟着买就行",
    "panic_buying": "台风要来了菜要涨价，大家赶紧抢购我们的大米",
    "paid_for_you": "妈，你的电话费我已经帮你交了",
    "sale": "这台按摩椅原价八千，活动价两千九",
    "account_action": "请登录网上营业厅查看",
}


def test_every_text_signal_has_an_example() -> None:
    assert set(FIRES) == {s.id for s in TEXT_SIGNALS}


@pytest.mark.parametrize("signal_id", sorted(FIRES))
def test_signal_fires_on_its_example(signal_id: str) -> None:
    signal = next(s for s in TEXT_SIGNALS if s.id == signal_id)
    if signal.family == "ingredient":  # never shown alone: only its pattern
        assert signal.pattern.search(FIRES[signal_id])
    else:
        assert signal_id in ids(FIRES[signal_id])


# Requests as people ask them: pasted, or told in the victim's words.
@pytest.mark.parametrize(
    "text, signal_id",
    [
        ("请大家回复户主姓名、身份证和银行卡号", "id_request"),
        ("请大家回复户主姓名、身份证和银行卡号", "card_request"),
        ("他叫我把银行卡拍照片发给他", "card_request"),
        ("请问您的姓名、身份证号码以及银行卡号是什么", "id_request"),
        ("需要核实一下您卡内的余额", "card_request"),
        ("对方要我把手机上收到的验证码念给他", "code_request"),
        ("他让我在网页上填卡号和密码", "password_request"),
        ("点这个链接刷脸认证就能解冻", "face_request"),
        ("他叫我下载一个向日葵，说要远程帮我操作", "screen_share"),
        ("请先下载会讯通APP进入会议室", "meeting_app"),
        ("你先给我转1500买车票", "money_request"),
        ("借我两万，下个礼拜就还你", "money_request"),
        ("麻烦你把房租交到我爱人的卡上", "money_request"),
        ("你扫这个二维码帮我交一下", "money_request"),
        ("叫我把钱转到公司账户上", "money_request"),
        ("今天下单交399办会员卡", "upfront_fee"),
        ("每人只收88元报名费", "upfront_fee"),
        ("要先交百分之二十的税才能领车", "upfront_fee"),
        ("先付1000定金我给您锁住", "upfront_fee"),
        ("叔叔阿姨好，我们的量子能量鞋垫能治风湿关节炎", "cure_all"),
        ("高血压糖尿病都能好，降压药都可以停了", "cure_all"),
        ("您血压高不要吃西药了，伤肝", "cure_all"),
        ("三高一吃就好", "cure_all"),
        ("存十万一年能拿一万二的利息", "guaranteed_profit"),
        ("他在电话里指导我按键操作", "guided_operation"),
        # Said in other words than the ones the patterns were first written for.
        ("姑姑，我是小军，先转我2000，回头跟你说", "money_request"),
        ("他喊我借五万块钱给他做生意", "money_request"),
        ("那个人要我帮忙出三万块的保释费", "money_request"),
        ("你先拿两千块给来接的人", "money_request"),
        ("换表的钱要提前转账，师傅才上门", "upfront_fee"),
        ("后来他又叫我念了个验证码", "code_request"),
        ("那个警官说要跟我视频，看看是不是本人", "face_request"),
        ("他说啥子我就点啥子，钱就没了", "guided_operation"),
        ("她叫我打开手机银行，说帮我操作退款", "guided_operation"),
        ("养老驿站说交五万块存起来，每月给八百块利息", "guaranteed_profit"),
        ("这个字画三年后他们按三倍的价格回购", "guaranteed_profit"),
        ("投了五千，一个月就变成八千了", "guaranteed_profit"),
        ("利息有百分之十八，银行哪有这么高", "guaranteed_profit"),
        ("群里老师带我们炒股，天天涨", "guaranteed_profit"),
        ("护理院的床位现在交三万定下来，以后住进去抵扣", "elder_investment"),
        ("你莫告诉别人，这事办完再说", "secrecy"),
        ("她不许我跟我们家老大说", "secrecy"),
        ("您的手机号将于明日停机，请尽快处理", "threat"),
        ("他在交友软件上认识的，说是部队退下来的", "romance"),
        ("报名坐免费大巴去参观，每人送五斤鸡蛋", "free_gift"),
        ("您的医保卡在外地被人刷了药", "government_notice"),
        ("语音说回复3转人工处理", "voice_menu"),
        ("说是顺丰的，你的包裹里查出几张别人的银行卡", "police"),
    ],
)
def test_requests_as_people_ask_them(text: str, signal_id: str) -> None:
    assert signal_id in ids(text)


# The same requests negated, or named as the scam a notice warns about.
@pytest.mark.parametrize(
    "text, signal_id",
    [
        ("工作人员不会向您索要验证码，请勿告诉他人", "code_request"),
        ("农行工作人员不会以任何理由索要您的密码和验证码", "code_request"),
        ("农行工作人员不会以任何理由索要您的密码和验证码", "password_request"),
        ("密码请本人设置，不要告诉任何人", "password_request"),
        ("请勿向陌生人提供身份证号码", "id_request"),
        ("切勿把银行卡号告诉陌生人", "card_request"),
        ("请带身份证和银行卡到村委会办理", "id_request"),
        ("请带身份证和银行卡到村委会办理", "card_request"),
        ("养老金认证不会让您点链接刷脸", "face_request"),
        ("银行不会让您开启屏幕共享", "screen_share"),
        ("勿下载陌生的会议软件", "meeting_app"),
        ("请勿转账", "money_request"),
        ("请勿向陌生人转账汇款", "money_request"),
        ("我刚给你微信转了500块生活费，点收款就到了", "money_request"),
        ("不够的话我周末给你微信转过来", "money_request"),
        ("他考上大学了，叫我们不要给他转钱", "money_request"),
        ("凡是要求您把钱转到安全账户的都是诈骗", "money_request"),
        ("要是有人打电话叫你转钱的，你直接挂了打我电话", "money_request"),
        ("无需交纳任何手续费", "upfront_fee"),
        ("请本人到窗口办理，无需在网上交费", "upfront_fee"),
        ("现场看货付款，不收订金", "upfront_fee"),
        ("公检法机关不会要求您把钱转到安全账户", "safe_account"),
        ("保健食品不能代替药物治疗疾病", "cure_all"),
        ("请按医嘱服药，不要自行停药", "cure_all"),
        ("医保部门不会打电话让您按键转人工", "voice_menu"),
        ("骗子会说把电话转接到公安局，这是假的", "call_transfer"),
        ("网传海盐被核污染要赶紧抢购，这是谣言", "panic_buying"),
    ],
)
def test_warnings_do_not_count_as_requests(text: str, signal_id: str) -> None:
    assert signal_id not in ids(text)


@pytest.mark.parametrize(
    "text, absent",
    [
        ("个人所得税汇算将于6月30日结束", "brushing"),  # 日结束 is not 日结
        ("有人推销养老公寓", "romance"),  # 养老公寓 holds no 老公
        ("医保统筹支付6,105.00元，个人自付2,537.30元", "money_request"),
        ("超时将按标准收取保管费", "upfront_fee"),
        ("我孙子作文比赛得了二等奖", "prize"),
        ("寒假请不要让孩子燃放鞭炮", "secrecy"),
        ("请于月底前缴纳电费86元", "upfront_fee"),
        ("领取时请出示身份证", "id_request"),
        ("取款请本人携带存折到网点", "bring_bank_card"),
        ("验证码不要告诉别人", "secrecy"),  # advice, not secrecy from the family
        ("因线路检修，本小区明天将停电", "threat"),  # a planned outage
        ("我们一起克服困难", "code_request"),  # 克服 is a word: never rewritten to 客服
        ("三年期定期存款年利率2.6%", "guaranteed_profit"),
        ("每人限购两件，先到先得", "panic_buying"),
    ],
)
def test_words_that_only_look_like_signals(text: str, absent: str) -> None:
    assert absent not in ids(text)


def test_signals_are_well_formed() -> None:
    assert len({s.id for s in ALL_SIGNALS}) == len(ALL_SIGNALS)
    for s in ALL_SIGNALS:
        assert s.reason
        assert (s.weight == 0) == (s.family == "ingredient"), s.id
        assert s.fraud_type is None or s.fraud_type in FRAUD_TYPES
        assert s.family in FAMILIES
        assert (s.weight < 0) == (s.family == "genuine"), s.id
        assert "风险" not in s.reason  # the verdict line alone names the risk level


@pytest.mark.parametrize(
    "text",
    [
        "村里登记惠农补贴，请大家回复户主姓名、身份证和银行卡号，明天截止",
        "您好，这里是快递公司客服。很抱歉地通知您，由于在运输过程中您的包裹丢失了，请加QQ群理赔。",
    ],
)
def test_reasons_quote_the_words_that_triggered_them(text: str) -> None:
    findings = find_signals(text)
    assert findings
    for finding in findings:
        # The person's own characters (full-width commas stay full-width); a long
        # match is quoted by its two ends.
        for quote in (finding.quote, *finding.more):
            assert all(part in text for part in quote.split("…")), quote
            assert len(quote) <= 24
        assert finding.reason.endswith(f"“{(finding.quote, *finding.more)[-1]}”")


@pytest.mark.parametrize(
    "host, signal_id",
    [
        ("icbc-vip.top", "lookalike_domain"),
        ("12333-renzheng.cn", "lookalike_domain"),
        ("wx.gov-etc.com", "lookalike_domain"),
        ("jd-tuikuan.cn", "lookalike_domain"),
        ("gov-cn.top", "lookalike_domain"),
        ("nhsa.gov.cn.xyz.top", "lookalike_domain"),
        ("sgcc-dianfei.cc", "lookalike_domain"),  # the grid's letters plus a token
        ("wap.dianxin-kf.vip", "lookalike_domain"),  # a body's name in pinyin
        ("yd-buka.top", "lookalike_domain"),  # 移动 by its pinyin initials
        ("xn--fiq228c.com", "punycode_domain"),
        ("t.cn", "short_link"),
        ("bit.ly", "short_link"),
        ("47.96.12.8", "ip_link"),
        ("47.96.x.x", "ip_link"),
        ("lucky-prize.xyz", "risky_tld"),
        ("example.com", "unknown_link"),
        ("icbc.com.cn", "official_link"),
        ("12306.cn.evil.top", "lookalike_domain"),
        ("12306.cn", "official_link"),
        ("si.12333.gov.cn", "official_link"),
        ("www.gov.cn", "official_link"),
    ],
)
def test_link_hosts(host: str, signal_id: str) -> None:
    assert judge(host).id == signal_id


def test_an_apk_outside_the_official_sites_is_its_own_signal() -> None:
    assert judge("dl.yibao-app.cn", "http://dl.yibao-app.cn/yb.apk").id == "apk_link"
    assert judge("example.com", "https://example.com/app.apk").id == "apk_link"
    assert judge("icbc.com.cn", "https://icbc.com.cn/app.apk").id == "official_link"


@pytest.mark.parametrize(
    "text, hosts",
    [
        ("点击 http://icbc-vip.top/login认证", ["icbc-vip.top"]),
        ("详见t.cn/A6hJkQ2x认证", ["t.cn"]),
        ("登录https://www.12306.cn购票", ["12306.cn"]),
        ("访问http://47.96.x.x/abc", ["47.96.x.x"]),
        ("我的邮箱abc@qq.com", []),
        ("降压药1.5元一盒 版本3.6.21", []),
    ],
)
def test_links_are_found_in_chinese_text(text: str, hosts: list[str]) -> None:
    assert [link.host for link in find_links(text)] == hosts


@pytest.mark.parametrize(
    "text, signal_id",
    [
        ("来电显示+00 852 61234567，说是公安局", "foreign_number"),
        ("这是境外来电", "foreign_number"),
        ("有事联系我 17012345678", "virtual_number"),
        ("【中国工商银行】您的卡已冻结，请致电客服 95123 解冻", "unofficial_number"),
        ("【顺丰】理赔请拨打客服热线 400-123-4567", "unofficial_number"),
        ("【农业银行】您的信用卡额度已提升，请联系官方客服 13812345678", "unofficial_number"),
    ],
)
def test_numbers_that_do_not_belong(text: str, signal_id: str) -> None:
    assert signal_id in {n.signal.id for n in find_numbers(text)}


@pytest.mark.parametrize(
    "text",
    [
        "【中国工商银行】如有疑问请致电95588",
        "【顺丰速运】如有疑问请拨打95338",
        "【农商行】您的卡已激活，客服电话96369",
        "【中国移动】详询10086",
        "拿不准就打96110，或者打110",
        "投递员李师傅电话13908231456",
        "国际长途请加拨+86",
    ],
)
def test_numbers_that_belong(text: str) -> None:
    assert find_numbers(text) == []


# Scripts told by their ingredients, in words of our own.
SCRIPT_EXAMPLES = {
    "link_login": "【联通】您的套餐积分今晚清零，请登录 jifen-lt.xyz 兑换",
    "gift_wants_card": "明天去镇上领免费大米，记得带上存折",
    "lure_then_sell": "听讲座就送挂面，专家说这个磁疗枕头原价三千，今天只要九百",
    "romance_money": "在网上认识的老伴说有个理财平台，收益很稳",
    "investment_app": "跟着投资老师在这个软件里操作，点链接下载",
    "unofficial_hotline": "【京东】您的白条额度异常，将影响征信，请联系客服4001-234-567处理",
    "secret_with_claim": "舅舅，我是你外甥，换了个号，这事莫告诉别人",
}


def test_every_script_has_an_example() -> None:
    assert set(SCRIPT_EXAMPLES) == {s.signal.id for s in SCRIPTS}


@pytest.mark.parametrize("script_id", sorted(SCRIPT_EXAMPLES))
def test_script_fires_and_quotes_each_ingredient(script_id: str) -> None:
    text = SCRIPT_EXAMPLES[script_id]
    finding = next(f for f in find_signals(text) if f.signal.id == script_id)
    assert finding.more  # two ingredients or more, each quoted
    for quote in (finding.quote, *finding.more):
        assert quote in text
        assert f"“{quote}”" in finding.reason


def test_ingredients_are_never_shown_alone() -> None:
    assert not {"sale", "account_action"} & ids("请登录查看，活动价99元")


def test_an_advert_with_an_unsubscribe_line_is_not_a_sales_meeting() -> None:
    text = "本店周年庆免费测血压，保健品原价五百今天三百，退订回T"
    assert "lure_then_sell" not in ids(text)


@pytest.mark.parametrize(
    "heard, meant",
    [
        ("我是一保局的", "我是医保局的"),
        ("你的卡要冻节了", "你的卡要冻结了"),
        ("把验正码念一下", "把验证码念一下"),
        ("交保正金", "交保证金"),
        ("他说他是派出锁的", "他说他是派出所的"),
        ("提供身分证号", "提供身份证号"),
    ],
)
def test_sound_alike_misspellings_are_put_right(heard: str, meant: str) -> None:
    assert correct(heard) == meant


@pytest.mark.parametrize("text", ["我们一起克服困难", "今天天气很好", "他跑得很快地", "转帐记录"])
def test_real_words_are_not_rewritten(text: str) -> None:
    assert correct(text) == text


def test_quotes_keep_the_persons_own_characters() -> None:
    finding = next(f for f in find_signals("你把验正码报给我") if f.signal.id == "code_request")
    assert "验正码" in finding.quote
