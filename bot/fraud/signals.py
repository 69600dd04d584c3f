"""Every fraud signal the checker knows, as data, in one place.

A signal has an id, the plain reason a senior reads (the matched words are
quoted after it), a weight in points, and the fraud type it points to, named
as the Ministry of Public Security names the common types. Negative weights
are signs of a genuine notice: a one-time code that says 请勿泄露, an
anti-fraud warning, an unsubscribe line, a pickup code.

Text signals are regular expressions over the message (NFKC-normalised,
simplified). Requests and transfers are ignored where a negation stands just
before them ("银行不会要求您转账到安全账户" warns, it does not ask). Link
signals are judged by ``bot.fraud.links`` from the tables at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The Ministry of Public Security's names for the common types (公安部刑侦局,
# 国家反诈中心), plus 养老诈骗 (全国打击整治养老诈骗专项行动).
FRAUD_TYPES: dict[str, str] = {
    "brushing_rebate": "刷单返利",
    "fake_investment": "虚假投资理财",
    "fake_loan": "虚假网络贷款",
    "fake_shopping": "虚假购物服务",
    "fake_customer_service": "冒充电商物流客服",
    "fake_credit": "虚假征信",
    "impersonate_acquaintance": "冒充领导熟人",
    "impersonate_police": "冒充公检法及政府机关",
    "romance": "网络婚恋交友",
    "game_trade": "网络游戏虚假交易",
    "elder_scam": "养老诈骗",
}


NEGATION_WINDOW = 16  # characters before a request searched for a negation (same clause)


@dataclass(frozen=True)
class Signal:
    id: str
    reason: str
    weight: float
    pattern: re.Pattern[str]
    fraud_type: str | None = None
    negatable: bool = False  # ignore matches that follow a negation


def _signal(
    id: str,
    reason: str,
    weight: float,
    pattern: str,
    fraud_type: str | None = None,
    negatable: bool = False,
) -> Signal:
    return Signal(id, reason, weight, re.compile(pattern, re.IGNORECASE), fraud_type, negatable)


_SEP = r"[^。！？!?\n]{0,12}"  # within one clause
_CODE = r"(?:验证码|校验码|动态码|动态密码|短信码)"
_FEES = (
    r"(?:手续费|保证金|解冻费|激活费|税费|个人所得税|工本费|会员费|押金|验资|认证费|服务费|"
    r"公证费|刷流水|流水|保险费|通道费|鉴定费|保管费|运费险费)"
)

TEXT_SIGNALS: tuple[Signal, ...] = (
    # What a scammer needs from you.
    _signal(
        "code_request",
        "要您说出或转发验证码",
        4,
        rf"{_CODE}{_SEP}(?:告诉|发给|发送给|提供|报给|念给|说给|给我|发过来|回复给|填写|填入|输入)"
        rf"|(?:告诉|发给|提供|报给|念给|说一下|报一下|念一下)我?{_SEP}{_CODE}",
        negatable=True,
    ),
    _signal(
        "password_request",
        "要您的密码",
        4,
        rf"(?:密码){_SEP}(?:告诉|提供|发给|填写|输入|报给)|(?:告诉|提供|填写|输入)我?{_SEP}密码",
        negatable=True,
    ),
    _signal(
        "id_request",
        "要您的身份证号或照片",
        2,
        r"(?:提供|发|拍|上传|告诉|报)[^。！？\n]{0,8}身份证|身份证(?:号码?|照片|正反面)[^。！？\n]{0,8}(?:发|提供|拍|上传|告诉)",
        negatable=True,
    ),
    _signal(
        "card_request",
        "要您的银行卡号",
        3,
        r"(?:提供|发|告诉|填写|报)[^。！？\n]{0,8}(?:银行卡号|卡号|卡的正反面|银行卡照片)"
        r"|(?:银行卡号|卡号)[^。！？\n]{0,8}(?:发|提供|告诉|填写)",
        negatable=True,
    ),
    # Where the money is meant to go.
    _signal(
        "safe_account",
        "要求把钱转到“安全账户”，公检法没有安全账户",
        5,
        r"安全账户|安全帐户|资金清查|清查账户|核查账户|资金审查|监管账户|资金核查|验资账户",
        "impersonate_police",
        negatable=True,
    ),
    _signal(
        "transfer_request",
        "要您转账汇款",
        2,
        r"(?:给我|帮我|请|要|需要|马上|赶紧|先|把钱|把存款|你|您)[^。！？\n]{0,6}"
        r"(?:转账|转钱|汇款|打钱|转过来|转到|汇到|打到|存到|充值到)|转给我|打给我|转一下",
        negatable=True,
    ),
    _signal(
        "upfront_fee",
        "要您先交钱才能拿到钱",
        4,
        rf"(?:先|需要?|须|必须|缴纳|交纳?|支付|才能|再交|补交)[^。！？\n]{{0,10}}{_FEES}"
        rf"|{_FEES}[^。！？\n]{{0,12}}(?:才能|后即可|即可到账|到账|就能|才可以|解冻)",
        negatable=True,
    ),
    _signal(
        "screen_share",
        "要您开“屏幕共享”，对方能看到您的密码和验证码",
        5,
        r"屏幕共享|共享屏幕|开启共享|屏幕分享|共享一下屏幕|投屏给",
        "fake_customer_service",
        negatable=True,
    ),
    _signal(
        "meeting_app",
        "要您下载会议软件或陌生软件",
        3,
        r"腾讯会议|钉钉会议|zoom|瞩目|会议号|会议室号|会议码",
        negatable=True,
    ),
    _signal(
        "download_app",
        "要您下载陌生软件",
        1,
        r"(?:下载|安装)[^。！？\n]{0,8}(?:app|软件|客户端)",
        negatable=True,
    ),
    _signal(
        "add_contact",
        "要您加陌生微信、QQ或进群",
        1,
        r"(?:添加|加)[^。！？\n]{0,6}(?:微信|qq|企业微信|群聊|群)",
        negatable=True,
    ),
    _signal(
        "money_need",
        "说急需用钱",
        2,
        r"急需|急用钱|急着用钱|需要钱|手术费|医药费|保释金|保释|赔偿金|律师费|(?:向你|向您|找你|找您|跟你|跟您|问你|问您)借钱|借(?:我|点|些)钱",
    ),
    # Pressure.
    _signal(
        "urgency",
        "催您马上办",
        0.5,
        r"马上|立即|立刻|尽快|赶紧|赶快|今天之内|今日内|\d+小时内|限时|逾期|过期作废|否则|最后期限|紧急|火速",
    ),
    _signal(
        "secrecy",
        "要您瞒着家人",
        4,
        r"保密|不要声张|(?:不要|别|不能|不许|千万别|莫)(?:告诉|跟|让|和|给)[^。！？\n]{0,4}"
        r"(?:家人|家里人|子女|儿女|孩子|儿子|女儿|老伴|亲戚|家里|爸妈|父母|妈|爸|老婆|老公|屋头|老汉儿)",
    ),
    _signal(
        "threat",
        "拿冻结、坐牢、征信来吓您",
        2,
        r"冻结|封号|纳入失信|拘留|逮捕|通缉|传唤|法律责任|起诉|坐牢|黑名单|影响征信|影响个人信用|涉嫌",
    ),
    # Who they pretend to be.
    _signal(
        "police",
        "自称公安、检察院、法院办案",
        3,
        r"警官|民警|刑警|经侦|通缉令|逮捕令|洗钱|涉案|协助调查|配合调查|做笔录|办案"
        r"|(?:我|这里|我们)是[^。！？\n]{0,10}(?:公安|派出所|检察院|法院|警察)|被(?:派出所|公安|警察)(?:抓|带走|扣)",
        "impersonate_police",
    ),
    _signal(
        "government_notice",
        "冒充医保、社保、ETC等通知",
        2,
        r"(?:医保|社保|养老金|退休金|etc|补贴|税务|公积金)[^。！？\n]{0,12}"
        r"(?:异常|冻结|停用|失效|过期|认证|升级|退还|退税|领取|补发|到期|注销)",
        "impersonate_police",
    ),
    _signal(
        "leader",
        "冒充领导、老板",
        3,
        r"我是你(?:的)?(?:领导|老板|上级|校长|局长|书记|主任)|(?:来|到)我办公室|明天来找我"
        r"|我是[王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高]?(?:总|局长|主任|书记|校长)",
        "impersonate_acquaintance",
    ),
    _signal(
        "new_number",
        "自称亲友换了新号码",
        3,
        r"换了?(?:个)?(?:新)?(?:号|号码|手机号)|新号码|新手机号|这是我(?:的)?新号|手机(?:坏了|掉了|丢了|摔坏了)"
        r"|我是你(?:的)?(?:孙子|孙女|儿子|女儿|外孙|外孙女|侄子|侄女|外甥|老同学|战友|表弟|表妹|表哥|表姐|堂弟|堂哥|妹妹|弟弟|姐姐|哥哥|老乡|同事)"
        r"|我是[^。！？,，\n]{1,6}的(?:儿子|女儿|孙子|孙女|侄子|外甥|同学|朋友|亲戚|姐姐|妹妹|哥哥|弟弟|后代|老婆|老公)"
        r"|猜猜我是谁|听不出来我是谁",
        "impersonate_acquaintance",
    ),
    _signal(
        "customer_service",
        "冒充客服说要退款、理赔",
        3,
        r"(?:客服|售后|快递员|物流)[^。！？\n]{0,20}(?:退款|理赔|赔偿|赔付|质量问题|丢件|丢失|订单异常|取消会员|扣费|关闭)"
        r"|(?:双倍|三倍|加倍)(?:赔偿|赔付|退款)",
        "fake_customer_service",
    ),
    # Offers too good to be true.
    _signal(
        "guaranteed_profit",
        "说投资稳赚不赔、高回报",
        4,
        r"稳赚|保本高息|高回报|高收益|零风险|无风险|日赚|月入过万|收益翻倍|内幕消息|带单|荐股|原始股|数字货币|虚拟币|usdt|回报率",
        "fake_investment",
    ),
    _signal(
        "brushing",
        "刷单、点赞、做任务返佣金",
        4,
        r"刷单|刷信誉|点赞|做任务|返利|返佣|佣金|垫付|抢单|日结(?!束)|兼职",
        "brushing_rebate",
    ),
    _signal(
        "prize",
        "说您中奖、领大奖",
        2,
        r"中奖|中了|恭喜您?获得|幸运(?:用户|观众|客户)|抽中|获奖|领取奖品|大奖|奖金",
        "elder_scam",
    ),
    _signal(
        "free_gift",
        "免费送礼品、听讲座、旅游",
        2,
        r"免费领|免费送|免费体检|免费旅游|免费午餐|领鸡蛋|送鸡蛋|听讲座|健康讲座|专家讲座|送礼品|免费品尝|会销|养生课",
        "elder_scam",
    ),
    _signal(
        "cure_all",
        "说产品能治百病、代替吃药",
        4,
        r"包治百病|根治|治愈率|特效药|神药|祖传秘方|不用吃药|可以停药|停掉降压药|代替药物|药到病除|什么病都能治|都能治好|百病",
        "elder_scam",
    ),
    _signal(
        "elder_investment",
        "以养老项目、以房养老为名要钱",
        4,
        r"以房养老|养老项目|养老公寓|养老基地|养老床位|预售床位|养老投资|康养项目|候鸟式养老|养老服务会员|抵押房产",
        "elder_scam",
    ),
    _signal(
        "collectibles",
        "高价收购或拍卖收藏品",
        3,
        r"收藏品|纪念币|纪念钞|邮票|字画|古董|高价回收|拍卖|鉴定费|升值空间",
        "elder_scam",
    ),
    _signal(
        "loan",
        "无抵押、秒到账的贷款",
        2,
        r"无抵押|免抵押|秒到账|秒批|秒放款|低息|免息贷|黑户可贷|征信不好也能贷|不看征信|放款|贷款额度|提升额度|网贷",
        "fake_loan",
    ),
    _signal(
        "credit",
        "说要注销校园贷、修复征信",
        4,
        r"修复征信|修复信用|注销(?:校园贷|学生贷|账户|金条|白条|借呗|微粒贷|贷款)|校园贷|学生贷|征信(?:受损|有问题|不良|异常)",
        "fake_credit",
    ),
    _signal(
        "romance",
        "网上认识的人谈感情后谈钱",
        2,
        r"网恋|婚恋|交友平台|相亲网|(?<!养)老公|老婆",
        "romance",
    ),
    _signal(
        "game_trade",
        "游戏账号、装备买卖",
        3,
        r"(?:游戏|装备|皮肤|点券|金币|代练)[^。！？\n]{0,10}(?:交易|出售|收购|买卖|解冻|充值|账号)",
        "game_trade",
    ),
    _signal(
        "shopping",
        "低价商品要私下付款",
        2,
        r"(?:私下|微信|直接)(?:转账|交易|付款)|低价(?:出售|转让)|内部价|清仓价|代购",
        "fake_shopping",
    ),
    # Signs of a genuine notice.
    _signal(
        "otp_warning",
        "验证码消息提醒“请勿泄露”，这是正常的验证码短信",
        -4,
        rf"{_CODE}[^\n]{{0,40}}(?:请勿|切勿|不要|严禁|勿)[^。\n]{{0,8}}(?:泄露|告诉|告知|转发|提供|透露)"
        r"|(?:请勿|切勿)(?:泄露|告知他人)",
    ),
    _signal(
        "official_warning",
        "是提醒防骗的消息",
        -4,
        r"(?:不会|绝不会|从不|从来不|决不会)[^。！？\n]{0,10}(?:要求|让|索要|以|通过|发送)[^。！？\n]{0,20}"
        r"(?:转账|汇款|验证码|密码|安全账户|屏幕共享|交费|缴费|链接|银行卡)|谨防|警惕|提防|反诈提醒|防骗提醒"
        r"|反诈预警|如遇可疑",
    ),
    _signal(
        "names_the_scam",
        "消息本身在揭穿骗局，是防骗提醒",
        -4,
        r"有人冒充|冒充[^。！？\n]{0,12}(?:的|都是|诈骗)|都是诈骗|一律是诈骗|就是诈骗|都是骗子|都是套路|是骗局|是诈骗"
        r"|非法集资|别上当|不要上当|谨防上当",
    ),
    _signal(
        "verify_advice",
        "提醒您自己打电话核实",
        -3,
        r"(?:打|拨打)[^。！？\n]{0,8}(?:原来的|原号码|本人|官方)[^。！？\n]{0,8}核实|(?:打|拨打)96110|96110(?:咨询|问)",
    ),
    _signal("unsubscribe", "带有退订方式的通知", -1, r"退订回?[tn]|回[tn]退订|拒收请回复|退订请回"),
    _signal("pickup_code", "快递取件通知", -1, r"取件码|凭码取件|快递柜|驿站"),
    _signal(
        "official_channel",
        "让您到官方渠道办理",
        -1,
        r"官方app|官方客户端|营业厅|柜台|窗口办理|拨打官方|官方网站|官方渠道|到银行网点|掌上12333|国家医保服务平台|国家政务服务平台",
    ),
)

# Link tables, judged by bot.fraud.links.
SHORTENERS = frozenset(
    "t.cn url.cn w.url.cn dwz.cn suo.im bit.ly tinyurl.com is.gd goo.gl ow.ly "
    "rebrand.ly cutt.ly 6du.in dwz.date u.nu".split()
)
# Top-level domains cheap to register and common in fraud links.
RISKY_TLDS = frozenset(
    "top xyz cc icu vip club work buzz loan click link wang site online live ltd ren "
    "fun shop store bid win kim tk ml ga cf gq".split()
)
# Names scammers borrow inside their own domains, and the real domains they belong to.
OFFICIAL_DOMAINS: dict[str, tuple[str, ...]] = {
    "icbc": ("icbc.com.cn",),
    "95588": ("icbc.com.cn",),
    "ccb": ("ccb.com",),
    "95533": ("ccb.com",),
    "abchina": ("abchina.com",),
    "boc": ("boc.cn", "bankofchina.com"),
    "psbc": ("psbc.com",),
    "cmbchina": ("cmbchina.com",),
    "unionpay": ("unionpay.com", "95516.com"),
    "alipay": ("alipay.com",),
    "taobao": ("taobao.com",),
    "tmall": ("tmall.com",),
    "jd": ("jd.com",),
    "pinduoduo": ("pinduoduo.com", "yangkeduo.com"),
    "weixin": ("weixin.qq.com", "qq.com"),
    "wechat": ("wechat.com", "qq.com"),
    "10086": ("10086.cn",),
    "chinamobile": ("10086.cn", "chinamobile.com"),
    "10010": ("10010.com", "chinaunicom.com"),
    "chinaunicom": ("10010.com", "chinaunicom.com"),
    "189": ("189.cn",),
    "chinatelecom": ("189.cn", "chinatelecom.com.cn"),
    "12306": ("12306.cn",),
    "12333": ("12333.gov.cn", "mohrss.gov.cn"),
    "12123": ("122.gov.cn",),
    "yibao": ("nhsa.gov.cn",),
    "shebao": ("mohrss.gov.cn",),
    "etc": ("etc.com.cn",),
    "gov": ("gov.cn",),
    "police": ("mps.gov.cn",),
    "gongan": ("mps.gov.cn",),
    "fanzha": ("mps.gov.cn",),
    "sf-express": ("sf-express.com",),
    "ems": ("ems.com.cn",),
    "chinapost": ("chinapost.com.cn",),
}

LINK_SIGNALS: dict[str, Signal] = {
    s.id: s
    for s in (
        _signal("lookalike_domain", "链接不是官方网址，只是借用了官方的名字", 5, r"(?!)"),
        _signal("short_link", "用短网址藏起真实网址", 3, r"(?!)"),
        _signal("ip_link", "链接是一串数字地址，不是正规网站", 4, r"(?!)"),
        _signal("risky_tld", "链接的网址后缀少见，正规机构很少用", 3, r"(?!)"),
        _signal("unknown_link", "消息里有陌生链接", 1, r"(?!)"),
        _signal("official_link", "链接是官方网址", -1, r"(?!)"),
    )
}

ALL_SIGNALS: tuple[Signal, ...] = TEXT_SIGNALS + tuple(LINK_SIGNALS.values())
