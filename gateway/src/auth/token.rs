//! Session tokens: HS256 JWTs signed by coffee's identity module with `HMAC_SECRET`. The
//! gateway checks signature and expiry locally; whether the session is still live is the
//! session tiers' question.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::GatewayError;

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
    pub fn new(hmac_key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sid"]);
        validation.leeway = 0;
        Self { key: DecodingKey::from_secret(hmac_key), validation }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, GatewayError> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| GatewayError::Unauthorized(format!("invalid token: {e}")))
    }
}

/// The bearer token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, GatewayError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| GatewayError::Unauthorized("log in first: send Authorization: Bearer <token>".into()))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GatewayError::Unauthorized("Authorization must be `Bearer <token>`".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn token(key: &[u8], alg: Algorithm, exp: i64) -> String {
        let claims = serde_json::json!({"sid": "s-1", "exp": exp, "pid": 1});
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(key)).unwrap()
    }

    #[test]
    fn accepts_only_live_hs256_tokens_signed_with_the_key() {
        let v = TokenVerifier::new(KEY);
        let later = chrono::Utc::now().timestamp() + 60;
        assert_eq!(v.verify(&token(KEY, Algorithm::HS256, later)).unwrap().sid, "s-1");
        assert!(v.verify(&token(b"another-key-another-key-another-k", Algorithm::HS256, later)).is_err());
        assert!(v.verify(&token(KEY, Algorithm::HS384, later)).is_err(), "algorithm pinned");
        assert!(v.verify(&token(KEY, Algorithm::HS256, later - 120)).is_err(), "expired");
        assert!(v.verify("not.a.token").is_err());
    }

    #[test]
    fn bearer_header_shapes() {
        let mut h = axum::http::HeaderMap::new();
        assert!(bearer(&h).is_err());
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert!(bearer(&h).is_err());
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h).unwrap(), "abc");
    }
}
