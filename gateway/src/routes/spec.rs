//! `GET /v1/openapi.json`: the OpenAPI document of this API.

use actix_web::HttpResponse;

/// The OpenAPI document.
///
/// The OpenAPI 3.1 description of every HTTP route this server mounts, generated from the
/// handlers. The WebSocket protocol is described in `docs/protocol.md`.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    responses(
        (status = 200, description = "The OpenAPI document", body = Object,
            content_type = "application/json"),
    )
)]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::json())
}
