//! coffee's `POST /identity/verify`: the session tier of last resort, which checks Postgres
//! and re-warms Redis. Bounded and behind a breaker: while coffee is down, misses are refused
//! at once (503) and sessions already in memory keep being served.

use std::time::Duration;

use tenancy::SessionInfo;

use crate::error::{AuthFailure, GatewayError};
use breaker::Breaker;

#[derive(Clone)]
pub struct IdentityClient {
    http: reqwest::Client,
    verify_url: String,
    verify_key_url: String,
    timeout: Duration,
    breaker: Breaker,
}

impl IdentityClient {
    pub fn new(http: reqwest::Client, coffee_url: &str, timeout: Duration, breaker: Breaker) -> Self {
        Self {
            http,
            verify_url: format!("{coffee_url}/identity/verify"),
            verify_key_url: format!("{coffee_url}/identity/api-keys/verify"),
            timeout,
            breaker,
        }
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// The live session of `token`, or why not.
    pub async fn verify(&self, token: &str) -> Result<SessionInfo, GatewayError> {
        if let Err(retry_after) = self.breaker.admit() {
            metrics::counter!("gateway_identity_calls_total", "outcome" => "breaker_open").increment(1);
            return Err(GatewayError::Unavailable { what: "identity", retry_after });
        }
        let result = self.call(token).await;
        // a 401 is identity working as intended
        let healthy = matches!(result, Ok(_) | Err(GatewayError::Unauthorized(_)));
        self.breaker.record(healthy);
        let outcome = match &result {
            Ok(_) => "live",
            Err(GatewayError::Unauthorized(_)) => "ended",
            Err(GatewayError::UpstreamTimeout(_)) => "timeout",
            Err(_) => "error",
        };
        metrics::counter!("gateway_identity_calls_total", "outcome" => outcome).increment(1);
        result
    }

    /// What coffee says of an API key: live, or why not. Behind the same breaker as sessions.
    pub async fn verify_key(&self, key: &tenancy::ApiKey) -> Result<tenancy::KeyVerdict, GatewayError> {
        if let Err(retry_after) = self.breaker.admit() {
            metrics::counter!("gateway_identity_calls_total", "outcome" => "breaker_open").increment(1);
            return Err(GatewayError::Unavailable { what: "identity", retry_after });
        }
        let result = self.call_key(key).await;
        self.breaker.record(result.is_ok());
        let outcome = match &result {
            Ok(tenancy::KeyVerdict::Live(_)) => "live",
            Ok(_) => "ended",
            Err(GatewayError::UpstreamTimeout(_)) => "timeout",
            Err(_) => "error",
        };
        metrics::counter!("gateway_identity_calls_total", "outcome" => outcome).increment(1);
        result
    }

    async fn call_key(&self, key: &tenancy::ApiKey) -> Result<tenancy::KeyVerdict, GatewayError> {
        // the cause of a failure names the status or the transport error, never the key
        let upstream = |cause: String| GatewayError::Upstream { what: "identity", cause };
        let request = self.http.post(&self.verify_key_url).json(&serde_json::json!({ "key": key.expose() })).send();
        let response = match tokio::time::timeout(self.timeout, request).await {
            Err(_) => return Err(GatewayError::UpstreamTimeout("identity")),
            Ok(r) => r.map_err(|e| upstream(e.without_url().to_string()))?,
        };
        match response.status() {
            s if s.is_success() => {
                response.json::<tenancy::KeyVerdict>().await.map_err(|e| upstream(e.without_url().to_string()))
            }
            s => Err(upstream(format!("api key verify answered {s}"))),
        }
    }

    async fn call(&self, token: &str) -> Result<SessionInfo, GatewayError> {
        let upstream = |cause: String| GatewayError::Upstream { what: "identity", cause };
        let request = self.http.post(&self.verify_url).json(&serde_json::json!({ "token": token })).send();
        let response = match tokio::time::timeout(self.timeout, request).await {
            Err(_) => return Err(GatewayError::UpstreamTimeout("identity")),
            Ok(r) => r.map_err(|e| upstream(e.to_string()))?,
        };
        match response.status() {
            s if s.is_success() => response.json::<SessionInfo>().await.map_err(|e| upstream(e.to_string())),
            reqwest::StatusCode::UNAUTHORIZED => Err(GatewayError::Unauthorized(AuthFailure::Revoked)),
            s => Err(upstream(format!("verify answered {s}"))),
        }
    }
}
