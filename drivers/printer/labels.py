"""Every word the printer part puts on paper or on a screen, in one place per language."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "ahead": "您前面还有 {n} 人等候",
        "ahead_none": "您前面没有人等候",
        "issued_at": "取号时间：{time}",
        "windows": "办理窗口：{windows}",
        "window_separator": "、",
        "materials_title": "请携带以下材料（一次性告知）",
        "no_materials": "本业务无需携带材料",
        "qr_caption": "扫码查看排队进度",
        "priority": "优先 · 绿色通道",
        "paper_out": "打印机缺纸，请凭屏幕号码等候",
        "printer_unavailable": "打印机暂不可用，请凭屏幕号码等候",
        "print_failed": "小票打印失败，请凭屏幕号码等候",
        "worker_closed": "打印服务已停止，请凭屏幕号码等候",
        "status_ok": "打印机正常",
        "status_low": "打印纸即将用完，请及时更换",
        "status_out": "打印机缺纸，请更换纸卷",
        "status_offline": "打印机离线",
        "status_unknown": "打印机状态未知",
    },
    "en": {
        "ahead": "{n} people ahead of you",
        "ahead_none": "Nobody is ahead of you",
        "issued_at": "Issued: {time}",
        "windows": "Windows: {windows}",
        "window_separator": ", ",
        "materials_title": "Please bring (full list)",
        "no_materials": "No documents needed",
        "qr_caption": "Scan to follow your place in the queue",
        "priority": "PRIORITY",
        "paper_out": "The printer is out of paper; please keep the number on the screen",
        "printer_unavailable": "The printer is unavailable; please keep the number on the screen",
        "print_failed": "The ticket could not be printed; please keep the number on the screen",
        "worker_closed": "Printing has stopped; please keep the number on the screen",
        "status_ok": "Printer ready",
        "status_low": "Paper is running low",
        "status_out": "The printer is out of paper",
        "status_offline": "Printer offline",
        "status_unknown": "Printer status unknown",
    },
}


def labels(lang: str = "zh") -> dict[str, str]:
    """Return the strings for `lang`; raise ValueError naming the languages there are."""
    try:
        return LABELS[lang]
    except KeyError:
        raise ValueError(f"no printer labels for language {lang!r}; have {sorted(LABELS)}") from None
