//! The private PostgreSQL that `clmb up` and the tests fall back to when no server is
//! given: it starts from the installed programs (as an unprivileged user when run as
//! root), answers queries, is joined rather than started twice, and stops.

#![allow(clippy::unwrap_used)]

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

/// A release archive as theseus-rs publishes them (one top-level directory with `bin/`),
/// made from the programs installed here: links, since PostgreSQL finds its `lib/` and
/// `share/` from the real path of its executable.
fn archive_of_installed_programs(work: &std::path::Path) -> Vec<u8> {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .expect("these tests need the PostgreSQL programs installed")
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .find(|bin| bin.join("initdb").is_file())
        .expect("an installed PostgreSQL with bin/initdb");
    let bin = work.join("postgresql-17.0.0-x86_64-unknown-linux-gnu/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in std::fs::read_dir(&installed)
        .unwrap()
        .filter_map(Result::ok)
    {
        std::os::unix::fs::symlink(program.path(), bin.join(program.file_name())).unwrap();
    }
    let archive = work.join("release.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(work)
        .arg("postgresql-17.0.0-x86_64-unknown-linux-gnu")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(archive).unwrap()
}

#[tokio::test]
async fn fetched_programs_are_unpacked_into_the_cache_run_a_server_and_are_reused() {
    let root = std::env::temp_dir().join(format!("clmb-fetched-pg-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let private_dir = root.join("postgres");
    let cache = pgserver::fetch_cache(&private_dir);
    assert_eq!(cache, root.join("postgresql"), "beside the server's data");

    let archive = archive_of_installed_programs(&root.join("work"));
    let bin = pgserver::install_archive(&archive, &cache.join("17.0.0"))
        .await
        .expect("the archive unpacks");
    assert_eq!(bin, cache.join("17.0.0/bin"));

    // Once cached, no download is attempted: this answers without a network.
    let again = pgserver::fetch_binaries(&cache)
        .await
        .expect("the cached programs are found");
    assert_eq!(again, bin);

    let server = pgserver::start_private_from(bin, &private_dir, 54_333)
        .await
        .expect("a server starts from the unpacked programs");
    let mut conn = sqlx::PgConnection::connect(&server.url)
        .await
        .expect("it answers");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(one, 1);
    assert!(server.started_here());
    server.stop();
    std::fs::remove_dir_all(&root).ok();
}

#[tokio::test]
async fn a_fetch_that_cannot_complete_says_in_one_line_what_to_install() {
    let cache = std::env::temp_dir().join(format!("clmb-fetch-fails-{}", std::process::id()));
    match pgserver::fetch_binaries(&cache).await {
        // A machine that reaches GitHub gets real programs.
        Ok(bin) => assert!(bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()),
        // One that does not (this sandbox) gets one actionable line.
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.contains("apt-get install postgresql"), "{message}");
            assert!(message.contains("CLMB_DATABASE_URL"), "{message}");
        }
    }
    std::fs::remove_dir_all(&cache).ok();
}
