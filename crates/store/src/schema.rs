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

/// The sharded layout (`clickhouse-ddl/sharded/`) for one shard: call it for every shard of
/// `cluster` (each with its own client), the same `database` on each. The `Distributed` tables
/// name `cluster` and `database`, which are identifiers from configuration, never input.
pub async fn apply_sharded_clickhouse_ddl(
    shard: &Client,
    cluster: &str,
    database: &str,
) -> Result<Vec<&'static str>, DdlError> {
    apply(shard, CLICKHOUSE_DDL_SHARDED, &[("{cluster}", cluster), ("{database}", database)]).await
}

async fn apply(
    client: &Client,
    files: &'static [(&'static str, &'static str)],
    vars: &[(&str, &str)],
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
        let sql = vars.iter().fold(statement(text), |sql, (name, value)| sql.replace(name, value));
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
