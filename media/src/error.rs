//! What a media call can fail with, in the three ways a client can act on.

/// Why a media request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The request's parameters are malformed or not acceptable; sending them again
    /// will not help.
    #[error("{0}")]
    Invalid(String),
    /// No such transport, producer or consumer for this participant in this session.
    #[error("{0}")]
    NotFound(String),
    /// Media cannot be served now (no worker is running, or the worker failed).
    #[error("{0}")]
    Unavailable(String),
}

impl MediaError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::NotFound(format!("no such {what}"))
    }

    /// A worker's refusal: the parameters passed our checks but not the worker's.
    pub(crate) fn refused(what: &str, error: impl std::fmt::Display) -> Self {
        Self::Invalid(format!("{what} refused: {error}"))
    }
}

/// Sorts a failed worker request: a worker that answered refused the parameters; one
/// that did not answer is not available.
pub(crate) fn from_request(what: &str, error: &mediasoup::worker::RequestError) -> MediaError {
    use mediasoup::worker::RequestError;
    match error {
        RequestError::Response { reason } => MediaError::refused(what, reason),
        other => MediaError::Unavailable(format!("{what} failed: {other}")),
    }
}
