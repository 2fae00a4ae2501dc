"""The console's 人员名册 page: the staff roster (工号, name, title, stars, windows, portrait).

Every change is a hub command of the web device (the hub owns the roster), attributed to
the account and written to the audit log. A portrait upload is checked (size, type) and
decoded with Pillow, and only the JPEG drawn afresh from it (`caller.core.portrait`) goes
to the hub; portraits are served from the hall database, never as uploaded.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from caller.core import portrait
from web import strings
from web.screens import staff_photo

if TYPE_CHECKING:
    from web.app import Console, Context

PHOTO_BODY_MAX = portrait.UPLOAD_MAX + 64 * 1024  # the picture and the form around it


def routes(console: Console) -> list[Route]:
    g = console._guard
    return [
        Route("/staff", g("viewer", lambda ctx: page(console, ctx))),
        Route("/staff", g("manager", lambda ctx: save(console, ctx)), methods=["POST"]),
        Route("/staff/{staff_no:str}/photo.jpg", g("viewer", lambda ctx: photo(console, ctx))),
        Route("/staff/{staff_no:str}/photo", g("manager", lambda ctx: upload(console, ctx),
                                                max_body=PHOTO_BODY_MAX), methods=["POST"]),
        Route("/staff/{staff_no:str}/{step:str}", g("manager", lambda ctx: step(console, ctx)),
              methods=["POST"]),
    ]


async def page(console: Console, ctx: Context) -> Response:
    reply = await console.hall.request("staff_list")
    return console._page(ctx, "staff.html", {
        "members": reply.get("staff", []) if reply.get("ok") else [],
        "error": "" if reply.get("ok") else reply["error"]["message"],
        "windows": {w.id: w.name for w in console.config.windows.values()},
        "required": console.config.staff.roster_required})


async def save(console: Console, ctx: Context) -> Response:
    form = await ctx.request.form()
    try:
        fields = await console._form(ctx, "staff_no", "name", "title", "stars",
                                     required=("staff_no", "name"))
    except ValueError as e:  # FormError
        return console._done("/staff", str(e), ok=False)
    stars = int(fields["stars"]) if fields["stars"].isdigit() and len(fields["stars"]) < 3 else -1
    windows = [w for w in form.getlist("windows") if isinstance(w, str)]
    if stars < 0 or any(w not in console.config.windows for w in windows):
        return console._done("/staff", strings.STAFF_BAD, ok=False)
    return await console._act(ctx, "/staff", "staff_save", f"工号 {fields['staff_no']}",
                              fields["name"], "staff_save", staff_no=fields["staff_no"],
                              name=fields["name"], title=fields["title"], stars=stars,
                              windows=windows)


async def step(console: Console, ctx: Context) -> Response:
    staff_no, kind = ctx.request.path_params["staff_no"], ctx.request.path_params["step"]
    if kind not in ("disable", "enable") or len(staff_no) > 32:
        return console._page(ctx, "error.html", {"message": strings.NOT_FOUND}, status=404)
    return await console._act(ctx, "/staff", f"staff_{kind}", f"工号 {staff_no}", "",
                              f"staff_{kind}", staff_no=staff_no)


async def upload(console: Console, ctx: Context) -> Response:
    staff_no = ctx.request.path_params["staff_no"]
    form = await ctx.request.form()
    picture = form.get("photo")
    if not isinstance(picture, UploadFile) or len(staff_no) > 32:
        return console._done("/staff", strings.PHOTO_MISSING, ok=False)
    data = await picture.read(portrait.UPLOAD_MAX + 1)
    try:
        made = await asyncio.to_thread(portrait.make, data)
    except portrait.PortraitError as e:
        console.accounts.audit(ctx.user.name, ctx.address, "staff_photo", f"工号 {staff_no}",
                               f"照片被拒绝：{e}", ok=False)
        return console._done("/staff", f"{strings.PHOTO_REFUSED}{e}", ok=False)
    return await console._act(ctx, "/staff", "staff_photo", f"工号 {staff_no}",
                              f"{len(made)} 字节", "staff_photo", staff_no=staff_no,
                              photo=base64.b64encode(made).decode())


async def photo(console: Console, ctx: Context) -> Response:
    staff_no = ctx.request.path_params["staff_no"]
    data = await asyncio.to_thread(staff_photo, console.db, staff_no) if console.db else None
    if data is None:
        return Response(status_code=404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
