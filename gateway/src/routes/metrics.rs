//! `GET /metrics`: Prometheus text format.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::state::AppState;

/// Every metric of this process.
///
/// The Prometheus text exposition format, for scraping from the admin network.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The metrics", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 404, description = "Metrics are off on this node (`metrics = false`)",
            body = crate::error::ErrorBody),
    )
)]
pub async fn metrics(app: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !app.settings.metrics {
        return Err(ApiError::new(
            vitrine_engine::session::ErrorCode::NotFound,
            "metrics are off on this node (metrics = false)",
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::metrics().render()))
}
