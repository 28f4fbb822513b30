//! Static files built into the binary: the demo catalog's images and the landing page.

use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../engine/assets/demo-images/"]
struct DemoImages;

/// A demo catalog image.
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
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Vitrine</title>\
         <h1>Vitrine</h1><p>Live video personal shopping. The HTTP API is under \
         <code>/v1/</code>; the WebSocket is <code>/v1/ws</code>.</p></html>",
        )
}
