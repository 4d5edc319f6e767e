//! The gateway's cost, side by side in one run on the test stack (`cargo stack bench --only
//! gateway`), written to `bench/results/gateway.{md,json}`:
//!
//! 1. **Auth decision** on a memory hit: the JWT check, the session from the in-process tier and
//!    the partner's plan (what every authenticated request pays before its limits); the same for
//!    an API key (its checksum and hash, the key from the in-process tier, the plan); and the
//!    session tiers one by one (memory, Redis Cluster, coffee's identity on Postgres).
//! 2. **Edge limit**: one partner+client decision (one script on the Redis Cluster).
//! 3. **End to end**: release builds of coffee and the gateway as their own processes, and
//!    nginx (Debian's, a plain reverse proxy with upstream keep-alive, no auth), all loaded by
//!    the same `wrk` for `BENCH_SECONDS` (default 30) per target and cell, split into
//!    `BENCH_ROUNDS` (default 5) interleaved segments: client → coffee, client → nginx →
//!    coffee, client → bare proxy (the gateway's HTTP stack with none of its work) → coffee,
//!    client → gateway → coffee, with each proxy's CPU time per request, on a cheap route (`/coffee/health`, so a proxy's own
//!    cost shows) and on a profile (`/coffee/profiles/instagram/1`, Postgres), at 64 and at 1
//!    connection. The direct and nginx requests carry the tenant headers the gateway would inject,
//!    so coffee does the same work in all three; coffee runs without `TENANT_SIGNING_SECRET`
//!    (direct and nginx callers cannot sign), while the gateway signs as in production.
//! 4. **Memory**: the resident-set growth of a process holding 1M sessions in the gateway's
//!    in-process tier, and of one holding 1M bare entries in a moka cache (the cache's floor), next to
//!    the same entries in quick_cache.
//!
//! `perf record` samples the gateway during one run, by default the cheap route at 64
//! connections; `BENCH_PROFILE=profile:1` (route:connections) picks another.
//!
//! Coffee and gateway binaries and the bare proxy (`examples/bare_proxy.rs`, the gateway's HTTP
//! stack alone) come from `target/release` (`cargo stack bench` builds them).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use serde_json::{json, Value};
use sqlx::Connection;
use testkit::bench::stats;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use coffee::testing::HMAC_SECRET;

const SAMPLES: usize = 20_000;
const TIER_SAMPLES: usize = 2_000;
const SESSIONS_FOR_RSS: u64 = 1_000_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn release_dir() -> PathBuf {
    std::env::var_os("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| stack::profile::repo_root().join("target/release"))
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx in a process group of its own, stopped through its master on drop and then by
/// group: killing the master alone would orphan the workers, which keep the port, and runs
/// have left workers behind even after a clean `nginx -s stop`.
struct Nginx {
    child: Child,
    args: Vec<String>,
}

impl Nginx {
    fn start(args: Vec<String>) -> Self {
        use std::os::unix::process::CommandExt as _;
        let child = Command::new("nginx")
            .args(&args)
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("nginx (cargo stack bench installs it)");
        Self { child, args }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("nginx").args(&self.args).args(["-s", "stop"]).stderr(Stdio::null()).status();
        for _ in 0..50 {
            if self.child.try_wait().is_ok_and(|s| s.is_some()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // whatever is left of the group (the master's id is the group's), then the master
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

async fn wait_for(url: &str) {
    for _ in 0..300 {
        if reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered");
}

/// The demo SAAS user's login at `base` (coffee or the gateway): token and session.
async fn demo_login(base: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/identity/login"))
        .json(&json!({"email": datagen::DEMO_SAAS_EMAIL, "password": datagen::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// CPU time (user + system) the processes `pids` have used so far, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks_per_second: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // fields after the parenthesised command name; utime and stime are the 14th and 15th
            let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
            let f: Vec<u64> = rest.split(' ').skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
            f.iter().sum::<u64>()
        })
        .sum();
    ticks as f64 / ticks_per_second
}

/// The worker processes of nginx's master (they do the proxying).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::main]
async fn main() {
    if std::env::var("BENCH_ONLY").as_deref() == Ok("moka_floor") {
        // run in a process of its own (see `moka_floor`), so freed memory of other steps is not reused
        println!("FLOOR {:.1}", moka_floor().await);
        return;
    }
    if std::env::var("BENCH_ONLY").as_deref() == Ok("quick_cache_floor") {
        println!("FLOOR {:.1}", quick_cache_floor());
        return;
    }
    if std::env::var("BENCH_ONLY").as_deref() == Ok("memory") {
        // a quick look at the memory figure alone
        let env = [("REDIS_CLUSTER_ADDRESSES", "127.0.0.1:1"), ("HMAC_SECRET", HMAC_SECRET), ("RUST_LOG", "warn")];
        let (held, mib, per) = memory(env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).await;
        println!("{held} sessions: {mib:.0} MiB, {per:.0} bytes each");
        return;
    }
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let data = datagen::GenConfig {
        seed: 1,
        profiles_per_platform: 20,
        days: 30,
        end_date: chrono::Utc::now().date_naive(),
        posts_per_profile: 0,
        partners: 2,
        collections_per_partner: 0,
        pg_time_series: false,
    };
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&data, datagen::Targets { pg: Some(&mut conn), ch: Some(&ch.client), progress: false })
        .await
        .unwrap();
    let prefix = testkit::redis_prefix();
    let machine = testkit::bench::machine();

    // ---- 1 and 2: in process ------------------------------------------------------------------
    let coffee = testkit::serve(
        coffee::build(coffee::Config {
            slow_query: Duration::from_secs(10),
            free_profile_view_quota: 50,
            ..coffee::testing::config(&pg, &ch, &prefix)
        })
        .await
        .unwrap(),
    );
    let login = demo_login(&coffee.base_url).await;
    let token = login["token"].as_str().expect("login answers a token").to_owned();
    let sid = login["session"]["sid"].as_str().unwrap().to_owned();
    let partner_id = login["session"]["partner_id"].as_i64().unwrap();
    let gateway_env = |coffee_url: &str, port: u16| -> Vec<(String, String)> {
        let mut env =
            gateway::testing::env(coffee_url, "http://127.0.0.1:1", &prefix, &testkit::redis_cluster_config());
        gateway::testing::set(&mut env, "PORT", port.to_string());
        gateway::testing::set(&mut env, "SESSION_CACHE_TTL", "3600");
        gateway::testing::set(&mut env, "RUST_LOG", "warn");
        // Redis bounds as in production (the tests' are wider, for loaded CI machines)
        env.retain(|(k, _)| !k.starts_with("REDIS_TIMEOUT") && !k.starts_with("REDIS_BREAKER"));
        // settings to try without editing the bench: BENCH_GATEWAY_<VAR>=value sets <VAR>
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("BENCH_GATEWAY_") {
                gateway::testing::set(&mut env, name, v);
            }
        }
        env
    };
    let config = gateway::Config::from_env(platform::config::Env::from_map(
        gateway_env(&coffee.base_url, 0).into_iter().collect(),
    ))
    .unwrap();
    let state = gateway::state(config).await.unwrap();

    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    gateway::auth::caller(&state, &headers, std::net::Ipv4Addr::LOCALHOST.into())
        .await
        .expect("warm: session and plan cached");
    let mut decision = Vec::with_capacity(SAMPLES);
    let mut jwt = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let caller = gateway::auth::caller(&state, &headers, std::net::Ipv4Addr::LOCALHOST.into())
            .await
            .expect("a live session");
        decision.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(caller);
        let started = Instant::now();
        std::hint::black_box(state.tokens.verify(&token).unwrap());
        jwt.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let (decision, jwt) = (stats(decision), stats(jwt));

    // the same decision for an API key held in memory (its partner's plan is cached above)
    let api_key = tenancy::ApiKey::generate();
    let info = tenancy::ApiKeyInfo {
        key_id: 1,
        client_id: "key_bench".into(),
        partner_id,
        user_id: None,
        name: "bench".into(),
        scope: tenancy::KeyScope::Read,
        expires_at: None,
        key_hash: api_key.hash().hex(),
    };
    state.keys.remember(&api_key, info).await;
    state.keys.run_pending_tasks().await;
    let mut key_headers = axum::http::HeaderMap::new();
    key_headers.insert("x-api-key", api_key.expose().parse().unwrap());
    let mut key_decision = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let caller = gateway::auth::caller(&state, &key_headers, std::net::Ipv4Addr::LOCALHOST.into())
            .await
            .expect("a live key");
        key_decision.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(caller);
    }
    let key_decision = stats(key_decision);

    let mut limit = Vec::with_capacity(TIER_SAMPLES);
    let who = gateway::limits::PartnerCaller { plan: tenancy::PlanType::Saas, partner_id, client: "bench" };
    for _ in 0..TIER_SAMPLES {
        let started = Instant::now();
        state.limits.partner(&who).await.expect("admitted");
        limit.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let limit = stats(limit);

    let sessions = state.sessions.clone();
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = tenancy::session_key(&prefix, &sid);
    let mut tiers = Vec::new();
    for tier in [gateway::session::Tier::Memory, gateway::session::Tier::Redis, gateway::session::Tier::Identity] {
        let mut samples = Vec::with_capacity(TIER_SAMPLES);
        for i in 0..TIER_SAMPLES + 50 {
            // put the session where only this tier has it (not timed)
            if tier != gateway::session::Tier::Memory {
                sessions.forget_all();
            }
            if tier == gateway::session::Tier::Identity {
                let _: () = redis.del(&key).await.unwrap();
            }
            let started = Instant::now();
            let (_, answered) = sessions.resolve(&sid, &token).await.expect("a live session");
            let elapsed = started.elapsed().as_secs_f64() * 1e6;
            if i >= 50 {
                assert_eq!(answered, tier, "the intended tier answered");
                samples.push(elapsed);
            }
        }
        tiers.push((tier, stats(samples)));
    }
    coffee.stop().await;
    drop(state);

    // ---- 3: end to end -------------------------------------------------------------------------
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let bin = release_dir();
    let coffee_port = free_port();
    let pg_cfg = &pg.config;
    let ch_cfg = &ch.config;
    use platform::config::ExposeSecret;
    let coffee_env: Vec<(&str, String)> = vec![
        ("PORT", coffee_port.to_string()),
        ("SERVER_HOST", "127.0.0.1".into()),
        ("PG_HOST", pg_cfg.host.clone()),
        ("PG_PORT", pg_cfg.port.to_string()),
        ("PG_USER", pg_cfg.user.clone()),
        ("PG_PASS", pg_cfg.password.expose_secret().to_owned()),
        ("PG_DB", pg_cfg.database.clone()),
        ("CH_HOST", ch_cfg.host.clone()),
        ("CH_PORT", ch_cfg.port.to_string()),
        ("CH_USER", ch_cfg.user.clone()),
        ("CH_PASS", ch_cfg.password.expose_secret().to_owned()),
        ("CH_DB", ch_cfg.database.clone()),
        ("CH_VALIDATION", "off".into()),
        ("REDIS_CLUSTER_ADDRESSES", testkit::redis_cluster_config().addresses.join(",")),
        ("HMAC_SECRET", HMAC_SECRET.into()),
        ("REDIS_KEY_PREFIX", prefix.clone()),
        ("FREE_PROFILE_VIEW_QUOTA", "1000000000".into()),
        ("RUST_LOG", "warn".into()),
    ];
    let _coffee =
        Proc(
            Command::new(bin.join("coffee")).env_clear().envs(coffee_env).stdout(Stdio::null()).spawn().unwrap_or_else(
                |e| panic!("{}: {e} (cargo build --release --bins first)", bin.join("coffee").display()),
            ),
        );
    let coffee_url = format!("http://127.0.0.1:{coffee_port}");
    wait_for(&format!("{coffee_url}/health")).await;
    let gateway_port = free_port();
    let _gateway = Proc(
        Command::new(bin.join("gateway"))
            .env_clear()
            .envs(gateway_env(&coffee_url, gateway_port))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let gateway_pid = _gateway.0.id();
    let gateway_url = format!("http://127.0.0.1:{gateway_port}");
    wait_for(&format!("{gateway_url}/health")).await;
    let nginx_port = free_port();
    let nginx_dir = std::env::temp_dir().join(format!("bulbul-nginx-{nginx_port}"));
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let nginx_conf = format!(
        "daemon off;\nworker_processes auto;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           upstream coffee {{ server 127.0.0.1:{coffee_port}; keepalive 128; }}\n\
           server {{\n    listen 127.0.0.1:{nginx_port};\n    location / {{\n      proxy_pass http://coffee;\n\
               proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n    }}\n  }}\n}}\n",
        dir = nginx_dir.display()
    );
    std::fs::write(nginx_dir.join("nginx.conf"), nginx_conf).unwrap();
    let nginx_args: Vec<String> = vec![
        "-c".into(),
        nginx_dir.join("nginx.conf").display().to_string(),
        "-p".into(),
        nginx_dir.display().to_string(),
    ];
    let _nginx = Nginx::start(nginx_args);
    let nginx_url = format!("http://127.0.0.1:{nginx_port}");
    wait_for(&format!("{nginx_url}/health")).await;
    // the gateway's HTTP stack alone (gateway/examples/bare_proxy.rs)
    let bare_port = free_port();
    let _bare = Proc(
        Command::new(bin.join("examples/bare_proxy"))
            .env_clear()
            .env("PORT", bare_port.to_string())
            .env("COFFEE_URL", &coffee_url)
            .spawn()
            .unwrap_or_else(|e| panic!("bare_proxy: {e} (cargo build --release -p gateway --example bare_proxy)")),
    );
    let bare_url = format!("http://127.0.0.1:{bare_port}");
    wait_for(&format!("{bare_url}/health")).await;
    // whose CPU time each target's run is charged with: the proxy's own processes
    let proxy_pids = |target: &str| -> Vec<u32> {
        match target {
            "nginx" => children(_nginx.child.id()),
            "bare" => vec![_bare.0.id()],
            "gateway" => vec![gateway_pid],
            _ => vec![],
        }
    };

    // a fresh login through the gateway; the direct and nginx requests carry what it would inject
    let login = demo_login(&gateway_url).await;
    let token = login["token"].as_str().unwrap().to_owned();
    let injected = {
        let identity = tenancy::TenantIdentity {
            partner_id: Some(partner_id),
            account_id: login["session"]["account_id"].as_i64(),
            plan_type: Some(tenancy::PlanType::Saas),
            auth: Some(tenancy::DownstreamAuth {
                user_id: login["session"]["user_id"].as_i64(),
                user_name: login["session"]["user_name"].as_str().map(str::to_owned),
                is_logged_in: true,
                account_id: login["session"]["account_id"].as_i64(),
                password: String::new(),
            }),
            ..Default::default()
        };
        let mut h = axum::http::HeaderMap::new();
        identity.write_headers(&mut h);
        h.iter().map(|(k, v)| format!("{k}: {}", v.to_str().unwrap())).collect::<Vec<_>>()
    };
    let bearer = vec![format!("Authorization: Bearer {token}")];
    let routes = [("cheap", "/coffee/health"), ("profile", "/coffee/profiles/instagram/1")];
    let targets = [
        ("direct", &coffee_url, &injected),
        ("nginx", &nginx_url, &injected),
        ("bare", &bare_url, &injected),
        ("gateway", &gateway_url, &bearer),
    ];
    let lua = nginx_dir.join("report.lua");
    // kept after the run for a closer look: perf report -i /tmp/bulbul-gateway.perf.data
    let perf_data = std::env::temp_dir().join("bulbul-gateway.perf.data");
    std::fs::write(
        &lua,
        "done = function(summary, latency, requests)\n\
           io.write(string.format(\"BENCH %d %d %d %d %d %d %d\\n\", summary.requests, summary.duration,\n\
             latency:percentile(50), latency:percentile(95), latency:percentile(99),\n\
             summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))\n\
         end\n",
    )
    .unwrap();
    // BENCH_PROFILE=route:connections profiles another of the gateway's runs (default its heaviest)
    let profiled = std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "cheap:64".to_owned());
    // each cell (route, connections) runs in rounds: every round gives every target one segment,
    // in an order that rotates, so drift on the shared machine (another process's burst, the
    // page cache, frequency) falls on all targets alike and each round compares like with like
    let rounds: u64 = std::env::var("BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let segment_secs = (seconds / rounds).max(2);
    let mut segments = Vec::new();
    for (route, path) in routes {
        for connections in [64u32, 1] {
            let wrk = |url: &str, headers: &[String], secs: u64| {
                let mut cmd = Command::new("wrk");
                cmd.args(["-t", if connections > 1 { "2" } else { "1" }])
                    .args(["-c", &connections.to_string(), "-d", &format!("{secs}s"), "--latency"])
                    .args(["-s", lua.to_str().unwrap()]);
                for h in headers {
                    cmd.args(["-H", h]);
                }
                let out = cmd.arg(url).output().expect("wrk (cargo stack bench installs it)");
                String::from_utf8_lossy(&out.stdout).into_owned()
            };
            for (target, base, headers) in targets {
                let url = format!("{base}{path}");
                // every target answers 200 before it is measured
                let mut check = reqwest::Client::new().get(&url);
                for h in headers.iter() {
                    let (k, v) = h.split_once(": ").unwrap();
                    check = check.header(k, v);
                }
                let status = check.send().await.unwrap().status();
                assert_eq!(status, 200, "{target} {path}");
                wrk(&url, headers, 2); // warm-up: connections, caches
            }
            for round in 0..rounds {
                for i in 0..targets.len() {
                    let (target, base, headers) = targets[(i + round as usize) % targets.len()];
                    let url = format!("{base}{path}");
                    // where the gateway's time goes, sampled by perf during one of its segments
                    let profiling = (target == "gateway"
                        && round == rounds / 2
                        && profiled == format!("{route}:{connections}"))
                    .then(|| {
                        Command::new("perf")
                            .args(["record", "-F", "499", "-g", "-o", perf_data.to_str().unwrap()])
                            .args(["-p", &gateway_pid.to_string(), "--", "sleep", &(segment_secs - 1).to_string()])
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .spawn()
                            .ok()
                    })
                    .flatten();
                    let pids = proxy_pids(target);
                    let cpu_before = cpu_seconds(&pids);
                    let out = wrk(&url, headers, segment_secs);
                    let proxy_cpu = cpu_seconds(&pids) - cpu_before;
                    if let Some(mut perf) = profiling {
                        let _ = perf.wait();
                    }
                    let line =
                        out.lines().find_map(|l| l.strip_prefix("BENCH ")).unwrap_or_else(|| panic!("wrk said: {out}"));
                    let v: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
                    let (requests, duration_us, p50, p95, p99, bad_status, socket_errors) =
                        (v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
                    assert_eq!((bad_status, socket_errors), (0, 0), "{target} {path}: every answer a 200: {out}");
                    eprintln!(
                        "{route} c={connections} round {round} {target}: {:.0} req/s p50 {p50} µs p99 {p99} µs",
                        requests as f64 / (duration_us as f64 / 1e6)
                    );
                    segments.push(Segment {
                        route,
                        connections,
                        target,
                        round,
                        requests,
                        duration_us,
                        p50,
                        p95,
                        p99,
                        proxy_cpu: (!pids.is_empty()).then_some(proxy_cpu),
                    });
                }
            }
        }
    }
    // self time of every sampled symbol, grouped by what it belongs to
    let report = Command::new("perf")
        .args(["report", "--stdio", "--no-children", "--sort", "symbol", "--percent-limit", "0", "-g", "none"])
        .args(["-i", perf_data.to_str().unwrap()])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let groups: [(&str, &[&str]); 12] = [
        ("kernel (sockets, loopback TCP, scheduling)", &["[k] "]),
        ("allocator (mimalloc)", &["mi_", "_mi_"]),
        ("memory copies", &["memmove", "memcpy", "memset"]),
        ("HTTP/1 (hyper, httparse)", &["hyper", "httparse"]),
        ("async runtime (tokio, mio)", &["tokio::", "mio::"]),
        ("axum and tower layers", &["axum", "tower"]),
        ("header maps (http)", &["http::header", "HeaderMap", "HeaderName", "HeaderValue"]),
        ("caches (moka)", &["moka", "crossbeam"]),
        ("crypto and encoding (sha2, base64)", &["sha2", "hmac", "base64"]),
        ("formatting", &["fmt::", "format", "String as core::fmt"]),
        ("metrics and tracing", &["metrics", "tracing", "quanta"]),
        (
            "bulbul code (gateway, ratelimit, tenancy, platform, store)",
            &["gateway::", "ratelimit::", "tenancy::", "platform::", "store::"],
        ),
    ];
    let mut shares = vec![0.0f64; groups.len() + 1];
    for line in report.lines().filter(|l| !l.starts_with('#')) {
        let Some(share) =
            line.split_whitespace().next().and_then(|p| p.strip_suffix('%')).and_then(|p| p.parse::<f64>().ok())
        else {
            continue;
        };
        let group =
            groups.iter().position(|(_, needles)| needles.iter().any(|n| line.contains(n))).unwrap_or(groups.len());
        shares[group] += share;
    }
    let mut profile: Vec<(String, f64)> =
        groups.iter().map(|(name, _)| (*name).to_owned()).chain(["other".to_owned()]).zip(shares).collect();
    profile.sort_by(|a, b| b.1.total_cmp(&a.1));
    let profile: Vec<String> =
        profile.iter().filter(|(_, s)| *s > 0.0).map(|(name, share)| format!("{share:5.1}%  {name}")).collect();
    // one row per cell and target, from its segments; comparisons are made round by round
    let cell = |route: &str, c: u32, target: &str| -> Vec<&Segment> {
        let mut of: Vec<&Segment> =
            segments.iter().filter(|s| s.route == route && s.connections == c && s.target == target).collect();
        of.sort_by_key(|s| s.round);
        of
    };
    let per_round = |route: &str, c: u32, target: &str, against: &str, f: &dyn Fn(&Segment, &Segment) -> f64| {
        Spread::of(cell(route, c, target).iter().zip(cell(route, c, against)).map(|(s, a)| f(s, a)))
    };
    let mut runs = Vec::new();
    for (route, path) in routes {
        for c in [64u32, 1] {
            for target in ["direct", "nginx", "bare", "gateway"] {
                let of = cell(route, c, target);
                let requests: u64 = of.iter().map(|s| s.requests).sum();
                let duration_us: u64 = of.iter().map(|s| s.duration_us).sum();
                let cpu: Option<f64> = of.iter().map(|s| s.proxy_cpu).sum();
                let vs_nginx = per_round(route, c, target, "nginx", &|s, n| s.rps() / n.rps());
                let over_direct = per_round(route, c, target, "direct", &|s, d| s.p50 as f64 - d.p50 as f64);
                runs.push(json!({
                    "route": route, "path": path, "connections": c, "target": target, "rounds": of.len(),
                    "requests": requests, "rps": requests as f64 / (duration_us as f64 / 1e6),
                    "p50_us": median(of.iter().map(|s| s.p50 as f64).collect()),
                    "p95_us": median(of.iter().map(|s| s.p95 as f64).collect()),
                    "p99_us": median(of.iter().map(|s| s.p99 as f64).collect()),
                    "proxy_cpu_us_per_request": cpu.map(|cpu| cpu * 1e6 / requests as f64),
                    "rps_over_nginx": vs_nginx.json(), "p50_over_direct_us": over_direct.json(),
                    "segments": of.iter().map(|s| json!({"round": s.round, "requests": s.requests,
                        "duration_us": s.duration_us, "p50_us": s.p50, "p95_us": s.p95, "p99_us": s.p99}))
                        .collect::<Vec<_>>(),
                }));
            }
        }
    }
    let find = |route: &str, c: u32, target: &str| {
        runs.iter().find(|r| r["route"] == route && r["connections"] == c && r["target"] == target).unwrap().clone()
    };

    // ---- 4: memory --------------------------------------------------------------------------------
    let (held, rss_mib, per_session) = memory(gateway_env(&coffee_url, 0)).await;
    let floor_of = |which: &str| -> f64 {
        let run = Command::new(std::env::current_exe().unwrap()).env("BENCH_ONLY", which).output().unwrap();
        String::from_utf8_lossy(&run.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("FLOOR "))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("the {which} run prints FLOOR <bytes>"))
    };
    let (floor, quick_floor) = (floor_of("moka_floor"), floor_of("quick_cache_floor"));

    // ---- report -----------------------------------------------------------------------------------
    let mut md = format!(
        "# Gateway: the cost of the edge\n\n\
         Machine: {} ({} cores). Generated by `cargo stack bench --only gateway` on {}. Everything below ran in one \
         run on the same machine (load generator, services and stores share its cores).\n\n\
         ## Auth decision (in process)\n\n\
         `gateway::auth::caller` on a memory hit: the HS256 JWT check, the session from the in-process tier and the \
         partner's plan from the plan cache, {SAMPLES} samples. Target: p50 < 5 µs.\n\n\
         | step | p50 (µs) | p95 (µs) | p99 (µs) |\n|---|---|---|---|\n\
         | whole decision | {:.2} | {:.2} | {:.2} |\n| of which the JWT check | {:.2} | {:.2} | {:.2} |\n\
         | the same for an API key (shape and checksum, SHA-256, the key from the in-process tier, the plan) | {:.2} | {:.2} | {:.2} |\n\
         | edge limit (partner + client; one Redis Cluster script per lease of 20) | {:.1} | {:.1} | {:.1} |\n\n\
         Session tiers alone (`SessionTiers::resolve`, {TIER_SAMPLES} samples, the session placed so only that tier has it):\n\n\
         | tier | p50 (µs) | p95 (µs) | p99 (µs) | p50 vs memory |\n|---|---|---|---|---|\n",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        chrono::Utc::now().format("%Y-%m-%d"),
        decision.p50,
        decision.p95,
        decision.p99,
        jwt.p50,
        jwt.p95,
        jwt.p99,
        key_decision.p50,
        key_decision.p95,
        key_decision.p99,
        limit.p50,
        limit.p95,
        limit.p99,
    );
    let memory_p50 = tiers[0].1.p50;
    let mut tiers_json = Vec::new();
    for (tier, s) in &tiers {
        let _ = writeln!(md, "| {tier:?} | {:.1} | {:.1} | {:.1} | {:.0}x |", s.p50, s.p95, s.p99, s.p50 / memory_p50);
        tiers_json.push(json!({"tier": format!("{tier:?}").to_lowercase(), "n": s.n, "p50_us": s.p50, "p95_us": s.p95, "p99_us": s.p99}));
    }
    let _ = write!(
        md,
        "\n## End to end\n\n\
         Release builds as separate processes, loaded by `wrk`. Each cell (route, connections) runs {rounds} rounds \
         after a 2 s warm-up of every target; a round gives each target one {segment_secs} s segment, in an order \
         that rotates from round to round, so a slow moment of the shared machine falls on all targets alike. \
         **direct**: client → coffee. **nginx**: client → nginx 1.22 (plain reverse proxy, upstream keep-alive, \
         no auth) → coffee. **bare**: client → the gateway's HTTP stack alone (`gateway/examples/bare_proxy.rs`: the \
         same axum server and hyper-util client, forwarding unchanged, no auth, limits, headers, metrics or \
         tracing) → coffee. **gateway**: client → gateway (JWT, session, plan, partner and client limits in Redis, \
         tenant headers stripped, injected and signed, trace context, proxy) → coffee. Direct and nginx requests \
         carry the tenant headers the gateway would inject.\n\n\
         req/s is over all segments; p50/p95/p99 are the median of the segments' own. **vs nginx** and **over \
         direct** are taken within each round (this target's segment against nginx's or direct's in the same \
         round): the median of the rounds, then the lowest and highest round. **proxy CPU** is the CPU time (user \
         and system) of the proxy's own processes during its segments, per request: what one request costs the \
         proxy, whatever the cores' sharing.\n\n\
         | route | connections | target | req/s | p50 (µs) | p95 (µs) | p99 (µs) | req/s vs nginx (rounds' range) | p50 over direct, µs (rounds' range) | proxy CPU (µs/request) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    let mut ratios = Vec::new();
    for (route, _) in routes {
        for c in [64u32, 1] {
            let nginx = find(route, c, "nginx");
            for target in ["direct", "nginx", "bare", "gateway"] {
                let r = find(route, c, target);
                let vs_nginx = per_round(route, c, target, "nginx", &|s, n| s.rps() / n.rps());
                let over_direct = per_round(route, c, target, "direct", &|s, d| s.p50 as f64 - d.p50 as f64);
                let _ = writeln!(
                    md,
                    "| {route} | {c} | {target} | {:.0} | {} | {} | {} | {:.2} ({:.2}–{:.2}) | {:+.0} ({:+.0} to {:+.0}) | {} |",
                    r["rps"].as_f64().unwrap(),
                    r["p50_us"],
                    r["p95_us"],
                    r["p99_us"],
                    vs_nginx.median,
                    vs_nginx.min,
                    vs_nginx.max,
                    over_direct.median,
                    over_direct.min,
                    over_direct.max,
                    r["proxy_cpu_us_per_request"].as_f64().map_or("-".to_owned(), |c| format!("{c:.1}"))
                );
                if target == "gateway" {
                    let vs_bare = per_round(route, c, "gateway", "bare", &|g, b| g.rps() / b.rps());
                    let bare_vs_nginx = per_round(route, c, "bare", "nginx", &|b, n| b.rps() / n.rps());
                    let nginx_over_direct = per_round(route, c, "nginx", "direct", &|n, d| n.p50 as f64 - d.p50 as f64);
                    ratios.push(json!({"route": route, "connections": c, "rounds": rounds,
                        "gateway_rps_over_nginx": vs_nginx.json(),
                        "gateway_rps_over_bare": vs_bare.json(),
                        "bare_rps_over_nginx": bare_vs_nginx.json(),
                        "gateway_p50_over_direct_us": over_direct.json(),
                        "nginx_p50_over_direct_us": nginx_over_direct.json(),
                        "gateway_cpu_over_nginx": r["proxy_cpu_us_per_request"].as_f64().unwrap_or(f64::NAN)
                            / nginx["proxy_cpu_us_per_request"].as_f64().unwrap_or(f64::NAN)}));
                }
            }
        }
    }
    let _ = write!(
        md,
        "\nTargets: the gateway at 64 connections reaches at least nginx's throughput (ratio ≥ 1.00) while doing \
         auth, limits and enrichment; at 1 connection it adds < 150 µs p50 over direct.\n\n\
         ## Where the gateway's time goes\n\n\
         `perf record` on the gateway process during the {profiled_route} route at {profiled_connections} \
         connections: each sampled symbol's self time, grouped by what it belongs to (the raw data stays in \
         /tmp/bulbul-gateway.perf.data):\n\n```\n{}\n```\n\n\
         ## Memory\n\n\
         {held} sessions in the in-process tier (`SESSION_CACHE_CAPACITY` raised for the run): the process's resident \
         set grew by **{rss_mib:.0} MiB** ({per_session:.0} bytes per session, key, value and cache bookkeeping). \
         Target: < 300 MB.\n\n\
         The cache's own floor, measured the same way in a process of its own: a moka cache of {held} entries \
         from a `u128` to a `u64` (no session data at all) grew the resident set by {floor:.0} bytes per entry. \
         The session itself (ids, expiry, name, the shared pointer) is the rest, so no moka-based tier can hold a \
         million sessions in 300 MB. For comparison, the same entries in quick_cache (a bounded concurrent cache \
         with the S3-FIFO policy, not used by the gateway) grew it by {quick_floor:.0} bytes per entry.\n",
        profile.join("\n"),
        profiled_route = profiled.split(':').next().unwrap_or_default(),
        profiled_connections = profiled.split(':').nth(1).unwrap_or_default(),
    );
    let report = json!({
        "machine": machine,
        "auth_decision_us": {"n": decision.n, "p50": decision.p50, "p95": decision.p95, "p99": decision.p99},
        "jwt_us": {"p50": jwt.p50, "p95": jwt.p95, "p99": jwt.p99},
        "api_key_decision_us": {"n": key_decision.n, "p50": key_decision.p50, "p95": key_decision.p95, "p99": key_decision.p99},
        "edge_limit_us": {"p50": limit.p50, "p95": limit.p95, "p99": limit.p99},
        "tiers": tiers_json,
        "end_to_end": {"seconds": seconds, "rounds": rounds, "segment_seconds": segment_secs, "runs": runs, "ratios": ratios},
        "memory": {"sessions": held, "rss_growth_mib": rss_mib, "bytes_per_session": per_session,
            "moka_floor_bytes_per_entry": floor, "quick_cache_floor_bytes_per_entry": quick_floor},
        "gateway_profile": profile,
    });
    testkit::bench::write_report("gateway", &md, &report);
    println!("{md}");
    // stopped while its configuration (which names its pid file) still exists
    drop(_nginx);
    let _ = std::fs::remove_dir_all(&nginx_dir);
}

/// The resident-set growth of holding `SESSIONS_FOR_RSS` sessions in the in-process tier:
/// (sessions held, MiB, bytes per session).
async fn memory(env: Vec<(String, String)>) -> (u64, f64, f64) {
    let config = gateway::Config {
        session_cache_capacity: SESSIONS_FOR_RSS + 1000,
        ..gateway::Config::from_env(platform::config::Env::from_map(env.into_iter().collect())).unwrap()
    };
    let state = gateway::state(config).await.unwrap();
    let before = rss_kib();
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(1);
    for i in 0..SESSIONS_FOR_RSS {
        let session = tenancy::SessionInfo {
            sid: uuid::Uuid::new_v4().to_string(),
            user_id: i as i64,
            user_name: format!("User {i}"),
            partner_id: (i % 1000) as i64,
            account_id: Some(i as i64),
            expires_at,
        };
        state.sessions.remember(session).await;
    }
    state.sessions.run_pending_tasks().await;
    let held = state.sessions.cached();
    let after = rss_kib();
    let rss_mib = (after - before) as f64 / 1024.0;
    (held, rss_mib, (after - before) as f64 * 1024.0 / held as f64)
}

/// [`moka_floor`] for quick_cache: the same entries in a cache that keeps them in one table.
fn quick_cache_floor() -> f64 {
    let cache: quick_cache::sync::Cache<u128, u64> = quick_cache::sync::Cache::new((SESSIONS_FOR_RSS + 1000) as usize);
    let before = rss_kib();
    for i in 0..SESSIONS_FOR_RSS {
        cache.insert(uuid::Uuid::new_v4().as_u128(), i);
    }
    (rss_kib() - before) as f64 * 1024.0 / cache.len() as f64
}

/// The resident-set growth per entry of a moka cache holding `SESSIONS_FOR_RSS` entries of a
/// `u128` key and a `u64` value: what the in-process tier pays per session before any data.
async fn moka_floor() -> f64 {
    let cache: moka::future::Cache<u128, u64> =
        moka::future::Cache::builder().max_capacity(SESSIONS_FOR_RSS + 1000).build();
    let before = rss_kib();
    for i in 0..SESSIONS_FOR_RSS {
        cache.insert(uuid::Uuid::new_v4().as_u128(), i).await;
    }
    cache.run_pending_tasks().await;
    let held = cache.entry_count();
    (rss_kib() - before) as f64 * 1024.0 / held as f64
}

/// One target's share of one round of an end-to-end cell: a `wrk` run.
struct Segment {
    route: &'static str,
    connections: u32,
    target: &'static str,
    round: u64,
    requests: u64,
    duration_us: u64,
    p50: u64,
    p95: u64,
    p99: u64,
    /// CPU seconds of the proxy's own processes (`None` for direct).
    proxy_cpu: Option<f64>,
}

impl Segment {
    fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
}

/// A comparison made once per round: its median and the lowest and highest round.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: impl Iterator<Item = f64>) -> Self {
        let values: Vec<f64> = values.collect();
        Self {
            median: median(values.clone()),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    fn json(&self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max})
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
