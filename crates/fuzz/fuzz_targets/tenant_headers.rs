//! Tenant headers (`x-bb-*`) as a module receives them: any set of header lines parses into a
//! tenant identity or a clear error, never a panic; an accepted identity written back out reads
//! back the same.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tenancy::TenantIdentity;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(&line[colon + 1..]))
        else {
            continue;
        };
        headers.append(name, value);
    }
    if let Ok(identity) = TenantIdentity::from_headers(&headers) {
        let mut written = HeaderMap::new();
        identity.write_headers(&mut written);
        assert_eq!(TenantIdentity::from_headers(&written), Ok(identity));
    }
});
