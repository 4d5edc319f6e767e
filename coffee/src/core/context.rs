//! [`RequestContext`]: who is calling (the tenant headers, parsed) and the request's two lazy
//! sessions: a Postgres transaction and a ClickHouse session, each opened on first use only and
//! at most once, however many DAO calls race inside one handler. The session middleware commits
//! or rolls both back when the handler is done; hooks registered with
//! [`RequestContext::perform_after_commit`] run only after a successful commit.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use futures::future::BoxFuture;
use tenancy::{PlanType, TenantIdentity};

use crate::core::clickhouse::ChSession;
use crate::core::postgres::PgSession;
use crate::error::ApiError;

type Hook = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

pub struct RequestContext {
    pub tenant: TenantIdentity,
    /// The service's settings (quotas, token lifetime, ...).
    pub config: Arc<crate::Config>,
    pub pg: PgSession,
    pub ch: ChSession,
    after_commit: std::sync::Mutex<Vec<Hook>>,
}

impl RequestContext {
    pub fn new(tenant: TenantIdentity, config: Arc<crate::Config>, pg: PgSession, ch: ChSession) -> Self {
        Self { tenant, config, pg, ch, after_commit: std::sync::Mutex::new(Vec::new()) }
    }

    pub fn partner_id(&self) -> Option<i64> {
        self.tenant.partner_id
    }

    /// The partner, or a 401 explaining that this endpoint is per partner.
    pub fn require_partner(&self) -> Result<i64, ApiError> {
        self.tenant.partner_id.ok_or_else(|| {
            ApiError::Unauthorized(
                "this endpoint needs a partner (x-bb-partner-id); call it through the gateway with a partner login"
                    .into(),
            )
        })
    }

    /// The plan; a request without one is treated as FREE.
    pub fn plan(&self) -> PlanType {
        self.tenant.plan_type.unwrap_or(PlanType::Free)
    }

    /// The API key's client id when the request came with a partner API key (the edge sets
    /// client type `api` for those), so usage can be attributed to the key.
    pub fn api_client(&self) -> Option<&str> {
        (self.tenant.client_type.as_deref() == Some(tenancy::API_CLIENT_TYPE))
            .then_some(self.tenant.client_id.as_deref())
            .flatten()
    }

    pub fn user_id(&self) -> Option<i64> {
        self.tenant.auth.as_ref().and_then(|a| a.user_id)
    }

    /// Runs one store operation with its metrics and logs (see [`crate::core::observe`]), under
    /// that store's deadline and breaker ([`PgSession::guarded`],
    /// [`crate::core::clickhouse::ChPool::guarded`]). Every statement a request runs goes
    /// through here.
    pub async fn timed<T, E: crate::core::error::StoreFailure>(
        &self,
        store: crate::core::observe::Store,
        op: &'static str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let guarded = async {
            match store {
                crate::core::observe::Store::ClickHouse => self.ch.pool().guarded(fut).await,
                crate::core::observe::Store::Postgres => self.pg.guarded(fut).await,
            }
        };
        crate::core::observe::query(store, op, self.config.slow_query, guarded).await
    }

    /// [`Self::timed`] for one Postgres call of the storage layer (a repository's statements).
    pub async fn postgres<T>(
        &self,
        op: &'static str,
        fut: impl std::future::Future<Output = crate::core::error::StoreResult<T>>,
    ) -> crate::core::error::StoreResult<T> {
        self.timed(crate::core::observe::Store::Postgres, op, fut).await
    }

    /// Runs `hook` after the request's sessions commit; never if they roll back.
    pub fn perform_after_commit<F>(&self, hook: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.after_commit.lock().expect("hook list lock").push(Box::new(move || Box::pin(hook)));
    }

    /// Commits Postgres, then flushes ClickHouse writes, then runs the after-commit hooks. The
    /// Postgres commit may take what is `left` of the request's deadline (a commit cut short
    /// has an unknown outcome, so it is not held to the shorter statement deadline); past it
    /// the request is a 504 like any other that ran out of time.
    pub async fn commit(&self, left: std::time::Duration) -> Result<(), ApiError> {
        tokio::time::timeout(left, self.pg.commit())
            .await
            .map_err(|_| ApiError::Timeout(self.config.server.request_timeout.as_secs()))??;
        self.ch.commit().await?;
        let hooks = std::mem::take(&mut *self.after_commit.lock().expect("hook list lock"));
        for hook in hooks {
            hook().await;
        }
        Ok(())
    }

    /// Rolls Postgres back and drops buffered ClickHouse writes and the hooks.
    pub async fn rollback(&self) {
        self.pg.rollback().await;
        self.ch.rollback();
        self.after_commit.lock().expect("hook list lock").clear();
    }
}

/// Handler argument giving the request's context (installed by the context middleware).
#[derive(Clone)]
pub struct Ctx(pub Arc<RequestContext>);

impl std::ops::Deref for Ctx {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<RequestContext>>()
            .cloned()
            .map(Ctx)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the context middleware did not run for this route")))
    }
}
