-- Accounts and profiles. Emails and usernames are unique without regard to case.
CREATE TABLE users (
    id                       uuid PRIMARY KEY,
    email                    text NOT NULL,
    username                 text NOT NULL,
    password_hash            text NOT NULL,
    display_name             text,
    first_name               text,
    last_name                text,
    bio                      text,
    avatar_url               text,
    preferred_climbing_style text,
    current_boulder_grade    text,
    current_rope_grade       text,
    years_climbing           integer,
    climbing_goals           text,
    home_gym_id              uuid,
    preferred_units          text NOT NULL DEFAULT 'metric'
                             CHECK (preferred_units IN ('metric', 'imperial')),
    timezone                 text NOT NULL DEFAULT 'UTC',
    privacy_level            text NOT NULL DEFAULT 'public'
                             CHECK (privacy_level IN ('public', 'private')),
    city                     text,
    state                    text,
    country                  text,
    is_verified              boolean NOT NULL DEFAULT false,
    is_premium               boolean NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
