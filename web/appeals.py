"""The console's 差评申诉 page (申诉复核): any account files an appeal against a citizen's
bad rating with a reason; a manager upholds or rejects it with a note. Each step is a hub
command of the web device, attributed to the account and written to the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from web import records, strings

if TYPE_CHECKING:
    from web.app import Console, Context

MAX_ID = 2**31


def routes(console: Console) -> list[Route]:
    g = console._guard
    return [
        Route("/appeals", g("viewer", lambda ctx: page(console, ctx))),
        Route("/appeals/new", g("viewer", lambda ctx: file(console, ctx)), methods=["POST"]),
        Route("/appeals/{appeal:int}/{decision:str}",
              g("manager", lambda ctx: decide(console, ctx)), methods=["POST"]),
    ]


async def page(console: Console, ctx: Context) -> Response:
    state = ctx.request.query_params.get("state", "")
    state = state if state in strings.APPEAL_STATES else ""
    found = await console._read(records.appeals, state)
    open_ratings = await console._read(records.appealable, console._today())
    return console._page(ctx, "appeals.html", {
        "appeals": found or [], "appealable": open_ratings or [], "state": state,
        "no_db": found is None, "decisions": strings.APPEAL_DECISIONS,
        "services": {s.id: s.name for s in console.config.services.values()},
        "windows": {w.id: w.name for w in console.config.windows.values()}})


async def file(console: Console, ctx: Context) -> Response:
    try:
        form = await console._form(ctx, "ticket", "number", "grounds",
                                   required=("ticket", "grounds"))
    except ValueError as e:  # FormError: the message is for the account
        return console._done("/appeals", str(e), ok=False)
    ticket = int(form["ticket"]) if form["ticket"].isdigit() else 0
    if not 0 < ticket < MAX_ID:
        return console._done("/appeals", strings.NO_BAD_RATING, ok=False)
    # the audit keeps the step and the number; the reason may name the citizen
    return await console._act(ctx, "/appeals", "appeal_file", f"差评 {form['number'] or ticket}",
                              "", "appeal_file", ticket=ticket, by=ctx.user.name,
                              reason=form["grounds"])


async def decide(console: Console, ctx: Context) -> Response:
    appeal, decision = int(ctx.request.path_params["appeal"]), ctx.request.path_params["decision"]
    if decision not in strings.APPEAL_DECISIONS or appeal > MAX_ID:
        return console._page(ctx, "error.html", {"message": strings.NOT_FOUND}, status=404)
    try:
        form = await console._form(ctx, "note", required=("note",))
    except ValueError as e:  # FormError
        return console._done("/appeals", str(e), ok=False)
    return await console._act(ctx, "/appeals", "appeal_decide", f"申诉 #{appeal}",
                              strings.APPEAL_DECISIONS[decision], "appeal_decide", appeal=appeal,
                              by=ctx.user.name, decision=decision, note=form["note"])
