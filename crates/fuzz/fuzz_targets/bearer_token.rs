//! The gateway's `Authorization: Bearer <jwt>` check: any header value is refused with a 401
//! reason or accepted, never a panic (header parsing, base64, JSON claims, HS256 signature).
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use gateway::auth::token::{bearer, TokenVerifier};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

static VERIFIER: LazyLock<TokenVerifier> = LazyLock::new(|| {
    TokenVerifier::new(b"fuzzing-key-fuzzing-key-fuzzing-key!", "bulbul-identity", Duration::from_secs(30))
});

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else { return };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, value);
    if let Ok(token) = bearer(&headers) {
        let _ = VERIFIER.verify(token);
    }
});
