"""What the WeChat and WeCom channels say themselves, and what menu clicks mean.

Everything else the user reads comes from the assistant: a new follower and
a menu click are turned into the words a user would have typed, so the bot's
own welcome and menu answer them.
"""

from __future__ import annotations

from bot.menu.pages import MAIN_MENU, menu_text

# Voice messages (issue 23). Without a transcript the user is taught the easy
# path the app itself offers, and shown the menu: never a dead end.
VOICE_HOW_TO = {
    "wechat": "长按语音，点“转文字”，再把文字发给我",
    "wecom": "在企业微信里长按语音，点“转文字”，再把文字发给我",
}
_VOICE_PROBLEMS = {
    "none": "这段语音我听不了。请您{how}；也可以直接打字。",
    "expired": "这段语音已经过期了（语音只保存3天），我听不到了。请您再说一遍，或者{how}。",
    "too_large": "这段语音太长了，我一次听不完。请分几段说，每段不超过1分钟；或者{how}。",
    "unavailable": "这段语音暂时没取到。请过一会儿再发一次，或者{how}。",
    "unreadable": "这段语音的格式我打不开。请您{how}；也可以直接打字。",
    "failed": "这段语音暂时没听成。请过一会儿再发一次，或者{how}。",
    "silent": "不好意思，这段语音我没听清。请离手机近一点、说慢一点再说一遍，或者{how}。",
}
VOICE_CORRECTION = (
    "对不起，是我听错了。请您再说一遍，说慢一点、离手机近一点；"
    "也可以长按语音点“转文字”，把转出的字复制下来改对了再发给我，或者直接打字。"
)


def voice_help(channel: str, problem: str) -> str:
    """Why a voice message got no answer, the easy path to send it as text, and the menu."""
    how = VOICE_HOW_TO.get(channel, VOICE_HOW_TO["wechat"])
    reason = _VOICE_PROBLEMS.get(problem, _VOICE_PROBLEMS["failed"]).format(how=how)
    return f"{reason}\n{menu_text()}"


IMAGE_RECEIVED = (
    "收到您发的图片了。图片里的字我暂时看不了，请把想问的事用文字或语音告诉我。"
    "想举报谣言，请先发“举报谣言”，再发截图，并用文字或语音说说图片上的说法。"
)
# A picture sent while a rumour report is in progress is kept with the report.
IMAGE_KEPT = "图片收到了，会和您的举报一起交给核实人员。"
IMAGE_KEPT_ASK_CLAIM = IMAGE_KEPT + "请再用文字或语音说说，图片上讲的是什么说法。"
IMAGE_KEPT_CONTINUE = IMAGE_KEPT + "请接着回答刚才的问题。"
IMAGE_NOT_KEPT = (
    "抱歉，这张图片没有保存成功，请过一会儿再发一次。也可以直接用文字说说图片上讲的是什么。"
)
UNSUPPORTED = "这类消息我暂时看不了。请用文字或语音把您的问题发给我，回复“菜单”可以看选项。"

# A new follower is greeted by the assistant itself: it answers "你好" with its
# welcome and the numbered menu.
WELCOME_TRIGGER = "你好"
MENU_TRIGGER = "菜单"


def click_text(event_key: str) -> str:
    """The words a menu button stands for.

    Keys set in the account's custom menu: ``menu`` (the main menu), or
    ``menu_<key>`` / ``menu_<number>`` for one item of the main menu (keys as
    in ``bot/menu/pages.py``: phone, health, fraud, farming, check_message,
    report_rumor, help). An unknown key shows the main menu.
    """
    key = event_key.strip().lower()
    for prefix in ("menu_", "menu:"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    for item in MAIN_MENU:
        if key in (item.key, str(item.number)):
            return item.label
    return MENU_TRIGGER


def render_buttons(text: str, titles: list[str]) -> str:
    """Buttons as numbered lines, the way the assistant writes its own menus."""
    if not titles:
        return text
    lines = [text, "请回复数字选择："] if text else ["请回复数字选择："]
    lines += [f"{number} {title}" for number, title in enumerate(titles, start=1)]
    return "\n".join(lines)
