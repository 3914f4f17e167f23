//! The private PostgreSQL that `clmb up` and the tests fall back to when no server is
//! given: it starts from the installed programs (as an unprivileged user when run as
//! root), answers queries, is joined rather than started twice, and stops.

use clmb_common::pgserver;
use sqlx::Connection;

#[tokio::test]
async fn a_private_server_starts_answers_is_shared_and_stops() {
    let dir = std::env::temp_dir().join(format!("clmb-private-pg-{}", std::process::id()));
    let port = 54_331;

    let first = pgserver::start_private(&dir, port)
        .await
        .expect("a private server starts");
    let mut conn = sqlx::PgConnection::connect(&first.url)
        .await
        .expect("it answers");
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let second = pgserver::start_private(&dir, port)
        .await
        .expect("joining works");

    assert!(!version.is_empty());
    assert!(first.started_here(), "the first caller starts it");
    assert!(
        !second.started_here(),
        "the second joins the running server"
    );

    first.stop();
    let after = sqlx::PgConnection::connect(&second.url).await;
    assert!(
        after.is_err(),
        "the server is stopped by the one who started it"
    );
    std::fs::remove_dir_all(&dir).ok();
}
