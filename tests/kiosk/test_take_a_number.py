"""A citizen takes a number on the real kiosk program against a real hub, and the
virtual printer keeps the exact bytes it was sent. Screens in landscape and portrait."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from caller.core.client import HubClient
from caller.core.config import load_config
from drivers.fonts import find_cjk_font
from drivers.printer.decode import EscPosDecoder, PrintedJob
from kiosk.ticket import TicketPrint
from kiosk.ticket_layout import render_raster
from tests.hubproc import DEMO_CONFIG
from tests.kiosk.kioskproc import LANDSCAPE, PORTRAIT, config_with, run_kiosk, shown, widget

pytestmark = [pytest.mark.gui, pytest.mark.e2e]
CFG = load_config(DEMO_CONFIG)
HALL = "青山镇便民服务中心"
ESC_INIT, RASTER, FS_CHINESE, CUT = b"\x1b@", b"\x1dv0", b"\x1c&", b"\x1dV"


async def issue_many(hub_url: str, service: str, count: int) -> None:
    """The hall has been busy: `count` numbers already taken at another kiosk."""
    async with HubClient(hub_url, "admin", CFG.devices["admin"].token) as admin:
        replies = await asyncio.gather(*(admin.request("issue_ticket", timeout=30, service=service)
                                         for _ in range(count)))
    assert all(r["ok"] for r in replies)


def decode_one(path: Path) -> PrintedJob:
    events = EscPosDecoder().feed(path.read_bytes())
    jobs = [e for e in events if isinstance(e, PrintedJob)]
    assert len(jobs) == 1
    return jobs[0]


def check_screenshot(path: Path, size: str) -> None:
    """A real picture of the app: the window's size, the blue header, more than a few colours."""
    image = Image.open(path).convert("RGB")
    assert f"{image.width}x{image.height}" == size
    assert image.getpixel((image.width // 2, 8)) == (0x12, 0x3E, 0x73)
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50


def test_landscape_tap_confirm_and_the_raster_ticket_is_printed(hub_process, tmp_path):
    asyncio.run(issue_many(hub_process.url, "labour", 120))  # this morning's cap for 劳动保障
    printer = tmp_path / "tickets"
    run = run_kiosk(tmp_path, hub_process.url, [
        "wait connected", "shot home",
        "tap service:civil", "wait screen confirm", "shot confirm",
        "tap confirm", "wait screen result", "wait printed 1", "shot result",
        "tap lang", "shot result-en", "tap done", "wait screen home", "shot home-en", "tap lang",
        "tap service:labour", "tap confirm", "wait screen refused", "shot refused",
        "tap home", "wait disabled service:labour", "shot home-after",
    ], size=LANDSCAPE, printer=f"image://{printer}")

    home = run.shot("home")
    assert home["screen"] == "home" and home["window"] == [1920, 1080]
    assert HALL in home["texts"] and "请选择您要办理的业务" in home["texts"]
    for service in CFG.services.values():
        button = widget(home, f"service:{service.id}")
        assert button["shown"] and not button["disabled"]
        assert widget(home, f"service:{service.id}:name")["text"] == service.name
    assert widget(home, "service:civil:status")["text"] == "A 号 · 当前等候 0 人"
    assert widget(home, "service:labour:status")["text"] == "B 号 · 当前等候 120 人"
    assert "老年人、残疾人、孕妇优先办理" in widget(home, "priority_entry")["text"]
    assert widget(home, "printer_status")["text"] == "打印机正常"
    assert widget(home, "connection")["text"] == "服务器已连接"
    assert not shown(home, "connection_banner")
    check_screenshot(run.shots / "home.png", LANDSCAPE)

    confirm = run.shot("confirm")
    assert widget(confirm, "confirm_title")["text"] == "确认办理：民政救济"
    assert "办理窗口：1号窗口、2号窗口、5号窗口、8号窗口" in widget(confirm, "confirm_facts")["text"]
    assert "请携带以下材料（一次性告知）" in confirm["texts"]
    for i, material in enumerate(CFG.services["civil"].materials, start=1):
        assert f"{i}.  {material}" in confirm["texts"]
    assert widget(confirm, "confirm")["text"] == "确认取号" and not widget(confirm, "confirm")["disabled"]
    assert re.fullmatch(r"\d+ 秒后返回首页", widget(confirm, "countdown")["text"])
    check_screenshot(run.shots / "confirm.png", LANDSCAPE)

    result = run.shot("result")
    assert widget(result, "number")["text"] == "A001"
    assert widget(result, "ahead")["text"] == "您前面没有人等候，请留意叫号"
    assert widget(result, "windows")["text"] == "请到 1号窗口、2号窗口、5号窗口、8号窗口 办理"
    assert widget(result, "qr")["qr_data"] == "hallq:ticket:2026-11-23:A001"
    assert widget(result, "print_status")["text"] == "请取走您的小票"
    check_screenshot(run.shots / "result.png", LANDSCAPE)

    english = run.shot("result-en")
    assert widget(english, "number")["text"] == "A001"
    assert "Your number · 民政救济" in english["texts"]
    assert widget(english, "done")["text"] == "Done" and widget(english, "lang")["text"] == "中文"
    home_en = run.shot("home-en")
    assert widget(home_en, "prompt")["text"] == "Please choose a service"
    assert widget(home_en, "service:civil:status")["text"] == "A · 1 waiting"  # queue_changed

    refused = run.shot("refused")
    assert widget(refused, "refused_title")["text"] == "暂时无法取号"
    assert widget(refused, "refused_message")["text"] == "劳动保障本时段的号已取完，请 14:30 以后再来"
    check_screenshot(run.shots / "refused.png", LANDSCAPE)
    after = run.shot("home-after")
    assert widget(after, "service:labour")["disabled"]
    assert widget(after, "service:labour:status")["text"] == "劳动保障本时段的号已取完，请 14:30 以后再来"
    assert not widget(after, "service:civil")["disabled"]

    # The paper: exactly one ticket, its bytes and its picture.
    assert sorted(p.name for p in printer.iterdir()) == ["0001-A001.bin", "0001-A001.png"]
    data = (printer / "0001-A001.bin").read_bytes()
    assert data.startswith(ESC_INIT) and RASTER + b"\x00" + bytes([72, 0]) in data
    assert data.endswith(CUT + b"\x00")
    job = decode_one(printer / "0001-A001.bin")
    assert job.cut
    reply = run.run["replies"][0]
    expected = TicketPrint(
        hall_name=HALL, service_name="民政救济", number="A001", ahead=0,
        issued_at=datetime.fromisoformat(reply["ticket"]["issued_at"]).strftime("%Y-%m-%d %H:%M"),
        windows=["1号窗口", "2号窗口", "5号窗口", "8号窗口"],
        materials=list(CFG.services["civil"].materials),
        qr_data="hallq:ticket:2026-11-23:A001", notice=CFG.hall.notice)
    drawn = render_raster(expected, 80, find_cjk_font()).convert("L")
    assert ImageChops.difference(job.raster.convert("L"), drawn).getbbox() is None  # QR included
    paper = Image.open(printer / "0001-A001.png")
    assert paper.width == 576 and paper.height > 576
    refusal = run.run["replies"][1]
    assert not refusal["ok"] and refusal["error"]["code"] == "daily_limit_reached"


def test_portrait_priority_ticket_in_printer_text_then_idle_home_and_a_full_service(hub_process,
                                                                                   tmp_path):
    asyncio.run(issue_many(hub_process.url, "civil", 200))  # 民政救济: 200 a day
    config = config_with(tmp_path, 'print_mode = "raster"', 'print_mode = "text"')
    printer = tmp_path / "tickets"
    run = run_kiosk(tmp_path, hub_process.url, [
        "wait connected", "shot home",
        "tap priority_entry", "wait enabled priority_exit", "shot priority",
        "tap service:labour", "wait screen confirm", "shot confirm",
        "tap confirm", "wait printed 1", "shot result",
        "wait screen home", "shot idle-home",  # nobody touched it: back home by itself
        "tap service:civil", "tap confirm", "wait screen refused", "shot refused",
        "tap home", "wait disabled service:civil", "shot home-full",
    ], size=PORTRAIT, printer=f"image://{printer}", config=config, extra=("--idle-timeout", "5"))

    home = run.shot("home")
    assert home["window"] == [1080, 1920]
    assert all(widget(home, f"service:{s}")["shown"] for s in CFG.services)
    assert widget(home, "service:civil:status")["text"] == "A 号 · 当前等候 200 人"
    check_screenshot(run.shots / "home.png", PORTRAIT)

    priority = run.shot("priority")
    assert widget(priority, "priority_banner")["text"] == "绿色通道：老年人、残疾人、孕妇优先办理，请选择业务"
    assert not shown(priority, "priority_entry") and not shown(priority, "prompt")
    check_screenshot(run.shots / "priority.png", PORTRAIT)

    confirm = run.shot("confirm")
    assert widget(confirm, "confirm_title")["text"] == "确认办理：劳动保障"
    assert "优先" in confirm["texts"] and "1.  身份证原件" in confirm["texts"]
    check_screenshot(run.shots / "confirm.png", PORTRAIT)

    result = run.shot("result")
    assert widget(result, "number")["text"] == "B001" and shown(result, "priority_badge")
    assert widget(result, "qr")["qr_data"] == "hallq:ticket:2026-11-23:B001"
    assert widget(result, "print_status")["text"] == "请取走您的小票"
    seconds = re.fullmatch(r"(\d) 秒后返回首页", widget(result, "countdown")["text"])
    assert seconds and 0 < int(seconds[1]) <= 5
    check_screenshot(run.shots / "result.png", PORTRAIT)
    assert run.run["replies"][0]["ticket"]["priority"] == "priority"

    idle = run.shot("idle-home")
    assert shown(idle, "prompt") and not shown(idle, "priority_banner")  # priority mode ended too

    refused = run.shot("refused")
    assert widget(refused, "refused_message")["text"] == "民政救济今天的号已取完（每日限 200 个）"
    check_screenshot(run.shots / "refused.png", PORTRAIT)
    full = run.shot("home-full")
    assert widget(full, "service:civil")["disabled"]
    assert widget(full, "service:civil:status")["text"] == "民政救济今天的号已取完（每日限 200 个）"

    # Printer text: the printer's own Chinese font (GB18030), its QR command and a cut.
    [ticket] = sorted(printer.glob("*.bin"))
    assert ticket.name == "0001-B001.bin" and ticket.with_suffix(".png").exists()
    data = ticket.read_bytes()
    assert data.startswith(ESC_INIT) and FS_CHINESE in data and RASTER not in data
    for words in (HALL, "劳动保障", "优先 · 绿色通道", "您前面没有人等候", "社会保障卡",
                  "劳动合同或离职证明"):
        assert words.encode("gb18030") in data
    qr = b"hallq:ticket:2026-11-23:B001"
    assert b"\x1d(k" + (len(qr) + 3).to_bytes(2, "little") + b"1P0" + qr in data
    assert data.endswith(CUT + b"\x00")
    job = decode_one(ticket)
    assert job.cut and job.qr_data == [qr.decode()]
    assert "B001" in job.text_lines and "3. 劳动合同或离职证明" in job.text_lines


def test_a_citizen_who_switched_to_english_gets_an_english_ticket(hub_process, tmp_path):
    config = config_with(tmp_path, 'print_mode = "raster"', 'print_mode = "text"')
    printer = tmp_path / "tickets"
    run = run_kiosk(tmp_path, hub_process.url, [
        "wait connected", "tap lang", "tap service:civil", "wait screen confirm",
        "tap confirm", "wait screen result", "wait printed 1", "shot result",
    ], printer=f"image://{printer}", config=config)

    result = run.shot("result")
    assert widget(result, "print_status")["text"] == "Please take your ticket"
    assert widget(result, "windows")["text"] == "Go to 1号窗口, 2号窗口, 5号窗口, 8号窗口"
    assert result["lang"] == "en"
    [ticket] = sorted(printer.glob("*.bin"))
    job = decode_one(ticket)
    lines = job.text_lines
    for words in ("Nobody is ahead of you", "Windows: 1号窗口, 2号窗口, 5号窗口, 8号窗口",
                  "Please bring (full list)",
                  HALL, "民政救济", "A001"):  # the hall's own words stay as the config has them
        assert words in lines, words
    assert not any("您前面" in line or "办理窗口" in line or "请携带" in line for line in lines)
    assert "Scan to follow your place in the queue" not in lines  # this hall publishes no page
