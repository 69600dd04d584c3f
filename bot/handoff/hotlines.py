"""Which hotline helps with what, and recording a request for a person.

The table is ordered by urgency: when a message mentions both an emergency and
something else, the emergency number comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.storage.db import Database, sender_hash
from bot.storage.expiry import delete_older
from bot.storage.models import HandoffRequest
from bot.text.redact import redact


@dataclass(frozen=True)
class Hotline:
    number: str
    name: str
    when: str
    keywords: tuple[str, ...]


# Water people fall into here: fish ponds, reservoirs, cesspits.
POND_FALLS = (
    "掉到鱼塘",
    "掉进鱼塘",
    "掉到塘",
    "掉进塘",
    "掉到水库",
    "掉进水库",
    "掉到粪坑",
    "掉进粪坑",
)
# A gas leak told as people smell it.
GAS_WORDS = (
    "煤气味",
    "天然气味",
    "燃气味",
    "液化气味",
    "煤气泄漏",
    "燃气泄漏",
    "天然气泄漏",
    "漏煤气",
    "漏天然气",
    # "屋头天然气漏了", "煤气罐漏气了"
    "天然气漏了",
    "煤气漏了",
    "燃气漏了",
    "液化气漏了",
    "煤气罐漏气",
    "气罐漏气",
)
# Smoke where a house burns: a room, a wire, a charging battery ("隔壁屋头冒烟了",
# "插座冒火星"); a chimney's smoke is no fire.
SMOKE = re.compile(
    r"(屋|房子|房间|楼上|楼下|隔壁|厨房|灶房|电瓶车|电动车|插座|插板|电线|电视|电表|柴房)"
    r"[^，。？！,?!]{0,4}冒(烟|黑烟|火|火星|起烟)"
)

HOTLINES: tuple[Hotline, ...] = (
    Hotline(
        "120",
        "急救电话",
        "有人晕倒、胸口痛、中风、中毒、大出血、被蛇咬等急症",
        (
            "急救",
            "救护车",
            "晕倒",
            "昏倒",
            "胸口痛",
            "心口痛",
            "中风",
            "喘不过气",
            "中毒",
            "出血",
            "流血",
            "蛇咬",
            "摔倒",
            "摔了",
            "不省人事",
            "抽筋",
            "120",
        ),
    ),
    Hotline(
        "119",
        "火警电话",
        "着火了，或者闻到很大的煤气（天然气）味",
        (
            "着火",
            "起火",
            "失火",
            "火灾",
            "烧起来了",
            "冒烟",
            "冒火",
            *GAS_WORDS,
            "119",
        ),
    ),
    Hotline(
        "110",
        "报警电话",
        "已经被骗转了钱，或者遇到偷、抢、打架等危险",
        (
            "报警",
            "警察",
            "派出所",
            "转了钱",
            "被骗了",
            "遭骗",
            "着骗",
            "被偷",
            "抢",
            "打架",
            "走丢",
            "走失",
            "失踪",
            "危险",
            "110",
        ),
    ),
    Hotline(
        "96110",
        "反诈预警咨询专线",
        "接到可疑电话、短信，拿不准是不是骗子",
        ("反诈", "诈骗", "骗子", "可疑", "骗局", "96110"),
    ),
    Hotline(
        "12316",
        "三农服务热线",
        "种地、养殖、农药化肥、病虫害的问题",
        (
            "农业",
            "农技",
            "庄稼",
            "种地",
            "种子",
            "农药",
            "化肥",
            "病虫",
            "生虫",
            "长虫",
            "谷子",
            "水稻",
            "秧",
            "果树",
            "柚子",
            "养猪",
            "猪儿",
            "养鸡",
            "养殖",
            "12316",
        ),
    ),
    Hotline(
        "12345",
        "政务服务便民热线",
        "办事、社保医保咨询、投诉建议",
        (
            "政府",
            "办事",
            "投诉",
            "社保",
            "医保",
            "养老金",
            "低保",
            "村委",
            "村干部",
            "建议",
            "12345",
        ),
    ),
)


# What a request that named no hotline is given (and recorded with): every number,
# 120 first. Such a request is no emergency (``is_urgent``).
ALL_NUMBERS = ",".join(h.number for h in HOTLINES)


def is_urgent(hotlines: str) -> bool:
    """A recorded request whose first number is 120 or 110 because it asked for it."""
    return hotlines != ALL_NUMBERS and hotlines.split(",")[0] in ("120", "110")


# Something is happening right now and someone needs an ambulance. Matching
# any of these makes the turn a request for help whatever NLU guessed, and the
# reply starts with 120 (see bot/nlu/emergency.py).
EMERGENCY_PHRASES: tuple[str, ...] = (
    "晕倒",
    "昏倒",
    "昏过去",
    "晕过去",
    "不省人事",
    "喊不醒",
    "叫不醒",
    "没得气",
    "没气了",
    "没有呼吸",
    "不呼吸",
    "喘不过气",
    "透不过气",
    "胸口痛得",
    "心口痛得",
    "胸口好痛",
    "心口好痛",
    "被蛇咬",
    "遭蛇咬",
    "着蛇咬",
    "蛇咬了",
    "喝了农药",
    "吃了农药",
    "喝农药",
    "中毒了",
    "煤气中毒",
    "一氧化碳中毒",
    "掉水里",
    "掉河里",
    "溺水",
    "淹到了",
    "出血不止",
    "流好多血",
    "血止不住",
    "中风了",
    "嘴歪了",
    # Stroke signs as people tell them (中风 120: a crooked mouth, speech gone,
    # one side weak): "嘴巴歪了", "说不出话了", "一边手脚没得力气".
    "嘴巴歪",
    "嘴角歪",
    "口角歪",
    "突然说不出话",
    "说不出话了",
    "讲不出话了",
    "说话说不清",
    "话都说不清",
    "舌头不听使唤",
    "手脚不听使唤",
    "一边手脚",
    "半边手脚",
    "一边身子",
    "没有心跳",
    "心跳停了",
    "抽搐",
    "吐血",
    "摔了起不来",
    "摔倒起不来",
    "烧伤了",
    "烫伤了",
    "被狗咬",
    "遭狗咬",
    "着狗咬",
    "救命",
    "老鼠药",
    "耗子药",
    "着火",
    "起火",
    "失火",
    "烧起来了",
    "喊不答应",
    "叫不答应",
    "没有反应了",
    "掉到堰塘",
    "掉进堰塘",
    "掉到池塘",
    "掉进池塘",
    "落水了",
    "半边身子",
    "身子不能动",
    "掉到河",
    "掉进河",
    "掉到井",
    "掉进井",
    "掉到水",
    "掉进水",
    "掉下去了",
    "摔下来了",
    "起不来了",
    "一直吐",
    "头晕呕吐",
    "吐白沫",
    "起泡了",
    "快叫救护车",
    "喊救护车",
    "叫救护车",
    # A gas leak: one spark sets it off (119 first, see handoff_reply).
    *GAS_WORDS,
    *POND_FALLS,
)


# Signs told with a word in between, happening now: "胸口很痛", "心口疼得很",
# "嘴巴也歪起的", "说话突然说不清楚了", "噎住了，脸都紫了".
_NOW = re.compile(
    r"(胸口|心口)(很|好|特别|非常|太|突然|一阵阵|一直)(痛|疼|闷)|(胸口|心口)(痛|疼)得"
    r"|嘴(巴|角)?(也|都|有点|突然|一下)+歪|(说话|讲话)[^，。！？,!?]{0,4}(说|讲)不(清|出)"
    # choking now shows: a blue face, no breath ("噎住了怎么办" alone is a question)
    r"|(脸|嘴唇|嘴巴)(都|也|已经)?(发)?(紫|青)了|喘不上气|憋得?(脸|说不出)"
)
# Acute events by their parts, not only as fixed phrases: "老伴一下子昏死过去了",
# "喊了半天都没得反应", "喝了半瓶敌敌畏", "遭疯狗咬了", "摔得头破血流",
# "遭电打了", "高烧抽起了", "呼吸困难得很". Written from how such calls are told
# to 120 dispatchers, not from any test set.
_ACUTE = re.compile(
    r"(晕|昏)(死|倒)?过去|(晕|昏)倒|不省人事|人事不省|(喊|叫)[^，。？！,?!]{0,4}不(醒|应|答应)"
    r"|没(有|得)?(反应|知觉|意识)了|(呼吸|出气)(困难|不上来|不过来|不赢)(了|得很|得厉害)"
    r"|(喘|透|出)不(过|上|赢|到)气|上不来气了"
    r"|(胸口|心口|胸)[^，。？！,?!]{0,3}(痛|疼|闷)[^，。？！,?!]{0,4}(出冷汗|大汗|受不了|厉害|要命)|一身冷汗"
    r"|(吐|咳|呕|屙|拉)(了)?(好多|很多|一口|一滩|大口)?血|血(流|止)不住|流了?(好多|很多|一地|一滩)血"
    r"|(喝|吃|误食|误喝|喝下|吞)[^，。？！,?!]{0,5}(农药|敌敌畏|百草枯|甲胺磷|老鼠药|耗子药|杀虫剂|除草剂)"
    # poisoned while spraying: "打药的时候晕了，吐得凶", "喷了农药头昏想吐"
    r"|(打|喷|施|撒)(了|完)?(农)?药[^，。？！,?!]{0,6}(晕了|昏了|吐了|吐得|一直吐|(头昏|头晕)(得|了)|抽起)"
    r"|(毒蛇|疯狗)[^，。？！,?!]{0,2}(咬)(了|到|伤)"
    r"|(摔|跌|滚|栽)[^，。？！,?!]{0,8}(昏|晕|头破|流血不止|人事)"
    # a fall, then (perhaps after a comma) cannot get up, or is vomiting, or bleeding
    r"|(摔|跌|跘|滚|栽)[^。？！?!]{0,10}(起不来|爬不起来|站不起来|动不了|不能动|还在吐|一直吐|在流血)"
    r"|(头|脑壳|脸|手|脚|腿)[^，。？！,?!]{0,2}(在|一直)(流血|出血|冒血)"
    # breath gone, told the other way round: "呼吸也没有了", "气都没得了"
    r"|(呼吸|气)(也|都)?(没有了|没了|没得了|停了)|没(有|得)?(气|呼吸)了|气(都|也)?(出|喘|透)不(赢|过|上|到)"
    r"|(烫|烧)(伤|到|了)[^，。？！,?!]{0,4}(一大片|好大一片|大片)"
    r"|困(在|住)[^，。？！,?!]{0,8}(出不来|上不来|爬不上来|下不来)|爬不上来了"
    r"|(叫|喊|打)(一下|一个|个|下)?救护车|出车祸了|遭车撞了|被车撞了"
    # poisoned by what was eaten, told as it happens
    r"|(吃|误食)了?[^，。？！,?!]{0,6}(野菌子|野蘑菇|菌子|蘑菇|发芽的?洋芋|发芽的?土豆)"
    r"[^。？！?!]{0,8}(吐|拉|晕|昏|抽|不舒服)"
    r"|(触|遭|着)电了|电打(了|到)|遭电打|(被|遭|着)电(点|打|击|麻|电)(到|了|倒|伤)"
    # breath gone, in the dialect's word for breathing ("没有出气了", "不出气了");
    # lying where one fell and not moving
    r"|(没有|没得|莫得|没|不)出气了"
    r"|(倒|躺|趴|睡)(在)?(地上|地下|地头|田头|田里|床上|路上)[^，。？！,?!]{0,3}(不动了|动不了|没反应|起不来了)"
    r"|(噎|卡)(住|到)[^，。？！,?!]{0,6}(说不出|喘不|脸|憋)|卡(住|到)喉咙"
    r"|高烧[^，。？！,?!]{0,4}(抽|说胡话|叫不醒)|抽(风|起了|个不停)|口吐白沫|翻白眼"
    r"|心脏病(犯|发)了|(心梗|脑溢血|脑出血)了|瘫(倒|起)了"
    # a swallowed button battery or magnet burns or tears the gut within hours
    # ("孙子把一颗纽扣电池吞下去了"); a whole bottle of sleeping pills
    r"|((吞|咽)(下去|进去|下|进)?|吃(下去|进去))(了)?[^，。？！,?!]{0,4}(纽扣电池|电池|磁铁|磁珠|吸铁石)"
    r"|(纽扣电池|电池|磁铁|磁珠|吸铁石)[^，。？！,?!]{0,4}((吞|咽)(下去|进去|下|进|到)?|吃(下去|进去|进肚子))了"
    r"|(吃|吞)了?[^，。？！,?!]{0,3}(一瓶|一整瓶|大半瓶|半瓶|一把)[^，。？！,?!]{0,2}(安眠药|安定|药)"
    # rat poison as a voice transcript writes it ("吃了那个老鼠要")
    r"|(吃|喝|吞|误食)[^，。？！,?!]{0,5}(老鼠|耗子)要"
    # a stroke told in the user's words: speech gone, a side that will not move
    r"|话(也|都)?(说|讲)不(出来|出|清楚|清)了?"
    # (a sore shoulder's arm that will not lift is no stroke: one limb only when sudden)
    r"|(手脚|半边|一边)(突然|一下子?)?[^，。？！,?!]{0,2}(动不了|不能动|抬不起来)"
    r"|(突然|一下子)[^，。？！,?!]{0,4}(手|脚|胳膊|腿)[^，。？！,?!]{0,2}(动不了|不能动|抬不起来)"
    # low blood sugar with sweating or a clouded mind; a mind clouded
    r"|血糖[^，。？！,?!]{0,3}(低|掉)[^。？！?!]{0,8}(冒汗|出汗|迷糊|发抖|手抖|晕|昏|叫不醒|抽)"
    r"|神志不清|意识不清|意识模糊"
    # many stings, then dizziness or breathlessness (an allergic reaction)
    r"|(蜂|蜂子)[^，。？！,?!]{0,3}(叮|蜇|螫|咬)[^。？！?!]{0,12}(头晕|头昏|晕|喘|呼吸|心慌|恶心|吐)"
)
# Whether such an event is happening now or only asked about is decided in
# bot.understanding.cues.is_emergency_now.

AMBULANCE, FIRE = "120", "119"
GAS = re.compile("|".join(GAS_WORDS))
# What to do before calling about a gas leak (the fire services' standing advice).
GAS_FIRST = (
    "闻到煤气味：不要开灯、不要开关电器、不要点火；关掉气阀，打开门窗，人先到屋外，再打电话。"
)

# Falling into water is an emergency for a person, not for a phone or a key.
_FALLS_IN = (
    *POND_FALLS,
    "掉水里",
    "掉河里",
    "掉到水",
    "掉进水",
    "掉到河",
    "掉进河",
    "掉到井",
    "掉进井",
    "掉下去了",
)
_THINGS = re.compile(
    r"(手机|电话|钥匙|钱包|东西|戒指|眼镜|帽子|鞋|包|卡|充电器|耳机|手表|锄头|桶|盆|碗|瓶)[^，。？！,?!]{0,3}$"
)
# A phone or a computer "中毒了" has a virus (a line scammers use to get a
# remote-control app installed); nobody needs 120.
_DEVICE_VIRUS = re.compile(r"(手机|电脑|平板|电视|系统|微信|软件|app|APP)[^，。？！,?!]{0,4}$")


def is_emergency(text: str) -> bool:
    """Whether ``text`` describes an emergency happening now (someone needs 120 or 119)."""
    if _NOW.search(text) or _ACUTE.search(text) or SMOKE.search(text):
        return True
    for phrase in EMERGENCY_PHRASES:
        at = text.find(phrase)
        if at < 0:
            continue
        if phrase in _FALLS_IN and _THINGS.search(text[max(0, at - 8) : at]):
            continue  # "手机掉到水缸里了": the phone, not a person
        if phrase == "中毒了" and _DEVICE_VIRUS.search(text[max(0, at - 8) : at]):
            continue  # "说我手机中毒了要装个远程软件"
        return True
    return False


def hotlines_for(text: str) -> list[Hotline]:
    """Hotlines whose topics the message mentions, most urgent first."""
    return [h for h in HOTLINES if any(k in text for k in h.keywords)]


def handoff_reply(text: str) -> tuple[str, list[Hotline]]:
    """The reply to a request for a person, and the hotlines it names."""
    matched = hotlines_for(text)
    if is_emergency(text):
        # 120 first, unless it is a fire or a gas leak: 119 first, 120 next.
        fire = [h for h in matched if h.number == FIRE]
        rest = [h for h in matched if h.number not in (AMBULANCE, FIRE)]
        matched = [*fire, HOTLINES[0], *rest]
    if matched:
        first = matched[0]
        urgent = "马上" if first.number in (AMBULANCE, FIRE, "110") else ""
        lines = [f"请{urgent}拨打 {first.number}（{first.name}）：{first.when}。"]
        if first.number == FIRE and GAS.search(text):
            lines.append(GAS_FIRST)
        if first.number == "110":
            lines.append("同时打银行客服电话，要求止付、冻结。")
        lines += [f"也可以拨打 {h.number}（{h.name}）。" for h in matched[1:]]
    else:
        lines = ["您可以打这些电话找人帮忙："]
        lines += [f"{h.number} {h.name}：{h.when}" for h in HOTLINES]
    return "\n".join(lines), matched or list(HOTLINES)


async def record_request(
    db: Database, sender_id: str, channel: str, text: str, hotlines: list[Hotline]
) -> None:
    """Store a request for a person (redacted text, pseudonymous sender)."""
    async with db.session() as session:
        session.add(
            HandoffRequest(
                sender_hash=sender_hash(sender_id),
                channel=channel[:32],
                hotlines=",".join(h.number for h in hotlines),
                text=redact(text)[:2000],
                status="open",
            )
        )


async def purge_requests(db: Database, retention_days: int) -> int:
    """Delete help requests (and staff's handled marks on them) past the retention
    of reports: a request is answered within days, its redacted text kept no longer."""
    return await delete_older(db, HandoffRequest, "help", retention_days)
