"""The citizen app: routes under `/p`, its pages drawn in the caller's language."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from caller.core.config import HallConfig
from caller.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator
from web.citizen.booking import BookingPages
from web.citizen.limits import PublicLimits, address
from web.citizen.tickets import Board, Found, view_text
from web.live import Hall

HERE = Path(__file__).resolve().parent
Endpoint = Callable[[Request], Awaitable[Response]]
PREFIX = "/p"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
KEEPALIVE_S = 20.0
MAX_STREAMS = 5000  # open ticket pages the server follows at once; more wait and retry


class Citizen:
    """The public pages of one hall, drawn from the console's one hub connection."""

    def __init__(self, config: HallConfig, hall: Hall, db: Path | None,
                 limits: PublicLimits | None = None) -> None:
        self.config, self.hall = config, hall
        self.limits = limits or PublicLimits()
        self.board = Board(config, db, self._queue_status,
                           lambda: (hall.snapshot or {}).get("day"), lambda: hall.news)
        hall.hooks.append(self.board.refresh)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(["html"]))

    async def start(self) -> None:
        self._ticker = asyncio.create_task(self._keepalive(), name="citizen-keepalive")

    async def stop(self) -> None:
        self._ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._ticker

    async def _keepalive(self) -> None:
        """One timer for every open page, instead of a timeout armed per page and message."""
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            self.board.keepalive()

    def mount(self) -> Mount:
        return Mount(PREFIX, routes=self.routes())

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.limited("page", self.home)),
            *BookingPages(self).routes(),
            Route("/t/{code:str}", self.limited("page", self.ticket_page)),
            Route("/t/{code:str}/events", self.limited("stream", self.ticket_events)),
            Route("/t/{code:str}/view", self.limited("page", self.ticket_view)),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="citizen-static"),
        ]

    # ------------------------------------------------------------------ plumbing

    def limited(self, bucket: str, handler: Endpoint) -> Endpoint:
        """The endpoint, refused with 429 once the caller's address is over the bucket's limit."""
        async def endpoint(request: Request) -> Response:
            if not self.limits.allow(bucket, address(request)):
                return self.too_many(request, bucket)
            return await handler(request)
        return endpoint

    def too_many(self, request: Request, bucket: str) -> Response:
        response = self.page(request, "message.html", {"kind": "busy"}, status=429)
        response.headers["retry-after"] = str(self.limits.retry_after(bucket))
        return response

    def language(self, request: Request, lang: str | None = None) -> str:
        """`lang` when given (the ticket's), else `?lang=en`, else Simplified Chinese."""
        lang = lang or request.query_params.get("lang", "")
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def words(self, lang: str) -> Translator:
        return translator(lang, "citizen")

    def page(self, request: Request, template: str, values: dict[str, Any], *,
             lang: str | None = None, status: int = 200) -> HTMLResponse:
        lang = self.language(request, lang)
        html = self.env.get_template(template).render(
            t=self.words(lang), lang=lang, html_lang=HTML_LANG[lang], hall=self.config.hall.name,
            prefix=PREFIX, **values)
        return HTMLResponse(html, status_code=status)

    async def _queue_status(self) -> dict:
        if not self.hall.client.connected:
            return {"ok": False}
        return await self.hall.client.request("queue_status", timeout=5)

    async def _ticket(self, request: Request) -> Found | Response:
        """The ticket behind the path's code, or the page that says why there is none.
        Codes that find nothing are counted per address: guessing stops at the limit."""
        where = address(request)
        if self.limits.blocked("miss", where):
            return self.too_many(request, "miss")
        found = await self.board.find(request.path_params["code"])
        if found is None:
            self.limits.allow("miss", where)
            return self.page(request, "message.html", {"kind": "ticket_unknown"}, status=404)
        if self.board.expired(found):
            return self.page(request, "message.html", {"kind": "ticket_expired"},
                             lang=found.lang, status=410)
        return found

    async def not_found(self, request: Request) -> Response:
        return self.page(request, "message.html", {"kind": "not_found"}, status=404)

    # ------------------------------------------------------------------ pages

    async def home(self, request: Request) -> Response:
        """The hall's queues now: how many wait for each open service."""
        snapshot = self.hall.snapshot or {"services": [], "hall": {"notice": ""}}
        services = [{"name": s["name"], "waiting": s["waiting"], "open": s["open"]}
                    for s in snapshot["services"]]
        # connected but without the first snapshot yet: no queues to show, say so
        connected = self.hall.client.connected and self.hall.snapshot is not None
        return self.page(request, "home.html", {"services": services, "connected": connected,
                                                "notice": snapshot["hall"].get("notice", "")})

    async def ticket_page(self, request: Request) -> Response:
        found = await self._ticket(request)
        if isinstance(found, Response):
            return found
        service = self.config.services.get(found.service)
        windows = [w.name for w in self.config.windows_for_service(found.service)]
        view = await self.board.current(found)
        base = f"{PREFIX}/t/{request.path_params['code']}"
        return self.page(request, "ticket.html", {
            "view": view, "windows": windows, "events": f"{base}/events", "poll": f"{base}/view",
            "materials": list(service.materials) if service else [],
            "t_ticket": self.words(found.lang).scoped("citizen.ticket"),
        }, lang=found.lang)

    async def ticket_view(self, request: Request) -> Response:
        """The view as JSON, for a browser without Server-Sent Events (it polls)."""
        found = await self._ticket(request)
        if isinstance(found, Response):
            return found
        return JSONResponse(await self.board.current(found))

    async def ticket_events(self, request: Request) -> Response:
        """Server-Sent Events: the ticket's view each time it changes."""
        found = await self._ticket(request)
        if isinstance(found, Response):
            return found
        if self.board.open_pages >= MAX_STREAMS:
            return Response("busy", status_code=503, headers={"retry-after": "30"})
        page = self.board.open(found)
        try:
            first = view_text(await self.board.current(found))
        except BaseException:
            self.board.close(found, page)
            raise
        page.begin(first)

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 3000\n\n"
                yield _sse(first)
                while True:  # till the phone goes: Starlette then cancels this stream
                    text = await page.queue.get()
                    yield _sse(text) if text else ": keepalive\n\n"
            finally:
                self.board.close(found, page)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})


def _sse(text: str) -> str:
    return f"event: ticket\ndata: {text}\n\n"
