-- Climbs logged in a session. With a route, its grade, discipline and names are copied
-- at logging time, so the log stays true when the route is regraded or stripped.
-- `difficulty` places the grade on the common scale of every grade system, so climbs
-- logged in different systems compare. `source_key` is an imported ascent's stable key.
CREATE TABLE climbs (
    id            uuid PRIMARY KEY,
    session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL,
    route_id      uuid,
    discipline    text NOT NULL CHECK (discipline IN ('boulder', 'sport', 'top_rope', 'trad')),
    grade         text NOT NULL,
    grade_system  text NOT NULL,
    difficulty    double precision NOT NULL,
    safety        text,
    route_name    text,
    gym_name      text,
    attempt_type  text NOT NULL
                  CHECK (attempt_type IN ('onsight', 'flash', 'redpoint', 'repeat', 'attempt')),
    success       boolean NOT NULL,
    attempts      integer NOT NULL CHECK (attempts >= 1),
    rating        smallint CHECK (rating BETWEEN 1 AND 5),
    notes         text,
    climbed_at    timestamptz NOT NULL,
    local_date    date NOT NULL,
    source_key    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT climbs_source_key UNIQUE (user_id, source_key)
);

CREATE INDEX climbs_by_session ON climbs (session_id, climbed_at, id);
-- Statistics read every climb of a user; keep what they need in the index.
CREATE INDEX climbs_for_stats ON climbs (user_id, local_date)
    INCLUDE (discipline, difficulty, grade_system, success, attempts);
