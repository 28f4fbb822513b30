//! Commerce kept in the Vitrine store: the embedded default and a retailer without a
//! platform of its own.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use vitrine_persistence::model::{
    CartId, CartLineChange, CartStatus, CustomerId, OrderId, OrderLine, ProductId, ProductQuery,
    SessionId, TenantId, VariantId,
};
use vitrine_persistence::{CartWriteError, NewOrder, PlaceOrderError, Store};

use super::{
    CartState, CartView, CatalogQuery, Checkout, Commerce, CommerceError, OrderView, ProductCard,
    QuantityChange,
};

/// How often a cart change is retried when the cart changed underneath it.
const CART_RETRIES: usize = 3;

/// Most units of one variant in one cart.
pub const MAX_LINE_QUANTITY: i64 = 999;

/// Most results of one search.
pub const MAX_SEARCH_RESULTS: u32 = 50;

/// Commerce over the store.
pub struct BuiltinCommerce {
    store: Arc<dyn Store>,
    currencies: RwLock<HashMap<TenantId, String>>,
}

impl BuiltinCommerce {
    /// Commerce over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            currencies: RwLock::new(HashMap::new()),
        }
    }

    async fn currency(&self, tenant: &TenantId) -> Result<String, CommerceError> {
        if let Some(c) = self
            .currencies
            .read()
            .ok()
            .and_then(|m| m.get(tenant).cloned())
        {
            return Ok(c);
        }
        let t = self
            .store
            .tenant(tenant)
            .await?
            .ok_or_else(|| CommerceError::NotFound(format!("tenant {tenant}")))?;
        if let Ok(mut m) = self.currencies.write() {
            m.insert(tenant.clone(), t.currency.clone());
        }
        Ok(t.currency)
    }

    async fn load_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
    ) -> Result<vitrine_persistence::model::Cart, CommerceError> {
        self.store
            .cart(tenant, cart)
            .await?
            .ok_or_else(|| CommerceError::NotFound(format!("cart {cart}")))
    }
}

#[async_trait]
impl Commerce for BuiltinCommerce {
    async fn search(
        &self,
        tenant: &TenantId,
        query: &CatalogQuery,
        preferred: &[String],
    ) -> Result<Vec<ProductCard>, CommerceError> {
        let currency = self.currency(tenant).await?;
        let q = ProductQuery {
            terms: query
                .text
                .to_lowercase()
                .split_whitespace()
                .take(8)
                .map(str::to_owned)
                .collect(),
            collection: query.collection.clone(),
            limit: query.limit.clamp(1, MAX_SEARCH_RESULTS),
            active_only: true,
        };
        let products = self.store.search_products(tenant, &q, preferred).await?;
        Ok(products
            .iter()
            .map(|p| ProductCard::build(p, &currency, None))
            .collect())
    }

    async fn card(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        variant: Option<&VariantId>,
    ) -> Result<ProductCard, CommerceError> {
        let currency = self.currency(tenant).await?;
        let p = self
            .store
            .product(tenant, product)
            .await?
            .ok_or_else(|| CommerceError::NotFound(format!("product {product}")))?;
        if let Some(v) = variant {
            if !p.variants.iter().any(|pv| &pv.id == v) {
                return Err(CommerceError::NotFound(format!("variant {v} of {product}")));
            }
        }
        Ok(ProductCard::build(&p, &currency, variant))
    }

    async fn open_cart(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<CartView, CommerceError> {
        let currency = self.currency(tenant).await?;
        let cart = self.store.open_cart(tenant, customer, &currency).await?;
        Ok(CartView::from(&cart))
    }

    async fn cart(&self, tenant: &TenantId, cart: &CartId) -> Result<CartView, CommerceError> {
        Ok(CartView::from(&self.load_cart(tenant, cart).await?))
    }

    async fn cart_state(
        &self,
        tenant: &TenantId,
        cart_id: &CartId,
    ) -> Result<CartState, CommerceError> {
        let cart = self.load_cart(tenant, cart_id).await?;
        if cart.status == CartStatus::Open {
            return Ok(CartState::Open(CartView::from(&cart)));
        }
        let order = self
            .store
            .order_for_cart(tenant, cart_id)
            .await?
            .ok_or_else(|| {
                CommerceError::Internal(format!("cart {cart_id} is ordered, no order"))
            })?;
        let next = self.open_cart(tenant, &cart.customer_id).await?;
        Ok(CartState::Ordered {
            order: OrderView::from(&order),
            next,
        })
    }

    async fn change_line(
        &self,
        tenant: &TenantId,
        cart_id: &CartId,
        variant: &VariantId,
        change: QuantityChange,
        idempotency_key: &str,
    ) -> Result<CartView, CommerceError> {
        let product = self
            .store
            .product_of_variant(tenant, variant)
            .await?
            .ok_or_else(|| CommerceError::NotFound(format!("variant {variant}")))?;
        let stocked = product
            .variants
            .iter()
            .find(|v| &v.id == variant)
            .ok_or_else(|| CommerceError::NotFound(format!("variant {variant}")))?;

        let mut cart = self.load_cart(tenant, cart_id).await?;
        for _ in 0..CART_RETRIES {
            if cart.status != CartStatus::Open {
                return Err(CommerceError::Conflict(
                    "the cart was already checked out".into(),
                ));
            }
            let current = cart
                .lines
                .iter()
                .find(|l| &l.variant_id == variant)
                .map_or(0, |l| l.quantity);
            let wanted = match change {
                QuantityChange::Add(n) => current.saturating_add(n),
                QuantityChange::Set(n) => n,
            };
            if !(0..=MAX_LINE_QUANTITY).contains(&wanted) {
                return Err(CommerceError::Invalid(format!(
                    "a cart line holds 0 to {MAX_LINE_QUANTITY} units"
                )));
            }
            if wanted > current && !stocked.can_sell(wanted) {
                return Err(CommerceError::OutOfStock(variant.clone()));
            }
            let line = CartLineChange {
                cart_id: cart_id.clone(),
                expected_version: cart.version,
                variant_id: variant.clone(),
                quantity: wanted,
                idempotency_key: idempotency_key.to_owned(),
            };
            match self.store.set_cart_line(tenant, &line).await {
                Ok(updated) => return Ok(CartView::from(&updated)),
                Err(CartWriteError::VersionConflict(now)) => cart = *now,
                Err(CartWriteError::Closed) => {
                    return Err(CommerceError::Conflict(
                        "the cart was already checked out".into(),
                    ))
                }
                Err(CartWriteError::NotFound(what)) => return Err(CommerceError::NotFound(what)),
                Err(CartWriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(CommerceError::Conflict(
            "the cart keeps changing; try again".into(),
        ))
    }

    async fn checkout(
        &self,
        tenant: &TenantId,
        cart_id: &CartId,
        session: Option<&SessionId>,
    ) -> Result<Checkout, CommerceError> {
        for _ in 0..CART_RETRIES {
            let cart = self.load_cart(tenant, cart_id).await?;
            if cart.lines.is_empty() && cart.status == CartStatus::Open {
                return Err(CommerceError::Invalid("the cart is empty".into()));
            }
            let lines: Vec<OrderLine> = cart
                .lines
                .iter()
                .map(|l| OrderLine {
                    variant_id: l.variant_id.clone(),
                    product_id: l.product_id.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price_minor,
                    line_total_minor: l.unit_price_minor.saturating_mul(l.quantity),
                })
                .collect();
            let order = NewOrder {
                order_id: OrderId::generate(),
                cart_id: cart.id.clone(),
                expected_version: cart.version,
                session_id: session.cloned(),
                total_minor: lines
                    .iter()
                    .fold(0i64, |s, l| s.saturating_add(l.line_total_minor)),
                lines,
                currency: cart.currency.clone(),
                created_at: vitrine_persistence::now(),
            };
            match self.store.place_order(tenant, &order).await {
                Ok(placed) => {
                    let next = self.open_cart(tenant, &cart.customer_id).await?;
                    return Ok(Checkout {
                        order: OrderView::from(&placed),
                        cart: next,
                    });
                }
                Err(PlaceOrderError::VersionConflict) => continue,
                Err(PlaceOrderError::OutOfStock(v)) => return Err(CommerceError::OutOfStock(v)),
                Err(PlaceOrderError::NotFound) => {
                    return Err(CommerceError::NotFound(format!("cart {cart_id}")))
                }
                Err(PlaceOrderError::Store(e)) => return Err(e.into()),
            }
        }
        Err(CommerceError::Conflict(
            "the cart keeps changing; try again".into(),
        ))
    }
}
