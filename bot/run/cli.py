"""The ``kepu`` command: run the service, train, check content, run tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.settings import ACTION_SERVER_MAX_BODY, PROJECT_ROOT, Settings, action_secret

# Rasa otherwise reports crashes to an external service, with retries.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


# TensorFlow's thread pools for one message's DIET and TED inference: on two
# cores its inter- and intra-op pools cost more in hand-offs than they gain (a
# saturated knowledge turn 45.3 -> 40.7 CPU ms, p95 at 10 clients 779 -> 699 ms;
# docs/benchmarks.md, "Turn cost: profile and cuts"). An operator's own values win.
TF_THREAD_VARIABLES = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")


def _rasa_env(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables that ``bot/endpoints.yml`` and the Rasa/Sanic processes read."""
    assert settings.tracker_db is not None
    environ = os.environ if environ is None else environ
    return {
        **{name: environ.get(name, "1") for name in TF_THREAD_VARIABLES},
        "RASA_TELEMETRY_ENABLED": "false",
        "KEPU_TRACKER_DB": str(settings.tracker_db),
        "KEPU_ACTION_ENDPOINT_URL": settings.action_endpoint_url,
        # Sanic reads SANIC_* into its config: cap request bodies at the edge.
        "SANIC_REQUEST_MAX_SIZE": str(settings.max_body_bytes),
        "SANIC_HOST": settings.host,
        "KEPU_MAX_MESSAGE_CHARS": str(settings.max_message_chars),
    }


def write_credentials(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """The credentials file for Rasa: ``bot/credentials.yml``, plus the WeChat and
    WeCom channels whose token variable is set (written to ``<var>/credentials.yml``).
    """
    import yaml

    from bot.run.profile import write_rasa_file
    from bot.wechat.config import credentials_entries

    default = PROJECT_ROOT / "bot" / "credentials.yml"
    entries = credentials_entries(os.environ if environ is None else environ)
    if not entries:
        return default
    channels = {**(yaml.safe_load(default.read_text(encoding="utf-8")) or {}), **entries}
    source = "bot/credentials.yml and the KEPU_WECHAT_* / KEPU_WECOM_* variables"
    return write_rasa_file(settings, "credentials.yml", source, channels)


def rasa_server_argv(
    settings: Settings,
    model: str,
    credentials: Path | None = None,
    endpoints: Path | None = None,
    port: int | None = None,
) -> list[str]:
    """``rasa run`` through ``bot.run.rasa_entry``: the API token and the action
    server's secret are read from ``<var>`` (0600) in Rasa's process, so neither
    is on this command line, which every local user can read in /proc."""
    return [
        sys.executable,
        "-m",
        "bot.run.rasa_entry",
        "--model",
        model,
        "--endpoints",
        str(endpoints or PROJECT_ROOT / "bot" / "endpoints.yml"),
        "--credentials",
        str(credentials or PROJECT_ROOT / "bot" / "credentials.yml"),
        "--interface",
        settings.host,
        "--port",
        str(port or settings.rasa_port),
        # The HTTP API can rewrite any conversation: never open without a token
        # (bot.run.rasa_entry passes <var>/rasa_token, or KEPU_RASA_TOKEN, to Rasa).
        "--enable-api",
        "--request-timeout",
        "60",
    ]


def action_server_argv(settings: Settings) -> list[str]:
    """rasa_sdk's server through ``actions.security``: only calls that carry the
    run's secret (sent by Rasa) are served, bodies capped at ACTION_SERVER_MAX_BODY."""
    return [
        sys.executable,
        "-m",
        "actions.security",
        "--actions",
        "actions",
        "--port",
        str(settings.actions_port),
        "--cors",  # no browser origin may call the action server
    ]


def cmd_run(args: argparse.Namespace) -> int:
    from bot.run.nginx import NginxMissing, find_nginx, proxied
    from bot.run.profile import check_connection_budget, rasa_pool_env, write_endpoints
    from bot.run.supervisor import ProcessSpec, Supervisor
    from bot.run.training import train_if_needed

    settings = Settings.from_env()
    if proxied(settings):
        try:
            find_nginx()
        except NginxMissing as exc:
            print(f"[kepu] not starting: {exc}", file=sys.stderr)
            return 2
    private_var_dir(settings)
    # A new secret between Rasa and the action server for every run.
    action_secret(settings, rotate=True)
    # In a child process: the supervisor itself stays small while it waits.
    subprocess.run(
        [sys.executable, "-m", "bot.run.cli", "kb", "import"], check=True, cwd=PROJECT_ROOT
    )
    refusal = asyncio.run(check_connection_budget(settings))
    if refusal:
        print(f"[kepu] not starting: {refusal}", file=sys.stderr)
        return 2
    model = train_if_needed(settings.model_dir) if not args.model else args.model
    endpoints, endpoint_env = write_endpoints(settings)
    env = {**_rasa_env(settings), "PYTHONPATH": str(PROJECT_ROOT)}
    rasa_env = {**env, **endpoint_env, **rasa_pool_env(settings)}
    base = f"http://{settings.host}"
    credentials = write_credentials(settings)
    specs = [
        # The action server receives whole conversation trackers from Rasa on
        # loopback; they outgrow a public-input cap in a long conversation.
        ProcessSpec(
            "actions",
            action_server_argv(settings),
            f"{base}:{settings.actions_port}/health",
            {**env, "SANIC_REQUEST_MAX_SIZE": str(ACTION_SERVER_MAX_BODY)},
        ),
        *rasa_specs(settings, str(model), credentials, endpoints, rasa_env),
        ProcessSpec(
            "web",
            [sys.executable, "-m", "bot.run.cli", "web"],
            f"{base}:{settings.web_port}/healthz",
            env,
        ),
    ]
    message = (
        f"科普助手已启动。请用浏览器打开 {base}:{settings.web_port}/ 开始聊天。" " (Ctrl-C 停止)"
    )
    return asyncio.run(Supervisor(specs).run(on_ready=message))


def private_var_dir(settings: Settings) -> None:
    """``<var>`` (conversations, databases, the token) readable by its owner only: 0700."""
    var = settings.var_dir
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    if var.stat().st_mode & 0o077:
        try:
            var.chmod(0o700)
        except PermissionError:
            print(f"[kepu] warning: cannot make {var} private (mode 0700)", file=sys.stderr)


def rasa_specs(
    settings: Settings, model: str, credentials: Path, endpoints: Path, env: dict[str, str]
) -> list[Any]:
    """This host's Rasa processes, and nginx on the Rasa port in front of several
    (``bot/run/nginx.py``); one process, or processes behind another host's nginx,
    take the ports from the Rasa port on."""
    from bot.run import nginx
    from bot.run.supervisor import ProcessSpec

    base = f"http://{settings.host}"
    ports = nginx.instance_ports(settings)
    names = ["rasa"] if len(ports) == 1 else [f"rasa-{i}" for i in range(1, len(ports) + 1)]
    specs = [
        ProcessSpec(
            name,
            rasa_server_argv(settings, model, credentials, endpoints, port),
            f"{base}:{port}/",
            env,
        )
        for name, port in zip(names, ports, strict=True)
    ]
    if nginx.proxied(settings):
        specs.append(nginx_spec(settings, nginx.local_sites(settings)))
    return specs


def nginx_spec(settings: Settings, sites: list[Any]) -> Any:
    """nginx in the foreground with its configuration for ``sites`` (raises NginxMissing)."""
    from bot.run import nginx
    from bot.run.supervisor import ProcessSpec

    binary = nginx.find_nginx()
    prefix, conf = nginx.write_config(settings, sites)
    ready = f"http://{sites[0].listen}{nginx.HEALTH_PATH}"
    return ProcessSpec("nginx", nginx.nginx_argv(binary, prefix, conf), ready)


def cmd_proxy(args: argparse.Namespace) -> int:
    """nginx alone, in front of Rasa processes (and web services) on other hosts."""
    from bot.run import nginx
    from bot.run.supervisor import Supervisor

    settings = Settings.from_env()
    private_var_dir(settings)
    rasa = _addresses(args.rasa)
    web = _addresses(args.web or "")
    if not rasa:
        print("[kepu] --rasa needs at least one HOST:PORT", file=sys.stderr)
        return 2
    sites = [nginx.rasa_site(nginx.address(settings.host, settings.rasa_port), rasa)]
    if web:
        sites.append(nginx.web_site(nginx.address(settings.host, settings.web_port), web))
    if args.print_config:  # written as well, with its folders, so that it runs as printed
        _, conf = nginx.write_config(settings, sites)
        print(conf.read_text(encoding="utf-8"), end="")
        return 0
    try:
        spec = nginx_spec(settings, sites)
    except nginx.NginxMissing as exc:
        print(f"[kepu] not starting: {exc}", file=sys.stderr)
        return 2
    listening = "、".join(site.listen for site in sites)
    message = f"nginx 已在 {listening} 转发到 {len(rasa)} 个 Rasa 进程。 (Ctrl-C 停止)"
    return asyncio.run(Supervisor([spec]).run(on_ready=message))


def _addresses(text: str) -> list[str]:
    """``HOST:PORT,HOST:PORT`` as a list, each checked to have a port."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SystemExit(f"[kepu] not an address HOST:PORT: {item!r}")
        out.append(item)
    return out


async def prepare(settings: Settings) -> int:
    """Once, before the processes start: schema, expired reports, knowledge import, vectors.

    Doing it here means the action server and the web service find the
    database current and the vectors cached, instead of both computing them.
    """
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService
    from bot.rumors.retention import purge
    from bot.run.profile import create_tracker_tables
    from bot.storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        await asyncio.to_thread(create_tracker_tables, settings)
        reports, pictures = await purge(db, settings.report_retention_days)
        if reports or pictures:
            print(
                f"[kepu] deleted {reports} expired rumour reports, {pictures} abandoned pictures",
                file=sys.stderr,
            )
        service = KnowledgeService(settings.knowledge_dir, DenseEncoder(settings.vector_cache), db)
        await service.refresh(force=True)
        for error in service.errors:
            print(f"[kepu] knowledge entry skipped: {error}", file=sys.stderr)
        print(f"[kepu] knowledge: {service.size} entries served", file=sys.stderr)
        return 1 if service.errors else 0
    finally:
        await db.close()


def cmd_web(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.web.app import create_app

    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.web_port,
        print=None,
        access_log=None,
    )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.run.training import train_if_needed

    settings = Settings.from_env()
    model = train_if_needed(settings.model_dir, force=args.force)
    asyncio.run(warm_vectors(settings))
    warm_fraud_classifier(settings)
    print(model)
    return 0


def warm_fraud_classifier(settings: Settings) -> None:
    """Fit the fraud classifier into the cache (only when its training data changed).

    Part of building, like the vectors: on a fresh clone the action server would
    otherwise fit it before it can answer, minutes on a loaded machine.
    """
    from bot.fraud.checker import FraudChecker

    FraudChecker(cache_dir=settings.cache_dir)


async def warm_vectors(settings: Settings) -> None:
    """Encode the knowledge base into the vector cache (only texts not cached yet).

    Part of building, like training: the first start on a new machine then
    does not spend a minute encoding before it can answer.
    """
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService

    service = KnowledgeService(settings.knowledge_dir, DenseEncoder(settings.vector_cache))
    await service.refresh(force=True)


def cmd_test_stories(args: argparse.Namespace) -> int:
    from bot.run.training import model_path

    settings = Settings.from_env()
    out = settings.var_dir / "results"
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "test",
        "core",
        "--model",
        str(model_path(settings.model_dir)),
        "--stories",
        str(PROJECT_ROOT / "tests" / "conversations"),
        "--endpoints",
        str(PROJECT_ROOT / "bot" / "endpoints.yml"),
        "--fail-on-prediction-errors",
        "--out",
        str(out),
    ]
    env = {**os.environ, **_rasa_env(settings)}
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=env).returncode


def cmd_kb_validate(args: argparse.Namespace) -> int:
    import datetime as dt
    from collections import Counter

    from bot.knowledge.loader import load_entries, near_duplicate_questions, review_warnings

    settings = Settings.from_env()
    result = load_entries(settings.knowledge_dir)
    for error in result.errors:
        print(f"ERROR {error}", file=sys.stderr)
    # One answer per question: two entries must not carry the same phrasing.
    duplicates = near_duplicate_questions(result.entries)
    for duplicate in duplicates:
        print(f"ERROR {duplicate}", file=sys.stderr)
    # Old reviews and home-page links are for curators to fix; they do not fail.
    warnings = review_warnings(result.entries, dt.date.today())
    for warning in warnings:
        print(f"WARNING {warning}", file=sys.stderr)
    counts = Counter(e.topic for e in result.entries)
    print(
        f"{len(result.entries)} valid entries: "
        + ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
        + f"; {len(warnings)} warnings"
    )
    return 1 if result.errors or duplicates else 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    from bot.knowledge.export import export_console_entries

    settings = Settings.from_env()
    out = Path(args.out) if args.out else settings.knowledge_dir
    report = asyncio.run(_with_database(settings, lambda db: export_console_entries(db, out)))
    for path in report.written:
        print(f"written   {path}")
    print(f"{len(report.written)} written, {len(report.unchanged)} unchanged")
    return 0


async def _with_database(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from bot.storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
        return await work(db)
    finally:
        await db.close()


def _console_command(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(db)``; a refusal of the console service is printed, not raised."""
    from bot.accounts.errors import ConsoleError

    try:
        return asyncio.run(_with_database(Settings.from_env(), work))
    except ConsoleError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return None


def cmd_report_monthly(args: argparse.Namespace) -> int:
    """The district's monthly report, one printable HTML file (bot/insights/report.py)."""
    from bot.insights.report import month_period, monthly_html
    from bot.knowledge.dense import DenseEncoder
    from bot.knowledge.service import KnowledgeService

    try:
        month_period(args.month)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    out = Path(args.out or f"kepu-report-{args.month}.html")

    async def work(db: Any) -> str:
        encoder = DenseEncoder(settings.vector_cache)
        knowledge = KnowledgeService(settings.knowledge_dir, encoder, db)
        await knowledge.refresh(force=True)
        return await monthly_html(db, args.month, knowledge)

    html = asyncio.run(_with_database(settings, work))
    out.write_text(html, encoding="utf-8")
    print(f"月度报告已写入 {out}")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from bot.accounts.access import ROLES
    from bot.accounts.users import add_user

    password = _console_command(lambda db: add_user(db, args.name, args.role))
    if password is None:
        return 1
    print(f"已创建用户 {args.name}（{ROLES[args.role]}）。一次性密码只显示这一次：")
    print(password)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from bot.accounts.access import Actor
    from bot.accounts.users import list_users

    users = _console_command(lambda db: list_users(db, Actor(0, "cli", "admin")))
    if users is None:
        return 1
    for user in users:
        state = "" if user.active else "（已停用）"
        print(f"{user.name:24} {user.role:10} {user.role_label}{state}")
    return 0


def _split(values: list[str]) -> list[str]:
    """``--skills phone_help,health`` and ``--skills phone_help health`` alike."""
    return [v for value in values for v in value.replace("，", ",").split(",") if v.strip()]


def cmd_volunteers_add(args: argparse.Namespace) -> int:
    from bot.orders.service import add_volunteer

    volunteer = _console_command(
        lambda db: add_volunteer(
            db,
            args.name,
            skills=_split(args.skills),
            towns=_split(args.towns),
            availability=args.availability or "",
            code=args.code,
            console_user=args.user,
            wecom_user=args.wecom,
            checked_document=args.checked_document,
            checked_by=args.checked_by,
        )
    )
    if volunteer is None:
        return 1
    checked = "已核验身份" if volunteer.verified else "未核验身份（不能派上门服务）"
    print(f"已登记志愿者 {volunteer.name}，志愿者编号 {volunteer.code}，{checked}。")
    return 0


def cmd_volunteers_verify(args: argparse.Namespace) -> int:
    from bot.orders.service import verify_volunteer

    volunteer = _console_command(
        lambda db: verify_volunteer(db, args.code, document=args.document, checked_by=args.by)
    )
    if volunteer is None:
        return 1
    print(
        f"已记录：{args.by} 核验了 {volunteer.name}（{volunteer.code}）的{volunteer.id_document}。"
    )
    return 0


def cmd_volunteers_list(args: argparse.Namespace) -> int:
    from bot.orders.service import list_volunteers

    volunteers = _console_command(lambda db: list_volunteers(db))
    if volunteers is None:
        return 1
    for v in volunteers:
        checked = f"{v.id_document}/{v.id_checked_by}" if v.verified else "未核验"
        state = "" if v.active else "（已停用）"
        print(
            f"{v.code:12} {v.name}{state}  服务：{'、'.join(v.skill_labels)}  "
            f"镇街：{'、'.join(v.towns)}  身份：{checked}  时长：{v.hours_served} 小时"
        )
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from bot.accounts.users import create_token

    token = _console_command(
        lambda db: create_token(db, args.name, label=args.token_name or "", days=args.days)
    )
    if token is None:
        return 1
    print(
        f"已为 {args.name} 创建 API 令牌，{args.days} 天后过期"
        "（只保存其摘要，丢失后只能重新创建）："
    )
    print(token)  # last: scripts read the final line
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from bot.accounts.access import Actor
    from bot.accounts.users import list_tokens

    tokens = _console_command(lambda db: list_tokens(db, Actor(0, "cli", "admin")))
    if tokens is None:
        return 1
    shown = [t for t in tokens if args.all or t.live]
    print(f"{'编号':>6}  {'用户':16} {'状态':6} {'过期(UTC)':16} {'最近使用(UTC)':16} 名称")
    for t in shown:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "从未"
        print(
            f"{t.id:>6}  {t.user:16} {t.state_label:6} {t.expires_at:%Y-%m-%d %H:%M}"
            f"  {used:16} {t.name}"
        )
    if not shown:
        print("（没有有效的令牌）" if not args.all else "（没有令牌）")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from bot.accounts.access import Actor
    from bot.accounts.users import revoke_token

    token = _console_command(lambda db: revoke_token(db, Actor(0, "cli", "admin"), args.id))
    if token is None:
        return 1
    print(f"已吊销令牌 {token.id}（{token.user}：{token.name}）。")
    return 0


def cmd_asr_check(args: argparse.Namespace) -> int:
    """The local speech model: files present, SHA-256 as published, where to get it."""
    from bot.settings import SettingsError
    from bot.voice.check import asr_report

    try:
        settings = Settings.from_env()
        asr, model_dir = settings.asr, settings.asr_model_dir
    except SettingsError as exc:  # e.g. KEPU_ASR=local without a directory: still report
        print(f"[kepu] settings: {exc}", file=sys.stderr)
        asr, model_dir = os.environ.get("KEPU_ASR", "wechat"), None
    if args.model_dir:
        model_dir = Path(args.model_dir).expanduser().resolve()
    lines, ok = asr_report(asr, model_dir)
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_settings(args: argparse.Namespace) -> int:
    for env, value, doc in Settings.from_env().describe():
        print(f"{env:24} {value:40} {doc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kepu", description="科普助手 service tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="train if needed, then start Rasa, actions and web")
    p.add_argument("--model", help="use this model archive instead of training")
    p.set_defaults(func=cmd_run)
    sub.add_parser("web", help="run only the web service").set_defaults(func=cmd_web)
    p = sub.add_parser(
        "proxy", help="run nginx alone in front of Rasa processes (and web services) elsewhere"
    )
    p.add_argument("--rasa", required=True, help="Rasa processes, HOST:PORT,HOST:PORT,...")
    p.add_argument("--web", help="web services, HOST:PORT,... (on KEPU_WEB_PORT)")
    p.add_argument(
        "--print-config", action="store_true", help="write and print the configuration; no nginx"
    )
    p.set_defaults(func=cmd_proxy)
    p = sub.add_parser("train", help="train the model if its inputs changed")
    p.add_argument("--force", action="store_true", help="train even if a model exists")
    p.set_defaults(func=cmd_train)
    sub.add_parser("test-stories", help="end-to-end test stories").set_defaults(
        func=cmd_test_stories
    )
    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb", required=True)
    kb.add_parser("validate", help="check every entry in knowledge/").set_defaults(
        func=cmd_kb_validate
    )
    kb.add_parser(
        "import", help="migrate, import knowledge/ into the database, cache vectors"
    ).set_defaults(func=lambda args: asyncio.run(prepare(Settings.from_env())))
    p = kb.add_parser("export", help="write debunks published in the console to knowledge/")
    p.add_argument("--out", help="knowledge folder to write into (default: KEPU_KNOWLEDGE_DIR)")
    p.set_defaults(func=cmd_kb_export)
    from bot.accounts.access import ROLES

    users = sub.add_parser("users", help="console users").add_subparsers(
        dest="users", required=True
    )
    p = users.add_parser("add", help="create a user; prints a one-time password")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=list(ROLES))
    p.set_defaults(func=cmd_users_add)
    users.add_parser("list", help="list users and roles").set_defaults(func=cmd_users_list)
    volunteers = sub.add_parser("volunteers", help="volunteers of service orders").add_subparsers(
        dest="volunteers", required=True
    )
    p = volunteers.add_parser("add", help="register a volunteer")
    p.add_argument("name")
    p.add_argument("--skills", nargs="+", required=True, help="service keys or labels")
    p.add_argument("--towns", nargs="+", required=True, help="镇/街道 of the district")
    p.add_argument("--availability", help="when they can serve, e.g. 周末全天")
    p.add_argument("--code", help="志愿者编号 (default: LP<number>)")
    p.add_argument("--user", help="their console account, to accept orders")
    p.add_argument("--wecom", help="their WeCom account (userid): new orders and reminders")
    p.add_argument("--checked-document", help="kind of ID document seen (never its number)")
    p.add_argument("--checked-by", help="who checked the document")
    p.set_defaults(func=cmd_volunteers_add)
    p = volunteers.add_parser("verify", help="record an identity check (document kind only)")
    p.add_argument("code", help="志愿者编号")
    p.add_argument("--document", required=True, help="身份证, 户口簿, 护照 …")
    p.add_argument("--by", required=True, help="who checked it")
    p.set_defaults(func=cmd_volunteers_verify)
    volunteers.add_parser("list", help="list volunteers").set_defaults(func=cmd_volunteers_list)
    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="tokens", required=True
    )
    p = tokens.add_parser("create", help="create a bearer token for a user; prints it last")
    p.add_argument("name", help="the user the token acts as")
    p.add_argument("--name", dest="token_name", help="what the token is for, e.g. ci-export")
    p.add_argument("--days", type=int, default=90, help="days until it expires (default 90)")
    p.set_defaults(func=cmd_tokens_create)
    p = tokens.add_parser("list", help="list live tokens (--all: expired and revoked too)")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_tokens_list)
    p = tokens.add_parser("revoke", help="revoke a token at once, by its id from `tokens list`")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_tokens_revoke)
    report = sub.add_parser("report", help="reports for the district").add_subparsers(
        dest="report", required=True
    )
    p = report.add_parser("monthly", help="one month's report as a printable HTML file")
    p.add_argument("--month", required=True, help="the month, e.g. 2026-11")
    p.add_argument("--out", help="file to write (default kepu-report-<month>.html)")
    p.set_defaults(func=cmd_report_monthly)
    sub.add_parser("settings", help="print effective settings").set_defaults(func=cmd_settings)
    asr = sub.add_parser("asr", help="speech recognition of voice messages").add_subparsers(
        dest="asr", required=True
    )
    p = asr.add_parser("check", help="verify the local model's files and SHA-256")
    p.add_argument("--model-dir", help="model directory (default: KEPU_ASR_MODEL_DIR)")
    p.set_defaults(func=cmd_asr_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
