//! CORS work only where it means something. Browsers send `Origin` on every cross-origin
//! request (and on every preflight), so a request without one is not cross-origin: it skips
//! tower-http's `Cors` (which otherwise evaluates its whole policy and builds its headers for
//! every request) and only gets the `Vary` that `Cors` would have added, so a shared cache still
//! keeps a cross-origin answer apart from this one. Requests with `Origin` go through `Cors`
//! unchanged.

use std::task::{Context, Poll};

use axum::http::{header, HeaderValue, Request, Response};
use futures::future::{Either, MapOk, TryFutureExt};
use tower::{Layer, Service};
use tower_http::cors::{Cors, CorsLayer};

/// What `Cors` answers with in `Vary` (its default list).
const VARY: HeaderValue =
    HeaderValue::from_static("origin, access-control-request-method, access-control-request-headers");

/// [`CorsLayer`] applied to requests that carry `Origin` only.
#[derive(Clone, Debug)]
pub struct CrossOriginLayer(pub CorsLayer);

impl<S: Clone> Layer<S> for CrossOriginLayer {
    type Service = CrossOrigin<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossOrigin { cors: self.0.layer(inner.clone()), plain: inner }
    }
}

#[derive(Clone, Debug)]
pub struct CrossOrigin<S> {
    cors: Cors<S>,
    plain: S,
}

type AddVary<B> = fn(Response<B>) -> Response<B>;

fn add_vary<B>(mut response: Response<B>) -> Response<B> {
    response.headers_mut().append(header::VARY, VARY);
    response
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CrossOrigin<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Either<<Cors<S> as Service<Request<ReqBody>>>::Future, MapOk<S::Future, AddVary<ResBody>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.plain.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if req.headers().contains_key(header::ORIGIN) {
            Either::Left(self.cors.call(req))
        } else {
            Either::Right(self.plain.call(req).map_ok(add_vary as AddVary<ResBody>))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;
    use tower_http::cors::AllowOrigin;

    fn policy() -> CorsLayer {
        CorsLayer::new().allow_origin(AllowOrigin::list([HeaderValue::from_static("https://app.example.com")]))
    }

    async fn answer(app: Router, origin: Option<&str>) -> Response<Body> {
        let mut req = Request::get("/x");
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn only_requests_with_an_origin_meet_the_policy_and_every_answer_varies_as_cors_says() {
        let routes = || Router::new().route("/x", get(|| async { "x" }));
        let ours = routes().layer(CrossOriginLayer(policy()));
        let theirs = routes().layer(policy());
        for origin in [None, Some("https://app.example.com"), Some("https://elsewhere.example.com")] {
            let (a, b) = (answer(ours.clone(), origin).await, answer(theirs.clone(), origin).await);
            let vary = |r: &Response<Body>| r.headers().get_all(header::VARY).iter().cloned().collect::<Vec<_>>();
            assert_eq!(vary(&a), vary(&b), "{origin:?}: the same Vary as tower-http's Cors");
            assert_eq!(
                a.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                b.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                "{origin:?}"
            );
        }
        let allowed = answer(ours, Some("https://app.example.com")).await;
        assert_eq!(allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example.com");
    }
}
