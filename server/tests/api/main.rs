//! Integration tests: each spawns the real server on port 0 with a fresh database (SQLite, or PostgreSQL with PARLEY_TEST_POSTGRES).
#![allow(clippy::unwrap_used)]

mod accounts;
mod admin;
mod archive;
mod attacks;
mod bus;
mod catch_up;
mod cluster;
mod crash;
mod doors;
mod erasure;
mod export;
mod files;
mod helpers;
mod inspect;
mod mail;
mod messages;
mod ops;
mod passkeys;
mod pins;
mod presence;
mod private;
mod profiles;
mod projection;
mod rest;
mod restart;
mod schema;
mod schemas;
mod search;
mod site;
mod spaces;
mod store;
mod two_factor;
mod typing;
mod unread;
mod webhooks;
