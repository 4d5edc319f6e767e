//! Creator handles and platform names from URL paths: any text is a valid handle for its
//! platform or a clear error; an accepted handle parses again to itself.
#![no_main]

use domain::{Handle, Platform};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = text.parse::<Platform>();
    for platform in [Platform::Instagram, Platform::Youtube] {
        if let Ok(handle) = Handle::parse(platform, text) {
            assert_eq!(Handle::parse(platform, handle.as_str()).as_ref(), Ok(&handle));
        }
    }
});
