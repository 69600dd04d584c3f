"""The pure parts of the load bench (bench/load.py and the modules it uses):
statistics, CPU accounting, WeChat signing, the mix, the report. No services are
started and nothing is timed."""

from __future__ import annotations

import hashlib
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import (
    drive,
    load,
    load_report,
    mixes,
    procstat,
    service_log,
    stock_model,
    wechat_platform,
)
from bot.wechat.crypto import check_signature
from bot.wechat.messages import Inbound, parse_xml


def test_percentile_interpolates_between_ranks() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert drive.percentile(values, 0) == 1.0
    assert drive.percentile(values, 50) == 3.0
    assert drive.percentile(values, 100) == 5.0
    assert drive.percentile(values, 95) == pytest.approx(4.8)
    assert drive.percentile([7.0], 99) == 7.0
    assert math.isnan(drive.percentile([], 50))


def _stat_line(pid: int, comm: str, ppid: int, utime: int, stime: int, cut=0, cst=0) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime priority nice threads ...
    fields = ["S", ppid, pid, pid, 0, -1, 4194304, 100, 0, 0, 0, utime, stime, cut, cst, 20, 0, 9]
    return f"{pid} ({comm}) " + " ".join(str(f) for f in fields) + " 0 12345 1000 250\n"


def test_parse_stat_reads_ticks_even_with_odd_command_names() -> None:
    st = procstat.parse_stat(_stat_line(4242, "rasa (run) ) x", 17, 300, 40, cut=5, cst=2))
    assert (st.pid, st.ppid, st.ticks) == (4242, 17, 347)


def test_tree_ticks_sums_a_process_and_all_its_descendants_only() -> None:
    stats = {
        s.pid: s
        for s in (
            procstat.ProcStat(1, 0, 1000),  # init: not ours
            procstat.ProcStat(10, 1, 5),  # supervisor
            procstat.ProcStat(11, 10, 100),  # rasa
            procstat.ProcStat(12, 10, 50),  # actions
            procstat.ProcStat(13, 11, 7),  # a grandchild
            procstat.ProcStat(20, 1, 999),  # someone else's process
        )
    }
    assert procstat.tree_ticks(stats, [10]) == (162, {10, 11, 12, 13})
    assert procstat.tree_ticks(stats, [11, 12]) == (157, {11, 12, 13})
    assert procstat.tree_ticks(stats, [99]) == (0, set())  # exited


def test_reads_this_process_from_proc() -> None:
    stats = procstat.read_stats()
    assert os.getpid() in stats and stats[os.getpid()].ppid == os.getppid()
    assert procstat.tree_cpu_seconds([os.getpid()]) >= 0


def test_wechat_request_is_signed_as_the_channel_checks_it() -> None:
    signer = wechat_platform.WeChatSigner(token="tok", account="gh_x")
    query, body = signer.request("user-1", "帮我看看这条短信：]]> 有链接")
    check_signature(query["signature"], "tok", query["timestamp"], query["nonce"])
    assert query["openid"] == "user-1" and query["nonce"].isdigit()
    inbound = Inbound.from_fields(parse_xml(body))
    assert (inbound.sender, inbound.account, inbound.msg_type) == ("user-1", "gh_x", "text")
    assert inbound.content == "帮我看看这条短信：]]> 有链接"
    assert inbound.msg_id.isdigit() and inbound.create_time == query["timestamp"]


def test_every_wechat_request_has_a_fresh_nonce_and_message_id() -> None:
    signer = wechat_platform.WeChatSigner()
    requests = [signer.request("u", "菜单") for _ in range(50)]
    nonces = {q["nonce"] for q, _ in requests}
    ids = {Inbound.from_fields(parse_xml(b)).msg_id for _, b in requests}
    assert len(nonces) == 50 and len(ids) == 50


def test_wechat_signature_is_sha1_of_the_sorted_parts() -> None:
    expected = hashlib.sha1(b"123456abc").hexdigest()
    assert wechat_platform.signature("abc", "123", "456") == expected
    assert wechat_platform.wechat_query("abc", "123", "456", "o1")["signature"] == expected


MIX = mixes.Mix(
    questions=("微信怎么发语音", "高血压要注意什么"),
    eval_questions=("脑膜炎治疗费用是多少？",),
    eval_messages=("我是您的外孙，请把钱转到这个卡上",),
    eval_claims=("转发这条消息可以领红包",),
)


def test_a_session_is_the_scripted_realistic_mix() -> None:
    turns = MIX.session(user=0, cycle=0)
    kinds = [k for k, _ in turns]
    assert kinds == [
        "menu",
        "menu",
        "knowledge",
        "fraud",
        "knowledge",
        "knowledge",
        "rumour",
        "rumour",
        "rumour",
        "fraud",
    ]
    texts = [t for _, t in turns]
    assert texts[:2] == ["菜单", "2"] and texts[6] == "举报谣言"
    assert all(t.strip() for t in texts)
    pool = set(MIX.questions) | set(MIX.eval_questions)
    assert {texts[2], texts[4], texts[5]} <= pool
    assert texts[7] in set(MIX.claims) | set(MIX.eval_claims)
    assert texts[8] in mixes.RUMOUR_WHERE


def test_other_users_start_elsewhere_in_the_script_with_each_step_whole() -> None:
    for user in range(1, 14):
        turns = MIX.session(user, cycle=0)
        texts = [t for _, t in turns]
        assert sorted(k for k, _ in turns) == sorted(k for k, _ in MIX.session(0, 0))
        menu, report = texts.index("菜单"), texts.index("举报谣言")
        assert texts[menu + 1] == "2"
        assert [k for k, _ in turns[report : report + 3]] == ["rumour"] * 3
    # 50 users that each get through only a few turns still cover the whole mix.
    first_turns = {k for u in range(50) for k, _ in MIX.session(u, 0)[:3]}
    assert first_turns == {"menu", "knowledge", "fraud", "rumour"}


def test_sessions_are_deterministic_and_differ_between_users() -> None:
    assert MIX.session(1, 2) == MIX.session(1, 2)
    sessions = {tuple(MIX.session(u, c)) for u in range(10) for c in range(3)}
    assert len(sessions) > 20
    # Without eval texts, only the built-in pools are used.
    plain = mixes.Mix(questions=("一个问题",))
    for u in range(20):
        turns = plain.session(u, 0)
        assert {t for k, t in turns if k == "knowledge"} == {"一个问题"}
        messages = [t for k, t in turns if k == "fraud"]
        assert len(messages) == 2
        assert all(any(m.endswith(sms) for sms in mixes.FRAUD_SMS) for m in messages)


def test_mix_reads_the_knowledge_base_and_works_without_eval_files(tmp_path: Path) -> None:
    mix, source = mixes.load_mix(eval_dir=tmp_path)
    assert len(mix.questions) > 100 and not mix.eval_questions
    assert "not found" in source


def test_replace_section_appends_then_replaces_only_its_own_section() -> None:
    doc = "# Benchmarks\n\nintro\n\n## Training\n\nnumbers\n"
    first = load_report.replace_section(doc, "## Load test (issue 8)\n\nold table\n")
    assert first.startswith(doc.rstrip("\n")) and first.endswith("old table\n")
    middle = first + "\n## Later section\n\nkept\n"
    second = load_report.replace_section(middle, "## Load test (issue 8)\n\nnew table\n")
    assert "old table" not in second and "new table" in second
    assert "## Training\n\nnumbers" in second and second.endswith("## Later section\n\nkept\n")
    assert load_report.replace_section(second, "## Load test (issue 8)\n\nnew table\n") == second


def _level(stack: str, users: int, seconds: list[float], cpu: float, channel="rest", **extra):
    samples = [
        drive.Sample("menu", s, True, "passive" if channel == "wechat" else "") for s in seconds
    ]
    return drive.Level(stack, channel, users, 10.0, samples, cpu, 0.1, dict(extra))


def test_report_has_the_tables_ratio_and_verdicts() -> None:
    run = load_report.Run(
        levels=[
            _level("kepu", 10, [0.1, 0.2, 0.3, 0.6], cpu=0.4),
            _level("kepu", 50, [1.0, 6.0], channel="wechat", cpu=0.1, over_budget=1),
            _level("stock", 10, [0.1, 0.1, 0.2, 0.2], cpu=0.2),
        ],
        idle_cpu={"kepu": 0.01, "stock": 0.0},
    )
    assert load_report.overall_cost_ratio(run.levels) == pytest.approx(2.0)
    args = load.parse_args(["--users", "10", "--seconds", "5"])
    meta = {
        "machine": {"nproc": 2, "cpu": "X", "ram_gib": 1.0, "python": "3.10", "kernel": "k"},
        "date": "2026-01-01",
        "load_before": "0",
        "load_after": "0",
    }
    text = load_report.report(run, args, "texts", meta)
    assert text.startswith(load_report.SECTION)
    assert "| kepu | 10 | 4 | 0.4 |" in text and "| stock | 10 | 4 |" in text
    assert "**2.00×**" in text
    assert "2.00× — **missed**" in text  # cost ratio over 1.3
    assert "p95 ≤ 500 ms at 10 users: 555 ms — **missed**" in text
    assert "max 6.00 s, 1 of 2 over 4.5 s" in text
    assert "Command: `.venv/bin/python -m bench.load --users 10 --seconds 5 --max-turns" in text
    assert "machine was shared" not in text
    assert "machine was shared" in load_report.report(run, args, "texts", {**meta, "busy": True})


def test_arguments_are_bounded() -> None:
    assert load.parse_args([]).users == [1, 10, 50]
    with pytest.raises(SystemExit):
        load.parse_args(["--users", "0,10"])
    with pytest.raises(SystemExit):
        load.parse_args(["--seconds", "100000"])


def test_stock_model_name_follows_its_inputs(tmp_path: Path) -> None:
    a = tmp_path / "config.yml"
    a.write_text("pipeline: []\n")
    first = stock_model.stock_hash([a])
    a.write_text("pipeline: [x]\n")
    assert stock_model.stock_hash([a]) != first and len(first) == 16
    assert stock_model.stock_hash() == stock_model.stock_hash()


def test_processes_are_told_apart_by_their_command_line() -> None:
    py = "/work/main/.venv/bin/python -m"
    assert procstat.role(f"{py} rasa run --model m.tar.gz --port 5005") == "rasa"
    assert procstat.role(f"{py} rasa_sdk --actions actions --port 5055") == "actions"
    assert procstat.role(f"{py} bot.run.cli web") == "web"
    assert procstat.role(f"{py} bot.run.cli run --model m.tar.gz") == "supervisor"
    assert procstat.role("nginx: master process /usr/sbin/nginx -p var/nginx") == "nginx"
    assert procstat.role("nginx: worker process") == "nginx"
    assert procstat.role("/bin/sh -c true") == "other"


def test_cpu_is_counted_per_role_over_the_whole_tree() -> None:
    # A process tree of our own (not the test runner's, which may have children left by
    # other tests): a "supervisor" whose child is an "actions" server. The role words are
    # arguments, so they show in /proc/<pid>/cmdline as they do for the real services.
    sleeper = "import time; time.sleep(60)"
    spawner = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {sleeper!r}, 'rasa' + '_sdk']); "
        "time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", spawner, "bot.run.cli run"])
    try:
        deadline = time.monotonic() + 30
        roles: dict[str, float] = {}
        while time.monotonic() < deadline:
            roles = procstat.cpu_by_role([parent.pid])
            if len(roles) == 2:
                break
            time.sleep(0.05)
        assert set(roles) == {"supervisor", "actions"}
        assert all(seconds >= 0 for seconds in roles.values())
        assert procstat.cpu_by_role([os.getpid()]).keys() >= {"other"}
    finally:
        for child in procstat.read_stats().values():
            if child.ppid == parent.pid:
                os.kill(child.pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


def test_actions_are_counted_per_user_message() -> None:
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "菜单"},
        {"event": "action", "name": "action_show_menu"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "举报谣言"},
        {"event": "action", "name": "report_rumor_form"},
        {"event": "active_loop", "name": "report_rumor_form"},
        {"event": "action", "name": "action_listen"},
    ]
    assert drive.count_actions(events) == (2, {"action_show_menu": 1, "report_rumor_form": 1})


def test_the_sqlite_stock_variant_is_a_second_baseline() -> None:
    assert load.parse_args(["--stock-tracker", "memory,sqlite"]).stock_tracker == [
        "memory",
        "sqlite",
    ]
    with pytest.raises(SystemExit):
        load.parse_args(["--stock-tracker", "redis"])
    levels = [
        _level("kepu", 1, [0.1, 0.1], cpu=0.3),
        _level("stock", 1, [0.1, 0.1], cpu=0.1),
        _level("stock-sqlite", 1, [0.1, 0.1], cpu=0.2),
    ]
    assert load_report.overall_cost_ratio(levels) == pytest.approx(3.0)
    assert load_report.overall_cost_ratio(levels, "stock-sqlite") == pytest.approx(1.5)
    assert "stock-sqlite CPU ms/turn" in "\n".join(load_report.ratio_table(levels, "stock-sqlite"))


def test_errors_the_service_logs_are_counted_per_logger(tmp_path: Path) -> None:
    log = tmp_path / "stack.log"
    log.write_text("2026-11-29 09:19:00 ERROR    bot.wechat.dedup  - old\n")
    offset = service_log.log_size(log)
    with log.open("a") as fh:
        fh.write(
            "2026-11-29 09:20:01 INFO     rasa.core.processor  - fine\n"
            "2026-11-29 09:20:02 ERROR    actions.report_rumor  - a rumour report could not "
            "be stored\n"
            "Traceback (most recent call last):\n"
            "sqlite3.OperationalError: database is locked\n"
            "2026-11-29 09:20:03 ERROR    bot.wechat.dedup  - receipt log unavailable\n"
            "2026-11-29 09:20:04 ERROR    bot.wechat.dedup  - receipt log unavailable\n"
        )
    assert service_log.logged_errors(log, offset) == {
        "actions.report_rumor": 1,
        "bot.wechat.dedup": 2,
    }
    assert service_log.logged_errors(None, 0) == {} and service_log.log_size(tmp_path / "none") == 0


def test_the_knowledge_mix_is_questions_only_and_deterministic() -> None:
    turns = MIX.turns("knowledge", user=3, cycle=1)
    assert len(turns) == mixes.KNOWLEDGE_TURNS
    assert {k for k, _ in turns} == {"knowledge"}
    assert {t for _, t in turns} <= set(MIX.questions) | set(MIX.eval_questions)
    assert turns == MIX.turns("knowledge", 3, 1) != MIX.turns("knowledge", 4, 1)
    assert MIX.turns("realistic", 3, 1) == MIX.session(3, 1)


def test_mixes_and_environment_are_arguments() -> None:
    args = load.parse_args(["--mix", "knowledge,realistic", "--env", "KEPU_SPEEDUPS_OFF=x"])
    assert args.mix == ["knowledge", "realistic"] and args.env == [("KEPU_SPEEDUPS_OFF", "x")]
    assert args.heading == load_report.SECTION_KNOWLEDGE
    assert load.parse_args([]).heading == load_report.SECTION and load.parse_args([]).mix == [
        "realistic"
    ]
    with pytest.raises(SystemExit):
        load.parse_args(["--mix", "menu"])
    with pytest.raises(SystemExit):
        load.parse_args(["--env", "lower=1"])
    assert "--mix knowledge,realistic --env KEPU_SPEEDUPS_OFF=x" in load_report.command_line(args)


def test_report_of_the_knowledge_mix_has_its_own_targets() -> None:
    def level(stack: str, users: int, seconds: list[float], cpu: float, mix: str):
        lv = _level(stack, users, seconds, cpu)
        lv.mix = mix
        return lv

    run = load_report.Run(
        levels=[
            level("kepu", 10, [0.1, 0.2, 0.25, 0.28], cpu=0.16, mix="knowledge"),
            level("stock", 10, [0.1, 0.1, 0.2, 0.2], cpu=0.2, mix="knowledge"),
            level("kepu", 10, [0.1, 0.2, 0.3, 0.6], cpu=0.4, mix="realistic"),
            level("stock", 10, [0.1, 0.1, 0.2, 0.2], cpu=0.2, mix="realistic"),
        ]
    )
    args = load.parse_args(["--users", "10", "--mix", "knowledge,realistic"])
    meta = {
        "machine": {"nproc": 2, "cpu": "X", "ram_gib": 1.0, "python": "3.10", "kernel": "k"},
        "date": "2026-01-01",
        "load_before": "0",
        "load_after": "0",
    }
    text = load_report.report(run, args, "texts", meta)
    assert text.startswith(load_report.SECTION_KNOWLEDGE)
    assert "### REST turns (knowledge mix)" in text and "### REST turns (realistic mix)" in text
    assert "CPU per turn ≤ 1.0× the stock custom-action turn on the same mix: 0.80× — met" in text
    assert "≥ 25 turns/s at saturation: 0.4 turns/s (best level) — **missed**" in text
    assert "p95 ≤ 300 ms at 10 clients without think time: 276 ms — met" in text
    assert "cost per turn ≤ 1.3× the stock custom-action turn: 2.00× — **missed**" in text


def test_our_rasa_and_action_server_entry_points_are_recognised() -> None:
    py = "/work/main/.venv/bin/python -m"
    assert procstat.role(f"{py} bot.run.rasa_entry --model m.tar.gz --port 5005") == "rasa"
    assert procstat.role(f"{py} actions.security --actions actions --port 5055") == "actions"


def test_the_scale_out_table_gives_each_process_its_share_of_the_throughput() -> None:
    one = _level("kepu", 10, [0.1] * 200, cpu=8.0)  # 200 turns in 10 s: 20 turns/s
    two = _level("kepu", 10, [0.1] * 300, cpu=12.0)  # 30 turns/s with two processes
    two.processes = 2
    two.cpu_by_role = {"rasa": 9.0, "nginx": 0.6}
    one.mix = two.mix = "knowledge"
    rows = [r.split(" | ") for r in load_report.scale_table([one, two])[2:]]
    assert rows[0][2:4] == ["1", "10"] and rows[0][5] == "20.0" and rows[0][-1] == "100% |"
    assert rows[1][2:4] == ["2", "10"] and rows[1][5] == "30.0"
    assert rows[1][-2:] == ["15.0", "75% |"]  # 30 / (2 × 20)
    nginx_column = 10 + load_report.ROLES.index("nginx")
    assert rows[1][nginx_column] == "2.0"  # 0.6 s of CPU over 300 turns


def test_processes_mean_the_production_profile_and_their_own_section() -> None:
    args = load.parse_args(["--processes", "1,2", "--mix", "knowledge"])
    assert args.processes == [1, 2] and args.heading == load_report.SECTION_SCALE
    assert "--processes 1,2" in load_report.command_line(args)
