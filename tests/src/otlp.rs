//! A minimal OTLP/HTTP receiver for traces. It reads spans sent in JSON
//! (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps every one, so a test can look for
//! the ones it expects; of protobuf exports (the default) it notes only that they came.

use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// One received span.
#[derive(Clone, Debug)]
pub struct Span {
    /// Trace id (hex).
    pub trace_id: String,
    /// Span id (hex).
    pub span_id: String,
    /// Parent span id (hex), empty for a root.
    pub parent: String,
    /// Name.
    pub name: String,
    /// Span ids this span links to.
    pub links: Vec<String>,
    /// Attributes as `key = value` text.
    pub attributes: Vec<(String, String)>,
}

/// A running receiver.
pub struct Receiver {
    /// Its base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
    content_types: Arc<Mutex<Vec<String>>>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn collect(body: &Value, into: &mut Vec<Span>) {
    for rs in body["resourceSpans"].as_array().into_iter().flatten() {
        for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
            for s in ss["spans"].as_array().into_iter().flatten() {
                let attributes = s["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        let value = a["value"]
                            .as_object()
                            .and_then(|o| o.values().next())
                            .map(text)
                            .unwrap_or_default();
                        (text(&a["key"]), value)
                    })
                    .collect();
                into.push(Span {
                    trace_id: text(&s["traceId"]),
                    span_id: text(&s["spanId"]),
                    parent: s["parentSpanId"].as_str().unwrap_or_default().to_owned(),
                    name: text(&s["name"]),
                    links: s["links"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| text(&l["spanId"]))
                        .collect(),
                    attributes,
                });
            }
        }
    }
}

impl Receiver {
    /// Starts a receiver on a free loopback port (inside an actix system).
    pub fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let content_types = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&spans);
        let types = Arc::clone(&content_types);
        let server = HttpServer::new(move || {
            let kept = Arc::clone(&kept);
            let types = Arc::clone(&types);
            App::new()
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route(
                    "/v1/traces",
                    web::post().to(move |req: HttpRequest, body: web::Bytes| {
                        let kept = Arc::clone(&kept);
                        let content_type = req
                            .headers()
                            .get(header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        types.lock().expect("types lock").push(content_type);
                        async move {
                            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                                collect(&value, &mut kept.lock().expect("spans lock"));
                            }
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body("{}")
                        }
                    }),
                )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind the receiver");
        let addr = server.addrs()[0];
        actix_web::rt::spawn(server.run());
        Self {
            endpoint: format!("http://{addr}"),
            spans,
            content_types,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().expect("spans lock").clone()
    }

    /// The `Content-Type` of every export received so far.
    pub fn content_types(&self) -> Vec<String> {
        self.content_types.lock().expect("types lock").clone()
    }
}
