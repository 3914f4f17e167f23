-- Accounts the users service said are deleted: their tokens may still be valid for a
-- few minutes, and must not make gyms or managers for an account that no longer exists.
CREATE TABLE deleted_users (
    user_id    uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
