//! `/healthz` and `/readyz`.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// How long readiness waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether the node can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyStatus {
    /// The store answers.
    Ready,
    /// The store does not answer in time.
    Unavailable,
}

/// What is wrong with the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreProblem {
    /// It answered with an error.
    Error,
    /// It did not answer within 2 seconds.
    Timeout,
}

/// The answer of `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// Ready or not.
    pub status: ReadyStatus,
    /// Only when unavailable: what is wrong with the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub store: Option<StoreProblem>,
    /// Only when unavailable, in a cluster: what is wrong with Redis (without it the node
    /// cannot seat participants of sessions it does not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub redis: Option<StoreProblem>,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The process answers", body = Liveness,
            example = json!({"status": "ok"})),
    )
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// Readiness: the store (and, in a cluster, Redis) answers in time.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "The store (and Redis, in a cluster) answered within 2 seconds", body = Readiness,
            example = json!({"status": "ready"})),
        (status = 503, description = "The store or Redis failed or timed out", body = Readiness,
            example = json!({"status": "unavailable", "store": "timeout"})),
    )
)]
pub async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    let store = match tokio::time::timeout(READY_TIMEOUT, app.engine.store().ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: store failed");
            Some(StoreProblem::Error)
        }
        Err(_) => {
            tracing::warn!("not ready: store timed out");
            Some(StoreProblem::Timeout)
        }
    };
    let redis = match app.engine.cluster() {
        None => None,
        Some(cluster) => match tokio::time::timeout(READY_TIMEOUT, cluster.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                tracing::warn!(error = %e.0, "not ready: Redis failed");
                Some(StoreProblem::Error)
            }
            Err(_) => {
                tracing::warn!("not ready: Redis timed out");
                Some(StoreProblem::Timeout)
            }
        },
    };
    let readiness = Readiness {
        status: if store.is_none() && redis.is_none() {
            ReadyStatus::Ready
        } else {
            ReadyStatus::Unavailable
        },
        store,
        redis,
    };
    match readiness.status {
        ReadyStatus::Ready => HttpResponse::Ok().json(readiness),
        _ => HttpResponse::ServiceUnavailable().json(readiness),
    }
}
