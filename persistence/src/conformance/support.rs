//! Record builders and arrange steps shared by the conformance checks. Everything here goes
//! through the `Store` trait, so it works for every implementation.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::model::{
    AppendBatch, Cart, CartLineChange, CommandRecord, Customer, CustomerId, Image, InventoryPolicy,
    NewEvent, NewSession, OrderId, OrderLine, ParticipantId, Product, ProductId, SessionId,
    SessionPatch, SessionRow, Tenant, TenantId, User, UserId, Variant, VariantId,
};
use crate::store::{NewOrder, Store};

/// Currency of every tenant and cart in the suite.
pub(crate) const CURRENCY: &str = "EUR";

/// A tenant record whose name and public key derive from its id.
pub(crate) fn tenant_record(id: &str) -> Tenant {
    Tenant {
        id: TenantId::new(id),
        name: format!("Retailer {id}"),
        public_key: format!("pk_{id}"),
        currency: CURRENCY.to_owned(),
        created_at: crate::now(),
    }
}

/// Creates a tenant and returns its id.
pub(crate) async fn given_tenant(store: &dyn Store, id: &str) -> TenantId {
    let tenant = tenant_record(id);
    store
        .create_tenant(&tenant)
        .await
        .expect("create the tenant");
    tenant.id
}

/// A staff user with one role and one collection.
pub(crate) fn staff(tenant: &TenantId, id: &str, email: &str) -> User {
    User {
        tenant_id: tenant.clone(),
        id: UserId::new(id),
        name: format!("Shopper {id}"),
        email: email.to_owned(),
        phone: Some("+33 1 23 45 67 89".to_owned()),
        roles: vec!["shopper".to_owned()],
        collections: vec!["shoes".to_owned()],
        created_at: crate::now(),
    }
}

/// A customer with contact details.
pub(crate) fn customer(id: &str, name: &str) -> Customer {
    Customer {
        id: CustomerId::new(id),
        name: name.to_owned(),
        email: Some(format!("{id}@example.com")),
        phone: None,
        locale: Some("fr-FR".to_owned()),
    }
}

/// An event of `kind` whose payload carries `n`, so events can be told apart.
pub(crate) fn event(kind: &str, n: u64) -> NewEvent {
    NewEvent {
        kind: kind.to_owned(),
        at: crate::now(),
        by: Some(ParticipantId::new("par_customer")),
        data: json!({ "n": n }),
    }
}

/// A requested session for `customer`, created at `created_at`.
pub(crate) fn session_at(
    tenant: &TenantId,
    id: &str,
    customer: Customer,
    created_at: DateTime<Utc>,
) -> NewSession {
    NewSession {
        tenant_id: tenant.clone(),
        id: SessionId::new(id),
        status: "requested".to_owned(),
        shopper_id: None,
        customer,
        customer_participant_id: ParticipantId::new(format!("par_{id}")),
        created_at,
        events: vec![event("session.requested", 0)],
    }
}

/// A requested session, created now, for a customer of its own.
pub(crate) fn session_for(tenant: &TenantId, id: &str) -> NewSession {
    let buyer = customer(&format!("cus_{id}"), &format!("Customer {id}"));
    session_at(tenant, id, buyer, crate::now())
}

/// Creates a session (seq 1) and returns its row.
pub(crate) async fn given_session(store: &dyn Store, tenant: &TenantId, id: &str) -> SessionRow {
    store
        .create_session(&session_for(tenant, id))
        .await
        .expect("create the session")
}

/// An append of `events` after `expected_seq` at epoch 0, with no patch and no command.
pub(crate) fn append_after(
    tenant: &TenantId,
    session: &SessionId,
    expected_seq: u64,
    events: Vec<NewEvent>,
) -> AppendBatch {
    AppendBatch {
        tenant_id: tenant.clone(),
        session_id: session.clone(),
        expected_seq,
        epoch: 0,
        events,
        patch: SessionPatch::default(),
        commands: Vec::new(),
    }
}

/// The record of command `id`, applied at `at`.
pub(crate) fn command(id: &str, at: DateTime<Utc>) -> CommandRecord {
    CommandRecord {
        participant_id: ParticipantId::new("par_customer"),
        command_id: id.to_owned(),
        reply: json!({ "ok": true, "command": id }),
        at,
    }
}

/// A time `minutes` after `base`.
pub(crate) fn minutes_after(base: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    base + Duration::minutes(minutes)
}

/// A variant with no SKU; its position is set by [`product`].
pub(crate) fn variant(id: &str, price_minor: i64, stock: Option<i64>) -> Variant {
    Variant {
        id: VariantId::new(id),
        sku: None,
        option_values: vec!["Standard".to_owned()],
        price_minor,
        compare_at_minor: None,
        stock,
        inventory_policy: InventoryPolicy::Deny,
        position: 0,
        image: None,
    }
}

/// A variant that may be sold past zero stock.
pub(crate) fn backorder_variant(id: &str, price_minor: i64, stock: Option<i64>) -> Variant {
    Variant {
        inventory_policy: InventoryPolicy::Continue,
        ..variant(id, price_minor, stock)
    }
}

/// An active product in `collections` (the first is its type), its variants numbered
/// from 1 in the order given.
pub(crate) fn product(
    id: &str,
    title: &str,
    collections: &[&str],
    variants: Vec<Variant>,
) -> Product {
    let variants = variants
        .into_iter()
        .zip(1..)
        .map(|(v, position)| Variant { position, ..v })
        .collect();
    Product {
        id: ProductId::new(id),
        title: title.to_owned(),
        body_html: format!("<p>{title}</p>"),
        vendor: "Atelier".to_owned(),
        product_type: collections.first().copied().unwrap_or_default().to_owned(),
        tags: Vec::new(),
        collections: collections.iter().map(|c| (*c).to_owned()).collect(),
        option_names: vec!["Size".to_owned()],
        images: vec![Image {
            src: format!("https://cdn.example.com/{id}.jpg"),
            alt: title.to_owned(),
            position: 1,
        }],
        status: "active".to_owned(),
        variants,
    }
}

/// Imports `products` into the tenant's catalog.
pub(crate) async fn given_products(store: &dyn Store, tenant: &TenantId, products: &[Product]) {
    store
        .import_products(tenant, products)
        .await
        .expect("import the products");
}

/// Creates a customer (customers come into being with their first session).
pub(crate) async fn given_customer(store: &dyn Store, tenant: &TenantId, id: &str) -> CustomerId {
    let buyer = customer(id, &format!("Customer {id}"));
    let session = session_at(tenant, &format!("ses_of_{id}"), buyer, crate::now());
    store
        .create_session(&session)
        .await
        .expect("create the customer's session");
    CustomerId::new(id)
}

/// A change setting `variant` to `quantity` units, keyed by `key`.
pub(crate) fn line_change(cart: &Cart, variant: &str, quantity: i64, key: &str) -> CartLineChange {
    CartLineChange {
        cart_id: cart.id.clone(),
        expected_version: cart.version,
        variant_id: VariantId::new(variant),
        quantity,
        idempotency_key: key.to_owned(),
    }
}

/// Opens the customer's cart and sets the given lines, one change each.
pub(crate) async fn given_cart(
    store: &dyn Store,
    tenant: &TenantId,
    customer: &CustomerId,
    lines: &[(&str, i64)],
) -> Cart {
    let mut cart = store
        .open_cart(tenant, customer, CURRENCY)
        .await
        .expect("open the cart");
    for (variant, quantity) in lines {
        let key = format!("{}:{variant}:{quantity}", cart.id);
        cart = store
            .set_cart_line(tenant, &line_change(&cart, variant, *quantity, &key))
            .await
            .expect("set a cart line");
    }
    cart
}

/// An order for every line of `cart` at the cart's prices and version.
pub(crate) fn order_for(cart: &Cart) -> NewOrder {
    let lines: Vec<OrderLine> = cart
        .lines
        .iter()
        .map(|l| OrderLine {
            variant_id: l.variant_id.clone(),
            product_id: l.product_id.clone(),
            title: l.title.clone(),
            quantity: l.quantity,
            unit_price_minor: l.unit_price_minor,
            line_total_minor: l.quantity * l.unit_price_minor,
        })
        .collect();
    NewOrder {
        order_id: OrderId::generate(),
        cart_id: cart.id.clone(),
        expected_version: cart.version,
        session_id: None,
        total_minor: lines.iter().map(|l| l.line_total_minor).sum(),
        lines,
        currency: cart.currency.clone(),
        created_at: crate::now(),
    }
}

/// The stock of a variant as the store holds it now.
pub(crate) async fn stock_of(store: &dyn Store, tenant: &TenantId, variant: &str) -> Option<i64> {
    let variant = VariantId::new(variant);
    let product = store
        .product_of_variant(tenant, &variant)
        .await
        .expect("read the variant's product")
        .expect("the variant exists");
    product
        .variants
        .into_iter()
        .find(|v| v.id == variant)
        .expect("the product lists the variant")
        .stock
}

/// Ids of `products`, in order.
pub(crate) fn ids_of(products: &[Product]) -> Vec<&str> {
    products.iter().map(|p| p.id.as_str()).collect()
}
