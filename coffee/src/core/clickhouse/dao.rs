//! [`ChDao`]: the generic DAO over the clickhouse crate, for any entity that is a
//! `clickhouse::Row`. Reads run at once; inserts are buffered in the request's session and sent
//! on commit. It has no update or delete ([`crate::core::dao::MutableDao`] is Postgres's): a
//! time-series row is corrected by inserting its replacement.

use std::marker::PhantomData;

use crate::core::clickhouse::session::bind;
use crate::core::clickhouse::PendingWrite;
use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Entity, Op, SearchQuery, Value, Values};
use crate::core::error::{StoreError, StoreResult};
use crate::core::observe::Store;

pub struct ChDao<E>(PhantomData<fn() -> E>);

impl<E> Default for ChDao<E> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E> Clone for ChDao<E> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// ` WHERE …` with `?` placeholders, and the values to bind in order.
pub fn where_clause(query: &SearchQuery) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    for (i, f) in query.filters.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        match (f.op, &f.value) {
            // integers render safely, and IN (unlike has) lets ClickHouse use the primary key
            (Op::In, Value::IntList(ids)) => {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                sql.push_str(&format!("{} IN ({})", f.column, list.join(", ")));
                continue;
            }
            (Op::In, _) => sql.push_str(&format!("has(?, {})", f.column)),
            (Op::Contains, _) => sql.push_str(&format!("positionCaseInsensitiveUTF8({}, ?) > 0", f.column)),
            (op, _) => sql.push_str(&format!("{} {} ?", f.column, op.sql())),
        }
        binds.push(f.value.clone());
    }
    (sql, binds)
}

fn id_value<I: std::fmt::Display>(id: I) -> StoreResult<Value> {
    id.to_string().parse::<i64>().map(Value::Int).map_err(|_| StoreError::InvalidQuery(format!("invalid id {id}")))
}

impl<E> Dao<E> for ChDao<E>
where
    E: Entity + clickhouse::RowOwned + clickhouse::RowRead,
{
    async fn find_by_id(&self, ctx: &RequestContext, id: E::Id) -> StoreResult<Option<E>> {
        ctx.timed(Store::ClickHouse, "find_by_id", async move {
            let sql = format!("SELECT {} FROM {} WHERE {} = ? LIMIT 1", E::COLUMNS, E::TABLE, E::ID);
            let q = bind(ctx.ch.client().await?.query(&sql), &id_value(id)?);
            Ok(q.fetch_optional::<E>().await?)
        })
        .await
    }

    async fn find_by_ids(&self, ctx: &RequestContext, ids: &[E::Id]) -> StoreResult<Vec<E>> {
        ctx.timed(Store::ClickHouse, "find_by_ids", async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids = ids
                .iter()
                .map(|i| id_value(*i).map(|v| if let Value::Int(i) = v { i } else { 0 }))
                .collect::<StoreResult<Vec<_>>>()?;
            let sql = format!("SELECT {} FROM {} WHERE has(?, {})", E::COLUMNS, E::TABLE, E::ID);
            Ok(bind(ctx.ch.client().await?.query(&sql), &Value::IntList(ids)).fetch_all::<E>().await?)
        })
        .await
    }

    /// Buffers the insert until commit, so there is no row to return yet: always `Ok(None)`.
    async fn create(&self, ctx: &RequestContext, values: Values) -> StoreResult<Option<E>> {
        let (columns, binds): (Vec<_>, Vec<_>) = values.into_iter().unzip();
        let placeholders = vec!["?"; columns.len()].join(", ");
        let sql = format!("INSERT INTO {} ({}) VALUES ({placeholders})", E::TABLE, columns.join(", "));
        ctx.ch.write(PendingWrite { sql, binds }).await?;
        Ok(None)
    }

    async fn search(&self, ctx: &RequestContext, query: &SearchQuery) -> StoreResult<(Vec<E>, u64)> {
        ctx.timed(Store::ClickHouse, "search", async move {
            let (filter, binds) = where_clause(query);
            let client = ctx.ch.client().await?;
            let mut count = client.query(&format!("SELECT count() FROM {}{filter}", E::TABLE));
            for b in &binds {
                count = bind(count, b);
            }
            let total: u64 = count.fetch_one().await?;
            let mut order: Vec<String> = query.sort.iter().map(|(c, d)| format!("{c} {}", d.sql())).collect();
            order.push(E::ID.to_owned());
            let sql = format!(
                "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {} OFFSET {}",
                E::COLUMNS,
                E::TABLE,
                order.join(", "),
                query.size,
                query.offset()
            );
            let mut select = client.query(&sql);
            for b in &binds {
                select = bind(select, b);
            }
            Ok((select.fetch_all::<E>().await?, total))
        })
        .await
    }
}
