//! Starting clmb components: one at a time, as containers run them, or the whole stack in
//! one process (`clmb up`, and the end-to-end tests).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clmb_common::auth::{KeyPair, TokenSigner, TokenVerifier};
use clmb_common::client::ServiceClient;
use clmb_common::db::{self, PoolSettings};
pub use clmb_gateway::RateLimits;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The services with a database, by the name `clmb migrate` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Users,
    Gyms,
    Sessions,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Users, Service::Gyms, Service::Sessions];

    pub fn name(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Gyms => "gyms",
            Self::Sessions => "sessions",
        }
    }

    pub fn migrator(self) -> &'static Migrator {
        match self {
            Self::Users => &clmb_users::MIGRATOR,
            Self::Gyms => &clmb_gyms::MIGRATOR,
            Self::Sessions => &clmb_sessions::MIGRATOR,
        }
    }
}

/// Timeouts every component uses, and the gateway's rate limits (they travel together
/// so that a test, like `clmb up`, sets both in one place).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// A request to a service, end to end.
    pub request: Duration,
    /// One call from a component to another.
    pub call: Duration,
    /// A composed read at the gateway, in all.
    pub deadline: Duration,
    /// A call the gateway forwards (imports are the slow ones).
    pub forward: Duration,
    /// Sign-in calls per client address and writes per climber, at the gateway.
    pub rate_limits: RateLimits,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(30),
            call: Duration::from_secs(2),
            deadline: Duration::from_secs(5),
            forward: Duration::from_secs(60),
            rate_limits: RateLimits::default(),
        }
    }
}

/// Connects to a service's database and applies its migrations.
pub async fn migrate(service: Service, database_url: &str) -> anyhow::Result<PgPool> {
    let options = db::parse_url(database_url)?;
    let pool = db::connect(options, PoolSettings::default()).await?;
    db::migrate(&pool, service.migrator()).await?;
    tracing::info!(service = service.name(), "migrations applied");
    Ok(pool)
}

/// Reads the signing key pair kept in `dir`, making one on first use.
pub fn load_or_create_keys(dir: &Path) -> anyhow::Result<KeyPair> {
    let private = dir.join("private.pem");
    if private.exists() {
        let pem = std::fs::read_to_string(&private)
            .with_context(|| format!("reading {}", private.display()))?;
        return Ok(KeyPair::from_private_pem(&pem)?);
    }
    std::fs::create_dir_all(dir)?;
    let pair = KeyPair::generate()?;
    std::fs::write(&private, &pair.private_pem)?;
    std::fs::write(dir.join("public.pem"), &pair.public_pem)?;
    Ok(pair)
}

/// What every component needs to reach the others and to check tokens.
#[derive(Clone, Debug)]
pub struct Wiring {
    pub verifier: TokenVerifier,
    pub users_url: String,
    pub gyms_url: String,
    pub sessions_url: String,
    pub timeouts: Timeouts,
}

/// The users service's router, with its deletion worker started on `tasks`.
pub fn users_app(
    pool: PgPool,
    signer: TokenSigner,
    wiring: &Wiring,
    password_params: argon2::Params,
    tasks: &mut JoinSet<()>,
    shutdown: CancellationToken,
) -> axum::Router {
    let call = wiring.timeouts.call;
    let peers = vec![
        clmb_users::Peer {
            name: "gyms",
            client: ServiceClient::new("gyms", &wiring.gyms_url, call),
        },
        clmb_users::Peer {
            name: "sessions",
            client: ServiceClient::new("sessions", &wiring.sessions_url, call),
        },
    ];
    let settings = clmb_users::Settings {
        signer,
        verifier: wiring.verifier.clone(),
        peers,
        request_timeout: wiring.timeouts.request,
        password_params,
    };
    let state = clmb_users::AppState::new(pool, &settings);
    tasks.spawn(clmb_users::deletion::run(
        state.clone(),
        Duration::from_secs(5),
        shutdown,
    ));
    clmb_users::router(state, wiring.timeouts.request)
}

pub fn gyms_app(pool: PgPool, wiring: &Wiring) -> axum::Router {
    let settings = clmb_gyms::Settings {
        verifier: wiring.verifier.clone(),
        request_timeout: wiring.timeouts.request,
    };
    clmb_gyms::router(pool, settings)
}

pub fn sessions_app(pool: PgPool, wiring: &Wiring) -> axum::Router {
    let call = wiring.timeouts.call;
    let peers = clmb_sessions::Peers {
        users: ServiceClient::new("users", &wiring.users_url, call),
        gyms: ServiceClient::new("gyms", &wiring.gyms_url, call),
    };
    let state = clmb_sessions::AppState {
        pool,
        verifier: wiring.verifier.clone(),
        peers,
    };
    clmb_sessions::router(state, wiring.timeouts.request)
}

pub fn gateway_app(wiring: &Wiring) -> axum::Router {
    clmb_gateway::router(&clmb_gateway::Settings {
        users_url: wiring.users_url.clone(),
        gyms_url: wiring.gyms_url.clone(),
        sessions_url: wiring.sessions_url.clone(),
        verifier: wiring.verifier.clone(),
        call_timeout: wiring.timeouts.call,
        deadline: wiring.timeouts.deadline,
        forward_timeout: wiring.timeouts.forward,
        rate_limits: wiring.timeouts.rate_limits,
    })
}

/// Where the whole stack listens and which server holds its databases.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// A PostgreSQL server URL; the stack makes its databases there.
    pub server_url: String,
    /// Databases are `<prefix>_users`, `<prefix>_gyms`, `<prefix>_sessions`.
    pub database_prefix: String,
    pub gateway: SocketAddr,
    pub users: SocketAddr,
    pub gyms: SocketAddr,
    pub sessions: SocketAddr,
    pub keys: KeyPair,
    pub timeouts: Timeouts,
    pub password_params: argon2::Params,
}

/// A running stack. Each component serves on its own listener, and they reach each
/// other over HTTP exactly as in a cluster.
pub struct Stack {
    pub gateway: SocketAddr,
    pub users: SocketAddr,
    pub gyms: SocketAddr,
    pub sessions: SocketAddr,
    pub pools: Vec<(Service, PgPool)>,
    servers: JoinSet<()>,
    workers: JoinSet<()>,
    shutdown: CancellationToken,
    components: Vec<Component>,
}

/// One running component: enough to stop it and to start it again on the same address.
struct Component {
    name: &'static str,
    addr: SocketAddr,
    app: axum::Router,
    stop: CancellationToken,
    /// Cancelled once its server has stopped and its last request has been answered.
    finished: CancellationToken,
}

impl Stack {
    /// Creates the databases when missing, applies migrations and starts every component.
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        let server = db::parse_url(&options.server_url)?;
        let mut pools = Vec::new();
        for service in Service::ALL {
            let name = format!("{}_{}", options.database_prefix, service.name());
            db::ensure_database(&server, &name).await?;
            let pool = db::connect(server.clone().database(&name), PoolSettings::default()).await?;
            db::migrate(&pool, service.migrator())
                .await
                .with_context(|| format!("migrating the {} database", service.name()))?;
            pools.push((service, pool));
        }
        let pool_of = |wanted: Service| {
            pools
                .iter()
                .find(|(s, _)| *s == wanted)
                .map(|(_, p)| p.clone())
                .context("pool")
        };

        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))
        };
        let users_listener = bind(options.users).await?;
        let gyms_listener = bind(options.gyms).await?;
        let sessions_listener = bind(options.sessions).await?;
        let gateway_listener = bind(options.gateway).await?;
        let url = |l: &TcpListener| l.local_addr().map(|a| format!("http://{a}"));
        let (users_url, gyms_url, sessions_url) = (
            url(&users_listener)?,
            url(&gyms_listener)?,
            url(&sessions_listener)?,
        );

        let signer = TokenSigner::new(&options.keys, 900)?;
        let wiring = Wiring {
            verifier: TokenVerifier::new([options.keys.public_pem.as_str()])?,
            users_url,
            gyms_url,
            sessions_url,
            timeouts: options.timeouts,
        };
        let shutdown = CancellationToken::new();
        let mut workers = JoinSet::new();

        let users = users_app(
            pool_of(Service::Users)?,
            signer,
            &wiring,
            options.password_params.clone(),
            &mut workers,
            shutdown.clone(),
        );
        let apps = [
            ("users", users_listener, users),
            (
                "gyms",
                gyms_listener,
                gyms_app(pool_of(Service::Gyms)?, &wiring),
            ),
            (
                "sessions",
                sessions_listener,
                sessions_app(pool_of(Service::Sessions)?, &wiring),
            ),
            ("gateway", gateway_listener, gateway_app(&wiring)),
        ];

        let mut stack = Stack {
            gateway: options.gateway,
            users: options.users,
            gyms: options.gyms,
            sessions: options.sessions,
            pools,
            servers: JoinSet::new(),
            workers,
            shutdown,
            components: Vec::new(),
        };
        for (name, listener, app) in apps {
            let addr = listener.local_addr()?;
            match name {
                "users" => stack.users = addr,
                "gyms" => stack.gyms = addr,
                "sessions" => stack.sessions = addr,
                _ => stack.gateway = addr,
            }
            stack.serve(name, listener, app)?;
        }
        Ok(stack)
    }

    fn serve(
        &mut self,
        name: &'static str,
        listener: TcpListener,
        app: axum::Router,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        let stop = self.shutdown.child_token();
        let finished = CancellationToken::new();
        self.components.retain(|c| c.name != name);
        self.components.push(Component {
            name,
            addr,
            app: app.clone(),
            stop: stop.clone(),
            finished: finished.clone(),
        });
        self.servers.spawn(async move {
            let signal = async move { stop.cancelled().await };
            if let Err(error) = clmb_common::http::serve(listener, app, signal).await {
                tracing::error!(component = name, error = %error, "server failed");
            }
            finished.cancel();
        });
        tracing::info!(component = name, address = %addr, "listening");
        Ok(())
    }

    /// Stops one component (tests use this to show how the others cope).
    pub fn stop_component(&self, name: &str) {
        if let Some(component) = self.components.iter().find(|c| c.name == name) {
            component.stop.cancel();
        }
    }

    /// Starts a stopped component again on the address it had.
    pub async fn restart_component(&mut self, name: &str) -> anyhow::Result<()> {
        let component = self
            .components
            .iter()
            .find(|c| c.name == name)
            .context("no such component")?;
        let (name, addr, app) = (component.name, component.addr, component.app.clone());
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        self.serve(name, listener, app)
    }

    /// Stops every component and waits for requests in flight to finish.
    ///
    /// The gateway goes first, and the services only once its last request is answered:
    /// a request in flight (an import, say) may still need a service behind it.
    pub async fn stop(mut self) {
        if let Some(gateway) = self.components.iter().find(|c| c.name == "gateway") {
            gateway.stop.cancel();
            gateway.finished.cancelled().await;
        }
        self.shutdown.cancel();
        while self.servers.join_next().await.is_some() {}
        self.workers.abort_all();
        while self.workers.join_next().await.is_some() {}
        for (_, pool) in &self.pools {
            pool.close().await;
        }
    }
}
