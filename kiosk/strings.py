"""Every word the kiosk shows a citizen, per language, and what it tells the staff.

The citizen's screen starts in Chinese and can switch to English; what goes to the
hub for the staff (`STAFF`) is always Chinese. Service names, materials and the hub's
refusal messages come from the hall's config and stay as written there.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    "language_button": "English",
    "prompt": "请选择您要办理的业务",
    "waiting": "{prefix} 号 · 当前等候 {n} 人",
    "waiting_unknown": "{prefix} 号",
    "closed": "暂停取号",
    "full": "今日号已取完",
    "priority_entry": "绿色通道",
    "priority_entry_hint": "老年人、残疾人、孕妇优先办理",
    "priority_banner": "绿色通道：老年人、残疾人、孕妇优先办理，请选择业务",
    "priority_exit": "返回普通取号",
    "priority_badge": "优先",
    "confirm_title": "确认办理：{service}",
    "confirm_waiting": "当前等候 {n} 人",
    "confirm_windows": "办理窗口：{windows}",
    "materials_title": "请携带以下材料（一次性告知）",
    "no_materials": "本业务无需携带材料",
    "confirm": "确认取号",
    "issuing": "正在取号，请稍候…",
    "back": "返回",
    "result_title": "取号成功",
    "ahead": "您前面还有 {n} 人等候",
    "ahead_none": "您前面没有人等候，请留意叫号",
    "windows": "请到 {windows} 办理",
    "qr_caption": "扫码查看排队进度",
    "printing": "正在打印小票…",
    "printed": "请取走您的小票",
    "print_failed_hint": "请拍照或记下您的号码，留意叫号",
    "no_printer": "本机不打印小票，请记下您的号码",
    "done": "完成",
    "refused_title": "暂时无法取号",
    "refused_hint": "如有疑问，请到咨询台咨询",
    "home": "返回首页",
    "countdown": "{n} 秒后返回首页",
    "connecting": "正在连接服务器…",
    "offline": "与服务器的连接已断开，正在重连… 暂停取号",
    "refused_device": "服务器拒绝了本机（设备号或令牌有误），请联系大厅管理人员",
    "link_online": "服务器已连接",
    "link_connecting": "正在连接…",
    "link_offline": "服务器未连接",
    "weekdays": "一二三四五六日",
    "date": "{year}年{month}月{day}日 星期{weekday}",
}

EN: dict[str, str] = {
    "language_button": "中文",
    "prompt": "Please choose a service",
    "waiting": "{prefix} · {n} waiting",
    "waiting_unknown": "{prefix}",
    "closed": "Closed",
    "full": "No more numbers today",
    "priority_entry": "Priority lane",
    "priority_entry_hint": "For the elderly, disabled and pregnant",
    "priority_banner": "Priority lane: the elderly, disabled and pregnant first. Choose a service",
    "priority_exit": "Back to normal",
    "priority_badge": "PRIORITY",
    "confirm_title": "Confirm: {service}",
    "confirm_waiting": "{n} waiting",
    "confirm_windows": "Windows: {windows}",
    "materials_title": "Please bring (full list)",
    "no_materials": "No documents needed",
    "confirm": "Take a number",
    "issuing": "Taking your number…",
    "back": "Back",
    "result_title": "Your number",
    "ahead": "People ahead of you: {n}",
    "ahead_none": "Nobody is ahead of you; listen for your number",
    "windows": "Go to {windows}",
    "qr_caption": "Scan to follow the queue",
    "printing": "Printing your ticket…",
    "printed": "Please take your ticket",
    "print_failed_hint": "Take a photo or note your number and listen for it",
    "no_printer": "This kiosk prints no tickets; please note your number",
    "done": "Done",
    "refused_title": "No number can be issued now",
    "refused_hint": "Please ask at the information desk",
    "home": "Home",
    "countdown": "Back to the start in {n} s",
    "connecting": "Connecting to the server…",
    "offline": "Connection to the server lost, reconnecting… No numbers for now",
    "refused_device": "The server refused this kiosk (wrong device or token); please call staff",
    "link_online": "Server connected",
    "link_connecting": "Connecting…",
    "link_offline": "Server offline",
    "weekdays": "MonTueWedThuFriSatSun",
    "date": "{weekday} {day}/{month}/{year}",
}

LANGUAGES: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}

# Sent to the hub as alert messages: for the hall's staff, always in Chinese.
STAFF: dict[str, str] = {
    "printer_status": "取号机 {device}：{status}",
    "print_failed": "取号机 {device}：{number} 号小票未打印（{error}），号码已显示在屏幕上",
}


def text(lang: str, key: str, **values: object) -> str:
    """The citizen's sentence `key` in `lang` (Chinese for unknown languages), filled in."""
    table = LANGUAGES.get(lang, ZH)
    template = table.get(key, ZH[key])
    return template.format(**values) if values else template


def weekday(lang: str, index: int) -> str:
    """Monday = 0, as the clock shows it: 一 … 日, or Mon … Sun."""
    names = text(lang, "weekdays")
    size = len(names) // 7
    return names[index * size:(index + 1) * size]
