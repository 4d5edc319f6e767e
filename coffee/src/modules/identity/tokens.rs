//! Session tokens: HS256 JWTs with the session id (`sid`), issuer (`iss`, `JWT_ISSUER`) and
//! the usual time claims. The key is decoded once at start-up; the rules are the gateway's
//! too (`tenancy::token_validation`).

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sid: String,
    pub sub: String,
    pub uid: i64,
    pub name: String,
    pub pid: i64,
    pub aid: Option<i64>,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Clock skew allowed on `exp` and `nbf`.
const COFFEE_LEEWAY: std::time::Duration = std::time::Duration::from_secs(60);

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(hmac_key: &[u8], issuer: &str) -> Self {
        // at verify and logout; the skew allowed is at least the edge's (`JWT_LEEWAY`, 30 s by
        // default), so coffee never refuses a token the gateway has just accepted
        let validation = tenancy::token_validation(issuer, COFFEE_LEEWAY);
        Self { encoding: EncodingKey::from_secret(hmac_key), decoding: DecodingKey::from_secret(hmac_key), validation }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(tenancy::TOKEN_ALGORITHM), claims, &self.encoding)
            .map_err(|e| ApiError::Internal(e.into()))
    }

    /// The claims of a token this service signed and that is still within its lifetime.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| ApiError::Unauthorized(refused(e.kind()).into()))?;
        if tenancy::session_id(&claims.sid).is_none() {
            return Err(ApiError::Unauthorized("invalid token: bad sid".into()));
        }
        Ok(claims)
    }
}

/// Why a token was refused, in the words the gateway uses for the same checks.
fn refused(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired; log in again",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidSignature => "the token's signature does not match",
        ErrorKind::InvalidIssuer => "the token was not issued by this service",
        _ => "the token is malformed",
    }
}
