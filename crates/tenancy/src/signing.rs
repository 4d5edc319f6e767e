//! Vouched tenancy: the gateway signs the identity it injects, so a module that can be reached
//! without the gateway (a published port, a neighbour on the network) does not take a caller's
//! word for which partner it is.
//!
//! The gateway adds `x-bb-signature: t=<unix seconds>,v1=<base64url HMAC-SHA256>` over the
//! method, the path and query as the module receives them, and every tenant header's value
//! (absent ones as empty), with a key of its own (`TENANT_SIGNING_SECRET`, distinct from the
//! token key). A module configured with the key accepts tenant headers only under a valid
//! signature no older than [`MAX_AGE_SECS`]; the comparison is constant-time (`hmac`'s
//! `verify_slice`). A signature binds one request shape for a minute: enough to stop a caller
//! naming its own partner, not a replay defence against someone who can read the gateway's
//! traffic (that is what TLS between services is for).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use sha2::Sha256;

use crate::headers::{ACCOUNT_ID, AUTHORIZATION, CLIENT_ID, CLIENT_TYPE, DEVICE_ID, PARTNER_ID, PLAN_TYPE};

/// The header carrying the signature (an `x-bb-*` header, so the gateway strips a client's).
pub const SIGNATURE: HeaderName = HeaderName::from_static("x-bb-signature");

/// How old a signature may be, in seconds (either direction, for clock skew).
pub const MAX_AGE_SECS: i64 = 60;

/// The signed headers, in signing order.
const SIGNED: [HeaderName; 7] = [PARTNER_ID, ACCOUNT_ID, PLAN_TYPE, DEVICE_ID, CLIENT_ID, CLIENT_TYPE, AUTHORIZATION];

/// A decoded signing key; never printed.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("tenant headers must come through the gateway: x-bb-signature is missing")]
    Missing,
    #[error("x-bb-signature is malformed")]
    Malformed,
    #[error("x-bb-signature is older than {MAX_AGE_SECS} s (or from the future)")]
    Stale,
    #[error("x-bb-signature does not match the request")]
    Mismatch,
}

impl SigningKey {
    /// A key of at least 32 bytes (shorter keys are refused where configuration is read).
    pub fn new(key: Vec<u8>) -> Self {
        Self(key)
    }

    fn mac(&self, at: i64, method: &Method, path_and_query: &str, headers: &HeaderMap) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"v1\n");
        mac.update(at.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(method.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(path_and_query.as_bytes());
        for name in &SIGNED {
            mac.update(b"\n");
            for value in headers.get_all(name) {
                mac.update(value.as_bytes());
                mac.update(b"\x00");
            }
        }
        mac
    }

    /// Writes the signature of this request's tenant headers, as of `now` (unix seconds).
    pub fn sign(&self, now: i64, method: &Method, path_and_query: &str, headers: &mut HeaderMap) {
        let tag = self.mac(now, method, path_and_query, headers).finalize().into_bytes();
        let value = format!("t={now},v1={}", URL_SAFE_NO_PAD.encode(tag));
        headers.insert(SIGNATURE, HeaderValue::from_str(&value).expect("ASCII"));
    }

    /// Checks the signature of a request carrying tenant headers, as of `now` (unix seconds).
    pub fn verify(
        &self,
        now: i64,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
    ) -> Result<(), SignatureError> {
        let raw = headers.get(SIGNATURE).ok_or(SignatureError::Missing)?;
        let raw = raw.to_str().map_err(|_| SignatureError::Malformed)?;
        let (t, v1) = raw
            .split_once(',')
            .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
            .ok_or(SignatureError::Malformed)?;
        let at: i64 = t.parse().map_err(|_| SignatureError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(v1).map_err(|_| SignatureError::Malformed)?;
        if (now - at).abs() > MAX_AGE_SECS {
            return Err(SignatureError::Stale);
        }
        self.mac(at, method, path_and_query, headers).verify_slice(&tag).map_err(|_| SignatureError::Mismatch)
    }
}

/// Whether a request carries anything a signature must vouch for.
pub fn carries_tenant(headers: &HeaderMap) -> bool {
    SIGNED.iter().any(|name| headers.contains_key(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(PARTNER_ID, "7".parse().unwrap());
        h.insert(PLAN_TYPE, "PAID".parse().unwrap());
        h
    }

    #[test]
    fn a_signature_binds_time_method_path_and_every_tenant_header() {
        let key = SigningKey::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let mut h = request();
        key.sign(1_000, &Method::GET, "/coffee/usage?x=1", &mut h);
        assert_eq!(key.verify(1_030, &Method::GET, "/coffee/usage?x=1", &h), Ok(()));
        assert_eq!(key.verify(1_061, &Method::GET, "/coffee/usage?x=1", &h), Err(SignatureError::Stale));
        assert_eq!(key.verify(1_000, &Method::POST, "/coffee/usage?x=1", &h), Err(SignatureError::Mismatch));
        assert_eq!(key.verify(1_000, &Method::GET, "/coffee/usage?x=2", &h), Err(SignatureError::Mismatch));
        let mut other_partner = h.clone();
        other_partner.insert(PARTNER_ID, "8".parse().unwrap());
        assert_eq!(key.verify(1_000, &Method::GET, "/coffee/usage?x=1", &other_partner), Err(SignatureError::Mismatch));
        let mut added = h.clone();
        added.insert(ACCOUNT_ID, "1".parse().unwrap());
        assert_eq!(key.verify(1_000, &Method::GET, "/coffee/usage?x=1", &added), Err(SignatureError::Mismatch));
        let other_key = SigningKey::new(b"fedcba9876543210fedcba9876543210".to_vec());
        assert_eq!(other_key.verify(1_000, &Method::GET, "/coffee/usage?x=1", &h), Err(SignatureError::Mismatch));
        assert_eq!(key.verify(1_000, &Method::GET, "/coffee/usage", &request()), Err(SignatureError::Missing));
        let mut garbage = request();
        garbage.insert(SIGNATURE, "v1=abc".parse().unwrap());
        assert_eq!(key.verify(1_000, &Method::GET, "/", &garbage), Err(SignatureError::Malformed));
        assert!(!format!("{key:?}").contains("0123"));
    }
}
