//! HTTP errors: a status and `{"error": {"code", "message"}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use vitrine_engine::session::ErrorCode;
use vitrine_engine::EngineError;
use vitrine_persistence::StoreError;

/// An error answer of the HTTP API.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    /// 404 `not_found`: also the answer for objects of other tenants.
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "not found")
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 503 `unavailable`.
    pub fn unavailable() -> Self {
        Self::new(ErrorCode::Unavailable, "temporarily unavailable; try again")
    }

    /// 500 `internal`, logging the cause (never sent to the client).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Invalid => StatusCode::BAD_REQUEST,
            ErrorCode::OutOfStock | ErrorCode::Conflict | ErrorCode::SessionEnded => {
                StatusCode::CONFLICT
            }
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .json(json!({ "error": { "code": self.code, "message": self.message } }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                Self::unavailable()
            }
            StoreError::AlreadyExists(what) => {
                Self::new(ErrorCode::Conflict, format!("{what} already exists"))
            }
            StoreError::NotFound(_) => Self::not_found(),
            other => Self::internal(other),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound => Self::not_found(),
            EngineError::Invalid(m) => Self::invalid(m),
            EngineError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "engine unavailable");
                Self::unavailable()
            }
            EngineError::Internal(m) => Self::internal(m),
        }
    }
}

/// Turns extractor failures (bad JSON, bad query, oversize body) into API errors.
pub fn extractor_error(err: impl std::fmt::Display, too_large: bool) -> actix_web::Error {
    if too_large {
        ApiError::new(ErrorCode::TooLarge, "the request body is too large").into()
    } else {
        ApiError::invalid(err.to_string()).into()
    }
}
