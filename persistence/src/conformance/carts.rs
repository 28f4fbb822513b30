//! Checks of carts: one open cart per customer, versioned line changes, idempotency.

use std::sync::Arc;

use crate::error::CartWriteError;
use crate::model::{Cart, CartId, CartLineChange, CartStatus, TenantId};
use crate::store::Store;

use super::support::{
    given_cart, given_customer, given_products, given_tenant, line_change, order_for, product,
    variant, CURRENCY,
};

/// A tenant with a two-variant hoodie and a cap in its catalog.
async fn given_shop(store: &dyn Store) -> TenantId {
    let tenant = given_tenant(store, "ten_a").await;
    let mut hoodie = product(
        "prd_hoodie",
        "Hoodie",
        &["tops"],
        vec![
            variant("var_hoodie_m", 4_900, Some(10)),
            variant("var_hoodie_l", 5_100, Some(10)),
        ],
    );
    hoodie.variants[0].option_values = vec!["M".to_owned()];
    hoodie.variants[1].option_values = vec!["L".to_owned()];
    let cap = product(
        "prd_cap",
        "Cap",
        &["accessories"],
        vec![variant("var_cap", 1_500, None)],
    );
    given_products(store, &tenant, &[hoodie, cap]).await;
    tenant
}

/// The cart as stored, which the check expects to exist.
async fn stored(store: &dyn Store, tenant: &TenantId, id: &CartId) -> Cart {
    store
        .cart(tenant, id)
        .await
        .expect("read the cart")
        .expect("the cart exists")
}

/// Sets one line of `cart`, expecting the change to apply.
async fn set_line(
    store: &dyn Store,
    tenant: &TenantId,
    cart: &Cart,
    variant: &str,
    quantity: i64,
    key: &str,
) -> Cart {
    store
        .set_cart_line(tenant, &line_change(cart, variant, quantity, key))
        .await
        .expect("set a cart line")
}

/// `(variant, quantity)` of each line, in cart order.
fn lines_of(cart: &Cart) -> Vec<(&str, i64)> {
    cart.lines
        .iter()
        .map(|l| (l.variant_id.as_str(), l.quantity))
        .collect()
}

pub(crate) async fn opening_a_cart_creates_one_and_returns_it_again(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let other = given_customer(&*store, &tenant, "cus_2").await;

    // Act
    let first = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");
    let again = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open again");
    let others = store
        .open_cart(&tenant, &other, CURRENCY)
        .await
        .expect("open");

    // Assert
    assert_eq!(first.customer_id, buyer);
    assert_eq!(first.currency, CURRENCY);
    assert_eq!(first.status, CartStatus::Open);
    assert!(first.lines.is_empty());
    assert_eq!(again, first);
    assert_ne!(others.id, first.id);
    assert_eq!(stored(&*store, &tenant, &first.id).await, first);
}

pub(crate) async fn concurrent_opens_of_a_customers_cart_return_one_cart(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;

    // Act
    let (a, b) = tokio::join!(
        store.open_cart(&tenant, &buyer, CURRENCY),
        store.open_cart(&tenant, &buyer, CURRENCY)
    );

    // Assert
    let (a, b) = (a.expect("open"), b.expect("open"));
    assert_eq!(a.id, b.id);
}

pub(crate) async fn setting_cart_lines_adds_updates_and_removes_and_bumps_the_version(
    store: Arc<dyn Store>,
) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let empty = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");

    // Act
    let added = set_line(&*store, &tenant, &empty, "var_hoodie_m", 2, "k1").await;
    let second = set_line(&*store, &tenant, &added, "var_cap", 1, "k2").await;
    let updated = set_line(&*store, &tenant, &second, "var_hoodie_m", 5, "k3").await;
    let removed = set_line(&*store, &tenant, &updated, "var_hoodie_m", 0, "k4").await;

    // Assert
    assert_eq!(empty.version, 0);
    assert_eq!(added.version, 1);
    assert_eq!(lines_of(&added), [("var_hoodie_m", 2)]);
    let line = &added.lines[0];
    assert_eq!(line.product_id.as_str(), "prd_hoodie");
    assert_eq!(line.unit_price_minor, 4_900);
    assert!(line.title.contains("Hoodie"), "line title {:?}", line.title);
    assert_eq!(second.version, 2);
    assert_eq!(lines_of(&second), [("var_hoodie_m", 2), ("var_cap", 1)]);
    assert_eq!(updated.version, 3);
    assert_eq!(lines_of(&updated), [("var_hoodie_m", 5), ("var_cap", 1)]);
    assert_eq!(removed.version, 4);
    assert_eq!(lines_of(&removed), [("var_cap", 1)]);
    assert_eq!(stored(&*store, &tenant, &empty.id).await, removed);
}

pub(crate) async fn a_stale_cart_version_is_a_conflict_carrying_the_current_cart(
    store: Arc<dyn Store>,
) {
    // Arrange: the cart moved to version 1 after the writer read version 0.
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let read = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");
    let current = given_cart(&*store, &tenant, &buyer, &[("var_cap", 1)]).await;
    let stale = line_change(&read, "var_hoodie_m", 3, "k_stale");

    // Act
    let err = store
        .set_cart_line(&tenant, &stale)
        .await
        .expect_err("a stale version");

    // Assert
    match err {
        CartWriteError::VersionConflict(cart) => assert_eq!(*cart, current),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert_eq!(stored(&*store, &tenant, &read.id).await, current);
}

pub(crate) async fn a_cart_line_for_an_unknown_variant_or_cart_is_not_found(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");
    let unknown_variant = line_change(&cart, "var_missing", 1, "k1");
    let unknown_cart = CartLineChange {
        cart_id: CartId::new("crt_missing"),
        ..line_change(&cart, "var_cap", 1, "k2")
    };

    // Act
    let variant_err = store
        .set_cart_line(&tenant, &unknown_variant)
        .await
        .expect_err("variant");
    let cart_err = store
        .set_cart_line(&tenant, &unknown_cart)
        .await
        .expect_err("cart");

    // Assert
    assert!(
        matches!(variant_err, CartWriteError::NotFound(_)),
        "got {variant_err:?}"
    );
    assert!(
        matches!(cart_err, CartWriteError::NotFound(_)),
        "got {cart_err:?}"
    );
    assert_eq!(stored(&*store, &tenant, &cart.id).await, cart);
    // The failed change did not use up its key.
    let retried = line_change(&cart, "var_cap", 2, "k1");
    let after = store
        .set_cart_line(&tenant, &retried)
        .await
        .expect("set a line");
    assert_eq!(lines_of(&after), [("var_cap", 2)]);
}

pub(crate) async fn the_same_idempotency_key_applies_a_cart_change_once(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = store
        .open_cart(&tenant, &buyer, CURRENCY)
        .await
        .expect("open");
    let change = line_change(&cart, "var_hoodie_l", 2, "k_once");
    let same_key_other_quantity = CartLineChange {
        quantity: 7,
        ..change.clone()
    };

    // Act
    let first = store.set_cart_line(&tenant, &change).await.expect("apply");
    let retry = store.set_cart_line(&tenant, &change).await.expect("retry");
    let altered = store
        .set_cart_line(&tenant, &same_key_other_quantity)
        .await
        .expect("retry with another quantity");

    // Assert
    assert_eq!(first.version, 1);
    assert_eq!(lines_of(&first), [("var_hoodie_l", 2)]);
    assert_eq!(retry, first);
    assert_eq!(altered, first);
    assert_eq!(stored(&*store, &tenant, &cart.id).await, first);
}

pub(crate) async fn an_ordered_cart_refuses_line_changes(store: Arc<dyn Store>) {
    // Arrange
    let tenant = given_shop(&*store).await;
    let buyer = given_customer(&*store, &tenant, "cus_1").await;
    let cart = given_cart(&*store, &tenant, &buyer, &[("var_cap", 1)]).await;
    let order = order_for(&cart);
    store
        .place_order(&tenant, &order)
        .await
        .expect("place the order");
    let closed = stored(&*store, &tenant, &cart.id).await;

    // Act
    let err = store
        .set_cart_line(&tenant, &line_change(&closed, "var_cap", 3, "k_late"))
        .await
        .expect_err("a closed cart");

    // Assert
    assert!(matches!(err, CartWriteError::Closed), "got {err:?}");
    assert_eq!(stored(&*store, &tenant, &cart.id).await, closed);
    assert_eq!(lines_of(&closed), [("var_cap", 1)]);
}
