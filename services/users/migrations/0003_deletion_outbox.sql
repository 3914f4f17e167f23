-- Account deletion must reach every service even when one is down at that moment.
-- The deletion writes one row per service in the same transaction that removes the
-- account; a worker calls each service until it confirms, then removes the row.
CREATE TABLE deletion_outbox (
    user_id     uuid NOT NULL,
    service     text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    next_try_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, service)
);
