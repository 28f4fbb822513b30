//! The `Store` trait: every durable operation Vitrine needs, free of database types.
//!
//! Every key starts with the tenant. Implementations must pass the conformance suite in
//! `conformance.rs`, which runs the same behaviours against each of them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{AppendError, CartWriteError, PlaceOrderError, StoreError};
use crate::model::{
    AppendBatch, AuditEntry, Cart, CartId, CartLineChange, CommandRecord, Customer, CustomerId,
    ImportCounts, NewSession, Order, OrderId, OrderLine, Product, ProductId, ProductQuery,
    SessionFilter, SessionId, SessionRow, SessionSummary, Snapshot, StoredEvent, Tenant, TenantId,
    User, UserId, VariantId,
};

/// An order to place for a cart at a known version.
#[derive(Clone, Debug)]
pub struct NewOrder {
    /// Id for the new order.
    pub order_id: OrderId,
    /// Cart being checked out.
    pub cart_id: CartId,
    /// Cart version the lines were priced at.
    pub expected_version: i64,
    /// Session the checkout happened in.
    pub session_id: Option<SessionId>,
    /// Lines with frozen prices.
    pub lines: Vec<OrderLine>,
    /// Sum of the lines.
    pub total_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Durable state of a Vitrine deployment.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Returns the deployment's token signing key, storing `candidate` if none exists yet.
    async fn signing_key(&self, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError>;

    /// Creates a tenant; `AlreadyExists` if the id or public key is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;

    /// Reads a tenant.
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;

    /// Finds the tenant whose widget key this is.
    async fn tenant_by_public_key(&self, key: &str) -> Result<Option<Tenant>, StoreError>;

    /// Creates a staff user; `AlreadyExists` if the id or email is taken in the tenant.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;

    /// Reads a staff user.
    async fn user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError>;

    /// Lists a tenant's staff users, oldest first.
    async fn list_users(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError>;

    /// Appends to the audit log.
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Reads the newest audit entries of a tenant, newest first.
    async fn audit_log(&self, tenant: &TenantId, limit: u32)
        -> Result<Vec<AuditEntry>, StoreError>;

    /// Creates a session, its customer (if new) and its first event (seq 1), atomically.
    async fn create_session(&self, session: &NewSession) -> Result<SessionRow, StoreError>;

    /// Reads a session's projection row.
    async fn session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
    ) -> Result<Option<SessionRow>, StoreError>;

    /// Lists sessions newest first.
    async fn list_sessions(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> Result<Vec<SessionSummary>, StoreError>;

    /// Reads a customer.
    async fn customer(
        &self,
        tenant: &TenantId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError>;

    /// Takes ownership of a session for writing: raises its epoch by one and returns it.
    /// Appends with an older epoch are rejected from then on.
    async fn claim_session(&self, tenant: &TenantId, id: &SessionId) -> Result<u64, AppendError>;

    /// Appends events after `batch.expected_seq`, updates the projection and records the
    /// command, all or nothing. Appends from many sessions may share one transaction.
    async fn append(&self, batch: AppendBatch) -> Result<(), AppendError>;

    /// Reads up to `limit` events with `seq > after`, in order.
    async fn events(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Saves a snapshot of a session's state; older snapshots may be discarded.
    async fn save_snapshot(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError>;

    /// Reads the newest snapshot of a session.
    async fn latest_snapshot(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> Result<Option<Snapshot>, StoreError>;

    /// Reads the newest command records of a session (at most `limit`, none older than
    /// `since`), oldest first.
    async fn recent_commands(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        limit: u32,
        since: DateTime<Utc>,
    ) -> Result<Vec<CommandRecord>, StoreError>;

    /// Creates or replaces products and their variants, all or nothing.
    async fn import_products(
        &self,
        tenant: &TenantId,
        products: &[Product],
    ) -> Result<ImportCounts, StoreError>;

    /// Reads a product with its variants.
    async fn product(
        &self,
        tenant: &TenantId,
        id: &ProductId,
    ) -> Result<Option<Product>, StoreError>;

    /// Reads the product a variant belongs to.
    async fn product_of_variant(
        &self,
        tenant: &TenantId,
        variant: &VariantId,
    ) -> Result<Option<Product>, StoreError>;

    /// The product each of `variants` belongs to, for those that exist (in no order).
    async fn variant_owners(
        &self,
        tenant: &TenantId,
        variants: &[VariantId],
    ) -> Result<Vec<(VariantId, ProductId)>, StoreError>;

    /// Searches the catalog; products in `preferred` collections come first.
    async fn search_products(
        &self,
        tenant: &TenantId,
        query: &ProductQuery,
        preferred: &[String],
    ) -> Result<Vec<Product>, StoreError>;

    /// Returns the customer's open cart, creating an empty one if there is none.
    async fn open_cart(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        currency: &str,
    ) -> Result<Cart, StoreError>;

    /// Reads a cart.
    async fn cart(&self, tenant: &TenantId, id: &CartId) -> Result<Option<Cart>, StoreError>;

    /// Sets one line of a cart if the cart is still at the expected version. A change whose
    /// idempotency key was already applied changes nothing and returns the current cart.
    async fn set_cart_line(
        &self,
        tenant: &TenantId,
        change: &CartLineChange,
    ) -> Result<Cart, CartWriteError>;

    /// Places an order: decrements stock for every line and closes the cart, atomically.
    /// If the cart already has an order, returns that order and changes nothing.
    async fn place_order(
        &self,
        tenant: &TenantId,
        order: &NewOrder,
    ) -> Result<Order, PlaceOrderError>;

    /// Reads an order.
    async fn order(&self, tenant: &TenantId, id: &OrderId) -> Result<Option<Order>, StoreError>;

    /// Reads the order placed for a cart, if it was checked out.
    async fn order_for_cart(
        &self,
        tenant: &TenantId,
        cart: &CartId,
    ) -> Result<Option<Order>, StoreError>;
}
