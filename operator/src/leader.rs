//! Leader election on a coordination.k8s.io Lease, so several replicas can run and only one
//! reconciles. kube 5 ships no elector, so this is the plain protocol: whoever renews the
//! Lease within its duration holds it; a stale Lease may be taken over; writes carry the
//! resourceVersion, so two replicas racing for it cannot both win.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("failed to renew Lease {name:?} within its duration: leadership is lost")]
    RenewLease { name: String },
    #[error("failed to keep Lease {name:?}: {holder:?} holds it now")]
    KeepLease { name: String, holder: String },
}

impl LeaderError {
    pub fn category(&self) -> &'static str {
        match self {
            Self::RenewLease { .. } => "leader_renew",
            Self::KeepLease { .. } => "leader_lost",
        }
    }
}

/// What to do with the Lease as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Create,
    Renew,
    TakeOver,
    Wait { holder: String },
}

pub fn decide(lease: Option<&Lease>, identity: &str, now: Timestamp) -> Decision {
    let Some(spec) = lease.and_then(|l| l.spec.as_ref()) else {
        return if lease.is_none() {
            Decision::Create
        } else {
            Decision::TakeOver
        };
    };
    let holder = spec.holder_identity.clone().unwrap_or_default();
    if holder == identity {
        return Decision::Renew;
    }
    // Milliseconds: whole seconds would expire a one-second lease at every second boundary.
    let duration_ms = i64::from(spec.lease_duration_seconds.unwrap_or_default()) * 1000;
    let renewed_ms = spec
        .renew_time
        .as_ref()
        .map(|t| t.0.as_millisecond())
        .unwrap_or_default();
    if holder.is_empty() || renewed_ms + duration_ms <= now.as_millisecond() {
        Decision::TakeOver
    } else {
        Decision::Wait { holder }
    }
}

pub struct LeaderElector {
    pub api: Api<Lease>,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_every: Duration,
}

impl LeaderElector {
    /// Waits until this replica holds the Lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_hold().await {
                Ok(true) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "became leader");
                    return;
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(lease = %self.name, error = &error as &dyn std::error::Error, "failed to acquire lease");
                }
            }
            tokio::time::sleep(self.renew_every).await;
        }
    }

    /// Renews the Lease until renewing fails for a whole lease duration or another replica
    /// holds it; then returns why, and the caller must stop reconciling.
    pub async fn hold(&self) -> LeaderError {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.renew_every).await;
            match self.try_hold().await {
                Ok(true) => last_renewal = tokio::time::Instant::now(),
                Ok(false) => {
                    let holder = self
                        .api
                        .get_opt(&self.name)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|l| l.spec?.holder_identity)
                        .unwrap_or_default();
                    return LeaderError::KeepLease {
                        name: self.name.clone(),
                        holder,
                    };
                }
                Err(error) => {
                    tracing::warn!(lease = %self.name, error = &error as &dyn std::error::Error, "failed to renew lease");
                    if last_renewal.elapsed() >= self.lease_duration {
                        return LeaderError::RenewLease {
                            name: self.name.clone(),
                        };
                    }
                }
            }
        }
    }

    /// One round: `Ok(true)` when this replica holds the Lease afterwards.
    async fn try_hold(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let current = self.api.get_opt(&self.name).await?;
        let decision = decide(current.as_ref(), &self.identity, now);
        let seconds = i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let result = match (decision, current) {
            (Decision::Wait { .. }, _) => return Ok(false),
            (Decision::Create, _) | (_, None) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(seconds),
                        acquire_time: Some(MicroTime(now)),
                        renew_time: Some(MicroTime(now)),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            (decision, Some(mut lease)) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if decision == Decision::TakeOver {
                    spec.acquire_time = Some(MicroTime(now));
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or_default() + 1);
                }
                spec.holder_identity = Some(self.identity.clone());
                spec.lease_duration_seconds = Some(seconds);
                spec.renew_time = Some(MicroTime(now));
                // The resourceVersion from the read makes this a compare-and-swap.
                self.api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
            }
        };
        match result {
            Ok(_) => Ok(true),
            // Someone else wrote the Lease between our read and write: they won this round.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, renewed_at: i64, duration: i32) -> Lease {
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.to_owned()),
                lease_duration_seconds: Some(duration),
                renew_time: Some(MicroTime(Timestamp::from_second(renewed_at).unwrap())),
                ..LeaseSpec::default()
            }),
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn a_missing_lease_is_created() {
        assert_eq!(decide(None, "a", at(100)), Decision::Create);
    }

    #[test]
    fn the_holder_renews_its_own_lease() {
        assert_eq!(
            decide(Some(&lease("a", 90, 15)), "a", at(100)),
            Decision::Renew
        );
    }

    #[test]
    fn a_fresh_lease_of_another_replica_is_waited_on() {
        let decision = decide(Some(&lease("b", 90, 15)), "a", at(100));

        assert_eq!(
            decision,
            Decision::Wait {
                holder: "b".to_owned()
            }
        );
    }

    #[test]
    fn an_expired_lease_of_another_replica_is_taken_over() {
        assert_eq!(
            decide(Some(&lease("b", 80, 15)), "a", at(100)),
            Decision::TakeOver
        );
    }

    #[test]
    fn a_released_lease_is_taken_over() {
        assert_eq!(
            decide(Some(&lease("", 99, 15)), "a", at(100)),
            Decision::TakeOver
        );
    }
}
