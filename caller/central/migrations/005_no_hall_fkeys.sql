-- The derived tables' `REFERENCES halls` go: each checked every ticket, rating and case
-- row a batch wrote with a query of its own (an eighth of the centre's work per shipped
-- event, BENCHMARKS.md "Shipping and the city report, #19"). The shipper writes a hall's
-- rows only in the transaction that holds that hall's row locked (centre.Centre.write),
-- and nothing deletes a hall, so no row can name a hall that does not exist.
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_hall_id_fkey;
ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_hall_id_fkey;
ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_hall_id_fkey;
ALTER TABLE hall_days DROP CONSTRAINT IF EXISTS hall_days_hall_id_fkey;
