//! Server functions shared by browser and server, their error type, and (server side)
//! the backend trait the server implements for them.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use parley::{ChannelId, MessageId, MessageView, Position};
use serde::{Deserialize, Serialize};

/// The one error type of the server-function door: what the user sees.
/// Causes of internal errors are logged on the server, never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was malformed or broke a rule; nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// The server failed; nothing the user did wrong.
    #[error("the server could not complete this request, please try again")]
    Internal,
    /// The request did not reach the server, or its answer did not come back.
    #[error("could not reach the server ({0})")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::Deserialization(e) => Self::Invalid(e),
            other => Self::Transport(other.to_string()),
        }
    }
}

/// The most messages one history page may hold.
pub const MAX_HISTORY_PAGE: u32 = 200;

/// Posts a message to a channel. Idempotent on `message_id`: a resend returns the
/// position of the first, and stores nothing.
#[server(endpoint = "post_message", input = server_fn::codec::Json)]
pub async fn post_message(
    channel: ChannelId,
    message_id: MessageId,
    author: String,
    body: String,
) -> Result<Position, AppError> {
    let backend = ssr::backend()?;
    let request = ssr::PostRequest {
        channel,
        message_id,
        author,
        body,
    };
    backend.post_message(request).await.map_err(ssr::respond)
}

/// One page of a channel's history: up to `limit` messages before `before`
/// (or the newest when `before` is absent), oldest first.
#[server(endpoint = "history", input = server_fn::codec::Json)]
pub async fn history(channel: ChannelId, before: Option<Position>, limit: u32) -> Result<Vec<MessageView>, AppError> {
    if limit == 0 || limit > MAX_HISTORY_PAGE {
        let error = AppError::Invalid(format!("limit must be between 1 and {MAX_HISTORY_PAGE}"));
        return Err(ssr::respond(error));
    }
    ssr::backend()?
        .history(channel, before, limit)
        .await
        .map_err(ssr::respond)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! What the server provides to the server functions, through Leptos context.

    use super::AppError;
    use leptos::prelude::use_context;
    use parley::{ChannelId, MessageId, MessageView, Position};
    use std::sync::Arc;

    /// A post as it arrives at any door, before validation.
    #[derive(Clone, Debug)]
    pub struct PostRequest {
        pub channel: ChannelId,
        pub message_id: MessageId,
        pub author: String,
        pub body: String,
    }

    /// The commands and queries behind the server functions, implemented by the server.
    #[async_trait::async_trait]
    pub trait ChatBackend: Send + Sync + 'static {
        async fn post_message(&self, request: PostRequest) -> Result<Position, AppError>;
        async fn history(
            &self,
            channel: ChannelId,
            before: Option<Position>,
            limit: u32,
        ) -> Result<Vec<MessageView>, AppError>;
    }

    pub type Backend = Arc<dyn ChatBackend>;

    pub fn backend() -> Result<Backend, AppError> {
        use_context::<Backend>().ok_or(AppError::Internal)
    }

    /// Sets the HTTP status that fits the error (400 for the caller's fault) and passes it on.
    pub fn respond(error: AppError) -> AppError {
        let status = match error {
            AppError::Invalid(_) => http::StatusCode::BAD_REQUEST,
            AppError::Internal | AppError::Transport(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        error
    }
}
