-- RecApp schema, version 1: catalog, users, interactions, the versioned global model and job bookkeeping.

CREATE TABLE items (
    id          bigint PRIMARY KEY CHECK (id > 0),
    title       text NOT NULL,
    category    text NOT NULL,
    tags        text[] NOT NULL DEFAULT '{}',
    price       numeric(12, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
    geo_id      integer,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_items_category ON items (category) WHERE active;
CREATE INDEX ix_items_updated_at ON items (updated_at);

CREATE TABLE users (
    id          bigint PRIMARY KEY CHECK (id > 0),
    gender      text,            -- 'f', 'm' or NULL when unknown
    age_group   text,            -- '18-24', '25-34', ... or NULL
    geo_id      integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Interaction types, for people reading the table; the code is the InteractionType enum.
CREATE TABLE interaction_types (
    code  smallint PRIMARY KEY,
    name  text NOT NULL UNIQUE
);
INSERT INTO interaction_types (code, name) VALUES
    (0, 'view'), (1, 'click'), (2, 'like'), (3, 'wishlist_add'), (4, 'add_to_cart'), (5, 'purchase'), (6, 'rating');

-- No foreign keys here on purpose: bulk loads and the write path stay fast; the API validates item ids
-- and creates unknown users. event_id is optional, and unique when given (idempotent retries).
CREATE TABLE interactions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text UNIQUE CHECK (length(event_id) BETWEEN 1 AND 128),
    user_id      bigint NOT NULL,
    item_id      bigint NOT NULL,
    type         smallint NOT NULL CHECK (type BETWEEN 0 AND 6),
    value        real,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
-- A user's recent history, read at scoring time (index-only for the columns scoring needs).
CREATE INDEX ix_interactions_user_recent ON interactions (user_id, occurred_at DESC) INCLUDE (item_id, type, value);
-- Per-item aggregation (popularity, trending).
CREATE INDEX ix_interactions_item_time ON interactions (item_id, occurred_at);

-- Every published part of the global model has a version; data tables below are keyed by it.
-- A job inserts a 'building' row, writes its data, then flips the row to 'ready' and moves
-- model_current in one transaction, so readers never see a half-written version.
CREATE TABLE model_versions (
    version       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part          text NOT NULL,        -- popularity | trending | item_neighbors | user_neighbors | profiles
    status        text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'ready', 'failed', 'retired')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    row_count     bigint,
    details       jsonb
);
CREATE INDEX ix_model_versions_part ON model_versions (part, version DESC);

CREATE TABLE model_current (
    part        text PRIMARY KEY,
    version     bigint NOT NULL REFERENCES model_versions (version),
    switched_at timestamptz NOT NULL DEFAULT now()
);

-- Popular items per demographic segment. NULL in a segment column means "any".
CREATE TABLE popular_items (
    version    bigint NOT NULL,
    geo_id     integer,
    gender     text,
    age_group  text,
    category   text,
    item_ids   bigint[] NOT NULL,
    scores     real[] NOT NULL
);
CREATE UNIQUE INDEX ux_popular_items_segment
    ON popular_items (version, geo_id, gender, age_group, category) NULLS NOT DISTINCT;

CREATE TABLE trending_items (
    version   bigint NOT NULL,
    category  text,
    item_ids  bigint[] NOT NULL,
    scores    real[] NOT NULL
);
CREATE UNIQUE INDEX ux_trending_items ON trending_items (version, category) NULLS NOT DISTINCT;

-- Top-K neighbors per item, one row per item and kind ('collaborative' or 'content').
CREATE TABLE item_neighbors (
    version       bigint NOT NULL,
    item_id       bigint NOT NULL,
    kind          text NOT NULL,
    neighbor_ids  bigint[] NOT NULL,
    scores        real[] NOT NULL,
    PRIMARY KEY (version, item_id, kind)
);

CREATE TABLE user_neighbors (
    version       bigint NOT NULL,
    user_id       bigint NOT NULL,
    neighbor_ids  bigint[] NOT NULL,
    scores        real[] NOT NULL,
    PRIMARY KEY (version, user_id)
);

CREATE TABLE user_profiles (
    version               bigint NOT NULL,
    user_id               bigint NOT NULL,
    preferred_categories  jsonb NOT NULL,   -- {"electronics": 0.62, ...}, weights sum to 1
    preferred_tags        jsonb NOT NULL,
    avg_price             numeric(12, 2),
    interaction_count     integer NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, user_id)
);

CREATE TABLE job_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job            text NOT NULL,
    host           text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    duration_ms    bigint,
    row_count      bigint,
    model_version  bigint,
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    error          text
);
CREATE INDEX ix_job_runs_job_started ON job_runs (job, started_at DESC);

-- On-demand refresh requests from the API's admin endpoints; a NOTIFY on channel recapp_refresh wakes the Refresher.
CREATE TABLE refresh_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job           text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    requested_by  text,
    handled_at    timestamptz
);
CREATE INDEX ix_refresh_requests_pending ON refresh_requests (requested_at) WHERE handled_at IS NULL;
