"""The screen evaluator (带屏评价器): a page for a cheap tablet at the counter, and the
console's page that pairs tablets with windows.

Each screen evaluator is a device of the hall config (`role = "evaluator"`, `screen =
"<this web device>"`, bound to its window). The console holds that device's token and
connects to the hub as it, one connection per device, so the hub sees a real evaluator
with the evaluator's rights for its window only: ratings, alerts and follow-up cases work
as they do for key pads. The tablet holds no token: it holds a pairing cookie
(`web.pairing`), and every rating it sends goes to the window of its pairing, whatever
the request says.

The tablet's page lives under `/e/` (device pages, apart from the console and the citizen
pages). It shows the window, the staff member logged in (portrait, name, 工号, stars; from
the roster in the hall database, read only), 暂停服务 when the window is paused or nobody
is logged in, five large buttons while a rating is asked for, and after 不满意/非常不满意
the configured reasons and a line of text. Live updates come by Server-Sent Events; the
script is plain JavaScript served by hallq.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from caller.core import validate
from caller.core.client import HubClient
from caller.core.config import ConfigError, HallConfig, load_config
from caller.core.i18n import LANGUAGES, translator
from caller.manager.stats import StatsError, open_readonly
from web import strings
from web.pairing import CODE_TTL_S, COOKIE, COOKIE_MAX_AGE_S, PairingError, Pairings, Screen
from web.security import Throttle

if TYPE_CHECKING:
    from web.app import Console, Context

log = logging.getLogger("hallq.web.screens")

LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
COMMENT_MAX = 200
KEEPALIVE_S = 15.0
MAX_JSON = 4096
REQUEST_HEADER = "x-hallq-screen"  # a cross-site page cannot send it without CORS, which we never allow
WORDS = ("title", "paused", "paused_hint", "welcome", "staff_no", "stars", "rate_prompt",
         "reasons_prompt", "reasons_hint", "comment", "comment_placeholder", "submit", "skip",
         "thanks", "thanks_bad", "offline", "pair_title", "pair_hint", "pair_code", "pair_button",
         "bad_code", "expired", "throttled", "revoked", "too_long", "control_chars", "no_reason",
         "language", "refused", *(f"level.{level}" for level in LEVELS))


def words(lang: str) -> dict[str, str]:
    t = translator(lang, "evaluator")
    return {key: t(key) for key in WORDS}


def screen_devices(config: HallConfig, web_device: str) -> dict[str, tuple[str, str]]:
    """Window -> (evaluator device id, its token) for the screens this console serves;
    each token is read as that device's program would read it."""
    out: dict[str, tuple[str, str]] = {}
    for window, device in config.screen_evaluators(web_device).items():
        token = device.token
        if not token:
            token = load_config(config.path, device=device.id).devices[device.id].token
        out[window] = (device.id, token)
    return out


def staff_card(db: Path | None, staff_no: str | None) -> dict | None:
    """The roster's entry for the 工号 at a window, for the tablet (no portrait bytes)."""
    if not staff_no:
        return None
    card = {"staff_no": staff_no, "name": "", "title": "", "stars": 0, "photo": ""}
    if db is None:
        return card
    try:
        conn = open_readonly(db)
    except StatsError:
        return card
    try:
        row = conn.execute("SELECT name, title, stars, photo FROM staff WHERE staff_no = ?",
                           (staff_no,)).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        conn.close()
    if row:
        card.update(name=row[0], title=row[1] or "", stars=row[2] or 0, photo=row[3] or "")
    return card


def staff_photo(db: Path, staff_no: str) -> bytes | None:
    """The portrait the hub stored (a JPEG `caller.core.portrait` made), or None."""
    try:
        conn = open_readonly(db)
    except StatsError:
        return None
    try:
        row = conn.execute("SELECT jpeg FROM staff_photos WHERE staff_no = ?", (staff_no,)).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        conn.close()
    return bytes(row[0]) if row else None


@dataclass
class ScreenWindow:
    """One window's screen evaluator: its hub connection and the tablets listening."""

    window: str
    name: str
    client: HubClient
    entry: dict | None = None  # the window in the last snapshot
    subscribers: set[asyncio.Queue[str]] = field(default_factory=set)
    dirty: asyncio.Event = field(default_factory=asyncio.Event)


class Screens:
    """The screen evaluators one console serves."""

    def __init__(self, config: HallConfig, hub_url: str, devices: dict[str, tuple[str, str]],
                 db: Path | None) -> None:
        self.config, self.db = config, db
        self.windows: dict[str, ScreenWindow] = {}
        for window, (device, token) in devices.items():
            sw = ScreenWindow(window, config.windows[window].name, HubClient(hub_url, device, token))
            sw.client.on_event = lambda _e, sw=sw: sw.dirty.set()
            sw.client.on_welcome = lambda _w, sw=sw: sw.dirty.set()
            sw.client.on_connection = lambda _up, sw=sw: sw.dirty.set()
            self.windows[window] = sw
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        for sw in self.windows.values():
            await sw.client.start(wait=False)
            self._tasks.append(asyncio.create_task(self._refresher(sw), name=f"screen-{sw.window}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sw in self.windows.values():
            await sw.client.close()

    async def _refresher(self, sw: ScreenWindow) -> None:
        while True:
            await sw.dirty.wait()
            sw.dirty.clear()
            try:
                if sw.client.connected:
                    reply = await sw.client.request("snapshot", timeout=5)
                    if reply.get("ok"):
                        sw.entry = next((w for w in reply["snapshot"]["windows"]
                                         if w["id"] == sw.window), None)
                text = json.dumps(await asyncio.to_thread(self.view, sw.window), ensure_ascii=False)
            except Exception:  # a tablet must outlive one bad refresh
                log.exception("screen %s: refresh failed", sw.window)
                continue
            for queue in sw.subscribers:
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(text)

    def view(self, window: str) -> dict[str, Any]:
        """What the tablet of `window` draws."""
        sw = self.windows[window]
        entry = sw.entry or {}
        state = entry.get("state", "closed")
        return {
            "window": window, "name": sw.name, "connected": sw.client.connected,
            "refused": sw.client.fatal is not None,
            "open": state not in ("closed", "paused"),
            "staff": staff_card(self.db, entry.get("staff")) if state != "closed" else None,
            "rating": bool(entry.get("rating_pending")) and sw.client.connected,
            "reasons": list(self.config.rating.reasons),
            "reasons_timeout_s": self.config.rating.reasons_timeout_s,
        }

    def subscribe(self, window: str) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=4)
        self.windows[window].subscribers.add(queue)
        return queue

    def unsubscribe(self, window: str, queue: asyncio.Queue[str]) -> None:
        self.windows[window].subscribers.discard(queue)

    async def request(self, window: str, kind: str, **args: Any) -> dict:
        client = self.windows[window].client
        if not client.connected:
            return {"ok": False, "error": {"code": "hub_down", "message": strings.HUB_DOWN}}
        try:
            return await client.request(kind, timeout=10, window=window, **args)
        except TimeoutError:
            return {"ok": False, "error": {"code": "timeout", "message": strings.HUB_TIMEOUT}}


# ---------------------------------------------------------------------- the tablet's pages


class ScreenPages:
    """The `/e/` routes of one console, and its `/screens` page for the manager."""

    def __init__(self, console: Console, screens: Screens, pairings: Pairings) -> None:
        self.console, self.screens, self.pairings = console, screens, pairings
        self.by_address = Throttle(10, 600.0)  # wrong pairing codes from one address

    def routes(self) -> list[Route]:
        g = self.console._guard
        return [
            Route("/e", lambda _: RedirectResponse("/e/", status_code=307)),
            Route("/e/", self.page),
            Route("/e/pair", self.pair, methods=["POST"]),
            Route("/e/state", self.state),
            Route("/e/events", self.events),
            Route("/e/photo", self.photo),
            Route("/e/rate", self.rate, methods=["POST"]),
            Route("/e/reasons", self.reasons, methods=["POST"]),
            Route("/screens", g("viewer", self.screens_page)),
            Route("/screens/{window:str}/code", g("manager", self.new_code), methods=["POST"]),
            Route("/screens/{screen:int}/revoke", g("manager", self.revoke), methods=["POST"]),
        ]

    # --- the tablet

    def _screen(self, request: Request) -> Screen | None:
        screen = self.pairings.screen(request.cookies.get(COOKIE))
        return screen if screen is not None and screen.window in self.screens.windows else None

    def _lang(self, request: Request) -> str:
        lang = request.query_params.get("lang", "zh")
        return lang if lang in LANGUAGES else "zh"

    def _render(self, template: str, lang: str, **values: Any) -> HTMLResponse:
        html = self.console.env.get_template(template).render(
            w=words(lang), lang=lang, hall=self.console.title,
            words_all={code: words(code) for code in LANGUAGES}, **values)
        return HTMLResponse(html)

    async def page(self, request: Request) -> Response:
        lang = self._lang(request)
        screen = self._screen(request)
        if screen is None:
            return self._render("screen_pair.html", lang, error="")
        return self._render("screen.html", lang, view=self.screens.view(screen.window))

    async def pair(self, request: Request) -> Response:
        lang = self._lang(request)
        address = request.client.host if request.client else "-"
        form = await request.form()
        code = form.get("code")
        if not self.by_address.allow(address):
            return self._render("screen_pair.html", lang, error=words(lang)["throttled"])
        try:
            screen, token = self.pairings.pair(code if isinstance(code, str) else "", address)
        except PairingError as e:
            self.console.accounts.audit("(评价器)", address, "screen_pair", "-", e.code, ok=False)
            return self._render("screen_pair.html", lang, error=words(lang)[e.code])
        self.console.accounts.audit("(评价器)", address, "screen_pair",
                                    self.console.config.windows[screen.window].name,
                                    f"配对 #{screen.id}")
        response = RedirectResponse(f"/e/?lang={lang}", status_code=303)
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/e/")
        return response

    async def state(self, request: Request) -> Response:
        screen = self._screen(request)
        if screen is None:
            return JSONResponse({"error": "unpaired"}, status_code=401)
        return JSONResponse(await asyncio.to_thread(self.screens.view, screen.window))

    async def events(self, request: Request) -> Response:
        screen = self._screen(request)
        if screen is None:
            return JSONResponse({"error": "unpaired"}, status_code=401)
        window = screen.window
        queue = self.screens.subscribe(window)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                first = await asyncio.to_thread(self.screens.view, window)
                yield f"data: {json.dumps(first, ensure_ascii=False)}\n\n"
                while not await request.is_disconnected():
                    try:
                        text = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        if self._screen(request) is None:  # revoked: the page goes back to pairing
                            yield "event: revoked\ndata: {}\n\n"
                            return
                        yield ": keepalive\n\n"
                        continue
                    yield f"data: {text}\n\n"
            finally:
                self.screens.unsubscribe(window, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    async def photo(self, request: Request) -> Response:
        """The portrait of whoever is logged in at the tablet's window, and no one else's."""
        screen = self._screen(request)
        db = self.console.db
        if screen is None or db is None:
            return Response(status_code=404)
        staff = (self.screens.windows[screen.window].entry or {}).get("staff")
        data = await asyncio.to_thread(staff_photo, db, staff) if staff else None
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    async def _json(self, request: Request) -> tuple[Screen | None, dict | None, Response | None]:
        screen = self._screen(request)
        if screen is None:
            return None, None, JSONResponse({"error": "unpaired"}, status_code=401)
        if request.headers.get(REQUEST_HEADER) != "1":
            return None, None, JSONResponse({"error": "forbidden"}, status_code=403)
        body = await request.body()
        try:
            data = json.loads(body) if len(body) <= MAX_JSON else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return None, None, JSONResponse({"error": "bad_request"}, status_code=400)
        return screen, data, None

    async def rate(self, request: Request) -> Response:
        screen, data, refused = await self._json(request)
        if refused is not None:
            return refused
        level = data.get("level")
        if level not in LEVELS:
            return JSONResponse({"error": "bad_request"}, status_code=400)
        # the window is the pairing's: a "window" in the request is never read
        reply = await self.screens.request(screen.window, "rate", level=level)
        if not reply.get("ok"):
            return JSONResponse({"ok": False, "error": reply["error"]}, status_code=409)
        return JSONResponse({"ok": True, "ticket": reply["ticket"]["id"], "level": level,
                             "ask_reasons": level in ("dissatisfied", "very_dissatisfied")})

    async def reasons(self, request: Request) -> Response:
        screen, data, refused = await self._json(request)
        if refused is not None:
            return refused
        lang = data.get("lang") if data.get("lang") in LANGUAGES else "zh"
        w = words(lang)
        ticket, reasons, comment = data.get("ticket"), data.get("reasons"), data.get("comment", "")
        if (not isinstance(ticket, int) or isinstance(ticket, bool) or not isinstance(reasons, list)
                or not isinstance(comment, str)):
            return JSONResponse({"error": "bad_request"}, status_code=400)
        if not reasons:
            return JSONResponse({"ok": False, "error": {"message": w["no_reason"]}}, status_code=400)
        comment = comment.strip()
        if len(comment) > COMMENT_MAX:
            return JSONResponse({"ok": False, "error": {"message": w["too_long"]}}, status_code=400)
        try:
            validate.text("comment", comment)  # no control characters, not even line breaks
        except validate.Invalid:
            return JSONResponse({"ok": False, "error": {"message": w["control_chars"]}}, status_code=400)
        reply = await self.screens.request(screen.window, "rate_reasons", ticket=ticket,
                                           reasons=reasons, comment=comment)
        if not reply.get("ok"):
            return JSONResponse({"ok": False, "error": reply["error"]}, status_code=409)
        return JSONResponse({"ok": True, "reasons": reply["reasons"]})

    # --- the console's page

    async def screens_page(self, ctx: Context, code: tuple[str, str] | None = None) -> Response:
        c = self.console
        return c._page(ctx, "screens.html", {
            "windows": [(w, c.config.windows[w].name, self.screens.windows[w].client.connected)
                        for w in self.screens.windows],
            "names": {w.id: w.name for w in c.config.windows.values()},
            "pairings": self.pairings.list(), "code": code, "ttl_min": CODE_TTL_S // 60})

    async def new_code(self, ctx: Context) -> Response:
        window = ctx.request.path_params["window"]
        if window not in self.screens.windows:
            return self.console._page(ctx, "error.html", {"message": strings.NOT_FOUND}, status=404)
        code = self.pairings.new_code(window, ctx.user.name)
        name = self.console.config.windows[window].name
        self.console.accounts.audit(ctx.user.name, ctx.address, "screen_code", name, "生成配对码")
        return await self.screens_page(ctx, (name, f"{code[:4]} {code[4:]}"))

    async def revoke(self, ctx: Context) -> Response:
        screen_id = int(ctx.request.path_params["screen"])
        try:
            screen = self.pairings.revoke(screen_id, ctx.user.name)
        except PairingError:
            return self.console._done("/screens", strings.NOT_FOUND, ok=False)
        self.console.accounts.audit(ctx.user.name, ctx.address, "screen_revoke",
                                    self.console.config.windows[screen.window].name,
                                    f"配对 #{screen.id}")
        return self.console._done("/screens")


def build(console: Console, hub_url: str, web_device: str) -> ScreenPages | None:
    """The screen evaluator pages when the config has screens for `web_device`."""
    try:
        devices = screen_devices(console.config, web_device)
    except ConfigError as e:
        log.error("screen evaluators not served: %s", e)
        return None
    screens = Screens(console.config, hub_url, devices, console.db)
    return ScreenPages(console, screens, Pairings(console.accounts))
