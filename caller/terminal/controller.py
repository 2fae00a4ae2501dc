"""The terminal's logic between the hub client and the screen, without any Kivy.

`Terminal` turns the clerk's actions into hub requests for the chosen window, keeps the
`WindowModel` current from the client's callbacks, and says what happened in one
message line (the hub's own Chinese sentence for every refusal). The screen calls
`act()` and redraws when `on_change` fires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from caller.core.config import HallConfig
from caller.core.i18n import Translator
from caller.terminal.model import WindowModel

# Actions that go straight to the hub; the others open a chooser first.
DIRECT = {"call_next": "call_next", "recall": "recall", "skip": "skip", "hold": "hold",
          "start": "start", "finish": "finish", "request_rating": "request_rating"}
MAX_REFRESH_TRIES = 5


class Requester(Protocol):
    def request(self, kind: str, callback: Callable[[dict], None] | None = None,
                **args: Any) -> Any: ...


class Terminal:
    def __init__(self, config: HallConfig, device: str, window: str, strings: Translator,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.config = config
        self.device = device
        self.strings = strings
        self.model = WindowModel(config, window)
        self.on_change = on_change
        self.client: Requester | None = None
        self.message = strings("connecting")
        self.message_kind = "info"  # "info" | "ok" | "error"
        self.in_flight = 0
        self._last_snapshot: dict | None = None

    @property
    def windows(self) -> list[str]:
        return list(self.config.devices[self.device].windows)

    def enabled(self, action: str) -> bool:
        return self.in_flight == 0 and self.model.enabled(action)

    def rating_text(self) -> str:
        """The last rating at this window, in words: 评价：A002 满意."""
        r, s = self.model.rating, self.strings
        if r is None:
            return s("rating_none")
        if r.status == "pending":
            value = s("rating_pending")
        elif r.status == "rated":
            value = s.get(f"level.{r.level}", r.level or "")
        elif r.level:
            value = s("rating_default", level=s.get(f"level.{r.level}", r.level))
        else:
            value = s("rating_not_rated")
        return s("rating", text=f"{r.number} {value}".strip())

    # ------------------------------------------------------------------ hub callbacks

    def on_welcome(self, welcome: dict) -> None:
        self._last_snapshot = welcome["snapshot"]
        self.model.load_snapshot(welcome["snapshot"], welcome["seq"])
        self.model.connected = True
        self._say("ready", "ok", window=self.model.name)

    def on_event(self, event: dict) -> None:
        if self.model.apply(event):
            self.on_change()
        if self.model.needs_snapshot:
            self.refresh()

    def on_connection(self, connected: bool) -> None:
        self.model.connected = connected
        if not connected:
            self.in_flight = 0  # the client resends what is pending; the screen waits for the hub
            self._say("disconnected", "error")
        else:
            self.on_change()

    def on_refused(self) -> None:
        """The hub will never take this device (wrong token, unknown id): say so and stop."""
        self._say("refused", "error", device=self.device)

    # ------------------------------------------------------------------ the clerk

    def select_window(self, window: str) -> None:
        """Show and work another of this device's windows."""
        if window == self.model.window or window not in self.windows:
            return
        connected, seq = self.model.connected, self.model.seq
        self.model = WindowModel(self.config, window, connected=connected, seq=seq)
        if self._last_snapshot is not None:
            self.model.load_snapshot(self._last_snapshot)
        self._say("ready", "ok", window=self.model.name)
        self.refresh()

    def refresh(self, tries: int = 0) -> None:
        """Reload the window from a fresh snapshot, unless events overtook the reply."""
        if self.client is None or tries >= MAX_REFRESH_TRIES:
            return
        self.model.needs_snapshot = False
        window, seq = self.model.window, self.model.seq

        def done(reply: dict) -> None:
            if not reply.get("ok") or window != self.model.window:
                return
            self._last_snapshot = reply["snapshot"]
            if self.model.seq != seq:
                self.refresh(tries + 1)
                return
            self.model.load_snapshot(reply["snapshot"])
            self.on_change()

        self.client.request("snapshot", done)

    def act(self, action: str, **args: Any) -> bool:
        """Send one action for the window; False (and nothing sent) when it is not allowed now."""
        kind = self._command(action, args)
        if kind is None or self.client is None or not self.enabled(action):
            return False
        self.in_flight += 1
        self.client.request(kind, lambda reply: self._on_reply(kind, args, reply),
                            window=self.model.window, **args)
        self.on_change()
        return True

    def _command(self, action: str, args: dict) -> str | None:
        if action in DIRECT:
            return DIRECT[action]
        if action == "login":
            return "login" if "staff" in args else ("logout" if self.model.staff else None)
        if action == "pause":
            return "resume" if self.model.paused else ("pause" if "reason" in args else None)
        if action == "transfer" and ("to_service" in args or "to_window" in args):
            return "transfer"
        if action == "call_held" and "ticket" in args:
            return "call_held"
        if action == "call_number" and "number" in args:
            return "call_next"
        return None

    def _on_reply(self, kind: str, args: dict, reply: dict) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        if not reply.get("ok"):
            error = reply.get("error") or {}
            self.message, self.message_kind = error.get("message") or str(error), "error"
            self.on_change()
            return
        ticket = reply.get("ticket") or {}
        number, service = ticket.get("number", ""), ticket.get("service_name", "")
        if kind in ("call_next", "call_held"):
            self._say("did_call", "ok", number=number, service=service)
        elif kind == "recall":
            self._say("did_recall", "ok", number=number, recalls=reply.get("recalls", 0))
        elif kind == "skip":
            self._say("did_skip_requeue" if reply.get("requeued") else "did_skip", "ok",
                      number=number)
        elif kind == "transfer":
            self._say("did_transfer", "ok", number=number, target=self._target_name(args))
        elif kind == "pause":
            self._say("did_pause", "ok", reason=args.get("reason") or "-")
        elif kind in ("login", "logout", "resume"):
            self._say(f"did_{kind}", "ok", staff=args.get("staff", ""))
        else:
            self._say(f"did_{kind}", "ok", number=number)

    def _target_name(self, args: dict) -> str:
        if "to_service" in args:
            return self.config.services[args["to_service"]].name
        return self.config.windows[args["to_window"]].name

    def _say(self, key: str, kind: str, **values: object) -> None:
        self.message, self.message_kind = self.strings(key, **values), kind
        self.on_change()
