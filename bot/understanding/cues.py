"""Word cues that tell what kind of free text a message is.

One table per cue, read by the understanding step (``decide.py``) and the NLU
move gate (``bot/nlu/moves.py``), and by their tests. Each cue is a regular
expression over canonical Mandarin (``bot.text.normalize.canonical``), so
dialect words have already become Mandarin here. NFKC has also made the
full-width marks ASCII (，？！：；（） → ,?!:;()), so a cue that names a mark names
the ASCII one too; "。" and "、" stay as they are.
"""

from __future__ import annotations

import re

from bot.fraud.links import find_links
from bot.handoff.hotlines import is_emergency

# Someone asks whether something they heard or read is true. Without such a
# cue a claim the knowledge base cannot answer is simply unanswered; with it,
# we offer to send it to the rumour desk.
RUMOR = re.compile(
    r"(?<!没)(?<!没有)(?<!从来没)听说(?!过)|听人说|听别人说|听人讲|据说|网上说|网传|传言|传闻|都在传|在传|到处传"
    r"|群里[^，。？！,?!]{0,4}说|朋友圈[^，。？！,?!]{0,4}说|(抖音|快手|视频号|视频|直播)[^，。？！,?!]{0,4}说"
    # (not the words one cannot hear: "听不清楚人家说啥子")
    r"|(有人|别人|人家|大家|都|专家|老人|他们)说(?!话|啥|什么|些啥|些什么)|^(说是|都说|人说)"
    r"|是不是真的|真的假的|真的还是假的|是真是假|真的(吗|不|哦)(?=$|[？?。！!，,\s嘛哦喃])"
    r"|是假的吗|靠谱吗|靠不靠谱|靠得住|可信吗|可不可信|能信吗|能不能信|信得过"
    r"|谣言|辟谣|有没有科学依据|有没有道理|有没有这回事|有这回事|科学吗|有科学道理"
)

# The person was (or thinks they were) scammed already: 110 comes first,
# whatever else the message asks.
AFTERMATH = re.compile(
    r"(被|遭|着|挨|让|叫|给)(人家|人|别人|骗子|坏人|他|他们|对方|那个人|那些人)?(骗|诈骗|坑|哄)"
    r"|上当|受骗|着了道"
    r"|钱(被)?(转走|骗走|划走|不见了)|被盗刷|(卡|账户)里的?钱(少了|没了)"
    r"|(把|将)验证码(告诉|给|发给|念给|报给)|验证码(已经)?(告诉|给|发给|念给|报给)(了|他|她|对方|别人)"
    r"|(告诉|给)了?(他|她|对方|别人)验证码"
    # "我把银行卡号和密码都告诉那个客服了", "把身份证正反面照片发给了个说帮我办贷款的",
    # "把付款码截图发给了一个客服"
    r"|(把|将)[^，。？！,?!]{0,8}(身份证|银行卡|卡号|付款码|收款码|密码|验证码)[^，。？！,?!]{0,8}"
    r"(告诉|给|发给|发|拍给|念给|报给|交给|借给)[^，。？！,?!]{0,6}了"
    # "银行卡里的钱没有了，我又没取过"
    r"|(卡|账户|存折|支付宝|余额宝|微信|零钱)(里|头|上|里头|里面)的?钱[^，。？！,?!]{0,2}"
    r"(没有了|没了|没得了|莫得了|少了|不见了)"
    # "卡头少了三千块": an amount gone from a card or account, with or without 钱
    r"|(卡|账户|存折|余额|零钱)(里|头|上|里头|里面)?[^，,。？?！!]{0,2}(少了|没了|被扣了|扣了|被转了)"
    r"[0-9一二两三四五六七八九十百千万几]+(块|元|万|千|百)"
    # bought at a sales meeting ("被拉到会场里面买了保健品好几万")
    r"|(会场|讲座|会销|推销会|体验店)(里|里面|里头|头|上)?[^，,。？?！!]{0,6}买了"
    # someone used one's identity ("现在我名下多了一笔贷款")
    r"|名下(多了|多出|冒出|有了)"
    # a phone taken over after an app the caller had installed ("手机就不受控制了")
    r"|(手机|电脑)[^，,。？?！!]{0,4}(不受控制|被控制|被远程控制|自己乱动|自己在动)"
)
# Money paid or handed over counts only with a sign of who took it: "给儿子微信
# 转了500块钱" is no scam; "转了钱给那个说是公安局的人" is.
PAID = re.compile(
    r"已经(转账|转了|转过去|汇了|汇款|付了|交了|打了钱|把钱)"
    r"|(转|汇|打|付|投|充)了[0-9一二两三四五六七八九十百千万几]+(块|元|万|千|百)"
    r"|(转|汇|打)过去了|转了钱|钱(都)?(取出来|拿出来)?(交|转|借|打)给了?|输了(银行卡|卡|支付)?密码"
    r"|交了[^，。？！,?!]{0,6}(手续费|保证金|押金|会员费|解冻费|税费|服务费)"
    r"|买了[^，。？！,?!]{0,10}(保健品|理疗仪|药)[^，。？！,?!]{0,8}(退|骗|上当)"
    r"|钱(还是)?(没|莫|没有)到账|钱(取走|没了)"
    r"|(转|汇|付|交)了(钱|款)|扫码付了(钱|款)?|付了款"
    r"|钱(都|也)?(提|取)不出来|提不了现|提现不了|无法提现|不给提现"
    # "我都转了两回了", "已经转了一笔"
    r"|(转|汇|交|付|打)了[一二两三四五六七八九十几好]+(回|次|笔|道)"
    # "点了短信里的链接，还填了银行卡号和密码"
    r"|(填|输|输入|填写)了[^，,。？?！!]{0,8}(密码|验证码)"
)
SCAM_CONTEXT = re.compile(
    r"骗|陌生|不认识|客服|公安|警察|检察|法院|安全账户|冒充|对方|网上|刷单|贷款|投资|链接"
    r"|手续费|保证金|解冻|理财|公司|平台|那个人|他们|打不通|联系不上|拉黑|追回|追得回|追不回|报警"
    r"|退款|会议软件|共享屏幕|屏幕共享|打电话|电话里|电话头|来电|自称|说是|有个人|(喊|叫|让)我转"
)
# The user's own loss, told in the first person: it outweighs hearsay around it
# ("有人在视频里说他是公安局的……我已经转了一笔了").
OWN_LOSS = re.compile(
    r"我[^，。？！,?!]{0,3}(已经|都|刚|刚刚|刚才)?(转了|汇了|付了|交了|被骗|遭骗|着骗|上当)"
    r"|(我的?|卡里的?|账户里的?)钱(没了|少了|被转走|不见了)"
)
# "怎么防止被骗" asks how not to be scammed: no aftermath.
HYPOTHETICAL = re.compile(
    r"(防止|防范|预防|谨防|避免|以免|小心|当心|怕|别|不|不要|不会|不被|容易|会不会|会被|如何防|怎么防|怎样防|防)$"
)


# "叫我把验证码念给他" is what the caller asked for, not what was done.
REQUESTED = re.compile(r"(叫|让|要|喊)我")
# "有人打电话说我医保卡被盗刷了" is what the caller claimed, not what happened.
REPORTED = re.compile(
    r"(电话|短信|信息|消息|通知|对方|有人|那人|那个人|他们|他|她|说是)(里|上|打来)?[^，。？！,?!]{0,4}说"
)
_CLAUSE = re.compile(r"[，。？！,?!；;\n]")
# The person's own deed after the claim ("有人打电话说是公安局的我就转了5000").
_OWN_DEED = re.compile(r"我(就|也|便|才|已经|马上|赶紧|还|都|把)|结果|然后|后来|就把|现在|这下")


def _governed(cue: re.Pattern[str], text: str, start: int, peek: int = 0) -> bool:
    """The words at ``start`` are, in their clause, governed by the last ``cue`` before
    them: someone else's claim (``REPORTED``: "有人打电话说我医保卡被盗刷了") or what
    someone asked the user to do (``REQUESTED``: "喊我把手机上收到的验证码念给他"), with
    no deed of the user's own after it (looking ``peek`` characters past ``start``)."""
    clause = _CLAUSE.split(text[:start])[-1]
    found = [*cue.finditer(clause)]
    after = clause[found[-1].end() :] + text[start : start + peek] if found else ""
    return bool(found) and not _OWN_DEED.search(after)


def is_aftermath(text: str) -> bool:
    """True when ``text`` says money, a code or trust was already lost to a scam."""
    matches = [*AFTERMATH.finditer(text)]
    if SCAM_CONTEXT.search(text):
        matches += PAID.finditer(text)
    return any(
        not HYPOTHETICAL.search(text[max(0, m.start() - 4) : m.start()])
        and not _governed(REQUESTED, text, m.start())
        and not _governed(REPORTED, text, m.start(), peek=2)
        for m in matches
    )


# An emergency described as a general question ("被蛇咬了以后要注意什么",
# "烫伤了抹牙膏行不行") is answered from the knowledge base with 120 first;
# only one happening now ("我爸晕倒了", "快救命") is handed off and recorded.
GENERAL_QUESTION = re.compile(
    r"以后|之后|过后|要注意|注意什么|行不行|能不能|可不可以|可以不|要不要|有没有用"
    r"|用什么|抹什么|吃什么|擦什么|涂什么|怎么处理|如何处理|怎样处理|正确|应该怎么"
    r"|要打|疫苗|吗$|吗[？?。！!]"
    r"|有哪些|什么症状|啥子症状|前兆|先兆|征兆|怎么急救|如何急救|怎么预防|平时"
    r"|什么反应|有什么表现|怎么防|如何防|怎样防|防止|预防|应该做什么|该做什么|先做什么|第一时间"
    r"|怎么治|如何治|治疗|咨询|哪家医院|什么医院"
    # a hazard asked about ("电动车在屋里充电会不会着火"), first aid asked for ("要怎么救")
    r"|会不会(着火|起火|失火|爆炸|中毒|触电|漏电)|(怎么|咋个|如何)救|第一步"
    # which of two remedies ("烫伤了应该抹牙膏还是酱油")
    r"|还是|应该(抹|擦|涂|用|吃|喝|敷)|后遗症"
    # a case supposed ("万一遭蛇咬了咋个办"), or how to tell one ("怎么看出是不是中风")
    r"|万一|假如|假设|如果|要是"
    r"|(怎么|怎样|如何|咋)(才能)?(看出|看得出|知道|晓得|判断|分辨|识别|区分|认出)"
    # a claim heard and asked about ("听别个说遭狗咬了……不消打针，是不是真的")
    r"|是真的|是不是真的|真的吗|真的假的|是假的|谣言|听说|听人说|听别人说"
)
# A question about an acute event ("中风有哪些前兆", "被蛇咬了以后要注意什么") is no
# emergency; a sign that it is happening now outweighs the question form
# ("我爸刚才晕倒了要不要送医院").
HAPPENING = re.compile(r"刚才|刚刚|现在|正在|这会儿|马上|救命|快点|快来|快帮")
# Told as past: "前几天突然抽搐，诊断是癫痫" is a consultation, not a call for 120.
PAST = re.compile(
    r"前几天|前段时间|上个(星期|月)|上周|去年|之前|当时|那次|那天|后来|诊断|确诊|住院"
)
# "突然" says now unless the story is past or habitual.
SUDDEN = re.compile(r"突然|一下子|半天了")
# An illness told as history ("每次复发都口吐白沫", "经常胸闷、呼吸困难"): not now.
HABITUAL = re.compile(
    r"经常|老是|总是|常常|每次|有时|容易|复发|发作的时候|病史|以前|几年了|多年|好几年|这几年"
)

# Someone tells us the message is one they received ("表叔发来的：…",
# "那个短信说…", "我念给你听…"): what follows is a message to check.
FORWARD_LEAD_IN = re.compile(
    # (not what one received oneself: "把手机收到的验证码告诉了他")
    # ("那个人发的链接点了" tells what one did with a link, not the message itself)
    r"((发来的|发的|发给我的)(?!链接|二维码|网址)|发过来|转发的|转来的"
    r"|收到的(?!验证码|钱|款|红包|快递|包裹|东西|货)"
    r"|收到(一条|条)|收到(一个|个)(?![^，,。？?！!]{0,6}(包裹|快递|东西|货|件|钱|红包))"
    r"|(短信|信息|消息|通知)(上|里|里面|头|上面)?(说|写|讲)|上面写|念给你听|读给你听|群里发|群头发)"
)
FORWARDED_BODY_MIN_CHARS = 18
# "你看哈这个是不是骗子：亲，您买的柚子快递丢件……": a short question, then the message.
# "这个是什么意思哦 【重庆人社】您的养老保险……": a few words of the user's, then a
# signed message.
_LEAD_SIGNATURE = re.compile(r"^[^【】]{0,16}(?=【[^】]{1,20}】)")
# A message quoted in the user's own words: "我孙女发给我“奶奶我手机掉了……”，是她不嘛".
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]+)[”」』\"]")
_LEAD_QUESTION = re.compile(
    r"^[^：:]{0,14}[：:]|^(这个|这条|这)?(是真的吗|是不是真的|是真的不|是不是骗子|靠得住不)[\s，,]"
)

# Question words: a message that asks something, not a pasted notice.
# How to deal with something that happens to people in general ("老人摔倒了起不来
# 怎么办", "有人晕倒了该怎么办"): a question. Said of someone of one's own, or of
# a thing ("我奶奶摔倒了起不来怎么办", "厨房着火了怎么办"), it is happening.
HOW_TO = re.compile(r"怎么办|咋办|咋个办|啷个办|怎么弄|咋个弄|咋个整|该怎么|应该怎么|如何|怎样")
GENERIC_SUBJECT = re.compile(
    r"^(如果|要是|万一)?(老人|老年人|有人|一个人|人|病人|别人|路上有人|在家)(家)?"
    r"(突然|在家|不小心)?"
)
PERSONAL = re.compile(
    r"我(的|们)?(家|屋头|屋里)?[^，。？！,?!]{0,2}"
    r"(老伴|老公|老婆|妈|爸|爷爷|奶奶|外婆|外公|婆婆|公公|老汉|老头|老太婆|孙子|孙女|儿子|女儿|娃|媳妇|"
    r"哥|姐|弟|妹|家人|老人|邻居)"
    r"|我家|我屋头|屋头的?(老人|人|那个)|老伴|隔壁|邻居|我(刚|现在|自己|在)"
)

QUESTION = re.compile(
    r"[?？]|怎么|怎样|如何|什么|为什么|为啥|哪里|哪儿|哪个|哪些|多少|几[天次点个岁斤亩遍]"
    r"|吗$|吗[，,。！!\s]|呢$|不$|没有$|能不能|可不可以|可以不|行不行|要不要|会不会|是不是|有没有|好不好"
    r"|咋|啥|嗦$|嗦[？?]|谁|几时|多久|多长时间|多大|多远"
    r"|([\u4e00-\u9fff])[不没]\1"  # A-not-A: 下不下雨, 去没去, 好不好
    # A yes/no question closed by a spoken particle: "去得不哦", "有这个事没得嘛".
    r"|(不|没有)[哦嘛喃啊呀哇噻嗦吧呢哈][?!。.]*$"
)

# A pasted message speaks to its reader ("您的账户…请点击…") or is signed.
ADDRESSED = re.compile(
    r"尊敬的|亲爱的|您好[，,]|您的|你的账户|【[^】]{1,20}】|回复[0-9A-Za-z]|退订|点击|详询|请于|请在|请您|"
    r"恭喜您|恭喜你|通知[:：]|温馨提示|各位|大家好|请每户|请大家|请各位|特此通知|请准时|请相互转告"
    r"|请联系|请拨打|请致电|即将扣费|即将扣款"
)

# A message that opens by calling its reader a relative ("叔，我是你侄儿……",
# "哥，你还没睡吗？"): written to the user by someone else, even with a question in it.
VOCATIVE = re.compile(
    r"^(叔叔?|伯伯?|大爷|哥|姐|妈|爸|姑|舅|姨|爷爷|奶奶|外婆|外公|阿姨|老哥|兄弟|宝贝|亲)"
    r"[^，。？！,?!]{0,3}[，,！!]"
)

# Money asked for: "快点转五千到我发给你的账户", "要交押金".
MONEY_ASK = re.compile(
    r"(转|汇|打|交|借)[^，。？！,?!]{0,6}(钱|款|押金|保证金|账户|卡上|"
    r"[0-9一二两三四五六七八九十百千万]+(块|元|万))"
)

# A call or visit whose caller claimed something ("有人打电话说是派出所的，是不是
# 真的"): asking whether it is true asks about the caller, not a rumour.
CONTACT_CLAIM = re.compile(
    r"(打|来)(了个|个|了)?电话[^，。？！,?!]{0,3}说|自称|说是[^，。？！,?!]{1,8}的|上门[^，。？！,?!]{0,4}说"
)

# Someone describes a call, visit or offer they received ("有人打电话说我医保卡冻结了").
DESCRIBED_CONTACT = re.compile(
    # (a call made to the user, not the user's own: "打电话听不到对方声音" is a phone question)
    r"来(了个|个|了)?电话|打(了个|个|了)电话|打(个|一个)?电话(来|过来|给我|跟我|说|喊|叫|问我)"
    r"|(人|他|她|的|方|号|个|行|局|所|司|院)打(个|一个)?电话"
    r"|打给我|来电|电话(里|上)?(说|喊|叫)|发(了)?(条|个)?(短信|信息|消息)"
    # a call answered: "我接到一个电话说…", "刚接了个陌生电话" (not "接电话听不到声音")
    r"|接(到|了)(一个|一通|个|了个)?[^，,。？?！!]{0,6}电话"
    r"|加(我|了我)|上门(推销|卖|收|换|办|检查|安检|检测|维修|送)|自称|说是[^，。？！,?!]{1,8}的|找我借钱|开车来"
    r"|来了[两几一]?(个|帮|伙|群)人|有(个|一个)?人(说|让|要|叫|喊)|的人(说|让|要|叫|喊)|对方(说|让|要|叫)"
    # "有人上门说免费换新手机", "有个人来屋头说……" (a visit received, not one asked for)
    r"|(?<![没得])有[两几一]?(个)?人(上门|来(了)?(我)?(家|屋头|家里)?)(来)?(说|讲|喊|叫|要|推销)"
    r"|(让|要|叫|喊)我(先)?(给他|给她)?(转|汇|交|付|垫|下载|下个|装|点|开|按|扫|报|说|告诉|把|充|填|拍)"
)

# A question about the assistant itself, not a request for a person: "你是机器人还是
# 真人", "你是不是真人哦", "你是谁". "我要找真人" asks for one (ASK_PERSON); "你说是不是
# 电脑中毒了" and "视频里是真人吗" are about something else.
ABOUT_US = re.compile(
    r"(^|[，。？！,?!\s])(你|您)(到底|究竟|真的)?(是不是|是)(一个|个)?"
    r"(机器人|真人|人工智能|人工|电脑|程序|ai|AI|人)(吗|哦|嘛|啊|呀|不|还是|[？?。!！\s]|$)"
    r"|(^|[，。？！,?!\s])(你|您)(到底|究竟)?是(哪个|谁|啥子|什么人)(啊|呀|哦|嘛)?[？?。!！]*$"
    r"|(^|[，。？！,?!\s])(你|您)[^，。？！,?!]{0,4}还是(真人|人工|机器人)"
)

# What the assistant is for: "你们这个公众号都能问些什么", "这个是干什么的", "你能帮我
# 做啥子". The menu answers it. The subject must be us: "这个药是干什么的" and "这个
# 按钮有什么用" are questions for search.
_SERVICE = r"(公众号|号|平台|小程序|助手|机器人)"
_US = rf"(你们|你|您)(这个)?{_SERVICE}?|这个{_SERVICE}|科普助手"
_WHAT = r"(什么|啥|啥子|哪些)"
ASKS_WHAT_WE_DO = re.compile(
    rf"({_US})[^，。？！,?!]{{0,4}}"
    rf"(是?(干|搞|做){_WHAT}的|(能|可以|会)(帮我)?(干|做|搞|帮|问|查)(我)?(些|点)?{_WHAT}"
    rf"|有{_WHAT}(用|功能|用处|本事))"
    r"|^(喂|你好|您好|嗯|那个|请问|[\s，。,])*(这个[\s，,]*)+是?(干|搞|做)(什么|啥|啥子)的[？?。呢哦嘛的]*$"
)

# A question about a visit of ours, not a request for one: "志愿者上门要收钱吗",
# "志愿者来屋头安不安全". Search answers it (the answer says how to book). A
# request that asks the price too ("派个人上门帮我认证养老金，收费不") is still a
# request, and paying a bill is an errand, not a fee ("请志愿者上门帮我交电费").
_ABOUT_A_VISIT = re.compile(
    r"(收(不收)?(钱|费)|要(不要)?收?钱|给不给钱|多少钱|免费|靠(不)?得住|安(不安)?全|正规)"
    r"[^，,。！!]{0,4}(吗|嘛|不|没有?|哦|呢|？|\?|$)"
)
_REQUEST_VERB = re.compile(r"找|喊|叫|派|请|预约|约")


def asks_about_a_visit(text: str) -> bool:
    """Whether a message its caller knows to be about a visit or a person asks what it
    costs or whether it is safe, without asking for one."""
    return bool(_ABOUT_A_VISIT.search(text)) and not _REQUEST_VERB.search(text)


# The people of the service a user may ask for by name (not 客服: a scam's caller
# says he is one, and "要我转客服" is a call received).
_STAFF = r"(工作人员|志愿者|人工|真人|专人|你们的人|网格员|社工|负责的人|负责人|管事的)"

# Asking for a person or a number to reach one ("村里管医保的人电话多少",
# "有莫得人能到我屋头来帮我弄一哈"): a hand-off, whatever the errand.
ASK_PERSON = re.compile(
    # (a space is a pause between clauses: "加别人好友 用电话号码加" asks no number)
    r"(人|员|站|所|局|村委会|居委会|书记|主任|医生|警察)[^\s，。？！,?!]{0,4}(的)?电话(号码)?(是)?(多少|好多)"
    r"|有没有[^，。？！,?!]{0,6}电话|有没有人|有没得人|有莫得人|有没有哪个|有莫得哪个|有没得哪个|哪个可以"
    r"|找个人|喊个人|叫个人|派个人|请人来|请个人|找(他|她)问|上门|到我(家|屋头|这里)来|来我(家|屋头)"
    # "能不能喊个农技员来地头看哈", "派个懂电脑的人过来", "能不能请农技员明天来看看"
    r"|(找|喊|叫|派|请)(个|一个|位|一位)?[^，。？！,?!]{0,8}(人|员|医生|师傅|专家|干部|兽医|老师|志愿者)"
    r"[^，。？！,?!]{0,4}(来|过来|上门|到)"
    r"|(喊|叫|找|派)人来|来(个|一个|位)[^，。？！,?!]{0,3}(人|师傅|医生|兽医|技术员|专家|干部)"
    r"|(哪个|谁|有人)(能(来|过来)|(能|可以)?(来|过来)(帮|教|看|弄))"
    # "有没有农技员能来我田里看一下"
    r"|有(没有|没得|莫得)[^，。？！,?!]{0,6}(人|员|医生|师傅|专家|兽医)[^，。？！,?!]{0,2}(能|可以)?(来|过来|上门)"
    r"|(帮我|请|麻烦)[^，。？！,?!]{0,2}(找|查|要)(下|一下)?[^，。？！,?!]{0,8}电话"
    # "请帮我联系一下镇上的兽医", "帮我找下村支书电话"
    r"|联系(一下|下)?[^，。？！,?!]{0,6}(兽医|医生|农技|技术员|村干部|书记|支书|民警|警察|网格员|志愿者)"
    r"|(找|给|发)(下|一下)?[^，。？！,?!]{0,6}(书记|支书|主任|村委|民政|派出所|司法所|兽医站|农技站|医生|警察)"
    r"[^，。？！,?!]{0,3}(的)?电话"
    r"|电话(号码)?(给我|发我|告诉我)"
    # someone missing: the police and the village look for them
    r"|走丢了|走失了|人不见了|找不到人了|失踪了"
    r"|我要找警察|网格员|转人工|人工客服|找人工|要人工|叫个医生|喊个医生"
    # "我要跟真人说", "有没得真人"; not "你是机器人还是真人" (ABOUT_US)
    r"|(要|找|转|跟|和|同|换|接|叫|喊|有没有|有没得|有莫得)[^，。？！,?!]{0,3}真人|真人(客服|服务|说话|聊)"
    # "我想找你们的工作人员", "能不能有人帮我查一下", "有没有志愿者可以帮老人交医保",
    # "有没得老师教老年人耍手机", "志愿者好久到我们村来"
    r"|(找|联系|要)(一下|下)?(你们)?(的)?(工作人员|志愿者)"
    r"|(能不能|可不可以|能否)(有人|有个人|找个人|派个人)"
    r"|有(没有|没得|莫得)[^，。？！,?!]{0,6}(志愿者|工作人员|老师)"
    r"|(志愿者|工作人员)[^，。？！,?!]{0,4}(好久|什么时候|啥时候|几时|哪天|能不能|可不可以)"
    r"[^，。？！,?!]{0,6}(来|上门)"
    # "能不能帮我转一下人工", "找个工作人员帮我办", "哪个能帮我办高龄补贴", "想当面咨询",
    # "我想找一个律师"
    r"|转[^，。？！,?!]{0,4}人工|当面(咨询|问|请教|谈|讲|说)|找(个|一个)?律师"
    r"|(找|喊|叫|派|请)(个|一个|位|一位)[^，。？！,?!]{0,6}(人|员|医生|师傅|专家|干部|老师|志愿者)"
    r"(来|过来)?(帮我|帮忙|帮下我|帮一下我)"
    r"|(哪个|谁)(能|可以|来)?帮我(办|弄|搞|查|交|认证)"
    # Asking to talk to one of us, told by what is wanted of the person rather than
    # by fixed phrases: "我想跟工作人员说话", "能不能和你们的人通个话", "给我转那个
    # 工作人员", "我要找个志愿者教我".
    r"|(想|要|能不能|可不可以|能否|请|麻烦|让我|帮我)[^，。？！,?!]{0,3}(跟|和|同)(你们)?(的|这边的|那边的)?"
    rf"(那个|一个|个)?{_STAFF}[^，。？！,?!]{{0,3}}(说|讲|谈|聊|通话|通个话|联系|商量|反映)"
    r"|(?<![钱款])转(接)?(给|到)?(一下|下)?(那个|个)?(你们)?(的)?(工作人员|人工|真人|志愿者)"
    rf"|(想|要)(找|请|见)(个|一个|位|一位)?(你们)?(的)?{_STAFF}"
    # the one wanted named after what they do: "我想找村里管医保的人", "我要找社区的
    # 工作人员", "你帮我叫一下村医我要问他"
    r"|(想|要)找[^，,。？?！!]{0,10}(工作人员|志愿者|网格员|村医|村干部|书记|管[^，,。？?！!]{1,6}的(那个|那位)?人)"
    r"|(帮我)?(叫|喊)(一下|下)(那个)?(村医|医生|网格员|书记|村干部)"
    # after a place's number: "派出所的电话好多号，我要找他们"
    r"|(我|我们)(要|想)(找|联系)(他们|他|她|她们)"
)

# Asking for a number to call, or for someone to call back ("有没有哪个可以打电话问",
# "兽医的电话有没得", "能不能叫个医生给我打个电话"): the user's own call, which
# DESCRIBED_CONTACT would otherwise read as a call received.
ASK_CALL = re.compile(
    r"(能不能|可不可以|能否|帮我|麻烦)[^，。？！,?!]{0,6}(给我|跟我)?(打|回)[^，。？！,?!]{0,2}电话"
    # "兽医的电话有没得", not "诈骗电话 有没有什么办法查"
    r"|电话[^\s，。？！,?!]{0,3}(有没有|有没得|有莫得|是好多|是多少)"
    r"|电话(号码)?(是)?(多少|好多)(号)?(?=$|[，。？！,?!嘛呢哦喃])"
    # said to us ("给我个电话", "麻烦告诉我号码"), not told ("我儿子给我一个号码")
    r"|(^|[\s，。？！,?!]|你|请|麻烦|帮忙|能不能|可不可以)(给我|告诉我|发我)[^，。？！,?!]{0,3}(个|一个)?(电话|号码)"
    # "喊负责的人给我回个电话嘛"; not "有人给我打电话说…", "给我打了个电话"
    r"|给我(打|回)(个|一个)电话(?![^，。？！,?!]{0,2}说)"
    # "你喊个人打电话给我嘛", "有没得人可以打电话给我讲", "打个电话给我嘛"; not "有人打电话给我说"
    r"|(可以|能|喊个人|叫个人|找个人|派个人)[^，。？！,?!]{0,4}(打|回)(个|一个)?电话给我"
    r"|(打|回)(个|一个)?电话给我(嘛|吧|哈|噻|撒|好不好|要得不|行不行|可以不|[，。？！,?!]|$)"
    # "打个电话问哈" is the user's own call; "有个人打电话问我要不要兼职" is one received.
    r"|(打|拨)(个|一个)?(电话)?(过去|电话)问(?!我)"
    # a call to us: "我不会打字，可以打电话给你们吗", "你们电话多少"
    r"|(打|拨)(个|一个)?电话(给|到)你们|给你们打(个|一个)?电话|打你们(的)?电话"
    r"|你们(的)?(电话|号码|联系方式)(号码)?(是)?(多少|好多|有没有|有吗|呢)"
)

# The number of a place ("县医院挂号电话是多少", "镇政府的电话是好多", "医保局电话有没有"):
# a fact asked for, answered honestly with the hotline that knows it, not a request
# for one of us. The people a hand-off reaches (村书记, 网格员, 兽医, 农技员 …) are asked
# for by who they are and stay hand-offs; so does a person asked for beside the number
# ("派出所的电话是好多嘛，我要找警察").
# (after whose number: "…的电话号码是", then what is asked of it)
_NUMBER_OF = r"[^，,。？?！!\s]{0,6}(的)?电话(号码)?(是)?"
_NUMBER_ASKED = r"(多少|好多|有没有|有没得|有莫得)"
PLACE_NUMBER = re.compile(
    r"(医院|卫生院|诊所|药店|药房|局|政府|派出所|供电所|银行|营业厅|公司|小卖部|超市|商店|门市|"
    rf"车站|学校|幼儿园|快递|物业|自来水){_NUMBER_OF}{_NUMBER_ASKED}"
)


# The number of a private person ("帮我查一下隔壁王大爷的电话", "卖农资的老板电话好多"):
# not ours to give, and not a request for one of us (the people a hand-off reaches
# are asked for by who they are: 村书记, 网格员, 兽医 …).
PRIVATE_NUMBER = re.compile(
    r"(隔壁|邻居|对门|亲戚|朋友|同学|老乡|熟人|老板|"
    r"[王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢唐冯邓曹彭蒋](家|大爷|大妈|嬢嬢|孃孃|婆婆|爷爷))"
    rf"{_NUMBER_OF}{_NUMBER_ASKED}?"
)


def without_place_number(text: str) -> str:
    """``text`` with the number of a place or a private person it asks for taken out
    (what is left may still ask for one of us)."""
    return PRIVATE_NUMBER.sub(" ", PLACE_NUMBER.sub(" ", text))


# Asking whether it is a scam ("是不是骗子", "会不会是诈骗", voice's "是不是片子"): the
# check is what the user asked for when no entry answers.
SCAM_ASK = re.compile(
    r"(是不是|是|会不会是|怕是|莫不是|不会是)(个|一个)?(骗子|骗人|诈骗|骗局|片子|骗钱)"
    r"|骗人的(吧|吗|哦|嘛)|骗子(吧|吗)"
)


# A call the user wants made to family or a shop ("帮我打个电话给我儿子", "帮我给医院
# 打个电话预约专家号"): an errand we cannot run, not a call asked of us. 给我 followed
# by the call or the talk ("给我打个电话", "打电话给我讲") is a call to the user, and a
# call to the people a hand-off reaches (村书记, 网格员, 兽医 …) stays a hand-off.
_TO_USER = r"我(?=[打回讲说教嘛吧哈噻撒呢哦啊]|$|[\s，。？！,?!])"
_REACHED_BY_US = (
    r"[^，。？！,?!\s]{0,6}"
    r"(书记|村委|村干部|村长|主任|网格员|兽医|农技|技术员|志愿者|工作人员|民警|警察|派出所)"
)
CALL_FOR_OTHERS = re.compile(
    rf"(帮我|帮忙|替我|你)[^，。？！,?!]{{0,2}}(给|跟)(?!{_TO_USER}|你们|{_REACHED_BY_US})"
    rf"[^，。？！,?!\s]{{1,8}}打[^，。？！,?!]{{0,2}}电话"
    rf"|(帮我|帮忙|替我|你)[^，。？！,?!]{{0,2}}打[^，。？！,?!]{{0,2}}电话(给|到)"
    rf"(?!{_TO_USER}|你们|{_REACHED_BY_US})"
)

# What a rumour says, when it comes without "听说": something eaten, used or done
# that cures, poisons, causes cancer or radiates ("喝醋能软化血管", "手机放枕头边
# 有辐射"), a product myth (转基因, 人造鸡蛋, 打了针的水果), a policy about to
# change ("明年起养老金要取消"). A question about one's own illness ("癫痫能治好吗",
# "激素有什么副作用") or a bill ("花呗为什么扣钱") is no claim. Used only when no
# entry answers.
CLAIM = re.compile(
    r"(吃|喝|用|抹|擦|泡|戴|闻|晒|穿|睡|放|打|种|接|拿|刷|看|点|扫)[^，。？！,?!]{0,10}"
    r"(致癌|(得|长)(癌|脑瘤|肿瘤|白血病)|会癌|能治(?![好愈疗])|治百病|包治|根治|排毒|有毒|会中毒"
    r"|软化血管|降血压|降血糖|降血脂|辐射|不孕|生不出|长不高|变傻|变笨|扣钱|扣费|盗刷|被盗)"
    r"|治百病|包治|转基因|人造(鸡蛋|大米|肉|猪肉|蛋)|打了针|打激素|避孕药|膨大剂|催熟"
    r"|(国家|政府|上面|以后|明年|下个月|今年起|从明年|马上|今后)[^，。？！,?!]{0,10}"
    r"(要收|要涨|要取消|要停发|要收回|要罚|不准|不让|禁止|不发)"
)

# Places and words that point to a hotline when we cannot answer.
# (The numbers and their names live in bot/handoff.HOTLINES.)
GOVERNMENT = re.compile(
    r"社保|医保|养老金|养老保险|低保|补贴|户口|身份证|办证|办事|政府|村委|镇上办|民政|残疾证|"
    r"房产证|宅基地|承包|征地|拆迁|高龄|退休|证明|合作医疗|新农合"
)
FARMING = re.compile(
    r"种|庄稼|水稻|稻|秧|玉米|包谷|小麦|油菜|红薯|土豆|蔬菜|菜地|辣椒|果树|柚|柑|橘|橙|桃|李子|"
    r"猪|鸡|鸭|鹅|牛|羊|鱼|虾|兔|蜂|养殖|农药|化肥|肥料|除草|虫|病害|发瘟|兽药|饲料|大棚|地里|田里"
)

# Whom a health question is about. An entry written for older people ("老人发烧，能
# 自己吃布洛芬吗") does not answer the same question about a child: doses, warning
# signs and what is safe differ, so "娃儿发烧三十九度能吃布洛芬不" is not answered
# with it (issue 13: subject is not answer).
CHILD = re.compile(r"孩子|娃儿|娃娃|小孩|小娃|宝宝|婴儿|幼儿|小朋友|儿童|\d+个月大|几个月大")
SENIOR = re.compile(r"老人|老年|上了年纪|老辈子|七十多|八十多|老伴")


def for_seniors_only(title: str) -> bool:
    """An entry whose title is about older people and not about children."""
    return bool(SENIOR.search(title)) and not CHILD.search(title)


# "多讲一点" after an answer: its detail (the rest of the answer, the full source).
MORE_DETAIL = re.compile(
    r"^(请|再|能不能|可以)?(多讲一点|多说一点|多讲点|多说点|讲详细点?|说详细点?|详细(说说|讲讲|一点|点)?"
    r"|看出处|出处|出处在哪(里|儿)?|看详细|看详细的?)(吧|嘛|哈|呢|啊)?[。！!？?]*$"
)

# "我的举报有结果了吗", "R-ABCD2345 怎么样了": a look-up, not a new report.
REPORT_STATUS = re.compile(
    r"(举报|反映|报上去|报的|问的|提交|交给你们)[^。？?！!]{0,8}"
    r"(结果|结论|进展|怎么样|咋样|回音|回复|答复|核实了|查清|查到|查了|有消息|下文|回信|回话|处理)"
    r"|R-[A-Z2-7]{8}"
)

# Asking for a person outright: a help request whatever else the message says.
PERSON_WORDS: tuple[str, ...] = (
    "转人工",
    "人工客服",
    "找人工",
    "要人工",
    "真人",
    "找人",
    "找个人",
    "喊个人",
    "叫个人",
    "派个人",
    "派人",
    "来个人",
    "上门",
    "志愿者",
    "工作人员",
    "救护车",
    "报警",
)

# Explicit commands stand only when they name what they ask for. Anything a
# command intent says beyond these words (and a few fillers) is content: the
# message is then free text, and the understanding step weighs it.
COMMAND_WORDS: dict[str, tuple[str, ...]] = {
    "report_rumor": (
        "举报谣言",
        "举报",
        "辟谣",
        "谣言",
        "核实",
        "造谣",
        "乱说",
        "瞎说",
        "假消息",
        "假新闻",
        "查证",
    ),
    "check_message": (
        "短信",
        "消息",
        "信息",
        "链接",
        "网址",
        "号码",
        "电话",
        "骗子",
        "诈骗",
        "骗人",
        "可疑",
        "二维码",
        "这条",
        "转发",
    ),
    "handoff": PERSON_WORDS
    + (
        "有没有人",
        "帮忙",
        "客服",
        "电话",
        "号码",
        "警察",
        "医生",
        "村干部",
        "村委",
        "村主任",
        "书记",
        "政府",
        "求助",
        "求救",
        "救命",
        "热线",
        "联系",
    ),
}
# Words around a command that carry nothing ("我要", "帮我", "一下").
COMMAND_FILLERS: tuple[str, ...] = (
    "我要",
    "我想",
    "想要",
    "帮我",
    "给我",
    "请",
    "麻烦",
    "你们",
    "一下",
    "一个",
    "个",
    "这个",
    "那个",
    "是不是",
    "是真的吗",
    "看看",
    "查查",
    "查一下",
    "有",
    "没有",
    "的",
    "了",
    "吗",
    "呢",
    "嘛",
    "哦",
    "啊",
    "呀",
    "吧",
    "我",
    "你",
    "要",
    "想",
    "去",
    "找",
    "打",
    "发",
    "收到",
    "一条",
    "条",
    "问问",
    "说话",
    "跟",
    "和",
    "能不能",
    "可以",
)


# A pasted message is judged by the fraud checker when it reads like one: it
# has a signature or a link, or it speaks to its reader and is not a question
# of the user's own.
PASTED_MIN_CHARS = 12
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SIGNATURE = re.compile(r"^\s*【[^】]{1,20}】|【[^】]{1,20}】\s*$")


# The user's short remark after a pasted message, set off by a space or a
# sentence mark: "…带身份证 这个可信吗", "…请点击链接。是真的不".
_TRAILING_REMARK = re.compile(r"[\s。！!]+[^\s。！!，,]{1,12}$")


def han_chars(text: str) -> int:
    return len(_HAN.findall(text))


def asks(text: str) -> bool:
    """The user's own question: a question word in the last clause."""
    clauses = [c for c in re.split(r"(?<=[。！!；;？?\n])", text.strip()) if c.strip()]
    return bool(clauses) and bool(QUESTION.search(clauses[-1]))


def looks_pasted(text: str) -> bool:
    """A forwarded SMS or chat message rather than the user's own words."""
    if _SIGNATURE.search(text) or find_links(text):
        return True
    if han_chars(text) < PASTED_MIN_CHARS:
        return False
    for cue in (FORWARD_LEAD_IN, _LEAD_QUESTION, _LEAD_SIGNATURE):
        lead = cue.search(text)
        if lead and han_chars(text[lead.end() :]) >= FORWARDED_BODY_MIN_CHARS:
            return True
    if any(han_chars(q) >= FORWARDED_BODY_MIN_CHARS for q in _QUOTED.findall(text)):
        return True
    if not ADDRESSED.search(text):
        return False
    if not asks(text):
        return True
    # The message, then the user's few words about it ("……取消请联系客服400-xxx 我没开过
    # 什么哦", "请各位村民本周五……带身份证 这个可信吗"): the body speaks to its reader.
    tail = _TRAILING_REMARK.search(text)
    if tail is None:
        return False
    body = text[: tail.start()]
    return (
        han_chars(body) >= FORWARDED_BODY_MIN_CHARS
        and bool(ADDRESSED.search(body))
        and not asks(body)
    )


def is_emergency_now(text: str) -> bool:
    """An emergency happening now, not a question about one."""
    if not is_emergency(text):
        return False
    if DESCRIBED_CONTACT.search(text) and REPORTED.search(text):
        # A caller's story ("有人打电话说你孙子出车祸了要马上打钱"): a scam to judge,
        # however urgent the caller made it sound.
        return False
    if HAPPENING.search(text):
        return True
    if PAST.search(text) or HABITUAL.search(text):
        return False
    if SUDDEN.search(text):
        return True
    if PERSONAL.search(text) and not QUESTION.search(text):
        # Told, not asked ("我爸打农药以后头昏吐了还流口水"): it is happening.
        return True
    if GENERAL_QUESTION.search(text):
        return False
    general = HOW_TO.search(text) and GENERIC_SUBJECT.search(text) and not PERSONAL.search(text)
    return not general


# A message check asks to look at a particular message ("帮我看看这条短信").
CHECK_REQUEST: tuple[str, ...] = (
    "这条",
    "这个",
    "这是",
    "帮我",
    "查",
    "看看",
    "看一下",
    "看下",
    "鉴定",
    "可疑短信",
    "收到",
)
