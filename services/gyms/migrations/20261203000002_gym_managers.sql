-- Who may change a gym and its routes. A user id is the users service's; this
-- service cannot check it exists, and forgets it when that account is deleted.
CREATE TABLE gym_managers (
    gym_id uuid NOT NULL CONSTRAINT gym_managers_gym_id_fkey REFERENCES gyms (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gym_managers_pkey PRIMARY KEY (gym_id, user_id)
);

-- Account deletion removes a user from every gym at once.
CREATE INDEX gym_managers_user_id_idx ON gym_managers (user_id);
