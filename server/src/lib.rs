//! Parley's server: the doors around the engine (`parley-engine`, in `server/engine`).
//!
//! ```text
//!  browser ──► http/ (router, middleware) ──► server functions (parley-app) ─┐
//!              http/ws.rs · http/rest.rs · http/files.rs ────────────────────┼──► parley_engine
//!              http/ops.rs (health, readiness, metrics)                      │    (engine → log →
//!                                                                            │     projection → live)
//!  startup.rs wires the engine's parts and the router; main.rs is the CLI ───┘
//! ```
//!
//! - [`http`]: the router and its middleware, and each door in its own module.
//! - [`startup`]: starts the engine's parts (store, projection, engine, relays, workers)
//!   and serves the router; `main` and the integration tests use the same `build`.
//! - [`config`]: command line and environment settings.
//! - [`archive`]: export and import of the event log as JSON lines.
// The page's view is one deeply nested type in release builds (no `erase_components`).
#![recursion_limit = "512"]

pub mod archive;
pub mod config;
pub mod http;
pub mod startup;

pub use startup::Application;
