//! An in-memory Kubernetes API server behind kube's own client: a hand-rolled tower
//! Service that keeps objects by path, answers get/list/apply/status/create, logs every
//! request, and can be told to fail chosen requests.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::Client;
use serde_json::{Value, json};

/// One request as the server saw it: method and path (query left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub method: Method,
    pub path: String,
    pub query: String,
}

impl Logged {
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Debug)]
struct Failure {
    method: Method,
    path_contains: String,
    code: u16,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    log: Vec<Logged>,
    failures: VecDeque<Failure>,
    resource_version: u64,
}

#[derive(Clone, Default)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

/// Path of an object: `/api/v1/...` for the core group, `/apis/<group>/<version>/...` else.
pub fn object_path(api_version: &str, plural: &str, namespace: &str, name: &str) -> String {
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    format!("{prefix}/namespaces/{namespace}/{plural}/{name}")
}

impl FakeApi {
    pub fn client(&self) -> Client {
        let api = self.clone();
        let service = tower::service_fn(move |request: Request<kube::client::Body>| {
            let api = api.clone();
            async move { Ok::<_, std::convert::Infallible>(api.handle(request).await) }
        });
        Client::new(service, "default")
    }

    pub fn put(&self, path: &str, value: Value) {
        let mut state = self.state.lock().unwrap();
        state.objects.insert(path.to_owned(), value);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().objects.remove(path);
    }

    /// Every object whose path contains `fragment`.
    pub fn paths(&self, fragment: &str) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .objects
            .keys()
            .filter(|k| k.contains(fragment))
            .cloned()
            .collect()
    }

    pub fn update(&self, path: &str, edit: impl FnOnce(&mut Value)) {
        let mut state = self.state.lock().unwrap();
        if let Some(value) = state.objects.get_mut(path) {
            edit(value);
        }
    }

    /// The next request with this method whose path contains `fragment` gets `code`.
    pub fn fail_next(&self, method: Method, fragment: &str, code: u16) {
        let failure = Failure {
            method,
            path_contains: fragment.to_owned(),
            code,
        };
        self.state.lock().unwrap().failures.push_back(failure);
    }

    pub fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }

    /// Finish every Job and rollout, as the cluster's controllers would.
    pub fn settle(&self) {
        let mut state = self.state.lock().unwrap();
        for (path, object) in state.objects.iter_mut() {
            if path.contains("/jobs/") && object.get("status").is_none_or(Value::is_null) {
                object["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
            }
            if path.contains("/deployments/") {
                let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
                let generation = object["metadata"]["generation"].clone();
                object["status"] = json!({
                    "observedGeneration": generation,
                    "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas,
                });
            }
        }
    }

    async fn handle(&self, request: Request<kube::client::Body>) -> Response<kube::client::Body> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or_default().to_owned();
        let mut state = self.state.lock().unwrap();
        state.log.push(Logged {
            method: parts.method.clone(),
            path: path.clone(),
            query: query.clone(),
        });
        let failing = state
            .failures
            .iter()
            .position(|f| f.method == parts.method && path.contains(&f.path_contains));
        if let Some(index) = failing {
            let failure = state.failures.remove(index).unwrap();
            return status(failure.code, "injected failure");
        }
        state.resource_version += 1;
        let rv = state.resource_version.to_string();
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match parts.method {
            Method::GET => match state.objects.get(&path) {
                Some(object) => ok(object.clone()),
                None if is_collection(&path) => {
                    let selector = label_selector(&query);
                    let prefix = format!("{path}/");
                    let items: Vec<Value> = state
                        .objects
                        .iter()
                        .filter(|(p, o)| {
                            p.starts_with(&prefix)
                                && !p[prefix.len()..].contains('/')
                                && selector
                                    .iter()
                                    .all(|(k, v)| o["metadata"]["labels"][k] == *v)
                        })
                        .map(|(_, o)| o.clone())
                        .collect();
                    ok(
                        json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": rv}, "items": items}),
                    )
                }
                None => status(404, "not found"),
            },
            Method::PATCH if path.ends_with("/status") => {
                let object_path = path.trim_end_matches("/status").to_owned();
                match state.objects.get_mut(&object_path) {
                    Some(object) => {
                        object["status"] = parsed["status"].clone();
                        ok(object.clone())
                    }
                    None => status(404, "not found"),
                }
            }
            Method::PATCH => {
                let previous = state.objects.get(&path).cloned();
                let mut object = parsed;
                let generation = match &previous {
                    Some(p) if p["spec"] == object["spec"] => {
                        p["metadata"]["generation"].as_i64().unwrap_or(1)
                    }
                    Some(p) => p["metadata"]["generation"].as_i64().unwrap_or(1) + 1,
                    None => 1,
                };
                object["metadata"]["generation"] = json!(generation);
                object["metadata"]["resourceVersion"] = json!(rv);
                if let Some(s) = previous.and_then(|p| p.get("status").cloned()) {
                    object["status"] = s;
                }
                state.objects.insert(path, object.clone());
                ok(object)
            }
            Method::POST => {
                let name = parsed["metadata"]["name"]
                    .as_str()
                    .unwrap_or("unnamed")
                    .to_owned();
                let object_path = format!("{path}/{name}");
                if state.objects.contains_key(&object_path) {
                    return status(409, "already exists");
                }
                let mut object = parsed;
                object["metadata"]["resourceVersion"] = json!(rv);
                state.objects.insert(object_path, object.clone());
                respond(StatusCode::CREATED, object)
            }
            Method::PUT => {
                let current = state
                    .objects
                    .get(&path)
                    .map(|p| p["metadata"]["resourceVersion"].clone());
                if current.is_some_and(|c| c != parsed["metadata"]["resourceVersion"]) {
                    return status(409, "the object has been modified");
                }
                let mut object = parsed;
                object["metadata"]["resourceVersion"] = json!(rv);
                state.objects.insert(path, object.clone());
                ok(object)
            }
            Method::DELETE => match state.objects.remove(&path) {
                Some(object) => ok(object),
                None => status(404, "not found"),
            },
            _ => status(405, "method not allowed"),
        }
    }
}

fn is_collection(path: &str) -> bool {
    // .../namespaces/<ns>/<plural> has an odd number of segments after `namespaces`.
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .iter()
        .position(|s| *s == "namespaces")
        .is_some_and(|i| segments.len() - i == 3)
}

fn label_selector(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("labelSelector="))
        .flat_map(|s| {
            let decoded = s
                .replace("%3D", "=")
                .replace("%2C", ",")
                .replace("%2F", "/");
            decoded
                .split(',')
                .filter_map(|pair| {
                    pair.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn ok(value: Value) -> Response<kube::client::Body> {
    respond(StatusCode::OK, value)
}

fn respond(code: StatusCode, value: Value) -> Response<kube::client::Body> {
    let body = serde_json::to_vec(&value).unwrap();
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(kube::client::Body::from(body))
        .unwrap()
}

fn status(code: u16, message: &str) -> Response<kube::client::Body> {
    let reason = match code {
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        _ => "InternalError",
    };
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    respond(StatusCode::from_u16(code).unwrap(), body)
}

/// (api group, resource, verb) of a request, the way RBAC sees it.
pub fn rbac_of(logged: &Logged) -> (String, String, String) {
    let segments: Vec<&str> = logged.path.trim_start_matches('/').split('/').collect();
    let group = if segments[0] == "api" {
        String::new()
    } else {
        segments[1].to_owned()
    };
    let ns = segments.iter().position(|s| *s == "namespaces").unwrap();
    let rest = &segments[ns + 2..];
    let resource = match rest {
        [plural, _name, sub] => format!("{plural}/{sub}"),
        [plural, ..] => (*plural).to_owned(),
        [] => String::new(),
    };
    let verb = match (&logged.method, rest.len()) {
        (&Method::GET, 1) => "list",
        (&Method::GET, _) => "get",
        (&Method::PATCH, _) => "patch",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::DELETE, _) => "delete",
        _ => "unknown",
    };
    (group, resource, verb.to_owned())
}
