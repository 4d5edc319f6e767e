//! The two schemas: Postgres migrations (`migrations/`, applied by sqlx's migrator, which
//! records them in `_sqlx_migrations`) and the ClickHouse DDL (`clickhouse-ddl/`, applied in
//! name order and recorded with a checksum in `schema_ddl_applied`). Both are embedded at build
//! time, so a binary carries the schema it was built with.

use clickhouse::Client;
use serde::Deserialize;
use sqlx::migrate::Migrator;

include!(concat!(env!("OUT_DIR"), "/clickhouse_ddl.rs"));

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DdlError {
    #[error("clickhouse-ddl/{file} failed: {source}")]
    Statement {
        file: &'static str,
        #[source]
        source: clickhouse::error::Error,
    },
    #[error("clickhouse-ddl/{0} changed after it was applied; add a new file instead of editing an applied one")]
    Changed(String),
    #[error("cannot read or record applied DDL: {0}")]
    Bookkeeping(#[source] clickhouse::error::Error),
}

/// FNV-1a over the file's bytes: stable across builds and platforms.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Drops `--` comment lines (the HTTP interface runs one statement without a trailing `;`).
fn statement(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .trim_end_matches(';')
        .to_owned()
}

#[derive(Debug, Deserialize, clickhouse::Row)]
struct Applied {
    file: String,
    checksum: String,
}

/// Applies every DDL file not yet recorded, in order, to the client's database. Returns the names
/// of the files applied by this call (empty when the schema was already current).
pub async fn apply_clickhouse_ddl(client: &Client) -> Result<Vec<&'static str>, DdlError> {
    apply(client, CLICKHOUSE_DDL, &[]).await
}

/// The sharded layout (`clickhouse-ddl/sharded/`) for one server: call it for every server of
/// `cluster` (each with its own client), the same `database` on each. The `Distributed` tables
/// name `cluster` and `database`, which are identifiers from configuration, never input. With
/// `replicated`, the local tables are their `Replicated…MergeTree` counterparts
/// ([`replicated`]): the servers of one shard hold the same rows, kept in step through
/// ZooKeeper, and the cluster's replicas of a shard stand in for each other.
pub async fn apply_sharded_clickhouse_ddl(
    server: &Client,
    cluster: &str,
    database: &str,
    replicated: bool,
) -> Result<Vec<&'static str>, DdlError> {
    let vars = [("{cluster}", cluster), ("{database}", database)];
    let transform = if replicated { self::replicated } else { |sql: String| sql };
    apply_with(server, CLICKHOUSE_DDL_SHARDED, &vars, transform).await
}

/// A local table's statement with its engine made replicated: `ReplacingMergeTree(v)` becomes
/// `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/<database>/<table>', '{replica}', v)`,
/// and likewise for the other MergeTree engines. `{shard}` and `{replica}` are the server's own
/// macros; the database is already filled in. Other statements pass unchanged.
pub fn replicated(sql: String) -> String {
    const TABLE: &str = "CREATE TABLE IF NOT EXISTS ";
    let Some(at) = sql.find(TABLE) else { return sql };
    let rest = &sql[at + TABLE.len()..];
    let table = rest.split_whitespace().next().unwrap_or_default().to_owned();
    for engine in ["ReplacingMergeTree(", "AggregatingMergeTree(", "MergeTree("] {
        let plain = format!("ENGINE = {engine}");
        if let Some(pos) = sql.find(&plain) {
            let args_at = pos + plain.len();
            let empty = sql[args_at..].starts_with(')');
            let path = format!("'/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'");
            return format!(
                "{}ENGINE = Replicated{engine}{path}{}{}",
                &sql[..pos],
                if empty { "" } else { ", " },
                &sql[args_at..]
            );
        }
    }
    sql
}

async fn apply(
    client: &Client,
    files: &'static [(&'static str, &'static str)],
    vars: &[(&str, &str)],
) -> Result<Vec<&'static str>, DdlError> {
    apply_with(client, files, vars, |sql| sql).await
}

async fn apply_with(
    client: &Client,
    files: &'static [(&'static str, &'static str)],
    vars: &[(&str, &str)],
    transform: fn(String) -> String,
) -> Result<Vec<&'static str>, DdlError> {
    client
        .query(
            "CREATE TABLE IF NOT EXISTS schema_ddl_applied (file String, checksum String, applied_at DateTime DEFAULT now()) \
             ENGINE = ReplacingMergeTree(applied_at) ORDER BY file",
        )
        .execute()
        .await
        .map_err(DdlError::Bookkeeping)?;
    let applied: Vec<Applied> = client
        .query("SELECT file, argMax(checksum, applied_at) AS checksum FROM schema_ddl_applied GROUP BY file")
        .fetch_all()
        .await
        .map_err(DdlError::Bookkeeping)?;

    let mut newly_applied = Vec::new();
    for (file, text) in files {
        let sum = checksum(text);
        if let Some(done) = applied.iter().find(|a| a.file == *file) {
            if done.checksum != sum {
                return Err(DdlError::Changed((*file).to_owned()));
            }
            continue;
        }
        // the engine first: its ZooKeeper path names the database too
        let sql = vars.iter().fold(transform(statement(text)), |sql, (name, value)| sql.replace(name, value));
        client.query(&sql).execute().await.map_err(|source| DdlError::Statement { file, source })?;
        client
            .query("INSERT INTO schema_ddl_applied (file, checksum) VALUES (?, ?)")
            .bind(*file)
            .bind(&sum)
            .execute()
            .await
            .map_err(DdlError::Bookkeeping)?;
        tracing::info!(file, "applied clickhouse DDL");
        newly_applied.push(*file);
    }
    Ok(newly_applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_every_ddl_file_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../clickhouse-ddl");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = CLICKHOUSE_DDL.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_replicated_layout_replicates_every_local_table_and_nothing_else() {
        let mut engines = 0;
        for (file, text) in CLICKHOUSE_DDL_SHARDED {
            let (plain, made) = (statement(text), replicated(statement(text)));
            if !plain.starts_with("CREATE TABLE") || plain.contains("ENGINE = Distributed") {
                assert_eq!(made, plain, "{file} is not a local table");
                continue;
            }
            engines += 1;
            assert!(made.contains("ENGINE = Replicated"), "{file}: {made}");
            let table = plain.split_whitespace().nth(5).unwrap();
            assert!(
                made.contains(&format!("'/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'")),
                "{file}: {made}"
            );
        }
        assert_eq!(engines, 5, "four local tables, and the series table's by-year layout");
        assert_eq!(
            replicated("CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = ReplacingMergeTree(v) ORDER BY a".into()),
            "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}', v) ORDER BY a"
        );
        assert_eq!(
            replicated("CREATE TABLE IF NOT EXISTS s (a UInt8) ENGINE = AggregatingMergeTree() ORDER BY a".into()),
            "CREATE TABLE IF NOT EXISTS s (a UInt8) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/s', '{replica}') ORDER BY a"
        );
    }

    #[test]
    fn ddl_avoids_features_clickhouse_18_lacks() {
        for (file, text) in CLICKHOUSE_DDL.iter().chain(CLICKHOUSE_DDL_SHARDED) {
            let code = statement(text).to_uppercase();
            for banned in ["CODEC(", "LOWCARDINALITY", "DATETIME64", "INDEX ", "TTL "] {
                assert!(!code.contains(banned), "{file} uses {banned}, which ClickHouse 18.16 rejects");
            }
            assert!(!code.contains(';'), "{file} must hold exactly one statement");
        }
    }

    #[test]
    fn migrations_are_embedded() {
        assert!(MIGRATOR.iter().count() >= 6);
    }
}
