import pytest

from bot.handoff.hotlines import HOTLINES, handoff_reply, is_emergency


@pytest.mark.parametrize(
    "text, first",
    [
        ("我爸晕倒了", "120"),
        ("被蛇咬了咋办", "120"),
        ("厨房着火了", "119"),
        ("屋头好大一股煤气味", "119"),
        ("我被骗了转了钱", "110"),
        ("接到个电话说是公安局的 是不是骗子", "96110"),
        ("谷子生虫了找哪个", "12316"),
        ("我要投诉村里的路灯", "12345"),
    ],
)
def test_the_right_hotline_comes_first(text: str, first: str) -> None:
    reply, hotlines = handoff_reply(text)
    assert hotlines[0].number == first
    assert reply.startswith(f"请马上拨打 {first}") or reply.startswith(f"请拨打 {first}")


def test_emergency_beats_everything_else() -> None:
    reply, hotlines = handoff_reply("我妈喝了农药 还被骗了钱")
    assert [h.number for h in hotlines][:2] == ["120", "110"]
    assert reply.index("120") < reply.index("110")


def test_unclear_request_lists_all_six_hotlines() -> None:
    reply, hotlines = handoff_reply("找人工")
    assert [h.number for h in hotlines] == ["120", "119", "110", "96110", "12316", "12345"]
    for h in HOTLINES:
        assert h.number in reply


def test_money_sent_means_110_and_bank() -> None:
    reply, _ = handoff_reply("遭骗了 钱都转过去了 报警")
    assert "110" in reply and "银行" in reply


def test_questions_about_first_aid_are_not_emergencies() -> None:
    assert not is_emergency("中风有什么表现")
    assert is_emergency("老汉儿晕倒了")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我爸说胸口很痛，一直出冷汗", True),
        ("心口疼得很", True),
        ("孙子掉到水塘里了", True),
        ("手机掉到水缸里了捞起来还能用不", False),  # the phone, not a person
        ("钥匙掉进井里了", False),
        ("胸口痛是什么原因", False),
        ("孩子吃东西噎住了，脸都紫了", True),
        ("我妈说话突然说不清楚了，嘴巴也歪起的", True),
        ("吃饭容易噎到是什么原因", False),
        ("吃东西噎住了怎么办", False),  # a question; the answer starts with 120 anyway
        ("小孩掉到鱼塘里面捞起来了没有出气了", True),
        ("手机掉到鱼塘里了", False),
        ("我老公被电点到了，倒在地上不动了", True),
        ("厨房里一股煤气味", True),
        ("这几天出气有点粗", False),
    ],
)
def test_emergencies_happen_to_people_now(text: str, expected: bool) -> None:
    assert is_emergency(text) is expected


def test_a_gas_leak_is_told_what_to_do_before_calling() -> None:
    reply, hotlines = handoff_reply("厨房里一股煤气味")
    assert [h.number for h in hotlines][:2] == ["119", "120"]
    # No spark: lights and switches stay off, the call is made from outside.
    assert "不要开灯" in reply and "屋外" in reply
    assert reply.index("不要开灯") < reply.index("120")


def test_a_fire_with_someone_hurt_names_119_then_120() -> None:
    reply, hotlines = handoff_reply("着火了，我爸烧伤了")
    assert [h.number for h in hotlines][:2] == ["119", "120"]
    assert "不要开灯" not in reply  # the gas advice is for gas only
