//! Killing the `vitrine` process mid-session loses nothing that was acknowledged.

use serde_json::{json, Value};
use vitrine_tests::call::{demo, push_card, Call};
use vitrine_tests::node::ServerProcess;
use vitrine_tests::ws::WsClient;

/// The session state without what lives only in memory (who is connected now).
fn durable(mut state: Value) -> Value {
    if let Some(ps) = state["participants"].as_array_mut() {
        for p in ps {
            p.as_object_mut().unwrap().remove("connected");
        }
    }
    state
}

/// SIGKILL the server mid-session, start it again on the same data directory: the state
/// is identical, every acknowledged command is there once, acknowledged command ids are
/// still remembered, and a client resuming gets exactly the events it missed.
#[actix_web::test]
async fn a_killed_server_restarts_with_the_same_session_and_resume_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let api = server.api.clone();
    let mut call = Call::start(&api, server.admin()).await;

    // The customer sees the first part, then stops reading.
    let r = call.shopper.command(push_card("seen")).await;
    assert!(call.customer.wait_for_seq(r.seq.unwrap()).await);
    let seen = *call.customer.seqs().last().unwrap();

    // More happens that the customer does not see; every command is acknowledged.
    let mut acked = Vec::new();
    for i in 0..15 {
        let r = call
            .shopper
            .command(push_card(&format!("unseen {i}")))
            .await;
        acked.push(r);
        let r = call
            .shopper
            .command(json!({"type": "chat.send", "text": format!("nota {i} — ñ")}))
            .await;
        acked.push(r);
    }
    let added = call
        .shopper
        .command(
            json!({"id": "add-once", "type": "cart.add", "variant_id": demo::PLENTIFUL,
                        "quantity": 2}),
        )
        .await;
    assert!(added.ok, "{added:?}");
    acked.push(added.clone());
    // A few commands are in flight when the process dies; they may or may not survive.
    for i in 0..5 {
        let id = call.shopper.new_id();
        let mut f = push_card(&format!("in flight {i}"));
        f["id"] = json!(id);
        call.shopper.send_text(&f.to_string()).await;
    }
    let before = api
        .get(&format!("/v1/sessions/{}", call.session_id), server.admin())
        .await
        .body;

    // Act: kill without warning and start again on the same data.
    server.kill();
    let server = ServerProcess::start(dir.path(), &[]).await;
    let api = server.api.clone();

    // Assert: the state is the same, apart from what was in flight after it was read.
    let after = api
        .get(&format!("/v1/sessions/{}", call.session_id), server.admin())
        .await
        .body;
    let log = api
        .get(
            &format!("/v1/sessions/{}/events?limit=1000", call.session_id),
            server.admin(),
        )
        .await
        .body;
    let seqs: Vec<u64> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the log has no gaps"
    );
    for r in &acked {
        let seq = r.seq.unwrap();
        assert_eq!(
            seqs.iter().filter(|s| **s == seq).count(),
            1,
            "acked {seq} is stored once"
        );
    }
    let stored_before = before["seq"].as_u64().unwrap();
    if after["seq"].as_u64().unwrap() == stored_before {
        assert_eq!(durable(after.clone()), durable(before.clone()));
    } else {
        // In-flight cards landed after the state was read: everything else is unchanged.
        let mut trimmed = durable(after.clone());
        let cards = trimmed["cards"].as_array_mut().unwrap();
        cards.retain(|c| c["seq"].as_u64().unwrap() <= stored_before);
        trimmed["seq"] = before["seq"].clone();
        assert_eq!(trimmed, durable(before.clone()));
    }

    // The acknowledged cart command is remembered: re-sending it changes nothing.
    let mut shopper = WsClient::connect(&api).await;
    shopper
        .hello(&call.shopper_token, &call.session_id, None)
        .await;
    let again = shopper
        .command(
            json!({"id": "add-once", "type": "cart.add", "variant_id": demo::PLENTIFUL,
                        "quantity": 2}),
        )
        .await;
    assert_eq!(again.seq, added.seq);
    assert_eq!(again.data, added.data);

    // The customer resumes from what it saw and gets exactly the rest, in order.
    let mut customer = WsClient::connect(&api).await;
    let welcome = customer
        .hello(&call.customer_token, &call.session_id, Some(seen))
        .await;
    assert!(customer.wait_for_seq(welcome.seq).await);
    let got = customer.seqs();
    let want: Vec<u64> = (seen + 1..=welcome.seq).collect();
    assert_eq!(got, want);
    let unseen_cards = customer
        .events
        .iter()
        .filter(|e| {
            e.data["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("unseen"))
        })
        .count();
    assert_eq!(unseen_cards, 15);
}

/// Waits until the demo tenant's session `session` has no actor (it stopped when idle).
async fn wait_until_stopped(node: &vitrine_tests::node::TestNode, session: &str) {
    let key = vitrine_engine::directory::SessionKey {
        tenant: vitrine_persistence::model::TenantId::new("demo"),
        session: vitrine_persistence::model::SessionId::new(session),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while node.state.engine.directory().get(&key).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle session stops"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A cart change the commerce platform committed but the session never stored (a crash
/// between the two) is caught up when the session is next loaded: the mirror shows the
/// platform's cart, with an event saying so.
#[actix_web::test]
async fn a_cart_change_lost_to_a_crash_is_caught_up_on_the_next_load() {
    use vitrine_persistence::model::{CartId, CartLineChange, TenantId, VariantId};

    // Arrange: a live call with one line in the cart.
    let node =
        vitrine_tests::node::TestNode::start_with("[session]\nidle_timeout = \"1s\"\n").await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let added = call
        .customer
        .command(json!({"type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1}))
        .await;
    assert!(added.ok);
    let cart_id = added.data["cart"]["cart_id"].as_str().unwrap().to_owned();
    let version = added.data["cart"]["version"].as_i64().unwrap();

    // The platform commits a change the session never hears of.
    let store = node.state.engine.store().clone();
    store
        .set_cart_line(
            &TenantId::new("demo"),
            &CartLineChange {
                cart_id: CartId::new(cart_id.clone()),
                expected_version: version,
                variant_id: VariantId::new(demo::PLENTIFUL),
                quantity: 4,
                idempotency_key: "lost-in-a-crash".into(),
            },
        )
        .await
        .unwrap();
    let (shopper_token, customer_token, session) = (
        call.shopper_token.clone(),
        call.customer_token.clone(),
        call.session_id.clone(),
    );
    call.shopper.close().await;
    call.customer.close().await;
    wait_until_stopped(&node, &session).await;

    // Act: the next participant loads the session again.
    let mut back = WsClient::connect(&node.api).await;
    let welcome = back.hello(&customer_token, &session, None).await;

    // Assert
    assert_eq!(welcome.session["cart"]["lines"][0]["quantity"], 4);
    let log = node
        .api
        .get(
            &format!("/v1/sessions/{session}/events?limit=1000"),
            node.admin(),
        )
        .await;
    let caught_up = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cart.updated" && e["by"].is_null())
        .expect("a catch-up event by nobody");
    assert_eq!(caught_up["data"]["cart"]["lines"][0]["quantity"], 4);
    let mut shopper = WsClient::connect(&node.api).await;
    shopper.hello(&shopper_token, &session, None).await;
    let more = shopper
        .command(json!({"type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1}))
        .await;
    assert!(more.ok, "the cart is editable again: {more:?}");
    assert_eq!(more.data["cart"]["lines"][0]["quantity"], 5);
}

/// A checkout the platform committed but the session never stored shows up as the
/// session's order on the next load, and the customer can shop on in the new cart.
#[actix_web::test]
async fn a_checkout_lost_to_a_crash_is_caught_up_on_the_next_load() {
    use vitrine_persistence::model::{
        CartId, OrderId, OrderLine, ProductId, SessionId, TenantId, VariantId,
    };
    use vitrine_persistence::NewOrder;

    // Arrange
    let node =
        vitrine_tests::node::TestNode::start_with("[session]\nidle_timeout = \"1s\"\n").await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let added = call
        .customer
        .command(json!({"type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 2}))
        .await;
    let cart = added.data["cart"].clone();
    let store = node.state.engine.store().clone();
    let unit = cart["lines"][0]["unit_price"]["amount_minor"]
        .as_i64()
        .unwrap();
    let placed = store
        .place_order(
            &TenantId::new("demo"),
            &NewOrder {
                order_id: OrderId::generate(),
                cart_id: CartId::new(cart["cart_id"].as_str().unwrap()),
                expected_version: cart["version"].as_i64().unwrap(),
                session_id: Some(SessionId::new(call.session_id.clone())),
                lines: vec![OrderLine {
                    variant_id: VariantId::new(demo::PLENTIFUL),
                    product_id: ProductId::new(cart["lines"][0]["product_id"].as_str().unwrap()),
                    title: "x".into(),
                    quantity: 2,
                    unit_price_minor: unit,
                    line_total_minor: 2 * unit,
                }],
                total_minor: 2 * unit,
                currency: "USD".into(),
                created_at: vitrine_persistence::now(),
            },
        )
        .await
        .unwrap();
    let (customer_token, session) = (call.customer_token.clone(), call.session_id.clone());
    call.shopper.close().await;
    call.customer.close().await;
    wait_until_stopped(&node, &session).await;

    // Act
    let mut back = WsClient::connect(&node.api).await;
    let welcome = back.hello(&customer_token, &session, None).await;

    // Assert: the order is the session's, and the cart is a fresh one.
    assert_eq!(welcome.session["order"]["order_id"], placed.id.as_str());
    assert_ne!(welcome.session["cart"]["cart_id"], cart["cart_id"]);
    assert_eq!(
        welcome.session["cart"]["lines"].as_array().unwrap().len(),
        0
    );
    let again = back
        .command(json!({"type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1}))
        .await;
    assert!(again.ok, "shopping goes on in the new cart: {again:?}");
}
