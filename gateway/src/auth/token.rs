//! Session tokens: HS256 JWTs signed by coffee's identity module with `HMAC_SECRET`. The
//! gateway checks them locally: the algorithm is pinned, the signature, `exp` and `nbf` (with
//! `JWT_LEEWAY` of clock skew), `iss` (`JWT_ISSUER`) and a non-empty `sid`. Whether the session
//! is still live is the session tiers' question. Each failure has its own [`AuthFailure`].

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{AuthFailure, GatewayError};

/// The claims the gateway relies on (coffee's tokens carry more).
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sid: String,
    pub exp: i64,
}

pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(hmac_key: &[u8], issuer: &str, leeway: std::time::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "sid"]);
        validation.set_issuer(&[issuer]);
        validation.validate_nbf = true;
        validation.leeway = leeway.as_secs();
        Self { key: DecodingKey::from_secret(hmac_key), validation }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, GatewayError> {
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map(|d| d.claims).map_err(|e| {
                GatewayError::Unauthorized(match e.kind() {
                    ErrorKind::InvalidSignature => AuthFailure::BadSignature,
                    ErrorKind::ExpiredSignature => AuthFailure::Expired,
                    ErrorKind::ImmatureSignature => AuthFailure::NotYetValid,
                    _ => AuthFailure::Malformed,
                })
            })?;
        if claims.sid.trim().is_empty() {
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
    use jsonwebtoken::{EncodingKey, Header};
    use std::time::Duration;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ISS: &str = "bulbul-identity";

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
        assert_eq!(v.verify(&token(KEY, Algorithm::HS256, claims("s-1", now, now + 60))).unwrap().sid, "s-1");
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
        assert!(v.verify(&token(KEY, Algorithm::HS256, claims("s", now + 20, now + 60))).is_ok());
        assert!(v.verify(&token(KEY, Algorithm::HS256, claims("s", now - 60, now - 20))).is_ok());
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, claims("", now, now + 60))), Some(AuthFailure::Malformed));
        let mut wrong_iss = claims("s", now, now + 60);
        wrong_iss["iss"] = "someone-else".into();
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, wrong_iss)), Some(AuthFailure::Malformed));
        let no_nbf = serde_json::json!({"sid": "s", "exp": now + 60, "iss": ISS});
        assert_eq!(failure(&v, &token(KEY, Algorithm::HS256, no_nbf)), Some(AuthFailure::Malformed));
        assert_eq!(failure(&v, "not.a.token"), Some(AuthFailure::Malformed));
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
