"""Every sentence the hub says to a clerk, citizen or manager, in one place.

Keys are the protocol's error codes (and a few reasons); values are format strings.
Simplified Chinese is the default language; add another table to `MESSAGES` to add one.
"""

from __future__ import annotations

ZH = {
    "bad_request": "请求格式有误：{detail}",
    "unknown_command": "不支持的操作：{detail}",
    "forbidden": "本设备无权执行此操作：{detail}",
    "unknown_service": "没有这项业务：{detail}",
    "unknown_window": "没有这个窗口：{detail}",
    "unknown_ticket": "当前没有等候中的 {detail} 号",
    "unknown_held": "本窗口没有挂起的 {detail} 号",
    "service_closed": "{detail}",
    "daily_limit_reached": "{detail}",
    "queue_empty": "当前没有等候的群众",
    "no_current_ticket": "当前没有正在办理的号码",
    "ticket_in_progress": "请先办结或转移当前号码（{detail}）",
    "window_paused": "窗口已暂停服务，请先恢复服务",
    "window_not_paused": "窗口没有暂停",
    "not_logged_in": "请先登录工号",
    "recall_limit": "已重呼 {detail} 次，请按过号",
    "no_rating_pending": "当前没有等待评价的业务",
    "already_rated": "该号码已经评价过了（一次一评）",
    "unknown_alert": "没有这条待处理的提醒：{detail}",
    "unknown_case": "没有这个未结的差评整改记录：{detail}",
    "case_not_called_back": "请先完成回访，再办结差评整改",
    "rate_limited": "操作过于频繁，请 {detail} 秒后再试",
    "storage_error": "系统存储故障，本次操作未生效，请稍后重试",
    "internal_error": "系统内部错误，本次操作未生效",
    # reasons and notices
    "closed_holiday": "今天是节假日，{service}暂停取号",
    "closed_day": "今天不办理{service}业务",
    "closed_hours": "{service}的办理时间为 {hours}，现在不能取号",
    "closed_after": "{service}今天的办理时间已过（{hours}），请下个工作日再来",
    "cap_daily": "{service}今天的号已取完（每日限 {cap} 个）",
    "cap_segment": "{service}本时段的号已取完，请 {next} 以后再来",
    "cap_range": "{service}今天的号码已用完",
    "device_too_slow": "设备 {device} 长时间没有接收数据，连接已断开（可能死机或网络故障）",
    "bad_rating": "{window_name}收到{level_name}评价（{number}号，工号 {staff}），请第一时间到现场处理",
}

LEVEL_NAMES = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basic": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}

MESSAGES = {"zh": ZH}


def say(key: str, lang: str = "zh", **values: object) -> str:
    """The sentence for `key`, filled in; unknown languages fall back to Chinese."""
    table = MESSAGES.get(lang, ZH)
    template = table.get(key, ZH.get(key, key))
    values.setdefault("detail", "")
    return template.format(**values)
