"""What to do with a suspicious message: the standing advice, in one place."""

from __future__ import annotations

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

GENERAL_ADVICE = (
    "先记住三条：\n"
    "1. 陌生链接不要点\n"
    "2. 不给陌生人转账，公检法没有“安全账户”\n"
    "3. 验证码、密码不告诉任何人\n"
    "拿不准请拨打 96110 咨询；已经转了钱，马上拨打 110 报警。"
)
