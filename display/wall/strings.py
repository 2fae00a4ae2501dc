"""Everything the TV wall shows in words, per language (Simplified Chinese first)."""

from __future__ import annotations

from datetime import date

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "now_calling": "正在呼叫",
        "call_please": "请",
        "call_number_suffix": "号",
        "call_to": "到",
        "no_call_yet": "请留意叫号信息",
        "recall_nth": "第{n}次呼叫",
        "recent_title": "最近呼叫",
        "col_number": "号码",
        "col_window": "窗口",
        "col_status": "状态",
        "windows_title": "窗口状态",
        "waiting_title": "等候人数",
        "waiting_count": "{n} 人",
        "service_closed": "暂停取号",
        "window_paused": "暂停服务",
        "window_closed": "未开放",
        "window_idle": "空闲",
        "status_calling": "呼叫中",
        "status_serving": "办理中",
        "status_done": "已办结",
        "status_skipped": "过号",
        "status_requeued": "过号顺延",
        "status_held": "暂缓办理",
        "status_transferred": "转至{target}",
        "status_cancelled": "已取消",
        "status_called": "已呼叫",
        "notice_tag": "通知",
        "connection_lost": "与服务器的连接已断开，正在重连…",
        "connecting": "正在连接服务器…",
        "refused": "服务器拒绝了本设备，请检查配置中的设备编号和令牌",
        "date": "{year}年{month}月{day}日",
        "weekdays": "星期一,星期二,星期三,星期四,星期五,星期六,星期日",
    },
    "en": {
        "now_calling": "Now calling",
        "call_please": "Ticket",
        "call_number_suffix": "",
        "call_to": "to",
        "no_call_yet": "Please watch for your number",
        "recall_nth": "Call no. {n}",
        "recent_title": "Recent calls",
        "col_number": "Ticket",
        "col_window": "Window",
        "col_status": "Status",
        "windows_title": "Windows",
        "waiting_title": "Waiting",
        "waiting_count": "{n}",
        "service_closed": "Closed",
        "window_paused": "Paused",
        "window_closed": "Closed",
        "window_idle": "Free",
        "status_calling": "Calling",
        "status_serving": "Serving",
        "status_done": "Done",
        "status_skipped": "Missed",
        "status_requeued": "Missed, requeued",
        "status_held": "On hold",
        "status_transferred": "To {target}",
        "status_cancelled": "Cancelled",
        "status_called": "Called",
        "notice_tag": "Notice",
        "connection_lost": "Connection to the server lost, reconnecting…",
        "connecting": "Connecting to the server…",
        "refused": "The server refused this device: check its id and token in the config",
        "date": "{year}-{month:02d}-{day:02d}",
        "weekdays": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
    },
}

LANGUAGES = tuple(STRINGS)


def text(lang: str, key: str, **values: object) -> str:
    """The string `key` in `lang` (Chinese when the language or the key is missing)."""
    table = STRINGS.get(lang, STRINGS["zh"])
    template = table.get(key, STRINGS["zh"][key])
    return template.format(**values) if values else template


def date_line(lang: str, day: date) -> str:
    """E.g. "2026年11月23日 星期一"."""
    weekday = text(lang, "weekdays").split(",")[day.weekday()]
    return f"{text(lang, 'date', year=day.year, month=day.month, day=day.day)} {weekday}"
