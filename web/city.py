"""The city console: `hallq web --central DSN`, every hall's live state and the central
reports, for the city's (or, with `--region`, a county's) service-hall office.

It only reads the central database, in read-only sessions, and the browser never talks
to PostgreSQL: one task of the server reads every hall's state every `POLL_S` seconds and
pushes it to the open pages (Server-Sent Events, as the hall console does). Accounts,
sessions, CSRF, throttling and the audit log are the hall console's (`web.app.Console`),
kept in the console's own SQLite file (`--db`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from caller.central import report as central
from caller.central.access import CentralError, connect_readonly
from caller.central.live import read_live
from caller.manager import record as rating_record
from caller.manager import report as layout
from web import reports, strings
from web.accounts import Accounts
from web.app import Console, Context

log = logging.getLogger("hallq.web.city")
POLL_S = 2.0
CITY_NAV = [("/", "各大厅实况"), ("/reports", "统计报表")]
TABLES = ("hall", "service", "day")  # the page's tables; the downloads carry every grouping


class CentralLive:
    """Every hall's live state, read from the centre by the server for all open pages."""

    def __init__(self, dsn: str, region: str = "", poll_s: float = POLL_S) -> None:
        self.dsn, self.region, self.poll_s = dsn, region, poll_s
        self._view: dict[str, Any] = {"halls": [], "totals": {}, "at": None, "connected": False}
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._conn = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="city-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await asyncio.to_thread(self._conn.close)

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=8)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._subscribers.discard(queue)

    def view(self) -> dict[str, Any]:
        return self._view

    def view_text(self) -> str:
        return json.dumps(self._view, ensure_ascii=False, separators=(",", ":"))

    async def _poll(self) -> None:
        while True:
            self._view = await asyncio.to_thread(self._read)
            text = self.view_text()
            for queue in self._subscribers:
                if queue.full():  # a page that stopped reading gets the newest view only
                    queue.get_nowait()
                queue.put_nowait(text)
            await asyncio.sleep(self.poll_s)

    def _read(self) -> dict[str, Any]:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect_readonly(self.dsn)
            return {**read_live(self._conn, self.region), "connected": True}
        except (CentralError, psycopg.Error) as e:  # the centre away: keep serving, say so
            if self._view["connected"]:
                log.warning("central database unreadable: %s", type(e).__name__)
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
            return {**self._view, "connected": False}


class CityConsole(Console):
    """The hall console's accounts and security over `CentralLive` and the central reports."""

    def __init__(self, live: CentralLive, accounts: Accounts, *, idle_s: float = 30 * 60) -> None:
        self.hall, self.config, self.db = live, None, None
        self.dsn, self.region = live.dsn, live.region
        title = (strings.CITY_TITLE_REGION.format(region=live.region) if live.region
                 else strings.CITY_TITLE_ALL)
        self._setup(accounts, idle_s, title, datetime.now().astimezone().tzinfo)
        self.env.globals.update(nav=CITY_NAV, subtitle=strings.CITY_SUBTITLE, LEVELS=strings.LEVELS)

    def routes(self) -> list[Route | Mount]:
        g = self._guard
        return [
            *self.sign_in_routes(),
            Route("/", g("viewer", self.city_page)),
            Route("/api/state", g("viewer", self.state)),
            Route("/events", g("viewer", self.events)),
            Route("/reports", g("viewer", self.reports_page)),
            Route("/reports/download", g("viewer", self.report_download)),
        ]

    def _today(self) -> date:
        return datetime.now(self.tz).date()

    async def city_page(self, ctx: Context) -> Response:
        return self._page(ctx, "city.html", {"view": self.hall.view(),
                                             "texts": {**strings.CITY_JS, "levels": strings.LEVELS}})

    async def state(self, ctx: Context) -> Response:
        return JSONResponse(self.hall.view())

    # ------------------------------------------------------------------ reports

    def _scope(self, region: str, hall: str) -> tuple[str, list[str]]:
        """The region and halls a report asks for, within the console's own region."""
        if region and not re.fullmatch(r"\d{2,12}", region):
            raise reports.PeriodError(strings.BAD_REGION)
        region = region or self.region
        if not region.startswith(self.region):
            raise reports.PeriodError(strings.OUT_OF_REGION.format(region=self.region))
        return region, [hall] if hall else []

    def _report(self, region: str, halls: list[str], p: reports.Period) -> Any:
        with connect_readonly(self.dsn) as conn:
            chosen = central.select_halls(conn, halls, region or None)
            return central.compute_central_report(conn, chosen, p.first, p.last,
                                                  region=region or None)

    async def reports_page(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        values: dict[str, Any] = {"ranges": reports.RANGES, "range": q.get("range", "today"),
                                  "first": q.get("from", ""), "last": q.get("to", ""),
                                  "region": q.get("region", "")[:12], "hall_id": q.get("hall", "")[:64],
                                  "halls": self.hall.view()["halls"]}
        try:
            p = reports.period(values["range"], self._today(), values["first"], values["last"])
            region, halls = self._scope(values["region"], values["hall_id"])
            result = await asyncio.to_thread(self._report, region, halls, p)
        except (reports.PeriodError, CentralError) as e:
            values["error"] = str(e)
            return self._page(ctx, "city_reports.html", values)
        values.update(period=p, summary=reports.summary(result), ranking=result.ranking,
                      tables=reports.tables(result, TABLES),
                      query=urlencode({"range": p.name, "from": p.first, "to": p.last,
                                       "region": values["region"], "hall": values["hall_id"]}))
        return self._page(ctx, "city_reports.html", values)

    async def report_download(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        kind = q.get("format", "")
        if kind not in reports.DOWNLOADS:
            return self._page(ctx, "error.html", {"message": "未知的下载格式"}, status=400)
        try:
            p = reports.period(q.get("range", "today"), self._today(), q.get("from", ""),
                               q.get("to", ""))
            region, halls = self._scope(q.get("region", "")[:12], q.get("hall", "")[:64])
            data, media, name = await asyncio.to_thread(self._download, region, halls, p, kind)
        except (reports.PeriodError, CentralError) as e:
            return self._page(ctx, "error.html", {"message": str(e)}, status=400)
        self.accounts.audit(ctx.user.name, ctx.address, "export", name)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    def _download(self, region: str, halls: list[str], p: reports.Period,
                  kind: str) -> tuple[bytes, str, str]:
        media, suffix = reports.DOWNLOADS[kind]
        scope = region or "全部"
        if kind.startswith("haocha"):
            with connect_readonly(self.dsn) as conn:
                chosen = central.select_halls(conn, halls, region or None)
                rows = central.haocha_rows(conn, chosen, p.first, p.last)
            buffer = io.BytesIO()
            rating_record.write_record(rows, buffer, suffix)
            return buffer.getvalue(), media, f"好差评-{scope}-{p.first}-{p.last}.{suffix}"
        result = self._report(region, halls, p)
        name = f"统计报表-{scope}-{p.first}-{p.last}.{suffix}"
        if kind == "xlsx":
            buffer = io.BytesIO()
            layout.write_xlsx(result, buffer, central.CENTRAL_GROUPINGS)
            return buffer.getvalue(), media, name
        text = io.StringIO()
        layout.write_csv(result, text, central.CENTRAL_GROUPINGS)
        return text.getvalue().encode("utf-8-sig"), media, name
