"""`hallq ship`: copy a hub's event log to the central PostgreSQL, batch by batch.

The loop reads the centre's position for the hall, reads the next batch from the hub's
SQLite file (read-only) and commits it with the new position (`centre.Centre.write`). A
full batch is followed at once by the next (catch-up at full speed); an empty one by a
short poll. When the centre is down or the network cut, the shipper backs off (doubling,
up to BACKOFF_S[1]) and logs it; the hub is never waited on and never waits. Beside the
loop, a websocket link to the hub reports the position as the `shipped` command of role
`shipper`, so the hub's prune keeps every event not yet shipped (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import stat
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg

from caller.central.centre import Centre, Encoded, HallIdentity, PositionMoved, encode
from caller.central.hall_log import HallLog, HallLogError
from caller.core.client import HubClient, HubUnavailable
from caller.core.config import ConfigError, HallConfig

log = logging.getLogger("hallq.ship")

BACKOFF_S = (0.5, 30.0)
POLL_S = 0.2  # caught up: look for new events this often
REPORT_S = 1.0  # tell the hub the position at most this often
HEARTBEAT_S = 30.0  # a quiet hall still marks `halls.last_seen`
BEHIND_RETRY_S = 30.0


class HallBehindCentre(HallLogError):
    """The hub's log ends before the centre's position: the hall was restored from an
    older backup, or this is another hall's database."""


def read_dsn(config: HallConfig) -> str:
    """The connection string from `[central] dsn_file` (relative to the config's folder),
    refused unless only its owner may read it."""
    central = config.central
    if central is None:
        raise ConfigError(config.path, ["central: missing; expected a [central] table with "
                                        "dsn_file (docs/central.md)"])
    path = Path(central.dsn_file)
    if not path.is_absolute():
        path = Path(config.path).parent / path
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(config.path, [f"central.dsn_file: cannot read {path}: {e.strerror}"]) from e
    if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(config.path, [
            f"central.dsn_file: {path} may be read by others (mode {stat.S_IMODE(mode):o}); "
            f"it holds the centre's password: expected mode 600 (chmod 600 {path})"])
    if not text:
        raise ConfigError(config.path, [f"central.dsn_file: {path} is empty; expected a "
                                        "PostgreSQL connection string"])
    return text


def config_version(config: HallConfig) -> str:
    """The first 12 hex digits of the SHA-256 of the config file."""
    return hashlib.sha256(Path(config.path).read_bytes()).hexdigest()[:12]


def record_settings(config: HallConfig) -> dict:
    """What the hall's rating record (caller/manager/record.py) reads of its config, for
    the centre's record of a region to read the same."""
    policy = config.rating
    return {"channel_name": policy.channel_name, "channel_code": policy.channel_code,
            "code_order": policy.code_order,
            "services": {s.id: [s.item_code, s.item_name or s.name] for s in config.services.values()},
            "windows": {w.id: w.name for w in config.windows.values()}}


def identity(config: HallConfig) -> HallIdentity:
    h = config.hall
    return HallIdentity(hall_id=h.id, name=h.name, region_code=h.region_code, level=h.level,
                        timezone=h.timezone, config_version=config_version(config),
                        record=json.dumps(record_settings(config), ensure_ascii=False))


class Shipper:
    """Ships one hall. `run()` until `stop` is set; `position` is the centre's (None until
    read from it, and again after it moved under us)."""

    def __init__(self, config: HallConfig, db_path: str | Path, dsn: str, *,
                 hub_url: str | None = None, batch_size: int | None = None) -> None:
        central = config.central
        if central is None:
            raise ConfigError(config.path, ["central: missing; expected a [central] table"])
        self.config = config
        self.db_path = Path(db_path)
        self.dsn = dsn
        self.hub_url = hub_url
        self.batch_size = batch_size or central.batch_size
        self.hall = identity(config)
        self.position: int | None = None
        self.shipped_events = 0  # by this process
        self._log: HallLog | None = None
        self._centre: Centre | None = None
        self._heartbeat = 0.0
        self._gap_logged = False
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="ship-read")
        self._ahead: tuple[int, Future[Encoded]] | None = None  # (its `after`, the read)

    # ------------------------------------------------------------------ one step

    def step(self) -> int:
        """Ship the next batch; return how many events it held (0: nothing new).
        Raises psycopg.Error (centre down), HallLogError (the hub's file), PositionMoved."""
        ahead = self._take_ahead()
        if self._log is None:
            self._log = HallLog(self.db_path, self.config.central.personal_data)
        if self._centre is None:
            self._centre = Centre(self.dsn, self.hall)
            self.position = None
        if self.position is None:
            self.position = self._centre.position()
            log.info("shipping from the centre's position", extra={"fields": {
                "hall": self.hall.hall_id, "position": self.position}})
        last = self._log.last_seq()
        if last < self.position:
            raise HallBehindCentre(
                f"the hub's log ends at seq {last} but the centre holds hall {self.hall.hall_id} "
                f"up to seq {self.position}: was the hall restored from an older backup, or is "
                f"{self.db_path} another hall's database? Nothing is shipped until this is resolved "
                "(docs/central.md, \"Restoring a hall\")")
        batch = self._next_batch(ahead)
        if not batch.count:
            if time.monotonic() - self._heartbeat > HEARTBEAT_S:
                self._centre.heartbeat()
                self._heartbeat = time.monotonic()
            return 0
        if batch.first != self.position + 1 and not self._gap_logged:
            self._gap_logged = True
            log.warning("events were pruned before they were shipped", extra={"fields": {
                "missing_from": self.position + 1, "missing_to": batch.first - 1}})
        self._centre.write(batch)
        self._heartbeat = time.monotonic()
        self.position = batch.upto
        self.shipped_events += batch.count
        return batch.count

    def _take_ahead(self) -> tuple[int, Encoded] | None:
        """The batch read ahead while the last one was written, once its read is done (the
        hub's file is read by one thread at a time)."""
        ahead, self._ahead = self._ahead, None
        return (ahead[0], ahead[1].result()) if ahead is not None else None

    def _read(self, after: int) -> Encoded:
        """The batch after `after`, read from the hub's file and encoded for the centre."""
        return encode(self._log.read(after, self.batch_size), self.hall)

    def _next_batch(self, ahead: tuple[int, Encoded] | None) -> Encoded:
        """The batch after the position: the one read ahead if it starts there. A full batch
        means a backlog: the next is read and encoded in a thread while this one goes to
        the centre."""
        batch = ahead[1] if ahead is not None and ahead[0] == self.position else self._read(self.position)
        if batch.count == self.batch_size:
            self._ahead = (batch.upto, self._reader.submit(self._read, batch.upto))
        return batch

    def _drop_centre(self) -> None:
        if self._centre is not None:
            with contextlib.suppress(Exception):
                self._centre.close()
        self._centre = None

    def close(self) -> None:
        self._drop_centre()
        with contextlib.suppress(Exception):  # a read ahead that failed is of no use now
            self._take_ahead()
        self._reader.shutdown()
        if self._log is not None:
            self._log.close()
            self._log = None

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Ship until `stop` is set; never raises for the centre or the hub being away."""
        link = asyncio.create_task(self._report(stop), name="ship-report") if self.hub_url else None
        delay = BACKOFF_S[0]
        try:
            while not stop.is_set():
                try:
                    shipped = await asyncio.to_thread(self.step)
                except psycopg.Error as e:
                    log.warning("centre unavailable; retrying", extra={"fields": {
                        "error": _one_line(e), "retry_in_s": delay}})
                    await asyncio.to_thread(self._drop_centre)
                    await _wait(stop, delay)
                    delay = min(delay * 2, BACKOFF_S[1])
                    continue
                except PositionMoved as e:
                    log.warning("position moved at the centre; reading it again",
                                extra={"fields": {"error": str(e)}})
                    self.position = None
                    continue
                except (HallLogError, sqlite3.Error) as e:
                    log.error("cannot read the hub's log; retrying", extra={"fields": {
                        "error": _one_line(e), "retry_in_s": BEHIND_RETRY_S}})
                    with contextlib.suppress(Exception):
                        self._take_ahead()
                    if self._log is not None:
                        self._log.close()
                        self._log = None
                    await _wait(stop, BEHIND_RETRY_S)
                    continue
                delay = BACKOFF_S[0]
                if shipped < self.batch_size:
                    await _wait(stop, POLL_S)
        finally:
            if link is not None:
                link.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await link
            await asyncio.to_thread(self.close)

    async def _report(self, stop: asyncio.Event) -> None:
        """Tell the hub the centre's position whenever it moved (and after each reconnect)."""
        central = self.config.central
        device = self.config.devices[central.device]
        client = HubClient(self.hub_url, device.id, device.token)
        drain = None
        reported: int | None = None
        try:
            await client.start(wait=False)
            drain = asyncio.create_task(_discard(client))
            while not stop.is_set():
                if not client.connected:
                    reported = None
                    if client.fatal is not None:
                        log.error("the hub refused the shipper", extra={"fields": {
                            "device": device.id, "error": str(client.fatal)}})
                        return
                elif self.position is not None and self.position != reported:
                    with contextlib.suppress(TimeoutError, HubUnavailable):
                        reply = await client.request("shipped", seq=self.position, timeout=5)
                        if reply.get("ok"):
                            reported = reply["seq"]
                await _wait(stop, REPORT_S)
        finally:
            if drain is not None:
                drain.cancel()
            await client.close()


async def _discard(client: HubClient) -> None:
    """The hub's public events reach the shipper too; it reads them so they never pile up."""
    async for _ in client.events():
        pass


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]
