//! The records the store keeps, as plain domain types free of any database type.

pub mod catalog;
pub mod commerce;
pub mod identity;
pub mod ids;
pub mod money;
pub mod session;

pub use catalog::{Image, ImportCounts, InventoryPolicy, Product, ProductQuery, Variant};
pub use commerce::{Cart, CartLine, CartLineChange, CartStatus, Customer, Order, OrderLine};
pub use identity::{AuditEntry, Tenant, User};
pub use ids::{
    CartId, CustomerId, NodeId, OrderId, ParticipantId, ProductId, SessionId, TenantId, UserId,
    VariantId,
};
pub use money::Money;
pub use session::{
    AppendBatch, CommandRecord, NewEvent, NewSession, SessionFilter, SessionPatch, SessionRow,
    SessionSummary, Snapshot, StoredEvent,
};
