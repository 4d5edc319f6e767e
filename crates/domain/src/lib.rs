//! Values every service speaks, as types: the [`Platform`] a creator lives on, their
//! [`Handle`] there, and the [`Id`] of a stored thing in a path. Each is parsed once, where
//! outside input enters (a path, a provider's payload), so code behind that point never sees an
//! invalid one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Instagram,
    Youtube,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Instagram, Platform::Youtube];

    /// The number the time-series tables store (`Enum8('instagram' = 1, 'youtube' = 2)`).
    pub fn code(self) -> i8 {
        match self {
            Self::Instagram => 1,
            Self::Youtube => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instagram => "instagram",
            Self::Youtube => "youtube",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform {0:?} (instagram or youtube)")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Self, UnknownPlatform> {
        match s {
            "instagram" => Ok(Self::Instagram),
            "youtube" => Ok(Self::Youtube),
            other => Err(UnknownPlatform(other.to_owned())),
        }
    }
}

/// For stores that hold the platform as text (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for Platform {
    type Error = UnknownPlatform;

    fn try_from(s: String) -> Result<Self, UnknownPlatform> {
        s.parse()
    }
}

/// A creator's handle on one platform, as the platform allows it: Instagram 1–30 of
/// `A-Z a-z 0-9 . _`; YouTube 3–30 of the same plus `-`. A leading `@` is accepted and
/// dropped. Case is kept as given (platforms compare handles case-insensitively; so do
/// [`Handle::eq_ignore_case`] and the stores' unique indexes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle {
    platform: Platform,
    value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{handle:?} is not a valid {platform} handle: {reason}")]
pub struct InvalidHandle {
    pub platform: Platform,
    pub handle: String,
    pub reason: &'static str,
}

impl Handle {
    pub fn parse(platform: Platform, raw: &str) -> Result<Self, InvalidHandle> {
        let value = raw.strip_prefix('@').unwrap_or(raw);
        let fail = |reason| InvalidHandle { platform, handle: raw.chars().take(64).collect(), reason };
        let (min, max, dash) = match platform {
            Platform::Instagram => (1, 30, false),
            Platform::Youtube => (3, 30, true),
        };
        if value.len() < min || value.len() > max {
            return Err(fail(if platform == Platform::Instagram {
                "must be 1 to 30 characters"
            } else {
                "must be 3 to 30 characters"
            }));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || (dash && c == '-');
        if !value.chars().all(allowed) {
            return Err(fail(if dash {
                "may contain only letters, digits, '.', '_' and '-'"
            } else {
                "may contain only letters, digits, '.' and '_'"
            }));
        }
        Ok(Self { platform, value: value.to_owned() })
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.value.eq_ignore_ascii_case(other.strip_prefix('@').unwrap_or(other))
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A stored thing's id as a path names it: a whole number in canonical decimal, exactly as it
/// is printed. `+1`, `01` and ` 1` are refused with the reason rather than read as 1, so every
/// resource has one URL (caches, logs and rate-limit keys see one spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

/// Why a path segment is not an [`Id`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an id: ids are whole numbers in canonical decimal (no sign, no leading zeros, no spaces)")]
pub struct InvalidId(String);

impl FromStr for Id {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        match s.parse::<i64>() {
            Ok(n) if n.to_string() == s => Ok(Self(n)),
            _ => Err(InvalidId(s.chars().take(40).collect())),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id: a whole number in canonical decimal")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                i64::try_from(v).map(Id).map_err(|_| E::custom("the id is too large"))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_print() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert!("tiktok".parse::<Platform>().unwrap_err().to_string().contains("tiktok"));
    }

    #[test]
    fn handles_follow_each_platforms_rules() {
        assert_eq!(Handle::parse(Platform::Instagram, "@nasa").unwrap().as_str(), "nasa");
        assert!(Handle::parse(Platform::Instagram, "a").is_ok());
        assert!(Handle::parse(Platform::Youtube, "ab").is_err());
        assert!(Handle::parse(Platform::Youtube, "mr-beast").is_ok());
        let err = Handle::parse(Platform::Instagram, "mr-beast").unwrap_err();
        assert!(err.to_string().contains("only letters, digits, '.' and '_'"), "{err}");
        assert!(Handle::parse(Platform::Instagram, &"x".repeat(31)).is_err());
        assert!(Handle::parse(Platform::Instagram, "nasa\u{0}").is_err());
        assert!(Handle::parse(Platform::Instagram, "").is_err());
        assert!(Handle::parse(Platform::Youtube, "MrBeast").unwrap().eq_ignore_case("@mrbeast"));
    }

    #[test]
    fn ids_are_canonical_decimal() {
        assert_eq!("1".parse::<Id>(), Ok(Id(1)));
        assert_eq!("0".parse::<Id>(), Ok(Id(0)));
        assert_eq!("-3".parse::<Id>(), Ok(Id(-3)));
        assert_eq!("9223372036854775807".parse::<Id>(), Ok(Id(i64::MAX)));
        for bad in ["+1", "01", "00", "-0", " 1", "1 ", "1e3", "", "9223372036854775808", "0x1"] {
            let err = bad.parse::<Id>().unwrap_err().to_string();
            assert!(err.contains("canonical decimal"), "{bad}: {err}");
        }
        let id: Id = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(id, Id(42));
        assert!(serde_json::from_str::<Id>("\"042\"").is_err());
    }
}
