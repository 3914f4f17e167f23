//! `clmb`: runs the whole stack locally (`clmb up`), one component as a container does
//! (`clmb gateway|users|gyms|sessions`), or a service's migrations (`clmb migrate`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use clmb::{RateLimits, Service, Stack, StackOptions, Timeouts};
use clmb_common::auth::{KeyPair, TokenSigner, TokenVerifier};
use clmb_common::db::{self, PoolSettings};
use clmb_common::http::{serve, shutdown_signal};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// glibc's malloc keeps what worker and blocking threads free in per-thread arenas, so a
/// process that once hashed passwords (Argon2id takes 19 MiB a hash) or served a burst
/// holds that memory for good; jemalloc gives freed pages back to the kernel.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(name = "clmb", version, about = "Every climb a climber makes.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the whole stack in one process: every service and the gateway.
    Up(UpArgs),
    /// Runs the gateway.
    Gateway(ComponentArgs),
    /// Runs the users service.
    Users(ComponentArgs),
    /// Runs the gyms service.
    Gyms(ComponentArgs),
    /// Runs the sessions service.
    Sessions(ComponentArgs),
    /// Applies a service's database migrations and exits.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
struct UpArgs {
    /// PostgreSQL server for the stack's databases; when absent, the server at
    /// 127.0.0.1:5432, else a private one under the data directory.
    #[arg(long, env = "CLMB_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Address every component listens on.
    #[arg(long, env = "CLMB_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, env = "CLMB_GATEWAY_PORT", default_value_t = 8080)]
    gateway_port: u16,
    #[arg(long, env = "CLMB_USERS_PORT", default_value_t = 8081)]
    users_port: u16,
    #[arg(long, env = "CLMB_GYMS_PORT", default_value_t = 8082)]
    gyms_port: u16,
    #[arg(long, env = "CLMB_SESSIONS_PORT", default_value_t = 8083)]
    sessions_port: u16,
    /// Where the private PostgreSQL and the local signing key are kept.
    #[arg(long, env = "CLMB_DATA_DIR", default_value = ".clmb")]
    data_dir: PathBuf,
    /// The stack's databases are `<prefix>_users`, `<prefix>_gyms`, `<prefix>_sessions`;
    /// another prefix keeps a second stack (a fuzz run) off a developer's data.
    #[arg(long, env = "CLMB_DATABASE_PREFIX", default_value = "clmb")]
    database_prefix: String,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The gateway's rate limits (api.md: too many requests get 429 with `Retry-After`).
#[derive(Debug, Args)]
struct LimitArgs {
    /// `off` turns every rate limit off (benchmarks); `on` applies the numbers below.
    #[arg(long, env = "CLMB_RATE_LIMITS", value_enum, default_value_t = Switch::On)]
    rate_limits: Switch,
    /// Login, register and refresh calls per client address and minute; 0 is no limit.
    #[arg(long, env = "CLMB_RATE_LIMIT_AUTH_PER_MINUTE", default_value_t = RateLimits::default().auth_per_minute)]
    rate_limit_auth_per_minute: u32,
    /// Login, register and refresh calls one address may make at once.
    #[arg(long, env = "CLMB_RATE_LIMIT_AUTH_BURST", default_value_t = RateLimits::default().auth_burst)]
    rate_limit_auth_burst: u32,
    /// Sign-ins to one account (the `login` given, from any address) per minute; 0 is no
    /// limit.
    #[arg(long, env = "CLMB_RATE_LIMIT_ACCOUNT_LOGINS_PER_MINUTE", default_value_t = RateLimits::default().account_logins_per_minute)]
    rate_limit_account_logins_per_minute: u32,
    /// Sign-ins to one account at once.
    #[arg(long, env = "CLMB_RATE_LIMIT_ACCOUNT_LOGINS_BURST", default_value_t = RateLimits::default().account_logins_burst)]
    rate_limit_account_logins_burst: u32,
    /// Writes per climber (per address without a token) and minute; 0 is no limit.
    #[arg(long, env = "CLMB_RATE_LIMIT_WRITES_PER_MINUTE", default_value_t = RateLimits::default().writes_per_minute)]
    rate_limit_writes_per_minute: u32,
    /// Writes one climber may make at once.
    #[arg(long, env = "CLMB_RATE_LIMIT_WRITES_BURST", default_value_t = RateLimits::default().writes_burst)]
    rate_limit_writes_burst: u32,
    /// Take the client address from the last hop of `X-Forwarded-For`; set it only
    /// behind a proxy that writes that header, as clients can forge it.
    #[arg(long, env = "CLMB_TRUST_FORWARDED_FOR", default_value_t = false)]
    trust_forwarded_for: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Switch {
    On,
    Off,
}

impl LimitArgs {
    fn rate_limits(&self) -> RateLimits {
        if self.rate_limits == Switch::Off {
            return RateLimits::OFF;
        }
        RateLimits {
            auth_per_minute: self.rate_limit_auth_per_minute,
            auth_burst: self.rate_limit_auth_burst,
            account_logins_per_minute: self.rate_limit_account_logins_per_minute,
            account_logins_burst: self.rate_limit_account_logins_burst,
            writes_per_minute: self.rate_limit_writes_per_minute,
            writes_burst: self.rate_limit_writes_burst,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }
}

#[derive(Debug, Args)]
struct ComponentArgs {
    /// Address to listen on.
    #[arg(long, env = "CLMB_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// This service's database (users, gyms, sessions).
    #[arg(long, env = "CLMB_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[arg(long, env = "CLMB_USERS_URL", default_value = "http://127.0.0.1:8081")]
    users_url: String,
    #[arg(long, env = "CLMB_GYMS_URL", default_value = "http://127.0.0.1:8082")]
    gyms_url: String,
    #[arg(
        long,
        env = "CLMB_SESSIONS_URL",
        default_value = "http://127.0.0.1:8083"
    )]
    sessions_url: String,
    /// Public keys (PEM files, comma-separated) that access tokens may be signed with.
    #[arg(long, env = "CLMB_JWT_PUBLIC_KEY_FILE", value_delimiter = ',')]
    jwt_public_key_file: Vec<PathBuf>,
    /// The private signing key (users service only).
    #[arg(long, env = "CLMB_JWT_PRIVATE_KEY_FILE")]
    jwt_private_key_file: Option<PathBuf>,
    /// Apply this service's migrations before serving (upgrade Jobs do it in a cluster).
    #[arg(long, env = "CLMB_MIGRATE_ON_START", default_value_t = false)]
    migrate_on_start: bool,
    /// Rate limits (the gateway only).
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    service: Service,
    #[arg(long, env = "CLMB_DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

fn main() -> ExitCode {
    clmb_common::telemetry::init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("clmb: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line a human can act on, not a backtrace.
            eprintln!("clmb: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => up(args).await,
        Command::Migrate(args) => {
            let pool = clmb::migrate(args.service, &args.database_url).await?;
            pool.close().await;
            Ok(())
        }
        Command::Gateway(args) => component("gateway", args).await,
        Command::Users(args) => component("users", args).await,
        Command::Gyms(args) => component("gyms", args).await,
        Command::Sessions(args) => component("sessions", args).await,
    }
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = std::path::absolute(&args.data_dir)?;
    let server =
        clmb_common::pgserver::resolve(args.database_url, &data_dir.join("postgres")).await?;
    let keys = clmb::load_or_create_keys(&data_dir.join("keys"))?;
    let at = |port| SocketAddr::new(args.host, port);
    let options = StackOptions {
        server_url: server.url.clone(),
        database_prefix: args.database_prefix.clone(),
        gateway: at(args.gateway_port),
        users: at(args.users_port),
        gyms: at(args.gyms_port),
        sessions: at(args.sessions_port),
        keys,
        timeouts: Timeouts {
            rate_limits: args.limits.rate_limits(),
            ..Timeouts::default()
        },
        password_params: argon2::Params::default(),
    };
    let stack = match Stack::start(options).await {
        Ok(stack) => stack,
        Err(error) => {
            server.stop();
            return Err(error);
        }
    };
    println!("clmb is up:");
    println!(
        "  gateway   http://{}   (the API: http://{}/api/v1, docs: http://{}/docs)",
        stack.gateway, stack.gateway, stack.gateway
    );
    println!("  users     http://{}", stack.users);
    println!("  gyms      http://{}", stack.gyms);
    println!("  sessions  http://{}", stack.sessions);
    println!(
        "  postgres  {}",
        if server.started_here() {
            "private server under .clmb/postgres"
        } else {
            "external server"
        }
    );
    println!("Stop with Ctrl-C.");

    shutdown_signal().await;
    stack.stop().await;
    server.stop();
    Ok(())
}

fn read_keys(args: &ComponentArgs) -> anyhow::Result<(Vec<String>, Option<KeyPair>)> {
    let mut public = Vec::new();
    for path in &args.jwt_public_key_file {
        public.push(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let private = match &args.jwt_private_key_file {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(KeyPair::from_private_pem(&pem)?)
        }
        None => None,
    };
    if let Some(pair) = &private
        && !public.contains(&pair.public_pem)
    {
        public.push(pair.public_pem.clone());
    }
    anyhow::ensure!(
        !public.is_empty(),
        "no public key: set CLMB_JWT_PUBLIC_KEY_FILE"
    );
    Ok((public, private))
}

async fn component(name: &'static str, args: ComponentArgs) -> anyhow::Result<()> {
    let (public, private) = read_keys(&args)?;
    let verifier = TokenVerifier::new(public.iter().map(String::as_str))?;
    let timeouts = Timeouts {
        rate_limits: args.limits.rate_limits(),
        ..Timeouts::default()
    };
    let shutdown = CancellationToken::new();
    let mut workers = JoinSet::new();

    let pool = if name == "gateway" {
        None
    } else {
        let url = args
            .database_url
            .as_deref()
            .context("CLMB_DATABASE_URL is required")?;
        let pool = db::connect(db::parse_url(url)?, PoolSettings::default()).await?;
        if args.migrate_on_start {
            let service = Service::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .context("service")?;
            db::migrate(&pool, service.migrator()).await?;
        }
        Some(pool)
    };

    let wiring = clmb::Wiring {
        verifier,
        users_url: args.users_url.clone(),
        gyms_url: args.gyms_url.clone(),
        sessions_url: args.sessions_url.clone(),
        timeouts,
    };
    let app = match (name, pool) {
        ("gateway", _) => clmb::gateway_app(&wiring),
        ("users", Some(pool)) => {
            let pair = private.context("the users service needs CLMB_JWT_PRIVATE_KEY_FILE")?;
            let signer = TokenSigner::new(&pair, 900)?;
            let params = argon2::Params::default();
            clmb::users_app(
                pool,
                signer,
                &wiring,
                params,
                &mut workers,
                shutdown.clone(),
            )
        }
        ("gyms", Some(pool)) => clmb::gyms_app(pool, &wiring),
        ("sessions", Some(pool)) => clmb::sessions_app(pool, &wiring),
        _ => anyhow::bail!("unknown component {name}"),
    };

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(component = name, address = %args.listen, "listening");
    serve(listener, app, shutdown_signal()).await?;
    shutdown.cancel();
    while workers.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rate_limits_default_to_the_documented_numbers_and_turn_off() {
        let Command::Up(args) = Cli::parse_from(["clmb", "up"]).command else {
            unreachable!("parsed `up`")
        };
        assert_eq!(args.limits.rate_limits(), RateLimits::default());
        assert_eq!(args.database_prefix, "clmb");

        let Command::Up(args) = Cli::parse_from(["clmb", "up", "--rate-limits", "off"]).command
        else {
            unreachable!("parsed `up`")
        };
        assert_eq!(args.limits.rate_limits(), RateLimits::OFF);

        let Command::Gateway(args) = Cli::parse_from([
            "clmb",
            "gateway",
            "--rate-limit-auth-per-minute",
            "5",
            "--trust-forwarded-for",
        ])
        .command
        else {
            unreachable!("parsed `gateway`")
        };
        let limits = args.limits.rate_limits();
        assert_eq!(limits.auth_per_minute, 5);
        assert!(limits.trust_forwarded_for);
    }
}
