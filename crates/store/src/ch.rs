//! The ClickHouse client: HTTP with a 10 s connect timeout, `max_execution_time` on every
//! query, and row validation chosen by configuration or by the server's version.
//!
//! Row validation needs the `RowBinaryWithNamesAndTypes` format, which old servers such as
//! Debian's ClickHouse 18.16 do not have; there the client must send plain `RowBinary`.

use std::time::Duration;

use clickhouse::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use platform::config::{ChConfig, ChValidation, ExposeSecret};

/// First major version that has `RowBinaryWithNamesAndTypes` with the type names the client expects.
const VALIDATION_MIN_MAJOR: u32 = 24;

#[derive(Debug, thiserror::Error)]
pub enum ChError {
    #[error("cannot read the ClickHouse server version: {0}")]
    Version(#[source] clickhouse::error::Error),
}

fn base_client(cfg: &ChConfig, database: &str) -> Client {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    connector.set_nodelay(true);
    let http = HyperClient::builder(TokioExecutor::new())
        // below the server's keep-alive timeout (3 s on old releases)
        .pool_idle_timeout(Duration::from_millis(2_500))
        .pool_max_idle_per_host(cfg.max_open_conns as usize)
        .build(connector);
    let client = Client::with_http_client(http)
        .with_url(cfg.url())
        .with_user(&cfg.user)
        .with_password(cfg.password.expose_secret())
        .with_database(database)
        .with_setting("max_execution_time", cfg.max_execution_time.as_secs().to_string());
    match &cfg.cluster {
        // a written refresh is readable at once, and a shard that is away fails the insert
        // (503) instead of leaving the rows queued on this server's disk
        Some(_) => client.with_setting("insert_distributed_sync", "1"),
        None => client,
    }
}

/// The server's version string, e.g. `18.16.1`.
pub async fn server_version(client: &Client) -> Result<String, clickhouse::error::Error> {
    client.clone().with_validation(false).query("SELECT version()").fetch_one::<String>().await
}

fn supports_validation(version: &str) -> bool {
    version.split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= VALIDATION_MIN_MAJOR)
}

/// Builds the client for `cfg.database`. With `CH_VALIDATION=auto` this asks the server for its
/// version once, so it needs the server to be up.
pub async fn client(cfg: &ChConfig) -> Result<Client, ChError> {
    client_for_database(cfg, &cfg.database).await
}

/// Same as [`client`], for another database on the same server (tests use one per test).
pub async fn client_for_database(cfg: &ChConfig, database: &str) -> Result<Client, ChError> {
    let base = base_client(cfg, database);
    let validation = match cfg.validation {
        ChValidation::On => true,
        ChValidation::Off => false,
        ChValidation::Auto => supports_validation(&server_version(&base).await.map_err(ChError::Version)?),
    };
    tracing::debug!(validation, database, "clickhouse client ready");
    Ok(base.with_validation(validation))
}

/// [`client`] for a service, which must start while ClickHouse is down (its analytics answer
/// 503 until the server is back): when `CH_VALIDATION=auto` cannot ask the server its version,
/// rows are read without validation (plain `RowBinary`, which every release reads) and a
/// warning says so. A server that does not answer is given [`START_PROBE`].
pub async fn client_for_service(cfg: &ChConfig) -> Client {
    let failure = match tokio::time::timeout(START_PROBE, client(cfg)).await {
        Ok(Ok(client)) => return client,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", START_PROBE.as_secs()),
    };
    tracing::warn!(error = %failure, "clickhouse unreachable at start; rows are read without validation");
    base_client(cfg, &cfg.database).with_validation(false)
}

/// How long a starting service waits for ClickHouse to say its version.
const START_PROBE: Duration = Duration::from_secs(3);

/// ClickHouse could not be reached or did not answer in time, as opposed to a query or insert
/// it refused: what counts against a breaker.
pub fn unreachable(e: &clickhouse::error::Error) -> bool {
    use clickhouse::error::Error;
    match e {
        Error::Network(_) | Error::TimedOut => true,
        // the server gave up at `max_execution_time` (TIMEOUT_EXCEEDED), or could not reach or
        // hear from another shard of a Distributed table (SOCKET_TIMEOUT, NETWORK_ERROR,
        // ALL_CONNECTION_TRIES_FAILED): the answer would have been partial, so there is none
        Error::BadResponse(body) => matches!(error_code(body), Some(159 | 209 | 210 | 279)),
        _ => false,
    }
}

/// The `Code: N` a ClickHouse error text starts with (`Code: 60, e.displayText() = …` on old
/// releases, `Code: 60. DB::Exception: …` on current ones).
fn error_code(body: &str) -> Option<u32> {
    let rest = &body[body.find("Code: ")? + "Code: ".len()..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse().ok()
}

/// `SELECT 1`, for readiness checks.
pub async fn ping(client: &Client) -> Result<(), String> {
    client.query("SELECT 1").fetch_one::<u8>().await.map(drop).map_err(|e| e.to_string())
}

/// The probe that watches a service's ClickHouse breaker ([`breaker::watch`]): `SELECT 1`
/// through the service's own client (its HTTP connections are pooled, so a probe costs one
/// small request).
pub struct ChProbe(pub Client);

impl breaker::Probe for ChProbe {
    async fn check(&mut self) -> Result<(), String> {
        self.0.query("SELECT 1").execute().await.map_err(|e| e.to_string())
    }
}

/// A `/ready` check for this client.
pub fn ready_check(client: &Client) -> platform::http::Check {
    let client = client.clone();
    platform::http::check(move || {
        let client = client.clone();
        async move { ping(&client).await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_only_on_modern_servers() {
        assert!(!supports_validation("18.16.1"));
        assert!(!supports_validation("23.8.2.7"));
        assert!(supports_validation("24.3.1"));
        assert!(supports_validation("25.10.1.1"));
        assert!(!supports_validation("garbage"));
    }

    #[test]
    fn a_shard_that_cannot_be_reached_is_an_outage_and_codes_are_read_whole() {
        let old = |code: u32| {
            clickhouse::error::Error::BadResponse(format!("Code: {code}, e.displayText() = DB::NetException: …"))
        };
        let new = |code: u32| {
            clickhouse::error::Error::BadResponse(format!("Code: {code}. DB::Exception: … (NETWORK_ERROR)"))
        };
        for code in [159, 209, 210, 279] {
            assert!(unreachable(&old(code)) && unreachable(&new(code)), "{code}");
        }
        // a refused query is not an outage, whatever digits follow its code
        for code in [21, 60, 2100, 27] {
            assert!(!unreachable(&old(code)) && !unreachable(&new(code)), "{code}");
        }
    }
}
