//! beat's reading of a third-party source's profile answer, for every adapter: the first byte
//! picks the source, the second the HTTP status, the rest is the body. Any answer is a
//! validated profile of the asked creator or a clear provider error, never a panic.
#![no_main]

use beat::providers::{adapter, Exchange, SOURCES};
use domain::Handle;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 200, 200, 401, 403, 404, 429, 500];

fuzz_target!(|data: &[u8]| {
    let [which, status, body @ ..] = data else { return };
    let (source, platform) = SOURCES[usize::from(*which) % SOURCES.len()];
    let provider = adapter(source).expect("every listed source has an adapter");
    let handle = Handle::parse(platform, "nasa").expect("a valid handle");
    let answer = Exchange {
        status: STATUSES[usize::from(*status) % STATUSES.len()],
        retry_after: None,
        body: body.to_vec().into(),
    };
    if let Ok(profile) = provider.read_profile(source, &answer, &handle) {
        assert_eq!(profile.platform, platform);
        assert!(handle.eq_ignore_case(&profile.handle), "{profile:?}");
    }
});
