-- The raw events' body as `json` (the text, checked to be JSON) instead of `jsonb`:
-- building jsonb's binary form was the largest part of the centre's work per shipped
-- event (BENCHMARKS.md, "Shipping to the centre, faster"). The body is read by key with
-- the same -> and ->> operators; only containment (@>) and GIN indexes would need jsonb,
-- and nothing uses them (cast `body::jsonb` for such a query).
ALTER TABLE events ALTER COLUMN body TYPE json USING body::json;
