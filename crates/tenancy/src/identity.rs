//! [`TenantIdentity`]: the trusted headers parsed into types, and written back out.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::{DownstreamAuth, DownstreamAuthError};
use crate::headers::{ACCOUNT_ID, AUTHORIZATION, CLIENT_ID, CLIENT_TYPE, DEVICE_ID, PARTNER_ID, PLAN_TYPE};
use crate::plan::PlanType;

/// Everything a module knows about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TenantIdentity {
    pub partner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub plan_type: Option<PlanType>,
    pub device_id: Option<String>,
    pub client_id: Option<String>,
    pub client_type: Option<String>,
    /// Decoded downstream `Authorization`, when present.
    pub auth: Option<DownstreamAuth>,
}

/// A tenant header that is present but malformed. The message names the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenancyError {
    #[error("header {header} is not valid: {reason}")]
    Invalid { header: &'static str, reason: String },
    #[error("header {header} appears more than once")]
    Repeated { header: &'static str },
    #[error(transparent)]
    Authorization(#[from] DownstreamAuthError),
}

fn one<'a>(headers: &'a HeaderMap, name: &HeaderName, label: &'static str) -> Result<Option<&'a str>, TenancyError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(TenancyError::Repeated { header: label });
    }
    let text =
        first.to_str().map_err(|_| TenancyError::Invalid { header: label, reason: "not visible ASCII".into() })?.trim();
    Ok((!text.is_empty()).then_some(text))
}

fn positive_id(headers: &HeaderMap, name: &HeaderName, label: &'static str) -> Result<Option<i64>, TenancyError> {
    one(headers, name, label)?
        .map(|v| match v.parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => {
                Err(TenancyError::Invalid { header: label, reason: format!("expected a positive integer, got {v:?}") })
            }
        })
        .transpose()
}

fn token(headers: &HeaderMap, name: &HeaderName, label: &'static str) -> Result<Option<String>, TenancyError> {
    one(headers, name, label)?
        .map(|v| {
            if v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')) {
                Ok(v.to_owned())
            } else {
                Err(TenancyError::Invalid { header: label, reason: "expected at most 128 of [A-Za-z0-9-_.:]".into() })
            }
        })
        .transpose()
}

impl TenantIdentity {
    /// Parses the trusted headers. Absent headers are `None`; present but malformed ones are errors.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, TenancyError> {
        let plan_type = one(headers, &PLAN_TYPE, "x-bb-plan-type")?
            .map(|v| v.parse::<PlanType>())
            .transpose()
            .map_err(|e| TenancyError::Invalid { header: "x-bb-plan-type", reason: e.to_string() })?;
        let auth = one(headers, &AUTHORIZATION, "authorization")?.map(DownstreamAuth::decode).transpose()?;
        Ok(Self {
            partner_id: positive_id(headers, &PARTNER_ID, "x-bb-partner-id")?,
            account_id: positive_id(headers, &ACCOUNT_ID, "x-bb-account-id")?,
            plan_type,
            auth,
            ..Self::client_from_headers(headers)?
        })
    }

    /// Only what describes the client (device, client id and type), the part of the identity a
    /// caller may state about itself; the rest stays empty.
    pub fn client_from_headers(headers: &HeaderMap) -> Result<Self, TenancyError> {
        Ok(Self {
            device_id: token(headers, &DEVICE_ID, "x-bb-device-id")?,
            client_id: token(headers, &CLIENT_ID, "x-bb-client-id")?,
            client_type: token(headers, &CLIENT_TYPE, "x-bb-client-type")?,
            ..Self::default()
        })
    }

    /// Sets every tenant header this identity has and removes those it has not. Runs on every
    /// proxied request, so the values are built without formatting machinery.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        fn set(headers: &mut HeaderMap, name: HeaderName, value: Option<HeaderValue>) {
            match value {
                Some(v) => {
                    headers.insert(name, v);
                }
                None => {
                    headers.remove(name);
                }
            }
        }
        let text = |v: &Option<String>| v.as_deref().and_then(|v| HeaderValue::from_str(v).ok());
        set(headers, PARTNER_ID, self.partner_id.map(HeaderValue::from));
        set(headers, ACCOUNT_ID, self.account_id.map(HeaderValue::from));
        set(headers, PLAN_TYPE, self.plan_type.map(|p| HeaderValue::from_static(p.as_str())));
        set(headers, DEVICE_ID, text(&self.device_id));
        set(headers, CLIENT_ID, text(&self.client_id));
        set(headers, CLIENT_TYPE, text(&self.client_type));
        set(headers, AUTHORIZATION, self.auth.as_ref().and_then(|a| HeaderValue::try_from(a.encode()).ok()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> TenantIdentity {
        TenantIdentity {
            partner_id: Some(9),
            account_id: Some(3),
            plan_type: Some(PlanType::Saas),
            device_id: Some("dev-1".into()),
            client_id: Some("web".into()),
            client_type: Some("BROWSER".into()),
            auth: Some(DownstreamAuth {
                user_id: Some(5),
                user_name: Some("ravi".into()),
                is_logged_in: true,
                account_id: Some(3),
                password: "p".into(),
            }),
        }
    }

    #[test]
    fn round_trips_through_headers() {
        let mut h = HeaderMap::new();
        full().write_headers(&mut h);
        assert_eq!(h[&PARTNER_ID], "9");
        assert_eq!(h[&PLAN_TYPE], "SAAS");
        assert_eq!(TenantIdentity::from_headers(&h), Ok(full()));

        TenantIdentity::default().write_headers(&mut h);
        assert!(h.is_empty(), "{h:?}");
        assert_eq!(TenantIdentity::from_headers(&h), Ok(TenantIdentity::default()));
    }

    #[test]
    fn malformed_headers_name_the_header() {
        let cases: &[(HeaderName, &str, &str)] = &[
            (PARTNER_ID, "abc", "x-bb-partner-id"),
            (PARTNER_ID, "-4", "x-bb-partner-id"),
            (ACCOUNT_ID, "1.5", "x-bb-account-id"),
            (PLAN_TYPE, "GOLD", "x-bb-plan-type"),
            (DEVICE_ID, "has space", "x-bb-device-id"),
        ];
        for (name, value, label) in cases {
            let mut h = HeaderMap::new();
            h.insert(name.clone(), value.parse().unwrap());
            let err = TenantIdentity::from_headers(&h).unwrap_err();
            assert!(err.to_string().contains(label), "{value}: {err}");
        }
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "!!notbase64".parse().unwrap());
        assert!(matches!(TenantIdentity::from_headers(&h), Err(TenancyError::Authorization(_))));

        let mut h = HeaderMap::new();
        h.append(PARTNER_ID, "1".parse().unwrap());
        h.append(PARTNER_ID, "2".parse().unwrap());
        assert_eq!(TenantIdentity::from_headers(&h), Err(TenancyError::Repeated { header: "x-bb-partner-id" }));
    }
}
