//! `GET /openapi.json`: the partner API as clients reach it through the gateway, in one OpenAPI
//! document. coffee's modules appear as coffee publishes them and beat's under `/beat`. The
//! document adds what the edge itself contributes: authentication on every route except
//! identity's (a session's bearer token, or an API key in `x-api-key` or as a bearer token; key
//! management takes a session only), and the answers only the edge gives, as problems: 402 and
//! 403 for an API key whose plan or scope does not allow the call, 413 for a body over
//! `MAX_BODY_BYTES` and 502 for an upstream that cannot be reached. 401, 429, 503 and 504 are
//! already declared by the services for the gateway.
//!
//! The document is built from the upstreams' live documents, so it never drifts from what they
//! serve. It is read again at most once a [`REFRESH`] and answers 503 while an upstream's
//! document cannot be read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::error::GatewayError;
use crate::state::AppState;

/// How long a built document is served before the upstreams are asked again.
pub const REFRESH: Duration = Duration::from_secs(60);

/// Paths of a service's own operations (liveness, metrics), not part of the partner API.
const OPS_PATHS: [&str; 4] = ["/health", "/ready", "/metrics", "/openapi.json"];

/// The gateway's document, rebuilt from the upstreams' at most once a [`REFRESH`].
pub struct Documents {
    http: reqwest::Client,
    timeout: Duration,
    coffee: String,
    beat: String,
    built: tokio::sync::Mutex<Option<(Instant, Arc<Value>)>>,
}

impl Documents {
    /// Each upstream's document is asked for within `timeout`.
    pub fn new(http: reqwest::Client, timeout: Duration, coffee_url: &str, beat_url: &str) -> Self {
        Self {
            http,
            timeout,
            coffee: format!("{coffee_url}/coffee/openapi.json"),
            beat: format!("{beat_url}/openapi.json"),
            built: tokio::sync::Mutex::new(None),
        }
    }

    async fn fetch(&self, url: &str) -> Result<Value, String> {
        let answer =
            self.http.get(url).timeout(self.timeout).send().await.map_err(|e| platform::problem::error_chain(&e))?;
        if !answer.status().is_success() {
            return Err(format!("{url} answered {}", answer.status()));
        }
        answer.json().await.map_err(|e| format!("{url}: {e}"))
    }

    /// The current document, built anew when the last one is older than [`REFRESH`].
    pub async fn current(&self) -> Result<Arc<Value>, String> {
        let mut built = self.built.lock().await;
        if let Some((at, doc)) = built.as_ref() {
            if at.elapsed() < REFRESH {
                return Ok(doc.clone());
            }
        }
        let (coffee, beat) = tokio::try_join!(self.fetch(&self.coffee), self.fetch(&self.beat))?;
        let doc = Arc::new(edge_document(coffee, beat));
        *built = Some((Instant::now(), doc.clone()));
        Ok(doc)
    }
}

pub async fn document(State(state): State<AppState>) -> Response {
    match state.documents.current().await {
        Ok(doc) => axum::Json(doc.as_ref().clone()).into_response(),
        Err(cause) => {
            tracing::warn!(%cause, "an upstream's OpenAPI document could not be read");
            GatewayError::Unavailable { what: "API document", retry_after: Duration::from_secs(5) }.into_response()
        }
    }
}

/// Whether the edge routes beat's `path` (see `proxy::BEAT_ROUTES`).
fn routed(path: &str) -> bool {
    crate::proxy::BEAT_ROUTES
        .iter()
        .any(|part| path.strip_prefix('/').and_then(|p| p.strip_prefix(part)).is_some_and(|rest| rest.starts_with('/')))
}

/// The names of the schemas `root` refers to, directly or through other schemas of `schemas`.
fn used_schemas(root: &Value, schemas: &Map<String, Value>) -> std::collections::BTreeSet<String> {
    const REF: &str = "\"#/components/schemas/";
    let mut used = std::collections::BTreeSet::new();
    let mut pending = vec![root.to_string()];
    while let Some(text) = pending.pop() {
        for (at, _) in text.match_indices(REF) {
            let name: String = text[at + REF.len()..].chars().take_while(|c| *c != '"').collect();
            if let Some(schema) = schemas.get(&name) {
                if used.insert(name) {
                    pending.push(schema.to_string());
                }
            }
        }
    }
    used
}

/// coffee's document with beat's nested under `/beat` and the edge's part added.
pub fn edge_document(coffee: Value, mut beat: Value) -> Value {
    let mut doc = coffee;
    let info = doc.as_object_mut().map(|d| d.entry("info").or_insert_with(|| json!({})));
    if let Some(info) = info.and_then(Value::as_object_mut) {
        info.insert("title".to_owned(), json!("bulbul partner API"));
    }
    // only the part of beat the edge routes, and the schemas that part uses
    if let Some(paths) = beat.get_mut("paths").and_then(Value::as_object_mut) {
        paths.retain(|path, _| routed(path));
    }
    let all_beat_schemas = beat.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
    let used = used_schemas(&beat["paths"], &all_beat_schemas);
    let beat_schemas: Map<String, Value> =
        all_beat_schemas.into_iter().filter(|(name, _)| used.contains(name)).collect();
    let schemas = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut);
    let mut schemas = schemas.map(std::mem::take).unwrap_or_default();
    // a beat schema named like a different coffee schema is renamed, with its references
    let mut beat_paths = serde_json::to_string(&beat["paths"]).unwrap_or_else(|_| "{}".to_owned());
    for (name, schema) in beat_schemas {
        match schemas.get(&name) {
            Some(same) if *same == schema => {}
            Some(_) => {
                let renamed = format!("Beat{name}");
                beat_paths = beat_paths.replace(
                    &format!("\"#/components/schemas/{name}\""),
                    &format!("\"#/components/schemas/{renamed}\""),
                );
                schemas.insert(renamed, schema);
            }
            None => {
                schemas.insert(name, schema);
            }
        }
    }
    let beat_paths: Map<String, Value> = serde_json::from_str(&beat_paths).unwrap_or_default();
    let components = doc.as_object_mut().map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(components) = components.and_then(Value::as_object_mut) {
        components.insert("schemas".to_owned(), Value::Object(schemas));
        components.insert(
            "securitySchemes".to_owned(),
            json!({
                "bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A person's session token from POST /identity/login.",
                },
                "apiKey": {
                    "type": "apiKey", "in": "header", "name": "x-api-key",
                    "description": "A partner API key (bb_live_…), created at /coffee/api-keys. \
                                    It may also be sent as Authorization: Bearer bb_live_…",
                },
                "apiKeyBearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "bb_live_ API key",
                    "description": "A partner API key sent as a bearer token.",
                },
            }),
        );
    }
    let paths = doc.as_object_mut().map(|d| d.entry("paths").or_insert_with(|| json!({})));
    let Some(paths) = paths.and_then(Value::as_object_mut) else { return doc };
    paths.retain(|path, _| !OPS_PATHS.contains(&path.as_str()));
    for (path, item) in beat_paths {
        paths.insert(format!("/beat{path}"), item);
    }
    for (path, item) in paths.iter_mut() {
        let access = if path.starts_with("/identity/") {
            Access::Public
        } else if path.starts_with("/coffee/api-keys") {
            Access::SessionOnly
        } else {
            Access::SessionOrKey
        };
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            add_edge_answers(op, access, method == "get");
        }
    }
    doc
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { platform::problem::CONTENT_TYPE: { "schema": { "$ref": "#/components/schemas/Problem" } } },
    })
}

/// Which credentials an operation takes at the edge.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Identity's routes: none.
    Public,
    /// Managing API keys: a person's session only (a key cannot manage keys).
    SessionOnly,
    /// Everything else: a session or an API key.
    SessionOrKey,
}

/// What the edge adds to one operation: its security and the answers only the edge gives.
fn add_edge_answers(op: &mut Value, access: Access, reads: bool) {
    let takes_body = op.get("requestBody").is_some();
    let Some(op) = op.as_object_mut() else { return };
    match access {
        Access::Public => {}
        Access::SessionOnly => {
            op.insert("security".to_owned(), json!([{ "bearer": [] }]));
        }
        Access::SessionOrKey => {
            op.insert("security".to_owned(), json!([{ "bearer": [] }, { "apiKey": [] }, { "apiKeyBearer": [] }]));
        }
    }
    let Some(responses) = op.entry("responses").or_insert_with(|| json!({})).as_object_mut() else { return };
    if access == Access::SessionOrKey {
        responses
            .entry("402")
            .or_insert_with(|| problem("an API key of a partner whose plan may not hold keys (FREE)"));
        if !reads {
            responses.entry("403").or_insert_with(|| problem("an API key whose scope does not allow writes"));
        }
    }
    if takes_body {
        responses.entry("413").or_insert_with(|| problem("the body is over the gateway's MAX_BODY_BYTES"));
    }
    responses.entry("502").or_insert_with(|| problem("the module behind the gateway cannot be reached"));
    responses.entry("504").or_insert_with(|| problem("the module behind the gateway did not answer in time"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beat_nests_under_its_prefix_unrouted_paths_are_left_out_colliding_schemas_renamed_edge_answers_added() {
        let coffee = json!({
            "openapi": "3.1.0",
            "paths": {
                "/coffee/x": { "get": { "responses": { "200": { "description": "ok" } } } },
                "/identity/login": { "post": { "requestBody": {}, "responses": {} } },
                "/health": { "get": { "responses": {} } },
            },
            "components": { "schemas": { "Problem": { "type": "object" }, "Task": { "type": "string" } } },
        });
        let beat = json!({
            "paths": {
                "/profiles/x": { "get": { "responses": {
                    "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Task" } } } }
                } } },
                "/tasks": { "get": { "responses": {} } },
            },
            "components": { "schemas": {
                "Problem": { "type": "object" }, "Task": { "type": "integer" },
                "TaskPage": { "type": "object", "properties": { "items": { "$ref": "#/components/schemas/Task" } } },
            } },
        });
        let doc = edge_document(coffee, beat);
        let paths = doc["paths"].as_object().unwrap();
        // beat's queue is not routed by the edge, so not in its document
        assert_eq!(paths.keys().collect::<Vec<_>>(), ["/beat/profiles/x", "/coffee/x", "/identity/login"]);
        let tasks = &doc["paths"]["/beat/profiles/x"]["get"];
        assert_eq!(
            tasks["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/BeatTask"
        );
        assert_eq!(doc["components"]["schemas"]["BeatTask"], json!({ "type": "integer" }));
        assert!(doc["components"]["schemas"].get("TaskPage").is_none(), "a schema only the queue uses is left out");
        assert_eq!(doc["info"]["title"], "bulbul partner API");
        assert_eq!(doc["components"]["schemas"]["Task"], json!({ "type": "string" }));
        assert_eq!(tasks["security"], json!([{ "bearer": [] }, { "apiKey": [] }, { "apiKeyBearer": [] }]));
        assert!(tasks["responses"]["402"].is_object(), "a FREE partner's key");
        assert_eq!(doc["components"]["securitySchemes"]["apiKey"]["name"], "x-api-key");
        assert!(tasks["responses"]["502"].is_object() && tasks["responses"].get("413").is_none());
        let login = &doc["paths"]["/identity/login"]["post"];
        assert!(login.get("security").is_none(), "identity's routes need no session");
        assert!(login["responses"]["413"].is_object());
    }
}
