//! The event log: the store (the single source of truth), the bus that announces each commit in log order, and on PostgreSQL the tailer that announces other nodes' commits.

pub mod bus;
pub(crate) mod durable;
pub mod store;
pub mod tail;
