"""Every fraud signal the checker knows, as data, in one place.

A signal has an id, the plain reason a senior reads (the matched words are
quoted after it), a weight in points, the fraud type it points to (named as
the Ministry of Public Security names the common types) and its family:

- ``ask``: the message asks the reader for money, a code or password, a
  personal number, a face scan or control of the phone. Each is enough for
  高风险 on its own (``bot.fraud.checker`` states the criteria).
- ``script``: a known scam script (安全账户, 刷单, 包治百病, 注销校园贷 …),
  also enough on its own.
- ``context``: who they claim to be, pressure, free gifts, threats, odd
  numbers; these add up, and make a message 中风险 on their own.
- ``genuine``: signs of a genuine notice (negative weights): a one-time code
  that says 请勿泄露, an anti-fraud warning, an unsubscribe line, a bank's
  record of a payment you made.
- ``ingredient``: says nothing alone (weight 0, never shown): a price, a
  "log in / pay / verify". It only completes a script in ``SCRIPTS``.

``SCRIPTS`` are the known scams told by their ingredients rather than their
wording: a lure plus a request plus pressure or secrecy (a risky link plus
"登录/认证/缴费"; free eggs plus a health product plus a price; an online
sweetheart plus an investment platform). Each found is a ``script`` signal
whose reason quotes every ingredient. Misspellings by sound (一保局, 冻节,
验正码) are put right before matching (``bot.fraud.sounds``).

Text signals are regular expressions over the message (NFKC-normalised, so
full-width punctuation is ASCII here). Requests are ignored where the clause
negates them ("银行绝不会索要验证码", "请勿转账") or frames them as the scam
being warned about ("凡是让您转账到安全账户的都是诈骗"); see
``bot.fraud.checker``. Link and number signals are judged by ``bot.fraud.links``
from the tables at the end.
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
    "fake_prize": "虚假中奖",
}

FAMILIES = ("ask", "script", "context", "genuine", "ingredient")
NEGATION_WINDOW = 16  # characters before a request searched for a negation (same clause)


@dataclass(frozen=True)
class Signal:
    id: str
    reason: str
    weight: float
    pattern: re.Pattern[str]
    fraud_type: str | None = None
    negatable: bool = False  # ignore matches that a negation or a warning frames
    family: str = "context"
    # Ignore matches in a sentence with these words ("带身份证到村委会": in person, not sent).
    void_in_sentence: re.Pattern[str] | None = None
    # Ignore matches after these words in the same clause ("我给你转过来" gives, not asks).
    void_before: re.Pattern[str] | None = None
    # The pattern's own first word may be a negation ("不要吃西药" is the claim itself).
    starts_negated: bool = False


def _signal(
    id: str,
    reason: str,
    weight: float,
    pattern: str,
    fraud_type: str | None = None,
    negatable: bool = False,
    family: str = "context",
    void_in_sentence: str | None = None,
    void_before: str | None = None,
    starts_negated: bool = False,
) -> Signal:
    return Signal(
        id,
        reason,
        weight,
        re.compile(pattern, re.IGNORECASE),
        fraud_type,
        negatable,
        family,
        re.compile(void_in_sentence) if void_in_sentence else None,
        re.compile(void_before) if void_before else None,
        starts_negated,
    )


_C = r"[^。!?;\n]"  # one character within the sentence
_SEP = rf"{_C}{{0,12}}"  # within one sentence
_NEAR = r"[^。!?;,\n]{0,10}"  # within one clause
_HAN_NUMBER = r"[一二两三四五六七八九十几][一二两三四五六七八九十百千万几]*"
_AMOUNT = rf"(?:\d[\d,.]*|{_HAN_NUMBER})(?:多|余)?(?:块|元|万|千|百)"
# A sum to transfer: "3000" alone counts after 转/汇/付 (not after 打, which dials numbers).
_SUM = rf"(?:{_AMOUNT}|\d{{3,}}(?![\d.]))"
_CODE = r"(?:验证码|校验码|动态码|动态密码|短信码|确认码)"
# Who is asked: the reader ("你/您/请"), or the victim telling us ("叫我/要我/让我").
_ASKED = r"(?:请|请您|您|你|要|需要|需|须|必须|麻烦|叫我|让我|要我|喊我|教我|要求|叫|让|喊)"
_TELL = (
    r"(?:告诉|告知|发给|发送|发到|发过来|发来|发一下|发个|发|提供|报给|报一下|报|念给|念一下|念|说出|说一下"
    r"|回复|填写|填入|填进|填上|填|输入|输|上传|拍照|拍给|拍下来|拍个|拍|截图|给我|交给|寄给|索要|核对"
    r"|(?:问|找|跟|向)(?:我|你|您)要)"
)
_FEES = (
    r"(?:手续费|保证金|解冻费|激活费|税费|个人所得税|所得税|工本费|会员费|押金|验资|认证费|服务费|公证费"
    r"|刷流水|流水|保险费|通道费|鉴定费|保管费|定金|订金|报名费|介绍费|证书费|包装费|路费|运费|管理费"
    r"|入会费|会费|培训费|材料费|税款|滞纳金|年费|预存|押金|担保费|成本费|邮费|注册费|开户费|挂牌费|图录费|补缴|解冻金|保价)"
)
_BODIES = (
    r"(?:医保局|医保中心|医保|社保局|社保中心|社保所|社保|人社局|人社|人力社保|民政局|民政|老龄办|老年协会"
    r"|公安局|公安|派出所|警察|民警|刑警|警官|法院|检察院|检察官|法官|税务局|税务|市场监管|银保监|金融监管"
    r"|人民银行|央行|银联|卫健委|卫健局|疾控|防疫|通信管理局|通讯管理局|工信部|农业局|农业农村|财政局|电视台"
    r"|快递|物流|顺丰|邮政|京东|淘宝|天猫|拼多多|抖音|快手|支付宝|微信|电商|客服|理赔|售后"
    r"|银行|信用社|农商行|农信|工行|建行|农行|中行|邮储|移动公司|联通|电信|运营商|营业厅|贷款公司|金融公司"
    r"|保险公司|航空公司|养老院|养老服务中心|健康中心|政府|领导"
    r"|燃气公司|燃气|供电公司|供电局|电力公司|国家电网|电网|自来水公司|水务)"
)

# Words in the same sentence that send the reader somewhere in person: a
# request for a number there is a form to bring, not a number to send.
IN_PERSON = (
    r"携带|出示|本人带|带上|带好|带齐|带起|带本人|(?:到|去|来)[^。!?;\n]{0,8}(?:窗口|柜台|营业厅|网点|村委会|居委会|社区|服务中心|卫生院"
    r"|医院|派出所|镇政府|镇上|现场|办公室|农服中心)|当面|现场|(?:工作人员|干部|医生|人员)[^。!?;\n]{0,4}上门"
)

TEXT_SIGNALS: tuple[Signal, ...] = (
    # ---- asks: what a scammer needs from you ----
    _signal(
        "code_request",
        "要您说出或转发验证码",
        5,
        rf"收到的(?:数字|号码|码|短信)[^。!?;,\n]{{0,6}}(?:发给|发我|告诉|念给|报给)"
        rf"|{_CODE}{_SEP}(?:告诉|发给|发我|发送给|发过来|发到|提供|报给|报一下|念给|念一下|说给|说一下|给我|给他|给她"
        rf"|回复给|填写|填入|填进|填到|填上|输入|是多少|多少)"
        rf"|(?:告诉|发给|提供|报给|念给|说一下|报一下|念一下|回复|填写|填入|输入|索要|问我要|要)[我你您]?{_SEP}{_CODE}"
        rf"|(?:念|报|读|说)(?:了|一下|出)?(?:个|一个|那个)?{_CODE}",
        negatable=True,
        family="ask",
    ),
    _signal(
        "password_request",
        "要您的密码",
        5,
        rf"(?<!设置)(?<!修改)(?:密码){_NEAR}(?:告诉|提供|发给|填写|填入|填进|输入|报给|说出|给我|多少)"
        rf"|(?:告诉|提供|填写|填入|输入|输|填|索要|问我要|报)[我你您]?{_NEAR}(?<!设置)密码",
        negatable=True,
        family="ask",
    ),
    _signal(
        "id_request",
        "要您的身份证号或照片",
        5,
        rf"{_TELL}{_NEAR}(?:身份证|户口本|身份信息|个人信息|户主姓名)"
        rf"|(?:身份证|户口本|身份信息)(?:号码?|照片|正反面|信息)?{_NEAR}(?:{_TELL}|发|拍|是什么|是多少)",
        negatable=True,
        family="ask",
        void_in_sentence=IN_PERSON,
    ),
    _signal(
        "card_request",
        "要您的银行卡号或卡里的余额",
        5,
        rf"{_TELL}{_NEAR}(?:银行卡|卡号|卡的正反面|存折|账户信息|卡信息|账号信息|余额)"
        rf"|(?:您|你)的(?:银行)?(?:账号|账户)[^。!?;,\n]{{0,4}}(?:发给|告诉|提供|给我|报给)"
        rf"|(?:银行卡号?|卡号|存折|卡内?余额|余额)(?:信息|照片|截图)?{_NEAR}(?:{_TELL}|发|拍|是什么|是多少)"
        rf"|(?:核实|确认|验证|了解|查看|检查|看一下|看看)[^。!?;,\n]{{0,8}}(?:银行卡信息|卡信息|卡内?的?余额|银行卡余额"
        rf"|流水|支付宝信息|账户信息|名下[^。!?;,\n]{{0,4}}(?:卡|账户))"
        # 准备好您的银行卡 (to read it out on the call), 拿我的银行卡去绑定
        rf"|准备好?(?:您|你)?的?(?:银行卡|卡号|存折)|(?:拿|收|要)(?:走|去)?(?:我|你|您)(?:们)?的(?:银行卡|存折|社保卡)",
        negatable=True,
        family="ask",
        void_in_sentence=IN_PERSON,
    ),
    _signal(
        "face_request",
        "要您刷脸、录视频认证，对方能拿去冒用您的身份",
        5,
        r"(?:帮|给|让|叫|要|配合|请)[^。!?;,\n]{0,8}(?:刷(?:个|一下)?脸|人脸识别|人脸认证|对着镜头|录(?:个|一段)?视频|拍(?:个|一段)?视频|发(?:个|一段)?视频)"
        r"|(?:刷脸|人脸识别|人脸认证)[^。!?;,\n]{0,8}(?:链接|点击|验证|就能|即可|解冻|领取)"
        r"|(?:要|让|叫|喊)[^。!?;,\n]{0,6}(?:跟|和|与)(?:我|你|您|她|他)(?:开|打)?视频|视频(?:核实|认证|验证|确认)身份",
        negatable=True,
        family="ask",
    ),
    _signal(
        "screen_share",
        "要您开“屏幕共享”或让人远程操作手机，对方能看到您的密码和验证码",
        5,
        r"屏幕共享|共享屏幕|开启共享|屏幕分享|共享一下屏幕|投屏|远程(?:控制|协助|操作|桌面)|向日葵|todesk"
        r"|teamviewer|anydesk|quicksupport",
        "fake_customer_service",
        negatable=True,
        family="ask",
    ),
    _signal(
        "meeting_app",
        "要您下载会议软件或陌生聊天软件，这是骗子常用的手法",
        4,
        r"腾讯会议|钉钉会议|zoom|瞩目|会议号|会议室号|会议码|飞书|会讯通|小鱼易连|云视讯|开会宝|全时云|云会议"
        r"|视频会议|会议(?:软件|app|室)|(?:下载|安装)[^。!?;\n]{0,10}(?:会议|聊天软件|聊天app|泡泡|蝙蝠|与你|快连)",
        negatable=True,
        family="ask",
    ),
    _signal(
        "money_request",
        "要您转账、汇钱或借钱给对方",
        5,
        # 转2680到我微信, 借我两万, 给他们转8000, 转个2000过来, 打五千块路费
        rf"(?:请|你|您|先|要|需|得|必须|叫|让|喊|帮|给(?:我|他|她|他们|对方)|马上|赶紧|直接|只要|一次性)[^。!?;,\n]{{0,8}}"
        rf"(?:(?:转|汇|付|垫|存|充|交|缴|投)(?:个|上|了|进|我|给我)?{_SUM}|打(?:个|了)?{_AMOUNT})"
        rf"|借(?:我|给我|他|她|他们|点|些|一点|一些|笔|一笔)+(?:钱|{_SUM})|借(?:我|给我)(?:点|些|一点|一些|一下)(?![\u4e00-\u9fff])"
        rf"|借[^。!?;,\n]{{0,4}}(?:钱|{_AMOUNT})[^。!?;,\n]{{0,2}}给(?:他|她|我|他们|对方)|帮(?:忙|我|他|她)?出(?:个|点)?{_AMOUNT}"
        rf"|(?:向|找|跟|问)(?:你|您|我)借(?:点|些|笔)?钱|借(?:我|给我)(?:点|些)?(?:钱|{_AMOUNT})|借钱给"
        rf"|(?:把|将)[^。!?;,\n]{{0,10}}(?:钱|存款|积蓄|定期|余额|资金|款|费|租|金)[^。!?;\n]{{0,10}}"
        rf"(?:转|汇|打|存|取|交|放)(?:到|给|进|出|入|我|他|她)"
        rf"|(?:汇|转|打|交)(?:到)?(?:我|我爱人|我老婆|我老公|他|她|学校)[^。!?;,\n]{{0,8}}(?:卡|账户|账号|户头|微信|支付宝)"
        rf"|往[^。!?;,\n]{{0,12}}(?:转账|汇款|打钱|转钱|充值|转入)|转账给(?:我|他|她)|(?:微信|支付宝|直接)转我(?!们)"
        rf"|(?:二维码|码)[^。!?;,\n]{{0,4}}扫[^。!?;,\n]{{0,4}}(?:付|交|转|支付)"
        rf"|点击?[^。!?;,\n]{{0,6}}(?:链接|网址)[^。!?;,\n]{{0,8}}(?:缴纳|支付|缴费|付款|交)"
        rf"|(?:帮|帮助|协助|替)(?:我|他|她|忙)?[^。!?;,\n]{{0,10}}(?:转|送|给|发|交)[^。!?;,\n]{{0,6}}(?:红包|钱|款)"
        rf"|(?:帮|帮助|协助|替)(?:我|他|她|忙)?[^。!?;,\n]{{0,8}}(?:支付|付款|缴纳|充值|代付|垫付|代为处理|处理[^。!?;,\n]{{0,4}}款项)"
        rf"|转(?:到|给|进|入|至)(?:我|这个|下面|以下|指定|对方|公司|他|她|老师|新|一个|负责人)[^。!?;\n]{{0,12}}"
        rf"(?:账户|账号|卡|微信|支付宝|名下)"
        rf"|转账?(?:到|给|进|入|至)[^。!?;,\n]{{0,16}}指定的?(?:账户|账号|卡|银行卡)"
        rf"|(?:给|帮)(?:我|他|她|他们|对方|老师|领导)(?:转|汇|打)(?:账|款|钱|过去|一下|一点|点|些)"
        rf"|(?:帮|帮助|协助|替)(?:我|他|她|忙)?[^。!?;,\n]{{0,6}}(?:代付|代为缴纳|垫付|付款|交钱|交一下|付一下"
        rf"|(?:买|订|预订|购买)[一两]?张?[^。!?;,\n]{{0,4}}(?:机票|车票))"
        rf"|扫[^。!?;,\n]{{0,8}}(?:二维码|码)[^。!?;,\n]{{0,8}}(?:付|交|转|支付|缴|充)"
        rf"|{_ASKED}[^。!?;\n]{{0,6}}(?<!给你)(?<!给您)(?<!那个)(?<!这个)(?<!开)(?:转账|转钱|汇款|打钱|打款|转过来|汇过来|打过来|付款(?![方人码])|交钱)"
        rf"|(?:拿|带|送)[^。!?;,\n]{{0,4}}{_AMOUNT}[^。!?;,\n]{{0,4}}(?:给|到)(?:我|他|她|他们|对方|这边|那边|人家|来接|来拿|来取)"
        rf"|下单(?:并|后|就)?转账|转账下单|转给(?:我|他|她|他们)|打给我钱|转一下|先(?:转|汇|付|交)(?:个|一下|点|些|钱|款)"
        rf"|(?:叫|让|要|喊)(?:我|你|您)[^。!?;,\n]{{0,12}}(?:充钱|充值|投钱|投进去|充进去|入金|存进去)",
        negatable=True,
        family="ask",
        void_in_sentence=IN_PERSON,
        void_before=r"(?:给|帮|借给)(?:你|您)",
    ),
    _signal(
        "guided_operation",
        "要您照着对方的指挥在手机或取款机上操作，钱会被转走",
        5,
        r"(?:atm|自动取款机|柜员机|取款机)[^。!?;\n]{0,10}(?:操作|按|转|领取|输入)|电话里(?:指导|教|指挥)"
        r"|(?:指导|教|指挥)(?:我|您|你)[^。!?;,\n]{0,4}(?:操作|按键|转账|输入|点)|按照?(?:我|我们|对方|他|她)的?(?:指示|提示|指引|指导|说的|要求)"
        r"|一步一步(?:教|指导|操作)|(?:听|按)(?:我|我们)(?:说的|的)(?:做|操作)|操作指导|指导操作|远程指导"
        r"|(?:他|她|对方|那人|那个人|他们)说(?:啥子?|什么|哪样|哪里)[^。!?;,\n]{0,4}(?:我就|我都|就)(?:点|按|输|填|做|操作)"
        r"|(?:叫|让|喊|要|教)(?:我|你|您)(?:打开|点开|登录|登上)[^。!?;,\n]{0,6}(?:支付宝|手机银行|网银|银行app|付款码|收款码|借呗|花呗)",
        negatable=True,
        family="ask",
    ),
    _signal(
        "upfront_fee",
        "要您先交钱才能拿到好处（保证金、手续费、定金、会员费……）",
        5,
        rf"(?:先|需要?|须|必须|要|只要|只收|交|缴|缴纳|交纳|支付|(?<!到)付|补交|再交|才能|预交|转|垫)[^。!?;,\n]{{0,10}}{_FEES}"
        rf"|{_FEES}[^。!?;\n]{{0,16}}(?:才能|后即可|即可到账|到账|就能|才可以|解冻|才给|才发|再给)"
        rf"|(?:先|要先|需先|得先|必须先|还要|又要|再交)(?:交|付|缴|转|汇|充|存)[^。!?;,\n]{{0,10}}(?:费|税(?!务)|钱|款)"
        rf"|(?:缴纳|交纳|支付|缴(?!纳)|交(?!纳))(?:点|些|一点|个)?(?!电|水|话|气|燃|学|党|物业|网|宽带|医保|社保|养老|保险|新农合|居民|医疗|车险|罚)"
        rf"[\u4e00-\u9fff]{{1,4}}费"
        rf"|(?:充值|缴纳|交|开通|激活|补)[^。!?;,\n]{{0,10}}(?:才能|后方可|方可|即可到账|后即可)"
        rf"|(?:先|再)(?:买|交|付|充|存|转)[^。!?;,\n]{{0,10}}才(?:能|可以|给|发|肯)"
        rf"|(?:花|交|出|拿)[^。!?;,\n]{{0,4}}{_AMOUNT}[^。!?;,\n]{{0,8}}才(?:能|可以)"
        rf"|{_AMOUNT}[^。!?;,\n]{{0,4}}(?:办|当|成为|入)(?:个)?(?:会员|vip)"
        rf"|(?:交|花|充|存|付){_C}{{0,8}}(?:办|当|成为|入)(?:个)?(?:会员|vip)"
        rf"|(?:提前|预先|事先|先行)(?:转账|汇款|打款|交钱|付钱)"
        rf"|(?:需|要|得|必须|须)先(?:购买|买|订购|下单)"
        rf"|(?:缴纳|交纳|缴清|交清|缴)[^。!?;,\n]{{0,4}}(?:执行款|保释金|赔偿金|案款|罚金)",
        negatable=True,
        family="ask",
    ),
    # ---- scripts: what only a scam says ----
    _signal(
        "safe_account",
        "要求把钱转到“安全账户”，公检法没有安全账户",
        5,
        r"安全账户|安全帐户|资金清查|清查账户|核查账户|资金审查|资金核查|验资账户|验证账户|清白账户",
        "impersonate_police",
        negatable=True,
        family="script",
    ),
    _signal(
        "cure_all",
        "说产品能治病、能代替吃药，正规药品和医生不会这样说",
        5,
        r"包治百病|治百病|百病全消|什么病都能治|都能治好|都能治|药到病除|祖传秘方|神药|特效药|比吃药还|扔(?:了)?拐"
        r"|(?:吃了|用了|喝了|戴了|睡了)[^。!?;,\n]{0,6}(?:就能|能|可以)?(?:根治|治好|断根)|保证(?:能)?(?:好|治好|根治)|包好"
        r"|停(?:掉)?(?:降压药|降糖药|胰岛素)"
        r"|(?:能治|可治|根治|治好|治愈|专治|专门治|包治|能好|都好了|就好了|全好了|一吃就好|吃好了|就能好|都能好|断根|除根|逆转"
        r"|降下来|就正常|恢复正常|洗干净|疏通|通经络|降三高|降血压|降血糖|降血脂|溶栓|清除血栓|软化血管)"
        r"[^。!?;\n]{0,14}(?:高血压|糖尿病|三高|血压|血糖|血脂|风湿|关节炎|关节|痛风|癌|肿瘤|中风|脑梗|心梗|冠心病|血栓|血管"
        r"|老寒腿|腰椎|颈椎|骨质增生|前列腺|失眠|痴呆|帕金森|白内障|慢性病|百病|病|拐)"
        r"|(?:高血压|糖尿病|三高|血压|血糖|血脂|风湿|关节炎|痛风|癌|肿瘤|中风|脑梗|心梗|冠心病|血栓|血管|老寒腿|腰椎|颈椎"
        r"|骨质增生|前列腺|失眠|痴呆|帕金森|白内障|慢性病|拐杖|拄拐)[^。!?;\n]{0,14}"
        r"(?:能治|可治|根治|治好|治愈|都能好|就能好|一吃就好|就好了|都好了|全好了|断根|除根|逆转|降下来|就正常了?|恢复正常|洗干净|不用拄|扔了)"
        r"|(?:降压药|降糖药|胰岛素|西药|药)[^。!?;,\n]{0,4}(?:都能停|都可以停|可以停|能停|就能停|停了|不用吃|不吃了|都不吃|莫吃|别吃)"
        r"|(?:莫|别|不要|不用)再?(?:打|吃)(?:胰岛素|降压药|降糖药|西药)|停掉降压药|不用吃药|可以停药|代替药物|替代药物|连药都不",
        "elder_scam",
        negatable=True,
        family="script",
        starts_negated=True,
    ),
    _signal(
        "guaranteed_profit",
        "说投资稳赚不赔、高回报",
        5,
        r"稳赚|保本高息|高回报|高收益|零风险|无风险|日赚|月入过万|收益翻倍|内幕消息|带单|荐股|原始股|数字货币|虚拟币|usdt"
        r"|回报率|(?:国家|政府|央企|银行)兜底|保底[^。!?;,\n]{0,8}回购|年化(?:收益率?|利率)?(?:高达|达到?)?[1-9]\d(?:\.\d+)?%|返息|分红[^。!?;\n]{0,6}\d|保本保息|保底收益|政府兜底|不会亏|包赚|(?:收益|利润|钱)[^。!?;,\n]{0,4}翻倍"
        r"|翻[一两三]番|每月[^。!?;\n]{0,6}返|保证收益|保底(?:收益|利息|回报|分红)|一年保底|到期保本|躺赚|每天(?:返还|收益|返)|入金|出金|加仓|涨停|必涨|牛股|私募"
        r"|不会亏|亏了[^。!?;,\n]{0,4}赔|保你[^。!?;,\n]{0,4}(?:赚|翻)|升值[^。!?;,\n]{0,2}倍|承诺回购|保证回购|外汇|炒汇|期货|(?:一个月|一年|每月|每年)[^。!?;,\n]{0,4}赚了?[^。!?;,\n]{0,4}万"
        r"|(?:老师|导师|大师|专家|群主)[^。!?;,\n]{0,6}(?:带|教|推荐)[^。!?;,\n]{0,6}(?:炒股|投资|理财|炒币|买股|股票)"
        r"|(?:投|炒|买)了[^。!?;,\n]{0,3}(?:\d+|[一二两三四五六七八九十几]+)(?:万|千|块|元)[^。!?;\n]{0,8}(?:变成|涨到|翻成|赚了|挣了)"
        r"|(?:价格|价钱|价|收益|利润|升值|回收|回购|收购)[^。!?;,\n]{0,6}(?:翻|涨)[^。!?;,\n]{0,2}(?:\d+|[一二两三四五六七八九十几]+)倍"
        r"|(?:\d+|[一二两三四五六七八九十几]+)倍的?(?:价格|价钱|价)?(?:回购|回收|收购|返还)"
        r"|(?:利息|利率|收益|回报|分红|返)[^。!?;,\n]{0,6}(?:百分之(?:[六七八九]|[一二三四五六七八九]?十)|(?<![\d.])(?:[6-9]|[1-9]\d)(?:\.\d+)?%)"
        r"|(?:百分之(?:[六七八九]|[一二三四五六七八九]?十[一二三四五六七八九]?)|(?<![\d.])(?:[6-9]|[1-9]\d)(?:\.\d+)?%)的?(?:利息|回报|收益|分红)"
        r"|(?:投|存|放|买|入股|认购|交)[^。!?;\n]{0,16}(?:每年|一年|每月|一个月|每个月|按月|按年)[^。!?;,\n]{0,3}(?:能|可以|就能|稳)?"
        r"(?:拿|分|返|赚|得|给|发|付|领)"
        r"[^。!?;,\n]{0,6}(?:利息|分红|收益|回报|百分之|\d|[一二两三四五六七八九十]+[千万])"
        r"|(?:投|存|放|入股|认购)[^。!?;\n]{0,20}(?:返(?:你|您)|分红|利息)[^。!?;,\n]{0,4}(?:\d|[一二两三四五六七八九十]+[千万])",
        "fake_investment",
        negatable=True,
        family="script",
    ),
    _signal(
        "brushing",
        "刷单、点赞、做任务返佣金",
        5,
        r"刷单|刷信誉|刷销量|点赞[^。!?;\n]{0,6}(?:元|块|佣金|赚)|做任务|返利|返佣|佣金|垫付|抢单|连单|派单员|日结(?!束)|兼职",
        "brushing_rebate",
        negatable=True,
        family="script",
    ),
    _signal(
        "elder_investment",
        "以养老项目、以房养老为名要钱",
        4,
        r"以房养老|养老项目|养老公寓|养老基地|养老床位|预售床位|认购[^。!?;\n]{0,6}床位|养老投资|康养项目|候鸟式?养老"
        r"|养老服务会员|抵押房产"
        r"|(?:养老院|养老公寓|康养|护理院)[^。!?;\n]{0,10}床位[^。!?;\n]{0,20}(?:交|预订|预定|预售|认购|订金|定金|利息|返|回报)"
        r"|(?:交|付|预交)[^。!?;,\n]{0,10}(?:预订|预定|认购|买断)[^。!?;,\n]{0,6}床位|房子?[^。!?;,\n]{0,6}抵押给|养老(?:产业)?基金|养老合作社|养老储蓄|养老理财",
        "elder_scam",
        negatable=True,
        family="script",
    ),
    _signal(
        "credit",
        "说要注销校园贷、修复征信",
        5,
        r"修复征信|征信修复|修复信用|消除(?:不良)?记录|注销(?:校园贷|学生贷|金条|白条|借呗|微粒贷|贷款|账户)"
        r"|校园贷|学生贷|征信(?:受损|有问题|不良|异常|存在不良)|(?:关闭|取消|清理|清零)[^。!?;\n]{0,8}(?:金条|白条|借条|借呗|额度|信用)"
        r"|虚拟信用|降低[^。!?;\n]{0,6}(?:利率|利息)|(?:利率|利息)[^。!?;\n]{0,10}(?:过高|太高|问题|负担|超出|超标|不符合)"
        r"|(?:金条|白条|借条|借呗|微粒贷|信用额度)[^。!?;\n]{0,8}(?:清零|关闭|注销|异常)|洗白|付费[^。!?;,\n]{0,6}(?:消除|修复|删除)"
        r"|(?:弄|搞|洗)干净[^。!?;,\n]{0,4}征信|征信[^。!?;,\n]{0,8}(?:弄|搞|洗)干净|征信[^。!?;,\n]{0,4}(?:黑点|红色|黑了)",
        "fake_credit",
        negatable=True,
        family="script",
    ),
    _signal(
        "voice_menu",
        "电话语音让您按键转人工，这是冒充机构的常见手法",
        3,
        r"(?:按|回复|回)\s?[0-9#*](?:号键|键)?[^。!?;\n]{0,4}(?:转人工|人工服务|查询|了解详情|详询|咨询|处理|联系)",
        negatable=True,
        family="script",
    ),
    _signal(
        "customer_service",
        "冒充客服说要退款、理赔，或要关掉会员、代理、金条",
        4,
        r"(?:客服|客户服务|售后|快递员|快递公司|物流|平台|商城|工作人员|理赔)[^\n]{0,80}?(?:退款|理赔|赔偿|赔付|丢件|丢失|损坏|受损|质量问题|召回"
        r"|订单异常|会员|扣费|代理|加盟商|百万保障|保障服务|自动续费|自动扣|每个?月[^。!?;,\n]{0,4}扣|扣除|误操作|操作失误|失误|误将|误开通)"
        r"|(?:买的东西|买的|网购|订单|快递|包裹|商品|货物)[^。!?;\n]{0,16}(?:质量问题|有问题|丢件|丢了|丢失|损坏|召回|不合格|超标)"
        r"[^。!?;\n]{0,16}(?:退|赔|补偿)|(?:双倍|三倍|加倍)(?:赔偿|赔付|退款)|(?:误|错误地?)(?:开通|设置|设为|列为|登记|录入)|被误设|百万保障|退款失败|转账失败"
        r"|(?:自动扣费|每月扣|扣费|批发商|代理商|会员服务)[^\n]{0,40}(?:客服|取消|关闭)",
        "fake_customer_service",
        negatable=True,
        family="script",
    ),
    _signal(
        "procurement",
        "陌生单位说要大量订货，再介绍“供货商”让您先垫钱进货",
        4,
        r"(?:订购|采购|订货|进点货|进货|购买|订一批|一批|买点|物资)[^\n]{0,60}"
        r"(?:给你(?:个|一个)?(?:微信|电话|联系方式|号码)|(?:经销商|供应商|商家|厂家|卖家)的?(?:微信|电话|联系方式)"
        r"|找他|联系他|去他那里|他们卖|你们聊)"
        r"|(?:给你|提供)(?:提供)?(?:一个|个)?(?:电话|微信|联系方式|号码)[^。!?;\n]{0,20}(?:找他|联系他|去他那里)[^。!?;\n]{0,6}"
        r"(?:进|买|采购|购买|订)|(?:找他|去他那里|联系他|在指定的?渠道)(?:进|买|采购|购买|订)",
        "impersonate_acquaintance",
        negatable=True,
        family="script",
    ),
    _signal(
        "refund_lure",
        "说要给您退款、赔偿，却要您加群、下载软件或听人指挥",
        4,
        r"(?:退费|退款|退钱|赔偿|理赔|赔付|补偿)[^。!?;\n]{0,24}(?:加(?:一个|个|入)?[^。!?;,\n]{0,4}(?:群|qq|微信)|下载|教你|指导"
        r"|链接|扫码|二维码)|(?:加(?:一个|个|入)?[^。!?;,\n]{0,4}(?:群|qq|微信)|下载)[^。!?;\n]{0,24}(?:退费|退款|退钱|理赔|赔偿)",
        "fake_customer_service",
        negatable=True,
        family="script",
    ),
    _signal(
        "police",
        "自称公安、检察院、法院办案",
        3,
        r"警官|刑警|经侦|通缉令|逮捕令|洗钱|涉案|协助调查|配合调查|配合[^。!?;,\n]{0,6}(?:调查|办案|侦查)|做笔录|办案|传票|案件|犯罪|检察官"
        r"|(?:我|这里|我们|这边)是[^。!?;\n]{0,10}(?:公安|派出所|检察院|法院|警察|民警)|被(?:派出所|公安|警察)(?:抓|带走|扣)"
        r"|(?:自称|说(?:他|她|他们)?是)[^。!?;,\n]{0,8}(?:公安|派出所|检察院|法院|警察|民警)"
        r"|(?:包裹|快递|邮件|行李)[^。!?;\n]{0,20}(?:查出|发现|夹带|含有|藏有|搜出)[^。!?;\n]{0,16}(?:银行卡|护照|违禁|毒品|身份证)",
        "impersonate_police",
        negatable=True,
        family="script",
    ),
    _signal(
        "call_transfer",
        "说要把电话转给“公安”“法院”，真警察不会这样转接电话",
        5,
        r"(?:转接?|转到|转给)(?:到|给)?(?:本地|当地|[\u4e00-\u9fff]{1,3}[省市县区])?(?:公安|警察|派出所|民警|刑警|检察院|法院|警官|警方)"
        r"|移交(?:给)?(?:警方|公安|派出所|检察院|法院)",
        "impersonate_police",
        negatable=True,
        family="script",
    ),
    # ---- context: adds up ----
    _signal(
        "money_need",
        "说急需用钱",
        2,
        r"急需|急用钱|急着用钱|需要钱|手术费|医药费|保释金|保释|赔偿金|律师费|私了|周转|差点钱|还差|赔钱|要赔|没钱了|钱花完|钱都输",
    ),
    _signal(
        "urgency",
        "催您马上办、说名额有限",
        1,
        r"马上|立即|立刻|尽快|赶紧|赶快|今天之内|今日内|\d+小时内|\d+分钟内|限时|逾期|过期作废|否则|最后期限|紧急|火速"
        r"|名额有限|名额(?:只剩|仅剩|不多|快满|就满|明天就满)|只剩\d*个?名额|仅剩|只剩[^。!?;,\n]{0,3}(?:个|名|份|盒|床|套)"
        r"|先到先得|(?:今天|今日|今晚|明天|本周|周日前?)[^。!?;,\n]{0,4}截止|截止[^。!?;,\n]{0,2}(?:今天|今日|明天)"
        r"|最后一天|恢复原价|过期不候|错过[^。!?;,\n]{0,4}(?:不再|就没)|额度(?:快满|有限)|内部名额|就没了",
    ),
    _signal(
        "secrecy",
        "要您瞒着家人",
        4,
        r"(?:要|请|必须|务必|一定要|注意)保密|保密协议|秘密侦查|此事保密|这事保密|不要声张|不能声张"
        r"|(?:不要|别|不能|不许|千万别|莫|不准|不敢)[他她你您我]?(?:告诉|跟|和|给|对)[^。!?;,\n]{0,4}"
        r"(?:家人|家里人|子女|儿女|孩子|儿子|女儿|老伴|亲戚|家里|爸妈|父母|妈|爸|老婆|老公|屋头|老汉儿|别个|外人|任何人说"
        r"|别人|其他人|旁人|任何人|我们(?:讲|说)|我们家|我家|老大|老二|老幺)"
        r"|(?:不要|别|不能|不许|千万别|莫|不准)让[^。!?;,\n]{0,6}(?:家人|家里人|子女|儿女|孩子|儿子|女儿|老伴|亲戚|家里)"
        r"[^。!?;,\n]{0,2}(?:知道|晓得|发现)"
        r"|家属不得|子女不得|不让家属|不许家属|家人不能陪",
        family="context",
        void_in_sentence=r"验证码|密码|卡号|口令",
    ),
    _signal(
        "threat",
        "拿冻结、坐牢、征信来吓您",
        2,
        r"冻结|封号|纳入失信|拘留|逮捕|通缉|传唤|法律责任|起诉|坐牢|黑名单|影响(?:个人|您的|你的|全家)?征信|影响个人信用"
        r"|涉嫌|强制执行|停发|取消资格|作废|影响子女|影响孩子"
        r"|(?:将|会|即将|予以|作|立即)[^。!?;,\n]{0,8}(?:停机|停电|停气|停水|断电|断气|断网|销号|停止供气|停止供电)",
        void_in_sentence=r"检修|施工|维修|改造|计划停|抢修|升级改造",
    ),
    _signal(
        "government_notice",
        "冒充医保、社保、补贴等通知",
        2,
        r"(?:医保|社保|养老金|养老保险|医疗保险|退休金|etc|补贴|税务|公积金|高龄津贴|津贴|低保)[^。!?;\n]{0,12}"
        r"(?:异常|冻结|停用|失效|过期|认证|升级|退还|退税|领取|补发|到期|注销|停发|补缴|待领取|未领取|年审|申领|在线申请|盗刷|被盗用|被冒用|违规|在外地|在异地(?:被|消费|刷|使用))",
        "impersonate_police",
    ),
    _signal(
        "impersonation",
        "对方自称某个机构或工作人员，身份没法核实",
        1,
        rf"(?:我是|我们是|这里是|这边是|本人是|说(?:他|她|他们)?是|冒充){_C}{{0,12}}{_BODIES}",
    ),
    _signal(
        "self_claimed",
        "陌生人自称什么身份，就先当骗子防着",
        1,
        r"自称|说(?:他|她|他们)是[^。!?;,\n]{1,10}的|有(?:个|一个)?人(?:打电话|来电话|加我|找我|上门)|陌生(?:电话|号码|人)"
        r"|(?:打|来)(?:了个|个|了)?电话(?:说|来说|给我说)",
    ),
    _signal(
        "leader",
        "冒充领导、老板",
        3,
        r"我是你(?:的)?(?:领导|老板|上级|校长|局长|书记|主任)|(?:来|到)我办公室|明天来找我"
        r"|我是[王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高]?(?:总|局长|主任|书记|校长|老板)|我是老板",
        "impersonate_acquaintance",
    ),
    _signal(
        "new_number",
        "自称亲友换了新号码、不方便接电话",
        3,
        r"换了?(?:个)?(?:新)?(?:号|号码|手机号)|新号码|新手机号|这是我(?:的)?新号|手机(?:坏了|掉了|丢了|摔坏了|掉进|没信号|没有信号)"
        r"|我是你(?:的)?(?:孙子|孙女|儿子|女儿|外孙|外孙女|侄子|侄女|外甥|老同学|战友|表弟|表妹|表哥|表姐|堂弟|堂哥|妹妹|弟弟|姐姐|哥哥|老乡|同事|同学)"
        r"|我是您的?(?:孙子|孙女|外孙|外孙女|侄子|侄女|外甥|老同学|战友|表弟|表妹|表哥|表姐|同学|老朋友|远方亲戚|亲戚)"
        r"|我是你的?(?:老朋友|远方亲戚|亲戚)"
        r"|我是[^。!?,;\n]{1,6}的(?:儿子|女儿|孙子|孙女|侄子|外甥|同学|朋友|亲戚|姐姐|妹妹|哥哥|弟弟|后代|老婆|老公)"
        r"|猜猜看?(?:我)?是谁|听不出来我是谁|还记得我|还记不记得|记得到我|用(?:别人|同事|朋友)的(?:手机|电话)",
        "impersonate_acquaintance",
    ),
    _signal(
        "guaranteed_loan",
        "无抵押、秒到账、不看征信的贷款",
        2,
        r"无抵押|免抵押|秒到账|秒批|秒放款|低息|低利率|免息贷|黑户可贷|征信不好也能贷|不看征信|放款|贷款额度|提升额度|网贷"
        r"|(?:贷款|借款)(?:公司|专员|客服|平台|app|软件)|信贷专员|预授信|提现失败|无法提现|贷款[^。!?;\n]{0,10}(?:需求|服务|业务)"
        r"|征信花了|(?:没有|莫得|没得)征信|不看负债|凭身份证就能|下款|黑白户|无视征信",
        "fake_loan",
    ),
    _signal(
        "contact_shaming",
        "借了钱被逼还几倍，还威胁发给通讯录里的人，这是非法网贷的暴力催收",
        5,
        r"(?:发给|发到|曝光给|群发给?|打给|打电话给)[^。!?;,\n]{0,8}(?:通讯录|联系人|亲戚朋友|亲朋好友)"
        r"|(?:通讯录|联系人)[^。!?;,\n]{0,8}(?:曝光|群发|挨个打|一个个打|都发|全发|轰炸)"
        r"|(?:借|贷|下款)[^。!?;\n]{0,12}(?:[一二两三四五六七八九十]|\d+)天[^。!?;,\n]{0,6}(?:还|要还)[^。!?;,\n]{0,4}"
        r"(?:\d+|[一二两三四五六七八九十几]+)(?:千|万|块|元|倍)",
        "fake_loan",
        negatable=True,
        family="script",
    ),
    _signal(
        "prize",
        "说您中了奖，没参加过的抽奖不会让您中奖",
        4,
        r"中奖|中了[^。!?;,\n]{0,6}(?:奖|元|万)|恭喜您?(?:获得|被选|成为)|幸运(?:用户|观众|客户|老人|号码)|抽中|获奖|领取奖品"
        r"|奖金\d|(?<!得了)(?<!获得了)(?:一等奖|二等奖|三等奖|特等奖)|刮刮卡|刮出",
        "elder_scam",
        negatable=True,
        family="script",
    ),
    _signal("lottery", "用抽奖、大奖吸引您", 1, r"抽大奖|大奖|抽奖|奖品", "elder_scam"),
    _signal(
        "free_gift",
        "免费送礼品、体检、旅游，常是卖高价产品的诱饵",
        2,
        r"免费(?:领|送|体检|旅游|游|理疗|检测|测|按摩|试用|品尝|午餐|听课|讲座|量|发|坐|出游|参观)"
        r"|送(?:\d+|[一二两三四五六七八九十几]+)?(?:斤|桶|袋|盒|个|箱|板|份|壶|瓶|床|件)?"
        r"(?:大米|米|油|面|鸡蛋|挂面|锅|毛毯|被|礼品|红包|现金|手机|电饭锅|肉)|领(?:鸡蛋|礼品|东西)|(?:听|上)(?:讲座|课)"
        r"|(?:听|上)[^。!?;,\n]{0,8}(?:讲座|讲课)|免费(?:大巴|坐车|接送|车)"
        r"|免费的?(?:大米|米|油|面|鸡蛋|挂面|礼品|礼物)|领[^。!?;,\n]{0,4}(?:鸡蛋|大米|米|油|礼品)"
        r"|义诊|健康讲座|专家讲座|养生课|答谢(?:会|日)|会销|包吃包住|包车包|前\d+名(?:送|免费)|孝心工程|感恩回馈"
        r"|发[^。!?;,\n]{0,6}(?:红包|礼品)|奖励(?:您|你)|仅限\d+岁以上|(?:老人|老年人)专享|只限老人",
        "elder_scam",
    ),
    _signal(
        "gift_meeting",
        "天天去会场、听课领东西，最后是要您买高价产品",
        3,
        r"(?:连续|连)来[\d一二三四五六七八九十]*天|天天(?:早上)?(?:来|去|送|领)|每天(?:早上)?(?:来|去|送|领)(?!取)"
        r"|听(?:课|讲座)[^。!?;\n]{0,10}(?:送|领)|(?:送|领)[^。!?;\n]{0,10}听(?:课|讲座)|会场|买点产品|支持一下|支持(?:厂家|经理)"
        r"|不买的?话|不买就|(?:一元|零元|\d+元)(?:游|旅游)|玉石厂|购物店|带[^。!?;,\n]{0,6}(?:买玉|购物)",
        "elder_scam",
    ),
    _signal(
        "bring_bank_card",
        "要您带银行卡、存折到活动现场",
        2,
        r"(?:带|带上|携带|拿上)[^。!?;\n]{0,8}(?:银行卡|存折|现金|钱)",
        negatable=True,
        void_in_sentence=r"银行(?!卡)|网点|取款|营业厅|信用社|农商行|柜台|支取|邮政",
    ),
    _signal(
        "product_pitch",
        "推销保健品或理疗产品",
        1,
        r"保健品|疗程|理疗仪|理疗床|磁疗|量子|能量(?:鞋垫|水杯|床|被|仪|石)|负离子|纳豆|灵芝|孢子粉|鱼油|酵素|胶囊|口服液"
        r"|原价|活动价|优惠价|厂家(?:直销|活动)|专家|教授|院长特批|健康顾问",
        "elder_scam",
    ),
    _signal(
        "help_buy",
        "陌生人或“领导”请您帮忙采购、代购",
        2,
        r"帮(?:忙|我|我们)?(?:采购|代购|订购|进货|进点货|购买一些|订一批)",
        negatable=True,
    ),
    _signal(
        "inside_channel",
        "说有内部渠道、包过包办，正规手续没有捷径",
        3,
        r"有(?:个|一个)?(?:内部)?渠道|内部关系|内部指标|包过|保过|免考|不用考|花钱(?:办|买)(?:证|驾照)",
    ),
    _signal(
        "scare_diagnosis",
        "先吓您说病很重，再卖东西",
        1,
        r"(?:血管|骨头|心脏|脑血管)[^。!?;,\n]{0,6}(?:堵|碎|不行|坏了)|(?:随时|马上)(?:会|可能|都可能)?(?:中风|瘫痪|脑梗)"
        r"|快要?(?:瘫|中风|不行)",
        "elder_scam",
    ),
    _signal(
        "collectibles",
        "高价收购或拍卖收藏品",
        3,
        r"收藏品|珍藏册|珍藏版|大全套|(?:央行|人民银行|国家)(?:特别|特批|官方)?授权|纪念币|纪念钞|纪念金币|纪念章|金银币|收藏金币|邮票|字画|古董|官窑|高价回收|拍卖|鉴定费|升值空间|回购",
        "elder_scam",
    ),
    _signal(
        "romance",
        "网上认识的人谈感情后谈钱",
        2,
        r"网恋|婚恋|婚介|交友平台|交友(?:软件|app|网站|群)|(?:在)?网上认识|(?:抖音|快手|微信|qq|直播间)上?认识|相亲网|处对象|过日子|扯结婚证|结婚证|(?<!养)老公走了|(?<!养)(?:老公|老婆)(?:死了|去世了?|不在了)|天天(?:跟|和|陪)(?:我|你|您)聊|我是真心|共度余生|处处看|找个老伴|有缘分"
        r"|好想你",
        "romance",
    ),
    _signal(
        "game_trade",
        "游戏账号、装备买卖",
        3,
        r"(?:游戏|装备|皮肤|点券|金币|代练)[^。!?;\n]{0,10}(?:交易|出售|收购|买卖|解冻|充值|账号)",
        "game_trade",
    ),
    _signal(
        "shopping",
        "低价商品要私下付款",
        2,
        r"(?:私下|直接)(?:转账|交易|付款)|低价(?:出售|转让)|内部价|清仓价|代购|不走平台|平台外",
        "fake_shopping",
    ),
    _signal(
        "add_contact",
        "要您加陌生微信、QQ或进群",
        2,
        r"(?:添加|加|加入|进)[^。!?;\n]{0,8}(?:微信|qq|企业微信|群聊|群组|群|好友)|通过(?:qq|微信)[^。!?;,\n]{0,4}(?:联系|沟通|与)",
        negatable=True,
    ),
    _signal(
        "download_app",
        "要您下载陌生软件",
        2,
        r"(?:下载|安装)[^。!?;\n]{0,10}(?:app|软件|客户端|应用|安装包|apk|平台)|apk",
        negatable=True,
    ),
    _signal(
        "click_link",
        "让您点链接、扫码填信息",
        1,
        r"点击?[^。!?;,\n]{0,4}(?:链接|网址|下方|以下)|点进去|扫(?:描)?[^。!?;,\n]{0,4}二维码|打开[^。!?;,\n]{0,4}(?:链接|网址)|输入[^。!?;,\n]{0,6}网址",
        negatable=True,
    ),
    _signal(
        "investment_platform",
        "拉您上投资、炒股、理财平台或软件",
        2,
        r"(?:投资|理财|炒股|炒币|博彩|期货|外汇|数字货币|虚拟币)(?:平台|软件|app|网站|群|项目|老师|导师)"
        r"|(?:平台|软件|app|网站)[^。!?;,\n]{0,4}(?:投资|理财|炒股|炒币)|一起投资|跟着[^。!?;,\n]{0,4}(?:投资|炒股|买)",
        "fake_investment",
        negatable=True,
    ),
    _signal(
        "panic_buying",
        "先用吓人的说法（污染、辐射、断货）再催您赶快买东西",
        4,
        r"(?:核污水|核污染|核辐射|辐射|被污染|病毒|疫情|地震|断货|要涨价)[^\n]{0,40}(?:赶快|赶紧|马上|抓紧|尽快|快去?)"
        r"(?:购买|买|抢购|囤|下单|订购)|防辐射(?:药|盐|服|产品|的)",
        "fake_shopping",
        negatable=True,
        family="script",
    ),
    # ---- ingredients: say nothing alone (weight 0), make a script with others (SCRIPTS) ----
    _signal(
        "sale",
        "要您掏钱买东西",
        0,
        r"原价|活动价|优惠价|特价|会员价|(?:只要|只需|仅需|仅售|现价|才)\s?(?:\d|[一二两三四五六七八九十几][千百万])|下单|订购|购买|抢购|\d+元一(?:台|套|盒|瓶|个|床|疗程)"
        r"|办(?:个|张)?(?:会员|卡)|(?:买|订)(?:一|两|几)?(?:台|套|盒|瓶|个|床|疗程)"
        r"|(?:\d+|[一二两三四五六七八九十百千万几]+)多?(?:元|块)?钱?一(?:台|套|盒|瓶|个|床|疗程|斤|箱|副)"
        r"|(?:要|让|叫|喊|劝)(?:我|你|您|她|他)[^。!?;,\n]{0,2}买",
        negatable=True,
        family="ingredient",
    ),
    _signal(
        "account_action",
        "要您去登录、认证、缴费或填写资料",
        0,
        r"登录|登陆|认证|验证|缴费|缴纳|补缴|支付|付款|填写|填报|领取|申领|激活|更新|升级|解冻|退款|办理|核对|实名|充值|下载|注册|查看",
        negatable=True,
        family="ingredient",
    ),
    # ---- signs of a genuine notice ----
    _signal(
        "otp_warning",
        "验证码消息提醒“请勿泄露”，这是正常的验证码短信",
        -4,
        rf"{_CODE}[^\n]{{0,40}}(?:请勿|切勿|不要|严禁|勿)[^。\n]{{0,8}}(?:泄露|告诉|告知|转发|提供|透露)"
        r"|(?:请勿|切勿)(?:泄露|告知他人)",
        family="genuine",
    ),
    _signal(
        "official_warning",
        "是提醒防骗的消息",
        -4,
        r"(?:不会|绝不会|从不|从来不|决不会|都不会|不需要|不用)[^。!?;\n]{0,10}(?:要求|让|索要|以|通过|发送|向您|问您要|提供)"
        r"[^。!?;\n]{0,20}(?:转账|汇款|验证码|密码|安全账户|屏幕共享|链接|银行卡)|谨防|警惕|提防|反诈提醒"
        r"|防骗提醒|反诈预警|如遇可疑|反诈宣传|警方提醒|一律(?:挂断|挂掉|删掉|删除|不点|不信|是诈骗)|三不一多"
        r"|接到(?:此类|这类|这种)(?:电话|短信)|请立即挂断"
        r"|来电预警|防范[^。!?;\n]{0,6}诈骗",
        family="genuine",
    ),
    _signal(
        "names_the_scam",
        "消息本身在揭穿骗局，是防骗提醒",
        -4,
        r"有人冒充|冒充[^。!?;\n]{0,12}(?:的|都是|诈骗)|都是诈骗|一律是诈骗|就是诈骗|都是骗子|都是套路|是骗局|是诈骗"
        r"|(?:都|均|全|也)(?:是|属于)[^。!?;,\n]{0,4}(?:骗局|诈骗|骗子|套路|陷阱)|谣言|造谣|辟谣"
        r"|(?:可能|都是|属于|谨防|警惕|防范|就是)[^。!?;,\n]{0,4}非法集资|别上当|不要上当|谨防上当|骗子的?(?:套路|手法|话术)"
        r"|诈骗(?:手法|套路|新招)|千万(?:莫|别|不要)信|(?:莫|别|不要)相?信|直接挂(?:了|断|掉)[^。!?;\n]{0,4}(?:打|给我|问|报警)",
        family="genuine",
    ),
    _signal(
        "scam_description",
        "消息在讲骗子的手法，是防骗提醒",
        -4,
        r"(?:近期|最近|有|一些)不法分子|不法分子冒充|诈骗分子|骗子(?:会|常|经常|一般|冒充|打着|的?套路)|幌子|打着[^。!?;\n]{0,10}旗号|诱骗"
        r"|十有八九是骗|是骗人的|都是骗人|都是骗钱",
        family="genuine",
    ),
    _signal(
        "verify_advice",
        "提醒您自己打电话核实",
        -3,
        r"(?:打|拨打)[^。!?;\n]{0,8}(?:原来的|原号码|本人|官方)[^。!?;\n]{0,8}核实|(?:打|拨打)96110|96110(?:咨询|问)"
        r"|先打电话问我|打我电话|问问(?:家人|子女|儿女)|和子女商量|跟子女商量",
        family="genuine",
    ),
    _signal(
        "transaction_record",
        "是银行卡收支的记录，不是在叫您做什么",
        -3,
        r"尾号\d{3,4}[^。!?;\n]{0,40}(?:支出|收入|入账|转入|转出|消费|代扣|代付|存入|取款|余额)",
        family="genuine",
    ),
    _signal(
        "unsubscribe",
        "带有退订方式的通知",
        -1,
        r"退订回?[tn]|回[tn]退订|拒收请回复|退订请回",
        family="genuine",
    ),
    _signal(
        "paid_for_you",
        "说的是对方已经替您垫付的钱（熟人的话，打个电话确认就好）",
        -3,
        r"(?:我|俺)(?:先|已经|都)?(?:帮|替|给)(?:你|您)(?:把[^。!?;,\n]{0,6})?(?:交|付|垫|缴|买|充)(?:了|好了|过了)",
        family="genuine",
    ),
    _signal("pickup_code", "快递取件通知", -1, r"取件码|凭码取件|快递柜|驿站", family="genuine"),
    _signal(
        "official_channel",
        "让您到官方渠道或本人到场办理",
        -1,
        r"官方app|官方客户端|营业厅|柜台|窗口办理|拨打官方|官方网站|官方渠道|(?:到|去)[^。!?;,\n]{0,6}(?:银行网点|网点|卫生院|卫生服务中心"
        r"|便民服务中心|政务服务中心|村委会|居委会|社区|派出所|医院)|掌上12333|国家医保服务平台|国家政务服务平台|全程免费|不收(?:任何)?费用"
        r"|全程不收|不推销|不卖任何|不收(?:任何)?钱",
        family="genuine",
    ),
)

# Link tables, judged by bot.fraud.links.
SHORTENERS = frozenset(
    "t.cn url.cn w.url.cn dwz.cn suo.im bit.ly tinyurl.com is.gd goo.gl ow.ly "
    "rebrand.ly cutt.ly 6du.in dwz.date u.nu 3.cn".split()
)
# Short links the institutions themselves send (京东's 3.cn).
OFFICIAL_SHORTENERS = frozenset({"3.cn"})
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
    "jd": ("jd.com", "3.cn"),
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
    "nhsa": ("nhsa.gov.cn",),
    "shebao": ("mohrss.gov.cn",),
    "mohrss": ("mohrss.gov.cn",),
    "etc": ("etc.com.cn",),
    "gov": ("gov.cn",),
    "police": ("mps.gov.cn",),
    "gongan": ("mps.gov.cn",),
    "fanzha": ("mps.gov.cn",),
    "court": ("court.gov.cn",),
    "sf-express": ("sf-express.com",),
    "sf": ("sf-express.com",),
    "tb": ("taobao.com",),
    "jiebei": ("alipay.com",),
    "ems": ("ems.com.cn",),
    "chinapost": ("chinapost.com.cn",),
    "sgcc": ("sgcc.com.cn", "95598.cn"),
    "95598": ("95598.cn",),
    "dianwang": ("sgcc.com.cn", "95598.cn"),
    "guowang": ("sgcc.com.cn", "95598.cn"),
    "dianxin": ("189.cn",),
    "dx": ("189.cn",),
    "yd": ("10086.cn",),
    "yidong": ("10086.cn",),
    "liantong": ("10010.com",),
    "yb": ("nhsa.gov.cn",),
    "sb": ("mohrss.gov.cn",),
    "renshe": ("mohrss.gov.cn",),
    "shuiwu": ("chinatax.gov.cn",),
    "chinatax": ("chinatax.gov.cn",),
    "etax": ("chinatax.gov.cn",),
    "ranqi": (),
}

LINK_SIGNALS: dict[str, Signal] = {
    s.id: s
    for s in (
        _signal(
            "lookalike_domain",
            "链接不是官方网址，只是借用了官方的名字",
            5,
            r"(?!)",
            family="script",
        ),
        _signal("punycode_domain", "链接用了伪装字符的网址", 5, r"(?!)", family="script"),
        _signal("ip_link", "链接是一串数字地址，不是正规网站", 5, r"(?!)", family="script"),
        _signal("apk_link", "链接直接下载安装包，不是从应用商店装软件", 5, r"(?!)", family="ask"),
        _signal("short_link", "用短网址藏起真实网址", 3, r"(?!)"),
        _signal("risky_tld", "链接的网址后缀少见，正规机构很少用", 3, r"(?!)"),
        _signal("unknown_link", "消息里有陌生链接", 1, r"(?!)"),
        _signal("official_link", "链接是官方网址", -1, r"(?!)", family="genuine"),
    )
}

# Official service numbers of the bodies scammers borrow; a message that names
# one of them and gives another 95/96/400 number (or a mobile) as its hotline
# is suspect. Public hotlines anyone may cite are always fine.
PUBLIC_NUMBERS = frozenset(
    "110 120 119 122 12110 96110 12345 12315 12333 12393 12366 12368 12309 12381 12377 12321 "
    "12388 12348 12320 12316 12123 10086 10010 10000 95598 12306 12395 12580".split()
)
OFFICIAL_NUMBERS: dict[str, frozenset[str]] = {
    name: frozenset(numbers.split())
    for name, numbers in {
        "工商银行|工行": "95588",
        "建设银行|建行": "95533",
        "农业银行|农行": "95599",
        "中国银行|中行": "95566",
        "邮储|邮政储蓄": "95580 11185",
        "招商银行|招行": "95555",
        "交通银行|交行": "95559",
        "兴业银行": "95561",
        "浦发": "95528",
        "民生银行": "95568",
        "光大银行": "95595",
        "中信银行": "95558",
        "华夏银行": "95577",
        "平安": "95511 95512",
        "广发": "95508",
        "银联": "95516",
        "支付宝|阿里|淘宝|天猫": "95188 9510211",
        "微信|腾讯|财付通": "95017",
        "京东": "950618 950616",
        "拼多多": "",
        "顺丰": "95338",
        "中通": "95311",
        "圆通": "95554",
        "韵达": "95546",
        "申通": "95543",
        "邮政|ems": "11183 11185",
        "移动": "10086",
        "联通": "10010",
        "电信": "10000",
        "人寿": "95519",
        "人保": "95518",
        "太平洋保险": "95500",
        "社保|人社": "12333",
        "医保": "12393",
        "税务": "12366",
        "国家电网|供电": "95598",
    }.items()
}
NUMBER_SIGNALS: dict[str, Signal] = {
    s.id: s
    for s in (
        _signal(
            "foreign_number",
            "号码是境外号码或带+00，冒充国内机构的常用手法",
            3,
            r"(?<![\d+])(?:\+|00)(?!86)\d{1,3}[\s-]?\d{5,}|\+00|境外(?:来电|号码|电话)",
        ),
        _signal(
            "virtual_number",
            "170、171等虚拟运营商号码，常被骗子用来冒充",
            2,
            r"(?<!\d)(?:170|171|162|165|167)[\s-]?\d{4}[\s-]?\d{4}(?!\d)",
        ),
        _signal("unofficial_number", "给的客服电话不是这家机构的官方号码", 3, r"(?!)"),
    )
}


@dataclass(frozen=True)
class Script:
    """A known scam script told by its ingredients, not its wording: one signal
    of each group in ``needs`` (a lure, a request, a pressure...). Found, it is
    a ``script`` signal of its own whose quote joins the ingredients' words.
    ``unless`` signals void it (a shop's advert with an unsubscribe line is
    marketing, 中风险 at most, not a sales-meeting scam)."""

    signal: Signal
    needs: tuple[frozenset[str], ...]
    unless: frozenset[str] = frozenset()


_RISKY_LINKS = frozenset(
    {"risky_tld", "short_link", "lookalike_domain", "ip_link", "punycode_domain"}
)
_LURES = frozenset({"free_gift", "gift_meeting", "lottery", "prize"})
_PRESSURE = frozenset({"threat", "urgency", "customer_service", "government_notice", "secrecy"})
_MONEY_ASKS = frozenset({"money_request", "upfront_fee", "guaranteed_profit", "safe_account"})


def _script(
    id: str,
    reason: str,
    fraud_type: str | None,
    *needs: frozenset[str],
    unless: frozenset[str] = frozenset(),
) -> Script:
    return Script(_signal(id, reason, 5, r"(?!)", fraud_type, family="script"), needs, unless)


SCRIPTS: tuple[Script, ...] = (
    _script(
        "link_login",
        "陌生网址加上要您登录、认证或缴费，这是钓鱼网站的套路",
        "fake_customer_service",
        _RISKY_LINKS,
        frozenset({"account_action", "click_link"}),
    ),
    _script(
        "gift_wants_card",
        "送东西的活动却要您带存折、银行卡，这是骗老人钱的会销",
        "elder_scam",
        _LURES,
        frozenset({"bring_bank_card"}),
    ),
    _script(
        "lure_then_sell",
        "先送东西或吓您病重，再推销高价保健品、理疗产品",
        "elder_scam",
        _LURES | {"scare_diagnosis"},
        frozenset({"product_pitch", "cure_all"}),
        frozenset({"sale", "upfront_fee"}),
        unless=frozenset({"unsubscribe"}),
    ),
    _script(
        "romance_money",
        "网上认识的人谈感情，又拉您投资或要钱，这是“杀猪盘”",
        "romance",
        frozenset({"romance"}),
        _MONEY_ASKS | {"investment_platform", "money_need"},
    ),
    _script(
        "investment_app",
        "拉您进群、下载软件炒股投资，这是虚假投资平台的套路",
        "fake_investment",
        frozenset({"investment_platform"}),
        frozenset({"download_app", "click_link", "add_contact", "guaranteed_profit"})
        | _RISKY_LINKS,
    ),
    _script(
        "unofficial_hotline",
        "以机构名义催您、吓您，给的电话却不是这家机构的官方号码",
        "fake_customer_service",
        frozenset({"unofficial_number", "foreign_number", "virtual_number"}),
        _PRESSURE | {"refund_lure", "prize"},
    ),
    _script(
        "secret_with_claim",
        "自称熟人或机构，又要您瞒着家人",
        "impersonate_acquaintance",
        frozenset({"secrecy"}),
        frozenset({"new_number", "leader", "impersonation", "self_claimed", "police", "romance"}),
    ),
)

ALL_SIGNALS: tuple[Signal, ...] = (
    TEXT_SIGNALS
    + tuple(LINK_SIGNALS.values())
    + tuple(NUMBER_SIGNALS.values())
    + tuple(s.signal for s in SCRIPTS)
)
