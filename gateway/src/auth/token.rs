//! Session tokens: HS256 JWTs signed by coffee's identity module with `HMAC_SECRET`. The
//! gateway checks them locally: the algorithm is pinned, the signature, `exp` and `nbf` (with
//! `JWT_LEEWAY` of clock skew), `iss` (`JWT_ISSUER`) and a `sid` that is a UUID. Whether the session
//! is still live is the session tiers' question. Each failure has its own [`AuthFailure`].
//!
//! A client sends the same token on every request, and checking it (two base64 decodes, two
//! JSON parses, an HMAC) is most of the per-request auth cost, so tokens that passed are
//! remembered (exact token string → its `sid`, `nbf` and `exp`) for a few minutes: a repeat
//! only has its times checked again. Only tokens that passed every check are remembered, so a
//! cache hit can never accept what the full check would refuse.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{AuthFailure, GatewayError};

/// The claims the gateway relies on (coffee's tokens carry more).
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sid: String,
    pub exp: i64,
    pub nbf: i64,
}

pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    verified: moka::sync::Cache<String, Arc<Claims>, foldhash::fast::RandomState>,
}

/// Tokens remembered as verified, and for how long.
const VERIFIED_CAPACITY: u64 = 65_536;
const VERIFIED_TTL: std::time::Duration = std::time::Duration::from_secs(300);

impl TokenVerifier {
    pub fn new(hmac_key: &[u8], issuer: &str, leeway: std::time::Duration) -> Self {
        let validation = tenancy::token_validation(issuer, leeway);
        let verified = moka::sync::Cache::builder()
            .max_capacity(VERIFIED_CAPACITY)
            .time_to_live(VERIFIED_TTL)
            .build_with_hasher(foldhash::fast::RandomState::default());
        Self { key: DecodingKey::from_secret(hmac_key), validation, verified }
    }

    /// The token's claims if it is valid now.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, GatewayError> {
        if let Some(claims) = self.verified.get(token) {
            let now = jsonwebtoken::get_current_timestamp() as i64;
            let leeway = self.validation.leeway as i64;
            return if claims.exp < now - leeway {
                Err(GatewayError::Unauthorized(AuthFailure::Expired))
            } else if claims.nbf > now + leeway {
                Err(GatewayError::Unauthorized(AuthFailure::NotYetValid))
            } else {
                Ok(claims)
            };
        }
        let claims = Arc::new(self.check(token)?);
        self.verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }

    fn check(&self, token: &str) -> Result<Claims, GatewayError> {
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map(|d| d.claims).map_err(|e| {
                GatewayError::Unauthorized(match e.kind() {
                    ErrorKind::InvalidSignature => AuthFailure::BadSignature,
                    ErrorKind::ExpiredSignature => AuthFailure::Expired,
                    ErrorKind::ImmatureSignature => AuthFailure::NotYetValid,
                    _ => AuthFailure::Malformed,
                })
            })?;
        // coffee issues UUIDs; anything else (including "") is not a session id
        if crate::session::key_of(&claims.sid).is_none() {
            return Err(GatewayError::Unauthorized(AuthFailure::Malformed));
        }
        Ok(claims)
    }
}

/// The bearer token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, GatewayError> {
    let value =
        headers.get(axum::http::header::AUTHORIZATION).ok_or(GatewayError::Unauthorized(AuthFailure::Missing))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(GatewayError::Unauthorized(AuthFailure::Malformed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use std::time::Duration;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ISS: &str = "bulbul-identity";
    const SID: &str = "6f1c8a7e-2b4d-4c3a-9e8f-0a1b2c3d4e5f";

    fn token(key: &[u8], alg: Algorithm, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key)).unwrap()
    }

    fn claims(sid: &str, nbf: i64, exp: i64) -> serde_json::Value {
        serde_json::json!({"sid": sid, "nbf": nbf, "exp": exp, "iss": ISS, "pid": 1})
    }

    fn failure(v: &TokenVerifier, t: &str) -> Option<AuthFailure> {
        match v.verify(t) {
            Err(GatewayError::Unauthorized(why)) => Some(why),
            _ => None,
        }
    }

    #[test]
    fn accepts_only_live_hs256_tokens_signed_with_the_key_and_names_each_failure() {
        let v = TokenVerifier::new(KEY, ISS, Duration::from_secs(30));
        let now = chrono::Utc::now().timestamp();
        assert_eq!(v.verify(&token(KEY, Algorithm::HS256, claims(SID, now, now + 60))).unwrap().sid, SID);
        let other = b"another-key-another-key-another-k";
        assert_eq!(
            failure(&v, &token(other, Algorithm::HS256, claims("s", now, now + 60))),
            Some(AuthFailure::BadSignature)
        );
        assert!(v.verify(&token(KEY, Algorithm::HS384, claims("s", now, now + 60))).is_err(), "algorithm pinned");
        assert_eq!(
            failure(&v, &token(KEY, Algorithm::HS256, claims("s", now - 200, now - 120))),
            Some(AuthFailure::Expired)
        );
        assert_eq!(
            failure(&v, &token(KEY, Algorithm::HS256, claims("s", now + 3600, now + 7200))),
            Some(AuthFailure::NotYetValid),
            "nbf an hour ahead"
        );
        // within the leeway either way
        assert!(v.verify(&token(KEY, Algorithm::HS256, claims(SID, now + 20, now + 60))).is_ok());
        assert!(v.verify(&token(KEY, Algorithm::HS256, claims(SID, now - 60, now - 20))).is_ok());
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, claims("", now, now + 60))), Some(AuthFailure::Malformed));
        assert_eq!(
            failure(&v, &token(KEY, Algorithm::HS256, claims("s-1", now, now + 60))),
            Some(AuthFailure::Malformed)
        );
        let mut wrong_iss = claims("s", now, now + 60);
        wrong_iss["iss"] = "someone-else".into();
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, wrong_iss)), Some(AuthFailure::Malformed));
        let no_nbf = serde_json::json!({"sid": "s", "exp": now + 60, "iss": ISS});
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, no_nbf)), Some(AuthFailure::Malformed));
        assert_eq!(failure(&v, "not.a.token"), Some(AuthFailure::Malformed));
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let v = TokenVerifier::new(KEY, ISS, Duration::ZERO);
        let now = chrono::Utc::now().timestamp();
        let t = token(KEY, Algorithm::HS256, claims(SID, now, now + 1));
        assert!(v.verify(&t).is_ok());
        assert!(v.verify(&t).is_ok(), "from the cache");
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(failure(&v, &t), Some(AuthFailure::Expired));
        // a token that failed is not remembered as anything
        let forged = token(b"another-key-another-key-another-k", Algorithm::HS256, claims("s", now, now + 60));
        assert_eq!(failure(&v, &forged), Some(AuthFailure::BadSignature));
        assert_eq!(failure(&v, &forged), Some(AuthFailure::BadSignature));
    }

    #[test]
    fn bearer_header_shapes() {
        let mut h = axum::http::HeaderMap::new();
        assert!(matches!(bearer(&h), Err(GatewayError::Unauthorized(AuthFailure::Missing))));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert!(matches!(bearer(&h), Err(GatewayError::Unauthorized(AuthFailure::Malformed))));
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h).unwrap(), "abc");
    }
}
