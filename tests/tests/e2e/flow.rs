//! A whole session driven over real WebSockets, checked against the HTTP API.

use serde_json::json;
use vitrine_tests::node::TestNode;
use vitrine_tests::ws::WsClient;

/// The shopper and the customer go through a whole call, and the session the API reports
/// afterwards is exactly what the sockets saw.
#[actix_web::test]
async fn a_whole_session_over_websockets_matches_the_api_afterwards() {
    whole_session(&TestNode::start().await).await;
}

/// The same call on the Postgres store.
#[actix_web::test]
async fn a_whole_session_on_postgres_matches_the_api_afterwards() {
    let schema = vitrine_persistence::postgres::testing::TestSchema::new().await;
    whole_session(&TestNode::start_postgres(&schema, "").await).await;
}

async fn whole_session(node: &TestNode) {
    // Arrange: a shopper with a token from the API, a session with a customer token.
    let api = &node.api;
    let (_, shopper_token) = api.shopper(node.admin(), "Marta Ruiz", &["watches"]).await;
    let (session_id, customer_token) = api.widget_session("pk_demo", "Zoë Ångström").await;

    let mut shopper = WsClient::connect(api).await;
    let welcome = shopper.hello(&shopper_token, &session_id, None).await;
    assert_eq!(welcome.role, "shopper");
    let mut customer = WsClient::connect(api).await;
    let welcome = customer.hello(&customer_token, &session_id, None).await;
    assert_eq!(welcome.role, "customer");

    // Act: the call.
    let started = shopper.command(json!({"type": "session.start"})).await;
    assert!(started.ok, "{started:?}");

    let found = shopper
        .command(json!({"type": "catalog.search", "query": "watch"}))
        .await;
    assert!(found.ok, "{found:?}");
    let products = found.data["products"].as_array().unwrap();
    assert!(!products.is_empty());
    let product = &products[0];
    let variant = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["available"] == true && v["stock"].as_i64().unwrap_or(99) >= 2)
        .expect("a variant with stock")
        .clone();

    let pushed = shopper
        .command(
            json!({"type": "card.push", "product_id": product["product_id"],
                        "variant_id": variant["variant_id"], "note": "Mira esta 👀"}),
        )
        .await;
    assert!(pushed.ok, "{pushed:?}");

    let first = customer
        .command(json!({"type": "cart.add", "variant_id": variant["variant_id"], "quantity": 1}))
        .await;
    assert!(first.ok, "{first:?}");
    let second = customer
        .command(json!({"type": "cart.add", "variant_id": variant["variant_id"], "quantity": 1}))
        .await;
    assert!(second.ok, "{second:?}");
    assert_eq!(second.data["cart"]["lines"][0]["quantity"], 2);

    let text = "¿Me queda bien? 日本語もOK — ünïcödé ✨";
    let chat = customer
        .command(json!({"type": "chat.send", "text": text}))
        .await;
    assert!(chat.ok, "{chat:?}");

    let checkout = customer.command(json!({"type": "checkout"})).await;
    assert!(checkout.ok, "{checkout:?}");
    let order = checkout.data["order"].clone();
    assert_eq!(order["lines"][0]["quantity"], 2);

    let ended = shopper
        .command(json!({"type": "session.end", "reason": "done"}))
        .await;
    assert!(ended.ok, "{ended:?}");
    let survey = customer
        .command(json!({"type": "survey.submit", "score": 10, "comment": "¡Genial!"}))
        .await;
    assert!(survey.ok, "{survey:?}");
    let last_seq = survey.seq.unwrap();

    // Assert: both saw every event in order, and the API agrees with them.
    assert!(shopper.wait_for_seq(last_seq).await);
    assert!(customer.wait_for_seq(last_seq).await);
    let staff_seqs = shopper.seqs();
    assert!(
        staff_seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "{staff_seqs:?}"
    );
    let customer_kinds: Vec<&str> = customer.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(!customer_kinds.contains(&"product.searched"));

    let state = api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    assert_eq!(state.status, 200, "{:?}", state.body);
    let s = &state.body;
    assert_eq!(s["status"], "ended");
    assert_eq!(s["seq"], last_seq);
    assert_eq!(s["cards"].as_array().unwrap().len(), 1);
    assert_eq!(s["cards"][0]["product_id"], product["product_id"]);
    assert_eq!(s["cards"][0]["note"], "Mira esta 👀");
    assert_eq!(s["order"], order);
    assert_eq!(s["cart"], checkout.data["cart"]);
    assert_eq!(s["chat"][0]["text"], text);
    assert_eq!(s["survey"]["score"], 10);

    let shared = shopper
        .events
        .iter()
        .find(|e| e.kind == "product.shared")
        .unwrap();
    assert_eq!(s["cards"][0]["title"], shared.data["card"]["title"]);
    let cart_event = customer
        .events
        .iter()
        .rev()
        .find(|e| e.kind == "cart.updated")
        .unwrap();
    assert_eq!(cart_event.data["cart"]["lines"][0]["quantity"], 2);
    let chat_event = customer
        .events
        .iter()
        .find(|e| e.kind == "chat.message")
        .unwrap();
    assert_eq!(chat_event.data["text"], text);
    assert_eq!(s["chat"][0]["seq"], chat_event.seq);
}
