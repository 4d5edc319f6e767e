//! The partner module's SQL beyond the generic DAO: a partner's contracts, oldest first.

use sqlx::PgConnection;

use super::service::Contract;

pub async fn contracts(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<Contract>> {
    sqlx::query_as(
        "SELECT id, contract_type, plan, start_date, end_date, monthly_profile_view_quota FROM partner_contract \
         WHERE partner_id = $1 ORDER BY start_date",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await
}
