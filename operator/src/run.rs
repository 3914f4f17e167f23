//! `clmb-operator run`: logging, the HTTP endpoints, leader election and the controller.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::core::PartialObjectMeta;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, watcher};
use kube::{Api, Client, ResourceExt};
use tracing_subscriber::EnvFilter;

use crate::crd::ClmbStack;
use crate::http::{AppState, router};
use crate::leader::{LeaderElector, LeaderError};
use crate::metrics::Metrics;
use crate::names::{LABEL_MANAGED_BY, MANAGED_BY};
use crate::observe::referenced_secrets;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::retry::RetryPolicy;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Address of the `/livez`, `/readyz` and `/metrics` server.
    #[arg(long, env = "CLMB_OPERATOR_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Name of the coordination.k8s.io Lease used for leader election.
    #[arg(
        long,
        env = "CLMB_OPERATOR_LEASE_NAME",
        default_value = "clmb-operator"
    )]
    pub lease_name: String,
    /// Namespace of the Lease, normally the operator's own.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// This replica's identity in the Lease, normally the pod name.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Seconds a leader may go without renewing before another replica takes over.
    #[arg(long, env = "CLMB_OPERATOR_LEASE_SECONDS", default_value_t = 15)]
    pub lease_seconds: u64,
    /// Watch ClmbStacks in this namespace only, instead of the whole cluster.
    #[arg(long, env = "CLMB_OPERATOR_NAMESPACE")]
    pub namespace: Option<String>,
    /// `json` for one JSON object per log line, anything else for plain text.
    #[arg(long, env = "CLMB_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to bind the HTTP listener on {addr}")]
    BindListener {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("failed to connect to the Kubernetes API")]
    ConnectCluster { source: kube::Error },
    #[error("failed to keep leadership")]
    KeepLeadership { source: LeaderError },
}

pub fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests) keeps the first subscriber; that is fine.
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(args: RunArgs) -> Result<(), RunError> {
    init_logging(&args.log_format);
    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtomicBool::new(false));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| RunError::BindListener {
            addr: args.listen,
            source,
        })?;
    let app = router(AppState {
        metrics: metrics.clone(),
        ready: ready.clone(),
    });
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "http server stopped"
            );
        }
    });

    let client = Client::try_default()
        .await
        .map_err(|source| RunError::ConnectCluster { source })?;
    ready.store(true, Ordering::Relaxed);

    let identity = args
        .identity
        .clone()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| format!("clmb-operator-{}", std::process::id()));
    let elector = LeaderElector {
        api: Api::<Lease>::namespaced(client.clone(), &args.lease_namespace),
        name: args.lease_name.clone(),
        identity: identity.clone(),
        lease_duration: Duration::from_secs(args.lease_seconds),
        renew_every: Duration::from_secs(args.lease_seconds.div_ceil(3).max(1)),
    };
    elector.acquire().await;

    let reporter = Reporter {
        controller: MANAGED_BY.to_owned(),
        instance: Some(identity),
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let ctx = Arc::new(Context::new(
        client.clone(),
        recorder,
        metrics,
        RetryPolicy::default(),
    ));
    tokio::select! {
        () = run_controller(client, args.namespace.as_deref(), ctx) => Ok(()),
        lost = elector.hold() => Err(RunError::KeepLeadership { source: lost }),
    }
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Runs the controller until a shutdown signal; public so the cluster test can run it in-process.
pub async fn run_controller(client: Client, namespace: Option<&str>, ctx: Arc<Context>) {
    let owned = watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={MANAGED_BY}"));
    let controller = Controller::new(
        api::<ClmbStack>(&client, namespace),
        watcher::Config::default(),
    );
    let stacks = controller.store();
    controller
        .owns(api::<Deployment>(&client, namespace), owned.clone())
        .owns(api::<Service>(&client, namespace), owned.clone())
        .owns(api::<ServiceAccount>(&client, namespace), owned.clone())
        .owns(
            api::<HorizontalPodAutoscaler>(&client, namespace),
            owned.clone(),
        )
        .owns(
            api::<PodDisruptionBudget>(&client, namespace),
            owned.clone(),
        )
        .owns(api::<NetworkPolicy>(&client, namespace), owned.clone())
        .owns(api::<Job>(&client, namespace), owned)
        // Referenced Secrets are not ours and carry no labels we chose, so every Secret is
        // watched; decoding only metadata keeps their data out of the operator's memory.
        .watches(
            api::<PartialObjectMeta<Secret>>(&client, namespace),
            watcher::Config::default(),
            move |secret| stacks_for_secret(&stacks, &secret),
        )
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = &error as &dyn std::error::Error, "controller event");
            }
        })
        .await;
}

/// Stacks to reconcile when a Secret appears, changes or goes away.
pub fn stacks_for_secret(
    stacks: &Store<ClmbStack>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<ClmbStack>> {
    let namespace = secret.namespace();
    let name = secret.name_any();
    stacks
        .state()
        .iter()
        .filter(|s| s.namespace() == namespace && referenced_secrets(s).contains(&name))
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}
