"""How to judge a rumour yourself, and the words that only ask for a check."""

from __future__ import annotations

REQUEST_PHRASES: tuple[str, ...] = (
    "举报谣言",
    "举报",
    "谣言",
    "辟谣",
    "是不是真的",
    "是真的吗",
    "是真的不",
    "真的假的",
    "听说",
    "群里说",
    "群里有人说",
    "朋友圈说",
    "村里都在传",
    "有人说",
    "我想问",
    "这个",
    "是不是",
    "帮我",
    "查一下",
    "看看",
    "的",
    "了",
    "吗",
    "呢",
    "哦",
)

SELF_CHECK_ADVICE = (
    "判断一条传言，可以这样做：\n"
    "1. 看是不是政府、医院、正规媒体发布的\n"
    "2. 到“中国互联网联合辟谣平台”搜一搜\n"
    "3. 拿不准的先不转发"
)
