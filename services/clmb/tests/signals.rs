//! `clmb up` as a real process, stopped by a signal while it works: requests in flight
//! finish and are kept, new connections are refused, and the process exits 0.

// Helpers of a test file: a failure in them is the test failing.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

const IMPORTS: usize = 4;
const ROWS_PER_IMPORT: usize = 6_000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Mountain Project ticks export of `rows` boulder sends, each on its own route.
fn ticks_export(first_route: usize, rows: usize) -> String {
    let mut csv = String::from(
        "Date,Route,Rating,Notes,URL,Pitches,Location,\"Avg Stars\",\"Your Stars\",Style,\
         \"Lead Style\",\"Route Type\",\"Your Rating\",Length,\"Rating Code\"\n",
    );
    for i in first_route..first_route + rows {
        let day = 1 + i % 28;
        csv.push_str(&format!(
            "2024-02-{day:02},\"Problem {i}\",V{},,https://www.mountainproject.com/route/{i}/p,1,\
             \"Colorado > Boulder > Flagstaff\",3.0,-1,Flash,,Boulder,,,\n",
            i % 10
        ));
    }
    csv
}

struct Up {
    child: Child,
    gateway: String,
    log: std::path::PathBuf,
}

impl Up {
    fn start(server_url: &str, prefix: &str, dir: &std::path::Path) -> Self {
        let log = dir.join("clmb.log");
        let out = File::create(&log).unwrap();
        let gateway_port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_clmb"))
            .arg("up")
            .args(["--gateway-port", &gateway_port.to_string()])
            .args(["--users-port", &free_port().to_string()])
            .args(["--gyms-port", &free_port().to_string()])
            .args(["--sessions-port", &free_port().to_string()])
            .arg("--data-dir")
            .arg(dir)
            .args(["--database-prefix", prefix, "--rate-limits", "off"])
            .env("CLMB_DATABASE_URL", server_url)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Self {
            child,
            gateway: format!("http://127.0.0.1:{gateway_port}"),
            log,
        }
    }

    /// Waits for the gateway to be ready (migrations applied on fresh databases).
    async fn ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ready = http.get(format!("{}/readyz", self.gateway)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "clmb up exited: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            assert!(Instant::now() < deadline, "clmb up never became ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test]
async fn sigterm_lets_imports_in_flight_finish_refuses_new_connections_and_exits_0() {
    let server_url = clmb_common::testing::server_url().await;
    let prefix = format!("clmb_sig_{}", uuid::Uuid::new_v4().simple());
    let dir = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&dir).unwrap();
    let http = clmb_common::client::http_client().build().unwrap();

    let mut up = Up::start(&server_url, &prefix, &dir);
    up.ready(&http).await;
    let api = format!("{}/api/v1", up.gateway);
    let registered: Value = http
        .post(format!("{api}/auth/register"))
        .json(&json!({"email": "sig@example.com", "username": "sig", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["access_token"].as_str().unwrap().to_owned();

    let mut imports = Vec::new();
    for n in 0..IMPORTS {
        let (http, url, token) = (
            http.clone(),
            format!("{api}/imports/mountain-project"),
            token.clone(),
        );
        let body = ticks_export(n * ROWS_PER_IMPORT, ROWS_PER_IMPORT);
        imports.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(body)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    // Let the bodies arrive, then stop the process while it is still importing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        imports.iter().all(|i| !i.is_finished()),
        "the imports must still be running when the signal comes"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &up.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // A new connection is refused while the imports finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = http
        .get(format!("{}/livez", up.gateway))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(refused.is_err(), "a new request was served: {refused:?}");

    let mut created = 0;
    for import in imports {
        let (status, report) = import.await.unwrap();
        assert_eq!(status, 201, "{report}");
        assert_eq!(report["rows_rejected"], json!([]));
        created += report["climbs_created"].as_u64().unwrap();
    }
    assert_eq!(created, (IMPORTS * ROWS_PER_IMPORT) as u64);

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = up.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "clmb up did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = std::fs::read_to_string(&up.log).unwrap();
    assert!(status.success(), "exit {status}: {log}");
    assert!(log.contains("shutting down"), "{log}");

    // Everything acknowledged is in the database.
    let sessions_db =
        clmb_common::testing::with_database(&server_url, &format!("{prefix}_sessions"));
    let mut conn = sqlx::PgConnection::connect(&sessions_db).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM climbs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(stored, created as i64);

    drop(up);
    let mut admin = sqlx::PgConnection::connect(&server_url).await.unwrap();
    for service in ["users", "gyms", "sessions"] {
        let drop = format!("DROP DATABASE IF EXISTS \"{prefix}_{service}\" WITH (FORCE)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut admin)
            .await
            .ok();
    }
    std::fs::remove_dir_all(&dir).ok();
}
