//! What the commerce port answers, in the shapes the wire carries: product cards, carts
//! and orders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vitrine_persistence::model::{
    Cart, CartId, Money, Order, OrderId, Product, ProductId, Variant, VariantId,
};

/// One variant as shown on a card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardVariant {
    /// Variant id.
    pub variant_id: VariantId,
    /// SKU, if any.
    pub sku: Option<String>,
    /// Option name to value, such as `{"Size": "M"}`.
    pub options: BTreeMap<String, String>,
    /// Price.
    pub price: Money,
    /// Compare-at price when higher than the price.
    pub compare_at_price: Option<Money>,
    /// Whether one unit can be bought now.
    pub available: bool,
    /// Units on hand, when tracked.
    pub stock: Option<i64>,
}

/// A product card as pushed to a customer's screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCard {
    /// Product id.
    pub product_id: ProductId,
    /// Title.
    pub title: String,
    /// Vendor or brand.
    pub vendor: String,
    /// Image URLs, product images first.
    pub images: Vec<String>,
    /// Price of the highlighted variant (the cheapest when none is highlighted).
    pub price: Money,
    /// Its compare-at price when higher.
    pub compare_at_price: Option<Money>,
    /// Primary collection slug.
    pub collection: String,
    /// Every variant.
    pub variants: Vec<CardVariant>,
    /// Whether any variant can be bought now.
    pub in_stock: bool,
    /// Option names in display order.
    pub option_names: Vec<String>,
    /// The variant the shopper highlighted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
}

impl ProductCard {
    /// Builds the card of `product`, priced in `currency`, highlighting `highlight`.
    pub fn build(product: &Product, currency: &str, highlight: Option<&VariantId>) -> Self {
        let money = |minor: i64| Money::new(minor, currency);
        let compare = |v: &Variant| v.compare_at_minor.filter(|c| *c > v.price_minor).map(money);
        let variants: Vec<CardVariant> = product
            .variants
            .iter()
            .map(|v| CardVariant {
                variant_id: v.id.clone(),
                sku: v.sku.clone(),
                options: product
                    .option_names
                    .iter()
                    .cloned()
                    .zip(v.option_values.iter().cloned())
                    .collect(),
                price: money(v.price_minor),
                compare_at_price: compare(v),
                available: v.can_sell(1),
                stock: v.stock,
            })
            .collect();

        let featured = highlight
            .and_then(|id| product.variants.iter().find(|v| &v.id == id))
            .or_else(|| product.variants.iter().min_by_key(|v| v.price_minor));
        let mut images: Vec<String> = product.images.iter().map(|i| i.src.clone()).collect();
        for v in &product.variants {
            if let Some(src) = &v.image {
                if !images.contains(src) {
                    images.push(src.clone());
                }
            }
        }

        Self {
            product_id: product.id.clone(),
            title: product.title.clone(),
            vendor: product.vendor.clone(),
            images,
            price: money(featured.map_or(0, |v| v.price_minor)),
            compare_at_price: featured.and_then(compare),
            collection: product.collections.first().cloned().unwrap_or_default(),
            in_stock: variants.iter().any(|v| v.available),
            variants,
            option_names: product.option_names.clone(),
            variant_id: featured
                .filter(|_| highlight.is_some())
                .map(|v| v.id.clone()),
        }
    }
}

/// One cart line on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineView {
    /// Variant.
    pub variant_id: VariantId,
    /// Its product.
    pub product_id: ProductId,
    /// Product title with the variant's options.
    pub title: String,
    /// Units.
    pub quantity: i64,
    /// Price of one unit.
    pub unit_price: Money,
    /// `quantity × unit_price`.
    pub line_total: Money,
}

/// A cart on the wire: what the commerce platform answered, never a copy of our own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    /// Cart id.
    pub cart_id: CartId,
    /// Changes with every edit.
    pub version: i64,
    /// Lines.
    pub lines: Vec<CartLineView>,
    /// Sum of line totals.
    pub subtotal: Money,
    /// ISO 4217 currency.
    pub currency: String,
}

impl From<&Cart> for CartView {
    fn from(cart: &Cart) -> Self {
        let money = |minor: i64| Money::new(minor, cart.currency.as_str());
        let lines: Vec<CartLineView> = cart
            .lines
            .iter()
            .map(|l| CartLineView {
                variant_id: l.variant_id.clone(),
                product_id: l.product_id.clone(),
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_price_minor),
                line_total: money(l.unit_price_minor.saturating_mul(l.quantity)),
            })
            .collect();
        let subtotal = lines
            .iter()
            .fold(0i64, |sum, l| sum.saturating_add(l.line_total.amount_minor));
        Self {
            cart_id: cart.id.clone(),
            version: cart.version,
            subtotal: money(subtotal),
            currency: cart.currency.clone(),
            lines,
        }
    }
}

/// An order on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// Order id.
    pub order_id: OrderId,
    /// The cart that was checked out.
    pub cart_id: CartId,
    /// Lines as priced at checkout.
    pub lines: Vec<CartLineView>,
    /// Total.
    pub total: Money,
    /// ISO 4217 currency.
    pub currency: String,
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        let money = |minor: i64| Money::new(minor, order.currency.as_str());
        Self {
            order_id: order.id.clone(),
            cart_id: order.cart_id.clone(),
            lines: order
                .lines
                .iter()
                .map(|l| CartLineView {
                    variant_id: l.variant_id.clone(),
                    product_id: l.product_id.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price_minor),
                    line_total: money(l.line_total_minor),
                })
                .collect(),
            total: money(order.total_minor),
            currency: order.currency.clone(),
        }
    }
}
