//! The session token's rules, held once for the module that issues tokens (coffee's identity)
//! and the edge that checks them (the gateway), so the two can never disagree on what a valid
//! token is: HS256 only (no `none`, no key confusion with another algorithm); `exp`, `nbf` and
//! `iss` required (a `sid` too: each service's claims declare it, so a token without one does
//! not decode); the issuer pinned; and the `sid` a UUID (anything else, `""` included, is not a
//! session id).

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};

/// The one algorithm session tokens are signed with.
pub const TOKEN_ALGORITHM: Algorithm = Algorithm::HS256;

/// How a session token is checked: signature, `exp` and `nbf` with `leeway` of clock skew, and
/// `iss` equal to `issuer`.
pub fn token_validation(issuer: &str, leeway: Duration) -> Validation {
    let mut validation = Validation::new(TOKEN_ALGORITHM);
    validation.set_required_spec_claims(&["exp", "nbf", "iss"]);
    validation.set_issuer(&[issuer]);
    validation.validate_nbf = true;
    validation.leeway = leeway.as_secs();
    validation
}

/// A session id's 128 bits, or `None` when `sid` is not a session id at all.
pub fn session_id(sid: &str) -> Option<u128> {
    uuid::Uuid::parse_str(sid).ok().map(|u| u.as_u128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_session_ids() {
        assert!(session_id("6f1c1a5e-8f3b-4f7a-9a57-1f0e2d3c4b5a").is_some());
        for not in ["", "1", "session", "6f1c1a5e-8f3b-4f7a-9a57"] {
            assert_eq!(session_id(not), None, "{not:?}");
        }
    }

    #[test]
    fn the_rules_are_pinned() {
        let v = token_validation("bulbul-identity", Duration::from_secs(30));
        assert_eq!(v.algorithms, vec![Algorithm::HS256]);
        assert!(v.validate_nbf && v.validate_exp);
        assert_eq!(v.leeway, 30);
        for claim in ["exp", "nbf", "iss"] {
            assert!(v.required_spec_claims.contains(claim), "{claim}");
        }
    }
}
