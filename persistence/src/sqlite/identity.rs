//! Tenants, staff users, signing keys and the audit log.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::StoreError;
use crate::model::{AuditEntry, Tenant, TenantId, User, UserId};

use super::rows::{json_at, json_text, time_at, time_text};
use super::{sql_error, unique_or};

pub(crate) fn signing_key(conn: &mut Connection, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
    let now = time_text(&chrono::Utc::now());
    conn.execute(
        "INSERT INTO server_keys (name, secret, created_at) VALUES ('token_signing', ?1, ?2)
         ON CONFLICT (name) DO NOTHING",
        params![candidate, now],
    )
    .map_err(sql_error)?;
    conn.query_row(
        "SELECT secret FROM server_keys WHERE name = 'token_signing'",
        [],
        |row| row.get(0),
    )
    .map_err(sql_error)
}

pub(crate) fn create_tenant(conn: &mut Connection, tenant: &Tenant) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO tenants (tenant_id, name, public_key, currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            tenant.id.as_str(),
            tenant.name,
            tenant.public_key,
            tenant.currency,
            time_text(&tenant.created_at)
        ],
    )
    .map_err(|e| unique_or(e, format!("tenant {}", tenant.id)))?;
    Ok(())
}

const TENANT_COLUMNS: &str = "tenant_id, name, public_key, currency, created_at";

fn tenant_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: TenantId::new(row.get::<_, String>(0)?),
        name: row.get(1)?,
        public_key: row.get(2)?,
        currency: row.get(3)?,
        created_at: time_at(row, 4)?,
    })
}

pub(crate) fn tenant(conn: &Connection, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = ?1"
    ))
    .and_then(|mut st| st.query_row([id.as_str()], tenant_from).optional())
    .map_err(sql_error)
}

pub(crate) fn tenant_by_public_key(
    conn: &Connection,
    key: &str,
) -> Result<Option<Tenant>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE public_key = ?1"
    ))
    .and_then(|mut st| st.query_row([key], tenant_from).optional())
    .map_err(sql_error)
}

pub(crate) fn create_user(conn: &mut Connection, user: &User) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO users (tenant_id, user_id, name, email, phone, roles, collections, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user.tenant_id.as_str(),
            user.id.as_str(),
            user.name,
            user.email,
            user.phone,
            json_text(&user.roles)?,
            json_text(&user.collections)?,
            time_text(&user.created_at)
        ],
    )
    .map_err(|e| unique_or(e, format!("user {} or its email", user.id)))?;
    Ok(())
}

const USER_COLUMNS: &str = "tenant_id, user_id, name, email, phone, roles, collections, created_at";

fn user_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        tenant_id: TenantId::new(row.get::<_, String>(0)?),
        id: UserId::new(row.get::<_, String>(1)?),
        name: row.get(2)?,
        email: row.get(3)?,
        phone: row.get(4)?,
        roles: json_at(row, 5)?,
        collections: json_at(row, 6)?,
        created_at: time_at(row, 7)?,
    })
}

pub(crate) fn user(
    conn: &Connection,
    tenant: &TenantId,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND user_id = ?2"
    ))
    .and_then(|mut st| {
        st.query_row([tenant.as_str(), id.as_str()], user_from)
            .optional()
    })
    .map_err(sql_error)
}

pub(crate) fn list_users(conn: &Connection, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 ORDER BY created_at, user_id"
    ))
    .and_then(|mut st| {
        st.query_map([tenant.as_str()], user_from)?
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(sql_error)
}

pub(crate) fn record_audit(conn: &mut Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, action, subject, at, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            entry.tenant_id.as_str(),
            entry.actor,
            entry.action,
            entry.subject,
            time_text(&entry.at),
            json_text(&entry.detail)?
        ],
    )
    .map_err(sql_error)?;
    Ok(())
}

pub(crate) fn audit_log(
    conn: &Connection,
    tenant: &TenantId,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    conn.prepare_cached(
        "SELECT tenant_id, actor, action, subject, at, detail FROM audit_log
         WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2",
    )
    .and_then(|mut st| {
        st.query_map(params![tenant.as_str(), limit], |row| {
            Ok(AuditEntry {
                tenant_id: TenantId::new(row.get::<_, String>(0)?),
                actor: row.get(1)?,
                action: row.get(2)?,
                subject: row.get(3)?,
                at: time_at(row, 4)?,
                detail: json_at(row, 5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(sql_error)
}
