"""Everything the clerk reads on the window terminal, per language (zh is the default)."""

from __future__ import annotations

ZH = {
    "title": "窗口叫号终端",
    # buttons
    "call_next": "叫号",
    "recall": "重呼",
    "skip": "过号",
    "transfer": "转移",
    "hold": "挂起",
    "call_held": "挂起列表",
    "pause": "暂停",
    "resume": "恢复",
    "start": "开始办理",
    "finish": "办结",
    "request_rating": "请评价",
    "call_number": "指呼",
    "login": "登录",
    "logout": "退出",
    "ok": "确定",
    "cancel": "取消",
    # window states
    "state_closed": "未登录",
    "state_idle": "空闲",
    "state_calling": "呼叫中",
    "state_serving": "办理中",
    "state_paused": "暂停服务",
    # the bar
    "staff": "工号 {staff}",
    "no_staff": "请先登录工号",
    "no_ticket": "— —",
    "no_ticket_hint": "当前无号",
    "waiting": "等候 {n} 人",
    "rating": "评价：{text}",
    "rating_none": "评价：—",
    "rating_pending": "等待评价…",
    "rating_not_rated": "未评价",
    "rating_default": "{level}（默认）",
    "online": "● 已连接",
    "offline": "● 未连接",
    "connecting": "正在连接服务器…",
    "disconnected": "与服务器的连接已断开，正在重连…",
    "refused": "服务器拒绝了本终端（设备 {device}），请联系管理员核对设备编号和令牌",
    "ready": "已连接，{window}",
    "switch_window": "切换",
    # popups
    "login_title": "登录 {window}",
    "login_hint": "请输入工号后按回车",
    "number_title": "指呼：呼叫指定号码",
    "number_hint": "请输入号码，如 A005，按回车呼叫",
    "transfer_title": "转移 {number}：选择业务或窗口",
    "transfer_services": "转到业务",
    "transfer_windows": "转到窗口",
    "held_title": "挂起的号码：选择一个叫回",
    "held_item": "{number} {service}",
    "pause_title": "暂停服务：选择原因",
    "windows_title": "选择本终端的窗口",
    "keys_hint": "方向键选择 · 回车确定 · Esc 取消",
    "prompt_keys": "回车确定 · Esc 取消",
    "pause_reasons": ["午休", "临时离开", "业务咨询", "内部会议", "设备故障"],
    # results of actions
    "did_login": "工号 {staff} 已登录",
    "did_logout": "已退出登录",
    "did_call": "正在呼叫 {number}（{service}）",
    "did_recall": "重呼 {number}（第 {recalls} 次）",
    "did_skip": "{number} 已过号",
    "did_skip_requeue": "{number} 已过号，顺延候叫",
    "did_transfer": "{number} 已转至{target}",
    "did_hold": "{number} 已挂起",
    "did_start": "{number} 开始办理",
    "did_finish": "{number} 已办结",
    "did_request_rating": "已请 {number} 评价",
    "did_pause": "已暂停服务：{reason}",
    "did_resume": "已恢复服务",
    "empty_number": "请输入号码",
    "empty_staff": "请输入工号",
}

EN = {
    "title": "Window terminal",
    "call_next": "Next",
    "recall": "Recall",
    "skip": "Pass",
    "transfer": "Transfer",
    "hold": "Hold",
    "call_held": "Held",
    "pause": "Pause",
    "resume": "Resume",
    "start": "Start",
    "finish": "Finish",
    "request_rating": "Rate",
    "call_number": "Call #",
    "login": "Log in",
    "logout": "Log out",
    "ok": "OK",
    "cancel": "Cancel",
    "state_closed": "Logged out",
    "state_idle": "Idle",
    "state_calling": "Calling",
    "state_serving": "Serving",
    "state_paused": "Paused",
    "staff": "Staff {staff}",
    "no_staff": "Please log in",
    "no_ticket": "— —",
    "no_ticket_hint": "No ticket",
    "waiting": "{n} waiting",
    "rating": "Rating: {text}",
    "rating_none": "Rating: —",
    "rating_pending": "Waiting for rating…",
    "rating_not_rated": "not rated",
    "rating_default": "{level} (default)",
    "online": "● Online",
    "offline": "● Offline",
    "connecting": "Connecting to the hub…",
    "disconnected": "Lost the hub, reconnecting…",
    "refused": "The hub refused this terminal (device {device}); ask the administrator",
    "ready": "Connected, {window}",
    "switch_window": "switch",
    "login_title": "Log in to {window}",
    "login_hint": "Staff number, then Enter",
    "number_title": "Call a number",
    "number_hint": "Ticket number, e.g. A005, then Enter",
    "transfer_title": "Transfer {number}: pick a service or a window",
    "transfer_services": "To service",
    "transfer_windows": "To window",
    "held_title": "Held tickets: pick one to call back",
    "held_item": "{number} {service}",
    "pause_title": "Pause: pick a reason",
    "windows_title": "Pick this terminal's window",
    "keys_hint": "Arrows select · Enter confirms · Esc cancels",
    "prompt_keys": "Enter confirms · Esc cancels",
    "pause_reasons": ["Lunch", "Away", "Consulting", "Meeting", "Equipment fault"],
    "did_login": "Staff {staff} logged in",
    "did_logout": "Logged out",
    "did_call": "Calling {number} ({service})",
    "did_recall": "Recalled {number} ({recalls})",
    "did_skip": "{number} passed",
    "did_skip_requeue": "{number} passed and re-queued",
    "did_transfer": "{number} transferred to {target}",
    "did_hold": "{number} on hold",
    "did_start": "Serving {number}",
    "did_finish": "{number} finished",
    "did_request_rating": "Asked {number} to rate",
    "did_pause": "Paused: {reason}",
    "did_resume": "Resumed",
    "empty_number": "Enter a ticket number",
    "empty_staff": "Enter a staff number",
}

# The national 好差评 scale, as the clerk reads it.
LEVELS = {
    "zh": {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
           "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"},
    "en": {"very_satisfied": "very satisfied", "satisfied": "satisfied", "basic": "fair",
           "dissatisfied": "dissatisfied", "very_dissatisfied": "very dissatisfied"},
}

TABLES = {"zh": ZH, "en": EN}


class Strings:
    """Look-ups in one language; a missing key falls back to Chinese."""

    def __init__(self, lang: str = "zh") -> None:
        if lang not in TABLES:
            raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(TABLES)}")
        self.lang = lang
        self._table = TABLES[lang]

    def __call__(self, key: str, **values: object) -> str:
        template = self._table.get(key, ZH[key])
        return template.format(**values) if values else template

    def reasons(self) -> list[str]:
        return list(self._table.get("pause_reasons", ZH["pause_reasons"]))

    def level(self, level: str) -> str:
        return LEVELS.get(self.lang, LEVELS["zh"]).get(level, level)
