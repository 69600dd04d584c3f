from bot.menu.pages import (
    MAIN_MENU,
    MAIN_OPTIONS,
    NOT_THIS,
    menu_text,
    option_label,
    resolve_choice,
    topic_page,
)


def test_menu_lists_the_seven_items_in_order() -> None:
    text = menu_text()
    labels = ["手机使用", "健康", "防骗", "种植养殖", "查可疑短信", "举报谣言", "找人帮忙"]
    assert [item.label for item in MAIN_MENU] == labels
    positions = [text.index(f"{i} {label}") for i, label in enumerate(labels, start=1)]
    assert positions == sorted(positions)


def test_number_without_offer_picks_from_main_menu() -> None:
    assert resolve_choice("2", None) == "menu:health"
    assert resolve_choice("第七个", []) == "menu:help"


def test_number_picks_from_what_was_offered_last() -> None:
    _, options = topic_page("farming")
    assert resolve_choice("1", options) == options[0]
    assert resolve_choice("第二个", options) == options[1]


def test_out_of_range_number_picks_nothing() -> None:
    assert resolve_choice("9", None) is None
    assert resolve_choice("5", ["kb:a", "kb:b"]) is None


def test_words_pick_menu_items_anywhere() -> None:
    assert resolve_choice("健康", ["kb:a"]) == "menu:health"
    assert resolve_choice("我想问种庄稼的", None) == "menu:farming"
    assert resolve_choice("防骗", None) == "menu:fraud"
    assert resolve_choice("今天天气", None) is None


def test_topic_pages_offer_numbered_examples() -> None:
    from bot.menu.pages import TOPICS

    for key in ("phone", "health", "fraud", "farming"):
        text, options = topic_page(key)
        examples = [f"kb:{entry_id}" for _, entry_id in TOPICS[key].examples]
        subscribe = [f"订阅:{TOPICS[key].subscribe}"] if TOPICS[key].subscribe else []
        assert options == examples + subscribe  # fraud and farming: "5 订阅…提醒"
        for i, (question, _) in enumerate(TOPICS[key].examples, start=1):
            assert f"{i} {question}" in text
    assert set(MAIN_OPTIONS) == {f"menu:{i.key}" for i in MAIN_MENU}


def test_yes_no_offer_maps_two_to_not_this() -> None:
    offer = ["kb:farm-rice-stem-borer", NOT_THIS]
    assert resolve_choice("1", offer) == "kb:farm-rice-stem-borer"
    assert resolve_choice("2", offer) == NOT_THIS
    assert option_label(NOT_THIS) == "不是"


def test_every_topic_page_example_names_an_entry_that_is_served() -> None:
    from bot.knowledge.loader import load_entries
    from bot.menu.pages import TOPICS
    from bot.settings import PROJECT_ROOT

    ids = {e.id for e in load_entries(PROJECT_ROOT / "knowledge").entries}
    for key in TOPICS:
        options = [o for o in topic_page(key)[1] if not o.startswith("订阅:")]
        assert len(options) == 4
        for option in options:
            kind, _, entry_id = option.partition(":")
            assert kind == "kb" and entry_id in ids, option  # an entry, not an old alias
