//! Database connections: one PostgreSQL database per service, created when missing,
//! migrated by the migrations embedded in the binary.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL is not valid: {0}")]
    InvalidUrl(String),
    #[error("failed to connect to the database server: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("failed to create database {name}: {source}")]
    CreateDatabase { name: String, source: sqlx::Error },
    #[error("failed to apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("failed to query the database: {0}")]
    Query(#[source] sqlx::Error),
}

pub fn parse_url(url: &str) -> Result<PgConnectOptions, DbError> {
    // The error text of a bad URL could quote it, password included: keep it generic.
    PgConnectOptions::from_str(url).map_err(|_| {
        DbError::InvalidUrl("expected postgres://user[:password]@host[:port]/database".into())
    })
}

/// Pool settings shared by the services.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

pub async fn connect(options: PgConnectOptions, settings: PoolSettings) -> Result<PgPool, DbError> {
    let options = options.log_statements(tracing::log::LevelFilter::Trace);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A connection that died with a database restart is found and replaced before use.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Creates database `name` on the server `server` points at, unless it exists.
pub async fn ensure_database(server: &PgConnectOptions, name: &str) -> Result<(), DbError> {
    let mut conn = PgConnection::connect_with(server)
        .await
        .map_err(DbError::Connect)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .map_err(DbError::Query)?;
    if !exists {
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
        {
            Ok(_) => tracing::info!(database = name, "created database"),
            // Another process created it between our check and our CREATE.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(source) => {
                return Err(DbError::CreateDatabase {
                    name: name.to_owned(),
                    source,
                });
            }
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// How many of the binary's migrations the database has not applied yet.
pub async fn pending_migrations(pool: &PgPool, migrator: &Migrator) -> Result<usize, DbError> {
    let applied: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(applied) => applied,
            // No table yet: nothing is applied.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(DbError::Query(e)),
        };
    Ok(migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| !applied.contains(&m.version))
        .count())
}

pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> Result<(), DbError> {
    migrator.run(pool).await.map_err(DbError::Migrate)
}

/// True when a unique constraint of this name was violated.
pub fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            e.code().as_deref() == Some("23505") && e.constraint() == Some(constraint)
        }
        _ => false,
    }
}
