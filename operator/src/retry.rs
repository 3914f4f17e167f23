//! Retrying a single API call on errors that a second try can fix.
//!
//! Conflicts, throttling and server errors are retried here a few times with a short,
//! doubling pause; whatever is left goes to the controller's error policy, which requeues
//! the whole reconcile with a longer backoff.

use std::future::Future;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_pause: Duration::from_millis(200),
        }
    }
}

/// Whether an API error may go away on its own.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => matches!(status.code, 409 | 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

pub async fn with_retry<T, F, Fut>(policy: RetryPolicy, mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut pause = policy.first_pause;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if attempt < policy.attempts && is_transient(&error) => {
                tracing::debug!(
                    attempt,
                    error = &error as &dyn std::error::Error,
                    "retrying api call"
                );
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    const FAST: RetryPolicy = RetryPolicy {
        attempts: 4,
        first_pause: Duration::from_millis(1),
    };

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure("x", "y").with_code(code)))
    }

    #[test]
    fn conflicts_throttling_and_server_errors_are_transient() {
        for code in [409, 429, 500, 503] {
            assert!(is_transient(&api_error(code)), "{code}");
        }
    }

    #[test]
    fn rejections_of_the_request_itself_are_not_transient() {
        for code in [400, 403, 404, 422] {
            assert!(!is_transient(&api_error(code)), "{code}");
        }
    }

    #[tokio::test]
    async fn a_transient_error_is_retried_until_the_call_succeeds() {
        let mut calls = 0;

        let result = with_retry(FAST, || {
            calls += 1;
            let attempt = calls;
            async move {
                if attempt < 3 {
                    Err(api_error(500))
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;

        assert_eq!(result.ok(), Some(3));
    }

    #[tokio::test]
    async fn retries_stop_after_the_last_attempt() {
        let mut calls = 0;

        let result: Result<(), _> = with_retry(FAST, || {
            calls += 1;
            async { Err(api_error(503)) }
        })
        .await;

        assert!(result.is_err());
        assert_eq!(calls, FAST.attempts);
    }
}
