//! Loads a generated data set. Postgres: one transaction of COPYs, so a failed load leaves
//! nothing behind. ClickHouse: batched RowBinary inserts; ClickHouse has no transactions, but its
//! tables collapse rows with the same key (ReplacingMergeTree) and its monthly aggregates are
//! duplicate-insensitive, so re-running the same seed after a failure converges to one copy.

use std::fmt::Write as _;

use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::{DateTime, Days, NaiveDate, Utc};
use clickhouse::Row;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::model::{self, GenConfig, Platform, CATEGORIES};
use crate::{DEMO_FREE_EMAIL, DEMO_PASSWORD, DEMO_SAAS_EMAIL};

/// Where to load. Either may be absent (e.g. Postgres-only tests).
pub struct Targets<'a> {
    pub pg: Option<&'a mut PgConnection>,
    pub ch: Option<&'a clickhouse::Client>,
    pub progress: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadReport {
    pub profiles: u64,
    pub posts: u64,
    pub partners: u64,
    pub pg_time_series_rows: u64,
    pub ch_time_series_rows: u64,
    pub ch_post_metric_rows: u64,
}

#[derive(Row, Serialize)]
struct ProfileDayRow<'a> {
    /// [`Platform::code`]
    platform: i8,
    profile_id: u64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: NaiveDate,
    followers: u64,
    following: u64,
    posts: u32,
    engagement_rate: f32,
    avg_likes: f64,
    avg_comments: f64,
    avg_views: f64,
    category: &'a str,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    ingested_at: DateTime<Utc>,
}

#[derive(Row, Serialize)]
struct PostDayRow {
    /// [`Platform::code`]
    platform: i8,
    profile_id: u64,
    post_id: u64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: NaiveDate,
    likes: u64,
    comments: u64,
    views: u64,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    ingested_at: DateTime<Utc>,
}

/// COPY text-format field escaping.
fn field(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn opt(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => field(out, v),
        None => out.push_str("\\N"),
    }
}

struct Copy<'t, 'c> {
    tx: &'t mut Transaction<'c, Postgres>,
}

impl Copy<'_, '_> {
    async fn rows(&mut self, statement: &str, data: &str) -> anyhow::Result<()> {
        let mut copy = self.tx.copy_in_raw(statement).await?;
        for chunk in data.as_bytes().chunks(1 << 20) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}

fn bar(enabled: bool, len: u64, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {human_pos}/{human_len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Loads the data set into the given targets. Postgres must not already hold generated rows.
pub async fn load(cfg: &GenConfig, targets: Targets<'_>) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport { profiles: 2 * cfg.profiles_per_platform, ..LoadReport::default() };
    if let Some(ch) = targets.ch {
        load_clickhouse(cfg, ch, targets.progress, &mut report).await?;
    }
    if let Some(pg) = targets.pg {
        load_postgres(cfg, pg, targets.progress, &mut report).await?;
    }
    Ok(report)
}

fn ingested_at(cfg: &GenConfig) -> DateTime<Utc> {
    (cfg.end_date + Days::new(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

async fn load_clickhouse(
    cfg: &GenConfig,
    ch: &clickhouse::Client,
    progress: bool,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    const BATCH: u64 = 500_000;
    let at = ingested_at(cfg);
    let pb = bar(progress, cfg.time_series_rows(), "clickhouse profile days");
    let mut insert = ch.insert::<ProfileDayRow>("social_profile_time_series").await?;
    let mut in_batch = 0;
    let mut post_rows: Vec<PostDayRow> = Vec::new();
    for platform in Platform::ALL {
        for id in 1..=cfg.profiles_per_platform {
            let p = model::profile(cfg, platform, id);
            let mut last = None;
            for d in model::days(cfg, &p) {
                insert
                    .write(&ProfileDayRow {
                        platform: platform.code(),
                        profile_id: id,
                        date: d.date,
                        followers: d.followers,
                        following: d.following,
                        posts: d.posts,
                        engagement_rate: d.engagement_rate,
                        avg_likes: d.avg_likes,
                        avg_comments: d.avg_comments,
                        avg_views: d.avg_views,
                        category: p.category,
                        ingested_at: at,
                    })
                    .await?;
                last = Some(d);
                in_batch += 1;
                report.ch_time_series_rows += 1;
            }
            pb.inc(u64::from(cfg.days));
            if in_batch >= BATCH {
                insert.end().await?;
                insert = ch.insert::<ProfileDayRow>("social_profile_time_series").await?;
                in_batch = 0;
            }
            if let Some(last) = last {
                post_rows.extend(post_days(cfg, &p, &last, at));
            }
        }
    }
    insert.end().await?;
    pb.finish_and_clear();

    let pb = bar(progress, post_rows.len() as u64, "clickhouse post days");
    for chunk in post_rows.chunks(BATCH as usize) {
        let mut insert = ch.insert::<PostDayRow>("post_metrics_time_series").await?;
        for row in chunk {
            insert.write(row).await?;
        }
        insert.end().await?;
        pb.inc(chunk.len() as u64);
        report.ch_post_metric_rows += chunk.len() as u64;
    }
    pb.finish_and_clear();
    Ok(())
}

/// Up to 30 days of counters per post, growing towards the post's current values.
fn post_days(cfg: &GenConfig, p: &model::Profile, last: &model::Day, at: DateTime<Utc>) -> Vec<PostDayRow> {
    let mut rows = Vec::new();
    for post in model::posts(cfg, p, last) {
        let span = (cfg.end_date - post.posted_on).num_days().clamp(0, 29) as u64 + 1;
        for k in 0..span {
            let share = ((k + 1) as f64 / span as f64).sqrt();
            rows.push(PostDayRow {
                platform: p.platform.code(),
                profile_id: p.id,
                post_id: post.id,
                date: cfg.end_date - Days::new(span - 1 - k),
                likes: (post.likes as f64 * share) as u64,
                comments: (post.comments as f64 * share) as u64,
                views: (post.views as f64 * share) as u64,
                ingested_at: at,
            });
        }
    }
    rows
}

async fn load_postgres(
    cfg: &GenConfig,
    pg: &mut PgConnection,
    progress: bool,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    let existing: i64 =
        sqlx::query_scalar("SELECT (SELECT count(*) FROM partner) + (SELECT count(*) FROM instagram_account)")
            .fetch_one(&mut *pg)
            .await?;
    anyhow::ensure!(
        existing == 0,
        "the Postgres database already holds partners or profiles; load into an empty database"
    );

    let mut tx = sqlx::Connection::begin(&mut *pg).await?;
    for (slug, name) in CATEGORIES {
        sqlx::query("INSERT INTO category (slug, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(slug)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    let mut copy = Copy { tx: &mut tx };

    // profiles and posts
    let pb = bar(progress, report.profiles, "postgres profiles");
    let (mut ig, mut yt, mut ig_posts, mut yt_videos) = (String::new(), String::new(), String::new(), String::new());
    for platform in Platform::ALL {
        for id in 1..=cfg.profiles_per_platform {
            let p = model::profile(cfg, platform, id);
            let Some(last) = model::days(cfg, &p).last() else { continue };
            let scraped = cfg.end_date.and_hms_opt(6, 0, 0).expect("time").and_utc().to_rfc3339();
            let common = |out: &mut String| {
                let _ = write!(out, "\t{}\t{}\t{}", p.category, p.country, p.language);
            };
            match platform {
                Platform::Instagram => {
                    let _ = write!(ig, "{id}\t{}\t", 17_000_000_000 + id);
                    field(&mut ig, &p.handle);
                    ig.push('\t');
                    field(&mut ig, &p.name);
                    common(&mut ig);
                    let _ = write!(
                        ig,
                        "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
                        last.followers,
                        last.following,
                        last.posts,
                        last.engagement_rate,
                        last.avg_likes,
                        last.avg_comments,
                        last.avg_views,
                        p.is_verified
                    );
                    opt(&mut ig, p.email.as_deref());
                    ig.push('\t');
                    opt(&mut ig, p.phone.as_deref());
                    ig.push('\t');
                    field(&mut ig, &p.audience);
                    let _ = writeln!(ig, "\t{scraped}");
                }
                Platform::Youtube => {
                    let _ = write!(yt, "{id}\t{}\t", model::channel_id(id));
                    field(&mut yt, &p.handle.replace('.', "-"));
                    yt.push('\t');
                    field(&mut yt, &p.name);
                    common(&mut yt);
                    let _ = write!(
                        yt,
                        "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
                        last.followers,
                        (last.avg_views * f64::from(last.posts)) as u64,
                        last.posts,
                        last.engagement_rate,
                        last.avg_views,
                        last.avg_likes,
                        last.avg_comments
                    );
                    opt(&mut yt, p.email.as_deref());
                    yt.push('\t');
                    opt(&mut yt, p.phone.as_deref());
                    yt.push('\t');
                    field(&mut yt, &p.audience);
                    let _ = writeln!(yt, "\t{scraped}");
                }
            }
            for post in model::posts(cfg, &p, &last) {
                let posted = post.posted_on.and_hms_opt(12, 0, 0).expect("time").and_utc().to_rfc3339();
                match platform {
                    Platform::Instagram => {
                        let _ = writeln!(
                            ig_posts,
                            "{}\t{}\t{}\t{}\t{posted}\t{}\t{}\t{}",
                            post.id, post.code, post.profile_id, post.kind, post.likes, post.comments, post.views
                        );
                    }
                    Platform::Youtube => {
                        let _ = writeln!(
                            yt_videos,
                            "{}\t{}\t{}\t{posted}\t{}\t{}\t{}",
                            post.id, post.code, post.profile_id, post.views, post.likes, post.comments
                        );
                    }
                }
                report.posts += 1;
            }
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    copy.rows(
        "COPY instagram_account (id, ig_id, handle, full_name, category, country, language, followers, following, posts_count, \
         engagement_rate, avg_likes, avg_comments, avg_reel_views, is_verified, email, phone, audience_demographics, last_scraped_at) FROM STDIN",
        &ig,
    )
    .await?;
    copy.rows(
        "COPY youtube_account (id, channel_id, handle, title, category, country, language, subscribers, total_views, videos_count, \
         engagement_rate, avg_views, avg_likes, avg_comments, email, phone, audience_demographics, last_scraped_at) FROM STDIN",
        &yt,
    )
    .await?;
    copy.rows(
        "COPY instagram_post (id, shortcode, account_id, post_type, posted_at, likes, comments, views) FROM STDIN",
        &ig_posts,
    )
    .await?;
    copy.rows(
        "COPY youtube_video (id, video_id, account_id, published_at, views, likes, comments) FROM STDIN",
        &yt_videos,
    )
    .await?;

    load_partners(cfg, &mut tx, report).await?;

    if cfg.pg_time_series {
        let pb = bar(progress, cfg.time_series_rows(), "postgres profile days");
        for platform in Platform::ALL {
            let mut buf = String::with_capacity(8 << 20);
            let statement =
                "COPY social_profile_time_series (platform, profile_id, date, followers, following, posts, \
                             engagement_rate, avg_likes, avg_comments, avg_views, category) FROM STDIN";
            let mut copy_in = tx.copy_in_raw(statement).await?;
            for id in 1..=cfg.profiles_per_platform {
                let p = model::profile(cfg, platform, id);
                for d in model::days(cfg, &p) {
                    let _ = writeln!(
                        buf,
                        "{}\t{id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        platform.as_str(),
                        d.date,
                        d.followers,
                        d.following,
                        d.posts,
                        d.engagement_rate,
                        d.avg_likes,
                        d.avg_comments,
                        d.avg_views,
                        p.category
                    );
                    report.pg_time_series_rows += 1;
                }
                if buf.len() > (4 << 20) {
                    copy_in.send(buf.as_bytes()).await?;
                    buf.clear();
                }
                pb.inc(u64::from(cfg.days));
            }
            copy_in.send(buf.as_bytes()).await?;
            copy_in.finish().await?;
        }
        pb.finish_and_clear();
    }

    for table in [
        "instagram_account",
        "youtube_account",
        "instagram_post",
        "youtube_video",
        "partner",
        "partner_contract",
        "account",
        "users",
        "profile_collection",
        "profile_collection_item",
        "post_collection",
        "post_collection_item",
    ] {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Partners 1 (demo-agency, SAAS) and 2 (free-brand, no SAAS contract: FREE) have the documented
/// logins; the rest alternate plans. Each has one team, one user, collections and a post collection.
async fn load_partners(
    cfg: &GenConfig,
    tx: &mut Transaction<'_, Postgres>,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xfeed);
    let salt = SaltString::encode_b64(&cfg.seed.to_le_bytes().repeat(2)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password(DEMO_PASSWORD.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string();
    let today = cfg.end_date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let (mut collection_id, mut item_id) = (0_i64, 0_i64);
    for n in 1..=i64::from(cfg.partners) {
        let (name, slug, email) = match n {
            1 => ("Demo Agency".to_owned(), "demo-agency".to_owned(), DEMO_SAAS_EMAIL.to_owned()),
            2 => ("Free Brand".to_owned(), "free-brand".to_owned(), DEMO_FREE_EMAIL.to_owned()),
            _ => (format!("Partner {n}"), format!("partner-{n}"), format!("user{n}@partner{n}.example")),
        };
        sqlx::query("INSERT INTO partner (id, name, slug) VALUES ($1, $2, $3)")
            .bind(n)
            .bind(&name)
            .bind(&slug)
            .execute(&mut **tx)
            .await?;
        let plan = match n {
            2 => None,
            n if n % 3 == 0 => Some("PAID"),
            _ => Some("SAAS"),
        };
        if let Some(plan) = plan {
            sqlx::query(
                "INSERT INTO partner_contract (partner_id, contract_type, plan, start_date, end_date, monthly_profile_view_quota) \
                 VALUES ($1, 'SAAS', $2, $3, $4, NULL)",
            )
            .bind(n)
            .bind(plan)
            .bind(today - chrono::Duration::days(180))
            .bind(today + chrono::Duration::days(3650))
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("INSERT INTO account (id, partner_id, name) VALUES ($1, $1, 'Main team')")
            .bind(n)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO users (id, partner_id, account_id, email, name, password_hash) VALUES ($1, $1, $1, $2, $3, $4)")
            .bind(n)
            .bind(&email)
            .bind(format!("{name} Admin"))
            .bind(&hash)
            .execute(&mut **tx)
            .await?;

        for c in 0..cfg.collections_per_partner {
            collection_id += 1;
            sqlx::query("INSERT INTO profile_collection (id, partner_id, created_by, name) VALUES ($1, $2, $2, $3)")
                .bind(collection_id)
                .bind(n)
                .bind(format!("Shortlist {}", c + 1))
                .execute(&mut **tx)
                .await?;
            let mut chosen = std::collections::BTreeSet::new();
            while chosen.len() < 10.min(cfg.profiles_per_platform as usize * 2) {
                chosen.insert((rng.random_bool(0.5), rng.random_range(1..=cfg.profiles_per_platform as i64)));
            }
            for (is_ig, pid) in chosen {
                item_id += 1;
                let (platform, ig, yt) =
                    if is_ig { ("instagram", Some(pid), None) } else { ("youtube", None, Some(pid)) };
                sqlx::query(
                    "INSERT INTO profile_collection_item (id, collection_id, platform, instagram_account_id, youtube_account_id, added_by) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(item_id)
                .bind(collection_id)
                .bind(platform)
                .bind(ig)
                .bind(yt)
                .bind(n)
                .execute(&mut **tx)
                .await?;
            }
        }
        if cfg.posts_per_profile > 0 {
            sqlx::query(
                "INSERT INTO post_collection (id, partner_id, created_by, name) VALUES ($1, $1, $1, 'Campaign posts')",
            )
            .bind(n)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO post_collection_item (collection_id, platform, instagram_post_id) \
                 SELECT $1, 'instagram', id FROM instagram_post ORDER BY id OFFSET $2 LIMIT 5",
            )
            .bind(n)
            .bind((n - 1) * 5)
            .execute(&mut **tx)
            .await?;
        }
        report.partners += 1;
    }
    Ok(())
}
