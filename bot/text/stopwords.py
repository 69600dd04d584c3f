"""Words that carry no topic: question words, particles, pronouns, fillers.

Colloquial questions are mostly these ("那个 就是 嗯 咋个 弄 嘛"); left in,
they make "红包咋个收" look like every other 咋个 question. Removed before
lexical matching, and before the sentence encoder too: it loses nothing
measurable there (bench/kb_eval.py) and shorter input encodes faster.
"""

from __future__ import annotations

FUNCTION_WORDS: frozenset[str] = frozenset(
    """
咋个 咋样 咋办 咋整 咋 啷个 啥子 啥 撒子 怎么样 怎么办 怎么 怎样 如何 什么 为什么 为啥 咋回事 干啥
吗 呢 吧 嘛 哦 呀 啊 哈 噻 撒 嗦 哇 嘞 咯 呗 么 了 的 地 得 着 过
是不是 能不能 可不可以 可以 有没有 有没得 要不要 会不会 行不行 好不好 对不对 是 不是 有 没有
我 你 他 她 它 我们 你们 他们 咱 咱们 自己 别个 人家 大家
请问 问问 问 一下 一哈 一哈儿 那个 这个 那些 这些 就是 嗯 呃 额 哎 哎呀 唉 喂 然后 反正 其实
弄 整 搞 弄一下 哪里 哪儿 哪个 哪些 多少 好多 好久 几 几个
要 想 能 会 该 应该 得要 还是 都 也 就 还 又 很 太 好 些 点 个 一
里 上 下 在 从 给 把 被 让 跟 和 与 或者
不 没 没得 莫得 晓得 知道 说 听说 讲 告诉 真的 假的 真的假的 一点 一些 现在 刚才 老是 总是
有点 有点儿 一点点 很多 许多 行 得行 要得 可以不
""".split()
)


def content_words(tokens: list[str]) -> list[str]:
    """``tokens`` without blanks and function words (``FUNCTION_WORDS``)."""
    return [t for t in tokens if t.strip() and t not in FUNCTION_WORDS]


# Words that say who, when or where the asker is, or what kind of information
# they want, not what the question is about: an entry on falls answers
# "屋头老人家走路老是跘跤" without naming 老人家, an entry on 杀猪盘 answers "是什么
# 意思". Search still matches them; only the share of a question an entry
# covers (``bot.knowledge.search.Hit.coverage``) leaves them out.
CONTEXT_WORDS: frozenset[str] = frozenset(
    """
儿子 女儿 儿媳 女婿 孙子 孙女 孩子 娃儿 娃 妈 爸 妈妈 爸爸 父亲 母亲
老汉 老汉儿 老妈 老伴 老头 老太婆 老婆 老公 舅舅 舅妈 姑姑 叔叔 阿姨 嬢嬢
亲戚 邻居 隔壁 朋友 别人 家人 家里 我家 屋头 屋里 村里 村头
老人家 老人 年轻人
昨天 今天 明天 前天 最近 这几天 前几天 今年 去年 一直 经常 平时 有时候 以后 之前
意思 东西 干嘛 关系 办法 方法 情况 问题 标准 作用 好处 危害 风险 区别 区分 原因
喊 遭 起 脱 得到 一个 那种 这种
""".split()
)
