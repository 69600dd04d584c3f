"""The first-reply grader (bench.e2e_eval): what counts as a misroute."""

from __future__ import annotations

from bench.e2e_eval import MENU_LINES, Reply, Row, correct, misroute

MENU = "请回复数字选择：\n" + "\n".join(MENU_LINES)


def test_a_question_answered_with_the_menu_it_asked_for_is_no_misroute() -> None:
    row = Row("t1", "clean", "other", "question", "你们这里都能问啥", "", "menu")
    reply = Reply([MENU], [{"decision": "about_service"}])
    assert correct(row, reply)
    assert misroute(row, reply) is None


def test_a_question_answered_with_the_bare_menu_is_a_misroute() -> None:
    row = Row("t2", "clean", "health", "question", "膝盖痛吃什么药", "", "none")
    assert misroute(row, Reply([MENU], [])) == "question → menu"
