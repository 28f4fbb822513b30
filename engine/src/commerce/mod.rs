//! The commerce port: catalog search, product cards, carts, inventory and checkout.
//!
//! The session actor talks to commerce only through [`Commerce`]. The built-in
//! implementation ([`builtin::BuiltinCommerce`]) keeps catalog, carts and orders in the
//! Vitrine store; a retailer's own platform can stand behind the same trait.

pub mod builtin;
pub mod import;
mod views;

use async_trait::async_trait;
use thiserror::Error;
use vitrine_persistence::model::{CartId, CustomerId, ProductId, SessionId, TenantId, VariantId};

pub use views::{CardVariant, CartLineView, CartView, OrderView, ProductCard};

/// A catalog search.
#[derive(Clone, Debug, Default)]
pub struct CatalogQuery {
    /// Free text; every word must match.
    pub text: String,
    /// Restrict to one collection slug.
    pub collection: Option<String>,
    /// Maximum results.
    pub limit: u32,
}

/// How a cart line changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityChange {
    /// Add units to the line.
    Add(i64),
    /// Set the line to this many units; zero removes it.
    Set(i64),
}

/// Why a commerce call failed.
#[derive(Debug, Error)]
pub enum CommerceError {
    /// Not enough units of the variant.
    #[error("not enough stock of {0}")]
    OutOfStock(VariantId),
    /// No such product, variant or cart.
    #[error("{0} not found")]
    NotFound(String),
    /// A request that can never succeed as given.
    #[error("{0}")]
    Invalid(String),
    /// The cart kept changing underneath; try again.
    #[error("{0}")]
    Conflict(String),
    /// The platform cannot be reached now.
    #[error("commerce unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("commerce failure: {0}")]
    Internal(String),
}

impl From<vitrine_persistence::StoreError> for CommerceError {
    fn from(e: vitrine_persistence::StoreError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

/// The outcome of a checkout.
#[derive(Clone, Debug)]
pub struct Checkout {
    /// The order.
    pub order: OrderView,
    /// The customer's new, empty cart.
    pub cart: CartView,
}

/// Where a cart stands on the platform.
#[derive(Clone, Debug)]
pub enum CartState {
    /// Still open, as it is now.
    Open(CartView),
    /// Checked out: its order, and the customer's next (open) cart.
    Ordered {
        /// The order placed for the cart.
        order: OrderView,
        /// The customer's open cart now.
        next: CartView,
    },
}

/// Catalog, carts and checkout of one retailer platform.
#[async_trait]
pub trait Commerce: Send + Sync + 'static {
    /// Searches the catalog; products in `preferred` collections come first.
    async fn search(
        &self,
        tenant: &TenantId,
        query: &CatalogQuery,
        preferred: &[String],
    ) -> Result<Vec<ProductCard>, CommerceError>;

    /// The card of one product, highlighting a variant.
    async fn card(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        variant: Option<&VariantId>,
    ) -> Result<ProductCard, CommerceError>;

    /// The customer's open cart, created empty if needed.
    async fn open_cart(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<CartView, CommerceError>;

    /// Reads a cart.
    async fn cart(&self, tenant: &TenantId, cart: &CartId) -> Result<CartView, CommerceError>;

    /// Where a cart stands: open as it is, or checked out with its order.
    async fn cart_state(
        &self,
        tenant: &TenantId,
        cart: &CartId,
    ) -> Result<CartState, CommerceError>;

    /// Changes one line, checking stock. Retrying with the same `idempotency_key` applies
    /// the change once.
    async fn change_line(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        variant: &VariantId,
        change: QuantityChange,
        idempotency_key: &str,
    ) -> Result<CartView, CommerceError>;

    /// Checks a cart out: one order per cart, stock decremented atomically.
    async fn checkout(
        &self,
        tenant: &TenantId,
        cart: &CartId,
        session: Option<&SessionId>,
    ) -> Result<Checkout, CommerceError>;
}
