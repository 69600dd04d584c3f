"""Words people use to ask for a message check, and what to tell them to do now."""

from __future__ import annotations

import re

# Words people use to ask for a check; what remains after them is the message.
REQUEST_PHRASES: tuple[str, ...] = (
    "帮我看看",
    "帮我看一下",
    "帮我查查",
    "帮我查一下",
    "你看看",
    "看一下",
    "看看",
    "查一下",
    "查查",
    "这条短信",
    "这个短信",
    "这条消息",
    "这个消息",
    "这个电话",
    "这个链接",
    "短信",
    "是不是骗子",
    "是不是诈骗",
    "是不是骗人的",
    "是不是真的",
    "是真的吗",
    "是真的不",
    "能不能点",
    "能点吗",
    "可疑",
    "诈骗",
    "骗子",
    "帮我",
    "一下",
    "这个",
    "这条",
    "收到",
    "我收到",
    "有人",
    "给我发",
    "发来",
    "的",
    "了",
    "吗",
    "呢",
    "嘛",
    "哦",
)

# ---- What to do now, by risk and by what the person tells us ----

# The person tells of a call or a visit rather than pasting a message.
TOLD = re.compile(
    r"(?:打|来)(?:了个|个|了)?电话|接到[^。!?;,\n]{0,6}电话|电话(?:里|上|头)?(?:说|喊|叫|让)|来电|自称"
    r"|(?:有|来了)(?:个|一个|几个|两个)?人|对方(?:说|让|叫|要|喊)|(?:叫|让|要|喊|教)我|说(?:他|她|他们)是"
    r"|上门|加(?:了)?我"
)
# Money already gone: "我转了两千", "已经交了保证金", "钱都打过去了".
MONEY_SENT = re.compile(
    r"(?:已经|已|我|都|刚才?|昨天|前天)[^。!?;\n]{0,8}(?:转了|转过去|汇了|汇过去|交了|付了|存进去了|转给(?:了|他|她|对方)"
    r"|(?:打|给)了(?:他|她|对方)?(?:钱|[\d一二两三四五六七八九十几][\d一二两三四五六七八九十百千万几]*(?:块|元|万|千|百)))"
    r"|(?:转|汇|打|交|付)了[0-9一二两三四五六七八九十百千万几]+(?:多|余)?(?:块|元|万|千|百)"
    r"|(?:转|汇|打|交)过去了|钱(?:都|已经)?(?:转|汇|打|交)(?:给|过去)|被骗了?|钱(?:被)?(?:转走|骗走|划走)"
)
# A code, password or card number already given.
DATA_GIVEN = re.compile(
    r"(?:都|已经|我)?(?:填了|填进去了|输了|告诉了(?:他|她|对方|他们)|(?:告诉|念给|报给|发给)(?:他|她|对方|他们)了"
    r"|给了(?:他|她|对方))"
    r"|(?:验证码|密码|卡号)[^。!?;,\n]{0,4}(?:告诉|给|发给|念给|报给)了|(?:让|给)(?:他|她|对方)远程(?:控制|操作)了"
)
# Not (yet) done: "我还没转过去", "没有给他", "别转了".
_NOT_YET = re.compile(r"没|未|不要|不会|别|莫")

ADVICE_HIGH = (
    "这很可能是诈骗，请这样做：\n"
    "1. 挂断电话，不回电话，不点链接，不下载对方让装的软件\n"
    "2. 不转账，不交任何费用，不说验证码、密码和银行卡号\n"
    "3. 要核实，就用官方电话回拨（银行卡背面的号码、机构官网上的号码），不用对方给的号码\n"
    "4. 拿不准就拨打 96110 问一问，或者告诉子女\n"
    "5. 已经转了钱，马上拨打 110 报警，再打银行客服电话请求止付"
)
ADVICE_HIGH_MONEY_SENT = (
    "如果钱已经转出去了，请马上这样做：\n"
    "1. 立刻拨打 110 报警，说清转账时间、金额和对方的账号\n"
    "2. 马上打您银行卡背面的官方客服电话，请求止付、冻结\n"
    "3. 挂断对方电话，不再转一分钱；说能帮您追回钱、要先交费的也是骗子\n"
    "4. 拿不准就拨打 96110 问一问，并告诉子女"
)
ADVICE_HIGH_DATA_GIVEN = (
    "如果验证码、密码或卡号已经给了对方，请马上这样做：\n"
    "1. 挂断电话，立刻用银行卡背面的官方电话挂失或冻结银行卡，修改密码\n"
    "2. 不转账，不再说任何验证码，卸载对方让装的软件\n"
    "3. 钱已经少了，马上拨打 110 报警\n"
    "4. 拿不准就拨打 96110 问一问，并告诉子女"
)
ADVICE_MEDIUM = (
    "这条消息有可疑的地方，先别照着做：\n"
    "1. 不点链接，不转账，不说验证码\n"
    "2. 是电话就先挂断，用您自己存的号码或官方电话回拨核实\n"
    "3. 拿不准就拨打 96110 问一问；已经转了钱，马上拨打 110"
)
ADVICE_LOW = (
    "暂时没看出明显的诈骗特征。\n"
    "不过只要有人要钱、要验证码、让您点链接，都先停一停，拨打 96110 问一问。"
)


def _happened(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern`` found with no "not yet" just before it or inside it."""
    return any(
        not _NOT_YET.search(text[max(0, m.start() - 2) : m.end()]) for m in pattern.finditer(text)
    )


def situation(text: str) -> str:
    """What has happened already: ``money_sent``, ``data_given``, ``told`` or ``pasted``."""
    if _happened(MONEY_SENT, text):
        return "money_sent"
    if _happened(DATA_GIVEN, text):
        return "data_given"
    return "told" if TOLD.search(text) else "pasted"


def advice_for(risk: str, what: str) -> str:
    """What to do now, for the risk level and what has happened already."""
    if risk == "high":
        if what == "money_sent":
            return ADVICE_HIGH_MONEY_SENT
        if what == "data_given":
            return ADVICE_HIGH_DATA_GIVEN
        return ADVICE_HIGH
    if risk == "medium":
        return ADVICE_MEDIUM
    return ADVICE_LOW
