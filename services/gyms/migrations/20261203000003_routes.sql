-- Routes and boulders set in a gym. The grade is stored as the canonical label of the
-- system it was set in, with its place on the common difficulty scale for comparing.
CREATE TABLE routes (
    id uuid CONSTRAINT routes_pkey PRIMARY KEY,
    gym_id uuid NOT NULL CONSTRAINT routes_gym_id_fkey REFERENCES gyms (id) ON DELETE CASCADE,
    discipline text NOT NULL
        CONSTRAINT routes_discipline_check CHECK (discipline IN ('boulder', 'sport', 'top_rope', 'trad')),
    grade text NOT NULL,
    grade_system text NOT NULL,
    difficulty double precision NOT NULL,
    name text,
    colour text,
    section text,
    setter text,
    set_on date,
    stripped_on date,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Archived means stripped: one never goes without the other.
    CONSTRAINT routes_active_stripped_check CHECK (active = (stripped_on IS NULL)),
    CONSTRAINT routes_stripped_after_set_check CHECK (stripped_on >= set_on)
);

-- The list order: by difficulty, then id, within a gym.
CREATE INDEX routes_gym_id_difficulty_id_idx ON routes (gym_id, difficulty, id);
