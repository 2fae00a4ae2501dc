-- Each closed hall-day's tickets packed for the central report (caller/central/tally.py):
-- the report of a month reads a few thousand of these instead of deriving a million
-- tickets' facts. NULL while the day is open (the hall's events have not passed it, or a
-- batch touched one of its tickets or cases since); stored uncompressed (EXTERNAL), as
-- packed hashes and times barely compress and are read whole.
ALTER TABLE hall_days ADD COLUMN facts bytea;
ALTER TABLE hall_days ALTER COLUMN facts SET STORAGE EXTERNAL;
