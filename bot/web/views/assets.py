"""The files under ``bot/web/static``: read once, compressed once, cached well.

Pages link them by content-hashed name (``/static/chat.3f9a1c2b7d.js``): such a
URL never changes meaning, so browsers keep it for a year without asking
again. The plain name (``/static/chat.js``) still works and is revalidated with
its ``ETag`` on every use. Text files are served gzip-compressed to browsers
that accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

HASH_CHARS = 10
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
}
_COMPRESS = {".css", ".js", ".svg", ".ico"}


@dataclass(frozen=True)
class Asset:
    """A static file as served: its body, gzipped too when that is smaller, and its ETag."""

    name: str
    hashed_name: str
    content_type: str
    body: bytes
    gzipped: bytes | None
    etag: str


class Assets:
    """Every file of the static directory, read at start, by plain and content-hashed name."""

    def __init__(self, root: Path) -> None:
        self._by_name: dict[str, Asset] = {}
        for path in sorted(root.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                asset = _load(path)
                self._by_name[asset.name] = asset
                self._by_name[asset.hashed_name] = asset

    def url(self, name: str) -> str:
        """The content-hashed URL of ``name`` (for templates)."""
        return f"/static/{self._by_name[name].hashed_name}"

    def get(self, name: str) -> Asset | None:
        return self._by_name.get(name)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``/static/{name}``: cached a year under the hashed name, revalidated under the plain."""
        name = request.match_info["name"]
        asset = self._by_name.get(name)
        if asset is None:
            raise web.HTTPNotFound()
        return respond(request, asset, IMMUTABLE if name == asset.hashed_name else REVALIDATE)

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        """``/favicon.ico``, which browsers ask for whatever the page says."""
        return respond(request, self._by_name["favicon.ico"], "public, max-age=86400")


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:HASH_CHARS]
    suffix = path.suffix.lower()
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    gzipped = None
    if suffix in _COMPRESS:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    return Asset(
        name=path.name,
        hashed_name=f"{path.stem}.{digest}{path.suffix}",
        content_type=content_type or "application/octet-stream",
        body=body,
        gzipped=gzipped,
        etag=digest,
    )


def _accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*") and params.replace(" ", "") != "q=0":
            return True
    return False


def respond(request: web.Request, asset: Asset, cache_control: str) -> web.StreamResponse:
    """The asset, gzipped when accepted, or 304 when ``If-None-Match`` has its ETag."""
    gzipped = asset.gzipped is not None and _accepts_gzip(request)
    etag = f'"{asset.etag}-gz"' if gzipped else f'"{asset.etag}"'
    headers = {"Cache-Control": cache_control, "ETag": etag}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    wanted = request.headers.get("If-None-Match", "")
    if etag in [tag.strip().removeprefix("W/") for tag in wanted.split(",")] or wanted == "*":
        return web.Response(status=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = asset.gzipped if gzipped and asset.gzipped is not None else asset.body
    response = web.Response(body=body, headers=headers)
    response.content_type, _, charset = asset.content_type.partition("; charset=")
    if charset:
        response.charset = charset
    return response


ASSETS = web.AppKey("static_assets", Assets)


def setup_assets(app: web.Application, root: Path) -> None:
    """``/static/{name}`` and ``/favicon.ico`` from ``root``."""
    assets = Assets(root)
    app[ASSETS] = assets
    app.router.add_get("/static/{name}", assets.handle, name="static")
    app.router.add_get("/favicon.ico", assets.favicon, name="favicon")
