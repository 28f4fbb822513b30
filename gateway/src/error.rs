//! HTTP errors: a status and `{"error": {"code", "message"}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
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
        HttpResponse::build(self.status_code()).json(ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
            },
        })
    }
}

/// The body of every error answer of the HTTP API.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error, example = json!({"error": {"code": "not_found", "message": "not found"}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and message of an error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code; the HTTP status follows from it.
    #[schema(value_type = ErrorCodeName)]
    pub code: ErrorCode,
    /// Human-readable explanation; never the cause of a `500`.
    pub message: String,
}

/// The error codes of the wire contract, as the OpenAPI document lists them.
///
/// | code | HTTP status | meaning |
/// |---|---|---|
/// | `unauthorized` | 401 | bad or missing token or widget key |
/// | `forbidden` | 403 | the token may not do this |
/// | `not_found` | 404 | no such object or route, or one of another tenant |
/// | `invalid` | 400 (422 for a catalog file) | malformed or out-of-range input |
/// | `out_of_stock` | 409 | not enough units |
/// | `conflict` | 409 | not possible in the current state |
/// | `rate_limited` | 429 | too many requests or frames |
/// | `too_large` | 413 | body or file too large |
/// | `session_ended` | 409 | the session is over |
/// | `unavailable` | 503 | the store, commerce or session is busy or down; retry |
/// | `internal` | 500 | a fault of the server |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ErrorCode)]
pub enum ErrorCodeName {
    /// Bad or missing token.
    Unauthorized,
    /// Not allowed for this token.
    Forbidden,
    /// No such object, or not visible to the caller.
    NotFound,
    /// Malformed or out-of-range input.
    Invalid,
    /// Not enough stock.
    OutOfStock,
    /// Not possible in the current state.
    Conflict,
    /// Too many requests.
    RateLimited,
    /// Too large.
    TooLarge,
    /// The session is over.
    SessionEnded,
    /// A dependency is down; retry later.
    Unavailable,
    /// A fault of ours.
    Internal,
}

impl From<ErrorCode> for ErrorCodeName {
    // Exhaustive on purpose: a new engine code does not compile until it is documented.
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::Unauthorized => Self::Unauthorized,
            ErrorCode::Forbidden => Self::Forbidden,
            ErrorCode::NotFound => Self::NotFound,
            ErrorCode::Invalid => Self::Invalid,
            ErrorCode::OutOfStock => Self::OutOfStock,
            ErrorCode::Conflict => Self::Conflict,
            ErrorCode::RateLimited => Self::RateLimited,
            ErrorCode::TooLarge => Self::TooLarge,
            ErrorCode::SessionEnded => Self::SessionEnded,
            ErrorCode::Unavailable => Self::Unavailable,
            ErrorCode::Internal => Self::Internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::Unavailable(_) | StoreError::Internal(_)) {
            vitrine_engine::metrics::store_error("http", &e);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every engine code is spelled on the wire as the document lists it.
    #[test]
    fn documented_error_codes_match_the_engine_spelling() {
        let codes = [
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Invalid,
            ErrorCode::OutOfStock,
            ErrorCode::Conflict,
            ErrorCode::RateLimited,
            ErrorCode::TooLarge,
            ErrorCode::SessionEnded,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ];
        for code in codes {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::to_value(ErrorCodeName::from(code)).unwrap()
            );
        }
    }
}
