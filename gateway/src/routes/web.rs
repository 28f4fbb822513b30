//! The browser app built from `web/` into `web/dist`: the customer call (`/s/{id}`, and
//! `/widget` for the embed), the shopper console (`/console`), the admin pages (`/admin`),
//! the embed snippet (`/embed.js`) and their hashed files under `/assets/`.
//!
//! Release builds carry `web/dist` inside the binary; debug builds read it from disk, so a
//! rebuilt app shows without recompiling. When `web/dist` is missing the crate still
//! builds, and the pages answer with how to build the app.
//!
//! Limitation: a release binary compiled while `web/dist` was missing keeps that answer
//! even after the app is built, because cargo does not watch a folder that did not exist;
//! `scripts/run` builds the app before cargo, which avoids it.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

use crate::error::ErrorBody;

#[derive(RustEmbed)]
#[folder = "../web/dist/"]
#[allow_missing = true]
struct WebDist;

/// The one HTML page every app route answers; the app picks its screen by path.
const INDEX: &str = "index.html";
/// The embed snippet, at a fixed name because other sites link to it.
const EMBED: &str = "embed.js";

/// What the pages may load: their own files, catalog images from anywhere, camera streams.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src * data: blob:; \
     media-src 'self' blob:; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; \
     object-src 'none'; base-uri 'self'";

/// Served in place of the app when `web/dist` was not built.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
    <title>Vitrine: web app not built</title>\
    <h1>The web app is not built</h1>\
    <p>This server has no <code>web/dist</code>. Build it with \
    <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, or start the server with \
    <code>./scripts/run</code>, which builds it first. The HTTP API under <code>/v1/</code> \
    works without it.</p></html>";

/// The one HTML page of the app, with the headers every app route sends.
async fn page() -> HttpResponse {
    let Some(file) = WebDist::get(INDEX) else {
        return not_built();
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page is small and names the current hashed files: always ask again.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        // Join links carry the customer's token; keep it out of requests for images.
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(file.data.into_owned())
}

/// The customer's call page.
///
/// The page a join link opens. The link's `t` query parameter carries the participant's
/// token; the page's script reads it, the server does not.
#[utoipa::path(
    get,
    path = "/s/{session_id}",
    tag = "app",
    params(
        ("session_id" = String, Path, description = "The session to join"),
        ("t" = Option<String>, Query, description = "The participant's token, read by the page"),
    ),
    responses(
        (status = 200, description = "The app's page", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 503, description = "The web app was not built; says how to build it",
            body = String, content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn call_page() -> HttpResponse {
    page().await
}

/// The widget's page, framed by the embed snippet on a retailer's site.
#[utoipa::path(
    get,
    path = "/widget",
    tag = "app",
    responses(
        (status = 200, description = "The app's page", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 503, description = "The web app was not built; says how to build it",
            body = String, content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn widget_page() -> HttpResponse {
    page().await
}

/// The shopper console.
#[utoipa::path(
    get,
    path = "/console",
    tag = "app",
    responses(
        (status = 200, description = "The app's page", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 503, description = "The web app was not built; says how to build it",
            body = String, content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn console_page() -> HttpResponse {
    page().await
}

/// The admin pages.
#[utoipa::path(
    get,
    path = "/admin",
    tag = "app",
    responses(
        (status = 200, description = "The app's page", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 503, description = "The web app was not built; says how to build it",
            body = String, content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn admin_page() -> HttpResponse {
    page().await
}

/// The embed snippet, loaded by a classic `<script>` tag on any site.
#[utoipa::path(
    get,
    path = "/embed.js",
    tag = "app",
    responses(
        (status = 200, description = "The snippet, cached for 5 minutes", body = String,
            content_type = "text/javascript; charset=utf-8"),
        (status = 503, description = "The web app was not built; says how to build it",
            body = String, content_type = "text/html; charset=utf-8"),
    )
)]
pub async fn embed_script() -> HttpResponse {
    let Some(file) = WebDist::get(EMBED) else {
        return not_built();
    };
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        // Its name never changes, so caches must check back soon after a release.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(file.data.into_owned())
}

/// A hashed file of the app under `/assets/`.
///
/// Cached for a year: the hash in the name changes with the content. The media type
/// follows the file's extension.
#[utoipa::path(
    get,
    path = "/assets/{file}",
    tag = "app",
    params(
        ("file" = String, Path,
            description = "The file's path under `assets/`; may contain `/`, but no empty or `..` part"),
    ),
    responses(
        (status = 200, description = "The file", content(
            ("text/javascript; charset=utf-8"),
            ("text/css; charset=utf-8"),
            ("application/json"),
            ("image/svg+xml"),
            ("image/png"),
            ("image/webp"),
            ("font/woff2"),
            ("text/html; charset=utf-8"),
            ("application/octet-stream"),
        )),
        (status = 404, description = "No such file", body = ErrorBody),
    )
)]
pub async fn asset(path: web::Path<String>) -> HttpResponse {
    let name = format!("assets/{}", path.into_inner());
    // Only files inside the app folder, whatever the request spells.
    if name.split('/').any(|part| part == ".." || part.is_empty()) {
        return crate::routes::not_found().await;
    }
    match WebDist::get(&name) {
        Some(file) => HttpResponse::Ok()
            .content_type(content_type(&name))
            // The hash in the name changes with the content.
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(file.data.into_owned()),
        None => crate::routes::not_found().await,
    }
}

fn not_built() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(NOT_BUILT)
}

/// The media type of an app file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_files_get_their_media_type() {
        assert_eq!(
            content_type("assets/index-1a2b.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/index-1a2b.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/no-extension"),
            "application/octet-stream"
        );
    }
}
