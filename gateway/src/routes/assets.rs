//! Static files built into the binary: the demo catalog's images and the landing page.

use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::ErrorBody;

#[derive(RustEmbed)]
#[folder = "../engine/assets/demo-images/"]
struct DemoImages;

/// A demo catalog image.
///
/// The images the demo catalog's cards link to, cached for a day.
#[utoipa::path(
    get,
    path = "/demo/images/{name}",
    tag = "app",
    params(("name" = String, Path, description = "The image's file name, ending in `.svg`")),
    responses(
        (status = 200, description = "The image", body = String, content_type = "image/svg+xml"),
        (status = 404, description = "No such image", body = ErrorBody),
    )
)]
pub async fn demo_image(path: web::Path<String>) -> HttpResponse {
    let name = path.into_inner();
    match DemoImages::get(&name) {
        Some(file) if name.ends_with(".svg") => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header(("Cache-Control", "public, max-age=86400"))
            .body(file.data.into_owned()),
        _ => crate::routes::not_found().await,
    }
}

/// The landing page.
#[utoipa::path(
    get,
    path = "/",
    tag = "app",
    responses(
        (status = 200, description = "A short HTML page pointing to the API", body = String,
            content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Vitrine</title>\
         <h1>Vitrine</h1><p>Live video personal shopping. The HTTP API is under \
         <code>/v1/</code>; the WebSocket is <code>/v1/ws</code>.</p></html>",
        )
}
