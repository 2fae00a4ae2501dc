"""The road to the centre: every hall's events in one PostgreSQL (issue 19).

`schema` applies the central schema's migrations (`migrations/NNN_*.sql`); `shipper` is
`hallq ship`, the process beside a hub that copies its event log there. A manager-level
tool: it reads the hub's SQLite file and talks to the hub as a device, never runs in it.
"""
