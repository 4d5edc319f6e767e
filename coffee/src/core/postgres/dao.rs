//! [`PgDao`]: the generic DAO over sqlx, for any entity that decodes from a Postgres row.

use std::marker::PhantomData;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder};

use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Entity, MutableDao, Op, SearchQuery, Value, Values};
use crate::core::error::StoreResult;
use crate::core::observe::Store;

pub struct PgDao<E>(PhantomData<fn() -> E>);

impl<E> Default for PgDao<E> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E> Clone for PgDao<E> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// Binds one value (`NULL`, scalars, JSON, arrays for `= ANY`).
pub fn push_value(qb: &mut QueryBuilder<'_, Postgres>, value: Value) {
    match value {
        Value::Int(v) => qb.push_bind(v),
        Value::Float(v) => qb.push_bind(v),
        Value::Text(v) => qb.push_bind(v),
        Value::Bool(v) => qb.push_bind(v),
        Value::Date(v) => qb.push_bind(v),
        Value::Json(v) => qb.push_bind(v),
        Value::IntList(v) => qb.push_bind(v),
        Value::TextList(v) => qb.push_bind(v),
        Value::Null => qb.push("NULL"),
    };
}

/// Appends ` WHERE …` for the query's filters (nothing when there are none).
pub fn push_where(qb: &mut QueryBuilder<'_, Postgres>, query: &SearchQuery) {
    for (i, f) in query.filters.iter().enumerate() {
        qb.push(if i == 0 { " WHERE " } else { " AND " });
        match f.op {
            Op::In => {
                qb.push(f.column).push(" = ANY(");
                push_value(qb, f.value.clone());
                qb.push(")");
            }
            Op::Contains => {
                qb.push(f.column).push(" ILIKE ");
                let text = match &f.value {
                    Value::Text(t) => t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"),
                    other => format!("{other:?}"),
                };
                qb.push_bind(format!("%{text}%"));
            }
            op if f.value == Value::Null => {
                qb.push(f.column).push(if op == Op::Ne { " IS NOT NULL" } else { " IS NULL" });
            }
            op => {
                qb.push(f.column).push(" ").push(op.sql()).push(" ");
                push_value(qb, f.value.clone());
            }
        }
    }
}

impl<E> PgDao<E>
where
    E: Entity + for<'r> FromRow<'r, PgRow>,
{
    /// The first row matching `query` in its sort order, without counting matches.
    pub async fn find_first(&self, ctx: &RequestContext, query: &SearchQuery) -> StoreResult<Option<E>> {
        let mut select = QueryBuilder::new(format!("SELECT {} FROM {}", E::COLUMNS, E::TABLE));
        push_where(&mut select, query);
        select.push(" ORDER BY ");
        for (column, dir) in &query.sort {
            select.push(*column).push(" ").push(dir.sql()).push(", ");
        }
        select.push(E::ID).push(" LIMIT 1");
        ctx.timed(Store::Postgres, "find_first", async move {
            let mut tx = ctx.pg.read().await?;
            Ok(select.build_query_as::<E>().fetch_optional(&mut *tx).await?)
        })
        .await
    }
}

impl<E> Dao<E> for PgDao<E>
where
    E: Entity + for<'r> FromRow<'r, PgRow>,
    E::Id: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + sqlx::postgres::PgHasArrayType,
{
    async fn find_by_id(&self, ctx: &RequestContext, id: E::Id) -> StoreResult<Option<E>> {
        ctx.timed(Store::Postgres, "find_by_id", async move {
            let sql = format!("SELECT {} FROM {} WHERE {} = $1", E::COLUMNS, E::TABLE, E::ID);
            let mut tx = ctx.pg.read().await?;
            Ok(sqlx::query_as::<_, E>(&sql).bind(id).fetch_optional(&mut *tx).await?)
        })
        .await
    }

    async fn find_by_ids(&self, ctx: &RequestContext, ids: &[E::Id]) -> StoreResult<Vec<E>> {
        ctx.timed(Store::Postgres, "find_by_ids", async move {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!("SELECT {} FROM {} WHERE {} = ANY($1)", E::COLUMNS, E::TABLE, E::ID);
            let mut tx = ctx.pg.read().await?;
            Ok(sqlx::query_as::<_, E>(&sql).bind(ids.to_vec()).fetch_all(&mut *tx).await?)
        })
        .await
    }

    async fn create(&self, ctx: &RequestContext, values: Values) -> StoreResult<Option<E>> {
        ctx.timed(Store::Postgres, "create", async move {
            let mut qb = QueryBuilder::new(format!("INSERT INTO {} (", E::TABLE));
            let (columns, values): (Vec<_>, Vec<_>) = values.into_iter().unzip();
            qb.push(columns.join(", ")).push(") VALUES (");
            for (i, v) in values.into_iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                push_value(&mut qb, v);
            }
            qb.push(") RETURNING ").push(E::COLUMNS);
            let mut tx = ctx.pg.tx().await?;
            Ok(Some(qb.build_query_as::<E>().fetch_one(&mut *tx).await?))
        })
        .await
    }

    async fn search(&self, ctx: &RequestContext, query: &SearchQuery) -> StoreResult<(Vec<E>, u64)> {
        ctx.timed(Store::Postgres, "search", async move {
            let mut count = QueryBuilder::new(format!("SELECT count(*) FROM {}", E::TABLE));
            push_where(&mut count, query);
            let mut select = QueryBuilder::new(format!("SELECT {} FROM {}", E::COLUMNS, E::TABLE));
            push_where(&mut select, query);
            select.push(" ORDER BY ");
            for (column, dir) in &query.sort {
                select.push(*column).push(" ").push(dir.sql()).push(", ");
            }
            // the id breaks ties, so pages never overlap
            select
                .push(E::ID)
                .push(" LIMIT ")
                .push_bind(i64::from(query.size))
                .push(" OFFSET ")
                .push_bind(query.offset() as i64);

            let mut tx = ctx.pg.read().await?;
            let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
            let rows = select.build_query_as::<E>().fetch_all(&mut *tx).await?;
            Ok((rows, total as u64))
        })
        .await
    }
}

impl<E> MutableDao<E> for PgDao<E>
where
    E: Entity + for<'r> FromRow<'r, PgRow>,
    E::Id: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + sqlx::postgres::PgHasArrayType,
{
    async fn lock_by_id(&self, ctx: &RequestContext, id: E::Id) -> StoreResult<Option<E>> {
        ctx.timed(Store::Postgres, "lock_by_id", async move {
            let sql = format!("SELECT {} FROM {} WHERE {} = $1 FOR UPDATE", E::COLUMNS, E::TABLE, E::ID);
            let mut tx = ctx.pg.tx().await?;
            Ok(sqlx::query_as::<_, E>(&sql).bind(id).fetch_optional(&mut *tx).await?)
        })
        .await
    }

    async fn update(&self, ctx: &RequestContext, id: E::Id, values: Values) -> StoreResult<Option<E>> {
        ctx.timed(Store::Postgres, "update", async move {
            if values.is_empty() {
                return self.find_by_id(ctx, id).await;
            }
            let mut qb = QueryBuilder::new(format!("UPDATE {} SET ", E::TABLE));
            for (i, (column, v)) in values.into_iter().enumerate() {
                if i > 0 {
                    qb.push(", ");
                }
                qb.push(column).push(" = ");
                push_value(&mut qb, v);
            }
            qb.push(" WHERE ").push(E::ID).push(" = ").push_bind(id).push(" RETURNING ").push(E::COLUMNS);
            let mut tx = ctx.pg.tx().await?;
            Ok(qb.build_query_as::<E>().fetch_optional(&mut *tx).await?)
        })
        .await
    }

    async fn delete(&self, ctx: &RequestContext, id: E::Id) -> StoreResult<bool> {
        ctx.timed(Store::Postgres, "delete", async move {
            let sql = format!("DELETE FROM {} WHERE {} = $1", E::TABLE, E::ID);
            let mut tx = ctx.pg.tx().await?;
            Ok(sqlx::query(&sql).bind(id).execute(&mut *tx).await?.rows_affected() > 0)
        })
        .await
    }
}
