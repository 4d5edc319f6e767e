//! Session tokens: HS256 JWTs with the session id (`sid`), issuer (`iss`, `JWT_ISSUER`) and
//! the usual time claims. The key is decoded once at start-up; the gateway verifies the same
//! way (signature, `exp`, `nbf`, `iss`).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(hmac_key: &[u8], issuer: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "sid"]);
        validation.set_issuer(&[issuer]);
        validation.validate_nbf = true;
        Self { encoding: EncodingKey::from_secret(hmac_key), decoding: DecodingKey::from_secret(hmac_key), validation }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::Internal(e.into()))
    }

    /// The claims of a token this service signed and that is still within its lifetime.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
        if uuid::Uuid::parse_str(&claims.sid).is_err() {
            return Err(ApiError::Unauthorized("invalid token: bad sid".into()));
        }
        Ok(claims)
    }
}
