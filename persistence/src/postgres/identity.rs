//! Tenants, staff users, signing keys and the audit log.

use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::{pg_error, pool_error, unique_or};
use crate::error::StoreError;
use crate::model::{AuditEntry, Tenant, TenantId, User, UserId};

pub(crate) async fn signing_key(pool: Pool, candidate: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "INSERT INTO server_keys (name, secret, created_at) VALUES ('token_signing', $1, now())
             ON CONFLICT (name) DO NOTHING",
            &[&candidate],
        )
        .await
        .map_err(pg_error)?;
    let row = client
        .query_one(
            "SELECT secret FROM server_keys WHERE name = 'token_signing'",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.get(0))
}

pub(crate) async fn create_tenant(pool: Pool, t: Tenant) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "INSERT INTO tenants (tenant_id, name, public_key, currency, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &t.id.as_str(),
                &t.name,
                &t.public_key,
                &t.currency,
                &t.created_at,
            ],
        )
        .await
        .map_err(|e| unique_or(e, format!("tenant {}", t.id)))?;
    Ok(())
}

fn tenant_from(r: &Row) -> Tenant {
    Tenant {
        id: TenantId::new(r.get::<_, String>(0)),
        name: r.get(1),
        public_key: r.get(2),
        currency: r.get(3),
        created_at: r.get(4),
    }
}

pub(crate) async fn tenant(pool: Pool, id: TenantId) -> Result<Option<Tenant>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let st = client
        .prepare_cached(
            "SELECT tenant_id, name, public_key, currency, created_at FROM tenants
             WHERE tenant_id = $1",
        )
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&st, &[&id.as_str()])
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(tenant_from))
}

pub(crate) async fn tenant_by_public_key(
    pool: Pool,
    key: String,
) -> Result<Option<Tenant>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let row = client
        .query_opt(
            "SELECT tenant_id, name, public_key, currency, created_at FROM tenants
             WHERE public_key = $1",
            &[&key],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(tenant_from))
}

pub(crate) async fn create_user(pool: Pool, u: User) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let roles = serde_json::to_value(&u.roles).unwrap_or_default();
    let collections = serde_json::to_value(&u.collections).unwrap_or_default();
    client
        .execute(
            "INSERT INTO users (tenant_id, user_id, name, email, phone, roles, collections,
                                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &u.tenant_id.as_str(),
                &u.id.as_str(),
                &u.name,
                &u.email,
                &u.phone,
                &roles,
                &collections,
                &u.created_at,
            ],
        )
        .await
        .map_err(|e| match e.code() {
            Some(c) if *c == tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION => {
                StoreError::NotFound(format!("tenant {}", u.tenant_id))
            }
            _ => unique_or(e, format!("user {} or its email", u.id)),
        })?;
    Ok(())
}

const USER_COLUMNS: &str = "tenant_id, user_id, name, email, phone, roles, collections, created_at";

fn user_from(r: &Row) -> User {
    User {
        tenant_id: TenantId::new(r.get::<_, String>(0)),
        id: UserId::new(r.get::<_, String>(1)),
        name: r.get(2),
        email: r.get(3),
        phone: r.get(4),
        roles: serde_json::from_value(r.get(5)).unwrap_or_default(),
        collections: serde_json::from_value(r.get(6)).unwrap_or_default(),
        created_at: r.get(7),
    }
}

pub(crate) async fn user(
    pool: Pool,
    tenant: TenantId,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let st = client
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND user_id = $2"
        ))
        .await
        .map_err(pg_error)?;
    let row = client
        .query_opt(&st, &[&tenant.as_str(), &id.as_str()])
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(user_from))
}

pub(crate) async fn list_users(pool: Pool, tenant: TenantId) -> Result<Vec<User>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1
                 ORDER BY created_at, user_id"
            ),
            &[&tenant.as_str()],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(user_from).collect())
}

pub(crate) async fn record_audit(pool: Pool, e: AuditEntry) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "INSERT INTO audit_log (tenant_id, actor, action, subject, at, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &e.tenant_id.as_str(),
                &e.actor,
                &e.action,
                &e.subject,
                &e.at,
                &e.detail,
            ],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub(crate) async fn audit_log(
    pool: Pool,
    tenant: TenantId,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let client = pool.get().await.map_err(pool_error)?;
    let rows = client
        .query(
            "SELECT tenant_id, actor, action, subject, at, detail FROM audit_log
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
            &[&tenant.as_str(), &i64::from(limit)],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            tenant_id: TenantId::new(r.get::<_, String>(0)),
            actor: r.get(1),
            action: r.get(2),
            subject: r.get(3),
            at: r.get(4),
            detail: r.get(5),
        })
        .collect())
}
