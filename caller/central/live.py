"""Every hall's state now, from the central database: for the city console.

Per hall: today's tickets waiting, issued and served and today's satisfaction (from
`hall_days`, kept up to date by the shipper), the windows open (each window's newest
login/logout/pause/resume event of the hall's business day), the alerts of the last hour,
and how long ago its shipper last wrote (a hall whose data is old is shown as such: its
hub or its link to the centre is down). Only read; one query per part, all halls at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import psycopg

from caller.core.protocol import Event

STALE_S = 300  # data older than this: the hall's shipper is not reaching the centre
_WINDOW_EVENTS = [Event.WINDOW_LOGIN, Event.WINDOW_LOGOUT, Event.WINDOW_PAUSED,
                  Event.WINDOW_RESUMED]
_OPENING = (Event.WINDOW_LOGIN, Event.WINDOW_RESUMED)

# the hall's business day starts at its local midnight
_TODAY = "(now() AT TIME ZONE h.timezone)::date"
_HALLS_SQL = f"""
SELECT h.hall_id, h.name, h.region_code, h.level, extract(epoch FROM now() - h.last_seen),
       {_TODAY}::text, d.issued, d.waiting, d.served, d.rated, d.satisfied, d.bad
FROM halls h LEFT JOIN hall_days d ON d.hall_id = h.hall_id AND d.day = {_TODAY}
WHERE h.region_code LIKE %(region)s ORDER BY h.region_code, h.hall_id
"""
_WINDOWS_SQL = f"""
SELECT DISTINCT ON (e.hall_id, e.body->>'window') e.hall_id, e.name,
       coalesce((e.body->>'paused')::boolean, false)
FROM halls h JOIN events e ON e.hall_id = h.hall_id AND e.name = ANY(%(names)s)
     AND e.at >= {_TODAY}::timestamp AT TIME ZONE h.timezone
WHERE h.region_code LIKE %(region)s
ORDER BY e.hall_id, e.body->>'window', e.seq DESC
"""
_ALERTS_SQL = """
SELECT e.hall_id, count(*) FROM halls h JOIN events e ON e.hall_id = h.hall_id
     AND e.name = %(alert)s AND e.at >= now() - interval '1 hour'
WHERE h.region_code LIKE %(region)s GROUP BY e.hall_id
"""


def read_live(conn: psycopg.Connection, region: str = "") -> dict[str, Any]:
    """{"halls": [...], "totals": {...}, "at": ISO time}: the halls whose region code
    starts with `region` (every hall for "")."""
    params = {"region": f"{region}%", "names": [str(e) for e in _WINDOW_EVENTS],
              "alert": str(Event.ALERT)}
    open_windows: Counter[str] = Counter()
    for hall_id, name, paused in conn.execute(_WINDOWS_SQL, params):
        open_windows[hall_id] += name in _OPENING and not paused
    alerts = dict(conn.execute(_ALERTS_SQL, params).fetchall())
    halls = []
    for (hall_id, name, code, level, age_s, day, issued, waiting, served, rated, satisfied,
         bad) in conn.execute(_HALLS_SQL, params):
        halls.append({
            "id": hall_id, "name": name, "region_code": code, "level": level, "day": day,
            "issued": issued or 0, "waiting": waiting or 0, "served": served or 0,
            "rated": rated or 0, "satisfied": satisfied or 0, "bad_ratings": bad or 0,
            "satisfaction_rate": round(satisfied / rated, 4) if rated else None,
            "windows_open": open_windows[hall_id], "alerts_last_hour": alerts.get(hall_id, 0),
            "data_age_s": round(age_s) if age_s is not None else None,
            "stale": age_s is None or age_s > STALE_S,
        })
    totals = {k: sum(h[k] for h in halls) for k in
              ("issued", "waiting", "served", "windows_open", "alerts_last_hour", "rated",
               "satisfied", "bad_ratings")}
    totals.update(halls=len(halls), stale=sum(h["stale"] for h in halls),
                  satisfaction_rate=(round(totals["satisfied"] / totals["rated"], 4)
                                     if totals["rated"] else None))
    return {"halls": halls, "totals": totals, "at": datetime.now().astimezone().isoformat(
        timespec="seconds")}
