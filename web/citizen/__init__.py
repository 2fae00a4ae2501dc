"""The citizen's pages of `hallq web` (the live ticket behind the QR code, remote tickets,
appointments), apart from the manager's console: their own routes under the public prefix
`/p` (a reverse proxy publishes `/p/` alone), templates, styles, script and words (the
gettext catalogs, keys `citizen.*`). No page carries a cookie, a device token or personal
data; every public route is rate-limited per address."""
