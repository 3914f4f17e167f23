-- Accounts the users service said are deleted: their tokens may still be valid for a
-- few minutes, and must not log sessions or climbs that belong to no one.
CREATE TABLE deleted_users (
    user_id    uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
