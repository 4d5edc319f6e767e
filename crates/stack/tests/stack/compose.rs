//! docker-compose.yml cannot run here (no Docker engine), so this checks what can be checked:
//! it parses, has every service with its health and ordering, every build context and
//! Dockerfile exists, published ports match the services' ports, and each service's
//! environment parses into that service's typed configuration.

use std::collections::HashMap;

use platform::config::{Env, ExposeSecret};
use serde_norway::Value;

fn compose() -> Value {
    let text = std::fs::read_to_string(stack::profile::repo_root().join("docker-compose.yml")).unwrap();
    let mut doc: Value = serde_norway::from_str(&text).expect("docker-compose.yml parses");
    doc.apply_merge().expect("merge keys resolve");
    doc
}

fn service<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["services"].get(name).unwrap_or_else(|| panic!("service {name} is missing"))
}

/// Resolves `${NAME:?message}` and `${NAME:-default}` the way compose does, from the
/// operator's environment: `operator`, plus a test value for each secret the file requires.
fn interpolate(value: &str, operator: &[(&str, &str)]) -> String {
    match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
        Some(expr) => {
            let name = expr.split([':', '?', '-']).next().unwrap();
            if let Some((_, v)) = operator.iter().find(|(k, _)| *k == name) {
                return (*v).to_owned();
            }
            match name {
                "HMAC_SECRET" => "dGVzdC1vbmx5LWhtYWMtc2VjcmV0LTMyLWJ5dGVzLWxvbmc=".to_owned(),
                "TENANT_SIGNING_SECRET" => "dGVzdC1vbmx5LXRlbmFudC1zaWduaW5nLWtleS0zMmI=".to_owned(),
                _ => match expr.split_once(":-") {
                    Some((_, default)) => default.to_owned(),
                    None => panic!("unexpected interpolated variable {name}"),
                },
            }
        }
        None => value.to_owned(),
    }
}

fn environment(svc: &Value) -> HashMap<String, String> {
    environment_with(svc, &[])
}

fn environment_with(svc: &Value, operator: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = svc["environment"].clone();
    env.apply_merge().unwrap();
    env.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => interpolate(s, operator),
                        Value::Number(n) => n.to_string(),
                        other => panic!("env {k:?} has a non-scalar value {other:?}"),
                    };
                    (k.as_str().unwrap().to_owned(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_service_is_defined_with_health_and_order() {
    let doc = compose();
    for name in [
        "postgres",
        "clickhouse",
        "redis-1",
        "redis-2",
        "redis-3",
        "redis-cluster-init",
        "redis",
        "migrate",
        "coffee",
        "beat",
        "gateway",
    ] {
        service(&doc, name);
    }
    assert_eq!(service(&doc, "postgres")["image"].as_str(), Some("postgres:15"));
    assert!(service(&doc, "clickhouse")["image"].as_str().unwrap().starts_with("clickhouse/clickhouse-server"));
    for name in ["postgres", "clickhouse", "redis-1", "redis-2", "redis-3", "redis"] {
        assert!(service(&doc, name).get("healthcheck").is_some(), "{name} has no healthcheck");
    }
    let cond = |svc: &str, dep: &str| service(&doc, svc)["depends_on"][dep]["condition"].as_str().map(str::to_owned);
    assert_eq!(cond("coffee", "migrate").as_deref(), Some("service_completed_successfully"));
    assert_eq!(cond("coffee", "redis-cluster-init").as_deref(), Some("service_completed_successfully"));
    assert_eq!(cond("migrate", "postgres").as_deref(), Some("service_healthy"));
    assert_eq!(cond("migrate", "clickhouse").as_deref(), Some("service_healthy"));
    assert_eq!(cond("gateway", "coffee").as_deref(), Some("service_healthy"));
    assert_eq!(cond("beat", "redis").as_deref(), Some("service_healthy"));
    let init = serde_norway::to_string(&service(&doc, "redis-cluster-init")["command"]).unwrap();
    assert!(init.contains("--cluster create") && init.contains("--cluster-replicas 0"), "{init}");
}

#[test]
fn build_contexts_and_dockerfiles_exist() {
    let doc = compose();
    let root = stack::profile::repo_root();
    for name in ["migrate", "coffee", "beat", "gateway"] {
        let build = &service(&doc, name)["build"];
        let context = root.join(build["context"].as_str().unwrap());
        assert!(
            context.join("Cargo.toml").is_file(),
            "{name}: build context {} is not the workspace",
            context.display()
        );
        let dockerfile = context.join(build["dockerfile"].as_str().unwrap());
        let text = std::fs::read_to_string(&dockerfile)
            .unwrap_or_else(|_| panic!("{name}: {} is missing", dockerfile.display()));
        assert!(text.contains("cargo chef cook"), "{name}: dependency layer is not cached");
        assert!(text.matches("FROM ").count() >= 3, "{name}: not a multi-stage build");
        // every file copied from the build context is in the repository
        for line in text.lines().filter(|l| l.starts_with("COPY ") && !l.contains("--from=")) {
            let words: Vec<&str> = line.split_whitespace().skip(1).collect();
            for source in &words[..words.len() - 1] {
                assert!(
                    context.join(source).exists(),
                    "{name}: `{line}` copies {source}, which is not in the repository"
                );
            }
        }
    }
    let gateway_dockerfile = std::fs::read_to_string(root.join("gateway/Dockerfile")).unwrap();
    assert!(
        gateway_dockerfile.contains("npm run build") && gateway_dockerfile.contains("DASHBOARD_DIR="),
        "the gateway's image must carry the built dashboard and serve it"
    );
    let migrate_entry = serde_norway::to_string(&service(&doc, "migrate")["entrypoint"]).unwrap();
    assert!(migrate_entry.contains("/usr/local/bin/migrate"));
    let coffee_dockerfile = std::fs::read_to_string(root.join("coffee/Dockerfile")).unwrap();
    assert!(coffee_dockerfile.contains("/usr/local/bin/migrate"), "coffee's image must carry the migrate binary");
}

/// Only the gateway is published: a caller who could reach coffee or beat directly would skip
/// authentication (coffee also refuses unsigned tenant headers, as a second line).
#[test]
fn ports_match_the_services_and_only_the_gateway_is_published() {
    let doc = compose();
    for (name, port) in [
        ("coffee", coffee::config::DEFAULT_PORT),
        ("beat", beat::config::DEFAULT_PORT),
        ("gateway", gateway::config::DEFAULT_PORT),
    ] {
        let svc = service(&doc, name);
        let published: Vec<String> = svc["ports"]
            .as_sequence()
            .map(|ports| ports.iter().map(|p| p.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        if name == "gateway" {
            assert_eq!(published, vec![format!("{port}:{port}")], "{name}");
        } else {
            assert!(published.is_empty(), "{name} must not be published: {published:?}");
            let exposed: Vec<String> =
                svc["expose"].as_sequence().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
            assert_eq!(exposed, vec![port.to_string()], "{name}");
        }
        assert_eq!(environment(svc).get("PORT").map(String::as_str), Some(port.to_string().as_str()), "{name}");
        let dockerfile =
            std::fs::read_to_string(stack::profile::repo_root().join(format!("{name}/Dockerfile"))).unwrap();
        assert!(dockerfile.contains(&format!("EXPOSE {port}")), "{name}'s Dockerfile exposes another port");
    }
    assert_eq!(
        (coffee::config::DEFAULT_PORT, beat::config::DEFAULT_PORT, gateway::config::DEFAULT_PORT),
        (7179, 8000, 8009)
    );
    // the stores are published for operators' tools on the host's loopback only
    for store in ["postgres", "clickhouse"] {
        for p in service(&doc, store)["ports"].as_sequence().unwrap() {
            assert!(p.as_str().unwrap().starts_with("127.0.0.1:"), "{store}: {p:?}");
        }
    }
}

#[test]
fn each_service_environment_is_a_valid_configuration() {
    let doc = compose();
    let env = |name: &str| Env::from_map(environment(service(&doc, name)));
    let raw_secret = service(&doc, "coffee")["environment"]["HMAC_SECRET"].as_str().unwrap_or_default().to_owned();
    assert!(raw_secret.starts_with("${HMAC_SECRET:?"), "the signing key must come from the operator, not the file");
    let coffee = coffee::Config::from_env(env("coffee")).expect("coffee's compose environment");
    assert_eq!(coffee.redis.addresses.len(), 3);
    assert_eq!(coffee.pg.host, "postgres");
    assert_eq!(coffee.ch.host, "clickhouse");
    let beat = beat::Config::from_env(env("beat")).expect("beat's compose environment");
    assert_eq!(beat.redis_url.expose_secret(), "redis://redis:6379");
    let gateway = gateway::Config::from_env(env("gateway")).expect("gateway's compose environment");
    assert_eq!(gateway.redis.addresses, vec!["redis-1:6379", "redis-2:6379", "redis-3:6379"]);
    assert_eq!(gateway.coffee_url, "http://coffee:7179", "the gateway proxies to the coffee service");
    assert_eq!(gateway.beat_url, "http://beat:8000", "and /beat to the beat service");
    assert_eq!(
        service(&doc, "gateway")["environment"]["HMAC_SECRET"],
        service(&doc, "coffee")["environment"]["HMAC_SECRET"],
        "the gateway verifies with the key coffee signs with"
    );
    assert!(coffee.tenant_signing_key.is_some() && gateway.tenant_signing_key.is_some(), "tenancy is vouched for");
    assert_eq!(
        service(&doc, "gateway")["environment"]["TENANT_SIGNING_SECRET"],
        service(&doc, "coffee")["environment"]["TENANT_SIGNING_SECRET"],
        "coffee checks with the key the gateway signs with"
    );
    // the migration job reads the same store settings
    let mut migrate = env("migrate");
    let _ = platform::config::PgConfig::from_env(&mut migrate);
    let _ = platform::config::ChConfig::from_env(&mut migrate);
    migrate.finish().expect("migrate's compose environment");
    // the stores' own credentials match what the services use
    let pg = environment(service(&doc, "postgres"));
    assert_eq!(
        (pg["POSTGRES_USER"].as_str(), pg["POSTGRES_DB"].as_str()),
        (coffee.pg.user.as_str(), coffee.pg.database.as_str())
    );
    let ch = environment(service(&doc, "clickhouse"));
    assert_eq!(
        (ch["CLICKHOUSE_USER"].as_str(), ch["CLICKHOUSE_DB"].as_str()),
        (coffee.ch.user.as_str(), coffee.ch.database.as_str())
    );
}

/// The `sharded` profile mirrors the stack's two-shard layout: a second ClickHouse under the
/// profile, both servers given the same `remote_servers` cluster (named as the stack and the
/// tests name it, with the credentials the services use), migrate told both shards, and with
/// `CH_CLUSTER` set the services configured for the sharded layout (unset: one server).
#[test]
fn the_sharded_profile_mirrors_the_two_shard_layout() {
    let doc = compose();
    let shard2 = service(&doc, "clickhouse-shard2");
    assert_eq!(shard2["profiles"][0].as_str(), Some("sharded"));
    assert!(shard2.get("healthcheck").is_some());
    assert_eq!(shard2["image"], service(&doc, "clickhouse")["image"], "both shards run the same release");
    let cluster = doc["configs"]["clickhouse-cluster"]["content"].as_str().expect("the cluster config");
    for host in ["clickhouse", "clickhouse-shard2"] {
        assert!(cluster.contains(&format!("<host>{host}</host>")), "{host} is a shard: {cluster}");
        let mounted = serde_norway::to_string(&service(&doc, host)["configs"]).unwrap();
        assert!(mounted.contains("clickhouse-cluster") && mounted.contains("config.d"), "{host}: {mounted}");
    }
    assert!(cluster.contains(&format!("<{}>", testkit::CH_CLUSTER)), "{cluster}");
    let ch = environment(service(&doc, "clickhouse"));
    assert!(
        cluster.contains(&format!("<user>{}</user>", ch["CLICKHOUSE_USER"])),
        "shards reach each other as the services' user"
    );

    let migrate = environment_with(service(&doc, "migrate"), &[("CH_CLUSTER", testkit::CH_CLUSTER)]);
    assert_eq!(migrate["CH_SHARD_HOSTS"], "clickhouse,clickhouse-shard2");
    let required = |svc: &str| service(&doc, "migrate")["depends_on"][svc]["required"].as_bool();
    assert_eq!(required("clickhouse-shard2"), Some(false), "migrate runs without the profile too");

    let sharded = |name: &str| {
        let env = Env::from_map(environment_with(service(&doc, name), &[("CH_CLUSTER", testkit::CH_CLUSTER)]));
        env
    };
    let coffee = coffee::Config::from_env(sharded("coffee")).expect("coffee, sharded");
    assert_eq!(coffee.ch.cluster.as_deref(), Some(testkit::CH_CLUSTER));
    let beat = beat::Config::from_env(sharded("beat")).expect("beat, sharded");
    assert_eq!(beat.ch.cluster.as_deref(), Some(testkit::CH_CLUSTER));
    let single = coffee::Config::from_env(Env::from_map(environment(service(&doc, "coffee")))).unwrap();
    assert_eq!(single.ch.cluster, None, "one server unless CH_CLUSTER is set");
}
