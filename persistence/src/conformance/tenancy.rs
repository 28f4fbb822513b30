//! Checks that every read and write is scoped to a tenant: tenant B never sees tenant A's
//! records through its own id, even when it asks for them by their exact ids.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::error::{AppendError, CartWriteError, PlaceOrderError};
use crate::model::{AuditEntry, ProductQuery, SessionFilter, Snapshot, VariantId};
use crate::store::Store;

use super::support::{
    append_after, command, event, given_cart, given_customer, given_products, given_session,
    given_tenant, line_change, order_for, product, staff, variant,
};

pub(crate) async fn another_tenants_sessions_are_invisible(store: Arc<dyn Store>) {
    // Arrange: a session of tenant A with a snapshot and a command record.
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let session = given_session(&*store, &a, "ses_1").await;
    let mut batch = append_after(&a, &session.id, 1, vec![event("chat.posted", 1)]);
    batch.commands = vec![command("cmd_1", crate::now())];
    store.append(batch).await.expect("append");
    let snapshot = Snapshot {
        seq: 2,
        state: json!({}),
    };
    store
        .save_snapshot(&a, &session.id, &snapshot)
        .await
        .expect("save");
    let since = crate::now() - Duration::hours(1);
    let everything = SessionFilter {
        limit: 50,
        ..SessionFilter::default()
    };
    let by_id = SessionFilter {
        query: Some("ses_1".to_owned()),
        ..everything.clone()
    };

    // Act
    let row = store.session(&b, &session.id).await.expect("read");
    let events = store.events(&b, &session.id, 0, 10).await.expect("read");
    let listed = store.list_sessions(&b, &everything).await.expect("list");
    let searched = store.list_sessions(&b, &by_id).await.expect("list");
    let buyer = store
        .customer(&b, &session.customer_id)
        .await
        .expect("read");
    let latest = store.latest_snapshot(&b, &session.id).await.expect("read");
    let commands = store
        .recent_commands(&b, &session.id, 10, since)
        .await
        .expect("read");
    let claim = store.claim_session(&b, &session.id).await;
    let append = store
        .append(append_after(
            &b,
            &session.id,
            2,
            vec![event("chat.posted", 2)],
        ))
        .await;

    // Assert
    assert_eq!(row, None);
    assert!(events.is_empty());
    assert!(listed.is_empty() && searched.is_empty());
    assert_eq!(buyer, None);
    assert_eq!(latest, None);
    assert!(commands.is_empty());
    assert!(
        matches!(claim, Err(AppendError::NoSession)),
        "got {claim:?}"
    );
    assert!(
        matches!(append, Err(AppendError::NoSession)),
        "got {append:?}"
    );
    let untouched = store
        .session(&a, &session.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((untouched.seq, untouched.owner_epoch), (2, 0));
}

pub(crate) async fn another_tenants_catalog_carts_and_orders_are_invisible(store: Arc<dyn Store>) {
    // Arrange: tenant A has a product, a cart and an order; tenant B has an empty shop.
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let cap = product(
        "prd_cap",
        "Cap",
        &["hats"],
        vec![variant("var_cap", 1_500, Some(9))],
    );
    given_products(&*store, &a, std::slice::from_ref(&cap)).await;
    let buyer = given_customer(&*store, &a, "cus_1").await;
    let ordered = given_cart(&*store, &a, &buyer, &[("var_cap", 1)]).await;
    let order = store
        .place_order(&a, &order_for(&ordered))
        .await
        .expect("place");
    let open = given_cart(&*store, &a, &buyer, &[("var_cap", 2)]).await;
    let search = ProductQuery {
        terms: vec!["cap".to_owned()],
        limit: 10,
        ..Default::default()
    };

    // Act
    let product = store.product(&b, &cap.id).await.expect("read");
    let of_variant = store
        .product_of_variant(&b, &VariantId::new("var_cap"))
        .await
        .expect("read");
    let found = store
        .search_products(&b, &search, &["hats".to_owned()])
        .await
        .expect("search");
    let cart = store.cart(&b, &open.id).await.expect("read");
    let read_order = store.order(&b, &order.id).await.expect("read");
    let change = store
        .set_cart_line(&b, &line_change(&open, "var_cap", 5, "k_b"))
        .await;
    let checkout = store.place_order(&b, &order_for(&open)).await;

    // Assert
    assert_eq!(product, None);
    assert_eq!(of_variant, None);
    assert!(found.is_empty());
    assert_eq!(cart, None);
    assert_eq!(read_order, None);
    assert!(
        matches!(change, Err(CartWriteError::NotFound(_))),
        "got {change:?}"
    );
    assert!(
        matches!(checkout, Err(PlaceOrderError::NotFound)),
        "got {checkout:?}"
    );
    assert_eq!(store.cart(&a, &open.id).await.expect("read"), Some(open));
    let stock = store
        .product(&a, &cap.id)
        .await
        .expect("read")
        .expect("exists")
        .variants[0]
        .stock;
    assert_eq!(stock, Some(8));
}

pub(crate) async fn another_tenants_users_and_audit_log_are_invisible(store: Arc<dyn Store>) {
    // Arrange
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let ana = staff(&a, "usr_ana", "ana@example.com");
    store.create_user(&ana).await.expect("create");
    let entry = AuditEntry {
        tenant_id: a.clone(),
        actor: "usr_admin".to_owned(),
        action: "shopper.created".to_owned(),
        subject: ana.id.to_string(),
        at: crate::now(),
        detail: json!({}),
    };
    store.record_audit(&entry).await.expect("record");

    // Act
    let user = store.user(&b, &ana.id).await.expect("read");
    let users = store.list_users(&b).await.expect("list");
    let audit = store.audit_log(&b, 10).await.expect("read");
    let tenant_b = store.tenant(&b).await.expect("read").expect("exists");

    // Assert
    assert_eq!(user, None);
    assert!(users.is_empty());
    assert!(audit.is_empty());
    assert_eq!(tenant_b.id, b);
    assert_ne!(tenant_b.public_key, "pk_ten_a");
}

pub(crate) async fn the_same_ids_in_two_tenants_name_different_records(store: Arc<dyn Store>) {
    // Arrange: one variant id, under a different product in each tenant.
    let a = given_tenant(&*store, "ten_a").await;
    let b = given_tenant(&*store, "ten_b").await;
    let in_a = product(
        "prd_tee_a",
        "Tee of A",
        &["tops"],
        vec![variant("var_tee", 1_000, Some(1))],
    );
    let in_b = product(
        "prd_tee_b",
        "Tee of B",
        &["tops"],
        vec![variant("var_tee", 2_000, None)],
    );
    let shared = VariantId::new("var_tee");

    // Act
    given_products(&*store, &a, std::slice::from_ref(&in_a)).await;
    given_products(&*store, &b, std::slice::from_ref(&in_b)).await;
    let session_a = given_session(&*store, &a, "ses_1").await;
    let session_b = given_session(&*store, &b, "ses_1").await;
    store
        .claim_session(&a, &session_a.id)
        .await
        .expect("claim in A");

    // Assert
    assert_eq!(
        store.product_of_variant(&a, &shared).await.expect("read"),
        Some(in_a)
    );
    assert_eq!(
        store.product_of_variant(&b, &shared).await.expect("read"),
        Some(in_b)
    );
    let row_b = store
        .session(&b, &session_b.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((row_b.tenant_id, row_b.owner_epoch), (b, 0));
}
