"""Each fraud signal, one by one: it fires on what it names and not on its warning."""

from __future__ import annotations

import pytest

from bot.fraud.checker import find_signals
from bot.fraud.links import find_links, judge
from bot.fraud.signals import ALL_SIGNALS, FRAUD_TYPES, TEXT_SIGNALS


def ids(text: str) -> set[str]:
    return {f.signal.id for f in find_signals(text)}


# One message per text signal that must fire it.
FIRES = {
    "code_request": "您好，刚才发到您手机的验证码请告诉我，我帮您办理退款",
    "password_request": "请输入您的银行卡密码完成认证",
    "id_request": "请拍一下身份证正反面发给我",
    "card_request": "请提供您的银行卡号，我们把补贴打给您",
    "safe_account": "您涉嫌洗钱，请把存款转到国家安全账户接受审查",
    "transfer_request": "你先把钱转到这个卡上",
    "upfront_fee": "贷款已批下来，需要先交2000元保证金才能放款",
    "screen_share": "您打开屏幕共享，我一步一步教您操作",
    "meeting_app": "请下载腾讯会议，输入会议号 123 456 789",
    "download_app": "请点击下载这个理财软件",
    "add_contact": "请添加客服微信处理",
    "money_need": "我出车祸了，急需手术费",
    "urgency": "请今天之内办理，逾期作废",
    "secrecy": "这事你千万别告诉儿子，要保密",
    "threat": "您的账户将被冻结，并追究法律责任",
    "police": "我是市公安局的民警，你的银行卡涉嫌洗钱",
    "government_notice": "您的医保卡已冻结，请点击链接重新认证",
    "leader": "我是你领导，明天到我办公室来一趟",
    "new_number": "奶奶，我是你孙子，换了新号码，存一下",
    "customer_service": "我是快递客服，您的包裹丢失了，给您三倍赔偿",
    "guaranteed_profit": "跟着老师炒股，稳赚不赔，内幕消息",
    "brushing": "在家动动手指刷单点赞，日结佣金",
    "prize": "恭喜您获得我台幸运观众大奖",
    "free_gift": "明早到村委会听健康讲座，免费领鸡蛋",
    "cure_all": "这个保健品包治百病，吃了可以停药",
    "elder_investment": "投资养老公寓，每年返利百分之十五",
    "collectibles": "您家的纪念币我们高价回收，先交鉴定费",
    "loan": "无抵押贷款，秒到账",
    "credit": "您的校园贷没有注销，会影响征信",
    "romance": "网恋认识的老公让我在平台上充值",
    "game_trade": "游戏装备低价出售，私下交易",
    "shopping": "手机低价转让，加微信私下付款",
    "otp_warning": "您的验证码是482913，请勿泄露给他人",
    "official_warning": "银行工作人员不会要求您转账到安全账户，谨防诈骗",
    "names_the_scam": "近期有人冒充社保局工作人员，这些都是诈骗",
    "verify_advice": "接到借钱电话，先打原来的号码核实，拿不准就拨打96110",
    "unsubscribe": "本店周年庆全场八折，退订回T",
    "pickup_code": "您的快递已到驿站，取件码 5-2-1033",
    "official_channel": "请到营业厅或通过官方App办理",
}


def test_every_text_signal_has_an_example() -> None:
    assert set(FIRES) == {s.id for s in TEXT_SIGNALS}


@pytest.mark.parametrize("signal_id", sorted(FIRES))
def test_signal_fires_on_its_example(signal_id: str) -> None:
    assert signal_id in ids(FIRES[signal_id])


@pytest.mark.parametrize(
    "text, signal_id",
    [
        ("工作人员不会向您索要验证码，请勿告诉他人", "code_request"),
        ("密码请本人设置，不要告诉任何人", "password_request"),
        ("公检法机关不会要求您把钱转到安全账户", "safe_account"),
        ("银行不会让您开启屏幕共享", "screen_share"),
        ("无需交纳任何手续费", "upfront_fee"),
        ("请本人到窗口办理，无需在网上交费", "upfront_fee"),
    ],
)
def test_warnings_do_not_count_as_requests(text: str, signal_id: str) -> None:
    assert signal_id not in ids(text)


@pytest.mark.parametrize(
    "text, absent",
    [
        ("个人所得税汇算将于6月30日结束", "brushing"),  # 日结束 is not 日结
        ("有人推销养老公寓", "romance"),  # 养老公寓 holds no 老公
        ("我刚给你微信转了500块生活费，点收款就到了", "transfer_request"),
    ],
)
def test_words_that_only_look_like_signals(text: str, absent: str) -> None:
    assert absent not in ids(text)


def test_signals_are_well_formed() -> None:
    assert len({s.id for s in ALL_SIGNALS}) == len(ALL_SIGNALS)
    for s in ALL_SIGNALS:
        assert s.reason and s.weight != 0
        assert s.fraud_type is None or s.fraud_type in FRAUD_TYPES
        assert "风险" not in s.reason  # the verdict line alone names the risk level


@pytest.mark.parametrize(
    "host, signal_id",
    [
        ("icbc-vip.top", "lookalike_domain"),
        ("12333-renzheng.cn", "lookalike_domain"),
        ("wx.gov-etc.com", "lookalike_domain"),
        ("jd-tuikuan.cn", "lookalike_domain"),
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
    ],
)
def test_link_hosts(host: str, signal_id: str) -> None:
    assert judge(host).id == signal_id


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
