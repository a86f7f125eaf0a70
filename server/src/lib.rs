//! Parley's server, laid out the way an event flows (a newcomer can point at each stage):
//!
//! ```text
//!  doors ──► engine ──► log ──► projection ──► live ──► sockets
//!  http/     engine/    log/    projection/    live/    http/ws.rs
//!            decide     append  fold into      fan out
//!            (core)     + bus   read models    per channel
//!               ▲         │
//!               └─────────┘ every committed event, in log order, on every node:
//!                           engine/state.rs follows it (caches, access, sessions, limits)
//! ```
//!
//! - [`http`]: the doors: router and middleware, the socket ([`http::ws`]), REST
//!   ([`http::rest`]), files ([`http::files`]), health/readiness/metrics ([`http::ops`]).
//!   Server functions come from the app crate and reach the engine as its `ChatBackend`.
//! - [`engine`]: commands (load state, the core's `decide`, append) and queries, one file
//!   per area; what it decides from follows the log ([`engine::LogState`]).
//! - [`log`]: the event store (atomic, idempotent, group-committed appends), the bus that
//!   announces each commit, and on PostgreSQL the tailer that reads other nodes' commits.
//! - [`projection`]: folds the log into the read models, with a checkpoint, a lease, parking.
//! - [`live`]: the hub that hands folded events to sockets, presence, and the relays
//!   between nodes for what is never stored (typing, presence).
//! - [`workers`]: background deliveries (webhooks).
//! - Below them: [`config`], [`db`] (SQLite or PostgreSQL, migrations), [`cluster`]
//!   (leases and notes between nodes), [`auth`] (passwords, tokens, cookies, limiters),
//!   [`metrics`] (names), [`archive`] (export and import of the log as JSON lines).
//! - [`startup`]: wires it all into an axum app, used by `main` and by the tests alike.
// The page's view is one deeply nested type in release builds (no `erase_components`).
#![recursion_limit = "512"]

pub mod archive;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod db;
pub mod engine;
pub mod http;
pub mod live;
pub mod log;
pub mod metrics;
pub mod projection;
pub mod startup;
pub mod workers;

pub use startup::Application;
