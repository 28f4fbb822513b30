//! `/healthz` and `/readyz`.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

/// How long readiness waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the store answers in time.
pub async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(READY_TIMEOUT, app.engine.store().ping()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: store failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "store": "error" }))
        }
        Err(_) => {
            tracing::warn!("not ready: store timed out");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "store": "timeout" }))
        }
    }
}
