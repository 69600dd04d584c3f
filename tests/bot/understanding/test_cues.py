"""Word cues: aftermath, rumour questions, pasted messages."""

from __future__ import annotations

import pytest

from bot.text.normalize import canonical
from bot.understanding import cues
from bot.understanding.cues import (
    ASK_CALL,
    ASK_PERSON,
    CALL_FOR_OTHERS,
    RUMOR,
    asks,
    is_aftermath,
    looks_pasted,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我被人骗了两千块钱咋个办", True),
        ("我妈被骗了", True),
        ("昨天转了三千块给一个客服", True),
        ("验证码告诉他了咋办", True),
        ("已经转账了还能追回来吗", True),
        ("钱被转走了", True),
        ("怎么防止被骗", False),
        ("老人怎么不被骗", False),
        ("容易被骗的人有哪些", False),
        ("微信怎么转账", False),
        ("我昨天给儿子微信转了500块钱，他一直没点收", False),
        ("刚才转了钱给那个说是公安局的人", True),
        ("验证码能不能告诉别人", False),
        # what the caller asked for is not what was done
        ("刚才有个说是银行的人打电话，叫我把手机上的验证码念给他", False),
        ("我已经把验证码念给他了", True),
        # ... however far into the clause the thing asked for comes
        ("有个人打电话喊我把手机上今天收到的验证码念给他", False),
        ("他喊我把手机上收到的验证码念给他，我就把验证码念给他了", True),
        ("对方叫我转账，我已经转了", True),
        # what the caller claimed is not what happened; what the person did after is
        ("有人打电话说我的医保卡在外地被盗刷了，要帮我转接到公安局", False),
        ("对方说我的卡被盗刷了", False),
        ("电话里说我涉嫌洗钱我已经转了钱", True),
        ("有人打电话说我孙子出事了，我转了5000块过去", True),
        ("卡里的钱少了，被盗刷了", True),
        ("刚刚信了那个人的话，扫码付了钱，现在人也找不到了", True),
        ("我在网上刷单刷了好几次现在钱提不出来了", True),
        ("怎么扫码付款", False),
        # details handed over, money gone from one's own card
        ("我把卡号跟密码都报给那个人了", True),
        ("密码能不能告诉客服", False),
        ("存折里的钱少了，我又没去取过", True),
        ("卡里的钱怎么转到微信上", False),
        # a code one received, given away; the dialect's 哄 and 莫得了; money put in
        ("我刚把手机收到的验证码告诉了一个自称银行的人，现在怎么办？", True),
        ("老汉儿遭人哄起开了屏幕共享，支付宝里头的钱莫得了", True),
        ("刷单刷了三回，前头还返了钱，后头投了两万就不返了", True),
        ("娃儿哄我说作业做完了", False),
        ("我想把微信里头的钱转到银行卡", False),
        # an amount gone without the word 钱; ID, card or payment code handed over;
        # bought at a sales meeting; one's name used for a loan; a phone taken over
        ("我刚刚扫了个二维码，卡头少了三千块，咋个办嘛", True),
        ("卡里少了多少钱怎么查", False),
        ("我刚刚把身份证正反面照片发给了个说帮我办贷款的，现在咋个整", True),
        ("我把微信付款码截图发给了一个客服，刚收到扣款消息", True),
        ("能不能把身份证照片发给别人", False),
        ("不要把付款码发给别人", False),
        ("那个人叫我把身份证照片发给他", False),
        ("我被人家骗了买了理财产品，现在取不出来了", True),
        ("我老汉儿被拉到那个会场里面买了保健品好几万，咋个办", True),
        ("我帮别人刷了脸，说是领补贴，现在我名下多了一笔贷款", True),
        ("他叫我下载了一个软件，然后手机就不受控制了", True),
        ("我刚刚把那个人发的链接点了，还填了银行卡号和密码，咋个办哦", True),
    ],
)
def test_aftermath(text: str, expected: bool) -> None:
    assert is_aftermath(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("听说喝醋能软化血管", True),
        ("群里有人说鸡蛋和豆浆不能一起吃", True),
        ("隔夜茶喝了致癌，真的假的", True),
        ("抖音上说醋泡黑豆能降血压", True),
        ("一天喝多少水合适", False),
        ("我耳朵背得很，别人说话听不清楚", False),
        ("盐吃多了真的不好吗", False),
        ("二化螟怎么防治", False),
        # hearsay that opens the message
        ("说是晚上吃姜赛砒霜 是不是哦", True),
        ("我说不清楚哪里痛", False),
        # the words one cannot hear are no hearsay
        ("打电话听不清楚人家说啥子 声音咋个开大点", False),
        ("耳朵背了听不见别人说什么", False),
    ],
)
def test_rumour_cue(text: str, expected: bool) -> None:
    assert bool(RUMOR.search(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("【农业银行】您的账户异常，请点击链接验证", True),
        ("您的快递已到镇上驿站，取件码5-2-1033，请及时领取", True),
        ("您好，您的医保卡已被冻结，请联系工作人员办理解冻", True),
        ("医保卡被冻结了怎么办", False),
        ("您的意思是让我交钱吗", False),
        ("高血压能不能吃鸡蛋", False),
        # the message, then the user's short remark about it
        ("各位老人请于下周一到卫生院免费量血压，请带好医保卡 这个是真的不", True),
        ("您的话费套餐下个月即将扣费，退订请联系客服4001234567 我没办过啥子", True),
        ("您的医保卡冻结了是啥意思 我要咋办", False),
        # what one received oneself is no message forwarded
        ("我刚把手机收到的验证码告诉了一个自称银行的人，现在怎么办？", False),
        # nor is a link someone sent, told by what one did with it
        ("我刚刚把那个人发的链接点了，还填了银行卡号和密码，咋个办哦", False),
        ("他发的：您的快递丢失了，点击链接办理理赔，三个工作日内到账", True),
    ],
)
def test_looks_pasted(text: str, expected: bool) -> None:
    assert looks_pasted(text) is expected


def test_a_question_is_read_from_the_last_clause() -> None:
    assert asks("我收到一条短信。这是不是骗子")
    assert not asks("您的账户异常？请立即点击链接验证。")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("柚子树的病我说不清楚，能不能喊个农技员来地头看哈", True),
        ("能不能派个懂手机的人过来教我", True),
        ("农技员说柚子要疏果", False),
        ("请个医生来看", True),
        ("我不会弄认证 哪个来帮我弄一下", True),
        ("有没有懂手机的师傅能上门", True),
        ("哪个牌子的电饭锅好用", False),
        ("我想找你们的工作人员", True),
        ("能不能有人帮我查一下医保交没交", True),
        ("村里有没有志愿者可以帮老人交医保", True),
        ("你们有没得老师教老年人耍手机的", True),
        ("志愿者说下个月要来村里", False),
        ("老师说娃儿近视了", False),
        ("能不能帮我转一下人工，社保的事说不清楚", True),
        ("找个工作人员帮我办一下", True),
        ("村头哪个能帮我办高龄补贴", True),
        ("我想和你们的老师当面咨询", True),
        ("我想找一个律师，地被别人占了", True),
        ("哪个牌子的手机好用", False),
        ("工作人员帮我办了认证", False),
        # asking to talk to one of us, in words of one's own
        ("我想跟工作人员说话", True),
        ("给我转那个工作人员", True),
        ("我要找个志愿者教我用手机", True),
        # talk reported, money sent, someone else: no request
        ("我跟客服说了要退款", False),
        ("我想跟儿子说话 微信咋个打视频", False),
        ("工作人员说了要带身份证", False),
        ("我把钱转给那个工作人员了", False),
    ],
)
def test_asking_for_someone_to_come(text: str, expected: bool) -> None:
    assert bool(ASK_PERSON.search(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("你喊个人打电话给我嘛，医保的事情", True),
        ("有没得人可以打电话给我讲", True),
        ("补贴一直莫得，打个电话给我嘛", True),
        ("有人打电话给我说我中奖了", False),
        ("昨天一个陌生人打电话给我说是公安局的", False),
        ("喊你们负责的人给我回个电话嘛", True),
        ("兽医站的电话有没得", True),
        ("给我个电话嘛", True),
        ("微信怎么加好友 我儿子给我一个号码", False),
        ("怎么知道是不是诈骗电话 有没有什么办法查", False),
        ("他昨天给我打了个电话", False),
        # a call to us
        ("我不会打字，可以打电话给你们吗", True),
        ("你们电话多少", True),
    ],
)
def test_asking_to_be_called(text: str, expected: bool) -> None:
    assert bool(ASK_CALL.search(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("帮我打个电话给我儿子", True),
        ("嗯帮我打个电话给我腰儿就是我小儿子", True),
        ("帮我给医院打个电话预约明天的专家号", True),
        ("帮我给我妈打个电话", True),
        # a call to the user, or to someone a hand-off reaches
        ("能不能给我打个电话", False),
        ("帮我打个电话给我嘛", False),
        ("你喊个人打电话给我讲", False),
        ("能不能叫村上的网格员给我打个电话", False),
        ("我不会打字，可以打电话给你们吗", False),
        ("你帮我打电话给我们村书记", False),
        ("帮我给兽医打个电话", False),
    ],
)
def test_a_call_to_someone_else_is_an_errand(text: str, expected: bool) -> None:
    assert bool(CALL_FOR_OTHERS.search(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("村里管医保的人电话多少", True),
        ("镇上派出所的电话号码是好多", True),
        ("微信怎么加别人好友 用电话号码加", False),
    ],
)
def test_asking_for_a_number(text: str, expected: bool) -> None:
    assert bool(ASK_PERSON.search(text) or ASK_CALL.search(text)) is expected


@pytest.mark.parametrize(
    "text",
    [
        "老伴一下子昏死过去了",
        "我妈喊了半天都没得反应了",
        "我爸喝了半瓶敌敌畏",
        "邻居遭电打了倒在地上",
        "娃儿高烧抽起了",
        "老头子胸口闷得出冷汗",
        "爷爷吐了好多血",
        "奶奶摔得头破血流",
        "屋头老人呼吸困难得很",
        # poisoned while spraying, told as it happens
        "老汉在田头喷了农药现在头昏得很一直想吐",
        "我打完药头晕了，手还在发抖",
        # told with a comma or the other way round
        "我爷爷在院坝头摔倒了，爬不起来",
        "老头子刚才还好好的，现在呼吸都没得了",
        "我儿子骑车摔到沟里，头在流血",
        "娃儿遭开水烫了一大片",
        "我们在河边困住了上不来",
        "屋头老人吃了野菌子，又吐又拉",
        "快帮我喊一下救护车，路口出车祸了",
        # someone of one's own, or a thing, with "怎么办": happening
        "我婆婆摔倒了起不来怎么办",
        "灶房着火了怎么办",
        "我外公倒在院坝头没得气了",
        # the question form does not hide an event happening now
        "我爸刚才突然晕倒了要不要送医院",
        # told about one's own, not asked: "以后" tells when, it asks nothing
        "我爸他打农药以后头昏吐了还流口水",
        # breath in the dialect's word, a body that does not move, gas in the air
        "快点那个小孩掉到鱼塘里面捞起来了没有出气了",
        "就是我老公被电点到了倒在地上不动了",
        "厨房里好大一股煤气味",
        # a button battery or magnet swallowed, a bottle of pills taken
        "孙子把一颗纽扣电池吞下去了",
        "娃儿吞了个磁铁下去",
        "我爸吃了一瓶安眠药",
        # a stroke, low blood sugar, many stings, smoke, gas, rat poison as heard
        "我老婆子突然手脚动不了了，话也说不出来",
        "我妈血糖低了 一身冒汗 人迷迷糊糊的",
        "我被马蜂叮了好几下 头晕 身上起包",
        "隔壁屋头冒烟了，屋头只有个老婆婆",
        "屋头天然气漏了 好大一股味道",
        "我孙子吃了那个老鼠要 好像吃了几颗",
    ],
)
def test_acute_events_told_in_new_words_are_emergencies(text: str) -> None:
    assert cues.is_emergency_now(canonical(text))


@pytest.mark.parametrize(
    "text",
    [
        "中风有哪些前兆",
        "心梗是怎么回事",
        "中暑了怎么急救",
        "被蜂子叮了咋办",
        "一个人在家摔倒了起不来怎么办",
        "血压高平时要注意啥",
        "打药会不会头晕",
        # people in general, with "怎么办": a question
        "老人摔倒了起不来怎么办",
        "有人吃了野蘑菇上吐下泻该怎么办",
        "误吃了发芽的土豆会有什么反应",
        "冬天烧炭取暖怎么防一氧化碳中毒",
        "冬天关着门窗烧炭烤火，怎样防止一氧化碳中毒？",
        "家里着火了第一时间应该做什么",
        # a caller's story is a scam to judge, not an accident
        "有人打电话说我孙子在外地出车祸了，要我赶紧打钱",
        "来了个电话说我女儿住院了现在马上要交钱",
        "打农药的时候头晕怎么预防",
        "我爸打农药以后头昏，要注意什么",
        # a hazard or first aid asked about
        "电瓶车放在堂屋充电会不会起火",
        "被开水烫了第一步该做啥",
        # a phone "poisoned" has a virus
        "有人说我手机中毒了要下个软件",
        # which of two remedies; what comes long after
        "烫伤了应该抹牙膏还是酱油",
        "煤气中毒有没有后遗症",
        # batteries that eat power are no swallowed battery
        "遥控器的电池吃了好多电",
        "这个玩具好吃电池",
        # the same signs asked about
        "被蜜蜂叮了以后头晕要注意什么",
        "中风的人话说不清楚能恢复吗",
        "烟囱冒烟正常吗",
        "肩膀痛得手都抬不起来，是不是肩周炎",
    ],
)
def test_questions_about_such_events_are_not(text: str) -> None:
    assert not cues.is_emergency_now(canonical(text))


@pytest.mark.parametrize(
    "text",
    [
        "前几天上班的时候突然手脚抽搐，倒在了地上，被带到医院之后诊断是癫痫",
        "我癫痫病五年了，每次复发都口吐白沫",
        "这个病我从来没有听说过",
    ],
)
def test_an_illness_told_as_history_is_no_emergency_or_rumour(text: str) -> None:
    assert not cues.is_emergency_now(canonical(text))
    assert not RUMOR.search(text)


@pytest.mark.parametrize(
    ("text", "about_us"),
    [
        ("你到底是机器人还是真人哦", True),
        ("你是不是人工智能", True),
        ("喂 你是谁", True),
        ("您是人工还是机器人", True),
        # something else that is or is not a person or a computer
        ("你说是不是电脑中病毒了", False),
        ("抖音上那个视频是真人吗", False),
        ("你是不是把我拉黑了", False),
    ],
)
def test_questions_about_who_answers(text: str, about_us: bool) -> None:
    assert bool(cues.ABOUT_US.search(text)) is about_us


@pytest.mark.parametrize(
    "text, expected",
    [
        ("你们这个公众号都能问些什么？", True),
        ("喂 你好 这个 这个是干什么的", True),
        ("你能帮我做啥子", True),
        ("科普助手有什么用", True),
        # questions about something else
        ("这个药是干什么的", False),
        ("这个按钮有什么用", False),
        ("手机上这个是干什么的", False),
        ("你能不能帮我查一下话费", False),
    ],
)
def test_asking_what_we_do(text: str, expected: bool) -> None:
    assert bool(cues.ASKS_WHAT_WE_DO.search(text)) is expected


# --- issue 13: cues read the canonical form, whose marks are ASCII -------------------


def test_canonical_text_has_ascii_marks_and_the_cues_read_them() -> None:
    # NFKC makes "，？！" ASCII: a cue that names only the full-width mark never fires.
    text = canonical("您好，我是某某银行客服，您的信用卡即将停用，请回电。这个是骗子吗")
    assert "," in text and "，" not in text
    assert looks_pasted(text)
    assert asks(canonical("这个菌子能吃吗，我怕有毒"))


@pytest.mark.parametrize(
    "text, expected",
    [
        # a yes/no question closed by a spoken particle
        ("村里发的那个药吃得不哦", True),
        ("镇上办这个事要钱没得嘛", True),
        ("这个事情我不晓得哦", False),
        ("我吃不下哦", False),
    ],
)
def test_a_spoken_yes_no_question_is_a_question(text: str, expected: bool) -> None:
    assert asks(canonical(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a call the user answered is a call received
        ("我昨天接到一个陌生电话，说我的快递丢了要赔我钱", True),
        ("刚接了个电话说我孙子在派出所", True),
        ("院坝头来了一伙人，说是送米送油", True),
        # a visit received is told; one asked for is not
        ("有人上门说免费帮老年人换新手机 要得不", True),
        ("有个人来屋头说要帮我们装净水器", True),
        ("有没有人上门来说一下咋个弄", False),
        # the user's own call is not
        ("接电话的时候声音太小了咋个调", False),
        ("打电话老是听到回音咋回事", False),
        ("给儿子打电话打不通是不是欠费了", False),
    ],
)
def test_a_call_received_is_told_from_a_call_made(text: str, expected: bool) -> None:
    assert bool(cues.DESCRIBED_CONTACT.search(canonical(text))) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # a message read out or quoted, then the user's words about it
        ("信息上写的是您的话费积分今天到期请点链接兑换礼品，这个能点不", True),
        ("我想问下 【某某物流】您的包裹因地址不详无法派送请尽快联系客服处理", True),
        ("妹妹在群里转“明天起老人乘车卡要到镇上重新办理，逾期一律作废”，是不是哦", True),
        # a parcel received is no message
        ("收到个快递我又没买东西咋个办", False),
        ("收到一个陌生人寄来的包裹要不要签", False),
    ],
)
def test_a_message_read_out_or_quoted_is_pasted(text: str, expected: bool) -> None:
    assert looks_pasted(canonical(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("一个自称客服的叫我下载软件，我下载了还填了银行卡密码", True),
        ("说是交了保证金就能贷款，我都付了两次了", True),
        ("银行卡密码忘了去哪里改", False),
    ],
)
def test_details_typed_in_or_money_paid_again_are_losses(text: str, expected: bool) -> None:
    assert is_aftermath(canonical(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("镇卫生院的电话是好多", False),
        ("农商银行的客服电话是多少", False),
        ("派出所的电话是好多，我要找警察", True),
        ("派出所电话好多，我想联系他们", True),
        ("我们村网格员电话多少", True),
        # a private person's number is not ours to give, nor a request for one of us
        ("帮我查一下隔壁王大爷的电话", False),
        ("那个卖农资的老板电话好多，你晓得不", False),
        ("帮我找下村支书电话", True),
    ],
)
def test_the_number_of_a_place_is_no_request_for_a_person(text: str, expected: bool) -> None:
    left = cues.without_place_number(canonical(text))
    assert bool(ASK_PERSON.search(left) or ASK_CALL.search(left)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("要是被马蜂蛰了该怎么办", False),
        ("咋个看得出来老人是不是脑梗", False),
        ("我爸刚才突然倒在地上叫不醒", True),
        # a claim heard and asked about, or what to expect after a thing
        ("听别个说遭狗咬了，只要狗十天都没死就不消打针，是不是真的", False),
        ("吃了剩菜过后又拉又吐，是不是吃到啥子中毒了", False),
        ("我真的好难受，胸口痛得喘不过气", True),
    ],
)
def test_an_emergency_supposed_or_to_be_recognised_is_no_emergency_now(
    text: str, expected: bool
) -> None:
    assert cues.is_emergency_now(canonical(text)) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # the one wanted, named by what they do
        ("我想找村上管低保的那个人", True),
        ("我要找镇上的那个网格员", True),
        ("你帮我喊一下村医嘛", True),
        # not a person of the service
        ("我想找个好点的医院看腰", False),
        ("我要找工作", False),
    ],
)
def test_a_person_wanted_by_what_they_do_is_asked_for(text: str, expected: bool) -> None:
    assert bool(ASK_PERSON.search(canonical(text))) is expected
