//! HTTP routes, one module per resource.

pub mod assets;
pub mod catalog;
pub mod health;
pub mod sessions;
pub mod shoppers;
// `web` names actix-web's module in this file, so the app's files are `web_app` here.
#[path = "web.rs"]
pub mod web_app;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::extractor_error;
use crate::ws;

/// Answers any path that is not a route.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({ "error": { "code": "not_found", "message": "no such route" } }))
}

/// Largest JSON body accepted by the API.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_JSON_BYTES)
            .error_handler(|err, _| {
                let too_large = matches!(
                    err,
                    actix_web::error::JsonPayloadError::Overflow { .. }
                        | actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                );
                extractor_error(err, too_large)
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _| extractor_error(err, false)))
    .app_data(web::PathConfig::default().error_handler(|err, _| extractor_error(err, false)))
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/", web::get().to(assets::index))
    .route("/demo/images/{name}", web::get().to(assets::demo_image))
    .route("/s/{session_id}", web::get().to(web_app::page))
    .route("/widget", web::get().to(web_app::page))
    .route("/console", web::get().to(web_app::page))
    .route("/admin", web::get().to(web_app::page))
    .route("/embed.js", web::get().to(web_app::embed_script))
    .route("/assets/{file:.*}", web::get().to(web_app::asset))
    .service(
        web::scope("/v1")
            .route("/ws", web::get().to(ws::connect))
            .route("/sessions", web::post().to(sessions::post::create))
            .route("/sessions", web::get().to(sessions::get::list))
            .route("/sessions/{id}", web::get().to(sessions::get::one))
            .route(
                "/sessions/{id}/events",
                web::get().to(sessions::log::events),
            )
            .route(
                "/sessions/{id}/transcript",
                web::get().to(sessions::log::transcript),
            )
            .route(
                "/sessions/{id}/participants",
                web::post().to(sessions::post::invite),
            )
            .route("/catalog/import", web::post().to(catalog::import::import))
            .route(
                "/catalog/products",
                web::get().to(catalog::products::search),
            )
            .route("/shoppers", web::post().to(shoppers::create))
            .route("/shoppers", web::get().to(shoppers::list))
            .route("/shoppers/{id}/tokens", web::post().to(shoppers::token)),
    )
    .default_service(web::to(not_found));
}
