"""nginx in front of several Rasa processes (production profile), configured by us.

``kepu run`` with ``KEPU_RASA_INSTANCES`` > 1 starts the Rasa processes on the
ports after ``KEPU_RASA_PORT`` and Debian's nginx on ``KEPU_RASA_PORT`` itself,
with the configuration written here into ``<var>/nginx/nginx.conf``, so the
channels, the web service and the README's URLs do not change.
``kepu proxy --rasa HOST:PORT,... [--web HOST:PORT,...]`` writes the same kind
of configuration for Rasa processes (and web services) on other hosts and runs
nginx alone: the multi-machine layout of the README.

How requests are spread:

- a request with the WeChat ``openid`` query parameter (WeChat adds it to every
  message push) goes to the instance nginx's consistent hash of the openid
  picks (``hash $arg_openid consistent``), so one WeChat user stays on one
  process while the set of processes does not change;
- every other request (REST, WeCom, whose user is only in the encrypted body,
  Rasa's HTTP API) goes round robin;
- web services, with ``--web``: the web chat's cookie (``kepu_sid``) is hashed the
  same way (its resend memory is per process), round robin without it.

Routing is locality, not correctness: every Rasa process reads the same
PostgreSQL tracker store and takes the conversation's lock in Redis
(``bot/channels/locks.py``), so two messages of one sender are handled one
after the other, in order, whichever process gets them. A process that refuses
the connection is skipped (``proxy_next_upstream``) and left alone for 10 s.
When none answers, the REST channel still gets the polite busy reply with the
menu, and other callers a 503.

Responses carry ``X-Kepu-Instance``: the number of the server that answered, in
the order the servers were given (for tests and benchmarks; no address).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.menu.pages import BUSY_REPLY
from bot.settings import Settings

INSTANCE_HEADER = "X-Kepu-Instance"
# Answered by nginx itself: the supervisor's readiness check of the proxy.
HEALTH_PATH = "/proxy-health"
# Sanic (Rasa) closes an idle kept connection after 5 s, aiohttp (web) after 75 s:
# nginx must drop it first, or a POST sent as the other side closes gets a 502.
UPSTREAM_KEEPALIVE_SECONDS = 4
CONNECT_TIMEOUT_SECONDS = 2
# Rasa may take a minute on a cold model; the channels keep their own deadlines.
READ_TIMEOUT_SECONDS = 120
# A server that refused a connection is left alone this long (nginx's passive check).
FAIL_TIMEOUT_SECONDS = 10
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class NginxMissing(RuntimeError):
    """The production profile needs nginx and this machine has none."""


@dataclass(frozen=True)
class Site:
    """One address nginx listens on and the servers it spreads requests over."""

    name: str  # upstream names are derived from it: kepu_<name>_sticky, kepu_<name>_rr
    listen: str  # host:port
    servers: tuple[str, ...]  # host:port each
    sticky_on: str  # nginx variable hashed when not empty
    busy_json: str | None = None  # answer of the REST channel when no server answers


def instance_ports(settings: Settings) -> list[int]:
    """Ports of this host's Rasa processes: after the Rasa port when nginx takes it,
    from the Rasa port on otherwise (one process, or nginx on another host)."""
    first = settings.rasa_port + 1 if proxied(settings) else settings.rasa_port
    return [first + i for i in range(settings.rasa_instances)]


def proxied(settings: Settings) -> bool:
    """Whether `kepu run` puts nginx in front of this host's Rasa processes."""
    return settings.rasa_instances > 1 and settings.rasa_proxy == "nginx"


def find_nginx() -> str:
    found = shutil.which("nginx") or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)
    if not found:
        raise NginxMissing(
            "nginx is not installed: the production profile puts it in front of the Rasa "
            "processes (install it with scripts/install-nginx.sh, or apt-get install nginx)"
        )
    return found


def worker_user() -> str | None:
    """nginx's ``user`` line: as root its workers run as an unprivileged user, and its
    built-in default (nobody:nobody) names a group Debian does not have."""
    if os.geteuid() != 0:
        return None  # workers run as whoever started nginx
    for user in ("www-data", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        return f"{user} {grp.getgrgid(entry.pw_gid).gr_name}"
    return None


def _quote(text: str) -> str:
    """A single-quoted nginx string: nginx reads backslash escapes inside quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def rasa_site(listen: str, servers: list[str]) -> Site:
    busy = json.dumps([{"text": BUSY_REPLY}])  # ASCII: \uXXXX escapes, \n stays escaped
    return Site("rasa", listen, tuple(servers), "$arg_openid", busy)


def web_site(listen: str, servers: list[str]) -> Site:
    return Site("web", listen, tuple(servers), "$cookie_kepu_sid")


def _upstreams(site: Site) -> list[str]:
    servers = [
        f"        server {s} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;"
        for s in site.servers
    ]
    keep = [
        "        keepalive 16;",
        f"        keepalive_timeout {UPSTREAM_KEEPALIVE_SECONDS}s;",
    ]
    sticky, rr = f"kepu_{site.name}_sticky", f"kepu_{site.name}_rr"
    # After a failover $upstream_addr lists every server tried: name the last one.
    numbers = [
        f'        "~(^|[ ,]){re.escape(s)}$" {i};' for i, s in enumerate(site.servers, start=1)
    ]
    return [
        f"    map {site.sticky_on} $kepu_{site.name}_pool {{",
        f'        "" {rr};',
        f"        default {sticky};",
        "    }",
        f"    upstream {sticky} {{",
        f"        hash {site.sticky_on} consistent;",
        *servers,
        *keep,
        "    }",
        f"    upstream {rr} {{",
        *servers,
        *keep,
        "    }",
        f"    map $upstream_addr $kepu_{site.name}_instance {{",
        '        default "";',
        *numbers,
        "    }",
    ]


# The web chat's voice clips (bot/web/listening.py MAX_BYTES) are larger than any
# other request: only their path may send that much.
VOICE_PATH = "/api/v1/chat/voice"
VOICE_MAX_BYTES = 1024 * 1024


def _server(site: Site) -> list[str]:
    proxy = [
        f"            proxy_pass http://$kepu_{site.name}_pool;",
        f"            add_header {INSTANCE_HEADER} $kepu_{site.name}_instance always;",
    ]
    lines = [
        "    server {",
        f"        listen {site.listen};",
        f"        location = {HEALTH_PATH} {{",
        "            default_type text/plain;",
        "            return 200 'ok';",
        "        }",
        "        location / {",
        *proxy,
        "            error_page 502 504 = @kepu_unavailable;",
        "        }",
    ]
    if site.name == "web":
        lines += [
            f"        location = {VOICE_PATH} {{",
            f"            client_max_body_size {VOICE_MAX_BYTES};",
            f"            client_body_buffer_size {VOICE_MAX_BYTES};",
            *proxy,
            "            error_page 502 504 = @kepu_unavailable;",
            "        }",
        ]
    if site.busy_json is not None:
        lines += [
            "        location /webhooks/rest/ {",
            *proxy,
            "            error_page 502 504 = @kepu_busy;",
            "        }",
            "        location @kepu_busy {",
            "            default_type application/json;",
            f"            return 200 {_quote(site.busy_json)};",
            "        }",
        ]
    unavailable = json.dumps({"error": f"no {site.name} process is answering"})
    lines += [
        "        location @kepu_unavailable {",
        "            default_type application/json;",
        f"            return 503 {_quote(unavailable)};",
        "        }",
        "    }",
    ]
    return lines


def render(sites: list[Site], prefix: Path, max_body_bytes: int, user: str | None) -> str:
    """A whole nginx.conf, to run in the foreground as ``nginx -p <prefix> -c <file>``."""
    temp = [f"    {kind}_temp_path {prefix / kind};" for kind in TEMP_PATHS]
    http = [
        "    access_log off;",
        "    server_tokens off;",
        # Bodies stay in memory (never a temp file in a folder the workers cannot enter).
        f"    client_max_body_size {max_body_bytes};",
        f"    client_body_buffer_size {max_body_bytes};",
        "    proxy_max_temp_file_size 0;",
        *temp,
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        "    proxy_set_header Host $http_host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        f"    proxy_connect_timeout {CONNECT_TIMEOUT_SECONDS}s;",
        f"    proxy_send_timeout {READ_TIMEOUT_SECONDS}s;",
        f"    proxy_read_timeout {READ_TIMEOUT_SECONDS}s;",
        "    proxy_next_upstream error timeout;",
    ]
    for site in sites:
        http += _upstreams(site) + _server(site)
    return "\n".join(
        [
            "# Written by `kepu` (bot/run/nginx.py) at every start; edits are overwritten.",
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            *([f"user {user};"] if user else []),
            f"pid {prefix / 'nginx.pid'};",
            "error_log stderr warn;",
            "events {",
            "    worker_connections 1024;",
            "}",
            "http {",
            *http,
            "}",
            "",
        ]
    )


def write_config(settings: Settings, sites: list[Site]) -> tuple[Path, Path]:
    """``<var>/nginx/nginx.conf`` for these sites; returns (prefix, config)."""
    prefix = settings.var_dir / "nginx"
    prefix.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(sites, prefix, settings.max_body_bytes, worker_user()), encoding="utf-8")
    return prefix, conf


def nginx_argv(binary: str, prefix: Path, conf: Path) -> list[str]:
    # -e: errors before the configuration is read go to stderr too, not to
    # /var/log/nginx (which a user other than root cannot write).
    return [binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr"]


def address(host: str, port: int) -> str:
    """``host:port`` as nginx reads it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def local_sites(settings: Settings) -> list[Site]:
    """`kepu run`: nginx on the Rasa port in front of this host's Rasa processes."""
    servers = [address(settings.host, port) for port in instance_ports(settings)]
    return [rasa_site(address(settings.host, settings.rasa_port), servers)]
