//! beat's reading of a third-party source's posts page, for every adapter: the first byte picks
//! the source, the rest is the page's answers (a list and the details of what it names, for
//! the two-step sources) separated by 0xFF bytes (never in JSON, which is UTF-8), each one's
//! first byte its HTTP status and the rest its body. Any answers are a page of posts with
//! ids of the profile's platform or a clear provider error, never a panic.
#![no_main]

use beat::providers::{adapter, Exchange, PostKind, Profile, SOURCES};
use domain::Platform;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 200, 200, 401, 403, 404, 429, 500];

/// A page's answers at most: youtube138's list and the details of its ten videos.
const ANSWERS: usize = 11;

const SEPARATOR: u8 = 0xFF;

/// The creator whose page is read, as a profile answer of `platform` would have it.
fn profile(platform: Platform) -> Profile {
    let external_id = match platform {
        Platform::Instagram => "528817151".to_owned(),
        Platform::Youtube => "UCLA_DiR1FfKNvjuUpBHmylQ".to_owned(),
    };
    Profile {
        platform,
        external_id,
        handle: "nasa".to_owned(),
        name: "NASA".to_owned(),
        bio: String::new(),
        followers: 1,
        following: (platform == Platform::Instagram).then_some(1),
        content_count: 1,
        total_views: (platform == Platform::Youtube).then_some(1),
        avatar_url: None,
        category: None,
        country: None,
        verified: false,
        is_business: false,
    }
}

fn is_token(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else { return };
    let (source, platform) = SOURCES[usize::from(*which) % SOURCES.len()];
    let provider = adapter(source).expect("every listed source has an adapter");
    assert_eq!(provider.platform(), platform);
    let profile = profile(platform);
    let answers: Vec<Exchange> = rest
        .splitn(ANSWERS, |b| *b == SEPARATOR)
        .map(|chunk| {
            let (status, body) = chunk.split_first().map_or((0, &[][..]), |(s, b)| (usize::from(*s), b));
            Exchange { status: STATUSES[status % STATUSES.len()], retry_after: None, body: body.to_vec().into() }
        })
        .collect();
    let Ok(page) = provider.read_posts(source, &answers, &profile) else { return };
    if let Some(next) = &page.next {
        assert!(!next.is_empty(), "{page:?}");
    }
    for post in &page.posts {
        match platform {
            Platform::Instagram => assert!(is_token(&post.id, 5, 40), "{post:?}"),
            Platform::Youtube => {
                assert!(is_token(&post.id, 11, 11), "{post:?}");
                assert_eq!(post.kind, PostKind::Video, "{post:?}");
            }
        }
    }
    if source == "youtube138" {
        // one post at most per details answer, after the list
        assert!(page.posts.len() < answers.len(), "{page:?}");
    }
});
