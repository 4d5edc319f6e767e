//! The one shape of a service's application state: its handles and settings (`Services`) behind
//! one `Arc`. axum clones the state into every middleware and handler of every request, so the
//! clone must be a reference-count bump, whatever the state holds (a ClickHouse client alone
//! carries maps that would otherwise be copied each time). Each service writes
//! `pub type AppState = platform::state::Shared<Services>;` and reaches the fields through
//! `Deref`.

use std::sync::Arc;

pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(services: T) -> Self {
        Self(Arc::new(services))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
