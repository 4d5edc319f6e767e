//! Partner API keys: the format, the stored hash, and the contract between coffee (which issues,
//! verifies and revokes keys) and the gateway (which checks them on every request).
//!
//! **Format.** `bb_live_` + 32 random base62 characters (190 bits) + a 6-character base62
//! checksum of those 32. The fixed prefix lets secret scanners recognise a leaked key; the
//! checksum lets the edge refuse a mistyped or truncated key without asking any store, and lets
//! a scanner tell a real key from look-alike text.
//!
//! **Stored hash.** Only SHA-256 of the whole key is stored (Postgres, Redis, the gateway's
//! memory). A keyed hash or a password hash buys nothing for a secret like this one: keying
//! (a pepper) and argon2's deliberate slowness both exist to stop offline guessing of
//! low-entropy secrets, and nobody guesses 190 random bits. argon2 would also put tens of
//! milliseconds of CPU on every cache miss, and a pepper would be one more secret the gateway
//! and coffee must share forever (rotating it would void every key). crates.io and GitHub
//! store their tokens the same way.
//!
//! **Secrecy.** [`ApiKey`] has no `Display`, its `Debug` shows the prefix only, and the secret
//! leaves it only through [`ApiKey::expose`], called once where a new key is shown to its
//! owner. Checks against a stored hash are constant-time ([`KeyHash::matches`]).

use chrono::{DateTime, Utc};
use http::Method;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// What every key starts with.
pub const KEY_PREFIX: &str = "bb_live_";
const SECRET_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// A key's length: prefix, secret, checksum.
pub const KEY_LEN: usize = KEY_PREFIX.len() + SECRET_LEN + CHECKSUM_LEN;
/// How much of a key is shown when keys are listed (the prefix and 4 random characters): enough
/// to tell keys apart, far too little to guess the rest.
const SHOWN_LEN: usize = KEY_PREFIX.len() + 4;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a usable key, before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    /// Not shaped like a key at all (wrong prefix, length or characters).
    #[error("the API key is malformed")]
    Malformed,
    /// Shaped like a key, but its checksum does not match: mistyped or truncated.
    #[error("the API key's checksum does not match (mistyped?)")]
    Checksum,
}

/// A well-formed API key (prefix, length, alphabet and checksum checked), with its hash
/// computed once. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    text: String,
    hash: KeyHash,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}…)", self.shown())
    }
}

fn checksum(secret: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(secret);
    let mut n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = [b'0'; CHECKSUM_LEN];
    // 62^6 > 2^32: six digits hold any u32
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

impl ApiKey {
    /// A new random key (the thread's CSPRNG, reseeded from the OS).
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let secret: Vec<u8> = (0..SECRET_LEN).map(|_| BASE62[rng.random_range(0..BASE62.len())]).collect();
        let mut key = String::with_capacity(KEY_LEN);
        key.push_str(KEY_PREFIX);
        key.extend(secret.iter().map(|&b| b as char));
        key.extend(checksum(&secret).iter().map(|&b| b as char));
        Self::from_valid(key)
    }

    fn from_valid(text: String) -> Self {
        let hash = KeyHash(Sha256::digest(text.as_bytes()).into());
        Self { text, hash }
    }

    /// Whether `text` claims to be an API key (its prefix): such a credential is checked as a
    /// key, and refused as one if it is not a valid key.
    pub fn looks_like(text: &str) -> bool {
        text.starts_with(KEY_PREFIX)
    }

    /// Parses a key: shape, then checksum (constant-time), without any lookup.
    pub fn parse(text: &str) -> Result<Self, KeyFormatError> {
        let bytes = text.as_bytes();
        if bytes.len() != KEY_LEN || !text.starts_with(KEY_PREFIX) {
            return Err(KeyFormatError::Malformed);
        }
        let body = &bytes[KEY_PREFIX.len()..];
        if !body.iter().all(u8::is_ascii_alphanumeric) {
            return Err(KeyFormatError::Malformed);
        }
        let (secret, sum) = body.split_at(SECRET_LEN);
        if !bool::from(checksum(secret).ct_eq(sum)) {
            return Err(KeyFormatError::Checksum);
        }
        Ok(Self::from_valid(text.to_owned()))
    }

    /// The key's hash, as stored and cached.
    pub fn hash(&self) -> KeyHash {
        self.hash
    }

    /// The part of the key shown in listings (`bb_live_` and 4 characters).
    pub fn shown(&self) -> &str {
        &self.text[..SHOWN_LEN]
    }

    /// The secret itself: only to show a new key to its owner, once (and to send it to the
    /// key check).
    pub fn expose(&self) -> &str {
        &self.text
    }
}

/// SHA-256 of a key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({}…)", &self.hex()[..8])
    }
}

impl KeyHash {
    /// Lowercase hex, as stored in Postgres and in Redis keys.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form (an invalidation message's payload).
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    /// The first 128 bits: the in-process cache key (collisions among keys need 2^64 keys).
    pub fn short(&self) -> u128 {
        let mut half = [0u8; 16];
        half.copy_from_slice(&self.0[..16]);
        u128::from_be_bytes(half)
    }

    /// Whether `hex` (a stored hash) is this hash, in constant time.
    pub fn matches(&self, hex: &str) -> bool {
        Self::from_hex(hex).is_some_and(|other| bool::from(self.0.ct_eq(&other.0)))
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Reads only: GET, HEAD and OPTIONS.
    Read,
    /// Reads and writes.
    ReadWrite,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    /// Whether a request with `method` is within this scope.
    pub fn permits(self, method: &Method) -> bool {
        match self {
            Self::ReadWrite => true,
            Self::Read => matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS),
        }
    }
}

impl std::str::FromStr for KeyScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "read_write" => Ok(Self::ReadWrite),
            other => Err(format!("unknown scope {other:?}: expected read or read_write")),
        }
    }
}

/// The client type the edge injects for a key's requests (`x-bb-client-type`).
pub const API_CLIENT_TYPE: &str = "api";

/// A live key, as coffee's verify answers and Redis caches it: who it acts for, and its limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub key_id: i64,
    /// The key's public client id (`x-bb-client-id` of its requests).
    pub client_id: String,
    pub partner_id: i64,
    /// The user who created the key (its requests are made in that user's name), if still there.
    pub user_id: Option<i64>,
    pub name: String,
    pub scope: KeyScope,
    pub expires_at: Option<DateTime<Utc>>,
    /// The key's hash (hex): a cached value is only used for the key it was cached under.
    pub key_hash: String,
}

/// What coffee's key check answers for a presented key: live (with what it may do), or why not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KeyVerdict {
    Live(ApiKeyInfo),
    /// Not shaped like a key.
    Malformed,
    /// Shaped like a key, but its checksum does not match.
    Mistyped,
    /// No such key.
    Unknown,
    Revoked,
    Expired,
    /// The key's partner is suspended or closed.
    PartnerInactive,
}

impl From<KeyFormatError> for KeyVerdict {
    fn from(e: KeyFormatError) -> Self {
        match e {
            KeyFormatError::Malformed => Self::Malformed,
            KeyFormatError::Checksum => Self::Mistyped,
        }
    }
}

/// The Redis key of a live key's cached [`ApiKeyInfo`]: `{prefix}apikey:{<hash>}`, hash-tagged
/// like a session so it shares a slot with its tombstone ([`api_key_revoked_key`]).
pub fn api_key_key(prefix: &str, hash: &KeyHash) -> String {
    format!("{prefix}apikey:{{{}}}", hash.hex())
}

/// The tombstone a revocation leaves: while it exists no verify may cache the key again.
pub fn api_key_revoked_key(prefix: &str, hash: &KeyHash) -> String {
    format!("{prefix}apikey-revoked:{{{}}}", hash.hex())
}

/// How a key's revocation is announced on the invalidation channel (session ids are UUIDs, so
/// the two kinds of message cannot be confused).
pub fn api_key_invalidation(hash: &KeyHash) -> String {
    format!("apikey:{}", hash.hex())
}

/// The key hash a message on the invalidation channel names, if it names one.
pub fn api_key_of_invalidation(message: &str) -> Option<KeyHash> {
    message.strip_prefix("apikey:").and_then(KeyHash::from_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), KEY_LEN);
        assert_eq!(ApiKey::parse(a.expose()), Ok(a.clone()));
        assert!(ApiKey::looks_like(a.expose()));
        assert!(a.shown().starts_with(KEY_PREFIX) && a.shown().len() == 12);
        assert!(!format!("{a:?}").contains(&a.expose()[12..]), "Debug must not print the secret");
    }

    #[test]
    fn a_mistyped_key_fails_its_checksum_without_a_lookup() {
        let key = ApiKey::generate();
        let text = key.expose();
        // change one character of the secret
        let pos = KEY_PREFIX.len() + 5;
        let swapped = if &text[pos..=pos] == "a" { "b" } else { "a" };
        let typo = format!("{}{swapped}{}", &text[..pos], &text[pos + 1..]);
        assert_eq!(ApiKey::parse(&typo), Err(KeyFormatError::Checksum));
        assert_eq!(ApiKey::parse(&text[..KEY_LEN - 1]), Err(KeyFormatError::Malformed));
        assert_eq!(ApiKey::parse(&format!("{text}x")), Err(KeyFormatError::Malformed));
        assert_eq!(ApiKey::parse(&text.replace("bb_live_", "bb_test_")), Err(KeyFormatError::Malformed));
        let odd = format!("{}-{}", &text[..pos], &text[pos + 1..]);
        assert_eq!(ApiKey::parse(&odd), Err(KeyFormatError::Malformed));
    }

    #[test]
    fn hashes_round_trip_and_compare() {
        let key = ApiKey::generate();
        let hash = key.hash();
        assert_eq!(KeyHash::from_hex(&hash.hex()), Some(hash));
        assert!(hash.matches(&hash.hex()));
        assert!(!hash.matches(&ApiKey::generate().hash().hex()));
        assert!(!hash.matches("zz"));
        assert_eq!(api_key_of_invalidation(&api_key_invalidation(&hash)), Some(hash));
        assert_eq!(api_key_of_invalidation("5f0c6a3e-0000-4000-8000-000000000000"), None);
        assert_eq!(api_key_key("t:", &hash), format!("t:apikey:{{{}}}", hash.hex()));
    }

    #[test]
    fn scopes() {
        assert!(KeyScope::Read.permits(&Method::GET));
        assert!(!KeyScope::Read.permits(&Method::POST));
        assert!(!KeyScope::Read.permits(&Method::DELETE));
        assert!(KeyScope::ReadWrite.permits(&Method::PATCH));
        assert_eq!("read_write".parse(), Ok(KeyScope::ReadWrite));
        assert!("admin".parse::<KeyScope>().is_err());
    }
}
