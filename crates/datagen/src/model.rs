//! What gets generated, row by row, from a seed. Every profile has its own RNG stream derived
//! from (seed, platform, index), so rows do not depend on batch sizes or load order.

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};

pub use domain::Platform;

/// Each platform's own random stream, so its profiles do not depend on the other's.
fn stream(platform: Platform) -> u64 {
    platform.code() as u64
}

pub const CATEGORIES: &[(&str, &str)] = &[
    ("fashion", "Fashion"),
    ("beauty", "Beauty"),
    ("fitness", "Fitness"),
    ("food", "Food"),
    ("travel", "Travel"),
    ("tech", "Technology"),
    ("gaming", "Gaming"),
    ("music", "Music"),
    ("comedy", "Comedy"),
    ("education", "Education"),
    ("finance", "Finance"),
    ("parenting", "Parenting"),
];
const COUNTRIES: &[&str] = &["IN", "US", "GB", "BR", "ID", "AE", "DE", "FR", "MX", "NG"];
const LANGUAGES: &[&str] = &["en", "hi", "pt", "id", "ar", "de", "fr", "es"];
const SYLLABLES: &[&str] =
    &["ka", "ri", "mo", "zen", "lu", "vi", "ta", "sha", "no", "pi", "ra", "el", "jo", "an", "ku", "dee"];

/// Sizes and seed of a data set.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub seed: u64,
    pub profiles_per_platform: u64,
    pub days: u32,
    /// The last day of history (inclusive).
    pub end_date: NaiveDate,
    pub posts_per_profile: u32,
    pub partners: u32,
    pub collections_per_partner: u32,
    /// Also write the time series into Postgres (the benchmark's baseline store).
    pub pg_time_series: bool,
}

impl GenConfig {
    pub fn start_date(&self) -> NaiveDate {
        self.end_date - Days::new(u64::from(self.days.saturating_sub(1)))
    }
    pub fn time_series_rows(&self) -> u64 {
        2 * self.profiles_per_platform * u64::from(self.days)
    }
}

/// A generated profile (the Postgres row and the time-series seed).
#[derive(Debug, Clone)]
pub struct Profile {
    pub platform: Platform,
    pub id: u64,
    pub handle: String,
    pub name: String,
    pub category: &'static str,
    pub country: &'static str,
    pub language: &'static str,
    pub is_verified: bool,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// (age bucket share, gender share) as JSON text
    pub audience: String,
    pub start_followers: f64,
    pub daily_growth: f64,
    pub volatility: f64,
    pub base_er: f64,
}

/// One day of one profile.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    pub date: NaiveDate,
    pub followers: u64,
    pub following: u64,
    pub posts: u32,
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
}

/// One post with its current counters.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: u64,
    pub profile_id: u64,
    pub code: String,
    pub kind: &'static str,
    pub posted_on: NaiveDate,
    pub likes: u64,
    pub comments: u64,
    pub views: u64,
}

fn rng_for(seed: u64, platform: Platform, index: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (purpose << 56));
    rng.set_stream(stream(platform) << 48 | index);
    rng
}

fn word(rng: &mut impl Rng, syllables: usize) -> String {
    (0..syllables).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect()
}

/// Base62 of `n`, left-padded to `width` from a per-profile alphabet offset.
fn code(mut n: u64, width: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("ascii")
}

pub fn profile(cfg: &GenConfig, platform: Platform, id: u64) -> Profile {
    let mut rng = rng_for(cfg.seed, platform, id, 1);
    let first = word(&mut rng, 2);
    let last = word(&mut rng, 2);
    let handle = format!("{first}.{last}{id}");
    let audience_size = LogNormal::new(10.8_f64, 1.6).expect("valid").sample(&mut rng).clamp(1_000.0, 60_000_000.0);
    let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())].0;
    let has_contact = rng.random_bool(0.6);
    let male = rng.random_range(25..75);
    Profile {
        platform,
        id,
        handle,
        name: format!("{}{} {}{}", &first[..1].to_uppercase(), &first[1..], &last[..1].to_uppercase(), &last[1..]),
        category,
        country: COUNTRIES[rng.random_range(0..COUNTRIES.len())],
        language: LANGUAGES[rng.random_range(0..LANGUAGES.len())],
        is_verified: audience_size > 1_000_000.0 && rng.random_bool(0.7),
        email: has_contact.then(|| format!("{first}.{last}{id}@creators.example")),
        phone: has_contact.then(|| format!("+91 9{:09}", rng.random_range(0..1_000_000_000u64))),
        audience: format!(
            "{{\"gender\":{{\"male\":{male},\"female\":{}}},\"age\":{{\"13-17\":8,\"18-24\":41,\"25-34\":33,\"35+\":18}}}}",
            100 - male
        ),
        start_followers: audience_size,
        daily_growth: Normal::new(0.0012, 0.0015).expect("valid").sample(&mut rng),
        volatility: rng.random_range(0.0005..0.004),
        base_er: (0.09 * (audience_size / 1_000.0).powf(-0.22)).clamp(0.004, 0.15),
    }
}

/// The profile's daily history over the configured window.
pub fn days(cfg: &GenConfig, p: &Profile) -> impl Iterator<Item = Day> {
    let mut rng = rng_for(cfg.seed, p.platform, p.id, 2);
    let noise = Normal::new(0.0, p.volatility).expect("valid");
    let start = cfg.start_date();
    let mut followers = p.start_followers;
    let mut posts = rng.random_range(50..2_000_u32);
    let following = rng.random_range(100..2_000_u64);
    let p = p.clone();
    (0..cfg.days).map(move |d| {
        let mut growth = p.daily_growth + noise.sample(&mut rng);
        if rng.random_bool(0.002) {
            growth += rng.random_range(0.05..0.3); // a post went viral
        }
        followers = (followers * (1.0 + growth)).max(100.0);
        if rng.random_bool(0.4) {
            posts += 1;
        }
        let er = (p.base_er * (1.0 + Normal::new(0.0, 0.08).expect("valid").sample(&mut rng))).max(0.0005);
        let avg_likes = followers * er * 0.92;
        let avg_views = match p.platform {
            Platform::Instagram => followers * rng.random_range(0.15..0.6),
            Platform::Youtube => followers * rng.random_range(0.05..0.4),
        };
        Day {
            date: start + Days::new(u64::from(d)),
            followers: followers.round() as u64,
            following,
            posts,
            engagement_rate: (er * 100.0) as f32,
            avg_likes,
            avg_comments: avg_likes * 0.035,
            avg_views,
        }
    })
}

/// The profile's posts (ids are dense per platform: `(profile_id - 1) * posts_per_profile + n`).
pub fn posts(cfg: &GenConfig, p: &Profile, last: &Day) -> Vec<Post> {
    let mut rng = rng_for(cfg.seed, p.platform, p.id, 3);
    (0..cfg.posts_per_profile)
        .map(|n| {
            let id = (p.id - 1) * u64::from(cfg.posts_per_profile) + u64::from(n) + 1;
            let days_back = rng.random_range(0..u64::from(cfg.days.max(1)));
            let likes = (last.avg_likes * rng.random_range(0.3..2.5)) as u64;
            let (kind, code) = match p.platform {
                Platform::Instagram => (["IMAGE", "CAROUSEL", "REEL"][rng.random_range(0..3)], code(id * 7919 + 3, 11)),
                Platform::Youtube => ("VIDEO", code(id * 7919 + 5, 11)),
            };
            Post {
                id,
                profile_id: p.id,
                code,
                kind,
                posted_on: cfg.end_date - Days::new(days_back),
                likes,
                comments: (likes as f64 * rng.random_range(0.01..0.06)) as u64,
                views: (last.avg_views * rng.random_range(0.3..3.0)) as u64,
            }
        })
        .collect()
}

/// The YouTube channel id for a profile (`UC` + 22 characters).
pub fn channel_id(id: u64) -> String {
    format!("UC{}", code(id.wrapping_mul(2_654_435_761), 22))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GenConfig {
        GenConfig {
            seed: 7,
            profiles_per_platform: 10,
            days: 30,
            end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
            posts_per_profile: 3,
            partners: 2,
            collections_per_partner: 1,
            pg_time_series: false,
        }
    }

    #[test]
    fn same_seed_same_rows_and_sane_values() {
        let c = cfg();
        let a = profile(&c, Platform::Instagram, 3);
        let b = profile(&c, Platform::Instagram, 3);
        assert_eq!(a.handle, b.handle);
        let da: Vec<_> = days(&c, &a).map(|d| d.followers).collect();
        let db: Vec<_> = days(&c, &b).map(|d| d.followers).collect();
        assert_eq!(da, db);
        assert_eq!(da.len(), 30);
        let all: Vec<Day> = days(&c, &a).collect();
        assert_eq!(all[0].date, c.start_date());
        assert_eq!(all[29].date, c.end_date);
        assert!(all.iter().all(|d| d.engagement_rate > 0.0 && d.followers >= 100));
        assert_ne!(profile(&c, Platform::Youtube, 3).handle, a.handle);
        assert!(channel_id(5).len() == 24 && channel_id(5).starts_with("UC"));
    }
}
