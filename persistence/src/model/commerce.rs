//! Commerce records: customers, carts and orders of the built-in commerce.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CartId, CustomerId, OrderId, ProductId, SessionId, VariantId};

/// A retailer's customer.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Customer {
    /// Customer id.
    pub id: CustomerId,
    /// Display name.
    pub name: String,
    /// Email address, if given.
    pub email: Option<String>,
    /// Phone number, if given.
    pub phone: Option<String>,
    /// Preferred locale (BCP 47), if given.
    pub locale: Option<String>,
}

impl std::fmt::Debug for Customer {
    // Contact details are personal data: keep them out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Whether a cart can still change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Open for changes.
    Open,
    /// Checked out; an order exists for it.
    Ordered,
}

impl CartStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Ordered => "ordered",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "open" => Some(Self::Open),
            "ordered" => Some(Self::Ordered),
            _ => None,
        }
    }
}

/// One line of a cart, joined with the current catalog data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// Variant in the cart.
    pub variant_id: VariantId,
    /// Product of that variant.
    pub product_id: ProductId,
    /// Product title and variant options, for display.
    pub title: String,
    /// Units wanted.
    pub quantity: i64,
    /// Current unit price in minor units.
    pub unit_price_minor: i64,
}

/// A cart as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// Cart id.
    pub id: CartId,
    /// Owner of the cart.
    pub customer_id: CustomerId,
    /// ISO 4217 currency of the cart.
    pub currency: String,
    /// Incremented on every change.
    pub version: i64,
    /// Open or ordered.
    pub status: CartStatus,
    /// Lines in the order they were first added.
    pub lines: Vec<CartLine>,
}

/// A change to one cart line, applied only if the cart is still at `expected_version`.
#[derive(Clone, Debug)]
pub struct CartLineChange {
    /// Cart to change.
    pub cart_id: CartId,
    /// Version the change was computed against.
    pub expected_version: i64,
    /// Variant whose line changes.
    pub variant_id: VariantId,
    /// New quantity; zero removes the line.
    pub quantity: i64,
    /// Key that makes a retried change take effect once.
    pub idempotency_key: String,
}

/// One line of an order, frozen at checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Variant bought.
    pub variant_id: VariantId,
    /// Product of that variant.
    pub product_id: ProductId,
    /// Title at checkout.
    pub title: String,
    /// Units bought.
    pub quantity: i64,
    /// Unit price at checkout, minor units.
    pub unit_price_minor: i64,
    /// `quantity × unit_price_minor`.
    pub line_total_minor: i64,
}

/// An order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Order id.
    pub id: OrderId,
    /// The cart that was checked out.
    pub cart_id: CartId,
    /// The session in which it was placed, if any.
    pub session_id: Option<SessionId>,
    /// Who bought.
    pub customer_id: CustomerId,
    /// Lines as priced at checkout.
    pub lines: Vec<OrderLine>,
    /// Sum of line totals, minor units.
    pub total_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// When the order was created.
    pub created_at: DateTime<Utc>,
}

/// Joins a variant's product title with its option values: `Hoodie — M / Black`.
pub fn line_title(title: &str, option_values: &[String]) -> String {
    let options: Vec<&str> = option_values
        .iter()
        .map(String::as_str)
        .filter(|v| !v.is_empty() && *v != "Default Title")
        .collect();
    if options.is_empty() {
        title.to_owned()
    } else {
        format!("{title} — {}", options.join(" / "))
    }
}
