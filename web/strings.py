"""Every sentence the console's Python code shows (the templates hold the rest), kept in one
place so it can move to a message catalog."""

from __future__ import annotations

WINDOW_STATES = {"idle": "空闲", "calling": "呼叫中", "serving": "办理中", "paused": "暂停",
                 "closed": "未登录"}
ALERT_KINDS = {"bad_rating": "差评", "printer_fault": "打印机故障", "printer_ok": "打印机恢复",
               "device_offline": "设备离线", "device_online": "设备恢复", "clock_step": "时钟回拨",
               "ship_backlog": "中心同步积压", "ship_caught_up": "中心同步恢复"}
CASE_STATES = {"open": "待回访", "called_back": "已回访", "rectified": "已整改", "closed": "已办结"}
APPEAL_STATES = {"pending": "待复核", "upheld": "申诉成立", "rejected": "申诉驳回"}
APPEAL_DECISIONS = {"uphold": "申诉成立", "reject": "申诉驳回"}
LEVELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
          "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
BOOKING_STATES = {"booked": "已预约", "checked_in": "已签到", "late": "迟到签到（按现场取号）",
                  "no_show": "爽约", "cancelled": "已取消"}
ARRIVALS = {"booking": "预约", "remote": "线上取号"}  # how a ticket came, when not from the kiosk
BAN_REASONS = {"no_show": "爽约", "cancel": "取消预约"}
NO_BAN = "没有这条失信记录"
STAFF_BAD = "星级应为 0-5，窗口应从列表中选择"
PHOTO_MISSING = "请选择要上传的照片"
PHOTO_REFUSED = "照片未保存："
ROLE_DEVICES = {"kiosk": "取号机", "terminal": "窗口终端", "counter": "呼叫器/评价器总线",
                "evaluator": "评价器", "display": "综合屏", "led": "LED 条屏", "admin": "管理工具",
                "web": "管理控制台", "shipper": "中心同步"}
ACTIONS = {"login": "登录", "login_failed": "登录失败", "logout": "退出", "ack_alert": "确认告警",
           "case_callback": "回访", "case_rectify": "整改", "case_close": "办结",
           "pause": "暂停窗口", "resume": "恢复窗口", "set_notice": "修改公告",
           "user_add": "新建账户", "user_disable": "停用账户", "user_enable": "启用账户",
           "user_passwd": "重设密码", "export": "导出报表", "audit_export": "导出审计日志",
           "forbidden": "越权操作", "csrf": "表单校验失败",
           "appeal_file": "提交申诉", "appeal_decide": "申诉复核",
           "staff_save": "保存人员", "staff_disable": "停用人员", "staff_enable": "启用人员",
           "staff_photo": "上传照片", "screen_code": "评价器配对码", "screen_pair": "评价器配对",
           "screen_revoke": "撤销评价器", "ban_lift": "解除失信限制"}

HUB_DOWN = "与叫号服务器的连接已断开，操作未执行，请稍后再试"
HUB_TIMEOUT = "叫号服务器没有及时回应，操作可能未执行，请刷新页面查看"
LOGIN_BAD = "账户名或密码不正确"
LOGIN_LOCKED = "密码错误次数过多，账户已锁定，请 15 分钟后再试或联系管理员"
LOGIN_DISABLED = "该账户已停用，请联系管理员"
LOGIN_THROTTLED = "登录尝试过于频繁，请稍后再试"
FORBIDDEN = "您的账户无权执行此操作"
CSRF_FAILED = "表单已过期或来源不明，操作未执行。请刷新页面后重试"
SESSION_EXPIRED = "长时间未操作，已自动退出，请重新登录"
NOT_FOUND = "没有这个页面"
REQUIRED = "{field}不能为空"
TOO_LONG = "{field}不能超过 {limit} 个字"
BAD_DATE = "日期格式应为 2026-11-01"
BAD_RANGE = "结束日期不能早于开始日期"
RANGE_TOO_LONG = "一次最多统计 366 天"
NO_DB = "未指定大厅数据库（--db），无法读取此页数据"
DONE = "已完成"
NO_BAD_RATING = "没有这条差评记录"

# The live pages' script draws these ({name}: a value it fills in).
JS = {
    "hours": "{h} 小时 {m} 分",
    "minutes": "{m} 分 {s} 秒",
    "refused": "叫号服务器拒绝了本控制台的设备令牌，请管理员检查配置文件中的 web 设备。",
    "alerts": "{n} 条待处理 · 最新：【{kind}】{message}",
    "offline": "设备离线：{devices}",
    "list_sep": "、",
    "no_waiting": "现在没有人等候",
    "hub_ok": "运行正常 · 已连接 {connections} 个设备 · 事件序号 {seq} · 已运行 {uptime} · 响应 {ms} 毫秒",
    "hub_down": "无法连接叫号服务器（最近检查 {checked}）",
    "online": "在线",
    "offline_state": "离线",
    "ok": "正常",
    "printer_fault": "故障/缺纸",
    "line_down": "中断",
}

# The city console (`hallq web --central`).
CITY_SUBTITLE = "政务服务大厅监管平台"
CITY_TITLE_ALL = "全部大厅"
CITY_TITLE_REGION = "{region} 辖区大厅"
CENTRAL_DOWN = "无法读取中心数据库，页面上的数据不是最新的"
OUT_OF_REGION = "只能查看本平台辖区（{region}）内的大厅"
BAD_REGION = "行政区划代码应为 2 到 12 位数字"
LEVELS = {"city": "市级", "county": "区县级", "town": "乡镇（街道）级", "village": "村（社区）级"}
CITY_JS = {
    "stale": "{m} 分钟未收到数据",
    "no_data": "从未收到数据",
    "fresh": "正常",
    "updated": "更新于 {at}",
    "no_halls": "中心数据库中还没有大厅",
}
