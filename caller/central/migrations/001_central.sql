-- The central schema, version 1: halls, the raw events (partitioned by month) and the
-- tables derived from them in the shipper's own transaction. docs/central.md describes
-- every column.

CREATE TABLE halls (
    hall_id        text PRIMARY KEY,
    name           text NOT NULL,
    region_code    text NOT NULL,            -- 行政区划代码, 6 or 12 digits
    level          text NOT NULL CHECK (level IN ('city', 'county', 'town', 'village')),
    timezone       text NOT NULL,
    config_version text NOT NULL,            -- of the config the last batch was shipped under
    shipped_seq    bigint NOT NULL DEFAULT 0 CHECK (shipped_seq >= 0),
    shipped_at     timestamptz,              -- `at` of the event at shipped_seq
    last_seen      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX halls_region ON halls (region_code text_pattern_ops);

-- Every event of every hall. The primary key holds the partition key (PostgreSQL asks it):
-- (hall_id, seq) alone is unique too, because the shipper inserts a hall's events only
-- after its shipped_seq, under a lock on the hall's row (docs/central.md, "Guarantees").
CREATE TABLE events (
    hall_id        text NOT NULL,
    seq            bigint NOT NULL,
    at             timestamptz NOT NULL,
    name           text NOT NULL,
    config_version text NOT NULL,
    body           jsonb NOT NULL,
    PRIMARY KEY (hall_id, seq, at)
) PARTITION BY RANGE (at);
-- Monthly partitions events_YYYY_MM are created by the shipper as needed
-- (caller/central/schema.py, ensure_partitions).

-- One row per ticket, as the hall's `tickets` table has it (the same columns; `window` is
-- window_id, a reserved word in PostgreSQL). Written from the hall's row whenever an
-- event about the ticket is shipped.
CREATE TABLE tickets (
    hall_id         text NOT NULL REFERENCES halls,
    id              bigint NOT NULL,
    number          text NOT NULL,
    service         text NOT NULL,
    day             date NOT NULL,           -- business day, hall time
    issued_at       timestamptz NOT NULL,
    priority        boolean NOT NULL,
    lang            text,
    state           text NOT NULL,
    window_id       text,
    target_window   text,
    first_called_at timestamptz,
    called_at       timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    held_at         timestamptz,
    service_s       double precision NOT NULL DEFAULT 0,
    hold_s          double precision NOT NULL DEFAULT 0,
    recalls         integer NOT NULL DEFAULT 0,
    requeues        integer NOT NULL DEFAULT 0,
    transfers       integer NOT NULL DEFAULT 0,
    holds           integer NOT NULL DEFAULT 0,
    staff           text,
    rating          text,
    rating_status   text,                    -- rated | timeout | default
    rated_at        timestamptz,
    person_key      text,                    -- only with [central] personal_data = true
    holder_name     text,                    -- masked; only with personal_data = true
    id_last4        text,                    -- only with personal_data = true
    seq             bigint NOT NULL,         -- the hall's seq when this row was last written
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX tickets_day ON tickets (day, hall_id);

-- Every rating of a ticket (the citizen's own, a timeout or a configured default).
CREATE TABLE ratings (
    hall_id   text NOT NULL REFERENCES halls,
    ticket_id bigint NOT NULL,
    number    text NOT NULL,
    service   text NOT NULL,
    day       date NOT NULL,
    window_id text,
    staff     text,
    level     text,                          -- NULL for a timeout without a default
    status    text NOT NULL,                 -- rated | timeout | default
    rated_at  timestamptz,
    PRIMARY KEY (hall_id, ticket_id)
);
CREATE INDEX ratings_day ON ratings (day, hall_id);

-- Bad-rating follow-up cases (差评整改), as the hall's `cases` table has them.
CREATE TABLE cases (
    hall_id        text NOT NULL REFERENCES halls,
    id             bigint NOT NULL,
    ticket_id      bigint NOT NULL,
    number         text NOT NULL,
    service        text NOT NULL,
    window_id      text,
    staff          text,
    level          text NOT NULL,
    opened_at      timestamptz NOT NULL,
    deadline       date,
    state          text NOT NULL,
    called_back_at timestamptz,
    called_back_by text,
    rectified_at   timestamptz,
    rectified_by   text,
    closed_at      timestamptz,
    closed_by      text,
    outcome        text,                     -- the callback note, cause and fix stay in the hall
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX cases_ticket ON cases (hall_id, ticket_id);
CREATE INDEX cases_open ON cases (hall_id) WHERE state <> 'closed';

-- Per hall and business day: recomputed from `tickets` for each day a batch touched.
CREATE TABLE hall_days (
    hall_id      text NOT NULL REFERENCES halls,
    day          date NOT NULL,
    issued       integer NOT NULL,
    waiting      integer NOT NULL,           -- state waiting
    served       integer NOT NULL,           -- state done
    passed       integer NOT NULL,           -- state no_show (过号)
    cancelled    integer NOT NULL,
    wait_sum_s   double precision NOT NULL,  -- over the tickets called at least once
    waits        integer NOT NULL,
    service_sum_s double precision NOT NULL, -- over the served tickets
    rated        integer NOT NULL,           -- the citizens' own ratings
    satisfied    integer NOT NULL,           -- rated very_satisfied, satisfied or basic
    bad          integer NOT NULL,           -- rated dissatisfied or very_dissatisfied
    defaulted    integer NOT NULL,
    events       integer NOT NULL,           -- events shipped with `at` on that day (hall time)
    PRIMARY KEY (hall_id, day)
);
CREATE INDEX hall_days_day ON hall_days (day);
