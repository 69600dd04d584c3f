"""Hybrid search: the distilled query encoder, ranking and the answer decision."""

from __future__ import annotations

import numpy as np
import pytest

from bot.knowledge.dense import DIM, DenseEncoder, QueryEncoder
from bot.knowledge.gate import load as load_gate
from bot.knowledge.loader import load_entries
from bot.knowledge.search import Hit, SearchIndex, content_text
from bot.knowledge.service import decide
from bot.settings import PROJECT_ROOT
from tests.conftest import SHARED_CACHE

ENTRIES = load_entries(PROJECT_ROOT / "knowledge").entries


class FakeEncoder(DenseEncoder):
    """Deterministic pseudo-vectors: a hash of the text seeds each row."""

    def __init__(self) -> None:
        super().__init__(None)
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            rng = np.random.default_rng(int(self._key(text)[:8], 16))
            v = rng.standard_normal(DIM).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(ENTRIES, DenseEncoder(SHARED_CACHE / "kb_vectors.npz"))


def test_query_encoder_gives_unit_vectors_for_known_words() -> None:
    encoder = QueryEncoder(
        FakeEncoder(), ["红包 微信", "二化螟 水稻"], ["微信 红包", "水稻 二化螟"]
    )
    v = encoder.vector("微信 红包")
    assert v.shape == (DIM,)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(v, encoder.vector("微信 红包"))


def test_query_encoder_spells_unknown_words_with_known_characters() -> None:
    encoder = QueryEncoder(FakeEncoder(), ["红包 微信"], ["微信 红包"])
    # 包红 is not a word of the documents, but both its characters are.
    assert np.linalg.norm(encoder.vector("包红")) == pytest.approx(1.0, abs=1e-5)


def test_query_encoder_returns_zeros_when_nothing_is_known() -> None:
    encoder = QueryEncoder(FakeEncoder(), ["红包 微信"], ["微信 红包"])
    assert not encoder.vector("火星").any()
    assert not encoder.vector("").any()


def test_query_encoder_never_runs_the_model_per_query() -> None:
    fake = FakeEncoder()
    encoder = QueryEncoder(fake, ["红包 微信"], ["微信 红包"])
    calls = len(fake.calls)
    encoder.vector("微信 红包")
    encoder.vector("完全 陌生 的 话")
    assert len(fake.calls) == calls


def test_index_without_entries_finds_nothing() -> None:
    assert SearchIndex([], FakeEncoder()).search("微信红包") == []


@pytest.mark.parametrize("query", ["", "   ", "嗯嗯", "。。。"])
def test_empty_or_filler_query_finds_nothing(index: SearchIndex, query: str) -> None:
    assert decide(index.search(query)).kind == "none"


def test_scores_lie_in_unit_interval(index: SearchIndex) -> None:
    scores = index.scores("微信上的红包咋个收")
    assert scores.shape == (len(ENTRIES),)
    assert scores.min() >= 0.0 and scores.max() <= 1.0


@pytest.mark.parametrize(
    ("query", "entry_id"),
    [
        ("微信上的红包咋个收", "phone-wechat-hongbao"),
        ("二化螟咋个防", "farm-rice-stem-borer"),
        ("别个喊我把钱转到安全账户", "fraud-maochong-gongjianfa"),
        ("心口痛得很 出冷汗 是不是心梗", "health-heart-attack-signs"),
    ],
)
def test_clear_questions_are_answered_directly(index: SearchIndex, query, entry_id) -> None:
    result = decide(index.search(query))
    assert result.kind == "answer"
    assert result.best.entry.id == entry_id
    # the trained gate the service decides by answers them too
    gate = load_gate()
    if gate is not None:
        assert decide(index.search(query), gate).kind == "answer"


@pytest.mark.parametrize(
    ("query", "general", "scoped", "naming_the_app"),
    [
        (
            "怎么把手机字调大一点，看不清",
            "phone-font-size",
            "phone-wechat-font-size",
            "微信里把字调大一点",
        ),
        (
            "手机声音太小了",
            "phone-ringtone-volume",
            "phone-wechat-listen-voice",
            "微信里的语音声音太小听不清",
        ),
    ],
)
def test_a_question_naming_no_app_prefers_the_general_entry(
    index: SearchIndex, query: str, general: str, scoped: str, naming_the_app: str
) -> None:
    """Both entries match the words; the one about 微信 is not what was asked."""
    hits = index.search(query, k=5)
    ids = [h.entry.id for h in hits]
    assert ids[0] == general and scoped in ids
    assert decide(hits).kind == "answer"
    # Naming the app asks for the app's entry.
    hits = index.search(naming_the_app)
    assert hits[0].entry.id == scoped
    assert decide(hits).kind == "answer"


@pytest.mark.parametrize("query", ["火星上有没有外星人", "今年彩票开啥子号", "帮我算一下八字"])
def test_out_of_scope_questions_are_not_answered(index: SearchIndex, query) -> None:
    assert decide(index.search(query)).kind != "answer"
    assert decide(index.search(query), load_gate()).kind != "answer"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        # jieba's HMM glues particles to content words; they are split off again
        ("纹枯病啷个防嘛", "纹枯病 防"),
        ("老人每天喝多少水好", "老人 每天 喝 水"),
        ("天天有人打电话推销，烦死了，咋个拦嘛", "天天 有人 打电话 推销 烦死 拦"),
        # an emoji is not a word the entry must cover
        ("怎么截图😅", "截图"),
        # spoken digits are a number; short runs without 幺/零 stay words
        ("那个九六一一零是哪里的电话", "96110 电话"),
        ("嗯我想买那个火车票就是幺二三零六怎么买", "买 火车票 12306 买"),
        ("一二三四步", "一二三四 步"),
        # dialect 头 for 里 after a container: not 钱 + 包头 (a city), not a head
        ("微信钱包头的零钱咋个找不到了", "微信 钱包 零钱 找 不到"),
        ("头痛得很", "头痛"),
        # a voice transcript's filler 那个 ends a word: not 那 + 个体 (an individual)
        ("嗯我想问那个体检查出来胆固醇高", "体 检查 出来 胆固醇 高"),
    ],
)
def test_query_words_are_what_the_question_is_about(query: str, words: str) -> None:
    assert content_text(query) == words


@pytest.mark.parametrize(
    ("query", "entry_id"),
    [
        ("纹枯病啷个防嘛", "farm-rice-sheath-blight"),
        ("怎么截图😅", "phone-screenshot"),
        ("那个九六一一零是哪里的电话", "fraud-96110-yujing-zhuanxian"),
        # the greeting that opens a voice message is no part of what it asks
        ("喂 你好 我想问一下 那个纹枯病啷个防", "farm-rice-sheath-blight"),
    ],
)
def test_particles_emoji_and_spoken_digits_do_not_hide_the_entry(
    index: SearchIndex, query: str, entry_id: str
) -> None:
    hit = index.search(query)[0]
    assert hit.entry.id == entry_id
    assert hit.coverage == 1.0


def test_search_is_deterministic(index: SearchIndex) -> None:
    first = [(h.entry.id, h.score) for h in index.search("手机字太小看不清")]
    assert first == [(h.entry.id, h.score) for h in index.search("手机字太小看不清")]


def _hits(*scores: float, coverage: float = 1.0) -> list[Hit]:
    return [Hit(ENTRIES[i], s, coverage) for i, s in enumerate(scores)]


# decide() on made-up hits. The inputs are not computed from the tuned
# thresholds (they are being re-tuned): a score or a coverage of 0 or 1 means
# the same whatever the tuning, and between them the tests scan the whole range
# and check the order the rule promises: nothing < choices < an answer, never
# a step back as the evidence gets stronger.
STEPS = [i / 20 for i in range(21)]  # 0.0, 0.05, ... 1.0
RANK = {"none": 0, "choices": 1, "answer": 2}


def _kinds(hit_lists: list[list[Hit]]) -> list[str]:
    return [decide(hits).kind for hits in hit_lists]


def _never_steps_down(kinds: list[str]) -> bool:
    return all(RANK[a] <= RANK[b] for a, b in zip(kinds, kinds[1:], strict=False))


def test_decide_answers_a_clear_leader() -> None:
    result = decide(_hits(0.95, 0.2))
    assert result.kind == "answer" and result.best.entry.id == ENTRIES[0].id
    # A lone entry that covers the whole question: from nothing at a score of 0
    # to an answer at a score of 1, rising through the tiers.
    kinds = _kinds([_hits(top) for top in STEPS])
    assert kinds[0] == "none" and kinds[-1] == "answer" and _never_steps_down(kinds), kinds


def test_decide_offers_choices_when_the_runner_up_is_close() -> None:
    result = decide(_hits(0.9, 0.9, 0.02))
    assert result.kind == "choices"
    # both strong entries are offered, in their order; the one scoring 0.02 is not
    assert [h.entry.id for h in result.hits] == [ENTRIES[0].id, ENTRIES[1].id]
    # As the runner-up closes in on a strong leader, an answer can only become choices.
    kinds = _kinds([_hits(0.9, second) for second in STEPS if second <= 0.9])
    assert kinds[0] == "answer" and kinds[-1] == "choices", kinds
    assert _never_steps_down(kinds[::-1]), kinds


def test_decide_does_not_answer_an_entry_that_covers_little_of_the_question() -> None:
    # A top score is no answer when the entry holds none, or a tenth, of what was asked.
    assert decide(_hits(0.99, coverage=0.0)).kind == "none"
    assert decide(_hits(0.99, 0.1, coverage=0.1)).kind != "answer"
    kinds = _kinds([_hits(0.99, coverage=c) for c in STEPS])
    assert kinds[0] == "none" and kinds[-1] == "answer" and _never_steps_down(kinds), kinds


def test_decide_offers_a_clear_leader_that_covers_less() -> None:
    # Between covering nothing (no offer) and everything (an answer) of the
    # question, a strong entry with a runner-up not far behind is offered.
    partial = [decide(_hits(0.99, 0.9, coverage=c)) for c in STEPS]
    offered = [r for r in partial if r.kind == "choices"]
    assert offered, [r.kind for r in partial]
    assert all(r.hits[0].entry.id == ENTRIES[0].id for r in offered)


def test_decide_answers_a_leader_far_ahead_that_covers_part() -> None:
    # Far ahead of everything else, an entry that covers part of the question
    # is the one meant: answered; covering none of it, it is not.
    alone = [decide(_hits(0.99, 0.1, coverage=c)).kind for c in STEPS]
    assert alone[0] == "none" and alone[-1] == "answer" and _never_steps_down(alone), alone
    assert alone.count("answer") > [decide(_hits(0.99, 0.9, coverage=c)).kind for c in STEPS].count(
        "answer"
    )


@pytest.mark.parametrize(
    ("query", "entry_id", "most"),
    [
        ("你觉得美国总统怎么样", "rumor-bp-meds-dependence", False),
        ("二化名咋个防", "farm-rice-stem-borer", True),  # 二化螟 by sound
        ("一天喝多少水合适", "health-drink-water", True),
    ],
)
def test_coverage_is_the_share_of_the_question_an_entry_holds(
    index: SearchIndex, query: str, entry_id: str, most: bool
) -> None:
    i = next(i for i, e in enumerate(index.entries) if e.id == entry_id)
    assert (index.coverage(query, i) >= 0.6) is most


def test_decide_admits_not_knowing_below_the_choices_threshold() -> None:
    assert decide(_hits(0.05, 0.04, 0.03)).kind == "none"  # three weak entries
    assert decide(_hits(0.0)).kind == "none"
    assert decide([]).kind == "none"


def test_shortlist_keeps_the_ranking_of_a_full_scan(index: SearchIndex, monkeypatch) -> None:
    queries = ["微信上的红包咋个收", "秧子的芯芯枯了", "手机被偷了支付宝咋办", "血压高能不能吃盐"]
    full = [index.scores(q) for q in queries]
    monkeypatch.setattr("bot.knowledge.search.SHORTLIST", 40)
    for q, expected in zip(queries, full, strict=True):
        scores = index.scores(q)
        top = np.argsort(-expected)[:3]
        np.testing.assert_allclose(scores[top], expected[top], rtol=1e-5)


def test_a_merged_entry_answers_its_old_questions(index: SearchIndex) -> None:
    # The food-safety entry was merged into the debunk of the rumour about it:
    # one answer, reached from the phrasings of both.
    for query in ("吃了发芽的洋芋会不会中毒", "洋芋皮变绿了还能吃不"):
        assert index.search(query)[0].entry.id == "rumor-sprouted-potato"


def _entry(entry_id: str, title: str, questions: list[str], asked: list[str] | None = None):
    base = next(e for e in ENTRIES if e.topic == "farming")
    return base.copy(
        update={"id": entry_id, "title": title, "questions": questions, "asked": asked or []}
    )


def test_a_message_residents_asked_leads_to_its_entry() -> None:
    # Two entries with the same words in their answers: only the messages filed under
    # one of them ("秧子芯芯黄了" was a question about stem borers) tell them apart.
    plain = [
        _entry("farm-a", "水稻二化螟怎么防", ["二化螟咋个防", "钻心虫怎么治", "稻子生虫了"]),
        _entry("farm-b", "水稻纹枯病怎么防", ["纹枯病咋个防", "稻子烂秆子", "稻子生病了"]),
    ]
    asked = [plain[0].copy(update={"asked": ["秧子芯芯黄了咋个整", "芯芯黄了是啥子虫"]}), plain[1]]
    query = "秧子芯芯都黄了咋个整哦"
    index = SearchIndex(asked)
    assert index.search(query)[0].entry.id == "farm-a"
    assert index.scores(query)[0] > SearchIndex(plain).scores(query)[0]


def test_words_residents_sent_are_not_learnt_as_terms() -> None:
    # The corrector learns its terms from curated texts only: a word that only a
    # resident's message has (rightly heard or not) must not become one, or a voice
    # transcript's 二化名 could be "corrected" towards whatever a message said.
    questions = ["二化螟咋个防", "钻心虫怎么治", "稻子生虫了"]
    curated = SearchIndex([_entry("farm-a", "水稻二化螟怎么防", questions)])
    asked = SearchIndex([_entry("farm-a", "水稻二化螟怎么防", questions, ["拖拉机打药要得不"])])
    assert curated.corrector("脱拉机打药") == asked.corrector("脱拉机打药") == "脱拉机打药"
    assert asked.corrector("二化名咋个防") == "二化螟咋个防"


def test_hits_carry_how_their_score_came_about(index: SearchIndex) -> None:
    hits = index.search("二化名咋个防")
    top = hits[0]
    assert top.entry.id == "farm-rice-stem-borer"
    signals = top.signals
    assert "二化螟" in signals.heard and signals.corrected  # 二化名 heard as 二化螟
    assert signals.unknown == 0.0 and signals.words >= 1
    assert 0 < signals.lexical <= 1 and 0 < signals.phrase <= 1
    assert 0.5 < signals.cosine <= 1 and 0.5 < signals.centroid <= 1
    assert all(h.signals.heard == signals.heard for h in hits)


def test_words_no_entry_knows_are_the_unknown_share(index: SearchIndex) -> None:
    known = index.search("二化螟咋个防")[0].signals
    unknown = index.search("量子纠缠计算机二化螟")[0].signals
    assert not known.corrected and known.unknown == 0.0
    assert 0 < unknown.unknown < 1
