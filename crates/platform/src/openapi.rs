//! Makes a service's OpenAPI document declare the error answers the service really gives: every
//! operation lists the problem+json statuses it can return (bad input for operations that take
//! input, 404 for those addressed by path, 415/422 for JSON bodies, and the edge's and the
//! platform's 401, 429, 500, 503, 504), all with one `Problem` schema. Contract testers
//! (schemathesis) then find undocumented statuses only where the code is wrong. [`route`]
//! serves the document; [`refuse_undeclared_query`] holds every operation to the query
//! parameters the document gives it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, RefOr, Response};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::{Problem, CONTENT_TYPE};

/// The query parameters each documented operation takes, by path template (as the router
/// matches it: `/coffee/collections/{id}`) and method, looked up without allocating.
#[derive(Clone, Default)]
pub struct DeclaredQueries(Arc<HashMap<String, HashMap<Method, HashSet<String>>>>);

impl DeclaredQueries {
    /// Read from the service's document, so the rule and the contract cannot drift apart.
    pub fn of(doc: &OpenApi) -> Self {
        let mut declared: HashMap<String, HashMap<Method, HashSet<String>>> = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let shared = item.parameters.as_deref().unwrap_or_default();
            let operations = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
                (Method::HEAD, &item.head),
                (Method::OPTIONS, &item.options),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                let names = shared
                    .iter()
                    .chain(op.parameters.as_deref().unwrap_or_default())
                    .filter(|p| p.parameter_in == ParameterIn::Query)
                    .map(|p| p.name.clone())
                    .collect();
                declared.entry(path.clone()).or_default().insert(method, names);
            }
        }
        Self(Arc::new(declared))
    }
}

/// Refuses (400) a request to a documented operation that names a query parameter the operation
/// does not declare, whether or not its handler reads a query: unknown parameters are refused
/// everywhere alike, so a misspelt filter is never silently ignored. Routes the document does not
/// describe (health, metrics) pass. Install with `route_layer`, where the matched path is known.
pub async fn refuse_undeclared_query(
    axum::extract::State(declared): axum::extract::State<DeclaredQueries>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (Some(query), Some(matched)) = (req.uri().query(), req.extensions().get::<axum::extract::MatchedPath>()) else {
        return next.run(req).await;
    };
    let Some(allowed) = declared.0.get(matched.as_str()).and_then(|ops| ops.get(req.method())) else {
        return next.run(req).await;
    };
    if let Some((name, _)) = form_urlencoded::parse(query.as_bytes()).find(|(name, _)| !allowed.contains(name.as_ref()))
    {
        let mut takes: Vec<&str> = allowed.iter().map(String::as_str).collect();
        takes.sort_unstable();
        let detail = if takes.is_empty() {
            format!("unknown query parameter {name:?}: this operation takes none")
        } else {
            format!("unknown query parameter {name:?}: this operation takes {}", takes.join(", "))
        };
        return Problem::new(axum::http::StatusCode::BAD_REQUEST, detail).into_response();
    }
    next.run(req).await
}

/// A `GET` route answering `doc` as JSON, serialized once here rather than on every request.
pub fn route<S: Clone + Send + Sync + 'static>(doc: &OpenApi) -> axum::routing::MethodRouter<S> {
    let body = axum::body::Bytes::from(serde_json::to_vec(doc).expect("an OpenAPI document serializes"));
    axum::routing::get(move || {
        let body = body.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
    })
}

/// Adds the `Problem` schema and, to every operation, each error status it can answer that it
/// does not document yet; documented error statuses without a body get the problem body.
pub fn declare_problems(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.insert(Problem::name().into_owned(), Problem::schema());
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            for (status, why) in error_statuses(op) {
                let entry = op.responses.responses.entry(status.to_string());
                let response = entry.or_insert_with(|| RefOr::T(Response::new(why)));
                if let RefOr::T(response) = response {
                    if response.content.is_empty() {
                        response.content.insert(CONTENT_TYPE.to_owned(), problem_content());
                    }
                }
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let (true, RefOr::T(response)) = (status.starts_with(['4', '5']), response) {
                    if response.content.is_empty() {
                        response.content.insert(CONTENT_TYPE.to_owned(), problem_content());
                    }
                }
            }
        }
    }
}

fn problem_content() -> Content {
    Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(Problem::name()))))
}

fn error_statuses(op: &Operation) -> Vec<(u16, &'static str)> {
    let params = op.parameters.as_deref().unwrap_or_default();
    let by_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    let mut statuses = vec![
        (401, "no valid session (answered by the gateway)"),
        (429, "over a rate limit; see Retry-After"),
        (500, "an internal error (logged, never detailed)"),
        (503, "a dependency is unavailable; see Retry-After"),
        (504, "the request did not finish in time"),
    ];
    // every operation: a query parameter it does not declare is refused
    // ([`refuse_undeclared_query`])
    statuses.push((
        400,
        "the request could not be read (a malformed value, or a query parameter the operation does not take)",
    ));
    if by_path {
        statuses.push((404, "no such resource"));
    }
    if op.request_body.is_some() {
        statuses.push((415, "the body is not application/json"));
        statuses.push((422, "the body is well-formed but invalid"));
    }
    statuses
}
