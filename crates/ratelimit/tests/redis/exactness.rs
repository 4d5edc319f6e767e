//! Exactly the limit is admitted however the attempts arrive: many connections at once, or
//! several OS processes.
//!
//! The limit is 60 per hour rather than per minute: a GCRA level refills continuously (one unit
//! a minute here), so only a run shorter than one refill has exactly one right answer; a slow
//! CI machine stays far inside an hour's refill interval.

use futures::future::join_all;
use ratelimit::Limiter;

use crate::on_both_topologies;
use crate::support::{policy, Topology};

const LIMITS: &str = "hourly=60/1h";

async fn exact_from_many_connections<C: Topology>() {
    let prefix = testkit::redis_prefix();
    let p = policy("exact", LIMITS);
    let mut limiters = Vec::new();
    for _ in 0..20 {
        limiters.push(Limiter::new(C::connect().await, &prefix).unwrap());
    }
    let attempts = (0..1000).map(|i| {
        let (limiter, p) = (limiters[i % limiters.len()].clone(), p.clone());
        tokio::spawn(async move { limiter.stack(&p).check(1).await.unwrap().is_admitted() })
    });
    let admitted = join_all(attempts).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(admitted, 60);
}
on_both_topologies!(exact_from_many_connections);

async fn exact_from_four_processes<C: Topology>() {
    let prefix = testkit::redis_prefix();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let start_at = (now_ms + 700).to_string();
    let children: Vec<_> = (0..4)
        .map(|_| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_ratelimit-load"))
                .args(C::load_args())
                .args(["--prefix", &prefix, "--stack", "processes", "--limit", LIMITS])
                .args(["--attempts", "250", "--concurrency", "25", "--connections", "5", "--start-at-ms", &start_at])
                .output()
        })
        .collect();
    let mut admitted = 0;
    for out in join_all(children).await {
        let out = out.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line["errors"], 0, "{line}");
        assert_eq!(line["admitted"].as_u64().unwrap() + line["rejected"].as_u64().unwrap(), 250, "{line}");
        admitted += line["admitted"].as_u64().unwrap();
    }
    assert_eq!(admitted, 60);
}
on_both_topologies!(exact_from_four_processes);
