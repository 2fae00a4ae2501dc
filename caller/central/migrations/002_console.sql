-- The city console's live view (caller/central/live.py): each hall's window and alert
-- events of today, found without reading the day's other events.
CREATE INDEX events_console ON events (hall_id, at)
    WHERE name IN ('window_login', 'window_logout', 'window_paused', 'window_resumed', 'alert');
