"""One decision for every free-text message, from all the evidence at once.

Rasa classifies conversation moves only (greet, a number, "再说一遍", an
explicit "举报谣言"); every other message comes here. The evidence:

- the emergency detector (``bot.handoff.hotlines``): someone needs 120 now;
- fraud aftermath cues: money or a code already lost, 110 first;
- the fraud checker's signals, and whether the text reads like a pasted
  message (addressed to its reader, signed, linked) or a question;
- knowledge search over every served entry, published debunks included;
- claim matching against published debunks (long forwarded claims);
- rumour cues ("听说……是真的吗") that turn an unanswerable claim into an
  offer to have it checked;
- the NLU's guess and confidence, kept with the evidence for the log.

The result names one move; the action only renders it. Nothing here depends
on Rasa, so it is tested as plain Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.fraud.checker import FraudChecker, Verdict
from bot.handoff.hotlines import HOTLINES, Hotline, is_emergency
from bot.knowledge.schema import Entry
from bot.knowledge.search import Hit
from bot.knowledge.service import LEADER_COVERAGE, AskResult
from bot.text.matching import AUTO_MATCH
from bot.text.normalize import canonical
from bot.understanding import cues

log = logging.getLogger(__name__)

# The entry for "I was scammed, what now" carries this tag (knowledge/fraud/).
AFTERMATH_TAG = "被骗后"
# Long texts without a question word that the fraud checker rates 高风险 are
# judged as messages too (a scam retold in full); 中风险 ones when the user says
# someone sent or told it ("朋友发过来说…", "有人打电话说…"). 中风险 alone is not enough:
# the classifier finds a loan app's bill or a patient's story "scam-like"
# (questions from public health and finance forums, bench/route_eval.py).
PASTED_RISKY_MIN_CHARS = 18
# A long text the checker rates 高风险 that no entry answers, told as a call or
# a message ("有人冒充派出所打电话说……") or written to the user ("叔，我是你侄儿
# ……你能不能先帮我转一下"), is a scam: the verdict beats "I don't know" or an
# offer to check a rumour. The user's own question ("我爸高血压吃了好多药，能不
# 能治好？") is not, however scam-like the checker finds its words; shorter texts
# may be questions about a kind of scam, which search answers.
RISKY_UNANSWERED_MIN_CHARS = 30
# A call or visit the user describes gets, beside the verdict, the entry on that
# kind of scam when one scores at least this (the verdict comes either way; kept
# when the choices threshold rose to 0.48 with the asked messages).
DESCRIBED_SCAM_MIN_SCORE = 0.40


class Knowledge(Protocol):  # what we need of KnowledgeService (tests pass fakes)
    async def ask(self, text: str, k: int = 3) -> AskResult: ...

    async def match_debunk(self, text: str) -> tuple[Entry, float] | None: ...

    async def tagged(self, tag: str) -> list[Entry]: ...

    async def heard(self, text: str) -> str: ...


@dataclass
class Decision:
    """What to say to a free-text message, and why (for the log and evaluation)."""

    kind: str  # answer | debunk | choices | fraud_verdict | fraud_aftermath | emergency
    #            | handoff | report_offer | about_us | about_service | none
    entry: Entry | None = None
    hits: list[Hit] = field(default_factory=list)
    verdict: Verdict | None = None
    hotline: Hotline | None = None
    evidence: dict[str, object] = field(default_factory=dict)
    # A question about an emergency ("被蛇咬了以后要注意什么"): 120 comes first.
    urgent: bool = False
    # With "none": entries on the subject that may help, though none answers the
    # question well enough to be offered as what the user meant (one tap away).
    related: list[Hit] = field(default_factory=list)

    def log_line(self) -> str:
        """The decision and its evidence, never the text itself."""
        parts = [f"decision={self.kind}"]
        if self.urgent:
            parts.append("urgent")
        if self.entry is not None:
            parts.append(f"entry={self.entry.id}")
        if self.related:
            parts.append("related=" + "|".join(h.entry.id for h in self.related))
        parts += [f"{k}={v}" for k, v in self.evidence.items()]
        return " ".join(parts)


def hotline_for(text: str) -> Hotline | None:
    """Where to turn when we cannot answer: 12316 for farming, 12345 for services."""
    by_number = {h.number: h for h in HOTLINES}
    if cues.GOVERNMENT.search(text):
        return by_number.get("12345")
    if cues.FARMING.search(text):
        return by_number.get("12316")
    return None


class Understanding:
    """Weighs the evidence for one message and names the move."""

    def __init__(self, knowledge: Knowledge, fraud: FraudChecker) -> None:
        self.knowledge = knowledge
        self.fraud = fraud

    async def decide(
        self,
        text: str,
        *,
        intent: str | None = None,
        confidence: float | None = None,
        expect_message: bool = False,
    ) -> Decision:
        """Decide what to say to ``text``.

        ``expect_message`` is set when the user was asked to paste a message
        (menu 5): a pasted text is then checked even without the usual signs,
        but a real question is still answered.
        """
        text = canonical(text)
        # Cues read the text as heard: a voice transcript's 打农要 is 打农药. Search and
        # the fraud checker match sounds themselves and get the text as written.
        heard = await self.knowledge.heard(text)
        evidence: dict[str, object] = {}
        if intent:
            evidence["nlu"] = intent
        if confidence is not None:
            evidence["nlu_conf"] = round(confidence, 2)

        verdict = self.fraud.check(text)
        # "外婆我是小杰我出车祸了……你快点转五千到我发给你的账户": an accident told to
        # ask for money is the oldest scam there is, not a call for 120.
        if cues.is_emergency_now(heard) and not (
            cues.MONEY_ASK.search(heard) and verdict.risk == "high"
        ):
            return Decision("emergency", hotline=HOTLINES[0], evidence=evidence)
        urgent = is_emergency(heard)

        pasted = cues.looks_pasted(heard)
        evidence["fraud"] = verdict.risk
        rumor = bool(cues.RUMOR.search(heard))
        # "有人说接个陌生电话就会被盗刷，是真的吗" asks about a claim; nothing was lost.
        own_loss = bool(cues.OWN_LOSS.search(heard))
        if cues.is_aftermath(heard) and not pasted and (not rumor or own_loss):
            tagged = await self.knowledge.tagged(AFTERMATH_TAG)
            return Decision(
                "fraud_aftermath", entry=tagged[0] if tagged else None, evidence=evidence
            )

        asks = cues.asks(heard)
        if pasted or (
            expect_message and not asks and cues.han_chars(heard) >= cues.PASTED_MIN_CHARS // 2
        ):
            return Decision("fraud_verdict", verdict=verdict, evidence=evidence)
        told = bool(cues.DESCRIBED_CONTACT.search(heard))  # "有人打电话说…要我按1转人工"
        forwarded = bool(cues.FORWARD_LEAD_IN.search(heard)) or told
        if (
            (verdict.risk == "high" or (verdict.risk == "medium" and forwarded))
            and not asks
            and cues.han_chars(heard) >= PASTED_RISKY_MIN_CHARS
            # "群里有人说看直播领红包……叫我下个软件充值" retells a scam, not a rumour.
            and (not rumor or (verdict.risk == "high" and forwarded))
        ):
            if forwarded:
                # Retold ("收到条短信说我中了大奖，要先交税才领得到"): the verdict, and the
                # entry on that kind of scam when one comes close.
                return await self._judged(verdict, evidence, await self.knowledge.ask(text))
            return Decision("fraud_verdict", verdict=verdict, evidence=evidence)

        # "镇政府的电话是好多" asks a fact, not for one of us: the person cues read the
        # message without the number of a place.
        person_text = cues.without_place_number(heard)
        asks_person = cues.ASK_PERSON.search(person_text) and not cues.asks_about_a_visit(heard)
        # "帮我打个电话给我儿子" asks for a call we cannot make, not for one of us.
        asks_call = cues.ASK_CALL.search(person_text) and not cues.CALL_FOR_OTHERS.search(heard)
        if not pasted and (asks_call or (not told and asks_person)):
            return Decision("handoff", evidence=evidence, urgent=urgent)
        if not pasted and cues.ABOUT_US.search(heard):
            return Decision("about_us", evidence=evidence)
        if not pasted and cues.ASKS_WHAT_WE_DO.search(heard):
            return Decision("about_service", evidence=evidence)

        result = await self.knowledge.ask(text)
        evidence = _scores(evidence, result)
        claim = rumor or bool(cues.CLAIM.search(heard))
        evidence["rumor_cue"] = rumor
        # A call, visit or offer told in the user's words is judged like a pasted
        # message when it sounds risky.
        described = (
            told and verdict.risk != "low" and (not rumor or bool(cues.CONTACT_CLAIM.search(heard)))
        )

        if (
            result.kind == "answer"
            and result.best
            and result.best.entry.topic == "health"
            and cues.CHILD.search(heard)
            and not cues.SENIOR.search(heard)
            and cues.for_seniors_only(result.best.entry.title)
        ):
            # About a child, answered only for older people: not this entry's question.
            return Decision(
                "none",
                hits=result.hits,
                hotline=hotline_for(heard),
                evidence=evidence,
                urgent=urgent,
                related=[],
            )
        if result.kind == "answer" and result.best:
            entry = result.best.entry
            if described and entry.topic not in ("fraud", "smartphone"):
                # "有人打电话说我医保卡冻结了……": the call is the question.
                return await self._judged(verdict, evidence, result)
            kind = "debunk" if entry.topic == "rumor" or entry.verdict else "answer"
            return Decision(
                kind,
                entry=entry,
                hits=result.hits,
                verdict=verdict if described else None,
                evidence=evidence,
                urgent=urgent,
            )

        if (
            verdict.risk == "high"
            and cues.han_chars(heard) >= RISKY_UNANSWERED_MIN_CHARS
            and (not asks or forwarded or cues.VOCATIVE.search(heard))
            and not (asks and rumor)
        ):
            if forwarded:
                return await self._judged(verdict, evidence, result)
            return Decision("fraud_verdict", verdict=verdict, evidence=evidence)
        if described:
            return await self._judged(verdict, evidence, result)
        if cues.SCAM_ASK.search(heard) and not rumor:
            # "咋个才晓得电话对面是不是骗子", "……是不是片子": asked whether something is a
            # scam, the entry on that kind of scam answers when one comes close.
            hit = _close_fraud_hit(result)
            if hit is not None:
                return Decision("answer", entry=hit.entry, hits=result.hits, evidence=evidence)
        if expect_message:
            return Decision("fraud_verdict", verdict=verdict, evidence=evidence)
        if claim:
            match = await self.knowledge.match_debunk(text)
            if match is not None:
                evidence["claim_score"] = round(match[1], 3)
                if match[1] >= AUTO_MATCH:
                    return Decision("debunk", entry=match[0], evidence=evidence)
            # "有人推荐养老投资项目，说每月返利，靠谱吗", "有人说能免费领养老补贴，要我提供
            # 银行卡号，这是不是骗局": a scam asked about, not a rumour for the desk, when
            # the nearest entry is on that kind of scam, comes close and covers as much of
            # the question as an offered leader must. (A policy rumour the checker finds
            # scam-like, "养老金要按存款多少来发", "微信要开始收费了", stays with the desk.)
            hit = _close_fraud_hit(result)
            if (
                hit is not None
                and hit is result.hits[0]
                and hit.coverage >= LEADER_COVERAGE
                and (verdict.risk != "low" or cues.SCAM_ASK.search(heard))
            ):
                return Decision("answer", entry=hit.entry, hits=result.hits, evidence=evidence)
            # A claim nobody has checked. When the nearest entries are debunks, the
            # user may mean one of those claims: they are offered. Entries that are
            # merely on the subject (a phone guide for "卸载微信零钱就没了") do not
            # say whether the claim is true: it goes to the rumour desk.
            if result.kind == "choices" and result.hits[0].entry.topic == "rumor":
                return Decision("choices", hits=result.hits, evidence=evidence, urgent=urgent)
            related = result.hits[:1] if result.kind == "choices" else []
            return Decision("report_offer", hits=related, evidence=evidence, urgent=urgent)
        if result.close:
            return Decision("choices", hits=result.hits, evidence=evidence, urgent=urgent)
        return Decision(
            "none",
            hits=result.hits,
            hotline=hotline_for(heard),
            evidence=evidence,
            urgent=urgent,
            related=result.hits if result.kind == "choices" else [],
        )

    async def _judged(
        self, verdict: Verdict, evidence: dict[str, object], result: AskResult
    ) -> Decision:
        """A call or visit the user describes: the verdict, with the entry on that
        kind of scam when one comes close (whatever app the caller named: a scam
        works the same on QQ as on WeChat)."""
        evidence = _scores(evidence, result)
        hit = _close_fraud_hit(result)
        if hit is not None:
            return Decision(
                "answer", entry=hit.entry, hits=result.hits, verdict=verdict, evidence=evidence
            )
        return Decision("fraud_verdict", verdict=verdict, evidence=evidence)


def _close_fraud_hit(result: AskResult) -> Hit | None:
    """The best entry on a kind of scam, if it comes close enough to answer."""
    hit = next((h for h in result.hits if h.entry.topic == "fraud"), None)
    return hit if hit is not None and hit.score >= DESCRIBED_SCAM_MIN_SCORE else None


def _scores(evidence: dict[str, object], result: AskResult) -> dict[str, object]:
    evidence["search"] = result.kind
    if result.hits:
        top = result.hits[0]
        evidence["top"] = f"{top.entry.id}:{top.score:.3f}:{top.coverage:.2f}"
    if len(result.hits) > 1:
        evidence["second"] = f"{result.hits[1].score:.3f}"
    return evidence
