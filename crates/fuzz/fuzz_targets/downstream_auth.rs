//! The downstream `Authorization` codec (`userId~userName~isLoggedIn~accountId:password`, base64)
//! that modules read from every request: never panics, and whatever it accepts survives an
//! encode and decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tenancy::DownstreamAuth;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(auth) = DownstreamAuth::decode(text) {
        assert_eq!(DownstreamAuth::decode(&auth.encode()), Ok(auth));
    }
});
