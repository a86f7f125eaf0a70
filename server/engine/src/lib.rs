//! Parley's engine, laid out the way an event flows:
//!
//! ```text
//!  doors ──► engine ──► log ──► projection ──► live ──► sockets
//!  (server)  engine/    log/    projection/    live/    (server's http/ws.rs)
//!            decide     append  fold into      fan out
//!            (core)     + bus   read models    per channel
//!               ▲         │
//!               └─────────┘ every committed event, in log order, on every node:
//!                           engine/state.rs follows it (caches, access, sessions, limits)
//! ```
//!
//! - [`engine`]: commands (load state, the core's `decide`, append) and queries, one file
//!   per area; what it decides from follows the log ([`engine::LogState`]). The server
//!   functions (`parley-app`) and the server's doors call it directly.
//! - [`log`]: the event store (atomic, idempotent, group-committed appends), the bus that
//!   announces each commit, and on PostgreSQL the tailer that reads other nodes' commits.
//! - [`projection`]: folds the log into the read models, with a checkpoint, a lease, parking.
//!   On SQLite the store's writer runs that fold in its own transaction (the projection
//!   hands it a [`log::store::WriterFold`]: the log declares it, so it still knows nothing
//!   of the read models), and the projector folds only what the writer did not.
//! - [`live`]: the hub that hands folded events to sockets, presence, and the relays
//!   between nodes for what is never stored (typing, presence).
//! - [`workers`]: background deliveries (webhooks).
//! - Below them: [`db`] (SQLite or PostgreSQL, migrations), [`cluster`] (leases and notes
//!   between nodes), [`auth`] (passwords, tokens, cookies, limiters), [`metrics`] (names).

pub mod auth;
pub mod cluster;
pub mod db;
pub mod engine;
pub mod jsonb;
pub mod live;
pub mod log;
pub mod metrics;
pub mod projection;
pub mod read_model;
pub mod workers;
