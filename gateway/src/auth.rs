//! Bearer tokens on HTTP requests.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use vitrine_engine::identity::{Module, Principal, StaffPrincipal};

use crate::error::ApiError;
use crate::state::AppState;

/// The bearer token of a request, verified.
pub fn principal(req: &HttpRequest) -> Result<Option<Principal>, ApiError> {
    let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("expected \"Authorization: Bearer <token>\""))?;
    let app = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    app.tokens
        .verify(token)
        .map(Some)
        .map_err(|e| ApiError::unauthorized(e.to_string()))
}

/// A request by a staff user.
pub struct Staff(pub StaffPrincipal);

impl Staff {
    /// Fails with 403 unless the user holds `module`.
    pub fn require(&self, module: Module) -> Result<(), ApiError> {
        if self.0.can(module) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} module",
                serde_json::to_value(module)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )))
        }
    }

    /// Fails with 403 unless the user holds one of `modules`.
    pub fn require_any(&self, modules: &[Module]) -> Result<(), ApiError> {
        if modules.iter().any(|m| self.0.can(*m)) {
            Ok(())
        } else {
            Err(ApiError::forbidden("missing permission"))
        }
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match principal(req) {
            Ok(Some(Principal::Staff(s))) => Ok(Staff(s)),
            Ok(Some(Principal::Participant(_))) => {
                Err(ApiError::forbidden("this needs a staff token"))
            }
            Ok(None) => Err(ApiError::unauthorized("missing bearer token")),
            Err(e) => Err(e),
        })
    }
}
