"""The emergency override and the normaliser as components, without a trained model."""

from __future__ import annotations

import pytest

pytest.importorskip("rasa")

from rasa.shared.nlu.constants import INTENT, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.nlu.emergency import EMERGENCY_INTENT, EmergencyOverride  # noqa: E402
from bot.nlu.normalizer import CANONICAL_KEY, KepuNormalizer  # noqa: E402
from bot.text.homophone import HomophoneCorrector  # noqa: E402
from bot.text.normalize import canonical as canonical_form  # noqa: E402


def _message(text: str, intent: str, confidence: float = 0.9) -> Message:
    return Message({TEXT: text, INTENT: {"name": intent, "confidence": confidence}})


@pytest.mark.parametrize(
    "text, guessed",
    [
        ("我爸晕倒了", "goodbye"),
        ("我妈突然说不出话了，嘴巴歪了", "free_text"),
        ("隔壁老人被蛇咬了", "greet"),
        ("娃儿喝了农药", "free_text"),
        ("屋头着火了", "thanks"),
        ("老汉儿胸口痛得很，一身冷汗", "free_text"),
    ],
)
def test_an_emergency_now_becomes_a_hand_off_with_full_confidence(text: str, guessed: str) -> None:
    message = _message(text, guessed)
    EmergencyOverride().process([message])
    assert message.get(INTENT) == {"name": EMERGENCY_INTENT, "confidence": 1.0}


@pytest.mark.parametrize(
    "text, guessed",
    [
        ("被蛇咬了应该怎么处理", "free_text"),  # a question about an emergency
        ("中风有哪些先兆", "free_text"),
        ("一天喝多少水合适", "free_text"),
        ("你好", "greet"),
    ],
)
def test_questions_and_moves_keep_their_intent(text: str, guessed: str) -> None:
    message = _message(text, guessed)
    EmergencyOverride().process([message])
    assert message.get(INTENT) == {"name": guessed, "confidence": 0.9}


def _normalizer(terms: list[str]) -> KepuNormalizer:
    return KepuNormalizer(None, None, HomophoneCorrector.learn(terms, []))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "original, canonical",
    [
        ("包谷遭虫咬了咋个整", "玉米"),  # dialect word rewritten
        ("嗯嗯那个二化名咋个防", "二化螟"),  # filler dropped, homophone put right
        ("嗯/restart", "restart"),  # never a command: no leading slash survives
    ],
)
def test_the_normaliser_rewrites_the_text_and_keeps_the_original_out(
    original: str, canonical: str
) -> None:
    message = Message({TEXT: original})
    _normalizer(["二化螟怎么防治", "二化螟打什么药"]).process([message])
    assert canonical in message.get(TEXT)
    assert not message.get(TEXT).startswith("/")
    # The form carried to the action server is the canonical one, worked out once;
    # the classifier's own term corrections stay inside NLU.
    assert message.get(CANONICAL_KEY) == canonical_form(original)


def test_the_normaliser_learns_its_terms_at_training_and_keeps_them_in_the_model(
    tmp_path,
) -> None:
    """Train on examples, store with the model, load in a fresh process: the
    loaded component puts a sound-alike of a trained term right."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    storage = LocalModelStorage(tmp_path)
    resource = Resource("kepu_normalizer")
    trained = KepuNormalizer.create({}, storage, resource, None)  # type: ignore[arg-type]
    examples = [
        Message({TEXT: t}) for t in ("挂号怎么在手机上挂", "网上挂号咋个弄", "包谷遭虫咬了")
    ]
    trained.train(TrainingData(examples))
    # Training examples are read in the same canonical form as messages at run time.
    trained.process_training_data(TrainingData(examples))
    assert examples[1].get(TEXT) == "网上挂号怎么弄" and "玉米" in examples[2].get(TEXT)

    loaded = KepuNormalizer.load({}, storage, resource, None)  # type: ignore[arg-type]
    message = Message({TEXT: "挂好咋个在手机上挂"})  # 挂号 heard as 挂好
    loaded.process([message])
    assert message.get(TEXT) == "挂号怎么在手机上挂"
    assert message.get(CANONICAL_KEY) == "挂好怎么在手机上挂"  # search corrects on its own terms


def test_a_model_without_stored_terms_still_normalises(tmp_path) -> None:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    loaded = KepuNormalizer.load({}, LocalModelStorage(tmp_path), Resource("old"), None)  # type: ignore[arg-type]
    message = Message({TEXT: "包谷遭虫咬了咋个整"})
    loaded.process([message])
    assert "玉米" in message.get(TEXT) and "咋个" not in message.get(TEXT)
