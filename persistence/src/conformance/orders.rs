//! Checks of checkout: stock decrements, closed carts, idempotent and racing orders.

use std::sync::Arc;

use crate::error::PlaceOrderError;
use crate::model::{CartId, CartStatus, Order, OrderId, SessionId, TenantId, VariantId};
use crate::store::{NewOrder, Store};

use super::support::{
    backorder_variant, given_cart, given_customer, given_products, given_tenant, order_for,
    product, stock_of, variant, CURRENCY,
};

/// A tenant whose catalog has, per variant: `var_five` (5 on hand), `var_last` (1 on
/// hand), `var_back` (1 on hand, backorders allowed) and `var_free` (untracked).
async fn given_shop(store: &dyn Store) -> TenantId {
    let tenant = given_tenant(store, "ten_a").await;
    let catalog = [
        product(
            "prd_five",
            "Five Left",
            &["tops"],
            vec![variant("var_five", 1_000, Some(5))],
        ),
        product(
            "prd_last",
            "Last One",
            &["tops"],
            vec![variant("var_last", 2_000, Some(1))],
        ),
        product(
            "prd_back",
            "Made To Order",
            &["tops"],
            vec![backorder_variant("var_back", 3_000, Some(1))],
        ),
        product(
            "prd_free",
            "Gift Card",
            &["gifts"],
            vec![variant("var_free", 500, None)],
        ),
    ];
    given_products(store, &tenant, &catalog).await;
    tenant
}

/// The order the store should report for `new`, placed by `customer`.
fn expected_order(new: &NewOrder, customer: &str) -> Order {
    Order {
        id: new.order_id.clone(),
        cart_id: new.cart_id.clone(),
        session_id: new.session_id.clone(),
        customer_id: customer.into(),
        lines: new.lines.clone(),
        total_minor: new.total_minor,
        currency: new.currency.clone(),
        created_at: new.created_at,
    }
}

/// The cart's status as stored.
async fn cart_status(store: &dyn Store, tenant: &TenantId, id: &CartId) -> CartStatus {
    store
        .cart(tenant, id)
        .await
        .expect("read the cart")
        .expect("the cart exists")
        .status
}

pub(crate) async fn placing_an_order_decrements_stock_and_closes_the_cart(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(
        &*store,
        &tenant,
        &buyer,
        &[("var_five", 2), ("var_free", 3)],
    )
    .await;
    let new = NewOrder {
        session_id: Some(SessionId::new("ses_of_cus_1")),
        ..order_for(&cart)
    };

    // Act
    let order = store
        .place_order(&tenant, &new)
        .await
        .expect("place the order");

    // Assert
    assert_eq!(order, expected_order(&new, "cus_1"));
    assert_eq!(order.total_minor, 2 * 1_000 + 3 * 500);
    assert_eq!(
        store.order(&tenant, &new.order_id).await.expect("read"),
        Some(order)
    );
    assert_eq!(stock_of(&*store, &tenant, "var_five").await, Some(3));
    assert_eq!(stock_of(&*store, &tenant, "var_free").await, None);
    assert_eq!(
        cart_status(&*store, &tenant, &cart.id).await,
        CartStatus::Ordered
    );
    let next = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");
    assert_ne!(next.id, cart.id);
    assert!(next.lines.is_empty());
}

pub(crate) async fn placing_an_order_again_for_the_same_cart_returns_the_first_order(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(&*store, &tenant, &buyer, &[("var_five", 2)]).await;
    let first = order_for(&cart);
    let retry = order_for(&cart);
    let placed = store
        .place_order(&tenant, &first)
        .await
        .expect("place the order");

    // Act
    let again = store
        .place_order(&tenant, &retry)
        .await
        .expect("place it again");

    // Assert
    assert_eq!(again, placed);
    assert_eq!(again.id, first.order_id);
    assert_eq!(
        store.order(&tenant, &retry.order_id).await.expect("read"),
        None
    );
    assert_eq!(stock_of(&*store, &tenant, "var_five").await, Some(3));
}

pub(crate) async fn concurrent_orders_for_one_cart_produce_one_order(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(&*store, &tenant, &buyer, &[("var_five", 2)]).await;
    let (a, b) = (order_for(&cart), order_for(&cart));

    // Act
    let (placed_a, placed_b) = tokio::join!(
        store.place_order(&tenant, &a),
        store.place_order(&tenant, &b)
    );

    // Assert
    let (placed_a, placed_b) = (placed_a.expect("place"), placed_b.expect("place"));
    assert_eq!(placed_a, placed_b);
    assert!([&a.order_id, &b.order_id].contains(&&placed_a.id));
    assert_eq!(stock_of(&*store, &tenant, "var_five").await, Some(3));
}

pub(crate) async fn an_order_beyond_stock_is_out_of_stock_and_changes_nothing(
    store: Arc<dyn Store>,
) {
    // Arrange: the first line fits the stock, the second does not.
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(
        &*store,
        &tenant,
        &buyer,
        &[("var_five", 1), ("var_last", 2)],
    )
    .await;
    let new = order_for(&cart);

    // Act
    let err = store
        .place_order(&tenant, &new)
        .await
        .expect_err("out of stock");

    // Assert
    match err {
        PlaceOrderError::OutOfStock(variant) => assert_eq!(variant, VariantId::new("var_last")),
        other => panic!("expected out of stock, got {other:?}"),
    }
    assert_eq!(stock_of(&*store, &tenant, "var_five").await, Some(5));
    assert_eq!(stock_of(&*store, &tenant, "var_last").await, Some(1));
    let after = store
        .cart(&tenant, &cart.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(after, cart);
    assert_eq!(
        store.order(&tenant, &new.order_id).await.expect("read"),
        None
    );
}

pub(crate) async fn a_backorderable_variant_may_sell_past_zero_stock(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(&*store, &tenant, &buyer, &[("var_back", 3)]).await;

    // Act
    let order = store.place_order(&tenant, &order_for(&cart)).await;

    // Assert
    assert!(order.is_ok(), "got {order:?}");
    assert_eq!(stock_of(&*store, &tenant, "var_back").await, Some(-2));
}

pub(crate) async fn untracked_stock_never_blocks_an_order(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(&*store, &tenant, &buyer, &[("var_free", 1_000)]).await;

    // Act
    let order = store.place_order(&tenant, &order_for(&cart)).await;

    // Assert
    assert!(order.is_ok(), "got {order:?}");
    assert_eq!(stock_of(&*store, &tenant, "var_free").await, None);
}

/// Two customers check out at the same moment, each wanting the last unit: exactly one
/// order is placed and the stock ends at zero, never below.
pub(crate) async fn two_checkouts_racing_for_the_last_unit_place_one_order(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let ada = given_customer(&*store, &tenant, "cus_ada").await;
    let bea = given_customer(&*store, &tenant, "cus_bea").await;
    let ada_cart = given_cart(&*store, &tenant, &ada, &[("var_last", 1)]).await;
    let bea_cart = given_cart(&*store, &tenant, &bea, &[("var_last", 1)]).await;
    let (ada_order, bea_order) = (order_for(&ada_cart), order_for(&bea_cart));

    // Act
    let (ada_result, bea_result) = {
        let (s1, s2) = (Arc::clone(&store), Arc::clone(&store));
        let (t1, t2) = (tenant.clone(), tenant.clone());
        let first = tokio::spawn(async move { s1.place_order(&t1, &ada_order).await });
        let second = tokio::spawn(async move { s2.place_order(&t2, &bea_order).await });
        (first.await.expect("join"), second.await.expect("join"))
    };

    // Assert
    let results = [&ada_result, &bea_result];
    let placed: Vec<&Order> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(placed.len(), 1, "got {results:?}");
    let refused = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("one refused");
    assert!(
        matches!(refused, PlaceOrderError::OutOfStock(v) if v.as_str() == "var_last"),
        "got {refused:?}"
    );
    assert_eq!(stock_of(&*store, &tenant, "var_last").await, Some(0));
    let (winner, loser) = if ada_result.is_ok() {
        (&ada_cart, &bea_cart)
    } else {
        (&bea_cart, &ada_cart)
    };
    assert_eq!(placed[0].cart_id, winner.id);
    assert_eq!(
        cart_status(&*store, &tenant, &winner.id).await,
        CartStatus::Ordered
    );
    assert_eq!(
        cart_status(&*store, &tenant, &loser.id).await,
        CartStatus::Open
    );
}

pub(crate) async fn an_order_at_a_stale_cart_version_is_a_conflict(store: Arc<dyn Store>) {
    // Arrange: the cart changed after the order was priced.
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let priced = given_cart(&*store, &tenant, &buyer, &[("var_five", 1)]).await;
    let stale = order_for(&priced);
    given_cart(&*store, &tenant, &buyer, &[("var_five", 4)]).await;

    // Act
    let err = store
        .place_order(&tenant, &stale)
        .await
        .expect_err("a stale version");

    // Assert
    assert!(
        matches!(err, PlaceOrderError::VersionConflict),
        "got {err:?}"
    );
    assert_eq!(stock_of(&*store, &tenant, "var_five").await, Some(5));
    assert_eq!(
        cart_status(&*store, &tenant, &priced.id).await,
        CartStatus::Open
    );
}

pub(crate) async fn an_order_for_an_unknown_cart_is_not_found(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let new = NewOrder {
        order_id: OrderId::generate(),
        cart_id: CartId::new("crt_missing"),
        expected_version: 0,
        session_id: None,
        lines: Vec::new(),
        total_minor: 0,
        currency: CURRENCY.to_owned(),
        created_at: crate::now(),
    };

    // Act
    let err = store
        .place_order(&tenant, &new)
        .await
        .expect_err("no such cart");

    // Assert
    assert!(matches!(err, PlaceOrderError::NotFound), "got {err:?}");
    assert_eq!(
        store.order(&tenant, &new.order_id).await.expect("read"),
        None
    );
}
