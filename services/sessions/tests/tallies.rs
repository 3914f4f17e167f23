//! The monthly tallies statistics read must always equal counting the climbs themselves:
//! after inserts, bulk inserts, edits, deletes and cascades, for every date window.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use clmb_common::testing::TestDatabase;
use clmb_grades::Family;
use clmb_sessions::stats::{Window, tallies};
use clmb_sessions::{MIGRATOR, store};
use sqlx::PgPool;
use time::Date;
use time::macros::date;
use uuid::Uuid;

type Counts = BTreeMap<(Date, String, String), (i64, i64)>;

/// A logbook of random sessions and climbs between November 2021 and March 2023.
async fn seed(pool: &PgPool, user: Uuid, seed: f64) {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SELECT setseed($1)")
        .bind(seed)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, local_date, started_at, ended_at)
         SELECT gen_random_uuid(), $1, d, d + time '10:00', d + time '10:00' + (n % 180) * interval '1 minute'
         FROM (SELECT n, date '2021-11-10' + (random() * 500)::int AS d FROM generate_series(1, 300) n) t",
    )
    .bind(user)
    .execute(&mut *conn)
    .await
    .unwrap();
    // One statement for most climbs, as an import writes them, then a few one by one.
    let insert = "INSERT INTO climbs (id, session_id, user_id, discipline, grade, grade_system,
                                      difficulty, attempt_type, success, attempts, climbed_at, local_date)
         SELECT gen_random_uuid(), s.id, s.user_id, d.discipline, 'g' || d.step, d.system,
                d.step * 5.0, 'redpoint', random() < 0.7, 1, s.started_at, s.local_date
         FROM (SELECT * FROM sessions WHERE user_id = $1 ORDER BY random() LIMIT $2) s,
              generate_series(1, $3) n,
              LATERAL (SELECT (ARRAY['boulder', 'sport', 'trad', 'top_rope'])[1 + (random() * 3)::int + 0 * n] AS discipline,
                              (ARRAY['v_scale', 'font', 'yds', 'french'])[1 + (random() * 3)::int] AS system,
                              (random() * 12)::int AS step) d";
    sqlx::query(insert)
        .bind(user)
        .bind(300_i64)
        .bind(10)
        .execute(&mut *conn)
        .await
        .unwrap();
    for _ in 0..20 {
        sqlx::query(insert)
            .bind(user)
            .bind(1_i64)
            .bind(1)
            .execute(&mut *conn)
            .await
            .unwrap();
    }

    // Edits that move climbs between grades, outcomes, disciplines and months.
    sqlx::query(
        "UPDATE climbs SET success = NOT success, difficulty = difficulty + 5,
                           local_date = local_date + 20, discipline = 'boulder'
         WHERE user_id = $1 AND random() < 0.15",
    )
    .bind(user)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("DELETE FROM climbs WHERE user_id = $1 AND random() < 0.1")
        .bind(user)
        .execute(&mut *conn)
        .await
        .unwrap();
    // Deleting a session deletes its climbs by cascade.
    sqlx::query(
        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE user_id = $1 ORDER BY random() LIMIT 30)",
    )
    .bind(user)
    .execute(&mut *conn)
    .await
    .unwrap();
}

/// Counting the climbs themselves, per month, grade system and difficulty.
async fn counted(
    pool: &PgPool,
    user: Uuid,
    family: Family,
    from: Option<Date>,
    to: Option<Date>,
) -> Counts {
    let rows: Vec<(Date, String, f64, i64, i64)> = sqlx::query_as(
        "SELECT date_trunc('month', local_date)::date, grade_system, difficulty,
                count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success)
         FROM climbs
         WHERE user_id = $1 AND (discipline = 'boulder') = $2
           AND ($3::date IS NULL OR local_date >= $3) AND ($4::date IS NULL OR local_date <= $4)
         GROUP BY 1, 2, 3",
    )
    .bind(user)
    .bind(family == Family::Boulder)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(month, system, difficulty, sends, fails)| {
            ((month, system, difficulty.to_string()), (sends, fails))
        })
        .collect()
}

/// What statistics read: the tallies of whole months plus the climbs of the edge days.
async fn read(
    pool: &PgPool,
    user: Uuid,
    family: Family,
    from: Option<Date>,
    to: Option<Date>,
) -> Counts {
    let mut counts = Counts::new();
    for tally in tallies(pool, user, family, &Window::new(from, to))
        .await
        .unwrap()
    {
        let entry = counts
            .entry((
                tally.month,
                tally.grade_system,
                tally.difficulty.to_string(),
            ))
            .or_default();
        entry.0 += tally.sends;
        entry.1 += tally.fails;
    }
    counts.retain(|_, (sends, fails)| *sends != 0 || *fails != 0);
    counts
}

#[tokio::test]
async fn tallies_equal_counting_the_climbs_for_every_window() {
    let db = TestDatabase::new(&MIGRATOR).await;
    let (climber, neighbour) = (Uuid::now_v7(), Uuid::now_v7());
    seed(&db.pool, climber, 0.25).await;
    seed(&db.pool, neighbour, 0.75).await;

    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM climbs WHERE user_id = $1")
        .bind(climber)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(total > 2000, "the seed made {total} climbs");

    let windows = [
        (None, None),
        (Some(date!(2022 - 03 - 01)), None),
        (Some(date!(2022 - 03 - 17)), None),
        (None, Some(date!(2022 - 06 - 30))),
        (None, Some(date!(2022 - 06 - 12))),
        (Some(date!(2022 - 01 - 01)), Some(date!(2022 - 12 - 31))),
        (Some(date!(2021 - 12 - 15)), Some(date!(2022 - 02 - 14))),
        (Some(date!(2022 - 02 - 03)), Some(date!(2022 - 02 - 20))),
        (Some(date!(2022 - 02 - 03)), Some(date!(2022 - 03 - 20))),
        (Some(date!(2022 - 02 - 01)), Some(date!(2022 - 02 - 28))),
        (Some(date!(2022 - 12 - 31)), Some(date!(2023 - 01 - 01))),
        (Some(date!(2022 - 05 - 05)), Some(date!(2022 - 05 - 05))),
        (Some(date!(2022 - 06 - 01)), Some(date!(2022 - 05 - 01))),
    ];
    for family in [Family::Boulder, Family::Rope] {
        for (from, to) in windows {
            let expected = counted(&db.pool, climber, family, from, to).await;
            let got = read(&db.pool, climber, family, from, to).await;
            assert_eq!(got, expected, "{family:?} from {from:?} to {to:?}");
        }
    }

    // Every session knows how many climbs of each family it holds.
    let wrong: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions s
         LEFT JOIN (
             SELECT session_id,
                    count(*) FILTER (WHERE discipline = 'boulder') AS boulder,
                    count(*) FILTER (WHERE discipline <> 'boulder') AS rope
             FROM climbs GROUP BY session_id
         ) c ON c.session_id = s.id
         WHERE (s.boulder_climbs, s.rope_climbs) <> (COALESCE(c.boulder, 0), COALESCE(c.rope, 0))",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(wrong, 0);

    // Erasing a climber leaves no tally of theirs and the neighbour's intact.
    let neighbour_before = read(&db.pool, neighbour, Family::Rope, None, None).await;
    store::delete_user_data(&db.pool, climber).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM climb_tallies WHERE user_id = $1")
        .bind(climber)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        read(&db.pool, neighbour, Family::Rope, None, None).await,
        neighbour_before
    );
    assert!(!neighbour_before.is_empty());
}

#[test]
fn a_window_splits_into_whole_months_and_edge_days() {
    let window = Window::new(Some(date!(2022 - 02 - 03)), Some(date!(2022 - 05 - 20)));
    assert_eq!(
        window.months,
        Some((Some(date!(2022 - 03 - 01)), Some(date!(2022 - 05 - 01))))
    );
    assert_eq!(
        window.edges,
        vec![
            (date!(2022 - 02 - 03), date!(2022 - 02 - 28)),
            (date!(2022 - 05 - 01), date!(2022 - 05 - 20)),
        ]
    );

    // Month-aligned bounds need no edge days; December rolls into January.
    let window = Window::new(Some(date!(2022 - 12 - 01)), Some(date!(2022 - 12 - 31)));
    assert_eq!(
        window.months,
        Some((Some(date!(2022 - 12 - 01)), Some(date!(2023 - 01 - 01))))
    );
    assert!(window.edges.is_empty());

    // Inside one month: days only.
    let window = Window::new(Some(date!(2024 - 02 - 10)), Some(date!(2024 - 02 - 29)));
    assert_eq!(window.months, None);
    assert_eq!(
        window.edges,
        vec![(date!(2024 - 02 - 10), date!(2024 - 02 - 29))]
    );

    // Open bounds, and a reversed window that holds nothing.
    assert_eq!(
        Window::new(None, None),
        Window {
            months: Some((None, None)),
            edges: vec![]
        }
    );
    assert_eq!(
        Window::new(Some(date!(2022 - 06 - 02)), Some(date!(2022 - 06 - 01))),
        Window {
            months: None,
            edges: vec![]
        }
    );
}
