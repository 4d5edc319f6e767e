//! `ratelimit-load`: fires checks of one stack at Redis from this process and prints what
//! happened as one JSON line, on one thread (a load process per core is how to add load). The
//! exactness test starts several of these at once (separate OS
//! processes, separate connections) and the benchmark uses it to measure several processes.
//!
//! ```text
//! ratelimit-load --redis redis://127.0.0.1:6379 --prefix t: --stack s \
//!     --limit minute=60/1m --attempts 250 --concurrency 50 [--connections 50] [--handles 1000]
//! ratelimit-load --cluster 127.0.0.1:7000,127.0.0.1:7001 ... --duration-ms 5000
//! ```

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use ratelimit::{Decision, Limit, Limiter, SlotRouted, StackPolicy};
use redis::aio::ConnectionLike;

#[derive(Parser)]
struct Args {
    /// A single Redis node
    #[arg(long, conflicts_with = "cluster", required_unless_present = "cluster")]
    redis: Option<String>,
    /// Redis Cluster nodes, host:port,…
    #[arg(long)]
    cluster: Option<String>,
    #[arg(long, default_value = "")]
    prefix: String,
    #[arg(long, default_value = "load")]
    stack: String,
    /// Levels in order, compact form (name=requests/period[;calendar|;burst=N])
    #[arg(long = "limit", required = true)]
    limits: Vec<String>,
    /// The last level is keyed by a handle drawn from this many (1 = everyone shares one)
    #[arg(long, default_value_t = 1)]
    handles: u64,
    /// Stop after this many checks in all …
    #[arg(long)]
    attempts: Option<u64>,
    /// … or after this long
    #[arg(long)]
    duration_ms: Option<u64>,
    /// Callers running at once
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Separate Redis connections (callers share them round-robin)
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Start at this Unix time (ms), so that several processes begin together
    #[arg(long)]
    start_at_ms: Option<u64>,
    /// Turn the in-process over-limit cache off
    #[arg(long)]
    no_local_cache: bool,
    /// With --cluster: send each decision through redis-rs's cluster routing instead of
    /// straight to its slot's master (`SlotRouted`)
    #[arg(long)]
    redis_rs_routing: bool,
}

#[derive(Default)]
struct Tally {
    admitted: u64,
    rejected: u64,
    errors: u64,
    latencies_us: Vec<f64>,
}

async fn run<C>(args: &Args, policy: &StackPolicy, conns: Vec<C>) -> (Tally, Duration)
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let limiters: Vec<Limiter<C>> =
        conns.into_iter().map(|c| Limiter::new(c, &args.prefix).expect("the prefix has no braces")).collect();
    if let Some(at) = args.start_at_ms {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        tokio::time::sleep(Duration::from_millis(at.saturating_sub(now))).await;
    }
    let started = Instant::now();
    let deadline = args.duration_ms.map(|ms| started + Duration::from_millis(ms));
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let last_level = policy.limits().last().map(|l| l.name().to_owned()).unwrap_or_default();
    let policy = std::sync::Arc::new(policy.clone());
    let callers = (0..args.concurrency).map(|caller| {
        let limiter = limiters[caller % limiters.len()].clone();
        let policy = policy.clone();
        let (next, last_level) = (next.clone(), last_level.clone());
        let (attempts, handles) = (args.attempts, args.handles);
        async move {
            let mut tally = Tally::default();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if attempts.is_some_and(|a| n >= a) || deadline.is_some_and(|d| Instant::now() >= d) {
                    return tally;
                }
                let handle = (rand::random::<u64>() % handles).to_string();
                let t = Instant::now();
                let result = limiter.stack(&policy).key(&last_level, &handle).check(1).await;
                tally.latencies_us.push(t.elapsed().as_secs_f64() * 1e6);
                match result {
                    Ok(Decision::Admitted(_)) => tally.admitted += 1,
                    Ok(Decision::Rejected(_)) => tally.rejected += 1,
                    Err(_) => tally.errors += 1,
                }
            }
        }
    });
    let tallies = futures_join(callers.collect()).await;
    let elapsed = started.elapsed();
    let mut all = Tally::default();
    for t in tallies {
        all.admitted += t.admitted;
        all.rejected += t.rejected;
        all.errors += t.errors;
        all.latencies_us.extend(t.latencies_us);
    }
    (all, elapsed)
}

async fn futures_join<F: std::future::Future<Output = Tally> + Send + 'static>(futures: Vec<F>) -> Vec<Tally> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a caller task does not panic"));
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let limits = args.limits.iter().map(|l| l.parse::<Limit>()).collect::<Result<Vec<_>, _>>()?;
    let policy = StackPolicy::new(&args.stack, limits)?.local_cache(!args.no_local_cache);
    let (mut tally, elapsed) = match (&args.redis, &args.cluster) {
        (Some(url), _) => {
            let client = redis::Client::open(url.as_str())?;
            let mut conns = Vec::new();
            for _ in 0..args.connections.max(1) {
                conns.push(client.get_multiplexed_async_connection().await?);
            }
            run(&args, &policy, conns).await
        }
        (None, Some(nodes)) => {
            let nodes: Vec<String> = nodes.split(',').map(|n| format!("redis://{n}")).collect();
            let client = redis::cluster::ClusterClient::new(nodes)?;
            let mut conns = Vec::new();
            for _ in 0..args.connections.max(1) {
                conns.push(client.get_async_connection().await?);
            }
            if args.redis_rs_routing {
                run(&args, &policy, conns).await
            } else {
                let timeout = Duration::from_secs(2);
                let routed = conns.into_iter().map(|c| SlotRouted::new(c, Default::default(), timeout)).collect();
                run(&args, &policy, routed).await
            }
        }
        (None, None) => unreachable!("clap requires one of --redis and --cluster"),
    };
    tally.latencies_us.sort_by(f64::total_cmp);
    let total = tally.admitted + tally.rejected + tally.errors;
    let line = serde_json::json!({
        "admitted": tally.admitted,
        "rejected": tally.rejected,
        "errors": tally.errors,
        "elapsed_s": elapsed.as_secs_f64(),
        "decisions_per_s": total as f64 / elapsed.as_secs_f64(),
        "p50_us": percentile(&tally.latencies_us, 50.0),
        "p95_us": percentile(&tally.latencies_us, 95.0),
        "p99_us": percentile(&tally.latencies_us, 99.0),
    });
    println!("{line}");
    Ok(())
}
