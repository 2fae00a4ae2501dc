"""The live ticket pages: find a ticket by its page code, draw what its holder sees, and
push each change to the open pages.

`hallq web` is one hub client. After each burst of hub events the board asks the hub once
for `queue_status` (every live ticket's place and estimated wait) — only while a page is
open — and sends each open page its ticket's view when it changed. A page that opens uses
the list in hand if no event came since it was asked for; pages opening together share one
request. A ticket that left the live list (finished, no-show, cancelled) is read once from
the hall database, which the hub has written before it told anyone. A thousand open pages
cost the hub one request per burst and the server one small JSON text per ticket that
changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caller.core.config import HallConfig
from caller.core.i18n import Translator, translator
from caller.core.ticketcode import looks_like_code
from caller.manager.stats import StatsError, open_readonly

log = logging.getLogger("hallq.web.citizen")

QUEUE_MAX = 4  # views kept for a slow phone: it skips to the newest


@dataclass(frozen=True)
class Found:
    """A ticket found by its code: what never changes, and its state when it was read."""

    id: int
    code: str
    number: str
    service: str
    day: str
    lang: str
    stored: dict[str, Any]  # the row's changing part, for a ticket no longer live


def read_ticket(db: Path, *, code: str | None = None, ticket_id: int | None = None) -> Found | None:
    """The ticket with this page code (or id), from the hall database; None if none."""
    try:
        conn = open_readonly(db)
    except StatsError:
        return None
    try:
        where, value = ("code = ?", code) if code is not None else ("id = ?", ticket_id)
        row = conn.execute("SELECT id, code, number, service, day, lang, state, window, transfers, "
                           f"requeues FROM tickets WHERE {where}", (value,)).fetchone()
    except sqlite3.Error as e:  # an older database without codes, a locked file
        log.warning("ticket lookup failed", extra={"fields": {"error": str(e)}})
        return None
    finally:
        conn.close()
    if row is None:
        return None
    tid, code, number, service, day, lang, state, window, transfers, requeues = row
    return Found(tid, code or "", number, service, day, lang or "zh",
                 {"state": state, "window": window, "transfers": transfers or 0,
                  "requeues": requeues or 0})


@dataclass(eq=False)
class Page:
    """One open ticket page: the views on their way to it, and the newest it was given."""

    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_MAX))
    given: str = ""

    def give(self, text: str) -> None:
        if text == self.given:
            return
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(text)
        self.given = text

    def poke(self) -> None:
        """A keepalive (an empty text) for a page with nothing on its way."""
        if self.queue.empty():
            self.queue.put_nowait("")

    def begin(self, text: str) -> None:
        """Its first view, sent apart: whatever was queued before is no newer."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.given = text


class Board:
    """The live tickets of the day as the citizen pages show them."""

    def __init__(self, config: HallConfig, db: Path | None,
                 request: Callable[[], Any], day: Callable[[], str | None],
                 news: Callable[[], int]) -> None:
        self.config, self.db = config, db
        self._request = request  # the hub's queue_status, as a coroutine
        self._day = day
        self._news = news  # a count that moves with every hub event (web.live.Hall.news)
        self.live: dict[int, dict] = {}  # ticket id -> its queue_status entry
        self._live_at: int | None = None  # the news count when `live` was asked for
        self._asking: tuple[int, asyncio.Future[bool]] | None = None
        self._ended: dict[int, dict] = {}  # ticket id -> its stored state, once it left
        self._pushed_at: int | None = None  # `_live_at` of the list last pushed
        self._pages: dict[int, set[Page]] = {}
        self._found: dict[int, Found] = {}
        self._drawn: dict[int, tuple[tuple, str]] = {}  # ticket id -> (what it was drawn from, text)

    # ------------------------------------------------------------------ finding

    async def find(self, code: str) -> Found | None:
        """The ticket behind a page code, as stored now (one indexed read)."""
        if not looks_like_code(code) or self.db is None:
            return None
        return await asyncio.to_thread(read_ticket, self.db, code=code)

    def expired(self, found: Found) -> bool:
        """A ticket of another day: its page is over."""
        today = self._day()
        return today is not None and found.day != today

    # ------------------------------------------------------------------ pages

    def open(self, found: Found) -> Page:
        """A page that gets the ticket's view at every change from now on."""
        page = Page()
        self._pages.setdefault(found.id, set()).add(page)
        self._found[found.id] = found
        return page

    def close(self, found: Found, page: Page) -> None:
        pages = self._pages.get(found.id)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self._pages[found.id]
                self._found.pop(found.id, None)
                self._ended.pop(found.id, None)
                self._drawn.pop(found.id, None)

    def keepalive(self) -> None:
        for pages in self._pages.values():
            for page in pages:
                page.poke()

    @property
    def open_pages(self) -> int:
        return sum(len(p) for p in self._pages.values())

    async def refresh(self) -> None:
        """After hub events: the live tickets anew (while any page is open), the changes pushed."""
        if self._pages and await self._fetch() and self._pushed_at != self._live_at:
            self._pushed_at = self._live_at
            self.push()

    def push(self) -> None:
        """Each open page its ticket's view; a ticket is drawn again only when what its view
        is drawn from changed (a call in one queue leaves the other queues' pages alone)."""
        for tid, pages in self._pages.items():
            found = self._found[tid]
            source = (self.expired(found), self.live.get(tid), self._ended.get(tid))
            drawn = self._drawn.get(tid)
            if drawn is None or drawn[0] != source:
                drawn = self._drawn[tid] = (source, view_text(self.view(found)))
            for page in pages:
                page.give(drawn[1])

    async def _fetch(self) -> bool:
        """The live list as of the hub's latest event. Nothing is asked while the list in
        hand is that recent, and callers at the same moment (a thousand phones opening their
        pages) share one request."""
        news = self._news()
        if self._live_at == news:
            return True
        if self._asking is None or self._asking[0] != news or self._asking[1].done():  # failed
            self._asking = (news, asyncio.ensure_future(self._ask(news)))
        return await asyncio.shield(self._asking[1])

    async def _ask(self, news: int) -> bool:
        try:
            reply = await self._request()
        except TimeoutError:
            return False
        if not reply.get("ok"):
            return False
        live = {t["id"]: t for t in reply["tickets"]}
        # a ticket that left the live list while its page is open: its end, as stored
        gone = [tid for tid in self._pages if tid in self.live and tid not in live]
        for tid in gone:
            found = (await asyncio.to_thread(read_ticket, self.db, ticket_id=tid)
                     if self.db is not None else None)
            if found is not None:
                self._ended[tid] = found.stored
        if self._live_at is not None and news < self._live_at:
            return True  # a newer answer came first
        self.live, self._live_at = live, news
        return True

    async def current(self, found: Found) -> dict[str, Any]:
        """The view now, the live list fetched first unless it is up to date."""
        await self._fetch()
        return self.view(found)

    # ------------------------------------------------------------------ the view

    def view(self, found: Found) -> dict[str, Any]:
        """What the holder's page shows, its sentences in the ticket's language."""
        t = words(found.lang)
        live = self.live.get(found.id)
        if self.expired(found):
            state, entry = "expired", {}
        elif live is not None:
            state, entry = live["state"], live
        else:
            entry = self._ended.get(found.id) or found.stored
            state = entry["state"]
        service = self.config.services.get(found.service)
        service_name = service.name if service else found.service
        window = (self.config.windows.get(entry.get("window") or "") if entry else None)
        window_name = window.name if window else ""
        ahead = entry.get("ahead") if state == "waiting" else None
        wait_min = entry.get("wait_min") if state == "waiting" else None
        near_at = self.config.web.notify_ahead
        view: dict[str, Any] = {
            "state": state, "number": found.number, "service": service_name,
            "ahead": ahead, "wait_min": wait_min,
            "near": state == "waiting" and ahead is not None and ahead < near_at,
            "window": window_name,
            "headline": headline(t, state, window_name),
            "ahead_text": (t("ahead", n=ahead) if ahead else t("ahead_none"))
            if ahead is not None else "",
            "wait_text": t("wait", n=wait_min) if wait_min else "",
            "notes": notes(t, entry, state),
            "rating_url": self.config.web.rating_url.format(code=found.code)
            if state == "done" and self.config.web.rating_url else "",
        }
        return view


def view_text(view: dict[str, Any]) -> str:
    """A view as an event stream sends it."""
    return json.dumps(view, ensure_ascii=False, separators=(",", ":"))


def words(lang: str) -> Translator:
    return translator(lang if lang in ("zh", "en") else "zh", "citizen.ticket")


def headline(t: Translator, state: str, window_name: str) -> str:
    if state == "called":
        return t("called", window=window_name)
    return t(f"state.{state}") if t.get(f"state.{state}") else t("state.unknown")


def notes(t: Translator, entry: dict, state: str) -> list[str]:
    """Transfers, passes and re-queues, holds and recalls, said as such."""
    out = []
    if state == "waiting" and entry.get("transfers"):
        target = entry.get("target_name")
        out.append(t("transferred_window", window=target) if target else t("transferred"))
    if state == "waiting" and entry.get("requeues"):
        out.append(t("requeued"))
    if state == "held" and entry.get("window_name"):
        out.append(t("held_at", window=entry["window_name"]))
    if state == "called" and entry.get("recalls"):
        out.append(t("recalled", n=entry["recalls"] + 1))
    return out
