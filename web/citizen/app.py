"""The citizen app: routes under `/p`, its pages drawn in the caller's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from caller.core.config import HallConfig
from caller.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator
from web.citizen.booking import BookingPages
from web.citizen.limits import PublicLimits, address
from web.live import Hall

HERE = Path(__file__).resolve().parent
Endpoint = Callable[[Request], Awaitable[Response]]
PREFIX = "/p"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


class Citizen:
    """The public pages of one hall, drawn from the console's one hub connection."""

    def __init__(self, config: HallConfig, hall: Hall, limits: PublicLimits | None = None) -> None:
        self.config, self.hall = config, hall
        self.limits = limits or PublicLimits()
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(["html"]))

    def mount(self) -> Mount:
        return Mount(PREFIX, routes=self.routes())

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.limited("page", self.home)),
            *BookingPages(self).routes(),
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

    async def not_found(self, request: Request) -> Response:
        return self.page(request, "message.html", {"kind": "not_found"}, status=404)

    # ------------------------------------------------------------------ pages

    async def home(self, request: Request) -> Response:
        """The hall's queues now: how many wait for each open service."""
        snapshot = self.hall.snapshot or {"services": [], "hall": {"notice": ""}}
        services = [{"name": s["name"], "waiting": s["waiting"], "open": s["open"]}
                    for s in snapshot["services"]]
        return self.page(request, "home.html", {"services": services,
                                                "connected": self.hall.client.connected,
                                                "notice": snapshot["hall"].get("notice", "")})
