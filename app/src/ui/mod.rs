//! The components, one file per part of the page.

pub mod account;
pub mod admin;
pub mod auth;
pub mod avatar;
pub mod body;
pub mod chat;
pub mod crop;
pub mod dialog;
pub mod email;
pub mod emoji;
pub mod export;
pub mod inspector;
pub mod keys;
pub mod passkeys;
pub mod people;
pub mod search;
pub mod security;
pub mod spaces;
pub mod switcher;
pub mod theme;
pub mod tokens;
pub mod two_factor;
pub mod unread;
pub mod upload;
pub mod webhooks;
