//! The one persistence contract, so that every module stores data the same way: every entity is
//! read and written through [`Dao`], implemented once for Postgres ([`super::postgres::PgDao`]) and
//! once for ClickHouse ([`super::clickhouse::ChDao`]), generic over entities.
//!
//! Searches are described by a [`SearchQuery`]: filters on whitelisted fields only (each field
//! says which column it reads, its type and the operators it allows), a whitelisted sort, and a
//! capped page. Every value is bound as a parameter, never spliced into SQL.

use std::future::Future;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::core::context::RequestContext;
use crate::core::error::{StoreError, StoreResult};

/// A typed value for filters and writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Date(chrono::NaiveDate),
    Json(serde_json::Value),
    IntList(Vec<i64>),
    TextList(Vec<String>),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Int,
    Float,
    Text,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    /// Case-insensitive substring match (text fields).
    Contains,
}

impl Op {
    pub const ORDERED: &'static [Op] = &[Op::Eq, Op::Ne, Op::Gt, Op::Gte, Op::Lt, Op::Lte, Op::In];
    pub const EQUALITY: &'static [Op] = &[Op::Eq, Op::Ne, Op::In];
    pub const TEXT: &'static [Op] = &[Op::Contains];

    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::In => "IN",
            Op::Contains => "CONTAINS",
        }
    }
}

/// A field clients may filter or sort on, and the SQL expression behind it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    /// A column or expression written by us, never by the client.
    pub column: &'static str,
    pub ty: FieldType,
    pub ops: &'static [Op],
    pub sortable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

impl Direction {
    pub fn sql(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}

/// One filter as a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterRequest {
    pub field: String,
    pub op: Op,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SortRequest {
    pub field: String,
    #[serde(default)]
    pub direction: Direction,
}

/// A search as a client sends it (`POST …/search`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    #[serde(default)]
    pub filters: Vec<FilterRequest>,
    pub sort: Option<SortRequest>,
    /// 1-based page number (default 1)
    #[schema(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// page size (default 20, at most 100)
    #[schema(minimum = 1, maximum = 100)]
    pub size: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: &'static str,
    pub op: Op,
    pub value: Value,
}

/// A validated search: only whitelisted columns, typed values, a capped page.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub filters: Vec<Filter>,
    pub sort: Vec<(&'static str, Direction)>,
    pub page: u32,
    pub size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
const MAX_FILTERS: usize = 20;
const MAX_IN_VALUES: usize = 500;
const MAX_TEXT_LEN: usize = 200;

fn typed(field: &FieldSpec, value: &serde_json::Value) -> StoreResult<Value> {
    let wrong =
        || StoreError::InvalidQuery(format!("filter {:?} expects a {:?} value, got {value}", field.name, field.ty));
    Ok(match (field.ty, value) {
        (FieldType::Int, serde_json::Value::Number(n)) => Value::Int(n.as_i64().ok_or_else(wrong)?),
        (FieldType::Float, serde_json::Value::Number(n)) => {
            let f = n.as_f64().ok_or_else(wrong)?;
            if !f.is_finite() {
                return Err(wrong());
            }
            Value::Float(f)
        }
        (FieldType::Bool, serde_json::Value::Bool(b)) => Value::Bool(*b),
        (FieldType::Text, serde_json::Value::String(s)) => {
            if s.len() > MAX_TEXT_LEN {
                return Err(StoreError::InvalidQuery(format!(
                    "filter {:?}: text longer than {MAX_TEXT_LEN}",
                    field.name
                )));
            }
            Value::Text(s.clone())
        }
        _ => return Err(wrong()),
    })
}

impl SearchQuery {
    /// Everything, in the entity's default order, one default page.
    pub fn all(default_sort: &[(&'static str, Direction)]) -> Self {
        Self { filters: Vec::new(), sort: default_sort.to_vec(), page: 1, size: DEFAULT_PAGE_SIZE }
    }

    /// Validates a client's search against `fields`; anything unknown or mistyped is a 400.
    pub fn from_request(
        req: &SearchRequest,
        fields: &[FieldSpec],
        default_sort: &[(&'static str, Direction)],
    ) -> StoreResult<Self> {
        if req.filters.len() > MAX_FILTERS {
            return Err(StoreError::InvalidQuery(format!("at most {MAX_FILTERS} filters")));
        }
        let find = |name: &str| {
            fields.iter().find(|f| f.name == name).ok_or_else(|| {
                let known: Vec<_> = fields.iter().map(|f| f.name).collect();
                StoreError::InvalidQuery(format!("unknown field {name:?}; known fields: {}", known.join(", ")))
            })
        };
        let mut filters = Vec::with_capacity(req.filters.len());
        for f in &req.filters {
            let spec = find(&f.field)?;
            if !spec.ops.contains(&f.op) {
                let allowed: Vec<_> = spec.ops.iter().map(|o| format!("{o:?}").to_lowercase()).collect();
                return Err(StoreError::InvalidQuery(format!(
                    "operator {:?} is not allowed on {:?}; allowed: {}",
                    format!("{:?}", f.op).to_lowercase(),
                    spec.name,
                    allowed.join(", ")
                )));
            }
            let value = if f.op == Op::In {
                let items = f.value.as_array().ok_or_else(|| {
                    StoreError::InvalidQuery(format!("filter {:?} with op in expects an array", spec.name))
                })?;
                if items.is_empty() || items.len() > MAX_IN_VALUES {
                    return Err(StoreError::InvalidQuery(format!("op in takes 1 to {MAX_IN_VALUES} values")));
                }
                let values = items.iter().map(|v| typed(spec, v)).collect::<StoreResult<Vec<_>>>()?;
                match spec.ty {
                    FieldType::Int => {
                        Value::IntList(values.into_iter().map(|v| if let Value::Int(i) = v { i } else { 0 }).collect())
                    }
                    FieldType::Text => Value::TextList(
                        values.into_iter().map(|v| if let Value::Text(s) = v { s } else { String::new() }).collect(),
                    ),
                    _ => return Err(StoreError::InvalidQuery(format!("op in is not supported on {:?}", spec.name))),
                }
            } else {
                typed(spec, &f.value)?
            };
            filters.push(Filter { column: spec.column, op: f.op, value });
        }
        let sort = match &req.sort {
            Some(s) => {
                let spec = find(&s.field)?;
                if !spec.sortable {
                    return Err(StoreError::InvalidQuery(format!("cannot sort by {:?}", spec.name)));
                }
                vec![(spec.column, s.direction)]
            }
            None => default_sort.to_vec(),
        };
        let page = req.page.unwrap_or(1);
        if page == 0 || page > 10_000 {
            return Err(StoreError::InvalidQuery("page must be between 1 and 10000".into()));
        }
        let size = req.size.unwrap_or(DEFAULT_PAGE_SIZE);
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(StoreError::InvalidQuery(format!("size must be between 1 and {MAX_PAGE_SIZE}")));
        }
        Ok(Self { filters, sort, page, size })
    }

    /// Adds a filter the service imposes (tenancy, platform), whatever the client asked.
    pub fn scoped(mut self, column: &'static str, value: Value) -> Self {
        self.filters.push(Filter { column, op: Op::Eq, value });
        self
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.size)
    }
}

/// Something stored in one table and addressed by one id column.
pub trait Entity: Sized + Send + Sync + Unpin + 'static {
    type Id: Copy + Send + Sync + std::fmt::Display + 'static;
    const TABLE: &'static str;
    const ID: &'static str;
    /// The select list, in field order.
    const COLUMNS: &'static str;
    const DEFAULT_SORT: &'static [(&'static str, Direction)];
}

/// Column/value pairs for `create` and `update`. Column names come from code, never clients.
pub type Values = Vec<(&'static str, Value)>;

/// The generic DAO. Every method runs inside the request's lazily opened session. (Methods
/// return `Send` futures so handlers stay `Send`; implementations write plain `async fn`.)
pub trait Dao<E: Entity> {
    fn find_by_id(&self, ctx: &RequestContext, id: E::Id) -> impl Future<Output = StoreResult<Option<E>>> + Send;
    fn find_by_ids(&self, ctx: &RequestContext, ids: &[E::Id]) -> impl Future<Output = StoreResult<Vec<E>>> + Send;
    /// The stored row when the store can return it at once (Postgres); `None` when the write
    /// is buffered until the request commits (ClickHouse).
    fn create(&self, ctx: &RequestContext, values: Values) -> impl Future<Output = StoreResult<Option<E>>> + Send;
    fn search(
        &self,
        ctx: &RequestContext,
        query: &SearchQuery,
    ) -> impl Future<Output = StoreResult<(Vec<E>, u64)>> + Send;
}

/// Rows changed and removed in place: Postgres's. ClickHouse's time series are not (a newer row
/// with the same key replaces an older one when its ReplacingMergeTree merges, and mutations
/// rewrite whole parts), so its DAO reads and inserts only.
pub trait MutableDao<E: Entity>: Dao<E> {
    /// The row, locked against every concurrent writer (and against inserts that reference it)
    /// until the request's transaction ends, so a check made on it still holds when the request
    /// writes. Writers of one row that all lock it first queue instead of deadlocking, and a
    /// row deleted meanwhile is `None`.
    fn lock_by_id(&self, ctx: &RequestContext, id: E::Id) -> impl Future<Output = StoreResult<Option<E>>> + Send;
    fn update(
        &self,
        ctx: &RequestContext,
        id: E::Id,
        values: Values,
    ) -> impl Future<Output = StoreResult<Option<E>>> + Send;
    fn delete(&self, ctx: &RequestContext, id: E::Id) -> impl Future<Output = StoreResult<bool>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[FieldSpec] = &[
        FieldSpec { name: "followers", column: "followers", ty: FieldType::Int, ops: Op::ORDERED, sortable: true },
        FieldSpec { name: "text", column: "handle", ty: FieldType::Text, ops: Op::TEXT, sortable: false },
    ];

    fn req(v: serde_json::Value) -> StoreResult<SearchQuery> {
        let r: SearchRequest = serde_json::from_value(v).unwrap();
        SearchQuery::from_request(&r, FIELDS, &[("id", Direction::Asc)])
    }

    #[test]
    fn validates_fields_operators_types_and_pages() {
        let q = req(json!({"filters": [{"field": "followers", "op": "gte", "value": 1000}], "size": 50})).unwrap();
        assert_eq!(q.filters, vec![Filter { column: "followers", op: Op::Gte, value: Value::Int(1000) }]);
        assert_eq!((q.page, q.size, q.offset()), (1, 50, 0));

        let bad = |v: serde_json::Value, needle: &str| {
            let e = req(v).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        bad(json!({"filters": [{"field": "password", "op": "eq", "value": 1}]}), "unknown field \"password\"");
        bad(json!({"filters": [{"field": "text", "op": "eq", "value": "x"}]}), "not allowed");
        bad(json!({"filters": [{"field": "followers", "op": "gt", "value": "many"}]}), "expects a Int");
        bad(json!({"filters": [{"field": "followers", "op": "in", "value": []}]}), "1 to 500");
        bad(json!({"size": 5000}), "size must be between 1 and 100");
        bad(json!({"page": 0}), "page must be");
        bad(json!({"sort": {"field": "text"}}), "cannot sort");
    }

    #[test]
    fn injection_strings_stay_values() {
        let q = req(json!({"filters": [{"field": "text", "op": "contains", "value": "'; DROP TABLE partner; --"}]}))
            .unwrap();
        assert_eq!(q.filters[0].column, "handle");
        assert_eq!(q.filters[0].value, Value::Text("'; DROP TABLE partner; --".into()));
    }
}
