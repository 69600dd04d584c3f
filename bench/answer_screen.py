"""Does every answer read in one screen? Measured in Chromium at 360×740, as the
web chat shows it.

Usage: .venv/bin/python -m bench.answer_screen [--limit N] [--over FILE]

``--over FILE`` writes the entries that do not fit (id and screens, longest
first), the list an editor shortens.

The web app serves the chat page (the real page, CSS and script); behind it a
stand-in for the assistant (``tests.bot.web.chat_support``) answers "条目 <id>"
with exactly the messages the assistant sends for that entry
(``bot.knowledge.reply.answer_messages``: lead sentence, at most five steps,
one-line source and the feedback question). For each of the knowledge base's
entries the answer is asked for once; the page scrolls the new answer's first
line to the top, and the answer fits when its last bubble ends above the input
bar without scrolling. Reported: how many fit, and the height of every answer
in screens (the space between the top of the page and the bar).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT
from tests.bot.web.chat_support import Assistant, Conversation, serve
from tests.conftest import CHROMIUM, launch_chromium

PHONE = {"width": 360, "height": 740}
ASK = "条目 "
# Entries per page: a long conversation is not what we measure.
PER_PAGE = 30
TURN = """() => {
  // The newest answer: its card (one bubble), and whatever the turn added after it.
  const cards = document.querySelectorAll('#log .msg.bot.card');
  const card = cards[cards.length - 1];
  const all = document.querySelectorAll('#log .msg.bot');
  const end = all[all.length - 1].getBoundingClientRect().bottom;
  const cite = card.querySelector('.cite');
  return {top: card.getBoundingClientRect().top, bottom: end,
          read: cite ? cite.getBoundingClientRect().bottom : end,
          dockTop: document.querySelector('.dock').getBoundingClientRect().top};
}"""


class Reader(Assistant):
    """Answers "条目 <id>" with that entry, as the assistant says it."""

    def reply(self, conv: Conversation, text: str) -> list[dict[str, Any]]:
        if text.startswith(ASK):
            return self._entry(text[len(ASK) :])
        return super().reply(conv, text)


def measure(limit: int | None) -> list[tuple[str, float, float]]:
    from playwright.sync_api import sync_playwright

    heights: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for served in serve(Path(tmp), kb=PROJECT_ROOT / "knowledge", stand_in=Reader):
            ids = sorted(served.assistant.entries)[:limit]
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                for start in range(0, len(ids), PER_PAGE):
                    context = browser.new_context(
                        viewport=PHONE, device_scale_factor=2, reduced_motion="reduce"
                    )
                    page = context.new_page()
                    page.goto(served.url + "/")
                    for turn, entry_id in enumerate(ids[start : start + PER_PAGE], start=1):
                        page.fill("#text", ASK + entry_id)
                        page.click("#send")
                        page.locator(f"#log .msg.bot[data-turn='{turn}']").first.wait_for()
                        page.locator(".msg.wait").wait_for(state="detached")
                        g = page.evaluate(TURN)
                        screen = g["dockTop"] - max(0.0, min(g["top"], 20.0))
                        heights.append(
                            (
                                entry_id,
                                (g["read"] - g["top"]) / screen,
                                (g["bottom"] - g["top"]) / screen,
                            )
                        )
                    context.close()
                browser.close()
    return heights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--over", type=Path, default=None, help="write entries over one screen")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("Debian's chromium is missing (scripts/install-browser.sh installs it)")
    heights = measure(args.limit)
    print(f"machine: {platform.machine()}, Chromium at 360×740 (scale 2), the web chat's defaults")
    print(f"entries: {len(heights)}\n")
    print("| part of the answer card | in one screen | screens p50 | p90 | max |")
    print("|---|---|---|---|---|")
    for name, column in (("lead, steps, source", 1), ("with the 有用/没用 question", 2)):
        screens = sorted(h[column] for h in heights)
        fit = sum(s <= 1.0 for s in screens)
        p90 = screens[max(0, math.ceil(0.9 * len(screens)) - 1)]
        print(
            f"| {name} | {fit} ({fit / len(screens):.1%}) | {statistics.median(screens):.2f} "
            f"| {p90:.2f} | {screens[-1]:.2f} |"
        )
    longest = sorted(heights, key=lambda h: -h[1])
    print("\nlongest: " + ", ".join(f"{h[0]} ({h[1]:.2f})" for h in longest[:5]))
    if args.over is not None:
        over = [f"{h[0]}\t{h[1]:.2f}\n" for h in longest if h[1] > 1.0]
        args.over.write_text("".join(over), encoding="utf-8")
        print(f"{len(over)} entries over one screen written to {args.over}")


if __name__ == "__main__":
    main()
