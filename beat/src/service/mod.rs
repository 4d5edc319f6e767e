//! beat's rules, between the HTTP handlers (which parse and map) and the stores (the
//! pipeline's and the queue's `repo`): when a stored creator is served as it is and when it is
//! refreshed, under which limit; what a task must be to enter the queue.

pub mod profiles;
pub mod tasks;
