//! beat's HTTP API, on the paths its existing callers use: `GET /profiles/{platform}/byhandle/
//! {handle}` (coffee and operators call it; the gateway routes `/beat/*` here), the task queue
//! (`/tasks`), and the OpenAPI document at `/openapi.json`.

mod profiles;
mod tasks;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "beat",
    description = "Refreshes creators from third-party sources behind stacked rate limits."
))]
struct ApiDoc;

pub fn router(state: AppState) -> axum::Router {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(profiles::router())
        .merge(tasks::router())
        .split_for_parts();
    platform::openapi::declare_problems(&mut doc);
    router
        .route_layer(axum::middleware::from_fn_with_state(
            platform::openapi::DeclaredQueries::of(&doc),
            platform::openapi::refuse_undeclared_query,
        ))
        .route("/openapi.json", platform::openapi::route(&doc))
        .with_state(state)
}
