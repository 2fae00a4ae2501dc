"""The console's web application (Starlette): pages, actions, the live event stream.

Every page needs a signed-in account; every POST a CSRF token; every action on the hall
goes to the hub as a command of the web device, attributed to the account (`by`), and is
written to the audit log with who, when, what and from which address.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from caller.core.config import HallConfig
from caller.manager.stats import StatsError
from web import appeals, bookings, records, reports, screens, staff, strings
from web.accounts import ROLE_NAMES, ROLES, AccountError, Accounts, User
from web.citizen.app import PREFIX, Citizen
from web.live import Hall
from web.security import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SecurityHeaders,
    SessionData,
    Sessions,
    Throttle,
    mask,
)

HERE = Path(__file__).resolve().parent
MAX_BODY = 64 * 1024
MAX_ID = 2**31  # alert and case ids in a URL; beyond this nothing exists
KEEPALIVE_S = 15.0
TEXT_LIMITS = {"note": 500, "cause": 500, "fix": 500, "outcome": 500, "text": 500, "reason": 100,
               "grounds": 100}
FIELD_NAMES = {"note": "备注", "cause": "原因", "fix": "整改措施", "outcome": "办结结果",
               "ticket": "差评记录", "grounds": "申诉理由",
               "text": "公告内容", "reason": "暂停原因", "name": "账户名", "password": "密码"}


@dataclass
class Context:
    """One request's account and session."""

    request: Request
    session: SessionData
    user: User | None
    expired: bool = False

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "-"


Handler = Callable[[Context], Awaitable[Response]]


class Console:
    screen_pages: screens.ScreenPages | None = None  # the screen evaluators' pages, if any
    citizen: Citizen | None = None  # the hall's public pages (the city console has none)

    def __init__(self, config: HallConfig, hall: Hall, accounts: Accounts, db: Path | None, *,
                 idle_s: float = 30 * 60) -> None:
        self.config, self.hall, self.db = config, hall, db
        self.citizen = Citizen(config, hall, db)
        self._setup(accounts, idle_s, config.hall.name, config.hall.tz)
        self.screen_pages = screens.build(self, hall.hub_url, hall.device)

    def _setup(self, accounts: Accounts, idle_s: float, title: str, tz: tzinfo) -> None:
        """Accounts, sessions, throttles and templates: the same for every kind of console."""
        self.accounts, self.title, self.tz = accounts, title, tz
        self.sessions = Sessions(accounts.cookie_key, idle_s)
        self.by_address = Throttle(30, 300.0)
        self.by_account = Throttle(10, 300.0)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(["html"]))
        self.env.globals.update(ROLE_NAMES=ROLE_NAMES, strings=strings, mask=mask)
        self.env.filters["stamp"] = lambda value: _stamp(value, tz)

    # ------------------------------------------------------------------ plumbing

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            await self.hall.start()
            screens = self.screen_pages.screens if self.screen_pages else None
            parts = [part for part in (self.citizen, screens) if part is not None]
            for part in parts:
                await part.start()
            try:
                yield
            finally:
                for part in parts:
                    await part.stop()
                await self.hall.stop()

        app = Starlette(routes=self.routes(), lifespan=lifespan,
                        exception_handlers={404: self._not_found, 405: self._not_found})
        app.add_middleware(SecurityHeaders)
        return app

    def sign_in_routes(self) -> list[Route | Mount]:
        """Signing in and out, the accounts, the audit log and the styles: every console has them."""
        g = self._guard
        return [
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", g(None, self.logout), methods=["POST"]),
            Route("/users", g("manager", self.users_page)),
            Route("/users", g("manager", self.user_add), methods=["POST"]),
            Route("/users/{name:str}/{step:str}", g("manager", self.user_step), methods=["POST"]),
            Route("/audit", g("manager", self.audit_page)),
            Route("/audit.csv", g("manager", self.audit_export)),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    def routes(self) -> list[Route | Mount]:
        g = self._guard
        return [
            *self.sign_in_routes(),
            Route("/", g("viewer", self.live_page)),
            Route("/api/state", g("viewer", self.state)),
            Route("/events", g("viewer", self.events)),
            Route("/alerts", g("viewer", self.alerts_page)),
            Route("/alerts/{alert:int}/ack", g("supervisor", self.ack), methods=["POST"]),
            Route("/cases", g("viewer", self.cases_page)),
            Route("/cases/{case:int}", g("viewer", self.case_page)),
            Route("/cases/{case:int}/{step:str}", g("supervisor", self.case_step), methods=["POST"]),
            *appeals.routes(self),
            *staff.routes(self),
            *bookings.routes(self),
            *(self.screen_pages.routes() if self.screen_pages else []),
            Route("/reports", g("viewer", self.reports_page)),
            Route("/reports/download", g("viewer", self.report_download)),
            Route("/devices", g("viewer", self.devices_page)),
            Route("/control", g("viewer", self.control_page)),
            Route("/control/pause", g("manager", self.pause), methods=["POST"]),
            Route("/control/resume", g("manager", self.resume), methods=["POST"]),
            Route("/control/notice", g("manager", self.notice), methods=["POST"]),
            self.citizen.mount(),
        ]

    def _context(self, request: Request) -> Context:
        session, expired = self.sessions.load(request.cookies.get(COOKIE))
        user = None
        if session is not None and session.user:
            user = self._account(session)
            if user is None:
                session = None
        return Context(request, session or Sessions.new(), user, expired)

    def _account(self, session: SessionData) -> User | None:
        """The session's account while it may still sign in with that session (not disabled,
        the password unchanged since)."""
        user = self.accounts.get(session.user) if session.user else None
        return user if user and not user.disabled and user.pw_changed_at == session.pw_stamp else None

    def _guard(self, role: str | None, handler: Handler, *,
               max_body: int = MAX_BODY) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            ctx = self._context(request)
            if ctx.user is None:
                if request.url.path.startswith(("/api/", "/events")) or request.method == "POST":
                    return self._set_cookie(JSONResponse({"error": strings.SESSION_EXPIRED},
                                                         status_code=401), ctx)
                target = "/login?" + urlencode({"next": request.url.path,
                                                **({"expired": "1"} if ctx.expired else {})})
                return self._set_cookie(RedirectResponse(target, status_code=303), ctx)
            if request.method == "POST":
                refused = await self._check_post(ctx, max_body)
                if refused is not None:
                    return refused
            if role is not None and not ctx.user.may(role):
                self.accounts.audit(ctx.user.name, ctx.address, "forbidden", request.url.path,
                                    ok=False)
                return self._page(ctx, "error.html", {"message": strings.FORBIDDEN}, status=403)
            return self._set_cookie(await handler(ctx), ctx)
        return endpoint

    async def _check_post(self, ctx: Context, max_body: int = MAX_BODY) -> Response | None:
        length = ctx.request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:  # refused before it is read
            return self._page(ctx, "error.html", {"message": "提交的内容太长"}, status=413)
        body = await ctx.request.body()
        if len(body) > max_body:
            return self._page(ctx, "error.html", {"message": "提交的内容太长"}, status=413)
        form = await ctx.request.form()
        token = form.get(CSRF_FIELD) or ctx.request.headers.get(CSRF_HEADER)
        if not isinstance(token, str) or not self.sessions.csrf_ok(ctx.session, token):
            self.accounts.audit(ctx.user.name if ctx.user else "-", ctx.address, "csrf",
                                ctx.request.url.path, ok=False)
            return self._page(ctx, "error.html", {"message": strings.CSRF_FAILED}, status=403)
        return None

    def _set_cookie(self, response: Response, ctx: Context) -> Response:
        """Sign the session afresh: each request restarts its idle time."""
        response.set_cookie(COOKIE, self.sessions.dump(ctx.session), httponly=True,
                            samesite="strict", secure=ctx.request.url.scheme == "https", path="/")
        return response

    def _page(self, ctx: Context, template: str, values: dict[str, Any], status: int = 200) -> Response:
        html = self.env.get_template(template).render(
            user=ctx.user, csrf=self.sessions.csrf_token(ctx.session), hall=self.title,
            path=ctx.request.url.path, msg=ctx.request.query_params.get("msg", "")[:200],
            error=values.pop("error", "") or ctx.request.query_params.get("err", "")[:200], **values)
        return self._set_cookie(HTMLResponse(html, status_code=status), ctx)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        path = request.url.path
        if self.citizen is not None and (path == PREFIX or path.startswith(PREFIX + "/")):
            return await self.citizen.not_found(request)  # a phone, never the console's page
        return self._page(self._context(request), "error.html", {"message": strings.NOT_FOUND},
                          status=404)

    def _today(self) -> date:
        day = (self.hall.snapshot or {}).get("day")
        return date.fromisoformat(day) if day else datetime.now(self.config.hall.tz).date()

    def _done(self, path: str, message: str = strings.DONE, ok: bool = True) -> Response:
        """Back to the page, with what happened (a refusal shows as an error)."""
        return RedirectResponse(f"{path}?{'msg' if ok else 'err'}={quote(message)}", status_code=303)

    async def _form(self, ctx: Context, *names: str, required: tuple[str, ...] = ()) -> dict[str, str]:
        """The named text fields, trimmed and checked; raises FormError."""
        form = await ctx.request.form()
        out = {}
        for name in names:
            value = form.get(name, "")
            value = value.strip() if isinstance(value, str) else ""
            limit = TEXT_LIMITS.get(name, 200)
            if len(value) > limit:
                raise FormError(strings.TOO_LONG.format(field=FIELD_NAMES.get(name, name), limit=limit))
            if name in required and not value:
                raise FormError(strings.REQUIRED.format(field=FIELD_NAMES.get(name, name)))
            out[name] = value
        return out

    async def _act(self, ctx: Context, back: str, action: str, target: str, detail: str,
                   command: str, **args: Any) -> Response:
        """Send one command for the account, audit it, and go back to the page."""
        reply = await self.hall.request(command, **args)
        ok = bool(reply.get("ok"))
        message = strings.DONE if ok else reply["error"]["message"]
        self.accounts.audit(ctx.user.name, ctx.address, action, target,
                            detail if ok else f"{detail} 失败：{message}".strip(), ok)
        if ok:
            await self.hall.refresh()
        return self._done(back, message, ok)

    # ------------------------------------------------------------------ login

    async def login_page(self, request: Request) -> Response:
        ctx = self._context(request)
        if ctx.user is not None:
            return RedirectResponse("/", status_code=303)
        error = strings.SESSION_EXPIRED if request.query_params.get("expired") else ""
        return self._page(ctx, "login.html", {"error": error, "next": _safe_next(request)})

    async def login(self, request: Request) -> Response:
        ctx = self._context(request)
        refused = await self._check_post(ctx)
        if refused is not None:
            return refused
        form = await request.form()
        name = str(form.get("name", "")).strip()[:64]
        password = str(form.get("password", ""))[:512]
        target = _safe_next(request, str(form.get("next", "/")))
        if not (self.by_address.allow(ctx.address) and self.by_account.allow(name.lower())):
            self.accounts.audit(name or "-", ctx.address, "login_failed", name, "throttled", ok=False)
            return self._page(ctx, "login.html", {"error": strings.LOGIN_THROTTLED, "next": target,
                                                  "name": name}, status=429)
        user, why = await asyncio.to_thread(self.accounts.authenticate, name, password)
        if user is None:
            self.accounts.audit(name or "-", ctx.address, "login_failed", name, why, ok=False)
            message = {"locked": strings.LOGIN_LOCKED, "disabled": strings.LOGIN_DISABLED}.get(
                why, strings.LOGIN_BAD)
            return self._page(ctx, "login.html", {"error": message, "next": target, "name": name},
                              status=403)
        self.accounts.audit(user.name, ctx.address, "login", user.name)
        ctx.session = Sessions.new(user.name, user.pw_changed_at)  # a new id: no fixation
        return self._set_cookie(RedirectResponse(target, status_code=303), ctx)

    async def logout(self, ctx: Context) -> Response:
        if ctx.user:
            self.accounts.audit(ctx.user.name, ctx.address, "logout", ctx.user.name)
        ctx.session = Sessions.new()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ live

    async def live_page(self, ctx: Context) -> Response:
        return self._page(ctx, "live.html", {})

    async def state(self, ctx: Context) -> Response:
        return JSONResponse(self.hall.view())

    async def events(self, ctx: Context) -> Response:
        """Server-Sent Events: the whole view each time it changes."""
        queue = self.hall.subscribe()
        request = ctx.request

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                yield _sse(self.hall.view_text())
                while not await request.is_disconnected():
                    try:
                        text = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        if self._account(ctx.session) is None:  # disabled, new password
                            return
                        yield ": keepalive\n\n"
                        continue
                    yield _sse(text)
            finally:
                self.hall.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    # ------------------------------------------------------------------ alerts

    async def alerts_page(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        values: dict[str, Any] = {"open": self.hall.view()["alerts"], "history": [],
                                  "kinds": strings.ALERT_KINDS, "f": {}}
        try:
            kind, state = q.get("kind", ""), q.get("state", "")
            f = records.AlertFilter(kind=kind if kind in strings.ALERT_KINDS else "",
                                    state=state if state in ("open", "acknowledged") else "",
                                    first=_date(q.get("from")), last=_date(q.get("to")))
            values["f"] = f
            if self.db is not None:
                values["history"] = await asyncio.to_thread(records.alert_history, self.db, f)
        except ValueError:
            values["error"] = strings.BAD_DATE
        return self._page(ctx, "alerts.html", values)

    async def ack(self, ctx: Context) -> Response:
        alert = int(ctx.request.path_params["alert"])
        if alert > MAX_ID:
            return self._page(ctx, "error.html", {"message": "没有这条告警"}, status=404)
        try:
            form = await self._form(ctx, "note")
        except FormError as e:
            return self._done("/alerts", str(e), ok=False)
        by = f"{ctx.user.name}（{form['note']}）" if form["note"] else ctx.user.name
        return await self._act(ctx, "/alerts", "ack_alert", f"告警 #{alert}", form["note"],
                               "ack_alert", alert=alert, by=by)

    # ------------------------------------------------------------------ cases

    async def cases_page(self, ctx: Context) -> Response:
        state = ctx.request.query_params.get("state", "")
        state = state if state in strings.CASE_STATES else ""
        rows = await self._read(records.cases, self._today(), state)
        return self._page(ctx, "cases.html", {"cases": rows or [], "state": state,
                                              "no_db": rows is None})

    async def case_page(self, ctx: Context) -> Response:
        case = int(ctx.request.path_params["case"])
        found = await self._read(records.case, case, self._today()) if case <= MAX_ID else None
        if not found:
            return self._page(ctx, "error.html", {"message": "没有这条回访记录"}, status=404)
        return self._page(ctx, "case.html", {"case": found, "whole": ctx.user.may("supervisor")})

    async def case_step(self, ctx: Context) -> Response:
        case, step = int(ctx.request.path_params["case"]), ctx.request.path_params["step"]
        fields = {"callback": ("note",), "rectify": ("cause", "fix"), "close": ("outcome",)}.get(step)
        back = f"/cases/{case}"
        if fields is None or case > MAX_ID:
            return self._page(ctx, "error.html", {"message": strings.NOT_FOUND}, status=404)
        try:
            form = await self._form(ctx, *fields, required=fields)
        except FormError as e:
            return self._done(back, str(e), ok=False)
        # the audit keeps the step, not the notes: they may hold a citizen's name or phone
        return await self._act(ctx, back, f"case_{step}", f"回访 #{case}", "",
                               f"case_{step}", case=case, by=ctx.user.name, **form)

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.db is None:
            return None
        try:
            return await asyncio.to_thread(fn, self.db, *args)
        except StatsError:
            return None

    # ------------------------------------------------------------------ reports

    async def reports_page(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        values: dict[str, Any] = {"ranges": reports.RANGES, "range": q.get("range", "today"),
                                  "first": q.get("from", ""), "last": q.get("to", ""),
                                  "downloads": reports.DOWNLOADS}
        if self.db is None:
            values["error"] = strings.NO_DB
            return self._page(ctx, "reports.html", values)
        try:
            p = reports.period(values["range"], self._today(), values["first"], values["last"])
            result = await asyncio.to_thread(reports.compute, self.db, p, self.config)
        except (reports.PeriodError, StatsError) as e:
            values["error"] = str(e)
            return self._page(ctx, "reports.html", values)
        values.update(period=p, summary=reports.summary(result), tables=reports.tables(result),
                      query=urlencode({"range": p.name, "from": p.first, "to": p.last}))
        return self._page(ctx, "reports.html", values)

    async def report_download(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        kind = q.get("format", "")
        if self.db is None or kind not in reports.DOWNLOADS:
            return self._page(ctx, "error.html", {"message": strings.NO_DB if self.db is None
                                                  else "未知的下载格式"}, status=400)
        try:
            p = reports.period(q.get("range", "today"), self._today(), q.get("from", ""),
                               q.get("to", ""))
            data, media, name = await asyncio.to_thread(reports.download, self.db, p, self.config, kind)
        except (reports.PeriodError, StatsError) as e:
            return self._page(ctx, "error.html", {"message": str(e)}, status=400)
        self.accounts.audit(ctx.user.name, ctx.address, "export", name)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    # ------------------------------------------------------------------ devices, control

    async def devices_page(self, ctx: Context) -> Response:
        return self._page(ctx, "devices.html", {"devices": [
            (d, strings.ROLE_DEVICES.get(d.role, d.role)) for d in self.config.devices.values()
            if d.id != self.hall.device]})

    async def control_page(self, ctx: Context) -> Response:
        return self._page(ctx, "control.html", {"view": self.hall.view()})

    async def _window_form(self, ctx: Context, *names: str) -> tuple[str, dict[str, str]]:
        form = await self._form(ctx, "window", *names)
        if form["window"] not in self.config.windows:
            raise FormError("没有这个窗口")
        return self.config.windows[form["window"]].name, form

    async def pause(self, ctx: Context) -> Response:
        try:
            name, form = await self._window_form(ctx, "reason")
        except FormError as e:
            return self._done("/control", str(e), ok=False)
        return await self._act(ctx, "/control", "pause", name, form["reason"], "pause",
                               window=form["window"], reason=form["reason"])

    async def resume(self, ctx: Context) -> Response:
        try:
            name, form = await self._window_form(ctx)
        except FormError as e:
            return self._done("/control", str(e), ok=False)
        return await self._act(ctx, "/control", "resume", name, "", "resume", window=form["window"])

    async def notice(self, ctx: Context) -> Response:
        try:
            form = await self._form(ctx, "text")
        except FormError as e:
            return self._done("/control", str(e), ok=False)
        return await self._act(ctx, "/control", "set_notice", "公告", form["text"], "set_notice",
                               text=form["text"])

    # ------------------------------------------------------------------ accounts, audit

    async def users_page(self, ctx: Context) -> Response:
        return self._page(ctx, "users.html", {"users": self.accounts.list(), "roles": ROLES,
                                              "now": time.time()})

    async def user_add(self, ctx: Context) -> Response:
        form = await ctx.request.form()
        name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
        try:
            await asyncio.to_thread(self.accounts.add, name, role, str(form.get("password", "")))
        except AccountError as e:
            return self._done("/users", str(e), ok=False)
        self.accounts.audit(ctx.user.name, ctx.address, "user_add", name, ROLE_NAMES[role])
        return self._done("/users")

    async def user_step(self, ctx: Context) -> Response:
        name, step = ctx.request.path_params["name"], ctx.request.path_params["step"]
        form = await ctx.request.form()
        try:
            if step in ("disable", "enable"):
                if name == ctx.user.name:
                    raise AccountError("不能停用自己的账户")
                self.accounts.set_disabled(name, step == "disable")
            elif step == "passwd":
                await asyncio.to_thread(self.accounts.set_password, name, str(form.get("password", "")))
            else:
                return self._page(ctx, "error.html", {"message": strings.NOT_FOUND}, status=404)
        except AccountError as e:
            return self._done("/users", str(e), ok=False)
        self.accounts.audit(ctx.user.name, ctx.address, f"user_{step}", name)
        return self._done("/users")

    async def audit_page(self, ctx: Context) -> Response:
        q = ctx.request.query_params
        user, action = q.get("user", "")[:64], q.get("action", "")
        action = action if action in strings.ACTIONS else ""
        return self._page(ctx, "audit.html", {"entries": self.accounts.audit_log(500, user, action),
                                              "f_user": user, "f_action": action})

    async def audit_export(self, ctx: Context) -> Response:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["编号", "时间", "账户", "地址", "操作", "对象", "说明", "结果"])
        for e in self.accounts.audit_log(None):
            writer.writerow([e.id, _stamp(e.at, self.tz), e.user, e.address,
                             strings.ACTIONS.get(e.action, e.action), e.target, e.detail,
                             "成功" if e.ok else "未执行"])
        self.accounts.audit(ctx.user.name, ctx.address, "audit_export", "审计日志")
        return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename*=UTF-8''"
                                 + quote("审计日志.csv")})


class FormError(ValueError):
    """A form field the console refuses; the message is for the person who sent it."""


def _sse(text: str) -> str:
    return f"event: state\ndata: {text}\n\n"


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _stamp(value: float | str | None, tz: tzinfo) -> str:
    """A stored time as the hall reads it: unix seconds or ISO text, to the second."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value.replace("T", " ")[:19]
    return datetime.fromtimestamp(value, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _safe_next(request: Request, target: str | None = None) -> str:
    """Only a path on this site (no //host, no scheme) may follow the login."""
    target = target if target is not None else request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:200]
