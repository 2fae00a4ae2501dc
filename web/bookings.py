"""The console's 预约管理 page: one day's bookings per service with their state (the holder
masked: full names and phones belong to the clerk serving the ticket and the case page),
the day's figures (the report's 预约统计, from `caller.manager.booking_stats`), and the
blacklist (失信) with a lift action for managers, a hub command of the web device,
attributed to the account and audited.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from caller.manager.booking_stats import BOOKING_COLUMNS
from caller.manager.stats import StatsError
from web import records, strings
from web.appeals import MAX_ID

if TYPE_CHECKING:
    from web.app import Console, Context


def routes(console: Console) -> list[Route]:
    g = console._guard
    return [
        Route("/bookings", g("viewer", lambda ctx: page(console, ctx))),
        Route("/bookings/bans/{ban:int}/lift", g("manager", lambda ctx: lift(console, ctx)),
              methods=["POST"]),
    ]


async def page(console: Console, ctx: Context) -> Response:
    q = ctx.request.query_params
    service = q.get("service", "")
    service = service if service in console.config.services else ""
    values: dict[str, Any] = {"service": service, "columns": BOOKING_COLUMNS,
                              "services": {s.id: s.name for s in console.config.services.values()},
                              "bookings": [], "figures": [], "day": console._today(), "bans": []}
    try:
        values["day"] = date.fromisoformat(q["day"]) if q.get("day") else console._today()
    except ValueError:
        values["error"] = strings.BAD_DATE
    if console.db is None:
        values["error"] = strings.NO_DB
    elif "error" not in values:
        try:
            values["bookings"], values["figures"] = await asyncio.to_thread(
                records.bookings, console.db, values["day"], service)
        except StatsError as e:
            values["error"] = str(e)
    reply = await console.hall.request("list_bans")
    if reply.get("ok"):
        values["bans"] = reply["bans"]
    else:
        values.setdefault("error", reply["error"]["message"])
    return console._page(ctx, "bookings.html", values)


async def lift(console: Console, ctx: Context) -> Response:
    ban = int(ctx.request.path_params["ban"])
    if ban > MAX_ID:
        return console._page(ctx, "error.html", {"message": strings.NO_BAN}, status=404)
    return await console._act(ctx, "/bookings", "ban_lift", f"失信 #{ban}", "", "lift_ban",
                              ban=ban, by=ctx.user.name)
