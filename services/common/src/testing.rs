//! Test support: a fresh, migrated database per test on a real PostgreSQL server.
//!
//! The server is `CLMB_TEST_DATABASE_URL` when set, else whatever answers at the
//! default address, else the same private server `clmb up` starts (under `.clmb/`).

use std::path::PathBuf;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::sync::OnceCell;

use crate::db::{self, PoolSettings};

static SERVER_URL: OnceCell<String> = OnceCell::const_new();

/// Where the private server lives: `.clmb/postgres` at the workspace root.
pub fn private_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.clmb/postgres"))
}

/// The URL of the server tests use, starting the private one when needed.
pub async fn server_url() -> String {
    SERVER_URL
        .get_or_init(|| async {
            let explicit = std::env::var("CLMB_TEST_DATABASE_URL").ok();
            match crate::pgserver::resolve(explicit, &private_dir()).await {
                // Tests leave a private server running: other test processes share it.
                Ok(server) => server.url,
                Err(error) => panic!("no PostgreSQL for tests: {error}"),
            }
        })
        .await
        .clone()
}

/// A database made for one test; dropped again when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub pool: PgPool,
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates an empty database and applies `migrator` to it.
    pub async fn new(migrator: &'static Migrator) -> Self {
        let server = server_url().await;
        let name = format!("clmb_test_{}", uuid::Uuid::new_v4().simple());
        let server_options = db::parse_url(&server).expect("test server URL");
        db::ensure_database(&server_options, &name)
            .await
            .expect("create test database");
        let options = server_options.database(&name);
        let pool = db::connect(
            options,
            PoolSettings {
                max_connections: 8,
                ..Default::default()
            },
        )
        .await
        .expect("connect to test database");
        db::migrate(&pool, migrator)
            .await
            .expect("migrate test database");
        let url = with_database(&server, &name);
        Self {
            pool,
            url,
            name,
            server,
        }
    }
}

/// The same server URL with another database name.
pub fn with_database(server_url: &str, name: &str) -> String {
    match server_url.rsplit_once('/') {
        Some((base, tail)) if !base.ends_with('/') => {
            let query = tail
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{base}/{name}{query}")
        }
        _ => format!("{server_url}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let server = std::mem::take(&mut self.server);
        // Async work cannot run in Drop; a short-lived thread with its own runtime can.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use sqlx::Connection;
                let Ok(options) = db::parse_url(&server) else {
                    return;
                };
                if let Ok(mut conn) = sqlx::PgConnection::connect_with(&options).await {
                    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                        .execute(&mut conn)
                        .await
                        .ok();
                    conn.close().await.ok();
                }
            });
        });
        dropper.join().ok();
    }
}
