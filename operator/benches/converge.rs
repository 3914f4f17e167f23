//! Converge N ClmbStacks (200 by default) against the in-memory API server of the tests and
//! report the time it took, the API requests made and the process's memory.
//!
//! Run with `operator/bench/run.sh` (or `cargo bench -p clmb-operator --bench converge -- 200`).
//! Each round reconciles every stack that is not Ready yet, 16 at a time, then lets the fake
//! cluster finish Jobs and rollouts, as the Job and Deployment controllers would.

#![allow(clippy::unwrap_used)]

// Shared with the tests; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/support/fake_api.rs"]
mod fake_api;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clmb_operator::crd::ClmbStack;
use clmb_operator::metrics::Metrics;
use clmb_operator::reconcile::{Context, reconcile};
use clmb_operator::retry::RetryPolicy;
use fake_api::{FakeApi, object_path};
use futures::StreamExt;
use kube::runtime::events::{Recorder, Reporter};
use serde_json::json;

const NAMESPACE: &str = "bench";
const CONCURRENCY: usize = 16;

fn stack_path(name: &str) -> String {
    object_path("clmb.dev/v1alpha1", "clmbstacks", NAMESPACE, name)
}

fn seed(fake: &FakeApi, name: &str, index: usize) {
    let stack = json!({
        "apiVersion": "clmb.dev/v1alpha1", "kind": "ClmbStack",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": format!("00000000-0000-4000-8000-{index:012}"), "generation": 1},
        "spec": {
            "version": "0.4.0",
            "image": {"repository": "ghcr.io/example/clmb"},
            "gateway": {"autoscaling": {"minReplicas": 2, "maxReplicas": 10}},
            "services": {
                "users": {"replicas": 2, "database": {"secretRef": {"name": format!("{name}-db"), "key": "users"}}},
                "gyms": {"replicas": 1, "database": {"secretRef": {"name": format!("{name}-db"), "key": "gyms"}}},
                "sessions": {"replicas": 2, "database": {"secretRef": {"name": format!("{name}-db"), "key": "sessions"}}},
            },
        },
    });
    fake.put(&stack_path(name), stack);
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("{name}-db"), "namespace": NAMESPACE},
        "data": {"users": "cG9zdGdyZXM6Ly91", "gyms": "cG9zdGdyZXM6Ly9n", "sessions": "cG9zdGdyZXM6Ly9z"},
    });
    fake.put(
        &object_path("v1", "secrets", NAMESPACE, &format!("{name}-db")),
        secret,
    );
}

/// `VmHWM` and `VmRSS` from /proc/self/status, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn phase(fake: &FakeApi, name: &str) -> String {
    fake.get(&stack_path(name)).unwrap()["status"]["phase"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn round(fake: &FakeApi, ctx: &Arc<Context>, names: &[String]) -> usize {
    let stacks: Vec<Arc<ClmbStack>> = names
        .iter()
        .map(|n| Arc::new(serde_json::from_value(fake.get(&stack_path(n)).unwrap()).unwrap()))
        .collect();
    let count = stacks.len();
    futures::stream::iter(stacks)
        .map(|stack| reconcile(stack, ctx.clone()))
        .buffer_unordered(CONCURRENCY)
        .for_each(|result| async move {
            result.unwrap();
        })
        .await;
    count
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let stacks: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let (hwm_start, rss_start) = memory();
    let fake = FakeApi::default();
    let names: Vec<String> = (0..stacks).map(|i| format!("stack-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        seed(&fake, name, i);
    }
    let client = fake.client();
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "clmb-operator".into(),
            instance: None,
        },
    );
    let retry = RetryPolicy {
        attempts: 3,
        first_pause: Duration::from_millis(1),
    };
    let ctx = Arc::new(Context::new(
        client,
        recorder,
        Arc::new(Metrics::default()),
        retry,
    ));
    fake.take_log();

    let start = Instant::now();
    let mut rounds = 0;
    let mut reconciles = 0;
    loop {
        let pending: Vec<String> = names
            .iter()
            .filter(|n| phase(&fake, n) != "Ready")
            .cloned()
            .collect();
        if pending.is_empty() {
            break;
        }
        assert!(rounds < 20, "{} stacks did not converge", pending.len());
        reconciles += round(&fake, &ctx, &pending).await;
        fake.settle();
        rounds += 1;
    }
    let converge = start.elapsed();
    let converge_requests = fake.take_log().len();

    let steady_start = Instant::now();
    round(&fake, &ctx, &names).await;
    let steady = steady_start.elapsed();
    let steady_log = fake.take_log();
    let steady_writes = steady_log
        .iter()
        .filter(|l| l.method != http::Method::GET)
        .count();
    let (hwm, rss) = memory();

    println!("stacks                      {stacks}");
    println!("rounds to converge          {rounds}");
    println!("reconciles to converge      {reconciles}");
    println!("api requests to converge    {converge_requests}");
    println!("time to converge            {:.2?}", converge);
    println!(
        "mean reconcile (wall/n)     {:.2?}",
        converge / reconciles as u32
    );
    println!(
        "steady pass, all stacks     {:.2?} ({} requests, {steady_writes} writes)",
        steady,
        steady_log.len()
    );
    println!("VmHWM start / end           {hwm_start} KiB / {hwm} KiB");
    println!("VmRSS start / end           {rss_start} KiB / {rss} KiB");
    println!("fake api objects held       {}", fake.paths("/").len());
}
