-- Climbing gyms. Ids are UUID v7 made by the service, so they sort by creation.
CREATE TABLE gyms (
    id uuid CONSTRAINT gyms_pkey PRIMARY KEY,
    name text NOT NULL,
    -- The name and city folded to lower case without accents by the service (Rust,
    -- not the `unaccent` extension, which managed databases may not allow). Byte order
    -- ("C") keeps the list order the same on every server whatever its locale.
    name_folded text COLLATE "C" NOT NULL,
    slug text NOT NULL CONSTRAINT gyms_slug_key UNIQUE,
    address text,
    city text,
    city_folded text,
    state text,
    country text CONSTRAINT gyms_country_check CHECK (country ~ '^[A-Z]{2}$'),
    latitude double precision CONSTRAINT gyms_latitude_check CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision
        CONSTRAINT gyms_longitude_check CHECK (longitude BETWEEN -180 AND 180),
    phone text,
    email text,
    website text,
    description text,
    boulder_grade_system text NOT NULL
        CONSTRAINT gyms_boulder_grade_system_check CHECK (boulder_grade_system IN ('v_scale', 'font')),
    rope_grade_system text NOT NULL
        CONSTRAINT gyms_rope_grade_system_check
        CHECK (rope_grade_system IN ('yds', 'french', 'uiaa', 'ewbank')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gyms_coordinates_check CHECK ((latitude IS NULL) = (longitude IS NULL))
);

-- The list order without `near`: folded name, then id.
CREATE INDEX gyms_name_folded_id_idx ON gyms (name_folded, id);
CREATE INDEX gyms_country_city_idx ON gyms (country, city_folded);
