"""The traffic of the load benches: the scripted realistic conversation (issue 8)
and the conversation of knowledge questions only (issue 19), with real texts from
the knowledge base and, when present, the public evaluation sets."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
SEED = "20251129"

FRAUD_SMS = (
    "【XX银行】您的账户存在风险，请将资金转入安全账户 http://t.cn/xxxx",
    "【工商银行】您的积分即将清零，请登录 http://icbc-vip.top 兑换礼品",
    "【医保中心】您的医保卡已被冻结，请点击 http://ybk-jd.cc 办理解冻，逾期作废",
    "妈，我换号了，这是我新号码。我现在急需用钱，先转我两千，晚上还你",
    "【顺丰快递】您的包裹在运输中丢失，客服将为您办理三倍理赔，请加QQ 2938475612",
    "您好，您已获得免息贷款资格，最高额度20万，先交888元保证金即可放款",
    "【社保局】您的养老金资格认证即将到期，请点击链接完成人脸认证 http://sbj-rz.top",
    "【中国移动】尊敬的客户，您本月话费账单已出，详情请登录中国移动APP查询。",
)
FRAUD_PREFIXES = ("", "", "帮我看看这条短信：", "这个是真的吗 ", "收到一条短信：")
RUMOUR_CLAIMS = (
    "喝醋能软化血管",
    "吃隔夜菜会致癌",
    "5G基站辐射会让人得癌症",
    "香蕉和牛奶一起吃会中毒",
    "说是鸡蛋和豆浆不能一起吃",
    "用淘米水洗脸能治老年斑",
    "微波炉热的饭菜有辐射不能吃",
    "空腹吃柿子会得胃结石要死人",
)
RUMOUR_WHERE = ("1", "2", "3", "4", "微信群里看到的")

# Mixes a level can play: the scripted realistic conversation (issue 8) and a
# conversation of knowledge questions only (issue 19's turn-cost mix).
MIXES = ("realistic", "knowledge")
KNOWLEDGE_TURNS = 10


@dataclass(frozen=True)
class Mix:
    """Pools of real texts and the scripted session one user plays (10 turns).

    Session: 菜单 → 2 → question → message check → question → question →
    举报谣言 → claim → where → message check, started at a different block for
    each user and conversation. Deterministic for a (user, cycle): our stack
    and the stock one get exactly the same texts.
    """

    questions: tuple[str, ...]
    eval_questions: tuple[str, ...] = ()
    messages: tuple[str, ...] = FRAUD_SMS
    eval_messages: tuple[str, ...] = ()
    claims: tuple[str, ...] = RUMOUR_CLAIMS
    eval_claims: tuple[str, ...] = ()
    seed: str = SEED

    def _pick(self, rng: random.Random, own: Sequence[str], extra: Sequence[str], p: float) -> str:
        return rng.choice(extra) if extra and rng.random() < p else rng.choice(own)

    def session(self, user: int, cycle: int) -> list[tuple[str, str]]:
        """[(kind, text)] for one conversation; kind: menu, knowledge, fraud, rumour."""
        rng = random.Random(f"{self.seed}-{user}-{cycle}")

        def question() -> tuple[str, str]:
            return "knowledge", self._pick(rng, self.questions, self.eval_questions, 1 / 3)

        def message() -> tuple[str, str]:
            text = self._pick(rng, self.messages, self.eval_messages, 1 / 2)
            return "fraud", rng.choice(FRAUD_PREFIXES) + text

        blocks = [
            [("menu", "菜单"), ("menu", "2")],
            [question()],
            [message()],
            [question()],
            [question()],
            [
                ("rumour", "举报谣言"),
                ("rumour", self._pick(rng, self.claims, self.eval_claims, 1 / 4)),
                ("rumour", rng.choice(RUMOUR_WHERE)),
            ],
            [message()],
        ]
        # Rotated per user and conversation, each block kept whole: a level that
        # ends after a few turns per user (50 users, a short level) still sees
        # the whole mix, not only the first turns of the script.
        k = (user + cycle) % len(blocks)
        return [turn for block in blocks[k:] + blocks[:k] for turn in block]

    def knowledge_session(self, user: int, cycle: int) -> list[tuple[str, str]]:
        """[("knowledge", question)] × KNOWLEDGE_TURNS: a conversation of questions only.

        The same pools as the questions of the realistic mix (a third from the
        health/farming evaluation sets when present); deterministic per (user, cycle).
        """
        rng = random.Random(f"{self.seed}-knowledge-{user}-{cycle}")
        return [
            ("knowledge", self._pick(rng, self.questions, self.eval_questions, 1 / 3))
            for _ in range(KNOWLEDGE_TURNS)
        ]

    def turns(self, mix: str, user: int, cycle: int) -> list[tuple[str, str]]:
        """One conversation of ``mix`` ("realistic" or "knowledge")."""
        if mix == "knowledge":
            return self.knowledge_session(user, cycle)
        return self.session(user, cycle)


def knowledge_questions(root: Path = PROJECT_ROOT / "knowledge") -> list[str]:
    import yaml

    out: list[str] = []
    for path in sorted(root.rglob("*.yml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [q for q in entry.get("questions") or [] if isinstance(q, str) and q.strip()]
    return out


def load_mix(eval_dir: Path = EVAL_DIR, limit: int = 600) -> tuple[Mix, str]:
    """The mix, with real questions, messages and claims from ../shared/eval when present."""
    questions = knowledge_questions()
    eval_q: list[str] = []
    eval_m: list[str] = []
    eval_c: list[str] = []
    health = eval_dir / "health_qa" / "toyhom_internal_medicine_sample.csv"
    agri = eval_dir / "agri_qa" / "agrieval_openqa_sample.jsonl"
    fraud = eval_dir / "fraud_sms" / "telecom_fraud_texts_sample.csv"
    rumours = eval_dir / "rumors" / "ced_weibo_rumor_sample.jsonl"
    if health.exists():
        with health.open(encoding="utf-8") as fh:
            eval_q += [r["title"] for r in csv.DictReader(fh) if r.get("title")]
    if agri.exists():
        for line in agri.read_text(encoding="utf-8").splitlines():
            if line.strip():
                eval_q.append(json.loads(line)["question"])
    if fraud.exists():
        with fraud.open(encoding="utf-8") as fh:
            eval_m += [r["text"][:limit] for r in csv.DictReader(fh) if r.get("text")]
    if rumours.exists():
        for line in rumours.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row.get("label") == "rumor" and 0 < len(row.get("text", "")) <= 200:
                eval_c.append(row["text"])
    mix = Mix(
        questions=tuple(questions),
        eval_questions=tuple(eval_q),
        eval_messages=tuple(eval_m),
        eval_claims=tuple(eval_c),
    )
    source = f"{len(questions)} knowledge-base questions (knowledge/**/questions)" + (
        f", {len(eval_q)} health/farming questions, {len(eval_m)} telecom-fraud texts and "
        f"{len(eval_c)} Weibo rumours from public evaluation sets (not shipped)"
        if eval_q or eval_m or eval_c
        else " (public evaluation sets not found: built-in messages and claims only)"
    )
    return mix, source
