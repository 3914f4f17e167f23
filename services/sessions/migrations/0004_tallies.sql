-- Statistics read a climber's whole logbook. These tallies keep it summed per month,
-- discipline, grade system and grade, so a logbook of 100,000 climbs answers from a few
-- thousand rows. Triggers on `climbs` keep them exact in the same transaction as the
-- change; a row whose counts reach zero is removed, so a deleted logbook leaves nothing.
CREATE TABLE climb_tallies (
    user_id       uuid NOT NULL,
    month         date NOT NULL,
    discipline    text NOT NULL,
    grade_system  text NOT NULL,
    difficulty    double precision NOT NULL,
    grade         text NOT NULL,
    sends         bigint NOT NULL,
    fails         bigint NOT NULL,
    PRIMARY KEY (user_id, month, discipline, grade_system, difficulty, grade)
);

-- How many climbs of each family a session holds, so statistics count a family's
-- sessions without reading their climbs.
ALTER TABLE sessions
    ADD COLUMN boulder_climbs integer NOT NULL DEFAULT 0,
    ADD COLUMN rope_climbs integer NOT NULL DEFAULT 0;

-- One function for inserts, updates and deletes: `changed` is every affected row, with
-- +1 for its new version and -1 for its old one.
CREATE FUNCTION climbs_keep_tallies() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT *, 1 AS sign FROM added'
        WHEN 'DELETE' THEN 'SELECT *, -1 AS sign FROM removed'
        ELSE 'SELECT *, 1 AS sign FROM added UNION ALL SELECT *, -1 AS sign FROM removed'
    END;
BEGIN
    -- Sorted, so concurrent writers of one climber lock tally rows in the same order.
    EXECUTE format($sql$
        WITH changed AS (%s)
        INSERT INTO climb_tallies AS t
            (user_id, month, discipline, grade_system, difficulty, grade, sends, fails)
        SELECT user_id, date_trunc('month', local_date)::date, discipline, grade_system,
               difficulty, grade,
               COALESCE(sum(sign) FILTER (WHERE success), 0),
               COALESCE(sum(sign) FILTER (WHERE NOT success), 0)
        FROM changed
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (user_id, month, discipline, grade_system, difficulty, grade)
        DO UPDATE SET sends = t.sends + EXCLUDED.sends, fails = t.fails + EXCLUDED.fails
    $sql$, changed);

    EXECUTE format($sql$
        WITH changed AS (%s),
        per_session AS (
            SELECT session_id,
                   COALESCE(sum(sign) FILTER (WHERE discipline = 'boulder'), 0) AS boulder,
                   COALESCE(sum(sign) FILTER (WHERE discipline <> 'boulder'), 0) AS rope
            FROM changed
            GROUP BY session_id
            ORDER BY session_id
        )
        UPDATE sessions s
        SET boulder_climbs = s.boulder_climbs + p.boulder, rope_climbs = s.rope_climbs + p.rope
        FROM per_session p
        WHERE s.id = p.session_id AND (p.boulder <> 0 OR p.rope <> 0)
    $sql$, changed);

    IF TG_OP <> 'INSERT' THEN
        DELETE FROM climb_tallies
        WHERE user_id IN (SELECT DISTINCT user_id FROM removed) AND sends = 0 AND fails = 0;
    END IF;
    RETURN NULL;
END
$fn$;

-- A trigger with transition tables serves one event.
CREATE TRIGGER climbs_tallies_after_insert AFTER INSERT ON climbs
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION climbs_keep_tallies();
CREATE TRIGGER climbs_tallies_after_update AFTER UPDATE ON climbs
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION climbs_keep_tallies();
CREATE TRIGGER climbs_tallies_after_delete AFTER DELETE ON climbs
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION climbs_keep_tallies();

-- Logbooks written before this migration.
INSERT INTO climb_tallies (user_id, month, discipline, grade_system, difficulty, grade, sends, fails)
SELECT user_id, date_trunc('month', local_date)::date, discipline, grade_system, difficulty, grade,
       count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success)
FROM climbs
GROUP BY 1, 2, 3, 4, 5, 6;

UPDATE sessions s
SET boulder_climbs = c.boulder, rope_climbs = c.rope
FROM (
    SELECT session_id,
           count(*) FILTER (WHERE discipline = 'boulder') AS boulder,
           count(*) FILTER (WHERE discipline <> 'boulder') AS rope
    FROM climbs
    GROUP BY session_id
) c
WHERE s.id = c.session_id;
