"""Each fraud signal, one by one: it fires on what it names and not on its warning."""

from __future__ import annotations

import pytest

from bot.fraud.checker import find_signals
from bot.fraud.links import find_links, find_numbers, judge
from bot.fraud.signals import ALL_SIGNALS, FAMILIES, FRAUD_TYPES, TEXT_SIGNALS


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
}


def test_every_text_signal_has_an_example() -> None:
    assert set(FIRES) == {s.id for s in TEXT_SIGNALS}


@pytest.mark.parametrize("signal_id", sorted(FIRES))
def test_signal_fires_on_its_example(signal_id: str) -> None:
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
    ],
)
def test_words_that_only_look_like_signals(text: str, absent: str) -> None:
    assert absent not in ids(text)


def test_signals_are_well_formed() -> None:
    assert len({s.id for s in ALL_SIGNALS}) == len(ALL_SIGNALS)
    for s in ALL_SIGNALS:
        assert s.reason and s.weight != 0
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
        assert all(part in text for part in finding.quote.split("…")), finding.quote
        assert len(finding.quote) <= 24
        assert finding.reason.endswith(f"“{finding.quote}”")


@pytest.mark.parametrize(
    "host, signal_id",
    [
        ("icbc-vip.top", "lookalike_domain"),
        ("12333-renzheng.cn", "lookalike_domain"),
        ("wx.gov-etc.com", "lookalike_domain"),
        ("jd-tuikuan.cn", "lookalike_domain"),
        ("gov-cn.top", "lookalike_domain"),
        ("nhsa.gov.cn.xyz.top", "lookalike_domain"),
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
