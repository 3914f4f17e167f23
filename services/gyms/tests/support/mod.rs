//! A real gyms service on a port of its own, over a fresh database, driven over HTTP.

#![allow(dead_code)]

use std::time::Duration;

use clmb_common::auth::{KeyPair, TokenKind, TokenSigner, TokenVerifier};
use clmb_common::testing::TestDatabase;
use clmb_gyms::{Settings, router};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub signer: TokenSigner,
    pub db: TestDatabase,
    server: tokio::task::JoinHandle<()>,
}

/// An answer: status, content type, `Location` and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub location: Option<String>,
    pub body: Value,
}

impl Answer {
    /// The fields named in a problem document's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn error_message(&self, field: &str) -> String {
        self.body["errors"]
            .as_array()
            .and_then(|errors| errors.iter().find(|e| e["field"] == field))
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    }

    pub fn is_problem(&self) -> bool {
        self.content_type.starts_with("application/problem+json")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl App {
    pub async fn start() -> App {
        let db = TestDatabase::new(&clmb_gyms::MIGRATOR).await;
        let pair = KeyPair::generate().unwrap();
        let signer = TokenSigner::new(&pair, 900).unwrap();
        let verifier = TokenVerifier::new([pair.public_pem.as_str()]).unwrap();
        let settings = Settings {
            verifier,
            request_timeout: Duration::from_secs(10),
        };
        let app = router(db.pool.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        App {
            base,
            http: clmb_common::client::http_client().build().unwrap(),
            signer,
            db,
            server,
        }
    }

    /// An access token for a new user, and that user's id.
    pub fn user(&self) -> (Uuid, String) {
        let id = Uuid::now_v7();
        (id, self.signer.access_token(id).unwrap())
    }

    pub fn service_token(&self) -> String {
        self.signer
            .sign("service:users", TokenKind::Service, 60)
            .unwrap()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let location = header(reqwest::header::LOCATION);
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Answer {
            status,
            content_type,
            location,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a gym and answers its body; fails the test unless it was created.
    pub async fn create_gym(&self, token: &str, body: Value) -> Value {
        let answer = self.post("/api/v1/gyms", token, body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body
    }

    pub async fn create_named_gym(&self, token: &str, name: &str) -> Value {
        self.create_gym(token, json!({ "name": name })).await
    }

    pub async fn create_route(&self, token: &str, gym_id: &str, body: Value) -> Value {
        let answer = self
            .post(&format!("/api/v1/gyms/{gym_id}/routes"), token, body)
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body
    }

    /// Every item of a list, following `next_cursor` page by page.
    pub async fn all_pages(&self, path_with_query: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path_with_query.contains('?') {
                '&'
            } else {
                '?'
            };
            let path = match &cursor {
                Some(cursor) => format!("{path_with_query}{separator}cursor={cursor}"),
                None => path_with_query.to_owned(),
            };
            let answer = self.get(&path).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            items.extend(answer.body["items"].as_array().unwrap().iter().cloned());
            match answer.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}

/// The values of one field of every item.
pub fn field<'a>(items: &'a [Value], name: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|item| item[name].as_str().unwrap_or_default())
        .collect()
}
