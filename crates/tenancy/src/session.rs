//! The session contract between coffee's identity module (which writes it) and the gateway
//! (which reads it): the Redis key, the cached value, and the channel logouts are announced on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where logouts are announced (after the key prefix), so every gateway drops the session from
/// its in-process cache.
pub const INVALIDATION_CHANNEL: &str = "session-invalidation";

/// The `iss` of session tokens unless `JWT_ISSUER` says otherwise (coffee signs, the gateway checks).
pub const DEFAULT_ISSUER: &str = "bulbul-identity";

/// The Redis key of a session: `{prefix}session:{<sid>}`. The braces are a Redis Cluster hash
/// tag: the session and its revocation marker ([`revoked_key`]) live in one slot, so one script
/// can check the marker and write the session atomically.
pub fn session_key(prefix: &str, sid: &str) -> String {
    format!("{prefix}session:{{{sid}}}")
}

/// The revocation marker (tombstone) of a session, kept for the token's remaining life after a
/// logout: while it exists no re-warm may write the session back.
pub fn revoked_key(prefix: &str, sid: &str) -> String {
    format!("{prefix}session-revoked:{{{sid}}}")
}

/// What a live session says about its holder: `/identity/verify`'s answer and the Redis value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct SessionInfo {
    pub sid: String,
    pub user_id: i64,
    pub user_name: String,
    pub partner_id: i64,
    pub account_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_value_shapes_are_stable() {
        assert_eq!(session_key("t1:", "abc"), "t1:session:{abc}");
        assert_eq!(revoked_key("t1:", "abc"), "t1:session-revoked:{abc}");
        let json = r#"{"sid":"s","user_id":1,"user_name":"A","partner_id":2,"account_id":null,"expires_at":"2030-01-01T00:00:00Z"}"#;
        let info: SessionInfo = serde_json::from_str(json).unwrap();
        assert_eq!((info.user_id, info.partner_id, info.account_id), (1, 2, None));
        assert_eq!(serde_json::from_str::<SessionInfo>(&serde_json::to_string(&info).unwrap()).unwrap(), info);
    }
}
