"""First replies as a user meets them: the running stack, one fresh sender per message.

Usage:
    .venv/bin/python -m bench.e2e_eval [--url http://127.0.0.1:5005] [--wechat 80]
        [--half all|even|odd] [--show-misses 40] [--markdown]

Without ``--url`` it starts ``kepu run --model <current model>`` on free loopback
ports with a throw-away var/ folder and the WeChat channel in plain mode (its
message API answered by a local stand-in), like ``bench.load``.

Each row of ``bench/data/e2e_dev.tsv`` is sent once, as the first message of a
new sender, through the REST channel (``POST /webhooks/rest/webhook``); a
sample also goes through the signed WeChat webhook. The first reply is graded
against the row's label:

- one or more entry ids (``a|b``): correct when the reply serves one of them
  (the ``entry_id`` each bot message carries in ``custom``);
- ``none``: an honest "not yet" (no entry served, no form, no hand-off);
- ``report``: the offer to have a claim checked, or the report form;
- ``fraud-check``: a risk verdict (高风险 / 中风险 / 低风险);
- ``help``: the hand-off (hotline first, request recorded), or booking a volunteer
  started (the order form, issue 20);
- ``menu``: the numbered menu; ``move``: a short reply that serves no entry,
  starts no form and records no request;
- ``check-form`` / ``report-status``: the message-check prompt / the look-up
  of one's reports.

WeChat replies carry no tags: there an entry counts as served when its first
answer line is in the reply text.

The data were written by two writers who had not read the knowledge files or
the training data, and labelled against the knowledge index by four
labellers who had not seen the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ports import free_port
from bench.stacks import spawn, stop, wait_ready
from bench.stock_model import current_model
from bench.wechat_platform import WECHAT_TOKEN, WeChatApiStandIn, WeChatSigner
from bot.settings import PROJECT_ROOT
from bot.understanding.replies import UNANSWERED, UNSURE

DATA = PROJECT_ROOT / "bench" / "data" / "e2e_dev.tsv"
KINDS = (
    "none",
    "report",
    "fraud-check",
    "help",
    "menu",
    "move",
    "check-form",
    "report-status",
)
# Kinds of first reply, read from the tags our actions put on their messages.
SERVES_ENTRY = frozenset({"answer", "debunk", "choice", "fraud_aftermath", "first_aid"})
FORM_PROMPTS = {
    "report": ("请说说您听到的说法", "您是在哪里看到或听到的"),
    "check-form": ("请把可疑的短信",),
}
MENU_LINES = ("1 手机使用", "5 查可疑短信", "7 找人帮忙")
VERDICT = re.compile(r"检查结果：(高风险|中风险|低风险)")


@dataclass(frozen=True)
class Row:
    id: str
    style: str
    topic: str
    move: str
    text: str
    want: str
    label: str

    @property
    def entries(self) -> set[str]:
        return {p for p in self.label.split("|") if p not in KINDS}

    @property
    def kinds(self) -> set[str]:
        return {p for p in self.label.split("|") if p in KINDS}

    @property
    def in_scope(self) -> bool:
        """A question the knowledge base answers (the label names an entry)."""
        return bool(self.entries) and not self.kinds

    @property
    def question(self) -> bool:
        """Free text that is not a command or a move (what must never be misrouted)."""
        return self.move not in ("chitchat", "command", "form_reply", "ask_person", "emergency")


def entry_aliases() -> dict[str, str]:
    """Ids of merged entries → the entry that holds them now (``aliases`` in the files)."""
    from bot.knowledge.loader import alias_map, load_entries

    return alias_map(load_entries(PROJECT_ROOT / "knowledge").entries)


def load_rows(path: Path = DATA, aliases: dict[str, str] | None = None) -> list[Row]:
    """The rows; a label naming an entry that was since merged into another names
    the entry that holds its content now (the files' ``aliases``)."""
    aliases = entry_aliases() if aliases is None else aliases
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = []
    for r in reader:
        label = "|".join(dict.fromkeys(aliases.get(p, p) for p in r["label"].split("|")))
        rows.append(Row(r["id"], r["style"], r["topic"], r["move"], r["text"], r["want"], label))
    return rows


@dataclass
class Reply:
    """The first reply to a message: every bot message of the turn."""

    texts: list[str]
    tags: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    status: int = 200

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def decisions(self) -> set[str]:
        return {str(t.get("decision")) for t in self.tags if t.get("decision")}

    @property
    def served(self) -> list[str]:
        """Entry ids served as an answer (not merely offered as a choice)."""
        return [
            str(t["entry_id"])
            for t in self.tags
            if t.get("entry_id") and t.get("decision") in SERVES_ENTRY
        ]

    @property
    def offered(self) -> list[str]:
        ids: list[str] = []
        for t in self.tags:
            if t.get("decision") == "choices" and t.get("choices"):
                ids += str(t["choices"]).split("|")
        return ids

    @property
    def related(self) -> list[str]:
        """Entries shown as perhaps related after an honest "not yet" (not offered
        as what the user meant: the reply does not count as choices)."""
        ids: list[str] = []
        for t in self.tags:
            if t.get("decision") == "none" and t.get("related"):
                ids += str(t["related"]).split("|")
        return ids


def reply_kinds(reply: Reply) -> set[str]:
    """What the reply does, as label kinds (plus "entry" and "choices")."""
    kinds: set[str] = set()
    decisions = reply.decisions
    if reply.served:
        kinds.add("entry")
    if "choices" in decisions:
        kinds.add("choices")
    if decisions & {"handoff", "order_start"} or "求助已经记下" in reply.text:
        kinds.add("help")
    if "fraud_verdict" in decisions or VERDICT.search(reply.text):
        kinds.add("fraud-check")
    if "report_offer" in decisions or any(p in reply.text for p in FORM_PROMPTS["report"]):
        kinds.add("report")
    if any(p in reply.text for p in FORM_PROMPTS["check-form"]):
        kinds.add("check-form")
    if "report_status" in decisions:
        kinds.add("report-status")
    if decisions & {"none", "not_understood"}:
        kinds.add("none")
    if all(line in reply.text for line in MENU_LINES):
        kinds.add("menu")
    return kinds


ACTIVE = frozenset({"entry", "help", "fraud-check", "report", "check-form", "report-status"})


def correct(row: Row, reply: Reply) -> bool:
    """Whether the first reply does what the label says is right."""
    kinds = reply_kinds(reply)
    if row.entries and set(reply.served) & row.entries:
        return True
    for kind in row.kinds:
        if kind == "none" and "none" in kinds and not kinds & ACTIVE:
            return True
        if kind == "move" and not kinds & ACTIVE:
            return True
        if kind not in ("none", "move") and kind in kinds:
            return True
    return False


def misroute(row: Row, reply: Reply) -> str | None:
    """A question sent to a form, the menu, the fraud check or a help request; or a
    command or move answered as a question. None when the route was right."""
    kinds = reply_kinds(reply)
    if set(reply.served) & row.entries:
        return None  # the right answer, perhaps with a verdict on the call it describes
    if row.question and not row.kinds & {"fraud-check", "report", "help"}:
        # (a row labelled with the menu or the message check that gets it is right,
        # not misrouted: "你们这个公众号都能问些什么" is a question whose answer is the menu)
        if kinds & {"report", "check-form"} and "check-form" not in row.kinds:
            return "question → form"
        if "fraud-check" in kinds:
            return "question → fraud check"
        if "help" in kinds:
            return "question → help request"
        if "menu" in kinds and "menu" not in row.kinds and not kinds & {"entry", "choices", "none"}:
            return "question → menu"
    commands = {"help", "report", "check-form", "report-status", "menu", "fraud-check"}
    if set(reply.served + reply.offered) & row.entries:
        return None  # the entry the label also accepts, served or one tap away
    if (
        row.kinds & commands
        and not kinds & (row.kinds | {"entry"})
        and kinds & {"entry", "none", "choices"}
    ):
        return f"{sorted(row.kinds)[0]} → answered as a question"
    return None


# --- sending ------------------------------------------------------------------------


async def send_rest(session: Any, url: str, row: Row) -> Reply:
    sender = f"e2e-{row.id}-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    async with session.post(url, json={"sender": sender, "message": row.text}) as resp:
        status = resp.status
        body = await resp.json(content_type=None) if status == 200 else []
    seconds = time.monotonic() - started
    texts = [m.get("text") or "" for m in body if isinstance(m, dict)]
    tags = [m["custom"] for m in body if isinstance(m, dict) and isinstance(m.get("custom"), dict)]
    return Reply(texts, tags, seconds, status)


_CONTENT = re.compile(rb"<Content><!\[CDATA\[(.*?)\]\]></Content>", re.S)


async def send_wechat(
    session: Any, url: str, signer: WeChatSigner, standin: WeChatApiStandIn, row: Row
) -> Reply:
    user = f"o-e2e-{row.id}-{uuid.uuid4().hex[:8]}"
    query, body = signer.request(user, row.text)
    started = time.monotonic()
    async with session.post(url, params=query, data=body) as resp:
        status = resp.status
        data = await resp.read()
    seconds = time.monotonic() - started
    texts = [m.decode("utf-8") for m in _CONTENT.findall(data)]
    await asyncio.sleep(0.3)  # pushes that follow the passive reply
    texts += standin.pushed.pop(user, [])
    return Reply(texts, [], seconds, status)


def tag_from_text(reply: Reply, first_lines: dict[str, str]) -> Reply:
    """WeChat replies carry no tags: serve the entries whose first line is in the text."""
    text = reply.text
    tags: list[dict[str, Any]] = [
        {"decision": "answer", "entry_id": entry_id}
        for entry_id, line in first_lines.items()
        if line and line in text
    ]
    # (the fallback action says "不好意思，我没太明白。", NOT_UNDERSTOOD a longer form)
    if any(line in text for line in (UNANSWERED, UNSURE, "我没太明白")):
        tags.append({"decision": "none"})
    if "您是想问" in text:
        tags.append({"decision": "choices"})
    if "我们还没有核实过" in text:
        tags.append({"decision": "report_offer"})
    return Reply(reply.texts, tags, reply.seconds, reply.status)


def entry_first_lines() -> dict[str, str]:
    from bot.knowledge.loader import load_entries
    from bot.knowledge.reply import answer_messages

    loaded = load_entries(PROJECT_ROOT / "knowledge")
    return {e.id: answer_messages(e)[0][:24] for e in loaded.entries}


# --- report ---------------------------------------------------------------------------


def answered(reply: Reply) -> bool:
    """The reply says an entry as the answer (a debunk is one)."""
    return bool(reply.decisions & {"answer", "debunk"})


def direct(row: Row, reply: Reply) -> bool:
    """A direct answer to a row that names an entry or "none": graded by its entry."""
    return answered(reply) and bool(row.entries or "none" in row.kinds)


def direct_right(row: Row, reply: Reply) -> bool:
    return bool(set(reply.served) & row.entries)


def out_of_scope(row: Row) -> bool:
    """Labelled none and nothing else ("none|<entry>" accepts that entry)."""
    return row.kinds == {"none"} and not row.entries


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "n/a"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(results: list[tuple[Row, Reply]], heading: str) -> list[str]:
    lines = [heading, ""]
    n = len(results)
    ok = [(r, rep) for r, rep in results if correct(r, rep)]
    lines.append(f"- first reply correct, all rows: {pct(len(ok), n)}")
    in_scope = [(r, rep) for r, rep in results if r.in_scope]
    clean = [(r, rep) for r, rep in in_scope if r.style == "clean"]
    noisy = [(r, rep) for r, rep in in_scope if r.style != "clean"]
    lines.append(
        f"- in-scope clean (target ≥ 92%): {pct(sum(correct(r, x) for r, x in clean), len(clean))}"
    )
    lines.append(
        "- in-scope dialect + voice (target ≥ 88%): "
        f"{pct(sum(correct(r, x) for r, x in noisy), len(noisy))}"
    )
    routes = Counter(m for r, rep in results if (m := misroute(r, rep)))
    lines.append(f"- misroutes (target ≤ 1%): {pct(sum(routes.values()), n)}")
    for kind, count in routes.most_common():
        lines.append(f"  - {kind}: {count}")
    said = [(r, rep) for r, rep in results if direct(r, rep)]
    direct_ok = sum(direct_right(r, rep) for r, rep in said)
    lines.append(f"- direct answers correct (target ≥ 97%): {pct(direct_ok, len(said))}")
    oos = [(r, rep) for r, rep in results if out_of_scope(r)]
    oos_wrong = sum(answered(rep) for r, rep in oos)
    lines.append(
        f"- labelled none but answered with an entry (target ≤ 3%): {pct(oos_wrong, len(oos))}"
    )
    choices = [(r, rep) for r, rep in in_scope if "choices" in rep.decisions]
    right_in = sum(bool(set(rep.offered) & r.entries) for r, rep in choices)
    lines.append(f"- in-scope questions answered with choices: {pct(len(choices), len(in_scope))}")
    lines.append(f"  - the right entry among the choices: {pct(right_in, len(choices))}")
    related = [(r, rep) for r, rep in in_scope if rep.related]
    right_related = sum(bool(set(rep.related) & r.entries) for r, rep in related)
    told = pct(len(related), len(in_scope))
    lines.append(f'- in-scope questions told "not yet" with related entries: {told}')
    lines.append(f"  - the right entry among them: {pct(right_related, len(related))}")
    seconds = [rep.seconds for _, rep in results]
    lines.append(
        f"- turn latency: p50 {1000 * statistics.median(seconds):.0f} ms, "
        f"p95 {1000 * percentile(seconds, 95):.0f} ms"
    )
    lines += ["", "| by | rows | correct |", "|---|---|---|"]
    for attr in ("style", "topic", "move"):
        groups: dict[str, list[bool]] = defaultdict(list)
        for r, rep in results:
            groups[getattr(r, attr)].append(correct(r, rep))
        for key, marks in sorted(groups.items()):
            lines.append(f"| {attr} {key} | {len(marks)} | {pct(sum(marks), len(marks))} |")
    label_groups: dict[str, list[bool]] = defaultdict(list)
    for r, rep in results:
        key = "entry" if r.in_scope else "|".join(sorted(r.kinds)) + ("+entry" if r.entries else "")
        label_groups[key].append(correct(r, rep))
    for key, marks in sorted(label_groups.items()):
        lines.append(f"| label {key} | {len(marks)} | {pct(sum(marks), len(marks))} |")
    return lines


def describe(row: Row, reply: Reply) -> str:
    kinds = ",".join(sorted(reply_kinds(reply))) or "-"
    served = ",".join(reply.served or reply.offered) or "-"
    first = reply.texts[0][:40].replace("\n", " ") if reply.texts else ""
    return (
        f"{row.id} [{row.style}/{row.move}] {row.text!r} "
        f"want={row.label} got={kinds}:{served} «{first}»"
    )


# --- the run -------------------------------------------------------------------------


async def evaluate(args: argparse.Namespace, rows: list[Row]) -> None:
    import aiohttp

    standin = WeChatApiStandIn()
    await standin.start()
    proc = None
    var = tempfile.TemporaryDirectory(prefix="kepu-e2e-")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            if args.url:
                rasa = args.url.rstrip("/")
            else:
                ports = {
                    k: free_port() for k in ("KEPU_RASA_PORT", "KEPU_ACTIONS_PORT", "KEPU_WEB_PORT")
                }
                env = {
                    **os.environ,
                    "KEPU_VAR_DIR": var.name,
                    "KEPU_CACHE_DIR": str(args.cache_dir),
                    **{k: str(v) for k, v in ports.items()},
                    "KEPU_WECHAT_TOKEN": WECHAT_TOKEN,
                    "KEPU_WECHAT_APPID": "wxkepue2e",
                    "KEPU_WECHAT_APPSECRET": "kepue2esecret",
                    "KEPU_WECHAT_MODE": "plain",
                    "KEPU_WECHAT_API_BASE": standin.base,
                    # Every graded sender comes from this one address: the per-address
                    # chat limit that stops floods would stop the evaluation.
                    "KEPU_CHAT_RATE_PER_CLIENT": "1000000",
                    "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                }
                model = current_model()
                proc = spawn(
                    [sys.executable, "-m", "bot.run.cli", "run", "--model", str(model)],
                    env,
                    PROJECT_ROOT,
                    Path(var.name) / "stack.log",
                )
                rasa = f"http://127.0.0.1:{ports['KEPU_RASA_PORT']}"
                started = time.monotonic()
                await wait_ready(
                    session,
                    [f"http://127.0.0.1:{ports['KEPU_WEB_PORT']}/readyz", f"{rasa}/"],
                    [proc],
                    timeout=600,
                )
                print(f"[e2e] stack ready in {time.monotonic() - started:.0f} s ({model.name})")
            rest_url = f"{rasa}/webhooks/rest/webhook"
            # Warm up (first turns load lazy services), with senders that are not graded.
            for text in ("你好", "二化螟怎么防治", "【某银行】您的账户异常请点击链接"):
                await send_rest(session, rest_url, Row("warm", "", "", "", text, "", "move"))
            results = []
            for i, row in enumerate(rows, 1):
                results.append((row, await send_rest(session, rest_url, row)))
                if i % 100 == 0:
                    print(f"[e2e] {i}/{len(rows)}", flush=True)
            wechat_results = []
            if args.wechat:
                rng = random.Random(20261204)
                sample = rng.sample(rows, min(args.wechat, len(rows)))
                firsts = entry_first_lines()
                signer = WeChatSigner()
                url = f"{rasa}/webhooks/wechat/webhook"
                for row in sample:
                    reply = await send_wechat(session, url, signer, standin, row)
                    wechat_results.append((row, tag_from_text(reply, firsts)))
    finally:
        if proc is not None:
            await stop(proc)
        await standin.close()
        var.cleanup()

    errors = [rep for _, rep in results if rep.status != 200]
    head = (
        f"machine: {platform.machine()}, {os.cpu_count()} cores; rows {len(rows)} "
        f"(half: {args.half}); HTTP errors {len(errors)}"
    )
    out = [head, ""] + report(results, "### REST channel, first reply")
    if wechat_results:
        rest_by_id = {r.id: correct(r, rep) for r, rep in results}
        agree = sum(correct(r, rep) == rest_by_id[r.id] for r, rep in wechat_results)
        out += [""] + report(
            wechat_results, f"### WeChat webhook, {len(wechat_results)} sampled rows (text-graded)"
        )[:3]
        out.append(f"- same verdict as through REST: {pct(agree, len(wechat_results))}")
    print("\n".join(out))
    misses = [(r, rep) for r, rep in results if not correct(r, rep)]
    if args.show_misses:
        print(f"\n### {len(misses)} wrong first replies (first {args.show_misses})")
        for r, rep in misses[: args.show_misses]:
            print("- " + describe(r, rep))
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for r, rep in results:
                fh.write(
                    json.dumps(
                        {"id": r.id, "ok": correct(r, rep), "texts": rep.texts, "tags": rep.tags},
                        ensure_ascii=False,
                    )
                    + "\n"
                )


def select(rows: Iterable[Row], half: str) -> list[Row]:
    """Half of the set by the parity of the id's number (tuned on one, checked on the other)."""
    if half == "all":
        return list(rows)
    want = 0 if half == "even" else 1
    return [r for r in rows if int(re.sub(r"\D", "", r.id)) % 2 == want]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running Rasa server (default: start one)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--half", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--wechat", type=int, default=80, help="rows also sent through WeChat")
    parser.add_argument("--show-misses", type=int, default=0)
    parser.add_argument("--dump", help="write every reply as JSON lines here")
    parser.add_argument("--cache-dir", default=str(PROJECT_ROOT / "var" / "cache"))
    args = parser.parse_args()
    rows = select(load_rows(args.data), args.half)
    asyncio.run(evaluate(args, rows))


if __name__ == "__main__":
    main()
