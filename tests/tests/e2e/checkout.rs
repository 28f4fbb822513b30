//! Checkout over real WebSockets: the race for the last unit, empty carts, retries and who
//! may check out.

use serde_json::{json, Value};
use vitrine_tests::node::TestNode;
use vitrine_tests::ws::{Reply, WsClient};
use vitrine_tests::PATIENCE;

/// The demo variant with exactly one unit in stock.
const LAST_UNIT: &str = "VDS-WAT-MER-42MM-BLA";
/// A demo variant of the same product with four units.
const FOUR_UNITS: &str = "VDS-WAT-MER-38MM-BLA";
/// Price of both, in cents.
const MERIDIAN_PRICE: i64 = 42_000;

/// The demo catalog, to put stock back between races.
const DEMO_CATALOG: &[u8] = include_bytes!("../../../engine/assets/demo-catalog.csv");

/// A live session: its id, the shopper's and the customer's connections.
struct Live {
    session_id: String,
    shopper: WsClient,
    customer: WsClient,
}

/// A widget session that `shopper_token`'s shopper has joined and started, with the
/// customer connected.
async fn live_session(node: &TestNode, shopper_token: &str, customer_name: &str) -> Live {
    let api = &node.api;
    let (session_id, customer_token) = api.widget_session("pk_demo", customer_name).await;
    let mut shopper = WsClient::connect(api).await;
    let welcome = shopper.hello(shopper_token, &session_id, None).await;
    assert_eq!(welcome.role, "shopper");
    let started = shopper.command(json!({"type": "session.start"})).await;
    assert!(started.ok, "{started:?}");
    let mut customer = WsClient::connect(api).await;
    let welcome = customer.hello(&customer_token, &session_id, None).await;
    assert_eq!(welcome.role, "customer");
    assert_eq!(welcome.session["status"], "live");
    Live {
        session_id,
        shopper,
        customer,
    }
}

async fn session_state(node: &TestNode, session_id: &str) -> Value {
    let state = node
        .api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    assert_eq!(state.status, 200, "{:?}", state.body);
    state.body
}

/// The stock of a demo variant, as catalog search shows it.
async fn stock_of(node: &TestNode, variant_id: &str) -> (i64, bool) {
    let found = node
        .api
        .get("/v1/catalog/products?q=meridian&limit=5", node.admin())
        .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    let variant = found.body["products"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["variants"].as_array().unwrap().iter())
        .find(|v| v["variant_id"] == variant_id)
        .unwrap_or_else(|| panic!("{variant_id} is in the catalog"))
        .clone();
    (
        variant["stock"].as_i64().expect("tracked stock"),
        variant["available"].as_bool().unwrap(),
    )
}

async fn add(client: &mut WsClient, variant_id: &str, quantity: i64) -> Reply {
    client
        .command(json!({"type": "cart.add", "variant_id": variant_id, "quantity": quantity}))
        .await
}

/// Two customers in two sessions check out the last unit at the same moment: exactly one
/// gets the order, the other `out_of_stock`, and the stock ends at zero. Run several
/// times, on two nodes, with the stock put back between runs.
#[actix_web::test]
async fn two_concurrent_checkouts_of_the_last_unit_sell_it_exactly_once() {
    let mut winners = [0usize; 2];
    for _node in 0..2 {
        // Arrange: a node and two shoppers.
        let node = TestNode::start().await;
        let api = &node.api;
        let (_, first_shopper) = api.shopper(node.admin(), "Lucía Gómez", &["watches"]).await;
        let (_, second_shopper) = api.shopper(node.admin(), "Kenji Sato", &["watches"]).await;

        for round in 0..3 {
            if round > 0 {
                let reset = api
                    .post_raw(
                        "/v1/catalog/import",
                        node.admin(),
                        "text/csv",
                        DEMO_CATALOG.to_vec(),
                    )
                    .await;
                assert_eq!(reset.status, 200, "{:?}", reset.body);
            }
            assert_eq!(stock_of(&node, LAST_UNIT).await, (1, true));

            let mut a = live_session(&node, &first_shopper, "Ana Álvarez").await;
            let mut b = live_session(&node, &second_shopper, "Björn Øst").await;
            let added = add(&mut a.customer, LAST_UNIT, 1).await;
            assert!(added.ok, "{added:?}");
            let added = add(&mut b.customer, LAST_UNIT, 1).await;
            assert!(added.ok, "{added:?}");

            // Act: both check out at once.
            let (ra, rb) = tokio::join!(
                a.customer.command(json!({"type": "checkout"})),
                b.customer.command(json!({"type": "checkout"}))
            );

            // Assert: one order, one refusal.
            assert!(
                ra.ok != rb.ok,
                "exactly one checkout succeeds: {ra:?} {rb:?}"
            );
            let (winner, win, loser, lose) = if ra.ok {
                winners[0] += 1;
                (&mut a, ra, &mut b, rb)
            } else {
                winners[1] += 1;
                (&mut b, rb, &mut a, ra)
            };
            assert_eq!(lose.code(), "out_of_stock", "{lose:?}");
            let order = &win.data["order"];
            assert!(order["order_id"].is_string(), "{win:?}");
            assert_eq!(order["lines"].as_array().unwrap().len(), 1);
            assert_eq!(order["lines"][0]["variant_id"], LAST_UNIT);
            assert_eq!(order["lines"][0]["quantity"], 1);
            assert_eq!(order["total"]["amount_minor"], MERIDIAN_PRICE);
            assert_eq!(order["currency"], "USD");

            let won = session_state(&node, &winner.session_id).await;
            assert_eq!(&won["order"], order);
            assert_eq!(won["orders"].as_array().unwrap().len(), 1);
            assert_eq!(
                won["cart"]["lines"],
                json!([]),
                "a fresh cart follows the order"
            );
            let lost = session_state(&node, &loser.session_id).await;
            assert_eq!(lost["order"], Value::Null);
            assert_eq!(lost["orders"], json!([]));
            assert_eq!(lost["cart"]["lines"][0]["variant_id"], LAST_UNIT);

            assert_eq!(stock_of(&node, LAST_UNIT).await, (0, false));
            let again = add(&mut loser.customer, LAST_UNIT, 1).await;
            assert_eq!(again.code(), "out_of_stock", "{again:?}");
            let retry = loser.customer.command(json!({"type": "checkout"})).await;
            assert_eq!(retry.code(), "out_of_stock", "{retry:?}");
            assert_eq!(stock_of(&node, LAST_UNIT).await, (0, false));

            // The winner's shopper saw the order as an event.
            let seq = win.seq.expect("the order is an event");
            assert!(winner.shopper.wait_for_seq(seq).await);
            assert!(winner
                .shopper
                .events
                .iter()
                .any(|e| e.kind == "order.created" && &e.data["order"] == order));
        }
    }
    assert_eq!(winners.iter().sum::<usize>(), 6);
}

/// Checking out an empty cart is refused as invalid and places no order.
#[actix_web::test]
async fn checkout_of_an_empty_cart_is_refused() {
    // Arrange.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Ewa Nowak", &[]).await;
    let mut live = live_session(&node, &shopper, "Tomás Ruiz").await;

    // Act.
    let reply = live.customer.command(json!({"type": "checkout"})).await;

    // Assert.
    assert!(!reply.ok);
    assert_eq!(reply.code(), "invalid", "{reply:?}");
    assert!(reply.seq.is_none());
    let state = session_state(&node, &live.session_id).await;
    assert_eq!(state["orders"], json!([]));
    assert_eq!(state["order"], Value::Null);
}

/// A checkout re-sent with the same command id, while the first is in flight, after it
/// has been answered and from a new connection, gets the original reply each time: one
/// order, one unit taken from stock.
#[actix_web::test]
async fn a_resent_checkout_returns_the_same_order_once() {
    // Arrange.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Amara Okafor", &[]).await;
    let (session_id, customer_token) = node.api.widget_session("pk_demo", "Lena Fischer").await;
    let mut staff = WsClient::connect(&node.api).await;
    staff.hello(&shopper, &session_id, None).await;
    assert!(staff.command(json!({"type": "session.start"})).await.ok);
    let mut customer = WsClient::connect(&node.api).await;
    customer.hello(&customer_token, &session_id, None).await;
    let added = add(&mut customer, FOUR_UNITS, 1).await;
    assert!(added.ok, "{added:?}");
    assert_eq!(stock_of(&node, FOUR_UNITS).await, (4, true));
    let checkout = json!({"id": "checkout-1", "type": "checkout"}).to_string();

    // Act: twice back to back, once more after the replies, once from a new connection.
    customer.send_text(&checkout).await;
    customer.send_text(&checkout).await;
    let both = customer
        .wait_until(
            |c| c.replies.iter().filter(|r| r.id == "checkout-1").count() == 2,
            PATIENCE,
        )
        .await;
    assert!(both, "two replies to checkout-1: {:?}", customer.replies);
    customer.send_text(&checkout).await;
    let third = customer
        .wait_until(
            |c| c.replies.iter().filter(|r| r.id == "checkout-1").count() == 3,
            PATIENCE,
        )
        .await;
    assert!(third, "{:?}", customer.replies);
    let replies: Vec<Reply> = customer
        .replies
        .iter()
        .filter(|r| r.id == "checkout-1")
        .cloned()
        .collect();
    customer.close().await;
    let mut again = WsClient::connect(&node.api).await;
    again.hello(&customer_token, &session_id, None).await;
    again.send_text(&checkout).await;
    let fourth = again.reply_to("checkout-1").await;

    // Assert.
    let first = &replies[0];
    assert!(first.ok, "{first:?}");
    assert!(replies.iter().all(|r| r == first), "{replies:?}");
    assert_eq!(&fourth, first);

    let state = session_state(&node, &session_id).await;
    assert_eq!(state["orders"].as_array().unwrap().len(), 1);
    assert_eq!(state["order"], first.data["order"]);
    assert_eq!(stock_of(&node, FOUR_UNITS).await, (3, true));
    let log = node
        .api
        .get(
            &format!("/v1/sessions/{session_id}/events?limit=1000"),
            node.admin(),
        )
        .await;
    let orders = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "order.created")
        .count();
    assert_eq!(orders, 1);
}

/// Only the customer checks out: a shopper who filled the cart is refused as forbidden.
#[actix_web::test]
async fn a_shopper_cannot_check_out() {
    // Arrange.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Noor Haddad", &[]).await;
    let mut live = live_session(&node, &shopper, "Paul Martin").await;
    let added = add(&mut live.shopper, FOUR_UNITS, 1).await;
    assert!(added.ok, "a shopper may fill the cart: {added:?}");

    // Act.
    let reply = live.shopper.command(json!({"type": "checkout"})).await;

    // Assert.
    assert_eq!(reply.code(), "forbidden", "{reply:?}");
    let state = session_state(&node, &live.session_id).await;
    assert_eq!(state["orders"], json!([]));
    assert_eq!(state["cart"]["lines"][0]["variant_id"], FOUR_UNITS);
    assert_eq!(stock_of(&node, FOUR_UNITS).await, (4, true));
    // The customer can.
    let bought = live.customer.command(json!({"type": "checkout"})).await;
    assert!(bought.ok, "{bought:?}");
}
