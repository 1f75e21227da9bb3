-- A/B experiments (issue 11): definitions, and what each experiment showed to whom, so later interactions can be
-- attributed to the variant that was shown.
CREATE TABLE experiments (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    surface     text NOT NULL CHECK (surface IN ('personalized', 'popular', 'similar')),
    salt        text NOT NULL,
    variants    jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    stopped_at  timestamptz
);
-- At most one running experiment per surface, enforced by the database for concurrent starts.
CREATE UNIQUE INDEX ux_experiments_running_surface ON experiments (surface) WHERE status = 'running';

CREATE TABLE experiment_exposures (
    experiment  text NOT NULL,
    variant     text NOT NULL,
    user_id     bigint NOT NULL,
    items       bigint[] NOT NULL,
    shown_at    timestamptz NOT NULL
);
CREATE INDEX ix_experiment_exposures ON experiment_exposures (experiment, user_id, shown_at);
