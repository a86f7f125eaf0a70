//! The client: what talks to the server and to the browser's storage, below the components.

pub mod drafts;
pub mod emoji;
#[cfg(feature = "browser")]
pub(crate) mod link;
#[cfg(feature = "browser")]
pub(crate) mod live;
#[cfg(feature = "browser")]
pub(crate) mod local;
pub mod notify;
pub mod passkey;
pub mod people;
pub mod settings;
#[cfg(feature = "browser")]
pub(crate) mod sync;

/// Starts opening the browser's store before the page hydrates (see
/// [`local::LocalStore::open_early`]).
#[cfg(feature = "browser")]
pub fn open_store_early() {
    local::LocalStore::open_early();
}
