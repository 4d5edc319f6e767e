//! Header names, spelled exactly as every module and existing client reads them.

use http::{HeaderMap, HeaderName};

pub const PARTNER_ID: HeaderName = HeaderName::from_static("x-bb-partner-id");
pub const PLAN_TYPE: HeaderName = HeaderName::from_static("x-bb-plan-type");
pub const ACCOUNT_ID: HeaderName = HeaderName::from_static("x-bb-account-id");
pub const DEVICE_ID: HeaderName = HeaderName::from_static("x-bb-device-id");
pub const CLIENT_ID: HeaderName = HeaderName::from_static("x-bb-client-id");
pub const CLIENT_TYPE: HeaderName = HeaderName::from_static("x-bb-client-type");
pub const AUTHORIZATION: HeaderName = http::header::AUTHORIZATION;

/// Every header only the gateway may set.
pub const TENANT_HEADERS: [HeaderName; 6] = [PARTNER_ID, PLAN_TYPE, ACCOUNT_ID, DEVICE_ID, CLIENT_ID, CLIENT_TYPE];

/// Removes every `x-bb-*` header (not just the known ones: unknown future tenant headers must
/// not be spoofable either). Returns how many values were removed.
pub fn strip_tenant_headers(headers: &mut HeaderMap) -> usize {
    let names: Vec<HeaderName> = headers.keys().filter(|n| n.as_str().starts_with("x-bb-")).cloned().collect();
    let mut removed = 0;
    for name in names {
        removed += headers.get_all(&name).iter().count();
        headers.remove(&name);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_every_x_bb_header_and_keeps_others() {
        let mut h = HeaderMap::new();
        h.insert(PARTNER_ID, "1".parse().unwrap());
        h.append(PARTNER_ID, "2".parse().unwrap());
        h.insert("x-bb-future-thing", "x".parse().unwrap());
        h.insert("x-request-id", "r".parse().unwrap());
        assert_eq!(strip_tenant_headers(&mut h), 3);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-request-id"));
    }
}
