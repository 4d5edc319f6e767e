//! A whole stack of its own (own ports, own state folder): `up` starts every server, a second
//! `up` changes nothing, `down` leaves no process behind, and a busy port is reported by name.

use std::time::Duration;

use stack::{Components, Profile, StackInfo};

fn isolated(name: &str, base: u16) -> Profile {
    // inside the repo, not /tmp: the postgres OS user must be able to traverse every parent
    let dir = stack::profile::repo_root().join(".stack").join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    Profile::with_base(name, dir, base)
}

#[tokio::test]
async fn up_is_idempotent_and_down_leaves_no_process_behind() {
    let profile = isolated("lifecycle", 27000);
    let info = stack::up(&profile, Components::default()).await.expect("up");
    let pids = info.pids.clone();
    assert_eq!(pids.len(), 6, "postgres, redis, 3 cluster nodes, clickhouse: {pids:?}");
    assert!(pids.values().all(|p| p.is_running()));
    let status = stack::status(&profile.state_dir).await.unwrap();
    assert!(status.iter().all(|s| s.healthy), "{status:?}");

    let again = stack::up(&profile, Components::default()).await.expect("second up");
    assert_eq!(again.pids, pids, "a second up must reuse the running servers");

    let stopped = stack::down(&profile.state_dir).unwrap();
    assert_eq!(stopped.len(), 6, "{stopped:?}");
    for (name, p) in &pids {
        assert!(!p.is_running(), "{name} (pid {}) still runs after down", p.pid);
    }
    for port in [profile.pg_port, profile.redis_single_port, profile.ch_http_port, profile.ch_tcp_port]
        .into_iter()
        .chain(profile.redis_cluster_ports)
    {
        assert!(!stack::process::port_answers(port), "port {port} still answers after down");
    }
    assert!(StackInfo::load(&profile.state_dir).unwrap().unwrap().pids.is_empty());
    assert!(stack::down(&profile.state_dir).unwrap().is_empty(), "a second down has nothing to stop");
    std::fs::remove_dir_all(&profile.state_dir).unwrap();
}

#[tokio::test]
async fn a_busy_port_is_reported_by_name() {
    let profile = isolated("busy", 28000);
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", profile.pg_port)).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(60), stack::up(&profile, Components::default()))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains(&profile.pg_port.to_string()) && err.contains("postgres") && err.contains("busy"), "{err}");
    // nothing was started
    let info = StackInfo::load(&profile.state_dir).unwrap();
    assert!(info.is_none_or(|i| i.pids.is_empty()));
    std::fs::remove_dir_all(&profile.state_dir).unwrap();
}
