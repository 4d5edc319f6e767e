//! Small types every module speaks: the platform, a page of results, and the values requests
//! carry that have rules of their own (a month, a category slug, a collection name). Those are
//! parsed where the request is read (`Json`, `Query`, `Path`), so a handler holds a month, never
//! a string that may or may not be one, and a bad value is refused at the edge with a problem
//! naming the field (422 in a body, 400 in a query).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The workspace's one platform type and handle (the `domain` crate).
pub use domain::{Handle, Id, Platform};

/// One page of a list, with the total number of matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub size: u32,
}

/// A calendar month, `YYYY-MM` (e.g. `2026-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Month(NaiveDate);

impl Month {
    /// The month's first day.
    pub fn first_day(self) -> NaiveDate {
        self.0
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        let b = value.as_bytes();
        let well_formed =
            b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
        well_formed
            .then(|| NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").ok())
            .flatten()
            .map(Self)
            .ok_or_else(|| format!("{value:?} is not a month like 2026-01"))
    }
}

impl TryFrom<String> for Month {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        value.parse()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

/// A category slug (e.g. `fashion`): 1 to 63 lowercase letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CategorySlug(String);

impl CategorySlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CategorySlug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let valid = (1..=63).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if valid {
            Ok(Self(value))
        } else {
            Err(format!("{value:?} is not a category slug (1 to 63 lowercase letters, digits, - and _)"))
        }
    }
}

/// A collection's name: trimmed of surrounding whitespace, then 1 to 200 characters, none of
/// them NUL (which Postgres cannot store).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CollectionName(String);

impl CollectionName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CollectionName {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, &'static str> {
        let name = value.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err("a name is 1 to 200 characters (surrounding spaces do not count)");
        }
        if name.contains('\0') {
            return Err("a name may not contain NUL characters");
        }
        Ok(Self(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_yyyy_mm_and_nothing_else() {
        assert_eq!("2026-01".parse::<Month>().unwrap().first_day(), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!("2026-10".parse::<Month>().unwrap().to_string(), "2026-10");
        for bad in ["2026-13", "2026-1", "October", "", "2026-01-01", "+2026-01", "+202-01", "2026/01"] {
            assert!(bad.parse::<Month>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn category_slugs_and_collection_names_are_checked_once() {
        assert!(CategorySlug::try_from("food_drink-2".to_owned()).is_ok());
        for bad in ["", "Fashion", "fashion'--", &"a".repeat(64)] {
            assert!(CategorySlug::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
        assert_eq!(CollectionName::try_from("  Summer  ".to_owned()).unwrap().as_str(), "Summer");
        for bad in ["", "   ", "a\0b", &"n".repeat(201)] {
            assert!(CollectionName::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
        assert!(CollectionName::try_from("é".repeat(200)).is_ok(), "characters, not bytes");
    }
}
