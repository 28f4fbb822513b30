//! What the browser app needs from a node: its pages and files under their routes, and the
//! console's queue, which shoppers read without the analytics module.

use reqwest::StatusCode;
use serde_json::Value;
use vitrine_tests::http::Answer;
use vitrine_tests::node::TestNode;

/// Ids in a session list answer.
fn ids(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["sessions"]
        .as_array()
        .expect("a sessions array")
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A shopper (roles `["shopper"]`: `video_calls` only) takes calls from the queue: they
/// list requested sessions and their own, but not the tenant's history, which needs
/// `analytics`.
#[actix_web::test]
async fn a_shopper_lists_the_queue_and_their_own_sessions_but_not_the_history() {
    // Arrange
    let node = TestNode::start().await;
    let api = &node.api;
    let (shopper_id, shopper) = api.shopper(node.admin(), "Marta Ruiz", &["watches"]).await;
    let (other_id, _) = api.shopper(node.admin(), "Joan Vidal", &[]).await;
    let (waiting, _) = api.widget_session("pk_demo", "Zoë Ångström").await;
    let own = api
        .post(
            "/v1/sessions",
            &shopper,
            serde_json::json!({ "customer": { "name": "Private client" } }),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{:?}", own.body);
    let own = own.body["session_id"].as_str().unwrap().to_owned();

    // Act
    let queue = api.get("/v1/sessions?status=requested", &shopper).await;
    let mine = api
        .get(&format!("/v1/sessions?shopper_id={shopper_id}"), &shopper)
        .await;

    // Assert
    let queue = ids(&queue);
    assert!(queue.contains(&waiting), "{queue:?}");
    assert!(
        !queue.contains(&own),
        "a matched session is not in the queue"
    );
    assert_eq!(ids(&mine), vec![own]);
    for path in [
        "/v1/sessions".to_owned(),
        "/v1/sessions?status=ended".to_owned(),
        format!("/v1/sessions?shopper_id={other_id}"),
        format!("/v1/sessions?status=requested&shopper_id={other_id}"),
    ] {
        let refused = api.get(&path, &shopper).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {:?}",
            refused.body
        );
        assert_eq!(refused.body["error"]["code"], "forbidden");
    }
}

/// Every app route answers the app's page when `web/dist` is built, and a page saying how
/// to build it when not; files outside the app folder are never served.
#[actix_web::test]
async fn the_app_pages_are_served_or_explain_how_to_build_them() {
    let node = TestNode::start().await;
    let client = reqwest::Client::new();
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../web/dist/index.html")
        .is_file();

    for path in [
        "/console",
        "/admin",
        "/widget?key=pk_demo",
        "/s/ses_any?t=x",
    ] {
        let resp = client
            .get(format!("{}{path}", node.api.base()))
            .send()
            .await
            .expect("request reaches the server");
        let status = resp.status();
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        let csp = resp.headers().contains_key("content-security-policy");
        let body = resp.text().await.unwrap();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        if built {
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(csp, "{path} has a content security policy");
            assert!(body.contains("id=\"app\""), "{path}: {body}");
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(body.contains("npm run build"), "{path}: {body}");
        }
    }

    let embed = client
        .get(format!("{}/embed.js", node.api.base()))
        .send()
        .await
        .unwrap();
    if built {
        assert_eq!(embed.status(), StatusCode::OK);
        assert!(embed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
    }

    for path in ["/assets/..%2F..%2FCargo.toml", "/assets/missing.js"] {
        let answer = node.api.call(reqwest::Method::GET, path, None, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"]["code"], Value::from("not_found"));
    }
}
