-- The 好差评 record of a region as each hall writes its own (caller/manager/record.py):
-- the ticket columns it reads (办件编号, appeal state, a screen evaluator's reasons and the
-- citizen's words), carried into `ratings`, and on each hall's row what the record reads
-- of its config (service item codes and names, window names, the channel and the level
-- codes) and its staff roster's names. `rating_text` and `holder_name` stay NULL unless
-- the hall ships personal data (docs/central.md, "Personal data").
ALTER TABLE tickets ADD COLUMN case_no text, ADD COLUMN appeal text,
    ADD COLUMN rating_reasons text, ADD COLUMN rating_text text;
ALTER TABLE ratings ADD COLUMN case_no text, ADD COLUMN appeal text, ADD COLUMN reasons text,
    ADD COLUMN rating_text text, ADD COLUMN holder_name text;
ALTER TABLE halls ADD COLUMN record json NOT NULL DEFAULT '{}', ADD COLUMN roster json;
