-- Climbing sessions. `local_date` is the climber's calendar date of the session: from
-- `started_at` in the climber's time zone, or the date an imported file gives. Listings
-- and monthly statistics go by it. `import_key` names the (source, date, crag) group an
-- import made the session for, so a second import finds it instead of making another.
CREATE TABLE sessions (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    gym_id           uuid,
    gym_name         text,
    location         text,
    name             text,
    local_date       date NOT NULL,
    started_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    notes            text,
    mood_rating      smallint CHECK (mood_rating BETWEEN 1 AND 5),
    energy_rating    smallint CHECK (energy_rating BETWEEN 1 AND 5),
    import_key       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sessions_ended_after_start CHECK (ended_at IS NULL OR ended_at >= started_at),
    CONSTRAINT sessions_import_key UNIQUE (user_id, import_key)
);

CREATE INDEX sessions_by_user_newest ON sessions (user_id, local_date DESC, started_at DESC, id DESC);
