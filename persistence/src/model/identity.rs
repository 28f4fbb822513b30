//! Tenants and staff users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{TenantId, UserId};

/// A retailer using this deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Tenant id (`demo` for the embedded default).
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Public key that the embeddable widget sends; not a secret.
    pub public_key: String,
    /// ISO 4217 currency of the catalog.
    pub currency: String,
    /// When the tenant was created.
    pub created_at: DateTime<Utc>,
}

/// A staff user: an admin, a shopper or a manager.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// User id.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Phone number, if given.
    pub phone: Option<String>,
    /// Role names; each grants a set of modules.
    pub roles: Vec<String>,
    /// Collections this user specialises in (searched first).
    pub collections: Vec<String>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    // Contact details are personal data: keep them out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("tenant_id", &self.tenant_id)
            .field("id", &self.id)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// An entry of the audit log: who did what to which object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Tenant the action happened in.
    pub tenant_id: TenantId,
    /// Acting user or `system`.
    pub actor: String,
    /// Dotted action name such as `shopper.created`.
    pub action: String,
    /// Object acted on.
    pub subject: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Extra detail, free of personal data.
    pub detail: serde_json::Value,
}
