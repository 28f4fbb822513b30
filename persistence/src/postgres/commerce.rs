//! Carts and orders of the built-in commerce.

use deadpool_postgres::{GenericClient, Pool};

use super::{pg_error, pool_error};
use crate::error::{CartWriteError, PlaceOrderError, StoreError};
use crate::model::commerce::line_title;
use crate::model::{
    Cart, CartId, CartLine, CartLineChange, CartStatus, CustomerId, Order, OrderId, ProductId,
    SessionId, TenantId, VariantId,
};
use crate::store::NewOrder;

async fn cart<C: GenericClient>(
    client: &C,
    tenant: &TenantId,
    id: &CartId,
) -> Result<Option<Cart>, StoreError> {
    let head = client
        .query_opt(
            "SELECT cart_id, customer_id, currency, version, status FROM carts
             WHERE tenant_id = $1 AND cart_id = $2",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    let Some(r) = head else {
        return Ok(None);
    };
    let mut cart = Cart {
        id: CartId::new(r.get::<_, String>(0)),
        customer_id: CustomerId::new(r.get::<_, String>(1)),
        currency: r.get(2),
        version: r.get(3),
        status: CartStatus::parse(r.get::<_, &str>(4)).unwrap_or(CartStatus::Ordered),
        lines: Vec::new(),
    };
    // Lines whose variant was removed from the catalog drop out of the cart.
    let rows = client
        .query(
            "SELECT l.variant_id, v.product_id, p.title, v.option_values, l.quantity,
                    v.price_minor
             FROM cart_lines l
             JOIN variants v ON v.tenant_id = l.tenant_id AND v.variant_id = l.variant_id
             JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id
             WHERE l.tenant_id = $1 AND l.cart_id = $2
             ORDER BY l.added_at, l.added_order",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    cart.lines = rows
        .iter()
        .map(|r| {
            let options: Vec<String> = serde_json::from_value(r.get(3)).unwrap_or_default();
            CartLine {
                variant_id: VariantId::new(r.get::<_, String>(0)),
                product_id: ProductId::new(r.get::<_, String>(1)),
                title: line_title(r.get::<_, &str>(2), &options),
                quantity: r.get(4),
                unit_price_minor: r.get(5),
            }
        })
        .collect();
    Ok(Some(cart))
}

pub(crate) async fn cart_by_id(
    pool: Pool,
    tenant: TenantId,
    id: CartId,
) -> Result<Option<Cart>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    cart(&client, &tenant, &id).await
}

pub(crate) async fn open_cart(
    pool: Pool,
    tenant: TenantId,
    customer: CustomerId,
    currency: String,
) -> Result<Cart, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    // The partial unique index allows one open cart per customer; a concurrent opener
    // loses the insert and reads the winner's cart.
    client
        .execute(
            "INSERT INTO carts (tenant_id, cart_id, customer_id, currency, version, status,
                                updated_at)
             VALUES ($1, $2, $3, $4, 0, 'open', now())
             ON CONFLICT (tenant_id, customer_id) WHERE status = 'open' DO NOTHING",
            &[
                &tenant.as_str(),
                &CartId::generate().as_str(),
                &customer.as_str(),
                &currency,
            ],
        )
        .await
        .map_err(pg_error)?;
    let row = client
        .query_one(
            "SELECT cart_id FROM carts WHERE tenant_id = $1 AND customer_id = $2
             AND status = 'open'",
            &[&tenant.as_str(), &customer.as_str()],
        )
        .await
        .map_err(pg_error)?;
    let id = CartId::new(row.get::<_, String>(0));
    cart(&client, &tenant, &id)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("cart {id} vanished")))
}

pub(crate) async fn set_cart_line(
    pool: Pool,
    tenant: TenantId,
    change: CartLineChange,
) -> Result<Cart, CartWriteError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    // Lock the cart row: concurrent changes of one cart take turns.
    let locked = tx
        .query_opt(
            "SELECT 1 FROM carts WHERE tenant_id = $1 AND cart_id = $2 FOR UPDATE",
            &[&tenant.as_str(), &change.cart_id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    if locked.is_none() {
        return Err(CartWriteError::NotFound(format!("cart {}", change.cart_id)));
    }
    let current = cart(&tx, &tenant, &change.cart_id)
        .await?
        .ok_or_else(|| CartWriteError::NotFound(format!("cart {}", change.cart_id)))?;
    let seen = tx
        .query_opt(
            "SELECT 1 FROM commerce_ops WHERE tenant_id = $1 AND op_key = $2",
            &[&tenant.as_str(), &change.idempotency_key],
        )
        .await
        .map_err(pg_error)?;
    if seen.is_some() {
        return Ok(current);
    }
    if current.status != CartStatus::Open {
        return Err(CartWriteError::Closed);
    }
    if current.version != change.expected_version {
        return Err(CartWriteError::VersionConflict(Box::new(current)));
    }

    if change.quantity > 0 {
        let known = tx
            .query_opt(
                "SELECT 1 FROM variants WHERE tenant_id = $1 AND variant_id = $2",
                &[&tenant.as_str(), &change.variant_id.as_str()],
            )
            .await
            .map_err(pg_error)?;
        if known.is_none() {
            return Err(CartWriteError::NotFound(format!(
                "variant {}",
                change.variant_id
            )));
        }
        tx.execute(
            "INSERT INTO cart_lines (tenant_id, cart_id, variant_id, quantity, added_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (tenant_id, cart_id, variant_id)
                 DO UPDATE SET quantity = excluded.quantity",
            &[
                &tenant.as_str(),
                &change.cart_id.as_str(),
                &change.variant_id.as_str(),
                &change.quantity,
            ],
        )
        .await
        .map_err(pg_error)?;
    } else {
        tx.execute(
            "DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 AND variant_id = $3",
            &[
                &tenant.as_str(),
                &change.cart_id.as_str(),
                &change.variant_id.as_str(),
            ],
        )
        .await
        .map_err(pg_error)?;
    }
    tx.execute(
        "UPDATE carts SET version = version + 1, updated_at = now()
         WHERE tenant_id = $1 AND cart_id = $2",
        &[&tenant.as_str(), &change.cart_id.as_str()],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "INSERT INTO commerce_ops (tenant_id, op_key, at) VALUES ($1, $2, now())",
        &[&tenant.as_str(), &change.idempotency_key],
    )
    .await
    .map_err(pg_error)?;
    let updated = cart(&tx, &tenant, &change.cart_id)
        .await?
        .ok_or_else(|| CartWriteError::NotFound(format!("cart {}", change.cart_id)))?;
    tx.commit().await.map_err(pg_error)?;
    Ok(updated)
}

async fn order<C: GenericClient>(
    client: &C,
    tenant: &TenantId,
    id: &OrderId,
) -> Result<Option<Order>, StoreError> {
    let row = client
        .query_opt(
            "SELECT order_id, cart_id, session_id, customer_id, lines, total_minor, currency,
                    created_at
             FROM orders WHERE tenant_id = $1 AND order_id = $2",
            &[&tenant.as_str(), &id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| Order {
        id: OrderId::new(r.get::<_, String>(0)),
        cart_id: CartId::new(r.get::<_, String>(1)),
        session_id: r.get::<_, Option<String>>(2).map(SessionId::new),
        customer_id: CustomerId::new(r.get::<_, String>(3)),
        lines: serde_json::from_value(r.get(4)).unwrap_or_default(),
        total_minor: r.get(5),
        currency: r.get(6),
        created_at: r.get(7),
    }))
}

pub(crate) async fn order_by_id(
    pool: Pool,
    tenant: TenantId,
    id: OrderId,
) -> Result<Option<Order>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    order(&client, &tenant, &id).await
}

pub(crate) async fn place_order(
    pool: Pool,
    tenant: TenantId,
    new: NewOrder,
) -> Result<Order, PlaceOrderError> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    // Lock the cart first: two checkouts of one cart take turns, and the second finds the
    // first one's order.
    let head = tx
        .query_opt(
            "SELECT customer_id, version FROM carts WHERE tenant_id = $1 AND cart_id = $2
             FOR UPDATE",
            &[&tenant.as_str(), &new.cart_id.as_str()],
        )
        .await
        .map_err(pg_error)?
        .ok_or(PlaceOrderError::NotFound)?;
    let existing = tx
        .query_opt(
            "SELECT order_id FROM orders WHERE tenant_id = $1 AND cart_id = $2",
            &[&tenant.as_str(), &new.cart_id.as_str()],
        )
        .await
        .map_err(pg_error)?;
    if let Some(r) = existing {
        let id = OrderId::new(r.get::<_, String>(0));
        return order(&tx, &tenant, &id)
            .await?
            .ok_or(PlaceOrderError::NotFound);
    }
    let customer: String = head.get(0);
    let version: i64 = head.get(1);
    if version != new.expected_version {
        return Err(PlaceOrderError::VersionConflict);
    }

    // Each decrement succeeds only while enough units remain (the row lock makes the check
    // and the write one step), so two buyers of the last unit cannot both succeed; a
    // failed line rolls the whole order back.
    let decrement = tx
        .prepare_cached(
            "UPDATE variants SET stock = CASE WHEN stock IS NULL THEN NULL ELSE stock - $3 END
             WHERE tenant_id = $1 AND variant_id = $2
               AND (stock IS NULL OR inventory_policy = 'continue' OR stock >= $3)",
        )
        .await
        .map_err(pg_error)?;
    for line in &new.lines {
        let changed = tx
            .execute(
                &decrement,
                &[&tenant.as_str(), &line.variant_id.as_str(), &line.quantity],
            )
            .await
            .map_err(pg_error)?;
        if changed == 0 {
            return Err(PlaceOrderError::OutOfStock(line.variant_id.clone()));
        }
    }
    let lines = serde_json::to_value(&new.lines).unwrap_or_default();
    tx.execute(
        "INSERT INTO orders (tenant_id, order_id, cart_id, session_id, customer_id, lines,
                             total_minor, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &tenant.as_str(),
            &new.order_id.as_str(),
            &new.cart_id.as_str(),
            &new.session_id.as_ref().map(SessionId::as_str),
            &customer,
            &lines,
            &new.total_minor,
            &new.currency,
            &new.created_at,
        ],
    )
    .await
    .map_err(pg_error)?;
    tx.execute(
        "UPDATE carts SET status = 'ordered', version = version + 1, updated_at = $3
         WHERE tenant_id = $1 AND cart_id = $2",
        &[&tenant.as_str(), &new.cart_id.as_str(), &new.created_at],
    )
    .await
    .map_err(pg_error)?;
    let placed = order(&tx, &tenant, &new.order_id)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("order {} vanished", new.order_id)))?;
    tx.commit().await.map_err(pg_error)?;
    Ok(placed)
}

pub(crate) async fn order_for_cart(
    pool: Pool,
    tenant: TenantId,
    cart: CartId,
) -> Result<Option<Order>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "SELECT order_id FROM orders WHERE tenant_id = $1 AND cart_id = $2",
            &[&tenant.as_str(), &cart.as_str()],
        )
        .await
        .map_err(pg_error)?;
    match row {
        Some(r) => order(&client, &tenant, &OrderId::new(r.get::<_, String>(0))).await,
        None => Ok(None),
    }
}
