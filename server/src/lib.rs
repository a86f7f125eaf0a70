//! Parley's server, read top-down:
//!
//! - [`config`]: command line and environment settings.
//! - [`auth`]: password hashing, session tokens and cookies, the sign-in rate limit, Origin checks.
//! - [`db`]: opening the SQLite database (WAL, durable commits) and migrating it.
//! - [`store`]: the event store: atomic, idempotent, version-checked appends through one
//!   group-committing writer; reads by position and by stream.
//! - [`budget`]: one budget per user for every write but posts (which have their own rate).
//! - [`bus`]: the double emit: an eager notice before commit, a guaranteed one after.
//! - [`projector`]: folds committed events into the read models, with a checkpoint.
//! - [`redaction`]: the past as doors serve it: deleted messages' words taken out on read.
//! - [`dispatcher`]: pushes projected events to the sockets subscribed to each channel.
//! - [`presence`]: who is online, away or offline (the core's rules, a clock, a broadcast).
//! - [`ws`]: the WebSocket door: subscribe from a cursor, catch up, follow live; post.
//! - [`files`]: the file door: checked, content-addressed uploads with thumbnails; downloads
//!   checked like the channel; local disk or an S3-compatible bucket.
//! - [`folded`]: the engine's cache of aggregate states (single-flight loads, in-order folds).
//! - [`engine`]: commands (decide + append) and queries behind every door.
//! - [`webhooks`]: delivers a space's events to its webhooks: signed, in order, with retries and a dead letter.
//! - [`rest`]: the REST door (`/api/v1`) for bots, by API token, with its OpenAPI document.
//! - [`metrics`]: Prometheus metrics, liveness and readiness.
//! - [`archive`]: export and import of the event log as JSON lines.
//! - [`startup`]: wires it all into an axum app, used by `main` and by the tests alike.
// The page's view is one deeply nested type in release builds (no `erase_components`).
#![recursion_limit = "512"]

pub mod archive;
pub mod auth;
pub mod budget;
pub mod bus;
pub mod cluster;
pub mod config;
pub mod db;
pub mod dispatcher;
pub mod engine;
pub mod files;
pub mod folded;
pub mod metrics;
pub mod presence;
pub mod projector;
pub mod redaction;
pub mod rest;
pub mod startup;
pub mod store;
pub mod webhooks;
pub mod ws;

pub use startup::Application;
