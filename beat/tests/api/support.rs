//! The one place beat's tests build a configuration and a running beat.

use serde_json::Value;

pub use beat::testing::{config, workers};

/// The environment that makes the `beat` binary read `config` (for tests that run beat as a
/// separate process).
pub fn env_for(config: &beat::Config) -> Vec<(String, String)> {
    use platform::config::ExposeSecret;
    let mut env: Vec<(String, String)> = [
        ("SERVER_HOST", "127.0.0.1".to_owned()),
        ("PG_HOST", config.pg.host.clone()),
        ("PG_PORT", config.pg.port.to_string()),
        ("PG_USER", config.pg.user.clone()),
        ("PG_PASS", config.pg.password.expose_secret().to_owned()),
        ("PG_DB", config.pg.database.clone()),
        ("CH_HOST", config.ch.host.clone()),
        ("CH_PORT", config.ch.port.to_string()),
        ("CH_USER", config.ch.user.clone()),
        ("CH_DB", config.ch.database.clone()),
        ("REDIS_URL", config.redis_url.expose_secret().to_owned()),
        ("REDIS_KEY_PREFIX", config.redis_key_prefix.clone()),
        ("PROVIDER_TIMEOUT", config.provider_timeout.as_secs().to_string()),
        ("CH_QUERY_TIMEOUT_MS", config.ch_write_timeout.as_millis().to_string()),
        ("LOG_FORMAT", "json".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (_, sources) in &config.sources {
        for s in sources {
            env.push((format!("SOURCE_URL_{}", s.name.to_ascii_uppercase().replace('-', "_")), s.base_url.clone()));
        }
    }
    let mut set = |k: &str, v: String| env.push((k.to_owned(), v));
    match &config.workers {
        None => set("WORKERS", "false".to_owned()),
        Some(w) => {
            set("WORKER_CONCURRENCY", w.concurrency.to_string());
            set("QUEUE_LEASE", w.lease.as_secs().to_string());
            set("QUEUE_POLL", w.poll.as_secs().to_string());
            set("QUEUE_DRAIN", w.drain.as_secs().to_string());
            set("RETRY_BACKOFF", w.retry_base.as_secs().to_string());
        }
    }
    env
}

/// A test's world: its stores, a simulator, and beat.
pub struct World {
    pub pg: testkit::TestPg,
    pub ch: testkit::TestCh,
    pub simulator: testkit::Running,
    pub beat: testkit::Running,
    pub http: reqwest::Client,
}

/// Starts the simulator, seeds one credential per source, and starts beat; `tweak` may change
/// the configuration first.
pub async fn world_with(tweak: impl FnOnce(&mut beat::Config)) -> World {
    world_setup(&[], tweak).await
}

/// As [`world_with`], running `sql` on the test's database before beat starts.
pub async fn world_setup(sql: &[&str], tweak: impl FnOnce(&mut beat::Config)) -> World {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let sim = platform::http::Server::bind("127.0.0.1:0", beat::simulator::Simulator::new().router()).await.unwrap();
    let simulator = testkit::serve(sim);
    beat::testing::seed_credentials(&pg.pool).await;
    for statement in sql {
        sqlx::query(statement).execute(&pg.pool).await.unwrap();
    }
    let mut config = config(&pg, &ch, &simulator.base_url);
    tweak(&mut config);
    let beat = testkit::serve(beat::build(config).await.unwrap());
    World { pg, ch, simulator, beat, http: reqwest::Client::new() }
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    /// GET on beat: status, headers, JSON body.
    pub async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let resp = self.http.get(format!("{}{path}", self.beat.base_url)).send().await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Switches faults on for one simulated source.
    pub async fn faults(&self, source: &str, faults: Value) {
        let url = format!("{}/_simulator/faults/{source}", self.simulator.base_url);
        let status = self.http.post(url).json(&faults).send().await.unwrap().status();
        assert_eq!(status, 204);
    }

    /// Requests the simulator saw, by "source endpoint".
    pub async fn simulator_stats(&self) -> std::collections::HashMap<String, u64> {
        let url = format!("{}/_simulator/stats", self.simulator.base_url);
        self.http.get(url).send().await.unwrap().json().await.unwrap()
    }

    pub async fn calls(&self, key: &str) -> u64 {
        self.simulator_stats().await.get(key).copied().unwrap_or(0)
    }
}
