//! A small client for the HTTP API.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The API of one node.
#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

/// An answer: status and JSON body (or `Value::String` for non-JSON bodies).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: Value,
}

impl Api {
    /// The API at `base` (such as `http://127.0.0.1:8080`).
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            client: reqwest::Client::new(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("{}/v1/ws", self.base.replacen("http", "ws", 1))
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request reaches the server")).await
    }

    /// Sends a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request reaches the server");
        read(resp).await
    }

    /// `GET` with a token.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// `POST` JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Creates a shopper and returns `(shopper_id, staff token)`.
    pub async fn shopper(&self, admin: &str, name: &str, collections: &[&str]) -> (String, String) {
        let email = format!("{}@example.test", uuid_like());
        let created = self
            .post(
                "/v1/shoppers",
                admin,
                serde_json::json!({ "name": name, "email": email, "collections": collections }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["shopper_id"].as_str().unwrap().to_owned();
        let token = self
            .post(
                &format!("/v1/shoppers/{id}/tokens"),
                admin,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(token.status, StatusCode::CREATED, "{:?}", token.body);
        (id, token.body["token"].as_str().unwrap().to_owned())
    }

    /// Creates a session through the widget key; returns `(session_id, customer_token)`.
    pub async fn widget_session(&self, public_key: &str, customer: &str) -> (String, String) {
        let resp = self
            .client
            .post(format!("{}/v1/sessions", self.base))
            .header("X-Vitrine-Key", public_key)
            .json(&serde_json::json!({ "customer": { "name": customer } }))
            .send()
            .await
            .expect("request reaches the server");
        let answer = read(resp).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        (
            answer.body["session_id"].as_str().unwrap().to_owned(),
            answer.body["customer_token"].as_str().unwrap().to_owned(),
        )
    }
}

async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("u{t:x}{n}")
}
