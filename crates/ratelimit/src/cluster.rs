//! [`SlotRouted`]: the limiter's Redis Cluster connection, which sends each decision straight
//! to the master that owns its slot.
//!
//! Why it exists, and why it is hand-written: all keys of one check share a hash tag, so a
//! decision touches exactly one slot. redis-rs's `ClusterConnection` passes every command
//! through a routing task of its own: per request two more channel hops and task wake-ups, a
//! lock, a slot-map lookup, a copy of the command and about eight allocations, all of which a
//! caller with nothing to pipeline pays in full (it cost the cluster about a fifth of its
//! decisions per second against `redis-benchmark` at one caller per process). redis-rs has no
//! public way to reach the owner's connection, and no maintained crate adds one, so this
//! module keeps the smallest piece that does and leaves everything else to redis-rs:
//! - only `EVALSHA`/`EVAL` with at least one key take the direct path; every other command (the
//!   script's `SCRIPT LOAD`, which must reach every master, and anything else a caller sends)
//!   goes through the `ClusterConnection`;
//! - the owners come from `CLUSTER SLOTS`, asked through the `ClusterConnection` in the
//!   background at first use and again after any redirect; until they are known, and for any
//!   slot without a known owner, commands go through the `ClusterConnection`, which follows
//!   redirects itself;
//! - a direct answer of `MOVED`, `ASK`, `TRYAGAIN` or `CLUSTERDOWN` means the node refused the
//!   script without running it: it is sent again through the `ClusterConnection` and the owners
//!   are learned anew;
//! - any other failure on the direct path (I/O, a dropped connection) is returned as it is,
//!   never resent, because the decision may already have been charged; that node's connection
//!   is dropped and learned anew, and the limiter fails open or closed as its policy says.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, RedisConnectionInfo, RedisFuture, Value};

/// Slots in a Redis Cluster.
const SLOTS: usize = 16_384;
/// No known owner.
const NONE: u16 = u16::MAX;

/// A cluster connection that sends single-slot scripts straight to their slot's master.
/// Cheap to clone; clones share the owner table and the node connections.
#[derive(Clone)]
pub struct SlotRouted {
    cluster: ClusterConnection,
    owners: Arc<Owners>,
}

impl std::fmt::Debug for SlotRouted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotRouted").field("routes", &self.routes()).finish_non_exhaustive()
    }
}

/// How many commands went each way (for tests and operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Routes {
    /// Sent straight to the slot's master.
    pub direct: u64,
    /// Sent through the cluster connection (not a script, owner unknown, or redirected).
    pub through_cluster: u64,
    /// Direct answers that were redirects (`MOVED`, `ASK`, ...), resent through the cluster.
    pub redirected: u64,
}

struct Owners {
    /// Settings for a connection to one master (password, username), as the cluster's.
    node: RedisConnectionInfo,
    connect_timeout: Duration,
    table: RwLock<Table>,
    learning: AtomicBool,
    direct: AtomicU64,
    through_cluster: AtomicU64,
    redirected: AtomicU64,
}

#[derive(Default)]
struct Table {
    /// The owner of each slot, an index into `nodes` (empty until first learned).
    slots: Vec<u16>,
    nodes: Vec<(String, MultiplexedConnection)>,
}

impl SlotRouted {
    /// Wraps `cluster`. `node` carries what a connection to one master needs besides its address
    /// (the cluster's password or username); `connect_timeout` bounds connecting to a master.
    /// Replies are not given a deadline here: the limiter bounds each decision itself.
    pub fn new(cluster: ClusterConnection, node: RedisConnectionInfo, connect_timeout: Duration) -> Self {
        let owners = Owners {
            node,
            connect_timeout,
            table: RwLock::new(Table::default()),
            learning: AtomicBool::new(false),
            direct: AtomicU64::new(0),
            through_cluster: AtomicU64::new(0),
            redirected: AtomicU64::new(0),
        };
        Self { cluster, owners: Arc::new(owners) }
    }

    /// How many commands went each way so far.
    pub fn routes(&self) -> Routes {
        Routes {
            direct: self.owners.direct.load(Ordering::Relaxed),
            through_cluster: self.owners.through_cluster.load(Ordering::Relaxed),
            redirected: self.owners.redirected.load(Ordering::Relaxed),
        }
    }

    /// The cluster connection everything else goes through.
    pub fn cluster(&self) -> &ClusterConnection {
        &self.cluster
    }

    /// The owner's connection for `slot`, if known.
    fn owner(&self, slot: u16) -> Option<(u16, MultiplexedConnection)> {
        let table = self.owners.table.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let node = *table.slots.get(usize::from(slot))?;
        (node != NONE).then(|| (node, table.nodes[usize::from(node)].1.clone()))
    }

    /// Starts learning the owners in the background, unless that is already under way.
    fn learn(&self) {
        if self.owners.learning.swap(true, Ordering::AcqRel) {
            return;
        }
        let (owners, mut cluster) = (self.owners.clone(), self.cluster.clone());
        tokio::spawn(async move {
            if let Err(e) = owners.relearn(&mut cluster).await {
                tracing::debug!(error = %e, "cluster slot owners not learned; the cluster connection routes meanwhile");
            }
            owners.learning.store(false, Ordering::Release);
        });
    }

    /// Forgets the owners after the node `node` failed, so they are learned anew.
    fn forget(&self, node: Option<u16>) {
        let mut table = self.owners.table.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        match node {
            Some(node) => table.slots.iter_mut().filter(|s| **s == node).for_each(|s| *s = NONE),
            None => table.slots.clear(),
        }
    }

    async fn through_cluster(&mut self, cmd: &Cmd) -> redis::RedisResult<Value> {
        self.owners.through_cluster.fetch_add(1, Ordering::Relaxed);
        self.cluster.req_packed_command(cmd).await
    }
}

impl Owners {
    /// Asks the cluster who owns which slot and connects to each master not yet connected.
    async fn relearn(&self, cluster: &mut ClusterConnection) -> redis::RedisResult<()> {
        let reply: Value = redis::cmd("CLUSTER").arg("SLOTS").query_async(cluster).await?;
        let ranges = parse_slots(&reply)
            .ok_or_else(|| redis::RedisError::from((redis::ErrorKind::Parse, "unexpected CLUSTER SLOTS reply")))?;
        let mut nodes: Vec<(String, MultiplexedConnection)> = Vec::new();
        let mut slots = vec![NONE; SLOTS];
        for (first, last, addr) in ranges {
            let index = match nodes.iter().position(|(a, _)| *a == addr) {
                Some(i) => i,
                None => {
                    nodes.push((addr.clone(), self.connection_to(&addr).await?));
                    nodes.len() - 1
                }
            };
            let index = u16::try_from(index).unwrap_or(NONE);
            for slot in first..=last.min(SLOTS as u16 - 1) {
                slots[usize::from(slot)] = index;
            }
        }
        *self.table.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Table { slots, nodes };
        Ok(())
    }

    /// This process's connection to the master at `addr`: the one already open, else a new one.
    async fn connection_to(&self, addr: &str) -> redis::RedisResult<MultiplexedConnection> {
        let known = {
            let table = self.table.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            let still_owner = |i: usize| table.slots.iter().any(|s| usize::from(*s) == i);
            table.nodes.iter().enumerate().find(|(i, (a, _))| a == addr && still_owner(*i)).map(|(_, (_, c))| c.clone())
        };
        if let Some(conn) = known {
            return Ok(conn);
        }
        let (host, port) = addr.rsplit_once(':').ok_or_else(|| bad_reply(addr))?;
        let port: u16 = port.parse().map_err(|_| bad_reply(addr))?;
        let info = redis::IntoConnectionInfo::into_connection_info(redis::ConnectionAddr::Tcp(host.to_owned(), port))?
            .set_redis_settings(self.node.clone());
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(None);
        redis::Client::open(info)?.get_multiplexed_async_connection_with_config(&config).await
    }
}

fn bad_reply(what: &str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Parse, "unexpected node address in CLUSTER SLOTS", what.to_owned()))
}

/// `CLUSTER SLOTS` as (first slot, last slot, master `host:port`) ranges. Ranges whose master
/// has no address (an empty host) are left out: their slots go through the cluster connection.
fn parse_slots(reply: &Value) -> Option<Vec<(u16, u16, String)>> {
    let Value::Array(entries) = reply else { return None };
    let mut ranges = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(fields) = entry else { return None };
        let (Some(Value::Int(first)), Some(Value::Int(last)), Some(Value::Array(master))) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            return None;
        };
        let host = match master.first() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Value::SimpleString(s)) => s.clone(),
            _ => return None,
        };
        let Some(Value::Int(port)) = master.get(1) else { return None };
        if host.is_empty() || host == "?" {
            continue;
        }
        ranges.push((u16::try_from(*first).ok()?, u16::try_from(*last).ok()?, format!("{host}:{port}")));
    }
    Some(ranges)
}

/// A node's answer that it did not run the command because the slot is elsewhere or the
/// cluster is changing (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`).
fn refused(e: &redis::ServerError) -> bool {
    use redis::ServerErrorKind::{Ask, ClusterDown, Moved, TryAgain};
    matches!(e.kind(), Some(Moved | Ask | TryAgain | ClusterDown))
}

/// The slot of a script call's first key, when `cmd` is an `EVALSHA`/`EVAL` with keys.
fn script_slot(cmd: &Cmd) -> Option<u16> {
    let mut args = cmd.args_iter().map(|a| match a {
        redis::Arg::Simple(bytes) => bytes,
        _ => &[][..],
    });
    let name = args.next()?;
    if !(name.eq_ignore_ascii_case(b"EVALSHA") || name.eq_ignore_ascii_case(b"EVAL")) {
        return None;
    }
    let _script = args.next()?;
    let keys = args.next()?;
    if keys.is_empty() || keys == b"0" {
        return None;
    }
    Some(slot_of(args.next()?))
}

/// Redis Cluster's slot of `key`: CRC16 (XMODEM) of its hash tag, or of the whole key.
pub fn slot_of(key: &[u8]) -> u16 {
    let tag = key
        .iter()
        .position(|b| *b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter().position(|b| *b == b'}').map(|close| &rest[..close])
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tag) % SLOTS as u16
}

impl ConnectionLike for SlotRouted {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let Some(slot) = script_slot(cmd) else { return self.through_cluster(cmd).await };
            let Some((node, mut conn)) = self.owner(slot) else {
                self.learn();
                return self.through_cluster(cmd).await;
            };
            self.owners.direct.fetch_add(1, Ordering::Relaxed);
            let answer = conn.req_packed_command(cmd).await;
            let redirected = match &answer {
                Ok(Value::ServerError(e)) => refused(e),
                Err(e) => e.is_cluster_error(),
                Ok(_) => false,
            };
            if redirected {
                // refused without running: the cluster connection follows the redirect
                self.owners.redirected.fetch_add(1, Ordering::Relaxed);
                self.forget(None);
                self.learn();
                return self.through_cluster(cmd).await;
            }
            if answer
                .as_ref()
                .is_err_and(|e| e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error())
            {
                // maybe charged: never resent
                self.forget(Some(node));
                self.learn();
            }
            answer
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.owners.through_cluster.fetch_add(1, Ordering::Relaxed);
        self.cluster.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_agree_with_redis_rs() {
        for key in ["plain", "rl:{refresh:}:daily:", "a{b}c", "{}empty-tag", "x{open", "p:rl:{stack:42}:handle:nasa"] {
            let ours = redis::cluster_routing::Slot::new(slot_of(key.as_bytes()));
            assert_eq!(ours, Some(redis::cluster_routing::Slot::for_key(key)), "{key}");
        }
    }

    #[test]
    fn only_scripts_with_keys_are_routed_by_slot() {
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha.arg("abc").arg(2).arg("t:{s:1}:a").arg("t:{s:1}:b").arg(7);
        assert_eq!(script_slot(&evalsha), Some(slot_of(b"s:1")));
        let mut no_keys = redis::cmd("evalsha");
        no_keys.arg("abc").arg(0).arg(7);
        assert_eq!(script_slot(&no_keys), None);
        let mut load = redis::cmd("SCRIPT");
        load.arg("LOAD").arg("return 1");
        assert_eq!(script_slot(&load), None);
    }

    #[test]
    fn cluster_slots_replies_become_ranges() {
        let node = |host: &str, port: i64| {
            Value::Array(vec![
                Value::BulkString(host.as_bytes().to_vec()),
                Value::Int(port),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let reply = Value::Array(vec![
            Value::Array(vec![Value::Int(0), Value::Int(5460), node("127.0.0.1", 7000), node("127.0.0.1", 7003)]),
            Value::Array(vec![Value::Int(5461), Value::Int(16383), node("", 7001)]),
        ]);
        assert_eq!(parse_slots(&reply), Some(vec![(0, 5460, "127.0.0.1:7000".to_owned())]));
        assert_eq!(parse_slots(&Value::Int(1)), None);
    }
}
