//! Discovery search (the filter language partners send as JSON): any body is refused with a
//! clear error or becomes a query whose SQL keeps every client value a bind parameter.
#![no_main]

use coffee::core::dao::{SearchQuery, SearchRequest};
use coffee::core::postgres::push_where;
use coffee::modules::profile::entity::{INSTAGRAM_FIELDS, YOUTUBE_FIELDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<SearchRequest>(data) else { return };
    for fields in [INSTAGRAM_FIELDS, YOUTUBE_FIELDS] {
        if let Ok(query) = SearchQuery::from_request(&request, fields, &[]) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new("SELECT 1 FROM t");
            push_where(&mut qb, &query);
            let sql = qb.sql();
            // client text reaches the statement only as $n parameters
            assert!(!sql.contains('\'') && !sql.contains(';'), "{sql}");
            let _ = query.offset();
        }
    }
});
