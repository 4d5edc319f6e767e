//! The floor of the gateway's HTTP stack, for the edge benchmark (`gateway/benches/edge.rs`):
//! the same axum server and hyper-util upstream client the gateway uses, forwarding every
//! request to `COFFEE_URL` unchanged, with nothing else (no auth, limits, header rewriting,
//! metrics or trace context). Comparing it with nginx shows what the stack itself costs;
//! comparing the gateway with it shows what the gateway's work costs.
//!
//! `PORT=8080 COFFEE_URL=http://127.0.0.1:7179 cargo run --release -p gateway --example bare_proxy`

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::var("PORT")?.parse()?;
    let upstream = std::env::var("COFFEE_URL")?;
    let app = Router::new().route("/{*rest}", any(forward)).with_state((gateway::proxy::client(), upstream));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    // the gateway's listener sets TCP_NODELAY on accepted connections too
    let listener = axum::serve::ListenerExt::tap_io(listener, |s: &mut tokio::net::TcpStream| {
        let _ = s.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn forward(State((client, base)): State<(gateway::proxy::HttpClient, String)>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{base}{path}").parse() else { return StatusCode::BAD_REQUEST.into_response() };
    parts.uri = uri;
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(Body::new),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
