//! A pure simulation of the cluster around the phases: it runs validate → plan → build →
//! plan writes → status, stores the written objects the way the API server would, and lets a
//! test finish rollouts and Jobs or break them. No client, no async.

use std::collections::BTreeMap;

use clmb_operator::apply::{Applied, plan_deletes, plan_writes};
use clmb_operator::build::{BuildInput, DesiredObject, build};
use clmb_operator::crd::{ClmbStack, ClmbStackStatus};
use clmb_operator::keys::{KeyPair, from_seed};
use clmb_operator::machine::{Plan, PlannedEvent, machine_input, plan};
use clmb_operator::observe::{Children, ObjectKey, Observed};
use clmb_operator::rbac::ChildKind;
use clmb_operator::status;
use clmb_operator::validate::{KeyState, validate};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::{Value, json};

pub const PROD: &str = r#"
apiVersion: clmb.dev/v1alpha1
kind: ClmbStack
metadata: {name: prod, namespace: climbing, uid: 6f1c3f0e-0000-4000-8000-000000000001, generation: 1}
spec:
  version: "0.4.0"
  image: {repository: ghcr.io/example/clmb, pullPolicy: IfNotPresent}
  gateway:
    autoscaling: {minReplicas: 2, maxReplicas: 10, targetCPUUtilization: 70}
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 256Mi}}
    service: {type: LoadBalancer, port: 80, annotations: {example.com/lb: internal}}
  services:
    users:
      autoscaling: {minReplicas: 1, maxReplicas: 5, targetCPUUtilization: 75}
      database: {secretRef: {name: users-db, key: url}}
    gyms:
      replicas: 1
      database: {secretRef: {name: gyms-db, key: url}}
    sessions:
      replicas: 2
      database: {secretRef: {name: sessions-db, key: url}}
  upgrade: {migrations: Auto, rollbackOnFailure: true}
"#;

pub fn stack(yaml: &str) -> ClmbStack {
    serde_yaml::from_str(yaml).unwrap()
}

pub fn secret(name: &str, data: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some("climbing".to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// What one simulated reconcile did.
#[derive(Debug)]
pub struct Step {
    pub plan: Plan,
    pub writes: Vec<DesiredObject>,
    /// Optional objects (HPA, PDB) removed because the spec no longer asks for them.
    pub deleted: Vec<ObjectKey>,
    pub status: ClmbStackStatus,
    pub events: Vec<PlannedEvent>,
}

impl Step {
    pub fn wrote(&self, kind: ChildKind, name: &str) -> bool {
        self.writes.iter().any(|w| w.kind == kind && w.name == name)
    }

    pub fn event_reasons(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.reason).collect()
    }

    pub fn condition(&self, type_: &str) -> (String, String) {
        let c = self
            .status
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .unwrap();
        (c.status.clone(), c.reason.clone())
    }
}

pub struct Sim {
    pub stack: ClmbStack,
    pub secrets: BTreeMap<String, Secret>,
    pub children: Children,
    key: KeyPair,
    clock: i64,
}

impl Sim {
    /// A stack whose three database Secrets exist.
    pub fn new(yaml: &str) -> Self {
        let mut sim = Self {
            stack: stack(yaml),
            secrets: BTreeMap::new(),
            children: Children::default(),
            key: from_seed(&[7; 32]).unwrap(),
            clock: 1_800_000_000,
        };
        for name in ["users-db", "gyms-db", "sessions-db"] {
            sim.put_secret(secret(
                name,
                &[("url", &format!("postgres://{name}.example/clmb"))],
            ));
        }
        sim
    }

    pub fn put_secret(&mut self, secret: Secret) {
        self.secrets
            .insert(secret.metadata.name.clone().unwrap(), secret);
    }

    pub fn remove_secret(&mut self, name: &str) {
        self.secrets.remove(name);
    }

    pub fn edit_spec(&mut self, edit: impl FnOnce(&mut Value)) {
        let mut spec = serde_json::to_value(&self.stack.spec).unwrap();
        edit(&mut spec);
        self.stack.spec = serde_json::from_value(spec).unwrap();
        let generation = self.stack.metadata.generation.unwrap_or_default();
        self.stack.metadata.generation = Some(generation + 1);
    }

    pub fn reconcile(&mut self) -> Step {
        self.clock += 10;
        let observed = Observed {
            stack: self.stack.clone(),
            secrets: self.secrets.clone(),
            children: self.children.clone(),
        };
        let validated = validate(&observed).unwrap();
        let input = machine_input(&validated, &observed.children);
        let plan = plan(&input);
        let new_key =
            matches!(validated.signing_key.state, KeyState::ToGenerate).then_some(&self.key);
        let desired = build(&BuildInput {
            stack: &validated,
            plan: &plan,
            new_signing_key: new_key,
        })
        .unwrap();
        let writes: Vec<DesiredObject> = plan_writes(&desired, &observed.children)
            .into_iter()
            .cloned()
            .collect();
        let applied = Applied {
            written: writes
                .iter()
                .map(|w| ObjectKey {
                    kind: w.kind,
                    name: w.name.clone(),
                })
                .collect(),
            unchanged: desired.len() - writes.len(),
            deleted: plan_deletes(
                &desired,
                &observed.children,
                &plan.targets.keys().copied().collect(),
            ),
        };
        for write in &writes {
            self.store(write);
        }
        for key in &applied.deleted {
            self.children.objects.remove(key);
        }
        let now = Time(k8s_openapi::jiff::Timestamp::from_second(self.clock).unwrap());
        let status = status::compute(
            &validated,
            &observed.children,
            &input,
            &plan,
            &applied,
            &now,
        );
        let mut events = plan.events.clone();
        events.extend(status::status_events(
            &validated.previous,
            &status,
            &validated,
        ));
        self.stack.status = Some(status.clone());
        Step {
            plan,
            writes,
            deleted: applied.deleted.clone(),
            status,
            events,
        }
    }

    /// Stores an applied object as the API server would: a changed Deployment spec gets a new
    /// generation, its status stays behind until a rollout finishes.
    fn store(&mut self, write: &DesiredObject) {
        let mut value = write.value.clone();
        let previous = self.children.get(write.kind, &write.name).cloned();
        if write.kind == ChildKind::Secret {
            let secret: Secret = serde_json::from_value(value.clone()).unwrap();
            self.put_secret(secret);
        }
        if write.kind == ChildKind::Deployment {
            let generation = previous
                .as_ref()
                .map(|p| {
                    let g = p["metadata"]["generation"].as_i64().unwrap_or(1);
                    if p["spec"] == value["spec"] { g } else { g + 1 }
                })
                .unwrap_or(1);
            value["metadata"]["generation"] = json!(generation);
            value["status"] = previous.map(|p| p["status"].clone()).unwrap_or(json!({}));
        }
        self.children.insert(write.kind, value);
    }

    fn deployment_mut(&mut self, component: &str) -> &mut Value {
        let key = ObjectKey {
            kind: ChildKind::Deployment,
            name: format!("prod-{component}"),
        };
        self.children.objects.get_mut(&key).unwrap()
    }

    pub fn has_deployment(&self, component: &str) -> bool {
        self.children
            .get(ChildKind::Deployment, &format!("prod-{component}"))
            .is_some()
    }

    /// The image tag a component's Deployment runs.
    pub fn image_tag(&self, component: &str) -> Option<String> {
        let d = self
            .children
            .get(ChildKind::Deployment, &format!("prod-{component}"))?;
        let image = d["spec"]["template"]["spec"]["containers"][0]["image"].as_str()?;
        Some(image.rsplit_once(':')?.1.to_owned())
    }

    /// Every Deployment's new pods become available.
    pub fn finish_rollouts(&mut self) {
        let names: Vec<String> = Self::names_of(&self.children, ChildKind::Deployment);
        for name in names {
            let component = name.trim_start_matches("prod-").to_owned();
            let d = self.deployment_mut(&component);
            let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
            let generation = d["metadata"]["generation"].clone();
            d["status"] = json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            });
        }
    }

    pub fn miss_deadline(&mut self, component: &str) {
        let d = self.deployment_mut(component);
        let generation = d["metadata"]["generation"].clone();
        d["status"] = json!({
            "observedGeneration": generation,
            "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
        });
    }

    fn names_of(children: &Children, kind: ChildKind) -> Vec<String> {
        children
            .objects
            .keys()
            .filter(|k| k.kind == kind)
            .map(|k| k.name.clone())
            .collect()
    }

    pub fn jobs(&self) -> Vec<String> {
        Self::names_of(&self.children, ChildKind::Job)
    }

    fn set_job(&mut self, name: &str, condition: &str) {
        let key = ObjectKey {
            kind: ChildKind::Job,
            name: name.to_owned(),
        };
        let job = self.children.objects.get_mut(&key).unwrap();
        job["status"] = json!({"conditions": [{"type": condition, "status": "True"}]});
    }

    pub fn complete_jobs(&mut self) {
        for name in self.jobs() {
            let key = ObjectKey {
                kind: ChildKind::Job,
                name: name.clone(),
            };
            if self.children.objects[&key].get("status").is_none() {
                self.set_job(&name, "Complete");
            }
        }
    }

    pub fn fail_job(&mut self, name: &str) {
        self.set_job(name, "Failed");
    }

    pub fn delete_job(&mut self, name: &str) {
        self.children.objects.remove(&ObjectKey {
            kind: ChildKind::Job,
            name: name.to_owned(),
        });
    }

    /// Reconciles, completing Jobs and rollouts in between, until the stack settles.
    pub fn converge(&mut self) -> Step {
        let mut last = self.reconcile();
        for _ in 0..20 {
            if !last.plan.waiting && last.writes.is_empty() {
                return last;
            }
            self.complete_jobs();
            self.finish_rollouts();
            last = self.reconcile();
        }
        panic!("the stack did not settle: {:?}", last.plan);
    }
}
