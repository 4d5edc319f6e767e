//! The dev stack's demo data: a small generated set (once; later runs keep what is there).

use sqlx::Connection;

use crate::profile::{StackInfo, PG_APP_DATABASE};

pub const DEMO_PROFILES: u64 = 200;
pub const DEMO_DAYS: u32 = 180;

pub struct Demo {
    pub summary: String,
    pub service_env: Vec<(String, String)>,
}

pub async fn load(info: &StackInfo) -> anyhow::Result<Demo> {
    let mut pg = sqlx::PgConnection::connect(&info.pg_url(PG_APP_DATABASE)).await?;
    let loaded: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM partner WHERE slug = 'demo-agency')")
        .fetch_one(&mut pg)
        .await?;
    let ch = info.ch_database_client();
    // the services' ClickHouse database may be new beside loaded Postgres data (the sharded one)
    let ch_rows: u64 = ch.query("SELECT count() FROM social_profile_time_series").fetch_one().await?;
    if !loaded || ch_rows == 0 {
        let cfg = datagen::GenConfig {
            seed: 42,
            profiles_per_platform: DEMO_PROFILES,
            days: DEMO_DAYS,
            end_date: chrono_yesterday(),
            posts_per_profile: 10,
            partners: 5,
            collections_per_partner: 2,
            pg_time_series: true,
        };
        let pg = if loaded { None } else { Some(&mut pg) };
        datagen::load(&cfg, datagen::Targets { pg, ch: Some(&ch), progress: true }).await?;
    }
    seed_simulator_credentials(&mut pg).await?;
    let mut service_env = vec![
        ("HMAC_SECRET".to_owned(), secret(info, "hmac_secret")?),
        ("TENANT_SIGNING_SECRET".to_owned(), secret(info, "tenant_signing_secret")?),
    ];
    for (source, _) in SIMULATED_SOURCES {
        let var = format!("SOURCE_URL_{}", source.to_ascii_uppercase().replace('-', "_"));
        service_env.push((var, format!("http://127.0.0.1:{}/{source}", crate::services::SIMULATOR_PORT)));
    }
    Ok(Demo {
        summary: format!(
            "demo data: {DEMO_PROFILES} instagram + {DEMO_PROFILES} youtube profiles, {DEMO_DAYS} days each.\n\
             demo logins (password `{pw}`): {saas} (partner demo-agency, SAAS plan), {free} (partner free-brand, FREE plan)",
            pw = datagen::DEMO_PASSWORD,
            saas = datagen::DEMO_SAAS_EMAIL,
            free = datagen::DEMO_FREE_EMAIL,
        ),
        service_env,
    })
}

/// beat's sources in the dev stack, all served by the provider simulator, with a key each.
const SIMULATED_SOURCES: [(&str, &str); 7] = [
    ("insta-best-performance", "instagram"),
    ("arraybobo", "instagram"),
    ("rocketapi", "instagram"),
    ("graphapi", "instagram"),
    ("youtube138", "youtube"),
    ("youtubev31", "youtube"),
    ("youtube-data-api", "youtube"),
];

/// Two keys per simulated source (the simulator accepts any non-empty key), so the demo shows
/// credential rotation; beat fills in each source's limits itself.
async fn seed_simulator_credentials(pg: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    for (source, platform) in SIMULATED_SOURCES {
        sqlx::query(
            "INSERT INTO scrape_source (source, platform, requests, per_seconds) VALUES ($1, $2, 100, 1)
             ON CONFLICT (source) DO NOTHING",
        )
        .bind(source)
        .bind(platform)
        .execute(&mut *pg)
        .await?;
        for n in 1..=2 {
            let key = if source == "graphapi" {
                format!("1784140000000000{n}:simulator-token-{n}")
            } else {
                format!("simulator-key-{n}")
            };
            sqlx::query("INSERT INTO credential (source, key) VALUES ($1, $2) ON CONFLICT (source, key) DO NOTHING")
                .bind(source)
                .bind(key)
                .execute(&mut *pg)
                .await?;
        }
    }
    Ok(())
}

/// One of the dev stack's keys (the token key, the tenant-signing key): 32 random bytes, base64,
/// made once and kept (mode 0600) in the state folder so sessions survive restarts. Never a
/// constant in the repository.
fn secret(info: &StackInfo, name: &str) -> anyhow::Result<String> {
    use base64::Engine;
    use std::os::unix::fs::PermissionsExt;
    let path = info.profile.state_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    let key: [u8; 32] = rand::random();
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    std::fs::write(&path, &encoded)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(encoded)
}

fn chrono_yesterday() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive().pred_opt().expect("a yesterday")
}
