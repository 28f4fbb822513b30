//! Carts and orders of the built-in commerce.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{CartWriteError, PlaceOrderError, StoreError};
use crate::model::{
    Cart, CartId, CartLine, CartLineChange, CartStatus, CustomerId, Order, OrderId, ProductId,
    SessionId, TenantId, VariantId,
};
use crate::store::NewOrder;

use super::rows::{json_at, json_text, time_at, time_text};
use super::sql_error;
use crate::model::commerce::line_title;

pub(crate) fn cart(
    conn: &Connection,
    tenant: &TenantId,
    id: &CartId,
) -> Result<Option<Cart>, StoreError> {
    let head = conn
        .prepare_cached(
            "SELECT cart_id, customer_id, currency, version, status FROM carts
             WHERE tenant_id = ?1 AND cart_id = ?2",
        )
        .and_then(|mut st| {
            st.query_row([tenant.as_str(), id.as_str()], |row| {
                let status: String = row.get(4)?;
                Ok(Cart {
                    id: CartId::new(row.get::<_, String>(0)?),
                    customer_id: CustomerId::new(row.get::<_, String>(1)?),
                    currency: row.get(2)?,
                    version: row.get(3)?,
                    status: CartStatus::parse(&status).unwrap_or(CartStatus::Ordered),
                    lines: Vec::new(),
                })
            })
            .optional()
        })
        .map_err(sql_error)?;
    let Some(mut cart) = head else {
        return Ok(None);
    };
    // Lines whose variant was removed from the catalog drop out of the cart. `added_at` has
    // millisecond precision; the rowid keeps lines added in one millisecond in added order.
    cart.lines = conn
        .prepare_cached(
            "SELECT l.variant_id, v.product_id, p.title, v.option_values, l.quantity, v.price_minor
             FROM cart_lines l
             JOIN variants v ON v.tenant_id = l.tenant_id AND v.variant_id = l.variant_id
             JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id
             WHERE l.tenant_id = ?1 AND l.cart_id = ?2
             ORDER BY l.added_at, l.rowid",
        )
        .and_then(|mut st| {
            st.query_map([tenant.as_str(), id.as_str()], |row| {
                let title: String = row.get(2)?;
                let options: Vec<String> = json_at(row, 3)?;
                Ok(CartLine {
                    variant_id: VariantId::new(row.get::<_, String>(0)?),
                    product_id: ProductId::new(row.get::<_, String>(1)?),
                    title: line_title(&title, &options),
                    quantity: row.get(4)?,
                    unit_price_minor: row.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sql_error)?;
    Ok(Some(cart))
}

pub(crate) fn open_cart(
    conn: &mut Connection,
    tenant: &TenantId,
    customer: &CustomerId,
    currency: &str,
) -> Result<Cart, StoreError> {
    let tx = conn.transaction().map_err(sql_error)?;
    let existing: Option<String> = tx
        .query_row(
            "SELECT cart_id FROM carts WHERE tenant_id = ?1 AND customer_id = ?2
             AND status = 'open'",
            [tenant.as_str(), customer.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    let id = match existing {
        Some(id) => CartId::new(id),
        None => {
            let id = CartId::generate();
            tx.execute(
                "INSERT INTO carts (tenant_id, cart_id, customer_id, currency, version, status,
                                    updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, 'open', ?5)",
                params![
                    tenant.as_str(),
                    id.as_str(),
                    customer.as_str(),
                    currency,
                    time_text(&chrono::Utc::now())
                ],
            )
            .map_err(sql_error)?;
            id
        }
    };
    let cart = cart(&tx, tenant, &id)?
        .ok_or_else(|| StoreError::Internal(format!("cart {id} vanished")))?;
    tx.commit().map_err(sql_error)?;
    Ok(cart)
}

pub(crate) fn set_cart_line(
    conn: &mut Connection,
    tenant: &TenantId,
    change: &CartLineChange,
) -> Result<Cart, CartWriteError> {
    let tx = conn.transaction().map_err(sql_error)?;
    let current = cart(&tx, tenant, &change.cart_id)?
        .ok_or_else(|| CartWriteError::NotFound(format!("cart {}", change.cart_id)))?;

    let seen: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM commerce_ops WHERE tenant_id = ?1 AND op_key = ?2",
            [tenant.as_str(), change.idempotency_key.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    if seen.is_some() {
        return Ok(current);
    }
    if current.status != CartStatus::Open {
        return Err(CartWriteError::Closed);
    }
    if current.version != change.expected_version {
        return Err(CartWriteError::VersionConflict(Box::new(current)));
    }

    let now = time_text(&chrono::Utc::now());
    if change.quantity > 0 {
        let known: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM variants WHERE tenant_id = ?1 AND variant_id = ?2",
                [tenant.as_str(), change.variant_id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error)?;
        if known.is_none() {
            return Err(CartWriteError::NotFound(format!(
                "variant {}",
                change.variant_id
            )));
        }
        tx.execute(
            "INSERT INTO cart_lines (tenant_id, cart_id, variant_id, quantity, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant_id, cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity",
            params![
                tenant.as_str(),
                change.cart_id.as_str(),
                change.variant_id.as_str(),
                change.quantity,
                now
            ],
        )
        .map_err(sql_error)?;
    } else {
        tx.execute(
            "DELETE FROM cart_lines WHERE tenant_id = ?1 AND cart_id = ?2 AND variant_id = ?3",
            [
                tenant.as_str(),
                change.cart_id.as_str(),
                change.variant_id.as_str(),
            ],
        )
        .map_err(sql_error)?;
    }
    tx.execute(
        "UPDATE carts SET version = version + 1, updated_at = ?3
         WHERE tenant_id = ?1 AND cart_id = ?2",
        params![tenant.as_str(), change.cart_id.as_str(), now],
    )
    .map_err(sql_error)?;
    tx.execute(
        "INSERT INTO commerce_ops (tenant_id, op_key, at) VALUES (?1, ?2, ?3)",
        params![tenant.as_str(), change.idempotency_key, now],
    )
    .map_err(sql_error)?;
    let updated = cart(&tx, tenant, &change.cart_id)?
        .ok_or_else(|| CartWriteError::NotFound(format!("cart {}", change.cart_id)))?;
    tx.commit().map_err(sql_error)?;
    Ok(updated)
}

pub(crate) fn order_by_cart(
    conn: &Connection,
    tenant: &TenantId,
    cart: &CartId,
) -> Result<Option<Order>, StoreError> {
    let id: Option<String> = conn
        .query_row(
            "SELECT order_id FROM orders WHERE tenant_id = ?1 AND cart_id = ?2",
            [tenant.as_str(), cart.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    match id {
        Some(id) => order(conn, tenant, &OrderId::new(id)),
        None => Ok(None),
    }
}

pub(crate) fn place_order(
    conn: &mut Connection,
    tenant: &TenantId,
    new: &NewOrder,
) -> Result<Order, PlaceOrderError> {
    let tx = conn.transaction().map_err(sql_error)?;
    if let Some(existing) = order_by_cart(&tx, tenant, &new.cart_id)? {
        return Ok(existing);
    }
    let (customer, version): (String, i64) = tx
        .query_row(
            "SELECT customer_id, version FROM carts WHERE tenant_id = ?1 AND cart_id = ?2",
            [tenant.as_str(), new.cart_id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql_error)?
        .ok_or(PlaceOrderError::NotFound)?;
    if version != new.expected_version {
        return Err(PlaceOrderError::VersionConflict);
    }

    // Each decrement succeeds only while enough units remain, so two buyers of the last
    // unit cannot both succeed; a failed line rolls the whole order back.
    for line in &new.lines {
        let changed = tx
            .prepare_cached(
                "UPDATE variants SET stock = CASE WHEN stock IS NULL THEN NULL
                                                  ELSE stock - ?3 END
                 WHERE tenant_id = ?1 AND variant_id = ?2
                   AND (stock IS NULL OR inventory_policy = 'continue' OR stock >= ?3)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    tenant.as_str(),
                    line.variant_id.as_str(),
                    line.quantity
                ])
            })
            .map_err(sql_error)?;
        if changed == 0 {
            return Err(PlaceOrderError::OutOfStock(line.variant_id.clone()));
        }
    }

    tx.execute(
        "INSERT INTO orders (tenant_id, order_id, cart_id, session_id, customer_id, lines,
                             total_minor, currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            tenant.as_str(),
            new.order_id.as_str(),
            new.cart_id.as_str(),
            new.session_id.as_ref().map(SessionId::as_str),
            customer,
            json_text(&new.lines)?,
            new.total_minor,
            new.currency,
            time_text(&new.created_at)
        ],
    )
    .map_err(sql_error)?;
    tx.execute(
        "UPDATE carts SET status = 'ordered', version = version + 1, updated_at = ?3
         WHERE tenant_id = ?1 AND cart_id = ?2",
        params![
            tenant.as_str(),
            new.cart_id.as_str(),
            time_text(&new.created_at)
        ],
    )
    .map_err(sql_error)?;
    let order = order(&tx, tenant, &new.order_id)?
        .ok_or_else(|| StoreError::Internal(format!("order {} vanished", new.order_id)))?;
    tx.commit().map_err(sql_error)?;
    Ok(order)
}

pub(crate) fn order(
    conn: &Connection,
    tenant: &TenantId,
    id: &OrderId,
) -> Result<Option<Order>, StoreError> {
    conn.prepare_cached(
        "SELECT order_id, cart_id, session_id, customer_id, lines, total_minor, currency,
                created_at
         FROM orders WHERE tenant_id = ?1 AND order_id = ?2",
    )
    .and_then(|mut st| {
        st.query_row([tenant.as_str(), id.as_str()], |row| {
            Ok(Order {
                id: OrderId::new(row.get::<_, String>(0)?),
                cart_id: CartId::new(row.get::<_, String>(1)?),
                session_id: row.get::<_, Option<String>>(2)?.map(SessionId::new),
                customer_id: CustomerId::new(row.get::<_, String>(3)?),
                lines: json_at(row, 4)?,
                total_minor: row.get(5)?,
                currency: row.get(6)?,
                created_at: time_at(row, 7)?,
            })
        })
        .optional()
    })
    .map_err(sql_error)
}
