//! The whole clmb stack started in-process for a test: every service and the gateway on
//! free ports, talking over real HTTP, each with a fresh database on the real PostgreSQL
//! server (see `clmb_common::testing` for which server).

// A test harness: any failure here is a test failure, so panicking is the point.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use clmb::{Stack, StackOptions, Timeouts};
use clmb_common::auth::KeyPair;
use serde_json::{Value, json};

pub struct TestStack {
    pub stack: Option<Stack>,
    keys: KeyPair,
    pub base: String,
    pub http: reqwest::Client,
    server_url: String,
    prefix: String,
}

impl TestStack {
    pub async fn start() -> Self {
        Self::start_with(Timeouts::default()).await
    }

    pub async fn start_with(timeouts: Timeouts) -> Self {
        let server_url = clmb_common::testing::server_url().await;
        let prefix = format!("clmb_e2e_{}", uuid::Uuid::new_v4().simple());
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let keys = KeyPair::generate().unwrap();
        let options = StackOptions {
            server_url: server_url.clone(),
            database_prefix: prefix.clone(),
            gateway: any,
            users: any,
            gyms: any,
            sessions: any,
            keys: keys.clone(),
            timeouts,
            // Cheap hashing: the tests are about behaviour, not password cost.
            password_params: argon2::Params::new(1024, 1, 1, None).unwrap(),
        };
        let stack = Stack::start(options).await.expect("the stack starts");
        let base = format!("http://{}/api/v1", stack.gateway);
        Self {
            stack: Some(stack),
            keys,
            base,
            http: clmb_common::client::http_client().build().unwrap(),
            server_url,
            prefix,
        }
    }

    pub fn stack(&self) -> &Stack {
        self.stack.as_ref().expect("running")
    }

    /// A verifier for the stack's tokens, to wire extra components to it.
    pub fn verifier(&self) -> clmb_common::auth::TokenVerifier {
        clmb_common::auth::TokenVerifier::new([self.keys.public_pem.as_str()]).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls `method path` (under `/api/v1`) as the holder of `token`, with a JSON body,
    /// and answers the status and the JSON that came back (`Null` for an empty body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The JSON of a call that must answer `expected`; anything else fails the test.
    pub async fn expect(
        &self,
        expected: u16,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, answer) = self.call(method.clone(), path, token, body).await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {answer}");
        answer
    }

    /// Registers a climber and answers their access token and id.
    pub async fn register(&self, username: &str) -> (String, String) {
        let response = self
            .http
            .post(self.url("/auth/register"))
            .json(&json!({
                "email": format!("{username}@example.com"),
                "username": username,
                "password": "correct horse battery",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "register {username}");
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        let id = body["user"]["id"].as_str().unwrap().to_owned();
        (token, id)
    }

    /// Stops the stack and drops its databases.
    pub async fn stop(mut self) {
        if let Some(stack) = self.stack.take() {
            stack.stop().await;
        }
        for service in ["users", "gyms", "sessions"] {
            let name = format!("{}_{service}", self.prefix);
            drop_database(&self.server_url, &name).await;
        }
    }
}

async fn drop_database(server_url: &str, name: &str) {
    use sqlx::Connection;
    let Ok(options) = clmb_common::db::parse_url(server_url) else {
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
}

/// The fixture files of real logbook exports.
/// They live beside the repository (`../shared/fixtures`) unless `CLMB_FIXTURES` says where.
pub fn fixture(path: &str) -> Vec<u8> {
    let dir = std::env::var("CLMB_FIXTURES")
        .unwrap_or_else(|_| format!("{}/../../shared/fixtures", env!("CARGO_MANIFEST_DIR")));
    let full = format!("{dir}/{path}");
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}
