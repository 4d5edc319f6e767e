//! The downstream `Authorization` value the gateway hands to modules:
//! `base64(userId~userName~isLoggedIn~accountId:password)`, the wire format the modules' existing
//! clients already read.
//!
//! Parsing splits from the right, so a user name may itself contain `~` or `:`; the password (a
//! client secret) may contain `:` but not `~`, which is what keeps the format unambiguous. Empty
//! ids mean "absent" (an anonymous device session has no user).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct DownstreamAuth {
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub is_logged_in: bool,
    pub account_id: Option<i64>,
    /// The client secret part after `:`; never logged.
    pub password: String,
}

/// Everything but the password, which shows only whether there is one.
impl std::fmt::Debug for DownstreamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownstreamAuth")
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("is_logged_in", &self.is_logged_in)
            .field("account_id", &self.account_id)
            .field("password", &if self.password.is_empty() { "" } else { "[redacted]" })
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownstreamAuthError {
    #[error("Authorization is not valid base64")]
    NotBase64,
    #[error("Authorization is not valid UTF-8")]
    NotUtf8,
    #[error("Authorization must look like userId~userName~isLoggedIn~accountId:password")]
    Shape,
    #[error("Authorization has a non-numeric {0}")]
    NotNumeric(&'static str),
    #[error("Authorization isLoggedIn must be true or false")]
    LoggedInFlag,
}

impl DownstreamAuth {
    /// The header value (plain base64, optionally accepted with a `Basic ` prefix when parsing).
    pub fn encode(&self) -> String {
        let name = self.user_name.as_deref().unwrap_or_default();
        let mut raw = String::with_capacity(48 + name.len() + self.password.len());
        let mut digits = itoa::Buffer::new();
        if let Some(id) = self.user_id {
            raw.push_str(digits.format(id));
        }
        raw.push('~');
        raw.push_str(name);
        raw.push('~');
        raw.push_str(if self.is_logged_in { "true" } else { "false" });
        raw.push('~');
        if let Some(id) = self.account_id {
            raw.push_str(digits.format(id));
        }
        raw.push(':');
        raw.push_str(&self.password);
        STANDARD.encode(raw)
    }

    pub fn decode(value: &str) -> Result<Self, DownstreamAuthError> {
        let value = value.trim();
        let value = value.strip_prefix("Basic ").unwrap_or(value);
        let bytes = STANDARD.decode(value).map_err(|_| DownstreamAuthError::NotBase64)?;
        let text = String::from_utf8(bytes).map_err(|_| DownstreamAuthError::NotUtf8)?;

        let mut from_right = text.rsplitn(3, '~');
        let account_and_password = from_right.next().ok_or(DownstreamAuthError::Shape)?;
        let logged_in = from_right.next().ok_or(DownstreamAuthError::Shape)?;
        let user = from_right.next().ok_or(DownstreamAuthError::Shape)?;
        let (user_id, user_name) = user.split_once('~').ok_or(DownstreamAuthError::Shape)?;
        let (account_id, password) = account_and_password.split_once(':').ok_or(DownstreamAuthError::Shape)?;

        let id = |s: &str, what: &'static str| -> Result<Option<i64>, DownstreamAuthError> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| DownstreamAuthError::NotNumeric(what))
            }
        };
        let is_logged_in = match logged_in {
            "true" => true,
            "false" => false,
            _ => return Err(DownstreamAuthError::LoggedInFlag),
        };
        Ok(Self {
            user_id: id(user_id, "userId")?,
            user_name: (!user_name.is_empty()).then(|| user_name.to_owned()),
            is_logged_in,
            account_id: id(account_id, "accountId")?,
            password: password.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let auth = DownstreamAuth { user_id: Some(1), password: "s3cret-client".into(), ..Default::default() };
        let shown = format!("{auth:?}");
        assert!(!shown.contains("s3cret-client") && shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn round_trips_full_and_anonymous_values() {
        let full = DownstreamAuth {
            user_id: Some(42),
            user_name: Some("ana~maria:x".into()),
            is_logged_in: true,
            account_id: Some(7),
            password: "s3:cr:et".into(),
        };
        assert_eq!(DownstreamAuth::decode(&full.encode()), Ok(full.clone()));
        assert_eq!(DownstreamAuth::decode(&format!("Basic {}", full.encode())), Ok(full));

        let anon = DownstreamAuth::default();
        assert_eq!(STANDARD.decode(anon.encode()).unwrap(), b"~~false~:");
        assert_eq!(DownstreamAuth::decode(&anon.encode()), Ok(anon));
    }

    #[test]
    fn matches_the_original_wire_format() {
        let v = STANDARD.encode("12~priya~true~34:pw");
        let a = DownstreamAuth::decode(&v).unwrap();
        assert_eq!(
            (a.user_id, a.user_name.as_deref(), a.is_logged_in, a.account_id),
            (Some(12), Some("priya"), true, Some(34))
        );
        assert_eq!(a.password, "pw");
    }

    #[test]
    fn rejects_malformed_values() {
        let enc = |s: &str| STANDARD.encode(s);
        assert_eq!(DownstreamAuth::decode("%%%"), Err(DownstreamAuthError::NotBase64));
        assert_eq!(DownstreamAuth::decode(&STANDARD.encode([0xff, 0xfe])), Err(DownstreamAuthError::NotUtf8));
        assert_eq!(DownstreamAuth::decode(&enc("1~a~true")), Err(DownstreamAuthError::Shape));
        assert_eq!(DownstreamAuth::decode(&enc("1~a~true~3")), Err(DownstreamAuthError::Shape));
        assert_eq!(DownstreamAuth::decode(&enc("x~a~true~3:p")), Err(DownstreamAuthError::NotNumeric("userId")));
        assert_eq!(DownstreamAuth::decode(&enc("1~a~true~y:p")), Err(DownstreamAuthError::NotNumeric("accountId")));
        assert_eq!(DownstreamAuth::decode(&enc("1~a~yes~3:p")), Err(DownstreamAuthError::LoggedInFlag));
        assert_eq!(DownstreamAuth::decode(""), Err(DownstreamAuthError::Shape));
    }
}
