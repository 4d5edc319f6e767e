//! Revocation that cannot be undone: a logout through one gateway reaches the others at once,
//! an invalidation that arrives while a gateway is loading that session wins, and a
//! subscription that silently stops delivering is noticed by its pings.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

#[tokio::test]
async fn a_logout_through_one_gateway_is_refused_by_another_within_a_second() {
    let edge = edge().await;
    let peer = edge.peer().await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    // both gateways hold the session in memory (TTL 600 s)
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    assert_eq!(peer.get("/coffee/usage", &token).await, 200);
    assert_eq!(peer.get("/coffee/usage", &token).await, 200);

    let (status, body) = edge.call(Method::POST, "/identity/logout", None, Some(json!({"token": token}))).await;
    assert_eq!(status, 204, "{body}");
    assert!(
        eventually(Duration::from_secs(1), || async { peer.get("/coffee/usage", &token).await == 401 }).await,
        "the other gateway refused within 1 s"
    );
    assert_eq!(edge.get("/coffee/usage", &token).await, 401);
    peer.gateway.stop().await;
    edge.stop().await;
}

/// Subscribers to the test's logout channel, over every node of the cluster (a subscription
/// lives on the one node it was made on).
async fn subscribers(edge: &Edge) -> i64 {
    let channel = format!("{}{}", edge.prefix, tenancy::INVALIDATION_CHANNEL);
    let mut total = 0;
    for addr in testkit::redis_cluster_config().addresses {
        let client = redis::Client::open(format!("redis://{addr}")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let (_, n): (String, i64) =
            redis::cmd("PUBSUB").arg("NUMSUB").arg(&channel).query_async(&mut conn).await.unwrap();
        total += n;
    }
    total
}

#[tokio::test]
async fn a_stopped_gateway_closes_its_logout_subscription() {
    let edge = edge().await;
    let peer = edge.peer().await;
    assert_eq!(subscribers(&edge).await, 2, "both gateways listen");
    peer.gateway.stop().await;
    assert!(
        eventually(Duration::from_secs(5), || async { subscribers(&edge).await == 1 }).await,
        "the stopped gateway's listener ended with it"
    );
    edge.stop().await;
}

/// A request misses memory and loads the session from Redis; before the load is inserted into
/// memory, a logout's invalidation arrives. Without the fence, the stale session would be
/// inserted after the invalidation and served from memory for the cache's TTL.
#[tokio::test]
async fn an_invalidation_during_a_session_load_wins() {
    let edge = edge().await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let sid = edge.sid(&token).await;
    let mut paused = edge.state.config.hooks.arm("gateway.session.loaded");
    let request = {
        let (url, token) = (edge.url("/coffee/usage"), token.clone());
        tokio::spawn(async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status() })
    };
    paused.reached().await; // loaded from Redis, not yet in memory

    // log out directly at coffee (the gateway is busy with the load), and wait for the announcement
    let logout = edge.http.post(format!("{}/identity/logout", edge.coffee_url)).json(&json!({"token": token}));
    assert_eq!(logout.send().await.unwrap().status(), 204);
    let sessions = edge.state.sessions.clone();
    assert!(eventually(Duration::from_secs(5), || async { sessions.is_revoked_here(&sid) }).await);

    paused.release();
    assert_eq!(request.await.unwrap().as_u16(), 401, "the load finished after the logout: the logout wins");
    assert!(!edge.state.sessions.in_memory(&sid).await, "the stale session was not kept");
    assert_eq!(edge.get("/coffee/usage", &token).await, 401);
    edge.stop().await;
}

/// A TCP relay in front of one cluster node that can go silent: connections stay open but no
/// byte passes, as with a half-open connection or a hung node.
struct Relay {
    port: u16,
    silent: Arc<AtomicBool>,
}

async fn pipe<R, W>(mut from: R, mut to: W, silent: Arc<AtomicBool>)
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if silent.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn relay_to(target: String) -> Relay {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = Arc::new(AtomicBool::new(false));
    let flag = silent.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else { continue };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pipe(cr, sw, flag.clone()));
            tokio::spawn(pipe(sr, cw, flag.clone()));
        }
    });
    Relay { port, silent }
}

/// The gateway subscribes through the relay (listed first); the relay goes silent. The pings go
/// unanswered, the gateway subscribes again through a live node, drops its in-process sessions
/// (it may have missed logouts meanwhile), and later logouts reach it again.
#[tokio::test]
async fn a_silent_subscription_is_noticed_by_its_pings_and_replaced() {
    let cluster = testkit::redis_cluster_config();
    let relay = relay_to(cluster.addresses[0].clone()).await;
    let mut addresses = vec![format!("127.0.0.1:{}", relay.port)];
    addresses.extend(cluster.addresses.iter().cloned());
    let edge = edge_with(Setup {
        env: vec![("REDIS_CLUSTER_ADDRESSES", addresses.join(",")), ("INVALIDATION_PING_MS", "200".into())],
        ..Setup::default()
    })
    .await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let sid = edge.sid(&token).await;
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    assert!(edge.state.sessions.in_memory(&sid).await);

    relay.silent.store(true, Ordering::SeqCst);
    let sessions = edge.state.sessions.clone();
    assert!(
        eventually(Duration::from_secs(10), || async { !sessions.in_memory(&sid).await }).await,
        "the dead subscription was noticed and the in-process sessions dropped"
    );
    // subscribed again (through a live node): a logout reaches this gateway's memory
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    let logout = edge.http.post(format!("{}/identity/logout", edge.coffee_url)).json(&json!({"token": token}));
    assert_eq!(logout.send().await.unwrap().status(), 204);
    assert!(eventually(Duration::from_secs(2), || async { sessions.is_revoked_here(&sid) }).await);
    assert_eq!(edge.get("/coffee/usage", &token).await, 401);
    edge.stop().await;
}
