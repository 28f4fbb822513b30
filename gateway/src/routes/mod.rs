//! HTTP routes, one module per resource.
//!
//! Every route is listed once, in [`table`]. [`configure`] runs the table to mount the
//! routes and [`mounted`] runs it to list them, so the list cannot drift from what the
//! server answers; the OpenAPI document (`GET /v1/openapi.json`) is checked against it.

pub mod assets;
pub mod catalog;
pub mod health;
pub mod metrics;
pub mod realtime;
pub mod sessions;
pub mod shoppers;
pub mod spec;
// `web` names actix-web's module in this file, so the app's files are `web_app` here.
#[path = "web.rs"]
pub mod web_app;

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder};
use serde_json::json;

use crate::error::extractor_error;

/// Answers any path that is not a route.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({ "error": { "code": "not_found", "message": "no such route" } }))
}

/// Largest JSON body accepted by the API.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// One mounted route: a method and a path pattern in actix-web's syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountedRoute {
    /// The HTTP method.
    pub method: Method,
    /// The pattern as mounted, such as `/v1/sessions/{id}` or `/assets/{file:.*}`.
    pub pattern: &'static str,
}

impl MountedRoute {
    /// The pattern as an OpenAPI path template: each `{name:regex}` becomes `{name}`.
    pub fn template(&self) -> String {
        let mut out = String::with_capacity(self.pattern.len());
        // Brace depth, and whether the rest of the current parameter is its regex.
        let (mut depth, mut in_regex) = (0usize, false);
        for c in self.pattern.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ':' if depth == 1 => in_regex = true,
                _ => {}
            }
            let closes_param = c == '}' && depth == 0;
            if !in_regex || closes_param {
                out.push(c);
            }
            if closes_param {
                in_regex = false;
            }
        }
        out
    }
}

/// Where the route table goes: mounted on the app, or only listed.
trait Mount {
    /// One route: `method` on `pattern`, answered by `handler`.
    fn route<F, Args>(&mut self, method: Method, pattern: &'static str, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// Mounts the table on an app.
struct Mounter<'a>(&'a mut web::ServiceConfig);

impl Mount for Mounter<'_> {
    fn route<F, Args>(&mut self, method: Method, pattern: &'static str, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.0.route(pattern, web::method(method).to(handler));
    }
}

/// Lists the table without mounting it.
#[derive(Default)]
struct Recorder(Vec<MountedRoute>);

impl Mount for Recorder {
    fn route<F, Args>(&mut self, method: Method, pattern: &'static str, _: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.0.push(MountedRoute { method, pattern });
    }
}

/// Every route of the server. Each pattern is full (no scopes), so the list reads as the
/// OpenAPI document does.
fn table(m: &mut impl Mount) {
    // Operations, for the admin network.
    m.route(Method::GET, "/healthz", health::healthz);
    m.route(Method::GET, "/readyz", health::readyz);
    m.route(Method::GET, "/metrics", metrics::metrics);
    // The landing page, the demo catalog's images and the browser app.
    m.route(Method::GET, "/", assets::index);
    m.route(Method::GET, "/demo/images/{name}", assets::demo_image);
    m.route(Method::GET, "/s/{session_id}", web_app::call_page);
    m.route(Method::GET, "/widget", web_app::widget_page);
    m.route(Method::GET, "/console", web_app::console_page);
    m.route(Method::GET, "/admin", web_app::admin_page);
    m.route(Method::GET, "/embed.js", web_app::embed_script);
    m.route(Method::GET, "/assets/{file:.*}", web_app::asset);
    // The API.
    m.route(Method::GET, "/v1/openapi.json", spec::openapi);
    m.route(Method::GET, "/v1/ws", realtime::ws);
    m.route(Method::POST, "/v1/sessions", sessions::post::create);
    m.route(Method::GET, "/v1/sessions", sessions::get::list);
    m.route(Method::GET, "/v1/sessions/{id}", sessions::get::one);
    m.route(
        Method::GET,
        "/v1/sessions/{id}/events",
        sessions::log::events,
    );
    m.route(
        Method::GET,
        "/v1/sessions/{id}/transcript",
        sessions::log::transcript,
    );
    m.route(
        Method::POST,
        "/v1/sessions/{id}/participants",
        sessions::post::invite,
    );
    m.route(Method::POST, "/v1/catalog/import", catalog::import::import);
    m.route(
        Method::GET,
        "/v1/catalog/products",
        catalog::products::search,
    );
    m.route(Method::POST, "/v1/shoppers", shoppers::create);
    m.route(Method::GET, "/v1/shoppers", shoppers::list);
    m.route(Method::POST, "/v1/shoppers/{id}/tokens", shoppers::token);
}

/// Every route [`configure`] mounts, in mounting order.
pub fn mounted() -> Vec<MountedRoute> {
    let mut recorder = Recorder::default();
    table(&mut recorder);
    recorder.0
}

/// Refuses a request whose path or query holds an encoded NUL character (`%00`) with
/// `400 invalid`: no id, name or search has one, and Postgres cannot store or compare
/// text holding it.
pub async fn refuse_nul(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let uri = req.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")) {
        return Err(
            crate::error::ApiError::invalid("the address holds a NUL character (%00)").into(),
        );
    }
    next.call(req).await
}

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
    .app_data(web::PathConfig::default().error_handler(|err, _| extractor_error(err, false)));
    table(&mut Mounter(cfg));
    cfg.default_service(web::to(not_found));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(pattern: &'static str) -> String {
        MountedRoute {
            method: Method::GET,
            pattern,
        }
        .template()
    }

    #[test]
    fn patterns_become_openapi_templates() {
        assert_eq!(template("/v1/sessions/{id}"), "/v1/sessions/{id}");
        assert_eq!(template("/assets/{file:.*}"), "/assets/{file}");
        assert_eq!(template("/a/{x:[0-9]+}/b:c/{y}"), "/a/{x}/b:c/{y}");
        assert_eq!(template("/healthz"), "/healthz");
    }

    #[test]
    fn every_route_is_mounted_once() {
        let routes = mounted();
        for (i, route) in routes.iter().enumerate() {
            assert!(
                !routes[..i].contains(route),
                "{} {} is mounted twice",
                route.method,
                route.pattern
            );
        }
    }
}
