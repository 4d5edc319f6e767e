//! W3C Trace Context: every request belongs to a trace. An incoming `traceparent` is continued
//! (same trace id, this hop's own span id); without a valid one a trace starts here. The
//! request's `traceparent` is rewritten to name this hop as the parent, so a proxy that forwards
//! headers (the gateway) continues the trace into the next service, and the trace id is a field
//! of the request's log span in every service.
//!
//! Hand-written because the header is a fixed 55-character format; the OpenTelemetry
//! propagators would bring the whole OTel context and SDK for one parse and one format.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// This request's place in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    /// This hop's span id (the parent of whatever it calls).
    pub span_id: u64,
    pub sampled: bool,
}

impl TraceContext {
    /// Parses a version-00 `traceparent`; `None` for anything malformed (then a new trace starts).
    pub fn parse(raw: &str) -> Option<(u128, u64, bool)> {
        let parts: Vec<&str> = raw.trim().split('-').collect();
        let [version, trace, parent, flags] = parts.as_slice() else { return None };
        let hex =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if *version != "00" || !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok().filter(|&t| t != 0)?;
        let parent_id = u64::from_str_radix(parent, 16).ok().filter(|&p| p != 0)?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some((trace_id, parent_id, flags & 1 == 1))
    }

    /// Continues the trace of `incoming`, or starts one.
    pub fn continue_or_start(incoming: Option<&str>) -> Self {
        let span_id = rand::random::<u64>().max(1);
        match incoming.and_then(Self::parse) {
            Some((trace_id, _, sampled)) => Self { trace_id, span_id, sampled },
            None => Self { trace_id: rand::random::<u128>().max(1), span_id, sampled: true },
        }
    }

    /// The trace id, formatted only when displayed (a disabled log span never formats it).
    pub fn trace_id(&self) -> TraceId {
        TraceId(self.trace_id)
    }

    /// The `traceparent` naming this hop as the parent, `00-<trace id>-<span id>-<flags>`, built
    /// in place (this runs for every request).
    pub fn header_value(&self) -> HeaderValue {
        let mut out = [0u8; TRACEPARENT_LEN];
        out[..3].copy_from_slice(b"00-");
        hex(&mut out[3..35], self.trace_id);
        out[35] = b'-';
        hex(&mut out[36..52], u128::from(self.span_id));
        out[52..].copy_from_slice(if self.sampled { b"-01" } else { b"-00" });
        HeaderValue::from_bytes(&out).expect("hex digits and dashes")
    }
}

const TRACEPARENT_LEN: usize = 55;

/// `value`'s low `out.len()` hex digits, lowercase, most significant first.
fn hex(out: &mut [u8], mut value: u128) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// A trace id that formats as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceId(pub u128);

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// The middleware: continue or start the trace, record it on the request, rewrite the header.
pub async fn trace_context(mut req: Request, next: Next) -> Response {
    let incoming = req.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok());
    let ctx = TraceContext::continue_or_start(incoming);
    req.headers_mut().insert(TRACEPARENT, ctx.header_value());
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_valid_parents_and_starts_otherwise() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = TraceContext::continue_or_start(Some(parent));
        assert_eq!(ctx.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(ctx.span_id, 0x00f0_67aa_0ba9_02b7, "a hop has its own span id");
        let header = ctx.header_value();
        let header = header.to_str().unwrap();
        assert!(header.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && header.ends_with("-01"));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
        let fresh = TraceContext::continue_or_start(Some("garbage"));
        assert_ne!(fresh.trace_id, 0);
        assert_eq!(TraceContext::parse(fresh.header_value().to_str().unwrap()).map(|p| p.0), Some(fresh.trace_id));
        let unsampled = TraceContext { trace_id: 0xab, span_id: 0x1f, sampled: false };
        assert_eq!(unsampled.header_value(), "00-000000000000000000000000000000ab-000000000000001f-00");
    }
}
